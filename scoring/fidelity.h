/*
 * fidelity.h — language fidelity: did the model answer in the language it
 * was asked for (DESIGN.md "language fidelity")? A Korean prompt answered in
 * English or Chinese is a failure that chrF and exact match only half see.
 *
 * Method: the share of letters written in the expected script(s), by ICU
 * character properties (no hand-written tables):
 *   - a letter is a code point whose general category is L* (Lu, Ll, Lt, Lm,
 *     Lo: u_charType via U_GET_GC_MASK & U_GC_L_MASK). Digits, punctuation,
 *     symbols and spaces are never letters, so numbers and symbols do not count;
 *   - its script is uscript_getScript; a letter whose script is Common or
 *     Inherited takes the first script of its Script_Extensions
 *     (uscript_getScriptExtensions: U+30FC KATAKANA-HIRAGANA PROLONGED SOUND
 *     MARK → Hiragana), and is not counted when it has none;
 *   - text that is not prose in any language is removed first: code (```
 *     spans and blocks anywhere, ~~~ fenced blocks at a line start — an
 *     unclosed fence runs to the end — and `inline` or ``inline`` code on one
 *     line), URLs (http://, https://, ftp://, www. followed by ASCII URL
 *     characters; non-ASCII text right after a URL stays prose) and e-mail
 *     addresses. These are found with PCRE2 (as scoring/extract.c).
 *
 * Languages (BCP 47-ish tag; only the primary subtag before '-' or '_' is
 * used, case-insensitively, so zh-Hant, zh-TW and zh_CN are all "zh": Hans
 * and Hant are both Han script and cannot be told apart here):
 *   ko            expected Hangul; Han tolerated (Korean text may contain
 *                 Hanja): Han letters count as "leakage" (han_share) and
 *                 toward the accepted share, but fidelity fails when Han
 *                 letters outnumber Hangul letters (Chinese, not Korean
 *                 with Hanja).
 *   ja            expected Hiragana, Katakana, Han; with at least
 *                 ja_kana_min_letters letters, at least one kana is required
 *                 (running Japanese always has kana; all-Han text of that
 *                 length is Chinese).
 *   zh, yue       expected Han, Bopomofo.
 *   en fr de es it pt nl sv da no nb nn fi is et lv lt pl cs sk sl hr bs ro
 *   hu tr az vi id ms tl sw ca eu gl ga cy sq af uz
 *                 expected Latin.
 *   ru uk be bg mk kk ky mn tg  Cyrillic.   el  Greek.   he yi  Hebrew.
 *   ar fa ur ps  Arabic.   hi mr ne sa  Devanagari.   bn as  Bengali.
 *   th  Thai.   lo  Lao.   km  Khmer.   my  Myanmar.   ka  Georgian.
 *   hy  Armenian.   am ti  Ethiopic.   ta  Tamil.   te  Telugu.
 *   kn  Kannada.   ml  Malayalam.   gu  Gujarati.   pa  Gurmukhi.   si  Sinhala.
 *
 * Verdict (letters = counted letters after the exclusions):
 *   letters < min_letters (default 2)                → undetermined (digits only,
 *                                                       one letter, empty: not a failure)
 *   (expected + tolerated) / letters >= threshold (default 0.5), tolerated
 *   <= expected, and the ja kana rule holds         → ok ("answered in the
 *                                                       requested language")
 *   otherwise                                        → wrong language
 * The default threshold 0.5 means "mostly in the requested language": a
 * Korean answer that quotes English terms (Python, API, GPU) stays Korean;
 * an answer mostly in English does not.
 *
 * Exemption: the language passed is the language the answer should be in.
 * For an item that asks for another language (translate ko→en, "answer in
 * English"), pass the item's target_lang, not the prompt's language.
 *
 * Pure: no I/O, no globals; a checker holds compiled patterns and scratch
 * space (one per thread).
 */
#ifndef KOEVAL_FIDELITY_H
#define KOEVAL_FIDELITY_H

#include <stdbool.h>
#include <stddef.h>

/* Error codes (negative). */
#define KV_FID_OK 0
#define KV_FID_ERR_LANG (-1)  /* language not in the table above */
#define KV_FID_ERR_REGEX (-2) /* PCRE2 or ICU failure (a bug) */

typedef enum kv_fidelity_verdict {
    KV_FIDELITY_OK = 0,       /* answered in the requested language */
    KV_FIDELITY_WRONG,        /* answered in another language */
    KV_FIDELITY_UNDETERMINED, /* too few letters to tell */
} kv_fidelity_verdict;

/* "ok", "wrong_language", "undetermined" (as stored and reported). */
const char *kv_fidelity_verdict_name(kv_fidelity_verdict v);

/* Letter counts reported by script group (for leakage and the report). */
typedef enum kv_script_group {
    KV_SCRIPT_HANGUL = 0,
    KV_SCRIPT_HAN,
    KV_SCRIPT_KANA, /* Hiragana and Katakana */
    KV_SCRIPT_LATIN,
    KV_SCRIPT_CYRILLIC,
    KV_SCRIPT_OTHER,
    KV_SCRIPT_GROUPS
} kv_script_group;

/* "hangul", "han", "kana", "latin", "cyrillic", "other". */
const char *kv_script_group_name(kv_script_group g);

typedef struct kv_fidelity_opts {
    double threshold;           /* 0–1, default 0.5 */
    size_t min_letters;         /* default 2 */
    size_t ja_kana_min_letters; /* default 6 */
} kv_fidelity_opts;

kv_fidelity_opts kv_fidelity_defaults(void);

typedef struct kv_fidelity {
    kv_fidelity_verdict verdict;
    size_t letters;                    /* counted letters (code points) */
    size_t expected;                   /* letters in the expected scripts */
    size_t tolerated;                  /* letters in tolerated scripts (Han for ko) */
    size_t by_group[KV_SCRIPT_GROUPS]; /* letters per group; they sum to `letters` */
    kv_script_group dominant;          /* group with most letters (first on ties;
                                          KV_SCRIPT_OTHER when letters == 0) */
    double share;                      /* expected / letters, 0–1 (0 when no letters) */
    double han_share;                  /* Han letters / letters, 0–1: Han leakage in ko */
    double latin_share;                /* Latin letters / letters, 0–1: Latin leakage in ko */
    size_t excluded_bytes;             /* bytes removed as code, URL or e-mail */
} kv_fidelity;

typedef struct kv_fidelity_checker kv_fidelity_checker;

/* Creates a checker (options copied; NULL = defaults). Returns NULL only if
 * the patterns fail to compile (a bug), with err set. */
kv_fidelity_checker *kv_fidelity_new(const kv_fidelity_opts *o, char *err, size_t errlen);
void kv_fidelity_free(kv_fidelity_checker *f);

/* True when `lang` is in the table above. */
bool kv_fidelity_lang_known(const char *lang);

/* Fidelity of answer s[0..n) (UTF-8; ill-formed bytes become U+FFFD, which
 * is not a letter) to language `lang` (the item's target language). Returns
 * KV_FID_OK, or KV_FID_ERR_LANG / KV_FID_ERR_REGEX with err set (out is
 * then zeroed). */
int kv_fidelity_check(kv_fidelity_checker *f, const char *lang, const char *s, size_t n,
                      kv_fidelity *out, char *err, size_t errlen);

/* Totals over many answers (one per model × language, say). Start from {0}. */
typedef struct kv_fidelity_sum {
    size_t answers, ok, wrong, undetermined;
    double share, han_share, latin_share; /* sums over determined answers */
} kv_fidelity_sum;

void kv_fidelity_sum_add(kv_fidelity_sum *sum, const kv_fidelity *f);

/* Rate of answers in the requested language, 0–1: ok / (ok + wrong) —
 * undetermined answers are left out of the denominator. 0 when none is
 * determined. */
double kv_fidelity_rate(const kv_fidelity_sum *sum);

/* Mean share, Han share and Latin share over the determined answers (0–1). */
void kv_fidelity_means(const kv_fidelity_sum *sum, double *share, double *han_share,
                       double *latin_share);

#endif
