/*
 * provider.c — model specs, dispatch to the per-provider files, and the
 * pieces every provider shares (error classes, response bookkeeping, HTTP
 * request helpers, Retry-After). See provider.h and internal.h.
 */
#include "src/providers/provider.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/internal.h"
#include "src/text.h"

/* ---- Model specs ---- */

static const struct {
    const char *name;
    kv_provider_kind kind;
    const char *base_url;
    const char *key_env;
} providers[] = {
    {"openai", KV_PROVIDER_OPENAI, "https://api.openai.com/v1", "OPENAI_API_KEY"},
    {"anthropic", KV_PROVIDER_ANTHROPIC, "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY"},
    {"gemini", KV_PROVIDER_GEMINI, "https://generativelanguage.googleapis.com/v1beta",
     "GEMINI_API_KEY"},
    {"ollama", KV_PROVIDER_OLLAMA, "http://127.0.0.1:11434", ""},
    {"clova", KV_PROVIDER_CLOVA, "https://clovastudio.stream.ntruss.com/v3", "CLOVASTUDIO_API_KEY"},
};
#define N_PROVIDERS (sizeof providers / sizeof providers[0])

const char *kv_provider_name(kv_provider_kind kind)
{
    for (size_t i = 0; i < N_PROVIDERS; i++)
        if (providers[i].kind == kind)
            return providers[i].name;
    return "unknown";
}

/* True when url's host is the loopback interface (a local server that needs
 * no key). */
static bool url_is_local(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(h, hosts[i], n) == 0 && (h[n] == '\0' || h[n] == ':' || h[n] == '/'))
            return true;
    }
    return false;
}

int kv_model_spec_parse(const char *spec, kv_model_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->temperature = -1.0;
    out->max_tokens = 0;
    if (!spec || !*spec) {
        snprintf(err, errlen, "empty model spec (PROVIDER:MODEL[@BASE_URL])");
        return -1;
    }
    if (strlen(spec) >= sizeof out->label) {
        snprintf(err, errlen, "model spec is longer than %zu bytes", sizeof out->label - 1);
        return -1;
    }
    const char *colon = strchr(spec, ':');
    size_t plen = colon ? (size_t)(colon - spec) : strlen(spec);
    size_t p = 0;
    while (p < N_PROVIDERS &&
           !(strlen(providers[p].name) == plen && strncmp(providers[p].name, spec, plen) == 0))
        p++;
    if (p == N_PROVIDERS) {
        snprintf(err, errlen,
                 "unknown provider '%.*s' in model spec '%s' (openai, anthropic, gemini, "
                 "ollama, clova)",
                 (int)plen, spec, spec);
        return -1;
    }
    if (!colon) {
        snprintf(err, errlen, "missing model name in model spec '%s' (PROVIDER:MODEL[@BASE_URL])",
                 spec);
        return -1;
    }
    const char *model = colon + 1;
    /* The base URL starts at an '@' followed by a scheme, so that model names
     * containing '@' (e.g. Vertex's "claude-3-5-sonnet@20240620") survive. */
    const char *at = NULL;
    for (const char *s = strchr(model, '@'); s; s = strchr(s + 1, '@'))
        if (strncmp(s + 1, "http://", 7) == 0 || strncmp(s + 1, "https://", 8) == 0) {
            at = s;
            break;
        }
    if (!at) {
        /* "qwen@127.0.0.1:8080/v1" or "m@" is a base URL without its scheme,
         * not a model name: refuse it rather than send the prompts (and the
         * key) to the provider's public default */
        const char *last = strrchr(model, '@');
        if (last && (!last[1] || strpbrk(last + 1, "./:") || !strcmp(last + 1, "localhost"))) {
            snprintf(err, errlen,
                     "model spec '%s': the part after '@' must be a base URL starting with "
                     "http:// or https://",
                     spec);
            return -1;
        }
    }
    size_t mlen = at ? (size_t)(at - model) : strlen(model);
    if (mlen == 0) {
        snprintf(err, errlen, "missing model name in model spec '%s' (PROVIDER:MODEL[@BASE_URL])",
                 spec);
        return -1;
    }
    if (mlen >= sizeof out->name) {
        snprintf(err, errlen, "model name longer than %zu bytes in model spec",
                 sizeof out->name - 1);
        return -1;
    }
    const char *base = at ? at + 1 : providers[p].base_url;
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    if (blen >= sizeof out->base_url) {
        snprintf(err, errlen, "base URL longer than %zu bytes in model spec",
                 sizeof out->base_url - 1);
        return -1;
    }
    out->kind = providers[p].kind;
    memcpy(out->name, model, mlen);
    out->name[mlen] = '\0';
    memcpy(out->base_url, base, blen);
    out->base_url[blen] = '\0';
    const char *key_env = providers[p].key_env;
    if (out->kind == KV_PROVIDER_OPENAI && url_is_local(out->base_url))
        key_env = "";
    snprintf(out->api_key_env, sizeof out->api_key_env, "%s", key_env);
    snprintf(out->label, sizeof out->label, "%s", spec);
    return 0;
}

/* ---- Errors ---- */

const char *kv_error_class_name(kv_error_class c)
{
    switch (c) {
    case KV_ERR_NONE:
        return "none";
    case KV_ERR_RATE_LIMITED:
        return "rate_limited";
    case KV_ERR_OVERLOADED:
        return "overloaded";
    case KV_ERR_SERVER:
        return "server";
    case KV_ERR_CLIENT:
        return "client";
    case KV_ERR_TIMEOUT:
        return "timeout";
    case KV_ERR_CONNECT:
        return "connect";
    case KV_ERR_STREAM:
        return "stream";
    case KV_ERR_TRUNCATED:
        return "truncated";
    case KV_ERR_PARSE:
        return "parse";
    }
    return "unknown";
}

/* Transient classes are retried (with the engine's bounded backoff); a
 * client error or an unparseable body would fail the same way again. A
 * stream error event or a cut-off body is usually the server's trouble. */
bool kv_error_retryable(kv_error_class c)
{
    switch (c) {
    case KV_ERR_RATE_LIMITED:
    case KV_ERR_OVERLOADED:
    case KV_ERR_SERVER:
    case KV_ERR_TIMEOUT:
    case KV_ERR_CONNECT:
    case KV_ERR_STREAM:
    case KV_ERR_TRUNCATED:
        return true;
    case KV_ERR_NONE:
    case KV_ERR_CLIENT:
    case KV_ERR_PARSE:
        return false;
    }
    return false;
}

kv_error_class kv_error_class_for_status(int http_status)
{
    if (http_status >= 200 && http_status < 300)
        return KV_ERR_NONE;
    if (http_status < 100)
        return KV_ERR_CONNECT; /* no HTTP response at all */
    switch (http_status) {
    case 408:
        return KV_ERR_TIMEOUT;
    case 429:
        return KV_ERR_RATE_LIMITED;
    case 503:
    case 529:
        return KV_ERR_OVERLOADED;
    case 504:
        return KV_ERR_TIMEOUT;
    default:
        break;
    }
    if (http_status >= 500)
        return KV_ERR_SERVER;
    return KV_ERR_CLIENT;
}

/* ---- Responses ---- */

void kv_response_reset(kv_response *r)
{
    kv_buf_clear(&r->text);
    kv_buf_clear(&r->reasoning);
    r->finish_reason[0] = '\0';
    r->prompt_tokens = -1;
    r->completion_tokens = -1;
    r->usage_source = KV_USAGE_MISSING;
    r->server_decode_ns = 0;
    r->http_status = 0;
    r->error = KV_ERR_NONE;
    r->error_message[0] = '\0';
    r->done = false;
    r->invalid_utf8 = false;
    r->t_first_event = 0;
    r->t_last_event = 0;
    r->t_first_token = 0;
    r->t_first_content = 0;
    r->t_last_token = 0;
    r->n_token_events = 0;
}

void kv_response_free(kv_response *r)
{
    kv_buf_free(&r->text);
    kv_buf_free(&r->reasoning);
    kv_response_reset(r);
}

void kv_response_error(kv_response *r, kv_error_class c, const char *msg, size_t n)
{
    r->error = c;
    if (!msg)
        return;
    kv_buf clean = {0};
    kv_utf8_sanitize(msg, n, &clean);
    size_t cap = sizeof r->error_message - 1;
    size_t len = clean.len < cap ? clean.len : cap;
    /* Cut before a continuation byte so that the message stays valid UTF-8. */
    while (len > 0 && len < clean.len && ((unsigned char)clean.p[len] & 0xC0) == 0x80)
        len--;
    if (len)
        memcpy(r->error_message, clean.p, len);
    r->error_message[len] = '\0';
    kv_buf_free(&clean);
}

void kv_response_event(kv_response *r, int64_t now_ns)
{
    if (!r->t_first_event)
        r->t_first_event = now_ns;
    r->t_last_event = now_ns;
}

static void token_event(kv_response *r, int64_t now_ns)
{
    if (!r->t_first_token)
        r->t_first_token = now_ns;
    r->t_last_token = now_ns;
    if (r->n_token_events < KV_MAX_TOKEN_EVENTS)
        r->token_event_ns[r->n_token_events] = now_ns;
    r->n_token_events++;
}

void kv_response_content(kv_response *r, const char *s, size_t n, int64_t now_ns)
{
    if (n == 0)
        return;
    kv_buf_put(&r->text, s, n);
    if (!r->t_first_content)
        r->t_first_content = now_ns;
    token_event(r, now_ns);
}

void kv_response_reasoning(kv_response *r, const char *s, size_t n, int64_t now_ns)
{
    if (n == 0)
        return;
    kv_buf_put(&r->reasoning, s, n);
    token_event(r, now_ns);
}

void kv_response_finish_reason(kv_response *r, const char *reason)
{
    snprintf(r->finish_reason, sizeof r->finish_reason, "%s", reason ? reason : "");
}

/* ---- SSE parsers ---- */

kv_parser *kv_sse_parser_new(const kv_parser_ops *ops, kv_sse_cb on_event)
{
    kv_sse_parser *p = kv_xcalloc(1, sizeof *p);
    p->base.ops = ops;
    p->on_event = on_event;
    return &p->base;
}

int kv_sse_parser_feed(kv_parser *base, const char *bytes, size_t n, int64_t now_ns, kv_response *r)
{
    kv_sse_parser *p = (kv_sse_parser *)base;
    p->r = r;
    p->now_ns = now_ns;
    return kv_sse_feed(&p->sse, bytes, n, p->on_event, p) != 0 ? -1 : 0;
}

void kv_sse_parser_finish(kv_parser *base, kv_response *r)
{
    kv_sse_parser *p = (kv_sse_parser *)base;
    if (!kv_sse_pending(&p->sse))
        return;
    p->r = r;
    p->now_ns = base->last_ns;
    p->flushing = true;
    kv_sse_feed(&p->sse, "\n\n", 2, p->on_event, p);
}

void kv_sse_parser_free(kv_parser *base)
{
    kv_sse_parser *p = (kv_sse_parser *)base;
    kv_sse_free(&p->sse);
    free(p);
}

/* ---- HTTP requests ---- */

int kv_http_add_header(kv_http_request *out, char *err, size_t errlen, const char *fmt, ...)
{
    if (out->n_headers >= KV_HTTP_MAX_HEADERS) {
        snprintf(err, errlen, "too many request headers (at most %d)", KV_HTTP_MAX_HEADERS);
        return -1;
    }
    char *line = out->headers[out->n_headers];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof out->headers[0], fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof out->headers[0]) {
        const char *colon = strchr(line, ':');
        int name_len = colon ? (int)(colon - line) : 0;
        snprintf(err, errlen, "request header '%.*s' longer than %zu bytes", name_len, line,
                 sizeof out->headers[0] - 1);
        memset(line, 0, sizeof out->headers[0]);
        return -1;
    }
    out->n_headers++;
    return 0;
}

int kv_http_set_json_body(kv_http_request *out, const cJSON *json, char *err, size_t errlen)
{
    char *s = cJSON_PrintUnformatted(json);
    if (!s) {
        snprintf(err, errlen, "out of memory building the request body");
        return -1;
    }
    kv_buf_clear(&out->body);
    kv_buf_put(&out->body, s, strlen(s));
    cJSON_free(s);
    return 0;
}

int kv_http_check_api_key(const kv_model_spec *m, const char *api_key, char *err, size_t errlen)
{
    if (!api_key)
        return 0;
    for (const char *s = api_key; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F) {
            snprintf(err, errlen, "the API key in %s contains a control character",
                     m->api_key_env[0] ? m->api_key_env : "the environment");
            return -1;
        }
    return 0;
}

int kv_http_bearer_json_request(kv_http_request *out, const cJSON *root, bool built,
                                const char *extra_header, const char *api_key, char *err,
                                size_t errlen)
{
    if (!built) {
        snprintf(err, errlen, "out of memory building the request body");
        return -1;
    }
    if (kv_http_set_json_body(out, root, err, errlen) != 0 ||
        kv_http_add_header(out, err, errlen, "Content-Type: application/json") != 0)
        return -1;
    if (extra_header && kv_http_add_header(out, err, errlen, "%s", extra_header) != 0)
        return -1;
    if (api_key && *api_key &&
        kv_http_add_header(out, err, errlen, "Authorization: Bearer %s", api_key) != 0)
        return -1;
    return 0;
}

void kv_http_set_url(kv_http_request *out, const char *base, const char *suffix)
{
    kv_buf_clear(&out->url);
    kv_buf_put(&out->url, base, strlen(base));
    kv_buf_put(&out->url, suffix, strlen(suffix));
}

cJSON *kv_json_chat_messages(const kv_chat *chat)
{
    cJSON *msgs = cJSON_CreateArray();
    if (!msgs)
        return NULL;
    const char *roles[2] = {"system", "user"};
    const char *texts[2] = {chat->system, chat->user};
    for (int i = 0; i < 2; i++) {
        if (!texts[i] || (i == 0 && !*texts[i]))
            continue;
        cJSON *m = cJSON_CreateObject();
        if (!m || !cJSON_AddStringToObject(m, "role", roles[i]) ||
            !cJSON_AddStringToObject(m, "content", texts[i])) {
            cJSON_Delete(m);
            cJSON_Delete(msgs);
            return NULL;
        }
        cJSON_AddItemToArray(msgs, m);
    }
    return msgs;
}

const char *kv_json_path_string(const cJSON *json, ...)
{
    va_list ap;
    va_start(ap, json);
    const cJSON *node = json;
    for (const char *key = va_arg(ap, const char *); key && node; key = va_arg(ap, const char *))
        node = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, key) : NULL;
    va_end(ap);
    return cJSON_IsString(node) ? node->valuestring : NULL;
}

int kv_provider_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                      kv_http_request *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!chat || !chat->user) {
        snprintf(err, errlen, "chat request without a user turn");
        return -1;
    }
    int rc;
    switch (m->kind) {
    case KV_PROVIDER_OPENAI:
        rc = kv_openai_build(m, chat, api_key, out, err, errlen);
        break;
    case KV_PROVIDER_ANTHROPIC:
        rc = kv_anthropic_build(m, chat, api_key, out, err, errlen);
        break;
    case KV_PROVIDER_GEMINI:
        rc = kv_gemini_build(m, chat, api_key, out, err, errlen);
        break;
    case KV_PROVIDER_OLLAMA:
        rc = kv_ollama_build(m, chat, api_key, out, err, errlen);
        break;
    case KV_PROVIDER_CLOVA:
        rc = kv_clova_build(m, chat, api_key, out, err, errlen);
        break;
    default:
        snprintf(err, errlen, "unknown provider kind %d", (int)m->kind);
        rc = -1;
        break;
    }
    if (rc != 0)
        kv_http_request_free(out);
    return rc;
}

void kv_http_request_free(kv_http_request *r)
{
    kv_buf_free(&r->url);
    kv_buf_free(&r->body);
    /* The header lines may hold the key: do not leave it in freed memory's
     * neighbourhood longer than needed. */
    memset(r->headers, 0, sizeof r->headers);
    r->n_headers = 0;
}

/* ---- Parsers ---- */

kv_parser *kv_parser_new(const kv_model_spec *m)
{
    switch (m->kind) {
    case KV_PROVIDER_ANTHROPIC:
        return kv_anthropic_parser_new(m);
    case KV_PROVIDER_GEMINI:
        return kv_gemini_parser_new(m);
    case KV_PROVIDER_OLLAMA:
        return kv_ollama_parser_new(m);
    case KV_PROVIDER_CLOVA:
        return kv_clova_parser_new(m);
    case KV_PROVIDER_OPENAI:
    default:
        return kv_openai_parser_new(m);
    }
}

void kv_parser_free(kv_parser *p)
{
    if (!p)
        return;
    kv_buf_free(&p->error_body);
    p->ops->free(p);
}

static bool status_ok(int http_status)
{
    return http_status >= 200 && http_status < 300;
}

int kv_parser_feed(kv_parser *p, int http_status, const char *bytes, size_t n, int64_t now_ns,
                   kv_response *r)
{
    r->http_status = http_status;
    p->last_ns = now_ns;
    if (!status_ok(http_status)) {
        size_t room =
            p->error_body.len < KV_ERROR_BODY_MAX ? KV_ERROR_BODY_MAX - p->error_body.len : 0;
        kv_buf_put(&p->error_body, bytes, n < room ? n : room);
        return 0;
    }
    if (r->error != KV_ERR_NONE)
        return -1;
    if (n == 0)
        return 0;
    return p->ops->feed(p, bytes, n, now_ns, r) != 0 ? -1 : 0;
}

void kv_parser_finish(kv_parser *p, int http_status, kv_response *r)
{
    r->http_status = http_status;
    if (!status_ok(http_status)) {
        kv_response_error(r, kv_error_class_for_status(http_status), NULL, 0);
        if (p->ops->error_body)
            p->ops->error_body(p, http_status, p->error_body.p ? p->error_body.p : "",
                               p->error_body.len, r);
        if (!r->error_message[0]) {
            char msg[64];
            snprintf(msg, sizeof msg, "HTTP %d", http_status);
            kv_response_error(r, r->error, msg, strlen(msg));
        }
    } else if (r->error == KV_ERR_NONE) {
        if (p->ops->finish)
            p->ops->finish(p, r);
        if (r->error == KV_ERR_NONE && !r->done) {
            static const char msg[] = "the stream ended before its terminator";
            kv_response_error(r, KV_ERR_TRUNCATED, msg, sizeof msg - 1);
        }
    }
    r->invalid_utf8 = (r->text.len && !kv_utf8_valid(r->text.p, r->text.len)) ||
                      (r->reasoning.len && !kv_utf8_valid(r->reasoning.p, r->reasoning.len));
}

/* ---- Retry-After ---- */

/* Parses a non-negative decimal number of units (digits, optionally a
 * fraction) with surrounding blanks; returns it times `scale`, or -1. */
static int64_t parse_delay(const char *s, double scale)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0' || v < 0)
        return -1;
    double ms = v * scale;
    if (ms > 9.0e15)
        ms = 9.0e15;
    return (int64_t)(ms + 0.5);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int month_index(const char *s)
{
    static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncmp(s, names[i], 3) == 0)
            return i + 1;
    return 0;
}

/* Parses an HTTP-date (RFC 9110 §5.6.7: IMF-fixdate "Sun, 06 Nov 1994
 * 08:49:37 GMT", obsolete RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and
 * asctime "Sun Nov  6 08:49:37 1994") into Unix milliseconds. */
static bool parse_http_date(const char *s, int64_t *out_ms)
{
    if (!s)
        return false;
    while (*s == ' ')
        s++;
    int d = 0, y = 0, hh = 0, mm = 0, ss = 0, mon = 0;
    char mname[4] = {0};
    int used = 0;
    const char *comma = strchr(s, ',');
    if (comma) {
        const char *t = comma + 1;
        if (sscanf(t, " %2d %3s %4d %2d:%2d:%2d GMT%n", &d, mname, &y, &hh, &mm, &ss, &used) == 6 &&
            used > 0) {
            /* IMF-fixdate */
        } else if (sscanf(t, " %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", &d, mname, &y, &hh, &mm, &ss,
                          &used) == 6 &&
                   used > 0) {
            y += y < 70 ? 2000 : 1900; /* RFC 850's two-digit year */
        } else {
            return false;
        }
    } else {
        char wday[4];
        if (sscanf(s, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mname, &d, &hh, &mm, &ss, &y, &used) !=
                7 ||
            used == 0)
            return false;
    }
    mon = month_index(mname);
    if (!mon || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970)
        return false;
    int64_t days = days_from_civil(y, mon, d);
    *out_ms = ((days * 24 + hh) * 60 + mm) * 60000 + (int64_t)ss * 1000;
    return true;
}

int64_t kv_retry_after_ms(const char *retry_after, const char *retry_after_ms, const char *date,
                          int64_t now_unix_ms)
{
    if (retry_after_ms) {
        int64_t v = parse_delay(retry_after_ms, 1.0);
        if (v >= 0)
            return v;
    }
    if (!retry_after)
        return -1;
    int64_t v = parse_delay(retry_after, 1000.0);
    if (v >= 0)
        return v;
    int64_t when;
    if (!parse_http_date(retry_after, &when))
        return -1;
    int64_t now;
    if (!parse_http_date(date, &now))
        now = now_unix_ms;
    return when > now ? when - now : 0;
}
