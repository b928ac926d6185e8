/*
 * sla.c - the SLA fold (see sla.h): replays a record's events against the SLA definitions of
 * its record type and answers every cycle of every clock. Pure: no store, no clock reads.
 *
 * Per event, the event's "changes" are applied to the fields and the state becomes "to";
 * then each SLA, in template order, follows workflow.md §6.6:
 *   1. no open cycle: attach one if "start" matches and neither "stop" nor "cancel" does (so
 *      a definition whose start implies its stop never attaches), and the SLA is "multi" or
 *      has had no cycle yet. It starts paused if the state is in pause.in_states.
 *   2. an open cycle: complete it if "stop" matches; else cancel it if "cancel" matches; else
 *      pause it while the state is in pause.in_states and resume it when it no longer is.
 *   A start that matches while a cycle is open is ignored: one ongoing cycle per SLA, as Jira
 *   keeps "completed cycles plus one ongoing cycle".
 *
 * Matching: "on_enter" matches an event that moves the record into one of the states (a
 * create does; a self-transition such as T24 IN_DEV -> IN_DEV enters nothing), "on_transition"
 * the transition's id, "in_states" the state after the event; any one is enough. Pauses read
 * only pause.in_states.
 *
 * Instants: a cycle starts at start.at_field's value when that field is set (retroactive
 * start: received_at may be back-dated), else at the event; while the cycle is open a change
 * of that field moves the start. It stops at stop.at_field's value when set (T16's
 * delivered_at), else at the event. Met means stop <= deadline at minute precision (§3.2).
 *
 * Targets and pauses (the deadline of an open cycle is computed as of now):
 *   next_session    start of the session after the start's session (the S1 rule, §3.2);
 *   working_minutes the start plus N working minutes;
 *   working_days    the start plus N working days (session arithmetic, docs/calendars.md);
 *   field_deadline  the field's current value (a date: the end of that date's last working
 *                   session); it follows the field while the cycle is open, so a T24 change
 *                   moves it, and freezes when the cycle ends; original_deadline is the first
 *                   value the cycle saw.
 * Only the two duration targets count paused time: a pause that begins before the deadline
 * pushes it out by the working time the pause lasts (so a paused clock cannot breach); one
 * that begins after it changes nothing. A negotiated date and a session boundary are dates,
 * not durations, and pausing does not move them (§3.4): such a clock can breach while paused.
 * original_deadline of a duration target is the deadline without pauses.
 */
#include "server/sla_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/json.h"
#include "lib/tz.h"

typedef struct sla_track {
    sla_def def;
    sla_cycle *cycles;
    size_t n;
} sla_track;

typedef struct sla_event {
    const char *transition; /* NULL for an edit */
    const char *entered;    /* the state moved into, NULL if none */
    const char *state;      /* the state after the event */
    int64_t at;             /* seconds */
} sla_event;

typedef struct sla_fold {
    const wf_template *t;
    const uf_calendar *cal;
    json_t *fields;
    const char *state; /* borrowed from the events */
    sla_track *tracks;
    size_t n_tracks;
} sla_fold;

/* ---- small helpers -------------------------------------------------------------------- */

void sla_note(json_t *notes, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_array_append_new(notes, json_string(text));
}

static bool list_has(const json_t *list, const char *name)
{
    size_t i;
    const json_t *e;
    if (!name)
        return false;
    json_array_foreach(list, i, e) if (json_is_string(e) && strcmp(json_string_value(e), name) == 0)
        return true;
    return false;
}

static bool matches(const sla_match *m, const sla_event *e)
{
    return list_has(m->on_enter, e->entered) || list_has(m->on_transition, e->transition) ||
           list_has(m->in_states, e->state);
}

static bool paused_in(const sla_def *d, const char *state)
{
    return list_has(d->pause.in_states, state);
}

static bool replace_text(char **slot, const char *text, uf_error *err)
{
    char *copy = text ? strdup(text) : NULL;
    if (text && !copy)
        return uf_error_set(err, UF_E_NOMEM, "copy a field value");
    free(*slot);
    *slot = copy;
    return true;
}

/* A field's value as text; NULL when it is empty or not a string. */
static const char *field_text(const sla_fold *f, const char *name)
{
    const char *s = name ? json_string_value(json_object_get(f->fields, name)) : NULL;
    return s && *s ? s : NULL;
}

/* ---- reading the definitions ---------------------------------------------------------- */

static void read_match(const json_t *def, const char *key, sla_match *m)
{
    const json_t *o = json_object_get(def, key);
    m->on_enter = json_object_get(o, "on_enter");
    m->on_transition = json_object_get(o, "on_transition");
    m->in_states = json_object_get(o, "in_states");
    m->at_field = json_string_value(json_object_get(o, "at_field"));
}

static bool read_target(const json_t *def, const char *path, sla_def *d, uf_error *err)
{
    const json_t *target = json_object_get(def, "target");
    const char *kind = json_string_value(json_object_get(target, "kind"));
    static const char *const names[] = {"next_session", "working_minutes", "working_days",
                                        "field_deadline"};
    for (size_t i = 0; kind && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(kind, names[i]) != 0)
            continue;
        d->kind = (target_kind)i;
        d->value = json_integer_value(json_object_get(target, "value"));
        d->field = json_string_value(json_object_get(target, "field"));
        if ((d->kind == TARGET_WORKING_MINUTES || d->kind == TARGET_WORKING_DAYS) &&
            (d->value < 1 || d->value > 1000000))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.target.value: expected 1..1000000",
                                path);
        if (d->kind == TARGET_FIELD_DEADLINE && !d->field)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.target.field: missing", path);
        return true;
    }
    return uf_error_set(err, UF_E_BAD_FIELD, "%s.target.kind: unknown target \"%s\"", path,
                        kind ? kind : "(none)");
}

/* warn_at_pct: integers 1..100, kept ascending (the first is the "at risk" point). */
static bool read_warnings(const json_t *def, const char *path, sla_def *d, uf_error *err)
{
    const json_t *list = json_object_get(def, "warn_at_pct");
    size_t i;
    const json_t *e;
    if (json_array_size(list) > SLA_MAX_WARNINGS)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s.warn_at_pct: at most %d entries", path,
                            SLA_MAX_WARNINGS);
    json_array_foreach(list, i, e) {
        json_int_t pct = json_integer_value(e);
        if (!json_is_integer(e) || pct < 1 || pct > 100)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.warn_at_pct[%zu]: expected 1..100",
                                path, i);
        size_t k = d->n_warn++;
        for (; k > 0 && d->warn_pct[k - 1] > (int)pct; k--)
            d->warn_pct[k] = d->warn_pct[k - 1];
        d->warn_pct[k] = (int)pct;
    }
    return true;
}

static bool read_def(const json_t *json, const char *path, sla_def *d, uf_error *err)
{
    memset(d, 0, sizeof *d);
    d->json = json;
    d->id = json_string_value(json_object_get(json, "id"));
    d->name = json_string_value(json_object_get(json, "name"));
    if (!d->id)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s.id: missing", path);
    if (!d->name)
        d->name = d->id;
    const char *cycles = json_string_value(json_object_get(json, "cycles"));
    d->multi = cycles && strcmp(cycles, "multi") == 0;
    read_match(json, "start", &d->start);
    read_match(json, "stop", &d->stop);
    read_match(json, "pause", &d->pause);
    read_match(json, "cancel", &d->cancel);
    return read_target(json, path, d, err) && read_warnings(json, path, d, err);
}

/* The enabled SLAs of the record type ("enabled_by" names a settings switch that must be
 * true), and the template's calendar if there is any SLA to compute. */
static bool fold_init(sla_fold *f, const wf_template *t, const char *type,
                      const sla_calendars *cals, uf_error *err)
{
    const json_t *slas = json_object_get(wf_record_type(t, type), "slas");
    f->t = t;
    f->tracks = calloc(json_array_size(slas) + 1, sizeof *f->tracks);
    f->fields = json_object();
    if (!f->tracks || !f->fields)
        return uf_error_set(err, UF_E_NOMEM, "allocate SLA clocks");
    size_t i;
    const json_t *e;
    json_array_foreach(slas, i, e) {
        const char *enabled_by = json_string_value(json_object_get(e, "enabled_by"));
        if (enabled_by && !wf_setting(t, enabled_by))
            continue;
        char path[160];
        snprintf(path, sizeof path, "record_types.%s.slas[%zu]", type, i);
        if (!read_def(e, path, &f->tracks[f->n_tracks].def, err))
            return false;
        f->n_tracks++;
    }
    if (f->n_tracks == 0)
        return true;
    const char *cal_id = json_string_value(json_object_get(t->doc, "calendar"));
    if (!cal_id)
        return uf_error_set(err, UF_E_BAD_FIELD,
                            "template %s: record type %s has SLA clocks but the template names "
                            "no \"calendar\"", t->id, type);
    f->cal = sla_calendars_get(cals, cal_id);
    if (!f->cal)
        return uf_error_set(err, UF_E_NOT_FOUND,
                            "template %s: calendar \"%s\" is not loaded (calendars/%s.json)",
                            t->id, cal_id, cal_id);
    return true;
}

static void cycle_free(sla_cycle *c)
{
    free(c->pauses);
    free(c->start_text);
    free(c->deadline_text);
    free(c->original_text);
    json_decref(c->notes);
}

static void fold_free(sla_fold *f)
{
    for (size_t i = 0; i < f->n_tracks; i++) {
        for (size_t k = 0; k < f->tracks[i].n; k++)
            cycle_free(&f->tracks[i].cycles[k]);
        free(f->tracks[i].cycles);
    }
    free(f->tracks);
    json_decref(f->fields);
}

/* ---- the fold ------------------------------------------------------------------------- */

static bool cycle_pause(sla_cycle *c, int64_t at, uf_error *err)
{
    sla_pause *grown = realloc(c->pauses, (c->n_pauses + 1) * sizeof *grown);
    if (!grown)
        return uf_error_set(err, UF_E_NOMEM, "record a pause");
    c->pauses = grown;
    c->pauses[c->n_pauses++] = (sla_pause){at, at};
    c->paused = true;
    return true;
}

static void cycle_resume(sla_cycle *c, int64_t at)
{
    c->pauses[c->n_pauses - 1].to = at;
    c->paused = false;
}

static void cycle_close(sla_cycle *c, cycle_end how, int64_t at, int64_t event_at)
{
    if (c->paused)
        cycle_resume(c, event_at);
    c->end = how;
    c->ended = at;
}

/* The instant a field names, or `fallback` when it is empty. A value that is not a
 * date-time is noted on the cycle and ignored. */
static int64_t instant_of(const sla_fold *f, const char *field, int64_t fallback, json_t *notes)
{
    const char *text = field_text(f, field);
    int64_t t;
    uf_error e;
    if (!text)
        return fallback;
    if (uf_calendar_parse_time(f->cal, text, &t, &e))
        return t;
    sla_note(notes, "%s \"%s\" is not a date-time (%s): the event time is used", field, text,
         e.msg);
    return fallback;
}

/* While a cycle is open it follows its fields: the retroactive start field and the
 * negotiated-date field. */
static bool cycle_follow_fields(const sla_fold *f, const sla_def *d, sla_cycle *c,
                                uf_error *err)
{
    const char *start = field_text(f, d->start.at_field);
    if (start && !sla_same_text(start, c->start_text)) {
        c->started = instant_of(f, d->start.at_field, c->started, c->notes);
        if (!replace_text(&c->start_text, start, err))
            return false;
    }
    if (d->kind != TARGET_FIELD_DEADLINE)
        return true;
    const char *due = field_text(f, d->field);
    if (!sla_same_text(due, c->deadline_text) && !replace_text(&c->deadline_text, due, err))
        return false;
    return c->original_text || !due || replace_text(&c->original_text, due, err);
}

static bool track_attach(const sla_fold *f, sla_track *t, const sla_event *e, uf_error *err)
{
    sla_cycle *grown = realloc(t->cycles, (t->n + 1) * sizeof *grown);
    if (!grown)
        return uf_error_set(err, UF_E_NOMEM, "attach a cycle");
    t->cycles = grown;
    sla_cycle *c = &t->cycles[t->n++];
    memset(c, 0, sizeof *c);
    c->end = CYCLE_OPEN;
    c->started = e->at;
    c->notes = json_array();
    if (!c->notes)
        return uf_error_set(err, UF_E_NOMEM, "attach a cycle");
    if (!cycle_follow_fields(f, &t->def, c, err))
        return false;
    return !paused_in(&t->def, e->state) || cycle_pause(c, e->at, err);
}

static bool track_step(const sla_fold *f, sla_track *t, const sla_event *e, uf_error *err)
{
    const sla_def *d = &t->def;
    sla_cycle *open = t->n && t->cycles[t->n - 1].end == CYCLE_OPEN ? &t->cycles[t->n - 1]
                                                                     : NULL;
    bool stop = matches(&d->stop, e), cancel = matches(&d->cancel, e);
    if (!open)
        return !(matches(&d->start, e) && !stop && !cancel && (d->multi || t->n == 0)) ||
               track_attach(f, t, e, err);
    /* the event's own changes count: a T16 that sets delivered_at and stops S2 */
    if (!cycle_follow_fields(f, d, open, err))
        return false;
    if (stop) {
        cycle_close(open, CYCLE_STOPPED, instant_of(f, d->stop.at_field, e->at, open->notes),
                    e->at);
        return true;
    }
    if (cancel) {
        cycle_close(open, CYCLE_CANCELLED, e->at, e->at);
        return true;
    }
    bool pause = paused_in(d, e->state);
    if (pause && !open->paused)
        return cycle_pause(open, e->at, err);
    if (!pause && open->paused)
        cycle_resume(open, e->at);
    return true;
}

static void apply_changes(sla_fold *f, json_t *changes)
{
    const char *name;
    json_t *value;
    json_object_foreach(changes, name, value) {
        if (json_is_null(value))
            json_object_del(f->fields, name);
        else
            json_object_set(f->fields, name, value);
    }
}

/* One event: its changes, its state, then every SLA. Unknown actions are skipped. */
static bool fold_event(sla_fold *f, const json_t *ev, size_t index, uf_error *err)
{
    char path[48];
    snprintf(path, sizeof path, "events[%zu]", index);
    const char *action, *tr = NULL, *from = NULL, *to = NULL;
    int64_t ts_ms;
    json_t *changes = NULL;
    if (!json_is_object(ev))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object, got %s", path,
                            uf_json_type_name(ev));
    if (!uf_json_get_string(ev, path, "action", &action, err) ||
        !uf_json_get_int(ev, path, "ts_ms", &ts_ms, err))
        return false;
    bool edit = strcmp(action, "record.edit") == 0;
    if (!edit && strcmp(action, "record.create") != 0 && strcmp(action, "record.transition") != 0)
        return true;
    if (!uf_json_opt_string(ev, path, "transition", &tr, err) ||
        !uf_json_opt_string(ev, path, "from", &from, err) ||
        !uf_json_opt_object(ev, path, "changes", &changes, err) ||
        (!edit && !uf_json_get_string(ev, path, "to", &to, err)))
        return false;
    apply_changes(f, changes);
    sla_event e = {.transition = edit ? NULL : tr, .at = uf_floor_div(ts_ms, 1000)};
    if (to) {
        e.entered = !from || strcmp(from, to) != 0 ? to : NULL;
        f->state = to;
    }
    e.state = f->state;
    for (size_t i = 0; i < f->n_tracks; i++)
        if (!track_step(f, &f->tracks[i], &e, err))
            return uf_error_prefix(err, "%s: SLA %s", path, f->tracks[i].def.id);
    return true;
}

static json_t *fold_answer(const sla_fold *f, int64_t now, uf_error *err)
{
    json_t *out = json_array();
    for (size_t i = 0; i < f->n_tracks; i++) {
        for (size_t k = 0; k < f->tracks[i].n; k++) {
            const sla_track *t = &f->tracks[i];
            json_t *clock = sla_clock_json(f->cal, &t->def, &t->cycles[k], k + 1, now, err);
            if (!clock) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, clock);
        }
    }
    return out;
}

json_t *sla_compute(const wf_template *t, const char *record_type, const json_t *events,
                    const sla_calendars *cals, int64_t now_ms, uf_error *err)
{
    if (!wf_record_type(t, record_type)) {
        uf_error_set(err, UF_E_NOT_FOUND, "template %s has no record type %s", t->id,
                     record_type);
        return NULL;
    }
    if (!json_is_array(events)) {
        uf_error_set(err, UF_E_BAD_FIELD, "events: expected array, got %s",
                     uf_json_type_name(events));
        return NULL;
    }
    sla_fold f;
    memset(&f, 0, sizeof f);
    json_t *answer = NULL;
    bool ok = fold_init(&f, t, record_type, cals, err);
    for (size_t i = 0; ok && f.n_tracks && i < json_array_size(events); i++)
        ok = fold_event(&f, json_array_get(events, i), i, err);
    if (ok)
        answer = fold_answer(&f, uf_floor_div(now_ms, 1000), err);
    fold_free(&f);
    return answer;
}
