/*
 * test_image.c - the chunked image format: round trips of every awkward size, a flipped bit
 * in any chunk caught before it is written, strict parsing of damaged indexes, chunks that
 * survive an insertion (the delta plan), output independent of the thread count, bounded
 * memory, and resuming an extraction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/image.h"

/* --- helpers -------------------------------------------------------------------------- */

static uint64_t rng_state = 0x1234567887654321u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint8_t *random_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rng() >> 32);
    return p;
}

/* Text-like bytes that compress about 3:1 yet still have content to cut on. */
static uint8_t *compressible_bytes(size_t n)
{
    static const char *const words[] = {"upflow ", "image ", "chunk ", "device ", "slot ",
                                        "rollback ", "\n", "0x", "libc.so.6 ", "kernel "};
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    size_t i = 0;
    while (i < n) {
        const char *w = words[rng() % 10];
        for (size_t k = 0; w[k] && i < n; k++)
            p[i++] = (uint8_t)w[k];
        if (i < n && rng() % 4 == 0)
            p[i++] = (uint8_t)('0' + rng() % 10);
    }
    return p;
}

static int memfd_with(const void *data, size_t len)
{
    int fd = memfd_create("image-test", 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static uint8_t *fd_contents(int fd, size_t *len)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    *len = (size_t)st.st_size;
    uint8_t *p = malloc(*len ? *len : 1);
    assert_non_null(p);
    assert_int_equal(pread(fd, p, *len, 0), (ssize_t)*len);
    return p;
}

typedef struct made {
    int index_fd, payload_fd;
    uint8_t *index;
    size_t index_len;
    uf_image_index *idx;
    uf_image_create_stats stats;
} made;

static void make(made *m, const uint8_t *data, size_t len, const uf_image_params *p)
{
    int in = memfd_with(data, len);
    m->index_fd = memfd_create("index", 0);
    m->payload_fd = memfd_create("payload", 0);
    uf_error err;
    bool ok = uf_image_create(in, m->index_fd, m->payload_fd, p, &m->stats, &err);
    if (!ok)
        fail_msg("create: %s", err.msg);
    close(in);
    m->index = fd_contents(m->index_fd, &m->index_len);
    m->idx = uf_image_index_parse(m->index, m->index_len, &err);
    if (!m->idx)
        fail_msg("parse: %s", err.msg);
}

static void unmake(made *m)
{
    uf_image_index_free(m->idx);
    free(m->index);
    close(m->index_fd);
    close(m->payload_fd);
}

static void small_params(uf_image_params *p, unsigned threads)
{
    uf_image_params_default(p);
    p->min_size = 4096;
    p->avg_size = 16384;
    p->max_size = 65536;
    p->level = 3;
    p->threads = threads;
}

/* Create, verify, extract; the output must equal the input. */
static void round_trip(const uint8_t *data, size_t len, const uf_image_params *p)
{
    made m;
    make(&m, data, len, p);
    const uf_image_header *h = uf_image_index_header(m.idx);
    assert_int_equal(h->image_size, len);
    assert_int_equal(m.stats.chunk_count, h->chunk_count);
    assert_int_equal(m.index_len, UF_IMAGE_HEADER_SIZE + h->chunk_count * UF_IMAGE_ENTRY_SIZE);
    uf_error err;
    uf_image_verify_stats vs;
    if (!uf_image_verify(m.idx, m.payload_fd, &vs, &err))
        fail_msg("verify %zu bytes: %s", len, err.msg);
    assert_int_equal(vs.bytes_ok, len);
    int out = memfd_create("out", 0);
    if (!uf_image_extract(m.idx, m.payload_fd, out, 0, &err))
        fail_msg("extract %zu bytes: %s", len, err.msg);
    size_t out_len;
    uint8_t *back = fd_contents(out, &out_len);
    assert_int_equal(out_len, len);
    assert_true(len == 0 || memcmp(back, data, len) == 0);
    free(back);
    close(out);
    unmake(&m);
}

/* --- tests ---------------------------------------------------------------------------- */

static void round_trips_every_edge_size(void **state)
{
    (void)state;
    uf_image_params p;
    uf_image_params_default(&p);
    p.level = 1;
    const size_t sizes[] = {0,
                            1,
                            UF_IMAGE_DEFAULT_MIN - 1,
                            UF_IMAGE_DEFAULT_MIN,
                            UF_IMAGE_DEFAULT_AVG,
                            UF_IMAGE_DEFAULT_MAX,
                            UF_IMAGE_DEFAULT_MAX + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *data = random_bytes(sizes[i]);
        round_trip(data, sizes[i], &p);
        free(data);
        data = compressible_bytes(sizes[i]);
        round_trip(data, sizes[i], &p);
        free(data);
    }
    /* All zeros: every chunk is cut at the maximum. */
    uint8_t *zeros = calloc(1, 3 * UF_IMAGE_DEFAULT_MAX + 7);
    round_trip(zeros, 3 * UF_IMAGE_DEFAULT_MAX + 7, &p);
    free(zeros);
}

static void round_trips_megabytes(void **state)
{
    (void)state;
    uf_image_params p;
    uf_image_params_default(&p);
    p.level = 3;
    size_t n = 5 * 1024 * 1024 + 12345;
    uint8_t *data = random_bytes(n);
    round_trip(data, n, &p);
    free(data);
    data = compressible_bytes(n);
    made m;
    make(&m, data, n, &p);
    assert_true(m.stats.payload_size < n / 2); /* it did compress */
    unmake(&m);
    round_trip(data, n, &p);
    free(data);
}

static void chunk_sizes_respect_the_parameters(void **state)
{
    (void)state;
    uf_image_params p;
    small_params(&p, 2);
    size_t n = 2 * 1024 * 1024;
    uint8_t *data = random_bytes(n);
    made m;
    make(&m, data, n, &p);
    const uf_image_header *h = uf_image_index_header(m.idx);
    assert_int_equal(h->min_size, 4096);
    assert_int_equal(h->avg_size, 16384);
    assert_int_equal(h->max_size, 65536);
    assert_int_equal(h->level, 3);
    /* On random data the mean lands near the average (normalized chunking). */
    double mean = (double)n / (double)h->chunk_count;
    assert_true(mean > 16384 * 0.7 && mean < 16384 * 1.5);
    for (uint64_t i = 0; i < h->chunk_count; i++) {
        uf_image_chunk c;
        assert_true(uf_image_index_chunk(m.idx, i, &c, NULL));
        assert_true(c.length <= 65536);
        assert_true(c.length >= 4096 || i + 1 == h->chunk_count);
    }
    unmake(&m);
    free(data);
}

static void flipped_bit_in_any_chunk_is_caught_before_writing(void **state)
{
    (void)state;
    uf_image_params p;
    small_params(&p, 2);
    size_t n = 1024 * 1024;
    uint8_t *data = random_bytes(n);
    /* Half compressible, so both raw and compressed zstd blocks get a flipped bit. */
    uint8_t *text = compressible_bytes(n / 2);
    memcpy(data + n / 2, text, n / 2);
    free(text);
    made m;
    make(&m, data, n, &p);
    const uf_image_header *h = uf_image_index_header(m.idx);
    assert_true(h->chunk_count > 20);
    for (uint64_t i = 0; i < h->chunk_count; i++) {
        uf_image_chunk c;
        assert_true(uf_image_index_chunk(m.idx, i, &c, NULL));
        /* A bit in turn at the start, the middle and the end of the compressed chunk. */
        uint64_t positions[3] = {c.payload_offset + i % 8,
                                 c.payload_offset + c.payload_length / 2,
                                 c.payload_offset + c.payload_length - 1};
        for (int k = 0; k < 3; k++) {
            uint8_t byte;
            off_t at = (off_t)positions[k];
            assert_int_equal(pread(m.payload_fd, &byte, 1, at), 1);
            uint8_t flipped = byte ^ (uint8_t)(1u << ((i + (uint64_t)k) % 8));
            assert_int_equal(pwrite(m.payload_fd, &flipped, 1, at), 1);

            uf_error err;
            if (uf_image_verify(m.idx, m.payload_fd, NULL, &err))
                fail_msg("chunk %llu: bit %d of payload byte %llu (chunk byte %llu of %lu) "
                         "went unnoticed", (unsigned long long)i, (int)((i + (uint64_t)k) % 8),
                         (unsigned long long)at,
                         (unsigned long long)(positions[k] - c.payload_offset),
                         (unsigned long)c.payload_length);
            assert_int_equal(err.code, UF_E_HASH_MISMATCH);
            char want[96];
            snprintf(want, sizeof want, "chunk %llu (offset %llu, %lu bytes): ",
                     (unsigned long long)i, (unsigned long long)c.offset,
                     (unsigned long)c.length);
            if (strncmp(err.msg, want, strlen(want)) != 0)
                fail_msg("chunk %llu: message \"%s\"", (unsigned long long)i, err.msg);

            int out = memfd_create("out", 0);
            assert_false(uf_image_extract(m.idx, m.payload_fd, out, 0, &err));
            struct stat st;
            assert_int_equal(fstat(out, &st), 0);
            assert_int_equal(st.st_size, c.offset); /* the chunks before it, not it */
            close(out);

            assert_int_equal(pwrite(m.payload_fd, &byte, 1, at), 1);
        }
    }
    uf_error err;
    if (!uf_image_verify(m.idx, m.payload_fd, NULL, &err))
        fail_msg("after restoring: %s", err.msg);
    unmake(&m);
    free(data);
}

static void truncated_payload_is_a_clean_error(void **state)
{
    (void)state;
    uf_image_params p;
    small_params(&p, 1);
    size_t n = 300000;
    uint8_t *data = random_bytes(n);
    made m;
    make(&m, data, n, &p);
    uint64_t size = uf_image_index_header(m.idx)->payload_size;
    uf_error err;
    assert_int_equal(ftruncate(m.payload_fd, (off_t)size - 1), 0);
    assert_false(uf_image_verify(m.idx, m.payload_fd, NULL, &err));
    assert_int_equal(err.code, UF_E_IO);
    assert_non_null(strstr(err.msg, "payload is"));
    assert_int_equal(ftruncate(m.payload_fd, 0), 0);
    assert_false(uf_image_extract(m.idx, m.payload_fd, m.index_fd, 0, &err));
    unmake(&m);
    free(data);
}

static void damaged_index_is_refused(void **state)
{
    (void)state;
    uf_image_params p;
    small_params(&p, 2);
    size_t n = 200000;
    uint8_t *data = random_bytes(n);
    made m;
    make(&m, data, n, &p);
    uf_error err;
    /* Every truncation. */
    for (size_t len = 0; len < m.index_len; len++) {
        uf_error_clear(&err);
        assert_null(uf_image_index_parse(m.index, len, &err));
        assert_int_not_equal(err.code, UF_OK);
    }
    /* One extra byte. */
    uint8_t *longer = malloc(m.index_len + 1);
    memcpy(longer, m.index, m.index_len);
    longer[m.index_len] = 0;
    assert_null(uf_image_index_parse(longer, m.index_len + 1, &err));
    free(longer);
    /* A flipped bit anywhere but the informational parameters (min/avg/max/level, which may
     * stay valid) makes the index unreadable or the payload fail verification. */
    for (size_t i = 0; i < m.index_len; i++) {
        if (i >= 20 && i < 36)
            continue;
        for (int bit = 0; bit < 8; bit += 3) {
            m.index[i] ^= (uint8_t)(1u << bit);
            uf_image_index *bad = uf_image_index_parse(m.index, m.index_len, &err);
            if (bad) {
                if (uf_image_verify(bad, m.payload_fd, NULL, &err))
                    fail_msg("flipped bit %d of index byte %zu went unnoticed", bit, i);
                uf_image_index_free(bad);
            }
            m.index[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Named failures. */
    uint8_t *copy = malloc(m.index_len);
    memcpy(copy, m.index, m.index_len);
    copy[0] = 'X';
    assert_null(uf_image_index_parse(copy, m.index_len, &err));
    assert_non_null(strstr(err.msg, "magic"));
    memcpy(copy, m.index, m.index_len);
    copy[8] = 2; /* version */
    assert_null(uf_image_index_parse(copy, m.index_len, &err));
    assert_int_equal(err.code, UF_E_UNSUPPORTED);
    memcpy(copy, m.index, m.index_len);
    copy[UF_IMAGE_HEADER_SIZE + UF_IMAGE_ENTRY_SIZE] ^= 1; /* chunk 1's offset */
    assert_null(uf_image_index_parse(copy, m.index_len, &err));
    assert_non_null(strstr(err.msg, "chunk 1"));
    free(copy);
    unmake(&m);
    free(data);
}

static void insertion_near_the_start_keeps_most_chunks(void **state)
{
    (void)state;
    uf_image_params p;
    uf_image_params_default(&p);
    p.level = 1;
    size_t n = 4 * 1024 * 1024;
    uint8_t *old = random_bytes(n);
    uint8_t *new = malloc(n + 100);
    memcpy(new, old, 1000);
    for (int i = 0; i < 100; i++)
        new[1000 + i] = (uint8_t)i;
    memcpy(new + 1100, old + 1000, n - 1000);
    made a, b;
    make(&a, old, n, &p);
    make(&b, new, n + 100, &p);
    uf_image_plan plan;
    uf_error err;
    assert_true(uf_image_plan_make(b.idx, a.idx, &plan, &err));
    uint64_t count = uf_image_index_header(b.idx)->chunk_count;
    assert_int_equal(plan.copy_chunks + plan.fetch_chunks, count);
    assert_true(plan.copy_chunks * 10 >= count * 9);
    assert_true(plan.fetch_chunks >= 1 && plan.fetch_chunks <= 3);
    assert_int_equal(plan.full_payload_bytes, uf_image_index_header(b.idx)->payload_size);
    /* Fetch ranges are merged runs, and add up. */
    uint64_t sum = 0;
    for (size_t i = 0; i < plan.fetch_count; i++) {
        uf_image_chunk first;
        assert_true(uf_image_index_chunk(b.idx, plan.fetches[i].first_chunk, &first, NULL));
        assert_int_equal(plan.fetches[i].payload_offset, first.payload_offset);
        sum += plan.fetches[i].payload_length;
        if (i > 0)
            assert_true(plan.fetches[i].first_chunk >
                        plan.fetches[i - 1].first_chunk + plan.fetches[i - 1].chunk_count);
    }
    assert_int_equal(sum, plan.fetch_bytes);
    /* Copies point at identical bytes in the old image. */
    for (size_t i = 0; i < plan.copy_count; i++)
        assert_memory_equal(new + plan.copies[i].offset, old + plan.copies[i].old_offset,
                            plan.copies[i].length);
    uf_image_plan_free(&plan);
    /* Identical images: nothing to fetch. */
    assert_true(uf_image_plan_make(a.idx, a.idx, &plan, &err));
    assert_int_equal(plan.fetch_bytes, 0);
    assert_int_equal(plan.fetch_count, 0);
    uf_image_plan_free(&plan);
    unmake(&a);
    unmake(&b);
    free(old);
    free(new);
}

static void delta_rebuilds_from_old_image_and_fetched_ranges(void **state)
{
    (void)state;
    uf_image_params p;
    small_params(&p, 2);
    size_t n = 2 * 1024 * 1024;
    uint8_t *old = random_bytes(n);
    uint8_t *new = malloc(n);
    memcpy(new, old, n);
    memcpy(new + 700000, "a patched region of the new version", 35);
    memmove(new + 1500100, new + 1500000, n - 1500100); /* 100 bytes inserted */
    memset(new + 1500000, 0xa5, 100);
    made a, b;
    make(&a, old, n, &p);
    make(&b, new, n, &p);
    uf_image_plan plan;
    uf_error err;
    assert_true(uf_image_plan_make(b.idx, a.idx, &plan, &err));
    assert_true(plan.fetch_count >= 2 && plan.fetch_bytes < plan.full_payload_bytes / 5);
    /* What a device downloaded: only the fetch ranges, at their offsets (the rest zeros). */
    int sparse = memfd_create("sparse", 0);
    assert_int_equal(ftruncate(sparse, (off_t)plan.full_payload_bytes), 0);
    uint8_t *buf = malloc(plan.full_payload_bytes);
    assert_int_equal(pread(b.payload_fd, buf, plan.full_payload_bytes, 0),
                     (ssize_t)plan.full_payload_bytes);
    for (size_t i = 0; i < plan.fetch_count; i++)
        assert_int_equal(pwrite(sparse, buf + plan.fetches[i].payload_offset,
                                plan.fetches[i].payload_length,
                                (off_t)plan.fetches[i].payload_offset),
                         (ssize_t)plan.fetches[i].payload_length);
    free(buf);
    int old_fd = memfd_with(old, n);
    int out = memfd_create("out", 0);
    if (!uf_image_extract_delta(b.idx, &plan, old_fd, sparse, out, &err))
        fail_msg("delta: %s", err.msg);
    size_t len;
    uint8_t *back = fd_contents(out, &len);
    assert_int_equal(len, n);
    assert_memory_equal(back, new, n);
    free(back);
    close(out);
    /* A damaged old slot is caught on the chunk that reads it. */
    assert_true(plan.copy_count > 0);
    const uf_image_copy *cp = &plan.copies[plan.copy_count / 2];
    uint8_t x = 0x5a;
    assert_int_equal(pwrite(old_fd, &x, 1, (off_t)(cp->old_offset + cp->length / 2)), 1);
    out = memfd_create("out", 0);
    assert_false(uf_image_extract_delta(b.idx, &plan, old_fd, sparse, out, &err));
    assert_int_equal(err.code, UF_E_HASH_MISMATCH);
    assert_non_null(strstr(err.msg, "in the old image"));
    struct stat st;
    assert_int_equal(fstat(out, &st), 0);
    assert_int_equal(st.st_size, cp->offset);
    close(out);
    close(old_fd);
    close(sparse);
    uf_image_plan_free(&plan);
    unmake(&a);
    unmake(&b);
    free(old);
    free(new);
}

static void output_does_not_depend_on_threads(void **state)
{
    (void)state;
    size_t n = 3 * 1024 * 1024 + 777;
    uint8_t *data = random_bytes(n);
    uint8_t *text = compressible_bytes(n / 2);
    memcpy(data + n / 4, text, n / 2);
    free(text);
    uf_image_params p;
    small_params(&p, 1);
    made ref;
    make(&ref, data, n, &p);
    size_t ref_pay_len;
    uint8_t *ref_pay = fd_contents(ref.payload_fd, &ref_pay_len);
    const unsigned counts[] = {2, 3, 8, 0};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        p.threads = counts[i];
        made m;
        make(&m, data, n, &p);
        assert_int_equal(m.index_len, ref.index_len);
        assert_memory_equal(m.index, ref.index, ref.index_len);
        size_t pay_len;
        uint8_t *pay = fd_contents(m.payload_fd, &pay_len);
        assert_int_equal(pay_len, ref_pay_len);
        assert_memory_equal(pay, ref_pay, pay_len);
        free(pay);
        unmake(&m);
    }
    free(ref_pay);
    unmake(&ref);
    free(data);
}

static void memory_stays_bounded(void **state)
{
    (void)state;
    size_t n = 8 * 1024 * 1024;
    uint8_t *data = random_bytes(n);
    uf_image_params p;
    small_params(&p, 3);
    made m;
    make(&m, data, n, &p);
    /* At most 2 x threads chunks in the pool; the whole bound is the read-ahead window plus
     * 2 x threads slots of one chunk and its compressed form. */
    assert_int_equal(m.stats.threads, 3);
    assert_true(m.stats.peak_buffered > 0);
    assert_true(m.stats.peak_buffered <= 2 * 3 * (size_t)p.max_size);
    assert_true(m.stats.memory_bound <= 4 * (size_t)p.max_size +
                                            2 * 3 * (2 * (size_t)p.max_size + 4096));
    assert_true(m.stats.memory_bound < n / 4);
    unmake(&m);
    free(data);
}

static void extraction_resumes_at_any_chunk(void **state)
{
    (void)state;
    size_t n = 600000;
    uint8_t *data = random_bytes(n);
    uf_image_params p;
    small_params(&p, 2);
    made m;
    make(&m, data, n, &p);
    uint64_t count = uf_image_index_header(m.idx)->chunk_count;
    for (uint64_t k = 1; k <= count; k += 7) {
        uf_image_chunk c = {0};
        if (k < count)
            assert_true(uf_image_index_chunk(m.idx, k, &c, NULL));
        uint64_t start = k < count ? c.offset : n;
        int out = memfd_with(data, (size_t)start); /* what an interrupted run left */
        uf_error err;
        if (!uf_image_extract(m.idx, m.payload_fd, out, k, &err))
            fail_msg("resume at %llu: %s", (unsigned long long)k, err.msg);
        size_t len;
        uint8_t *back = fd_contents(out, &len);
        assert_int_equal(len, n);
        assert_memory_equal(back, data, n);
        free(back);
        close(out);
    }
    uf_error err;
    assert_false(uf_image_extract(m.idx, m.payload_fd, m.index_fd, count + 1, &err));
    unmake(&m);
    free(data);
}

static void index_file_reads_like_bytes(void **state)
{
    (void)state;
    size_t n = 500000;
    uint8_t *data = compressible_bytes(n);
    uf_image_params p;
    small_params(&p, 2);
    char dir[] = "/tmp/upflow-image-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[128], idx_path[128], pay_path[128];
    snprintf(in, sizeof in, "%s/img", dir);
    snprintf(idx_path, sizeof idx_path, "%s/img.upfidx", dir);
    snprintf(pay_path, sizeof pay_path, "%s/img.upfpay", dir);
    FILE *f = fopen(in, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    uf_error err;
    uf_image_create_stats st;
    assert_true(uf_image_create_files(in, idx_path, pay_path, &p, &st, &err));
    uf_image_index *a = uf_image_index_open(idx_path, &err);
    assert_non_null(a);
    made m;
    make(&m, data, n, &p);
    const uf_image_header *ha = uf_image_index_header(a), *hb = uf_image_index_header(m.idx);
    assert_int_equal(ha->chunk_count, hb->chunk_count);
    assert_int_equal(ha->image_size, hb->image_size);
    assert_int_equal(ha->payload_size, hb->payload_size);
    assert_memory_equal(ha->image_sha256, hb->image_sha256, 32);
    for (uint64_t i = 0; i < st.chunk_count; i++) {
        uf_image_chunk x, y;
        assert_true(uf_image_index_chunk(a, i, &x, NULL));
        assert_true(uf_image_index_chunk(m.idx, i, &y, NULL));
        assert_int_equal(x.offset, y.offset);
        assert_int_equal(x.length, y.length);
        assert_int_equal(x.payload_offset, y.payload_offset);
        assert_int_equal(x.payload_length, y.payload_length);
        assert_memory_equal(x.sha256, y.sha256, 32);
    }
    assert_false(uf_image_index_chunk(a, st.chunk_count, &(uf_image_chunk){0}, &err));
    uf_image_index_free(a);
    unmake(&m);
    /* A missing image leaves no output behind. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", dir);
    unlink(idx_path);
    unlink(pay_path);
    assert_false(uf_image_create_files(missing, idx_path, pay_path, &p, NULL, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_int_equal(access(idx_path, F_OK), -1);
    unlink(in);
    assert_int_equal(rmdir(dir), 0);
    free(data);
}

static void bad_parameters_are_refused(void **state)
{
    (void)state;
    uf_image_params p;
    uf_error err;
    uf_image_params_default(&p);
    assert_true(uf_image_params_check(&p, &err));
    p.avg_size = 60000;
    assert_false(uf_image_params_check(&p, &err));
    assert_non_null(strstr(err.msg, "power of two"));
    uf_image_params_default(&p);
    p.min_size = 32;
    assert_false(uf_image_params_check(&p, &err));
    uf_image_params_default(&p);
    p.max_size = 32 * 1024 * 1024;
    assert_false(uf_image_params_check(&p, &err));
    uf_image_params_default(&p);
    p.min_size = p.avg_size;
    assert_false(uf_image_params_check(&p, &err));
    uf_image_params_default(&p);
    p.level = 0;
    assert_false(uf_image_params_check(&p, &err));
    p.level = 23;
    assert_false(uf_image_params_check(&p, &err));
    assert_false(uf_image_create(0, 1, 2, &p, NULL, &err));
    assert_int_equal(err.code, UF_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_every_edge_size),
        cmocka_unit_test(round_trips_megabytes),
        cmocka_unit_test(chunk_sizes_respect_the_parameters),
        cmocka_unit_test(flipped_bit_in_any_chunk_is_caught_before_writing),
        cmocka_unit_test(truncated_payload_is_a_clean_error),
        cmocka_unit_test(damaged_index_is_refused),
        cmocka_unit_test(insertion_near_the_start_keeps_most_chunks),
        cmocka_unit_test(delta_rebuilds_from_old_image_and_fetched_ranges),
        cmocka_unit_test(output_does_not_depend_on_threads),
        cmocka_unit_test(memory_stays_bounded),
        cmocka_unit_test(extraction_resumes_at_any_chunk),
        cmocka_unit_test(index_file_reads_like_bytes),
        cmocka_unit_test(bad_parameters_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
