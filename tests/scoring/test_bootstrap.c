/*
 * Gap statistics (scoring/bootstrap.c): the generator against SplitMix64's
 * published outputs, the percentile interval's order statistics, and paired
 * bootstrap cases whose answer does not depend on the draws (constant
 * differences, identical systems, a system equal to the reference).
 */
#include "tests/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/bleu.h"
#include "scoring/bootstrap.h"
#include "scoring/chrf.h"

static void splitmix64_reference_outputs(void **state)
{
    /* Vigna's splitmix64.c seeded with 0: the first three outputs */
    kv_rng r;
    kv_rng_seed(&r, 0);
    assert_true(kv_rng_next(&r) == 0xE220A8397B1DCDAFu);
    assert_true(kv_rng_next(&r) == 0x6E789E6AA1B965F4u);
    assert_true(kv_rng_next(&r) == 0x06C45D188009454Fu);
}

static void below_is_in_range_and_covers(void **state)
{
    kv_rng r;
    kv_rng_seed(&r, 7);
    size_t seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        size_t j = kv_rng_below(&r, 7);
        assert_true(j < 7);
        seen[j]++;
    }
    /* 1000 expected per value; a fair generator stays well within ±200 */
    for (int v = 0; v < 7; v++)
        assert_true(seen[v] > 800 && seen[v] < 1200);
    assert_int_equal(kv_rng_below(&r, 1), 0);
}

static void percentile_order_statistics(void **state)
{
    /* values 0..999 in reverse: B = 1000, k = 25 → s(25) = 25, s(974) = 974 */
    double v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = 999 - i;
    double lo, hi;
    kv_percentile_ci(v, 1000, &lo, &hi);
    assert_close(lo, 25.0);
    assert_close(hi, 974.0);
    /* B = 10: k = 0, the interval is [min, max] */
    double w[10] = {5, 3, 9, 1, 7, 2, 8, 6, 4, 0};
    kv_percentile_ci(w, 10, &lo, &hi);
    assert_close(lo, 0.0);
    assert_close(hi, 9.0);
    /* B = 80: k = 2 → third smallest and third largest of 1..80 */
    double u[80];
    for (int i = 0; i < 80; i++)
        u[i] = i + 1;
    kv_percentile_ci(u, 80, &lo, &hi);
    assert_close(lo, 3.0);
    assert_close(hi, 78.0);
}

static kv_gap gap(const double *x, const double *y, size_t n, const kv_bootstrap_opts *o)
{
    kv_gap g;
    char err[128] = "";
    int rc = kv_gap_paired(x, y, n, o, &g, err, sizeof err);
    if (rc != KV_BS_OK)
        fail_msg("kv_gap_paired: %d %s", rc, err);
    return g;
}

static void constant_difference(void **state)
{
    /* every x_i - y_i = +10: every resample's mean is 10 */
    const double x[] = {60, 70, 80, 90, 100, 40};
    const double y[] = {50, 60, 70, 80, 90, 30};
    kv_gap g = gap(x, y, 6, NULL);
    assert_int_equal(g.n, 6);
    assert_close(g.mean_x, 440.0 / 6);
    assert_close(g.mean_y, 380.0 / 6);
    assert_close(g.mean_diff, 10.0);
    assert_close(g.boot_mean, 10.0);
    assert_close(g.lo, 10.0);
    assert_close(g.hi, 10.0);
    assert_true(g.flagged);
    assert_int_equal(g.wins, 6);
    assert_int_equal(g.ties, 0);
    assert_int_equal(g.losses, 0);
    assert_int_equal(g.resamples, 1000);
    assert_true(g.seed == 12345);
    /* the other way round: -10, still flagged (Korean behind) */
    g = gap(y, x, 6, NULL);
    assert_close(g.lo, -10.0);
    assert_close(g.hi, -10.0);
    assert_true(g.flagged);
    assert_int_equal(g.losses, 6);
}

static void symmetric_differences(void **state)
{
    /* differences +10, -10 alternating over 20 items: mean 0. A resample's
     * mean is 10(2k - 20)/20 with k ~ Binomial(20, 1/2); P(k < 10) ≈ 0.41
     * and P(k > 10) ≈ 0.41, far above 2.5%, so lo < 0 < hi */
    double x[20], y[20];
    for (int i = 0; i < 20; i++) {
        y[i] = 50;
        x[i] = i % 2 ? 40 : 60;
    }
    kv_gap g = gap(x, y, 20, NULL);
    assert_close(g.mean_diff, 0.0);
    assert_true(g.lo < 0);
    assert_true(g.hi > 0);
    assert_false(g.flagged);
    assert_int_equal(g.wins, 10);
    assert_int_equal(g.losses, 10);
    /* every resample mean is a multiple of 1 between -10 and 10 */
    assert_true(g.lo >= -10 && g.hi <= 10);
    assert_close(g.lo, round(g.lo));
}

static void same_seed_same_result_other_seed_other_resamples(void **state)
{
    const double x[] = {80, 55, 90, 70, 65, 100, 30, 85, 60, 75};
    const double y[] = {70, 60, 95, 50, 65, 90, 45, 80, 40, 70};
    kv_gap a = gap(x, y, 10, NULL);
    kv_gap b = gap(x, y, 10, NULL);
    assert_memory_equal(&a, &b, sizeof a);

    kv_bootstrap_opts o = kv_bootstrap_defaults();
    o.seed = 2024;
    kv_gap c = gap(x, y, 10, &o);
    /* the observed statistics do not depend on the draws... */
    assert_close(c.mean_diff, a.mean_diff);
    /* diffs 10,-5,-5,20,0,10,-15,5,20,5: sum 45 → 4.5 */
    assert_close(c.mean_diff, 4.5);
    assert_int_equal(c.wins, a.wins);
    /* ...the resamples do */
    assert_true(c.boot_mean != a.boot_mean);
    assert_true(c.seed == 2024);
    /* fewer resamples: B = 200, k = 5 */
    o.resamples = 200;
    kv_gap d = gap(x, y, 10, &o);
    assert_int_equal(d.resamples, 200);
    assert_close(d.mean_diff, 4.5);
}

static void win_tie_loss(void **state)
{
    /* differences 0, -1, 1, 0, 5 */
    const double x[] = {1, 2, 3, 4, 5};
    const double y[] = {1, 3, 2, 4, 0};
    kv_gap g = gap(x, y, 5, NULL);
    assert_int_equal(g.wins, 2);
    assert_int_equal(g.ties, 2);
    assert_int_equal(g.losses, 1);
    /* with tie_tol 1, |d| <= 1 is a tie: 0, -1, 1, 0 */
    kv_bootstrap_opts o = kv_bootstrap_defaults();
    o.tie_tol = 1;
    g = gap(x, y, 5, &o);
    assert_int_equal(g.wins, 1);
    assert_int_equal(g.ties, 4);
    assert_int_equal(g.losses, 0);
}

static void one_item_and_errors(void **state)
{
    const double x[] = {3}, y[] = {1};
    kv_gap g = gap(x, y, 1, NULL);
    assert_close(g.lo, 2.0);
    assert_close(g.hi, 2.0);
    assert_true(g.flagged);

    char err[128];
    assert_int_equal(kv_gap_paired(x, y, 0, NULL, &g, err, sizeof err), KV_BS_ERR_EMPTY);
    const double bad[] = {1, NAN};
    const double ok[] = {1, 2};
    assert_int_equal(kv_gap_paired(bad, ok, 2, NULL, &g, err, sizeof err), KV_BS_ERR_VALUE);
    assert_non_null(strstr(err, "item 1"));
    assert_int_equal(kv_gap_paired(NULL, ok, 2, NULL, &g, NULL, 0), KV_BS_ERR_ARG);
}

/* A mean as a corpus metric: stats {sum, count}. */
typedef struct mean_stats {
    double sum, count;
} mean_stats;

static void mean_add(void *acc, const void *seg, const void *ctx)
{
    mean_stats *a = acc;
    const mean_stats *s = seg;
    a->sum += s->sum;
    a->count += s->count;
}

static double mean_score(const void *acc, const void *ctx)
{
    const mean_stats *a = acc;
    return a->count ? a->sum / a->count : 0;
}

static void corpus_mean_matches_item_gap(void **state)
{
    /* with a mean as the metric, a corpus resample's score difference is the
     * resampled mean difference: the same draws give kv_gap_paired's interval */
    const double x[] = {80, 55, 90, 70, 65, 100, 30, 85, 60, 75};
    const double y[] = {70, 60, 95, 50, 65, 90, 45, 80, 40, 70};
    mean_stats xs[10], ys[10];
    for (int i = 0; i < 10; i++) {
        xs[i] = (mean_stats){x[i], 1};
        ys[i] = (mean_stats){y[i], 1};
    }
    kv_bs_metric m = {sizeof(mean_stats), mean_add, mean_score, NULL};
    kv_paired_bs_result p;
    assert_int_equal(kv_paired_bs(&m, xs, ys, 10, NULL, &p, NULL, 0), KV_BS_OK);
    kv_gap g = gap(x, y, 10, NULL);
    assert_close(p.x.score, 71.0); /* 710/10 */
    assert_close(p.y.score, 66.5); /* 665/10 */
    assert_close(p.diff, 4.5);
    assert_near(p.diff_lo, g.lo, 1e-9);
    assert_near(p.diff_hi, g.hi, 1e-9);
    assert_near(p.diff_mean, g.boot_mean, 1e-9);
    assert_int_equal(p.flagged, g.flagged);
    assert_close(p.x.half_width, (p.x.hi - p.x.lo) / 2);
}

static void corpus_bleu_reference_system(void **state)
{
    static const char *refs[] = {
        "the cat sat on the mat",
        "a quick brown fox jumps over the lazy dog",
        "we evaluate models in korean and english",
        "the weather is nice today in seoul",
    };
    static const char *hyps_y[] = {
        "the cat is on a mat",
        "a fast brown fox jumped over a lazy dog",
        "we test models in korean",
        "today the weather in seoul is nice",
    };
    kv_bleu_opts bo = {0};
    bo.smooth = KV_SMOOTH_EXP;
    bo.smooth_value = -1;
    kv_bleu *b = kv_bleu_new(&bo);
    kv_bleu_stats sx[4], sy[4], total_y = {0};
    char err[256];
    for (int i = 0; i < 4; i++) {
        const char *r = refs[i];
        size_t rl = strlen(r);
        /* system x is the reference itself */
        assert_int_equal(kv_bleu_segment(b, r, rl, &r, &rl, 1, &sx[i], err, sizeof err), 0);
        assert_int_equal(
            kv_bleu_segment(b, hyps_y[i], strlen(hyps_y[i]), &r, &rl, 1, &sy[i], err, sizeof err),
            0);
        kv_bleu_stats_add(&total_y, &sy[i]);
    }
    kv_bleu_free(b);

    kv_bs_metric m = kv_bs_metric_bleu(&bo);
    kv_paired_bs_result p;
    assert_int_equal(kv_paired_bs(&m, sx, sy, 4, NULL, &p, err, sizeof err), KV_BS_OK);
    /* x's resamples are copies of reference segments: BLEU 100 every time */
    assert_close(p.x.score, 100.0);
    assert_close(p.x.mean, 100.0);
    assert_close(p.x.lo, 100.0);
    assert_close(p.x.hi, 100.0);
    assert_close(p.x.half_width, 0.0);
    /* y's real score is corpus BLEU of its summed statistics */
    kv_bleu_score ys;
    kv_bleu_compute(&bo, &total_y, &ys);
    assert_close(p.y.score, ys.score);
    assert_true(p.y.score < 100);
    /* no y segment is perfect, so no resample reaches 100: the difference
     * is positive in every resample */
    assert_true(p.y.hi < 100);
    assert_true(p.diff_lo > 0);
    assert_true(p.flagged);
    assert_close(p.diff, 100.0 - ys.score);
    assert_int_equal(p.n, 4);
}

static void corpus_chrf_same_indices(void **state)
{
    /* identical systems: if both used different draws the per-resample
     * difference would vary; with the same indices it is exactly 0 */
    static const char *refs[] = {"서울은 대한민국의 수도이다", "오늘 날씨가 좋다",
                                 "모델을 한국어로 평가한다"};
    static const char *hyps[] = {"서울은 한국의 수도", "날씨가 매우 좋다", "모델을 평가한다"};
    kv_chrf_opts co = kv_chrf_defaults();
    kv_chrf *c = kv_chrf_new(&co);
    kv_chrf_stats s[3], r[3];
    char err[256];
    for (int i = 0; i < 3; i++) {
        const char *ref = refs[i];
        size_t rl = strlen(ref);
        assert_int_equal(
            kv_chrf_segment(c, hyps[i], strlen(hyps[i]), &ref, &rl, 1, &s[i], err, sizeof err), 0);
        assert_int_equal(kv_chrf_segment(c, ref, rl, &ref, &rl, 1, &r[i], err, sizeof err), 0);
    }
    kv_chrf_free(c);
    kv_bs_metric m = kv_bs_metric_chrf(&co);
    kv_bootstrap_opts o = kv_bootstrap_defaults();
    o.resamples = 300;
    kv_paired_bs_result p;
    assert_int_equal(kv_paired_bs(&m, s, s, 3, &o, &p, err, sizeof err), KV_BS_OK);
    assert_close(p.diff, 0.0);
    assert_close(p.diff_lo, 0.0);
    assert_close(p.diff_hi, 0.0);
    assert_false(p.flagged);
    assert_int_equal(p.resamples, 300);
    /* the reference against itself: chrF 100 in every resample */
    assert_int_equal(kv_paired_bs(&m, r, s, 3, &o, &p, err, sizeof err), KV_BS_OK);
    assert_close(p.x.score, 100.0);
    assert_close(p.x.lo, 100.0);
    assert_close(p.x.hi, 100.0);
    assert_true(p.y.score < 100);

    /* errors */
    assert_int_equal(kv_paired_bs(&m, r, s, 0, &o, &p, err, sizeof err), KV_BS_ERR_EMPTY);
    kv_bs_metric bad = m;
    bad.score = NULL;
    assert_int_equal(kv_paired_bs(&bad, r, s, 3, &o, &p, err, sizeof err), KV_BS_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splitmix64_reference_outputs),
        cmocka_unit_test(below_is_in_range_and_covers),
        cmocka_unit_test(percentile_order_statistics),
        cmocka_unit_test(constant_difference),
        cmocka_unit_test(symmetric_differences),
        cmocka_unit_test(same_seed_same_result_other_seed_other_resamples),
        cmocka_unit_test(win_tie_loss),
        cmocka_unit_test(one_item_and_errors),
        cmocka_unit_test(corpus_mean_matches_item_gap),
        cmocka_unit_test(corpus_bleu_reference_system),
        cmocka_unit_test(corpus_chrf_same_indices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
