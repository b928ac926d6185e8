/*
 * sla_store.c - SLA clocks and the store (see sla.h): the record's events read back from the
 * audit log, and the sla_clocks cache that sla_refresh rewrites after every change so that
 * record lists can filter on "at risk" and "breached" with plain SQL.
 *
 * A stored row keeps the instants a list needs to decide without recomputing: breach_at_ms
 * (an open clock is breached from then on) and at_risk_at_ms (its first warning). Both are
 * NULL for clocks that have ended and for clocks whose deadline a pause is still pushing
 * out, so a time-independent row stays right as time passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "server/sla.h"

/* Audit details are written by upflowd itself; a record's fields may be large. */
#define SLA_DETAIL_MAX_BYTES (16u * 1024 * 1024)

static json_t *parse_detail(const char *text, int64_t seq, uf_error *err)
{
    uf_json_limits limits = uf_json_default_limits();
    limits.max_bytes = SLA_DETAIL_MAX_BYTES;
    json_t *detail = uf_json_parse(text, strlen(text), &limits, err);
    if (!detail)
        uf_error_prefix(err, "audit record %lld", (long long)seq);
    else if (!json_is_object(detail)) {
        json_decref(detail);
        detail = NULL;
        uf_error_set(err, UF_E_BAD_FIELD, "audit record %lld: detail is not an object",
                     (long long)seq);
    }
    return detail;
}

/* {"action", "ts_ms", "transition", "from", "to", "changes"} from one audit row. */
static json_t *event_from_row(db_stmt *st, uf_error *err)
{
    json_t *detail = parse_detail(db_col_text(st, 3), db_col_int(st, 0), err);
    if (!detail)
        return NULL;
    json_t *ev = json_pack("{s:s, s:I}", "action", db_col_text(st, 2), "ts_ms",
                           (json_int_t)db_col_int(st, 1));
    static const char *const keys[] = {"transition", "from", "to", NULL};
    for (size_t i = 0; keys[i]; i++) {
        json_t *v = json_object_get(detail, keys[i]);
        if (v)
            json_object_set(ev, keys[i], v);
    }
    json_t *changes = json_object_get(detail, "changes");
    json_object_set_new(ev, "changes", json_is_object(changes) ? json_incref(changes)
                                                                : json_object());
    json_decref(detail);
    return ev;
}

bool sla_events_from_audit(db *d, int64_t record_id, json_t **events, uf_error *err)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)record_id);
    *events = NULL;
    db_stmt *st = db_query(d,
                           "SELECT seq, ts_ms, action, detail FROM audit"
                           " WHERE object_kind = 'record' AND object_id = $1 AND action IN"
                           " ('record.create', 'record.transition', 'record.edit')"
                           " ORDER BY seq",
                           DB_ARGS(db_text(id)), err);
    if (!st)
        return uf_error_prefix(err, "read the history of record %s", id);
    json_t *list = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        json_t *ev = event_from_row(st, err);
        if (!ev) {
            rc = -1;
            break;
        }
        json_array_append_new(list, ev);
    }
    db_finalize(st);
    if (rc != 0) {
        json_decref(list);
        return uf_error_prefix(err, "read the history of record %s", id);
    }
    *events = list;
    return true;
}

static db_value ms_arg(const json_t *clock, const char *key)
{
    const json_t *v = json_object_get(clock, key);
    return json_is_integer(v) ? db_int(json_integer_value(v)) : db_null();
}

static bool store_clock(db *d, int64_t record_id, const json_t *clock, size_t position,
                        int64_t now_ms, uf_error *err)
{
    char *detail = json_dumps(clock, JSON_COMPACT);
    if (!detail)
        return uf_error_set(err, UF_E_NOMEM, "serialise an SLA clock");
    bool ok = db_exec(
        d,
        "INSERT INTO sla_clocks (record_id, sla_id, cycle, position, stage, started_at_ms,"
        " deadline_ms, original_deadline_ms, stopped_at_ms, breach_at_ms, at_risk_at_ms,"
        " computed_at_ms, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        DB_ARGS(db_int(record_id), db_text(json_string_value(json_object_get(clock, "sla"))),
                db_int(json_integer_value(json_object_get(clock, "cycle"))),
                db_int((int64_t)position),
                db_text(json_string_value(json_object_get(clock, "stage"))),
                ms_arg(clock, "started_at_ms"), ms_arg(clock, "deadline_ms"),
                ms_arg(clock, "original_deadline_ms"), ms_arg(clock, "stopped_at_ms"),
                ms_arg(clock, "breach_at_ms"), ms_arg(clock, "at_risk_at_ms"), db_int(now_ms),
                db_text(detail)),
        err);
    free(detail);
    return ok;
}

bool sla_refresh_at(db *d, const wf_template *t, const char *record_type, int64_t record_id,
                    const sla_calendars *cals, int64_t now_ms, uf_error *err)
{
    json_t *events = NULL, *clocks = NULL;
    bool ok = sla_events_from_audit(d, record_id, &events, err) &&
              (clocks = sla_compute(t, record_type, events, cals, now_ms, err)) != NULL &&
              db_exec(d, "DELETE FROM sla_clocks WHERE record_id = $1",
                      DB_ARGS(db_int(record_id)), err);
    for (size_t i = 0; ok && i < json_array_size(clocks); i++)
        ok = store_clock(d, record_id, json_array_get(clocks, i), i, now_ms, err);
    json_decref(events);
    json_decref(clocks);
    return ok ? true : uf_error_prefix(err, "SLA clocks of record %lld", (long long)record_id);
}

bool sla_refresh(db *d, const wf_template *t, const char *record_type, int64_t record_id,
                 const sla_calendars *cals, uf_error *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return sla_refresh_at(d, t, record_type, record_id, cals, now_ms, err);
}

/* The stored clock with "breached" / "at_risk" as of now_ms (columns: detail, stage,
 * breach_at_ms, at_risk_at_ms, computed_at_ms). */
static json_t *stored_clock(db_stmt *st, int64_t now_ms, uf_error *err)
{
    const char *text = db_col_text(st, 0);
    json_t *clock = uf_json_parse(text, strlen(text), NULL, err);
    if (!json_is_object(clock)) {
        json_decref(clock);
        uf_error_set(err, UF_E_BAD_FIELD, "a stored SLA clock is not a JSON object");
        return NULL;
    }
    bool breached = strcmp(db_col_text(st, 1), "breached") == 0 ||
                    (!db_col_is_null(st, 2) && now_ms >= db_col_int(st, 2));
    bool at_risk = !breached && !db_col_is_null(st, 3) && now_ms >= db_col_int(st, 3);
    json_object_set_new(clock, "breached", json_boolean(breached));
    json_object_set_new(clock, "at_risk", json_boolean(at_risk));
    json_object_set_new(clock, "computed_at_ms", json_integer(db_col_int(st, 4)));
    return clock;
}

json_t *sla_stored(db *d, int64_t record_id, int64_t now_ms, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT detail, stage, breach_at_ms, at_risk_at_ms, computed_at_ms"
                           " FROM sla_clocks WHERE record_id = $1 ORDER BY position",
                           DB_ARGS(db_int(record_id)), err);
    if (!st) {
        uf_error_prefix(err, "read the SLA clocks of record %lld", (long long)record_id);
        return NULL;
    }
    json_t *list = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        json_t *clock = stored_clock(st, now_ms, err);
        if (!clock) {
            rc = -1;
            break;
        }
        json_array_append_new(list, clock);
    }
    db_finalize(st);
    if (rc != 0) {
        json_decref(list);
        uf_error_prefix(err, "read the SLA clocks of record %lld", (long long)record_id);
        return NULL;
    }
    return list;
}

bool sla_filter_valid(const char *which)
{
    return which && (strcmp(which, "at_risk") == 0 || strcmp(which, "breached") == 0 ||
                     strcmp(which, "overdue") == 0);
}
