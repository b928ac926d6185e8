/*
 * tuf_client.c - the TUF client workflow: root chain, timestamp, snapshot, targets,
 * delegation search and target download, with every check of spec §5 (tuf.md §7-§11).
 *
 * State: the trusted root, timestamp, snapshot, top-level targets and the delegated roles
 * loaded so far, each as verified metadata. Files on disk are only ever trusted after the
 * same checks as fresh downloads (signatures by the current root or delegator), so a stale
 * or tampered local file costs a download, never trust.
 */
#include "lib/tuf_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/hash.h"
#include "lib/json.h"

typedef struct loaded_role {
    char *name;
    uf_tuf_metadata *md;
} loaded_role;

struct uf_tuf_client {
    uf_tuf_client_config cfg;
    char *metadata_dir, *metadata_base, *targets_base;
    int64_t now;
    bool refreshed;
    uf_tuf_metadata *root, *timestamp, *snapshot, *targets;
    loaded_role *delegated;
    size_t n_delegated, cap_delegated;
};

/* --- names and files ----------------------------------------------------------------- */

void uf_tuf_percent_encode(const char *name, bool keep_slash, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '.' || *p == '-' || *p == '~' || (keep_slash && *p == '/')) {
            *out++ = (char)*p;
        } else {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        }
    }
    *out = '\0';
}

/* "<percent-encoded role>.json", malloc'ed. */
static char *role_file_name(const char *role)
{
    char *out = malloc(strlen(role) * 3 + 6);
    if (out) {
        uf_tuf_percent_encode(role, false, out);
        strcat(out, ".json");
    }
    return out;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a);
    bool slash = la > 0 && a[la - 1] != '/';
    char *out = malloc(la + strlen(b) + 2);
    if (out)
        sprintf(out, "%s%s%s", a, slash ? "/" : "", b);
    return out;
}

static bool persist(uf_tuf_client *c, const char *file, const uf_buf *data, uf_error *err)
{
    char *path = join(c->metadata_dir, file);
    if (!path)
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    bool ok = uf_file_write_atomic(path, data->data ? data->data : "", data->len, err);
    free(path);
    return ok || uf_error_prefix(err, "%s: persist", file);
}

static void forget_file(uf_tuf_client *c, const char *file)
{
    char *path = join(c->metadata_dir, file);
    if (path)
        unlink(path);
    free(path);
}

/* Read a trusted file from the metadata directory; false (no error) when unreadable. */
static bool read_local(uf_tuf_client *c, const char *file, size_t max, uf_buf *out)
{
    char *path = join(c->metadata_dir, file);
    bool ok = path && uf_file_read_capped(path, max, out, NULL);
    free(path);
    return ok;
}

static bool fetch(uf_tuf_client *c, const char *base, const char *name, size_t max,
                  uf_buf *out, uf_error *err)
{
    char *url = join(base, name);
    if (!url)
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    uf_buf_reset(out);
    bool ok = c->cfg.fetcher.fetch(c->cfg.fetcher.ctx, url, max, out, err);
    if (ok && out->len > max)
        ok = uf_error_set(err, UF_E_TOO_LARGE, "%s: more than %zu bytes (endless data)", url,
                          max);
    free(url);
    return ok;
}

/* --- open, install, free ------------------------------------------------------------- */

bool uf_tuf_client_install_root(const char *metadata_dir, const void *data, size_t len,
                                uf_error *err)
{
    char *path = join(metadata_dir, "root.json");
    if (!path)
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    bool ok = uf_file_write_atomic(path, data, len, err);
    free(path);
    return ok || uf_error_prefix(err, "install root.json");
}

static size_t or_default(size_t v, size_t d)
{
    return v ? v : d;
}

uf_tuf_client *uf_tuf_client_open(const uf_tuf_client_config *cfg, uf_error *err)
{
    uf_tuf_client *c = calloc(1, sizeof *c);
    uf_buf data = UF_BUF_INIT;
    if (!c) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->cfg.root_max_bytes = or_default(cfg->root_max_bytes, UF_TUF_ROOT_MAX_BYTES);
    c->cfg.timestamp_max_bytes = or_default(cfg->timestamp_max_bytes, UF_TUF_TIMESTAMP_MAX_BYTES);
    c->cfg.snapshot_max_bytes = or_default(cfg->snapshot_max_bytes, UF_TUF_SNAPSHOT_MAX_BYTES);
    c->cfg.targets_max_bytes = or_default(cfg->targets_max_bytes, UF_TUF_TARGETS_MAX_BYTES);
    c->cfg.max_root_rotations = (unsigned)or_default(cfg->max_root_rotations,
                                                     UF_TUF_MAX_ROOT_ROTATIONS);
    c->cfg.max_delegations = (unsigned)or_default(cfg->max_delegations, UF_TUF_MAX_DELEGATIONS);
    c->metadata_dir = strdup(cfg->metadata_dir);
    c->metadata_base = strdup(cfg->metadata_base ? cfg->metadata_base : "");
    c->targets_base = strdup(cfg->targets_base ? cfg->targets_base : "");
    if (!c->metadata_dir || !c->metadata_base || !c->targets_base) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        goto fail;
    }
    char *path = join(c->metadata_dir, "root.json");
    bool ok = path && uf_file_read_capped(path, c->cfg.root_max_bytes, &data, err);
    free(path);
    if (!ok) {
        uf_error_prefix(err, "trusted root.json");
        goto fail;
    }
    c->root = uf_tuf_metadata_parse("root.json", UF_TUF_ROOT, data.data, data.len,
                                    c->cfg.root_max_bytes, err);
    if (!c->root || !uf_tuf_verify_with_root(c->root, c->root, "root", err)) {
        uf_error_prefix(err, "trusted root");
        goto fail;
    }
    uf_buf_free(&data);
    return c;
fail:
    uf_buf_free(&data);
    uf_tuf_client_free(c);
    return NULL;
}

static void forget_delegated(uf_tuf_client *c)
{
    for (size_t i = 0; i < c->n_delegated; i++) {
        free(c->delegated[i].name);
        uf_tuf_metadata_free(c->delegated[i].md);
    }
    c->n_delegated = 0;
}

void uf_tuf_client_free(uf_tuf_client *c)
{
    if (!c)
        return;
    uf_tuf_metadata_free(c->root);
    uf_tuf_metadata_free(c->timestamp);
    uf_tuf_metadata_free(c->snapshot);
    uf_tuf_metadata_free(c->targets);
    forget_delegated(c);
    free(c->delegated);
    free(c->metadata_dir);
    free(c->metadata_base);
    free(c->targets_base);
    free(c);
}

static void replace(uf_tuf_metadata **slot, uf_tuf_metadata *md)
{
    uf_tuf_metadata_free(*slot);
    *slot = md;
}

/* --- §5.3 root ----------------------------------------------------------------------- */

static bool update_root(uf_tuf_client *c, uf_error *err)
{
    uf_buf data = UF_BUF_INIT;
    bool ok = true;
    for (unsigned i = 0; ok && i < c->cfg.max_root_rotations; i++) {
        int64_t n = c->root->version;
        char name[64], old_role[48], new_role[48];
        snprintf(name, sizeof name, "%lld.root.json", (long long)(n + 1));
        uf_error fetch_err;
        if (!fetch(c, c->metadata_base, name, c->cfg.root_max_bytes, &data, &fetch_err)) {
            if (fetch_err.code == UF_E_NOT_FOUND)
                break; /* 5.3.3: no newer root */
            if (err)
                *err = fetch_err;
            ok = uf_error_prefix(err, "%s", name);
            break;
        }
        uf_tuf_metadata *md = uf_tuf_metadata_parse(name, UF_TUF_ROOT, data.data, data.len,
                                                     c->cfg.root_max_bytes, err);
        /* 5.3.4: a threshold of the trusted root's keys and of the new root's own keys */
        snprintf(old_role, sizeof old_role, "root (version %lld)", (long long)n);
        snprintf(new_role, sizeof new_role, "root (version %lld)", (long long)(n + 1));
        ok = md && uf_tuf_verify(md, json_object_get(c->root->signed_part, "keys"),
                                 json_object_get(uf_tuf_root_role(c->root, "root"), "keyids"),
                                 json_integer_value(json_object_get(
                                     uf_tuf_root_role(c->root, "root"), "threshold")),
                                 old_role, err) &&
             uf_tuf_verify(md, json_object_get(md->signed_part, "keys"),
                           json_object_get(uf_tuf_root_role(md, "root"), "keyids"),
                           json_integer_value(json_object_get(uf_tuf_root_role(md, "root"),
                                                              "threshold")),
                           new_role, err);
        /* 5.3.5: exactly N+1 */
        if (ok && md->version < n + 1)
            ok = uf_error_set(err, UF_E_ROLLBACK,
                              "%s: version %lld is older than the expected %lld (rollback)",
                              name, (long long)md->version, (long long)(n + 1));
        else if (ok && md->version != n + 1)
            ok = uf_error_set(err, UF_E_CONFLICT, "%s: version %lld is not the expected %lld",
                              name, (long long)md->version, (long long)(n + 1));
        if (ok)
            ok = persist(c, "root.json", &data, err); /* 5.3.8 */
        if (ok)
            replace(&c->root, md);
        else
            uf_tuf_metadata_free(md);
    }
    uf_buf_free(&data);
    return ok;
}

/* The keyids and threshold a root gives a role, for 5.3.11. */
static bool role_keys_equal(const uf_tuf_metadata *a, const uf_tuf_metadata *b,
                            const char *role)
{
    const json_t *ra = uf_tuf_root_role(a, role), *rb = uf_tuf_root_role(b, role);
    const json_t *ka = json_object_get(ra, "keyids"), *kb = json_object_get(rb, "keyids");
    if (json_array_size(ka) != json_array_size(kb))
        return false;
    for (size_t i = 0; i < json_array_size(ka); i++) {
        bool found = false;
        for (size_t j = 0; j < json_array_size(kb) && !found; j++)
            found = json_equal(json_array_get(ka, i), json_array_get(kb, j));
        if (!found)
            return false;
    }
    return true;
}

/* --- §5.4 timestamp ------------------------------------------------------------------ */

/* A trusted file from disk, verified with the current keys; NULL when absent or no longer
 * verifiable (then it is no reference for rollback checks either: fast-forward recovery). */
static uf_tuf_metadata *load_local_top(uf_tuf_client *c, const char *file, uf_tuf_type type,
                                       size_t max, uf_buf *bytes)
{
    uf_buf_reset(bytes);
    if (!read_local(c, file, max, bytes))
        return NULL;
    uf_tuf_metadata *md = uf_tuf_metadata_parse(file, type, bytes->data, bytes->len, max, NULL);
    if (md && !uf_tuf_verify_with_root(md, c->root, uf_tuf_type_name(type), NULL)) {
        uf_tuf_metadata_free(md);
        md = NULL;
    }
    return md;
}

static bool update_timestamp(uf_tuf_client *c, uf_error *err)
{
    uf_buf data = UF_BUF_INIT;
    bool ok = fetch(c, c->metadata_base, "timestamp.json", c->cfg.timestamp_max_bytes, &data,
                    err) ||
              uf_error_prefix(err, "timestamp.json");
    uf_tuf_metadata *md = NULL;
    if (ok)
        ok = (md = uf_tuf_metadata_parse("timestamp.json", UF_TUF_TIMESTAMP, data.data,
                                         data.len, c->cfg.timestamp_max_bytes, err)) &&
             uf_tuf_verify_with_root(md, c->root, "timestamp", err);
    bool equal = false;
    if (ok && c->timestamp) {
        /* 5.4.3.1: never older; equal is normal and keeps the trusted file */
        if (md->version < c->timestamp->version)
            ok = uf_error_set(err, UF_E_ROLLBACK,
                              "timestamp.json: version %lld is older than the trusted %lld "
                              "(rollback)",
                              (long long)md->version, (long long)c->timestamp->version);
        equal = ok && md->version == c->timestamp->version;
        /* 5.4.3.2: the snapshot it lists is never older */
        uf_tuf_meta_info old_snap, new_snap;
        if (ok && !equal && uf_tuf_meta_get(c->timestamp, "snapshot.json", &old_snap, NULL) &&
            uf_tuf_meta_get(md, "snapshot.json", &new_snap, NULL) &&
            new_snap.version < old_snap.version)
            ok = uf_error_set(err, UF_E_ROLLBACK,
                              "timestamp.json: snapshot.json version %lld is older than the "
                              "trusted %lld (rollback)",
                              (long long)new_snap.version, (long long)old_snap.version);
    }
    if (ok && !equal)
        ok = uf_tuf_check_expiry(md, c->now, err) && /* 5.4.4 */
             persist(c, "timestamp.json", &data, err); /* 5.4.5 */
    if (ok && !equal) {
        replace(&c->timestamp, md);
        md = NULL;
    }
    uf_tuf_metadata_free(md);
    uf_buf_free(&data);
    /* an equal version leaves the trusted timestamp, which must not have expired either */
    return ok && uf_tuf_check_expiry(c->timestamp, c->now, err);
}

/* --- §5.5 snapshot ------------------------------------------------------------------- */

static bool snapshot_rollback_check(const uf_tuf_metadata *old, const uf_tuf_metadata *md,
                                    uf_error *err)
{
    const char *file;
    json_t *info;
    json_object_foreach((json_t *)(uintptr_t)uf_tuf_meta(old), file, info) {
        uf_tuf_meta_info now;
        if (!uf_tuf_meta_get(md, file, &now, NULL))
            return uf_error_set(err, UF_E_ROLLBACK,
                                "snapshot.json: %s is no longer listed, but the trusted "
                                "snapshot lists it (rollback)", file);
        int64_t before = json_integer_value(json_object_get(info, "version"));
        if (now.version < before)
            return uf_error_set(err, UF_E_ROLLBACK,
                                "snapshot.json: %s version %lld is older than the trusted %lld "
                                "(rollback)", file, (long long)now.version, (long long)before);
    }
    return true;
}

static bool update_snapshot(uf_tuf_client *c, uf_error *err)
{
    uf_tuf_meta_info meta;
    uf_buf data = UF_BUF_INIT;
    if (!uf_tuf_meta_get(c->timestamp, "snapshot.json", &meta, err))
        return false;
    size_t max = meta.length >= 0 ? (size_t)meta.length : c->cfg.snapshot_max_bytes;
    if (max > c->cfg.snapshot_max_bytes)
        max = c->cfg.snapshot_max_bytes;
    /* the trusted snapshot is kept when it is the one the timestamp names */
    uf_tuf_metadata *local = load_local_top(c, "snapshot.json", UF_TUF_SNAPSHOT,
                                            c->cfg.snapshot_max_bytes, &data);
    if (local && local->version == meta.version &&
        uf_tuf_check_content("snapshot.json", meta.hashes, meta.length, data.data, data.len,
                             NULL)) {
        replace(&c->snapshot, local);
        uf_buf_free(&data);
        return uf_tuf_check_expiry(c->snapshot, c->now, err);
    }
    replace(&c->snapshot, local); /* only a reference for the rollback check now */
    char name[64];
    if (c->root->consistent_snapshot)
        snprintf(name, sizeof name, "%lld.snapshot.json", (long long)meta.version);
    else
        snprintf(name, sizeof name, "snapshot.json");
    bool ok = fetch(c, c->metadata_base, name, max, &data, err) ||
              uf_error_prefix(err, "snapshot.json");
    /* 5.5.2: hashes before parsing */
    ok = ok && uf_tuf_check_content("snapshot.json", meta.hashes, meta.length, data.data,
                                    data.len, err);
    uf_tuf_metadata *md = NULL;
    ok = ok && (md = uf_tuf_metadata_parse("snapshot.json", UF_TUF_SNAPSHOT, data.data, data.len,
                                           max, err)) &&
         uf_tuf_verify_with_root(md, c->root, "snapshot", err); /* 5.5.3 */
    if (ok && md->version != meta.version) /* 5.5.4 */
        ok = uf_error_set(err, UF_E_CONFLICT,
                          "snapshot.json: version %lld does not match the version %lld that "
                          "timestamp.json lists (mix-and-match)",
                          (long long)md->version, (long long)meta.version);
    ok = ok && (!c->snapshot || snapshot_rollback_check(c->snapshot, md, err)) && /* 5.5.5 */
         uf_tuf_check_expiry(md, c->now, err) &&                                  /* 5.5.6 */
         persist(c, "snapshot.json", &data, err);                                 /* 5.5.7 */
    if (ok) {
        replace(&c->snapshot, md);
        md = NULL;
    } else {
        replace(&c->snapshot, NULL);
    }
    uf_tuf_metadata_free(md);
    uf_buf_free(&data);
    return ok;
}

/* --- §5.6 targets and delegated targets ---------------------------------------------- */

static uf_tuf_metadata **role_slot(uf_tuf_client *c, const char *role, bool create)
{
    if (strcmp(role, "targets") == 0)
        return &c->targets;
    for (size_t i = 0; i < c->n_delegated; i++)
        if (strcmp(c->delegated[i].name, role) == 0)
            return &c->delegated[i].md;
    if (!create)
        return NULL;
    if (c->n_delegated == c->cap_delegated) {
        size_t cap = c->cap_delegated ? c->cap_delegated * 2 : 8;
        loaded_role *d = realloc(c->delegated, cap * sizeof *d);
        if (!d)
            return NULL;
        c->delegated = d;
        c->cap_delegated = cap;
    }
    char *name = strdup(role);
    if (!name)
        return NULL;
    c->delegated[c->n_delegated] = (loaded_role){name, NULL};
    return &c->delegated[c->n_delegated++].md;
}

/* Checks a targets file must pass against its delegator and the snapshot. */
static bool targets_acceptable(uf_tuf_client *c, const uf_tuf_metadata *md,
                               const uf_tuf_meta_info *meta, const json_t *keys,
                               const json_t *role, const char *role_name, uf_error *err)
{
    if (!uf_tuf_verify(md, keys, json_object_get(role, "keyids"),
                       json_integer_value(json_object_get(role, "threshold")), role_name, err))
        return false;
    if (md->version != meta->version)
        return uf_error_set(err, UF_E_CONFLICT,
                            "%s: version %lld does not match the version %lld that "
                            "snapshot.json lists (mix-and-match)",
                            md->label, (long long)md->version, (long long)meta->version);
    return uf_tuf_check_expiry(md, c->now, err);
}

/* Load role (top-level "targets" or a delegated role) verified with keys/role (its
 * delegator's view of it), at the version the snapshot lists. */
static bool load_targets_role(uf_tuf_client *c, const char *role_name, const json_t *keys,
                              const json_t *role, uf_tuf_metadata **out, uf_error *err)
{
    char *file = role_file_name(role_name), *snap_name = malloc(strlen(role_name) + 6);
    uf_buf data = UF_BUF_INIT;
    uf_tuf_metadata *md = NULL;
    uf_tuf_meta_info meta;
    bool ok = false;
    if (!file || !snap_name) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        goto out;
    }
    sprintf(snap_name, "%s.json", role_name);
    if (!uf_tuf_meta_get(c->snapshot, snap_name, &meta, err))
        goto out;
    size_t max = meta.length >= 0 ? (size_t)meta.length : c->cfg.targets_max_bytes;
    if (max > c->cfg.targets_max_bytes)
        max = c->cfg.targets_max_bytes;
    uf_tuf_metadata **slot = role_slot(c, role_name, true);
    if (!slot) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        goto out;
    }
    /* already loaded in this run: re-verify against the delegator on this search path */
    if (*slot && targets_acceptable(c, *slot, &meta, keys, role, role_name, NULL)) {
        *out = *slot;
        ok = true;
        goto out;
    }
    /* the trusted copy on disk, when it is still the version the snapshot names */
    if (read_local(c, file, max, &data) &&
        uf_tuf_check_content(file, meta.hashes, meta.length, data.data, data.len, NULL) &&
        (md = uf_tuf_metadata_parse(file, UF_TUF_TARGETS, data.data, data.len, max, NULL)) &&
        targets_acceptable(c, md, &meta, keys, role, role_name, NULL)) {
        replace(slot, md);
        *out = md;
        md = NULL;
        ok = true;
        goto out;
    }
    uf_tuf_metadata_free(md);
    md = NULL;
    char *remote = malloc(strlen(file) + 24);
    if (!remote) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        goto out;
    }
    if (c->root->consistent_snapshot)
        sprintf(remote, "%lld.%s", (long long)meta.version, file);
    else
        strcpy(remote, file);
    ok = fetch(c, c->metadata_base, remote, max, &data, err) || uf_error_prefix(err, "%s", file);
    free(remote);
    ok = ok && uf_tuf_check_content(file, meta.hashes, meta.length, data.data, data.len, err) &&
         (md = uf_tuf_metadata_parse(file, UF_TUF_TARGETS, data.data, data.len, max, err)) &&
         targets_acceptable(c, md, &meta, keys, role, role_name, err) &&
         persist(c, file, &data, err);
    if (ok) {
        replace(slot, md);
        *out = md;
        md = NULL;
    }
out:
    uf_tuf_metadata_free(md);
    uf_buf_free(&data);
    free(file);
    free(snap_name);
    return ok;
}

/* --- refresh ------------------------------------------------------------------------- */

bool uf_tuf_client_refresh(uf_tuf_client *c, uf_error *err)
{
    uf_buf bytes = UF_BUF_INIT;
    c->refreshed = false;
    c->now = c->cfg.now ? c->cfg.now : (int64_t)time(NULL); /* 5.1 */
    replace(&c->timestamp, NULL);
    replace(&c->snapshot, NULL);
    replace(&c->targets, NULL);
    forget_delegated(c);

    /* 5.3: keep the starting root to see which keys rotate */
    json_t *start_roles = json_deep_copy(json_object_get(c->root->signed_part, "roles"));
    uf_tuf_metadata start = {.signed_part = json_pack("{s:O}", "roles", start_roles)};
    bool ok = start.signed_part && update_root(c, err) &&
              uf_tuf_check_expiry(c->root, c->now, err); /* 5.3.10 */
    if (ok && (!role_keys_equal(&start, c->root, "timestamp") ||
               !role_keys_equal(&start, c->root, "snapshot"))) {
        /* 5.3.11 fast-forward recovery */
        forget_file(c, "timestamp.json");
        forget_file(c, "snapshot.json");
    }
    json_decref(start.signed_part);
    json_decref(start_roles);
    if (ok)
        c->timestamp = load_local_top(c, "timestamp.json", UF_TUF_TIMESTAMP,
                                      c->cfg.timestamp_max_bytes, &bytes);
    uf_buf_free(&bytes);
    ok = ok && update_timestamp(c, err) && update_snapshot(c, err);
    uf_tuf_metadata *targets;
    ok = ok && load_targets_role(c, "targets", json_object_get(c->root->signed_part, "keys"),
                                 uf_tuf_root_role(c->root, "targets"), &targets, err);
    c->refreshed = ok;
    return ok;
}

/* --- §5.6.7 delegation search -------------------------------------------------------- */

typedef struct pending {
    char *name;   /* role to visit */
    char *parent; /* its delegator; NULL for the top-level targets */
} pending;

static void free_pending(pending *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].parent);
    }
}

static bool same_visit(const pending *a, const pending *b)
{
    if (strcmp(a->name, b->name) != 0)
        return false;
    return (!a->parent && !b->parent) ||
           (a->parent && b->parent && strcmp(a->parent, b->parent) == 0);
}

/* The delegation entry for `name` in the role `parent` (already loaded), and its keys. */
static const json_t *delegation_entry(uf_tuf_client *c, const char *parent, const char *name,
                                      const json_t **keys)
{
    uf_tuf_metadata **slot = role_slot(c, parent, false);
    const json_t *del = slot && *slot ? uf_tuf_delegations(*slot) : NULL;
    const json_t *roles = json_object_get(del, "roles");
    *keys = json_object_get(del, "keys");
    for (size_t i = 0; i < json_array_size(roles); i++) {
        const json_t *r = json_array_get(roles, i);
        if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
            return r;
    }
    return NULL;
}

/*
 * Pre-order depth-first search (tuf.md §9), as python-tuf walks it: a stack of (role,
 * delegator) pairs; a pair already visited is skipped (cycles); every visit spends one of
 * max_delegations; the children whose paths match are pushed so the first listed is explored
 * next; a terminating child empties the stack first, so once its subtree is explored the
 * search ends. Failing to load or verify a role on the way stops the search with that error.
 */
bool uf_tuf_client_find_target(uf_tuf_client *c, const char *target_path,
                               uf_tuf_target_info *out, uf_error *err)
{
    if (!c->refreshed && !uf_tuf_client_refresh(c, err))
        return false;
    size_t cap = 16, n = 0, n_visited = 0;
    unsigned budget = c->cfg.max_delegations;
    pending *stack = malloc(cap * sizeof *stack);
    pending *visited = calloc(budget + 1, sizeof *visited);
    bool ok = false;
    if (!stack || !visited || !(stack[0].name = strdup("targets"))) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        goto out;
    }
    stack[0].parent = NULL;
    n = 1;
    while (budget > 0 && n > 0) {
        pending p = stack[--n];
        bool seen = false;
        for (size_t i = 0; i < n_visited && !seen; i++)
            seen = same_visit(&visited[i], &p);
        if (seen) {
            free_pending(&p, 1);
            continue;
        }
        visited[n_visited++] = p; /* owns the strings from here on */
        budget--;
        uf_tuf_metadata *md = c->targets;
        if (p.parent) {
            const json_t *keys, *entry = delegation_entry(c, p.parent, p.name, &keys);
            if (!entry || !load_targets_role(c, p.name, keys, entry, &md, err)) {
                if (!entry)
                    uf_error_set(err, UF_E_NOT_FOUND, "%s is not delegated by %s", p.name,
                                 p.parent);
                uf_error_prefix(err, "%s: search", target_path);
                goto out;
            }
        }
        if (uf_tuf_target_get(md, target_path, out)) {
            /* borrow the path from the metadata so it outlives the caller's string */
            const char *key;
            json_t *v;
            json_object_foreach(json_object_get(md->signed_part, "targets"), key, v) {
                if (strcmp(key, target_path) == 0)
                    out->path = key;
            }
            ok = true;
            goto out;
        }
        const json_t *roles = json_object_get(uf_tuf_delegations(md), "roles");
        size_t first = n; /* this role's children go on top, from here */
        for (size_t i = 0; i < json_array_size(roles); i++) {
            const json_t *r = json_array_get(roles, i);
            if (!uf_tuf_delegation_matches(r, target_path))
                continue;
            if (n == cap) {
                pending *s = realloc(stack, (cap *= 2) * sizeof *s);
                if (!s) {
                    uf_error_set(err, UF_E_NOMEM, "out of memory");
                    goto out;
                }
                stack = s;
            }
            stack[n].name = strdup(json_string_value(json_object_get(r, "name")));
            stack[n].parent = strdup(p.name);
            n++;
            if (!stack[n - 1].name || !stack[n - 1].parent) {
                uf_error_set(err, UF_E_NOMEM, "out of memory");
                goto out;
            }
            if (json_is_true(json_object_get(r, "terminating"))) {
                /* rule 5: drop everything still pending below this role's children */
                free_pending(stack, first);
                memmove(stack, stack + first, (n - first) * sizeof *stack);
                n -= first;
                first = 0;
                break;
            }
        }
        /* reversed, so the first listed delegation is popped (explored) first */
        for (size_t a = first, b = n; b > a + 1; a++, b--) {
            pending t = stack[a];
            stack[a] = stack[b - 1];
            stack[b - 1] = t;
        }
    }
    if (n > 0 && budget == 0)
        uf_error_set(err, UF_E_NOT_FOUND,
                     "%s: no such target (search stopped after visiting %u roles, the limit)",
                     target_path, c->cfg.max_delegations);
    else
        uf_error_set(err, UF_E_NOT_FOUND, "%s: no such target", target_path);
out:
    if (stack)
        free_pending(stack, n);
    if (visited)
        free_pending(visited, n_visited);
    free(stack);
    free(visited);
    return ok;
}

/* --- §5.7 targets -------------------------------------------------------------------- */

/* The target's file name under targets_base, percent-encoded: DIR/HASH.NAME with
 * consistent snapshots (the first listed hash, tuf.md §8), else its path. */
static char *target_name(const uf_tuf_client *c, const uf_tuf_target_info *target)
{
    const char *path = target->path;
    char *url = malloc(strlen(path) * 3 + UF_HASH_MAX_HEX * 3 + 2);
    char *plain = malloc(strlen(path) + UF_HASH_MAX_HEX + 2);
    if (!url || !plain) {
        free(url);
        free(plain);
        return NULL;
    }
    if (c->root->consistent_snapshot) {
        const char *slash = strrchr(path, '/');
        size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
        const char *hash = json_string_value(
            json_object_iter_value(json_object_iter((json_t *)(uintptr_t)target->hashes)));
        sprintf(plain, "%.*s%s.%s", (int)dirlen, path, hash ? hash : "", path + dirlen);
    } else {
        strcpy(plain, path);
    }
    uf_tuf_percent_encode(plain, true, url);
    free(plain);
    return url;
}

char *uf_tuf_client_target_url(const uf_tuf_client *c, const uf_tuf_target_info *target)
{
    char *name = target_name(c, target);
    char *url = name ? join(c->targets_base, name) : NULL;
    free(name);
    return url;
}

bool uf_tuf_client_fetch_target(uf_tuf_client *c, const uf_tuf_target_info *target,
                                uf_buf *out, uf_error *err)
{
    char *url = target_name(c, target);
    if (!url)
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    bool ok = fetch(c, c->targets_base, url, (size_t)target->length, out, err) ||
              uf_error_prefix(err, "target %s", target->path);
    free(url);
    return ok && uf_tuf_check_content(target->path, target->hashes, target->length, out->data,
                                      out->len, err);
}

/* Does the file at path hold the target? Read in blocks, never whole. */
static bool file_matches(const uf_tuf_target_info *target, const char *path)
{
    uf_error ignored;
    FILE *fp = fopen(path, "rb");
    uf_tuf_content_check *ck = fp ? uf_tuf_check_begin(target->path, target->hashes,
                                                        target->length, &ignored)
                                  : NULL;
    bool ok = ck != NULL;
    char block[65536];
    size_t n;
    while (ok && (n = fread(block, 1, sizeof block, fp)) > 0)
        ok = uf_tuf_check_update(ck, block, n, &ignored);
    ok = ok && !ferror(fp) && uf_tuf_check_end(ck, &ignored);
    uf_tuf_check_free(ck);
    if (fp)
        fclose(fp);
    return ok;
}

typedef struct stream_sink {
    uf_file_writer *w;
    uf_tuf_content_check *ck;
} stream_sink;

static bool to_file(void *ctx, const void *data, size_t len, uf_error *err)
{
    stream_sink *s = ctx;
    return uf_tuf_check_update(s->ck, data, len, err) &&
           uf_file_writer_write(s->w, data, len, err);
}

/* Fetch the target straight into a temporary file beside dest, checked on the way. */
static bool stream_target(uf_tuf_client *c, const uf_tuf_target_info *target,
                          const char *dest_path, uf_error *err)
{
    char *name = target_name(c, target), *url = name ? join(c->targets_base, name) : NULL;
    free(name);
    if (!url)
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    uf_file_writer w;
    stream_sink s = {.w = &w};
    bool ok = uf_file_mkdir_parents(dest_path, err) &&
              uf_file_writer_open(&w, dest_path, NULL, err);
    if (!ok) {
        free(url);
        return false;
    }
    s.ck = uf_tuf_check_begin(target->path, target->hashes, target->length, err);
    ok = s.ck &&
         (c->cfg.fetcher.stream(c->cfg.fetcher.ctx, url, (size_t)target->length, to_file, &s,
                                err) ||
          uf_error_prefix(err, "target %s", target->path)) &&
         uf_tuf_check_end(s.ck, err);
    uf_tuf_check_free(s.ck);
    free(url);
    if (!ok) {
        uf_file_writer_abort(&w);
        return false;
    }
    return uf_file_writer_commit(&w, err);
}

bool uf_tuf_client_download_target(uf_tuf_client *c, const uf_tuf_target_info *target,
                                   const char *dest_path, uf_error *err)
{
    /* a local copy that matches is the target already: nothing to fetch (tuf.md §13.2) */
    if (file_matches(target, dest_path))
        return true;
    if (c->cfg.fetcher.stream)
        return stream_target(c, target, dest_path, err);
    uf_buf data = UF_BUF_INIT;
    bool ok = uf_tuf_client_fetch_target(c, target, &data, err) &&
              uf_file_mkdir_parents(dest_path, err) &&
              uf_file_write_atomic(dest_path, data.data ? data.data : "", data.len, err);
    uf_buf_free(&data);
    return ok;
}

int64_t uf_tuf_client_trusted_version(const uf_tuf_client *c, const char *role)
{
    const uf_tuf_metadata *md = NULL;
    if (strcmp(role, "root") == 0)
        md = c->root;
    else if (strcmp(role, "timestamp") == 0)
        md = c->timestamp;
    else if (strcmp(role, "snapshot") == 0)
        md = c->snapshot;
    else if (strcmp(role, "targets") == 0)
        md = c->targets;
    else
        for (size_t i = 0; i < c->n_delegated; i++)
            if (strcmp(c->delegated[i].name, role) == 0)
                md = c->delegated[i].md;
    return md ? md->version : 0;
}
