/*
 * consistency.h — repeated-run consistency of one (model, item, language):
 * the same prompt sent R times (DESIGN.md "consistency"). Temperature 0 does
 * not make a model deterministic (B30, ollama/ollama#586), so agreement
 * between repeats is measured, not assumed.
 *
 * Measures, for R >= 2 repeats:
 *   - on the raw answers, NFC-normalized (kv_normalize, KV_NORM_NFC; nothing
 *     else — no case folding, no whitespace collapsing), compared byte for
 *     byte: the number of distinct outputs, modal agreement and pairwise
 *     agreement (definitions below), and self-chrF;
 *   - on the extracted answers (optional; NFC-normalized too, and a NULL
 *     entry, "no answer", is one value of its own, "none"): the number of
 *     distinct answers, modal and pairwise agreement, and the answer flip rate;
 *   - on the item scores (optional, 0–100): mean, population standard
 *     deviation, the number of correct repeats, the correctness flip rate,
 *     pass@k and pass^k.
 *
 * Definitions (R repeats in the order they were made, repeat index 0..R-1;
 * for a multiset of values with class sizes m_1..m_d):
 *   modal agreement    = max_j m_j / R                          (0–1)
 *   pairwise agreement = sum_j C(m_j, 2) / C(R, 2)              (0–1)
 *   flip rate          = #{ i in 0..R-2 : v_i != v_(i+1) } / (R - 1)   (0–1)
 *                        over consecutive repeats in repeat order, where v is
 *                        the extracted answer ("answer flip rate") or the
 *                        correctness bit ("correct flip rate"). It depends on
 *                        the order, unlike the agreements: it is the chance
 *                        that the next call changes its mind.
 *   self-chrF          = mean over ordered pairs (i, j), i != j, of the sentence
 *                        chrF2 (scoring/chrf.h defaults: char order 6, word
 *                        order 0, beta 2) of repeat i as hypothesis against
 *                        repeat j as the only reference, on the NFC text.
 *                        chrF is asymmetric (beta weighs recall), hence both
 *                        orders; R(R-1) pairs; 0–100.
 *   score sd           = population standard deviation sqrt(sum (s_i - mean)^2 / R)
 *                        (divisor R, not R-1: the R repeats are the whole
 *                        population of interest, and R is often 2–5), 0–100 units.
 *   correct            = score >= correct_threshold (default 100: "scored 100",
 *                        which is what exact match / mcq / math give a right
 *                        answer); c = number of correct repeats.
 *   pass@k             = 1 - C(R-c, k) / C(R, k), the unbiased estimator of
 *                        Chen et al. 2021 (Codex, "Evaluating Large Language
 *                        Models Trained on Code"): at least one of k draws
 *                        without replacement is correct.
 *   pass^k             = C(c, k) / C(R, k) (Yao et al. 2024, tau-bench): all k
 *                        draws are correct.
 *
 * B30 exactly: ["정답은 B입니다." ×3, "B가 정답입니다.", "정답은 C입니다."] →
 * distinct raw 3, modal raw 0.6, pairwise raw 3/10 = 0.3; answers
 * [B,B,B,B,C] → modal 0.8, pairwise 6/10 = 0.6.
 *
 * Pure: no I/O, no globals. A kv_consistency scorer holds a chrF scorer, a
 * normalizer and scratch space; one per thread.
 */
#ifndef KOEVAL_CONSISTENCY_H
#define KOEVAL_CONSISTENCY_H

#include <stdbool.h>
#include <stddef.h>

/* Error codes (negative), returned by kv_consistency_item. */
#define KV_CONS_OK 0
#define KV_CONS_ERR_REPEATS (-1) /* fewer than 2 repeats, or raw == NULL */
#define KV_CONS_ERR_SCORE (-2)   /* a score outside 0–100 or NaN */
#define KV_CONS_ERR_TEXT (-3)    /* normalization (ICU) or chrF failed */
#define KV_CONS_ERR_K (-4)       /* k > R */

typedef struct kv_consistency_opts {
    double correct_threshold; /* a repeat is correct when score >= this; 0–100, default 100 */
    size_t k;                 /* k of pass@k and pass^k; 0 = R (default): pass@R is
                                 "some repeat right", pass^R "every repeat right" */
    bool self_chrf;           /* compute self-chrF (R(R-1) chrF segments); default true */
} kv_consistency_opts;

/* Defaults: correct_threshold 100, k 0 (= R), self_chrf true. */
kv_consistency_opts kv_consistency_defaults(void);

/* One (model, item, language) over R repeats. Fields whose input was not
 * given are 0 and their has_* flag is false. */
typedef struct kv_consistency {
    size_t repeats; /* R */

    size_t distinct_raw; /* distinct NFC raw outputs, 1..R */
    double modal_raw;    /* 0–1 */
    double pairwise_raw; /* 0–1 */
    double self_chrf;    /* 0–100; valid when has_self_chrf */
    bool has_self_chrf;

    bool has_answers;
    size_t distinct_answers; /* "none" counts as one value */
    size_t no_answer;        /* repeats with no extracted answer */
    double modal_answer;     /* 0–1 */
    double pairwise_answer;  /* 0–1 */
    double answer_flip_rate; /* 0–1 */

    bool has_scores;
    double score_mean;        /* 0–100 */
    double score_sd;          /* population sd, 0–100 units */
    size_t n_correct;         /* c */
    double correct_flip_rate; /* 0–1 */
    size_t k;                 /* the k used below */
    double pass_at_k;         /* 0–1 */
    double pass_hat_k;        /* pass^k, 0–1 */
} kv_consistency;

typedef struct kv_consistency_scorer kv_consistency_scorer;

/* Creates a scorer; options are copied (NULL = defaults). Never returns NULL
 * (aborts on out-of-memory). */
kv_consistency_scorer *kv_consistency_new(const kv_consistency_opts *o);
void kv_consistency_free(kv_consistency_scorer *c);

/* Consistency of R repeats.
 *   raw[r], raw_lens[r]: the R answers as returned (UTF-8; ill-formed bytes
 *       are replaced by U+FFFD before normalizing). raw_lens may be NULL, then
 *       raw[r] must be NUL-terminated. A NULL raw[r] is an empty answer.
 *   answers[r]: NUL-terminated extracted answers, NULL = no answer; the whole
 *       array may be NULL (not an extraction task).
 *   scores[r]: item scores 0–100; the array may be NULL.
 * Nothing is retained. Returns KV_CONS_OK or a KV_CONS_ERR_* code with a
 * message in err (caller-owned, may be NULL). */
int kv_consistency_item(kv_consistency_scorer *c, size_t R, const char *const *raw,
                        const size_t *raw_lens, const char *const *answers, const double *scores,
                        kv_consistency *out, char *err, size_t errlen);

/* Agreement of R values given as class ids (class[r] in 0..R-1; equal ids =
 * equal values): modal and pairwise agreement as defined above, and the
 * number of distinct classes. R >= 2. Exposed for callers that compare
 * values of their own kind. */
void kv_agreement(const size_t *cls, size_t R, size_t *distinct, double *modal, double *pairwise);

/* pass@k = 1 - C(n-c, k)/C(n, k) and pass^k = C(c, k)/C(n, k), computed as
 * products of ratios (no factorials, exact for small n). NaN when k == 0,
 * k > n or c > n. */
double kv_pass_at_k(size_t n, size_t c, size_t k);
double kv_pass_hat_k(size_t n, size_t c, size_t k);

/* Means over many items, one accumulator per (model, language) group (or any
 * grouping the caller chooses). Each field is averaged over the items that
 * have it (items without extracted answers do not dilute answer agreement):
 * modal/pairwise raw and distinct_raw over `items`, self_chrf over
 * `with_chrf`, answer fields over `with_answers`, score fields over
 * `with_scores`. Units as in kv_consistency; distinct_raw is a mean count. */
typedef struct kv_consistency_mean {
    size_t items, with_chrf, with_answers, with_scores;
    double distinct_raw, modal_raw, pairwise_raw, self_chrf;
    double modal_answer, pairwise_answer, answer_flip_rate;
    double score_sd, correct_flip_rate, pass_at_k, pass_hat_k;
} kv_consistency_mean;

/* Running sums in the same shape (the counts, and each field summed). Start
 * from {0}. */
typedef struct kv_consistency_sum {
    kv_consistency_mean total;
} kv_consistency_sum;

/* sum += item. */
void kv_consistency_sum_add(kv_consistency_sum *sum, const kv_consistency *item);

/* The means (0 for a field no item has). */
void kv_consistency_sum_mean(const kv_consistency_sum *sum, kv_consistency_mean *out);

/* A table of accumulators keyed by (model, language), in first-seen order.
 * Keys are copied. Never NULL (aborts on out-of-memory). */
typedef struct kv_consistency_groups kv_consistency_groups;

kv_consistency_groups *kv_consistency_groups_new(void);
void kv_consistency_groups_free(kv_consistency_groups *g);

/* Adds one item's consistency to the (model, lang) group. */
void kv_consistency_groups_add(kv_consistency_groups *g, const char *model, const char *lang,
                               const kv_consistency *item);

size_t kv_consistency_groups_count(const kv_consistency_groups *g);

/* Group i (0..count-1): its keys (owned by the table, valid until it is
 * freed) and its means. */
void kv_consistency_groups_get(const kv_consistency_groups *g, size_t i, const char **model,
                               const char **lang, kv_consistency_mean *out);

#endif
