/*
 * The request engine: one libcurl multi loop, in one file, so that the whole
 * request path can be read top to bottom (STYLE.md). Providers build the
 * requests and parse the bytes; this file only moves bytes, keeps time and
 * decides when to send and when to retry.
 */
#include "src/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <dlfcn.h>

/* libcurl is opened when the engine first needs it (dlopen), not linked:
 * with the thirty-odd libraries it depends on it costs about 5 ms of
 * dynamic linking at every start of the process, which `koeval score`,
 * `report` and `import` never need. The type-checking macros of curl.h are
 * off because the calls below go through this table. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLcode (*easy_perform)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
} lc;

#undef curl_easy_setopt  /* curl.h's argument-count checks */
#undef curl_easy_getinfo
#define curl_global_init lc.global_init
#define curl_easy_init lc.easy_init
#define curl_easy_setopt lc.easy_setopt
#define curl_easy_getinfo lc.easy_getinfo
#define curl_easy_perform lc.easy_perform
#define curl_easy_cleanup lc.easy_cleanup
#define curl_easy_strerror lc.easy_strerror
#define curl_slist_append lc.slist_append
#define curl_slist_free_all lc.slist_free_all
#define curl_multi_init lc.multi_init
#define curl_multi_add_handle lc.multi_add_handle
#define curl_multi_remove_handle lc.multi_remove_handle
#define curl_multi_perform lc.multi_perform
#define curl_multi_poll lc.multi_poll
#define curl_multi_info_read lc.multi_info_read
#define curl_multi_cleanup lc.multi_cleanup

/* Fills `lc` from libcurl's ABI 4 (the soname since 2006). */
static int load_curl(char *err, size_t errlen)
{
    static const char *const names[] = {
        "curl_global_init",    "curl_easy_init",         "curl_easy_setopt",
        "curl_easy_getinfo",   "curl_easy_perform",      "curl_easy_cleanup",
        "curl_easy_strerror",  "curl_slist_append",      "curl_slist_free_all",
        "curl_multi_init",     "curl_multi_add_handle",  "curl_multi_remove_handle",
        "curl_multi_perform",  "curl_multi_poll",        "curl_multi_info_read",
        "curl_multi_cleanup",
    };
    void (**slots[])(void) = {
        (void (**)(void))&lc.global_init,    (void (**)(void))&lc.easy_init,
        (void (**)(void))&lc.easy_setopt,    (void (**)(void))&lc.easy_getinfo,
        (void (**)(void))&lc.easy_perform,   (void (**)(void))&lc.easy_cleanup,
        (void (**)(void))&lc.easy_strerror,  (void (**)(void))&lc.slist_append,
        (void (**)(void))&lc.slist_free_all, (void (**)(void))&lc.multi_init,
        (void (**)(void))&lc.multi_add_handle, (void (**)(void))&lc.multi_remove_handle,
        (void (**)(void))&lc.multi_perform,  (void (**)(void))&lc.multi_poll,
        (void (**)(void))&lc.multi_info_read, (void (**)(void))&lc.multi_cleanup,
    };
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "cannot load libcurl (install libcurl4): %s", dlerror());
        return -1;
    }
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        void *sym = dlsym(h, names[k]);
        if (!sym) {
            snprintf(err, errlen, "libcurl.so.4 has no %s (libcurl 7.66 or newer is needed)",
                     names[k]);
            return -1;
        }
        memcpy(slots[k], &sym, sizeof sym);
    }
    return 0;
}

int64_t kv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

kv_engine_opts kv_engine_defaults(void)
{
    kv_engine_opts o = {
        .max_attempts = 6,
        .max_wait_ms = 600000,
        .backoff_base_ms = 500,
        .backoff_cap_ms = 30000,
        .connect_timeout_ms = 10000,
        .stall_timeout_ms = 120000,
        .request_timeout_ms = 600000,
        .seed = 0x6B6F6576616C0001ull,
    };
    return o;
}

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int64_t kv_engine_backoff_ms(const kv_engine_opts *o, int attempt, uint64_t *rng)
{
    double d = (double)o->backoff_base_ms;
    for (int i = 1; i < attempt && d < (double)o->backoff_cap_ms; i++)
        d *= 2;
    if (d > (double)o->backoff_cap_ms)
        d = (double)o->backoff_cap_ms;
    double jitter = 0.5 + 0.5 * ((double)(xorshift64(rng) >> 11) / 9007199254740992.0);
    return (int64_t)(d * jitter);
}

/* Per-job state. */
typedef struct job_state {
    int attempts;       /* made so far, including attempts_before */
    int64_t ready_at;   /* ns: not before */
    int64_t t_queue;    /* ns: when it became ready */
    int64_t waited_ms;  /* backoff and Retry-After waited so far */
    bool done, in_flight;
} job_state;

/* One transfer in flight. */
typedef struct transfer {
    CURL *easy;
    size_t job;
    kv_http_request req;
    struct curl_slist *headers;
    kv_parser *parser;
    kv_response *resp;
    kv_attempt att;
    long status;
    bool aborted; /* the parser reported a stream error */
    bool stalled; /* no byte for stall_timeout_ms */
    int64_t last_byte_ns;
    char retry_after[128], retry_after_ms[64], date[128];
    struct engine *e;
} transfer;

/* Tokens used per model in the last minute, for tpm. */
typedef struct tpm_entry {
    int64_t t;
    double tokens;
} tpm_entry;

typedef struct model_state {
    int in_flight;
    int64_t next_start; /* ns, for rpm spacing */
    tpm_entry *tpm;     /* ring of recent usage */
    size_t tpm_n, tpm_cap;
} model_state;

typedef struct engine {
    const kv_engine_opts *o;
    const kv_model_spec *models;
    const kv_model_limits *limits;
    const char *const *keys;
    size_t n_models;
    kv_job *jobs;
    size_t n_jobs;
    job_state *js;
    model_state *ms;
    const kv_engine_callbacks *cb;
    CURLM *multi;
    uint64_t rng;
    size_t done;
    size_t in_flight;
    size_t next_scan; /* round-robin start for fairness */
    struct transfer **live; /* transfers in flight, to free them if the run aborts */
    size_t n_live, cap_live;
} engine;

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    transfer *t = userdata;
    size_t n = size * nitems;
    t->last_byte_ns = kv_now_ns();
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* a new status line (after a 100 Continue or a redirect) */
        t->retry_after[0] = t->retry_after_ms[0] = t->date[0] = '\0';
        return n;
    }
    if (n <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        long code = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && !t->att.t_headers)
            t->att.t_headers = kv_now_ns();
        t->status = code;
        return n;
    }
    struct {
        const char *name;
        char *dst;
        size_t cap;
    } want[] = {{"retry-after:", t->retry_after, sizeof t->retry_after},
                {"retry-after-ms:", t->retry_after_ms, sizeof t->retry_after_ms},
                {"date:", t->date, sizeof t->date}};
    for (size_t k = 0; k < 3; k++) {
        size_t nl = strlen(want[k].name);
        if (n > nl && strncasecmp(buf, want[k].name, nl) == 0) {
            size_t a = nl, b = n;
            while (a < b && (buf[a] == ' ' || buf[a] == '\t'))
                a++;
            while (b > a && (buf[b - 1] == '\r' || buf[b - 1] == '\n' || buf[b - 1] == ' '))
                b--;
            size_t len = b - a < want[k].cap - 1 ? b - a : want[k].cap - 1;
            memcpy(want[k].dst, buf + a, len);
            want[k].dst[len] = '\0';
        }
    }
    return n;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *userdata)
{
    transfer *t = userdata;
    size_t n = size * nmemb;
    t->last_byte_ns = kv_now_ns();
    if (!t->status)
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    if (kv_parser_feed(t->parser, (int)t->status, buf, n, kv_now_ns(), t->resp) != 0) {
        t->aborted = true;
        return 0; /* stop the transfer: the stream reported an error */
    }
    return n;
}

/* libcurl's progress callback, used as a stall detector: no byte (header or
 * body) for stall_timeout_ms ends the attempt as a timeout. libcurl's own
 * low-speed limit averages over a window and reacts seconds late. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    transfer *t = userdata;
    if (t->e->o->stall_timeout_ms > 0 &&
        kv_now_ns() - t->last_byte_ns > t->e->o->stall_timeout_ms * 1000000) {
        t->stalled = true;
        return 1;
    }
    return 0;
}

static void transfer_free(transfer *t)
{
    if (!t)
        return;
    engine *e = t->e;
    for (size_t i = 0; i < e->n_live; i++)
        if (e->live[i] == t) {
            e->live[i] = e->live[--e->n_live];
            break;
        }
    if (t->easy) {
        curl_multi_remove_handle(t->e->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
    kv_http_request_free(&t->req);
    kv_parser_free(t->parser);
    if (t->resp) {
        kv_response_free(t->resp);
        free(t->resp);
    }
    free(t);
}

static int start(engine *e, size_t j, char *err, size_t errlen)
{
    kv_job *job = &e->jobs[j];
    job_state *s = &e->js[j];
    const kv_model_spec *m = &e->models[job->model];
    transfer *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->e = e;
    t->job = j;
    t->resp = calloc(1, sizeof *t->resp);
    char berr[256];
    if (!t->resp || kv_provider_build(m, &job->chat, e->keys[job->model], &t->req, berr,
                                      sizeof berr) != 0) {
        snprintf(err, errlen, "%s: cannot build the request: %s", m->label,
                 t->resp ? berr : "out of memory");
        transfer_free(t);
        return -1;
    }
    kv_response_reset(t->resp);
    t->parser = kv_parser_new(m);
    for (int h = 0; h < t->req.n_headers; h++)
        t->headers = curl_slist_append(t->headers, t->req.headers[h]);
    t->headers = curl_slist_append(t->headers, "Expect:");
    t->easy = curl_easy_init();
    if (!t->easy || !t->headers) {
        snprintf(err, errlen, "libcurl could not create a transfer");
        transfer_free(t);
        return -1;
    }
    CURL *c = t->easy;
    curl_easy_setopt(c, CURLOPT_URL, t->req.url.p);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, t->req.body.p);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->req.body.len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_PRIVATE, t);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)e->o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)e->o->request_timeout_ms);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "koeval/" KOEVAL_VERSION);

    s->attempts++;
    s->in_flight = true;
    memset(&t->att, 0, sizeof t->att);
    t->att.number = s->attempts;
    t->att.t_queue = s->t_queue;
    t->att.retry_after_ms = -1;
    t->att.next_delay_ms = -1;
    if (e->cb->attempt_begin && e->cb->attempt_begin(e->cb->ctx, job, &t->att) != 0) {
        snprintf(err, errlen, "aborted");
        transfer_free(t);
        return -1;
    }
    t->att.t_send = kv_now_ns();
    t->last_byte_ns = t->att.t_send;
    if (e->n_live == e->cap_live) {
        size_t cap = e->cap_live ? e->cap_live * 2 : 16;
        transfer **nl = realloc(e->live, cap * sizeof *nl);
        if (!nl) {
            snprintf(err, errlen, "out of memory");
            transfer_free(t);
            return -1;
        }
        e->live = nl;
        e->cap_live = cap;
    }
    e->live[e->n_live++] = t;
    if (curl_multi_add_handle(e->multi, c) != CURLM_OK) {
        snprintf(err, errlen, "libcurl could not start a transfer");
        transfer_free(t);
        return -1;
    }
    e->ms[job->model].in_flight++;
    e->in_flight++;
    double rpm = e->limits[job->model].rpm;
    if (rpm > 0)
        e->ms[job->model].next_start = t->att.t_send + (int64_t)(60e9 / rpm);
    return 0;
}

/* Tokens the model used in the minute before now. */
static double tpm_used(model_state *m, int64_t now)
{
    double sum = 0;
    size_t keep = 0;
    for (size_t i = 0; i < m->tpm_n; i++) {
        if (now - m->tpm[i].t < 60000000000LL) {
            m->tpm[keep++] = m->tpm[i];
            sum += m->tpm[i].tokens;
        }
    }
    m->tpm_n = keep;
    return sum;
}

static void tpm_add(model_state *m, int64_t now, double tokens)
{
    if (m->tpm_n == m->tpm_cap) {
        m->tpm_cap = m->tpm_cap ? m->tpm_cap * 2 : 64;
        m->tpm = realloc(m->tpm, m->tpm_cap * sizeof *m->tpm);
        if (!m->tpm) {
            m->tpm_n = m->tpm_cap = 0;
            return;
        }
    }
    m->tpm[m->tpm_n].t = now;
    m->tpm[m->tpm_n].tokens = tokens;
    m->tpm_n++;
}

static kv_error_class curl_error_class(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return KV_ERR_TIMEOUT;
    case CURLE_PARTIAL_FILE:
        return KV_ERR_TRUNCATED;
    default:
        return KV_ERR_CONNECT; /* refused, reset, DNS, TLS, nothing received */
    }
}

/* A transfer ended: classify, then retry or finish the job. */
static int finish(engine *e, transfer *t, CURLcode rc, char *err, size_t errlen)
{
    kv_job *job = &e->jobs[t->job];
    job_state *s = &e->js[t->job];
    model_state *m = &e->ms[job->model];
    int64_t now = kv_now_ns();
    t->att.t_end = now;
    long code = t->status;
    if (!code)
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    t->att.http_status = (int)code;
    if (rc == CURLE_OK || (t->aborted && t->resp->error != KV_ERR_NONE)) {
        if (!t->aborted)
            kv_parser_finish(t->parser, (int)code, t->resp);
    } else if (t->stalled) {
        t->resp->error = KV_ERR_TIMEOUT;
        snprintf(t->resp->error_message, sizeof t->resp->error_message,
                 "no data from the server for %lld ms (--timeout)",
                 (long long)e->o->stall_timeout_ms);
    } else {
        t->resp->error = curl_error_class(rc);
        snprintf(t->resp->error_message, sizeof t->resp->error_message, "%s",
                 curl_easy_strerror(rc));
    }
    t->resp->http_status = (int)code;
    t->att.error = t->resp->error;
    snprintf(t->att.error_message, sizeof t->att.error_message, "%s", t->resp->error_message);
    t->att.retry_after_ms = kv_retry_after_ms(t->retry_after[0] ? t->retry_after : NULL,
                                              t->retry_after_ms[0] ? t->retry_after_ms : NULL,
                                              t->date[0] ? t->date : NULL, unix_ms());

    double used = 0;
    if (t->resp->prompt_tokens > 0)
        used += (double)t->resp->prompt_tokens;
    if (t->resp->completion_tokens > 0)
        used += (double)t->resp->completion_tokens;
    if (used > 0)
        tpm_add(m, now, used);

    bool retry = false;
    if (t->att.error != KV_ERR_NONE && kv_error_retryable(t->att.error) &&
        s->attempts < e->o->max_attempts) {
        int64_t delay = t->att.retry_after_ms >= 0
                            ? t->att.retry_after_ms
                            : kv_engine_backoff_ms(e->o, s->attempts, &e->rng);
        if (s->waited_ms + delay <= e->o->max_wait_ms) {
            retry = true;
            t->att.next_delay_ms = delay;
            s->waited_ms += delay;
            s->ready_at = now + delay * 1000000;
            s->t_queue = s->ready_at;
        } else if (t->att.retry_after_ms >= 0) {
            /* the server asked for a longer wait than allowed: fail, do not
             * come back early (case B27) */
            snprintf(t->att.error_message, sizeof t->att.error_message,
                     "server asked to wait %lld ms, over the %lld ms allowed per request "
                     "(--max-wait)",
                     (long long)t->att.retry_after_ms, (long long)e->o->max_wait_ms);
            snprintf(t->resp->error_message, sizeof t->resp->error_message, "%s",
                     t->att.error_message);
        }
    }
    int rcb = 0;
    if (e->cb->attempt_end)
        rcb = e->cb->attempt_end(e->cb->ctx, job, &t->att, t->resp);
    m->in_flight--;
    e->in_flight--;
    s->in_flight = false;
    if (!retry) {
        kv_timing tm;
        kv_timing_compute(t->resp, t->att.t_send, &tm);
        s->done = true;
        e->done++;
        if (rcb == 0 && e->cb->job_done)
            rcb = e->cb->job_done(e->cb->ctx, job, &t->att, t->resp, &tm);
    }
    transfer_free(t);
    if (rcb != 0) {
        snprintf(err, errlen, "aborted");
        return -1;
    }
    return 0;
}

/* Starts what may start now; returns the ns until something else may, or -1. */
static int64_t schedule(engine *e, char *err, size_t errlen, int *rc)
{
    int64_t now = kv_now_ns();
    int64_t wake = -1;
    for (size_t step = 0; step < e->n_jobs; step++) {
        size_t j = (e->next_scan + step) % e->n_jobs;
        job_state *s = &e->js[j];
        if (s->done || s->in_flight)
            continue;
        size_t mi = e->jobs[j].model;
        model_state *m = &e->ms[mi];
        const kv_model_limits *lim = &e->limits[mi];
        int64_t at = s->ready_at;
        if (m->next_start > at)
            at = m->next_start;
        if (lim->tpm > 0 && tpm_used(m, now) >= lim->tpm && m->tpm_n > 0) {
            int64_t free_at = m->tpm[0].t + 60000000000LL;
            if (free_at > at)
                at = free_at;
        }
        if (m->in_flight >= (lim->concurrency > 0 ? lim->concurrency : 1))
            continue; /* woken by a completion */
        if (at > now) {
            if (wake < 0 || at - now < wake)
                wake = at - now;
            continue;
        }
        if (start(e, j, err, errlen) != 0) {
            *rc = -1;
            return -1;
        }
        e->next_scan = (j + 1) % e->n_jobs;
    }
    return wake;
}

static bool curl_ready = false; /* curl_global_init is once per process by contract */

static int init_curl(char *err, size_t errlen)
{
    if (!curl_ready) {
        if (load_curl(err, errlen) != 0)
            return -1;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "libcurl could not be initialised");
            return -1;
        }
        curl_ready = true;
    }
    return 0;
}

int kv_engine_init(char *err, size_t errlen)
{
    return init_curl(err, errlen);
}

int kv_engine_preflight(const kv_model_spec *m, char *err, size_t errlen)
{
    if (init_curl(err, errlen) != 0)
        return -1;
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "libcurl could not create a transfer");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, m->base_url);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "cannot reach %s (model %s): %s", m->base_url, m->label,
                 curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

int kv_engine_run(const kv_engine_opts *o, const kv_model_spec *models,
                  const kv_model_limits *limits, const char *const *api_keys, size_t n_models,
                  kv_job *jobs, size_t n_jobs, const kv_engine_callbacks *cb, char *err,
                  size_t errlen)
{
    if (n_jobs == 0)
        return 0;
    if (init_curl(err, errlen) != 0)
        return -1;
    engine e = {.o = o, .models = models, .limits = limits, .keys = api_keys,
                .n_models = n_models, .jobs = jobs, .n_jobs = n_jobs, .cb = cb,
                .rng = o->seed};
    e.js = calloc(n_jobs, sizeof *e.js);
    e.ms = calloc(n_models, sizeof *e.ms);
    e.multi = curl_multi_init();
    if (!e.js || !e.ms || !e.multi) {
        snprintf(err, errlen, "out of memory");
        free(e.js);
        free(e.ms);
        if (e.multi)
            curl_multi_cleanup(e.multi);
        return -1;
    }
    int64_t t0 = kv_now_ns();
    for (size_t j = 0; j < n_jobs; j++) {
        e.js[j].attempts = jobs[j].attempts_before;
        e.js[j].t_queue = t0;
    }
    int rc = 0;
    int64_t last_tick = 0;
    while (e.done < n_jobs && rc == 0) {
        if (o->stop && *o->stop) {
            snprintf(err, errlen, "interrupted");
            rc = -1;
            break;
        }
        int64_t wake = schedule(&e, err, errlen, &rc);
        if (rc)
            break;
        int running = 0;
        curl_multi_perform(e.multi, &running);
        CURLMsg *msg;
        int left;
        while (rc == 0 && (msg = curl_multi_info_read(e.multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            transfer *t = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            rc = finish(&e, t, msg->data.result, err, errlen);
        }
        if (rc || e.done >= n_jobs)
            break;
        int64_t now = kv_now_ns();
        if (cb->tick && now - last_tick >= 200000000LL) {
            cb->tick(cb->ctx, e.done, n_jobs, e.in_flight);
            last_tick = now;
        }
        int timeout_ms = 200;
        if (wake >= 0 && wake / 1000000 < timeout_ms)
            timeout_ms = (int)(wake / 1000000) + 1;
        if (e.in_flight == 0 && wake < 0) {
            /* nothing in flight and nothing scheduled: cannot happen unless
             * every remaining job is blocked by a limit; wait a little */
            timeout_ms = 50;
        }
        curl_multi_poll(e.multi, NULL, 0, timeout_ms, NULL);
    }
    if (cb->tick)
        cb->tick(cb->ctx, e.done, n_jobs, e.in_flight);
    /* an aborted run leaves transfers in flight: free them */
    while (e.n_live)
        transfer_free(e.live[e.n_live - 1]);
    free(e.live);
    for (size_t mi = 0; mi < n_models; mi++)
        free(e.ms[mi].tpm);
    curl_multi_cleanup(e.multi);
    free(e.js);
    free(e.ms);
    return rc;
}
