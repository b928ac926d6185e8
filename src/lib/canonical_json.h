/*
 * canonical_json.h - the OLPC canonical JSON form that TUF signs (tuf.md §4).
 *
 * Object keys sorted by code point (the byte order of their UTF-8), no whitespace, only
 * integers (no floats), strings with only `"` and `\` escaped and everything else, control
 * characters and non-ASCII included, emitted raw as UTF-8. This is what securesystemslib's
 * encode_canonical produces, so signatures made by python-tuf verify here and ours there.
 */
#ifndef UPFLOW_CANONICAL_JSON_H
#define UPFLOW_CANONICAL_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/buf.h"
#include "lib/error.h"

/* Deepest nesting of arrays and objects the encoder follows (the top level is 1); deeper
 * values are UF_E_TOO_LARGE. */
#define UF_CANONICAL_MAX_DEPTH 64

/* Append the canonical form of v to out. Fails with UF_E_BAD_FIELD naming the path of a
 * float ("signed.version: floats have no canonical form") and leaves out as it was. */
bool uf_canonical_json(const json_t *v, uf_buf *out, uf_error *err);

#endif
