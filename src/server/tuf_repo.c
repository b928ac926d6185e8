/*
 * tuf_repo.c - pushes and publishing of a tenant's TUF repository (see tuf_repo.h).
 */
#include "server/tuf_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/tuf_client.h"
#include "lib/tuf_sign.h"
#include "server/audit.h"
#include "server/tuf_repo_internal.h"

#define MAX_PUSH_ROOTS 64

static bool name_chars_valid(const char *s, const char *extra, bool upper)
{
    size_t n = strlen(s);
    if (n == 0 || n >= TUF_TENANT_MAX)
        return false;
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  (upper && *p >= 'A' && *p <= 'Z') || strchr(extra, *p);
        if (!ok)
            return false;
    }
    return true;
}

bool tuf_tenant_valid(const char *tenant, uf_error *err)
{
    if (name_chars_valid(tenant, "_-", false) && tenant[0] != '_' && tenant[0] != '-')
        return true;
    return uf_error_set(err, UF_E_NOT_FOUND,
                        "no tenant '%s' (names are 1-63 of a-z, 0-9, _ and -)", tenant);
}

bool tuf_role_name_valid(const char *name, uf_error *err)
{
    static const char *const top[] = {"root", "timestamp", "snapshot", "targets"};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(name, top[i]) == 0)
            return uf_error_set(err, UF_E_BAD_FIELD, "'%s' is a top-level role", name);
    if (name_chars_valid(name, "._-", true) && name[0] != '.')
        return true;
    return uf_error_set(err, UF_E_BAD_FIELD,
                        "delegated role '%s': names are 1-63 of A-Z, a-z, 0-9, '.', '_', '-'",
                        name);
}

/* ---- stored versions -------------------------------------------------------------- */

/* The latest (version 0) or a given version of role: its bytes and version. */
static bool load_row(db *d, const char *tenant, const char *role, int64_t version, uf_buf *out,
                     int64_t *got_version, bool *found, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT version, body FROM tuf_metadata WHERE tenant = $1 AND role = $2"
                           " AND ($3 = 0 OR version = $3) ORDER BY version DESC LIMIT 1",
                           DB_ARGS(db_text(tenant), db_text(role), db_int(version)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    *found = rc == 1;
    bool ok = rc >= 0;
    if (rc == 1) {
        size_t len;
        const void *body = db_col_blob(st, 1, &len);
        if (got_version)
            *got_version = db_col_int(st, 0);
        ok = uf_buf_append(out, body, len, err);
    }
    db_finalize(st);
    return ok;
}

bool tuf_repo_get(db *d, const char *tenant, const char *role, int64_t version, uf_buf *out,
                  uf_error *err)
{
    bool found;
    if (!load_row(d, tenant, role, version, out, NULL, &found, err))
        return false;
    if (!found)
        return uf_error_set(err, UF_E_NOT_FOUND, "no %s metadata%s", role,
                            version ? " of that version" : " yet");
    return true;
}

static void label_for(const char *role, int64_t version, char *out, size_t len)
{
    if (strcmp(role, "root") == 0)
        snprintf(out, len, "%lld.root.json", (long long)version);
    else
        snprintf(out, len, "%s.json", role);
}

/* The latest version of role parsed, or *out = NULL when there is none. */
static bool load_latest(db *d, const char *tenant, const char *role, uf_tuf_type type,
                        uf_tuf_metadata **out, uf_error *err)
{
    uf_buf body = UF_BUF_INIT;
    int64_t version = 0;
    bool found;
    *out = NULL;
    bool ok = load_row(d, tenant, role, 0, &body, &version, &found, err);
    if (ok && found) {
        char label[96];
        label_for(role, version, label, sizeof label);
        *out = uf_tuf_metadata_parse(label, type, body.data, body.len, UF_TUF_TARGETS_MAX_BYTES,
                                     err);
        ok = *out != NULL;
    }
    uf_buf_free(&body);
    return ok;
}

static bool store(db *d, const char *tenant, const char *role, const uf_tuf_metadata *md,
                  const void *body, size_t len, const char *actor, int64_t now, uf_error *err)
{
    char sha[UF_HASH_MAX_HEX];
    return uf_hash_buf_hex(UF_HASH_SHA256, body, len, sha, err) &&
           db_exec(d,
                   "INSERT INTO tuf_metadata (tenant, role, version, body, sha256, expires,"
                   " created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                   DB_ARGS(db_text(tenant), db_text(role), db_int(md->version),
                           db_blob(body, len), db_text(sha), db_int(md->expires), db_int(now),
                           db_text(actor)),
                   err);
}

/* ---- publishing snapshot and timestamp -------------------------------------------- */

static bool latest_version(db *d, const char *tenant, const char *role, int64_t *v,
                           uf_error *err)
{
    bool found;
    if (!db_query_int(d,
                      "SELECT COALESCE(MAX(version), 0) FROM tuf_metadata WHERE tenant = $1"
                      " AND role = $2",
                      DB_ARGS(db_text(tenant), db_text(role)), v, &found, err))
        return false;
    return true;
}

/* meta[role.json] = {version, length, hashes} of the latest version of role, if any. */
static bool pin_role(db *d, const char *tenant, const char *role, json_t *meta, uf_error *err)
{
    uf_buf body = UF_BUF_INIT;
    int64_t version = 0;
    bool found;
    bool ok = load_row(d, tenant, role, 0, &body, &version, &found, err);
    if (ok && found) {
        char name[96];
        snprintf(name, sizeof name, "%s.json", role);
        json_t *entry = uf_tuf_meta_entry(version, body.data, body.len, err);
        ok = entry && json_object_set_new(meta, name, entry) == 0;
    }
    uf_buf_free(&body);
    return ok;
}

/* Sign signed_part with the online keys of role and store it. */
static bool sign_and_store(db *d, const char *tenant,
                           const uf_tuf_metadata *root, uf_tuf_type type, json_t *signed_part,
                           int64_t now, uf_error *err)
{
    const char *role = uf_tuf_type_name(type);
    uf_key *keys[TUF_MAX_ONLINE_KEYS];
    size_t n = 0;
    char *text = NULL;
    size_t len = 0;
    if (!tuf_online_signers(d, tenant, root, role, keys, &n, err))
        return false;
    bool ok = uf_tuf_sign(signed_part, keys, n, &text, &len, err);
    tuf_online_signers_free(keys, n);
    uf_tuf_metadata *md = ok ? uf_tuf_metadata_parse(role, type, text, len,
                                                     UF_TUF_SNAPSHOT_MAX_BYTES, err)
                             : NULL;
    ok = md && store(d, tenant, role, md, text, len, "system", now, err);
    uf_tuf_metadata_free(md);
    free(text);
    return ok;
}

static bool publish_snapshot(db *d, const tuf_repo_config *cfg, const char *tenant,
                             const uf_tuf_metadata *root, const uf_tuf_metadata *targets,
                             int64_t now, int64_t *version, uf_error *err)
{
    json_t *meta = json_object();
    bool ok = meta && pin_role(d, tenant, "targets", meta, err);
    const json_t *roles = json_object_get(uf_tuf_delegations(targets), "roles"), *r;
    size_t i;
    json_array_foreach(roles, i, r) {
        if (ok)
            ok = pin_role(d, tenant, json_string_value(json_object_get(r, "name")), meta, err);
    }
    ok = ok && latest_version(d, tenant, "snapshot", version, err);
    json_t *s = ok ? uf_tuf_new_signed(UF_TUF_SNAPSHOT, ++*version, now + cfg->snapshot_expiry)
                   : NULL;
    if (s)
        json_object_set(s, "meta", meta);
    ok = s && sign_and_store(d, tenant, root, UF_TUF_SNAPSHOT, s, now, err);
    json_decref(s);
    json_decref(meta);
    return ok ? true : uf_error_prefix(err, "sign snapshot");
}

static bool publish_timestamp(db *d, const tuf_repo_config *cfg, const char *tenant,
                              const uf_tuf_metadata *root, int64_t now, int64_t *version,
                              uf_error *err)
{
    json_t *meta = json_object();
    bool ok = meta && pin_role(d, tenant, "snapshot", meta, err) &&
              latest_version(d, tenant, "timestamp", version, err);
    json_t *s = ok ? uf_tuf_new_signed(UF_TUF_TIMESTAMP, ++*version,
                                       now + cfg->timestamp_expiry)
                   : NULL;
    if (s)
        json_object_set(s, "meta", meta);
    ok = s && sign_and_store(d, tenant, root, UF_TUF_TIMESTAMP, s, now, err);
    json_decref(s);
    json_decref(meta);
    return ok ? true : uf_error_prefix(err, "sign timestamp");
}

/* ---- checking a push ------------------------------------------------------------- */

typedef struct push_state {
    db *d;
    const char *tenant, *actor;
    int64_t now;
    uf_tuf_metadata *root;    /* trusted: the latest stored or accepted */
    uf_tuf_metadata *targets; /* the latest stored or accepted */
    bool root_changed;
} push_state;

static uf_tuf_metadata *parse_file(const char *name, uf_tuf_type type, const json_t *text,
                                   uf_error *err)
{
    if (!json_is_string(text)) {
        uf_error_set(err, UF_E_BAD_FIELD, "files.%s: expected the file's text as a string",
                     name);
        return NULL;
    }
    return uf_tuf_metadata_parse(name, type, json_string_value(text), json_string_length(text),
                                 UF_TUF_TARGETS_MAX_BYTES, err);
}

static bool check_fresh(const uf_tuf_metadata *md, int64_t current, int64_t now, uf_error *err)
{
    if (md->version <= current)
        return uf_error_set(err, UF_E_ROLLBACK, "%s: version %lld is not above the stored %lld",
                            md->label, (long long)md->version, (long long)current);
    return uf_tuf_check_expiry(md, now, err);
}

static bool store_file(push_state *ps, const char *role, const uf_tuf_metadata *md,
                       const json_t *text, uf_error *err)
{
    return store(ps->d, ps->tenant, role, md, json_string_value(text), json_string_length(text),
                 ps->actor, ps->now, err);
}

static bool accept_root(push_state *ps, const char *name, const json_t *text, uf_error *err)
{
    uf_tuf_metadata *md = parse_file(name, UF_TUF_ROOT, text, err);
    if (!md)
        return false;
    char want[64];
    snprintf(want, sizeof want, "%lld.root.json", (long long)md->version);
    int64_t current = ps->root ? ps->root->version : 0;
    bool ok = true;
    if (strcmp(want, name) != 0)
        ok = uf_error_set(err, UF_E_BAD_FIELD, "%s: holds version %lld", name,
                          (long long)md->version);
    else if (md->version != current + 1)
        ok = uf_error_set(err, current >= md->version ? UF_E_ROLLBACK : UF_E_CONFLICT,
                          "%s: the repository is at root v%lld; push v%lld next", name,
                          (long long)current, (long long)current + 1);
    else if (!md->consistent_snapshot)
        ok = uf_error_set(err, UF_E_UNSUPPORTED, "%s: consistent_snapshot must be true", name);
    ok = ok && (!ps->root || uf_tuf_verify_with_root(md, ps->root, "root", err)) &&
         uf_tuf_verify_with_root(md, md, "root", err) && uf_tuf_check_expiry(md, ps->now, err) &&
         (!ps->root || tuf_online_keys_retire(ps->d, ps->tenant, ps->root, md, ps->now, err)) &&
         store_file(ps, "root", md, text, err);
    if (!ok) {
        uf_tuf_metadata_free(md);
        return false;
    }
    uf_tuf_metadata_free(ps->root);
    ps->root = md;
    ps->root_changed = true;
    return true;
}

/* Record the targets a role lists (after checking each was uploaded), replacing the role's
 * earlier list. */
static bool index_targets(push_state *ps, const char *role, const uf_tuf_metadata *md,
                          const json_t *delegation, uf_error *err)
{
    if (!db_exec(ps->d, "DELETE FROM tuf_targets WHERE tenant = $1 AND role = $2",
                 DB_ARGS(db_text(ps->tenant), db_text(role)), err))
        return false;
    const char *path;
    json_t *t;
    json_object_foreach(json_object_get(md->signed_part, "targets"), path, t) {
        const char *sha = json_string_value(json_object_get(json_object_get(t, "hashes"),
                                                            "sha256"));
        int64_t length = json_integer_value(json_object_get(t, "length")), stored = 0;
        bool found = false;
        if (!sha)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: target %s: no sha256 hash", md->label,
                                path);
        if (delegation && !uf_tuf_delegation_matches(delegation, path))
            return uf_error_set(err, UF_E_FORBIDDEN,
                                "%s: target %s is outside the paths delegated to %s", md->label,
                                path, role);
        if (!db_query_int(ps->d, "SELECT length FROM tuf_blobs WHERE tenant = $1 AND sha256 = $2",
                          DB_ARGS(db_text(ps->tenant), db_text(sha)), &stored, &found, err))
            return false;
        if (!found || stored != length)
            return uf_error_set(err, UF_E_CONFLICT,
                                "%s: target %s: no uploaded file with sha256 %.16s... and length "
                                "%lld (upload it first)",
                                md->label, path, sha, (long long)length);
        const json_t *custom = json_object_get(t, "custom");
        char *custom_text = custom ? json_dumps(custom, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        bool ok = db_exec(ps->d,
                          "INSERT INTO tuf_targets (tenant, path, role, sha256, length, custom)"
                          " VALUES ($1, $2, $3, $4, $5, $6)",
                          DB_ARGS(db_text(ps->tenant), db_text(path), db_text(role),
                                  db_text(sha), db_int(length), db_text(custom_text)),
                          err);
        free(custom_text);
        if (!ok)
            return false;
    }
    return true;
}

static bool accept_targets(push_state *ps, const json_t *text, uf_error *err)
{
    uf_tuf_metadata *md = parse_file("targets.json", UF_TUF_TARGETS, text, err);
    bool ok = md && check_fresh(md, ps->targets ? ps->targets->version : 0, ps->now, err) &&
              uf_tuf_verify_with_root(md, ps->root, "targets", err) &&
              index_targets(ps, "targets", md, NULL, err) && store_file(ps, "targets", md, text, err);
    if (!ok) {
        uf_tuf_metadata_free(md);
        return false;
    }
    uf_tuf_metadata_free(ps->targets);
    ps->targets = md;
    return true;
}

static const json_t *find_delegation(const uf_tuf_metadata *targets, const char *role)
{
    const json_t *r;
    size_t i;
    json_array_foreach(json_object_get(uf_tuf_delegations(targets), "roles"), i, r)
        if (strcmp(json_string_value(json_object_get(r, "name")), role) == 0)
            return r;
    return NULL;
}

static bool accept_delegated(push_state *ps, const char *role, const char *name,
                             const json_t *text, uf_error *err)
{
    const json_t *delegation = find_delegation(ps->targets, role);
    if (!delegation)
        return uf_error_set(err, UF_E_CONFLICT, "%s: targets v%lld delegates no role '%s'", name,
                            (long long)ps->targets->version, role);
    int64_t current = 0;
    uf_tuf_metadata *md = parse_file(name, UF_TUF_TARGETS, text, err);
    bool ok = md && latest_version(ps->d, ps->tenant, role, &current, err) &&
              check_fresh(md, current, ps->now, err) &&
              uf_tuf_verify(md, json_object_get(uf_tuf_delegations(ps->targets), "keys"),
                            json_object_get(delegation, "keyids"),
                            json_integer_value(json_object_get(delegation, "threshold")), role,
                            err) &&
              index_targets(ps, role, md, delegation, err) && store_file(ps, role, md, text, err);
    uf_tuf_metadata_free(md);
    return ok;
}

/* Roles that targets no longer delegates leave the target index. */
static bool drop_undelegated(push_state *ps, uf_error *err)
{
    db_stmt *st = db_query(ps->d,
                           "SELECT DISTINCT role FROM tuf_targets WHERE tenant = $1"
                           " AND role <> 'targets'",
                           DB_ARGS(db_text(ps->tenant)), err);
    if (!st)
        return false;
    json_t *gone = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1)
        if (!find_delegation(ps->targets, db_col_text(st, 0)))
            json_array_append_new(gone, json_string(db_col_text(st, 0)));
    db_finalize(st);
    bool ok = rc == 0;
    const json_t *role;
    size_t i;
    json_array_foreach(gone, i, role) {
        ok = ok && db_exec(ps->d, "DELETE FROM tuf_targets WHERE tenant = $1 AND role = $2",
                           DB_ARGS(db_text(ps->tenant), db_text(json_string_value(role))), err);
    }
    json_decref(gone);
    return ok;
}

static int compare_root_names(const void *a, const void *b)
{
    long long x = strtoll(*(const char *const *)a, NULL, 10);
    long long y = strtoll(*(const char *const *)b, NULL, 10);
    return (x > y) - (x < y);
}

static bool is_root_name(const char *name)
{
    size_t digits = strspn(name, "0123456789");
    return digits > 0 && digits < 12 && strcmp(name + digits, ".root.json") == 0;
}

/* Sort the pushed file names: roots in version order, targets, delegated roles. */
static bool classify(json_t *files, const char *roots[MAX_PUSH_ROOTS], size_t *n_roots,
                     uf_error *err)
{
    const char *name;
    const json_t *v;
    *n_roots = 0;
    if (!json_is_object(files) || json_object_size(files) == 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "files: expected {NAME: TEXT, ...}");
    json_object_foreach(files, name, v) {
        size_t len = strlen(name);
        if (is_root_name(name)) {
            if (*n_roots == MAX_PUSH_ROOTS)
                return uf_error_set(err, UF_E_TOO_LARGE, "files: more than %d roots",
                                    MAX_PUSH_ROOTS);
            roots[(*n_roots)++] = name;
            continue;
        }
        if (strcmp(name, "targets.json") == 0)
            continue;
        char role[96];
        if (len <= 5 || len - 5 >= sizeof role || strcmp(name + len - 5, ".json") != 0)
            return uf_error_set(err, UF_E_BAD_FIELD,
                                "files.%s: expected N.root.json, targets.json or ROLE.json", name);
        memcpy(role, name, len - 5);
        role[len - 5] = '\0';
        if (!tuf_role_name_valid(role, err))
            return uf_error_prefix(err, "files.%s", name);
    }
    qsort(roots, *n_roots, sizeof roots[0], compare_root_names);
    return true;
}

static bool apply_push(push_state *ps, json_t *files, uf_error *err)
{
    const char *roots[MAX_PUSH_ROOTS];
    size_t n_roots;
    if (!classify(files, roots, &n_roots, err) ||
        !load_latest(ps->d, ps->tenant, "root", UF_TUF_ROOT, &ps->root, err) ||
        !load_latest(ps->d, ps->tenant, "targets", UF_TUF_TARGETS, &ps->targets, err))
        return false;
    for (size_t i = 0; i < n_roots; i++)
        if (!accept_root(ps, roots[i], json_object_get(files, roots[i]), err))
            return false;
    if (!ps->root)
        return uf_error_set(err, UF_E_CONFLICT, "the repository has no root yet: push 1.root.json");
    const json_t *targets_text = json_object_get(files, "targets.json");
    if (targets_text && !accept_targets(ps, targets_text, err))
        return false;
    if (!ps->targets)
        return uf_error_set(err, UF_E_CONFLICT,
                            "the repository has no targets.json yet: push one with the root");
    if (!targets_text && ps->root_changed &&
        !uf_tuf_verify_with_root(ps->targets, ps->root, "targets", err))
        return uf_error_prefix(err, "stored targets.json v%lld under root v%lld (push a "
                               "targets.json signed by the new targets keys)",
                               (long long)ps->targets->version, (long long)ps->root->version);
    const char *name;
    const json_t *text;
    json_object_foreach(files, name, text) {
        if (is_root_name(name) || strcmp(name, "targets.json") == 0)
            continue;
        char role[96];
        snprintf(role, sizeof role, "%.*s", (int)(strlen(name) - 5), name);
        if (!accept_delegated(ps, role, name, text, err))
            return false;
    }
    return drop_undelegated(ps, err);
}

static json_t *file_names(json_t *files)
{
    json_t *names = json_array();
    const char *name;
    const json_t *v;
    json_object_foreach(files, name, v)
        json_array_append_new(names, json_string(name));
    return names;
}

bool tuf_repo_push(db *d, const tuf_repo_config *cfg, const char *tenant, json_t *files,
                   const char *actor, int64_t now, json_t **published, uf_error *err)
{
    push_state ps = {.d = d, .tenant = tenant, .actor = actor, .now = now};
    int64_t sv = 0, tv = 0;
    *published = NULL;
    bool ok = tuf_tenant_valid(tenant, err) && apply_push(&ps, files, err) &&
              publish_snapshot(d, cfg, tenant, ps.root, ps.targets, now, &sv, err) &&
              publish_timestamp(d, cfg, tenant, ps.root, now, &tv, err);
    if (ok) {
        json_t *detail = json_pack("{s:o, s:I, s:I, s:I}", "files", file_names(files), "root",
                                   (json_int_t)ps.root->version, "snapshot", (json_int_t)sv,
                                   "timestamp", (json_int_t)tv);
        audit_entry e = {.actor = actor, .action = "tuf.push", .object_kind = "tuf",
                         .object_id = tenant, .detail = detail};
        ok = audit_append(d, &e, NULL, err);
        json_decref(detail);
    }
    if (ok)
        *published = json_pack("{s:I, s:I}", "snapshot", (json_int_t)sv, "timestamp",
                               (json_int_t)tv);
    uf_tuf_metadata_free(ps.root);
    uf_tuf_metadata_free(ps.targets);
    return ok;
}

/* ---- re-signing before expiry ----------------------------------------------------- */

/* Whether less than half of the latest version's lifetime is left. */
static bool half_gone(db *d, const char *tenant, const char *role, int64_t now, bool *due,
                      uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT expires, created_at FROM tuf_metadata WHERE tenant = $1"
                           " AND role = $2 ORDER BY version DESC LIMIT 1",
                           DB_ARGS(db_text(tenant), db_text(role)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    *due = rc == 1 && db_col_int(st, 0) - now < (db_col_int(st, 0) - db_col_int(st, 1)) / 2;
    db_finalize(st);
    return rc >= 0;
}

static bool refresh_tenant(db *d, const tuf_repo_config *cfg, const char *tenant, int64_t now,
                           bool *changed, uf_error *err)
{
    bool snap_due = false, ts_due = false;
    *changed = false;
    if (!half_gone(d, tenant, "snapshot", now, &snap_due, err) ||
        !half_gone(d, tenant, "timestamp", now, &ts_due, err))
        return false;
    if (!snap_due && !ts_due)
        return true;
    uf_tuf_metadata *root = NULL, *targets = NULL;
    int64_t sv = 0, tv = 0;
    bool ok = load_latest(d, tenant, "root", UF_TUF_ROOT, &root, err) &&
              load_latest(d, tenant, "targets", UF_TUF_TARGETS, &targets, err) && root &&
              targets && (!snap_due || publish_snapshot(d, cfg, tenant, root, targets, now, &sv,
                                                        err)) &&
              publish_timestamp(d, cfg, tenant, root, now, &tv, err);
    if (ok) {
        json_t *detail = json_pack("{s:I, s:I}", "snapshot", (json_int_t)sv, "timestamp",
                                   (json_int_t)tv);
        audit_entry e = {.actor = "system", .action = "tuf.resign", .object_kind = "tuf",
                         .object_id = tenant, .detail = detail};
        ok = audit_append(d, &e, NULL, err);
        json_decref(detail);
    }
    uf_tuf_metadata_free(root);
    uf_tuf_metadata_free(targets);
    *changed = ok;
    return ok ? true : uf_error_prefix(err, "re-sign repository '%s'", tenant);
}

bool tuf_repo_refresh_due(db *d, const tuf_repo_config *cfg, int64_t now, unsigned *resigned,
                          uf_error *err)
{
    *resigned = 0;
    db_stmt *st = db_query(d,
                           "SELECT DISTINCT tenant FROM tuf_metadata WHERE role = 'timestamp'"
                           " ORDER BY tenant",
                           DB_NO_ARGS, err);
    if (!st)
        return false;
    json_t *tenants = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1)
        json_array_append_new(tenants, json_string(db_col_text(st, 0)));
    db_finalize(st);
    bool ok = rc == 0;
    const json_t *t;
    size_t i;
    json_array_foreach(tenants, i, t) {
        bool changed = false;
        if (!ok || !db_begin(d, err))
            break;
        ok = refresh_tenant(d, cfg, json_string_value(t), now, &changed, err) &&
             db_commit(d, err);
        if (!ok)
            db_rollback(d);
        *resigned += changed;
    }
    json_decref(tenants);
    return ok;
}

/* ---- status and blobs ------------------------------------------------------------- */

static bool status_roles(db *d, const char *tenant, json_t *roles, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT role, version, expires FROM tuf_metadata m WHERE tenant = $1"
                           " AND version = (SELECT MAX(version) FROM tuf_metadata"
                           " WHERE tenant = m.tenant AND role = m.role) ORDER BY role",
                           DB_ARGS(db_text(tenant)), err);
    if (!st)
        return false;
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        char when[32];
        uf_tuf_format_time(db_col_int(st, 2), when);
        json_object_set_new(roles, db_col_text(st, 0),
                            json_pack("{s:I, s:s}", "version", (json_int_t)db_col_int(st, 1),
                                      "expires", when));
    }
    db_finalize(st);
    return rc == 0;
}

static bool status_keys(db *d, const char *tenant, const uf_tuf_metadata *root, json_t *keys,
                        uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT role, keyid, public_key FROM tuf_online_keys WHERE tenant = $1"
                           " AND retired_at IS NULL ORDER BY created_at, keyid",
                           DB_ARGS(db_text(tenant)), err);
    if (!st)
        return false;
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        const char *role = db_col_text(st, 0), *keyid = db_col_text(st, 1);
        json_t *key = json_loads(db_col_text(st, 2), 0, NULL);
        bool listed = root && tuf_root_lists_key(root, role, keyid);
        json_array_append_new(json_object_get(keys, role),
                              json_pack("{s:s, s:o, s:b}", "keyid", keyid, "key",
                                        key ? key : json_null(), "listed", listed));
    }
    db_finalize(st);
    return rc == 0;
}

json_t *tuf_repo_status(db *d, const char *tenant, uf_error *err)
{
    if (!tuf_tenant_valid(tenant, err))
        return NULL;
    uf_tuf_metadata *root = NULL;
    json_t *roles = json_object(), *keys = json_pack("{s:[], s:[]}", "snapshot", "timestamp");
    bool ok = load_latest(d, tenant, "root", UF_TUF_ROOT, &root, err) &&
              status_roles(d, tenant, roles, err) && status_keys(d, tenant, root, keys, err);
    uf_tuf_metadata_free(root);
    if (!ok) {
        json_decref(roles);
        json_decref(keys);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:o}", "tenant", tenant, "roles", roles, "online_keys", keys);
}

bool tuf_repo_add_blob(db *d, const char *tenant, const char *sha256, const char *sha1,
                       const char *md5, int64_t length, const char *actor, int64_t now,
                       bool *created, uf_error *err)
{
    int64_t changes = 0;
    bool ok = db_exec_changes(d,
                              "INSERT INTO tuf_blobs (tenant, sha256, sha1, md5, length,"
                              " created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                              " ON CONFLICT (tenant, sha256) DO NOTHING",
                              DB_ARGS(db_text(tenant), db_text(sha256), db_text(sha1),
                                      db_text(md5), db_int(length), db_int(now), db_text(actor)),
                              &changes, err);
    *created = changes > 0;
    return ok;
}

json_t *tuf_repo_blob(db *d, const char *tenant, const char *sha256, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT sha256, sha1, md5, length FROM tuf_blobs WHERE tenant = $1"
                           " AND sha256 = $2",
                           DB_ARGS(db_text(tenant), db_text(sha256)), err);
    if (!st)
        return NULL;
    int rc = db_step(st, err);
    json_t *out = NULL;
    if (rc == 1)
        out = json_pack("{s:s, s:s, s:s, s:I}", "sha256", db_col_text(st, 0), "sha1",
                        db_col_text(st, 1), "md5", db_col_text(st, 2), "length",
                        (json_int_t)db_col_int(st, 3));
    else if (rc == 0)
        uf_error_set(err, UF_E_NOT_FOUND, "no uploaded file with sha256 %s", sha256);
    db_finalize(st);
    return out;
}
