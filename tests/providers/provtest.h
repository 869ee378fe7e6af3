/*
 * provtest.h — helpers shared by the provider and stream tests (static
 * functions, so that each test program stays one file plus testutil).
 * Include after "tests/testutil.h".
 */
#ifndef KOEVAL_PROVTEST_H
#define KOEVAL_PROVTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/providers/provider.h"
#include "src/text.h"
#include "src/timing.h"

/* Seconds on the fake clock to CLOCK_MONOTONIC-like ns. A base offset keeps
 * "request sent at 0 s" from colliding with 0 = "not seen". */
#define T0_NS INT64_C(1000000000000)
#define AT(s) (T0_NS + (int64_t)((s)*1e9 + ((s) >= 0 ? 0.5 : -0.5)))
#define NS_TO_S(ns) ((double)(ns) / 1e9)

/* Decodes a hex string ("ec 95 88" or "ec9588") into buf; returns the length. */
static inline size_t pt_unhex(const char *hex, char *buf, size_t cap)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1 || n >= cap)
            fail_msg("bad hex at '%s'", hex);
        buf[n++] = (char)v;
        hex += 2;
    }
    return n;
}

/* A fresh response on the heap (kv_response holds a large event array). */
static inline kv_response *pt_response_new(void)
{
    kv_response *r = calloc(1, sizeof *r);
    assert_non_null(r);
    kv_response_reset(r);
    return r;
}

static inline void pt_response_free(kv_response *r)
{
    kv_response_free(r);
    free(r);
}

static inline kv_model_spec pt_spec(const char *s)
{
    kv_model_spec m;
    char err[256];
    if (kv_model_spec_parse(s, &m, err, sizeof err) != 0)
        fail_msg("spec '%s': %s", s, err);
    return m;
}

/* Feeds `body` in chunks of `chunk` bytes (0 = whole), all at now_ns, then
 * finishes with status. Returns the last feed's result. */
static inline int pt_run_chunked(kv_response *r, const char *spec, int status, const char *body,
                                 size_t n, size_t chunk, int64_t now_ns)
{
    kv_model_spec m = pt_spec(spec);
    kv_parser *p = kv_parser_new(&m);
    int rc = 0;
    if (chunk == 0)
        chunk = n ? n : 1;
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        int c = kv_parser_feed(p, status, body + i, k, now_ns, r);
        if (c != 0)
            rc = c;
    }
    kv_parser_finish(p, status, r);
    kv_parser_free(p);
    return rc;
}

/* Runs body whole, byte by byte, and split in two at every position; calls
 * check(r) after each run. */
static inline void pt_run_all_splits(const char *spec, int status, const char *body, size_t n,
                                     void (*check)(const kv_response *r))
{
    kv_response *r = pt_response_new();
    kv_model_spec m = pt_spec(spec);
    pt_run_chunked(r, spec, status, body, n, 0, AT(1));
    check(r);
    kv_response_reset(r);
    pt_run_chunked(r, spec, status, body, n, 1, AT(1));
    check(r);
    for (size_t cut = 0; cut <= n; cut++) {
        kv_response_reset(r);
        kv_parser *p = kv_parser_new(&m);
        kv_parser_feed(p, status, body, cut, AT(1), r);
        kv_parser_feed(p, status, body + cut, n - cut, AT(2), r);
        kv_parser_finish(p, status, r);
        kv_parser_free(p);
        check(r);
    }
    pt_response_free(r);
}

/* Feeds each event of a timed list (seconds, text) as one chunk at its time;
 * `sep` is appended to each (e.g. "\n\n" for SSE). */
typedef struct pt_timed {
    double t;
    const char *bytes;
} pt_timed;

static inline void pt_run_timed(kv_response *r, const char *spec, const pt_timed *ev, size_t n,
                                const char *sep)
{
    kv_model_spec m = pt_spec(spec);
    kv_parser *p = kv_parser_new(&m);
    for (size_t i = 0; i < n; i++) {
        kv_parser_feed(p, 200, ev[i].bytes, strlen(ev[i].bytes), AT(ev[i].t), r);
        kv_parser_feed(p, 200, sep, strlen(sep), AT(ev[i].t), r);
    }
    kv_parser_finish(p, 200, r);
    kv_parser_free(p);
}

static inline void pt_assert_text(const kv_buf *b, const char *expected)
{
    assert_int_equal(b->len, strlen(expected));
    if (b->len)
        assert_memory_equal(b->p, expected, b->len);
}

static inline bool pt_contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (!hay || k > n)
        return false;
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

/* ---- Whole-response checks (the Anthropic and Gemini tests) ---- */

/* What a response should hold after a run. */
typedef struct pt_expect {
    const char *text;
    const char *reasoning;
    const char *finish;
    int64_t prompt, completion;
    kv_usage_source source;
    kv_error_class error;
    const char *message; /* NULL: not checked */
    bool done;
    bool feed_fails; /* some kv_parser_feed returned -1 */
} pt_expect;

/* Feeds body[0..n) in the chunks whose ends are cuts[0..ncuts) (the last cut
 * must be n), the k-th chunk at time (k + 1) * 1000 ns, then finishes.
 * Returns whether some feed returned -1. */
static inline bool pt_feed_chunks(const kv_model_spec *m, int status, const char *body, size_t n,
                                  const size_t *cuts, size_t ncuts, kv_response *r)
{
    kv_parser *p = kv_parser_new(m);
    bool failed = false;
    size_t at = 0;
    for (size_t k = 0; k < ncuts; k++) {
        if (kv_parser_feed(p, status, body + at, cuts[k] - at, (int64_t)(k + 1) * 1000, r) != 0)
            failed = true;
        at = cuts[k];
    }
    assert_int_equal(at, n);
    kv_parser_finish(p, status, r);
    kv_parser_free(p);
    return failed;
}

/* Fails the test (naming the run `how`) where r or failed differ from e. */
static inline void pt_check(const kv_response *r, bool failed, const pt_expect *e, const char *how)
{
    if (strlen(e->text) != r->text.len || (r->text.len && memcmp(r->text.p, e->text, r->text.len)))
        fail_msg("%s: text '%.*s', expected '%s'", how, (int)r->text.len,
                 r->text.p ? r->text.p : "", e->text);
    const char *reasoning = e->reasoning ? e->reasoning : "";
    if (strlen(reasoning) != r->reasoning.len ||
        (r->reasoning.len && memcmp(r->reasoning.p, reasoning, r->reasoning.len)))
        fail_msg("%s: reasoning '%.*s', expected '%s'", how, (int)r->reasoning.len,
                 r->reasoning.p ? r->reasoning.p : "", reasoning);
    if (strcmp(r->finish_reason, e->finish) != 0)
        fail_msg("%s: finish_reason '%s', expected '%s'", how, r->finish_reason, e->finish);
    if (r->prompt_tokens != e->prompt || r->completion_tokens != e->completion ||
        r->usage_source != e->source)
        fail_msg("%s: tokens %lld/%lld source %d, expected %lld/%lld source %d", how,
                 (long long)r->prompt_tokens, (long long)r->completion_tokens, (int)r->usage_source,
                 (long long)e->prompt, (long long)e->completion, (int)e->source);
    if (r->error != e->error)
        fail_msg("%s: error %s (%s), expected %s", how, kv_error_class_name(r->error),
                 r->error_message, kv_error_class_name(e->error));
    if (e->message && strcmp(r->error_message, e->message) != 0)
        fail_msg("%s: error_message '%s', expected '%s'", how, r->error_message, e->message);
    if (r->done != e->done)
        fail_msg("%s: done %d, expected %d", how, r->done, e->done);
    if (failed != e->feed_fails)
        fail_msg("%s: a feed %s -1", how, failed ? "returned" : "did not return");
    if (r->invalid_utf8)
        fail_msg("%s: invalid_utf8 set", how);
}

/* Runs body through the parser whole, byte by byte and split in two at every
 * point, and checks each result against e. */
static inline void pt_check_all_splits(const kv_model_spec *m, int status, const char *body,
                                       const pt_expect *e)
{
    size_t n = strlen(body);
    kv_response *r = pt_response_new();
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    char how[64];

    cuts[0] = n;
    pt_check(r, pt_feed_chunks(m, status, body, n, cuts, 1, r), e, "whole");

    kv_response_reset(r);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    pt_check(r, pt_feed_chunks(m, status, body, n, cuts, n, r), e, "byte by byte");

    for (size_t i = 1; i < n; i++) {
        kv_response_reset(r);
        cuts[0] = i;
        cuts[1] = n;
        snprintf(how, sizeof how, "split at %zu", i);
        pt_check(r, pt_feed_chunks(m, status, body, n, cuts, 2, r), e, how);
    }
    free(cuts);
    pt_response_free(r);
}

/* An error response (status, body) for the model `spec`: no text, no usage,
 * not done, error class `want` and (unless NULL) error_message `message`,
 * however the body is split. */
static inline void pt_check_error_body(const char *spec, int status, const char *body,
                                       kv_error_class want, const char *message)
{
    kv_model_spec m = pt_spec(spec);
    pt_expect e = {.text = "",
                   .finish = "",
                   .prompt = -1,
                   .completion = -1,
                   .source = KV_USAGE_MISSING,
                   .error = want,
                   .message = message,
                   .done = false};
    pt_check_all_splits(&m, status, body, &e);
}

/* The value of the first header line `name: value` (name case-insensitive)
 * of a built request, or NULL. */
static inline const char *pt_header(const kv_http_request *q, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < q->n_headers; i++)
        if (strncasecmp(q->headers[i], name, n) == 0 && q->headers[i][n] == ':')
            return q->headers[i] + n + 1 + (q->headers[i][n + 1] == ' ');
    return NULL;
}

#endif
