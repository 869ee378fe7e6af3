#include "scoring/bleu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/ngram.h"
#include "scoring/wordtab.h"
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
    kv_word_table words; /* token bytes -> ids, per segment (scoring/wordtab.h) */
    kv_gram_counter gc;
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
    kv_wt_free(&b->words);
    kv_gc_free(&b->gc);
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

int kv_bleu_segment(kv_bleu *b, const char *hyp, size_t hyp_len, const char *const *refs,
                    const size_t *ref_lens, size_t n_refs, kv_bleu_stats *out, char *err,
                    size_t errlen)
{
    const int N = max_order_of(&b->o);
    size_t sides = n_refs + 1; /* references first, hypothesis last */

    size_t present = 0;
    for (size_t k = 0; k < n_refs; k++)
        present += refs[k] != NULL;
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
    size_t *tstart = b->tstart;
    size_t bytes = hyp_len;
    for (size_t k = 0; k < n_refs; k++)
        bytes += refs[k] ? ref_lens[k] : 0;
    kv_wt_reset(&b->words, bytes / 4 + 8);

    /* every side's token ids, references first, hypothesis last; the
     * interner keeps pointers to token bytes, so each side's text (the input
     * itself, or its own scratch buffer) stays put until the end */
    size_t nids = 0;
    for (size_t k = 0; k < sides; k++) {
        tstart[k] = nids;
        const char *s = k < n_refs ? refs[k] : hyp;
        size_t n = k < n_refs ? ref_lens[k] : hyp_len;
        if (!s)
            continue;
        if (b->o.lowercase) {
            kv_buf_clear(&b->sides[k]);
            if (kv_py_lower(s, n, &b->sides[k]) != 0) {
                snprintf(err, errlen, "lowercasing failed");
                return -1;
            }
            s = b->sides[k].p ? b->sides[k].p : "";
            n = b->sides[k].len;
        }
        n = kv_rstrip_py(s, n);
        if (b->tok_kind == TOK_CHAR) {
            /* every code point but whitespace is a token: its id is itself */
            if (nids + n + 1 > b->ids_cap) {
                b->ids_cap = (nids + n + 1) * 2;
                b->ids = kv_xrealloc(b->ids, b->ids_cap * sizeof *b->ids);
            }
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
        if (nids + count + 1 > b->ids_cap) {
            b->ids_cap = (nids + count + 1) * 2;
            b->ids = kv_xrealloc(b->ids, b->ids_cap * sizeof *b->ids);
        }
        for (size_t i = 0; i < count; i++)
            b->ids[nids++] = kv_wt_id(&b->words, t, tn, b->spans[i].off, b->spans[i].len);
    }
    tstart[sides] = nids;
    size_t ntok_total = nids;

    memset(out, 0, sizeof *out);
    uint64_t hyp_len_tok = tstart[sides] - tstart[n_refs];
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
    for (int n = 1; n <= N; n++)
        out->total[n - 1] = hyp_len_tok >= (uint64_t)n ? hyp_len_tok - (uint64_t)n + 1 : 0;
    out->sys_len = hyp_len_tok;
    out->ref_len = best_len;

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
