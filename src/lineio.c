#include "src/lineio.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/text.h"

int kv_lr_open(kv_line_reader *r, const char *path, size_t max_line_bytes,
               char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->nul_at = SIZE_MAX;
    r->path = path;
    r->max_line_bytes = max_line_bytes;
    if (strcmp(path, "-") == 0) {
        r->fp = stdin;
        r->path = "<stdin>";
        return 0;
    }
    r->fp = fopen(path, "rb");
    if (!r->fp) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    r->owns_fp = true;
    return 0;
}

/* First block size; a longer line grows the buffer (up to the line cap). */
#define LR_BLOCK ((size_t)1 << 16)

/* Moves the unread bytes to the front of the buffer and reads more after
 * them, growing the buffer when it is full. Returns the bytes read (0 at
 * end of file), or -1 on a read error. */
static long lr_fill(kv_line_reader *r)
{
    if (r->pos > 0) {
        size_t keep = r->end - r->pos;
        memmove(r->buf, r->buf + r->pos, keep);
        r->scanned -= r->pos;
        r->nul_checked = r->nul_checked > r->pos ? r->nul_checked - r->pos : 0;
        if (r->nul_at != SIZE_MAX)
            r->nul_at -= r->pos;
        r->end = keep;
        r->pos = 0;
    }
    if (r->end == r->cap) {
        r->cap = r->cap ? r->cap * 2 : LR_BLOCK;
        r->buf = kv_xrealloc(r->buf, r->cap + 1);
    }
    size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->fp);
    if (got == 0 && ferror(r->fp))
        return -1;
    r->end += got;
    return (long)got;
}

int kv_lr_next(kv_line_reader *r, const char **line, size_t *len, char *err, size_t errlen)
{
    /* find the end of the next line, reading as needed */
    size_t stop;
    for (;;) {
        const char *nl =
            r->end > r->scanned ? memchr(r->buf + r->scanned, '\n', r->end - r->scanned) : NULL;
        if (nl) {
            stop = (size_t)(nl - r->buf);
            break;
        }
        r->scanned = r->end;
        if (r->max_line_bytes && r->end - r->pos > r->max_line_bytes + 2) {
            snprintf(err, errlen,
                     "%s:%zu: line is over the limit of %zu bytes (raise it with "
                     "--max-line-bytes)",
                     r->path, r->lineno + 1, r->max_line_bytes);
            return -1;
        }
        long got = r->eof ? 0 : lr_fill(r);
        if (got < 0) {
            snprintf(err, errlen, "%s:%zu: read error: %s", r->path, r->lineno + 1,
                     strerror(errno ? errno : EIO));
            return -1;
        }
        if (got == 0) {
            r->eof = true;
            if (r->pos == r->end)
                return 0;
            stop = r->end; /* the last line has no '\n' */
            break;
        }
    }
    r->lineno++;
    char *s = r->buf + r->pos;
    size_t n = stop - r->pos;
    r->pos = stop < r->end ? stop + 1 : stop;
    r->scanned = r->pos;
    /* NUL bytes: searched for once per block, not once per line */
    if (r->nul_at == SIZE_MAX && r->nul_checked < r->end) {
        const char *z = memchr(r->buf + r->nul_checked, '\0', r->end - r->nul_checked);
        r->nul_at = z ? (size_t)(z - r->buf) : SIZE_MAX;
        r->nul_checked = z ? r->nul_at + 1 : r->end;
    }
    if (r->nul_at < stop) {
        r->nul_at = SIZE_MAX; /* the search goes on after it */
        snprintf(err, errlen, "%s:%zu: NUL byte in line (binary or UTF-16 file?)", r->path,
                 r->lineno);
        return -1;
    }
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (r->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
        r->had_bom = true;
    }
    if (r->max_line_bytes && n > r->max_line_bytes) {
        snprintf(err, errlen,
                 "%s:%zu: line is %zu bytes, over the limit of %zu (raise it with "
                 "--max-line-bytes)",
                 r->path, r->lineno, n, r->max_line_bytes);
        return -1;
    }
    if (r->trust_utf8 || kv_utf8_valid(s, n)) {
        /* the common case: hand out the block itself (the byte after the
         * line is its '\n', its '\r' or the spare byte at the end) */
        s[n] = '\0';
        *line = s;
        *len = n;
        return 1;
    }
    kv_buf_clear(&r->line);
    r->invalid_lines++;
    r->replacements += kv_utf8_sanitize(s, n, &r->line);
    *line = r->line.p;
    *len = r->line.len;
    return 1;
}

size_t kv_lr_count_rest(kv_line_reader *r)
{
    size_t n = 0;
    char last = '\n';
    for (;;) {
        for (const char *p = r->buf + r->pos, *e = r->buf + r->end;
             p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
            n++;
        if (r->end > r->pos)
            last = r->buf[r->end - 1];
        r->pos = r->scanned = r->end;
        if (r->eof || lr_fill(r) <= 0)
            break;
    }
    r->eof = true;
    return n + (last != '\n');
}

void kv_lr_close(kv_line_reader *r)
{
    if (r->owns_fp && r->fp)
        fclose(r->fp);
    r->fp = NULL;
    free(r->buf);
    r->buf = NULL;
    kv_buf_free(&r->line);
}
