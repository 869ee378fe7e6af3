/*
 * extract.h — getting the answer out of a model's free text, for tasks whose
 * gold is a choice letter (mcq), a number (math) or a short string (qa).
 *
 * Patterns are PCRE2 (UTF, Unicode properties). Reasoning blocks are removed
 * first; an answer that cannot be found is "no answer" (an extraction
 * failure, reported apart from wrong answers), never a guess: a letter is
 * accepted only in an answer position and only when it is one of the item's
 * choices. Cases from bug reports: B09, B10, B12, B13, B15.
 */
#ifndef KOEVAL_EXTRACT_H
#define KOEVAL_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "src/buf.h"

typedef enum kv_extract_status {
    KV_EXTRACT_OK = 0,
    KV_EXTRACT_NONE,               /* no answer found */
    KV_EXTRACT_UNTERMINATED_THINK, /* a reasoning block never closed: no answer (B15) */
} kv_extract_status;

/* Name as stored and reported: "ok", "no_answer", "unterminated_think". */
const char *kv_extract_status_name(kv_extract_status s);

/* Which of several answer markers wins. */
typedef enum kv_choice_policy {
    KV_CHOICE_LAST = 0, /* the last marker (default: models restate and correct themselves) */
    KV_CHOICE_FIRST,
} kv_choice_policy;

/* Compiled patterns; one per thread. NULL only if PCRE2 fails to compile
 * them (a bug, reported with err). */
typedef struct kv_extractor kv_extractor;
kv_extractor *kv_extractor_new(char *err, size_t errlen);
void kv_extractor_free(kv_extractor *x);

/* Removes <think>…</think> (also <thinking>, <reasoning>, <reflection>)
 * blocks and trims the rest into out. A block opened and never closed makes
 * the whole answer empty and returns KV_EXTRACT_UNTERMINATED_THINK; otherwise
 * KV_EXTRACT_OK. */
kv_extract_status kv_strip_reasoning(const kv_extractor *x, const char *s, size_t n,
                                     kv_buf *out);

/* Multiple choice with n_choices options (1..10). Recognized answer tokens:
 * A–J, full-width Ａ–Ｊ, ①–⑩, 1–10 (in "(3)", "3번" or after a marker),
 * 가나다라마바사아자차; in answer positions: after a marker (정답, 답, 정답은 …
 * 입니다, Answer/answer/ANSWER, 正解, 答え, 答案, 答, 选项, 選択肢), as "X번",
 * as "X." / "(X)" opening the answer, or as the whole answer; markdown bold
 * and brackets around the token are allowed. Sets *choice to the 0-based
 * index. Reasoning blocks are stripped first. */
kv_extract_status kv_extract_choice(const kv_extractor *x, const char *s, size_t n,
                                    int n_choices, kv_choice_policy policy, int *choice);

/* A number: \boxed{…} first, then a number after an answer marker, then the
 * last number in the text. Thousands separators (',' and LaTeX '{,}' between
 * digit groups), full-width digits, signs (+, -, −) and decimals are
 * understood; currency and unit words after the number are ignored (B13).
 * With `korean_units`, 만/억/천/조 after a number multiply it (3만 → 30000).
 * Writes the number in plain decimal form (no separators, no trailing
 * ".0") to out. */
kv_extract_status kv_extract_number(const kv_extractor *x, const char *s, size_t n,
                                    bool korean_units, kv_buf *out);

/* True when two plain decimal numbers (as written by kv_extract_number or in
 * a suite's gold) are equal as numbers. */
bool kv_numbers_equal(const char *a, const char *b);

/* A short answer for exact match: reasoning stripped, surrounding quotes,
 * markdown and final punctuation removed, and a trailing Korean copula or
 * polite ending removed from the last word ("서울입니다" → "서울", "서울이요",
 * "서울이다", "서울예요", "서울이에요"). Returns KV_EXTRACT_NONE for an empty
 * answer. */
kv_extract_status kv_extract_short(const kv_extractor *x, const char *s, size_t n,
                                   kv_buf *out);

#endif
