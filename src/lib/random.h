/*
 * random.h - randomness from the kernel's CSPRNG and comparisons that leak no timing.
 *
 * Tokens (sessions, API tokens, device tokens) are 32 random bytes from getrandom(2) shown as
 * base64url (43 characters), optionally behind a short readable prefix ("uft_"). Secrets are
 * compared with uf_consttime_equal, never memcmp/strcmp.
 */
#ifndef UPFLOW_RANDOM_H
#define UPFLOW_RANDOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define UF_TOKEN_BYTES 32
/* prefix (at most 15 chars) + 43 base64url chars + NUL */
#define UF_TOKEN_MAX 64

/* Fill buf with len bytes from getrandom(2); blocks only until the pool is initialised. */
bool uf_random_bytes(void *buf, size_t len, uf_error *err);
/* A new token: prefix followed by base64url of UF_TOKEN_BYTES random bytes. */
bool uf_random_token(const char *prefix, char out[UF_TOKEN_MAX], uf_error *err);
/* True when a and b have the same length and bytes; time depends only on the lengths. */
bool uf_consttime_equal(const void *a, size_t alen, const void *b, size_t blen);
/* uf_consttime_equal for NUL-terminated strings. */
bool uf_consttime_streq(const char *a, const char *b);

#endif
