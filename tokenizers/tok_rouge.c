/*
 * rouge-score 0.1.2 `DefaultTokenizer` (rouge_score/tokenize.py):
 *   text.lower()                      Python's full Unicode lowercase
 *   re.sub(r"[^a-z0-9]+", " ", text)  every other character separates
 *   re.split(r"\s+", text)
 *   stemmer.stem(t) if len(t) > 3     only with use_stemmer (KV_TOK_STEM)
 *   keep t if re.match(r"^[a-z0-9]+$") drops the empty strings of the split
 *
 * After lowercasing only the bytes [a-z0-9] can be part of a token, and in
 * UTF-8 every byte of a non-ASCII character is >= 0x80, so the scan works on
 * bytes. Lowercasing has to come first because a few non-ASCII characters
 * lowercase to ASCII letters (KELVIN SIGN → 'k', 'İ' → 'i' + U+0307).
 * Those two are the only ones: in ICU's root-locale full lowercase mapping
 * (context-free apart from Greek final sigma), no other non-ASCII code point
 * yields an ASCII letter or digit; tests/tokenizers/test_tok_rouge.c checks
 * this over all of Unicode. So no ICU call is needed: non-ASCII characters
 * become separators, except those two.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "src/text.h"
#include "tokenizers/porter.h"
#include "tokenizers/tokenizer.h"

static bool is_token_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Scans s[0..n), lowercasing ASCII on the fly when `fold` is set, and
 * appends the tokens to out (stemmed when `stem`). */
static void emit_tokens(const char *s, size_t n, bool fold, bool stem, kv_buf *out)
{
    size_t start_len = out->len;
    /* The stemmed output is never longer than the input plus separators. */
    kv_buf_reserve(out, n + 1);
    size_t i = 0;
    while (i < n) {
        while (i < n) {
            unsigned char c = (unsigned char)s[i];
            if (fold)
                c = ascii_lower(c);
            if (is_token_byte(c))
                break;
            i++;
        }
        if (i == n)
            break;
        if (out->len > start_len)
            out->p[out->len++] = ' ';
        char *tok = out->p + out->len;
        size_t len = 0;
        while (i < n) {
            unsigned char c = (unsigned char)s[i];
            if (fold)
                c = ascii_lower(c);
            if (!is_token_byte(c))
                break;
            tok[len++] = (char)c;
            i++;
        }
        if (stem && len > 3)
            len = kv_porter_stem(tok, len, tok);
        out->len += len;
    }
    /* A stem is never empty for a word of 4+ bytes, so no separator is left
     * dangling; keep the buffer NUL-terminated as kv_buf promises. */
    out->p[out->len] = '\0';
}

int kv_tok_rouge(const char *s, size_t n, int flags, kv_buf *out)
{
    bool stem = (flags & KV_TOK_STEM) != 0;
    bool ascii = true;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] >= 0x80) {
            ascii = false;
            break;
        }
    }
    if (ascii) {
        emit_tokens(s, n, true, stem, out);
        return 0;
    }
    kv_buf lower = {0};
    kv_buf_reserve(&lower, n);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            lower.p[lower.len++] = (char)ascii_lower(c);
            i++;
            continue;
        }
        uint32_t cp = kv_utf8_next(s, n, &i);
        /* U+0130 → "i" U+0307 (the combining dot separates), U+212A → "k" */
        lower.p[lower.len++] = cp == 0x130 ? 'i' : cp == 0x212A ? 'k' : ' ';
        if (cp == 0x130)
            lower.p[lower.len++] = ' ';
    }
    emit_tokens(lower.p, lower.len, false, stem, out);
    kv_buf_free(&lower);
    return 0;
}
