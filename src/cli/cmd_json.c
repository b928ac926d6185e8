/*
 * cmd_json.c - `upflow json canonical`: print the canonical JSON of a document, or of one
 * member of it (`--member signed` gives exactly the bytes a TUF signature covers), so an
 * operator can check a signature or a hash by hand.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "lib/canonical_json.h"
#include "lib/cmdline.h"
#include "lib/json.h"

static void canonical_help(const char *name)
{
    printf("Usage: %s [--member KEY] FILE\n"
           "Print the canonical JSON (OLPC form, as TUF signs it) of FILE, without a newline.\n"
           "\n"
           "  -m, --member KEY   print only the top-level member KEY (e.g. signed)\n"
           "  -h, --help         display this help and exit\n",
           name);
}

static int canonical_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"member", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *member = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "m:h", options, NULL)) != -1) {
        switch (c) {
        case 'm':
            member = optarg;
            break;
        case 'h':
            canonical_help(argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind != argc - 1)
        return uf_cmdline_usage_error(argv[0], "expected exactly one FILE");

    uf_error err;
    uf_json_limits lim = uf_json_default_limits();
    lim.max_bytes = 64u * 1024 * 1024; /* targets metadata of a large repository */
    lim.max_members = 1000000;
    json_t *doc = uf_json_load_file(argv[optind], &lim, &err);
    if (!doc)
        return uf_cmdline_fail(argv[0], &err);
    const json_t *v = doc;
    if (member) {
        v = json_object_get(doc, member);
        if (!v) {
            json_decref(doc);
            uf_error_set(&err, UF_E_NOT_FOUND, "%s: no top-level member '%s'", argv[optind],
                         member);
            return uf_cmdline_fail(argv[0], &err);
        }
    }
    uf_buf out = UF_BUF_INIT;
    bool ok = uf_canonical_json(v, &out, &err);
    json_decref(doc);
    if (!ok) {
        uf_buf_free(&out);
        uf_error_prefix(&err, "%s", argv[optind]);
        return uf_cmdline_fail(argv[0], &err);
    }
    ok = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0;
    uf_buf_free(&out);
    if (!ok) {
        uf_error_set(&err, UF_E_IO, "write to standard output failed");
        return uf_cmdline_fail(argv[0], &err);
    }
    return UF_EXIT_OK;
}

int cmd_json(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"canonical", "print the canonical form of a JSON document", canonical_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
