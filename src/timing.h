/*
 * timing.h — latency and throughput of one request, from the event times a
 * provider parser recorded (DESIGN.md, "Timing"). All inputs and outputs are
 * CLOCK_MONOTONIC nanoseconds; a value that cannot be defined is -1, never 0
 * (a missing token count must not turn into "0 tokens/s", case B21).
 */
#ifndef KOEVAL_TIMING_H
#define KOEVAL_TIMING_H

#include <stdint.h>

#include "src/providers/provider.h"

typedef struct kv_timing {
    int64_t ttft_ns;  /* t_first_token - t_send (reasoning counts, case B23) */
    int64_t ttfc_ns;  /* t_first_content - t_send (user-visible; -1 if no content) */
    int64_t e2e_ns;   /* t_last_token - t_send (-1 if no token) */
    int64_t tpot_ns;  /* (E2E - TTFT) / (N_out - 1), needs N_out >= 2 */
    double request_tps; /* N_out / E2E, tokens per second (includes waiting for the first token) */
    double output_tps;  /* N_out / (t_last_token - t_first_token): completion tokens
                           over the generation window, the "output tokens/s" users
                           compare with servers' own figures (case B25: 50.5) */
    double decode_tps;  /* (N_out - 1) / (E2E - TTFT): the inter-token rate (DESIGN.md) */
    int64_t itl_mean_ns; /* mean gap between token-bearing events, -1 with < 2 events */
    int64_t itl_max_ns;
    int64_t total_ns;    /* t_last_event - t_send: until the stream's last event (the
                            [DONE] or usage chunk after the last token), -1 if none */
    double server_decode_tps; /* N_out / server_decode_ns: the server's own generation
                                 rate (Ollama eval_count / eval_duration, case B33:
                                 2 / 0.086 s = 23.2558), -1 when the server gave none */
} kv_timing;

/* Computes r's timing for a request sent at t_send_ns. N_out is
 * r->completion_tokens (unknown → the rates are -1). */
void kv_timing_compute(const kv_response *r, int64_t t_send_ns, kv_timing *out);

#endif
