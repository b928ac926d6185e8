/*
 * json.c - strict parsing of untrusted JSON and typed getters that name the failing path
 * (see json.h). jansson does the parsing; this file adds the limits, the refusal of
 * duplicates and NULs, and error messages a person can act on.
 */
#include "lib/json.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uf_json_limits uf_json_default_limits(void)
{
    return (uf_json_limits){
        .max_bytes = 1024 * 1024,
        .max_depth = 32,
        .max_string = 64 * 1024,
        .max_members = 10000,
    };
}

const char *uf_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static bool is_identifier(const char *key)
{
    if (!*key || isdigit((unsigned char)*key))
        return false;
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

void uf_json_path_key(char *out, size_t out_len, const char *parent, const char *key)
{
    bool root = !parent || !*parent;
    if (is_identifier(key))
        snprintf(out, out_len, "%s%s%s", root ? "" : parent, root ? "" : ".", key);
    else
        snprintf(out, out_len, "%s[\"%s\"]", root ? "" : parent, key);
}

void uf_json_path_index(char *out, size_t out_len, const char *parent, size_t index)
{
    snprintf(out, out_len, "%s[%zu]", parent ? parent : "", index);
}

/*
 * Limits are checked on the parsed tree. jansson itself stops at a nesting of 2048 (reported
 * as a stack overflow, which we map to UF_E_TOO_LARGE), so the walk below is bounded too.
 */
static bool check_limits(const json_t *v, const uf_json_limits *lim, size_t depth,
                         const char *path, uf_error *err)
{
    char sub[256];
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (json_string_length(v) > lim->max_string)
            return uf_error_set(err, UF_E_TOO_LARGE, "%s: string of %zu bytes exceeds %zu",
                                *path ? path : "(top)", json_string_length(v),
                                lim->max_string);
        return true;
    case JSON_ARRAY:
    case JSON_OBJECT:
        break;
    default:
        return true;
    }
    if (depth > lim->max_depth)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: nesting deeper than %zu levels",
                            *path ? path : "(top)", lim->max_depth);
    size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v);
    if (n > lim->max_members)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: %zu members exceed %zu",
                            *path ? path : "(top)", n, lim->max_members);
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            uf_json_path_index(sub, sizeof sub, path, i);
            if (!check_limits(e, lim, depth + 1, sub, err))
                return false;
        }
        return true;
    }
    const char *key;
    const json_t *e;
    json_object_foreach((json_t *)(uintptr_t)v, key, e) {
        uf_json_path_key(sub, sizeof sub, path, key);
        if (strlen(key) > lim->max_string)
            return uf_error_set(err, UF_E_TOO_LARGE, "%s: key of %zu bytes exceeds %zu",
                                *path ? path : "(top)", strlen(key), lim->max_string);
        if (!check_limits(e, lim, depth + 1, sub, err))
            return false;
    }
    return true;
}

json_t *uf_json_parse(const char *data, size_t len, const uf_json_limits *limits,
                      uf_error *err)
{
    uf_json_limits lim = limits ? *limits : uf_json_default_limits();
    if (len > lim.max_bytes) {
        uf_error_set(err, UF_E_TOO_LARGE, "document of %zu bytes exceeds the limit of %zu",
                     len, lim.max_bytes);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        enum json_error_code c = json_error_code(&jerr);
        uf_code code = c == json_error_stack_overflow ? UF_E_TOO_LARGE
                     : c == json_error_out_of_memory ? UF_E_NOMEM
                                                     : UF_E_BAD_JSON;
        uf_error_set(err, code, "bad JSON at line %d, column %d: %s", jerr.line, jerr.column,
                     jerr.text);
        return NULL;
    }
    if (!check_limits(root, &lim, 1, "", err)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

json_t *uf_json_load_file(const char *path, const uf_json_limits *limits, uf_error *err)
{
    uf_json_limits lim = limits ? *limits : uf_json_default_limits();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        uf_error_errno(err, errno, "open %s", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        uf_error_errno(err, errno, "stat %s", path);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > lim.max_bytes) {
        if (S_ISREG(st.st_mode))
            uf_error_set(err, UF_E_TOO_LARGE, "%s: %jd bytes exceed the limit of %zu", path,
                         (intmax_t)st.st_size, lim.max_bytes);
        else
            uf_error_set(err, UF_E_INVALID, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *data = malloc(size ? size : 1);
    if (!data) {
        close(fd);
        uf_error_set(err, UF_E_NOMEM, "%s: cannot allocate %zu bytes", path, size);
        return NULL;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                uf_error_errno(err, errno, "read %s", path);
            else
                uf_error_set(err, UF_E_IO, "read %s: file shrank while reading", path);
            free(data);
            close(fd);
            return NULL;
        }
        got += (size_t)n;
    }
    close(fd);
    json_t *root = uf_json_parse(data, size, &lim, err);
    free(data);
    if (!root)
        uf_error_prefix(err, "%s", path);
    return root;
}

/* Looks up key in obj, which must itself be an object. *found is NULL when absent. */
static bool member(const json_t *obj, const char *path, const char *key, json_t **found,
                   char *full, size_t full_len, uf_error *err)
{
    uf_json_path_key(full, full_len, path, key);
    if (!json_is_object(obj))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object, got %s",
                            path && *path ? path : "(top)", obj ? uf_json_type_name(obj) : "nothing");
    *found = json_object_get(obj, key);
    return true;
}

static bool wrong_type(const char *full, const char *want, const json_t *got, uf_error *err)
{
    return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected %s, got %s", full, want,
                        uf_json_type_name(got));
}

/* Shared body of the typed getters: find the member, enforce presence and type. *out is set
 * to the member, or NULL for an absent optional one. */
static bool typed(const json_t *obj, const char *path, const char *key, bool required,
                  json_type type, const char *type_name, json_t **out, uf_error *err)
{
    char full[256];
    json_t *v;
    if (!member(obj, path, key, &v, full, sizeof full, err))
        return false;
    if (!v || (!required && json_is_null(v))) {
        *out = NULL;
        if (required)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: missing", full);
        return true;
    }
    bool ok = type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == type;
    if (!ok)
        return wrong_type(full, type_name, v, err);
    *out = v;
    return true;
}

bool uf_json_get_object(const json_t *obj, const char *path, const char *key, json_t **out,
                        uf_error *err)
{
    return typed(obj, path, key, true, JSON_OBJECT, "object", out, err);
}

bool uf_json_get_array(const json_t *obj, const char *path, const char *key, json_t **out,
                       uf_error *err)
{
    return typed(obj, path, key, true, JSON_ARRAY, "array", out, err);
}

bool uf_json_get_string(const json_t *obj, const char *path, const char *key,
                        const char **out, uf_error *err)
{
    json_t *v;
    if (!typed(obj, path, key, true, JSON_STRING, "string", &v, err))
        return false;
    *out = json_string_value(v);
    return true;
}

bool uf_json_get_int(const json_t *obj, const char *path, const char *key, int64_t *out,
                     uf_error *err)
{
    json_t *v;
    if (!typed(obj, path, key, true, JSON_INTEGER, "integer", &v, err))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

bool uf_json_get_int_range(const json_t *obj, const char *path, const char *key, int64_t min,
                           int64_t max, int64_t *out, uf_error *err)
{
    int64_t v;
    if (!uf_json_get_int(obj, path, key, &v, err))
        return false;
    if (v < min || v > max) {
        char full[256];
        uf_json_path_key(full, sizeof full, path, key);
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: %" PRId64 " is outside [%" PRId64
                            ", %" PRId64 "]", full, v, min, max);
    }
    *out = v;
    return true;
}

bool uf_json_get_bool(const json_t *obj, const char *path, const char *key, bool *out,
                      uf_error *err)
{
    json_t *v;
    if (!typed(obj, path, key, true, JSON_TRUE, "boolean", &v, err))
        return false;
    *out = json_is_true(v);
    return true;
}

bool uf_json_opt_string(const json_t *obj, const char *path, const char *key,
                        const char **out, uf_error *err)
{
    json_t *v;
    if (!typed(obj, path, key, false, JSON_STRING, "string", &v, err))
        return false;
    if (v)
        *out = json_string_value(v);
    return true;
}

bool uf_json_opt_int(const json_t *obj, const char *path, const char *key, int64_t *out,
                     uf_error *err)
{
    json_t *v;
    if (!typed(obj, path, key, false, JSON_INTEGER, "integer", &v, err))
        return false;
    if (v)
        *out = (int64_t)json_integer_value(v);
    return true;
}

bool uf_json_opt_bool(const json_t *obj, const char *path, const char *key, bool *out,
                      uf_error *err)
{
    json_t *v;
    if (!typed(obj, path, key, false, JSON_TRUE, "boolean", &v, err))
        return false;
    if (v)
        *out = json_is_true(v);
    return true;
}

bool uf_json_opt_object(const json_t *obj, const char *path, const char *key, json_t **out,
                        uf_error *err)
{
    json_t *v;
    if (!typed(obj, path, key, false, JSON_OBJECT, "object", &v, err))
        return false;
    if (v)
        *out = v;
    return true;
}

bool uf_json_opt_array(const json_t *obj, const char *path, const char *key, json_t **out,
                       uf_error *err)
{
    json_t *v;
    if (!typed(obj, path, key, false, JSON_ARRAY, "array", &v, err))
        return false;
    if (v)
        *out = v;
    return true;
}

bool uf_json_only_keys(const json_t *obj, const char *path, const char *const allowed[],
                       uf_error *err)
{
    if (!json_is_object(obj))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object, got %s",
                            path && *path ? path : "(top)", obj ? uf_json_type_name(obj) : "nothing");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(allowed[i], key) == 0;
        if (!known) {
            char full[256];
            uf_json_path_key(full, sizeof full, path, key);
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: unknown field", full);
        }
    }
    return true;
}
