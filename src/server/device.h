/*
 * device.h - the device registry: enrolment with a per-device token (or registration on
 * first contact with a tenant's gateway token), what operators say about a device
 * (attributes, tags, static groups) and what it says about itself (inventory), last seen,
 * and the history of its actions.
 *
 * Tokens are random (lib/random.h), shown once, stored as SHA-256 and compared by hash, as
 * user tokens are: "udt_..." for devices, "ugw_..." for a tenant's gateway. A device token
 * names exactly one device; every device route works on that device's own data only.
 *
 * The attributes a filter sees (lib/filter.h) are the operator's attributes plus name,
 * tenant, hardware, version, tags and the inventory under "inventory".
 */
#ifndef UPFLOW_SERVER_DEVICE_H
#define UPFLOW_SERVER_DEVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/random.h"
#include "server/db.h"

#define DEVICE_NAME_MAX 128

typedef struct device_identity {
    int64_t id;
    char tenant[64];
    char name[DEVICE_NAME_MAX];
} device_identity;

/* 1..127 of [A-Za-z0-9._:-], not starting with '.' or '-'. */
bool device_name_valid(const char *name, uf_error *err);

/* Create a device (or give an existing one without a token a token). Its token is written to
 * token, to be shown once. UF_E_CONFLICT when the device already has a token. Caller holds a
 * write transaction; audited with actor. */
bool device_enrol(db *d, const char *tenant, const char *name, const json_t *attributes,
                  const char *actor, char token[UF_TOKEN_MAX], int64_t *id, uf_error *err);

/* Resolve a device token (UF_E_UNAUTHORIZED when unknown). */
bool device_authenticate(db *d, const char *token, device_identity *out, uf_error *err);
/* Resolve a gateway token to its tenant (UF_E_UNAUTHORIZED when unknown). */
bool device_gateway_tenant(db *d, const char *token, char tenant[64], uf_error *err);
/* A new gateway token for tenant (replacing the old one); caller holds a transaction. */
bool device_new_gateway_token(db *d, const char *tenant, const char *actor,
                              char token[UF_TOKEN_MAX], uf_error *err);

/* The device's report about itself: {hardware, version, agent_version, slots, attributes}.
 * hardware and version are kept in their own columns for filters and views. */
bool device_set_inventory(db *d, int64_t id, const json_t *inventory, uf_error *err);
/* Operators' attributes and tags (either may be NULL to keep). */
bool device_set_labels(db *d, int64_t id, const json_t *attributes, const json_t *tags,
                       const char *actor, uf_error *err);
/* Record contact (written at most once per `every` seconds per device). */
bool device_seen(db *d, int64_t id, int64_t now, int64_t every, uf_error *err);

/* Append to the device's history. */
bool device_event(db *d, int64_t device, int64_t action, const char *step, int progress,
                  const char *reason, const char *log_tail, int64_t now, uf_error *err);

/* The device by tenant and name (0 when there is none). */
bool device_find(db *d, const char *tenant, const char *name, int64_t *id, uf_error *err);
/* {name, tenant, hardware, version, state, tags, attributes, inventory, last_seen, created_at,
 * groups} and, with history, the last 100 events. */
json_t *device_json(db *d, int64_t id, bool history, uf_error *err);
/* What filters see for the current row of a query selecting
 * (name, tenant, hardware, version, tags, attributes, inventory) from column `col` on. */
json_t *device_filter_attrs(db_stmt *st, int col);
#define DEVICE_FILTER_COLUMNS "name, tenant, hardware, version, tags, attributes, inventory"

#endif
