/*
 * device.c - the device registry (see device.h).
 */
#include "server/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hash.h"
#include "server/audit.h"

bool device_name_valid(const char *name, uf_error *err)
{
    size_t n = strlen(name);
    bool ok = n > 0 && n < DEVICE_NAME_MAX && name[0] != '.' && name[0] != '-';
    for (const char *p = name; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             strchr("._:-", *p);
    if (!ok)
        return uf_error_set(err, UF_E_BAD_FIELD, "device id '%.64s': use 1 to %d characters of "
                            "A-Z, a-z, 0-9, '.', '_', ':', '-'", name, DEVICE_NAME_MAX - 1);
    return true;
}

static bool token_hash(const char *token, char out[UF_HASH_MAX_HEX], uf_error *err)
{
    return uf_hash_buf_hex(UF_HASH_SHA256, token, strlen(token), out, err);
}

static char *dump(const json_t *v, const char *fallback)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    return s ? s : strdup(fallback);
}

bool device_enrol(db *d, const char *tenant, const char *name, const json_t *attributes,
                  const char *actor, char token[UF_TOKEN_MAX], int64_t *id, uf_error *err)
{
    char sha[UF_HASH_MAX_HEX];
    if (!device_name_valid(name, err) || !uf_random_token("udt_", token, err) ||
        !token_hash(token, sha, err))
        return false;
    int64_t now = (int64_t)time(NULL), has_token = 0;
    bool found = false;
    *id = 0;
    db_stmt *st = db_query(d, "SELECT id, token_sha256 IS NOT NULL FROM devices WHERE tenant = $1"
                              " AND name = $2",
                           DB_ARGS(db_text(tenant), db_text(name)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc == 1) {
        found = true;
        *id = db_col_int(st, 0);
        has_token = db_col_int(st, 1);
    }
    db_finalize(st);
    if (rc < 0)
        return false;
    if (has_token)
        return uf_error_set(err, UF_E_CONFLICT, "device %s is already enrolled", name);
    char *attrs = dump(attributes, "{}");
    bool ok = found ? db_exec(d, "UPDATE devices SET token_sha256 = $1 WHERE id = $2",
                              DB_ARGS(db_text(sha), db_int(*id)), err)
                    : db_query_int(d,
                                   "INSERT INTO devices (tenant, name, token_sha256, attributes,"
                                   " created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                                   DB_ARGS(db_text(tenant), db_text(name), db_text(sha),
                                           db_text(attrs), db_int(now)),
                                   id, NULL, err);
    free(attrs);
    json_t *detail = json_pack("{s:s, s:s}", "tenant", tenant, "device", name);
    audit_entry e = {.actor = actor, .action = "device.enrol", .object_kind = "device",
                     .object_id = name, .detail = detail};
    ok = ok && audit_append(d, &e, NULL, err);
    json_decref(detail);
    return ok;
}

bool device_authenticate(db *d, const char *token, device_identity *out, uf_error *err)
{
    char sha[UF_HASH_MAX_HEX];
    if (strncmp(token, "udt_", 4) != 0 || !token_hash(token, sha, err))
        return uf_error_set(err, UF_E_UNAUTHORIZED, "not a device token");
    db_stmt *st = db_query(d, "SELECT id, tenant, name FROM devices WHERE token_sha256 = $1",
                           DB_ARGS(db_text(sha)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc == 1) {
        out->id = db_col_int(st, 0);
        snprintf(out->tenant, sizeof out->tenant, "%s", db_col_text(st, 1));
        snprintf(out->name, sizeof out->name, "%s", db_col_text(st, 2));
    }
    db_finalize(st);
    if (rc == 0)
        return uf_error_set(err, UF_E_UNAUTHORIZED, "unknown device token");
    return rc == 1;
}

bool device_gateway_tenant(db *d, const char *token, char tenant[64], uf_error *err)
{
    char sha[UF_HASH_MAX_HEX], *name = NULL;
    bool found = false;
    if (strncmp(token, "ugw_", 4) != 0 || !token_hash(token, sha, err))
        return uf_error_set(err, UF_E_UNAUTHORIZED, "not a gateway token");
    if (!db_query_text(d, "SELECT name FROM tenants WHERE gateway_token_sha256 = $1",
                       DB_ARGS(db_text(sha)), &name, &found, err))
        return false;
    if (!found)
        return uf_error_set(err, UF_E_UNAUTHORIZED, "unknown gateway token");
    snprintf(tenant, 64, "%s", name);
    free(name);
    return true;
}

bool device_new_gateway_token(db *d, const char *tenant, const char *actor,
                              char token[UF_TOKEN_MAX], uf_error *err)
{
    char sha[UF_HASH_MAX_HEX];
    json_t *detail = json_pack("{s:s}", "tenant", tenant);
    audit_entry e = {.actor = actor, .action = "tenant.gateway_token", .object_kind = "tenant",
                     .object_id = tenant, .detail = detail};
    bool ok = uf_random_token("ugw_", token, err) && token_hash(token, sha, err) &&
              db_exec(d,
                      "INSERT INTO tenants (name, gateway_token_sha256, created_at)"
                      " VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET"
                      " gateway_token_sha256 = excluded.gateway_token_sha256",
                      DB_ARGS(db_text(tenant), db_text(sha), db_int((int64_t)time(NULL))), err) &&
              audit_append(d, &e, NULL, err);
    json_decref(detail);
    return ok;
}

bool device_set_inventory(db *d, int64_t id, const json_t *inventory, uf_error *err)
{
    const char *hw = json_string_value(json_object_get(inventory, "hardware"));
    const char *version = json_string_value(json_object_get(inventory, "version"));
    char *text = dump(inventory, "{}");
    bool ok = db_exec(d,
                      "UPDATE devices SET inventory = $1, hardware = COALESCE($2, hardware),"
                      " version = COALESCE($3, version) WHERE id = $4",
                      DB_ARGS(db_text(text), db_text(hw), db_text(version), db_int(id)), err);
    free(text);
    return ok;
}

bool device_set_labels(db *d, int64_t id, const json_t *attributes, const json_t *tags,
                       const char *actor, uf_error *err)
{
    char *attrs = attributes ? dump(attributes, "{}") : NULL, *tag_text = tags ? dump(tags, "[]") : NULL;
    json_t *detail = json_pack("{s:O?, s:O?}", "attributes", attributes, "tags", tags);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    audit_entry e = {.actor = actor, .action = "device.labels", .object_kind = "device",
                     .object_id = idtext, .detail = detail};
    bool ok = db_exec(d,
                      "UPDATE devices SET attributes = COALESCE($1, attributes),"
                      " tags = COALESCE($2, tags) WHERE id = $3",
                      DB_ARGS(db_text(attrs), db_text(tag_text), db_int(id)), err) &&
              audit_append(d, &e, NULL, err);
    json_decref(detail);
    free(attrs);
    free(tag_text);
    return ok;
}

bool device_seen(db *d, int64_t id, int64_t now, int64_t every, uf_error *err)
{
    return db_exec(d,
                   "UPDATE devices SET last_seen = $1 WHERE id = $2"
                   " AND (last_seen IS NULL OR last_seen <= $3)",
                   DB_ARGS(db_int(now), db_int(id), db_int(now - every)), err);
}

bool device_event(db *d, int64_t device, int64_t action, const char *step, int progress,
                  const char *reason, const char *log_tail, int64_t now, uf_error *err)
{
    return db_exec(d,
                   "INSERT INTO device_events (device, action, step, progress, reason, log_tail,"
                   " at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   DB_ARGS(db_int(device), action ? db_int(action) : db_null(), db_text(step),
                           progress >= 0 ? db_int(progress) : db_null(),
                           db_text(reason ? reason : ""), db_text(log_tail ? log_tail : ""),
                           db_int(now)),
                   err) &&
           db_exec(d, "UPDATE devices SET state = $1 WHERE id = $2",
                   DB_ARGS(db_text(step), db_int(device)), err);
}

bool device_find(db *d, const char *tenant, const char *name, int64_t *id, uf_error *err)
{
    bool found = false;
    *id = 0;
    return db_query_int(d, "SELECT id FROM devices WHERE tenant = $1 AND name = $2",
                        DB_ARGS(db_text(tenant), db_text(name)), id, &found, err);
}

static json_t *parsed(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    return v ? v : json_null();
}

json_t *device_filter_attrs(db_stmt *st, int col)
{
    json_t *attrs = json_loads(db_col_text(st, col + 5), 0, NULL);
    if (!json_is_object(attrs)) {
        json_decref(attrs);
        attrs = json_object();
    }
    json_object_set_new(attrs, "name", json_string(db_col_text(st, col)));
    json_object_set_new(attrs, "tenant", json_string(db_col_text(st, col + 1)));
    json_object_set_new(attrs, "hardware", json_string(db_col_text(st, col + 2)));
    json_object_set_new(attrs, "version", json_string(db_col_text(st, col + 3)));
    json_object_set_new(attrs, "tags", parsed(db_col_text(st, col + 4)));
    json_object_set_new(attrs, "inventory", parsed(db_col_text(st, col + 6)));
    return attrs;
}

static json_t *history(db *d, int64_t id, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT e.at, e.step, e.progress, e.reason, e.log_tail, e.action,"
                           " a.rollout FROM device_events e LEFT JOIN actions a ON a.id = e.action"
                           " WHERE e.device = $1 ORDER BY e.id DESC LIMIT 100",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return NULL;
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        json_t *ev = json_pack("{s:I, s:s, s:s, s:s}", "at", (json_int_t)db_col_int(st, 0),
                               "step", db_col_text(st, 1), "reason", db_col_text(st, 3),
                               "log_tail", db_col_text(st, 4));
        if (!db_col_is_null(st, 2))
            json_object_set_new(ev, "progress", json_integer(db_col_int(st, 2)));
        if (!db_col_is_null(st, 5))
            json_object_set_new(ev, "action", json_integer(db_col_int(st, 5)));
        if (!db_col_is_null(st, 6))
            json_object_set_new(ev, "rollout", json_integer(db_col_int(st, 6)));
        json_array_append_new(items, ev);
    }
    db_finalize(st);
    if (rc < 0) {
        json_decref(items);
        return NULL;
    }
    return items;
}

static json_t *groups_of(db *d, int64_t id, uf_error *err)
{
    db_stmt *st = db_query(d, "SELECT name FROM device_groups WHERE device = $1 ORDER BY name",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return NULL;
    json_t *out = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1)
        json_array_append_new(out, json_string(db_col_text(st, 0)));
    db_finalize(st);
    if (rc < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *device_json(db *d, int64_t id, bool with_history, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT name, tenant, hardware, version, tags, attributes, inventory,"
                           " state, created_at, last_seen FROM devices WHERE id = $1",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return NULL;
    int rc = db_step(st, err);
    json_t *out = NULL;
    if (rc == 1) {
        out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:I}", "name",
                        db_col_text(st, 0), "tenant", db_col_text(st, 1), "hardware",
                        db_col_text(st, 2), "version", db_col_text(st, 3), "tags",
                        parsed(db_col_text(st, 4)), "attributes", parsed(db_col_text(st, 5)),
                        "inventory", parsed(db_col_text(st, 6)), "state", db_col_text(st, 7),
                        "created_at", (json_int_t)db_col_int(st, 8));
        json_object_set_new(out, "last_seen", db_col_is_null(st, 9)
                                                  ? json_null()
                                                  : json_integer(db_col_int(st, 9)));
    } else if (rc == 0) {
        uf_error_set(err, UF_E_NOT_FOUND, "no such device");
    }
    db_finalize(st);
    json_t *g = out ? groups_of(d, id, err) : NULL;
    json_t *h = g && with_history ? history(d, id, err) : NULL;
    if (out && (!g || (with_history && !h))) {
        json_decref(out);
        json_decref(g);
        return NULL;
    }
    if (out) {
        json_object_set_new(out, "groups", g);
        if (h)
            json_object_set_new(out, "history", h);
    }
    return out;
}
