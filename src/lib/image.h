/*
 * image.h - the chunked image format: an image cut into content-defined chunks, each
 * compressed with zstd on its own, described by a small binary index (docs/image-format.md).
 *
 * The index lets a device verify every chunk before writing it, resume at any chunk, fetch
 * with HTTP Range requests only the chunks its active slot does not already hold, and parse
 * it all in a few hundred bytes of memory. Creation streams the input once, in bounded
 * memory, compressing on a pool of worker threads; the output does not depend on the number
 * of threads.
 */
#ifndef UPFLOW_IMAGE_H
#define UPFLOW_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define UF_IMAGE_MAGIC "UPFIDX1" /* 8 bytes with its NUL */
#define UF_IMAGE_VERSION 1u
#define UF_IMAGE_HEADER_SIZE 128u
#define UF_IMAGE_ENTRY_SIZE 88u

/* Chunking limits: the rolling hash looks at the last 64 bytes, and a device must be able to
 * hold one chunk (and its compressed form) in memory. */
#define UF_IMAGE_MIN_CHUNK_LIMIT 64u
#define UF_IMAGE_MAX_CHUNK_LIMIT (16u * 1024 * 1024)

#define UF_IMAGE_DEFAULT_MIN (16u * 1024)
#define UF_IMAGE_DEFAULT_AVG (64u * 1024)
#define UF_IMAGE_DEFAULT_MAX (256u * 1024)
#define UF_IMAGE_DEFAULT_LEVEL 19

typedef struct uf_image_params {
    uint32_t min_size; /* 64 <= min < avg < max <= 16 MiB; avg a power of two */
    uint32_t avg_size;
    uint32_t max_size;
    int level;        /* zstd level, 1..22 */
    unsigned threads; /* compression workers; 0 = one per online CPU */
} uf_image_params;

/* The defaults: 16 KiB / 64 KiB / 256 KiB, level 19, one thread per CPU. */
void uf_image_params_default(uf_image_params *p);
/* Check the chunking parameters and the level (UF_E_INVALID naming the bad one). */
bool uf_image_params_check(const uf_image_params *p, uf_error *err);

/* The decoded index header. */
typedef struct uf_image_header {
    uint32_t version;
    uint32_t min_size, avg_size, max_size;
    int32_t level;
    uint64_t chunk_count;
    uint64_t image_size;   /* uncompressed bytes */
    uint64_t payload_size; /* bytes of the payload file */
    uint8_t image_sha256[32];
} uf_image_header;

/* One index entry, with its position. */
typedef struct uf_image_chunk {
    uint64_t index;
    uint64_t offset;         /* in the image */
    uint32_t length;         /* uncompressed */
    uint64_t payload_offset; /* in the payload file */
    uint32_t payload_length; /* compressed */
    uint8_t sha256[32];      /* of the uncompressed bytes: what the chunk is */
    uint8_t payload_sha256[32]; /* of the compressed bytes: checked before decompressing */
} uf_image_chunk;

/* --- creation ------------------------------------------------------------------------- */

typedef struct uf_image_create_stats {
    uint64_t chunk_count;
    uint64_t image_size;
    uint64_t payload_size;
    uint64_t index_size;
    uint8_t image_sha256[32];
    unsigned threads;          /* workers actually used */
    size_t memory_bound;       /* bytes of buffers the pool may hold at once (see below) */
    size_t peak_buffered;      /* most bytes of chunk data held in the pool at one time */
} uf_image_create_stats;

/* Read the image from in_fd to its end and write the index to index_fd (a regular file: the
 * header is written last, at offset 0) and the payload to payload_fd. Memory is bounded by
 * stats->memory_bound: a read-ahead window of 4 x max, and 2 x threads slots each holding one
 * chunk and its compressed form, plus the zstd contexts; never the image. stats may be NULL. */
bool uf_image_create(int in_fd, int index_fd, int payload_fd, const uf_image_params *p,
                     uf_image_create_stats *stats, uf_error *err);
/* Same over paths; the outputs appear (renamed from NAME.tmp) only on success. */
bool uf_image_create_files(const char *image_path, const char *index_path,
                           const char *payload_path, const uf_image_params *p,
                           uf_image_create_stats *stats, uf_error *err);

/* --- the index ------------------------------------------------------------------------ */

typedef struct uf_image_index uf_image_index;

/* Parse and check a whole index held in memory (copied). Every bound is checked: magic,
 * version, parameters, counts against the size, offsets contiguous in the image and in the
 * payload, lengths within min..max (the last chunk may be shorter). */
uf_image_index *uf_image_index_parse(const void *data, size_t len, uf_error *err);
/* Open an index file and check it the same way, reading it entry by entry: the object
 * keeps only the header and the open file, whatever the number of chunks. */
uf_image_index *uf_image_index_open(const char *path, uf_error *err);
void uf_image_index_free(uf_image_index *idx);

const uf_image_header *uf_image_index_header(const uf_image_index *idx);
/* Entry i (< chunk_count), decoded and checked again against the header. */
bool uf_image_index_chunk(const uf_image_index *idx, uint64_t i, uf_image_chunk *out,
                          uf_error *err);

/* Encoding and strict decoding of the raw records, for streaming readers (a device reading
 * the index as it downloads it) and writers. */
void uf_image_header_encode(const uf_image_header *h, uint8_t out[UF_IMAGE_HEADER_SIZE]);
/* index_size is the whole index file's size, which must be header + count x entry. */
bool uf_image_header_decode(const uint8_t in[UF_IMAGE_HEADER_SIZE], uint64_t index_size,
                            uf_image_header *h, uf_error *err);
void uf_image_entry_encode(const uf_image_chunk *c, uint8_t out[UF_IMAGE_ENTRY_SIZE]);

/* Walks the entries in order and checks each against the previous ones; constant memory. */
typedef struct uf_image_cursor {
    uf_image_header header;
    uint64_t next;           /* index of the next entry */
    uint64_t offset;         /* where it must start in the image */
    uint64_t payload_offset; /* and in the payload */
} uf_image_cursor;

void uf_image_cursor_init(uf_image_cursor *cur, const uf_image_header *h);
bool uf_image_cursor_next(uf_image_cursor *cur, const uint8_t in[UF_IMAGE_ENTRY_SIZE],
                          uf_image_chunk *out, uf_error *err);
/* After the last entry: all of them seen, sizes add up. */
bool uf_image_cursor_finish(const uf_image_cursor *cur, uf_error *err);

/* --- verification and extraction ------------------------------------------------------ */

typedef struct uf_image_verify_stats {
    uint64_t chunks_ok;
    uint64_t bytes_ok;
} uf_image_verify_stats;

/* Hash, decompress and hash again every chunk of payload_fd, then the whole image. The first
 * bad chunk fails with UF_E_HASH_MISMATCH (or UF_E_IO for a short payload) and a message naming it:
 * "chunk 17 (offset 1114112, 65536 bytes): SHA-256 mismatch". stats may be NULL. */
bool uf_image_verify(const uf_image_index *idx, int payload_fd, uf_image_verify_stats *stats,
                     uf_error *err);

/* Rebuild the image into out_fd, from chunk first_chunk on (0 for all; a larger value
 * resumes: out_fd already holds the chunks before it). Each chunk is verified before it is
 * written, so a bad chunk is never written; the whole-image SHA-256 is checked too when
 * first_chunk is 0. Memory: one chunk and its compressed form. */
bool uf_image_extract(const uf_image_index *idx, int payload_fd, int out_fd,
                      uint64_t first_chunk, uf_error *err);

/* Chunk by chunk, for a device that receives the compressed chunks itself (over HTTP
 * ranges) and holds one chunk at a time. */
typedef struct uf_image_decoder uf_image_decoder;
uf_image_decoder *uf_image_decoder_new(const uf_image_header *h, uf_error *err);
void uf_image_decoder_free(uf_image_decoder *d);
/* Check c->payload_length compressed bytes against the index entry (SHA-256, one zstd frame
 * of exactly c->length bytes), decompress and check the content's SHA-256. Returns the
 * c->length plain bytes, valid until the next call; NULL with UF_E_HASH_MISMATCH naming the
 * chunk when anything differs. */
const uint8_t *uf_image_decode_chunk(uf_image_decoder *d, const uf_image_chunk *c,
                                     const void *compressed, uf_error *err);
/* Whether c->length plain bytes (e.g. read back from a slot) are chunk c. */
bool uf_image_check_chunk(const uf_image_chunk *c, const void *plain, uf_error *err);

/* --- delta plan ----------------------------------------------------------------------- */

/* Bytes [payload_offset, +payload_length) of the payload hold chunks first..first+count-1,
 * which rebuild the image bytes [offset, +length). Adjacent chunks to fetch are merged. */
typedef struct uf_image_fetch {
    uint64_t first_chunk, chunk_count;
    uint64_t offset, length;
    uint64_t payload_offset, payload_length;
} uf_image_fetch;

/* New chunk `chunk` (image bytes [offset, +length)) is old image bytes [old_offset, +length),
 * same SHA-256. */
typedef struct uf_image_copy {
    uint64_t chunk;
    uint64_t offset, old_offset;
    uint32_t length;
} uf_image_copy;

typedef struct uf_image_plan {
    uf_image_fetch *fetches;
    size_t fetch_count;
    uf_image_copy *copies;
    size_t copy_count;
    uint64_t fetch_chunks, fetch_bytes;     /* payload bytes to download */
    uint64_t copy_chunks, copy_bytes;       /* image bytes taken from the old slot */
    uint64_t full_payload_bytes;            /* what a full download costs */
} uf_image_plan;

/* What a device holding the image of old_idx must fetch to build the image of new_idx.
 * Memory: a hash table of 2-4 slots of 48 bytes per old chunk, and the plan itself. */
bool uf_image_plan_make(const uf_image_index *new_idx, const uf_image_index *old_idx,
                        uf_image_plan *plan, uf_error *err);
void uf_image_plan_free(uf_image_plan *plan);

/* Build the image of new_idx into out_fd following plan (made against the index of the image
 * in old_fd): copied chunks are read from old_fd, the others from payload_fd, which needs to
 * hold only the plan's fetch ranges (a sparse file, or the downloaded ranges written at their
 * offsets). Every chunk is checked against the new index before it is written, wherever it
 * came from, and the whole image at the end. */
bool uf_image_extract_delta(const uf_image_index *new_idx, const uf_image_plan *plan,
                            int old_fd, int payload_fd, int out_fd, uf_error *err);

#endif
