/* Tests for src/providers/clova.c: HyperCLOVA X, CLOVA Studio chat
 * completions v3 (named SSE events token / result / error / signal). */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/provider.h"
#include "src/timing.h"
#include "tests/providers/provtest.h"

#define SPEC "clova:HCX-005"

static const char stream_body[] =
    "id: a1\nevent: token\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"서\"},"
    "\"finishReason\":null,\"created\":1744710905,\"seed\":3284419119,\"usage\":null}\n\n"
    "id: a2\nevent: token\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"울\"},"
    "\"finishReason\":null,\"created\":1744710905,\"seed\":3284419119,\"usage\":null}\n\n"
    "id: a3\nevent: result\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"서울\"},"
    "\"finishReason\":\"stop\",\"created\":1744710905,\"seed\":3284419119,\"usage\":"
    "{\"promptTokens\":20,\"completionTokens\":2,\"totalTokens\":22}}\n\n"
    "event: signal\ndata: {\"data\":\"[DONE]\"}\n\n";

static void check_stream(const kv_response *r)
{
    pt_assert_text(&r->text, "서울"); /* not "서울서울": the result repeats the text */
    assert_string_equal(r->finish_reason, "stop");
    assert_int_equal(r->prompt_tokens, 20);
    assert_int_equal(r->completion_tokens, 2);
    assert_int_equal(r->usage_source, KV_USAGE_SERVER);
    assert_int_equal(r->n_token_events, 2);
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_true(r->done);
}

static void test_stream_result_not_appended(void **state)
{
    pt_run_all_splits(SPEC, 200, stream_body, sizeof stream_body - 1, check_stream);
}

/* The documented form without spaces after the colons ("event:token"). */
static void test_no_space_and_stop_reason(void **state)
{
    static const char body[] =
        "id:x\nevent:token\ndata:{\"message\":{\"role\":\"assistant\",\"content\":\"부산\"}}\n\n"
        "id:y\nevent:result\ndata:{\"message\":{\"role\":\"assistant\",\"content\":\"부산\"},"
        "\"stopReason\":\"stop_before\",\"inputLength\":9,\"outputLength\":3}\n\n";
    kv_response *r = pt_response_new();
    pt_run_chunked(r, SPEC, 200, body, sizeof body - 1, 7, AT(1));
    pt_assert_text(&r->text, "부산");
    assert_string_equal(r->finish_reason, "stop_before");
    assert_int_equal(r->completion_tokens, 3);
    assert_int_equal(r->prompt_tokens, 9);
    assert_int_equal(r->error, KV_ERR_NONE); /* the result ends the answer */
    pt_response_free(r);
}

static void test_timing(void **state)
{
    static const pt_timed ev[] = {
        {0.4, "event: token\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"\"}}"},
        {0.8, "event: token\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"서\"}}"},
        {1.3, "event: token\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"울\"}}"},
        {1.4, "event: result\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"서울\"},"
              "\"finishReason\":\"stop\",\"usage\":{\"promptTokens\":20,\"completionTokens\":2,"
              "\"totalTokens\":22}}"},
        {1.45, "event: signal\ndata: {\"data\":\"[DONE]\"}"},
    };
    kv_response *r = pt_response_new();
    pt_run_timed(r, SPEC, ev, 5, "\n\n");
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_near(NS_TO_S(t.ttft_ns), 0.8, 1e-9); /* not the empty token at 0.4 */
    assert_near(NS_TO_S(t.e2e_ns), 1.3, 1e-9);  /* not the result at 1.4 */
    assert_near(NS_TO_S(t.total_ns), 1.45, 1e-9);
    assert_near(t.output_tps, 4.0, 1e-9); /* 2 tokens / 0.5 s */
    pt_response_free(r);
}

/* Only a result (no token events): its text is the answer. */
static void test_result_only(void **state)
{
    static const char body[] =
        "event: result\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"대전\","
        "\"thinkingContent\":\"생각\"},\"finishReason\":\"length\",\"usage\":{\"promptTokens\":5,"
        "\"completionTokens\":7,\"totalTokens\":12}}\n\n"
        "event: signal\ndata: {\"data\":\"[DONE]\"}\n\n";
    kv_response *r = pt_response_new();
    pt_run_chunked(r, SPEC, 200, body, sizeof body - 1, 0, AT(1));
    pt_assert_text(&r->text, "대전");
    pt_assert_text(&r->reasoning, "생각");
    assert_string_equal(r->finish_reason, "length");
    assert_int_equal(r->completion_tokens, 7);
    pt_response_free(r);
}

static void test_errors(void **state)
{
    kv_response *r = pt_response_new();
    static const char ev[] =
        "event: token\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"서\"}}\n\n"
        "event: error\ndata: {\"status\":{\"code\":\"50000\",\"message\":\"Internal server "
        "error\"}}\n\n";
    assert_int_equal(pt_run_chunked(r, SPEC, 200, ev, sizeof ev - 1, 0, AT(1)), -1);
    assert_int_equal(r->error, KV_ERR_STREAM);
    assert_string_equal(r->error_message, "Internal server error");

    kv_response_reset(r);
    static const char limited[] =
        "{\"status\":{\"code\":\"42901\",\"message\":\"Too many requests - rate exceeded\"}}";
    pt_run_chunked(r, SPEC, 429, limited, sizeof limited - 1, 4, AT(1));
    assert_int_equal(r->error, KV_ERR_RATE_LIMITED);
    assert_true(kv_error_retryable(r->error));
    assert_string_equal(r->error_message, "Too many requests - rate exceeded");

    kv_response_reset(r);
    static const char auth[] = "{\"status\":{\"code\":\"40100\",\"message\":\"Unauthorized\"}}";
    pt_run_chunked(r, SPEC, 401, auth, sizeof auth - 1, 0, AT(1));
    assert_int_equal(r->error, KV_ERR_CLIENT);
    assert_false(kv_error_retryable(r->error));
    assert_string_equal(r->error_message, "Unauthorized");

    /* Token events but neither result nor signal → truncated. */
    kv_response_reset(r);
    static const char cut[] =
        "event: token\ndata: {\"message\":{\"role\":\"assistant\",\"content\":\"서\"}}\n\n";
    pt_run_chunked(r, SPEC, 200, cut, sizeof cut - 1, 0, AT(1));
    assert_int_equal(r->error, KV_ERR_TRUNCATED);
    pt_response_free(r);
}

static void test_request(void **state)
{
    kv_model_spec m = pt_spec(SPEC);
    kv_chat chat = {.system = "너는 도우미다.", .user = "수도는?"};
    kv_http_request req;
    char err[256];
    assert_int_equal(kv_provider_build(&m, &chat, "nv-abc", &req, err, sizeof err), 0);
    assert_string_equal(req.url.p,
                        "https://clovastudio.stream.ntruss.com/v3/chat-completions/HCX-005");
    assert_int_equal(req.n_headers, 3);
    assert_string_equal(req.headers[0], "Content-Type: application/json");
    assert_string_equal(req.headers[1], "Accept: text/event-stream");
    assert_string_equal(req.headers[2], "Authorization: Bearer nv-abc");
    cJSON *body = cJSON_ParseWithLength(req.body.p, req.body.len);
    cJSON *msgs = cJSON_GetObjectItem(body, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")->valuestring,
                        "system");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "content")->valuestring,
                        "수도는?");
    assert_null(cJSON_GetObjectItem(body, "model")); /* the model is in the URL */
    assert_null(cJSON_GetObjectItem(body, "temperature"));
    assert_null(cJSON_GetObjectItem(body, "maxTokens"));
    cJSON_Delete(body);
    kv_http_request_free(&req);

    m.temperature = 0.5;
    m.max_tokens = 256;
    chat.system = "";
    assert_int_equal(kv_provider_build(&m, &chat, "nv-abc", &req, err, sizeof err), 0);
    body = cJSON_ParseWithLength(req.body.p, req.body.len);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(body, "messages")), 1);
    assert_true(cJSON_GetObjectItem(body, "temperature")->valuedouble == 0.5);
    assert_int_equal(cJSON_GetObjectItem(body, "maxTokens")->valueint, 256);
    cJSON_Delete(body);
    kv_http_request_free(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_result_not_appended),
        cmocka_unit_test(test_no_space_and_stop_reason),
        cmocka_unit_test(test_timing),
        cmocka_unit_test(test_result_only),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
