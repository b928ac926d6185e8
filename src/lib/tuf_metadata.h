/*
 * tuf_metadata.h - one TUF metadata file: parse it, check its shape, verify its signatures.
 *
 * A file is kept as the JSON received (unknown fields included, tuf.md §3.3), so signatures
 * are checked over canonical(signed) of exactly what arrived (§4). Parsing checks the
 * envelope and the role's shape (_type, spec_version 1.x, version >= 1, expires, meta,
 * targets, delegations, hashes and lengths); it does not decide trust. Trust is
 * uf_tuf_verify_role(): a threshold of *distinct* keys of a role, where a keyid listed twice
 * in `signatures` refuses the file and two keyids naming the same key count once, and empty
 * signatures are ignored (§2, §6). Every error names the file: "snapshot.json: ...".
 */
#ifndef UPFLOW_TUF_METADATA_H
#define UPFLOW_TUF_METADATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

typedef enum { UF_TUF_ROOT, UF_TUF_TIMESTAMP, UF_TUF_SNAPSHOT, UF_TUF_TARGETS } uf_tuf_type;

/* "root", "timestamp", "snapshot", "targets": the _type values. */
const char *uf_tuf_type_name(uf_tuf_type type);

typedef struct uf_tuf_metadata {
    json_t *doc;          /* the whole envelope as parsed (owned) */
    json_t *signed_part;  /* doc.signed (borrowed from doc) */
    uf_tuf_type type;
    int64_t version;
    int64_t expires;      /* seconds since the epoch, UTC */
    bool consistent_snapshot; /* root only */
    char label[160];      /* file name for messages: "timestamp.json", "role1.json" */
} uf_tuf_metadata;

/* What timestamp and snapshot say about a metadata file (their "meta" entries). */
typedef struct uf_tuf_meta_info {
    int64_t version;
    int64_t length;       /* -1 when not listed */
    const json_t *hashes; /* NULL when not listed; else a non-empty {alg: hex} */
} uf_tuf_meta_info;

/* What targets metadata says about one target. */
typedef struct uf_tuf_target_info {
    const char *path;
    int64_t length;
    const json_t *hashes; /* non-empty {alg: hex} */
    const json_t *custom; /* NULL when absent */
} uf_tuf_target_info;

/* Limits for one parse: the document size cap, and the JSON shape limits derived from it. */
#define UF_TUF_MAX_DEPTH 16

/* Parse `data` as metadata of `type`. label names the file in every message. Fails with
 * UF_E_TOO_LARGE (over max_bytes), UF_E_BAD_JSON, UF_E_BAD_FIELD (shape, wrong _type,
 * unsupported spec_version), UF_E_BAD_SIGNATURE (a keyid twice in signatures). */
uf_tuf_metadata *uf_tuf_metadata_parse(const char *label, uf_tuf_type type, const void *data,
                                       size_t len, size_t max_bytes, uf_error *err);
void uf_tuf_metadata_free(uf_tuf_metadata *md);

/* Verify that md carries valid signatures from at least `threshold` distinct keys among
 * `keyids`, looking the keys up in `keys` ({keyid: key}). role_name is for messages
 * ("root", "targets", "role1"). Fails with UF_E_THRESHOLD "LABEL: signature threshold T of
 * the ROLE keys not met (N valid)". */
bool uf_tuf_verify(const uf_tuf_metadata *md, const json_t *keys, const json_t *keyids,
                   int64_t threshold, const char *role_name, uf_error *err);
/* Verify md with the keys a root assigns to a top-level role ("root", "timestamp", ...). */
bool uf_tuf_verify_with_root(const uf_tuf_metadata *md, const uf_tuf_metadata *root,
                             const char *role_name, uf_error *err);

/* Whether md has expired at `now` (expires <= now counts as expired, as in python-tuf). */
bool uf_tuf_expired(const uf_tuf_metadata *md, int64_t now);
/* Fail with UF_E_EXPIRED "LABEL: expired at 2020-01-01T00:00:00Z (freeze)" when expired. */
bool uf_tuf_check_expiry(const uf_tuf_metadata *md, int64_t now, uf_error *err);

/* "YYYY-MM-DDTHH:MM:SSZ" -> seconds since the epoch; false (UF_E_BAD_FIELD) otherwise. */
bool uf_tuf_parse_time(const char *s, int64_t *out, uf_error *err);
void uf_tuf_format_time(int64_t t, char out[32]);

/* The root's {keyids, threshold} for a top-level role (validated at parse). */
const json_t *uf_tuf_root_role(const uf_tuf_metadata *root, const char *role_name);

/* A "meta" entry of timestamp or snapshot. false with UF_E_NOT_FOUND when absent. */
bool uf_tuf_meta_get(const uf_tuf_metadata *md, const char *file, uf_tuf_meta_info *out,
                     uf_error *err);
/* The "meta" object itself (validated at parse). */
const json_t *uf_tuf_meta(const uf_tuf_metadata *md);

/* A target listed by targets metadata; false (no error) when not listed. */
bool uf_tuf_target_get(const uf_tuf_metadata *md, const char *path, uf_tuf_target_info *out);
/* targets.delegations, or NULL. Shape validated at parse: keys {keyid: key}, roles [ {name,
 * keyids, threshold, terminating, paths | path_hash_prefixes} ] with unique names. */
const json_t *uf_tuf_delegations(const uf_tuf_metadata *md);
/* Whether a delegation entry covers target_path (tuf.md §9: paths matched segment by segment
 * with shell globbing, or a prefix of the hex SHA-256 of the path). */
bool uf_tuf_delegation_matches(const json_t *role, const char *target_path);

/* Check data against {alg: hex} hashes (every one must match; sha256 and sha512 only, an
 * unknown algorithm refuses) and, when length >= 0, its exact length. Messages start with
 * label. UF_E_HASH_MISMATCH, UF_E_TOO_LARGE (longer than length), UF_E_UNSUPPORTED. */
bool uf_tuf_check_content(const char *label, const json_t *hashes, int64_t length,
                          const void *data, size_t len, uf_error *err);

/* The same check over bytes that arrive in pieces (a download streamed to disk): begin
 * refuses an unknown algorithm, update refuses bytes past the listed length at once (endless
 * data), end checks the exact length and every hash. */
typedef struct uf_tuf_content_check uf_tuf_content_check;
uf_tuf_content_check *uf_tuf_check_begin(const char *label, const json_t *hashes,
                                         int64_t length, uf_error *err);
bool uf_tuf_check_update(uf_tuf_content_check *ck, const void *data, size_t len, uf_error *err);
bool uf_tuf_check_end(uf_tuf_content_check *ck, uf_error *err);
void uf_tuf_check_free(uf_tuf_content_check *ck);

#endif
