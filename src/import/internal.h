/*
 * internal.h — what the importers share: the suite being built, language
 * tags and per-language prompts, gold-label checking, and a row reader over
 * CSV, TSV, JSONL and JSON files. Not a public header.
 */
#ifndef KOEVAL_IMPORT_INTERNAL_H
#define KOEVAL_IMPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "src/buf.h"
#include "src/import/csv.h"
#include "src/import/import.h"

/* One FILE argument. */
typedef struct kv_import_file {
    char *path;       /* owned */
    const char *lang; /* tag given as "LANG=PATH" (static), or NULL */
    bool from_dir;    /* found in a folder given as FILE (not named by the user) */
} kv_import_file;

/* One item: its id and one record per suite language (NULL until filled). */
typedef struct kv_import_item {
    char *id;
    cJSON **recs;
    const char *path; /* where the item was first seen, for errors */
    size_t line;
} kv_import_item;

struct kv_import_ctx {
    const kv_import_format *fmt;
    kv_import_file *files;
    size_t n_files;
    const char *const *args; /* the FILE arguments as given, for the manifest */
    size_t n_args;
    const kv_import_opts *opts;
    const char **langs; /* suite languages (static tags), set by kv_imp_set_langs */
    size_t n_langs;
    kv_import_item *items;
    size_t n_items, cap_items;
    size_t *slots; /* open-addressing id index: item index + 1, 0 = empty */
    size_t n_slots;
    size_t n_skipped;
    char note[512];
    char *err;
    size_t errlen;
};

/* strdup that aborts on out-of-memory, as kv_xmalloc. */
char *kv_imp_strdup(const char *s);

/* Sets ctx->err to one formatted line and returns `code`. */
int kv_imp_fail(kv_import_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces every directory among ctx->files by the regular files in it (and
 * in its subdirectories, one level down) whose names end with one of the
 * NULL-terminated `suffixes` (an entry starting with '^' is a prefix
 * instead: "^devtest."), sorted by name. A directory without such files is
 * an error. */
int kv_imp_expand_dirs(kv_import_ctx *ctx, const char *const *suffixes);

/* The language of a file: the tag given as LANG=PATH, else one read from the
 * file name or its directory's name, else NULL. */
const char *kv_imp_file_lang(const kv_import_file *f);

/* Chooses the suite languages. `found` (n tags) are the languages the input
 * holds. With --langs, each must be known and (when `must_be_found`) among
 * found; without, the suite has the found languages with ko, en, ja, zh
 * first. Returns 0 or a kv_import_status with err set. */
int kv_imp_set_langs(kv_import_ctx *ctx, const char *const *found, size_t n, bool must_be_found);

/* For single-language datasets: the suite is `tag` only; --langs may name
 * that language and nothing else. */
int kv_imp_single_lang(kv_import_ctx *ctx, const char *tag);

/* Index of tag among the suite languages, or -1. */
int kv_imp_lang_index(const kv_import_ctx *ctx, const char *tag);

/* The item with this id, created (at the end, with path:line as where it was
 * first seen) when absent. Returns its index. */
size_t kv_imp_item(kv_import_ctx *ctx, const char *id, const char *path, size_t line);

/* Index of the item with this id, or -1. */
long kv_imp_find_item(const kv_import_ctx *ctx, const char *id);

/* Stores rec as item's record in language lang_index; takes ownership. A
 * second record for the same (item, language) is an error naming path:line. */
int kv_imp_put(kv_import_ctx *ctx, size_t item, int lang_index, cJSON *rec, const char *path,
               size_t line);

/* A new record {"id","lang","task","prompt"}; target_lang is added when it
 * differs from lang. */
cJSON *kv_imp_rec(const char *id, const char *lang, const char *task, const char *prompt);

/* Appends one reference to rec's "references". */
void kv_imp_add_ref(cJSON *rec, const char *ref);

/* An empty choice cannot be answered (nor loaded): returns 0, or
 * KV_IMPORT_EINPUT with err "path:line: choice B is empty". */
int kv_imp_check_choices(kv_import_ctx *ctx, const char *const *choices, size_t n, const char *path,
                         size_t line);

/* Sets "choices" (n strings) and "answer" (the letter of 0-based gold). */
void kv_imp_set_mcq(cJSON *rec, const char *const *choices, size_t n, size_t gold);

/* Appends to out an mcq prompt in `lang`: head, then the choices as "A. …"
 * lines, then the instruction to answer with the letter. */
void kv_imp_mcq_prompt(kv_buf *out, const char *lang, const char *head, const char *const *choices,
                       size_t n);

/* The translation instruction written in `lang` ("다음 문장을 한국어로
 * 번역하세요. 번역문만 쓰세요."), or NULL when there is none for it. */
const char *kv_imp_translate_instruction(const char *lang);

/* How a format writes its gold label. */
typedef enum kv_answer_base {
    KV_BASE_0 = 0,  /* 0-based index ("0"…"n-1") */
    KV_BASE_1 = 1,  /* 1-based index ("1"…"n") */
    KV_BASE_LETTER, /* letter "A"…; "(A)" accepted too */
} kv_answer_base;

/* Parses label as a gold choice under `base` for n choices. Returns 0 and
 * sets *gold (0-based), or KV_IMPORT_EINPUT with err "path:line: answer
 * \"5\" outside the 4 choices (1-based: 1–4)". */
int kv_imp_gold(kv_import_ctx *ctx, const char *label, kv_answer_base base, size_t n,
                const char *path, size_t line, size_t *gold);

/* Parses a list of strings written as a JSON array or a Python list literal
 * ("['a', \"b's\"]"). Returns the count and sets *out (malloc'd array of
 * malloc'd strings, free with kv_imp_free_list), or -1 when s is not such a
 * list. */
long kv_imp_parse_list(const char *s, char ***out);
void kv_imp_free_list(char **list, long n);

/* A table reader: rows of named string values from CSV (".csv"), TSV
 * (".tsv", ".txt"), JSONL (".jsonl") or JSON (".json": an array of objects,
 * or JSONL). CSV and TSV have a header row; every row must have the header's
 * number of fields. JSON numbers are written as integers when integral,
 * booleans as "True"/"False", null as "", arrays and objects as JSON text. */
typedef struct kv_rows {
    const char *path;
    int kind; /* private */
    kv_csv csv;
    char **header;
    size_t n_header;
    FILE *fp;
    cJSON *array; /* ".json" array */
    int array_i;
    kv_buf line_buf;
    cJSON *obj;  /* current JSON row */
    kv_buf vals; /* JSON row: values as text, NUL-separated */
    char **names;
    size_t *offs;
    size_t n_vals, cap_vals;
    size_t line; /* line of the current row (1-based; for a JSON array, its index + 1) */
} kv_rows;

/* Opens path; quoting applies to CSV/TSV. Returns 0 or KV_IMPORT_EINPUT. */
int kv_rows_open(kv_rows *r, const char *path, bool quoting, char *err, size_t errlen);
/* Next row: 1, 0 at the end, -1 with err set. */
int kv_rows_next(kv_rows *r, char *err, size_t errlen);
/* Value of column `name` in the current row (exact name, then
 * case-insensitive), or NULL when the row has no such column. */
const char *kv_rows_get(const kv_rows *r, const char *name);
void kv_rows_close(kv_rows *r);

/* Importers (one per format family). */
int kv_import_flores(kv_import_ctx *ctx);
int kv_import_ntrex(kv_import_ctx *ctx);
int kv_import_tatoeba(kv_import_ctx *ctx);
int kv_import_belebele(kv_import_ctx *ctx);
int kv_import_mmmlu(kv_import_ctx *ctx);
int kv_import_global_mmlu(kv_import_ctx *ctx);
int kv_import_kmmlu(kv_import_ctx *ctx);
int kv_import_click(kv_import_ctx *ctx);
int kv_import_haerae(kv_import_ctx *ctx);
int kv_import_kobest(kv_import_ctx *ctx);
int kv_import_kobbq(kv_import_ctx *ctx);
int kv_import_mtbench(kv_import_ctx *ctx);

#endif
