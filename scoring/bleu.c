#include "scoring/bleu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/ngram.h"
#include "scoring/symtab.h"
#include "scoring/trie.h"
#include "src/text.h"

enum tok_kind { TOK_GENERIC, TOK_13A, TOK_CHAR };

struct kv_bleu {
    kv_bleu_opts o;
    enum tok_kind tok_kind; /* 13a and char have span-based fast paths */
    kv_buf *sides;          /* per side: its lowercased, replaced or tokenized text */
    size_t side_cap;
    size_t *tstart;         /* first token id of each side */
    kv_buf text;   /* spare buffer */
    kv_buf lower;  /* scratch for lowercasing */
    kv_span *spans;
    size_t spans_cap;
    kv_span *tmp; /* one side's spans */
    size_t tmp_cap;
    uint32_t *ids; /* token ids of every side, back to back */
    size_t ids_cap;
    kv_symtab syms;        /* token bytes -> ids, per segment */
    kv_gram_counter gc;    /* n-gram matching, any number of references */
    kv_trie trie;          /* n-gram matching, one reference, small ids (scoring/trie.h) */
    uint8_t *small;        /* small ids: reference, pad, hypothesis, pad */
    size_t small_cap;
    uint32_t *cpmap;       /* tok char: BMP code point -> cpstamp << 8 | small id */
    uint32_t cpstamp;
};

static int max_order_of(const kv_bleu_opts *o)
{
    return o->max_order > 0 ? o->max_order : 4;
}

static double smooth_default(kv_bleu_smooth m)
{
    return m == KV_SMOOTH_FLOOR ? 0.1 : m == KV_SMOOTH_ADD_K ? 1.0 : 0.0;
}

kv_bleu *kv_bleu_new(const kv_bleu_opts *o)
{
    kv_bleu *b = kv_xcalloc(1, sizeof *b);
    b->o = *o;
    if (!b->o.tokenizer)
        b->o.tokenizer = kv_tokenizer_find("13a");
    b->tok_kind = b->o.tokenizer->fn == kv_tok_13a   ? TOK_13A
                  : b->o.tokenizer->fn == kv_tok_char ? TOK_CHAR
                                                      : TOK_GENERIC;
    return b;
}

void kv_bleu_free(kv_bleu *b)
{
    if (!b)
        return;
    kv_buf_free(&b->text);
    kv_buf_free(&b->lower);
    for (size_t k = 0; k < b->side_cap; k++)
        kv_buf_free(&b->sides[k]);
    free(b->sides);
    free(b->tstart);

    free(b->spans);
    free(b->tmp);
    free(b->ids);
    kv_symtab_free(&b->syms);
    kv_gc_free(&b->gc);
    kv_trie_free(&b->trie);
    free(b->small);
    free(b->cpmap);
    free(b);
}

/* lowercase → rstrip → tokenizer, appended to out (sacreBLEU's
 * BLEU._preprocess_segment). */
static int preprocess(const kv_bleu_opts *o, kv_buf *scratch, const char *s, size_t n,
                      kv_buf *out)
{
    if (o->lowercase) {
        kv_buf_clear(scratch);
        if (kv_py_lower(s, n, scratch) != 0)
            return -1;
        s = scratch->p ? scratch->p : "";
        n = scratch->len;
    }
    n = kv_rstrip_py(s, n);
    const kv_tokenizer *tok = o->tokenizer ? o->tokenizer : kv_tokenizer_find("13a");
    return tok->fn(s, n, 0, out);
}

int kv_bleu_preprocess(const kv_bleu_opts *o, const char *s, size_t n, kv_buf *out)
{
    kv_buf scratch = {0};
    int rc = preprocess(o, &scratch, s, n, out);
    kv_buf_free(&scratch);
    return rc;
}

/* Side k's text as BLEU sees it before tokenizing: lowercased (into the
 * side's own buffer) when asked, then right-stripped. */
static int side_text(kv_bleu *b, size_t k, const char **s, size_t *n)
{
    if (b->o.lowercase) {
        kv_buf_clear(&b->sides[k]);
        if (kv_py_lower(*s, *n, &b->sides[k]) != 0)
            return -1;
        *s = b->sides[k].p ? b->sides[k].p : "";
        *n = b->sides[k].len;
    }
    *n = kv_rstrip_py(*s, *n);
    return 0;
}

static void reserve_ids(kv_bleu *b, size_t need)
{
    if (need > b->ids_cap) {
        b->ids_cap = need * 2;
        b->ids = kv_xrealloc(b->ids, b->ids_cap * sizeof *b->ids);
    }
}

static uint8_t *reserve_small(kv_bleu *b, size_t need)
{
    if (need + 1 > b->small_cap) { /* never NULL, even for empty sides */
        b->small_cap = (need + 1) * 2;
        free(b->small);
        b->small = kv_xcalloc(b->small_cap, 1);
    }
    return b->small;
}

/* One reference (the common case) is counted by kv_trie_match over byte
 * ids: the reference's symbols are 1..D, D + 1 stands for every symbol no
 * reference has (its n-grams can match nothing), so D is at most 254. */
#define SMALL_MAX_SYMBOLS 254

/* Python whitespace among ASCII bytes. */
static const unsigned char ascii_space[128] = {
    [0x09] = 1, [0x0A] = 1, [0x0B] = 1, [0x0C] = 1, [0x0D] = 1,
    [0x1C] = 1, [0x1D] = 1, [0x1E] = 1, [0x1F] = 1, [0x20] = 1,
};

/*
 * The char tokens (code points but whitespace) of s[0..n) as small dense ids
 * (see SMALL_MAX_SYMBOLS): a reference (add = true) gives new code points the ids
 * D + 1, D + 2 …; a hypothesis looks them up, D + 1 standing for every code
 * point no reference has. Returns the count, or SIZE_MAX when the side does
 * not fit the small ids (a code point beyond the BMP, more than
 * SMALL_MAX_SYMBOLS distinct ones).
 */
static size_t char_dense(kv_bleu *b, const char *s, size_t n, bool add, unsigned *D,
                         uint8_t *out)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t *map = b->cpmap, st = b->cpstamp;
    unsigned d = *D;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        uint32_t cp;
        if (c < 0x80) {
            i++;
            if (ascii_space[c])
                continue;
            cp = c;
        } else if (c >= 0xE1 && i + 2 < n && (u[i + 1] & 0xC0) == 0x80 &&
                   (u[i + 2] & 0xC0) == 0x80 && c <= 0xEF && (c != 0xED || u[i + 1] < 0xA0)) {
            /* a well-formed three-byte sequence (all of Hangul) */
            cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(u[i + 1] & 0x3F) << 6 | (u[i + 2] & 0x3F);
            i += 3;
            if (c <= 0xE3 && kv_is_py_space(cp))
                continue;
        } else {
            cp = kv_utf8_next(s, n, &i);
            if (kv_is_py_space(cp))
                continue;
            if (cp > 0xFFFF)
                return SIZE_MAX;
        }
        uint32_t v = map[cp];
        bool seen = (v >> 8) == st;
        unsigned id;
        if (add) {
            id = seen ? (v & 0xFF) : d + 1;
            d += !seen;
            map[cp] = st << 8 | (id & 0xFF);
        } else {
            id = seen ? (v & 0xFF) : d + 1;
        }
        out[k++] = (uint8_t)id;
    }
    if (d > SMALL_MAX_SYMBOLS)
        return SIZE_MAX;
    *D = d;
    return k;
}

/* Fills the totals, lengths and (with one reference) reference length. */
static void fill_lengths(kv_bleu_stats *out, uint64_t hyp_len, uint64_t ref_len, int N)
{
    for (int n = 1; n <= N; n++)
        out->total[n - 1] = hyp_len >= (uint64_t)n ? hyp_len - (uint64_t)n + 1 : 0;
    out->sys_len = hyp_len;
    out->ref_len = ref_len;
}

/* tok char with exactly one reference (side r; the hypothesis is side h):
 * code points straight to small dense ids. Returns 0 with out filled, 1 when
 * the segment does not fit the small ids (nothing is changed that the
 * general path needs), -1 when lowercasing failed. */
static int char_single(kv_bleu *b, size_t r, const char *ref, size_t ref_len, size_t h,
                       const char *hyp, size_t hyp_len, int N, kv_bleu_stats *out)
{
    if (side_text(b, r, &ref, &ref_len) != 0 || side_text(b, h, &hyp, &hyp_len) != 0)
        return -1;
    if (!b->cpmap)
        b->cpmap = kv_xcalloc(0x10000, sizeof *b->cpmap);
    if (++b->cpstamp >= (1u << 24)) {
        memset(b->cpmap, 0, 0x10000 * sizeof *b->cpmap);
        b->cpstamp = 1;
    }
    uint8_t *rd = reserve_small(b, ref_len + hyp_len); /* bytes bound the tokens */
    unsigned D = 0;
    size_t RL = char_dense(b, ref, ref_len, true, &D, rd);
    if (RL == SIZE_MAX)
        return 1;
    uint8_t *hd = rd + RL;
    size_t HL = char_dense(b, hyp, hyp_len, false, &D, hd);
    if (HL == SIZE_MAX) /* the hypothesis has a code point beyond the BMP */
        return 1;
    if (!kv_trie_match(&b->trie, rd, RL, hd, HL, (size_t)D + 2, N, false, out->correct))
        return 1;
    fill_lengths(out, HL, RL, N);
    return 0;
}

/* Word n-grams with exactly one reference, from the token ids (the
 * reference's first: ids below D are its tokens). Returns false when the
 * segment does not fit the small ids. */
static bool words_single(kv_bleu *b, const uint32_t *ref, size_t RL, const uint32_t *hyp,
                         size_t HL, unsigned D, int N, kv_bleu_stats *out)
{
    if (D > SMALL_MAX_SYMBOLS)
        return false;
    uint8_t *rd = reserve_small(b, RL + HL);
    uint8_t *hd = rd + RL;
    for (size_t i = 0; i < RL; i++)
        rd[i] = (uint8_t)(ref[i] + 1);
    for (size_t i = 0; i < HL; i++)
        hd[i] = (uint8_t)((hyp[i] < D ? hyp[i] : D) + 1);
    if (!kv_trie_match(&b->trie, rd, RL, hd, HL, (size_t)D + 2, N, false, out->correct))
        return false;
    fill_lengths(out, HL, RL, N);
    return true;
}

int kv_bleu_segment(kv_bleu *b, const char *hyp, size_t hyp_len, const char *const *refs,
                    const size_t *ref_lens, size_t n_refs, kv_bleu_stats *out, char *err,
                    size_t errlen)
{
    const int N = max_order_of(&b->o);
    size_t sides = n_refs + 1; /* references first, hypothesis last */

    size_t present = 0, only = 0;
    for (size_t k = 0; k < n_refs; k++) {
        if (refs[k]) {
            present++;
            only = k;
        }
    }
    if (present == 0) {
        snprintf(err, errlen, "no reference for this segment");
        return -1;
    }
    if (b->side_cap < sides + 1) {
        b->sides = kv_xrealloc(b->sides, (sides + 1) * sizeof *b->sides);
        memset(b->sides + b->side_cap, 0, (sides + 1 - b->side_cap) * sizeof *b->sides);
        b->side_cap = sides + 1;
        b->tstart = kv_xrealloc(b->tstart, (sides + 1) * sizeof *b->tstart);
    }
    memset(out, 0, sizeof *out);
    bool single = present == 1;
    if (single && b->tok_kind == TOK_CHAR) {
        int rc = char_single(b, only, refs[only], ref_lens[only], n_refs, hyp, hyp_len, N, out);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            snprintf(err, errlen, "lowercasing failed");
            return -1;
        }
        memset(out, 0, sizeof *out);
    }

    size_t *tstart = b->tstart;
    size_t bytes = hyp_len;
    for (size_t k = 0; k < n_refs; k++)
        bytes += refs[k] ? ref_lens[k] : 0;
    kv_symtab_reset(&b->syms, bytes / 4 + 8);

    /* every side's token ids, references first, hypothesis last; the symbol
     * table reads long tokens' bytes again, so each side's text (the input
     * itself, or its own scratch buffer) stays put until the end */
    size_t nids = 0;
    unsigned ref_syms = 0; /* distinct reference tokens */
    for (size_t k = 0; k < sides; k++) {
        tstart[k] = nids;
        if (k == n_refs)
            ref_syms = kv_symtab_count(&b->syms);
        const char *s = k < n_refs ? refs[k] : hyp;
        size_t n = k < n_refs ? ref_lens[k] : hyp_len;
        if (!s)
            continue;
        if (side_text(b, k, &s, &n) != 0) {
            snprintf(err, errlen, "lowercasing failed");
            return -1;
        }
        if (b->tok_kind == TOK_CHAR) {
            /* every code point but whitespace is a token: its id is itself */
            reserve_ids(b, nids + n + 1);
            for (size_t i = 0; i < n;) {
                uint32_t cp = (unsigned char)s[i] < 0x80 ? (unsigned char)s[i++]
                                                         : kv_utf8_next(s, n, &i);
                if (!kv_is_py_space(cp))
                    b->ids[nids++] = cp;
            }
            continue;
        }
        const char *t;
        size_t count;
        kv_buf_clear(&b->text);
        if (b->tok_kind == TOK_13A) {
            t = kv_tok_13a_spans(s, n, &b->text, &b->spans, &b->spans_cap, &count);
        } else {
            if (b->o.tokenizer->fn(s, n, 0, &b->text) != 0) {
                snprintf(err, errlen, "tokenizer failed");
                return -1;
            }
            t = b->text.p ? b->text.p : "";
            count = kv_split_py(t, b->text.len, &b->spans, &b->spans_cap);
        }
        size_t tn = t == b->text.p ? b->text.len : n;
        if (t == b->text.p) {
            /* the tokens live in the scratch text: keep it with this side (the
             * side's lowercased input is no longer needed) */
            kv_buf tmp = b->sides[k];
            b->sides[k] = b->text;
            b->text = tmp;
        }
        reserve_ids(b, nids + count + 1);
        kv_symtab_ids(&b->syms, t, tn, b->spans, count, b->ids + nids);
        nids += count;
    }
    tstart[sides] = nids;
    size_t ntok_total = nids;
    uint64_t hyp_len_tok = tstart[sides] - tstart[n_refs];

    if (single && b->tok_kind != TOK_CHAR &&
        words_single(b, b->ids + tstart[only], tstart[only + 1] - tstart[only],
                     b->ids + tstart[n_refs], (size_t)hyp_len_tok, ref_syms, N, out))
        return 0;

    kv_gc_begin(&b->gc, (ntok_total - (size_t)hyp_len_tok) * (size_t)N);

    /* references: per n-gram, the maximum count over references; the
     * reference length is the one closest to the hypothesis (ties: shorter) */
    uint64_t best_len = 0, best_diff = UINT64_MAX;
    for (size_t k = 0; k < n_refs; k++) {
        if (!refs[k])
            continue;
        size_t L = tstart[k + 1] - tstart[k];
        uint64_t diff = L > hyp_len_tok ? L - hyp_len_tok : hyp_len_tok - L;
        if (best_diff == UINT64_MAX || diff < best_diff || (diff == best_diff && L < best_len)) {
            best_diff = diff;
            best_len = L;
        }
        kv_gc_add_ref(&b->gc, b->ids + tstart[k], L, N, NULL);
    }

    /* hypothesis: clipped matches; totals are the number of positions */
    kv_gc_match_hyp(&b->gc, b->ids + tstart[n_refs], (size_t)hyp_len_tok, N, out->correct);
    kv_gc_end(&b->gc);
    fill_lengths(out, hyp_len_tok, best_len, N);
    return 0;
}

void kv_bleu_stats_add(kv_bleu_stats *acc, const kv_bleu_stats *s)
{
    acc->sys_len += s->sys_len;
    acc->ref_len += s->ref_len;
    for (int n = 0; n < KV_BLEU_MAX_ORDER; n++) {
        acc->correct[n] += s->correct[n];
        acc->total[n] += s->total[n];
    }
}

/* sacreBLEU's my_log: log(0) is -9999999999 so that the mean stays finite */
static double my_log(double x)
{
    return x == 0.0 ? -9999999999.0 : log(x);
}

void kv_bleu_compute(const kv_bleu_opts *o, const kv_bleu_stats *s, kv_bleu_score *out)
{
    const int N = max_order_of(o);
    memset(out, 0, sizeof *out);
    out->max_order = N;
    out->sys_len = s->sys_len;
    out->ref_len = s->ref_len;
    out->ratio = s->ref_len ? (double)s->sys_len / (double)s->ref_len : 0.0;
    double smooth_value = o->smooth_value >= 0 ? o->smooth_value : smooth_default(o->smooth);

    if (s->sys_len < s->ref_len)
        out->bp = s->sys_len > 0 ? exp(1.0 - (double)s->ref_len / (double)s->sys_len) : 0.0;
    else
        out->bp = 1.0;

    bool any = false;
    for (int n = 0; n < N; n++) {
        out->counts[n] = (double)s->correct[n];
        out->totals[n] = (double)s->total[n];
        if (s->correct[n])
            any = true;
    }
    if (!any) {
        out->score = 0.0;
        return;
    }

    double smooth_mteval = 1.0;
    int eff_order = N;
    for (int n = 1; n <= N; n++) {
        if (o->smooth == KV_SMOOTH_ADD_K && n > 1) {
            out->counts[n - 1] += smooth_value;
            out->totals[n - 1] += smooth_value;
        }
        if (out->totals[n - 1] == 0.0)
            break;
        if (o->effective_order)
            eff_order = n;
        if (out->counts[n - 1] == 0.0) {
            if (o->smooth == KV_SMOOTH_EXP) {
                smooth_mteval *= 2;
                out->precisions[n - 1] = 100.0 / (smooth_mteval * out->totals[n - 1]);
            } else if (o->smooth == KV_SMOOTH_FLOOR) {
                out->precisions[n - 1] = 100.0 * smooth_value / out->totals[n - 1];
            }
        } else {
            out->precisions[n - 1] = 100.0 * out->counts[n - 1] / out->totals[n - 1];
        }
    }
    double sum = 0.0;
    for (int n = 0; n < eff_order; n++)
        sum += my_log(out->precisions[n]);
    out->score = out->bp * exp(sum / eff_order);
}

int kv_bleu_smooth_parse(const char *name, kv_bleu_smooth *out)
{
    if (strcmp(name, "exp") == 0)
        *out = KV_SMOOTH_EXP;
    else if (strcmp(name, "floor") == 0)
        *out = KV_SMOOTH_FLOOR;
    else if (strcmp(name, "add-k") == 0)
        *out = KV_SMOOTH_ADD_K;
    else if (strcmp(name, "none") == 0)
        *out = KV_SMOOTH_NONE;
    else
        return -1;
    return 0;
}

void kv_bleu_signature(const kv_bleu_opts *o, int nrefs, const char *norm, char *dst,
                       size_t dstlen)
{
    static const char *const names[] = {"exp", "floor", "add-k", "none"};
    char smooth[48];
    if (o->smooth == KV_SMOOTH_FLOOR || o->smooth == KV_SMOOTH_ADD_K) {
        double v = o->smooth_value >= 0 ? o->smooth_value : smooth_default(o->smooth);
        snprintf(smooth, sizeof smooth, "%s[%.2f]", names[o->smooth], v);
    } else {
        snprintf(smooth, sizeof smooth, "%s", names[o->smooth]);
    }
    char nr[16];
    if (nrefs < 0)
        snprintf(nr, sizeof nr, "var");
    else
        snprintf(nr, sizeof nr, "%d", nrefs);
    const kv_tokenizer *tok = o->tokenizer ? o->tokenizer : kv_tokenizer_find("13a");
    char order[32] = "";
    if (max_order_of(o) != 4)
        snprintf(order, sizeof order, "|ngram:%d", max_order_of(o));
    snprintf(dst, dstlen, "BLEU|nrefs:%s|case:%s|eff:%s|tok:%s|smooth:%s%s|norm:%s|v:%s", nr,
             o->lowercase ? "lc" : "mixed", o->effective_order ? "yes" : "no", tok->signature,
             smooth, order, norm ? norm : "none", KOEVAL_VERSION);
}
