/*
 * sla_events.c - SLA warnings and breaches as events (see sla_events_emit_due in sla.h).
 *
 * The sla_clocks cache already holds, for every open clock, the instants from which it is at
 * risk and breached, so finding what is due is one indexed query. What was emitted is kept in
 * sla_events, keyed by (record, SLA, cycle, kind, pct): the insert of that row decides, inside
 * the event's own transaction, whether this pass is the one that emits it, so a second pass
 * (or a second server) never emits it again. A clock recomputed later (a pause, a moved
 * committed date) keeps the events it already emitted.
 */
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "server/audit.h"
#include "server/notify.h"
#include "server/sla.h"

/* At most this many clocks are looked at per pass; the rest wait for the next one. */
#define SLA_EVENTS_BATCH 200

/* The highest warning of a stored clock reached by now_ms, as {"pct", "at_ms"}; NULL when
 * none is. */
static json_t *reached_warning(const char *detail_text, int64_t now_ms)
{
    json_t *clock = uf_json_parse(detail_text, strlen(detail_text), NULL, NULL);
    json_t *best = NULL;
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(clock, "warnings"), i, w) {
        json_t *at = json_object_get(w, "at_ms"), *pct = json_object_get(w, "pct");
        if (!json_is_integer(at) || !json_is_integer(pct) || json_integer_value(at) > now_ms)
            continue;
        if (best && json_integer_value(pct) <= json_integer_value(json_object_get(best, "pct")))
            continue;
        json_decref(best);
        best = json_pack("{s:O, s:O}", "pct", pct, "at_ms", at);
    }
    json_decref(clock);
    return best;
}

static bool already_emitted(db *d, const json_t *ev, bool *done, uf_error *err)
{
    int64_t n = 0;
    bool ok = db_query_int(
        d,
        "SELECT COUNT(*) FROM sla_events WHERE record_id = $1 AND sla_id = $2 AND cycle = $3"
        " AND kind = $4 AND pct = $5",
        DB_ARGS(db_int(json_integer_value(json_object_get(ev, "record_id"))),
                db_text(json_string_value(json_object_get(ev, "sla"))),
                db_int(json_integer_value(json_object_get(ev, "cycle"))),
                db_text(json_string_value(json_object_get(ev, "kind"))),
                db_int(json_integer_value(json_object_get(ev, "pct")))),
        &n, NULL, err);
    *done = n > 0;
    return ok;
}

/* The events due now, oldest record first: [{"record_id", "sla", "name", "cycle", "kind",
 * "pct", "at_ms", "deadline_ms"}]. Read-only. */
static json_t *due_events(db *d, int64_t now_ms, uf_error *err)
{
    db_stmt *st = db_query(
        d,
        "SELECT c.record_id, c.sla_id, c.cycle, c.stage, c.breach_at_ms, c.deadline_ms,"
        " c.stopped_at_ms, c.detail FROM sla_clocks c"
        " WHERE ((c.breach_at_ms <= $1 OR c.stage = 'breached') AND NOT EXISTS ("
        "   SELECT 1 FROM sla_events e WHERE e.record_id = c.record_id AND e.sla_id = c.sla_id"
        "   AND e.cycle = c.cycle AND e.kind = 'breach'))"
        " OR (c.at_risk_at_ms <= $1 AND c.breach_at_ms > $1)"
        " ORDER BY c.record_id, c.position LIMIT $2",
        DB_ARGS(db_int(now_ms), db_int(SLA_EVENTS_BATCH)), err);
    if (!st)
        return NULL;
    json_t *list = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        bool breached = strcmp(db_col_text(st, 3), "breached") == 0 ||
                        (!db_col_is_null(st, 4) && db_col_int(st, 4) <= now_ms);
        json_t *clock = uf_json_parse(db_col_text(st, 7), strlen(db_col_text(st, 7)), NULL, NULL);
        const char *name = json_string_value(json_object_get(clock, "name"));
        json_t *ev = json_pack("{s:I, s:s, s:s?, s:I, s:o}", "record_id",
                               (json_int_t)db_col_int(st, 0), "sla", db_col_text(st, 1), "name",
                               name, "cycle", (json_int_t)db_col_int(st, 2), "deadline_ms",
                               db_col_is_null(st, 5) ? json_null() : json_integer(db_col_int(st, 5)));
        json_decref(clock);
        if (!ev)
            continue;
        if (breached) {
            int64_t at = !db_col_is_null(st, 4)   ? db_col_int(st, 4)
                         : !db_col_is_null(st, 5) ? db_col_int(st, 5)
                                                  : db_col_int(st, 6);
            json_object_set_new(ev, "kind", json_string("breach"));
            json_object_set_new(ev, "pct", json_integer(100));
            json_object_set_new(ev, "at_ms", json_integer(at));
        } else {
            json_t *w = reached_warning(db_col_text(st, 7), now_ms);
            if (!w) {
                json_decref(ev);
                continue;
            }
            json_object_set_new(ev, "kind", json_string("warning"));
            json_object_update(ev, w);
            json_decref(w);
        }
        json_array_append_new(list, ev);
    }
    db_finalize(st);
    if (rc < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* One event in one transaction: claim it in sla_events, audit it, notify. *emitted false when
 * another pass claimed it first. */
static bool emit(db *d, const struct wf_registry *reg, json_t *ev, bool *emitted, uf_error *err)
{
    int64_t record_id = json_integer_value(json_object_get(ev, "record_id"));
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    const char *sla = json_string_value(json_object_get(ev, "sla"));
    bool breach = strcmp(kind, "breach") == 0;
    *emitted = false;
    if (!db_begin(d, err))
        return false;
    int64_t claimed = 0;
    bool ok = db_exec_changes(
        d,
        "INSERT INTO sla_events (record_id, sla_id, cycle, kind, pct, at_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        DB_ARGS(db_int(record_id), db_text(sla),
                db_int(json_integer_value(json_object_get(ev, "cycle"))), db_text(kind),
                db_int(json_integer_value(json_object_get(ev, "pct"))),
                db_int(json_integer_value(json_object_get(ev, "at_ms")))),
        &claimed, err);
    if (!ok || claimed == 0) {
        db_rollback(d);
        return ok;
    }
    wf_record r;
    if (!record_load(d, record_id, &r, err)) {
        db_rollback(d);
        return false;
    }
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)record_id);
    json_t *detail = json_deep_copy(ev);
    json_object_del(detail, "record_id");
    json_object_del(detail, "kind");
    audit_entry e = {.actor = "system", .action = breach ? "sla.breach" : "sla.warning",
                     .object_kind = "record", .object_id = idtext,
                     .template_version = r.template_version, .detail = detail};
    ok = audit_append(d, &e, NULL, err) &&
         notify_event(d, reg, &r, breach ? NOTIFY_SLA_BREACH : NOTIFY_SLA_WARNING, sla, "system",
                      detail, err) &&
         db_commit(d, err);
    json_decref(detail);
    record_clear(&r);
    if (!ok) {
        db_rollback(d);
        return uf_error_prefix(err, "SLA %s %s of record %lld", sla, kind, (long long)record_id);
    }
    *emitted = true;
    return true;
}

bool sla_events_emit_due(db *d, const struct wf_registry *reg, int64_t now_ms, int *emitted,
                         uf_error *err)
{
    if (emitted)
        *emitted = 0;
    json_t *due = due_events(d, now_ms, err);
    if (!due)
        return uf_error_prefix(err, "find due SLA events");
    bool ok = true;
    size_t i;
    json_t *ev;
    json_array_foreach(due, i, ev) {
        bool done = false, fired = false;
        if (!already_emitted(d, ev, &done, err) || (!done && !emit(d, reg, ev, &fired, err))) {
            ok = false;
            break;
        }
        if (emitted)
            *emitted += fired;
    }
    json_decref(due);
    return ok;
}
