#include "src/lineio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/text.h"

int kv_lr_open(kv_line_reader *r, const char *path, size_t max_line_bytes,
               char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
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

int kv_lr_next(kv_line_reader *r, const char **line, size_t *len, char *err, size_t errlen)
{
    errno = 0;
    ssize_t got = getline(&r->raw, &r->raw_cap, r->fp);
    if (got < 0) {
        if (ferror(r->fp)) {
            snprintf(err, errlen, "%s:%zu: read error: %s", r->path, r->lineno + 1,
                     strerror(errno ? errno : EIO));
            return -1;
        }
        return 0;
    }
    r->lineno++;
    size_t n = (size_t)got;
    const char *s = r->raw;
    if (n > 0 && s[n - 1] == '\n')
        n--;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (memchr(s, '\0', n)) {
        snprintf(err, errlen, "%s:%zu: NUL byte in line (binary or UTF-16 file?)", r->path,
                 r->lineno);
        return -1;
    }
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
        /* the common case: hand out the read buffer itself */
        r->raw[(size_t)(s - r->raw) + n] = '\0';
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

void kv_lr_close(kv_line_reader *r)
{
    if (r->owns_fp && r->fp)
        fclose(r->fp);
    r->fp = NULL;
    free(r->raw);
    r->raw = NULL;
    kv_buf_free(&r->line);
}
