/*
 * api_rollouts.c - rollouts for release managers (see rollout.h): create, start, pause,
 * resume, cancel, roll back, and watch them per phase and per device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/api.h"
#include "server/rollout.h"

static rollout_env env_of(api_call *c)
{
    return (rollout_env){.reg = &c->srv->registry, .data_dir = c->srv->cfg.data_dir};
}

/* Run op in the call's transaction and answer with the rollout `id` afterwards. */
static void in_transaction(api_call *c, bool ok, int status, int64_t id, uf_error *err)
{
    if (ok)
        ok = db_commit(c->db, err);
    if (!ok) {
        db_rollback(c->db);
        api_fail(c, err);
        return;
    }
    api_respond(c, status, rollout_json(c->db, id, err), err);
}

static void post_rollout(api_call *c)
{
    if (!api_release_manager(c))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    rollout_env env = env_of(c);
    int64_t id = 0;
    uf_error err;
    bool ok = rollout_create(c->db, &env, body, c->who->username, (int64_t)time(NULL), &id,
                             &err);
    json_decref(body);
    in_transaction(c, ok, 201, id, &err);
}

static void post_command(api_call *c)
{
    int64_t id, new_id = 0;
    if (!api_release_manager(c) || !api_param_id(c, 0, &id) || !api_begin(c))
        return;
    rollout_env env = env_of(c);
    uf_error err;
    const char *cmd = c->req->params[1];
    int64_t now = (int64_t)time(NULL);
    bool ok = strcmp(cmd, "rollback") == 0
                  ? rollout_rollback(c->db, &env, id, c->who->username, now, &new_id, &err)
                  : rollout_command(c->db, &env, id, cmd, c->who->username, now, &err);
    in_transaction(c, ok, new_id ? 201 : 200, new_id ? new_id : id, &err);
}

static void get_rollout(api_call *c)
{
    int64_t id;
    uf_error err;
    if (api_release_manager(c) && api_param_id(c, 0, &id))
        api_respond(c, 200, rollout_json(c->db, id, &err), &err);
}

static bool summary_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    json_t *r = rollout_json(c->db, db_col_int(st, 0), err);
    return r && json_array_append_new(items, r) == 0;
}

static void list_rollouts(api_call *c)
{
    const char *tenant;
    if (api_release_manager(c) && (tenant = api_tenant_query(c)))
        api_respond_rows(c, "SELECT id FROM rollouts WHERE tenant = $1 ORDER BY id DESC LIMIT 200",
                         DB_ARGS(db_text(tenant)), summary_row);
}

static bool action_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    (void)c;
    (void)err;
    return json_array_append_new(
               items, json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:I}", "action",
                                (json_int_t)db_col_int(st, 0), "device", db_col_text(st, 1),
                                "hardware", db_col_text(st, 2), "phase",
                                (json_int_t)db_col_int(st, 3), "state", db_col_text(st, 4),
                                "progress", (json_int_t)db_col_int(st, 5), "reason",
                                db_col_text(st, 6), "log_tail", db_col_text(st, 7),
                                "updated_at", (json_int_t)db_col_int(st, 8))) == 0;
}

static void get_devices(api_call *c)
{
    int64_t id;
    if (!api_release_manager(c) || !api_param_id(c, 0, &id))
        return;
    const char *state = http_query(c->req, "state");
    api_respond_rows(c,
                     "SELECT a.id, d.name, d.hardware, a.phase, a.state, a.progress, a.reason,"
                     " a.log_tail, a.updated_at FROM actions a JOIN devices d ON d.id = a.device"
                     " WHERE a.rollout = $1 AND ($2 = '' OR a.state = $2) ORDER BY a.phase, d.name",
                     DB_ARGS(db_int(id), db_text(state ? state : "")), action_row);
}

const route api_rollouts_routes[] = {
    {"GET", "/api/v1/rollouts", ROUTE_USER, list_rollouts, "rollouts of a tenant, newest first"},
    {"POST", "/api/v1/rollouts", ROUTE_USER, post_rollout,
     "create a rollout of a release over devices, linked to its approved changes"},
    {"GET", "/api/v1/rollouts/{id}", ROUTE_USER, get_rollout,
     "a rollout with its counts per state and phase"},
    {"POST", "/api/v1/rollouts/{id}/{command}", ROUTE_USER, post_command,
     "start, pause, resume, cancel, or rollback (a new rollout back to the previous release)"},
    {"GET", "/api/v1/rollouts/{id}/devices", ROUTE_USER, get_devices,
     "the rollout's devices with their state, reason and log tail"},
};
const size_t api_rollouts_routes_n = sizeof api_rollouts_routes / sizeof api_rollouts_routes[0];
