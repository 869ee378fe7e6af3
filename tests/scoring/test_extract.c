/*
 * Answer extraction: the bug-report cases B09, B10, B12, B13 and B15 with
 * their inputs and right values, plus neighbours of each (the whole kind of
 * fault, not the one input).
 */
#include "tests/testutil.h"

#include <string.h>

#include "scoring/extract.h"

static kv_extractor *x;

static int setup(void **state)
{
    char err[256];
    x = kv_extractor_new(err, sizeof err);
    if (!x)
        fail_msg("%s", err);
    return 0;
}

static int teardown(void **state)
{
    kv_extractor_free(x);
    return 0;
}

/* The extracted letter ('A'…) or 0 for no answer. */
static char choice(const char *s, int n_choices)
{
    int c;
    kv_extract_status st = kv_extract_choice(x, s, strlen(s), n_choices, KV_CHOICE_LAST, &c);
    return st == KV_EXTRACT_OK ? (char)('A' + c) : 0;
}

static void test_b09_korean_spacing(void **state)
{
    /* choices A–J */
    assert_int_equal(choice("답은 (I) 입니다", 10), 'I');
    assert_int_equal(choice("답은 (I)입니다", 10), 'I');
    assert_int_equal(choice("따라서 답은 ( I ) 입니다.", 10), 'I');
    /* no answer phrase: NONE, not a guessed letter */
    assert_int_equal(choice("이 문제는 어렵습니다. 다시 생각해 보겠습니다.", 10), 0);
}

static void test_b10_korean_cascade(void **state)
{
    assert_int_equal(choice("정답: B", 5), 'B');
    assert_int_equal(choice("따라서 정답은 C입니다.", 5), 'C');
    assert_int_equal(choice("D. 아세트아미노펜을 투여한다.", 5), 'D');
    assert_int_equal(choice("잘 모르겠습니다.", 5), 0);
    /* the same kind: other Korean forms */
    assert_int_equal(choice("정답은 ③번입니다.", 5), 'C');
    assert_int_equal(choice("3번이 맞습니다.", 5), 'C');
    assert_int_equal(choice("B가 정답입니다.", 4), 'B');
    assert_int_equal(choice("정답은 다입니다.", 4), 'C');
    assert_int_equal(choice("**정답: Ｄ**", 4), 'D');
}

static void test_b12_stray_capitals(void **state)
{
    assert_int_equal(choice("ANSWER: (B)\nLet me know if you need more.", 4), 'B');
    assert_int_equal(choice("选项 (B) $3.3\\mathrm{MeV}$。", 4), 'B');
    assert_int_equal(choice("**Answer: (A) She will consider his proposal inappropriate.**", 4),
                     'A');
    /* letters outside the choice set never come back */
    assert_int_equal(choice("Answer: E", 4), 0);
    /* a word that starts with a choice letter is not an answer */
    assert_int_equal(choice("Answer: Apple pie is nice.", 4), 0);
    assert_int_equal(choice("I think so. Let me check Every option.", 4), 0);
    /* Japanese and Chinese markers; last marker wins by default */
    assert_int_equal(choice("答え：C", 4), 'C');
    assert_int_equal(choice("答案是D。", 4), 'D');
    assert_int_equal(choice("Answer: A ... wait, Answer: C", 4), 'C');
    int c;
    assert_int_equal(kv_extract_choice(x, "Answer: A ... wait, Answer: C", 29, 4,
                                       KV_CHOICE_FIRST, &c),
                     KV_EXTRACT_OK);
    assert_int_equal(c, 0);
}

static void number(const char *s, const char *expected)
{
    kv_buf out = {0};
    kv_extract_status st = kv_extract_number(x, s, strlen(s), false, &out);
    if (!expected) {
        assert_int_not_equal(st, KV_EXTRACT_OK);
    } else {
        assert_int_equal(st, KV_EXTRACT_OK);
        if (strcmp(out.p, expected) != 0)
            fail_msg("number(\"%s\") = \"%s\", expected \"%s\"", s, out.p, expected);
    }
    kv_buf_free(&out);
}

static void test_b13_thousands_separators(void **state)
{
    number("\\boxed{8,000}", "8000");
    number("\\boxed{$9{,}500}", "9500");
    number("정답은 8,000원입니다.", "8000");
    number("따라서 답은 1,234,567개", "1234567");
    assert_true(kv_numbers_equal("8000", "8000.0"));
    assert_false(kv_numbers_equal("8000", "800"));
    /* the same kind */
    number("먼저 3개를 더하면 10개, 답: −12.50", "-12.5");
    number("ｔｏｔａｌ：１２３４", "1234");
    number("The answer is 42.", "42");
    number("계산: 1, 2, 3 이므로 총 6입니다", "6");
    number("no digits here", NULL);
    kv_buf out = {0};
    assert_int_equal(kv_extract_number(x, "정답은 3만 원", 18, true, &out), KV_EXTRACT_OK);
    assert_string_equal(out.p, "30000");
    /* compound Korean numbers: 천 inside a group, 만/억 closing groups */
    const char *ko[][2] = {{"정답은 2만 4천 원입니다.", "24000"},
                           {"총 3억 5천만 원", "350000000"},
                           {"답: 1,234만", "12340000"},
                           {"모두 5천 개", "5000"},
                           {"답은 12입니다", "12"}};
    for (size_t i = 0; i < sizeof ko / sizeof ko[0]; i++) {
        assert_int_equal(kv_extract_number(x, ko[i][0], strlen(ko[i][0]), true, &out),
                         KV_EXTRACT_OK);
        if (strcmp(out.p, ko[i][1]) != 0)
            fail_msg("number(\"%s\") = %s, expected %s", ko[i][0], out.p, ko[i][1]);
    }
    /* without the item's declaration, units are not read */
    assert_int_equal(kv_extract_number(x, "정답은 3만 원", 18, false, &out), KV_EXTRACT_OK);
    assert_string_equal(out.p, "3");
    kv_buf_free(&out);
}

static void test_b15_think_blocks(void **state)
{
    const char *outs[] = {"<think>\nA 같기도 하고... 답: A?\n</think>\n\n정답: C",
                          "<think>\n계산해 보면 답: A", "정답: B"};
    kv_buf t = {0};
    assert_int_equal(kv_strip_reasoning(x, outs[0], strlen(outs[0]), &t), KV_EXTRACT_OK);
    assert_string_equal(t.p, "정답: C");
    assert_int_equal(kv_strip_reasoning(x, outs[1], strlen(outs[1]), &t),
                     KV_EXTRACT_UNTERMINATED_THINK);
    assert_string_equal(t.p, "");
    assert_int_equal(kv_strip_reasoning(x, outs[2], strlen(outs[2]), &t), KV_EXTRACT_OK);
    assert_string_equal(t.p, "정답: B");
    kv_buf_free(&t);
    assert_int_equal(choice(outs[0], 4), 'C');
    int c;
    assert_int_equal(kv_extract_choice(x, outs[1], strlen(outs[1]), 4, KV_CHOICE_LAST, &c),
                     KV_EXTRACT_UNTERMINATED_THINK);
    assert_int_equal(c, -1);
    assert_int_equal(choice(outs[2], 4), 'B');
    assert_string_equal(kv_extract_status_name(KV_EXTRACT_UNTERMINATED_THINK),
                        "unterminated_think");
    /* other reasoning tags */
    assert_int_equal(choice("<reasoning>Answer: A</reasoning>Answer: D", 4), 'D');
}

static void short_answer(const char *s, const char *expected)
{
    kv_buf out = {0};
    kv_extract_short(x, s, strlen(s), &out);
    if (strcmp(out.p, expected) != 0)
        fail_msg("short(\"%s\") = \"%s\", expected \"%s\"", s, out.p, expected);
    kv_buf_free(&out);
}

static void test_short_answers(void **state)
{
    short_answer("서울입니다.", "서울");
    short_answer("서울이요", "서울");
    short_answer("서울이다", "서울");
    short_answer("도쿄예요!", "도쿄");
    short_answer("**\"Seoul\"**", "Seoul");
    short_answer("「東京」。", "東京");
    short_answer("바다", "바다");
    short_answer("<think>음…</think> 부산", "부산");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b09_korean_spacing),
        cmocka_unit_test(test_b10_korean_cascade),
        cmocka_unit_test(test_b12_stray_capitals),
        cmocka_unit_test(test_b13_thousands_separators),
        cmocka_unit_test(test_b15_think_blocks),
        cmocka_unit_test(test_short_answers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
