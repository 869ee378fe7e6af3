/*
 * clova.c — HyperCLOVA X through CLOVA Studio's chat completions v3:
 * POST {base}/chat-completions/{model} with "Accept: text/event-stream".
 *
 * The stream is SSE with named events:
 *   event:token   data:{"message":{"role":"assistant","content":"<delta>"}, …}
 *   event:result  data:{"message":{… the WHOLE answer again …},
 *                       "finishReason"|"stopReason": …,
 *                       "usage":{"promptTokens","completionTokens","totalTokens"}}
 *   event:error   data:{"status":{"code","message"}}
 *   event:signal  data:{"data":"[DONE]"}
 * The result event repeats the text that the token events delivered, so its
 * content is not appended again (only used when no token event came at all).
 * HCX-007's reasoning arrives as message.thinkingContent. v1-style
 * inputLength/outputLength stand in for usage when usage is absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/internal.h"
#include "src/stream.h"

typedef struct clova_parser {
    kv_parser base;
    kv_sse sse;
    bool saw_token; /* a token event carried text (content or thinking) */
    kv_response *r;
    int64_t now_ns;
} clova_parser;

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static bool get_count(const cJSON *obj, const char *key, int64_t *out)
{
    const cJSON *v = get(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static bool event_is(const char *event, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(event, name, len) == 0;
}

/* {"status":{"code","message"}}, as error events and error bodies carry it. */
static const char *status_message(const cJSON *doc)
{
    const char *msg = kv_json_path_string(doc, "status", "message", NULL);
    if (!msg)
        msg = kv_json_path_string(doc, "message", NULL);
    if (!msg)
        msg = kv_json_path_string(doc, "error", "message", NULL);
    return msg;
}

static void take_result(clova_parser *p, const cJSON *doc, kv_response *r)
{
    const cJSON *message = get(doc, "message");
    if (!p->saw_token) {
        const char *thinking = kv_json_path_string(message, "thinkingContent", NULL);
        if (thinking)
            kv_response_reasoning(r, thinking, strlen(thinking), p->now_ns);
        const char *content = kv_json_path_string(message, "content", NULL);
        if (content)
            kv_response_content(r, content, strlen(content), p->now_ns);
    }
    const char *reason = kv_json_path_string(doc, "finishReason", NULL);
    if (!reason)
        reason = kv_json_path_string(doc, "stopReason", NULL);
    if (reason)
        kv_response_finish_reason(r, reason);
    const cJSON *usage = get(doc, "usage");
    int64_t v;
    if (get_count(usage, "promptTokens", &v))
        r->prompt_tokens = v;
    if (get_count(usage, "completionTokens", &v)) {
        r->completion_tokens = v;
        r->usage_source = KV_USAGE_SERVER;
    } else if (get_count(doc, "outputLength", &v)) {
        r->completion_tokens = v;
        r->usage_source = KV_USAGE_SERVER;
        if (get_count(doc, "inputLength", &v))
            r->prompt_tokens = v;
    }
    /* The result is the final message; a [DONE] signal may or may not follow. */
    r->done = true;
}

static int on_event(void *ctx, const char *event, size_t event_len, const char *data,
                    size_t data_len)
{
    clova_parser *p = ctx;
    kv_response *r = p->r;
    kv_response_event(r, p->now_ns);
    cJSON *doc = cJSON_ParseWithLength(data, data_len);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        if (r->done)
            return 0;
        static const char msg[] = "a stream event that is not a JSON object";
        kv_response_error(r, KV_ERR_PARSE, msg, sizeof msg - 1);
        return -1;
    }
    int rc = 0;
    if (event_is(event, event_len, "signal")) {
        const char *sig = kv_json_path_string(doc, "data", NULL);
        if (sig && strcmp(sig, "[DONE]") == 0)
            r->done = true;
    } else if (event_is(event, event_len, "error")) {
        const char *msg = status_message(doc);
        if (!msg)
            msg = "error event in the stream";
        kv_response_error(r, KV_ERR_STREAM, msg, strlen(msg));
        rc = -1;
    } else if (r->done) {
        /* nothing counts after the result */
    } else if (event_is(event, event_len, "result")) {
        take_result(p, doc, r);
    } else if (event_is(event, event_len, "token") || event_len == 0) {
        const cJSON *message = get(doc, "message");
        const char *thinking = kv_json_path_string(message, "thinkingContent", NULL);
        const char *content = kv_json_path_string(message, "content", NULL);
        if (thinking && *thinking) {
            kv_response_reasoning(r, thinking, strlen(thinking), p->now_ns);
            p->saw_token = true;
        }
        if (content && *content) {
            kv_response_content(r, content, strlen(content), p->now_ns);
            p->saw_token = true;
        }
    }
    cJSON_Delete(doc);
    return rc;
}

static int clova_feed(kv_parser *base, const char *bytes, size_t n, int64_t now_ns, kv_response *r)
{
    clova_parser *p = (clova_parser *)base;
    p->r = r;
    p->now_ns = now_ns;
    int rc = kv_sse_feed(&p->sse, bytes, n, on_event, p);
    p->r = NULL;
    return rc != 0 ? -1 : 0;
}

static void clova_finish(kv_parser *base, kv_response *r)
{
    clova_parser *p = (clova_parser *)base;
    if (!kv_sse_pending(&p->sse))
        return;
    p->r = r;
    p->now_ns = base->last_ns;
    kv_sse_feed(&p->sse, "\n\n", 2, on_event, p);
    p->r = NULL;
}

static void clova_error_body(kv_parser *base, int http_status, const char *body, size_t n,
                             kv_response *r)
{
    cJSON *doc = cJSON_ParseWithLength(body, n);
    const char *msg = status_message(doc);
    if (msg)
        kv_response_error(r, r->error, msg, strlen(msg));
    cJSON_Delete(doc);
}

static void clova_free(kv_parser *base)
{
    clova_parser *p = (clova_parser *)base;
    kv_sse_free(&p->sse);
    free(p);
}

static const kv_parser_ops clova_ops = {
    .feed = clova_feed,
    .finish = clova_finish,
    .error_body = clova_error_body,
    .free = clova_free,
};

kv_parser *kv_clova_parser_new(const kv_model_spec *m)
{
    clova_parser *p = kv_xcalloc(1, sizeof *p);
    p->base.ops = &clova_ops;
    return &p->base;
}

int kv_clova_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                   kv_http_request *out, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *msgs = kv_json_chat_messages(chat);
    bool ok = root && msgs;
    if (ok) {
        cJSON_AddItemToObject(root, "messages", msgs);
        msgs = NULL;
        if (m->temperature >= 0)
            ok = cJSON_AddNumberToObject(root, "temperature", m->temperature) != NULL;
        if (ok && m->max_tokens > 0)
            ok = cJSON_AddNumberToObject(root, "maxTokens", m->max_tokens) != NULL;
    }
    int rc = kv_http_bearer_json_request(out, root, ok, "Accept: text/event-stream", api_key, err,
                                         errlen);
    cJSON_Delete(root);
    cJSON_Delete(msgs);
    if (rc == 0) {
        kv_http_set_url(out, m->base_url, "/chat-completions/");
        kv_buf_put(&out->url, m->name, strlen(m->name));
    }
    return rc;
}
