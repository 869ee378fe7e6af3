/*
 * suite.h — loads a paired evaluation suite: a JSONL file with one record per
 * (item, language) and its JSON manifest (DESIGN.md, "Data").
 *
 * A record:
 *   {"id":"mc-003","lang":"ko","task":"mcq","prompt":"…",
 *    "choices":["…","…","…","…"],"answer":"B"}
 * Fields (all strings unless said otherwise; other fields are ignored, so that
 * suites may carry their own metadata):
 *   id          required, non-empty; records sharing an id are one item
 *   lang        required, a language tag ("ko", "en", "zh-Hant": letters,
 *               digits and '-', starting with 2–8 letters)
 *   task        required: qa, mcq, math, translate or open
 *   prompt      required, non-empty
 *   references  array of strings, at least one; required for qa and
 *               translate, optional for open (without one an open item is
 *               scored for fidelity and consistency only), mcq and math
 *   choices     array of 2–26 strings; required for mcq
 *   answer      required for mcq (one letter among the choices: "A"… ) and
 *               math (a plain decimal number: an optional '-', digits, and an
 *               optional '.' and digits — no separators, units or exponent,
 *               so "24000", "-3", "12.5"); optional for other tasks
 *   target_lang optional language tag: the language the answer must be in
 *               (translate items asking for another language); default lang
 *   units       optional "ko": numbers in answers may use Korean units
 *               (3만 = 30000, 2억, 5천, 1조) — math items only use them
 *
 * The file may start with a UTF-8 BOM, may use CRLF line ends, and may hold
 * blank lines (skipped); a record line may be up to KV_SUITE_MAX_LINE_BYTES.
 * The suite must be well-formed UTF-8 without NUL bytes.
 *
 * The suite as a whole: (id, lang) is unique, an id has one task in every
 * language, every record's language is one of the suite's languages, and
 * every id has a record in every one of them (a suite is a set of complete
 * pairs: the gap between languages is measured item by item).
 *
 * The manifest (all fields optional):
 *   {"name":"…", "version":"…", "licence":"…" (or "license"), "source":"…",
 *    "languages":["ko","en",…], "pivot":"en",
 *    "system_prompts":{"ko":"…", …},
 *    "tasks":{"qa":{"metrics":["em","f1"], "tokenizer":"…"}, …}}
 * Without "languages", the suite's languages are those its records use, in
 * order of first appearance. Without "pivot", the pivot is "en" when it is
 * one of the languages, else the first language.
 *
 * Errors are reported once, as one line naming the file and, for a record,
 * its line: "suite.jsonl:3: field \"prompt\" missing". Only the first error
 * is reported.
 */
#ifndef KOEVAL_SUITE_H
#define KOEVAL_SUITE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest accepted record line, in bytes (16 MiB, terminator excluded). */
#define KV_SUITE_MAX_LINE_BYTES ((size_t)16 << 20)

/* Longest accepted manifest file, in bytes (16 MiB). */
#define KV_SUITE_MAX_MANIFEST_BYTES ((size_t)16 << 20)

/* What an item asks for, and so how its answers are scored. */
typedef enum kv_task {
    KV_TASK_QA = 0,    /* short answer; EM, F1 against references */
    KV_TASK_MCQ,       /* choice letter; extracted letter = answer */
    KV_TASK_MATH,      /* number; extracted number = answer */
    KV_TASK_TRANSLATE, /* translation; chrF, BLEU against references */
    KV_TASK_OPEN,      /* long answer; ROUGE, chrF against references */
} kv_task;

#define KV_TASK_COUNT 5

/* Name of a task as written in suites ("qa", "mcq", "math", "translate",
 * "open"); "?" for a value outside the enum. Static storage. */
const char *kv_task_name(kv_task task);

/* Parses a task name (exact, lowercase). Returns 0 and sets *out, or -1 when
 * the name is unknown (*out unchanged). */
int kv_task_parse(const char *name, kv_task *out);

/* One record: an item in one language. Every string and array is owned by
 * the suite and lives until kv_suite_free. Strings are NUL-terminated,
 * well-formed UTF-8. */
typedef struct kv_item {
    const char *id;
    const char *lang;
    kv_task task;
    const char *prompt;
    const char *const *references; /* n_references strings; NULL when 0 */
    size_t n_references;
    const char *const *choices; /* n_choices strings in letter order (A, B, …); NULL when 0 */
    size_t n_choices;
    const char *answer;      /* mcq: gold letter "A"…; math: number string as
                                written ("24000"); other tasks: as given, or
                                NULL when the record has none */
    const char *units;       /* "ko" when the item declares Korean number units, else NULL */
    const char *target_lang; /* language the answer must be in; never NULL
                                (equal to lang unless the record says otherwise) */
    size_t line;             /* 1-based line of the record in the JSONL file */
    size_t id_index;         /* index of id in kv_suite.ids */
    size_t lang_index;       /* index of lang in kv_suite.manifest.languages */
} kv_item;

/* Scoring choices for one task. */
typedef struct kv_task_conf {
    const char *const *metrics; /* metric names as the manifest lists them
                                   ("chrf", "bleu" …); NULL when none */
    size_t n_metrics;
    const char *tokenizer; /* tokenizer name, or NULL for each metric's default */
} kv_task_conf;

/* The suite's description, from its manifest or, without one, from its
 * records. Strings owned by the suite. */
typedef struct kv_manifest {
    const char *path;             /* manifest file read, or NULL when there was none */
    const char *name;             /* NULL when not given */
    const char *version;          /* NULL when not given */
    const char *licence;          /* NULL when not given */
    const char *source;           /* NULL when not given */
    const char *const *languages; /* n_languages tags, declared order (or order
                                     of first appearance without a manifest) */
    size_t n_languages;
    const char *pivot;                 /* one of languages; never NULL */
    const char *const *system_prompts; /* parallel to languages; an entry is NULL
                                          when that language has none */
    kv_task_conf tasks[KV_TASK_COUNT]; /* indexed by kv_task */
} kv_manifest;

typedef struct kv_suite_index kv_suite_index; /* private: (id, lang) → item */

/* A loaded suite. Read-only after kv_suite_load; safe to share between
 * threads for reading. */
typedef struct kv_suite {
    const char *path;     /* the JSONL path as given to kv_suite_load */
    char hash[17];        /* 64-bit FNV-1a of the JSONL file's bytes, 16 lowercase
                             hex digits: identifies the exact file (a BOM or CRLF
                             line ends change it), for the store's run key; not a
                             security hash */
    const kv_item *items; /* n_items records in file order */
    size_t n_items;
    const char *const *ids; /* n_ids distinct ids, in order of first appearance */
    size_t n_ids;
    kv_manifest manifest;
    kv_suite_index *index;
} kv_suite;

/* Result codes of kv_suite_load. */
typedef enum kv_suite_status {
    KV_SUITE_OK = 0,
    KV_SUITE_EIO = 1,       /* a file cannot be opened or read ("cannot open
                               x.jsonl: No such file or directory") */
    KV_SUITE_ESYNTAX = 2,   /* a line is not one JSON object: invalid JSON, not
                               an object, ill-formed UTF-8, a NUL byte, longer
                               than KV_SUITE_MAX_LINE_BYTES */
    KV_SUITE_EFIELD = 3,    /* a record field is missing, repeated, of the wrong
                               type, or has a value outside its domain (unknown
                               task, mcq/math answer, language tag) */
    KV_SUITE_EPAIRING = 4,  /* the records do not form complete pairs: duplicate
                               (id, lang), an id with two tasks, a language the
                               suite does not declare, an id missing a declared
                               language, a declared language no record has */
    KV_SUITE_EMANIFEST = 5, /* the manifest is not valid JSON, a field has the
                               wrong type, or its values disagree (pivot not a
                               language, unknown task, repeated language …) */
    KV_SUITE_EEMPTY = 6,    /* the JSONL file holds no record */
} kv_suite_status;

/* Loads the suite in `jsonl_path` (a regular file; "-" is not accepted: the
 * file is read twice, once for its hash) with the manifest at
 * `manifest_path`. When manifest_path is NULL, "<stem>.manifest.json" next to
 * the JSONL is used if it exists (stem = jsonl_path without its ".jsonl"
 * suffix, or the whole path when it has none); when it does not exist, the
 * suite has no manifest (see the file comment for the defaults). An explicit
 * manifest_path must exist.
 *
 * On success returns KV_SUITE_OK and fills *suite, which the caller releases
 * with kv_suite_free. On failure returns another kv_suite_status, writes one
 * line into err (errlen bytes, truncated if needed; err may be NULL when
 * errlen is 0), and leaves *suite zeroed (kv_suite_free on it is harmless).
 * Aborts on out-of-memory, as kv_xmalloc. */
int kv_suite_load(const char *jsonl_path, const char *manifest_path, kv_suite *suite, char *err,
                  size_t errlen);

/* Releases everything the suite owns and zeroes it. NULL or a zeroed suite is
 * fine. */
void kv_suite_free(kv_suite *suite);

/* The record of item `id` in language `lang`, or NULL when there is none.
 * O(1) on average. */
const kv_item *kv_suite_find(const kv_suite *suite, const char *id, const char *lang);

/* Index of `lang` in suite->manifest.languages, or -1 when the suite does not
 * have that language. */
int kv_suite_lang_index(const kv_suite *suite, const char *lang);

/* The manifest's system prompt for `lang`, or NULL when the manifest gives
 * none (or the suite does not have that language). Owned by the suite. */
const char *kv_suite_system_prompt(const kv_suite *suite, const char *lang);

#endif
