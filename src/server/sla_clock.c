/*
 * sla_clock.c - from what the fold learnt about one cycle (its start, its end, its pauses, its
 * deadline field) to the clock sla_compute answers: deadline, stage, warnings, "at risk" and
 * "breached", on the working calendar. The rules are in sla.c's header comment; the reasoning
 * of the pause arithmetic is at extend_by_pauses.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/tz.h"
#include "server/sla_internal.h"

/* ---- deriving the clocks -------------------------------------------------------------- */

/* Everything derived about one cycle, in seconds. */
typedef struct clock_view {
    const sla_def *def;
    const sla_cycle *c;
    const uf_calendar *cal;
    uf_cal_warnings *w;
    int64_t now, until;          /* until: the stop, or now; never before the start */
    sla_pause *pauses;           /* clipped to [started, until], open one ends at until */
    size_t n_pauses;
    int64_t eff_start, base, deadline, original;
    bool has_deadline, has_original, live;
    int64_t paused_sec, elapsed_sec;
    int64_t remaining_sec;       /* open clocks with a deadline: working time left */
    bool has_remaining;
    int64_t warn_at[SLA_MAX_WARNINGS];
} clock_view;

static bool moves_with_pauses(target_kind k)
{
    return k == TARGET_WORKING_MINUTES || k == TARGET_WORKING_DAYS;
}

static bool work_between(const clock_view *v, int64_t a, int64_t b, int64_t *out, uf_error *err)
{
    return uf_calendar_working_seconds_between(v->cal, a, b, out, v->w, err);
}

/* From effective_receipt(t), consume secs of working time; running out exactly at a session
 * end answers that end (as uf_calendar_add_working_minutes, to the second). */
static bool add_working_seconds(const clock_view *v, int64_t t, int64_t secs, int64_t *out,
                                uf_error *err)
{
    int64_t cur, rest = secs % 60;
    if (!uf_calendar_add_working_minutes(v->cal, t, secs / 60, &cur, v->w, err))
        return false;
    while (rest > 0) {
        uf_cal_span s;
        if (!uf_calendar_effective_receipt(v->cal, cur, &cur, v->w, err))
            return false;
        if (!uf_calendar_session_at(v->cal, cur, &s, v->w))
            return uf_error_set(err, UF_E_INTERNAL, "no session at an effective receipt");
        int64_t step = rest < s.end - cur ? rest : s.end - cur;
        cur += step;
        rest -= step;
    }
    *out = cur;
    return true;
}

/* A duration target counts only unpaused working time. Each pause that begins before the
 * deadline (as already pushed out by the pauses before it) pushes it out by the working time
 * the pause lasted; a pause that begins at or after it changes nothing, because the clock
 * had used up its time before it paused. The same walk places the warning points. */
static bool extend_by_pauses(const clock_view *v, int64_t *t, uf_error *err)
{
    for (size_t i = 0; i < v->n_pauses && v->pauses[i].from < *t; i++) {
        int64_t secs;
        if (!work_between(v, v->pauses[i].from, v->pauses[i].to, &secs, err))
            return false;
        if (secs > 0 && !add_working_seconds(v, *t, secs, t, err))
            return false;
    }
    return true;
}

static bool clip_pauses(clock_view *v, uf_error *err)
{
    const sla_cycle *c = v->c;
    v->pauses = calloc(c->n_pauses + 1, sizeof *v->pauses);
    if (!v->pauses)
        return uf_error_set(err, UF_E_NOMEM, "clip pauses");
    v->paused_sec = 0;
    for (size_t i = 0; i < c->n_pauses; i++) {
        bool open = c->paused && i + 1 == c->n_pauses;
        int64_t from = c->pauses[i].from > c->started ? c->pauses[i].from : c->started;
        int64_t to = open || c->pauses[i].to > v->until ? v->until : c->pauses[i].to;
        int64_t secs;
        if (to <= from)
            continue;
        if (!work_between(v, from, to, &secs, err))
            return false;
        v->pauses[v->n_pauses++] = (sla_pause){from, to};
        v->paused_sec += secs;
    }
    return true;
}

/* The field deadline of a text, or none (noted) when the text is not a date or date-time. */
static bool field_deadline(clock_view *v, const char *text, int64_t *out, json_t *notes)
{
    uf_error e;
    if (!text)
        return false;
    if (uf_calendar_field_deadline(v->cal, text, out, v->w, &e))
        return true;
    sla_note(notes, "%s \"%s\" gives no deadline: %s", v->def->field, text, e.msg);
    return false;
}

static bool compute_deadline(clock_view *v, json_t *notes, uf_error *err)
{
    const sla_def *d = v->def;
    const sla_cycle *c = v->c;
    v->has_deadline = v->has_original = true;
    switch (d->kind) {
    case TARGET_NEXT_SESSION:
        if (!uf_calendar_s1_deadline(v->cal, c->started, &v->base, v->w, err))
            return false;
        break;
    case TARGET_WORKING_MINUTES:
        if (!uf_calendar_add_working_minutes(v->cal, c->started, d->value, &v->base, v->w, err))
            return false;
        break;
    case TARGET_WORKING_DAYS:
        if (!uf_calendar_add_working_days(v->cal, c->started, (unsigned)d->value, &v->base,
                                          v->w, err))
            return false;
        break;
    case TARGET_FIELD_DEADLINE:
        v->has_deadline = field_deadline(v, c->deadline_text, &v->base, notes);
        v->deadline = v->original = v->base;
        v->has_original = v->has_deadline;
        if (!sla_same_text(c->original_text, c->deadline_text))
            v->has_original = field_deadline(v, c->original_text, &v->original, notes);
        return true;
    }
    v->deadline = v->original = v->base;
    return !moves_with_pauses(d->kind) || extend_by_pauses(v, &v->deadline, err);
}

/* Warning points at pct% of the working time from the start to the deadline (a duration
 * target: of its duration, pushed out by pauses like the deadline). */
static bool compute_warnings(clock_view *v, uf_error *err)
{
    int64_t total = 0;
    if (!v->has_deadline)
        return true;
    if (v->def->kind == TARGET_WORKING_MINUTES)
        total = v->def->value * 60;
    else if (!work_between(v, v->c->started, v->base, &total, err))
        return false;
    if (total < 0)
        total = 0;
    for (size_t i = 0; i < v->def->n_warn; i++) {
        int64_t *at = &v->warn_at[i];
        if (!add_working_seconds(v, v->c->started, total * v->def->warn_pct[i] / 100, at, err) ||
            (moves_with_pauses(v->def->kind) && !extend_by_pauses(v, at, err)))
            return false;
    }
    return true;
}

static int64_t minute_of(int64_t t)
{
    return uf_floor_div(t, 60);
}

static const char *stage_of(const clock_view *v)
{
    const sla_cycle *c = v->c;
    if (c->end == CYCLE_CANCELLED)
        return "cancelled";
    if (c->end == CYCLE_STOPPED)
        return !v->has_deadline || minute_of(c->ended) <= minute_of(v->deadline) ? "met"
                                                                                  : "breached";
    return c->paused ? "paused" : "running";
}

/* An open clock is "live" when its deadline is not being pushed out by the current pause:
 * only a live clock can become at risk or breached as time passes. */
static void compute_live(clock_view *v)
{
    const sla_cycle *c = v->c;
    v->live = c->end == CYCLE_OPEN && v->has_deadline &&
              (!c->paused || !moves_with_pauses(v->def->kind) ||
               (v->n_pauses && v->pauses[v->n_pauses - 1].from >= v->deadline));
}

static bool view_init(clock_view *v, const uf_calendar *cal, const sla_def *d, const sla_cycle *c,
                      int64_t now, uf_cal_warnings *w, json_t *notes, uf_error *err)
{
    memset(v, 0, sizeof *v);
    v->def = d;
    v->c = c;
    v->cal = cal;
    v->w = w;
    v->now = now;
    v->until = c->end == CYCLE_OPEN ? now : c->ended;
    if (v->until < c->started)
        v->until = c->started;
    int64_t worked;
    if (!clip_pauses(v, err) ||
        !uf_calendar_effective_receipt(v->cal, c->started, &v->eff_start, w, err) ||
        !work_between(v, c->started, v->until, &worked, err) ||
        !compute_deadline(v, notes, err) || !compute_warnings(v, err))
        return false;
    v->elapsed_sec = worked > v->paused_sec ? worked - v->paused_sec : 0;
    v->has_remaining = c->end == CYCLE_OPEN && v->has_deadline;
    if (v->has_remaining && !work_between(v, v->until, v->deadline, &v->remaining_sec, err))
        return false;
    compute_live(v);
    return true;
}

/* ---- the answer ----------------------------------------------------------------------- */

static void format_utc(int64_t t, char out[32])
{
    int64_t day = uf_floor_div(t, 86400), sod = t - day * 86400, year;
    int month, mday;
    uf_civil_from_days(day, &year, &month, &mday);
    snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)year, month, mday,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
}

/* "key": ISO 8601 UTC and "key_ms": milliseconds, or null for both. */
static void set_instant(json_t *o, const char *key, bool known, int64_t t)
{
    char ms_key[64], text[32];
    snprintf(ms_key, sizeof ms_key, "%s_ms", key);
    if (!known) {
        json_object_set_new(o, key, json_null());
        json_object_set_new(o, ms_key, json_null());
        return;
    }
    format_utc(t, text);
    json_object_set_new(o, key, json_string(text));
    json_object_set_new(o, ms_key, json_integer((json_int_t)(t * 1000)));
}

static json_t *warnings_json(const clock_view *v)
{
    json_t *list = json_array();
    int64_t reached_by = v->c->end == CYCLE_OPEN ? v->now : v->c->ended;
    for (size_t i = 0; v->has_deadline && i < v->def->n_warn; i++) {
        json_t *w = json_pack("{s:i, s:b}", "pct", v->def->warn_pct[i], "reached",
                              v->warn_at[i] <= reached_by);
        set_instant(w, "at", true, v->warn_at[i]);
        json_array_append_new(list, w);
    }
    return list;
}

static void set_flags(json_t *o, const clock_view *v, const char *stage)
{
    int64_t breach_at = (minute_of(v->deadline) + 1) * 60; /* late from the next minute on */
    bool breached = strcmp(stage, "breached") == 0 || (v->live && v->now >= breach_at);
    bool risky = v->live && v->def->n_warn > 0;
    set_instant(o, "breach_at", v->live, breach_at);
    set_instant(o, "at_risk_at", risky, v->warn_at[0]);
    json_object_set_new(o, "breached", json_boolean(breached));
    json_object_set_new(o, "at_risk", json_boolean(risky && !breached && v->now >= v->warn_at[0]));
}

static json_t *calendar_warnings_json(const uf_cal_warnings *w)
{
    json_t *list = json_array();
    if (w->outside_range)
        json_array_append_new(list, json_string(w->msg));
    return list;
}

/* A clock whose calendar arithmetic fails (a field far outside any calendar, such as a
 * received_at in 1900: more than UF_CAL_MAX_SPAN_DAYS of walking) is still answered, without
 * a deadline and with the reason in its notes: a user's typo must not make every later
 * change of the record fail. Running out of memory does fail. */
static bool view_or_degrade(clock_view *v, const uf_calendar *cal, const sla_def *d,
                            const sla_cycle *c, int64_t now, uf_cal_warnings *w, uf_error *err)
{
    uf_error local;
    uf_error_clear(&local);
    if (view_init(v, cal, d, c, now, w, c->notes, &local))
        return true;
    if (local.code == UF_E_NOMEM)
        return uf_error_set(err, local.code, "%s", local.msg);
    sla_note(c->notes, "no deadline: %s", local.msg);
    v->has_deadline = v->has_original = v->live = v->has_remaining = false;
    v->eff_start = c->started;
    v->elapsed_sec = v->paused_sec = 0;
    return true;
}

json_t *sla_clock_json(const uf_calendar *cal, const sla_def *d, const sla_cycle *c,
                       size_t cycle, int64_t now, uf_error *err)
{
    uf_cal_warnings w;
    uf_cal_warnings_clear(&w);
    clock_view v;
    if (!view_or_degrade(&v, cal, d, c, now, &w, err)) {
        free(v.pauses);
        uf_error_prefix(err, "SLA %s cycle %zu", d->id, cycle);
        return NULL;
    }
    const char *stage = stage_of(&v);
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:O}", "sla", d->id, "name", d->name, "cycle",
                          (json_int_t)cycle, "stage", stage, "target",
                          json_object_get(d->json, "target"));
    set_instant(o, "started_at", true, c->started);
    set_instant(o, "effective_start", true, v.eff_start);
    set_instant(o, "deadline", v.has_deadline, v.deadline);
    set_instant(o, "original_deadline", v.has_original, v.original);
    set_instant(o, "stopped_at", c->end != CYCLE_OPEN, c->ended);
    json_object_set_new(o, "elapsed_work_min", json_integer(v.elapsed_sec / 60));
    json_object_set_new(o, "paused_work_min", json_integer(v.paused_sec / 60));
    json_object_set_new(o, "remaining_work_min",
                        v.has_remaining ? json_integer(v.remaining_sec / 60) : json_null());
    set_flags(o, &v, stage);
    json_object_set_new(o, "warnings", warnings_json(&v));
    json_object_set_new(o, "calendar", json_string(uf_calendar_id(cal)));
    json_object_set_new(o, "calendar_version", json_integer(uf_calendar_version(cal)));
    json_object_set_new(o, "calendar_warnings", calendar_warnings_json(&w));
    json_object_set(o, "notes", c->notes);
    free(v.pauses);
    return o;
}
