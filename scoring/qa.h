/*
 * qa.h — exact match and F1 for short answers.
 *
 * Three conventions, each named in the score signature:
 *  - SQuAD (v1.1 evaluate script): normalize = lowercase, remove ASCII
 *    punctuation (string.punctuation), remove the articles a/an/the as words,
 *    collapse whitespace; EM = normalized strings equal; F1 over
 *    whitespace tokens (bag of tokens).
 *  - KorQuAD (v1.0 evaluate script): normalize = replace ' " 《 》 < > 〈 〉 ( ) ‘ ’
 *    by spaces, lowercase, remove ASCII punctuation, collapse whitespace;
 *    EM on the normalized strings; F1 over characters of the normalized
 *    tokens (spaces excluded), which is what makes it usable for Korean.
 * Scores are 0–1 per segment; with several references the maximum is taken
 * (as both scripts do). Input is UTF-8 and should already be NFC (the text
 * layer does that); lowercasing is Python's str.lower().
 */
#ifndef KOEVAL_QA_H
#define KOEVAL_QA_H

#include <stddef.h>

typedef enum kv_qa_style {
    KV_QA_SQUAD = 0,   /* token-level F1, SQuAD normalization */
    KV_QA_KORQUAD = 1, /* character-level F1, KorQuAD normalization */
} kv_qa_style;

typedef struct kv_qa_score {
    double exact_match; /* 0 or 1 */
    double f1;          /* 0–1 */
} kv_qa_score;

/* Scores one hypothesis against n_refs >= 1 references (max over them).
 * Returns 0, or -1 on an ICU failure. */
int kv_qa_score(kv_qa_style style, const char *hyp, size_t hyp_len, const char *const *refs,
                const size_t *ref_lens, size_t n_refs, kv_qa_score *out);

#endif
