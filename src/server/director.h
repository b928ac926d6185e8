/*
 * director.h - the Uptane director idea (tuf.md §12): for each device the server signs a
 * small TUF targets file naming the one image that device must install now, with the
 * length and hashes the image repository signed and the action it belongs to.
 *
 * The director key is an online key per tenant, made by the server on first use (0600 file
 * under DATA_DIR/keys) and handed to devices at registration. A device installs only what
 * the director names AND the image repository's offline-signed targets vouch for, so neither
 * a stolen director key nor a forged repository alone makes it install anything.
 */
#ifndef UPFLOW_SERVER_DIRECTOR_H
#define UPFLOW_SERVER_DIRECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "server/db.h"

/* The tenant's director public key object, created (with its private half) if missing.
 * Caller holds a write transaction when it may create. */
json_t *director_key(db *d, const char *data_dir, const char *tenant, uf_error *err);

typedef struct director_target {
    const char *path;     /* the image index target, or NULL for "nothing to install" */
    int64_t length;
    const char *sha256;
    int64_t action;
    const char *device;
} director_target;

/* Signed targets metadata for one device (version = the action id, or 1 when none; valid for
 * `ttl` seconds from now), as compact JSON text in out. */
bool director_sign(db *d, const char *tenant, const director_target *t,
                   int64_t now, int64_t ttl, uf_buf *out, uf_error *err);

#endif
