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

#endif
