/*
 * Score-related bug-report cases from ../shared/cases/handoff.jsonl, with
 * their inputs copied here and the values koeval must produce:
 *   B03  BLEU depends on the tokenizer: the same Korean output per tokenizer
 *   B04  short identical answers: corpus BLEU 0 without effective order,
 *        100 with it (sentence BLEU)
 *   B05  empty hypotheses stay in the corpus (their reference length counts)
 *   B07  NFD Hangul (macOS) equals NFC after normalization
 * (B01, Korean ROUGE, is in test_rouge.c.) Each is fixed as a kind: the
 * tests also check neighbours of the reported input.
 */
#include "tests/testutil.h"

#include <math.h>
#include <string.h>

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "scoring/bleu.h"
#include "scoring/chrf.h"
#include "src/text.h"

static double corpus_bleu(const char *tok, bool eff, const char *const *hyps,
                          const char *const *refs, size_t n, kv_bleu_score *out)
{
    kv_bleu_opts o = {.tokenizer = kv_tokenizer_find(tok), .smooth = KV_SMOOTH_EXP,
                      .smooth_value = -1, .effective_order = eff, .max_order = 4};
    kv_bleu *b = kv_bleu_new(&o);
    kv_bleu_stats sum = {0};
    char err[128];
    for (size_t i = 0; i < n; i++) {
        size_t rl = strlen(refs[i]);
        kv_bleu_stats st;
        assert_int_equal(kv_bleu_segment(b, hyps[i], strlen(hyps[i]), &refs[i], &rl, 1, &st, err,
                                         sizeof err),
                         0);
        kv_bleu_stats_add(&sum, &st);
    }
    kv_bleu_score sc;
    kv_bleu_compute(&o, &sum, &sc);
    kv_bleu_free(b);
    if (out)
        *out = sc;
    return sc.score;
}

static double corpus_chrf(int word_order, const char *const *hyps, const char *const *refs,
                          size_t n)
{
    kv_chrf_opts o = kv_chrf_defaults();
    o.word_order = word_order;
    kv_chrf *c = kv_chrf_new(&o);
    kv_chrf_stats sum = {0};
    char err[128];
    for (size_t i = 0; i < n; i++) {
        size_t rl = strlen(refs[i]);
        kv_chrf_stats st;
        assert_int_equal(
            kv_chrf_segment(c, hyps[i], strlen(hyps[i]), &refs[i], &rl, 1, &st, err, sizeof err), 0);
        kv_chrf_stats_add(&sum, &st, o.char_order + o.word_order);
    }
    double s = kv_chrf_compute(&o, &sum);
    kv_chrf_free(c);
    return s;
}

static void test_b03_bleu_tokenizer_dependence(void **state)
{
    const char *hyps[] = {"어제 김치찌개를 먹어서 한식 말고 돈가스를 먹기로 했다.",
                          "회의는 내일 오후 3시에 시작합니다."};
    const char *refs[] = {"어제 김치찌개를 먹었기 때문에 점심으로 돈가스를 먹기로 했다.",
                          "회의는 내일 오후 세 시에 시작됩니다."};
    /* the case gives 4 decimals */
    assert_near(corpus_bleu("13a", false, hyps, refs, 2, NULL), 29.0702, 5e-5);
    assert_near(corpus_bleu("intl", false, hyps, refs, 2, NULL), 29.0702, 5e-5);
    assert_near(corpus_bleu("none", false, hyps, refs, 2, NULL), 23.9022, 5e-5);
    assert_near(corpus_bleu("char", false, hyps, refs, 2, NULL), 59.8919, 5e-5);
    assert_near(corpus_chrf(0, hyps, refs, 2), 52.4926, 5e-5);
    assert_near(corpus_chrf(2, hyps, refs, 2), 52.7159, 5e-5);
    /* the signature names the tokenizer, so the numbers cannot be mixed up */
    kv_bleu_opts o = {.tokenizer = kv_tokenizer_find("char"), .smooth_value = -1};
    char sig[256];
    kv_bleu_signature(&o, 1, "nfc", sig, sizeof sig);
    assert_non_null(strstr(sig, "|tok:char|"));
    assert_non_null(strstr(sig, "nrefs:1|case:mixed|eff:no|tok:char|smooth:exp"));
}

static void test_b04_short_segments(void **state)
{
    const char *h[] = {"서울 특별시"}, *r[] = {"서울 특별시"};
    /* two tokens: no 3- or 4-grams, so the geometric mean has log(0) terms */
    assert_close(corpus_bleu("13a", false, h, r, 1, NULL), 0.0);
    assert_close(corpus_bleu("13a", true, h, r, 1, NULL), 100.0);
    const char *c[] = {"대한민국의 수도는 서울특별시 이다"};
    assert_close(corpus_bleu("13a", false, c, c, 1, NULL), 100.0);
    assert_close(corpus_bleu("13a", true, c, c, 1, NULL), 100.0);
    /* the same kind: a one-token answer */
    const char *one[] = {"서울"};
    assert_close(corpus_bleu("13a", false, one, one, 1, NULL), 0.0);
    assert_close(corpus_bleu("13a", true, one, one, 1, NULL), 100.0);
}

static void test_b05_empty_hypotheses_kept(void **state)
{
    const char *hyps[] = {"서울은 한국의 수도이다 .", "", "부산은 큰 항구 도시이다 ."};
    const char *refs[] = {"서울은 한국의 수도이다 .", "대전은 과학 도시로 알려져 있다 .",
                          "부산은 큰 항구 도시이다 ."};
    kv_bleu_score sc;
    assert_near(corpus_bleu("13a", false, hyps, refs, 3, &sc), 51.3417, 5e-5);
    assert_near(sc.bp, 0.513417, 5e-7);
    assert_int_equal(sc.sys_len, 9);
    assert_int_equal(sc.ref_len, 15);
    /* exact: every n-gram matches, so BLEU = BP = exp(1 - 15/9) */
    assert_close(sc.score, 100.0 * exp(1.0 - 15.0 / 9.0));
    const char *empty[] = {"", "", ""};
    assert_close(corpus_bleu("13a", false, empty, refs, 3, &sc), 0.0);
    assert_int_equal(sc.ref_len, 15);
    /* dropping the empty pair would give 100: it must not happen */
    const char *h2[] = {hyps[0], hyps[2]}, *r2[] = {refs[0], refs[2]};
    assert_close(corpus_bleu("13a", false, h2, r2, 2, NULL), 100.0);
}

/* NFD of a UTF-8 string, by ICU (as macOS file systems write Hangul) */
static void to_nfd(const char *s, char *dst, size_t dstlen)
{
    UErrorCode err = U_ZERO_ERROR;
    UChar u[512], d[1024];
    int32_t ulen = 0, dlen;
    u_strFromUTF8(u, 512, &ulen, s, -1, &err);
    dlen = unorm2_normalize(unorm2_getNFDInstance(&err), u, ulen, d, 1024, &err);
    u_strToUTF8(dst, (int32_t)dstlen, NULL, d, dlen, &err);
    assert_false(U_FAILURE(err));
}

static void test_b07_nfd_hangul(void **state)
{
    const char nfd[] = "\xe1\x84\x90\xe1\x85\xa6\xe1\x84\x89\xe1\x85\xb3\xe1\x84\x90\xe1\x85\xb3";
    const char *nfc = "테스트";
    assert_int_equal(kv_utf8_count(nfd, strlen(nfd)), 6);
    assert_true(strcmp(nfd, nfc) != 0);
    kv_norm_opts o = {.form = KV_NORM_NFC};
    kv_buf n = {0};
    assert_int_equal(kv_normalize(&o, nfd, strlen(nfd), &n), 0);
    assert_string_equal(n.p, nfc);
    assert_int_equal(kv_utf8_count(n.p, n.len), 3);
    kv_buf t = {0};
    kv_tok_char(n.p, n.len, 0, &t);
    assert_string_equal(t.p, "테 스 트");
    /* character metrics on the normalized text: perfect */
    const char *h[] = {n.p}, *r[] = {nfc};
    assert_close(corpus_chrf(0, h, r, 1), 100.0);
    /* without normalization the jamo never match the syllables: the fault */
    const char *hr[] = {nfd};
    assert_close(corpus_chrf(0, hr, r, 1), 0.0);
    /* regression guard: a longer sentence written on a Mac (NFD) scores as
     * its NFC form once normalized, on word and character metrics alike */
    const char *sent = "한국어 문장을 맥에서 저장했다, 파일 이름은 테스트.txt";
    const char *ref = "한국어 문장을 맥에서 저장했습니다. 파일 이름은 테스트.txt";
    char decomposed[512];
    to_nfd(sent, decomposed, sizeof decomposed);
    assert_true(strlen(decomposed) > strlen(sent));
    kv_buf back = {0};
    assert_int_equal(kv_normalize(&o, decomposed, strlen(decomposed), &back), 0);
    const char *hn[] = {back.p}, *hc[] = {sent}, *rr[] = {ref};
    assert_close(corpus_chrf(0, hn, rr, 1), corpus_chrf(0, hc, rr, 1));
    assert_close(corpus_bleu("char", false, hn, rr, 1, NULL), corpus_bleu("char", false, hc, rr, 1, NULL));
    assert_close(corpus_bleu("13a", false, hn, rr, 1, NULL), corpus_bleu("13a", false, hc, rr, 1, NULL));
    kv_buf_free(&back);
    kv_buf_free(&n);
    kv_buf_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b03_bleu_tokenizer_dependence),
        cmocka_unit_test(test_b04_short_segments),
        cmocka_unit_test(test_b05_empty_hypotheses_kept),
        cmocka_unit_test(test_b07_nfd_hangul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
