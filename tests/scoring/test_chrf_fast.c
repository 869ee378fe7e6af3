/*
 * chrF/chrF++ statistics: the single-reference fast path (scoring/chrf_fast.c)
 * against the general path (scoring/chrf.c) and against a naive count written
 * here (n-grams sorted and merged, min(hyp, ref) per distinct n-gram), on
 * random segments: repeated characters and words, word-level noise, all
 * kinds of Python whitespace, ASCII punctuation next to words, non-BMP
 * characters, more than 256 distinct characters, long segments, empty
 * sides; single and several references; lowercasing, orders 1..8.
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/chrf.h"
#include "scoring/chrf_fast.h"
#include "src/buf.h"
#include "src/text.h"

/* ---- the naive count ---------------------------------------------------- */

typedef struct seq {
    uint32_t *v;
    size_t n, cap;
} seq;

static void seq_push(seq *s, uint32_t x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    s->v[s->n++] = x;
}

/* n-grams of one sequence as start positions, sorted by content */
static const uint32_t *g_sort_base;
static size_t g_sort_n;

static int cmp_gram(const void *a, const void *b)
{
    const uint32_t *x = g_sort_base + *(const size_t *)a, *y = g_sort_base + *(const size_t *)b;
    for (size_t k = 0; k < g_sort_n; k++)
        if (x[k] != y[k])
            return x[k] < y[k] ? -1 : 1;
    return 0;
}

static size_t *sorted_grams(const seq *s, size_t n, size_t *count)
{
    *count = s->n >= n ? s->n - n + 1 : 0;
    size_t *pos = malloc((*count + 1) * sizeof *pos);
    assert_non_null(pos);
    for (size_t i = 0; i < *count; i++)
        pos[i] = i;
    g_sort_base = s->v;
    g_sort_n = n;
    qsort(pos, *count, sizeof *pos, cmp_gram);
    return pos;
}

static int cmp_across(const seq *a, size_t i, const seq *b, size_t j, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (a->v[i + k] != b->v[j + k])
            return a->v[i + k] < b->v[j + k] ? -1 : 1;
    return 0;
}

/* sum over distinct n-grams of min(count in hyp, count in ref) */
static uint64_t naive_match(const seq *hyp, const seq *ref, size_t n)
{
    size_t nh, nr;
    size_t *ph = sorted_grams(hyp, n, &nh), *pr = sorted_grams(ref, n, &nr);
    uint64_t m = 0;
    size_t i = 0, j = 0;
    while (i < nh && j < nr) {
        int c = cmp_across(hyp, ph[i], ref, pr[j], n);
        if (c < 0) {
            i++;
        } else if (c > 0) {
            j++;
        } else {
            m++;
            i++;
            j++;
        }
    }
    free(ph);
    free(pr);
    return m;
}

static bool ascii_punct(uint32_t cp)
{
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
}

/* Words are interned across both sides by their code points, linearly. */
typedef struct vocab {
    seq *words;
    size_t n;
} vocab;

static uint32_t intern(vocab *vc, const uint32_t *cp, size_t len)
{
    for (size_t k = 0; k < vc->n; k++)
        if (vc->words[k].n == len && memcmp(vc->words[k].v, cp, len * sizeof *cp) == 0)
            return (uint32_t)k;
    vc->words = realloc(vc->words, (vc->n + 1) * sizeof *vc->words);
    assert_non_null(vc->words);
    seq w = {0};
    for (size_t k = 0; k < len; k++)
        seq_push(&w, cp[k]);
    vc->words[vc->n] = w;
    return (uint32_t)vc->n++;
}

/* chars: code points without Python whitespace; words: str.split() words
 * with one trailing (else leading) ASCII punctuation character split off */
static void naive_side(const char *s, size_t n, vocab *vc, seq *chars, seq *words)
{
    uint32_t *cps = NULL;
    size_t cap = 0, m = n ? kv_utf8_decode(s, n, &cps, &cap) : 0;
    for (size_t i = 0; i < m;) {
        if (kv_is_py_space(cps[i])) {
            i++;
            continue;
        }
        size_t a = i;
        while (i < m && !kv_is_py_space(cps[i]))
            seq_push(chars, cps[i++]);
        size_t len = i - a;
        if (len > 1 && ascii_punct(cps[i - 1])) {
            seq_push(words, intern(vc, cps + a, len - 1));
            seq_push(words, intern(vc, cps + i - 1, 1));
        } else if (len > 1 && ascii_punct(cps[a])) {
            seq_push(words, intern(vc, cps + a, 1));
            seq_push(words, intern(vc, cps + a + 1, len - 1));
        } else {
            seq_push(words, intern(vc, cps + a, len));
        }
    }
    free(cps);
}

static void naive_pair(const kv_chrf_opts *o, const char *hyp, const char *ref, uint64_t *v)
{
    kv_buf lh = {0}, lr = {0};
    size_t hn = strlen(hyp), rn = strlen(ref);
    if (o->lowercase) {
        assert_int_equal(kv_py_lower(hyp, hn, &lh), 0);
        assert_int_equal(kv_py_lower(ref, rn, &lr), 0);
        hyp = lh.p ? lh.p : "";
        hn = lh.len;
        ref = lr.p ? lr.p : "";
        rn = lr.len;
    }
    vocab vc = {0};
    seq hc = {0}, hw = {0}, rc = {0}, rw = {0};
    naive_side(ref, rn, &vc, &rc, &rw);
    naive_side(hyp, hn, &vc, &hc, &hw);
    int orders = o->char_order + o->word_order;
    for (int i = 0; i < orders; i++) {
        bool word = i >= o->char_order;
        const seq *h = word ? &hw : &hc, *r = word ? &rw : &rc;
        size_t n = (size_t)(word ? i - o->char_order + 1 : i + 1);
        v[3 * i] = h->n >= n ? h->n - n + 1 : 0;
        v[3 * i + 1] = r->n >= n ? r->n - n + 1 : 0;
        v[3 * i + 2] = naive_match(h, r, n);
        if (v[3 * i + 1] == 0)
            v[3 * i] = 0;
    }
    for (size_t k = 0; k < vc.n; k++)
        free(vc.words[k].v);
    free(vc.words);
    free(hc.v);
    free(hw.v);
    free(rc.v);
    free(rw.v);
    kv_buf_free(&lh);
    kv_buf_free(&lr);
}

/* ---- random segments ----------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)((rng_state >> 11) % n);
}

/* Character pools: what a segment's words are made of. */
enum { POOL_ABC, POOL_HANGUL, POOL_MIXED, POOL_ASTRAL, POOL_WIDE, POOL_CASE, N_POOLS };

static uint32_t pool_cp(int pool)
{
    static const uint32_t mixed[] = {'a', 'b', 'k', 'z', '0', '7', 0xE9, 0xDF, 0x3B1, 0x416,
                                     0xAC00, 0xB098, 0xD7A3, 0x4E00, 0x3042, 0x200B, 0xFEFF};
    static const uint32_t cased[] = {'A', 'a', 'B', 'b', 0xC9, 0xE9, 0x3A3, 0x3C3, 0x130, 'I', 0x1E9E};
    switch (pool) {
    case POOL_ABC:
        return 'a' + rnd(3);
    case POOL_HANGUL:
        return 0xAC00 + rnd(40);
    case POOL_MIXED:
        return mixed[rnd(sizeof mixed / sizeof *mixed)];
    case POOL_ASTRAL:
        return rnd(4) == 0 ? 0x1F600 + rnd(3) : 'a' + rnd(5);
    case POOL_WIDE:
        return 0x4E00 + rnd(600);
    default:
        return cased[rnd(sizeof cased / sizeof *cased)];
    }
}

static void put_space(kv_buf *b)
{
    static const uint32_t spaces[] = {' ', ' ', ' ', '\t', '\n', 0x0B, 0x1C, 0x85, 0xA0,
                                      0x1680, 0x2003, 0x2028, 0x202F, 0x205F, 0x3000};
    size_t k = 1 + (rnd(5) == 0);
    for (size_t i = 0; i < k; i++)
        kv_buf_put_cp(b, spaces[rnd(sizeof spaces / sizeof *spaces)]);
}

/* A vocabulary of words (UTF-8, with ASCII punctuation at either end now
 * and then, some of one character), small enough to repeat. */
typedef struct words {
    kv_buf w[24];
    size_t n;
} words;

static void make_words(words *ws, int pool, bool long_words)
{
    static const char punct[] = ".,!?\"'()[]-:;_@`{}~#$%&*+/<=>^|\\";
    ws->n = 3 + rnd(20);
    for (size_t k = 0; k < ws->n; k++) {
        kv_buf *b = &ws->w[k];
        kv_buf_clear(b);
        size_t len = 1 + rnd(long_words ? 24 : 6);
        uint32_t r = rnd(8);
        if (r == 0)
            kv_buf_put(b, &punct[rnd(sizeof punct - 1)], 1);
        for (size_t i = 0; i < len; i++)
            kv_buf_put_cp(b, pool_cp(pool));
        if (r == 1 || r == 2)
            kv_buf_put(b, &punct[rnd(sizeof punct - 1)], 1);
        if (r == 3) {
            kv_buf_clear(b);
            kv_buf_put(b, &punct[rnd(sizeof punct - 1)], 1);
        }
    }
}

/* A segment of `n` words, indices into the vocabulary. */
static void put_segment(kv_buf *b, const words *ws, const size_t *idx, size_t n)
{
    kv_buf_clear(b);
    if (rnd(4) == 0)
        put_space(b);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put_space(b);
        kv_buf_put(b, ws->w[idx[i]].p, ws->w[idx[i]].len);
    }
    if (rnd(4) == 0)
        put_space(b);
    kv_buf_put(b, "", 0); /* a NUL-terminated string even when empty */
}

/* The reference's words with a few word-level edits, as in real noisy
 * hypotheses (or an unrelated segment now and then). */
static size_t noisy(const words *ws, const size_t *ref, size_t n, size_t *out, size_t cap)
{
    size_t k = 0;
    if (rnd(8) == 0) {
        size_t m = rnd((uint32_t)cap);
        for (; k < m; k++)
            out[k] = rnd((uint32_t)ws->n);
        return k;
    }
    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        uint32_t r = rnd(10);
        if (r == 0)
            continue; /* deleted */
        if (r == 1)
            out[k++] = rnd((uint32_t)ws->n); /* inserted */
        out[k++] = r == 2 ? rnd((uint32_t)ws->n) : ref[i];
    }
    return k;
}

/* ---- the comparisons ----------------------------------------------------- */

static void expect_stats(const uint64_t *got, const uint64_t *want, int orders, const char *what,
                         const char *hyp, const char *ref)
{
    for (int i = 0; i < 3 * orders; i++) {
        if (got[i] != want[i]) {
            print_error("%s: stat %d (order %d, %s) is %llu, expected %llu\nhyp: %s\nref: %s\n",
                        what, i, i / 3 + 1, i % 3 == 0 ? "hyp" : i % 3 == 1 ? "ref" : "match",
                        (unsigned long long)got[i], (unsigned long long)want[i], hyp, ref);
            fail();
        }
    }
}

/* The fast path, the general path and the naive count on one single-reference
 * pair; returns whether the fast path took it. */
static bool check_single(kv_chrf *fast, kv_chrf *general, const kv_chrf_opts *o, const char *hyp,
                         const char *ref)
{
    int orders = o->char_order + o->word_order;
    uint64_t want[3 * KV_CHRF_MAX_ORDER] = {0};
    naive_pair(o, hyp, ref, want);
    size_t rl = strlen(ref);
    char err[128];
    kv_chrf_stats a, b;
    assert_int_equal(kv_chrf_segment(fast, hyp, strlen(hyp), &ref, &rl, 1, &a, err, sizeof err), 0);
    assert_int_equal(kv_chrf_segment(general, hyp, strlen(hyp), &ref, &rl, 1, &b, err, sizeof err),
                     0);
    expect_stats(a.v, want, orders, "kv_chrf_segment", hyp, ref);
    expect_stats(b.v, want, orders, "general path", hyp, ref);

    /* the fast path on its own (no lowercasing here) */
    if (o->lowercase)
        return false;
    kv_chrf_fast *f = kv_chrf_fast_new();
    uint64_t v[3 * KV_CHRF_MAX_ORDER] = {0};
    bool took = kv_chrf_fast_pair(f, o, ref, rl, hyp, strlen(hyp), v);
    kv_chrf_fast_free(f);
    if (took) {
        for (int i = 0; i < orders; i++)
            if (v[3 * i + 1] == 0)
                v[3 * i] = 0;
        expect_stats(v, want, orders, "kv_chrf_fast_pair", hyp, ref);
    }
    return took;
}

static kv_chrf_opts random_opts(void)
{
    kv_chrf_opts o = kv_chrf_defaults();
    uint32_t r = rnd(6);
    o.char_order = r < 3 ? 6 : 1 + (int)rnd(8);
    o.word_order = rnd(2) ? 2 : (int)rnd(4);
    o.lowercase = rnd(4) == 0;
    o.eps_smoothing = rnd(4) == 0;
    return o;
}

static void test_random_single(void **state)
{
    (void)state;
    words ws = {0};
    kv_buf hb = {0}, rb = {0};
    size_t ref[64], hyp[64];
    size_t fast_taken = 0, fast_declined = 0;
    for (int round = 0; round < 300; round++) {
        kv_chrf_opts o = random_opts();
        kv_chrf *fast = kv_chrf_new(&o), *general = kv_chrf_new(&o);
        kv_chrf_force_general(general, true);
        int pool = (int)rnd(N_POOLS);
        make_words(&ws, pool, rnd(5) == 0);
        /* many pairs per scorer: scratch state carries over */
        for (int pair = 0; pair < 20; pair++) {
            size_t rn = rnd(40), hn;
            for (size_t i = 0; i < rn; i++)
                ref[i] = rnd((uint32_t)ws.n);
            hn = noisy(&ws, ref, rn, hyp, 64);
            put_segment(&rb, &ws, ref, rn);
            put_segment(&hb, &ws, hyp, hn);
            if (check_single(fast, general, &o, hb.p, rb.p))
                fast_taken++;
            else
                fast_declined++;
        }
        kv_chrf_free(fast);
        kv_chrf_free(general);
    }
    for (size_t k = 0; k < 24; k++)
        kv_buf_free(&ws.w[k]);
    kv_buf_free(&hb);
    kv_buf_free(&rb);
    /* both paths must have been exercised */
    assert_true(fast_taken > 1000);
    assert_true(fast_declined > 300);
}

/* Fixed pairs at the edges: the fast path's answer for each. */
static void test_edges(void **state)
{
    (void)state;
    kv_chrf_opts o = kv_chrf_defaults();
    o.word_order = 2;
    kv_chrf *fast = kv_chrf_new(&o), *general = kv_chrf_new(&o);
    kv_chrf_force_general(general, true);
    const char *wide_hyp = NULL;
    kv_buf wide = {0}, lng = {0}, lng2 = {0}, lng3 = {0};
    for (uint32_t k = 0; k < 300; k++)
        kv_buf_put_cp(&wide, 0x4E00 + k);
    wide_hyp = wide.p;
    /* long: more trie nodes than 16-bit ids give, unless most is common */
    for (int k = 0; k < 20000; k++) {
        kv_buf_put_cp(&lng, 'a' + rnd(26));
        if (k % 7 == 6)
            kv_buf_put_cp(&lng, ' ');
    }
    kv_buf_put(&lng2, lng.p, lng.len);
    kv_buf_put(&lng2, " xyz", 4);
    kv_buf_put(&lng3, "q ", 2);
    kv_buf_put(&lng3, lng2.p, lng2.len);
    struct {
        const char *hyp, *ref;
        bool fast;
    } cases[] = {
        {"", "", true},
        {"abc", "", true},
        {"", "abc", true},
        {"   ", " \t ", true},
        {"aaaaaaa", "aaaa", true},
        {"a b a b a b", "b a b a", true},
        {"ab,", "ab ,", true},
        {"(hi)", "( hi )", true},
        {", .", ",.", true},
        {"가나다 라마", "가나다라마", true},
        {"😀 smile", "😀 smile", false},
        {"naïve café", "naïve cafe", true},
        {"ab\xC3", "ab", false},            /* truncated sequence */
        {"\xED\xA0\x80", "x", false},       /* surrogate */
        {"abcdefghijklmnopqrstu x", "abcdefghijklmnopqrstu y", true}, /* words > 16 */
        {"abcdefghijklmnopqrstu", "abcdefghijklmnopqrstv", true},
        {wide_hyp, "一丁", false},
        {lng2.p, lng.p, true}, /* the common prefix is not walked */
        {lng3.p, lng.p, false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        bool took = check_single(fast, general, &o, cases[k].hyp, cases[k].ref);
        if (took != cases[k].fast) {
            print_error("case %zu: fast path %s it\n", k, took ? "took" : "declined");
            fail();
        }
    }
    kv_buf_free(&wide);
    kv_buf_free(&lng);
    kv_buf_free(&lng2);
    kv_buf_free(&lng3);
    kv_chrf_free(fast);
    kv_chrf_free(general);
}

/* Several references (always the general path): the best reference by
 * segment F-score, first on ties, with the naive count. */
static void test_random_multi(void **state)
{
    (void)state;
    words ws = {0};
    kv_buf hb = {0}, rb[3] = {{0}};
    size_t ref[64], hyp[64];
    for (int round = 0; round < 200; round++) {
        kv_chrf_opts o = random_opts();
        int orders = o.char_order + o.word_order;
        kv_chrf *c = kv_chrf_new(&o);
        make_words(&ws, (int)rnd(N_POOLS), false);
        size_t rn = rnd(30);
        for (size_t i = 0; i < rn; i++)
            ref[i] = rnd((uint32_t)ws.n);
        size_t nrefs = 2 + rnd(2);
        const char *refs[3];
        size_t lens[3];
        for (size_t k = 0; k < nrefs; k++) {
            size_t other[64], on = noisy(&ws, ref, rn, other, 64);
            put_segment(&rb[k], &ws, other, on);
            refs[k] = rb[k].p;
            lens[k] = rb[k].len;
        }
        size_t hn = noisy(&ws, ref, rn, hyp, 64);
        put_segment(&hb, &ws, hyp, hn);
        kv_chrf_stats got;
        char err[128];
        assert_int_equal(kv_chrf_segment(c, hb.p, hb.len, refs, lens, nrefs, &got, err, sizeof err),
                         0);
        kv_chrf_stats want = {0};
        double best = -1;
        for (size_t k = 0; k < nrefs; k++) {
            kv_chrf_stats s = {0};
            naive_pair(&o, hb.p, refs[k], s.v);
            double f = kv_chrf_compute(&o, &s);
            if (f > best) {
                best = f;
                want = s;
            }
        }
        expect_stats(got.v, want.v, orders, "several references", hb.p, refs[0]);
        kv_chrf_free(c);
    }
    for (size_t k = 0; k < 24; k++)
        kv_buf_free(&ws.w[k]);
    kv_buf_free(&hb);
    for (size_t k = 0; k < 3; k++)
        kv_buf_free(&rb[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random_single),
        cmocka_unit_test(test_random_multi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
