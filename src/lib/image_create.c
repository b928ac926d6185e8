/*
 * image_create.c - cutting an image into content-defined chunks and compressing them on a
 * pool of threads (see image.h, docs/image-format.md §3 and §6).
 *
 * The main thread reads the input, cuts chunks, hashes the whole image and writes the
 * output in order; workers compress and hash chunks. Chunks travel through a ring of
 * 2 x threads slots, so memory is bounded and every core stays busy while the main thread
 * waits for the oldest chunk. Chunk boundaries depend only on the bytes and the parameters,
 * and zstd is deterministic for a given level, so the output is the same whatever the
 * number of threads.
 */
#include "lib/image.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "lib/hash.h"
#include "lib/image_io.h"

/* --- content-defined chunking ----------------------------------------------------------
 *
 * FastCDC (Xia et al., USENIX ATC 2016) with normalized chunking, level 2. The gear hash
 * fp = (fp << 1) + GEAR[byte] makes bit 63 of fp depend on the last 64 bytes only, so a cut
 * (the top bits of fp all zero) is decided by local content: an insertion moves the cuts
 * near it, and the following ones fall back in step once a cut point is passed. Before the
 * average size the mask has log2(avg) + 2 bits (cuts are rare), after it log2(avg) - 2 bits
 * (cuts are frequent), which narrows the size distribution around the average. Hashing
 * starts at the minimum size, and the maximum size cuts unconditionally.
 *
 * The gear table is 256 outputs of splitmix64 seeded with GEAR_SEED: part of the format,
 * since a different table gives different chunks (which would still be valid, only not
 * shared with older images).
 */
#define GEAR_SEED UINT64_C(0x7570666c6f770001) /* "upflow" 0x0001 */

typedef struct chunker {
    uint64_t gear[256];
    uint64_t mask_small, mask_large;
    size_t min, avg, max;
} chunker;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A mask of the top `bits` bits of a 64-bit word. */
static uint64_t top_bits(unsigned bits)
{
    return bits == 0 ? 0 : ~UINT64_C(0) << (64 - bits);
}

static void chunker_init(chunker *ck, const uf_image_params *p)
{
    uint64_t state = GEAR_SEED;
    for (int i = 0; i < 256; i++)
        ck->gear[i] = splitmix64(&state);
    unsigned bits = 0;
    while ((UINT32_C(1) << bits) < p->avg_size)
        bits++;
    ck->mask_small = top_bits(bits + 2);
    ck->mask_large = top_bits(bits > 2 ? bits - 2 : 1);
    ck->min = p->min_size;
    ck->avg = p->avg_size;
    ck->max = p->max_size;
}

/* Length of the chunk that starts at data, given n bytes: n is max or more, or all that is
 * left of the image. */
static size_t chunker_cut(const chunker *ck, const uint8_t *data, size_t n)
{
    if (n <= ck->min)
        return n;
    if (n > ck->max)
        n = ck->max;
    size_t normal = n < ck->avg ? n : ck->avg;
    uint64_t fp = 0;
    size_t i = ck->min;
    for (; i < normal; i++) {
        fp = (fp << 1) + ck->gear[data[i]];
        if (!(fp & ck->mask_small))
            return i + 1;
    }
    for (; i < n; i++) {
        fp = (fp << 1) + ck->gear[data[i]];
        if (!(fp & ck->mask_large))
            return i + 1;
    }
    return n;
}

/* --- the pool ----------------------------------------------------------------------- */

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE, SLOT_FAILED };

typedef struct slot {
    enum slot_state state;
    uint64_t seq;
    uint8_t *in;
    size_t in_len;
    uint8_t *out;
    size_t out_len;
    uint8_t sha256[32], payload_sha256[32];
    char error[256];
} slot;

typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work;     /* a slot became READY, or stop */
    pthread_cond_t done;     /* a slot became DONE or FAILED */
    slot *slots;
    size_t nslots;
    uint64_t next_compress;  /* the seq the next idle worker takes */
    uint64_t next_fill;      /* the seq the main thread fills next */
    bool stop;
    int level;
    size_t out_cap;
    size_t buffered, peak_buffered;
} pool;

/* Hash and compress one chunk; runs without the lock, on a slot no other thread touches
 * while it is BUSY. The caller publishes the result (DONE or FAILED) under the lock. */
static bool compress_slot(pool *pl, slot *s, ZSTD_CCtx *cctx)
{
    uf_error err;
    uint8_t digest[UF_HASH_MAX_SIZE];
    if (!cctx) {
        snprintf(s->error, sizeof s->error, "cannot set up a zstd context");
        return false;
    }
    if (!uf_hash_buf(UF_HASH_SHA256, s->in, s->in_len, digest, &err)) {
        snprintf(s->error, sizeof s->error, "hash: %s", err.msg);
        return false;
    }
    memcpy(s->sha256, digest, 32);
    size_t r = ZSTD_compress2(cctx, s->out, pl->out_cap, s->in, s->in_len);
    if (ZSTD_isError(r)) {
        snprintf(s->error, sizeof s->error, "zstd: %s", ZSTD_getErrorName(r));
        return false;
    }
    s->out_len = r;
    if (!uf_hash_buf(UF_HASH_SHA256, s->out, s->out_len, digest, &err)) {
        snprintf(s->error, sizeof s->error, "hash: %s", err.msg);
        return false;
    }
    memcpy(s->payload_sha256, digest, 32);
    return true;
}

static void *worker_main(void *arg)
{
    pool *pl = arg;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    bool setup = cctx && !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
                                                           pl->level)) &&
              !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0)) &&
              !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1));
    pthread_mutex_lock(&pl->lock);
    for (;;) {
        slot *s = NULL;
        while (!pl->stop) {
            if (pl->next_compress < pl->next_fill) {
                s = &pl->slots[pl->next_compress % pl->nslots];
                if (s->state == SLOT_READY && s->seq == pl->next_compress)
                    break;
                s = NULL;
            }
            pthread_cond_wait(&pl->work, &pl->lock);
        }
        if (!s)
            break;
        pl->next_compress++;
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&pl->lock);
        bool ok = compress_slot(pl, s, setup ? cctx : NULL);
        pthread_mutex_lock(&pl->lock);
        s->state = ok ? SLOT_DONE : SLOT_FAILED;
        pthread_cond_broadcast(&pl->done);
    }
    pthread_mutex_unlock(&pl->lock);
    ZSTD_freeCCtx(cctx);
    return NULL;
}

/* --- output --------------------------------------------------------------------------- */

static bool write_full(int fd, const void *buf, size_t len, const char *what, uf_error *err)
{
    return uf_image_write_at(fd, buf, len, UF_IMAGE_AT_END, err) ||
           uf_error_prefix(err, "%s", what);
}

static bool pwrite_full(int fd, const void *buf, size_t len, uint64_t off, const char *what,
                        uf_error *err)
{
    return uf_image_write_at(fd, buf, len, off, err) || uf_error_prefix(err, "%s", what);
}

/* What the main thread carries from chunk to chunk. */
typedef struct creation {
    int index_fd, payload_fd;
    uf_image_header header;
    uint8_t entries[UF_IMAGE_ENTRY_SIZE * 64]; /* written in blocks */
    size_t entries_len;
} creation;

static bool emit_chunk(creation *cr, const slot *s, uf_error *err)
{
    uf_image_chunk c = {
        .index = s->seq,
        .offset = cr->header.image_size,
        .length = (uint32_t)s->in_len,
        .payload_offset = cr->header.payload_size,
        .payload_length = (uint32_t)s->out_len,
    };
    memcpy(c.sha256, s->sha256, 32);
    memcpy(c.payload_sha256, s->payload_sha256, 32);
    if (!write_full(cr->payload_fd, s->out, s->out_len, "payload", err))
        return false;
    uf_image_entry_encode(&c, cr->entries + cr->entries_len);
    cr->entries_len += UF_IMAGE_ENTRY_SIZE;
    if (cr->entries_len == sizeof cr->entries) {
        if (!write_full(cr->index_fd, cr->entries, cr->entries_len, "index", err))
            return false;
        cr->entries_len = 0;
    }
    cr->header.chunk_count++;
    cr->header.image_size += s->in_len;
    cr->header.payload_size += s->out_len;
    return true;
}

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
}

/* The read-ahead window: the chunker needs max bytes (or the rest of the image) in one
 * piece; reading 4 x max at a time keeps the memmove of the tail rare. */
typedef struct window {
    uint8_t *data;
    size_t cap, start, end;
    bool eof;
    uint64_t total;
} window;

static bool window_fill(window *w, int fd, size_t want, uf_hash *image_hash, uf_error *err)
{
    if (w->eof || w->end - w->start >= want)
        return true;
    if (w->start > 0) {
        memmove(w->data, w->data + w->start, w->end - w->start);
        w->end -= w->start;
        w->start = 0;
    }
    while (!w->eof && w->end < w->cap) {
        ssize_t n = read(fd, w->data + w->end, w->cap - w->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return uf_error_errno(err, errno, "read image");
        if (n == 0) {
            w->eof = true;
            break;
        }
        if (!uf_hash_update(image_hash, w->data + w->end, (size_t)n, err))
            return false;
        w->end += (size_t)n;
        w->total += (uint64_t)n;
    }
    return true;
}

bool uf_image_create(int in_fd, int index_fd, int payload_fd, const uf_image_params *p,
                     uf_image_create_stats *stats, uf_error *err)
{
    if (!uf_image_params_check(p, err))
        return false;
    unsigned threads = p->threads ? p->threads : online_cpus();
    if (threads > 256)
        threads = 256;
    chunker ck;
    chunker_init(&ck, p);

    bool ok = false;
    pool pl = {.level = p->level, .out_cap = ZSTD_compressBound(p->max_size)};
    pl.nslots = 2 * (size_t)threads;
    creation *cr = calloc(1, sizeof *cr);
    window w = {.cap = 4 * (size_t)p->max_size};
    w.data = malloc(w.cap);
    pl.slots = calloc(pl.nslots, sizeof *pl.slots);
    pthread_t *tids = calloc(threads, sizeof *tids);
    uf_hash *image_hash = uf_hash_new(UF_HASH_SHA256, err);
    unsigned started = 0;
    bool locked = false;
    if (!image_hash)
        goto out;
    if (!cr || !w.data || !pl.slots || !tids) {
        uf_error_set(err, UF_E_NOMEM, "cannot allocate the chunk buffers");
        goto out;
    }
    for (size_t i = 0; i < pl.nslots; i++) {
        pl.slots[i].in = malloc(p->max_size);
        pl.slots[i].out = malloc(pl.out_cap);
        if (!pl.slots[i].in || !pl.slots[i].out) {
            uf_error_set(err, UF_E_NOMEM, "cannot allocate the chunk buffers");
            goto out;
        }
    }
    cr->index_fd = index_fd;
    cr->payload_fd = payload_fd;
    cr->header.version = UF_IMAGE_VERSION;
    cr->header.min_size = p->min_size;
    cr->header.avg_size = p->avg_size;
    cr->header.max_size = p->max_size;
    cr->header.level = p->level;
    /* The header goes last, once its totals are known; reserve its place. */
    uint8_t head[UF_IMAGE_HEADER_SIZE] = {0};
    if (!pwrite_full(index_fd, head, sizeof head, 0, "index", err))
        goto out;
    if (lseek(index_fd, UF_IMAGE_HEADER_SIZE, SEEK_SET) < 0) {
        uf_error_errno(err, errno, "seek index");
        goto out;
    }
    if (pthread_mutex_init(&pl.lock, NULL) != 0 || pthread_cond_init(&pl.work, NULL) != 0 ||
        pthread_cond_init(&pl.done, NULL) != 0) {
        uf_error_set(err, UF_E_INTERNAL, "cannot initialise the thread pool");
        goto out;
    }
    for (; started < threads; started++) {
        if (pthread_create(&tids[started], NULL, worker_main, &pl) != 0) {
            uf_error_set(err, UF_E_INTERNAL, "cannot start compression thread %u", started);
            goto out;
        }
    }

    /* The main loop: fill free slots with new chunks while there are any, otherwise write
     * the oldest chunk once compressed. The lock is held except around I/O. */
    uint64_t next_write = 0;
    pthread_mutex_lock(&pl.lock);
    locked = true;
    for (;;) {
        slot *fill = &pl.slots[pl.next_fill % pl.nslots];
        bool more = !w.eof || w.end > w.start;
        if (more && fill->state == SLOT_FREE) {
            pthread_mutex_unlock(&pl.lock);
            locked = false;
            if (!window_fill(&w, in_fd, p->max_size, image_hash, err))
                goto out;
            size_t avail = w.end - w.start;
            if (avail == 0) { /* the image ended exactly at the last cut */
                pthread_mutex_lock(&pl.lock);
                locked = true;
                continue;
            }
            size_t len = chunker_cut(&ck, w.data + w.start, avail);
            memcpy(fill->in, w.data + w.start, len);
            w.start += len;
            pthread_mutex_lock(&pl.lock);
            locked = true;
            fill->in_len = len;
            fill->seq = pl.next_fill++;
            fill->state = SLOT_READY;
            pl.buffered += len;
            if (pl.buffered > pl.peak_buffered)
                pl.peak_buffered = pl.buffered;
            pthread_cond_signal(&pl.work);
            continue;
        }
        if (next_write == pl.next_fill)
            break; /* nothing in flight and nothing more to read */
        slot *oldest = &pl.slots[next_write % pl.nslots];
        if (oldest->state == SLOT_FAILED) {
            uf_error_set(err, UF_E_INTERNAL, "chunk %llu: %s",
                         (unsigned long long)oldest->seq, oldest->error);
            goto out;
        }
        if (oldest->state != SLOT_DONE) {
            pthread_cond_wait(&pl.done, &pl.lock);
            continue;
        }
        pthread_mutex_unlock(&pl.lock);
        locked = false;
        if (!emit_chunk(cr, oldest, err))
            goto out;
        pthread_mutex_lock(&pl.lock);
        locked = true;
        pl.buffered -= oldest->in_len;
        oldest->state = SLOT_FREE;
        next_write++;
    }
    pthread_mutex_unlock(&pl.lock);
    locked = false;

    if (cr->header.image_size != w.total) {
        uf_error_set(err, UF_E_INTERNAL, "chunked %llu of %llu bytes",
                     (unsigned long long)cr->header.image_size, (unsigned long long)w.total);
        goto out;
    }
    uint8_t digest[UF_HASH_MAX_SIZE];
    if (!uf_hash_final(image_hash, digest, err))
        goto out;
    memcpy(cr->header.image_sha256, digest, 32);
    if (cr->entries_len > 0 && !write_full(index_fd, cr->entries, cr->entries_len, "index", err))
        goto out;
    uf_image_header_encode(&cr->header, head);
    if (!pwrite_full(index_fd, head, sizeof head, 0, "index header", err))
        goto out;
    if (stats) {
        stats->chunk_count = cr->header.chunk_count;
        stats->image_size = cr->header.image_size;
        stats->payload_size = cr->header.payload_size;
        stats->index_size =
            UF_IMAGE_HEADER_SIZE + cr->header.chunk_count * (uint64_t)UF_IMAGE_ENTRY_SIZE;
        memcpy(stats->image_sha256, cr->header.image_sha256, 32);
        stats->threads = threads;
        stats->memory_bound = w.cap + pl.nslots * ((size_t)p->max_size + pl.out_cap);
        stats->peak_buffered = pl.peak_buffered;
    }
    ok = true;
out:
    if (started > 0) {
        if (!locked)
            pthread_mutex_lock(&pl.lock);
        pl.stop = true;
        pthread_cond_broadcast(&pl.work);
        pthread_mutex_unlock(&pl.lock);
        for (unsigned i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
    } else if (locked) {
        pthread_mutex_unlock(&pl.lock);
    }
    if (pl.slots) {
        for (size_t i = 0; i < pl.nslots; i++) {
            free(pl.slots[i].in);
            free(pl.slots[i].out);
        }
    }
    free(pl.slots);
    free(tids);
    free(w.data);
    free(cr);
    uf_hash_free(image_hash);
    return ok;
}

/* Open NAME.tmp for writing, replacing an old one. */
static int open_tmp(const char *path, char *tmp, size_t tmp_cap, uf_error *err)
{
    if ((size_t)snprintf(tmp, tmp_cap, "%s.tmp", path) >= tmp_cap) {
        uf_error_set(err, UF_E_INVALID, "path too long: %s", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        uf_error_errno(err, errno, "create %s", tmp);
    return fd;
}

static bool close_and_rename(int fd, const char *tmp, const char *path, uf_error *err)
{
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return uf_error_errno(err, e, "sync %s", tmp);
    }
    if (close(fd) != 0)
        return uf_error_errno(err, errno, "close %s", tmp);
    if (rename(tmp, path) != 0)
        return uf_error_errno(err, errno, "rename %s to %s", tmp, path);
    return true;
}

bool uf_image_create_files(const char *image_path, const char *index_path,
                           const char *payload_path, const uf_image_params *p,
                           uf_image_create_stats *stats, uf_error *err)
{
    char index_tmp[4096], payload_tmp[4096];
    int in = open(image_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return uf_error_errno(err, errno, "open %s", image_path);
    int ifd = open_tmp(index_path, index_tmp, sizeof index_tmp, err);
    int pfd = ifd < 0 ? -1 : open_tmp(payload_path, payload_tmp, sizeof payload_tmp, err);
    bool ok = pfd >= 0 && uf_image_create(in, ifd, pfd, p, stats, err);
    if (!ok && ifd >= 0 && pfd >= 0)
        uf_error_prefix(err, "%s", image_path);
    close(in);
    if (ok) {
        ok = close_and_rename(pfd, payload_tmp, payload_path, err);
        pfd = -1;
        ok = ok && close_and_rename(ifd, index_tmp, index_path, err);
        ifd = -1;
    }
    if (!ok) {
        if (ifd >= 0) {
            close(ifd);
            unlink(index_tmp);
        }
        if (pfd >= 0) {
            close(pfd);
            unlink(payload_tmp);
        }
    }
    return ok;
}
