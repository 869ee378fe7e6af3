/*
 * ngram.h — exact n-gram counting shared by BLEU, chrF and ROUGE.
 *
 * An n-gram is a run of `order` uint32 symbols (code points for character
 * n-grams, interned token ids for word n-grams) that stays owned by the
 * caller while the table is in use. The table is an open-addressing hash
 * table whose entries are compared symbol by symbol, so counts are exact;
 * starting a new segment (kv_ngt_reset) is O(1) thanks to a generation
 * stamp, which keeps per-segment cost proportional to the segment.
 */
#ifndef KOEVAL_NGRAM_H
#define KOEVAL_NGRAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct kv_ngram {
    const uint32_t *key; /* first symbol of the n-gram (caller's memory) */
    uint64_t hash;
    uint32_t order;      /* number of symbols */
    uint32_t gen;        /* entry is live when gen == table gen */
    uint32_t hyp;        /* count in the hypothesis */
    uint32_t ref;        /* count in the reference (max over references for BLEU) */
    uint32_t ref_cur;    /* count in the reference being added (see kv_ngt_add_ref) */
    uint32_t ref_stamp;  /* which reference ref_cur belongs to */
} kv_ngram;

typedef struct kv_ngram_table {
    kv_ngram *slots;
    size_t cap;   /* power of two */
    size_t live;  /* live entries in this generation */
    uint32_t gen;
} kv_ngram_table;

/* Starts a new, empty segment able to hold `expected` n-grams without
 * rehashing (it grows anyway if more arrive). */
void kv_ngt_reset(kv_ngram_table *t, size_t expected);

/* Finds the entry for key[0..order), inserting a zeroed one if absent.
 * `hash` must be kv_ngram_hash of the same symbols. The pointer is valid
 * until the next insertion. */
kv_ngram *kv_ngt_get(kv_ngram_table *t, const uint32_t *key, uint32_t order, uint64_t hash);

/* Releases the table's memory. */
void kv_ngt_free(kv_ngram_table *t);

/* Hash of a sequence extended by one symbol: start from KV_NGRAM_SEED and
 * fold symbols in order, so that all orders at one position share work. */
#define KV_NGRAM_SEED 0x9E3779B97F4A7C15ull
static inline uint64_t kv_ngram_hash_step(uint64_t h, uint32_t sym)
{
    h ^= sym + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 31);
}

/* Interns byte strings (tokens) to dense uint32 ids, per segment: equal
 * bytes give equal ids until the next kv_interner_reset. */
typedef struct kv_interner {
    struct kv_intern_slot *slots;
    size_t cap;
    uint32_t next_id;
    uint32_t gen;
} kv_interner;

void kv_interner_reset(kv_interner *in, size_t expected);
uint32_t kv_interner_id(kv_interner *in, const char *s, size_t n);
void kv_interner_free(kv_interner *in);

#endif
