/*
 * sacreBLEU 2.6.0 `13a` (Tokenizer13a + TokenizerRegexp), the mteval-v13a
 * rules. Each regular expression of the reference is one left-to-right pass
 * here with the same non-overlapping match semantics as Python's re.sub:
 *   1. ([\{-\~\[-\` -\&\(-\+\:-\@\/])  -> ' \1 '   ASCII punctuation
 *   2. ([^0-9])([\.,])                 -> '\1 \2 ' period/comma after a non-digit
 *   3. ([\.,])([^0-9])                 -> ' \1 \2' period/comma before a non-digit
 *   4. ([0-9])(-)                      -> '\1 \2 ' dash after a digit
 * then ' '.join(line.split()). "[^0-9]" matches any code point but the ASCII
 * digits (Hangul included).
 */
#include <stdlib.h>
#include <string.h>

#include "src/text.h"
#include "tokenizers/tokenizer.h"

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Pass 1 character class: {|}~ [\]^_` space!"#$%& ()*+ :;<=>?@ / */
static const unsigned char punct_13a[256] = {
    [' '] = 1, ['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['('] = 1,
    [')'] = 1, ['*'] = 1, ['+'] = 1, ['/'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1,
    ['>'] = 1, ['?'] = 1, ['@'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
};

/*
 * The four passes only ever insert spaces, so their result is the input cut
 * at some character boundaries; kv_tok_regexp_spans finds those cuts in one
 * scan instead of rewriting the text four times. Working on bytes is exact:
 * every pattern names ASCII bytes only, and UTF-8 lead and continuation
 * bytes are never ASCII, so "[^0-9]" holds for the last byte of a multi-byte
 * character exactly when it holds for the character.
 *
 * For a '.' or ',' (D) at byte i, with prev/next the neighbouring bytes (the
 * padding space, or nothing, at the ends):
 *   pass 2 matches D      p2 = prev exists and is not a digit and is not
 *                              itself a D that pass 2 matched (consumed)
 *   pass 3 matches D      p3 = (p2, or next exists and is not a digit) and D
 *                              is not the second group of a pass-3 match at
 *                              prev, i.e. not (prev is a D, neither matched
 *                              pass 2, and prev matched pass 3)
 * (after pass 1 a punctuation neighbour is a space, which is neither a digit
 * nor a D, so the raw neighbour byte gives the same answers). A D matched by
 * pass 2 or 3 stands alone; so does every pass-1 punctuation byte, and a '-'
 * right after a digit (pass 4: no earlier pass inserts anything between a
 * digit and a '-'). tests/tokenizers/test_tok_sacrebleu.c checks all this
 * against the reference regular expressions run by PCRE2 on random text.
 */
static inline bool is_d(unsigned char c)
{
    return c == '.' || c == ',';
}

/* Byte classes for the scan: ASCII whitespace that str.split() drops, and
 * lead bytes that may start a non-ASCII Python space. */
static const unsigned char ascii_ws[256] = {
    [0x09] = 1, [0x0A] = 1, [0x0B] = 1, [0x0C] = 1, [0x0D] = 1, [0x1C] = 1,
    [0x1D] = 1, [0x1E] = 1, [0x1F] = 1, [0x20] = 1, [0xC2] = 2, [0xE1] = 2,
    [0xE2] = 2, [0xE3] = 2,
};

static inline void push_span(kv_span **spans, size_t *cap, size_t *count, size_t off, size_t len)
{
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *spans = kv_xrealloc(*spans, *cap * sizeof **spans);
    }
    (*spans)[*count].off = (uint32_t)off;
    (*spans)[*count].len = (uint32_t)len;
    (*count)++;
}

/* Bytes the scan must look at: whitespace, pass-1 punctuation, '.', ',',
 * '-', and lead bytes of non-ASCII spaces. Everything else (letters, digits,
 * most of every non-ASCII character) just extends the current token. */
static const unsigned char interesting[256] = {
    [0x09] = 1, [0x0A] = 1, [0x0B] = 1, [0x0C] = 1, [0x0D] = 1, [0x1C] = 1, [0x1D] = 1,
    [0x1E] = 1, [0x1F] = 1, [' '] = 1, ['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1,
    ['%'] = 1, ['&'] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1,
    ['.'] = 1, ['/'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1,
    ['@'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['{'] = 1,
    ['|'] = 1, ['}'] = 1, ['~'] = 1, [0xC2] = 1, [0xE1] = 1, [0xE2] = 1, [0xE3] = 1,
};

#if defined(__SSE2__)
#include <emmintrin.h>

/* 0xFF in each byte of x that is in [lo, hi] (unsigned). */
static inline __m128i in_range(__m128i x, unsigned char lo, unsigned char hi)
{
    __m128i t = _mm_sub_epi8(x, _mm_set1_epi8((char)lo));
    return _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8((char)(hi - lo))), t);
}
#endif

/*
 * Positions of the interesting bytes, 64 at a time as a bit mask, so that
 * finding the next one is a shift and a count of trailing zeros: a byte loop
 * would mispredict its exit once per token, and a search from scratch at
 * each token would put a vector load and classification on the path from
 * one token to the next.
 */
typedef struct scanner {
    const unsigned char *u;
    size_t n;
    size_t base;   /* bits describe u[base .. base + 64) */
    uint64_t bits; /* bit k: u[base + k] is interesting (0 beyond n) */
} scanner;

static uint64_t interesting64(const unsigned char *u)
{
    uint64_t m = 0;
    for (unsigned k = 0; k < 64; k++)
        m |= (uint64_t)interesting[u[k]] << k;
    return m;
}

static void scanner_fill(scanner *sc, size_t at)
{
    sc->base = at;
    if (at + 64 <= sc->n) {
        sc->bits = interesting64(sc->u + at);
        return;
    }
    unsigned char tail[64] = {0}; /* NUL is not interesting */
    for (size_t k = 0; at + k < sc->n; k++)
        tail[k] = sc->u[at + k];
    sc->bits = interesting64(tail);
}

/* The first interesting byte at or after i (i >= the previous answer), or n. */
static inline size_t scanner_next(scanner *sc, size_t i)
{
    for (;;) {
        if (i - sc->base < 64) {
            uint64_t m = sc->bits >> (i - sc->base);
            if (m)
                return i + (size_t)__builtin_ctzll(m);
            i = sc->base + 64;
        }
        if (i >= sc->n)
            return sc->n;
        scanner_fill(sc, i);
    }
}

/* kv_tok_regexp_spans one byte of interest at a time (lines too long for
 * regexp_spans_masks, and builds without SSE2). */
static size_t regexp_spans_scan(const char *t, size_t n, bool padded, kv_span **spans,
                                size_t *cap)
{
    const unsigned char *u = (const unsigned char *)t;
    size_t count = 0;
    size_t start = SIZE_MAX; /* start of the token being built */
    bool p2_prev = false, p3_prev = false; /* the previous byte's matches, if it was a D */
    scanner sc = {u, n, 0, 0};
    if (n)
        scanner_fill(&sc, 0);
    for (size_t i = 0; i < n;) {
        size_t q = scanner_next(&sc, i);
        if (q > i) {
            /* plain bytes extend (or start) a token */
            if (start == SIZE_MAX)
                start = i;
            p2_prev = p3_prev = false;
            i = q;
            if (i == n)
                break;
        }
        unsigned char c = u[i];
        unsigned char k = ascii_ws[c];
        if (k) {
            size_t w = 1;
            if (k == 2) {
                size_t j = i;
                uint32_t cp = kv_utf8_next(t, n, &j);
                w = kv_is_py_space(cp) ? j - i : 0;
            }
            if (w) {
                if (start != SIZE_MAX)
                    push_span(spans, cap, &count, start, i - start);
                start = SIZE_MAX;
                i += w;
                p2_prev = p3_prev = false;
                continue;
            }
        }
        bool alone;
        bool p2 = false, p3 = false;
        if (punct_13a[c]) {
            alone = true;
        } else if (is_d(c)) {
            bool has_prev = i > 0 || padded;
            unsigned char prev = i > 0 ? u[i - 1] : ' ';
            bool has_next = i + 1 < n || padded;
            unsigned char next = i + 1 < n ? u[i + 1] : ' ';
            p2 = has_prev && !is_digit(prev) && !(is_d(prev) && i > 0 && p2_prev);
            bool consumed = i > 0 && is_d(prev) && !p2 && !p2_prev && p3_prev;
            p3 = (p2 || (has_next && !is_digit(next))) && !consumed;
            alone = p2 || p3;
        } else {
            alone = c == '-' && i > 0 && is_digit(u[i - 1]);
        }
        if (alone) {
            if (start != SIZE_MAX)
                push_span(spans, cap, &count, start, i - start);
            push_span(spans, cap, &count, i, 1);
            start = SIZE_MAX;
        } else if (start == SIZE_MAX) {
            start = i;
        }
        p2_prev = p2;
        p3_prev = p3;
        i++;
    }
    if (start != SIZE_MAX)
        push_span(spans, cap, &count, start, n - start);
    return count;
}

#if defined(__SSE2__)
/* Longest line, in 64-byte blocks, that regexp_spans_masks takes. */
#define MASK_BLOCKS 64

/* The byte classes of 16 bytes as bit masks. */
typedef struct cls16 {
    unsigned ws;   /* ASCII whitespace */
    unsigned p1;   /* pass-1 punctuation (the space aside) */
    unsigned d;    /* '.' ',' */
    unsigned dig;  /* 0-9 */
    unsigned dash; /* '-' */
    unsigned cand; /* C2 E1 E2 E3: may start a non-ASCII space */
} cls16;

static inline void classify16(__m128i x, cls16 *c)
{
    __m128i ws = _mm_or_si128(in_range(x, 0x09, 0x0D),
                              _mm_or_si128(in_range(x, 0x1C, 0x1F), _mm_cmpeq_epi8(x, _mm_set1_epi8(' '))));
    __m128i p1 = _mm_or_si128(in_range(x, 0x21, 0x26), in_range(x, 0x28, 0x2B));
    p1 = _mm_or_si128(p1, _mm_cmpeq_epi8(x, _mm_set1_epi8('/')));
    p1 = _mm_or_si128(p1, in_range(x, 0x3A, 0x40));
    p1 = _mm_or_si128(p1, in_range(x, 0x5B, 0x60));
    p1 = _mm_or_si128(p1, in_range(x, 0x7B, 0x7E));
    __m128i d = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8(',')));
    __m128i cand = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xC2)), in_range(x, 0xE1, 0xE3));
    c->ws = (unsigned)_mm_movemask_epi8(ws);
    c->p1 = (unsigned)_mm_movemask_epi8(p1);
    c->d = (unsigned)_mm_movemask_epi8(d);
    c->dig = (unsigned)_mm_movemask_epi8(in_range(x, '0', '9'));
    c->dash = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
    c->cand = (unsigned)_mm_movemask_epi8(cand);
}

/*
 * kv_tok_regexp_spans for lines of up to MASK_BLOCKS * 64 bytes, from bit
 * masks: the bytes are classified 16 at a time, the bytes that stand alone
 * are found with shifts (a '.' or ',' whose neighbour is not a digit, a
 * '-' after a digit, pass-1 punctuation), runs of consecutive '.' ','
 * (whose rules chain from one to the next) one by one as in the scan, and
 * the tokens are then read off the masks with counts of trailing zeros.
 */
static size_t regexp_spans_masks(const char *t, size_t n, bool padded, kv_span **spans,
                                 size_t *cap)
{
    const unsigned char *u = (const unsigned char *)t;
    size_t nw = (n + 63) / 64;
    uint64_t ws[MASK_BLOCKS + 1], p1[MASK_BLOCKS], d[MASK_BLOCKS], dig[MASK_BLOCKS + 1],
        dash[MASK_BLOCKS], cand[MASK_BLOCKS];
    for (size_t w = 0; w < nw; w++) {
        uint64_t m[6] = {0, 0, 0, 0, 0, 0};
        for (size_t k = 0; k < 64; k += 16) {
            size_t at = 64 * w + k;
            if (at >= n)
                break;
            __m128i x;
            unsigned keep = 0xFFFF;
            if (at + 16 <= n) {
                x = _mm_loadu_si128((const __m128i *)(const void *)(u + at));
            } else if (n >= 16) {
                /* the 16 bytes that end the line, shifted into place */
                size_t r = n - at;
                unsigned char buf[32] = {0};
                _mm_storeu_si128((__m128i *)(void *)buf,
                                 _mm_loadu_si128((const __m128i *)(const void *)(u + n - 16)));
                x = _mm_loadu_si128((const __m128i *)(const void *)(buf + 16 - r));
                keep = (1u << r) - 1;
            } else {
                unsigned char buf[16] = {0};
                for (size_t q = 0; at + q < n; q++)
                    buf[q] = u[at + q];
                x = _mm_loadu_si128((const __m128i *)(const void *)buf);
                keep = (1u << (n - at)) - 1;
            }
            cls16 c;
            classify16(x, &c);
            m[0] |= (uint64_t)(c.ws & keep) << k;
            m[1] |= (uint64_t)(c.p1 & keep) << k;
            m[2] |= (uint64_t)(c.d & keep) << k;
            m[3] |= (uint64_t)(c.dig & keep) << k;
            m[4] |= (uint64_t)(c.dash & keep) << k;
            m[5] |= (uint64_t)(c.cand & keep) << k;
        }
        ws[w] = m[0];
        p1[w] = m[1];
        d[w] = m[2];
        dig[w] = m[3];
        dash[w] = m[4];
        cand[w] = m[5];
    }
    ws[nw] = dig[nw] = 0;
    /* non-ASCII spaces: their bytes are whitespace (a character may run
     * into the next block) */
    for (size_t w = 0; w < nw; w++) {
        for (uint64_t c = cand[w]; c; c &= c - 1) {
            size_t i = 64 * w + (size_t)__builtin_ctzll(c);
            size_t len = kv_py_space_len(u, n, i);
            for (size_t q = 0; q < len; q++)
                ws[(i + q) >> 6] |= (uint64_t)1 << ((i + q) & 63);
        }
    }
    /* alone[w]: the bytes that are tokens by themselves; plain[w]: the
     * other bytes of tokens */
    uint64_t alone[MASK_BLOCKS + 1], plain[MASK_BLOCKS + 1];
    uint64_t carry_dig = 0, carry_d = 0;
    for (size_t w = 0; w < nw; w++) {
        uint64_t live = n - 64 * w >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << (n - 64 * w)) - 1);
        uint64_t prev_dig = dig[w] << 1 | carry_dig, next_dig = dig[w] >> 1 | dig[w + 1] << 63;
        uint64_t prev_d = d[w] << 1 | carry_d;
        carry_dig = dig[w] >> 63;
        carry_d = d[w] >> 63;
        /* a byte before the first / after the last one is the padding
         * space when padded, else nothing */
        uint64_t has_prev = ~(uint64_t)0, has_next = live;
        if (w == 0 && !padded)
            has_prev &= ~(uint64_t)1;
        if (!padded && n - 64 * w <= 64)
            has_next &= ~((uint64_t)1 << (n - 1 - 64 * w));
        else if (padded && n - 64 * w <= 64)
            has_next |= (uint64_t)1 << (n - 1 - 64 * w);
        /* a '.' or ',' after a byte that is not one: pass 2 takes it when
         * its neighbour before is not a digit, pass 3 when the one after
         * is not */
        uint64_t d_first = d[w] & ~prev_d;
        uint64_t a = d_first & ((has_prev & ~prev_dig) | (has_next & ~next_dig));
        a |= p1[w] | (dash[w] & prev_dig); /* no digit before byte 0 */
        alone[w] = a;
        plain[w] = live & ~ws[w] & ~a;
    }
    /* runs of '.' ',' after the first: the scan's chained rules */
    for (size_t w = 0; w < nw; w++) {
        uint64_t prev_d = d[w] << 1 | (w ? d[w - 1] >> 63 : 0);
        uint64_t next_d = d[w] >> 1 | (w + 1 < nw ? d[w + 1] << 63 : 0);
        uint64_t follow = d[w] & ~prev_d & next_d; /* first of a run of two or more */
        for (; follow; follow &= follow - 1) {
            size_t i = 64 * w + (size_t)__builtin_ctzll(follow);
            bool p2_prev = false, p3_prev = false;
            for (size_t j = i; j < n && is_d(u[j]); j++) {
                bool has_prev = j > 0 || padded;
                unsigned char prev = j > 0 ? u[j - 1] : ' ';
                bool has_next = j + 1 < n || padded;
                unsigned char next = j + 1 < n ? u[j + 1] : ' ';
                bool p2 = has_prev && !is_digit(prev) && !(is_d(prev) && j > 0 && p2_prev);
                bool consumed = j > 0 && is_d(prev) && !p2 && !p2_prev && p3_prev;
                bool p3 = (p2 || (has_next && !is_digit(next))) && !consumed;
                uint64_t b = (uint64_t)1 << (j & 63);
                if (p2 || p3) {
                    alone[j >> 6] |= b;
                    plain[j >> 6] &= ~b;
                } else {
                    alone[j >> 6] &= ~b;
                    plain[j >> 6] |= b;
                }
                p2_prev = p2;
                p3_prev = p3;
            }
        }
    }
    alone[nw] = plain[nw] = 0;
    /* the tokens: every alone byte, and every run of plain bytes */
    size_t count = 0;
    for (size_t w = 0; w < nw; w++) {
        uint64_t starts = alone[w] | (plain[w] & ~(plain[w] << 1 | (w ? plain[w - 1] >> 63 : 0)));
        for (; starts; starts &= starts - 1) {
            size_t i = 64 * w + (size_t)__builtin_ctzll(starts);
            /* a run of plain bytes ends at the first byte that is not
             * plain; an alone byte (not plain itself) "ends" where it
             * starts and is one byte long: no branch between the two */
            size_t q = w;
            uint64_t z = ~plain[q] & (~(uint64_t)0 << (i & 63));
            while (!z)
                z = ~plain[++q];
            size_t end = 64 * q + (size_t)__builtin_ctzll(z);
            end = end < n ? end : n;
            push_span(spans, cap, &count, i, end - i + (end == i));
        }
    }
    return count;
}
#endif

size_t kv_tok_regexp_spans(const char *t, size_t n, bool padded, kv_span **spans, size_t *cap)
{
#if defined(__SSE2__)
    if (n > 0 && n <= MASK_BLOCKS * 64)
        return regexp_spans_masks(t, n, padded, spans, cap);
#endif
    return regexp_spans_scan(t, n, padded, spans, cap);
}

static void join_spans(const char *t, const kv_span *spans, size_t k, kv_buf *out)
{
    for (size_t i = 0; i < k; i++) {
        if (i)
            kv_buf_putc(out, ' ');
        kv_buf_put(out, t + spans[i].off, spans[i].len);
    }
    if (!out->p)
        kv_buf_put(out, "", 0);
}

void kv_tok_regexp_passes(const char *s, size_t n, kv_buf *out)
{
    kv_span *spans = NULL;
    size_t cap = 0;
    size_t k = kv_tok_regexp_spans(s, n, false, &spans, &cap);
    join_spans(s, spans, k, out);
    free(spans);
}

/* Appends s with every occurrence of `from` replaced by `to` (str.replace). */
static void replace_all(const char *s, size_t n, const char *from, const char *to, kv_buf *out)
{
    size_t fl = strlen(from), tl = strlen(to);
    size_t i = 0;
    kv_buf_reserve(out, n);
    while (i < n) {
        const char *hit = memchr(s + i, from[0], n - i);
        if (!hit) {
            kv_buf_put(out, s + i, n - i);
            break;
        }
        size_t h = (size_t)(hit - s);
        kv_buf_put(out, s + i, h - i);
        if (h + fl <= n && memcmp(s + h, from, fl) == 0) {
            kv_buf_put(out, to, tl);
            i = h + fl;
        } else {
            kv_buf_putc(out, s[h]);
            i = h + 1;
        }
    }
}

/* Whether Tokenizer13a's replacements change s[0..n): it holds "<skipped>",
 * a line feed, or one of the four entities. When none of them is there,
 * none can appear along the way either (each replacement only fires on its
 * own pattern, and only "&amp;" makes a new '&'). One pass over the bytes
 * for '<', '&' and '\n' (16 at a time with SSE2), then a look at each. */
static bool needs_replacing(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    for (;;) {
        size_t at;
#if defined(__SSE2__)
        unsigned m = 0;
        if (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
            __m128i h = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('<')),
                                     _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('&')),
                                                  _mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))));
            m = (unsigned)_mm_movemask_epi8(h);
            if (!m) {
                i += 16;
                continue;
            }
            at = i + (size_t)__builtin_ctz(m);
        } else
#endif
        {
            at = i;
            while (at < n && u[at] != '<' && u[at] != '&' && u[at] != '\n')
                at++;
            if (at == n)
                return false;
        }
        const char *p = s + at;
        size_t left = n - at;
        if (*p == '\n')
            return true;
        if (*p == '<' && left >= 9 && !memcmp(p, "<skipped>", 9))
            return true;
        if (*p == '&' && ((left >= 6 && !memcmp(p, "&quot;", 6)) ||
                          (left >= 5 && !memcmp(p, "&amp;", 5)) ||
                          (left >= 4 && (!memcmp(p, "&lt;", 4) || !memcmp(p, "&gt;", 4)))))
            return true;
        i = at + 1;
    }
}

const char *kv_tok_13a_spans(const char *s, size_t n, kv_buf *scratch, kv_span **spans,
                             size_t *cap, size_t *count)
{
    /* the replacements of Tokenizer13a.__call__, in its order; the padding
     * spaces it adds are implied (padded scan) */
    static const char *const always[][2] = {{"<skipped>", ""}, {"-\n", ""}, {"\n", " "}};
    static const char *const entities[][2] = {
        {"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    const char *t = s;
    size_t tn = n;
    if (needs_replacing(s, n)) {
        bool lt = memchr(s, '<', n) != NULL, nl = memchr(s, '\n', n) != NULL;
        kv_buf a = {0}, b = {0};
        kv_buf_put(&a, s, n);
        for (size_t k = 0; k < 3 && (lt || nl); k++) {
            kv_buf_clear(&b);
            replace_all(a.p, a.len, always[k][0], always[k][1], &b);
            kv_buf tmp = a;
            a = b;
            b = tmp;
        }
        if (memchr(a.p, '&', a.len)) {
            for (size_t k = 0; k < 4; k++) {
                kv_buf_clear(&b);
                replace_all(a.p, a.len, entities[k][0], entities[k][1], &b);
                kv_buf tmp = a;
                a = b;
                b = tmp;
            }
        }
        kv_buf_clear(scratch);
        kv_buf_put(scratch, a.p, a.len);
        kv_buf_free(&a);
        kv_buf_free(&b);
        t = scratch->p;
        tn = scratch->len;
    }
    *count = kv_tok_regexp_spans(t, tn, true, spans, cap);
    return t;
}

int kv_tok_13a(const char *s, size_t n, int flags, kv_buf *out)
{
    kv_buf scratch = {0};
    kv_span *spans = NULL;
    size_t cap = 0, k = 0;
    const char *t = kv_tok_13a_spans(s, n, &scratch, &spans, &cap, &k);
    join_spans(t, spans, k, out);
    free(spans);
    kv_buf_free(&scratch);
    return 0;
}
