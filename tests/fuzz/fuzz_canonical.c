/*
 * fuzz_canonical.c - libFuzzer target for the canonical JSON encoder. For every document the
 * reader accepts, the canonical form must be produced or refused with an error, and where it
 * is itself valid JSON it must be a fixed point: canonical(parse(canonical(x))) ==
 * canonical(x), and must parse to a value equal to x.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/canonical_json.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_control_bytes(const uf_buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if ((unsigned char)b->data[i] < 0x20)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_json_limits lim = uf_json_default_limits();
    lim.max_depth = UF_CANONICAL_MAX_DEPTH;
    uf_error err;
    json_t *doc = uf_json_parse((const char *)data, size, &lim, &err);
    if (!doc)
        return 0;
    uf_buf first = UF_BUF_INIT, second = UF_BUF_INIT;
    if (!uf_canonical_json(doc, &first, &err)) {
        if (err.code != UF_E_BAD_FIELD) /* only floats may be refused at this depth */
            abort();
    } else if (!has_control_bytes(&first)) {
        json_t *again = uf_json_parse(first.data, first.len, &lim, &err);
        if (!again || !json_equal(doc, again))
            abort();
        if (!uf_canonical_json(again, &second, &err) || second.len != first.len ||
            memcmp(first.data, second.data, first.len) != 0)
            abort();
        json_decref(again);
    }
    uf_buf_free(&first);
    uf_buf_free(&second);
    json_decref(doc);
    return 0;
}
