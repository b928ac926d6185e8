/*
 * ddi.h - the model behind Eclipse hawkBit's device API (DDI) in upflowd: what a DDI device
 * sees of its actions, the artifacts of a release, hawkBit's feedback vocabulary turned into
 * upflow's steps, and the attributes a device sends with configData. HTTP lives in
 * api_ddi.c; the specification is shared/reference/hawkbit-ddi.md.
 *
 * A DDI device is an ordinary device (same registry, rollouts, thresholds, audit): its
 * actions come from rollout_poll, its feedback goes through rollout_report. A software module
 * is a rollout (its id is the rollout's id); its artifacts are the release's targets.
 */
#ifndef UPFLOW_SERVER_DDI_H
#define UPFLOW_SERVER_DDI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/db.h"
#include "server/device.h"

typedef struct ddi_action {
    int64_t id, rollout;
    char tenant[64], release[256], version[64], type[16], state[32];
    bool open;
    bool window_open; /* ddi_current_action only */
    bool cancel;      /* ddi_current_action only: the device should drop it */
} ddi_action;

/* The action the device should act on now (the one rollout_poll gives); *found is false when
 * there is none. */
bool ddi_current_action(db *d, const device_identity *dev, int64_t now, ddi_action *a,
                        bool *found, uf_error *err);
/* One of the device's actions by id; UF_E_NOT_FOUND when it is not this device's. */
bool ddi_action_get(db *d, const device_identity *dev, int64_t id, ddi_action *a,
                    uf_error *err);
/* The device's last closed, successful action (0 when none): hawkBit's installedBase. */
bool ddi_last_installed(db *d, const device_identity *dev, int64_t *id, uf_error *err);
/* Does the device have an action in this rollout (may it download its artifacts)? */
bool ddi_rollout_action(db *d, const device_identity *dev, int64_t rollout, ddi_action *a,
                        bool *found, uf_error *err);

/* The device behind a gateway token: found by name, or registered now (without a token of
 * its own; audited as device.register). Caller holds a write transaction. */
bool ddi_register(db *d, const char *tenant, const char *name, device_identity *dev,
                  uf_error *err);

/* What a device downloads for a release: {"product", "notes", "files": [{filename, path,
 * size, sha256, sha1, md5}]}, the files being the release's "artifact" targets of the same
 * product and version when there are any (a .swu), else the image index and its payload. */
json_t *ddi_artifacts(db *d, const char *tenant, const char *release, uf_error *err);

/* hawkBit's feedback body (DdiActionFeedback: unknown fields ignored) on deploymentBase
 * (cancel_channel false) or cancelAction as an upflow step report for rollout_report, or
 * *report = NULL when it changes nothing (proceeding on a cancel, rejected...). Bad enum
 * values and missing required fields are UF_E_INVALID. */
bool ddi_feedback_report(const json_t *feedback, const ddi_action *a, bool cancel_channel,
                         json_t **report, uf_error *err);

/* Should the poll ask for the device's attributes (the configData link)? Yes until it sent
 * them, and again after each action that closed successfully. */
bool ddi_wants_attributes(db *d, const device_identity *dev, bool *want, uf_error *err);
/* configData: data (string -> string, 1..DDI_MAX_ATTRIBUTES after the merge) into the
 * device's inventory.attributes; mode "merge", "replace" or "remove". UF_E_TOO_LARGE past the
 * limit. Caller holds a write transaction. */
#define DDI_MAX_ATTRIBUTES 100
bool ddi_set_attributes(db *d, const device_identity *dev, json_t *data, const char *mode,
                        int64_t now, uf_error *err);

/* {"status": "RUNNING"|"FINISHED"|..., "messages": [...]}: the n latest events of an action
 * (n < 0: up to 50). */
json_t *ddi_action_history(db *d, const ddi_action *a, int64_t n, uf_error *err);

#endif
