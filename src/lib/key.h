/*
 * key.h - public-key signatures in the forms TUF uses.
 *
 * A key is what a TUF metadata file lists: {"keytype", "scheme", "keyval": {"public"}}.
 * Supported (tuf.md §6):
 *   ed25519 / ed25519                      public: 64 hex chars; sig: 128 hex chars
 *   ecdsa (or ecdsa-sha2-nistp256) / ecdsa-sha2-nistp256
 *                                          public: PEM SubjectPublicKeyInfo; sig: hex DER
 *   rsa / rsassa-pss-sha256                public: PEM SPKI (>= 2048 bits); sig: hex,
 *                                          MGF1-SHA256, salt = digest length (verify: AUTO)
 * The keyid is the SHA-256 of the canonical JSON of the key object (tuf.md §5).
 *
 * Private keys live in PEM files (PKCS#8) created with mode 0600 and never overwritten.
 * Verification never throws on hostile input: a malformed signature is UF_E_BAD_SIGNATURE.
 */
#ifndef UPFLOW_KEY_H
#define UPFLOW_KEY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

typedef enum { UF_KEY_ED25519, UF_KEY_ECDSA_P256, UF_KEY_RSA_PSS } uf_key_type;

typedef struct uf_key uf_key; /* opaque: a public key, and maybe its private half */

#define UF_KEYID_HEX 65 /* 64 hex chars + NUL */

/* "ed25519", "ecdsa", "rsa" <-> type. Accepts "ecdsa-sha2-nistp256" as a keytype too. */
const char *uf_key_type_name(uf_key_type t);
bool uf_key_type_from_name(const char *name, uf_key_type *out, uf_error *err);

/* Parse a TUF key object. Errors name the field ("keyval.public: not 64 hex digits"). */
uf_key *uf_key_from_json(const json_t *key, uf_error *err);
/* The TUF key object of the public half: {"keytype","keyval":{"public"},"scheme"}. */
json_t *uf_key_to_json(const uf_key *key, uf_error *err);
/* keyid = hex sha256(canonical(key object)). For a parsed JSON key object as received (extra
 * fields included, as tuf.md §5 requires), or for a uf_key's own object. */
bool uf_keyid_of_json(const json_t *key, char out[UF_KEYID_HEX], uf_error *err);
bool uf_key_keyid(const uf_key *key, char out[UF_KEYID_HEX], uf_error *err);
uf_key_type uf_key_get_type(const uf_key *key);
bool uf_key_has_private(const uf_key *key);

/* New random private key. RSA keys are 3072 bits. */
uf_key *uf_key_generate(uf_key_type type, uf_error *err);
/* Ed25519 private key from a 32-byte seed (deterministic test vectors, tuf.md §15). */
uf_key *uf_key_ed25519_from_seed(const uint8_t seed[32], uf_error *err);

/* Write the private key as PKCS#8 PEM to a new file with mode 0600 (O_EXCL: an existing file
 * is UF_E_CONFLICT, never replaced), fsync'ed. */
bool uf_key_save_private(const uf_key *key, const char *path, uf_error *err);
/* Load a PKCS#8 PEM private key; warns via error (UF_E_FORBIDDEN) if the file is readable by
 * group or others. */
uf_key *uf_key_load_private(const char *path, uf_error *err);

/* Sign msg; *sig_hex is malloc'ed lowercase hex in the scheme's format. */
bool uf_key_sign(const uf_key *key, const void *msg, size_t len, char **sig_hex, uf_error *err);
/* Verify a hex signature over msg. false with UF_E_BAD_SIGNATURE when it does not verify
 * (including malformed hex or DER), other codes for unusable keys. */
bool uf_key_verify(const uf_key *key, const void *msg, size_t len, const char *sig_hex,
                   uf_error *err);

void uf_key_free(uf_key *key);

#endif
