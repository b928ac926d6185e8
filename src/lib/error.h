/*
 * error.h - stable error codes and errors that carry their context.
 *
 * Every fallible function in upflow takes a `uf_error *err` (which may be NULL) and returns
 * false on failure after filling it in. Each layer that passes an error up prefixes what it
 * was doing, so the message a person sees reads from the outermost step to the root cause:
 *
 *     load root.json: verify signatures: signature threshold 2 not met
 *
 * The code is stable: it is part of the HTTP API (`{"error":{"code":"bad_json",...}}`) and of
 * the CLI's exit behaviour, so codes are only ever added, never renamed or renumbered.
 * An error lives in a fixed buffer: reporting a failure never needs to allocate.
 */
#ifndef UPFLOW_ERROR_H
#define UPFLOW_ERROR_H

#include <stdbool.h>
#include <stddef.h>

/* X(enum name, stable string, HTTP status, one-line meaning) */
#define UF_ERROR_CODES(X)                                                                     \
    X(UF_OK,              "ok",               200, "no error")                                \
    X(UF_E_INTERNAL,      "internal",         500, "internal error")                          \
    X(UF_E_NOMEM,         "out_of_memory",    503, "out of memory")                           \
    X(UF_E_INVALID,       "invalid_argument", 400, "invalid argument")                        \
    X(UF_E_BAD_JSON,      "bad_json",         400, "malformed JSON")                          \
    X(UF_E_BAD_FIELD,     "bad_field",        422, "a field is missing or has the wrong type")\
    X(UF_E_TOO_LARGE,     "too_large",        413, "input exceeds a size or depth limit")     \
    X(UF_E_NOT_FOUND,     "not_found",        404, "no such object")                          \
    X(UF_E_CONFLICT,      "conflict",         409, "conflicts with the current state")        \
    X(UF_E_UNAUTHORIZED,  "unauthorized",     401, "authentication required or failed")       \
    X(UF_E_FORBIDDEN,     "forbidden",        403, "not allowed for this identity")           \
    X(UF_E_IO,            "io",               500, "input/output error")                      \
    X(UF_E_NO_SPACE,      "no_space",         507, "no space left on the device")             \
    X(UF_E_CRYPTO,        "crypto",           500, "cryptographic library failure")           \
    X(UF_E_BAD_KEY,       "bad_key",          422, "malformed or unsupported key")            \
    X(UF_E_BAD_SIGNATURE, "bad_signature",    422, "signature does not verify")               \
    X(UF_E_THRESHOLD,     "threshold_not_met",422, "signature threshold not met")             \
    X(UF_E_EXPIRED,       "expired",          422, "metadata or token has expired")           \
    X(UF_E_ROLLBACK,      "rollback",         422, "version is older than the trusted one")   \
    X(UF_E_HASH_MISMATCH, "hash_mismatch",    409, "content does not match its hash")         \
    X(UF_E_UNSUPPORTED,   "unsupported",      422, "unsupported algorithm or feature")        \
    X(UF_E_TIMEOUT,       "timeout",          504, "operation timed out")                     \
    X(UF_E_GUARD,         "guard_failed",     409, "a transition guard is not met")           \
    X(UF_E_METHOD,        "method_not_allowed",405, "method not allowed on this resource")    \
    X(UF_E_USAGE,         "usage",            400, "wrong command-line usage")                \
    X(UF_E_RANGE,         "range_not_satisfiable", 416, "requested range not satisfiable")

typedef enum {
#define UF_X_ENUM(name, str, status, text) name,
    UF_ERROR_CODES(UF_X_ENUM)
#undef UF_X_ENUM
    UF_ERROR_CODE_COUNT
} uf_code;

#define UF_ERROR_MSG_MAX 1024

typedef struct uf_error {
    uf_code code;
    char msg[UF_ERROR_MSG_MAX];
} uf_error;

/* Stable snake_case name of a code ("bad_json"); "unknown" for values out of range. */
const char *uf_code_name(uf_code code);
/* One-line human meaning of a code ("malformed JSON"). */
const char *uf_code_text(uf_code code);
/* The HTTP status an API answers with for this code. */
int uf_code_http_status(uf_code code);
/* Reverse of uf_code_name; returns false for an unknown name. */
bool uf_code_from_name(const char *name, uf_code *out);

/* Reset to UF_OK with an empty message. err may be NULL. */
void uf_error_clear(uf_error *err);
/* Set code and message (printf format). Always returns false, so `return uf_error_set(...)`
 * reads as "fail with". err may be NULL. */
bool uf_error_set(uf_error *err, uf_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepend "context: " to the message, keeping the code. Always returns false. */
bool uf_error_prefix(uf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fill err from errno (ENOSPC -> UF_E_NO_SPACE, ENOENT -> UF_E_NOT_FOUND, ...), with the
 * message "what: strerror". Always returns false. */
bool uf_error_errno(uf_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fill err from the OpenSSL error queue (and clear the queue). Always returns false. */
bool uf_error_openssl(uf_error *err, uf_code code, const char *what);

#endif
