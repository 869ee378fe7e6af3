/*
 * store.h — the SQLite journal of `koeval run` (DESIGN.md, "Store").
 *
 * The store is the only place that remembers: every run, request, attempt,
 * response (with its timing events) and score is written here before anything
 * is reported, so that a run killed at any moment (kill -9 included) resumes
 * without re-sending a finished request and without losing one.
 *
 * Durability contract:
 * - The file is in WAL mode with synchronous=NORMAL: a committed write
 *   survives the death of the process at any instant (it is in the WAL, which
 *   the next opener replays); only an OS crash or power loss may drop the last
 *   few commits, never corrupt the file.
 * - Every write function is its own short transaction and is committed before
 *   it returns. kv_store_attempt_begin is committed before the request is
 *   sent, so a kill loses at most the attempt in flight, which stays recorded
 *   as begun and never ended (ended_unix_ms NULL) while its request stays
 *   "pending".
 * - kv_store_response_put stores the response AND marks its request
 *   "answered" in one transaction: after any crash, a request is "answered"
 *   exactly when its response row exists.
 *
 * Secrets: no function takes an API key, and nothing here reads the
 * environment. kv_run_info.config_json must be the run's configuration with
 * every secret removed (the run CLI passes a redacted config: key variable
 * names, never their values); the store keeps it verbatim forever.
 *
 * Errors: every function but kv_store_open returns 0 on success and -1 on
 * failure; the message (naming the operation and SQLite's own message, e.g.
 * "store: response_put: database or disk is full") is then available from
 * kv_store_errmsg until the next call on the same store. No function aborts
 * on an SQLite error.
 *
 * Threads: a kv_store is one SQLite connection; use it from one thread at a
 * time. Several processes may open the same file: readers never block the
 * writer nor the other way round (WAL); two writers wait for each other up
 * to 5 s (busy_timeout) before a write fails with "database is locked".
 *
 * Times: wall-clock times are Unix milliseconds (CLOCK_REALTIME); a value of
 * 0 passed in means "now". Response timing events are CLOCK_MONOTONIC
 * nanoseconds relative to the run's clock origin (kv_engine_times.origin_ns)
 * and read back as -1 when the event was not seen.
 */
#ifndef KOEVAL_STORE_H
#define KOEVAL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/buf.h"
#include "src/providers/provider.h"
#include "src/timing.h"

/* PRAGMA user_version of the schema this build writes. A file with a larger
 * version (written by a newer koeval) is refused by kv_store_open. */
#define KV_STORE_SCHEMA_VERSION 1

typedef struct kv_store kv_store;

/* State of one request (stored as the name). */
typedef enum kv_request_state {
    KV_REQ_PENDING = 0, /* not answered yet: (re)sent on resume */
    KV_REQ_ANSWERED,    /* its response row exists */
    KV_REQ_FAILED,      /* a final infra failure (kv_store_request_fail); never scored */
} kv_request_state;

/* Bit masks of states, for kv_store_foreach_request. */
#define KV_REQ_MASK(state) (1u << (state))
#define KV_REQ_MASK_ALL 7u

/* "pending", "answered", "failed". */
const char *kv_request_state_name(kv_request_state s);

/* Status of a run (stored as the name). */
typedef enum kv_run_status {
    KV_RUN_RUNNING = 0, /* created, or killed before it finished */
    KV_RUN_COMPLETE,    /* every request answered or failed */
    KV_RUN_ABORTED,     /* stopped by the user or a fatal error; resumable */
} kv_run_status;

/* "running", "complete", "aborted". */
const char *kv_run_status_name(kv_run_status s);

/* Opens the store at `path`, creating the file and the schema when missing.
 * Sets WAL mode, synchronous=NORMAL, busy_timeout=5000 ms and foreign keys.
 * Refuses (returns -1) a file whose schema version is newer than
 * KV_STORE_SCHEMA_VERSION, a SQLite file that is not a koeval store, a file
 * that is not SQLite at all, and a file system where WAL cannot be enabled;
 * err (caller-owned, errlen bytes) then says why and names the path.
 * On success *out is the new store (free with kv_store_close) and 0 is
 * returned; on failure *out is NULL. */
int kv_store_open(const char *path, kv_store **out, char *err, size_t errlen);

/* Finalizes the cached statements and closes the connection (the last
 * connection to close checkpoints and removes the WAL). NULL is a no-op. */
void kv_store_close(kv_store *s);

/* The message of the last failed call on s ("" when none). Owned by s, valid
 * until the next call on s. */
const char *kv_store_errmsg(const kv_store *s);

/* ---- runs ---------------------------------------------------------------- */

/* What identifies a run. Strings are borrowed for the call. */
typedef struct kv_run_info {
    const char *koeval_version; /* NULL = this build's KOEVAL_VERSION */
    const char *suite_path;     /* as given on the command line */
    const char *suite_hash;     /* hash of the suite's bytes (hex), for resume */
    const char *config_json;    /* models, repeat, sampling …: NEVER a secret */
    int repeat;                 /* repeats per (model, item, lang), >= 1 */
    int64_t created_unix_ms;    /* 0 = now */
} kv_run_info;

/* Inserts a run with status "running"; *run_id receives its id (>= 1). */
int kv_store_run_create(kv_store *s, const kv_run_info *info, int64_t *run_id);

/* The latest (highest id) run whose suite_hash and config_json equal the
 * given ones byte for byte and whose status is not "complete" ("running" or
 * "aborted"). *run_id is 0 when there is none. A complete run is never
 * returned: re-running a finished configuration starts a new run. */
int kv_store_run_find_resumable(kv_store *s, const char *suite_hash, const char *config_json,
                                int64_t *run_id);

/* Sets a run's status. -1 when no run has that id. */
int kv_store_run_set_status(kv_store *s, int64_t run_id, kv_run_status status);

/* The latest run of any status; *run_id is 0 when the store has no run. */
int kv_store_latest_run(kv_store *s, int64_t *run_id);

/* A run read back. Strings are owned by the struct: kv_stored_run_free. */
typedef struct kv_stored_run {
    int64_t id;
    int64_t created_unix_ms;
    kv_buf koeval_version;
    kv_buf suite_path;
    kv_buf suite_hash;
    kv_buf config_json;
    int repeat;
    kv_run_status status;
} kv_stored_run;

/* Reads run `run_id` into *out (which should start as {0}; its buffers are
 * reused). -1 with "no run N" when absent. */
int kv_store_run_get(kv_store *s, int64_t run_id, kv_stored_run *out);

void kv_stored_run_free(kv_stored_run *r);

/* ---- requests and attempts ----------------------------------------------- */

/* Inserts the request (run_id, model, item_id, lang, repeat) with `prompt`
 * in state "pending" unless it exists. Either way *request_id receives its id
 * and, when not NULL, *state and *attempts its state and the number of
 * attempts begun so far. model is the spec label (kv_model_spec.label);
 * repeat is the repeat index, 0-based. -1 when the request exists with a
 * different prompt (the suite changed under a resumed run). Idempotent. */
int kv_store_request_ensure(kv_store *s, int64_t run_id, const char *model, const char *item_id,
                            const char *lang, int repeat, const char *prompt, int64_t *request_id,
                            kv_request_state *state, int *attempts);

/* Records that attempt N+1 of the request starts now (call it right before
 * sending): increments the request's attempt count and inserts the attempt
 * row in one committed transaction. *attempt_id receives the attempt's id
 * (for kv_store_attempt_end); *attempt_no, when not NULL, its 1-based
 * number. started_unix_ms 0 = now. */
int kv_store_attempt_begin(kv_store *s, int64_t request_id, int64_t started_unix_ms,
                           int64_t *attempt_id, int *attempt_no);

/* How an attempt ended. Strings are borrowed for the call. */
typedef struct kv_attempt_outcome {
    int http_status;           /* 0 = no HTTP response (connect error, timeout) → NULL */
    kv_error_class error;      /* KV_ERR_NONE for a usable answer */
    const char *error_message; /* NULL or "" = none; never a key; invalid UTF-8 replaced */
    int64_t retry_after_ms;    /* from kv_retry_after_ms; -1 = none → NULL */
    int64_t ended_unix_ms;     /* 0 = now */
} kv_attempt_outcome;

/* Records the end of an attempt (error class stored by name, "none" for
 * success). Committed immediately. -1 when no attempt has that id. */
int kv_store_attempt_end(kv_store *s, int64_t attempt_id, const kv_attempt_outcome *o);

/* Marks a request "failed" (a final infra failure: retries exhausted or a
 * non-retryable class) with the class name and message. -1 when the request
 * does not exist or is already "answered". */
int kv_store_request_fail(kv_store *s, int64_t request_id, kv_error_class error,
                          const char *message);

/* ---- responses ------------------------------------------------------------ */

/* Times the engine measured around a response, CLOCK_MONOTONIC ns (0 = not
 * seen). origin_ns is the run's clock origin: every stored event time is
 * `t - origin_ns`. To keep one timeline across a resume, the engine can take
 * origin_ns = now_mono_ns - (now_unix_ms - run.created_unix_ms) * 1000000. */
typedef struct kv_engine_times {
    int64_t origin_ns;
    int64_t t_queue_ns;   /* the request became ready to send */
    int64_t t_send_ns;    /* the request was handed to libcurl (required, > 0) */
    int64_t t_headers_ns; /* response headers received */
    int64_t t_end_ns;     /* transfer complete */
} kv_engine_times;

/* Stores r as the answer of the request and marks the request "answered",
 * in ONE transaction (replacing an earlier response of the same request, and
 * clearing an earlier failure). r must carry no error (r->error ==
 * KV_ERR_NONE; failures go to kv_store_attempt_end / kv_store_request_fail).
 * Text and reasoning are stored as UTF-8 with every ill-formed sequence
 * replaced by U+FFFD; invalid_utf8 is stored as r->invalid_utf8 or "a
 * replacement was made". Token counts of -1, or any count when
 * r->usage_source is KV_USAGE_MISSING, are stored as NULL (unknown is never
 * 0). Event times of r (t_first_event, t_first_token, t_first_content,
 * t_last_token, t_last_event, token_event_ns[]) and of tm are stored relative
 * to tm->origin_ns, NULL when 0. t holds the derived latencies (kv_timing,
 * -1 → NULL); NULL = computed here with kv_timing_compute(r, tm->t_send_ns). */
int kv_store_response_put(kv_store *s, int64_t request_id, const kv_response *r, const kv_timing *t,
                          const kv_engine_times *tm);

/* ---- scores --------------------------------------------------------------- */

/* Stores one metric's score of a request's answer, replacing the previous
 * score of the same (request, metric) (re-scoring replaces). value is in the
 * metric's own unit (chrF/BLEU 0–100, EM/F1 0–1 …); NaN is stored as NULL
 * (no value, e.g. status "extraction_failed"). signature names everything
 * that changes the number (DESIGN.md). extracted is the extracted answer
 * (MCQ letter, number), NULL when none. status: "ok", "extraction_failed",
 * "length_exhausted", … */
int kv_store_score_put(kv_store *s, int64_t request_id, const char *metric, double value,
                       const char *signature, const char *extracted, const char *status);

/* ---- reading ---------------------------------------------------------------
 * The foreach functions call cb once per row, in the order the requests were
 * created (request id). Row pointers are owned by the store and valid only
 * during the callback. cb returns 0 to continue; any other value stops the
 * iteration and is returned (use positive values, -1 means an SQLite error).
 * The callback may call any store function, including writes (score_put
 * while iterating responses) and nested foreach calls. The iteration reads
 * the file as of its first row: other connections' later commits are not
 * seen; writes made through the same kv_store during it may or may not be. */

/* A request with its response. */
typedef struct kv_stored_response {
    int64_t request_id;
    int64_t run_id;
    const char *model; /* spec label */
    const char *item_id;
    const char *lang;
    int repeat;
    const char *prompt;
    kv_request_state state; /* KV_REQ_ANSWERED (a response exists only then) */
    int attempts;
    const char *text;      /* valid UTF-8 */
    size_t text_len;       /* bytes */
    const char *reasoning; /* valid UTF-8, "" when none */
    size_t reasoning_len;
    const char *finish_reason; /* "" when the provider gave none */
    int64_t prompt_tokens;     /* -1 = unknown */
    int64_t completion_tokens; /* -1 = unknown (never 0 for unknown) */
    kv_usage_source usage_source;
    int http_status;
    bool invalid_utf8;
    int64_t server_decode_ns; /* -1 = none */
    /* Event times, ns relative to the run's clock origin, -1 = not seen. */
    int64_t t_queue, t_send, t_headers, t_first_event, t_first_token, t_first_content, t_last_token,
        t_last_event, t_end;
    /* Derived latencies as stored (kv_timing), ns, -1 = undefined. */
    int64_t ttft_ns, ttfc_ns, e2e_ns, tpot_ns, itl_mean_ns, itl_max_ns;
    size_t n_token_events;         /* events that carried a non-empty delta */
    const int64_t *token_event_ns; /* their times (origin-relative), n_token_times of them */
    size_t n_token_times;          /* min(n_token_events, KV_MAX_TOKEN_EVENTS) */
} kv_stored_response;

typedef int (*kv_response_cb)(const kv_stored_response *row, void *ctx);

/* Every answered request of the run with its response. */
int kv_store_foreach_response(kv_store *s, int64_t run_id, kv_response_cb cb, void *ctx);

/* A request without its response. */
typedef struct kv_stored_request {
    int64_t request_id;
    int64_t run_id;
    const char *model;
    const char *item_id;
    const char *lang;
    int repeat;
    const char *prompt;
    kv_request_state state;
    int attempts;              /* attempts begun */
    const char *error_class;   /* final failure's class name; NULL unless failed */
    const char *error_message; /* NULL unless failed */
} kv_stored_request;

typedef int (*kv_request_cb)(const kv_stored_request *row, void *ctx);

/* The run's requests whose state is in state_mask (KV_REQ_MASK(KV_REQ_PENDING)
 * | KV_REQ_MASK(KV_REQ_FAILED) for what is left to do; KV_REQ_MASK_ALL). */
int kv_store_foreach_request(kv_store *s, int64_t run_id, unsigned state_mask, kv_request_cb cb,
                             void *ctx);

/* A score with the request it belongs to. */
typedef struct kv_stored_score {
    int64_t request_id;
    const char *model;
    const char *item_id;
    const char *lang;
    int repeat;
    const char *metric;
    double value; /* NaN when stored without a value */
    const char *signature;
    const char *extracted; /* NULL when none */
    const char *status;
} kv_stored_score;

typedef int (*kv_score_cb)(const kv_stored_score *row, void *ctx);

/* Every score of the run (by request id, then metric name). */
int kv_store_foreach_score(kv_store *s, int64_t run_id, kv_score_cb cb, void *ctx);

/* Progress and coverage of a run. */
typedef struct kv_state_counts {
    int64_t pending;
    int64_t answered;
    int64_t failed;
    int64_t attempts;            /* attempts begun, over those requests */
    int64_t unfinished_attempts; /* begun and never ended (killed in flight) */
} kv_state_counts;

/* Counts the run's requests per state; model = NULL for all models, else
 * only that spec label's. */
int kv_store_count(kv_store *s, int64_t run_id, const char *model, kv_state_counts *out);

#endif
