/*
 * The Anthropic Messages provider (src/providers/anthropic.c): the request it
 * builds, and the response it reads from a streamed body fed whole, byte by
 * byte and split at every point. Cases from ../shared/cases/handoff.jsonl:
 *   B26  an overloaded_error event inside a 200 stream is "overloaded"
 *        (retryable, as an HTTP 529), with no partial text
 *   B23  thinking deltas stamp TTFT; the first text delta stamps TTFC
 *   B27  a 429 body with rate_limit_error is "rate_limited"
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/providers/provider.h"
#include "src/text.h"
#include "tests/providers/provtest.h"

/* ---- Helpers ---- */

/* The same body with every "\n" written as "\r\n". */
static char *crlf(const char *body)
{
    size_t n = strlen(body), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += body[i] == '\n';
    char *out = malloc(n + extra + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (body[i] == '\n')
            *o++ = '\r';
        *o++ = body[i];
    }
    *o = '\0';
    return out;
}

/* ---- Streams ---- */

static const char korean_stream[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
    "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,"
    "\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\":\"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"서울은\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\" 한국의 수도입니다.\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":12}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

static void test_korean_stream(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    pt_expect e = {.text = "서울은 한국의 수도입니다.",
                   .finish = "end_turn",
                   .prompt = 25,
                   .completion = 12,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .message = "",
                   .done = true};
    pt_check_all_splits(&m, 200, korean_stream, &e);
    char *body = crlf(korean_stream);
    pt_check_all_splits(&m, 200, body, &e);
    free(body);
}

/* Timing with a fake clock: one event per feed. Text deltas are token
 * events; pings, block starts/stops and message events are not. */
static void test_korean_stream_timing(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    kv_parser *p = kv_parser_new(&m);
    kv_response *r = pt_response_new();
    const char *ev = korean_stream;
    int64_t t = 0;
    while (*ev) {
        const char *end = strstr(ev, "\n\n") + 2;
        t += 100;
        assert_int_equal(kv_parser_feed(p, 200, ev, (size_t)(end - ev), t, r), 0);
        ev = end;
    }
    kv_parser_finish(p, 200, r);
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_int_equal(r->t_first_event, 100);
    assert_int_equal(r->t_first_token, 400);
    assert_int_equal(r->t_first_content, 400);
    assert_int_equal(r->t_last_token, 500);
    assert_int_equal(r->t_last_event, 800);
    assert_int_equal(r->n_token_events, 2);
    assert_int_equal(r->token_event_ns[0], 400);
    assert_int_equal(r->token_event_ns[1], 500);
    kv_parser_free(p);
    pt_response_free(r);
}

/* B26, the body exactly as reported. */
static const char b26_body[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_x\",\"type\":\"message\","
    "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,"
    "\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n"
    "\n"
    "event: error\n"
    "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
    "\"Overloaded\"}}\n"
    "\n";

static const pt_expect b26_expect = {.text = "",
                                     .finish = "",
                                     .prompt = 12,
                                     .completion = -1,
                                     .source = KV_USAGE_MISSING,
                                     .error = KV_ERR_OVERLOADED,
                                     .message = "overloaded_error: Overloaded",
                                     .done = false,
                                     .feed_fails = true};

static void test_b26_overloaded_event(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    pt_check_all_splits(&m, 200, b26_body, &b26_expect);
    assert_true(kv_error_retryable(KV_ERR_OVERLOADED));
}

/* The same, read from the shared case file when it is present. */
static void test_b26_from_handoff(void **state)
{
    const char *path;
    KV_REQUIRE_SHARED(path, "cases/handoff.jsonl");
    size_t n;
    cJSON **recs = kv_test_read_jsonl(path, &n);
    cJSON *c = kv_test_find_id(recs, n, "B26");
    const cJSON *input = cJSON_GetObjectItem(c, "input");
    const cJSON *body = cJSON_GetObjectItem(input, "sse_body");
    assert_true(cJSON_IsString(body));
    assert_string_equal(body->valuestring, b26_body);
    assert_int_equal(cJSON_GetObjectItem(input, "http_status")->valueint, 200);
    kv_model_spec m = pt_spec("anthropic:claude-x");
    pt_check_all_splits(&m, 200, body->valuestring, &b26_expect);
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(recs[i]);
    free(recs);
}

/* Bytes after the error event are ignored, and the text already received is
 * kept (the engine decides whether a partial answer is retried). */
static void test_error_event_after_text(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    static const char body[] =
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"부분\"}}\n\n"
        "event: error\n"
        "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
        "\"Overloaded\"}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\" 더\"}}\n\n"
        "event: message_stop\n"
        "data: {\"type\":\"message_stop\"}\n\n";
    pt_expect e = {.text = "부분",
                   .finish = "",
                   .prompt = -1,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = KV_ERR_OVERLOADED,
                   .message = "overloaded_error: Overloaded",
                   .done = false,
                   .feed_fails = true};
    pt_check_all_splits(&m, 200, body, &e);
}

static void test_rate_limit_event(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    static const char body[] =
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":7}}}\n\n"
        "event: error\n"
        "data: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":"
        "\"Number of request tokens has exceeded your per-minute rate limit\"}}\n\n";
    pt_expect e = {.text = "",
                   .finish = "",
                   .prompt = 7,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = KV_ERR_RATE_LIMITED,
                   .message = "rate_limit_error: Number of request tokens has exceeded your "
                              "per-minute rate limit",
                   .done = false,
                   .feed_fails = true};
    pt_check_all_splits(&m, 200, body, &e);
    assert_true(kv_error_retryable(KV_ERR_RATE_LIMITED));
}

static void test_other_error_event(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    static const char body[] = "event: error\n"
                               "data: {\"type\":\"error\",\"error\":{\"type\":\"api_error\","
                               "\"message\":\"Internal server error\"}}\n\n";
    pt_expect e = {.text = "",
                   .finish = "",
                   .prompt = -1,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = KV_ERR_STREAM,
                   .message = "api_error: Internal server error",
                   .done = false,
                   .feed_fails = true};
    pt_check_all_splits(&m, 200, body, &e);
}

/* B23 with Anthropic's thinking blocks: TTFT at the first thinking delta,
 * TTFC at the first text delta. */
static void test_thinking_ttft(void **state)
{
    static const struct {
        int64_t t;
        const char *ev;
    } evs[] = {
        {100, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
              "{\"input_tokens\":30,\"output_tokens\":1}}}\n\n"},
        {200, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
              "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"},
        {300, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
              "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"먼저 조건을\"}}\n\n"},
        {3900, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
               "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\" 정리하면\"}}\n\n"},
        {3950, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
               "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM\"}}\n\n"},
        {3960,
         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"},
        {3970, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,"
               "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"},
        {4000, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
               "\"delta\":{\"type\":\"text_delta\",\"text\":\"B\"}}\n\n"},
        {4005,
         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"},
        {4006, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
               "\"end_turn\"},\"usage\":{\"output_tokens\":40}}\n\n"},
        {4010, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
    };
    kv_model_spec m = pt_spec("anthropic:claude-x");
    for (int variant = 0; variant < 2; variant++) {
        /* variant 1: max_tokens ends the answer during thinking */
        kv_parser *p = kv_parser_new(&m);
        kv_response *r = pt_response_new();
        for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
            if (variant == 1 && i >= 5 && i <= 9) {
                if (i == 9) {
                    static const char md[] =
                        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":"
                        "{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":64}}\n\n";
                    assert_int_equal(kv_parser_feed(p, 200, md, strlen(md), 4006, r), 0);
                }
                continue;
            }
            assert_int_equal(kv_parser_feed(p, 200, evs[i].ev, strlen(evs[i].ev), evs[i].t, r), 0);
        }
        kv_parser_finish(p, 200, r);
        assert_int_equal(r->error, KV_ERR_NONE);
        assert_true(r->done);
        assert_string_equal(r->reasoning.p, "먼저 조건을 정리하면");
        assert_int_equal(r->t_first_event, 100);
        assert_int_equal(r->t_first_token, 300);
        assert_int_equal(r->t_last_event, 4010);
        assert_int_equal(r->prompt_tokens, 30);
        if (variant == 0) {
            assert_string_equal(r->text.p, "B");
            assert_string_equal(r->finish_reason, "end_turn");
            assert_int_equal(r->completion_tokens, 40);
            assert_int_equal(r->t_first_content, 4000);
            assert_int_equal(r->t_last_token, 4000);
            assert_int_equal(r->n_token_events, 3);
            assert_int_equal(r->token_event_ns[0], 300);
            assert_int_equal(r->token_event_ns[1], 3900);
            assert_int_equal(r->token_event_ns[2], 4000);
        } else {
            assert_int_equal(r->text.len, 0);
            assert_string_equal(r->finish_reason, "max_tokens");
            assert_int_equal(r->completion_tokens, 64);
            assert_int_equal(r->t_first_content, 0);
            assert_int_equal(r->t_last_token, 3900);
            assert_int_equal(r->n_token_events, 2);
        }
        kv_parser_free(p);
        pt_response_free(r);
    }
}

/* A body that stops before message_stop was cut off; the text so far is kept. */
static void test_truncated(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    static const char body[] =
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9}}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"부산\"}}\n\n";
    pt_expect e = {.text = "부산",
                   .finish = "",
                   .prompt = 9,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = KV_ERR_TRUNCATED,
                   .done = false};
    pt_check_all_splits(&m, 200, body, &e);

    /* cut inside an event's JSON: truncated, not a parse error */
    static const char cut[] =
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"부산\"}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"te";
    pt_expect ec = {.text = "부산",
                    .finish = "",
                    .prompt = -1,
                    .completion = -1,
                    .source = KV_USAGE_MISSING,
                    .error = KV_ERR_TRUNCATED,
                    .done = false};
    pt_check_all_splits(&m, 200, cut, &ec);

    /* an empty 200 body */
    kv_response *r = pt_response_new();
    kv_parser *p = kv_parser_new(&m);
    kv_parser_finish(p, 200, r);
    assert_int_equal(r->error, KV_ERR_TRUNCATED);
    kv_parser_free(p);
    pt_response_free(r);
}

/* message_stop without its blank line still ends the stream. */
static void test_last_event_unterminated(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    static const char body[] =
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"네\"}}\n\n"
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":"
        "{\"output_tokens\":2}}\n\n"
        "event: message_stop\n"
        "data: {\"type\":\"message_stop\"}";
    pt_expect e = {.text = "네",
                   .finish = "end_turn",
                   .prompt = -1,
                   .completion = 2,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .message = "",
                   .done = true};
    pt_check_all_splits(&m, 200, body, &e);
}

/* Prompt tokens include the cached part of the prompt; message_delta's
 * cumulative usage, when it repeats the input, wins. */
static void test_usage_cache(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    static const char body[] =
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":4,"
        "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":2000,"
        "\"output_tokens\":1}}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"예\"}}\n\n"
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"stop_sequence\","
        "\"stop_sequence\":\"\\n\"},\"usage\":{\"output_tokens\":3}}\n\n"
        "event: message_stop\n"
        "data: {\"type\":\"message_stop\"}\n\n";
    pt_expect e = {.text = "예",
                   .finish = "stop_sequence",
                   .prompt = 2104,
                   .completion = 3,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .done = true};
    pt_check_all_splits(&m, 200, body, &e);

    static const char body2[] =
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":4,"
        "\"output_tokens\":1}}}\n\n"
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
        "\"usage\":{\"input_tokens\":5,\"cache_read_input_tokens\":10,\"output_tokens\":0}}"
        "\n\n"
        "event: message_stop\n"
        "data: {\"type\":\"message_stop\"}\n\n";
    pt_expect e2 = {.text = "",
                    .finish = "end_turn",
                    .prompt = 15,
                    .completion = 0,
                    .source = KV_USAGE_SERVER,
                    .error = KV_ERR_NONE,
                    .done = true};
    pt_check_all_splits(&m, 200, body2, &e2);
}

/* Event types the parser does not know are skipped (Anthropic may add some);
 * an event without a "type" field goes by its SSE name. */
static void test_unknown_events(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    static const char body[] =
        ": keep-alive comment\n\n"
        "event: future_event\n"
        "data: {\"type\":\"future_event\",\"x\":1}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
        "\"citations_delta\",\"citation\":{}}}\n\n"
        "event: content_block_delta\n"
        "data: {\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"가\"}}\n\n"
        "event: message_stop\n"
        "data: {\"type\":\"message_stop\"}\n\n";
    pt_expect e = {.text = "가",
                   .finish = "",
                   .prompt = -1,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = KV_ERR_NONE,
                   .done = true};
    pt_check_all_splits(&m, 200, body, &e);
}

static void test_not_json(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    static const char body[] = "event: content_block_delta\n"
                               "data: <html>oops</html>\n\n";
    pt_expect e = {.text = "",
                   .finish = "",
                   .prompt = -1,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = KV_ERR_PARSE,
                   .done = false,
                   .feed_fails = true};
    pt_check_all_splits(&m, 200, body, &e);
}

/* ---- Error bodies ---- */

static void check_error_body(int status, const char *body, kv_error_class want, const char *message)
{
    pt_check_error_body("anthropic:claude-x", status, body, want, message);
}

static void test_error_bodies(void **state)
{
    /* B27's body */
    check_error_body(429,
                     "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":"
                     "\"rate limited\"}}",
                     KV_ERR_RATE_LIMITED, "rate_limit_error: rate limited");
    check_error_body(529,
                     "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                     "\"Overloaded\"}}",
                     KV_ERR_OVERLOADED, "overloaded_error: Overloaded");
    /* the type refines a status that says less */
    check_error_body(500,
                     "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                     "\"Overloaded\"}}",
                     KV_ERR_OVERLOADED, "overloaded_error: Overloaded");
    check_error_body(500,
                     "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":"
                     "\"Internal server error\"}}",
                     KV_ERR_SERVER, "api_error: Internal server error");
    check_error_body(400,
                     "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                     "\"message\":\"max_tokens: Field required\"}}",
                     KV_ERR_CLIENT, "invalid_request_error: max_tokens: Field required");
    check_error_body(401,
                     "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
                     "\"message\":\"invalid x-api-key\"}}",
                     KV_ERR_CLIENT, "authentication_error: invalid x-api-key");
    check_error_body(404,
                     "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\","
                     "\"message\":\"model: claude-x\"},\"request_id\":\"req_1\"}",
                     KV_ERR_CLIENT, "not_found_error: model: claude-x");
    /* not JSON (a proxy's page): the status alone */
    check_error_body(503, "<html><body>Service Unavailable</body></html>", KV_ERR_OVERLOADED,
                     "HTTP 503");
    check_error_body(502, "", KV_ERR_SERVER, "HTTP 502");

    /* a long message is cut at a character boundary and stays valid UTF-8 */
    kv_buf body = {0};
    kv_buf_printf(&body, "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"");
    for (int i = 0; i < 200; i++)
        kv_buf_printf(&body, "오류");
    kv_buf_printf(&body, "\"}}");
    kv_model_spec m = pt_spec("anthropic:claude-x");
    kv_response *r = pt_response_new();
    size_t cut = body.len;
    assert_false(pt_feed_chunks(&m, 500, body.p, body.len, &cut, 1, r));
    assert_int_equal(r->error, KV_ERR_SERVER);
    size_t len = strlen(r->error_message);
    assert_true(len > 200 && len < sizeof r->error_message);
    assert_memory_equal(r->error_message, "api_error: 오류", strlen("api_error: 오류"));
    kv_buf ok = {0};
    assert_int_equal(kv_utf8_sanitize(r->error_message, len, &ok), 0);
    kv_buf_free(&ok);
    kv_buf_free(&body);
    pt_response_free(r);
}

/* ---- Requests ---- */

#define KEY "sk-ant-TESTKEY-7f3a9c2e"

static void test_request(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-3-5-haiku-latest");
    kv_chat chat = {.system = "한국어로 답하세요.", .user = "대한민국의 수도는?"};
    kv_http_request q;
    char err[256];
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &q, err, sizeof err), 0);
    assert_string_equal(q.url.p, "https://api.anthropic.com/v1/messages");
    assert_string_equal(pt_header(&q, "x-api-key"), KEY);
    assert_string_equal(pt_header(&q, "anthropic-version"), "2023-06-01");
    assert_string_equal(pt_header(&q, "content-type"), "application/json");
    assert_null(strstr(q.url.p, KEY));
    assert_null(strstr(q.body.p, KEY));
    int key_lines = 0;
    for (int i = 0; i < q.n_headers; i++)
        key_lines += strstr(q.headers[i], KEY) != NULL;
    assert_int_equal(key_lines, 1);

    cJSON *b = cJSON_Parse(q.body.p);
    assert_non_null(b);
    assert_string_equal(cJSON_GetObjectItem(b, "model")->valuestring, "claude-3-5-haiku-latest");
    assert_int_equal(cJSON_GetObjectItem(b, "max_tokens")->valueint, 1024);
    assert_string_equal(cJSON_GetObjectItem(b, "system")->valuestring, "한국어로 답하세요.");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "stream")));
    assert_null(cJSON_GetObjectItem(b, "temperature"));
    const cJSON *msgs = cJSON_GetObjectItem(b, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 1); /* the system prompt is not a message */
    const cJSON *u = cJSON_GetArrayItem(msgs, 0);
    assert_string_equal(cJSON_GetObjectItem(u, "role")->valuestring, "user");
    assert_string_equal(cJSON_GetObjectItem(u, "content")->valuestring, "대한민국의 수도는?");
    assert_int_equal(cJSON_GetArraySize(b), 5);
    cJSON_Delete(b);
    kv_http_request_free(&q);

    /* no system prompt, the spec's limits, a base URL of one's own */
    m = pt_spec("anthropic:claude-x@http://127.0.0.1:8089/v1/");
    m.max_tokens = 256;
    m.temperature = 0;
    chat.system = "";
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &q, err, sizeof err), 0);
    assert_string_equal(q.url.p, "http://127.0.0.1:8089/v1/messages");
    b = cJSON_Parse(q.body.p);
    assert_null(cJSON_GetObjectItem(b, "system"));
    assert_int_equal(cJSON_GetObjectItem(b, "max_tokens")->valueint, 256);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(b, "temperature")));
    assert_true(cJSON_GetObjectItem(b, "temperature")->valuedouble == 0.0);
    cJSON_Delete(b);
    kv_http_request_free(&q);

    /* no key: no key header */
    chat.system = NULL;
    assert_int_equal(kv_provider_build(&m, &chat, NULL, &q, err, sizeof err), 0);
    assert_null(pt_header(&q, "x-api-key"));
    assert_non_null(pt_header(&q, "anthropic-version"));
    kv_http_request_free(&q);
}

/* A key that would break the header line is refused, and the error does not
 * repeat it. */
static void test_request_bad_key(void **state)
{
    kv_model_spec m = pt_spec("anthropic:claude-x");
    kv_chat chat = {.user = "안녕"};
    kv_http_request q;
    char err[256] = "";
    assert_int_equal(kv_provider_build(&m, &chat, KEY "\r\nx-evil: 1", &q, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_null(strstr(err, "TESTKEY"));
    assert_null(q.url.p);
    assert_int_equal(q.n_headers, 0);

    /* a key too long for a header line: the error names the header only */
    char big[700];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, KEY, strlen(KEY));
    assert_int_equal(kv_provider_build(&m, &chat, big, &q, err, sizeof err), -1);
    assert_null(strstr(err, "TESTKEY"));
    assert_null(strstr(err, "kkkk"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_korean_stream),
        cmocka_unit_test(test_korean_stream_timing),
        cmocka_unit_test(test_b26_overloaded_event),
        cmocka_unit_test(test_b26_from_handoff),
        cmocka_unit_test(test_error_event_after_text),
        cmocka_unit_test(test_rate_limit_event),
        cmocka_unit_test(test_other_error_event),
        cmocka_unit_test(test_thinking_ttft),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_last_event_unterminated),
        cmocka_unit_test(test_usage_cache),
        cmocka_unit_test(test_unknown_events),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_error_bodies),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_request_bad_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
