/*
 * test_run.c - running one command: exit codes and signals, the output tail keeps the end of
 * a large output, the extra environment, the child's clean start (stdin, fds, signals, its
 * own group), a timeout that kills the whole group (background children and commands that
 * ignore SIGTERM too), and no file descriptor left behind in the agent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/run.h"

#define TIMEOUT_MS 5000

static uf_run_result res; /* 4 KiB: not on cmocka's stack */

static void run_ok(const char *command, const char *const *env)
{
    uf_error err;
    if (!uf_run(command, env, TIMEOUT_MS, &res, &err))
        fail_msg("uf_run('%s'): %s", command, err.msg);
    assert_false(res.timed_out);
}

static void test_exit_codes(void **state)
{
    (void)state;
    run_ok("exit 0", NULL);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(res.signal, 0);
    run_ok("exit 7", NULL);
    assert_int_equal(res.exit_code, 7);
    run_ok("kill -9 $$", NULL);
    assert_int_equal(res.exit_code, -1);
    assert_int_equal(res.signal, SIGKILL);
    run_ok("/nonexistent/command", NULL);
    assert_int_equal(res.exit_code, 127);
    assert_non_null(strstr(res.tail, "not found"));
}

/* The last `keep` bytes of what `seq 1 last` prints. */
static const char *seq_tail(int last, size_t keep)
{
    static char text[8192];
    size_t len = sizeof text - 1;
    text[len] = '\0';
    for (int i = last; i > 0 && len > 0; i--) {
        char line[16];
        int n = snprintf(line, sizeof line, "%d\n", i);
        size_t take = (size_t)n < len ? (size_t)n : len;
        memcpy(text + len - take, line + n - (int)take, take);
        len -= take;
    }
    return text + sizeof text - 1 - keep;
}

static void test_output_tail(void **state)
{
    (void)state;
    run_ok("echo out; echo err >&2", NULL);
    assert_string_equal(res.tail, "out\nerr\n");
    /* 1.3 MB: exactly its last bytes are kept, as a full tail */
    run_ok("seq 1 200000", NULL);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(strlen(res.tail), sizeof res.tail - 1);
    assert_string_equal(res.tail, seq_tail(200000, sizeof res.tail - 1));
    /* a NUL byte does not cut the tail short */
    run_ok("printf 'a\\0b'", NULL);
    assert_string_equal(res.tail, "a?b");
    /* a cut tail starts at a character, not inside one: 'é' is 2 bytes, 4096 is even, so
     * the kept 4095 bytes would start with the second byte of an 'é' */
    run_ok("i=0; while [ $i -lt 4096 ]; do printf 'é'; i=$((i+1)); done", NULL);
    assert_int_equal(strlen(res.tail), sizeof res.tail - 2);
    assert_memory_equal(res.tail, "é", 2);
}

static void test_environment(void **state)
{
    (void)state;
    assert_int_equal(setenv("UPFLOW_TEST_AGENT", "kept", 1), 0);
    assert_int_equal(setenv("UPFLOW_TEST_REPLACED", "old", 1), 0);
    const char *const env[] = {"UPFLOW_SLOT=B", "UPFLOW_TEST_REPLACED=new", "EMPTY=", NULL};
    run_ok("echo \"$UPFLOW_SLOT $UPFLOW_TEST_AGENT $UPFLOW_TEST_REPLACED [$EMPTY]\"; "
           "env | grep -c '^UPFLOW_TEST_REPLACED='",
           env);
    assert_string_equal(res.tail, "B kept new []\n1\n");
    unsetenv("UPFLOW_TEST_AGENT");
    unsetenv("UPFLOW_TEST_REPLACED");

    uf_error err;
    const char *const bad[] = {"UPFLOW_SLOT", NULL};
    assert_false(uf_run("true", bad, TIMEOUT_MS, &res, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_non_null(strstr(err.msg, "'UPFLOW_SLOT'"));
    assert_false(uf_run("", NULL, TIMEOUT_MS, &res, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_false(uf_run("true", NULL, 0, &res, &err));
    assert_int_equal(err.code, UF_E_INVALID);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* The child sees /dev/null as stdin, none of the agent's other fds (even one without
 * close-on-exec), no ignored signal, and is the leader of its own process group. */
static void test_clean_start(void **state)
{
    (void)state;
    int before = count_fds();
    int leak = open("/dev/zero", O_RDONLY); /* deliberately without O_CLOEXEC */
    assert_true(leak > 2);
    int saved_stdin = dup(0); /* the agent's stdin is something else than /dev/null */
    assert_int_equal(dup2(leak, 0), 0);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN); /* as agents using libcurl do */
    char command[512];
    snprintf(command, sizeof command,
             "readlink /proc/$$/fd/0; ls /proc/$$/fd; "
             "test -e /proc/$$/fd/%d && echo fd %d inherited; "
             "grep '^SigIgn' /proc/self/status; "
             "test \"$(cut -d' ' -f5 /proc/$$/stat)\" = $$ && echo own group",
             leak, leak);
    run_ok(command, NULL);
    signal(SIGPIPE, old);
    dup2(saved_stdin, 0);
    close(saved_stdin);
    close(leak);
    assert_string_equal(res.tail, "/dev/null\n0\n1\n2\nSigIgn:\t0000000000000000\nown group\n");
    run_ok("true", NULL);
    run_ok("exit 1", NULL);
    assert_int_equal(count_fds(), before);
}

/* With no file descriptor left, the pipe cannot be made: false, UF_E_IO. */
static void test_start_failure(void **state)
{
    (void)state;
    struct rlimit old, none;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest_free = dup(0);
    assert_true(lowest_free >= 0);
    close(lowest_free);
    none = old;
    none.rlim_cur = (rlim_t)lowest_free;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
    uf_error err;
    bool ok = uf_run("true", NULL, TIMEOUT_MS, &res, &err);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_false(ok);
    assert_int_equal(err.code, UF_E_IO);
    assert_non_null(strstr(err.msg, "run 'true': output pipe: "));
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_elapsed(void **state)
{
    (void)state;
    int64_t t0 = now_ms();
    run_ok("sleep 0.2", NULL);
    int64_t took = now_ms() - t0;
    assert_int_equal(res.exit_code, 0);
    assert_in_range(res.elapsed_ms, 190, took);
    assert_true(took < 2000);
}

/* A pid is gone when it no longer exists or is a zombie waiting for init to reap it. */
static bool process_gone(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && (paren[2] == 'Z' || paren[2] == 'X');
}

static bool gone_soon(pid_t pid)
{
    for (int i = 0; i < 100 && !process_gone(pid); i++)
        usleep(10 * 1000);
    return process_gone(pid);
}

/* Run "START echo $! > PIDFILE; THEN", where START puts something in the background; the
 * background pid and the time the run took by our own clock come back. */
static pid_t run_with_background(const char *start, const char *then, int64_t timeout_ms,
                                 int64_t *took)
{
    char pidfile[] = "/tmp/upflow-run.XXXXXX", command[256];
    close(mkstemp(pidfile));
    snprintf(command, sizeof command, "%s echo $! > %s; %s", start, pidfile, then);
    uf_error err;
    int64_t t0 = now_ms();
    if (!uf_run(command, NULL, timeout_ms, &res, &err))
        fail_msg("uf_run('%s'): %s", command, err.msg);
    *took = now_ms() - t0;
    FILE *f = fopen(pidfile, "r");
    int pid = 0;
    bool read = f && fscanf(f, "%d", &pid) == 1;
    if (f)
        fclose(f);
    unlink(pidfile);
    assert_true(read && pid > 1);
    return (pid_t)pid;
}

static void assert_gone(pid_t pid)
{
    if (!gone_soon(pid)) {
        kill(pid, SIGKILL);
        fail_msg("the background 'sleep' (pid %d) outlived the timeout", (int)pid);
    }
}

/* Timed out, ended by sig (0: it exited by itself after SIGTERM), and never a success. */
static void assert_timed_out(int sig)
{
    assert_true(res.timed_out);
    assert_int_equal(res.exit_code, -1);
    assert_int_equal(res.signal, sig);
}

static void test_timeout_kills_group(void **state)
{
    (void)state;
    int64_t took;
    pid_t grandchild = run_with_background("sleep 100 &", "echo waiting; sleep 100", 300, &took);
    assert_timed_out(SIGTERM);
    assert_string_equal(res.tail, "waiting\n");
    assert_in_range(res.elapsed_ms, 300, took);
    assert_true(took < 2000); /* SIGTERM was enough: no grace period spent */
    assert_gone(grandchild);
}

/* A command ignoring SIGTERM, and the background child it leaves, both get SIGKILL after
 * the grace period. */
static void test_sigterm_ignored_gets_sigkill(void **state)
{
    (void)state;
    int64_t took;
    pid_t grandchild = run_with_background("trap '' TERM; sleep 100 &", "wait", 200, &took);
    assert_timed_out(SIGKILL);
    assert_in_range(took, 200 + UF_RUN_KILL_GRACE_MS, 200 + UF_RUN_KILL_GRACE_MS + 1500);
    assert_gone(grandchild);
}

/* A command that exits 0 on SIGTERM still timed out: it must never look like a success. */
static void test_timeout_is_never_success(void **state)
{
    (void)state;
    uf_error err;
    assert_true(uf_run("trap 'exit 0' TERM; sleep 100", NULL, 200, &res, &err));
    assert_timed_out(0);
}

/* Exiting in time is the end: a background child that keeps the output pipe open is
 * neither waited for nor killed. */
static void test_background_child_does_not_hold_up(void **state)
{
    (void)state;
    int64_t took;
    pid_t background = run_with_background("sleep 30 &", "echo started", 5000, &took);
    bool alive = !process_gone(background);
    kill(background, SIGKILL);
    assert_false(res.timed_out);
    assert_int_equal(res.exit_code, 0);
    assert_string_equal(res.tail, "started\n");
    assert_true(took < 2000);
    assert_true(alive);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_output_tail),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_clean_start),
        cmocka_unit_test(test_start_failure),
        cmocka_unit_test(test_elapsed),
        cmocka_unit_test(test_timeout_kills_group),
        cmocka_unit_test(test_sigterm_ignored_gets_sigkill),
        cmocka_unit_test(test_timeout_is_never_success),
        cmocka_unit_test(test_background_child_does_not_hold_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
