/*
 * sacreBLEU 2.6.0 `zh` (TokenizerZh): strip the segment, put spaces around
 * every character inside its list of "Chinese" ranges, then apply the 13a
 * regular-expression passes (without 13a's replacements and padding).
 *
 * The reference compares one-character strings against range bounds written
 * as '\u20000' and '\u2a6d6', which in Python are the two-character strings
 * U+2000 '0' and U+2A6D '6'; the comparison therefore accepts U+2001..U+2A6D
 * (general punctuation, arrows, ①, math, box drawing …) and not the real
 * Extension B. Likewise '\u2f800'..'\u2fa1d' accepts U+2F81..U+2FA1. The
 * table below keeps those effective ranges, because the numbers must match.
 */
#include "src/text.h"
#include "tokenizers/tokenizer.h"

static const uint32_t zh_ranges[][2] = {
    {0x3400, 0x4DB5}, {0x4E00, 0x9FA5}, {0x9FA6, 0x9FBB}, {0xF900, 0xFA2D},
    {0xFA30, 0xFA6A}, {0xFA70, 0xFAD9}, {0x2001, 0x2A6D}, {0x2F81, 0x2FA1},
    {0xFF00, 0xFFEF}, {0x2E80, 0x2EFF}, {0x3000, 0x303F}, {0x31C0, 0x31EF},
    {0x2F00, 0x2FDF}, {0x2FF0, 0x2FFF}, {0x3100, 0x312F}, {0x31A0, 0x31BF},
    {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F}, {0x2600, 0x26FF}, {0x2700, 0x27BF},
    {0x3200, 0x32FF}, {0x3300, 0x33FF},
};

static bool is_zh_char(uint32_t cp)
{
    if (cp < 0x2001)
        return false;
    for (size_t k = 0; k < sizeof zh_ranges / sizeof zh_ranges[0]; k++)
        if (cp >= zh_ranges[k][0] && cp <= zh_ranges[k][1])
            return true;
    return false;
}

int kv_tok_zh(const char *s, size_t n, int flags, kv_buf *out)
{
    /* str.strip(): both ends */
    size_t end = kv_rstrip_py(s, n);
    size_t start = 0;
    while (start < end) {
        size_t j = start;
        uint32_t cp = kv_utf8_next(s, end, &j);
        if (!kv_is_py_space(cp))
            break;
        start = j;
    }
    kv_buf spaced = {0};
    kv_buf_reserve(&spaced, 3 * (end - start));
    for (size_t i = start; i < end;) {
        size_t c0 = i;
        uint32_t cp = (unsigned char)s[i] < 0x80 ? (unsigned char)s[i++] : kv_utf8_next(s, end, &i);
        if (is_zh_char(cp)) {
            kv_buf_putc(&spaced, ' ');
            kv_buf_put(&spaced, s + c0, i - c0);
            kv_buf_putc(&spaced, ' ');
        } else {
            kv_buf_put(&spaced, s + c0, i - c0);
        }
    }
    kv_tok_regexp_passes(spaced.p ? spaced.p : "", spaced.len, out);
    kv_buf_free(&spaced);
    return 0;
}
