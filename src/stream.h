/*
 * stream.h — incremental parsers for streamed HTTP response bodies.
 *
 * Bytes arrive in chunks of any size, split anywhere: inside a line, inside a
 * "\r\n", inside a UTF-8 character. These parsers buffer raw bytes and only
 * hand out complete units (an SSE event, an NDJSON line), so no consumer ever
 * decodes half a character (case B17). Neither does I/O.
 */
#ifndef KOEVAL_STREAM_H
#define KOEVAL_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "src/buf.h"

/* Called for each complete event. `event` is the "event:" field ("" when the
 * event had none, which WHATWG calls "message"), `data` the "data:" lines
 * joined by "\n". Both are NUL-terminated and valid until the callback
 * returns. Return 0 to go on, non-zero to stop feeding (the value is returned
 * by kv_sse_feed). */
typedef int (*kv_sse_cb)(void *ctx, const char *event, size_t event_len, const char *data,
                         size_t data_len);

/* Server-sent events as the WHATWG event-stream format defines them: lines end
 * in "\n", "\r\n" or "\r"; a blank line dispatches the event; lines starting
 * with ':' are comments (keep-alives, case B18); "data:" with or without one
 * following space; a field without a colon is a field name with empty value;
 * unknown fields are ignored; an event with no data line is not dispatched. */
typedef struct kv_sse {
    kv_buf line;  /* the incomplete line so far */
    kv_buf event; /* event name of the event being built */
    kv_buf data;  /* data of the event being built */
    bool has_data;
    bool last_cr; /* previous chunk ended in '\r' (a following '\n' belongs to it) */
    size_t events; /* events dispatched so far */
} kv_sse;

/* Feeds n bytes. Returns 0, or the first non-zero callback result. */
int kv_sse_feed(kv_sse *p, const char *bytes, size_t n, kv_sse_cb cb, void *ctx);

/* True when bytes are buffered that did not end an event (a body that stops
 * here was truncated). */
bool kv_sse_pending(const kv_sse *p);

void kv_sse_free(kv_sse *p);

/* Called for each complete, non-empty line (without its "\n" or "\r\n"),
 * NUL-terminated and valid until the callback returns. */
typedef int (*kv_line_cb)(void *ctx, const char *line, size_t len);

/* Newline-delimited JSON (Ollama's native API, case B33): splits on "\n",
 * strips a trailing "\r", skips empty lines. */
typedef struct kv_ndjson {
    kv_buf line;
    size_t lines; /* lines dispatched so far */
} kv_ndjson;

int kv_ndjson_feed(kv_ndjson *p, const char *bytes, size_t n, kv_line_cb cb, void *ctx);

/* True when an unterminated last line is buffered. kv_ndjson_flush hands it
 * to cb (a server may omit the final newline). */
bool kv_ndjson_pending(const kv_ndjson *p);
int kv_ndjson_flush(kv_ndjson *p, kv_line_cb cb, void *ctx);

void kv_ndjson_free(kv_ndjson *p);

#endif
