/* Tests for src/providers/ollama.c: Ollama's native /api/chat, streamed as
 * newline-delimited JSON (case B33). */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/providers/provider.h"
#include "src/timing.h"
#include "tests/providers/provtest.h"

#define SPEC "ollama:qwen2.5:7b"

static const char b33_c1[] =
    "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"서\"},\"done\":false}\n"
    "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"con";
static const char b33_c2[] =
    "tent\":\"울\"},\"done\":false}\n{\"model\":\"m\",\"message\":{\"role\":\"assistant\","
    "\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":10,"
    "\"eval_count\":2,\"eval_duration\":86000000}\n";

static void check_b33(const kv_response *r)
{
    pt_assert_text(&r->text, "서울");
    assert_string_equal(r->finish_reason, "stop");
    assert_int_equal(r->completion_tokens, 2);
    assert_int_equal(r->prompt_tokens, 10);
    assert_int_equal(r->usage_source, KV_USAGE_SERVER);
    assert_int_equal(r->server_decode_ns, 86000000);
    assert_int_equal(r->error, KV_ERR_NONE);
    assert_true(r->done);
    kv_timing t;
    kv_timing_compute(r, r->t_first_event, &t);
    assert_near(t.server_decode_tps, 23.2558, 1e-4); /* 2 / 0.086 s */
}

static void test_b33_split_line(void **state)
{
    /* The two chunks as in the case, at two times. */
    kv_response *r = pt_response_new();
    kv_model_spec m = pt_spec(SPEC);
    kv_parser *p = kv_parser_new(&m);
    assert_int_equal(kv_parser_feed(p, 200, b33_c1, sizeof b33_c1 - 1, AT(0.5), r), 0);
    pt_assert_text(&r->text, "서");
    assert_int_equal(kv_parser_feed(p, 200, b33_c2, sizeof b33_c2 - 1, AT(0.6), r), 0);
    kv_parser_finish(p, 200, r);
    kv_parser_free(p);
    check_b33(r);
    assert_int_equal(r->t_first_token, AT(0.5));
    assert_int_equal(r->t_last_token, AT(0.6));
    pt_response_free(r);
    /* Every other split. */
    char body[1024];
    size_t n1 = sizeof b33_c1 - 1, n2 = sizeof b33_c2 - 1;
    memcpy(body, b33_c1, n1);
    memcpy(body + n1, b33_c2, n2);
    pt_run_all_splits(SPEC, 200, body, n1 + n2, check_b33);
    /* Without the final newline: the last line is flushed at the end. */
    pt_run_all_splits(SPEC, 200, body, n1 + n2 - 1, check_b33);
}

static void test_thinking_and_ttft(void **state)
{
    static const pt_timed ev[] = {
        {0.2, "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"음\"},\"done\":"
              "false}"},
        {1.0, "{\"message\":{\"role\":\"assistant\",\"content\":\"네\"},\"done\":false}"},
        {1.5,
         "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":"
         "\"length\",\"eval_count\":5,\"eval_duration\":100000000}"},
    };
    kv_response *r = pt_response_new();
    pt_run_timed(r, SPEC, ev, 3, "\r\n");
    pt_assert_text(&r->reasoning, "음");
    pt_assert_text(&r->text, "네");
    assert_string_equal(r->finish_reason, "length");
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_near(NS_TO_S(t.ttft_ns), 0.2, 1e-9);
    assert_near(NS_TO_S(t.ttfc_ns), 1.0, 1e-9);
    assert_near(NS_TO_S(t.e2e_ns), 1.0, 1e-9);
    assert_near(NS_TO_S(t.total_ns), 1.5, 1e-9);
    assert_near(t.server_decode_tps, 50.0, 1e-9);
    pt_response_free(r);
}

static void test_errors_and_truncation(void **state)
{
    kv_response *r = pt_response_new();
    static const char notfound[] =
        "{\"error\":\"model 'qwen2.5:7b' not found, try pulling it first\"}";
    pt_run_chunked(r, SPEC, 404, notfound, sizeof notfound - 1, 5, AT(1));
    assert_int_equal(r->error, KV_ERR_CLIENT);
    assert_string_equal(r->error_message, "model 'qwen2.5:7b' not found, try pulling it first");

    /* An error line inside a 200 stream. */
    kv_response_reset(r);
    static const char mid[] =
        "{\"message\":{\"role\":\"assistant\",\"content\":\"서\"},\"done\":false}\n"
        "{\"error\":\"an error was encountered while running the model\"}\n";
    assert_int_equal(pt_run_chunked(r, SPEC, 200, mid, sizeof mid - 1, 0, AT(1)), -1);
    assert_int_equal(r->error, KV_ERR_STREAM);
    assert_string_equal(r->error_message, "an error was encountered while running the model");

    /* No done:true line → truncated. */
    kv_response_reset(r);
    static const char cut[] =
        "{\"message\":{\"role\":\"assistant\",\"content\":\"서\"},\"done\":false}\n";
    pt_run_chunked(r, SPEC, 200, cut, sizeof cut - 1, 0, AT(1));
    assert_int_equal(r->error, KV_ERR_TRUNCATED);
    assert_int_equal(r->completion_tokens, -1);
    assert_int_equal(r->usage_source, KV_USAGE_MISSING);

    /* Not JSON. */
    kv_response_reset(r);
    pt_run_chunked(r, SPEC, 200, "data: x\n", 8, 0, AT(1));
    assert_int_equal(r->error, KV_ERR_PARSE);
    pt_response_free(r);
}

static void test_request(void **state)
{
    kv_model_spec m = pt_spec(SPEC);
    kv_chat chat = {.system = "sys", .user = "안녕"};
    kv_http_request req;
    char err[256];
    assert_int_equal(kv_provider_build(&m, &chat, NULL, &req, err, sizeof err), 0);
    assert_string_equal(req.url.p, "http://127.0.0.1:11434/api/chat");
    assert_int_equal(req.n_headers, 1);
    assert_string_equal(req.headers[0], "Content-Type: application/json");
    cJSON *body = cJSON_ParseWithLength(req.body.p, req.body.len);
    assert_string_equal(cJSON_GetObjectItem(body, "model")->valuestring, "qwen2.5:7b");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "stream")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(body, "messages")), 2);
    assert_null(cJSON_GetObjectItem(body, "options"));
    assert_null(cJSON_GetObjectItem(body, "stream_options"));
    cJSON_Delete(body);
    kv_http_request_free(&req);

    m.temperature = 0.0;
    m.max_tokens = 128;
    assert_int_equal(kv_provider_build(&m, &chat, NULL, &req, err, sizeof err), 0);
    body = cJSON_ParseWithLength(req.body.p, req.body.len);
    cJSON *opts = cJSON_GetObjectItem(body, "options");
    assert_true(cJSON_GetObjectItem(opts, "temperature")->valuedouble == 0.0);
    assert_int_equal(cJSON_GetObjectItem(opts, "num_predict")->valueint, 128);
    cJSON_Delete(body);
    kv_http_request_free(&req);

    kv_model_spec remote = pt_spec("ollama:llama3@http://gpu-box:11434/");
    assert_int_equal(kv_provider_build(&remote, &chat, NULL, &req, err, sizeof err), 0);
    assert_string_equal(req.url.p, "http://gpu-box:11434/api/chat");
    kv_http_request_free(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b33_split_line),
        cmocka_unit_test(test_thinking_and_ttft),
        cmocka_unit_test(test_errors_and_truncation),
        cmocka_unit_test(test_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
