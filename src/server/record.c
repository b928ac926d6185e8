/*
 * record.c - change records in the store (see record.h).
 */
#include "server/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"

static void copy_name(char *dst, const char *src)
{
    snprintf(dst, RECORD_NAME_MAX, "%s", src ? src : "");
}

void record_clear(wf_record *r)
{
    json_decref(r->fields);
    memset(r, 0, sizeof *r);
}

bool record_load(db *d, int64_t id, wf_record *r, uf_error *err)
{
    memset(r, 0, sizeof *r);
    db_stmt *st = db_query(d,
                           "SELECT id, template_id, template_version, record_type, state, revision,"
                           " fields, customer, product, assignee, created_by, created_at, updated_at"
                           " FROM records WHERE id = $1",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc != 1) {
        db_finalize(st);
        return rc == 0 ? uf_error_set(err, UF_E_NOT_FOUND, "no record %lld", (long long)id) : false;
    }
    r->id = db_col_int(st, 0);
    copy_name(r->template_id, db_col_text(st, 1));
    r->template_version = db_col_int(st, 2);
    copy_name(r->type, db_col_text(st, 3));
    copy_name(r->state, db_col_text(st, 4));
    r->revision = db_col_int(st, 5);
    const char *fields = db_col_text(st, 6);
    uf_json_limits lim = uf_json_default_limits();
    lim.max_bytes = 16u * 1024 * 1024;
    r->fields = uf_json_parse(fields, strlen(fields), &lim, err);
    copy_name(r->customer, db_col_text(st, 7));
    copy_name(r->product, db_col_text(st, 8));
    copy_name(r->assignee, db_col_text(st, 9));
    copy_name(r->created_by, db_col_text(st, 10));
    r->created_at = db_col_int(st, 11);
    r->updated_at = db_col_int(st, 12);
    db_finalize(st);
    if (!r->fields)
        return uf_error_prefix(err, "record %lld: stored fields", (long long)id);
    return true;
}

static char *fields_text(const wf_record *r)
{
    return json_dumps(r->fields, JSON_COMPACT | JSON_SORT_KEYS);
}

static db_value opt_text(const char *s) { return s[0] ? db_text(s) : db_null(); }

bool record_insert(db *d, wf_record *r, uf_error *err)
{
    char *fields = fields_text(r);
    if (!fields)
        return uf_error_set(err, UF_E_NOMEM, "serialise record fields");
    int64_t now = (int64_t)time(NULL), id = 0;
    r->revision = 1;
    bool ok = db_query_int(d,
                           "INSERT INTO records (template_id, template_version, record_type, state,"
                           " revision, fields, customer, product, assignee, created_by, created_at,"
                           " updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $10)"
                           " RETURNING id",
                           DB_ARGS(db_text(r->template_id), db_int(r->template_version),
                                   db_text(r->type), db_text(r->state), db_text(fields),
                                   opt_text(r->customer), opt_text(r->product),
                                   opt_text(r->assignee), db_text(r->created_by), db_int(now)),
                           &id, NULL, err);
    free(fields);
    if (!ok)
        return uf_error_prefix(err, "insert record");
    r->id = id;
    r->created_at = r->updated_at = now;
    return true;
}

bool record_save(db *d, wf_record *r, uf_error *err)
{
    char *fields = fields_text(r);
    if (!fields)
        return uf_error_set(err, UF_E_NOMEM, "serialise record fields");
    int64_t now = (int64_t)time(NULL), changes = 0;
    bool ok = db_exec_changes(d,
                              "UPDATE records SET state = $3, revision = revision + 1, fields = $4,"
                              " customer = $5, product = $6, assignee = $7, updated_at = $8"
                              " WHERE id = $1 AND revision = $2",
                              DB_ARGS(db_int(r->id), db_int(r->revision), db_text(r->state),
                                      db_text(fields), opt_text(r->customer), opt_text(r->product),
                                      opt_text(r->assignee), db_int(now)),
                              &changes, err);
    free(fields);
    if (!ok)
        return uf_error_prefix(err, "save record %lld", (long long)r->id);
    if (changes == 0)
        return uf_error_set(err, UF_E_CONFLICT,
                            "record %lld was changed by someone else (revision %lld is stale); "
                            "reload it and try again",
                            (long long)r->id, (long long)r->revision);
    r->revision++;
    r->updated_at = now;
    return true;
}

bool record_write_created(db *d, const wf_record *r, uf_error *err)
{
    char *fields = fields_text(r);
    if (!fields)
        return uf_error_set(err, UF_E_NOMEM, "serialise record fields");
    bool ok = db_exec(d,
                      "UPDATE records SET state = $2, fields = $3, customer = $4, product = $5,"
                      " assignee = $6 WHERE id = $1",
                      DB_ARGS(db_int(r->id), db_text(r->state), db_text(fields),
                              opt_text(r->customer), opt_text(r->product), opt_text(r->assignee)),
                      err);
    free(fields);
    return ok;
}

bool record_link(db *d, int64_t from_id, const char *link, int64_t to_id, uf_error *err)
{
    return db_exec(d,
                   "INSERT INTO record_links (from_id, link, to_id) VALUES ($1, $2, $3)"
                   " ON CONFLICT DO NOTHING",
                   DB_ARGS(db_int(from_id), db_text(link), db_int(to_id)), err);
}

json_t *record_linked(db *d, int64_t id, const char *link, uf_error *err)
{
    db_stmt *st = db_query(d, "SELECT to_id FROM record_links WHERE from_id = $1 AND link = $2"
                              " ORDER BY to_id",
                           DB_ARGS(db_int(id), db_text(link)), err);
    if (!st)
        return NULL;
    json_t *ids = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1)
        json_array_append_new(ids, json_integer(db_col_int(st, 0)));
    db_finalize(st);
    if (rc < 0) {
        json_decref(ids);
        return NULL;
    }
    return ids;
}

json_t *record_links_json(db *d, int64_t id, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT link, to_id, 'to' FROM record_links WHERE from_id = $1"
                           " UNION ALL SELECT link, from_id, 'from' FROM record_links WHERE to_id = $1"
                           " ORDER BY 3 DESC, 2",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return NULL;
    json_t *out = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1)
        json_array_append_new(out, json_pack("{s:s, s:I}", "link", db_col_text(st, 0),
                                             db_col_text(st, 2), (json_int_t)db_col_int(st, 1)));
    db_finalize(st);
    if (rc < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

bool record_add_history(db *d, const wf_record *r, int64_t audit_seq, const char *transition,
                        const char *from_state, const char *actor, const char *on_behalf_of,
                        int64_t at_ms, uf_error *err)
{
    char *fields = fields_text(r);
    if (!fields)
        return uf_error_set(err, UF_E_NOMEM, "serialise record fields");
    bool ok = db_exec(d,
                      "INSERT INTO record_history (record_id, audit_seq, transition, from_state,"
                      " to_state, actor, on_behalf_of, at_ms, fields)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                      DB_ARGS(db_int(r->id), db_int(audit_seq), db_text(transition),
                              db_text(from_state), db_text(r->state), db_text(actor),
                              db_text(on_behalf_of), db_int(at_ms), db_text(fields)),
                      err);
    free(fields);
    return ok;
}

bool record_actor_fired(db *d, int64_t id, const char *who, const json_t *transitions,
                        bool *fired, uf_error *err)
{
    *fired = false;
    size_t i;
    json_t *t;
    json_array_foreach(transitions, i, t) {
        bool found;
        int64_t one;
        if (!db_query_int(d,
                          "SELECT 1 FROM record_history WHERE record_id = $1 AND transition = $2"
                          " AND (actor = $3 OR on_behalf_of = $3) LIMIT 1",
                          DB_ARGS(db_int(id), db_text(json_string_value(t)), db_text(who)), &one,
                          &found, err))
            return false;
        if (found) {
            *fired = true;
            return true;
        }
    }
    return true;
}

json_t *record_history_json(db *d, int64_t id, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT transition, from_state, to_state, actor, on_behalf_of, at_ms,"
                           " fields, audit_seq FROM record_history WHERE record_id = $1 ORDER BY id",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return NULL;
    json_t *out = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        const char *ftext = db_col_text(st, 6);
        uf_json_limits lim = uf_json_default_limits();
        lim.max_bytes = 16u * 1024 * 1024;
        json_t *fields = uf_json_parse(ftext, strlen(ftext), &lim, err);
        if (!fields) {
            rc = -1;
            break;
        }
        json_array_append_new(
            out, json_pack("{s:s, s:o, s:s, s:s, s:o, s:I, s:o, s:I}", "transition",
                           db_col_text(st, 0), "from",
                           db_col_is_null(st, 1) ? json_null() : json_string(db_col_text(st, 1)),
                           "to", db_col_text(st, 2), "actor", db_col_text(st, 3), "on_behalf_of",
                           db_col_is_null(st, 4) ? json_null() : json_string(db_col_text(st, 4)),
                           "at_ms", (json_int_t)db_col_int(st, 5), "fields", fields, "audit_seq",
                           (json_int_t)db_col_int(st, 7)));
    }
    db_finalize(st);
    if (rc < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

bool record_count_attachments(db *d, int64_t id, const char *kind, int64_t *n, uf_error *err)
{
    return db_query_int(d, "SELECT COUNT(*) FROM attachments WHERE record_id = $1 AND kind = $2",
                        DB_ARGS(db_int(id), db_text(kind)), n, NULL, err);
}

bool record_claim_unique(db *d, const wf_record *r, const char *field, const char *value,
                         uf_error *err)
{
    bool found;
    int64_t owner;
    if (!db_query_int(d,
                      "SELECT record_id FROM record_unique WHERE template_id = $1 AND"
                      " record_type = $2 AND field = $3 AND value = $4",
                      DB_ARGS(db_text(r->template_id), db_text(r->type), db_text(field),
                              db_text(value)),
                      &owner, &found, err))
        return false;
    if (found && owner != r->id)
        return uf_error_set(err, UF_E_CONFLICT, "%s \"%s\" is already used by record %lld", field,
                            value, (long long)owner);
    if (found)
        return true;
    /* a record changing its value gives up the old one */
    return db_exec(d, "DELETE FROM record_unique WHERE record_id = $1 AND field = $2",
                   DB_ARGS(db_int(r->id), db_text(field)), err) &&
           db_exec(d,
                   "INSERT INTO record_unique (template_id, record_type, field, value, record_id)"
                   " VALUES ($1, $2, $3, $4, $5)",
                   DB_ARGS(db_text(r->template_id), db_text(r->type), db_text(field),
                           db_text(value), db_int(r->id)),
                   err);
}
