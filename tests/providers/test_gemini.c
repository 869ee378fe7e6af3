/*
 * The Gemini provider (src/providers/gemini.c): the request it builds, and
 * the response it reads from a streamed body (server-sent events whose data
 * are whole GenerateContentResponse objects) fed whole, byte by byte and
 * split at every point. Gemini sends no [DONE]: a finishReason (or a blocked
 * prompt) ends the stream, and a body without one was cut off. A candidate
 * stopped by SAFETY or MAX_TOKENS before any text is an empty answer, not an
 * infra failure. B23 (reasoning stamps TTFT) with Gemini's thought parts.
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/providers/provider.h"
#include "src/text.h"
#include "tests/providers/provtest.h"

/* ---- Streams ---- */

#define GEMINI "gemini:gemini-2.0-flash"

static const char korean_stream[] =
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"서울은\"}],\"role\":\"model\"},"
    "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":8,\"totalTokenCount\":8},"
    "\"modelVersion\":\"gemini-2.0-flash\"}\r\n\r\n"
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" 한국의 수도입니다.\"}],"
    "\"role\":\"model\"},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":8,"
    "\"candidatesTokenCount\":5,\"totalTokenCount\":13},\"modelVersion\":\"gemini-2.0-flash\"}"
    "\r\n\r\n"
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}],\"role\":\"model\"},"
    "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":8,"
    "\"candidatesTokenCount\":7,\"totalTokenCount\":15},\"modelVersion\":\"gemini-2.0-flash\"}"
    "\r\n\r\n";

static void test_korean_stream(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    pt_expect e = {.text = "서울은 한국의 수도입니다.",
                   .finish = "STOP",
                   .prompt = 8,
                   .completion = 7,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .message = "",
                   .done = true};
    pt_check_all_splits(&m, 200, korean_stream, &e);
}

static void test_korean_stream_timing(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    kv_parser *p = kv_parser_new(&m);
    kv_response *r = pt_response_new();
    const char *ev = korean_stream;
    int64_t t = 0;
    while (*ev) {
        const char *end = strstr(ev, "\r\n\r\n") + 4;
        t += 250;
        assert_int_equal(kv_parser_feed(p, 200, ev, (size_t)(end - ev), t, r), 0);
        ev = end;
    }
    kv_parser_finish(p, 200, r);
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_int_equal(r->t_first_event, 250);
    assert_int_equal(r->t_first_token, 250);
    assert_int_equal(r->t_first_content, 250);
    assert_int_equal(r->t_last_token, 500); /* the last chunk's text is empty */
    assert_int_equal(r->t_last_event, 750);
    assert_int_equal(r->n_token_events, 2);
    assert_int_equal(r->token_event_ns[0], 250);
    assert_int_equal(r->token_event_ns[1], 500);
    kv_parser_free(p);
    pt_response_free(r);
}

/* Several parts in one chunk; the last chunk ends the body without its blank
 * line (it still counts); "\n" line ends. */
static void test_parts_and_unterminated_last_event(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    static const char body[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"가\"},{\"text\":\"나\"},"
        "{\"functionCall\":{\"name\":\"f\",\"args\":{}}},{\"text\":\"다\"}],\"role\":\"model\"}}]}"
        "\n\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"라\"}],\"role\":\"model\"},"
        "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,"
        "\"candidatesTokenCount\":4,\"totalTokenCount\":7}}";
    pt_expect e = {.text = "가나다라",
                   .finish = "STOP",
                   .prompt = 3,
                   .completion = 4,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .message = "",
                   .done = true};
    pt_check_all_splits(&m, 200, body, &e);
}

/* B23 with thought parts: TTFT at the first thought, TTFC at the first text;
 * completion tokens = candidates + thoughts. */
static void test_thoughts(void **state)
{
    static const struct {
        int64_t t;
        const char *ev;
    } evs[] = {
        {300, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"먼저 조건을\","
              "\"thought\":true}],\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":"
              "20,\"totalTokenCount\":20,\"thoughtsTokenCount\":3}}\r\n\r\n"},
        {3900, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" 정리하면\","
               "\"thought\":true}],\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":"
               "20,\"totalTokenCount\":20,\"thoughtsTokenCount\":90}}\r\n\r\n"},
        {4000, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"B\","
               "\"thoughtSignature\":\"Cq0BAb\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],"
               "\"usageMetadata\":{\"promptTokenCount\":20,\"candidatesTokenCount\":1,"
               "\"totalTokenCount\":121,\"thoughtsTokenCount\":100}}\r\n\r\n"},
    };
    kv_model_spec m = pt_spec("gemini:gemini-2.5-flash");
    kv_parser *p = kv_parser_new(&m);
    kv_response *r = pt_response_new();
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        assert_int_equal(kv_parser_feed(p, 200, evs[i].ev, strlen(evs[i].ev), evs[i].t, r), 0);
    kv_parser_finish(p, 200, r);
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_true(r->done);
    assert_string_equal(r->text.p, "B");
    assert_string_equal(r->reasoning.p, "먼저 조건을 정리하면");
    assert_string_equal(r->finish_reason, "STOP");
    assert_int_equal(r->prompt_tokens, 20);
    assert_int_equal(r->completion_tokens, 101);
    assert_int_equal(r->usage_source, KV_USAGE_SERVER);
    assert_int_equal(r->t_first_token, 300);
    assert_int_equal(r->t_first_content, 4000);
    assert_int_equal(r->t_last_token, 4000);
    assert_int_equal(r->n_token_events, 3);
    kv_parser_free(p);
    pt_response_free(r);

    /* the same, split everywhere */
    kv_buf all = {0};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        kv_buf_put(&all, evs[i].ev, strlen(evs[i].ev));
    pt_expect e = {.text = "B",
                   .reasoning = "먼저 조건을 정리하면",
                   .finish = "STOP",
                   .prompt = 20,
                   .completion = 101,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .done = true};
    pt_check_all_splits(&m, 200, all.p, &e);
    kv_buf_free(&all);
}

/* A candidate blocked by the safety filters before any text: an empty
 * answer (scored as such), not an infra failure. */
static void test_safety_no_text(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    static const char body[] =
        "data: {\"candidates\":[{\"finishReason\":\"SAFETY\",\"index\":0,\"safetyRatings\":["
        "{\"category\":\"HARM_CATEGORY_DANGEROUS_CONTENT\",\"probability\":\"HIGH\","
        "\"blocked\":true}]}],\"usageMetadata\":{\"promptTokenCount\":12,\"totalTokenCount\":12},"
        "\"modelVersion\":\"gemini-2.0-flash\"}\r\n\r\n";
    pt_expect e = {.text = "",
                   .finish = "SAFETY",
                   .prompt = 12,
                   .completion = 0,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .message = "",
                   .done = true};
    pt_check_all_splits(&m, 200, body, &e);

    kv_response *r = pt_response_new();
    size_t cut = strlen(body);
    pt_feed_chunks(&m, 200, body, cut, &cut, 1, r);
    assert_int_equal(r->t_first_token, 0);
    assert_int_equal(r->t_first_content, 0);
    assert_int_equal(r->n_token_events, 0);
    assert_int_equal(r->t_first_event, 1000);
    pt_response_free(r);
}

static void test_max_tokens(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    /* cut off after some text */
    static const char body[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"첫째, \"}],\"role\":"
        "\"model\"}}]}\r\n\r\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"둘째\"}],\"role\":\"model\"},"
        "\"finishReason\":\"MAX_TOKENS\"}],\"usageMetadata\":{\"promptTokenCount\":10,"
        "\"candidatesTokenCount\":16,\"totalTokenCount\":26}}\r\n\r\n";
    pt_expect e = {.text = "첫째, 둘째",
                   .finish = "MAX_TOKENS",
                   .prompt = 10,
                   .completion = 16,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .message = "",
                   .done = true};
    pt_check_all_splits(&m, 200, body, &e);

    /* the whole budget spent thinking: no text at all */
    static const char thinking[] =
        "data: {\"candidates\":[{\"content\":{\"role\":\"model\"},\"finishReason\":"
        "\"MAX_TOKENS\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":10,"
        "\"totalTokenCount\":74,\"thoughtsTokenCount\":64}}\r\n\r\n";
    pt_expect et = {.text = "",
                    .finish = "MAX_TOKENS",
                    .prompt = 10,
                    .completion = 64,
                    .source = KV_USAGE_SERVER,
                    .error = KV_ERR_NONE,
                    .message = "",
                    .done = true};
    pt_check_all_splits(&m, 200, thinking, &et);
}

/* Usage arrives in every chunk, cumulative: the last one counts. Without any
 * usageMetadata the tokens are unknown, never 0 (case B21). */
static void test_usage(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    static const char body[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"하나\"}]}}],"
        "\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":1,"
        "\"totalTokenCount\":6}}\n\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" 둘\"}]},\"finishReason\":"
        "\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":\"3\","
        "\"totalTokenCount\":8}}\n\n";
    pt_expect e = {.text = "하나 둘",
                   .finish = "STOP",
                   .prompt = 5,
                   .completion = 3,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .done = true};
    pt_check_all_splits(&m, 200, body, &e);

    static const char none[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"하나\"}]},\"finishReason\":"
        "\"STOP\"}]}\n\n";
    pt_expect en = {.text = "하나",
                    .finish = "STOP",
                    .prompt = -1,
                    .completion = -1,
                    .source = KV_USAGE_MISSING,
                    .error = KV_ERR_NONE,
                    .done = true};
    pt_check_all_splits(&m, 200, none, &en);
}

/* A blocked prompt: no candidates, promptFeedback.blockReason. */
static void test_blocked_prompt(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    static const char body[] =
        "data: {\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\",\"safetyRatings\":[]},"
        "\"usageMetadata\":{\"promptTokenCount\":7,\"totalTokenCount\":7},\"modelVersion\":"
        "\"gemini-2.0-flash\"}\r\n\r\n";
    pt_expect e = {.text = "",
                   .finish = "blocked:PROHIBITED_CONTENT",
                   .prompt = 7,
                   .completion = 0,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_NONE,
                   .message = "",
                   .done = true};
    pt_check_all_splits(&m, 200, body, &e);

    static const char safety[] =
        "data: {\"candidates\":[],\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\r\n\r\n";
    pt_expect es = {.text = "",
                    .finish = "blocked:SAFETY",
                    .prompt = -1,
                    .completion = -1,
                    .source = KV_USAGE_MISSING,
                    .error = KV_ERR_NONE,
                    .done = true};
    pt_check_all_splits(&m, 200, safety, &es);
}

/* No finishReason before the body ended: cut off. */
static void test_truncated(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    static const char body[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"서울\"}],\"role\":"
        "\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":8,\"totalTokenCount\":8}}\r\n\r\n";
    pt_expect e = {.text = "서울",
                   .finish = "",
                   .prompt = 8,
                   .completion = 0,
                   .source = KV_USAGE_SERVER,
                   .error = KV_ERR_TRUNCATED,
                   .done = false};
    pt_check_all_splits(&m, 200, body, &e);

    /* cut inside the last event's JSON */
    static const char cut[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"서울\"}],\"role\":"
        "\"model\"}}]}\r\n\r\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"은 한";
    pt_expect ec = {.text = "서울",
                    .finish = "",
                    .prompt = -1,
                    .completion = -1,
                    .source = KV_USAGE_MISSING,
                    .error = KV_ERR_TRUNCATED,
                    .done = false};
    pt_check_all_splits(&m, 200, cut, &ec);
}

static void test_not_json(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    pt_expect e = {.text = "",
                   .finish = "",
                   .prompt = -1,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = KV_ERR_PARSE,
                   .done = false,
                   .feed_fails = true};
    pt_check_all_splits(&m, 200, "data: [1, 2]\n\n", &e);
}

/* An error object inside a 200 stream. */
static void test_error_in_stream(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    static const char body[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"부분\"}]}}]}\r\n\r\n"
        "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again "
        "later.\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"더\"}]},\"finishReason\":"
        "\"STOP\"}]}\r\n\r\n";
    pt_expect e = {.text = "부분",
                   .finish = "",
                   .prompt = -1,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = KV_ERR_OVERLOADED,
                   .message = "UNAVAILABLE: The model is overloaded. Please try again later.",
                   .done = false,
                   .feed_fails = true};
    pt_check_all_splits(&m, 200, body, &e);

    static const char internal[] =
        "data: {\"error\":{\"code\":500,\"message\":\"An internal error has occurred.\","
        "\"status\":\"INTERNAL\"}}\r\n\r\n";
    pt_expect ei = {.text = "",
                    .finish = "",
                    .prompt = -1,
                    .completion = -1,
                    .source = KV_USAGE_MISSING,
                    .error = KV_ERR_STREAM,
                    .message = "INTERNAL: An internal error has occurred.",
                    .done = false,
                    .feed_fails = true};
    pt_check_all_splits(&m, 200, internal, &ei);
}

/* ---- Error bodies ---- */

static void check_error_body(int status, const char *body, kv_error_class want, const char *message)
{
    pt_check_error_body(GEMINI, status, body, want, message);
}

static void test_error_bodies(void **state)
{
    check_error_body(429,
                     "{\n  \"error\": {\n    \"code\": 429,\n    \"message\": \"Resource has been "
                     "exhausted (e.g. check quota).\",\n    \"status\": \"RESOURCE_EXHAUSTED\"\n"
                     "  }\n}\n",
                     KV_ERR_RATE_LIMITED,
                     "RESOURCE_EXHAUSTED: Resource has been exhausted (e.g. check quota).");
    check_error_body(503,
                     "{\"error\":{\"code\":503,\"message\":\"The model is overloaded.\","
                     "\"status\":\"UNAVAILABLE\"}}",
                     KV_ERR_OVERLOADED, "UNAVAILABLE: The model is overloaded.");
    check_error_body(400,
                     "{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a "
                     "valid API key.\",\"status\":\"INVALID_ARGUMENT\",\"details\":[]}}",
                     KV_ERR_CLIENT,
                     "INVALID_ARGUMENT: API key not valid. Please pass a valid API key.");
    check_error_body(403,
                     "{\"error\":{\"code\":403,\"message\":\"Method doesn't allow unregistered "
                     "callers.\",\"status\":\"PERMISSION_DENIED\"}}",
                     KV_ERR_CLIENT,
                     "PERMISSION_DENIED: Method doesn't allow unregistered callers.");
    check_error_body(404,
                     "{\"error\":{\"code\":404,\"message\":\"models/gemini-x is not found for API "
                     "version v1beta\",\"status\":\"NOT_FOUND\"}}",
                     KV_ERR_CLIENT,
                     "NOT_FOUND: models/gemini-x is not found for API version v1beta");
    check_error_body(500,
                     "{\"error\":{\"code\":500,\"message\":\"An internal error has occurred.\","
                     "\"status\":\"INTERNAL\"}}",
                     KV_ERR_SERVER, "INTERNAL: An internal error has occurred.");
    check_error_body(504,
                     "{\"error\":{\"code\":504,\"message\":\"Deadline exceeded.\",\"status\":"
                     "\"DEADLINE_EXCEEDED\"}}",
                     KV_ERR_TIMEOUT, "DEADLINE_EXCEEDED: Deadline exceeded.");
    /* the streaming endpoint may wrap the error in an array */
    check_error_body(429,
                     "[{\"error\":{\"code\":429,\"message\":\"Quota exceeded\",\"status\":"
                     "\"RESOURCE_EXHAUSTED\"}}]",
                     KV_ERR_RATE_LIMITED, "RESOURCE_EXHAUSTED: Quota exceeded");
    check_error_body(502, "<html>Bad Gateway</html>", KV_ERR_SERVER, "HTTP 502");
}

/* ---- Requests ---- */

#define KEY "AIzaTESTKEY-0c9d8e7f6a5b"

static void test_request(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    kv_chat chat = {.system = "한국어로 답하세요.", .user = "대한민국의 수도는?"};
    kv_http_request q;
    char err[256];
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &q, err, sizeof err), 0);
    assert_string_equal(q.url.p, "https://generativelanguage.googleapis.com/v1beta/models/"
                                 "gemini-2.0-flash:streamGenerateContent?alt=sse");
    assert_string_equal(pt_header(&q, "x-goog-api-key"), KEY);
    assert_string_equal(pt_header(&q, "content-type"), "application/json");
    assert_null(strstr(q.url.p, KEY));
    assert_null(strstr(q.url.p, "key="));
    assert_null(strstr(q.body.p, KEY));
    int key_lines = 0;
    for (int i = 0; i < q.n_headers; i++)
        key_lines += strstr(q.headers[i], KEY) != NULL;
    assert_int_equal(key_lines, 1);

    cJSON *b = cJSON_Parse(q.body.p);
    assert_non_null(b);
    const cJSON *contents = cJSON_GetObjectItem(b, "contents");
    assert_int_equal(cJSON_GetArraySize(contents), 1); /* the system prompt is not a turn */
    const cJSON *c = cJSON_GetArrayItem(contents, 0);
    assert_string_equal(cJSON_GetObjectItem(c, "role")->valuestring, "user");
    const cJSON *parts = cJSON_GetObjectItem(c, "parts");
    assert_int_equal(cJSON_GetArraySize(parts), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 0), "text")->valuestring,
                        "대한민국의 수도는?");
    const cJSON *si = cJSON_GetObjectItem(b, "systemInstruction");
    assert_non_null(si);
    assert_null(cJSON_GetObjectItem(si, "role"));
    parts = cJSON_GetObjectItem(si, "parts");
    assert_int_equal(cJSON_GetArraySize(parts), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 0), "text")->valuestring,
                        "한국어로 답하세요.");
    assert_null(cJSON_GetObjectItem(b, "generationConfig"));
    assert_null(cJSON_GetObjectItem(b, "model")); /* the model is in the URL */
    assert_int_equal(cJSON_GetArraySize(b), 2);
    cJSON_Delete(b);
    kv_http_request_free(&q);

    /* no system prompt; temperature and output limit; a base URL of one's own */
    m = pt_spec("gemini:gemini-2.5-flash@http://127.0.0.1:8090/v1beta");
    m.temperature = 0.7;
    m.max_tokens = 512;
    chat.system = NULL;
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &q, err, sizeof err), 0);
    assert_string_equal(q.url.p, "http://127.0.0.1:8090/v1beta/models/gemini-2.5-flash:"
                                 "streamGenerateContent?alt=sse");
    b = cJSON_Parse(q.body.p);
    assert_null(cJSON_GetObjectItem(b, "systemInstruction"));
    const cJSON *gc = cJSON_GetObjectItem(b, "generationConfig");
    assert_non_null(gc);
    assert_true(cJSON_GetObjectItem(gc, "temperature")->valuedouble == 0.7);
    assert_int_equal(cJSON_GetObjectItem(gc, "maxOutputTokens")->valueint, 512);
    assert_int_equal(cJSON_GetArraySize(gc), 2);
    cJSON_Delete(b);
    kv_http_request_free(&q);

    /* only a temperature */
    m.max_tokens = 0;
    m.temperature = 0;
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &q, err, sizeof err), 0);
    b = cJSON_Parse(q.body.p);
    gc = cJSON_GetObjectItem(b, "generationConfig");
    assert_int_equal(cJSON_GetArraySize(gc), 1);
    assert_true(cJSON_GetObjectItem(gc, "temperature")->valuedouble == 0.0);
    cJSON_Delete(b);
    kv_http_request_free(&q);

    /* resource names and characters that need escaping */
    m = pt_spec("gemini:tunedModels/my-model-1");
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &q, err, sizeof err), 0);
    assert_string_equal(q.url.p, "https://generativelanguage.googleapis.com/v1beta/tunedModels/"
                                 "my-model-1:streamGenerateContent?alt=sse");
    kv_http_request_free(&q);
    m = pt_spec("gemini:models/gemini-2.0-flash");
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &q, err, sizeof err), 0);
    assert_string_equal(q.url.p, "https://generativelanguage.googleapis.com/v1beta/models/"
                                 "gemini-2.0-flash:streamGenerateContent?alt=sse");
    kv_http_request_free(&q);
    m = pt_spec("gemini:a b?c#d");
    assert_int_equal(kv_provider_build(&m, &chat, KEY, &q, err, sizeof err), 0);
    assert_string_equal(q.url.p, "https://generativelanguage.googleapis.com/v1beta/models/"
                                 "a%20b%3Fc%23d:streamGenerateContent?alt=sse");
    kv_http_request_free(&q);

    /* no key: no key header */
    assert_int_equal(kv_provider_build(&m, &chat, NULL, &q, err, sizeof err), 0);
    assert_null(pt_header(&q, "x-goog-api-key"));
    kv_http_request_free(&q);
}

static void test_request_bad_key(void **state)
{
    kv_model_spec m = pt_spec(GEMINI);
    kv_chat chat = {.user = "안녕"};
    kv_http_request q;
    char err[256] = "";
    assert_int_equal(kv_provider_build(&m, &chat, KEY "\nx-evil: 1", &q, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_null(strstr(err, "TESTKEY"));
    assert_null(q.url.p);
    assert_int_equal(q.n_headers, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_korean_stream),
        cmocka_unit_test(test_korean_stream_timing),
        cmocka_unit_test(test_parts_and_unterminated_last_event),
        cmocka_unit_test(test_thoughts),
        cmocka_unit_test(test_safety_no_text),
        cmocka_unit_test(test_max_tokens),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_blocked_prompt),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_error_in_stream),
        cmocka_unit_test(test_error_bodies),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_request_bad_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
