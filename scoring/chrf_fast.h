/*
 * chrf_fast.h — chrF/chrF++ statistics of one hypothesis against one
 * reference for the common case (internal to scoring/chrf.c and its tests).
 *
 * The pair's code points get dense ids 0..255 while the UTF-8 is decoded,
 * and the n-grams of every order are counted in a trie held in plain arrays:
 * the node of an n-gram is the child of its (n-1)-gram's node for its last
 * symbol, so each position costs one array read per order and no hashing.
 * Word n-grams (chrF++) go through the same trie over dense word ids. The
 * result is the same as the general path in chrf.c, which handles what this
 * one declines.
 */
#ifndef KOEVAL_CHRF_FAST_H
#define KOEVAL_CHRF_FAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scoring/chrf.h"

typedef struct kv_chrf_fast kv_chrf_fast;

/* Scratch state, reused from pair to pair (one per kv_chrf). Never NULL. */
kv_chrf_fast *kv_chrf_fast_new(void);
void kv_chrf_fast_free(kv_chrf_fast *f);

/* [hyp, ref, match] counts per order (stride 3: char orders 1..o->char_order
 * then word orders 1..o->word_order, as kv_chrf_stats) of the hypothesis
 * hyp[0..hyp_len) against the single reference ref[0..ref_len), both UTF-8
 * already lowercased when o->lowercase. Returns false, leaving v to be
 * ignored, when the pair is not for this path: o->whitespace, a code point
 * outside the BMP or malformed UTF-8, more than 256 distinct characters, or
 * a segment so long that the trie would outgrow 16-bit node ids. */
bool kv_chrf_fast_pair(kv_chrf_fast *f, const kv_chrf_opts *o, const char *ref, size_t ref_len,
                       const char *hyp, size_t hyp_len, uint64_t *v);

/* Tests only: with `on`, kv_chrf_segment never takes the fast path, so that
 * the two can be compared. */
void kv_chrf_force_general(kv_chrf *c, bool on);

#endif
