/*
 * api_device.c - the native device API under /api/v1/device (the device's side; operators use
 * api_devices.c). A device token names one device, and every route here works on that device
 * only: its action, its signed director targets, its reports, its inventory.
 *
 *   POST /api/v1/device/register            gateway token: enrol on first contact
 *   GET  /api/v1/device/poll                the action to act on (ETag / If-None-Match: 304)
 *   GET  /api/v1/device/director/targets.json   targets signed for this device alone
 *   POST /api/v1/device/actions/{id}/status a step of an action
 *   PUT  /api/v1/device/inventory           what the device says about itself
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hash.h"
#include "lib/json.h"
#include "server/api.h"
#include "server/rollout.h"

#define DIRECTOR_TTL (7 * 86400)

static rollout_env env_of(api_call *c)
{
    return (rollout_env){.reg = &c->srv->registry, .data_dir = c->srv->cfg.data_dir};
}

static void post_register(api_call *c)
{
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const keys[] = {"device_id", "inventory", NULL};
    const char *name;
    json_t *inventory = NULL, *key = NULL;
    char token[UF_TOKEN_MAX];
    int64_t id = 0;
    uf_error err;
    bool ok = uf_json_only_keys(body, "", keys, &err) &&
              uf_json_get_string(body, "", "device_id", &name, &err) &&
              uf_json_opt_object(body, "", "inventory", &inventory, &err);
    if (!ok) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    char actor[96];
    snprintf(actor, sizeof actor, "gateway:%s", c->gateway_tenant);
    ok = device_enrol(c->db, c->gateway_tenant, name, NULL, actor, token, &id, &err) &&
         (!inventory || device_set_inventory(c->db, id, inventory, &err)) &&
         (key = director_key(c->db, c->srv->cfg.data_dir, c->gateway_tenant, &err)) != NULL &&
         db_commit(c->db, &err);
    if (!ok) {
        db_rollback(c->db);
        json_decref(key);
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 201,
                  json_pack("{s:s, s:s, s:s, s:o, s:i}", "device_id", name, "tenant",
                            c->gateway_tenant, "token", token, "director_key", key,
                            "poll_interval", (int)c->srv->cfg.poll_interval));
    json_decref(body);
}

/* Answer body with an ETag of its bytes; 304 when the device already has them. */
static void respond_tagged(api_call *c, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    char hex[UF_HASH_MAX_HEX], etag[40];
    uf_error err;
    if (!text || !uf_hash_buf_hex(UF_HASH_SHA256, text, strlen(text), hex, &err)) {
        free(text);
        http_set_errorf(c->resp, UF_E_NOMEM, "cannot answer the poll");
        return;
    }
    snprintf(etag, sizeof etag, "\"%.32s\"", hex);
    const char *have = http_header(c->req, "If-None-Match");
    if (have && strcmp(have, etag) == 0)
        http_set_text(c->resp, 304, NULL, NULL, 0);
    else
        http_set_text(c->resp, 200, "application/json", text, strlen(text));
    http_add_header(c->resp, "ETag", etag);
    free(text);
}

static void get_poll(api_call *c)
{
    int64_t now = (int64_t)time(NULL);
    uf_error err;
    json_t *action = rollout_poll(c->db, c->device, now, NULL, NULL, 0, &err);
    if (!action) {
        api_fail(c, &err);
        return;
    }
    /* contact is recorded at most every half poll interval: idle polls stay cheap */
    int64_t every = c->srv->cfg.poll_interval / 2 ? c->srv->cfg.poll_interval / 2 : 1;
    if (!device_seen(c->db, c->device->id, now, every, &err)) {
        json_decref(action);
        api_fail(c, &err);
        return;
    }
    respond_tagged(c, json_pack("{s:i, s:o}", "poll_interval", (int)c->srv->cfg.poll_interval,
                                "action", action));
}

static void get_director(api_call *c)
{
    int64_t now = (int64_t)time(NULL);
    director_target t = {.device = c->device->name};
    char strings[512];
    uf_error err;
    uf_buf out = UF_BUF_INIT;
    json_t *action = rollout_poll(c->db, c->device, now, &t, strings, sizeof strings, &err);
    bool ok = action != NULL;
    json_decref(action);
    if (ok && !api_begin(c))
        return;
    json_t *key = ok ? director_key(c->db, c->srv->cfg.data_dir, c->device->tenant, &err) : NULL;
    json_decref(key);
    ok = key && director_sign(c->db, c->device->tenant, &t, now,
                              DIRECTOR_TTL, &out, &err) &&
         db_commit(c->db, &err);
    if (!ok) {
        db_rollback(c->db);
        uf_buf_free(&out);
        api_fail(c, &err);
        return;
    }
    http_set_text(c->resp, 200, "application/json", out.data, out.len);
    uf_buf_free(&out);
}

static void post_status(api_call *c)
{
    int64_t action;
    if (!api_param_id(c, 0, &action))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    uf_error err;
    rollout_env env = env_of(c);
    bool ok = rollout_report(c->db, &env, c->device, action, body, (int64_t)time(NULL), &err) &&
              db_commit(c->db, &err);
    json_decref(body);
    if (!ok) {
        db_rollback(c->db);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, json_pack("{s:b}", "ok", 1));
}

static void put_inventory(api_call *c)
{
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const keys[] = {"hardware", "version", "agent_version", "slots",
                                       "attributes", NULL};
    const char *s = NULL;
    uf_error err;
    bool ok = uf_json_only_keys(body, "", keys, &err) &&
              uf_json_opt_string(body, "", "hardware", &s, &err) &&
              uf_json_opt_string(body, "", "version", &s, &err) &&
              uf_json_opt_string(body, "", "agent_version", &s, &err);
    if (!ok) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    ok = device_set_inventory(c->db, c->device->id, body, &err) && db_commit(c->db, &err);
    json_decref(body);
    if (!ok) {
        db_rollback(c->db);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, json_pack("{s:b}", "ok", 1));
}

const route api_device_routes[] = {
    {"POST", "/api/v1/device/register", ROUTE_GATEWAY, post_register,
     "a device registers itself with its tenant's gateway token"},
    {"GET", "/api/v1/device/poll", ROUTE_DEVICE, get_poll,
     "the action this device should act on (ETag, 304 when unchanged)"},
    {"GET", "/api/v1/device/director/targets.json", ROUTE_DEVICE, get_director,
     "TUF targets signed for this device alone: the image it must install"},
    {"POST", "/api/v1/device/actions/{id}/status", ROUTE_DEVICE, post_status,
     "a step of this device's action (downloading ... success, failure, rolled_back)"},
    {"PUT", "/api/v1/device/inventory", ROUTE_DEVICE, put_inventory,
     "what the device reports about itself: hardware, versions, slots, attributes"},
};
const size_t api_device_routes_n = sizeof api_device_routes / sizeof api_device_routes[0];
