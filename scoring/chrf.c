#include "scoring/chrf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/ngram.h"
#include "src/text.h"

/* One side of a segment, ready for counting. */
typedef struct side {
    uint32_t *cps; /* code points (whitespace removed unless kept) */
    size_t ncps, cps_cap;
    uint32_t *words; /* interned word ids (chrF++) */
    size_t nwords, words_cap;
} side;

struct kv_chrf {
    kv_chrf_opts o;
    kv_buf lower;
    kv_span *spans;
    size_t spans_cap;
    side *sides;
    size_t sides_cap;
    kv_interner in;
    kv_gram_counter chars, words;
};

kv_chrf_opts kv_chrf_defaults(void)
{
    kv_chrf_opts o = {.char_order = 6, .word_order = 0, .beta = 2.0};
    return o;
}

kv_chrf *kv_chrf_new(const kv_chrf_opts *o)
{
    if (o->char_order < 0 || o->word_order < 0 || o->char_order + o->word_order < 1 ||
        o->char_order + o->word_order > KV_CHRF_MAX_ORDER)
        return NULL;
    kv_chrf *c = kv_xcalloc(1, sizeof *c);
    c->o = *o;
    return c;
}

void kv_chrf_free(kv_chrf *c)
{
    if (!c)
        return;
    kv_buf_free(&c->lower);
    free(c->spans);
    for (size_t i = 0; i < c->sides_cap; i++) {
        free(c->sides[i].cps);
        free(c->sides[i].words);
    }
    free(c->sides);
    kv_interner_free(&c->in);
    kv_gc_free(&c->chars);
    kv_gc_free(&c->words);
    free(c);
}

static bool is_ascii_punct(uint32_t cp)
{
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
}

/* Byte offset of the start of the last code point of s[0..n), n > 0. */
static size_t last_cp_start(const char *s, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80 && n - i < 4)
        i--;
    return i;
}

/* Fills a side from text s[0..n) (already lowercased when asked). Word ids
 * point into s, which must live until counting ends. */
static void fill_side(kv_chrf *c, side *sd, const char *s, size_t n)
{
    /* characters */
    if (sd->cps_cap < n + 1) {
        sd->cps_cap = n + 1;
        sd->cps = kv_xrealloc(sd->cps, sd->cps_cap * sizeof *sd->cps);
    }
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = (unsigned char)s[i] < 0x80 ? (unsigned char)s[i++] : kv_utf8_next(s, n, &i);
        if (!c->o.whitespace && kv_is_py_space(cp))
            continue;
        sd->cps[k++] = cp;
    }
    sd->ncps = k;

    /* words (chrF++): str.split(), then one trailing (else leading) ASCII
     * punctuation character of a word longer than one character is split off */
    sd->nwords = 0;
    if (c->o.word_order <= 0)
        return;
    size_t nsp = kv_split_py(s, n, &c->spans, &c->spans_cap);
    size_t need = nsp * 2 + 1;
    if (sd->words_cap < need) {
        sd->words_cap = need;
        sd->words = kv_xrealloc(sd->words, need * sizeof *sd->words);
    }
    for (size_t w = 0; w < nsp; w++) {
        const char *ws = s + c->spans[w].off;
        size_t wl = c->spans[w].len;
        size_t chars = kv_utf8_count(ws, wl);
        const char *parts[2];
        size_t plen[2];
        int np = 1;
        parts[0] = ws;
        plen[0] = wl;
        if (chars > 1) {
            size_t last = last_cp_start(ws, wl);
            if (wl - last == 1 && is_ascii_punct((unsigned char)ws[last])) {
                plen[0] = last;
                parts[1] = ws + last;
                plen[1] = 1;
                np = 2;
            } else if (is_ascii_punct((unsigned char)ws[0])) {
                plen[0] = 1;
                parts[1] = ws + 1;
                plen[1] = wl - 1;
                np = 2;
            }
        }
        for (int p = 0; p < np; p++)
            sd->words[sd->nwords++] = kv_interner_id(&c->in, parts[p], plen[p]);
    }
}

static double f_score(const kv_chrf_opts *o, const uint64_t *v, int orders)
{
    const double eps = 1e-16;
    double factor = o->beta * o->beta;
    double score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
    int effective = 0;
    for (int i = 0; i < orders; i++) {
        double n_hyp = (double)v[3 * i], n_ref = (double)v[3 * i + 1], n_match = (double)v[3 * i + 2];
        double prec = n_hyp > 0 ? n_match / n_hyp : eps;
        double rec = n_ref > 0 ? n_match / n_ref : eps;
        double denom = factor * prec + rec;
        score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
        if (n_hyp > 0 && n_ref > 0) {
            avg_prec += prec;
            avg_rec += rec;
            effective++;
        }
    }
    if (o->eps_smoothing)
        return 100 * score / orders;
    if (effective == 0) {
        avg_prec = avg_rec = 0.0;
    } else {
        avg_prec /= effective;
        avg_rec /= effective;
    }
    if (avg_prec + avg_rec != 0.0) {
        score = (1 + factor) * avg_prec * avg_rec;
        score /= (factor * avg_prec) + avg_rec;
        return 100 * score;
    }
    return 0.0;
}

double kv_chrf_compute(const kv_chrf_opts *o, const kv_chrf_stats *s)
{
    return f_score(o, s->v, o->char_order + o->word_order);
}

/* [hyp, ref, match] of orders 1..N (stride 3 in v) for one reference. */
static void count_pair(kv_gram_counter *gc, const uint32_t *ref, size_t RL, const uint32_t *hyp,
                       size_t HL, int N, uint64_t *v)
{
    uint64_t refc[KV_CHRF_MAX_ORDER] = {0}, match[KV_CHRF_MAX_ORDER] = {0};
    kv_gc_begin(gc, RL * (size_t)N);
    kv_gc_add_ref(gc, ref, RL, N, refc);
    kv_gc_match_hyp(gc, hyp, HL, N, match);
    kv_gc_end(gc);
    for (int n = 1; n <= N; n++) {
        v[3 * (n - 1)] = HL >= (size_t)n ? HL - (size_t)n + 1 : 0;
        v[3 * (n - 1) + 1] = refc[n - 1];
        v[3 * (n - 1) + 2] = match[n - 1];
    }
}

int kv_chrf_segment(kv_chrf *c, const char *hyp, size_t hyp_len, const char *const *refs,
                    const size_t *ref_lens, size_t n_refs, kv_chrf_stats *out, char *err,
                    size_t errlen)
{
    const int NC = c->o.char_order, NW = c->o.word_order, orders = NC + NW;
    size_t sides = n_refs + 1;
    if (c->sides_cap < sides) {
        c->sides = kv_xrealloc(c->sides, sides * sizeof *c->sides);
        memset(c->sides + c->sides_cap, 0, (sides - c->sides_cap) * sizeof *c->sides);
        c->sides_cap = sides;
    }
    kv_interner_reset(&c->in, 64);
    /* word ids point into the texts, so lowercased copies live side by side
     * in one buffer that is only appended to during this call */
    kv_buf_clear(&c->lower);
    size_t present = 0;
    size_t *offs = kv_xmalloc((sides + 1) * sizeof *offs);
    if (c->o.lowercase) {
        for (size_t k = 0; k < sides; k++) {
            const char *s = k < n_refs ? refs[k] : hyp;
            size_t n = k < n_refs ? ref_lens[k] : hyp_len;
            offs[k] = c->lower.len;
            if (s && kv_py_lower(s, n, &c->lower) != 0) {
                snprintf(err, errlen, "lowercasing failed");
                free(offs);
                return -1;
            }
        }
        offs[sides] = c->lower.len;
    }
    for (size_t k = 0; k < sides; k++) {
        const char *s = k < n_refs ? refs[k] : hyp;
        size_t n = k < n_refs ? ref_lens[k] : hyp_len;
        if (!s)
            continue;
        if (k < n_refs)
            present++;
        if (c->o.lowercase) {
            s = c->lower.p + offs[k];
            n = offs[k + 1] - offs[k];
        }
        fill_side(c, &c->sides[k], s, n);
    }
    free(offs);
    if (present == 0) {
        snprintf(err, errlen, "no reference for this segment");
        return -1;
    }

    side *h = &c->sides[n_refs];
    double best_f = -1.0;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < n_refs; k++) {
        if (!refs[k])
            continue;
        side *r = &c->sides[k];
        uint64_t v[3 * KV_CHRF_MAX_ORDER] = {0};
        count_pair(&c->chars, r->cps, r->ncps, h->cps, h->ncps, NC, v);
        if (NW > 0)
            count_pair(&c->words, r->words, r->nwords, h->words, h->nwords, NW, v + 3 * NC);
        /* no reference n-gram of an order: its hypothesis count is reported as 0 */
        for (int i = 0; i < orders; i++)
            if (v[3 * i + 1] == 0)
                v[3 * i] = 0;
        double f = f_score(&c->o, v, orders);
        if (f > best_f) {
            best_f = f;
            memcpy(out->v, v, sizeof v);
        }
    }
    return 0;
}

void kv_chrf_stats_add(kv_chrf_stats *acc, const kv_chrf_stats *s, int n_orders)
{
    for (int i = 0; i < 3 * n_orders; i++)
        acc->v[i] += s->v[i];
}

void kv_chrf_name(const kv_chrf_opts *o, char *dst, size_t dstlen)
{
    char beta[32];
    if (o->beta == floor(o->beta))
        snprintf(beta, sizeof beta, "%d", (int)o->beta);
    else
        snprintf(beta, sizeof beta, "%g", o->beta);
    snprintf(dst, dstlen, "chrF%s%.*s", beta, o->word_order > 8 ? 8 : o->word_order, "++++++++");
}

void kv_chrf_signature(const kv_chrf_opts *o, int nrefs, const char *norm, char *dst,
                       size_t dstlen)
{
    char name[48], nr[16];
    kv_chrf_name(o, name, sizeof name);
    if (nrefs < 0)
        snprintf(nr, sizeof nr, "var");
    else
        snprintf(nr, sizeof nr, "%d", nrefs);
    snprintf(dst, dstlen, "%s|nrefs:%s|case:%s|eff:%s|nc:%d|nw:%d|space:%s|norm:%s|v:%s", name, nr,
             o->lowercase ? "lc" : "mixed", o->eps_smoothing ? "no" : "yes", o->char_order,
             o->word_order, o->whitespace ? "yes" : "no", norm ? norm : "none", KOEVAL_VERSION);
}
