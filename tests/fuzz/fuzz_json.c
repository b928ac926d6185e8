/*
 * fuzz_json.c - libFuzzer target for the strict JSON reader: any bytes must give a document
 * or a clear error (a code and a message), never a crash, a leak or undefined behaviour.
 * Parsed documents are also walked with the typed getters and canonicalised.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/canonical_json.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_json_limits lim = uf_json_default_limits();
    lim.max_depth = 16;
    lim.max_string = 256;
    lim.max_members = 64;
    uf_error err;
    uf_error_clear(&err);
    json_t *doc = uf_json_parse((const char *)data, size, &lim, &err);
    if (!doc) {
        if (err.code == UF_OK || err.msg[0] == '\0')
            abort(); /* every failure must say what went wrong */
        return 0;
    }
    const char *s;
    int64_t i;
    bool b;
    json_t *o;
    uf_json_get_string(doc, "fuzz", "expires", &s, &err);
    uf_json_get_int(doc, "fuzz", "version", &i, &err);
    uf_json_opt_bool(doc, "fuzz", "consistent_snapshot", &b, &err);
    uf_json_opt_object(doc, "fuzz", "signed", &o, &err);
    uf_buf out = UF_BUF_INIT;
    uf_canonical_json(doc, &out, &err);
    uf_buf_free(&out);
    json_decref(doc);
    return 0;
}
