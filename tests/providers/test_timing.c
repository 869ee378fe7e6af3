/* Tests for src/timing.c (DESIGN.md "Timing") and kv_retry_after_ms. */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "src/providers/provider.h"
#include "src/timing.h"
#include "tests/providers/provtest.h"

/* B25: completion tokens over the generation window. */
static void test_b25_output_tps(void **state)
{
    kv_response *r = pt_response_new();
    r->prompt_tokens = 500;
    r->completion_tokens = 101;
    r->usage_source = KV_USAGE_SERVER;
    r->t_first_event = AT(0.5);
    r->t_first_token = AT(0.5);
    r->t_first_content = AT(0.5);
    r->t_last_token = AT(2.5);
    r->t_last_event = AT(2.5);
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_near(t.output_tps, 50.5, 1e-9);
    assert_near(NS_TO_S(t.ttft_ns), 0.5, 1e-9);
    assert_near(NS_TO_S(t.e2e_ns), 2.5, 1e-9);
    /* The other definitions, each named in the report. */
    assert_near(t.request_tps, 40.4, 1e-9); /* N_out / E2E */
    assert_near(t.decode_tps, 50.0, 1e-9);  /* (N_out - 1) / (E2E - TTFT) */
    assert_int_equal(t.tpot_ns, 20000000);  /* 2 s / 100 */
    assert_true(t.server_decode_tps == -1);
    /* Not the wrong ones from the bug report. */
    assert_true(t.output_tps != 240.4 && t.output_tps != 40.4);
    pt_response_free(r);
}

/* B21: unknown N_out → every rate is -1, never 0. */
static void test_b21_unknown_tokens(void **state)
{
    kv_response *r = pt_response_new();
    r->t_first_token = r->t_first_content = AT(0.5);
    r->t_last_token = AT(2.5);
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_true(t.output_tps == -1);
    assert_true(t.request_tps == -1);
    assert_true(t.decode_tps == -1);
    assert_int_equal(t.tpot_ns, -1);
    assert_near(NS_TO_S(t.ttft_ns), 0.5, 1e-9); /* latencies still defined */
    /* A count of 0 from a zeroed record without a usage source is also unknown. */
    r->completion_tokens = 0;
    kv_timing_compute(r, AT(0), &t);
    assert_true(t.output_tps == -1);
    /* A labelled local estimate is used. */
    r->completion_tokens = 41;
    r->usage_source = KV_USAGE_ESTIMATE;
    kv_timing_compute(r, AT(0), &t);
    assert_near(t.output_tps, 20.5, 1e-9);
    pt_response_free(r);
}

/* Nothing seen: all -1. One token event: no window, no rates per window. */
static void test_edges(void **state)
{
    kv_response *r = pt_response_new();
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_int_equal(t.ttft_ns, -1);
    assert_int_equal(t.ttfc_ns, -1);
    assert_int_equal(t.e2e_ns, -1);
    assert_int_equal(t.total_ns, -1);
    assert_int_equal(t.itl_mean_ns, -1);
    assert_int_equal(t.itl_max_ns, -1);
    r->completion_tokens = 1;
    r->usage_source = KV_USAGE_SERVER;
    r->t_first_token = r->t_last_token = AT(1);
    kv_timing_compute(r, AT(0), &t);
    assert_near(t.request_tps, 1.0, 1e-9);
    assert_true(t.output_tps == -1);
    assert_true(t.decode_tps == -1);
    pt_response_free(r);
}

/* ITL over token-bearing events. */
static void test_itl(void **state)
{
    kv_response *r = pt_response_new();
    static const double at[] = {0.5, 0.6, 0.9, 1.0};
    for (size_t i = 0; i < 4; i++)
        r->token_event_ns[i] = AT(at[i]);
    r->n_token_events = 4;
    r->t_first_token = AT(0.5);
    r->t_last_token = AT(1.0);
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_int_equal(t.itl_max_ns, 300000000);
    assert_int_equal(t.itl_mean_ns, 500000000 / 3);
    pt_response_free(r);
}

/* B33 through the timing record: Ollama's eval_count / eval_duration. */
static void test_b33_server_rate(void **state)
{
    kv_response *r = pt_response_new();
    r->completion_tokens = 2;
    r->usage_source = KV_USAGE_SERVER;
    r->server_decode_ns = 86000000;
    kv_timing t;
    kv_timing_compute(r, AT(0), &t);
    assert_near(t.server_decode_tps, 23.2558, 1e-4);
    assert_near(t.server_decode_tps, 2.0 / 0.086, 1e-9);
    pt_response_free(r);
}

/* B27: Retry-After in its three forms. */
static void test_b27_retry_after(void **state)
{
    assert_int_equal(kv_retry_after_ms("20", NULL, NULL, 0), 20000);
    assert_int_equal(kv_retry_after_ms(" 20 ", NULL, NULL, 0), 20000);
    assert_int_equal(kv_retry_after_ms("0", NULL, NULL, 0), 0);
    assert_int_equal(kv_retry_after_ms(NULL, "1500", NULL, 0), 1500);
    /* retry-after-ms is the more precise of the two. */
    assert_int_equal(kv_retry_after_ms("2", "1500", NULL, 0), 1500);
    assert_int_equal(kv_retry_after_ms(NULL, NULL, NULL, 0), -1);
    assert_int_equal(kv_retry_after_ms("soon", NULL, NULL, 0), -1);
    assert_int_equal(kv_retry_after_ms("-5", NULL, NULL, 0), -1);
    /* HTTP-date minus the response's Date header. */
    assert_int_equal(kv_retry_after_ms("Wed, 21 Oct 2026 07:28:00 GMT", NULL,
                                       "Wed, 21 Oct 2026 07:27:35 GMT", 0),
                     25000);
    /* The obsolete forms of HTTP-date (RFC 9110 §5.6.7). */
    assert_int_equal(
        kv_retry_after_ms("Wednesday, 21-Oct-26 07:28:00 GMT", NULL, "Wed Oct 21 07:27:00 2026", 0),
        60000);
    /* No Date header: minus now (Unix ms); 2026-10-21T07:28:00Z = 1792567680 s. */
    assert_int_equal(kv_retry_after_ms("Wed, 21 Oct 2026 07:28:00 GMT", NULL, NULL,
                                       INT64_C(1792567680000) - 90000),
                     90000);
    /* A date in the past → 0, not negative. */
    assert_int_equal(kv_retry_after_ms("Wed, 21 Oct 2026 07:28:00 GMT", NULL,
                                       "Wed, 21 Oct 2026 07:29:00 GMT", 0),
                     0);
    /* No cap: a long wait the server asked for is kept (the engine decides). */
    assert_int_equal(kv_retry_after_ms("3600", NULL, NULL, 0), 3600000);
    assert_int_equal(kv_retry_after_ms("Wed, 21 Oct 2026 07:28:00", NULL, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b25_output_tps),  cmocka_unit_test(test_b21_unknown_tokens),
        cmocka_unit_test(test_edges),           cmocka_unit_test(test_itl),
        cmocka_unit_test(test_b33_server_rate), cmocka_unit_test(test_b27_retry_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
