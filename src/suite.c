#include "src/suite.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "src/buf.h"
#include "src/lineio.h"
#include "src/text.h"

/* ---- tasks ---- */

static const char *const task_names[KV_TASK_COUNT] = {"qa", "mcq", "math", "translate", "open"};
#define TASK_LIST "qa, mcq, math, translate, open"

const char *kv_task_name(kv_task task)
{
    return (unsigned)task < KV_TASK_COUNT ? task_names[task] : "?";
}

int kv_task_parse(const char *name, kv_task *out)
{
    for (int t = 0; t < KV_TASK_COUNT; t++) {
        if (strcmp(name, task_names[t]) == 0) {
            *out = (kv_task)t;
            return 0;
        }
    }
    return -1;
}

/* ---- arena: every string and array the suite hands out lives here, so that
 * kv_suite_free is a walk over a few blocks, whatever the suite's size ---- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
} arena_block;

#define ARENA_BLOCK_BYTES ((size_t)64 << 10)

static void *arena_alloc(arena_block **head, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    arena_block *b = *head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK_BYTES ? n : ARENA_BLOCK_BYTES;
        b = kv_xmalloc(sizeof *b + cap);
        b->cap = cap;
        b->used = 0;
        if (n > ARENA_BLOCK_BYTES && *head) {
            /* an oversized block goes behind the current one, which keeps
             * serving the small allocations that follow */
            b->next = (*head)->next;
            (*head)->next = b;
        } else {
            b->next = *head;
            *head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static const char *arena_strdup(arena_block **head, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(head, n);
    memcpy(p, s, n);
    return p;
}

/* ---- index ---- */

struct kv_suite_index {
    arena_block *arena;
    kv_item *items;
    size_t items_cap;
    const char **ids;
    size_t ids_cap;
    size_t *id_first; /* per id: index of its first record */
    const char **langs;
    size_t langs_cap;
    size_t *lang_first;   /* per language: line of its first record, 0 = none yet */
    const char **prompts; /* per language: system prompt or NULL */
    size_t *pair_slots;   /* open addressing: item index + 1, 0 = empty */
    size_t pair_cap;      /* power of two */
    size_t *id_slots;     /* id index + 1 */
    size_t id_cap;
};

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

#define FNV_OFFSET 0xcbf29ce484222325u

static uint64_t pair_hash(const char *id, const char *lang)
{
    /* the id's NUL separates it from the language: ("a","bc") ≠ ("ab","c") */
    uint64_t h = fnv1a(FNV_OFFSET, id, strlen(id) + 1);
    return fnv1a(h, lang, strlen(lang));
}

static uint64_t id_hash(const char *id)
{
    return fnv1a(FNV_OFFSET, id, strlen(id));
}

/* Slot of (id, lang) in the pair table: the one holding it or the empty one
 * where it would go. */
static size_t pair_slot(const struct kv_suite_index *x, const char *id, const char *lang)
{
    size_t mask = x->pair_cap - 1, i = (size_t)pair_hash(id, lang) & mask;
    for (;;) {
        size_t v = x->pair_slots[i];
        if (v == 0)
            return i;
        const kv_item *it = &x->items[v - 1];
        if (strcmp(it->id, id) == 0 && strcmp(it->lang, lang) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static size_t id_slot(const struct kv_suite_index *x, const char *id)
{
    size_t mask = x->id_cap - 1, i = (size_t)id_hash(id) & mask;
    for (;;) {
        size_t v = x->id_slots[i];
        if (v == 0 || strcmp(x->ids[v - 1], id) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

/* Keeps the pair table at most half full for n_items + 1 entries. */
static void pair_reserve(struct kv_suite_index *x, size_t n_items)
{
    if (x->pair_cap && (n_items + 1) * 2 <= x->pair_cap)
        return;
    size_t cap = x->pair_cap ? x->pair_cap * 2 : 64;
    free(x->pair_slots);
    x->pair_slots = kv_xcalloc(cap, sizeof *x->pair_slots);
    x->pair_cap = cap;
    for (size_t k = 0; k < n_items; k++)
        x->pair_slots[pair_slot(x, x->items[k].id, x->items[k].lang)] = k + 1;
}

static void id_reserve(struct kv_suite_index *x, size_t n_ids)
{
    if (x->id_cap && (n_ids + 1) * 2 <= x->id_cap)
        return;
    size_t cap = x->id_cap ? x->id_cap * 2 : 64;
    free(x->id_slots);
    x->id_slots = kv_xcalloc(cap, sizeof *x->id_slots);
    x->id_cap = cap;
    for (size_t k = 0; k < n_ids; k++)
        x->id_slots[id_slot(x, x->ids[k])] = k + 1;
}

static void index_free(struct kv_suite_index *x)
{
    if (!x)
        return;
    for (arena_block *b = x->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(x->items);
    free(x->ids);
    free(x->id_first);
    free(x->langs);
    free(x->lang_first);
    free(x->prompts);
    free(x->pair_slots);
    free(x->id_slots);
    free(x);
}

/* ---- errors ---- */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Describes where cJSON stopped in s[0..n): "at column 12, near \"x}\"" or
 * "unexpected end" (when it ran off the end). *line is the 1-based line of
 * the stop (for a multi-line document). */
static void json_where(const char *s, size_t n, const char *at, size_t *line, char *dst,
                       size_t dstlen)
{
    size_t pos = at && at >= s ? (size_t)(at - s) : n;
    if (pos > n)
        pos = n;
    size_t ln = 1, bol = 0;
    for (size_t i = 0; i < pos; i++) {
        if (s[i] == '\n') {
            ln++;
            bol = i + 1;
        }
    }
    *line = ln;
    size_t col = 1 + kv_utf8_count(s + bol, pos - bol);
    size_t end = pos;
    while (end < n && (unsigned char)s[end] >= 0x20 && s[end] != 0x7f)
        end++;
    if (end == pos) {
        snprintf(dst, dstlen, "unexpected end at column %zu", col);
        return;
    }
    /* at most 20 code points of context, cut on a character boundary */
    size_t i = pos, cps = 0;
    while (i < end && cps < 20) {
        kv_utf8_next(s, end, &i);
        cps++;
    }
    snprintf(dst, dstlen, "at column %zu, near \"%.*s%s\"", col, (int)(i - pos), s + pos,
             i < end ? "…" : "");
}

/* ---- validation helpers ---- */

/* A language tag as suites write them: 2–8 ASCII letters, then any number of
 * "-" + 1–8 letters or digits ("ko", "zh-Hant", "es-419"). */
static bool lang_tag_ok(const char *s)
{
    size_t i = 0;
    while ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')
        i++;
    if (i < 2 || i > 8)
        return false;
    while (s[i] == '-') {
        size_t j = ++i;
        while ((s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
            i++;
        if (i == j || i - j > 8)
            return false;
    }
    return s[i] == '\0';
}

/* A plain decimal number: -?[0-9]+(\.[0-9]+)? */
static bool number_ok(const char *s)
{
    if (*s == '-')
        s++;
    if (!(*s >= '0' && *s <= '9'))
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* ---- loader ---- */

typedef struct loader {
    const char *path;  /* JSONL path */
    const char *mpath; /* manifest path, or NULL */
    kv_suite *s;
    struct kv_suite_index *x;
    size_t n_items, n_ids, n_langs;
    bool mrequired;      /* the caller named the manifest: it must exist */
    bool langs_declared; /* the manifest lists the languages */
    cJSON *manifest;     /* kept until the languages are final */
    char *err;
    size_t errlen;
} loader;

static int lang_find(const loader *L, const char *lang)
{
    for (size_t k = 0; k < L->n_langs; k++)
        if (strcmp(L->x->langs[k], lang) == 0)
            return (int)k;
    return -1;
}

static size_t lang_add(loader *L, const char *lang)
{
    struct kv_suite_index *x = L->x;
    if (L->n_langs == x->langs_cap) {
        x->langs_cap = x->langs_cap ? x->langs_cap * 2 : 8;
        x->langs = kv_xrealloc(x->langs, x->langs_cap * sizeof *x->langs);
        x->lang_first = kv_xrealloc(x->lang_first, x->langs_cap * sizeof *x->lang_first);
    }
    x->langs[L->n_langs] = arena_strdup(&x->arena, lang);
    x->lang_first[L->n_langs] = 0;
    return L->n_langs++;
}

/* "ko, en, ja" into dst. */
static void lang_list(const loader *L, char *dst, size_t dstlen)
{
    size_t off = 0;
    dst[0] = '\0';
    for (size_t k = 0; k < L->n_langs && off < dstlen; k++) {
        int w = snprintf(dst + off, dstlen - off, "%s%s", k ? ", " : "", L->x->langs[k]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

/* Reads the whole file at path into a NUL-terminated buffer. Returns 0, or
 * KV_SUITE_EIO / KV_SUITE_EMANIFEST (too large) with the message set.
 * *absent is set (and 0 returned with *out = NULL) when the file does not
 * exist and `optional` is true. */
static int read_small_file(const char *path, bool optional, bool *absent, kv_buf *out, char *err,
                           size_t errlen)
{
    *absent = false;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (optional && errno == ENOENT) {
            *absent = true;
            return 0;
        }
        return fail(err, errlen, KV_SUITE_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        kv_buf_put(out, chunk, got);
        if (out->len > KV_SUITE_MAX_MANIFEST_BYTES) {
            fclose(fp);
            return fail(err, errlen, KV_SUITE_EMANIFEST, "%s: over the limit of %zu bytes", path,
                        KV_SUITE_MAX_MANIFEST_BYTES);
        }
    }
    int rd_err = ferror(fp) ? (errno ? errno : EIO) : 0;
    fclose(fp);
    if (rd_err)
        return fail(err, errlen, KV_SUITE_EIO, "cannot read %s: %s", path, strerror(rd_err));
    kv_buf_reserve(out, 0); /* a terminator even for an empty file */
    return 0;
}

/* Optional string field of a manifest object: NULL when absent. */
static int manifest_string(loader *L, const cJSON *obj, const char *key, const char *where,
                           const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return fail(L->err, L->errlen, KV_SUITE_EMANIFEST, "%s: %s\"%s\" must be a string",
                    L->mpath, where, key);
    *out = arena_strdup(&L->x->arena, v->valuestring);
    return 0;
}

/* Reads an array of non-empty strings into the arena. */
static int manifest_strings(loader *L, const cJSON *arr, const char *what, const char ***out,
                            size_t *n)
{
    if (!cJSON_IsArray(arr))
        return fail(L->err, L->errlen, KV_SUITE_EMANIFEST, "%s: %s must be an array of strings",
                    L->mpath, what);
    size_t count = (size_t)cJSON_GetArraySize(arr), k = 0;
    const char **v = count ? arena_alloc(&L->x->arena, count * sizeof *v) : NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e) || !e->valuestring[0])
            return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                        "%s: %s: element %zu must be a non-empty string", L->mpath, what, k + 1);
        v[k++] = arena_strdup(&L->x->arena, e->valuestring);
    }
    *out = v;
    *n = count;
    return 0;
}

/* Parses the manifest and checks everything that does not depend on the
 * records: field types, languages, tasks. The pivot and the system prompts
 * are resolved by manifest_finish, once the languages are known. */
static int manifest_read(loader *L)
{
    kv_buf text = {0};
    bool absent;
    int rc = read_small_file(L->mpath, !L->mrequired, &absent, &text, L->err, L->errlen);
    if (rc || absent) {
        kv_buf_free(&text);
        if (absent)
            L->mpath = NULL;
        return rc;
    }
    L->mpath = L->s->manifest.path = arena_strdup(&L->x->arena, L->mpath);
    const char *s = text.p;
    size_t n = text.len;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    if (!kv_utf8_valid(s, n)) {
        kv_buf_free(&text);
        return fail(L->err, L->errlen, KV_SUITE_EMANIFEST, "%s: ill-formed UTF-8", L->mpath);
    }
    const char *end = NULL;
    /* n + 1: cJSON requires the terminator inside the length to see that
     * nothing follows the document */
    L->manifest = cJSON_ParseWithLengthOpts(s, n + 1, &end, 1);
    if (!L->manifest) {
        char where[160];
        size_t line;
        json_where(s, n, end, &line, where, sizeof where);
        rc = fail(L->err, L->errlen, KV_SUITE_EMANIFEST, "%s:%zu: invalid JSON (%s)", L->mpath,
                  line, where);
        kv_buf_free(&text);
        return rc;
    }
    kv_buf_free(&text);

    const cJSON *m = L->manifest;
    kv_manifest *mf = &L->s->manifest;
    if (!cJSON_IsObject(m))
        return fail(L->err, L->errlen, KV_SUITE_EMANIFEST, "%s: not a JSON object", L->mpath);
    if ((rc = manifest_string(L, m, "name", "field ", &mf->name)) ||
        (rc = manifest_string(L, m, "version", "field ", &mf->version)) ||
        (rc = manifest_string(L, m, "licence", "field ", &mf->licence)) ||
        (rc = manifest_string(L, m, "source", "field ", &mf->source)))
        return rc;
    if (!mf->licence && (rc = manifest_string(L, m, "license", "field ", &mf->licence)))
        return rc;

    const cJSON *langs = cJSON_GetObjectItemCaseSensitive(m, "languages");
    if (langs) {
        const char **v;
        size_t count;
        if ((rc = manifest_strings(L, langs, "field \"languages\"", &v, &count)))
            return rc;
        if (count == 0)
            return fail(L->err, L->errlen, KV_SUITE_EMANIFEST, "%s: field \"languages\" is empty",
                        L->mpath);
        for (size_t k = 0; k < count; k++) {
            if (!lang_tag_ok(v[k]))
                return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                            "%s: field \"languages\": \"%s\" is not a language tag", L->mpath,
                            v[k]);
            if (lang_find(L, v[k]) >= 0)
                return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                            "%s: field \"languages\": \"%s\" is listed twice", L->mpath, v[k]);
            lang_add(L, v[k]);
        }
        L->langs_declared = true;
    }

    const cJSON *pivot = cJSON_GetObjectItemCaseSensitive(m, "pivot");
    if (pivot && (!cJSON_IsString(pivot) || !pivot->valuestring[0]))
        return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                    "%s: field \"pivot\" must be a non-empty string", L->mpath);

    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(m, "system_prompts");
    if (sp) {
        if (!cJSON_IsObject(sp))
            return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                        "%s: field \"system_prompts\" must be an object (language → prompt)",
                        L->mpath);
        const cJSON *e;
        cJSON_ArrayForEach(e, sp)
        {
            if (!cJSON_IsString(e))
                return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                            "%s: field \"system_prompts\": \"%s\" must be a string", L->mpath,
                            e->string);
        }
    }

    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(m, "tasks");
    if (tasks) {
        if (!cJSON_IsObject(tasks))
            return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                        "%s: field \"tasks\" must be an object (task → settings)", L->mpath);
        const cJSON *t;
        cJSON_ArrayForEach(t, tasks)
        {
            kv_task task;
            if (kv_task_parse(t->string, &task) != 0)
                return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                            "%s: field \"tasks\": unknown task \"%s\" (" TASK_LIST ")", L->mpath,
                            t->string);
            if (!cJSON_IsObject(t))
                return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                            "%s: field \"tasks\": \"%s\" must be an object", L->mpath, t->string);
            kv_task_conf *tc = &mf->tasks[task];
            const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(t, "metrics");
            if (metrics) {
                char what[64];
                const char **v;
                snprintf(what, sizeof what, "\"tasks\".\"%s\".\"metrics\"", t->string);
                if ((rc = manifest_strings(L, metrics, what, &v, &tc->n_metrics)))
                    return rc;
                tc->metrics = v;
            }
            char where[64];
            snprintf(where, sizeof where, "\"tasks\".\"%s\".", t->string);
            if ((rc = manifest_string(L, t, "tokenizer", where, &tc->tokenizer)))
                return rc;
        }
    }
    return 0;
}

/* Resolves the pivot and the system prompts against the final languages. */
static int manifest_finish(loader *L)
{
    kv_manifest *mf = &L->s->manifest;
    char list[512];
    const cJSON *pivot =
        L->manifest ? cJSON_GetObjectItemCaseSensitive(L->manifest, "pivot") : NULL;
    if (pivot) {
        int k = lang_find(L, pivot->valuestring);
        if (k < 0) {
            lang_list(L, list, sizeof list);
            return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                        "%s: pivot \"%s\" is not one of the suite's languages (%s)", L->mpath,
                        pivot->valuestring, list);
        }
        mf->pivot = L->x->langs[k];
    } else {
        /* English, else the first language that is not Korean: Korean is what
         * the gap measures, so it is the pivot only in a Korean-only suite */
        int k = lang_find(L, "en");
        for (int i = 0; k < 0 && i < (int)L->n_langs; i++)
            if (strncmp(L->x->langs[i], "ko", 2) != 0)
                k = i;
        mf->pivot = L->x->langs[k >= 0 ? k : 0];
    }

    L->x->prompts = kv_xcalloc(L->n_langs, sizeof *L->x->prompts);
    const cJSON *sp =
        L->manifest ? cJSON_GetObjectItemCaseSensitive(L->manifest, "system_prompts") : NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, sp)
    {
        int k = lang_find(L, e->string);
        if (k < 0) {
            lang_list(L, list, sizeof list);
            return fail(L->err, L->errlen, KV_SUITE_EMANIFEST,
                        "%s: system prompt for \"%s\", which is not one of the suite's "
                        "languages (%s)",
                        L->mpath, e->string, list);
        }
        L->x->prompts[k] = arena_strdup(&L->x->arena, e->valuestring);
    }
    mf->system_prompts = L->x->prompts;
    return 0;
}

/* ---- records ---- */

static const char *const record_fields[] = {"id",      "lang",   "task",        "prompt",
                                            "references", "choices", "answer", "target_lang",
                                            "units"};

/* A string field of a record. Absent (or null) gives *out = NULL, which is
 * an error when `required`; an empty string is always an error. */
static int rec_string(loader *L, size_t line, const cJSON *obj, const char *key, bool required,
                      const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (!required)
            return 0;
        return fail(L->err, L->errlen, KV_SUITE_EFIELD, "%s:%zu: field \"%s\" %s", L->path, line,
                    key, v ? "is null" : "missing");
    }
    if (!cJSON_IsString(v)) {
        if (cJSON_IsNumber(v)) {
            char *num = cJSON_PrintUnformatted(v);
            int rc = fail(L->err, L->errlen, KV_SUITE_EFIELD,
                          "%s:%zu: field \"%s\" must be a string (write the number as \"%s\")",
                          L->path, line, key, num ? num : "");
            cJSON_free(num);
            return rc;
        }
        return fail(L->err, L->errlen, KV_SUITE_EFIELD, "%s:%zu: field \"%s\" must be a string",
                    L->path, line, key);
    }
    if (!v->valuestring[0])
        return fail(L->err, L->errlen, KV_SUITE_EFIELD, "%s:%zu: field \"%s\" is empty", L->path,
                    line, key);
    *out = v->valuestring;
    return 0;
}

/* An array-of-strings field of a record, copied into the arena. Absent (or
 * null) gives n = 0, an error when `required`, as is an empty array. */
static int rec_strings(loader *L, size_t line, const cJSON *obj, const char *key, bool required,
                       const char *const **out, size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v)) {
        if (!required)
            return 0;
        return fail(L->err, L->errlen, KV_SUITE_EFIELD, "%s:%zu: field \"%s\" %s", L->path, line,
                    key, v ? "is null" : "missing");
    }
    if (!cJSON_IsArray(v))
        return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                    "%s:%zu: field \"%s\" must be an array of strings", L->path, line, key);
    size_t count = (size_t)cJSON_GetArraySize(v), k = 0;
    if (count == 0) {
        if (!required)
            return 0;
        return fail(L->err, L->errlen, KV_SUITE_EFIELD, "%s:%zu: field \"%s\" is empty", L->path,
                    line, key);
    }
    const char **arr = arena_alloc(&L->x->arena, count * sizeof *arr);
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e))
            return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                        "%s:%zu: field \"%s\": element %zu must be a string", L->path, line, key,
                        k + 1);
        if (!e->valuestring[0])
            return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                        "%s:%zu: field \"%s\": element %zu is empty", L->path, line, key, k + 1);
        arr[k++] = arena_strdup(&L->x->arena, e->valuestring);
    }
    *out = arr;
    *n = count;
    return 0;
}

static int add_record(loader *L, size_t line, const cJSON *rec)
{
    struct kv_suite_index *x = L->x;
    int rc;

    /* a repeated key would make the record mean whichever copy cJSON finds */
    const cJSON *c;
    cJSON_ArrayForEach(c, rec)
    {
        for (size_t f = 0; f < sizeof record_fields / sizeof *record_fields; f++) {
            if (strcmp(c->string, record_fields[f]) != 0)
                continue;
            for (const cJSON *d = c->next; d; d = d->next)
                if (strcmp(d->string, c->string) == 0)
                    return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                                "%s:%zu: field \"%s\" appears twice", L->path, line, c->string);
        }
    }

    const char *id, *lang, *task_s, *prompt, *answer, *target, *units;
    kv_task task;
    if ((rc = rec_string(L, line, rec, "id", true, &id)) ||
        (rc = rec_string(L, line, rec, "lang", true, &lang)))
        return rc;
    if (!lang_tag_ok(lang))
        return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                    "%s:%zu: field \"lang\": \"%s\" is not a language tag", L->path, line, lang);
    if ((rc = rec_string(L, line, rec, "task", true, &task_s)))
        return rc;
    if (kv_task_parse(task_s, &task) != 0)
        return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                    "%s:%zu: field \"task\": unknown task \"%s\" (" TASK_LIST ")", L->path, line,
                    task_s);
    if ((rc = rec_string(L, line, rec, "prompt", true, &prompt)))
        return rc;

    kv_item it = {0};
    /* an open item may come without a reference: it is then scored for
     * language fidelity and consistency only */
    bool needs_refs = task == KV_TASK_QA || task == KV_TASK_TRANSLATE;
    if ((rc = rec_strings(L, line, rec, "references", needs_refs, &it.references,
                          &it.n_references)) ||
        (rc = rec_strings(L, line, rec, "choices", task == KV_TASK_MCQ, &it.choices,
                          &it.n_choices)) ||
        (rc = rec_string(L, line, rec, "answer", task == KV_TASK_MCQ || task == KV_TASK_MATH,
                         &answer)) ||
        (rc = rec_string(L, line, rec, "target_lang", false, &target)) ||
        (rc = rec_string(L, line, rec, "units", false, &units)))
        return rc;
    if (units && strcmp(units, "ko") != 0)
        return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                    "%s:%zu: field \"units\": \"%s\" is not a known unit system (ko)", L->path,
                    line, units);
    if (it.n_choices == 1 || it.n_choices > 26)
        return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                    "%s:%zu: field \"choices\" has %zu choice%s; an item needs 2 to 26 (A–Z)",
                    L->path, line, it.n_choices, it.n_choices == 1 ? "" : "s");
    if (task == KV_TASK_MCQ &&
        !(answer[0] >= 'A' && (size_t)(answer[0] - 'A') < it.n_choices && answer[1] == '\0'))
        return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                    "%s:%zu: mcq answer \"%s\" is not one of the %zu choices (A–%c)", L->path, line,
                    answer, it.n_choices, (char)('A' + it.n_choices - 1));
    if (task == KV_TASK_MATH && !number_ok(answer))
        return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                    "%s:%zu: math answer \"%s\" is not a number (write digits with an optional "
                    "'-' and '.', e.g. \"12.5\")",
                    L->path, line, answer);
    if (target && !lang_tag_ok(target))
        return fail(L->err, L->errlen, KV_SUITE_EFIELD,
                    "%s:%zu: field \"target_lang\": \"%s\" is not a language tag", L->path, line,
                    target);

    /* the record is well-formed; now its place among the others */
    int lk = lang_find(L, lang);
    if (lk < 0) {
        if (L->langs_declared) {
            char list[512];
            lang_list(L, list, sizeof list);
            return fail(L->err, L->errlen, KV_SUITE_EPAIRING,
                        "%s:%zu: language \"%s\" is not one of the suite's languages (%s in %s)",
                        L->path, line, lang, list, L->mpath);
        }
        lk = (int)lang_add(L, lang);
    }

    pair_reserve(x, L->n_items);
    size_t ps = pair_slot(x, id, lang);
    if (x->pair_slots[ps])
        return fail(L->err, L->errlen, KV_SUITE_EPAIRING,
                    "%s:%zu: duplicate item (%s, %s) first seen on line %zu", L->path, line, id,
                    lang, x->items[x->pair_slots[ps] - 1].line);

    id_reserve(x, L->n_ids);
    size_t is = id_slot(x, id), ik;
    if (x->id_slots[is]) {
        ik = x->id_slots[is] - 1;
        const kv_item *first = &x->items[x->id_first[ik]];
        if (first->task != task)
            return fail(L->err, L->errlen, KV_SUITE_EPAIRING,
                        "%s:%zu: item \"%s\" is %s here but %s on line %zu", L->path, line, id,
                        kv_task_name(task), kv_task_name(first->task), first->line);
    } else {
        if (L->n_ids == x->ids_cap) {
            x->ids_cap = x->ids_cap ? x->ids_cap * 2 : 64;
            x->ids = kv_xrealloc(x->ids, x->ids_cap * sizeof *x->ids);
            x->id_first = kv_xrealloc(x->id_first, x->ids_cap * sizeof *x->id_first);
        }
        ik = L->n_ids++;
        x->ids[ik] = arena_strdup(&x->arena, id);
        x->id_first[ik] = L->n_items;
        x->id_slots[is] = ik + 1;
    }

    it.id = x->ids[ik];
    it.lang = x->langs[lk];
    it.task = task;
    it.prompt = arena_strdup(&x->arena, prompt);
    it.answer = answer ? arena_strdup(&x->arena, answer) : NULL;
    it.target_lang =
        target && strcmp(target, lang) != 0 ? arena_strdup(&x->arena, target) : it.lang;
    it.units = units ? "ko" : NULL;
    it.line = line;
    it.id_index = ik;
    it.lang_index = (size_t)lk;
    if (!x->lang_first[lk])
        x->lang_first[lk] = line;

    if (L->n_items == x->items_cap) {
        x->items_cap = x->items_cap ? x->items_cap * 2 : 256;
        x->items = kv_xrealloc(x->items, x->items_cap * sizeof *x->items);
    }
    x->items[L->n_items] = it;
    x->pair_slots[ps] = ++L->n_items;
    return 0;
}

/* Hashes the file's bytes (FNV-1a, 64 bits) into 16 hex digits. */
static int hash_file(const char *path, char out[17], char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return fail(err, errlen, KV_SUITE_EIO, "cannot open %s: %s", path, strerror(errno));
    uint64_t h = FNV_OFFSET;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        h = fnv1a(h, chunk, got);
    int rd_err = ferror(fp) ? (errno ? errno : EIO) : 0;
    fclose(fp);
    if (rd_err)
        return fail(err, errlen, KV_SUITE_EIO, "cannot read %s: %s", path, strerror(rd_err));
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    return 0;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

static int read_records(loader *L)
{
    kv_line_reader r;
    if (kv_lr_open(&r, L->path, KV_SUITE_MAX_LINE_BYTES, L->err, L->errlen) != 0)
        return KV_SUITE_EIO;
    int rc = 0;
    for (;;) {
        const char *line;
        size_t len, bad_before = r.invalid_lines;
        int got = kv_lr_next(&r, &line, &len, L->err, L->errlen);
        if (got == 0)
            break;
        if (got < 0) {
            rc = ferror(r.fp) ? KV_SUITE_EIO : KV_SUITE_ESYNTAX;
            /* the line reader's hint names the score command's option; a
             * suite's limit is fixed */
            char *hint = L->err ? strstr(L->err, " (raise it with") : NULL;
            if (hint)
                *hint = '\0';
            break;
        }
        if (r.invalid_lines != bad_before) {
            rc = fail(L->err, L->errlen, KV_SUITE_ESYNTAX,
                      "%s:%zu: ill-formed UTF-8 (a suite must be UTF-8)", L->path, r.lineno);
            break;
        }
        if (blank(line, len))
            continue;
        const char *end = NULL;
        cJSON *rec = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
        if (!rec) {
            char where[160];
            size_t ln;
            json_where(line, len, end, &ln, where, sizeof where);
            rc = fail(L->err, L->errlen, KV_SUITE_ESYNTAX, "%s:%zu: invalid JSON (%s)", L->path,
                      r.lineno, where);
            break;
        }
        if (!cJSON_IsObject(rec))
            rc = fail(L->err, L->errlen, KV_SUITE_ESYNTAX, "%s:%zu: record is not a JSON object",
                      L->path, r.lineno);
        else
            rc = add_record(L, r.lineno, rec);
        cJSON_Delete(rec);
        if (rc)
            break;
    }
    kv_lr_close(&r);
    return rc;
}

/* Checks the suite as a whole once every record is in. */
static int check_pairs(loader *L)
{
    struct kv_suite_index *x = L->x;
    if (L->n_items == 0)
        return fail(L->err, L->errlen, KV_SUITE_EEMPTY, "%s: no records", L->path);
    for (size_t k = 0; k < L->n_langs; k++)
        if (!x->lang_first[k])
            return fail(L->err, L->errlen, KV_SUITE_EPAIRING,
                        "%s: no record is in \"%s\", which %s declares", L->path, x->langs[k],
                        L->mpath);
    for (size_t i = 0; i < L->n_ids; i++) {
        for (size_t k = 0; k < L->n_langs; k++) {
            if (x->pair_slots[pair_slot(x, x->ids[i], x->langs[k])])
                continue;
            if (L->langs_declared)
                return fail(L->err, L->errlen, KV_SUITE_EPAIRING,
                            "%s: item \"%s\" has no \"%s\" record, but the suite declares %s",
                            L->path, x->ids[i], x->langs[k], x->langs[k]);
            return fail(L->err, L->errlen, KV_SUITE_EPAIRING,
                        "%s: item \"%s\" has no \"%s\" record, but other items have one "
                        "(first on line %zu)",
                        L->path, x->ids[i], x->langs[k], x->lang_first[k]);
        }
    }
    return 0;
}

int kv_suite_load(const char *jsonl_path, const char *manifest_path, kv_suite *suite, char *err,
                  size_t errlen)
{
    memset(suite, 0, sizeof *suite);
    if (err && errlen)
        err[0] = '\0';
    loader L = {.path = jsonl_path, .s = suite, .err = err, .errlen = errlen};
    L.x = kv_xcalloc(1, sizeof *L.x);
    suite->index = L.x;

    char hash[17];
    kv_buf auto_path = {0};
    int rc = hash_file(jsonl_path, hash, err, errlen);
    if (rc)
        goto out;

    if (manifest_path) {
        L.mpath = manifest_path;
        L.mrequired = true;
    } else {
        size_t n = strlen(jsonl_path);
        if (n >= 6 && strcmp(jsonl_path + n - 6, ".jsonl") == 0)
            n -= 6;
        kv_buf_put(&auto_path, jsonl_path, n);
        kv_buf_put(&auto_path, ".manifest.json", 14);
        L.mpath = auto_path.p;
    }
    rc = manifest_read(&L);
    kv_buf_free(&auto_path); /* L.mpath is now the suite's copy, or NULL */
    if (!rc)
        rc = read_records(&L);
    if (!rc)
        rc = check_pairs(&L);
    if (!rc)
        rc = manifest_finish(&L);

out:
    cJSON_Delete(L.manifest);
    if (rc) {
        kv_suite_free(suite);
        return rc;
    }
    struct kv_suite_index *x = L.x;
    suite->path = arena_strdup(&x->arena, jsonl_path);
    memcpy(suite->hash, hash, sizeof hash);
    suite->items = x->items;
    suite->n_items = L.n_items;
    suite->ids = x->ids;
    suite->n_ids = L.n_ids;
    suite->manifest.languages = x->langs;
    suite->manifest.n_languages = L.n_langs;
    return 0;
}

void kv_suite_free(kv_suite *suite)
{
    if (!suite)
        return;
    index_free(suite->index);
    memset(suite, 0, sizeof *suite);
}

const kv_item *kv_suite_find(const kv_suite *suite, const char *id, const char *lang)
{
    const struct kv_suite_index *x = suite->index;
    if (!x || !x->pair_cap)
        return NULL;
    size_t v = x->pair_slots[pair_slot(x, id, lang)];
    return v ? &x->items[v - 1] : NULL;
}

int kv_suite_lang_index(const kv_suite *suite, const char *lang)
{
    for (size_t k = 0; k < suite->manifest.n_languages; k++)
        if (strcmp(suite->manifest.languages[k], lang) == 0)
            return (int)k;
    return -1;
}

const char *kv_suite_system_prompt(const kv_suite *suite, const char *lang)
{
    int k = kv_suite_lang_index(suite, lang);
    return k >= 0 && suite->manifest.system_prompts ? suite->manifest.system_prompts[k] : NULL;
}
