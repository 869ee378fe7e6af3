/* Tests for src/suite.c: the project's starter suite, every load error on
 * small files written to a fresh mkdtemp directory (exact message and code),
 * BOM/CRLF/blank-line tolerance, long lines, and the no-manifest defaults. */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/buf.h"
#include "src/suite.h"

#define STARTER KOEVAL_SOURCE_DIR "/corpora/starter/starter.jsonl"
#define STARTER_MANIFEST KOEVAL_SOURCE_DIR "/corpora/starter/starter.manifest.json"

/* Group setup: the program's temporary directory, which kv_test_path and
 * kv_test_put (tests/testutil.h) name and fill. */
static int setup_dir(void **state)
{
    (void)state;
    return kv_test_dir_make("/tmp/koeval-suite-XXXXXX");
}

/* One record line of each task (prompt "p"). */
#define QA(id, lang)                                                                               \
    "{\"id\":\"" id "\",\"lang\":\"" lang "\",\"task\":\"qa\",\"prompt\":\"p\","                   \
    "\"references\":[\"r\"]}\n"
#define MCQ(id, lang, ans)                                                                         \
    "{\"id\":\"" id "\",\"lang\":\"" lang "\",\"task\":\"mcq\",\"prompt\":\"p\","                  \
    "\"choices\":[\"w\",\"x\",\"y\",\"z\"],\"answer\":\"" ans "\"}\n"
#define MATH(id, lang, ans)                                                                        \
    "{\"id\":\"" id "\",\"lang\":\"" lang "\",\"task\":\"math\",\"prompt\":\"p\","                 \
    "\"answer\":\"" ans "\"}\n"

#define MANIFEST_KO_JA "{\"languages\":[\"ko\",\"ja\"],\"pivot\":\"ko\"}"

/* Writes the JSONL (and, when manifest is not NULL, "<stem>.manifest.json"
 * next to it, found by the loader) under a fresh name, loads it, and checks
 * the code and the whole message. In `want`, "@J" stands for the JSONL path
 * and "@M" for the manifest path. */
static void expect_error(const char *jsonl, const char *manifest, int want_rc, const char *want)
{
    static int serial;
    char stem[64], jname[80], mname[96];
    snprintf(stem, sizeof stem, "e%03d", ++serial);
    snprintf(jname, sizeof jname, "%s.jsonl", stem);
    snprintf(mname, sizeof mname, "%s.manifest.json", stem);
    kv_test_put(jname, jsonl);
    if (manifest)
        kv_test_put(mname, manifest);
    char jpath[4096], mpath[4096];
    snprintf(jpath, sizeof jpath, "%s", kv_test_path(jname));
    snprintf(mpath, sizeof mpath, "%s", kv_test_path(mname));

    kv_buf expected = {0};
    for (const char *w = want; *w; w++) {
        if (w[0] == '@' && (w[1] == 'J' || w[1] == 'M')) {
            kv_buf_printf(&expected, "%s", w[1] == 'J' ? jpath : mpath);
            w++;
        } else {
            kv_buf_putc(&expected, *w);
        }
    }
    kv_suite s;
    char err[1024];
    int rc = kv_suite_load(jpath, NULL, &s, err, sizeof err);
    if (rc != want_rc || strcmp(err, expected.p) != 0)
        fail_msg("got %d \"%s\"\nwant %d \"%s\"", rc, err, want_rc, expected.p);
    assert_null(s.items);
    assert_int_equal(s.n_items, 0);
    kv_suite_free(&s); /* harmless on the zeroed suite */
    kv_buf_free(&expected);
}

/* ---- the starter suite ---- */

static void starter_suite(void **state)
{
    (void)state;
    kv_suite s;
    char err[512] = "";
    int rc = kv_suite_load(STARTER, NULL, &s, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    assert_string_equal(s.path, STARTER);
    assert_int_equal(s.n_items, 480);
    assert_int_equal(s.n_ids, 120);

    const kv_manifest *m = &s.manifest;
    assert_string_equal(m->path, STARTER_MANIFEST); /* found next to the JSONL */
    assert_string_equal(m->name, "koeval-starter");
    assert_string_equal(m->version, "1.0.0");
    assert_string_equal(m->licence, "CC BY 4.0 (koeval project)");
    assert_string_equal(m->source, "written for koeval");
    assert_int_equal(m->n_languages, 4);
    assert_string_equal(m->languages[0], "ko");
    assert_string_equal(m->languages[1], "en");
    assert_string_equal(m->languages[2], "ja");
    assert_string_equal(m->languages[3], "zh");
    assert_string_equal(m->pivot, "en");
    assert_string_equal(kv_suite_system_prompt(&s, "ko"),
                        "당신은 도움이 되는 어시스턴트입니다. 한국어로 간결하게 답하세요.");
    assert_string_equal(kv_suite_system_prompt(&s, "en"),
                        "You are a helpful assistant. Answer briefly in English.");
    assert_non_null(kv_suite_system_prompt(&s, "ja"));
    assert_non_null(kv_suite_system_prompt(&s, "zh"));
    assert_null(kv_suite_system_prompt(&s, "fr"));
    assert_int_equal(kv_suite_lang_index(&s, "ja"), 2);
    assert_int_equal(kv_suite_lang_index(&s, "fr"), -1);

    assert_int_equal(m->tasks[KV_TASK_QA].n_metrics, 2);
    assert_string_equal(m->tasks[KV_TASK_QA].metrics[0], "em");
    assert_string_equal(m->tasks[KV_TASK_QA].metrics[1], "f1");
    assert_int_equal(m->tasks[KV_TASK_TRANSLATE].n_metrics, 2);
    assert_string_equal(m->tasks[KV_TASK_TRANSLATE].metrics[0], "chrf");
    assert_int_equal(m->tasks[KV_TASK_MCQ].n_metrics, 1);
    assert_string_equal(m->tasks[KV_TASK_MATH].metrics[0], "accuracy");
    assert_int_equal(m->tasks[KV_TASK_OPEN].n_metrics, 0);
    assert_null(m->tasks[KV_TASK_OPEN].metrics);
    assert_null(m->tasks[KV_TASK_QA].tokenizer);

    /* README: 30 items of each task, every id in all four languages */
    size_t per_task[KV_TASK_COUNT] = {0}, per_lang[4] = {0};
    for (size_t i = 0; i < s.n_items; i++) {
        const kv_item *it = &s.items[i];
        per_task[it->task]++;
        per_lang[it->lang_index]++;
        assert_int_equal(it->line, i + 1);
        assert_string_equal(it->lang, m->languages[it->lang_index]);
        assert_string_equal(it->id, s.ids[it->id_index]);
        assert_string_equal(it->target_lang, it->lang);
        assert_ptr_equal(kv_suite_find(&s, it->id, it->lang), it);
        if (it->task == KV_TASK_MCQ) {
            assert_int_equal(it->n_choices, 4);
            assert_true(it->answer[0] >= 'A' && it->answer[0] <= 'D' && !it->answer[1]);
        }
    }
    assert_int_equal(per_task[KV_TASK_QA], 120);
    assert_int_equal(per_task[KV_TASK_MCQ], 120);
    assert_int_equal(per_task[KV_TASK_MATH], 120);
    assert_int_equal(per_task[KV_TASK_TRANSLATE], 120);
    assert_int_equal(per_task[KV_TASK_OPEN], 0);
    for (int k = 0; k < 4; k++)
        assert_int_equal(per_lang[k], 120);
    assert_string_equal(s.ids[0], "qa-001");

    const kv_item *it = kv_suite_find(&s, "qa-001", "ko");
    assert_non_null(it);
    assert_ptr_equal(it, &s.items[0]);
    assert_int_equal(it->task, KV_TASK_QA);
    assert_string_equal(it->prompt, "대한민국의 수도는 어디입니까? 답만 짧게 쓰세요.");
    assert_int_equal(it->n_references, 2);
    assert_string_equal(it->references[0], "서울");
    assert_string_equal(it->references[1], "서울특별시");
    assert_int_equal(it->n_choices, 0);
    assert_null(it->answer);
    it = kv_suite_find(&s, "qa-001", "zh");
    assert_ptr_equal(it, &s.items[3]);
    assert_string_equal(it->references[0], "首尔");
    assert_null(kv_suite_find(&s, "qa-001", "fr"));
    assert_null(kv_suite_find(&s, "qa-999", "ko"));

    /* the hash: 16 lowercase hex digits, the same on a second load and for
     * the same bytes elsewhere, different when one byte changes */
    assert_int_equal(strlen(s.hash), 16);
    assert_int_equal(strspn(s.hash, "0123456789abcdef"), 16);
    kv_suite again;
    assert_int_equal(kv_suite_load(STARTER, STARTER_MANIFEST, &again, err, sizeof err), 0);
    assert_string_equal(again.hash, s.hash);
    kv_suite_free(&again);

    FILE *fp = fopen(STARTER, "rb");
    assert_non_null(fp);
    kv_buf bytes = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        kv_buf_put(&bytes, chunk, got);
    fclose(fp);
    kv_test_put_bytes("copy.jsonl", bytes.p, bytes.len);
    assert_int_equal(
        kv_suite_load(kv_test_path("copy.jsonl"), STARTER_MANIFEST, &again, err, sizeof err), 0);
    assert_string_equal(again.hash, s.hash);
    kv_suite_free(&again);
    /* one byte changed in place: "Seoul" → "Zeoul" */
    char *q = strstr(bytes.p, "\"Seoul\"");
    assert_non_null(q);
    q[1] = 'Z';
    kv_test_put_bytes("copy.jsonl", bytes.p, bytes.len);
    assert_int_equal(
        kv_suite_load(kv_test_path("copy.jsonl"), STARTER_MANIFEST, &again, err, sizeof err), 0);
    assert_string_not_equal(again.hash, s.hash);
    assert_string_equal(kv_suite_find(&again, "qa-001", "en")->references[0], "Zeoul");
    kv_suite_free(&again);
    kv_buf_free(&bytes);

    kv_suite_free(&s);
    assert_null(s.items);
    assert_null(s.index);
}

/* ---- tasks ---- */

static void task_names(void **state)
{
    (void)state;
    static const char *const names[] = {"qa", "mcq", "math", "translate", "open"};
    for (int t = 0; t < KV_TASK_COUNT; t++) {
        kv_task got = KV_TASK_OPEN;
        assert_string_equal(kv_task_name((kv_task)t), names[t]);
        assert_int_equal(kv_task_parse(names[t], &got), 0);
        assert_int_equal(got, t);
    }
    kv_task keep = KV_TASK_MATH;
    assert_int_equal(kv_task_parse("essay", &keep), -1);
    assert_int_equal(kv_task_parse("QA", &keep), -1);
    assert_int_equal(kv_task_parse("", &keep), -1);
    assert_int_equal(keep, KV_TASK_MATH);
    assert_string_equal(kv_task_name((kv_task)99), "?");
}

/* ---- errors in records ---- */

static void record_syntax_errors(void **state)
{
    (void)state;
    expect_error(QA("a", "en") QA("b", "en") "{\"id\":\"c\",\"lang\":\"en\",\n", NULL,
                 KV_SUITE_ESYNTAX, "@J:3: invalid JSON (unexpected end at column 23)");
    expect_error(QA("a", "en") "{\"id\":\"c\" \"lang\":\"en\"}\n", NULL, KV_SUITE_ESYNTAX,
                 "@J:2: invalid JSON (at column 11, near \"\"lang\":\"en\"}\")");
    /* the column counts characters (서울 is two) and is where cJSON stopped; the
     * context is cut at 20 characters */
    expect_error("{\"prompt\":\"서울\" ,, \"id\":\"abcdefghijklmnopqrstuvwxyz\"}\n", NULL,
                 KV_SUITE_ESYNTAX,
                 "@J:1: invalid JSON (at column 18, near \" \"id\":\"abcdefghijklm…\")");
    /* something after the record */
    expect_error("{\"id\":\"a\"} x\n", NULL, KV_SUITE_ESYNTAX,
                 "@J:1: invalid JSON (at column 12, near \"x\")");
    expect_error(QA("a", "en") "[1,2]\n", NULL, KV_SUITE_ESYNTAX,
                 "@J:2: record is not a JSON object");
    expect_error(QA("a", "en") "\"text\"\n", NULL, KV_SUITE_ESYNTAX,
                 "@J:2: record is not a JSON object");
    expect_error(
        QA("a", "en") "{\"id\":\"b\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"\xff\"}\n", NULL,
        KV_SUITE_ESYNTAX, "@J:2: ill-formed UTF-8 (a suite must be UTF-8)");
    expect_error("", NULL, KV_SUITE_EEMPTY, "@J: no records");
    expect_error("\n  \n\t\n", NULL, KV_SUITE_EEMPTY, "@J: no records");
}

static void record_nul_byte(void **state)
{
    (void)state;
    static const char data[] = "{\"id\":\"a\",\0\"lang\":\"en\"}\n";
    kv_test_put_bytes("nul.jsonl", data, sizeof data - 1);
    kv_suite s;
    char err[512], want[4200];
    assert_int_equal(kv_suite_load(kv_test_path("nul.jsonl"), NULL, &s, err, sizeof err),
                     KV_SUITE_ESYNTAX);
    snprintf(want, sizeof want, "%s:1: NUL byte in line (binary or UTF-16 file?)",
             kv_test_path("nul.jsonl"));
    assert_string_equal(err, want);
}

static void record_field_errors(void **state)
{
    (void)state;
    expect_error(
        QA("a", "en")
            QA("b", "en") "{\"id\":\"c\",\"lang\":\"en\",\"task\":\"qa\",\"references\":[\"r\"]}\n",
        NULL, KV_SUITE_EFIELD, "@J:3: field \"prompt\" missing");
    expect_error("{\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"p\"}\n", NULL, KV_SUITE_EFIELD,
                 "@J:1: field \"id\" missing");
    expect_error("{\"id\":\"a\",\"task\":\"qa\",\"prompt\":\"p\"}\n", NULL, KV_SUITE_EFIELD,
                 "@J:1: field \"lang\" missing");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"prompt\":\"p\"}\n", NULL, KV_SUITE_EFIELD,
                 "@J:1: field \"task\" missing");
    expect_error(
        QA("a", "en") "{\"id\":\"b\",\"lang\":\"en\",\"task\":\"essay\",\"prompt\":\"p\"}\n", NULL,
        KV_SUITE_EFIELD,
        "@J:2: field \"task\": unknown task \"essay\" (qa, mcq, math, translate, open)");
    expect_error(
        "{\"id\":\"a\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":5,\"references\":[\"r\"]}\n",
        NULL, KV_SUITE_EFIELD,
        "@J:1: field \"prompt\" must be a string (write the number as \"5\")");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":null}\n", NULL,
                 KV_SUITE_EFIELD, "@J:1: field \"prompt\" is null");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"\"}\n", NULL,
                 KV_SUITE_EFIELD, "@J:1: field \"prompt\" is empty");
    expect_error("{\"id\":[\"a\"],\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"p\"}\n", NULL,
                 KV_SUITE_EFIELD, "@J:1: field \"id\" must be a string");
    expect_error("{\"id\":\"a\",\"lang\":\"e n\",\"task\":\"qa\",\"prompt\":\"p\"}\n", NULL,
                 KV_SUITE_EFIELD, "@J:1: field \"lang\": \"e n\" is not a language tag");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"p\",\"references\":"
                 "\"Seoul\"}\n",
                 NULL, KV_SUITE_EFIELD, "@J:1: field \"references\" must be an array of strings");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"p\",\"references\":"
                 "[\"Seoul\",7]}\n",
                 NULL, KV_SUITE_EFIELD, "@J:1: field \"references\": element 2 must be a string");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"p\",\"references\":"
                 "[\"\"]}\n",
                 NULL, KV_SUITE_EFIELD, "@J:1: field \"references\": element 1 is empty");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"p\"}\n", NULL,
                 KV_SUITE_EFIELD, "@J:1: field \"references\" missing");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"translate\",\"prompt\":\"p\","
                 "\"references\":[]}\n",
                 NULL, KV_SUITE_EFIELD, "@J:1: field \"references\" is empty");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"qa\",\"prompt\":\"p\",\"prompt\":\"q\","
                 "\"references\":[\"r\"]}\n",
                 NULL, KV_SUITE_EFIELD, "@J:1: field \"prompt\" appears twice");
    expect_error(
        "{\"id\":\"a\",\"lang\":\"en\",\"task\":\"mcq\",\"prompt\":\"p\",\"answer\":\"A\"}\n", NULL,
        KV_SUITE_EFIELD, "@J:1: field \"choices\" missing");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"mcq\",\"prompt\":\"p\","
                 "\"choices\":[\"x\"],\"answer\":\"A\"}\n",
                 NULL, KV_SUITE_EFIELD,
                 "@J:1: field \"choices\" has 1 choice; an item needs 2 to 26 (A–Z)");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"mcq\",\"prompt\":\"p\","
                 "\"choices\":[\"x\",\"y\"]}\n",
                 NULL, KV_SUITE_EFIELD, "@J:1: field \"answer\" missing");
    expect_error(
        "{\"id\":\"a\",\"lang\":\"en\",\"task\":\"math\",\"prompt\":\"p\",\"answer\":24000}\n",
        NULL, KV_SUITE_EFIELD,
        "@J:1: field \"answer\" must be a string (write the number as \"24000\")");
    expect_error("{\"id\":\"a\",\"lang\":\"en\",\"task\":\"translate\",\"prompt\":\"p\","
                 "\"references\":[\"r\"],\"target_lang\":\"한국어\"}\n",
                 NULL, KV_SUITE_EFIELD,
                 "@J:1: field \"target_lang\": \"한국어\" is not a language tag");
}

static void answer_errors(void **state)
{
    (void)state;
    /* the mcq record on line 9, after two complete items in four lines each */
    expect_error(QA("q1", "en") QA("q1", "ko") MCQ("m1", "en", "A")
                     MCQ("m1", "ko", "A") "\n" QA("q2", "en")
                         QA("q2", "ko") "\n" MCQ("m2", "en", "E"),
                 NULL, KV_SUITE_EFIELD, "@J:9: mcq answer \"E\" is not one of the 4 choices (A–D)");
    expect_error(MCQ("m1", "en", "b"), NULL, KV_SUITE_EFIELD,
                 "@J:1: mcq answer \"b\" is not one of the 4 choices (A–D)");
    expect_error(MCQ("m1", "en", "B."), NULL, KV_SUITE_EFIELD,
                 "@J:1: mcq answer \"B.\" is not one of the 4 choices (A–D)");
    expect_error(MATH("x1", "en", "12") MATH("x2", "en", "-3") MATH("x3", "en", "0.25")
                     MATH("x4", "en", "12,5"),
                 NULL, KV_SUITE_EFIELD,
                 "@J:4: math answer \"12,5\" is not a number (write digits with an optional "
                 "'-' and '.', e.g. \"12.5\")");
    static const char *const bad[] = {"1.", ".5", "1e3", "+1", "1 000", "12원", "-", "0x10"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char rec[256], want[256];
        snprintf(rec, sizeof rec,
                 "{\"id\":\"x\",\"lang\":\"en\",\"task\":\"math\",\"prompt\":\"p\","
                 "\"answer\":\"%s\"}\n",
                 bad[k]);
        snprintf(want, sizeof want,
                 "@J:1: math answer \"%s\" is not a number (write digits with an optional "
                 "'-' and '.', e.g. \"12.5\")",
                 bad[k]);
        expect_error(rec, NULL, KV_SUITE_EFIELD, want);
    }
}

static void pairing_errors(void **state)
{
    (void)state;
    expect_error(QA("qa-001", "ko") QA("qa-001", "en") QA("qa-001", "ko"), NULL, KV_SUITE_EPAIRING,
                 "@J:3: duplicate item (qa-001, ko) first seen on line 1");
    expect_error(QA("a", "ko") MCQ("a", "en", "A"), NULL, KV_SUITE_EPAIRING,
                 "@J:2: item \"a\" is mcq here but qa on line 1");
    /* declared languages: an id without one of them */
    expect_error(QA("qa-006", "ko") QA("qa-006", "ja") QA("qa-007", "ko") QA("qa-008", "ja")
                     QA("qa-008", "ko"),
                 MANIFEST_KO_JA, KV_SUITE_EPAIRING,
                 "@J: item \"qa-007\" has no \"ja\" record, but the suite declares ja");
    /* without a manifest the languages seen are the suite's */
    expect_error(QA("a", "ko") QA("a", "en") QA("b", "ko"), NULL, KV_SUITE_EPAIRING,
                 "@J: item \"b\" has no \"en\" record, but other items have one "
                 "(first on line 2)");
    expect_error(QA("a", "ko") QA("a", "ja") QA("a", "fr"), MANIFEST_KO_JA, KV_SUITE_EPAIRING,
                 "@J:3: language \"fr\" is not one of the suite's languages (ko, ja in @M)");
    expect_error(QA("a", "ko") QA("b", "ko"), "{\"languages\":[\"ko\",\"ja\",\"zh\"]}",
                 KV_SUITE_EPAIRING, "@J: no record is in \"ja\", which @M declares");
    /* only the first error is reported */
    expect_error(QA("a", "ko") QA("a", "ko") "{oops\n", NULL, KV_SUITE_EPAIRING,
                 "@J:2: duplicate item (a, ko) first seen on line 1");
}

/* ---- errors in the manifest ---- */

static void manifest_errors(void **state)
{
    (void)state;
    const char *ok = QA("a", "ko") QA("a", "ja");
    expect_error(ok, "{\n  \"languages\": [\"ko\", \"ja\"],\n  \"pivot\": ko\n}\n",
                 KV_SUITE_EMANIFEST, "@M:3: invalid JSON (at column 12, near \"ko\")");
    expect_error(ok, "{\"languages\":[\"ko\",\"ja\"]", KV_SUITE_EMANIFEST,
                 "@M:1: invalid JSON (unexpected end at column 25)");
    expect_error(ok, "", KV_SUITE_EMANIFEST, "@M:1: invalid JSON (unexpected end at column 1)");
    expect_error(ok, "[\"ko\"]", KV_SUITE_EMANIFEST, "@M: not a JSON object");
    expect_error(ok, "{\"name\":3}", KV_SUITE_EMANIFEST, "@M: field \"name\" must be a string");
    expect_error(ok, "{\"languages\":\"ko\"}", KV_SUITE_EMANIFEST,
                 "@M: field \"languages\" must be an array of strings");
    expect_error(ok, "{\"languages\":[]}", KV_SUITE_EMANIFEST, "@M: field \"languages\" is empty");
    expect_error(ok, "{\"languages\":[\"ko\",\"ko\"]}", KV_SUITE_EMANIFEST,
                 "@M: field \"languages\": \"ko\" is listed twice");
    expect_error(ok, "{\"languages\":[\"ko\",\"Japanese!\"]}", KV_SUITE_EMANIFEST,
                 "@M: field \"languages\": \"Japanese!\" is not a language tag");
    expect_error(ok, "{\"languages\":[\"ko\",\"ja\"],\"pivot\":\"en\"}", KV_SUITE_EMANIFEST,
                 "@M: pivot \"en\" is not one of the suite's languages (ko, ja)");
    /* without "languages", the pivot is checked against the languages seen */
    expect_error(ok, "{\"pivot\":\"en\"}", KV_SUITE_EMANIFEST,
                 "@M: pivot \"en\" is not one of the suite's languages (ko, ja)");
    expect_error(ok, "{\"system_prompts\":{\"ko\":\"k\",\"zh\":\"z\"}}", KV_SUITE_EMANIFEST,
                 "@M: system prompt for \"zh\", which is not one of the suite's languages "
                 "(ko, ja)");
    expect_error(ok, "{\"system_prompts\":{\"ko\":1}}", KV_SUITE_EMANIFEST,
                 "@M: field \"system_prompts\": \"ko\" must be a string");
    expect_error(ok, "{\"tasks\":{\"essay\":{\"metrics\":[\"chrf\"]}}}", KV_SUITE_EMANIFEST,
                 "@M: field \"tasks\": unknown task \"essay\" (qa, mcq, math, translate, open)");
    expect_error(ok, "{\"tasks\":{\"qa\":{\"metrics\":\"em\"}}}", KV_SUITE_EMANIFEST,
                 "@M: \"tasks\".\"qa\".\"metrics\" must be an array of strings");
    expect_error(ok, "{\"tasks\":{\"qa\":{\"tokenizer\":1}}}", KV_SUITE_EMANIFEST,
                 "@M: \"tasks\".\"qa\".\"tokenizer\" must be a string");
}

static void missing_files(void **state)
{
    (void)state;
    kv_suite s;
    char err[512], want[4200];
    const char *absent = kv_test_path("absent.jsonl");
    assert_int_equal(kv_suite_load(absent, NULL, &s, err, sizeof err), KV_SUITE_EIO);
    snprintf(want, sizeof want, "cannot open %s: No such file or directory", absent);
    assert_string_equal(err, want);

    kv_test_put("named.jsonl", QA("a", "en"));
    char jpath[4096];
    snprintf(jpath, sizeof jpath, "%s", kv_test_path("named.jsonl"));
    const char *mpath = kv_test_path("nope.manifest.json");
    assert_int_equal(kv_suite_load(jpath, mpath, &s, err, sizeof err), KV_SUITE_EIO);
    snprintf(want, sizeof want, "cannot open %s: No such file or directory", mpath);
    assert_string_equal(err, want);
    assert_int_equal(kv_suite_load(jpath, NULL, &s, NULL, 0), KV_SUITE_OK);
    kv_suite_free(&s);
}

/* ---- tolerance ---- */

#define SMALL_SUITE                                                                                     \
    "{\"id\":\"tr-1\",\"lang\":\"ko\",\"task\":\"translate\",\"prompt\":\"영어로 번역하세요\"," \
    "\"references\":[\"안녕하세요\"],\"target_lang\":\"ko\"}\n"                                    \
    "{\"id\":\"tr-1\",\"lang\":\"en\",\"task\":\"translate\",\"prompt\":\"Translate into "              \
    "Korean: Hello\",\"references\":[\"안녕하세요\"],\"target_lang\":\"ko\"}\n"                    \
    "{\"id\":\"m-1\",\"lang\":\"ko\",\"task\":\"math\",\"prompt\":\"2+2?\",\"answer\":\"4\","           \
    "\"references\":[\"4\",\"넷\"],\"note\":{\"any\":[1,2]}}\n"                                        \
    "{\"id\":\"m-1\",\"lang\":\"en\",\"task\":\"math\",\"prompt\":\"2+2?\",\"answer\":\"4\"}\n"

static void same_items(const kv_suite *a, const kv_suite *b)
{
    assert_int_equal(a->n_items, b->n_items);
    assert_int_equal(a->n_ids, b->n_ids);
    for (size_t i = 0; i < a->n_items; i++) {
        const kv_item *x = &a->items[i], *y = &b->items[i];
        assert_string_equal(x->id, y->id);
        assert_string_equal(x->lang, y->lang);
        assert_int_equal(x->task, y->task);
        assert_string_equal(x->prompt, y->prompt);
        assert_int_equal(x->n_references, y->n_references);
        for (size_t k = 0; k < x->n_references; k++)
            assert_string_equal(x->references[k], y->references[k]);
        assert_int_equal(x->n_choices, y->n_choices);
        assert_true((x->answer == NULL) == (y->answer == NULL));
        if (x->answer)
            assert_string_equal(x->answer, y->answer);
        assert_string_equal(x->target_lang, y->target_lang);
    }
}

static void bom_crlf_blank_lines(void **state)
{
    (void)state;
    kv_test_put("plain.jsonl", SMALL_SUITE);
    kv_buf odd = {0};
    kv_buf_put(&odd, "\xEF\xBB\xBF", 3);
    for (const char *p = SMALL_SUITE; *p; p++) {
        if (*p == '\n')
            kv_buf_put(&odd, "\r\n\r\n  \t\r\n", 9); /* and blank lines between records */
        else
            kv_buf_putc(&odd, *p);
    }
    kv_test_put_bytes("odd.jsonl", odd.p, odd.len);
    kv_buf_free(&odd);

    kv_suite a, b;
    char err[512];
    assert_int_equal(kv_suite_load(kv_test_path("plain.jsonl"), NULL, &a, err, sizeof err), 0);
    int rc = kv_suite_load(kv_test_path("odd.jsonl"), NULL, &b, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    same_items(&a, &b);
    assert_int_equal(a.n_items, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(b.items[i].line, 3 * i + 1); /* physical lines */
    assert_string_not_equal(a.hash, b.hash);          /* the hash is of the bytes */

    /* target_lang given (and equal to lang, or not), or defaulted */
    assert_string_equal(kv_suite_find(&a, "tr-1", "en")->target_lang, "ko");
    assert_string_equal(kv_suite_find(&a, "tr-1", "ko")->target_lang, "ko");
    const kv_item *m = kv_suite_find(&a, "m-1", "en");
    assert_string_equal(m->target_lang, "en");
    assert_string_equal(m->answer, "4");
    assert_int_equal(m->n_references, 0);
    assert_null(m->references);
    m = kv_suite_find(&a, "m-1", "ko");
    assert_int_equal(m->n_references, 2); /* optional references kept; "note" ignored */
    assert_string_equal(m->references[1], "넷");
    kv_suite_free(&a);
    kv_suite_free(&b);
}

static void long_lines(void **state)
{
    (void)state;
    /* a 2 MiB prompt: over the line reader's default 1 MiB, within the suite's 16 MiB */
    size_t big = (size_t)2 << 20;
    kv_buf rec = {0};
    kv_buf_printf(&rec, "{\"id\":\"x\",\"lang\":\"en\",\"task\":\"qa\",\"references\":[\"r\"],"
                        "\"prompt\":\"");
    kv_buf_reserve(&rec, big);
    memset(rec.p + rec.len, 'a', big);
    rec.len += big;
    kv_buf_put(&rec, "\"}\n", 3);
    kv_test_put_bytes("long.jsonl", rec.p, rec.len);
    kv_suite s;
    char err[512], want[4200];
    int rc = kv_suite_load(kv_test_path("long.jsonl"), NULL, &s, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(strlen(s.items[0].prompt), big);
    kv_suite_free(&s);

    /* one byte over 16 MiB: refused, without the score command's option hint */
    kv_buf_clear(&rec);
    kv_buf_reserve(&rec, KV_SUITE_MAX_LINE_BYTES + 2);
    memset(rec.p, ' ', KV_SUITE_MAX_LINE_BYTES + 1);
    rec.p[KV_SUITE_MAX_LINE_BYTES + 1] = '\n';
    rec.len = KV_SUITE_MAX_LINE_BYTES + 2;
    kv_test_put_bytes("huge.jsonl", rec.p, rec.len);
    kv_buf_free(&rec);
    assert_int_equal(kv_suite_load(kv_test_path("huge.jsonl"), NULL, &s, err, sizeof err),
                     KV_SUITE_ESYNTAX);
    snprintf(want, sizeof want, "%s:1: line is 16777217 bytes, over the limit of 16777216",
             kv_test_path("huge.jsonl"));
    assert_string_equal(err, want);
}

/* ---- no manifest ---- */

static void no_manifest_defaults(void **state)
{
    (void)state;
    kv_suite s;
    char err[512];
    /* languages in order of first appearance; pivot en when present */
    kv_test_put("seen.jsonl", QA("a", "ko") QA("a", "ja") QA("b", "ja") QA("a", "en") QA("b", "en")
                                  QA("b", "ko"));
    int rc = kv_suite_load(kv_test_path("seen.jsonl"), NULL, &s, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    assert_null(s.manifest.path);
    assert_null(s.manifest.name);
    assert_null(s.manifest.licence);
    assert_int_equal(s.manifest.n_languages, 3);
    assert_string_equal(s.manifest.languages[0], "ko");
    assert_string_equal(s.manifest.languages[1], "ja");
    assert_string_equal(s.manifest.languages[2], "en");
    assert_string_equal(s.manifest.pivot, "en");
    assert_null(kv_suite_system_prompt(&s, "ko"));
    assert_int_equal(s.manifest.tasks[KV_TASK_QA].n_metrics, 0);
    assert_int_equal(s.n_ids, 2);
    assert_string_equal(s.ids[0], "a");
    assert_string_equal(s.ids[1], "b");
    assert_int_equal(kv_suite_find(&s, "b", "ko")->line, 6);
    assert_int_equal(kv_suite_find(&s, "b", "ko")->id_index, 1);
    kv_suite_free(&s);

    /* no "en": the first language is the pivot */
    kv_test_put("noen.jsonl", QA("a", "ja") QA("a", "ko"));
    assert_int_equal(kv_suite_load(kv_test_path("noen.jsonl"), NULL, &s, err, sizeof err), 0);
    assert_string_equal(s.manifest.pivot, "ja");
    kv_suite_free(&s);

    /* a manifest without languages or pivot: the same defaults, its other
     * fields kept; found for a path without ".jsonl" too */
    kv_test_put("plainname", QA("a", "ja") QA("a", "ko"));
    kv_test_put(
        "plainname.manifest.json",
        "\xEF\xBB\xBF{\"name\":\"n\",\"license\":\"MIT\",\"system_prompts\":{\"ko\":\"답하세요\"},"
        "\"tasks\":{\"qa\":{\"metrics\":[\"em\"],\"tokenizer\":\"char\"}},\"extra\":true}\r\n");
    rc = kv_suite_load(kv_test_path("plainname"), NULL, &s, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    assert_string_equal(s.manifest.path, kv_test_path("plainname.manifest.json"));
    assert_string_equal(s.manifest.name, "n");
    assert_string_equal(s.manifest.licence, "MIT");
    assert_string_equal(s.manifest.pivot, "ja");
    assert_string_equal(kv_suite_system_prompt(&s, "ko"), "답하세요");
    assert_null(kv_suite_system_prompt(&s, "ja"));
    assert_string_equal(s.manifest.tasks[KV_TASK_QA].metrics[0], "em");
    assert_string_equal(s.manifest.tasks[KV_TASK_QA].tokenizer, "char");
    kv_suite_free(&s);
}

/* Many items: the index grows past its first sizes and still finds all. */
static void many_items(void **state)
{
    (void)state;
    kv_buf text = {0};
    for (int i = 0; i < 3000; i++)
        for (int l = 0; l < 3; l++)
            kv_buf_printf(&text,
                          "{\"id\":\"item-%d\",\"lang\":\"%s\",\"task\":\"open\",\"prompt\":\"p\","
                          "\"references\":[\"r%d\"]}\n",
                          i, (const char *[]){"ko", "en", "zh-Hant"}[l], i);
    kv_test_put_bytes("many.jsonl", text.p, text.len);
    kv_buf_free(&text);
    kv_suite s;
    char err[512];
    assert_int_equal(kv_suite_load(kv_test_path("many.jsonl"), NULL, &s, err, sizeof err), 0);
    assert_int_equal(s.n_items, 9000);
    assert_int_equal(s.n_ids, 3000);
    char id[32], ref[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "item-%d", i);
        snprintf(ref, sizeof ref, "r%d", i);
        const kv_item *it = kv_suite_find(&s, id, "zh-Hant");
        assert_non_null(it);
        assert_string_equal(it->references[0], ref);
        assert_int_equal(it->line, (size_t)i * 3 + 3);
        assert_string_equal(s.ids[i], id);
    }
    assert_null(kv_suite_find(&s, "item-3000", "ko"));
    kv_suite_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starter_suite),        cmocka_unit_test(task_names),
        cmocka_unit_test(record_syntax_errors), cmocka_unit_test(record_nul_byte),
        cmocka_unit_test(record_field_errors),  cmocka_unit_test(answer_errors),
        cmocka_unit_test(pairing_errors),       cmocka_unit_test(manifest_errors),
        cmocka_unit_test(missing_files),        cmocka_unit_test(bom_crlf_blank_lines),
        cmocka_unit_test(long_lines),           cmocka_unit_test(no_manifest_defaults),
        cmocka_unit_test(many_items),
    };
    return cmocka_run_group_tests(tests, setup_dir, kv_test_dir_remove);
}
