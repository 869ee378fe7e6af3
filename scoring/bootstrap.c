/*
 * bootstrap.c — paired bootstrap for gaps and corpus metrics (see
 * bootstrap.h for the generator, the draw order and the interval).
 */
#include "scoring/bootstrap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/buf.h"

#define DEFAULT_RESAMPLES 1000
#define DEFAULT_SEED 12345

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void kv_rng_seed(kv_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t kv_rng_next(kv_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

size_t kv_rng_below(kv_rng *r, size_t n)
{
    uint64_t m = (uint64_t)n;
    /* the lowest (2^64 mod m) outputs would make small residues likelier */
    uint64_t threshold = (0 - m) % m;
    for (;;) {
        uint64_t v = kv_rng_next(r);
        if (v >= threshold)
            return (size_t)(v % m);
    }
}

kv_bootstrap_opts kv_bootstrap_defaults(void)
{
    kv_bootstrap_opts o = {.resamples = DEFAULT_RESAMPLES, .seed = DEFAULT_SEED, .tie_tol = 0};
    return o;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void kv_percentile_ci(double *values, size_t B, double *lo, double *hi)
{
    qsort(values, B, sizeof *values, cmp_double);
    size_t k = B / 40;
    *lo = values[k];
    *hi = values[B - 1 - k];
}

static kv_bootstrap_opts resolve(const kv_bootstrap_opts *o)
{
    kv_bootstrap_opts r = o ? *o : kv_bootstrap_defaults();
    if (r.resamples == 0)
        r.resamples = DEFAULT_RESAMPLES;
    return r;
}

int kv_gap_paired(const double *x, const double *y, size_t n, const kv_bootstrap_opts *o,
                  kv_gap *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!x || !y) {
        seterr(err, errlen, "gap: no values");
        return KV_BS_ERR_ARG;
    }
    if (n == 0) {
        seterr(err, errlen, "gap: no paired items");
        return KV_BS_ERR_EMPTY;
    }
    kv_bootstrap_opts op = resolve(o);
    double *d = kv_xmalloc(n * sizeof *d);
    double sx = 0, sy = 0, sd = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            seterr(err, errlen, "gap: item %zu has a non-finite value", i);
            free(d);
            return KV_BS_ERR_VALUE;
        }
        d[i] = x[i] - y[i];
        sx += x[i];
        sy += y[i];
        sd += d[i];
        if (d[i] > op.tie_tol)
            out->wins++;
        else if (d[i] < -op.tie_tol)
            out->losses++;
        else
            out->ties++;
    }
    out->n = n;
    out->mean_x = sx / (double)n;
    out->mean_y = sy / (double)n;
    out->mean_diff = sd / (double)n;

    size_t B = op.resamples;
    double *means = kv_xmalloc(B * sizeof *means);
    kv_rng rng;
    kv_rng_seed(&rng, op.seed);
    double total = 0;
    for (size_t b = 0; b < B; b++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += d[kv_rng_below(&rng, n)];
        means[b] = s / (double)n;
        total += means[b];
    }
    out->boot_mean = total / (double)B;
    kv_percentile_ci(means, B, &out->lo, &out->hi);
    out->flagged = out->lo > 0 || out->hi < 0;
    out->resamples = B;
    out->seed = op.seed;
    free(means);
    free(d);
    return KV_BS_OK;
}

static void bleu_add(void *acc, const void *seg, const void *ctx)
{
    kv_bleu_stats_add(acc, seg);
}

static double bleu_score(const void *acc, const void *ctx)
{
    kv_bleu_score s;
    kv_bleu_compute(ctx, acc, &s);
    return s.score;
}

kv_bs_metric kv_bs_metric_bleu(const kv_bleu_opts *o)
{
    kv_bs_metric m = {sizeof(kv_bleu_stats), bleu_add, bleu_score, o};
    return m;
}

static void chrf_add(void *acc, const void *seg, const void *ctx)
{
    const kv_chrf_opts *o = ctx;
    kv_chrf_stats_add(acc, seg, o->char_order + o->word_order);
}

static double chrf_score(const void *acc, const void *ctx)
{
    return kv_chrf_compute(ctx, acc);
}

kv_bs_metric kv_bs_metric_chrf(const kv_chrf_opts *o)
{
    kv_bs_metric m = {sizeof(kv_chrf_stats), chrf_add, chrf_score, o};
    return m;
}

static void system_summary(const kv_bs_metric *m, const char *stats, size_t n, double *scores,
                           size_t B, void *acc, kv_bs_system *out)
{
    memset(acc, 0, m->stats_size);
    for (size_t i = 0; i < n; i++)
        m->add(acc, stats + i * m->stats_size, m->ctx);
    out->score = m->score(acc, m->ctx);
    double total = 0;
    for (size_t b = 0; b < B; b++)
        total += scores[b];
    out->mean = total / (double)B;
    kv_percentile_ci(scores, B, &out->lo, &out->hi);
    out->half_width = (out->hi - out->lo) / 2;
}

int kv_paired_bs(const kv_bs_metric *m, const void *x_stats, const void *y_stats, size_t n,
                 const kv_bootstrap_opts *o, kv_paired_bs_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!m || !m->add || !m->score || m->stats_size == 0 || !x_stats || !y_stats) {
        seterr(err, errlen, "paired bootstrap: missing metric callbacks or statistics");
        return KV_BS_ERR_ARG;
    }
    if (n == 0) {
        seterr(err, errlen, "paired bootstrap: no segments");
        return KV_BS_ERR_EMPTY;
    }
    kv_bootstrap_opts op = resolve(o);
    size_t B = op.resamples, sz = m->stats_size;
    const char *xs = x_stats, *ys = y_stats;
    void *ax = kv_xmalloc(sz), *ay = kv_xmalloc(sz);
    double *sx = kv_xmalloc(B * sizeof *sx);
    double *sy = kv_xmalloc(B * sizeof *sy);
    double *sd = kv_xmalloc(B * sizeof *sd);
    kv_rng rng;
    kv_rng_seed(&rng, op.seed);
    double dtotal = 0;
    for (size_t b = 0; b < B; b++) {
        memset(ax, 0, sz);
        memset(ay, 0, sz);
        for (size_t i = 0; i < n; i++) {
            size_t j = kv_rng_below(&rng, n);
            m->add(ax, xs + j * sz, m->ctx);
            m->add(ay, ys + j * sz, m->ctx);
        }
        sx[b] = m->score(ax, m->ctx);
        sy[b] = m->score(ay, m->ctx);
        sd[b] = sx[b] - sy[b];
        dtotal += sd[b];
    }
    out->n = n;
    system_summary(m, xs, n, sx, B, ax, &out->x);
    system_summary(m, ys, n, sy, B, ay, &out->y);
    out->diff = out->x.score - out->y.score;
    out->diff_mean = dtotal / (double)B;
    kv_percentile_ci(sd, B, &out->diff_lo, &out->diff_hi);
    out->flagged = out->diff_lo > 0 || out->diff_hi < 0;
    out->resamples = B;
    out->seed = op.seed;
    free(ax);
    free(ay);
    free(sx);
    free(sy);
    free(sd);
    return KV_BS_OK;
}
