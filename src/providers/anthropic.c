/*
 * anthropic.c — the Anthropic Messages API (POST {base}/messages, streamed).
 *
 * Request: headers "x-api-key", "anthropic-version: 2023-06-01",
 * "content-type: application/json"; body {"model", "max_tokens" (required by
 * the API: the spec's, else 1024), "system"? (a top-level string),
 * "messages": [{"role": "user", "content": …}], "stream": true,
 * "temperature"?}.
 *
 * Response: server-sent events whose data is JSON with a "type" equal to the
 * event name:
 *   message_start        message.usage: input_tokens (+ cache_creation_ and
 *                        cache_read_input_tokens) → prompt_tokens
 *   content_block_start  a text or thinking block (its initial text, if any,
 *                        counts as a delta)
 *   content_block_delta  delta.type "text_delta" (delta.text → text) or
 *                        "thinking_delta" (delta.thinking → reasoning); other
 *                        delta types (signature, tool input, citations) are
 *                        events without tokens
 *   message_delta        delta.stop_reason → finish_reason; usage.output_tokens
 *                        (cumulative) → completion_tokens, from the server
 *   message_stop         the terminator (r->done)
 *   ping                 keep-alive
 *   error                {"error": {"type", "message"}} inside a 200 stream
 *                        (case B26): overloaded_error → KV_ERR_OVERLOADED, as
 *                        an HTTP 529 would be; rate_limit_error →
 *                        KV_ERR_RATE_LIMITED; any other type → KV_ERR_STREAM
 * Unknown event types are skipped: Anthropic's versioning policy says new
 * ones may be added. Non-2xx bodies are {"type": "error", "error": {"type",
 * "message"}}: the class comes from the status and is refined by the type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/internal.h"
#include "src/stream.h"

#define ANTHROPIC_VERSION "2023-06-01"
#define ANTHROPIC_DEFAULT_MAX_TOKENS 1024

int kv_anthropic_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                       kv_http_request *out, char *err, size_t errlen)
{
    /* No key, no header: a gateway may add it; the API itself answers 401. */
    bool have_key = api_key && *api_key;
    if (kv_http_check_api_key(m, api_key, err, errlen) != 0)
        return -1;

    cJSON *body = cJSON_CreateObject();
    cJSON *msgs = cJSON_AddArrayToObject(body, "messages");
    cJSON *user = cJSON_CreateObject();
    bool ok = body && msgs && user;
    if (ok)
        cJSON_AddItemToArray(msgs, user);
    else
        cJSON_Delete(user);
    ok =
        ok && cJSON_AddStringToObject(body, "model", m->name) &&
        cJSON_AddNumberToObject(body, "max_tokens",
                                m->max_tokens > 0 ? m->max_tokens : ANTHROPIC_DEFAULT_MAX_TOKENS) &&
        (!chat->system || !*chat->system ||
         cJSON_AddStringToObject(body, "system", chat->system)) &&
        cJSON_AddStringToObject(user, "role", "user") &&
        cJSON_AddStringToObject(user, "content", chat->user) &&
        cJSON_AddTrueToObject(body, "stream") &&
        (m->temperature < 0 || cJSON_AddNumberToObject(body, "temperature", m->temperature));
    if (!ok) {
        cJSON_Delete(body);
        snprintf(err, errlen, "out of memory building the request body");
        return -1;
    }
    int rc = kv_http_set_json_body(out, body, err, errlen);
    cJSON_Delete(body);
    if (rc != 0)
        return -1;

    kv_http_set_url(out, m->base_url, "/messages");
    if (kv_http_add_header(out, err, errlen, "content-type: application/json") != 0 ||
        kv_http_add_header(out, err, errlen, "accept: text/event-stream") != 0 ||
        kv_http_add_header(out, err, errlen, "anthropic-version: " ANTHROPIC_VERSION) != 0)
        return -1;
    if (have_key && kv_http_add_header(out, err, errlen, "x-api-key: %s", api_key) != 0)
        return -1;
    return 0;
}

typedef kv_sse_parser anthropic_parser;

static int64_t json_int(const cJSON *obj, const char *key, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (int64_t)v->valuedouble : fallback;
}

static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Sets r's error from an Anthropic error object {"type", "message"}: the
 * message reads "TYPE: MESSAGE". */
static void set_error(kv_response *r, kv_error_class c, const cJSON *error)
{
    const char *type = json_string(error, "type");
    const char *msg = json_string(error, "message");
    char text[sizeof r->error_message];
    snprintf(text, sizeof text, "%s%s%s", type ? type : "error", msg ? ": " : "", msg ? msg : "");
    kv_response_error(r, c, text, strlen(text));
}

static kv_error_class class_for_type(const char *type, kv_error_class fallback)
{
    if (type && strcmp(type, "overloaded_error") == 0)
        return KV_ERR_OVERLOADED;
    if (type && strcmp(type, "rate_limit_error") == 0)
        return KV_ERR_RATE_LIMITED;
    return fallback;
}

/* Prompt tokens: input_tokens counts only the uncached part of the prompt;
 * the tokens written to or read from the prompt cache are part of it too. */
static void usage(kv_response *r, const cJSON *u)
{
    int64_t in = json_int(u, "input_tokens", -1);
    if (in >= 0)
        r->prompt_tokens = in + json_int(u, "cache_creation_input_tokens", 0) +
                           json_int(u, "cache_read_input_tokens", 0);
}

/* One event of the stream. Returns 0 to go on, -1 after setting r->error. */
static int on_event(void *ctx, const char *event, size_t event_len, const char *data,
                    size_t data_len)
{
    anthropic_parser *p = ctx;
    kv_response *r = p->r;
    int64_t now = p->now_ns;
    kv_response_event(r, now);

    cJSON *root = cJSON_ParseWithLength(data, data_len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        char msg[128];
        if (p->flushing) {
            snprintf(msg, sizeof msg, "the stream ended inside an event");
            kv_response_error(r, KV_ERR_TRUNCATED, msg, strlen(msg));
        } else {
            snprintf(msg, sizeof msg, "anthropic: the data of event '%.40s' is not a JSON object",
                     event_len ? event : "message");
            kv_response_error(r, KV_ERR_PARSE, msg, strlen(msg));
        }
        return -1;
    }
    const char *type = json_string(root, "type");
    if (!type)
        type = event;
    int rc = 0;

    if (strcmp(type, "content_block_delta") == 0) {
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(root, "delta");
        const char *dtype = json_string(delta, "type");
        const char *s;
        if (dtype && strcmp(dtype, "text_delta") == 0 && (s = json_string(delta, "text")))
            kv_response_content(r, s, strlen(s), now);
        else if (dtype && strcmp(dtype, "thinking_delta") == 0 &&
                 (s = json_string(delta, "thinking")))
            kv_response_reasoning(r, s, strlen(s), now);
    } else if (strcmp(type, "content_block_start") == 0) {
        const cJSON *block = cJSON_GetObjectItemCaseSensitive(root, "content_block");
        const char *btype = json_string(block, "type");
        const char *s;
        if (btype && strcmp(btype, "text") == 0 && (s = json_string(block, "text")))
            kv_response_content(r, s, strlen(s), now);
        else if (btype && strcmp(btype, "thinking") == 0 && (s = json_string(block, "thinking")))
            kv_response_reasoning(r, s, strlen(s), now);
    } else if (strcmp(type, "message_start") == 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
        usage(r, cJSON_GetObjectItemCaseSensitive(msg, "usage"));
    } else if (strcmp(type, "message_delta") == 0) {
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(root, "delta");
        const char *stop = json_string(delta, "stop_reason");
        if (stop)
            kv_response_finish_reason(r, stop);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "usage");
        usage(r, u);
        int64_t out = json_int(u, "output_tokens", -1);
        if (out >= 0) {
            r->completion_tokens = out;
            r->usage_source = KV_USAGE_SERVER;
        }
    } else if (strcmp(type, "message_stop") == 0) {
        r->done = true;
    } else if (strcmp(type, "error") == 0) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
        set_error(r, class_for_type(json_string(error, "type"), KV_ERR_STREAM), error);
        rc = -1;
    }
    cJSON_Delete(root);
    return rc;
}

static void anthropic_error_body(kv_parser *base, int http_status, const char *body, size_t n,
                                 kv_response *r)
{
    cJSON *root = cJSON_ParseWithLength(body, n);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsObject(error))
        set_error(r, class_for_type(json_string(error, "type"), r->error), error);
    cJSON_Delete(root);
}

static const kv_parser_ops anthropic_ops = {
    .feed = kv_sse_parser_feed,
    .finish = kv_sse_parser_finish,
    .error_body = anthropic_error_body,
    .free = kv_sse_parser_free,
};

kv_parser *kv_anthropic_parser_new(const kv_model_spec *m)
{
    return kv_sse_parser_new(&anthropic_ops, on_event);
}
