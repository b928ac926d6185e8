/*
 * fuzz_image_index.c - libFuzzer target for the image index reader: any bytes must give an
 * index or a clear error, never a crash. An index that parses must be internally
 * consistent: every entry decodes, and the entries tile the image and the payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_error err;
    uf_error_clear(&err);
    uf_image_index *idx = uf_image_index_parse(data, size, &err);
    if (!idx) {
        if (err.code == UF_OK || err.msg[0] == '\0')
            abort();
        return 0;
    }
    const uf_image_header *h = uf_image_index_header(idx);
    uint64_t offset = 0, poffset = 0;
    for (uint64_t i = 0; i < h->chunk_count; i++) {
        uf_image_chunk c;
        if (!uf_image_index_chunk(idx, i, &c, &err) || c.offset != offset ||
            c.payload_offset != poffset || c.length == 0 || c.length > h->max_size)
            abort();
        offset += c.length;
        poffset += c.payload_length;
    }
    if (offset != h->image_size || poffset != h->payload_size)
        abort();
    /* A plan against itself accounts for every chunk (equal hashes with different lengths,
     * which only a forged index has, are fetched). */
    uf_image_plan plan;
    if (!uf_image_plan_make(idx, idx, &plan, &err) ||
        plan.fetch_chunks + plan.copy_chunks != h->chunk_count)
        abort();
    uf_image_plan_free(&plan);
    uf_image_index_free(idx);
    return 0;
}
