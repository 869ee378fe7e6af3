/* import_parallel.c — line-aligned parallel text: FLORES-200 / FLORES+,
 * NTREX-128 and Tatoeba test pairs → `translate` items.
 *
 * Line i of every file is the same sentence, so the item id is the line
 * number. For each suite language L the record asks, in L, for a
 * translation of line i of the source language (--source, default en) into
 * L, with line i of L's file as the reference. The source language's own
 * record (en, when English is also a suite language) translates from the
 * first other suite language instead (ko for --langs ko,en,ja,zh): the same
 * sentence pair in the other direction, as in the starter suite. */
#include <stdlib.h>
#include <string.h>

#include "src/import/internal.h"
#include "src/lineio.h"
#include "src/text.h"

typedef struct text_file {
    const char *path;
    const char *lang;
    char **lines;
    size_t n;
} text_file;

static void text_free(text_file *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < t[i].n; k++)
            free(t[i].lines[k]);
        free(t[i].lines);
    }
    free(t);
}

/* Reads every line of path; an empty line breaks the alignment and is an
 * error, as is ill-formed UTF-8. */
static int read_lines(kv_import_ctx *ctx, text_file *t)
{
    kv_line_reader r;
    if (kv_lr_open(&r, t->path, KV_DEFAULT_MAX_LINE_BYTES, ctx->err, ctx->errlen) != 0)
        return KV_IMPORT_EINPUT;
    r.trust_utf8 = true;
    size_t cap = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = kv_lr_next(&r, &line, &len, ctx->err, ctx->errlen)) == 1) {
        if (!kv_utf8_valid(line, len)) {
            kv_lr_close(&r);
            return kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: ill-formed UTF-8", t->path,
                               r.lineno);
        }
        size_t n = kv_rstrip_py(line, len);
        if (n == 0) {
            kv_lr_close(&r);
            return kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                               "%s:%zu: empty line (the files must hold one sentence per line)",
                               t->path, r.lineno);
        }
        if (t->n == cap) {
            cap = cap ? 2 * cap : 1024;
            t->lines = kv_xrealloc(t->lines, cap * sizeof *t->lines);
        }
        char *copy = kv_xmalloc(n + 1);
        memcpy(copy, line, n);
        copy[n] = '\0';
        t->lines[t->n++] = copy;
    }
    kv_lr_close(&r);
    return rc < 0 ? KV_IMPORT_EINPUT : 0;
}

/* Builds the items from n line-aligned files (texts[i].lang set; the lines
 * are read here unless already loaded); ids are "<prefix>-<line>". */
static int build(kv_import_ctx *ctx, text_file *texts, size_t n, const char *prefix)
{
    const char **found = kv_xcalloc(n, sizeof *found);
    for (size_t i = 0; i < n; i++)
        found[i] = texts[i].lang;
    int rc = kv_imp_set_langs(ctx, found, n, true);
    free(found);
    if (rc)
        return rc;
    const char *src = kv_import_lang_tag(ctx->opts->source_lang ? ctx->opts->source_lang : "en");
    if (!src)
        return kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "--source-lang: unknown language '%s'",
                           ctx->opts->source_lang);
    text_file *src_file = NULL, *back_file = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(texts[i].lang, src))
            src_file = &texts[i];
    if (!src_file)
        return kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "no %s file among the inputs (--source-lang %s)", src,
                           src);
    const char *back = NULL;
    for (size_t l = 0; l < ctx->n_langs && !back; l++)
        if (strcmp(ctx->langs[l], src))
            back = ctx->langs[l];
    if (!back)
        return kv_imp_fail(ctx, KV_IMPORT_EUSAGE,
                           "the suite needs a language other than the source (%s)", src);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(texts[i].lang, back))
            back_file = &texts[i];
    /* read the files the suite uses; the first is the reference for line counts */
    text_file *first = NULL;
    for (size_t i = 0; i < n; i++) {
        text_file *t = &texts[i];
        if (t != src_file && kv_imp_lang_index(ctx, t->lang) < 0)
            continue;
        if (!t->lines && (rc = read_lines(ctx, t)))
            return rc;
        if (!first) {
            first = t;
        } else if (t->n != first->n) {
            const text_file *shorter = t->n < first->n ? t : first;
            const text_file *longer = t->n < first->n ? first : t;
            return kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                               "%s:%zu: the file ends here but %s has %zu lines (the files "
                               "must be line-aligned)",
                               shorter->path, shorter->n, longer->path, longer->n);
        }
    }
    text_file **by_lang = kv_xcalloc(ctx->n_langs, sizeof *by_lang);
    for (size_t i = 0; i < n; i++) {
        int li = kv_imp_lang_index(ctx, texts[i].lang);
        if (li >= 0)
            by_lang[li] = &texts[i];
    }
    for (size_t l = 0; l < ctx->n_langs; l++)
        if (!kv_imp_translate_instruction(ctx->langs[l])) {
            free(by_lang);
            return kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "no translation prompt for language %s",
                               ctx->langs[l]);
        }
    kv_buf prompt = {0};
    char id[96];
    for (size_t k = 0; k < first->n; k++) {
        snprintf(id, sizeof id, "%s-%04zu", prefix, k + 1);
        size_t item = kv_imp_item(ctx, id, first->path, k + 1);
        for (size_t l = 0; l < ctx->n_langs; l++) {
            const char *lang = ctx->langs[l];
            const text_file *from = strcmp(lang, src) ? src_file : back_file;
            kv_buf_clear(&prompt);
            kv_buf_printf(&prompt, "%s\n%s", kv_imp_translate_instruction(lang), from->lines[k]);
            cJSON *rec = kv_imp_rec(id, lang, "translate", prompt.p);
            kv_imp_add_ref(rec, by_lang[l]->lines[k]);
            kv_imp_put(ctx, item, (int)l, rec, first->path, k + 1);
        }
    }
    kv_buf_free(&prompt);
    free(by_lang);
    return 0;
}

/* Files with their languages: explicit, read from the name, or (for files
 * found in a folder) skipped when the language is not one koeval knows. */
static int collect(kv_import_ctx *ctx, text_file **out, size_t *n_out)
{
    text_file *t = kv_xcalloc(ctx->n_files, sizeof *t);
    size_t n = 0;
    for (size_t i = 0; i < ctx->n_files; i++) {
        const char *lang = kv_imp_file_lang(&ctx->files[i]);
        if (!lang) {
            if (ctx->files[i].from_dir)
                continue;
            free(t);
            return kv_imp_fail(ctx, KV_IMPORT_EUSAGE,
                               "%s: cannot tell the language from the file name; write it as "
                               "LANG=%s",
                               ctx->files[i].path, ctx->files[i].path);
        }
        for (size_t k = 0; k < n; k++)
            if (!strcmp(t[k].lang, lang)) {
                int rc = kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "%s and %s are both %s", t[k].path,
                                     ctx->files[i].path, lang);
                free(t);
                return rc;
            }
        t[n].path = ctx->files[i].path;
        t[n++].lang = lang;
    }
    *out = t;
    *n_out = n;
    return 0;
}

static int parallel(kv_import_ctx *ctx, const char *const *suffixes, const char *prefix)
{
    int rc = kv_imp_expand_dirs(ctx, suffixes);
    if (rc)
        return rc;
    text_file *t;
    size_t n;
    if ((rc = collect(ctx, &t, &n)))
        return rc;
    rc = build(ctx, t, n, prefix);
    text_free(t, n);
    return rc;
}

int kv_import_flores(kv_import_ctx *ctx)
{
    static const char *const suffixes[] = {".devtest", ".dev", "^devtest.", "^dev.", NULL};
    return parallel(ctx, suffixes, "flores");
}

int kv_import_ntrex(kv_import_ctx *ctx)
{
    static const char *const suffixes[] = {".txt", NULL};
    return parallel(ctx, suffixes, "ntrex");
}

/* One Tatoeba Challenge TSV file: source language, target language, source,
 * target (the languages' first three letters name them: kor_Hang → ko). */
static int tatoeba_tsv(kv_import_ctx *ctx, const char *path)
{
    kv_csv c;
    if (kv_csv_open(&c, path, '\t', false, ctx->err, ctx->errlen) != 0)
        return KV_IMPORT_EINPUT;
    text_file *t = kv_xcalloc(2, sizeof *t);
    int rc = 0, r;
    while ((r = kv_csv_next(&c, ctx->err, ctx->errlen)) == 1) {
        if (c.nfields != 4) {
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                             "%s:%zu: %zu fields, expected 4 (source language, target language, "
                             "source, target)",
                             path, c.row_line, c.nfields);
            goto out;
        }
        for (int side = 0; side < 2; side++) {
            char code[16];
            snprintf(code, sizeof code, "%.3s", kv_csv_field(&c, (size_t)side));
            const char *tag = kv_import_lang_tag(code);
            if (!tag) {
                rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: unknown language '%s'", path,
                                 c.row_line, kv_csv_field(&c, (size_t)side));
                goto out;
            }
            if (!t[side].lang) {
                t[side].lang = tag;
                t[side].path = path;
            } else if (strcmp(t[side].lang, tag)) {
                rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                                 "%s:%zu: language %s where the file began with %s (one pair "
                                 "per file)",
                                 path, c.row_line, tag, t[side].lang);
                goto out;
            }
            const char *s = kv_csv_field(&c, (size_t)side + 2);
            size_t len = kv_rstrip_py(s, strlen(s));
            if (!len) {
                rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: empty sentence", path, c.row_line);
                goto out;
            }
            t[side].lines = kv_xrealloc(t[side].lines, (t[side].n + 1) * sizeof(char *));
            char *copy = kv_xmalloc(len + 1);
            memcpy(copy, s, len);
            copy[len] = '\0';
            t[side].lines[t[side].n++] = copy;
        }
    }
    if (r < 0) {
        rc = KV_IMPORT_EINPUT;
        goto out;
    }
    if (!t[0].lang) {
        rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s: no pairs", path);
        goto out;
    }
    if (!strcmp(t[0].lang, t[1].lang)) {
        rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s: both sides are %s", path, t[0].lang);
        goto out;
    }
    rc = build(ctx, t, 2, "tatoeba");
out:
    kv_csv_close(&c);
    text_free(t, 2);
    return rc;
}

int kv_import_tatoeba(kv_import_ctx *ctx)
{
    if (ctx->n_files == 1)
        return tatoeba_tsv(ctx, ctx->files[0].path);
    if (ctx->n_files != 2)
        return kv_imp_fail(ctx, KV_IMPORT_EUSAGE,
                           "tatoeba takes one pair: two line-aligned files (eng-kor.eng "
                           "eng-kor.kor) or one TSV file; the pairs are not n-way parallel, so "
                           "import each pair as its own suite");
    text_file *t;
    size_t n;
    int rc = collect(ctx, &t, &n);
    if (rc)
        return rc;
    rc = build(ctx, t, n, "tatoeba");
    text_free(t, n);
    return rc;
}
