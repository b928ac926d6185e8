/*
 * notify_worker.h - the background thread that makes time-driven things happen after commit
 * (workflow.md §6.7, §6.9 step 8): every notify.interval seconds it emits the SLA warnings and
 * breaches that have come due (sla_events_emit_due), re-signs the TUF timestamps and
 * snapshots that have used up half their lifetime (tuf_repo_refresh_due), and delivers the
 * webhook events of the outbox whose time has come, retrying failures with exponential
 * back-off.
 *
 * It takes a database connection only for its own short transactions, never during an HTTP
 * exchange, and request threads never wait for it. Stopping wakes it, aborts a transfer in
 * progress, and joins it.
 */
#ifndef UPFLOW_SERVER_NOTIFY_WORKER_H
#define UPFLOW_SERVER_NOTIFY_WORKER_H

#include "lib/log.h"
#include "server/config.h"
#include "server/db.h"
#include "server/workflow.h"

/* A webhook event is tried at most this many times; the waits between tries double from
 * 1 s and never exceed an hour. */
#define NOTIFY_MAX_ATTEMPTS 10
#define NOTIFY_MAX_BACKOFF_S 3600

typedef struct notify_worker notify_worker;

/* Start the thread. pool, reg, cfg and log must outlive it. */
notify_worker *notify_worker_start(db_pool *pool, const wf_registry *reg,
                                   const server_config *cfg, const uf_log *log, uf_error *err);
/* Wake, stop and join the thread; NULL is a no-op. */
void notify_worker_stop(notify_worker *w);

/* One pass, as the thread runs it (tests). */
void notify_worker_pass(notify_worker *w);

#endif
