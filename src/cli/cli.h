/*
 * cli.h — koeval's command-line front end. The CLI only parses arguments,
 * reads files and prints; every number comes from the library (STYLE.md).
 *
 * Exit codes (documented in --help and the README):
 *   0  success
 *   1  internal failure (ICU), or standard output could not be written
 *   2  usage error: unknown option, bad option value, missing argument
 *   3  input error: unreadable file, mismatched line counts, a line that
 *      cannot be scored (NUL byte, over --max-line-bytes)
 */
#ifndef KOEVAL_CLI_H
#define KOEVAL_CLI_H

enum {
    KV_EXIT_OK = 0,
    KV_EXIT_INTERNAL = 1,
    KV_EXIT_USAGE = 2,
    KV_EXIT_INPUT = 3,
};

/* Subcommands: argv[0] is the subcommand name. Each returns an exit code. */
int kv_cmd_score(int argc, char **argv);
int kv_cmd_tokenize(int argc, char **argv);
int kv_cmd_normalize(int argc, char **argv);
int kv_cmd_run(int argc, char **argv);
int kv_cmd_report(int argc, char **argv);
int kv_cmd_import(int argc, char **argv);
/* `koeval score --db FILE`: re-scores stored answers (run.c). */
int kv_cmd_rescore(int argc, char **argv);

/* Prints "koeval: <message>" to stderr. */
void kv_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
