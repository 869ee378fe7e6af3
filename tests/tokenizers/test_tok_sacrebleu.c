/*
 * The sacreBLEU tokenizers (13a, intl, zh, char, none) against the reference
 * regular expressions themselves, run by PCRE2 on random text: each of our
 * hand-written passes must give exactly what sacreBLEU 2.6.0's re.sub chain
 * gives, on ASCII punctuation, digits, Hangul, Han, Kana, full-width forms,
 * Unicode punctuation and symbols, emoji and every kind of whitespace. Plus
 * hand-checked examples from ../shared/vectors/NOTES.md.
 */
#include "tests/testutil.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "src/text.h"
#include "tokenizers/tokenizer.h"

/* Applies one Python-style re.sub(pattern, repl, s) with PCRE2 (global, UTF). */
static void re_sub(const char *pattern, const char *repl, kv_buf *s)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                   &errcode, &erroff, NULL);
    assert_non_null(re);
    PCRE2_SIZE outlen = s->len * 4 + 64;
    PCRE2_UCHAR *out = malloc(outlen);
    int rc = pcre2_substitute(re, (PCRE2_SPTR)(s->p ? s->p : ""), s->len, 0,
                              PCRE2_SUBSTITUTE_GLOBAL, NULL, NULL, (PCRE2_SPTR)repl,
                              PCRE2_ZERO_TERMINATED, out, &outlen);
    assert_true(rc >= 0);
    kv_buf_clear(s);
    kv_buf_put(s, (const char *)out, outlen);
    free(out);
    pcre2_code_free(re);
}

/* The 13a / zh post-tokenizer regular expressions, verbatim facts of
 * sacreBLEU 2.6.0's TokenizerRegexp. */
static void reference_regexp(kv_buf *s)
{
    re_sub("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])", " $1 ", s);
    re_sub("([^0-9])([\\.,])", "$1 $2 ", s);
    re_sub("([\\.,])([^0-9])", " $1 $2", s);
    re_sub("([0-9])(-)", "$1 $2 ", s);
}

static void join_split(kv_buf *s)
{
    kv_buf o = {0};
    kv_tok_join_split(s->p ? s->p : "", s->len, &o);
    kv_buf_free(s);
    *s = o;
}

static void reference_13a(const char *in, kv_buf *s)
{
    kv_buf_clear(s);
    kv_buf_putc(s, ' ');
    kv_buf_put(s, in, strlen(in));
    kv_buf_putc(s, ' ');
    /* (no '<skipped>', '-\n', '\n' or '&' in the random alphabet below;
     * the hand-written cases cover those replacements) */
    reference_regexp(s);
    join_split(s);
}

static void reference_intl(const char *in, kv_buf *s)
{
    kv_buf_clear(s);
    kv_buf_put(s, in, strlen(in));
    re_sub("(\\P{N})(\\p{P})", "$1 $2 ", s);
    re_sub("(\\p{P})(\\P{N})", " $1 $2", s);
    re_sub("(\\p{S})", " $1 ", s);
    join_split(s);
}

/* Characters whose categories are the same in every recent Unicode
 * version, so that PCRE2's tables and ICU's agree. */
static const char *const alphabet[] = {
    "a", "Z", "0", "7", "3", ".", ",", "-", "'", "\"", "(", ")", "!", "?", "$", "%", "/",
    ":", ";", "@", "[", "]", "^", "_", "`", "{", "|", "}", "~", "+", "=", "<", ">", "#",
    "*", " ", " ", "\t", "서", "울", "은", "한", "국", "中", "文", "の", "カ", "ｶ", "Ａ", "１",
    "。", "、", "「", "」", "…", "“", "”", "—", "€", "①", "²", "😀", "\xE2\x80\x8D", "\xEF\xB8\x8F",
    "\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\x83", "\xE2\x80\x8B", "é", "ß", "Σ", "٣", "½",
};

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void random_text(kv_buf *s)
{
    kv_buf_clear(s);
    size_t n = next_rand() % 24;
    for (size_t i = 0; i < n; i++) {
        const char *c = alphabet[next_rand() % (sizeof alphabet / sizeof alphabet[0])];
        kv_buf_put(s, c, strlen(c));
    }
    if (!s->p)
        kv_buf_put(s, "", 0);
}

static void test_13a_matches_reference_regexps(void **state)
{
    kv_buf in = {0}, ours = {0}, ref = {0};
    for (int i = 0; i < 20000; i++) {
        random_text(&in);
        kv_buf_clear(&ours);
        assert_int_equal(kv_tok_13a(in.p, in.len, 0, &ours), 0);
        join_split(&ours);
        reference_13a(in.p, &ref);
        if (strcmp(ours.p ? ours.p : "", ref.p ? ref.p : "") != 0)
            fail_msg("13a(\"%s\") = \"%s\", reference \"%s\"", in.p, ours.p, ref.p);
    }
    kv_buf_free(&in);
    kv_buf_free(&ours);
    kv_buf_free(&ref);
}

/* Lines over 4 KiB take the byte scan instead of the bit masks: the same
 * random alphabet, lines of 4 to 9 KiB, against the reference. */
static void test_13a_long_lines(void **state)
{
    (void)state;
    kv_buf in = {0}, ours = {0}, ref = {0};
    for (int i = 0; i < 200; i++) {
        kv_buf_clear(&in);
        size_t want = 4096 + next_rand() % 5000;
        while (in.len < want) {
            const char *c = alphabet[next_rand() % (sizeof alphabet / sizeof alphabet[0])];
            kv_buf_put(&in, c, strlen(c));
        }
        kv_buf_clear(&ours);
        assert_int_equal(kv_tok_13a(in.p, in.len, 0, &ours), 0);
        join_split(&ours);
        reference_13a(in.p, &ref);
        if (strcmp(ours.p ? ours.p : "", ref.p ? ref.p : "") != 0)
            fail_msg("13a differs from the reference on a %zu-byte line", in.len);
    }
    kv_buf_free(&in);
    kv_buf_free(&ours);
    kv_buf_free(&ref);
}

/* Tokenizer13a's replacements, then the passes: random lines built from the
 * replacement patterns, pieces of them and other text, 0 to 60 pieces long
 * (lines shorter and longer than the 16- and 64-byte scan blocks). The
 * tokenizer skips the replacements when a line holds none of the patterns;
 * this checks that both ways give the reference's tokens. */
static void test_13a_replacements_random(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "<skipped>", "<skip", "ped>", "&quot;", "&amp;", "&lt;", "&gt;", "&", "amp;", "lt;",
        "quot", "\n", "-\n", "-", "<", ">", "a", "Z9", " ", "서울", ".", ",", "'", "\"",
        "abcdefghijklmnop", "0", "&amp;lt;", "<skip<skipped>ped>",
    };
    kv_buf in = {0}, ours = {0}, ref = {0};
    for (int i = 0; i < 20000; i++) {
        kv_buf_clear(&in);
        size_t n = next_rand() % 61;
        for (size_t k = 0; k < n; k++) {
            const char *c = pieces[next_rand() % (sizeof pieces / sizeof pieces[0])];
            kv_buf_put(&in, c, strlen(c));
        }
        kv_buf_put(&in, "", 0);
        kv_buf_clear(&ours);
        assert_int_equal(kv_tok_13a(in.p, in.len, 0, &ours), 0);
        join_split(&ours);
        /* the reference: str.replace in Tokenizer13a's order, then padding,
         * the four passes and the whitespace join */
        kv_buf_clear(&ref);
        kv_buf_put(&ref, in.p, in.len);
        re_sub("<skipped>", "", &ref);
        re_sub("-\\n", "", &ref);
        re_sub("\\n", " ", &ref);
        re_sub("&quot;", "\"", &ref);
        re_sub("&amp;", "&", &ref);
        re_sub("&lt;", "<", &ref);
        re_sub("&gt;", ">", &ref);
        kv_buf padded = {0};
        kv_buf_printf(&padded, " %.*s ", (int)ref.len, ref.p ? ref.p : "");
        reference_regexp(&padded);
        join_split(&padded);
        if (strcmp(ours.p ? ours.p : "", padded.p ? padded.p : "") != 0)
            fail_msg("13a(\"%s\") = \"%s\", reference \"%s\"", in.p, ours.p, padded.p);
        kv_buf_free(&padded);
    }
    kv_buf_free(&in);
    kv_buf_free(&ours);
    kv_buf_free(&ref);
}

/* The same on a dense alphabet of the bytes the passes interact on: runs of
 * '.', ',', '-' and digits next to letters, Hangul, spaces and punctuation.
 * Also the zh-style unpadded scan through kv_tok_regexp_passes. */
static void test_13a_dense_punctuation(void **state)
{
    static const char *const dense[] = {".", ",", "-", "1", "9", "a", " ", "가", "\t", "(",
                                        "\xC2\xA0", "'", "x"};
    kv_buf in = {0}, ours = {0}, ref = {0};
    for (int i = 0; i < 50000; i++) {
        kv_buf_clear(&in);
        size_t n = next_rand() % 12;
        for (size_t k = 0; k < n; k++) {
            const char *c = dense[next_rand() % (sizeof dense / sizeof dense[0])];
            kv_buf_put(&in, c, strlen(c));
        }
        if (!in.p)
            kv_buf_put(&in, "", 0);
        kv_buf_clear(&ours);
        assert_int_equal(kv_tok_13a(in.p, in.len, 0, &ours), 0);
        reference_13a(in.p, &ref);
        if (strcmp(ours.p ? ours.p : "", ref.p ? ref.p : "") != 0)
            fail_msg("13a(\"%s\") = \"%s\", reference \"%s\"", in.p, ours.p, ref.p);
        kv_buf_clear(&ours);
        kv_tok_regexp_passes(in.p, in.len, &ours);
        kv_buf_clear(&ref);
        kv_buf_put(&ref, in.p, in.len);
        reference_regexp(&ref);
        join_split(&ref);
        if (strcmp(ours.p ? ours.p : "", ref.p ? ref.p : "") != 0)
            fail_msg("regexp(\"%s\") = \"%s\", reference \"%s\"", in.p, ours.p, ref.p);
    }
    kv_buf_free(&in);
    kv_buf_free(&ours);
    kv_buf_free(&ref);
}

static void test_intl_matches_reference_regexps(void **state)
{
    kv_buf in = {0}, ours = {0}, ref = {0};
    for (int i = 0; i < 3000; i++) {
        random_text(&in);
        kv_buf_clear(&ours);
        assert_int_equal(kv_tok_intl(in.p, in.len, 0, &ours), 0);
        join_split(&ours);
        reference_intl(in.p, &ref);
        if (strcmp(ours.p ? ours.p : "", ref.p ? ref.p : "") != 0)
            fail_msg("intl(\"%s\") = \"%s\", reference \"%s\"", in.p, ours.p, ref.p);
    }
    kv_buf_free(&in);
    kv_buf_free(&ours);
    kv_buf_free(&ref);
}

static void check(kv_tokenize_fn fn, const char *in, const char *expected)
{
    kv_buf out = {0};
    assert_int_equal(fn(in, strlen(in), 0, &out), 0);
    join_split(&out);
    if (strcmp(out.p ? out.p : "", expected) != 0)
        fail_msg("tokenize(\"%s\") = \"%s\", expected \"%s\"", in, out.p, expected);
    kv_buf_free(&out);
}

static void test_hand_checked(void **state)
{
    /* 13a: apostrophe and hyphen stay, numbers keep . and , between digits,
     * a final "1." is split thanks to the padding, Hangul untouched */
    check(kv_tok_13a, "It wasn't 3.14 or 3,000, it's 1.", "It wasn't 3.14 or 3,000 , it's 1 .");
    check(kv_tok_13a, "GPT-4는 \"좋다\"…", "GPT-4는 \" 좋다 \" …");
    check(kv_tok_13a, "pre-\nprocessed<skipped> A&amp;B &lt;x&gt;", "preprocessed A & B < x >");
    check(kv_tok_13a, "", "");
    /* intl: Unicode punctuation split unless between digits; mteval-v14 keeps
     * a final '.' after a number */
    check(kv_tok_intl, "GPT-4는 「좋다」…", "GPT - 4는 「 좋다 」 …");
    check(kv_tok_intl, "It costs 3,000.", "It costs 3,000.");
    /* zh: CJK split; the buggy range list covers U+2001..U+2A6D (“ ” — ①) */
    check(kv_tok_zh, "我爱北京“天安门”①", "我 爱 北 京 “ 天 安 门 ” ①");
    check(kv_tok_zh, " 서울은  크다. ", "서울은 크다 .");
    /* char: every code point but whitespace; ❤️ is two code points */
    check(kv_tok_char, "서울 ❤️", "서 울 ❤ \xEF\xB8\x8F");
    check(kv_tok_none, "  a  b\xE3\x80\x80" "c ", "a b c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_13a_matches_reference_regexps),
        cmocka_unit_test(test_13a_dense_punctuation),
        cmocka_unit_test(test_13a_replacements_random),
        cmocka_unit_test(test_13a_long_lines),
        cmocka_unit_test(test_intl_matches_reference_regexps),
        cmocka_unit_test(test_hand_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
