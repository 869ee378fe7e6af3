/*
 * text.h — koeval's text layer: UTF-8 validation, Unicode normalization and
 * the Python string semantics that the reference metrics depend on.
 *
 * All strings are UTF-8 with an explicit byte length; nothing here relies on
 * NUL termination. Unicode work is done by ICU (DESIGN.md); the only tables
 * kept here are facts about Python 3 (its whitespace set), which ICU cannot
 * answer because Python's set differs from Unicode's White_Space property.
 */
#ifndef KOEVAL_TEXT_H
#define KOEVAL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/buf.h"

#define KV_REPLACEMENT_CHAR 0xFFFDu

/* Decodes one code point from s[*i .. n) and advances *i past it. An
 * ill-formed sequence yields U+FFFD and advances past its maximal subpart (the
 * W3C/ICU convention, U8_NEXT_OR_FFFD). Requires *i < n and n <= INT32_MAX. */
uint32_t kv_utf8_next(const char *s, size_t n, size_t *i);

/* Byte length of the non-ASCII Python whitespace character that starts at
 * u[i] (u has n bytes; u[i] is C2, E1, E2 or E3), or 0 when u[i] starts
 * anything else. The characters are U+0085, U+00A0, U+1680, U+2000..U+200A,
 * U+2028, U+2029, U+202F, U+205F and U+3000 (str.split()'s, with the ASCII
 * ones); a lead byte always starts a character, so these byte patterns
 * decide exactly as decoding would. */
static inline size_t kv_py_space_len(const unsigned char *u, size_t n, size_t i)
{
    unsigned c = u[i];
    if (c == 0xC2)
        return n - i >= 2 && (u[i + 1] == 0x85 || u[i + 1] == 0xA0) ? 2 : 0;
    if (n - i < 3 || (c != 0xE1 && c != 0xE2 && c != 0xE3))
        return 0;
    unsigned b = u[i + 1], d = u[i + 2];
    if (c == 0xE1)
        return b == 0x9A && d == 0x80 ? 3 : 0;
    if (c == 0xE3)
        return b == 0x80 && d == 0x80 ? 3 : 0;
    if (b == 0x80)
        return (d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF ? 3 : 0;
    return b == 0x81 && d == 0x9F ? 3 : 0;
}

/* Decodes, without branching, a well-formed 1-, 2- or 3-byte UTF-8 sequence
 * that starts with the bytes b0, b1, b2: returns the code point and sets
 * *len to 1, 2 or 3; *len = 0 when the bytes start anything else (a 4-byte
 * or an ill-formed sequence: use kv_utf8_next). Bytes after the sequence are
 * not looked at, so they may be anything (0 past the end of a text). */
static inline uint32_t kv_utf8_decode3(uint32_t b0, uint32_t b1, uint32_t b2, size_t *len)
{
    uint32_t c2 = ((b0 & 0x1F) << 6) | (b1 & 0x3F);
    uint32_t c3 = ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F);
    bool one = b0 < 0x80;
    bool two = (b0 - 0xC2u) < 0x1Eu && (b1 & 0xC0) == 0x80;
    bool three = (b0 & 0xF0) == 0xE0 && (b1 & 0xC0) == 0x80 && (b2 & 0xC0) == 0x80 &&
                 c3 >= 0x800 && (c3 - 0xD800u) >= 0x800u;
    *len = one ? 1 : two ? 2 : three ? 3 : 0;
    return one ? b0 : two ? c2 : c3;
}

/* True when s[0..n) is well-formed UTF-8. */
bool kv_utf8_valid(const char *s, size_t n);

/* Appends s[0..n) to `out` with every ill-formed sequence replaced by U+FFFD.
 * Returns the number of replacements made (0 for valid input). */
size_t kv_utf8_sanitize(const char *s, size_t n, kv_buf *out);

/* Number of code points in s[0..n) (ill-formed sequences count one each). */
size_t kv_utf8_count(const char *s, size_t n);

/* True for the 29 code points that Python 3's str.isspace()/str.split()
 * treat as whitespace: U+0009–000D, U+001C–001F, U+0020, U+0085, U+00A0,
 * U+1680, U+2000–200A, U+2028, U+2029, U+202F, U+205F, U+3000.
 * U+200B (ZWSP), U+FEFF (BOM) and U+180E are not whitespace there. */
bool kv_is_py_space(uint32_t cp);

/* Decodes s[0..n) into code points, writing them to (*cps)[0..) (the array
 * is grown with kv_xrealloc; *cap tracks its capacity in elements; earlier
 * content is overwritten). Returns the count. */
size_t kv_utf8_decode(const char *s, size_t n, uint32_t **cps, size_t *cap);

/* A byte range inside some string the caller owns. */
typedef struct kv_span {
    uint32_t off; /* byte offset */
    uint32_t len; /* bytes */
} kv_span;

/* Splits s[0..n) on runs of Python whitespace, as Python's str.split() with
 * no argument: no empty tokens. Appends spans to *spans (grown with
 * kv_xrealloc, *cap in elements) and returns how many were found. */
size_t kv_split_py(const char *s, size_t n, kv_span **spans, size_t *cap);

/* Appends ' '.join(s.split()) of s[0..n) to out (Python semantics): the
 * tokens separated by single spaces, whitespace runs and ends dropped. */
void kv_join_split_py(const char *s, size_t n, kv_buf *out);

/* Length of s[0..n) after Python's str.rstrip() (trailing whitespace). */
size_t kv_rstrip_py(const char *s, size_t n);

/* Appends Python's str.lower() of s[0..n) to `out`: Unicode full lowercase
 * mapping with the Final_Sigma context ('Σ' at a word end becomes 'ς', 'İ'
 * becomes "i̇"), done by ICU's u_strToLower in the root locale. ASCII input
 * takes a fast path. Returns 0, or -1 if ICU fails (out is then unchanged). */
int kv_py_lower(const char *s, size_t n, kv_buf *out);

/* Unicode normalization forms offered by `--norm`. */
typedef enum kv_norm_form {
    KV_NORM_NONE = 0, /* text as given: sacreBLEU's exact numbers on any input */
    KV_NORM_NFC,      /* canonical composition: koeval's default */
    KV_NORM_NFKC,     /* compatibility composition (also folds width, ①→1 …) */
} kv_norm_form;

/* Text normalization applied to hypotheses and references before any metric.
 * Every field that is not at its zero value changes scores and is therefore
 * named in the score's signature (kv_norm_signature). */
typedef struct kv_norm_opts {
    kv_norm_form form;
    bool width;      /* fold width: full-width ASCII/punctuation and U+3000 to
                        ASCII, half-width Hangul/Katakana to their normal forms
                        (characters whose decomposition type is <wide> or
                        <narrow>, replaced by their one-character raw
                        mapping from ICU's NFKC data; U+FFA1 → U+3131) */
    bool zero_width; /* remove U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER and
                        U+FEFF BOM/ZWNBSP (joiners U+200C/D are kept: they carry
                        meaning in emoji and Indic scripts) */
    bool collapse_ws;/* runs of Python whitespace become one U+0020; the ends
                        are stripped */
    bool casefold;   /* Unicode full case folding (ICU u_strFoldCase) */
} kv_norm_opts;

/* Parses a form name ("none", "nfc", "nfkc"; "NFC"/"NFKC" too). Returns 0 or
 * -1 if unknown. */
int kv_norm_form_parse(const char *name, kv_norm_form *out);

/* Name of a form ("none", "nfc", "nfkc"). */
const char *kv_norm_form_name(kv_norm_form form);

/* Writes the signature fragment for `o`, e.g. "nfc" or "nfc+width+zw+ws+fold"
 * (form first, then each active option in this fixed order). */
void kv_norm_signature(const kv_norm_opts *o, char *dst, size_t dstlen);

/* Appends the normalized form of s[0..n) to `out`. The input must be
 * well-formed UTF-8 (pass it through kv_utf8_sanitize first). Text that is
 * already normal (always the case for ASCII under NFC/NFKC) takes a fast path
 * without ICU. Returns 0, or -1 if ICU fails. */
int kv_normalize(const kv_norm_opts *o, const char *s, size_t n, kv_buf *out);

/* A prepared normalizer: the options plus a table of the Basic Multilingual
 * Plane code points that the options leave alone, so that text which needs
 * no change (nearly all real text: ASCII, NFC Hangul) is recognised in one
 * pass over its UTF-8 without calling ICU. One per thread; never NULL
 * (aborts on out-of-memory). */
typedef struct kv_normalizer kv_normalizer;

kv_normalizer *kv_normalizer_new(const kv_norm_opts *o);
void kv_normalizer_free(kv_normalizer *nz);

/* Normalizes s[0..n). Ill-formed UTF-8 is replaced by U+FFFD first (as
 * kv_utf8_sanitize; *replaced is set to the number of replacements, 0 for
 * valid text). When the text is already normal, *res = s and *res_len = n
 * (no copy); otherwise the result is written to `out` (cleared first) and
 * *res points into it. Returns 0, or -1 if ICU fails. For valid input the
 * result is kv_normalize's. */
int kv_normalizer_apply(kv_normalizer *nz, const char *s, size_t n, kv_buf *out,
                        const char **res, size_t *res_len, size_t *replaced);

#endif
