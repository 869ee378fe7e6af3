/*
 * sacreBLEU 2.6.0 `13a` (Tokenizer13a + TokenizerRegexp), the mteval-v13a
 * rules. Each regular expression of the reference is one left-to-right pass
 * here with the same non-overlapping match semantics as Python's re.sub:
 *   1. ([\{-\~\[-\` -\&\(-\+\:-\@\/])  -> ' \1 '   ASCII punctuation
 *   2. ([^0-9])([\.,])                 -> '\1 \2 ' period/comma after a non-digit
 *   3. ([\.,])([^0-9])                 -> ' \1 \2' period/comma before a non-digit
 *   4. ([0-9])(-)                      -> '\1 \2 ' dash after a digit
 * The final ' '.join(line.split()) is left to the caller (tokenizer.h: the
 * output is tokens separated by whitespace). "[^0-9]" matches any code point
 * but the ASCII digits (Hangul included).
 * tests/tokenizers/test_tok_regexp.c checks these passes against the
 * reference regular expressions run by PCRE2 on random text.
 */
#include <stdlib.h>
#include <string.h>

#include "src/text.h"
#include "tokenizers/tokenizer.h"

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Pass 1 character class: {|}~ [\]^_` space!"#$%& ()*+ :;<=>?@ / */
static const unsigned char punct_13a[256] = {
    [' '] = 1, ['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['('] = 1,
    [')'] = 1, ['*'] = 1, ['+'] = 1, ['/'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1,
    ['>'] = 1, ['?'] = 1, ['@'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
};

/*
 * The passes work on bytes, not code points. That is exact because the only
 * bytes any pattern names are ASCII, and UTF-8 lead and continuation bytes
 * are never ASCII: "[^0-9]" before a '.' is satisfied by the last byte of a
 * multi-byte character exactly when it is by the character; a match that
 * consumes the character after a '.' (pass 3) leaves its continuation bytes,
 * which no pattern can match, to be copied unchanged.
 */
void kv_tok_regexp_passes(const char *s, size_t n, kv_buf *out)
{
    unsigned char *a = kv_xmalloc(3 * n + 8), *b = kv_xmalloc(3 * (3 * n + 8));
    const unsigned char *u = (const unsigned char *)s;
    size_t la = 0, lb = 0;

    /* pass 1: ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> ' \1 ' */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = u[i];
        if (punct_13a[c]) {
            a[la++] = ' ';
            a[la++] = c;
            a[la++] = ' ';
        } else {
            a[la++] = c;
        }
    }

    /* pass 2: ([^0-9])([\.,]) -> '\1 \2 '; a match ends at its '.', so the
     * next match cannot use that '.' as its first group */
    bool consumed = false; /* was the previous byte the end of a match? */
    for (size_t i = 0; i < la; i++) {
        unsigned char c = a[i];
        if ((c == '.' || c == ',') && i > 0 && !consumed && !is_digit(a[i - 1])) {
            b[lb++] = ' ';
            b[lb++] = c;
            b[lb++] = ' ';
            consumed = true;
        } else {
            b[lb++] = c;
            consumed = false;
        }
    }

    /* pass 3: ([\.,])([^0-9]) -> ' \1 \2' */
    la = 0;
    for (size_t i = 0; i < lb; i++) {
        unsigned char c = b[i];
        if ((c == '.' || c == ',') && i + 1 < lb && !is_digit(b[i + 1])) {
            a[la++] = ' ';
            a[la++] = c;
            a[la++] = ' ';
            a[la++] = b[++i];
        } else {
            a[la++] = c;
        }
    }

    /* pass 4: ([0-9])(-) -> '\1 \2 ', straight into the output */
    kv_buf_reserve(out, 2 * la);
    unsigned char *o = (unsigned char *)out->p + out->len;
    size_t lo = 0;
    for (size_t i = 0; i < la; i++) {
        unsigned char c = a[i];
        if (is_digit(c) && i + 1 < la && a[i + 1] == '-') {
            o[lo++] = c;
            o[lo++] = ' ';
            o[lo++] = '-';
            o[lo++] = ' ';
            i++;
        } else {
            o[lo++] = c;
        }
    }
    out->len += lo;
    out->p[out->len] = '\0';
    free(a);
    free(b);
}

/* Appends s with every occurrence of `from` replaced by `to` (str.replace). */
static void replace_all(const char *s, size_t n, const char *from, const char *to, kv_buf *out)
{
    size_t fl = strlen(from), tl = strlen(to);
    size_t i = 0;
    while (i < n) {
        if (i + fl <= n && s[i] == from[0] && memcmp(s + i, from, fl) == 0) {
            kv_buf_put(out, to, tl);
            i += fl;
        } else {
            kv_buf_putc(out, s[i]);
            i++;
        }
    }
    if (!out->p)
        kv_buf_put(out, "", 0);
}

int kv_tok_13a(const char *s, size_t n, int flags, kv_buf *out)
{
    /* the replacements of Tokenizer13a.__call__, in its order */
    static const char *const always[][2] = {{"<skipped>", ""}, {"-\n", ""}, {"\n", " "}};
    static const char *const entities[][2] = {
        {"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    kv_buf cur = {0}, next = {0};
    kv_buf_putc(&cur, ' ');
    bool need = memchr(s, '<', n) || memchr(s, '\n', n);
    if (need) {
        kv_buf tmp = {0};
        kv_buf_put(&tmp, s, n);
        for (size_t k = 0; k < 3; k++) {
            kv_buf_clear(&next);
            replace_all(tmp.p, tmp.len, always[k][0], always[k][1], &next);
            kv_buf swap = tmp;
            tmp = next;
            next = swap;
        }
        kv_buf_put(&cur, tmp.p, tmp.len);
        kv_buf_free(&tmp);
    } else {
        kv_buf_put(&cur, s, n);
    }
    if (memchr(cur.p, '&', cur.len)) {
        for (size_t k = 0; k < 4; k++) {
            kv_buf_clear(&next);
            replace_all(cur.p, cur.len, entities[k][0], entities[k][1], &next);
            kv_buf swap = cur;
            cur = next;
            next = swap;
        }
    }
    kv_buf_putc(&cur, ' ');
    kv_tok_regexp_passes(cur.p, cur.len, out);
    kv_buf_free(&cur);
    kv_buf_free(&next);
    return 0;
}
