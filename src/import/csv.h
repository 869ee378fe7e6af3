/*
 * csv.h — a streaming reader for CSV (RFC 4180) and TSV files, as the public
 * benchmark files are written.
 *
 * What it accepts:
 *   - fields separated by one delimiter byte (',' for CSV, '\t' for TSV);
 *   - records ended by "\n", "\r\n" or a lone "\r"; the last record may lack
 *     its terminator;
 *   - with quoting on (RFC 4180): a field that starts with '"' runs to the
 *     matching '"', may hold delimiters and line breaks, and writes a quote
 *     as '""'; a '"' inside an unquoted field is kept as a plain character
 *     (as Python's csv module does); with quoting off (KoBEST's TSV files,
 *     whose passages hold bare quotes) every '"' is a plain character;
 *   - a UTF-8 BOM at the start of the file (removed);
 *   - blank lines between records (skipped: a blank line is not a record).
 * What it refuses, with one line "file:line: …" naming the physical line on
 * which the record starts (1-based; the header is line 1):
 *   - a NUL byte (a binary or UTF-16 file);
 *   - ill-formed UTF-8 in a field;
 *   - a character other than a delimiter or line end after a closing quote;
 *   - a quoted field still open at the end of the file;
 *   - a record longer than KV_CSV_MAX_RECORD_BYTES.
 */
#ifndef KOEVAL_CSV_H
#define KOEVAL_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "src/buf.h"

/* Longest accepted record, in bytes (64 MiB). */
#define KV_CSV_MAX_RECORD_BYTES ((size_t)64 << 20)

typedef struct kv_csv {
    FILE *fp;
    const char *path; /* as given to kv_csv_open; not owned */
    char delim;
    bool quoting;
    size_t line;     /* physical line the reader is on (1-based) */
    size_t row_line; /* physical line on which the record last returned starts */
    kv_buf data;     /* the fields of the current record, each NUL-terminated */
    size_t *offs;    /* nfields offsets into data.p */
    size_t nfields;
    size_t cap;
} kv_csv;

/* Opens `path` for reading with the given delimiter; quoting selects RFC
 * 4180 quotes. Returns 0, or -1 with err set ("cannot open x.csv: …"). */
int kv_csv_open(kv_csv *c, const char *path, char delim, bool quoting, char *err, size_t errlen);

/* Reads the next record. Returns 1 when a record was read (fields through
 * kv_csv_field, valid until the next call), 0 at the end of the file, -1
 * with err set. */
int kv_csv_next(kv_csv *c, char *err, size_t errlen);

/* Field i (0-based, i < c->nfields) of the current record: NUL-terminated,
 * well-formed UTF-8, owned by the reader. */
const char *kv_csv_field(const kv_csv *c, size_t i);

/* Closes the file and frees the buffers. Safe on a zeroed reader. */
void kv_csv_close(kv_csv *c);

#endif
