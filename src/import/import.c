/* import.c — the importer registry and what every importer shares (see
 * import.h and internal.h): languages and prompts, items paired by id, gold
 * labels, the seeded sample, and the atomic write of suite and manifest. */
#include "src/import/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/suite.h"

/* ---- registry ---------------------------------------------------------- */

static const kv_import_format FORMATS[] = {
    {"flores", "FLORES-200 / FLORES+: one sentence per line, one file per language, line-aligned",
     "the language files (eng_Latn.devtest, kor_Hang.devtest … or devtest.kor_Hang), "
     "or the folder holding them",
     NULL, "FLORES-200 (Meta AI, NLLB team), https://github.com/facebookresearch/flores",
     "CC BY-SA 4.0", kv_import_flores},
    {"ntrex", "NTREX-128: English news source and its translations, one segment per line",
     "newstest2019-src.eng.txt and newstest2019-ref.<lang>.txt files, or their folder", NULL,
     "NTREX-128 (Microsoft), https://github.com/MicrosoftTranslator/NTREX", "CC BY-SA 4.0",
     kv_import_ntrex},
    {"tatoeba", "Tatoeba Challenge test pairs: one language pair per suite",
     "two line-aligned files (eng-kor.eng eng-kor.kor), or one TSV file "
     "(src-lang, trg-lang, source, target)",
     NULL, "Tatoeba Challenge test v2021-08-07, https://github.com/Helsinki-NLP/Tatoeba-Challenge",
     "CC BY 2.0 FR", kv_import_tatoeba},
    {"belebele",
     "Belebele: passage, question, four answers; one JSONL file per language, row-aligned",
     "<lang>.jsonl files (kor_Hang.jsonl …) or their folder; fields flores_passage, question, "
     "mc_answer1..4, correct_answer_num",
     "1-based index 1-4", "Belebele (Meta AI), https://github.com/facebookresearch/belebele",
     "CC BY-SA 4.0", kv_import_belebele},
    {"mmmlu", "MMMLU: MMLU translated into 14 languages; one CSV per language, row-aligned",
     "mmlu_<LANG>.csv files (mmlu_KO-KR.csv …); columns Question, A, B, C, D, Answer, Subject",
     "letter A-D", "MMMLU (OpenAI), https://huggingface.co/datasets/openai/MMMLU", "MIT",
     kv_import_mmmlu},
    {"global-mmlu", "Global-MMLU: MMLU in 42 languages; one CSV per language, paired by sample_id",
     "LANG=FILE.csv per language (or <lang>/test.csv); columns sample_id, subject, question, "
     "option_a..option_d, answer",
     "letter A-D",
     "Global-MMLU (Cohere For AI), https://huggingface.co/datasets/CohereForAI/Global-MMLU",
     "Apache-2.0", kv_import_global_mmlu},
    {"kmmlu", "KMMLU: Korean MMLU; CSV (or JSONL) per subject, Korean only",
     "<Subject>-test.csv files or their folder; columns question, answer, A, B, C, D, Category",
     "1-based index 1-4", "KMMLU (HAE-RAE), https://huggingface.co/datasets/HAERAE-HUB/KMMLU",
     "CC BY-ND 4.0", kv_import_kmmlu},
    {"click", "CLIcK: Korean cultural and linguistic questions, Korean only",
     "JSON (array) or JSONL files; fields id, paragraph, question, choices, answer",
     "text of a choice", "CLIcK, https://github.com/rladmstn1714/CLIcK", "CC BY 4.0",
     kv_import_click},
    {"haerae", "HAE-RAE Bench: Korean knowledge questions, Korean only",
     "CSV or JSONL files; fields query (the question with its options), options, answer",
     "letter \"(A)\" or A",
     "HAE-RAE Bench 1.0, https://huggingface.co/datasets/HAERAE-HUB/HAE_RAE_BENCH_1.0",
     "CC BY-NC-ND 4.0", kv_import_haerae},
    {"kobest", "KoBEST: BoolQ, COPA, HellaSwag, SentiNeg, WiC (TSV with header), Korean only",
     "<Task>.test.tsv files or their folder; the task is read from the header",
     "BoolQ/WiC True/False; COPA 1-based 1-2; HellaSwag 0-based 0-3; SentiNeg 0-based 0-1",
     "KoBEST v1.0 (SKT), https://github.com/SKT-LSL/KoBEST_datarepo", "CC BY-SA 4.0",
     kv_import_kobest},
    {"kobbq", "KoBBQ: Korean bias QA, three choices incl. 'unknown', Korean only",
     "KoBBQ_test_samples.tsv; columns sample_id, context, question, choices, biased_answer, answer",
     "text of a choice", "KoBBQ (NAVER AI), https://github.com/naver-ai/KoBBQ", "MIT",
     kv_import_kobbq},
    {"mtbench",
     "KoMT-Bench / MT-Bench: first-turn questions as open items, ko and en paired by question_id",
     "question files (question_ko.jsonl, question_en.jsonl or FastChat's question.jsonl = en) and "
     "optionally reference answer files (reference_answer_ko/gpt-4.jsonl …), or the folder holding "
     "them",
     NULL,
     "KoMT-Bench (LG AI Research), https://github.com/LG-AI-EXAONE/KoMT-Bench; MT-Bench "
     "(LMSYS FastChat)",
     "LGPL-3.0 (KoMT-Bench); Apache-2.0 (MT-Bench questions)", kv_import_mtbench},
};

const kv_import_format *kv_import_formats(size_t *n)
{
    *n = sizeof FORMATS / sizeof FORMATS[0];
    return FORMATS;
}

const kv_import_format *kv_import_find(const char *name)
{
    if (!strcmp(name, "komt-bench") || !strcmp(name, "komtbench") || !strcmp(name, "mt-bench"))
        name = "mtbench";
    if (!strcmp(name, "flores200") || !strcmp(name, "flores+") || !strcmp(name, "floresplus"))
        name = "flores";
    if (!strcmp(name, "ntrex128"))
        name = "ntrex";
    if (!strcmp(name, "globalmmlu"))
        name = "global-mmlu";
    for (size_t i = 0; i < sizeof FORMATS / sizeof FORMATS[0]; i++)
        if (!strcmp(FORMATS[i].name, name))
            return &FORMATS[i];
    return NULL;
}

/* ---- languages --------------------------------------------------------- */

typedef struct lang_info {
    const char *tag;
    const char *aliases;   /* space-separated, lowercase, '_' for '-' */
    const char *translate; /* translation instruction, in the language */
    const char *mcq;       /* "answer with the letter", in the language */
    const char *system;    /* system prompt for the manifest, or NULL */
} lang_info;

static const lang_info LANGS[] = {
    {"ko", "ko kor kor_hang ko_kr", "다음 문장을 한국어로 번역하세요. 번역문만 쓰세요.",
     "정답의 알파벳 한 글자만 쓰세요.",
     "당신은 도움이 되는 어시스턴트입니다. 한국어로 간결하게 답하세요."},
    {"en", "en eng eng_latn en_us en_gb",
     "Translate the following text into English. Write only the translation.",
     "Answer with the letter only.", "You are a helpful assistant. Answer briefly in English."},
    {"ja", "ja jpn jpn_jpan ja_jp", "次の文を日本語に翻訳してください。訳文だけを書いてください。",
     "答えはアルファベット1文字だけで書いてください。",
     "あなたは役に立つアシスタントです。日本語で簡潔に答えてください。"},
    {"zh", "zh zho zho_hans cmn cmn_hans zh_cn zho_cn zh_hans",
     "请把下面的文字翻译成简体中文。只写译文。", "请只回答选项字母。",
     "你是一个乐于助人的助手。请用简体中文简洁地回答。"},
    {"zh-Hant", "zh_hant zho_hant cmn_hant zh_tw zho_tw",
     "請把下面的文字翻譯成繁體中文。只寫譯文。", "請只回答選項字母。",
     "你是一個樂於助人的助手。請用繁體中文簡潔地回答。"},
    {"de", "de deu deu_latn de_de ger",
     "Übersetzen Sie den folgenden Text ins Deutsche. Schreiben Sie nur die Übersetzung.",
     "Antworten Sie nur mit dem Buchstaben.", NULL},
    {"fr", "fr fra fra_latn fr_fr fre",
     "Traduisez le texte suivant en français. N'écrivez que la traduction.",
     "Répondez uniquement par la lettre.", NULL},
    {"es", "es spa spa_latn es_es es_la",
     "Traduzca el siguiente texto al español. Escriba solo la traducción.",
     "Responda solo con la letra.", NULL},
    {"ru", "ru rus rus_cyrl ru_ru",
     "Переведите следующий текст на русский язык. Напишите только перевод.",
     "Ответьте только буквой.", NULL},
    {"vi", "vi vie vie_latn vi_vn", "Hãy dịch đoạn văn sau sang tiếng Việt. Chỉ viết bản dịch.",
     "Chỉ trả lời bằng chữ cái.", NULL},
    {"th", "th tha tha_thai th_th", "แปลข้อความต่อไปนี้เป็นภาษาไทย เขียนเฉพาะคำแปลเท่านั้น",
     "ตอบด้วยตัวอักษรเท่านั้น", NULL},
    {"id", "id ind ind_latn id_id",
     "Terjemahkan teks berikut ke dalam bahasa Indonesia. Tulis terjemahannya saja.",
     "Jawab hanya dengan hurufnya.", NULL},
    {"hi", "hi hin hin_deva hi_in", "निम्नलिखित पाठ का हिंदी में अनुवाद करें। केवल अनुवाद लिखें।",
     "केवल अक्षर से उत्तर दें।", NULL},
    {"ar", "ar ara arb arb_arab ar_xy ar_sa", "ترجم النص التالي إلى العربية. اكتب الترجمة فقط.",
     "أجب بالحرف فقط.", NULL},
    {"pt", "pt por por_latn pt_br pt_pt",
     "Traduza o texto a seguir para o português. Escreva apenas a tradução.",
     "Responda apenas com a letra.", NULL},
    {"it", "it ita ita_latn it_it",
     "Traduci il seguente testo in italiano. Scrivi solo la traduzione.",
     "Rispondi solo con la lettera.", NULL},
};

static const lang_info *lang_find(const char *code)
{
    char key[32];
    size_t n = strlen(code);
    if (n == 0 || n >= sizeof key)
        return NULL;
    for (size_t i = 0; i <= n; i++) {
        char ch = code[i];
        key[i] = ch == '-' ? '_' : (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    for (size_t i = 0; i < sizeof LANGS / sizeof LANGS[0]; i++) {
        const char *a = LANGS[i].aliases;
        while (*a) {
            size_t len = strcspn(a, " ");
            if (len == n && !memcmp(a, key, n))
                return &LANGS[i];
            a += len;
            a += *a == ' ';
        }
    }
    return NULL;
}

const char *kv_import_lang_tag(const char *code)
{
    const lang_info *l = lang_find(code);
    return l ? l->tag : NULL;
}

const char *kv_imp_translate_instruction(const char *lang)
{
    const lang_info *l = lang_find(lang);
    return l ? l->translate : NULL;
}

/* A language read from one name: whole dot-separated parts first
 * ("kor_Hang", "zho-CN", "eng"), then two adjacent '-'/'_' pieces ("KO-KR"
 * in "mmlu_KO-KR"), then single pieces ("ko" in "question_ko"). */
static const char *lang_from_name(const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", name);
    char *parts[16];
    size_t np = 0;
    for (char *s = buf; np < 16;) {
        parts[np++] = s;
        char *dot = strchr(s, '.');
        if (!dot)
            break;
        *dot = '\0';
        s = dot + 1;
    }
    for (size_t i = 0; i < np; i++) {
        const char *t = kv_import_lang_tag(parts[i]);
        if (t)
            return t;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < np; i++) {
            char piece[64][32];
            size_t n = 0;
            for (const char *s = parts[i]; *s && n < 64;) {
                size_t len = strcspn(s, "-_ ");
                if (len > 0 && len < 32) {
                    memcpy(piece[n], s, len);
                    piece[n++][len] = '\0';
                }
                s += len;
                s += *s != '\0';
            }
            for (size_t k = 0; k < n; k++) {
                char key[64];
                if (pass == 0) {
                    if (k + 1 >= n)
                        break;
                    snprintf(key, sizeof key, "%.31s_%.31s", piece[k], piece[k + 1]);
                } else {
                    snprintf(key, sizeof key, "%.31s", piece[k]);
                }
                const char *t = kv_import_lang_tag(key);
                if (t)
                    return t;
            }
        }
    }
    return NULL;
}

const char *kv_imp_file_lang(const kv_import_file *f)
{
    if (f->lang)
        return f->lang;
    const char *slash = strrchr(f->path, '/');
    const char *base = slash ? slash + 1 : f->path;
    const char *t = lang_from_name(base);
    if (t || !slash)
        return t;
    /* the directory's name: Global-MMLU's ko/test.csv, reference_answer_ko/gpt-4.jsonl */
    const char *d = slash;
    while (d > f->path && d[-1] != '/')
        d--;
    char dir[256];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - d), d);
    return lang_from_name(dir);
}

static int lang_rank(const char *tag)
{
    static const char *const first[] = {"ko", "en", "ja", "zh"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(tag, first[i]))
            return i;
    return 4;
}

int kv_imp_set_langs(kv_import_ctx *ctx, const char *const *found, size_t n, bool must_be_found)
{
    const kv_import_opts *o = ctx->opts;
    free(ctx->langs);
    ctx->langs = kv_xcalloc(o->langs ? o->n_langs : n, sizeof *ctx->langs);
    ctx->n_langs = 0;
    if (o->langs) {
        for (size_t i = 0; i < o->n_langs; i++) {
            const char *t = kv_import_lang_tag(o->langs[i]);
            if (!t)
                return kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "--langs: unknown language '%s'",
                                   o->langs[i]);
            bool have = false;
            for (size_t k = 0; k < n; k++)
                have |= !strcmp(found[k], t);
            if (must_be_found && !have)
                return kv_imp_fail(ctx, KV_IMPORT_EUSAGE,
                                   "--langs: no %s file among the inputs for '%s'", ctx->fmt->name,
                                   o->langs[i]);
            if (kv_imp_lang_index(ctx, t) >= 0)
                return kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "--langs: '%s' given twice", o->langs[i]);
            ctx->langs[ctx->n_langs++] = t;
        }
        return 0;
    }
    for (int rank = 0; rank <= 4; rank++)
        for (size_t k = 0; k < n; k++)
            if (lang_rank(found[k]) == rank && kv_imp_lang_index(ctx, found[k]) < 0)
                ctx->langs[ctx->n_langs++] = found[k];
    return 0;
}

int kv_imp_single_lang(kv_import_ctx *ctx, const char *tag)
{
    const kv_import_opts *o = ctx->opts;
    if (o->langs && (o->n_langs != 1 || !kv_import_lang_tag(o->langs[0]) ||
                     strcmp(kv_import_lang_tag(o->langs[0]), tag)))
        return kv_imp_fail(ctx, KV_IMPORT_EUSAGE, "--langs: %s is a %s-only dataset",
                           ctx->fmt->name, tag);
    return kv_imp_set_langs(ctx, &tag, 1, true);
}

int kv_imp_lang_index(const kv_import_ctx *ctx, const char *tag)
{
    for (size_t i = 0; i < ctx->n_langs; i++)
        if (!strcmp(ctx->langs[i], tag))
            return (int)i;
    return -1;
}

/* ---- items ------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void index_insert(kv_import_ctx *ctx, size_t item)
{
    size_t mask = ctx->n_slots - 1;
    for (size_t j = hash_str(ctx->items[item].id) & mask;; j = (j + 1) & mask)
        if (!ctx->slots[j]) {
            ctx->slots[j] = item + 1;
            return;
        }
}

long kv_imp_find_item(const kv_import_ctx *ctx, const char *id)
{
    if (!ctx->n_slots)
        return -1;
    size_t mask = ctx->n_slots - 1;
    for (size_t j = hash_str(id) & mask; ctx->slots[j]; j = (j + 1) & mask)
        if (!strcmp(ctx->items[ctx->slots[j] - 1].id, id))
            return (long)(ctx->slots[j] - 1);
    return -1;
}

size_t kv_imp_item(kv_import_ctx *ctx, const char *id, const char *path, size_t line)
{
    long found = kv_imp_find_item(ctx, id);
    if (found >= 0)
        return (size_t)found;
    if (ctx->n_items == ctx->cap_items) {
        ctx->cap_items = ctx->cap_items ? 2 * ctx->cap_items : 256;
        ctx->items = kv_xrealloc(ctx->items, ctx->cap_items * sizeof *ctx->items);
    }
    size_t i = ctx->n_items++;
    kv_import_item *it = &ctx->items[i];
    it->id = kv_imp_strdup(id);
    it->recs = kv_xcalloc(ctx->n_langs ? ctx->n_langs : 1, sizeof *it->recs);
    it->path = path;
    it->line = line;
    if (2 * ctx->n_items >= ctx->n_slots) {
        free(ctx->slots);
        ctx->n_slots = ctx->n_slots ? 2 * ctx->n_slots : 1024;
        ctx->slots = kv_xcalloc(ctx->n_slots, sizeof *ctx->slots);
        for (size_t k = 0; k < ctx->n_items; k++)
            index_insert(ctx, k);
    } else {
        index_insert(ctx, i);
    }
    return i;
}

int kv_imp_put(kv_import_ctx *ctx, size_t item, int lang_index, cJSON *rec, const char *path,
               size_t line)
{
    kv_import_item *it = &ctx->items[item];
    if (it->recs[lang_index]) {
        cJSON_Delete(rec);
        return kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: id \"%s\" repeats in %s", path, line,
                           it->id, ctx->langs[lang_index]);
    }
    it->recs[lang_index] = rec;
    return 0;
}

cJSON *kv_imp_rec(const char *id, const char *lang, const char *task, const char *prompt)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "lang", lang);
    cJSON_AddStringToObject(r, "task", task);
    cJSON_AddStringToObject(r, "prompt", prompt);
    return r;
}

void kv_imp_add_ref(cJSON *rec, const char *ref)
{
    cJSON *refs = cJSON_GetObjectItemCaseSensitive(rec, "references");
    if (!refs)
        refs = cJSON_AddArrayToObject(rec, "references");
    cJSON_AddItemToArray(refs, cJSON_CreateString(ref));
}

int kv_imp_check_choices(kv_import_ctx *ctx, const char *const *choices, size_t n, const char *path,
                         size_t line)
{
    for (size_t i = 0; i < n; i++)
        if (!choices[i][0])
            return kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s:%zu: choice %c is empty", path, line,
                               (char)('A' + i));
    return 0;
}

void kv_imp_set_mcq(cJSON *rec, const char *const *choices, size_t n, size_t gold)
{
    cJSON *arr = cJSON_AddArrayToObject(rec, "choices");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(choices[i]));
    char letter[2] = {(char)('A' + gold), '\0'};
    cJSON_AddStringToObject(rec, "answer", letter);
}

void kv_imp_mcq_prompt(kv_buf *out, const char *lang, const char *head, const char *const *choices,
                       size_t n)
{
    const lang_info *l = lang_find(lang);
    kv_buf_printf(out, "%s\n", head);
    for (size_t i = 0; i < n; i++)
        kv_buf_printf(out, "%c. %s\n", (char)('A' + i), choices[i]);
    kv_buf_printf(out, "%s", l ? l->mcq : "Answer with the letter only.");
}

/* ---- gold labels ------------------------------------------------------- */

int kv_imp_gold(kv_import_ctx *ctx, const char *label, kv_answer_base base, size_t n,
                const char *path, size_t line, size_t *gold)
{
    char t[64];
    /* surrounding blanks and a ".0" from a float column are not part of the label */
    while (*label == ' ' || *label == '\t')
        label++;
    snprintf(t, sizeof t, "%s", label);
    size_t len = strlen(t);
    while (len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
        t[--len] = '\0';
    if (base == KV_BASE_LETTER) {
        const char *s = t;
        char one[2] = {0};
        if (len == 3 && t[0] == '(' && t[2] == ')')
            one[0] = t[1], s = one;
        if (strlen(s) == 1 && s[0] >= 'A' && s[0] <= 'Z') {
            size_t g = (size_t)(s[0] - 'A');
            if (g < n) {
                *gold = g;
                return 0;
            }
        }
        return kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                           "%s:%zu: answer \"%s\" is not one of the %zu choices (letters A-%c)",
                           path, line, label, n, (char)('A' + n - 1));
    }
    if (len > 2 && !strcmp(t + len - 2, ".0"))
        t[len -= 2] = '\0';
    char *end;
    errno = 0;
    long v = len ? strtol(t, &end, 10) : 0;
    long lo = base == KV_BASE_0 ? 0 : 1;
    if (!len || errno || *end || v < lo || v >= lo + (long)n)
        return kv_imp_fail(ctx, KV_IMPORT_EINPUT,
                           "%s:%zu: answer \"%s\" outside the %zu choices (%d-based: %ld-%ld)",
                           path, line, label, n, (int)base, lo, lo + (long)n - 1);
    *gold = (size_t)(v - lo);
    return 0;
}

/* ---- lists ------------------------------------------------------------- */

void kv_imp_free_list(char **list, long n)
{
    for (long i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

long kv_imp_parse_list(const char *s, char ***out)
{
    *out = NULL;
    cJSON *j = cJSON_Parse(s);
    if (j) {
        long n = -1;
        if (cJSON_IsArray(j)) {
            n = cJSON_GetArraySize(j);
            char **list = kv_xcalloc((size_t)n + 1, sizeof *list);
            long i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, j)
            {
                if (!cJSON_IsString(e)) {
                    kv_imp_free_list(list, i);
                    cJSON_Delete(j);
                    return -1;
                }
                list[i++] = kv_imp_strdup(e->valuestring);
            }
            *out = list;
        }
        cJSON_Delete(j);
        return n;
    }
    /* a Python list literal of str: ['a', "b's", 'c\'d'] */
    const char *p = s;
    while (*p == ' ')
        p++;
    if (*p++ != '[')
        return -1;
    char **list = NULL;
    long n = 0, cap = 0;
    kv_buf b = {0};
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        if (*p == ']' && n == 0) {
            p++;
            break;
        }
        char q = *p;
        if (q != '\'' && q != '"')
            goto bad;
        p++;
        kv_buf_clear(&b);
        kv_buf_put(&b, "", 0);
        while (*p && *p != q) {
            if (*p == '\\' && p[1]) {
                p++;
                char c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
                kv_buf_putc(&b, c);
                p++;
            } else {
                kv_buf_putc(&b, *p++);
            }
        }
        if (*p != q)
            goto bad;
        p++;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            list = kv_xrealloc(list, (size_t)cap * sizeof *list);
        }
        list[n++] = kv_imp_strdup(b.p);
        while (*p == ' ')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ']') {
            p++;
            break;
        }
        goto bad;
    }
    while (*p == ' ' || *p == '\n' || *p == '\r')
        p++;
    if (*p)
        goto bad;
    kv_buf_free(&b);
    *out = list ? list : kv_xcalloc(1, sizeof *list);
    return n;
bad:
    kv_buf_free(&b);
    kv_imp_free_list(list, n);
    return -1;
}

char *kv_imp_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(kv_xmalloc(n), s, n);
}

/* ---- files ------------------------------------------------------------- */

int kv_imp_fail(kv_import_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, ctx->errlen, fmt, ap);
    va_end(ap);
    return code;
}

static bool has_suffix(const char *name, const char *const *suffixes)
{
    size_t n = strlen(name);
    for (; *suffixes; suffixes++) {
        if (**suffixes == '^') {
            if (!strncmp(name, *suffixes + 1, strlen(*suffixes + 1)))
                return true;
            continue;
        }
        size_t k = strlen(*suffixes);
        if (n > k && !strcmp(name + n - k, *suffixes))
            return true;
    }
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the matching regular files under dir (depth levels of
 * subdirectories) to *out. */
static void scan_dir(const char *dir, const char *const *suffixes, int depth, char ***out,
                     size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = kv_xmalloc(len);
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0) {
            scan_dir(p, suffixes, depth - 1, out, n, cap);
            free(p);
        } else if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && has_suffix(e->d_name, suffixes)) {
            if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 16;
                *out = kv_xrealloc(*out, *cap * sizeof **out);
            }
            (*out)[(*n)++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
}

int kv_imp_expand_dirs(kv_import_ctx *ctx, const char *const *suffixes)
{
    kv_import_file *files = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < ctx->n_files; i++) {
        struct stat st;
        kv_import_file *f = &ctx->files[i];
        char **found = NULL;
        size_t nf = 0, capf = 0;
        if (stat(f->path, &st) == 0 && S_ISDIR(st.st_mode)) {
            scan_dir(f->path, suffixes, 1, &found, &nf, &capf);
            if (!nf) {
                free(found);
                free(files);
                return kv_imp_fail(ctx, KV_IMPORT_EINPUT, "%s: no %s files in this folder", f->path,
                                   ctx->fmt->name);
            }
            qsort(found, nf, sizeof *found, cmp_str);
        }
        size_t add = nf ? nf : 1;
        if (n + add > cap) {
            cap = 2 * (n + add);
            files = kv_xrealloc(files, cap * sizeof *files);
        }
        if (nf) {
            for (size_t k = 0; k < nf; k++)
                files[n++] = (kv_import_file){found[k], f->lang, true};
            free(f->path);
        } else {
            files[n++] = *f;
        }
        free(found);
    }
    free(ctx->files);
    ctx->files = files;
    ctx->n_files = n;
    return 0;
}

/* ---- the run ----------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The items kept: all, the first `limit`, or a seeded sample of `limit` in
 * file order (a partial Fisher–Yates shuffle driven by splitmix64). */
static size_t *select_items(const kv_import_ctx *ctx, size_t *n_out)
{
    size_t n = ctx->n_items;
    size_t *idx = kv_xmalloc((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    size_t keep = n;
    if (ctx->opts->limit && ctx->opts->limit < n) {
        keep = ctx->opts->limit;
        if (ctx->opts->sample) {
            uint64_t s = ctx->opts->seed;
            for (size_t i = 0; i < keep; i++) {
                size_t j = i + (size_t)(splitmix64(&s) % (n - i));
                size_t t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
            qsort(idx, keep, sizeof *idx, cmp_size);
        }
    }
    *n_out = keep;
    return idx;
}

static char *manifest_path_for(const char *out)
{
    size_t n = strlen(out);
    size_t stem = n > 6 && !strcmp(out + n - 6, ".jsonl") ? n - 6 : n;
    size_t len = stem + sizeof ".manifest.json";
    char *p = kv_xmalloc(len);
    snprintf(p, len, "%.*s.manifest.json", (int)stem, out);
    return p;
}

static char *manifest_text(const kv_import_ctx *ctx, const char *out)
{
    const kv_import_opts *o = ctx->opts;
    cJSON *m = cJSON_CreateObject();
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    size_t nl = strlen(name);
    if (nl > 6 && !strcmp(name + nl - 6, ".jsonl"))
        name[nl - 6] = '\0';
    cJSON_AddStringToObject(m, "name", o->name ? o->name : name);
    cJSON_AddStringToObject(m, "version", "1");
    cJSON_AddStringToObject(m, "licence", o->licence ? o->licence : ctx->fmt->licence);
    kv_buf src = {0};
    kv_buf_printf(&src, "%s", o->source ? o->source : ctx->fmt->source);
    kv_buf_printf(&src, "; imported by koeval %s import %s from", KOEVAL_VERSION, ctx->fmt->name);
    for (size_t i = 0; i < ctx->n_args && i < 16; i++) {
        const char *a = ctx->args[i];
        size_t n = strlen(a);
        while (n > 1 && a[n - 1] == '/')
            n--;
        size_t b = n;
        while (b > 0 && a[b - 1] != '/')
            b--;
        kv_buf_printf(&src, " %.*s", (int)(n - b), a + b);
    }
    if (ctx->n_args > 16)
        kv_buf_printf(&src, " … (%zu files)", ctx->n_args);
    if (o->limit) {
        if (o->sample)
            kv_buf_printf(&src, "; --limit %zu --seed %llu", o->limit, (unsigned long long)o->seed);
        else
            kv_buf_printf(&src, "; --limit %zu", o->limit);
    }
    cJSON_AddStringToObject(m, "source", src.p);
    kv_buf_free(&src);
    cJSON *langs = cJSON_AddArrayToObject(m, "languages");
    for (size_t i = 0; i < ctx->n_langs; i++)
        cJSON_AddItemToArray(langs, cJSON_CreateString(ctx->langs[i]));
    /* English, else the first language that is not Korean (Korean is what the
     * gap measures) */
    const char *pivot = ctx->langs[0];
    if (kv_imp_lang_index(ctx, "en") >= 0)
        pivot = "en";
    else
        for (size_t l = 0; l < ctx->n_langs; l++)
            if (strncmp(ctx->langs[l], "ko", 2) != 0) {
                pivot = ctx->langs[l];
                break;
            }
    cJSON_AddStringToObject(m, "pivot", pivot);
    /* metrics of the tasks the suite holds */
    bool has[3] = {false, false, false};
    for (size_t i = 0; i < ctx->n_items; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(ctx->items[i].recs[0], "task");
        if (!strcmp(t->valuestring, "translate"))
            has[0] = true;
        else if (!strcmp(t->valuestring, "mcq"))
            has[1] = true;
        else
            has[2] = true;
    }
    cJSON *tasks = cJSON_AddObjectToObject(m, "tasks");
    static const char *const tr[] = {"chrf", "bleu"}, *const mc[] = {"accuracy"},
                             *const op[] = {"rougeL", "chrf"};
    if (has[0])
        cJSON_AddItemToObject(cJSON_AddObjectToObject(tasks, "translate"), "metrics",
                              cJSON_CreateStringArray(tr, 2));
    if (has[1])
        cJSON_AddItemToObject(cJSON_AddObjectToObject(tasks, "mcq"), "metrics",
                              cJSON_CreateStringArray(mc, 1));
    if (has[2])
        cJSON_AddItemToObject(cJSON_AddObjectToObject(tasks, "open"), "metrics",
                              cJSON_CreateStringArray(op, 2));
    cJSON *sys = NULL;
    for (size_t i = 0; i < ctx->n_langs; i++) {
        const lang_info *l = lang_find(ctx->langs[i]);
        if (l && l->system) {
            if (!sys)
                sys = cJSON_AddObjectToObject(m, "system_prompts");
            cJSON_AddStringToObject(sys, ctx->langs[i], l->system);
        }
    }
    char *text = cJSON_Print(m);
    cJSON_Delete(m);
    return text;
}

static int write_all(const char *path, const char *text, size_t n, FILE *fp_in, char *err,
                     size_t errlen)
{
    FILE *fp = fp_in ? fp_in : fopen(path, "wb");
    if (!fp) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (text && fwrite(text, 1, n, fp) != n) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        fclose(fp);
        return -1;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || ferror(fp)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        fclose(fp);
        return -1;
    }
    if (fclose(fp) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_suite(kv_import_ctx *ctx, const char *out, kv_import_result *res)
{
    char *mpath = manifest_path_for(out);
    size_t tl = strlen(out) + 32, ml = strlen(mpath) + 32;
    char *tmp = kv_xmalloc(tl), *mtmp = kv_xmalloc(ml);
    snprintf(tmp, tl, "%s.tmp.%ld", out, (long)getpid());
    snprintf(mtmp, ml, "%s.tmp.%ld", mpath, (long)getpid());
    int rc = KV_IMPORT_EWRITE;
    size_t keep;
    size_t *idx = select_items(ctx, &keep);

    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        kv_imp_fail(ctx, KV_IMPORT_EWRITE, "cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    bool ok = true;
    for (size_t k = 0; k < keep && ok; k++) {
        const kv_import_item *it = &ctx->items[idx[k]];
        for (size_t l = 0; l < ctx->n_langs && ok; l++) {
            char *line = cJSON_PrintUnformatted(it->recs[l]);
            ok = fputs(line, fp) >= 0 && fputc('\n', fp) != EOF;
            free(line);
        }
    }
    if (!ok) {
        kv_imp_fail(ctx, KV_IMPORT_EWRITE, "cannot write %s: %s", tmp, strerror(errno));
        fclose(fp);
        goto fail;
    }
    if (write_all(tmp, NULL, 0, fp, ctx->err, ctx->errlen) != 0)
        goto fail;
    char *mtext = manifest_text(ctx, out);
    int wrc = write_all(mtmp, mtext, strlen(mtext), NULL, ctx->err, ctx->errlen);
    free(mtext);
    if (wrc != 0)
        goto fail;
    /* what is written must load: a check on the importers themselves */
    kv_suite suite;
    char serr[512];
    if (kv_suite_load(tmp, mtmp, &suite, serr, sizeof serr) != KV_SUITE_OK) {
        kv_imp_fail(ctx, KV_IMPORT_EWRITE, "internal error: the imported suite does not load: %s",
                    serr);
        goto fail;
    }
    kv_suite_free(&suite);
    if (rename(mtmp, mpath) != 0) {
        kv_imp_fail(ctx, KV_IMPORT_EWRITE, "cannot rename %s to %s: %s", mtmp, mpath,
                    strerror(errno));
        goto fail;
    }
    if (rename(tmp, out) != 0) {
        kv_imp_fail(ctx, KV_IMPORT_EWRITE, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
        unlink(mpath);
        goto fail;
    }
    res->n_items = keep;
    res->n_langs = ctx->n_langs;
    rc = KV_IMPORT_OK;
    goto done;
fail:
    unlink(tmp);
    unlink(mtmp);
done:
    free(idx);
    free(tmp);
    free(mtmp);
    free(mpath);
    return rc;
}

static void ctx_free(kv_import_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_items; i++) {
        for (size_t l = 0; l < ctx->n_langs; l++)
            cJSON_Delete(ctx->items[i].recs[l]);
        free(ctx->items[i].recs);
        free(ctx->items[i].id);
    }
    free(ctx->items);
    free(ctx->slots);
    for (size_t i = 0; i < ctx->n_files; i++)
        free(ctx->files[i].path);
    free(ctx->files);
    free(ctx->langs);
}

int kv_import_run(const kv_import_format *fmt, const char *const *files, size_t n_files,
                  const kv_import_opts *opts, const char *out_path, kv_import_result *res,
                  char *err, size_t errlen)
{
    kv_import_ctx ctx = {
        .fmt = fmt, .opts = opts, .err = err, .errlen = errlen, .args = files, .n_args = n_files};
    memset(res, 0, sizeof *res);
    if (errlen)
        err[0] = '\0';
    if (!n_files) {
        snprintf(err, errlen, "import %s: no input files", fmt->name);
        return KV_IMPORT_EUSAGE;
    }
    ctx.files = kv_xcalloc(n_files, sizeof *ctx.files);
    ctx.n_files = n_files;
    int rc = 0;
    for (size_t i = 0; i < n_files; i++) {
        const char *arg = files[i];
        const char *eq = strchr(arg, '=');
        ctx.files[i].path = kv_imp_strdup(eq ? eq + 1 : arg);
        if (access(ctx.files[i].path, R_OK) != 0) {
            /* before anything reads the name: a missing file is the cause */
            rc = kv_imp_fail(&ctx, KV_IMPORT_EINPUT, "cannot open %s: %s", ctx.files[i].path,
                             strerror(errno));
            goto out;
        }
        if (eq) {
            char code[32];
            snprintf(code, sizeof code, "%.*s", (int)(eq - arg), arg);
            ctx.files[i].lang = kv_import_lang_tag(code);
            if (!ctx.files[i].lang) {
                rc = kv_imp_fail(&ctx, KV_IMPORT_EUSAGE, "%s: unknown language '%s'", arg, code);
                goto out;
            }
        }
    }
    rc = fmt->load(&ctx);
    if (rc)
        goto out;
    if (!ctx.n_items) {
        rc = kv_imp_fail(&ctx, KV_IMPORT_EINPUT, "%s: no items in the input", ctx.files[0].path);
        goto out;
    }
    for (size_t i = 0; i < ctx.n_items; i++)
        for (size_t l = 0; l < ctx.n_langs; l++)
            if (!ctx.items[i].recs[l]) {
                rc = kv_imp_fail(&ctx, KV_IMPORT_EINPUT,
                                 "%s:%zu: item \"%s\" has no %s record (items pair across "
                                 "languages by id)",
                                 ctx.items[i].path, ctx.items[i].line, ctx.items[i].id,
                                 ctx.langs[l]);
                goto out;
            }
    rc = write_suite(&ctx, out_path, res);
    res->n_skipped = ctx.n_skipped;
    snprintf(res->note, sizeof res->note, "%s", ctx.note);
out:
    ctx_free(&ctx);
    return rc;
}
