#include "tests/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/buf.h"

const char *kv_test_shared_path(const char *relative)
{
    static char path[4096];
    const char *root = getenv("KOEVAL_SHARED");
    if (!root || !*root)
        root = KOEVAL_SHARED_DIR;
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    snprintf(path, sizeof path, "%s/%s", root, relative);
    if (stat(path, &st) != 0)
        return NULL;
    return path;
}

cJSON **kv_test_read_jsonl(const char *path, size_t *count)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    cJSON **items = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    size_t lineno = 0;
    while ((got = getline(&line, &lcap, fp)) >= 0) {
        lineno++;
        if (got <= 1)
            continue;
        cJSON *j = cJSON_ParseWithLength(line, (size_t)got);
        if (!j)
            fail_msg("%s:%zu: invalid JSON", path, lineno);
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            items = kv_xrealloc(items, cap * sizeof *items);
        }
        items[n++] = j;
    }
    free(line);
    fclose(fp);
    *count = n;
    return items;
}

cJSON *kv_test_find_id(cJSON **records, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(records[i], "id");
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return records[i];
    }
    fail_msg("no record with id %s", id);
    return NULL;
}

void kv_test_assert_close(double actual, double expected, double rel, const char *what,
                          const char *file, int line)
{
    double tol = fabs(expected) * rel;
    if (tol < 1e-12)
        tol = 1e-12;
    if (!(fabs(actual - expected) <= tol)) {
        print_error("%s:%d: %s = %.17g, expected %.17g (rel tol %g)\n", file, line, what, actual,
                    expected, rel);
        _fail(file, line);
    }
}

void kv_test_assert_near(double actual, double expected, double tol, const char *what,
                         const char *file, int line)
{
    if (!(fabs(actual - expected) <= tol)) {
        print_error("%s:%d: %s = %.17g, expected %.17g (abs tol %g)\n", file, line, what, actual,
                    expected, tol);
        _fail(file, line);
    }
}

static char *slurp_fd(int fd)
{
    kv_buf b = {0};
    char tmp[65536];
    ssize_t got;
    while ((got = read(fd, tmp, sizeof tmp)) > 0)
        kv_buf_put(&b, tmp, (size_t)got);
    if (!b.p)
        kv_buf_put(&b, "", 0);
    return b.p;
}

int kv_test_run(const char *cmd, char **out, char **err)
{
    char outpath[] = "/tmp/koeval-test-out-XXXXXX";
    char errpath[] = "/tmp/koeval-test-err-XXXXXX";
    int ofd = mkstemp(outpath), efd = mkstemp(errpath);
    if (ofd < 0 || efd < 0)
        fail_msg("mkstemp failed");
    kv_buf full = {0};
    kv_buf_printf(&full, "( %s ) >%s 2>%s", cmd, outpath, errpath);
    int st = system(full.p);
    kv_buf_free(&full);
    char *o = slurp_fd(ofd), *e = slurp_fd(efd);
    close(ofd);
    close(efd);
    unlink(outpath);
    unlink(errpath);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    if (st == -1)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char g_test_dir[256];

int kv_test_dir_make(const char *template_)
{
    snprintf(g_test_dir, sizeof g_test_dir, "%s", template_);
    return mkdtemp(g_test_dir) ? 0 : -1;
}

int kv_test_dir_remove(void **state)
{
    (void)state;
    kv_buf cmd = {0};
    kv_buf_printf(&cmd, "rm -rf '%s'", g_test_dir);
    int rc = system(cmd.p);
    kv_buf_free(&cmd);
    return rc == 0 ? 0 : -1;
}

const char *kv_test_dir(void)
{
    return g_test_dir;
}

const char *kv_test_path(const char *name)
{
    static char paths[256][4096];
    static unsigned next;
    char *p = paths[next++ % 256];
    snprintf(p, sizeof paths[0], "%s/%s", g_test_dir, name);
    return p;
}

void kv_test_put_bytes(const char *name, const char *data, size_t len)
{
    const char *path = kv_test_path(name);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        fail_msg("cannot write %s", path);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

void kv_test_put(const char *name, const char *text)
{
    kv_test_put_bytes(name, text, strlen(text));
}
