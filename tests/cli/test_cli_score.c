/*
 * The koeval binary end to end: `koeval score` (and `normalize`/`tokenize`)
 * run as a user runs them, through the shell, on fixture files written into
 * a fresh mkdtemp directory. Expected values are derived by hand or come from
 * the bug-report cases in ../shared/cases/handoff.jsonl (inputs copied here):
 *   B04  "서울 특별시" alone: sentence BLEU 100 (effective order), corpus 0
 *   B05  an empty hypothesis stays in the corpus: 100·exp(1 − 15/9)
 *   B07  NFD Hangul equals NFC after the default normalization
 * and the ways input goes wrong: each is either scored (with one note on
 * stderr) or refused with ONE "koeval: " line and the documented exit code
 * (0 ok, 2 usage, 3 input).
 */
#include "tests/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/buf.h"

/* B05's streams, one segment per line; the second hypothesis is empty. */
#define B05_HYP "서울은 한국의 수도이다 .\n\n부산은 큰 항구 도시이다 .\n"
#define B05_REF "서울은 한국의 수도이다 .\n대전은 과학 도시로 알려져 있다 .\n부산은 큰 항구 도시이다 .\n"

/* B07: 테스트 as six conjoining jamo (NFD, 18 bytes) and precomposed (NFC, 9). */
#define B07_NFD "\xe1\x84\x90\xe1\x85\xa6\xe1\x84\x89\xe1\x85\xb3\xe1\x84\x90\xe1\x85\xb3"
#define B07_NFC "테스트"

typedef struct run_result {
    int rc;
    char *out;
    char *err;
} run_result;

/* Group setup: the program's temporary directory, which kv_test_put and
 * kv_test_put_bytes (tests/testutil.h) fill. */
static int setup_dir(void **state)
{
    (void)state;
    return kv_test_dir_make("/tmp/koeval-cli-score-XXXXXX");
}

/* Runs "koeval ARGS" inside the test directory (so messages name files as
 * given). ARGS is shell text: it may contain redirections and pipes written
 * as "KV" for the binary, e.g. "cat hyp | KV score -r ref". */
static run_result koeval(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static run_result koeval(const char *fmt, ...)
{
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof args);
    kv_buf cmd = {0};
    kv_buf_printf(&cmd, "cd '%s' && ", kv_test_dir());
    if (strstr(args, "KV ")) {
        for (const char *p = args; *p;) {
            if (strncmp(p, "KV ", 3) == 0) {
                kv_buf_printf(&cmd, "'%s' ", KOEVAL_BINARY);
                p += 3;
            } else {
                kv_buf_putc(&cmd, *p++);
            }
        }
    } else {
        kv_buf_printf(&cmd, "'%s' %s", KOEVAL_BINARY, args);
    }
    run_result r;
    r.rc = kv_test_run(cmd.p, &r.out, &r.err);
    kv_buf_free(&cmd);
    return r;
}

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Asserts the run failed with `rc`, printed nothing on stdout (when
 * `quiet_stdout`), and wrote exactly one line "koeval: …" to stderr that
 * contains each of the NULL-terminated needles. */
static void assert_one_error(const run_result *r, int rc, int quiet_stdout, ...)
{
    if (r->rc != rc)
        fail_msg("exit code %d, expected %d; stderr: %s", r->rc, rc, r->err);
    if (quiet_stdout && r->out[0])
        fail_msg("stdout should be empty, got: %s", r->out);
    if (strncmp(r->err, "koeval: ", 8) != 0 || count_lines(r->err) != 1 ||
        r->err[strlen(r->err) - 1] != '\n')
        fail_msg("stderr should be one 'koeval: ' line, got: [%s]", r->err);
    va_list ap;
    va_start(ap, quiet_stdout);
    for (const char *needle; (needle = va_arg(ap, const char *));)
        if (!strstr(r->err, needle))
            fail_msg("stderr [%s] does not mention '%s'", r->err, needle);
    va_end(ap);
}

/* Parses `--format json` output and returns the corpus entry named `name`
 * (the caller deletes *root). */
static const cJSON *corpus_entry(const char *json, const char *name, cJSON **root)
{
    *root = cJSON_Parse(json);
    if (!*root)
        fail_msg("stdout is not JSON: %s", json);
    const cJSON *corpus = cJSON_GetObjectItemCaseSensitive(*root, "corpus");
    assert_true(cJSON_IsArray(corpus));
    const cJSON *e;
    cJSON_ArrayForEach(e, corpus)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return e;
    }
    fail_msg("no corpus entry named %s in %s", name, json);
    return NULL;
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v))
        fail_msg("field %s is not a number", key);
    return v->valuedouble;
}

/* Runs `koeval score ARGS --format json` (exit 0 expected) and returns the
 * corpus score of metric `name`. */
static double json_score(const char *name, const char *args)
{
    run_result r = koeval("score %s --format json", args);
    if (r.rc != 0)
        fail_msg("koeval score %s: exit %d: %s", args, r.rc, r.err);
    cJSON *root;
    double s = num(corpus_entry(r.out, name, &root), "score");
    cJSON_Delete(root);
    run_free(&r);
    return s;
}

/* Returns line `k` (0-based) of `s` in a static buffer. */
static const char *line_at(const char *s, size_t k)
{
    static char buf[4096];
    for (; k && s; k--) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s || !*s)
        return "";
    size_t n = strcspn(s, "\n");
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- B05 ---- */

static void test_b05_empty_hypothesis_kept(void **state)
{
    (void)state;
    kv_test_put("hyp.txt", B05_HYP);
    kv_test_put("ref.txt", B05_REF);
    run_result r = koeval("score -r ref.txt -i hyp.txt -m bleu --format json");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    cJSON *root;
    const cJSON *b = corpus_entry(r.out, "BLEU", &root);
    /* every hypothesis n-gram matches; only the brevity penalty counts:
     * hyp 4+0+5 tokens, ref 4+6+5 */
    assert_near(num(b, "score"), 51.3417, 5e-5);
    assert_close(num(b, "score"), 100.0 * exp(1.0 - 15.0 / 9.0));
    assert_close(num(b, "bp"), exp(1.0 - 15.0 / 9.0));
    assert_int_equal((int)num(b, "sys_len"), 9);
    assert_int_equal((int)num(b, "ref_len"), 15);
    assert_int_equal((int)num(b, "segments"), 3);
    assert_int_equal((int)num(root, "lines"), 3);
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(b, "signature");
    assert_true(cJSON_IsString(sig));
    assert_true(starts_with(sig->valuestring, "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|"
                                              "norm:nfc|v:"));
    cJSON_Delete(root);
    run_free(&r);

    kv_test_put("empty3.txt", "\n\n\n");
    r = koeval("score -r ref.txt -i empty3.txt -m bleu --format json");
    assert_int_equal(r.rc, 0);
    b = corpus_entry(r.out, "BLEU", &root);
    assert_close(num(b, "score"), 0.0);
    assert_int_equal((int)num(b, "sys_len"), 0);
    assert_int_equal((int)num(b, "ref_len"), 15);
    assert_int_equal((int)num(root, "lines"), 3);
    cJSON_Delete(root);
    run_free(&r);
}

/* ---- input that is scored after cleaning ---- */

static void test_invalid_utf8_scored_as_replacement(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    /* a stray byte, a truncated 3-byte sequence (one U+FFFD: a maximal
     * subpart), an overlong pair (two U+FFFD), as Python's errors="replace" */
    kv_test_put("bad.txt",
                "서울은 한국의 \xff수도이다 .\n\xed\x95\n부산은 \xc0\xaf큰 항구 도시이다 .\n");
    kv_test_put("fffd.txt", "서울은 한국의 \xef\xbf\xbd수도이다 .\n\xef\xbf\xbd\n"
                            "부산은 \xef\xbf\xbd\xef\xbf\xbd큰 항구 도시이다 .\n");
    run_result r = koeval("score -r ref.txt -i bad.txt -m bleu");
    assert_int_equal(r.rc, 0);
    assert_one_error(&r, 0, false, "invalid UTF-8", "bad.txt", NULL);
    assert_true(starts_with(r.out, "BLEU|"));
    run_free(&r);

    r = koeval("score -r ref.txt -i fffd.txt -m bleu");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    run_free(&r);

    const char *metrics[][2] = {{"bleu", "BLEU"}, {"chrf", "chrF2"}, {"chrf++", "chrF2++"},
                                {"rougeL", "rougeL"}, {"f1", "F1"}};
    for (size_t i = 0; i < sizeof metrics / sizeof *metrics; i++) {
        char a[128], b[128];
        snprintf(a, sizeof a, "-r ref.txt -i bad.txt -m %s", metrics[i][0]);
        snprintf(b, sizeof b, "-r ref.txt -i fffd.txt -m %s", metrics[i][0]);
        assert_close(json_score(metrics[i][1], a), json_score(metrics[i][1], b));
    }
    /* the same in a reference file */
    assert_close(json_score("chrF2", "-r bad.txt -i ref.txt -m chrf"),
                 json_score("chrF2", "-r fffd.txt -i ref.txt -m chrf"));
}

static void test_bom_removed(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("hyp.txt", B05_HYP);
    kv_test_put("bom.txt", "\xef\xbb\xbf" B05_HYP);
    run_result r = koeval("score -r ref.txt -i bom.txt");
    assert_one_error(&r, 0, false, "bom.txt", "byte order mark", NULL);
    run_free(&r);
    assert_close(json_score("BLEU", "-r ref.txt -i bom.txt"),
                 json_score("BLEU", "-r ref.txt -i hyp.txt"));
    assert_close(json_score("chrF2", "-r ref.txt -i bom.txt"),
                 json_score("chrF2", "-r ref.txt -i hyp.txt"));
    /* the BOM on a first line that matches exactly must not cost a match */
    assert_close(json_score("EM", "-r ref.txt -i bom.txt -m em"), 200.0 / 3.0);
    kv_test_put("bomref.txt", "\xef\xbb\xbf" B05_REF);
    assert_close(json_score("BLEU", "-r bomref.txt -i hyp.txt"), 100.0 * exp(1.0 - 15.0 / 9.0));
}

static void test_crlf_equals_lf(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("hyp.txt", B05_HYP);
    kv_test_put("crlf.txt", "서울은 한국의 수도이다 .\r\n\r\n부산은 큰 항구 도시이다 .\r\n");
    kv_test_put("refcrlf.txt", "서울은 한국의 수도이다 .\r\n대전은 과학 도시로 알려져 있다 .\r\n"
                               "부산은 큰 항구 도시이다 .\r\n");
    run_result r = koeval("score -r ref.txt -i crlf.txt -m bleu,chrf,chrf++,rougeL,em,f1");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    run_result l = koeval("score -r ref.txt -i hyp.txt -m bleu,chrf,chrf++,rougeL,em,f1");
    assert_int_equal(l.rc, 0);
    assert_string_equal(r.out, l.out);
    run_free(&r);
    r = koeval("score -r refcrlf.txt -i crlf.txt -m bleu,chrf,chrf++,rougeL,em,f1");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, l.out);
    run_free(&r);
    run_free(&l);
    /* a missing final newline is not a missing line */
    kv_test_put("nonl.txt", "서울은 한국의 수도이다 .\n\n부산은 큰 항구 도시이다 .");
    assert_close(json_score("BLEU", "-r ref.txt -i nonl.txt"), 100.0 * exp(1.0 - 15.0 / 9.0));
}

/* ---- input that is refused ---- */

static void test_nul_byte_refused(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put_bytes("nul.txt", "서울은 한국의 수도이다 .\nab\0cd\n부산은 큰 항구 도시이다 .\n",
                      strlen(B05_HYP) + 5);
    run_result r = koeval("score -r ref.txt -i nul.txt");
    assert_one_error(&r, 3, true, "nul.txt:2", "NUL", NULL);
    run_free(&r);
    r = koeval("score -r nul.txt -i ref.txt");
    assert_one_error(&r, 3, true, "nul.txt:2", "NUL", NULL);
    run_free(&r);
    /* UTF-16 is what usually brings NUL bytes */
    kv_test_put_bytes("utf16.txt",
                      "\xff\xfe"
                      "a\0\n\0",
                      6);
    r = koeval("score -r ref.txt -i utf16.txt");
    assert_one_error(&r, 3, true, "utf16.txt:1", "NUL", NULL);
    run_free(&r);
}

static void test_long_line(void **state)
{
    (void)state;
    size_t big = 10u * 1000 * 1000;
    kv_buf b = {0};
    kv_buf_put(&b, "ok\n", 3);
    kv_buf_reserve(&b, big + 8);
    memset(b.p + b.len, 'a', big);
    b.len += big;
    kv_buf_put(&b, "\nc\n", 3);
    kv_test_put_bytes("long.txt", b.p, b.len);
    kv_buf_free(&b);
    kv_test_put("ref3.txt", "ok\nb\nc\n");
    run_result r = koeval("score -r ref3.txt -i long.txt");
    assert_one_error(&r, 3, true, "long.txt:2", "--max-line-bytes", NULL);
    run_free(&r);
    r = koeval("score -r long.txt -i ref3.txt -m chrf");
    assert_one_error(&r, 3, true, "long.txt:2", "--max-line-bytes", NULL);
    run_free(&r);
    /* raised limit: scored, no crash; the long line matches nothing, so only
     * the other two lines' character n-grams count */
    r = koeval("score -r ref3.txt -i long.txt --max-line-bytes 20000000 -m bleu,chrf");
    assert_int_equal(r.rc, 0);
    assert_int_equal(count_lines(r.out), 2);
    run_free(&r);
    /* the limit is exact: a line of N bytes passes --max-line-bytes N */
    kv_test_put("ten.txt", "0123456789\n");
    kv_test_put("ten-ref.txt", "0123456789\n");
    assert_close(json_score("chrF2", "-r ten-ref.txt -i ten.txt --max-line-bytes 10 -m chrf"),
                 100.0);
    r = koeval("score -r ten-ref.txt -i ten.txt --max-line-bytes 9 -m chrf");
    assert_one_error(&r, 3, true, "ten", ":1", "--max-line-bytes", NULL);
    run_free(&r);
}

static void test_line_count_mismatch(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("two.txt", "a\nb\n");
    kv_test_put("four.txt", "a\nb\nc\nd");
    run_result r = koeval("score -r ref.txt -i two.txt");
    assert_one_error(&r, 3, true, "two.txt", "ref.txt", " 2 ", " 3", NULL);
    run_free(&r);
    r = koeval("score -r ref.txt -i four.txt");
    assert_one_error(&r, 3, true, "four.txt", "ref.txt", " 4", " 3 ", NULL);
    run_free(&r);
    /* a second reference stream that is short */
    kv_test_put("hyp.txt", B05_HYP);
    r = koeval("score -r ref.txt -r two.txt -i hyp.txt");
    assert_one_error(&r, 3, true, "two.txt", " 2 ", " 3", NULL);
    run_free(&r);
    /* an empty hypothesis file against three references */
    kv_test_put("empty.txt", "");
    r = koeval("score -r ref.txt -i empty.txt");
    assert_one_error(&r, 3, true, "empty.txt", "ref.txt", " 0 ", " 3", NULL);
    run_free(&r);
}

static void test_missing_file(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("hyp.txt", B05_HYP);
    run_result r = koeval("score -r ref.txt -i nosuch.txt");
    assert_one_error(&r, 3, true, "cannot open", "nosuch.txt", NULL);
    run_free(&r);
    r = koeval("score -r nosuch-ref.txt -i hyp.txt");
    assert_one_error(&r, 3, true, "cannot open", "nosuch-ref.txt", NULL);
    run_free(&r);
    r = koeval("score -r . -i hyp.txt");
    assert_one_error(&r, 3, true, NULL);
    run_free(&r);
}

static void test_usage_errors(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("hyp.txt", B05_HYP);
    /* arguments, and a word the one stderr line must contain */
    const char *cases[][2] = {
        {"score -r ref.txt -i hyp.txt --bogus", "--bogus"},
        {"score -r ref.txt -i hyp.txt -m bogus", "bogus"},
        {"score -r ref.txt -i hyp.txt -m bleu,bogus", "bogus"},
        {"score -r ref.txt -i hyp.txt -m ''", "metric"},
        {"score -r ref.txt -i hyp.txt -tok bogus", "bogus"},
        {"score -r ref.txt -i hyp.txt -tok rouge", "rouge"},
        {"score -r ref.txt -i hyp.txt --norm bogus", "bogus"},
        {"score -i hyp.txt -r", "-r"},
        {"score -i hyp.txt", "-r"},
        {"score", "-r"},
        {"score -r ref.txt -i hyp.txt --format xml", "xml"},
        {"score -r ref.txt -i hyp.txt --smooth-method bogus", "bogus"},
        {"score -r ref.txt -i hyp.txt --max-ngram-order 0", "--max-ngram-order"},
        {"score -r ref.txt -i hyp.txt --max-line-bytes 12x", "--max-line-bytes"},
        {"score -r ref.txt -i hyp.txt --chrf-beta -1", "--chrf-beta"},
        {"score -r ref.txt -i hyp.txt --rouge-tokenizer bogus", "bogus"},
        {"score -r ref.txt -i hyp.txt --qa-style bogus", "bogus"},
        /* once a crash: chrF with no n-gram order at all */
        {"score -r ref.txt -i hyp.txt -m chrf --chrf-char-order 0", "--chrf-char-order"},
        {"score -r ref.txt -i hyp.txt -m chrf++ --chrf-char-order 0 --chrf-word-order 0",
         "--chrf-word-order"},
        {"score -r - -i -", "standard input"},
        /* files to score and a stored run to re-score do not mix */
        {"score -r ref.txt -i hyp.txt --db x.db", "leave out --db"},
        {"bogus", "bogus"},
        {"tokenize -tok bogus", "bogus"},
        {"normalize --norm bogus", "bogus"},
        {"normalize --bogus", "--bogus"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run_result r = koeval("%s </dev/null", cases[i][0]);
        assert_one_error(&r, 2, true, cases[i][1], NULL);
        run_free(&r);
    }
    run_result r = koeval("score --help");
    assert_int_equal(r.rc, 0);
    assert_true(starts_with(r.out, "usage: koeval score"));
    assert_string_equal(r.err, "");
    run_free(&r);
}

/* ---- standard input ---- */

static void test_stdin(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("hyp.txt", B05_HYP);
    double want_bleu = json_score("BLEU", "-r ref.txt -i hyp.txt");
    double want_chrf = json_score("chrF2", "-r ref.txt -i hyp.txt");
    assert_close(json_score("BLEU", "-r ref.txt -i - <hyp.txt"), want_bleu);
    assert_close(json_score("chrF2", "-r ref.txt -i - <hyp.txt"), want_chrf);
    assert_close(json_score("chrF2", "-r - -i hyp.txt <ref.txt"), want_chrf);

    run_result f = koeval("score -r ref.txt -i hyp.txt");
    run_result p = koeval("cat hyp.txt | KV score -r ref.txt");
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.out, f.out);
    assert_string_equal(p.err, "");
    run_free(&p);
    p = koeval("cat hyp.txt | KV score -r ref.txt -i -");
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.out, f.out);
    run_free(&p);
    run_free(&f);

    /* a short pipe is named in the mismatch message */
    p = koeval("printf 'a\\n' | KV score -r ref.txt");
    assert_one_error(&p, 3, true, "ref.txt", " 1 ", " 3", NULL);
    run_free(&p);
}

/* ---- text output and signatures ---- */

static void test_text_signatures(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("hyp.txt", B05_HYP);
    run_result r = koeval("score -r ref.txt -i hyp.txt");
    assert_int_equal(r.rc, 0);
    assert_int_equal(count_lines(r.out), 2);
    assert_true(starts_with(line_at(r.out, 0),
                            "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|norm:nfc|v:"));
    assert_non_null(strstr(line_at(r.out, 0), " = 51.34 "));
    assert_non_null(strstr(line_at(r.out, 0), "hyp_len = 9 ref_len = 15"));
    assert_true(
        starts_with(line_at(r.out, 1), "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|norm:nfc|v:"));
    run_free(&r);

    r = koeval("score -r ref.txt -i hyp.txt -m bleu,chrf,chrf++,rougeL,em,f1");
    assert_int_equal(r.rc, 0);
    const char *prefixes[] = {"BLEU|", "chrF2|", "chrF2++|nrefs:1|case:mixed|eff:yes|nc:6|nw:2|",
                              "rougeL|nrefs:1|tok:unicode|", "EM|nrefs:1|style:squad|",
                              "F1|nrefs:1|style:squad|"};
    assert_int_equal(count_lines(r.out), 6);
    for (size_t i = 0; i < 6; i++)
        if (!starts_with(line_at(r.out, i), prefixes[i]))
            fail_msg("line %zu: [%s] should start with %s", i, line_at(r.out, i), prefixes[i]);
    run_free(&r);

    /* --lang picks the BLEU tokenizer; -tok overrides it */
    const char *lang_cases[][2] = {
        {"--lang zh", "tok:zh|"},        {"--lang zh-Hant", "tok:zh|"},
        {"--lang ja", "tok:char|"},      {"--lang ko", "tok:13a|"},
        {"--lang en", "tok:13a|"},       {"--lang ja -tok 13a", "tok:13a|"},
        {"-tok char --lang zh", "tok:char|"}, {"-tok char", "tok:char|"},
        {"--tokenize=intl", "tok:intl|"}, {"--norm none", "tok:13a|smooth:exp|norm:none|"},
    };
    for (size_t i = 0; i < sizeof lang_cases / sizeof *lang_cases; i++) {
        r = koeval("score -r ref.txt -i hyp.txt -m bleu %s", lang_cases[i][0]);
        assert_int_equal(r.rc, 0);
        /* --lang adds one fidelity line for the languages it can check */
        bool fid = strstr(lang_cases[i][0], "--lang") != NULL;
        assert_int_equal(count_lines(r.out), fid ? 2 : 1);
        if (fid && !starts_with(line_at(r.out, 1), "fidelity|lang:"))
            fail_msg("%s: [%s] should end with a fidelity line", lang_cases[i][0], r.out);
        if (!starts_with(r.out, "BLEU|nrefs:1|case:mixed|eff:no|") ||
            !strstr(line_at(r.out, 0), lang_cases[i][1]))
            fail_msg("%s: [%s] should carry %s", lang_cases[i][0], r.out, lang_cases[i][1]);
        run_free(&r);
    }
    /* tok:char counts syllables: hyp 11+0+11, ref 11+14+11; all n-grams match */
    r = koeval("score -r ref.txt -i hyp.txt -m bleu --lang ja --format json");
    cJSON *root;
    const cJSON *b = corpus_entry(r.out, "BLEU", &root);
    assert_int_equal((int)num(b, "sys_len"), 22);
    assert_int_equal((int)num(b, "ref_len"), 36);
    assert_close(num(b, "score"), 100.0 * exp(1.0 - 36.0 / 22.0));
    cJSON_Delete(root);
    run_free(&r);
}

/* ---- per-segment scores (B04) ---- */

static void test_sentence_level_b04(void **state)
{
    (void)state;
    kv_test_put("seoul.txt", "서울 특별시\n");
    run_result r = koeval("score -r seoul.txt -i seoul.txt -m bleu --sentence-level");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    size_t segs = 0, corpus = 0;
    for (size_t i = 0; i < count_lines(r.out); i++) {
        const char *l = line_at(r.out, i);
        if (starts_with(l, "1\t")) {
            segs++;
            assert_non_null(strstr(l, "BLEU = 100.00"));
        } else if (starts_with(l, "BLEU|")) {
            corpus++;
            assert_non_null(strstr(l, "|eff:no|"));
            assert_non_null(strstr(l, " = 0.00 "));
        } else if (!starts_with(l, "# per-segment BLEU: BLEU|nrefs:1|case:mixed|eff:yes|")) {
            fail_msg("unexpected line [%s]", l);
        }
    }
    assert_int_equal(segs, 1);
    assert_int_equal(corpus, 1);
    run_free(&r);

    /* the control of B04: four tokens reach every order, 100 either way */
    kv_test_put("four.txt", "대한민국의 수도는 서울특별시 이다\n");
    assert_close(json_score("BLEU", "-r four.txt -i four.txt -m bleu"), 100.0);

    /* B05 per segment: 100, 0 (empty), 100; then the corpus lines */
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("hyp.txt", B05_HYP);
    r = koeval("score -r ref.txt -i hyp.txt -m bleu,chrf --sentence-level --format json");
    assert_int_equal(r.rc, 0);
    cJSON *root;
    const cJSON *b = corpus_entry(r.out, "BLEU", &root);
    assert_close(num(b, "score"), 100.0 * exp(1.0 - 15.0 / 9.0));
    const cJSON *seg = cJSON_GetObjectItemCaseSensitive(root, "segments");
    assert_int_equal(cJSON_GetArraySize(seg), 3);
    const double want[] = {100.0, 0.0, 100.0};
    for (int i = 0; i < 3; i++) {
        const cJSON *s = cJSON_GetArrayItem(seg, i);
        assert_int_equal((int)num(s, "line"), i + 1);
        assert_close(num(s, "BLEU"), want[i]);
        assert_close(num(s, "chrF2"), want[i]);
    }
    cJSON_Delete(root);
    run_free(&r);
}

/* ---- B07 ---- */

static void test_b07_nfd(void **state)
{
    (void)state;
    kv_test_put("nfd.txt", B07_NFD "\n");
    kv_test_put("nfc.txt", B07_NFC "\n");
    assert_close(json_score("chrF2", "-r nfc.txt -i nfd.txt -m chrf"), 100.0);
    assert_close(json_score("chrF2", "-r nfd.txt -i nfc.txt -m chrf"), 100.0);
    assert_close(json_score("EM", "-r nfc.txt -i nfd.txt -m em,f1 --lang ko"), 100.0);
    assert_close(json_score("charF1", "-r nfc.txt -i nfd.txt -m em,f1 --lang ko"), 100.0);
    /* three syllables reach orders 1–3 only */
    assert_close(json_score("BLEU", "-r nfc.txt -i nfd.txt -m bleu -tok char --effective-order"),
                 100.0);
    assert_close(json_score("chrF2", "-r nfc.txt -i nfd.txt -m chrf --norm none"), 0.0);
    assert_close(json_score("EM", "-r nfc.txt -i nfd.txt -m em --lang ko --norm none"), 0.0);

    run_result r = koeval("score -r nfc.txt -i nfd.txt -m chrf");
    assert_true(starts_with(r.out, "chrF2|nrefs:1|"));
    assert_non_null(strstr(r.out, "|norm:nfc|"));
    assert_non_null(strstr(r.out, " = 100.00"));
    run_free(&r);
    r = koeval("score -r nfc.txt -i nfd.txt -m chrf --norm none");
    assert_non_null(strstr(r.out, "|norm:none|"));
    assert_non_null(strstr(r.out, " = 0.00"));
    run_free(&r);

    r = koeval("normalize -i nfd.txt");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, B07_NFC "\n");
    assert_int_equal(strlen(r.out), 10);
    run_free(&r);
    r = koeval("normalize --norm none <nfd.txt");
    assert_string_equal(r.out, B07_NFD "\n");
    run_free(&r);
    r = koeval("tokenize -tok char -i nfd.txt");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "테 스 트\n");
    assert_string_equal(r.err, "");
    run_free(&r);
}

/* ---- several references ---- */

static void test_multiple_references(void **state)
{
    (void)state;
    kv_test_put("a.txt", B05_REF);
    kv_test_put("b.txt",
                "서울은 대한민국의 수도이다 .\n대전은 과학의 도시다 .\n부산은 항구 도시이다 .\n");
    kv_test_put("hyp.txt",
                "서울은 대한민국의 수도이다 .\n대전은 과학의 도시다 .\n부산은 항구 도시이다 .\n");
    run_result r = koeval("score -r a.txt -r b.txt -i hyp.txt -m bleu,chrf");
    assert_int_equal(r.rc, 0);
    assert_true(starts_with(line_at(r.out, 0), "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|"));
    assert_true(starts_with(line_at(r.out, 1), "chrF2|nrefs:2|"));
    run_free(&r);
    assert_close(json_score("BLEU", "-r a.txt -r b.txt -i hyp.txt"), 100.0);
    assert_close(json_score("BLEU", "-r b.txt -r a.txt -i hyp.txt"), 100.0);
    assert_close(json_score("chrF2", "-r a.txt -r b.txt -i hyp.txt"), 100.0);
    assert_close(json_score("EM", "-r a.txt -r b.txt -i hyp.txt -m em"), 100.0);

    /* B05 against {its reference, an all-empty one}: the empty hypothesis's
     * closest reference length is now 0, so no brevity penalty */
    kv_test_put("hyp5.txt", B05_HYP);
    kv_test_put("empty3.txt", "\n\n\n");
    r = koeval("score -r a.txt -r empty3.txt -i hyp5.txt -m bleu --format json");
    assert_int_equal(r.rc, 0);
    cJSON *root;
    const cJSON *b = corpus_entry(r.out, "BLEU", &root);
    assert_int_equal((int)num(b, "ref_len"), 9);
    assert_close(num(b, "score"), 100.0);
    cJSON_Delete(root);
    run_free(&r);
}

/* ---- JSON output ---- */

static void test_json_all_metrics(void **state)
{
    (void)state;
    kv_test_put("ref.txt", B05_REF);
    kv_test_put("hyp.txt", B05_HYP);
    run_result r = koeval("score -r ref.txt -i hyp.txt -m bleu,chrf,chrf++,rougeL,em,f1 --format json");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    cJSON *root = cJSON_Parse(r.out);
    assert_non_null(root);
    const cJSON *corpus = cJSON_GetObjectItemCaseSensitive(root, "corpus");
    assert_int_equal(cJSON_GetArraySize(corpus), 6);
    const char *names[] = {"BLEU", "chrF2", "chrF2++", "rougeL", "EM", "F1"};
    for (int i = 0; i < 6; i++) {
        const cJSON *e = cJSON_GetArrayItem(corpus, i);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "score");
        const cJSON *sig = cJSON_GetObjectItemCaseSensitive(e, "signature");
        assert_true(cJSON_IsString(n));
        assert_string_equal(n->valuestring, names[i]);
        assert_true(cJSON_IsNumber(s));
        assert_true(cJSON_IsString(sig));
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s|nrefs:1|", names[i]);
        if (!starts_with(sig->valuestring, prefix))
            fail_msg("signature [%s] should start with %s", sig->valuestring, prefix);
        assert_int_equal((int)num(e, "segments"), 3);
    }
    cJSON_Delete(root);
    run_free(&r);
    /* two of three segments identical, one empty: means over segments */
    assert_close(json_score("rougeL", "-r ref.txt -i hyp.txt -m rougeL"), 2.0 / 3.0);
    assert_close(json_score("EM", "-r ref.txt -i hyp.txt -m em"), 200.0 / 3.0);
    assert_close(json_score("F1", "-r ref.txt -i hyp.txt -m f1"), 200.0 / 3.0);

    /* an empty corpus is still a JSON document, with a warning */
    kv_test_put("empty.txt", "");
    r = koeval("score -r empty.txt -i empty.txt -m bleu,chrf --format json");
    assert_int_equal(r.rc, 0);
    root = cJSON_Parse(r.out);
    assert_non_null(root);
    assert_int_equal((int)num(root, "lines"), 0);
    cJSON_Delete(root);
    assert_one_error(&r, 0, false, "empty", NULL);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b05_empty_hypothesis_kept),
        cmocka_unit_test(test_invalid_utf8_scored_as_replacement),
        cmocka_unit_test(test_bom_removed),
        cmocka_unit_test(test_crlf_equals_lf),
        cmocka_unit_test(test_nul_byte_refused),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_line_count_mismatch),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_text_signatures),
        cmocka_unit_test(test_sentence_level_b04),
        cmocka_unit_test(test_b07_nfd),
        cmocka_unit_test(test_multiple_references),
        cmocka_unit_test(test_json_all_metrics),
    };
    return cmocka_run_group_tests(tests, setup_dir, kv_test_dir_remove);
}
