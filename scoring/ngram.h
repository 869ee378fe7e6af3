/*
 * ngram.h — exact n-gram counting for several references (BLEU's general
 * path; one reference goes through scoring/trie.h), and token interning
 * (TER). An n-gram is a run of uint32 symbols: code points for character
 * n-grams, interned token ids for word n-grams.
 */
#ifndef KOEVAL_NGRAM_H
#define KOEVAL_NGRAM_H

#include <stddef.h>
#include <stdint.h>

/*
 * kv_gram_counter — matching n-gram counts between one hypothesis and one
 * or more references (BLEU; clipping is the maximum count over references).
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
    size_t cap;      /* slots allocated */
    size_t used;     /* slots in use this segment: a power of two <= cap, sized to
                        the segment so its probes stay in cache */
    uint32_t next_id;
    uint32_t gen;
} kv_interner;

/* Starts a new segment expecting about `expected` distinct tokens. */
void kv_interner_reset(kv_interner *in, size_t expected);
uint32_t kv_interner_id(kv_interner *in, const char *s, size_t n);
void kv_interner_free(kv_interner *in);

#endif
