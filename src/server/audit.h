/*
 * audit.h - the append-only, hash-chained audit log.
 *
 * Every state change, field change, approval, attachment, login and admin action appends one
 * record. Each record's hash is SHA-256 over the canonical JSON of the record itself, which
 * includes the previous record's hash:
 *
 *     hash_n = sha256(canonical({seq, ts_ms, actor, on_behalf_of, action, object_kind,
 *                                object_id, template_version, detail, prev_hash = hash_n-1}))
 *
 * so changing, removing or reordering any record breaks every hash after it. audit_verify
 * recomputes the chain from the stored columns and names the first record that does not fit.
 * Appending must happen inside the caller's write transaction, so the record commits or
 * rolls back with the change it describes.
 */
#ifndef UPFLOW_SERVER_AUDIT_H
#define UPFLOW_SERVER_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "server/db.h"

/* The hash "before the first record": 64 zeros. */
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct audit_entry {
    const char *actor;        /* username, "system", or "device:<id>" */
    const char *on_behalf_of; /* NULL unless acting for someone (proxy sign-off, delegation) */
    const char *action;       /* "login", "record.transition", "user.create", ... */
    const char *object_kind;  /* "record", "user", ... or "" */
    const char *object_id;
    int64_t template_version; /* 0 = none */
    const json_t *detail;     /* object; NULL = {} */
} audit_entry;

/* Append within the current transaction; *seq (may be NULL) gets the new record's number. */
bool audit_append(db *d, const audit_entry *e, int64_t *seq, uf_error *err);

typedef struct audit_report {
    int64_t records;      /* how many were checked */
    int64_t first_broken; /* seq of the first record that fails, 0 if none */
    char reason[256];
} audit_report;

/* Recompute the whole chain. Returns false only when it cannot be read; a broken chain is
 * reported in *report. */
bool audit_verify(db *d, audit_report *report, uf_error *err);

/* The records of one object, oldest first, as a JSON array (for GET .../audit). */
json_t *audit_list_object(db *d, const char *object_kind, const char *object_id, uf_error *err);

#endif
