/*
 * db.c - back-end independent parts of db.h: dispatch, one-row helpers, transactions and
 * the connection pool.
 */
#include "server/db.h"

#include <pthread.h>
#include <stdlib.h>

#include "server/db_internal.h"

const char *db_dialect(const db *d) { return d->ops->dialect; }

void db_close(db *d)
{
    if (d)
        d->ops->close(d);
}

bool db_exec(db *d, const char *sql, const db_value *args, size_t n, uf_error *err)
{
    return d->ops->exec(d, sql, args, n, NULL, err);
}

bool db_exec_changes(db *d, const char *sql, const db_value *args, size_t n, int64_t *changes,
                     uf_error *err)
{
    return d->ops->exec(d, sql, args, n, changes, err);
}

bool db_exec_script(db *d, const char *sql, uf_error *err)
{
    return d->ops->exec_script(d, sql, err);
}

db_stmt *db_query(db *d, const char *sql, const db_value *args, size_t n, uf_error *err)
{
    return d->ops->query(d, sql, args, n, err);
}

int db_step(db_stmt *st, uf_error *err) { return st->owner->ops->step(st, err); }
bool db_col_is_null(db_stmt *st, int col) { return st->owner->ops->col_is_null(st, col); }
int64_t db_col_int(db_stmt *st, int col) { return st->owner->ops->col_int(st, col); }
const char *db_col_text(db_stmt *st, int col) { return st->owner->ops->col_text(st, col); }

const void *db_col_blob(db_stmt *st, int col, size_t *len)
{
    return st->owner->ops->col_blob(st, col, len);
}

void db_finalize(db_stmt *st)
{
    if (st)
        st->owner->ops->finalize(st);
}

/* Runs the query and leaves the statement on its first row; NULL when there is none (then
 * *found is false) or on error. */
static db_stmt *first_row(db *d, const char *sql, const db_value *args, size_t n, bool *found,
                          uf_error *err)
{
    if (found)
        *found = false;
    db_stmt *st = db_query(d, sql, args, n, err);
    if (!st)
        return NULL;
    int rc = db_step(st, err);
    if (rc == 1) {
        if (found)
            *found = true;
        return st;
    }
    db_finalize(st);
    if (rc == 0 && !found)
        uf_error_set(err, UF_E_NOT_FOUND, "no such row");
    return NULL;
}

bool db_query_int(db *d, const char *sql, const db_value *args, size_t n, int64_t *out,
                  bool *found, uf_error *err)
{
    uf_error local;
    uf_error *e = err ? err : &local;
    uf_error_clear(e);
    db_stmt *st = first_row(d, sql, args, n, found, e);
    if (!st)
        return found && *found == false && e->code == UF_OK;
    *out = db_col_int(st, 0);
    db_finalize(st);
    return true;
}

bool db_query_text(db *d, const char *sql, const db_value *args, size_t n, char **out,
                   bool *found, uf_error *err)
{
    uf_error local;
    uf_error *e = err ? err : &local;
    uf_error_clear(e);
    db_stmt *st = first_row(d, sql, args, n, found, e);
    if (!st)
        return found && *found == false && e->code == UF_OK;
    *out = strdup(db_col_text(st, 0));
    db_finalize(st);
    if (!*out)
        return uf_error_set(err, UF_E_NOMEM, "copy query result");
    return true;
}

/*
 * Writers queue on an in-process mutex before asking SQLite for its write lock. Without it,
 * a writer that finds the lock taken sleeps in SQLite's busy handler (1, 2, 5, 10 ... ms)
 * and wakes up late; with it, the next writer starts the moment the previous one commits
 * (docs/benchmarks.md measured the sleeps as the p99 of concurrent transitions).
 */
bool db_begin(db *d, uf_error *err)
{
    if (d->tx_depth > 0)
        return uf_error_set(err, UF_E_INTERNAL, "nested transaction");
    if (d->write_lock)
        pthread_mutex_lock(d->write_lock);
    const char *sql = strcmp(d->ops->dialect, "sqlite") == 0 ? "BEGIN IMMEDIATE" : "BEGIN";
    if (!d->ops->exec(d, sql, NULL, 0, NULL, err)) {
        if (d->write_lock)
            pthread_mutex_unlock(d->write_lock);
        return false;
    }
    d->tx_depth = 1;
    return true;
}

static void end_transaction(db *d)
{
    d->tx_depth = 0;
    if (d->write_lock)
        pthread_mutex_unlock(d->write_lock);
}

bool db_commit(db *d, uf_error *err)
{
    if (d->tx_depth == 0)
        return uf_error_set(err, UF_E_INTERNAL, "commit without a transaction");
    if (!d->ops->exec(d, "COMMIT", NULL, 0, NULL, err)) {
        db_rollback(d);
        return false;
    }
    end_transaction(d);
    return true;
}

void db_rollback(db *d)
{
    if (d->tx_depth == 0)
        return;
    d->ops->exec(d, "ROLLBACK", NULL, 0, NULL, NULL);
    end_transaction(d);
}

struct db_pool {
    pthread_mutex_t lock;
    pthread_mutex_t write_lock; /* one writer at a time, see db_begin */
    pthread_cond_t freed;
    unsigned size, n_free;
    db **all;
    db **free_list;
};

db_pool *db_pool_open_sqlite(const char *path, unsigned size, uf_error *err)
{
    db_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->all = calloc(size, sizeof *p->all)) ||
        !(p->free_list = calloc(size, sizeof *p->free_list))) {
        if (p) {
            free(p->all);
            free(p);
        }
        uf_error_set(err, UF_E_NOMEM, "allocate a pool of %u connections", size);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->write_lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    for (unsigned i = 0; i < size; i++) {
        p->all[i] = db_open_sqlite(path, err);
        if (!p->all[i]) {
            db_pool_close(p);
            return NULL;
        }
        p->all[i]->write_lock = &p->write_lock;
        p->free_list[p->n_free++] = p->all[i];
        p->size++;
    }
    return p;
}

db *db_pool_acquire(db_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->n_free == 0)
        pthread_cond_wait(&p->freed, &p->lock);
    db *d = p->free_list[--p->n_free];
    pthread_mutex_unlock(&p->lock);
    return d;
}

void db_pool_release(db_pool *p, db *d)
{
    db_rollback(d); /* a handler that failed half-way must not leak an open transaction */
    pthread_mutex_lock(&p->lock);
    p->free_list[p->n_free++] = d;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

void db_pool_close(db_pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->size; i++)
        db_close(p->all[i]);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->write_lock);
    pthread_cond_destroy(&p->freed);
    free(p->all);
    free(p->free_list);
    free(p);
}
