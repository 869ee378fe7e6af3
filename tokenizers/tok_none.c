/* sacreBLEU 2.6.0 `none`: the segment is used as it is; BLEU then splits it
 * on whitespace. */
#include "src/text.h"
#include "tokenizers/tokenizer.h"

#include <stdlib.h>

void kv_tok_join_split(const char *s, size_t n, kv_buf *out)
{
    kv_span *spans = NULL;
    size_t cap = 0;
    size_t k = kv_split_py(s, n, &spans, &cap);
    kv_buf_reserve(out, n);
    for (size_t i = 0; i < k; i++) {
        if (i)
            kv_buf_putc(out, ' ');
        kv_buf_put(out, s + spans[i].off, spans[i].len);
    }
    free(spans);
    if (!out->p)
        kv_buf_put(out, "", 0);
}

int kv_tok_none(const char *s, size_t n, int flags, kv_buf *out)
{
    kv_tok_join_split(s, n, out);
    return 0;
}

int kv_tok_whitespace(const char *s, size_t n, int flags, kv_buf *out)
{
    kv_tok_join_split(s, n, out);
    return 0;
}
