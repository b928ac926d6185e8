/*
 * ddi.c - the hawkBit DDI model over upflow's devices, rollouts and releases (see ddi.h).
 */
#include "server/ddi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "server/audit.h"
#include "server/rollout.h"

#define LOG_TAIL_MAX 8192
#define REASON_MAX 480

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

bool ddi_current_action(db *d, const device_identity *dev, int64_t now, ddi_action *a,
                        bool *found, uf_error *err)
{
    json_t *p = rollout_poll(d, dev, now, NULL, NULL, 0, err);
    if (!p)
        return false;
    *found = json_is_object(p);
    if (*found) {
        *a = (ddi_action){.id = json_integer_value(json_object_get(p, "id")),
                          .rollout = json_integer_value(json_object_get(p, "rollout")),
                          .open = true,
                          .window_open = json_is_true(json_object_get(p, "window_open")),
                          .cancel = json_is_true(json_object_get(p, "cancel"))};
        copy_text(a->tenant, sizeof a->tenant, dev->tenant);
        copy_text(a->release, sizeof a->release,
                  json_string_value(json_object_get(p, "release")));
        copy_text(a->version, sizeof a->version,
                  json_string_value(json_object_get(p, "version")));
        copy_text(a->type, sizeof a->type, json_string_value(json_object_get(p, "type")));
    }
    json_decref(p);
    return true;
}

/* The device's action matching `where` ($1 = device, $2 = the value). */
static bool action_where(db *d, const device_identity *dev, const char *where, int64_t value,
                         ddi_action *a, bool *found, uf_error *err)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT a.id, a.rollout, r.tenant, r.release, r.version, r.action_type, a.state,"
             " a.open FROM actions a JOIN rollouts r ON r.id = a.rollout"
             " WHERE a.device = $1 AND %s",
             where);
    db_stmt *st = db_query(d, sql, DB_ARGS(db_int(dev->id), db_int(value)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    *found = rc == 1;
    if (rc == 1) {
        *a = (ddi_action){.id = db_col_int(st, 0), .rollout = db_col_int(st, 1),
                          .open = db_col_int(st, 7) != 0};
        copy_text(a->tenant, sizeof a->tenant, db_col_text(st, 2));
        copy_text(a->release, sizeof a->release, db_col_text(st, 3));
        copy_text(a->version, sizeof a->version, db_col_text(st, 4));
        copy_text(a->type, sizeof a->type, db_col_text(st, 5));
        copy_text(a->state, sizeof a->state, db_col_text(st, 6));
    }
    db_finalize(st);
    return rc >= 0;
}

bool ddi_action_get(db *d, const device_identity *dev, int64_t id, ddi_action *a,
                    uf_error *err)
{
    bool found;
    if (!action_where(d, dev, "a.id = $2", id, a, &found, err))
        return false;
    if (!found)
        return uf_error_set(err, UF_E_NOT_FOUND, "no action %lld for %s", (long long)id,
                            dev->name);
    return true;
}

bool ddi_rollout_action(db *d, const device_identity *dev, int64_t rollout, ddi_action *a,
                        bool *found, uf_error *err)
{
    return action_where(d, dev, "a.rollout = $2", rollout, a, found, err);
}

bool ddi_last_installed(db *d, const device_identity *dev, int64_t *id, uf_error *err)
{
    bool found;
    *id = 0;
    return db_query_int(d,
                        "SELECT id FROM actions WHERE device = $1 AND open = 0"
                        " AND state IN ('success', 'downloaded') ORDER BY updated_at DESC, id DESC"
                        " LIMIT 1",
                        DB_ARGS(db_int(dev->id)), id, &found, err);
}

bool ddi_register(db *d, const char *tenant, const char *name, device_identity *dev,
                  uf_error *err)
{
    int64_t id;
    if (!device_name_valid(name, err) || !device_find(d, tenant, name, &id, err))
        return false;
    if (!id) {
        json_t *detail = json_pack("{s:s, s:s, s:s}", "tenant", tenant, "device", name, "via",
                                   "hawkbit-ddi");
        audit_entry e = {.actor = "gateway", .action = "device.register",
                         .object_kind = "device", .object_id = name, .detail = detail};
        bool ok = db_query_int(d,
                               "INSERT INTO devices (tenant, name, created_at) VALUES ($1, $2, $3)"
                               " RETURNING id",
                               DB_ARGS(db_text(tenant), db_text(name),
                                       db_int((int64_t)time(NULL))),
                               &id, NULL, err) &&
                  audit_append(d, &e, NULL, err);
        json_decref(detail);
        if (!ok)
            return false;
    }
    *dev = (device_identity){.id = id};
    copy_text(dev->tenant, sizeof dev->tenant, tenant);
    copy_text(dev->name, sizeof dev->name, name);
    return true;
}

/* ---- artifacts ------------------------------------------------------------------------- */

static const json_t *upflow_custom(json_t *custom)
{
    return json_object_get(custom, "upflow");
}

static const char *custom_str(json_t *custom, const char *key)
{
    const char *s = json_string_value(json_object_get(upflow_custom(custom), key));
    return s ? s : "";
}

json_t *ddi_artifacts(db *d, const char *tenant, const char *release, uf_error *err)
{
    char *text = NULL;
    bool found = false;
    if (!db_query_text(d, "SELECT custom FROM tuf_targets WHERE tenant = $1 AND path = $2"
                          " LIMIT 1",
                       DB_ARGS(db_text(tenant), db_text(release)), &text, &found, err))
        return NULL;
    json_t *rel = found && text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!rel) {
        uf_error_set(err, UF_E_NOT_FOUND, "release %s: not in the signed targets of %s", release,
                     tenant);
        return NULL;
    }
    /* targets are PRODUCT/VERSION/NAME; their custom metadata decides */
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/%s/", custom_str(rel, "product"),
             custom_str(rel, "version"));
    db_stmt *st = db_query(d,
                           "SELECT DISTINCT t.path, t.length, t.sha256, t.custom,"
                           " COALESCE(b.sha1, ''), COALESCE(b.md5, '') FROM tuf_targets t"
                           " LEFT JOIN tuf_blobs b ON b.tenant = t.tenant AND b.sha256 = t.sha256"
                           " WHERE t.tenant = $1 AND substr(t.path, 1, length($2)) = $2"
                           " ORDER BY t.path",
                           DB_ARGS(db_text(tenant), db_text(prefix)), err);
    if (!st) {
        json_decref(rel);
        return NULL;
    }
    json_t *artifacts = json_array(), *image = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        json_t *custom = json_loads(db_col_text(st, 3), 0, NULL);
        const char *kind = custom_str(custom, "kind"), *path = db_col_text(st, 0);
        bool same = strcmp(custom_str(custom, "product"), custom_str(rel, "product")) == 0 &&
                    strcmp(custom_str(custom, "version"), custom_str(rel, "version")) == 0;
        bool is_image = strcmp(kind, "index") == 0 || strcmp(kind, "payload") == 0;
        json_t *into = !same ? NULL
                       : strcmp(kind, "artifact") == 0 ? artifacts
                       : is_image ? image
                                  : NULL;
        const char *slash = strrchr(path, '/');
        if (into)
            json_array_append_new(
                into, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "filename",
                                slash ? slash + 1 : path, "path", path, "size",
                                (json_int_t)db_col_int(st, 1), "sha256", db_col_text(st, 2),
                                "sha1", db_col_text(st, 4), "md5", db_col_text(st, 5)));
        json_decref(custom);
    }
    db_finalize(st);
    json_t *files = json_array_size(artifacts) ? artifacts : image;
    json_decref(files == artifacts ? image : artifacts);
    const char *notes = custom_str(rel, "notes");
    json_t *out = rc < 0 ? NULL
                         : json_pack("{s:o, s:s, s:s}", "files", files, "notes", notes,
                                     "product", custom_str(rel, "product"));
    if (rc < 0)
        json_decref(files);
    json_decref(rel);
    return out;
}

/* ---- feedback --------------------------------------------------------------------------- */

static bool one_of(const char *s, const char *const list[])
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* details joined by newlines, the tail kept when too long */
static void join_details(const json_t *details, char *out, size_t cap)
{
    uf_buf b = UF_BUF_INIT;
    size_t i;
    const json_t *line;
    json_array_foreach(details, i, line) {
        if (!json_is_string(line))
            continue;
        if (b.len)
            uf_buf_append(&b, "\n", 1, NULL);
        uf_buf_append(&b, json_string_value(line), json_string_length(line), NULL);
    }
    size_t skip = b.len >= cap ? b.len - cap + 1 : 0;
    snprintf(out, cap, "%.*s", (int)(b.len - skip), b.len ? (const char *)b.data + skip : "");
    uf_buf_free(&b);
}

/* The upflow step for execution/finished on either channel (NULL: record nothing). */
static const char *step_for(const char *execution, const char *finished, const ddi_action *a,
                            bool cancel_channel)
{
    bool closed = strcmp(execution, "closed") == 0;
    bool failed = strcmp(finished, "failure") == 0;
    if (cancel_channel) {
        /* hawkBit: closed accepts the cancel; canceled is only a warning there (issue #952),
         * here it accepts too; rejected leaves the action as it was */
        if (closed)
            return failed ? "failure" : "canceled";
        return strcmp(execution, "canceled") == 0 ? "canceled" : NULL;
    }
    if (closed && failed)
        return "failure";
    if (closed)
        return strcmp(a->type, "download_only") == 0 ? "downloaded" : "success";
    if (strcmp(execution, "canceled") == 0)
        return "canceled";
    if (strcmp(execution, "rejected") == 0 || strcmp(execution, "scheduled") == 0)
        return "deferred";
    if (strcmp(execution, "download") == 0)
        return "downloading";
    if (strcmp(execution, "downloaded") == 0)
        return "downloaded";
    /* proceeding, resumed: hawkBit's RUNNING. Downloading until the device said it has the
     * files, then installing; a later step (installed, trial...) is kept. */
    static const char *const before[] = {"assigned", "deferred", "downloading", NULL};
    if (one_of(a->state, before))
        return "downloading";
    return strcmp(a->state, "downloaded") == 0 ? "installing" : a->state;
}

bool ddi_feedback_report(const json_t *feedback, const ddi_action *a, bool cancel_channel,
                         json_t **report, uf_error *err)
{
    static const char *const executions[] = {"closed", "proceeding", "canceled", "scheduled",
                                             "rejected", "resumed", "downloaded", "download",
                                             NULL};
    static const char *const results[] = {"success", "failure", "none", NULL};
    json_t *status, *result, *progress = NULL, *details = NULL;
    const char *execution, *finished;
    int64_t code = -1, cnt = -1, of = -1;
    uf_error e;
    *report = NULL;
    bool ok = uf_json_get_object(feedback, "", "status", &status, &e) &&
              uf_json_get_string(status, "status", "execution", &execution, &e) &&
              uf_json_get_object(status, "status", "result", &result, &e) &&
              uf_json_get_string(result, "status.result", "finished", &finished, &e) &&
              uf_json_opt_object(result, "status.result", "progress", &progress, &e) &&
              uf_json_opt_array(status, "status", "details", &details, &e) &&
              uf_json_opt_int(status, "status", "code", &code, &e) &&
              (!progress ||
               (uf_json_get_int(progress, "status.result.progress", "cnt", &cnt, &e) &&
                uf_json_opt_int(progress, "status.result.progress", "of", &of, &e)));
    if (!ok)
        return uf_error_set(err, UF_E_INVALID, "%s", e.msg);
    if (!one_of(execution, executions))
        return uf_error_set(err, UF_E_INVALID, "status.execution: '%s' is not one of closed, "
                            "proceeding, canceled, scheduled, rejected, resumed, downloaded, "
                            "download", execution);
    if (!one_of(finished, results))
        return uf_error_set(err, UF_E_INVALID, "status.result.finished: '%s' is not one of "
                            "success, failure, none", finished);
    const char *step = step_for(execution, finished, a, cancel_channel);
    if (!step || strcmp(step, "assigned") == 0)
        return true;
    char log_tail[LOG_TAIL_MAX], reason[REASON_MAX + 64];
    join_details(details, log_tail, sizeof log_tail);
    const char *last = strrchr(log_tail, '\n');
    snprintf(reason, sizeof reason, "%.*s", REASON_MAX, last ? last + 1 : log_tail);
    if (code >= 0) {
        size_t len = strlen(reason);
        snprintf(reason + len, sizeof reason - len, "%sdevice reported status code %lld",
                 len ? "; " : "", (long long)code);
    }
    *report = json_pack("{s:s, s:s, s:s}", "step", step, "reason",
                        strcmp(step, "failure") == 0 || strcmp(step, "deferred") == 0 ||
                                strcmp(step, "canceled") == 0 || code >= 0
                            ? reason
                            : "",
                        "log_tail", log_tail);
    /* swupdate's counters are odd (cnt may exceed of): a percentage only when it makes one */
    if (of > 0 && cnt >= 0)
        json_object_set_new(*report, "progress", json_integer(cnt >= of ? 100 : cnt * 100 / of));
    if (strcmp(step, "success") == 0)
        json_object_set_new(*report, "version", json_string(a->version));
    return true;
}

/* ---- attributes (configData) ------------------------------------------------------------ */

static json_t *inventory_of(db *d, const device_identity *dev, uf_error *err)
{
    char *text = NULL;
    bool found = false;
    if (!db_query_text(d, "SELECT inventory FROM devices WHERE id = $1",
                       DB_ARGS(db_int(dev->id)), &text, &found, err))
        return NULL;
    json_t *inv = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!json_is_object(inv)) {
        json_decref(inv);
        inv = json_object();
    }
    return inv;
}

bool ddi_wants_attributes(db *d, const device_identity *dev, bool *want, uf_error *err)
{
    json_t *inv = inventory_of(d, dev, err);
    if (!inv)
        return false;
    json_t *at = json_object_get(inv, "attributes_at");
    int64_t sent = json_is_integer(at) ? json_integer_value(at) : -1, closed = 0;
    bool found = false;
    json_decref(inv);
    if (sent < 0) {
        *want = true;
        return true;
    }
    if (!db_query_int(d,
                      "SELECT COALESCE(MAX(updated_at), 0) FROM actions WHERE device = $1"
                      " AND open = 0 AND state IN ('success', 'downloaded')",
                      DB_ARGS(db_int(dev->id)), &closed, &found, err))
        return false;
    *want = closed >= sent; /* seconds: a tie asks once more rather than never */
    return true;
}

bool ddi_set_attributes(db *d, const device_identity *dev, json_t *data, const char *mode,
                        int64_t now, uf_error *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(data) || json_object_size(data) == 0)
        return uf_error_set(err, UF_E_INVALID, "data: a non-empty object of strings");
    json_object_foreach(data, key, v) {
        if (!json_is_string(v) || strlen(key) > 128 || json_string_length(v) > 128)
            return uf_error_set(err, UF_E_INVALID, "data.%.64s: a string of at most 128 "
                                "characters under a name of at most 128", key);
    }
    json_t *inv = inventory_of(d, dev, err);
    if (!inv)
        return false;
    json_t *attrs = json_object_get(inv, "attributes");
    attrs = json_is_object(attrs) && strcmp(mode, "replace") != 0 ? json_deep_copy(attrs)
                                                                   : json_object();
    json_object_foreach(data, key, v) {
        if (strcmp(mode, "remove") == 0)
            json_object_del(attrs, key);
        else
            json_object_set(attrs, key, v);
    }
    bool ok = json_object_size(attrs) <= DDI_MAX_ATTRIBUTES;
    if (!ok)
        uf_error_set(err, UF_E_TOO_LARGE, "at most %d attributes per device",
                     DDI_MAX_ATTRIBUTES);
    json_object_set_new(inv, "attributes", attrs);
    json_object_set_new(inv, "attributes_at", json_integer(now));
    ok = ok && device_set_inventory(d, dev->id, inv, err);
    json_decref(inv);
    return ok;
}

/* ---- action history ------------------------------------------------------------------- */

static const char *hawkbit_status(const ddi_action *a)
{
    static const char *const map[][2] = {{"success", "FINISHED"}, {"failure", "ERROR"},
                                         {"rolled_back", "ERROR"}, {"canceled", "CANCELED"},
                                         {"downloaded", "DOWNLOADED"}};
    for (size_t i = 0; !a->open && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(a->state, map[i][0]) == 0)
            return map[i][1];
    return "RUNNING";
}

json_t *ddi_action_history(db *d, const ddi_action *a, int64_t n, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT step, reason FROM device_events WHERE action = $1"
                           " ORDER BY id DESC LIMIT $2",
                           DB_ARGS(db_int(a->id), db_int(n < 0 || n > 50 ? 50 : n)), err);
    if (!st)
        return NULL;
    json_t *messages = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        char line[600];
        const char *reason = db_col_text(st, 1);
        snprintf(line, sizeof line, "%s%s%s", db_col_text(st, 0), *reason ? ": " : "", reason);
        json_array_append_new(messages, json_string(line));
    }
    db_finalize(st);
    if (rc < 0) {
        json_decref(messages);
        return NULL;
    }
    return json_pack("{s:s, s:o}", "status", hawkbit_status(a), "messages", messages);
}
