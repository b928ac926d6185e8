/*
 * workflow_registry.c - the set of loaded templates (see wf_registry in workflow.h).
 *
 * Files under the templates directory are the source; the store keeps every version ever
 * published, because a record stays on the version it was created with. Publishing the same
 * (id, version) with a different body is refused: a changed template needs a new version.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/canonical_json.h"
#include "lib/json.h"
#include "server/workflow.h"

static bool add(wf_registry *reg, wf_template *t, uf_error *err)
{
    wf_template **items = realloc(reg->items, (reg->n + 1) * sizeof *items);
    if (!items) {
        wf_template_free(t);
        return uf_error_set(err, UF_E_NOMEM, "grow template registry");
    }
    reg->items = items;
    reg->items[reg->n++] = t;
    return true;
}

static bool publish(db *d, const wf_template *t, const uf_log *log, uf_error *err)
{
    char *stored = NULL;
    bool found;
    if (!db_query_text(d, "SELECT sha256 FROM templates WHERE id = $1 AND version = $2",
                       DB_ARGS(db_text(t->id), db_int(t->version)), &stored, &found, err))
        return false;
    if (found) {
        bool same = strcmp(stored, t->sha256) == 0;
        free(stored);
        if (!same)
            return uf_error_set(err, UF_E_CONFLICT,
                                "template %s version %lld differs from the published one; "
                                "published versions are immutable, raise \"version\"",
                                t->id, (long long)t->version);
        return true;
    }
    uf_buf body = UF_BUF_INIT;
    bool ok = uf_canonical_json(t->doc, &body, err) &&
              db_exec(d,
                      "INSERT INTO templates (id, version, sha256, body, published_at)"
                      " VALUES ($1, $2, $3, $4, $5)",
                      DB_ARGS(db_text(t->id), db_int(t->version), db_text(t->sha256),
                              db_text(body.data), db_int((int64_t)time(NULL))),
                      err);
    uf_buf_free(&body);
    if (ok)
        uf_log_info(log, "workflow", "published template %s version %lld", t->id,
                    (long long)t->version);
    return ok;
}

static bool load_files(wf_registry *reg, const char *dir, db *d, const uf_log *log,
                       uf_error *err)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return uf_error_errno(err, errno, "templates directory %s", dir);
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(dh))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        wf_template *t = wf_template_load_file(path, err);
        if (!t)
            ok = false;
        else if (!publish(d, t, log, err)) {
            wf_template_free(t);
            ok = false;
        } else {
            ok = add(reg, t, err); /* frees t on failure */
        }
    }
    closedir(dh);
    return ok;
}

/* Versions published earlier but no longer in the files. */
static bool load_published(wf_registry *reg, db *d, uf_error *err)
{
    db_stmt *st = db_query(d, "SELECT id, version, body FROM templates ORDER BY id, version",
                           DB_NO_ARGS, err);
    if (!st)
        return false;
    int rc;
    bool ok = true;
    while (ok && (rc = db_step(st, err)) == 1) {
        if (wf_registry_get(reg, db_col_text(st, 0), db_col_int(st, 1)))
            continue;
        const char *body = db_col_text(st, 2);
        uf_json_limits lim = uf_json_default_limits();
        json_t *doc = uf_json_parse(body, strlen(body), &lim, err);
        wf_template *t = doc ? wf_template_from_json(doc, err) : NULL;
        json_decref(doc);
        ok = t && add(reg, t, err);
        if (!ok)
            uf_error_prefix(err, "published template %s version %lld", db_col_text(st, 0),
                            (long long)db_col_int(st, 1));
    }
    db_finalize(st);
    return ok && rc >= 0;
}

bool wf_registry_load(wf_registry *reg, const char *dir, db *d, const uf_log *log, uf_error *err)
{
    memset(reg, 0, sizeof *reg);
    if (!db_begin(d, err))
        return false;
    if (!load_files(reg, dir, d, log, err) || !load_published(reg, d, err) ||
        !db_commit(d, err)) {
        db_rollback(d);
        wf_registry_free(reg);
        return false;
    }
    return true;
}

void wf_registry_free(wf_registry *reg)
{
    for (size_t i = 0; i < reg->n; i++)
        wf_template_free(reg->items[i]);
    free(reg->items);
    reg->items = NULL;
    reg->n = 0;
}

const wf_template *wf_registry_get(const wf_registry *reg, const char *id, int64_t version)
{
    const wf_template *best = NULL;
    for (size_t i = 0; i < reg->n; i++) {
        const wf_template *t = reg->items[i];
        if (strcmp(t->id, id) != 0)
            continue;
        if (version && t->version == version)
            return t;
        if (!version && (!best || t->version > best->version))
            best = t;
    }
    return best;
}
