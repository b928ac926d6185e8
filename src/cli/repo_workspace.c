/*
 * repo_workspace.c - the local TUF repository workspace (see repo_workspace.h): its config,
 * its metadata files, the private keys at hand, and signing a new version of a role.
 */
#include "cli/repo_workspace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/tuf_sign.h"

#define DAYS_MAX 3650
#define DAY 86400

static const char *const top_roles[] = {"root", "timestamp", "snapshot", "targets"};

/* ---- names ------------------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool uf_repo_tenant_valid(const char *tenant, uf_error *err)
{
    size_t n = strlen(tenant);
    if (n == 0 || n >= UF_REPO_TENANT_MAX || tenant[0] == '-' || tenant[0] == '_' ||
        strspn(tenant, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        return uf_error_set(err, UF_E_USAGE,
                            "tenant '%s': expected 1 to 63 of a-z, 0-9, '_' and '-', starting "
                            "with a letter or digit",
                            tenant);
    return true;
}

bool uf_repo_role_name_valid(const char *name, uf_error *err)
{
    size_t n = strlen(name);
    bool ok = n > 0 && n < 64 && name[0] != '.' && !ends_with(name, ".root") &&
              strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                  n;
    for (size_t i = 0; ok && i < 4; i++)
        ok = strcmp(name, top_roles[i]) != 0;
    if (!ok)
        return uf_error_set(err, UF_E_USAGE,
                            "role name '%s': expected 1 to 63 of A-Z, a-z, 0-9, '.', '_' and "
                            "'-', not starting with '.', not a top-level role",
                            name);
    return true;
}

void uf_repo_role_file(const char *name, char out[96])
{
    snprintf(out, 96, "%s.json", name);
}

bool uf_repo_path(const uf_repo *r, char out[PATH_MAX], const char *rel, uf_error *err)
{
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", r->dir, rel) >= PATH_MAX)
        return uf_error_set(err, UF_E_INVALID, "%s/%s: path too long", r->dir, rel);
    return true;
}

static bool key_path(const uf_repo *r, char out[PATH_MAX], const char *name, uf_error *err)
{
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s.key", r->keys, name) >= PATH_MAX)
        return uf_error_set(err, UF_E_INVALID, "%s/%s.key: path too long", r->keys, name);
    return true;
}

int64_t uf_repo_expiry(const uf_repo *r, const char *role)
{
    int64_t days = strcmp(role, "root") == 0      ? r->days_root
                   : strcmp(role, "targets") == 0 ? r->days_targets
                                                  : r->days_delegated;
    return r->now + days * DAY;
}

/* ---- config ----------------------------------------------------------------------------- */

static bool set_location(uf_repo *r, const uf_repo_location *loc, uf_error *err)
{
    memset(r, 0, sizeof *r);
    r->now = (int64_t)time(NULL);
    const char *dir = loc->dir ? loc->dir : ".";
    if ((size_t)snprintf(r->dir, sizeof r->dir, "%s", dir) >= sizeof r->dir)
        return uf_error_set(err, UF_E_USAGE, "--dir: path too long");
    int n = loc->keys ? snprintf(r->keys, sizeof r->keys, "%s", loc->keys)
                      : snprintf(r->keys, sizeof r->keys, "%s/keys", dir);
    if ((size_t)n >= sizeof r->keys)
        return uf_error_set(err, UF_E_USAGE, "--keys: path too long");
    return true;
}

static bool load_config(uf_repo *r, uf_error *err)
{
    char path[PATH_MAX];
    uf_json_limits lim = uf_json_default_limits();
    if (!uf_repo_path(r, path, UF_REPO_CONFIG, err))
        return false;
    json_t *cfg = uf_json_load_file(path, &lim, err), *days;
    if (!cfg) {
        if (err && err->code == UF_E_NOT_FOUND)
            return uf_error_set(err, UF_E_NOT_FOUND,
                                "%s is not a repository workspace (no %s): run 'upflow repo "
                                "init' or give --dir",
                                r->dir, UF_REPO_CONFIG);
        return uf_error_prefix(err, "%s", path);
    }
    const char *tenant, *type = "ed25519";
    bool ok = uf_json_get_string(cfg, "", "tenant", &tenant, err) &&
              uf_repo_tenant_valid(tenant, err) &&
              uf_json_get_object(cfg, "", "expires_days", &days, err) &&
              uf_json_get_int_range(days, "expires_days", "root", 1, DAYS_MAX, &r->days_root,
                                    err) &&
              uf_json_get_int_range(days, "expires_days", "targets", 1, DAYS_MAX,
                                    &r->days_targets, err) &&
              uf_json_get_int_range(days, "expires_days", "delegated", 1, DAYS_MAX,
                                    &r->days_delegated, err) &&
              uf_json_opt_string(cfg, "", "key_type", &type, err) &&
              uf_key_type_from_name(type, &r->key_type, err);
    if (ok)
        snprintf(r->tenant, sizeof r->tenant, "%s", tenant);
    json_decref(cfg);
    if (!ok && err && err->code == UF_E_USAGE)
        err->code = UF_E_BAD_FIELD;
    return ok || uf_error_prefix(err, "%s", path);
}

static bool make_dir(const char *path, mode_t mode, uf_error *err)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST)
        return uf_error_errno(err, errno, "create directory %s", path);
    return true;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool uf_repo_create(uf_repo *r, const uf_repo_location *loc, const char *tenant,
                    uf_key_type key_type, uf_error *err)
{
    char cfg[PATH_MAX], root[PATH_MAX], sub[PATH_MAX];
    if (!set_location(r, loc, err) || !uf_repo_tenant_valid(tenant, err) ||
        !uf_repo_path(r, cfg, UF_REPO_CONFIG, err) ||
        !uf_repo_path(r, root, "metadata/root.json", err))
        return false;
    if (exists(cfg) || exists(root))
        return uf_error_set(err, UF_E_CONFLICT,
                            "%s is already a repository workspace: refusing to replace it",
                            r->dir);
    snprintf(r->tenant, sizeof r->tenant, "%s", tenant);
    r->days_root = 365;
    r->days_targets = r->days_delegated = 90;
    r->key_type = key_type;
    bool ok = make_dir(r->dir, 0755, err) && make_dir(r->keys, 0700, err);
    static const char *const subdirs[] = {"metadata", "metadata/staged", "targets"};
    for (size_t i = 0; ok && i < 3; i++)
        ok = uf_repo_path(r, sub, subdirs[i], err) && make_dir(sub, 0755, err);
    json_t *doc = json_pack("{s:s, s:{s:I, s:I, s:I}, s:s}", "tenant", tenant, "expires_days",
                            "root", (json_int_t)r->days_root, "targets",
                            (json_int_t)r->days_targets, "delegated",
                            (json_int_t)r->days_delegated, "key_type",
                            uf_key_type_name(key_type));
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (ok && !text)
        ok = uf_error_set(err, UF_E_NOMEM, "format %s", UF_REPO_CONFIG);
    if (ok) {
        size_t n = strlen(text);
        text[n] = '\n'; /* replaces the NUL; the length below says where it ends */
        ok = uf_file_write_atomic(cfg, text, n + 1, err);
    }
    free(text);
    return ok;
}

/* ---- metadata files -------------------------------------------------------------------- */

uf_tuf_metadata *uf_repo_parse(const char *label, const void *data, size_t len, uf_error *err)
{
    bool root = ends_with(label, "root.json");
    return uf_tuf_metadata_parse(label, root ? UF_TUF_ROOT : UF_TUF_TARGETS, data, len,
                                 root ? UF_REPO_ROOT_MAX_BYTES : UF_REPO_TARGETS_MAX_BYTES,
                                 err);
}

bool uf_repo_read(const uf_repo *r, const char *rel, uf_buf *out, uf_error *err)
{
    char path[PATH_MAX], name[PATH_MAX];
    snprintf(name, sizeof name, "metadata/%s", rel);
    return uf_repo_path(r, path, name, err) &&
           uf_file_read_capped(path, UF_REPO_TARGETS_MAX_BYTES, out, err);
}

uf_tuf_metadata *uf_repo_load(const uf_repo *r, const char *rel, uf_error *err)
{
    uf_buf data = UF_BUF_INIT;
    uf_tuf_metadata *md = uf_repo_read(r, rel, &data, err)
                              ? uf_repo_parse(rel, data.data, data.len, err)
                              : NULL;
    uf_buf_free(&data);
    return md;
}

uf_tuf_metadata *uf_repo_load_role(const uf_repo *r, const char *name, uf_error *err)
{
    char file[96];
    uf_repo_role_file(name, file);
    return uf_repo_load(r, file, err);
}

static bool write_metadata(const uf_repo *r, const char *rel, const char *text, size_t len,
                           uf_error *err)
{
    char path[PATH_MAX], name[PATH_MAX];
    snprintf(name, sizeof name, "metadata/%s", rel);
    return uf_repo_path(r, path, name, err) && uf_file_write_atomic(path, text, len, err);
}

static void staged_name(int64_t version, char out[64])
{
    snprintf(out, 64, "staged/%lld.root.json", (long long)version);
}

/* N.root.json and root.json. */
static bool write_root(const uf_repo *r, int64_t version, const char *text, size_t len,
                       uf_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "%lld.root.json", (long long)version);
    return write_metadata(r, name, text, len, err) &&
           write_metadata(r, "root.json", text, len, err);
}

int64_t uf_repo_staged_version(const uf_repo *r)
{
    if (r->root_staged)
        return r->root->version;
    char name[64], path[PATH_MAX], rel[PATH_MAX];
    staged_name(r->root->version + 1, name);
    snprintf(rel, sizeof rel, "metadata/%s", name);
    return uf_repo_path(r, path, rel, NULL) && exists(path) ? r->root->version + 1 : 0;
}

/* ---- keys ------------------------------------------------------------------------------- */

static bool ring_add(uf_repo_keyring *ring, uf_key *key, const char *path, uf_error *err)
{
    uf_repo_keyfile kf = {.key = key};
    if (!uf_key_keyid(key, kf.keyid, err)) {
        uf_key_free(key);
        return false;
    }
    for (size_t i = 0; i < ring->n; i++)
        if (strcmp(ring->items[i].keyid, kf.keyid) == 0) {
            uf_key_free(key); /* the same key twice (a copy given with --key) */
            return true;
        }
    uf_repo_keyfile *grown = realloc(ring->items, (ring->n + 1) * sizeof *grown);
    if (!grown) {
        uf_key_free(key);
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    }
    snprintf(kf.path, sizeof kf.path, "%s", path);
    ring->items = grown;
    ring->items[ring->n++] = kf;
    return true;
}

static bool ring_load_file(uf_repo_keyring *ring, const char *path, uf_error *err)
{
    uf_key *key = uf_key_load_private(path, err);
    return key ? ring_add(ring, key, path, err) : false;
}

/* Every NAME.key in the keys directory (a missing directory holds none). */
static bool ring_load_dir(uf_repo *r, uf_error *err)
{
    DIR *d = opendir(r->keys);
    if (!d)
        return errno == ENOENT || uf_error_errno(err, errno, "open %s", r->keys);
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        if (!ends_with(e->d_name, ".key") || e->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", r->keys, e->d_name) >= sizeof path)
            ok = uf_error_set(err, UF_E_INVALID, "%s/%s: path too long", r->keys, e->d_name);
        else
            ok = ring_load_file(&r->ring, path, err);
    }
    closedir(d);
    return ok;
}

const uf_repo_keyfile *uf_repo_key_find(const uf_repo *r, const char *keyid)
{
    for (size_t i = 0; i < r->ring.n; i++)
        if (!r->ring.items[i].revoked && strcmp(r->ring.items[i].keyid, keyid) == 0)
            return &r->ring.items[i];
    return NULL;
}

const uf_repo_keyfile *uf_repo_key_new(uf_repo *r, const char *name, uf_error *err)
{
    char path[PATH_MAX];
    if (!key_path(r, path, name, err))
        return NULL;
    uf_key *key = uf_key_generate(r->key_type, err);
    if (!key || !uf_key_save_private(key, path, err)) {
        uf_key_free(key);
        return NULL;
    }
    return ring_add(&r->ring, key, path, err) ? &r->ring.items[r->ring.n - 1] : NULL;
}

const uf_repo_keyfile *uf_repo_key_new_root(uf_repo *r, uf_error *err)
{
    /* the first K whose root-K.key is neither present nor revoked */
    for (int k = 1; k < 10000; k++) {
        char name[32], prefix[40];
        snprintf(name, sizeof name, "root-%d", k);
        snprintf(prefix, sizeof prefix, "root-%d.key", k);
        bool used = false;
        DIR *d = opendir(r->keys);
        struct dirent *e;
        while (d && !used && (e = readdir(d)) != NULL)
            used = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
        if (d)
            closedir(d);
        if (!used)
            return uf_repo_key_new(r, name, err);
    }
    uf_error_set(err, UF_E_CONFLICT, "%s: no free root-K.key name", r->keys);
    return NULL;
}

bool uf_repo_key_revoke(uf_repo *r, const char *keyid)
{
    for (size_t i = 0; i < r->ring.n; i++)
        if (strcmp(r->ring.items[i].keyid, keyid) == 0) {
            r->ring.items[i].revoked = true;
            return true;
        }
    return false;
}

bool uf_repo_retire(uf_repo *r, uf_error *err)
{
    for (size_t i = 0; i < r->ring.n; i++) {
        uf_repo_keyfile *kf = &r->ring.items[i];
        char to[PATH_MAX + 32];
        if (!kf->revoked || !kf->path[0])
            continue;
        snprintf(to, sizeof to, "%s.revoked-%.16s", kf->path, kf->keyid);
        if (exists(to) || rename(kf->path, to) != 0)
            return uf_error_errno(err, exists(to) ? EEXIST : errno, "rename %s to %s",
                                  kf->path, to);
        kf->path[0] = '\0';
    }
    return true;
}

/* ---- open and close ------------------------------------------------------------------- */

bool uf_repo_open(uf_repo *r, const uf_repo_location *loc, uf_error *err)
{
    if (!set_location(r, loc, err) || !load_config(r, err))
        return false;
    bool ok = (r->root = uf_repo_load(r, "root.json", err)) != NULL;
    if (ok && uf_repo_staged_version(r)) {
        char name[64];
        staged_name(r->root->version + 1, name);
        uf_tuf_metadata *staged = uf_repo_load(r, name, err);
        ok = staged != NULL;
        if (ok) {
            uf_tuf_metadata_free(r->root);
            r->root = staged;
            r->root_staged = true;
        }
    }
    ok = ok && (r->targets = uf_repo_load(r, "targets.json", err)) != NULL;
    ok = ok && ring_load_dir(r, err);
    for (size_t i = 0; ok && i < loc->n_extra; i++)
        ok = ring_load_file(&r->ring, loc->extra[i], err);
    if (!ok)
        uf_repo_close(r);
    return ok;
}

void uf_repo_close(uf_repo *r)
{
    uf_tuf_metadata_free(r->root);
    uf_tuf_metadata_free(r->targets);
    r->root = r->targets = NULL;
    for (size_t i = 0; i < r->ring.n; i++)
        uf_key_free(r->ring.items[i].key);
    free(r->ring.items);
    r->ring.items = NULL;
    r->ring.n = 0;
}

/* ---- signing ---------------------------------------------------------------------------- */

static const json_t *find_delegation(const uf_tuf_metadata *targets, const char *name)
{
    const json_t *roles = json_object_get(uf_tuf_delegations(targets), "roles"), *d;
    size_t i;
    json_array_foreach(roles, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
            return d;
    }
    return NULL;
}

bool uf_repo_signers(const uf_repo *r, const char *name, const json_t **keys,
                     const json_t **role, uf_error *err)
{
    if (strcmp(name, "root") == 0 || strcmp(name, "targets") == 0) {
        *keys = json_object_get(r->root->signed_part, "keys");
        *role = uf_tuf_root_role(r->root, name);
        return true;
    }
    *role = find_delegation(r->targets, name);
    *keys = json_object_get(uf_tuf_delegations(r->targets), "keys");
    if (!*role)
        return uf_error_set(err, UF_E_NOT_FOUND,
                            "targets.json delegates no role '%s': run 'upflow repo delegate'",
                            name);
    return true;
}

bool uf_repo_missing(const uf_repo *r, const uf_tuf_metadata *md, const json_t *keys,
                     const json_t *role, uf_buf *out, size_t *valid, uf_error *err)
{
    const json_t *keyids = json_object_get(role, "keyids"), *id;
    size_t i;
    *valid = 0;
    json_array_foreach(keyids, i, id) {
        json_t *one = json_pack("[O]", id);
        bool signed_by = one && uf_tuf_verify(md, keys, one, 1, "", NULL);
        json_decref(one);
        if (signed_by) {
            (*valid)++;
            continue;
        }
        const uf_repo_keyfile *kf = uf_repo_key_find(r, json_string_value(id));
        if (!uf_buf_printf(out, err, "%s%s%s%s%s", out->len ? ", " : "", json_string_value(id),
                           kf ? " (" : "", kf ? kf->path : "", kf ? ")" : ""))
            return false;
    }
    return true;
}

static bool listed(const json_t *role, const char *keyid)
{
    const json_t *keyids = json_object_get(role, "keyids"), *id;
    size_t i;
    json_array_foreach(keyids, i, id) {
        if (strcmp(json_string_value(id), keyid) == 0)
            return true;
    }
    return false;
}

/* Sign with every key at hand that role_a or role_b (may be NULL) lists. */
static bool sign_for(const uf_repo *r, const json_t *signed_part, const json_t *role_a,
                     const json_t *role_b, char **text, size_t *len, uf_error *err)
{
    uf_key **keys = calloc(r->ring.n + 1, sizeof *keys);
    size_t n = 0;
    if (!keys)
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    for (size_t i = 0; i < r->ring.n; i++) {
        const uf_repo_keyfile *kf = &r->ring.items[i];
        if (!kf->revoked && (listed(role_a, kf->keyid) || (role_b && listed(role_b, kf->keyid))))
            keys[n++] = kf->key;
    }
    bool ok = uf_tuf_sign(signed_part, keys, n, text, len, err);
    free(keys);
    return ok;
}

/* Whether md meets role's threshold; if not, append "LABEL: T of the NAME keys needed, N
 * valid; missing: ..." to missing. */
static bool check_threshold(const uf_repo *r, const uf_tuf_metadata *md, const char *name,
                            const json_t *keys, const json_t *role, uf_buf *missing,
                            bool *met, uf_error *err)
{
    uf_buf lacking = UF_BUF_INIT;
    size_t valid;
    int64_t threshold = json_integer_value(json_object_get(role, "threshold"));
    bool ok = uf_repo_missing(r, md, keys, role, &lacking, &valid, err);
    *met = ok && uf_tuf_verify(md, keys, json_object_get(role, "keyids"), threshold, name, NULL);
    if (ok && !*met)
        ok = uf_buf_printf(missing, err,
                           "%s%s: %lld of the %s keys needed, %zu valid; no signature by %s",
                           missing->len ? "\n" : "", md->label, (long long)threshold, name, valid,
                           lacking.len ? lacking.data : "-");
    uf_buf_free(&lacking);
    return ok;
}

bool uf_repo_publish(uf_repo *r, const char *name, json_t *signed_part, uf_error *err)
{
    char file[96];
    uf_repo_role_file(name, file);
    int64_t version = json_integer_value(json_object_get(signed_part, "version")) + 1;
    const json_t *keys, *role;
    char *text = NULL;
    size_t len;
    uf_tuf_metadata *md = NULL;
    uf_buf missing = UF_BUF_INIT;
    bool met = false;
    bool ok = uf_tuf_set_version(signed_part, version, uf_repo_expiry(r, name), err) &&
              uf_repo_signers(r, name, &keys, &role, err) &&
              sign_for(r, signed_part, role, NULL, &text, &len, err) &&
              (md = uf_repo_parse(file, text, len, err)) != NULL &&
              check_threshold(r, md, name, keys, role, &missing, &met, err);
    if (ok && !met)
        ok = uf_error_set(err, UF_E_THRESHOLD,
                          "%s: not enough %s keys at hand (give --keys DIR or --key FILE)",
                          missing.data, name);
    ok = ok && write_metadata(r, file, text, len, err);
    if (ok && strcmp(name, "targets") == 0) {
        uf_tuf_metadata_free(r->targets);
        r->targets = md;
        md = NULL;
    }
    uf_tuf_metadata_free(md);
    uf_buf_free(&missing);
    free(text);
    return ok || uf_error_prefix(err, "sign %s version %lld", file, (long long)version);
}

/* Whether md (root N+1) meets the thresholds of prev (root N, NULL for the first root) and
 * its own. */
static bool root_complete(const uf_repo *r, const uf_tuf_metadata *prev,
                          const uf_tuf_metadata *md, uf_buf *missing, bool *complete,
                          uf_error *err)
{
    bool old_met = true, new_met = false;
    bool ok = !prev || check_threshold(r, md, "root", json_object_get(prev->signed_part, "keys"),
                              uf_tuf_root_role(prev, "root"), missing, &old_met, err);
    if (ok && !old_met)
        ok = uf_buf_printf(missing, err, " (keys of root version %lld)",
                           (long long)prev->version);
    ok = ok && check_threshold(r, md, "root", json_object_get(md->signed_part, "keys"),
                               uf_tuf_root_role(md, "root"), missing, &new_met, err);
    if (ok && !new_met)
        ok = uf_buf_printf(missing, err, " (keys of root version %lld)", (long long)md->version);
    *complete = old_met && new_met;
    return ok;
}

bool uf_repo_publish_root(uf_repo *r, json_t *signed_part, bool *staged, uf_buf *missing,
                          uf_error *err)
{
    if (r->root && r->root_staged)
        return uf_error_set(err, UF_E_CONFLICT,
                            "root version %lld is staged, waiting for signatures: complete it "
                            "with 'upflow repo sign' first",
                            (long long)r->root->version);
    int64_t version = r->root ? r->root->version + 1 : 1;
    const json_t *own = json_object_get(json_object_get(signed_part, "roles"), "root");
    char name[64], *text = NULL;
    size_t len;
    uf_tuf_metadata *md = NULL;
    bool complete = false;
    snprintf(name, sizeof name, "%lld.root.json", (long long)version);
    bool ok = uf_tuf_set_version(signed_part, version, uf_repo_expiry(r, "root"), err) &&
              sign_for(r, signed_part, r->root ? uf_tuf_root_role(r->root, "root") : own, own,
                       &text, &len, err) &&
              (md = uf_repo_parse(name, text, len, err)) != NULL &&
              root_complete(r, r->root, md, missing, &complete, err);
    if (ok && complete) {
        ok = write_root(r, version, text, len, err);
    } else if (ok) {
        staged_name(version, name);
        ok = write_metadata(r, name, text, len, err);
    }
    *staged = !complete;
    if (ok) {
        uf_tuf_metadata_free(r->root);
        r->root = md;
        r->root_staged = !complete;
        md = NULL;
    }
    uf_tuf_metadata_free(md);
    free(text);
    return ok || uf_error_prefix(err, "sign root version %lld", (long long)version);
}

bool uf_repo_promote_staged(uf_repo *r, bool *promoted, uf_buf *missing, uf_error *err)
{
    bool moved = false;
    if (r->root_staged) {
        char name[64], path[PATH_MAX], rel[PATH_MAX];
        uf_buf text = UF_BUF_INIT;
        uf_tuf_metadata *prev = uf_repo_load(r, "root.json", err), *md = NULL;
        staged_name(r->root->version, name);
        snprintf(rel, sizeof rel, "metadata/%s", name);
        bool ok = prev && uf_repo_read(r, name, &text, err) &&
                  (md = uf_repo_parse(name, text.data, text.len, err)) != NULL &&
                  root_complete(r, prev, md, missing, &moved, err);
        if (ok && moved)
            ok = write_root(r, md->version, text.data, text.len, err) &&
                 uf_repo_path(r, path, rel, err) &&
                 (unlink(path) == 0 || uf_error_errno(err, errno, "remove %s", path));
        uf_tuf_metadata_free(prev);
        uf_tuf_metadata_free(md);
        uf_buf_free(&text);
        if (!ok)
            return false;
        r->root_staged = !moved;
    }
    if (promoted)
        *promoted = moved;
    return true;
}

/* ---- key lists -------------------------------------------------------------------------- */

static bool any_lists(const json_t *roles, const char *keyid)
{
    const char *name;
    const json_t *role;
    size_t i;
    if (json_is_array(roles)) {
        json_array_foreach(roles, i, role) {
            if (listed(role, keyid))
                return true;
        }
        return false;
    }
    json_object_foreach((json_t *)(uintptr_t)roles, name, role) {
        if (listed(role, keyid))
            return true;
    }
    return false;
}

void uf_repo_prune_keys(json_t *keys, const json_t *roles)
{
    const char *keyid;
    json_t *key;
    void *tmp;
    json_object_foreach_safe(keys, tmp, keyid, key) {
        if (!any_lists(roles, keyid))
            json_object_del(keys, keyid);
    }
}

const char *uf_repo_keyid_match(const json_t *role, const char *prefix, uf_error *err)
{
    const json_t *keyids = json_object_get(role, "keyids"), *id;
    const char *found = NULL;
    size_t i, n = strlen(prefix);
    if (n < 8 || strspn(prefix, "0123456789abcdef") != n) {
        uf_error_set(err, UF_E_USAGE, "keyid '%s': expected at least 8 lowercase hex digits",
                     prefix);
        return NULL;
    }
    json_array_foreach(keyids, i, id) {
        if (strncmp(json_string_value(id), prefix, n) != 0)
            continue;
        if (found) {
            uf_error_set(err, UF_E_USAGE, "keyid '%s' is ambiguous: give more digits", prefix);
            return NULL;
        }
        found = json_string_value(id);
    }
    if (!found)
        uf_error_set(err, UF_E_USAGE, "no key %s... in the role", prefix);
    return found;
}

/* ---- target files ------------------------------------------------------------------------ */

static bool copy_fd(int in, int out, const char *src, const char *dst, uf_error *err)
{
    static const size_t block = 1 << 16;
    char *buf = malloc(block);
    if (!buf)
        return uf_error_set(err, UF_E_NOMEM, "copy buffer");
    bool ok = true;
    for (;;) {
        ssize_t n = read(in, buf, block);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                ok = uf_error_errno(err, errno, "read %s", src);
            break;
        }
        for (ssize_t done = 0; ok && done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno != EINTR)
                ok = uf_error_errno(err, errno, "write %s", dst);
            done += w > 0 ? w : 0;
        }
        if (!ok)
            break;
    }
    free(buf);
    return ok && (fsync(out) == 0 || uf_error_errno(err, errno, "fsync %s", dst));
}

bool uf_repo_stage_file(const uf_repo *r, const char *src, const char *target_path,
                        uf_error *err)
{
    char dst[PATH_MAX], rel[PATH_MAX], tmp[PATH_MAX + 16];
    snprintf(rel, sizeof rel, "targets/%s", target_path);
    if (!uf_repo_path(r, dst, rel, err) || !uf_file_mkdir_parents(dst, err))
        return false;
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", dst);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return uf_error_errno(err, errno, "open %s", src);
    int out = mkstemp(tmp);
    bool ok = out >= 0 || uf_error_errno(err, errno, "create %s", tmp);
    ok = ok && copy_fd(in, out, src, dst, err);
    if (out >= 0 && close(out) != 0 && ok)
        ok = uf_error_errno(err, errno, "close %s", tmp);
    close(in);
    ok = ok && (chmod(tmp, 0644) == 0 || uf_error_errno(err, errno, "chmod %s", tmp));
    ok = ok && (rename(tmp, dst) == 0 || uf_error_errno(err, errno, "rename to %s", dst));
    if (!ok && out >= 0)
        unlink(tmp);
    return ok;
}
