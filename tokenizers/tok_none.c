/* sacreBLEU 2.6.0 `none`: the segment is used as it is; BLEU then splits it
 * on whitespace. */
#include "src/text.h"
#include "tokenizers/tokenizer.h"


void kv_tok_join_split(const char *s, size_t n, kv_buf *out)
{
    kv_join_split_py(s, n, out);
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
