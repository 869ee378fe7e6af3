/*
 * internal.h — what provider.c and the per-provider files share. Not a public
 * header: only the files in src/providers/ include it.
 *
 * Each provider file (openai.c, anthropic.c, gemini.c, ollama.c, clova.c)
 * defines exactly two entry points, which provider.c dispatches to by
 * kv_provider_kind:
 *
 *     int kv_NAME_build(const kv_model_spec *m, const kv_chat *chat,
 *                       const char *api_key, kv_http_request *out,
 *                       char *err, size_t errlen);
 *     kv_parser *kv_NAME_parser_new(const kv_model_spec *m);
 *
 * Building: provider.c zeroes *out and checks chat->user != NULL before
 * calling kv_NAME_build; on -1 it frees *out. The build fills url, body
 * (use kv_http_set_json_body) and headers (use kv_http_add_header; never put
 * the key into err).
 *
 * Parsing: a provider's parser is a struct whose FIRST member is a
 * `kv_parser base`, allocated by kv_NAME_parser_new (kv_xcalloc) with
 * base.ops pointing at the provider's static kv_parser_ops. provider.c does
 * the work every provider shares, so the ops only see their own stream:
 *   - kv_parser_feed: sets r->http_status; a non-2xx body is buffered in
 *     base.error_body (never passed to ops->feed); once r->error is set,
 *     further bytes are ignored and -1 is returned; otherwise ops->feed.
 *   - kv_parser_finish: for a non-2xx status, r->error =
 *     kv_error_class_for_status(status), then ops->error_body (may refine the
 *     class and set the message). For 2xx with no error so far: ops->finish
 *     (flush a buffered last event/line), then, if r->error is still NONE
 *     and r->done is false, r->error = KV_ERR_TRUNCATED. Always: sets
 *     r->invalid_utf8 when r->text or r->reasoning is ill-formed UTF-8.
 *   - kv_parser_free: frees base.error_body, then ops->free (which frees the
 *     provider's own state and the struct itself).
 */
#ifndef KOEVAL_PROVIDERS_INTERNAL_H
#define KOEVAL_PROVIDERS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "src/buf.h"
#include "src/providers/provider.h"
#include "src/stream.h"

typedef struct kv_parser_ops {
    /* Feeds 2xx body bytes that arrived at now_ns. Returns 0, or -1 after
     * setting r->error (KV_ERR_STREAM, KV_ERR_OVERLOADED, KV_ERR_PARSE …)
     * with kv_response_error. */
    int (*feed)(kv_parser *p, const char *bytes, size_t n, int64_t now_ns, kv_response *r);
    /* The 2xx body ended with no error so far: dispatch anything still
     * buffered (an SSE event or NDJSON line without its terminator), as if it
     * had arrived at the last feed's time. May be NULL. */
    void (*finish)(kv_parser *p, kv_response *r);
    /* A non-2xx body (NUL-terminated, at most KV_ERROR_BODY_MAX bytes kept).
     * r->error is already set from the status; set the message from the
     * provider's error JSON and refine the class when the body says more
     * (e.g. an overloaded_error type). May be NULL. */
    void (*error_body)(kv_parser *p, int http_status, const char *body, size_t n, kv_response *r);
    /* Frees the provider's state and the parser itself. */
    void (*free)(kv_parser *p);
} kv_parser_ops;

#define KV_ERROR_BODY_MAX 65536

struct kv_parser {
    const kv_parser_ops *ops;
    kv_buf error_body; /* non-2xx body (first KV_ERROR_BODY_MAX bytes), owned by provider.c */
    int64_t last_ns;   /* time of the last feed, for events flushed at finish */
};

/* A parser whose 2xx body is server-sent events, each handed to on_event
 * with the parser as ctx (Anthropic, Gemini). The ops are the kv_sse_parser_*
 * functions below plus the provider's own error_body. */
typedef struct kv_sse_parser {
    kv_parser base;
    kv_sse sse;
    kv_sse_cb on_event;
    kv_response *r; /* the response being filled, during a feed */
    int64_t now_ns; /* arrival time of the bytes being fed */
    bool flushing;  /* dispatching an event the body did not terminate */
} kv_sse_parser;

/* A new kv_sse_parser with base.ops = ops (defined in provider.c). */
kv_parser *kv_sse_parser_new(const kv_parser_ops *ops, kv_sse_cb on_event);
/* ops->feed: the bytes to the SSE parser, each complete event to on_event. */
int kv_sse_parser_feed(kv_parser *base, const char *bytes, size_t n, int64_t now_ns,
                       kv_response *r);
/* ops->finish: a body whose last event lacks its blank line (Gemini's last
 * chunk often ends the body right after its data line): two newlines end the
 * line (or the '\r' already seen) and dispatch the event, with flushing set
 * and at the last feed's time. */
void kv_sse_parser_finish(kv_parser *base, kv_response *r);
/* ops->free. */
void kv_sse_parser_free(kv_parser *base);

/* Per-provider entry points (see above). */
int kv_openai_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                    kv_http_request *out, char *err, size_t errlen);
kv_parser *kv_openai_parser_new(const kv_model_spec *m);
int kv_anthropic_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                       kv_http_request *out, char *err, size_t errlen);
kv_parser *kv_anthropic_parser_new(const kv_model_spec *m);
int kv_gemini_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                    kv_http_request *out, char *err, size_t errlen);
kv_parser *kv_gemini_parser_new(const kv_model_spec *m);
int kv_ollama_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                    kv_http_request *out, char *err, size_t errlen);
kv_parser *kv_ollama_parser_new(const kv_model_spec *m);
int kv_clova_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                   kv_http_request *out, char *err, size_t errlen);
kv_parser *kv_clova_parser_new(const kv_model_spec *m);

/* ---- Helpers (defined in provider.c) ---- */

/* The class an HTTP status alone implies: 2xx NONE; 408 TIMEOUT; 429
 * RATE_LIMITED; 503 and 529 OVERLOADED; other 5xx SERVER; other 4xx CLIENT;
 * anything else (1xx, 3xx) CLIENT. */
kv_error_class kv_error_class_for_status(int http_status);

/* Sets r->error = c and r->error_message to the first bytes of msg[0..n)
 * (cut at a UTF-8 character boundary, ill-formed bytes replaced; msg may be
 * NULL). Callers pass the provider's own message, never anything holding a
 * key. Leaves an existing message alone when msg is NULL. */
void kv_response_error(kv_response *r, kv_error_class c, const char *msg, size_t n);

/* Records that a complete event (of any kind: a role prelude, a usage chunk,
 * a ping) arrived at now_ns: stamps t_first_event once. */
void kv_response_event(kv_response *r, int64_t now_ns);

/* Appends a content delta s[0..n) that arrived at now_ns. An empty delta
 * (the role-only prelude, case B22) changes nothing. A non-empty one stamps
 * t_first_token and t_first_content once, t_last_token every time, and
 * records a token event. */
void kv_response_content(kv_response *r, const char *s, size_t n, int64_t now_ns);

/* Same for a reasoning delta (reasoning_content, thinking …): stamps
 * t_first_token (case B23) but never t_first_content. */
void kv_response_reasoning(kv_response *r, const char *s, size_t n, int64_t now_ns);

/* Copies a finish reason (truncated to fit). */
void kv_response_finish_reason(kv_response *r, const char *reason);

/* Appends a header line built from fmt (e.g. "Authorization: Bearer %s").
 * Returns 0, or -1 with err set when there are KV_HTTP_MAX_HEADERS already
 * or the line does not fit; err then names only the header's name (the part
 * before ':'), never its value. */
int kv_http_add_header(kv_http_request *out, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints a cJSON document (unformatted) into out->body. Returns 0, or -1
 * with err set. Does not delete the document. */
int kv_http_set_json_body(kv_http_request *out, const cJSON *json, char *err, size_t errlen);

/* Checks an API key that goes into a header line: returns 0 when it is NULL,
 * empty or fine, or -1 with err naming m->api_key_env (never the key) when it
 * holds a byte that would end or corrupt the line (a control byte or DEL). */
int kv_http_check_api_key(const kv_model_spec *m, const char *api_key, char *err, size_t errlen);

/* The body and headers of an OpenAI-style request (OpenAI, Ollama, CLOVA):
 * out->body from root, then the header lines "Content-Type: application/json",
 * extra_header (a whole line such as "Accept: text/event-stream", or NULL)
 * and, when api_key is non-empty, "Authorization: Bearer <api_key>". When
 * !built (the caller ran out of memory building root) it only sets err.
 * Returns 0, or -1 with err set. Does not delete root. */
int kv_http_bearer_json_request(kv_http_request *out, const cJSON *root, bool built,
                                const char *extra_header, const char *api_key, char *err,
                                size_t errlen);

/* Sets out->url to base + suffix (base has no trailing '/'). */
void kv_http_set_url(kv_http_request *out, const char *base, const char *suffix);

/* Builds {"role": role, "content": content} messages array from chat
 * (system first when non-empty, then user), as OpenAI, Ollama and CLOVA
 * want it. Returns a new cJSON array, or NULL on allocation failure. */
cJSON *kv_json_chat_messages(const kv_chat *chat);

/* The string at a path of object keys in a cJSON document, e.g. kv_json_path_string(root, "error",
 * "message", NULL); NULL when some key is missing or the value is not a string. A helper for
 * error_body ops. */
const char *kv_json_path_string(const cJSON *json, ...);

#endif
