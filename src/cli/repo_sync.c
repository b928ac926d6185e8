/*
 * repo_sync.c - `upflow repo push|status`: the workspace against the server's repository.
 *
 * push uploads the staged target files the server lacks (asked one by one by SHA-256,
 * streamed from disk), then posts in one request every root version above the server's, in
 * order, and each targets role whose local version is newer; the server checks it all as a
 * client would and answers with the snapshot and timestamp it signed. A staged root that is
 * still short of signatures is never pushed. status shows both sides' versions and expiries
 * and warns about metadata that expires within 30 days.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/repo_commands.h"
#include "cli/repo_remote.h"
#include "lib/cmdline.h"

#define WARN_DAYS 30
#define DAY 86400

enum { OPT_LOCAL = UF_REPO_OPT_FIRST_OWN };

/* "targets" and the delegated roles, in delegation order. */
static json_t *targets_roles(const uf_repo *r)
{
    json_t *names = json_pack("[s]", "targets"), *d;
    size_t i;
    json_array_foreach(json_object_get(uf_tuf_delegations(r->targets), "roles"), i, d) {
        json_array_append(names, json_object_get(d, "name"));
    }
    return names;
}

static uf_tuf_metadata *load_targets_role(const uf_repo *r, const char *name, uf_error *err)
{
    if (strcmp(name, "targets") != 0)
        return uf_repo_load_role(r, name, err);
    uf_buf text = UF_BUF_INIT;
    uf_tuf_metadata *md = uf_repo_read(r, "targets.json", &text, err)
                              ? uf_repo_parse("targets.json", text.data, text.len, err)
                              : NULL;
    uf_buf_free(&text);
    return md;
}

/* ---- push ------------------------------------------------------------------------------- */

typedef struct pusher {
    uf_repo *r;
    uf_repo_remote rr;
    json_t *status;
    json_t *files; /* {"N.root.json": TEXT, "targets.json": TEXT, ...} */
    unsigned uploaded, present;
} pusher;

static bool add_file(pusher *p, const char *name, uf_error *err)
{
    uf_buf text = UF_BUF_INIT;
    bool ok = uf_repo_read(p->r, name, &text, err);
    json_t *s = ok ? json_stringn(text.data, text.len) : NULL;
    if (ok && (!s || json_object_set_new(p->files, name, s) != 0))
        ok = uf_error_set(err, UF_E_BAD_JSON, "%s: not UTF-8 text", name);
    uf_buf_free(&text);
    return ok;
}

/* Upload the blob of each target of md that the server lacks. */
static bool upload_targets(pusher *p, const uf_tuf_metadata *md, uf_error *err)
{
    const char *path;
    const json_t *t;
    json_object_foreach(json_object_get(md->signed_part, "targets"), path, t) {
        const char *sha = json_string_value(json_object_get(json_object_get(t, "hashes"), "sha256"));
        int64_t length = json_integer_value(json_object_get(t, "length"));
        char rel[PATH_MAX], file[PATH_MAX];
        struct stat st;
        bool has = false;
        if (!sha)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: target %s has no sha256", md->label,
                                path);
        if (!uf_repo_remote_has_blob(&p->rr, sha, length, &has, err))
            return false;
        if (has) {
            p->present++;
            continue;
        }
        snprintf(rel, sizeof rel, "targets/%s", path);
        if (!uf_repo_path(p->r, file, rel, err))
            return false;
        if (stat(file, &st) != 0)
            return uf_error_set(err, UF_E_NOT_FOUND,
                                "target %s: the server lacks it and %s is missing", path, file);
        if (!uf_repo_remote_upload_blob(&p->rr, file, sha, length, err))
            return false;
        printf("uploaded %s (%lld bytes)\n", path, (long long)length);
        p->uploaded++;
    }
    return true;
}

/* Collect the roots above the server's, and the newer targets roles (uploading their
 * targets). */
static bool plan_push(pusher *p, uf_error *err)
{
    int64_t server_root = uf_repo_remote_version(p->status, "root");
    if (server_root > p->r->root->version)
        return uf_error_set(err, UF_E_CONFLICT,
                            "the server has root version %lld, this workspace only %lld: it is "
                            "out of date",
                            (long long)server_root, (long long)p->r->root->version);
    for (int64_t v = server_root + 1; v <= p->r->root->version; v++) {
        char name[64];
        snprintf(name, sizeof name, "%lld.root.json", (long long)v);
        if (!add_file(p, name, err))
            return false;
    }
    json_t *roles = targets_roles(p->r), *n;
    size_t i;
    bool ok = true;
    json_array_foreach(roles, i, n) {
        const char *name = json_string_value(n);
        char file[96];
        uf_tuf_metadata *md = ok ? load_targets_role(p->r, name, err) : NULL;
        uf_repo_role_file(name, file);
        ok = md && upload_targets(p, md, err);
        if (ok && md->version > uf_repo_remote_version(p->status, name))
            ok = add_file(p, file, err);
        uf_tuf_metadata_free(md);
    }
    json_decref(roles);
    return ok;
}

static void print_pushed(const pusher *p, const json_t *answer)
{
    const char *name;
    const json_t *text;
    printf("pushed:");
    json_object_foreach(p->files, name, text) {
        printf(" %s", name);
    }
    const json_t *pub = json_object_get(answer, "published");
    printf("\nserver published snapshot version %lld, timestamp version %lld\n",
           (long long)json_integer_value(json_object_get(pub, "snapshot")),
           (long long)json_integer_value(json_object_get(pub, "timestamp")));
}

static bool push(pusher *p, const uf_repo_cmd *cmd, uf_error *err)
{
    uf_buf missing = UF_BUF_INIT;
    bool ok = uf_repo_promote_staged(p->r, NULL, &missing, err);
    if (ok && p->r->root_staged)
        ok = uf_error_set(err, UF_E_THRESHOLD,
                          "root version %lld is staged and incomplete, so nothing was pushed; "
                          "complete it with 'upflow repo sign':\n%s",
                          (long long)p->r->root->version, missing.data);
    uf_buf_free(&missing);
    ok = ok && uf_repo_remote_open(&p->rr, &cmd->target, p->r->tenant, err) &&
         (p->status = uf_repo_remote_status(&p->rr, err)) != NULL &&
         (p->files = json_object()) != NULL && plan_push(p, err);
    if (ok && json_object_size(p->files) == 0) {
        printf("nothing to push: the server has every metadata version (%u target files "
               "uploaded, %u already there)\n",
               p->uploaded, p->present);
        return true;
    }
    json_t *answer = ok ? uf_repo_remote_push(&p->rr, p->files, err) : NULL;
    if (answer)
        print_pushed(p, answer);
    json_decref(answer);
    return answer != NULL;
}

int repo_push_main(int argc, char **argv)
{
    uf_repo_cmd cmd = {0};
    int rc = uf_repo_cmd_parse(&cmd, argc, argv,
                   "[--dir DIR] [--server URL] [--token TOKEN]\n"
                   "Upload the staged target files the server lacks, then every root version\n"
                   "above the server's and each targets role newer than the server's. The\n"
                   "server checks them as a device would and signs a new snapshot and\n"
                   "timestamp. Needs the release_manager or admin role.\n"
                   "\n" UF_REPO_OPTIONS_HELP UF_REPO_SERVER_HELP);
    if (rc >= 0)
        return rc;
    uf_repo r;
    if (!uf_repo_cmd_open(&cmd, &r, argv[0], &rc))
        return rc;
    pusher p = {.r = &r};
    uf_error err;
    bool ok = push(&p, &cmd, &err);
    rc = ok ? UF_EXIT_OK : uf_client_fail(argv[0], &err, &p.rr.resp);
    json_decref(p.status);
    json_decref(p.files);
    uf_repo_remote_close(&p.rr);
    uf_repo_close(&r);
    return rc;
}

/* ---- status ----------------------------------------------------------------------------- */

static json_t *version_entry(const uf_tuf_metadata *md)
{
    char when[32];
    uf_tuf_format_time(md->expires, when);
    return json_pack("{s:I, s:s}", "version", (json_int_t)md->version, "expires", when);
}

/* {ROLE: {"version", "expires"}} of the workspace; a staged root is "staged_root". */
static json_t *local_versions(uf_repo *r, uf_error *err)
{
    json_t *out = json_object(), *roles = targets_roles(r), *n;
    uf_tuf_metadata *root = uf_repo_load(r, "root.json", err);
    bool ok = root != NULL;
    if (ok)
        json_object_set_new(out, "root", version_entry(root));
    if (ok && r->root_staged)
        json_object_set_new(out, "staged_root", version_entry(r->root));
    size_t i;
    json_array_foreach(roles, i, n) {
        uf_tuf_metadata *md = ok ? load_targets_role(r, json_string_value(n), err) : NULL;
        ok = md != NULL;
        if (ok)
            json_object_set_new(out, json_string_value(n), version_entry(md));
        uf_tuf_metadata_free(md);
    }
    uf_tuf_metadata_free(root);
    json_decref(roles);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* Warnings for offline roles (either side) that expire within WARN_DAYS. */
static void add_warnings(const uf_repo *r, const json_t *side, const char *where,
                         json_t *warnings)
{
    const char *role;
    const json_t *e;
    json_object_foreach((json_t *)(uintptr_t)side, role, e) {
        int64_t expires;
        const char *when = json_string_value(json_object_get(e, "expires"));
        if (strcmp(role, "snapshot") == 0 || strcmp(role, "timestamp") == 0 ||
            strcmp(role, "staged_root") == 0 || !when || !uf_tuf_parse_time(when, &expires, NULL))
            continue;
        if (expires - r->now > (int64_t)WARN_DAYS * DAY)
            continue;
        char line[512];
        if (expires <= r->now)
            snprintf(line, sizeof line, "%s %s expired at %s: run 'upflow repo resign --role %s' "
                     "and push", where, role, when, role);
        else
            snprintf(line, sizeof line, "%s %s expires at %s, in %lld days: run 'upflow repo "
                     "resign --role %s' and push", where, role, when,
                     (long long)((expires - r->now) / DAY), role);
        json_array_append_new(warnings, json_string(line));
    }
}

static const char *cell(const json_t *side, const char *role, const char *field, char *buf)
{
    const json_t *v = json_object_get(json_object_get(side, role), field);
    if (json_is_integer(v)) {
        snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return json_is_string(v) ? json_string_value(v) : "-";
}

/* Append the roles of side that names does not hold yet. */
static void add_names(json_t *names, const json_t *side)
{
    const char *role;
    const json_t *e, *n;
    size_t i;
    json_object_foreach((json_t *)(uintptr_t)side, role, e) {
        bool seen = false;
        json_array_foreach(names, i, n) {
            seen = seen || strcmp(json_string_value(n), role) == 0;
        }
        if (!seen)
            json_array_append_new(names, json_string(role));
    }
}

static void print_status(const json_t *doc)
{
    const json_t *local = json_object_get(doc, "local"), *server = json_object_get(doc, "server");
    if (!json_is_object(server))
        server = NULL;
    json_t *names = json_pack("[s,s,s,s]", "root", "targets", "snapshot", "timestamp");
    const json_t *e;
    size_t i;
    add_names(names, local);
    add_names(names, server);
    printf("tenant %s\n%-16s %-8s %-22s %-8s %s\n",
           json_string_value(json_object_get(doc, "tenant")), "ROLE", "LOCAL", "EXPIRES",
           server ? "SERVER" : "", server ? "EXPIRES" : "");
    json_array_foreach(names, i, e) {
        const char *n = json_string_value(e);
        char a[32], b[32];
        printf("%-16s %-8s %-22s", n, cell(local, n, "version", a), cell(local, n, "expires", b));
        if (server)
            printf(" %-8s %s", cell(server, n, "version", a), cell(server, n, "expires", b));
        putchar('\n');
    }
    json_array_foreach(json_object_get(doc, "warnings"), i, e) {
        fprintf(stderr, "warning: %s\n", json_string_value(e));
    }
    json_decref(names);
}

static json_t *status_doc(uf_repo *r, const uf_repo_cmd *cmd, bool local_only, uf_error *err)
{
    json_t *local = local_versions(r, err), *server = NULL, *status = NULL;
    if (!local)
        return NULL;
    if (!local_only) {
        uf_repo_remote rr;
        bool ok = uf_repo_remote_open(&rr, &cmd->target, r->tenant, err) &&
                  (status = uf_repo_remote_status(&rr, err)) != NULL;
        uf_repo_remote_close(&rr);
        if (!ok) {
            json_decref(local);
            return NULL;
        }
        server = json_incref(json_object_get(status, "roles"));
        json_decref(status);
    }
    json_t *warnings = json_array();
    add_warnings(r, local, "local", warnings);
    if (server)
        add_warnings(r, server, "server", warnings);
    return json_pack("{s:s, s:o, s:o, s:o}", "tenant", r->tenant, "local", local, "server",
                     server ? server : json_null(), "warnings", warnings);
}

int repo_status_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, UF_REPO_OPT_JSON},
        {"local", no_argument, NULL, OPT_LOCAL},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    bool json = false, local_only = false;
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == UF_REPO_OPT_JSON) {
            json = true;
        } else if (c == OPT_LOCAL) {
            local_only = true;
        } else if (c == 'h') {
            printf("Usage: %s [--dir DIR] [--json] [--local]\n"
                   "The version and expiry of each role in the workspace and on the server,\n"
                   "side by side; a warning on standard error for offline metadata that\n"
                   "expires within %d days.\n"
                   "\n"
                   "      --json                print {tenant, local, server, warnings}\n"
                   "      --local               the workspace only; do not ask the server\n"
                   UF_REPO_OPTIONS_HELP UF_REPO_SERVER_HELP,
                   argv[0], WARN_DAYS);
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
    json_t *doc = status_doc(&r, &cmd, local_only, &err);
    uf_repo_close(&r);
    return doc ? uf_repo_cmd_print(doc, json, print_status) : uf_cmdline_fail(argv[0], &err);
}
