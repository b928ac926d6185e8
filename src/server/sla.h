/*
 * sla.h - SLA clocks (workflow.md §3 and §6.6): a pure fold over a record's history.
 *
 * A clock is never stored as the truth. sla_compute replays a record's events (its
 * record.create / record.transition / record.edit audit rows, oldest first) against the SLA
 * definitions of its record type, on the template's working calendar, and answers every cycle
 * of every clock with its stage and deadline. The sla_clocks table is a cache of that answer,
 * rewritten by sla_refresh in the transaction of each change, so that record lists can filter
 * on "at risk" and "breached" in SQL. Recomputing from the audit log gives the same answer.
 *
 * Instants are whole seconds (event times are truncated from ms); every instant is answered
 * twice: "deadline": "2026-03-10T05:30:00Z" (ISO 8601, UTC) and "deadline_ms": 1773120600000
 * (null both when unknown). Durations are whole working minutes, truncated.
 */
#ifndef UPFLOW_SERVER_SLA_H
#define UPFLOW_SERVER_SLA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/calendar.h"
#include "lib/error.h"
#include "server/db.h"
#include "server/template.h"

/* At most this many warn_at_pct entries per SLA. */
#define SLA_MAX_WARNINGS 8

/* ---- calendar registry ---------------------------------------------------------------- */

/* The working calendars by id. Built once at start, then immutable and shared read-only by
 * every thread. Several versions of one id may be loaded; lookups answer the highest. */
typedef struct sla_calendars {
    uf_calendar **items;
    size_t n;
} sla_calendars;

/* Load every *.json of dir (in name order). Errors name the file and the JSON path; the same
 * id and version twice is refused. On failure *cals is left empty. */
bool sla_calendars_load(sla_calendars *cals, const char *dir, uf_error *err);
/* Add one calendar (ownership passes to cals, also on failure). Only while building. */
bool sla_calendars_add(sla_calendars *cals, uf_calendar *cal, uf_error *err);
/* The highest version of calendar `id`, or NULL. */
const uf_calendar *sla_calendars_get(const sla_calendars *cals, const char *id);
void sla_calendars_free(sla_calendars *cals);

/* ---- the fold ------------------------------------------------------------------------- */

/*
 * The clocks of one record. `events` is a JSON array, oldest first, of
 *     {"action": "record.create" | "record.transition" | "record.edit",
 *      "transition": ID, "from": STATE | null, "to": STATE, "changes": {FIELD: VALUE},
 *      "ts_ms": INTEGER}
 * (sla_events_from_audit builds it; other actions are skipped). now_ms decides what is
 * running late. The answer is an array, in the order of the record type's "slas" and then by
 * cycle, of
 *     {"sla", "name", "cycle", "stage": "running" | "paused" | "met" | "breached" |
 *      "cancelled", "target": {...}, "started_at", "effective_start", "deadline",
 *      "original_deadline", "stopped_at", "breach_at", "at_risk_at" (each + "_ms"),
 *      "elapsed_work_min", "paused_work_min", "remaining_work_min" (open clocks, else null),
 *      "breached": bool, "at_risk": bool,
 *      "warnings": [{"pct", "at", "at_ms", "reached"}],
 *      "calendar": ID, "calendar_version": N, "calendar_warnings": [TEXT], "notes": [TEXT]}
 * SLAs whose "enabled_by" setting is not true are left out. Fails (NULL) on malformed events,
 * a missing record type or calendar, or a calendar with no working time; the message names
 * the SLA and cycle. The semantics are in sla.c's header comment.
 */
json_t *sla_compute(const wf_template *t, const char *record_type, const json_t *events,
                    const sla_calendars *cals, int64_t now_ms, uf_error *err);

/* ---- the store ------------------------------------------------------------------------ */

/* The record's events from the audit log, in the form sla_compute reads (caller frees). */
bool sla_events_from_audit(db *d, int64_t record_id, json_t **events, uf_error *err);

/* Recompute the record's clocks from the audit log and replace its rows in sla_clocks.
 * Call inside the write transaction of every change to the record (after its audit row). */
bool sla_refresh(db *d, const wf_template *t, const char *record_type, int64_t record_id,
                 const sla_calendars *cals, uf_error *err);
/* The same as of now_ms (tests; replays). */
bool sla_refresh_at(db *d, const wf_template *t, const char *record_type, int64_t record_id,
                    const sla_calendars *cals, int64_t now_ms, uf_error *err);

/* ---- events ---------------------------------------------------------------------------- */

struct wf_registry;

/* Emit the SLA events that are due as of now_ms: a warning when an open clock reaches a
 * warn_at_pct instant (only the highest one reached, so a clock that jumped past several does
 * not repeat itself), a breach when it passes its deadline or ended after it. Each is
 * emitted once per (record, SLA, cycle, kind, pct), recorded in sla_events, in one
 * transaction with its audit record ("sla.warning" / "sla.breach", actor "system") and its
 * notifications (notify.h). *emitted (may be NULL) counts them. Runs its own transactions. */
bool sla_events_emit_due(db *d, const struct wf_registry *reg, int64_t now_ms, int *emitted,
                         uf_error *err);

/* The stored clocks of a record (as sla_compute answered them at the last refresh), with
 * "breached" and "at_risk" re-evaluated at now_ms from the stored instants. Caller frees. */
json_t *sla_stored(db *d, int64_t record_id, int64_t now_ms, uf_error *err);

/*
 * Record-list filter, ?sla=at_risk | breached | overdue:
 *   at_risk  - an open clock past its first warning and not yet breached;
 *   overdue  - an open clock past its deadline (breached and still running);
 *   breached - overdue, or a clock that stopped after its deadline.
 * SLA_FILTER_SQL("$7", "$8") is a condition on records.id for a query where $7 is bound to the
 * filter name (or NULL for no filter) and $8 to the current time in ms:
 *     "SELECT id FROM records WHERE ... AND " SLA_FILTER_SQL("$7", "$8")
 */
#define SLA_FILTER_SQL(which, now_ms)                                                         \
    "(" which " IS NULL OR id IN (SELECT record_id FROM sla_clocks WHERE"                    \
    " (" which " = 'breached' AND (stage = 'breached' OR breach_at_ms <= " now_ms "))"       \
    " OR (" which " = 'overdue' AND breach_at_ms <= " now_ms ")"                             \
    " OR (" which " = 'at_risk' AND at_risk_at_ms <= " now_ms " AND breach_at_ms > " now_ms  \
    ")))"
/* Is `which` a filter name SLA_FILTER_SQL knows? */
bool sla_filter_valid(const char *which);

#endif
