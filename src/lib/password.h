/*
 * password.h - password hashing with a memory-hard KDF.
 *
 * scrypt from OpenSSL 3 (Argon2 arrives only in OpenSSL 3.2; Debian 12 ships 3.0). Stored as
 * a self-describing string so parameters can be raised later without breaking old hashes:
 *
 *     $scrypt$ln=17,r=8,p=1$<base64url salt>$<base64url 32-byte key>
 *
 * The defaults are OWASP's recommendation for scrypt: N = 2^17, r = 8, p = 1 (128 MiB of memory
 * per check). Verification uses the parameters stored in the hash and compares in constant
 * time.
 */
#ifndef UPFLOW_PASSWORD_H
#define UPFLOW_PASSWORD_H

#include <stdbool.h>

#include "lib/error.h"

#define UF_PASSWORD_HASH_MAX 160

typedef struct uf_password_params {
    unsigned log2_n; /* N = 2^log2_n */
    unsigned r;
    unsigned p;
} uf_password_params;

/* The defaults above. Tests may pass cheaper parameters. */
uf_password_params uf_password_default_params(void);
bool uf_password_hash(const char *password, const uf_password_params *params,
                      char out[UF_PASSWORD_HASH_MAX], uf_error *err);
/* true and *ok set when the stored string parses; *ok tells whether the password matches.
 * A malformed stored string is an error (UF_E_INVALID), not a mismatch. */
bool uf_password_verify(const char *password, const char *stored, bool *ok, uf_error *err);

#endif
