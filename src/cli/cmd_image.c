/*
 * cmd_image.c - `upflow image create|inspect|verify|extract|plan`: cut a release image into
 * compressed content-defined chunks with an index (docs/image-format.md), look inside an
 * index, check a payload, rebuild the image, and show what a delta update would fetch.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "lib/cmdline.h"
#include "lib/encoding.h"
#include "lib/image.h"

/* "65536", "64K", "64KiB", "1M", "1MiB". */
static bool parse_size(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return false;
    unsigned long long mul = 1;
    if (strcmp(end, "K") == 0 || strcmp(end, "KiB") == 0 || strcmp(end, "k") == 0)
        mul = 1024;
    else if (strcmp(end, "M") == 0 || strcmp(end, "MiB") == 0)
        mul = 1024 * 1024;
    else if (*end != '\0')
        return false;
    if (v > UINT32_MAX / mul)
        return false;
    *out = (uint32_t)(v * mul);
    return true;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end != '\0' || *s == '-' || v > max)
        return false;
    *out = v;
    return true;
}

static char *default_output(const char *image, const char *ext)
{
    size_t n = strlen(image) + strlen(ext) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", image, ext);
    return s;
}

static int create_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"index", required_argument, NULL, 'i'}, {"payload", required_argument, NULL, 'p'},
        {"min", required_argument, NULL, 'm'},   {"avg", required_argument, NULL, 'a'},
        {"max", required_argument, NULL, 'M'},   {"level", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uf_image_params p;
    uf_image_params_default(&p);
    const char *index = NULL, *payload = NULL;
    unsigned long v;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "i:p:l:t:h", options, NULL)) != -1) {
        switch (c) {
        case 'i':
            index = optarg;
            break;
        case 'p':
            payload = optarg;
            break;
        case 'm':
        case 'a':
        case 'M': {
            uint32_t size;
            if (!parse_size(optarg, &size))
                return uf_cmdline_usage_error(argv[0], "invalid size '%s'", optarg);
            *(c == 'm' ? &p.min_size : c == 'a' ? &p.avg_size : &p.max_size) = size;
            break;
        }
        case 'l':
            if (!parse_uint(optarg, 22, &v))
                return uf_cmdline_usage_error(argv[0], "invalid level '%s'", optarg);
            p.level = (int)v;
            break;
        case 't':
            if (!parse_uint(optarg, 256, &v))
                return uf_cmdline_usage_error(argv[0], "invalid thread count '%s'", optarg);
            p.threads = (unsigned)v;
            break;
        case 'h':
            printf("Usage: %s [OPTION]... IMAGE\n"
                   "Cut IMAGE into content-defined chunks, compress each with zstd, and write\n"
                   "the index and the payload (the compressed chunks, end to end).\n"
                   "\n"
                   "  -i, --index FILE     index to write (default IMAGE.upfidx)\n"
                   "  -p, --payload FILE   payload to write (default IMAGE.upfpay)\n"
                   "      --min SIZE       minimum chunk size (default 16K)\n"
                   "      --avg SIZE       average chunk size, a power of two (default 64K)\n"
                   "      --max SIZE       maximum chunk size (default 256K)\n"
                   "  -l, --level N        zstd level 1..22 (default %d)\n"
                   "  -t, --threads N      compression threads (default: one per CPU)\n"
                   "  -h, --help           display this help and exit\n"
                   "\n"
                   "SIZE is bytes, or a number with K/KiB or M/MiB.\n",
                   argv[0], UF_IMAGE_DEFAULT_LEVEL);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind + 1 != argc)
        return uf_cmdline_usage_error(argv[0], optind == argc ? "missing IMAGE"
                                                              : "expected exactly one IMAGE");
    uf_error err;
    if (!uf_image_params_check(&p, &err))
        return uf_cmdline_usage_error(argv[0], "%s", err.msg);
    const char *image = argv[optind];
    char *index_def = index ? NULL : default_output(image, ".upfidx");
    char *payload_def = payload ? NULL : default_output(image, ".upfpay");
    if ((!index && !index_def) || (!payload && !payload_def)) {
        free(index_def);
        free(payload_def);
        uf_error_set(&err, UF_E_NOMEM, "out of memory");
        return uf_cmdline_fail(argv[0], &err);
    }
    uf_image_create_stats st;
    bool ok = uf_image_create_files(image, index ? index : index_def,
                                    payload ? payload : payload_def, &p, &st, &err);
    if (ok) {
        char hex[65];
        uf_hex_encode(st.image_sha256, 32, hex);
        printf("index:    %s (%" PRIu64 " bytes)\n"
               "payload:  %s (%" PRIu64 " bytes)\n"
               "chunks:   %" PRIu64 " (%u/%u/%u bytes min/avg/max, zstd level %d, %u threads)\n"
               "image:    %" PRIu64 " bytes\n"
               "ratio:    %.3f\n"
               "sha256:   %s\n",
               index ? index : index_def, st.index_size, payload ? payload : payload_def,
               st.payload_size, st.chunk_count, p.min_size, p.avg_size, p.max_size, p.level,
               st.threads, st.image_size,
               st.image_size ? (double)st.payload_size / (double)st.image_size : 0.0, hex);
    }
    free(index_def);
    free(payload_def);
    return ok ? UF_EXIT_OK : uf_cmdline_fail(argv[0], &err);
}

static void print_header_text(const uf_image_header *h)
{
    char hex[65];
    uf_hex_encode(h->image_sha256, 32, hex);
    printf("format:   upflow image index version %u\n"
           "chunking: min %u, avg %u, max %u bytes\n"
           "zstd:     level %d\n"
           "chunks:   %" PRIu64 "\n"
           "image:    %" PRIu64 " bytes\n"
           "payload:  %" PRIu64 " bytes (ratio %.3f)\n"
           "sha256:   %s\n",
           h->version, h->min_size, h->avg_size, h->max_size, h->level, h->chunk_count,
           h->image_size, h->payload_size,
           h->image_size ? (double)h->payload_size / (double)h->image_size : 0.0, hex);
}

static json_t *header_json(const uf_image_header *h)
{
    char hex[65];
    uf_hex_encode(h->image_sha256, 32, hex);
    return json_pack("{s:i, s:{s:I, s:I, s:I}, s:i, s:I, s:I, s:I, s:s}", "version",
                     (int)h->version, "chunking", "min", (json_int_t)h->min_size, "avg",
                     (json_int_t)h->avg_size, "max", (json_int_t)h->max_size, "level",
                     (int)h->level, "chunk_count", (json_int_t)h->chunk_count, "image_size",
                     (json_int_t)h->image_size, "payload_size", (json_int_t)h->payload_size,
                     "sha256", hex);
}

static int print_json(const char *prog, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text) {
        uf_error err;
        uf_error_set(&err, UF_E_NOMEM, "cannot format the output");
        return uf_cmdline_fail(prog, &err);
    }
    puts(text);
    free(text);
    return UF_EXIT_OK;
}

static int inspect_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"chunks", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool as_json = false, chunks = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "ch", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            as_json = true;
            break;
        case 'c':
            chunks = true;
            break;
        case 'h':
            printf("Usage: %s [--json] [--chunks] INDEX\n"
                   "Check INDEX and print its header; with --chunks, one line per chunk\n"
                   "(index, offset, length, payload offset, payload length, SHA-256).\n"
                   "--json prints the header and every chunk as JSON.\n",
                   argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind + 1 != argc)
        return uf_cmdline_usage_error(argv[0], "expected exactly one INDEX");
    uf_error err;
    uf_image_index *idx = uf_image_index_open(argv[optind], &err);
    if (!idx)
        return uf_cmdline_fail(argv[0], &err);
    const uf_image_header *h = uf_image_index_header(idx);
    json_t *doc = NULL, *list = NULL;
    if (as_json) {
        doc = header_json(h);
        list = json_array();
        if (!doc || !list || json_object_set_new(doc, "chunks", list) != 0) {
            json_decref(doc);
            uf_image_index_free(idx);
            uf_error_set(&err, UF_E_NOMEM, "out of memory");
            return uf_cmdline_fail(argv[0], &err);
        }
    } else {
        print_header_text(h);
    }
    for (uint64_t i = 0; (as_json || chunks) && i < h->chunk_count; i++) {
        uf_image_chunk ch;
        char hex[65];
        if (!uf_image_index_chunk(idx, i, &ch, &err)) {
            json_decref(doc);
            uf_image_index_free(idx);
            return uf_cmdline_fail(argv[0], &err);
        }
        uf_hex_encode(ch.sha256, 32, hex);
        if (as_json)
            json_array_append_new(
                list, json_pack("{s:I, s:I, s:I, s:I, s:s}", "offset", (json_int_t)ch.offset,
                                "length", (json_int_t)ch.length, "payload_offset",
                                (json_int_t)ch.payload_offset, "payload_length",
                                (json_int_t)ch.payload_length, "sha256", hex));
        else
            printf("%" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIu64 " %" PRIu32 " %s\n", i,
                   ch.offset, ch.length, ch.payload_offset, ch.payload_length, hex);
    }
    uf_image_index_free(idx);
    return as_json ? print_json(argv[0], doc) : UF_EXIT_OK;
}

static int open_in(const char *prog, const char *path, int *fd)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd >= 0)
        return UF_EXIT_OK;
    uf_error err;
    uf_error_errno(&err, errno, "open %s", path);
    return uf_cmdline_fail(prog, &err);
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static int verify_main(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("Usage: %s INDEX PAYLOAD\n"
               "Decompress and hash every chunk of PAYLOAD against INDEX, then the whole\n"
               "image; name the first bad chunk.\n",
               argv[0]);
        return UF_EXIT_OK;
    }
    if (argc != 3)
        return uf_cmdline_usage_error(argv[0], "expected INDEX PAYLOAD");
    uf_error err;
    uf_image_index *idx = uf_image_index_open(argv[1], &err);
    if (!idx)
        return uf_cmdline_fail(argv[0], &err);
    int fd;
    int rc = open_in(argv[0], argv[2], &fd);
    if (rc != UF_EXIT_OK) {
        uf_image_index_free(idx);
        return rc;
    }
    uf_image_verify_stats st;
    bool ok = uf_image_verify(idx, fd, &st, &err);
    close(fd);
    uf_image_index_free(idx);
    if (!ok)
        return uf_cmdline_fail(argv[0], &err);
    printf("OK: %" PRIu64 " chunks, %" PRIu64 " bytes\n", st.chunks_ok, st.bytes_ok);
    return UF_EXIT_OK;
}

static int extract_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"old-image", required_argument, NULL, 'o'},
        {"old-index", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *old_image = NULL, *old_index = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'o':
            old_image = optarg;
            break;
        case 'x':
            old_index = optarg;
            break;
        case 'h':
            printf("Usage: %s [--old-image FILE --old-index FILE] INDEX PAYLOAD OUT\n"
                   "Rebuild the image into OUT, verifying each chunk before writing it. OUT is\n"
                   "written as OUT.tmp and renamed only when the whole image checks out.\n"
                   "\n"
                   "      --old-image FILE   an image a device already holds (its active slot)\n"
                   "      --old-index FILE   the index of that image: chunks it shares with\n"
                   "                         INDEX are copied from it, and PAYLOAD needs to hold\n"
                   "                         only the ranges `upflow image plan` lists\n"
                   "  -h, --help             display this help and exit\n",
                   argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind + 3 != argc)
        return uf_cmdline_usage_error(argv[0], "expected INDEX PAYLOAD OUT");
    if (!old_image != !old_index)
        return uf_cmdline_usage_error(argv[0], "--old-image and --old-index go together");
    const char *index_path = argv[optind], *payload_path = argv[optind + 1],
               *out_path = argv[optind + 2];
    uf_error err;
    uf_image_index *idx = uf_image_index_open(index_path, &err);
    if (!idx)
        return uf_cmdline_fail(argv[0], &err);
    uf_image_index *old_idx = NULL;
    uf_image_plan plan = {0};
    int in = -1, old_fd = -1, out = -1;
    char *tmp = NULL;
    bool ok = false;
    if (old_index) {
        if (!(old_idx = uf_image_index_open(old_index, &err)) ||
            !uf_image_plan_make(idx, old_idx, &plan, &err))
            goto done;
        if ((old_fd = open(old_image, O_RDONLY | O_CLOEXEC)) < 0) {
            uf_error_errno(&err, errno, "open %s", old_image);
            goto done;
        }
    }
    if ((in = open(payload_path, O_RDONLY | O_CLOEXEC)) < 0) {
        uf_error_errno(&err, errno, "open %s", payload_path);
        goto done;
    }
    if (!(tmp = default_output(out_path, ".tmp"))) {
        uf_error_set(&err, UF_E_NOMEM, "out of memory");
        goto done;
    }
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        uf_error_errno(&err, errno, "create %s", tmp);
        goto done;
    }
    ok = old_idx ? uf_image_extract_delta(idx, &plan, old_fd, in, out, &err)
                 : uf_image_extract(idx, in, out, 0, &err);
    if (ok && fsync(out) != 0)
        ok = uf_error_errno(&err, errno, "write %s", tmp);
    if (close(out) != 0 && ok)
        ok = uf_error_errno(&err, errno, "write %s", tmp);
    if (ok && rename(tmp, out_path) != 0)
        ok = uf_error_errno(&err, errno, "rename %s", tmp);
    if (!ok)
        unlink(tmp);
    if (ok && old_idx)
        printf("%s: %" PRIu64 " bytes, verified; %" PRIu64 " chunks copied from %s, %" PRIu64
               " from the payload\n",
               out_path, uf_image_index_header(idx)->image_size, plan.copy_chunks, old_image,
               plan.fetch_chunks);
    else if (ok)
        printf("%s: %" PRIu64 " bytes, verified\n", out_path,
               uf_image_index_header(idx)->image_size);
done:
    if (in >= 0)
        close(in);
    if (old_fd >= 0)
        close(old_fd);
    free(tmp);
    uf_image_plan_free(&plan);
    uf_image_index_free(old_idx);
    uf_image_index_free(idx);
    return ok ? UF_EXIT_OK : uf_cmdline_fail(argv[0], &err);
}

static int plan_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool as_json = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            as_json = true;
            break;
        case 'h':
            printf("Usage: %s [--json] NEW_INDEX OLD_INDEX\n"
                   "Show what a device holding the image of OLD_INDEX must fetch to build the\n"
                   "image of NEW_INDEX: the payload byte ranges (adjacent chunks merged) and the\n"
                   "chunks it copies from its active slot.\n",
                   argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind + 2 != argc)
        return uf_cmdline_usage_error(argv[0], "expected NEW_INDEX OLD_INDEX");
    uf_error err;
    uf_image_index *new_idx = uf_image_index_open(argv[optind], &err);
    uf_image_index *old_idx = new_idx ? uf_image_index_open(argv[optind + 1], &err) : NULL;
    uf_image_plan plan;
    if (!old_idx || !uf_image_plan_make(new_idx, old_idx, &plan, &err)) {
        uf_image_index_free(new_idx);
        uf_image_index_free(old_idx);
        return uf_cmdline_fail(argv[0], &err);
    }
    uint64_t chunks = uf_image_index_header(new_idx)->chunk_count;
    uf_image_index_free(new_idx);
    uf_image_index_free(old_idx);
    double share = plan.full_payload_bytes
                       ? (double)plan.fetch_bytes / (double)plan.full_payload_bytes
                       : 0.0;
    if (!as_json) {
        printf("fetch:    %" PRIu64 " of %" PRIu64 " chunks, %" PRIu64 " of %" PRIu64
               " payload bytes (%.1f%%) in %zu ranges\n"
               "copy:     %" PRIu64 " chunks, %" PRIu64 " bytes from the old image\n",
               plan.fetch_chunks, chunks, plan.fetch_bytes, plan.full_payload_bytes,
               100.0 * share, plan.fetch_count, plan.copy_chunks, plan.copy_bytes);
        for (size_t i = 0; i < plan.fetch_count; i++)
            printf("range:    bytes=%" PRIu64 "-%" PRIu64 " (chunks %" PRIu64 "..%" PRIu64 ")\n",
                   plan.fetches[i].payload_offset,
                   plan.fetches[i].payload_offset + plan.fetches[i].payload_length - 1,
                   plan.fetches[i].first_chunk,
                   plan.fetches[i].first_chunk + plan.fetches[i].chunk_count - 1);
        uf_image_plan_free(&plan);
        return UF_EXIT_OK;
    }
    json_t *ranges = json_array();
    for (size_t i = 0; ranges && i < plan.fetch_count; i++) {
        const uf_image_fetch *f = &plan.fetches[i];
        json_array_append_new(
            ranges, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "first_chunk",
                              (json_int_t)f->first_chunk, "chunk_count",
                              (json_int_t)f->chunk_count, "offset", (json_int_t)f->offset,
                              "length", (json_int_t)f->length, "payload_offset",
                              (json_int_t)f->payload_offset, "payload_length",
                              (json_int_t)f->payload_length));
    }
    json_t *doc = ranges ? json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "chunk_count",
                                     (json_int_t)chunks, "fetch_chunks",
                                     (json_int_t)plan.fetch_chunks, "fetch_bytes",
                                     (json_int_t)plan.fetch_bytes, "copy_chunks",
                                     (json_int_t)plan.copy_chunks, "copy_bytes",
                                     (json_int_t)plan.copy_bytes, "full_payload_bytes",
                                     (json_int_t)plan.full_payload_bytes, "fetch", ranges)
                         : NULL;
    uf_image_plan_free(&plan);
    return print_json(argv[0], doc);
}

int cmd_image(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"create", "cut an image into compressed chunks with an index", create_main},
        {"inspect", "check an index and print its header and chunks", inspect_main},
        {"verify", "check every chunk of a payload against its index", verify_main},
        {"extract", "rebuild the image from its index and payload", extract_main},
        {"plan", "what a delta update from an old image must fetch", plan_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
