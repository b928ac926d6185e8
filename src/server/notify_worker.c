/*
 * notify_worker.c - the notification worker thread (see notify_worker.h).
 *
 * A pass: emit due SLA events; then read the due outbox rows, let the connection go, POST
 * each one, and record each outcome in a short transaction of its own. A failed delivery is
 * tried again after 1, 2, 4, ... seconds (at most an hour), NOTIFY_MAX_ATTEMPTS times in
 * all; the last error stays on the row for the operator.
 */
#include "server/notify_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/sla.h"
#include "server/rollout.h"
#include "server/tuf_repo.h"
#include "server/webhook.h"

/* Outbox rows delivered per pass at most; more wait for the next pass. */
#define NOTIFY_OUTBOX_BATCH 50
#define NOTIFY_WEBHOOK_TIMEOUT_S 10

struct notify_worker {
    db_pool *pool;
    const wf_registry *reg;
    const server_config *cfg;
    const uf_log *log;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_bool stop;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit_sla_events(notify_worker *w)
{
    db *d = db_pool_acquire(w->pool);
    uf_error err;
    int emitted = 0;
    if (!sla_events_emit_due(d, w->reg, now_ms(), &emitted, &err))
        uf_log_warn(w->log, "notify", "%s (tried again in the next pass)", err.msg);
    db_pool_release(w->pool, d);
    if (emitted)
        uf_log_info(w->log, "notify", "%d SLA event(s) emitted", emitted);
}

/* The due webhook rows: [{"id", "event", "payload", "attempts"}]. */
static json_t *due_webhooks(notify_worker *w, uf_error *err)
{
    db *d = db_pool_acquire(w->pool);
    db_stmt *st = db_query(d,
                           "SELECT id, event, payload, attempts FROM outbox"
                           " WHERE kind = 'webhook' AND delivered_at IS NULL AND attempts < $1"
                           " AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3",
                           DB_ARGS(db_int(NOTIFY_MAX_ATTEMPTS), db_int(now_ms() / 1000),
                                   db_int(NOTIFY_OUTBOX_BATCH)),
                           err);
    json_t *list = st ? json_array() : NULL;
    int rc = 0;
    while (st && (rc = db_step(st, err)) == 1)
        json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:I}", "id",
                                              (json_int_t)db_col_int(st, 0), "event",
                                              db_col_text(st, 1), "payload", db_col_text(st, 2),
                                              "attempts", (json_int_t)db_col_int(st, 3)));
    db_finalize(st);
    db_pool_release(w->pool, d);
    if (rc < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

static void record_outcome(notify_worker *w, int64_t id, int64_t attempts, const uf_error *failed)
{
    int64_t now = now_ms() / 1000;
    int64_t backoff = (int64_t)1 << (attempts - 1 < 20 ? attempts - 1 : 20);
    if (backoff > NOTIFY_MAX_BACKOFF_S)
        backoff = NOTIFY_MAX_BACKOFF_S;
    db *d = db_pool_acquire(w->pool);
    uf_error err;
    bool ok = failed ? db_exec(d,
                               "UPDATE outbox SET attempts = $2, next_attempt_at = $3,"
                               " last_error = $4 WHERE id = $1",
                               DB_ARGS(db_int(id), db_int(attempts), db_int(now + backoff),
                                       db_text(failed->msg)),
                               &err)
                     : db_exec(d,
                               "UPDATE outbox SET attempts = $2, delivered_at = $3,"
                               " last_error = NULL WHERE id = $1",
                               DB_ARGS(db_int(id), db_int(attempts), db_int(now)), &err);
    db_pool_release(w->pool, d);
    if (!ok)
        uf_log_error(w->log, "notify", "outbox %lld: record the delivery: %s", (long long)id,
                     err.msg);
    else if (failed && attempts >= NOTIFY_MAX_ATTEMPTS)
        uf_log_error(w->log, "notify", "outbox %lld: giving up after %lld attempts: %s",
                     (long long)id, (long long)attempts, failed->msg);
    else if (failed)
        uf_log_warn(w->log, "notify", "outbox %lld: attempt %lld failed, next in %llds: %s",
                    (long long)id, (long long)attempts, (long long)backoff, failed->msg);
}

static void deliver_webhooks(notify_worker *w)
{
    if (!w->cfg->webhook_url[0])
        return; /* they wait in the outbox until a URL is configured */
    uf_error err;
    json_t *due = due_webhooks(w, &err);
    if (!due) {
        uf_log_warn(w->log, "notify", "read the outbox: %s", err.msg);
        return;
    }
    webhook_target target = {.url = w->cfg->webhook_url, .secret = w->cfg->webhook_secret,
                             .timeout_s = NOTIFY_WEBHOOK_TIMEOUT_S, .cancel = &w->stop};
    size_t i;
    json_t *row;
    json_array_foreach(due, i, row) {
        if (atomic_load(&w->stop))
            break;
        int64_t id = json_integer_value(json_object_get(row, "id"));
        bool ok = webhook_post(&target, json_string_value(json_object_get(row, "event")), id,
                               json_string_value(json_object_get(row, "payload")), &err);
        if (!ok && atomic_load(&w->stop))
            break; /* aborted by the stop: not the receiver's failure */
        record_outcome(w, id, json_integer_value(json_object_get(row, "attempts")) + 1,
                       ok ? NULL : &err);
    }
    json_decref(due);
}

/* Re-sign TUF timestamps and snapshots before they expire (tuf_repo.h). */
static void resign_repositories(notify_worker *w)
{
    tuf_repo_config cfg = {.data_dir = w->cfg->data_dir,
                           .timestamp_expiry = w->cfg->tuf_timestamp_expiry,
                           .snapshot_expiry = w->cfg->tuf_snapshot_expiry};
    db *d = db_pool_acquire(w->pool);
    unsigned n = 0;
    uf_error err;
    if (!tuf_repo_refresh_due(d, &cfg, (int64_t)time(NULL), &n, &err))
        uf_log_error(w->log, "tuf", "%s", err.msg);
    else if (n)
        uf_log_info(w->log, "tuf", "re-signed timestamp/snapshot of %u repositor%s", n,
                    n == 1 ? "y" : "ies");
    db_pool_release(w->pool, d);
}

/* Scheduled rollout starts, and thresholds re-checked (rollout.h). */
static void tick_rollouts(notify_worker *w)
{
    rollout_env env = {.reg = w->reg, .data_dir = w->cfg->data_dir};
    db *d = db_pool_acquire(w->pool);
    unsigned n = 0;
    uf_error err;
    if (!rollout_tick(d, &env, (int64_t)time(NULL), &n, &err))
        uf_log_error(w->log, "rollout", "%s", err.msg);
    db_pool_release(w->pool, d);
}

void notify_worker_pass(notify_worker *w)
{
    emit_sla_events(w);
    if (!atomic_load(&w->stop))
        resign_repositories(w);
    if (!atomic_load(&w->stop))
        tick_rollouts(w);
    if (!atomic_load(&w->stop))
        deliver_webhooks(w);
}

static void *run(void *arg)
{
    notify_worker *w = arg;
    while (!atomic_load(&w->stop)) {
        notify_worker_pass(w);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += w->cfg->notify_interval;
        pthread_mutex_lock(&w->lock);
        while (!atomic_load(&w->stop) &&
               pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

notify_worker *notify_worker_start(db_pool *pool, const wf_registry *reg,
                                   const server_config *cfg, const uf_log *log, uf_error *err)
{
    notify_worker *w = calloc(1, sizeof *w);
    if (!w) {
        uf_error_set(err, UF_E_NOMEM, "allocate the notification worker");
        return NULL;
    }
    *w = (notify_worker){.pool = pool, .reg = reg, .cfg = cfg, .log = log};
    atomic_init(&w->stop, false);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->lock, NULL);
    if (!webhook_global_init(err)) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    if (cfg->webhook_url[0] && !cfg->webhook_secret[0])
        uf_log_warn(log, "notify", "notify.webhook_url is set without notify.webhook_secret: "
                    "webhook events go out unsigned");
    int rc = pthread_create(&w->thread, NULL, run, w);
    if (rc != 0) {
        uf_error_errno(err, rc, "start the notification worker");
        webhook_global_cleanup();
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void notify_worker_stop(notify_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stop, true);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    webhook_global_cleanup();
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
