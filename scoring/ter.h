/*
 * ter.h — TER, translation edit rate (Snover et al., 2006), exactly as
 * sacreBLEU 2.6.0 computes it: `TER(normalized, no_punct, asian_support,
 * case_sensitive).corpus_score` and `.sentence_score`, i.e. its
 * re-implementation of Tercom (TercomTokenizer, then a beam-limited word edit
 * distance with greedy block shifts).
 *
 * TER = 100 · edits / reference length, where for each segment `edits` is the
 * fewest edits (insertions, deletions, substitutions and shifts of a block of
 * words, each costing 1) over the references and `reference length` is the
 * average length of the references in tokens. It is 0 for a perfect
 * hypothesis and can exceed 100.
 *
 * Corpus TER is streamed like BLEU: score each segment into a kv_ter_stats,
 * add them up with kv_ter_stats_add, and compute the score once at the end.
 *
 * The search follows sacreBLEU's constants: shifts of at most 10 words over at
 * most 50 positions, a band of 25 cells either side of the length-scaled
 * diagonal in the edit distance matrix (wider when the reference is more
 * than 50 times longer than the hypothesis), and at most 1000 shift
 * candidates evaluated per hypothesis and reference; when that budget runs
 * out, the shift found in that round is not applied (as in sacreBLEU). Shift
 * candidates are ranked by edits saved, then block length, then earliest
 * start in the hypothesis, then earliest target position. Tokens are
 * compared as interned integer ids; memory is O(hypothesis length × band).
 */
#ifndef KOEVAL_TER_H
#define KOEVAL_TER_H

#include <stdbool.h>
#include <stddef.h>

#include "src/buf.h"

/* TercomTokenizer options, with sacreBLEU's names and defaults (all false). */
typedef struct kv_ter_opts {
    bool normalized;     /* Tercom normalization: join lines (dropping "\n-"
                            hyphenation), unescape &quot; &amp; &lt; &gt;,
                            split ASCII punctuation and symbols, split "'s",
                            split '.' and ',' unless between digits, split '-'
                            after a digit, collapse whitespace */
    bool no_punct;       /* delete . , ? : ; ! " ( ) */
    bool asian_support;  /* with normalized: one token per CJK ideograph
                            (and CJK strokes, radicals, compatibility forms,
                            U+3200–3F22) and around CJK and full-width
                            punctuation; with no_punct: delete that
                            punctuation too. Hangul and kana are untouched */
    bool case_sensitive; /* false = Python str.lower() first */
} kv_ter_opts;

/* Sufficient statistics of one segment or of a whole corpus (sums). Doubles,
 * as sacreBLEU sums them, so that corpus sums match bit for bit. */
typedef struct kv_ter_stats {
    double edits;      /* fewest edits over the references (an integer count) */
    double ref_length; /* average reference length in tokens */
} kv_ter_stats;

typedef struct kv_ter kv_ter;

/* Creates a scorer (holds scratch buffers; not thread-safe, one per thread).
 * The options are copied. Never returns NULL (aborts on out-of-memory). */
kv_ter *kv_ter_new(const kv_ter_opts *o);
void kv_ter_free(kv_ter *t);

/* Statistics of one segment: hypothesis hyp[0..hyp_len) against refs[k]
 * (UTF-8, lengths in ref_lens). A NULL reference is absent (variable number
 * of references, as a None in sacreBLEU's reference streams); "" is a real,
 * empty reference (0 tokens: edits = hypothesis tokens, length 0). At least
 * one reference must be present. Returns 0, or -1 with err set (no
 * reference, lowercasing failed). */
int kv_ter_segment(kv_ter *t, const char *hyp, size_t hyp_len, const char *const *refs,
                   const size_t *ref_lens, size_t n_refs, kv_ter_stats *out, char *err,
                   size_t errlen);

/* acc += s. */
void kv_ter_stats_add(kv_ter_stats *acc, const kv_ter_stats *s);

/* The score from statistics, 0–100 and above: 100 · edits / ref_length;
 * when ref_length is 0 (only empty references), 100 if there are edits and 0
 * otherwise (sacreBLEU TER._compute_score_from_stats). */
double kv_ter_compute(const kv_ter_stats *s);

/* The tokens TER sees for one segment (Python rstrip, then TercomTokenizer),
 * appended to out joined by single spaces: what `koeval tokenize` prints.
 * Returns 0, or -1 if lowercasing fails. */
int kv_ter_preprocess(const kv_ter_opts *o, const char *s, size_t n, kv_buf *out);

/* Writes the signature, e.g.
 * "TER|nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|tnorm:nfc|v:0.1.0".
 * "norm:" is sacreBLEU's own field for the `normalized` option, so koeval's
 * text-layer normalization (`norm`, the fragment from kv_norm_signature)
 * goes in "tnorm:" here, unlike the other metrics' signatures. nrefs < 0
 * writes "var" (a variable number of references). */
void kv_ter_signature(const kv_ter_opts *o, int nrefs, const char *norm, char *dst,
                      size_t dstlen);

#endif
