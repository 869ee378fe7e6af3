/* Tests for scoring/qa.c: EM and F1 in the SQuAD v1.1 and KorQuAD v1.0
 * conventions. Every expected value is derived by hand in the comment next
 * to it, following the scripts' steps (normalize, Counter intersection,
 * P = common/|hyp|, R = common/|ref|, F1 = 2PR/(P+R)). */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "scoring/qa.h"
#include "src/buf.h"
#include "src/text.h"
#include "tokenizers/tokenizer.h"

static struct kv_qa_score score1(kv_qa_style style, const char *hyp, const char *ref)
{
    struct kv_qa_score s = {-1, -1};
    const char *refs[1] = {ref};
    size_t lens[1] = {strlen(ref)};
    assert_int_equal(kv_qa_score(style, hyp, strlen(hyp), refs, lens, 1, &s), 0);
    return s;
}

static struct kv_qa_score scoren(kv_qa_style style, const char *hyp, const char *const *refs,
                                 size_t n)
{
    struct kv_qa_score s = {-1, -1};
    size_t lens[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(refs[i]);
    assert_int_equal(kv_qa_score(style, hyp, strlen(hyp), refs, lens, n, &s), 0);
    return s;
}

static void squad_basic(void **state)
{
    (void)state;
    /* "the seoul city" → drop "the" → "seoul city"; "seoul city!" → drop "!"
     * → "seoul city": equal, and every token shared */
    struct kv_qa_score s = score1(KV_QA_SQUAD, "The Seoul city", "seoul city!");
    assert_close(s.exact_match, 1.0);
    assert_close(s.f1, 1.0);

    /* one token each, "서울특별시" ≠ "서울": no common token → F1 0 */
    s = score1(KV_QA_SQUAD, "서울특별시", "서울");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 0.0);

    /* hyp [seoul, city, hall], ref [seoul]: common 1, P=1/3, R=1,
     * F1 = 2(1/3)(1)/(4/3) = 0.5 */
    s = score1(KV_QA_SQUAD, "Seoul City Hall", "Seoul");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 0.5);

    /* Counter intersection keeps multiplicity: hyp {seoul:2, busan:1},
     * ref {seoul:1, busan:2} → common 1+1 = 2, P = R = 2/3, F1 = 2/3 */
    s = score1(KV_QA_SQUAD, "seoul seoul busan", "seoul busan busan");
    assert_close(s.f1, 2.0 / 3.0);

    /* punctuation is deleted, not replaced: "seoul-city" → "seoulcity",
     * one token, unlike "seoul city" */
    s = score1(KV_QA_SQUAD, "Seoul-City", "seoulcity");
    assert_close(s.exact_match, 1.0);
    s = score1(KV_QA_SQUAD, "Seoul-City", "seoul city");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 0.0);
}

static void squad_articles(void **state)
{
    (void)state;
    /* "theory" is one word run, not the article "the" */
    struct kv_qa_score s = score1(KV_QA_SQUAD, "theory", "the ory");
    /* hyp "theory", ref "ory" → no common token */
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 0.0);
    assert_close(score1(KV_QA_SQUAD, "A theory", "theory").exact_match, 1.0);
    /* upper-case articles are lowered first, then removed */
    assert_close(score1(KV_QA_SQUAD, "AN Apple and THE pear", "apple and pear").exact_match, 1.0);
    /* "an" inside "and", "a" inside "banana": kept */
    assert_close(score1(KV_QA_SQUAD, "and banana", "and banana").f1, 1.0);
    assert_close(score1(KV_QA_SQUAD, "and banana", "banana").exact_match, 0.0);
    /* punctuation goes before articles: "the-ory" → "theory" (kept), while
     * "the ory" loses "the" */
    assert_close(score1(KV_QA_SQUAD, "the-ory", "theory").exact_match, 1.0);
    /* digits and Hangul are word characters (\w): "the2", "the서울" kept */
    assert_close(score1(KV_QA_SQUAD, "the2", "2").exact_match, 0.0);
    assert_close(score1(KV_QA_SQUAD, "the서울", "서울").exact_match, 0.0);
    assert_close(score1(KV_QA_SQUAD, "the 서울", "서울").exact_match, 1.0);
    /* U+0301 COMBINING ACUTE is not \w (Mn), so "the" before it is a whole
     * word: "the\u0301 x" → " \u0301 x" → tokens ["\u0301", "x"] */
    assert_close(score1(KV_QA_SQUAD, "the\xcc\x81 x", "\xcc\x81 x").exact_match, 1.0);
    /* 'é' (U+00E9, Ll) is \w: "theé" is one word, kept */
    assert_close(score1(KV_QA_SQUAD, "the\xc3\xa9", "\xc3\xa9").exact_match, 0.0);
    /* KorQuAD does not remove articles: "the seoul" vs "seoul" →
     * chars t h e s e o u l (8) vs s e o u l (5); common s, e (min 2,1 = 1),
     * o, u, l = 5 → P = 5/8, R = 1, F1 = (10/8)/(13/8) = 10/13 */
    s = score1(KV_QA_KORQUAD, "the Seoul", "Seoul");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 10.0 / 13.0);
}

static void korquad_char_f1(void **state)
{
    (void)state;
    /* chars 서 울 특 별 시 (5) vs 서 울 (2): common 2, P = 2/5, R = 1,
     * F1 = 2(2/5)(1)/((2/5)+1) = (4/5)/(7/5) = 4/7 = 0.571428… */
    struct kv_qa_score s = score1(KV_QA_KORQUAD, "서울특별시", "서울");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 4.0 / 7.0);
    assert_near(s.f1, 0.5714285714, 1e-10);

    /* spaces are not characters: "서울 특별시" vs "서울특별시" has the same
     * 5 chars (F1 1) but the normalized strings differ (EM 0) */
    s = score1(KV_QA_KORQUAD, "서울 특별시", "서울특별시");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 1.0);

    /* multiplicity: a a b (3) vs a b (2) → common 2, P = 2/3, R = 1,
     * F1 = (4/3)/(5/3) = 0.8 */
    assert_close(score1(KV_QA_KORQUAD, "aab", "ab").f1, 0.8);

    /* no common char → 0 */
    assert_close(score1(KV_QA_KORQUAD, "부산", "서울").f1, 0.0);
}

static void korquad_normalization(void **state)
{
    (void)state;
    /* 《 》 become spaces, stripped by the white-space fix */
    assert_close(score1(KV_QA_KORQUAD, "《서울》", "서울").exact_match, 1.0);
    /* ‘ ’ likewise */
    assert_close(score1(KV_QA_KORQUAD, "\xe2\x80\x98서울\xe2\x80\x99", "서울").exact_match, 1.0);
    /* 〈 〉 likewise */
    assert_close(score1(KV_QA_KORQUAD, "〈서울〉", "서울").exact_match, 1.0);
    /* ( ) become spaces under KorQuAD: "(서울)특별시" → " 서울 특별시" →
     * "서울 특별시"; under SQuAD they are deleted: "서울특별시" */
    assert_close(score1(KV_QA_KORQUAD, "(서울)특별시", "서울 특별시").exact_match, 1.0);
    assert_close(score1(KV_QA_SQUAD, "(서울)특별시", "서울 특별시").exact_match, 0.0);
    assert_close(score1(KV_QA_SQUAD, "(서울)특별시", "서울특별시").exact_match, 1.0);
    /* other ASCII punctuation is deleted: "서울-특별시" → "서울특별시" */
    assert_close(score1(KV_QA_KORQUAD, "서울-특별시", "서울특별시").exact_match, 1.0);
    /* Python str.lower(): final sigma, so "ΟΔΟΣ" equals "οδος" */
    assert_close(score1(KV_QA_KORQUAD, "ΟΔΟΣ", "οδος").exact_match, 1.0);
    /* U+3000 is Python whitespace: "서울\u3000시" → "서울 시" */
    assert_close(score1(KV_QA_KORQUAD, "서울\xe3\x80\x80시", "서울 시").exact_match, 1.0);
    /* U+200B is not whitespace and not removed: chars 서 울 ZWSP 시 (4) vs
     * 서 울 시 (3) → common 3, P = 3/4, R = 1, F1 = (3/2)/(7/4) = 6/7 */
    struct kv_qa_score s = score1(KV_QA_KORQUAD, "서울\xe2\x80\x8b시", "서울시");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 6.0 / 7.0);
}

static void python_lower(void **state)
{
    (void)state;
    /* str.lower('İstanbul') = 'i̇stanbul' (i + U+0307): not 'istanbul' */
    struct kv_qa_score s = score1(KV_QA_SQUAD, "\xc4\xb0stanbul", "istanbul");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 0.0);
    assert_close(score1(KV_QA_SQUAD, "\xc4\xb0stanbul", "i\xcc\x87stanbul").exact_match, 1.0);
    /* KorQuAD chars: i U+0307 s t a n b u l (9) vs i s t a n b u l (8):
     * common 8, P = 8/9, R = 1, F1 = (16/9)/(17/9) = 16/17 */
    assert_close(score1(KV_QA_KORQUAD, "\xc4\xb0stanbul", "istanbul").f1, 16.0 / 17.0);
    /* KELVIN SIGN U+212A lowers to 'k' */
    assert_close(score1(KV_QA_SQUAD, "\xe2\x84\xaa", "k").exact_match, 1.0);
}

static void multi_reference(void **state)
{
    (void)state;
    /* max over references: "Seoul." normalizes to "seoul" → EM 1, F1 1 */
    const char *refs[] = {"Busan", "seoul city", "Seoul."};
    struct kv_qa_score s = scoren(KV_QA_SQUAD, "Seoul", refs, 3);
    assert_close(s.exact_match, 1.0);
    assert_close(s.f1, 1.0);

    /* hyp [seoul city hall]; ref1 [seoul]: common 1, P = 1/3, R = 1 → 0.5;
     * ref2 [seoul city hall tower]: common 3, P = 1, R = 3/4 → 6/7;
     * max F1 = 6/7, EM 0 */
    const char *refs2[] = {"seoul", "seoul city hall tower"};
    s = scoren(KV_QA_SQUAD, "seoul city hall", refs2, 2);
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 6.0 / 7.0);

    /* EM and F1 maxima come from different references under KorQuAD:
     * ref "서울" → 4/7 (see korquad_char_f1); ref "서울특별시청" gives
     * common 5, P = 1, R = 5/6 → (10/6)/(11/6) = 10/11; ref "서울특별시." →
     * EM 1, F1 1 */
    const char *refs3[] = {"서울", "서울특별시청", "서울특별시."};
    s = scoren(KV_QA_KORQUAD, "서울특별시", refs3, 2);
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 10.0 / 11.0);
    s = scoren(KV_QA_KORQUAD, "서울특별시", refs3, 3);
    assert_close(s.exact_match, 1.0);
    assert_close(s.f1, 1.0);
}

static void empty_inputs(void **state)
{
    (void)state;
    /* both normalize to "": EM 1 (strings equal), F1 0 (num_same == 0),
     * as in both scripts */
    struct kv_qa_score s = score1(KV_QA_SQUAD, "", "");
    assert_close(s.exact_match, 1.0);
    assert_close(s.f1, 0.0);
    s = score1(KV_QA_SQUAD, "The", "!!");
    assert_close(s.exact_match, 1.0);
    assert_close(s.f1, 0.0);
    s = score1(KV_QA_KORQUAD, "  ", "《》");
    assert_close(s.exact_match, 1.0);
    assert_close(s.f1, 0.0);
    /* one side empty: EM 0, F1 0 */
    s = score1(KV_QA_SQUAD, "Seoul", "");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 0.0);
    s = score1(KV_QA_KORQUAD, "", "서울");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 0.0);

    /* NULL is accepted with length 0 */
    const char *refs[] = {NULL};
    size_t lens[] = {0};
    struct kv_qa_score t = {-1, -1};
    assert_int_equal(kv_qa_score(KV_QA_KORQUAD, NULL, 0, refs, lens, 1, &t), 0);
    assert_close(t.exact_match, 1.0);
    assert_close(t.f1, 0.0);

    /* no references: error, scores zeroed */
    t.exact_match = t.f1 = -1;
    assert_int_equal(kv_qa_score(KV_QA_SQUAD, "x", 1, refs, lens, 0, &t), -1);
    assert_close(t.exact_match, 0.0);
    assert_close(t.f1, 0.0);
}

static void emoji_is_one_char(void **state)
{
    (void)state;
    /* U+1F600 (4 bytes) is one code point: hyp 😀 서 울 (3), ref 서 울 😀 😀
     * (4); common 😀 min(1,2) = 1, 서, 울 → 3; P = 1, R = 3/4, F1 = 6/7.
     * Counting bytes would give different numbers. */
    struct kv_qa_score s =
        score1(KV_QA_KORQUAD, "\xf0\x9f\x98\x80서울", "서울\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 6.0 / 7.0);
    /* an emoji sharing 3 of 4 bytes with another shares no character:
     * U+1F600 vs U+1F601 → F1 0 */
    assert_close(score1(KV_QA_KORQUAD, "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81").f1, 0.0);
}

/* Case B07 of ../shared/cases/handoff.jsonl (copied here): a Mac-produced
 * NFD prediction of 테스트 against the NFC reference. */
static void b07_nfd_hangul(void **state)
{
    (void)state;
    static const char pred[] = "\xe1\x84\x90\xe1\x85\xa6\xe1\x84\x89\xe1\x85\xb3\xe1\x84\x90"
                               "\xe1\x85\xb3";
    static const char ref[] = "\xed\x85\x8c\xec\x8a\xa4\xed\x8a\xb8"; /* 테스트 (NFC) */
    size_t pred_len = sizeof pred - 1, ref_len = sizeof ref - 1;
    assert_int_equal(pred_len, 18);
    assert_int_equal(kv_utf8_count(pred, pred_len), 6); /* 6 conjoining jamo */

    /* raw bytes differ */
    assert_false(pred_len == ref_len && memcmp(pred, ref, ref_len) == 0);
    /* without the text layer, jamo and syllables share no character */
    const char *refs[] = {ref};
    size_t lens[] = {ref_len};
    struct kv_qa_score s;
    assert_int_equal(kv_qa_score(KV_QA_KORQUAD, pred, pred_len, refs, lens, 1, &s), 0);
    assert_close(s.exact_match, 0.0);
    assert_close(s.f1, 0.0);

    /* after NFC: the reference's bytes, 3 code points */
    kv_norm_opts o = {.form = KV_NORM_NFC};
    kv_buf nfc = {0};
    assert_int_equal(kv_normalize(&o, pred, pred_len, &nfc), 0);
    assert_int_equal(nfc.len, ref_len);
    assert_memory_equal(nfc.p, ref, ref_len);
    assert_int_equal(kv_utf8_count(nfc.p, nfc.len), 3);

    assert_int_equal(kv_qa_score(KV_QA_KORQUAD, nfc.p, nfc.len, refs, lens, 1, &s), 0);
    assert_close(s.exact_match, 1.0);
    assert_close(s.f1, 1.0);
    assert_int_equal(kv_qa_score(KV_QA_SQUAD, nfc.p, nfc.len, refs, lens, 1, &s), 0);
    assert_close(s.exact_match, 1.0);
    assert_close(s.f1, 1.0);

    /* the char tokenizer sees 3 syllables: "테 스 트" */
    kv_buf toks = {0};
    assert_int_equal(kv_tok_char(nfc.p, nfc.len, 0, &toks), 0);
    kv_span *spans = NULL;
    size_t cap = 0;
    assert_int_equal(kv_split_py(toks.p, toks.len, &spans, &cap), 3);
    assert_string_equal(toks.p, "\xed\x85\x8c \xec\x8a\xa4 \xed\x8a\xb8");

    free(spans);
    kv_buf_free(&toks);
    kv_buf_free(&nfc);
}

static void ill_formed_input(void **state)
{
    (void)state;
    /* a truncated sequence reads as U+FFFD, so it equals a literal U+FFFD */
    assert_close(score1(KV_QA_KORQUAD, "a\xeb\x85", "a\xef\xbf\xbd").exact_match, 1.0);
    assert_close(score1(KV_QA_SQUAD, "a\xeb\x85", "a\xef\xbf\xbd").exact_match, 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(squad_basic),         cmocka_unit_test(squad_articles),
        cmocka_unit_test(korquad_char_f1),     cmocka_unit_test(korquad_normalization),
        cmocka_unit_test(python_lower),        cmocka_unit_test(multi_reference),
        cmocka_unit_test(empty_inputs),        cmocka_unit_test(emoji_is_one_char),
        cmocka_unit_test(b07_nfd_hangul),      cmocka_unit_test(ill_formed_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
