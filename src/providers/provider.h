/*
 * provider.h — the model providers koeval speaks to, as pure functions.
 *
 * A provider turns a chat request into an HTTP request (URL, headers, JSON
 * body) and turns the streamed response body into a kv_response. Providers
 * never do I/O: the engine (src/engine.c) owns sockets and clocks and feeds
 * bytes with their arrival time. One file per provider in src/providers/.
 *
 * Secrets: the API key is passed in by the caller (read from the environment
 * by the CLI), copied only into the request headers or URL, and never into a
 * kv_response, an error message or anything else that may be stored.
 */
#ifndef KOEVAL_PROVIDER_H
#define KOEVAL_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/buf.h"

typedef enum kv_provider_kind {
    KV_PROVIDER_OPENAI = 0, /* OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp,
                               SGLang, LM Studio, Ollama /v1, Upstage, DeepSeek …) */
    KV_PROVIDER_ANTHROPIC,  /* Anthropic Messages API */
    KV_PROVIDER_GEMINI,     /* Gemini streamGenerateContent?alt=sse */
    KV_PROVIDER_OLLAMA,     /* Ollama native /api/chat (NDJSON) */
    KV_PROVIDER_CLOVA,      /* HyperCLOVA X, CLOVA Studio chat completions v3 */
} kv_provider_kind;

/* One model to evaluate. */
typedef struct kv_model_spec {
    kv_provider_kind kind;
    char name[256];        /* model name as the provider knows it */
    char base_url[512];    /* without trailing '/'; the provider's default when not given */
    char api_key_env[64];  /* environment variable holding the key ("" = none needed) */
    char label[320];       /* how reports name it: the spec as written */
    double temperature;    /* < 0 = provider default */
    int max_tokens;        /* <= 0 = provider default (Anthropic requires one: 1024) */
} kv_model_spec;

/* Parses a model SPEC (DESIGN.md): "PROVIDER:MODEL[@BASE_URL]", e.g.
 * "openai:gpt-4o-mini", "openai:qwen@http://127.0.0.1:8080/v1",
 * "ollama:qwen2.5:7b" (model names may contain ':'; only the first ':'
 * separates the provider), "anthropic:claude-3-5-haiku-latest",
 * "gemini:gemini-2.0-flash", "clova:HCX-005". Default base URLs and key
 * variables: openai https://api.openai.com/v1, OPENAI_API_KEY (no key needed
 * when the base URL is on 127.0.0.1/localhost); anthropic
 * https://api.anthropic.com/v1, ANTHROPIC_API_KEY; gemini
 * https://generativelanguage.googleapis.com/v1beta, GEMINI_API_KEY; ollama
 * http://127.0.0.1:11434, none; clova https://clovastudio.stream.ntruss.com/v3,
 * CLOVASTUDIO_API_KEY. Returns 0, or -1 with err set ("unknown provider
 * 'foo' in model spec 'foo:bar' (openai, anthropic, gemini, ollama, clova)"). */
int kv_model_spec_parse(const char *spec, kv_model_spec *out, char *err, size_t errlen);

/* Provider name ("openai", …). */
const char *kv_provider_name(kv_provider_kind kind);

/* A chat request: one optional system prompt and one user turn. */
typedef struct kv_chat {
    const char *system; /* NULL or "" = none */
    const char *user;
} kv_chat;

#define KV_HTTP_MAX_HEADERS 8

/* An HTTP POST to send. The caller owns it; kv_http_request_free frees it.
 * Header lines may carry the API key: never log or store them. */
typedef struct kv_http_request {
    kv_buf url;
    kv_buf body; /* JSON */
    char headers[KV_HTTP_MAX_HEADERS][600]; /* "Name: value" */
    int n_headers;
} kv_http_request;

/* Builds the streaming request for `chat` (always stream: true; OpenAI-style
 * providers add "stream_options": {"include_usage": true}, case B21).
 * api_key may be NULL when the spec needs none. Returns 0, or -1 with err
 * set (err never contains the key). */
int kv_provider_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                      kv_http_request *out, char *err, size_t errlen);

void kv_http_request_free(kv_http_request *r);

/* Why a request did not produce an answer. Every class but NONE is an infra
 * failure: it is counted and reported, never scored as a wrong answer. */
typedef enum kv_error_class {
    KV_ERR_NONE = 0,
    KV_ERR_RATE_LIMITED, /* HTTP 429, rate_limit_error */
    KV_ERR_OVERLOADED,   /* HTTP 529, 503, overloaded_error events (case B26) */
    KV_ERR_SERVER,       /* other 5xx */
    KV_ERR_CLIENT,       /* 4xx other than 408/429: bad request, auth, not found */
    KV_ERR_TIMEOUT,      /* connect or read timeout, 408 */
    KV_ERR_CONNECT,      /* connection refused, reset, DNS (set by the engine) */
    KV_ERR_STREAM,       /* an error event inside a 200 stream */
    KV_ERR_TRUNCATED,    /* the body ended before the stream's terminator */
    KV_ERR_PARSE,        /* a chunk that is not the provider's JSON */
} kv_error_class;

/* Name of a class ("rate_limited", "overloaded", …), as stored and reported. */
const char *kv_error_class_name(kv_error_class c);

/* True when a request failing with class c should be retried. */
bool kv_error_retryable(kv_error_class c);

/* Where N_out (completion tokens) came from. */
typedef enum kv_usage_source {
    KV_USAGE_MISSING = 0, /* the server sent none: tokens unknown, never 0 (case B21) */
    KV_USAGE_SERVER,      /* usage / message_delta / usageMetadata / eval_count / timings */
    KV_USAGE_ESTIMATE,    /* a local estimate, labelled as such */
} kv_usage_source;

#define KV_MAX_TOKEN_EVENTS 8192

/* The answer and everything measured about it. Times are CLOCK_MONOTONIC
 * nanoseconds as passed to kv_parser_feed; 0 means "not seen". */
typedef struct kv_response {
    kv_buf text;              /* visible answer (content deltas), raw bytes as sent */
    kv_buf reasoning;         /* reasoning deltas (reasoning_content, thinking …) */
    char finish_reason[32];   /* "stop", "length", "SAFETY", "MAX_TOKENS", "end_turn" … */
    int64_t prompt_tokens;    /* -1 = unknown */
    int64_t completion_tokens;/* -1 = unknown */
    kv_usage_source usage_source;
    int64_t server_decode_ns; /* server-reported generation time (Ollama eval_duration), 0 = none */
    int http_status;
    kv_error_class error;
    char error_message[256];  /* provider's message, truncated; never contains a key */
    bool done;                /* the provider's terminator was seen ([DONE], message_stop,
                                 done:true, a finishReason) */
    bool invalid_utf8;        /* text had ill-formed UTF-8 (replaced when stored, case B32) */
    int64_t t_first_event;    /* first byte-complete event of any kind */
    int64_t t_last_event;     /* last complete event of any kind (e.g. [DONE], a usage
                                 chunk): t_last_event - t_send is the total latency */
    int64_t t_first_token;    /* first non-empty content OR reasoning delta (case B23) */
    int64_t t_first_content;  /* first non-empty content delta (user-visible) */
    int64_t t_last_token;     /* last non-empty content or reasoning delta */
    size_t n_token_events;    /* events that carried a non-empty delta */
    int64_t token_event_ns[KV_MAX_TOKEN_EVENTS]; /* their times (first KV_MAX_TOKEN_EVENTS) */
} kv_response;

/* Resets r to the empty state (keeps buffer memory). */
void kv_response_reset(kv_response *r);
void kv_response_free(kv_response *r);

/* An incremental parser of one response body. */
typedef struct kv_parser kv_parser;

/* Creates the parser for the spec's provider. Never NULL. */
kv_parser *kv_parser_new(const kv_model_spec *m);
void kv_parser_free(kv_parser *p);

/* Feeds body bytes that arrived at now_ns. http_status is the response's
 * status (2xx: a stream; otherwise an error body, which is buffered and
 * classified at kv_parser_finish). Returns 0, or -1 when the stream reported
 * an error (r->error set: the engine may stop reading). */
int kv_parser_feed(kv_parser *p, int http_status, const char *bytes, size_t n, int64_t now_ns,
                   kv_response *r);

/* The body ended (the engine saw the transfer complete). Classifies error
 * bodies by status and provider error type, marks a 200 stream without its
 * terminator as KV_ERR_TRUNCATED, and validates the text's UTF-8. */
void kv_parser_finish(kv_parser *p, int http_status, kv_response *r);

/* Delay before retrying, in milliseconds, from the response headers
 * (case B27): "retry-after-ms: 1500" → 1500; "Retry-After: 20" → 20000;
 * "Retry-After: <HTTP-date>" → that date minus the response's Date header
 * (or minus now_unix_ms when Date is absent), at least 0. Any argument may be
 * NULL. Returns -1 when no header gives a delay (the engine then uses its
 * jittered exponential backoff). */
int64_t kv_retry_after_ms(const char *retry_after, const char *retry_after_ms,
                          const char *date, int64_t now_unix_ms);

#endif
