#include "src/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/bleu.h"
#include "scoring/chrf.h"
#include "scoring/fidelity.h"
#include "scoring/qa.h"
#include "scoring/rouge.h"
#include "src/text.h"

struct kv_evaluator {
    kv_extractor *x;
    kv_chrf *chrf;
    kv_chrf_opts chrf_opts;
    kv_normalizer *nfc;
    kv_fidelity_checker *fid;
    kv_choice_policy policy;
    kv_buf norm, tmp;
};

kv_evaluator *kv_evaluator_new(char *err, size_t errlen)
{
    kv_extractor *x = kv_extractor_new(err, errlen);
    if (!x)
        return NULL;
    kv_evaluator *ev = kv_xcalloc(1, sizeof *ev);
    ev->x = x;
    ev->chrf_opts = kv_chrf_defaults();
    ev->chrf = kv_chrf_new(&ev->chrf_opts);
    kv_norm_opts o = {.form = KV_NORM_NFC};
    ev->nfc = kv_normalizer_new(&o);
    kv_fidelity_opts fo = kv_fidelity_defaults();
    ev->fid = kv_fidelity_new(&fo, err, errlen);
    if (!ev->fid) {
        kv_evaluator_free(ev);
        return NULL;
    }
    return ev;
}

void kv_evaluator_set_choice_policy(kv_evaluator *ev, kv_choice_policy policy)
{
    ev->policy = policy;
}

const kv_extractor *kv_evaluator_extractor(const kv_evaluator *ev)
{
    return ev->x;
}

void kv_evaluator_free(kv_evaluator *ev)
{
    if (!ev)
        return;
    kv_extractor_free(ev->x);
    kv_chrf_free(ev->chrf);
    kv_normalizer_free(ev->nfc);
    kv_fidelity_free(ev->fid);
    kv_buf_free(&ev->norm);
    kv_buf_free(&ev->tmp);
    free(ev);
}

static bool no_space_script(const char *lang)
{
    return strncmp(lang, "ko", 2) == 0 || strncmp(lang, "ja", 2) == 0 ||
           strncmp(lang, "zh", 2) == 0;
}

static void copy_extracted(kv_item_score *out, const char *s, size_t n)
{
    if (n >= sizeof out->extracted) {
        n = sizeof out->extracted - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* do not cut a character */
    }
    memcpy(out->extracted, s, n);
    out->extracted[n] = '\0';
}

/* Fidelity of the answer (reasoning blocks removed) to the item's target
 * language. */
static void fidelity(kv_evaluator *ev, const kv_item *item, const char *a, size_t an,
                     kv_item_score *out)
{
    out->fidelity = NAN;
    out->han_leak = out->latin_leak = NAN;
    out->fidelity_verdict = "undetermined";
    out->dominant_script = "";
    if (!kv_fidelity_lang_known(item->target_lang))
        return;
    kv_buf t = {0};
    kv_strip_reasoning(kv_evaluator_extractor(ev), a, an, &t);
    kv_fidelity f;
    char err[128];
    if (kv_fidelity_check(ev->fid, item->target_lang, t.p ? t.p : "", t.len, &f, err,
                          sizeof err) == KV_FID_OK) {
        out->fidelity_verdict = kv_fidelity_verdict_name(f.verdict);
        out->dominant_script = f.letters ? kv_script_group_name(f.dominant) : "";
        if (f.verdict != KV_FIDELITY_UNDETERMINED) {
            out->fidelity = f.verdict == KV_FIDELITY_OK ? 100 : 0;
            if (!strncmp(item->target_lang, "ko", 2)) {
                out->han_leak = 100 * f.han_share;
                out->latin_leak = 100 * f.latin_share;
            }
        }
    }
    kv_buf_free(&t);
}

static int evaluate(kv_evaluator *ev, const kv_item *item, const char *a, size_t an,
                    kv_item_score *out);

int kv_evaluate(kv_evaluator *ev, const kv_item *item, const char *answer, size_t answer_len,
                kv_item_score *out)
{
    memset(out, 0, sizeof *out);
    const char *a;
    size_t an;
    size_t replaced;
    if (kv_normalizer_apply(ev->nfc, answer, answer_len, &ev->norm, &a, &an, &replaced) != 0)
        return -1;
    fidelity(ev, item, a, an, out);
    int rc = evaluate(ev, item, a, an, out);
    /* a secondary score's signature: its own name, then the primary's settings */
    for (int k = 0; k < out->n_extra; k++) {
        if (out->extra[k].signature[0])
            continue; /* set by the metric itself */
        const char *rest = strchr(out->signature, '|');
        snprintf(out->extra[k].signature, sizeof out->extra[k].signature, "%s%s",
                 out->extra[k].metric, rest ? rest : "");
    }
    return rc;
}

static int evaluate(kv_evaluator *ev, const kv_item *item, const char *a, size_t an,
                    kv_item_score *out)
{
    switch (item->task) {
    case KV_TASK_MCQ: {
        int c = -1;
        out->metric = "accuracy";
        out->status = kv_extract_choice(ev->x, a, an, (int)item->n_choices, ev->policy, &c);
        if (out->status == KV_EXTRACT_OK) {
            out->extracted[0] = (char)('A' + c);
            out->extracted[1] = '\0';
            out->value = item->answer && item->answer[0] == 'A' + c && !item->answer[1] ? 100 : 0;
        }
        snprintf(out->signature, sizeof out->signature, "accuracy|extract:choice-%s|n:%zu",
                 ev->policy == KV_CHOICE_FIRST ? "first" : "last", item->n_choices);
        return 0;
    }
    case KV_TASK_MATH: {
        out->metric = "accuracy";
        kv_buf_clear(&ev->tmp);
        /* Korean units only where the item declares them */
        bool ko_units = item->units != NULL;
        out->status = kv_extract_number(ev->x, a, an, ko_units, &ev->tmp);
        if (out->status == KV_EXTRACT_OK) {
            copy_extracted(out, ev->tmp.p, ev->tmp.len);
            out->value = item->answer && kv_numbers_equal(ev->tmp.p, item->answer) ? 100 : 0;
        }
        snprintf(out->signature, sizeof out->signature, "accuracy|extract:number%s",
                 ko_units ? "+ko-units" : "");
        return 0;
    }
    case KV_TASK_QA: {
        out->metric = "EM";
        kv_buf_clear(&ev->tmp);
        out->status = kv_extract_short(ev->x, a, an, &ev->tmp);
        /* an answer that could not be read scores 0 on F1 too (a refusal must
         * not raise F1 by being left out) */
        out->extra[0].metric = "F1";
        out->extra[0].value = 0;
        out->n_extra = 1;
        if (out->status == KV_EXTRACT_OK && item->n_references > 0) {
            copy_extracted(out, ev->tmp.p, ev->tmp.len);
            kv_qa_style style = no_space_script(item->target_lang) ? KV_QA_KORQUAD : KV_QA_SQUAD;
            size_t *lens = kv_xmalloc(item->n_references * sizeof *lens);
            for (size_t k = 0; k < item->n_references; k++)
                lens[k] = strlen(item->references[k]);
            struct kv_qa_score qs;
            int rc = kv_qa_score(style, ev->tmp.p, ev->tmp.len, item->references, lens,
                                 item->n_references, &qs);
            free(lens);
            if (rc != 0)
                return -1;
            out->value = 100 * qs.exact_match;
            out->extra[0].value = 100 * qs.f1;
            snprintf(out->signature, sizeof out->signature, "EM|style:%s|extract:short",
                     style == KV_QA_KORQUAD ? "korquad" : "squad");
        }
        return 0;
    }
    case KV_TASK_TRANSLATE:
    case KV_TASK_OPEN: {
        kv_buf_clear(&ev->tmp);
        out->status = kv_strip_reasoning(ev->x, a, an, &ev->tmp);
        if (out->status != KV_EXTRACT_OK || item->n_references == 0) {
            out->metric = item->task == KV_TASK_OPEN ? "ROUGE-L" : "chrF2";
            /* no reference: nothing to compare with (not a zero) */
            if (item->n_references == 0)
                out->value = NAN;
            return 0;
        }
        size_t *lens = kv_xmalloc(item->n_references * sizeof *lens);
        for (size_t k = 0; k < item->n_references; k++)
            lens[k] = strlen(item->references[k]);
        char err[128];
        kv_chrf_stats st;
        int rc = kv_chrf_segment(ev->chrf, ev->tmp.p, ev->tmp.len, item->references, lens,
                                 item->n_references, &st, err, sizeof err);
        double chrf = rc == 0 ? kv_chrf_compute(&ev->chrf_opts, &st) : 0;
        if (item->task == KV_TASK_TRANSLATE) {
            out->metric = "chrF2";
            out->value = chrf;
            kv_chrf_signature(&ev->chrf_opts, (int)item->n_references, "nfc", out->signature,
                              sizeof out->signature);
            if (rc == 0) {
                /* sentence BLEU as sacreBLEU's sentence_bleu: effective order,
                 * the target language's default tokenizer */
                const char *tl = item->target_lang;
                kv_bleu_opts bo = {.tokenizer = kv_tokenizer_find(
                                       !strncmp(tl, "zh", 2)   ? "zh"
                                       : !strncmp(tl, "ja", 2) ? "char"
                                                               : "13a"),
                                   .smooth = KV_SMOOTH_EXP,
                                   .smooth_value = -1,
                                   .effective_order = true,
                                   .max_order = 4};
                kv_bleu *b = kv_bleu_new(&bo);
                kv_bleu_stats bst;
                if (kv_bleu_segment(b, ev->tmp.p, ev->tmp.len, item->references, lens,
                                    item->n_references, &bst, err, sizeof err) == 0) {
                    kv_bleu_score bs;
                    kv_bleu_compute(&bo, &bst, &bs);
                    out->extra[0].metric = "BLEU";
                    out->extra[0].value = bs.score;
                    kv_bleu_signature(&bo, (int)item->n_references, "nfc",
                                      out->extra[0].signature, sizeof out->extra[0].signature);
                    out->n_extra = 1;
                }
                kv_bleu_free(b);
            }
        } else {
            kv_rouge_opts ro = {.tokenizer = kv_tokenizer_find("unicode")};
            kv_rouge_score rs = {0};
            if (rc == 0)
                rc = kv_rouge_score_multi(&ro, KV_ROUGE_L, item->references, lens,
                                          item->n_references, ev->tmp.p, ev->tmp.len, &rs, err,
                                          sizeof err);
            out->metric = "ROUGE-L";
            out->value = 100 * rs.fmeasure;
            out->extra[0].metric = "chrF2";
            out->extra[0].value = chrf;
            kv_chrf_signature(&ev->chrf_opts, (int)item->n_references, "nfc",
                              out->extra[0].signature, sizeof out->extra[0].signature);
            out->n_extra = 1;
            snprintf(out->signature, sizeof out->signature, "rougeL|tok:unicode|norm:nfc");
        }
        free(lens);
        return rc == 0 ? 0 : -1;
    }
    }
    return 0;
}
