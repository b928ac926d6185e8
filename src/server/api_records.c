/*
 * api_records.c - change records over HTTP: templates, create, list, read, edit, transitions,
 * approvals, comments, history and audit of one record.
 *
 * Every write runs in one transaction; a refused transition answers 409 guard_failed with
 * the list of every unmet guard; a stale revision answers 409 conflict. A record the caller
 * may not see answers 404, so its existence is not revealed either.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "server/api.h"
#include "server/audit.h"
#include "server/notify.h"
#include "server/record.h"
#include "server/sla.h"
#include "server/workflow.h"

/* Recompute the record's SLA clocks from its audit trail, inside the write transaction. */
static bool sla_refresh_record(upflowd *srv, db *d, int64_t id, uf_error *err)
{
    return server_sla_refresh(srv, d, id, err);
}

static wf_actor actor_of(const api_call *c)
{
    return (wf_actor){.who = c->who, .name = c->who->username};
}

/* Load a record the caller may see; on failure the 404 is set. */
static bool load_visible(api_call *c, int64_t id, wf_record *r)
{
    uf_error err;
    if (!record_load(c->db, id, r, &err)) {
        api_fail(c, &err);
        return false;
    }
    if (!wf_can_see(&c->srv->registry, c->who, r)) {
        record_clear(r);
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no record %lld", (long long)id);
        return false;
    }
    return true;
}

static void respond_record(api_call *c, int64_t id, int status)
{
    wf_record r;
    if (!load_visible(c, id, &r))
        return;
    uf_error err;
    json_t *out = wf_record_json(c->db, &c->srv->registry, c->who, &r, &err);
    record_clear(&r);
    if (!out) {
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, status, out);
}

/* After a write: commit and answer with the record, or roll back and answer the error (with
 * the unmet guards for UF_E_GUARD). */
static void finish_write(api_call *c, bool ok, uf_error *err, json_t *failures, int64_t id,
                         int status)
{
    if (ok && sla_refresh_record(c->srv, c->db, id, err) && db_commit(c->db, err)) {
        json_decref(failures);
        respond_record(c, id, status);
        return;
    }
    db_rollback(c->db);
    if (err->code == UF_E_GUARD && failures && json_array_size(failures))
        http_set_error_details(c->resp, err, json_incref(failures));
    else
        api_fail(c, err);
    json_decref(failures);
}

/* ---- records ------------------------------------------------------------------------- */

static void post_record(api_call *c)
{
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"template", "type", "transition", "fields", "links",
                                          "comment", "comment_customer_visible", NULL};
    const char *tpl, *type, *transition = NULL, *comment = NULL;
    json_t *fields = NULL, *links = NULL;
    bool visible = false;
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_string(body, "", "template", &tpl, &err) ||
        !uf_json_get_string(body, "", "type", &type, &err) ||
        !uf_json_opt_string(body, "", "transition", &transition, &err) ||
        !uf_json_opt_object(body, "", "fields", &fields, &err) ||
        !uf_json_opt_array(body, "", "links", &links, &err) ||
        !uf_json_opt_string(body, "", "comment", &comment, &err) ||
        !uf_json_opt_bool(body, "", "comment_customer_visible", &visible, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    wf_actor a = actor_of(c);
    wf_change ch = {.transition = transition, .revision = -1, .fields = fields,
                    .comment = comment, .comment_customer_visible = visible};
    int64_t id = 0;
    json_t *failures = NULL;
    bool ok = wf_create_linked(c->db, &c->srv->registry, &a, tpl, type, &ch, links, &id,
                               &failures, &err);
    json_decref(body);
    finish_write(c, ok, &err, failures, id, 201);
}

/* GET /api/v1/records?state=&assignee=&template=&type=&customer=&sla=&cursor=&limit=
 * Newest first. The cursor is the id to continue below. Records the caller may not see are
 * skipped (the scan reads at most 20 pages' worth per call, so a list never runs away). */
static void get_records(api_call *c)
{
    const char *state = http_query(c->req, "state"), *assignee = http_query(c->req, "assignee");
    const char *tpl = http_query(c->req, "template"), *type = http_query(c->req, "type");
    const char *customer = http_query(c->req, "customer"), *sla = http_query(c->req, "sla");
    const char *cursor_s = http_query(c->req, "cursor"), *limit_s = http_query(c->req, "limit");
    long long limit = limit_s ? strtoll(limit_s, NULL, 10) : 50;
    long long cursor = cursor_s ? strtoll(cursor_s, NULL, 10) : 0;
    if (limit < 1 || limit > 500) {
        http_set_errorf(c->resp, UF_E_BAD_FIELD, "limit: 1 to 500");
        return;
    }
    if (sla && !sla_filter_valid(sla)) {
        http_set_errorf(c->resp, UF_E_BAD_FIELD, "sla: expected at_risk, breached or overdue");
        return;
    }
    if (c->who->customer[0])
        customer = c->who->customer; /* customer-side users see their own customer only */
    /* Only the filters given become conditions (each a bound parameter), so SQLite can walk
     * the matching index backwards from the cursor instead of scanning the table. */
    char sql[1024] = "SELECT id FROM records WHERE id < $1 AND " SLA_FILTER_SQL("$2", "$3");
    db_value args[9];
    size_t n = 0;
    args[n++] = db_int(cursor > 0 ? cursor : INT64_MAX);
    args[n++] = db_text(sla); /* NULL: no SLA filter (a residual condition, not an index) */
    args[n++] = db_int((int64_t)time(NULL) * 1000);
    static const char *const columns[] = {"state", "assignee", "template_id", "record_type", "customer"};
    const char *values[] = {state, assignee, tpl, type, customer};
    for (size_t i = 0; i < 5; i++) {
        if (!values[i])
            continue;
        args[n++] = db_text(values[i]);
        size_t used = strlen(sql);
        snprintf(sql + used, sizeof sql - used, " AND %s = $%zu", columns[i], n);
    }
    args[n++] = db_int(limit * 20);
    size_t used = strlen(sql);
    snprintf(sql + used, sizeof sql - used, " ORDER BY id DESC LIMIT $%zu", n);
    uf_error err;
    db_stmt *st = db_query(c->db, sql, args, n, &err);
    if (!st) {
        api_fail(c, &err);
        return;
    }
    json_t *items = json_array();
    int64_t last = 0;
    long long scanned = 0;
    int rc;
    bool more = false;
    while ((rc = db_step(st, &err)) == 1) {
        if ((long long)json_array_size(items) == limit) {
            more = true;
            break;
        }
        wf_record r;
        last = db_col_int(st, 0);
        scanned++;
        if (!record_load(c->db, last, &r, &err)) {
            rc = -1;
            break;
        }
        if (wf_can_see(&c->srv->registry, c->who, &r)) {
            json_t *v = wf_record_json(c->db, &c->srv->registry, c->who, &r, &err);
            if (v) {
                json_object_del(v, "transitions");
                json_array_append_new(items, v);
            }
        }
        record_clear(&r);
    }
    db_finalize(st);
    if (rc < 0) {
        json_decref(items);
        api_fail(c, &err);
        return;
    }
    json_t *out = json_pack("{s:o}", "items", items);
    if (more || scanned == limit * 20)
        json_object_set_new(out, "next_cursor", json_integer(last));
    http_set_json(c->resp, 200, out);
}

static void get_record(api_call *c)
{
    int64_t id;
    if (api_param_id(c, 0, &id))
        respond_record(c, id, 200);
}

static void patch_record(api_call *c)
{
    int64_t id, revision;
    if (!api_param_id(c, 0, &id))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"revision", "fields", NULL};
    json_t *fields;
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_int(body, "", "revision", &revision, &err) ||
        !uf_json_get_object(body, "", "fields", &fields, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    wf_actor a = actor_of(c);
    bool ok = wf_edit(c->db, &c->srv->registry, &a, id, revision, fields, &err);
    json_decref(body);
    finish_write(c, ok, &err, NULL, id, 200);
}

static void post_transition(api_call *c)
{
    int64_t id, revision = -1;
    if (!api_param_id(c, 0, &id))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"transition", "revision", "fields", "comment",
                                          "comment_customer_visible", NULL};
    const char *transition, *comment = NULL;
    json_t *fields = NULL;
    bool visible = false;
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_string(body, "", "transition", &transition, &err) ||
        !uf_json_get_int(body, "", "revision", &revision, &err) ||
        !uf_json_opt_object(body, "", "fields", &fields, &err) ||
        !uf_json_opt_string(body, "", "comment", &comment, &err) ||
        !uf_json_opt_bool(body, "", "comment_customer_visible", &visible, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    wf_actor a = actor_of(c);
    wf_change ch = {.transition = transition, .revision = revision, .fields = fields,
                    .comment = comment, .comment_customer_visible = visible};
    json_t *failures = NULL;
    bool ok = wf_fire(c->db, &c->srv->registry, &a, id, &ch, &failures, &err);
    json_decref(body);
    finish_write(c, ok, &err, failures, id, 200);
}

static void post_approval(api_call *c)
{
    int64_t id;
    if (!api_param_id(c, 0, &id))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"transition", "decision", "comment", "on_behalf_of",
                                          "evidence", NULL};
    const char *decision;
    wf_decision dec = {0};
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_string(body, "", "transition", &dec.transition, &err) ||
        !uf_json_get_string(body, "", "decision", &decision, &err) ||
        !uf_json_opt_string(body, "", "comment", &dec.comment, &err) ||
        !uf_json_opt_string(body, "", "on_behalf_of", &dec.on_behalf_of, &err) ||
        !uf_json_opt_int(body, "", "evidence", &dec.evidence, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0) {
        json_decref(body);
        http_set_errorf(c->resp, UF_E_BAD_FIELD, "decision: expected \"approve\" or \"reject\"");
        return;
    }
    dec.approve = decision[0] == 'a';
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    wf_actor a = actor_of(c);
    json_t *result = NULL;
    bool ok = wf_decide(c->db, &c->srv->registry, &a, id, &dec, &result, &err);
    json_decref(body);
    if (ok && sla_refresh_record(c->srv, c->db, id, &err) && db_commit(c->db, &err)) {
        wf_record r;
        if (record_load(c->db, id, &r, &err)) {
            json_object_set_new(result, "record",
                                wf_record_json(c->db, &c->srv->registry, c->who, &r, &err));
            record_clear(&r);
        }
        http_set_json(c->resp, 201, result);
        return;
    }
    db_rollback(c->db);
    json_decref(result);
    api_fail(c, &err);
}

/* A list of rows of one record, after the visibility check. */
static void list_of_record(api_call *c, const char *sql, api_row_fn row)
{
    int64_t id;
    wf_record r;
    if (!api_param_id(c, 0, &id) || !load_visible(c, id, &r))
        return;
    record_clear(&r);
    api_respond_rows(c, sql, DB_ARGS(db_int(id)), row);
}

static bool approval_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    (void)c;
    (void)err;
    json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I}", "id",
                            (json_int_t)db_col_int(st, 0), "transition", db_col_text(st, 1),
                            "approver", db_col_text(st, 2), "recorded_by", db_col_text(st, 3),
                            "decision", db_col_text(st, 4), "comment", db_col_text(st, 5),
                            "binding", db_col_text(st, 6), "evidence",
                            db_col_is_null(st, 7) ? json_null() : json_integer(db_col_int(st, 7)),
                            "created_at", (json_int_t)db_col_int(st, 8));
    return json_array_append_new(items, row) == 0;
}

static void get_approvals(api_call *c)
{
    list_of_record(c,
                   "SELECT id, transition, approver, recorded_by, decision, comment, binding,"
                   " evidence, created_at FROM approvals WHERE record_id = $1 ORDER BY id",
                   approval_row);
}

static bool comment_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    (void)err;
    bool visible = db_col_int(st, 3) != 0;
    if (c->who->customer[0] && !visible)
        return true; /* internal comments never reach customer-side users */
    return json_array_append_new(
               items, json_pack("{s:I, s:s, s:s, s:b, s:I}", "id", (json_int_t)db_col_int(st, 0),
                                "author", db_col_text(st, 1), "body", db_col_text(st, 2),
                                "customer_visible", visible, "created_at",
                                (json_int_t)db_col_int(st, 4))) == 0;
}

static void get_comments(api_call *c)
{
    list_of_record(c,
                   "SELECT id, author, body, customer_visible, created_at FROM comments"
                   " WHERE record_id = $1 ORDER BY id",
                   comment_row);
}

static void post_comment(api_call *c)
{
    int64_t id;
    wf_record r;
    if (!api_param_id(c, 0, &id))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"body", "customer_visible", NULL};
    const char *text;
    bool visible = false;
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_string(body, "", "body", &text, &err) ||
        !uf_json_opt_bool(body, "", "customer_visible", &visible, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (c->who->customer[0])
        visible = true; /* what a customer writes, the customer sees */
    if (!*text || !load_visible(c, id, &r) || !api_begin(c)) {
        if (!*text)
            http_set_errorf(c->resp, UF_E_BAD_FIELD, "body: empty comment");
        json_decref(body);
        return;
    }
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    int64_t cid = 0;
    json_t *detail = json_pack("{s:s, s:b}", "body", text, "customer_visible", visible);
    audit_entry e = {.actor = c->who->username, .action = "record.comment", .object_kind = "record",
                     .object_id = idtext, .template_version = r.template_version, .detail = detail};
    bool ok = db_query_int(c->db,
                           "INSERT INTO comments (record_id, author, body, customer_visible,"
                           " created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                           DB_ARGS(db_int(id), db_text(c->who->username), db_text(text),
                                   db_int(visible), db_int((int64_t)time(NULL))),
                           &cid, NULL, &err) &&
              audit_append(c->db, &e, NULL, &err);
    if (ok) {
        json_t *ndetail = json_pack("{s:I, s:b}", "comment_id", (json_int_t)cid,
                                    "customer_visible", visible);
        ok = notify_event(c->db, &c->srv->registry, &r, NOTIFY_COMMENT, NULL, c->who->username,
                          ndetail, &err) &&
             db_commit(c->db, &err);
        json_decref(ndetail);
    }
    json_decref(detail);
    record_clear(&r);
    if (!ok) {
        db_rollback(c->db);
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 201, json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)cid, "author",
                                          c->who->username, "body", text, "customer_visible", visible));
    json_decref(body);
}

/* Remove from a field object what the caller may not see. */
static void filter_fields(const wf_template *t, const json_t *rtype, const auth_identity *who,
                          const wf_record *r, json_t *fields)
{
    const char *name;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(fields, tmp, name, v) {
        if (!wf_field_visible(t, rtype, who, r, name))
            json_object_del(fields, name);
    }
}

static void get_history(api_call *c)
{
    int64_t id;
    wf_record r;
    if (!api_param_id(c, 0, &id) || !load_visible(c, id, &r))
        return;
    uf_error err;
    json_t *items = record_history_json(c->db, id, &err);
    if (!items) {
        record_clear(&r);
        api_fail(c, &err);
        return;
    }
    /* each snapshot shows only the fields the caller may see (none for customer-side users:
     * they see states and times) */
    const wf_template *t = wf_registry_get(&c->srv->registry, r.template_id, r.template_version);
    const json_t *rtype = t ? wf_record_type(t, r.type) : NULL;
    size_t i;
    json_t *h;
    json_array_foreach(items, i, h) {
        if (c->who->customer[0] || !rtype) {
            json_object_del(h, "fields");
            continue;
        }
        filter_fields(t, rtype, c->who, &r, json_object_get(h, "fields"));
    }
    record_clear(&r);
    http_set_json(c->resp, 200, json_pack("{s:o}", "items", items));
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The stored clocks (kept current at every change); with ?recompute=true also the clocks
 * folded afresh from the audit log, and whether the two agree. */
static void get_record_sla(api_call *c)
{
    int64_t id;
    wf_record r;
    if (!api_param_id(c, 0, &id) || !load_visible(c, id, &r))
        return;
    uf_error err;
    int64_t now = now_ms();
    json_t *stored = sla_stored(c->db, id, now, &err);
    json_t *out = stored ? json_pack("{s:o}", "items", stored) : NULL;
    const char *recompute = http_query(c->req, "recompute");
    if (out && recompute && strcmp(recompute, "true") == 0) {
        const wf_template *t = wf_registry_get(&c->srv->registry, r.template_id, r.template_version);
        json_t *events = NULL, *fresh = NULL;
        if (t && sla_events_from_audit(c->db, id, &events, &err))
            fresh = sla_compute(t, r.type, events, &c->srv->calendars, now, &err);
        json_decref(events);
        if (!fresh) {
            json_decref(out);
            out = NULL;
        } else {
            /* the stored rows also say when they were computed; the clocks are what must agree */
            json_t *cmp = json_deep_copy(stored);
            size_t i;
            json_t *clock;
            json_array_foreach(cmp, i, clock) json_object_del(clock, "computed_at_ms");
            json_object_set_new(out, "consistent", json_boolean(json_equal(fresh, cmp)));
            json_decref(cmp);
            json_object_set_new(out, "recomputed", fresh);
        }
    }
    record_clear(&r);
    if (!out) {
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, out);
}

static void get_record_audit(api_call *c)
{
    int64_t id;
    wf_record r;
    if (!api_param_id(c, 0, &id) || !load_visible(c, id, &r))
        return;
    if (c->who->customer[0]) {
        record_clear(&r);
        http_set_errorf(c->resp, UF_E_FORBIDDEN, "the audit log is internal");
        return;
    }
    uf_error err;
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    json_t *items = audit_list_object(c->db, "record", idtext, &err);
    if (!items) {
        record_clear(&r);
        api_fail(c, &err);
        return;
    }
    /* field values the caller may not see are left out of the changes (the hash chain is
     * verified on the stored rows, not on this view) */
    const wf_template *t = wf_registry_get(&c->srv->registry, r.template_id, r.template_version);
    const json_t *rtype = t ? wf_record_type(t, r.type) : NULL;
    size_t i;
    json_t *ev;
    json_array_foreach(items, i, ev) {
        json_t *changes = json_object_get(json_object_get(ev, "detail"), "changes");
        if (rtype && changes)
            filter_fields(t, rtype, c->who, &r, changes);
    }
    record_clear(&r);
    http_set_json(c->resp, 200, json_pack("{s:o}", "items", items));
}

const route api_records_routes[] = {
    {"POST", "/api/v1/records", ROUTE_USER, post_record, "create a record (its create transition)"},
    {"GET", "/api/v1/records", ROUTE_USER, get_records, "list records with filters and a cursor"},
    {"GET", "/api/v1/records/{id}", ROUTE_USER, get_record, "one record as the caller may see it"},
    {"PATCH", "/api/v1/records/{id}", ROUTE_USER, patch_record, "change fields (revision-checked)"},
    {"POST", "/api/v1/records/{id}/transitions", ROUTE_USER, post_transition, "fire a transition"},
    {"GET", "/api/v1/records/{id}/approvals", ROUTE_USER, get_approvals, "approval decisions"},
    {"POST", "/api/v1/records/{id}/approvals", ROUTE_USER, post_approval, "approve or reject"},
    {"GET", "/api/v1/records/{id}/comments", ROUTE_USER, get_comments, "comments"},
    {"POST", "/api/v1/records/{id}/comments", ROUTE_USER, post_comment, "add a comment"},
    {"GET", "/api/v1/records/{id}/history", ROUTE_USER, get_history, "transitions so far"},
    {"GET", "/api/v1/records/{id}/audit", ROUTE_USER, get_record_audit, "audit records of the record"},
    {"GET", "/api/v1/records/{id}/sla", ROUTE_USER, get_record_sla, "SLA clocks of the record"},
};
const size_t api_records_routes_n = sizeof api_records_routes / sizeof api_records_routes[0];
