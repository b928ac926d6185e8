/*
 * api_devices.c - the device registry for operators (release managers and administrators):
 * enrolment, listing with filters (lib/filter.h), one device with its history, labels,
 * static groups, a tenant's gateway token, and the releases devices can be given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/filter.h"
#include "lib/json.h"
#include "server/api.h"
#include "server/tuf_repo.h"

static bool check_labels(const json_t *attributes, const json_t *tags, uf_error *err)
{
    const json_t *v;
    size_t i;
    if (attributes && !json_is_object(attributes))
        return uf_error_set(err, UF_E_BAD_FIELD, "attributes: expected an object");
    json_array_foreach(tags, i, v)
        if (!json_is_string(v))
            return uf_error_set(err, UF_E_BAD_FIELD, "tags[%zu]: expected a string", i);
    return true;
}

static void post_device(api_call *c)
{
    if (!api_release_manager(c))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const keys[] = {"tenant", "device_id", "attributes", "tags", NULL};
    const char *tenant = "default", *name;
    json_t *attributes = NULL, *tags = NULL;
    char token[UF_TOKEN_MAX];
    int64_t id;
    uf_error err;
    bool ok = uf_json_only_keys(body, "", keys, &err) &&
              uf_json_get_string(body, "", "device_id", &name, &err) &&
              uf_json_opt_string(body, "", "tenant", &tenant, &err) &&
              uf_json_opt_object(body, "", "attributes", &attributes, &err) &&
              uf_json_opt_array(body, "", "tags", &tags, &err) &&
              check_labels(attributes, tags, &err) && tuf_tenant_valid(tenant, &err);
    if (ok && !api_begin(c)) {
        json_decref(body);
        return;
    }
    if (ok) {
        ok = device_enrol(c->db, tenant, name, attributes, c->who->username, token, &id, &err) &&
             (!tags || device_set_labels(c->db, id, NULL, tags, c->who->username, &err)) &&
             db_commit(c->db, &err);
        if (!ok)
            db_rollback(c->db);
    }
    json_t *dev = ok ? device_json(c->db, id, false, &err) : NULL;
    json_decref(body);
    if (!dev) {
        api_fail(c, &err);
        return;
    }
    json_object_set_new(dev, "token", json_string(token));
    http_set_json(c->resp, 201, dev);
}

/* The device named in the path, in ?tenant=; 404 answered when absent. */
static bool path_device(api_call *c, int64_t *id)
{
    const char *tenant = api_tenant_query(c);
    uf_error err;
    if (!tenant)
        return false;
    if (!device_find(c->db, tenant, c->req->params[0], id, &err)) {
        api_fail(c, &err);
        return false;
    }
    if (*id == 0) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no device %s in %s", c->req->params[0], tenant);
        return false;
    }
    return true;
}

static void get_device(api_call *c)
{
    int64_t id;
    uf_error err;
    if (api_release_manager(c) && path_device(c, &id))
        api_respond(c, 200, device_json(c->db, id, true, &err), &err);
}

static void patch_device(api_call *c)
{
    int64_t id;
    if (!api_release_manager(c) || !path_device(c, &id))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const keys[] = {"attributes", "tags", NULL};
    json_t *attributes = NULL, *tags = NULL;
    uf_error err;
    bool ok = uf_json_only_keys(body, "", keys, &err) &&
              uf_json_opt_object(body, "", "attributes", &attributes, &err) &&
              uf_json_opt_array(body, "", "tags", &tags, &err) &&
              check_labels(attributes, tags, &err);
    if (ok && !api_begin(c)) {
        json_decref(body);
        return;
    }
    if (ok) {
        ok = device_set_labels(c->db, id, attributes, tags, c->who->username, &err) &&
             db_commit(c->db, &err);
        if (!ok)
            db_rollback(c->db);
    }
    json_decref(body);
    if (!ok) {
        api_fail(c, &err);
        return;
    }
    api_respond(c, 200, device_json(c->db, id, false, &err), &err);
}

static void list_devices(api_call *c)
{
    const char *tenant;
    if (!api_release_manager(c) || !(tenant = api_tenant_query(c)))
        return;
    const char *text = http_query(c->req, "filter"), *group = http_query(c->req, "group");
    uf_error err;
    uf_filter *f = text && *text ? uf_filter_parse(text, &err) : NULL;
    if (text && *text && !f) {
        api_fail(c, &err);
        return;
    }
    db_stmt *st = db_query(c->db,
                           "SELECT d.id, d." DEVICE_FILTER_COLUMNS ", d.state, d.last_seen"
                           " FROM devices d WHERE d.tenant = $1 AND ($2 = '' OR d.id IN"
                           " (SELECT device FROM device_groups WHERE tenant = $1 AND name = $2))"
                           " ORDER BY d.name",
                           DB_ARGS(db_text(tenant), db_text(group ? group : "")), &err);
    json_t *items = json_array();
    int rc = st ? 0 : -1;
    while (st && (rc = db_step(st, &err)) == 1) {
        json_t *attrs = device_filter_attrs(st, 1);
        if (!f || uf_filter_match(f, attrs)) {
            json_object_set_new(attrs, "state", json_string(db_col_text(st, 8)));
            json_object_set_new(attrs, "last_seen", db_col_is_null(st, 9)
                                                        ? json_null()
                                                        : json_integer(db_col_int(st, 9)));
            json_array_append(items, attrs);
        }
        json_decref(attrs);
    }
    db_finalize(st);
    uf_filter_free(f);
    if (rc < 0) {
        json_decref(items);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, json_pack("{s:o}", "items", items));
}

static void put_group(api_call *c)
{
    const char *tenant;
    if (!api_release_manager(c) || !(tenant = api_tenant_query(c)))
        return;
    json_t *body = http_body_json(c->req, c->resp), *names;
    if (!body)
        return;
    static const char *const keys[] = {"devices", NULL};
    uf_error err;
    bool ok = uf_json_only_keys(body, "", keys, &err) &&
              uf_json_get_array(body, "", "devices", &names, &err);
    if (ok && !api_begin(c)) {
        json_decref(body);
        return;
    }
    const char *group = c->req->params[0];
    ok = ok && db_exec(c->db, "DELETE FROM device_groups WHERE tenant = $1 AND name = $2",
                       DB_ARGS(db_text(tenant), db_text(group)), &err);
    const json_t *v;
    size_t i;
    json_array_foreach(names, i, v) {
        int64_t id = 0;
        if (!ok)
            break;
        const char *name = json_string_value(v);
        ok = name && device_find(c->db, tenant, name, &id, &err);
        if (ok && id == 0)
            ok = uf_error_set(&err, UF_E_BAD_FIELD, "devices[%zu]: no device %s", i, name);
        else if (!name)
            ok = uf_error_set(&err, UF_E_BAD_FIELD, "devices[%zu]: expected a name", i);
        ok = ok && db_exec(c->db, "INSERT INTO device_groups (tenant, name, device)"
                                  " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                           DB_ARGS(db_text(tenant), db_text(group), db_int(id)), &err);
    }
    size_t n = json_array_size(names);
    json_decref(body);
    if (ok)
        ok = db_commit(c->db, &err);
    if (!ok) {
        db_rollback(c->db);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, json_pack("{s:s, s:s, s:i}", "tenant", tenant, "group", group,
                                           "devices", (int)n));
}

static bool group_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    (void)c;
    (void)err;
    return json_array_append_new(items, json_pack("{s:s, s:I}", "name", db_col_text(st, 0),
                                                  "devices", (json_int_t)db_col_int(st, 1))) == 0;
}

static void list_groups(api_call *c)
{
    const char *tenant;
    if (api_release_manager(c) && (tenant = api_tenant_query(c)))
        api_respond_rows(c,
                         "SELECT name, COUNT(*) FROM device_groups WHERE tenant = $1"
                         " GROUP BY name ORDER BY name",
                         DB_ARGS(db_text(tenant)), group_row);
}

static void post_gateway_token(api_call *c)
{
    uf_error err;
    const char *tenant = c->req->params[0];
    char token[UF_TOKEN_MAX];
    if (!tuf_tenant_valid(tenant, &err)) {
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c))
        return;
    if (!device_new_gateway_token(c->db, tenant, c->who->username, token, &err) ||
        !db_commit(c->db, &err)) {
        db_rollback(c->db);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 201, json_pack("{s:s, s:s}", "tenant", tenant, "token", token));
}

static bool release_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    (void)c;
    (void)err;
    json_t *custom = json_loads(db_col_text(st, 3), 0, NULL);
    json_t *up = json_incref(json_object_get(custom, "upflow"));
    json_decref(custom);
    if (!json_is_object(up) || !json_is_string(json_object_get(up, "kind")) ||
        strcmp(json_string_value(json_object_get(up, "kind")), "index") != 0) {
        json_decref(up);
        return true;
    }
    json_object_set_new(up, "release", json_string(db_col_text(st, 0)));
    json_object_set_new(up, "sha256", json_string(db_col_text(st, 1)));
    json_object_set_new(up, "length", json_integer(db_col_int(st, 2)));
    return json_array_append_new(items, up) == 0;
}

static void list_releases(api_call *c)
{
    const char *tenant;
    if (api_release_manager(c) && (tenant = api_tenant_query(c)))
        api_respond_rows(c,
                         "SELECT path, sha256, length, custom FROM tuf_targets WHERE tenant = $1"
                         " ORDER BY path",
                         DB_ARGS(db_text(tenant)), release_row);
}

const route api_devices_routes[] = {
    {"GET", "/api/v1/devices", ROUTE_USER, list_devices,
     "devices of a tenant, by filter expression and group"},
    {"POST", "/api/v1/devices", ROUTE_USER, post_device,
     "enrol a device; its token is shown once"},
    {"GET", "/api/v1/devices/{name}", ROUTE_USER, get_device,
     "one device with its inventory, groups and history"},
    {"PATCH", "/api/v1/devices/{name}", ROUTE_USER, patch_device,
     "set a device's attributes and tags"},
    {"GET", "/api/v1/groups", ROUTE_USER, list_groups, "static device groups of a tenant"},
    {"PUT", "/api/v1/groups/{name}", ROUTE_USER, put_group,
     "set the devices of a static group"},
    {"POST", "/api/v1/tenants/{tenant}/gateway-token", ROUTE_ADMIN, post_gateway_token,
     "a new gateway token: unknown devices presenting it register themselves"},
    {"GET", "/api/v1/releases", ROUTE_USER, list_releases,
     "the releases (image indexes) of a tenant's signed targets"},
};
const size_t api_devices_routes_n = sizeof api_devices_routes / sizeof api_devices_routes[0];
