/*
 * stream.c — SSE (WHATWG event-stream) and NDJSON splitting. See stream.h.
 */
#include "src/stream.h"

#include <string.h>

/* One complete SSE line (without its terminator). */
static int sse_line(kv_sse *p, const char *line, size_t n, kv_sse_cb cb, void *ctx)
{
    if (n == 0) {
        /* A blank line dispatches the event being built (if it has data). */
        int rc = 0;
        if (p->has_data) {
            p->events++;
            rc = cb(ctx, p->event.p ? p->event.p : "", p->event.len, p->data.p ? p->data.p : "",
                    p->data.len);
        }
        kv_buf_clear(&p->event);
        kv_buf_clear(&p->data);
        p->has_data = false;
        return rc;
    }
    if (line[0] == ':')
        return 0; /* a comment: keep-alive (case B18) */
    const char *colon = memchr(line, ':', n);
    size_t name_len = colon ? (size_t)(colon - line) : n;
    const char *value = colon ? colon + 1 : line + n;
    size_t value_len = colon ? n - name_len - 1 : 0;
    if (value_len > 0 && value[0] == ' ') {
        value++;
        value_len--;
    }
    if (name_len == 4 && memcmp(line, "data", 4) == 0) {
        if (p->has_data)
            kv_buf_putc(&p->data, '\n');
        kv_buf_put(&p->data, value, value_len);
        p->has_data = true;
    } else if (name_len == 5 && memcmp(line, "event", 5) == 0) {
        kv_buf_clear(&p->event);
        kv_buf_put(&p->event, value, value_len);
    }
    /* "id", "retry" and unknown fields are ignored: koeval never reconnects. */
    return 0;
}

/* Hands over the line that ends here: the buffered part plus s[0..n). */
static int sse_end_line(kv_sse *p, const char *s, size_t n, kv_sse_cb cb, void *ctx)
{
    if (p->line.len == 0)
        return sse_line(p, s, n, cb, ctx);
    kv_buf_put(&p->line, s, n);
    int rc = sse_line(p, p->line.p, p->line.len, cb, ctx);
    kv_buf_clear(&p->line);
    return rc;
}

int kv_sse_feed(kv_sse *p, const char *bytes, size_t n, kv_sse_cb cb, void *ctx)
{
    size_t i = 0;
    if (n > 0 && p->last_cr && bytes[0] == '\n')
        i = 1; /* the "\n" of a "\r\n" split across chunks */
    if (n > 0)
        p->last_cr = false;
    size_t start = i;
    while (i < n) {
        char c = bytes[i];
        if (c != '\n' && c != '\r') {
            i++;
            continue;
        }
        int rc = sse_end_line(p, bytes + start, i - start, cb, ctx);
        i++;
        if (c == '\r') {
            if (i < n && bytes[i] == '\n')
                i++;
            else if (i == n)
                p->last_cr = true;
        }
        start = i;
        if (rc != 0)
            return rc;
    }
    if (start < n)
        kv_buf_put(&p->line, bytes + start, n - start);
    return 0;
}

bool kv_sse_pending(const kv_sse *p)
{
    return p->line.len > 0 || p->has_data;
}

void kv_sse_free(kv_sse *p)
{
    kv_buf_free(&p->line);
    kv_buf_free(&p->event);
    kv_buf_free(&p->data);
    p->has_data = false;
    p->last_cr = false;
}

/* Dispatches the line held in p->line (then empties it). */
static int ndjson_line(kv_ndjson *p, kv_line_cb cb, void *ctx)
{
    size_t n = p->line.len;
    if (n > 0 && p->line.p[n - 1] == '\r')
        p->line.p[--n] = '\0';
    int rc = 0;
    if (n > 0) {
        p->lines++;
        rc = cb(ctx, p->line.p, n);
    }
    kv_buf_clear(&p->line);
    return rc;
}

int kv_ndjson_feed(kv_ndjson *p, const char *bytes, size_t n, kv_line_cb cb, void *ctx)
{
    size_t start = 0;
    for (;;) {
        const char *nl = start < n ? memchr(bytes + start, '\n', n - start) : NULL;
        if (!nl)
            break;
        size_t end = (size_t)(nl - bytes);
        /* The callback sees a NUL-terminated copy. */
        kv_buf_put(&p->line, bytes + start, end - start);
        int rc = ndjson_line(p, cb, ctx);
        start = end + 1;
        if (rc != 0)
            return rc;
    }
    if (start < n)
        kv_buf_put(&p->line, bytes + start, n - start);
    return 0;
}

bool kv_ndjson_pending(const kv_ndjson *p)
{
    for (size_t i = 0; i < p->line.len; i++)
        if (p->line.p[i] != '\r')
            return true;
    return false;
}

int kv_ndjson_flush(kv_ndjson *p, kv_line_cb cb, void *ctx)
{
    return p->line.len ? ndjson_line(p, cb, ctx) : 0;
}

void kv_ndjson_free(kv_ndjson *p)
{
    kv_buf_free(&p->line);
}
