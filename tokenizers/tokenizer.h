/*
 * tokenizer.h — the tokenizer registry.
 *
 * A tokenizer turns one segment (UTF-8, explicit length) into its tokens,
 * appended to `out` as the tokens separated by Python whitespace (one or
 * more characters, possibly also before the first and after the last token:
 * the 13a and zh tokenizers leave sacreBLEU's padding for the caller's split
 * to drop). Tokens never contain Python whitespace, so callers recover them
 * with kv_split_py, or get sacreBLEU's display form with kv_tok_join_split.
 * Tokenizers are pure functions: no state, no I/O, safe from any thread.
 *
 * BLEU tokenizers reproduce sacreBLEU 2.6.0 exactly (see each file); the
 * ROUGE tokenizers reproduce rouge-score 0.1.2's DefaultTokenizer, and
 * "unicode" is koeval's own tokenizer that keeps Hangul, Han and Kana.
 */
#ifndef KOEVAL_TOKENIZER_H
#define KOEVAL_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>

#include "src/buf.h"
#include "src/text.h"

/* Flag for ROUGE tokenizers: apply the Porter stemmer as rouge-score does
 * (NLTK's PorterStemmer, NLTK_EXTENSIONS mode, on tokens longer than 3). */
#define KV_TOK_STEM 1

/* Appends the tokenization of s[0..n) to out. Returns 0, or -1 when ICU
 * fails (out may then hold a partial result and must be discarded). */
typedef int (*kv_tokenize_fn)(const char *s, size_t n, int flags, kv_buf *out);

typedef struct kv_tokenizer {
    const char *name;      /* registry name, as given to --tokenize */
    const char *signature; /* name used in score signatures (tok:…) */
    const char *summary;   /* one line for --help */
    kv_tokenize_fn fn;
} kv_tokenizer;

/* Looks a tokenizer up by name ("13a", "intl", "zh", "char", "none",
 * "rouge", "unicode", "whitespace"). Returns NULL when unknown. */
const kv_tokenizer *kv_tokenizer_find(const char *name);

/* The registry, terminated by an entry whose name is NULL. */
extern const kv_tokenizer kv_tokenizers[];

/* The individual tokenizers (one file each). */
int kv_tok_13a(const char *s, size_t n, int flags, kv_buf *out);
int kv_tok_intl(const char *s, size_t n, int flags, kv_buf *out);
int kv_tok_zh(const char *s, size_t n, int flags, kv_buf *out);
int kv_tok_char(const char *s, size_t n, int flags, kv_buf *out);
int kv_tok_none(const char *s, size_t n, int flags, kv_buf *out);
/* rouge-score 0.1.2 DefaultTokenizer: Unicode lowercase, runs of characters
 * outside [a-z0-9] become spaces, split, optional Porter stemming of tokens
 * longer than 3 characters, keep tokens matching ^[a-z0-9]+$. Deletes every
 * Hangul, Han and Kana letter: kept for compatibility only. */
int kv_tok_rouge(const char *s, size_t n, int flags, kv_buf *out);
/* Python str.split(): the tokens exactly as written (the `whitespace` ROUGE
 * tokenizer of the reference vectors). */
int kv_tok_whitespace(const char *s, size_t n, int flags, kv_buf *out);
/* koeval's Unicode tokenizer (see tok_unicode.c). */
int kv_tok_unicode(const char *s, size_t n, int flags, kv_buf *out);

/* Internal helper shared by 13a and zh: sacreBLEU's TokenizerRegexp passes
 * and the final split, appended to out as tokens joined by single spaces. */
void kv_tok_regexp_passes(const char *s, size_t n, kv_buf *out);

/* The same as token byte ranges into t[0..n), appended to *spans (grown with
 * kv_xrealloc, *cap in elements) without building any string; returns the
 * count. `padded` scans t as if it were ' ' + t + ' ' (13a's padding). */
size_t kv_tok_regexp_spans(const char *t, size_t n, bool padded, kv_span **spans, size_t *cap);

/* 13a as spans: returns the text the spans index, which is s itself or, when
 * 13a's replacements (<skipped>, "-\n", "\n", &quot; &amp; &lt; &gt;) changed
 * it, `scratch` (which then must outlive the spans). *count = tokens. */
const char *kv_tok_13a_spans(const char *s, size_t n, kv_buf *scratch, kv_span **spans,
                             size_t *cap, size_t *count);

/* Internal helper: appends the tokens of s[0..n) (Python split) joined by
 * single spaces. */
void kv_tok_join_split(const char *s, size_t n, kv_buf *out);

#endif
