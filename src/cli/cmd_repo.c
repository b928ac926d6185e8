/*
 * cmd_repo.c - `upflow repo init|delegate|sign|...`: the offline half of a tenant's TUF
 * repository (docs/tuf-repository.md). Root and targets keys stay with their owners in a
 * local workspace (repo_workspace.h); snapshot and timestamp keys stay on the server, which
 * only lends their public halves. This file holds the command group, the options every repo
 * command shares, and the commands that make keys and roles: init, delegate and sign.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/repo_commands.h"
#include "cli/repo_remote.h"
#include "lib/cmdline.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/tuf_sign.h"

int uf_repo_cmd_option(uf_repo_cmd *cmd, int c, const char *arg, const char *prog)
{
    switch (c) {
    case UF_REPO_OPT_DIR:
        cmd->loc.dir = arg;
        return -1;
    case UF_REPO_OPT_KEYS:
        cmd->loc.keys = arg;
        return -1;
    case UF_REPO_OPT_KEY:
        if (cmd->loc.n_extra == sizeof cmd->loc.extra / sizeof cmd->loc.extra[0])
            return uf_cmdline_usage_error(prog, "too many --key files");
        cmd->loc.extra[cmd->loc.n_extra++] = arg;
        return -1;
    default:
        return uf_client_target_option(&cmd->target, c, arg) ? -1 : uf_cmdline_try_help(prog);
    }
}

bool uf_repo_cmd_open(const uf_repo_cmd *cmd, uf_repo *r, const char *prog, int *rc)
{
    uf_error err;
    if (uf_repo_open(r, &cmd->loc, &err))
        return true;
    *rc = uf_cmdline_fail(prog, &err);
    return false;
}

int uf_repo_cmd_run(const uf_repo_cmd *cmd, const char *prog, uf_repo_work work, void *arg)
{
    uf_repo r;
    uf_error err;
    int rc;
    if (!uf_repo_cmd_open(cmd, &r, prog, &rc))
        return rc;
    bool ok = work(&r, arg, &err);
    uf_repo_close(&r);
    return ok ? UF_EXIT_OK : uf_cmdline_fail(prog, &err);
}

int uf_repo_cmd_print(json_t *doc, bool json, void (*human)(const json_t *doc))
{
    if (json) {
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (text)
            puts(text);
        free(text);
    } else {
        human(doc);
    }
    json_decref(doc);
    return fflush(stdout) == 0 ? UF_EXIT_OK : UF_EXIT_FAILURE;
}

int uf_repo_cmd_parse(uf_repo_cmd *cmd, int argc, char **argv, const char *help)
{
    static const struct option options[] = {UF_REPO_LONG_OPTIONS};
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'h') {
            printf("Usage: %s ", argv[0]);
            fputs(help, stdout);
            return UF_EXIT_OK;
        }
        if ((rc = uf_repo_cmd_option(cmd, c, optarg, argv[0])) >= 0)
            return rc;
    }
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* ---- init ------------------------------------------------------------------------------- */

enum { OPT_TENANT = UF_REPO_OPT_FIRST_OWN, OPT_ROOT_KEYS, OPT_ROOT_THRESHOLD, OPT_KEY_TYPE,
       OPT_ONLINE_KEYS, OPT_NAME, OPT_PATHS, OPT_THRESHOLD, OPT_TERMINATING, OPT_REPLACE };

typedef struct init_args {
    const char *tenant;
    long root_keys, root_threshold;
    uf_key_type key_type;
    const char *online_file;
} init_args;

static bool parse_count(const char *s, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > max)
        return false;
    *out = v;
    return true;
}

/* Check a list of TUF key objects and put each into keys; the keyids go to ids. */
static bool take_online_keys(const json_t *list, const char *role, json_t *keys, json_t *ids,
                             uf_error *err)
{
    const json_t *k;
    size_t i;
    if (!json_is_array(list) || json_array_size(list) == 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected a non-empty array of keys", role);
    json_array_foreach(list, i, k) {
        char keyid[UF_KEYID_HEX];
        uf_key *key = uf_key_from_json(k, err);
        bool ok = key && uf_tuf_put_key(keys, key, keyid, err) &&
                  json_array_append_new(ids, json_string(keyid)) == 0;
        uf_key_free(key);
        if (!ok)
            return uf_error_prefix(err, "%s[%zu]", role, i);
    }
    return true;
}

/* {"snapshot": [KEY...], "timestamp": [KEY...]} from FILE, or from the server. */
static json_t *online_keys(const init_args *a, const uf_client_target *target, uf_error *err)
{
    if (a->online_file) {
        uf_json_limits lim = uf_json_default_limits();
        json_t *doc = uf_json_load_file(a->online_file, &lim, err);
        if (!doc)
            uf_error_prefix(err, "--online-keys %s", a->online_file);
        return doc;
    }
    uf_repo_remote rr;
    json_t *status = NULL, *out = NULL, *snap = NULL, *ts = NULL;
    if (uf_repo_remote_open(&rr, target, a->tenant, err) &&
        (status = uf_repo_remote_status(&rr, err)) != NULL &&
        (snap = uf_repo_remote_online_keys(&rr, status, "snapshot", err)) != NULL &&
        (ts = uf_repo_remote_online_keys(&rr, status, "timestamp", err)) != NULL)
        out = json_pack("{s:O, s:O}", "snapshot", snap, "timestamp", ts);
    json_decref(status);
    json_decref(snap);
    json_decref(ts);
    uf_repo_remote_close(&rr);
    return out;
}

static json_t *role_entry(json_t *keyids, long threshold)
{
    return json_pack("{s:o, s:I}", "keyids", keyids, "threshold", (json_int_t)threshold);
}

/* Root version 1: the new root keys, the targets key, the online keys. */
static json_t *first_root(uf_repo *r, const init_args *a, const json_t *online, uf_error *err)
{
    json_t *s = uf_tuf_new_signed(UF_TUF_ROOT, 0, 0);
    json_t *keys = json_object_get(s, "keys"), *roles = json_object_get(s, "roles");
    json_t *root_ids = json_array(), *targets_ids = json_array(), *snap_ids = json_array(),
           *ts_ids = json_array();
    bool ok = s && root_ids && targets_ids && snap_ids && ts_ids;
    for (long i = 1; ok && i <= a->root_keys; i++) {
        char name[32];
        snprintf(name, sizeof name, "root-%ld", i);
        const uf_repo_keyfile *kf = uf_repo_key_new(r, name, err);
        ok = kf && uf_tuf_put_key(keys, kf->key, NULL, err) &&
             json_array_append_new(root_ids, json_string(kf->keyid)) == 0;
    }
    const uf_repo_keyfile *tk = ok ? uf_repo_key_new(r, "targets", err) : NULL;
    ok = tk && uf_tuf_put_key(keys, tk->key, NULL, err) &&
         json_array_append_new(targets_ids, json_string(tk->keyid)) == 0 &&
         take_online_keys(json_object_get(online, "snapshot"), "snapshot", keys, snap_ids,
                          err) &&
         take_online_keys(json_object_get(online, "timestamp"), "timestamp", keys, ts_ids, err);
    if (ok) {
        json_object_set_new(roles, "root", role_entry(root_ids, a->root_threshold));
        json_object_set_new(roles, "targets", role_entry(targets_ids, 1));
        json_object_set_new(roles, "snapshot", role_entry(snap_ids, 1));
        json_object_set_new(roles, "timestamp", role_entry(ts_ids, 1));
        return s;
    }
    json_decref(root_ids);
    json_decref(targets_ids);
    json_decref(snap_ids);
    json_decref(ts_ids);
    json_decref(s);
    return NULL;
}

static bool init_workspace(uf_repo *r, const init_args *a, const uf_repo_cmd *cmd,
                           uf_error *err)
{
    json_t *online = online_keys(a, &cmd->target, err), *root = NULL, *targets = NULL;
    bool staged = false;
    uf_buf missing = UF_BUF_INIT;
    bool ok = online && uf_repo_create(r, &cmd->loc, a->tenant, a->key_type, err) &&
              (root = first_root(r, a, online, err)) != NULL &&
              uf_repo_publish_root(r, root, &staged, &missing, err) &&
              (targets = uf_tuf_new_signed(UF_TUF_TARGETS, 0, 0)) != NULL &&
              uf_repo_publish(r, "targets", targets, err);
    if (ok && staged)
        ok = uf_error_set(err, UF_E_THRESHOLD, "1.root.json: %s", missing.data);
    json_decref(online);
    json_decref(root);
    json_decref(targets);
    uf_buf_free(&missing);
    return ok;
}

static void print_role_keys(const uf_repo *r, const char *role)
{
    const json_t *entry = uf_tuf_root_role(r->root, role), *id;
    size_t i;
    printf("%-10s threshold %lld of %zu:\n", role,
           (long long)json_integer_value(json_object_get(entry, "threshold")),
           json_array_size(json_object_get(entry, "keyids")));
    json_array_foreach(json_object_get(entry, "keyids"), i, id) {
        const uf_repo_keyfile *kf = uf_repo_key_find(r, json_string_value(id));
        printf("  %s  %s\n", json_string_value(id), kf ? kf->path : "(online, on the server)");
    }
}

static int init_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"tenant", required_argument, NULL, OPT_TENANT},
        {"root-keys", required_argument, NULL, OPT_ROOT_KEYS},
        {"root-threshold", required_argument, NULL, OPT_ROOT_THRESHOLD},
        {"key-type", required_argument, NULL, OPT_KEY_TYPE},
        {"online-keys", required_argument, NULL, OPT_ONLINE_KEYS},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    init_args a = {.tenant = "default", .root_keys = 3, .root_threshold = 2};
    const char *type = "ed25519";
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_TENANT:
            a.tenant = optarg;
            break;
        case OPT_ROOT_KEYS:
        case OPT_ROOT_THRESHOLD:
            if (!parse_count(optarg, 32, c == OPT_ROOT_KEYS ? &a.root_keys : &a.root_threshold))
                return uf_cmdline_usage_error(argv[0], "%s: expected a number from 1 to 32",
                                              optarg);
            break;
        case OPT_KEY_TYPE:
            type = optarg;
            break;
        case OPT_ONLINE_KEYS:
            a.online_file = optarg;
            break;
        case 'h':
            printf("Usage: %s [OPTION]...\n"
                   "Make a new repository workspace: the root keys (a threshold of them signs\n"
                   "root) and the targets key, kept here; root version 1 naming them and the\n"
                   "server's online snapshot and timestamp keys; an empty targets version 1.\n"
                   "\n"
                   "      --tenant T            the server's tenant (default: default)\n"
                   "      --root-keys N         root keys to make (default: 3)\n"
                   "      --root-threshold T    root signatures needed (default: 2)\n"
                   "      --key-type TYPE       ed25519 (default), ecdsa or rsa\n"
                   "      --online-keys FILE    the online public keys from FILE,\n"
                   "                            {\"snapshot\": [KEY...], \"timestamp\": [KEY...]},\n"
                   "                            instead of asking the server\n" UF_REPO_OPTIONS_HELP
                       UF_REPO_SERVER_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0)
                return rc;
        }
    }
    uf_error err;
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (a.root_threshold > a.root_keys)
        return uf_cmdline_usage_error(argv[0], "--root-threshold %ld is more than the %ld keys",
                                      a.root_threshold, a.root_keys);
    if (!uf_key_type_from_name(type, &a.key_type, &err) ||
        !uf_repo_tenant_valid(a.tenant, &err))
        return uf_cmdline_usage_error(argv[0], "%s", err.msg);
    uf_repo r = {0};
    bool ok = init_workspace(&r, &a, &cmd, &err);
    if (ok) {
        printf("repository workspace %s for tenant %s\n", r.dir, r.tenant);
        static const char *const roles[] = {"root", "targets", "snapshot", "timestamp"};
        for (size_t i = 0; i < 4; i++)
            print_role_keys(&r, roles[i]);
        printf("wrote metadata/1.root.json and metadata/targets.json; next: 'upflow repo "
               "push'\n");
    }
    uf_repo_close(&r);
    return ok ? UF_EXIT_OK : uf_cmdline_fail(argv[0], &err);
}

/* ---- delegate ------------------------------------------------------------------------- */

typedef struct delegate_args {
    const char *name;
    const char *paths[32];
    size_t n_paths;
    const char *key_files[16];
    size_t n_keys;
    long threshold;
    bool terminating;
} delegate_args;

/* targets.delegations, created when absent. */
static json_t *delegations_of(json_t *targets_signed)
{
    json_t *d = json_object_get(targets_signed, "delegations");
    if (!d) {
        d = json_pack("{s:{}, s:[]}", "keys", "roles");
        json_object_set_new(targets_signed, "delegations", d);
    }
    return d;
}

static json_t *find_role(json_t *roles, const char *name)
{
    json_t *d;
    size_t i;
    json_array_foreach(roles, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
            return d;
    }
    return NULL;
}

/* The keyids of the role's keys: those of --key, else a new DIR/keys/ROLE.key. */
static json_t *delegate_keyids(uf_repo *r, const delegate_args *a, json_t *keys, uf_error *err)
{
    json_t *ids = json_array();
    for (size_t i = 0; ids && i < a->n_keys; i++) {
        char keyid[UF_KEYID_HEX];
        uf_key *key = uf_key_load_private(a->key_files[i], err);
        bool ok = key && uf_tuf_put_key(keys, key, keyid, err);
        uf_key_free(key);
        if (!ok) {
            json_decref(ids);
            return NULL;
        }
        json_array_append_new(ids, json_string(keyid));
    }
    if (ids && a->n_keys == 0) {
        const uf_repo_keyfile *kf = uf_repo_key_new(r, a->name, err);
        if (!kf || !uf_tuf_put_key(keys, kf->key, NULL, err)) {
            json_decref(ids);
            return NULL;
        }
        json_array_append_new(ids, json_string(kf->keyid));
    }
    return ids;
}

/* Add or update the delegation entry in a copy of targets' signed part; *new_keys says
 * whether the role's keys changed (so ROLE.json must be signed again). */
static bool delegate_update(uf_repo *r, const delegate_args *a, json_t *s, bool *new_keys,
                            uf_error *err)
{
    json_t *del = delegations_of(s), *roles = json_object_get(del, "roles");
    json_t *keys = json_object_get(del, "keys"), *entry = find_role(roles, a->name);
    if (!entry && a->n_paths == 0)
        return uf_error_set(err, UF_E_USAGE, "a new delegation needs --paths PATTERN");
    if (!entry) {
        entry = json_pack("{s:s, s:[], s:i, s:b, s:[]}", "name", a->name, "keyids",
                          "threshold", 1, "terminating", 0, "paths");
        json_array_append_new(roles, entry);
    }
    if (a->n_paths) {
        json_t *paths = json_array();
        for (size_t i = 0; i < a->n_paths; i++)
            json_array_append_new(paths, json_string(a->paths[i]));
        json_object_set_new(entry, "paths", paths);
    }
    if (a->n_keys || json_array_size(json_object_get(entry, "keyids")) == 0) {
        json_t *ids = delegate_keyids(r, a, keys, err);
        if (!ids)
            return false;
        json_object_set_new(entry, "keyids", ids);
        *new_keys = true;
    }
    size_t n = json_array_size(json_object_get(entry, "keyids"));
    if ((size_t)a->threshold > n)
        return uf_error_set(err, UF_E_USAGE, "--threshold %ld is more than the role's %zu keys",
                            a->threshold, n);
    json_object_set_new(entry, "threshold", json_integer(a->threshold));
    json_object_set_new(entry, "terminating", json_boolean(a->terminating));
    uf_repo_prune_keys(keys, roles);
    return true;
}

static bool delegate(uf_repo *r, void *arg, uf_error *err)
{
    const delegate_args *a = arg;
    json_t *s = json_deep_copy(r->targets->signed_part), *role = NULL;
    uf_error probe;
    uf_tuf_metadata *old = uf_repo_load_role(r, a->name, &probe);
    if (!old && probe.code != UF_E_NOT_FOUND) {
        *err = probe;
        json_decref(s);
        return false;
    }
    role = old ? json_deep_copy(old->signed_part) : uf_tuf_new_signed(UF_TUF_TARGETS, 0, 0);
    bool new_keys = false;
    bool ok = s && role && delegate_update(r, a, s, &new_keys, err) &&
              uf_repo_publish(r, "targets", s, err) &&
              (!(new_keys || !old) || uf_repo_publish(r, a->name, role, err));
    if (ok)
        printf("delegated to %s; targets.json version %lld, %s.json version %lld\n", a->name,
               (long long)r->targets->version, a->name,
               (long long)json_integer_value(json_object_get(role, "version")));
    uf_tuf_metadata_free(old);
    json_decref(s);
    json_decref(role);
    return ok;
}

static int delegate_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"name", required_argument, NULL, OPT_NAME},
        {"paths", required_argument, NULL, OPT_PATHS},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"terminating", no_argument, NULL, OPT_TERMINATING},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    delegate_args a = {.threshold = 1};
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_NAME:
            a.name = optarg;
            break;
        case OPT_PATHS:
            if (a.n_paths == sizeof a.paths / sizeof a.paths[0] || !*optarg)
                return uf_cmdline_usage_error(argv[0], "--paths: empty, or too many");
            a.paths[a.n_paths++] = optarg;
            break;
        case OPT_THRESHOLD:
            if (!parse_count(optarg, 16, &a.threshold))
                return uf_cmdline_usage_error(argv[0], "--threshold: expected 1 to 16");
            break;
        case OPT_TERMINATING:
            a.terminating = true;
            break;
        case UF_REPO_OPT_KEY:
            if (a.n_keys == sizeof a.key_files / sizeof a.key_files[0])
                return uf_cmdline_usage_error(argv[0], "too many --key files");
            a.key_files[a.n_keys++] = optarg;
            if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0)
                return rc;
            break;
        case 'h':
            printf("Usage: %s --name ROLE --paths PATTERN... [OPTION]...\n"
                   "Delegate target paths to a product team's role: add or update the entry in\n"
                   "targets (signed again) and sign ROLE.json with the role's key.\n"
                   "\n"
                   "      --name ROLE           the role, e.g. product-x\n"
                   "      --paths PATTERN       the paths it may sign, e.g. 'product-x/*/*'\n"
                   "                            (repeatable; segments match one by one, shell\n"
                   "                            style; kept when updating without it)\n"
                   "      --key FILE            the role's private key (repeatable; default: a\n"
                   "                            new KEYS/ROLE.key, or the keys it has)\n"
                   "      --threshold N         signatures of the role's keys needed (default 1)\n"
                   "      --terminating         a search for a path the role matches ends there\n"
                   "      --dir DIR             the workspace (default: the current directory)\n"
                   "      --keys DIR            the private keys (default: DIR/keys)\n"
                   "  -h, --help                display this help and exit\n",
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0)
                return rc;
        }
    }
    uf_error err;
    if (!a.name)
        return uf_cmdline_usage_error(argv[0], "missing --name ROLE");
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (!uf_repo_role_name_valid(a.name, &err))
        return uf_cmdline_fail(argv[0], &err);
    return uf_repo_cmd_run(&cmd, argv[0], delegate, &a);
}

/* ---- sign ------------------------------------------------------------------------------- */

static bool sign_file(const char *file, const char *key_file, bool replace, char *keyid,
                      uf_error *err)
{
    uf_buf in = UF_BUF_INIT;
    char *out = NULL;
    size_t len;
    uf_key *key = uf_key_load_private(key_file, err);
    bool ok = key && uf_key_keyid(key, keyid, err) &&
              uf_file_read_capped(file, UF_REPO_TARGETS_MAX_BYTES, &in, err) &&
              uf_tuf_add_signature(in.data, in.len, key, replace, &out, &len, err) &&
              uf_file_write_atomic(file, out, len, err);
    uf_key_free(key);
    uf_buf_free(&in);
    free(out);
    return ok || uf_error_prefix(err, "sign %s", file);
}

/* In a workspace with a staged root: move it into the chain if it is now complete, else say
 * what it still lacks. Outside a workspace: nothing. */
static bool sign_followup(const uf_repo_cmd *cmd, uf_error *err)
{
    uf_repo r;
    uf_error probe;
    if (!uf_repo_open(&r, &cmd->loc, &probe))
        return true;
    uf_buf missing = UF_BUF_INIT;
    int64_t staged = r.root_staged ? r.root->version : 0;
    bool promoted = false, ok = uf_repo_promote_staged(&r, &promoted, &missing, err);
    if (ok && promoted)
        printf("root version %lld is complete: metadata/%lld.root.json; next: 'upflow repo "
               "push'\n",
               (long long)staged, (long long)staged);
    else if (ok && staged)
        printf("root version %lld is still staged; missing signatures:\n%s\n", (long long)staged,
               missing.data);
    uf_buf_free(&missing);
    uf_repo_close(&r);
    return ok;
}

static int sign_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"replace", no_argument, NULL, OPT_REPLACE},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    const char *key_file = NULL;
    bool replace = false;
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_REPLACE:
            replace = true;
            break;
        case UF_REPO_OPT_KEY:
            key_file = optarg;
            break;
        case 'h':
            printf("Usage: %s FILE --key KEYFILE [--replace] [--dir DIR]\n"
                   "Add a signature by the private key in KEYFILE to the metadata FILE,\n"
                   "replacing an earlier one by the same key; FILE is rewritten atomically.\n"
                   "For threshold ceremonies: each key holder signs on his own machine. In a\n"
                   "workspace, a staged root that now has every signature it needs joins the\n"
                   "chain.\n"
                   "\n"
                   "      --key KEYFILE         the private key to sign with\n"
                   "      --replace             drop every other signature first\n"
                   "      --dir DIR             the workspace (default: the current directory)\n"
                   "  -h, --help                display this help and exit\n",
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0)
                return rc;
        }
    }
    if (!key_file)
        return uf_cmdline_usage_error(argv[0], "missing --key KEYFILE");
    if (optind + 1 != argc)
        return uf_cmdline_usage_error(argv[0], "expected exactly one FILE");
    uf_error err;
    char keyid[UF_KEYID_HEX];
    if (!sign_file(argv[optind], key_file, replace, keyid, &err))
        return uf_cmdline_fail(argv[0], &err);
    printf("signed %s with key %s\n", argv[optind], keyid);
    return sign_followup(&cmd, &err) ? UF_EXIT_OK : uf_cmdline_fail(argv[0], &err);
}

int cmd_repo(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"init", "make the keys and the first root and targets", init_main},
        {"delegate", "delegate target paths to a product team's key", delegate_main},
        {"sign", "add a signature to a metadata file", sign_main},
        {"rotate-root", "new root with root keys added or revoked", repo_rotate_root_main},
        {"rotate-key", "replace the key of a role", repo_rotate_key_main},
        {"resign", "sign a role again with a new version and expiry", repo_resign_main},
        {"verify", "check every local file against the root chain", repo_verify_main},
        {"status", "local and server versions and expiries", repo_status_main},
        {"push", "upload staged targets and new metadata to the server", repo_push_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
