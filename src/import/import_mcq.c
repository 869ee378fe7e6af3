/* import_mcq.c — multiple-choice tables: Belebele, MMMLU, Global-MMLU
 * (one file per language, paired across languages), KMMLU, CLIcK and
 * HAE-RAE Bench (Korean only) → `mcq` items.
 *
 * Each format is a spec: which columns hold the id, the passage, the
 * question, the choices and the gold label, and the base the gold label is
 * written in. Every gold label is checked against the row's choices. */
#include <stdlib.h>
#include <string.h>

#include "src/import/internal.h"

#define BASE_TEXT 10 /* the gold is the text of one of the choices */

typedef struct mcq_spec {
    const char *prefix;      /* id prefix */
    const char *id_col;      /* pairing id column, or NULL: the row number */
    const char *passage_col; /* optional passage shown before the question, or NULL */
    const char *question_col;
    const char *choice_cols[6]; /* NULL-terminated choice columns, or {NULL} */
    const char *choices_col;    /* a list column (JSON or Python), when no choice_cols */
    const char *answer_col;
    int base;                /* kv_answer_base, or BASE_TEXT */
    bool prompt_has_choices; /* the question already lists the choices (HAE-RAE) */
    bool id_with_stem;       /* ids carry the file's stem (one file per subject) */
} mcq_spec;

static const char *need(kv_import_ctx *ctx, const kv_rows *r, const char *col, int *rc)
{
    const char *v = kv_rows_get(r, col);
    if (!v && !*rc)
        *rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: column \"%s\" missing", r->path, r->line,
                          col);
    return v;
}

static void stem_of(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strchr(out, '.');
    if (dot)
        *dot = '\0';
}

/* Reads one file of a spec into the suite language lang_index. */
static int mcq_file(kv_import_ctx *ctx, const char *path, int lang_index, const mcq_spec *sp)
{
    kv_rows r;
    int rc = kv_rows_open(&r, path, true, ctx->err, ctx->errlen);
    if (rc) {
        kv_rows_close(&r);
        return rc;
    }
    const char *lang = ctx->langs[lang_index];
    char stem[128];
    stem_of(path, stem, sizeof stem);
    kv_buf prompt = {0}, head = {0};
    char id[512];
    size_t row = 0;
    int nr;
    while (!rc && (nr = kv_rows_next(&r, ctx->err, ctx->errlen)) == 1) {
        row++;
        const char *question = need(ctx, &r, sp->question_col, &rc);
        const char *answer = need(ctx, &r, sp->answer_col, &rc);
        const char *passage = sp->passage_col ? kv_rows_get(&r, sp->passage_col) : NULL;
        const char *idv = sp->id_col ? need(ctx, &r, sp->id_col, &rc) : NULL;
        const char *choices[6];
        size_t n = 0;
        char **list = NULL;
        long nl = 0;
        if (sp->choice_cols[0]) {
            for (; sp->choice_cols[n]; n++)
                choices[n] = need(ctx, &r, sp->choice_cols[n], &rc);
        } else {
            const char *lv = need(ctx, &r, sp->choices_col, &rc);
            if (lv) {
                nl = kv_imp_parse_list(lv, &list);
                if (nl < 2 || nl > 26)
                    rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                                     "%s:%zu: \"%s\" is not a list of 2 to 26 strings", path,
                                     r.line, sp->choices_col);
            }
        }
        if (rc) {
            kv_imp_free_list(list, nl);
            break;
        }
        const char *const *ch = list ? (const char *const *)list : choices;
        size_t nch = list ? (size_t)nl : n;
        size_t gold = 0;
        if (sp->base == BASE_TEXT) {
            size_t k = 0;
            while (k < nch && strcmp(ch[k], answer))
                k++;
            if (k == nch)
                rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                                 "%s:%zu: answer \"%s\" is not one of the %zu choices", path,
                                 r.line, answer, nch);
            gold = k;
        } else {
            rc = kv_imp_gold(ctx, answer, (kv_answer_base)sp->base, nch, path, r.line, &gold);
        }
        if (!rc)
            rc = kv_imp_check_choices(ctx, ch, nch, path, r.line);
        if (!rc && !*question)
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: empty question", path, r.line);
        if (!rc && idv && !*idv)
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: empty %s", path, r.line, sp->id_col);
        if (rc) {
            kv_imp_free_list(list, nl);
            break;
        }
        if (idv)
            snprintf(id, sizeof id, "%s-%s", sp->prefix, idv);
        else if (sp->id_with_stem)
            snprintf(id, sizeof id, "%s-%s-%04zu", sp->prefix, stem, row);
        else
            snprintf(id, sizeof id, "%s-%04zu", sp->prefix, row);
        kv_buf_clear(&head);
        if (passage && *passage)
            kv_buf_printf(&head, "%s\n\n", passage);
        kv_buf_printf(&head, "%s", question);
        kv_buf_clear(&prompt);
        if (sp->prompt_has_choices) {
            /* the question lists its options itself; only the instruction is added */
            kv_buf tail = {0};
            kv_imp_mcq_prompt(&tail, lang, "", NULL, 0);
            kv_buf_printf(&prompt, "%s%s", head.p, tail.p);
            kv_buf_free(&tail);
        } else {
            kv_imp_mcq_prompt(&prompt, lang, head.p, ch, nch);
        }
        size_t item = kv_imp_item(ctx, id, path, r.line);
        cJSON *rec = kv_imp_rec(id, lang, "mcq", prompt.p);
        kv_imp_set_mcq(rec, ch, nch, gold);
        kv_imp_free_list(list, nl);
        rc = kv_imp_put(ctx, item, lang_index, rec, path, r.line);
    }
    if (!rc && nr < 0)
        rc = KV_IMPORT_EINPUT;
    kv_buf_free(&prompt);
    kv_buf_free(&head);
    kv_rows_close(&r);
    return rc;
}

/* Formats with one file per language. */
static int mcq_multi(kv_import_ctx *ctx, const mcq_spec *sp, const char *const *suffixes)
{
    int rc = kv_imp_expand_dirs(ctx, suffixes);
    if (rc)
        return rc;
    const char **found = kv_xcalloc(ctx->n_files, sizeof *found);
    const char **file_lang = kv_xcalloc(ctx->n_files, sizeof *file_lang);
    size_t n = 0;
    for (size_t i = 0; i < ctx->n_files && !rc; i++) {
        const char *lang = kv_imp_file_lang(&ctx->files[i]);
        if (!lang) {
            if (!ctx->files[i].from_dir)
                rc = kv_imp_fail(ctx, KV_IMPORT_EUSAGE,
                                 "%s: cannot tell the language from the file name; write it as "
                                 "LANG=%s",
                                 ctx->files[i].path, ctx->files[i].path);
            continue;
        }
        for (size_t k = 0; k < ctx->n_files && !rc; k++)
            if (file_lang[k] && !strcmp(file_lang[k], lang))
                rc = kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "%s and %s are both %s", ctx->files[k].path,
                                 ctx->files[i].path, lang);
        file_lang[i] = lang;
        found[n++] = lang;
    }
    if (!rc)
        rc = kv_imp_set_langs(ctx, found, n, true);
    for (size_t i = 0; i < ctx->n_files && !rc; i++) {
        int li = file_lang[i] ? kv_imp_lang_index(ctx, file_lang[i]) : -1;
        if (li >= 0)
            rc = mcq_file(ctx, ctx->files[i].path, li, sp);
    }
    free(found);
    free(file_lang);
    return rc;
}

/* Korean-only formats: every file holds ko items. */
static int mcq_ko(kv_import_ctx *ctx, const mcq_spec *sp, const char *const *suffixes)
{
    int rc = kv_imp_expand_dirs(ctx, suffixes);
    if (!rc)
        rc = kv_imp_single_lang(ctx, "ko");
    for (size_t i = 0; i < ctx->n_files && !rc; i++)
        rc = mcq_file(ctx, ctx->files[i].path, 0, sp);
    return rc;
}

int kv_import_belebele(kv_import_ctx *ctx)
{
    static const mcq_spec sp = {
        .prefix = "belebele",
        .passage_col = "flores_passage",
        .question_col = "question",
        .choice_cols = {"mc_answer1", "mc_answer2", "mc_answer3", "mc_answer4", NULL},
        .answer_col = "correct_answer_num",
        .base = KV_BASE_1,
    };
    static const char *const suffixes[] = {".jsonl", NULL};
    return mcq_multi(ctx, &sp, suffixes);
}

int kv_import_mmmlu(kv_import_ctx *ctx)
{
    static const mcq_spec sp = {
        .prefix = "mmmlu",
        .question_col = "Question",
        .choice_cols = {"A", "B", "C", "D", NULL},
        .answer_col = "Answer",
        .base = KV_BASE_LETTER,
    };
    static const char *const suffixes[] = {".csv", NULL};
    return mcq_multi(ctx, &sp, suffixes);
}

int kv_import_global_mmlu(kv_import_ctx *ctx)
{
    static const mcq_spec sp = {
        .prefix = "gmmlu",
        .id_col = "sample_id",
        .question_col = "question",
        .choice_cols = {"option_a", "option_b", "option_c", "option_d", NULL},
        .answer_col = "answer",
        .base = KV_BASE_LETTER,
    };
    static const char *const suffixes[] = {".csv", ".jsonl", NULL};
    return mcq_multi(ctx, &sp, suffixes);
}

int kv_import_kmmlu(kv_import_ctx *ctx)
{
    /* KMMLU's answers are 1-based (1–4); read as 0-based they shift every
     * gold letter by one and turn 4 into no letter at all (case B16) */
    static const mcq_spec sp = {
        .prefix = "kmmlu",
        .question_col = "question",
        .choice_cols = {"A", "B", "C", "D", NULL},
        .answer_col = "answer",
        .base = KV_BASE_1,
        .id_with_stem = true,
    };
    static const char *const suffixes[] = {".csv", ".jsonl", NULL};
    return mcq_ko(ctx, &sp, suffixes);
}

int kv_import_click(kv_import_ctx *ctx)
{
    static const mcq_spec sp = {
        .prefix = "click",
        .id_col = "id",
        .passage_col = "paragraph",
        .question_col = "question",
        .choices_col = "choices",
        .answer_col = "answer",
        .base = BASE_TEXT,
    };
    static const char *const suffixes[] = {".json", ".jsonl", NULL};
    return mcq_ko(ctx, &sp, suffixes);
}

int kv_import_haerae(kv_import_ctx *ctx)
{
    static const mcq_spec sp = {
        .prefix = "haerae",
        .question_col = "query",
        .choices_col = "options",
        .answer_col = "answer",
        .base = KV_BASE_LETTER,
        .prompt_has_choices = true,
        .id_with_stem = true,
    };
    static const char *const suffixes[] = {".csv", ".jsonl", NULL};
    return mcq_ko(ctx, &sp, suffixes);
}
