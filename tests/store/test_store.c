/* Tests for src/store.c: the SQLite journal of `koeval run`, on real files in
 * a mkdtemp directory. The crash tests fork a writer and kill it with
 * SIGKILL, then check from a fresh connection that every committed answer is
 * intact, the request in flight is still pending, and the file is sound. */
#include "tests/testutil.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "src/store.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/koeval-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/run.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static kv_store *open_ok(const char *path)
{
    kv_store *s = NULL;
    char err[512] = "";
    int rc = kv_store_open(path, &s, err, sizeof err);
    if (rc != 0)
        print_message("open failed: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(s);
    return s;
}

/* Fails the test with the store's message when rc != 0. */
#define OK(s, call)                                                                                \
    do {                                                                                           \
        int ok_rc_ = (call);                                                                       \
        if (ok_rc_ != 0)                                                                           \
            print_message("%s -> %d: %s\n", #call, ok_rc_, kv_store_errmsg(s));                    \
        assert_int_equal(ok_rc_, 0);                                                               \
    } while (0)

/* One integer from a query on a separate raw connection (-1 for NULL). */
static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* One text value (copied into out) from a raw connection. */
static void raw_text(const char *path, const char *sql, char *out, size_t n)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, n, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

static int64_t new_run(kv_store *s, const char *hash, const char *config)
{
    kv_run_info info = {.suite_path = "corpora/starter/suite.jsonl",
                        .suite_hash = hash,
                        .config_json = config,
                        .repeat = 3};
    int64_t id = 0;
    OK(s, kv_store_run_create(s, &info, &id));
    assert_true(id > 0);
    return id;
}

static int64_t ensure(kv_store *s, int64_t run, const char *item, const char *lang, int rep,
                      kv_request_state *state, int *attempts)
{
    char prompt[128];
    snprintf(prompt, sizeof prompt, "질문 %s (%s)", item, lang);
    int64_t id = 0;
    OK(s, kv_store_request_ensure(s, run, "openai:m@http://127.0.0.1:1/v1", item, lang, rep, prompt,
                                  &id, state, attempts));
    return id;
}

static kv_response *new_response(void)
{
    kv_response *r = calloc(1, sizeof *r);
    kv_response_reset(r);
    return r;
}

static void free_response(kv_response *r)
{
    kv_response_free(r);
    free(r);
}

/* ---- open, schema, version ------------------------------------------------ */

static void test_schema_created_and_reopened(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h1", "{\"models\":[\"a\"]}");
    kv_store_close(s);

    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), KV_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                                      " AND name IN ('runs','requests','attempts','responses',"
                                      "'scores')"),
                     5);

    s = open_ok(f->path); /* reopen: schema kept, nothing recreated */
    int64_t latest = 0;
    OK(s, kv_store_latest_run(s, &latest));
    assert_int_equal(latest, run);
    kv_stored_run r = {0};
    OK(s, kv_store_run_get(s, run, &r));
    assert_string_equal(r.suite_hash.p, "h1");
    assert_string_equal(r.config_json.p, "{\"models\":[\"a\"]}");
    assert_string_equal(r.suite_path.p, "corpora/starter/suite.jsonl");
    assert_string_equal(r.koeval_version.p, KOEVAL_VERSION);
    assert_int_equal(r.repeat, 3);
    assert_int_equal(r.status, KV_RUN_RUNNING);
    assert_true(r.created_unix_ms > 1600000000000);
    kv_stored_run_free(&r);
    kv_store_close(s);
}

static void test_wal_mode_on(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    char mode[32];
    raw_text(f->path, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    new_run(s, "h", "{}");
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0); /* the WAL exists while the store is open */
    kv_store_close(s);
}

static void test_newer_version_refused(void **state)
{
    fixture *f = *state;
    kv_store_close(open_ok(f->path));
    raw_exec(f->path, "PRAGMA user_version = 2");
    kv_store *s = (kv_store *)1;
    char err[512] = "";
    assert_int_equal(kv_store_open(f->path, &s, err, sizeof err), -1);
    assert_null(s);
    assert_non_null(strstr(err, "schema version 2"));
    assert_non_null(strstr(err, "newer"));
    assert_non_null(strstr(err, f->path));
}

static void test_foreign_files_refused(void **state)
{
    fixture *f = *state;
    kv_store *s = NULL;
    char err[512] = "";

    char other[160];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    raw_exec(other, "CREATE TABLE t (x)");
    assert_int_equal(kv_store_open(other, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a koeval store"));

    char text[160];
    snprintf(text, sizeof text, "%s/notes.txt", f->dir);
    FILE *fp = fopen(text, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database at all\n", fp);
    fclose(fp);
    err[0] = '\0';
    assert_int_equal(kv_store_open(text, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a database"));

    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/run.db", f->dir);
    err[0] = '\0';
    assert_int_equal(kv_store_open(missing, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
    assert_null(s);
}

/* ---- runs ----------------------------------------------------------------- */

static void test_runs_resumable(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t none = -5;
    OK(s, kv_store_latest_run(s, &none));
    assert_int_equal(none, 0);
    OK(s, kv_store_run_find_resumable(s, "h", "{}", &none));
    assert_int_equal(none, 0);

    int64_t a = new_run(s, "h", "{\"repeat\":3}");
    int64_t b = new_run(s, "h", "{\"repeat\":3}");
    int64_t c = new_run(s, "h", "{\"repeat\":5}");
    int64_t found = 0;
    OK(s, kv_store_run_find_resumable(s, "h", "{\"repeat\":3}", &found));
    assert_int_equal(found, b);
    OK(s, kv_store_run_set_status(s, b, KV_RUN_COMPLETE));
    OK(s, kv_store_run_find_resumable(s, "h", "{\"repeat\":3}", &found));
    assert_int_equal(found, a);
    OK(s, kv_store_run_set_status(s, a, KV_RUN_ABORTED)); /* aborted stays resumable */
    OK(s, kv_store_run_find_resumable(s, "h", "{\"repeat\":3}", &found));
    assert_int_equal(found, a);
    OK(s, kv_store_run_set_status(s, a, KV_RUN_COMPLETE));
    OK(s, kv_store_run_find_resumable(s, "h", "{\"repeat\":3}", &found));
    assert_int_equal(found, 0);
    OK(s, kv_store_run_find_resumable(s, "other", "{\"repeat\":5}", &found));
    assert_int_equal(found, 0);
    OK(s, kv_store_latest_run(s, &found));
    assert_int_equal(found, c);

    assert_int_equal(kv_store_run_set_status(s, 999, KV_RUN_COMPLETE), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "run_set_status: no run 999"));
    kv_stored_run r = {0};
    assert_int_equal(kv_store_run_get(s, 999, &r), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "no run 999"));
    kv_stored_run_free(&r);

    kv_run_info bad = {.suite_path = "x", .suite_hash = "h", .config_json = "{}", .repeat = 0};
    assert_int_equal(kv_store_run_create(s, &bad, &found), -1);
    assert_string_equal(kv_run_status_name(KV_RUN_ABORTED), "aborted");
    kv_store_close(s);
}

/* ---- requests and attempts ------------------------------------------------ */

static void test_request_ensure_idempotent(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h", "{}");
    kv_request_state st = KV_REQ_FAILED;
    int attempts = -1;
    int64_t id = ensure(s, run, "cap-017", "ko", 0, &st, &attempts);
    assert_int_equal(st, KV_REQ_PENDING);
    assert_int_equal(attempts, 0);
    int64_t att;
    OK(s, kv_store_attempt_begin(s, id, 0, &att, NULL));

    int64_t again = ensure(s, run, "cap-017", "ko", 0, &st, &attempts);
    assert_int_equal(again, id);
    assert_int_equal(st, KV_REQ_PENDING);
    assert_int_equal(attempts, 1);
    assert_int_not_equal(ensure(s, run, "cap-017", "ko", 1, NULL, NULL), id);
    assert_int_not_equal(ensure(s, run, "cap-017", "en", 0, NULL, NULL), id);
    /* Another run keeps its own requests. */
    int64_t run2 = new_run(s, "h2", "{}");
    assert_int_not_equal(ensure(s, run2, "cap-017", "ko", 0, NULL, NULL), id);

    kv_state_counts c;
    OK(s, kv_store_count(s, run, NULL, &c));
    assert_int_equal(c.pending, 3);
    assert_int_equal(c.answered + c.failed, 0);
    assert_int_equal(c.attempts, 1);
    assert_int_equal(c.unfinished_attempts, 1);
    OK(s, kv_store_count(s, run, "openai:m@http://127.0.0.1:1/v1", &c));
    assert_int_equal(c.pending, 3);
    OK(s, kv_store_count(s, run, "anthropic:other", &c));
    assert_int_equal(c.pending, 0);

    /* Same key, different prompt: the suite changed under the run. */
    int64_t x;
    assert_int_equal(kv_store_request_ensure(s, run, "openai:m@http://127.0.0.1:1/v1", "cap-017",
                                             "ko", 0, "another prompt", &x, NULL, NULL),
                     -1);
    assert_non_null(strstr(kv_store_errmsg(s), "different prompt"));
    kv_store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM requests"), 4);
}

static void test_attempts_recorded(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h", "{}");
    int64_t req = ensure(s, run, "mc-003", "ko", 0, NULL, NULL);
    int64_t a1, a2;
    int n1, n2;
    OK(s, kv_store_attempt_begin(s, req, 1700000000000, &a1, &n1));
    kv_attempt_outcome o1 = {.http_status = 429,
                             .error = KV_ERR_RATE_LIMITED,
                             .error_message = "Rate limit \xff reached",
                             .retry_after_ms = 1500,
                             .ended_unix_ms = 1700000000250};
    OK(s, kv_store_attempt_end(s, a1, &o1));
    OK(s, kv_store_attempt_begin(s, req, 0, &a2, &n2));
    kv_attempt_outcome o2 = {.http_status = 0, .error = KV_ERR_CONNECT, .retry_after_ms = -1};
    OK(s, kv_store_attempt_end(s, a2, &o2));
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 2);
    kv_store_close(s);

    char q[256], t[256];
    snprintf(q, sizeof q, "SELECT attempt_no FROM attempts WHERE id = %lld", (long long)a2);
    assert_int_equal(raw_int(f->path, q), 2);
    snprintf(q, sizeof q,
             "SELECT http_status || '|' || error_class || '|' || error_message || '|' ||"
             " retry_after_ms || '|' || started_unix_ms || '|' || ended_unix_ms"
             " FROM attempts WHERE id = %lld",
             (long long)a1);
    raw_text(f->path, q, t, sizeof t);
    assert_string_equal(t, "429|rate_limited|Rate limit \xef\xbf\xbd reached|1500|1700000000000|"
                           "1700000000250");
    snprintf(q, sizeof q,
             "SELECT coalesce(http_status, 'NULL') || '|' || error_class || '|' ||"
             " coalesce(error_message, 'NULL') || '|' || coalesce(retry_after_ms, 'NULL') ||"
             " '|' || (ended_unix_ms >= started_unix_ms) FROM attempts WHERE id = %lld",
             (long long)a2);
    raw_text(f->path, q, t, sizeof t);
    assert_string_equal(t, "NULL|connect|NULL|NULL|1");
    snprintf(q, sizeof q, "SELECT attempts FROM requests WHERE id = %lld", (long long)req);
    assert_int_equal(raw_int(f->path, q), 2);

    s = open_ok(f->path);
    assert_int_equal(kv_store_attempt_end(s, 4242, &o2), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "attempt_end: no attempt 4242"));
    int64_t a;
    assert_int_equal(kv_store_attempt_begin(s, 4242, 0, &a, NULL), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "attempt_begin: no request 4242"));
    kv_store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM attempts"), 2);
}

/* ---- responses ------------------------------------------------------------ */

#define ORIGIN 1000000000000LL /* an arbitrary CLOCK_MONOTONIC origin */

typedef struct collected {
    int n;
    kv_stored_response rows[4];
    char text[4][128];
    char reasoning[4][64];
    char finish[4][32];
    int64_t times[4][3];
} collected;

static int collect_response(const kv_stored_response *row, void *ctx)
{
    collected *c = ctx;
    assert_true(c->n < 4);
    c->rows[c->n] = *row;
    snprintf(c->text[c->n], sizeof c->text[0], "%s", row->text);
    snprintf(c->reasoning[c->n], sizeof c->reasoning[0], "%s", row->reasoning);
    snprintf(c->finish[c->n], sizeof c->finish[0], "%s", row->finish_reason);
    for (size_t i = 0; i < row->n_token_times && i < 3; i++)
        c->times[c->n][i] = row->token_event_ns[i];
    /* Pointers die with the callback: keep only scalars. */
    c->rows[c->n].text = c->rows[c->n].reasoning = c->rows[c->n].finish_reason = NULL;
    c->rows[c->n].model = c->rows[c->n].item_id = c->rows[c->n].lang = NULL;
    c->rows[c->n].prompt = NULL;
    c->rows[c->n].token_event_ns = NULL;
    c->n++;
    return 0;
}

static void test_response_round_trip(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h", "{}");
    int64_t q1 = ensure(s, run, "cap-017", "ko", 0, NULL, NULL);
    int64_t q2 = ensure(s, run, "cap-017", "en", 0, NULL, NULL);

    /* q1: every field set; server usage with 0 completion tokens (a real 0). */
    kv_response *r = new_response();
    kv_buf_put(&r->text, "서울\xc3(", strlen("서울\xc3(")); /* an ill-formed byte */
    kv_buf_put(&r->reasoning, "생각 중", strlen("생각 중"));
    snprintf(r->finish_reason, sizeof r->finish_reason, "stop");
    r->prompt_tokens = 17;
    r->completion_tokens = 0;
    r->usage_source = KV_USAGE_SERVER;
    r->server_decode_ns = 86000000;
    r->http_status = 200;
    r->done = true;
    r->t_first_event = ORIGIN + 110;
    r->t_first_token = ORIGIN + 120;
    r->t_first_content = ORIGIN + 130;
    r->t_last_token = ORIGIN + 170;
    r->t_last_event = ORIGIN + 180;
    r->n_token_events = 3;
    r->token_event_ns[0] = ORIGIN + 120;
    r->token_event_ns[1] = ORIGIN + 130;
    r->token_event_ns[2] = ORIGIN + 170;
    kv_engine_times tm = {.origin_ns = ORIGIN,
                          .t_queue_ns = ORIGIN + 50,
                          .t_send_ns = ORIGIN + 100,
                          .t_headers_ns = ORIGIN + 105,
                          .t_end_ns = ORIGIN + 190};
    kv_timing t = {.ttft_ns = 20,
                   .ttfc_ns = 30,
                   .e2e_ns = 70,
                   .tpot_ns = -1,
                   .itl_mean_ns = 25,
                   .itl_max_ns = 40};
    OK(s, kv_store_response_put(s, q1, r, &t, &tm));

    /* q2: no usage from the server, no reasoning, no content timing: unknown stays unknown. */
    kv_response_reset(r);
    kv_buf_put(&r->text, "Seoul", 5);
    r->usage_source = KV_USAGE_MISSING;
    r->completion_tokens = 12; /* ignored: the source says it is unknown */
    r->prompt_tokens = -1;
    r->http_status = 200;
    r->t_first_event = ORIGIN + 2010;
    r->t_first_token = ORIGIN + 2020;
    r->t_first_content = ORIGIN + 2020;
    r->t_last_token = ORIGIN + 2020;
    r->n_token_events = 1;
    r->token_event_ns[0] = ORIGIN + 2020;
    kv_engine_times tm2 = {.origin_ns = ORIGIN, .t_send_ns = ORIGIN + 2000};
    OK(s, kv_store_response_put(s, q2, r, NULL, &tm2)); /* timing computed by the store */

    collected c = {0};
    OK(s, kv_store_foreach_response(s, run, collect_response, &c));
    assert_int_equal(c.n, 2);
    kv_stored_response *a = &c.rows[0], *b = &c.rows[1];
    assert_int_equal(a->request_id, q1);
    assert_int_equal(a->run_id, run);
    assert_int_equal(a->state, KV_REQ_ANSWERED);
    assert_string_equal(c.text[0], "서울\xef\xbf\xbd(");
    assert_int_equal(a->text_len, strlen("서울\xef\xbf\xbd("));
    assert_true(a->invalid_utf8);
    assert_string_equal(c.reasoning[0], "생각 중");
    assert_string_equal(c.finish[0], "stop");
    assert_int_equal(a->prompt_tokens, 17);
    assert_int_equal(a->completion_tokens, 0);
    assert_int_equal(a->usage_source, KV_USAGE_SERVER);
    assert_int_equal(a->server_decode_ns, 86000000);
    assert_int_equal(a->http_status, 200);
    assert_int_equal(a->t_queue, 50);
    assert_int_equal(a->t_send, 100);
    assert_int_equal(a->t_headers, 105);
    assert_int_equal(a->t_first_event, 110);
    assert_int_equal(a->t_first_token, 120);
    assert_int_equal(a->t_first_content, 130);
    assert_int_equal(a->t_last_token, 170);
    assert_int_equal(a->t_last_event, 180);
    assert_int_equal(a->t_end, 190);
    assert_int_equal(a->ttft_ns, 20);
    assert_int_equal(a->ttfc_ns, 30);
    assert_int_equal(a->e2e_ns, 70);
    assert_int_equal(a->tpot_ns, -1);
    assert_int_equal(a->itl_mean_ns, 25);
    assert_int_equal(a->itl_max_ns, 40);
    assert_int_equal(a->n_token_events, 3);
    assert_int_equal(a->n_token_times, 3);
    assert_int_equal(c.times[0][0], 120);
    assert_int_equal(c.times[0][1], 130);
    assert_int_equal(c.times[0][2], 170);

    assert_int_equal(b->request_id, q2);
    assert_string_equal(c.text[1], "Seoul");
    assert_false(b->invalid_utf8);
    assert_string_equal(c.reasoning[1], "");
    assert_string_equal(c.finish[1], "");
    assert_int_equal(b->prompt_tokens, -1);
    assert_int_equal(b->completion_tokens, -1);
    assert_int_equal(b->usage_source, KV_USAGE_MISSING);
    assert_int_equal(b->server_decode_ns, -1);
    assert_int_equal(b->t_queue, -1);
    assert_int_equal(b->t_headers, -1);
    assert_int_equal(b->t_last_event, -1);
    assert_int_equal(b->t_end, -1);
    assert_int_equal(b->t_send, 2000);
    assert_int_equal(b->ttft_ns, 20); /* kv_timing_compute */
    assert_int_equal(b->e2e_ns, 20);
    assert_int_equal(b->itl_mean_ns, -1);
    assert_int_equal(b->n_token_times, 1);
    kv_store_close(s);

    /* NULL and 0 are distinct in the file itself. */
    char q[160];
    snprintf(q, sizeof q, "SELECT completion_tokens FROM responses WHERE request_id = %lld",
             (long long)q1);
    assert_int_equal(raw_int(f->path, q), 0);
    snprintf(q, sizeof q,
             "SELECT completion_tokens IS NULL AND prompt_tokens IS NULL FROM responses"
             " WHERE request_id = %lld",
             (long long)q2);
    assert_int_equal(raw_int(f->path, q), 1);
    free_response(r);
}

static void test_response_put_atomic(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h", "{}");
    int64_t q = ensure(s, run, "fl-0001", "ko", 0, NULL, NULL);
    kv_response *r = new_response();
    kv_buf_put(&r->text, "번역", strlen("번역"));
    r->http_status = 200;
    kv_engine_times tm = {.origin_ns = ORIGIN, .t_send_ns = ORIGIN + 1};

    /* Make the second half (marking the request answered) fail: the
     * response row written by the first half must be rolled back. */
    raw_exec(f->path, "CREATE TRIGGER no_answer BEFORE UPDATE OF state ON requests"
                      " BEGIN SELECT RAISE(ABORT, 'answering forbidden'); END");
    assert_int_equal(kv_store_response_put(s, q, r, NULL, &tm), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "response_put"));
    assert_non_null(strstr(kv_store_errmsg(s), "answering forbidden"));
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM responses"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM requests WHERE state = 'pending'"), 1);

    raw_exec(f->path, "DROP TRIGGER no_answer");
    OK(s, kv_store_response_put(s, q, r, NULL, &tm));
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM responses"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM requests WHERE state = 'answered'"), 1);

    /* No such request: nothing is stored. */
    assert_int_equal(kv_store_response_put(s, 777, r, NULL, &tm), -1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM responses"), 1);
    /* A failed response is not an answer. */
    r->error = KV_ERR_TRUNCATED;
    assert_int_equal(kv_store_response_put(s, q, r, NULL, &tm), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "truncated"));
    /* The store still works after the errors. */
    int64_t q2 = ensure(s, run, "fl-0002", "ko", 0, NULL, NULL);
    r->error = KV_ERR_NONE;
    OK(s, kv_store_response_put(s, q2, r, NULL, &tm));
    kv_store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM responses"), 2);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM requests q WHERE (q.state ="
                                      " 'answered') <> EXISTS (SELECT 1 FROM responses r"
                                      " WHERE r.request_id = q.id)"),
                     0);
    free_response(r);
}

typedef struct req_rows {
    int n;
    char line[8][160];
} req_rows;

static int collect_request(const kv_stored_request *row, void *ctx)
{
    req_rows *c = ctx;
    assert_true(c->n < 8);
    snprintf(c->line[c->n++], sizeof c->line[0], "%s/%s/%d/%s/%d/%s/%s", row->item_id, row->lang,
             row->repeat, kv_request_state_name(row->state), row->attempts,
             row->error_class ? row->error_class : "-",
             row->error_message ? row->error_message : "-");
    return 0;
}

static void test_request_fail(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h", "{}");
    int64_t q1 = ensure(s, run, "a", "ko", 0, NULL, NULL);
    int64_t q2 = ensure(s, run, "b", "ko", 0, NULL, NULL);
    int64_t q3 = ensure(s, run, "c", "ko", 0, NULL, NULL);
    int64_t att;
    OK(s, kv_store_attempt_begin(s, q1, 0, &att, NULL));
    OK(s, kv_store_request_fail(s, q1, KV_ERR_CLIENT, "invalid model"));
    kv_response *r = new_response();
    kv_buf_put(&r->text, "x", 1);
    kv_engine_times tm = {.origin_ns = ORIGIN, .t_send_ns = ORIGIN + 1};
    OK(s, kv_store_response_put(s, q2, r, NULL, &tm));

    req_rows c = {0};
    OK(s, kv_store_foreach_request(s, run, KV_REQ_MASK(KV_REQ_PENDING) | KV_REQ_MASK(KV_REQ_FAILED),
                                   collect_request, &c));
    assert_int_equal(c.n, 2);
    assert_string_equal(c.line[0], "a/ko/0/failed/1/client/invalid model");
    assert_string_equal(c.line[1], "c/ko/0/pending/0/-/-");
    memset(&c, 0, sizeof c);
    OK(s, kv_store_foreach_request(s, run, KV_REQ_MASK_ALL, collect_request, &c));
    assert_int_equal(c.n, 3);
    assert_string_equal(c.line[1], "b/ko/0/answered/0/-/-");

    kv_state_counts n;
    OK(s, kv_store_count(s, run, NULL, &n));
    assert_int_equal(n.pending, 1);
    assert_int_equal(n.answered, 1);
    assert_int_equal(n.failed, 1);

    /* An answer is never turned into a failure … */
    assert_int_equal(kv_store_request_fail(s, q2, KV_ERR_SERVER, "late"), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "already answered"));
    assert_int_equal(kv_store_request_fail(s, 999, KV_ERR_SERVER, NULL), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "no request 999"));
    /* … but a failed request answered on a later resume is answered, error cleared. */
    OK(s, kv_store_response_put(s, q1, r, NULL, &tm));
    memset(&c, 0, sizeof c);
    OK(s, kv_store_foreach_request(s, run, KV_REQ_MASK(KV_REQ_ANSWERED), collect_request, &c));
    assert_int_equal(c.n, 2);
    assert_string_equal(c.line[0], "a/ko/0/answered/1/-/-");
    (void)q3;
    free_response(r);
    kv_store_close(s);
}

/* ---- scores --------------------------------------------------------------- */

typedef struct score_rows {
    int n;
    char line[8][200];
} score_rows;

static int collect_score(const kv_stored_score *row, void *ctx)
{
    score_rows *c = ctx;
    assert_true(c->n < 8);
    char v[32];
    if (isnan(row->value))
        snprintf(v, sizeof v, "NaN");
    else
        snprintf(v, sizeof v, "%.4f", row->value);
    snprintf(c->line[c->n++], sizeof c->line[0], "%s/%s/%s/%s/%s/%s", row->item_id, row->metric, v,
             row->signature, row->extracted ? row->extracted : "NULL", row->status);
    return 0;
}

static void test_scores_replace(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h", "{}");
    int64_t q1 = ensure(s, run, "mc-003", "ko", 0, NULL, NULL);
    int64_t q2 = ensure(s, run, "fl-0001", "ko", 0, NULL, NULL);
    OK(s, kv_store_score_put(s, q1, "mcq", 1.0, "mcq|v:0.1.0", "B", "ok"));
    OK(s, kv_store_score_put(s, q2, "chrF", 41.5, "chrF2|nc:6|nw:0|space:no|norm:nfc|v:0.1.0", NULL,
                             "ok"));
    OK(s, kv_store_score_put(s, q2, "BLEU", 12.25, "BLEU|nrefs:1|v:0.1.0", NULL, "ok"));
    /* Re-score replaces. */
    OK(s, kv_store_score_put(s, q1, "mcq", NAN, "mcq|v:0.1.1", NULL, "extraction_failed"));

    score_rows c = {0};
    OK(s, kv_store_foreach_score(s, run, collect_score, &c));
    assert_int_equal(c.n, 3);
    assert_string_equal(c.line[0], "mc-003/mcq/NaN/mcq|v:0.1.1/NULL/extraction_failed");
    assert_string_equal(c.line[1], "fl-0001/BLEU/12.2500/BLEU|nrefs:1|v:0.1.0/NULL/ok");
    assert_string_equal(c.line[2],
                        "fl-0001/chrF/41.5000/chrF2|nc:6|nw:0|space:no|norm:nfc|v:0.1.0/NULL/ok");
    assert_int_equal(kv_store_score_put(s, q1, "mcq", 0, NULL, NULL, "ok"), -1);
    kv_store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM scores WHERE value IS NULL"), 1);
}

/* ---- iteration: stop and re-entry ---------------------------------------- */

typedef struct reenter {
    kv_store *s;
    int seen;
    int stop_at;
} reenter;

static int score_each(const kv_stored_response *row, void *ctx)
{
    reenter *e = ctx;
    e->seen++;
    /* Writes from inside the iteration (what `koeval score --db` does). */
    if (kv_store_score_put(e->s, row->request_id, "len", (double)row->text_len, "len|v:1", NULL,
                           "ok") != 0) {
        print_message("%s\n", kv_store_errmsg(e->s));
        return -1;
    }
    kv_state_counts c;
    if (kv_store_count(e->s, row->run_id, NULL, &c) != 0)
        return -1;
    return e->seen == e->stop_at ? 42 : 0;
}

static void test_foreach_reentrant_and_stops(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h", "{}");
    kv_response *r = new_response();
    kv_engine_times tm = {.origin_ns = ORIGIN, .t_send_ns = ORIGIN + 1};
    for (int i = 0; i < 5; i++) {
        char item[16];
        snprintf(item, sizeof item, "i%d", i);
        int64_t q = ensure(s, run, item, "ko", 0, NULL, NULL);
        kv_buf_clear(&r->text);
        kv_buf_printf(&r->text, "%*s", i + 1, "x");
        OK(s, kv_store_response_put(s, q, r, NULL, &tm));
    }
    reenter e = {.s = s};
    OK(s, kv_store_foreach_response(s, run, score_each, &e));
    assert_int_equal(e.seen, 5);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM scores"), 5);
    assert_int_equal(raw_int(f->path, "SELECT sum(value) FROM scores"), 15);

    e = (reenter){.s = s, .stop_at = 2};
    assert_int_equal(kv_store_foreach_response(s, run, score_each, &e), 42);
    assert_int_equal(e.seen, 2);
    /* The store is usable after a stopped iteration. */
    OK(s, kv_store_run_set_status(s, run, KV_RUN_COMPLETE));
    free_response(r);
    kv_store_close(s);
}

static void test_sqlite_error_is_a_value(void **state)
{
    fixture *f = *state;
    kv_store *s = open_ok(f->path);
    int64_t run = new_run(s, "h", "{}");
    int64_t q = ensure(s, run, "a", "ko", 0, NULL, NULL);
    raw_exec(f->path, "DROP TABLE scores");
    assert_int_equal(kv_store_score_put(s, q, "chrF", 1, "sig", NULL, "ok"), -1);
    assert_non_null(strstr(kv_store_errmsg(s), "store: score_put: "));
    assert_non_null(strstr(kv_store_errmsg(s), "scores"));
    /* Other operations still work. */
    kv_state_counts c;
    OK(s, kv_store_count(s, run, NULL, &c));
    assert_int_equal(c.pending, 1);
    kv_store_close(s);
}

/* ---- crash safety --------------------------------------------------------- */

#define CRASH_MODEL "openai:m@http://127.0.0.1:1/v1"

static void expected_text(char *out, size_t n, int i)
{
    snprintf(out, n, "답: 항목 %d — answer %d", i, i * 7);
}

/* One pass of a resumable `run`: takes the run of (hash, config) or creates
 * it, ensures n_items requests and answers every pending one. Kills itself
 * right after beginning the attempt of item `die_at` (-1 = never).
 * Only called in a forked child: exits, never returns. */
static void child_run(const char *path, int n_items, int die_at)
{
    kv_store *s;
    char err[512];
    if (kv_store_open(path, &s, err, sizeof err) != 0)
        _exit(10);
    int64_t run = 0;
    if (kv_store_run_find_resumable(s, "suite-hash", "{\"models\":[\"m\"]}", &run) != 0)
        _exit(11);
    if (!run) {
        kv_run_info info = {.suite_path = "s.jsonl",
                            .suite_hash = "suite-hash",
                            .config_json = "{\"models\":[\"m\"]}",
                            .repeat = 1};
        if (kv_store_run_create(s, &info, &run) != 0)
            _exit(12);
    }
    kv_response *r = new_response();
    for (int i = 0; i < n_items; i++) {
        char item[32], prompt[64];
        snprintf(item, sizeof item, "item-%04d", i);
        snprintf(prompt, sizeof prompt, "프롬프트 %d", i);
        int64_t q;
        kv_request_state st;
        if (kv_store_request_ensure(s, run, CRASH_MODEL, item, "ko", 0, prompt, &q, &st, NULL))
            _exit(13);
        if (st != KV_REQ_PENDING)
            continue; /* never re-send a finished request */
        int64_t att;
        if (kv_store_attempt_begin(s, q, 0, &att, NULL) != 0)
            _exit(14);
        if (i == die_at)
            raise(SIGKILL);
        kv_response_reset(r);
        char text[96];
        expected_text(text, sizeof text, i);
        kv_buf_put(&r->text, text, strlen(text));
        snprintf(r->finish_reason, sizeof r->finish_reason, "stop");
        r->http_status = 200;
        r->usage_source = KV_USAGE_SERVER;
        r->prompt_tokens = 10 + i;
        r->completion_tokens = i;
        r->t_first_token = r->t_first_content = ORIGIN + 1000 + i;
        r->t_last_token = ORIGIN + 2000 + i;
        r->n_token_events = 2;
        r->token_event_ns[0] = ORIGIN + 1000 + i;
        r->token_event_ns[1] = ORIGIN + 2000 + i;
        kv_attempt_outcome o = {.http_status = 200, .error = KV_ERR_NONE, .retry_after_ms = -1};
        if (kv_store_attempt_end(s, att, &o) != 0)
            _exit(15);
        kv_engine_times tm = {.origin_ns = ORIGIN, .t_send_ns = ORIGIN + 500 + i};
        if (kv_store_response_put(s, q, r, NULL, &tm) != 0)
            _exit(16);
    }
    if (kv_store_run_set_status(s, run, KV_RUN_COMPLETE) != 0)
        _exit(17);
    kv_store_close(s);
    free_response(r);
    _exit(0);
}

/* Forks child_run and waits; returns the wait status. */
static int fork_child(const char *path, int n_items, int die_at, int kill_after_us)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_run(path, n_items, die_at);
    if (kill_after_us >= 0) {
        struct timespec d = {kill_after_us / 1000000, (long)(kill_after_us % 1000000) * 1000};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

typedef struct check_ctx {
    int n;
    int bad;
} check_ctx;

static int check_answer(const kv_stored_response *row, void *ctx)
{
    check_ctx *c = ctx;
    int i = atoi(row->item_id + 5);
    char want[96];
    expected_text(want, sizeof want, i);
    if (strcmp(row->text, want) != 0 || row->completion_tokens != i ||
        row->prompt_tokens != 10 + i || row->t_send != 500 + i || row->t_first_token != 1000 + i ||
        row->n_token_times != 2 || row->token_event_ns[1] != 2000 + i ||
        strcmp(row->finish_reason, "stop") != 0 || row->state != KV_REQ_ANSWERED ||
        row->attempts < 1) {
        print_message("bad row for %s: '%s'\n", row->item_id, row->text);
        c->bad++;
    }
    c->n++;
    return 0;
}

/* Invariants after any crash: sound file, answered <=> response stored,
 * every stored answer intact. Returns the number of answers. */
static int check_store(const char *path)
{
    /* Opening first: a child killed before its schema commit left none. */
    kv_store *s = open_ok(path);
    char ok[64];
    raw_text(path, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
    assert_int_equal(raw_int(path, "SELECT count(*) FROM requests q WHERE (q.state ="
                                   " 'answered') <> EXISTS (SELECT 1 FROM responses r"
                                   " WHERE r.request_id = q.id)"),
                     0);
    int64_t run = 0;
    OK(s, kv_store_latest_run(s, &run));
    check_ctx c = {0};
    if (run)
        OK(s, kv_store_foreach_response(s, run, check_answer, &c));
    assert_int_equal(c.bad, 0);
    kv_store_close(s);
    return c.n;
}

static void test_crash_after_attempt_begin(void **state)
{
    fixture *f = *state;
    int status = fork_child(f->path, 8, 5, -1);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    assert_int_equal(check_store(f->path), 5); /* items 0..4 answered, intact */
    kv_store *s = open_ok(f->path);
    int64_t run = 0;
    OK(s, kv_store_latest_run(s, &run));
    kv_state_counts c;
    OK(s, kv_store_count(s, run, NULL, &c));
    assert_int_equal(c.answered, 5);
    assert_int_equal(c.pending, 1); /* item 5: in flight, still pending */
    assert_int_equal(c.failed, 0);
    assert_int_equal(c.attempts, 6);
    assert_int_equal(c.unfinished_attempts, 1);
    req_rows rows = {0};
    OK(s, kv_store_foreach_request(s, run, KV_REQ_MASK(KV_REQ_PENDING), collect_request, &rows));
    assert_int_equal(rows.n, 1);
    assert_string_equal(rows.line[0], "item-0005/ko/0/pending/1/-/-");
    kv_stored_run info = {0};
    OK(s, kv_store_run_get(s, run, &info));
    assert_int_equal(info.status, KV_RUN_RUNNING);
    kv_stored_run_free(&info);
    kv_store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM attempts WHERE ended_unix_ms IS NULL"
                                      " AND attempt_no = 1 AND request_id = (SELECT id FROM"
                                      " requests WHERE item_id = 'item-0005')"),
                     1);

    /* Resume: only what is left is sent, the in-flight request once more. */
    status = fork_child(f->path, 8, -1, -1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(check_store(f->path), 8);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM attempts"), 9);
    assert_int_equal(raw_int(f->path, "SELECT attempts FROM requests WHERE item_id = 'item-0005'"),
                     2);
    assert_int_equal(raw_int(f->path, "SELECT max(attempts) FROM requests WHERE item_id <>"
                                      " 'item-0005'"),
                     1);
    char st[32];
    raw_text(f->path, "SELECT status FROM runs", st, sizeof st);
    assert_string_equal(st, "complete");
}

/* kill -9 from outside at arbitrary instants, resuming each time. */
static void test_crash_random_kills(void **state)
{
    fixture *f = *state;
    const int n_items = 400;
    unsigned seed = 12345;
    int kills = 0, last = 0;
    for (int round = 0; round < 40; round++) {
        seed = seed * 1103515245u + 12345u;
        int delay_us = (int)(seed >> 16) % 15000;
        int status = fork_child(f->path, n_items, -1, delay_us);
        if (WIFSIGNALED(status)) {
            assert_int_equal(WTERMSIG(status), SIGKILL);
            kills++;
        } else {
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        int answered = check_store(f->path);
        assert_true(answered >= last); /* nothing committed is ever lost */
        last = answered;
        if (answered == n_items)
            break;
    }
    if (last < n_items) { /* finish, unkilled (a complete run would not resume) */
        int status = fork_child(f->path, n_items, -1, -1);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(check_store(f->path), n_items);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM runs"), 1);
    /* Each kill loses at most the one attempt in flight: no finished request
     * is ever sent again. */
    int64_t attempts = raw_int(f->path, "SELECT count(*) FROM attempts");
    assert_true(attempts >= n_items);
    assert_true(attempts <= n_items + kills);
    /* Every request has exactly one answer and at least one attempt. */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM requests WHERE attempts < 1"), 0);
    print_message("random kills: %d kills, %lld attempts for %d requests\n", kills,
                  (long long)attempts, n_items);
}

/* ---- concurrency (WAL) ---------------------------------------------------- */

typedef struct concurrent {
    kv_store *writer;
    int64_t next_request;
    int seen;
    int wrote;
} concurrent;

static int write_while_reading(const kv_stored_response *row, void *ctx)
{
    concurrent *c = ctx;
    c->seen++;
    if (c->seen == 1) {
        /* Another connection commits while this read is open: no SQLITE_BUSY. */
        kv_response *r = new_response();
        kv_buf_put(&r->text, "late", 4);
        kv_engine_times tm = {.origin_ns = ORIGIN, .t_send_ns = ORIGIN + 1};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        c->wrote = kv_store_response_put(c->writer, c->next_request, r, NULL, &tm) == 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!c->wrote)
            print_message("%s\n", kv_store_errmsg(c->writer));
        /* It did not wait for the reader (busy_timeout is 5 s). */
        assert_true((t1.tv_sec - t0.tv_sec) < 2);
        free_response(r);
    }
    return 0;
}

static void test_concurrent_reader(void **state)
{
    fixture *f = *state;
    kv_store *w = open_ok(f->path);
    kv_store *rd = open_ok(f->path);
    int64_t run = new_run(w, "h", "{}");
    kv_response *r = new_response();
    kv_buf_put(&r->text, "early", 5);
    kv_engine_times tm = {.origin_ns = ORIGIN, .t_send_ns = ORIGIN + 1};
    for (int i = 0; i < 3; i++) {
        char item[8];
        snprintf(item, sizeof item, "e%d", i);
        OK(w, kv_store_response_put(w, ensure(w, run, item, "ko", 0, NULL, NULL), r, NULL, &tm));
    }
    concurrent c = {.writer = w, .next_request = ensure(w, run, "late", "ko", 0, NULL, NULL)};
    OK(rd, kv_store_foreach_response(rd, run, write_while_reading, &c));
    assert_true(c.wrote);
    assert_int_equal(c.seen, 3); /* the reader kept its snapshot */
    kv_state_counts n;
    OK(rd, kv_store_count(rd, run, NULL, &n)); /* a new read sees the commit */
    assert_int_equal(n.answered, 4);

    /* A writer in another process while this one keeps reading. No SQLite
     * connection may cross fork(): close here, reopen in each process. */
    kv_store_close(rd);
    kv_store_close(w);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        kv_store *cw;
        char err[512];
        if (kv_store_open(f->path, &cw, err, sizeof err) != 0)
            _exit(1);
        kv_response *cr = new_response();
        kv_buf_put(&cr->text, "child", 5);
        for (int i = 0; i < 200; i++) {
            char item[16];
            snprintf(item, sizeof item, "c%03d", i);
            int64_t q;
            if (kv_store_request_ensure(cw, run, "m", item, "ko", 0, "p", &q, NULL, NULL) ||
                kv_store_response_put(cw, q, cr, NULL, &tm))
                _exit(2);
        }
        free_response(cr);
        kv_store_close(cw);
        _exit(0);
    }
    rd = open_ok(f->path);
    int64_t prev = 0, reads = 0;
    for (;;) {
        OK(rd, kv_store_count(rd, run, "m", &n));
        assert_true(n.answered >= prev);
        assert_true(n.pending <= 1); /* ensure and put are two commits */
        prev = n.answered;
        reads++;
        int status;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
            break;
        }
    }
    OK(rd, kv_store_count(rd, run, "m", &n));
    assert_int_equal(n.answered, 200);
    print_message("concurrent reader: %lld reads during the writes\n", (long long)reads);
    free_response(r);
    kv_store_close(rd);
    char ok[64];
    raw_text(f->path, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_created_and_reopened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_mode_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_files_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_resumable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_ensure_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempts_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_put_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scores_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_reentrant_and_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_error_is_a_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_attempt_begin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_random_kills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reader, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
