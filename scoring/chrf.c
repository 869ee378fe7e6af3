#include "scoring/chrf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/chrf_fast.h"
#include "scoring/trie.h"
#include "scoring/wordtab.h"
#include "src/text.h"

/* One side of a segment, ready for counting. */
typedef struct side {
    uint32_t *cps; /* code points (whitespace removed unless kept) */
    size_t ncps, cps_cap;
    uint32_t *words; /* interned word ids (chrF++) */
    size_t nwords, words_cap;
} side;

/* A slot of the n-gram table: `cnt` is the reference count still
 * unmatched; the slot is in use for the current pair when gen == c->gen. */
typedef struct cslot {
    uint64_t key;
    uint32_t cnt;
    uint32_t gen;
} cslot;

struct kv_chrf {
    kv_chrf_opts o;
    kv_buf lower;
    size_t *offs;
    size_t offs_cap;
    side *sides;
    size_t sides_cap;
    /* word table (chrF++): word bytes -> dense ids, per segment */
    kv_word_table words;
    /* n-gram table, sized per pair; slots are never cleared (gen) */
    cslot *tab;
    size_t tab_cap, tab_used;
    unsigned shift;
    uint32_t gen;
    uint32_t *ids; /* per position: slot of the n-gram of the current order */
    size_t ids_cap;
    /* character n-grams on dense ids (count_dense) */
    uint32_t *dmap;   /* BMP code point -> (stamp << 8) | dense id */
    uint32_t dstamp;  /* < 2^24 */
    uint8_t *dense;   /* dense ids of the reference, then of the hypothesis */
    size_t dense_cap;
    kv_trie trie; /* character n-grams over those ids (scoring/trie.h) */
    /* single-reference pairs (scoring/chrf_fast.h) */
    kv_chrf_fast *fast;
    bool force_general;
};

kv_chrf_opts kv_chrf_defaults(void)
{
    kv_chrf_opts o = {.char_order = 6, .word_order = 0, .beta = 2.0};
    return o;
}

kv_chrf *kv_chrf_new(const kv_chrf_opts *o)
{
    if (o->char_order < 0 || o->word_order < 0 || o->char_order + o->word_order < 1 ||
        o->char_order + o->word_order > KV_CHRF_MAX_ORDER)
        return NULL;
    kv_chrf *c = kv_xcalloc(1, sizeof *c);
    c->o = *o;
    c->fast = kv_chrf_fast_new();
    return c;
}

void kv_chrf_free(kv_chrf *c)
{
    if (!c)
        return;
    kv_buf_free(&c->lower);
    free(c->offs);
    for (size_t i = 0; i < c->sides_cap; i++) {
        free(c->sides[i].cps);
        free(c->sides[i].words);
    }
    free(c->sides);
    kv_wt_free(&c->words);
    free(c->tab);
    free(c->ids);
    free(c->dmap);
    free(c->dense);
    kv_trie_free(&c->trie);
    kv_chrf_fast_free(c->fast);
    free(c);
}

static bool is_ascii_punct(uint32_t cp)
{
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
}

/* Byte offset of the start of the last code point of s[0..n), n > 0. */
static size_t last_cp_start(const char *s, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80 && n - i < 4)
        i--;
    return i;
}

/* Decodes the code point at s[i] (i < n) into *cp and returns its byte
 * length: kv_utf8_next, with well-formed 1-, 2- and 3-byte sequences
 * decoded inline. */
static inline size_t next_cp(const char *s, size_t n, size_t i, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s + i;
    if (n - i >= 3) {
        size_t len;
        uint32_t c = kv_utf8_decode3(u[0], u[1], u[2], &len);
        if (len) {
            *cp = c;
            return len;
        }
    } else if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    size_t j = i;
    *cp = kv_utf8_next(s, n, &j);
    return j - i;
}

/* kv_is_py_space, inline: ASCII by a bit mask, and only U+0085..U+3000
 * needs a closer look. */
static inline bool py_space(uint32_t cp)
{
    const uint64_t ascii = (1ull << 0x20) | (0x1Full << 0x09) | (0xFull << 0x1C);
    bool sp = (cp < 64) & (bool)((ascii >> (cp & 63)) & 1);
    if (cp - 0x85u <= 0x3000u - 0x85u)
        sp = kv_is_py_space(cp);
    return sp;
}

/* ---- word ids (chrF++): scoring/wordtab.h ---- */

static inline uint32_t word_id(kv_chrf *c, const char *s, size_t n, size_t a, size_t len)
{
    return kv_wt_id(&c->words, s, n, a, len);
}

/* One str.split() word (chars = its code points): one trailing (else
 * leading) ASCII punctuation character of a word longer than one character
 * is split off. */
static inline void add_word(kv_chrf *c, side *sd, const char *s, size_t n, size_t a, size_t wl,
                            size_t chars)
{
    const char *ws = s + a;
    if (chars > 1) {
        size_t last = last_cp_start(ws, wl);
        if (wl - last == 1 && is_ascii_punct((unsigned char)ws[last])) {
            sd->words[sd->nwords++] = word_id(c, s, n, a, last);
            sd->words[sd->nwords++] = word_id(c, s, n, a + last, 1);
            return;
        }
        if (is_ascii_punct((unsigned char)ws[0])) {
            sd->words[sd->nwords++] = word_id(c, s, n, a, 1);
            sd->words[sd->nwords++] = word_id(c, s, n, a + 1, wl - 1);
            return;
        }
    }
    sd->words[sd->nwords++] = word_id(c, s, n, a, wl);
}

/* Fills a side from text s[0..n) (already lowercased when asked) in one
 * pass: the code points and, for chrF++, the words (str.split(): the runs
 * between Python whitespace, the same characters the code points drop).
 * Word ids point into s, which must live until counting ends. */
static void fill_side(kv_chrf *c, side *sd, const char *s, size_t n)
{
    if (sd->cps_cap < n + 1) {
        sd->cps_cap = n + 1;
        sd->cps = kv_xrealloc(sd->cps, sd->cps_cap * sizeof *sd->cps);
    }
    uint32_t *cps = sd->cps;
    size_t k = 0;
    sd->nwords = 0;
    if (c->o.word_order <= 0) {
        bool drop_ws = !c->o.whitespace;
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            i += next_cp(s, n, i, &cp);
            cps[k] = cp;
            k += !(drop_ws & py_space(cp));
        }
        sd->ncps = k;
        return;
    }
    /* a word has at least one byte and is followed by a space or the end,
     * and splitting one adds at most one part */
    if (sd->words_cap < n + 1) {
        sd->words_cap = n + 1;
        sd->words = kv_xrealloc(sd->words, sd->words_cap * sizeof *sd->words);
    }
    size_t wstart = 0, wchars = 0;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        uint32_t cp;
        i += next_cp(s, n, i, &cp);
        if (py_space(cp)) {
            if (wchars) {
                add_word(c, sd, s, n, wstart, at - wstart, wchars);
                wchars = 0;
            }
            if (c->o.whitespace)
                cps[k++] = cp;
            continue;
        }
        if (wchars++ == 0)
            wstart = at;
        cps[k++] = cp;
    }
    if (wchars)
        add_word(c, sd, s, n, wstart, n - wstart, wchars);
    sd->ncps = k;
}

static double f_score(const kv_chrf_opts *o, const uint64_t *v, int orders)
{
    const double eps = 1e-16;
    double factor = o->beta * o->beta;
    double score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
    int effective = 0;
    for (int i = 0; i < orders; i++) {
        double n_hyp = (double)v[3 * i], n_ref = (double)v[3 * i + 1], n_match = (double)v[3 * i + 2];
        double prec = n_hyp > 0 ? n_match / n_hyp : eps;
        double rec = n_ref > 0 ? n_match / n_ref : eps;
        double denom = factor * prec + rec;
        score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
        if (n_hyp > 0 && n_ref > 0) {
            avg_prec += prec;
            avg_rec += rec;
            effective++;
        }
    }
    if (o->eps_smoothing)
        return 100 * score / orders;
    if (effective == 0) {
        avg_prec = avg_rec = 0.0;
    } else {
        avg_prec /= effective;
        avg_rec /= effective;
    }
    if (avg_prec + avg_rec != 0.0) {
        score = (1 + factor) * avg_prec * avg_rec;
        score /= (factor * avg_prec) + avg_rec;
        return 100 * score;
    }
    return 0.0;
}

double kv_chrf_compute(const kv_chrf_opts *o, const kv_chrf_stats *s)
{
    return f_score(o, s->v, o->char_order + o->word_order);
}

/* ---- n-gram matching --------------------------------------------------
 *
 * One reference at a time: its n-grams are counted in a table, then the
 * hypothesis n-grams take matches from those counts (an occurrence beyond
 * the reference count does not match: min(ref, hyp) per n-gram). Every
 * n-gram has an exact 64-bit key. Character n-grams of orders 1–3 pack
 * their code points (+1, 21 bits each: order 1 < 2^21 <= order 2 < 2^42 <=
 * order 3 < 2^63); a longer n-gram is (slot of its (n-1)-gram prefix, last
 * code point) with bit 63 set, the slot being that prefix's identity (slots
 * never move while a pair is counted). Word n-grams: order 1 is the word id
 * with bit 63 set, longer ones (prefix slot + 1, word id). Orders are done
 * one after the other over all positions, so that the lookups of one order
 * are independent of each other. A hypothesis n-gram whose prefix is in no
 * reference has the prefix NO_SLOT, which makes a key no reference n-gram
 * has (slots are < 2^31), so its lookup fails without a branch. */

#define NO_SLOT UINT32_MAX

static void tab_begin(kv_chrf *c, size_t max_grams)
{
    unsigned bits;
    c->tab_used = kv_stamped_begin((void **)&c->tab, &c->tab_cap, sizeof *c->tab, &c->gen, 64,
                                   max_grams * 4, &bits);
    c->shift = 64 - bits;
}

#if defined(__GNUC__)
#define KV_INLINE static inline __attribute__((always_inline))
#else
#define KV_INLINE static inline
#endif

/* Finds the slot of `key` or the empty slot where it would go. */
KV_INLINE cslot *tab_probe(kv_chrf *c, uint64_t key, size_t *at, bool *empty)
{
    size_t mask = c->tab_used - 1;
    size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> c->shift);
    cslot *e;
    bool emp;
    for (;;) {
        e = &c->tab[j];
        emp = e->gen != c->gen;
        if (emp | (e->key == key))
            break;
        j = (j + 1) & mask;
    }
    *at = j;
    *empty = emp;
    return e;
}

/* Adds `inc` (0: identity only) reference occurrences of `key`; returns its
 * slot. */
KV_INLINE uint32_t tab_add(kv_chrf *c, uint64_t key, uint32_t inc)
{
    size_t j;
    bool empty;
    cslot *e = tab_probe(c, key, &j, &empty);
    e->cnt = empty ? inc : e->cnt + inc;
    e->key = key;
    e->gen = c->gen;
    return (uint32_t)j;
}

/* Looks a hypothesis occurrence of `key` up; when `take`, *match += 1 while
 * the reference count lasts. Returns the slot, or NO_SLOT when no reference
 * n-gram has the key. */
KV_INLINE uint32_t tab_take(kv_chrf *c, uint64_t key, bool take, uint64_t *match)
{
    size_t j;
    bool empty;
    cslot *e = tab_probe(c, key, &j, &empty);
    if (take) {
        uint32_t t = !empty && e->cnt > 0;
        e->cnt -= t;
        *match += t;
    }
    return empty ? NO_SLOT : (uint32_t)j;
}

/* Key kinds: character orders 1, 2, 3 (packed), character order >= 4
 * (chained), word order 1, word order >= 2 (chained). */
enum { K_C1, K_C2, K_C3, K_CN, K_W1, K_WN };

KV_INLINE uint64_t gram_key(int kind, const uint32_t *q, const uint32_t *ids, size_t i, int n)
{
    switch (kind) {
    case K_C1:
        return (uint64_t)q[i] + 1;
    case K_C2:
        return (((uint64_t)q[i] + 1) << 21) | ((uint64_t)q[i + 1] + 1);
    case K_C3:
        return (((uint64_t)q[i] + 1) << 42) | (((uint64_t)q[i + 1] + 1) << 21) |
               ((uint64_t)q[i + 2] + 1);
    case K_CN:
        /* NO_SLOT + 1 = 2^32: a key no slot's n-gram has */
        return ((uint64_t)1 << 63) | (((uint64_t)ids[i] + 1) << 21) |
               ((uint64_t)q[i + (size_t)n - 1] + 1);
    case K_W1:
        return ((uint64_t)1 << 63) | q[i];
    default:
        /* ids[i] = NO_SLOT gives a key below 2^32, which no n-gram has */
        return (((uint64_t)ids[i] + 1) << 32) | q[i + (size_t)n - 1];
    }
}

/* Reference n-grams of order n at positions [lo, hi): counted from `from`
 * on, identity only before; their slots go to ids[] when `store`. */
KV_INLINE void ref_range(kv_chrf *c, int kind, const uint32_t *q, uint32_t *ids, int n, size_t lo,
                         size_t from, size_t hi, bool store)
{
    for (size_t i = lo; i < hi; i++) {
        uint32_t j = tab_add(c, gram_key(kind, q, ids, i, n), i >= from);
        if (store)
            ids[i] = j;
    }
}

KV_INLINE uint64_t hyp_range(kv_chrf *c, int kind, const uint32_t *q, uint32_t *ids, int n,
                             size_t lo, size_t from, size_t hi, bool store)
{
    uint64_t m = 0;
    for (size_t i = lo; i < from && i < hi; i++) {
        uint32_t j = tab_take(c, gram_key(kind, q, ids, i, n), false, &m);
        if (store)
            ids[i] = j;
    }
    for (size_t i = from > lo ? from : lo; i < hi; i++) {
        uint32_t j = tab_take(c, gram_key(kind, q, ids, i, n), true, &m);
        if (store)
            ids[i] = j;
    }
    return m;
}

static void ref_order(kv_chrf *c, int kind, const uint32_t *q, uint32_t *ids, int n, size_t lo,
                      size_t from, size_t hi, bool store)
{
    switch (kind) {
    case K_C1:
        ref_range(c, K_C1, q, ids, n, lo, from, hi, false);
        break;
    case K_C2:
        ref_range(c, K_C2, q, ids, n, lo, from, hi, false);
        break;
    case K_C3:
        if (store)
            ref_range(c, K_C3, q, ids, n, lo, from, hi, true);
        else
            ref_range(c, K_C3, q, ids, n, lo, from, hi, false);
        break;
    case K_CN:
        ref_range(c, K_CN, q, ids, n, lo, from, hi, true);
        break;
    case K_W1:
        ref_range(c, K_W1, q, ids, n, lo, from, hi, true);
        break;
    default:
        ref_range(c, K_WN, q, ids, n, lo, from, hi, true);
        break;
    }
}

static uint64_t hyp_order(kv_chrf *c, int kind, const uint32_t *q, uint32_t *ids, int n,
                          size_t lo, size_t from, size_t hi, bool store)
{
    switch (kind) {
    case K_C1:
        return hyp_range(c, K_C1, q, ids, n, lo, from, hi, false);
    case K_C2:
        return hyp_range(c, K_C2, q, ids, n, lo, from, hi, false);
    case K_C3:
        if (store)
            return hyp_range(c, K_C3, q, ids, n, lo, from, hi, true);
        return hyp_range(c, K_C3, q, ids, n, lo, from, hi, false);
    case K_CN:
        return hyp_range(c, K_CN, q, ids, n, lo, from, hi, true);
    case K_W1:
        return hyp_range(c, K_W1, q, ids, n, lo, from, hi, true);
    default:
        return hyp_range(c, K_WN, q, ids, n, lo, from, hi, true);
    }
}

/* The table's fields as locals: stores through slot pointers could alias
 * them, which would make the compiler reload them after every store. */
typedef struct tabview {
    cslot *tab;
    size_t mask;
    unsigned shift;
    uint32_t gen;
} tabview;

KV_INLINE cslot *tv_probe(tabview t, uint64_t key, bool *empty)
{
    size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> t.shift);
    for (;;) {
        cslot *e = &t.tab[j];
        bool emp = e->gen != t.gen;
        if (emp | (e->key == key)) {
            *empty = emp;
            return e;
        }
        j = (j + 1) & t.mask;
    }
}

/* Character n-grams of a pair whose code points are all in the BMP and
 * number at most 256 distinct ones (nearly every real segment): the code
 * points get dense ids 0..255 through a direct BMP map, and the matches are
 * counted in the array trie of scoring/trie.h. Returns false, having
 * changed nothing that matters, when the pair does not qualify. */
static bool count_dense(kv_chrf *c, const uint32_t *ref, size_t RL, const uint32_t *hyp, size_t HL,
                        int N, uint64_t *match)
{
    if (!c->dmap)
        c->dmap = kv_xcalloc(0x10000, sizeof *c->dmap);
    if (++c->dstamp >= (1u << 24)) {
        memset(c->dmap, 0, 0x10000 * sizeof *c->dmap);
        c->dstamp = 1;
    }
    if (c->dense_cap < RL + HL + 1) {
        c->dense_cap = RL + HL + 1;
        c->dense = kv_xrealloc(c->dense, c->dense_cap);
    }
    uint32_t *map = c->dmap;
    uint32_t st = c->dstamp << 8, D = 0, big = 0;
    uint8_t *dr = c->dense, *dh = c->dense + RL;
    /* branch-free: a code point seen before keeps its id, a new one takes D */
    for (size_t i = 0; i < RL + HL; i++) {
        uint32_t cp = i < RL ? ref[i] : hyp[i - RL];
        big |= cp;
        uint32_t *e = &map[cp & 0xFFFF];
        uint32_t v = *e;
        bool seen = (v & ~(uint32_t)0xFF) == st;
        uint32_t id = seen ? (v & 0xFF) : (D & 0xFF);
        *e = st | id;
        D += !seen;
        dr[i] = (uint8_t)id;
    }
    if (D > 256 || big >= 0x10000)
        return false;
    return kv_trie_match(&c->trie, dr, RL, dh, HL, D, N, false, match);
}

/* [hyp, ref, match] of orders 1..N (stride 3 in v) for one reference:
 * character n-grams (words = false) or word n-grams.
 *
 * A common prefix of P symbols and a common suffix of S symbols (P + S <=
 * both lengths) hold the same n-grams on both sides; those match each other
 * (min(a + b, a + c) = a + min(b, c)), so only the other n-grams go through
 * the table. Chained orders still need the identities of the prefix's last
 * n-grams: those are added with a count of 0 (reference) or looked up
 * without taking a match (hypothesis). */
static void count_pair(kv_chrf *c, bool words, const uint32_t *ref, size_t RL, const uint32_t *hyp,
                       size_t HL, int N, uint64_t *v)
{
    size_t most = RL > HL ? RL : HL;
    if (c->ids_cap < most + 1) {
        c->ids_cap = most + 1;
        c->ids = kv_xrealloc(c->ids, c->ids_cap * sizeof *c->ids);
    }
    uint32_t *ids = c->ids;
    size_t m = RL < HL ? RL : HL;
    size_t P = 0;
    while (P < m && ref[P] == hyp[P])
        P++;
    size_t S = 0;
    while (S < m - P && ref[RL - 1 - S] == hyp[HL - 1 - S])
        S++;
    size_t NN = (size_t)N;
    /* first position of each order not inside the prefix, and the lowest
     * position any chained order needs */
    size_t lo_all = P >= NN ? P - NN + 1 : 0;
    uint64_t match[KV_CHRF_MAX_ORDER] = {0};
    int n0 = 1; /* first order counted by the general path below */
    if (!words && RL > 0 && HL > 0 && count_dense(c, ref, RL, hyp, HL, N, match))
        n0 = N + 1;
    if (n0 <= N)
        tab_begin(c, (RL - P - S + NN) * NN);
    for (int n = n0; n <= N && (size_t)n <= RL; n++) {
        size_t nn = (size_t)n;
        int kind = words ? (n == 1 ? K_W1 : K_WN)
                         : (n == 1 ? K_C1 : n == 2 ? K_C2 : n == 3 ? K_C3 : K_CN);
        bool store = n < N && (words || n >= 3);
        bool chained = words ? n >= 2 : n >= 4;
        size_t from = P >= nn ? P - nn + 1 : 0;
        size_t lo = store || chained ? lo_all : from;
        size_t hi = RL - nn + 1 < RL - S ? RL - nn + 1 : RL - S;
        if (lo < hi)
            ref_order(c, kind, ref, ids, n, lo, from, hi, store);
    }
    for (int n = n0; n <= N && (size_t)n <= HL && (size_t)n <= RL; n++) {
        size_t nn = (size_t)n;
        int kind = words ? (n == 1 ? K_W1 : K_WN)
                         : (n == 1 ? K_C1 : n == 2 ? K_C2 : n == 3 ? K_C3 : K_CN);
        bool store = n < N && (words || n >= 3);
        bool chained = words ? n >= 2 : n >= 4;
        size_t from = P >= nn ? P - nn + 1 : 0;
        size_t lo = store || chained ? lo_all : from;
        size_t hi = HL - nn + 1 < HL - S ? HL - nn + 1 : HL - S;
        uint64_t common = (P >= nn ? P - nn + 1 : 0) + (S >= nn ? S - nn + 1 : 0);
        match[n - 1] = common + (lo < hi ? hyp_order(c, kind, hyp, ids, n, lo, from, hi, store) : 0);
    }
    for (int n = 1; n <= N; n++) {
        v[3 * (n - 1)] = HL >= (size_t)n ? HL - (size_t)n + 1 : 0;
        v[3 * (n - 1) + 1] = RL >= (size_t)n ? RL - (size_t)n + 1 : 0;
        v[3 * (n - 1) + 2] = match[n - 1];
    }
}

void kv_chrf_force_general(kv_chrf *c, bool on)
{
    c->force_general = on;
}

/* One reference: the fast path of scoring/chrf_fast.h, when it takes the
 * pair (false: nothing written). */
static bool single_pair(kv_chrf *c, const char *hyp, size_t hyp_len, const char *ref,
                        size_t ref_len, kv_chrf_stats *out)
{
    if (c->o.lowercase) {
        kv_buf_clear(&c->lower);
        if (kv_py_lower(ref, ref_len, &c->lower) != 0)
            return false;
        size_t mid = c->lower.len;
        if (kv_py_lower(hyp, hyp_len, &c->lower) != 0)
            return false;
        ref = c->lower.p;
        ref_len = mid;
        hyp = c->lower.p + mid;
        hyp_len = c->lower.len - mid;
    }
    uint64_t v[3 * KV_CHRF_MAX_ORDER] = {0};
    if (!kv_chrf_fast_pair(c->fast, &c->o, ref, ref_len, hyp, hyp_len, v))
        return false;
    /* no reference n-gram of an order: its hypothesis count is reported as 0 */
    for (int i = 0; i < c->o.char_order + c->o.word_order; i++)
        if (v[3 * i + 1] == 0)
            v[3 * i] = 0;
    memset(out, 0, sizeof *out);
    memcpy(out->v, v, sizeof v);
    return true;
}

int kv_chrf_segment(kv_chrf *c, const char *hyp, size_t hyp_len, const char *const *refs,
                    const size_t *ref_lens, size_t n_refs, kv_chrf_stats *out, char *err,
                    size_t errlen)
{
    const int NC = c->o.char_order, NW = c->o.word_order, orders = NC + NW;
    if (n_refs == 1 && refs[0] && hyp && !c->o.whitespace && !c->force_general &&
        single_pair(c, hyp, hyp_len, refs[0], ref_lens[0], out))
        return 0;
    size_t sides = n_refs + 1;
    if (c->sides_cap < sides) {
        c->sides = kv_xrealloc(c->sides, sides * sizeof *c->sides);
        memset(c->sides + c->sides_cap, 0, (sides - c->sides_cap) * sizeof *c->sides);
        c->sides_cap = sides;
    }
    if (c->o.word_order > 0) {
        size_t total = hyp ? hyp_len : 0;
        for (size_t k = 0; k < n_refs; k++)
            total += refs[k] ? ref_lens[k] : 0;
        kv_wt_reset(&c->words, total / 8 + 8);
    }
    /* word ids point into the texts, so lowercased copies live side by side
     * in one buffer that is only appended to during this call */
    kv_buf_clear(&c->lower);
    size_t present = 0;
    if (c->offs_cap < sides + 1) {
        c->offs_cap = sides + 1;
        c->offs = kv_xrealloc(c->offs, c->offs_cap * sizeof *c->offs);
    }
    size_t *offs = c->offs;
    if (c->o.lowercase) {
        for (size_t k = 0; k < sides; k++) {
            const char *s = k < n_refs ? refs[k] : hyp;
            size_t n = k < n_refs ? ref_lens[k] : hyp_len;
            offs[k] = c->lower.len;
            if (s && kv_py_lower(s, n, &c->lower) != 0) {
                snprintf(err, errlen, "lowercasing failed");
                return -1;
            }
        }
        offs[sides] = c->lower.len;
    }
    for (size_t k = 0; k < sides; k++) {
        const char *s = k < n_refs ? refs[k] : hyp;
        size_t n = k < n_refs ? ref_lens[k] : hyp_len;
        if (!s)
            continue;
        if (k < n_refs)
            present++;
        if (c->o.lowercase) {
            s = c->lower.p + offs[k];
            n = offs[k + 1] - offs[k];
        }
        fill_side(c, &c->sides[k], s, n);
    }
    if (present == 0) {
        snprintf(err, errlen, "no reference for this segment");
        return -1;
    }

    side *h = &c->sides[n_refs];
    double best_f = -1.0;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < n_refs; k++) {
        if (!refs[k])
            continue;
        side *r = &c->sides[k];
        uint64_t v[3 * KV_CHRF_MAX_ORDER] = {0};
        if (NC > 0)
            count_pair(c, false, r->cps, r->ncps, h->cps, h->ncps, NC, v);
        if (NW > 0)
            count_pair(c, true, r->words, r->nwords, h->words, h->nwords, NW, v + 3 * NC);
        /* no reference n-gram of an order: its hypothesis count is reported as 0 */
        for (int i = 0; i < orders; i++)
            if (v[3 * i + 1] == 0)
                v[3 * i] = 0;
        double f = f_score(&c->o, v, orders);
        if (f > best_f) {
            best_f = f;
            memcpy(out->v, v, sizeof v);
        }
    }
    return 0;
}

void kv_chrf_stats_add(kv_chrf_stats *acc, const kv_chrf_stats *s, int n_orders)
{
    for (int i = 0; i < 3 * n_orders; i++)
        acc->v[i] += s->v[i];
}

void kv_chrf_name(const kv_chrf_opts *o, char *dst, size_t dstlen)
{
    char beta[32];
    if (o->beta == floor(o->beta))
        snprintf(beta, sizeof beta, "%d", (int)o->beta);
    else
        snprintf(beta, sizeof beta, "%g", o->beta);
    snprintf(dst, dstlen, "chrF%s%.*s", beta, o->word_order > 8 ? 8 : o->word_order, "++++++++");
}

void kv_chrf_signature(const kv_chrf_opts *o, int nrefs, const char *norm, char *dst,
                       size_t dstlen)
{
    char name[48], nr[16];
    kv_chrf_name(o, name, sizeof name);
    if (nrefs < 0)
        snprintf(nr, sizeof nr, "var");
    else
        snprintf(nr, sizeof nr, "%d", nrefs);
    snprintf(dst, dstlen, "%s|nrefs:%s|case:%s|eff:%s|nc:%d|nw:%d|space:%s|norm:%s|v:%s", name, nr,
             o->lowercase ? "lc" : "mixed", o->eps_smoothing ? "no" : "yes", o->char_order,
             o->word_order, o->whitespace ? "yes" : "no", norm ? norm : "none", KOEVAL_VERSION);
}
