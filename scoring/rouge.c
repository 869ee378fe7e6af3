/*
 * ROUGE as rouge-score 0.1.2 computes it (rouge_scorer.py), on token ids.
 *
 * A scorer (kv_rouge) tokenizes the prediction once and each target in turn,
 * interning the tokens to integer ids (equal bytes = equal token, no
 * normalization) in one table per segment, and then works on id arrays:
 *  - ROUGE-N: clipped n-gram overlap, counted in a hash table of n-grams;
 *    P = overlap / max(#prediction n-grams, 1), R = overlap / max(#target
 *    n-grams, 1).
 *  - ROUGE-L: LCS length, 0 when either side is empty. The common prefix and
 *    suffix are matched directly and the middle is computed bit-parallel
 *    (Allison–Dix / Hyyrö: one machine word per 64 tokens of the shorter
 *    side, V' = (V + (V & M)) | (V & ~M), LCS = zero bits of V), which gives
 *    the length of the DP table's LCS exactly.
 *  - ROUGE-Lsum: sentences are the "\n"-separated lines (empty lines
 *    dropped), each tokenized on its own. For every target sentence, the
 *    union of the target indices on one LCS with each prediction sentence,
 *    each LCS read back from the full DP table exactly as rouge-score's
 *    _backtrack_norec does (a match goes up-left; otherwise left only when
 *    t[i][j-1] > t[i-1][j], else up). The union's tokens, in target order,
 *    count as hits while both sides still have an unused occurrence of that
 *    token (per-token budgets against double counting).
 * F = 2PR/(P+R) evaluated as ((2·P)·R)/(P+R) like Python, 0 when P+R = 0.
 *
 * The "rouge" (rouge-score's DefaultTokenizer) and "whitespace" tokenizers
 * run inline, straight from the text to ids (the same tokens as
 * kv_tok_rouge / kv_tok_whitespace, without building the joined string);
 * any other tokenizer is called and its output split on single spaces.
 */
#include "scoring/rouge.h"

#include "scoring/wordtab.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/buf.h"
#include "tokenizers/porter.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

int kv_rouge_parse_type(const char *name)
{
    if (strncmp(name, "rouge", 5) != 0)
        return -1;
    const char *r = name + 5;
    if (r[0] >= '1' && r[0] <= '9' && r[1] == '\0')
        return r[0] - '0';
    if (strcmp(r, "L") == 0)
        return KV_ROUGE_L;
    if (strcmp(r, "Lsum") == 0)
        return KV_ROUGE_LSUM;
    return -1;
}

const char *kv_rouge_type_name(int type)
{
    static const char *const names[] = {"rouge1", "rouge2", "rouge3", "rouge4", "rouge5",
                                        "rouge6", "rouge7", "rouge8", "rouge9"};
    if (type >= 1 && type <= 9)
        return names[type - 1];
    if (type == KV_ROUGE_L)
        return "rougeL";
    if (type == KV_ROUGE_LSUM)
        return "rougeLsum";
    return "rouge?";
}

/* ---- the scorer -------------------------------------------------------- */

/* A token's exact identity as scoring/wordtab.h keys it: (k1, k2, len),
 * with its bytes `p` for the tokens over 16 bytes (whose k1 is a hash). */
typedef struct tokkey {
    uint64_t k1, k2;
    const char *p;
    size_t len;
} tokkey;

/* One side (the prediction or one target): its tokens and, for ROUGE-Lsum,
 * where each sentence starts. The built-in tokenizers give keys, turned
 * into ids (side_ids) only for the scores that need them; generic
 * tokenizers give ids straight away. */
typedef struct side {
    uint32_t *ids;
    size_t n, cap;
    tokkey *keys;
    uint32_t *fps; /* per token, a 32-bit digest of its key (compared first) */
    size_t keys_cap;
    bool has_ids;
    size_t *sent; /* sent[k] = token offset of sentence k; sent[n_sent] = n */
    size_t n_sent, sent_cap;
    kv_buf text;      /* tokenizer output (generic tokenizers only) */
    size_t *sent_end; /* byte ends of the sentences in `text` (generic Lsum) */
    size_t sent_end_cap;
} side;

enum { MODE_GENERIC, MODE_ROUGE, MODE_WHITESPACE };

struct kv_rouge {
    kv_tokenize_fn fn;
    int flags;
    int mode;
    bool stem;
    kv_word_table tab; /* token ids for this segment (scoring/wordtab.h) */
    /* lowercased (and stemmed) token bytes of the rouge tokenizer */
    char *arena;
    size_t arena_len, arena_cap;
    /* sides[0] = prediction, sides[1 + k] = target k */
    side *sides;
    size_t n_sides;
    /* scratch */
    uint64_t *bits;
    size_t bits_cap;
    uint32_t *u32;
    size_t u32_cap;
    unsigned char *hit;
    size_t hit_cap;
    uint64_t *masks; /* token-byte bitmap of the line being tokenized */
    size_t masks_cap;
};

kv_rouge *kv_rouge_new(const kv_rouge_opts *o)
{
    kv_rouge *r = kv_xcalloc(1, sizeof *r);
    const kv_tokenizer *tk = o && o->tokenizer ? o->tokenizer : NULL;
    r->fn = tk ? tk->fn : kv_tok_rouge;
    r->flags = o ? o->tokenizer_flags : 0;
    r->stem = (r->flags & KV_TOK_STEM) != 0;
    r->mode = r->fn == kv_tok_rouge        ? MODE_ROUGE
              : r->fn == kv_tok_whitespace ? MODE_WHITESPACE
                                           : MODE_GENERIC;
    return r;
}

void kv_rouge_free(kv_rouge *r)
{
    if (!r)
        return;
    kv_wt_free(&r->tab);
    free(r->arena);
    for (size_t k = 0; k < r->n_sides; k++) {
        free(r->sides[k].ids);
        free(r->sides[k].keys);
        free(r->sides[k].fps);
        free(r->sides[k].sent);
        kv_buf_free(&r->sides[k].text);
        free(r->sides[k].sent_end);
    }
    free(r->sides);
    free(r->bits);
    free(r->u32);
    free(r->hit);
    free(r->masks);
    free(r);
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (*cap >= need)
        return p;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    *cap = c;
    return kv_xrealloc(p, c * elem);
}

/* ---- token ids ---------------------------------------------------------- */

static inline uint32_t intern(kv_rouge *r, const char *s, size_t n, size_t a, size_t len)
{
    return kv_wt_id(&r->tab, s, n, a, len);
}

static inline void side_push(side *sd, uint32_t id)
{
    if (sd->n == sd->cap)
        sd->ids = grow(sd->ids, &sd->cap, sd->n + 1, sizeof *sd->ids);
    sd->ids[sd->n++] = id;
}

static inline void side_push_key(side *sd, uint64_t k1, uint64_t k2, size_t len, const char *p)
{
    if (sd->n + 4 > sd->keys_cap) {
        /* fps has 3 spare entries so that it can be read 4 at a time */
        size_t cap = sd->keys_cap;
        sd->keys = grow(sd->keys, &cap, sd->n + 4, sizeof *sd->keys);
        sd->fps = kv_xrealloc(sd->fps, cap * sizeof *sd->fps);
        sd->keys_cap = cap;
    }
    uint64_t h = (k1 * 0x9E3779B97F4A7C15ull) ^ (k2 * 0xC2B2AE3D27D4EB4Full) ^ len;
    sd->fps[sd->n] = (uint32_t)(h >> 32);
    sd->keys[sd->n++] = (tokkey){k1, k2, p, len};
}

/* kv_wt_id's keys of s[a .. a+len) for 1 <= len <= 16 when 8 bytes can be
 * read at s + a, without branching on the length (token lengths are not
 * predictable): the first min(len, 8) bytes, and the last 8 when there are
 * more than 8. */
static inline void short_key(const char *s, size_t a, size_t len, uint64_t *k1, uint64_t *k2)
{
    uint64_t more = (uint64_t)0 - (uint64_t)(len > 8); /* all ones or zero */
    size_t head = len < 8 ? len : 8;
    unsigned drop = (unsigned)(64 - 8 * head);
    uint64_t w1, w2;
    memcpy(&w1, s + a, 8);
    memcpy(&w2, s + a + ((len - 8) & (size_t)more), 8);
    *k1 = (w1 << drop) >> drop;
    *k2 = w2 & more;
}

/* The token s[a .. a+len) (len >= 1; s has n readable bytes), keyed as
 * kv_wt_id keys it. */
static inline void push_token(side *sd, const char *s, size_t n, size_t a, size_t len)
{
    uint64_t k1, k2;
    if (len <= 16 && n - a >= 8)
        short_key(s, a, len, &k1, &k2);
    else
        kv_wt_keys(s, n, a, len, &k1, &k2);
    side_push_key(sd, k1, k2, len, s + a);
}

/* Gives the side's keyed tokens their ids in this segment's table. */
static void side_ids(kv_rouge *r, side *sd)
{
    if (sd->has_ids)
        return;
    if (sd->cap < sd->n)
        sd->ids = grow(sd->ids, &sd->cap, sd->n, sizeof *sd->ids);
    for (size_t k = 0; k < sd->n; k++) {
        const tokkey *t = &sd->keys[k];
        sd->ids[k] = kv_wt_intern_key(&r->tab, t->k1, t->k2, t->len, t->p);
    }
    sd->has_ids = true;
}

/* ---- tokenizers, straight to ids --------------------------------------- */

/* rouge tokenizer byte classes: 1 = [a-z0-9], 2 = [A-Z], 3 = 0xC4 / 0xE2
 * (may start U+0130 / U+212A), 0 = separator (every other byte: ASCII
 * punctuation and space, and the bytes of every other non-ASCII character,
 * including ill-formed ones, which decode to U+FFFD) */
static const unsigned char rouge_class[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2,
    ['E'] = 2, ['F'] = 2, ['G'] = 2, ['H'] = 2, ['I'] = 2, ['J'] = 2, ['K'] = 2, ['L'] = 2,
    ['M'] = 2, ['N'] = 2, ['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2, ['S'] = 2, ['T'] = 2,
    ['U'] = 2, ['V'] = 2, ['W'] = 2, ['X'] = 2, ['Y'] = 2, ['Z'] = 2, [0xC4] = 3, [0xE2] = 3,
};

/* Ends the token being built at arena[arena_len .. +len): stems it when
 * asked and interns it. */
static inline void rouge_flush(kv_rouge *r, side *sd, size_t len)
{
    char *tok = r->arena + r->arena_len;
    if (r->stem && len > 3)
        len = kv_porter_stem(tok, len, tok);
    push_token(sd, r->arena, r->arena_cap, r->arena_len, len);
    r->arena_len += len;
}

/* kv_tok_rouge's tokens of s[0..n) (see tokenizers/tok_rouge.c: ASCII is
 * lowercased, U+0130 is "i" followed by a separator, U+212A is "k", every
 * other byte outside [A-Za-z0-9] separates). The tokens are written to the
 * arena, which the caller has sized for them. */
static void tokenize_rouge(kv_rouge *r, side *sd, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = 0;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        unsigned k = rouge_class[c];
        if (k == 1) {
            r->arena[r->arena_len + len++] = (char)c;
            i++;
            continue;
        }
        if (k == 2) {
            r->arena[r->arena_len + len++] = (char)(c | 0x20);
            i++;
            continue;
        }
        if (k == 3) {
            if (c == 0xE2 && n - i >= 3 && u[i + 1] == 0x84 && u[i + 2] == 0xAA) {
                r->arena[r->arena_len + len++] = 'k'; /* KELVIN SIGN */
                i += 3;
                continue;
            }
            if (c == 0xC4 && n - i >= 2 && u[i + 1] == 0xB0) {
                r->arena[r->arena_len + len++] = 'i'; /* U+0130 → "i" U+0307 */
                i += 2;
                rouge_flush(r, sd, len);
                len = 0;
                continue;
            }
        }
        if (len) {
            rouge_flush(r, sd, len);
            len = 0;
        }
        i++;
    }
    if (len)
        rouge_flush(r, sd, len);
}

/* Python whitespace: 1 = ASCII whitespace, 2 = a lead byte that may start a
 * non-ASCII one (C2, E1, E2, E3). */
#if !defined(__SSE2__)
static const unsigned char ws_class[256] = {
    [0x09] = 1, [0x0A] = 1, [0x0B] = 1, [0x0C] = 1, [0x0D] = 1, [0x1C] = 1, [0x1D] = 1,
    [0x1E] = 1, [0x1F] = 1, [0x20] = 1, [0xC2] = 2, [0xE1] = 2, [0xE2] = 2, [0xE3] = 2,
};
#endif

/* ---- the same tokens from bitmaps ---------------------------------------
 *
 * A line is classified 64 bytes at a time (SSE2 where available) into a
 * bitmap of token bytes, and the tokens are its runs of set bits: the rouge
 * tokenizer's tokens are the runs of [A-Za-z0-9], the whitespace tokenizer's
 * the runs of bytes that are not Python whitespace. Lead bytes that may start
 * a special character (U+0130 / U+212A for rouge, a non-ASCII space for
 * whitespace) are checked one by one; a line with U+0130 or U+212A goes
 * through tokenize_rouge above. */

#if defined(__SSE2__)
/* bytes of v with (v - lo) mod 256 < count (count < 128) */
static inline __m128i in_range(__m128i v, unsigned char lo, unsigned char count)
{
    __m128i d = _mm_sub_epi8(v, _mm_set1_epi8((char)lo));
    return _mm_cmplt_epi8(_mm_xor_si128(d, _mm_set1_epi8((char)0x80)),
                          _mm_set1_epi8((char)(0x80 + count)));
}
#endif

/* For the 64 readable bytes at u: *a = class bits, *c = candidate bits.
 * rouge: class = [A-Za-z0-9], candidates = C4, E2.
 * whitespace: class = ASCII Python whitespace, candidates = C2, E1, E2, E3. */
static inline void masks64(const unsigned char *u, bool ws, uint64_t *a, uint64_t *c)
{
    uint64_t ma = 0, mc = 0;
#if defined(__SSE2__)
    for (int q = 0; q < 4; q++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + 16 * q));
        __m128i x, y;
        if (ws) {
            x = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x20)),
                             _mm_or_si128(in_range(v, 0x09, 5), in_range(v, 0x1C, 4)));
            y = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xC2)),
                             in_range(v, 0xE1, 3));
        } else {
            x = _mm_or_si128(in_range(v, '0', 10),
                             in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26));
            y = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xC4)),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xE2)));
        }
        ma |= (uint64_t)(uint32_t)_mm_movemask_epi8(x) << (16 * q);
        mc |= (uint64_t)(uint32_t)_mm_movemask_epi8(y) << (16 * q);
    }
#else
    for (int k = 0; k < 64; k++) {
        unsigned b = u[k];
        unsigned cl = ws ? ws_class[b] : rouge_class[b];
        if (ws ? cl == 1 : (cl == 1 || cl == 2))
            ma |= (uint64_t)1 << k;
        else if (cl == (ws ? 2u : 3u))
            mc |= (uint64_t)1 << k;
    }
#endif
    *a = ma;
    *c = mc;
}

static inline size_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (size_t)((x * 0x0101010101010101ull) >> 56);
}

static inline size_t ctz64(uint64_t x)
{
    return (size_t)__builtin_ctzll(x);
}

static inline uint64_t or_lower(uint64_t w, size_t len)
{
    uint64_t m = 0x2020202020202020ull;
    if (len < 8)
        m &= ((uint64_t)1 << (8 * len)) - 1;
    return w | m;
}

/* One rouge token: the source bytes s[a .. a+len), all [A-Za-z0-9]. */
static inline void emit_rouge(kv_rouge *r, side *sd, const char *s, size_t n, size_t a,
                              size_t len)
{
    if (!r->stem && len <= 16) {
        /* lowercase = OR 0x20 on [A-Za-z0-9]; keys as intern() computes
         * them from the lowercased bytes */
        uint64_t k1, k2 = 0;
        if (n - a >= 8) {
            short_key(s, a, len, &k1, &k2);
            k1 |= 0x2020202020202020ull >> (64 - 8 * (len < 8 ? len : 8));
            k2 |= 0x2020202020202020ull & ((uint64_t)0 - (uint64_t)(len > 8));
        } else if (len <= 8) {
            k1 = or_lower(kv_wt_load(s, n, a, len), len);
        } else {
            memcpy(&k1, s + a, 8);
            memcpy(&k2, s + a + len - 8, 8);
            k1 |= 0x2020202020202020ull;
            k2 |= 0x2020202020202020ull;
        }
        side_push_key(sd, k1, k2, len, s + a);
        return;
    }
    char *tok = r->arena + r->arena_len;
    for (size_t k = 0; k < len; k++)
        tok[k] = (char)(s[a + k] | 0x20);
    rouge_flush(r, sd, len);
}

static void tokenize_fast(kv_rouge *r, side *sd, const char *s, size_t n)
{
    bool ws = r->mode == MODE_WHITESPACE;
    const unsigned char *u = (const unsigned char *)s;
    size_t nw = (n + 63) / 64;
    r->masks = grow(r->masks, &r->masks_cap, nw + 1, sizeof *r->masks);
    uint64_t *tm = r->masks;
    uint64_t carry = 0; /* bytes of a non-ASCII space running into the next word */
    for (size_t w = 0; w < nw; w++) {
        size_t base = 64 * w, avail = n - base;
        const unsigned char *blk = u + base;
        unsigned char tmp[64];
        uint64_t live = ~(uint64_t)0;
        if (avail < 64) {
            memset(tmp, 0, sizeof tmp);
            memcpy(tmp, blk, avail);
            blk = tmp;
            live = ((uint64_t)1 << avail) - 1;
        }
        uint64_t a, c;
        masks64(blk, ws, &a, &c);
        c &= live;
        if (ws) {
            uint64_t sp = a | carry;
            carry = 0;
            while (c) {
                size_t k = ctz64(c);
                c &= c - 1;
                size_t wl = kv_py_space_len(u, n, base + k);
                if (wl == 0)
                    continue;
                if (k + wl <= 64) {
                    sp |= (((uint64_t)1 << wl) - 1) << k;
                } else {
                    sp |= ~(uint64_t)0 << k;
                    carry = ((uint64_t)1 << (k + wl - 64)) - 1;
                }
            }
            tm[w] = ~sp & live;
        } else {
            while (c) {
                size_t pos = base + ctz64(c);
                c &= c - 1;
                if ((u[pos] == 0xE2 && n - pos >= 3 && u[pos + 1] == 0x84 && u[pos + 2] == 0xAA) ||
                    (u[pos] == 0xC4 && n - pos >= 2 && u[pos + 1] == 0xB0)) {
                    tokenize_rouge(r, sd, s, n);
                    return;
                }
            }
            tm[w] = a & live;
        }
    }
    size_t pos = 0;
    for (;;) {
        size_t w = pos >> 6;
        if (w >= nw)
            return;
        uint64_t m = tm[w] & (~(uint64_t)0 << (pos & 63));
        while (!m) {
            if (++w >= nw)
                return;
            m = tm[w];
        }
        size_t start = (w << 6) | ctz64(m);
        uint64_t z = ~tm[w] & (~(uint64_t)0 << (start & 63));
        while (!z && ++w < nw)
            z = ~tm[w];
        size_t end = z ? (w << 6) | ctz64(z) : n;
        if (ws)
            push_token(sd, s, n, start, end - start);
        else
            emit_rouge(r, sd, s, n, start, end - start);
        pos = end;
    }
}

/* Fast tokenization of one side; `by_line`: sentence by sentence. */
static void side_fast(kv_rouge *r, side *sd, const char *s, size_t n, bool by_line)
{
    sd->n = 0;
    sd->n_sent = 0;
    sd->has_ids = false;
    if (!by_line) {
        tokenize_fast(r, sd, s, n);
        return;
    }
    sd->sent = grow(sd->sent, &sd->sent_cap, 1, sizeof *sd->sent);
    sd->sent[0] = 0;
    size_t start = 0;
    while (start <= n) {
        const char *nl = memchr(s + start, '\n', n - start);
        size_t end = nl ? (size_t)(nl - s) : n;
        if (end > start) {
            tokenize_fast(r, sd, s + start, end - start);
            sd->sent = grow(sd->sent, &sd->sent_cap, sd->n_sent + 2, sizeof *sd->sent);
            sd->sent[++sd->n_sent] = sd->n;
        }
        if (!nl)
            break;
        start = end + 1;
    }
}

/* Any other tokenizer: its output is split on single spaces (sentences
 * joined by a space, their ends recorded), as koeval always did. */
static int side_generic(kv_rouge *r, side *sd, const char *s, size_t n, bool by_line)
{
    kv_buf *t = &sd->text;
    kv_buf_clear(t);
    kv_buf_put(t, "", 0);
    sd->n = 0;
    sd->n_sent = 0;
    sd->has_ids = true;
    if (!by_line) {
        if (r->fn(s, n, r->flags, t) != 0)
            return -1;
    } else {
        size_t start = 0;
        while (start <= n) {
            const char *nl = memchr(s + start, '\n', n - start);
            size_t end = nl ? (size_t)(nl - s) : n;
            if (end > start) {
                size_t before = t->len;
                if (before > 0)
                    kv_buf_putc(t, ' ');
                size_t mark = t->len;
                if (r->fn(s + start, end - start, r->flags, t) != 0)
                    return -1;
                if (t->len == mark) {
                    t->len = before;
                    t->p[before] = '\0';
                }
                sd->sent_end =
                    grow(sd->sent_end, &sd->sent_end_cap, sd->n_sent + 1, sizeof *sd->sent_end);
                sd->sent_end[sd->n_sent++] = t->len;
            }
            if (!nl)
                break;
            start = end + 1;
        }
    }
    const char *p = t->p;
    size_t len = t->len;
    sd->sent = grow(sd->sent, &sd->sent_cap, sd->n_sent + 1, sizeof *sd->sent);
    size_t sent = 0, i = 0;
    while (i < len) {
        while (sent < sd->n_sent && sd->sent_end[sent] <= i)
            sd->sent[sent++ + 1] = sd->n;
        size_t j = i;
        while (j < len && p[j] != ' ')
            j++;
        side_push(sd, intern(r, p, len, i, j - i));
        i = j + 1;
    }
    while (sent < sd->n_sent)
        sd->sent[sent++ + 1] = sd->n;
    sd->sent[0] = 0;
    return 0;
}

static int side_tokenize(kv_rouge *r, side *sd, const char *s, size_t n, bool by_line)
{
    if (r->mode == MODE_GENERIC)
        return side_generic(r, sd, s, n, by_line);
    side_fast(r, sd, s, n, by_line);
    return 0;
}

/* ---- scores ------------------------------------------------------------ */

static double fmeasure(double p, double r)
{
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

static void set_score(kv_rouge_score *out, double p, double r)
{
    out->precision = p;
    out->recall = r;
    out->fmeasure = fmeasure(p, r);
}

static bool too_many_cells(size_t a, size_t b)
{
    return a != 0 && b > KV_ROUGE_MAX_LCS_CELLS / a;
}

static uint64_t hash_ids(const uint32_t *ids, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        h ^= ids[i];
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
    }
    return h;
}

static void score_ngrams(kv_rouge *r, const side *t, const side *p, size_t order,
                         kv_rouge_score *out)
{
    size_t nt = t->n >= order ? t->n - order + 1 : 0;
    size_t np = p->n >= order ? p->n - order + 1 : 0;
    size_t size = 16;
    while (size < (nt + np) * 2)
        size *= 2;
    /* Slot value: index + 1 of the n-gram's first occurrence (target
     * positions first, then prediction positions offset by nt). */
    size_t need = size + 2 * (nt + np + 1);
    r->u32 = grow(r->u32, &r->u32_cap, need, sizeof *r->u32);
    memset(r->u32, 0, need * sizeof *r->u32);
    uint32_t *slots = r->u32;
    uint32_t *cnt_t = slots + size;
    uint32_t *cnt_p = cnt_t + (nt + np + 1);
    for (size_t pos = 0; pos < nt + np; pos++) {
        const uint32_t *g = pos < nt ? t->ids + pos : p->ids + (pos - nt);
        size_t at = (size_t)hash_ids(g, order) & (size - 1);
        uint32_t v;
        for (;;) {
            v = slots[at];
            if (v == 0) {
                v = (uint32_t)pos + 1;
                slots[at] = v;
                break;
            }
            size_t q = v - 1;
            const uint32_t *h = q < nt ? t->ids + q : p->ids + (q - nt);
            if (memcmp(g, h, order * sizeof *g) == 0)
                break;
            at = (at + 1) & (size - 1);
        }
        if (pos < nt)
            cnt_t[v - 1]++;
        else
            cnt_p[v - 1]++;
    }
    size_t overlap = 0;
    for (size_t q = 0; q < nt + np; q++)
        overlap += cnt_t[q] < cnt_p[q] ? cnt_t[q] : cnt_p[q];
    double pr = (double)overlap / (double)(np > 1 ? np : 1);
    double rc = (double)overlap / (double)(nt > 1 ? nt : 1);
    set_score(out, pr, rc);
}

/* One step of the bit-parallel LCS (Allison-Dix / Hyyro): the state V of W
 * words (bit k clear: position k of the bit side is on the LCS so far)
 * takes the match mask M of the next token of the other side. */
static inline void lcs_step(uint64_t *V, const uint64_t *M, size_t W)
{
    uint64_t carry = 0;
    for (size_t w = 0; w < W; w++) {
        uint64_t v = V[w], u = v & M[w];
        uint64_t sum = v + u;
        uint64_t c1 = sum < v;
        uint64_t y = sum + carry;
        uint64_t c2 = y < sum;
        carry = c1 | c2;
        V[w] = y | (v & ~M[w]);
    }
}

/* The LCS length the state V (W words, bit side of na tokens) holds. */
static inline size_t lcs_count(const uint64_t *V, size_t W, size_t na)
{
    size_t lcs = 0;
    for (size_t w = 0; w < W; w++) {
        uint64_t live = ~(uint64_t)0;
        if (w == W - 1 && na % 64)
            live = ((uint64_t)1 << (na % 64)) - 1;
        lcs += popcount64(~V[w] & live);
    }
    return lcs;
}

/* LCS length of a[0..na) and b[0..nb), both non-empty after the caller's
 * prefix/suffix trimming, with a the shorter. */
static size_t lcs_bits(kv_rouge *r, const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t W = (na + 63) / 64;
    size_t need = (size_t)r->tab.n * W + W;
    r->bits = grow(r->bits, &r->bits_cap, need, sizeof *r->bits);
    uint64_t *M = r->bits, *V = M + (size_t)r->tab.n * W;
    if (W == 1) {
        for (size_t k = 0; k < nb; k++)
            M[b[k]] = 0;
        for (size_t k = 0; k < na; k++)
            M[a[k]] = 0;
        for (size_t k = 0; k < na; k++)
            M[a[k]] |= (uint64_t)1 << k;
        uint64_t v = ~(uint64_t)0;
        for (size_t k = 0; k < nb; k++) {
            uint64_t m = M[b[k]];
            v = (v + (v & m)) | (v & ~m);
        }
        uint64_t live = na == 64 ? ~(uint64_t)0 : (((uint64_t)1 << na) - 1);
        return popcount64(~v & live);
    }
    for (size_t k = 0; k < nb; k++)
        memset(M + (size_t)b[k] * W, 0, W * sizeof *M);
    for (size_t k = 0; k < na; k++)
        memset(M + (size_t)a[k] * W, 0, W * sizeof *M);
    for (size_t k = 0; k < na; k++)
        M[(size_t)a[k] * W + k / 64] |= (uint64_t)1 << (k % 64);
    for (size_t w = 0; w < W; w++)
        V[w] = ~(uint64_t)0;
    for (size_t k = 0; k < nb; k++)
        lcs_step(V, M + (size_t)b[k] * W, W);
    return lcs_count(V, W, na);
}

/* Longest side, in tokens, that lcs_keys takes as its bit side. */
#define LCS_KEYS_MAX 256

/* LCS length of the keyed tokens of sa (1 <= sa->n <= LCS_KEYS_MAX) and sb:
 * the bit-parallel LCS of lcs_bits, with each token of sb's match mask over
 * sa found by comparing digests (four at a time), then keys, instead of
 * through ids: no table, no interning. */
static inline bool same_token(const tokkey *x, uint32_t fx, const tokkey *y, uint32_t fy)
{
    return fx == fy && x->k1 == y->k1 && x->k2 == y->k2 && x->len == y->len &&
           (x->len <= 16 || memcmp(x->p, y->p, x->len) == 0);
}

static size_t lcs_keys(const side *sa, const side *sb)
{
    enum { MAXW = LCS_KEYS_MAX / 64 };
    const tokkey *a = sa->keys, *b = sb->keys;
    const uint32_t *fa = sa->fps, *fb = sb->fps;
    size_t na = sa->n, nb = sb->n;
    /* a common prefix and suffix are on some LCS */
    size_t pre = 0;
    while (pre < na && pre < nb && same_token(&a[pre], fa[pre], &b[pre], fb[pre]))
        pre++;
    size_t suf = 0;
    while (suf < na - pre && suf < nb - pre &&
           same_token(&a[na - 1 - suf], fa[na - 1 - suf], &b[nb - 1 - suf], fb[nb - 1 - suf]))
        suf++;
    if (pre + suf == na || pre + suf == nb)
        return pre + suf;
    a += pre;
    fa += pre;
    b += pre;
    fb += pre;
    na -= pre + suf;
    nb -= pre + suf;
    size_t W = (na + 63) / 64;
    uint64_t V[MAXW], M[MAXW];
    for (size_t w = 0; w < W; w++)
        V[w] = ~(uint64_t)0;
    for (size_t k = 0; k < nb; k++) {
        const tokkey *x = &b[k];
        uint32_t fx = fb[k];
        for (size_t w = 0; w < W; w++) {
            size_t base = 64 * w, end = na - base < 64 ? na - base : 64;
            uint64_t cand = 0;
#if defined(__SSE2__)
            __m128i want = _mm_set1_epi32((int)fx);
            for (size_t j = 0; j < end; j += 4) {
                __m128i f = _mm_loadu_si128((const __m128i *)(const void *)(fa + base + j));
                unsigned hit =
                    (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(f, want)));
                cand |= (uint64_t)hit << j;
            }
            if (end < 64)
                cand &= ((uint64_t)1 << end) - 1;
#else
            for (size_t j = 0; j < end; j++)
                cand |= (uint64_t)(fa[base + j] == fx) << j;
#endif
            uint64_t m = 0;
            while (cand) {
                size_t j = ctz64(cand);
                cand &= cand - 1;
                const tokkey *y = &a[base + j];
                if (y->k1 == x->k1 && y->k2 == x->k2 && y->len == x->len &&
                    (x->len <= 16 || memcmp(y->p, x->p, x->len) == 0))
                    m |= (uint64_t)1 << j;
            }
            M[w] = m;
        }
        lcs_step(V, M, W);
    }
    return pre + suf + lcs_count(V, W, na);
}

static int score_lcs(kv_rouge *r, side *t, side *p, kv_rouge_score *out, char *err,
                     size_t errlen)
{
    if (t->n == 0 || p->n == 0) {
        set_score(out, 0.0, 0.0);
        return 0;
    }
    if (!t->has_ids && (t->n <= LCS_KEYS_MAX || p->n <= LCS_KEYS_MAX)) {
        size_t lcs = t->n <= p->n ? lcs_keys(t, p) : lcs_keys(p, t);
        set_score(out, (double)lcs / (double)p->n, (double)lcs / (double)t->n);
        return 0;
    }
    side_ids(r, t);
    side_ids(r, p);
    if (t->n == 0 || p->n == 0) {
        set_score(out, 0.0, 0.0);
        return 0;
    }
    /* the bit-parallel LCS takes a 64-token word of the shorter side per
     * step: its time bound is 64 times as many token pairs as a table's */
    size_t shorter = t->n < p->n ? t->n : p->n, longer = t->n < p->n ? p->n : t->n;
    if (too_many_cells((shorter + 63) / 64, longer)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "rougeL: segment pair too long: %zu x %zu tokens is over the limit of "
                     "%zu token pairs",
                     t->n, p->n, 64 * KV_ROUGE_MAX_LCS_CELLS);
        return -1;
    }
    const uint32_t *a = t->ids, *b = p->ids;
    size_t na = t->n, nb = p->n;
    /* a common prefix and suffix are on some LCS */
    size_t pre = 0;
    while (pre < na && pre < nb && a[pre] == b[pre])
        pre++;
    size_t suf = 0;
    while (suf < na - pre && suf < nb - pre && a[na - 1 - suf] == b[nb - 1 - suf])
        suf++;
    size_t lcs = pre + suf;
    a += pre;
    b += pre;
    na -= pre + suf;
    nb -= pre + suf;
    if (na > 0 && nb > 0)
        lcs += na <= nb ? lcs_bits(r, a, na, b, nb) : lcs_bits(r, b, nb, a, na);
    set_score(out, (double)lcs / (double)p->n, (double)lcs / (double)t->n);
    return 0;
}

/* Marks in `hit` the indices of r on the LCS of r and c that rouge-score's
 * backtrack reads out of the full table `tab` ((nr+1) x (nc+1)). */
static void lcs_mark(const uint32_t *r, size_t nr, const uint32_t *c, size_t nc, uint32_t *tab,
                     unsigned char *hit)
{
    size_t w = nc + 1;
    for (size_t j = 0; j <= nc; j++)
        tab[j] = 0;
    for (size_t i = 1; i <= nr; i++) {
        uint32_t *row = tab + i * w, *up = row - w;
        row[0] = 0;
        for (size_t j = 1; j <= nc; j++) {
            if (r[i - 1] == c[j - 1])
                row[j] = up[j - 1] + 1;
            else
                row[j] = up[j] > row[j - 1] ? up[j] : row[j - 1];
        }
    }
    size_t i = nr, j = nc;
    while (i > 0 && j > 0) {
        if (r[i - 1] == c[j - 1]) {
            hit[i - 1] = 1;
            i--;
            j--;
        } else if (tab[i * w + j - 1] > tab[(i - 1) * w + j]) {
            j--;
        } else {
            i--;
        }
    }
}

static int score_lsum(kv_rouge *r, const side *t, const side *p, kv_rouge_score *out, char *err,
                      size_t errlen)
{
    size_t m = t->n, n = p->n;
    if (m == 0 || n == 0) {
        set_score(out, 0.0, 0.0);
        return 0;
    }
    if (too_many_cells(m, n)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "rougeLsum: summary pair too long: %zu x %zu tokens is over the limit of "
                     "%zu token pairs",
                     m, n, KV_ROUGE_MAX_LCS_CELLS);
        return -1;
    }
    size_t max_r = 0, max_c = 0;
    for (size_t s = 0; s < t->n_sent; s++) {
        size_t len = t->sent[s + 1] - t->sent[s];
        max_r = len > max_r ? len : max_r;
    }
    for (size_t s = 0; s < p->n_sent; s++) {
        size_t len = p->sent[s + 1] - p->sent[s];
        max_c = len > max_c ? len : max_c;
    }
    size_t n_types = r->tab.n;
    size_t need = 2 * n_types + (max_r + 1) * (max_c + 1);
    r->u32 = grow(r->u32, &r->u32_cap, need, sizeof *r->u32);
    uint32_t *cnt_r = r->u32, *cnt_c = cnt_r + n_types, *tab = cnt_c + n_types;
    memset(cnt_r, 0, 2 * n_types * sizeof *cnt_r);
    r->hit = grow(r->hit, &r->hit_cap, max_r + 1, 1);
    unsigned char *hit = r->hit;
    for (size_t k = 0; k < m; k++)
        cnt_r[t->ids[k]]++;
    for (size_t k = 0; k < n; k++)
        cnt_c[p->ids[k]]++;
    size_t hits = 0;
    for (size_t s = 0; s < t->n_sent; s++) {
        const uint32_t *rr = t->ids + t->sent[s];
        size_t nr = t->sent[s + 1] - t->sent[s];
        if (nr == 0)
            continue;
        memset(hit, 0, nr);
        for (size_t q = 0; q < p->n_sent; q++) {
            size_t nc = p->sent[q + 1] - p->sent[q];
            if (nc > 0)
                lcs_mark(rr, nr, p->ids + p->sent[q], nc, tab, hit);
        }
        for (size_t k = 0; k < nr; k++) {
            uint32_t id = rr[k];
            if (hit[k] && cnt_c[id] > 0 && cnt_r[id] > 0) {
                hits++;
                cnt_c[id]--;
                cnt_r[id]--;
            }
        }
    }
    set_score(out, (double)hits / (double)n, (double)hits / (double)m);
    return 0;
}

int kv_rouge_segment(kv_rouge *r, int type, const char *const *targets, const size_t *target_lens,
                     size_t n_targets, const char *prediction, size_t prediction_len,
                     kv_rouge_score *out, char *err, size_t errlen)
{
    if (n_targets == 0) {
        set_err(err, errlen, "ROUGE score_multi: no targets");
        return -1;
    }
    bool ngram = type >= 1 && type <= 9;
    if (!ngram && type != KV_ROUGE_L && type != KV_ROUGE_LSUM) {
        set_err(err, errlen, "unknown ROUGE type");
        return -1;
    }
    bool by_line = type == KV_ROUGE_LSUM;
    /* every token of the segment stays in the table until the segment
     * ends, so generic tokenizer output needs one buffer per side */
    size_t sides = r->mode == MODE_GENERIC ? n_targets + 1 : 2;
    if (r->n_sides < sides) {
        r->sides = kv_xrealloc(r->sides, sides * sizeof *r->sides);
        memset(r->sides + r->n_sides, 0, (sides - r->n_sides) * sizeof *r->sides);
        r->n_sides = sides;
    }
    size_t total = prediction_len;
    for (size_t k = 0; k < n_targets; k++)
        total += target_lens[k];
    if (r->mode == MODE_ROUGE) {
        /* a token is never longer than the bytes it came from (U+0130 and
         * U+212A shrink, the stemmer only shortens); + 8 readable bytes
         * after the last token and the stemmer's NUL */
        r->arena = grow(r->arena, &r->arena_cap, total + 16, 1);
        r->arena_len = 0;
    }
    kv_wt_reset(&r->tab, total / 8 + 8);
    side *p = &r->sides[0];
    if (side_tokenize(r, p, prediction, prediction_len, by_line) != 0) {
        set_err(err, errlen, "ROUGE: the tokenizer failed (ICU error)");
        return -1;
    }
    for (size_t k = 0; k < n_targets; k++) {
        side *t = &r->sides[r->mode == MODE_GENERIC ? k + 1 : 1];
        if (side_tokenize(r, t, targets[k], target_lens[k], by_line) != 0) {
            set_err(err, errlen, "ROUGE: the tokenizer failed (ICU error)");
            return -1;
        }
        kv_rouge_score s;
        if (type != KV_ROUGE_L) {
            side_ids(r, p);
            side_ids(r, t);
        }
        if (ngram) {
            score_ngrams(r, t, p, (size_t)type, &s);
        } else if (type == KV_ROUGE_L) {
            if (score_lcs(r, t, p, &s, err, errlen) != 0)
                return -1;
        } else if (score_lsum(r, t, p, &s, err, errlen) != 0) {
            return -1;
        }
        if (k == 0 || s.fmeasure > out->fmeasure)
            *out = s;
    }
    return 0;
}

int kv_rouge_score_one(const kv_rouge_opts *o, int type, const char *target, size_t target_len,
                       const char *prediction, size_t prediction_len, kv_rouge_score *out,
                       char *err, size_t errlen)
{
    return kv_rouge_score_multi(o, type, &target, &target_len, 1, prediction, prediction_len, out,
                                err, errlen);
}

int kv_rouge_score_multi(const kv_rouge_opts *o, int type, const char *const *targets,
                         const size_t *target_lens, size_t n_targets, const char *prediction,
                         size_t prediction_len, kv_rouge_score *out, char *err, size_t errlen)
{
    kv_rouge *r = kv_rouge_new(o);
    int rc = kv_rouge_segment(r, type, targets, target_lens, n_targets, prediction, prediction_len,
                              out, err, errlen);
    kv_rouge_free(r);
    return rc;
}
