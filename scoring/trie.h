/*
 * trie.h — clipped n-gram matches of one hypothesis against one reference
 * over small dense symbol ids (chrF's characters and words, BLEU's tokens).
 * Internal to scoring/.
 *
 * match[n-1] for the orders n = 1..N of reference symbols r[0..RL) against
 * hypothesis symbols h[0..HL) (bytes, or 16-bit when `wide`), symbols being
 * < W: the number of hypothesis n-grams matched by a distinct reference
 * occurrence, i.e. the sum over n-grams of min(reference count, hypothesis
 * count). Reference n-grams become trie nodes: order 1 is node 1 + symbol, a
 * longer n-gram the child of its (n-1)-gram's node for its last symbol.
 * Node 0 means "in no reference"; its row stays all zero, so a hypothesis
 * n-gram whose prefix is in no reference falls to 0 again without a test.
 *
 * A common prefix of P symbols and a common suffix of S symbols hold the
 * same n-grams on both sides; those match each other (min(a + b, a + c) =
 * a + min(b, c)) and are only counted. The last N - 1 positions of the
 * prefix are still walked (without counting) for the identities of the
 * longer n-grams that start there.
 *
 * Returns false, having changed nothing but zeroing match, when the trie would need more
 * than 2^16 nodes.
 */
#ifndef KOEVAL_TRIE_H
#define KOEVAL_TRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/buf.h"

/* Scratch state, reused from pair to pair; zero-initialise, free with
 * kv_trie_free. */
typedef struct kv_trie {
    /* T[node * width + symbol] = child node, 0 = none; all zero between
     * pairs (the entries set are listed in `touched`) */
    uint16_t *T;
    size_t T_cap;
    uint32_t *touched;
    size_t touched_cap;
    uint32_t *cnt; /* per node: reference occurrences not matched yet */
    size_t cnt_cap;
    uint16_t *ids; /* per position: node of its n-gram of the current order */
    size_t ids_cap;
} kv_trie;

static inline void kv_trie_free(kv_trie *t)
{
    free(t->T);
    free(t->touched);
    free(t->cnt);
    free(t->ids);
    memset(t, 0, sizeof *t);
}

/* Makes *p hold at least `want` elements of `size` bytes (contents not
 * kept). */
static inline void kv_grow_scratch(void **p, size_t *cap, size_t want, size_t size)
{
    if (*cap >= want)
        return;
    *cap = want + want / 2;
    free(*p);
    *p = kv_xmalloc(*cap * size);
}

/* match[0..N) as described at the top of this file: r and h are arrays of
 * uint8_t, or of uint16_t when `wide`; every symbol < W; N >= 1. Returns
 * true, or false (match zeroed, nothing else changed) when the trie would need more than
 * 65,535 nodes. The scratch state f is reused; nothing is allocated once it
 * has grown to the largest pair seen. */
#if defined(__GNUC__)
__attribute__((always_inline)) /* callers pass `wide` as a constant */
#endif
static inline bool kv_trie_match(kv_trie *f, const void *r, size_t RL, const void *h, size_t HL,
                          size_t W, int N, bool wide, uint64_t *match)
{
#define SYM(a, i) (wide ? (size_t)((const uint16_t *)(a))[i] : (size_t)((const uint8_t *)(a))[i])
    const size_t NN = (size_t)N;
    for (int n = 0; n < N; n++)
        match[n] = 0;
    if (RL == 0 || HL == 0)
        return true;
    size_t m = RL < HL ? RL : HL;
    size_t P = 0;
    while (P < m && SYM(r, P) == SYM(h, P))
        P++;
    size_t S = 0;
    while (S < m - P && SYM(r, RL - 1 - S) == SYM(h, HL - 1 - S))
        S++;
    size_t lo = P >= NN ? P - NN + 1 : 0;
    size_t nodes = 1 + W + (NN - 1) * (RL - lo);
    if (nodes > 0xFFFF)
        return false;
    if (f->T_cap < nodes * W) {
        free(f->T);
        f->T_cap = nodes * W;
        f->T = kv_xcalloc(f->T_cap, sizeof *f->T);
    }
    kv_grow_scratch((void **)&f->touched, &f->touched_cap, nodes, sizeof *f->touched);
    if (f->cnt_cap < nodes) {
        free(f->cnt);
        f->cnt_cap = nodes + nodes / 2;
        f->cnt = kv_xcalloc(f->cnt_cap, sizeof *f->cnt);
    }
    kv_grow_scratch((void **)&f->ids, &f->ids_cap, (RL > HL ? RL : HL) + 1, sizeof *f->ids);
    uint16_t *T = f->T, *ids = f->ids;
    uint32_t *cnt = f->cnt, *touched = f->touched;
    uint32_t next = (uint32_t)W + 1, nt = 0;

    for (size_t n = 1; n <= NN && n <= RL; n++) {
        size_t from = P >= n ? P - n + 1 : 0;
        size_t hi = RL - n + 1 < RL - S ? RL - n + 1 : RL - S;
        if (n == 1) {
            for (size_t i = lo; i < hi; i++) {
                uint32_t id = 1 + (uint32_t)SYM(r, i);
                ids[i] = (uint16_t)id;
                cnt[id] += i >= from;
            }
            continue;
        }
        for (size_t i = lo; i < hi; i++) {
            uint32_t at = (uint32_t)(ids[i] * W + SYM(r, i + n - 1));
            uint32_t id = T[at];
            bool fresh = id == 0;
            id = fresh ? next : id;
            T[at] = (uint16_t)id;
            touched[nt] = at;
            nt += fresh;
            next += fresh;
            ids[i] = (uint16_t)id;
            cnt[id] += i >= from;
        }
    }
    for (size_t n = 1; n <= NN && n <= HL && n <= RL; n++) {
        size_t from = P >= n ? P - n + 1 : 0;
        size_t hi = HL - n + 1 < HL - S ? HL - n + 1 : HL - S;
        uint64_t got = (P >= n ? P - n + 1 : 0) + (S >= n ? S - n + 1 : 0);
        size_t mid = from < hi ? from : hi;
        if (n == 1) {
            for (size_t i = lo; i < mid; i++)
                ids[i] = (uint16_t)(1 + SYM(h, i));
            for (size_t i = mid; i < hi; i++) {
                uint32_t id = 1 + (uint32_t)SYM(h, i);
                ids[i] = (uint16_t)id;
                uint32_t t = cnt[id] > 0;
                cnt[id] -= t;
                got += t;
            }
        } else {
            for (size_t i = lo; i < mid; i++)
                ids[i] = T[ids[i] * W + SYM(h, i + n - 1)];
            for (size_t i = mid; i < hi; i++) {
                uint32_t id = T[ids[i] * W + SYM(h, i + n - 1)];
                ids[i] = (uint16_t)id;
                uint32_t t = cnt[id] > 0;
                cnt[id] -= t;
                got += t;
            }
        }
        match[n - 1] = got;
    }
    for (uint32_t k = 0; k < nt; k++)
        T[touched[k]] = 0;
    memset(cnt, 0, next * sizeof *cnt);
    return true;
#undef SYM
}

#endif
