#include "src/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

uint32_t kv_utf8_next(const char *s, size_t n, size_t *i)
{
    int32_t pos = (int32_t)*i;
    UChar32 c;
    U8_NEXT_OR_FFFD((const uint8_t *)s, pos, (int32_t)n, c);
    *i = (size_t)pos;
    return (uint32_t)c;
}

static bool all_ascii(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    unsigned char acc = 0;
    for (; i + 8 <= n; i += 8)
        acc |= u[i] | u[i + 1] | u[i + 2] | u[i + 3] | u[i + 4] | u[i + 5] |
               u[i + 6] | u[i + 7];
    for (; i < n; i++)
        acc |= u[i];
    return acc < 0x80;
}

bool kv_utf8_valid(const char *s, size_t n)
{
    if (all_ascii(s, n))
        return true;
    int32_t i = 0, len = (int32_t)n;
    while (i < len) {
        UChar32 c;
        U8_NEXT((const uint8_t *)s, i, len, c);
        if (c < 0)
            return false;
    }
    return true;
}

size_t kv_utf8_sanitize(const char *s, size_t n, kv_buf *out)
{
    if (kv_utf8_valid(s, n)) {
        kv_buf_put(out, s, n);
        return 0;
    }
    size_t bad = 0;
    int32_t i = 0, len = (int32_t)n;
    while (i < len) {
        int32_t start = i;
        UChar32 c;
        U8_NEXT((const uint8_t *)s, i, len, c);
        if (c < 0) {
            kv_buf_put_cp(out, KV_REPLACEMENT_CHAR);
            bad++;
        } else {
            kv_buf_put(out, s + start, (size_t)(i - start));
        }
    }
    return bad;
}

size_t kv_utf8_count(const char *s, size_t n)
{
    size_t count = 0, i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
        } else {
            kv_utf8_next(s, n, &i);
        }
        count++;
    }
    return count;
}

bool kv_is_py_space(uint32_t cp)
{
    if (cp <= 0x20)
        return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
    if (cp < 0x85)
        return false;
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

size_t kv_utf8_decode(const char *s, size_t n, uint32_t **cps, size_t *cap)
{
    /* a code point takes at least one byte, so n bounds the count */
    if (*cap < n + 1) {
        *cap = n + 1;
        *cps = kv_xrealloc(*cps, *cap * sizeof **cps);
    }
    uint32_t *o = *cps;
    size_t count = 0, i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            o[count++] = c;
            i++;
        } else {
            o[count++] = kv_utf8_next(s, n, &i);
        }
    }
    return count;
}

/* Byte class for splitting: 1 = ASCII whitespace, 2 = lead byte that may
 * start a non-ASCII Python space (C2, E1, E2, E3), 0 = neither. */
static const unsigned char split_class[256] = {
    [0x09] = 1, [0x0A] = 1, [0x0B] = 1, [0x0C] = 1, [0x0D] = 1, [0x1C] = 1, [0x1D] = 1,
    [0x1E] = 1, [0x1F] = 1, [0x20] = 1, [0xC2] = 2, [0xE1] = 2, [0xE2] = 2, [0xE3] = 2,
};

/* Byte length of the Python-whitespace character at s[i], or 0 if none. */
static inline size_t space_at(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    unsigned char k = split_class[c];
    if (k == 0)
        return 0;
    if (k == 1)
        return 1;
    size_t j = i;
    uint32_t cp = kv_utf8_next(s, n, &j);
    return kv_is_py_space(cp) ? j - i : 0;
}

size_t kv_split_py(const char *s, size_t n, kv_span **spans, size_t *cap)
{
    size_t count = 0, i = 0;
    while (i < n) {
        size_t w;
        while (i < n && (w = space_at(s, n, i)) > 0)
            i += w;
        if (i >= n)
            break;
        size_t start = i;
        /* continuation bytes never start a space, so stepping bytewise is safe */
        while (i < n && (split_class[(unsigned char)s[i]] == 0 || space_at(s, n, i) == 0))
            i++;
        if (count == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *spans = kv_xrealloc(*spans, *cap * sizeof **spans);
        }
        (*spans)[count].off = (uint32_t)start;
        (*spans)[count].len = (uint32_t)(i - start);
        count++;
    }
    return count;
}

size_t kv_rstrip_py(const char *s, size_t n)
{
    while (n > 0) {
        unsigned char c = (unsigned char)s[n - 1];
        if (c < 0x80) {
            if (!kv_is_py_space(c))
                return n;
            n--;
            continue;
        }
        /* step back to the lead byte of the last character */
        size_t start = n - 1;
        while (start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80 && n - start < 4)
            start--;
        size_t j = start;
        uint32_t cp = kv_utf8_next(s, n, &j);
        if (j != n || !kv_is_py_space(cp))
            return n;
        n = start;
    }
    return 0;
}

/* UTF-8 → UTF-16 into a malloc'd buffer. Returns NULL on ICU failure. */
static UChar *to_utf16(const char *s, size_t n, int32_t *out_len)
{
    UErrorCode err = U_ZERO_ERROR;
    int32_t need = 0;
    u_strFromUTF8WithSub(NULL, 0, &need, s, (int32_t)n, 0xFFFD, NULL, &err);
    if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err))
        return NULL;
    err = U_ZERO_ERROR;
    UChar *u = kv_xmalloc(((size_t)need + 1) * sizeof(UChar));
    u_strFromUTF8WithSub(u, need + 1, out_len, s, (int32_t)n, 0xFFFD, NULL, &err);
    if (U_FAILURE(err)) {
        free(u);
        return NULL;
    }
    return u;
}

static int append_utf8(const UChar *u, int32_t ulen, kv_buf *out)
{
    UErrorCode err = U_ZERO_ERROR;
    int32_t need = 0;
    u_strToUTF8WithSub(NULL, 0, &need, u, ulen, 0xFFFD, NULL, &err);
    if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err))
        return -1;
    err = U_ZERO_ERROR;
    kv_buf_reserve(out, (size_t)need);
    u_strToUTF8WithSub(out->p + out->len, need + 1, NULL, u, ulen, 0xFFFD, NULL, &err);
    if (U_FAILURE(err))
        return -1;
    out->len += (size_t)need;
    out->p[out->len] = '\0';
    return 0;
}

int kv_py_lower(const char *s, size_t n, kv_buf *out)
{
    if (all_ascii(s, n)) {
        kv_buf_reserve(out, n);
        char *o = out->p + out->len;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            o[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        out->len += n;
        out->p[out->len] = '\0';
        return 0;
    }
    int32_t ulen = 0;
    UChar *u = to_utf16(s, n, &ulen);
    if (!u)
        return -1;
    UErrorCode err = U_ZERO_ERROR;
    int32_t cap = ulen * 3 + 16; /* full lowercase mappings expand at most 3× */
    UChar *l = kv_xmalloc((size_t)cap * sizeof(UChar));
    int32_t llen = u_strToLower(l, cap, u, ulen, "", &err);
    int rc = U_FAILURE(err) ? -1 : append_utf8(l, llen, out);
    free(u);
    free(l);
    return rc;
}

int kv_norm_form_parse(const char *name, kv_norm_form *out)
{
    if (strcmp(name, "none") == 0)
        *out = KV_NORM_NONE;
    else if (strcmp(name, "nfc") == 0 || strcmp(name, "NFC") == 0)
        *out = KV_NORM_NFC;
    else if (strcmp(name, "nfkc") == 0 || strcmp(name, "NFKC") == 0)
        *out = KV_NORM_NFKC;
    else
        return -1;
    return 0;
}

const char *kv_norm_form_name(kv_norm_form form)
{
    switch (form) {
    case KV_NORM_NFC:
        return "nfc";
    case KV_NORM_NFKC:
        return "nfkc";
    default:
        return "none";
    }
}

void kv_norm_signature(const kv_norm_opts *o, char *dst, size_t dstlen)
{
    snprintf(dst, dstlen, "%s%s%s%s%s", kv_norm_form_name(o->form),
             o->width ? "+width" : "", o->zero_width ? "+zw" : "",
             o->collapse_ws ? "+ws" : "", o->casefold ? "+fold" : "");
}

static bool is_zero_width(UChar32 c)
{
    return c == 0x200B || c == 0x2060 || c == 0xFEFF;
}

void kv_join_split_py(const char *s, size_t n, kv_buf *out)
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
}

static const UNormalizer2 *form_instance(kv_norm_form form, UErrorCode *err)
{
    if (form == KV_NORM_NFC)
        return unorm2_getNFCInstance(err);
    if (form == KV_NORM_NFKC)
        return unorm2_getNFKCInstance(err);
    return NULL;
}

/* The Unicode steps (zero-width removal, width folding, case folding and the
 * normalization form) on UTF-16 text; returns a malloc'd result or NULL. */
static UChar *unicode_steps(const kv_norm_opts *o, UChar *u, int32_t ulen, int32_t *out_len)
{
    UErrorCode err = U_ZERO_ERROR;
    if (o->zero_width || o->width) {
        const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&err);
        if (U_FAILURE(err)) {
            free(u);
            return NULL;
        }
        /* a width decomposition is a single code point: the length bound holds */
        UChar *w = kv_xmalloc(((size_t)ulen + 1) * sizeof(UChar));
        int32_t wlen = 0, i = 0;
        while (i < ulen) {
            UChar32 c;
            U16_NEXT(u, i, ulen, c);
            if (o->zero_width && is_zero_width(c))
                continue;
            if (o->width) {
                int32_t dt = u_getIntPropertyValue(c, UCHAR_DECOMPOSITION_TYPE);
                if (dt == U_DT_WIDE || dt == U_DT_NARROW) {
                    UChar d[8];
                    int32_t dlen = unorm2_getRawDecomposition(nfkc, c, d, 8, &err);
                    if (U_SUCCESS(err) && dlen > 0 && dlen <= 2) {
                        /* at most one code point, never longer than the input */
                        for (int32_t k = 0; k < dlen; k++)
                            w[wlen++] = d[k];
                        continue;
                    }
                    err = U_ZERO_ERROR;
                }
            }
            U16_APPEND_UNSAFE(w, wlen, c);
        }
        free(u);
        u = w;
        ulen = wlen;
    }
    if (o->casefold) {
        int32_t cap = ulen * 3 + 16;
        UChar *f = kv_xmalloc((size_t)cap * sizeof(UChar));
        int32_t flen = u_strFoldCase(f, cap, u, ulen, U_FOLD_CASE_DEFAULT, &err);
        free(u);
        if (U_FAILURE(err)) {
            free(f);
            return NULL;
        }
        u = f;
        ulen = flen;
    }
    const UNormalizer2 *norm = form_instance(o->form, &err);
    if (U_FAILURE(err)) {
        free(u);
        return NULL;
    }
    if (norm) {
        int32_t span = unorm2_spanQuickCheckYes(norm, u, ulen, &err);
        if (U_SUCCESS(err) && span < ulen) {
            int32_t need = unorm2_normalize(norm, u, ulen, NULL, 0, &err);
            err = U_ZERO_ERROR;
            UChar *r = kv_xmalloc(((size_t)need + 1) * sizeof(UChar));
            int32_t rlen = unorm2_normalize(norm, u, ulen, r, need + 1, &err);
            free(u);
            if (U_FAILURE(err)) {
                free(r);
                return NULL;
            }
            u = r;
            ulen = rlen;
        } else if (U_FAILURE(err)) {
            free(u);
            return NULL;
        }
    }
    *out_len = ulen;
    return u;
}

int kv_normalize(const kv_norm_opts *o, const char *s, size_t n, kv_buf *out)
{
    bool unicode_work = o->form != KV_NORM_NONE || o->width || o->zero_width || o->casefold;
    if (all_ascii(s, n) || !unicode_work) {
        /* ASCII is invariant under NFC/NFKC, width folding and zero-width
         * removal; its case folding is ASCII lowercasing */
        kv_buf tmp = {0};
        const char *src = s;
        if (o->casefold) {
            if (!all_ascii(s, n))
                goto full; /* unreachable: unicode_work is set */
            kv_py_lower(s, n, &tmp);
            src = tmp.p;
        }
        if (o->collapse_ws)
            kv_join_split_py(src, n, out);
        else
            kv_buf_put(out, src, n);
        kv_buf_free(&tmp);
        return 0;
    }
full:;
    int32_t ulen = 0;
    UChar *u = to_utf16(s, n, &ulen);
    if (!u)
        return -1;
    int32_t rlen = 0;
    UChar *r = unicode_steps(o, u, ulen, &rlen);
    if (!r)
        return -1;
    int rc;
    if (o->collapse_ws) {
        kv_buf tmp = {0};
        rc = append_utf8(r, rlen, &tmp);
        if (rc == 0)
            kv_join_split_py(tmp.p ? tmp.p : "", tmp.len, out);
        kv_buf_free(&tmp);
    } else {
        rc = append_utf8(r, rlen, out);
    }
    free(r);
    return rc;
}

struct kv_normalizer {
    kv_norm_opts o;
    bool identity;          /* no option changes any character */
    bool ascii_inert;       /* every ASCII character is in the inert table */
    bool hangul_inert;      /* so is every Hangul syllable U+AC00..U+D7A3 */
    uint8_t inert[65536 / 8]; /* BMP code points left unchanged, bit per code point */
    bool ready[256];          /* inert[] is filled for code points (k << 8) .. +255 */
};

/* Does every step leave code point c unchanged, whatever its neighbours are,
 * as long as they qualify too? For the normalization form that means
 * quick-check YES and combining class 0: a string made only of such code
 * points passes the form's quick check as YES, so it is already normal
 * (UAX #15). NFC Hangul syllables qualify; conjoining jamo do not. */
static bool cp_inert(const kv_norm_opts *o, UChar32 c)
{
    if (o->form != KV_NORM_NONE) {
        UProperty qc = o->form == KV_NORM_NFC ? UCHAR_NFC_QUICK_CHECK : UCHAR_NFKC_QUICK_CHECK;
        if (u_getIntPropertyValue(c, qc) != UNORM_YES ||
            u_getIntPropertyValue(c, UCHAR_CANONICAL_COMBINING_CLASS) != 0)
            return false;
    }
    if (o->zero_width && is_zero_width(c))
        return false;
    if (o->width) {
        int32_t dt = u_getIntPropertyValue(c, UCHAR_DECOMPOSITION_TYPE);
        if (dt == U_DT_WIDE || dt == U_DT_NARROW)
            return false;
    }
    if (o->casefold) {
        UChar in[2], out[8];
        int32_t il = 0, ol;
        UErrorCode err = U_ZERO_ERROR;
        U16_APPEND_UNSAFE(in, il, c);
        ol = u_strFoldCase(out, 8, in, il, U_FOLD_CASE_DEFAULT, &err);
        if (U_FAILURE(err) || ol != il || memcmp(in, out, (size_t)il * sizeof(UChar)) != 0)
            return false;
    }
    if (o->collapse_ws && kv_is_py_space((uint32_t)c))
        return c == ' '; /* single spaces are checked in context below */
    return true;
}

/* Fills inert[] for the code points (k << 8) .. (k << 8) + 255. */
static void fill_block(kv_normalizer *nz, unsigned k)
{
    for (UChar32 c = (UChar32)(k << 8); c < (UChar32)((k + 1) << 8); c++)
        if (cp_inert(&nz->o, c))
            nz->inert[c >> 3] |= (uint8_t)(1u << (c & 7));
    nz->ready[k] = true;
}

kv_normalizer *kv_normalizer_new(const kv_norm_opts *o)
{
    kv_normalizer *nz = kv_xcalloc(1, sizeof *nz);
    nz->o = *o;
    nz->identity = o->form == KV_NORM_NONE && !o->width && !o->zero_width && !o->casefold &&
                   !o->collapse_ws;
    if (nz->identity) {
        /* nothing changes: the table only serves the UTF-8 check */
        memset(nz->inert, 0xFF, sizeof nz->inert);
        memset(nz->ready, 1, sizeof nz->ready);
        nz->ascii_inert = nz->hangul_inert = true;
        return nz;
    }
    /* ASCII and Hangul now (the block checks need them), the other blocks of
     * 256 code points when text first uses them: asking ICU about all 65,536
     * would cost a millisecond at every start */
    fill_block(nz, 0);
    for (unsigned k = 0xAC; k <= 0xD7; k++)
        fill_block(nz, k);
    nz->ascii_inert = true;
    for (int b = 0; b < 16; b++)
        nz->ascii_inert &= nz->inert[b] == 0xFF;
    nz->hangul_inert = true;
    for (UChar32 c = 0xAC00; c <= 0xD7A3; c++)
        nz->hangul_inert &= (nz->inert[c >> 3] >> (c & 7)) & 1;
    return nz;
}

void kv_normalizer_free(kv_normalizer *nz)
{
    free(nz);
}

/* Checks the characters from the character boundary i until at least
 * `stop` one by one: returns the boundary reached, or SIZE_MAX on ill-formed
 * UTF-8; clears *result when a character is not inert. */
static size_t inert_scalar(kv_normalizer *nz, const uint8_t *u, size_t n, size_t i,
                           size_t stop, int *result)
{
    while (i < stop && i < n) {
        uint32_t c = u[i];
        if (c < 0x80) {
            i++;
        } else {
            int32_t k = (int32_t)i;
            UChar32 d;
            U8_NEXT(u, k, (int32_t)n, d);
            i = (size_t)k;
            if (d < 0)
                return SIZE_MAX;
            if (d >= 0x10000) {
                *result = 0;
                continue;
            }
            c = (uint32_t)d;
        }
        if (!nz->ready[c >> 8])
            fill_block(nz, c >> 8);
        if (!(nz->inert[c >> 3] & (1u << (c & 7))))
            *result = 0;
    }
    return i;
}

#if defined(__SSE2__)
static inline __m128i ge_u8(__m128i x, uint8_t k)
{
    return _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8((char)k)), x);
}

static inline __m128i le_u8(__m128i x, uint8_t k)
{
    return _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8((char)k)), x);
}

/* byte == 0x80..0xBF */
static inline __m128i is_cont(__m128i x)
{
    return _mm_cmpeq_epi8(_mm_and_si128(x, _mm_set1_epi8((char)0xC0)), _mm_set1_epi8((char)0x80));
}

/* byte == 0xE0..0xEF: the lead of a three-byte character */
static inline __m128i is_lead3(__m128i x)
{
    return _mm_cmpeq_epi8(_mm_and_si128(x, _mm_set1_epi8((char)0xF0)), _mm_set1_epi8((char)0xE0));
}

/*
 * The sixteen bytes at p (p == 0 or 2 <= p; p + 18 <= n or p + 16 == n) when they are made only of
 * ASCII and three-byte characters: 1 after checking them (clearing *result
 * if one is not inert); -1 when the block holds anything else or is
 * ill-formed (the caller then checks it one character at a time).
 * Byte-parallel: a byte is well placed when it is ASCII, a lead followed by
 * two continuation bytes, or a continuation byte one after a lead or two
 * after a lead and a continuation; every byte is well placed exactly when
 * the bytes are a run of such characters. Hangul syllables U+AC00..U+D7A3
 * (EA B0 80 .. ED 9E A3) are inert without a look-up when nz->hangul_inert;
 * every other three-byte character is decoded and looked up (U8_NEXT
 * refuses overlong forms and surrogates there).
 */
static inline int inert_block(kv_normalizer *nz, const uint8_t *u, size_t n, size_t p,
                              int *result)
{
    __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(u + p));
    if (_mm_movemask_epi8(v0) == 0)
        return 1;
    /* the last block of the text (p + 16 == n): nothing comes after, zero
     * bytes (ASCII) stand for it */
    __m128i v1 = p + 18 <= n ? _mm_loadu_si128((const __m128i *)(const void *)(u + p + 1))
                             : _mm_srli_si128(v0, 1);
    __m128i v2 = p + 18 <= n ? _mm_loadu_si128((const __m128i *)(const void *)(u + p + 2))
                             : _mm_srli_si128(v0, 2);
    /* at the start of the text nothing comes before: zero bytes (ASCII) */
    __m128i m1 = p >= 1 ? _mm_loadu_si128((const __m128i *)(const void *)(u + p - 1))
                        : _mm_slli_si128(v0, 1);
    __m128i m2 = p >= 2 ? _mm_loadu_si128((const __m128i *)(const void *)(u + p - 2))
                        : _mm_slli_si128(v0, 2);
    __m128i lead = is_lead3(v0);
    __m128i ok_lead = _mm_and_si128(lead, _mm_and_si128(is_cont(v1), is_cont(v2)));
    __m128i claimed = _mm_and_si128(
        is_cont(v0), _mm_or_si128(is_lead3(m1), _mm_and_si128(is_lead3(m2), is_cont(m1))));
    unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(ok_lead, claimed)) |
                  ~(unsigned)_mm_movemask_epi8(v0); /* ASCII bytes */
    if ((ok & 0xFFFF) != 0xFFFF)
        return -1;
    unsigned others = (unsigned)_mm_movemask_epi8(lead);
    if (nz->hangul_inert) {
        __m128i ea = _mm_and_si128(_mm_cmpeq_epi8(v0, _mm_set1_epi8((char)0xEA)), ge_u8(v1, 0xB0));
        __m128i ebec = _mm_or_si128(_mm_cmpeq_epi8(v0, _mm_set1_epi8((char)0xEB)),
                                    _mm_cmpeq_epi8(v0, _mm_set1_epi8((char)0xEC)));
        __m128i ed_tail =
            _mm_and_si128(_mm_cmpeq_epi8(v1, _mm_set1_epi8((char)0x9E)), le_u8(v2, 0xA3));
        __m128i ed = _mm_and_si128(_mm_cmpeq_epi8(v0, _mm_set1_epi8((char)0xED)),
                                   _mm_or_si128(le_u8(v1, 0x9D), ed_tail));
        __m128i hangul = _mm_or_si128(_mm_or_si128(ea, ebec), ed);
        others &= ~(unsigned)_mm_movemask_epi8(hangul);
    }
    while (others) {
        size_t q = p + (size_t)__builtin_ctz(others);
        others &= others - 1;
        if (inert_scalar(nz, u, n, q, q + 1, result) == SIZE_MAX)
            return -1;
    }
    return 1;
}

/* check_inert's block pass from 0: returns the character boundary it
 * stopped at (the rest is for the one-at-a-time pass), or SIZE_MAX. */
static size_t inert_blocks(kv_normalizer *nz, const uint8_t *u, size_t n, int *result)
{
    size_t i = inert_block(nz, u, n, 0, result) > 0 ? 16 : inert_scalar(nz, u, n, 0, 16, result);
    while (i != SIZE_MAX && i + 18 <= n) {
        if (inert_block(nz, u, n, i, result) > 0) {
            i += 16;
            continue;
        }
        /* back to the start of the character, then one at a time */
        while ((u[i] & 0xC0) == 0x80)
            i--;
        i = inert_scalar(nz, u, n, i, i + 16, result);
    }
    if (i == SIZE_MAX || i >= n)
        return i;
    /* the last bytes: one more block ending at n (it may overlap bytes
     * already checked, which is harmless); a 17th byte before it goes alone */
    size_t back = i;
    if (n - i > 16) {
        while ((u[i] & 0xC0) == 0x80)
            i--;
        i = inert_scalar(nz, u, n, i, n - 16, result);
        if (i == SIZE_MAX || i >= n)
            return i;
        back = i;
    }
    if (inert_block(nz, u, n, n - 16, result) > 0)
        return n;
    i = back;
    while ((u[i] & 0xC0) == 0x80)
        i--;
    return i;
}
#endif

/* 1 when s[0..n) is well-formed UTF-8 whose code points are all in the
 * inert table (and, with collapse_ws, has no leading, trailing or double
 * space); 0 when it is well-formed but needs normalizing; -1 when it is
 * ill-formed. Supplementary-plane characters count as "needs normalizing".
 * The text this tool sees most is ASCII and Hangul; where SSE2 is there and
 * every ASCII character is inert, 16-byte blocks of those are checked at
 * once (inert_block), everything else one character at a time. */
static int check_inert(kv_normalizer *nz, const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    int result = 1;
    size_t i = 0;
#if defined(__SSE2__)
    if (nz->ascii_inert && n >= 20) {
        i = inert_blocks(nz, u, n, &result);
        if (i == SIZE_MAX)
            return -1;
    }
#endif
    if (inert_scalar(nz, u, n, i, n, &result) == SIZE_MAX)
        return -1;
    if (result && nz->o.collapse_ws && n > 0) {
        if (s[0] == ' ' || s[n - 1] == ' ')
            return 0;
        for (size_t k = 1; k < n; k++)
            if (s[k] == ' ' && s[k - 1] == ' ')
                return 0;
    }
    return result;
}

int kv_normalizer_apply(kv_normalizer *nz, const char *s, size_t n, kv_buf *out,
                        const char **res, size_t *res_len, size_t *replaced)
{
    *replaced = 0;
    int state = check_inert(nz, s, n);
    if (state == 0 && nz->identity)
        state = 1; /* a supplementary-plane character */
    if (state == 1) {
        *res = s;
        *res_len = n;
        return 0;
    }
    kv_buf_clear(out);
    if (state < 0) {
        kv_buf clean = {0};
        *replaced = kv_utf8_sanitize(s, n, &clean);
        int rc = nz->identity ? (kv_buf_put(out, clean.p, clean.len), 0)
                              : kv_normalize(&nz->o, clean.p, clean.len, out);
        kv_buf_free(&clean);
        if (rc != 0)
            return -1;
    } else if (kv_normalize(&nz->o, s, n, out) != 0) {
        return -1;
    }
    if (!out->p)
        kv_buf_put(out, "", 0);
    *res = out->p;
    *res_len = out->len;
    return 0;
}
