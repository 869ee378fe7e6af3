#include "scoring/chrf_fast.h"

#include <stdlib.h>
#include <string.h>

#include "scoring/trie.h"
#include "src/buf.h"
#include "src/text.h"

#if defined(__GNUC__)
#define KV_INLINE static inline __attribute__((always_inline))
#else
#define KV_INLINE static inline
#endif

/* Slack after each dense array: word keys load 8 bytes at a time. */
#define SLACK 16

/* A slot of the word table: a word of the reference, by its dense
 * character ids (see word_key), valid for the pair when gen == wgen. */
typedef struct wslot {
    uint64_t k1, k2;
    const uint8_t *p; /* its ids (read back only when len > 16) */
    uint32_t len, gen;
    uint32_t id, pad_;
} wslot;

struct kv_chrf_fast {
    /* BMP code point -> (stamp << 8) | dense id, stamp 1..255 (16 bits
     * keep the table at 128 KiB, mostly cached) */
    uint16_t *map;
    uint32_t stamp;
    uint32_t cp_of[256]; /* dense id -> code point */
    uint8_t *dense;      /* reference ids, then hypothesis ids */
    size_t dense_cap;
    uint32_t *wst; /* str.split() word starts (dense positions), both sides */
    size_t wst_cap;
    uint16_t *wsym; /* word ids, reference then hypothesis */
    size_t wsym_cap;
    wslot *wtab;
    size_t wtab_cap;
    uint32_t wgen;
    kv_trie trie; /* n-gram counting (scoring/trie.h) */
};

kv_chrf_fast *kv_chrf_fast_new(void)
{
    return kv_xcalloc(1, sizeof(kv_chrf_fast));
}

void kv_chrf_fast_free(kv_chrf_fast *f)
{
    if (!f)
        return;
    free(f->map);
    free(f->dense);
    free(f->wst);
    free(f->wsym);
    free(f->wtab);
    kv_trie_free(&f->trie);
    free(f);
}

static bool is_ascii_punct(uint32_t cp)
{
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
}

/* kv_is_py_space: ASCII by a bit mask, and only U+0085..U+3000 needs a
 * closer look. */
KV_INLINE bool py_space(uint32_t cp)
{
    const uint64_t ascii = (1ull << 0x20) | (0x1Full << 0x09) | (0xFull << 0x1C);
    bool sp = (cp < 64) & (bool)((ascii >> (cp & 63)) & 1);
    if (cp - 0x85u <= 0x3000u - 0x85u)
        sp = kv_is_py_space(cp);
    return sp;
}

/* ---- decoding ----------------------------------------------------------
 *
 * One side's UTF-8 becomes dense character ids (whitespace dropped), ids
 * being given in order of first appearance over the reference and then the
 * hypothesis; with `words`, the dense position of each str.split() word's
 * first character is recorded too. Only well-formed 1- to 3-byte sequences
 * are taken. */

/* Where decoding stands (locals of decode_side, shared with emit). */
typedef struct dstate {
    uint16_t *map;
    uint32_t *cp_of;
    uint8_t *out;
    uint32_t *wst;
    uint32_t st, d;
    size_t k, w;
    bool prev_sp;
} dstate;

/* One decoded code point: its dense id (whitespace takes none), and the
 * word starts. */
KV_INLINE void emit(dstate *ds, uint32_t cp, bool words)
{
    bool sp = py_space(cp);
    uint16_t *e = &ds->map[cp];
    uint32_t old = *e;
    bool seen = (old & ~(uint32_t)0xFF) == ds->st;
    uint32_t id = seen ? (old & 0xFF) : (ds->d & 0xFF);
    *e = (uint16_t)(sp ? old : (ds->st | id));
    ds->d += !seen & !sp;
    ds->out[ds->k] = (uint8_t)id;
    if (words) {
        ds->cp_of[id] = cp;
        ds->wst[ds->w] = (uint32_t)ds->k;
        ds->w += !sp & ds->prev_sp;
        ds->prev_sp = sp;
    }
    ds->k += !sp;
}

/* Decodes s[0..n) into out (and word starts into wst when `words`); *nout
 * and *nw are the counts. *D counts the ids given (it may pass 256, then
 * the ids are wrong and the caller gives up). Returns false when s holds
 * anything but well-formed 1- to 3-byte sequences.
 */
KV_INLINE bool decode_side(kv_chrf_fast *f, const char *s, size_t n, uint8_t *out, size_t *nout,
                           uint32_t *wst, size_t *nw, uint32_t *D, bool words)
{
    dstate ds = {f->map, f->cp_of, out, wst, f->stamp << 8, *D, 0, 0, true};
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp;
        if (n - i >= 3)
            cp = kv_utf8_decode3(u[i], u[i + 1], u[i + 2], &len);
        else
            cp = kv_utf8_decode3(u[i], n - i >= 2 ? u[i + 1] : 0, 0, &len);
        if (len == 0 || len > n - i)
            return false;
        i += len;
        emit(&ds, cp, words);
    }
    *nout = ds.k;
    if (words)
        *nw = ds.w;
    *D = ds.d;
    return true;
}

/* ---- counting: scoring/trie.h ---- */

/* ---- words (chrF++) ----------------------------------------------------
 *
 * A word is identified by its dense character ids: up to 16 ids exactly by
 * (k1, k2, len) (the first 8 and the last 8, zero-padded), a longer word by
 * a hash in k1 and its ids compared on a key match. */

static uint64_t load8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static uint64_t ids_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    for (; n >= 8; p += 8, n -= 8) {
        h = (h ^ load8(p)) * 0x94D049BB133111EBull;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    for (size_t k = 0; k < n; k++)
        w |= (uint64_t)p[k] << (8 * k);
    h = (h ^ w) * 0x94D049BB133111EBull;
    return h ^ (h >> 32);
}

/* The id of the word p[0..len) (len >= 1; p has SLACK readable bytes after
 * it): a reference word gets the next id (from 1) when new; a hypothesis
 * word not in the reference gets 0. */
KV_INLINE uint32_t word_id(kv_chrf_fast *f, size_t mask, unsigned shift, uint32_t *nids,
                           const uint8_t *p, size_t len, bool ref)
{
    uint64_t k1, k2 = 0;
    if (len <= 8) {
        k1 = load8(p) & (~0ull >> (8 * (8 - len)));
    } else if (len <= 16) {
        k1 = load8(p);
        k2 = load8(p + len - 8);
    } else {
        k1 = ids_hash(p, len);
        k2 = load8(p);
    }
    size_t j = (size_t)(((k1 ^ (k2 * 0xC2B2AE3D27D4EB4Full) ^ len) * 0x9E3779B97F4A7C15ull) >> shift);
    for (;;) {
        wslot *e = &f->wtab[j];
        if (e->gen != f->wgen) {
            if (!ref)
                return 0;
            e->k1 = k1;
            e->k2 = k2;
            e->p = p;
            e->len = (uint32_t)len;
            e->gen = f->wgen;
            e->id = ++*nids;
            return e->id;
        }
        if (e->k1 == k1 && e->k2 == k2 && e->len == len &&
            (len <= 16 || memcmp(e->p, p, len) == 0))
            return e->id;
        j = (j + 1) & mask;
    }
}

/* The word ids of one side (dense ids d[0..nd), word starts wst[0..nw)) into
 * syms; returns their number. One trailing, else leading, ASCII punctuation
 * character of a word longer than one character is a word of its own. */
KV_INLINE size_t side_words(kv_chrf_fast *f, size_t mask, unsigned shift, uint32_t *nids,
                            const uint8_t *d, size_t nd, const uint32_t *wst, size_t nw,
                            uint16_t *syms, bool ref)
{
    size_t k = 0;
    for (size_t w = 0; w < nw; w++) {
        size_t a = wst[w], b = w + 1 < nw ? wst[w + 1] : nd;
        size_t cut = b; /* the word is [a, cut) and [cut, b) when cut < b */
        if (b - a > 1) {
            if (is_ascii_punct(f->cp_of[d[b - 1]]))
                cut = b - 1;
            else if (is_ascii_punct(f->cp_of[d[a]]))
                cut = a + 1;
        }
        syms[k++] = (uint16_t)word_id(f, mask, shift, nids, d + a, cut - a, ref);
        if (cut < b)
            syms[k++] = (uint16_t)word_id(f, mask, shift, nids, d + cut, b - cut, ref);
    }
    return k;
}

bool kv_chrf_fast_pair(kv_chrf_fast *f, const kv_chrf_opts *o, const char *ref, size_t ref_len,
                       const char *hyp, size_t hyp_len, uint64_t *v)
{
    const int NC = o->char_order, NW = o->word_order;
    const bool words = NW > 0;
    if (o->whitespace)
        return false;
    if (!f->map)
        f->map = kv_xcalloc(0x10000, sizeof *f->map);
    if (++f->stamp >= 256) {
        memset(f->map, 0, 0x10000 * sizeof *f->map);
        f->stamp = 1;
    }
    size_t total = ref_len + hyp_len;
    kv_grow_scratch((void **)&f->dense, &f->dense_cap, total + 2 * SLACK, 1);
    if (words)
        kv_grow_scratch((void **)&f->wst, &f->wst_cap, total + 2, sizeof *f->wst);
    uint8_t *dr = f->dense, *dh;
    uint32_t *wr = f->wst, *wh;
    size_t RL, HL, nwr = 0, nwh = 0;
    uint32_t D = 0;
    bool ok = words ? decode_side(f, ref, ref_len, dr, &RL, wr, &nwr, &D, true)
                    : decode_side(f, ref, ref_len, dr, &RL, NULL, NULL, &D, false);
    if (!ok)
        return false;
    memset(dr + RL, 0, SLACK);
    dh = dr + RL + SLACK;
    wh = words ? wr + nwr : NULL;
    ok = words ? decode_side(f, hyp, hyp_len, dh, &HL, wh, &nwh, &D, true)
               : decode_side(f, hyp, hyp_len, dh, &HL, NULL, NULL, &D, false);
    if (!ok || D > 256)
        return false;
    memset(dh + HL, 0, SLACK);

    uint64_t match[KV_CHRF_MAX_ORDER];
    if (NC > 0) {
        if (!kv_trie_match(&f->trie, dr, RL, dh, HL, D, NC, false, match))
            return false;
        for (int n = 1; n <= NC; n++) {
            size_t nn = (size_t)n;
            v[3 * (n - 1)] = HL >= nn ? HL - nn + 1 : 0;
            v[3 * (n - 1) + 1] = RL >= nn ? RL - nn + 1 : 0;
            v[3 * (n - 1) + 2] = match[n - 1];
        }
    }
    if (!words)
        return true;

    /* at most two words per str.split() word */
    kv_grow_scratch((void **)&f->wsym, &f->wsym_cap, 2 * (nwr + nwh) + 1, sizeof *f->wsym);
    unsigned bits;
    size_t want = kv_stamped_begin((void **)&f->wtab, &f->wtab_cap, sizeof *f->wtab, &f->wgen, 64,
                                   4 * nwr, &bits);
    uint32_t nids = 0;
    uint16_t *sr = f->wsym;
    size_t WR = side_words(f, want - 1, 64 - bits, &nids, dr, RL, wr, nwr, sr, true);
    uint16_t *sh = sr + WR;
    size_t WH = side_words(f, want - 1, 64 - bits, &nids, dh, HL, wh, nwh, sh, false);
    if (!kv_trie_match(&f->trie, sr, WR, sh, WH, (size_t)nids + 1, NW, true, match))
        return false;
    uint64_t *vw = v + 3 * NC;
    for (int n = 1; n <= NW; n++) {
        size_t nn = (size_t)n;
        vw[3 * (n - 1)] = WH >= nn ? WH - nn + 1 : 0;
        vw[3 * (n - 1) + 1] = WR >= nn ? WR - nn + 1 : 0;
        vw[3 * (n - 1) + 2] = match[n - 1];
    }
    return true;
}
