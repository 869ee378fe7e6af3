/* import_kobbq.c — KoBBQ test samples → Korean `mcq` items.
 *
 * KoBBQ_test_samples.tsv: sample_id, label_annotation, context, question,
 * choices (a Python list of three strings, one of them "알 수 없음"),
 * biased_answer, answer (the text of the gold choice), bbq_id, bbq_category,
 * prediction. The gold must be one of the choices; the biased answer, when
 * it is one, is kept as "biased_answer" (a letter) so that a report can
 * count biased answers apart from other wrong ones. */
#include <stdlib.h>
#include <string.h>

#include "src/import/internal.h"

static int kobbq_file(kv_import_ctx *ctx, const char *path)
{
    kv_rows r;
    int rc = kv_rows_open(&r, path, false, ctx->err, ctx->errlen);
    static const char *const cols[] = {"sample_id", "context", "question", "choices", "answer"};
    for (size_t c = 0; !rc && c < sizeof cols / sizeof cols[0]; c++) {
        bool have = false;
        for (size_t i = 0; i < r.n_header; i++)
            have |= !strcmp(r.header[i], cols[c]);
        if (!have)
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:1: column \"%s\" missing", path, cols[c]);
    }
    kv_buf prompt = {0}, head = {0};
    char id[300];
    int nr = 0;
    while (!rc && (nr = kv_rows_next(&r, ctx->err, ctx->errlen)) == 1) {
        const char *sid = kv_rows_get(&r, "sample_id");
        const char *answer = kv_rows_get(&r, "answer");
        const char *biased = kv_rows_get(&r, "biased_answer");
        char **choices = NULL;
        long n = kv_imp_parse_list(kv_rows_get(&r, "choices"), &choices);
        if (n < 2 || n > 26) {
            kv_imp_free_list(choices, n);
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                             "%s:%zu: choices is not a list of 2 to 26 strings", path, r.line);
            break;
        }
        long gold = -1, bias = -1;
        for (long k = 0; k < n; k++) {
            if (!strcmp(choices[k], answer))
                gold = k;
            if (biased && !strcmp(choices[k], biased))
                bias = k;
        }
        if (gold >= 0 && *sid &&
            kv_imp_check_choices(ctx, (const char *const *)choices, (size_t)n, path, r.line)) {
            kv_imp_free_list(choices, n);
            rc = KV_IMPORT_EINPUT;
            break;
        }
        if (gold < 0 || !*sid) {
            rc = gold < 0
                     ? kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                                   "%s:%zu: answer \"%s\" is not one of the %ld choices", path,
                                   r.line, answer, n)
                     : kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: empty sample_id", path, r.line);
            kv_imp_free_list(choices, n);
            break;
        }
        snprintf(id, sizeof id, "kobbq-%s", sid);
        kv_buf_clear(&head);
        kv_buf_printf(&head, "%s\n\n질문: %s", kv_rows_get(&r, "context"),
                      kv_rows_get(&r, "question"));
        kv_buf_clear(&prompt);
        kv_imp_mcq_prompt(&prompt, "ko", head.p, (const char *const *)choices, (size_t)n);
        if (kv_imp_find_item(ctx, id) >= 0) {
            kv_imp_free_list(choices, n);
            rc = kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: sample_id \"%s\" repeats", path,
                             r.line, sid);
            break;
        }
        size_t item = kv_imp_item(ctx, id, path, r.line);
        cJSON *rec = kv_imp_rec(id, "ko", "mcq", prompt.p);
        kv_imp_set_mcq(rec, (const char *const *)choices, (size_t)n, (size_t)gold);
        if (bias >= 0) {
            char letter[2] = {(char)('A' + bias), '\0'};
            cJSON_AddStringToObject(rec, "biased_answer", letter);
        }
        kv_imp_free_list(choices, n);
        rc = kv_imp_put(ctx, item, 0, rec, path, r.line);
    }
    if (!rc && nr < 0)
        rc = KV_IMPORT_EINPUT;
    kv_buf_free(&prompt);
    kv_buf_free(&head);
    kv_rows_close(&r);
    return rc;
}

int kv_import_kobbq(kv_import_ctx *ctx)
{
    int rc = kv_imp_single_lang(ctx, "ko");
    for (size_t i = 0; i < ctx->n_files && !rc; i++)
        rc = kobbq_file(ctx, ctx->files[i].path);
    return rc;
}
