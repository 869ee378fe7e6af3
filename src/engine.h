/*
 * engine.h — the request engine: one libcurl multi loop that sends every job
 * (one chat request to one model), streams the answers through the
 * providers' parsers, and retries what failed for infrastructure reasons.
 *
 * Per model it keeps at most `concurrency` requests in flight and spaces
 * request starts and token use to the requests- and tokens-per-minute limits.
 * Retries follow Retry-After / retry-after-ms when the server sends them
 * (case B27), otherwise jittered exponential backoff; both bounded by a cap on
 * attempts and on total waiting per job. Times are CLOCK_MONOTONIC ns.
 *
 * The engine remembers nothing: every attempt and every final result is
 * handed to the caller's callbacks the moment it happens (the run command
 * commits them to the store), which is what makes a killed run resumable.
 */
#ifndef KOEVAL_ENGINE_H
#define KOEVAL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/providers/provider.h"
#include "src/timing.h"

/* Per-model limits. */
typedef struct kv_model_limits {
    int concurrency; /* requests in flight, >= 1 */
    double rpm;      /* requests per minute, 0 = unlimited */
    double tpm;      /* tokens (prompt + completion, as reported) per minute, 0 = unlimited */
} kv_model_limits;

typedef struct kv_engine_opts {
    int max_attempts;           /* per job, >= 1 (default 6) */
    int64_t max_wait_ms;        /* total backoff + Retry-After waiting per job (default 600000) */
    int64_t backoff_base_ms;    /* first backoff (default 500), doubled per attempt, jittered */
    int64_t backoff_cap_ms;     /* one backoff at most (default 30000) */
    int64_t connect_timeout_ms; /* default 10000 */
    int64_t stall_timeout_ms;   /* no byte for this long → timeout (default 120000; 0 = none) */
    int64_t request_timeout_ms; /* whole request (default 600000) */
    uint64_t seed;              /* jitter seed (the run records it) */
    volatile int *stop;         /* when it points at a non-zero value (set by a signal
                                   handler), kv_engine_run stops and returns -1 with err
                                   "interrupted"; NULL = never */
} kv_engine_opts;

/* Defaults as documented above. */
kv_engine_opts kv_engine_defaults(void);

/* One request to make. The engine does not own any pointer in it. */
typedef struct kv_job {
    size_t model;            /* index into the models array given to kv_engine_run */
    kv_chat chat;
    int attempts_before;     /* attempts already recorded (a resumed job keeps counting) */
    void *user;              /* the caller's */
} kv_job;

/* What happened to one attempt. */
typedef struct kv_attempt {
    int number;              /* 1-based, counting attempts_before */
    int64_t t_queue;         /* when the job became ready to send */
    int64_t t_send;          /* when the request was handed to libcurl */
    int64_t t_headers;       /* response headers complete, 0 = never */
    int64_t t_end;           /* transfer finished or failed */
    int http_status;         /* 0 = no response */
    kv_error_class error;    /* NONE for a usable answer */
    char error_message[256]; /* never contains a key */
    int64_t retry_after_ms;  /* the server's, -1 = none */
    int64_t next_delay_ms;   /* wait before the next attempt, -1 = no retry */
} kv_attempt;

typedef struct kv_engine_callbacks {
    /* An attempt is about to be sent. Return non-zero to abort the run. */
    int (*attempt_begin)(void *ctx, const kv_job *job, const kv_attempt *a);
    /* An attempt ended (its response may be partial when a->error is set). */
    int (*attempt_end)(void *ctx, const kv_job *job, const kv_attempt *a, const kv_response *r);
    /* The job is finished: answered (a->error == NONE) or failed for good. */
    int (*job_done)(void *ctx, const kv_job *job, const kv_attempt *a, const kv_response *r,
                    const kv_timing *t);
    /* Called about every 200 ms while the loop runs (progress line). */
    void (*tick)(void *ctx, size_t done, size_t total, size_t in_flight);
    void *ctx;
} kv_engine_callbacks;

/* Runs every job to completion. models[i] and limits[i] describe model i;
 * api_keys[i] is its key or NULL. Returns 0, or -1 with err set when the run
 * was aborted (a callback returned non-zero, or libcurl could not start). */
int kv_engine_run(const kv_engine_opts *o, const kv_model_spec *models,
                  const kv_model_limits *limits, const char *const *api_keys, size_t n_models,
                  kv_job *jobs, size_t n_jobs, const kv_engine_callbacks *cb, char *err,
                  size_t errlen);

/* The backoff before attempt `attempt + 1` after `attempt` failed without a
 * Retry-After: min(cap, base * 2^(attempt-1)) scaled by a jitter factor in
 * [0.5, 1) drawn from *rng (xorshift64). Exposed for tests. */
int64_t kv_engine_backoff_ms(const kv_engine_opts *o, int attempt, uint64_t *rng);

/* Loads and initialises libcurl (opened at run time as libcurl.so.4; see
 * engine.c). Returns 0, or -1 with err set ("cannot load libcurl (install
 * libcurl4): …"). The other engine calls do this themselves; callers use it
 * to tell a missing library from an unreachable server. */
int kv_engine_init(char *err, size_t errlen);

/* Opens one connection to the model's server (TCP, and TLS for https) and
 * closes it, so that an unreachable server is reported once, before any
 * request is sent or stored. Returns 0, or -1 with err set ("cannot reach
 * http://127.0.0.1:8080/v1 (model openai:m@…): Couldn't connect to server"). */
int kv_engine_preflight(const kv_model_spec *m, char *err, size_t errlen);

/* CLOCK_MONOTONIC now, in ns. */
int64_t kv_now_ns(void);

#endif
