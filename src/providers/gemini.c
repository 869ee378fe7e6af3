/*
 * gemini.c — Gemini streamGenerateContent (Google AI, v1beta), streamed as
 * server-sent events.
 *
 * Request: POST {base}/models/{model}:streamGenerateContent?alt=sse with the
 * key in the "x-goog-api-key" header, never in the URL (URLs end up in logs);
 * body {"contents": [{"role": "user", "parts": [{"text": …}]}],
 * "systemInstruction"?: {"parts": [{"text": …}]}, "generationConfig"?:
 * {"temperature"?, "maxOutputTokens"?}}. A model name that already names a
 * resource ("models/…", "tunedModels/…") is used as it is.
 *
 * Response: each event's data is a whole GenerateContentResponse:
 *   candidates[0].content.parts[].text   text; parts with "thought": true
 *                                        are reasoning
 *   candidates[0].finishReason           "STOP", "MAX_TOKENS", "SAFETY",
 *                                        "RECITATION" … → finish_reason, and
 *                                        the stream is done
 *   promptFeedback.blockReason           the prompt was blocked (no
 *                                        candidates): finish_reason
 *                                        "blocked:REASON", done
 *   usageMetadata                        cumulative; the last one wins
 *   error                                {"code", "message", "status"}
 * There is no [DONE]: a stream that ends without a finishReason or a
 * blockReason was cut off (KV_ERR_TRUNCATED). A candidate that ends with
 * SAFETY or MAX_TOKENS before any text is an answer, not an infra failure:
 * the text is "" and the answer is scored as empty.
 *
 * Tokens: prompt_tokens = promptTokenCount; completion_tokens =
 * candidatesTokenCount + thoughtsTokenCount, because thinking tokens are
 * generated (and billed as output) but not counted in candidatesTokenCount,
 * and TPOT must cover every token decoded between the first and the last
 * delta. Fields absent from a usageMetadata object are 0 (proto3 JSON omits
 * zero values, e.g. candidatesTokenCount after a blocked prompt).
 *
 * Errors: non-2xx bodies are {"error": {…}} (sometimes wrapped in a
 * one-element array); the class comes from the status and is refined by
 * error.status: RESOURCE_EXHAUSTED → rate limited, UNAVAILABLE → overloaded,
 * DEADLINE_EXCEEDED → timeout. The same object inside a 200 stream is
 * KV_ERR_STREAM unless error.status names one of those three.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/internal.h"
#include "src/stream.h"

/* Appends the model's resource path, percent-encoding every byte outside
 * RFC 3986's unreserved set (and '/', which separates "tunedModels/x"). */
static void put_model_path(kv_buf *url, const char *name)
{
    if (strncmp(name, "models/", 7) != 0 && strncmp(name, "tunedModels/", 12) != 0)
        kv_buf_put(url, "/models/", 8);
    else
        kv_buf_putc(url, '/');
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
            *s == '-' || *s == '.' || *s == '_' || *s == '~' || *s == '/') {
            kv_buf_putc(url, (char)*s);
        } else {
            kv_buf_putc(url, '%');
            kv_buf_putc(url, hex[*s >> 4]);
            kv_buf_putc(url, hex[*s & 15]);
        }
    }
}

/* Adds {"role"?: role, "parts": [{"text": text}]} to obj under key (or to
 * the array obj when key is NULL). Returns false when out of memory. */
static bool add_content(cJSON *obj, const char *key, const char *role, const char *text)
{
    cJSON *c = cJSON_CreateObject();
    bool ok = c && (!role || cJSON_AddStringToObject(c, "role", role));
    cJSON *parts = ok ? cJSON_AddArrayToObject(c, "parts") : NULL;
    cJSON *part = cJSON_CreateObject();
    if (part && parts)
        cJSON_AddItemToArray(parts, part);
    else
        cJSON_Delete(part);
    if (!parts || !part || !cJSON_AddStringToObject(part, "text", text)) {
        cJSON_Delete(c);
        return false;
    }
    if (key)
        cJSON_AddItemToObject(obj, key, c);
    else
        cJSON_AddItemToArray(obj, c);
    return true;
}

int kv_gemini_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                    kv_http_request *out, char *err, size_t errlen)
{
    /* No key, no header: a gateway may add it; the API itself answers 403. */
    bool have_key = api_key && *api_key;
    if (kv_http_check_api_key(m, api_key, err, errlen) != 0)
        return -1;

    cJSON *body = cJSON_CreateObject();
    cJSON *contents = cJSON_AddArrayToObject(body, "contents");
    bool ok = body && contents && add_content(contents, NULL, "user", chat->user);
    if (ok && chat->system && *chat->system)
        ok = add_content(body, "systemInstruction", NULL, chat->system);
    if (ok && (m->temperature >= 0 || m->max_tokens > 0)) {
        cJSON *gc = cJSON_AddObjectToObject(body, "generationConfig");
        ok = gc &&
             (m->temperature < 0 || cJSON_AddNumberToObject(gc, "temperature", m->temperature)) &&
             (m->max_tokens <= 0 || cJSON_AddNumberToObject(gc, "maxOutputTokens", m->max_tokens));
    }
    if (!ok) {
        cJSON_Delete(body);
        snprintf(err, errlen, "out of memory building the request body");
        return -1;
    }
    int rc = kv_http_set_json_body(out, body, err, errlen);
    cJSON_Delete(body);
    if (rc != 0)
        return -1;

    kv_http_set_url(out, m->base_url, "");
    put_model_path(&out->url, m->name);
    static const char method[] = ":streamGenerateContent?alt=sse";
    kv_buf_put(&out->url, method, sizeof method - 1);

    if (kv_http_add_header(out, err, errlen, "content-type: application/json") != 0 ||
        kv_http_add_header(out, err, errlen, "accept: text/event-stream") != 0)
        return -1;
    if (have_key && kv_http_add_header(out, err, errlen, "x-goog-api-key: %s", api_key) != 0)
        return -1;
    return 0;
}

typedef kv_sse_parser gemini_parser;

static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A token count: absent → 0 (proto3 JSON omits zeros); proto3 int64 fields
 * may also arrive as strings. */
static int64_t json_count(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble > 0 ? (int64_t)v->valuedouble : 0;
    long long n = cJSON_IsString(v) ? strtoll(v->valuestring, NULL, 10) : 0;
    return n > 0 ? (int64_t)n : 0;
}

static kv_error_class class_for_status_name(const char *status, kv_error_class fallback)
{
    if (!status)
        return fallback;
    if (strcmp(status, "RESOURCE_EXHAUSTED") == 0)
        return KV_ERR_RATE_LIMITED;
    if (strcmp(status, "UNAVAILABLE") == 0)
        return KV_ERR_OVERLOADED;
    if (strcmp(status, "DEADLINE_EXCEEDED") == 0)
        return KV_ERR_TIMEOUT;
    return fallback;
}

/* Sets r's error from a Google error object {"code", "message", "status"}:
 * the message reads "STATUS: MESSAGE". */
static void set_error(kv_response *r, kv_error_class fallback, const cJSON *error)
{
    const char *status = json_string(error, "status");
    const char *msg = json_string(error, "message");
    char text[sizeof r->error_message];
    snprintf(text, sizeof text, "%s%s%s", status ? status : "error", msg ? ": " : "",
             msg ? msg : "");
    kv_response_error(r, class_for_status_name(status, fallback), text, strlen(text));
}

static void candidate(gemini_parser *p, const cJSON *cand)
{
    kv_response *r = p->r;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cand, "content");
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(content, "parts");
    const cJSON *part;
    if (!cJSON_IsArray(parts))
        parts = NULL;
    cJSON_ArrayForEach(part, parts)
    {
        const char *text = json_string(part, "text");
        if (!text)
            continue; /* function calls, inline data, bare thought signatures */
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "thought")))
            kv_response_reasoning(r, text, strlen(text), p->now_ns);
        else
            kv_response_content(r, text, strlen(text), p->now_ns);
    }
    const char *finish = json_string(cand, "finishReason");
    if (finish && *finish && strcmp(finish, "FINISH_REASON_UNSPECIFIED") != 0) {
        kv_response_finish_reason(r, finish);
        r->done = true;
    }
}

/* One event of the stream. Returns 0 to go on, -1 after setting r->error. */
static int on_event(void *ctx, const char *event, size_t event_len, const char *data,
                    size_t data_len)
{
    gemini_parser *p = ctx;
    kv_response *r = p->r;
    kv_response_event(r, p->now_ns);

    cJSON *root = cJSON_ParseWithLength(data, data_len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        const char *msg = p->flushing ? "the stream ended inside an event"
                                      : "gemini: a stream event's data is not a JSON object";
        kv_response_error(r, p->flushing ? KV_ERR_TRUNCATED : KV_ERR_PARSE, msg, strlen(msg));
        return -1;
    }
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsObject(error)) {
        set_error(r, KV_ERR_STREAM, error);
        cJSON_Delete(root);
        return -1;
    }

    const cJSON *cands = cJSON_GetObjectItemCaseSensitive(root, "candidates");
    if (cJSON_IsArray(cands) && cJSON_GetArraySize(cands) > 0)
        candidate(p, cJSON_GetArrayItem(cands, 0));

    const cJSON *feedback = cJSON_GetObjectItemCaseSensitive(root, "promptFeedback");
    const char *block = json_string(feedback, "blockReason");
    if (block && *block) {
        char reason[sizeof r->finish_reason];
        snprintf(reason, sizeof reason, "blocked:%s", block);
        kv_response_finish_reason(r, reason);
        r->done = true;
    }

    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usageMetadata");
    if (cJSON_IsObject(usage)) {
        r->prompt_tokens = json_count(usage, "promptTokenCount");
        r->completion_tokens =
            json_count(usage, "candidatesTokenCount") + json_count(usage, "thoughtsTokenCount");
        r->usage_source = KV_USAGE_SERVER;
    }
    cJSON_Delete(root);
    return 0;
}

static void gemini_error_body(kv_parser *base, int http_status, const char *body, size_t n,
                              kv_response *r)
{
    cJSON *root = cJSON_ParseWithLength(body, n);
    const cJSON *obj = cJSON_IsArray(root) ? cJSON_GetArrayItem(root, 0) : root;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(obj, "error");
    if (cJSON_IsObject(error))
        set_error(r, r->error, error);
    cJSON_Delete(root);
}

static const kv_parser_ops gemini_ops = {
    .feed = kv_sse_parser_feed,
    .finish = kv_sse_parser_finish,
    .error_body = gemini_error_body,
    .free = kv_sse_parser_free,
};

kv_parser *kv_gemini_parser_new(const kv_model_spec *m)
{
    return kv_sse_parser_new(&gemini_ops, on_event);
}
