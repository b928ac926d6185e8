/*
 * tuf_repo.h - the TUF repositories upflowd serves, one per tenant (tuf.md §2, §8).
 *
 * Who signs what: root and targets (and delegated roles) are signed offline by their owners
 * with `upflow repo` and pushed; snapshot and timestamp are signed here, with online keys the
 * server generates and keeps (tuf_repo_keys.c), on every push and again before they expire.
 *
 * A push is checked as a client would check it before anything is stored: each new root
 * N+1 is signed by a threshold of root N's keys and of its own, targets and delegated roles by
 * a threshold of their delegator's keys, versions only grow, nothing pushed is expired, and
 * every target listed was uploaded with that length and SHA-256. Then, in the same
 * transaction, a new snapshot (pinning every targets role by version, length and hash) and a
 * new timestamp are signed. So the repository devices see is always complete and consistent,
 * and a push that fails leaves it exactly as it was.
 *
 * Every version of every role is kept, byte for byte as served, so consistent snapshots
 * (N.root.json, V.snapshot.json, V.targets.json, V.ROLE.json) and plain timestamp.json are
 * lookups. Delegated role names are limited to [A-Za-z0-9._-] (so URL encoding is the
 * identity) and may be delegated from targets only.
 */
#ifndef UPFLOW_SERVER_TUF_REPO_H
#define UPFLOW_SERVER_TUF_REPO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "server/db.h"

typedef struct tuf_repo_config {
    const char *data_dir;     /* online private keys go to DATA_DIR/keys/, blobs to tuf-blobs/ */
    int64_t timestamp_expiry; /* seconds */
    int64_t snapshot_expiry;
} tuf_repo_config;

#define TUF_TENANT_MAX 64
#define TUF_BLOB_AREA "tuf-blobs"

/* A tenant name: 1..63 of [a-z0-9_-], starting with a letter or digit. */
bool tuf_tenant_valid(const char *tenant, uf_error *err);
/* A delegated role name: 1..63 of [A-Za-z0-9._-], not a top-level role name. */
bool tuf_role_name_valid(const char *name, uf_error *err);

/* {"tenant", "roles": {NAME: {"version", "expires"}}, "online_keys": {"snapshot": [...],
 * "timestamp": [...]}}: the latest version of each role and the online keys not retired,
 * each {"keyid", "key", "listed"} (listed: the current root names it). */
json_t *tuf_repo_status(db *d, const char *tenant, uf_error *err);

/* The bytes of role at version (0 = the latest). UF_E_NOT_FOUND when there is none. */
bool tuf_repo_get(db *d, const char *tenant, const char *role, int64_t version, uf_buf *out,
                  uf_error *err);

/* Apply a push inside the caller's transaction. files is {"N.root.json": TEXT,
 * "targets.json": TEXT, "ROLE.json": TEXT}; roots are applied in version order. On success
 * *published is {"snapshot": V, "timestamp": V} (owned by the caller). Errors name the file
 * ("2.root.json: signature threshold 2 of the root keys not met (1 valid)"). */
bool tuf_repo_push(db *d, const tuf_repo_config *cfg, const char *tenant, json_t *files,
                   const char *actor, int64_t now, json_t **published, uf_error *err);

/* Re-sign what comes due, tenant by tenant, each in its own transaction: a new snapshot (and
 * timestamp) when less than half of the snapshot's lifetime is left, else a new timestamp when
 * less than half of its own is. *resigned counts the tenants changed. */
bool tuf_repo_refresh_due(db *d, const tuf_repo_config *cfg, int64_t now, unsigned *resigned,
                          uf_error *err);

/* Create an online key for "snapshot" or "timestamp" inside the caller's transaction; the
 * private half goes to a 0600 file under DATA_DIR/keys. Returns {"role", "keyid", "key"}. */
json_t *tuf_repo_new_online_key(db *d, const tuf_repo_config *cfg, const char *tenant,
                                const char *role, const char *actor, int64_t now,
                                uf_error *err);

/* Record an uploaded blob (already in the blob store) for tenant; *created tells whether the
 * row is new. */
bool tuf_repo_add_blob(db *d, const char *tenant, const char *sha256, const char *sha1,
                       const char *md5, int64_t length, const char *actor, int64_t now,
                       bool *created, uf_error *err);
/* {"sha256", "sha1", "md5", "length"} of a tenant's blob; NULL with UF_E_NOT_FOUND. */
json_t *tuf_repo_blob(db *d, const char *tenant, const char *sha256, uf_error *err);

#endif
