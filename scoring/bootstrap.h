/*
 * bootstrap.h — gap statistics: is Korean really behind the pivot language,
 * or is the difference noise (DESIGN.md "gap")? Paired bootstrap resampling
 * (Efron & Tibshirani 1993; Koehn 2004 for MT) over items or segments.
 *
 * Two entry points:
 *   kv_gap_paired  per-item values x_i (e.g. the Korean score of item i) and
 *                  y_i (the pivot's score of the same item): the mean
 *                  difference mean(x - y), its 95% bootstrap interval,
 *                  win/tie/loss counts, flagged when the interval excludes 0.
 *   kv_paired_bs   corpus-level metrics (BLEU, chrF) as sacreBLEU's paired
 *                  bootstrap test (`--paired-bs`, sacrebleu/significance.py
 *                  `_paired_bs_test`): per-segment sufficient statistics of
 *                  two systems, re-summed over the same resampled segment
 *                  indices for both, scored by a callback.
 *
 * Resampling. Resample b (0..B-1) draws n indices j_(b,0..n-1) uniformly from
 * 0..n-1 with replacement, in that order, from one generator seeded once per
 * call; both systems (or both sides x and y) use the same indices. The
 * generator is SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable
 * pseudorandom number generators"; the reference constants in Vigna's
 * splitmix64.c): state += 0x9E3779B97F4A7C15, then the output mix
 * z = (z ^ z>>30)·0xBF58476D1CE4E5B9, z = (z ^ z>>27)·0x94D049BB133111EB,
 * z ^ z>>31. An index below n is drawn without modulo bias by rejection:
 * draws r < (2^64 - n) mod n are discarded, then j = r mod n. Integer
 * arithmetic only, so the same seed gives the same resamples on every
 * machine. The two entry points draw identically: with the same seed, n and
 * B they resample the same items.
 *
 * Interval. The B resampled statistics are sorted and the 95% percentile
 * interval is [s(k), s(B-1-k)] with k = floor(B/40) (0-based order
 * statistics; s(25) and s(974) for B = 1000). These are the order statistics
 * sacreBLEU's `estimate_ci` uses. Differences from sacreBLEU 2.x:
 *   - sacreBLEU reports the bootstrap mean ± (s(B-1-k) - s(k))/2, an interval
 *     re-centred on the mean; koeval reports the percentile bounds themselves
 *     (lo, hi), which need not be symmetric, and half_width for printing the
 *     sacreBLEU way;
 *   - sacreBLEU gives a CI per system and a p-value for the difference
 *     (|Δ| of each resample centred on their mean, compared with the
 *     observed |Δ|); koeval gives a CI for the difference and flags it when
 *     that excludes 0, and does not compute the p-value;
 *   - sacreBLEU draws with NumPy's PCG64 (`default_rng(12345)`, `choice`),
 *     koeval with SplitMix64: the default seed is also 12345, but the
 *     resamples, hence the bounds, differ slightly from sacreBLEU's;
 *   - sacreBLEU sums statistics as float32; koeval sums them exactly.
 *
 * Pure: no I/O, no globals; memory is O(B) doubles plus two accumulators.
 */
#ifndef KOEVAL_BOOTSTRAP_H
#define KOEVAL_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scoring/bleu.h"
#include "scoring/chrf.h"

/* Error codes (negative). */
#define KV_BS_OK 0
#define KV_BS_ERR_EMPTY (-1) /* no items / segments */
#define KV_BS_ERR_VALUE (-2) /* a NaN or infinite value */
#define KV_BS_ERR_ARG (-3)   /* NULL input, stats_size 0, missing callback */

/* SplitMix64. The state is the whole generator; copy it to fork a stream. */
typedef struct kv_rng {
    uint64_t state;
} kv_rng;

void kv_rng_seed(kv_rng *r, uint64_t seed); /* state = seed */
uint64_t kv_rng_next(kv_rng *r);            /* next 64-bit output */
size_t kv_rng_below(kv_rng *r, size_t n);   /* uniform in 0..n-1, n >= 1 */

typedef struct kv_bootstrap_opts {
    size_t resamples; /* B; 0 = 1000 (sacreBLEU's default for paired-bs) */
    uint64_t seed;    /* default 12345 (sacreBLEU's SACREBLEU_SEED default) */
    double tie_tol;   /* kv_gap_paired: |x_i - y_i| <= tie_tol is a tie; default 0 */
} kv_bootstrap_opts;

kv_bootstrap_opts kv_bootstrap_defaults(void);

/* Sorts values[0..B) ascending (in place) and writes the 95% percentile
 * bounds [s(k), s(B-1-k)], k = floor(B/40). B >= 1. */
void kv_percentile_ci(double *values, size_t B, double *lo, double *hi);

/* Paired per-item gap. Units are the caller's (scores 0–100 stay 0–100). */
typedef struct kv_gap {
    size_t n;                  /* items */
    double mean_x, mean_y;     /* observed means */
    double mean_diff;          /* observed mean of x_i - y_i */
    double boot_mean;          /* mean of the B resampled mean differences */
    double lo, hi;             /* 95% percentile interval of the mean difference */
    size_t wins, ties, losses; /* x_i - y_i > tie_tol, |…| <= tie_tol, < -tie_tol */
    bool flagged;              /* lo > 0 or hi < 0: the interval excludes 0 */
    size_t resamples;          /* B used */
    uint64_t seed;             /* seed used */
} kv_gap;

/* x[0..n) and y[0..n): the paired values of the same n items (items missing
 * on either side are dropped by the caller). o NULL = defaults. Returns
 * KV_BS_OK, or an error with err set (caller-owned, may be NULL). Nothing is
 * retained. With n = 1 the interval is the single difference. */
int kv_gap_paired(const double *x, const double *y, size_t n, const kv_bootstrap_opts *o,
                  kv_gap *out, char *err, size_t errlen);

/* A corpus-level metric seen through its per-segment sufficient statistics.
 * Statistics are opaque records of stats_size bytes; a record of all zero
 * bytes must be the empty sum (true of kv_bleu_stats and kv_chrf_stats). */
typedef struct kv_bs_metric {
    size_t stats_size;
    void (*add)(void *acc, const void *seg, const void *ctx); /* acc += seg */
    double (*score)(const void *acc, const void *ctx);        /* score of summed stats */
    const void *ctx;                                          /* passed through */
} kv_bs_metric;

/* BLEU over kv_bleu_stats records (kv_bleu_stats_add, kv_bleu_compute's
 * score, 0–100). `o` is borrowed: it must outlive the metric's use. */
kv_bs_metric kv_bs_metric_bleu(const kv_bleu_opts *o);

/* chrF / chrF++ over kv_chrf_stats records (kv_chrf_compute, 0–100). `o` is
 * borrowed. */
kv_bs_metric kv_bs_metric_chrf(const kv_chrf_opts *o);

/* One system's score under resampling, in the metric's units. */
typedef struct kv_bs_system {
    double score;      /* on the whole corpus (the real score) */
    double mean;       /* mean of the B resampled scores (sacreBLEU's "mean") */
    double lo, hi;     /* 95% percentile interval */
    double half_width; /* (hi - lo) / 2: sacreBLEU's "± ci" */
} kv_bs_system;

typedef struct kv_paired_bs_result {
    size_t n;                /* segments */
    kv_bs_system x, y;       /* the two systems */
    double diff;             /* x.score - y.score */
    double diff_mean;        /* mean over resamples of (score_x - score_y) */
    double diff_lo, diff_hi; /* 95% percentile interval of the difference */
    bool flagged;            /* the difference's interval excludes 0 */
    size_t resamples;
    uint64_t seed;
} kv_paired_bs_result;

/* Paired bootstrap over n segments: x_stats and y_stats are n records each
 * (record i of both systems is segment i), laid out contiguously,
 * m->stats_size bytes apart. Each resample sums the records at the same
 * drawn indices for both systems and scores both. Returns KV_BS_OK or an
 * error with err set. Nothing is retained. */
int kv_paired_bs(const kv_bs_metric *m, const void *x_stats, const void *y_stats, size_t n,
                 const kv_bootstrap_opts *o, kv_paired_bs_result *out, char *err, size_t errlen);

#endif
