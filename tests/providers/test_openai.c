/* Tests for src/providers/openai.c (OpenAI-compatible streaming) and the
 * shared parts in provider.c: model specs, error classes, secrets. Inputs
 * of the bug-report cases (../shared/cases/handoff.jsonl) are copied here. */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/provider.h"
#include "src/text.h"
#include "src/timing.h"
#include "tests/providers/provtest.h"

#define SPEC "openai:m@http://127.0.0.1:8080/v1"
#define FFFD "\xEF\xBF\xBD"

/* ---- B17: a Hangul character split across chunks ---- */

static void check_b17(const kv_response *r)
{
    pt_assert_text(&r->text, "안녕");
    assert_false(pt_contains(r->text.p, r->text.len, FFFD));
    assert_false(r->invalid_utf8);
    assert_true(r->done);
    assert_int_equal(r->error, KV_ERR_NONE);
}

static void test_b17_utf8_split(void **state)
{
    char c1[128], c2[128], body[256];
    size_t n1 = pt_unhex("646174613a207b2263686f69636573223a5b7b2264656c7461223a7b22636f6e74656e"
                         "74223a22ec95",
                         c1, sizeof c1);
    size_t n2 = pt_unhex("88eb8595227d7d5d7d0a0a646174613a205b444f4e455d0a0a", c2, sizeof c2);
    /* The two chunks as they arrived. */
    kv_response *r = pt_response_new();
    kv_model_spec m = pt_spec(SPEC);
    kv_parser *p = kv_parser_new(&m);
    assert_int_equal(kv_parser_feed(p, 200, c1, n1, AT(0.1), r), 0);
    assert_int_equal(r->text.len, 0);
    assert_int_equal(kv_parser_feed(p, 200, c2, n2, AT(0.2), r), 0);
    kv_parser_finish(p, 200, r);
    kv_parser_free(p);
    check_b17(r);
    assert_int_equal(r->t_first_token, AT(0.2));
    pt_response_free(r);
    /* And byte by byte, and cut at every position. */
    memcpy(body, c1, n1);
    memcpy(body + n1, c2, n2);
    pt_run_all_splits(SPEC, 200, body, n1 + n2, check_b17);
}

/* ---- B18: keep-alive comments ---- */

static const char b18_body[] =
    ": OPENROUTER PROCESSING\n\n"
    "data: "
    "{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"role\":\"assistant\",\"content\":\"서\"},\"finish_reason\":null}]}\n\n"
    ": OPENROUTER PROCESSING\n\n"
    "data: "
    "{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\"울\"},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n";

static void check_b18(const kv_response *r)
{
    pt_assert_text(&r->text, "서울");
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_int_equal(r->n_token_events, 2);
    assert_string_equal(r->finish_reason, "stop");
    assert_true(r->done);
}

static void test_b18_comments(void **state)
{
    pt_run_all_splits(SPEC, 200, b18_body, sizeof b18_body - 1, check_b18);
    /* The comment arrives at 0.2 s, the first content at 0.7 s: TTFT is
     * the content's, and the comment is not even a first event. */
    const char *first_data = strstr(b18_body, "data:");
    size_t comment_len = (size_t)(first_data - b18_body);
    kv_response *r = pt_response_new();
    kv_model_spec m = pt_spec(SPEC);
    kv_parser *p = kv_parser_new(&m);
    kv_parser_feed(p, 200, b18_body, comment_len, AT(0.2), r);
    assert_int_equal(r->t_first_event, 0);
    assert_int_equal(r->t_first_token, 0);
    kv_parser_feed(p, 200, first_data, strlen(first_data), AT(0.7), r);
    kv_parser_finish(p, 200, r);
    kv_parser_free(p);
    check_b18(r);
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_near(NS_TO_S(t.ttft_ns), 0.7, 1e-9);
    assert_int_equal(r->t_first_event, AT(0.7));
    pt_response_free(r);
}

/* ---- B20: empty choices array with the usage chunk ---- */

static const char b20_body[] =
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"role\":\"assistant\",\"content\":\"부산\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
    "{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":"
    "{\"prompt_tokens\":24,\"completion_tokens\":2,\"total_tokens\":26}}\n\n"
    "data: [DONE]\n\n";

static void check_b20(const kv_response *r)
{
    pt_assert_text(&r->text, "부산");
    assert_string_equal(r->finish_reason, "stop");
    assert_int_equal(r->prompt_tokens, 24);
    assert_int_equal(r->completion_tokens, 2);
    assert_int_equal(r->usage_source, KV_USAGE_SERVER);
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_true(r->done);
}

static void test_b20_usage_chunk(void **state)
{
    pt_run_all_splits(SPEC, 200, b20_body, sizeof b20_body - 1, check_b20);
}

/* ---- B21: request asks for usage; a stream without it → unknown ---- */

static void test_b21_request_body(void **state)
{
    kv_model_spec m = pt_spec("openai:m");
    kv_chat chat = {.system = NULL, .user = "안녕"};
    kv_http_request req;
    char err[256];
    assert_int_equal(kv_provider_build(&m, &chat, "sk-x", &req, err, sizeof err), 0);
    assert_string_equal(req.url.p, "https://api.openai.com/v1/chat/completions");
    cJSON *body = cJSON_ParseWithLength(req.body.p, req.body.len);
    assert_non_null(body);
    assert_string_equal(cJSON_GetObjectItem(body, "model")->valuestring, "m");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "stream")));
    cJSON *so = cJSON_GetObjectItem(body, "stream_options");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(so, "include_usage")));
    cJSON *msgs = cJSON_GetObjectItem(body, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")->valuestring,
                        "user");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "content")->valuestring,
                        "안녕");
    /* No temperature or max_tokens unless the spec sets them. */
    assert_null(cJSON_GetObjectItem(body, "temperature"));
    assert_null(cJSON_GetObjectItem(body, "max_tokens"));
    cJSON_Delete(body);
    assert_int_equal(req.n_headers, 2);
    assert_string_equal(req.headers[0], "Content-Type: application/json");
    assert_string_equal(req.headers[1], "Authorization: Bearer sk-x");
    kv_http_request_free(&req);

    /* With a system prompt, temperature and max_tokens; no key → no
     * Authorization header. */
    m.temperature = 0;
    m.max_tokens = 64;
    chat.system = "간결하게 답하라.";
    assert_int_equal(kv_provider_build(&m, &chat, NULL, &req, err, sizeof err), 0);
    body = cJSON_ParseWithLength(req.body.p, req.body.len);
    msgs = cJSON_GetObjectItem(body, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")->valuestring,
                        "system");
    assert_true(cJSON_GetObjectItem(body, "temperature")->valuedouble == 0.0);
    assert_int_equal(cJSON_GetObjectItem(body, "max_tokens")->valueint, 64);
    cJSON_Delete(body);
    assert_int_equal(req.n_headers, 1);
    kv_http_request_free(&req);
}

static void check_b21(const kv_response *r)
{
    pt_assert_text(&r->text, "안녕하세요");
    assert_int_equal(r->completion_tokens, -1);
    assert_int_equal(r->prompt_tokens, -1);
    assert_int_equal(r->usage_source, KV_USAGE_MISSING);
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_string_equal(kv_error_class_name(r->error), "none");
    kv_timing t;
    kv_timing_compute(r, r->t_first_token - 1000000, &t);
    assert_true(t.request_tps == -1);
    assert_true(t.output_tps == -1);
    assert_true(t.decode_tps == -1);
    assert_int_equal(t.tpot_ns, -1);
}

static void test_b21_no_usage(void **state)
{
    static const char body[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"안녕하세요\"},"
        "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    pt_run_all_splits(SPEC, 200, body, sizeof body - 1, check_b21);
}

/* ---- B22: role-only prelude and usage chunk do not stamp TTFT ---- */

static void test_b22_ttft(void **state)
{
    static const pt_timed ev[] = {
        {0.12,
         "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
         "\"finish_reason\":null}]}"},
        {0.9, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"서울\"},\"finish_reason\":"
              "null}]}"},
        {1.1, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"},
        {1.15, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":2,"
               "\"total_tokens\":22}}"},
        {1.151, "data: [DONE]"},
    };
    kv_response *r = pt_response_new();
    pt_run_timed(r, SPEC, ev, 5, "\n\n");
    pt_assert_text(&r->text, "서울");
    assert_int_equal(r->completion_tokens, 2);
    assert_int_equal(r->t_first_event, AT(0.12));
    assert_int_equal(r->t_first_token, AT(0.9)); /* not 0.12 */
    assert_int_equal(r->t_last_token, AT(0.9));  /* not 1.15 */
    assert_int_equal(r->n_token_events, 1);
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_near(NS_TO_S(t.ttft_ns), 0.900, 1e-9);
    assert_near(NS_TO_S(t.ttfc_ns), 0.900, 1e-9);
    assert_near(NS_TO_S(t.e2e_ns), 0.900, 1e-9); /* last token */
    assert_near(NS_TO_S(t.total_ns), 1.151, 1e-9);
    pt_response_free(r);
}

/* ---- B23: reasoning first ---- */

static void test_b23_reasoning_ttft(void **state)
{
    static const pt_timed ev[] = {
        {0.3,
         "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"먼저 조건을\"}}]}"},
        {3.9,
         "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\" 정리하면\"}}]}"},
        {4.0, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"B\"},\"finish_reason\":"
              "\"stop\"}]}"},
        {4.01, "data: [DONE]"},
    };
    kv_response *r = pt_response_new();
    pt_run_timed(r, SPEC, ev, 4, "\n\n");
    pt_assert_text(&r->text, "B");
    pt_assert_text(&r->reasoning, "먼저 조건을 정리하면");
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_near(NS_TO_S(t.ttft_ns), 0.3, 1e-9);
    assert_near(NS_TO_S(t.ttfc_ns), 4.0, 1e-9);
    assert_int_equal(r->n_token_events, 3);

    /* Truncated by max_tokens during reasoning. */
    static const pt_timed cut[] = {
        {0.3,
         "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"먼저 조건을\"}}]}"},
        {3.9, "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\" 정리하면\"},"
              "\"finish_reason\":\"length\"}]}"},
        {4.01, "data: [DONE]"},
    };
    kv_response_reset(r);
    pt_run_timed(r, SPEC, cut, 3, "\n\n");
    pt_assert_text(&r->text, "");
    assert_string_equal(r->finish_reason, "length");
    assert_int_equal(r->error, KV_ERR_NONE);
    kv_timing_compute(r, AT(0), &t);
    assert_near(NS_TO_S(t.ttft_ns), 0.3, 1e-9);
    assert_int_equal(t.ttfc_ns, -1);

    /* "reasoning" (OpenRouter, newer vLLM) is the same channel. */
    static const char alias[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"음\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"네\"}}]}\n\ndata: [DONE]\n\n";
    kv_response_reset(r);
    pt_run_chunked(r, SPEC, 200, alias, sizeof alias - 1, 0, AT(1));
    pt_assert_text(&r->reasoning, "음");
    pt_assert_text(&r->text, "네");
    pt_response_free(r);
}

/* ---- B29: reasoning spent the whole budget ---- */

static void check_b29(const kv_response *r)
{
    pt_assert_text(&r->text, "");
    pt_assert_text(&r->reasoning, "문제를 보면 ... (길게 계속)");
    assert_string_equal(r->finish_reason, "length");
    assert_int_equal(r->completion_tokens, 4096);
    assert_int_equal(r->prompt_tokens, 80);
    assert_int_equal(r->error, KV_ERR_NONE); /* a failed answer, not an infra error */
    assert_true(r->done);
}

static void test_b29_length_exhausted(void **state)
{
    static const char sse[] =
        "data: {\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning_content\":\"문제를 보면 "
        "... "
        "(길게 계속)\"},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\"\"},\"finish_reason\":\"length\"}]}\n\n"
        "data: {\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":"
        "{\"prompt_tokens\":80,\"completion_tokens\":4096,\"total_tokens\":4176}}\n\n"
        "data: [DONE]\n\n";
    pt_run_all_splits(SPEC, 200, sse, sizeof sse - 1, check_b29);
    /* The case's own body: a server that ignored "stream": true. */
    static const char body[] =
        "{\"id\":\"c2\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
        "{\"role\":\"assistant\",\"content\":\"\",\"reasoning_content\":\"문제를 보면 ... (길게 "
        "계속)\"},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":80,"
        "\"completion_tokens\":4096,\"total_tokens\":4176}}";
    pt_run_all_splits(SPEC, 200, body, sizeof body - 1, check_b29);
}

/* ---- B32: ill-formed UTF-8 in the model's output ---- */

static void check_b32(const kv_response *r)
{
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_true(r->invalid_utf8);
    kv_buf clean = {0};
    assert_int_equal(kv_utf8_sanitize(r->text.p, r->text.len, &clean), 1);
    pt_assert_text(&clean, "정답은 " FFFD " B");
    kv_buf_free(&clean);
}

static void test_b32_invalid_utf8(void **state)
{
    char body[256];
    size_t n = pt_unhex("7b2263686f69636573223a5b7b226d657373616765223a7b22636f6e74656e74223a22"
                        "eca095eb8bb5ec9d8020eb852042227d7d5d7d",
                        body, sizeof body);
    pt_run_all_splits(SPEC, 200, body, n, check_b32);
    /* The same bytes as a stream delta. */
    char sse[256];
    static const char head[] = "data: {\"choices\":[{\"delta\":{\"content\":\"";
    memcpy(sse, head, sizeof head - 1);
    size_t m = sizeof head - 1;
    m += pt_unhex("eca095eb8bb5ec9d8020eb852042", sse + m, sizeof sse - m);
    static const char tail[] = "\"}}]}\n\ndata: [DONE]\n\n";
    memcpy(sse + m, tail, sizeof tail - 1);
    m += sizeof tail - 1;
    pt_run_all_splits(SPEC, 200, sse, m, check_b32);
}

/* ---- Ends and errors ---- */

static void check_truncated(const kv_response *r)
{
    pt_assert_text(&r->text, "서");
    assert_int_equal(r->error, KV_ERR_TRUNCATED);
    assert_true(kv_error_retryable(r->error));
    assert_false(r->done);
}

static void test_truncated_without_done(void **state)
{
    static const char body[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"서\"}}]}\n\n";
    pt_run_all_splits(SPEC, 200, body, sizeof body - 1, check_truncated);
    /* A last event without its blank line still counts, then truncation. */
    kv_response *r = pt_response_new();
    pt_run_chunked(r, SPEC, 200, body, sizeof body - 3, 0, AT(1));
    check_truncated(r);
    /* An empty 200 body is truncated too. */
    kv_response_reset(r);
    pt_run_chunked(r, SPEC, 200, "", 0, 0, AT(1));
    assert_int_equal(r->error, KV_ERR_TRUNCATED);
    pt_response_free(r);
}

static void test_stream_error_event(void **state)
{
    static const char body[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"부\"}}]}\n\n"
        "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"산\"}}]}\n\ndata: [DONE]\n\n";
    kv_response *r = pt_response_new();
    kv_model_spec m = pt_spec(SPEC);
    kv_parser *p = kv_parser_new(&m);
    assert_int_equal(kv_parser_feed(p, 200, body, sizeof body - 1, AT(1), r), -1);
    assert_int_equal(r->error, KV_ERR_STREAM);
    assert_string_equal(r->error_message, "The server had an error");
    /* Later bytes are ignored; finish keeps the class. */
    assert_int_equal(kv_parser_feed(p, 200, "data: [DONE]\n\n", 14, AT(2), r), -1);
    kv_parser_finish(p, 200, r);
    kv_parser_free(p);
    assert_int_equal(r->error, KV_ERR_STREAM);
    assert_true(kv_error_retryable(KV_ERR_STREAM));
    pt_assert_text(&r->text, "부");

    /* Not JSON at all → parse error. */
    kv_response_reset(r);
    static const char junk[] = "data: <html>\n\n";
    assert_int_equal(pt_run_chunked(r, SPEC, 200, junk, sizeof junk - 1, 0, AT(1)), -1);
    assert_int_equal(r->error, KV_ERR_PARSE);
    assert_false(kv_error_retryable(KV_ERR_PARSE));
    pt_response_free(r);
}

static void check_status(int status, const char *body, kv_error_class want, bool retry,
                         const char *want_msg)
{
    kv_response *r = pt_response_new();
    pt_run_chunked(r, SPEC, status, body, strlen(body), 3, AT(1));
    assert_int_equal(r->http_status, status);
    assert_int_equal(r->error, want);
    assert_int_equal(kv_error_retryable(r->error), retry);
    assert_string_equal(r->error_message, want_msg);
    assert_int_equal(r->text.len, 0);
    pt_response_free(r);
}

static void test_error_classes(void **state)
{
    check_status(429,
                 "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
                 "\"code\":\"rate_limit_exceeded\"}}",
                 KV_ERR_RATE_LIMITED, true, "Rate limit reached");
    check_status(529, "{\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\"}}",
                 KV_ERR_OVERLOADED, true, "Overloaded");
    check_status(503, "Service Unavailable", KV_ERR_OVERLOADED, true, "HTTP 503");
    check_status(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":null}}",
                 KV_ERR_SERVER, true, "boom");
    check_status(502, "", KV_ERR_SERVER, true, "HTTP 502");
    check_status(400,
                 "{\"error\":{\"message\":\"bad request\",\"type\":\"invalid_request_error\"}}",
                 KV_ERR_CLIENT, false, "bad request");
    check_status(401,
                 "{\"error\":{\"message\":\"Incorrect API key provided\",\"type\":"
                 "\"invalid_request_error\",\"code\":\"invalid_api_key\"}}",
                 KV_ERR_CLIENT, false, "Incorrect API key provided");
    check_status(404, "{\"error\":\"model 'm' not found\"}", KV_ERR_CLIENT, false,
                 "model 'm' not found");
    check_status(408, "", KV_ERR_TIMEOUT, true, "HTTP 408");

    assert_string_equal(kv_error_class_name(KV_ERR_RATE_LIMITED), "rate_limited");
    assert_string_equal(kv_error_class_name(KV_ERR_OVERLOADED), "overloaded");
    assert_string_equal(kv_error_class_name(KV_ERR_SERVER), "server");
    assert_string_equal(kv_error_class_name(KV_ERR_CLIENT), "client");
    assert_string_equal(kv_error_class_name(KV_ERR_TIMEOUT), "timeout");
    assert_string_equal(kv_error_class_name(KV_ERR_CONNECT), "connect");
    assert_string_equal(kv_error_class_name(KV_ERR_STREAM), "stream");
    assert_string_equal(kv_error_class_name(KV_ERR_TRUNCATED), "truncated");
    assert_string_equal(kv_error_class_name(KV_ERR_PARSE), "parse");
    assert_false(kv_error_retryable(KV_ERR_NONE));
    assert_false(kv_error_retryable(KV_ERR_CLIENT));
    assert_true(kv_error_retryable(KV_ERR_CONNECT));
}

/* llama.cpp's "timings" stand in for usage; usage wins when both come. */
static void test_llamacpp_timings(void **state)
{
    static const char body[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"서울\"}}]}\n\n"
        "data: {\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{}}],\"timings\":"
        "{\"prompt_n\":11,\"prompt_ms\":20.5,\"predicted_n\":3,\"predicted_ms\":60.0,"
        "\"predicted_per_second\":50.0}}\n\ndata: [DONE]\n\n";
    kv_response *r = pt_response_new();
    pt_run_chunked(r, SPEC, 200, body, sizeof body - 1, 0, AT(1));
    assert_int_equal(r->completion_tokens, 3);
    assert_int_equal(r->prompt_tokens, 11);
    assert_int_equal(r->usage_source, KV_USAGE_SERVER);
    assert_int_equal(r->server_decode_ns, 60000000);
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_near(t.server_decode_tps, 50.0, 1e-9);

    static const char both[] =
        "data: "
        "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{\"content\":\"x\"}}],"
        "\"usage\":{\"completion_tokens\":247,\"prompt_tokens\":1085,\"total_tokens\":1332},"
        "\"timings\":{\"prompt_n\":1000,\"predicted_n\":240,\"predicted_ms\":933.63}}\n\n"
        "data: [DONE]\n\n";
    kv_response_reset(r);
    pt_run_chunked(r, SPEC, 200, both, sizeof both - 1, 0, AT(1));
    assert_int_equal(r->completion_tokens, 247);
    assert_int_equal(r->prompt_tokens, 1085);
    assert_int_equal(r->server_decode_ns, 933630000);
    pt_response_free(r);
}

/* ---- Model specs ---- */

static void test_model_spec(void **state)
{
    kv_model_spec m;
    char err[256];
    assert_int_equal(kv_model_spec_parse("ollama:qwen2.5:7b", &m, err, sizeof err), 0);
    assert_int_equal(m.kind, KV_PROVIDER_OLLAMA);
    assert_string_equal(m.name, "qwen2.5:7b");
    assert_string_equal(m.base_url, "http://127.0.0.1:11434");
    assert_string_equal(m.api_key_env, "");
    assert_string_equal(m.label, "ollama:qwen2.5:7b");
    assert_true(m.temperature < 0);
    assert_int_equal(m.max_tokens, 0);

    assert_int_equal(kv_model_spec_parse("openai:m@http://127.0.0.1:8080/v1", &m, err, sizeof err),
                     0);
    assert_int_equal(m.kind, KV_PROVIDER_OPENAI);
    assert_string_equal(m.name, "m");
    assert_string_equal(m.base_url, "http://127.0.0.1:8080/v1");
    assert_string_equal(m.api_key_env, ""); /* a local server needs no key */

    assert_int_equal(kv_model_spec_parse("openai:gpt-4o-mini", &m, err, sizeof err), 0);
    assert_string_equal(m.base_url, "https://api.openai.com/v1");
    assert_string_equal(m.api_key_env, "OPENAI_API_KEY");
    assert_string_equal(kv_provider_name(m.kind), "openai");

    assert_int_equal(kv_model_spec_parse("openai:deepseek-chat@https://api.deepseek.com/v1/", &m,
                                         err, sizeof err),
                     0);
    assert_string_equal(m.base_url, "https://api.deepseek.com/v1"); /* trailing '/' dropped */
    assert_string_equal(m.api_key_env, "OPENAI_API_KEY");

    assert_int_equal(
        kv_model_spec_parse("anthropic:claude-3-5-sonnet@20240620", &m, err, sizeof err), 0);
    assert_string_equal(m.name, "claude-3-5-sonnet@20240620"); /* '@' not before a URL */
    assert_string_equal(m.base_url, "https://api.anthropic.com/v1");
    assert_string_equal(m.api_key_env, "ANTHROPIC_API_KEY");

    assert_int_equal(kv_model_spec_parse("gemini:gemini-2.0-flash", &m, err, sizeof err), 0);
    assert_string_equal(m.base_url, "https://generativelanguage.googleapis.com/v1beta");
    assert_string_equal(m.api_key_env, "GEMINI_API_KEY");

    assert_int_equal(kv_model_spec_parse("clova:HCX-005", &m, err, sizeof err), 0);
    assert_int_equal(m.kind, KV_PROVIDER_CLOVA);
    assert_string_equal(m.base_url, "https://clovastudio.stream.ntruss.com/v3");
    assert_string_equal(m.api_key_env, "CLOVASTUDIO_API_KEY");
    assert_string_equal(kv_provider_name(KV_PROVIDER_CLOVA), "clova");

    assert_int_equal(kv_model_spec_parse("foo:bar", &m, err, sizeof err), -1);
    assert_string_equal(err, "unknown provider 'foo' in model spec 'foo:bar' (openai, anthropic, "
                             "gemini, ollama, clova)");
    assert_int_equal(kv_model_spec_parse("openai:", &m, err, sizeof err), -1);
    assert_string_equal(err, "missing model name in model spec 'openai:' "
                             "(PROVIDER:MODEL[@BASE_URL])");
    assert_int_equal(kv_model_spec_parse("openai", &m, err, sizeof err), -1);
    assert_string_equal(err, "missing model name in model spec 'openai' "
                             "(PROVIDER:MODEL[@BASE_URL])");
    assert_int_equal(kv_model_spec_parse("openai:@http://127.0.0.1:1/v1", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing model name"));
    assert_int_equal(kv_model_spec_parse("", &m, err, sizeof err), -1);
    assert_int_equal(kv_model_spec_parse("OpenAI:m", &m, err, sizeof err), -1);
}

/* ---- Secrets: the key only ever appears in header lines ---- */

#define KEY "sk-KOEVALTESTKEY-4f9a81c2"

static void check_key_only_in_headers(const char *spec)
{
    kv_model_spec m = pt_spec(spec);
    m.temperature = 0.5;
    m.max_tokens = 16;
    kv_chat chat = {.system = "sys", .user = "user"};
    kv_http_request req;
    char err[256] = "";
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &req, err, sizeof err), 0);
    assert_false(pt_contains(req.url.p, req.url.len, KEY));
    assert_false(pt_contains(req.body.p, req.body.len, KEY));
    int with_key = 0;
    for (int i = 0; i < req.n_headers; i++)
        if (strstr(req.headers[i], KEY)) {
            with_key++;
            assert_string_equal(req.headers[i], "Authorization: Bearer " KEY);
        }
    assert_int_equal(with_key, 1);
    kv_http_request_free(&req);

    /* A key too long for a header line: the error names the header only. */
    char big[1024];
    memset(big, 'K', sizeof big - 1);
    memcpy(big, KEY, strlen(KEY));
    big[sizeof big - 1] = '\0';
    assert_int_equal(kv_provider_build(&m, &chat, big, &req, err, sizeof err), -1);
    assert_null(strstr(err, KEY));
    assert_null(strstr(err, "KKKK"));
    assert_non_null(strstr(err, "Authorization"));

    /* An error response never carries the key either (the parser never sees it). */
    kv_response *r = pt_response_new();
    static const char body[] = "{\"error\":{\"message\":\"Incorrect API key provided\"}}";
    pt_run_chunked(r, spec, 401, body, sizeof body - 1, 0, AT(1));
    assert_null(strstr(r->error_message, KEY));
    pt_response_free(r);
}

static void test_secrets(void **state)
{
    check_key_only_in_headers("openai:gpt-4o-mini");
    check_key_only_in_headers("ollama:qwen2.5:7b");
    check_key_only_in_headers("clova:HCX-005");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b17_utf8_split),
        cmocka_unit_test(test_b18_comments),
        cmocka_unit_test(test_b20_usage_chunk),
        cmocka_unit_test(test_b21_request_body),
        cmocka_unit_test(test_b21_no_usage),
        cmocka_unit_test(test_b22_ttft),
        cmocka_unit_test(test_b23_reasoning_ttft),
        cmocka_unit_test(test_b29_length_exhausted),
        cmocka_unit_test(test_b32_invalid_utf8),
        cmocka_unit_test(test_truncated_without_done),
        cmocka_unit_test(test_stream_error_event),
        cmocka_unit_test(test_error_classes),
        cmocka_unit_test(test_llamacpp_timings),
        cmocka_unit_test(test_model_spec),
        cmocka_unit_test(test_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
