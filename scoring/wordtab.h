/*
 * wordtab.h — exact ids for short byte strings (tokens, words), per segment,
 * shared by ROUGE (tokens) and chrF++ (words).
 *
 * A string of up to 16 bytes is identified by (k1, k2, len) alone: k1 = its
 * first min(len, 8) bytes as a little-endian word (zero-padded), k2 = its
 * last 8 bytes when len > 8, else 0. A longer string carries a hash in k1
 * and its first 8 bytes in k2, and equal keys are confirmed byte by byte.
 * Ids are dense (0, 1, 2 … in order of first appearance) and stay valid
 * until the next kv_wt_reset; slots are never cleared (a generation stamp
 * says which are in use). Header-only: these calls sit in the inner loops.
 */
#ifndef KOEVAL_WORDTAB_H
#define KOEVAL_WORDTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/buf.h"

typedef struct kv_wt_slot {
    uint64_t k1, k2;
    const char *p; /* the string's bytes (read back only when len > 16) */
    uint32_t len, id, gen, pad_;
} kv_wt_slot;

typedef struct kv_word_table {
    kv_wt_slot *slots;
    size_t cap;    /* slots allocated */
    size_t used;   /* power of two <= cap, sized to the segment */
    unsigned shift; /* 64 - log2(used) */
    uint32_t gen;
    uint32_t n;    /* ids given out in this segment */
} kv_word_table;

/* Starts a segment expecting about `expected` distinct strings. */
static inline void kv_wt_reset(kv_word_table *t, size_t expected)
{
    unsigned bits;
    t->used = kv_stamped_begin((void **)&t->slots, &t->cap, sizeof *t->slots, &t->gen, 64,
                               expected * 2, &bits);
    t->shift = 64 - bits;
    t->n = 0;
}

static inline void kv_wt_free(kv_word_table *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static inline size_t kv_wt_home(const kv_word_table *t, uint64_t k1, uint64_t k2, uint32_t len)
{
    uint64_t h = (k1 ^ (k2 * 0xC2B2AE3D27D4EB4Full) ^ len) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> t->shift);
}

/* Doubles the table, keeping this segment's slots. */
static inline void kv_wt_grow(kv_word_table *t)
{
    kv_wt_slot *old = t->slots;
    size_t oldused = t->used;
    uint32_t oldgen = t->gen;
    size_t used = oldused * 2;
    t->cap = t->cap > used ? t->cap : used;
    t->slots = kv_xcalloc(t->cap, sizeof *t->slots);
    t->used = used;
    t->shift--;
    t->gen = 1;
    for (size_t i = 0; i < oldused; i++) {
        if (old[i].gen != oldgen)
            continue;
        size_t j = kv_wt_home(t, old[i].k1, old[i].k2, old[i].len);
        while (t->slots[j].gen == t->gen)
            j = (j + 1) & (used - 1);
        t->slots[j] = old[i];
        t->slots[j].gen = t->gen;
    }
    free(old);
}

/* The bytes s[a .. a+len) (len <= 8) as a little-endian word, zero-padded;
 * s has n bytes. Reads 8 bytes at a time, backing off from the end of s. */
static inline uint64_t kv_wt_load(const char *s, size_t n, size_t a, size_t len)
{
    uint64_t w = 0;
    if (n - a >= 8) {
        memcpy(&w, s + a, 8);
    } else if (n >= 8) {
        memcpy(&w, s + n - 8, 8);
        w >>= 8 * (8 - (n - a));
    } else {
        for (size_t k = 0; k < n - a; k++)
            w |= (uint64_t)(unsigned char)s[a + k] << (8 * k);
    }
    if (len < 8)
        w &= ((uint64_t)1 << (8 * len)) - 1;
    return w;
}

/* Hash of a string longer than 16 bytes, eight bytes at a time. */
static inline uint64_t kv_wt_long_hash(const char *s, size_t n)
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
    uint64_t w = 0;
    for (size_t k = 0; k < n; k++)
        w |= (uint64_t)(unsigned char)s[k] << (8 * k);
    h = (h ^ w) * 0x94D049BB133111EBull;
    return h ^ (h >> 32);
}

/* The id of the string with keys (k1, k2, len); p = its bytes, which must
 * stay readable for the segment when len > 16. */
static inline uint32_t kv_wt_intern_key(kv_word_table *t, uint64_t k1, uint64_t k2, size_t len,
                                        const char *p)
{
    if (((size_t)t->n + 1) * 2 > t->used)
        kv_wt_grow(t);
    size_t mask = t->used - 1, j = kv_wt_home(t, k1, k2, (uint32_t)len);
    kv_wt_slot *e;
    bool empty;
    for (;;) {
        e = &t->slots[j];
        empty = e->gen != t->gen;
        bool same = e->k1 == k1 && e->k2 == k2 && e->len == len;
        if (same && !empty && len > 16) /* a stale slot's bytes may be gone */
            same = memcmp(e->p, p, len) == 0;
        if (empty | same)
            break;
        j = (j + 1) & mask;
    }
    /* new and known strings take the same path (no unpredictable branch):
     * rewriting a known string's keys stores what is there already */
    uint32_t id = empty ? t->n : e->id;
    e->k1 = k1;
    e->k2 = k2;
    e->p = p;
    e->len = (uint32_t)len;
    e->gen = t->gen;
    e->id = id;
    t->n += empty;
    return id;
}

/* The keys (k1, k2) of s[a .. a+len) (len >= 1), s having n bytes. */
static inline void kv_wt_keys(const char *s, size_t n, size_t a, size_t len, uint64_t *k1,
                              uint64_t *k2)
{
    *k2 = 0;
    if (len <= 8) {
        *k1 = kv_wt_load(s, n, a, len);
    } else if (len <= 16) {
        memcpy(k1, s + a, 8);
        memcpy(k2, s + a + len - 8, 8);
    } else {
        *k1 = kv_wt_long_hash(s + a, len);
        memcpy(k2, s + a, 8);
    }
}

/* The id of s[a .. a+len) (len >= 1), s having n bytes. */
static inline uint32_t kv_wt_id(kv_word_table *t, const char *s, size_t n, size_t a, size_t len)
{
    uint64_t k1, k2;
    kv_wt_keys(s, n, a, len, &k1, &k2);
    return kv_wt_intern_key(t, k1, k2, len, s + a);
}

#endif
