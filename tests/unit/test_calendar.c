/*
 * test_calendar.c - working calendars: the eight worked S1 examples of workflow.md 3.3 on the
 * shipped mainland-China 2026 calendar, then the edges: lunch break, midnight, the eve of a
 * holiday, make-up weekend days, the year boundary (with its warning), DST in a Berlin
 * calendar, working days, working minutes, field deadlines, and invalid calendars with the
 * exact path of each error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/calendar.h"

#define CN_CALENDAR UF_TEST_DATA_DIR "/../../calendars/cn-mainland-2026.json"

static uf_calendar *load_cn(void)
{
    uf_error err;
    uf_calendar *cal = uf_calendar_load_file(CN_CALENDAR, &err);
    if (!cal)
        fail_msg("%s", err.msg);
    return cal;
}

/* A calendar from parts: `week` is the inside of the "week" object, `overrides` the inside
 * of the "overrides" array. Returns NULL (with err) if it does not load. */
static uf_calendar *make_calendar(const char *zone, const char *week, const char *overrides,
                                  uf_error *err)
{
    char doc[4096];
    snprintf(doc, sizeof doc,
             "{\"id\": \"test\", \"version\": 1, \"timezone\": \"%s\","
             " \"effective\": {\"from\": \"2026-01-01\", \"to\": \"2026-12-31\"},"
             " \"week\": {%s}, \"overrides\": [%s]}",
             zone, week, overrides);
    return uf_calendar_parse(doc, strlen(doc), err);
}

#define OFFICE_DAY "[[\"08:30\",\"12:00\"],[\"13:30\",\"17:30\"]]"
#define OFFICE_WEEK                                                                           \
    "\"mon\": " OFFICE_DAY ", \"tue\": " OFFICE_DAY ", \"wed\": " OFFICE_DAY                  \
    ", \"thu\": " OFFICE_DAY ", \"fri\": " OFFICE_DAY ", \"sat\": [], \"sun\": []"

static uf_calendar *make_ok(const char *zone, const char *week, const char *overrides)
{
    uf_error err;
    uf_calendar *cal = make_calendar(zone, week, overrides, &err);
    if (!cal)
        fail_msg("%s", err.msg);
    return cal;
}

static int64_t at(const uf_calendar *cal, const char *text)
{
    uf_error err;
    int64_t t;
    if (!uf_calendar_parse_time(cal, text, &t, &err))
        fail_msg("%s", err.msg);
    return t;
}

/* Compare an instant with "YYYY-MM-DDTHH:MM" local (seconds and offset added). */
static void assert_local(const uf_calendar *cal, int64_t t, const char *expected,
                         const char *what)
{
    char got[48];
    uf_calendar_format_time(cal, t, got, sizeof got);
    if (strncmp(got, expected, strlen(expected)) != 0)
        fail_msg("%s: got %s, expected %s", what, got, expected);
}

typedef bool (*op_fn)(const uf_calendar *, int64_t, int64_t, int64_t *, uf_cal_warnings *,
                      uf_error *);

static bool op_sessions(const uf_calendar *c, int64_t t, int64_t n, int64_t *out,
                        uf_cal_warnings *w, uf_error *err)
{
    return uf_calendar_add_sessions(c, t, (unsigned)n, out, w, err);
}

static bool op_minutes(const uf_calendar *c, int64_t t, int64_t n, int64_t *out,
                       uf_cal_warnings *w, uf_error *err)
{
    return uf_calendar_add_working_minutes(c, t, n, out, w, err);
}

static bool op_days(const uf_calendar *c, int64_t t, int64_t n, int64_t *out,
                    uf_cal_warnings *w, uf_error *err)
{
    return uf_calendar_add_working_days(c, t, (unsigned)n, out, w, err);
}

typedef struct row {
    const char *from;
    int64_t n;
    const char *expected;
} row;

/* Run op over a table; no warnings expected. */
static void check_rows(const uf_calendar *cal, op_fn op, const row *rows, size_t n,
                       const char *name)
{
    for (size_t i = 0; i < n; i++) {
        char what[96];
        uf_error err;
        uf_cal_warnings w;
        int64_t out;
        uf_cal_warnings_clear(&w);
        snprintf(what, sizeof what, "%s(%s, %lld)", name, rows[i].from, (long long)rows[i].n);
        if (!op(cal, at(cal, rows[i].from), rows[i].n, &out, &w, &err))
            fail_msg("%s: %s", what, err.msg);
        assert_local(cal, out, rows[i].expected, what);
        if (w.outside_range)
            fail_msg("%s: unexpected warning %s", what, w.msg);
    }
}

/* workflow.md 3.3, all eight rows. */
static void worked_examples(void **state)
{
    (void)state;
    static const row rows[] = {
        {"2026-03-10T10:15", 1, "2026-03-10T13:30:00+08:00"}, /* morning receipt */
        {"2026-03-10T15:40", 1, "2026-03-11T08:30:00+08:00"}, /* afternoon receipt */
        {"2026-03-10T12:20", 1, "2026-03-11T08:30:00+08:00"}, /* lunch = afternoon (A1) */
        {"2026-03-10T07:50", 1, "2026-03-10T13:30:00+08:00"}, /* before work */
        {"2026-02-13T16:00", 1, "2026-02-14T08:30:00+08:00"}, /* make-up Saturday */
        {"2026-02-14T16:00", 1, "2026-02-24T08:30:00+08:00"}, /* Spring Festival */
        {"2026-04-30T17:45", 1, "2026-05-06T13:30:00+08:00"}, /* after hours, 1-5 May off */
        {"2026-05-08T11:59", 1, "2026-05-08T13:30:00+08:00"}, /* one minute before lunch */
    };
    uf_calendar *cal = load_cn();
    check_rows(cal, op_sessions, rows, sizeof rows / sizeof rows[0], "S1");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) { /* the named entry point */
        int64_t out;
        uf_error err;
        assert_true(uf_calendar_s1_deadline(cal, at(cal, rows[i].from), &out, NULL, &err));
        assert_local(cal, out, rows[i].expected, rows[i].from);
    }
    uf_calendar_free(cal);
}

static void s1_edges(void **state)
{
    (void)state;
    static const row rows[] = {
        /* lunch break and session ends are half-open */
        {"2026-03-10T11:59:59", 1, "2026-03-10T13:30"},
        {"2026-03-10T12:00", 1, "2026-03-11T08:30"},
        {"2026-03-10T13:29", 1, "2026-03-11T08:30"},
        {"2026-03-10T13:30", 1, "2026-03-11T08:30"},
        {"2026-03-10T17:29", 1, "2026-03-11T08:30"},
        {"2026-03-10T17:30", 1, "2026-03-11T13:30"},
        {"2026-03-10T08:30", 1, "2026-03-10T13:30"},
        /* midnight */
        {"2026-03-10T00:00", 1, "2026-03-10T13:30"},
        {"2026-03-10T23:59", 1, "2026-03-11T13:30"},
        /* eves of holidays */
        {"2026-09-30T15:00", 1, "2026-10-08T08:30"},
        {"2026-09-24T16:00", 1, "2026-09-28T08:30"},
        {"2026-06-18T10:00", 1, "2026-06-18T13:30"},
        {"2026-06-18T14:00", 1, "2026-06-22T08:30"},
        /* make-up weekend days */
        {"2026-02-28T10:00", 1, "2026-02-28T13:30"},
        {"2026-02-27T17:00", 1, "2026-02-28T08:30"},
        {"2026-10-09T16:00", 1, "2026-10-10T08:30"},
        {"2026-09-19T16:00", 1, "2026-09-20T13:30"}, /* Sat -> make-up Sun 08:30 */
        {"2026-01-03T10:00", 1, "2026-01-04T13:30"},
        {"2026-03-14T10:00", 1, "2026-03-16T13:30"}, /* an ordinary Saturday */
        /* more sessions */
        {"2026-03-10T10:15", 0, "2026-03-10T10:15"},
        {"2026-03-10T12:20", 0, "2026-03-10T13:30"},
        {"2026-03-10T10:15", 2, "2026-03-11T08:30"},
        {"2026-03-10T10:15", 4, "2026-03-12T08:30"},
        {"2026-02-13T10:00", 3, "2026-02-14T13:30"},
        {"2026-02-13T10:00", 4, "2026-02-24T08:30"},
    };
    uf_calendar *cal = load_cn();
    check_rows(cal, op_sessions, rows, sizeof rows / sizeof rows[0], "sessions");
    uf_calendar_free(cal);
}

static void session_queries(void **state)
{
    (void)state;
    uf_calendar *cal = load_cn();
    uf_error err;
    uf_cal_span s;
    int64_t out;
    assert_true(uf_calendar_session_at(cal, at(cal, "2026-03-10T10:00"), &s, NULL));
    assert_local(cal, s.start, "2026-03-10T08:30", "session start");
    assert_local(cal, s.end, "2026-03-10T12:00", "session end");
    assert_true(uf_calendar_is_working(cal, at(cal, "2026-03-10T11:59"), NULL));
    assert_false(uf_calendar_is_working(cal, at(cal, "2026-03-10T12:00"), NULL));
    assert_false(uf_calendar_is_working(cal, at(cal, "2026-02-16T10:00"), NULL)); /* 春节 */
    assert_true(uf_calendar_is_working(cal, at(cal, "2026-02-14T10:00"), NULL));  /* 调休 */
    assert_false(uf_calendar_session_at(cal, at(cal, "2026-03-14T10:00"), &s, NULL));

    static const struct {
        const char *t, *next, *receipt;
    } rows[] = {
        {"2026-03-10T08:30", "2026-03-10T08:30", "2026-03-10T08:30"},
        {"2026-03-10T08:31", "2026-03-10T13:30", "2026-03-10T08:31"},
        {"2026-03-10T12:00", "2026-03-10T13:30", "2026-03-10T13:30"},
        {"2026-03-10T17:30", "2026-03-11T08:30", "2026-03-11T08:30"},
        {"2026-04-30T17:45", "2026-05-06T08:30", "2026-05-06T08:30"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_true(uf_calendar_next_session_start(cal, at(cal, rows[i].t), &out, NULL, &err));
        assert_local(cal, out, rows[i].next, rows[i].t);
        assert_true(uf_calendar_effective_receipt(cal, at(cal, rows[i].t), &out, NULL, &err));
        assert_local(cal, out, rows[i].receipt, rows[i].t);
    }
    uf_calendar_free(cal);
}

static void year_boundary_warns(void **state)
{
    (void)state;
    uf_calendar *cal = load_cn();
    uf_cal_warnings w;
    uf_error err;
    int64_t out;
    uf_cal_warnings_clear(&w);
    assert_true(uf_calendar_s1_deadline(cal, at(cal, "2026-12-31T19:00"), &out, &w, &err));
    assert_local(cal, out, "2027-01-01T13:30", "2026-12-31 evening");
    assert_true(w.outside_range);
    assert_string_equal(w.msg, "2027-01-01 is outside the calendar's effective range "
                               "2026-01-01..2026-12-31");
    uf_cal_warnings_clear(&w);
    assert_true(uf_calendar_s1_deadline(cal, at(cal, "2026-12-31T10:00"), &out, &w, &err));
    assert_local(cal, out, "2026-12-31T13:30", "2026-12-31 morning");
    assert_false(w.outside_range);
    /* before the range: the walk starts on 2025-12-31, then 1-3 Jan off, 4 Jan make-up */
    assert_true(uf_calendar_s1_deadline(cal, at(cal, "2025-12-31T16:00"), &out, &w, &err));
    assert_local(cal, out, "2026-01-04T08:30", "2025-12-31 afternoon");
    assert_string_equal(w.msg, "2025-12-31 is outside the calendar's effective range "
                               "2026-01-01..2026-12-31");
    /* several days */
    uf_cal_warnings_clear(&w);
    assert_true(uf_calendar_add_working_days(cal, at(cal, "2026-12-31T10:00"), 2, &out, &w,
                                             &err));
    assert_local(cal, out, "2027-01-04T10:00", "2 WD from 2026-12-31");
    assert_string_equal(w.msg, "2027-01-01..2027-01-04 are outside the calendar's effective "
                               "range 2026-01-01..2026-12-31");
    /* between inside the range ending at midnight does not look at the next year */
    uf_cal_warnings_clear(&w);
    assert_true(uf_calendar_working_minutes_between(cal, at(cal, "2026-12-31T00:00"),
                                                    at(cal, "2027-01-01T00:00"), &out, &w, &err));
    assert_int_equal(out, 450);
    assert_false(w.outside_range);
    uf_calendar_free(cal);
}

static void working_days(void **state)
{
    (void)state;
    static const row rows[] = {
        {"2026-03-10T10:15", 1, "2026-03-11T10:15"},
        {"2026-03-10T10:15", 0, "2026-03-10T10:15"},
        {"2026-03-10T08:30", 1, "2026-03-11T08:30"}, /* == 2 sessions */
        {"2026-03-10T13:30", 1, "2026-03-11T13:30"}, /* == 2 sessions */
        {"2026-03-10T13:30", 3, "2026-03-13T13:30"},
        {"2026-03-10T12:20", 1, "2026-03-11T13:30"}, /* effective receipt 13:30 */
        {"2026-03-10T18:00", 1, "2026-03-12T08:30"}, /* effective receipt Wed 08:30 */
        {"2026-03-13T15:00", 1, "2026-03-16T15:00"}, /* Fri -> Mon, not Sat */
        {"2026-02-13T10:00", 1, "2026-02-14T10:00"}, /* make-up Saturday */
        {"2026-02-13T10:00", 2, "2026-02-24T10:00"},
        {"2026-04-30T11:00", 1, "2026-05-06T11:00"},
        {"2026-03-10T11:59", 5, "2026-03-17T11:59"},
    };
    uf_calendar *cal = load_cn();
    check_rows(cal, op_days, rows, sizeof rows / sizeof rows[0], "working_days");
    for (unsigned n = 0; n < 20; n++) { /* from a session start, n WD == 2n sessions */
        int64_t a, b;
        uf_error err;
        int64_t t = at(cal, n % 2 ? "2026-03-10T13:30" : "2026-02-13T08:30");
        assert_true(uf_calendar_add_working_days(cal, t, n, &a, NULL, &err));
        assert_true(uf_calendar_add_sessions(cal, t, 2 * n, &b, NULL, &err));
        assert_int_equal(a, b);
    }
    uf_calendar_free(cal);

    /* a shorter day clamps to its end */
    cal = make_ok("Asia/Shanghai", OFFICE_WEEK,
                  "{\"date\": \"2026-12-31\", \"kind\": \"custom\", \"name\": \"half day\","
                  " \"sessions\": [[\"08:30\", \"12:00\"]]}");
    static const row clamp[] = {
        {"2026-12-30T15:00", 1, "2026-12-31T12:00"},
        {"2026-12-30T10:00", 1, "2026-12-31T10:00"},
        {"2026-12-30T13:30", 1, "2026-12-31T12:00"},
    };
    check_rows(cal, op_days, clamp, sizeof clamp / sizeof clamp[0], "working_days");
    uf_calendar_free(cal);
}

static void working_minutes(void **state)
{
    (void)state;
    static const row rows[] = {
        {"2026-03-10T10:00", 120, "2026-03-10T12:00"}, /* exactly the session end */
        {"2026-03-10T10:00", 121, "2026-03-10T13:31"},
        {"2026-03-10T07:00", 210, "2026-03-10T12:00"},
        {"2026-03-10T17:00", 30, "2026-03-10T17:30"},
        {"2026-03-10T17:00", 31, "2026-03-11T08:31"},
        {"2026-03-10T12:20", 0, "2026-03-10T13:30"},
        {"2026-03-10T08:30", 450, "2026-03-10T17:30"},
        {"2026-03-10T08:30", 451, "2026-03-11T08:31"},
        {"2026-02-13T17:00", 60, "2026-02-14T09:00"},
        {"2026-04-30T17:00", 480, "2026-05-06T17:30"},
        {"2026-04-30T17:00", 481, "2026-05-07T08:31"},
    };
    uf_calendar *cal = load_cn();
    check_rows(cal, op_minutes, rows, sizeof rows / sizeof rows[0], "working_minutes");

    static const struct {
        const char *a, *b;
        int64_t minutes;
    } between[] = {
        {"2026-03-10T10:00", "2026-03-10T14:00", 150},
        {"2026-03-10T12:00", "2026-03-10T13:30", 0},
        {"2026-03-10T00:00", "2026-03-11T00:00", 450},
        {"2026-03-13T17:00", "2026-03-16T09:00", 60},
        {"2026-02-15T00:00", "2026-02-23T23:59", 0},
        {"2026-02-13T17:00", "2026-02-24T08:45", 30 + 450 + 15},
        {"2026-03-10T10:00", "2026-03-10T10:00", 0},
        {"2026-03-10T09:00:30", "2026-03-10T09:02", 1}, /* 90 s: whole minutes */
    };
    for (size_t i = 0; i < sizeof between / sizeof between[0]; i++) {
        int64_t fwd, back, t;
        uf_error err;
        int64_t a = at(cal, between[i].a), b = at(cal, between[i].b);
        assert_true(uf_calendar_working_minutes_between(cal, a, b, &fwd, NULL, &err));
        assert_true(uf_calendar_working_minutes_between(cal, b, a, &back, NULL, &err));
        if (fwd != between[i].minutes || back != -fwd)
            fail_msg("between %s and %s: %lld / %lld, expected %lld", between[i].a,
                     between[i].b, (long long)fwd, (long long)back,
                     (long long)between[i].minutes);
        /* adding the minutes back from a session start gives b's effective receipt region */
        if (fwd > 0 && uf_calendar_is_working(cal, a, NULL) &&
            uf_calendar_is_working(cal, b, NULL) && (b - a) % 60 == 0) {
            assert_true(uf_calendar_add_working_minutes(cal, a, fwd, &t, NULL, &err));
            assert_int_equal(t, b);
        }
    }
    uf_calendar_free(cal);
}

/* Session boundaries are wall-clock times; elapsed working time is real time. */
static void dst_calendar(void **state)
{
    (void)state;
    uf_error err;
    int64_t out;
    const char *all_day = "[[\"00:00\",\"24:00\"]]";
    char week[512];
    snprintf(week, sizeof week,
             "\"mon\": %s, \"tue\": %s, \"wed\": %s, \"thu\": %s, \"fri\": %s, \"sat\": %s,"
             " \"sun\": %s",
             all_day, all_day, all_day, all_day, all_day, all_day, all_day);
    uf_calendar *cal = make_ok("Europe/Berlin", week, "");
    assert_true(uf_calendar_working_minutes_between(cal, at(cal, "2026-03-28T12:00"),
                                                    at(cal, "2026-03-29T12:00"), &out, NULL,
                                                    &err));
    assert_int_equal(out, 23 * 60);
    assert_true(uf_calendar_working_minutes_between(cal, at(cal, "2026-10-24T12:00"),
                                                    at(cal, "2026-10-25T12:00"), &out, NULL,
                                                    &err));
    assert_int_equal(out, 25 * 60);
    assert_true(uf_calendar_add_working_minutes(cal, at(cal, "2026-03-29T01:30"), 60, &out,
                                                NULL, &err));
    assert_local(cal, out, "2026-03-29T03:30:00+02:00", "across the spring gap");
    assert_true(uf_calendar_add_sessions(cal, at(cal, "2026-03-29T12:00"), 1, &out, NULL, &err));
    assert_local(cal, out, "2026-03-30T00:00:00+02:00", "next midnight");
    uf_calendar_free(cal);

    /* a Sunday night shift 01:00-04:00 spans the change: 2 h in March, 4 h in October */
    cal = make_ok("Europe/Berlin",
                  "\"mon\": [], \"tue\": [], \"wed\": [], \"thu\": [], \"fri\": [], \"sat\": [],"
                  " \"sun\": [[\"01:00\",\"04:00\"]]",
                  "");
    static const struct {
        const char *a, *b;
        int64_t minutes;
    } rows[] = {
        {"2026-03-21T12:00", "2026-03-23T12:00", 180},
        {"2026-03-28T12:00", "2026-03-30T12:00", 120},
        {"2026-10-24T12:00", "2026-10-26T12:00", 240},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_true(uf_calendar_working_minutes_between(cal, at(cal, rows[i].a),
                                                        at(cal, rows[i].b), &out, NULL, &err));
        assert_int_equal(out, rows[i].minutes);
    }
    assert_true(uf_calendar_add_working_minutes(cal, at(cal, "2026-03-28T12:00"), 120, &out,
                                                NULL, &err));
    assert_local(cal, out, "2026-03-29T04:00:00+02:00", "shift end");
    assert_true(uf_calendar_add_working_minutes(cal, at(cal, "2026-10-24T12:00"), 240, &out,
                                                NULL, &err));
    assert_local(cal, out, "2026-10-25T04:00:00+01:00", "long shift end");
    assert_true(uf_calendar_s1_deadline(cal, at(cal, "2026-10-25T02:30+02:00"), &out, NULL,
                                        &err));
    assert_local(cal, out, "2026-11-01T01:00:00+01:00", "next Sunday");
    uf_calendar_free(cal);
}

static void field_deadlines(void **state)
{
    (void)state;
    static const struct {
        const char *field, *expected;
    } rows[] = {
        {"2026-03-10", "2026-03-10T17:30:00+08:00"},
        {"2026-02-15", "2026-02-14T17:30:00+08:00"}, /* holiday -> the make-up Saturday */
        {"2026-03-14", "2026-03-13T17:30:00+08:00"}, /* Saturday -> Friday */
        {"2026-03-10T17:00+08:00", "2026-03-10T17:00:00+08:00"},
        {"2026-03-10T17:00Z", "2026-03-11T01:00:00+08:00"},
        {"2026-03-10T17:00:30+0800", "2026-03-10T17:00:30+08:00"},
        {"2026-03-10T17:00", "2026-03-10T17:00:00+08:00"},
    };
    uf_calendar *cal = load_cn();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t out;
        uf_error err;
        if (!uf_calendar_field_deadline(cal, rows[i].field, &out, NULL, &err))
            fail_msg("%s: %s", rows[i].field, err.msg);
        assert_local(cal, out, rows[i].expected, rows[i].field);
    }
    const char *bad[] = {"2026-02-30", "2026-3-10", "2026-03-10T25:00", "2026-03-10T10:00+8",
                         "2026-03-10T10:00 UTC", "tomorrow", "", "2026-03-10T10:00+08:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t out;
        uf_error err;
        uf_error_clear(&err);
        if (uf_calendar_field_deadline(cal, bad[i], &out, NULL, &err))
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(err.code, UF_E_INVALID);
    }
    uf_calendar_free(cal);
}

static void summary(void **state)
{
    (void)state;
    uf_calendar *cal = load_cn();
    uf_cal_stats st;
    uf_calendar_stats(cal, &st);
    assert_string_equal(uf_calendar_id(cal), "cn-mainland-2026");
    assert_int_equal(uf_calendar_version(cal), 1);
    assert_string_equal(uf_tz_name(uf_calendar_tz(cal)), "Asia/Shanghai");
    assert_int_equal(st.holidays, 7);
    assert_int_equal(st.makeup_workdays, 6);
    assert_int_equal(st.custom_days, 0);
    assert_int_equal(st.working_days, 248); /* 261 weekdays - 19 holiday weekdays + 6 */
    assert_int_equal(st.weekly_minutes, 5 * 450);
    assert_int_equal(st.working_minutes, 248 * 450);
    int sessions[UF_CAL_MAX_SESSIONS][2];
    assert_int_equal(uf_calendar_day_minutes(cal, uf_days_from_civil(2026, 9, 20), sessions,
                                             NULL), 2);
    assert_int_equal(sessions[1][0], 13 * 60 + 30);
    uf_calendar_free(cal);
}

static void no_working_time(void **state)
{
    (void)state;
    uf_calendar *cal = make_ok("UTC",
                               "\"mon\": [], \"tue\": [], \"wed\": [], \"thu\": [], \"fri\": [],"
                               " \"sat\": [], \"sun\": []",
                               "");
    uf_error err;
    int64_t out;
    assert_false(uf_calendar_s1_deadline(cal, at(cal, "2026-03-10T10:00"), &out, NULL, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_string_equal(err.msg, "calendar test has no working time in the 3660 days from "
                                 "2026-03-10");
    assert_false(uf_calendar_add_working_minutes(cal, 0, 1, &out, NULL, &err));
    assert_false(uf_calendar_add_working_days(cal, 0, 1, &out, NULL, &err));
    assert_false(uf_calendar_next_session_start(cal, 0, &out, NULL, &err));
    assert_false(uf_calendar_field_deadline(cal, "2026-03-10", &out, NULL, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_true(uf_calendar_working_minutes_between(cal, 0, 86400 * 365, &out, NULL, &err));
    assert_int_equal(out, 0);
    assert_false(uf_calendar_add_working_minutes(cal, 0, -1, &out, NULL, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    uf_calendar_free(cal);
}

static void expect_invalid(const char *week, const char *overrides, const char *message)
{
    uf_error err;
    uf_error_clear(&err);
    uf_calendar *cal = make_calendar("Asia/Shanghai", week, overrides, &err);
    if (cal) {
        uf_calendar_free(cal);
        fail_msg("accepted; expected \"%s\"", message);
    }
    assert_int_equal(err.code, UF_E_BAD_FIELD);
    assert_string_equal(err.msg, message);
}

#define REST_OF_WEEK                                                                          \
    ", \"tue\": [], \"wed\": [], \"thu\": [], \"fri\": [], \"sat\": [], \"sun\": []"

static void invalid_calendars(void **state)
{
    (void)state;
    expect_invalid("\"mon\": [[\"08:30\",\"12:00\"],[\"13:30\",\"12:00\"]]" REST_OF_WEEK, "",
                   "week.mon[1]: session end 12:00 is not after start 13:30");
    expect_invalid("\"mon\": [[\"08:30\",\"12:00\"],[\"11:00\",\"13:00\"]]" REST_OF_WEEK, "",
                   "week.mon[1]: session 11:00-13:00 starts before the previous one ends at "
                   "12:00 (sessions must be sorted and must not overlap)");
    expect_invalid("\"mon\": [[\"13:30\",\"17:30\"],[\"08:30\",\"12:00\"]]" REST_OF_WEEK, "",
                   "week.mon[1]: session 08:30-12:00 starts before the previous one ends at "
                   "17:30 (sessions must be sorted and must not overlap)");
    expect_invalid("\"mon\": [[\"8:30\",\"12:00\"]]" REST_OF_WEEK, "",
                   "week.mon[0][0]: bad time \"8:30\", expected HH:MM (00:00..23:59)");
    expect_invalid("\"mon\": [[\"08:30\",\"24:30\"]]" REST_OF_WEEK, "",
                   "week.mon[0][1]: bad time \"24:30\", expected HH:MM (00:01..24:00)");
    expect_invalid("\"mon\": [[\"08:60\",\"12:00\"]]" REST_OF_WEEK, "",
                   "week.mon[0][0]: bad time \"08:60\", expected HH:MM (00:00..23:59)");
    expect_invalid("\"mon\": [[\"08:30\"]]" REST_OF_WEEK, "",
                   "week.mon[0]: expected a [\"HH:MM\", \"HH:MM\"] pair, got an array of "
                   "another length");
    expect_invalid("\"mon\": [[\"08:30\", 12]]" REST_OF_WEEK, "",
                   "week.mon[0][1]: expected string, got integer");
    expect_invalid("\"monday\": []" REST_OF_WEEK, "", "week.monday: unknown field");
    expect_invalid("\"mon\": {}" REST_OF_WEEK, "", "week.mon: expected array, got object");
}

static void invalid_overrides(void **state)
{
    (void)state;
    expect_invalid(OFFICE_WEEK,
                   "{\"date\": \"2026-02-14\", \"kind\": \"makeup_workday\", \"as\": \"monday\"}",
                   "overrides[0].as: unknown weekday \"monday\", expected mon, tue, wed, thu, "
                   "fri, sat or sun");
    expect_invalid(OFFICE_WEEK,
                   "{\"date\": \"2026-02-14\", \"kind\": \"makeup_workday\", \"as\": \"sat\"}",
                   "overrides[0].as: \"sat\" has no sessions, so the make-up workday would not "
                   "be worked");
    expect_invalid(OFFICE_WEEK, "{\"date\": \"2026-02-14\", \"kind\": \"makeup_workday\"}",
                   "overrides[0].as: missing");
    expect_invalid(OFFICE_WEEK,
                   "{\"from\": \"2026-02-15\", \"to\": \"2026-02-23\", \"kind\": \"holiday\"},"
                   "{\"date\": \"2026-03-01\", \"kind\": \"holiday\"},"
                   "{\"date\": \"2026-02-20\", \"kind\": \"holiday\"}",
                   "overrides[2]: 2026-02-20 overlaps overrides[0] (2026-02-15..2026-02-23)");
    expect_invalid(OFFICE_WEEK,
                   "{\"from\": \"2026-05-04\", \"to\": \"2026-05-06\", \"kind\": \"holiday\"},"
                   "{\"from\": \"2026-05-01\", \"to\": \"2026-05-04\", \"kind\": \"holiday\"}",
                   "overrides[1]: 2026-05-01..2026-05-04 overlaps overrides[0] "
                   "(2026-05-04..2026-05-06)");
    expect_invalid(OFFICE_WEEK, "{\"date\": \"2026-02-14\", \"kind\": \"vacation\"}",
                   "overrides[0].kind: unknown kind \"vacation\", expected holiday, "
                   "makeup_workday or custom");
    expect_invalid(OFFICE_WEEK, "{\"date\": \"2026-02-30\", \"kind\": \"holiday\"}",
                   "overrides[0].date: bad date \"2026-02-30\", expected YYYY-MM-DD");
    expect_invalid(OFFICE_WEEK, "{\"date\": \"2026-02-14\", \"to\": \"2026-02-15\", "
                   "\"kind\": \"holiday\"}",
                   "overrides[0]: give either \"date\" or \"from\" and \"to\", not both");
    expect_invalid(OFFICE_WEEK,
                   "{\"date\": \"2026-12-31\", \"kind\": \"custom\", \"sessions\": "
                   "[[\"08:30\",\"12:00\"],[\"11:00\",\"12:30\"]]}",
                   "overrides[0].sessions[1]: session 11:00-12:30 starts before the previous "
                   "one ends at 12:00 (sessions must be sorted and must not overlap)");
    expect_invalid(OFFICE_WEEK, "{\"date\": \"2026-12-31\", \"kind\": \"holiday\", "
                   "\"sessions\": []}",
                   "overrides[0].sessions: only a custom day has sessions");
    expect_invalid(OFFICE_WEEK, "{\"date\": \"2026-12-31\", \"kind\": \"holiday\", "
                   "\"colour\": \"red\"}",
                   "overrides[0].colour: unknown field");
}

static void invalid_headers(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *message;
        uf_code code;
    } rows[] = {
        {"{\"id\": \"x\", \"version\": 1, \"timezone\": \"Mars/Olympus\", \"effective\":"
         " {\"from\": \"2026-01-01\", \"to\": \"2026-12-31\"}, \"week\": {}}",
         "timezone: unknown time zone \"Mars/Olympus\" (no /usr/share/zoneinfo/Mars/Olympus)",
         UF_E_NOT_FOUND},
        {"{\"id\": \"x\", \"version\": 1, \"timezone\": \"../../etc/passwd\", \"effective\":"
         " {\"from\": \"2026-01-01\", \"to\": \"2026-12-31\"}, \"week\": {}}",
         "timezone: bad time zone name \"../../etc/passwd\"", UF_E_INVALID},
        {"{\"id\": \"x\", \"version\": 1, \"timezone\": \"UTC\", \"effective\":"
         " {\"from\": \"2026-12-31\", \"to\": \"2026-01-01\"}, \"week\": {}}",
         "effective.to: 2026-01-01 is before from 2026-12-31", UF_E_BAD_FIELD},
        {"{\"id\": \"x\", \"version\": 0, \"timezone\": \"UTC\"}", NULL, UF_E_BAD_FIELD},
        {"{\"id\": \"a b\", \"version\": 1, \"timezone\": \"UTC\"}",
         "id: \"a b\" is not 1-64 of [A-Za-z0-9._-]", UF_E_BAD_FIELD},
        {"{\"id\": \"x\", \"version\": 1, \"timezone\": \"UTC\", \"colour\": 1}",
         "colour: unknown field", UF_E_BAD_FIELD},
        {"{\"id\": \"x\", \"version\": 1, \"timezone\": \"UTC\", \"effective\":"
         " {\"from\": \"2026-01-01\", \"to\": \"2026-12-31\"}, \"week\": {\"mon\": []}}",
         "week.tue: missing", UF_E_BAD_FIELD},
        {"[]", "expected an object, got array", UF_E_BAD_FIELD},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uf_error err;
        uf_error_clear(&err);
        uf_calendar *cal = uf_calendar_parse(rows[i].doc, strlen(rows[i].doc), &err);
        if (cal) {
            uf_calendar_free(cal);
            fail_msg("row %zu accepted", i);
        }
        if (err.code != rows[i].code || (rows[i].message && strcmp(err.msg, rows[i].message)))
            fail_msg("row %zu: %s (%s)", i, err.msg, uf_code_name(err.code));
    }
    /* a file error names the file */
    uf_error err;
    assert_null(uf_calendar_load_file("/nonexistent/cal.json", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/cal.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(worked_examples),   cmocka_unit_test(s1_edges),
        cmocka_unit_test(session_queries),   cmocka_unit_test(year_boundary_warns),
        cmocka_unit_test(working_days),      cmocka_unit_test(working_minutes),
        cmocka_unit_test(dst_calendar),      cmocka_unit_test(field_deadlines),
        cmocka_unit_test(summary),           cmocka_unit_test(no_working_time),
        cmocka_unit_test(invalid_calendars), cmocka_unit_test(invalid_overrides),
        cmocka_unit_test(invalid_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
