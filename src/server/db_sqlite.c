/*
 * db_sqlite.c - the SQLite back-end of db.h: WAL journal, foreign keys, a busy timeout so
 * concurrent writers wait instead of failing, and $N placeholders bound by name.
 *
 * Each connection keeps its prepared statements, keyed by SQL text: preparing was a quarter
 * of a transition's CPU and more than half of a list's (docs/benchmarks.md). A statement in
 * use is never handed out twice; a second user of the same SQL at once gets a fresh one.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/db_internal.h"

#define STMT_CACHE_SIZE 96

typedef struct cached_stmt {
    char *sql;           /* NULL: free slot */
    sqlite3_stmt *handle;
    bool in_use;
    uint64_t last_used;
} cached_stmt;

typedef struct sqlite_db {
    db base;
    sqlite3 *handle;
    cached_stmt cache[STMT_CACHE_SIZE];
    uint64_t clock;
} sqlite_db;

typedef struct sqlite_stmt {
    db_stmt base;
    sqlite3_stmt *handle;
    int slot; /* index in the cache, or -1 for a statement of its own */
} sqlite_stmt;

static sqlite3 *handle_of(db *d) { return ((sqlite_db *)d)->handle; }

static uf_code code_for(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return UF_E_CONFLICT;
    case SQLITE_FULL: return UF_E_NO_SPACE;
    case SQLITE_NOMEM: return UF_E_NOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return UF_E_TIMEOUT;
    case SQLITE_TOOBIG: return UF_E_TOO_LARGE;
    default: return UF_E_IO;
    }
}

static bool fail(db *d, int rc, const char *what, uf_error *err)
{
    return uf_error_set(err, code_for(rc), "%s: %s", what, sqlite3_errmsg(handle_of(d)));
}

/* Give a statement back: a cached one is reset for its next use, another is finalized. */
static void release(db *d, sqlite3_stmt *st, int slot)
{
    sqlite_db *s = (sqlite_db *)d;
    if (slot < 0) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    s->cache[slot].in_use = false;
}

/* Binds args[k] to the parameter named "$k+1"; parameters the SQL does not use are an error,
 * so a mismatch between SQL and call site is found by the first test that runs it. */
static bool bind_all(db *d, sqlite3_stmt *st, const db_value *args, size_t n, uf_error *err)
{
    for (size_t k = 0; k < n; k++) {
        char name[16];
        snprintf(name, sizeof name, "$%zu", k + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0)
            return uf_error_set(err, UF_E_INTERNAL, "SQL has no parameter %s: %s", name,
                                sqlite3_sql(st));
        int rc;
        switch (args[k].type) {
        case DB_INT: rc = sqlite3_bind_int64(st, idx, args[k].i); break;
        case DB_TEXT:
            rc = sqlite3_bind_text64(st, idx, args[k].s, args[k].len, SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
            break;
        case DB_BLOB:
            rc = sqlite3_bind_blob64(st, idx, args[k].s, args[k].len, SQLITE_TRANSIENT);
            break;
        default: rc = sqlite3_bind_null(st, idx); break;
        }
        if (rc != SQLITE_OK)
            return fail(d, rc, "bind", err);
    }
    if ((size_t)sqlite3_bind_parameter_count(st) != n)
        return uf_error_set(err, UF_E_INTERNAL, "SQL expects %d parameters, got %zu: %s",
                            sqlite3_bind_parameter_count(st), n, sqlite3_sql(st));
    return true;
}

/* A free cache slot, or the least recently used one not in use (its statement finalized);
 * -1 when every slot is busy. */
static int cache_slot_for_new(sqlite_db *s)
{
    int victim = -1;
    for (int i = 0; i < STMT_CACHE_SIZE; i++) {
        if (!s->cache[i].sql)
            return i;
        if (!s->cache[i].in_use && (victim < 0 || s->cache[i].last_used < s->cache[victim].last_used))
            victim = i;
    }
    if (victim >= 0) {
        sqlite3_finalize(s->cache[victim].handle);
        free(s->cache[victim].sql);
        s->cache[victim] = (cached_stmt){0};
    }
    return victim;
}

/* A statement for sql with args bound: from the cache when possible. *slot gets the cache
 * slot or -1. */
static sqlite3_stmt *acquire(db *d, const char *sql, const db_value *args, size_t n, int *slot,
                             uf_error *err)
{
    sqlite_db *s = (sqlite_db *)d;
    sqlite3_stmt *st = NULL;
    *slot = -1;
    for (int i = 0; i < STMT_CACHE_SIZE && !st; i++) {
        if (s->cache[i].sql && !s->cache[i].in_use && strcmp(s->cache[i].sql, sql) == 0) {
            st = s->cache[i].handle;
            *slot = i;
        }
    }
    if (!st) {
        int rc = sqlite3_prepare_v3(s->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            fail(d, rc, "prepare", err);
            return NULL;
        }
        int i = cache_slot_for_new(s);
        char *copy = i >= 0 ? strdup(sql) : NULL;
        if (copy) {
            s->cache[i] = (cached_stmt){.sql = copy, .handle = st};
            *slot = i;
        }
    }
    if (*slot >= 0) {
        s->cache[*slot].in_use = true;
        s->cache[*slot].last_used = ++s->clock;
    }
    if (!bind_all(d, st, args, n, err)) {
        release(d, st, *slot);
        return NULL;
    }
    return st;
}

static bool sq_exec(db *d, const char *sql, const db_value *args, size_t n, int64_t *changes,
                    uf_error *err)
{
    int slot;
    sqlite3_stmt *st = acquire(d, sql, args, n, &slot, err);
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        fail(d, rc, "execute", err); /* the message is read before the reset clears it */
    release(d, st, slot);
    if (rc != SQLITE_DONE)
        return false;
    if (changes)
        *changes = sqlite3_changes64(handle_of(d));
    return true;
}

static bool sq_exec_script(db *d, const char *sql, uf_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(handle_of(d), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        uf_error_set(err, code_for(rc), "execute script: %s", msg ? msg : "unknown error");
        sqlite3_free(msg);
        return false;
    }
    return true;
}

static db_stmt *sq_query(db *d, const char *sql, const db_value *args, size_t n,
                         uf_error *err)
{
    sqlite_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        uf_error_set(err, UF_E_NOMEM, "allocate statement");
        return NULL;
    }
    s->handle = acquire(d, sql, args, n, &s->slot, err);
    if (!s->handle) {
        free(s);
        return NULL;
    }
    s->base.owner = d;
    return &s->base;
}

static int sq_step(db_stmt *st, uf_error *err)
{
    sqlite_stmt *s = (sqlite_stmt *)st;
    int rc = sqlite3_step(s->handle);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    fail(st->owner, rc, "step", err);
    return -1;
}

static bool sq_col_is_null(db_stmt *st, int col)
{
    return sqlite3_column_type(((sqlite_stmt *)st)->handle, col) == SQLITE_NULL;
}

static int64_t sq_col_int(db_stmt *st, int col)
{
    return sqlite3_column_int64(((sqlite_stmt *)st)->handle, col);
}

static const char *sq_col_text(db_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(((sqlite_stmt *)st)->handle, col);
    return t ? (const char *)t : "";
}

static const void *sq_col_blob(db_stmt *st, int col, size_t *len)
{
    sqlite3_stmt *h = ((sqlite_stmt *)st)->handle;
    const void *p = sqlite3_column_blob(h, col);
    *len = (size_t)sqlite3_column_bytes(h, col);
    return p;
}

static void sq_finalize(db_stmt *st)
{
    sqlite_stmt *s = (sqlite_stmt *)st;
    release(st->owner, s->handle, s->slot);
    free(st);
}

static void sq_close(db *d)
{
    sqlite_db *s = (sqlite_db *)d;
    for (int i = 0; i < STMT_CACHE_SIZE; i++) {
        if (s->cache[i].sql) {
            sqlite3_finalize(s->cache[i].handle);
            free(s->cache[i].sql);
        }
    }
    sqlite3_close_v2(handle_of(d));
    free(d);
}

static const db_ops sqlite_ops = {
    .dialect = "sqlite",
    .close = sq_close,
    .exec = sq_exec,
    .exec_script = sq_exec_script,
    .query = sq_query,
    .step = sq_step,
    .col_is_null = sq_col_is_null,
    .col_int = sq_col_int,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .finalize = sq_finalize,
};

void db_sqlite_configure(void)
{
    /* SQLite's memory statistics take a global mutex on every allocation; upflowd does not
     * read them, and with several connections the mutex showed up in list latency
     * (docs/benchmarks.md). Must run before the first connection opens. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

db *db_open_sqlite(const char *path, uf_error *err)
{
    sqlite_db *d = calloc(1, sizeof *d);
    if (!d) {
        uf_error_set(err, UF_E_NOMEM, "allocate database handle");
        return NULL;
    }
    d->base.ops = &sqlite_ops;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &d->handle, flags, NULL);
    if (rc != SQLITE_OK) {
        uf_error_set(err, code_for(rc), "open %s: %s", path,
                     d->handle ? sqlite3_errmsg(d->handle) : "out of memory");
        sq_close(&d->base);
        return NULL;
    }
    sqlite3_busy_timeout(d->handle, 10000);
    sqlite3_extended_result_codes(d->handle, 1);
    /* WAL: readers never block the writer; synchronous=NORMAL is durable across application
     * crashes and loses at most the last commits on power loss, never consistency. */
    if (!sq_exec_script(&d->base,
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                        "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF;",
                        err)) {
        uf_error_prefix(err, "open %s", path);
        sq_close(&d->base);
        return NULL;
    }
    return &d->base;
}
