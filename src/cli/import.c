/*
 * koeval import — converts public benchmark files into a paired suite and
 * its manifest (src/import/import.h does the work; this file only parses
 * arguments and prints).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "src/import/import.h"

#define MAX_LANGS 64

static void import_usage(FILE *out)
{
    fputs(
        "usage: koeval import FORMAT FILE... -o SUITE.jsonl [options]\n"
        "\n"
        "Converts a public benchmark into a koeval suite: SUITE.jsonl (one record per item\n"
        "and language, paired by id) and SUITE.manifest.json (source, licence, languages).\n"
        "The files appear only when the import succeeds. A FILE may be a folder (the\n"
        "format's files in it), and may be written LANG=FILE to name its language;\n"
        "otherwise the language is read from the file name (kor_Hang.devtest, mmlu_KO-KR.csv).\n"
        "\n"
        "options:\n"
        "  -o, --output FILE        the suite to write (required); the manifest goes next to it\n"
        "  --langs L1,L2,…          suite languages, in order (default: every language the\n"
        "                           files hold, ko en ja zh first); Korean-only datasets: ko\n"
        "  --source-lang L          translation formats: the language translated from (default\n"
        "                           en); its own record translates from the first other language\n"
        "  --limit N                keep the first N items\n"
        "  --seed S                 with --limit: a random sample of N items (seeded, so the\n"
        "                           same S and files give the same items), kept in file order\n"
        "  --name TEXT              manifest name (default: the suite's file name)\n"
        "  --licence TEXT           manifest licence (default: the format's, below)\n"
        "  --source TEXT            manifest source (default: the format's, below)\n"
        "  -h, --help               this text\n"
        "\n"
        "formats:\n",
        out);
    size_t n;
    const kv_import_format *f = kv_import_formats(&n);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %-12s %s\n", f[i].name, f[i].summary);
        fprintf(out, "  %-12s   files:   %s\n", "", f[i].files);
        if (f[i].answer_base)
            fprintf(out, "  %-12s   gold:    %s\n", "", f[i].answer_base);
        fprintf(out, "  %-12s   source:  %s\n", "", f[i].source);
        fprintf(out, "  %-12s   licence: %s\n", "", f[i].licence);
    }
    fputs("\nExit codes: 0 success, 1 the output could not be written, 2 usage error,\n"
          "3 input error (one line: file:line: what is wrong).\n",
          out);
}

static int parse_count(const char *opt, const char *v, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long x = v && *v && *v != '-' ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *v == '-' || errno || *end) {
        kv_cli_error("%s: expected a non-negative integer, got '%s'", opt, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

int kv_cmd_import(int argc, char **argv)
{
    const char *format = NULL, *out = NULL, *langs_arg = NULL;
    const char **files = calloc((size_t)argc, sizeof *files);
    size_t n_files = 0;
    kv_import_opts o = {0};
    bool have_seed = false;
    int rc = KV_EXIT_USAGE;
    char *langs_copy = NULL;
    const char *langs[MAX_LANGS];
    if (!files) {
        kv_cli_error("out of memory");
        return KV_EXIT_INTERNAL;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            import_usage(stdout);
            rc = KV_EXIT_OK;
            goto out;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            out = v;
        } else if (!strcmp(a, "--langs")) {
            langs_arg = v;
        } else if (!strcmp(a, "--source-lang")) {
            o.source_lang = v;
        } else if (!strcmp(a, "--name")) {
            o.name = v;
        } else if (!strcmp(a, "--licence") || !strcmp(a, "--license")) {
            o.licence = v;
        } else if (!strcmp(a, "--source")) {
            o.source = v;
        } else if (!strcmp(a, "--limit")) {
            unsigned long long x;
            if (parse_count(a, v, &x) != 0)
                goto out;
            if (x == 0) {
                kv_cli_error("--limit: expected at least 1");
                goto out;
            }
            o.limit = (size_t)x;
        } else if (!strcmp(a, "--seed")) {
            unsigned long long x;
            if (parse_count(a, v, &x) != 0)
                goto out;
            o.seed = x;
            have_seed = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            kv_cli_error("import: unknown option '%s' (try 'koeval import --help')", a);
            goto out;
        } else {
            takes = false;
            if (!format)
                format = a;
            else
                files[n_files++] = a;
        }
        if (takes) {
            if (!v) {
                kv_cli_error("%s: missing value", a);
                goto out;
            }
            i++;
        }
    }
    if (!format) {
        kv_cli_error("import: missing FORMAT (try 'koeval import --help')");
        goto out;
    }
    const kv_import_format *fmt = kv_import_find(format);
    if (!fmt) {
        kv_cli_error("import: unknown format '%s' (try 'koeval import --help')", format);
        goto out;
    }
    if (!n_files) {
        kv_cli_error("import %s: missing FILE (expected: %s)", fmt->name, fmt->files);
        goto out;
    }
    if (!out) {
        kv_cli_error("import: missing -o SUITE.jsonl");
        goto out;
    }
    if (have_seed && !o.limit) {
        kv_cli_error("--seed: only with --limit (it chooses which N items)");
        goto out;
    }
    o.sample = have_seed;
    if (langs_arg) {
        langs_copy = strdup(langs_arg);
        if (!langs_copy) {
            rc = KV_EXIT_INTERNAL;
            goto out;
        }
        for (char *save = NULL, *t = strtok_r(langs_copy, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (o.n_langs == MAX_LANGS) {
                kv_cli_error("--langs: more than %d languages", MAX_LANGS);
                goto out;
            }
            langs[o.n_langs++] = t;
        }
        if (!o.n_langs) {
            kv_cli_error("--langs: no language given");
            goto out;
        }
        o.langs = langs;
    }
    kv_import_result res;
    char err[1024];
    rc = kv_import_run(fmt, files, n_files, &o, out, &res, err, sizeof err);
    if (rc) {
        kv_cli_error("%s", err);
        goto out;
    }
    if (res.note[0])
        kv_cli_error("import %s: %s", fmt->name, res.note);
    fprintf(stderr, "koeval: import %s: %zu items x %zu languages (%zu records) written to %s\n",
            fmt->name, res.n_items, res.n_langs, res.n_items * res.n_langs, out);
out:
    free(langs_copy);
    free(files);
    return rc;
}
