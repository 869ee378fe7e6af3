/*
 * Tests for scoring/rouge.c: rouge-score 0.1.2 conformance vectors, the B01
 * bug case (Korean ROUGE = 0 under rouge-score's tokenizer), and edge cases
 * of the summary-level LCS and the size guard.
 */
#include "tests/testutil.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/rouge.h"
#include "src/buf.h"
#include "tokenizers/tokenizer.h"

static kv_rouge_score score_with(const char *tok, int flags, int type, const char *target,
                                 const char *prediction)
{
    kv_rouge_opts o = {kv_tokenizer_find(tok), flags};
    assert_non_null(o.tokenizer);
    kv_rouge_score s;
    char err[256] = "";
    int rc = kv_rouge_score_one(&o, type, target, strlen(target), prediction, strlen(prediction),
                                &s, err, sizeof err);
    if (rc != 0)
        fail_msg("kv_rouge_score_one: %s", err);
    return s;
}

static void test_parse_type(void **state)
{
    (void)state;
    assert_int_equal(kv_rouge_parse_type("rouge1"), 1);
    assert_int_equal(kv_rouge_parse_type("rouge9"), 9);
    assert_int_equal(kv_rouge_parse_type("rougeL"), KV_ROUGE_L);
    assert_int_equal(kv_rouge_parse_type("rougeLsum"), KV_ROUGE_LSUM);
    assert_int_equal(kv_rouge_parse_type("rouge0"), -1);
    assert_int_equal(kv_rouge_parse_type("rouge10"), -1);
    assert_int_equal(kv_rouge_parse_type("rougel"), -1);
    assert_int_equal(kv_rouge_parse_type("bleu"), -1);
    assert_string_equal(kv_rouge_type_name(2), "rouge2");
    assert_string_equal(kv_rouge_type_name(KV_ROUGE_LSUM), "rougeLsum");
}

/* Every rouge case of ../shared/vectors/metrics.jsonl, to relative 1e-9. */
static void test_rouge_vectors(void **state)
{
    (void)state;
    const char *path;
    KV_REQUIRE_SHARED(path, "vectors/metrics.jsonl");
    size_t n = 0, ran = 0;
    cJSON **recs = kv_test_read_jsonl(path, &n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *metric = cJSON_GetObjectItem(recs[i], "metric");
        if (!cJSON_IsString(metric) || strncmp(metric->valuestring, "rouge", 5) != 0)
            continue;
        const char *id = cJSON_GetObjectItem(recs[i], "id")->valuestring;
        int type = kv_rouge_parse_type(metric->valuestring);
        if (type < 0)
            fail_msg("%s: unknown metric %s", id, metric->valuestring);
        const cJSON *opts = cJSON_GetObjectItem(recs[i], "options");
        const char *tok = cJSON_GetObjectItem(opts, "tokenizer")->valuestring;
        kv_rouge_opts o = {
            kv_tokenizer_find(strcmp(tok, "default") == 0 ? "rouge" : tok),
            cJSON_IsTrue(cJSON_GetObjectItem(opts, "use_stemmer")) ? KV_TOK_STEM : 0,
        };
        if (!o.tokenizer)
            fail_msg("%s: no tokenizer %s", id, tok);
        const char *hyp = cJSON_GetArrayItem(cJSON_GetObjectItem(recs[i], "hyps"), 0)->valuestring;
        const cJSON *refs = cJSON_GetObjectItem(recs[i], "refs");
        const char *api = cJSON_GetObjectItem(recs[i], "api")->valuestring;
        const char *targets[16];
        size_t lens[16], nt = 0;
        for (int k = 0; k < cJSON_GetArraySize(refs) && nt < 16; k++) {
            const cJSON *ref = cJSON_GetArrayItem(cJSON_GetArrayItem(refs, k), 0);
            if (cJSON_IsString(ref)) {
                targets[nt] = ref->valuestring;
                lens[nt++] = strlen(ref->valuestring);
            }
        }
        assert_true(nt >= 1);
        kv_rouge_score s;
        char err[256] = "";
        int rc;
        if (strstr(api, "score_multi"))
            rc = kv_rouge_score_multi(&o, type, targets, lens, nt, hyp, strlen(hyp), &s, err,
                                      sizeof err);
        else
            rc = kv_rouge_score_one(&o, type, targets[0], lens[0], hyp, strlen(hyp), &s, err,
                                    sizeof err);
        if (rc != 0)
            fail_msg("%s: %s", id, err);
        const cJSON *exp = cJSON_GetObjectItem(recs[i], "expected");
        print_message("%-60s P=%.6f R=%.6f F=%.6f\n", id, s.precision, s.recall, s.fmeasure);
        assert_close(s.precision, cJSON_GetObjectItem(exp, "precision")->valuedouble);
        assert_close(s.recall, cJSON_GetObjectItem(exp, "recall")->valuedouble);
        assert_close(s.fmeasure, cJSON_GetObjectItem(exp, "fmeasure")->valuedouble);
        ran++;
    }
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(recs[i]);
    free(recs);
    print_message("%zu rouge vector cases ran and passed\n", ran);
    assert_true(ran > 0);
}

/* B01 (cosmoquester/2021-dialogue-summary-competition#22): rouge-score's
 * tokenizer deletes Hangul, so a good Korean summary scores 0. */
static const char b01_pred[] = "어제 김치찌개를 먹어서 한식 말고 돈가스를 먹기로 했다.";
static const char b01_ref[] = "어제 김치찌개를 먹었기 때문에 점심으로 돈가스를 먹기로 했다.";

static void test_b01_default_tokenizer_is_zero(void **state)
{
    (void)state;
    assert_near(score_with("rouge", 0, 1, b01_ref, b01_pred).fmeasure, 0.0, 1e-6);
    assert_near(score_with("rouge", 0, KV_ROUGE_L, b01_ref, b01_pred).fmeasure, 0.0, 1e-6);
}

static void test_b01_unicode_words(void **state)
{
    (void)state;
    assert_near(score_with("unicode", 0, 1, b01_ref, b01_pred).fmeasure, 0.625, 1e-6);
    assert_near(score_with("unicode", 0, 2, b01_ref, b01_pred).fmeasure, 0.428571, 1e-6);
    assert_near(score_with("unicode", 0, KV_ROUGE_L, b01_ref, b01_pred).fmeasure, 0.625, 1e-6);
    kv_rouge_score s = score_with("unicode", 0, 1, b01_ref, b01_pred);
    assert_close(s.precision, 5.0 / 8.0); /* 8 tokens on each side */
    assert_close(s.recall, 5.0 / 8.0);
}

/* The syllable variant: every Hangul syllable a token, fed as
 * space-separated syllables through the whitespace tokenizer. */
static size_t syllables(const char *s, kv_buf *out)
{
    kv_buf words = {0};
    assert_int_equal(kv_tok_unicode(s, strlen(s), 0, &words), 0);
    size_t count = 0;
    for (size_t i = 0; i < words.len;) {
        unsigned char c = (unsigned char)words.p[i];
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (c != ' ') {
            if (out->len)
                kv_buf_putc(out, ' ');
            kv_buf_put(out, words.p + i, len);
            count++;
        }
        i += len;
    }
    kv_buf_free(&words);
    if (!out->p)
        kv_buf_put(out, "", 0);
    return count;
}

static void test_b01_syllables(void **state)
{
    (void)state;
    kv_buf p = {0}, r = {0};
    assert_int_equal(syllables(b01_pred, &p), 23);
    assert_int_equal(syllables(b01_ref, &r), 26);
    assert_near(score_with("whitespace", 0, 1, r.p, p.p).fmeasure, 0.693878, 1e-6);
    assert_near(score_with("whitespace", 0, 2, r.p, p.p).fmeasure, 0.638298, 1e-6);
    assert_near(score_with("whitespace", 0, KV_ROUGE_L, r.p, p.p).fmeasure, 0.693878, 1e-6);
    kv_buf_free(&p);
    kv_buf_free(&r);
}

/* Guard: an identical non-empty Korean pair scores 1.0 under `unicode`.
 * ROUGE-2 needs a bigram: a one-word answer has none, and rouge-score's
 * formula then gives 0 on both sides (as in English), so it is checked on
 * the pairs with at least two tokens. */
static void test_identical_korean_is_one(void **state)
{
    (void)state;
    static const char *const pairs[] = {
        "서울은 한국의 수도이다.",
        "어제 김치찌개를 먹어서 한식 말고 돈가스를 먹기로 했다.",
        "「안녕하세요」, 반갑습니다!",
        "오늘은 날씨가 아주 좋네요!\n저는 내일 부산에 갈 예정입니다.",
        "GPT-4는 2023년 3월 14일에 공개되었다.",
        "서울특별시",
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *s = pairs[i];
        kv_buf toks = {0};
        assert_int_equal(kv_tok_unicode(s, strlen(s), 0, &toks), 0);
        bool two = strchr(toks.p, ' ') != NULL;
        kv_buf_free(&toks);
        const int types[] = {1, 2, KV_ROUGE_L, KV_ROUGE_LSUM};
        for (size_t k = 0; k < 4; k++) {
            if (types[k] == 2 && !two)
                continue;
            kv_rouge_score sc = score_with("unicode", 0, types[k], s, s);
            if (sc.fmeasure != 1.0 || sc.precision != 1.0 || sc.recall != 1.0)
                fail_msg("%s on \"%s\": F=%g", kv_rouge_type_name(types[k]), s, sc.fmeasure);
        }
    }
}

static void test_edge_cases(void **state)
{
    (void)state;
    kv_rouge_score s = score_with("rouge", 0, 1, "", "");
    assert_true(s.precision == 0 && s.recall == 0 && s.fmeasure == 0);
    s = score_with("rouge", 0, KV_ROUGE_LSUM, "\n\n", "a\n\nb");
    assert_true(s.fmeasure == 0);
    /* Lsum: blank and token-less lines are dropped, lines are sentences */
    s = score_with("rouge", 0, KV_ROUGE_LSUM, "a b c\n\n!!\nd e", "a b\n\nd e f");
    assert_close(s.precision, 4.0 / 5.0);
    assert_close(s.recall, 4.0 / 5.0);
    /* per-token budgets: "a" twice in the union but once in the prediction */
    s = score_with("rouge", 0, KV_ROUGE_LSUM, "a b\na c", "a");
    assert_close(s.precision, 1.0);
    assert_close(s.recall, 1.0 / 4.0);
    /* ROUGE-N longer than the text: no n-grams, precision 0/max(0,1) */
    s = score_with("rouge", 0, 3, "a b", "a b");
    assert_true(s.fmeasure == 0);
    /* NULL options mean rouge-score's default tokenizer without stemming */
    char err[128];
    assert_int_equal(kv_rouge_score_one(NULL, 1, "The Cats", 8, "cats!", 5, &s, err, sizeof err),
                     0);
    assert_close(s.recall, 0.5);
    assert_int_equal(kv_rouge_score_one(NULL, 42, "a", 1, "a", 1, &s, err, sizeof err), -1);
}

static void test_multi_first_on_ties(void **state)
{
    (void)state;
    kv_rouge_opts o = {kv_tokenizer_find("rouge"), 0};
    /* With prediction "a b p q" both targets give F = 1/3 exactly, with
     * P/R = 1/4, 1/2 and 1/2, 1/4: the first target in order wins. */
    const char *targets[] = {"a x", "a b c d e f g h", "a x"};
    size_t lens[] = {3, 15, 3};
    kv_rouge_score s;
    char err[128];
    assert_int_equal(
        kv_rouge_score_multi(&o, 1, targets, lens, 2, "a b p q", 7, &s, err, sizeof err), 0);
    assert_close(s.recall, 0.5);
    assert_int_equal(
        kv_rouge_score_multi(&o, 1, targets + 1, lens + 1, 2, "a b p q", 7, &s, err, sizeof err),
        0);
    assert_close(s.recall, 0.25);
    /* a strictly better later target wins */
    assert_int_equal(
        kv_rouge_score_multi(&o, 1, targets, lens, 2, "a b c d e f g h", 15, &s, err, sizeof err),
        0);
    assert_close(s.fmeasure, 1.0);
}

static void test_lcs_size_guard(void **state)
{
    (void)state;
    /* 15000 x 15000 tokens = 2.25e8 token pairs: over ROUGE-Lsum's table
     * limit (2e8), well under ROUGE-L's (235 x 15000 steps of 64) */
    kv_buf big = {0};
    for (int i = 0; i < 15000; i++)
        kv_buf_put(&big, "a ", 2);
    kv_rouge_opts o = {kv_tokenizer_find("whitespace"), 0};
    kv_rouge_score s;
    char err[256] = "";
    assert_int_equal(
        kv_rouge_score_one(&o, KV_ROUGE_LSUM, big.p, big.len, big.p, big.len, &s, err, sizeof err),
        -1);
    assert_string_equal(err, "rougeLsum: summary pair too long: 15000 x 15000 tokens is over the "
                             "limit of 200000000 token pairs");
    assert_int_equal(
        kv_rouge_score_one(&o, KV_ROUGE_L, big.p, big.len, big.p, big.len, &s, err, sizeof err),
        0);
    assert_close(s.fmeasure, 1.0);
    /* 120000 x 120000 tokens: 1875 x 120000 = 2.25e8 steps, over ROUGE-L's */
    kv_buf huge = {0};
    for (int i = 0; i < 120000; i++)
        kv_buf_put(&huge, "b ", 2);
    assert_int_equal(kv_rouge_score_one(&o, KV_ROUGE_L, huge.p, huge.len, huge.p, huge.len, &s, err,
                                        sizeof err),
                     -1);
    assert_string_equal(err, "rougeL: segment pair too long: 120000 x 120000 tokens is over the "
                             "limit of 12800000000 token pairs");
    kv_buf_free(&huge);
    /* ROUGE-N has no table and is not limited */
    assert_int_equal(kv_rouge_score_one(&o, 1, big.p, big.len, big.p, big.len, &s, err, sizeof err),
                     0);
    assert_close(s.fmeasure, 1.0);
    kv_buf_free(&big);
}

/* Plain O(n*m) LCS of two token lists, for the check below. */
static size_t lcs_dp(char **a, size_t na, char **b, size_t nb)
{
    size_t *row = calloc((nb + 1) * 2, sizeof *row);
    size_t *prev = row, *cur = row + nb + 1;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = 0;
        for (size_t j = 1; j <= nb; j++) {
            if (strcmp(a[i - 1], b[j - 1]) == 0)
                cur[j] = prev[j - 1] + 1;
            else
                cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    size_t v = prev[nb];
    free(row);
    return v;
}

/* ROUGE-L with the whitespace tokenizer against a plain LCS on random token
 * lists: short and long tokens (over 8 and over 16 bytes, some equal in
 * their first 16 bytes), repeated tokens, sides of 0 to 300 tokens (both
 * the key-matching path, up to 256 tokens, and the id path above it), one
 * reused scorer, one and two targets. */
static void rougeL_random(const char *tokenizer, const char *const *vocab, const char *const *norm,
                          size_t nv, const char *sep)
{
    kv_rouge_opts o = {kv_tokenizer_find(tokenizer), 0};
    kv_rouge *r = kv_rouge_new(&o);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 400; round++) {
        char *tok[3][320];
        size_t n[3];
        char *text[3];
        for (int side = 0; side < 3; side++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            size_t len = round % 7 == 0 ? 200 + (size_t)(rng >> 40) % 100 : (size_t)(rng >> 40) % 40;
            size_t vocab_used = 3 + (size_t)(rng >> 20) % (nv - 3);
            kv_buf t = {0};
            for (size_t k = 0; k < len; k++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                size_t pick = (rng >> 33) % vocab_used;
                tok[side][k] = (char *)norm[pick];
                kv_buf_printf(&t, "%s%s", k ? sep : " ", vocab[pick]);
            }
            kv_buf_put(&t, "", 0);
            n[side] = len;
            text[side] = t.p;
        }
        const char *targets[2] = {text[1], text[2]};
        size_t lens[2] = {strlen(text[1]), strlen(text[2])};
        size_t ntargets = round % 2 ? 2 : 1;
        double best = -1, bp = 0, br = 0;
        for (size_t t = 0; t < ntargets; t++) {
            size_t l = lcs_dp(tok[1 + t], n[1 + t], tok[0], n[0]);
            double p = n[0] ? (double)l / (double)n[0] : 0, rc = n[1 + t] ? (double)l / (double)n[1 + t] : 0;
            double f = p + rc > 0 ? 2 * p * rc / (p + rc) : 0;
            if (f > best) {
                best = f;
                bp = p;
                br = rc;
            }
        }
        kv_rouge_score s;
        char err[128];
        assert_int_equal(kv_rouge_segment(r, KV_ROUGE_L, targets, lens, ntargets, text[0],
                                          strlen(text[0]), &s, err, sizeof err),
                         0);
        assert_true(fabs(s.precision - bp) < 1e-12);
        assert_true(fabs(s.recall - br) < 1e-12);
        assert_true(fabs(s.fmeasure - best) < 1e-12);
        for (int side = 0; side < 3; side++)
            free(text[side]);
    }
    kv_rouge_free(r);
}

static void test_rougeL_random_against_dp(void **state)
{
    (void)state;
    static const char *const vocab[] = {
        "a", "b", "ab", "abcdefgh", "abcdefghi", "abcdefghij", "0123456789abcdef",
        "0123456789abcdefX", "0123456789abcdefY", "0123456789abcdefXYZ", "\xec\x84\x9c\xec\x9a\xb8",
        "\xec\x84\x9c\xec\x9a\xb8\xec\x9d\x80", "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4\xeb\xa5\xbc",
        "x", "y", "z",
    };
    const size_t nv = sizeof vocab / sizeof vocab[0];
    rougeL_random("whitespace", vocab, vocab, nv, "  ");
    /* rouge-score's tokenizer: ASCII letters and digits, lowercased; any
     * other byte separates */
    static const char *const ascii[] = {"a", "B", "ab", "AbCdEfGh", "abcdefghi", "ABCDEFGHIJ",
                                        "0123456789abcdef", "0123456789ABCDEFx",
                                        "0123456789abcdefy", "x", "Y", "z9", "abcdefghij",
                                        "aBcDeFgHiJkL", "AbCdEfGhIjKl", "0123456789ABCDEF"};
    static const char *const lower[] = {"a", "b", "ab", "abcdefgh", "abcdefghi", "abcdefghij",
                                        "0123456789abcdef", "0123456789abcdefx",
                                        "0123456789abcdefy", "x", "y", "z9", "abcdefghij",
                                        "abcdefghijkl", "abcdefghijkl", "0123456789abcdef"};
    rougeL_random("rouge", ascii, lower, sizeof ascii / sizeof ascii[0], ", ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rougeL_random_against_dp),
        cmocka_unit_test(test_parse_type),
        cmocka_unit_test(test_rouge_vectors),
        cmocka_unit_test(test_b01_default_tokenizer_is_zero),
        cmocka_unit_test(test_b01_unicode_words),
        cmocka_unit_test(test_b01_syllables),
        cmocka_unit_test(test_identical_korean_is_one),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_multi_first_on_ties),
        cmocka_unit_test(test_lcs_size_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
