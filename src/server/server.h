/*
 * server.h - the running server's context: configuration, logger, metrics, database pool,
 * HTTP front. Created in main(), passed to every handler; there is no other state.
 */
#ifndef UPFLOW_SERVER_SERVER_H
#define UPFLOW_SERVER_SERVER_H

#include "lib/log.h"
#include "lib/password.h"
#include "server/config.h"
#include "server/db.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/notify_worker.h"
#include "server/router.h"
#include "server/sla.h"
#include "server/workflow.h"

#define SERVER_MAX_ROUTES 160

typedef struct upflowd {
    server_config cfg;
    uf_log log;
    metrics metrics;
    db_pool *pool;
    uf_password_params kdf;
    http_server *http;
    notify_worker *notifier;         /* SLA events and webhook delivery, after commit */
    wf_registry registry;            /* workflow templates */
    sla_calendars calendars;         /* working calendars for SLA clocks */
    route routes[SERVER_MAX_ROUTES]; /* filled at start, read-only afterwards */
    size_t n_routes;
} upflowd;

/* Open the data directory (created 0700 if missing), the database (migrated), start
 * listening and start the notification worker. */
bool server_start(upflowd *srv, uf_error *err);
void server_stop(upflowd *srv);

/* Recompute a record's SLA clocks inside the caller's transaction. */
bool server_sla_refresh(upflowd *srv, db *d, int64_t record_id, uf_error *err);

/* Create the data directory with mode 0700 if it is missing. */
bool server_ensure_data_dir(const char *dir, uf_error *err);
/* Path of the SQLite database inside the data directory. */
void server_db_path(const server_config *cfg, char *out, size_t len);

#endif
