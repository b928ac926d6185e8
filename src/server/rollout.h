/*
 * rollout.h - phased rollouts of a release over devices, with thresholds, maintenance
 * windows, cancel, rollback rollouts, priorities, and the approval gate (rollout_gate.c).
 *
 * A rollout names a release (its image index target, whose SHA-256 is bound at creation), a
 * device set (a filter, a static group, or the devices a rollout updated, for a rollback),
 * phases (cumulative percentages or sub-filters), a success threshold that opens the next
 * phase, an error threshold that pauses or aborts, how it starts (manual, auto, scheduled),
 * the action type (forced, soft: the device may defer, download_only) and an optional
 * maintenance window (window.h). Starting it assigns an action per device of the first
 * phase; devices see their action when they poll, report each step, and every report
 * re-evaluates the rollout in the same transaction.
 *
 * States: created -> running -> finished | paused (error threshold, stale approval, or an
 * operator) -> running ... ; canceled (devices that have not started drop their action) ;
 * aborted (error threshold with on_error = abort).
 */
#ifndef UPFLOW_SERVER_ROLLOUT_H
#define UPFLOW_SERVER_ROLLOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/db.h"
#include "server/device.h"
#include "server/director.h"
#include "server/workflow.h"

typedef struct rollout_env {
    const wf_registry *reg; /* change records: the gate, delivery and rework */
    const char *data_dir;   /* the director key */
} rollout_env;

/* Create from an API body (every field checked, errors naming it); starts it at once when
 * start is "auto". Caller holds a write transaction. */
bool rollout_create(db *d, const rollout_env *env, const json_t *spec, const char *actor,
                    int64_t now, int64_t *id, uf_error *err);
/* "start", "pause", "resume", "cancel". Refusals: UF_E_CONFLICT (wrong state), UF_E_GUARD
 * (the approval gate, message naming each change and why). */
bool rollout_command(db *d, const rollout_env *env, int64_t id, const char *command,
                     const char *actor, int64_t now, uf_error *err);
/* A new rollout taking the devices this one updated back to the product's previous release
 * (the highest version below this one); started at once. */
bool rollout_rollback(db *d, const rollout_env *env, int64_t id, const char *actor,
                      int64_t now, int64_t *new_id, uf_error *err);
/* The rollout with counts per state, per phase and in all. */
json_t *rollout_json(db *d, int64_t id, uf_error *err);
/* Scheduled starts that came due; re-evaluation of running rollouts. */
bool rollout_tick(db *d, const rollout_env *env, int64_t now, unsigned *changed, uf_error *err);

/* --- the device side --------------------------------------------------------------- */

/* The action a device should act on now, as the poll answer's "action" (json null when
 * none): the open action of the highest-priority rollout. dir (may be NULL) receives what
 * the director signs for it. */
json_t *rollout_poll(db *d, const device_identity *dev, int64_t now, director_target *dir,
                     char *strbuf, size_t strbuf_len, uf_error *err);
/* A device's report on one of its actions. UF_E_NOT_FOUND when the action is not this
 * device's; UF_E_CONFLICT when it was closed (except rolled_back after failure). */
bool rollout_report(db *d, const rollout_env *env, const device_identity *dev, int64_t action,
                    const json_t *report, int64_t now, uf_error *err);

#endif
