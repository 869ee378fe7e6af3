/* Tests for src/stream.c: the SSE (WHATWG event-stream) and NDJSON splitters.
 * Every body is also fed byte by byte and split in two at every position:
 * the result must not depend on where the network cut it (case B17). */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "src/stream.h"
#include "tests/providers/provtest.h"

/* Collected events as "event|data" lines joined by "\x1e". */
typedef struct collect {
    kv_buf out;
    size_t n;
    int stop_after; /* return 7 after this many events (0 = never) */
} collect;

static int on_sse(void *ctx, const char *event, size_t event_len, const char *data, size_t data_len)
{
    collect *c = ctx;
    assert_int_equal(strlen(event), event_len); /* NUL-terminated */
    assert_int_equal(strlen(data), data_len);
    kv_buf_put(&c->out, event, event_len);
    kv_buf_putc(&c->out, '|');
    kv_buf_put(&c->out, data, data_len);
    kv_buf_putc(&c->out, '\x1e');
    c->n++;
    return c->stop_after && c->n >= (size_t)c->stop_after ? 7 : 0;
}

static int on_line(void *ctx, const char *line, size_t len)
{
    collect *c = ctx;
    assert_int_equal(strlen(line), len);
    kv_buf_put(&c->out, line, len);
    kv_buf_putc(&c->out, '\x1e');
    c->n++;
    return 0;
}

/* Runs an SSE body whole, byte by byte and at every split, and checks that
 * each run yields `want` (n_want events) with nothing pending. */
static void check_sse(const char *body, size_t n, const char *want, size_t n_want)
{
    for (size_t cut = 0; cut <= n + 1; cut++) {
        kv_sse p = {0};
        collect c = {0};
        if (cut == n + 1) {
            for (size_t i = 0; i < n; i++)
                assert_int_equal(kv_sse_feed(&p, body + i, 1, on_sse, &c), 0);
        } else {
            assert_int_equal(kv_sse_feed(&p, body, cut, on_sse, &c), 0);
            assert_int_equal(kv_sse_feed(&p, body + cut, n - cut, on_sse, &c), 0);
        }
        assert_int_equal(c.n, n_want);
        assert_int_equal(p.events, n_want);
        pt_assert_text(&c.out, want);
        assert_false(kv_sse_pending(&p));
        kv_buf_free(&c.out);
        kv_sse_free(&p);
    }
}

/* B18: ':' comment lines (OpenRouter keep-alives) are not events. */
static void test_sse_b18_comments(void **state)
{
    static const char body[] =
        ": OPENROUTER PROCESSING\n\n"
        "data: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":\"서\"},\"finish_reason\":null}]}\n\n"
        ": OPENROUTER PROCESSING\n\n"
        "data: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\"울\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n";
    static const char want[] =
        "|{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":\"서\"},\"finish_reason\":null}]}\x1e"
        "|{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\"울\"},\"finish_reason\":\"stop\"}]}\x1e"
        "|[DONE]\x1e";
    check_sse(body, sizeof body - 1, want, 3);
}

/* Lines may end in "\r\n" or a lone "\r"; a "\r\n" split between chunks is
 * one line end, not two (which would dispatch the event early). */
static void test_sse_line_ends(void **state)
{
    static const char crlf[] = "event: a\r\ndata: x\r\ndata: y\r\n\r\n";
    check_sse(crlf, sizeof crlf - 1, "a|x\ny\x1e", 1);
    static const char cr[] = "data: y\rdata: z\r\rdata: w\r\r";
    check_sse(cr, sizeof cr - 1, "|y\nz\x1e|w\x1e", 2);
    static const char mixed[] = "data: 1\n\r\ndata: 2\r\n\ndata: 3\r\r\n";
    check_sse(mixed, sizeof mixed - 1, "|1\x1e|2\x1e|3\x1e", 3);
}

/* "data:" with no space, with two spaces (only one is removed), multi-line
 * data, a field with no colon, unknown fields and id/retry. */
static void test_sse_fields(void **state)
{
    static const char body[] = "data:abc\n\n"
                               "data:  two\n\n"
                               "data: a\ndata:\ndata: b\n\n"
                               "id: 7\nretry: 100\nfoo: bar\ndata: x\n\n"
                               "data\n\n"
                               "event:token\ndata:{\"k\":1}\n\n"
                               "event: ping\n\n"
                               "data: after\n\n";
    check_sse(body, sizeof body - 1,
              "|abc\x1e| two\x1e|a\n\nb\x1e|x\x1e|\x1etoken|{\"k\":1}\x1e|after\x1e", 7);
}

/* B17: '안' (ec 95 88) cut after two bytes; the data handed out is whole. */
static void test_sse_b17_utf8_split(void **state)
{
    char body[256];
    size_t n = pt_unhex("646174613a207b2263686f69636573223a5b7b2264656c7461223a7b22636f6e74656e"
                        "74223a22ec95",
                        body, sizeof body);
    n += pt_unhex("88eb8595227d7d5d7d0a0a646174613a205b444f4e455d0a0a", body + n, sizeof body - n);
    check_sse(body, n, "|{\"choices\":[{\"delta\":{\"content\":\"안녕\"}}]}\x1e|[DONE]\x1e", 2);
}

static void test_sse_pending_and_stop(void **state)
{
    kv_sse p = {0};
    collect c = {0};
    assert_int_equal(kv_sse_feed(&p, "data: x", 7, on_sse, &c), 0);
    assert_true(kv_sse_pending(&p));
    assert_int_equal(kv_sse_feed(&p, "\n", 1, on_sse, &c), 0);
    assert_true(kv_sse_pending(&p)); /* data seen, no blank line yet */
    assert_int_equal(kv_sse_feed(&p, "\n", 1, on_sse, &c), 0);
    assert_false(kv_sse_pending(&p));
    assert_int_equal(c.n, 1);
    /* A comment alone or a trailing CR leaves nothing pending. */
    assert_int_equal(kv_sse_feed(&p, ": ka\r", 5, on_sse, &c), 0);
    assert_false(kv_sse_pending(&p));
    kv_sse_free(&p);
    kv_buf_free(&c.out);

    /* A non-zero callback result stops the feed and is returned. */
    kv_sse q = {0};
    collect d = {.stop_after = 1};
    static const char two[] = "data: 1\n\ndata: 2\n\n";
    assert_int_equal(kv_sse_feed(&q, two, sizeof two - 1, on_sse, &d), 7);
    assert_int_equal(d.n, 1);
    kv_sse_free(&q);
    kv_buf_free(&d.out);
}

/* B33: Ollama's NDJSON, a line split across two chunks. */
static void test_ndjson_b33(void **state)
{
    static const char c1[] =
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"서\"},\"done\":false}\n"
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"con";
    static const char c2[] =
        "tent\":\"울\"},\"done\":false}\n{\"model\":\"m\",\"message\":{\"role\":\"assistant\","
        "\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":10,"
        "\"eval_count\":2,\"eval_duration\":86000000}\n";
    char body[1024];
    size_t n = sizeof c1 - 1 + sizeof c2 - 1;
    memcpy(body, c1, sizeof c1 - 1);
    memcpy(body + sizeof c1 - 1, c2, sizeof c2 - 1);
    for (size_t cut = 0; cut <= n + 1; cut++) {
        kv_ndjson p = {0};
        collect c = {0};
        if (cut == n + 1) {
            for (size_t i = 0; i < n; i++)
                assert_int_equal(kv_ndjson_feed(&p, body + i, 1, on_line, &c), 0);
        } else {
            assert_int_equal(kv_ndjson_feed(&p, body, cut, on_line, &c), 0);
            assert_int_equal(kv_ndjson_feed(&p, body + cut, n - cut, on_line, &c), 0);
        }
        assert_int_equal(c.n, 3);
        assert_int_equal(p.lines, 3);
        assert_false(kv_ndjson_pending(&p));
        assert_true(pt_contains(c.out.p, c.out.len, "\"content\":\"울\"},\"done\":false}\x1e"));
        kv_buf_free(&c.out);
        kv_ndjson_free(&p);
    }
}

/* CRLF lines, blank lines skipped, a last line without "\n" via flush. */
static void test_ndjson_crlf_and_flush(void **state)
{
    kv_ndjson p = {0};
    collect c = {0};
    static const char body[] = "{\"a\":1}\r\n\r\n\n{\"b\":2}\r";
    assert_int_equal(kv_ndjson_feed(&p, body, sizeof body - 1, on_line, &c), 0);
    assert_int_equal(c.n, 1);
    assert_true(kv_ndjson_pending(&p));
    assert_int_equal(kv_ndjson_flush(&p, on_line, &c), 0);
    assert_false(kv_ndjson_pending(&p));
    pt_assert_text(&c.out, "{\"a\":1}\x1e{\"b\":2}\x1e");
    assert_int_equal(kv_ndjson_flush(&p, on_line, &c), 0);
    assert_int_equal(c.n, 2);
    kv_ndjson_free(&p);
    kv_buf_free(&c.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_b18_comments),
        cmocka_unit_test(test_sse_line_ends),
        cmocka_unit_test(test_sse_fields),
        cmocka_unit_test(test_sse_b17_utf8_split),
        cmocka_unit_test(test_sse_pending_and_stop),
        cmocka_unit_test(test_ndjson_b33),
        cmocka_unit_test(test_ndjson_crlf_and_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
