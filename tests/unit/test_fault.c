/*
 * test_fault.c - the fault hook: the spec "name[:n]" and its usage errors, counting and
 * listing the points reached, and the crash (exit 99) at exactly the nth time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/fault.h"
#include "lib/buf.h"
#include "lib/fileio.h"

static void test_spec(void **state)
{
    (void)state;
    uf_fault f;
    uf_error err;
    assert_true(uf_fault_init(&f, NULL, NULL, &err));
    assert_string_equal(f.point, "");
    assert_true(uf_fault_init(&f, "journal.rename.after", NULL, &err));
    assert_string_equal(f.point, "journal.rename.after");
    assert_int_equal(f.nth, 1);
    assert_true(uf_fault_init(&f, "grub.fsync.before:3", "", &err));
    assert_string_equal(f.point, "grub.fsync.before");
    assert_int_equal(f.nth, 3);
    assert_string_equal(f.list_path, "");
    const char *bad[] = {":", ":2", "x:", "x:0", "x:-1", "x:2b", "x: 2",
                         "a-name-that-is-far-too-long-to-be-any-point-the-agent-has-at-all"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(uf_fault_init(&f, bad[i], NULL, &err));
        assert_int_equal(err.code, UF_E_USAGE);
        assert_non_null(strstr(err.msg, "UPFLOW_FAULT_POINT"));
    }
}

static void test_from_env(void **state)
{
    (void)state;
    uf_fault f;
    uf_error err;
    assert_int_equal(setenv("UPFLOW_FAULT_POINT", "sim.write.after:2", 1), 0);
    assert_int_equal(setenv("UPFLOW_FAULT_LIST", "/tmp/points", 1), 0);
    assert_true(uf_fault_from_env(&f, &err));
    assert_string_equal(f.point, "sim.write.after");
    assert_int_equal(f.nth, 2);
    assert_string_equal(f.list_path, "/tmp/points");
    unsetenv("UPFLOW_FAULT_POINT");
    unsetenv("UPFLOW_FAULT_LIST");
    assert_true(uf_fault_from_env(&f, &err));
    assert_string_equal(f.point, "");
}

static void test_counting_and_list(void **state)
{
    (void)state;
    char dir[] = "/tmp/upflow-fault.XXXXXX", list[64];
    assert_non_null(mkdtemp(dir));
    snprintf(list, sizeof list, "%s/points", dir);
    uf_fault f;
    uf_error err;
    assert_true(uf_fault_init(&f, "b:5", list, &err));
    uf_fault_point(&f, "a");
    uf_fault_point(&f, "b");
    uf_fault_point(&f, "b");
    uf_fault_point(NULL, "b"); /* no fault: nothing at all */
    assert_int_equal(f.reached, 3);
    assert_int_equal(f.point_hits, 2);
    uf_buf b = UF_BUF_INIT;
    assert_true(uf_file_read_capped(list, 100, &b, &err));
    assert_string_equal(b.data, "a\nb\nb\n");
    uf_buf_free(&b);
    unlink(list);
    rmdir(dir);
}

static void test_crash_at_nth(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uf_fault f;
        uf_error err;
        if (!uf_fault_init(&f, "p:3", NULL, &err))
            _exit(1);
        for (int i = 0; i < 10; i++) {
            if (i == 3)
                _exit(2); /* went past the 3rd time */
            uf_fault_point(&f, "other");
            uf_fault_point(&f, "p");
        }
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), UF_FAULT_EXIT);
}

static void test_observer_names(void **state)
{
    (void)state;
    uf_fault f;
    uf_error err;
    assert_true(uf_fault_init(&f, NULL, NULL, &err));
    uf_fault_site site = {&f, "journal"};
    uf_file_observer obs = uf_fault_observer(&site);
    char path[] = "/tmp/upflow-fault-obs.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_true(uf_file_write_atomic_observed(path, "x", 1, &obs, &err));
    assert_int_equal(f.reached, 8);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_from_env),
        cmocka_unit_test(test_counting_and_list),
        cmocka_unit_test(test_crash_at_nth),
        cmocka_unit_test(test_observer_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
