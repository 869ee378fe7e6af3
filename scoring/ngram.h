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

/*
 * kv_gram_counter — the fast path for matching n-gram counts between one
 * hypothesis and one or more references (BLEU, chrF).
 *
 * Every n-gram gets an exact integer identity without comparing symbol runs:
 * the n-gram at position i is the pair (identity of its (n-1)-gram prefix,
 * its last symbol), packed into a 64-bit key, and its identity is the slot
 * it occupies. References are inserted in full; the hypothesis is only looked
 * up, and at each position it stops extending at the first n-gram that no
 * reference has (a longer one cannot be in any reference either), which is
 * what makes it cheap. The table is sized up front so slots never move.
 */
typedef struct kv_gram_slot {
    uint64_t key;       /* 0 = empty */
    uint32_t ref;       /* maximum count over the references added */
    uint32_t hyp;       /* hypothesis occurrences seen so far */
    uint32_t ref_cur;   /* count in the reference being added */
    uint32_t ref_stamp; /* which reference ref_cur belongs to (+1) */
} kv_gram_slot;

typedef struct kv_gram_counter {
    kv_gram_slot *slots;
    size_t cap;      /* power of two */
    unsigned shift;  /* 64 - log2(cap) */
    uint32_t *used;  /* slots filled in this segment, to clear them */
    size_t nused, used_cap;
    uint32_t stamp;  /* reference counter for ref_stamp */
} kv_gram_counter;

/* Starts a segment whose references hold at most `max_ref_grams` n-grams
 * in total (sum over references and orders). */
void kv_gc_begin(kv_gram_counter *gc, size_t max_ref_grams);

/* Adds one reference: n-grams of orders 1..N of seq[0..L). Per n-gram the
 * kept count is the maximum over the references added (sacreBLEU's clipping
 * for several references). If ref_counts is not NULL, ref_counts[n-1] += the
 * number of n-grams of order n in this reference. */
void kv_gc_add_ref(kv_gram_counter *gc, const uint32_t *seq, size_t L, int N,
                   uint64_t *ref_counts);

/* Looks the hypothesis up: matches[n-1] += its clipped matches of order n
 * (each occurrence beyond the reference count does not match). Hypothesis
 * totals are max(0, L - n + 1) and are not computed here. */
void kv_gc_match_hyp(kv_gram_counter *gc, const uint32_t *seq, size_t L, int N,
                     uint64_t *matches);

/* Empties the table for the next segment (cost proportional to what the
 * segment used). */
void kv_gc_end(kv_gram_counter *gc);

void kv_gc_free(kv_gram_counter *gc);

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
