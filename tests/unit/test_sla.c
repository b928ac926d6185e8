/*
 * test_sla.c - SLA clocks: the fold of sla.c over synthetic histories of a small REQ template
 * with clocks like S1-S4 of workflow.md §3, on the shipped mainland-China 2026 calendar:
 * S1 met and breached around every worked example of §3.3, S2 on a negotiated date (moved by
 * a T24, a second cycle after REWORK), S3 paused while AWAITING_INFO, cancellation, a clock
 * switched off by its setting, warnings and "at risk"; then the store: events read back from
 * the audit log, sla_refresh's rows equal to a fresh computation, and the list filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/audit.h"
#include "server/schema.h"
#include "server/sla.h"

#define CAL_ID "cn-mainland-2026"

/* REQ with S1 (next session from received_at), S2 (committed_date, multi-cycle), S3 (600
 * working minutes, paused in AWAITING_INFO) and S4 (5 working days, behind a setting). */
#define TEMPLATE_FMT \
    "{\"id\": \"sla-test\", \"version\": 1, \"name\": \"SLA test\", \"calendar\": \"%s\"," \
    " \"roles\": [\"pl\"], \"settings\": {\"s4_enabled\": %s}," \
    " \"record_types\": {\"REQ\": {" \
    "  \"fields\": {\"received_at\": {\"type\": \"datetime\"}," \
    "              \"committed_date\": {\"type\": \"date\"}}," \
    "  \"states\": {\"DIRECTOR_REVIEW\": {\"category\": \"approval\"}," \
    "    \"RECEIVED\": {\"category\": \"queue\"}, \"UNASSIGNED\": {\"category\": \"queue\"}," \
    "    \"ANALYSIS\": {\"category\": \"active\"}," \
    "    \"AWAITING_INFO\": {\"category\": \"waiting\"}," \
    "    \"IN_DEV\": {\"category\": \"active\"}, \"DELIVERED\": {\"category\": \"waiting\"}," \
    "    \"CLOSED\": {\"category\": \"done\", \"terminal\": true}," \
    "    \"REWORK\": {\"category\": \"queue\"}," \
    "    \"CANCELLED\": {\"category\": \"cancelled\", \"terminal\": true}}," \
    "  \"transitions\": [" \
    "   {\"id\": \"T01\", \"from\": [], \"to\": \"DIRECTOR_REVIEW\"}," \
    "   {\"id\": \"T04\", \"from\": [\"DIRECTOR_REVIEW\"], \"to\": \"RECEIVED\"}," \
    "   {\"id\": \"T06\", \"from\": [\"RECEIVED\"], \"to\": \"RECEIVED\"}," \
    "   {\"id\": \"T07\", \"from\": [\"RECEIVED\"], \"to\": \"UNASSIGNED\"}," \
    "   {\"id\": \"T08\", \"from\": [\"UNASSIGNED\"], \"to\": \"ANALYSIS\"}," \
    "   {\"id\": \"T09\", \"from\": [\"ANALYSIS\"], \"to\": \"AWAITING_INFO\"}," \
    "   {\"id\": \"T10\", \"from\": [\"AWAITING_INFO\"], \"to\": \"ANALYSIS\"}," \
    "   {\"id\": \"T11\", \"from\": [\"ANALYSIS\"], \"to\": \"IN_DEV\"}," \
    "   {\"id\": \"T16\", \"from\": [\"IN_DEV\"], \"to\": \"DELIVERED\"}," \
    "   {\"id\": \"T17\", \"from\": [\"DELIVERED\"], \"to\": \"CLOSED\"}," \
    "   {\"id\": \"T18\", \"from\": [\"DELIVERED\"], \"to\": \"REWORK\"}," \
    "   {\"id\": \"T20\", \"from\": [\"REWORK\"], \"to\": \"IN_DEV\"}," \
    "   {\"id\": \"T23\", \"from\": [\"*\"], \"to\": \"CANCELLED\"}," \
    "   {\"id\": \"T24\", \"from\": [\"IN_DEV\"], \"to\": \"IN_DEV\"}]," \
    "  \"slas\": [" \
    "   {\"id\": \"S1\", \"name\": \"intake\"," \
    "    \"start\": {\"on_transition\": [\"T04\"], \"at_field\": \"received_at\"}," \
    "    \"stop\": {\"on_enter\": [\"UNASSIGNED\"]}, \"cancel\": {\"on_enter\": [\"CANCELLED\"]}," \
    "    \"target\": {\"kind\": \"next_session\"}, \"warn_at_pct\": [80, 50]}," \
    "   {\"id\": \"S2\", \"name\": \"committed delivery\"," \
    "    \"start\": {\"on_transition\": [\"T11\", \"T20\"]}," \
    "    \"stop\": {\"on_enter\": [\"DELIVERED\"]}," \
    "    \"cancel\": {\"on_enter\": [\"CANCELLED\"]}," \
    "    \"target\": {\"kind\": \"field_deadline\", \"field\": \"committed_date\"}," \
    "    \"warn_at_pct\": [50], \"cycles\": \"multi\"}," \
    "   {\"id\": \"S3\", \"name\": \"analysis\"," \
    "    \"start\": {\"on_enter\": [\"UNASSIGNED\"]}, \"stop\": {\"on_transition\": [\"T11\"]}," \
    "    \"pause\": {\"in_states\": [\"AWAITING_INFO\"]}," \
    "    \"cancel\": {\"on_enter\": [\"CANCELLED\"]}," \
    "    \"target\": {\"kind\": \"working_minutes\", \"value\": 600}, \"warn_at_pct\": [50]," \
    "    \"cycles\": \"multi\"}," \
    "   {\"id\": \"S4\", \"name\": \"confirmation\"," \
    "    \"start\": {\"on_enter\": [\"DELIVERED\"]}, \"stop\": {\"on_transition\": [\"T17\"]}," \
    "    \"target\": {\"kind\": \"working_days\", \"value\": 5}, \"enabled_by\": \"s4_enabled\"}" \
    "  ]}}}"

typedef struct fixture {
    sla_calendars cals;
    wf_template *t;         /* S4 off */
    wf_template *t_s4;      /* S4 on */
    const uf_calendar *cal;
    json_t *events;
} fixture;

static wf_template *make_template(const char *calendar, bool s4)
{
    char text[8192];
    snprintf(text, sizeof text, TEMPLATE_FMT, calendar, s4 ? "true" : "false");
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc)
        fail_msg("template JSON: %s (line %d)", jerr.text, jerr.line);
    uf_error err;
    wf_template *t = wf_template_from_json(doc, &err);
    json_decref(doc);
    if (!t)
        fail_msg("template: %s", err.msg);
    return t;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    uf_error err;
    if (!sla_calendars_load(&fx->cals, UF_CALENDARS_DIR, &err))
        fail_msg("%s", err.msg);
    fx->cal = sla_calendars_get(&fx->cals, CAL_ID);
    assert_non_null(fx->cal);
    fx->t = make_template(CAL_ID, false);
    fx->t_s4 = make_template(CAL_ID, true);
    fx->events = json_array();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    wf_template_free(fx->t);
    wf_template_free(fx->t_s4);
    sla_calendars_free(&fx->cals);
    json_decref(fx->events);
    free(fx);
    return 0;
}

/* Milliseconds of a Shanghai wall-clock time ("2026-03-10 10:15"). */
static int64_t ms(const fixture *fx, const char *local)
{
    int64_t t;
    uf_error err;
    if (!uf_calendar_parse_time(fx->cal, local, &t, &err))
        fail_msg("%s: %s", local, err.msg);
    return t * 1000;
}

/* Append one event: no `from` = a create, no `tr` = an edit. `changes` is JSON or NULL. */
static void add(fixture *fx, const char *tr, const char *from, const char *to,
                const char *when, const char *changes)
{
    json_t *ev = json_pack("{s:s, s:I}", "action",
                           !tr ? "record.edit" : from ? "record.transition" : "record.create",
                           "ts_ms", (json_int_t)ms(fx, when));
    if (tr) {
        json_object_set_new(ev, "transition", json_string(tr));
        json_object_set_new(ev, "from", from ? json_string(from) : json_null());
        json_object_set_new(ev, "to", json_string(to));
    }
    json_object_set_new(ev, "changes", changes ? json_loads(changes, 0, NULL) : json_object());
    assert_non_null(json_object_get(ev, "changes"));
    json_array_append_new(fx->events, ev);
}

static void reset(fixture *fx)
{
    json_array_clear(fx->events);
}

static json_t *compute_with(fixture *fx, const wf_template *t, const char *now)
{
    uf_error err;
    json_t *clocks = sla_compute(t, "REQ", fx->events, &fx->cals, ms(fx, now), &err);
    if (!clocks)
        fail_msg("sla_compute: %s", err.msg);
    return clocks;
}

static json_t *compute(fixture *fx, const char *now)
{
    return compute_with(fx, fx->t, now);
}

static bool is_sla(const json_t *clock, const char *sla)
{
    return strcmp(json_string_value(json_object_get(clock, "sla")), sla) == 0;
}

static const json_t *clock_of(const json_t *clocks, const char *sla, int cycle)
{
    size_t i;
    const json_t *c;
    json_array_foreach(clocks, i, c) {
        if (is_sla(c, sla) && json_integer_value(json_object_get(c, "cycle")) == cycle)
            return c;
    }
    fail_msg("no clock %s cycle %d", sla, cycle);
    return NULL;
}

static size_t count_of(const json_t *clocks, const char *sla)
{
    size_t i, n = 0;
    const json_t *c;
    json_array_foreach(clocks, i, c) n += is_sla(c, sla);
    return n;
}

static void assert_stage(const json_t *clock, const char *stage)
{
    assert_string_equal(json_string_value(json_object_get(clock, "stage")), stage);
}

/* clock[key + "_ms"] is the Shanghai time `local`; NULL local: the instant is null. */
static void assert_at(const fixture *fx, const json_t *clock, const char *key, const char *local)
{
    char ms_key[64];
    snprintf(ms_key, sizeof ms_key, "%s_ms", key);
    const json_t *v = json_object_get(clock, ms_key);
    if (!local) {
        assert_true(json_is_null(v));
        assert_true(json_is_null(json_object_get(clock, key)));
        return;
    }
    if (!json_is_integer(v))
        fail_msg("%s is not set, expected %s", ms_key, local);
    if (json_integer_value(v) != ms(fx, local))
        fail_msg("%s is %s, expected %s", key, json_string_value(json_object_get(clock, key)),
                 local);
}

static bool flag(const json_t *clock, const char *key)
{
    const json_t *v = json_object_get(clock, key);
    assert_true(json_is_boolean(v));
    return json_is_true(v);
}

static int64_t integer(const json_t *clock, const char *key)
{
    const json_t *v = json_object_get(clock, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* ---- S1 ------------------------------------------------------------------------------- */

/* A REQ signed off at `signoff` with received_at = `received`, recorded (T07) at `stop`. */
static json_t *s1_history(fixture *fx, const char *received, const char *signoff,
                          const char *stop, const char *now)
{
    char iso[32], changes[128];
    snprintf(iso, sizeof iso, "%s", received);
    iso[10] = 'T'; /* "YYYY-MM-DD HH:MM" -> "YYYY-MM-DDTHH:MM" */
    reset(fx);
    add(fx, "T01", NULL, "DIRECTOR_REVIEW", "2026-01-05 09:00", NULL);
    snprintf(changes, sizeof changes, "{\"received_at\": \"%s:00+08:00\"}", iso);
    add(fx, "T04", "DIRECTOR_REVIEW", "RECEIVED", signoff, changes);
    if (stop)
        add(fx, "T07", "RECEIVED", "UNASSIGNED", stop, NULL);
    return compute(fx, now);
}

static const struct {
    const char *received, *deadline, *before, *after;
} s1_examples[] = {
    {"2026-03-10 10:15", "2026-03-10 13:30", "2026-03-10 13:29", "2026-03-10 13:31"},
    {"2026-03-10 15:40", "2026-03-11 08:30", "2026-03-11 08:29", "2026-03-11 08:31"},
    {"2026-03-10 12:20", "2026-03-11 08:30", "2026-03-11 08:29", "2026-03-11 08:31"},
    {"2026-03-10 07:50", "2026-03-10 13:30", "2026-03-10 13:29", "2026-03-10 13:31"},
    {"2026-02-13 16:00", "2026-02-14 08:30", "2026-02-14 08:29", "2026-02-14 08:31"},
    {"2026-02-14 16:00", "2026-02-24 08:30", "2026-02-24 08:29", "2026-02-24 08:31"},
    {"2026-04-30 17:45", "2026-05-06 13:30", "2026-05-06 13:29", "2026-05-06 13:31"},
    {"2026-05-08 11:59", "2026-05-08 13:30", "2026-05-08 13:29", "2026-05-08 13:31"},
};

/* Every worked example of §3.3: recorded a minute before the deadline is met, a minute after
 * is breached. The sign-off event comes five minutes after the receipt: the clock starts at
 * received_at (retroactive start), not at the event. */
static void s1_worked_examples(void **state)
{
    fixture *fx = *state;
    for (size_t i = 0; i < sizeof s1_examples / sizeof s1_examples[0]; i++) {
        char signoff[32];
        int64_t t = ms(fx, s1_examples[i].received) / 1000 + 300;
        uf_calendar_format_time(fx->cal, t, signoff, sizeof signoff);
        signoff[16] = '\0';
        signoff[10] = ' ';
        json_t *clocks = s1_history(fx, s1_examples[i].received, signoff,
                                    s1_examples[i].before, "2026-12-01 09:00");
        const json_t *c = clock_of(clocks, "S1", 1);
        assert_int_equal(count_of(clocks, "S1"), 1);
        assert_stage(c, "met");
        assert_at(fx, c, "started_at", s1_examples[i].received);
        assert_at(fx, c, "deadline", s1_examples[i].deadline);
        assert_at(fx, c, "original_deadline", s1_examples[i].deadline);
        assert_at(fx, c, "stopped_at", s1_examples[i].before);
        assert_false(flag(c, "breached"));
        assert_false(flag(c, "at_risk"));
        assert_at(fx, c, "breach_at", NULL);
        json_decref(clocks);

        clocks = s1_history(fx, s1_examples[i].received, signoff, s1_examples[i].after,
                            "2026-12-01 09:00");
        c = clock_of(clocks, "S1", 1);
        assert_stage(c, "breached");
        assert_at(fx, c, "deadline", s1_examples[i].deadline);
        assert_true(flag(c, "breached"));
        json_decref(clocks);
    }
}

/* Met is inclusive at minute precision: 13:30:00 and 13:30:59 are on time, 13:31 is not. */
static void s1_minute_precision(void **state)
{
    fixture *fx = *state;
    json_t *clocks = s1_history(fx, "2026-03-10 10:15", "2026-03-10 10:20", "2026-03-10 13:30",
                                "2026-03-11 09:00");
    assert_stage(clock_of(clocks, "S1", 1), "met");
    json_decref(clocks);
    clocks = s1_history(fx, "2026-03-10 10:15", "2026-03-10 10:20", "2026-03-10 13:30:59",
                        "2026-03-11 09:00");
    assert_stage(clock_of(clocks, "S1", 1), "met");
    json_decref(clocks);
    clocks = s1_history(fx, "2026-03-10 10:15", "2026-03-10 10:20", "2026-03-10 13:31:00",
                        "2026-03-11 09:00");
    assert_stage(clock_of(clocks, "S1", 1), "breached");
    json_decref(clocks);
}

/* A running S1: warnings at 50% and 80% of the 105 working minutes from 10:15 to 13:30, "at
 * risk" from the first of them, breached from 13:31; times in UTC. */
static void s1_running_warnings(void **state)
{
    fixture *fx = *state;
    json_t *clocks = s1_history(fx, "2026-03-10 10:15", "2026-03-10 10:15", NULL,
                                "2026-03-10 11:00");
    const json_t *c = clock_of(clocks, "S1", 1);
    assert_stage(c, "running");
    assert_string_equal(json_string_value(json_object_get(c, "deadline")), "2026-03-10T05:30:00Z");
    assert_string_equal(json_string_value(json_object_get(c, "started_at")),
                        "2026-03-10T02:15:00Z");
    assert_false(flag(c, "at_risk"));
    assert_false(flag(c, "breached"));
    assert_int_equal(integer(c, "elapsed_work_min"), 45);
    assert_int_equal(integer(c, "remaining_work_min"), 60);
    const json_t *w = json_object_get(c, "warnings");
    assert_int_equal(json_array_size(w), 2);
    assert_int_equal(integer(json_array_get(w, 0), "pct"), 50); /* sorted */
    assert_at(fx, json_array_get(w, 0), "at", "2026-03-10 11:07:30");
    assert_at(fx, json_array_get(w, 1), "at", "2026-03-10 11:39");
    assert_false(flag(json_array_get(w, 0), "reached"));
    assert_at(fx, c, "at_risk_at", "2026-03-10 11:07:30");
    assert_at(fx, c, "breach_at", "2026-03-10 13:31");
    assert_int_equal(json_array_size(json_object_get(c, "calendar_warnings")), 0);
    assert_string_equal(json_string_value(json_object_get(c, "calendar")), CAL_ID);
    json_decref(clocks);

    clocks = compute(fx, "2026-03-10 11:10");
    c = clock_of(clocks, "S1", 1);
    assert_true(flag(c, "at_risk"));
    assert_false(flag(c, "breached"));
    json_decref(clocks);

    clocks = compute(fx, "2026-03-10 13:30:40"); /* still the deadline's minute */
    assert_false(flag(clock_of(clocks, "S1", 1), "breached"));
    json_decref(clocks);

    clocks = compute(fx, "2026-03-10 13:31");
    c = clock_of(clocks, "S1", 1);
    assert_stage(c, "running");
    assert_true(flag(c, "breached"));
    assert_false(flag(c, "at_risk"));
    assert_true(flag(json_array_get(json_object_get(c, "warnings"), 1), "reached"));
    json_decref(clocks);
}

/* received_at edited while S1 runs moves its start (and so its deadline); T06, a
 * self-transition, enters nothing and changes nothing. */
static void s1_follows_received_at(void **state)
{
    fixture *fx = *state;
    reset(fx);
    add(fx, "T01", NULL, "DIRECTOR_REVIEW", "2026-03-09 09:00", NULL);
    add(fx, "T04", "DIRECTOR_REVIEW", "RECEIVED", "2026-03-10 10:15",
        "{\"received_at\": \"2026-03-10T10:15:00+08:00\"}");
    add(fx, "T06", "RECEIVED", "RECEIVED", "2026-03-10 10:20", NULL);
    add(fx, NULL, NULL, NULL, "2026-03-10 10:30",
        "{\"received_at\": \"2026-03-10T13:45:00+08:00\"}");
    json_t *clocks = compute(fx, "2026-03-10 14:00");
    const json_t *c = clock_of(clocks, "S1", 1);
    assert_int_equal(count_of(clocks, "S1"), 1);
    assert_at(fx, c, "started_at", "2026-03-10 13:45");
    assert_at(fx, c, "deadline", "2026-03-11 08:30");
    json_decref(clocks);

    /* a received_at that is not a date-time: the event time, with a note */
    reset(fx);
    add(fx, "T01", NULL, "DIRECTOR_REVIEW", "2026-03-09 09:00", NULL);
    add(fx, "T04", "DIRECTOR_REVIEW", "RECEIVED", "2026-03-10 10:15",
        "{\"received_at\": \"yesterday\"}");
    clocks = compute(fx, "2026-03-10 11:00");
    c = clock_of(clocks, "S1", 1);
    assert_at(fx, c, "started_at", "2026-03-10 10:15");
    assert_int_equal(json_array_size(json_object_get(c, "notes")), 1);
    json_decref(clocks);

    /* a received_at too far from anything to walk the calendar: no deadline, a note, and
     * the computation (so the change that triggered it) does not fail */
    reset(fx);
    add(fx, "T01", NULL, "DIRECTOR_REVIEW", "2026-03-09 09:00", NULL);
    add(fx, "T04", "DIRECTOR_REVIEW", "RECEIVED", "2026-03-10 10:15",
        "{\"received_at\": \"1900-01-01T10:00:00+08:00\"}");
    clocks = compute(fx, "2026-03-10 11:00");
    c = clock_of(clocks, "S1", 1);
    assert_stage(c, "running");
    assert_at(fx, c, "deadline", NULL);
    assert_false(flag(c, "breached"));
    const char *why = json_string_value(json_array_get(json_object_get(c, "notes"), 0));
    assert_non_null(why);
    assert_non_null(strstr(why, "no deadline: "));
    json_decref(clocks);
}

/* ---- S2 ------------------------------------------------------------------------------- */

static void s2_prefix(fixture *fx, const char *committed)
{
    char changes[96];
    reset(fx);
    add(fx, "T01", NULL, "DIRECTOR_REVIEW", "2026-03-09 09:00", NULL);
    add(fx, "T04", "DIRECTOR_REVIEW", "RECEIVED", "2026-03-09 10:00",
        "{\"received_at\": \"2026-03-09T10:00:00+08:00\"}");
    add(fx, "T07", "RECEIVED", "UNASSIGNED", "2026-03-09 11:00", NULL);
    add(fx, "T08", "UNASSIGNED", "ANALYSIS", "2026-03-10 09:00", NULL);
    snprintf(changes, sizeof changes, "{\"committed_date\": \"%s\"}", committed);
    add(fx, "T11", "ANALYSIS", "IN_DEV", "2026-03-12 10:00", changes);
}

/* A date without a time is due at the end of its last working session. */
static void s2_date_only(void **state)
{
    fixture *fx = *state;
    s2_prefix(fx, "2026-03-20");
    json_t *clocks = compute(fx, "2026-03-16 09:00");
    const json_t *c = clock_of(clocks, "S2", 1);
    assert_stage(c, "running");
    assert_at(fx, c, "started_at", "2026-03-12 10:00");
    assert_at(fx, c, "deadline", "2026-03-20 17:30");
    assert_at(fx, c, "original_deadline", "2026-03-20 17:30");
    assert_false(flag(c, "at_risk"));
    json_decref(clocks);

    clocks = compute(fx, "2026-03-17 14:30"); /* half of the working time is used */
    assert_true(flag(clock_of(clocks, "S2", 1), "at_risk"));
    json_decref(clocks);

    add(fx, "T16", "IN_DEV", "DELIVERED", "2026-03-20 17:30", NULL);
    clocks = compute(fx, "2026-03-25 09:00");
    c = clock_of(clocks, "S2", 1);
    assert_stage(c, "met");
    assert_at(fx, c, "stopped_at", "2026-03-20 17:30");
    json_decref(clocks);

    s2_prefix(fx, "2026-03-20");
    add(fx, "T16", "IN_DEV", "DELIVERED", "2026-03-23 08:40", NULL);
    clocks = compute(fx, "2026-03-25 09:00");
    assert_stage(clock_of(clocks, "S2", 1), "breached");
    json_decref(clocks);

    /* a promise "by Saturday 3 October" is kept by the last working session before it */
    s2_prefix(fx, "2026-10-03");
    clocks = compute(fx, "2026-03-16 09:00");
    assert_at(fx, clock_of(clocks, "S2", 1), "deadline", "2026-09-30 17:30");
    json_decref(clocks);
}

/* T24 moves the deadline to the new committed date; original_deadline stays. */
static void s2_recommit_moves_deadline(void **state)
{
    fixture *fx = *state;
    s2_prefix(fx, "2026-03-20");
    add(fx, "T24", "IN_DEV", "IN_DEV", "2026-03-18 09:00", "{\"committed_date\": \"2026-03-27\"}");
    json_t *clocks = compute(fx, "2026-03-23 09:00");
    const json_t *c = clock_of(clocks, "S2", 1);
    assert_int_equal(count_of(clocks, "S2"), 1);
    assert_stage(c, "running");
    assert_at(fx, c, "deadline", "2026-03-27 17:30");
    assert_at(fx, c, "original_deadline", "2026-03-20 17:30");
    assert_false(flag(c, "breached"));
    json_decref(clocks);

    add(fx, "T16", "IN_DEV", "DELIVERED", "2026-03-25 15:00", NULL);
    clocks = compute(fx, "2026-04-01 09:00");
    c = clock_of(clocks, "S2", 1);
    assert_stage(c, "met"); /* on time against the latest commitment */
    assert_at(fx, c, "original_deadline", "2026-03-20 17:30");
    json_decref(clocks);

    /* after the cycle ended, a change of the field no longer moves it */
    add(fx, NULL, NULL, NULL, "2026-04-01 10:00", "{\"committed_date\": \"2026-03-24\"}");
    clocks = compute(fx, "2026-04-02 09:00");
    c = clock_of(clocks, "S2", 1);
    assert_stage(c, "met");
    assert_at(fx, c, "deadline", "2026-03-27 17:30");
    json_decref(clocks);
}

/* REWORK and a re-commit (T20) open cycle 2; cycle 1 stays met with its own deadline. */
static void s2_multi_cycle(void **state)
{
    fixture *fx = *state;
    s2_prefix(fx, "2026-03-20");
    add(fx, "T16", "IN_DEV", "DELIVERED", "2026-03-19 10:00", NULL);
    add(fx, "T18", "DELIVERED", "REWORK", "2026-03-23 09:00", NULL);
    add(fx, "T20", "REWORK", "IN_DEV", "2026-03-24 09:00", "{\"committed_date\": \"2026-03-31\"}");
    json_t *clocks = compute(fx, "2026-03-25 09:00");
    assert_int_equal(count_of(clocks, "S2"), 2);
    const json_t *c1 = clock_of(clocks, "S2", 1), *c2 = clock_of(clocks, "S2", 2);
    assert_stage(c1, "met");
    assert_at(fx, c1, "deadline", "2026-03-20 17:30");
    assert_stage(c2, "running");
    assert_at(fx, c2, "started_at", "2026-03-24 09:00");
    assert_at(fx, c2, "deadline", "2026-03-31 17:30");
    assert_at(fx, c2, "original_deadline", "2026-03-31 17:30");
    assert_int_equal(count_of(clocks, "S1"), 1); /* single-cycle clocks never restart */
    json_decref(clocks);

    add(fx, "T16", "IN_DEV", "DELIVERED", "2026-04-01 10:00", NULL);
    clocks = compute(fx, "2026-04-02 09:00");
    assert_stage(clock_of(clocks, "S2", 1), "met");
    assert_stage(clock_of(clocks, "S2", 2), "breached");
    json_decref(clocks);
}

/* ---- S3 ------------------------------------------------------------------------------- */

/* Recorded (enters UNASSIGNED, S3 starts) Tue 10 Mar 09:00; 600 working minutes end Wed
 * 11:30. Asking the customer Tue 11:00-15:00 pauses 150 working minutes (11:00-12:00 and
 * 13:30-15:00), so the deadline becomes Wed 15:30. */
static void s3_prefix(fixture *fx)
{
    reset(fx);
    add(fx, "T01", NULL, "DIRECTOR_REVIEW", "2026-03-09 09:00", NULL);
    add(fx, "T04", "DIRECTOR_REVIEW", "RECEIVED", "2026-03-10 08:40",
        "{\"received_at\": \"2026-03-10T08:40:00+08:00\"}");
    add(fx, "T07", "RECEIVED", "UNASSIGNED", "2026-03-10 09:00", NULL);
    add(fx, "T08", "UNASSIGNED", "ANALYSIS", "2026-03-10 10:00", NULL);
}

static void s3_paused_extends_deadline(void **state)
{
    fixture *fx = *state;
    s3_prefix(fx);
    json_t *clocks = compute(fx, "2026-03-10 10:30");
    const json_t *c = clock_of(clocks, "S3", 1);
    assert_stage(c, "running");
    assert_at(fx, c, "deadline", "2026-03-11 11:30");
    json_decref(clocks);

    add(fx, "T09", "ANALYSIS", "AWAITING_INFO", "2026-03-10 11:00", NULL);
    add(fx, "T10", "AWAITING_INFO", "ANALYSIS", "2026-03-10 15:00", NULL);
    add(fx, "T11", "ANALYSIS", "IN_DEV", "2026-03-11 15:00",
        "{\"committed_date\": \"2026-03-31\"}");
    clocks = compute(fx, "2026-03-12 09:00");
    c = clock_of(clocks, "S3", 1);
    assert_stage(c, "met"); /* late without the pause */
    assert_at(fx, c, "deadline", "2026-03-11 15:30");
    assert_at(fx, c, "original_deadline", "2026-03-11 11:30");
    assert_int_equal(integer(c, "paused_work_min"), 150);
    assert_int_equal(integer(c, "elapsed_work_min"), 570);
    assert_true(json_is_null(json_object_get(c, "remaining_work_min")));
    /* the 50% warning (300 working minutes) is pushed out by the pause too */
    assert_at(fx, json_array_get(json_object_get(c, "warnings"), 0), "at", "2026-03-11 09:00");
    json_decref(clocks);
}

/* While paused the deadline keeps moving, so the clock is neither at risk nor breached and
 * has no breach instant; a pause that starts after the deadline moves nothing. */
static void s3_while_paused(void **state)
{
    fixture *fx = *state;
    s3_prefix(fx);
    add(fx, "T09", "ANALYSIS", "AWAITING_INFO", "2026-03-10 11:00", NULL);
    json_t *clocks = compute(fx, "2026-03-11 16:00");
    const json_t *c = clock_of(clocks, "S3", 1);
    assert_stage(c, "paused");
    /* 120 minutes used before the pause; the other 480 from now: Thu 16:30 */
    assert_at(fx, c, "deadline", "2026-03-12 16:30");
    assert_false(flag(c, "breached"));
    assert_false(flag(c, "at_risk"));
    assert_at(fx, c, "breach_at", NULL);
    assert_at(fx, c, "at_risk_at", NULL);
    assert_int_equal(integer(c, "elapsed_work_min"), 120);
    assert_int_equal(integer(c, "remaining_work_min"), 480);
    json_decref(clocks);

    s3_prefix(fx);
    add(fx, "T09", "ANALYSIS", "AWAITING_INFO", "2026-03-12 09:00", NULL);
    clocks = compute(fx, "2026-03-12 10:00");
    c = clock_of(clocks, "S3", 1);
    assert_stage(c, "paused");
    assert_at(fx, c, "deadline", "2026-03-11 11:30");
    assert_true(flag(c, "breached"));
    assert_at(fx, c, "breach_at", "2026-03-11 11:31");
    json_decref(clocks);
}

/* ---- cancel, settings, errors --------------------------------------------------------- */

static void cancel_on_cancelled(void **state)
{
    fixture *fx = *state;
    s3_prefix(fx);
    add(fx, "T09", "ANALYSIS", "AWAITING_INFO", "2026-03-10 11:00", NULL);
    add(fx, "T23", "AWAITING_INFO", "CANCELLED", "2026-03-12 10:00", NULL);
    json_t *clocks = compute(fx, "2026-03-20 09:00");
    const json_t *c = clock_of(clocks, "S3", 1);
    assert_stage(c, "cancelled");
    assert_at(fx, c, "stopped_at", "2026-03-12 10:00");
    assert_false(flag(c, "breached"));
    assert_false(flag(c, "at_risk"));
    assert_at(fx, c, "breach_at", NULL);
    assert_stage(clock_of(clocks, "S1", 1), "met"); /* stopped before, unaffected */
    json_decref(clocks);

    /* S1 still running when the request is withdrawn */
    reset(fx);
    add(fx, "T01", NULL, "DIRECTOR_REVIEW", "2026-03-09 09:00", NULL);
    add(fx, "T04", "DIRECTOR_REVIEW", "RECEIVED", "2026-03-10 10:15",
        "{\"received_at\": \"2026-03-10T10:15:00+08:00\"}");
    add(fx, "T23", "RECEIVED", "CANCELLED", "2026-03-10 16:00", NULL);
    clocks = compute(fx, "2026-03-20 09:00");
    assert_stage(clock_of(clocks, "S1", 1), "cancelled");
    assert_false(flag(clock_of(clocks, "S1", 1), "breached"));
    json_decref(clocks);
}

/* S4 is "enabled_by": "s4_enabled": absent while the setting is false. */
static void enabled_by_setting(void **state)
{
    fixture *fx = *state;
    s2_prefix(fx, "2026-03-20");
    add(fx, "T16", "IN_DEV", "DELIVERED", "2026-03-19 10:00", NULL);
    json_t *clocks = compute(fx, "2026-03-20 09:00");
    assert_int_equal(count_of(clocks, "S4"), 0);
    json_decref(clocks);

    clocks = compute_with(fx, fx->t_s4, "2026-03-20 09:00");
    const json_t *c = clock_of(clocks, "S4", 1);
    assert_stage(c, "running");
    assert_at(fx, c, "deadline", "2026-03-26 10:00"); /* 5 working days */
    json_decref(clocks);
}

static void errors(void **state)
{
    fixture *fx = *state;
    uf_error err;
    s2_prefix(fx, "2026-03-20");
    wf_template *t = make_template("no-such-calendar", false);
    assert_null(sla_compute(t, "REQ", fx->events, &fx->cals, 0, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no-such-calendar"));
    wf_template_free(t);

    assert_null(sla_compute(fx->t, "NOPE", fx->events, &fx->cals, 0, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);

    json_object_del(json_array_get(fx->events, 2), "ts_ms");
    assert_null(sla_compute(fx->t, "REQ", fx->events, &fx->cals, 0, &err));
    assert_int_equal(err.code, UF_E_BAD_FIELD);
    assert_string_equal(err.msg, "events[2].ts_ms: missing");

    /* no events: no clocks */
    reset(fx);
    json_t *clocks = compute(fx, "2026-03-20 09:00");
    assert_int_equal(json_array_size(clocks), 0);
    json_decref(clocks);
}

static void calendar_registry(void **state)
{
    fixture *fx = *state;
    uf_error err;
    assert_null(sla_calendars_get(&fx->cals, "nope"));
    assert_int_equal(uf_calendar_version(sla_calendars_get(&fx->cals, CAL_ID)), 1);
    uf_calendar *again = uf_calendar_load_file(UF_CALENDARS_DIR "/" CAL_ID ".json", &err);
    assert_non_null(again);
    assert_false(sla_calendars_add(&fx->cals, again, &err)); /* freed by add */
    assert_int_equal(err.code, UF_E_CONFLICT);
    sla_calendars none;
    assert_false(sla_calendars_load(&none, UF_CALENDARS_DIR "/missing", &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_int_equal(none.n, 0);
}

/* ---- the store ------------------------------------------------------------------------ */

static db *open_store(void)
{
    uf_error err;
    db *d = db_open_sqlite(":memory:", &err);
    if (!d || !schema_migrate(d, NULL, &err))
        fail_msg("%s", err.msg);
    return d;
}

static void exec_ok(db *d, const char *sql)
{
    uf_error err;
    if (!db_exec(d, sql, DB_NO_ARGS, &err))
        fail_msg("%s: %s", sql, err.msg);
}

/* The events of the fixture as audit rows of record 1 (their times become "now"). */
static void append_audit(db *d, const json_t *events)
{
    size_t i;
    const json_t *ev;
    json_array_foreach(events, i, ev) {
        json_t *detail = json_pack("{s:O, s:I}", "changes", json_object_get(ev, "changes"),
                                   "revision", (json_int_t)(i + 1));
        const char *action = json_string_value(json_object_get(ev, "action"));
        if (strcmp(action, "record.edit") != 0) {
            json_object_set(detail, "transition", json_object_get(ev, "transition"));
            json_object_set(detail, "from", json_object_get(ev, "from"));
            json_object_set(detail, "to", json_object_get(ev, "to"));
        }
        audit_entry e = {.actor = "pl", .action = action, .object_kind = "record",
                         .object_id = "1", .template_version = 1, .detail = detail};
        uf_error err;
        if (!audit_append(d, &e, NULL, &err))
            fail_msg("%s", err.msg);
        json_decref(detail);
    }
    audit_entry other = {.actor = "pl", .action = "login", .object_kind = "user",
                         .object_id = "1"};
    uf_error err;
    assert_true(audit_append(d, &other, NULL, &err));
}

static bool same_ms(db_stmt *st, int col, const json_t *clock, const char *key)
{
    const json_t *v = json_object_get(clock, key);
    if (db_col_is_null(st, col))
        return json_is_null(v);
    return json_is_integer(v) && json_integer_value(v) == db_col_int(st, col);
}

/* Stored rows match a fresh computation from the same audit log, column by column. */
static void assert_rows_match(db *d, const json_t *clocks)
{
    uf_error err;
    db_stmt *st = db_query(d,
                           "SELECT sla_id, cycle, stage, started_at_ms, deadline_ms,"
                           " original_deadline_ms, stopped_at_ms, breach_at_ms, at_risk_at_ms"
                           " FROM sla_clocks WHERE record_id = 1 ORDER BY position",
                           DB_NO_ARGS, &err);
    assert_non_null(st);
    size_t n = 0;
    static const char *const keys[] = {"started_at_ms", "deadline_ms", "original_deadline_ms",
                                       "stopped_at_ms", "breach_at_ms", "at_risk_at_ms"};
    while (db_step(st, &err) == 1) {
        const json_t *c = json_array_get(clocks, n++);
        assert_non_null(c);
        assert_string_equal(db_col_text(st, 0), json_string_value(json_object_get(c, "sla")));
        assert_int_equal(db_col_int(st, 1), integer(c, "cycle"));
        assert_string_equal(db_col_text(st, 2), json_string_value(json_object_get(c, "stage")));
        for (int k = 0; k < 6; k++)
            if (!same_ms(st, 3 + k, c, keys[k]))
                fail_msg("%s cycle %lld: column %s differs", db_col_text(st, 0),
                         (long long)db_col_int(st, 1), keys[k]);
    }
    db_finalize(st);
    assert_int_equal(n, json_array_size(clocks));
}

static int64_t count_filtered(db *d, const char *which, int64_t now_ms)
{
    int64_t n;
    uf_error err;
    if (!db_query_int(d, "SELECT COUNT(*) FROM records WHERE " SLA_FILTER_SQL("$1", "$2"),
                      DB_ARGS(db_text(which), db_int(now_ms)), &n, NULL, &err))
        fail_msg("%s", err.msg);
    return n;
}

static void refresh_matches_compute(void **state)
{
    fixture *fx = *state;
    db *d = open_store();
    exec_ok(d, "INSERT INTO templates (id, version, sha256, body, published_at)"
               " VALUES ('sla-test', 1, '', '{}', 0)");
    exec_ok(d, "INSERT INTO records (id, template_id, template_version, record_type, state,"
               " revision, fields, created_by, created_at, updated_at)"
               " VALUES (1, 'sla-test', 1, 'REQ', 'AWAITING_INFO', 1, '{}', 'pl', 0, 0)");
    /* S1 and S3 attach, S3 ends paused, S2 never starts */
    s3_prefix(fx);
    add(fx, NULL, NULL, NULL, "2026-03-10 09:30", "{\"committed_date\": \"2026-03-31\"}");
    add(fx, "T09", "ANALYSIS", "AWAITING_INFO", "2026-03-10 11:00", NULL);
    append_audit(d, fx->events);

    uf_error err;
    json_t *events;
    assert_true(sla_events_from_audit(d, 1, &events, &err));
    assert_int_equal(json_array_size(events), json_array_size(fx->events));
    const json_t *first = json_array_get(events, 0);
    assert_string_equal(json_string_value(json_object_get(first, "action")), "record.create");
    assert_true(json_is_null(json_object_get(first, "from")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 4), "action")),
                        "record.edit");

    int64_t now = integer(json_array_get(events, 5), "ts_ms") + 3600 * 1000;
    assert_true(sla_refresh_at(d, fx->t, "REQ", 1, &fx->cals, now, &err));
    json_t *clocks = sla_compute(fx->t, "REQ", events, &fx->cals, now, &err);
    assert_non_null(clocks);
    assert_int_equal(json_array_size(clocks), 2);
    assert_rows_match(d, clocks);
    assert_stage(clock_of(clocks, "S3", 1), "paused");

    /* read back: the same clocks */
    json_t *stored = sla_stored(d, 1, now, &err);
    assert_non_null(stored);
    for (size_t i = 0; i < json_array_size(stored); i++)
        json_object_del(json_array_get(stored, i), "computed_at_ms");
    assert_true(json_equal(stored, clocks));
    json_decref(stored);

    /* a second refresh replaces the rows rather than adding to them */
    assert_true(sla_refresh_at(d, fx->t, "REQ", 1, &fx->cals, now, &err));
    assert_rows_match(d, clocks);

    /* S1 stopped late (T07's audit time is today, received_at in March), S3 is paused */
    assert_stage(clock_of(clocks, "S1", 1), "breached");
    assert_int_equal(count_filtered(d, "breached", now), 1);
    assert_int_equal(count_filtered(d, "overdue", now), 0);
    assert_int_equal(count_filtered(d, "at_risk", now), 0);
    assert_int_equal(count_filtered(d, NULL, now), 1);
    json_decref(clocks);
    json_decref(events);
    db_close(d);
}

/* The list filter against stored rows of a running S1 as time passes. */
static void list_filter(void **state)
{
    fixture *fx = *state;
    db *d = open_store();
    exec_ok(d, "INSERT INTO templates (id, version, sha256, body, published_at)"
               " VALUES ('sla-test', 1, '', '{}', 0)");
    exec_ok(d, "INSERT INTO records (id, template_id, template_version, record_type, state,"
               " revision, fields, created_by, created_at, updated_at)"
               " VALUES (1, 'sla-test', 1, 'REQ', 'RECEIVED', 1, '{}', 'pl', 0, 0)");
    /* received_at in the future of the audit rows' real time: S1 runs from it */
    reset(fx);
    add(fx, "T01", NULL, "DIRECTOR_REVIEW", "2026-03-09 09:00", NULL);
    add(fx, "T04", "DIRECTOR_REVIEW", "RECEIVED", "2026-03-10 10:15",
        "{\"received_at\": \"2030-03-12T10:15:00+08:00\"}");
    append_audit(d, fx->events);
    uf_error err;
    int64_t before = ms(fx, "2030-03-12 10:20");
    assert_true(sla_refresh_at(d, fx->t, "REQ", 1, &fx->cals, before, &err));

    assert_int_equal(count_filtered(d, "at_risk", before), 0);
    assert_int_equal(count_filtered(d, "breached", before), 0);
    assert_int_equal(count_filtered(d, "at_risk", ms(fx, "2030-03-12 11:10")), 1);
    assert_int_equal(count_filtered(d, "overdue", ms(fx, "2030-03-12 11:10")), 0);
    assert_int_equal(count_filtered(d, "at_risk", ms(fx, "2030-03-12 13:31")), 0);
    assert_int_equal(count_filtered(d, "breached", ms(fx, "2030-03-12 13:31")), 1);
    assert_int_equal(count_filtered(d, "overdue", ms(fx, "2030-03-12 13:31")), 1);

    /* the stored clock re-evaluates its flags at read time; 2030 is outside the calendar */
    json_t *stored = sla_stored(d, 1, ms(fx, "2030-03-12 13:31"), &err);
    const json_t *c = clock_of(stored, "S1", 1);
    assert_true(flag(c, "breached"));
    assert_int_equal(json_array_size(json_object_get(c, "calendar_warnings")), 1);
    json_decref(stored);

    assert_true(sla_filter_valid("at_risk"));
    assert_true(sla_filter_valid("breached"));
    assert_true(sla_filter_valid("overdue"));
    assert_false(sla_filter_valid("late"));
    assert_false(sla_filter_valid(NULL));
    db_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(s1_worked_examples),
        cmocka_unit_test(s1_minute_precision),
        cmocka_unit_test(s1_running_warnings),
        cmocka_unit_test(s1_follows_received_at),
        cmocka_unit_test(s2_date_only),
        cmocka_unit_test(s2_recommit_moves_deadline),
        cmocka_unit_test(s2_multi_cycle),
        cmocka_unit_test(s3_paused_extends_deadline),
        cmocka_unit_test(s3_while_paused),
        cmocka_unit_test(cancel_on_cancelled),
        cmocka_unit_test(enabled_by_setting),
        cmocka_unit_test(errors),
        cmocka_unit_test(calendar_registry),
        cmocka_unit_test(refresh_matches_compute),
        cmocka_unit_test(list_filter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
