/*
 * cmd_release.c - `upflow release add|add-file|list`: put a release into the workspace's
 * targets (or a product team's delegated role) and sign it offline.
 *
 * An image from `upflow image create` becomes two targets, PRODUCT/VERSION/NAME.upfidx and
 * PRODUCT/VERSION/NAME.upfpay, after the index and the whole payload have been checked with
 * the image library; a plain artifact becomes one, PRODUCT/VERSION/NAME. Each carries the
 * release's metadata in custom.upflow (docs/tuf-repository.md), is copied to DIR/targets/ for
 * `upflow repo push`, and the role is signed again with version + 1. A product version is
 * released once: a second release of it is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/repo_commands.h"
#include "lib/cmdline.h"
#include "lib/encoding.h"
#include "lib/fileio.h"
#include "lib/image.h"
#include "lib/tuf_sign.h"

#define NOTES_MAX (64u * 1024)
#define MAX_LIST 64

enum { OPT_PAYLOAD = UF_REPO_OPT_FIRST_OWN, OPT_PRODUCT, OPT_VERSION, OPT_HARDWARE,
       OPT_FROM_VERSION, OPT_INSTALL_TYPE, OPT_NOTES, OPT_NOTES_FILE, OPT_ROLE, OPT_NAME };

typedef struct release {
    bool image; /* add (an index and a payload) or add-file (an artifact) */
    const char *file, *payload;
    const char *product, *version, *name, *role;
    const char *hardware; /* "rev1,rev2" as given, or NULL */
    const char *from[MAX_LIST];
    size_t n_from;
    const char *install_type;
    const char *notes, *notes_file;
    /* worked out */
    char payload_def[PATH_MAX];
    char name_def[256];
    char index_path[512], payload_path[512]; /* target paths */
    uf_image_header header;
} release;

/* A path segment: 1..128 of [A-Za-z0-9._+-], not starting with '.'. */
static bool segment_ok(const char *what, const char *s, uf_error *err)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128 || s[0] == '.' ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") != n)
        return uf_error_set(err, UF_E_USAGE,
                            "%s '%s': expected 1 to 128 of A-Z, a-z, 0-9, '.', '_', '+' and '-', "
                            "not starting with '.'",
                            what, s);
    return true;
}

/* Split "a,b,c" into a JSON array; empty items are refused. */
static json_t *split_list(const char *what, const char *text, uf_error *err)
{
    json_t *out = json_array();
    const char *p = text;
    for (;;) {
        size_t n = strcspn(p, ",");
        json_t *item = n ? json_stringn(p, n) : NULL;
        if (!item) {
            json_decref(out);
            uf_error_set(err, UF_E_USAGE, "%s '%s': empty item, or not UTF-8", what, text);
            return NULL;
        }
        json_array_append_new(out, item);
        if (!p[n])
            return out;
        p += n + 1;
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Every --from-version, each split at commas. */
static json_t *from_versions(const release *rel, uf_error *err)
{
    json_t *out = json_array();
    for (size_t i = 0; out && i < rel->n_from; i++) {
        json_t *items = split_list("--from-version", rel->from[i], err);
        if (!items || json_array_extend(out, items) != 0) {
            json_decref(items);
            json_decref(out);
            return NULL;
        }
        json_decref(items);
    }
    return out;
}

/* Defaults, names and target paths; everything the command line can get wrong. */
static bool release_check(release *rel, uf_error *err)
{
    if (!rel->product || !rel->version)
        return uf_error_set(err, UF_E_USAGE, "missing --%s", rel->product ? "version" : "product");
    if (rel->notes && rel->notes_file)
        return uf_error_set(err, UF_E_USAGE, "--notes and --notes-file exclude each other");
    if (strcmp(rel->install_type, "raw") != 0 && strcmp(rel->install_type, "tree") != 0)
        return uf_error_set(err, UF_E_USAGE, "--install-type: expected raw or tree");
    if (rel->hardware && !*rel->hardware)
        return uf_error_set(err, UF_E_USAGE, "--hardware: empty list");
    if (!rel->image && rel->payload)
        return uf_error_set(err, UF_E_USAGE, "--payload goes with 'release add'");
    if (!rel->name) {
        snprintf(rel->name_def, sizeof rel->name_def, "%s", base_name(rel->file));
        char *dot = rel->image ? strrchr(rel->name_def, '.') : NULL;
        if (dot && dot != rel->name_def)
            *dot = '\0';
        rel->name = rel->name_def;
    }
    if (rel->image && !rel->payload) {
        snprintf(rel->payload_def, sizeof rel->payload_def, "%s", rel->file);
        char *dot = strrchr(rel->payload_def, '.');
        if (dot && !strchr(dot, '/'))
            *dot = '\0';
        if (strlen(rel->payload_def) + 8 >= sizeof rel->payload_def)
            return uf_error_set(err, UF_E_USAGE, "%s: path too long", rel->file);
        strcat(rel->payload_def, ".upfpay");
        rel->payload = rel->payload_def;
    }
    if (!segment_ok("--product", rel->product, err) ||
        !segment_ok("--version", rel->version, err) || !segment_ok("--name", rel->name, err))
        return false;
    json_t *from = from_versions(rel, err);
    json_decref(from);
    if (!from)
        return false;
    snprintf(rel->index_path, sizeof rel->index_path, "%s/%s/%s%s", rel->product, rel->version,
             rel->name, rel->image ? ".upfidx" : "");
    snprintf(rel->payload_path, sizeof rel->payload_path, "%s/%s/%s.upfpay", rel->product,
             rel->version, rel->name);
    return true;
}

/* The index parses and checks, and the payload holds exactly the chunks it lists. */
static bool check_image(release *rel, uf_error *err)
{
    uf_image_index *idx = uf_image_index_open(rel->file, err);
    if (!idx)
        return uf_error_prefix(err, "not an upflow image index");
    rel->header = *uf_image_index_header(idx);
    int fd = open(rel->payload, O_RDONLY | O_CLOEXEC);
    struct stat st;
    bool ok = fd >= 0 || uf_error_errno(err, errno, "open %s", rel->payload);
    ok = ok && (fstat(fd, &st) == 0 || uf_error_errno(err, errno, "stat %s", rel->payload));
    if (ok && (uint64_t)st.st_size != rel->header.payload_size)
        ok = uf_error_set(err, UF_E_HASH_MISMATCH,
                          "%s: %lld bytes, but the index lists a %llu-byte payload",
                          rel->payload, (long long)st.st_size,
                          (unsigned long long)rel->header.payload_size);
    ok = ok && uf_image_verify(idx, fd, NULL, err);
    if (fd >= 0)
        close(fd);
    uf_image_index_free(idx);
    return ok || uf_error_prefix(err, "check the image");
}

static bool read_notes(const release *rel, json_t **out, uf_error *err)
{
    uf_buf text = UF_BUF_INIT;
    bool ok = !rel->notes_file || uf_file_read_capped(rel->notes_file, NOTES_MAX, &text, err);
    *out = !ok ? NULL
           : rel->notes_file ? json_stringn(text.data ? text.data : "", text.len)
                             : json_string(rel->notes ? rel->notes : "");
    uf_buf_free(&text);
    if (ok && !*out)
        ok = uf_error_set(err, UF_E_USAGE, "release notes: not UTF-8 text");
    return ok;
}

/* custom: {"upflow": {...}} for a target of this kind ("index", "payload", "artifact"). */
static json_t *release_custom(const release *rel, const char *kind, uf_error *err)
{
    json_t *hardware = rel->hardware ? split_list("--hardware", rel->hardware, err) : json_array();
    json_t *from = hardware ? from_versions(rel, err) : NULL, *notes = NULL;
    json_t *u = from && read_notes(rel, &notes, err)
                    ? json_pack("{s:s, s:s, s:O, s:O, s:s, s:O, s:s}", "product", rel->product,
                                "version", rel->version, "hardware", hardware, "from_versions",
                                from, "install_type", rel->install_type, "notes", notes, "kind",
                                kind)
                    : NULL;
    json_decref(hardware);
    json_decref(from);
    json_decref(notes);
    if (u && rel->image) {
        char hex[65];
        uf_hex_encode(rel->header.image_sha256, 32, hex);
        bool index = strcmp(kind, "index") == 0;
        json_object_set_new(u, index ? "payload" : "index",
                            json_string(index ? rel->payload_path : rel->index_path));
        json_object_set_new(u, "image_size", json_integer((json_int_t)rel->header.image_size));
        json_object_set_new(u, "image_sha256", json_string(hex));
    }
    return u ? json_pack("{s:o}", "upflow", u) : NULL;
}

/* Refuse a target path the workspace already lists, and a second image for a product
 * version; an artifact (a .swu for hawkBit clients) may stand beside the version's image. */
static bool check_new_version(const uf_repo *r, const release *rel, uf_error *err)
{
    json_t *names = json_pack("[s]", "targets"), *d, *n;
    size_t i;
    bool ok = true;
    json_array_foreach(json_object_get(uf_tuf_delegations(r->targets), "roles"), i, d) {
        json_array_append(names, json_object_get(d, "name"));
    }
    json_array_foreach(names, i, n) {
        const char *role = json_string_value(n);
        uf_error probe;
        uf_tuf_metadata *md = i == 0 ? NULL : uf_repo_load_role(r, role, &probe);
        const uf_tuf_metadata *m = i == 0 ? r->targets : md;
        const char *path;
        const json_t *t;
        json_object_foreach(ok && m ? json_object_get(m->signed_part, "targets") : NULL, path, t) {
            const json_t *u = json_object_get(json_object_get(t, "custom"), "upflow");
            const char *p = json_string_value(json_object_get(u, "product"));
            const char *v = json_string_value(json_object_get(u, "version"));
            const char *kind = json_string_value(json_object_get(u, "kind"));
            bool same_version = p && v && strcmp(p, rel->product) == 0 &&
                                strcmp(v, rel->version) == 0;
            bool clash = rel->image ? same_version && kind && strcmp(kind, "artifact") != 0
                                    : false;
            if (clash || strcmp(path, rel->index_path) == 0)
                ok = uf_error_set(err, UF_E_CONFLICT,
                                  "%s version %s is already released (%s in %s.json)",
                                  rel->product, rel->version, path, role);
        }
        uf_tuf_metadata_free(md);
    }
    json_decref(names);
    return ok;
}

/* A delegated role may sign only the paths delegated to it. */
static bool check_role_paths(const uf_repo *r, const release *rel, uf_error *err)
{
    const json_t *keys, *entry;
    if (strcmp(rel->role, "targets") == 0)
        return true;
    if (!uf_repo_signers(r, rel->role, &keys, &entry, err))
        return false;
    if (!uf_tuf_delegation_matches(entry, rel->index_path) ||
        (rel->image && !uf_tuf_delegation_matches(entry, rel->payload_path)))
        return uf_error_set(err, UF_E_FORBIDDEN,
                            "%s is outside the paths delegated to %s", rel->index_path,
                            rel->role);
    return true;
}

/* Stage the file as target path and put its entry into targets. */
static bool add_target(const uf_repo *r, const release *rel, json_t *targets,
                       const char *file, const char *path, const char *kind, uf_error *err)
{
    char rel_path[PATH_MAX], staged[PATH_MAX];
    json_t *custom = release_custom(rel, kind, err), *entry = NULL;
    snprintf(rel_path, sizeof rel_path, "targets/%s", path);
    bool ok = custom && uf_repo_stage_file(r, file, path, err) &&
              uf_repo_path(r, staged, rel_path, err) &&
              (entry = uf_tuf_target_entry_file(staged, custom, err)) != NULL;
    if (!entry)
        json_decref(custom);
    if (ok) {
        json_object_set_new(targets, path, entry);
        printf("added %s (%lld bytes, sha256 %s)\n", path,
               (long long)json_integer_value(json_object_get(entry, "length")),
               json_string_value(json_object_get(json_object_get(entry, "hashes"), "sha256")));
    }
    return ok;
}

static bool release_add(uf_repo *r, void *arg, uf_error *err)
{
    const release *rel = arg;
    uf_tuf_metadata *md = NULL;
    if (!check_role_paths(r, rel, err) || !check_new_version(r, rel, err))
        return false;
    if (strcmp(rel->role, "targets") != 0 && !(md = uf_repo_load_role(r, rel->role, err)))
        return false;
    json_t *s = json_deep_copy((md ? md : r->targets)->signed_part);
    json_t *targets = json_object_get(s, "targets");
    bool ok = s != NULL;
    if (rel->image)
        ok = ok && add_target(r, rel, targets, rel->file, rel->index_path, "index", err) &&
             add_target(r, rel, targets, rel->payload, rel->payload_path, "payload", err);
    else
        ok = ok && add_target(r, rel, targets, rel->file, rel->index_path, "artifact", err);
    ok = ok && uf_repo_publish(r, rel->role, s, err);
    if (ok)
        printf("%s.json version %lld\n", rel->role,
               (long long)json_integer_value(json_object_get(s, "version")));
    json_decref(s);
    uf_tuf_metadata_free(md);
    return ok;
}

static void print_add_help(const char *prog, bool image)
{
    if (image)
        printf("Usage: %s IMAGE.upfidx [--payload IMAGE.upfpay] --product P --version V\n"
               "          [OPTION]...\n"
               "Add an image made by 'upflow image create' as the targets P/V/NAME.upfidx and\n"
               "P/V/NAME.upfpay, after checking the index and every chunk of the payload, and\n"
               "sign targets (or --role) again.\n"
               "\n"
               "      --payload FILE        the payload (default: the index's path with .upfpay)\n"
               "      --name NAME           the targets' base name (default: the index's name\n"
               "                            without its extension)\n",
               prog);
    else
        printf("Usage: %s FILE --product P --version V [OPTION]...\n"
               "Add a plain artifact (a .swu, a tarball) as the target P/V/NAME and sign\n"
               "targets (or --role) again.\n"
               "\n"
               "      --name NAME           the target's name (default: FILE's name)\n",
               prog);
    printf("      --product P           the product\n"
           "      --version V           the version released (once per product)\n"
           "      --hardware LIST       compatible hardware revisions, e.g. rev1,rev2\n"
           "                            (default: any)\n"
           "      --from-version V      a version it may update from (repeatable, or a\n"
           "                            comma-separated list; default: any)\n"
           "      --install-type TYPE   raw (default) or tree\n"
           "      --notes TEXT          release notes\n"
           "      --notes-file FILE     release notes from FILE (UTF-8, at most 64 KiB)\n"
           "      --role ROLE           sign it into this delegated role, not targets\n"
           UF_REPO_OPTIONS_HELP);
}

static int add_common(int argc, char **argv, bool image)
{
    static const struct option options[] = {
        {"payload", required_argument, NULL, OPT_PAYLOAD},
        {"product", required_argument, NULL, OPT_PRODUCT},
        {"version", required_argument, NULL, OPT_VERSION},
        {"hardware", required_argument, NULL, OPT_HARDWARE},
        {"from-version", required_argument, NULL, OPT_FROM_VERSION},
        {"install-type", required_argument, NULL, OPT_INSTALL_TYPE},
        {"notes", required_argument, NULL, OPT_NOTES},
        {"notes-file", required_argument, NULL, OPT_NOTES_FILE},
        {"role", required_argument, NULL, OPT_ROLE},
        {"name", required_argument, NULL, OPT_NAME},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    release rel = {.image = image, .install_type = "raw", .role = "targets"};
    const char **field[] = {
        [OPT_PAYLOAD - OPT_PAYLOAD] = &rel.payload,
        [OPT_PRODUCT - OPT_PAYLOAD] = &rel.product,
        [OPT_VERSION - OPT_PAYLOAD] = &rel.version,
        [OPT_HARDWARE - OPT_PAYLOAD] = &rel.hardware,
        [OPT_FROM_VERSION - OPT_PAYLOAD] = NULL,
        [OPT_INSTALL_TYPE - OPT_PAYLOAD] = &rel.install_type,
        [OPT_NOTES - OPT_PAYLOAD] = &rel.notes,
        [OPT_NOTES_FILE - OPT_PAYLOAD] = &rel.notes_file,
        [OPT_ROLE - OPT_PAYLOAD] = &rel.role,
        [OPT_NAME - OPT_PAYLOAD] = &rel.name,
    };
    uf_error err;
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == OPT_FROM_VERSION) {
            if (rel.n_from == MAX_LIST)
                return uf_cmdline_usage_error(argv[0], "too many --from-version");
            rel.from[rel.n_from++] = optarg;
        } else if (c >= OPT_PAYLOAD && c <= OPT_NAME) {
            *field[c - OPT_PAYLOAD] = optarg;
        } else if (c == 'h') {
            print_add_help(argv[0], image);
            return UF_EXIT_OK;
        } else if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0) {
            return rc;
        }
    }
    if (optind + 1 != argc)
        return uf_cmdline_usage_error(argv[0], "expected exactly one %s",
                                      image ? "IMAGE.upfidx" : "FILE");
    rel.file = argv[optind];
    if (!release_check(&rel, &err) ||
        (strcmp(rel.role, "targets") != 0 && !uf_repo_role_name_valid(rel.role, &err)))
        return uf_cmdline_fail(argv[0], &err);
    if (image && !check_image(&rel, &err))
        return uf_cmdline_fail(argv[0], &err);
    return uf_repo_cmd_run(&cmd, argv[0], release_add, &rel);
}

static int add_main(int argc, char **argv) { return add_common(argc, argv, true); }
static int add_file_main(int argc, char **argv) { return add_common(argc, argv, false); }

/* ---- list ------------------------------------------------------------------------------- */

/* [{"role", "path", "length", "sha256", "custom"}] over targets and every delegated role. */
static json_t *list_targets(const uf_repo *r, uf_error *err)
{
    json_t *out = json_array(), *names = json_pack("[s]", "targets"), *d, *n;
    size_t i;
    bool ok = true;
    json_array_foreach(json_object_get(uf_tuf_delegations(r->targets), "roles"), i, d) {
        json_array_append(names, json_object_get(d, "name"));
    }
    json_array_foreach(names, i, n) {
        uf_tuf_metadata *md = i == 0 || !ok ? NULL : uf_repo_load_role(r, json_string_value(n), err);
        const uf_tuf_metadata *m = i == 0 ? r->targets : md;
        ok = ok && m != NULL;
        const char *path;
        const json_t *t;
        json_object_foreach(m ? json_object_get(m->signed_part, "targets") : NULL, path, t) {
            json_array_append_new(
                out, json_pack("{s:O, s:s, s:O, s:O, s:O*}", "role", n, "path", path, "length",
                               json_object_get(t, "length"), "sha256",
                               json_object_get(json_object_get(t, "hashes"), "sha256"), "custom",
                               json_object_get(t, "custom")));
        }
        uf_tuf_metadata_free(md);
    }
    json_decref(names);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static void print_list(const json_t *items)
{
    const json_t *e;
    size_t i;
    printf("%-20s %-12s %-9s %-14s %s\n", "PRODUCT", "VERSION", "KIND", "ROLE", "TARGET");
    json_array_foreach(items, i, e) {
        const json_t *u = json_object_get(json_object_get(e, "custom"), "upflow");
        const char *p = json_string_value(json_object_get(u, "product"));
        const char *v = json_string_value(json_object_get(u, "version"));
        const char *k = json_string_value(json_object_get(u, "kind"));
        printf("%-20s %-12s %-9s %-14s %s (%lld bytes)\n", p ? p : "-", v ? v : "-",
               k ? k : "-", json_string_value(json_object_get(e, "role")),
               json_string_value(json_object_get(e, "path")),
               (long long)json_integer_value(json_object_get(e, "length")));
    }
}

static int list_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, UF_REPO_OPT_JSON},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    bool json = false;
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == UF_REPO_OPT_JSON) {
            json = true;
        } else if (c == 'h') {
            printf("Usage: %s [--dir DIR] [--json]\n"
                   "List the targets of the workspace (targets and every delegated role) with\n"
                   "their product, version and kind.\n"
                   "\n"
                   "      --json                print [{role, path, length, sha256, custom}]\n"
                   UF_REPO_OPTIONS_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        } else if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0) {
            return rc;
        }
    }
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    uf_repo r;
    uf_error err;
    if (!uf_repo_cmd_open(&cmd, &r, argv[0], &rc))
        return rc;
    json_t *items = list_targets(&r, &err);
    uf_repo_close(&r);
    return items ? uf_repo_cmd_print(items, json, print_list) : uf_cmdline_fail(argv[0], &err);
}

int cmd_release(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"add", "add an image (index and payload) and sign it", add_main},
        {"add-file", "add a plain artifact and sign it", add_file_main},
        {"list", "list the releases in the workspace", list_main},
        {"published", "list the releases published on the server", cmd_release_published},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
