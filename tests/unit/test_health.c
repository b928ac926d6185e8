/*
 * test_health.c - the trial boot's health checks: no checks pass, all passing pass with the
 * extra environment, the first failing check stops the set and is named in the reason with
 * its output, a hanging check ends the set at the monitoring time (shared by all checks), a
 * check that cannot run or is killed fails, and an invalid configuration is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/health.h"

static uf_health_report report; /* 4.6 KiB: not on cmocka's stack */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the checks; returns how long that took by the test's own clock. */
static int64_t check(const char *const *commands, size_t n, int64_t monitoring_ms)
{
    const char *const env[] = {"UPFLOW_SLOT=B", "UPFLOW_VERSION=2.1.0", NULL};
    uf_health_config cfg = {commands, n, monitoring_ms, env};
    uf_error err;
    int64_t t0 = now_ms();
    if (!uf_health_run(&cfg, &report, &err))
        fail_msg("uf_health_run: %s", err.msg);
    int64_t took = now_ms() - t0;
    assert_in_range(report.elapsed_ms, 0, took);
    return took;
}

static void test_no_checks_pass(void **state)
{
    (void)state;
    check(NULL, 0, 0);
    assert_true(report.passed);
    assert_string_equal(report.reason, "");
}

static void test_all_pass(void **state)
{
    (void)state;
    const char *const cmds[] = {"true", "test \"$UPFLOW_SLOT\" = B",
                                "echo checking $UPFLOW_VERSION; exit 0"};
    check(cmds, 3, 5000);
    assert_true(report.passed);
    assert_string_equal(report.reason, "");
    assert_string_equal(report.log_tail, "");
}

static void test_second_fails(void **state)
{
    (void)state;
    char marker[] = "/tmp/upflow-health.XXXXXX", third[128];
    close(mkstemp(marker));
    unlink(marker);
    snprintf(third, sizeof third, "touch %s", marker);
    const char *const cmds[] = {"true", "echo not ready >&2; exit 7", third};
    check(cmds, 3, 5000);
    assert_false(report.passed);
    assert_string_equal(report.reason,
                        "health check 2 of 3 ('echo not ready >&2; exit 7') exited with 7");
    assert_string_equal(report.log_tail, "not ready\n");
    if (access(marker, F_OK) == 0) {
        unlink(marker);
        fail_msg("the third check ran after the second had failed");
    }
}

static void test_hanging_check_exceeds_monitoring_time(void **state)
{
    (void)state;
    const char *const cmds[] = {"echo started; sleep 100"};
    int64_t took = check(cmds, 1, 300);
    assert_false(report.passed);
    assert_string_equal(report.reason, "monitoring time of 300 ms exceeded while health check "
                                       "1 of 1 ('echo started; sleep 100') ran");
    assert_string_equal(report.log_tail, "started\n");
    assert_in_range(took, 250, 3000);
}

/* The monitoring time covers the whole set: the second check gets what the first left. */
static void test_monitoring_time_is_shared(void **state)
{
    (void)state;
    const char *const cmds[] = {"sleep 0.6", "sleep 100"};
    int64_t took = check(cmds, 2, 1000);
    assert_false(report.passed);
    assert_string_equal(report.reason, "monitoring time of 1 s exceeded while health check "
                                       "2 of 2 ('sleep 100') ran");
    assert_in_range(took, 950, 1400); /* not 0.6 s + a full 1 s */
}

/* One check that fails: the report says why, in exactly these words. */
static void one_fails(const char *command, const char *reason)
{
    const char *const cmds[] = {command};
    check(cmds, 1, 5000);
    assert_false(report.passed);
    assert_string_equal(report.reason, reason);
}

static void test_check_cannot_run(void **state)
{
    (void)state;
    one_fails("/nonexistent", "health check 1 of 1 ('/nonexistent') exited with 127");
    assert_non_null(strstr(report.log_tail, "/nonexistent"));
}

static void test_check_killed(void **state)
{
    (void)state;
    one_fails("kill -9 $$", "health check 1 of 1 ('kill -9 $$') was killed by signal 9");
}

/* A long command is shortened in the reason, which keeps its end: why it failed. */
static void test_long_command_shortened(void **state)
{
    (void)state;
    char cmd[600], reason[400];
    snprintf(cmd, sizeof cmd, "exit 3 # %0500d", 0);
    snprintf(reason, sizeof reason, "health check 1 of 1 ('%.200s...') exited with 3", cmd);
    one_fails(cmd, reason);
}

/* A check that cannot even be started (here: no file descriptor left for its pipe) is a
 * failed check, and an error naming it. */
static void test_check_cannot_start(void **state)
{
    (void)state;
    const char *const cmds[] = {"true"};
    uf_health_config cfg = {cmds, 1, 5000, NULL};
    struct rlimit old, none;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest_free = dup(0);
    close(lowest_free);
    none = old;
    none.rlim_cur = (rlim_t)lowest_free;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
    uf_error err;
    bool ok = uf_health_run(&cfg, &report, &err);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_false(ok);
    assert_int_equal(err.code, UF_E_IO);
    assert_false(report.passed);
    assert_non_null(strstr(err.msg, "health check 1 of 1 ('true'): run 'true': output pipe"));
    assert_string_equal(report.reason, err.msg);
}

static void test_invalid_config(void **state)
{
    (void)state;
    const char *const cmds[] = {"true"};
    uf_health_config no_time = {cmds, 1, 0, NULL}, no_list = {NULL, 1, 1000, NULL};
    uf_error err;
    assert_false(uf_health_run(&no_time, &report, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_false(report.passed);
    assert_non_null(strstr(report.reason, "monitoring time"));
    assert_false(uf_health_run(&no_list, &report, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_false(uf_health_run(&no_list, &report, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_checks_pass),
        cmocka_unit_test(test_all_pass),
        cmocka_unit_test(test_second_fails),
        cmocka_unit_test(test_hanging_check_exceeds_monitoring_time),
        cmocka_unit_test(test_monitoring_time_is_shared),
        cmocka_unit_test(test_check_cannot_run),
        cmocka_unit_test(test_check_killed),
        cmocka_unit_test(test_long_command_shortened),
        cmocka_unit_test(test_check_cannot_start),
        cmocka_unit_test(test_invalid_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
