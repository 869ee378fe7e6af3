/*
 * symtab.h — per-segment dense ids for tokens (BLEU's word n-grams).
 *
 * Equal token bytes get equal ids, numbered 0, 1, 2 … in order of first
 * appearance, until the next kv_symtab_reset; so when the references are
 * interned before the hypothesis, the ids below the count taken after the
 * references are exactly the tokens some reference has. A token of up to 16
 * bytes is identified by its bytes alone (two zero-padded words and its
 * length), loaded without branching on its length; a longer one by a hash,
 * confirmed byte by byte.
 */
#ifndef KOEVAL_SYMTAB_H
#define KOEVAL_SYMTAB_H

#include <stddef.h>
#include <stdint.h>

#include "src/text.h"

typedef struct kv_symtab {
    struct kv_sym_slot *slots;
    size_t cap;     /* slots allocated */
    size_t size;    /* slots in use this segment: a power of two <= cap */
    unsigned shift; /* 64 - log2(size) */
    uint32_t gen;   /* a slot belongs to this segment when its gen is this */
    uint32_t n;     /* ids given out in this segment */
} kv_symtab;

/* Starts a segment expecting about `expected` distinct tokens (the table
 * grows past that when needed). */
void kv_symtab_reset(kv_symtab *t, size_t expected);

/* ids[i] = the id of the token t[spans[i].off .. +spans[i].len), i < count
 * (every len >= 1). The bytes of tokens longer than 16 bytes are read again
 * by later calls, so t must stay unchanged until the next reset. */
void kv_symtab_ids(kv_symtab *tab, const char *t, size_t tn, const kv_span *spans,
                   size_t count, uint32_t *ids);

/* Ids given out since the last reset. */
static inline uint32_t kv_symtab_count(const kv_symtab *t)
{
    return t->n;
}

void kv_symtab_free(kv_symtab *t);

#endif
