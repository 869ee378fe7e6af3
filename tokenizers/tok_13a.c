/*
 * sacreBLEU 2.6.0 `13a` (Tokenizer13a + TokenizerRegexp), the mteval-v13a
 * rules. Each regular expression of the reference is one left-to-right pass
 * here with the same non-overlapping match semantics as Python's re.sub:
 *   1. ([\{-\~\[-\` -\&\(-\+\:-\@\/])  -> ' \1 '   ASCII punctuation
 *   2. ([^0-9])([\.,])                 -> '\1 \2 ' period/comma after a non-digit
 *   3. ([\.,])([^0-9])                 -> ' \1 \2' period/comma before a non-digit
 *   4. ([0-9])(-)                      -> '\1 \2 ' dash after a digit
 * then ' '.join(line.split()). "[^0-9]" matches any code point but the ASCII
 * digits (Hangul included), so the passes step over whole UTF-8 characters.
 * tests/tokenizers/test_tok_regexp.c checks these passes against the
 * reference regular expressions run by PCRE2 on random text.
 */
#include <string.h>

#include "src/text.h"
#include "tokenizers/tokenizer.h"

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Pass 1 character class: {|}~ [\]^_` space!"#$%& ()*+ :;<=>?@ / */
static bool is_13a_punct(unsigned char c)
{
    return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
           (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

/* Byte length of the UTF-8 character starting at s[i]. */
static size_t char_len(const char *s, size_t n, size_t i)
{
    if ((unsigned char)s[i] < 0x80)
        return 1;
    size_t j = i;
    kv_utf8_next(s, n, &j);
    return j - i;
}

void kv_tok_regexp_passes(const char *s, size_t n, kv_buf *out)
{
    kv_buf a = {0}, b = {0};

    /* pass 1 */
    kv_buf_reserve(&a, 3 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_13a_punct(c)) {
            a.p[a.len++] = ' ';
            a.p[a.len++] = (char)c;
            a.p[a.len++] = ' ';
        } else {
            a.p[a.len++] = (char)c;
        }
    }

    /* pass 2: ([^0-9])([\.,]) -> '\1 \2 ' */
    kv_buf_reserve(&b, 2 * a.len);
    for (size_t i = 0; i < a.len;) {
        size_t l1 = char_len(a.p, a.len, i);
        unsigned char c = (unsigned char)a.p[i];
        if (!is_digit(c) && i + l1 < a.len && (a.p[i + l1] == '.' || a.p[i + l1] == ',')) {
            memcpy(b.p + b.len, a.p + i, l1);
            b.len += l1;
            b.p[b.len++] = ' ';
            b.p[b.len++] = a.p[i + l1];
            b.p[b.len++] = ' ';
            i += l1 + 1;
        } else {
            memcpy(b.p + b.len, a.p + i, l1);
            b.len += l1;
            i += l1;
        }
    }

    /* pass 3: ([\.,])([^0-9]) -> ' \1 \2' */
    kv_buf_clear(&a);
    kv_buf_reserve(&a, 2 * b.len);
    for (size_t i = 0; i < b.len;) {
        unsigned char c = (unsigned char)b.p[i];
        if ((c == '.' || c == ',') && i + 1 < b.len && !is_digit((unsigned char)b.p[i + 1])) {
            size_t l2 = char_len(b.p, b.len, i + 1);
            a.p[a.len++] = ' ';
            a.p[a.len++] = (char)c;
            a.p[a.len++] = ' ';
            memcpy(a.p + a.len, b.p + i + 1, l2);
            a.len += l2;
            i += 1 + l2;
        } else {
            size_t l1 = char_len(b.p, b.len, i);
            memcpy(a.p + a.len, b.p + i, l1);
            a.len += l1;
            i += l1;
        }
    }

    /* pass 4: ([0-9])(-) -> '\1 \2 ' */
    kv_buf_clear(&b);
    kv_buf_reserve(&b, 2 * a.len);
    for (size_t i = 0; i < a.len;) {
        unsigned char c = (unsigned char)a.p[i];
        if (is_digit(c) && i + 1 < a.len && a.p[i + 1] == '-') {
            b.p[b.len++] = (char)c;
            b.p[b.len++] = ' ';
            b.p[b.len++] = '-';
            b.p[b.len++] = ' ';
            i += 2;
        } else {
            b.p[b.len++] = (char)c;
            i++;
        }
    }

    kv_tok_join_split(b.p, b.len, out);
    kv_buf_free(&a);
    kv_buf_free(&b);
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
