/*
 * tuf_repo_internal.h - what tuf_repo.c (pushes, publishing) and tuf_repo_keys.c (online
 * keys) share. Not for other modules.
 */
#ifndef UPFLOW_SERVER_TUF_REPO_INTERNAL_H
#define UPFLOW_SERVER_TUF_REPO_INTERNAL_H

#include "lib/key.h"
#include "lib/tuf_metadata.h"
#include "server/tuf_repo.h"

#define TUF_MAX_ONLINE_KEYS 8

/* The private keys this server holds for an online role that root lists; fails with
 * UF_E_THRESHOLD when they are fewer than the root's threshold for the role. */
bool tuf_online_signers(db *d, const char *tenant,
                        const uf_tuf_metadata *root, const char *role,
                        uf_key *keys[TUF_MAX_ONLINE_KEYS], size_t *n, uf_error *err);
void tuf_online_signers_free(uf_key *keys[], size_t n);

/* After root `next` replaced `prev`: mark retired the online keys prev listed for snapshot or
 * timestamp that next no longer lists (revoked). Keys created for a rotation still in
 * preparation (never listed) are left alone. */
bool tuf_online_keys_retire(db *d, const char *tenant, const uf_tuf_metadata *prev,
                            const uf_tuf_metadata *next, int64_t now, uf_error *err);

/* Whether root lists keyid for role. */
bool tuf_root_lists_key(const uf_tuf_metadata *root, const char *role, const char *keyid);

#endif
