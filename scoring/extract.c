/*
 * Answer extraction with PCRE2. Every pattern is compiled once per
 * kv_extractor; matching walks the text left to right and the policy picks
 * among the hits, so the behaviour is a short list of rules that can be read
 * in one place (extract.h).
 */
#include "scoring/extract.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/text.h"

/* One choice token: letters, full-width letters, circled numbers, numbers,
 * Korean enumeration syllables. The order inside the group puts "10" before
 * "1" so that the longer one wins. */
#define TOKEN "([A-J]|[\\x{FF21}-\\x{FF2A}]|[\\x{2460}-\\x{2469}]|10|[1-9]|[가나다라마바사아자차])"
/* What may follow a token in an answer position: not a letter or digit,
 * except the Korean particles and endings that attach to it. */
#define AFTER                                                                                   \
    "(?=\\s*(?:번|입니다|이다|이에요|예요|이요|요|이|가|을|를|은|는|으로|로|임)|[^\\p{L}\\p{N}]|$)"
#define OPEN "(?:\\*\\*|__)?\\s*[\\(\\[（【]?\\s*"
#define CLOSE "\\s*[\\)\\]）】]?\\s*(?:\\*\\*|__)?"

enum {
    RX_THINK_OPEN,   /* an opening reasoning tag */
    RX_MARKER,       /* marker then token */
    RX_REVERSE,      /* token then "가 정답" */
    RX_LEADING,      /* token opening the answer: "D. …", "(B) …" */
    RX_BEON,         /* "3번" */
    RX_WHOLE,        /* the whole answer is a token */
    RX_BOXED,        /* \boxed{ */
    RX_NUM_MARKER,   /* marker then a number */
    RX_NUMBER,       /* a number */
    RX_COPULA,       /* a Korean copula ending a short answer */
    RX_COUNT
};

static const char *const patterns[RX_COUNT] = {
    [RX_THINK_OPEN] = "<(think|thinking|reasoning|reflection)>",
    [RX_MARKER] = "(?i:정답|답|answer|正解|答え|答案|答|选项|選択肢|option|choice)"
                  "\\s*(?:은|는|이|:|：|is|は|是|为|為)?\\s*(?:[:：=]\\s*)?" OPEN TOKEN CLOSE AFTER,
    [RX_REVERSE] = "(?<![\\p{L}\\p{N}])" OPEN TOKEN CLOSE "(?:번)?\\s*(?:이|가|이가)?\\s*정답",
    [RX_LEADING] = "\\A\\s*" OPEN TOKEN CLOSE "(?:[.。:：]|\\s*$)",
    [RX_BEON] = "(?<![\\p{L}\\p{N}])(10|[1-9]|[\\x{2460}-\\x{2469}])\\s*번(?!째)",
    [RX_WHOLE] = "\\A\\s*" OPEN TOKEN CLOSE "[.。]?\\s*\\z",
    [RX_BOXED] = "\\\\boxed\\s*\\{",
    [RX_NUM_MARKER] = "(?i:정답|답|answer|result|결과|正解|答え|答案|答)"
                      "\\s*(?:은|는|이|:|：|is|は|是|为|為)?\\s*(?:[:：=]\\s*)?(?:약\\s*)?"
                      "(?:\\*\\*)?\\s*\\$?\\s*([-+\\x{2212}]?\\d[\\d,]*(?:\\.\\d+)?)",
    [RX_NUMBER] = "(?<![\\d.])([-+\\x{2212}]?(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?)",
    [RX_COPULA] = "(?:입니다|이에요|예요|이요|이다|이죠|이에용)$",
};

struct kv_extractor {
    pcre2_code *rx[RX_COUNT];
    pcre2_match_data *md;
};

const char *kv_extract_status_name(kv_extract_status s)
{
    switch (s) {
    case KV_EXTRACT_OK:
        return "ok";
    case KV_EXTRACT_UNTERMINATED_THINK:
        return "unterminated_think";
    default:
        return "no_answer";
    }
}

kv_extractor *kv_extractor_new(char *err, size_t errlen)
{
    kv_extractor *x = kv_xcalloc(1, sizeof *x);
    for (int i = 0; i < RX_COUNT; i++) {
        int code;
        PCRE2_SIZE off;
        x->rx[i] = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &code, &off, NULL);
        if (!x->rx[i]) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(code, msg, sizeof msg);
            snprintf(err, errlen, "extraction pattern %d: %s at offset %zu", i, (char *)msg,
                     (size_t)off);
            kv_extractor_free(x);
            return NULL;
        }
        pcre2_jit_compile(x->rx[i], PCRE2_JIT_COMPLETE);
    }
    x->md = pcre2_match_data_create(8, NULL);
    return x;
}

void kv_extractor_free(kv_extractor *x)
{
    if (!x)
        return;
    for (int i = 0; i < RX_COUNT; i++)
        pcre2_code_free(x->rx[i]);
    pcre2_match_data_free(x->md);
    free(x);
}

/* Matches rx at or after `from`; returns true and the group's span. */
static bool match_at(const kv_extractor *x, int rx, const char *s, size_t n, size_t from,
                     int group, size_t *mstart, size_t *mend, size_t *gstart, size_t *gend)
{
    int rc = pcre2_match(x->rx[rx], (PCRE2_SPTR)s, n, from, 0, x->md, NULL);
    if (rc < 0)
        return false;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->md);
    *mstart = ov[0];
    *mend = ov[1];
    if (gstart) {
        *gstart = ov[2 * group];
        *gend = ov[2 * group + 1];
    }
    return true;
}

kv_extract_status kv_strip_reasoning(const kv_extractor *x, const char *s, size_t n,
                                     kv_buf *out)
{
    kv_buf_clear(out);
    size_t pos = 0;
    for (;;) {
        size_t ms, me, gs, ge;
        if (!match_at(x, RX_THINK_OPEN, s, n, pos, 1, &ms, &me, &gs, &ge)) {
            kv_buf_put(out, s + pos, n - pos);
            break;
        }
        kv_buf_put(out, s + pos, ms - pos);
        char close[32];
        snprintf(close, sizeof close, "</%.*s>", (int)(ge - gs), s + gs);
        size_t cl = strlen(close);
        const char *end = NULL;
        for (size_t i = me; i + cl <= n; i++)
            if (s[i] == '<' && memcmp(s + i, close, cl) == 0) {
                end = s + i;
                break;
            }
        if (!end) {
            kv_buf_clear(out);
            kv_buf_put(out, "", 0);
            return KV_EXTRACT_UNTERMINATED_THINK;
        }
        pos = (size_t)(end - s) + cl;
    }
    /* trim Python whitespace at both ends */
    size_t a = 0, b = kv_rstrip_py(out->p ? out->p : "", out->len);
    while (a < b) {
        size_t j = a;
        uint32_t cp = kv_utf8_next(out->p, b, &j);
        if (!kv_is_py_space(cp))
            break;
        a = j;
    }
    if (a > 0 || b < out->len) {
        memmove(out->p, out->p + a, b - a);
        out->len = b - a;
        out->p[out->len] = '\0';
    }
    if (!out->p)
        kv_buf_put(out, "", 0);
    return KV_EXTRACT_OK;
}

/* 0-based index of a choice token, or -1. */
static int token_index(const char *t, size_t len)
{
    size_t i = 0;
    uint32_t cp = kv_utf8_next(t, len, &i);
    if (len == 2 && t[0] == '1' && t[1] == '0')
        return 9;
    if (cp >= 'A' && cp <= 'J')
        return (int)(cp - 'A');
    if (cp >= 0xFF21 && cp <= 0xFF2A)
        return (int)(cp - 0xFF21);
    if (cp >= 0x2460 && cp <= 0x2469)
        return (int)(cp - 0x2460);
    if (cp >= '1' && cp <= '9')
        return (int)(cp - '1');
    static const uint32_t ko[] = {0xAC00, 0xB098, 0xB2E4, 0xB77C, 0xB9C8,
                                  0xBC14, 0xC0AC, 0xC544, 0xC790, 0xCC28}; /* 가…차 */
    for (int k = 0; k < 10; k++)
        if (cp == ko[k])
            return k;
    return -1;
}

/* All hits of a pattern whose group 1 is a valid choice; picks by policy. */
static int scan_choices(const kv_extractor *x, int rx, const char *s, size_t n, int n_choices,
                        kv_choice_policy policy)
{
    int found = -1;
    size_t from = 0;
    size_t ms, me, gs, ge;
    while (from <= n && match_at(x, rx, s, n, from, 1, &ms, &me, &gs, &ge)) {
        int idx = token_index(s + gs, ge - gs);
        if (idx >= 0 && idx < n_choices) {
            found = idx;
            if (policy == KV_CHOICE_FIRST)
                return found;
        }
        from = me > ms ? me : ms + 1;
        /* step to a character boundary */
        while (from < n && ((unsigned char)s[from] & 0xC0) == 0x80)
            from++;
    }
    return found;
}

kv_extract_status kv_extract_choice(const kv_extractor *x, const char *s, size_t n,
                                    int n_choices, kv_choice_policy policy, int *choice)
{
    *choice = -1;
    kv_buf t = {0};
    kv_extract_status st = kv_strip_reasoning(x, s, n, &t);
    if (st != KV_EXTRACT_OK) {
        kv_buf_free(&t);
        return st;
    }
    static const int cascade[] = {RX_MARKER, RX_REVERSE, RX_LEADING, RX_BEON, RX_WHOLE};
    int found = -1;
    for (size_t k = 0; k < sizeof cascade / sizeof cascade[0] && found < 0; k++)
        found = scan_choices(x, cascade[k], t.p, t.len, n_choices, policy);
    kv_buf_free(&t);
    if (found < 0)
        return KV_EXTRACT_NONE;
    *choice = found;
    return KV_EXTRACT_OK;
}

/* Writes the plain form of a matched number (separators and '+' dropped,
 * U+2212 as '-', trailing zero decimals removed), times `scale`. */
static void plain_number(const char *s, size_t n, double scale, kv_buf *out)
{
    char tmp[128];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof tmp;) {
        if ((unsigned char)s[i] == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x88 &&
            (unsigned char)s[i + 2] == 0x92) {
            tmp[k++] = '-';
            i += 3;
        } else if (s[i] == ',' || s[i] == '+') {
            i++;
        } else {
            tmp[k++] = s[i++];
        }
    }
    tmp[k] = '\0';
    kv_buf_clear(out);
    if (scale != 1.0) {
        double v = strtod(tmp, NULL) * scale;
        if (v == floor(v) && fabs(v) < 1e18)
            kv_buf_printf(out, "%.0f", v);
        else
            kv_buf_printf(out, "%.15g", v);
        return;
    }
    char *dot = strchr(tmp, '.');
    if (dot) {
        size_t e = strlen(tmp);
        while (e > (size_t)(dot - tmp) + 1 && tmp[e - 1] == '0')
            tmp[--e] = '\0';
        if (tmp[e - 1] == '.')
            tmp[e - 1] = '\0';
    }
    kv_buf_put(out, tmp, strlen(tmp));
}

/* The multiplier of the Korean unit word at s[*i] (천 10^3, 만 10^4, 억 10^8,
 * 조 10^12), advancing *i past it; 0 when there is none. */
static double unit_at(const char *s, size_t n, size_t *i)
{
    if (*i >= n || (unsigned char)s[*i] < 0x80)
        return 0;
    size_t j = *i;
    uint32_t cp = kv_utf8_next(s, n, &j);
    double m = cp == 0xCC9C ? 1e3 : cp == 0xB9CC ? 1e4 : cp == 0xC5B5 ? 1e8 : cp == 0xC870 ? 1e12 : 0;
    if (m)
        *i = j;
    return m;
}

/* A number written with Korean units starting at s[i] ("2만 4천" = 24000,
 * "3억 5천만" = 350000000, "1,234만" = 12340000), read the way Korean groups
 * digits: 천 multiplies within a group, 만/억/조 close a group. Writes the
 * value to *out and returns true when at least one unit was used. */
static bool korean_number(const char *s, size_t n, size_t i, double *out)
{
    double total = 0, group = 0;
    bool units = false;
    for (;;) {
        while (i < n && s[i] == ' ')
            i++;
        double cur = -1;
        if (i < n && (s[i] >= '0' && s[i] <= '9')) {
            char buf[64];
            size_t k = 0;
            while (i < n && k + 1 < sizeof buf &&
                   ((s[i] >= '0' && s[i] <= '9') || s[i] == ',' || s[i] == '.')) {
                if (s[i] != ',')
                    buf[k++] = s[i];
                i++;
            }
            buf[k] = '\0';
            cur = strtod(buf, NULL);
            while (i < n && s[i] == ' ')
                i++;
        }
        double m = unit_at(s, n, &i);
        if (m == 1e3) {
            group += (cur >= 0 ? cur : 1) * 1e3;
        } else if (m > 0) {
            double g = group + (cur >= 0 ? cur : 0);
            total += (g > 0 ? g : 1) * m;
            group = 0;
        } else {
            if (cur >= 0)
                group += cur;
            break;
        }
        units = true;
    }
    *out = total + group;
    return units;
}

/* Where a Korean compound number that ends with the digits at s[start]
 * begins: "3억 5천만" found at "5" begins at "3". Each unit word is 3 bytes. */
static size_t compound_start(const char *s, size_t start)
{
    for (;;) {
        size_t i = start;
        while (i > 0 && s[i - 1] == ' ')
            i--;
        if (i < 3)
            return start;
        size_t u = i - 3, j = u;
        if (unit_at(s, i, &j) == 0 || j != i)
            return start;
        size_t d = u;
        while (d > 0 && s[d - 1] == ' ')
            d--;
        size_t k = d;
        while (k > 0 && ((s[k - 1] >= '0' && s[k - 1] <= '9') || s[k - 1] == ','))
            k--;
        if (k == d)
            return start; /* a unit with no number before it */
        start = k;
    }
}

/* Writes the number at s[start..end) to out, reading Korean units around it
 * when asked. */
static void number_at(const char *s, size_t n, size_t start, size_t end, bool korean_units,
                      kv_buf *out)
{
    double v;
    if (korean_units && korean_number(s, n, compound_start(s, start), &v)) {
        kv_buf_clear(out);
        if (v == floor(v) && fabs(v) < 1e18)
            kv_buf_printf(out, "%.0f", v);
        else
            kv_buf_printf(out, "%.15g", v);
        return;
    }
    plain_number(s + start, end - start, 1.0, out);
}

kv_extract_status kv_extract_number(const kv_extractor *x, const char *s, size_t n,
                                    bool korean_units, kv_buf *out)
{
    kv_buf t = {0}, w = {0};
    kv_extract_status st = kv_strip_reasoning(x, s, n, &t);
    kv_buf_clear(out);
    if (st != KV_EXTRACT_OK) {
        kv_buf_free(&t);
        return st;
    }
    /* full-width digits to ASCII, LaTeX "{,}" to ',' */
    kv_norm_opts fold = {.form = KV_NORM_NONE, .width = true};
    kv_normalize(&fold, t.p, t.len, &w);
    kv_buf_clear(&t);
    for (size_t i = 0; i < w.len; i++) {
        if (w.p[i] == '{' && i + 2 < w.len && w.p[i + 1] == ',' && w.p[i + 2] == '}') {
            kv_buf_putc(&t, ',');
            i += 2;
        } else {
            kv_buf_putc(&t, w.p[i]);
        }
    }
    if (!t.p)
        kv_buf_put(&t, "", 0);
    const char *p = t.p;
    size_t len = t.len;
    size_t ms, me, gs, ge;
    st = KV_EXTRACT_NONE;

    /* 1. the last \boxed{…}: a number inside it */
    size_t from = 0, box_s = 0, box_e = 0;
    bool boxed = false;
    while (match_at(x, RX_BOXED, p, len, from, 0, &ms, &me, NULL, NULL)) {
        int depth = 1;
        size_t i = me;
        for (; i < len && depth > 0; i++)
            depth += p[i] == '{' ? 1 : p[i] == '}' ? -1 : 0;
        box_s = me;
        box_e = depth == 0 ? i - 1 : len;
        boxed = true;
        from = me;
    }
    if (boxed && match_at(x, RX_NUMBER, p, box_e, box_s, 1, &ms, &me, &gs, &ge)) {
        number_at(p, box_e, gs, ge, korean_units, out);
        st = KV_EXTRACT_OK;
    }
    /* 2. the last number after an answer marker */
    if (st != KV_EXTRACT_OK) {
        from = 0;
        bool got = false;
        size_t bs = 0, be = 0;
        while (match_at(x, RX_NUM_MARKER, p, len, from, 1, &ms, &me, &gs, &ge)) {
            got = true;
            bs = gs;
            be = ge;
            from = me;
        }
        if (got) {
            /* a trailing ',' belongs to the sentence, not the number */
            while (be > bs && p[be - 1] == ',')
                be--;
            number_at(p, len, bs, be, korean_units, out);
            st = KV_EXTRACT_OK;
        }
    }
    /* 3. the last number in the text */
    if (st != KV_EXTRACT_OK) {
        from = 0;
        bool got = false;
        size_t bs = 0, be = 0;
        while (match_at(x, RX_NUMBER, p, len, from, 1, &ms, &me, &gs, &ge)) {
            got = true;
            bs = gs;
            be = ge;
            from = me;
        }
        if (got) {
            number_at(p, len, bs, be, korean_units, out);
            st = KV_EXTRACT_OK;
        }
    }
    kv_buf_free(&t);
    kv_buf_free(&w);
    if (!out->p)
        kv_buf_put(out, "", 0);
    return st;
}

bool kv_numbers_equal(const char *a, const char *b)
{
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea == a || eb == b || *ea || *eb)
        return strcmp(a, b) == 0;
    return fabs(x - y) <= 1e-9 * fmax(1.0, fmax(fabs(x), fabs(y)));
}

/* Is cp a character stripped from the ends of a short answer? */
static bool edge_char(uint32_t cp)
{
    static const uint32_t set[] = {'"', '\'', '`', '*', '_', '.', '!', '?', ',', ':', ';',
                                   0x3002, 0xFF01, 0xFF1F, 0x300C, 0x300D, 0x300E, 0x300F,
                                   0x201C, 0x201D, 0x2018, 0x2019, 0xFF0E, 0x3001};
    if (kv_is_py_space(cp))
        return true;
    for (size_t k = 0; k < sizeof set / sizeof set[0]; k++)
        if (cp == set[k])
            return true;
    return false;
}

kv_extract_status kv_extract_short(const kv_extractor *x, const char *s, size_t n,
                                   kv_buf *out)
{
    kv_buf t = {0};
    kv_extract_status st = kv_strip_reasoning(x, s, n, &t);
    kv_buf_clear(out);
    if (st != KV_EXTRACT_OK) {
        kv_buf_free(&t);
        kv_buf_put(out, "", 0);
        return st;
    }
    size_t a = 0, b = t.len;
    for (;;) {
        bool changed = false;
        if (a < b) {
            size_t j = a;
            if (edge_char(kv_utf8_next(t.p, b, &j))) {
                a = j;
                changed = true;
            }
        }
        if (b > a) {
            size_t k = b - 1;
            while (k > a && ((unsigned char)t.p[k] & 0xC0) == 0x80)
                k--;
            size_t j = k;
            if (edge_char(kv_utf8_next(t.p, b, &j))) {
                b = k;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    size_t ms, me;
    if (b > a && match_at(x, RX_COPULA, t.p, b, a, 0, &ms, &me, NULL, NULL) && ms > a)
        b = ms;
    kv_buf_put(out, t.p + a, b - a);
    kv_buf_free(&t);
    return b > a ? KV_EXTRACT_OK : KV_EXTRACT_NONE;
}
