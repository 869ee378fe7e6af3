/*
 * sacreBLEU 2.6.0 `intl` (TokenizerV14International), the mteval-v14
 * international rules, as three left-to-right passes with Python re.sub
 * semantics (non-overlapping matches):
 *   1. (\P{N})(\p{P}) -> '\1 \2 '   punctuation after a non-number
 *   2. (\p{P})(\P{N}) -> ' \1 \2'   punctuation before a non-number
 *   3. (\p{S})        -> ' \1 '     every symbol
 * then ' '.join(line.split()). General categories come from ICU
 * (u_charType); the reference uses the `regex` module's tables, both
 * Unicode 15.0. A number followed by a final '.' keeps the '.', as mteval.
 */
#include <unicode/uchar.h>

#include "src/text.h"
#include "tokenizers/tokenizer.h"

static bool is_p(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 0x21 && cp <= 0x23) || (cp >= 0x25 && cp <= 0x2A) ||
               (cp >= 0x2C && cp <= 0x2F) || cp == 0x3A || cp == 0x3B || cp == 0x3F ||
               cp == 0x40 || (cp >= 0x5B && cp <= 0x5D) || cp == 0x5F || cp == 0x7B ||
               cp == 0x7D;
    return (U_GET_GC_MASK((UChar32)cp) & U_GC_P_MASK) != 0;
}

static bool is_n(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= '0' && cp <= '9';
    return (U_GET_GC_MASK((UChar32)cp) & U_GC_N_MASK) != 0;
}

static bool is_s(uint32_t cp)
{
    if (cp < 0x80)
        return cp == '$' || cp == '+' || cp == '<' || cp == '=' || cp == '>' || cp == '^' ||
               cp == '`' || cp == '|' || cp == '~';
    return (U_GET_GC_MASK((UChar32)cp) & U_GC_S_MASK) != 0;
}

static uint32_t next_cp(const char *s, size_t n, size_t *i)
{
    if ((unsigned char)s[*i] < 0x80)
        return (unsigned char)s[(*i)++];
    return kv_utf8_next(s, n, i);
}

int kv_tok_intl(const char *s, size_t n, int flags, kv_buf *out)
{
    kv_buf a = {0}, b = {0};

    /* pass 1: (\P{N})(\p{P}) -> '\1 \2 ' */
    kv_buf_reserve(&a, 2 * n);
    for (size_t i = 0; i < n;) {
        size_t c0 = i;
        uint32_t cp1 = next_cp(s, n, &i);
        if (!is_n(cp1) && i < n) {
            size_t j = i;
            uint32_t cp2 = next_cp(s, n, &j);
            if (is_p(cp2)) {
                kv_buf_put(&a, s + c0, i - c0);
                kv_buf_putc(&a, ' ');
                kv_buf_put(&a, s + i, j - i);
                kv_buf_putc(&a, ' ');
                i = j;
                continue;
            }
        }
        kv_buf_put(&a, s + c0, i - c0);
    }

    /* pass 2: (\p{P})(\P{N}) -> ' \1 \2' */
    kv_buf_reserve(&b, 2 * a.len);
    for (size_t i = 0; i < a.len;) {
        size_t c0 = i;
        uint32_t cp1 = next_cp(a.p, a.len, &i);
        if (is_p(cp1) && i < a.len) {
            size_t j = i;
            uint32_t cp2 = next_cp(a.p, a.len, &j);
            if (!is_n(cp2)) {
                kv_buf_putc(&b, ' ');
                kv_buf_put(&b, a.p + c0, i - c0);
                kv_buf_putc(&b, ' ');
                kv_buf_put(&b, a.p + i, j - i);
                i = j;
                continue;
            }
        }
        kv_buf_put(&b, a.p + c0, i - c0);
    }

    /* pass 3: (\p{S}) -> ' \1 ' */
    kv_buf_clear(&a);
    kv_buf_reserve(&a, 3 * b.len);
    for (size_t i = 0; i < b.len;) {
        size_t c0 = i;
        uint32_t cp = next_cp(b.p, b.len, &i);
        if (is_s(cp)) {
            kv_buf_putc(&a, ' ');
            kv_buf_put(&a, b.p + c0, i - c0);
            kv_buf_putc(&a, ' ');
        } else {
            kv_buf_put(&a, b.p + c0, i - c0);
        }
    }

    kv_tok_join_split(a.p ? a.p : "", a.len, out);
    kv_buf_free(&a);
    kv_buf_free(&b);
    return 0;
}
