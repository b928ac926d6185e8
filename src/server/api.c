/*
 * api.c - dispatch for upflowd's HTTP API: match the route, take a database connection,
 * resolve the bearer token, enforce the route's access level, run the handler.
 */
#include "server/api.h"
#include "server/tuf_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t append(route *out, size_t at, size_t cap, const route *r, size_t n)
{
    for (size_t i = 0; i < n && at < cap; i++)
        out[at++] = r[i];
    return at;
}

size_t api_collect_routes(route *out, size_t cap)
{
    size_t n = 0;
    n = append(out, n, cap, api_system_routes, api_system_routes_n);
    n = append(out, n, cap, api_auth_routes, api_auth_routes_n);
    n = append(out, n, cap, api_templates_routes, api_templates_routes_n);
    n = append(out, n, cap, api_records_routes, api_records_routes_n);
    n = append(out, n, cap, api_attachments_routes, api_attachments_routes_n);
    n = append(out, n, cap, api_notifications_routes, api_notifications_routes_n);
    n = append(out, n, cap, api_tuf_routes, api_tuf_routes_n);
    n = append(out, n, cap, api_devices_routes, api_devices_routes_n);
    n = append(out, n, cap, api_device_routes, api_device_routes_n);
    n = append(out, n, cap, api_rollouts_routes, api_rollouts_routes_n);
    n = append(out, n, cap, api_ddi_routes, api_ddi_routes_n);
    return n;
}

uint64_t api_upload_limit(void *app, const char *method, const char *path)
{
    const upflowd *srv = app;
    if (api_attachments_is_upload(method, path))
        return srv->cfg.max_upload;
    if (api_tuf_is_upload(method, path))
        return srv->cfg.max_target_size;
    return 0;
}

static const char *bearer_token(const http_request *req)
{
    const char *h = http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

void api_fail(api_call *c, const uf_error *err) { http_set_error(c->resp, err); }

bool api_release_manager(api_call *c)
{
    /* release_mgr is the same job's name in the software-modification template */
    if (auth_is_admin(c->who) || auth_has_role(c->who, "release_manager", NULL, NULL) ||
        auth_has_role(c->who, "release_mgr", NULL, NULL))
        return true;
    http_set_errorf(c->resp, UF_E_FORBIDDEN, "%s %s needs the release_manager role",
                    c->req->method, c->req->route);
    return false;
}

const char *api_tenant_query(api_call *c)
{
    const char *t = http_query(c->req, "tenant");
    uf_error err;
    if (!t)
        t = "default";
    if (!tuf_tenant_valid(t, &err)) {
        api_fail(c, &err);
        return NULL;
    }
    return t;
}

void api_respond(api_call *c, int status, json_t *body, const uf_error *err)
{
    if (body)
        http_set_json(c->resp, status, body);
    else
        api_fail(c, err);
}

bool api_begin(api_call *c)
{
    uf_error err;
    if (db_begin(c->db, &err))
        return true;
    api_fail(c, &err);
    return false;
}

void api_respond_rows(api_call *c, const char *sql, const db_value *args, size_t n,
                      api_row_fn row)
{
    uf_error err;
    db_stmt *st = db_query(c->db, sql, args, n, &err);
    if (!st) {
        api_fail(c, &err);
        return;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(st, &err)) == 1) {
        if (!row(c, st, items, &err)) {
            rc = -1;
            break;
        }
    }
    db_finalize(st);
    if (rc < 0) {
        json_decref(items);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, json_pack("{s:o}", "items", items));
}

bool api_param_id(api_call *c, size_t i, int64_t *out)
{
    const char *s = i < c->req->n_params ? c->req->params[i] : "";
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no such resource: %s", c->req->path);
        return false;
    }
    *out = v;
    return true;
}

void api_dispatch(void *app, http_request *req, http_response *resp)
{
    upflowd *srv = app;
    const route *r = router_match(srv->routes, srv->n_routes, req, resp);
    if (!r)
        return;
    db *d = db_pool_acquire(srv->pool);
    auth_identity who;
    api_call call = {.srv = srv, .db = d, .who = NULL, .req = req, .resp = resp};
    const char *token = bearer_token(req);
    uf_error err;
    device_identity dev;
    char tenant[64];
    if (r->access == ROUTE_DDI) {
        if (api_ddi_authenticate(&call, &dev))
            r->handler(&call);
        goto done;
    }
    if (r->access == ROUTE_DEVICE || r->access == ROUTE_GATEWAY) {
        bool ok = token && (r->access == ROUTE_DEVICE ? device_authenticate(d, token, &dev, &err)
                                                      : device_gateway_tenant(d, token, tenant,
                                                                              &err));
        if (!ok) {
            if (!token)
                uf_error_set(&err, UF_E_UNAUTHORIZED, "send Authorization: Bearer <%s token>",
                             r->access == ROUTE_DEVICE ? "device" : "gateway");
            http_set_error(resp, &err);
            http_add_header(resp, "WWW-Authenticate", "Bearer");
            goto done;
        }
        call.device = r->access == ROUTE_DEVICE ? &dev : NULL;
        call.gateway_tenant = r->access == ROUTE_GATEWAY ? tenant : NULL;
        snprintf(req->actor, sizeof req->actor, "device:%s",
                 r->access == ROUTE_DEVICE ? dev.name : "gateway");
        r->handler(&call);
        goto done;
    }
    if (token || r->access != ROUTE_PUBLIC) {
        if (!token) {
            http_set_errorf(resp, UF_E_UNAUTHORIZED, "sign in first: send Authorization: Bearer <token>");
            http_add_header(resp, "WWW-Authenticate", "Bearer");
            goto done;
        }
        if (!auth_authenticate(d, token, &who, &err)) {
            http_set_error(resp, &err);
            if (err.code == UF_E_UNAUTHORIZED)
                http_add_header(resp, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
            goto done;
        }
        call.who = &who;
        snprintf(req->actor, sizeof req->actor, "%s", who.username);
    }
    if (r->access == ROUTE_ADMIN && !auth_is_admin(call.who)) {
        http_set_errorf(resp, UF_E_FORBIDDEN, "%s %s needs the admin role", req->method, r->pattern);
        goto done;
    }
    r->handler(&call);
done:
    db_pool_release(srv->pool, d);
}
