/*
 * ollama.c — Ollama's native chat API: POST {base}/api/chat, streamed as
 * newline-delimited JSON (case B33), one object per line:
 *   {"model":…,"message":{"role":"assistant","content":"…","thinking":"…"},"done":false}
 * and a last line with "done": true, "done_reason", "prompt_eval_count",
 * "eval_count" (completion tokens) and "eval_duration" (generation time, ns).
 * Errors: {"error": "…"} as the body of a non-2xx response, or as a line
 * inside a 200 stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/internal.h"
#include "src/stream.h"

typedef struct ollama_parser {
    kv_parser base;
    kv_ndjson nd;
    kv_response *r;
    int64_t now_ns;
} ollama_parser;

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

static int on_line(void *ctx, const char *line, size_t len)
{
    ollama_parser *p = ctx;
    kv_response *r = p->r;
    kv_response_event(r, p->now_ns);
    if (r->done)
        return 0;
    cJSON *obj = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        static const char msg[] = "a stream line that is not a JSON object";
        kv_response_error(r, KV_ERR_PARSE, msg, sizeof msg - 1);
        return -1;
    }
    int rc = 0;
    const cJSON *error = get(obj, "error");
    if (error && !cJSON_IsNull(error)) {
        const char *msg = cJSON_IsString(error) ? error->valuestring
                                                : kv_json_path_string(error, "message", NULL);
        if (!msg)
            msg = "error line in the stream";
        kv_response_error(r, KV_ERR_STREAM, msg, strlen(msg));
        rc = -1;
    } else {
        const cJSON *message = get(obj, "message");
        const char *thinking = kv_json_path_string(message, "thinking", NULL);
        if (thinking)
            kv_response_reasoning(r, thinking, strlen(thinking), p->now_ns);
        const char *content = kv_json_path_string(message, "content", NULL);
        if (content)
            kv_response_content(r, content, strlen(content), p->now_ns);
        if (cJSON_IsTrue(get(obj, "done"))) {
            r->done = true;
            const char *reason = kv_json_path_string(obj, "done_reason", NULL);
            kv_response_finish_reason(r, reason ? reason : "stop");
            int64_t v;
            if (get_count(obj, "prompt_eval_count", &v))
                r->prompt_tokens = v;
            if (get_count(obj, "eval_count", &v)) {
                r->completion_tokens = v;
                r->usage_source = KV_USAGE_SERVER;
            }
            if (get_count(obj, "eval_duration", &v))
                r->server_decode_ns = v;
        }
    }
    cJSON_Delete(obj);
    return rc;
}

static int ollama_feed(kv_parser *base, const char *bytes, size_t n, int64_t now_ns, kv_response *r)
{
    ollama_parser *p = (ollama_parser *)base;
    p->r = r;
    p->now_ns = now_ns;
    int rc = kv_ndjson_feed(&p->nd, bytes, n, on_line, p);
    p->r = NULL;
    return rc != 0 ? -1 : 0;
}

static void ollama_finish(kv_parser *base, kv_response *r)
{
    ollama_parser *p = (ollama_parser *)base;
    p->r = r;
    p->now_ns = base->last_ns;
    kv_ndjson_flush(&p->nd, on_line, p); /* a last line without "\n" */
    p->r = NULL;
}

static void ollama_error_body(kv_parser *base, int http_status, const char *body, size_t n,
                              kv_response *r)
{
    cJSON *doc = cJSON_ParseWithLength(body, n);
    const char *msg = kv_json_path_string(doc, "error", NULL);
    if (!msg)
        msg = kv_json_path_string(doc, "error", "message", NULL);
    if (msg)
        kv_response_error(r, r->error, msg, strlen(msg));
    cJSON_Delete(doc);
}

static void ollama_free(kv_parser *base)
{
    ollama_parser *p = (ollama_parser *)base;
    kv_ndjson_free(&p->nd);
    free(p);
}

static const kv_parser_ops ollama_ops = {
    .feed = ollama_feed,
    .finish = ollama_finish,
    .error_body = ollama_error_body,
    .free = ollama_free,
};

kv_parser *kv_ollama_parser_new(const kv_model_spec *m)
{
    ollama_parser *p = kv_xcalloc(1, sizeof *p);
    p->base.ops = &ollama_ops;
    return &p->base;
}

int kv_ollama_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                    kv_http_request *out, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *msgs = kv_json_chat_messages(chat);
    bool ok = root && msgs && cJSON_AddStringToObject(root, "model", m->name);
    if (ok) {
        cJSON_AddItemToObject(root, "messages", msgs);
        msgs = NULL;
        ok = cJSON_AddBoolToObject(root, "stream", 1) != NULL;
    }
    if (ok && (m->temperature >= 0 || m->max_tokens > 0)) {
        cJSON *opts = cJSON_AddObjectToObject(root, "options");
        ok = opts != NULL;
        if (ok && m->temperature >= 0)
            ok = cJSON_AddNumberToObject(opts, "temperature", m->temperature) != NULL;
        if (ok && m->max_tokens > 0)
            ok = cJSON_AddNumberToObject(opts, "num_predict", m->max_tokens) != NULL;
    }
    int rc = kv_http_bearer_json_request(out, root, ok, NULL, api_key, err, errlen);
    cJSON_Delete(root);
    cJSON_Delete(msgs);
    if (rc == 0)
        kv_http_set_url(out, m->base_url, "/api/chat");
    return rc;
}
