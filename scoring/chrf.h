/*
 * chrf.h — chrF and chrF++ (Popović 2015, 2017) exactly as sacreBLEU 2.6.0
 * computes them (`CHRF(...).corpus_score` / `.sentence_score`): character
 * n-grams of orders 1..char_order over the text with all whitespace removed
 * (unless `whitespace`), plus word n-grams of orders 1..word_order (chrF++)
 * over Python-split words with one leading or trailing ASCII punctuation
 * character split off; beta-weighted F-score of the precision and recall
 * averaged over the orders (or, with eps_smoothing, the average of per-order
 * F-scores with 1e-16 for undefined values). With several references, each
 * segment uses the reference with the best segment F-score (first on ties).
 *
 * Character n-grams run over Unicode code points: a Hangul syllable is one
 * character in NFC and 2–3 in NFD, which is why the text layer normalizes.
 */
#ifndef KOEVAL_CHRF_H
#define KOEVAL_CHRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/buf.h"

#define KV_CHRF_MAX_ORDER 16 /* char_order + word_order */

typedef struct kv_chrf_opts {
    int char_order;     /* 1..; sacreBLEU default 6 */
    int word_order;     /* 0 = chrF, 2 = chrF++ */
    double beta;        /* recall weight; default 2 */
    bool lowercase;     /* Python str.lower() first */
    bool whitespace;    /* keep whitespace as characters */
    bool eps_smoothing; /* chrF++.py / NLTK style averaging */
} kv_chrf_opts;

/* Defaults: char_order 6, word_order 0, beta 2, everything else off. */
kv_chrf_opts kv_chrf_defaults(void);

/* Sufficient statistics: [hyp, ref, match] per order, char orders first
 * then word orders (sacreBLEU's layout). Summable over segments. */
typedef struct kv_chrf_stats {
    uint64_t v[3 * KV_CHRF_MAX_ORDER];
} kv_chrf_stats;

typedef struct kv_chrf kv_chrf;

/* Creates a scorer with scratch buffers (one per thread). Options are
 * copied; char_order + word_order must be 1..KV_CHRF_MAX_ORDER. Returns NULL
 * only for invalid orders. */
kv_chrf *kv_chrf_new(const kv_chrf_opts *o);
void kv_chrf_free(kv_chrf *c);

/* Statistics of one segment (best reference chosen as above). NULL
 * references are absent; at least one must be present. Returns 0, or -1 with
 * err set. */
int kv_chrf_segment(kv_chrf *c, const char *hyp, size_t hyp_len, const char *const *refs,
                    const size_t *ref_lens, size_t n_refs, kv_chrf_stats *out, char *err,
                    size_t errlen);

/* acc += s. */
void kv_chrf_stats_add(kv_chrf_stats *acc, const kv_chrf_stats *s, int n_orders);

/* Score 0–100 from statistics (sacreBLEU CHRF._compute_f_score). */
double kv_chrf_compute(const kv_chrf_opts *o, const kv_chrf_stats *s);

/* Metric name: "chrF2", "chrF2++" (one '+' per word order, as sacreBLEU). */
void kv_chrf_name(const kv_chrf_opts *o, char *dst, size_t dstlen);

/* Signature, e.g. "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|norm:nfc|v:0.1.0"
 * (eff:no means eps_smoothing). nrefs < 0 writes "var". */
void kv_chrf_signature(const kv_chrf_opts *o, int nrefs, const char *norm, char *dst,
                       size_t dstlen);

#endif
