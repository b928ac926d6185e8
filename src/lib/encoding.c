/*
 * encoding.c - hex and unpadded base64url (see encoding.h).
 *
 * Both decoders are strict, because their input is untrusted (signatures, keyids, stored
 * password hashes): every character must belong to the alphabet, and base64url accepts only
 * the one canonical text of a byte string. Errors say where the input went wrong.
 */
#include "lib/encoding.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";
static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void uf_hex_encode(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

/* Value of one hex digit, or -1. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool uf_hex_decode(const char *hex, uint8_t *out, size_t out_cap, size_t *out_len,
                   uf_error *err)
{
    size_t n = strlen(hex);
    if (n % 2 != 0)
        return uf_error_set(err, UF_E_INVALID, "odd number of hex digits (%zu)", n);
    if (n / 2 > out_cap)
        return uf_error_set(err, UF_E_TOO_LARGE, "%zu hex digits decode to more than %zu bytes",
                            n, out_cap);
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value(hex[i]);
        int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return uf_error_set(err, UF_E_INVALID, "not a hex digit at position %zu",
                                hi < 0 ? i : i + 1);
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = n / 2;
    return true;
}

size_t uf_base64url_size(size_t len)
{
    size_t rest = len % 3;
    return len / 3 * 4 + (rest ? rest + 1 : 0) + 1;
}

void uf_base64url_encode(const uint8_t *in, size_t len, char *out)
{
    size_t i = 0;
    char *o = out;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = b64url_alphabet[v >> 18 & 63];
        *o++ = b64url_alphabet[v >> 12 & 63];
        *o++ = b64url_alphabet[v >> 6 & 63];
        *o++ = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *o++ = b64url_alphabet[v >> 18 & 63];
        *o++ = b64url_alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *o++ = b64url_alphabet[v >> 18 & 63];
        *o++ = b64url_alphabet[v >> 12 & 63];
        *o++ = b64url_alphabet[v >> 6 & 63];
    }
    *o = '\0';
}

/* Value of one base64url character, or -1. */
static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

bool uf_base64url_decode(const char *text, uint8_t *out, size_t out_cap, size_t *out_len,
                         uf_error *err)
{
    size_t n = strlen(text);
    if (n % 4 == 1)
        return uf_error_set(err, UF_E_INVALID, "base64url text of impossible length %zu", n);
    size_t bytes = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (bytes > out_cap)
        return uf_error_set(err, UF_E_TOO_LARGE, "base64url text decodes to more than %zu bytes",
                            out_cap);

    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(text[i]);
        if (v < 0)
            return uf_error_set(err, UF_E_INVALID, "not a base64url character at position %zu",
                                i);
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits are padding of the last character; a canonical encoder zeroes them. */
    if (bits && (acc & ((1u << bits) - 1)) != 0)
        return uf_error_set(err, UF_E_INVALID, "base64url text has non-zero trailing bits");
    *out_len = o;
    return true;
}
