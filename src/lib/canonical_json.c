/*
 * canonical_json.c - OLPC canonical JSON encoder (see canonical_json.h).
 *
 * Works on jansson values, so what is signed is always re-derived from the parsed document
 * and never trusted from the bytes received (tuf.md §4: servers may send pretty-printed
 * metadata). Output goes to a uf_buf; on failure the buffer is rolled back to its old length.
 */
#include "lib/canonical_json.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

static bool encode(const json_t *v, uf_buf *out, size_t depth, const char *path,
                   uf_error *err);

/* Only '"' and '\' are escaped; every other byte, control characters included, is raw. */
static bool encode_string(const char *s, size_t len, uf_buf *out, uf_error *err)
{
    if (!uf_buf_append_char(out, '"', err))
        return false;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '"' && s[i] != '\\')
            continue;
        if (!uf_buf_append(out, s + start, i - start, err) ||
            !uf_buf_append_char(out, '\\', err))
            return false;
        start = i; /* the quote or backslash itself is emitted with the next run */
    }
    return uf_buf_append(out, s + start, len - start, err) &&
           uf_buf_append_char(out, '"', err);
}

static int compare_keys(const void *a, const void *b)
{
    /* strcmp compares as unsigned char, which for UTF-8 is code point order. */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool encode_object(const json_t *v, uf_buf *out, size_t depth, const char *path,
                          uf_error *err)
{
    size_t n = json_object_size(v);
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys)
        return uf_error_set(err, UF_E_NOMEM, "canonical JSON: cannot sort %zu keys", n);
    size_t i = 0;
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)(uintptr_t)v, key, member)
        keys[i++] = key;
    qsort(keys, n, sizeof *keys, compare_keys);

    bool ok = uf_buf_append_char(out, '{', err);
    for (i = 0; ok && i < n; i++) {
        char sub[256];
        uf_json_path_key(sub, sizeof sub, path, keys[i]);
        ok = (i == 0 || uf_buf_append_char(out, ',', err)) &&
             encode_string(keys[i], strlen(keys[i]), out, err) &&
             uf_buf_append_char(out, ':', err) &&
             encode(json_object_get(v, keys[i]), out, depth + 1, sub, err);
    }
    free(keys);
    return ok && uf_buf_append_char(out, '}', err);
}

static bool encode_array(const json_t *v, uf_buf *out, size_t depth, const char *path,
                         uf_error *err)
{
    if (!uf_buf_append_char(out, '[', err))
        return false;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        char sub[256];
        uf_json_path_index(sub, sizeof sub, path, i);
        if ((i > 0 && !uf_buf_append_char(out, ',', err)) ||
            !encode(e, out, depth + 1, sub, err))
            return false;
    }
    return uf_buf_append_char(out, ']', err);
}

static bool encode(const json_t *v, uf_buf *out, size_t depth, const char *path,
                   uf_error *err)
{
    const char *where = *path ? path : "(top)";
    /* depth counts containers only, as the reader's limit does (json.c) */
    if ((json_is_object(v) || json_is_array(v)) && depth > UF_CANONICAL_MAX_DEPTH)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: nesting deeper than %d levels", where,
                            UF_CANONICAL_MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return encode_object(v, out, depth, path, err);
    case JSON_ARRAY:
        return encode_array(v, out, depth, path, err);
    case JSON_STRING:
        return encode_string(json_string_value(v), json_string_length(v), out, err);
    case JSON_INTEGER:
        return uf_buf_printf(out, err, "%" PRId64, (int64_t)json_integer_value(v));
    case JSON_REAL:
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: floats have no canonical form", where);
    case JSON_TRUE:
        return uf_buf_append_str(out, "true", err);
    case JSON_FALSE:
        return uf_buf_append_str(out, "false", err);
    case JSON_NULL:
        return uf_buf_append_str(out, "null", err);
    }
    return uf_error_set(err, UF_E_INTERNAL, "%s: unknown JSON type", where);
}

bool uf_canonical_json(const json_t *v, uf_buf *out, uf_error *err)
{
    size_t mark = out->len;
    if (!v)
        return uf_error_set(err, UF_E_INVALID, "canonical JSON: no value");
    if (encode(v, out, 1, "", err))
        return true;
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    return false;
}
