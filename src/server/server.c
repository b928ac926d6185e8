/*
 * server.c - bring upflowd up and down: data directory, database and migrations, routes,
 * HTTP listener, notification worker (see server.h).
 */
#include "server/server.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <sys/stat.h>

#include "server/api.h"
#include "server/schema.h"

void server_db_path(const server_config *cfg, char *out, size_t len)
{
    snprintf(out, len, "%s/upflow.db", cfg->data_dir);
}

bool server_ensure_data_dir(const char *dir, uf_error *err)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) != 0)
            return uf_error_errno(err, errno, "data directory %s", dir);
        if (!S_ISDIR(st.st_mode))
            return uf_error_set(err, UF_E_INVALID, "data directory %s is not a directory", dir);
        return true;
    }
    return uf_error_errno(err, errno, "create data directory %s", dir);
}

/* Uploads interrupted by a crash leave temporary files: nothing refers to them. */
static void remove_stale_uploads(const char *dir, const uf_log *log)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *de;
    int removed = 0;
    while ((de = readdir(dh))) {
        if (strncmp(de->d_name, "upload-", 7) != 0)
            continue;
        char path[CONFIG_STR_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        removed += unlink(path) == 0;
    }
    closedir(dh);
    if (removed)
        uf_log_info(log, "store", "removed %d unfinished upload(s) from %s", removed, dir);
}

bool server_start(upflowd *srv, uf_error *err)
{
    char path[CONFIG_STR_MAX + 32];
    if (!server_ensure_data_dir(srv->cfg.data_dir, err))
        return false;
    server_db_path(&srv->cfg, path, sizeof path);
    /* one connection per HTTP thread, plus one for background work */
    srv->pool = db_pool_open_sqlite(path, srv->cfg.threads + 1, err);
    if (!srv->pool)
        return false;
    db *d = db_pool_acquire(srv->pool);
    int applied = 0;
    bool ok = schema_migrate(d, &applied, err);
    db_pool_release(srv->pool, d);
    if (!ok) {
        uf_error_prefix(err, "database %s", path);
        server_stop(srv);
        return false;
    }
    if (applied)
        uf_log_info(&srv->log, "store", "applied %d migration(s); schema is at version %d",
                    applied, schema_latest());
    if (!sla_calendars_load(&srv->calendars, srv->cfg.calendars_dir, err)) {
        server_stop(srv);
        return false;
    }
    d = db_pool_acquire(srv->pool);
    ok = wf_registry_load(&srv->registry, srv->cfg.templates_dir, d, &srv->log, err);
    db_pool_release(srv->pool, d);
    if (!ok) {
        server_stop(srv);
        return false;
    }
    srv->registry.calendars = &srv->calendars;
    srv->kdf = uf_password_default_params();
    srv->kdf.log2_n = srv->cfg.scrypt_log2_n;
    srv->n_routes = api_collect_routes(srv->routes, SERVER_MAX_ROUTES);
    metrics_init(&srv->metrics);
    char upload_dir[CONFIG_STR_MAX + 16];
    snprintf(upload_dir, sizeof upload_dir, "%s/tmp", srv->cfg.data_dir);
    if (!server_ensure_data_dir(upload_dir, err)) {
        server_stop(srv);
        return false;
    }
    remove_stale_uploads(upload_dir, &srv->log);
    http_options opt = {.listen = srv->cfg.listen, .threads = srv->cfg.threads,
                        .max_body = srv->cfg.max_body, .timeout_s = srv->cfg.idle_timeout,
                        .max_connections = srv->cfg.max_connections,
                        .upload_limit = api_upload_limit, .upload_dir = upload_dir};
    srv->http = http_start(&opt, api_dispatch, srv, &srv->log, &srv->metrics, err);
    if (!srv->http) {
        server_stop(srv);
        return false;
    }
    srv->notifier = notify_worker_start(srv->pool, &srv->registry, &srv->cfg, &srv->log, err);
    if (!srv->notifier) {
        server_stop(srv);
        return false;
    }
    return true;
}

void server_stop(upflowd *srv)
{
    notify_worker_stop(srv->notifier); /* joined before the pool and templates go */
    srv->notifier = NULL;
    http_stop(srv->http); /* finishes requests in flight before returning */
    srv->http = NULL;
    db_pool_close(srv->pool);
    srv->pool = NULL;
    wf_registry_free(&srv->registry);
    sla_calendars_free(&srv->calendars);
}

bool server_sla_refresh(upflowd *srv, db *d, int64_t record_id, uf_error *err)
{
    wf_record r;
    if (!record_load(d, record_id, &r, err))
        return false;
    const wf_template *t = wf_registry_get(&srv->registry, r.template_id, r.template_version);
    bool ok = t ? sla_refresh(d, t, r.type, record_id, &srv->calendars, err)
                : uf_error_set(err, UF_E_INTERNAL, "record %lld: template not loaded",
                               (long long)record_id);
    record_clear(&r);
    if (!ok)
        uf_error_prefix(err, "SLA clocks of record %lld", (long long)record_id);
    return ok;
}
