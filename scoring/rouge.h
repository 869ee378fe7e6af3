/*
 * rouge.h — ROUGE-N, ROUGE-L and ROUGE-Lsum as rouge-score 0.1.2 computes
 * them (`RougeScorer.score(target, prediction)` and `score_multi`).
 *
 * Scores are in 0–1 (rouge-score's scale). The text is tokenized by the
 * tokenizer given in the options; rouge-score's own DefaultTokenizer is
 * "rouge" (optionally with KV_TOK_STEM), which deletes every non-ASCII letter,
 * so Korean needs "unicode" (or "whitespace").
 */
#ifndef KOEVAL_ROUGE_H
#define KOEVAL_ROUGE_H

#include <stddef.h>

#include "tokenizers/tokenizer.h"

/* A ROUGE variant: 1..9 for ROUGE-N, or one of the two LCS variants. */
typedef enum kv_rouge_type {
    KV_ROUGE_L = 100,    /* LCS over the whole token sequences */
    KV_ROUGE_LSUM = 101, /* summary-level LCS over "\n"-separated sentences */
} kv_rouge_type;

typedef struct kv_rouge_score {
    double precision; /* 0–1 */
    double recall;    /* 0–1 */
    double fmeasure;  /* 0–1, 2PR/(P+R), 0 when P+R = 0 */
} kv_rouge_score;

typedef struct kv_rouge_opts {
    const kv_tokenizer *tokenizer; /* NULL = "rouge" (rouge-score default) */
    int tokenizer_flags;           /* KV_TOK_STEM to stem as rouge-score */
} kv_rouge_opts;

/* Parses "rouge1".."rouge9", "rougeL", "rougeLsum". Returns the type as an
 * int (1..9 or a kv_rouge_type) or -1 when the name is unknown. */
int kv_rouge_parse_type(const char *name);

/* Writes the canonical name of `type` ("rouge2", "rougeLsum"). */
const char *kv_rouge_type_name(int type);

/* Scores `prediction` against one `target` (reference first, as
 * rouge-score). Returns 0, or -1 with err set (tokenizer failure, or a
 * segment pair over the LCS limits of KV_ROUGE_MAX_LCS_CELLS). `err` is a caller-owned buffer
 * of `errlen` bytes (may be NULL when errlen is 0) that receives a one-line
 * message; `out` is written only on success. Texts are UTF-8 with explicit
 * byte lengths and need no NUL terminator. */
int kv_rouge_score_one(const kv_rouge_opts *o, int type, const char *target, size_t target_len,
                       const char *prediction, size_t prediction_len, kv_rouge_score *out,
                       char *err, size_t errlen);

/* score_multi: scores every target and keeps the one with the highest
 * fmeasure (the first on ties, as numpy.argmax). n_targets >= 1. */
int kv_rouge_score_multi(const kv_rouge_opts *o, int type, const char *const *targets,
                         const size_t *target_lens, size_t n_targets, const char *prediction,
                         size_t prediction_len, kv_rouge_score *out, char *err, size_t errlen);

/* A reusable scorer: the options plus scratch buffers (token table, id
 * arrays, LCS bit vectors) kept between segments, so that scoring a segment
 * allocates nothing once the buffers have grown. One per thread; never NULL
 * (aborts on out-of-memory). The options are copied. */
typedef struct kv_rouge kv_rouge;

kv_rouge *kv_rouge_new(const kv_rouge_opts *o);
void kv_rouge_free(kv_rouge *r);

/* kv_rouge_score_multi with the scorer's options and buffers (the same
 * result, bit for bit). The prediction is tokenized once for all targets. */
int kv_rouge_segment(kv_rouge *r, int type, const char *const *targets, const size_t *target_lens,
                     size_t n_targets, const char *prediction, size_t prediction_len,
                     kv_rouge_score *out, char *err, size_t errlen);

/* Upper bound on LCS work for one segment pair: a longer pair is refused
 * with an error instead of exhausting memory or time. rougeLsum checks the
 * product of both sides' total token counts, which bounds the sum of its
 * per-sentence-pair tables (200 million cells). rougeL builds no table: its
 * bit-parallel LCS takes 64 tokens of the shorter side per step, so it
 * checks ceil(shorter / 64) × longer steps against the same bound (12.8
 * billion token pairs). ROUGE-N builds no table and is not limited. */
#define KV_ROUGE_MAX_LCS_CELLS ((size_t)200 * 1000 * 1000)

#endif
