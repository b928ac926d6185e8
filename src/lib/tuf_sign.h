/*
 * tuf_sign.h - making TUF metadata: the signed part of each role, envelopes signed by keys,
 * and the "meta" and "targets" entries that pin a file by version, length and SHA-256.
 *
 * The CLI uses it for the offline roles (root, targets, delegated roles: their keys stay with
 * their owners) and upflowd for the online ones (snapshot, timestamp). Envelopes come out as
 * compact JSON with sorted keys; what a signature covers is the canonical form of "signed"
 * (tuf.md §4), so any faithful serialisation verifies.
 */
#ifndef UPFLOW_TUF_SIGN_H
#define UPFLOW_TUF_SIGN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/key.h"
#include "lib/tuf_metadata.h"

/* The spec_version written into new metadata. */
#define UF_TUF_SPEC_VERSION "1.0.31"

/* A new signed part: {_type, spec_version, version, expires} plus the role's empty members
 * (root: keys, roles with every top-level role at threshold 1 and no keys,
 * consistent_snapshot true; snapshot and timestamp: meta; targets: targets). NULL only when
 * out of memory. */
json_t *uf_tuf_new_signed(uf_tuf_type type, int64_t version, int64_t expires);

/* Set signed.version and signed.expires. */
bool uf_tuf_set_version(json_t *signed_part, int64_t version, int64_t expires, uf_error *err);

/* Sign canonical(signed_part) with each key (which must hold its private half) into
 * {"signed", "signatures"}; *out is malloc'ed compact JSON text of *out_len bytes. */
bool uf_tuf_sign(const json_t *signed_part, uf_key *const keys[], size_t n, char **out,
                 size_t *out_len, uf_error *err);

/* Add a signature by key to an existing envelope (text), replacing an earlier signature of
 * the same keyid; with `replace` every other signature is dropped first. The signed part is
 * not changed. */
bool uf_tuf_add_signature(const void *envelope, size_t len, const uf_key *key, bool replace,
                          char **out, size_t *out_len, uf_error *err);

/* Put key's public object into a {keyid: key} object; keyid (may be NULL) receives its id. */
bool uf_tuf_put_key(json_t *keys_obj, const uf_key *key, char keyid[UF_KEYID_HEX],
                    uf_error *err);

/* {"version": V, "length": N, "hashes": {"sha256": HEX}}: a snapshot or timestamp entry for
 * the exact bytes served. */
json_t *uf_tuf_meta_entry(int64_t version, const void *data, size_t len, uf_error *err);

/* {"length": N, "hashes": {"sha256": HEX}} for a file, hashed in bounded memory; custom, when
 * not NULL, is added as "custom" (the reference is stolen). */
json_t *uf_tuf_target_entry_file(const char *path, json_t *custom, uf_error *err);

#endif
