#include <string.h>

#include "tokenizers/tokenizer.h"

const kv_tokenizer kv_tokenizers[] = {
    {"13a", "13a", "mteval-v13a, sacreBLEU's default (ASCII punctuation split off)", kv_tok_13a},
    {"intl", "intl", "mteval-v14 international: Unicode punctuation and symbols split off", kv_tok_intl},
    {"zh", "zh", "sacreBLEU zh: CJK characters split, then 13a rules", kv_tok_zh},
    {"char", "char", "every character a token (spaces dropped)", kv_tok_char},
    {"none", "none", "no tokenization: split on whitespace only", kv_tok_none},
    {"rouge", "rouge", "rouge-score DefaultTokenizer: lowercase [a-z0-9] only (drops Hangul)", kv_tok_rouge},
    {"whitespace", "whitespace", "Python str.split(): tokens as written", kv_tok_whitespace},
    {"unicode", "unicode", "koeval: lowercase words, punctuation dropped, Han/Kana/Hangul kept", kv_tok_unicode},
    {NULL, NULL, NULL, NULL},
};

const kv_tokenizer *kv_tokenizer_find(const char *name)
{
    for (const kv_tokenizer *t = kv_tokenizers; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}
