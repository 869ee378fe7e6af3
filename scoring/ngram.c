#include "scoring/ngram.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/buf.h"

struct kv_intern_slot {
    const char *s;
    uint64_t hash;
    uint32_t len;
    uint32_t id;
    uint32_t gen;
};

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
}

/* Hash of a short byte string, eight bytes at a time. */
static uint64_t bytes_hash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x94D049BB133111EBull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    if (n) {
        /* assembled in a register: a variable-length memcpy into a stack
         * word would stall on store forwarding */
        uint64_t w = 0;
        for (size_t k = 0; k < n; k++)
            w |= (uint64_t)(unsigned char)s[k] << (8 * k);
        h = (h ^ w) * 0x94D049BB133111EBull;
    }
    return mix64(h);
}

void kv_interner_reset(kv_interner *in, size_t expected)
{
    size_t want = 64;
    while (want < expected * 2)
        want *= 2;
    if (in->cap < want || in->gen == UINT32_MAX) {
        free(in->slots);
        in->slots = kv_xcalloc(want, sizeof *in->slots);
        in->cap = want;
        in->gen = 0;
    }
    in->used = want;
    in->gen++;
    in->next_id = 0;
}

static void interner_grow(kv_interner *in)
{
    struct kv_intern_slot *old = in->slots;
    size_t oldused = in->used;
    uint32_t oldgen = in->gen;
    in->used = oldused * 2;
    if (in->cap < in->used)
        in->cap = in->used;
    in->slots = kv_xcalloc(in->cap, sizeof *in->slots);
    in->gen = 1;
    for (size_t i = 0; i < oldused; i++) {
        if (old[i].gen != oldgen)
            continue;
        size_t mask = in->used - 1, j = (size_t)old[i].hash & mask;
        while (in->slots[j].gen == in->gen)
            j = (j + 1) & mask;
        in->slots[j] = old[i];
        in->slots[j].gen = in->gen;
    }
    free(old);
}

/* Byte equality, inline for the short strings tokens are. */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return false;
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--)
        if (*a++ != *b++)
            return false;
    return true;
}

uint32_t kv_interner_id(kv_interner *in, const char *s, size_t n)
{
    if (in->cap == 0)
        kv_interner_reset(in, 32);
    if (((size_t)in->next_id + 1) * 2 > in->used)
        interner_grow(in);
    uint64_t h = bytes_hash(s, n);
    size_t mask = in->used - 1, j = (size_t)h & mask;
    for (;;) {
        struct kv_intern_slot *e = &in->slots[j];
        if (e->gen != in->gen) {
            e->s = s;
            e->len = (uint32_t)n;
            e->hash = h;
            e->gen = in->gen;
            e->id = in->next_id++;
            return e->id;
        }
        if (e->hash == h && e->len == n && same_bytes(e->s, s, n))
            return e->id;
        j = (j + 1) & mask;
    }
}

void kv_interner_free(kv_interner *in)
{
    free(in->slots);
    memset(in, 0, sizeof *in);
}

void kv_gc_begin(kv_gram_counter *gc, size_t max_ref_grams)
{
    size_t want = 64;
    unsigned bits = 6;
    while (want < max_ref_grams * 2 + 2) {
        want *= 2;
        bits++;
    }
    if (gc->cap < want) {
        free(gc->slots);
        gc->slots = kv_xcalloc(want, sizeof *gc->slots);
        gc->cap = want;
    }
    /* use the low `bits` of the index space even when the table is larger */
    gc->shift = 64 - bits;
    if (gc->used_cap < max_ref_grams + 1) {
        gc->used_cap = max_ref_grams + 1;
        gc->used = kv_xrealloc(gc->used, gc->used_cap * sizeof *gc->used);
    }
    gc->nused = 0;
    gc->stamp = 0;
}

static inline size_t gc_home(const kv_gram_counter *gc, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> gc->shift);
}

/* key of the n-gram whose prefix has identity `prefix` (or none, for n = 1) */
static inline uint64_t gc_key(uint32_t prefix, bool first, uint32_t sym)
{
    return first ? ((1ull << 63) | sym) : (((uint64_t)prefix + 1) << 32) | sym;
}

void kv_gc_add_ref(kv_gram_counter *gc, const uint32_t *seq, size_t L, int N,
                   uint64_t *ref_counts)
{
    uint32_t stamp = ++gc->stamp;
    size_t mask = ((size_t)1 << (64 - gc->shift)) - 1;
    for (size_t i = 0; i < L; i++) {
        uint32_t prefix = 0;
        for (int n = 1; n <= N && i + (size_t)n <= L; n++) {
            uint64_t key = gc_key(prefix, n == 1, seq[i + (size_t)n - 1]);
            size_t j = gc_home(gc, key);
            kv_gram_slot *e;
            for (;;) {
                e = &gc->slots[j];
                if (e->key == key)
                    break;
                if (e->key == 0) {
                    e->key = key;
                    gc->used[gc->nused++] = (uint32_t)j;
                    break;
                }
                j = (j + 1) & mask;
            }
            if (e->ref_stamp != stamp) {
                e->ref_stamp = stamp;
                e->ref_cur = 0;
            }
            if (++e->ref_cur > e->ref)
                e->ref = e->ref_cur;
            if (ref_counts)
                ref_counts[n - 1]++;
            prefix = (uint32_t)j;
        }
    }
}

void kv_gc_match_hyp(kv_gram_counter *gc, const uint32_t *seq, size_t L, int N,
                     uint64_t *matches)
{
    size_t mask = ((size_t)1 << (64 - gc->shift)) - 1;
    for (size_t i = 0; i < L; i++) {
        uint32_t prefix = 0;
        for (int n = 1; n <= N && i + (size_t)n <= L; n++) {
            uint64_t key = gc_key(prefix, n == 1, seq[i + (size_t)n - 1]);
            size_t j = gc_home(gc, key);
            kv_gram_slot *e;
            for (;;) {
                e = &gc->slots[j];
                if (e->key == key || e->key == 0)
                    break;
                j = (j + 1) & mask;
            }
            if (e->key == 0)
                break; /* in no reference: neither is any longer n-gram here */
            if (++e->hyp <= e->ref)
                matches[n - 1]++;
            prefix = (uint32_t)j;
        }
    }
}

void kv_gc_end(kv_gram_counter *gc)
{
    for (size_t k = 0; k < gc->nused; k++)
        memset(&gc->slots[gc->used[k]], 0, sizeof gc->slots[0]);
    gc->nused = 0;
}

void kv_gc_free(kv_gram_counter *gc)
{
    free(gc->slots);
    free(gc->used);
    memset(gc, 0, sizeof *gc);
}

struct kv_gs_slot {
    uint32_t word;  /* the n-gram's ids, first in the low byte; 0 = empty */
    uint32_t count; /* reference occurrences not yet matched */
};

/* The ids p[i .. i+4) as a word, p[i] in the low byte, masked to an order:
 * ids are nonzero, so n-grams of different orders never share a word. */
static inline uint32_t gs_word(const uint8_t *p, size_t i, uint32_t mask)
{
    uint32_t w;
    memcpy(&w, p + i, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    return w & mask;
}

/* Length of the common prefix of a and b, up to lim ids. */
static size_t common_prefix(const uint8_t *a, const uint8_t *b, size_t lim)
{
    size_t p = 0;
    while (p + 4 <= lim) {
        uint32_t x, y;
        memcpy(&x, a + p, 4);
        memcpy(&y, b + p, 4);
        if (x != y)
            break;
        p += 4;
    }
    while (p < lim && a[p] == b[p])
        p++;
    return p;
}

/* First position of the n-grams of order n of a side of length L that are
 * not wholly inside the common prefix P, and one past the last one not
 * wholly inside the common suffix S. */
static inline size_t middle_from(size_t P, size_t n)
{
    return P >= n ? P - n + 1 : 0;
}

static inline size_t middle_to(size_t L, size_t S, size_t n)
{
    if (L < n)
        return 0;
    return L - n + 1 < L - S ? L - n + 1 : L - S;
}

static inline size_t gs_home(uint32_t w, unsigned bits)
{
    return (size_t)(((uint64_t)w * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

/* The table for `entries` words, empty; returns log2 of its size. */
static unsigned gs_table(kv_gram_single *gs, size_t entries)
{
    size_t size = 16;
    unsigned bits = 4;
    while (size < 2 * entries) {
        size *= 2;
        bits++;
    }
    if (gs->tab_cap < size) {
        free(gs->tab);
        gs->tab = kv_xcalloc(size, sizeof *gs->tab);
        gs->tab_cap = size;
    }
    return bits;
}

static inline void gs_add(struct kv_gs_slot *tab, size_t mask, unsigned bits, uint32_t w)
{
    size_t j = gs_home(w, bits);
    while (tab[j].word != w && tab[j].word != 0)
        j = (j + 1) & mask;
    tab[j].word = w;
    tab[j].count++;
}

/* 1 when the reference has an occurrence of w left (which it gives up). */
static inline unsigned gs_take(struct kv_gs_slot *tab, size_t mask, unsigned bits, uint32_t w)
{
    size_t j = gs_home(w, bits);
    while (tab[j].word != w && tab[j].word != 0)
        j = (j + 1) & mask;
    unsigned t = tab[j].word == w && tab[j].count != 0;
    tab[j].count -= t;
    return t;
}

/* Words no real n-gram has (a zero id below a nonzero one), standing for
 * "no n-gram of this order here": the reference's fills one slot, the
 * hypothesis's is never added, so it never matches. */
#define GS_REF_NONE 0x0100u
#define GS_HYP_NONE 0x0200u

/*
 * Every id fits in 6 bits: orders 1 and 2 by arrays, 3 and 4 by the table,
 * all orders in one pass over each side so that the loops are few (their
 * exits are branches that cannot be predicted). An order that has no n-gram
 * at a position writes a dummy: index 0 (no id is 0) on the reference side,
 * an index the reference never fills on the hypothesis side (0xFF and
 * 63:63, above D + 1), or the GS_*_NONE words.
 */
static void gs_fused(kv_gram_single *gs, const uint8_t *ref, size_t RL, const uint8_t *hyp,
                     size_t HL, size_t P, size_t S, int N, uint64_t *matches)
{
    size_t from[5], rto[5], hto[5];
    size_t entries = 1; /* GS_REF_NONE */
    for (size_t n = 1; n <= 4; n++) {
        bool on = n <= (size_t)N;
        from[n] = on ? middle_from(P, n) : 0;
        rto[n] = on ? middle_to(RL, S, n) : 0;
        hto[n] = on ? middle_to(HL, S, n) : 0;
        if (n >= 3 && rto[n] > from[n])
            entries += rto[n] - from[n];
    }
    size_t lo = from[N];
    if (!gs->c2)
        gs->c2 = kv_xcalloc(64 * 64, sizeof *gs->c2);
    uint16_t *c1 = gs->c1, *c2 = gs->c2;
    unsigned bits = gs_table(gs, entries);
    struct kv_gs_slot *tab = gs->tab;
    size_t size = (size_t)1 << bits, mask = size - 1;

    for (size_t i = lo; i < RL - S; i++) {
        uint32_t w = gs_word(ref, i, 0xFFFFFFFFu);
        c1[i >= from[1] ? (w & 0xFF) : 0]++;
        bool v2 = i >= from[2] && i < rto[2];
        c2[v2 ? ((w & 0x3F) << 6 | (w >> 8 & 0x3F)) : 0]++;
        bool v3 = i >= from[3] && i < rto[3];
        gs_add(tab, mask, bits, v3 ? w & 0xFFFFFF : GS_REF_NONE);
        bool v4 = i >= from[4] && i < rto[4];
        gs_add(tab, mask, bits, v4 ? w : GS_REF_NONE);
    }
    uint64_t m[4] = {0, 0, 0, 0};
    for (size_t i = lo; i < HL - S; i++) {
        uint32_t w = gs_word(hyp, i, 0xFFFFFFFFu);
        uint16_t *e = &c1[i >= from[1] ? (w & 0xFF) : 0xFF];
        unsigned t = *e != 0;
        *e = (uint16_t)(*e - t);
        m[0] += t;
        bool v2 = i >= from[2] && i < hto[2];
        e = &c2[v2 ? ((w & 0x3F) << 6 | (w >> 8 & 0x3F)) : 64 * 64 - 1];
        t = *e != 0;
        *e = (uint16_t)(*e - t);
        m[1] += t;
        bool v3 = i >= from[3] && i < hto[3];
        m[2] += gs_take(tab, mask, bits, v3 ? w & 0xFFFFFF : GS_HYP_NONE);
        bool v4 = i >= from[4] && i < hto[4];
        m[3] += gs_take(tab, mask, bits, v4 ? w : GS_HYP_NONE);
    }
    for (int n = 1; n <= N; n++)
        matches[n - 1] += m[n - 1];
    c1[0] = 0;
    c2[0] = 0;
    for (size_t i = lo; i < RL - S; i++) {
        uint32_t w = gs_word(ref, i, 0xFFFF);
        c1[w & 0xFF] = 0;
        c2[(w & 0x3F) << 6 | (w >> 8 & 0x3F)] = 0;
    }
    memset(tab, 0, size * sizeof *tab);
}

/* Any D <= KV_GS_MAX_SYMBOLS: order 1 by array, the others by the table,
 * one order at a time. */
static void gs_orders(kv_gram_single *gs, const uint8_t *ref, size_t RL, const uint8_t *hyp,
                      size_t HL, size_t P, size_t S, int N, uint64_t *matches)
{
    uint16_t *c1 = gs->c1;
    for (size_t i = P; i < RL - S; i++)
        c1[ref[i]]++;
    uint64_t m = 0;
    for (size_t i = P; i < HL - S; i++) {
        unsigned t = c1[hyp[i]] != 0;
        c1[hyp[i]] = (uint16_t)(c1[hyp[i]] - t);
        m += t;
    }
    matches[0] += m;
    for (size_t i = P; i < RL - S; i++)
        c1[ref[i]] = 0;

    size_t entries = 0;
    for (int n = 2; n <= N; n++) {
        size_t nn = (size_t)n, from = middle_from(P, nn), to = middle_to(RL, S, nn);
        entries += to > from ? to - from : 0;
    }
    if (entries == 0)
        return;
    unsigned bits = gs_table(gs, entries);
    struct kv_gs_slot *tab = gs->tab;
    size_t size = (size_t)1 << bits, mask = size - 1;
    for (int n = 2; n <= N; n++) {
        size_t nn = (size_t)n, from = middle_from(P, nn), to = middle_to(RL, S, nn);
        uint32_t wmask = n == 4 ? 0xFFFFFFFFu : ((uint32_t)1 << (8 * n)) - 1;
        for (size_t i = from; i < to; i++)
            gs_add(tab, mask, bits, gs_word(ref, i, wmask));
    }
    for (int n = 2; n <= N; n++) {
        size_t nn = (size_t)n, from = middle_from(P, nn), to = middle_to(HL, S, nn);
        uint32_t wmask = n == 4 ? 0xFFFFFFFFu : ((uint32_t)1 << (8 * n)) - 1;
        m = 0;
        for (size_t i = from; i < to; i++)
            m += gs_take(tab, mask, bits, gs_word(hyp, i, wmask));
        matches[n - 1] += m;
    }
    memset(tab, 0, size * sizeof *tab);
}

void kv_gs_match(kv_gram_single *gs, const uint8_t *ref, size_t RL, const uint8_t *hyp,
                 size_t HL, unsigned D, int N, uint64_t *matches)
{
    size_t lim = RL < HL ? RL : HL;
    size_t P = common_prefix(ref, hyp, lim);
    size_t S = 0;
    while (S < lim - P && ref[RL - 1 - S] == hyp[HL - 1 - S])
        S++;
    for (int n = 1; n <= N; n++) {
        size_t nn = (size_t)n;
        matches[n - 1] = (P >= nn ? P - nn + 1 : 0) + (S >= nn ? S - nn + 1 : 0);
    }
    if (D + 1 < 64)
        gs_fused(gs, ref, RL, hyp, HL, P, S, N, matches);
    else
        gs_orders(gs, ref, RL, hyp, HL, P, S, N, matches);
}

void kv_gs_free(kv_gram_single *gs)
{
    free(gs->tab);
    free(gs->c2);
    memset(gs, 0, sizeof *gs);
}
