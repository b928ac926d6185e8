/*
 * tuf_repo_keys.c - the online keys of a tenant's repository (see tuf_repo.h).
 *
 * The server makes the snapshot and timestamp keys itself, so their private halves never
 * travel: an operator asks for one (POST .../online-keys), lists its public half in a new
 * root signed offline, and from the push of that root on the server signs with it. Private
 * halves are PKCS#8 files with mode 0600 under DATA_DIR/keys (back them up with the
 * database); a key a pushed root drops is marked retired and never used again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "server/audit.h"
#include "server/tuf_repo_internal.h"

bool tuf_root_lists_key(const uf_tuf_metadata *root, const char *role, const char *keyid)
{
    const json_t *r = uf_tuf_root_role(root, role), *id;
    size_t i;
    json_array_foreach(json_object_get(r, "keyids"), i, id)
        if (strcmp(json_string_value(id), keyid) == 0)
            return true;
    return false;
}

static bool online_role_valid(const char *role, uf_error *err)
{
    if (strcmp(role, "snapshot") == 0 || strcmp(role, "timestamp") == 0)
        return true;
    return uf_error_set(err, UF_E_BAD_FIELD,
                        "role: '%s' is not an online role (snapshot or timestamp)", role);
}

json_t *tuf_repo_new_online_key(db *d, const tuf_repo_config *cfg, const char *tenant,
                                const char *role, const char *actor, int64_t now,
                                uf_error *err)
{
    if (!tuf_tenant_valid(tenant, err) || !online_role_valid(role, err))
        return NULL;
    char dir[1024], path[1200], keyid[UF_KEYID_HEX];
    snprintf(dir, sizeof dir, "%s/keys", cfg->data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        uf_error_errno(err, errno, "create %s", dir);
        return NULL;
    }
    uf_key *key = uf_key_generate(UF_KEY_ED25519, err);
    json_t *pub = key ? uf_key_to_json(key, err) : NULL;
    bool ok = pub && uf_key_keyid(key, keyid, err);
    if (ok) {
        snprintf(path, sizeof path, "%s/tuf-%s-%s-%.16s.key", dir, tenant, role, keyid);
        ok = uf_key_save_private(key, path, err);
    }
    uf_key_free(key);
    char *pub_text = ok ? json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_t *detail = json_pack("{s:s, s:s}", "role", role, "keyid", ok ? keyid : "");
    audit_entry e = {.actor = actor, .action = "tuf.online_key", .object_kind = "tuf",
                     .object_id = tenant, .detail = detail};
    ok = ok && pub_text &&
         db_exec(d,
                 "INSERT INTO tuf_online_keys (tenant, role, keyid, public_key, key_file,"
                 " created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                 DB_ARGS(db_text(tenant), db_text(role), db_text(keyid), db_text(pub_text),
                         db_text(path), db_int(now)),
                 err) &&
         audit_append(d, &e, NULL, err);
    free(pub_text);
    json_decref(detail);
    if (!ok) {
        json_decref(pub);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o}", "role", role, "keyid", keyid, "key", pub);
}

void tuf_online_signers_free(uf_key *keys[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        uf_key_free(keys[i]);
}

bool tuf_online_signers(db *d, const char *tenant,
                        const uf_tuf_metadata *root, const char *role,
                        uf_key *keys[TUF_MAX_ONLINE_KEYS], size_t *n, uf_error *err)
{
    *n = 0;
    db_stmt *st = db_query(d,
                           "SELECT keyid, key_file FROM tuf_online_keys WHERE tenant = $1"
                           " AND role = $2 AND retired_at IS NULL ORDER BY created_at, keyid",
                           DB_ARGS(db_text(tenant), db_text(role)), err);
    if (!st)
        return false;
    int rc = 0;
    bool ok = true;
    while (ok && *n < TUF_MAX_ONLINE_KEYS && (rc = db_step(st, err)) == 1) {
        if (!tuf_root_lists_key(root, role, db_col_text(st, 0)))
            continue;
        keys[*n] = uf_key_load_private(db_col_text(st, 1), err);
        if (keys[*n])
            (*n)++;
        else
            ok = uf_error_prefix(err, "%s online key %.16s", role, db_col_text(st, 0));
    }
    if (ok && rc < 0)
        ok = false;
    db_finalize(st);
    int64_t threshold = json_integer_value(
        json_object_get(uf_tuf_root_role(root, role), "threshold"));
    if (ok && (int64_t)*n < threshold)
        ok = uf_error_set(err, UF_E_THRESHOLD,
                          "%s: this server holds %zu of the keys root v%lld lists for the role "
                          "(threshold %lld); create one with POST /api/v1/tuf/%s/online-keys "
                          "and list it in a new root",
                          role, *n, (long long)root->version, (long long)threshold, tenant);
    if (!ok) {
        tuf_online_signers_free(keys, *n);
        *n = 0;
    }
    return ok;
}

bool tuf_online_keys_retire(db *d, const char *tenant, const uf_tuf_metadata *prev,
                            const uf_tuf_metadata *next, int64_t now, uf_error *err)
{
    static const char *const roles[] = {"snapshot", "timestamp"};
    for (size_t r = 0; r < 2; r++) {
        const json_t *id;
        size_t i;
        json_array_foreach(json_object_get(uf_tuf_root_role(prev, roles[r]), "keyids"), i, id) {
            const char *keyid = json_string_value(id);
            if (tuf_root_lists_key(next, roles[r], keyid))
                continue;
            if (!db_exec(d,
                         "UPDATE tuf_online_keys SET retired_at = $1 WHERE tenant = $2"
                         " AND keyid = $3 AND retired_at IS NULL",
                         DB_ARGS(db_int(now), db_text(tenant), db_text(keyid)), err))
                return false;
        }
    }
    return true;
}
