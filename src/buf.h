/*
 * buf.h — growable byte buffer used across koeval.
 *
 * A kv_buf owns its memory. It starts empty ({0}) and grows on demand; every
 * append keeps a terminating NUL after `len` bytes so that the content can be
 * passed to APIs that expect C strings (the content itself may contain no NUL
 * bytes only if the caller never appended one).
 */
#ifndef KOEVAL_BUF_H
#define KOEVAL_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct kv_buf {
    char *p;    /* content, NUL-terminated once anything was appended */
    size_t len; /* bytes of content, not counting the terminator */
    size_t cap; /* bytes allocated */
} kv_buf;

/* Makes room for `extra` more bytes plus the terminator. Aborts the process
 * with a message on out-of-memory (the scorer has nothing sensible to do
 * without memory, and partial results are never written). */
void kv_buf_reserve(kv_buf *b, size_t extra);

/* Appends `n` bytes from `s`. */
void kv_buf_put(kv_buf *b, const char *s, size_t n);

/* Appends one byte. */
void kv_buf_putc(kv_buf *b, char c);

/* Appends the UTF-8 encoding of code point `cp` (must be <= 0x10FFFF and not
 * a surrogate; callers pass code points decoded by kv_utf8_next). */
void kv_buf_put_cp(kv_buf *b, uint32_t cp);

/* Appends printf-formatted text. */
void kv_buf_printf(kv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Empties the buffer without releasing memory. */
void kv_buf_clear(kv_buf *b);

/* Releases the memory and resets to {0}. */
void kv_buf_free(kv_buf *b);

/* Allocation helpers that abort with a message on out-of-memory. */
void *kv_xmalloc(size_t n);
void *kv_xcalloc(size_t n, size_t size);
void *kv_xrealloc(void *p, size_t n);

/* Starts a new round of a hash table whose slots carry a generation stamp
 * (a slot is in use when its stamp equals *gen, so nothing is cleared
 * between rounds): the table in use is the smallest power of two of slots
 * >= min_slots and >= want (min_slots a power of two), *log2 its exponent.
 * *slots (of *cap elements of elem_size bytes) is replaced by a zeroed
 * array when too small or when the stamps are used up; *gen is advanced.
 * Returns the number of slots in use. Aborts on out-of-memory. */
size_t kv_stamped_begin(void **slots, size_t *cap, size_t elem_size, uint32_t *gen,
                        size_t min_slots, size_t want, unsigned *log2);

#endif
