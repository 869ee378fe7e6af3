/*
 * qa.h — exact match and F1 for short answers.
 *
 * Two conventions, each reproducing its official evaluation script:
 *  - SQuAD (v1.1 evaluate script): normalize = Python str.lower(), remove
 *    the 32 ASCII punctuation characters of string.punctuation, remove the
 *    articles a/an/the as whole words (re.sub(r'\b(a|an|the)\b', ' ', …)
 *    with Python's Unicode word characters, so "theory" and "the2" are
 *    kept), collapse whitespace (' '.join(s.split())); EM = normalized
 *    strings equal; F1 over the bag of whitespace tokens.
 *  - KorQuAD (v1.0 evaluate script): normalize = replace each of
 *    ' " 《 》 < > 〈 〉 ( ) ‘ ’ by a space, str.lower(), remove
 *    string.punctuation, collapse whitespace; no article removal; EM on the
 *    normalized strings; F1 over the bag of code points of the normalized
 *    tokens (spaces excluded), which is what makes it usable for Korean.
 * F1 in both: common = size of the multiset intersection of hypothesis and
 * reference items; 0 when common is 0; otherwise P = common/|hyp items|,
 * R = common/|ref items|, F1 = 2PR/(P+R) (same float operations as Python).
 * Consequence kept from the scripts: when both normalize to the empty string
 * (e.g. "" vs "the", or "!!" vs ""), EM is 1 but F1 is 0.
 *
 * Scores are 0–1 per segment; with several references EM and F1 are each
 * the maximum over the references (as both scripts do). Input is UTF-8 with
 * an explicit byte length (no NUL needed); ill-formed sequences are read as
 * U+FFFD. Input should already be NFC (the text layer does that: this module
 * does no Unicode normalization, so NFD jamo and NFC syllables differ).
 * Characters are Unicode code points (an emoji such as U+1F600 is one).
 * Pure function: no global state, no I/O, safe from any thread.
 */
#ifndef KOEVAL_QA_H
#define KOEVAL_QA_H

#include <stddef.h>

typedef enum kv_qa_style {
    KV_QA_SQUAD = 0,   /* token-level F1, SQuAD normalization */
    KV_QA_KORQUAD = 1, /* character-level F1, KorQuAD normalization */
} kv_qa_style;

/* A segment's scores. Named by its struct tag only: a typedef of the same
 * name would collide with the function kv_qa_score (one C namespace). */
struct kv_qa_score {
    double exact_match; /* 0 or 1 */
    double f1;          /* 0–1 */
};

/* Scores one hypothesis hyp[0..hyp_len) against the references
 * refs[r][0..ref_lens[r]) for r < n_refs, writing the maximum EM and the
 * maximum F1 over the references to *out. hyp (and any refs[r]) may be NULL
 * when its length is 0. Nothing is retained; the caller owns all memory.
 * Returns 0; or -1 when n_refs is 0, a length exceeds INT32_MAX, or ICU fails
 * while lowercasing — *out is then {0, 0}. */
int kv_qa_score(kv_qa_style style, const char *hyp, size_t hyp_len, const char *const *refs,
                const size_t *ref_lens, size_t n_refs, struct kv_qa_score *out);

#endif
