/*
 * Language fidelity (scoring/fidelity.c). Letter counts are done by hand in
 * the comments: a Hangul syllable, a Han character and a kana are one letter
 * each; a Latin word of k letters is k letters; digits, punctuation and
 * spaces are not letters.
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <string.h>

#include "scoring/fidelity.h"

static kv_fidelity_checker *fc;

static int setup(void **state)
{
    char err[256];
    fc = kv_fidelity_new(NULL, err, sizeof err);
    if (!fc)
        fail_msg("%s", err);
    return 0;
}

static int teardown(void **state)
{
    kv_fidelity_free(fc);
    return 0;
}

static kv_fidelity check_with(kv_fidelity_checker *f, const char *lang, const char *s)
{
    kv_fidelity out;
    char err[256] = "";
    int rc = kv_fidelity_check(f, lang, s, strlen(s), &out, err, sizeof err);
    if (rc != KV_FID_OK)
        fail_msg("kv_fidelity_check(%s): %d %s", lang, rc, err);
    return out;
}

static kv_fidelity check(const char *lang, const char *s)
{
    return check_with(fc, lang, s);
}

static void korean(void **state)
{
    /* 서울은 3 + 대한민국의 5 + 수도입니다 5 = 13 Hangul letters */
    kv_fidelity f = check("ko", "서울은 대한민국의 수도입니다.");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 13);
    assert_int_equal(f.expected, 13);
    assert_int_equal(f.by_group[KV_SCRIPT_HANGUL], 13);
    assert_int_equal(f.dominant, KV_SCRIPT_HANGUL);
    assert_close(f.share, 1.0);
    assert_close(f.han_share, 0.0);
    assert_close(f.latin_share, 0.0);
}

static void english(void **state)
{
    /* Seoul 5, is 2, the 3, capital 7, of 2, South 5, Korea 5 = 29 */
    kv_fidelity f = check("en", "Seoul is the capital of South Korea.");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 29);
    assert_int_equal(f.by_group[KV_SCRIPT_LATIN], 29);
    assert_close(f.share, 1.0);
}

static void japanese(void **state)
{
    /* 東京は日本の首都です: Han 東京日本首都 6, kana はのです 4 */
    kv_fidelity f = check("ja", "東京は日本の首都です。");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 10);
    assert_int_equal(f.by_group[KV_SCRIPT_HAN], 6);
    assert_int_equal(f.by_group[KV_SCRIPT_KANA], 4);
    assert_close(f.share, 1.0);
    /* ー (U+30FC, Lm, script Common) counts through its Script_Extensions
     * (Hiragana, Katakana): コーヒー is 4 kana letters */
    f = check("ja-JP", "コーヒー");
    assert_int_equal(f.letters, 4);
    assert_int_equal(f.by_group[KV_SCRIPT_KANA], 4);
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
}

static void chinese(void **state)
{
    /* 北京是中国的首都: 8 Han letters */
    kv_fidelity f = check("zh", "北京是中国的首都。");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 8);
    assert_int_equal(f.by_group[KV_SCRIPT_HAN], 8);
    /* zh-Hant is Han too (Hans and Hant are not told apart) */
    f = check("zh-Hant", "臺北是臺灣的首都。");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 8);
    /* the same Chinese sentence asked for in Japanese: 8 letters >= 6 and
     * no kana → Chinese, not Japanese */
    f = check("ja", "北京是中国的首都。");
    assert_int_equal(f.verdict, KV_FIDELITY_WRONG);
    assert_close(f.share, 1.0);
    /* a short all-Han Japanese answer (2 letters < 6) is fine */
    f = check("ja", "東京");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
}

static void korean_with_english_words(void **state)
{
    /* Hangul: 저는 2 + 과 1 + 를 1 + 좋아합니다 5 = 9; Latin: Python 6 + C 1 = 7;
     * letters 16; share 9/16 = 0.5625 ≥ 0.5; Latin leakage 7/16 */
    const char *s = "저는 Python과 C를 좋아합니다";
    kv_fidelity f = check("ko", s);
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 16);
    assert_int_equal(f.expected, 9);
    assert_int_equal(f.by_group[KV_SCRIPT_LATIN], 7);
    assert_close(f.share, 9.0 / 16);
    assert_close(f.latin_share, 7.0 / 16);
    assert_close(f.han_share, 0.0);

    /* with a stricter threshold 0.6 the same answer fails */
    kv_fidelity_opts o = kv_fidelity_defaults();
    o.threshold = 0.6;
    char err[128];
    kv_fidelity_checker *strict = kv_fidelity_new(&o, err, sizeof err);
    assert_non_null(strict);
    f = check_with(strict, "ko", s);
    assert_int_equal(f.verdict, KV_FIDELITY_WRONG);
    kv_fidelity_free(strict);

    /* mostly English: The 3 answer 6 is 2 = 11 Latin, 서울 2 Hangul; 2/13 */
    f = check("ko", "The answer is 서울");
    assert_int_equal(f.verdict, KV_FIDELITY_WRONG);
    assert_close(f.share, 2.0 / 13);
    assert_int_equal(f.dominant, KV_SCRIPT_LATIN);
}

static void korean_with_hanja(void **state)
{
    /* Han 大韓民國 4; Hangul 의 1 + 수도는 3 + 서울입니다 5 = 9; letters 13:
     * Hanja as a minority is leakage, not a failure */
    kv_fidelity f = check("ko", "大韓民國의 수도는 서울입니다");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 13);
    assert_int_equal(f.expected, 9);
    assert_int_equal(f.tolerated, 4);
    assert_close(f.share, 9.0 / 13);
    assert_close(f.han_share, 4.0 / 13);
    /* Han dominating: 大韓民國 首都 6 Han > 서울 2 Hangul → fails */
    f = check("ko", "大韓民國 首都 서울");
    assert_int_equal(f.verdict, KV_FIDELITY_WRONG);
    assert_close(f.han_share, 6.0 / 8);
}

static void code_url_email_ignored(void **state)
{
    const char *fence = "```python\nprint('hello world')\n```";
    const char *url = "https://docs.python.org/3/";
    const char *code = "`len()`";
    const char *mail = "help@example.com";
    char s[512];
    snprintf(s, sizeof s,
             "다음 코드를 보세요:\n%s\n자세한 내용은 %s 를 참고하세요. %s 함수도 "
             "있습니다. 메일: %s",
             fence, url, code, mail);
    /* Hangul: 다음 2, 코드를 3, 보세요 3, 자세한 3, 내용은 3, 를 1, 참고하세요 5,
     * 함수도 3, 있습니다 4, 메일 2 = 29; no Latin letter is counted */
    kv_fidelity f = check("ko", s);
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 29);
    assert_int_equal(f.by_group[KV_SCRIPT_LATIN], 0);
    assert_close(f.share, 1.0);
    assert_int_equal(f.excluded_bytes, strlen(fence) + strlen(url) + strlen(code) + strlen(mail));

    /* an unclosed fence runs to the end; a ~~~ fence at a line start is
     * code; Korean elongation "좋아요~~~" inside a line is not */
    f = check("ko", "설명입니다\n```\nint main(void) { return 0; }");
    assert_int_equal(f.letters, 5);
    f = check("ko", "예시\n~~~\nfoo bar\n~~~\n끝");
    assert_int_equal(f.letters, 3); /* 예시 2 + 끝 1 */
    f = check("ko", "좋아요~~~ 정말 좋아요");
    assert_int_equal(f.letters, 8);
    assert_int_equal(f.excluded_bytes, 0);
    /* Hangul right after a URL stays prose: 에서 2 + 확인하세요 5 */
    f = check("ko", "www.example.com에서 확인하세요");
    assert_int_equal(f.letters, 7);
    assert_int_equal(f.by_group[KV_SCRIPT_LATIN], 0);
}

static void translation_target_is_exempt(void **state)
{
    /* a ko→en translation item: the answer is checked against the item's
     * target_lang "en", where it is right (The 3 weather 7 is 2 nice 4 today 5) */
    const char *s = "The weather is nice today.";
    kv_fidelity f = check("en", s);
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.letters, 21);
    /* against the prompt's language it would have been a failure */
    f = check("ko", s);
    assert_int_equal(f.verdict, KV_FIDELITY_WRONG);
    assert_close(f.latin_share, 1.0);
}

static void chinese_answer_to_korean_prompt(void **state)
{
    /* 首尔是韩国的首都: 8 Han, 0 Hangul → tolerated Han outnumbers Hangul */
    kv_fidelity f = check("ko", "首尔是韩国的首都。");
    assert_int_equal(f.verdict, KV_FIDELITY_WRONG);
    assert_int_equal(f.letters, 8);
    assert_close(f.share, 0.0);
    assert_close(f.han_share, 1.0);
    assert_int_equal(f.dominant, KV_SCRIPT_HAN);
}

static void undetermined(void **state)
{
    kv_fidelity f = check("ko", "12345");
    assert_int_equal(f.verdict, KV_FIDELITY_UNDETERMINED);
    assert_int_equal(f.letters, 0);
    assert_int_equal(f.dominant, KV_SCRIPT_OTHER);
    f = check("ko", "3.14 + 2 = 5.14 → ½ ≈ 0.5!");
    assert_int_equal(f.verdict, KV_FIDELITY_UNDETERMINED);
    f = check("ko", "");
    assert_int_equal(f.verdict, KV_FIDELITY_UNDETERMINED);
    /* one letter is below the minimum of 2 */
    f = check("ko", "B");
    assert_int_equal(f.verdict, KV_FIDELITY_UNDETERMINED);
    assert_int_equal(f.letters, 1);
    /* two are enough: "B번" is 1 Latin + 1 Hangul, accepted 1/2 ≥ 0.5 */
    f = check("ko", "B번");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_close(f.share, 0.5);
}

static void bad_utf8(void **state)
{
    /* 0xFF becomes U+FFFD (a symbol, not a letter): 서울 2 + 입니다 3 */
    kv_fidelity f = check("ko", "서울\xff입니다");
    assert_int_equal(f.letters, 5);
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
}

static void language_tags(void **state)
{
    assert_true(kv_fidelity_lang_known("ko"));
    assert_true(kv_fidelity_lang_known("ko-KR"));
    assert_true(kv_fidelity_lang_known("ZH_tw"));
    assert_true(kv_fidelity_lang_known("en-US"));
    assert_true(kv_fidelity_lang_known("ru"));
    assert_false(kv_fidelity_lang_known("xx"));
    assert_false(kv_fidelity_lang_known(""));
    assert_false(kv_fidelity_lang_known("-ko"));
    assert_false(kv_fidelity_lang_known(NULL));
    assert_false(kv_fidelity_lang_known("k"));
    kv_fidelity f;
    char err[128];
    assert_int_equal(kv_fidelity_check(fc, "klingon", "x", 1, &f, err, sizeof err),
                     KV_FID_ERR_LANG);
    assert_non_null(strstr(err, "klingon"));
    /* Russian: Москва 6 Cyrillic */
    f = check("ru", "Москва");
    assert_int_equal(f.verdict, KV_FIDELITY_OK);
    assert_int_equal(f.by_group[KV_SCRIPT_CYRILLIC], 6);
    assert_string_equal(kv_fidelity_verdict_name(KV_FIDELITY_WRONG), "wrong_language");
    assert_string_equal(kv_script_group_name(KV_SCRIPT_KANA), "kana");
}

static void rate_over_answers(void **state)
{
    kv_fidelity_sum sum = {0};
    kv_fidelity_sum_add(&sum, &(kv_fidelity){.verdict = KV_FIDELITY_OK, .share = 1.0});
    kv_fidelity_sum_add(
        &sum, &(kv_fidelity){.verdict = KV_FIDELITY_OK, .share = 0.5, .latin_share = 0.5});
    kv_fidelity_sum_add(&sum, &(kv_fidelity){.verdict = KV_FIDELITY_WRONG, .han_share = 0.9});
    kv_fidelity_sum_add(&sum, &(kv_fidelity){.verdict = KV_FIDELITY_UNDETERMINED});
    assert_int_equal(sum.answers, 4);
    assert_int_equal(sum.undetermined, 1);
    /* 2 ok of 3 determined */
    assert_close(kv_fidelity_rate(&sum), 2.0 / 3);
    double share, han, latin;
    kv_fidelity_means(&sum, &share, &han, &latin);
    assert_close(share, 1.5 / 3);
    assert_close(han, 0.9 / 3);
    assert_close(latin, 0.5 / 3);
    kv_fidelity_sum empty = {0};
    assert_close(kv_fidelity_rate(&empty), 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(korean),
        cmocka_unit_test(english),
        cmocka_unit_test(japanese),
        cmocka_unit_test(chinese),
        cmocka_unit_test(korean_with_english_words),
        cmocka_unit_test(korean_with_hanja),
        cmocka_unit_test(code_url_email_ignored),
        cmocka_unit_test(translation_target_is_exempt),
        cmocka_unit_test(chinese_answer_to_korean_prompt),
        cmocka_unit_test(undetermined),
        cmocka_unit_test(bad_utf8),
        cmocka_unit_test(language_tags),
        cmocka_unit_test(rate_over_answers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
