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
