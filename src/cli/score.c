/*
 * koeval score — offline scoring of a hypothesis file against one or more
 * reference files, with sacreBLEU's option names and habits. Lines are
 * streamed: memory stays bounded by the longest line, whatever the corpus
 * size, because only sufficient statistics are kept.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "scoring/bleu.h"
#include "scoring/chrf.h"
#include "scoring/qa.h"
#include "scoring/rouge.h"
#include "scoring/ter.h"
#include "scoring/fidelity.h"
#include "src/cli/cli.h"
#include "src/lineio.h"
#include "src/text.h"

#define MAX_REFS 32
#define MAX_METRICS 16

typedef enum mkind { MK_BLEU, MK_CHRF, MK_TER, MK_ROUGE, MK_EM, MK_F1 } mkind;

typedef struct metric {
    mkind kind;
    int rouge_type;
    kv_bleu_opts bo;      /* corpus BLEU */
    kv_bleu_opts bo_sent; /* per-segment BLEU (effective order) */
    kv_bleu *bleu;
    kv_bleu_stats bsum;
    kv_chrf_opts co;
    kv_chrf *chrf;
    kv_chrf_stats csum;
    kv_ter_opts to;
    kv_ter *ter;
    kv_ter_stats tsum;
    kv_rouge_opts ro;
    kv_rouge *rouge;
    kv_qa_style qa;
    double sum_p, sum_r, sum_f; /* ROUGE sums, EM/F1 in sum_f */
    size_t n;
    char signature[256];
    char seg_signature[256];
    double seg_score; /* the last segment's score */
} metric;

typedef struct score_args {
    const char *refs[MAX_REFS];
    int n_refs;
    const char *hyp;
    const char *metrics;
    const char *tokenize;
    const char *lang;
    kv_norm_opts norm;
    bool lowercase;
    kv_bleu_smooth smooth;
    double smooth_value;
    bool effective_order;
    int max_order;
    int chrf_char_order, chrf_word_order;
    double chrf_beta;
    bool chrf_whitespace, chrf_eps;
    kv_ter_opts ter;
    const char *rouge_tokenizer;
    bool use_stemmer;
    const char *qa_style;
    bool sentence_level;
    bool json;
    int width;
    size_t max_line_bytes;
} score_args;

static void score_usage(FILE *out)
{
    fputs(
        "usage: koeval score -r REF [-r REF2 …] [-i HYP] [options]\n"
        "\n"
        "Scores a hypothesis file against line-aligned reference files (a file or '-' for\n"
        "standard input; HYP defaults to standard input). Numbers equal sacreBLEU 2.6.0 and\n"
        "rouge-score 0.1.2 for the same options; every score line carries a signature that\n"
        "names everything that changes the number.\n"
        "\n"
        "input and text:\n"
        "  -r, --reference FILE     a reference stream (repeat for several references)\n"
        "  -i, --input FILE         hypotheses, one segment per line (default: stdin)\n"
        "  -l, --lang LANG          target language (ko, en, ja, zh …): picks default\n"
        "                           tokenizers (BLEU: zh→zh, ja→char, else 13a) and adds a\n"
        "                           fidelity line: the share of hypotheses written in LANG\n"
        "                           (ICU scripts of their letters; code and URLs ignored)\n"
        "  --norm none|nfc|nfkc     Unicode normalization (default nfc; 'none' gives\n"
        "                           sacreBLEU's exact numbers on any input)\n"
        "  --fold-width             full-width ASCII → ASCII, half-width Hangul/Kana → normal\n"
        "  --strip-zero-width       remove U+200B, U+2060, U+FEFF\n"
        "  --collapse-whitespace    runs of whitespace → one space, ends stripped\n"
        "  --casefold               Unicode case folding (koeval's; see -lc for sacreBLEU's)\n"
        "  --max-line-bytes N       refuse longer lines (default 1048576)\n"
        "\n"
        "metrics:\n"
        "  -m, --metrics LIST       comma-separated: bleu chrf chrf++ ter rouge1 … rouge9 rougeL\n"
        "                           rougeLsum rouge (=rouge1,rouge2,rougeL) em f1\n"
        "                           (default: bleu,chrf)\n"
        "  -lc, --lowercase         lowercase before BLEU/chrF (Python str.lower)\n"
        "  -tok, --tokenize T       BLEU tokenizer: 13a intl zh char none\n"
        "  --smooth-method M        BLEU smoothing: exp (default) floor add-k none\n"
        "  --smooth-value V         value for floor (default 0.1) and add-k (default 1)\n"
        "  --effective-order        corpus BLEU over the n-gram orders reached\n"
        "  --max-ngram-order N      BLEU n-gram order (default 4)\n"
        "  --chrf-char-order N      chrF character order (default 6)\n"
        "  --chrf-word-order N      chrF word order (default 0; chrf++ uses 2)\n"
        "  --chrf-beta B            chrF beta (default 2)\n"
        "  --chrf-whitespace        keep whitespace in character n-grams\n"
        "  --chrf-eps-smoothing     chrF++.py/NLTK-style smoothing\n"
        "  --ter-case-sensitive     TER without lowercasing\n"
        "  --ter-normalized         TER with Tercom's normalization\n"
        "  --ter-asian-support      with --ter-normalized: one token per CJK character\n"
        "  --ter-no-punct           TER without punctuation\n"
        "  --rouge-tokenizer T      unicode (default: keeps Hangul, Han, Kana), default\n"
        "                           (rouge-score's: deletes every non-ASCII letter), whitespace\n"
        "  --use-stemmer            Porter stemmer for ROUGE, as rouge-score\n"
        "  --qa-style S             em/f1 convention: squad (token F1) or korquad (character\n"
        "                           F1); default korquad for --lang ko, else squad\n"
        "\n"
        "output:\n"
        "  --sentence-level         also print one line per segment (BLEU uses effective\n"
        "                           order per segment, as sacreBLEU's sentence_bleu)\n"
        "  --format text|json       text (default) or JSON for pipelines\n"
        "  -w, --width N            decimals for BLEU/chrF/EM/F1 (default 2)\n"
        "\n"
        "Scales: BLEU, chrF, EM, F1 0–100; ROUGE 0–1 (as rouge-score; corpus = mean over\n"
        "segments). Exit codes: 0 success, 1 internal failure, 2 usage error, 3 input error\n"
        "(unreadable file, mismatched line counts, NUL byte, over-long line).\n"
        "\n"
        "koeval score --db FILE re-scores the stored answers of a 'koeval run' instead\n"
        "(see 'koeval score --db FILE --help').\n",
        out);
}

/* Matches argv[*i] against a short and a long name; takes the value. */
static bool opt_val(int argc, char **argv, int *i, const char *s, const char *l, const char **val,
                    int *rc)
{
    const char *a = argv[*i];
    size_t ll = l ? strlen(l) : 0;
    if (l && strncmp(a, l, ll) == 0 && a[ll] == '=') {
        *val = a + ll + 1;
        return true;
    }
    if ((s && strcmp(a, s) == 0) || (l && strcmp(a, l) == 0)) {
        if (*i + 1 >= argc) {
            kv_cli_error("option %s needs a value (see 'koeval score --help')", a);
            *rc = KV_EXIT_USAGE;
            *val = NULL;
            return true;
        }
        *val = argv[++*i];
        return true;
    }
    return false;
}

static bool opt_flag(const char *a, const char *s, const char *l)
{
    return (s && strcmp(a, s) == 0) || (l && strcmp(a, l) == 0);
}

static int parse_int(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi) {
        kv_cli_error("%s: '%s' is not a whole number from %ld to %ld", opt, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_double(const char *opt, const char *v, double lo, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || *end || end == v || !(x >= lo) || !isfinite(x)) {
        kv_cli_error("%s: '%s' is not a number >= %g", opt, v, lo);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_args(int argc, char **argv, score_args *a)
{
    memset(a, 0, sizeof *a);
    a->hyp = "-";
    a->metrics = "bleu,chrf";
    a->norm.form = KV_NORM_NFC;
    a->smooth = KV_SMOOTH_EXP;
    a->smooth_value = -1;
    a->max_order = 4;
    a->chrf_char_order = 6;
    a->chrf_word_order = -1;
    a->chrf_beta = 2;
    a->width = 2;
    a->max_line_bytes = KV_DEFAULT_MAX_LINE_BYTES;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        const char *x = argv[i], *v = NULL;
        long n;
        if (opt_flag(x, "-h", "--help")) {
            score_usage(stdout);
            return -1;
        } else if (opt_val(argc, argv, &i, "-r", "--reference", &v, &rc)) {
            if (!v)
                return rc;
            if (a->n_refs == MAX_REFS) {
                kv_cli_error("at most %d reference files", MAX_REFS);
                return KV_EXIT_USAGE;
            }
            a->refs[a->n_refs++] = v;
        } else if (opt_val(argc, argv, &i, "-i", "--input", &v, &rc)) {
            if (!v)
                return rc;
            a->hyp = v;
        } else if (opt_val(argc, argv, &i, "-m", "--metrics", &v, &rc)) {
            if (!v)
                return rc;
            a->metrics = v;
        } else if (opt_val(argc, argv, &i, "-tok", "--tokenize", &v, &rc)) {
            if (!v)
                return rc;
            const kv_tokenizer *t = kv_tokenizer_find(v);
            if (!t || t->fn == kv_tok_rouge || t->fn == kv_tok_unicode || t->fn == kv_tok_whitespace) {
                kv_cli_error("--tokenize: unknown BLEU tokenizer '%s' (13a, intl, zh, char, none)", v);
                return KV_EXIT_USAGE;
            }
            a->tokenize = v;
        } else if (opt_val(argc, argv, &i, "-l", "--lang", &v, &rc)) {
            if (!v)
                return rc;
            a->lang = v;
        } else if (opt_val(argc, argv, &i, NULL, "--norm", &v, &rc)) {
            if (!v)
                return rc;
            if (kv_norm_form_parse(v, &a->norm.form) != 0) {
                kv_cli_error("--norm: unknown form '%s' (none, nfc, nfkc)", v);
                return KV_EXIT_USAGE;
            }
        } else if (opt_flag(x, NULL, "--fold-width")) {
            a->norm.width = true;
        } else if (opt_flag(x, NULL, "--strip-zero-width")) {
            a->norm.zero_width = true;
        } else if (opt_flag(x, NULL, "--collapse-whitespace")) {
            a->norm.collapse_ws = true;
        } else if (opt_flag(x, NULL, "--casefold")) {
            a->norm.casefold = true;
        } else if (opt_val(argc, argv, &i, NULL, "--max-line-bytes", &v, &rc)) {
            if (!v || parse_int(x, v, 1, 512L * 1024 * 1024, &n) != 0)
                return KV_EXIT_USAGE;
            a->max_line_bytes = (size_t)n;
        } else if (opt_flag(x, "-lc", "--lowercase")) {
            a->lowercase = true;
        } else if (opt_val(argc, argv, &i, NULL, "--smooth-method", &v, &rc)) {
            if (!v)
                return rc;
            if (kv_bleu_smooth_parse(v, &a->smooth) != 0) {
                kv_cli_error("--smooth-method: unknown method '%s' (exp, floor, add-k, none)", v);
                return KV_EXIT_USAGE;
            }
        } else if (opt_val(argc, argv, &i, NULL, "--smooth-value", &v, &rc)) {
            if (!v || parse_double(x, v, 0, &a->smooth_value) != 0)
                return KV_EXIT_USAGE;
        } else if (opt_flag(x, NULL, "--effective-order")) {
            a->effective_order = true;
        } else if (opt_val(argc, argv, &i, NULL, "--max-ngram-order", &v, &rc)) {
            if (!v || parse_int(x, v, 1, KV_BLEU_MAX_ORDER, &n) != 0)
                return KV_EXIT_USAGE;
            a->max_order = (int)n;
        } else if (opt_val(argc, argv, &i, NULL, "--chrf-char-order", &v, &rc)) {
            if (!v || parse_int(x, v, 0, 10, &n) != 0)
                return KV_EXIT_USAGE;
            a->chrf_char_order = (int)n;
        } else if (opt_val(argc, argv, &i, NULL, "--chrf-word-order", &v, &rc)) {
            if (!v || parse_int(x, v, 0, 6, &n) != 0)
                return KV_EXIT_USAGE;
            a->chrf_word_order = (int)n;
        } else if (opt_val(argc, argv, &i, NULL, "--chrf-beta", &v, &rc)) {
            if (!v || parse_double(x, v, 0, &a->chrf_beta) != 0)
                return KV_EXIT_USAGE;
        } else if (opt_flag(x, NULL, "--chrf-whitespace")) {
            a->chrf_whitespace = true;
        } else if (opt_flag(x, NULL, "--chrf-eps-smoothing")) {
            a->chrf_eps = true;
        } else if (opt_flag(x, NULL, "--ter-case-sensitive")) {
            a->ter.case_sensitive = true;
        } else if (opt_flag(x, NULL, "--ter-normalized")) {
            a->ter.normalized = true;
        } else if (opt_flag(x, NULL, "--ter-asian-support")) {
            a->ter.asian_support = true;
        } else if (opt_flag(x, NULL, "--ter-no-punct")) {
            a->ter.no_punct = true;
        } else if (opt_val(argc, argv, &i, NULL, "--rouge-tokenizer", &v, &rc)) {
            if (!v)
                return rc;
            if (strcmp(v, "default") != 0 && strcmp(v, "unicode") != 0 &&
                strcmp(v, "whitespace") != 0) {
                kv_cli_error("--rouge-tokenizer: unknown tokenizer '%s' (unicode, default, "
                             "whitespace)",
                             v);
                return KV_EXIT_USAGE;
            }
            a->rouge_tokenizer = v;
        } else if (opt_flag(x, NULL, "--use-stemmer")) {
            a->use_stemmer = true;
        } else if (opt_val(argc, argv, &i, NULL, "--qa-style", &v, &rc)) {
            if (!v)
                return rc;
            if (strcmp(v, "squad") != 0 && strcmp(v, "korquad") != 0) {
                kv_cli_error("--qa-style: unknown style '%s' (squad, korquad)", v);
                return KV_EXIT_USAGE;
            }
            a->qa_style = v;
        } else if (opt_flag(x, NULL, "--sentence-level")) {
            a->sentence_level = true;
        } else if (opt_val(argc, argv, &i, NULL, "--format", &v, &rc)) {
            if (!v)
                return rc;
            if (strcmp(v, "json") == 0)
                a->json = true;
            else if (strcmp(v, "text") != 0) {
                kv_cli_error("--format: unknown format '%s' (text, json)", v);
                return KV_EXIT_USAGE;
            }
        } else if (opt_val(argc, argv, &i, "-w", "--width", &v, &rc)) {
            if (!v || parse_int(x, v, 0, 17, &n) != 0)
                return KV_EXIT_USAGE;
            a->width = (int)n;
        } else {
            kv_cli_error("unknown option '%s' (see 'koeval score --help')", x);
            return KV_EXIT_USAGE;
        }
    }
    if (a->n_refs == 0) {
        kv_cli_error("no reference: give at least one -r FILE (see 'koeval score --help')");
        return KV_EXIT_USAGE;
    }
    int stdin_users = strcmp(a->hyp, "-") == 0;
    for (int k = 0; k < a->n_refs; k++)
        stdin_users += strcmp(a->refs[k], "-") == 0;
    if (stdin_users > 1) {
        kv_cli_error("only one of the hypothesis and reference files can be standard input");
        return KV_EXIT_USAGE;
    }
    return 0;
}

static bool lang_is(const char *lang, const char *code)
{
    size_t n = strlen(code);
    return lang && strncmp(lang, code, n) == 0 && (lang[n] == '\0' || lang[n] == '-' || lang[n] == '_');
}

static int add_metric(metric *ms, int *count, mkind kind, int rouge_type)
{
    for (int i = 0; i < *count; i++)
        if (ms[i].kind == kind && ms[i].rouge_type == rouge_type)
            return 0;
    if (*count == MAX_METRICS) {
        kv_cli_error("--metrics: at most %d metrics", MAX_METRICS);
        return -1;
    }
    metric *m = &ms[(*count)++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->rouge_type = rouge_type;
    return 0;
}

/* Parses the metric list; chrf and chrf++ with different word orders are
 * two metrics (rouge_type holds the word order for chrF). */
static int parse_metrics(const score_args *a, metric *ms, int *count)
{
    char *spec = strdup(a->metrics);
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (strcmp(tok, "bleu") == 0) {
            rc = add_metric(ms, count, MK_BLEU, 0);
        } else if (strcmp(tok, "chrf") == 0) {
            rc = add_metric(ms, count, MK_CHRF, a->chrf_word_order >= 0 ? a->chrf_word_order : 0);
        } else if (strcmp(tok, "chrf++") == 0) {
            rc = add_metric(ms, count, MK_CHRF, a->chrf_word_order >= 0 ? a->chrf_word_order : 2);
        } else if (strcmp(tok, "ter") == 0) {
            rc = add_metric(ms, count, MK_TER, 0);
        } else if (strcmp(tok, "rouge") == 0) {
            rc = add_metric(ms, count, MK_ROUGE, 1);
            if (!rc)
                rc = add_metric(ms, count, MK_ROUGE, 2);
            if (!rc)
                rc = add_metric(ms, count, MK_ROUGE, KV_ROUGE_L);
        } else if (kv_rouge_parse_type(tok) >= 0) {
            rc = add_metric(ms, count, MK_ROUGE, kv_rouge_parse_type(tok));
        } else if (strcmp(tok, "em") == 0) {
            rc = add_metric(ms, count, MK_EM, 0);
        } else if (strcmp(tok, "f1") == 0) {
            rc = add_metric(ms, count, MK_F1, 0);
        } else {
            kv_cli_error("--metrics: unknown metric '%s' (bleu, chrf, chrf++, ter, rouge1…rouge9, "
                         "rougeL, rougeLsum, rouge, em, f1)",
                         tok);
            rc = -1;
        }
        if (rc)
            break;
    }
    free(spec);
    if (!rc && *count == 0) {
        kv_cli_error("--metrics: no metric given");
        rc = -1;
    }
    return rc;
}

static int setup_metric(const score_args *a, metric *m, const char *normsig)
{
    switch (m->kind) {
    case MK_BLEU: {
        const char *tok = a->tokenize;
        if (!tok)
            tok = lang_is(a->lang, "zh") ? "zh" : lang_is(a->lang, "ja") ? "char" : "13a";
        m->bo.tokenizer = kv_tokenizer_find(tok);
        m->bo.lowercase = a->lowercase;
        m->bo.smooth = a->smooth;
        m->bo.smooth_value = a->smooth_value;
        m->bo.effective_order = a->effective_order;
        m->bo.max_order = a->max_order;
        m->bo_sent = m->bo;
        m->bo_sent.effective_order = true;
        m->bleu = kv_bleu_new(&m->bo);
        kv_bleu_signature(&m->bo, a->n_refs, normsig, m->signature, sizeof m->signature);
        kv_bleu_signature(&m->bo_sent, a->n_refs, normsig, m->seg_signature,
                          sizeof m->seg_signature);
        break;
    }
    case MK_CHRF:
        m->co = kv_chrf_defaults();
        m->co.char_order = a->chrf_char_order;
        m->co.word_order = m->rouge_type;
        m->co.beta = a->chrf_beta;
        m->co.lowercase = a->lowercase;
        m->co.whitespace = a->chrf_whitespace;
        m->co.eps_smoothing = a->chrf_eps;
        m->chrf = kv_chrf_new(&m->co);
        if (!m->chrf) {
            kv_cli_error("chrF needs between 1 and %d n-gram orders in all (--chrf-char-order "
                         "plus --chrf-word-order)",
                         KV_CHRF_MAX_ORDER);
            return -1;
        }
        kv_chrf_signature(&m->co, a->n_refs, normsig, m->signature, sizeof m->signature);
        break;
    case MK_TER:
        m->to = a->ter;
        m->ter = kv_ter_new(&m->to);
        kv_ter_signature(&m->to, a->n_refs, normsig, m->signature, sizeof m->signature);
        break;
    case MK_ROUGE: {
        const char *t = a->rouge_tokenizer ? a->rouge_tokenizer : "unicode";
        m->ro.tokenizer = kv_tokenizer_find(strcmp(t, "default") == 0 ? "rouge" : t);
        m->ro.tokenizer_flags = a->use_stemmer ? KV_TOK_STEM : 0;
        m->rouge = kv_rouge_new(&m->ro);
        snprintf(m->signature, sizeof m->signature, "%s|nrefs:%d|tok:%s|stem:%s|norm:%s|v:%s",
                 kv_rouge_type_name(m->rouge_type), a->n_refs, t, a->use_stemmer ? "yes" : "no",
                 normsig, KOEVAL_VERSION);
        break;
    }
    case MK_EM:
    case MK_F1: {
        const char *style = a->qa_style ? a->qa_style : lang_is(a->lang, "ko") ? "korquad" : "squad";
        m->qa = strcmp(style, "korquad") == 0 ? KV_QA_KORQUAD : KV_QA_SQUAD;
        snprintf(m->signature, sizeof m->signature, "%s|nrefs:%d|style:%s|norm:%s|v:%s",
                 m->kind == MK_EM ? "EM" : m->qa == KV_QA_KORQUAD ? "charF1" : "F1", a->n_refs,
                 style, normsig, KOEVAL_VERSION);
        break;
    }
    }
    if (m->signature[0] && !m->seg_signature[0])
        snprintf(m->seg_signature, sizeof m->seg_signature, "%s", m->signature);
    return 0;
}

static void free_metric(metric *m)
{
    kv_bleu_free(m->bleu);
    kv_chrf_free(m->chrf);
    kv_ter_free(m->ter);
    kv_rouge_free(m->rouge);
}

/* Scores one segment with one metric; sets m->seg_score. */
static int score_segment(const score_args *a, metric *m, const char *hyp, size_t hyp_len,
                         const char *const *refs, const size_t *ref_lens, char *err, size_t errlen)
{
    size_t nr = (size_t)a->n_refs;
    switch (m->kind) {
    case MK_BLEU: {
        kv_bleu_stats st;
        if (kv_bleu_segment(m->bleu, hyp, hyp_len, refs, ref_lens, nr, &st, err, errlen) != 0)
            return -1;
        kv_bleu_stats_add(&m->bsum, &st);
        if (a->sentence_level) {
            kv_bleu_score sc;
            kv_bleu_compute(&m->bo_sent, &st, &sc);
            m->seg_score = sc.score;
        }
        break;
    }
    case MK_CHRF: {
        kv_chrf_stats st;
        if (kv_chrf_segment(m->chrf, hyp, hyp_len, refs, ref_lens, nr, &st, err, errlen) != 0)
            return -1;
        kv_chrf_stats_add(&m->csum, &st, m->co.char_order + m->co.word_order);
        if (a->sentence_level)
            m->seg_score = kv_chrf_compute(&m->co, &st);
        break;
    }
    case MK_TER: {
        kv_ter_stats st;
        if (kv_ter_segment(m->ter, hyp, hyp_len, refs, ref_lens, nr, &st, err, errlen) != 0)
            return -1;
        kv_ter_stats_add(&m->tsum, &st);
        m->seg_score = kv_ter_compute(&st);
        break;
    }
    case MK_ROUGE: {
        kv_rouge_score sc;
        if (kv_rouge_segment(m->rouge, m->rouge_type, refs, ref_lens, nr, hyp, hyp_len, &sc, err,
                             errlen) != 0)
            return -1;
        m->sum_p += sc.precision;
        m->sum_r += sc.recall;
        m->sum_f += sc.fmeasure;
        m->seg_score = sc.fmeasure;
        break;
    }
    case MK_EM:
    case MK_F1: {
        struct kv_qa_score sc;
        if (kv_qa_score(m->qa, hyp, hyp_len, refs, ref_lens, nr, &sc) != 0) {
            snprintf(err, errlen, "ICU failure while normalizing the answer");
            return -1;
        }
        m->seg_score = 100.0 * (m->kind == MK_EM ? sc.exact_match : sc.f1);
        m->sum_f += m->seg_score;
        break;
    }
    }
    m->n++;
    return 0;
}

static const char *metric_name(const metric *m, char *buf, size_t len)
{
    switch (m->kind) {
    case MK_BLEU:
        return "BLEU";
    case MK_CHRF:
        kv_chrf_name(&m->co, buf, len);
        return buf;
    case MK_TER:
        return "TER";
    case MK_ROUGE:
        return kv_rouge_type_name(m->rouge_type);
    case MK_EM:
        return "EM";
    default:
        return m->qa == KV_QA_KORQUAD ? "charF1" : "F1";
    }
}

static void print_text(const score_args *a, metric *m)
{
    int w = a->width;
    switch (m->kind) {
    case MK_BLEU: {
        kv_bleu_score sc;
        kv_bleu_compute(&m->bo, &m->bsum, &sc);
        printf("%s = %.*f ", m->signature, w, sc.score);
        for (int n = 0; n < sc.max_order; n++)
            printf("%s%.1f", n ? "/" : "", sc.precisions[n]);
        printf(" (BP = %.3f ratio = %.3f hyp_len = %llu ref_len = %llu)\n", sc.bp, sc.ratio,
               (unsigned long long)sc.sys_len, (unsigned long long)sc.ref_len);
        break;
    }
    case MK_CHRF:
        printf("%s = %.*f\n", m->signature, w, kv_chrf_compute(&m->co, &m->csum));
        break;
    case MK_TER:
        printf("%s = %.*f (edits = %.0f, mean reference length = %.*f)\n", m->signature, w,
               kv_ter_compute(&m->tsum), m->tsum.edits, w, m->tsum.ref_length);
        break;
    case MK_ROUGE: {
        double n = m->n ? (double)m->n : 1.0;
        printf("%s = %.6f (P = %.6f R = %.6f, mean F over %zu segments)\n", m->signature,
               m->sum_f / n, m->sum_p / n, m->sum_r / n, m->n);
        break;
    }
    default: {
        double n = m->n ? (double)m->n : 1.0;
        printf("%s = %.*f (mean over %zu segments)\n", m->signature, w, m->sum_f / n, m->n);
        break;
    }
    }
}

static cJSON *json_metric(const score_args *a, metric *m)
{
    cJSON *o = cJSON_CreateObject();
    char nb[48];
    cJSON_AddStringToObject(o, "name", metric_name(m, nb, sizeof nb));
    switch (m->kind) {
    case MK_BLEU: {
        kv_bleu_score sc;
        kv_bleu_compute(&m->bo, &m->bsum, &sc);
        cJSON_AddNumberToObject(o, "score", sc.score);
        cJSON_AddStringToObject(o, "scale", "0-100");
        cJSON *c = cJSON_AddArrayToObject(o, "counts"), *t = cJSON_AddArrayToObject(o, "totals"),
              *p = cJSON_AddArrayToObject(o, "precisions");
        for (int n = 0; n < sc.max_order; n++) {
            cJSON_AddItemToArray(c, cJSON_CreateNumber(sc.counts[n]));
            cJSON_AddItemToArray(t, cJSON_CreateNumber(sc.totals[n]));
            cJSON_AddItemToArray(p, cJSON_CreateNumber(sc.precisions[n]));
        }
        cJSON_AddNumberToObject(o, "bp", sc.bp);
        cJSON_AddNumberToObject(o, "ratio", sc.ratio);
        cJSON_AddNumberToObject(o, "sys_len", (double)sc.sys_len);
        cJSON_AddNumberToObject(o, "ref_len", (double)sc.ref_len);
        break;
    }
    case MK_CHRF: {
        cJSON_AddNumberToObject(o, "score", kv_chrf_compute(&m->co, &m->csum));
        cJSON_AddStringToObject(o, "scale", "0-100");
        cJSON *st = cJSON_AddArrayToObject(o, "stats");
        for (int i = 0; i < 3 * (m->co.char_order + m->co.word_order); i++)
            cJSON_AddItemToArray(st, cJSON_CreateNumber((double)m->csum.v[i]));
        break;
    }
    case MK_TER:
        cJSON_AddNumberToObject(o, "score", kv_ter_compute(&m->tsum));
        cJSON_AddStringToObject(o, "scale", "0-100+");
        cJSON_AddNumberToObject(o, "num_edits", m->tsum.edits);
        cJSON_AddNumberToObject(o, "ref_length", m->tsum.ref_length);
        break;
    case MK_ROUGE: {
        double n = m->n ? (double)m->n : 1.0;
        cJSON_AddNumberToObject(o, "score", m->sum_f / n);
        cJSON_AddStringToObject(o, "scale", "0-1");
        cJSON_AddNumberToObject(o, "precision", m->sum_p / n);
        cJSON_AddNumberToObject(o, "recall", m->sum_r / n);
        cJSON_AddNumberToObject(o, "fmeasure", m->sum_f / n);
        break;
    }
    default: {
        double n = m->n ? (double)m->n : 1.0;
        cJSON_AddNumberToObject(o, "score", m->sum_f / n);
        cJSON_AddStringToObject(o, "scale", "0-100");
        break;
    }
    }
    cJSON_AddNumberToObject(o, "segments", (double)m->n);
    cJSON_AddStringToObject(o, "signature", m->signature);
    (void)a;
    return o;
}

int kv_cmd_score(int argc, char **argv)
{
    score_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc < 0)
        return KV_EXIT_OK; /* --help */
    if (rc)
        return rc;
    metric ms[MAX_METRICS];
    int nm = 0;
    if (parse_metrics(&a, ms, &nm) != 0)
        return KV_EXIT_USAGE;
    char normsig[64];
    kv_norm_signature(&a.norm, normsig, sizeof normsig);
    for (int i = 0; i < nm; i++) {
        if (setup_metric(&a, &ms[i], normsig) != 0) {
            for (int j = 0; j < i; j++)
                free_metric(&ms[j]);
            memset(&ms[i], 0, sizeof ms[i]);
            return KV_EXIT_USAGE;
        }
    }

    int status = KV_EXIT_OK;
    char err[512];
    kv_line_reader readers[MAX_REFS + 1];
    int opened = 0;
    for (int k = 0; k <= a.n_refs; k++) {
        const char *path = k < a.n_refs ? a.refs[k] : a.hyp;
        if (kv_lr_open(&readers[k], path, a.max_line_bytes, err, sizeof err) != 0) {
            kv_cli_error("%s", err);
            status = KV_EXIT_INPUT;
            goto done;
        }
        readers[k].trust_utf8 = true; /* kv_normalizer_apply validates */
        opened++;
    }
    kv_line_reader *hyp_r = &readers[a.n_refs];

    kv_buf norm[MAX_REFS + 1];
    memset(norm, 0, sizeof norm);
    const char *seg[MAX_REFS + 1];
    size_t seg_len[MAX_REFS + 1];
    kv_normalizer *nz = kv_normalizer_new(&a.norm);
    /* JSON is printed only once the whole input has been scored, so that an
     * input error never leaves half a document on stdout */
    kv_buf segjson = {0};
    /* with --lang, also check that the hypotheses are in that language */
    kv_fidelity_checker *fid = NULL;
    kv_fidelity_sum fsum = {0};
    if (a.lang && kv_fidelity_lang_known(a.lang)) {
        kv_fidelity_opts fo = kv_fidelity_defaults();
        fid = kv_fidelity_new(&fo, err, sizeof err);
        if (!fid) {
            kv_cli_error("%s", err);
            status = KV_EXIT_INTERNAL;
            goto finish;
        }
    }
    const char *refs[MAX_REFS];
    size_t ref_lens[MAX_REFS];
    size_t lines = 0;

    for (;;) {
        int got[MAX_REFS + 1];
        int ended = 0;
        for (int k = 0; k <= a.n_refs; k++) {
            const char *line;
            size_t len;
            got[k] = kv_lr_next(&readers[k], &line, &len, err, sizeof err);
            if (got[k] < 0) {
                kv_cli_error("%s", err);
                status = KV_EXIT_INPUT;
                goto finish;
            }
            if (got[k] == 0) {
                ended++;
                continue;
            }
            size_t replaced = 0;
            if (kv_normalizer_apply(nz, line, len, &norm[k], &seg[k], &seg_len[k], &replaced) !=
                0) {
                kv_cli_error("%s:%zu: Unicode normalization failed", readers[k].path,
                             readers[k].lineno);
                status = KV_EXIT_INTERNAL;
                goto finish;
            }
            if (replaced) {
                readers[k].invalid_lines++;
                readers[k].replacements += replaced;
            }
        }
        if (ended == a.n_refs + 1)
            break;
        if (ended) {
            /* name the shorter and the longer files with their line counts */
            for (int k = 0; k <= a.n_refs; k++) {
                if (got[k] == 0)
                    continue;
                size_t total = readers[k].lineno + kv_lr_count_rest(&readers[k]);
                for (int j = 0; j <= a.n_refs; j++)
                    if (got[j] == 0) {
                        kv_cli_error("line counts differ: %s has %zu lines, %s has %zu "
                                     "(hypotheses and references must be line-aligned)",
                                     readers[j].path, readers[j].lineno, readers[k].path, total);
                        break;
                    }
                break;
            }
            status = KV_EXIT_INPUT;
            goto finish;
        }
        lines++;
        for (int k = 0; k < a.n_refs; k++) {
            refs[k] = seg[k];
            ref_lens[k] = seg_len[k];
        }
        const char *h = seg[a.n_refs];
        size_t hl = seg_len[a.n_refs];
        if (fid) {
            kv_fidelity f;
            if (kv_fidelity_check(fid, a.lang, h, hl, &f, err, sizeof err) == KV_FID_OK)
                kv_fidelity_sum_add(&fsum, &f);
        }
        for (int i = 0; i < nm; i++) {
            if (score_segment(&a, &ms[i], h, hl, refs, ref_lens, err, sizeof err) != 0) {
                kv_cli_error("%s:%zu: %s", hyp_r->path, hyp_r->lineno, err);
                status = KV_EXIT_INPUT;
                goto finish;
            }
        }
        if (a.sentence_level) {
            if (a.json) {
                cJSON *segj = cJSON_CreateObject();
                cJSON_AddNumberToObject(segj, "line", (double)lines);
                for (int i = 0; i < nm; i++) {
                    char nb[48];
                    cJSON_AddNumberToObject(segj, metric_name(&ms[i], nb, sizeof nb), ms[i].seg_score);
                }
                char *s = cJSON_PrintUnformatted(segj);
                kv_buf_printf(&segjson, "%s\n  %s", lines > 1 ? "," : "", s);
                free(s);
                cJSON_Delete(segj);
            } else {
                printf("%zu", lines);
                for (int i = 0; i < nm; i++) {
                    char nb[48];
                    printf("\t%s = %.*f", metric_name(&ms[i], nb, sizeof nb),
                           ms[i].kind == MK_ROUGE ? 6 : a.width, ms[i].seg_score);
                }
                putchar('\n');
            }
        }
    }

    if (a.json) {
        printf("{\n \"segments\": [%s%s],\n \"corpus\": [", segjson.p ? segjson.p : "",
               lines && a.sentence_level ? "\n " : "");
        for (int i = 0; i < nm; i++) {
            cJSON *o = json_metric(&a, &ms[i]);
            char *s = cJSON_PrintUnformatted(o);
            printf("%s\n  %s", i ? "," : "", s);
            free(s);
            cJSON_Delete(o);
        }
        if (fid && fsum.answers) {
            double share, han, latin;
            kv_fidelity_means(&fsum, &share, &han, &latin);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", "fidelity");
            cJSON_AddNumberToObject(o, "score", 100 * kv_fidelity_rate(&fsum));
            cJSON_AddStringToObject(o, "scale", "0-100");
            cJSON_AddStringToObject(o, "lang", a.lang);
            cJSON_AddNumberToObject(o, "in_language", (double)fsum.ok);
            cJSON_AddNumberToObject(o, "other_language", (double)fsum.wrong);
            cJSON_AddNumberToObject(o, "undetermined", (double)fsum.undetermined);
            cJSON_AddNumberToObject(o, "expected_script_share", share);
            cJSON_AddNumberToObject(o, "han_share", han);
            cJSON_AddNumberToObject(o, "latin_share", latin);
            char *js = cJSON_PrintUnformatted(o);
            printf(",\n  %s", js);
            free(js);
            cJSON_Delete(o);
        }
        printf("\n ],\n \"lines\": %zu", lines);
        if (a.sentence_level) {
            printf(",\n \"segment_signatures\": {");
            for (int i = 0; i < nm; i++) {
                char nb[48];
                cJSON *sig = cJSON_CreateString(ms[i].seg_signature);
                char *s = cJSON_PrintUnformatted(sig);
                printf("%s\"%s\": %s", i ? ", " : "", metric_name(&ms[i], nb, sizeof nb), s);
                free(s);
                cJSON_Delete(sig);
            }
            printf("}");
        }
        printf("\n}\n");
    } else {
        if (a.sentence_level)
            for (int i = 0; i < nm; i++)
                if (ms[i].kind == MK_BLEU)
                    printf("# per-segment BLEU: %s\n", ms[i].seg_signature);
        for (int i = 0; i < nm; i++)
            print_text(&a, &ms[i]);
        if (fid && fsum.answers) {
            double share, han, latin;
            kv_fidelity_means(&fsum, &share, &han, &latin);
            printf("fidelity|lang:%s|scripts:icu|threshold:0.5|norm:%s|v:%s = %.*f (%zu of %zu "
                   "determined lines in %s; %zu undetermined; letters in the %s script %.1f%%",
                   a.lang, normsig, KOEVAL_VERSION, a.width, 100 * kv_fidelity_rate(&fsum),
                   fsum.ok, fsum.ok + fsum.wrong, a.lang, fsum.undetermined, a.lang, 100 * share);
            if (!strncmp(a.lang, "ko", 2))
                printf(", Han %.1f%%, Latin %.1f%%", 100 * han, 100 * latin);
            printf(")\n");
        }
    }
    if (lines == 0)
        kv_cli_error("warning: the input is empty (0 segments)");

finish:
    /* after a fatal error its one line is all the user needs */
    for (int k = 0; k < opened && status == KV_EXIT_OK; k++) {
        if (readers[k].had_bom)
            kv_cli_error("note: %s: removed a UTF-8 byte order mark at the start", readers[k].path);
        if (readers[k].invalid_lines)
            kv_cli_error("warning: %s: %zu line(s) had invalid UTF-8; %zu sequence(s) were "
                         "replaced by U+FFFD",
                         readers[k].path, readers[k].invalid_lines, readers[k].replacements);
    }
    for (int k = 0; k <= a.n_refs; k++)
        kv_buf_free(&norm[k]);
    kv_normalizer_free(nz);
    kv_fidelity_free(fid);
    kv_buf_free(&segjson);
done:
    for (int k = 0; k < opened; k++)
        kv_lr_close(&readers[k]);
    for (int i = 0; i < nm; i++)
        free_metric(&ms[i]);
    return status;
}
