/*
 * Tests for the ROUGE tokenizers: tokenizers/tok_rouge.c (rouge-score 0.1.2
 * DefaultTokenizer) and tokenizers/tok_unicode.c (koeval's `unicode`).
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "src/buf.h"
#include "src/text.h"
#include "tokenizers/tokenizer.h"

static void expect_tok(kv_tokenize_fn fn, int flags, const char *in, const char *want)
{
    kv_buf out = {0};
    assert_int_equal(fn(in, strlen(in), flags, &out), 0);
    assert_non_null(out.p);
    if (strcmp(out.p, want) != 0)
        fail_msg("tokenize(\"%s\") = [%s], want [%s]", in, out.p, want);
    kv_buf_free(&out);
}

static void test_rouge_basic(void **state)
{
    (void)state;
    expect_tok(kv_tok_rouge, 0, "", "");
    expect_tok(kv_tok_rouge, 0, "  ,.! ", "");
    expect_tok(kv_tok_rouge, 0, "Hello, World!", "hello world");
    expect_tok(kv_tok_rouge, 0, "don't stop-me\tnow\n", "don t stop me now");
    expect_tok(kv_tok_rouge, 0, "A_B a.b 3.14", "a b a b 3 14");
    /* accents and non-Latin letters are deleted and split words */
    expect_tok(kv_tok_rouge, 0, "café naïve Straße", "caf na ve stra e");
    expect_tok(kv_tok_rouge, 0, "서울은 수도이다", "");
    expect_tok(kv_tok_rouge, 0, "GPT-4는 950만", "gpt 4 950");
    /* Python lowercase first: KELVIN SIGN → k, İ → i + U+0307 */
    expect_tok(kv_tok_rouge, 0,
               "\xE2\x84\xAA"
               "elvin \xC4\xB0stanbul",
               "kelvin i stanbul");
    /* full-width letters lowercase to full-width, still not [a-z] */
    expect_tok(kv_tok_rouge, 0, "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3 x", "x");
}

static void test_rouge_stem(void **state)
{
    (void)state;
    expect_tok(kv_tok_rouge, KV_TOK_STEM, "The friends had a meeting", "the friend had a meet");
    /* only tokens longer than 3 are stemmed: "cats" → "cat", "was" stays */
    expect_tok(kv_tok_rouge, KV_TOK_STEM, "Cats was dying, skies!", "cat was die sky");
    expect_tok(kv_tok_rouge, 0, "Cats was dying", "cats was dying");
    /* a non-ASCII segment takes the ICU lowercase path, then stems */
    expect_tok(kv_tok_rouge, KV_TOK_STEM, "RUNNING 달리기 HAPPILY", "run happili");
}

static void join_tokens(const cJSON *tokens, kv_buf *out)
{
    kv_buf_put(out, "", 0);
    const cJSON *t;
    cJSON_ArrayForEach(t, tokens)
    {
        if (out->len)
            kv_buf_putc(out, ' ');
        kv_buf_put(out, t->valuestring, strlen(t->valuestring));
    }
}

static size_t check_side(kv_tokenize_fn fn, int flags, const char *text, const cJSON *tokens,
                         const char *id)
{
    kv_buf want = {0}, got = {0};
    join_tokens(tokens, &want);
    assert_int_equal(fn(text, strlen(text), flags, &got), 0);
    if (strcmp(got.p, want.p) != 0)
        fail_msg("%s: got [%s], want [%s]", id, got.p, want.p);
    kv_buf_free(&want);
    kv_buf_free(&got);
    return 1;
}

/* Every rouge vector records the tokens rouge-score saw; ours must match. */
static void test_rouge_vector_tokens(void **state)
{
    (void)state;
    const char *path;
    KV_REQUIRE_SHARED(path, "vectors/metrics.jsonl");
    size_t n = 0, ran = 0, sides = 0;
    cJSON **recs = kv_test_read_jsonl(path, &n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *metric = cJSON_GetObjectItem(recs[i], "metric");
        if (!cJSON_IsString(metric) || strncmp(metric->valuestring, "rouge", 5) != 0)
            continue;
        const cJSON *opts = cJSON_GetObjectItem(recs[i], "options");
        const char *tok = cJSON_GetObjectItem(opts, "tokenizer")->valuestring;
        kv_tokenize_fn fn = strcmp(tok, "default") == 0 ? kv_tok_rouge : kv_tok_whitespace;
        int flags = cJSON_IsTrue(cJSON_GetObjectItem(opts, "use_stemmer")) ? KV_TOK_STEM : 0;
        const char *id = cJSON_GetObjectItem(recs[i], "id")->valuestring;
        const cJSON *exp = cJSON_GetObjectItem(recs[i], "expected");
        const cJSON *hyp = cJSON_GetArrayItem(cJSON_GetObjectItem(recs[i], "hyps"), 0);
        const cJSON *refs = cJSON_GetObjectItem(recs[i], "refs");
        sides += check_side(fn, flags, hyp->valuestring,
                            cJSON_GetObjectItem(exp, "prediction_tokens"), id);
        const cJSON *tt = cJSON_GetObjectItem(exp, "target_tokens");
        for (int k = 0; k < cJSON_GetArraySize(refs); k++) {
            const cJSON *ref = cJSON_GetArrayItem(cJSON_GetArrayItem(refs, k), 0);
            if (cJSON_IsString(ref))
                sides += check_side(fn, flags, ref->valuestring, cJSON_GetArrayItem(tt, k), id);
        }
        ran++;
    }
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(recs[i]);
    free(recs);
    print_message("%zu rouge vector cases, %zu token lists match\n", ran, sides);
    assert_true(ran > 0);
}

static void test_unicode_tokenizer(void **state)
{
    (void)state;
    expect_tok(kv_tok_unicode, 0, "", "");
    expect_tok(kv_tok_unicode, 0, " ..., ", "");
    /* Hangul words stay whole; punctuation (ASCII and Unicode) separates */
    expect_tok(kv_tok_unicode, 0, "서울은 한국의 수도이다.", "서울은 한국의 수도이다");
    expect_tok(kv_tok_unicode, 0, "「서울」…“수도”!", "서울 수도");
    expect_tok(kv_tok_unicode, 0, "GPT-4는 950만 명", "gpt 4는 950만 명");
    /* Python lowercase and whitespace (U+3000, NBSP); ZWSP separates */
    expect_tok(kv_tok_unicode, 0, "Café\xE3\x80\x80NAÏVE\xC2\xA0x\xE2\x80\x8By", "café naïve x y");
    /* Han, Hiragana and Katakana are one token per character */
    expect_tok(kv_tok_unicode, 0, "東京タワーに行った", "東 京 タ ワ ー に 行 っ た");
    expect_tok(kv_tok_unicode, 0, "我爱北京 abc", "我 爱 北 京 abc");
    expect_tok(kv_tok_unicode, 0, "한자漢字혼용", "한자 漢 字 혼용");
    /* combining voicing mark stays with its kana */
    expect_tok(kv_tok_unicode, 0, "か\xE3\x82\x99き", "か\xE3\x82\x99 き");
    /* symbols (emoji) separate; their joiners and variation selectors go
     * with them */
    expect_tok(kv_tok_unicode, 0, "좋아요😀👍 ❤\xEF\xB8\x8F가족 👨\xE2\x80\x8D👩", "좋아요 가족");
    expect_tok(kv_tok_unicode, 0, "$100 + 50% = ok", "100 50 ok");
    /* ill-formed UTF-8 separates instead of being copied */
    expect_tok(kv_tok_unicode, 0,
               "ab\xFF"
               "cd",
               "ab cd");
}

/* B01: the Korean pair from cosmoquester/2021-dialogue-summary-competition#22
 * gives exactly 8 whitespace words on each side after punctuation removal. */
static void test_unicode_b01_tokens(void **state)
{
    (void)state;
    expect_tok(kv_tok_unicode, 0, "어제 김치찌개를 먹어서 한식 말고 돈가스를 먹기로 했다.",
               "어제 김치찌개를 먹어서 한식 말고 돈가스를 먹기로 했다");
    expect_tok(kv_tok_unicode, 0, "어제 김치찌개를 먹었기 때문에 점심으로 돈가스를 먹기로 했다.",
               "어제 김치찌개를 먹었기 때문에 점심으로 돈가스를 먹기로 했다");
    expect_tok(kv_tok_rouge, 0, "어제 김치찌개를 먹어서 한식 말고 돈가스를 먹기로 했다.", "");
}

/* The tokenizer skips ICU for non-ASCII text on the claim that only U+0130
 * and U+212A lowercase (root locale, full mapping) to something containing
 * [a-z0-9]. Check the claim over every code point, and check the tokenizer
 * against "Python lower, then keep [a-z0-9] runs" on each code point placed
 * inside a word. */
static void test_rouge_nonascii_lowercase_set(void **state)
{
    kv_buf in = {0}, ours = {0}, lower = {0}, expect = {0};
    for (UChar32 c = 0x80; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        UChar u[2], l[16];
        int32_t ul = 0;
        U16_APPEND_UNSAFE(u, ul, c);
        UErrorCode err = U_ZERO_ERROR;
        int32_t ll = u_strToLower(l, 16, u, ul, "", &err);
        assert_false(U_FAILURE(err));
        bool ascii_alnum = false;
        for (int32_t k = 0; k < ll; k++)
            if ((l[k] >= 'a' && l[k] <= 'z') || (l[k] >= '0' && l[k] <= '9'))
                ascii_alnum = true;
        if (ascii_alnum != (c == 0x130 || c == 0x212A))
            fail_msg("U+%04X lowercases to ASCII alnum: %d", (unsigned)c, ascii_alnum);
        if (c > 0x3000 && c % 97 != 0)
            continue; /* the tokenizer comparison on a sample above U+3000 */
        kv_buf_clear(&in);
        kv_buf_put(&in, "Ab", 2);
        kv_buf_put_cp(&in, (uint32_t)c);
        kv_buf_put(&in, "cD 9", 4);
        kv_buf_clear(&ours);
        assert_int_equal(kv_tok_rouge(in.p, in.len, 0, &ours), 0);
        kv_buf_clear(&lower);
        assert_int_equal(kv_py_lower(in.p, in.len, &lower), 0);
        kv_buf_clear(&expect);
        bool sep = true;
        for (size_t k = 0; k < lower.len; k++) {
            char ch = lower.p[k];
            bool keep = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
            if (keep && sep && expect.len)
                kv_buf_putc(&expect, ' ');
            if (keep)
                kv_buf_putc(&expect, ch);
            sep = !keep;
        }
        if (strcmp(ours.p ? ours.p : "", expect.p ? expect.p : "") != 0)
            fail_msg("U+%04X: \"%s\" vs expected \"%s\"", (unsigned)c, ours.p, expect.p);
    }
    kv_buf_free(&in);
    kv_buf_free(&ours);
    kv_buf_free(&lower);
    kv_buf_free(&expect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rouge_basic),         cmocka_unit_test(test_rouge_stem),
        cmocka_unit_test(test_rouge_vector_tokens), cmocka_unit_test(test_unicode_tokenizer),
        cmocka_unit_test(test_unicode_b01_tokens),
        cmocka_unit_test(test_rouge_nonascii_lowercase_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
