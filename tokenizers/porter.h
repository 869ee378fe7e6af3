/*
 * porter.h — the Porter stemmer as rouge-score 0.1.2 uses it.
 *
 * rouge-score stems with NLTK's `PorterStemmer()` in its default mode,
 * NLTK_EXTENSIONS (checked against nltk 3.8): Porter's 1980 algorithm plus
 * Martin Porter's later changes and NLTK's own ones — a small table of
 * irregular forms (dying→die, skies→sky, news, proceed …), "ies"/"ied" on
 * four-letter words keep their "ie" (dies→die), y→i only after a consonant
 * that is not the first letter (happy→happi, enjoy→enjoy), -alli handled
 * before the other step-2 suffixes and re-run, -fulli and -logi rules, and
 * the extended "cvc" test that accepts a two-letter vowel–consonant stem.
 */
#ifndef KOEVAL_PORTER_H
#define KOEVAL_PORTER_H

#include <stddef.h>

/* Stems word[0..len) as NLTK 3.8 `PorterStemmer(mode=NLTK_EXTENSIONS)
 * .stem(word)`.
 *
 * The word must already be lowercase (rouge-score passes tokens of
 * [a-z0-9]+); bytes other than a, e, i, o, u and y count as consonants, as
 * in NLTK, so digits are consonants. Words of one or two bytes are returned
 * unchanged; note that rouge-score itself only stems tokens longer than 3.
 *
 * `out` is owned by the caller and must have room for len + 1 bytes: a stem
 * is never longer than its word. The stem is written there NUL-terminated
 * (out may equal word: stemming in place is allowed). Returns the stem's
 * length in bytes (0 only for an empty word). Pure function, thread-safe. */
size_t kv_porter_stem(const char *word, size_t len, char *out);

#endif
