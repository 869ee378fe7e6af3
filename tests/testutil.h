/*
 * testutil.h — helpers shared by koeval's cmocka tests.
 *
 * cmocka needs <stdarg.h>, <stddef.h>, <stdint.h> and <setjmp.h> before
 * <cmocka.h>; include this header instead.
 */
#ifndef KOEVAL_TESTUTIL_H
#define KOEVAL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

/* Path of a file under ../shared (KOEVAL_SHARED_DIR, overridable with the
 * KOEVAL_SHARED environment variable), or NULL when ../shared is absent.
 * The returned string is static storage, overwritten by the next call. */
const char *kv_test_shared_path(const char *relative);

/* Sets `var` to the full path of ../shared/`rel`, or skips the current test
 * (printing why) when ../shared is absent. */
#define KV_REQUIRE_SHARED(var, rel)                                                      \
    do {                                                                                 \
        (var) = kv_test_shared_path(rel);                                                \
        if (!(var)) {                                                                    \
            print_message("SKIP: ../shared/%s is absent (this test needs the "           \
                          "project's shared data)\n",                                    \
                          (rel));                                                        \
            skip();                                                                      \
        }                                                                                \
    } while (0)

/* Reads a whole JSONL file into an array of parsed objects (caller frees each
 * with cJSON_Delete and the array with free). Fails the test on a parse
 * error. */
cJSON **kv_test_read_jsonl(const char *path, size_t *count);

/* Finds the record whose "id" equals `id` in a JSONL array, or fails. */
cJSON *kv_test_find_id(cJSON **records, size_t count, const char *id);

/* Asserts |actual - expected| <= max(1e-9 * |expected|, 1e-12). */
#define assert_close(actual, expected) kv_test_assert_close((actual), (expected), 1e-9, #actual, __FILE__, __LINE__)
/* Same with an explicit absolute tolerance (for values rounded in a bug report). */
#define assert_near(actual, expected, tol) kv_test_assert_near((actual), (expected), (tol), #actual, __FILE__, __LINE__)

void kv_test_assert_close(double actual, double expected, double rel, const char *what,
                          const char *file, int line);
void kv_test_assert_near(double actual, double expected, double tol, const char *what,
                         const char *file, int line);

/* Runs a shell command, capturing stdout and stderr separately (either may
 * be NULL to discard) into malloc'd strings; returns the exit status. */
int kv_test_run(const char *cmd, char **out, char **err);

/* ---- A temporary directory per test program ---- */

/* Makes the program's temporary directory from a mkdtemp template such as
 * "/tmp/koeval-import-XXXXXX". Returns 0, or -1 (as a cmocka group setup
 * does). */
int kv_test_dir_make(const char *template_);

/* Removes that directory and everything in it: a cmocka group teardown.
 * Returns 0, or -1. */
int kv_test_dir_remove(void **state);

/* The directory's path. */
const char *kv_test_dir(void);

/* Full path of the directory's entry `name`, in one of 256 rotating static
 * buffers (a test may keep many paths across later calls). */
const char *kv_test_path(const char *name);

/* Writes data[0..len) (or a whole string) to the directory's entry `name`,
 * failing the test when it cannot. */
void kv_test_put_bytes(const char *name, const char *data, size_t len);
void kv_test_put(const char *name, const char *text);

#endif
