/* csv.c — RFC 4180 CSV / TSV reader (see csv.h). */
#include "src/import/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/text.h"

int kv_csv_open(kv_csv *c, const char *path, char delim, bool quoting, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->fp = fopen(path, "rb");
    if (!c->fp) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    c->path = path;
    c->delim = delim;
    c->quoting = quoting;
    c->line = 1;
    /* a UTF-8 BOM is not part of the first header name */
    int b0 = getc(c->fp);
    if (b0 == 0xEF) {
        int b1 = getc(c->fp), b2 = getc(c->fp);
        if (b1 == 0xBB && b2 == 0xBF)
            return 0;
        rewind(c->fp);
    } else if (b0 != EOF) {
        ungetc(b0, c->fp);
    }
    return 0;
}

static void end_field(kv_csv *c)
{
    kv_buf_putc(&c->data, '\0');
    c->nfields++;
}

/* Consumes the '\n' of a "\r\n" after a '\r' was read. */
static void eat_lf(kv_csv *c)
{
    int ch = getc(c->fp);
    if (ch != '\n' && ch != EOF)
        ungetc(ch, c->fp);
}

int kv_csv_next(kv_csv *c, char *err, size_t errlen)
{
    int ch;
    /* skip blank lines between records */
    for (;;) {
        ch = getc(c->fp);
        if (ch == EOF)
            return 0;
        if (ch == '\n') {
            c->line++;
        } else if (ch == '\r') {
            eat_lf(c);
            c->line++;
        } else {
            ungetc(ch, c->fp);
            break;
        }
    }
    kv_buf_clear(&c->data);
    c->nfields = 0;
    c->row_line = c->line;
    for (;;) { /* one field per iteration */
        if (c->nfields == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 16;
            c->offs = kv_xrealloc(c->offs, c->cap * sizeof *c->offs);
        }
        c->offs[c->nfields] = c->data.len;
        ch = getc(c->fp);
        bool quoted = c->quoting && ch == '"';
        if (quoted) {
            size_t open_line = c->line;
            for (;;) {
                ch = getc(c->fp);
                if (ch == EOF) {
                    snprintf(err, errlen, "%s:%zu: quoted field opened on this line never closes",
                             c->path, open_line);
                    return -1;
                }
                if (ch == '"') {
                    int nx = getc(c->fp);
                    if (nx == '"') {
                        kv_buf_putc(&c->data, '"');
                        continue;
                    }
                    ch = nx;
                    break;
                }
                if (ch == '\0')
                    goto nul;
                if (ch == '\n')
                    c->line++;
                else if (ch == '\r') {
                    /* a CRLF inside a quoted field is one line break */
                    int nx = getc(c->fp);
                    if (nx != '\n' && nx != EOF)
                        ungetc(nx, c->fp);
                    kv_buf_putc(&c->data, '\n');
                    c->line++;
                    continue;
                }
                kv_buf_putc(&c->data, (char)ch);
                if (c->data.len > KV_CSV_MAX_RECORD_BYTES)
                    goto toolong;
            }
            if (ch != EOF && ch != c->delim && ch != '\n' && ch != '\r') {
                snprintf(err, errlen,
                         "%s:%zu: unexpected character after a closing quote (a quote inside a "
                         "quoted field must be doubled)",
                         c->path, c->line);
                return -1;
            }
        } else {
            while (ch != EOF && ch != c->delim && ch != '\n' && ch != '\r') {
                if (ch == '\0')
                    goto nul;
                kv_buf_putc(&c->data, (char)ch);
                if (c->data.len > KV_CSV_MAX_RECORD_BYTES)
                    goto toolong;
                ch = getc(c->fp);
            }
        }
        const char *f = c->data.p ? c->data.p + c->offs[c->nfields] : "";
        size_t flen = c->data.len - c->offs[c->nfields];
        if (!kv_utf8_valid(f, flen)) {
            snprintf(err, errlen, "%s:%zu: ill-formed UTF-8 in field %zu", c->path, c->row_line,
                     c->nfields + 1);
            return -1;
        }
        end_field(c);
        if (ch == c->delim)
            continue;
        if (ch == '\r')
            eat_lf(c);
        if (ch != EOF)
            c->line++;
        return 1;
    }
nul:
    snprintf(err, errlen, "%s:%zu: NUL byte (a binary or UTF-16 file?)", c->path, c->line);
    return -1;
toolong:
    snprintf(err, errlen, "%s:%zu: record longer than %zu bytes", c->path, c->row_line,
             KV_CSV_MAX_RECORD_BYTES);
    return -1;
}

const char *kv_csv_field(const kv_csv *c, size_t i)
{
    return c->data.p + c->offs[i];
}

void kv_csv_close(kv_csv *c)
{
    if (c->fp)
        fclose(c->fp);
    kv_buf_free(&c->data);
    free(c->offs);
    memset(c, 0, sizeof *c);
}
