/*
 * lineio.h — streaming line reader for hypothesis and reference files.
 *
 * Reads one line at a time (memory stays bounded by the longest line), and
 * turns the ways real files go wrong into either a clean line or one clear
 * error naming the file and line:
 *   - "\n" and "\r\n" both end a line; the terminator is not part of the line;
 *   - a UTF-8 BOM at the start of the file is removed (and counted);
 *   - ill-formed UTF-8 is replaced by U+FFFD (and counted), never a crash;
 *   - a NUL byte is refused (a binary file, or UTF-16: say so instead of
 *     scoring garbage);
 *   - a line longer than `max_line_bytes` is refused.
 */
#ifndef KOEVAL_LINEIO_H
#define KOEVAL_LINEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "src/buf.h"

/* Default cap on one line, in bytes (1 MiB). */
#define KV_DEFAULT_MAX_LINE_BYTES ((size_t)1 << 20)

typedef struct kv_line_reader {
    FILE *fp;
    const char *path;      /* as given by the caller ("-" for stdin); not owned */
    bool owns_fp;
    size_t lineno;         /* 1-based number of the line last returned */
    size_t max_line_bytes; /* 0 = no limit */
    size_t invalid_lines;  /* lines in which ill-formed UTF-8 was replaced */
    size_t replacements;   /* U+FFFD substitutions made so far */
    bool had_bom;
    bool trust_utf8;       /* skip validation: the caller validates (kv_normalizer_apply
                              does, and counts what it replaces) */
    /* the file is read in blocks; lines are handed out from the block */
    char *buf;
    size_t cap;            /* bytes of buf usable for data (one more is allocated) */
    size_t pos, end;       /* unread bytes: buf[pos .. end) */
    size_t scanned;        /* buf[pos .. scanned) holds no '\n' */
    size_t nul_checked;    /* buf[.. nul_checked) was searched for NUL bytes */
    size_t nul_at;         /* offset of the first NUL found there, or SIZE_MAX */
    bool eof;              /* the file has no more bytes */
    kv_buf line;           /* the cleaned line last returned */
} kv_line_reader;

/* Opens `path` ("-" = standard input) for reading. Returns 0, or -1 with a
 * message in err ("cannot open ref.txt: No such file or directory"). */
int kv_lr_open(kv_line_reader *r, const char *path, size_t max_line_bytes,
               char *err, size_t errlen);

/* Reads the next line. Returns 1 and sets *line and *len (valid until the next
 * call) when a line was read, 0 at end of file, -1 with err set
 * ("hyp.txt:17: NUL byte in line (binary or UTF-16 file?)"). The line is
 * NUL-terminated and well-formed UTF-8, unless trust_utf8 is set: then it
 * is handed out as read and the caller must validate it. */
int kv_lr_next(kv_line_reader *r, const char **line, size_t *len, char *err, size_t errlen);

/* Counts the lines not read yet (the last one may lack its "\n"); reads to
 * the end of the file. For messages about files of different lengths. */
size_t kv_lr_count_rest(kv_line_reader *r);

/* Closes the file (unless it is stdin) and frees buffers. */
void kv_lr_close(kv_line_reader *r);

#endif
