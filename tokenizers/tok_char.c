/* sacreBLEU 2.6.0 `char`: " ".join(line) puts a space between all code
 * points; the later str.split() drops the whitespace ones. So: every code
 * point that is not Python whitespace is a token. */
#include "src/text.h"
#include "tokenizers/tokenizer.h"

int kv_tok_char(const char *s, size_t n, int flags, kv_buf *out)
{
    kv_buf_reserve(out, 2 * n);
    size_t i = 0;
    bool first = true;
    while (i < n) {
        size_t start = i;
        uint32_t cp;
        if ((unsigned char)s[i] < 0x80)
            cp = (unsigned char)s[i++];
        else
            cp = kv_utf8_next(s, n, &i);
        if (kv_is_py_space(cp))
            continue;
        if (!first)
            kv_buf_putc(out, ' ');
        first = false;
        kv_buf_put(out, s + start, i - start);
    }
    if (!out->p)
        kv_buf_put(out, "", 0);
    return 0;
}
