#include "scoring/symtab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/buf.h"

/* 32 bytes. For a token of up to 16 bytes, k1 and k2 are its bytes 0..7 and
 * 8..15, zero-padded; for a longer one, k1 is a hash of its bytes and k2
 * their address. */
struct kv_sym_slot {
    uint64_t k1, k2;
    uint32_t len, id;
    uint32_t gen, unused;
};

#define SHORT_MAX 16

void kv_symtab_reset(kv_symtab *t, size_t expected)
{
    unsigned bits;
    t->size = kv_stamped_begin((void **)&t->slots, &t->cap, sizeof *t->slots, &t->gen, 32,
                               expected * 2, &bits);
    t->shift = 64 - bits;
    t->n = 0;
}

void kv_symtab_free(kv_symtab *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static inline size_t sym_home(const kv_symtab *t, uint64_t k1, uint64_t k2, uint32_t len)
{
    if (len > SHORT_MAX)
        k2 = 0; /* an address: not part of the identity */
    uint64_t h = ((k1 + len) * 0x9E3779B97F4A7C15ull) ^ (k2 * 0xD6E8FEB86659FD93ull);
    return (size_t)(h >> t->shift);
}

/* Doubles the table in use, keeping this segment's slots. */
static void sym_grow(kv_symtab *t)
{
    struct kv_sym_slot *old = t->slots;
    size_t oldsize = t->size;
    uint32_t oldgen = t->gen;
    t->size = oldsize * 2;
    t->shift--;
    if (t->cap < t->size)
        t->cap = t->size;
    t->slots = kv_xcalloc(t->cap, sizeof *t->slots);
    t->gen = 1;
    size_t mask = t->size - 1;
    for (size_t i = 0; i < oldsize; i++) {
        if (old[i].gen != oldgen)
            continue;
        size_t j = sym_home(t, old[i].k1, old[i].k2, old[i].len);
        while (t->slots[j].gen == t->gen)
            j = (j + 1) & mask;
        t->slots[j] = old[i];
        t->slots[j].gen = t->gen;
    }
    free(old);
}

static inline uint32_t sym_new(kv_symtab *t, struct kv_sym_slot *e, uint64_t k1, uint64_t k2,
                               uint32_t len)
{
    e->k1 = k1;
    e->k2 = k2;
    e->len = len;
    e->gen = t->gen;
    e->id = t->n++;
    return e->id;
}

static inline uint32_t sym_short(kv_symtab *t, uint64_t k1, uint64_t k2, uint32_t len)
{
    size_t mask = t->size - 1, j = sym_home(t, k1, k2, len);
    for (;;) {
        struct kv_sym_slot *e = &t->slots[j];
        if (e->gen != t->gen)
            return sym_new(t, e, k1, k2, len);
        if (e->k1 == k1 && e->k2 == k2 && e->len == len)
            return e->id;
        j = (j + 1) & mask;
    }
}

static uint32_t sym_long(kv_symtab *t, const char *p, uint32_t len)
{
    uint64_t h = 0x243F6A8885A308D3ull ^ len;
    size_t k = 0;
    for (; k + 8 <= len; k += 8) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    for (; k < len; k++)
        h = (h ^ (unsigned char)p[k]) * 0x100000001B3ull;
    h ^= h >> 29;
    size_t mask = t->size - 1, j = sym_home(t, h, 0, len);
    for (;;) {
        struct kv_sym_slot *e = &t->slots[j];
        if (e->gen != t->gen)
            return sym_new(t, e, h, (uint64_t)(uintptr_t)p, len);
        if (e->k1 == h && e->len == len &&
            memcmp((const char *)(uintptr_t)e->k2, p, len) == 0)
            return e->id;
        j = (j + 1) & mask;
    }
}

/* 16 bytes 0xFF then 16 bytes 0: the 8 bytes at (16 - len) are the mask of
 * a token's first word, those at (24 - len) the mask of its second word,
 * whatever the byte order. */
static const unsigned char ones[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

void kv_symtab_ids(kv_symtab *tab, const char *t, size_t tn, const kv_span *spans,
                   size_t count, uint32_t *ids)
{
    for (size_t i = 0; i < count; i++) {
        if (((size_t)tab->n + 1) * 2 > tab->size)
            sym_grow(tab);
        size_t a = spans[i].off;
        uint32_t len = spans[i].len;
        if (len > SHORT_MAX) {
            ids[i] = sym_long(tab, t + a, len);
            continue;
        }
        uint64_t w1, w2, m1, m2;
        if (a + 16 <= tn) {
            memcpy(&w1, t + a, 8);
            memcpy(&w2, t + a + 8, 8);
        } else if (tn >= 16) {
            /* near the end: the 16 bytes that end the text, from the
             * token's first byte on (the rest is masked off below) */
            unsigned char b[32] = {0};
            memcpy(b, t + tn - 16, 16);
            size_t d = a - (tn - 16);
            memcpy(&w1, b + d, 8);
            memcpy(&w2, b + d + 8, 8);
        } else {
            unsigned char b[16] = {0};
            for (uint32_t k = 0; k < len; k++)
                b[k] = (unsigned char)t[a + k];
            memcpy(&w1, b, 8);
            memcpy(&w2, b + 8, 8);
        }
        memcpy(&m1, ones + 16 - len, 8);
        memcpy(&m2, ones + 24 - len, 8);
        ids[i] = sym_short(tab, w1 & m1, w2 & m2, len);
    }
}
