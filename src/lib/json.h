/*
 * json.h - strict reading of untrusted JSON over jansson.
 *
 * Everything that arrives from outside (API bodies, TUF metadata, agent reports, config) is
 * parsed here, with limits checked before any work is done: total size, nesting depth, the
 * length of any one string, the number of members. Duplicate object keys and NUL characters
 * are refused (two parsers that disagree on which duplicate wins is how signature bypasses
 * happen). Errors say where: "bad JSON at line 3, column 7: ..." or "signed.expires:
 * expected string, got integer".
 *
 * Typed getters take the parent's path so errors name the full path of the field.
 */
#ifndef UPFLOW_JSON_H
#define UPFLOW_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

typedef struct uf_json_limits {
    size_t max_bytes;   /* whole document */
    size_t max_depth;   /* nesting of arrays and objects; the top level is depth 1 */
    size_t max_string;  /* bytes in any one string or key */
    size_t max_members; /* elements of any one array or object */
} uf_json_limits;

/* 1 MiB, depth 32, 64 KiB strings, 10,000 members: for API bodies and config. */
uf_json_limits uf_json_default_limits(void);

/* Parse a whole document. NULL on failure: UF_E_TOO_LARGE for a limit, UF_E_BAD_JSON for
 * syntax, duplicates, NULs or invalid UTF-8. */
json_t *uf_json_parse(const char *data, size_t len, const uf_json_limits *limits,
                      uf_error *err);
/* Read and parse a file, refusing files over limits->max_bytes before reading them. */
json_t *uf_json_load_file(const char *path, const uf_json_limits *limits, uf_error *err);

/* "object", "array", "string", "integer", "real", "true", "false", "null" */
const char *uf_json_type_name(const json_t *v);

/* Path of a member for error messages: "signed" + "expires" -> "signed.expires"; an empty
 * parent yields just the key. Keys that are not identifiers are quoted:
 * "signed.targets" + "a b" -> signed.targets["a b"]. */
void uf_json_path_key(char *out, size_t out_len, const char *parent, const char *key);
void uf_json_path_index(char *out, size_t out_len, const char *parent, size_t index);

/* Required members: fail with UF_E_BAD_FIELD "<path>: missing" or "<path>: expected T, got U".
 * Returned pointers borrow from obj. */
bool uf_json_get_object(const json_t *obj, const char *path, const char *key, json_t **out,
                        uf_error *err);
bool uf_json_get_array(const json_t *obj, const char *path, const char *key, json_t **out,
                       uf_error *err);
bool uf_json_get_string(const json_t *obj, const char *path, const char *key,
                        const char **out, uf_error *err);
bool uf_json_get_int(const json_t *obj, const char *path, const char *key, int64_t *out,
                     uf_error *err);
/* An integer within [min, max]. */
bool uf_json_get_int_range(const json_t *obj, const char *path, const char *key, int64_t min,
                           int64_t max, int64_t *out, uf_error *err);
bool uf_json_get_bool(const json_t *obj, const char *path, const char *key, bool *out,
                      uf_error *err);

/* Optional members: absent (or null) leaves *out untouched and succeeds; present with the
 * wrong type fails like the required getters. */
bool uf_json_opt_string(const json_t *obj, const char *path, const char *key,
                        const char **out, uf_error *err);
bool uf_json_opt_int(const json_t *obj, const char *path, const char *key, int64_t *out,
                     uf_error *err);
bool uf_json_opt_bool(const json_t *obj, const char *path, const char *key, bool *out,
                      uf_error *err);
bool uf_json_opt_object(const json_t *obj, const char *path, const char *key, json_t **out,
                        uf_error *err);
bool uf_json_opt_array(const json_t *obj, const char *path, const char *key, json_t **out,
                       uf_error *err);

/* Refuse members not in `allowed` (a NULL-terminated list): "<path>.colour: unknown field".
 * For API request bodies, where a typo must not be silently ignored. */
bool uf_json_only_keys(const json_t *obj, const char *path, const char *const allowed[],
                       uf_error *err);

#endif
