/*
 * db_internal.h - what a database back-end implements (db_sqlite.c; db_postgres.c later).
 */
#ifndef UPFLOW_SERVER_DB_INTERNAL_H
#define UPFLOW_SERVER_DB_INTERNAL_H

#include <pthread.h>

#include "server/db.h"

typedef struct db_ops {
    const char *dialect;
    void (*close)(db *d);
    bool (*exec)(db *d, const char *sql, const db_value *args, size_t n, int64_t *changes,
                 uf_error *err);
    bool (*exec_script)(db *d, const char *sql, uf_error *err);
    db_stmt *(*query)(db *d, const char *sql, const db_value *args, size_t n, uf_error *err);
    int (*step)(db_stmt *st, uf_error *err);
    bool (*col_is_null)(db_stmt *st, int col);
    int64_t (*col_int)(db_stmt *st, int col);
    const char *(*col_text)(db_stmt *st, int col);
    const void *(*col_blob)(db_stmt *st, int col, size_t *len);
    void (*finalize)(db_stmt *st);
} db_ops;

struct db {
    const db_ops *ops;
    int tx_depth;                /* guards against nested BEGIN */
    pthread_mutex_t *write_lock; /* shared by a pool's connections; NULL for a lone one */
};

struct db_stmt {
    db *owner;
};

#endif
