/*
 * test_fileio.c - atomic replacement (new content, old content replaced, nothing left behind
 * when the rename fails), capped reads (the cap is exact, a missing file is not_found) and
 * creation of parent directories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fileio.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/upflow-fileio.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_write_replace_read(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/a.json", dir);
    uf_error err;
    assert_true(uf_file_write_atomic(path, "first", 5, &err));
    assert_true(uf_file_write_atomic(path, "second", 6, &err));
    uf_buf b = UF_BUF_INIT;
    assert_true(uf_file_read_capped(path, 6, &b, &err));
    assert_string_equal(b.data, "second");
    uf_buf_reset(&b);
    assert_false(uf_file_read_capped(path, 5, &b, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    uf_buf_free(&b);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_missing_file(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/none", dir);
    uf_buf b = UF_BUF_INIT;
    uf_error err;
    assert_false(uf_file_read_capped(path, 10, &b, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
}

static void test_failed_rename_leaves_nothing(void **state)
{
    (void)state;
    char path[128], cmd[192];
    snprintf(path, sizeof path, "%s/isdir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    uf_error err;
    assert_false(uf_file_write_atomic(path, "x", 1, &err));
    assert_non_null(strstr(err.msg, "rename"));
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q tmp", dir);
    assert_int_not_equal(system(cmd), 0);
}

static void test_mkdir_parents(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/x/y/z/file", dir);
    uf_error err;
    assert_true(uf_file_mkdir_parents(path, &err));
    assert_true(uf_file_write_atomic(path, "z", 1, &err));
    assert_true(uf_file_mkdir_parents(path, &err)); /* existing parents are fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_replace_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_rename_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_parents, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
