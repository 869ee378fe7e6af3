#include "src/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "koeval: out of memory (asked for %zu bytes)\n", n);
    abort();
}

void *kv_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *kv_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n * size);
    return p;
}

void *kv_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

void kv_buf_reserve(kv_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->p = kv_xrealloc(b->p, cap);
    b->cap = cap;
    b->p[b->len] = '\0';
}

void kv_buf_put(kv_buf *b, const char *s, size_t n)
{
    kv_buf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void kv_buf_putc(kv_buf *b, char c)
{
    kv_buf_reserve(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void kv_buf_put_cp(kv_buf *b, uint32_t cp)
{
    kv_buf_reserve(b, 4);
    char *o = b->p + b->len;
    if (cp < 0x80) {
        o[0] = (char)cp;
        b->len += 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        b->len += 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        b->len += 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        b->len += 4;
    }
    b->p[b->len] = '\0';
}

void kv_buf_printf(kv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        kv_buf_reserve(b, (size_t)n);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void kv_buf_clear(kv_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void kv_buf_free(kv_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

size_t kv_stamped_begin(void **slots, size_t *cap, size_t elem_size, uint32_t *gen,
                        size_t min_slots, size_t want, unsigned *log2)
{
    size_t size = min_slots;
    unsigned bits = 0;
    while (((size_t)1 << bits) < min_slots)
        bits++;
    while (size < want) {
        size *= 2;
        bits++;
    }
    if (*cap < size || *gen == UINT32_MAX) {
        free(*slots);
        *slots = kv_xcalloc(size, elem_size);
        *cap = size;
        *gen = 0;
    }
    (*gen)++;
    *log2 = bits;
    return size;
}
