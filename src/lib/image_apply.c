/*
 * image_apply.c - using a chunked image: verify a payload, rebuild the image from it, and
 * plan a delta update from the chunks a device already holds (see image.h).
 *
 * Each chunk is read, decompressed into a buffer of exactly its stated length and hashed
 * before anything is done with it, so a corrupted or hostile payload can make these fail
 * but never write a byte that the index does not vouch for. Memory is one chunk and its
 * compressed form, whatever the size of the image.
 */
#include "lib/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "lib/hash.h"
#include "lib/image_io.h"

#define CHUNK_FMT "chunk %llu (offset %llu, %lu bytes)"
#define CHUNK_ARGS(c)                                                                         \
    (unsigned long long)(c)->index, (unsigned long long)(c)->offset, (unsigned long)(c)->length

typedef struct chunk_reader {
    const uf_image_index *idx;
    int payload_fd;
    ZSTD_DCtx *dctx;
    uint8_t *comp, *plain;
} chunk_reader;

static bool reader_init(chunk_reader *r, const uf_image_index *idx, int payload_fd,
                        uf_error *err)
{
    const uf_image_header *h = uf_image_index_header(idx);
    memset(r, 0, sizeof *r);
    r->idx = idx;
    r->payload_fd = payload_fd;
    r->dctx = ZSTD_createDCtx();
    r->comp = malloc(ZSTD_compressBound(h->max_size));
    r->plain = malloc(h->max_size);
    if (!r->dctx || !r->comp || !r->plain)
        return uf_error_set(err, UF_E_NOMEM, "cannot allocate chunk buffers");
    struct stat st;
    if (fstat(payload_fd, &st) != 0)
        return uf_error_errno(err, errno, "stat payload");
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size != h->payload_size)
        return uf_error_set(err, st.st_size < (off_t)h->payload_size ? UF_E_IO : UF_E_INVALID,
                            "payload is %lld bytes, the index says %llu", (long long)st.st_size,
                            (unsigned long long)h->payload_size);
    return true;
}

static void reader_free(chunk_reader *r)
{
    ZSTD_freeDCtx(r->dctx);
    free(r->comp);
    free(r->plain);
}

/* Check the compressed bytes comp of chunk c and decompress them into plain (c->length
 * bytes), checking the result too. */
static bool decode_chunk(ZSTD_DCtx *dctx, const uf_image_chunk *c, const uint8_t *comp,
                         uint8_t *plain, uf_error *err)
{
    /* The compressed bytes first: the decompressor only ever sees bytes the index vouches
     * for, and a changed bit that zstd would ignore (there are some) is still caught. */
    uint8_t digest[UF_HASH_MAX_SIZE];
    if (!uf_hash_buf(UF_HASH_SHA256, comp, c->payload_length, digest, err))
        return uf_error_prefix(err, CHUNK_FMT, CHUNK_ARGS(c));
    if (memcmp(digest, c->payload_sha256, 32) != 0)
        return uf_error_set(err, UF_E_HASH_MISMATCH,
                            CHUNK_FMT
                            ": SHA-256 mismatch in its compressed bytes (payload %llu+%lu)",
                            CHUNK_ARGS(c), (unsigned long long)c->payload_offset,
                            (unsigned long)c->payload_length);
    /* Exactly one frame that states exactly the chunk's length. */
    if (ZSTD_findFrameCompressedSize(comp, c->payload_length) != c->payload_length ||
        ZSTD_getFrameContentSize(comp, c->payload_length) != c->length)
        return uf_error_set(err, UF_E_HASH_MISMATCH, CHUNK_FMT ": not a zstd frame of its length",
                            CHUNK_ARGS(c));
    size_t n = ZSTD_decompressDCtx(dctx, plain, c->length, comp, c->payload_length);
    if (ZSTD_isError(n) || n != c->length)
        return uf_error_set(err, UF_E_HASH_MISMATCH, CHUNK_FMT ": cannot decompress (%s)",
                            CHUNK_ARGS(c),
                            ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
    return uf_image_check_chunk(c, plain, err);
}

bool uf_image_check_chunk(const uf_image_chunk *c, const void *plain, uf_error *err)
{
    uint8_t digest[UF_HASH_MAX_SIZE];
    if (!uf_hash_buf(UF_HASH_SHA256, plain, c->length, digest, err))
        return uf_error_prefix(err, CHUNK_FMT, CHUNK_ARGS(c));
    if (memcmp(digest, c->sha256, 32) != 0)
        return uf_error_set(err, UF_E_HASH_MISMATCH, CHUNK_FMT ": SHA-256 mismatch",
                            CHUNK_ARGS(c));
    return true;
}

struct uf_image_decoder {
    ZSTD_DCtx *dctx;
    uint8_t *plain;
};

uf_image_decoder *uf_image_decoder_new(const uf_image_header *h, uf_error *err)
{
    uf_image_decoder *d = calloc(1, sizeof *d);
    if (d) {
        d->dctx = ZSTD_createDCtx();
        d->plain = malloc(h->max_size ? h->max_size : 1);
    }
    if (!d || !d->dctx || !d->plain) {
        uf_image_decoder_free(d);
        uf_error_set(err, UF_E_NOMEM, "cannot allocate a chunk decoder");
        return NULL;
    }
    return d;
}

void uf_image_decoder_free(uf_image_decoder *d)
{
    if (!d)
        return;
    ZSTD_freeDCtx(d->dctx);
    free(d->plain);
    free(d);
}

const uint8_t *uf_image_decode_chunk(uf_image_decoder *d, const uf_image_chunk *c,
                                     const void *compressed, uf_error *err)
{
    return decode_chunk(d->dctx, c, compressed, d->plain, err) ? d->plain : NULL;
}

/* Read chunk c from the payload into r->plain and check it against its hash. */
static bool read_chunk(chunk_reader *r, const uf_image_chunk *c, uf_error *err)
{
    if (!uf_image_read_at(r->payload_fd, r->comp, c->payload_length, c->payload_offset, err))
        return uf_error_prefix(err, CHUNK_FMT ": payload", CHUNK_ARGS(c));
    return decode_chunk(r->dctx, c, r->comp, r->plain, err);
}

/* Read chunk c from the old image at old_offset into r->plain and check it. */
static bool read_old_chunk(chunk_reader *r, int old_fd, const uf_image_chunk *c,
                           uint64_t old_offset, uf_error *err)
{
    if (!uf_image_read_at(old_fd, r->plain, c->length, old_offset, err))
        return uf_error_prefix(err, CHUNK_FMT ": old image", CHUNK_ARGS(c));
    uint8_t digest[UF_HASH_MAX_SIZE];
    if (!uf_hash_buf(UF_HASH_SHA256, r->plain, c->length, digest, err))
        return uf_error_prefix(err, CHUNK_FMT, CHUNK_ARGS(c));
    if (memcmp(digest, c->sha256, 32) != 0)
        return uf_error_set(err, UF_E_HASH_MISMATCH,
                            CHUNK_FMT ": SHA-256 mismatch in the old image at %llu",
                            CHUNK_ARGS(c), (unsigned long long)old_offset);
    return true;
}

static bool image_hash_check(uf_hash *h, const uf_image_header *hdr, uf_error *err)
{
    uint8_t digest[UF_HASH_MAX_SIZE];
    if (!uf_hash_final(h, digest, err))
        return false;
    if (memcmp(digest, hdr->image_sha256, 32) != 0)
        return uf_error_set(err, UF_E_HASH_MISMATCH, "image SHA-256 mismatch");
    return true;
}

bool uf_image_verify(const uf_image_index *idx, int payload_fd, uf_image_verify_stats *stats,
                     uf_error *err)
{
    const uf_image_header *h = uf_image_index_header(idx);
    chunk_reader r;
    uf_hash *whole = NULL;
    bool ok = false;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!reader_init(&r, idx, payload_fd, err) || !(whole = uf_hash_new(UF_HASH_SHA256, err)))
        goto out;
    for (uint64_t i = 0; i < h->chunk_count; i++) {
        uf_image_chunk c;
        if (!uf_image_index_chunk(idx, i, &c, err) || !read_chunk(&r, &c, err) ||
            !uf_hash_update(whole, r.plain, c.length, err))
            goto out;
        if (stats) {
            stats->chunks_ok++;
            stats->bytes_ok += c.length;
        }
    }
    ok = image_hash_check(whole, h, err);
out:
    uf_hash_free(whole);
    reader_free(&r);
    return ok;
}

static bool write_at(int fd, const uint8_t *p, size_t len, uint64_t off, uf_error *err)
{
    return uf_image_write_at(fd, p, len, off, err) ||
           uf_error_prefix(err, "image at %llu", (unsigned long long)off);
}

bool uf_image_extract(const uf_image_index *idx, int payload_fd, int out_fd,
                      uint64_t first_chunk, uf_error *err)
{
    const uf_image_header *h = uf_image_index_header(idx);
    if (first_chunk > h->chunk_count)
        return uf_error_set(err, UF_E_INVALID, "cannot resume at chunk %llu of %llu",
                            (unsigned long long)first_chunk,
                            (unsigned long long)h->chunk_count);
    chunk_reader r;
    uf_hash *whole = NULL;
    bool ok = false;
    if (!reader_init(&r, idx, payload_fd, err) || !(whole = uf_hash_new(UF_HASH_SHA256, err)))
        goto out;
    for (uint64_t i = first_chunk; i < h->chunk_count; i++) {
        uf_image_chunk c;
        if (!uf_image_index_chunk(idx, i, &c, err) || !read_chunk(&r, &c, err) ||
            !write_at(out_fd, r.plain, c.length, c.offset, err) ||
            !uf_hash_update(whole, r.plain, c.length, err))
            goto out;
    }
    ok = first_chunk > 0 || image_hash_check(whole, h, err);
out:
    uf_hash_free(whole);
    reader_free(&r);
    return ok;
}

bool uf_image_extract_delta(const uf_image_index *new_idx, const uf_image_plan *plan,
                            int old_fd, int payload_fd, int out_fd, uf_error *err)
{
    const uf_image_header *h = uf_image_index_header(new_idx);
    if (plan->copy_chunks + plan->fetch_chunks != h->chunk_count)
        return uf_error_set(err, UF_E_INVALID, "the plan is not for this index");
    chunk_reader r;
    uf_hash *whole = NULL;
    bool ok = false;
    /* The payload is sparse here: only the fetched ranges matter, so its size is not
     * checked against the header. */
    memset(&r, 0, sizeof r);
    r.idx = new_idx;
    r.payload_fd = payload_fd;
    r.dctx = ZSTD_createDCtx();
    r.comp = malloc(ZSTD_compressBound(h->max_size));
    r.plain = malloc(h->max_size);
    if (!r.dctx || !r.comp || !r.plain) {
        uf_error_set(err, UF_E_NOMEM, "cannot allocate chunk buffers");
        goto out;
    }
    if (!(whole = uf_hash_new(UF_HASH_SHA256, err)))
        goto out;
    size_t next_copy = 0;
    for (uint64_t i = 0; i < h->chunk_count; i++) {
        uf_image_chunk c;
        if (!uf_image_index_chunk(new_idx, i, &c, err))
            goto out;
        if (next_copy < plan->copy_count && plan->copies[next_copy].chunk == i) {
            if (!read_old_chunk(&r, old_fd, &c, plan->copies[next_copy].old_offset, err))
                goto out;
            next_copy++;
        } else if (!read_chunk(&r, &c, err)) {
            goto out;
        }
        if (!write_at(out_fd, r.plain, c.length, c.offset, err) ||
            !uf_hash_update(whole, r.plain, c.length, err))
            goto out;
    }
    ok = image_hash_check(whole, h, err);
out:
    uf_hash_free(whole);
    reader_free(&r);
    return ok;
}

/* --- delta plan ------------------------------------------------------------------------
 *
 * The old image's chunks go into an open-addressing table keyed by their SHA-256 (the first
 * 8 bytes pick the bucket; the hash is uniform). Each new chunk found there is copied from
 * the old slot; the others are fetched, and runs of consecutive fetched chunks become one
 * Range request, since their compressed bytes are contiguous in the payload.
 */
typedef struct old_chunk {
    uint8_t sha256[32];
    uint64_t offset;
    uint32_t length;
    bool used;
} old_chunk;

static uint64_t bucket_of(const uint8_t sha[32], size_t mask)
{
    uint64_t v;
    memcpy(&v, sha, sizeof v);
    return v & mask;
}

static bool plan_grow(void **arr, size_t *cap, size_t count, size_t elem, uf_error *err)
{
    if (count < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *n = realloc(*arr, ncap * elem);
    if (!n)
        return uf_error_set(err, UF_E_NOMEM, "cannot grow the plan");
    *arr = n;
    *cap = ncap;
    return true;
}

bool uf_image_plan_make(const uf_image_index *new_idx, const uf_image_index *old_idx,
                        uf_image_plan *plan, uf_error *err)
{
    const uf_image_header *nh = uf_image_index_header(new_idx);
    const uf_image_header *oh = uf_image_index_header(old_idx);
    memset(plan, 0, sizeof *plan);
    plan->full_payload_bytes = nh->payload_size;
    if (oh->chunk_count > SIZE_MAX / 4 / sizeof(old_chunk))
        return uf_error_set(err, UF_E_TOO_LARGE, "old index too large");
    size_t cap = 16;
    while (cap < 2 * oh->chunk_count)
        cap *= 2;
    old_chunk *table = calloc(cap, sizeof *table);
    if (!table)
        return uf_error_set(err, UF_E_NOMEM, "cannot hold the old image's chunk table");
    size_t fetch_cap = 0, copy_cap = 0;
    bool ok = false;
    for (uint64_t i = 0; i < oh->chunk_count; i++) {
        uf_image_chunk c;
        if (!uf_image_index_chunk(old_idx, i, &c, err)) {
            uf_error_prefix(err, "old index");
            goto out;
        }
        size_t b = bucket_of(c.sha256, cap - 1);
        while (table[b].used && memcmp(table[b].sha256, c.sha256, 32) != 0)
            b = (b + 1) & (cap - 1);
        if (table[b].used)
            continue; /* the same content twice: the first copy serves */
        memcpy(table[b].sha256, c.sha256, 32);
        table[b].offset = c.offset;
        table[b].length = c.length;
        table[b].used = true;
    }
    for (uint64_t i = 0; i < nh->chunk_count; i++) {
        uf_image_chunk c;
        if (!uf_image_index_chunk(new_idx, i, &c, err)) {
            uf_error_prefix(err, "new index");
            goto out;
        }
        size_t b = bucket_of(c.sha256, cap - 1);
        while (table[b].used && memcmp(table[b].sha256, c.sha256, 32) != 0)
            b = (b + 1) & (cap - 1);
        if (table[b].used && table[b].length == c.length) {
            if (!plan_grow((void **)&plan->copies, &copy_cap, plan->copy_count,
                           sizeof *plan->copies, err))
                goto out;
            plan->copies[plan->copy_count++] = (uf_image_copy){
                .chunk = i, .offset = c.offset, .old_offset = table[b].offset,
                .length = c.length};
            plan->copy_chunks++;
            plan->copy_bytes += c.length;
            continue;
        }
        uf_image_fetch *last = plan->fetch_count ? &plan->fetches[plan->fetch_count - 1] : NULL;
        if (last && last->first_chunk + last->chunk_count == i) {
            last->chunk_count++;
            last->length += c.length;
            last->payload_length += c.payload_length;
        } else {
            if (!plan_grow((void **)&plan->fetches, &fetch_cap, plan->fetch_count,
                           sizeof *plan->fetches, err))
                goto out;
            plan->fetches[plan->fetch_count++] = (uf_image_fetch){
                .first_chunk = i, .chunk_count = 1, .offset = c.offset, .length = c.length,
                .payload_offset = c.payload_offset, .payload_length = c.payload_length};
        }
        plan->fetch_chunks++;
        plan->fetch_bytes += c.payload_length;
    }
    ok = true;
out:
    free(table);
    if (!ok)
        uf_image_plan_free(plan);
    return ok;
}

void uf_image_plan_free(uf_image_plan *plan)
{
    free(plan->fetches);
    free(plan->copies);
    memset(plan, 0, sizeof *plan);
}
