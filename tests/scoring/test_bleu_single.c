/*
 * BLEU's single-reference fast path (kv_trie_match on small dense ids, which
 * chrF uses too, and the tok char / word paths of kv_bleu_segment that feed
 * it) against exact
 * counts: a brute-force count of clipped n-gram matches, and the general
 * multi-reference path (kv_gram_counter), on random segments with repeated
 * symbols, shared prefixes and suffixes, long segments and many symbols
 * (which fall back to the general path).
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/bleu.h"
#include "scoring/ngram.h"
#include "scoring/trie.h"

/* A small deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t bound)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 33) % bound;
}

/* Clipped matches of order n by definition: for every hypothesis position,
 * its n-gram matches when fewer earlier hypothesis positions have the same
 * n-gram than the reference has occurrences of it. */
static uint64_t brute_matches(const uint8_t *ref, size_t RL, const uint8_t *hyp, size_t HL,
                              size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i + n <= HL; i++) {
        size_t before = 0, in_ref = 0;
        for (size_t j = 0; j < i; j++)
            before += memcmp(hyp + j, hyp + i, n) == 0;
        for (size_t j = 0; j + n <= RL; j++)
            in_ref += memcmp(ref + j, hyp + i, n) == 0;
        m += before < in_ref;
    }
    return m;
}

/* A random reference over ids 1..D (each id used at least once when the
 * length allows) and a hypothesis made from it by edits, with symbols the
 * reference lacks written as D + 1. */
static void make_pair(uint8_t *ref, size_t *RL, uint8_t *hyp, size_t *HL, unsigned *D,
                      size_t maxlen, bool wide)
{
    unsigned alphabet = wide ? 60 + rnd(195) : 1 + rnd(40);
    size_t rl = rnd((uint32_t)maxlen + 1);
    for (size_t i = 0; i < rl; i++)
        ref[i] = (uint8_t)(1 + rnd(alphabet));
    /* renumber to 1..D in order of first appearance, as the callers do */
    uint8_t map[256] = {0};
    unsigned d = 0;
    for (size_t i = 0; i < rl; i++) {
        if (!map[ref[i]])
            map[ref[i]] = (uint8_t)++d;
        ref[i] = map[ref[i]];
    }
    size_t hl = 0;
    for (size_t i = 0; i < rl && hl < maxlen; i++) {
        switch (rnd(8)) {
        case 0: /* drop */
            break;
        case 1: /* a symbol the reference lacks */
            hyp[hl++] = (uint8_t)(d + 1);
            break;
        case 2: /* another reference symbol: repeats */
            hyp[hl++] = (uint8_t)(1 + rnd(d));
            break;
        default:
            hyp[hl++] = ref[i];
        }
    }
    if (rnd(3) == 0) { /* sometimes an unrelated hypothesis */
        hl = rnd((uint32_t)maxlen + 1);
        for (size_t i = 0; i < hl; i++)
            hyp[i] = (uint8_t)(1 + rnd(d + 1));
    }
    *RL = rl;
    *HL = hl;
    *D = d;
}

static void test_fast_path_matches_brute_force_and_general(void **state)
{
    (void)state;
    enum { MAXLEN = 200 };
    static uint8_t ref[MAXLEN], hyp[MAXLEN];
    static uint32_t ref32[MAXLEN], hyp32[MAXLEN];
    kv_trie trie = {0};
    kv_gram_counter gc = {0};
    size_t few = 0, many = 0;
    for (int trial = 0; trial < 4000; trial++) {
        size_t RL, HL;
        unsigned D;
        bool wide = trial % 5 == 0;
        make_pair(ref, &RL, hyp, &HL, &D, wide || trial % 7 == 0 ? MAXLEN : 24, wide);
        if (D > 254)
            continue;
        if (D + 1 < 64)
            few++;
        else
            many++;
        int N = 1 + (int)rnd(6);
        uint64_t fast[6] = {0}, general[6] = {0};
        assert_true(kv_trie_match(&trie, ref, RL, hyp, HL, (size_t)D + 2, N, false, fast));
        for (size_t i = 0; i < RL; i++)
            ref32[i] = ref[i];
        for (size_t i = 0; i < HL; i++)
            hyp32[i] = hyp[i];
        kv_gc_begin(&gc, RL * (size_t)N);
        kv_gc_add_ref(&gc, ref32, RL, N, NULL);
        kv_gc_match_hyp(&gc, hyp32, HL, N, general);
        kv_gc_end(&gc);
        for (int n = 1; n <= N; n++) {
            uint64_t want = brute_matches(ref, RL, hyp, HL, (size_t)n);
            if (fast[n - 1] != want || general[n - 1] != want)
                fail_msg("trial %d order %d (RL %zu HL %zu D %u): fast %llu general %llu "
                         "brute force %llu",
                         trial, n, RL, HL, D, (unsigned long long)fast[n - 1],
                         (unsigned long long)general[n - 1], (unsigned long long)want);
        }
    }
    /* small and large alphabets were both exercised */
    assert_true(few > 500);
    assert_true(many > 100);
    kv_trie_free(&trie);
    kv_gc_free(&gc);
}

/* Identical sides and one side a prefix of the other: the common prefix and
 * suffix overlap, and must not be counted twice. */
static void test_fast_path_overlapping_prefix_suffix(void **state)
{
    (void)state;
    kv_trie trie = {0};
    uint8_t a[8] = {1, 2, 1, 2, 1, 2, 1, 2};
    uint64_t m[4];
    assert_true(kv_trie_match(&trie, a, 8, a, 8, 4, 4, false, m));
    assert_int_equal(m[0], 8);
    assert_int_equal(m[1], 7);
    assert_int_equal(m[2], 6);
    assert_int_equal(m[3], 5);
    assert_true(kv_trie_match(&trie, a, 8, a, 5, 4, 4, false, m)); /* hypothesis = 1 2 1 2 1 */
    assert_int_equal(m[0], 5);
    assert_int_equal(m[1], 4);
    assert_int_equal(m[2], 3);
    assert_int_equal(m[3], 2);
    uint8_t h[3] = {3, 3, 3}; /* nothing in the reference */
    assert_true(kv_trie_match(&trie, a, 8, h, 3, 4, 4, false, m));
    assert_int_equal(m[0] + m[1] + m[2] + m[3], 0);
    kv_trie_free(&trie);
}

/* A random segment as text: words (or characters) drawn from a small
 * vocabulary with Korean, punctuation and repeats. */
static void random_text(char *buf, size_t cap, size_t words, bool wide)
{
    static const char *const vocab[] = {
        "the", "cat", "sat", "on", "mat", ".", ",", "a", "1,000", "3-4", "서울", "서울특별시",
        "한국어", "는", "가", "&amp;", "\"quoted\"", "x", "ABC", "abc", "supercalifragilisticexpialidocious",
        "ㅋㅋㅋ", "é", "日本", "\xf0\x9f\x98\x80", "\xf0\xa0\xae\xb7\xe9\x87\x8e", /* U+1F600, U+20BB7 野 */
    };
    size_t nv = sizeof vocab / sizeof *vocab, len = 0;
    buf[0] = '\0';
    for (size_t w = 0; w < words; w++) {
        char extra[16] = "";
        if (wide) /* many distinct words: beyond the small ids */
            snprintf(extra, sizeof extra, "%u", rnd(100000));
        int k = snprintf(buf + len, cap - len, "%s%s%s", w ? " " : "", vocab[rnd((uint32_t)nv)],
                         extra);
        if (k < 0 || (size_t)k >= cap - len)
            break;
        len += (size_t)k;
    }
}

static void check_segment_paths(const char *tok, bool lowercase)
{
    kv_bleu_opts o = {.tokenizer = kv_tokenizer_find(tok), .lowercase = lowercase,
                      .smooth = KV_SMOOTH_EXP, .smooth_value = -1, .max_order = 4};
    kv_bleu *b = kv_bleu_new(&o);
    static char ref[20000], hyp[20000];
    char err[128];
    for (int trial = 0; trial < 600; trial++) {
        bool wide = trial % 50 == 0;
        size_t words = trial % 25 == 0 ? 600 : rnd(30);
        random_text(ref, sizeof ref, words, wide);
        if (rnd(4) == 0) {
            /* the hypothesis shares the reference's start and end */
            snprintf(hyp, sizeof hyp, "%s", ref);
            size_t hl = strlen(hyp);
            if (hl > 4)
                hyp[hl / 2] = 'Q';
        } else {
            random_text(hyp, sizeof hyp, words ? words - rnd((uint32_t)words) : 0, wide);
        }
        size_t rl = strlen(ref), hl = strlen(hyp);
        /* one reference: the fast path; the same reference twice: the general
         * path (the maximum over identical references is the same count) */
        const char *one[1] = {ref}, *two[2] = {ref, ref}, *with_absent[2] = {NULL, ref};
        size_t l1[1] = {rl}, l2[2] = {rl, rl};
        kv_bleu_stats fast, general, absent;
        assert_int_equal(kv_bleu_segment(b, hyp, hl, one, l1, 1, &fast, err, sizeof err), 0);
        assert_int_equal(kv_bleu_segment(b, hyp, hl, two, l2, 2, &general, err, sizeof err), 0);
        assert_int_equal(
            kv_bleu_segment(b, hyp, hl, with_absent, l2, 2, &absent, err, sizeof err), 0);
        if (memcmp(&fast, &general, sizeof fast) != 0 || memcmp(&fast, &absent, sizeof fast) != 0)
            fail_msg("tok %s trial %d: single-reference stats differ from the general "
                     "path (correct %llu/%llu/%llu/%llu vs %llu/%llu/%llu/%llu)",
                     tok, trial, (unsigned long long)fast.correct[0],
                     (unsigned long long)fast.correct[1], (unsigned long long)fast.correct[2],
                     (unsigned long long)fast.correct[3], (unsigned long long)general.correct[0],
                     (unsigned long long)general.correct[1],
                     (unsigned long long)general.correct[2],
                     (unsigned long long)general.correct[3]);
    }
    kv_bleu_free(b);
}

static void test_segment_13a_single_equals_general(void **state)
{
    (void)state;
    check_segment_paths("13a", false);
    check_segment_paths("13a", true);
}

static void test_segment_char_single_equals_general(void **state)
{
    (void)state;
    check_segment_paths("char", false);
    check_segment_paths("char", true);
}

static void test_segment_other_tokenizers(void **state)
{
    (void)state;
    check_segment_paths("intl", false);
    check_segment_paths("none", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_path_matches_brute_force_and_general),
        cmocka_unit_test(test_fast_path_overlapping_prefix_suffix),
        cmocka_unit_test(test_segment_13a_single_equals_general),
        cmocka_unit_test(test_segment_char_single_equals_general),
        cmocka_unit_test(test_segment_other_tokenizers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
