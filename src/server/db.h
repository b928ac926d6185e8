/*
 * db.h - the one door to SQL: connections, parameterised statements, transactions.
 *
 * SQL text is written once, in portable form with numbered placeholders ($1, $2, ...), which
 * both SQLite and PostgreSQL understand; values are always bound, never pasted into SQL.
 * The connection is a small vtable so that the PostgreSQL back-end for multi-instance
 * deployments can join without touching the store code above it. Today: SQLite (WAL mode,
 * foreign keys on, busy timeout), one connection per thread through a pool.
 */
#ifndef UPFLOW_SERVER_DB_H
#define UPFLOW_SERVER_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"

typedef enum { DB_NULL, DB_INT, DB_TEXT, DB_BLOB } db_type;

typedef struct db_value {
    db_type type;
    int64_t i;
    const char *s; /* text or blob bytes (borrowed) */
    size_t len;
} db_value;

static inline db_value db_int(int64_t i) { return (db_value){.type = DB_INT, .i = i}; }
static inline db_value db_null(void) { return (db_value){.type = DB_NULL}; }
/* NULL text binds SQL NULL. */
static inline db_value db_text(const char *s)
{
    return s ? (db_value){.type = DB_TEXT, .s = s, .len = strlen(s)} : db_null();
}
static inline db_value db_blob(const void *p, size_t len)
{
    return (db_value){.type = DB_BLOB, .s = (const char *)p, .len = len};
}

/* Pass a parameter list: db_exec(db, sql, DB_ARGS(db_int(1), db_text("x")), err). */
#define DB_ARGS(...) (const db_value[]){__VA_ARGS__}, sizeof((const db_value[]){__VA_ARGS__}) / sizeof(db_value)
#define DB_NO_ARGS NULL, 0

typedef struct db db;
typedef struct db_stmt db_stmt;

/* Process-wide SQLite settings; call once from main() before opening anything. */
void db_sqlite_configure(void);
/* Open (creating if needed) an SQLite database file in WAL mode with foreign keys on. */
db *db_open_sqlite(const char *path, uf_error *err);
void db_close(db *d);
/* "sqlite" or "postgres": for the few statements whose dialects differ. */
const char *db_dialect(const db *d);

/* Run a statement that returns no rows. *changes (may be NULL) gets the rows affected. */
bool db_exec(db *d, const char *sql, const db_value *args, size_t n, uf_error *err);
bool db_exec_changes(db *d, const char *sql, const db_value *args, size_t n, int64_t *changes,
                     uf_error *err);
/* Run several ';'-separated statements without parameters (migrations only). */
bool db_exec_script(db *d, const char *sql, uf_error *err);

/* A query: step through rows, read columns, finalize. */
db_stmt *db_query(db *d, const char *sql, const db_value *args, size_t n, uf_error *err);
/* 1 = a row is ready, 0 = no more rows, -1 = error (err filled). */
int db_step(db_stmt *st, uf_error *err);
bool db_col_is_null(db_stmt *st, int col);
int64_t db_col_int(db_stmt *st, int col);
/* Text of a column, valid until the next step/finalize; "" for NULL. */
const char *db_col_text(db_stmt *st, int col);
const void *db_col_blob(db_stmt *st, int col, size_t *len);
void db_finalize(db_stmt *st);

/* One-row helpers. *found (may be NULL) tells whether a row came back; without it a missing
 * row is UF_E_NOT_FOUND. */
bool db_query_int(db *d, const char *sql, const db_value *args, size_t n, int64_t *out,
                  bool *found, uf_error *err);
/* malloc'ed text of the first column of the first row. */
bool db_query_text(db *d, const char *sql, const db_value *args, size_t n, char **out,
                   bool *found, uf_error *err);

/* Transactions. begin takes the write lock at once (SQLite BEGIN IMMEDIATE), so two writers
 * never deadlock upgrading a read lock. */
bool db_begin(db *d, uf_error *err);
bool db_commit(db *d, uf_error *err);
void db_rollback(db *d);

/* A fixed set of connections shared by threads; acquire blocks until one is free. */
typedef struct db_pool db_pool;
db_pool *db_pool_open_sqlite(const char *path, unsigned size, uf_error *err);
db *db_pool_acquire(db_pool *p);
void db_pool_release(db_pool *p, db *d);
void db_pool_close(db_pool *p);

#endif
