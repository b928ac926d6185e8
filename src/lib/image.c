/*
 * image.c - the image index: parameters, the byte layout of the header and the entries, and
 * the strict reader (see image.h and docs/image-format.md).
 *
 * Everything an index says is checked before anything else trusts it: a device reads the
 * index to decide which byte ranges to fetch and how much memory to give a chunk, so a
 * malformed one must be a clean error, never an out-of-bounds read or a huge allocation.
 * The reader checks one entry at a time against the header and the entries before it, so a
 * whole index is checked in constant memory.
 */
#include "lib/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "lib/image_io.h"

void uf_image_params_default(uf_image_params *p)
{
    p->min_size = UF_IMAGE_DEFAULT_MIN;
    p->avg_size = UF_IMAGE_DEFAULT_AVG;
    p->max_size = UF_IMAGE_DEFAULT_MAX;
    p->level = UF_IMAGE_DEFAULT_LEVEL;
    p->threads = 0;
}

static bool chunking_check(uint32_t min, uint32_t avg, uint32_t max, uf_error *err)
{
    if (min < UF_IMAGE_MIN_CHUNK_LIMIT)
        return uf_error_set(err, UF_E_INVALID, "minimum chunk size %u is below %u", min,
                            UF_IMAGE_MIN_CHUNK_LIMIT);
    if (max > UF_IMAGE_MAX_CHUNK_LIMIT)
        return uf_error_set(err, UF_E_INVALID, "maximum chunk size %u is above %u", max,
                            UF_IMAGE_MAX_CHUNK_LIMIT);
    if (!(min < avg && avg < max))
        return uf_error_set(err, UF_E_INVALID,
                            "chunk sizes must grow: min %u < avg %u < max %u", min, avg, max);
    if ((avg & (avg - 1)) != 0)
        return uf_error_set(err, UF_E_INVALID, "average chunk size %u is not a power of two",
                            avg);
    return true;
}

static bool level_check(int level, uf_error *err)
{
    if (level < 1 || level > ZSTD_maxCLevel())
        return uf_error_set(err, UF_E_INVALID, "zstd level %d is not within 1..%d", level,
                            ZSTD_maxCLevel());
    return true;
}

bool uf_image_params_check(const uf_image_params *p, uf_error *err)
{
    return chunking_check(p->min_size, p->avg_size, p->max_size, err) &&
           level_check(p->level, err);
}

/* --- little-endian fields ------------------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Header layout (docs/image-format.md). */
enum {
    H_MAGIC = 0, H_VERSION = 8, H_HEADER_SIZE = 12, H_ENTRY_SIZE = 16, H_MIN = 20, H_AVG = 24,
    H_MAX = 28, H_LEVEL = 32, H_FLAGS = 36, H_COUNT = 40, H_IMAGE_SIZE = 48,
    H_PAYLOAD_SIZE = 56, H_SHA256 = 64, H_RESERVED = 96
};
/* Entry layout. */
enum { E_OFFSET = 0, E_LENGTH = 8, E_POFFSET = 12, E_PLENGTH = 20, E_SHA256 = 24, E_PSHA256 = 56 };

void uf_image_header_encode(const uf_image_header *h, uint8_t out[UF_IMAGE_HEADER_SIZE])
{
    memset(out, 0, UF_IMAGE_HEADER_SIZE);
    memcpy(out + H_MAGIC, UF_IMAGE_MAGIC, 8);
    put_u32(out + H_VERSION, h->version);
    put_u32(out + H_HEADER_SIZE, UF_IMAGE_HEADER_SIZE);
    put_u32(out + H_ENTRY_SIZE, UF_IMAGE_ENTRY_SIZE);
    put_u32(out + H_MIN, h->min_size);
    put_u32(out + H_AVG, h->avg_size);
    put_u32(out + H_MAX, h->max_size);
    put_u32(out + H_LEVEL, (uint32_t)h->level);
    put_u64(out + H_COUNT, h->chunk_count);
    put_u64(out + H_IMAGE_SIZE, h->image_size);
    put_u64(out + H_PAYLOAD_SIZE, h->payload_size);
    memcpy(out + H_SHA256, h->image_sha256, 32);
}

void uf_image_entry_encode(const uf_image_chunk *c, uint8_t out[UF_IMAGE_ENTRY_SIZE])
{
    put_u64(out + E_OFFSET, c->offset);
    put_u32(out + E_LENGTH, c->length);
    put_u64(out + E_POFFSET, c->payload_offset);
    put_u32(out + E_PLENGTH, c->payload_length);
    memcpy(out + E_SHA256, c->sha256, 32);
    memcpy(out + E_PSHA256, c->payload_sha256, 32);
}

bool uf_image_header_decode(const uint8_t in[UF_IMAGE_HEADER_SIZE], uint64_t index_size,
                            uf_image_header *h, uf_error *err)
{
    memset(h, 0, sizeof *h);
    if (memcmp(in + H_MAGIC, UF_IMAGE_MAGIC, 8) != 0)
        return uf_error_set(err, UF_E_INVALID, "not an upflow image index (bad magic)");
    h->version = get_u32(in + H_VERSION);
    if (h->version != UF_IMAGE_VERSION)
        return uf_error_set(err, UF_E_UNSUPPORTED, "index format version %u (this reads %u)",
                            h->version, UF_IMAGE_VERSION);
    if (get_u32(in + H_HEADER_SIZE) != UF_IMAGE_HEADER_SIZE ||
        get_u32(in + H_ENTRY_SIZE) != UF_IMAGE_ENTRY_SIZE)
        return uf_error_set(err, UF_E_INVALID, "header or entry size is not %u/%u",
                            UF_IMAGE_HEADER_SIZE, UF_IMAGE_ENTRY_SIZE);
    if (get_u32(in + H_FLAGS) != 0)
        return uf_error_set(err, UF_E_UNSUPPORTED, "unknown flags 0x%x",
                            get_u32(in + H_FLAGS));
    for (unsigned i = H_RESERVED; i < UF_IMAGE_HEADER_SIZE; i++)
        if (in[i] != 0)
            return uf_error_set(err, UF_E_INVALID, "reserved header byte %u is not zero", i);
    h->min_size = get_u32(in + H_MIN);
    h->avg_size = get_u32(in + H_AVG);
    h->max_size = get_u32(in + H_MAX);
    h->level = (int32_t)get_u32(in + H_LEVEL);
    if (!chunking_check(h->min_size, h->avg_size, h->max_size, err) ||
        !level_check(h->level, err))
        return uf_error_prefix(err, "index header");
    h->chunk_count = get_u64(in + H_COUNT);
    h->image_size = get_u64(in + H_IMAGE_SIZE);
    h->payload_size = get_u64(in + H_PAYLOAD_SIZE);
    memcpy(h->image_sha256, in + H_SHA256, 32);

    uint64_t count = h->chunk_count;
    if (index_size < UF_IMAGE_HEADER_SIZE ||
        (index_size - UF_IMAGE_HEADER_SIZE) % UF_IMAGE_ENTRY_SIZE != 0 ||
        (index_size - UF_IMAGE_HEADER_SIZE) / UF_IMAGE_ENTRY_SIZE != count)
        return uf_error_set(err, UF_E_INVALID,
                            "index of %llu bytes cannot hold the %llu chunks its header names",
                            (unsigned long long)index_size, (unsigned long long)count);
    /* n chunks cover at least (n-1) x min + 1 bytes and at most n x max bytes. */
    if ((count == 0) != (h->image_size == 0) ||
        (count > 0 && ((count - 1) > (h->image_size - 1) / h->min_size ||
                       count < (h->image_size - 1) / h->max_size + 1)))
        return uf_error_set(err, UF_E_INVALID, "%llu chunks cannot make an image of %llu bytes",
                            (unsigned long long)count, (unsigned long long)h->image_size);
    uint64_t bound = ZSTD_COMPRESSBOUND((uint64_t)h->max_size);
    if ((count == 0) != (h->payload_size == 0) ||
        (count > 0 && (h->payload_size < count || h->payload_size / count > bound)))
        return uf_error_set(err, UF_E_INVALID,
                            "%llu chunks cannot make a payload of %llu bytes",
                            (unsigned long long)count, (unsigned long long)h->payload_size);
    return true;
}

void uf_image_cursor_init(uf_image_cursor *cur, const uf_image_header *h)
{
    cur->header = *h;
    cur->next = 0;
    cur->offset = 0;
    cur->payload_offset = 0;
}

/* Context for a message about entry i: "chunk 17 (offset 1114112, 65536 bytes)". */
#define CHUNK_FMT "chunk %llu (offset %llu, %lu bytes)"
#define CHUNK_ARGS(c)                                                                         \
    (unsigned long long)(c)->index, (unsigned long long)(c)->offset, (unsigned long)(c)->length

/* The checks of one entry that need only the header. */
static bool entry_check(const uf_image_header *h, const uf_image_chunk *c, uf_error *err)
{
    bool last = c->index + 1 == h->chunk_count;
    if (c->index >= h->chunk_count)
        return uf_error_set(err, UF_E_INVALID, "chunk %llu is past the last one",
                            (unsigned long long)c->index);
    if (c->length == 0 || c->length > h->max_size || (!last && c->length < h->min_size))
        return uf_error_set(err, UF_E_INVALID, CHUNK_FMT ": length outside %u..%u",
                            CHUNK_ARGS(c), h->min_size, h->max_size);
    if (c->offset > h->image_size || h->image_size - c->offset < c->length)
        return uf_error_set(err, UF_E_INVALID, CHUNK_FMT ": past the end of the image",
                            CHUNK_ARGS(c));
    if (c->payload_length == 0 || c->payload_length > ZSTD_COMPRESSBOUND(h->max_size))
        return uf_error_set(err, UF_E_INVALID, CHUNK_FMT ": compressed length %lu impossible",
                            CHUNK_ARGS(c), (unsigned long)c->payload_length);
    if (c->payload_offset > h->payload_size ||
        h->payload_size - c->payload_offset < c->payload_length)
        return uf_error_set(err, UF_E_INVALID, CHUNK_FMT ": past the end of the payload",
                            CHUNK_ARGS(c));
    return true;
}

static void entry_decode(const uint8_t in[UF_IMAGE_ENTRY_SIZE], uint64_t i, uf_image_chunk *c)
{
    c->index = i;
    c->offset = get_u64(in + E_OFFSET);
    c->length = get_u32(in + E_LENGTH);
    c->payload_offset = get_u64(in + E_POFFSET);
    c->payload_length = get_u32(in + E_PLENGTH);
    memcpy(c->sha256, in + E_SHA256, 32);
    memcpy(c->payload_sha256, in + E_PSHA256, 32);
}

bool uf_image_cursor_next(uf_image_cursor *cur, const uint8_t in[UF_IMAGE_ENTRY_SIZE],
                          uf_image_chunk *out, uf_error *err)
{
    uf_image_chunk c;
    entry_decode(in, cur->next, &c);
    if (!entry_check(&cur->header, &c, err))
        return false;
    if (c.offset != cur->offset || c.payload_offset != cur->payload_offset)
        return uf_error_set(err, UF_E_INVALID,
                            CHUNK_FMT ": not contiguous (expected offset %llu, payload offset "
                                      "%llu, got payload offset %llu)",
                            CHUNK_ARGS(&c), (unsigned long long)cur->offset,
                            (unsigned long long)cur->payload_offset,
                            (unsigned long long)c.payload_offset);
    cur->next++;
    cur->offset += c.length;
    cur->payload_offset += c.payload_length;
    if (out)
        *out = c;
    return true;
}

bool uf_image_cursor_finish(const uf_image_cursor *cur, uf_error *err)
{
    const uf_image_header *h = &cur->header;
    if (cur->next != h->chunk_count || cur->offset != h->image_size ||
        cur->payload_offset != h->payload_size)
        return uf_error_set(err, UF_E_INVALID,
                            "entries cover %llu chunks, %llu image bytes and %llu payload bytes; "
                            "the header says %llu, %llu and %llu",
                            (unsigned long long)cur->next, (unsigned long long)cur->offset,
                            (unsigned long long)cur->payload_offset,
                            (unsigned long long)h->chunk_count,
                            (unsigned long long)h->image_size,
                            (unsigned long long)h->payload_size);
    return true;
}

/* --- the index object ----------------------------------------------------------------- */

struct uf_image_index {
    uf_image_header header;
    uint8_t *bytes; /* whole index (parsed from memory), or NULL */
    int fd;         /* open index file, or -1 */
};

uf_image_index *uf_image_index_parse(const void *data, size_t len, uf_error *err)
{
    const uint8_t *in = data;
    if (len < UF_IMAGE_HEADER_SIZE) {
        uf_error_set(err, UF_E_INVALID, "index of %zu bytes is shorter than its header", len);
        return NULL;
    }
    uf_image_header h;
    if (!uf_image_header_decode(in, len, &h, err))
        return NULL;
    uf_image_cursor cur;
    uf_image_cursor_init(&cur, &h);
    for (uint64_t i = 0; i < h.chunk_count; i++)
        if (!uf_image_cursor_next(&cur, in + UF_IMAGE_HEADER_SIZE + i * UF_IMAGE_ENTRY_SIZE,
                                  NULL, err))
            return NULL;
    if (!uf_image_cursor_finish(&cur, err))
        return NULL;
    uf_image_index *idx = calloc(1, sizeof *idx);
    uint8_t *copy = malloc(len);
    if (!idx || !copy) {
        free(idx);
        free(copy);
        uf_error_set(err, UF_E_NOMEM, "cannot hold an index of %zu bytes", len);
        return NULL;
    }
    memcpy(copy, in, len);
    idx->header = h;
    idx->bytes = copy;
    idx->fd = -1;
    return idx;
}

bool uf_image_read_at(int fd, void *buf, size_t len, uint64_t off, uf_error *err)
{
    uint8_t *p = buf;
    uint64_t end = off + len;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return uf_error_errno(err, errno, "read at %llu", (unsigned long long)off);
        if (n == 0)
            return uf_error_set(err, UF_E_IO, "file ends at %llu, before %llu",
                                (unsigned long long)off, (unsigned long long)end);
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return true;
}

bool uf_image_write_at(int fd, const void *buf, size_t len, uint64_t off, uf_error *err)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = off == UF_IMAGE_AT_END ? write(fd, p, len) : pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return uf_error_errno(err, errno, "write");
        p += n;
        len -= (size_t)n;
        if (off != UF_IMAGE_AT_END)
            off += (uint64_t)n;
    }
    return true;
}

/* Read for the index reader, naming the part on failure. */
static bool read_full_at(int fd, void *buf, size_t len, uint64_t off, const char *what,
                         uf_error *err)
{
    return uf_image_read_at(fd, buf, len, off, err) || uf_error_prefix(err, "read %s", what);
}

uf_image_index *uf_image_index_open(const char *path, uf_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        uf_error_errno(err, errno, "open %s", path);
        return NULL;
    }
    struct stat st;
    uint8_t head[UF_IMAGE_HEADER_SIZE];
    uf_image_header h;
    if (fstat(fd, &st) != 0) {
        uf_error_errno(err, errno, "stat %s", path);
        goto fail;
    }
    if (st.st_size < (off_t)UF_IMAGE_HEADER_SIZE) {
        uf_error_set(err, UF_E_INVALID, "%s: %lld bytes is shorter than an index header", path,
                     (long long)st.st_size);
        goto fail;
    }
    if (!read_full_at(fd, head, sizeof head, 0, "index header", err) ||
        !uf_image_header_decode(head, (uint64_t)st.st_size, &h, err))
        goto fail_path;
    /* Check the entries in blocks: constant memory whatever the count. */
    uf_image_cursor cur;
    uf_image_cursor_init(&cur, &h);
    uint8_t block[UF_IMAGE_ENTRY_SIZE * 64];
    for (uint64_t i = 0; i < h.chunk_count;) {
        uint64_t n = h.chunk_count - i < 64 ? h.chunk_count - i : 64;
        if (!read_full_at(fd, block, (size_t)n * UF_IMAGE_ENTRY_SIZE,
                          UF_IMAGE_HEADER_SIZE + i * UF_IMAGE_ENTRY_SIZE, "index entries", err))
            goto fail_path;
        for (uint64_t k = 0; k < n; k++, i++)
            if (!uf_image_cursor_next(&cur, block + k * UF_IMAGE_ENTRY_SIZE, NULL, err))
                goto fail_path;
    }
    if (!uf_image_cursor_finish(&cur, err))
        goto fail_path;
    uf_image_index *idx = calloc(1, sizeof *idx);
    if (!idx) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        goto fail;
    }
    idx->header = h;
    idx->fd = fd;
    return idx;
fail_path:
    uf_error_prefix(err, "%s", path);
fail:
    close(fd);
    return NULL;
}

void uf_image_index_free(uf_image_index *idx)
{
    if (!idx)
        return;
    if (idx->fd >= 0)
        close(idx->fd);
    free(idx->bytes);
    free(idx);
}

const uf_image_header *uf_image_index_header(const uf_image_index *idx)
{
    return &idx->header;
}

bool uf_image_index_chunk(const uf_image_index *idx, uint64_t i, uf_image_chunk *out,
                          uf_error *err)
{
    if (i >= idx->header.chunk_count)
        return uf_error_set(err, UF_E_INVALID, "chunk %llu is past the last one (%llu chunks)",
                            (unsigned long long)i, (unsigned long long)idx->header.chunk_count);
    uint8_t raw[UF_IMAGE_ENTRY_SIZE];
    uint64_t off = UF_IMAGE_HEADER_SIZE + i * UF_IMAGE_ENTRY_SIZE;
    if (idx->bytes)
        memcpy(raw, idx->bytes + off, sizeof raw);
    else if (!read_full_at(idx->fd, raw, sizeof raw, off, "index entry", err))
        return false;
    entry_decode(raw, i, out);
    /* The file was checked when opened; check the entry again so that a file changed since
     * can give wrong data (which the hashes catch) but never an out-of-bounds access. */
    return entry_check(&idx->header, out, err);
}
