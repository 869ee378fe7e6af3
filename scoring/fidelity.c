/*
 * fidelity.c — language fidelity by ICU script properties (see fidelity.h).
 */
#include "scoring/fidelity.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "src/buf.h"
#include "src/text.h"

/* Spans that are not prose, leftmost first (PCRE2_MULTILINE: ^ is a line
 * start). Group 1: a ``` run, closed by the same run or the end; group 2: a
 * ~~~ fence opening a line (a "~~~" inside a line is Korean elongation,
 * "좋아요~~~", not code); group 3: inline code of one or two backticks. */
static const char NOT_PROSE[] =
    "(`{3,})[\\s\\S]*?(?:\\1|\\z)"
    "|^[ \\t]*(~{3,})[^\\n]*(?:\\n[\\s\\S]*?(?:^[ \\t]*\\2|\\z)|\\z)"
    "|(`{1,2})[^`\\n]+\\3"
    "|(?i:\\b(?:https?|ftp)://|\\bwww\\.)[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=%]+"
    "|[A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)+";

struct kv_fidelity_checker {
    kv_fidelity_opts o;
    pcre2_code *rx;
    pcre2_match_data *md;
    kv_buf clean; /* the answer with ill-formed UTF-8 replaced, when needed */
};

typedef struct profile {
    const char *tags; /* primary subtags, space-separated */
    UScriptCode expected[3];
    int n_expected;
    UScriptCode tolerated; /* USCRIPT_INVALID_CODE = none */
    bool kana_rule;
} profile;

static const profile PROFILES[] = {
    {"ko", {USCRIPT_HANGUL}, 1, USCRIPT_HAN, false},
    {"ja", {USCRIPT_HIRAGANA, USCRIPT_KATAKANA, USCRIPT_HAN}, 3, USCRIPT_INVALID_CODE, true},
    {"zh yue", {USCRIPT_HAN, USCRIPT_BOPOMOFO}, 2, USCRIPT_INVALID_CODE, false},
    {"en fr de es it pt nl sv da no nb nn fi is et lv lt pl cs sk sl hr bs ro hu tr az vi id "
     "ms tl sw ca eu gl ga cy sq af uz",
     {USCRIPT_LATIN},
     1,
     USCRIPT_INVALID_CODE,
     false},
    {"ru uk be bg mk kk ky mn tg", {USCRIPT_CYRILLIC}, 1, USCRIPT_INVALID_CODE, false},
    {"el", {USCRIPT_GREEK}, 1, USCRIPT_INVALID_CODE, false},
    {"he yi", {USCRIPT_HEBREW}, 1, USCRIPT_INVALID_CODE, false},
    {"ar fa ur ps", {USCRIPT_ARABIC}, 1, USCRIPT_INVALID_CODE, false},
    {"hi mr ne sa", {USCRIPT_DEVANAGARI}, 1, USCRIPT_INVALID_CODE, false},
    {"bn as", {USCRIPT_BENGALI}, 1, USCRIPT_INVALID_CODE, false},
    {"th", {USCRIPT_THAI}, 1, USCRIPT_INVALID_CODE, false},
    {"lo", {USCRIPT_LAO}, 1, USCRIPT_INVALID_CODE, false},
    {"km", {USCRIPT_KHMER}, 1, USCRIPT_INVALID_CODE, false},
    {"my", {USCRIPT_MYANMAR}, 1, USCRIPT_INVALID_CODE, false},
    {"ka", {USCRIPT_GEORGIAN}, 1, USCRIPT_INVALID_CODE, false},
    {"hy", {USCRIPT_ARMENIAN}, 1, USCRIPT_INVALID_CODE, false},
    {"am ti", {USCRIPT_ETHIOPIC}, 1, USCRIPT_INVALID_CODE, false},
    {"ta", {USCRIPT_TAMIL}, 1, USCRIPT_INVALID_CODE, false},
    {"te", {USCRIPT_TELUGU}, 1, USCRIPT_INVALID_CODE, false},
    {"kn", {USCRIPT_KANNADA}, 1, USCRIPT_INVALID_CODE, false},
    {"ml", {USCRIPT_MALAYALAM}, 1, USCRIPT_INVALID_CODE, false},
    {"gu", {USCRIPT_GUJARATI}, 1, USCRIPT_INVALID_CODE, false},
    {"pa", {USCRIPT_GURMUKHI}, 1, USCRIPT_INVALID_CODE, false},
    {"si", {USCRIPT_SINHALA}, 1, USCRIPT_INVALID_CODE, false},
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *kv_fidelity_verdict_name(kv_fidelity_verdict v)
{
    switch (v) {
    case KV_FIDELITY_OK:
        return "ok";
    case KV_FIDELITY_WRONG:
        return "wrong_language";
    case KV_FIDELITY_UNDETERMINED:
        return "undetermined";
    }
    return "?";
}

const char *kv_script_group_name(kv_script_group g)
{
    static const char *const names[KV_SCRIPT_GROUPS] = {"hangul", "han",      "kana",
                                                        "latin",  "cyrillic", "other"};
    return (unsigned)g < KV_SCRIPT_GROUPS ? names[g] : "?";
}

kv_fidelity_opts kv_fidelity_defaults(void)
{
    kv_fidelity_opts o = {.threshold = 0.5, .min_letters = 2, .ja_kana_min_letters = 6};
    return o;
}

kv_fidelity_checker *kv_fidelity_new(const kv_fidelity_opts *o, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE at;
    pcre2_code *rx = pcre2_compile((PCRE2_SPTR)NOT_PROSE, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MULTILINE, &code, &at, NULL);
    if (!rx) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        seterr(err, errlen, "fidelity pattern, offset %zu: %s", (size_t)at, (char *)msg);
        return NULL;
    }
    pcre2_jit_compile(rx, PCRE2_JIT_COMPLETE);
    kv_fidelity_checker *f = kv_xcalloc(1, sizeof *f);
    f->o = o ? *o : kv_fidelity_defaults();
    f->rx = rx;
    f->md = pcre2_match_data_create_from_pattern(rx, NULL);
    if (!f->md) {
        fprintf(stderr, "koeval: out of memory\n");
        abort();
    }
    return f;
}

void kv_fidelity_free(kv_fidelity_checker *f)
{
    if (!f)
        return;
    pcre2_code_free(f->rx);
    pcre2_match_data_free(f->md);
    kv_buf_free(&f->clean);
    free(f);
}

static const profile *find_profile(const char *lang)
{
    if (!lang)
        return NULL;
    size_t n = strcspn(lang, "-_");
    if (n == 0)
        return NULL;
    for (size_t p = 0; p < sizeof PROFILES / sizeof PROFILES[0]; p++) {
        const char *t = PROFILES[p].tags;
        while (*t) {
            size_t m = strcspn(t, " ");
            if (m == n && strncasecmp(t, lang, n) == 0)
                return &PROFILES[p];
            t += m;
            t += *t == ' ';
        }
    }
    return NULL;
}

bool kv_fidelity_lang_known(const char *lang)
{
    return find_profile(lang) != NULL;
}

static kv_script_group group_of(UScriptCode sc)
{
    switch (sc) {
    case USCRIPT_HANGUL:
        return KV_SCRIPT_HANGUL;
    case USCRIPT_HAN:
        return KV_SCRIPT_HAN;
    case USCRIPT_HIRAGANA:
    case USCRIPT_KATAKANA:
    case USCRIPT_KATAKANA_OR_HIRAGANA:
        return KV_SCRIPT_KANA;
    case USCRIPT_LATIN:
        return KV_SCRIPT_LATIN;
    case USCRIPT_CYRILLIC:
        return KV_SCRIPT_CYRILLIC;
    default:
        return KV_SCRIPT_OTHER;
    }
}

/* The script a letter is counted under, or USCRIPT_INVALID_CODE. */
static UScriptCode letter_script(UChar32 c)
{
    UErrorCode st = U_ZERO_ERROR;
    UScriptCode sc = uscript_getScript(c, &st);
    if (U_FAILURE(st))
        return USCRIPT_INVALID_CODE;
    if (sc != USCRIPT_COMMON && sc != USCRIPT_INHERITED)
        return sc;
    UScriptCode scx[8];
    st = U_ZERO_ERROR;
    int32_t n = uscript_getScriptExtensions(c, scx, 8, &st);
    if (U_FAILURE(st) && st != U_BUFFER_OVERFLOW_ERROR)
        return USCRIPT_INVALID_CODE;
    if (n < 1 || scx[0] == USCRIPT_COMMON || scx[0] == USCRIPT_INHERITED)
        return USCRIPT_INVALID_CODE;
    return scx[0];
}

static void count_letters(const profile *p, const char *s, size_t n, kv_fidelity *out)
{
    size_t i = 0;
    while (i < n) {
        UChar32 c = (UChar32)kv_utf8_next(s, n, &i);
        if (!(U_GET_GC_MASK(c) & U_GC_L_MASK))
            continue;
        UScriptCode sc = letter_script(c);
        if (sc == USCRIPT_INVALID_CODE)
            continue;
        out->letters++;
        out->by_group[group_of(sc)]++;
        bool exp = false;
        for (int k = 0; k < p->n_expected; k++)
            exp = exp || sc == p->expected[k];
        if (exp)
            out->expected++;
        else if (sc == p->tolerated)
            out->tolerated++;
    }
}

int kv_fidelity_check(kv_fidelity_checker *f, const char *lang, const char *s, size_t n,
                      kv_fidelity *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->dominant = KV_SCRIPT_OTHER;
    const profile *p = find_profile(lang);
    if (!p) {
        seterr(err, errlen, "language fidelity: unknown language \"%s\"", lang ? lang : "");
        return KV_FID_ERR_LANG;
    }
    if (!kv_utf8_valid(s, n)) {
        kv_buf_clear(&f->clean);
        kv_utf8_sanitize(s, n, &f->clean);
        s = f->clean.p;
        n = f->clean.len;
    }
    size_t at = 0;
    while (at < n) {
        int rc = pcre2_match(f->rx, (PCRE2_SPTR)s, n, at, 0, f->md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            seterr(err, errlen, "language fidelity: %s", (char *)msg);
            memset(out, 0, sizeof *out);
            return KV_FID_ERR_REGEX;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(f->md);
        count_letters(p, s + at, ov[0] - at, out);
        out->excluded_bytes += ov[1] - ov[0];
        /* no pattern matches empty text, so ov[1] > ov[0] >= at */
        at = ov[1];
    }
    if (at < n)
        count_letters(p, s + at, n - at, out);

    size_t best = 0;
    for (int g = 0; g < KV_SCRIPT_GROUPS; g++) {
        if (out->by_group[g] > best) {
            best = out->by_group[g];
            out->dominant = (kv_script_group)g;
        }
    }
    if (out->letters) {
        double L = (double)out->letters;
        out->share = (double)out->expected / L;
        out->han_share = (double)out->by_group[KV_SCRIPT_HAN] / L;
        out->latin_share = (double)out->by_group[KV_SCRIPT_LATIN] / L;
    }

    if (out->letters < f->o.min_letters || out->letters == 0) {
        out->verdict = KV_FIDELITY_UNDETERMINED;
        return KV_FID_OK;
    }
    double accepted = (double)(out->expected + out->tolerated) / (double)out->letters;
    bool ok = accepted >= f->o.threshold && out->tolerated <= out->expected;
    if (ok && p->kana_rule && out->letters >= f->o.ja_kana_min_letters &&
        out->by_group[KV_SCRIPT_KANA] == 0)
        ok = false;
    out->verdict = ok ? KV_FIDELITY_OK : KV_FIDELITY_WRONG;
    return KV_FID_OK;
}

void kv_fidelity_sum_add(kv_fidelity_sum *sum, const kv_fidelity *f)
{
    sum->answers++;
    switch (f->verdict) {
    case KV_FIDELITY_OK:
        sum->ok++;
        break;
    case KV_FIDELITY_WRONG:
        sum->wrong++;
        break;
    case KV_FIDELITY_UNDETERMINED:
        sum->undetermined++;
        return;
    }
    sum->share += f->share;
    sum->han_share += f->han_share;
    sum->latin_share += f->latin_share;
}

double kv_fidelity_rate(const kv_fidelity_sum *sum)
{
    size_t d = sum->ok + sum->wrong;
    return d ? (double)sum->ok / (double)d : 0;
}

void kv_fidelity_means(const kv_fidelity_sum *sum, double *share, double *han_share,
                       double *latin_share)
{
    double d = (double)(sum->ok + sum->wrong);
    *share = d > 0 ? sum->share / d : 0;
    *han_share = d > 0 ? sum->han_share / d : 0;
    *latin_share = d > 0 ? sum->latin_share / d : 0;
}
