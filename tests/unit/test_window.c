/*
 * test_window.c - maintenance windows: a cron start in a time zone plus a duration is open
 * exactly from each start for the duration (across midnight and the day of week too), and a
 * malformed cron, duration or zone is refused naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/tuf_metadata.h"
#include "server/window.h"

static mw_window *window(const char *cron, int duration, const char *tz)
{
    json_t *spec = json_pack("{s:s, s:i, s:s}", "cron", cron, "duration", duration, "tz", tz);
    uf_error err;
    mw_window *w = mw_parse(spec, &err);
    json_decref(spec);
    if (!w)
        fail_msg("%s: %s", cron, err.msg);
    return w;
}

static int64_t at(const char *utc)
{
    int64_t t;
    uf_error err;
    assert_true(uf_tuf_parse_time(utc, &t, &err));
    return t;
}

static void nightly_window_in_shanghai(void **state)
{
    (void)state;
    mw_window *w = window("0 2 * * *", 3600, "Asia/Shanghai"); /* 02:00-03:00 CST = 18-19 UTC */
    assert_false(mw_open(w, at("2026-11-25T17:59:59Z")));
    assert_true(mw_open(w, at("2026-11-25T18:00:00Z")));
    assert_true(mw_open(w, at("2026-11-25T18:59:59Z")));
    assert_false(mw_open(w, at("2026-11-25T19:00:00Z")));
    assert_false(mw_open(w, at("2026-11-25T06:00:00Z")));
    mw_free(w);
}

static void weekdays_steps_and_midnight(void **state)
{
    (void)state;
    /* Saturdays 23:30 UTC for two hours: open into Sunday morning */
    mw_window *w = window("30 23 * * 6", 7200, "UTC");
    assert_true(mw_open(w, at("2026-11-28T23:45:00Z")));  /* a Saturday */
    assert_true(mw_open(w, at("2026-11-29T01:29:00Z")));  /* Sunday, still inside */
    assert_false(mw_open(w, at("2026-11-29T01:30:00Z")));
    assert_false(mw_open(w, at("2026-11-27T23:45:00Z"))); /* a Friday */
    mw_free(w);
    w = window("*/15 9-17 * * 1-5", 300, "UTC");
    assert_true(mw_open(w, at("2026-11-25T09:47:00Z")));   /* Wednesday 09:45 + 2 min */
    assert_false(mw_open(w, at("2026-11-25T09:51:00Z")));
    assert_false(mw_open(w, at("2026-11-25T18:00:00Z")));
    mw_free(w);
    w = window("0 0 1 1,7 7", 60, "UTC"); /* 7 is Sunday too */
    assert_true(mw_open(w, at("2026-01-01T00:00:30Z"))); /* a Thursday, day of month matches */
    mw_free(w);
}

static void refused_specs(void **state)
{
    (void)state;
    const char *bad[] = {"0 2 * *", "61 2 * * *", "0 24 * * *", "0 2 0 * *", "0 2 * 13 *",
                         "0 2 * * 8", "*/0 * * * *", "5-3 * * * *", "a b c d e", "0 2 * * * *"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *spec = json_pack("{s:s, s:i}", "cron", bad[i], "duration", 600);
        uf_error err;
        assert_null(mw_parse(spec, &err));
        assert_int_equal(err.code, UF_E_BAD_FIELD);
        assert_non_null(strstr(err.msg, "window.cron"));
        json_decref(spec);
    }
    json_t *spec = json_pack("{s:s, s:i}", "cron", "0 2 * * *", "duration", 10);
    uf_error err;
    assert_null(mw_parse(spec, &err));
    assert_non_null(strstr(err.msg, "duration"));
    json_decref(spec);
    spec = json_pack("{s:s, s:i, s:s}", "cron", "0 2 * * *", "duration", 600, "tz", "Mars/Olympus");
    assert_null(mw_parse(spec, &err));
    json_decref(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nightly_window_in_shanghai),
        cmocka_unit_test(weekdays_steps_and_midnight),
        cmocka_unit_test(refused_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
