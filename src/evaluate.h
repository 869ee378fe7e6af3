/*
 * evaluate.h — scoring one model answer against one suite item, by task.
 *
 * Pure functions over an item and the answer text (no I/O), shared by
 * `koeval run` (as answers arrive) and `koeval score --db` (offline
 * re-scoring of stored answers), so both give the same numbers.
 *
 *   qa         short answer extracted (copula stripped), exact match and F1
 *              against the references: KorQuAD style (character F1) for
 *              ko/ja/zh answers, SQuAD style (token F1) otherwise. Primary: EM.
 *   mcq        choice letter extracted; 100 when it is the gold letter.
 *   math       number extracted; 100 when it equals the gold number.
 *   translate  sentence chrF2 (and the statistics for corpus chrF/BLEU).
 *   open       ROUGE-L F (unicode tokenizer) ×100 and sentence chrF2.
 * An answer whose text cannot be parsed (no letter, no number, an
 * unterminated reasoning block) is an extraction failure: scored 0, counted
 * apart. Scores are 0–100.
 */
#ifndef KOEVAL_EVALUATE_H
#define KOEVAL_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>

#include "scoring/extract.h"
#include "src/suite.h"

typedef struct kv_evaluator kv_evaluator;

/* Creates an evaluator (compiled patterns, metric scratch); one per thread.
 * NULL with err set only if a pattern fails to compile. */
kv_evaluator *kv_evaluator_new(char *err, size_t errlen);
void kv_evaluator_free(kv_evaluator *ev);

/* Which answer marker wins when a multiple-choice answer names several
 * letters (default KV_CHOICE_LAST: models restate and correct themselves). */
void kv_evaluator_set_choice_policy(kv_evaluator *ev, kv_choice_policy policy);

/* The evaluator's compiled extraction patterns (valid while ev lives). */
const kv_extractor *kv_evaluator_extractor(const kv_evaluator *ev);

typedef struct kv_item_score {
    const char *metric;        /* primary metric name: "EM", "accuracy", "chrF2", "ROUGE-L" */
    double value;              /* primary score, 0–100 */
    /* secondary scores, 0–100, stored next to the primary one: qa "F1"
     * (0 when no answer could be extracted), translate "BLEU" (sentence BLEU
     * with effective order and the target language's tokenizer), open "chrF2" */
    struct {
        const char *metric;
        double value;
        char signature[160];
    } extra[2];
    int n_extra;
    kv_extract_status status;  /* extraction outcome (ok for translate/open) */
    char extracted[256];       /* what was compared ("B", "8000", "서울"), "" when none */
    char signature[160];       /* what produced the value */
    /* language fidelity of the answer against the item's target_lang
     * (scoring/fidelity.h): 100 answered in that language, 0 in another,
     * NaN undetermined (too few letters) or a language fidelity cannot check */
    double fidelity;
    const char *fidelity_verdict; /* "ok", "wrong_language", "undetermined" */
    const char *dominant_script;  /* "hangul", "latin" … */
    /* for Korean answers: Han and Latin letters as a share of all letters,
     * 0–100 (leakage of Chinese characters and English words); NaN otherwise */
    double han_leak, latin_leak;
} kv_item_score;

/* Scores `answer` (UTF-8, answer_len bytes, as the model wrote it) for item.
 * finish_reason may be NULL. Returns 0, or -1 on an internal failure. */
int kv_evaluate(kv_evaluator *ev, const kv_item *item, const char *answer, size_t answer_len,
                kv_item_score *out);

#endif
