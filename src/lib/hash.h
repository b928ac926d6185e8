/*
 * hash.h - message digests over OpenSSL's EVP interface, one-shot or streaming.
 *
 * SHA-256 and SHA-512 for TUF metadata and targets and for chunk hashes; SHA-1 and MD5 exist
 * only because hawkBit's device API names artifacts by them. Streaming: init, update as the
 * bytes arrive (uploads and downloads are hashed while they stream), final.
 */
#ifndef UPFLOW_HASH_H
#define UPFLOW_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

typedef enum { UF_HASH_SHA256, UF_HASH_SHA512, UF_HASH_SHA1, UF_HASH_MD5 } uf_hash_alg;

#define UF_HASH_MAX_SIZE 64
#define UF_HASH_MAX_HEX (UF_HASH_MAX_SIZE * 2 + 1)

/* "sha256", "sha512", "sha1", "md5": the names TUF and hawkBit use. */
const char *uf_hash_alg_name(uf_hash_alg alg);
/* Parse one of the names above; false (UF_E_UNSUPPORTED) for anything else. */
bool uf_hash_alg_from_name(const char *name, uf_hash_alg *out, uf_error *err);
/* Digest size in bytes: 32, 64, 20, 16. */
size_t uf_hash_size(uf_hash_alg alg);

typedef struct uf_hash uf_hash; /* opaque streaming context */

uf_hash *uf_hash_new(uf_hash_alg alg, uf_error *err);
bool uf_hash_update(uf_hash *h, const void *data, size_t len, uf_error *err);
/* Writes uf_hash_size() bytes to out. The context can be reused only after uf_hash_reset. */
bool uf_hash_final(uf_hash *h, uint8_t out[UF_HASH_MAX_SIZE], uf_error *err);
/* Same, as lowercase hex with a NUL. */
bool uf_hash_final_hex(uf_hash *h, char out[UF_HASH_MAX_HEX], uf_error *err);
bool uf_hash_reset(uf_hash *h, uf_error *err);
void uf_hash_free(uf_hash *h);

/* One-shot digests. */
bool uf_hash_buf(uf_hash_alg alg, const void *data, size_t len, uint8_t out[UF_HASH_MAX_SIZE],
                 uf_error *err);
bool uf_hash_buf_hex(uf_hash_alg alg, const void *data, size_t len, char out[UF_HASH_MAX_HEX],
                     uf_error *err);
/* HMAC (RFC 2104) of data under key with alg, as lowercase hex: webhook signatures. */
bool uf_hmac_hex(uf_hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
                 char out[UF_HASH_MAX_HEX], uf_error *err);
/* Digest of a whole file, read in blocks (bounded memory). */
bool uf_hash_file_hex(uf_hash_alg alg, const char *path, char out[UF_HASH_MAX_HEX],
                      uf_error *err);

#endif
