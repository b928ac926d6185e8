/*
 * encoding.h - hex and base64url, the two text forms of bytes upflow uses.
 *
 * Hex is lowercase on output and accepted in either case on input (TUF signatures and
 * keyids, digests). base64url without padding (RFC 4648 §5) is used for tokens.
 */
#ifndef UPFLOW_ENCODING_H
#define UPFLOW_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* Writes 2*len hex digits and a NUL to out (which holds at least 2*len+1 bytes). */
void uf_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly strlen(hex)/2 bytes into out (capacity out_cap). Fails on odd length,
 * a non-hex digit, or a result longer than out_cap. *out_len gets the byte count. */
bool uf_hex_decode(const char *hex, uint8_t *out, size_t out_cap, size_t *out_len,
                   uf_error *err);

/* Size of the base64url text (without padding) for len bytes, plus the NUL. */
size_t uf_base64url_size(size_t len);
/* Writes the base64url text and a NUL; out holds uf_base64url_size(len) bytes. */
void uf_base64url_encode(const uint8_t *in, size_t len, char *out);
/* Decodes unpadded base64url strictly: only the URL-safe alphabet, no '=' and no whitespace,
 * and the unused low bits of the last character must be zero (one text per byte string).
 * Fails on a result longer than out_cap. *out_len gets the byte count. */
bool uf_base64url_decode(const char *text, uint8_t *out, size_t out_cap, size_t *out_len,
                         uf_error *err);

#endif
