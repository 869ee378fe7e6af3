#include "scoring/ter.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/ngram.h"
#include "src/text.h"
#include "tokenizers/tokenizer.h"

/* sacreBLEU lib_ter.py's limits (inherited from Tercom) */
#define MAX_SHIFT_SIZE 10
#define MAX_SHIFT_DIST 50
#define BEAM_WIDTH 25
#define MAX_SHIFT_CANDIDATES 1000

/* Cells outside the band hold INF. The reference uses 1e16; any value that
 * no real distance reaches behaves the same, because a cell only takes a
 * candidate cost strictly below its current value, so INF + 1 never spreads. */
#define INF ((int32_t)1 << 29)

enum { OP_UNDEF = 0, OP_NOP, OP_SUB, OP_INS, OP_DEL };

struct kv_ter {
    kv_ter_opts o;
    kv_buf text; /* tokenized references then hypothesis, back to back */
    kv_buf s1, s2; /* tokenizer scratch */
    kv_span *spans;
    size_t spans_cap;
    uint32_t *ids;
    size_t ids_cap;
    kv_interner in;

    /* Band layout of the edit distance matrix for one (hypothesis, reference)
     * pair: row i holds columns [lo[i], hi[i]) at val + off[i]. The layout
     * depends only on the two lengths, which shifts do not change. */
    int32_t *lo, *hi;
    size_t *off;
    int32_t *val;
    uint8_t *op;
    int32_t *roll[2]; /* rolling rows for shift candidates */

    uint32_t *cur, *cand; /* current hypothesis, shifted candidate */
    int32_t *hsum;        /* prefix sums of hypothesis errors */
    int32_t *align;       /* reference position -> hypothesis position */
    int32_t *rsum;        /* prefix sums of reference errors */
    uint8_t *trace;
    size_t rows_cap, cells_cap, hyp_cap, ref_cap, trace_cap;
};

static void *ensure(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    *cap = n;
    return kv_xrealloc(p, n * elem);
}

/* Grows several arrays that share one capacity (counted in elements). */
static void grow_rows(kv_ter *t, size_t need)
{
    if (need <= t->rows_cap)
        return;
    size_t cap = t->rows_cap;
    t->lo = ensure(t->lo, &cap, need, sizeof *t->lo);
    t->hi = kv_xrealloc(t->hi, cap * sizeof *t->hi);
    t->off = kv_xrealloc(t->off, cap * sizeof *t->off);
    t->rows_cap = cap;
}

static void grow_cells(kv_ter *t, size_t need)
{
    if (need <= t->cells_cap)
        return;
    size_t cap = t->cells_cap;
    t->val = ensure(t->val, &cap, need, sizeof *t->val);
    t->op = kv_xrealloc(t->op, cap);
    t->cells_cap = cap;
}

static void grow_ref(kv_ter *t, size_t need)
{
    if (need <= t->ref_cap)
        return;
    size_t cap = t->ref_cap;
    t->align = ensure(t->align, &cap, need, sizeof *t->align);
    t->rsum = kv_xrealloc(t->rsum, cap * sizeof *t->rsum);
    t->roll[0] = kv_xrealloc(t->roll[0], cap * sizeof *t->roll[0]);
    t->roll[1] = kv_xrealloc(t->roll[1], cap * sizeof *t->roll[1]);
    t->ref_cap = cap;
}

static void grow_hyp(kv_ter *t, size_t need)
{
    if (need <= t->hyp_cap)
        return;
    size_t cap = t->hyp_cap;
    t->cur = ensure(t->cur, &cap, need, sizeof *t->cur);
    t->cand = kv_xrealloc(t->cand, cap * sizeof *t->cand);
    t->hsum = kv_xrealloc(t->hsum, cap * sizeof *t->hsum);
    t->hyp_cap = cap;
}

kv_ter *kv_ter_new(const kv_ter_opts *o)
{
    kv_ter *t = kv_xcalloc(1, sizeof *t);
    t->o = *o;
    return t;
}

void kv_ter_free(kv_ter *t)
{
    if (!t)
        return;
    kv_buf_free(&t->text);
    kv_buf_free(&t->s1);
    kv_buf_free(&t->s2);
    free(t->spans);
    free(t->ids);
    kv_interner_free(&t->in);
    free(t->lo);
    free(t->hi);
    free(t->off);
    free(t->val);
    free(t->op);
    free(t->roll[0]);
    free(t->roll[1]);
    free(t->cur);
    free(t->cand);
    free(t->hsum);
    free(t->align);
    free(t->rsum);
    free(t->trace);
    free(t);
}

/* ---- TercomTokenizer ---------------------------------------------------- */

/* The class [{-~[-` -&(-+:-@/] of the Western normalization: ASCII space,
 * punctuation and symbols except ' , - . */
static int western_punct(unsigned char c)
{
    return c == '/' || (c >= 0x20 && c <= 0x26) || (c >= 0x28 && c <= 0x2B) ||
           (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int asian_punct(uint32_t c)
{
    return c == 0x3001 || c == 0x3002 || (c >= 0x3008 && c <= 0x3011) ||
           (c >= 0x3014 && c <= 0x301F) || (c >= 0xFF61 && c <= 0xFF65) || c == 0x30FB;
}

static int full_width_punct(uint32_t c)
{
    return c == 0xFF0E || c == 0xFF0C || c == 0xFF1F || c == 0xFF1A || c == 0xFF1B ||
           c == 0xFF01 || c == 0xFF02 || c == 0xFF08 || c == 0xFF09;
}

/* Characters that the Asian normalization surrounds with spaces. Its kana
 * rules are anchored at the start of the string, which the Western step has
 * just made a space, so they never fire and are not reproduced. */
static int asian_split(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x31C0 && c <= 0x31EF) || (c >= 0x2E80 && c <= 0x2EFF) ||
           (c >= 0x3300 && c <= 0x33FF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0x3200 && c <= 0x3F22) || asian_punct(c) ||
           full_width_punct(c);
}

static void replace_all(const kv_buf *in, const char *from, const char *to, kv_buf *out)
{
    size_t fl = strlen(from), tl = strlen(to);
    kv_buf_clear(out);
    kv_buf_reserve(out, in->len);
    for (size_t i = 0; i < in->len;) {
        if (i + fl <= in->len && memcmp(in->p + i, from, fl) == 0) {
            kv_buf_put(out, to, tl);
            i += fl;
        } else {
            kv_buf_putc(out, in->p[i++]);
        }
    }
}

static void swap_bufs(kv_buf *a, kv_buf *b)
{
    kv_buf x = *a;
    *a = *b;
    *b = x;
}

/* Every pattern of the Western step is ASCII, so it runs on UTF-8 bytes: a
 * byte of a multi-byte character matches [^0-9] exactly where the character
 * would, and emitting it unchanged leaves the character intact. Each pass
 * scans left to right without overlaps, as re.sub does. The result is in *a. */
static void normalize_western(kv_buf *a, kv_buf *b)
{
    /* "\n-" dropped (hyphenation), then remaining newlines become spaces */
    kv_buf_clear(b);
    for (size_t i = 0; i < a->len; i++) {
        if (a->p[i] == '\n' && i + 1 < a->len && a->p[i + 1] == '-')
            i++;
        else
            kv_buf_putc(b, a->p[i] == '\n' ? ' ' : a->p[i]);
    }
    swap_bufs(a, b);

    if (a->len && memchr(a->p, '&', a->len)) {
        static const char *const ent[][2] = {
            {"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
        for (size_t k = 0; k < 4; k++) {
            replace_all(a, ent[k][0], ent[k][1], b);
            swap_bufs(a, b);
        }
    }

    kv_buf_clear(b);
    kv_buf_putc(b, ' ');
    for (size_t i = 0; i < a->len; i++) {
        unsigned char c = (unsigned char)a->p[i];
        if (western_punct(c)) {
            kv_buf_putc(b, ' ');
            kv_buf_putc(b, (char)c);
            kv_buf_putc(b, ' ');
        } else {
            kv_buf_putc(b, (char)c);
        }
    }
    kv_buf_putc(b, ' ');
    swap_bufs(a, b);

    /* possessives; the reference's "'s$" rule cannot match after the
     * padding above */
    replace_all(a, "'s ", " 's ", b);
    swap_bufs(a, b);

    /* ([^0-9])([.,]) -> "\1 \2 " */
    kv_buf_clear(b);
    for (size_t i = 0; i < a->len;) {
        unsigned char c = (unsigned char)a->p[i];
        if (i + 1 < a->len && !is_digit(c) && (a->p[i + 1] == '.' || a->p[i + 1] == ',')) {
            kv_buf_putc(b, (char)c);
            kv_buf_putc(b, ' ');
            kv_buf_putc(b, a->p[i + 1]);
            kv_buf_putc(b, ' ');
            i += 2;
        } else {
            kv_buf_putc(b, (char)c);
            i++;
        }
    }
    swap_bufs(a, b);

    /* ([.,])([^0-9]) -> " \1 \2" */
    kv_buf_clear(b);
    for (size_t i = 0; i < a->len;) {
        char c = a->p[i];
        if (i + 1 < a->len && (c == '.' || c == ',') && !is_digit((unsigned char)a->p[i + 1])) {
            kv_buf_putc(b, ' ');
            kv_buf_putc(b, c);
            kv_buf_putc(b, ' ');
            kv_buf_putc(b, a->p[i + 1]);
            i += 2;
        } else {
            kv_buf_putc(b, c);
            i++;
        }
    }
    swap_bufs(a, b);

    /* ([0-9])(-) -> "\1 \2 " */
    kv_buf_clear(b);
    for (size_t i = 0; i < a->len;) {
        char c = a->p[i];
        if (i + 1 < a->len && is_digit((unsigned char)c) && a->p[i + 1] == '-') {
            kv_buf_putc(b, c);
            kv_buf_put(b, " - ", 3);
            i += 2;
        } else {
            kv_buf_putc(b, c);
            i++;
        }
    }
    swap_bufs(a, b);
}

/* Code points for which drop() is true are removed and those for which
 * space() is true are surrounded by spaces; everything else keeps its
 * original bytes. */
static void map_cps(kv_buf *a, kv_buf *b, int (*space)(uint32_t), int (*drop)(uint32_t))
{
    kv_buf_clear(b);
    for (size_t i = 0; i < a->len;) {
        size_t start = i;
        uint32_t c = kv_utf8_next(a->p, a->len, &i);
        if (drop && drop(c))
            continue;
        int sp = space && space(c);
        if (sp)
            kv_buf_putc(b, ' ');
        kv_buf_put(b, a->p + start, i - start);
        if (sp)
            kv_buf_putc(b, ' ');
    }
    swap_bufs(a, b);
}

static int ascii_punct_drop(uint32_t c)
{
    return c == '.' || c == ',' || c == '?' || c == ':' || c == ';' || c == '!' || c == '"' ||
           c == '(' || c == ')';
}

static int all_punct_drop(uint32_t c)
{
    return ascii_punct_drop(c) || asian_punct(c) || full_width_punct(c);
}

/* rstrip, then TercomTokenizer.__call__; the raw result (not re-split) is
 * left in *a. */
static int tercom(const kv_ter_opts *o, const char *s, size_t n, kv_buf *a, kv_buf *b)
{
    n = kv_rstrip_py(s, n);
    kv_buf_clear(a);
    if (n == 0) {
        kv_buf_put(a, "", 0);
        return 0;
    }
    if (!o->case_sensitive) {
        if (kv_py_lower(s, n, a) != 0)
            return -1;
    } else {
        kv_buf_put(a, s, n);
    }
    if (o->normalized) {
        normalize_western(a, b);
        if (o->asian_support)
            map_cps(a, b, asian_split, NULL);
        kv_buf_clear(b);
        kv_tok_join_split(a->p, a->len, b);
        kv_buf_put(b, "", 0);
        swap_bufs(a, b);
    }
    if (o->no_punct)
        map_cps(a, b, NULL, o->asian_support ? all_punct_drop : ascii_punct_drop);
    kv_buf_put(a, "", 0);
    return 0;
}

int kv_ter_preprocess(const kv_ter_opts *o, const char *s, size_t n, kv_buf *out)
{
    kv_buf a = {0}, b = {0};
    int rc = tercom(o, s, n, &a, &b);
    if (rc == 0)
        kv_tok_join_split(a.p, a.len, out);
    kv_buf_free(&a);
    kv_buf_free(&b);
    return rc;
}

/* ---- beam edit distance ------------------------------------------------- */

static void band_layout(kv_ter *t, size_t nh, size_t nr)
{
    grow_rows(t, nh + 1);
    double ratio = nh ? (double)nr / (double)nh : 1.0;
    int64_t beam = BEAM_WIDTH;
    if (BEAM_WIDTH < ratio / 2)
        beam = (int64_t)ceil(ratio / 2 + BEAM_WIDTH);
    int64_t full = (int64_t)nr + 1;
    size_t cells = 0;
    for (size_t i = 0; i <= nh; i++) {
        int64_t lo = 0, hi = full;
        if (i > 0) {
            int64_t diag = (int64_t)floor((double)i * ratio);
            lo = diag - beam > 0 ? diag - beam : 0;
            hi = diag + beam < full ? diag + beam : full;
            if (i == nh)
                hi = full;
            if (hi < lo)
                hi = lo;
        }
        t->lo[i] = (int32_t)lo;
        t->hi[i] = (int32_t)hi;
        t->off[i] = cells;
        cells += (size_t)(hi - lo);
    }
    grow_cells(t, cells);
}

/* One row of the matrix: hypothesis word w against the reference, from the
 * previous row prev (columns [plo, phi)). Ties prefer match/substitution,
 * then deletion, then insertion, as sacreBLEU (which swaps Tercom's order of
 * the last two because it reads the trace backwards). */
static void ed_row(const uint32_t *ref, uint32_t w, const int32_t *prev, int32_t plo,
                   int32_t phi, int32_t *row, uint8_t *ops, int32_t lo, int32_t hi)
{
    for (int32_t j = lo; j < hi; j++) {
        int32_t up = j >= plo && j < phi ? prev[j - plo] : INF;
        int32_t v;
        uint8_t op;
        if (j == 0) {
            v = up + 1;
            op = OP_DEL;
        } else {
            int32_t diag = j - 1 >= plo && j - 1 < phi ? prev[j - 1 - plo] : INF;
            int32_t left = j - 1 >= lo ? row[j - 1 - lo] : INF;
            int same = w == ref[j - 1];
            v = INF;
            op = OP_UNDEF;
            if (diag + !same < v) {
                v = diag + !same;
                op = same ? OP_NOP : OP_SUB;
            }
            if (up + 1 < v) {
                v = up + 1;
                op = OP_DEL;
            }
            if (left + 1 < v) {
                v = left + 1;
                op = OP_INS;
            }
        }
        row[j - lo] = v;
        if (ops)
            ops[j - lo] = op;
    }
}

/* Fills the whole band for hyp and returns the distance. */
static int32_t ed_full(kv_ter *t, const uint32_t *hyp, size_t nh, const uint32_t *ref,
                       size_t nr)
{
    for (size_t j = 0; j <= nr; j++) {
        t->val[j] = (int32_t)j;
        t->op[j] = OP_INS;
    }
    for (size_t i = 1; i <= nh; i++)
        ed_row(ref, hyp[i - 1], t->val + t->off[i - 1], t->lo[i - 1], t->hi[i - 1],
               t->val + t->off[i], t->op + t->off[i], t->lo[i], t->hi[i]);
    return t->val[t->off[nh] + nr - (size_t)t->lo[nh]];
}

/* Distance of a candidate that agrees with the hypothesis of the last
 * ed_full on its first words: those rows are reused. */
static int32_t ed_candidate(kv_ter *t, const uint32_t *cand, const uint32_t *base, size_t nh,
                            const uint32_t *ref, size_t nr)
{
    size_t p = 0;
    while (p < nh && cand[p] == base[p])
        p++;
    if (p == nh)
        return t->val[t->off[nh] + nr - (size_t)t->lo[nh]];
    const int32_t *prev = t->val + t->off[p];
    int32_t *row = NULL;
    for (size_t i = p + 1; i <= nh; i++) {
        row = t->roll[i & 1];
        ed_row(ref, cand[i - 1], prev, t->lo[i - 1], t->hi[i - 1], row, NULL, t->lo[i],
               t->hi[i]);
        prev = row;
    }
    return row[nr - (size_t)t->lo[nh]];
}

/* Walks the operations of the last ed_full back from the corner and turns
 * them into sacreBLEU's alignment (with insertions and deletions flipped, as
 * if the reference were rewritten into the hypothesis): align[r] is the
 * hypothesis position of reference word r (-1 before the first), and the
 * prefix sums hsum/rsum count erroneous words. Returns -1 if the band lost
 * the path (sacreBLEU would raise). */
static int alignment(kv_ter *t, size_t nh, size_t nr)
{
    size_t n = 0;
    size_t i = nh, j = nr;
    while (i > 0 || j > 0) {
        uint8_t op = OP_UNDEF;
        if ((int32_t)j >= t->lo[i] && (int32_t)j < t->hi[i])
            op = t->op[t->off[i] + j - (size_t)t->lo[i]];
        t->trace[n++] = op;
        if (op == OP_NOP || op == OP_SUB) {
            i--;
            j--;
        } else if (op == OP_INS) {
            j--;
        } else if (op == OP_DEL) {
            i--;
        } else {
            return -1;
        }
    }
    int32_t ph = -1, pr = -1;
    t->hsum[0] = 0;
    t->rsum[0] = 0;
    while (n > 0) {
        uint8_t op = t->trace[--n];
        if (op == OP_NOP || op == OP_SUB) {
            int err = op == OP_SUB;
            ph++;
            pr++;
            t->align[pr] = ph;
            t->hsum[ph + 1] = t->hsum[ph] + err;
            t->rsum[pr + 1] = t->rsum[pr] + err;
        } else if (op == OP_DEL) { /* a hypothesis word: an insertion once flipped */
            ph++;
            t->hsum[ph + 1] = t->hsum[ph] + 1;
        } else { /* a reference word: a deletion once flipped */
            pr++;
            t->align[pr] = ph;
            t->rsum[pr + 1] = t->rsum[pr] + 1;
        }
    }
    return 0;
}

/* sacreBLEU's _perform_shift, Python slice clamping included. */
static size_t put_slice(uint32_t *dst, size_t k, const uint32_t *w, size_t n, int64_t a,
                        int64_t b)
{
    if (a < 0)
        a = 0;
    if (b > (int64_t)n)
        b = (int64_t)n;
    if (a < b) {
        memcpy(dst + k, w + a, (size_t)(b - a) * sizeof *w);
        k += (size_t)(b - a);
    }
    return k;
}

static void perform_shift(const uint32_t *w, size_t n, int64_t start, int64_t len,
                          int64_t target, uint32_t *dst)
{
    size_t k = 0;
    if (target < start) {
        k = put_slice(dst, k, w, n, 0, target);
        k = put_slice(dst, k, w, n, start, start + len);
        k = put_slice(dst, k, w, n, target, start);
        k = put_slice(dst, k, w, n, start + len, (int64_t)n);
    } else if (target > start + len) {
        k = put_slice(dst, k, w, n, 0, start);
        k = put_slice(dst, k, w, n, start + len, target);
        k = put_slice(dst, k, w, n, start, start + len);
        k = put_slice(dst, k, w, n, target, (int64_t)n);
    } else {
        k = put_slice(dst, k, w, n, 0, start);
        k = put_slice(dst, k, w, n, start + len, len + target);
        k = put_slice(dst, k, w, n, start, start + len);
        k = put_slice(dst, k, w, n, len + target, (int64_t)n);
    }
}

typedef struct shift_choice {
    int found;
    int32_t gain;
    int64_t len, start, target;
} shift_choice;

/* Tercom's ranking: more edits saved, then a longer block, then an earlier
 * start, then an earlier target. */
static int better(const shift_choice *b, int32_t gain, int64_t len, int64_t start,
                  int64_t target)
{
    if (!b->found || gain != b->gain)
        return !b->found || gain > b->gain;
    if (len != b->len)
        return len > b->len;
    if (start != b->start)
        return start < b->start;
    return target < b->target;
}

/* Edits of hyp against one non-empty reference (sacreBLEU
 * translation_edit_rate), or -1 if the band lost the path. */
static int64_t edit_count(kv_ter *t, const uint32_t *hyp, size_t nh, const uint32_t *ref,
                          size_t nr)
{
    band_layout(t, nh, nr);
    grow_hyp(t, nh + 1);
    grow_ref(t, nr + 1);
    t->trace = ensure(t->trace, &t->trace_cap, nh + nr + 1, 1);
    memcpy(t->cur, hyp, nh * sizeof *hyp);
    uint32_t *cur = t->cur;

    int64_t shifts = 0;
    size_t checked = 0;
    for (;;) {
        int32_t pre = ed_full(t, cur, nh, ref, nr);
        if (alignment(t, nh, nr) != 0)
            return -1;
        shift_choice best = {0};
        for (size_t sh = 0; sh < nh; sh++) {
            for (size_t sr = 0; sr < nr; sr++) {
                if ((sr > sh ? sr - sh : sh - sr) > MAX_SHIFT_DIST)
                    continue;
                for (size_t len = 0; cur[sh + len] == ref[sr + len] && len < MAX_SHIFT_SIZE;) {
                    len++;
                    /* worth trying only if both sides have errors there
                     * and the target is outside the block */
                    int64_t at = t->align[sr];
                    int skip = t->hsum[sh + len] == t->hsum[sh] ||
                               t->rsum[sr + len] == t->rsum[sr] ||
                               (at >= (int64_t)sh && at < (int64_t)(sh + len));
                    if (!skip) {
                        int64_t prev_idx = -1;
                        for (int64_t offs = -1; offs < (int64_t)len; offs++) {
                            int64_t r = (int64_t)sr + offs;
                            int64_t idx = r == -1 ? 0 : (int64_t)t->align[r] + 1;
                            if (idx == prev_idx)
                                continue;
                            prev_idx = idx;
                            perform_shift(cur, nh, (int64_t)sh, (int64_t)len, idx, t->cand);
                            int32_t gain = pre - ed_candidate(t, t->cand, cur, nh, ref, nr);
                            checked++;
                            if (better(&best, gain, (int64_t)len, (int64_t)sh, idx)) {
                                best.found = 1;
                                best.gain = gain;
                                best.len = (int64_t)len;
                                best.start = (int64_t)sh;
                                best.target = idx;
                            }
                        }
                        if (checked >= MAX_SHIFT_CANDIDATES)
                            goto searched;
                    }
                    if (sh + len == nh || sr + len == nr)
                        break;
                }
            }
        }
    searched:
        /* an exhausted budget ends the search before this round's shift */
        if (checked >= MAX_SHIFT_CANDIDATES || !best.found || best.gain <= 0)
            return pre + shifts;
        shifts++;
        perform_shift(cur, nh, best.start, best.len, best.target, t->cand);
        memcpy(cur, t->cand, nh * sizeof *cur);
    }
}

/* ---- segments and corpus ------------------------------------------------ */

int kv_ter_segment(kv_ter *t, const char *hyp, size_t hyp_len, const char *const *refs,
                   const size_t *ref_lens, size_t n_refs, kv_ter_stats *out, char *err,
                   size_t errlen)
{
    size_t present = 0;
    for (size_t k = 0; k < n_refs; k++)
        present += refs[k] != NULL;
    if (present == 0) {
        snprintf(err, errlen, "no reference for this segment");
        return -1;
    }

    /* tokenize every side (references first, hypothesis last), split and
     * intern: spans of side k are [first[k], first[k + 1]) */
    size_t sides = n_refs + 1;
    size_t first_small[17];
    size_t *first = sides + 1 <= 17 ? first_small : kv_xmalloc((sides + 1) * sizeof *first);
    kv_buf_clear(&t->text);
    size_t nspans = 0;
    int rc = 0;
    for (size_t k = 0; k < sides; k++) {
        first[k] = nspans;
        const char *s = k < n_refs ? refs[k] : hyp;
        size_t n = k < n_refs ? ref_lens[k] : hyp_len;
        if (!s)
            continue;
        if (tercom(&t->o, s, n, &t->s1, &t->s2) != 0) {
            snprintf(err, errlen, "lowercasing failed");
            rc = -1;
            goto out;
        }
        size_t base = t->text.len;
        kv_buf_put(&t->text, t->s1.p, t->s1.len);
        kv_span *tmp = NULL;
        size_t tmpcap = 0;
        size_t got = kv_split_py(t->s1.p, t->s1.len, &tmp, &tmpcap);
        t->spans = ensure(t->spans, &t->spans_cap, nspans + got, sizeof *t->spans);
        for (size_t i = 0; i < got; i++) {
            t->spans[nspans + i].off = (uint32_t)(tmp[i].off + base);
            t->spans[nspans + i].len = tmp[i].len;
        }
        free(tmp);
        nspans += got;
    }
    first[sides] = nspans;

    t->ids = ensure(t->ids, &t->ids_cap, nspans + 1, sizeof *t->ids);
    kv_interner_reset(&t->in, nspans);
    for (size_t i = 0; i < nspans; i++)
        t->ids[i] = kv_interner_id(&t->in, t->text.p + t->spans[i].off, t->spans[i].len);

    const uint32_t *h = t->ids + first[n_refs];
    size_t nh = first[sides] - first[n_refs];
    int64_t best = -1;
    uint64_t len_sum = 0;
    for (size_t k = 0; k < n_refs; k++) {
        if (!refs[k])
            continue;
        size_t nr = first[k + 1] - first[k];
        int64_t e = nr == 0 ? (int64_t)nh : edit_count(t, h, nh, t->ids + first[k], nr);
        if (e < 0) {
            snprintf(err, errlen, "TER edit distance band lost the alignment");
            rc = -1;
            goto out;
        }
        len_sum += nr;
        if (best < 0 || e < best)
            best = e;
    }
    out->edits = (double)best;
    out->ref_length = (double)len_sum / (double)present;
out:
    if (first != first_small)
        free(first);
    return rc;
}

void kv_ter_stats_add(kv_ter_stats *acc, const kv_ter_stats *s)
{
    acc->edits += s->edits;
    acc->ref_length += s->ref_length;
}

double kv_ter_compute(const kv_ter_stats *s)
{
    double r;
    if (s->ref_length > 0)
        r = s->edits / s->ref_length;
    else
        r = s->edits > 0 ? 1.0 : 0.0;
    return 100 * r;
}

void kv_ter_signature(const kv_ter_opts *o, int nrefs, const char *norm, char *dst,
                      size_t dstlen)
{
    char nr[16];
    if (nrefs < 0)
        snprintf(nr, sizeof nr, "var");
    else
        snprintf(nr, sizeof nr, "%d", nrefs);
    snprintf(dst, dstlen,
             "TER|nrefs:%s|case:%s|tok:tercom|norm:%s|punct:%s|asian:%s|tnorm:%s|v:%s", nr,
             o->case_sensitive ? "mixed" : "lc", o->normalized ? "yes" : "no",
             o->no_punct ? "no" : "yes", o->asian_support ? "yes" : "no", norm ? norm : "none",
             KOEVAL_VERSION);
}
