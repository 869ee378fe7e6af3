/* Tests for src/text.c: UTF-8 handling, Python string semantics and the
 * normalization options. Expected bytes are written out by hand from the
 * Unicode Character Database (code point → UTF-8) in the comments. */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "src/buf.h"
#include "src/text.h"

/* Sanitizes s (NUL-free literal of length n) and checks the replacement
 * count and the output bytes. */
static void check_sanitize(const char *s, size_t n, size_t want_bad, const char *want)
{
    kv_buf out = {0};
    assert_int_equal(kv_utf8_sanitize(s, n, &out), want_bad);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.p, want, out.len);
    assert_true(kv_utf8_valid(out.p, out.len));
    assert_int_equal(kv_utf8_valid(s, n), want_bad == 0);
    kv_buf_free(&out);
}

#define FFFD "\xef\xbf\xbd"
#define SAN(lit, bad, want) check_sanitize((lit), sizeof(lit) - 1, (bad), (want))

static void utf8_sanitize(void **state)
{
    (void)state;
    /* valid input is copied unchanged */
    SAN("abc", 0, "abc");
    SAN("\xec\x84\x9c\xec\x9a\xb8", 0, "\xec\x84\x9c\xec\x9a\xb8"); /* 서울 */
    SAN("\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80");                 /* U+1F600 */
    /* truncated 3-byte sequence EB 85 (maximal subpart): one U+FFFD */
    SAN("\xeb\x85", 1, FFFD);
    SAN("a\xeb\x85" "b", 1, "a" FFFD "b");
    /* lone continuation bytes: one U+FFFD each */
    SAN("\x80", 1, FFFD);
    SAN("\x80\xbf" "x", 2, FFFD FFFD "x");
    /* overlong encodings: C0/C1 never start a sequence; E0 80 and F0 80
     * are not valid prefixes, so every byte is its own maximal subpart */
    SAN("\xc0\xaf", 2, FFFD FFFD);                 /* '/' overlong in 2 */
    SAN("\xc1\xbf", 2, FFFD FFFD);
    SAN("\xe0\x80\xaf", 3, FFFD FFFD FFFD);        /* '/' overlong in 3 */
    SAN("\xf0\x80\x80\xaf", 4, FFFD FFFD FFFD FFFD); /* '/' overlong in 4 */
    /* UTF-16 surrogate U+D800 encoded in UTF-8: ED A0 is not a prefix */
    SAN("\xed\xa0\x80", 3, FFFD FFFD FFFD);
    /* above U+10FFFF: F4 90 is not a prefix; F5 is never a lead */
    SAN("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
    SAN("\xf5", 1, FFFD);
    /* a truncated 4-byte sequence before a valid char: one U+FFFD */
    SAN("\xf0\x9f\x98" "a", 1, FFFD "a");
}

static void utf8_next_count_decode(void **state)
{
    (void)state;
    static const char s[] = "a\xeb\x85" "b\xf0\x9f\x98\x80"; /* a, <EB 85>, b, U+1F600 */
    size_t n = sizeof s - 1, i = 0;
    assert_int_equal(kv_utf8_next(s, n, &i), 'a');
    assert_int_equal(i, 1);
    assert_int_equal(kv_utf8_next(s, n, &i), KV_REPLACEMENT_CHAR);
    assert_int_equal(i, 3); /* past the maximal subpart EB 85 */
    assert_int_equal(kv_utf8_next(s, n, &i), 'b');
    assert_int_equal(kv_utf8_next(s, n, &i), 0x1F600);
    assert_int_equal(i, n);
    assert_int_equal(kv_utf8_count(s, n), 4);
    assert_int_equal(kv_utf8_count("", 0), 0);

    uint32_t *cps = NULL;
    size_t cap = 0;
    assert_int_equal(kv_utf8_decode(s, n, &cps, &cap), 4);
    assert_int_equal(cps[0], 'a');
    assert_int_equal(cps[1], 0xFFFD);
    assert_int_equal(cps[2], 'b');
    assert_int_equal(cps[3], 0x1F600);
    /* 한 = U+D55C */
    assert_int_equal(kv_utf8_decode("\xed\x95\x9c", 3, &cps, &cap), 1);
    assert_int_equal(cps[0], 0xD55C);
    free(cps);
}

static void py_space(void **state)
{
    (void)state;
    static const uint32_t spaces[] = {
        0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x1C,   0x1D,   0x1E,   0x1F,   0x20,
        0x85,   0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
        0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    };
    assert_int_equal(sizeof spaces / sizeof spaces[0], 29);
    for (size_t k = 0; k < 29; k++)
        assert_true(kv_is_py_space(spaces[k]));
    /* exactly those 29 in the whole code space */
    size_t count = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++)
        count += kv_is_py_space(cp);
    assert_int_equal(count, 29);
    /* not Python whitespace */
    assert_false(kv_is_py_space(0x200B)); /* ZERO WIDTH SPACE */
    assert_false(kv_is_py_space(0xFEFF)); /* BOM */
    assert_false(kv_is_py_space(0x180E)); /* MONGOLIAN VOWEL SEPARATOR */
    assert_false(kv_is_py_space(0x08));
    assert_false(kv_is_py_space(0x1B));
    assert_false(kv_is_py_space(0x21));
    assert_false(kv_is_py_space(0x84));
    assert_false(kv_is_py_space(0x200C));
    assert_false(kv_is_py_space('a'));
}

static void split_py(void **state)
{
    (void)state;
    /* "  a\u3000b\u00a0\u00a0c\u200bd \t" → ["a", "b", "c\u200bd"] */
    static const char s[] = "  a\xe3\x80\x80" "b\xc2\xa0\xc2\xa0" "c\xe2\x80\x8b" "d \t";
    kv_span *sp = NULL;
    size_t cap = 0;
    assert_int_equal(kv_split_py(s, sizeof s - 1, &sp, &cap), 3);
    assert_int_equal(sp[0].off, 2);
    assert_int_equal(sp[0].len, 1);
    assert_int_equal(sp[1].off, 6); /* after 2 spaces, 'a', 3-byte U+3000 */
    assert_int_equal(sp[1].len, 1);
    assert_int_equal(sp[2].off, 11); /* after 'b' and two 2-byte NBSPs */
    assert_int_equal(sp[2].len, 5);  /* c + 3-byte ZWSP + d */
    assert_int_equal(kv_split_py("", 0, &sp, &cap), 0);
    assert_int_equal(kv_split_py(" \n\x1c\xc2\x85", 5, &sp, &cap), 0);
    /* U+0085 NEL splits; U+FEFF does not */
    assert_int_equal(kv_split_py("a\xc2\x85" "b\xef\xbb\xbf" "c", 8, &sp, &cap), 2);
    assert_int_equal(sp[1].off, 3);
    assert_int_equal(sp[1].len, 5);
    free(sp);
}

static void rstrip_py(void **state)
{
    (void)state;
    assert_int_equal(kv_rstrip_py("ab \xe3\x80\x80\n", 7), 2); /* space, U+3000, LF */
    assert_int_equal(kv_rstrip_py("a\xe2\x80\x8b", 4), 4);      /* ZWSP kept */
    assert_int_equal(kv_rstrip_py("a\xc2\x85", 3), 1);          /* NEL stripped */
    assert_int_equal(kv_rstrip_py("a\xc2\xa0\xe2\x80\xaf", 6), 1); /* NBSP, NNBSP */
    assert_int_equal(kv_rstrip_py("\xea\xb0\x80", 3), 3);        /* 가 kept */
    assert_int_equal(kv_rstrip_py("\xf0\x9f\x98\x80 ", 5), 4);  /* emoji kept */
    assert_int_equal(kv_rstrip_py("   ", 3), 0);
    assert_int_equal(kv_rstrip_py("", 0), 0);
    assert_int_equal(kv_rstrip_py(" a", 2), 2); /* leading space kept */
    assert_int_equal(kv_rstrip_py("a\x80", 2), 2); /* stray byte: not space */
}

static void check_lower(const char *in, const char *want)
{
    kv_buf out = {0};
    assert_int_equal(kv_py_lower(in, strlen(in), &out), 0);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.p, want, out.len);
    kv_buf_free(&out);
}

static void py_lower(void **state)
{
    (void)state;
    /* ASCII fast path */
    check_lower("Hello, WORLD 123!", "hello, world 123!");
    check_lower("", "");
    /* 'İ' U+0130 → "i̇" = U+0069 U+0307 (two code points) */
    check_lower("\xc4\xb0", "i\xcc\x87");
    assert_int_equal(kv_utf8_count("i\xcc\x87", 3), 2);
    /* final sigma: ΟΔΟΣ → οδος, the last σ becoming ς (U+03C2 = CF 82);
     * ο = CE BF, δ = CE B4, σ = CF 83 */
    check_lower("\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82");
    /* Σ not at a word end stays σ: ΣΑ → σα (α = CE B1) */
    check_lower("\xce\xa3\xce\x91", "\xcf\x83\xce\xb1");
    /* KELVIN SIGN U+212A → 'k' */
    check_lower("\xe2\x84\xaa", "k");
    /* Hangul has no case; mixed text */
    check_lower("ABC\xec\x84\x9c\xec\x9a\xb8", "abc\xec\x84\x9c\xec\x9a\xb8");
    /* appends after existing content */
    kv_buf out = {0};
    kv_buf_put(&out, "x", 1);
    assert_int_equal(kv_py_lower("AB", 2, &out), 0);
    assert_string_equal(out.p, "xab");
    assert_int_equal(kv_py_lower("\xc3\x89", 2, &out), 0); /* É → é */
    assert_string_equal(out.p, "xab\xc3\xa9");
    kv_buf_free(&out);
}

static void check_norm(const kv_norm_opts *o, const char *in, const char *want)
{
    kv_buf out = {0};
    assert_int_equal(kv_normalize(o, in, strlen(in), &out), 0);
    assert_int_equal(out.len, strlen(want));
    if (out.len)
        assert_memory_equal(out.p, want, out.len);
    kv_buf_free(&out);
}

static void normalize_forms(void **state)
{
    (void)state;
    kv_norm_opts nfc = {.form = KV_NORM_NFC};
    kv_norm_opts nfkc = {.form = KV_NORM_NFKC};
    kv_norm_opts none = {.form = KV_NORM_NONE};
    /* 한 in NFD: U+1112 U+1161 U+11AB → NFC U+D55C (ED 95 9C) */
    static const char han_nfd[] = "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab";
    check_norm(&nfc, han_nfd, "\xed\x95\x9c");
    check_norm(&nfc, "\xed\x95\x9c", "\xed\x95\x9c");
    /* NFD 한국어 (한 + 국 U+AD6D + 어 U+C5B4) equals the NFC text */
    check_norm(&nfc,
               "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab\xe1\x84\x80\xe1\x85\xae\xe1\x86\xa8"
               "\xe1\x84\x8b\xe1\x85\xa5",
               "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4");
    /* e + U+0301 → é (C3 A9) */
    check_norm(&nfc, "e\xcc\x81", "\xc3\xa9");
    /* none keeps NFD as is */
    check_norm(&none, han_nfd, han_nfd);
    /* NFC keeps ① (U+2460); NFKC maps it to 1 */
    check_norm(&nfc, "\xe2\x91\xa0", "\xe2\x91\xa0");
    check_norm(&nfkc, "\xe2\x91\xa0", "1");
    /* ASCII is unchanged by every form */
    check_norm(&nfkc, "  Plain ASCII ", "  Plain ASCII ");
    check_norm(&nfc, "", "");
}

static void normalize_width(void **state)
{
    (void)state;
    kv_norm_opts w = {.form = KV_NORM_NONE, .width = true};
    kv_norm_opts wnfc = {.form = KV_NORM_NFC, .width = true};
    /* ＡＢＣ１２３！ (U+FF21–FF23, U+FF11–FF13, U+FF01) → ABC123! */
    check_norm(&w, "\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"
                   "\xef\xbc\x81",
               "ABC123!");
    /* U+3000 IDEOGRAPHIC SPACE <wide> → U+0020 */
    check_norm(&w, "a\xe3\x80\x80" "b", "a b");
    /* half-width Hangul ﾡ U+FFA1 <narrow> → compatibility jamo ㄱ U+3131
     * (E3 84 B1), not the conjoining jamo U+1100 that NFKD gives */
    check_norm(&w, "\xef\xbe\xa1", "\xe3\x84\xb1");
    check_norm(&wnfc, "\xef\xbe\xa1\xef\xbf\x82", "\xe3\x84\xb1\xe3\x85\x8f"); /* ﾡￂ → ㄱㅏ */
    /* half-width katakana ｶ U+FF76 → カ U+30AB (E3 82 AB) */
    check_norm(&w, "\xef\xbd\xb6", "\xe3\x82\xab");
    /* ｶﾞ: ﾞ U+FF9E → U+3099, which NFC composes with カ into ガ U+30AC */
    check_norm(&w, "\xef\xbd\xb6\xef\xbe\x9e", "\xe3\x82\xab\xe3\x82\x99");
    check_norm(&wnfc, "\xef\xbd\xb6\xef\xbe\x9e", "\xe3\x82\xac");
    /* ￦ FULLWIDTH WON SIGN U+FFE6 <wide> → ₩ U+20A9 (E2 82 A9) */
    check_norm(&w, "\xef\xbf\xa6", "\xe2\x82\xa9");
    /* ￣ FULLWIDTH MACRON U+FFE3 <wide> → ¯ U+00AF (C2 AF), one code point
     * each (its full NFKD would be U+0020 U+0304: two) */
    check_norm(&w, "\xef\xbf\xa3\xef\xbf\xa3\xef\xbf\xa3\xef\xbf\xa3",
               "\xc2\xaf\xc2\xaf\xc2\xaf\xc2\xaf");
    /* other compatibility characters are left alone: ① and ﬁ (U+FB01) */
    check_norm(&wnfc, "\xe2\x91\xa0\xef\xac\x81", "\xe2\x91\xa0\xef\xac\x81");
    /* already-narrow text is unchanged */
    check_norm(&wnfc, "\xec\x84\x9c\xec\x9a\xb8 ABC", "\xec\x84\x9c\xec\x9a\xb8 ABC");
}

static void normalize_zero_width(void **state)
{
    (void)state;
    kv_norm_opts zw = {.form = KV_NORM_NONE, .zero_width = true};
    kv_norm_opts zwnfc = {.form = KV_NORM_NFC, .zero_width = true};
    /* a ZWSP b WJ c BOM d ZWJ e → "abcd" ZWJ "e" (U+200D = E2 80 8D kept) */
    static const char in[] =
        "a\xe2\x80\x8b" "b\xe2\x81\xa0" "c\xef\xbb\xbf" "d\xe2\x80\x8d" "e";
    check_norm(&zw, in, "abcd\xe2\x80\x8d" "e");
    check_norm(&zwnfc, in, "abcd\xe2\x80\x8d" "e");
    /* U+200C ZWNJ kept */
    check_norm(&zw, "a\xe2\x80\x8c" "b", "a\xe2\x80\x8c" "b");
    /* off: kept */
    kv_norm_opts nfc = {.form = KV_NORM_NFC};
    check_norm(&nfc, "a\xe2\x80\x8b" "b", "a\xe2\x80\x8b" "b");
    /* removal between jamo lets NFC compose them: ᄒ ZWSP ᅡ → 하 (ED 95 98) */
    check_norm(&zwnfc, "\xe1\x84\x92\xe2\x80\x8b\xe1\x85\xa1", "\xed\x95\x98");
}

static void normalize_ws_fold(void **state)
{
    (void)state;
    kv_norm_opts ws = {.form = KV_NORM_NONE, .collapse_ws = true};
    kv_norm_opts wsnfc = {.form = KV_NORM_NFC, .collapse_ws = true};
    check_norm(&ws, " a \t b\n", "a b");
    check_norm(&ws, "   ", "");
    /* non-ASCII whitespace: NBSP, U+3000 */
    check_norm(&wsnfc, " \xec\x84\x9c\xec\x9a\xb8 \xc2\xa0\xe3\x80\x80 \xec\x8b\x9c ",
               "\xec\x84\x9c\xec\x9a\xb8 \xec\x8b\x9c");
    /* ZWSP is not whitespace */
    check_norm(&ws, "a \xe2\x80\x8b b", "a \xe2\x80\x8b b");

    kv_norm_opts fold = {.form = KV_NORM_NONE, .casefold = true};
    kv_norm_opts foldnfc = {.form = KV_NORM_NFC, .casefold = true};
    check_norm(&fold, "HeLLo", "hello");
    /* full folding: Straße → strasse (ß U+00DF folds to ss) */
    check_norm(&fold, "Stra\xc3\x9f" "e", "strasse");
    /* folding has no final-sigma rule: ΟΔΟΣ → οδοσ (σ = CF 83) */
    check_norm(&fold, "\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x83");
    /* KELVIN SIGN folds to k; Hangul unchanged */
    check_norm(&foldnfc, "\xe2\x84\xaa\xec\x84\x9c", "k\xec\x84\x9c");
    /* everything at once: full-width Ａ, ZWSP, U+3000, NFD 한 */
    kv_norm_opts all = {
        .form = KV_NORM_NFC, .width = true, .zero_width = true, .collapse_ws = true,
        .casefold = true};
    check_norm(&all, " \xef\xbc\xa1\xe2\x80\x8b" "B\xe3\x80\x80\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab ",
               "ab \xed\x95\x9c");
}

static void signature_and_names(void **state)
{
    (void)state;
    char sig[64];
    kv_norm_opts o = {.form = KV_NORM_NFC};
    kv_norm_signature(&o, sig, sizeof sig);
    assert_string_equal(sig, "nfc");
    o = (kv_norm_opts){.form = KV_NORM_NFC, .width = true, .zero_width = true,
                       .collapse_ws = true, .casefold = true};
    kv_norm_signature(&o, sig, sizeof sig);
    assert_string_equal(sig, "nfc+width+zw+ws+fold");
    o = (kv_norm_opts){0};
    kv_norm_signature(&o, sig, sizeof sig);
    assert_string_equal(sig, "none");
    o = (kv_norm_opts){.form = KV_NORM_NFKC, .collapse_ws = true};
    kv_norm_signature(&o, sig, sizeof sig);
    assert_string_equal(sig, "nfkc+ws");
    /* truncation is safe */
    char small[4];
    o = (kv_norm_opts){.form = KV_NORM_NFC, .width = true};
    kv_norm_signature(&o, small, sizeof small);
    assert_string_equal(small, "nfc");

    kv_norm_form f;
    assert_int_equal(kv_norm_form_parse("nfc", &f), 0);
    assert_int_equal(f, KV_NORM_NFC);
    assert_int_equal(kv_norm_form_parse("nfkc", &f), 0);
    assert_int_equal(f, KV_NORM_NFKC);
    assert_int_equal(kv_norm_form_parse("none", &f), 0);
    assert_int_equal(f, KV_NORM_NONE);
    assert_int_equal(kv_norm_form_parse("nfd", &f), -1);
    assert_string_equal(kv_norm_form_name(KV_NORM_NFC), "nfc");
    assert_string_equal(kv_norm_form_name(KV_NORM_NFKC), "nfkc");
    assert_string_equal(kv_norm_form_name(KV_NORM_NONE), "none");
}

/* kv_normalizer_apply(line) must equal kv_normalize(kv_utf8_sanitize(line))
 * with the same replacement count; returns whether it took the no-copy
 * path. */
static bool check_against_plain(kv_normalizer *nz, const kv_norm_opts *o, const char *line,
                                size_t n)
{
    kv_buf clean = {0}, want = {0}, out = {0};
    size_t want_bad = kv_utf8_sanitize(line, n, &clean);
    assert_int_equal(kv_normalize(o, clean.p ? clean.p : "", clean.len, &want), 0);
    const char *res;
    size_t res_len, bad;
    assert_int_equal(kv_normalizer_apply(nz, line, n, &out, &res, &res_len, &bad), 0);
    assert_int_equal(bad, want_bad);
    assert_int_equal(res_len, want.len);
    assert_memory_equal(res, want.p ? want.p : "", res_len);
    kv_buf_free(&clean);
    kv_buf_free(&want);
    kv_buf_free(&out);
    return res == line;
}

/* kv_normalizer_apply against the plain path it short-cuts (sanitize, then
 * kv_normalize) on random lines built from pieces that stress its block
 * check: Hangul at both ends of U+AC00..U+D7A3 and just past it, conjoining
 * jamo that compose with a syllable before them, combining marks, characters
 * NFC or NFKC change, 2- and 4-byte characters, and ill-formed sequences
 * (truncated, overlong, surrogate, stray continuation bytes) at every offset
 * of the 16-byte blocks, for every option set. */
static void normalizer_matches_plain_path(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "a", "Z", " ", "  ", ".", "\t", "0",
        "\xea\xb0\x80",             /* U+AC00 가 */
        "\xed\x9e\xa3",             /* U+D7A3 힣 */
        "\xed\x9e\x88",             /* U+D788 히 */
        "\xed\x9e\xa4",             /* U+D7A4 (past the syllables) */
        "\xeb\x8b\xa4",             /* U+B2E4 다 */
        "\xea\xaf\xbf",             /* U+ABFF */
        "\xea\xa0\x86",             /* U+A806 (combining class 9) */
        "\xe1\x84\x80",             /* U+1100 choseong kiyeok */
        "\xe1\x85\xa1",             /* U+1161 jungseong a */
        "\xe1\x86\xa8",             /* U+11A8 jongseong kiyeok */
        "\xcc\x81",                 /* U+0301 combining acute */
        "\xc3\xa9",                 /* U+00E9 */
        "\xe2\x80\x9c",             /* U+201C */
        "\xe2\x80\x80",             /* U+2000 (NFC: U+2002) */
        "\xe2\x80\x8b",             /* U+200B */
        "\xef\xbb\xbf",             /* U+FEFF */
        "\xef\xbc\xa1",             /* U+FF21 full-width A */
        "\xef\xbe\xa1",             /* U+FFA1 half-width Hangul */
        "\xe3\x80\x80",             /* U+3000 */
        "\xf0\x9f\x98\x80",         /* U+1F600 */
        "\xff", "\x80", "\xe1\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xc0\xaf",
        "\xea\xb0", "\xf4\x90\x80\x80",
    };
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    const size_t ncommon = 12; /* pieces[0..12): ASCII and syllables */
    kv_norm_opts sets[7]; /* the last one changes nothing: the UTF-8 check alone */
    memset(sets, 0, sizeof sets);
    sets[0].form = KV_NORM_NFC;
    sets[1].form = KV_NORM_NFKC;
    sets[2].form = KV_NORM_NFC;
    sets[2].width = true;
    sets[3].form = KV_NORM_NFC;
    sets[3].zero_width = true;
    sets[4].form = KV_NORM_NFC;
    sets[4].casefold = true;
    sets[5].form = KV_NORM_NONE;
    sets[5].collapse_ws = true;
    sets[6].form = KV_NORM_NONE;
    uint64_t rng = 0x243F6A8885A308D3ull;
    size_t fast = 0;
    for (size_t set = 0; set < 7; set++) {
        kv_normalizer *nz = kv_normalizer_new(&sets[set]);
        for (int round = 0; round < 3000; round++) {
            char line[1024];
            size_t n = 0;
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            size_t count = 1 + (size_t)(rng >> 33) % 60;
            /* mostly Hangul and ASCII, the rest now and then */
            unsigned rare = 1 + (unsigned)(rng >> 20) % 40;
            for (size_t k = 0; k < count; k++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                unsigned r = (unsigned)(rng >> 33);
                size_t pick = r % rare == 0 ? (r >> 8) % npieces : (r >> 8) % ncommon;
                size_t len = strlen(pieces[pick]);
                memcpy(line + n, pieces[pick], len);
                n += len;
            }
            fast += check_against_plain(nz, &sets[set], line, n);
        }
        /* every other piece at every place of lines of 18..70 bytes made of
         * the common pieces: each offset in and after the blocks */
        for (size_t target = 18; target <= 70; target++) {
            char base[128];
            size_t bn = 0, cuts[128], ncuts = 0;
            for (size_t k = 0; bn < target; k++) {
                const char *pc = pieces[(k * 7 + target) % ncommon];
                cuts[ncuts++] = bn;
                memcpy(base + bn, pc, strlen(pc));
                bn += strlen(pc);
            }
            cuts[ncuts++] = bn;
            for (size_t c = 0; c < ncuts; c++) {
                for (size_t r = ncommon; r < npieces; r++) {
                    char line[160];
                    size_t rl = strlen(pieces[r]);
                    memcpy(line, base, cuts[c]);
                    memcpy(line + cuts[c], pieces[r], rl);
                    memcpy(line + cuts[c] + rl, base + cuts[c], bn - cuts[c]);
                    check_against_plain(nz, &sets[set], line, bn + rl);
                }
            }
        }
        kv_normalizer_free(nz);
    }
    /* the lines that need no change took the no-copy path */
    assert_true(fast > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_sanitize),     cmocka_unit_test(utf8_next_count_decode),
        cmocka_unit_test(py_space),          cmocka_unit_test(split_py),
        cmocka_unit_test(rstrip_py),         cmocka_unit_test(py_lower),
        cmocka_unit_test(normalize_forms),   cmocka_unit_test(normalize_width),
        cmocka_unit_test(normalize_zero_width), cmocka_unit_test(normalize_ws_fold),
        cmocka_unit_test(signature_and_names),
        cmocka_unit_test(normalizer_matches_plain_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
