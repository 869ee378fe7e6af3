/*
 * consistency.c — repeated-run consistency (see consistency.h for the
 * definitions). R is small (a handful of repeats), so equal values are found
 * by comparing every pair: O(R^2) comparisons, no hashing.
 */
#include "scoring/consistency.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/chrf.h"
#include "src/buf.h"
#include "src/text.h"

struct kv_consistency_scorer {
    kv_consistency_opts o;
    kv_chrf_opts co;
    kv_chrf *chrf;
    kv_normalizer *nz;
    kv_buf tmp;
    kv_buf text; /* the R normalized texts, back to back */
    size_t *off, *len, *cls;
    size_t cap; /* elements in off/len/cls */
};

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

kv_consistency_opts kv_consistency_defaults(void)
{
    kv_consistency_opts o = {.correct_threshold = 100.0, .k = 0, .self_chrf = true};
    return o;
}

kv_consistency_scorer *kv_consistency_new(const kv_consistency_opts *o)
{
    kv_consistency_scorer *c = kv_xcalloc(1, sizeof *c);
    c->o = o ? *o : kv_consistency_defaults();
    c->co = kv_chrf_defaults();
    c->chrf = kv_chrf_new(&c->co);
    if (!c->chrf) {
        fprintf(stderr, "koeval: chrF defaults rejected\n");
        abort();
    }
    kv_norm_opts no = {.form = KV_NORM_NFC};
    c->nz = kv_normalizer_new(&no);
    return c;
}

void kv_consistency_free(kv_consistency_scorer *c)
{
    if (!c)
        return;
    kv_chrf_free(c->chrf);
    kv_normalizer_free(c->nz);
    kv_buf_free(&c->tmp);
    kv_buf_free(&c->text);
    free(c->off);
    free(c->len);
    free(c->cls);
    free(c);
}

void kv_agreement(const size_t *cls, size_t R, size_t *distinct, double *modal, double *pairwise)
{
    size_t d = 0, maxm = 0, pairs = 0;
    for (size_t i = 0; i < R; i++) {
        /* class sizes are counted once, at each class's first member */
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = cls[j] != cls[i];
        if (!first)
            continue;
        size_t m = 0;
        for (size_t j = i; j < R; j++)
            m += cls[j] == cls[i];
        d++;
        if (m > maxm)
            maxm = m;
        pairs += m * (m - 1) / 2;
    }
    *distinct = d;
    *modal = R ? (double)maxm / (double)R : 0;
    *pairwise = R >= 2 ? (double)pairs / ((double)R * (double)(R - 1) / 2) : 0;
}

static double flip_rate(const size_t *cls, size_t R)
{
    size_t flips = 0;
    for (size_t i = 0; i + 1 < R; i++)
        flips += cls[i] != cls[i + 1];
    return (double)flips / (double)(R - 1);
}

double kv_pass_at_k(size_t n, size_t c, size_t k)
{
    if (k == 0 || k > n || c > n)
        return NAN;
    /* C(n-c, k)/C(n, k) = prod_{i<k} (n-c-i)/(n-i); zero once n-c < k */
    if (n - c < k)
        return 1.0;
    double q = 1.0;
    for (size_t i = 0; i < k; i++)
        q *= (double)(n - c - i) / (double)(n - i);
    return 1.0 - q;
}

double kv_pass_hat_k(size_t n, size_t c, size_t k)
{
    if (k == 0 || k > n || c > n)
        return NAN;
    if (c < k)
        return 0.0;
    double q = 1.0;
    for (size_t i = 0; i < k; i++)
        q *= (double)(c - i) / (double)(n - i);
    return q;
}

static void grow(kv_consistency_scorer *c, size_t R)
{
    if (R <= c->cap)
        return;
    c->off = kv_xrealloc(c->off, R * sizeof *c->off);
    c->len = kv_xrealloc(c->len, R * sizeof *c->len);
    c->cls = kv_xrealloc(c->cls, R * sizeof *c->cls);
    c->cap = R;
}

/* Normalizes the R strings into c->text and assigns class ids by equality. */
static int classify(kv_consistency_scorer *c, size_t R, const char *const *s, const size_t *lens,
                    bool null_is_none, char *err, size_t errlen)
{
    kv_buf_clear(&c->text);
    for (size_t r = 0; r < R; r++) {
        const char *res;
        size_t res_len, replaced;
        size_t n = s[r] ? (lens ? lens[r] : strlen(s[r])) : 0;
        if (kv_normalizer_apply(c->nz, s[r] ? s[r] : "", n, &c->tmp, &res, &res_len, &replaced) !=
            0) {
            seterr(err, errlen, "repeat %zu: NFC normalization failed", r);
            return KV_CONS_ERR_TEXT;
        }
        c->off[r] = c->text.len;
        c->len[r] = res_len;
        kv_buf_put(&c->text, res, res_len);
    }
    for (size_t r = 0; r < R; r++) {
        c->cls[r] = r;
        for (size_t j = 0; j < r; j++) {
            bool eq;
            if (null_is_none && (!s[r] || !s[j]))
                eq = !s[r] && !s[j]; /* "none" equals only "none" */
            else
                eq = c->len[r] == c->len[j] &&
                     memcmp(c->text.p + c->off[r], c->text.p + c->off[j], c->len[r]) == 0;
            if (eq) {
                c->cls[r] = c->cls[j];
                break;
            }
        }
    }
    return KV_CONS_OK;
}

static int self_chrf(kv_consistency_scorer *c, size_t R, double *out, char *err, size_t errlen)
{
    double sum = 0;
    for (size_t i = 0; i < R; i++) {
        for (size_t j = 0; j < R; j++) {
            if (i == j)
                continue;
            const char *ref = c->text.p + c->off[j];
            size_t ref_len = c->len[j];
            kv_chrf_stats st;
            if (kv_chrf_segment(c->chrf, c->text.p + c->off[i], c->len[i], &ref, &ref_len, 1, &st,
                                err, errlen) != 0)
                return KV_CONS_ERR_TEXT;
            sum += kv_chrf_compute(&c->co, &st);
        }
    }
    *out = sum / ((double)R * (double)(R - 1));
    return KV_CONS_OK;
}

int kv_consistency_item(kv_consistency_scorer *c, size_t R, const char *const *raw,
                        const size_t *raw_lens, const char *const *answers, const double *scores,
                        kv_consistency *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (R < 2 || !raw) {
        seterr(err, errlen, "consistency needs at least 2 repeats (got %zu)", raw ? R : 0);
        return KV_CONS_ERR_REPEATS;
    }
    size_t k = c->o.k ? c->o.k : R;
    if (scores) {
        if (k > R) {
            seterr(err, errlen, "pass@k: k = %zu exceeds the %zu repeats", k, R);
            return KV_CONS_ERR_K;
        }
        for (size_t r = 0; r < R; r++) {
            if (!(scores[r] >= 0 && scores[r] <= 100)) {
                seterr(err, errlen, "repeat %zu: score %g is outside 0-100", r, scores[r]);
                return KV_CONS_ERR_SCORE;
            }
        }
    }
    grow(c, R);
    out->repeats = R;

    int rc = classify(c, R, raw, raw_lens, false, err, errlen);
    if (rc)
        return rc;
    kv_agreement(c->cls, R, &out->distinct_raw, &out->modal_raw, &out->pairwise_raw);
    if (c->o.self_chrf) {
        rc = self_chrf(c, R, &out->self_chrf, err, errlen);
        if (rc) {
            out->self_chrf = 0;
            return rc;
        }
        out->has_self_chrf = true;
    }

    if (answers) {
        rc = classify(c, R, answers, NULL, true, err, errlen);
        if (rc)
            return rc;
        out->has_answers = true;
        kv_agreement(c->cls, R, &out->distinct_answers, &out->modal_answer, &out->pairwise_answer);
        out->answer_flip_rate = flip_rate(c->cls, R);
        for (size_t r = 0; r < R; r++)
            out->no_answer += answers[r] == NULL;
    }

    if (scores) {
        out->has_scores = true;
        double sum = 0;
        for (size_t r = 0; r < R; r++)
            sum += scores[r];
        double mean = sum / (double)R, ss = 0;
        for (size_t r = 0; r < R; r++) {
            ss += (scores[r] - mean) * (scores[r] - mean);
            c->cls[r] = scores[r] >= c->o.correct_threshold;
            out->n_correct += c->cls[r];
        }
        out->score_mean = mean;
        out->score_sd = sqrt(ss / (double)R);
        out->correct_flip_rate = flip_rate(c->cls, R);
        out->k = k;
        out->pass_at_k = kv_pass_at_k(R, out->n_correct, k);
        out->pass_hat_k = kv_pass_hat_k(R, out->n_correct, k);
    }
    return KV_CONS_OK;
}

void kv_consistency_sum_add(kv_consistency_sum *sum, const kv_consistency *it)
{
    kv_consistency_mean *t = &sum->total;
    t->items++;
    t->distinct_raw += (double)it->distinct_raw;
    t->modal_raw += it->modal_raw;
    t->pairwise_raw += it->pairwise_raw;
    if (it->has_self_chrf) {
        t->with_chrf++;
        t->self_chrf += it->self_chrf;
    }
    if (it->has_answers) {
        t->with_answers++;
        t->modal_answer += it->modal_answer;
        t->pairwise_answer += it->pairwise_answer;
        t->answer_flip_rate += it->answer_flip_rate;
    }
    if (it->has_scores) {
        t->with_scores++;
        t->score_sd += it->score_sd;
        t->correct_flip_rate += it->correct_flip_rate;
        t->pass_at_k += it->pass_at_k;
        t->pass_hat_k += it->pass_hat_k;
    }
}

static double div0(double s, size_t n)
{
    return n ? s / (double)n : 0;
}

void kv_consistency_sum_mean(const kv_consistency_sum *sum, kv_consistency_mean *out)
{
    const kv_consistency_mean *t = &sum->total;
    *out = *t;
    out->distinct_raw = div0(t->distinct_raw, t->items);
    out->modal_raw = div0(t->modal_raw, t->items);
    out->pairwise_raw = div0(t->pairwise_raw, t->items);
    out->self_chrf = div0(t->self_chrf, t->with_chrf);
    out->modal_answer = div0(t->modal_answer, t->with_answers);
    out->pairwise_answer = div0(t->pairwise_answer, t->with_answers);
    out->answer_flip_rate = div0(t->answer_flip_rate, t->with_answers);
    out->score_sd = div0(t->score_sd, t->with_scores);
    out->correct_flip_rate = div0(t->correct_flip_rate, t->with_scores);
    out->pass_at_k = div0(t->pass_at_k, t->with_scores);
    out->pass_hat_k = div0(t->pass_hat_k, t->with_scores);
}

struct group {
    char *model, *lang;
    kv_consistency_sum sum;
};

struct kv_consistency_groups {
    struct group *g;
    size_t n, cap;
};

kv_consistency_groups *kv_consistency_groups_new(void)
{
    return kv_xcalloc(1, sizeof(kv_consistency_groups));
}

void kv_consistency_groups_free(kv_consistency_groups *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->g[i].model);
        free(g->g[i].lang);
    }
    free(g->g);
    free(g);
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = kv_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

void kv_consistency_groups_add(kv_consistency_groups *g, const char *model, const char *lang,
                               const kv_consistency *item)
{
    /* a report has a few models × a few languages: a linear scan is enough */
    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->g[i].model, model) == 0 && strcmp(g->g[i].lang, lang) == 0) {
            kv_consistency_sum_add(&g->g[i].sum, item);
            return;
        }
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 8;
        g->g = kv_xrealloc(g->g, g->cap * sizeof *g->g);
    }
    struct group *e = &g->g[g->n++];
    memset(e, 0, sizeof *e);
    e->model = xstrdup(model);
    e->lang = xstrdup(lang);
    kv_consistency_sum_add(&e->sum, item);
}

size_t kv_consistency_groups_count(const kv_consistency_groups *g)
{
    return g->n;
}

void kv_consistency_groups_get(const kv_consistency_groups *g, size_t i, const char **model,
                               const char **lang, kv_consistency_mean *out)
{
    *model = g->g[i].model;
    *lang = g->g[i].lang;
    kv_consistency_sum_mean(&g->g[i].sum, out);
}
