/*
 * tuf_client.h - the TUF 1.0 client workflow (tuf.md §7, spec §5.1-§5.7).
 *
 * A client starts from the trusted root.json in its metadata directory, then on refresh
 * walks the root chain (each N+1 signed by a threshold of N's and its own root keys), drops
 * trusted timestamp/snapshot when their keys rotated (fast-forward recovery), and updates
 * timestamp, snapshot and top-level targets with the rollback, mix-and-match, hash, length
 * and expiry checks, all against one update start time. Targets are found by the pre-order
 * delegation search of §9 and downloaded with their length and every hash checked.
 *
 * Bytes come through a fetcher, so tests serve repositories from memory and the program
 * fetches over HTTP. Trusted metadata is stored byte for byte under unversioned names
 * (root.json, timestamp.json, snapshot.json, targets.json, <percent-encoded role>.json),
 * each written atomically (temp file, fsync, rename, fsync of the directory).
 */
#ifndef UPFLOW_TUF_CLIENT_H
#define UPFLOW_TUF_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/tuf_metadata.h"

/* Fetch `url` into out (empty on entry), at most max_bytes: more is UF_E_TOO_LARGE (stop
 * reading there: endless data); a missing file (HTTP 403/404) is UF_E_NOT_FOUND. */
typedef bool (*uf_tuf_sink)(void *sink_ctx, const void *data, size_t len, uf_error *err);
typedef struct uf_tuf_fetcher {
    bool (*fetch)(void *ctx, const char *url, size_t max_bytes, uf_buf *out, uf_error *err);
    /* Optional: the same, handing the bytes to sink as they arrive (a false from the sink
     * stops the transfer with its error), so a large target never sits in memory. */
    bool (*stream)(void *ctx, const char *url, size_t max_bytes, uf_tuf_sink sink,
                   void *sink_ctx, uf_error *err);
    void *ctx;
} uf_tuf_fetcher;

/* python-tuf's limits (tuf.md §11); a 0 in the config means this default. */
#define UF_TUF_ROOT_MAX_BYTES 512000
#define UF_TUF_TIMESTAMP_MAX_BYTES 16384
#define UF_TUF_SNAPSHOT_MAX_BYTES 2000000
#define UF_TUF_TARGETS_MAX_BYTES 5000000
#define UF_TUF_MAX_ROOT_ROTATIONS 256
#define UF_TUF_MAX_DELEGATIONS 32

typedef struct uf_tuf_client_config {
    const char *metadata_dir;  /* holds the trusted root.json; trusted metadata goes here */
    const char *metadata_base; /* prefix of metadata URLs ("http://h/metadata/" or "") */
    const char *targets_base;  /* prefix of target URLs */
    uf_tuf_fetcher fetcher;
    int64_t now;               /* fixed update start time; 0 = time() at each refresh */
    size_t root_max_bytes, timestamp_max_bytes, snapshot_max_bytes, targets_max_bytes;
    unsigned max_root_rotations, max_delegations;
} uf_tuf_client_config;

typedef struct uf_tuf_client uf_tuf_client;

/* Write a trusted root into metadata_dir as root.json, byte for byte, atomically. */
bool uf_tuf_client_install_root(const char *metadata_dir, const void *data, size_t len,
                                uf_error *err);

/* Load and self-verify metadata_dir/root.json (its expiry does not matter yet, §5.2). */
uf_tuf_client *uf_tuf_client_open(const uf_tuf_client_config *cfg, uf_error *err);
void uf_tuf_client_free(uf_tuf_client *c);

/* The top-level update §5.1-§5.6: root, timestamp, snapshot, targets. On failure the trusted
 * files are what the last good step left, so a later run can update. */
bool uf_tuf_client_refresh(uf_tuf_client *c, uf_error *err);

/* Find target_path by the delegation search (refreshing first if not yet done). The info
 * borrows from the client and stays valid until it is freed. UF_E_NOT_FOUND when no role
 * on the search lists it. */
bool uf_tuf_client_find_target(uf_tuf_client *c, const char *target_path,
                               uf_tuf_target_info *out, uf_error *err);

/* Fetch a target (HASH.NAME with consistent snapshots) into out, at most its length, and
 * check the length and every hash. */
bool uf_tuf_client_fetch_target(uf_tuf_client *c, const uf_tuf_target_info *target,
                                uf_buf *out, uf_error *err);

/* The URL a target is fetched from (malloc'ed; NULL when out of memory), for callers that
 * stream a large target themselves, e.g. by HTTP ranges, checking it piece by piece. */
char *uf_tuf_client_target_url(const uf_tuf_client *c, const uf_tuf_target_info *target);

/* Make dest_path hold the target: nothing is fetched when dest_path already matches its
 * length and hashes; otherwise fetch, verify and write atomically. With a streaming fetcher
 * the bytes go to the temporary file as they arrive, checked on the way: memory stays a few
 * KiB whatever the target's size. */
bool uf_tuf_client_download_target(uf_tuf_client *c, const uf_tuf_target_info *target,
                                   const char *dest_path, uf_error *err);

/* Trusted version of a role after refresh ("root", "timestamp", "snapshot", "targets" or a
 * delegated role already loaded); 0 when none is trusted. */
int64_t uf_tuf_client_trusted_version(const uf_tuf_client *c, const char *role);

/* Python quote(name, safe=""): every byte except ASCII letters, digits and "_.-~" becomes
 * %XX (tuf.md §11). out must hold 3 * strlen(name) + 1 bytes. */
void uf_tuf_percent_encode(const char *name, bool keep_slash, char *out);

#endif
