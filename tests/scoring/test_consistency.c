/*
 * Repeated-run consistency (scoring/consistency.c): B30 exactly, and every
 * other measure on inputs small enough that the expected value is worked out
 * by hand in the comment next to it.
 */
#include "tests/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/consistency.h"
#include "scoring/extract.h"

static kv_consistency run(const kv_consistency_opts *o, size_t R, const char *const *raw,
                          const char *const *answers, const double *scores)
{
    kv_consistency_scorer *c = kv_consistency_new(o);
    kv_consistency out;
    char err[256] = "";
    int rc = kv_consistency_item(c, R, raw, NULL, answers, scores, &out, err, sizeof err);
    if (rc != KV_CONS_OK)
        fail_msg("kv_consistency_item: %d %s", rc, err);
    kv_consistency_free(c);
    return out;
}

/* B30: the answers extracted by kv_extract_choice (4 choices), then the
 * measures of handoff.jsonl. Raw classes {0,1,2}×3, {3}, {4}: sizes 3,1,1 →
 * distinct 3, modal 3/5, pairwise C(3,2)/C(5,2) = 3/10. Answers B,B,B,B,C:
 * sizes 4,1 → modal 4/5, pairwise C(4,2)/C(5,2) = 6/10. */
static void check_b30(const char *const *runs, size_t R, const cJSON *expected)
{
    char err[256];
    kv_extractor *x = kv_extractor_new(err, sizeof err);
    assert_non_null(x);
    char letters[5][2] = {{0}};
    const char *answers[5];
    assert_int_equal(R, 5);
    for (size_t r = 0; r < R; r++) {
        int ch;
        assert_int_equal(kv_extract_choice(x, runs[r], strlen(runs[r]), 4, KV_CHOICE_LAST, &ch),
                         KV_EXTRACT_OK);
        letters[r][0] = (char)('A' + ch);
        answers[r] = letters[r];
    }
    kv_extractor_free(x);

    kv_consistency k = run(NULL, R, runs, answers, NULL);
    const cJSON *ex = cJSON_GetObjectItem(expected, "extracted_answers");
    for (size_t r = 0; r < R; r++)
        assert_string_equal(answers[r], cJSON_GetArrayItem(ex, (int)r)->valuestring);
    assert_int_equal(k.distinct_raw,
                     cJSON_GetObjectItem(expected, "distinct_raw_outputs")->valueint);
    assert_close(k.modal_raw, cJSON_GetObjectItem(expected, "modal_raw_agreement")->valuedouble);
    assert_close(k.pairwise_raw,
                 cJSON_GetObjectItem(expected, "pairwise_raw_agreement")->valuedouble);
    assert_close(k.modal_answer,
                 cJSON_GetObjectItem(expected, "modal_answer_agreement")->valuedouble);
    assert_close(k.pairwise_answer,
                 cJSON_GetObjectItem(expected, "pairwise_answer_agreement")->valuedouble);
    assert_int_equal(k.distinct_answers, 2);
    assert_int_equal(k.no_answer, 0);
    /* B,B,B,B,C: one change in 4 consecutive pairs */
    assert_close(k.answer_flip_rate, 0.25);
    assert_false(k.has_scores);
}

static void b30_inline(void **state)
{
    const char *runs[] = {"정답은 B입니다.", "정답은 B입니다.", "정답은 B입니다.",
                          "B가 정답입니다.", "정답은 C입니다."};
    cJSON *ex = cJSON_Parse("{\"distinct_raw_outputs\":3,\"modal_raw_agreement\":0.6,"
                            "\"pairwise_raw_agreement\":0.3,\"extracted_answers\":"
                            "[\"B\",\"B\",\"B\",\"B\",\"C\"],\"modal_answer_agreement\":0.8,"
                            "\"pairwise_answer_agreement\":0.6}");
    check_b30(runs, 5, ex);
    cJSON_Delete(ex);
}

static void b30_from_handoff(void **state)
{
    const char *path;
    KV_REQUIRE_SHARED(path, "cases/handoff.jsonl");
    size_t n;
    cJSON **recs = kv_test_read_jsonl(path, &n);
    cJSON *b30 = kv_test_find_id(recs, n, "B30");
    const cJSON *in = cJSON_GetObjectItem(cJSON_GetObjectItem(b30, "input"), "runs_temperature_0");
    const char *runs[5];
    assert_int_equal(cJSON_GetArraySize(in), 5);
    for (int i = 0; i < 5; i++)
        runs[i] = cJSON_GetArrayItem(in, i)->valuestring;
    check_b30(runs, 5, cJSON_GetObjectItem(b30, "expected"));
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(recs[i]);
    free(recs);
}

static void raw_is_nfc_normalized(void **state)
{
    /* "한국" precomposed and as conjoining jamo (NFD) are one output after
     * NFC; "한국 " (trailing space) is another: no other normalization. */
    const char *raw[] = {"\xed\x95\x9c\xea\xb5\xad",
                         "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab\xe1\x84\x80\xe1\x85\xae"
                         "\xe1\x86\xa8",
                         "\xed\x95\x9c\xea\xb5\xad "};
    kv_consistency k = run(NULL, 3, raw, NULL, NULL);
    assert_int_equal(k.distinct_raw, 2);
    assert_close(k.modal_raw, 2.0 / 3);    /* sizes 2,1 */
    assert_close(k.pairwise_raw, 1.0 / 3); /* C(2,2)/C(3,2) */
    assert_false(k.has_answers);
}

static void no_answer_is_its_own_value(void **state)
{
    const char *raw[] = {"x", "y", "z", "w"};
    /* none, none, A, A: classes of size 2 and 2 → distinct 2, modal 2/4,
     * pairwise (1+1)/C(4,2) = 2/6; flips: only between repeats 1 and 2 → 1/3 */
    const char *a1[] = {NULL, NULL, "A", "A"};
    kv_consistency k = run(NULL, 4, raw, a1, NULL);
    assert_int_equal(k.distinct_answers, 2);
    assert_int_equal(k.no_answer, 2);
    assert_close(k.modal_answer, 0.5);
    assert_close(k.pairwise_answer, 2.0 / 6);
    assert_close(k.answer_flip_rate, 1.0 / 3);
    /* alternating A, none, A, none: every consecutive pair changes → 1; the
     * agreements do not see the order and are the same as above */
    const char *a2[] = {"A", NULL, "A", NULL};
    k = run(NULL, 4, raw, a2, NULL);
    assert_close(k.answer_flip_rate, 1.0);
    assert_close(k.pairwise_answer, 2.0 / 6);
    /* an empty string is an answer, distinct from none */
    const char *a3[] = {"", NULL, "", ""};
    k = run(NULL, 4, raw, a3, NULL);
    assert_int_equal(k.distinct_answers, 2);
    assert_close(k.modal_answer, 0.75);
    /* all raw outputs different: distinct 4, modal 1/4, pairwise 0 */
    assert_int_equal(k.distinct_raw, 4);
    assert_close(k.modal_raw, 0.25);
    assert_close(k.pairwise_raw, 0.0);
}

static void scores_sd_pass_k(void **state)
{
    const char *raw[] = {"a", "a", "a", "a", "a"};
    const double scores[] = {100, 0, 100, 100, 0};
    kv_consistency_opts o = kv_consistency_defaults();
    o.k = 2;
    kv_consistency k = run(&o, 5, raw, NULL, scores);
    assert_true(k.has_scores);
    /* mean 300/5 = 60; deviations 40,-60,40,40,-60; squares sum
     * 3*1600 + 2*3600 = 12000; population variance 12000/5 = 2400 */
    assert_close(k.score_mean, 60.0);
    assert_close(k.score_sd, sqrt(2400.0));
    assert_int_equal(k.n_correct, 3);
    /* correct 1,0,1,1,0: changes at 0-1, 1-2, 3-4 → 3/4 */
    assert_close(k.correct_flip_rate, 0.75);
    /* pass@2 = 1 - C(2,2)/C(5,2) = 1 - 1/10; pass^2 = C(3,2)/C(5,2) = 3/10 */
    assert_int_equal(k.k, 2);
    assert_close(k.pass_at_k, 0.9);
    assert_close(k.pass_hat_k, 0.3);
    /* identical raw outputs: distinct 1, both agreements 1 */
    assert_int_equal(k.distinct_raw, 1);
    assert_close(k.modal_raw, 1.0);
    assert_close(k.pairwise_raw, 1.0);
    assert_close(k.self_chrf, 100.0);

    /* default k = R = 5: pass@5 = 1 (a wrong-only draw of 5 from 2 wrong is
     * impossible), pass^5 = 0 (only 3 right) */
    k = run(NULL, 5, raw, NULL, scores);
    assert_int_equal(k.k, 5);
    assert_close(k.pass_at_k, 1.0);
    assert_close(k.pass_hat_k, 0.0);
}

static void correct_threshold(void **state)
{
    const char *raw[] = {"a", "b", "c"};
    const double scores[] = {80, 90, 85};
    /* default threshold 100: none correct */
    kv_consistency k = run(NULL, 3, raw, NULL, scores);
    assert_int_equal(k.n_correct, 0);
    assert_close(k.pass_at_k, 0.0);
    /* threshold 85 (>=): 90 and 85 correct; 0,1,1 → one flip of 2 */
    kv_consistency_opts o = kv_consistency_defaults();
    o.correct_threshold = 85;
    o.k = 1;
    k = run(&o, 3, raw, NULL, scores);
    assert_int_equal(k.n_correct, 2);
    assert_close(k.correct_flip_rate, 0.5);
    /* k = 1: both estimators are c/n */
    assert_close(k.pass_at_k, 2.0 / 3);
    assert_close(k.pass_hat_k, 2.0 / 3);
    /* mean 85; deviations -5, 5, 0 → variance 50/3 */
    assert_close(k.score_sd, sqrt(50.0 / 3));
}

static void pass_estimators(void **state)
{
    /* n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10; C(2,2)/C(5,2) = 1/10 */
    assert_close(kv_pass_at_k(5, 2, 2), 0.7);
    assert_close(kv_pass_hat_k(5, 2, 2), 0.1);
    /* n=10, c=3, k=3: 1 - C(7,3)/C(10,3) = 1 - 35/120; C(3,3)/C(10,3) = 1/120 */
    assert_close(kv_pass_at_k(10, 3, 3), 1.0 - 35.0 / 120);
    assert_close(kv_pass_hat_k(10, 3, 3), 1.0 / 120);
    assert_close(kv_pass_at_k(10, 0, 4), 0.0);
    assert_close(kv_pass_hat_k(10, 0, 1), 0.0);
    assert_close(kv_pass_at_k(10, 10, 10), 1.0);
    assert_close(kv_pass_hat_k(10, 10, 10), 1.0);
    assert_true(isnan(kv_pass_at_k(3, 1, 0)));
    assert_true(isnan(kv_pass_at_k(3, 1, 4)));
    assert_true(isnan(kv_pass_hat_k(3, 4, 1)));
}

static void self_chrf_by_hand(void **state)
{
    /* chrF2, char orders 1–6, as sacreBLEU: only orders where both sides have
     * n-grams enter the averages.
     * "ab" against "abc": order 1 P 2/2 R 2/3; order 2 P 1/1 R 1/2 →
     *   P = 1, R = 7/12, F2 = 5·P·R/(4P + R) = (35/12)/(55/12) = 7/11.
     * "abc" against "ab": order 1 P 2/3 R 1; order 2 P 1/2 R 1 (order 3 has
     *   no reference n-gram) → P = 7/12, R = 1, F2 = (35/12)/(40/12) = 7/8.
     * Mean of the two ordered pairs, times 100. */
    const char *raw[] = {"ab", "abc"};
    kv_consistency k = run(NULL, 2, raw, NULL, NULL);
    assert_true(k.has_self_chrf);
    assert_close(k.self_chrf, 100.0 * (7.0 / 11 + 7.0 / 8) / 2);
    /* turned off */
    kv_consistency_opts o = kv_consistency_defaults();
    o.self_chrf = false;
    k = run(&o, 2, raw, NULL, NULL);
    assert_false(k.has_self_chrf);
    assert_close(k.self_chrf, 0.0);
}

static void explicit_lengths_and_bad_utf8(void **state)
{
    kv_consistency_scorer *c = kv_consistency_new(NULL);
    kv_consistency k;
    /* lengths cut "abX" to "ab"; the ill-formed byte 0xFF becomes U+FFFD in
     * both, so the two are equal */
    const char *raw[] = {"abX", "ab", "a\xff", "a\xff"};
    const size_t lens[] = {2, 2, 2, 2};
    assert_int_equal(kv_consistency_item(c, 4, raw, lens, NULL, NULL, &k, NULL, 0), KV_CONS_OK);
    assert_int_equal(k.distinct_raw, 2);
    assert_close(k.pairwise_raw, 2.0 / 6);
    kv_consistency_free(c);
}

static void errors(void **state)
{
    kv_consistency_scorer *c = kv_consistency_new(NULL);
    kv_consistency k;
    char err[128];
    const char *raw[] = {"a", "b", "c"};
    assert_int_equal(kv_consistency_item(c, 1, raw, NULL, NULL, NULL, &k, err, sizeof err),
                     KV_CONS_ERR_REPEATS);
    assert_non_null(strstr(err, "at least 2"));
    assert_int_equal(kv_consistency_item(c, 3, NULL, NULL, NULL, NULL, &k, err, sizeof err),
                     KV_CONS_ERR_REPEATS);
    const double bad[] = {0, 101, 0};
    assert_int_equal(kv_consistency_item(c, 3, raw, NULL, NULL, bad, &k, err, sizeof err),
                     KV_CONS_ERR_SCORE);
    assert_non_null(strstr(err, "repeat 1"));
    const double nan3[] = {0, 0, NAN};
    assert_int_equal(kv_consistency_item(c, 3, raw, NULL, NULL, nan3, &k, err, sizeof err),
                     KV_CONS_ERR_SCORE);
    kv_consistency_free(c);

    kv_consistency_opts o = kv_consistency_defaults();
    o.k = 4;
    c = kv_consistency_new(&o);
    const double ok[] = {0, 100, 0};
    assert_int_equal(kv_consistency_item(c, 3, raw, NULL, NULL, ok, &k, err, sizeof err),
                     KV_CONS_ERR_K);
    /* without scores k is not used */
    assert_int_equal(kv_consistency_item(c, 3, raw, NULL, NULL, NULL, &k, err, sizeof err),
                     KV_CONS_OK);
    kv_consistency_free(c);
}

static void agreement_classes(void **state)
{
    size_t d;
    double m, p;
    /* sizes 2,2,1 of 5: modal 2/5, pairwise (1+1)/10 */
    const size_t cls[] = {7, 3, 7, 3, 9};
    kv_agreement(cls, 5, &d, &m, &p);
    assert_int_equal(d, 3);
    assert_close(m, 0.4);
    assert_close(p, 0.2);
}

static void groups_by_model_and_language(void **state)
{
    kv_consistency_groups *g = kv_consistency_groups_new();
    kv_consistency a = {.repeats = 5,
                        .distinct_raw = 3,
                        .modal_raw = 0.6,
                        .pairwise_raw = 0.3,
                        .has_answers = true,
                        .modal_answer = 0.8,
                        .pairwise_answer = 0.6,
                        .answer_flip_rate = 0.25};
    kv_consistency b = {.repeats = 5,
                        .distinct_raw = 1,
                        .modal_raw = 1,
                        .pairwise_raw = 1,
                        .has_self_chrf = true,
                        .self_chrf = 100,
                        .has_scores = true,
                        .score_sd = 10,
                        .pass_at_k = 1,
                        .pass_hat_k = 0.5};
    kv_consistency_groups_add(g, "m1", "ko", &a);
    kv_consistency_groups_add(g, "m1", "en", &b);
    kv_consistency_groups_add(g, "m1", "ko", &b);
    assert_int_equal(kv_consistency_groups_count(g), 2);
    const char *model, *lang;
    kv_consistency_mean m;
    kv_consistency_groups_get(g, 0, &model, &lang, &m);
    assert_string_equal(model, "m1");
    assert_string_equal(lang, "ko");
    assert_int_equal(m.items, 2);
    /* raw fields over both items: (3+1)/2, (0.6+1)/2, (0.3+1)/2 */
    assert_close(m.distinct_raw, 2.0);
    assert_close(m.modal_raw, 0.8);
    assert_close(m.pairwise_raw, 0.65);
    /* answer fields only from a, score and chrF fields only from b */
    assert_int_equal(m.with_answers, 1);
    assert_close(m.modal_answer, 0.8);
    assert_close(m.answer_flip_rate, 0.25);
    assert_int_equal(m.with_scores, 1);
    assert_close(m.score_sd, 10.0);
    assert_close(m.pass_hat_k, 0.5);
    assert_int_equal(m.with_chrf, 1);
    assert_close(m.self_chrf, 100.0);
    kv_consistency_groups_get(g, 1, &model, &lang, &m);
    assert_string_equal(lang, "en");
    assert_int_equal(m.items, 1);
    assert_close(m.modal_answer, 0.0); /* no item has answers */
    kv_consistency_groups_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b30_inline),
        cmocka_unit_test(b30_from_handoff),
        cmocka_unit_test(raw_is_nfc_normalized),
        cmocka_unit_test(no_answer_is_its_own_value),
        cmocka_unit_test(scores_sd_pass_k),
        cmocka_unit_test(correct_threshold),
        cmocka_unit_test(pass_estimators),
        cmocka_unit_test(self_chrf_by_hand),
        cmocka_unit_test(explicit_lengths_and_bad_utf8),
        cmocka_unit_test(errors),
        cmocka_unit_test(agreement_classes),
        cmocka_unit_test(groups_by_model_and_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
