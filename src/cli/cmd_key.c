/*
 * cmd_key.c - `upflow key generate|show`: make a signing key for an offline role (root,
 * targets, a product team's delegation) and show the public half as a TUF key object with
 * its keyid, ready to be listed in root.json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "lib/cmdline.h"
#include "lib/key.h"

/* Print {"keyid": ..., "key": {...}} for the public half of key. */
static int print_public(const char *name, const uf_key *key)
{
    uf_error err;
    char keyid[UF_KEYID_HEX];
    json_t *obj = uf_key_to_json(key, &err);
    if (!obj || !uf_key_keyid(key, keyid, &err)) {
        json_decref(obj);
        return uf_cmdline_fail(name, &err);
    }
    json_t *out = json_pack("{s:s, s:o}", "keyid", keyid, "key", obj);
    char *text = out ? json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(out);
    if (!text) {
        uf_error_set(&err, UF_E_NOMEM, "cannot format the key");
        return uf_cmdline_fail(name, &err);
    }
    puts(text);
    free(text);
    return UF_EXIT_OK;
}

static int generate_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"type", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *type_name = "ed25519", *out = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "t:o:h", options, NULL)) != -1) {
        switch (c) {
        case 't':
            type_name = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            printf("Usage: %s [--type ed25519|ecdsa|rsa] --out FILE\n"
                   "Generate a private key into FILE (PKCS#8 PEM, mode 0600, never overwritten)\n"
                   "and print the public key as a TUF key object with its keyid.\n"
                   "\n"
                   "  -t, --type TYPE   ed25519 (default), ecdsa (P-256) or rsa (3072-bit, PSS)\n"
                   "  -o, --out FILE    where to write the private key\n"
                   "  -h, --help        display this help and exit\n",
                   argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (!out)
        return uf_cmdline_usage_error(argv[0], "missing --out FILE");
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    uf_error err;
    uf_key_type type;
    if (!uf_key_type_from_name(type_name, &type, &err))
        return uf_cmdline_usage_error(argv[0], "%s", err.msg);
    uf_key *key = uf_key_generate(type, &err);
    if (!key || !uf_key_save_private(key, out, &err)) {
        uf_key_free(key);
        return uf_cmdline_fail(argv[0], &err);
    }
    int rc = print_public(argv[0], key);
    uf_key_free(key);
    return rc;
}

static int show_main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: %s FILE\n"
               "Print the public half of the private key in FILE as a TUF key object with its "
               "keyid.\n",
               argv[0]);
        return UF_EXIT_OK;
    }
    if (argc != 2)
        return uf_cmdline_usage_error(argv[0], "expected exactly one FILE");
    uf_error err;
    uf_key *key = uf_key_load_private(argv[1], &err);
    if (!key)
        return uf_cmdline_fail(argv[0], &err);
    int rc = print_public(argv[0], key);
    uf_key_free(key);
    return rc;
}

int cmd_key(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"generate", "make a new private key file and print its public key", generate_main},
        {"show", "print the public key and keyid of a private key file", show_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
