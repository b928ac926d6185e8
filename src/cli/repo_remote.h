/*
 * repo_remote.h - the server's half of a tenant's TUF repository as `upflow repo` sees it
 * (/api/v1/tuf/{tenant}, under the credentials of `upflow login`): the versions it serves,
 * its online snapshot and timestamp keys, the target blobs it holds, and pushes of offline
 * metadata. Errors are the server's (code and message), prefixed with what was being done.
 */
#ifndef UPFLOW_CLI_REPO_REMOTE_H
#define UPFLOW_CLI_REPO_REMOTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/client.h"
#include "lib/error.h"

typedef struct uf_repo_remote {
    uf_client *client;
    uf_response resp; /* the last answer */
    char base[160];   /* "/api/v1/tuf/TENANT" */
} uf_repo_remote;

bool uf_repo_remote_open(uf_repo_remote *rr, const uf_client_target *target,
                         const char *tenant, uf_error *err);
void uf_repo_remote_close(uf_repo_remote *rr);

/* {"tenant", "roles": {NAME: {"version", "expires"}}, "online_keys": {...}} (a new
 * reference). */
json_t *uf_repo_remote_status(uf_repo_remote *rr, uf_error *err);
/* The version of role the server serves, 0 when it has none. */
int64_t uf_repo_remote_version(const json_t *status, const char *role);

/* The TUF key objects of the server's online keys for "snapshot" or "timestamp": those the
 * status lists, or, when there are none, a new one made by the server. A new array. */
json_t *uf_repo_remote_online_keys(uf_repo_remote *rr, const json_t *status, const char *role,
                                   uf_error *err);
/* A new online key for role, made by the server: its TUF key object (a new reference). */
json_t *uf_repo_remote_new_online_key(uf_repo_remote *rr, const char *role, uf_error *err);

/* Whether the server holds a blob with this SHA-256 and length. */
bool uf_repo_remote_has_blob(uf_repo_remote *rr, const char *sha256, int64_t length,
                             bool *has, uf_error *err);
/* Stream a file to the server as the blob sha256 of length bytes. */
bool uf_repo_remote_upload_blob(uf_repo_remote *rr, const char *file, const char *sha256,
                                int64_t length, uf_error *err);
/* POST {"files": files}; returns the answer (the status plus "published"), a new reference. */
json_t *uf_repo_remote_push(uf_repo_remote *rr, const json_t *files, uf_error *err);

#endif
