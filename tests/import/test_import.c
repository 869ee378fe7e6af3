/* Tests for src/import: every importer on the real files in
 * ../shared/corpora (FLORES-200, NTREX-128, Tatoeba, KoBEST, KoBBQ,
 * KoMT-Bench; exact counts and field values read from the files), on small
 * files written here for the formats not there (Belebele, MMMLU,
 * Global-MMLU, KMMLU incl. case B16, CLIcK, HAE-RAE), the CSV reader, and
 * the errors: malformed rows, gold labels outside the choices, mismatched
 * line counts, each one line naming file and line, with no file left
 * behind. */
#include "tests/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/buf.h"
#include "src/import/csv.h"
#include "src/import/import.h"
#include "src/suite.h"

#define CORPORA "corpora/"

/* Group setup: the program's temporary directory, which kv_test_path and
 * kv_test_put (tests/testutil.h) name and fill. */
static int setup_dir(void **state)
{
    (void)state;
    return kv_test_dir_make("/tmp/koeval-import-XXXXXX");
}

/* Number of entries in the test directory whose name starts with prefix. */
static int count_files(const char *prefix)
{
    DIR *d = opendir(kv_test_dir());
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}

/* Copies a ../shared path into static storage (kv_test_shared_path reuses its buffer). */
static const char *shared(const char *rel)
{
    static char paths[8][4096];
    static int next;
    const char *p;
    KV_REQUIRE_SHARED(p, rel);
    char *out = paths[next++ % 8];
    snprintf(out, sizeof paths[0], "%s", p);
    return out;
}

typedef struct run {
    int rc;
    kv_import_result res;
    char err[1024];
    kv_suite suite;
} run;

/* Imports files as fmt into kv_test_path(out) and, on success, loads the suite. */
static void import(run *r, const char *fmt, const char *const *files, size_t n,
                   const kv_import_opts *opts, const char *out)
{
    memset(r, 0, sizeof *r);
    kv_import_opts none = {0};
    const kv_import_format *f = kv_import_find(fmt);
    assert_non_null(f);
    r->rc = kv_import_run(f, files, n, opts ? opts : &none, kv_test_path(out), &r->res, r->err,
                          sizeof r->err);
    if (r->rc == 0) {
        char err[512];
        int lrc = kv_suite_load(kv_test_path(out), NULL, &r->suite, err, sizeof err);
        if (lrc)
            fail_msg("load: %s", err);
    }
}

static const kv_item *item(const run *r, const char *id, const char *lang)
{
    const kv_item *it = kv_suite_find(&r->suite, id, lang);
    if (!it)
        fail_msg("no item %s/%s", id, lang);
    return it;
}

/* The err of r must start with path's base name after a directory and contain want. */
static void assert_error(const run *r, int code, const char *file_line, const char *want)
{
    if (r->rc != code)
        fail_msg("rc %d, expected %d (%s)", r->rc, code, r->err);
    if (!strstr(r->err, file_line) || !strstr(r->err, want))
        fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", r->err, file_line, want);
    assert_null(strchr(r->err, '\n'));
}

/* ---- FLORES-200 --------------------------------------------------------- */

static void test_flores_real(void **state)
{
    (void)state;
    const char *dir = shared(CORPORA "flores200_devtest");
    static const char *const langs[] = {"ko", "en", "ja", "zh"};
    kv_import_opts o = {.langs = langs, .n_langs = 4, .limit = 100};
    run r;
    import(&r, "flores", &dir, 1, &o, "fl.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 100);
    assert_int_equal(r.suite.n_items, 400);
    assert_int_equal(r.suite.manifest.n_languages, 4);
    assert_string_equal(r.suite.manifest.pivot, "en");
    assert_string_equal(r.suite.manifest.licence, "CC BY-SA 4.0");
    const kv_item *ko = item(&r, "flores-0001", "ko");
    assert_int_equal(ko->task, KV_TASK_TRANSLATE);
    /* kor_Hang.devtest line 1 verbatim (its doubled quotes are in the file) */
    assert_string_equal(ko->references[0],
                        "\"그는 \"\"현재 4개월 된 당뇨병에서 치료된 생쥐가 있다\"\"고 덧붙였다.\"");
    assert_string_equal(ko->prompt, "다음 문장을 한국어로 번역하세요. 번역문만 쓰세요.\n\"We now "
                                    "have 4-month-old mice that are non-diabetic that used to be "
                                    "diabetic,\" he added.");
    /* the English record translates the Korean line back */
    const kv_item *en = item(&r, "flores-0001", "en");
    assert_non_null(strstr(en->prompt, "생쥐가 있다"));
    assert_string_equal(en->references[0], "\"We now have 4-month-old mice that are "
                                           "non-diabetic that used to be diabetic,\" he added.");
    assert_non_null(kv_suite_find(&r.suite, "flores-0100", "zh"));
    assert_null(kv_suite_find(&r.suite, "flores-0101", "zh"));
    kv_suite_free(&r.suite);

    /* everything: 1012 lines, all 14 languages */
    import(&r, "flores", &dir, 1, NULL, "fl-all.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 1012);
    assert_int_equal(r.res.n_langs, 14);
    assert_string_equal(r.suite.manifest.languages[0], "ko");
    kv_suite_free(&r.suite);

    /* a seeded sample: same seed, same items, in file order */
    kv_import_opts s = {.langs = langs, .n_langs = 2, .limit = 5, .sample = true, .seed = 7};
    run a, b;
    import(&a, "flores", &dir, 1, &s, "fl-s1.jsonl");
    import(&b, "flores", &dir, 1, &s, "fl-s2.jsonl");
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_int_equal(a.suite.n_ids, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(a.suite.ids[i], b.suite.ids[i]);
        if (i)
            assert_true(strcmp(a.suite.ids[i - 1], a.suite.ids[i]) < 0);
    }
    kv_suite_free(&a.suite);
    kv_suite_free(&b.suite);
}

static void test_flores_mismatched_lines(void **state)
{
    (void)state;
    kv_test_put("eng_Latn.devtest", "One.\nTwo.\nThree.\n");
    kv_test_put("kor_Hang.devtest", "하나.\r\n둘.\r\n");
    const char *files[] = {kv_test_path("eng_Latn.devtest"), kv_test_path("kor_Hang.devtest")};
    run r;
    import(&r, "flores", files, 2, NULL, "bad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "kor_Hang.devtest:2:", "eng_Latn.devtest has 3 lines");
    assert_int_equal(count_files("bad."), 0);
    /* an empty line breaks the alignment */
    kv_test_put("kor_Hang.devtest", "하나.\n\n셋.\n");
    import(&r, "flores", files, 2, NULL, "bad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "kor_Hang.devtest:2:", "empty line");
    assert_int_equal(count_files("bad."), 0);
    /* LANG=FILE names a file whose name says nothing */
    kv_test_put("a.txt", "One.\n");
    kv_test_put("b.txt", "하나.\n");
    const char *named[] = {"en="
                           "/dev/null",
                           NULL};
    (void)named;
    kv_buf e = {0}, k = {0};
    kv_buf_printf(&e, "en=%s", kv_test_path("a.txt"));
    kv_buf_printf(&k, "kor_Hang=%s", kv_test_path("b.txt"));
    const char *files2[] = {e.p, k.p};
    import(&r, "flores", files2, 2, NULL, "named.jsonl");
    assert_int_equal(r.rc, 0);
    assert_string_equal(item(&r, "flores-0001", "ko")->references[0], "하나.");
    kv_suite_free(&r.suite);
    const char *files3[] = {kv_test_path("a.txt"), k.p};
    import(&r, "flores", files3, 2, NULL, "named2.jsonl");
    assert_error(&r, KV_IMPORT_EUSAGE, "a.txt", "write it as LANG=");
    /* a file that is not there: said so, whatever its name would tell */
    const char *files4[] = {kv_test_path("missing.devtest"), kv_test_path("kor_Hang.devtest")};
    import(&r, "flores", files4, 2, NULL, "missing.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "cannot open", "missing.devtest: No such file");
    assert_int_equal(count_files("missing."), 0);
    /* the option is named as the user wrote it */
    kv_import_opts ja = {.source_lang = "ja"};
    import(&r, "flores", files, 2, &ja, "ja.jsonl");
    assert_error(&r, KV_IMPORT_EUSAGE, "no ja file", "(--source-lang ja)");
    kv_buf_free(&e);
    kv_buf_free(&k);
}

/* ---- NTREX-128 and Tatoeba ---------------------------------------------- */

static void test_ntrex_real(void **state)
{
    (void)state;
    const char *dir = shared(CORPORA "ntrex128");
    static const char *const langs[] = {"ko", "en", "ja"};
    kv_import_opts o = {.langs = langs, .n_langs = 3};
    run r;
    import(&r, "ntrex", &dir, 1, &o, "nt.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 1997);
    assert_int_equal(r.suite.n_items, 3 * 1997);
    assert_string_equal(item(&r, "ntrex-0001", "ko")->references[0],
                        "웨일스 상원 의원들은 ‘멍청이처럼 보이는 것’을 걱정했다");
    assert_string_equal(item(&r, "ntrex-0001", "en")->references[0],
                        "Welsh AMs worried about 'looking like muppets'");
    kv_suite_free(&r.suite);
}

static void test_tatoeba_real(void **state)
{
    (void)state;
    const char *files[] = {shared(CORPORA "tatoeba_test_v2021-08-07/eng-kor.eng"),
                           shared(CORPORA "tatoeba_test_v2021-08-07/eng-kor.kor")};
    run r;
    import(&r, "tatoeba", files, 2, NULL, "ta.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 2400);
    assert_int_equal(r.res.n_langs, 2);
    const kv_item *ko = item(&r, "tatoeba-0001", "ko");
    assert_string_equal(ko->references[0], "2, 4, 6 등은 짝수이다.");
    assert_non_null(strstr(ko->prompt, "\n2, 4, 6 etc. are even numbers."));
    kv_suite_free(&r.suite);
    /* three files: the pairs are not n-way parallel */
    const char *three[] = {files[0], files[1],
                           shared(CORPORA "tatoeba_test_v2021-08-07/eng-jpn.jpn")};
    import(&r, "tatoeba", three, 3, NULL, "ta3.jsonl");
    assert_int_equal(r.rc, KV_IMPORT_EUSAGE);
}

static void test_tatoeba_tsv(void **state)
{
    (void)state;
    kv_test_put("tat.tsv", "eng\tkor_Hang\tHello.\t안녕하세요.\neng\tkor\tThanks.\t고마워요.\n");
    const char *f = kv_test_path("tat.tsv");
    run r;
    import(&r, "tatoeba", &f, 1, NULL, "tt.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 2);
    assert_string_equal(item(&r, "tatoeba-0002", "ko")->references[0], "고마워요.");
    kv_suite_free(&r.suite);
    kv_test_put("tat.tsv", "eng\tkor\tHello.\t안녕하세요.\neng\tkor\tThanks.\n");
    import(&r, "tatoeba", &f, 1, NULL, "tt.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "tat.tsv:2:", "3 fields, expected 4");
}

/* ---- KoBEST and KoBBQ --------------------------------------------------- */

static void test_kobest_real(void **state)
{
    (void)state;
    const char *dir = shared(CORPORA "kobest_v1");
    run r;
    import(&r, "kobest", &dir, 1, NULL, "kb.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    /* BoolQ 1404, COPA 1000, HellaSwag 500, SentiNeg 397, WiC 1260 */
    assert_int_equal(r.res.n_items, 4561);
    assert_int_equal(r.suite.manifest.n_languages, 1);
    assert_string_equal(r.suite.manifest.languages[0], "ko");
    /* COPA 1: 새로 산 바지의 허리가 컸다. 결과 … Answer 2 (1-based) */
    const kv_item *copa = item(&r, "kobest-copa-1", "ko");
    assert_int_equal(copa->n_choices, 2);
    assert_string_equal(copa->choices[1], "벨트를 바지에 끼워 사이즈를 조절했다.");
    assert_string_equal(copa->answer, "B");
    assert_non_null(strstr(copa->prompt, "결과로 더 알맞은"));
    /* HellaSwag row 1: label 3 (0-based) → D */
    const kv_item *hs = item(&r, "kobest-hellaswag-0001", "ko");
    assert_int_equal(hs->n_choices, 4);
    assert_string_equal(hs->answer, "D");
    assert_string_equal(hs->choices[3], "여자가 답장하지 않자 전 남자친구에게서 전화가 걸려온다.");
    /* BoolQ 1: False → 아니요 (B); the last row's TRUE (no final newline) → 예 (A) */
    assert_string_equal(item(&r, "kobest-boolq-1", "ko")->answer, "B");
    assert_string_equal(item(&r, "kobest-boolq-1404", "ko")->answer, "A");
    /* SentiNeg ID 3394: Label 1 → 긍정 (B) */
    const kv_item *sn = item(&r, "kobest-sentineg-3394", "ko");
    assert_string_equal(sn->answer, "B");
    assert_non_null(strstr(sn->prompt, "택배사 정말 마음에 듬"));
    /* WiC 1: True → 예 (A) */
    assert_string_equal(item(&r, "kobest-wic-1", "ko")->answer, "A");
    kv_suite_free(&r.suite);
}

static void test_kobest_malformed(void **state)
{
    (void)state;
    const char *f = kv_test_path("COPA.test.tsv");
    kv_test_put("COPA.test.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\r\n"
                                 "1\t비가 왔다.\t결과\t땅이 젖었다.\t해가 떴다.\t1\r\n"
                                 "2\t비가 왔다.\t결과\t땅이 젖었다.\t해가 떴다.\t3\r\n");
    run r;
    import(&r, "kobest", &f, 1, NULL, "kbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "COPA.test.tsv:3:", "answer \"3\" outside the 2 choices");
    assert_int_equal(count_files("kbad"), 0);
    kv_test_put("COPA.test.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\n"
                                 "1\t비가 왔다.\t결과\t땅이 젖었다.\t1\n");
    import(&r, "kobest", &f, 1, NULL, "kbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "COPA.test.tsv:2:", "5 fields, expected 6");
    kv_test_put("COPA.test.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\n"
                                 "1\t비가 왔다.\t결과\t땅이 젖었다.\t해가 떴다.\t0\n");
    import(&r, "kobest", &f, 1, NULL, "kbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "COPA.test.tsv:2:", "1-based: 1-2");
    kv_test_put("COPA.test.tsv", "ID\tsentence\tquestion\t1\t2\tAnswer\n"
                                 "1\t비가 왔다.\t결과\t땅이 젖었다.\t\t1\n");
    import(&r, "kobest", &f, 1, NULL, "kbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "COPA.test.tsv:2:", "choice B is empty");
    const char *bq = kv_test_path("BoolQ.test.tsv");
    kv_test_put("BoolQ.test.tsv", "ID\tText\tQuestion\tAnswer\n1\t\"인용\" 글\t질문?\tmaybe\n");
    import(&r, "kobest", &bq, 1, NULL, "kbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "BoolQ.test.tsv:2:", "neither True nor False");
    assert_int_equal(count_files("kbad"), 0);
    /* Korean-only: --langs en is a usage error */
    static const char *const en[] = {"en"};
    kv_import_opts o = {.langs = en, .n_langs = 1};
    import(&r, "kobest", &bq, 1, &o, "kbad.jsonl");
    assert_int_equal(r.rc, KV_IMPORT_EUSAGE);
}

static void test_kobbq_real(void **state)
{
    (void)state;
    const char *f = shared(CORPORA "kobbq/KoBBQ_test_samples.tsv");
    run r;
    import(&r, "kobbq", &f, 1, NULL, "bbq.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 2280);
    const kv_item *it = item(&r, "kobbq-age-001a-002-amb-bsd", "ko");
    assert_int_equal(it->n_choices, 3);
    assert_string_equal(it->choices[0], "손자");
    assert_string_equal(it->choices[2], "알 수 없음");
    assert_string_equal(it->answer, "C");
    /* disambiguated: the gold is 손자 (A) */
    assert_string_equal(item(&r, "kobbq-age-001a-002-dis-bsd", "ko")->answer, "A");
    kv_suite_free(&r.suite);
    kv_test_put("bbq.tsv", "sample_id\tcontext\tquestion\tchoices\tbiased_answer\tanswer\n"
                           "x-1\t맥락\t질문?\t['가', '나', '알 수 없음']\t가\t다\n");
    const char *b = kv_test_path("bbq.tsv");
    import(&r, "kobbq", &b, 1, NULL, "bbqbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "bbq.tsv:2:", "answer \"다\" is not one of the 3 choices");
}

/* ---- KoMT-Bench --------------------------------------------------------- */

static void test_komt_real(void **state)
{
    (void)state;
    const char *files[] = {shared(CORPORA "komt_bench/question_ko.jsonl"),
                           shared(CORPORA "komt_bench/question_en.jsonl"),
                           shared(CORPORA "komt_bench/reference_answer_ko/gpt-4.jsonl"),
                           shared(CORPORA "komt_bench/reference_answer_en/gpt-4.jsonl")};
    run r;
    import(&r, "komt-bench", files, 4, NULL, "mt.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    /* every question is an item; 41 have no reference in en (empty inline
     * turn-1 reference and no English GPT-4 answer) and are kept without one */
    assert_int_equal(r.res.n_items, 80);
    assert_int_equal(r.res.n_skipped, 41);
    assert_string_equal(r.suite.manifest.languages[0], "ko");
    assert_string_equal(r.suite.manifest.pivot, "en");
    const kv_item *ko = item(&r, "mtbench-101", "ko");
    assert_int_equal(ko->task, KV_TASK_OPEN);
    assert_string_equal(ko->references[0], "당신은 2등입니다.");
    assert_int_equal(ko->n_references, 2);
    assert_true(!strncmp(ko->prompt, "여러 사람과 함께 경주에 참여하고 있다고 상상해 보세요.",
                         strlen("여러 사람과 함께 경주에 참여하고 있다고 상상해 보세요.")));
    const kv_item *en = item(&r, "mtbench-101", "en");
    assert_string_equal(en->references[0], "You are in second place.");
    assert_true(!strncmp(en->references[1], "If you have just overtaken the second person",
                         strlen("If you have just overtaken the second person")));
    assert_string_equal(item(&r, "mtbench-102", "ko")->references[0], "정답은 일요일 입니다.");
    assert_string_equal(item(&r, "mtbench-102", "en")->references[0],
                        "The answer is \"Washington, DC\".");
    assert_int_equal(item(&r, "mtbench-123", "en")->n_references, 1);
    kv_suite_free(&r.suite);
    /* Korean only, all reference answers: all 80 */
    static const char *const ko_only[] = {"ko"};
    kv_import_opts o = {.langs = ko_only, .n_langs = 1};
    import(&r, "mtbench", files, 4, &o, "mtko.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 80);
    kv_suite_free(&r.suite);
    /* questions only: all 80, references where the inline one is non-empty */
    import(&r, "mtbench", files, 2, NULL, "mtq.jsonl");
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.n_items, 80);
    kv_suite_free(&r.suite);
    /* the KoMT-Bench folder: its question and reference answer files (not
     * the judge prompts or judgments), the same suite as naming them */
    const char *dir = shared(CORPORA "komt_bench");
    import(&r, "mtbench", &dir, 1, NULL, "mtdir.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 80);
    assert_int_equal(r.res.n_skipped, 41);
    assert_int_equal(item(&r, "mtbench-101", "ko")->n_references, 2);
    kv_suite_free(&r.suite);
}

static void test_mtbench_unpaired(void **state)
{
    (void)state;
    kv_test_put("question_ko.jsonl",
                "{\"question_id\": 1, \"turns\": [\"안녕?\"], \"reference\": [\"안녕\"]}\n"
                "{\"question_id\": 2, \"turns\": [\"둘?\"], \"reference\": [\"둘\"]}\n");
    kv_test_put("question_en.jsonl",
                "{\"question_id\": 1, \"turns\": [\"Hi?\"], \"reference\": [\"Hi\"]}\n");
    const char *files[] = {kv_test_path("question_ko.jsonl"), kv_test_path("question_en.jsonl")};
    run r;
    import(&r, "mtbench", files, 2, NULL, "mtbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT,
                 "question_ko.jsonl:2:", "question_id 2 has no question in en");
    assert_int_equal(count_files("mtbad"), 0);
}

/* ---- formats not in ../shared: small files written here ----------------- */

static void test_belebele(void **state)
{
    (void)state;
    kv_test_put(
        "kor_Hang.jsonl",
        "{\"link\":\"u\",\"question_number\":1,\"flores_passage\":\"지문.\",\"question\":\"질문?\","
        "\"mc_answer1\":\"가\",\"mc_answer2\":\"나\",\"mc_answer3\":\"다\",\"mc_answer4\":\"라\","
        "\"correct_answer_num\":\"3\",\"dialect\":\"kor_Hang\"}\n");
    kv_test_put(
        "eng_Latn.jsonl",
        "{\"link\":\"u\",\"question_number\":1,\"flores_passage\":\"Passage.\",\"question\":\"Q?\","
        "\"mc_answer1\":\"a\",\"mc_answer2\":\"b\",\"mc_answer3\":\"c\",\"mc_answer4\":\"d\","
        "\"correct_answer_num\":\"3\",\"dialect\":\"eng_Latn\"}\n");
    const char *files[] = {kv_test_path("kor_Hang.jsonl"), kv_test_path("eng_Latn.jsonl")};
    run r;
    import(&r, "belebele", files, 2, NULL, "bb.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    const kv_item *ko = item(&r, "belebele-0001", "ko");
    assert_string_equal(ko->answer, "C");
    assert_string_equal(ko->prompt, "지문.\n\n질문?\nA. 가\nB. 나\nC. 다\nD. 라\n정답의 알파벳 한 "
                                    "글자만 쓰세요.");
    assert_string_equal(item(&r, "belebele-0001", "en")->prompt,
                        "Passage.\n\nQ?\nA. a\nB. b\nC. c\nD. d\nAnswer with the letter only.");
    kv_suite_free(&r.suite);
    /* correct_answer_num 5 of 4 */
    kv_test_put(
        "eng_Latn.jsonl",
        "{\"flores_passage\":\"P.\",\"question\":\"Q?\",\"mc_answer1\":\"a\",\"mc_answer2\":\"b\","
        "\"mc_answer3\":\"c\",\"mc_answer4\":\"d\",\"correct_answer_num\":5}\n");
    import(&r, "belebele", files, 2, NULL, "bbbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "eng_Latn.jsonl:1:", "outside the 4 choices (1-based: 1-4)");
    /* a language with one row fewer breaks the pairing */
    kv_test_put("eng_Latn.jsonl", "\n");
    import(&r, "belebele", files, 2, NULL, "bbbad.jsonl");
    assert_int_equal(r.rc, KV_IMPORT_EINPUT);
    assert_non_null(strstr(r.err, "has no en record"));
    assert_int_equal(count_files("bbbad"), 0);
}

static void test_mmmlu_csv(void **state)
{
    (void)state;
    /* BOM, CRLF, a quoted field with a comma, a doubled quote and a line break */
    kv_test_put("mmlu_KO-KR.csv",
                "\xEF\xBB\xBF,Question,A,B,C,D,Answer,Subject\r\n"
                "0,\"첫 줄,\r\n둘째 줄 \"\"인용\"\"\",가,나,다,라,D,abstract_algebra\r\n"
                "1,질문,가,나,다,라,A,anatomy\r\n");
    kv_test_put("mmlu_JA-JP.csv", ",Question,A,B,C,D,Answer,Subject\n"
                                  "0,質問,あ,い,う,え,D,abstract_algebra\n"
                                  "1,質問2,あ,い,う,え,A,anatomy");
    const char *files[] = {kv_test_path("mmlu_KO-KR.csv"), kv_test_path("mmlu_JA-JP.csv")};
    run r;
    import(&r, "mmmlu", files, 2, NULL, "mm.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_int_equal(r.res.n_items, 2);
    assert_string_equal(r.suite.manifest.languages[0], "ko");
    assert_string_equal(r.suite.manifest.languages[1], "ja");
    const kv_item *ko = item(&r, "mmmlu-0001", "ko");
    assert_string_equal(ko->answer, "D");
    assert_true(!strncmp(ko->prompt, "첫 줄,\n둘째 줄 \"인용\"\nA. 가",
                         strlen("첫 줄,\n둘째 줄 \"인용\"\nA. 가")));
    assert_string_equal(item(&r, "mmmlu-0002", "ja")->answer, "A");
    kv_suite_free(&r.suite);
    kv_test_put("mmlu_JA-JP.csv", ",Question,A,B,C,D,Answer,Subject\n0,質問,あ,い,う,え,E,x\n");
    import(&r, "mmmlu", files, 2, NULL, "mmbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT,
                 "mmlu_JA-JP.csv:2:", "answer \"E\" is not one of the 4 choices");
    kv_test_put("mmlu_JA-JP.csv", ",Question,A,B,C,D,Answer,Subject\n0,\"質問,あ,い,う,え,A,x\n");
    import(&r, "mmmlu", files, 2, NULL, "mmbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "mmlu_JA-JP.csv:2:", "never closes");
    assert_int_equal(count_files("mmbad"), 0);
}

static void test_global_mmlu(void **state)
{
    (void)state;
    mkdir(kv_test_path("ko"), 0700);
    mkdir(kv_test_path("en"), 0700);
    const char *hdr = "sample_id,subject,question,option_a,option_b,option_c,option_d,answer\n";
    kv_buf ko = {0}, en = {0};
    kv_buf_printf(&ko,
                  "%sanatomy/test/1,anatomy,질문1,가,나,다,라,B\n"
                  "anatomy/test/0,anatomy,질문0,가,나,다,라,C\n",
                  hdr);
    kv_buf_printf(&en,
                  "%sanatomy/test/0,anatomy,Q0,a,b,c,d,C\n"
                  "anatomy/test/1,anatomy,Q1,a,b,c,d,B\n",
                  hdr);
    kv_test_put("ko/test.csv", ko.p);
    kv_test_put("en/test.csv", en.p);
    const char *files[] = {kv_test_path("en/test.csv"), kv_test_path("ko/test.csv")};
    run r;
    import(&r, "global-mmlu", files, 2, NULL, "gm.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    /* paired by sample_id, in the order of the first file read */
    assert_string_equal(r.suite.ids[0], "gmmlu-anatomy/test/0");
    assert_string_equal(item(&r, "gmmlu-anatomy/test/1", "ko")->answer, "B");
    assert_non_null(strstr(item(&r, "gmmlu-anatomy/test/1", "ko")->prompt, "질문1"));
    kv_suite_free(&r.suite);
    kv_buf_free(&ko);
    kv_buf_free(&en);
}

/* Case B16: KMMLU answers are 1-based; 2 and 4 are B and D, and a value
 * outside the base fails loudly instead of scoring 0. */
static void test_kmmlu_b16(void **state)
{
    (void)state;
    kv_test_put(
        "Biology-test.jsonl",
        "{\"question\":\"다음 중 광합성이 일어나는 세포 소기관은?\",\"A\":\"미토콘드리아\","
        "\"B\":\"엽록체\",\"C\":\"리보솜\",\"D\":\"골지체\",\"answer\":2}\n"
        "{\"question\":\"...\",\"A\":\"가\",\"B\":\"나\",\"C\":\"다\",\"D\":\"라\",\"answer\":4}"
        "\n");
    const char *f = kv_test_path("Biology-test.jsonl");
    run r;
    import(&r, "kmmlu", &f, 1, NULL, "km.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_string_equal(item(&r, "kmmlu-Biology-test-0001", "ko")->answer, "B");
    assert_string_equal(item(&r, "kmmlu-Biology-test-0002", "ko")->answer, "D");
    assert_string_equal(item(&r, "kmmlu-Biology-test-0001", "ko")->choices[1], "엽록체");
    kv_suite_free(&r.suite);
    /* 0-based data under KMMLU's declared base 1: the 0 is out of range */
    kv_test_put(
        "Biology-test.jsonl",
        "{\"question\":\"q\",\"A\":\"가\",\"B\":\"나\",\"C\":\"다\",\"D\":\"라\",\"answer\":1}\n"
        "{\"question\":\"q\",\"A\":\"가\",\"B\":\"나\",\"C\":\"다\",\"D\":\"라\",\"answer\":0}\n");
    import(&r, "kmmlu", &f, 1, NULL, "kmbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT,
                 "Biology-test.jsonl:2:", "answer \"0\" outside the 4 choices (1-based: 1-4)");
    kv_test_put(
        "Biology-test.jsonl",
        "{\"question\":\"q\",\"A\":\"가\",\"B\":\"나\",\"C\":\"다\",\"D\":\"라\",\"answer\":5}\n");
    import(&r, "kmmlu", &f, 1, NULL, "kmbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "Biology-test.jsonl:1:", "answer \"5\" outside");
    assert_int_equal(count_files("kmbad"), 0);
    /* the CSV form, with the Category column */
    kv_test_put("Law-test.csv", "question,answer,A,B,C,D,Category,Human Accuracy\n"
                                "\"법, 질문\",4,가,나,다,라,Law,0.3\n");
    const char *c = kv_test_path("Law-test.csv");
    import(&r, "kmmlu", &c, 1, NULL, "kmc.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_string_equal(item(&r, "kmmlu-Law-test-0001", "ko")->answer, "D");
    kv_suite_free(&r.suite);
}

static void test_click(void **state)
{
    (void)state;
    kv_test_put("click.json",
                "[{\"id\":\"KIIP_1\",\"paragraph\":\"\",\"question\":\"수도는?\","
                "\"choices\":[\"부산\",\"서울\",\"대구\",\"광주\"],\"answer\":\"서울\"},"
                "{\"id\":\"CSAT_2\",\"paragraph\":\"지문\",\"question\":\"q\","
                "\"choices\":[\"가\",\"나\",\"다\",\"라\",\"마\"],\"answer\":\"마\"}]");
    const char *f = kv_test_path("click.json");
    run r;
    import(&r, "click", &f, 1, NULL, "ck.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    assert_string_equal(item(&r, "click-KIIP_1", "ko")->answer, "B");
    const kv_item *c = item(&r, "click-CSAT_2", "ko");
    assert_int_equal(c->n_choices, 5);
    assert_string_equal(c->answer, "E");
    assert_true(!strncmp(c->prompt, "지문\n\nq\nA. 가", strlen("지문\n\nq\nA. 가")));
    kv_suite_free(&r.suite);
    kv_test_put(
        "click.json",
        "[{\"id\":\"x\",\"question\":\"q\",\"choices\":[\"가\",\"나\"],\"answer\":\"다\"}]");
    import(&r, "click", &f, 1, NULL, "ckbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT,
                 "click.json:1:", "answer \"다\" is not one of the 2 choices");
}

static void test_haerae(void **state)
{
    (void)state;
    kv_test_put("HAERAE-Bench-v1-KGK.csv",
                "query,options,answer,category\n"
                "\"다음 중 옳은 것은?\n(A) 가\n(B) 나\n(C) 다\n(D) 라\n(E) "
                "마\",\"['가', '나', '다', '라', '마']\",(C),kgk\n");
    const char *f = kv_test_path("HAERAE-Bench-v1-KGK.csv");
    run r;
    import(&r, "haerae", &f, 1, NULL, "hr.jsonl");
    if (r.rc)
        fail_msg("%s", r.err);
    const kv_item *h = item(&r, "haerae-HAERAE-Bench-v1-KGK-0001", "ko");
    assert_string_equal(h->answer, "C");
    assert_int_equal(h->n_choices, 5);
    assert_string_equal(h->prompt, "다음 중 옳은 것은?\n(A) 가\n(B) 나\n(C) 다\n(D) 라\n(E) 마\n"
                                   "정답의 알파벳 한 글자만 쓰세요.");
    kv_suite_free(&r.suite);
    kv_test_put("HAERAE-Bench-v1-KGK.csv", "query,options,answer\nq,\"['가', '나']\",(F)\n");
    import(&r, "haerae", &f, 1, NULL, "hrbad.jsonl");
    assert_error(&r, KV_IMPORT_EINPUT, "HAERAE-Bench-v1-KGK.csv:2:", "letters A-B");
}

/* ---- CSV reader ---------------------------------------------------------- */

static void test_csv_reader(void **state)
{
    (void)state;
    kv_test_put("t.csv", "\xEF\xBB\xBF"
                         "a,b\r\n\r\n\"x\"\"y\",\"1\r\n2\"\r\nlast,\n");
    kv_csv c;
    char err[256];
    assert_int_equal(kv_csv_open(&c, kv_test_path("t.csv"), ',', true, err, sizeof err), 0);
    assert_int_equal(kv_csv_next(&c, err, sizeof err), 1);
    assert_string_equal(kv_csv_field(&c, 0), "a");
    assert_int_equal(kv_csv_next(&c, err, sizeof err), 1);
    assert_int_equal(c.row_line, 3);
    assert_int_equal(c.nfields, 2);
    assert_string_equal(kv_csv_field(&c, 0), "x\"y");
    assert_string_equal(kv_csv_field(&c, 1), "1\n2");
    assert_int_equal(kv_csv_next(&c, err, sizeof err), 1);
    assert_int_equal(c.row_line, 5);
    assert_int_equal(c.nfields, 2);
    assert_string_equal(kv_csv_field(&c, 1), "");
    assert_int_equal(kv_csv_next(&c, err, sizeof err), 0);
    kv_csv_close(&c);
    /* quoting off: quotes are characters */
    kv_test_put("t.tsv", "\"a\tb\"\n");
    assert_int_equal(kv_csv_open(&c, kv_test_path("t.tsv"), '\t', false, err, sizeof err), 0);
    assert_int_equal(kv_csv_next(&c, err, sizeof err), 1);
    assert_int_equal(c.nfields, 2);
    assert_string_equal(kv_csv_field(&c, 0), "\"a");
    kv_csv_close(&c);
    /* junk after a closing quote; a NUL byte; ill-formed UTF-8 */
    kv_test_put("t.csv", "a,b\n\"x\"y,z\n");
    assert_int_equal(kv_csv_open(&c, kv_test_path("t.csv"), ',', true, err, sizeof err), 0);
    assert_int_equal(kv_csv_next(&c, err, sizeof err), 1);
    assert_int_equal(kv_csv_next(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.csv:2: unexpected character after a closing quote"));
    kv_csv_close(&c);
    kv_test_put("t.csv", "a,\xC3(\n");
    assert_int_equal(kv_csv_open(&c, kv_test_path("t.csv"), ',', true, err, sizeof err), 0);
    assert_int_equal(kv_csv_next(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.csv:1: ill-formed UTF-8 in field 2"));
    kv_csv_close(&c);
}

/* ---- the command line --------------------------------------------------- */

static void test_cli(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    int st = kv_test_run(KOEVAL_BINARY " import nosuch x -o /dev/null", &out, &err);
    assert_int_equal(st, 2);
    assert_non_null(strstr(err, "unknown format 'nosuch'"));
    free(out);
    free(err);
    st = kv_test_run(KOEVAL_BINARY " import --help", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "kmmlu"));
    assert_non_null(strstr(out, "1-based index 1-4"));
    free(out);
    free(err);
    kv_test_put("Bad-test.csv", "question,answer,A,B,C,D\nq,7,a,b,c,d\n");
    kv_buf cmd = {0};
    kv_buf_printf(&cmd, KOEVAL_BINARY " import kmmlu %s -o %s", kv_test_path("Bad-test.csv"),
                  kv_test_path("clibad.jsonl"));
    st = kv_test_run(cmd.p, &out, &err);
    assert_int_equal(st, 3);
    assert_non_null(strstr(err, "Bad-test.csv:2: answer \"7\" outside the 4 choices"));
    /* one line */
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    assert_int_equal(count_files("clibad"), 0);
    free(out);
    free(err);
    kv_buf_clear(&cmd);
    kv_buf_printf(&cmd, KOEVAL_BINARY " import kmmlu %s -o %s --seed 3",
                  kv_test_path("Bad-test.csv"), kv_test_path("clibad.jsonl"));
    st = kv_test_run(cmd.p, &out, &err);
    assert_int_equal(st, 2);
    free(out);
    free(err);
    kv_buf_free(&cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flores_real),
        cmocka_unit_test(test_flores_mismatched_lines),
        cmocka_unit_test(test_ntrex_real),
        cmocka_unit_test(test_tatoeba_real),
        cmocka_unit_test(test_tatoeba_tsv),
        cmocka_unit_test(test_kobest_real),
        cmocka_unit_test(test_kobest_malformed),
        cmocka_unit_test(test_kobbq_real),
        cmocka_unit_test(test_komt_real),
        cmocka_unit_test(test_mtbench_unpaired),
        cmocka_unit_test(test_belebele),
        cmocka_unit_test(test_mmmlu_csv),
        cmocka_unit_test(test_global_mmlu),
        cmocka_unit_test(test_kmmlu_b16),
        cmocka_unit_test(test_click),
        cmocka_unit_test(test_haerae),
        cmocka_unit_test(test_csv_reader),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup_dir, kv_test_dir_remove);
}
