/*
 * koeval run — the main job: every item of a suite, in every language, to
 * every model; each answer stored with its timings as it arrives, scored,
 * and the per-language table printed. A run killed at any moment continues
 * with --resume: answered requests are never sent again.
 *
 * koeval report — re-prints a stored run.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "src/cli/cli.h"
#include "src/engine.h"
#include "src/evaluate.h"
#include "src/report.h"
#include "src/store.h"
#include "src/suite.h"
#include "src/text.h"

#define MAX_MODELS 32
#define MAX_SYSTEM 32

typedef struct run_args {
    const char *suite;
    const char *manifest;
    const char *specs[MAX_MODELS];
    int n_specs;
    const char *models_config;
    const char *db;
    int repeat;
    int concurrency;
    double rpm, tpm;
    double temperature;
    int max_tokens;
    bool resume;
    const char *langs;
    long limit;
    kv_report_format format;
    kv_report_lang report_lang;
    kv_choice_policy policy;
    const char *html;
    bool quiet;
    kv_engine_opts engine;
} run_args;

typedef struct model_conf {
    kv_model_spec spec;
    kv_model_limits limits;
    const char *key; /* from the environment; never copied anywhere else */
    /* per-language system prompts from --models-config, overriding the suite's */
    char system_lang[MAX_SYSTEM][16];
    char *system[MAX_SYSTEM];
    int n_system;
} model_conf;

/* The system prompt for a model and language: the model's own, else the
 * suite's, else none. */
static const char *system_prompt(const model_conf *m, const kv_suite *s, const char *lang)
{
    for (int i = 0; i < m->n_system; i++)
        if (!strcmp(m->system_lang[i], lang))
            return m->system[i];
    return kv_suite_system_prompt(s, lang);
}

static void run_usage(FILE *out)
{
    fputs(
        "usage: koeval run SUITE.jsonl --model SPEC [--model SPEC …] [options]\n"
        "\n"
        "Sends every item of SUITE in every language to every model (streaming), stores\n"
        "each answer with its timings in a SQLite file as it arrives, scores it, and prints\n"
        "the per-language table with the Korean gap, coverage, TTFT, E2E and tokens/s.\n"
        "\n"
        "models:\n"
        "  -m, --model SPEC         PROVIDER:MODEL[@BASE_URL], e.g. openai:gpt-4o-mini,\n"
        "                           openai:qwen@http://127.0.0.1:8080/v1, anthropic:claude-…,\n"
        "                           gemini:gemini-2.0-flash, ollama:qwen2.5:7b, clova:HCX-005\n"
        "  --models-config FILE     JSON list of models with per-model settings:\n"
        "                           [{\"model\":SPEC, \"temperature\":0, \"max_tokens\":256,\n"
        "                             \"concurrency\":4, \"rpm\":60, \"tpm\":100000,\n"
        "                             \"api_key_env\":\"MY_KEY\", \"system\":{\"ko\":\"…\"}}]\n"
        "  Keys come from the environment only: OPENAI_API_KEY, ANTHROPIC_API_KEY,\n"
        "  GEMINI_API_KEY, CLOVASTUDIO_API_KEY (or the variable api_key_env names).\n"
        "\n"
        "run:\n"
        "  --db FILE                SQLite store (default koeval.db)\n"
        "  --resume                 continue the latest unfinished run of the same suite and\n"
        "                           settings: finished requests are not sent again\n"
        "  --repeat N               N real requests per item and language (default 1)\n"
        "  --concurrency N          requests in flight per model (default 4)\n"
        "  --rpm R, --tpm T         requests / tokens per minute per model (default: no limit)\n"
        "  --temperature T          sampling temperature (default: the server's)\n"
        "  --max-tokens N           answer length limit (default 512)\n"
        "  --langs LIST             only these languages (default: the suite's)\n"
        "  --limit N                only the first N items\n"
        "  --max-attempts N         per request (default 6)\n"
        "  --max-wait S             seconds of backoff/Retry-After per request (default 600)\n"
        "  --timeout S              seconds without a byte before giving up (default 120)\n"
        "  --format tty|md|csv|json|html  table format (default tty)\n"
        "  --html FILE              also write the self-contained HTML report to FILE\n"
        "  --report-lang ko|en      label language (default: ko when the locale is Korean)\n"
        "  --choice-policy last|first  which answer marker wins when a multiple-choice\n"
        "                           answer names several letters (default last)\n"
        "  -q, --quiet              no progress line\n"
        "\n"
        "Exit codes: 0 success (infra failures are reported as lower coverage), 1 internal\n"
        "failure, 2 usage error (unknown provider, missing key), 3 input error (malformed\n"
        "suite), 4 a server cannot be reached, 5 the store cannot be written, 6 a server\n"
        "refused every request of a model (HTTP 4xx: wrong model name, key or URL),\n"
        "130 interrupted (Ctrl-C): resume with --resume.\n",
        out);
}

static int need_int(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || end == v || x < lo || x > hi) {
        kv_cli_error("%s: '%s' is not a whole number from %ld to %ld", opt, v ? v : "", lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int need_double(const char *opt, const char *v, double lo, double *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || errno || *end || end == v || !(x >= lo) || !isfinite(x)) {
        kv_cli_error("%s: '%s' is not a number >= %g", opt, v ? v : "", lo);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_run_args(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->db = "koeval.db";
    a->repeat = 1;
    a->concurrency = 4;
    a->temperature = -1;
    a->max_tokens = 512;
    a->engine = kv_engine_defaults();
    a->report_lang = kv_report_lang_default();
    for (int i = 1; i < argc; i++) {
        const char *x = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(x, "-h") || !strcmp(x, "--help")) {
            run_usage(stdout);
            return -1;
        } else if (!strcmp(x, "-m") || !strcmp(x, "--model")) {
            if (!v) {
                kv_cli_error("%s needs a model SPEC", x);
                return KV_EXIT_USAGE;
            }
            if (a->n_specs == MAX_MODELS) {
                kv_cli_error("at most %d models", MAX_MODELS);
                return KV_EXIT_USAGE;
            }
            a->specs[a->n_specs++] = v;
            i++;
        } else if (!strcmp(x, "--choice-policy")) {
            if (!v || (strcmp(v, "first") && strcmp(v, "last"))) {
                kv_cli_error("--choice-policy: '%s' is not first or last", v ? v : "");
                return KV_EXIT_USAGE;
            }
            a->policy = strcmp(v, "first") ? KV_CHOICE_LAST : KV_CHOICE_FIRST;
            i++;
        } else if (!strcmp(x, "--report-lang")) {
            if (!v || kv_report_lang_parse(v, &a->report_lang) != 0) {
                kv_cli_error("--report-lang: '%s' is not ko or en", v ? v : "");
                return KV_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(x, "--models-config") || !strcmp(x, "--db") || !strcmp(x, "--html") ||
                   !strcmp(x, "--langs") || !strcmp(x, "--manifest") || !strcmp(x, "--format")) {
            if (!v) {
                kv_cli_error("%s needs a value", x);
                return KV_EXIT_USAGE;
            }
            if (!strcmp(x, "--models-config"))
                a->models_config = v;
            else if (!strcmp(x, "--db"))
                a->db = v;
            else if (!strcmp(x, "--langs"))
                a->langs = v;
            else if (!strcmp(x, "--html"))
                a->html = v;
            else if (!strcmp(x, "--manifest"))
                a->manifest = v;
            else if (kv_report_format_parse(v, &a->format) != 0) {
                kv_cli_error("--format: unknown format '%s' (tty, md, csv, json)", v);
                return KV_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(x, "--repeat")) {
            if (need_int(x, v, 1, 1000, &n))
                return KV_EXIT_USAGE;
            a->repeat = (int)n;
            i++;
        } else if (!strcmp(x, "--concurrency")) {
            if (need_int(x, v, 1, 1024, &n))
                return KV_EXIT_USAGE;
            a->concurrency = (int)n;
            i++;
        } else if (!strcmp(x, "--limit")) {
            if (need_int(x, v, 1, 100000000, &n))
                return KV_EXIT_USAGE;
            a->limit = n;
            i++;
        } else if (!strcmp(x, "--max-tokens")) {
            if (need_int(x, v, 1, 1000000, &n))
                return KV_EXIT_USAGE;
            a->max_tokens = (int)n;
            i++;
        } else if (!strcmp(x, "--max-attempts")) {
            if (need_int(x, v, 1, 100, &n))
                return KV_EXIT_USAGE;
            a->engine.max_attempts = (int)n;
            i++;
        } else if (!strcmp(x, "--rpm") || !strcmp(x, "--tpm") || !strcmp(x, "--temperature") ||
                   !strcmp(x, "--max-wait") || !strcmp(x, "--timeout")) {
            double d;
            if (need_double(x, v, 0, &d))
                return KV_EXIT_USAGE;
            if (!strcmp(x, "--rpm"))
                a->rpm = d;
            else if (!strcmp(x, "--tpm"))
                a->tpm = d;
            else if (!strcmp(x, "--temperature"))
                a->temperature = d;
            else if (!strcmp(x, "--max-wait"))
                a->engine.max_wait_ms = (int64_t)(d * 1000);
            else
                a->engine.stall_timeout_ms = (int64_t)(d * 1000);
            i++;
        } else if (!strcmp(x, "--resume")) {
            a->resume = true;
        } else if (!strcmp(x, "-q") || !strcmp(x, "--quiet")) {
            a->quiet = true;
        } else if (x[0] == '-') {
            kv_cli_error("unknown option '%s' (see 'koeval run --help')", x);
            return KV_EXIT_USAGE;
        } else if (!a->suite) {
            a->suite = x;
        } else {
            kv_cli_error("unexpected argument '%s': one suite per run", x);
            return KV_EXIT_USAGE;
        }
    }
    if (!a->suite) {
        kv_cli_error("no suite: koeval run SUITE.jsonl --model SPEC (see 'koeval run --help')");
        return KV_EXIT_USAGE;
    }
    if (a->n_specs == 0 && !a->models_config) {
        kv_cli_error("no model: give --model SPEC or --models-config FILE");
        return KV_EXIT_USAGE;
    }
    return 0;
}

/* Reads --models-config into confs (after the --model ones). */
static int read_models_config(const char *path, model_conf *confs, int *n, const run_args *a)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        kv_cli_error("cannot open %s: %s", path, strerror(errno));
        return KV_EXIT_INPUT;
    }
    kv_buf b = {0};
    char tmp[65536];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, fp)) > 0)
        kv_buf_put(&b, tmp, got);
    fclose(fp);
    cJSON *root = cJSON_ParseWithLength(b.p ? b.p : "", b.len);
    if (!root) {
        /* name the line where the parser stopped */
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1;
        if (at && b.p && at >= b.p && at <= b.p + b.len)
            for (const char *q = b.p; q < at; q++)
                line += *q == '\n';
        kv_cli_error("%s:%zu: invalid JSON", path, line);
        kv_buf_free(&b);
        return KV_EXIT_INPUT;
    }
    kv_buf_free(&b);
    if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) == 0) {
        kv_cli_error("%s: expected a non-empty JSON array of models", path);
        cJSON_Delete(root);
        return KV_EXIT_INPUT;
    }
    int idx = 0, rc = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, root)
    {
        idx++;
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(m, "model");
        if (!cJSON_IsString(spec)) {
            kv_cli_error("%s: model %d: field \"model\" (a SPEC string) missing", path, idx);
            rc = KV_EXIT_INPUT;
            break;
        }
        if (*n == MAX_MODELS) {
            kv_cli_error("at most %d models", MAX_MODELS);
            rc = KV_EXIT_USAGE;
            break;
        }
        model_conf *c = &confs[*n];
        memset(c, 0, sizeof *c);
        char err[512];
        if (kv_model_spec_parse(spec->valuestring, &c->spec, err, sizeof err) != 0) {
            kv_cli_error("%s: model %d: %s", path, idx, err);
            rc = KV_EXIT_USAGE;
            break;
        }
        c->spec.temperature = a->temperature;
        c->spec.max_tokens = a->max_tokens;
        c->limits.concurrency = a->concurrency;
        c->limits.rpm = a->rpm;
        c->limits.tpm = a->tpm;
        /* every field is checked: a typo or a wrong type is an error, not a
         * silently different run */
        static const char *const known[] = {"model", "label", "temperature", "max_tokens",
                                            "concurrency", "rpm", "tpm", "api_key_env",
                                            "system"};
        const cJSON *f;
        cJSON_ArrayForEach(f, m)
        {
            bool ok = false;
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                ok |= !strcmp(f->string, known[k]);
            if (!ok) {
                kv_cli_error("%s: model %d: unknown field \"%s\" (model, label, temperature, "
                             "max_tokens, concurrency, rpm, tpm, api_key_env, system)",
                             path, idx, f->string);
                rc = KV_EXIT_INPUT;
                break;
            }
            bool number = !strcmp(f->string, "temperature") || !strcmp(f->string, "max_tokens") ||
                          !strcmp(f->string, "concurrency") || !strcmp(f->string, "rpm") ||
                          !strcmp(f->string, "tpm");
            bool integer = !strcmp(f->string, "max_tokens") || !strcmp(f->string, "concurrency");
            if (number && (!cJSON_IsNumber(f) || !(f->valuedouble >= 0) ||
                           (integer && (f->valuedouble < 1 || f->valuedouble > 1e6 ||
                                        f->valuedouble != (double)(int)f->valuedouble)))) {
                kv_cli_error("%s: model %d: \"%s\" must be %s", path, idx, f->string,
                             integer ? "a whole number from 1 to 1000000" : "a number >= 0");
                rc = KV_EXIT_INPUT;
                break;
            }
            if ((!strcmp(f->string, "label") || !strcmp(f->string, "api_key_env")) &&
                (!cJSON_IsString(f) || !f->valuestring[0])) {
                kv_cli_error("%s: model %d: \"%s\" must be a non-empty string", path, idx,
                             f->string);
                rc = KV_EXIT_INPUT;
                break;
            }
        }
        if (rc)
            break;
        if ((f = cJSON_GetObjectItemCaseSensitive(m, "temperature")))
            c->spec.temperature = f->valuedouble;
        if ((f = cJSON_GetObjectItemCaseSensitive(m, "max_tokens")))
            c->spec.max_tokens = f->valueint;
        if ((f = cJSON_GetObjectItemCaseSensitive(m, "concurrency")))
            c->limits.concurrency = f->valueint;
        if ((f = cJSON_GetObjectItemCaseSensitive(m, "rpm")))
            c->limits.rpm = f->valuedouble;
        if ((f = cJSON_GetObjectItemCaseSensitive(m, "tpm")))
            c->limits.tpm = f->valuedouble;
        if ((f = cJSON_GetObjectItemCaseSensitive(m, "api_key_env")))
            snprintf(c->spec.api_key_env, sizeof c->spec.api_key_env, "%s", f->valuestring);
        if ((f = cJSON_GetObjectItemCaseSensitive(m, "label")))
            snprintf(c->spec.label, sizeof c->spec.label, "%s", f->valuestring);
        const cJSON *sys = cJSON_GetObjectItemCaseSensitive(m, "system");
        if (sys && !cJSON_IsObject(sys)) {
            kv_cli_error("%s: model %d: \"system\" must be an object {\"ko\": \"…\", …}", path,
                         idx);
            rc = KV_EXIT_INPUT;
            break;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, sys)
        {
            if (!cJSON_IsString(e) || c->n_system == MAX_SYSTEM) {
                kv_cli_error("%s: model %d: system prompt for \"%s\" must be a string", path, idx,
                             e->string);
                rc = KV_EXIT_INPUT;
                break;
            }
            snprintf(c->system_lang[c->n_system], sizeof c->system_lang[0], "%s", e->string);
            c->system[c->n_system] = strdup(e->valuestring);
            c->n_system++;
        }
        if (rc)
            break;
        (*n)++;
    }
    cJSON_Delete(root);
    return rc;
}

/* Writes the HTML report to path (atomically: a temporary file renamed). */
static int write_html(const kv_report *rep, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        kv_cli_error("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = kv_report_print(rep, KV_REPORT_HTML, fp);
    if (fclose(fp) != 0 || rc != 0 || rename(tmp, path) != 0) {
        kv_cli_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The options of every command that prints a stored run. */
typedef struct output_opts {
    const char *db, *html;
    long run;
    kv_report_format fmt;
    kv_report_lang lang;
} output_opts;

/* Takes argv[*i] when it is one of the output options (--db, --run,
 * --format, --html, --report-lang): 1 taken, 0 not ours, -1 bad value
 * (after the error line). */
static int output_option(int argc, char **argv, int *i, output_opts *o)
{
    const char *x = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!v)
        return 0;
    if (!strcmp(x, "--db")) {
        o->db = v;
    } else if (!strcmp(x, "--html")) {
        o->html = v;
    } else if (!strcmp(x, "--report-lang")) {
        if (kv_report_lang_parse(v, &o->lang) != 0) {
            kv_cli_error("--report-lang: '%s' is not ko or en", v);
            return -1;
        }
    } else if (!strcmp(x, "--run")) {
        if (need_int(x, v, 1, 1L << 40, &o->run))
            return -1;
    } else if (!strcmp(x, "--format")) {
        if (kv_report_format_parse(v, &o->fmt) != 0) {
            kv_cli_error("--format: unknown format '%s' (tty, md, csv, json, html)", v);
            return -1;
        }
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}

/* Builds and prints run_id's report as the options say. Returns an exit code. */
static int print_stored_run(kv_store *store, int64_t run_id, const output_opts *o)
{
    char err[1024];
    kv_report *rep;
    if (kv_report_build(store, run_id, &rep, err, sizeof err) != 0) {
        kv_cli_error("%s", err);
        return KV_EXIT_INPUT;
    }
    int status = KV_EXIT_OK;
    kv_report_set_lang(rep, o->lang);
    if (kv_report_print(rep, o->fmt, stdout) != 0)
        status = KV_EXIT_INTERNAL;
    if (o->html && write_html(rep, o->html) != 0)
        status = KV_EXIT_INPUT;
    kv_report_free(rep);
    return status;
}

/* Set by SIGINT/SIGTERM: the engine stops, the run stays resumable. */
static volatile int interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* ---- the run's callbacks ---- */

/* per model: what failed, to say so at the end */
typedef struct model_tally {
    size_t answered, failed;
    kv_error_class first_class;
    char first_message[256];
} model_tally;

typedef struct run_ctx {
    model_tally tally[MAX_MODELS];
    kv_store *store;
    int64_t run_id;
    const kv_suite *suite;
    model_conf *models;
    kv_evaluator *ev;
    int64_t origin_ns;
    size_t answered, failed, total;
    bool progress;
    bool store_failed;
    char store_err[512];
} run_ctx;

/* What a job carries: its store row and item. */
typedef struct job_info {
    int64_t request_id;
    int64_t attempt_id;
    const kv_item *item;
} job_info;

static int64_t now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int store_fail(run_ctx *c)
{
    c->store_failed = true;
    snprintf(c->store_err, sizeof c->store_err, "%s", kv_store_errmsg(c->store));
    return -1;
}

static int cb_attempt_begin(void *ctx, const kv_job *job, const kv_attempt *a)
{
    run_ctx *c = ctx;
    job_info *ji = job->user;
    int no;
    if (kv_store_attempt_begin(c->store, ji->request_id, now_unix_ms(), &ji->attempt_id, &no) != 0)
        return store_fail(c);
    return 0;
}

static int cb_attempt_end(void *ctx, const kv_job *job, const kv_attempt *a, const kv_response *r)
{
    run_ctx *c = ctx;
    job_info *ji = job->user;
    kv_attempt_outcome o = {.http_status = a->http_status,
                            .error = a->error,
                            .error_message = a->error_message,
                            .retry_after_ms = a->retry_after_ms};
    if (kv_store_attempt_end(c->store, ji->attempt_id, &o) != 0)
        return store_fail(c);
    return 0;
}

static int cb_job_done(void *ctx, const kv_job *job, const kv_attempt *a, const kv_response *r,
                       const kv_timing *t)
{
    run_ctx *c = ctx;
    job_info *ji = job->user;
    model_tally *mt = &c->tally[job->model];
    if (a->error != KV_ERR_NONE) {
        c->failed++;
        if (mt->failed++ == 0) {
            mt->first_class = a->error;
            snprintf(mt->first_message, sizeof mt->first_message, "%s", a->error_message);
        }
        if (kv_store_request_fail(c->store, ji->request_id, a->error, a->error_message) != 0)
            return store_fail(c);
        return 0;
    }
    kv_engine_times tm = {.origin_ns = c->origin_ns,
                          .t_queue_ns = a->t_queue,
                          .t_send_ns = a->t_send,
                          .t_headers_ns = a->t_headers,
                          .t_end_ns = a->t_end};
    if (kv_store_response_put(c->store, ji->request_id, r, t, &tm) != 0)
        return store_fail(c);
    c->answered++;
    mt->answered++;
    kv_item_score sc;
    kv_buf clean = {0};
    kv_utf8_sanitize(r->text.p ? r->text.p : "", r->text.len, &clean);
    if (kv_evaluate(c->ev, ji->item, clean.p ? clean.p : "", clean.len, &sc) == 0) {
        const char *status = kv_extract_status_name(sc.status);
        if (sc.status == KV_EXTRACT_NONE && !strcmp(r->finish_reason, "length"))
            status = "length_exhausted";
        if (kv_store_score_put(c->store, ji->request_id, sc.metric, sc.value, sc.signature,
                               sc.extracted[0] ? sc.extracted : NULL, status) != 0) {
            kv_buf_free(&clean);
            return store_fail(c);
        }
        for (int k = 0; k < sc.n_extra; k++)
            kv_store_score_put(c->store, ji->request_id, sc.extra[k].metric, sc.extra[k].value,
                               sc.extra[k].signature, NULL, status);
        kv_store_score_put(c->store, ji->request_id, "fidelity", sc.fidelity,
                           "fidelity|scripts:icu|threshold:0.5", sc.dominant_script,
                           sc.fidelity_verdict);
        if (!isnan(sc.han_leak)) {
            kv_store_score_put(c->store, ji->request_id, "Han in ko %", sc.han_leak,
                               "leakage|scripts:icu|letters", NULL, sc.fidelity_verdict);
            kv_store_score_put(c->store, ji->request_id, "Latin in ko %", sc.latin_leak,
                               "leakage|scripts:icu|letters", NULL, sc.fidelity_verdict);
        }
    }
    kv_buf_free(&clean);
    return 0;
}

static void cb_tick(void *ctx, size_t done, size_t total, size_t in_flight)
{
    run_ctx *c = ctx;
    if (!c->progress)
        return;
    fprintf(stderr, "\r\033[Kkoeval run: %zu/%zu done (%zu answered, %zu failed), %zu in flight",
            done, total, c->answered, c->failed, in_flight);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* The run's settings as JSON: what defines "the same run" for --resume and
 * what the report reads back. Never a key: only the variable's name. */
static char *config_json(const run_args *a, const kv_suite *s, const model_conf *m, int n_models,
                         const char *const *langs, size_t n_langs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "suite_name", s->manifest.name ? s->manifest.name : "");
    cJSON_AddStringToObject(o, "suite_hash", s->hash);
    cJSON *l = cJSON_AddArrayToObject(o, "languages");
    for (size_t i = 0; i < n_langs; i++)
        cJSON_AddItemToArray(l, cJSON_CreateString(langs[i]));
    cJSON_AddStringToObject(o, "pivot", s->manifest.pivot);
    cJSON_AddNumberToObject(o, "repeat", a->repeat);
    cJSON_AddNumberToObject(o, "limit", (double)a->limit);
    cJSON *ms = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; i < n_models; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "label", m[i].spec.label);
        cJSON_AddStringToObject(e, "provider", kv_provider_name(m[i].spec.kind));
        cJSON_AddStringToObject(e, "model", m[i].spec.name);
        cJSON_AddStringToObject(e, "base_url", m[i].spec.base_url);
        cJSON_AddStringToObject(e, "api_key_env", m[i].spec.api_key_env);
        if (m[i].spec.temperature < 0) /* not sent: the server's default */
            cJSON_AddNullToObject(e, "temperature");
        else
            cJSON_AddNumberToObject(e, "temperature", m[i].spec.temperature);
        cJSON_AddNumberToObject(e, "max_tokens", m[i].spec.max_tokens);
        if (m[i].n_system) {
            cJSON *sys = cJSON_AddObjectToObject(e, "system");
            for (int k = 0; k < m[i].n_system; k++)
                cJSON_AddStringToObject(sys, m[i].system_lang[k], m[i].system[k]);
        }
        cJSON_AddItemToArray(ms, e);
    }
    char *s2 = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s2;
}

static bool lang_selected(const char *list, const char *lang)
{
    if (!list)
        return true;
    size_t n = strlen(lang);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, lang, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

int kv_cmd_run(int argc, char **argv)
{
    run_args a;
    int rc = parse_run_args(argc, argv, &a);
    if (rc < 0)
        return KV_EXIT_OK;
    if (rc)
        return rc;

    /* models, keys: everything that can be wrong is checked before any request */
    static model_conf models[MAX_MODELS];
    int n_models = 0;
    char err[1024];
    for (int i = 0; i < a.n_specs; i++) {
        model_conf *c = &models[n_models];
        memset(c, 0, sizeof *c);
        if (kv_model_spec_parse(a.specs[i], &c->spec, err, sizeof err) != 0) {
            kv_cli_error("%s", err);
            return KV_EXIT_USAGE;
        }
        c->spec.temperature = a.temperature;
        c->spec.max_tokens = a.max_tokens;
        c->limits = (kv_model_limits){.concurrency = a.concurrency, .rpm = a.rpm, .tpm = a.tpm};
        n_models++;
    }
    if (a.models_config && (rc = read_models_config(a.models_config, models, &n_models, &a)))
        return rc;
    const char *keys[MAX_MODELS] = {0};
    for (int i = 0; i < n_models; i++) {
        const char *env = models[i].spec.api_key_env;
        if (!env[0] && models[i].spec.kind == KV_PROVIDER_OPENAI) {
            /* a local server needs no key, but one started with --api-key
             * gets OPENAI_API_KEY when it is set */
            const char *k = getenv("OPENAI_API_KEY");
            keys[i] = k && *k ? k : NULL;
        }
        if (env[0]) {
            const char *k = getenv(env);
            if (!k || !*k) {
                kv_cli_error("model %s needs an API key: set %s in the environment",
                             models[i].spec.label, env);
                return KV_EXIT_USAGE;
            }
            keys[i] = k;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(models[i].spec.label, models[j].spec.label)) {
                kv_cli_error("model %s is given twice", models[i].spec.label);
                return KV_EXIT_USAGE;
            }
    }

    kv_suite suite;
    int srr = kv_suite_load(a.suite, a.manifest, &suite, err, sizeof err);
    if (srr != KV_SUITE_OK) {
        kv_cli_error("%s", err);
        return srr == KV_SUITE_EIO ? KV_EXIT_INPUT : KV_EXIT_INPUT;
    }
    const char *langs[64];
    size_t n_langs = 0;
    for (size_t l = 0; l < suite.manifest.n_languages && n_langs < 64; l++)
        if (lang_selected(a.langs, suite.manifest.languages[l]))
            langs[n_langs++] = suite.manifest.languages[l];
    if (n_langs == 0) {
        kv_cli_error("--langs %s: none of the suite's languages", a.langs);
        kv_suite_free(&suite);
        return KV_EXIT_USAGE;
    }

    /* servers: one connection each, before anything is stored or sent */
    for (int i = 0; i < n_models; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= !strcmp(models[i].spec.base_url, models[j].spec.base_url);
        if (i == 0 && kv_engine_init(err, sizeof err) != 0) {
            kv_cli_error("%s", err);
            kv_suite_free(&suite);
            return KV_EXIT_INTERNAL;
        }
        if (!seen && kv_engine_preflight(&models[i].spec, err, sizeof err) != 0) {
            kv_cli_error("%s", err);
            kv_suite_free(&suite);
            return 4;
        }
    }

    kv_store *store;
    if (kv_store_open(a.db, &store, err, sizeof err) != 0) {
        kv_cli_error("%s", err);
        kv_suite_free(&suite);
        return 5;
    }
    char *cfg = config_json(&a, &suite, models, n_models, langs, n_langs);
    output_opts out_opts = {.db = a.db, .html = a.html, .fmt = a.format, .lang = a.report_lang};
    int64_t run_id = 0;
    int status = KV_EXIT_OK;
    if (a.resume) {
        if (kv_store_run_find_resumable(store, suite.hash, cfg, &run_id) != 0)
            run_id = 0;
        if (run_id <= 0) {
            /* the run may have finished already: then there is nothing to send,
             * only its table to print */
            int64_t latest = 0;
            kv_stored_run last = {0};
            if (kv_store_latest_run(store, &latest) == 0 && latest > 0 &&
                kv_store_run_get(store, latest, &last) == 0 && last.status == KV_RUN_COMPLETE &&
                last.config_json.p && !strcmp(last.config_json.p, cfg)) {
                if (!a.quiet)
                    fprintf(stderr, "koeval run: run %lld is already complete\n",
                            (long long)latest);
                status = print_stored_run(store, latest, &out_opts);
                kv_stored_run_free(&last);
                goto out;
            }
            kv_stored_run_free(&last);
            kv_cli_error("--resume: %s has no unfinished run of this suite with these settings",
                         a.db);
            status = KV_EXIT_USAGE;
            goto out;
        }
    } else {
        kv_run_info info = {.suite_path = a.suite, .suite_hash = suite.hash, .config_json = cfg,
                            .repeat = a.repeat};
        if (kv_store_run_create(store, &info, &run_id) != 0) {
            kv_cli_error("%s: %s", a.db, kv_store_errmsg(store));
            status = 5;
            goto out;
        }
    }

    /* jobs: every (model, item, language, repeat) not answered yet */
    size_t cap = (size_t)n_models * suite.n_items * (size_t)a.repeat + 1;
    kv_job *jobs = kv_xcalloc(cap, sizeof *jobs);
    job_info *infos = kv_xcalloc(cap, sizeof *infos);
    size_t n_jobs = 0, total = 0, already = 0;
    for (int r = 0; r < a.repeat; r++)
        for (size_t it = 0; it < suite.n_items; it++) {
            const kv_item *item = &suite.items[it];
            if (a.limit && (long)item->id_index >= a.limit)
                continue;
            if (!lang_selected(a.langs, item->lang))
                continue;
            for (int m = 0; m < n_models; m++) {
                int64_t req;
                kv_request_state st;
                int attempts;
                if (kv_store_request_ensure(store, run_id, models[m].spec.label, item->id,
                                            item->lang, r, item->prompt, &req, &st,
                                            &attempts) != 0) {
                    kv_cli_error("%s: %s", a.db, kv_store_errmsg(store));
                    status = 5;
                    free(jobs);
                    free(infos);
                    goto out;
                }
                total++;
                if (st != KV_REQ_PENDING) {
                    already++;
                    continue;
                }
                infos[n_jobs] = (job_info){.request_id = req, .item = item};
                jobs[n_jobs] = (kv_job){.model = (size_t)m,
                                        .chat = {.system = system_prompt(&models[m], &suite,
                                                                         item->lang),
                                                 .user = item->prompt},
                                        .attempts_before = attempts,
                                        .user = &infos[n_jobs]};
                n_jobs++;
            }
        }
    if (a.resume && !a.quiet)
        fprintf(stderr, "koeval run: resuming run %lld: %zu of %zu requests already done\n",
                (long long)run_id, already, total);

    run_ctx ctx = {.store = store, .run_id = run_id, .suite = &suite, .models = models,
                   .origin_ns = kv_now_ns(), .total = n_jobs,
                   .progress = !a.quiet && isatty(STDERR_FILENO)};
    ctx.ev = kv_evaluator_new(err, sizeof err);
    if (ctx.ev)
        kv_evaluator_set_choice_policy(ctx.ev, a.policy);
    if (!ctx.ev) {
        kv_cli_error("%s", err);
        status = KV_EXIT_INTERNAL;
        free(jobs);
        free(infos);
        goto out;
    }
    kv_engine_callbacks cb = {.attempt_begin = cb_attempt_begin,
                              .attempt_end = cb_attempt_end,
                              .job_done = cb_job_done,
                              .tick = cb_tick,
                              .ctx = &ctx};
    kv_model_spec specs[MAX_MODELS];
    kv_model_limits limits[MAX_MODELS];
    for (int m = 0; m < n_models; m++) {
        specs[m] = models[m].spec;
        limits[m] = models[m].limits;
    }
    interrupted = 0;
    a.engine.stop = &interrupted;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int erc = kv_engine_run(&a.engine, specs, limits, keys, (size_t)n_models, jobs, n_jobs, &cb,
                            err, sizeof err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (erc != 0 && interrupted && !ctx.store_failed) {
        kv_store_run_set_status(store, run_id, KV_RUN_ABORTED);
        kv_cli_error("interrupted after %zu of %zu requests: everything answered is stored; "
                     "continue with the same command and --resume",
                     ctx.answered + ctx.failed, n_jobs);
        status = 130;
    } else if (erc != 0) {
        kv_cli_error("run aborted: %s", ctx.store_failed ? ctx.store_err : err);
        status = ctx.store_failed ? 5 : KV_EXIT_INTERNAL;
    } else {
        kv_store_run_set_status(store, run_id, KV_RUN_COMPLETE);
        for (int m = 0; m < n_models; m++) {
            const model_tally *mt = &ctx.tally[m];
            if (!mt->failed)
                continue;
            fprintf(stderr, "koeval run: %s: %zu of %zu requests failed (%s: %s)\n",
                    models[m].spec.label, mt->failed, mt->failed + mt->answered,
                    kv_error_class_name(mt->first_class), mt->first_message);
            if (!mt->answered && mt->first_class == KV_ERR_CLIENT)
                status = 6; /* refused every time: its name, key or URL is wrong */
        }
    }
    kv_evaluator_free(ctx.ev);
    free(jobs);
    free(infos);

    if (status == KV_EXIT_OK || status == 6) {
        int prc = print_stored_run(store, run_id, &out_opts);
        if (prc)
            status = prc;
    }
out:
    free(cfg);
    kv_store_close(store);
    kv_suite_free(&suite);
    for (int i = 0; i < n_models; i++)
        for (int k = 0; k < models[i].n_system; k++)
            free(models[i].system[k]);
    return status;
}

/* Opens an existing store and picks a run (run_id 0 = the latest). Returns
 * 0, or an exit code after printing the one error line. */
static int open_stored_run(const char *db, int64_t *run_id, kv_store **store)
{
    if (access(db, R_OK) != 0) {
        kv_cli_error("cannot open %s: %s", db, strerror(errno));
        return KV_EXIT_INPUT;
    }
    char err[1024];
    if (kv_store_open(db, store, err, sizeof err) != 0) {
        kv_cli_error("%s", err);
        return KV_EXIT_INPUT;
    }
    if (!*run_id && (kv_store_latest_run(*store, run_id) != 0 || *run_id <= 0)) {
        kv_cli_error("%s holds no run", db);
        kv_store_close(*store);
        return KV_EXIT_INPUT;
    }
    kv_stored_run info = {0};
    if (kv_store_run_get(*store, *run_id, &info) != 0) {
        kv_cli_error("%s has no run %lld", db, (long long)*run_id);
        kv_store_close(*store);
        return KV_EXIT_INPUT;
    }
    kv_stored_run_free(&info);
    return 0;
}

static void report_usage(FILE *out)
{
    fputs("usage: koeval report [--db FILE] [--run ID] [--format tty|md|csv|json|html]\n"
          "                     [--html FILE] [--report-lang ko|en]\n"
          "\n"
          "Prints the per-language table of a stored run (default: the latest run in\n"
          "koeval.db) without contacting any model.\n",
          out);
}

int kv_cmd_report(int argc, char **argv)
{
    output_opts o = {.db = "koeval.db", .lang = kv_report_lang_default()};
    for (int i = 1; i < argc; i++) {
        int took;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            report_usage(stdout);
            return KV_EXIT_OK;
        } else if ((took = output_option(argc, argv, &i, &o)) < 0) {
            return KV_EXIT_USAGE;
        } else if (!took) {
            kv_cli_error("unknown option or missing value '%s' (see 'koeval report --help')",
                         argv[i]);
            return KV_EXIT_USAGE;
        }
    }
    kv_store *store;
    int64_t run_id = o.run;
    int status = open_stored_run(o.db, &run_id, &store);
    if (status)
        return status;
    status = print_stored_run(store, run_id, &o);
    kv_store_close(store);
    return status;
}

/* ---- koeval score --db: re-score stored answers offline ---- */

typedef struct rescore_ctx {
    kv_store *store;
    const kv_suite *suite;
    kv_evaluator *ev;
    size_t scored, missing;
    int rc;
} rescore_ctx;

static int on_rescore(const kv_stored_response *row, void *ctx)
{
    rescore_ctx *c = ctx;
    const kv_item *item = kv_suite_find(c->suite, row->item_id, row->lang);
    if (!item) {
        c->missing++;
        return 0;
    }
    kv_item_score sc;
    if (kv_evaluate(c->ev, item, row->text, row->text_len, &sc) != 0) {
        c->rc = KV_EXIT_INTERNAL;
        return 1;
    }
    const char *status = kv_extract_status_name(sc.status);
    if (sc.status == KV_EXTRACT_NONE && !strcmp(row->finish_reason, "length"))
        status = "length_exhausted";
    if (kv_store_score_put(c->store, row->request_id, sc.metric, sc.value, sc.signature,
                           sc.extracted[0] ? sc.extracted : NULL, status) != 0 ||
        (sc.n_extra > 0 && kv_store_score_put(c->store, row->request_id, sc.extra[0].metric,
                                              sc.extra[0].value, sc.extra[0].signature, NULL,
                                              status) != 0) ||
        kv_store_score_put(c->store, row->request_id, "fidelity", sc.fidelity,
                           "fidelity|scripts:icu|threshold:0.5", sc.dominant_script,
                           sc.fidelity_verdict) != 0 ||
        (!isnan(sc.han_leak) &&
         (kv_store_score_put(c->store, row->request_id, "Han in ko %", sc.han_leak,
                             "leakage|scripts:icu|letters", NULL, sc.fidelity_verdict) != 0 ||
          kv_store_score_put(c->store, row->request_id, "Latin in ko %", sc.latin_leak,
                             "leakage|scripts:icu|letters", NULL, sc.fidelity_verdict) != 0))) {
        c->rc = 5;
        return 1;
    }
    c->scored++;
    return 0;
}

int kv_cmd_rescore(int argc, char **argv)
{
    const char *suite_path = NULL;
    output_opts o = {.lang = kv_report_lang_default()};
    for (int i = 1; i < argc; i++) {
        int took;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs("usage: koeval score --db FILE [--run ID] [--suite SUITE.jsonl]\n"
                  "                    [--format tty|md|csv|json|html] [--html FILE]\n"
                  "                    [--report-lang ko|en]\n"
                  "\n"
                  "Re-scores the stored answers of a run (default: the latest) with this\n"
                  "koeval's extraction and metrics, replacing the stored scores, and prints\n"
                  "the table. No model is contacted. The suite is read from the path the run\n"
                  "recorded, or from --suite; its content must be the same (hash checked).\n",
                  stdout);
            return KV_EXIT_OK;
        } else if (!strcmp(argv[i], "--suite") && i + 1 < argc) {
            suite_path = argv[++i];
        } else if ((took = output_option(argc, argv, &i, &o)) < 0) {
            return KV_EXIT_USAGE;
        } else if (!took) {
            if (!strcmp(argv[i], "-r") || !strcmp(argv[i], "--reference") ||
                !strcmp(argv[i], "-i") || !strcmp(argv[i], "--input"))
                kv_cli_error("%s: with --db, koeval score re-scores a stored run and reads no "
                             "files to score; leave out --db to score files",
                             argv[i]);
            else
                kv_cli_error("unknown option or missing value '%s' (see 'koeval score --db F "
                             "--help')",
                             argv[i]);
            return KV_EXIT_USAGE;
        }
    }
    const char *db = o.db;
    long run = o.run;
    if (!db) {
        kv_cli_error("--db FILE is required to re-score stored answers");
        return KV_EXIT_USAGE;
    }
    char err[1024];
    kv_store *store;
    int64_t run_id = run;
    int status = open_stored_run(db, &run_id, &store);
    if (status)
        return status;
    kv_stored_run info = {0};
    kv_suite suite;
    bool suite_loaded = false;
    if (kv_store_run_get(store, run_id, &info) != 0) {
        kv_cli_error("%s: run %lld: %s", db, (long long)run_id, kv_store_errmsg(store));
        status = KV_EXIT_INPUT;
        goto out;
    }
    if (!suite_path)
        suite_path = info.suite_path.p;
    if (kv_suite_load(suite_path, NULL, &suite, err, sizeof err) != KV_SUITE_OK) {
        kv_cli_error("%s (give the suite with --suite)", err);
        status = KV_EXIT_INPUT;
        goto out;
    }
    suite_loaded = true;
    if (info.suite_hash.p && strcmp(info.suite_hash.p, suite.hash) != 0) {
        kv_cli_error("%s is not the suite run %lld used (content hash %s, recorded %s)",
                     suite_path, (long long)run_id, suite.hash, info.suite_hash.p);
        status = KV_EXIT_INPUT;
        goto out;
    }
    rescore_ctx c = {.store = store, .suite = &suite};
    c.ev = kv_evaluator_new(err, sizeof err);
    if (!c.ev) {
        kv_cli_error("%s", err);
        status = KV_EXIT_INTERNAL;
        goto out;
    }
    if (kv_store_foreach_response(store, run_id, on_rescore, &c) != 0 && !c.rc)
        c.rc = 5;
    kv_evaluator_free(c.ev);
    if (c.rc) {
        kv_cli_error("re-scoring run %lld failed: %s", (long long)run_id, kv_store_errmsg(store));
        status = c.rc;
        goto out;
    }
    fprintf(stderr, "koeval score: re-scored %zu stored answers of run %lld%s\n", c.scored,
            (long long)run_id, c.missing ? " (some items are no longer in the suite)" : "");
    status = print_stored_run(store, run_id, &o);
out:
    if (suite_loaded)
        kv_suite_free(&suite);
    kv_stored_run_free(&info);
    kv_store_close(store);
    return status;
}
