/*
 * upflow-tuf-client - upflow's TUF client behind the tuf-conformance client protocol
 * (tuf.md §13), so the public suite (or tests/cli/test_tuf_client.sh) can drive it:
 *
 *   upflow-tuf-client --metadata-dir DIR init TRUSTED_ROOT
 *   upflow-tuf-client --metadata-dir DIR --metadata-url URL refresh
 *   upflow-tuf-client --metadata-dir DIR --metadata-url URL --target-name PATH...
 *                     --target-dir TDIR --target-base-url TURL download
 *
 * Flags in any order, before or after the command. Exit 0 on success, 1 on any failure,
 * 2 on a usage error. Fetching is agent/fetch.c (libcurl); the rest is lib/tuf_client.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/fetch.h"
#include "lib/buf.h"
#include "lib/cmdline.h"
#include "lib/tuf_client.h"

static const char *const prog = "upflow-tuf-client";

static void print_help(void)
{
    printf("Usage: %s --metadata-dir DIR init TRUSTED_ROOT_FILE\n"
           "  or:  %s --metadata-dir DIR --metadata-url URL refresh\n"
           "  or:  %s --metadata-dir DIR --metadata-url URL --target-name PATH...\n"
           "             --target-dir DIR --target-base-url URL download\n"
           "Update TUF metadata and download verified targets (the tuf-conformance client\n"
           "protocol).\n"
           "\n"
           "  -d, --metadata-dir DIR      trusted metadata (root.json, timestamp.json, ...)\n"
           "  -u, --metadata-url URL      where the repository's metadata is served\n"
           "  -n, --target-name PATH      a target to download (repeatable, in order)\n"
           "  -t, --target-dir DIR        where downloaded targets are stored\n"
           "  -b, --target-base-url URL   where the repository's targets are served\n"
           "  -h, --help                  display this help and exit\n"
           "  -V, --version               output version information and exit\n"
           "\n"
           "Exit status: 0 on success, 1 on a failure, 2 on a usage error.\n"
           "Documentation: docs/tuf-client.md\n",
           prog, prog, prog);
}

/* --- commands ------------------------------------------------------------------------ */

typedef struct options {
    const char *metadata_dir, *metadata_url, *target_dir, *target_base_url;
    const char **targets;
    size_t n_targets;
} options;

static int fail(const uf_error *err)
{
    fprintf(stderr, "%s: %s\n", prog, err->msg);
    return UF_EXIT_FAILURE;
}

static int cmd_init(const options *o, const char *root_file)
{
    uf_error err;
    uf_buf data = UF_BUF_INIT;
    FILE *fp = fopen(root_file, "rb");
    if (!fp) {
        uf_error_errno(&err, errno, "open %s", root_file);
        return fail(&err);
    }
    char block[65536];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(block, 1, sizeof block, fp)) > 0)
        ok = data.len + n <= UF_TUF_ROOT_MAX_BYTES
                 ? uf_buf_append(&data, block, n, &err)
                 : uf_error_set(&err, UF_E_TOO_LARGE, "%s: more than %d bytes", root_file,
                                UF_TUF_ROOT_MAX_BYTES);
    fclose(fp);
    if (ok && mkdir(o->metadata_dir, 0755) != 0 && errno != EEXIST)
        ok = uf_error_errno(&err, errno, "mkdir %s", o->metadata_dir);
    ok = ok && uf_tuf_client_install_root(o->metadata_dir, data.data ? data.data : "",
                                          data.len, &err);
    uf_buf_free(&data);
    return ok ? UF_EXIT_OK : fail(&err);
}

static int cmd_update(const options *o, bool download)
{
    uf_error err;
    uf_fetch *fetch = uf_fetch_new(NULL, &err);
    if (!fetch)
        return fail(&err);
    uf_tuf_client_config cfg = {
        .metadata_dir = o->metadata_dir,
        .metadata_base = o->metadata_url,
        .targets_base = o->target_base_url ? o->target_base_url : "",
        .fetcher = uf_fetch_tuf(fetch),
    };
    uf_tuf_client *c = uf_tuf_client_open(&cfg, &err);
    bool ok = c && uf_tuf_client_refresh(c, &err);
    if (ok && download && mkdir(o->target_dir, 0755) != 0 && errno != EEXIST)
        ok = uf_error_errno(&err, errno, "mkdir %s", o->target_dir);
    for (size_t i = 0; ok && download && i < o->n_targets; i++) {
        uf_tuf_target_info t;
        /* one stable file per target path: its percent-encoding, '/' included */
        const char *name = o->targets[i];
        size_t len = strlen(o->target_dir) + strlen(name) * 3 + 2;
        char *dest = malloc(len);
        if (!dest) {
            ok = uf_error_set(&err, UF_E_NOMEM, "out of memory");
            break;
        }
        int w = snprintf(dest, len, "%s/", o->target_dir);
        uf_tuf_percent_encode(name, false, dest + w);
        ok = uf_tuf_client_find_target(c, name, &t, &err) &&
             uf_tuf_client_download_target(c, &t, dest, &err);
        free(dest);
    }
    uf_tuf_client_free(c);
    uf_fetch_free(fetch);
    return ok ? UF_EXIT_OK : fail(&err);
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"metadata-dir", required_argument, NULL, 'd'},
        {"metadata-url", required_argument, NULL, 'u'},
        {"target-name", required_argument, NULL, 'n'},
        {"target-dir", required_argument, NULL, 't'},
        {"target-base-url", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    options o = {0};
    o.targets = calloc((size_t)argc, sizeof *o.targets);
    if (!o.targets)
        return UF_EXIT_FAILURE;
    int c, rc;
    while ((c = getopt_long(argc, argv, "d:u:n:t:b:hV", long_options, NULL)) != -1) {
        switch (c) {
        case 'd': o.metadata_dir = optarg; break;
        case 'u': o.metadata_url = optarg; break;
        case 'n': o.targets[o.n_targets++] = optarg; break;
        case 't': o.target_dir = optarg; break;
        case 'b': o.target_base_url = optarg; break;
        case 'h':
            print_help();
            rc = UF_EXIT_OK;
            goto out;
        case 'V':
            uf_cmdline_print_version(stdout, prog);
            rc = UF_EXIT_OK;
            goto out;
        default: /* getopt has printed "unrecognized option" */
            rc = uf_cmdline_try_help(prog);
            goto out;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : NULL;
    int rest = argc - optind - 1;
    if (!cmd) {
        rc = uf_cmdline_usage_error(prog, "missing command (init, refresh or download)");
    } else if (!o.metadata_dir) {
        rc = uf_cmdline_usage_error(prog, "--metadata-dir is required");
    } else if (strcmp(cmd, "init") == 0) {
        rc = rest == 1 ? cmd_init(&o, argv[optind + 1])
                       : uf_cmdline_usage_error(prog, "init takes one TRUSTED_ROOT_FILE");
    } else if (strcmp(cmd, "refresh") == 0 || strcmp(cmd, "download") == 0) {
        bool download = strcmp(cmd, "download") == 0;
        if (rest != 0)
            rc = uf_cmdline_usage_error(prog, "unexpected argument '%s'", argv[optind + 1]);
        else if (!o.metadata_url)
            rc = uf_cmdline_usage_error(prog, "--metadata-url is required");
        else if (download && (!o.target_dir || !o.target_base_url || o.n_targets == 0))
            rc = uf_cmdline_usage_error(
                prog, "download needs --target-name, --target-dir and --target-base-url");
        else {
            curl_global_init(CURL_GLOBAL_DEFAULT);
            rc = cmd_update(&o, download);
            curl_global_cleanup();
        }
    } else {
        rc = uf_cmdline_usage_error(prog, "unknown command '%s'", cmd);
    }
out:
    free(o.targets);
    return rc;
}
