/*
 * test_log.c - one event is one line, filtered by level, in text or journald form.
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

#include "lib/log.h"

/* Log into a pipe and return what arrived. */
static char *capture(uf_log_level level, bool journal, void (*emit)(const uf_log *))
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    if (journal) {
        struct stat st;
        fstat(fds[1], &st);
        char env[64];
        snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", env, 1);
    } else {
        unsetenv("JOURNAL_STREAM");
    }
    uf_log log = uf_log_open(fds[1], level);
    assert_int_equal(log.format, journal ? UF_LOG_JOURNAL : UF_LOG_TEXT);
    emit(&log);
    close(fds[1]);
    static char out[8192];
    ssize_t n = read(fds[0], out, sizeof out - 1);
    close(fds[0]);
    out[n < 0 ? 0 : n] = '\0';
    return out;
}

static void emit_three(const uf_log *log)
{
    uf_log_debug(log, "http", "dropped at info level");
    uf_log_info(log, "http", "GET %s %d", "/healthz", 200);
    uf_log_error(log, "store", "two\nlines\tand \x01 a control char");
}

static void text_lines_have_time_level_module(void **state)
{
    (void)state;
    char *out = capture(UF_LOG_INFO, false, emit_three);
    char *second = strchr(out, '\n');
    assert_non_null(second);
    second++;
    /* 2026-11-25T13:47:51.123Z info  http: GET /healthz 200 */
    assert_int_equal(out[4], '-');
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[23], 'Z');
    assert_memory_equal(out + 24, " info  http: GET /healthz 200\n", 30);
    assert_memory_equal(second + 24, " error store: two\\nlines\\tand \\x01 a control char\n", 50);
    size_t lines = 0;
    for (char *c = out; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 2);
    assert_null(strstr(out, "dropped"));
}

static void journal_lines_carry_priority(void **state)
{
    (void)state;
    char *out = capture(UF_LOG_DEBUG, true, emit_three);
    assert_string_equal(out, "<7>http: dropped at info level\n"
                             "<6>http: GET /healthz 200\n"
                             "<3>store: two\\nlines\\tand \\x01 a control char\n");
    unsetenv("JOURNAL_STREAM");
}

static void emit_long(const uf_log *log)
{
    char big[3 * UF_LOG_LINE_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    uf_log_warn(log, "m", "%s", big);
}

static void long_messages_stay_one_line(void **state)
{
    (void)state;
    char *out = capture(UF_LOG_INFO, false, emit_long);
    size_t len = strlen(out);
    assert_true(len > UF_LOG_LINE_MAX - 100);
    assert_int_equal(out[len - 1], '\n');
    assert_ptr_equal(strchr(out, '\n'), out + len - 1);
}

static void level_names(void **state)
{
    (void)state;
    uf_log_level l;
    assert_true(uf_log_level_from_name("warn", &l));
    assert_int_equal(l, UF_LOG_WARN);
    assert_false(uf_log_level_from_name("verbose", &l));
    assert_string_equal(uf_log_level_name(UF_LOG_DEBUG), "debug");
    uf_log off = uf_log_open(-1, UF_LOG_DEBUG);
    assert_false(uf_log_enabled(&off, UF_LOG_ERROR));
    uf_log_error(&off, "m", "goes nowhere"); /* must not crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_lines_have_time_level_module),
        cmocka_unit_test(journal_lines_carry_priority),
        cmocka_unit_test(long_messages_stay_one_line),
        cmocka_unit_test(level_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
