/*
 * store.c — the SQLite journal of `koeval run` (see store.h for the
 * contract). One connection per kv_store; write statements are prepared once
 * and cached; reads (foreach) prepare their own statement so that callbacks
 * may re-enter the store.
 */
#include "src/store.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "src/text.h"

/* "koev" in ASCII: marks the file as a koeval store (PRAGMA application_id). */
#define KV_STORE_APP_ID 0x6b6f6576

/* The schema, version 1. Times: *_unix_ms wall clock; t_* and *_ns CLOCK_MONOTONIC
 * nanoseconds relative to the run's clock origin. NULL = unknown / not seen. */
static const char SCHEMA_V1[] =
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " created_unix_ms INTEGER NOT NULL,"
    " koeval_version TEXT NOT NULL,"
    " suite_path TEXT NOT NULL,"
    " suite_hash TEXT NOT NULL,"
    " config_json TEXT NOT NULL," /* redacted: never a secret */
    " repeat_count INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('running','complete','aborted')));"
    "CREATE INDEX runs_by_suite ON runs (suite_hash);"
    "CREATE TABLE requests ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs (id),"
    " model TEXT NOT NULL,"
    " item_id TEXT NOT NULL,"
    " lang TEXT NOT NULL,"
    " repeat_index INTEGER NOT NULL,"
    " prompt TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending'"
    "  CHECK (state IN ('pending','answered','failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " error_class TEXT,"
    " error_message TEXT,"
    " UNIQUE (run_id, model, item_id, lang, repeat_index));"
    "CREATE TABLE attempts ("
    " id INTEGER PRIMARY KEY,"
    " request_id INTEGER NOT NULL REFERENCES requests (id),"
    " attempt_no INTEGER NOT NULL,"
    " started_unix_ms INTEGER NOT NULL,"
    " ended_unix_ms INTEGER," /* NULL: begun, never ended (killed in flight) */
    " http_status INTEGER,"
    " error_class TEXT,"
    " error_message TEXT,"
    " retry_after_ms INTEGER,"
    " UNIQUE (request_id, attempt_no));"
    "CREATE TABLE responses ("
    " request_id INTEGER PRIMARY KEY REFERENCES requests (id),"
    " text TEXT NOT NULL,"
    " reasoning TEXT NOT NULL,"
    " finish_reason TEXT,"
    " prompt_tokens INTEGER,"
    " completion_tokens INTEGER,"
    " usage_source TEXT NOT NULL CHECK (usage_source IN ('missing','server','estimate')),"
    " server_decode_ns INTEGER,"
    " http_status INTEGER,"
    " invalid_utf8 INTEGER NOT NULL,"
    " t_queue INTEGER, t_send INTEGER, t_headers INTEGER, t_first_event INTEGER,"
    " t_first_token INTEGER, t_first_content INTEGER, t_last_token INTEGER,"
    " t_last_event INTEGER, t_end INTEGER,"
    " ttft_ns INTEGER, ttfc_ns INTEGER, e2e_ns INTEGER, tpot_ns INTEGER,"
    " itl_mean_ns INTEGER, itl_max_ns INTEGER,"
    " n_token_events INTEGER NOT NULL,"
    " token_event_ns BLOB," /* int64 little-endian, origin-relative */
    " stored_unix_ms INTEGER NOT NULL);"
    "CREATE TABLE scores ("
    " request_id INTEGER NOT NULL REFERENCES requests (id),"
    " metric TEXT NOT NULL,"
    " value REAL,"
    " signature TEXT NOT NULL,"
    " extracted TEXT,"
    " status TEXT NOT NULL,"
    " scored_unix_ms INTEGER NOT NULL,"
    " PRIMARY KEY (request_id, metric));";

/* Cached statements, prepared on first use. */
enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_RUN_INSERT,
    ST_RUN_RESUMABLE,
    ST_RUN_STATUS,
    ST_RUN_LATEST,
    ST_RUN_GET,
    ST_REQ_INSERT,
    ST_REQ_GET,
    ST_REQ_BUMP,
    ST_ATT_INSERT,
    ST_ATT_END,
    ST_REQ_FAIL,
    ST_REQ_STATE,
    ST_RESP_PUT,
    ST_REQ_ANSWER,
    ST_SCORE_PUT,
    ST_COUNT,
    ST_COUNT_MODEL,
    ST__N
};

static const char *const SQL[ST__N] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_RUN_INSERT] = "INSERT INTO runs (created_unix_ms, koeval_version, suite_path, suite_hash,"
                      " config_json, repeat_count, status) VALUES (?,?,?,?,?,?,'running')",
    [ST_RUN_RESUMABLE] = "SELECT id FROM runs WHERE suite_hash = ? AND config_json = ?"
                         " AND status <> 'complete' ORDER BY id DESC LIMIT 1",
    [ST_RUN_STATUS] = "UPDATE runs SET status = ? WHERE id = ?",
    [ST_RUN_LATEST] = "SELECT max(id) FROM runs",
    [ST_RUN_GET] = "SELECT id, created_unix_ms, koeval_version, suite_path, suite_hash,"
                   " config_json, repeat_count, status FROM runs WHERE id = ?",
    [ST_REQ_INSERT] = "INSERT INTO requests (run_id, model, item_id, lang, repeat_index, prompt)"
                      " VALUES (?,?,?,?,?,?)"
                      " ON CONFLICT (run_id, model, item_id, lang, repeat_index) DO NOTHING",
    [ST_REQ_GET] = "SELECT id, state, attempts, prompt FROM requests WHERE run_id = ?"
                   " AND model = ? AND item_id = ? AND lang = ? AND repeat_index = ?",
    [ST_REQ_BUMP] = "UPDATE requests SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
    [ST_ATT_INSERT] = "INSERT INTO attempts (request_id, attempt_no, started_unix_ms)"
                      " VALUES (?,?,?)",
    [ST_ATT_END] = "UPDATE attempts SET ended_unix_ms = ?, http_status = ?, error_class = ?,"
                   " error_message = ?, retry_after_ms = ? WHERE id = ?",
    [ST_REQ_FAIL] = "UPDATE requests SET state = 'failed', error_class = ?, error_message = ?"
                    " WHERE id = ? AND state <> 'answered'",
    [ST_REQ_STATE] = "SELECT state FROM requests WHERE id = ?",
    [ST_RESP_PUT] =
        "INSERT OR REPLACE INTO responses (request_id, text, reasoning, finish_reason,"
        " prompt_tokens, completion_tokens, usage_source, server_decode_ns, http_status,"
        " invalid_utf8, t_queue, t_send, t_headers, t_first_event, t_first_token,"
        " t_first_content, t_last_token, t_last_event, t_end, ttft_ns, ttfc_ns, e2e_ns,"
        " tpot_ns, itl_mean_ns, itl_max_ns, n_token_events, token_event_ns, stored_unix_ms)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_REQ_ANSWER] = "UPDATE requests SET state = 'answered', error_class = NULL,"
                      " error_message = NULL WHERE id = ?",
    [ST_SCORE_PUT] = "INSERT OR REPLACE INTO scores (request_id, metric, value, signature,"
                     " extracted, status, scored_unix_ms) VALUES (?,?,?,?,?,?,?)",
    [ST_COUNT] = "SELECT state, count(*), sum(attempts) FROM requests WHERE run_id = ?1"
                 " GROUP BY state",
    [ST_COUNT_MODEL] = "SELECT state, count(*), sum(attempts) FROM requests WHERE run_id = ?1"
                       " AND model = ?2 GROUP BY state",
};

struct kv_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST__N];
    char err[512];
    kv_buf text;      /* sanitized response text */
    kv_buf reasoning; /* sanitized reasoning text */
    kv_buf msg;       /* sanitized error messages */
    kv_buf blob;      /* token event times */
};

const char *kv_request_state_name(kv_request_state st)
{
    switch (st) {
    case KV_REQ_PENDING:
        return "pending";
    case KV_REQ_ANSWERED:
        return "answered";
    case KV_REQ_FAILED:
        return "failed";
    }
    return "pending";
}

static kv_request_state parse_state(const unsigned char *name)
{
    if (name && strcmp((const char *)name, "answered") == 0)
        return KV_REQ_ANSWERED;
    if (name && strcmp((const char *)name, "failed") == 0)
        return KV_REQ_FAILED;
    return KV_REQ_PENDING;
}

const char *kv_run_status_name(kv_run_status st)
{
    switch (st) {
    case KV_RUN_RUNNING:
        return "running";
    case KV_RUN_COMPLETE:
        return "complete";
    case KV_RUN_ABORTED:
        return "aborted";
    }
    return "running";
}

static kv_run_status parse_status(const unsigned char *name)
{
    if (name && strcmp((const char *)name, "complete") == 0)
        return KV_RUN_COMPLETE;
    if (name && strcmp((const char *)name, "aborted") == 0)
        return KV_RUN_ABORTED;
    return KV_RUN_RUNNING;
}

static const char *usage_name(kv_usage_source u)
{
    switch (u) {
    case KV_USAGE_MISSING:
        return "missing";
    case KV_USAGE_SERVER:
        return "server";
    case KV_USAGE_ESTIMATE:
        return "estimate";
    }
    return "missing";
}

static kv_usage_source parse_usage(const unsigned char *name)
{
    if (name && strcmp((const char *)name, "server") == 0)
        return KV_USAGE_SERVER;
    if (name && strcmp((const char *)name, "estimate") == 0)
        return KV_USAGE_ESTIMATE;
    return KV_USAGE_MISSING;
}

static int64_t now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *kv_store_errmsg(const kv_store *s)
{
    return s ? s->err : "store: no store";
}

static int fail_msg(kv_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail_msg(kv_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Records the connection's current error for operation `op`. */
static int fail_db(kv_store *s, const char *op)
{
    return fail_msg(s, "store: %s: %s", op, sqlite3_errmsg(s->db));
}

/* The cached statement `id`, reset and with its bindings cleared; NULL (and
 * s->err set) when it cannot be prepared. */
static sqlite3_stmt *stmt(kv_store *s, int id, const char *op)
{
    if (!s->st[id]) {
        if (sqlite3_prepare_v3(s->db, SQL[id], -1, SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL) !=
            SQLITE_OK) {
            fail_db(s, op);
            s->st[id] = NULL;
            return NULL;
        }
    } else {
        sqlite3_reset(s->st[id]);
        sqlite3_clear_bindings(s->st[id]);
    }
    return s->st[id];
}

/* Steps a statement that returns no row (or whose rows are ignored) to its
 * end, then resets it so that it holds no lock. */
static int run_done(kv_store *s, sqlite3_stmt *st, const char *op)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        fail_db(s, op);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

static int exec_cached(kv_store *s, int id, const char *op)
{
    sqlite3_stmt *st = stmt(s, id, op);
    return st ? run_done(s, st, op) : -1;
}

static int tx_begin(kv_store *s, const char *op)
{
    return exec_cached(s, ST_BEGIN, op);
}

static int tx_commit(kv_store *s, const char *op)
{
    if (exec_cached(s, ST_COMMIT, op) == 0)
        return 0;
    /* Keep the commit's message: the rollback must not overwrite it. */
    char saved[sizeof s->err];
    memcpy(saved, s->err, sizeof saved);
    if (!sqlite3_get_autocommit(s->db))
        exec_cached(s, ST_ROLLBACK, op);
    memcpy(s->err, saved, sizeof saved);
    return -1;
}

/* Rolls back after a failure inside a transaction, keeping s->err. */
static int tx_abort(kv_store *s, const char *op)
{
    char saved[sizeof s->err];
    memcpy(saved, s->err, sizeof saved);
    if (!sqlite3_get_autocommit(s->db))
        exec_cached(s, ST_ROLLBACK, op);
    memcpy(s->err, saved, sizeof saved);
    return -1;
}

/* Binding helpers: text borrowed for the statement's step (SQLITE_STATIC),
 * NULL binds SQL NULL. */
static int bind_text(sqlite3_stmt *st, int i, const char *t)
{
    return t ? sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_text_n(sqlite3_stmt *st, int i, const char *t, size_t n)
{
    return sqlite3_bind_text64(st, i, t ? t : "", t ? n : 0, SQLITE_STATIC, SQLITE_UTF8);
}

/* Binds v, or NULL when v == null_value. */
static int bind_i64_or_null(sqlite3_stmt *st, int i, int64_t v, int64_t null_value)
{
    return v == null_value ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

/* Binds t - origin, or NULL when t == 0 (not seen). */
static int bind_time(sqlite3_stmt *st, int i, int64_t t, int64_t origin)
{
    return t ? sqlite3_bind_int64(st, i, t - origin) : sqlite3_bind_null(st, i);
}

static int64_t col_i64(sqlite3_stmt *st, int i, int64_t null_value)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? null_value : sqlite3_column_int64(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Copies s[0..n) into out as valid UTF-8; returns the replacements made. */
static size_t sanitize(kv_buf *out, const char *t, size_t n)
{
    kv_buf_clear(out);
    kv_buf_reserve(out, n);
    return t ? kv_utf8_sanitize(t, n, out) : 0;
}

/* ---- open / close --------------------------------------------------------- */

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Sets up a freshly opened connection: pragmas, then the schema when the
 * file has none. Leaves a message in s->err on failure. */
static int store_init(kv_store *s, const char *path)
{
    sqlite3 *db = s->db;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);

    /* The first read of the file: a non-SQLite file fails here. */
    int version = 0, app_id = 0, n_tables = 0;
    if (pragma_int(db, "PRAGMA user_version", &version) != 0 ||
        pragma_int(db, "PRAGMA application_id", &app_id) != 0)
        return fail_msg(s, "store: cannot open %s: %s", path, sqlite3_errmsg(db));
    if (version > KV_STORE_SCHEMA_VERSION)
        return fail_msg(s,
                        "store: %s has schema version %d, newer than this koeval (%s) "
                        "supports (%d); use a newer koeval",
                        path, version, KOEVAL_VERSION, KV_STORE_SCHEMA_VERSION);

    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return fail_msg(s, "store: %s: journal_mode: %s", path, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    char mode[16] = "";
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return fail_msg(s, "store: %s: journal_mode: %s", path, sqlite3_errmsg(db));
    if (strcmp(mode, "wal") != 0)
        return fail_msg(s,
                        "store: %s: cannot use WAL journal mode (got '%s'); is it on a "
                        "network file system?",
                        path, mode);

    char *emsg = NULL;
    if (sqlite3_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", NULL, NULL, &emsg) !=
        SQLITE_OK) {
        fail_msg(s, "store: %s: pragmas: %s", path, emsg ? emsg : sqlite3_errmsg(db));
        sqlite3_free(emsg);
        return -1;
    }

    if (version == KV_STORE_SCHEMA_VERSION) {
        if (app_id != KV_STORE_APP_ID)
            return fail_msg(s, "store: %s is a SQLite database but not a koeval store", path);
        return 0;
    }

    /* Version 0: a new file, or another program's database. Create the
     * schema in one transaction, re-checking inside it in case another
     * process created it meanwhile. */
    if (tx_begin(s, "create schema") != 0)
        return fail_msg(s, "store: %s: create schema: %s", path, sqlite3_errmsg(db));
    if (pragma_int(db, "PRAGMA user_version", &version) != 0 ||
        pragma_int(db, "SELECT count(*) FROM sqlite_schema", &n_tables) != 0) {
        fail_msg(s, "store: %s: create schema: %s", path, sqlite3_errmsg(db));
        return tx_abort(s, "create schema");
    }
    if (version == 0 && n_tables > 0) {
        fail_msg(s, "store: %s is a SQLite database but not a koeval store", path);
        return tx_abort(s, "create schema");
    }
    if (version == 0) {
        char setv[96];
        snprintf(setv, sizeof setv, "PRAGMA user_version=%d; PRAGMA application_id=%d",
                 KV_STORE_SCHEMA_VERSION, KV_STORE_APP_ID);
        if (sqlite3_exec(db, SCHEMA_V1, NULL, NULL, &emsg) != SQLITE_OK ||
            sqlite3_exec(db, setv, NULL, NULL, &emsg) != SQLITE_OK) {
            fail_msg(s, "store: %s: create schema: %s", path, emsg ? emsg : sqlite3_errmsg(db));
            sqlite3_free(emsg);
            return tx_abort(s, "create schema");
        }
    }
    if (tx_commit(s, "create schema") != 0)
        return -1;
    return 0;
}

int kv_store_open(const char *path, kv_store **out, char *err, size_t errlen)
{
    *out = NULL;
    kv_store *s = kv_xcalloc(1, sizeof *s);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "store: cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        kv_store_close(s);
        return -1;
    }
    if (store_init(s, path) != 0) {
        snprintf(err, errlen, "%s", s->err);
        kv_store_close(s);
        return -1;
    }
    s->err[0] = '\0';
    *out = s;
    return 0;
}

void kv_store_close(kv_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST__N; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    kv_buf_free(&s->text);
    kv_buf_free(&s->reasoning);
    kv_buf_free(&s->msg);
    kv_buf_free(&s->blob);
    free(s);
}

/* ---- runs ----------------------------------------------------------------- */

int kv_store_run_create(kv_store *s, const kv_run_info *info, int64_t *run_id)
{
    const char *op = "run_create";
    if (!info->suite_path || !info->suite_hash || !info->config_json || info->repeat < 1)
        return fail_msg(s, "store: %s: suite path, suite hash, config and repeat >= 1 are required",
                        op);
    sqlite3_stmt *st = stmt(s, ST_RUN_INSERT, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, info->created_unix_ms ? info->created_unix_ms : now_unix_ms());
    bind_text(st, 2, info->koeval_version ? info->koeval_version : KOEVAL_VERSION);
    bind_text(st, 3, info->suite_path);
    bind_text(st, 4, info->suite_hash);
    bind_text(st, 5, info->config_json);
    sqlite3_bind_int(st, 6, info->repeat);
    if (run_done(s, st, op) != 0)
        return -1;
    *run_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

/* Steps st for at most one row holding an integer id in column 0; *id = 0
 * when there is no row or the value is NULL. */
static int query_id(kv_store *s, sqlite3_stmt *st, const char *op, int64_t *id)
{
    int rc = sqlite3_step(st);
    *id = 0;
    if (rc == SQLITE_ROW)
        *id = col_i64(st, 0, 0);
    else if (rc != SQLITE_DONE) {
        fail_db(s, op);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

int kv_store_run_find_resumable(kv_store *s, const char *suite_hash, const char *config_json,
                                int64_t *run_id)
{
    sqlite3_stmt *st = stmt(s, ST_RUN_RESUMABLE, "run_find_resumable");
    if (!st)
        return -1;
    bind_text(st, 1, suite_hash);
    bind_text(st, 2, config_json);
    return query_id(s, st, "run_find_resumable", run_id);
}

int kv_store_latest_run(kv_store *s, int64_t *run_id)
{
    sqlite3_stmt *st = stmt(s, ST_RUN_LATEST, "latest_run");
    return st ? query_id(s, st, "latest_run", run_id) : -1;
}

int kv_store_run_set_status(kv_store *s, int64_t run_id, kv_run_status status)
{
    const char *op = "run_set_status";
    sqlite3_stmt *st = stmt(s, ST_RUN_STATUS, op);
    if (!st)
        return -1;
    bind_text(st, 1, kv_run_status_name(status));
    sqlite3_bind_int64(st, 2, run_id);
    if (run_done(s, st, op) != 0)
        return -1;
    if (sqlite3_changes(s->db) != 1)
        return fail_msg(s, "store: %s: no run %lld", op, (long long)run_id);
    return 0;
}

static void col_to_buf(sqlite3_stmt *st, int i, kv_buf *b)
{
    const char *t = col_text(st, i);
    kv_buf_clear(b);
    kv_buf_put(b, t ? t : "", t ? (size_t)sqlite3_column_bytes(st, i) : 0);
}

int kv_store_run_get(kv_store *s, int64_t run_id, kv_stored_run *out)
{
    const char *op = "run_get";
    sqlite3_stmt *st = stmt(s, ST_RUN_GET, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return fail_msg(s, "store: %s: no run %lld", op, (long long)run_id);
    }
    if (rc != SQLITE_ROW) {
        fail_db(s, op);
        sqlite3_reset(st);
        return -1;
    }
    out->id = sqlite3_column_int64(st, 0);
    out->created_unix_ms = sqlite3_column_int64(st, 1);
    col_to_buf(st, 2, &out->koeval_version);
    col_to_buf(st, 3, &out->suite_path);
    col_to_buf(st, 4, &out->suite_hash);
    col_to_buf(st, 5, &out->config_json);
    out->repeat = sqlite3_column_int(st, 6);
    out->status = parse_status(sqlite3_column_text(st, 7));
    sqlite3_reset(st);
    return 0;
}

void kv_stored_run_free(kv_stored_run *r)
{
    kv_buf_free(&r->koeval_version);
    kv_buf_free(&r->suite_path);
    kv_buf_free(&r->suite_hash);
    kv_buf_free(&r->config_json);
}

/* ---- requests and attempts ------------------------------------------------ */

int kv_store_request_ensure(kv_store *s, int64_t run_id, const char *model, const char *item_id,
                            const char *lang, int repeat, const char *prompt, int64_t *request_id,
                            kv_request_state *state, int *attempts)
{
    const char *op = "request_ensure";
    if (!model || !item_id || !lang || !prompt || repeat < 0)
        return fail_msg(s, "store: %s: model, item, lang, prompt and repeat >= 0 are required", op);
    sqlite3_stmt *st = stmt(s, ST_REQ_INSERT, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    bind_text(st, 2, model);
    bind_text(st, 3, item_id);
    bind_text(st, 4, lang);
    sqlite3_bind_int(st, 5, repeat);
    bind_text(st, 6, prompt);
    if (run_done(s, st, op) != 0)
        return -1;

    st = stmt(s, ST_REQ_GET, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    bind_text(st, 2, model);
    bind_text(st, 3, item_id);
    bind_text(st, 4, lang);
    sqlite3_bind_int(st, 5, repeat);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            fail_msg(s, "store: %s: request vanished after insert", op);
        else
            fail_db(s, op);
        sqlite3_reset(st);
        return -1;
    }
    const char *stored = col_text(st, 3);
    if (!stored || strcmp(stored, prompt) != 0) {
        sqlite3_reset(st);
        return fail_msg(s,
                        "store: %s: %s %s/%s repeat %d is stored with a different prompt "
                        "(the suite changed under this run)",
                        op, model, item_id, lang, repeat);
    }
    *request_id = sqlite3_column_int64(st, 0);
    if (state)
        *state = parse_state(sqlite3_column_text(st, 1));
    if (attempts)
        *attempts = sqlite3_column_int(st, 2);
    sqlite3_reset(st);
    return 0;
}

int kv_store_attempt_begin(kv_store *s, int64_t request_id, int64_t started_unix_ms,
                           int64_t *attempt_id, int *attempt_no)
{
    const char *op = "attempt_begin";
    if (tx_begin(s, op) != 0)
        return -1;
    sqlite3_stmt *st = stmt(s, ST_REQ_BUMP, op);
    if (!st)
        return tx_abort(s, op);
    sqlite3_bind_int64(st, 1, request_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            fail_msg(s, "store: %s: no request %lld", op, (long long)request_id);
        else
            fail_db(s, op);
        sqlite3_reset(st);
        return tx_abort(s, op);
    }
    int no = sqlite3_column_int(st, 0);
    if (run_done(s, st, op) != 0)
        return tx_abort(s, op);

    st = stmt(s, ST_ATT_INSERT, op);
    if (!st)
        return tx_abort(s, op);
    sqlite3_bind_int64(st, 1, request_id);
    sqlite3_bind_int(st, 2, no);
    sqlite3_bind_int64(st, 3, started_unix_ms ? started_unix_ms : now_unix_ms());
    if (run_done(s, st, op) != 0)
        return tx_abort(s, op);
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (tx_commit(s, op) != 0)
        return -1;
    *attempt_id = id;
    if (attempt_no)
        *attempt_no = no;
    return 0;
}

int kv_store_attempt_end(kv_store *s, int64_t attempt_id, const kv_attempt_outcome *o)
{
    const char *op = "attempt_end";
    sqlite3_stmt *st = stmt(s, ST_ATT_END, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, o->ended_unix_ms ? o->ended_unix_ms : now_unix_ms());
    bind_i64_or_null(st, 2, o->http_status, 0);
    bind_text(st, 3, kv_error_class_name(o->error));
    if (o->error_message && o->error_message[0]) {
        sanitize(&s->msg, o->error_message, strlen(o->error_message));
        bind_text_n(st, 4, s->msg.p, s->msg.len);
    }
    bind_i64_or_null(st, 5, o->retry_after_ms < 0 ? -1 : o->retry_after_ms, -1);
    sqlite3_bind_int64(st, 6, attempt_id);
    if (run_done(s, st, op) != 0)
        return -1;
    if (sqlite3_changes(s->db) != 1)
        return fail_msg(s, "store: %s: no attempt %lld", op, (long long)attempt_id);
    return 0;
}

int kv_store_request_fail(kv_store *s, int64_t request_id, kv_error_class error,
                          const char *message)
{
    const char *op = "request_fail";
    sqlite3_stmt *st = stmt(s, ST_REQ_FAIL, op);
    if (!st)
        return -1;
    bind_text(st, 1, kv_error_class_name(error));
    if (message && message[0]) {
        sanitize(&s->msg, message, strlen(message));
        bind_text_n(st, 2, s->msg.p, s->msg.len);
    }
    sqlite3_bind_int64(st, 3, request_id);
    if (run_done(s, st, op) != 0)
        return -1;
    if (sqlite3_changes(s->db) == 1)
        return 0;

    st = stmt(s, ST_REQ_STATE, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, request_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return fail_msg(s, "store: %s: request %lld is already answered", op,
                        (long long)request_id);
    return fail_msg(s, "store: %s: no request %lld", op, (long long)request_id);
}

/* ---- responses ------------------------------------------------------------ */

/* Packs the token event times as little-endian int64, origin-relative, so
 * that the file reads the same on any machine. */
static void pack_times(kv_buf *b, const int64_t *t, size_t n, int64_t origin)
{
    kv_buf_clear(b);
    kv_buf_reserve(b, n * 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)(t[i] - origin);
        for (int k = 0; k < 8; k++)
            b->p[b->len++] = (char)(v >> (8 * k) & 0xff);
    }
}

int kv_store_response_put(kv_store *s, int64_t request_id, const kv_response *r, const kv_timing *t,
                          const kv_engine_times *tm)
{
    const char *op = "response_put";
    if (r->error != KV_ERR_NONE)
        return fail_msg(s,
                        "store: %s: request %lld: the response failed (%s); record failures "
                        "with attempt_end or request_fail",
                        op, (long long)request_id, kv_error_class_name(r->error));
    if (tm->t_send_ns <= 0)
        return fail_msg(s, "store: %s: request %lld: t_send is required", op,
                        (long long)request_id);

    kv_timing computed;
    if (!t) {
        kv_timing_compute(r, tm->t_send_ns, &computed);
        t = &computed;
    }
    size_t bad = sanitize(&s->text, r->text.p, r->text.len);
    bad += sanitize(&s->reasoning, r->reasoning.p, r->reasoning.len);
    size_t n_times =
        r->n_token_events < KV_MAX_TOKEN_EVENTS ? r->n_token_events : KV_MAX_TOKEN_EVENTS;
    pack_times(&s->blob, r->token_event_ns, n_times, tm->origin_ns);
    bool usage_known = r->usage_source != KV_USAGE_MISSING;
    int64_t o = tm->origin_ns;

    if (tx_begin(s, op) != 0)
        return -1;
    sqlite3_stmt *st = stmt(s, ST_RESP_PUT, op);
    if (!st)
        return tx_abort(s, op);
    int i = 1;
    sqlite3_bind_int64(st, i++, request_id);
    bind_text_n(st, i++, s->text.p, s->text.len);
    bind_text_n(st, i++, s->reasoning.p, s->reasoning.len);
    bind_text(st, i++, r->finish_reason[0] ? r->finish_reason : NULL);
    bind_i64_or_null(st, i++, usage_known && r->prompt_tokens >= 0 ? r->prompt_tokens : -1, -1);
    bind_i64_or_null(st, i++, usage_known && r->completion_tokens >= 0 ? r->completion_tokens : -1,
                     -1);
    bind_text(st, i++, usage_name(r->usage_source));
    bind_i64_or_null(st, i++, r->server_decode_ns > 0 ? r->server_decode_ns : -1, -1);
    bind_i64_or_null(st, i++, r->http_status, 0);
    sqlite3_bind_int(st, i++, r->invalid_utf8 || bad > 0);
    bind_time(st, i++, tm->t_queue_ns, o);
    bind_time(st, i++, tm->t_send_ns, o);
    bind_time(st, i++, tm->t_headers_ns, o);
    bind_time(st, i++, r->t_first_event, o);
    bind_time(st, i++, r->t_first_token, o);
    bind_time(st, i++, r->t_first_content, o);
    bind_time(st, i++, r->t_last_token, o);
    bind_time(st, i++, r->t_last_event, o);
    bind_time(st, i++, tm->t_end_ns, o);
    bind_i64_or_null(st, i++, t->ttft_ns < 0 ? -1 : t->ttft_ns, -1);
    bind_i64_or_null(st, i++, t->ttfc_ns < 0 ? -1 : t->ttfc_ns, -1);
    bind_i64_or_null(st, i++, t->e2e_ns < 0 ? -1 : t->e2e_ns, -1);
    bind_i64_or_null(st, i++, t->tpot_ns < 0 ? -1 : t->tpot_ns, -1);
    bind_i64_or_null(st, i++, t->itl_mean_ns < 0 ? -1 : t->itl_mean_ns, -1);
    bind_i64_or_null(st, i++, t->itl_max_ns < 0 ? -1 : t->itl_max_ns, -1);
    sqlite3_bind_int64(st, i++, (int64_t)r->n_token_events);
    if (n_times)
        sqlite3_bind_blob64(st, i, s->blob.p, s->blob.len, SQLITE_STATIC);
    i++;
    sqlite3_bind_int64(st, i++, now_unix_ms());
    if (run_done(s, st, op) != 0)
        return tx_abort(s, op);

    st = stmt(s, ST_REQ_ANSWER, op);
    if (!st)
        return tx_abort(s, op);
    sqlite3_bind_int64(st, 1, request_id);
    if (run_done(s, st, op) != 0)
        return tx_abort(s, op);
    if (sqlite3_changes(s->db) != 1) {
        fail_msg(s, "store: %s: no request %lld", op, (long long)request_id);
        return tx_abort(s, op);
    }
    return tx_commit(s, op);
}

/* ---- scores --------------------------------------------------------------- */

int kv_store_score_put(kv_store *s, int64_t request_id, const char *metric, double value,
                       const char *signature, const char *extracted, const char *status)
{
    const char *op = "score_put";
    if (!metric || !signature || !status)
        return fail_msg(s, "store: %s: metric, signature and status are required", op);
    sqlite3_stmt *st = stmt(s, ST_SCORE_PUT, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, request_id);
    bind_text(st, 2, metric);
    if (isnan(value))
        sqlite3_bind_null(st, 3);
    else
        sqlite3_bind_double(st, 3, value);
    bind_text(st, 4, signature);
    if (extracted) {
        sanitize(&s->msg, extracted, strlen(extracted));
        bind_text_n(st, 5, s->msg.p, s->msg.len);
    }
    bind_text(st, 6, status);
    sqlite3_bind_int64(st, 7, now_unix_ms());
    return run_done(s, st, op);
}

/* ---- reading -------------------------------------------------------------- */

/* Runs a read query with its own statement (so that callbacks may re-enter
 * the store), calling row(st, ...) for each row. The statement is stepped
 * inside one read transaction: one snapshot. */
static sqlite3_stmt *prepare_read(kv_store *s, const char *sql, const char *op)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fail_db(s, op);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Finishes an iteration: rc is the last sqlite3_step result or the
 * callback's stop value (stopped = true). */
static int end_read(kv_store *s, sqlite3_stmt *st, int rc, bool stopped, const char *op)
{
    int ret = 0;
    if (stopped)
        ret = rc;
    else if (rc != SQLITE_DONE)
        ret = fail_db(s, op);
    sqlite3_finalize(st);
    return ret;
}

static const char RESPONSE_SQL[] =
    "SELECT q.id, q.run_id, q.model, q.item_id, q.lang, q.repeat_index, q.prompt, q.state,"
    " q.attempts, r.text, r.reasoning, r.finish_reason, r.prompt_tokens, r.completion_tokens,"
    " r.usage_source, r.http_status, r.invalid_utf8, r.server_decode_ns, r.t_queue, r.t_send,"
    " r.t_headers, r.t_first_event, r.t_first_token, r.t_first_content, r.t_last_token,"
    " r.t_last_event, r.t_end, r.ttft_ns, r.ttfc_ns, r.e2e_ns, r.tpot_ns, r.itl_mean_ns,"
    " r.itl_max_ns, r.n_token_events, r.token_event_ns"
    " FROM requests q JOIN responses r ON r.request_id = q.id"
    " WHERE q.run_id = ? AND q.state = 'answered' ORDER BY q.id";

int kv_store_foreach_response(kv_store *s, int64_t run_id, kv_response_cb cb, void *ctx)
{
    const char *op = "foreach_response";
    sqlite3_stmt *st = prepare_read(s, RESPONSE_SQL, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int64_t *times = NULL;
    size_t times_cap = 0;
    int rc;
    bool stopped = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kv_stored_response row = {0};
        int i = 0;
        row.request_id = sqlite3_column_int64(st, i++);
        row.run_id = sqlite3_column_int64(st, i++);
        row.model = col_text(st, i++);
        row.item_id = col_text(st, i++);
        row.lang = col_text(st, i++);
        row.repeat = sqlite3_column_int(st, i++);
        row.prompt = col_text(st, i++);
        row.state = parse_state(sqlite3_column_text(st, i++));
        row.attempts = sqlite3_column_int(st, i++);
        row.text = col_text(st, i);
        row.text_len = (size_t)sqlite3_column_bytes(st, i++);
        row.reasoning = col_text(st, i);
        row.reasoning_len = (size_t)sqlite3_column_bytes(st, i++);
        row.finish_reason = col_text(st, i++);
        if (!row.finish_reason)
            row.finish_reason = "";
        row.prompt_tokens = col_i64(st, i++, -1);
        row.completion_tokens = col_i64(st, i++, -1);
        row.usage_source = parse_usage(sqlite3_column_text(st, i++));
        row.http_status = (int)col_i64(st, i++, 0);
        row.invalid_utf8 = sqlite3_column_int(st, i++) != 0;
        row.server_decode_ns = col_i64(st, i++, -1);
        int64_t *tf[] = {&row.t_queue,       &row.t_send,        &row.t_headers,
                         &row.t_first_event, &row.t_first_token, &row.t_first_content,
                         &row.t_last_token,  &row.t_last_event,  &row.t_end,
                         &row.ttft_ns,       &row.ttfc_ns,       &row.e2e_ns,
                         &row.tpot_ns,       &row.itl_mean_ns,   &row.itl_max_ns};
        for (size_t k = 0; k < sizeof tf / sizeof tf[0]; k++)
            *tf[k] = col_i64(st, i++, -1);
        row.n_token_events = (size_t)sqlite3_column_int64(st, i++);
        const unsigned char *blob = sqlite3_column_blob(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i++) / 8;
        if (n > times_cap) {
            times = kv_xrealloc(times, n * sizeof *times);
            times_cap = n;
        }
        for (size_t k = 0; k < n; k++) {
            uint64_t v = 0;
            for (int b = 0; b < 8; b++)
                v |= (uint64_t)blob[8 * k + (size_t)b] << (8 * b);
            times[k] = (int64_t)v;
        }
        row.token_event_ns = times;
        row.n_token_times = n;
        if (!row.text)
            row.text = "";
        if (!row.reasoning)
            row.reasoning = "";
        int ret = cb(&row, ctx);
        if (ret != 0) {
            rc = ret;
            stopped = true;
            break;
        }
    }
    free(times);
    return end_read(s, st, rc, stopped, op);
}

int kv_store_foreach_request(kv_store *s, int64_t run_id, unsigned state_mask, kv_request_cb cb,
                             void *ctx)
{
    const char *op = "foreach_request";
    sqlite3_stmt *st = prepare_read(s,
                                    "SELECT id, run_id, model, item_id, lang, repeat_index,"
                                    " prompt, state, attempts, error_class, error_message"
                                    " FROM requests WHERE run_id = ? ORDER BY id",
                                    op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int rc;
    bool stopped = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kv_stored_request row = {
            .request_id = sqlite3_column_int64(st, 0),
            .run_id = sqlite3_column_int64(st, 1),
            .model = col_text(st, 2),
            .item_id = col_text(st, 3),
            .lang = col_text(st, 4),
            .repeat = sqlite3_column_int(st, 5),
            .prompt = col_text(st, 6),
            .state = parse_state(sqlite3_column_text(st, 7)),
            .attempts = sqlite3_column_int(st, 8),
            .error_class = col_text(st, 9),
            .error_message = col_text(st, 10),
        };
        if (!(state_mask & KV_REQ_MASK(row.state)))
            continue;
        int ret = cb(&row, ctx);
        if (ret != 0) {
            rc = ret;
            stopped = true;
            break;
        }
    }
    return end_read(s, st, rc, stopped, op);
}

int kv_store_foreach_score(kv_store *s, int64_t run_id, kv_score_cb cb, void *ctx)
{
    const char *op = "foreach_score";
    sqlite3_stmt *st =
        prepare_read(s,
                     "SELECT q.id, q.model, q.item_id, q.lang, q.repeat_index, c.metric, c.value,"
                     " c.signature, c.extracted, c.status FROM scores c"
                     " JOIN requests q ON q.id = c.request_id WHERE q.run_id = ?"
                     " ORDER BY q.id, c.metric",
                     op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int rc;
    bool stopped = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kv_stored_score row = {
            .request_id = sqlite3_column_int64(st, 0),
            .model = col_text(st, 1),
            .item_id = col_text(st, 2),
            .lang = col_text(st, 3),
            .repeat = sqlite3_column_int(st, 4),
            .metric = col_text(st, 5),
            .value = sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6),
            .signature = col_text(st, 7),
            .extracted = col_text(st, 8),
            .status = col_text(st, 9),
        };
        int ret = cb(&row, ctx);
        if (ret != 0) {
            rc = ret;
            stopped = true;
            break;
        }
    }
    return end_read(s, st, rc, stopped, op);
}

int kv_store_count(kv_store *s, int64_t run_id, const char *model, kv_state_counts *out)
{
    const char *op = "count";
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = stmt(s, model ? ST_COUNT_MODEL : ST_COUNT, op);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if (model)
        bind_text(st, 2, model);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 1);
        switch (parse_state(sqlite3_column_text(st, 0))) {
        case KV_REQ_PENDING:
            out->pending += n;
            break;
        case KV_REQ_ANSWERED:
            out->answered += n;
            break;
        case KV_REQ_FAILED:
            out->failed += n;
            break;
        }
        out->attempts += sqlite3_column_int64(st, 2);
    }
    if (rc != SQLITE_DONE) {
        fail_db(s, op);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);

    /* Attempts begun and never ended: killed in flight (or in flight now). */
    sqlite3_stmt *u = prepare_read(s,
                                   "SELECT count(*) FROM attempts a JOIN requests q"
                                   " ON q.id = a.request_id WHERE q.run_id = ?1"
                                   " AND (?2 IS NULL OR q.model = ?2) AND a.ended_unix_ms IS NULL",
                                   op);
    if (!u)
        return -1;
    sqlite3_bind_int64(u, 1, run_id);
    bind_text(u, 2, model);
    rc = sqlite3_step(u);
    if (rc == SQLITE_ROW)
        out->unfinished_attempts = sqlite3_column_int64(u, 0);
    return end_read(s, u, rc == SQLITE_ROW ? SQLITE_DONE : rc, false, op);
}
