/*
 * audit.c - hash-chained audit log (see audit.h).
 */
#include "server/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/canonical_json.h"
#include "lib/hash.h"
#include "lib/json.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The JSON object whose canonical form is hashed. detail is borrowed (incref'ed). */
static json_t *event_object(int64_t seq, int64_t ts_ms, const char *actor,
                            const char *on_behalf_of, const char *action,
                            const char *object_kind, const char *object_id,
                            int64_t template_version, json_t *detail, const char *prev_hash)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(seq));
    json_object_set_new(o, "ts_ms", json_integer(ts_ms));
    json_object_set_new(o, "actor", json_string(actor));
    json_object_set_new(o, "on_behalf_of", on_behalf_of ? json_string(on_behalf_of) : json_null());
    json_object_set_new(o, "action", json_string(action));
    json_object_set_new(o, "object_kind", json_string(object_kind));
    json_object_set_new(o, "object_id", json_string(object_id));
    json_object_set_new(o, "template_version",
                        template_version ? json_integer(template_version) : json_null());
    json_object_set(o, "detail", detail);
    json_object_set_new(o, "prev_hash", json_string(prev_hash));
    return o;
}

static bool hash_event(json_t *event, char out[UF_HASH_MAX_HEX], uf_error *err)
{
    uf_buf canon = UF_BUF_INIT;
    bool ok = uf_canonical_json(event, &canon, err) &&
              uf_hash_buf_hex(UF_HASH_SHA256, canon.data, canon.len, out, err);
    uf_buf_free(&canon);
    return ok;
}

bool audit_append(db *d, const audit_entry *e, int64_t *seq_out, uf_error *err)
{
    int64_t last_seq = 0;
    char *prev = NULL;
    bool found;
    if (!db_query_int(d, "SELECT seq FROM audit ORDER BY seq DESC LIMIT 1", DB_NO_ARGS,
                      &last_seq, &found, err) ||
        (found && !db_query_text(d, "SELECT hash FROM audit WHERE seq = $1",
                                 DB_ARGS(db_int(last_seq)), &prev, NULL, err)))
        return uf_error_prefix(err, "audit: read the chain head");

    json_t *detail = e->detail ? json_deep_copy(e->detail) : json_object();
    int64_t seq = last_seq + 1, ts = now_ms();
    const char *kind = e->object_kind ? e->object_kind : "";
    const char *oid = e->object_id ? e->object_id : "";
    json_t *ev = event_object(seq, ts, e->actor, e->on_behalf_of, e->action, kind, oid,
                              e->template_version, detail, prev ? prev : AUDIT_GENESIS);
    char hash[UF_HASH_MAX_HEX];
    /* The column holds ordinary JSON (control characters escaped, so any JSON reader takes it
     * back); the hash covers the canonical form of the parsed event, whatever the spelling. */
    char *detail_text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    bool ok = (detail_text || uf_error_set(err, UF_E_NOMEM, "audit detail")) &&
              hash_event(ev, hash, err) &&
              db_exec(d,
                      "INSERT INTO audit (seq, ts_ms, actor, on_behalf_of, action, object_kind,"
                      " object_id, template_version, detail, prev_hash, hash)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                      DB_ARGS(db_int(seq), db_int(ts), db_text(e->actor),
                              db_text(e->on_behalf_of), db_text(e->action), db_text(kind),
                              db_text(oid),
                              e->template_version ? db_int(e->template_version) : db_null(),
                              db_text(detail_text), db_text(prev ? prev : AUDIT_GENESIS),
                              db_text(hash)),
                      err);
    json_decref(ev);
    json_decref(detail);
    free(detail_text);
    free(prev);
    if (!ok)
        return uf_error_prefix(err, "audit: append %s", e->action);
    if (seq_out)
        *seq_out = seq;
    return true;
}

static const char *const select_all =
    "SELECT seq, ts_ms, actor, on_behalf_of, action, object_kind, object_id,"
    " template_version, detail, prev_hash, hash FROM audit";

/* Rebuild the hashed object from a row; NULL if the detail column is not JSON. */
static json_t *row_event(db_stmt *st, uf_error *err)
{
    const char *detail_text = db_col_text(st, 8);
    json_t *detail = uf_json_parse(detail_text, strlen(detail_text), NULL, err);
    if (!detail)
        return NULL;
    json_t *ev = event_object(db_col_int(st, 0), db_col_int(st, 1), db_col_text(st, 2),
                              db_col_is_null(st, 3) ? NULL : db_col_text(st, 3),
                              db_col_text(st, 4), db_col_text(st, 5), db_col_text(st, 6),
                              db_col_is_null(st, 7) ? 0 : db_col_int(st, 7), detail,
                              db_col_text(st, 9));
    json_decref(detail);
    return ev;
}

static void broken(audit_report *r, int64_t seq, const char *reason)
{
    r->first_broken = seq;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
}

bool audit_verify(db *d, audit_report *report, uf_error *err)
{
    memset(report, 0, sizeof *report);
    char sql[512];
    snprintf(sql, sizeof sql, "%s ORDER BY seq", select_all);
    db_stmt *st = db_query(d, sql, DB_NO_ARGS, err);
    if (!st)
        return uf_error_prefix(err, "audit verify");
    char expected_prev[UF_HASH_MAX_HEX] = AUDIT_GENESIS;
    int64_t expected_seq = 1;
    int rc;
    while ((rc = db_step(st, err)) == 1 && !report->first_broken) {
        int64_t seq = db_col_int(st, 0);
        report->records++;
        if (seq != expected_seq) {
            char why[96];
            snprintf(why, sizeof why, "a record is missing before it (expected seq %lld)",
                     (long long)expected_seq);
            broken(report, seq, why);
            break;
        }
        if (strcmp(db_col_text(st, 9), expected_prev) != 0) {
            broken(report, seq, "prev_hash does not match the hash of the record before");
            break;
        }
        uf_error local;
        json_t *ev = row_event(st, &local);
        char hash[UF_HASH_MAX_HEX];
        if (!ev || !hash_event(ev, hash, &local)) {
            json_decref(ev);
            char why[UF_ERROR_MSG_MAX + 32];
            snprintf(why, sizeof why, "detail is unreadable: %s", local.msg);
            broken(report, seq, why);
            break;
        }
        json_decref(ev);
        if (strcmp(hash, db_col_text(st, 10)) != 0) {
            broken(report, seq, "its content does not match its hash");
            break;
        }
        memcpy(expected_prev, hash, sizeof expected_prev);
        expected_seq++;
    }
    db_finalize(st);
    if (rc < 0)
        return uf_error_prefix(err, "audit verify");
    return true;
}

json_t *audit_list_object(db *d, const char *object_kind, const char *object_id, uf_error *err)
{
    char sql[512];
    snprintf(sql, sizeof sql, "%s WHERE object_kind = $1 AND object_id = $2 ORDER BY seq",
             select_all);
    db_stmt *st = db_query(d, sql, DB_ARGS(db_text(object_kind), db_text(object_id)), err);
    if (!st)
        return NULL;
    json_t *list = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        json_t *ev = row_event(st, err);
        if (!ev)
            break;
        json_object_set_new(ev, "hash", json_string(db_col_text(st, 10)));
        json_array_append_new(list, ev);
    }
    db_finalize(st);
    if (rc != 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}
