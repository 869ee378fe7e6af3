/*
 * ROUGE as rouge-score 0.1.2 computes it (rouge_scorer.py), on token ids.
 *
 * Each call tokenizes both sides with the chosen tokenizer, interns the
 * tokens to integer ids (equal bytes = equal token, no normalization), and
 * then works on id arrays:
 *  - ROUGE-N: clipped n-gram overlap, counted in a hash table of n-grams;
 *    P = overlap / max(#prediction n-grams, 1), R = overlap / max(#target
 *    n-grams, 1).
 *  - ROUGE-L: LCS length with two DP rows; 0 when either side is empty.
 *  - ROUGE-Lsum: sentences are the "\n"-separated lines (empty lines
 *    dropped), each tokenized on its own. For every target sentence, the
 *    union of the target indices on one LCS with each prediction sentence,
 *    each LCS read back from the full DP table exactly as rouge-score's
 *    _backtrack_norec does (a match goes up-left; otherwise left only when
 *    t[i][j-1] > t[i-1][j], else up). The union's tokens, in target order,
 *    count as hits while both sides still have an unused occurrence of that
 *    token (per-token budgets against double counting).
 * F = 2PR/(P+R) evaluated as ((2·P)·R)/(P+R) like Python, 0 when P+R = 0.
 */
#include "scoring/rouge.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/buf.h"

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

int kv_rouge_parse_type(const char *name)
{
    if (strncmp(name, "rouge", 5) != 0)
        return -1;
    const char *r = name + 5;
    if (r[0] >= '1' && r[0] <= '9' && r[1] == '\0')
        return r[0] - '0';
    if (strcmp(r, "L") == 0)
        return KV_ROUGE_L;
    if (strcmp(r, "Lsum") == 0)
        return KV_ROUGE_LSUM;
    return -1;
}

const char *kv_rouge_type_name(int type)
{
    static const char *const names[] = {"rouge1", "rouge2", "rouge3", "rouge4", "rouge5",
                                        "rouge6", "rouge7", "rouge8", "rouge9"};
    if (type >= 1 && type <= 9)
        return names[type - 1];
    if (type == KV_ROUGE_L)
        return "rougeL";
    if (type == KV_ROUGE_LSUM)
        return "rougeLsum";
    return "rouge?";
}

/* ---- token interning ------------------------------------------------ */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Maps token bytes to dense ids 0..count-1. Tokens point into buffers that
 * the caller keeps alive and unchanged while the interner is used. */
typedef struct interner {
    uint32_t *slots; /* id + 1, 0 = empty */
    size_t mask;
    const char **ptr;
    uint32_t *len;
    size_t count, cap;
} interner;

static void interner_init(interner *in, size_t expected)
{
    size_t size = 16;
    while (size < expected * 2)
        size *= 2;
    in->slots = kv_xcalloc(size, sizeof *in->slots);
    in->mask = size - 1;
    in->cap = expected ? expected : 1;
    in->ptr = kv_xmalloc(in->cap * sizeof *in->ptr);
    in->len = kv_xmalloc(in->cap * sizeof *in->len);
    in->count = 0;
}

static void interner_free(interner *in)
{
    free(in->slots);
    free(in->ptr);
    free(in->len);
}

static uint32_t intern(interner *in, const char *s, size_t n)
{
    size_t at = (size_t)hash_bytes(s, n) & in->mask;
    for (;;) {
        uint32_t v = in->slots[at];
        if (v == 0)
            break;
        if (in->len[v - 1] == n && memcmp(in->ptr[v - 1], s, n) == 0)
            return v - 1;
        at = (at + 1) & in->mask;
    }
    /* `expected` was an upper bound on distinct tokens, so the table never
     * fills past half; grow the id arrays only as a safeguard. */
    if (in->count == in->cap) {
        in->cap *= 2;
        in->ptr = kv_xrealloc(in->ptr, in->cap * sizeof *in->ptr);
        in->len = kv_xrealloc(in->len, in->cap * sizeof *in->len);
    }
    uint32_t id = (uint32_t)in->count++;
    in->ptr[id] = s;
    in->len[id] = (uint32_t)n;
    in->slots[at] = id + 1;
    return id;
}

/* ---- tokenized sides ------------------------------------------------ */

/* One side (target or prediction): its tokenizer output, the token ids, and
 * for ROUGE-Lsum the sentence boundaries as token offsets. */
typedef struct side {
    kv_buf text;      /* tokenizer output: tokens joined by single spaces */
    size_t *sent_end; /* byte end in `text` of each sentence (Lsum) */
    size_t n_sent;
    uint32_t *ids;
    size_t n_ids;
    size_t *sent_tok; /* token offset where sentence k starts; [n_sent] = n_ids */
} side;

static void side_free(side *sd)
{
    kv_buf_free(&sd->text);
    free(sd->sent_end);
    free(sd->ids);
    free(sd->sent_tok);
}

static size_t count_tokens(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    size_t k = 1;
    for (size_t i = 0; i < n; i++)
        k += s[i] == ' ';
    return k;
}

/* Tokenizes s[0..n) into sd->text; with `by_line`, line by line on "\n"
 * with empty lines dropped, recording where each sentence ends. */
static int side_tokenize(const kv_rouge_opts *o, const char *s, size_t n, bool by_line, side *sd)
{
    const kv_tokenizer *tk = o && o->tokenizer ? o->tokenizer : NULL;
    kv_tokenize_fn fn = tk ? tk->fn : kv_tok_rouge;
    int flags = o ? o->tokenizer_flags : 0;
    kv_buf_put(&sd->text, "", 0);
    if (!by_line)
        return fn(s, n, flags, &sd->text);
    size_t cap = 0;
    size_t start = 0;
    while (start <= n) {
        const char *nl = memchr(s + start, '\n', n - start);
        size_t end = nl ? (size_t)(nl - s) : n;
        if (end > start) {
            /* Sentences are kept apart by a space so that the joined text
             * still splits into tokens; the recorded ends tell them apart. */
            size_t before = sd->text.len;
            if (before > 0)
                kv_buf_putc(&sd->text, ' ');
            size_t mark = sd->text.len;
            if (fn(s + start, end - start, flags, &sd->text) != 0)
                return -1;
            if (sd->text.len == mark) {
                sd->text.len = before;
                sd->text.p[before] = '\0';
            }
            if (sd->n_sent == cap) {
                cap = cap ? cap * 2 : 8;
                sd->sent_end = kv_xrealloc(sd->sent_end, cap * sizeof *sd->sent_end);
            }
            sd->sent_end[sd->n_sent++] = sd->text.len;
        }
        if (!nl)
            break;
        start = end + 1;
    }
    return 0;
}

/* Interns the tokens of sd->text, filling ids and (for sentences) sent_tok. */
static void side_intern(side *sd, interner *in)
{
    const char *t = sd->text.p ? sd->text.p : "";
    size_t n = sd->text.len;
    sd->ids = kv_xmalloc((count_tokens(t, n) + 1) * sizeof *sd->ids);
    sd->sent_tok = kv_xmalloc((sd->n_sent + 1) * sizeof *sd->sent_tok);
    size_t k = 0, sent = 0, i = 0;
    while (i < n) {
        while (sent < sd->n_sent && sd->sent_end[sent] <= i)
            sd->sent_tok[sent++ + 1] = k;
        size_t j = i;
        while (j < n && t[j] != ' ')
            j++;
        sd->ids[k++] = intern(in, t + i, j - i);
        i = j + 1;
    }
    while (sent < sd->n_sent)
        sd->sent_tok[sent++ + 1] = k;
    sd->sent_tok[0] = 0;
    sd->n_ids = k;
}

/* ---- scores ------------------------------------------------------------ */

static double fmeasure(double p, double r)
{
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

static void set_score(kv_rouge_score *out, double p, double r)
{
    out->precision = p;
    out->recall = r;
    out->fmeasure = fmeasure(p, r);
}

static bool too_many_cells(size_t a, size_t b)
{
    return a != 0 && b > KV_ROUGE_MAX_LCS_CELLS / a;
}

static uint64_t hash_ids(const uint32_t *ids, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        h ^= ids[i];
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
    }
    return h;
}

static void score_ngrams(const side *t, const side *p, size_t order, kv_rouge_score *out)
{
    size_t nt = t->n_ids >= order ? t->n_ids - order + 1 : 0;
    size_t np = p->n_ids >= order ? p->n_ids - order + 1 : 0;
    size_t size = 16;
    while (size < (nt + np) * 2)
        size *= 2;
    /* Slot value: index + 1 of the n-gram's first occurrence (target
     * positions first, then prediction positions offset by nt). */
    uint32_t *slots = kv_xcalloc(size, sizeof *slots);
    uint32_t *cnt_t = kv_xcalloc(nt + np + 1, sizeof *cnt_t);
    uint32_t *cnt_p = kv_xcalloc(nt + np + 1, sizeof *cnt_p);
    for (size_t pos = 0; pos < nt + np; pos++) {
        const uint32_t *g = pos < nt ? t->ids + pos : p->ids + (pos - nt);
        size_t at = (size_t)hash_ids(g, order) & (size - 1);
        uint32_t v;
        for (;;) {
            v = slots[at];
            if (v == 0) {
                v = (uint32_t)pos + 1;
                slots[at] = v;
                break;
            }
            size_t q = v - 1;
            const uint32_t *h = q < nt ? t->ids + q : p->ids + (q - nt);
            if (memcmp(g, h, order * sizeof *g) == 0)
                break;
            at = (at + 1) & (size - 1);
        }
        if (pos < nt)
            cnt_t[v - 1]++;
        else
            cnt_p[v - 1]++;
    }
    size_t overlap = 0;
    for (size_t q = 0; q < nt + np; q++)
        overlap += cnt_t[q] < cnt_p[q] ? cnt_t[q] : cnt_p[q];
    free(slots);
    free(cnt_t);
    free(cnt_p);
    double pr = (double)overlap / (double)(np > 1 ? np : 1);
    double rc = (double)overlap / (double)(nt > 1 ? nt : 1);
    set_score(out, pr, rc);
}

static int score_lcs(const side *t, const side *p, kv_rouge_score *out, char *err, size_t errlen)
{
    if (t->n_ids == 0 || p->n_ids == 0) {
        set_score(out, 0.0, 0.0);
        return 0;
    }
    if (too_many_cells(t->n_ids, p->n_ids)) {
        set_err(err, errlen,
                "rougeL: segment pair too long (tokens x tokens exceeds "
                "KV_ROUGE_MAX_LCS_CELLS)");
        return -1;
    }
    size_t cols = p->n_ids;
    uint32_t *prev = kv_xcalloc(cols + 1, sizeof *prev);
    uint32_t *cur = kv_xcalloc(cols + 1, sizeof *cur);
    for (size_t i = 0; i < t->n_ids; i++) {
        uint32_t ti = t->ids[i];
        for (size_t j = 1; j <= cols; j++) {
            if (ti == p->ids[j - 1])
                cur[j] = prev[j - 1] + 1;
            else
                cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
        }
        uint32_t *sw = prev;
        prev = cur;
        cur = sw;
    }
    size_t lcs = prev[cols];
    free(prev);
    free(cur);
    set_score(out, (double)lcs / (double)p->n_ids, (double)lcs / (double)t->n_ids);
    return 0;
}

/* Marks in `hit` the indices of r on the LCS of r and c that rouge-score's
 * backtrack reads out of the full table `tab` ((nr+1) x (nc+1)). */
static void lcs_mark(const uint32_t *r, size_t nr, const uint32_t *c, size_t nc, uint32_t *tab,
                     bool *hit)
{
    size_t w = nc + 1;
    for (size_t j = 0; j <= nc; j++)
        tab[j] = 0;
    for (size_t i = 1; i <= nr; i++) {
        uint32_t *row = tab + i * w, *up = row - w;
        row[0] = 0;
        for (size_t j = 1; j <= nc; j++) {
            if (r[i - 1] == c[j - 1])
                row[j] = up[j - 1] + 1;
            else
                row[j] = up[j] > row[j - 1] ? up[j] : row[j - 1];
        }
    }
    size_t i = nr, j = nc;
    while (i > 0 && j > 0) {
        if (r[i - 1] == c[j - 1]) {
            hit[i - 1] = true;
            i--;
            j--;
        } else if (tab[i * w + j - 1] > tab[(i - 1) * w + j]) {
            j--;
        } else {
            i--;
        }
    }
}

static int score_lsum(const side *t, const side *p, size_t n_types, kv_rouge_score *out, char *err,
                      size_t errlen)
{
    size_t m = t->n_ids, n = p->n_ids;
    if (m == 0 || n == 0) {
        set_score(out, 0.0, 0.0);
        return 0;
    }
    if (too_many_cells(m, n)) {
        set_err(err, errlen,
                "rougeLsum: summary pair too long (tokens x tokens exceeds "
                "KV_ROUGE_MAX_LCS_CELLS)");
        return -1;
    }
    uint32_t *cnt_r = kv_xcalloc(n_types, sizeof *cnt_r);
    uint32_t *cnt_c = kv_xcalloc(n_types, sizeof *cnt_c);
    for (size_t k = 0; k < m; k++)
        cnt_r[t->ids[k]]++;
    for (size_t k = 0; k < n; k++)
        cnt_c[p->ids[k]]++;
    size_t max_r = 0, max_c = 0;
    for (size_t s = 0; s < t->n_sent; s++) {
        size_t len = t->sent_tok[s + 1] - t->sent_tok[s];
        max_r = len > max_r ? len : max_r;
    }
    for (size_t s = 0; s < p->n_sent; s++) {
        size_t len = p->sent_tok[s + 1] - p->sent_tok[s];
        max_c = len > max_c ? len : max_c;
    }
    uint32_t *tab = kv_xmalloc((max_r + 1) * (max_c + 1) * sizeof *tab);
    bool *hit = kv_xmalloc(max_r + 1);
    size_t hits = 0;
    for (size_t s = 0; s < t->n_sent; s++) {
        const uint32_t *r = t->ids + t->sent_tok[s];
        size_t nr = t->sent_tok[s + 1] - t->sent_tok[s];
        if (nr == 0)
            continue;
        memset(hit, 0, nr);
        for (size_t q = 0; q < p->n_sent; q++) {
            size_t nc = p->sent_tok[q + 1] - p->sent_tok[q];
            if (nc > 0)
                lcs_mark(r, nr, p->ids + p->sent_tok[q], nc, tab, hit);
        }
        for (size_t k = 0; k < nr; k++) {
            uint32_t id = r[k];
            if (hit[k] && cnt_c[id] > 0 && cnt_r[id] > 0) {
                hits++;
                cnt_c[id]--;
                cnt_r[id]--;
            }
        }
    }
    free(tab);
    free(hit);
    free(cnt_r);
    free(cnt_c);
    set_score(out, (double)hits / (double)n, (double)hits / (double)m);
    return 0;
}

int kv_rouge_score_one(const kv_rouge_opts *o, int type, const char *target, size_t target_len,
                       const char *prediction, size_t prediction_len, kv_rouge_score *out,
                       char *err, size_t errlen)
{
    bool ngram = type >= 1 && type <= 9;
    if (!ngram && type != KV_ROUGE_L && type != KV_ROUGE_LSUM) {
        set_err(err, errlen, "unknown ROUGE type");
        return -1;
    }
    bool by_line = type == KV_ROUGE_LSUM;
    side t = {0}, p = {0};
    int rc = -1;
    if (side_tokenize(o, target, target_len, by_line, &t) != 0 ||
        side_tokenize(o, prediction, prediction_len, by_line, &p) != 0) {
        set_err(err, errlen, "ROUGE: the tokenizer failed (ICU error)");
    } else {
        interner in;
        interner_init(&in, count_tokens(t.text.p, t.text.len) + count_tokens(p.text.p, p.text.len));
        side_intern(&t, &in);
        side_intern(&p, &in);
        if (ngram) {
            score_ngrams(&t, &p, (size_t)type, out);
            rc = 0;
        } else if (type == KV_ROUGE_L) {
            rc = score_lcs(&t, &p, out, err, errlen);
        } else {
            rc = score_lsum(&t, &p, in.count, out, err, errlen);
        }
        interner_free(&in);
    }
    side_free(&t);
    side_free(&p);
    return rc;
}

int kv_rouge_score_multi(const kv_rouge_opts *o, int type, const char *const *targets,
                         const size_t *target_lens, size_t n_targets, const char *prediction,
                         size_t prediction_len, kv_rouge_score *out, char *err, size_t errlen)
{
    if (n_targets == 0) {
        set_err(err, errlen, "ROUGE score_multi: no targets");
        return -1;
    }
    for (size_t k = 0; k < n_targets; k++) {
        kv_rouge_score s;
        if (kv_rouge_score_one(o, type, targets[k], target_lens[k], prediction, prediction_len, &s,
                               err, errlen) != 0)
            return -1;
        if (k == 0 || s.fmeasure > out->fmeasure)
            *out = s;
    }
    return 0;
}
