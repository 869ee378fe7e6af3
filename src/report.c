#include "src/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <unicode/uchar.h>

#include "scoring/bleu.h"
#include "scoring/bootstrap.h"
#include "scoring/chrf.h"
#include "src/suite.h"
#include "scoring/consistency.h"
#include "src/text.h"

#define MAX_LANGS 32

/* One score as read from the store. */
typedef struct score_row {
    int model, metric, lang;
    char *item;
    int repeat;
    double value;
    bool failed_extraction;
} score_row;

/* A growable list of doubles. */
typedef struct dlist {
    double *v;
    size_t n, cap;
} dlist;

static void dl_push(dlist *l, double x)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = kv_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(dlist *l)
{
    if (l->n == 0)
        return NAN;
    qsort(l->v, l->n, sizeof *l->v, cmp_double);
    return l->n % 2 ? l->v[l->n / 2] : 0.5 * (l->v[l->n / 2 - 1] + l->v[l->n / 2]);
}

typedef struct cell_lat {
    dlist ttft, e2e, tps;
    int64_t asked, answered, failed;
} cell_lat;

typedef struct cell_score {
    double sum;
    int64_t n, failed_extraction;
    double lo, hi; /* bootstrap 95% interval of the mean (NaN with fewer than 2 items) */
} cell_score;

enum label {
    L_TITLE,       /* run id, suite name, path, repeat */
    L_QUALITY,     /* pivot */
    L_SPEED,
    L_MODEL,
    L_METRIC,
    L_NOANSWER,
    L_LANG,
    L_ANSWERED,
    L_FAILED,
    L_TTFT,
    L_E2E,
    L_TPS,
    L_GAP_TITLE,
    L_GAP_NOTE,
    L_MANIFEST,
    L_CONS,
    L_ITEMS,
    L_MODAL,
    L_FLIP,
    L_SELFCHRF,
    L_SD,
    L_PASSK,
    L_PASSHATK,
    L_CORPUS,
    L_QUALITY_PLAIN,
    L_COUNT
};

static const char *const labels[2][L_COUNT] = {
    {
        [L_TITLE] = "koeval run %lld — suite %s (%s), repeat %d",
        [L_QUALITY] = "Quality (mean item score, 0–100; ko−%s = mean paired difference with a "
                      "paired-bootstrap 95%% CI; ▼ Korean significantly worse, ▲ better)",
        [L_SPEED] = "Coverage and speed (failed = infra failures, never scored; output tok/s = "
                    "completion tokens / (last token − first token))",
        [L_MODEL] = "model",
        [L_METRIC] = "metric",
        [L_NOANSWER] = "no answer",
        [L_LANG] = "lang",
        [L_ANSWERED] = "answered",
        [L_FAILED] = "failed",
        [L_TTFT] = "TTFT p50 ms",
        [L_E2E] = "E2E p50 ms",
        [L_TPS] = "output tok/s p50",
        [L_GAP_TITLE] = "Korean gap (ko − %s, mean of paired item differences)",
        [L_GAP_NOTE] = "Bars left of zero: Korean is worse than %s on the same items.",
        [L_MANIFEST] = "Run manifest",
        [L_CONS] = "Consistency over %d repeats (items answered at least twice; answer = extracted "
                   "answer)",
        [L_ITEMS] = "items",
        [L_MODAL] = "same answer %",
        [L_FLIP] = "answer flips %",
        [L_SELFCHRF] = "self-chrF",
        [L_SD] = "score sd",
        [L_PASSK] = "pass@k %",
        [L_PASSHATK] = "pass^k %",
        [L_CORPUS] = "Translation, corpus level (chrF2 and BLEU over all segments; ko−%s with "
                     "sacreBLEU-style paired bootstrap over segments, 95%% CI)",
        [L_QUALITY_PLAIN] = "Quality (mean item score, 0–100)",
    },
    {
        [L_TITLE] = "koeval 실행 %lld — 문항 세트 %s (%s), 반복 %d",
        [L_QUALITY] = "품질 (문항 점수 평균, 0–100; ko−%s = 짝지은 문항 차이의 평균과 짝 부트스트랩 "
                      "95%% 신뢰구간; ▼ 한국어가 유의하게 나쁨, ▲ 좋음)",
        [L_SPEED] = "응답률과 속도 (실패 = 인프라 실패, 채점하지 않음; 출력 토큰/초 = 완성 토큰 / "
                    "(마지막 토큰 − 첫 토큰))",
        [L_MODEL] = "모델",
        [L_METRIC] = "지표",
        [L_NOANSWER] = "답 없음",
        [L_LANG] = "언어",
        [L_ANSWERED] = "답함",
        [L_FAILED] = "실패",
        [L_TTFT] = "TTFT 중앙값 ms",
        [L_E2E] = "E2E 중앙값 ms",
        [L_TPS] = "출력 토큰/초 중앙값",
        [L_GAP_TITLE] = "한국어 격차 (ko − %s, 짝지은 문항 차이의 평균)",
        [L_GAP_NOTE] = "0보다 왼쪽 막대: 같은 문항에서 한국어가 %s보다 나쁨.",
        [L_MANIFEST] = "실행 정보",
        [L_CONS] = "반복 %d회 일관성 (두 번 이상 답한 문항; 답 = 추출한 답)",
        [L_ITEMS] = "문항",
        [L_MODAL] = "같은 답 %",
        [L_FLIP] = "답 바뀜 %",
        [L_SELFCHRF] = "자기 chrF",
        [L_SD] = "점수 표준편차",
        [L_PASSK] = "pass@k %",
        [L_PASSHATK] = "pass^k %",
        [L_CORPUS] = "번역, 말뭉치 수준 (전체 세그먼트의 chrF2와 BLEU; ko−%s는 sacreBLEU 방식의 "
                     "세그먼트 짝 부트스트랩, 95%% 신뢰구간)",
        [L_QUALITY_PLAIN] = "품질 (문항 점수 평균, 0–100)",
    },
};

struct kv_report {
    kv_report_lang label_lang;
    kv_run_status status; /* running (killed), aborted (interrupted) or complete */
    char *config_json;
    char *suite_hash;
    char *koeval_version;
    int64_t run_id;
    char *suite;
    char *suite_name;
    int repeat;
    char *langs[MAX_LANGS];
    int n_langs;
    int pivot; /* index into langs, -1 when none */
    int ko;    /* index of "ko", -1 when absent */
    char **models;
    int n_models;
    char **metrics;
    int n_metrics;
    cell_lat *lat;     /* [model][lang] */
    cell_score *cells; /* [model][metric][lang] */
    double *gap;       /* [model][metric][lang]: mean paired (lang − pivot) */
    int64_t *gap_n;
    kv_gap *gap_ci;    /* [model][metric][lang]: paired bootstrap of the same (n = 0: none) */
    kv_gap *kogap;     /* [model][metric][lang]: ko − lang, paired bootstrap (n = 0: none) */
    char **sigs;       /* distinct "metric: signature" lines, for the manifest */
    int n_sigs;
    /* corpus-level translation scores, when the run's suite can be read:
     * [model][2 metrics: chrF2, BLEU][lang] */
    bool has_corpus;
    double *corpus;                /* NaN when no segment */
    kv_paired_bs_result *corpus_bs; /* ko vs pivot (n = 0: none) */
    kv_bootstrap_opts bs;
    kv_consistency_mean *cons; /* [model][lang], over items with >= 2 repeats */
    bool has_cons;
};

#define L(r, k) (labels[(r)->label_lang][k])

/* Does the run have a Korean gap to show (Korean present, not the pivot)? */
static bool has_ko_gap(const kv_report *r)
{
    return r->ko >= 0 && r->pivot >= 0 && r->ko != r->pivot;
}

int kv_report_lang_parse(const char *name, kv_report_lang *out)
{
    if (!strcmp(name, "ko"))
        *out = KV_LABELS_KO;
    else if (!strcmp(name, "en"))
        *out = KV_LABELS_EN;
    else
        return -1;
    return 0;
}

kv_report_lang kv_report_lang_default(void)
{
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strncmp(v, "ko", 2) == 0 ? KV_LABELS_KO : KV_LABELS_EN;
    }
    return KV_LABELS_EN;
}

void kv_report_set_lang(kv_report *r, kv_report_lang lang)
{
    r->label_lang = lang;
}

int kv_report_format_parse(const char *name, kv_report_format *out)
{
    if (!strcmp(name, "html")) {
        *out = KV_REPORT_HTML;
        return 0;
    }
    if (!strcmp(name, "tty") || !strcmp(name, "text"))
        *out = KV_REPORT_TTY;
    else if (!strcmp(name, "md"))
        *out = KV_REPORT_MD;
    else if (!strcmp(name, "csv"))
        *out = KV_REPORT_CSV;
    else if (!strcmp(name, "json"))
        *out = KV_REPORT_JSON;
    else
        return -1;
    return 0;
}

static int find_or_add(char ***list, int *n, const char *s)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*list)[i], s) == 0)
            return i;
    *list = kv_xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
    (*list)[*n] = strdup(s);
    return (*n)++;
}

static int lang_index(const kv_report *r, const char *lang)
{
    for (int i = 0; i < r->n_langs; i++)
        if (strcmp(r->langs[i], lang) == 0)
            return i;
    return -1;
}

/* One answered request, for consistency over repeats. */
typedef struct answer_row {
    int64_t request_id;
    int model, lang, repeat;
    char *item;
    char *text;
    size_t text_len;
    char *extracted; /* primary metric's extracted answer, NULL = none */
    double score;    /* primary metric, NAN = none */
} answer_row;

typedef struct collect {
    kv_report *r;
    answer_row *ans;
    size_t n_ans, cap_ans;
    score_row *rows;
    size_t n_rows, cap_rows;
    /* requests and responses are counted in a first pass that also
     * discovers the models */
    cell_lat **lat_tmp;
} collect;

static int on_request(const kv_stored_request *q, void *ctx)
{
    collect *c = ctx;
    kv_report *r = c->r;
    find_or_add(&r->models, &r->n_models, q->model);
    return 0;
}

static int on_request_count(const kv_stored_request *q, void *ctx)
{
    kv_report *r = ((collect *)ctx)->r;
    int m = find_or_add(&r->models, &r->n_models, q->model), l = lang_index(r, q->lang);
    if (l < 0)
        return 0;
    cell_lat *cl = &r->lat[m * r->n_langs + l];
    cl->asked++;
    if (q->state == KV_REQ_ANSWERED)
        cl->answered++;
    else if (q->state == KV_REQ_FAILED)
        cl->failed++;
    return 0;
}

static int on_response(const kv_stored_response *s, void *ctx)
{
    collect *c = ctx;
    kv_report *r = c->r;
    int m = find_or_add(&r->models, &r->n_models, s->model), l = lang_index(r, s->lang);
    if (l < 0)
        return 0;
    if (r->repeat >= 2) {
        if (c->n_ans == c->cap_ans) {
            c->cap_ans = c->cap_ans ? c->cap_ans * 2 : 256;
            c->ans = kv_xrealloc(c->ans, c->cap_ans * sizeof *c->ans);
        }
        answer_row *a = &c->ans[c->n_ans++];
        memset(a, 0, sizeof *a);
        a->request_id = s->request_id;
        a->model = m;
        a->lang = l;
        a->repeat = s->repeat;
        a->item = strdup(s->item_id);
        a->text = kv_xmalloc(s->text_len + 1);
        memcpy(a->text, s->text, s->text_len);
        a->text[s->text_len] = '\0';
        a->text_len = s->text_len;
        a->score = NAN;
    }
    cell_lat *cl = &r->lat[m * r->n_langs + l];
    if (s->ttft_ns >= 0)
        dl_push(&cl->ttft, (double)s->ttft_ns / 1e6);
    if (s->e2e_ns >= 0)
        dl_push(&cl->e2e, (double)s->e2e_ns / 1e6);
    if (s->usage_source == KV_USAGE_SERVER && s->completion_tokens > 0 && s->t_first_token >= 0 &&
        s->t_last_token > s->t_first_token)
        dl_push(&cl->tps,
                (double)s->completion_tokens / ((double)(s->t_last_token - s->t_first_token) / 1e9));
    return 0;
}

static int cmp_ans_id(const void *a, const void *b)
{
    int64_t x = ((const answer_row *)a)->request_id, y = ((const answer_row *)b)->request_id;
    return x < y ? -1 : x > y;
}

static int cmp_ans_group(const void *a, const void *b)
{
    const answer_row *x = a, *y = b;
    if (x->model != y->model)
        return x->model - y->model;
    if (x->lang != y->lang)
        return x->lang - y->lang;
    int c = strcmp(x->item, y->item);
    return c ? c : x->repeat - y->repeat;
}

static int on_score(const kv_stored_score *s, void *ctx)
{
    collect *c = ctx;
    kv_report *r = c->r;
    int l = lang_index(r, s->lang);
    /* secondary scores (F1, BLEU, chrF2 next to ROUGE-L) and fidelity are not
     * the answer's primary score */
    bool primary = strcmp(s->metric, "F1") != 0 && strcmp(s->metric, "fidelity") != 0 &&
                   strncmp(s->signature ? s->signature : "", "leakage", 7) != 0 &&
                   strcmp(s->metric, "BLEU") != 0 &&
                   !(strcmp(s->metric, "chrF2") == 0 && s->extracted == NULL &&
                     s->signature && strncmp(s->signature, "rougeL", 6) == 0);
    if (c->n_ans && primary) {
        answer_row key = {.request_id = s->request_id};
        answer_row *a = bsearch(&key, c->ans, c->n_ans, sizeof *c->ans, cmp_ans_id);
        if (a) {
            a->score = s->value;
            free(a->extracted);
            a->extracted = s->extracted ? strdup(s->extracted) : NULL;
        }
    }
    if (s->signature && s->signature[0]) {
        char line[512];
        snprintf(line, sizeof line, "%s: %s", s->metric, s->signature);
        find_or_add(&r->sigs, &r->n_sigs, line);
    }
    if (l < 0 || isnan(s->value))
        return 0;
    if (c->n_rows == c->cap_rows) {
        c->cap_rows = c->cap_rows ? c->cap_rows * 2 : 256;
        c->rows = kv_xrealloc(c->rows, c->cap_rows * sizeof *c->rows);
    }
    score_row *row = &c->rows[c->n_rows++];
    row->model = find_or_add(&r->models, &r->n_models, s->model);
    row->metric = find_or_add(&r->metrics, &r->n_metrics, s->metric);
    row->lang = l;
    row->item = strdup(s->item_id);
    row->repeat = s->repeat;
    row->value = s->value;
    /* a fidelity row's status is its verdict, not an extraction outcome */
    row->failed_extraction = primary && s->status && strcmp(s->status, "ok") != 0;
    return 0;
}

static int cmp_rows(const void *a, const void *b)
{
    const score_row *x = a, *y = b;
    if (x->model != y->model)
        return x->model - y->model;
    if (x->metric != y->metric)
        return x->metric - y->metric;
    int c = strcmp(x->item, y->item);
    if (c)
        return c;
    if (x->lang != y->lang)
        return x->lang - y->lang;
    return x->repeat - y->repeat;
}

static void free_answers(collect *c)
{
    for (size_t i = 0; i < c->n_ans; i++) {
        free(c->ans[i].item);
        free(c->ans[i].text);
        free(c->ans[i].extracted);
    }
    free(c->ans);
    c->ans = NULL;
    c->n_ans = 0;
}

/* Consistency over repeats per (model, language): every item answered at
 * least twice contributes (scoring/consistency.h). */
static void consistency(kv_report *r, collect *c)
{
    if (c->n_ans == 0 || r->n_models == 0 || r->n_langs == 0)
        return;
    r->cons = kv_xcalloc((size_t)(r->n_models * r->n_langs), sizeof *r->cons);
    kv_consistency_sum *sums = kv_xcalloc((size_t)(r->n_models * r->n_langs), sizeof *sums);
    kv_consistency_opts o = kv_consistency_defaults();
    kv_consistency_scorer *sc = kv_consistency_new(&o);
    qsort(c->ans, c->n_ans, sizeof *c->ans, cmp_ans_group);
    const char **raw = kv_xmalloc(c->n_ans * sizeof *raw);
    size_t *lens = kv_xmalloc(c->n_ans * sizeof *lens);
    const char **answers = kv_xmalloc(c->n_ans * sizeof *answers);
    double *scores = kv_xmalloc(c->n_ans * sizeof *scores);
    for (size_t i = 0; i < c->n_ans;) {
        size_t j = i;
        bool all_scored = true;
        while (j < c->n_ans && c->ans[j].model == c->ans[i].model &&
               c->ans[j].lang == c->ans[i].lang && !strcmp(c->ans[j].item, c->ans[i].item)) {
            raw[j - i] = c->ans[j].text;
            lens[j - i] = c->ans[j].text_len;
            answers[j - i] = c->ans[j].extracted;
            scores[j - i] = c->ans[j].score;
            all_scored &= !isnan(c->ans[j].score);
            j++;
        }
        if (j - i >= 2) {
            kv_consistency k;
            char err[128];
            if (kv_consistency_item(sc, j - i, raw, lens, answers, all_scored ? scores : NULL, &k,
                                    err, sizeof err) == KV_CONS_OK) {
                kv_consistency_sum_add(&sums[c->ans[i].model * r->n_langs + c->ans[i].lang], &k);
                r->has_cons = true;
            }
        }
        i = j;
    }
    for (int k = 0; k < r->n_models * r->n_langs; k++)
        kv_consistency_sum_mean(&sums[k], &r->cons[k]);
    kv_consistency_free(sc);
    free(raw);
    free(lens);
    free(answers);
    free(scores);
    free(sums);
}

/* One translation answer's sufficient statistics. */
typedef struct seg_stats {
    int model, lang, repeat;
    char *item;
    kv_chrf_stats chrf;
    kv_bleu_stats bleu;
} seg_stats;

typedef struct corpus_ctx {
    kv_report *r;
    const kv_suite *suite;
    kv_chrf *chrf;
    kv_chrf_opts co;
    kv_bleu *bleu[3]; /* by tokenizer: 13a, zh, char (as the target language wants) */
    kv_bleu_opts bo[3];
    seg_stats *segs;
    size_t n, cap;
} corpus_ctx;

static int bleu_slot(const char *lang)
{
    return !strncmp(lang, "zh", 2) ? 1 : !strncmp(lang, "ja", 2) ? 2 : 0;
}

static int on_corpus_response(const kv_stored_response *row, void *ctx)
{
    corpus_ctx *c = ctx;
    const kv_item *item = kv_suite_find(c->suite, row->item_id, row->lang);
    int l = lang_index(c->r, row->lang);
    if (!item || item->task != KV_TASK_TRANSLATE || item->n_references == 0 || l < 0)
        return 0;
    size_t *lens = kv_xmalloc(item->n_references * sizeof *lens);
    for (size_t k = 0; k < item->n_references; k++)
        lens[k] = strlen(item->references[k]);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->segs = kv_xrealloc(c->segs, c->cap * sizeof *c->segs);
    }
    seg_stats *g = &c->segs[c->n];
    memset(g, 0, sizeof *g);
    char err[128];
    int b = bleu_slot(item->target_lang);
    /* the same text normalization as when the run scored it: NFC (already
     * what the store holds for valid input) */
    if (kv_chrf_segment(c->chrf, row->text, row->text_len, item->references, lens,
                        item->n_references, &g->chrf, err, sizeof err) == 0 &&
        kv_bleu_segment(c->bleu[b], row->text, row->text_len, item->references, lens,
                        item->n_references, &g->bleu, err, sizeof err) == 0) {
        g->model = find_or_add(&c->r->models, &c->r->n_models, row->model);
        g->lang = l;
        g->repeat = row->repeat;
        g->item = strdup(row->item_id);
        c->n++;
    }
    free(lens);
    return 0;
}

/* same item (any model, language and repeat) */
static int cmp_seg_key(const seg_stats *x, const seg_stats *y)
{
    return strcmp(x->item, y->item);
}

static int cmp_seg(const void *a, const void *b)
{
    const seg_stats *x = a, *y = b;
    if (x->model != y->model)
        return x->model - y->model;
    int k = strcmp(x->item, y->item);
    if (k)
        return k;
    if (x->repeat != y->repeat)
        return x->repeat - y->repeat;
    return x->lang - y->lang;
}

/* Corpus chrF2 and BLEU of the translation items per model and language,
 * and a paired bootstrap over segments (sacreBLEU's paired-bs) of ko against
 * the pivot on the items both answered. Needs the run's suite (for the
 * references); silently skipped when it cannot be read or has changed. */
static void corpus_scores(kv_report *r, kv_store *s, const char *suite_path, const char *hash)
{
    kv_suite suite;
    char err[512];
    if (!suite_path || !*suite_path || kv_suite_load(suite_path, NULL, &suite, err, sizeof err))
        return;
    if (strcmp(suite.hash, hash) != 0) {
        kv_suite_free(&suite);
        return;
    }
    corpus_ctx c = {.r = r, .suite = &suite, .co = kv_chrf_defaults()};
    c.chrf = kv_chrf_new(&c.co);
    const char *toks[3] = {"13a", "zh", "char"};
    for (int b = 0; b < 3; b++) {
        c.bo[b] = (kv_bleu_opts){.tokenizer = kv_tokenizer_find(toks[b]),
                                 .smooth = KV_SMOOTH_EXP,
                                 .smooth_value = -1,
                                 .max_order = 4};
        c.bleu[b] = kv_bleu_new(&c.bo[b]);
    }
    kv_store_foreach_response(s, r->run_id, on_corpus_response, &c);
    if (c.n) {
        size_t cells = (size_t)r->n_models * 2 * (size_t)r->n_langs;
        r->corpus = kv_xmalloc(cells * sizeof *r->corpus);
        r->corpus_bs = kv_xcalloc(cells, sizeof *r->corpus_bs);
        kv_chrf_stats *csum = kv_xcalloc(cells, sizeof *csum);
        kv_bleu_stats *bsum = kv_xcalloc(cells, sizeof *bsum);
        size_t *cnt = kv_xcalloc(cells, sizeof *cnt);
        for (size_t i = 0; i < c.n; i++) {
            size_t at = (size_t)c.segs[i].model * (size_t)r->n_langs + (size_t)c.segs[i].lang;
            kv_chrf_stats_add(&csum[at], &c.segs[i].chrf, c.co.char_order + c.co.word_order);
            kv_bleu_stats_add(&bsum[at], &c.segs[i].bleu);
            cnt[at]++;
        }
        for (int m = 0; m < r->n_models; m++)
            for (int l = 0; l < r->n_langs; l++) {
                size_t at = (size_t)m * (size_t)r->n_langs + (size_t)l;
                size_t o2 = (size_t)m * 2 * (size_t)r->n_langs;
                kv_bleu_score bs;
                kv_bleu_compute(&c.bo[bleu_slot(r->langs[l])], &bsum[at], &bs);
                r->corpus[o2 + (size_t)l] = cnt[at] ? kv_chrf_compute(&c.co, &csum[at]) : NAN;
                r->corpus[o2 + (size_t)r->n_langs + (size_t)l] = cnt[at] ? bs.score : NAN;
            }
        /* paired-bs of ko vs pivot: segments answered in both, same item and repeat */
        if (r->ko >= 0 && r->pivot >= 0 && r->ko != r->pivot) {
            qsort(c.segs, c.n, sizeof *c.segs, cmp_seg);
            for (int m = 0; m < r->n_models; m++) {
                kv_chrf_stats *xc = kv_xcalloc(c.n + 1, sizeof *xc), *yc = kv_xcalloc(c.n + 1, sizeof *yc);
                kv_bleu_stats *xb = kv_xcalloc(c.n + 1, sizeof *xb), *yb = kv_xcalloc(c.n + 1, sizeof *yb);
                size_t np = 0;
                for (size_t i = 0; i < c.n;) {
                    /* one resampling unit per item: its repeats' statistics summed */
                    size_t j = i;
                    bool ko = false, pv = false;
                    kv_chrf_stats kc = {0}, pc = {0};
                    kv_bleu_stats kb = {0}, pb = {0};
                    int orders = c.co.char_order + c.co.word_order;
                    while (j < c.n && !cmp_seg_key(&c.segs[i], &c.segs[j])) {
                        const seg_stats *g = &c.segs[j];
                        if (g->model == m && g->lang == r->ko) {
                            kv_chrf_stats_add(&kc, &g->chrf, orders);
                            kv_bleu_stats_add(&kb, &g->bleu);
                            ko = true;
                        }
                        if (g->model == m && g->lang == r->pivot) {
                            kv_chrf_stats_add(&pc, &g->chrf, orders);
                            kv_bleu_stats_add(&pb, &g->bleu);
                            pv = true;
                        }
                        j++;
                    }
                    if (ko && pv) {
                        xc[np] = kc;
                        yc[np] = pc;
                        xb[np] = kb;
                        yb[np] = pb;
                        np++;
                    }
                    i = j;
                }
                size_t o2 = (size_t)m * 2 * (size_t)r->n_langs;
                if (np >= 2) {
                    kv_bs_metric mc = kv_bs_metric_chrf(&c.co);
                    /* BLEU's tokenizer differs per language; the resampling only
                     * needs the statistics, scored with the ko side's options */
                    kv_bs_metric mb = kv_bs_metric_bleu(&c.bo[bleu_slot("ko")]);
                    kv_paired_bs(&mc, xc, yc, np, &r->bs, &r->corpus_bs[o2 + (size_t)r->ko], err,
                                 sizeof err);
                    kv_paired_bs(&mb, xb, yb, np, &r->bs,
                                 &r->corpus_bs[o2 + (size_t)r->n_langs + (size_t)r->ko], err,
                                 sizeof err);
                }
                free(xc);
                free(yc);
                free(xb);
                free(yb);
            }
        }
        free(csum);
        free(bsum);
        free(cnt);
        r->has_corpus = true;
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.segs[i].item);
    free(c.segs);
    kv_chrf_free(c.chrf);
    for (int b = 0; b < 3; b++)
        kv_bleu_free(c.bleu[b]);
    kv_suite_free(&suite);
}

int kv_report_build(kv_store *s, int64_t run_id, kv_report **out, char *err, size_t errlen)
{
    kv_stored_run run = {0};
    if (kv_store_run_get(s, run_id, &run) != 0) {
        snprintf(err, errlen, "run %lld: %s", (long long)run_id, kv_store_errmsg(s));
        return -1;
    }
    kv_report *r = kv_xcalloc(1, sizeof *r);
    r->run_id = run_id;
    r->suite = strdup(run.suite_path.p ? run.suite_path.p : "");
    r->status = run.status;
    r->config_json = strdup(run.config_json.p ? run.config_json.p : "{}");
    r->suite_hash = strdup(run.suite_hash.p ? run.suite_hash.p : "");
    r->koeval_version = strdup(run.koeval_version.p ? run.koeval_version.p : "");
    r->repeat = run.repeat;
    r->pivot = r->ko = -1;
    cJSON *cfg = cJSON_Parse(run.config_json.p ? run.config_json.p : "{}");
    const cJSON *langs = cJSON_GetObjectItemCaseSensitive(cfg, "languages");
    const cJSON *it;
    cJSON_ArrayForEach(it, langs)
    {
        if (cJSON_IsString(it) && r->n_langs < MAX_LANGS)
            r->langs[r->n_langs++] = strdup(it->valuestring);
    }
    const cJSON *pivot = cJSON_GetObjectItemCaseSensitive(cfg, "pivot");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cfg, "suite_name");
    r->suite_name = strdup(cJSON_IsString(name) ? name->valuestring : "");
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(cfg, "models");
    cJSON_ArrayForEach(it, models)
    {
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(it, "label");
        if (cJSON_IsString(label))
            find_or_add(&r->models, &r->n_models, label->valuestring);
    }
    if (cJSON_IsString(pivot))
        r->pivot = lang_index(r, pivot->valuestring);
    r->ko = lang_index(r, "ko");
    cJSON_Delete(cfg);
    kv_stored_run_free(&run);

    collect c = {.r = r};
    /* pass 1: models (so that the arrays can be sized) */
    if (kv_store_foreach_request(s, run_id, KV_REQ_MASK_ALL, on_request, &c) != 0)
        goto fail;
    r->lat = kv_xcalloc((size_t)(r->n_models * r->n_langs) + 1, sizeof *r->lat);
    if (kv_store_foreach_request(s, run_id, KV_REQ_MASK_ALL, on_request_count, &c) != 0 ||
        kv_store_foreach_response(s, run_id, on_response, &c) != 0)
        goto fail;
    if (c.n_ans) /* qsort's base must not be NULL, even for 0 elements */
        qsort(c.ans, c.n_ans, sizeof *c.ans, cmp_ans_id);
    if (kv_store_foreach_score(s, run_id, on_score, &c) != 0)
        goto fail;
    consistency(r, &c);

    size_t ncell = (size_t)(r->n_models * (r->n_metrics ? r->n_metrics : 1) * r->n_langs) + 1;
    r->cells = kv_xcalloc(ncell, sizeof *r->cells);
    r->gap = kv_xcalloc(ncell, sizeof *r->gap);
    r->gap_n = kv_xcalloc(ncell, sizeof *r->gap_n);
    if (c.n_rows)
        qsort(c.rows, c.n_rows, sizeof *c.rows, cmp_rows);
    dlist *px = kv_xcalloc(ncell, sizeof *px), *py = kv_xcalloc(ncell, sizeof *py);
    dlist *cv = kv_xcalloc(ncell, sizeof *cv);
    /* ko − every other language, per model and metric (the gap table above
     * is lang − pivot) */
    r->kogap = kv_xcalloc(ncell, sizeof *r->kogap);
    dlist *kx = kv_xcalloc(ncell, sizeof *kx), *ky = kv_xcalloc(ncell, sizeof *ky);
    for (size_t i = 0; i < c.n_rows;) {
        /* one group: same model, metric and item, every language and repeat.
         * Repeats of an item are averaged first: the bootstrap resamples
         * items, so repeats must not count as more items */
        size_t j = i;
        double by_lang[MAX_LANGS] = {0};
        int reps[MAX_LANGS] = {0};
        bool has[MAX_LANGS] = {false};
        while (j < c.n_rows && c.rows[j].model == c.rows[i].model &&
               c.rows[j].metric == c.rows[i].metric && !strcmp(c.rows[j].item, c.rows[i].item)) {
            score_row *row = &c.rows[j];
            size_t at = ((size_t)row->model * (size_t)r->n_metrics + (size_t)row->metric) *
                            (size_t)r->n_langs +
                        (size_t)row->lang;
            r->cells[at].sum += row->value;
            r->cells[at].n++;
            r->cells[at].failed_extraction += row->failed_extraction;
            by_lang[row->lang] += row->value;
            reps[row->lang]++;
            has[row->lang] = true;
            j++;
        }
        for (int l = 0; l < r->n_langs; l++)
            if (has[l]) {
                by_lang[l] /= reps[l];
                size_t at = ((size_t)c.rows[i].model * (size_t)r->n_metrics +
                             (size_t)c.rows[i].metric) *
                                (size_t)r->n_langs +
                            (size_t)l;
                dl_push(&cv[at], by_lang[l]); /* the mean's interval: also over items */
            }
        if (r->ko >= 0 && has[r->ko]) {
            for (int l = 0; l < r->n_langs; l++) {
                if (!has[l] || l == r->ko)
                    continue;
                size_t at = ((size_t)c.rows[i].model * (size_t)r->n_metrics +
                             (size_t)c.rows[i].metric) *
                                (size_t)r->n_langs +
                            (size_t)l;
                dl_push(&kx[at], by_lang[r->ko]);
                dl_push(&ky[at], by_lang[l]);
            }
        }
        if (r->pivot >= 0 && has[r->pivot]) {
            for (int l = 0; l < r->n_langs; l++) {
                if (!has[l] || l == r->pivot)
                    continue;
                size_t at = ((size_t)c.rows[i].model * (size_t)r->n_metrics +
                             (size_t)c.rows[i].metric) *
                                (size_t)r->n_langs +
                            (size_t)l;
                r->gap[at] += by_lang[l] - by_lang[r->pivot];
                r->gap_n[at]++;
                dl_push(&px[at], by_lang[l]);
                dl_push(&py[at], by_lang[r->pivot]);
            }
        }
        i = j;
    }
    /* paired bootstrap of each gap: seeded, so the same store gives the same interval */
    r->gap_ci = kv_xcalloc(ncell, sizeof *r->gap_ci);
    r->bs = kv_bootstrap_defaults();
    for (size_t at = 0; at < ncell; at++) {
        char e[128];
        if (px[at].n >= 2 &&
            kv_gap_paired(px[at].v, py[at].v, px[at].n, &r->bs, &r->gap_ci[at], e, sizeof e) !=
                KV_BS_OK)
            memset(&r->gap_ci[at], 0, sizeof r->gap_ci[at]);
        free(px[at].v);
        free(py[at].v);
        if (kx[at].n >= 2 && kv_gap_paired(kx[at].v, ky[at].v, kx[at].n, &r->bs, &r->kogap[at],
                                           e, sizeof e) != KV_BS_OK)
            memset(&r->kogap[at], 0, sizeof r->kogap[at]);
        free(kx[at].v);
        free(ky[at].v);
        /* the mean's own interval: the same bootstrap against a zero baseline */
        r->cells[at].lo = r->cells[at].hi = NAN;
        if (cv[at].n >= 2) {
            double *zero = kv_xcalloc(cv[at].n, sizeof *zero);
            kv_gap g;
            if (kv_gap_paired(cv[at].v, zero, cv[at].n, &r->bs, &g, e, sizeof e) == KV_BS_OK) {
                r->cells[at].lo = g.lo;
                r->cells[at].hi = g.hi;
            }
            free(zero);
        }
        free(cv[at].v);
    }
    free(px);
    free(py);
    free(kx);
    free(ky);
    free(cv);
    for (size_t i = 0; i < c.n_rows; i++)
        free(c.rows[i].item);
    free(c.rows);
    free_answers(&c);
    corpus_scores(r, s, r->suite, r->suite_hash);
    *out = r;
    return 0;
fail:
    free_answers(&c);
    snprintf(err, errlen, "reading run %lld: %s", (long long)run_id, kv_store_errmsg(s));
    for (size_t i = 0; i < c.n_rows; i++)
        free(c.rows[i].item);
    free(c.rows);
    kv_report_free(r);
    return -1;
}

void kv_report_free(kv_report *r)
{
    if (!r)
        return;
    free(r->suite);
    free(r->suite_name);
    free(r->config_json);
    free(r->suite_hash);
    free(r->koeval_version);
    for (int i = 0; i < r->n_langs; i++)
        free(r->langs[i]);
    for (int i = 0; i < r->n_models; i++)
        free(r->models[i]);
    free(r->models);
    for (int i = 0; i < r->n_metrics; i++)
        free(r->metrics[i]);
    free(r->metrics);
    if (r->lat)
        for (int i = 0; i < r->n_models * r->n_langs; i++) {
            free(r->lat[i].ttft.v);
            free(r->lat[i].e2e.v);
            free(r->lat[i].tps.v);
        }
    free(r->lat);
    free(r->cells);
    free(r->gap);
    free(r->gap_n);
    free(r->gap_ci);
    free(r->kogap);
    free(r->corpus);
    free(r->corpus_bs);
    for (int i = 0; i < r->n_sigs; i++)
        free(r->sigs[i]);
    free(r->sigs);
    free(r->cons);
    free(r);
}

size_t kv_display_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = (unsigned char)s[i] < 0x80 ? (unsigned char)s[i++] : kv_utf8_next(s, n, &i);
        int eaw = u_getIntPropertyValue((UChar32)cp, UCHAR_EAST_ASIAN_WIDTH);
        int gc = u_charType((UChar32)cp);
        if (gc == U_NON_SPACING_MARK || gc == U_ENCLOSING_MARK || cp == 0x200B || cp == 0x200D)
            continue;
        w += (eaw == U_EA_WIDE || eaw == U_EA_FULLWIDTH) ? 2 : 1;
    }
    return w;
}

/* ---- the table, as rows of cells, printed in each format ---- */

typedef struct table {
    char ***cells; /* [row][col] */
    int rows, cols;
    int *numeric;  /* per column: right-align */
} table;

static void t_init(table *t, int cols)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->numeric = kv_xcalloc((size_t)cols, sizeof *t->numeric);
}

static void t_row(table *t)
{
    t->cells = kv_xrealloc(t->cells, (size_t)(t->rows + 1) * sizeof *t->cells);
    t->cells[t->rows] = kv_xcalloc((size_t)t->cols, sizeof **t->cells);
    t->rows++;
}

static void t_set(table *t, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void t_set(table *t, int col, const char *fmt, ...)
{
    kv_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    kv_buf_put(&b, tmp, strlen(tmp));
    free(t->cells[t->rows - 1][col]);
    t->cells[t->rows - 1][col] = b.p;
}

static void t_free(table *t)
{
    for (int i = 0; i < t->rows; i++) {
        for (int j = 0; j < t->cols; j++)
            free(t->cells[i][j]);
        free(t->cells[i]);
    }
    free(t->cells);
    free(t->numeric);
}

static void t_print(const table *t, kv_report_format fmt, FILE *out)
{
    if (fmt == KV_REPORT_CSV) {
        for (int i = 0; i < t->rows; i++) {
            for (int j = 0; j < t->cols; j++) {
                const char *c = t->cells[i][j] ? t->cells[i][j] : "";
                fputs(j ? "," : "", out);
                if (strpbrk(c, ",\"\n")) {
                    fputc('"', out);
                    for (const char *p = c; *p; p++) {
                        if (*p == '"')
                            fputc('"', out);
                        fputc(*p, out);
                    }
                    fputc('"', out);
                } else {
                    fputs(c, out);
                }
            }
            fputc('\n', out);
        }
        return;
    }
    size_t *w = kv_xcalloc((size_t)t->cols, sizeof *w);
    for (int i = 0; i < t->rows; i++)
        for (int j = 0; j < t->cols; j++) {
            const char *c = t->cells[i][j] ? t->cells[i][j] : "";
            size_t dw = kv_display_width(c, strlen(c));
            if (dw > w[j])
                w[j] = dw;
        }
    for (int i = 0; i < t->rows; i++) {
        if (fmt == KV_REPORT_MD)
            fputs("|", out);
        for (int j = 0; j < t->cols; j++) {
            const char *c = t->cells[i][j] ? t->cells[i][j] : "";
            size_t pad = w[j] - kv_display_width(c, strlen(c));
            bool right = t->numeric[j] && i > 0;
            if (fmt == KV_REPORT_MD)
                fputc(' ', out);
            else if (j)
                fputs("  ", out);
            if (right)
                for (size_t k = 0; k < pad; k++)
                    fputc(' ', out);
            fputs(c, out);
            if (!right && (j + 1 < t->cols || fmt == KV_REPORT_MD))
                for (size_t k = 0; k < pad; k++)
                    fputc(' ', out);
            if (fmt == KV_REPORT_MD)
                fputs(" |", out);
        }
        fputc('\n', out);
        if (i == 0 && fmt == KV_REPORT_MD) {
            fputs("|", out);
            for (int j = 0; j < t->cols; j++) {
                fputs(t->numeric[j] ? " " : " ", out);
                for (size_t k = 0; k < (w[j] > 3 ? w[j] : 3) - (t->numeric[j] ? 1 : 0); k++)
                    fputc('-', out);
                fputs(t->numeric[j] ? ": |" : " |", out);
            }
            fputc('\n', out);
        }
    }
    free(w);
}

static void fmt_num(char *dst, size_t n, double v, int decimals)
{
    if (isnan(v))
        snprintf(dst, n, "–");
    else
        snprintf(dst, n, "%.*f", decimals, v);
}

/* quality table: model, metric, one column per language, gap, extraction failures */
static void quality_table(const kv_report *r, table *t)
{
    int extra = r->ko >= 0 && r->pivot >= 0 && r->ko != r->pivot ? 1 : 0;
    t_init(t, 2 + r->n_langs + extra + 1);
    t_row(t);
    t_set(t, 0, "%s", L(r, L_MODEL));
    t_set(t, 1, "%s", L(r, L_METRIC));
    for (int l = 0; l < r->n_langs; l++) {
        t_set(t, 2 + l, "%s", r->langs[l]);
        t->numeric[2 + l] = 1;
    }
    if (extra) {
        t_set(t, 2 + r->n_langs, "ko−%s (95%% CI)", r->langs[r->pivot]);
        t->numeric[2 + r->n_langs] = 1;
    }
    t_set(t, t->cols - 1, "%s", L(r, L_NOANSWER));
    t->numeric[t->cols - 1] = 1;
    for (int m = 0; m < r->n_models; m++)
        for (int k = 0; k < r->n_metrics; k++) {
            int64_t total_n = 0, fails = 0;
            for (int l = 0; l < r->n_langs; l++) {
                const cell_score *c = &r->cells[((size_t)m * (size_t)r->n_metrics + (size_t)k) *
                                                    (size_t)r->n_langs +
                                                (size_t)l];
                total_n += c->n;
                fails += c->failed_extraction;
            }
            if (total_n == 0)
                continue;
            t_row(t);
            t_set(t, 0, "%s", r->models[m]);
            t_set(t, 1, "%s", r->metrics[k]);
            for (int l = 0; l < r->n_langs; l++) {
                const cell_score *c = &r->cells[((size_t)m * (size_t)r->n_metrics + (size_t)k) *
                                                    (size_t)r->n_langs +
                                                (size_t)l];
                char v[32];
                fmt_num(v, sizeof v, c->n ? c->sum / (double)c->n : NAN, 1);
                t_set(t, 2 + l, "%s", v);
            }
            if (extra) {
                size_t at = ((size_t)m * (size_t)r->n_metrics + (size_t)k) * (size_t)r->n_langs +
                            (size_t)r->ko;
                const kv_gap *g = &r->gap_ci[at];
                if (!r->gap_n[at])
                    t_set(t, 2 + r->n_langs, "–");
                else if (!g->n)
                    t_set(t, 2 + r->n_langs, "%+.1f", r->gap[at] / (double)r->gap_n[at]);
                else
                    /* ▼ Korean significantly worse, ▲ significantly better */
                    t_set(t, 2 + r->n_langs, "%+.1f [%+.1f, %+.1f]%s", g->mean_diff, g->lo, g->hi,
                          !g->flagged ? "  " : g->mean_diff < 0 ? " ▼" : " ▲");
            }
            t_set(t, t->cols - 1, "%lld", (long long)fails);
        }
}

/* speed and coverage: model, language, coverage, TTFT, E2E, tokens/s */
static void speed_table(const kv_report *r, table *t)
{
    t_init(t, 7);
    t_row(t);
    const char *head[] = {L(r, L_MODEL), L(r, L_LANG),  L(r, L_ANSWERED), L(r, L_FAILED),
                          L(r, L_TTFT),  L(r, L_E2E),   L(r, L_TPS)};
    for (int j = 0; j < 7; j++) {
        t_set(t, j, "%s", head[j]);
        t->numeric[j] = j >= 2;
    }
    for (int m = 0; m < r->n_models; m++)
        for (int l = 0; l < r->n_langs; l++) {
            cell_lat *c = &r->lat[m * r->n_langs + l];
            if (!c->asked)
                continue;
            t_row(t);
            t_set(t, 0, "%s", r->models[m]);
            t_set(t, 1, "%s", r->langs[l]);
            t_set(t, 2, "%lld/%lld", (long long)c->answered, (long long)c->asked);
            t_set(t, 3, "%lld", (long long)c->failed);
            char a[32], b[32], d[32];
            fmt_num(a, sizeof a, median(&c->ttft), 0);
            fmt_num(b, sizeof b, median(&c->e2e), 0);
            fmt_num(d, sizeof d, median(&c->tps), 1);
            t_set(t, 4, "%s", a);
            t_set(t, 5, "%s", b);
            t_set(t, 6, "%s", d);
        }
}

/* corpus-level translation scores: model, metric, languages, ko − pivot */
static void corpus_table(const kv_report *r, table *t)
{
    int extra = r->ko >= 0 && r->pivot >= 0 && r->ko != r->pivot ? 1 : 0;
    t_init(t, 2 + r->n_langs + extra);
    t_row(t);
    t_set(t, 0, "%s", L(r, L_MODEL));
    t_set(t, 1, "%s", L(r, L_METRIC));
    for (int l = 0; l < r->n_langs; l++) {
        t_set(t, 2 + l, "%s", r->langs[l]);
        t->numeric[2 + l] = 1;
    }
    if (extra) {
        t_set(t, 2 + r->n_langs, "ko−%s (95%% CI)", r->langs[r->pivot]);
        t->numeric[2 + r->n_langs] = 1;
    }
    static const char *const names[2] = {"chrF2", "BLEU"};
    for (int m = 0; m < r->n_models; m++)
        for (int k = 0; k < 2; k++) {
            size_t o2 = (size_t)m * 2 * (size_t)r->n_langs + (size_t)k * (size_t)r->n_langs;
            bool any = false;
            for (int l = 0; l < r->n_langs; l++)
                any |= !isnan(r->corpus[o2 + (size_t)l]);
            if (!any)
                continue;
            t_row(t);
            t_set(t, 0, "%s", r->models[m]);
            t_set(t, 1, "%s", names[k]);
            for (int l = 0; l < r->n_langs; l++) {
                char v[32];
                fmt_num(v, sizeof v, r->corpus[o2 + (size_t)l], 1);
                t_set(t, 2 + l, "%s", v);
            }
            if (extra) {
                const kv_paired_bs_result *b = &r->corpus_bs[o2 + (size_t)r->ko];
                if (b->n)
                    t_set(t, 2 + r->n_langs, "%+.1f [%+.1f, %+.1f]%s", b->diff, b->diff_lo,
                          b->diff_hi, !b->flagged ? "  " : b->diff < 0 ? " ▼" : " ▲");
                else
                    t_set(t, 2 + r->n_langs, "–");
            }
        }
}

/* consistency: model, language, items, then the means */
static void consistency_table(const kv_report *r, table *t)
{
    t_init(t, 9);
    t_row(t);
    const int keys[] = {L_MODEL, L_LANG, L_ITEMS, L_MODAL, L_FLIP, L_SELFCHRF, L_SD, L_PASSK,
                        L_PASSHATK};
    for (int j = 0; j < 9; j++) {
        t_set(t, j, "%s", L(r, keys[j]));
        t->numeric[j] = j >= 2;
    }
    for (int m = 0; m < r->n_models; m++)
        for (int l = 0; l < r->n_langs; l++) {
            const kv_consistency_mean *c = &r->cons[m * r->n_langs + l];
            if (!c->items)
                continue;
            t_row(t);
            t_set(t, 0, "%s", r->models[m]);
            t_set(t, 1, "%s", r->langs[l]);
            t_set(t, 2, "%zu", c->items);
            char v[32];
            fmt_num(v, sizeof v, c->with_answers ? 100 * c->modal_answer : NAN, 1);
            t_set(t, 3, "%s", v);
            fmt_num(v, sizeof v, c->with_answers ? 100 * c->answer_flip_rate : NAN, 1);
            t_set(t, 4, "%s", v);
            fmt_num(v, sizeof v, c->with_chrf ? c->self_chrf : NAN, 1);
            t_set(t, 5, "%s", v);
            fmt_num(v, sizeof v, c->with_scores ? c->score_sd : NAN, 1);
            t_set(t, 6, "%s", v);
            fmt_num(v, sizeof v, c->with_scores ? 100 * c->pass_at_k : NAN, 1);
            t_set(t, 7, "%s", v);
            fmt_num(v, sizeof v, c->with_scores ? 100 * c->pass_hat_k : NAN, 1);
            t_set(t, 8, "%s", v);
        }
}

static int print_json(const kv_report *r, FILE *out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "run", (double)r->run_id);
    cJSON_AddStringToObject(o, "status", kv_run_status_name(r->status));
    cJSON_AddStringToObject(o, "suite", r->suite);
    cJSON_AddNumberToObject(o, "repeat", r->repeat);
    cJSON *langs = cJSON_AddArrayToObject(o, "languages");
    for (int l = 0; l < r->n_langs; l++)
        cJSON_AddItemToArray(langs, cJSON_CreateString(r->langs[l]));
    if (r->pivot >= 0)
        cJSON_AddStringToObject(o, "pivot", r->langs[r->pivot]);
    cJSON *sg = cJSON_AddArrayToObject(o, "signatures");
    for (int i = 0; i < r->n_sigs; i++)
        cJSON_AddItemToArray(sg, cJSON_CreateString(r->sigs[i]));
    cJSON *bs = cJSON_AddObjectToObject(o, "bootstrap");
    cJSON_AddNumberToObject(bs, "resamples", (double)r->bs.resamples);
    cJSON_AddNumberToObject(bs, "seed", (double)r->bs.seed);
    cJSON *q = cJSON_AddArrayToObject(o, "quality");
    for (int m = 0; m < r->n_models; m++)
        for (int k = 0; k < r->n_metrics; k++)
            for (int l = 0; l < r->n_langs; l++) {
                size_t at = ((size_t)m * (size_t)r->n_metrics + (size_t)k) * (size_t)r->n_langs +
                            (size_t)l;
                const cell_score *c = &r->cells[at];
                if (!c->n)
                    continue;
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "model", r->models[m]);
                cJSON_AddStringToObject(e, "metric", r->metrics[k]);
                cJSON_AddStringToObject(e, "lang", r->langs[l]);
                cJSON_AddNumberToObject(e, "mean", c->sum / (double)c->n);
                cJSON_AddNumberToObject(e, "n", (double)c->n);
                if (!isnan(c->lo)) {
                    cJSON_AddNumberToObject(e, "ci_low", c->lo);
                    cJSON_AddNumberToObject(e, "ci_high", c->hi);
                }
                if (r->kogap[at].n) {
                    const kv_gap *g = &r->kogap[at];
                    cJSON *kg = cJSON_AddObjectToObject(e, "ko_minus_this");
                    cJSON_AddNumberToObject(kg, "mean", g->mean_diff);
                    cJSON_AddNumberToObject(kg, "ci_low", g->lo);
                    cJSON_AddNumberToObject(kg, "ci_high", g->hi);
                    cJSON_AddBoolToObject(kg, "flagged", g->flagged);
                    cJSON_AddNumberToObject(kg, "pairs", (double)g->n);
                    cJSON_AddNumberToObject(kg, "wins", (double)g->wins);
                    cJSON_AddNumberToObject(kg, "ties", (double)g->ties);
                    cJSON_AddNumberToObject(kg, "losses", (double)g->losses);
                }
                cJSON_AddNumberToObject(e, "extraction_failures", (double)c->failed_extraction);
                if (r->gap_n[at]) {
                    cJSON_AddNumberToObject(e, "gap_vs_pivot", r->gap[at] / (double)r->gap_n[at]);
                    cJSON_AddNumberToObject(e, "gap_pairs", (double)r->gap_n[at]);
                }
                if (r->gap_ci[at].n) {
                    const kv_gap *g = &r->gap_ci[at];
                    cJSON_AddNumberToObject(e, "gap_ci_low", g->lo);
                    cJSON_AddNumberToObject(e, "gap_ci_high", g->hi);
                    cJSON_AddBoolToObject(e, "gap_flagged", g->flagged);
                    cJSON_AddNumberToObject(e, "wins", (double)g->wins);
                    cJSON_AddNumberToObject(e, "ties", (double)g->ties);
                    cJSON_AddNumberToObject(e, "losses", (double)g->losses);
                }
                cJSON_AddItemToArray(q, e);
            }
    cJSON *sp = cJSON_AddArrayToObject(o, "speed");
    for (int m = 0; m < r->n_models; m++)
        for (int l = 0; l < r->n_langs; l++) {
            cell_lat *c = &r->lat[m * r->n_langs + l];
            if (!c->asked)
                continue;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "model", r->models[m]);
            cJSON_AddStringToObject(e, "lang", r->langs[l]);
            cJSON_AddNumberToObject(e, "asked", (double)c->asked);
            cJSON_AddNumberToObject(e, "answered", (double)c->answered);
            cJSON_AddNumberToObject(e, "failed", (double)c->failed);
            double v;
            if (!isnan(v = median(&c->ttft)))
                cJSON_AddNumberToObject(e, "ttft_p50_ms", v);
            if (!isnan(v = median(&c->e2e)))
                cJSON_AddNumberToObject(e, "e2e_p50_ms", v);
            if (!isnan(v = median(&c->tps)))
                cJSON_AddNumberToObject(e, "output_tokens_per_s_p50", v);
            cJSON_AddItemToArray(sp, e);
        }
    if (r->has_corpus) {
        cJSON *ca = cJSON_AddArrayToObject(o, "corpus");
        static const char *const names[2] = {"chrF2", "BLEU"};
        for (int m = 0; m < r->n_models; m++)
            for (int k = 0; k < 2; k++)
                for (int l = 0; l < r->n_langs; l++) {
                    size_t at = (size_t)m * 2 * (size_t)r->n_langs + (size_t)k * (size_t)r->n_langs +
                                (size_t)l;
                    if (isnan(r->corpus[at]))
                        continue;
                    cJSON *e = cJSON_CreateObject();
                    cJSON_AddStringToObject(e, "model", r->models[m]);
                    cJSON_AddStringToObject(e, "metric", names[k]);
                    cJSON_AddStringToObject(e, "lang", r->langs[l]);
                    cJSON_AddNumberToObject(e, "score", r->corpus[at]);
                    const kv_paired_bs_result *b = &r->corpus_bs[at];
                    if (b->n) {
                        cJSON *g = cJSON_AddObjectToObject(e, "ko_minus_pivot");
                        cJSON_AddNumberToObject(g, "diff", b->diff);
                        cJSON_AddNumberToObject(g, "ci_low", b->diff_lo);
                        cJSON_AddNumberToObject(g, "ci_high", b->diff_hi);
                        cJSON_AddBoolToObject(g, "flagged", b->flagged);
                        cJSON_AddNumberToObject(g, "segments", (double)b->n);
                    }
                    cJSON_AddItemToArray(ca, e);
                }
    }
    if (r->has_cons) {
        cJSON *cs = cJSON_AddArrayToObject(o, "consistency");
        for (int m = 0; m < r->n_models; m++)
            for (int l = 0; l < r->n_langs; l++) {
                const kv_consistency_mean *c = &r->cons[m * r->n_langs + l];
                if (!c->items)
                    continue;
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "model", r->models[m]);
                cJSON_AddStringToObject(e, "lang", r->langs[l]);
                cJSON_AddNumberToObject(e, "items", (double)c->items);
                cJSON_AddNumberToObject(e, "modal_raw_agreement", c->modal_raw);
                cJSON_AddNumberToObject(e, "pairwise_raw_agreement", c->pairwise_raw);
                if (c->with_answers) {
                    cJSON_AddNumberToObject(e, "modal_answer_agreement", c->modal_answer);
                    cJSON_AddNumberToObject(e, "pairwise_answer_agreement", c->pairwise_answer);
                    cJSON_AddNumberToObject(e, "answer_flip_rate", c->answer_flip_rate);
                }
                if (c->with_chrf)
                    cJSON_AddNumberToObject(e, "self_chrf", c->self_chrf);
                if (c->with_scores) {
                    cJSON_AddNumberToObject(e, "score_sd", c->score_sd);
                    cJSON_AddNumberToObject(e, "pass_at_k", c->pass_at_k);
                    cJSON_AddNumberToObject(e, "pass_hat_k", c->pass_hat_k);
                }
                cJSON_AddItemToArray(cs, e);
            }
    }
    char *s = cJSON_Print(o);
    fputs(s, out);
    fputc('\n', out);
    free(s);
    cJSON_Delete(o);
    return ferror(out) ? -1 : 0;
}


/* ---- HTML: one self-contained page (inline CSS and SVG, no script, no network) ---- */

static void html_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static const char *const palette[] = {"#3b6fb6", "#d9822b", "#3a9d5d", "#a34ea6",
                                      "#c23b3b", "#6b7a8f", "#b59f2a", "#2a9cb5"};

static void html_table(FILE *out, const table *t)
{
    fputs("<table>\n", out);
    for (int i = 0; i < t->rows; i++) {
        fputs("<tr>", out);
        for (int j = 0; j < t->cols; j++) {
            const char *tag = i == 0 ? "th" : "td";
            fprintf(out, "<%s%s>", tag, t->numeric[j] && i > 0 ? " class=\"num\"" : "");
            html_text(out, t->cells[i][j] ? t->cells[i][j] : "");
            fprintf(out, "</%s>", tag);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static double cell_mean(const kv_report *r, int m, int k, int l, int64_t *n)
{
    const cell_score *c =
        &r->cells[((size_t)m * (size_t)r->n_metrics + (size_t)k) * (size_t)r->n_langs + (size_t)l];
    *n = c->n;
    return c->n ? c->sum / (double)c->n : NAN;
}

/* One grouped bar chart for a metric: groups = languages, bars = models. */
static void html_metric_chart(FILE *out, const kv_report *r, int k)
{
    const int bw = 22, gap = 18, h = 180, top = 20, left = 40;
    int width = left + r->n_langs * (r->n_models * bw + gap) + 10;
    fprintf(out, "<h3>");
    html_text(out, r->metrics[k]);
    fprintf(out, "</h3>\n<svg class=\"chart\" width=\"%d\" height=\"%d\" role=\"img\" "
                 "xmlns=\"http://www.w3.org/2000/svg\">\n",
            width, h + top + 40);
    for (int y = 0; y <= 100; y += 25) {
        int py = top + h - y * h / 100;
        fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>"
                     "<text x=\"%d\" y=\"%d\" class=\"axis\">%d</text>\n",
                left, width - 10, py, py, left - 6, py + 4, y);
    }
    for (int l = 0; l < r->n_langs; l++) {
        int gx = left + l * (r->n_models * bw + gap) + gap / 2;
        for (int m = 0; m < r->n_models; m++) {
            int64_t n;
            double v = cell_mean(r, m, k, l, &n);
            if (!n)
                continue;
            int bh = (int)lround(v * h / 100.0);
            int x = gx + m * bw;
            fprintf(out, "<rect class=\"bar\" data-model=\"");
            html_text(out, r->models[m]);
            fprintf(out, "\" data-lang=\"%s\" data-value=\"%.2f\" x=\"%d\" y=\"%d\" width=\"%d\" "
                         "height=\"%d\" fill=\"%s\"><title>",
                    r->langs[l], v, x, top + h - bh, bw - 3, bh,
                    palette[m % (int)(sizeof palette / sizeof palette[0])]);
            html_text(out, r->models[m]);
            fprintf(out, " · %s · %.1f (n=%lld)</title></rect>\n", r->langs[l], v, (long long)n);
            const cell_score *cs = &r->cells[((size_t)m * (size_t)r->n_metrics + (size_t)k) *
                                                 (size_t)r->n_langs +
                                             (size_t)l];
            if (!isnan(cs->lo)) {
                int ylo = top + h - (int)lround(cs->lo * h / 100.0);
                int yhi = top + h - (int)lround(cs->hi * h / 100.0);
                int cx = x + (bw - 3) / 2;
                fprintf(out, "<line class=\"whisker ci\" x1=\"%d\" x2=\"%d\" y1=\"%d\" "
                             "y2=\"%d\"><title>95%% CI %.1f–%.1f</title></line>"
                             "<line class=\"whisker\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
                             "<line class=\"whisker\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n",
                        cx, cx, ylo, yhi, cs->lo, cs->hi, cx - 4, cx + 4, ylo, ylo, cx - 4, cx + 4,
                        yhi, yhi);
            }
        }
        fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"lang%s\">%s</text>\n",
                gx + r->n_models * bw / 2 - 6, top + h + 18, l == r->ko ? " ko" : "",
                r->langs[l]);
    }
    fputs("</svg>\n", out);
}

/* The Korean gap per model and metric: horizontal bars around zero. */
static void html_gap_chart(FILE *out, const kv_report *r)
{
    if (r->ko < 0 || r->pivot < 0 || r->ko == r->pivot)
        return;
    int rows = 0;
    for (int m = 0; m < r->n_models; m++)
        for (int k = 0; k < r->n_metrics; k++) {
            size_t at = ((size_t)m * (size_t)r->n_metrics + (size_t)k) * (size_t)r->n_langs +
                        (size_t)r->ko;
            rows += r->gap_n[at] > 0;
        }
    if (!rows)
        return;
    const int rh = 22, w = 420, label = 320, mid = label + w / 2;
    fputs("<h2>", out);
    fprintf(out, L(r, L_GAP_TITLE), r->langs[r->pivot]);
    fputs("</h2>\n<p class=\"note\">", out);
    fprintf(out, L(r, L_GAP_NOTE), r->langs[r->pivot]);
    fprintf(out, "</p>\n<svg class=\"gap\" width=\"%d\" height=\"%d\" "
                 "xmlns=\"http://www.w3.org/2000/svg\">\n",
            label + w + 60, rows * rh + 30);
    fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"0\" y2=\"%d\" class=\"zero\"/>\n", mid, mid,
            rows * rh + 10);
    int row = 0;
    for (int m = 0; m < r->n_models; m++)
        for (int k = 0; k < r->n_metrics; k++) {
            size_t at = ((size_t)m * (size_t)r->n_metrics + (size_t)k) * (size_t)r->n_langs +
                        (size_t)r->ko;
            if (!r->gap_n[at])
                continue;
            double g = r->gap[at] / (double)r->gap_n[at];
            int len = (int)lround(fabs(g) * (w / 2) / 100.0);
            int y = 5 + row * rh;
            const kv_gap *ci = &r->gap_ci[at];
            if (ci->n) {
                int x1 = mid + (int)lround(ci->lo * (w / 2) / 100.0);
                int x2 = mid + (int)lround(ci->hi * (w / 2) / 100.0);
                fprintf(out, "<line class=\"whisker\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
                             "<line class=\"whisker\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
                             "<line class=\"whisker\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n",
                        x1, x2, y + rh / 2, y + rh / 2, x1, x1, y + 4, y + rh - 6, x2, x2, y + 4,
                        y + rh - 6);
            }
            fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"rowlabel\">", label - 8, y + 14);
            html_text(out, r->models[m]);
            fputs(" · ", out);
            html_text(out, r->metrics[k]);
            fprintf(out, "</text><rect class=\"gapbar%s\" x=\"%d\" y=\"%d\" width=\"%d\" "
                         "height=\"%d\"><title>%+.1f (n=%lld)</title></rect>"
                         "<text x=\"%d\" y=\"%d\" class=\"axis\">%+.1f</text>\n",
                    ci->n && ci->flagged ? (g < 0 ? " worse flagged" : " better flagged")
                                         : (g < 0 ? " worse" : ""),
                    g < 0 ? mid - len : mid, y + 2, len > 0 ? len : 1,
                    rh - 6, g, (long long)r->gap_n[at], label + w + 4, y + 14, g);
            row++;
        }
    fputs("</svg>\n", out);
}

static int print_html(const kv_report *r, FILE *out)
{
    table q, s;
    quality_table(r, &q);
    speed_table(r, &s);
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>koeval run %lld</title>\n",
            r->label_lang == KV_LABELS_KO ? "ko" : "en", (long long)r->run_id);
    fputs("<style>\n"
          "body{font-family:-apple-system,'Noto Sans KR','Noto Sans CJK KR','Malgun Gothic',"
          "sans-serif;margin:2em;color:#222;max-width:1100px}\n"
          "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em}h3{font-size:1em}\n"
          "table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ccc;"
          "padding:.25em .6em}th{background:#f3f3f3}td.num{text-align:right;"
          "font-variant-numeric:tabular-nums}\n"
          ".grid{stroke:#e5e5e5}.axis{font-size:10px;fill:#666;text-anchor:end}"
          ".lang{font-size:12px}.lang.ko{font-weight:bold}\n"
          ".zero{stroke:#333}.gapbar{fill:#9cc8a9}.gapbar.worse{fill:#e3a3a3}"
          ".gapbar.flagged{fill:#3a9d5d}.gapbar.worse.flagged{fill:#c23b3b}.whisker{stroke:#222}"
          ".rowlabel{font-size:12px;text-anchor:end}.note{color:#555;font-size:.9em}\n"
          ".legend span{display:inline-block;margin-right:1.2em}.legend i{display:inline-block;"
          "width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}\n"
          "pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em}\n"
          "</style>\n</head>\n<body>\n<h1>",
          out);
    fprintf(out, L(r, L_TITLE), (long long)r->run_id, r->suite_name[0] ? r->suite_name : "-",
            r->suite, r->repeat);
    fputs("</h1>\n<div class=\"legend\">", out);
    for (int m = 0; m < r->n_models; m++) {
        fprintf(out, "<span><i style=\"background:%s\"></i>",
                palette[m % (int)(sizeof palette / sizeof palette[0])]);
        html_text(out, r->models[m]);
        fputs("</span>", out);
    }
    fputs("</div>\n<h2>", out);
    if (has_ko_gap(r))
        fprintf(out, L(r, L_QUALITY), r->langs[r->pivot]);
    else
        fputs(L(r, L_QUALITY_PLAIN), out);
    fputs("</h2>\n", out);
    for (int k = 0; k < r->n_metrics; k++)
        html_metric_chart(out, r, k);
    html_table(out, &q);
    html_gap_chart(out, r);
    fputs("<h2>", out);
    html_text(out, L(r, L_SPEED));
    fputs("</h2>\n", out);
    html_table(out, &s);
    if (r->has_corpus) {
        table k;
        corpus_table(r, &k);
        fputs("<h2>", out);
        fprintf(out, L(r, L_CORPUS), r->pivot >= 0 ? r->langs[r->pivot] : "pivot");
        fputs("</h2>\n", out);
        html_table(out, &k);
        t_free(&k);
    }
    if (r->has_cons) {
        table c;
        consistency_table(r, &c);
        fputs("<h2>", out);
        fprintf(out, L(r, L_CONS), r->repeat);
        fputs("</h2>\n", out);
        html_table(out, &c);
        t_free(&c);
    }
    fputs("<h2>", out);
    html_text(out, L(r, L_MANIFEST));
    fprintf(out, "</h2>\n<table><tr><th>run</th><td>%lld</td></tr><tr><th>koeval</th><td>",
            (long long)r->run_id);
    html_text(out, r->koeval_version);
    fputs("</td></tr><tr><th>suite</th><td>", out);
    html_text(out, r->suite);
    fputs("</td></tr><tr><th>suite hash</th><td>", out);
    html_text(out, r->suite_hash);
    fprintf(out, "</td></tr><tr><th>bootstrap</th><td>paired, %zu resamples, seed %llu, "
                 "95%% percentile interval</td></tr>",
            r->bs.resamples, (unsigned long long)r->bs.seed);
    fputs("</table>\n", out);
    if (r->n_sigs) {
        fputs("<table><tr><th>signatures</th></tr>", out);
        for (int i = 0; i < r->n_sigs; i++) {
            fputs("<tr><td><code>", out);
            html_text(out, r->sigs[i]);
            fputs("</code></td></tr>", out);
        }
        fputs("</table>\n", out);
    }
    fputs("<pre>", out);
    cJSON *cfg = cJSON_Parse(r->config_json);
    char *pretty = cfg ? cJSON_Print(cfg) : NULL;
    html_text(out, pretty ? pretty : r->config_json);
    free(pretty);
    cJSON_Delete(cfg);
    fputs("</pre>\n</body>\n</html>\n", out);
    t_free(&q);
    t_free(&s);
    return ferror(out) ? -1 : 0;
}

int kv_report_print(const kv_report *r, kv_report_format fmt, FILE *out)
{
    if (fmt == KV_REPORT_JSON)
        return print_json(r, out);
    if (fmt == KV_REPORT_HTML)
        return print_html(r, out);
    table q, s;
    quality_table(r, &q);
    speed_table(r, &s);
    if (fmt == KV_REPORT_CSV) {
        t_print(&q, fmt, out);
        fputc('\n', out);
        t_print(&s, fmt, out);
        if (r->has_corpus) {
            table k;
            corpus_table(r, &k);
            fputc('\n', out);
            t_print(&k, fmt, out);
            t_free(&k);
        }
        if (r->has_cons) {
            table c;
            consistency_table(r, &c);
            fputc('\n', out);
            t_print(&c, fmt, out);
            t_free(&c);
        }
    } else {
        fputs(fmt == KV_REPORT_MD ? "## " : "", out);
        fprintf(out, L(r, L_TITLE), (long long)r->run_id, r->suite_name[0] ? r->suite_name : "-",
                r->suite, r->repeat);
        if (r->status != KV_RUN_COMPLETE)
            fputs(r->label_lang == KV_LABELS_KO
                      ? "\n(끝나지 않은 실행: 같은 명령에 --resume을 붙이면 이어 갑니다)"
                      : "\n(unfinished run: the same command with --resume continues it)",
                  out);
        fputs("\n\n", out);
        fputs(fmt == KV_REPORT_MD ? "### " : "", out);
        if (has_ko_gap(r))
            fprintf(out, L(r, L_QUALITY), r->langs[r->pivot]);
        else
            fputs(L(r, L_QUALITY_PLAIN), out);
        fputs("\n\n", out);
        t_print(&q, fmt, out);
        fputs(fmt == KV_REPORT_MD ? "\n### " : "\n", out);
        fputs(L(r, L_SPEED), out);
        fputs("\n\n", out);
        t_print(&s, fmt, out);
        if (r->has_corpus) {
            table k;
            corpus_table(r, &k);
            fputs(fmt == KV_REPORT_MD ? "\n### " : "\n", out);
            fprintf(out, L(r, L_CORPUS), r->pivot >= 0 ? r->langs[r->pivot] : "pivot");
            fputs("\n\n", out);
            t_print(&k, fmt, out);
            t_free(&k);
        }
        if (r->has_cons) {
            table c;
            consistency_table(r, &c);
            fputs(fmt == KV_REPORT_MD ? "\n### " : "\n", out);
            fprintf(out, L(r, L_CONS), r->repeat);
            fputs("\n\n", out);
            t_print(&c, fmt, out);
            t_free(&c);
        }
    }
    t_free(&q);
    t_free(&s);
    return ferror(out) ? -1 : 0;
}
