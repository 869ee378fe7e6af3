/*
 * timing.c — per-request latency and throughput (DESIGN.md, "Timing").
 */
#include "src/timing.h"

static int64_t since(int64_t t, int64_t t_send_ns)
{
    return t ? t - t_send_ns : -1;
}

void kv_timing_compute(const kv_response *r, int64_t t_send_ns, kv_timing *out)
{
    out->ttft_ns = since(r->t_first_token, t_send_ns);
    out->ttfc_ns = since(r->t_first_content, t_send_ns);
    out->e2e_ns = since(r->t_last_token, t_send_ns);
    out->total_ns = since(r->t_last_event, t_send_ns);

    /* A count the server did not send is unknown, and so is every rate built
     * on it: never "0 tokens/s" (case B21). */
    int64_t n_out = r->usage_source != KV_USAGE_MISSING ? r->completion_tokens : -1;
    int64_t window = r->t_first_token ? r->t_last_token - r->t_first_token : -1;

    out->tpot_ns = -1;
    out->request_tps = -1;
    out->output_tps = -1;
    out->decode_tps = -1;
    out->server_decode_tps = -1;
    if (n_out >= 0 && out->e2e_ns > 0)
        out->request_tps = (double)n_out / ((double)out->e2e_ns / 1e9);
    if (n_out >= 0 && window > 0)
        out->output_tps = (double)n_out / ((double)window / 1e9);
    if (n_out >= 2 && window > 0) {
        out->tpot_ns = window / (n_out - 1);
        out->decode_tps = (double)(n_out - 1) / ((double)window / 1e9);
    }
    if (n_out >= 0 && r->server_decode_ns > 0)
        out->server_decode_tps = (double)n_out / ((double)r->server_decode_ns / 1e9);

    /* Inter-token latency over the recorded token-bearing events. */
    size_t n = r->n_token_events < KV_MAX_TOKEN_EVENTS ? r->n_token_events : KV_MAX_TOKEN_EVENTS;
    out->itl_mean_ns = -1;
    out->itl_max_ns = -1;
    if (n >= 2) {
        int64_t max = 0;
        for (size_t i = 1; i < n; i++) {
            int64_t gap = r->token_event_ns[i] - r->token_event_ns[i - 1];
            if (gap > max)
                max = gap;
        }
        out->itl_mean_ns = (r->token_event_ns[n - 1] - r->token_event_ns[0]) / (int64_t)(n - 1);
        out->itl_max_ns = max;
    }
}
