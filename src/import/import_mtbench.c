/* import_mtbench.c — KoMT-Bench / MT-Bench question files → `open` items.
 *
 * Question files (JSONL): question_id, category, turns [turn 1, turn 2],
 * optional reference [ref 1, ref 2]. Reference answer files (JSONL,
 * FastChat's reference_answer/<model>.jsonl): question_id,
 * choices[0].turns [answer 1, answer 2]. The kind of a file is read from its
 * first record; its language from LANG=FILE or the name (question_ko.jsonl,
 * reference_answer_ko/gpt-4.jsonl; FastChat's own question.jsonl and
 * reference_answer/ are English).
 *
 * Only the first turn is asked (a suite item is one prompt). Its references
 * are the inline reference for turn 1, then the reference answer's turn 1.
 * An open item without a reference is kept (scored for fidelity and
 * consistency only), so questions without
 * one in some language are left out and counted (the note says how many).
 * Korean and English records pair by question_id; KoMT-Bench adapted some
 * questions rather than translating them (same id = same slot and
 * category, not always the same task). */
#include <stdlib.h>
#include <string.h>

#include "src/import/internal.h"

typedef struct question {
    char *qid;
    char *category;
    char *turn1;
    char *inline_ref; /* NULL when the file has none (or an empty one) */
    const char *path;
    size_t line;
} question;

typedef struct answer {
    const char *lang;
    char *qid;
    char *text;
} answer;

typedef struct qfile {
    const char *lang;
    const char *path;
    question *q;
    size_t n;
} qfile;

static bool fastchat_english(const char *path)
{
    const char *b = strrchr(path, '/');
    const char *base = b ? b + 1 : path;
    if (!strcmp(base, "question.jsonl"))
        return true;
    return b && b - path >= 16 && !strncmp(b - 16, "reference_answer", 16) &&
           (b - path == 16 || b[-17] == '/');
}

/* 1 question file, 2 reference answers, 0 empty; -1 neither (err set). */
static int file_kind(kv_import_ctx *ctx, const char *path)
{
    kv_rows r;
    int rc = kv_rows_open(&r, path, true, ctx->err, ctx->errlen);
    int kind = -1;
    if (!rc) {
        int nr = kv_rows_next(&r, ctx->err, ctx->errlen);
        if (nr == 0)
            kind = 0;
        else if (nr == 1 && kv_rows_get(&r, "turns"))
            kind = 1;
        else if (nr == 1 && kv_rows_get(&r, "choices"))
            kind = 2;
        else if (nr == 1)
            kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                        "%s:%zu: neither a question (\"turns\") nor a reference answer "
                        "(\"choices\")",
                        path, r.line);
    }
    kv_rows_close(&r);
    return kind;
}

static int read_questions(kv_import_ctx *ctx, qfile *f)
{
    kv_rows r;
    int rc = kv_rows_open(&r, f->path, true, ctx->err, ctx->errlen);
    int nr = 0;
    size_t cap = 0;
    while (!rc && (nr = kv_rows_next(&r, ctx->err, ctx->errlen)) == 1) {
        const char *qid = kv_rows_get(&r, "question_id");
        const char *turns = kv_rows_get(&r, "turns");
        if (!qid || !*qid || !turns) {
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: field \"%s\" missing", f->path, r.line,
                             !qid || !*qid ? "question_id" : "turns");
            break;
        }
        char **t = NULL, **ref = NULL;
        long nt = kv_imp_parse_list(turns, &t);
        if (nt < 1 || !*t[0]) {
            kv_imp_free_list(t, nt);
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                             "%s:%zu: \"turns\" is not a list of strings with a first turn",
                             f->path, r.line);
            break;
        }
        const char *refv = kv_rows_get(&r, "reference");
        long nref = refv ? kv_imp_parse_list(refv, &ref) : 0;
        if (nref < 0) {
            kv_imp_free_list(t, nt);
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                             "%s:%zu: \"reference\" is not a list of strings", f->path, r.line);
            break;
        }
        for (size_t k = 0; k < f->n; k++)
            if (!strcmp(f->q[k].qid, qid))
                rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: question_id %s repeats", f->path,
                                 r.line, qid);
        if (!rc) {
            if (f->n == cap) {
                cap = cap ? 2 * cap : 64;
                f->q = kv_xrealloc(f->q, cap * sizeof *f->q);
            }
            const char *cat = kv_rows_get(&r, "category");
            f->q[f->n++] = (question){
                kv_imp_strdup(qid),
                cat ? kv_imp_strdup(cat) : NULL,
                kv_imp_strdup(t[0]),
                nref > 0 && *ref[0] ? kv_imp_strdup(ref[0]) : NULL,
                f->path,
                r.line,
            };
        }
        kv_imp_free_list(t, nt);
        kv_imp_free_list(ref, nref);
    }
    if (!rc && nr < 0)
        rc = KV_IMPORT_EINPUT;
    kv_rows_close(&r);
    return rc;
}

static int read_answers(kv_import_ctx *ctx, const char *path, const char *lang, answer **a,
                        size_t *n, size_t *cap)
{
    kv_rows r;
    int rc = kv_rows_open(&r, path, true, ctx->err, ctx->errlen);
    int nr = 0;
    while (!rc && (nr = kv_rows_next(&r, ctx->err, ctx->errlen)) == 1) {
        const char *qid = kv_rows_get(&r, "question_id");
        const char *choices = kv_rows_get(&r, "choices");
        cJSON *c = choices ? cJSON_Parse(choices) : NULL;
        const cJSON *turns = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(c, 0), "turns");
        const cJSON *t1 = cJSON_GetArrayItem(turns, 0);
        if (!qid || !*qid || !cJSON_IsString(t1)) {
            cJSON_Delete(c);
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                             "%s:%zu: a reference answer needs question_id and "
                             "choices[0].turns[0]",
                             path, r.line);
            break;
        }
        if (*t1->valuestring) {
            if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 64;
                *a = kv_xrealloc(*a, *cap * sizeof **a);
            }
            (*a)[(*n)++] = (answer){lang, kv_imp_strdup(qid), kv_imp_strdup(t1->valuestring)};
        }
        cJSON_Delete(c);
    }
    if (!rc && nr < 0)
        rc = KV_IMPORT_EINPUT;
    kv_rows_close(&r);
    return rc;
}

static const question *find_q(const qfile *f, const char *qid)
{
    for (size_t k = 0; k < f->n; k++)
        if (!strcmp(f->q[k].qid, qid))
            return &f->q[k];
    return NULL;
}

static const char *find_a(const answer *a, size_t n, const char *lang, const char *qid)
{
    for (size_t k = 0; k < n; k++)
        if (!strcmp(a[k].lang, lang) && !strcmp(a[k].qid, qid))
            return a[k].text;
    return NULL;
}

/* In a folder, the files of the FastChat / KoMT-Bench layout: question
 * files (question_ko.jsonl …) and the model files in reference_answer
 * folders (reference_answer_ko/gpt-4.jsonl …); judge prompts and judgments
 * are not items. */
static bool layout_file(const char *path)
{
    const char *b = strrchr(path, '/');
    const char *base = b ? b + 1 : path;
    if (!strncmp(base, "question", 8))
        return true;
    if (!b)
        return false;
    const char *d = b;
    while (d > path && d[-1] != '/')
        d--;
    return !strncmp(d, "reference_answer", 16);
}

int kv_import_mtbench(kv_import_ctx *ctx)
{
    static const char *const suffixes[] = {".jsonl", NULL};
    int erc = kv_imp_expand_dirs(ctx, suffixes);
    if (erc)
        return erc;
    size_t kept = 0;
    for (size_t i = 0; i < ctx->n_files; i++) {
        if (ctx->files[i].from_dir && !layout_file(ctx->files[i].path)) {
            free(ctx->files[i].path);
            continue;
        }
        ctx->files[kept++] = ctx->files[i];
    }
    ctx->n_files = kept;
    if (!kept)
        return kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                           "no question_*.jsonl or reference_answer_*/ files in the input");
    qfile *qf = kv_xcalloc(ctx->n_files, sizeof *qf);
    size_t nq = 0;
    answer *ans = NULL;
    size_t na = 0, cap = 0;
    int rc = 0;
    const char **found = kv_xcalloc(ctx->n_files, sizeof *found);
    for (size_t i = 0; i < ctx->n_files && !rc; i++) {
        const char *path = ctx->files[i].path;
        const char *lang = kv_imp_file_lang(&ctx->files[i]);
        if (!lang && fastchat_english(path))
            lang = "en";
        if (!lang) {
            rc = kv_imp_fail(ctx, KV_IMPORT_EUSAGE,
                             "%s: cannot tell the language from the file name; write it as "
                             "LANG=%s",
                             path, path);
            break;
        }
        int kind = file_kind(ctx, path);
        if (kind < 0) {
            rc = KV_IMPORT_EINPUT;
        } else if (kind == 1) {
            for (size_t k = 0; k < nq; k++)
                if (!strcmp(qf[k].lang, lang))
                    rc = kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "%s and %s are both %s question files",
                                     qf[k].path, path, lang);
            found[nq] = lang;
            qf[nq++] = (qfile){lang, path, NULL, 0};
        } else if (kind == 2) {
            rc = read_answers(ctx, path, lang, &ans, &na, &cap);
        }
    }
    if (!rc && !nq)
        rc = kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "no question file among the inputs");
    if (!rc)
        rc = kv_imp_set_langs(ctx, found, nq, true);
    qfile **by_lang = kv_xcalloc(ctx->n_langs ? ctx->n_langs : 1, sizeof *by_lang);
    for (size_t k = 0; k < nq && !rc; k++) {
        int li = kv_imp_lang_index(ctx, qf[k].lang);
        if (li < 0)
            continue;
        by_lang[li] = &qf[k];
        rc = read_questions(ctx, &qf[k]);
    }
    /* pair by question_id in the first language's order */
    size_t skipped = 0;
    const char *missing_in = NULL;
    for (size_t k = 0; !rc && k < by_lang[0]->n; k++) {
        const question *q0 = &by_lang[0]->q[k];
        bool complete = true;
        for (size_t l = 0; l < ctx->n_langs && !rc; l++) {
            const question *q = find_q(by_lang[l], q0->qid);
            if (!q)
                rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                                 "%s:%zu: question_id %s has no question in %s (%s)", q0->path,
                                 q0->line, q0->qid, ctx->langs[l], by_lang[l]->path);
            else if (!q->inline_ref && !find_a(ans, na, ctx->langs[l], q0->qid)) {
                complete = false;
                if (!missing_in)
                    missing_in = ctx->langs[l];
            }
        }
        if (rc)
            break;
        if (!complete)
            skipped++; /* kept: an open item without a reference (fidelity, consistency) */
        char id[160];
        snprintf(id, sizeof id, "mtbench-%s", q0->qid);
        size_t item = kv_imp_item(ctx, id, q0->path, q0->line);
        for (size_t l = 0; l < ctx->n_langs && !rc; l++) {
            const question *q = find_q(by_lang[l], q0->qid);
            cJSON *rec = kv_imp_rec(id, ctx->langs[l], "open", q->turn1);
            if (q->inline_ref)
                kv_imp_add_ref(rec, q->inline_ref);
            const char *a = find_a(ans, na, ctx->langs[l], q0->qid);
            if (a)
                kv_imp_add_ref(rec, a);
            if (q->category)
                cJSON_AddStringToObject(rec, "category", q->category);
            rc = kv_imp_put(ctx, item, (int)l, rec, q->path, q->line);
        }
    }
    /* a question only in a later language breaks the pairing too */
    for (size_t l = 1; !rc && l < ctx->n_langs; l++)
        for (size_t k = 0; !rc && k < by_lang[l]->n; k++)
            if (!find_q(by_lang[0], by_lang[l]->q[k].qid))
                rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                                 "%s:%zu: question_id %s has no question in %s (%s)",
                                 by_lang[l]->path, by_lang[l]->q[k].line, by_lang[l]->q[k].qid,
                                 ctx->langs[0], by_lang[0]->path);
    if (!rc && skipped) {
        ctx->n_skipped = skipped;
        snprintf(ctx->note, sizeof ctx->note,
                 "%zu of %zu questions have no reference answer in %s: they are kept as open "
                 "items scored for language fidelity and consistency only (add reference "
                 "answer files for ROUGE-L and chrF)",
                 skipped, by_lang[0]->n, missing_in);
    }
    for (size_t k = 0; k < nq; k++) {
        for (size_t j = 0; j < qf[k].n; j++) {
            free(qf[k].q[j].qid);
            free(qf[k].q[j].category);
            free(qf[k].q[j].turn1);
            free(qf[k].q[j].inline_ref);
        }
        free(qf[k].q);
    }
    for (size_t k = 0; k < na; k++) {
        free(ans[k].qid);
        free(ans[k].text);
    }
    free(ans);
    free(qf);
    free(found);
    free(by_lang);
    return rc;
}
