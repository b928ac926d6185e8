/*
 * api_system.c - the server's own routes: /healthz, /metrics, and the audit log's
 * verification and listing.
 */
#include <stdio.h>

#include "server/api.h"
#include "server/audit.h"
#include "server/schema.h"
#include "version.h"

static void get_healthz(api_call *c)
{
    uf_error err;
    int64_t one = 0;
    if (!db_query_int(c->db, "SELECT 1", DB_NO_ARGS, &one, NULL, &err) || one != 1) {
        uf_error_prefix(&err, "database");
        http_set_json(c->resp, 503,
                      json_pack("{s:s, s:s}", "status", "unavailable", "reason", err.msg));
        return;
    }
    http_set_json(c->resp, 200,
                  json_pack("{s:s, s:s, s:i}", "status", "ok", "version", UPFLOW_VERSION,
                            "schema", schema_latest()));
}

static void get_metrics(api_call *c)
{
    uf_buf out = UF_BUF_INIT;
    uf_error err;
    if (!metrics_render(&c->srv->metrics, &out, &err)) {
        uf_buf_free(&out);
        api_fail(c, &err);
        return;
    }
    http_set_text(c->resp, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    uf_buf_free(&out);
}

static void get_audit_verify(api_call *c)
{
    audit_report r;
    uf_error err;
    if (!audit_verify(c->db, &r, &err)) {
        api_fail(c, &err);
        return;
    }
    json_t *body = json_pack("{s:b, s:I}", "ok", r.first_broken == 0, "records",
                             (json_int_t)r.records);
    if (r.first_broken) {
        json_object_set_new(body, "first_broken", json_integer(r.first_broken));
        json_object_set_new(body, "reason", json_string(r.reason));
    }
    http_set_json(c->resp, 200, body);
}

static void get_audit(api_call *c)
{
    const char *kind = http_query(c->req, "object_kind");
    const char *id = http_query(c->req, "object_id");
    if (!kind || !id) {
        http_set_errorf(c->resp, UF_E_BAD_FIELD, "give object_kind and object_id");
        return;
    }
    uf_error err;
    json_t *list = audit_list_object(c->db, kind, id, &err);
    if (!list) {
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, json_pack("{s:o}", "items", list));
}

const route api_system_routes[] = {
    {"GET", "/healthz", ROUTE_PUBLIC, get_healthz, "liveness and database check"},
    {"GET", "/metrics", ROUTE_PUBLIC, get_metrics, "Prometheus metrics"},
    {"GET", "/api/v1/audit/verify", ROUTE_ADMIN, get_audit_verify, "recompute the audit hash chain"},
    {"GET", "/api/v1/audit", ROUTE_ADMIN, get_audit, "audit records of one object"},
};
const size_t api_system_routes_n = sizeof api_system_routes / sizeof api_system_routes[0];
