/* import_kobest.c — KoBEST v1.0 (BoolQ, COPA, HellaSwag, SentiNeg, WiC) →
 * Korean `mcq` items.
 *
 * The files are TSV with a header and no quoting (BoolQ passages hold bare
 * '"'); the task is recognised from the header, not the file name. Gold
 * labels: BoolQ and WiC True/False in any case (예 = A, 아니요 = B), COPA
 * 1-based (1–2), HellaSwag 0-based (0–3), SentiNeg 0-based (0 부정 = A,
 * 1 긍정 = B). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/import/internal.h"

enum { BOOLQ, COPA, HELLASWAG, SENTINEG, WIC, N_TASKS };

static const char *const TASK_NAMES[N_TASKS] = {"boolq", "copa", "hellaswag", "sentineg", "wic"};

static int detect(const kv_rows *r)
{
    bool has[16] = {0};
    static const char *const cols[] = {
        "Text",    "Question", "sentence",     "1",      "2",         "context",
        "choice1", "label",    "Label_origin", "Target", "SENTENCE1", "ANSWER"};
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        for (size_t i = 0; i < r->n_header; i++)
            if (!strcmp(r->header[i], cols[c]))
                has[c] = true;
    if (has[9] && has[10] && has[11])
        return WIC;
    if (has[8])
        return SENTINEG;
    if (has[5] && has[6] && has[7])
        return HELLASWAG;
    if (has[2] && has[3] && has[4])
        return COPA;
    if (has[0] && has[1])
        return BOOLQ;
    return -1;
}

/* "True"/"TRUE"/"true" → 0 (예, A); "False"… → 1 (아니요, B). */
static int yes_no(kv_import_ctx *ctx, const char *v, const kv_rows *r, size_t *gold)
{
    if (!strcasecmp(v, "true"))
        *gold = 0;
    else if (!strcasecmp(v, "false"))
        *gold = 1;
    else
        return kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: answer \"%s\" is neither True nor False",
                           r->path, r->line, v);
    return 0;
}

static const char *col(kv_import_ctx *ctx, const kv_rows *r, const char *name, int *rc)
{
    const char *v = kv_rows_get(r, name);
    if (!v) {
        if (!*rc)
            *rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: column \"%s\" missing", r->path,
                              r->line, name);
        return "";
    }
    return v;
}

static int kobest_file(kv_import_ctx *ctx, const char *path)
{
    kv_rows r;
    int rc = kv_rows_open(&r, path, false, ctx->err, ctx->errlen);
    int task = rc ? -1 : detect(&r);
    if (!rc && task < 0)
        rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                         "%s:1: not a KoBEST header (BoolQ, COPA, HellaSwag, SentiNeg or WiC)",
                         path);
    kv_buf prompt = {0}, head = {0};
    char id[160];
    size_t row = 0;
    int nr = 0;
    static const char *const yn[] = {"예", "아니요"};
    static const char *const senti[] = {"부정", "긍정"};
    while (!rc && (nr = kv_rows_next(&r, ctx->err, ctx->errlen)) == 1) {
        row++;
        const char *choices[4];
        size_t n = 0, gold = 0;
        const char *rid = NULL;
        kv_buf_clear(&head);
        switch (task) {
        case BOOLQ:
            rid = col(ctx, &r, "ID", &rc);
            kv_buf_printf(&head, "%s\n\n질문: %s\n위 글에 따르면 질문의 답은 무엇입니까?",
                          col(ctx, &r, "Text", &rc), col(ctx, &r, "Question", &rc));
            choices[0] = yn[0], choices[1] = yn[1], n = 2;
            if (!rc)
                rc = yes_no(ctx, col(ctx, &r, "Answer", &rc), &r, &gold);
            break;
        case COPA: {
            rid = col(ctx, &r, "ID", &rc);
            const char *q = col(ctx, &r, "question", &rc);
            /* the particle follows the noun: 원인으로, 결과로 */
            const char *what = !strcmp(q, "원인")   ? "원인으로"
                               : !strcmp(q, "결과") ? "결과로"
                                                    : NULL;
            if (!rc && !what) {
                rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                                 "%s:%zu: question \"%s\" is neither 원인 nor 결과", path, r.line,
                                 q);
                break;
            }
            kv_buf_printf(&head, "%s\n이 문장의 %s 더 알맞은 것은 무엇입니까?",
                          col(ctx, &r, "sentence", &rc), what);
            choices[0] = col(ctx, &r, "1", &rc), choices[1] = col(ctx, &r, "2", &rc), n = 2;
            if (!rc)
                rc = kv_imp_gold(ctx, col(ctx, &r, "Answer", &rc), KV_BASE_1, n, path, r.line,
                                 &gold);
            break;
        }
        case HELLASWAG:
            kv_buf_printf(&head, "%s\n다음에 이어질 내용으로 가장 알맞은 것은 무엇입니까?",
                          col(ctx, &r, "context", &rc));
            choices[0] = col(ctx, &r, "choice1", &rc), choices[1] = col(ctx, &r, "choice2", &rc);
            choices[2] = col(ctx, &r, "choice3", &rc), choices[3] = col(ctx, &r, "choice4", &rc);
            n = 4;
            if (!rc)
                rc =
                    kv_imp_gold(ctx, col(ctx, &r, "label", &rc), KV_BASE_0, n, path, r.line, &gold);
            break;
        case SENTINEG:
            rid = col(ctx, &r, "ID", &rc);
            kv_buf_printf(&head, "다음 문장에 드러난 감정은 무엇입니까?\n%s",
                          col(ctx, &r, "Text", &rc));
            choices[0] = senti[0], choices[1] = senti[1], n = 2;
            if (!rc)
                rc =
                    kv_imp_gold(ctx, col(ctx, &r, "Label", &rc), KV_BASE_0, n, path, r.line, &gold);
            break;
        case WIC:
            rid = col(ctx, &r, "ID", &rc);
            kv_buf_printf(&head, "다음 두 문장에서 '%s'의 의미가 같습니까?\n문장 1: %s\n문장 2: %s",
                          col(ctx, &r, "Target", &rc), col(ctx, &r, "SENTENCE1", &rc),
                          col(ctx, &r, "SENTENCE2", &rc));
            choices[0] = yn[0], choices[1] = yn[1], n = 2;
            if (!rc)
                rc = yes_no(ctx, col(ctx, &r, "ANSWER", &rc), &r, &gold);
            break;
        default:
            break;
        }
        if (!rc)
            rc = kv_imp_check_choices(ctx, choices, n, path, r.line);
        if (rc)
            break;
        if (rid && *rid)
            snprintf(id, sizeof id, "kobest-%s-%s", TASK_NAMES[task], rid);
        else
            snprintf(id, sizeof id, "kobest-%s-%04zu", TASK_NAMES[task], row);
        kv_buf_clear(&prompt);
        kv_imp_mcq_prompt(&prompt, "ko", head.p, choices, n);
        if (kv_imp_find_item(ctx, id) >= 0) {
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: id \"%s\" repeats", path, r.line, id);
            break;
        }
        size_t item = kv_imp_item(ctx, id, path, r.line);
        cJSON *rec = kv_imp_rec(id, "ko", "mcq", prompt.p);
        kv_imp_set_mcq(rec, choices, n, gold);
        rc = kv_imp_put(ctx, item, 0, rec, path, r.line);
    }
    if (!rc && nr < 0)
        rc = KV_IMPORT_EINPUT;
    kv_buf_free(&prompt);
    kv_buf_free(&head);
    kv_rows_close(&r);
    return rc;
}

int kv_import_kobest(kv_import_ctx *ctx)
{
    static const char *const suffixes[] = {".tsv", NULL};
    int rc = kv_imp_expand_dirs(ctx, suffixes);
    if (!rc)
        rc = kv_imp_single_lang(ctx, "ko");
    for (size_t i = 0; i < ctx->n_files && !rc; i++)
        rc = kobest_file(ctx, ctx->files[i].path);
    return rc;
}
