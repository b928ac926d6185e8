/*
 * director.c - per-device signed targets (see director.h).
 */
#include "server/director.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "lib/key.h"
#include "lib/tuf_sign.h"

static bool create_key(db *d, const char *data_dir, const char *tenant, uf_error *err)
{
    char dir[1024], path[1200], keyid[UF_KEYID_HEX];
    snprintf(dir, sizeof dir, "%s/keys", data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return uf_error_errno(err, errno, "create %s", dir);
    uf_key *key = uf_key_generate(UF_KEY_ED25519, err);
    json_t *pub = key ? uf_key_to_json(key, err) : NULL;
    bool ok = pub && uf_key_keyid(key, keyid, err);
    if (ok) {
        snprintf(path, sizeof path, "%s/director-%s-%.16s.key", dir, tenant, keyid);
        ok = uf_key_save_private(key, path, err);
    }
    char *text = ok ? json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    ok = ok && text &&
         db_exec(d,
                 "INSERT INTO director_keys (tenant, keyid, public_key, key_file, created_at)"
                 " VALUES ($1, $2, $3, $4, $5)",
                 DB_ARGS(db_text(tenant), db_text(keyid), db_text(text), db_text(path),
                         db_int((int64_t)time(NULL))),
                 err);
    free(text);
    json_decref(pub);
    uf_key_free(key);
    return ok;
}

/* The stored key row: public object and private file. */
static bool load_row(db *d, const char *tenant, json_t **pub, char **file, bool *found,
                     uf_error *err)
{
    db_stmt *st = db_query(d, "SELECT public_key, key_file FROM director_keys WHERE tenant = $1",
                           DB_ARGS(db_text(tenant)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    *found = rc == 1;
    if (rc == 1) {
        *pub = json_loads(db_col_text(st, 0), 0, NULL);
        *file = strdup(db_col_text(st, 1));
    }
    db_finalize(st);
    return rc >= 0;
}

json_t *director_key(db *d, const char *data_dir, const char *tenant, uf_error *err)
{
    json_t *pub = NULL;
    char *file = NULL;
    bool found = false;
    if (!load_row(d, tenant, &pub, &file, &found, err))
        return NULL;
    if (!found && (!create_key(d, data_dir, tenant, err) ||
                   !load_row(d, tenant, &pub, &file, &found, err)))
        return NULL;
    free(file);
    if (!pub)
        uf_error_set(err, UF_E_INTERNAL, "director key of %s: unreadable", tenant);
    return pub;
}

bool director_sign(db *d, const char *tenant, const director_target *t,
                   int64_t now, int64_t ttl, uf_buf *out, uf_error *err)
{
    json_t *pub = NULL;
    char *file = NULL, *text = NULL;
    size_t len = 0;
    bool found = false;
    if (!load_row(d, tenant, &pub, &file, &found, err))
        return false;
    json_decref(pub);
    if (!found) {
        free(file);
        return uf_error_set(err, UF_E_NOT_FOUND, "tenant %s has no director key yet", tenant);
    }
    uf_key *key = uf_key_load_private(file, err);
    free(file);
    json_t *s = key ? uf_tuf_new_signed(UF_TUF_TARGETS, t->action > 0 ? t->action : 1, now + ttl)
                    : NULL;
    if (s && t->path)
        json_object_set_new(json_object_get(s, "targets"), t->path,
                            json_pack("{s:I, s:{s:s}, s:{s:{s:I, s:s}}}", "length",
                                      (json_int_t)t->length, "hashes", "sha256", t->sha256,
                                      "custom", "upflow", "action", (json_int_t)t->action,
                                      "device", t->device));
    bool ok = s && uf_tuf_sign(s, &key, 1, &text, &len, err) &&
              uf_buf_append(out, text, len, err);
    free(text);
    json_decref(s);
    uf_key_free(key);
    return ok;
}
