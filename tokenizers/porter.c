/*
 * The Porter stemmer with NLTK's extensions (see porter.h for the reference).
 *
 * The word is stemmed in place in the caller's buffer: every step only
 * shortens it or swaps a suffix for one no longer than itself, so the buffer
 * never has to grow. A step is a list of (suffix, replacement, condition)
 * rules where the first rule whose suffix matches decides: if its condition
 * fails, the step leaves the word alone and no later rule is tried. That
 * "first match decides" reading is what makes e.g. "rational" survive step 2
 * (-ational matches, its stem "r" has measure 0, and -tional is never tried).
 */
#include "tokenizers/porter.h"

#include <stdbool.h>
#include <string.h>

static bool is_vowel_letter(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* Porter's consonant: not a, e, i, o, u, and not a 'y' that follows a
 * consonant. A run of y's alternates, so walk back to the first letter that
 * is not 'y' (or to the start, where 'y' is a consonant) and flip once per
 * 'y' passed. */
static bool is_cons(const char *w, size_t i)
{
    bool flip = false;
    for (;;) {
        char c = w[i];
        bool r;
        if (is_vowel_letter(c))
            r = false;
        else if (c != 'y' || i == 0)
            r = true;
        else {
            flip = !flip;
            i--;
            continue;
        }
        return flip ? !r : r;
    }
}

/* The measure m of w[0..n): the number of vowel-run/consonant-run pairs in
 * [C](VC){m}[V]. */
static int measure(const char *w, size_t n)
{
    int m = 0;
    bool prev_vowel = false;
    for (size_t i = 0; i < n; i++) {
        bool c = is_cons(w, i);
        if (c && prev_vowel)
            m++;
        prev_vowel = !c;
    }
    return m;
}

static bool has_vowel(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_cons(w, i))
            return true;
    return false;
}

/* *d: ends with two equal consonants. */
static bool ends_double_cons(const char *w, size_t n)
{
    return n >= 2 && w[n - 1] == w[n - 2] && is_cons(w, n - 1);
}

/* *o: ends consonant–vowel–consonant with the last not w, x or y; NLTK also
 * accepts a whole two-letter stem vowel–consonant (any consonant). */
static bool ends_cvc(const char *w, size_t n)
{
    if (n >= 3 && is_cons(w, n - 3) && !is_cons(w, n - 2) && is_cons(w, n - 1) && w[n - 1] != 'w' &&
        w[n - 1] != 'x' && w[n - 1] != 'y')
        return true;
    return n == 2 && !is_cons(w, 0) && is_cons(w, 1);
}

/* Suffixes are a few bytes long: a plain loop from the end beats memcmp. */
static bool ends_with(const char *w, size_t n, const char *suffix, size_t slen)
{
    if (n < slen)
        return false;
    for (size_t i = 1; i <= slen; i++)
        if (w[n - i] != suffix[slen - i])
            return false;
    return true;
}

/* Replaces the last `slen` bytes of w[0..*n) by `rep` (never longer). */
static void replace_tail(char *w, size_t *n, size_t slen, const char *rep)
{
    size_t rlen = strlen(rep);
    memcpy(w + *n - slen, rep, rlen);
    *n = *n - slen + rlen;
}

enum cond {
    COND_M_GT0, /* measure of the stem > 0 */
    COND_M_GT1, /* measure of the stem > 1 */
    COND_ION,   /* measure > 1 and the stem ends in s or t */
    COND_LOGI,  /* measure of the stem plus the suffix's 'l' > 0 */
};

typedef struct rule {
    const char *suffix;
    size_t slen;
    const char *rep;
    enum cond cond;
} rule;

/* A rule with its suffix length computed at compile time. */
#define RULE(suffix, rep, cond)                                                                    \
    {                                                                                              \
        suffix, sizeof(suffix) - 1, rep, cond                                                      \
    }

static bool cond_holds(enum cond c, const char *w, size_t stem_len)
{
    switch (c) {
    case COND_M_GT0:
        return measure(w, stem_len) > 0;
    case COND_M_GT1:
        return measure(w, stem_len) > 1;
    case COND_ION:
        return measure(w, stem_len) > 1 && (w[stem_len - 1] == 's' || w[stem_len - 1] == 't');
    case COND_LOGI:
        return measure(w, stem_len + 1) > 0;
    }
    return false;
}

static void apply_rules(char *w, size_t *n, const rule *rules, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        size_t slen = rules[i].slen;
        if (!ends_with(w, *n, rules[i].suffix, slen))
            continue;
        if (cond_holds(rules[i].cond, w, *n - slen))
            replace_tail(w, n, slen, rules[i].rep);
        return;
    }
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Plurals. */
static void step1a(char *w, size_t *n)
{
    if (*n == 4 && ends_with(w, *n, "ies", 3)) {
        replace_tail(w, n, 3, "ie");
        return;
    }
    if (ends_with(w, *n, "sses", 4))
        replace_tail(w, n, 4, "ss");
    else if (ends_with(w, *n, "ies", 3))
        replace_tail(w, n, 3, "i");
    else if (ends_with(w, *n, "ss", 2))
        return;
    else if (ends_with(w, *n, "s", 1))
        *n -= 1;
}

/* -ed, -ing and the tidying after them. */
static void step1b(char *w, size_t *n)
{
    if (ends_with(w, *n, "ied", 3)) {
        replace_tail(w, n, 3, *n == 4 ? "ie" : "i");
        return;
    }
    if (ends_with(w, *n, "eed", 3)) {
        if (measure(w, *n - 3) > 0)
            *n -= 1;
        return;
    }
    size_t stem;
    if (ends_with(w, *n, "ed", 2) && has_vowel(w, *n - 2))
        stem = *n - 2;
    else if (ends_with(w, *n, "ing", 3) && has_vowel(w, *n - 3))
        stem = *n - 3;
    else
        return;
    /* Removing at least two bytes leaves room for the 'e' appended below. */
    *n = stem;
    if (ends_with(w, *n, "at", 2) || ends_with(w, *n, "bl", 2) || ends_with(w, *n, "iz", 2)) {
        w[(*n)++] = 'e';
    } else if (ends_double_cons(w, *n)) {
        char last = w[*n - 1];
        if (last != 'l' && last != 's' && last != 'z')
            *n -= 1;
    } else if (measure(w, *n) == 1 && ends_cvc(w, *n)) {
        w[(*n)++] = 'e';
    }
}

/* Final y becomes i after a consonant that is not the word's first letter. */
static void step1c(char *w, size_t *n)
{
    if (ends_with(w, *n, "y", 1) && *n - 1 > 1 && is_cons(w, *n - 2))
        w[*n - 1] = 'i';
}

static const rule step2_rules[] = {
    RULE("ational", "ate", COND_M_GT0), RULE("tional", "tion", COND_M_GT0),
    RULE("enci", "ence", COND_M_GT0),   RULE("anci", "ance", COND_M_GT0),
    RULE("izer", "ize", COND_M_GT0),    RULE("bli", "ble", COND_M_GT0),
    RULE("alli", "al", COND_M_GT0),     RULE("entli", "ent", COND_M_GT0),
    RULE("eli", "e", COND_M_GT0),       RULE("ousli", "ous", COND_M_GT0),
    RULE("ization", "ize", COND_M_GT0), RULE("ation", "ate", COND_M_GT0),
    RULE("ator", "ate", COND_M_GT0),    RULE("alism", "al", COND_M_GT0),
    RULE("iveness", "ive", COND_M_GT0), RULE("fulness", "ful", COND_M_GT0),
    RULE("ousness", "ous", COND_M_GT0), RULE("aliti", "al", COND_M_GT0),
    RULE("iviti", "ive", COND_M_GT0),   RULE("biliti", "ble", COND_M_GT0),
    RULE("fulli", "ful", COND_M_GT0),   RULE("logi", "log", COND_LOGI),
};

static void step2(char *w, size_t *n)
{
    /* NLTK tries -alli first and, when it applies, runs step 2 again on the
     * result (so "-ationalli" can lose both suffixes). */
    while (ends_with(w, *n, "alli", 4) && measure(w, *n - 4) > 0)
        *n -= 2;
    apply_rules(w, n, step2_rules, COUNT(step2_rules));
}

static const rule step3_rules[] = {
    RULE("icate", "ic", COND_M_GT0), RULE("ative", "", COND_M_GT0),
    RULE("alize", "al", COND_M_GT0), RULE("iciti", "ic", COND_M_GT0),
    RULE("ical", "ic", COND_M_GT0),  RULE("ful", "", COND_M_GT0),
    RULE("ness", "", COND_M_GT0),
};

static const rule step4_rules[] = {
    RULE("al", "", COND_M_GT1),   RULE("ance", "", COND_M_GT1), RULE("ence", "", COND_M_GT1),
    RULE("er", "", COND_M_GT1),   RULE("ic", "", COND_M_GT1),   RULE("able", "", COND_M_GT1),
    RULE("ible", "", COND_M_GT1), RULE("ant", "", COND_M_GT1),  RULE("ement", "", COND_M_GT1),
    RULE("ment", "", COND_M_GT1), RULE("ent", "", COND_M_GT1),  RULE("ion", "", COND_ION),
    RULE("ou", "", COND_M_GT1),   RULE("ism", "", COND_M_GT1),  RULE("ate", "", COND_M_GT1),
    RULE("iti", "", COND_M_GT1),  RULE("ous", "", COND_M_GT1),  RULE("ive", "", COND_M_GT1),
    RULE("ize", "", COND_M_GT1),
};

/* Final -e: dropped when m > 1, or when m = 1 and the stem is not *o. */
static void step5a(char *w, size_t *n)
{
    if (!ends_with(w, *n, "e", 1))
        return;
    int m = measure(w, *n - 1);
    if (m > 1 || (m == 1 && !ends_cvc(w, *n - 1)))
        *n -= 1;
}

/* -ll becomes -l when the word without its last 'l' has m > 1. */
static void step5b(char *w, size_t *n)
{
    if (ends_with(w, *n, "ll", 2) && measure(w, *n - 1) > 1)
        *n -= 1;
}

/* NLTK's table of irregular forms: these words bypass the algorithm. */
static const struct {
    const char *word;
    size_t len;
    const char *stem;
} irregular[] = {
    {"sky", 3, "sky"},         {"skies", 5, "sky"},        {"dying", 5, "die"},
    {"lying", 5, "lie"},       {"tying", 5, "tie"},        {"news", 4, "news"},
    {"innings", 7, "inning"},  {"inning", 6, "inning"},    {"outings", 7, "outing"},
    {"outing", 6, "outing"},   {"cannings", 8, "canning"}, {"canning", 7, "canning"},
    {"howe", 4, "howe"},       {"proceed", 7, "proceed"},  {"exceed", 6, "exceed"},
    {"succeed", 7, "succeed"},
};

size_t kv_porter_stem(const char *word, size_t len, char *out)
{
    for (size_t i = 0; i < COUNT(irregular); i++) {
        if (irregular[i].len == len && memcmp(word, irregular[i].word, len) == 0) {
            size_t sl = strlen(irregular[i].stem);
            memmove(out, irregular[i].stem, sl);
            out[sl] = '\0';
            return sl;
        }
    }
    if (out != word)
        memmove(out, word, len);
    size_t n = len;
    if (n > 2) {
        step1a(out, &n);
        step1b(out, &n);
        step1c(out, &n);
        step2(out, &n);
        apply_rules(out, &n, step3_rules, COUNT(step3_rules));
        apply_rules(out, &n, step4_rules, COUNT(step4_rules));
        step5a(out, &n);
        step5b(out, &n);
    }
    out[n] = '\0';
    return n;
}
