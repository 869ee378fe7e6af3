/* rows.c — rows of named values from CSV, TSV, JSONL or JSON files, so that
 * an importer reads a column by name whatever the file's format (see
 * kv_rows in internal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/import/internal.h"
#include "src/text.h"

enum { ROWS_CSV, ROWS_JSONL, ROWS_JSON };

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix);
}

int kv_rows_open(kv_rows *r, const char *path, bool quoting, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    if (ends_with(path, ".csv") || ends_with(path, ".tsv") || ends_with(path, ".txt")) {
        r->kind = ROWS_CSV;
        char delim = ends_with(path, ".csv") ? ',' : '\t';
        if (kv_csv_open(&r->csv, path, delim, quoting, err, errlen) != 0)
            return KV_IMPORT_EINPUT;
        int rc = kv_csv_next(&r->csv, err, errlen);
        if (rc < 0)
            return KV_IMPORT_EINPUT;
        if (rc == 0) {
            snprintf(err, errlen, "%s: empty file (no header)", path);
            return KV_IMPORT_EINPUT;
        }
        r->n_header = r->csv.nfields;
        r->header = kv_xcalloc(r->n_header, sizeof *r->header);
        for (size_t i = 0; i < r->n_header; i++)
            r->header[i] = kv_imp_strdup(kv_csv_field(&r->csv, i));
        return 0;
    }
    r->fp = fopen(path, "rb");
    if (!r->fp) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return KV_IMPORT_EINPUT;
    }
    r->kind = ROWS_JSONL;
    if (ends_with(path, ".json")) {
        /* a JSON array of objects, or JSON lines under a .json name */
        kv_buf all = {0};
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, r->fp)) > 0)
            kv_buf_put(&all, chunk, n);
        const char *p = all.p ? all.p : "";
        size_t len = all.len;
        if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
            p += 3, len -= 3;
        size_t i = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
            i++;
        if (i < len && p[i] == '[') {
            if (!kv_utf8_valid(p, len)) {
                snprintf(err, errlen, "%s: ill-formed UTF-8", path);
                kv_buf_free(&all);
                return KV_IMPORT_EINPUT;
            }
            r->array = cJSON_ParseWithLength(p, len);
            kv_buf_free(&all);
            if (!r->array || !cJSON_IsArray(r->array)) {
                snprintf(err, errlen, "%s: not a JSON array of objects", path);
                return KV_IMPORT_EINPUT;
            }
            r->kind = ROWS_JSON;
            return 0;
        }
        kv_buf_free(&all);
        rewind(r->fp);
    }
    return 0;
}

static void add_val(kv_rows *r, const char *name, const char *val, size_t n)
{
    if (r->n_vals == r->cap_vals) {
        r->cap_vals = r->cap_vals ? 2 * r->cap_vals : 16;
        r->names = kv_xrealloc(r->names, r->cap_vals * sizeof *r->names);
        r->offs = kv_xrealloc(r->offs, r->cap_vals * sizeof *r->offs);
    }
    r->names[r->n_vals] = (char *)name;
    r->offs[r->n_vals++] = r->vals.len;
    kv_buf_put(&r->vals, val, n);
    kv_buf_putc(&r->vals, '\0');
}

static int load_obj(kv_rows *r, char *err, size_t errlen)
{
    if (!cJSON_IsObject(r->obj)) {
        snprintf(err, errlen, "%s:%zu: not a JSON object", r->path, r->line);
        return -1;
    }
    kv_buf_clear(&r->vals);
    r->n_vals = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, r->obj)
    {
        if (cJSON_IsString(e)) {
            add_val(r, e->string, e->valuestring, strlen(e->valuestring));
        } else if (cJSON_IsNumber(e)) {
            char num[64];
            double v = e->valuedouble;
            if (v == (double)(long long)v)
                snprintf(num, sizeof num, "%lld", (long long)v);
            else
                snprintf(num, sizeof num, "%.17g", v);
            add_val(r, e->string, num, strlen(num));
        } else if (cJSON_IsBool(e)) {
            add_val(r, e->string, cJSON_IsTrue(e) ? "True" : "False", cJSON_IsTrue(e) ? 4 : 5);
        } else if (cJSON_IsNull(e)) {
            add_val(r, e->string, "", 0);
        } else {
            char *t = cJSON_PrintUnformatted(e);
            add_val(r, e->string, t, strlen(t));
            free(t);
        }
    }
    return 1;
}

int kv_rows_next(kv_rows *r, char *err, size_t errlen)
{
    if (r->kind == ROWS_CSV) {
        int rc = kv_csv_next(&r->csv, err, errlen);
        if (rc <= 0)
            return rc;
        r->line = r->csv.row_line;
        if (r->csv.nfields != r->n_header) {
            snprintf(err, errlen, "%s:%zu: %zu fields, expected %zu as in the header", r->path,
                     r->line, r->csv.nfields, r->n_header);
            return -1;
        }
        return 1;
    }
    cJSON_Delete(r->obj);
    r->obj = NULL;
    if (r->kind == ROWS_JSON) {
        cJSON *e = cJSON_GetArrayItem(r->array, r->array_i);
        if (!e)
            return 0;
        r->line = (size_t)++r->array_i;
        r->obj = cJSON_Duplicate(e, true);
        return load_obj(r, err, errlen);
    }
    /* JSONL: one object per line; blank lines skipped */
    for (;;) {
        kv_buf_clear(&r->line_buf);
        int ch;
        bool any = false;
        while ((ch = getc(r->fp)) != EOF && ch != '\n') {
            any = true;
            if (ch == '\0') {
                snprintf(err, errlen, "%s:%zu: NUL byte (a binary or UTF-16 file?)", r->path,
                         r->line + 1);
                return -1;
            }
            kv_buf_putc(&r->line_buf, (char)ch);
        }
        if (!any && ch == EOF)
            return 0;
        r->line++;
        const char *p = r->line_buf.p ? r->line_buf.p : "";
        size_t n = r->line_buf.len;
        if (r->line == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
            p += 3, n -= 3;
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        size_t i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n) {
            if (ch == EOF)
                return 0;
            continue;
        }
        if (!kv_utf8_valid(p, n)) {
            snprintf(err, errlen, "%s:%zu: ill-formed UTF-8", r->path, r->line);
            return -1;
        }
        r->obj = cJSON_ParseWithLength(p, n);
        if (!r->obj) {
            snprintf(err, errlen, "%s:%zu: not valid JSON", r->path, r->line);
            return -1;
        }
        return load_obj(r, err, errlen);
    }
}

const char *kv_rows_get(const kv_rows *r, const char *name)
{
    if (r->kind == ROWS_CSV) {
        for (size_t i = 0; i < r->n_header; i++)
            if (!strcmp(r->header[i], name))
                return kv_csv_field(&r->csv, i);
        for (size_t i = 0; i < r->n_header; i++)
            if (!strcasecmp(r->header[i], name))
                return kv_csv_field(&r->csv, i);
        return NULL;
    }
    for (size_t i = 0; i < r->n_vals; i++)
        if (r->names[i] && !strcmp(r->names[i], name))
            return r->vals.p + r->offs[i];
    for (size_t i = 0; i < r->n_vals; i++)
        if (r->names[i] && !strcasecmp(r->names[i], name))
            return r->vals.p + r->offs[i];
    return NULL;
}

void kv_rows_close(kv_rows *r)
{
    kv_csv_close(&r->csv);
    for (size_t i = 0; i < r->n_header; i++)
        free(r->header[i]);
    free(r->header);
    if (r->fp)
        fclose(r->fp);
    cJSON_Delete(r->array);
    cJSON_Delete(r->obj);
    kv_buf_free(&r->line_buf);
    kv_buf_free(&r->vals);
    free(r->names);
    free(r->offs);
    memset(r, 0, sizeof *r);
}
