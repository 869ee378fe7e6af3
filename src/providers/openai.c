/*
 * openai.c — OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp
 * server, SGLang, LM Studio, Ollama /v1, Upstage, DeepSeek …), streamed.
 *
 * Request: POST {base}/chat/completions with "stream": true and
 * "stream_options": {"include_usage": true} (without it most servers send no
 * usage in a stream, case B21).
 *
 * Stream: SSE "data:" events, each a chat.completion.chunk; the text is in
 * choices[0].delta.content, reasoning models' thinking in
 * delta.reasoning_content (DeepSeek, vLLM) or delta.reasoning (OpenRouter,
 * newer vLLM/Ollama); the last chunk may have an empty choices array and only
 * usage (case B20); llama.cpp adds a "timings" object (prompt_n, predicted_n,
 * predicted_ms) that stands in for usage when usage is absent; "data: [DONE]"
 * ends the stream. An {"error": …} chunk inside a 200 stream is a stream
 * error. A 2xx body that is one JSON document instead of SSE (a server that
 * ignored "stream": true) is parsed as a chat.completion at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/internal.h"
#include "src/stream.h"

typedef struct openai_parser {
    kv_parser base;
    kv_sse sse;
    int mode;       /* 0 undecided, 1 SSE, 2 a single JSON document */
    kv_buf whole;   /* mode 2: the body */
    kv_response *r; /* the response being filled (valid during a feed) */
    int64_t now_ns; /* arrival time of the bytes being fed */
} openai_parser;

enum { MODE_UNDECIDED = 0, MODE_SSE, MODE_JSON };

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static const char *get_string(const cJSON *obj, const char *key)
{
    const cJSON *v = get(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool get_int(const cJSON *obj, const char *key, int64_t *out)
{
    const cJSON *v = get(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* The message of an "error" member: an object with "message", or a string. */
static void set_error(kv_response *r, kv_error_class c, const cJSON *error)
{
    const char *msg = cJSON_IsString(error) ? error->valuestring : get_string(error, "message");
    if (!msg)
        msg = "error event in the stream";
    kv_response_error(r, c, msg, strlen(msg));
}

/* usage {prompt_tokens, completion_tokens}, else llama.cpp's timings. */
static void take_usage(const cJSON *chunk, kv_response *r)
{
    const cJSON *usage = get(chunk, "usage");
    int64_t v;
    if (cJSON_IsObject(usage)) {
        if (get_int(usage, "prompt_tokens", &v))
            r->prompt_tokens = v;
        if (get_int(usage, "completion_tokens", &v)) {
            r->completion_tokens = v;
            r->usage_source = KV_USAGE_SERVER;
        }
    }
    const cJSON *timings = get(chunk, "timings");
    if (cJSON_IsObject(timings)) {
        if (r->usage_source != KV_USAGE_SERVER || r->completion_tokens < 0) {
            /* Cumulative when the server sends timings with every chunk. */
            if (get_int(timings, "predicted_n", &v)) {
                r->completion_tokens = v;
                r->usage_source = KV_USAGE_SERVER;
                r->prompt_tokens = get_int(timings, "prompt_n", &v) ? v : r->prompt_tokens;
            }
        }
        const cJSON *ms = get(timings, "predicted_ms");
        if (cJSON_IsNumber(ms) && ms->valuedouble > 0)
            r->server_decode_ns = (int64_t)(ms->valuedouble * 1e6);
    }
}

/* One choice: a stream chunk's delta, or a whole response's message. */
static void take_choice(const cJSON *choice, const char *member, int64_t now_ns, kv_response *r)
{
    const cJSON *delta = get(choice, member);
    /* Reasoning first: a chunk that carries both belongs to the thinking
     * phase's end and the answer's start, in that order. */
    const char *reasoning = get_string(delta, "reasoning_content");
    if (!reasoning)
        reasoning = get_string(delta, "reasoning");
    if (reasoning)
        kv_response_reasoning(r, reasoning, strlen(reasoning), now_ns);
    const char *content = get_string(delta, "content");
    if (content)
        kv_response_content(r, content, strlen(content), now_ns);
    const char *finish = get_string(choice, "finish_reason");
    if (finish)
        kv_response_finish_reason(r, finish);
}

/* The class of an error object inside a 200 stream: servers name overload
 * and rate limits in "code" or "type" (e.g. code "overloaded" or
 * "rate_limit_exceeded"); those are retried like their HTTP statuses. */
static kv_error_class stream_error_class(const cJSON *error)
{
    const char *fields[] = {"code", "type"};
    for (size_t k = 0; k < 2; k++) {
        const char *v = get_string(error, fields[k]);
        if (!v)
            continue;
        if (strstr(v, "overloaded"))
            return KV_ERR_OVERLOADED;
        if (strstr(v, "rate_limit"))
            return KV_ERR_RATE_LIMITED;
    }
    return KV_ERR_STREAM;
}

static int take_chunk(const cJSON *chunk, const char *member, int64_t now_ns, kv_response *r)
{
    const cJSON *error = get(chunk, "error");
    if (error && !cJSON_IsNull(error)) {
        set_error(r, stream_error_class(error), error);
        return -1;
    }
    const cJSON *choices = get(chunk, "choices");
    if (cJSON_IsArray(choices) && cJSON_GetArraySize(choices) > 0)
        take_choice(cJSON_GetArrayItem(choices, 0), member, now_ns, r);
    take_usage(chunk, r);
    return 0;
}

static int on_event(void *ctx, const char *event, size_t event_len, const char *data,
                    size_t data_len)
{
    openai_parser *p = ctx;
    kv_response *r = p->r;
    kv_response_event(r, p->now_ns);
    if (r->done)
        return 0; /* nothing counts after [DONE] */
    if (data_len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        r->done = true;
        return 0;
    }
    cJSON *chunk = cJSON_ParseWithLength(data, data_len);
    if (!cJSON_IsObject(chunk)) {
        cJSON_Delete(chunk);
        static const char msg[] = "a stream event that is not a JSON object";
        kv_response_error(r, KV_ERR_PARSE, msg, sizeof msg - 1);
        return -1;
    }
    /* Some servers name error events ("event: error") and send a bare
     * message; treat them like an "error" member. */
    int rc;
    if (event_len == 5 && memcmp(event, "error", 5) == 0 && !get(chunk, "error")) {
        set_error(r, KV_ERR_STREAM, chunk);
        rc = -1;
    } else {
        rc = take_chunk(chunk, "delta", p->now_ns, r);
    }
    cJSON_Delete(chunk);
    return rc;
}

static int openai_feed(kv_parser *base, const char *bytes, size_t n, int64_t now_ns, kv_response *r)
{
    openai_parser *p = (openai_parser *)base;
    size_t i = 0;
    if (p->mode == MODE_UNDECIDED) {
        while (i < n &&
               (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n'))
            i++;
        if (i == n)
            return 0; /* only blank space so far */
        p->mode = bytes[i] == '{' ? MODE_JSON : MODE_SSE;
    }
    if (p->mode == MODE_JSON) {
        kv_buf_put(&p->whole, bytes + i, n - i);
        return 0;
    }
    p->r = r;
    p->now_ns = now_ns;
    int rc = kv_sse_feed(&p->sse, bytes + i, n - i, on_event, p);
    p->r = NULL;
    return rc != 0 ? -1 : 0;
}

static void openai_finish(kv_parser *base, kv_response *r)
{
    openai_parser *p = (openai_parser *)base;
    if (p->mode == MODE_SSE) {
        /* A last event without its blank line still counts. */
        p->r = r;
        p->now_ns = base->last_ns;
        if (kv_sse_pending(&p->sse))
            kv_sse_feed(&p->sse, "\n\n", 2, on_event, p);
        p->r = NULL;
        return;
    }
    if (p->mode != MODE_JSON)
        return;
    cJSON *doc = cJSON_ParseWithLength(p->whole.p ? p->whole.p : "", p->whole.len);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        static const char msg[] = "the response body is neither an event stream nor JSON";
        kv_response_error(r, KV_ERR_PARSE, msg, sizeof msg - 1);
        return;
    }
    kv_response_event(r, base->last_ns);
    if (take_chunk(doc, "message", base->last_ns, r) == 0)
        r->done = true;
    cJSON_Delete(doc);
}

/* {"error": {"message", "type", "code"}} (OpenAI, vLLM, llama.cpp), or
 * {"error": "…"} (Ollama /v1, some proxies), or {"message": …}. */
static void openai_error_body(kv_parser *base, int http_status, const char *body, size_t n,
                              kv_response *r)
{
    cJSON *doc = cJSON_ParseWithLength(body, n);
    const cJSON *error = get(doc, "error");
    const char *msg = cJSON_IsString(error) ? error->valuestring : get_string(error, "message");
    if (!msg)
        msg = get_string(doc, "message");
    const char *type = get_string(error, "type");
    if (type && (strcmp(type, "overloaded_error") == 0 || strcmp(type, "server_overloaded") == 0))
        r->error = KV_ERR_OVERLOADED;
    if (msg)
        kv_response_error(r, r->error, msg, strlen(msg));
    cJSON_Delete(doc);
}

static void openai_free(kv_parser *base)
{
    openai_parser *p = (openai_parser *)base;
    kv_sse_free(&p->sse);
    kv_buf_free(&p->whole);
    free(p);
}

static const kv_parser_ops openai_ops = {
    .feed = openai_feed,
    .finish = openai_finish,
    .error_body = openai_error_body,
    .free = openai_free,
};

kv_parser *kv_openai_parser_new(const kv_model_spec *m)
{
    openai_parser *p = kv_xcalloc(1, sizeof *p);
    p->base.ops = &openai_ops;
    return &p->base;
}

int kv_openai_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                    kv_http_request *out, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *msgs = kv_json_chat_messages(chat);
    cJSON *opts = cJSON_CreateObject();
    bool ok = root && msgs && opts && cJSON_AddStringToObject(root, "model", m->name);
    if (ok) {
        cJSON_AddItemToObject(root, "messages", msgs);
        msgs = NULL;
        ok = cJSON_AddBoolToObject(root, "stream", 1) &&
             cJSON_AddBoolToObject(opts, "include_usage", 1);
    }
    if (ok) {
        cJSON_AddItemToObject(root, "stream_options", opts);
        opts = NULL;
        if (m->temperature >= 0)
            ok = cJSON_AddNumberToObject(root, "temperature", m->temperature) != NULL;
        if (ok && m->max_tokens > 0)
            ok = cJSON_AddNumberToObject(root, "max_tokens", m->max_tokens) != NULL;
    }
    int rc = kv_http_bearer_json_request(out, root, ok, NULL, api_key, err, errlen);
    cJSON_Delete(root);
    cJSON_Delete(msgs);
    cJSON_Delete(opts);
    if (rc == 0)
        kv_http_set_url(out, m->base_url, "/chat/completions");
    return rc;
}
