/*
 * Conformance: every BLEU and chrF/chrF++ case of ../shared/vectors/metrics.jsonl
 * (computed by sacreBLEU 2.6.0 itself) must be reproduced to a relative 1e-9:
 * score, counts, totals, precisions, brevity penalty, lengths, chrF
 * statistics, and the tokenized text sacreBLEU saw. ROUGE cases are checked
 * in test_rouge.c. Needs ../shared; skips, saying so, without it.
 */
#include "tests/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/bleu.h"
#include "scoring/chrf.h"
#include "src/text.h"

static cJSON **records;
static size_t n_records;

static int setup(void **state)
{
    const char *path = kv_test_shared_path("vectors/metrics.jsonl");
    if (path)
        records = kv_test_read_jsonl(path, &n_records);
    return 0;
}

static int teardown(void **state)
{
    for (size_t i = 0; i < n_records; i++)
        cJSON_Delete(records[i]);
    free(records);
    return 0;
}

static bool opt_bool(const cJSON *opts, const char *key, bool dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static double opt_num(const cJSON *opts, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *opt_str(const cJSON *opts, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static const char *metric_of(const cJSON *rec)
{
    return cJSON_GetObjectItemCaseSensitive(rec, "metric")->valuestring;
}

/* refs[k][i] (null = absent) for segment i, as arrays the scorers take */
static size_t segment_refs(const cJSON *refs, size_t i, const char **out, size_t *lens)
{
    size_t k = 0;
    const cJSON *stream;
    cJSON_ArrayForEach(stream, refs)
    {
        const cJSON *r = cJSON_GetArrayItem(stream, (int)i);
        out[k] = cJSON_IsString(r) ? r->valuestring : NULL;
        lens[k] = out[k] ? strlen(out[k]) : 0;
        k++;
    }
    return k;
}

/* sacreBLEU's tokenized strings are what BLEU splits on whitespace (the
 * char tokenizer keeps runs of spaces): compare token sequences */
static bool same_tokens(const char *actual, const char *expected)
{
    kv_buf a = {0}, e = {0};
    kv_tok_join_split(actual, strlen(actual), &a);
    kv_tok_join_split(expected, strlen(expected), &e);
    bool same = strcmp(a.p, e.p) == 0;
    kv_buf_free(&a);
    kv_buf_free(&e);
    return same;
}

static void check_array(const cJSON *arr, const double *actual, int n, const char *id,
                        const char *what)
{
    assert_int_equal(cJSON_GetArraySize(arr), n);
    for (int i = 0; i < n; i++) {
        double e = cJSON_GetArrayItem(arr, i)->valuedouble;
        if (!(fabs(actual[i] - e) <= fmax(fabs(e) * 1e-9, 1e-12)))
            fail_msg("%s: %s[%d] = %.17g, expected %.17g", id, what, i, actual[i], e);
    }
}

static void check_num(double actual, const cJSON *exp, const char *key, const char *id)
{
    double e = cJSON_GetObjectItemCaseSensitive(exp, key)->valuedouble;
    if (!(fabs(actual - e) <= fmax(fabs(e) * 1e-9, 1e-12)))
        fail_msg("%s: %s = %.17g, expected %.17g", id, key, actual, e);
}

static void run_bleu(const cJSON *rec)
{
    const char *id = cJSON_GetObjectItemCaseSensitive(rec, "id")->valuestring;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(rec, "options");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(rec, "expected");
    kv_bleu_opts bo = {0};
    bo.tokenizer = kv_tokenizer_find(opt_str(o, "tokenize", "13a"));
    assert_non_null(bo.tokenizer);
    bo.lowercase = opt_bool(o, "lowercase", false);
    assert_int_equal(kv_bleu_smooth_parse(opt_str(o, "smooth_method", "exp"), &bo.smooth), 0);
    bo.smooth_value = opt_num(o, "smooth_value", -1);
    bo.effective_order = opt_bool(o, "effective_order", false);
    bo.max_order = (int)opt_num(o, "max_ngram_order", 4);

    const cJSON *hyps = cJSON_GetObjectItemCaseSensitive(rec, "hyps");
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(rec, "refs");
    kv_bleu *b = kv_bleu_new(&bo);
    kv_bleu_stats total = {0};
    char err[256];
    const cJSON *tok_h = cJSON_GetObjectItemCaseSensitive(exp, "tokenized_hyps");
    int n = cJSON_GetArraySize(hyps);
    for (int i = 0; i < n; i++) {
        const char *h = cJSON_GetArrayItem(hyps, i)->valuestring;
        const char *rs[16];
        size_t rl[16];
        size_t nr = segment_refs(refs, (size_t)i, rs, rl);
        kv_bleu_stats st;
        if (kv_bleu_segment(b, h, strlen(h), rs, rl, nr, &st, err, sizeof err) != 0)
            fail_msg("%s: %s", id, err);
        kv_bleu_stats_add(&total, &st);
        if (tok_h) {
            kv_buf t = {0};
            kv_bleu_preprocess(&bo, h, strlen(h), &t);
            const char *e = cJSON_GetArrayItem(tok_h, i)->valuestring;
            if (!same_tokens(t.p ? t.p : "", e))
                fail_msg("%s: tokenized hyp %d = \"%s\", expected \"%s\"", id, i, t.p, e);
            kv_buf_free(&t);
        }
    }
    const cJSON *tok_r = cJSON_GetObjectItemCaseSensitive(exp, "tokenized_refs");
    if (tok_r) {
        int k = 0;
        const cJSON *stream;
        cJSON_ArrayForEach(stream, tok_r)
        {
            const cJSON *src = cJSON_GetArrayItem(refs, k++);
            for (int i = 0; i < cJSON_GetArraySize(stream); i++) {
                const cJSON *e = cJSON_GetArrayItem(stream, i);
                const cJSON *r = cJSON_GetArrayItem(src, i);
                if (!cJSON_IsString(e) || !cJSON_IsString(r))
                    continue;
                kv_buf t = {0};
                kv_bleu_preprocess(&bo, r->valuestring, strlen(r->valuestring), &t);
                if (!same_tokens(t.p ? t.p : "", e->valuestring))
                    fail_msg("%s: tokenized ref = \"%s\", expected \"%s\"", id, t.p, e->valuestring);
                kv_buf_free(&t);
            }
        }
    }
    kv_bleu_score sc;
    kv_bleu_compute(&bo, &total, &sc);
    int N = sc.max_order;
    check_num(sc.score, exp, "score", id);
    check_array(cJSON_GetObjectItemCaseSensitive(exp, "counts"), sc.counts, N, id, "counts");
    check_array(cJSON_GetObjectItemCaseSensitive(exp, "totals"), sc.totals, N, id, "totals");
    check_array(cJSON_GetObjectItemCaseSensitive(exp, "precisions"), sc.precisions, N, id,
                "precisions");
    check_num(sc.bp, exp, "bp", id);
    check_num((double)sc.sys_len, exp, "sys_len", id);
    check_num((double)sc.ref_len, exp, "ref_len", id);
    check_num(sc.ratio, exp, "ratio", id);
    kv_bleu_free(b);
}

static void run_chrf(const cJSON *rec)
{
    const char *id = cJSON_GetObjectItemCaseSensitive(rec, "id")->valuestring;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(rec, "options");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(rec, "expected");
    kv_chrf_opts co = kv_chrf_defaults();
    co.char_order = (int)opt_num(o, "char_order", 6);
    co.word_order = (int)opt_num(o, "word_order", 0);
    co.beta = opt_num(o, "beta", 2);
    co.lowercase = opt_bool(o, "lowercase", false);
    co.whitespace = opt_bool(o, "whitespace", false);
    co.eps_smoothing = opt_bool(o, "eps_smoothing", false);
    kv_chrf *c = kv_chrf_new(&co);
    assert_non_null(c);
    const cJSON *hyps = cJSON_GetObjectItemCaseSensitive(rec, "hyps");
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(rec, "refs");
    kv_chrf_stats total = {0};
    char err[256];
    int orders = co.char_order + co.word_order;
    for (int i = 0; i < cJSON_GetArraySize(hyps); i++) {
        const char *h = cJSON_GetArrayItem(hyps, i)->valuestring;
        const char *rs[16];
        size_t rl[16];
        size_t nr = segment_refs(refs, (size_t)i, rs, rl);
        kv_chrf_stats st;
        if (kv_chrf_segment(c, h, strlen(h), rs, rl, nr, &st, err, sizeof err) != 0)
            fail_msg("%s: %s", id, err);
        kv_chrf_stats_add(&total, &st, orders);
    }
    double stats[3 * KV_CHRF_MAX_ORDER];
    for (int i = 0; i < 3 * orders; i++)
        stats[i] = (double)total.v[i];
    check_array(cJSON_GetObjectItemCaseSensitive(exp, "stats"), stats, 3 * orders, id, "stats");
    check_num(kv_chrf_compute(&co, &total), exp, "score", id);
    kv_chrf_free(c);
}

static void test_bleu_vectors(void **state)
{
    const char *p;
    KV_REQUIRE_SHARED(p, "vectors/metrics.jsonl");
    size_t ran = 0;
    for (size_t i = 0; i < n_records; i++)
        if (strcmp(metric_of(records[i]), "bleu") == 0) {
            run_bleu(records[i]);
            ran++;
        }
    print_message("BLEU: %zu reference cases reproduced\n", ran);
    assert_true(ran >= 78);
}

static void test_chrf_vectors(void **state)
{
    const char *p;
    KV_REQUIRE_SHARED(p, "vectors/metrics.jsonl");
    size_t ran = 0;
    for (size_t i = 0; i < n_records; i++) {
        const char *m = metric_of(records[i]);
        if (strcmp(m, "chrf") == 0 || strcmp(m, "chrf++") == 0) {
            run_chrf(records[i]);
            ran++;
        }
    }
    print_message("chrF/chrF++: %zu reference cases reproduced\n", ran);
    assert_true(ran >= 44);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bleu_vectors),
        cmocka_unit_test(test_chrf_vectors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
