/*
 * repo_rotate.c - `upflow repo rotate-root|rotate-key|resign`: new versions of root and of
 * the targets roles when keys change or expiry comes near.
 *
 * A root N+1 is signed by every key at hand of root N that is not being revoked and by every
 * key of its own; when a threshold is short it waits in metadata/staged/ for the other key
 * holders (`upflow repo sign`). A replaced key is revoked by leaving it out of the new
 * metadata, and its private key file is renamed NAME.key.revoked-KEYIDPREFIX, never deleted.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/repo_commands.h"
#include "cli/repo_remote.h"
#include "lib/cmdline.h"
#include "lib/tuf_sign.h"

enum { OPT_ADD_KEYS = UF_REPO_OPT_FIRST_OWN, OPT_REVOKE, OPT_THRESHOLD, OPT_ROLE,
       OPT_REVOKE_ONLY, OPT_KEYID };

#define MAX_REVOKE 16

static bool is_online(const char *role)
{
    return strcmp(role, "snapshot") == 0 || strcmp(role, "timestamp") == 0;
}

static bool is_top(const char *role)
{
    return is_online(role) || strcmp(role, "root") == 0 || strcmp(role, "targets") == 0;
}

/* Publish a new root and say where it went. */
static bool publish_root(uf_repo *r, json_t *s, uf_error *err)
{
    bool staged = false;
    uf_buf missing = UF_BUF_INIT;
    bool ok = uf_repo_publish_root(r, s, &staged, &missing, err);
    if (ok && staged)
        printf("root version %lld is staged as metadata/staged/%lld.root.json; it needs more "
               "signatures ('upflow repo sign'):\n%s\n",
               (long long)r->root->version, (long long)r->root->version, missing.data);
    else if (ok)
        printf("root version %lld: metadata/%lld.root.json\n", (long long)r->root->version,
               (long long)r->root->version);
    uf_buf_free(&missing);
    return ok;
}

/* Sign a copy of a targets role again: version + 1, new expiry. */
static bool resign_role(uf_repo *r, const char *name, uf_error *err)
{
    uf_tuf_metadata *md = strcmp(name, "targets") == 0 ? NULL : uf_repo_load_role(r, name, err);
    if (!md && strcmp(name, "targets") != 0)
        return false;
    json_t *s = json_deep_copy((md ? md : r->targets)->signed_part);
    bool ok = s && uf_repo_publish(r, name, s, err);
    if (ok)
        printf("%s.json version %lld\n", name,
               (long long)json_integer_value(json_object_get(s, "version")));
    json_decref(s);
    uf_tuf_metadata_free(md);
    return ok;
}

/* ---- rotate-root ------------------------------------------------------------------------ */

typedef struct root_change {
    long add;
    const char *revoke[MAX_REVOKE];
    size_t n_revoke;
    long threshold; /* 0: keep */
} root_change;

static bool remove_keyid(json_t *keyids, const char *keyid)
{
    json_t *id;
    size_t i;
    json_array_foreach(keyids, i, id) {
        if (strcmp(json_string_value(id), keyid) == 0)
            return json_array_remove(keyids, i) == 0;
    }
    return false;
}

static bool rotate_root(uf_repo *r, void *arg, uf_error *err)
{
    const root_change *ch = arg;
    json_t *s = json_deep_copy(r->root->signed_part);
    json_t *role = json_object_get(json_object_get(s, "roles"), "root");
    json_t *keyids = json_object_get(role, "keyids");
    bool ok = s != NULL;
    for (size_t i = 0; ok && i < ch->n_revoke; i++) {
        const char *id = uf_repo_keyid_match(role, ch->revoke[i], err);
        char keyid[UF_KEYID_HEX];
        ok = id != NULL;
        if (ok) {
            snprintf(keyid, sizeof keyid, "%s", id);
            remove_keyid(keyids, keyid);
            uf_repo_key_revoke(r, keyid);
        }
    }
    long threshold = ch->threshold ? ch->threshold : json_integer_value(json_object_get(role, "threshold"));
    size_t count = json_array_size(keyids) + (size_t)ch->add;
    if (ok && (size_t)threshold > count)
        ok = uf_error_set(err, UF_E_USAGE, "threshold %ld is more than the %zu root keys left",
                          threshold, count);
    for (long i = 0; ok && i < ch->add; i++) {
        const uf_repo_keyfile *kf = uf_repo_key_new_root(r, err);
        ok = kf && uf_tuf_put_key(json_object_get(s, "keys"), kf->key, NULL, err) &&
             json_array_append_new(keyids, json_string(kf->keyid)) == 0;
        if (ok)
            printf("new root key %s: %s\n", kf->keyid, kf->path);
    }
    if (ok) {
        json_object_set_new(role, "threshold", json_integer(threshold));
        uf_repo_prune_keys(json_object_get(s, "keys"), json_object_get(s, "roles"));
    }
    ok = ok && publish_root(r, s, err) && uf_repo_retire(r, err);
    json_decref(s);
    return ok;
}

static bool parse_count(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int repo_rotate_root_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"add-keys", required_argument, NULL, OPT_ADD_KEYS},
        {"revoke", required_argument, NULL, OPT_REVOKE},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    root_change ch = {0};
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_ADD_KEYS:
            if (!parse_count(optarg, 0, 16, &ch.add))
                return uf_cmdline_usage_error(argv[0], "--add-keys: expected 0 to 16");
            break;
        case OPT_REVOKE:
            if (ch.n_revoke == MAX_REVOKE)
                return uf_cmdline_usage_error(argv[0], "too many --revoke");
            ch.revoke[ch.n_revoke++] = optarg;
            break;
        case OPT_THRESHOLD:
            if (!parse_count(optarg, 1, 32, &ch.threshold))
                return uf_cmdline_usage_error(argv[0], "--threshold: expected 1 to 32");
            break;
        case 'h':
            printf("Usage: %s [--add-keys N] [--revoke KEYID]... [--threshold T] [OPTION]...\n"
                   "Make root version N+1 with root keys added or revoked, signed by every key\n"
                   "at hand of root N (not revoked) and of N+1. If a threshold is not met, it\n"
                   "is staged (metadata/staged/N+1.root.json) for 'upflow repo sign'.\n"
                   "\n"
                   "      --add-keys N          make N new root keys (KEYS/root-K.key)\n"
                   "      --revoke KEYID        drop this root key (8 or more hex digits of\n"
                   "                            its keyid; repeatable); its file is renamed\n"
                   "      --threshold T         root signatures needed from now on\n"
                   UF_REPO_OPTIONS_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0)
                return rc;
        }
    }
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    return uf_repo_cmd_run(&cmd, argv[0], rotate_root, &ch);
}

/* ---- rotate-key ----------------------------------------------------------------------- */

typedef struct key_change {
    const char *role;
    bool revoke_only;
    const char *keyids[MAX_REVOKE];
    size_t n_keyids;
    uf_client_target target;
} key_change;

/* Revoke the keys at hand that an entry lists (they are being replaced). */
static void revoke_listed(uf_repo *r, const json_t *entry)
{
    const json_t *id;
    size_t i;
    json_array_foreach(json_object_get(entry, "keyids"), i, id) {
        uf_repo_key_revoke(r, json_string_value(id));
    }
}

/* Change an entry's keyids: drop ch->keyids (revoke-only), or replace them all by one new
 * key put into keys. The new key is made by the server for online roles, else here as
 * KEYS/FILENAME.key. */
static bool change_keys(uf_repo *r, const key_change *ch, json_t *entry, json_t *keys,
                        const char *filename, uf_error *err)
{
    json_t *keyids = json_object_get(entry, "keyids");
    if (ch->revoke_only) {
        for (size_t i = 0; i < ch->n_keyids; i++) {
            const char *id = uf_repo_keyid_match(entry, ch->keyids[i], err);
            char keyid[UF_KEYID_HEX];
            if (!id)
                return false;
            snprintf(keyid, sizeof keyid, "%s", id);
            remove_keyid(keyids, keyid);
            uf_repo_key_revoke(r, keyid);
        }
        int64_t t = json_integer_value(json_object_get(entry, "threshold"));
        if ((size_t)t > json_array_size(keyids))
            return uf_error_set(err, UF_E_USAGE,
                                "%s would keep %zu keys, fewer than its threshold %lld",
                                ch->role, json_array_size(keyids), (long long)t);
        return true;
    }
    char keyid[UF_KEYID_HEX];
    revoke_listed(r, entry);
    if (is_online(ch->role)) {
        uf_repo_remote rr;
        json_t *key = NULL;
        bool ok = uf_repo_remote_open(&rr, &ch->target, r->tenant, err) &&
                  (key = uf_repo_remote_new_online_key(&rr, ch->role, err)) != NULL &&
                  uf_keyid_of_json(key, keyid, err) && json_object_set(keys, keyid, key) == 0;
        json_decref(key);
        uf_repo_remote_close(&rr);
        if (!ok)
            return false;
    } else {
        /* the old file must make way for the new one of the same name */
        const uf_repo_keyfile *kf;
        if (!uf_repo_retire(r, err) || !(kf = uf_repo_key_new(r, filename, err)) ||
            !uf_tuf_put_key(keys, kf->key, keyid, err))
            return false;
    }
    printf("new %s key %s\n", ch->role, keyid);
    json_object_set_new(entry, "keyids", json_pack("[s]", keyid));
    json_object_set_new(entry, "threshold", json_integer(1));
    return true;
}

/* A top-level role's keys live in root. */
static bool rotate_top(uf_repo *r, const key_change *ch, uf_error *err)
{
    json_t *s = json_deep_copy(r->root->signed_part);
    json_t *entry = json_object_get(json_object_get(s, "roles"), ch->role);
    bool ok = s && change_keys(r, ch, entry, json_object_get(s, "keys"), ch->role, err);
    if (ok)
        uf_repo_prune_keys(json_object_get(s, "keys"), json_object_get(s, "roles"));
    ok = ok && publish_root(r, s, err) &&
         (strcmp(ch->role, "targets") != 0 || resign_role(r, "targets", err));
    json_decref(s);
    return ok;
}

/* A delegated role's keys live in targets. */
static bool rotate_delegated(uf_repo *r, const key_change *ch, uf_error *err)
{
    json_t *s = json_deep_copy(r->targets->signed_part), *entry = NULL, *d;
    json_t *del = json_object_get(s, "delegations");
    size_t i;
    json_array_foreach(json_object_get(del, "roles"), i, d) {
        if (strcmp(json_string_value(json_object_get(d, "name")), ch->role) == 0)
            entry = d;
    }
    bool ok = s != NULL;
    if (ok && !entry)
        ok = uf_error_set(err, UF_E_NOT_FOUND, "targets.json delegates no role '%s'", ch->role);
    ok = ok && change_keys(r, ch, entry, json_object_get(del, "keys"), ch->role, err);
    if (ok)
        uf_repo_prune_keys(json_object_get(del, "keys"), json_object_get(del, "roles"));
    ok = ok && uf_repo_publish(r, "targets", s, err);
    if (ok)
        printf("targets.json version %lld\n", (long long)r->targets->version);
    ok = ok && resign_role(r, ch->role, err);
    json_decref(s);
    return ok;
}

static bool rotate_key(uf_repo *r, void *arg, uf_error *err)
{
    const key_change *ch = arg;
    if (strcmp(ch->role, "root") == 0)
        return uf_error_set(err, UF_E_USAGE, "root keys change with 'upflow repo rotate-root'");
    if (ch->revoke_only && ch->n_keyids == 0)
        return uf_error_set(err, UF_E_USAGE, "--revoke-only needs --keyid KEYID");
    if (!ch->revoke_only && ch->n_keyids)
        return uf_error_set(err, UF_E_USAGE, "--keyid goes with --revoke-only");
    bool ok = is_top(ch->role) ? rotate_top(r, ch, err) : rotate_delegated(r, ch, err);
    return ok && uf_repo_retire(r, err);
}

int repo_rotate_key_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"role", required_argument, NULL, OPT_ROLE},
        {"revoke-only", no_argument, NULL, OPT_REVOKE_ONLY},
        {"keyid", required_argument, NULL, OPT_KEYID},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    key_change ch = {0};
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_ROLE:
            ch.role = optarg;
            break;
        case OPT_REVOKE_ONLY:
            ch.revoke_only = true;
            break;
        case OPT_KEYID:
            if (ch.n_keyids == MAX_REVOKE)
                return uf_cmdline_usage_error(argv[0], "too many --keyid");
            ch.keyids[ch.n_keyids++] = optarg;
            break;
        case 'h':
            printf("Usage: %s --role ROLE [--revoke-only --keyid KEYID...] [OPTION]...\n"
                   "Replace the keys of a role by one new key, and revoke the old ones.\n"
                   "targets: a new KEYS/targets.key, root N+1 naming it (signed by the root\n"
                   "keys), targets signed again with it. snapshot, timestamp: a new online key\n"
                   "from the server, root N+1 naming only it. A delegated role: a new\n"
                   "KEYS/ROLE.key, targets naming it, ROLE.json signed again with it.\n"
                   "Old private key files are renamed NAME.key.revoked-KEYIDPREFIX.\n"
                   "\n"
                   "      --role ROLE           targets, snapshot, timestamp or a delegated role\n"
                   "      --revoke-only         only drop the keys named by --keyid, make none\n"
                   "                            (the role must keep its threshold of keys)\n"
                   "      --keyid KEYID         a key to drop (8 or more hex digits)\n"
                   UF_REPO_OPTIONS_HELP UF_REPO_SERVER_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0)
                return rc;
        }
    }
    if (!ch.role)
        return uf_cmdline_usage_error(argv[0], "missing --role ROLE");
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    ch.target = cmd.target;
    return uf_repo_cmd_run(&cmd, argv[0], rotate_key, &ch);
}

/* ---- resign ------------------------------------------------------------------------------ */

static bool resign(uf_repo *r, void *arg, uf_error *err)
{
    const char *role = arg;
    if (is_online(role))
        return uf_error_set(err, UF_E_USAGE,
                            "%s is signed by the server with its online keys, not here", role);
    if (strcmp(role, "root") != 0)
        return resign_role(r, role, err);
    json_t *s = json_deep_copy(r->root->signed_part);
    bool ok = s && publish_root(r, s, err);
    json_decref(s);
    return ok;
}

int repo_resign_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"role", required_argument, NULL, OPT_ROLE},
        UF_REPO_LONG_OPTIONS,
    };
    uf_repo_cmd cmd = {0};
    const char *role = NULL;
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_ROLE:
            role = optarg;
            break;
        case 'h':
            printf("Usage: %s --role ROLE [OPTION]...\n"
                   "Sign a role again, unchanged but for a new version and a new expiry\n"
                   "(before it expires). root: root N+1, staged if its threshold is not met.\n"
                   "\n"
                   "      --role ROLE           root, targets or a delegated role\n"
                   UF_REPO_OPTIONS_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if ((rc = uf_repo_cmd_option(&cmd, c, optarg, argv[0])) >= 0)
                return rc;
        }
    }
    if (!role)
        return uf_cmdline_usage_error(argv[0], "missing --role ROLE");
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    return uf_repo_cmd_run(&cmd, argv[0], resign, (void *)(uintptr_t)role);
}
