/*
 * bleu.h — BLEU (Papineni et al., 2002) exactly as sacreBLEU 2.6.0 computes
 * it: `BLEU(...).corpus_score` and `.sentence_score`, smoothing exp, floor,
 * add-k and none, effective order, n-gram orders 1..KV_BLEU_MAX_ORDER,
 * several references and a variable number of them.
 *
 * Corpus BLEU is streamed: score each segment into a kv_bleu_stats (the
 * sufficient statistics), add them up with kv_bleu_stats_add, and compute the
 * score once at the end. Memory is bounded by the longest segment.
 */
#ifndef KOEVAL_BLEU_H
#define KOEVAL_BLEU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizers/tokenizer.h"

#define KV_BLEU_MAX_ORDER 9

typedef enum kv_bleu_smooth {
    KV_SMOOTH_EXP = 0, /* NIST geometric sequence (mteval-v13a); sacreBLEU's default */
    KV_SMOOTH_FLOOR,   /* zero-match precision = smooth_value / total (default 0.1) */
    KV_SMOOTH_ADD_K,   /* orders >= 2: add smooth_value (default 1) to matches and totals */
    KV_SMOOTH_NONE,    /* no smoothing: any zero precision gives a score of ~0 */
} kv_bleu_smooth;

typedef struct kv_bleu_opts {
    const kv_tokenizer *tokenizer; /* NULL = "13a" */
    bool lowercase;                /* Python str.lower() before tokenizing */
    kv_bleu_smooth smooth;
    double smooth_value;           /* < 0 = the method's default */
    bool effective_order;          /* geometric mean over the orders reached */
    int max_order;                 /* 1..KV_BLEU_MAX_ORDER; 0 = 4 */
} kv_bleu_opts;

/* Sufficient statistics of one segment or of a whole corpus (sums). */
typedef struct kv_bleu_stats {
    uint64_t sys_len;                    /* hypothesis tokens */
    uint64_t ref_len;                    /* closest reference length (ties: shorter) */
    uint64_t correct[KV_BLEU_MAX_ORDER]; /* clipped n-gram matches per order */
    uint64_t total[KV_BLEU_MAX_ORDER];   /* hypothesis n-grams per order */
} kv_bleu_stats;

typedef struct kv_bleu_score {
    double score;                        /* 0–100 */
    double counts[KV_BLEU_MAX_ORDER];    /* matches as reported (add-k included) */
    double totals[KV_BLEU_MAX_ORDER];    /* totals as reported (add-k included) */
    double precisions[KV_BLEU_MAX_ORDER];/* 0–100 */
    double bp;                           /* brevity penalty, 0–1 */
    double ratio;                        /* sys_len / ref_len, 0 if ref_len = 0 */
    uint64_t sys_len, ref_len;
    int max_order;
} kv_bleu_score;

typedef struct kv_bleu kv_bleu;

/* Creates a scorer (holds scratch buffers; not thread-safe, one per thread).
 * The options are copied. Never returns NULL (aborts on out-of-memory). */
kv_bleu *kv_bleu_new(const kv_bleu_opts *o);
void kv_bleu_free(kv_bleu *b);

/* Statistics of one segment: hypothesis hyp[0..hyp_len) against refs[k]
 * (UTF-8, lengths in ref_lens). A NULL reference is absent (variable number
 * of references, as a None in sacreBLEU's reference streams); "" is a real,
 * empty reference. At least one reference must be present. Returns 0, or -1
 * with err set (tokenizer failure, no reference). */
int kv_bleu_segment(kv_bleu *b, const char *hyp, size_t hyp_len, const char *const *refs,
                    const size_t *ref_lens, size_t n_refs, kv_bleu_stats *out, char *err,
                    size_t errlen);

/* acc += s, order by order. */
void kv_bleu_stats_add(kv_bleu_stats *acc, const kv_bleu_stats *s);

/* The score from statistics, as sacreBLEU's BLEU.compute_bleu (including its
 * early 0.0 when no n-gram of any order matches, and log(0) := -9999999999). */
void kv_bleu_compute(const kv_bleu_opts *o, const kv_bleu_stats *s, kv_bleu_score *out);

/* The tokens BLEU sees for one segment (lowercase, rstrip, tokenizer),
 * appended to out joined by spaces: what `koeval tokenize` prints. */
int kv_bleu_preprocess(const kv_bleu_opts *o, const char *s, size_t n, kv_buf *out);

/* Writes the signature, e.g.
 * "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|norm:nfc|v:0.1.0".
 * nrefs < 0 writes "var" (a variable number of references); `norm` is the
 * text-layer fragment from kv_norm_signature. */
void kv_bleu_signature(const kv_bleu_opts *o, int nrefs, const char *norm, char *dst,
                       size_t dstlen);

/* Parses "exp", "floor", "add-k", "none". Returns 0 or -1. */
int kv_bleu_smooth_parse(const char *name, kv_bleu_smooth *out);

#endif
