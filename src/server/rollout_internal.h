/*
 * rollout_internal.h - what rollout.c (the state machine) and rollout_gate.c (the approval
 * gate, delivery and rework of change records) share. Not for other modules.
 */
#ifndef UPFLOW_SERVER_ROLLOUT_INTERNAL_H
#define UPFLOW_SERVER_ROLLOUT_INTERNAL_H

#include "server/rollout.h"

/* The transition that delivers a change (its from-states are the gate), the feedback record
 * that sends it back, and the rework transitions tried on the change. */
#define ROLLOUT_DELIVER "T16"
#define ROLLOUT_FEEDBACK_TYPE "FB"
#define ROLLOUT_FEEDBACK_CREATE "F1"
#define ROLLOUT_REWORK_A "T18"
#define ROLLOUT_REWORK_B "T19"

/* Link change records at creation: each must exist, be in a gate state, and not be bound to
 * another image (a rollout of a release with another index SHA-256). */
bool rollout_gate_link(db *d, const rollout_env *env, int64_t rollout, const json_t *changes,
                       const char *release_sha256, uf_error *err);
/* Every linked change is still approved (in a gate state, or delivered by this rollout) and
 * the release's signed index is still the one approved. UF_E_GUARD naming each failure. */
bool rollout_gate_check(db *d, const rollout_env *env, int64_t rollout, uf_error *err);
/* Fire the deliver transition on linked changes not yet delivered (workflow.md A6: the
 * campaign started for the customer's devices). */
bool rollout_gate_deliver(db *d, const rollout_env *env, int64_t rollout, int64_t now,
                          uf_error *err);
/* Send the delivered changes to rework: a feedback record linked to each, with the failure
 * summary, and the rework transition. */
bool rollout_gate_rework(db *d, const rollout_env *env, int64_t rollout, const char *summary,
                         int64_t now, uf_error *err);

/* The current SHA-256 of a release's index in the tenant's signed targets ("" if absent). */
bool rollout_release_sha(db *d, const char *tenant, const char *release, char out[65],
                         uf_error *err);

#endif
