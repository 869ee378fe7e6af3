/*
 * report.h — the per-language table of a run, built from the store alone
 * (so `koeval report --db FILE` re-prints any run without the suite or the
 * models).
 *
 * Rows are models × metrics (each task's primary metric), columns the run's
 * languages, cells the mean item score (0–100) over answered requests; then
 * the Korean gap against the pivot language (mean of paired differences
 * ko − pivot over items answered in both), coverage (answered / asked),
 * extraction failures, and latency per model and language: TTFT and E2E
 * medians (ms) and output tokens/s (median over requests of completion
 * tokens / (t_last_token − t_first_token), server-reported tokens only).
 * Infra failures are never scores: they only lower coverage.
 */
#ifndef KOEVAL_REPORT_H
#define KOEVAL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "src/store.h"

typedef enum kv_report_format {
    KV_REPORT_TTY = 0, /* aligned text (East Asian Width aware) */
    KV_REPORT_MD,
    KV_REPORT_CSV,
    KV_REPORT_JSON,
    KV_REPORT_HTML, /* one self-contained page: inline CSS and SVG, no network */
} kv_report_format;

typedef struct kv_report kv_report;

/* Language of the report's labels. */
typedef enum kv_report_lang {
    KV_LABELS_EN = 0,
    KV_LABELS_KO,
} kv_report_lang;

/* Parses "ko" or "en". Returns 0 or -1. */
int kv_report_lang_parse(const char *name, kv_report_lang *out);

/* The default label language: Korean when the locale (LC_ALL, LC_MESSAGES or
 * LANG, first set wins) starts with "ko", else English. */
kv_report_lang kv_report_lang_default(void);

/* Sets the label language used by kv_report_print (default English). */
void kv_report_set_lang(kv_report *r, kv_report_lang lang);


/* Parses "tty", "text", "md", "csv", "json", "html". Returns 0 or -1. */
int kv_report_format_parse(const char *name, kv_report_format *out);


/* Reads run `run_id` from the store. Returns 0, or -1 with err set. */
int kv_report_build(kv_store *s, int64_t run_id, kv_report **out, char *err, size_t errlen);

/* Prints the report. Returns 0, or -1 on a write error. */
int kv_report_print(const kv_report *r, kv_report_format fmt, FILE *out);

void kv_report_free(kv_report *r);

/* Display width of UTF-8 text in terminal columns: East Asian Wide and
 * Fullwidth characters (Hangul, Han, Kana …) count 2, combining marks 0. */
size_t kv_display_width(const char *s, size_t n);

#endif
