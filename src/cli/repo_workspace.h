/*
 * repo_workspace.h - the offline half of a tenant's TUF repository: a directory that holds
 * the offline private keys, every signed metadata file and the target files staged for push
 * (docs/tuf-repository.md).
 *
 *   DIR/upflow-repo.json         {"tenant", "expires_days": {"root", "targets", "delegated"},
 *                                 "key_type"}
 *   DIR/keys/NAME.key            PKCS#8 private keys, mode 0600 (or another directory: --keys)
 *   DIR/metadata/N.root.json     every complete root version; root.json is the latest
 *   DIR/metadata/staged/N.root.json   a new root still short of signatures
 *   DIR/metadata/targets.json, ROLE.json   the latest version of each targets role
 *   DIR/targets/PATH             the files the targets roles list, staged for push
 *
 * The workspace promises that every metadata file it writes is signed by a threshold of the
 * keys its delegator names (roots by both the previous and their own), checked by parsing
 * and verifying what was just signed, and written atomically. It never deletes a private
 * key: a revoked key's file is renamed NAME.key.revoked-KEYIDPREFIX.
 */
#ifndef UPFLOW_CLI_REPO_WORKSPACE_H
#define UPFLOW_CLI_REPO_WORKSPACE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/key.h"
#include "lib/tuf_metadata.h"

#define UF_REPO_CONFIG "upflow-repo.json"
#define UF_REPO_TENANT_MAX 64
#define UF_REPO_ROOT_MAX_BYTES 512000u
#define UF_REPO_TARGETS_MAX_BYTES 5000000u

/* A private key file of the workspace (or given with --key). */
typedef struct uf_repo_keyfile {
    uf_key *key;
    char keyid[UF_KEYID_HEX];
    char path[PATH_MAX];
    bool revoked; /* dropped by this run: not used to sign, file renamed by uf_repo_retire */
} uf_repo_keyfile;

typedef struct uf_repo_keyring {
    uf_repo_keyfile *items;
    size_t n;
} uf_repo_keyring;

/* An open workspace: its settings, the latest root and targets, the private keys at hand. */
typedef struct uf_repo {
    char dir[PATH_MAX];
    char keys[PATH_MAX];
    char tenant[UF_REPO_TENANT_MAX];
    int64_t days_root, days_targets, days_delegated;
    uf_key_type key_type;
    int64_t now;
    uf_tuf_metadata *root;    /* the root later writes are for (a staged one after staging) */
    uf_tuf_metadata *targets;
    bool root_staged;         /* root is metadata/staged/N.root.json, not yet complete */
    uf_repo_keyring ring;
} uf_repo;

/* Where a workspace is and which keys it uses: --dir, --keys, and --key files. */
typedef struct uf_repo_location {
    const char *dir;          /* default "." */
    const char *keys;         /* default DIR/keys */
    const char *extra[16];    /* --key FILE ... */
    size_t n_extra;
} uf_repo_location;

/* A tenant name: 1..63 of [a-z0-9_-], starting with a letter or digit (as the server). */
bool uf_repo_tenant_valid(const char *tenant, uf_error *err);
/* A delegated role name: 1..63 of [A-Za-z0-9._-], not starting with '.', not a top-level
 * role, not ending in ".root" (its files would be taken for roots). */
bool uf_repo_role_name_valid(const char *name, uf_error *err);

/* Make a new workspace: refuses one that has a config or a root already; creates the
 * directories (keys 0700) and writes the config. r is ready for keys and metadata (no root
 * or targets yet). */
bool uf_repo_create(uf_repo *r, const uf_repo_location *loc, const char *tenant,
                    uf_key_type key_type, uf_error *err);
/* Open a workspace: config, root.json, targets.json and every private key at hand. */
bool uf_repo_open(uf_repo *r, const uf_repo_location *loc, uf_error *err);
void uf_repo_close(uf_repo *r);

/* DIR/REL, or fail naming a path that is too long. */
bool uf_repo_path(const uf_repo *r, char out[PATH_MAX], const char *rel, uf_error *err);
/* now + the configured days for "root", "targets" or a delegated role. */
int64_t uf_repo_expiry(const uf_repo *r, const char *role);

/* Parse metadata/REL ("root.json", "staged/3.root.json", "targets.json", "ROLE.json");
 * a name ending in "root.json" is a root, anything else targets. */
uf_tuf_metadata *uf_repo_load(const uf_repo *r, const char *rel, uf_error *err);
/* Parse metadata held in memory the same way; label names it in messages. */
uf_tuf_metadata *uf_repo_parse(const char *label, const void *data, size_t len, uf_error *err);
/* The exact bytes of metadata/REL. */
bool uf_repo_read(const uf_repo *r, const char *rel, uf_buf *out, uf_error *err);
/* A delegated role's latest metadata. */
uf_tuf_metadata *uf_repo_load_role(const uf_repo *r, const char *name, uf_error *err);

/* The keys and the {keyids, threshold} entry that verify role `name` ("root", "targets" or
 * a role delegated by targets), under r->root and r->targets. */
bool uf_repo_signers(const uf_repo *r, const char *name, const json_t **keys,
                     const json_t **role, uf_error *err);
/* Append "KEYID (FILE)" for each keyid of role that has no valid signature on md, comma
 * separated; *valid receives how many do. */
bool uf_repo_missing(const uf_repo *r, const uf_tuf_metadata *md, const json_t *keys,
                     const json_t *role, uf_buf *out, size_t *valid, uf_error *err);

/* Give signed_part (a targets or delegated role) version + 1 and a new expiry, sign it with
 * every key at hand that role `name` lists, check the threshold and write metadata/NAME.json.
 * A new role starts from version 0. r->targets follows a new targets. */
bool uf_repo_publish(uf_repo *r, const char *name, json_t *signed_part, uf_error *err);
/* Same for a new root: signed by every key at hand of the current root and of the new one
 * (the first root, when r->root is NULL: by its own).
 * When both thresholds are met it becomes metadata/N.root.json and root.json; otherwise it is
 * kept as metadata/staged/N.root.json, *staged is set and `missing` says whose signatures
 * are lacking. Either way r->root is the new root afterwards. */
bool uf_repo_publish_root(uf_repo *r, json_t *signed_part, bool *staged, uf_buf *missing,
                          uf_error *err);
/* If the staged root now carries both thresholds, move it into the chain. *promoted (may be
 * NULL) tells whether it did; when it stays staged (r->root_staged), missing says whose
 * signatures are lacking. */
bool uf_repo_promote_staged(uf_repo *r, bool *promoted, uf_buf *missing, uf_error *err);
/* The version of the staged root, 0 when there is none. */
int64_t uf_repo_staged_version(const uf_repo *r);

/* Drop from keys ({keyid: key}) every key no entry of roles lists (roles: root's object of
 * {keyids, threshold}, or a delegations array). */
void uf_repo_prune_keys(json_t *keys, const json_t *roles);
/* The keyid among role's keyids that starts with prefix (at least 8 hex digits and unique),
 * or NULL with UF_E_USAGE. */
const char *uf_repo_keyid_match(const json_t *role, const char *prefix, uf_error *err);

/* The file name of metadata for a role: "targets.json", "ROLE.json". */
void uf_repo_role_file(const char *name, char out[96]);

/* --- private keys --------------------------------------------------------------------- */

/* The key at hand with this keyid (not revoked), or NULL. */
const uf_repo_keyfile *uf_repo_key_find(const uf_repo *r, const char *keyid);
/* Generate a key of the workspace's type into KEYS/NAME.key, add it to the ring. */
const uf_repo_keyfile *uf_repo_key_new(uf_repo *r, const char *name, uf_error *err);
/* A new root key: KEYS/root-K.key with the first K not used by any file. */
const uf_repo_keyfile *uf_repo_key_new_root(uf_repo *r, uf_error *err);
/* Mark the key at hand with this keyid revoked (it no longer signs); false if absent. */
bool uf_repo_key_revoke(uf_repo *r, const char *keyid);
/* Rename the files of the revoked keys to NAME.key.revoked-KEYIDPREFIX. */
bool uf_repo_retire(uf_repo *r, uf_error *err);

/* Copy a file to DIR/targets/PATH (atomically: a temporary file, fsync, rename). */
bool uf_repo_stage_file(const uf_repo *r, const char *src, const char *target_path,
                        uf_error *err);

#endif
