/* Exact match and F1 for short answers, in the conventions of the SQuAD v1.1
 * and KorQuAD v1.0 evaluation scripts (see qa.h). The scripts are Python; the
 * comments below name the Python behaviour each step reproduces. */
#include "scoring/qa.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>

#include "src/buf.h"
#include "src/text.h"

/* A token or a character: a byte range of a normalized answer. */
typedef struct qa_item {
    const char *p;
    size_t len;
} qa_item;

/* A normalized answer and its items (tokens for SQuAD, code points for
 * KorQuAD), sorted so that multiset intersection is a merge. */
typedef struct qa_answer {
    kv_buf text;
    qa_item *items;
    size_t n_items;
} qa_answer;

/* string.punctuation: the 32 ASCII punctuation characters. */
static bool is_ascii_punct(unsigned char c)
{
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
           (c >= 0x7B && c <= 0x7E);
}

/* Python re's \w on str patterns: str.isalnum() or '_' (letters are the
 * categories Lu Ll Lt Lm Lo; numbers are any Numeric_Type). */
static bool is_py_word(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               cp == '_';
    switch (u_charType((UChar32)cp)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
        return true;
    default:
        return u_getIntPropertyValue((UChar32)cp, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
    }
}

static uint32_t next_cp(const char *s, size_t n, size_t *i)
{
    if ((unsigned char)s[*i] < 0x80)
        return (unsigned char)s[(*i)++];
    return kv_utf8_next(s, n, i);
}

/* remove_punc: ''.join(ch for ch in text if ch not in string.punctuation).
 * ASCII bytes never occur inside a multi-byte sequence, so bytes suffice. */
static void remove_punct(const char *s, size_t n, kv_buf *out)
{
    kv_buf_reserve(out, n);
    for (size_t i = 0; i < n; i++)
        if (!is_ascii_punct((unsigned char)s[i]))
            kv_buf_putc(out, s[i]);
}

/* re.sub(r'\b(a|an|the)\b', ' ', text): a match is always a whole maximal
 * run of word characters, so each run that is exactly a, an or the becomes
 * one space. */
static void remove_articles(const char *s, size_t n, kv_buf *out)
{
    size_t i = 0;
    kv_buf_reserve(out, n);
    while (i < n) {
        size_t start = i;
        uint32_t cp = next_cp(s, n, &i);
        if (!is_py_word(cp)) {
            kv_buf_put(out, s + start, i - start);
            continue;
        }
        size_t end = i;
        while (end < n) {
            size_t j = end;
            if (!is_py_word(next_cp(s, n, &j)))
                break;
            end = j;
        }
        size_t len = end - start;
        const char *w = s + start;
        if ((len == 1 && w[0] == 'a') || (len == 2 && memcmp(w, "an", 2) == 0) ||
            (len == 3 && memcmp(w, "the", 3) == 0))
            kv_buf_putc(out, ' ');
        else
            kv_buf_put(out, w, len);
        i = end;
    }
}

/* KorQuAD's remove_: each of ' " 《 》 < > 〈 〉 ( ) ‘ ’ becomes a space. */
static bool is_korquad_mark(uint32_t cp)
{
    switch (cp) {
    case '\'': case '"': case '<': case '>': case '(': case ')':
    case 0x300A: /* 《 */
    case 0x300B: /* 》 */
    case 0x3008: /* 〈 */
    case 0x3009: /* 〉 */
    case 0x2018: /* ‘ */
    case 0x2019: /* ’ */
        return true;
    default:
        return false;
    }
}

static void replace_korquad_marks(const char *s, size_t n, kv_buf *out)
{
    size_t i = 0;
    kv_buf_reserve(out, n);
    while (i < n) {
        size_t start = i;
        uint32_t cp = next_cp(s, n, &i);
        if (is_korquad_mark(cp))
            kv_buf_putc(out, ' ');
        else if (cp == KV_REPLACEMENT_CHAR)
            kv_buf_put_cp(out, cp); /* an ill-formed sequence becomes U+FFFD */
        else
            kv_buf_put(out, s + start, i - start);
    }
}

/* white_space_fix: ' '.join(text.split()). */
static void fix_whitespace(const char *s, size_t n, kv_buf *out)
{
    kv_join_split_py(s, n, out);
    if (!out->p)
        kv_buf_put(out, "", 0);
}

/* Appends normalize_answer(s) of the given style to out. Returns 0 or -1. */
static int normalize_answer(kv_qa_style style, const char *s, size_t n, kv_buf *out)
{
    kv_buf a = {0}, b = {0};
    int rc = -1;
    if (style == KV_QA_KORQUAD) {
        replace_korquad_marks(s, n, &a);
        if (kv_py_lower(a.p ? a.p : "", a.len, &b) != 0)
            goto done;
        kv_buf_clear(&a);
        remove_punct(b.p ? b.p : "", b.len, &a);
        fix_whitespace(a.p ? a.p : "", a.len, out);
    } else {
        if (kv_py_lower(s, n, &a) != 0)
            goto done;
        remove_punct(a.p ? a.p : "", a.len, &b);
        kv_buf_clear(&a);
        remove_articles(b.p ? b.p : "", b.len, &a);
        fix_whitespace(a.p ? a.p : "", a.len, out);
    }
    rc = 0;
done:
    kv_buf_free(&a);
    kv_buf_free(&b);
    return rc;
}

static int item_cmp(const void *x, const void *y)
{
    const qa_item *a = x, *b = y;
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->p, b->p, m);
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

static void push_item(qa_answer *ans, size_t *cap, const char *p, size_t len)
{
    if (ans->n_items == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        ans->items = kv_xrealloc(ans->items, *cap * sizeof *ans->items);
    }
    ans->items[ans->n_items].p = p;
    ans->items[ans->n_items].len = len;
    ans->n_items++;
}

/* Normalizes s and lists its items: the whitespace tokens (SQuAD) or every
 * code point of every token (KorQuAD: the normalized text is the tokens
 * joined by single U+0020, so that is every code point but U+0020). UTF-8
 * byte equality is code point equality, so items compare as bytes. */
static int answer_init(qa_answer *ans, kv_qa_style style, const char *s, size_t n)
{
    memset(ans, 0, sizeof *ans);
    if (normalize_answer(style, s ? s : "", n, &ans->text) != 0) {
        kv_buf_free(&ans->text);
        return -1;
    }
    const char *t = ans->text.p;
    size_t len = ans->text.len, cap = 0, i = 0;
    while (i < len) {
        size_t start = i;
        if (style == KV_QA_KORQUAD) {
            uint32_t cp = next_cp(t, len, &i);
            if (cp != ' ')
                push_item(ans, &cap, t + start, i - start);
        } else {
            while (i < len && t[i] != ' ')
                i++;
            push_item(ans, &cap, t + start, i - start);
            i++; /* the single separating space */
        }
    }
    if (ans->n_items > 1)
        qsort(ans->items, ans->n_items, sizeof *ans->items, item_cmp);
    return 0;
}

static void answer_free(qa_answer *ans)
{
    kv_buf_free(&ans->text);
    free(ans->items);
}

/* sum((Counter(a) & Counter(b)).values()) on sorted item lists. */
static size_t common_count(const qa_answer *a, const qa_answer *b)
{
    size_t i = 0, j = 0, same = 0;
    while (i < a->n_items && j < b->n_items) {
        int c = item_cmp(&a->items[i], &b->items[j]);
        if (c < 0) {
            i++;
        } else if (c > 0) {
            j++;
        } else {
            same++;
            i++;
            j++;
        }
    }
    return same;
}

/* f1_score as both scripts compute it, in the same floating-point order. */
static double f1_of(const qa_answer *hyp, const qa_answer *ref)
{
    size_t same = common_count(hyp, ref);
    if (same == 0)
        return 0.0;
    double precision = 1.0 * (double)same / (double)hyp->n_items;
    double recall = 1.0 * (double)same / (double)ref->n_items;
    return (2 * precision * recall) / (precision + recall);
}

int kv_qa_score(kv_qa_style style, const char *hyp, size_t hyp_len, const char *const *refs,
                const size_t *ref_lens, size_t n_refs, struct kv_qa_score *out)
{
    out->exact_match = 0.0;
    out->f1 = 0.0;
    if (n_refs == 0 || hyp_len > INT32_MAX)
        return -1;
    for (size_t r = 0; r < n_refs; r++)
        if (ref_lens[r] > INT32_MAX)
            return -1;

    qa_answer h;
    if (answer_init(&h, style, hyp, hyp_len) != 0)
        return -1;
    double best_em = 0.0, best_f1 = 0.0;
    int rc = 0;
    for (size_t r = 0; r < n_refs; r++) {
        qa_answer g;
        if (answer_init(&g, style, refs[r], ref_lens[r]) != 0) {
            rc = -1;
            break;
        }
        double em = (h.text.len == g.text.len && memcmp(h.text.p, g.text.p, h.text.len) == 0)
                        ? 1.0
                        : 0.0;
        double f1 = f1_of(&h, &g);
        if (em > best_em)
            best_em = em;
        if (f1 > best_f1)
            best_f1 = f1;
        answer_free(&g);
    }
    answer_free(&h);
    if (rc == 0) {
        out->exact_match = best_em;
        out->f1 = best_f1;
    }
    return rc;
}
