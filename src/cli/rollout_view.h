/*
 * rollout_view.h - rollouts as a release manager reads them in a terminal: a table of
 * rollouts, one rollout as a page (release, state and why, which devices, how, when, the
 * thresholds, and a table of device counts per phase and state), and a rollout's devices.
 */
#ifndef UPFLOW_CLI_ROLLOUT_VIEW_H
#define UPFLOW_CLI_ROLLOUT_VIEW_H

#include <jansson.h>

/* {items: [rollout]} from GET /api/v1/rollouts. */
void uf_view_rollouts(const json_t *body, const void *unused);
/* One rollout (GET /api/v1/rollouts/ID, or the answer to a command). */
void uf_view_rollout(const json_t *rollout, const void *unused);
/* {items: [device action]} from GET /api/v1/rollouts/ID/devices; `rollout` (a const json_t *,
 * may be NULL) names the phases. */
void uf_view_rollout_devices(const json_t *body, const void *rollout);
/* "rollout ID: STATE" and ": reason" when there is one, on a line of its own. */
void uf_view_rollout_state(const json_t *rollout);

#endif
