/*
 * import.h — converts public benchmark files into a koeval suite (suite.h):
 * a JSONL file of paired records and its "<stem>.manifest.json".
 *
 * One importer per format family (import_parallel.c: FLORES, NTREX, Tatoeba;
 * import_mcq.c: Belebele, MMMLU, Global-MMLU, KMMLU, CLIcK, HAE-RAE;
 * import_kobest.c; import_kobbq.c; import_mtbench.c), found by name in a
 * registry (kv_import_find). Every importer:
 *   - writes each prompt in the record's language (the instruction included);
 *   - emits `translate` items with references, `mcq` items with choices and
 *     the gold letter, or `open` items with references;
 *   - checks the gold label of every mcq row against the format's declared
 *     answer base (0-based index, 1-based index, letter, or choice text): a
 *     label outside the choices is an error naming the file and line;
 *   - pairs items across languages by id: every id has a record in every
 *     language of the suite (single-language datasets make Korean-only
 *     suites).
 * The output appears only when the import succeeds: both files are written
 * to "<path>.tmp.<pid>", checked with kv_suite_load, then renamed; on any
 * error the temporary files are removed and nothing else is touched.
 *
 * FILE arguments may be written "LANG=PATH" to say which language a file
 * holds; otherwise the language is read from the file name (kor_Hang.devtest,
 * newstest2019-ref.kor.txt, mmlu_KO-KR.csv, question_ko.jsonl, ko/test.csv).
 * A FILE that is a directory stands for the files in it (and in its
 * subdirectories, one level) that the format reads.
 */
#ifndef KOEVAL_IMPORT_H
#define KOEVAL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Result codes, equal to the CLI's exit codes. */
typedef enum kv_import_status {
    KV_IMPORT_OK = 0,
    KV_IMPORT_EWRITE = 1, /* the output could not be written (disk full, permissions) */
    KV_IMPORT_EUSAGE = 2, /* bad options: unknown language, wrong number of files */
    KV_IMPORT_EINPUT = 3, /* an input file is unreadable or malformed */
} kv_import_status;

typedef struct kv_import_opts {
    const char *const *langs; /* languages of the suite, in order (tags such as
                                 "ko", or any alias: "kor_Hang"); NULL = all
                                 the files hold */
    size_t n_langs;
    const char *source_lang; /* translation formats: the language translated
                                from (default "en") */
    size_t limit;            /* keep this many items; 0 = all */
    bool sample;             /* with limit: a seeded random sample (in file
                                order) instead of the first `limit` items */
    uint64_t seed;
    const char *name; /* manifest overrides; NULL = the format's default */
    const char *licence;
    const char *source;
} kv_import_opts;

typedef struct kv_import_ctx kv_import_ctx; /* private (import/internal.h) */

/* A format in the registry. Strings are static. */
typedef struct kv_import_format {
    const char *name;        /* as typed after `koeval import` */
    const char *summary;     /* one line */
    const char *files;       /* the FILES it expects */
    const char *answer_base; /* how the gold label is written ("1-based index 1–4"),
                                or NULL for formats without choices */
    const char *source;      /* default manifest "source" */
    const char *licence;     /* default manifest "licence" */
    int (*load)(kv_import_ctx *ctx);
} kv_import_format;

/* All formats, in --help order; *n set to their count. */
const kv_import_format *kv_import_formats(size_t *n);

/* The format called `name` (exact, lowercase; "komt-bench" and "mt-bench" are
 * the same importer), or NULL. */
const kv_import_format *kv_import_find(const char *name);

/* Summary of a finished import. */
typedef struct kv_import_result {
    size_t n_items;   /* items written (after --limit) */
    size_t n_langs;   /* languages of the suite */
    size_t n_skipped; /* items the importer left out, with the reason in note */
    char note[512];   /* "" or one line for the user (why items were skipped) */
} kv_import_result;

/* Reads `files` (n_files paths, each optionally "LANG=PATH") as `fmt` and
 * writes the suite to out_path ("x.jsonl") and its manifest
 * ("x.manifest.json"). Returns a kv_import_status; on failure err holds one
 * line ("COPA.test.tsv:12: label 3 outside the 2 choices (1-based)") and no
 * output file exists or was changed. Aborts on out-of-memory. */
int kv_import_run(const kv_import_format *fmt, const char *const *files, size_t n_files,
                  const kv_import_opts *opts, const char *out_path, kv_import_result *res,
                  char *err, size_t errlen);

/* The koeval language tag for a code or alias ("kor_Hang", "KO-KR", "zho-CN"
 * → "ko", "ko", "zh"; "zho_Hant" → "zh-Hant"), or NULL when unknown. Static
 * storage. */
const char *kv_import_lang_tag(const char *code);

#endif
