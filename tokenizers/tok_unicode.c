/*
 * koeval's `unicode` tokenizer for ROUGE, EM and F1: rouge-score's idea of a
 * token (lowercase words, punctuation dropped) without its [a-z0-9]-only
 * filter, so that Korean, Chinese and Japanese are scored at all.
 *
 * Rules, applied in this order:
 *  1. The segment is lowercased as Python's str.lower() (kv_py_lower).
 *  2. Python whitespace (kv_is_py_space), every punctuation character (ICU
 *     general category P*: Pc Pd Ps Pe Pi Pf Po), every symbol (S*: Sm Sc Sk
 *     So, which includes emoji and U+FFFD) and U+200B ZERO WIDTH SPACE
 *     separate words and are not part of any token.
 *  3. Characters of the scripts written without spaces — Han, Hiragana and
 *     Katakana (ICU uscript_getScript: HAN, HIRAGANA, KATAKANA,
 *     KATAKANA_OR_HIRAGANA, plus Common-script characters whose
 *     Script_Extensions name Hiragana or Katakana, such as the prolonged
 *     sound mark U+30FC) — are each a token of their own, even inside a word:
 *     "東京タワーに" → 東 京 タ ワ ー に.
 *  4. Combining marks (M*: Mn Mc Me, e.g. the kana voicing marks U+3099 and
 *     variation selectors) stay with the character before them: they are
 *     appended to its token, or dropped with it when it was a separator.
 *  5. Other format and control characters (Cf, Cc that are not whitespace:
 *     ZWJ, ZWNJ, U+2060, BOM …) are dropped without separating words.
 *  6. Everything else — Hangul syllables and jamo, Latin and other letters,
 *     digits — accumulates into whole words: "서울은 GPT-4를" → 서울은 gpt 4를.
 * No Unicode normalization is done here: callers normalize first (--norm).
 * `flags` is ignored: the Porter stemmer (KV_TOK_STEM) is for English only.
 * Ill-formed UTF-8 decodes to U+FFFD, a symbol, and therefore separates.
 */
#include <stdbool.h>
#include <stdint.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "src/text.h"
#include "tokenizers/tokenizer.h"

typedef enum cls {
    CLS_SEP,   /* whitespace, punctuation, symbols: ends the current token */
    CLS_SPLIT, /* Han/Kana: a token by itself */
    CLS_MARK,  /* combining mark: joins the preceding character */
    CLS_DROP,  /* format/control: ignored */
    CLS_WORD,  /* part of a whole word */
} cls;

static cls classify_ascii(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))
        return CLS_WORD;
    if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20))
        return CLS_SEP;
    if (c < 0x20 || c == 0x7F)
        return CLS_DROP;
    return CLS_SEP; /* every other printable ASCII character is P* or S* */
}

static cls classify(uint32_t cp)
{
    if (cp < 0x80)
        return classify_ascii((unsigned char)cp);
    if (kv_is_py_space(cp) || cp == 0x200B)
        return CLS_SEP;
    UChar32 c = (UChar32)cp;
    uint32_t gc = U_GET_GC_MASK(c);
    if (gc & (U_GC_P_MASK | U_GC_S_MASK))
        return CLS_SEP;
    if (gc & U_GC_M_MASK)
        return CLS_MARK;
    if (gc & (U_GC_CF_MASK | U_GC_CC_MASK))
        return CLS_DROP;
    UErrorCode err = U_ZERO_ERROR;
    UScriptCode sc = uscript_getScript(c, &err);
    if (U_FAILURE(err))
        return CLS_WORD;
    switch (sc) {
    case USCRIPT_HAN:
    case USCRIPT_HIRAGANA:
    case USCRIPT_KATAKANA:
    case USCRIPT_KATAKANA_OR_HIRAGANA:
        return CLS_SPLIT;
    case USCRIPT_COMMON:
        if (uscript_hasScript(c, USCRIPT_HIRAGANA) || uscript_hasScript(c, USCRIPT_KATAKANA))
            return CLS_SPLIT;
        return CLS_WORD;
    default:
        return CLS_WORD;
    }
}

enum state { IN_NONE, IN_WORD, IN_SPLIT };

int kv_tok_unicode(const char *s, size_t n, int flags, kv_buf *out)
{
    kv_buf lower = {0};
    if (kv_py_lower(s, n, &lower) != 0) {
        kv_buf_free(&lower);
        return -1;
    }
    const char *t = lower.p ? lower.p : "";
    size_t tn = lower.len;
    size_t start_len = out->len;
    kv_buf_reserve(out, tn + 1);
    enum state st = IN_NONE;
    size_t i = 0;
    while (i < tn) {
        size_t at = i;
        uint32_t cp;
        if ((unsigned char)t[i] < 0x80)
            cp = (unsigned char)t[i++];
        else
            cp = kv_utf8_next(t, tn, &i);
        cls k = classify(cp);
        switch (k) {
        case CLS_SEP:
            st = IN_NONE;
            continue;
        case CLS_DROP:
            continue;
        case CLS_MARK:
            if (st == IN_NONE)
                continue;
            break;
        case CLS_SPLIT:
            if (out->len > start_len)
                kv_buf_putc(out, ' ');
            st = IN_SPLIT;
            break;
        case CLS_WORD:
            if (st != IN_WORD && out->len > start_len)
                kv_buf_putc(out, ' ');
            st = IN_WORD;
            break;
        }
        /* The bytes are well-formed here: an ill-formed sequence decodes
         * to U+FFFD, a symbol, and never reaches this copy. */
        kv_buf_put(out, t + at, i - at);
    }
    if (!out->p)
        kv_buf_put(out, "", 0);
    kv_buf_free(&lower);
    return 0;
}
