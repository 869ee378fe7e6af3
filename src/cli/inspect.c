/*
 * koeval tokenize / koeval normalize — show what the metrics see: the text
 * after koeval's normalization, and the tokens a tokenizer makes of it.
 * Both read lines from a file or standard input and print one line each.
 */
#include <stdio.h>
#include <string.h>

#include "scoring/bleu.h"
#include "src/cli/cli.h"
#include "src/lineio.h"
#include "src/text.h"

static void inspect_usage(const char *cmd)
{
    printf("usage: koeval %s [-i FILE] [--norm none|nfc|nfkc] [--fold-width] [--strip-zero-width]\n"
           "       [--collapse-whitespace] [--casefold]%s\n"
           "\n"
           "Reads lines from FILE (default: standard input) and prints each one %s.\n",
           cmd,
           strcmp(cmd, "tokenize") == 0 ? " [-tok T] [-lc] [--use-stemmer]\n\n"
                                          "Tokenizers: 13a (default) intl zh char none rouge "
                                          "whitespace unicode"
                                        : "",
           strcmp(cmd, "tokenize") == 0 ? "as the tokens a metric sees, separated by spaces"
                                        : "normalized");
}

static int run(int argc, char **argv, bool tokenize)
{
    const char *input = "-";
    const char *tok_name = "13a";
    bool lowercase = false, stem = false;
    kv_norm_opts norm = {.form = KV_NORM_NFC};
    for (int i = 1; i < argc; i++) {
        const char *x = argv[i];
        if (strcmp(x, "-h") == 0 || strcmp(x, "--help") == 0) {
            inspect_usage(argv[0]);
            return KV_EXIT_OK;
        } else if ((strcmp(x, "-i") == 0 || strcmp(x, "--input") == 0) && i + 1 < argc) {
            input = argv[++i];
        } else if (strcmp(x, "--norm") == 0 && i + 1 < argc) {
            if (kv_norm_form_parse(argv[++i], &norm.form) != 0) {
                kv_cli_error("--norm: unknown form '%s' (none, nfc, nfkc)", argv[i]);
                return KV_EXIT_USAGE;
            }
        } else if (strcmp(x, "--fold-width") == 0) {
            norm.width = true;
        } else if (strcmp(x, "--strip-zero-width") == 0) {
            norm.zero_width = true;
        } else if (strcmp(x, "--collapse-whitespace") == 0) {
            norm.collapse_ws = true;
        } else if (strcmp(x, "--casefold") == 0) {
            norm.casefold = true;
        } else if (tokenize && (strcmp(x, "-tok") == 0 || strcmp(x, "--tokenize") == 0) &&
                   i + 1 < argc) {
            tok_name = argv[++i];
        } else if (tokenize && (strcmp(x, "-lc") == 0 || strcmp(x, "--lowercase") == 0)) {
            lowercase = true;
        } else if (tokenize && strcmp(x, "--use-stemmer") == 0) {
            stem = true;
        } else {
            kv_cli_error("unknown option or missing value '%s' (see 'koeval %s --help')", x,
                         argv[0]);
            return KV_EXIT_USAGE;
        }
    }
    const kv_tokenizer *tok = kv_tokenizer_find(tok_name);
    if (!tok) {
        kv_cli_error("--tokenize: unknown tokenizer '%s'", tok_name);
        return KV_EXIT_USAGE;
    }
    kv_line_reader r;
    char err[512];
    if (kv_lr_open(&r, input, KV_DEFAULT_MAX_LINE_BYTES, err, sizeof err) != 0) {
        kv_cli_error("%s", err);
        return KV_EXIT_INPUT;
    }
    kv_buf n = {0}, t = {0}, l = {0};
    int status = KV_EXIT_OK, got;
    const char *line;
    size_t len;
    while ((got = kv_lr_next(&r, &line, &len, err, sizeof err)) > 0) {
        kv_buf_clear(&n);
        kv_buf_clear(&t);
        kv_buf_clear(&l);
        if (kv_normalize(&norm, line, len, &n) != 0) {
            status = KV_EXIT_INTERNAL;
            break;
        }
        const char *s = n.p ? n.p : "";
        size_t sl = n.len;
        if (tokenize) {
            if (lowercase) {
                kv_py_lower(s, sl, &l);
                s = l.p ? l.p : "";
                sl = l.len;
            }
            if (tok->fn(s, sl, stem ? KV_TOK_STEM : 0, &t) != 0) {
                status = KV_EXIT_INTERNAL;
                break;
            }
            kv_buf_clear(&l);
            kv_tok_join_split(t.p ? t.p : "", t.len, &l);
            s = l.p ? l.p : "";
            sl = l.len;
        }
        fwrite(s, 1, sl, stdout);
        putchar('\n');
    }
    if (got < 0) {
        kv_cli_error("%s", err);
        status = KV_EXIT_INPUT;
    }
    kv_buf_free(&n);
    kv_buf_free(&t);
    kv_buf_free(&l);
    kv_lr_close(&r);
    return status;
}

int kv_cmd_tokenize(int argc, char **argv)
{
    return run(argc, argv, true);
}

int kv_cmd_normalize(int argc, char **argv)
{
    return run(argc, argv, false);
}
