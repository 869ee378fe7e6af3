/* koeval — entry point: dispatches to one file per subcommand. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "src/cli/cli.h"

void kv_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("koeval: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *out)
{
    fputs("koeval " KOEVAL_VERSION " — how good is a model in Korean, next to English, Japanese, "
          "Chinese…\n"
          "\n"
          "usage: koeval <command> [options]\n"
          "\n"
          "commands:\n"
          "  run         send a paired suite to models, store and score the answers, print\n"
          "              the per-language table (Korean gap, coverage, TTFT, E2E, tokens/s)\n"
          "  report      re-print the table of a stored run\n"
          "  import      convert a public benchmark (FLORES, KoBEST, KMMLU, KoMT-Bench …) into a suite\n"
          "  score       score a hypothesis file against references (BLEU, chrF/chrF++, TER,\n"
          "              ROUGE, exact match, F1), sacreBLEU-compatible, Korean-aware;\n"
          "              with --db FILE, re-score the stored answers of a run offline\n"
          "  tokenize    print the tokens a metric sees, one segment per line\n"
          "  normalize   print text after koeval's Unicode normalization\n"
          "\n"
          "Run 'koeval <command> --help' for a command's options.\n"
          "Exit codes: 0 success, 1 internal failure or write error, 2 usage error, 3 input error;\n"
          "run also: 4 server unreachable, 5 store not writable, 6 every request of a model\n"
          "refused, 130 interrupted (resume with --resume).\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return KV_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return KV_EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        puts("koeval " KOEVAL_VERSION);
        return KV_EXIT_OK;
    }
    int rc;
    if (strcmp(cmd, "score") == 0) {
        /* with --db it re-scores a stored run instead of files */
        bool db = false;
        for (int i = 2; i < argc; i++)
            db |= strcmp(argv[i], "--db") == 0;
        rc = db ? kv_cmd_rescore(argc - 1, argv + 1) : kv_cmd_score(argc - 1, argv + 1);
    }
    else if (strcmp(cmd, "tokenize") == 0)
        rc = kv_cmd_tokenize(argc - 1, argv + 1);
    else if (strcmp(cmd, "normalize") == 0)
        rc = kv_cmd_normalize(argc - 1, argv + 1);
    else if (strcmp(cmd, "run") == 0)
        rc = kv_cmd_run(argc - 1, argv + 1);
    else if (strcmp(cmd, "report") == 0)
        rc = kv_cmd_report(argc - 1, argv + 1);
    else if (strcmp(cmd, "import") == 0)
        rc = kv_cmd_import(argc - 1, argv + 1);
    else {
        kv_cli_error("unknown command '%s' (try 'koeval --help')", cmd);
        return KV_EXIT_USAGE;
    }
    /* output that could not be written is a failure, not a silent success */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        kv_cli_error("write error on standard output: %s", strerror(errno));
        return rc ? rc : KV_EXIT_INTERNAL;
    }
    return rc;
}
