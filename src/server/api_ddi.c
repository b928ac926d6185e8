/*
 * api_ddi.c - Eclipse hawkBit's device API (DDI) over HTTP, so that unmodified SWUpdate,
 * rauc-hawkbit-updater and Zephyr clients poll upflowd (shared/reference/hawkbit-ddi.md; the
 * model is ddi.c). Everything lives under /{tenant}/controller/v1/{controllerId}:
 *
 *   GET  ""                                   the poll: config.polling.sleep and _links
 *   GET  /deploymentBase/{id}  POST .../feedback      the action, and the device's steps
 *   GET  /cancelAction/{id}    POST .../feedback      a cancel, and its acknowledgement
 *   PUT  /configData                          the device's attributes
 *   GET  /installedBase/{id}                  the last installed action
 *   GET  /confirmationBase ...                no consent flow here: always auto-confirmed
 *   GET  /softwaremodules/{id}/artifacts[/{file}[.MD5SUM]]   downloads, single Range
 *
 * Authorization is hawkBit's: "TargetToken <udt_ token of that device>" or
 * "GatewayToken <ugw_ token of the tenant>" (registers unknown devices on their first poll).
 * JSON answers carry hawkBit's ETag ("0" + MD5 of the body) and are 304 only for a matching
 * If-None-Match; links are absolute, from X-Forwarded-* (server.forwarded_headers), else
 * server.public_url, else the Host header.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/json.h"
#include "server/api.h"
#include "server/blob_store.h"
#include "server/ddi.h"
#include "server/rollout.h"
#include "server/tuf_repo.h"

#define DDI_BASE "/{tenant}/controller/v1/{controllerId}"
#define URL_MAX 1024

/* ---- authentication (called by api_dispatch for ROUTE_DDI) --------------------------- */

/* The URL's tenant ("DEFAULT") as upflow names tenants ("default"). */
static bool tenant_of(const char *param, char out[64], uf_error *err)
{
    size_t i = 0;
    for (; param[i] && i < 63; i++)
        out[i] = (char)tolower((unsigned char)param[i]);
    out[i] = '\0';
    return !param[i] && tuf_tenant_valid(out, err);
}

static const char *scheme_token(const char *header, const char *scheme)
{
    size_t n = strlen(scheme);
    if (!header || strncasecmp(header, scheme, n) != 0 || header[n] != ' ')
        return NULL;
    header += n;
    while (*header == ' ')
        header++;
    return *header ? header : NULL;
}

bool api_ddi_authenticate(api_call *c, device_identity *dev)
{
    const char *h = http_header(c->req, "Authorization");
    const char *target = scheme_token(h, "TargetToken"), *gateway = scheme_token(h, "GatewayToken");
    const char *name = c->req->params[1];
    char tenant[64], gw_tenant[64];
    uf_error err;
    bool ok = tenant_of(c->req->params[0], tenant, &err);
    if (ok && target) {
        ok = device_authenticate(c->db, target, dev, &err);
        /* a target token speaks for its own device only */
        if (ok && (strcmp(dev->tenant, tenant) != 0 || strcmp(dev->name, name) != 0))
            ok = uf_error_set(&err, UF_E_UNAUTHORIZED, "this token is not %s's", name);
    } else if (ok && gateway) {
        ok = device_gateway_tenant(c->db, gateway, gw_tenant, &err);
        if (ok && strcmp(gw_tenant, tenant) != 0)
            ok = uf_error_set(&err, UF_E_UNAUTHORIZED, "not a gateway token of tenant %s",
                              tenant);
        int64_t id = 0;
        /* hawkBit registers unknown targets on their first poll only */
        bool poll = strcmp(c->req->route, DDI_BASE) == 0;
        ok = ok && device_find(c->db, tenant, name, &id, &err);
        if (ok && !id && !poll)
            ok = uf_error_set(&err, UF_E_NOT_FOUND, "no device %s in %s", name, tenant);
        if (ok && !id) {
            ok = api_begin(c) && ddi_register(c->db, tenant, name, dev, &err) &&
                 db_commit(c->db, &err);
            if (!ok)
                db_rollback(c->db);
        } else if (ok) {
            *dev = (device_identity){.id = id};
            snprintf(dev->tenant, sizeof dev->tenant, "%s", tenant);
            snprintf(dev->name, sizeof dev->name, "%s", name);
        }
    } else if (ok) {
        ok = uf_error_set(&err, UF_E_UNAUTHORIZED,
                          "send Authorization: TargetToken <device token> or GatewayToken "
                          "<gateway token>");
    }
    if (!ok) {
        if (err.code != UF_E_NOT_FOUND && err.code != UF_E_BAD_FIELD)
            err.code = UF_E_UNAUTHORIZED;
        http_set_error(c->resp, &err);
        if (err.code == UF_E_UNAUTHORIZED)
            http_add_header(c->resp, "WWW-Authenticate", "TargetToken");
        return false;
    }
    c->device = dev;
    snprintf(c->req->actor, sizeof c->req->actor, "device:%s", dev->name);
    return true;
}

/* ---- answers ------------------------------------------------------------------------- */

static rollout_env env_of(api_call *c)
{
    return (rollout_env){.reg = &c->srv->registry, .data_dir = c->srv->cfg.data_dir};
}

/* An answer with a status outside upflow's error codes (406, 410, 429). */
static void respond_status(api_call *c, int status, const char *code, const char *message)
{
    http_set_json(c->resp, status,
                  json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message));
}

/* hawkBit answers application/hal+json unless the client asks for application/json; CBOR
 * and anything else is 406. NULL when answered. */
static const char *media_type(api_call *c)
{
    const char *accept = http_header(c->req, "Accept");
    if (!accept || !*accept || strstr(accept, "application/hal+json") || strstr(accept, "*/*"))
        return "application/hal+json";
    if (strstr(accept, "application/json"))
        return "application/json";
    respond_status(c, 406, "not_acceptable",
                   "the device API answers application/hal+json or application/json");
    return NULL;
}

/* Answer body (stolen) with hawkBit's ETag; 304 only for a matching If-None-Match. */
static void respond_tagged(api_call *c, json_t *body)
{
    const char *type = media_type(c);
    char *text = type ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!type)
        return;
    char hex[UF_HASH_MAX_HEX], etag[40];
    uf_error err;
    if (!text || !uf_hash_buf_hex(UF_HASH_MD5, text, strlen(text), hex, &err)) {
        free(text);
        http_set_errorf(c->resp, UF_E_NOMEM, "cannot answer");
        return;
    }
    snprintf(etag, sizeof etag, "\"0%s\"", hex);
    const char *have = http_header(c->req, "If-None-Match");
    if (have && strcmp(have, etag) == 0)
        http_set_text(c->resp, 304, NULL, "", 0);
    else
        http_set_text(c->resp, 200, type, text, strlen(text));
    http_add_header(c->resp, "ETag", etag);
    free(text);
}

/* The first item of a comma-separated forwarded header, if it is made of URL-safe bytes. */
static bool forwarded(const http_request *req, const char *name, char *out, size_t cap)
{
    const char *v = http_header(req, name);
    if (!v)
        return false;
    while (*v == ' ')
        v++;
    size_t n = strcspn(v, ", ");
    if (n == 0 || n >= cap || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789.-_:[]/%") < n)
        return false;
    snprintf(out, cap, "%.*s", (int)n, v);
    return true;
}

/* scheme://host[:port][/prefix] of the links handed to the device. */
static void origin(api_call *c, char *out, size_t cap)
{
    char proto[16] = "http", host[256], port[16], prefix[256] = "";
    const server_config *cfg = &c->srv->cfg;
    if (cfg->forwarded_headers && forwarded(c->req, "X-Forwarded-Host", host, sizeof host)) {
        char p[16];
        if (forwarded(c->req, "X-Forwarded-Proto", p, sizeof p) &&
            (strcmp(p, "http") == 0 || strcmp(p, "https") == 0))
            snprintf(proto, sizeof proto, "%s", p);
        forwarded(c->req, "X-Forwarded-Prefix", prefix, sizeof prefix);
        bool has_port = strchr(host, ':') && host[strlen(host) - 1] != ']';
        if (!has_port && forwarded(c->req, "X-Forwarded-Port", port, sizeof port))
            snprintf(host + strlen(host), sizeof host - strlen(host), ":%s", port);
        size_t plen = strlen(prefix);
        while (plen && prefix[plen - 1] == '/')
            prefix[--plen] = '\0';
        snprintf(out, cap, "%s://%s%s%s", proto, host, prefix[0] && prefix[0] != '/' ? "/" : "",
                 prefix);
        return;
    }
    if (cfg->public_url[0]) {
        size_t n = strlen(cfg->public_url);
        while (n && cfg->public_url[n - 1] == '/')
            n--;
        snprintf(out, cap, "%.*s", (int)n, cfg->public_url);
        return;
    }
    if (!forwarded(c->req, "Host", host, sizeof host))
        snprintf(host, sizeof host, "localhost");
    snprintf(out, cap, "http://%s", host);
}

/* The device's base URL: origin + /{tenant}/controller/v1/{controllerId} as the device wrote
 * them. */
static void base_url(api_call *c, char *out, size_t cap)
{
    char o[URL_MAX / 2];
    origin(c, o, sizeof o);
    snprintf(out, cap, "%s/%s/controller/v1/%s", o, c->req->params[0], c->req->params[1]);
}

static json_t *href(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *href(const char *fmt, ...)
{
    char url[URL_MAX + 300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(url, sizeof url, fmt, ap);
    va_end(ap);
    return json_pack("{s:s}", "href", url);
}

static json_t *id_string(int64_t id)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)id);
    return json_string(text);
}

/* ---- the poll ---------------------------------------------------------------------------- */

/* hawkBit's `c` makes the link (and so the poll's ETag) change when the action's terms do. */
static unsigned link_hash(const ddi_action *a)
{
    unsigned h = (unsigned)a->id * 31u + (a->window_open ? 1249u : 1237u);
    for (const char *p = a->type; *p; p++)
        h = h * 31u + (unsigned char)*p;
    return h;
}

static void get_base(api_call *c)
{
    int64_t now = (int64_t)time(NULL), installed = 0;
    unsigned every = c->srv->cfg.poll_interval;
    ddi_action a;
    bool found = false, want = false;
    uf_error err;
    if (!ddi_current_action(c->db, c->device, now, &a, &found, &err) ||
        !ddi_wants_attributes(c->db, c->device, &want, &err) ||
        !ddi_last_installed(c->db, c->device, &installed, &err) ||
        !device_seen(c->db, c->device->id, now, every / 2 ? every / 2 : 1, &err)) {
        api_fail(c, &err);
        return;
    }
    char base[URL_MAX], sleep[16];
    base_url(c, base, sizeof base);
    snprintf(sleep, sizeof sleep, "%02u:%02u:%02u", every / 3600, every / 60 % 60, every % 60);
    json_t *links = json_object();
    /* a closed maintenance window hides the action: swupdate would close an "update: skip"
     * as done (hawkbit-ddi.md §10.6) */
    if (found && a.cancel)
        json_object_set_new(links, "cancelAction",
                            href("%s/cancelAction/%lld", base, (long long)a.id));
    else if (found && a.window_open)
        json_object_set_new(links, "deploymentBase",
                            href("%s/deploymentBase/%lld?c=%u", base, (long long)a.id,
                                 link_hash(&a)));
    if (installed && !found)
        json_object_set_new(links, "installedBase",
                            href("%s/installedBase/%lld", base, (long long)installed));
    if (want)
        json_object_set_new(links, "configData", href("%s/configData", base));
    json_t *body = json_pack("{s:{s:{s:s}}}", "config", "polling", "sleep", sleep);
    if (json_object_size(links))
        json_object_set_new(body, "_links", links);
    else
        json_decref(links);
    respond_tagged(c, body);
}

/* ---- deploymentBase / installedBase ------------------------------------------------- */

static json_t *artifact_json(const json_t *f, const char *base, int64_t module)
{
    const char *name = json_string_value(json_object_get(f, "filename"));
    json_t *hashes = json_pack("{s:O, s:O}", "sha1", json_object_get(f, "sha1"), "md5",
                               json_object_get(f, "md5"));
    json_object_set(hashes, "sha256", json_object_get(f, "sha256"));
    char url[URL_MAX + 300];
    snprintf(url, sizeof url, "%s/softwaremodules/%lld/artifacts/%s", base, (long long)module,
             name);
    json_t *links = json_pack("{s:o, s:o}", "download", href("%s", url), "md5sum",
                              href("%s.MD5SUM", url));
    /* hawkBit's "download" is https and "download-http" http; over http both are given so
     * that clients reading either one find it */
    if (strncmp(url, "http://", 7) == 0) {
        json_object_set_new(links, "download-http", href("%s", url));
        json_object_set_new(links, "md5sum-http", href("%s.MD5SUM", url));
    }
    return json_pack("{s:s, s:o, s:O, s:o}", "filename", name, "hashes", hashes, "size",
                     json_object_get(f, "size"), "_links", links);
}

/* The deploymentBase shape of an action (installedBase and confirmation use it too). */
static json_t *deployment_json(api_call *c, const ddi_action *a, const char *key,
                               uf_error *err)
{
    json_t *rel = ddi_artifacts(c->db, a->tenant, a->release, err);
    if (!rel)
        return NULL;
    char base[URL_MAX];
    base_url(c, base, sizeof base);
    json_t *artifacts = json_array(), *f;
    size_t i;
    json_array_foreach(json_object_get(rel, "files"), i, f) {
        json_array_append_new(artifacts, artifact_json(f, base, a->rollout));
    }
    json_t *chunk = json_pack("{s:s, s:s, s:O, s:o}", "part", "os", "version", a->version,
                              "name", json_object_get(rel, "product"), "artifacts", artifacts);
    const char *notes = json_string_value(json_object_get(rel, "notes"));
    if (notes && *notes)
        json_object_set_new(chunk, "metadata",
                            json_pack("[{s:s, s:s}]", "key", "releaseNotes", "value", notes));
    json_decref(rel);
    bool forced = strcmp(a->type, "forced") == 0, dl_only = strcmp(a->type, "download_only") == 0;
    const char *download = forced || dl_only ? "forced" : "attempt";
    const char *update = dl_only || !a->window_open ? "skip" : download;
    json_t *dep = json_pack("{s:s, s:s}", "download", download, "update", update);
    json_object_set_new(dep, "chunks", json_pack("[o]", chunk));
    json_t *out = json_pack("{s:o, s:o}", "id", id_string(a->id), key, dep);
    const char *n = http_query(c->req, "actionHistory");
    if (n && strtoll(n, NULL, 10) != 0) {
        json_t *h = ddi_action_history(c->db, a, strtoll(n, NULL, 10), err);
        if (!h) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, "actionHistory", h);
    }
    return out;
}

/* The maintenance window, when the rollout has one: only then does hawkBit name it. */
static void add_window(api_call *c, const ddi_action *a, json_t *body)
{
    bool has = false;
    int64_t n = 0;
    uf_error ignored;
    has = db_query_int(c->db, "SELECT COUNT(*) FROM rollouts WHERE id = $1 AND window IS NOT NULL",
                       DB_ARGS(db_int(a->rollout)), &n, NULL, &ignored) &&
          n > 0;
    if (has)
        json_object_set_new(json_object_get(body, "deployment"), "maintenanceWindow",
                            json_string(a->window_open ? "available" : "unavailable"));
}

/* The device's current action if it is `id` and not being canceled; else the 404 is set. */
static bool current_action(api_call *c, int64_t id, bool want_cancel, ddi_action *a)
{
    bool found = false;
    uf_error err;
    if (!ddi_current_action(c->db, c->device, (int64_t)time(NULL), a, &found, &err)) {
        api_fail(c, &err);
        return false;
    }
    if (!found || a->id != id || a->cancel != want_cancel) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "action %lld is not %s for %s", (long long)id,
                        want_cancel ? "being canceled" : "open", c->device->name);
        return false;
    }
    return true;
}

static void get_deployment(api_call *c)
{
    int64_t id;
    ddi_action a;
    uf_error err;
    if (!api_param_id(c, 2, &id) || !current_action(c, id, false, &a))
        return;
    json_t *body = deployment_json(c, &a, "deployment", &err);
    if (!body) {
        api_fail(c, &err);
        return;
    }
    add_window(c, &a, body);
    respond_tagged(c, body);
}

static void get_installed(api_call *c)
{
    int64_t id;
    ddi_action a;
    uf_error err;
    if (!api_param_id(c, 2, &id))
        return;
    if (!ddi_action_get(c->db, c->device, id, &a, &err)) {
        api_fail(c, &err);
        return;
    }
    if (a.open || strcmp(a.state, "canceled") == 0) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "action %lld is %s", (long long)id,
                        a.open ? "still open" : "canceled");
        return;
    }
    a.window_open = true;
    json_t *body = deployment_json(c, &a, "deployment", &err);
    if (body)
        respond_tagged(c, body);
    else
        api_fail(c, &err);
}

/* ---- feedback -------------------------------------------------------------------------- */

/* End a write: commit and answer 200 with no body, or roll back and answer the error (as
 * `status` with `name` when it is `code`: hawkBit's 410 and 429 have no upflow code). */
static void finish(api_call *c, bool ok, uf_error *err, uf_code code, int status,
                   const char *name)
{
    if (ok && db_commit(c->db, err)) {
        http_set_text(c->resp, 200, NULL, "", 0);
        return;
    }
    db_rollback(c->db);
    if (err->code == code)
        respond_status(c, status, name, err->msg);
    else
        api_fail(c, err);
}

static void post_feedback(api_call *c, bool cancel_channel)
{
    int64_t id;
    ddi_action a;
    json_t *report = NULL;
    uf_error err;
    if (!api_param_id(c, 2, &id))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    bool ok = ddi_action_get(c->db, c->device, id, &a, &err) &&
              ddi_feedback_report(body, &a, cancel_channel, &report, &err);
    json_decref(body);
    if (!ok) {
        api_fail(c, &err);
        return;
    }
    if (!a.open) {
        json_decref(report);
        respond_status(c, 410, "gone", "the action is closed");
        return;
    }
    if (!report) {
        http_set_text(c->resp, 200, NULL, "", 0);
        return;
    }
    if (!api_begin(c)) {
        json_decref(report);
        return;
    }
    rollout_env env = env_of(c);
    ok = rollout_report(c->db, &env, c->device, id, report, (int64_t)time(NULL), &err);
    json_decref(report);
    finish(c, ok, &err, UF_E_CONFLICT, 410, "gone");
}

static void post_deployment_feedback(api_call *c) { post_feedback(c, false); }
static void post_cancel_feedback(api_call *c) { post_feedback(c, true); }

static void get_cancel(api_call *c)
{
    int64_t id;
    ddi_action a;
    if (!api_param_id(c, 2, &id) || !current_action(c, id, true, &a))
        return;
    respond_tagged(c, json_pack("{s:o, s:{s:o}}", "id", id_string(id), "cancelAction", "stopId",
                                id_string(id)));
}

/* ---- configData ------------------------------------------------------------------------ */

static void put_config_data(api_call *c)
{
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    json_t *data = NULL;
    const char *mode = "merge";
    uf_error err;
    bool ok = uf_json_get_object(body, "", "data", &data, &err) &&
              uf_json_opt_string(body, "", "mode", &mode, &err);
    if (ok && strcmp(mode, "merge") != 0 && strcmp(mode, "replace") != 0 &&
        strcmp(mode, "remove") != 0)
        ok = uf_error_set(&err, UF_E_INVALID, "mode: '%s' is not merge, replace or remove",
                          mode);
    if (!ok) {
        json_decref(body);
        err.code = UF_E_INVALID;
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    ok = ddi_set_attributes(c->db, c->device, data, mode, (int64_t)time(NULL), &err);
    json_decref(body);
    finish(c, ok, &err, UF_E_TOO_LARGE, 429, "too_many_attributes");
}

/* ---- confirmationBase: upflow asks no consent, every action is confirmed --------------- */

static void get_confirmation(api_call *c)
{
    respond_tagged(c, json_pack("{s:{s:b, s:s, s:s}}", "autoConfirm", "active", 1, "initiator",
                                "upflow", "remark",
                                "upflow does not ask devices to confirm actions"));
}

static void get_confirmation_action(api_call *c)
{
    http_set_errorf(c->resp, UF_E_NOT_FOUND, "no action waits for confirmation");
}

static void post_auto_confirm(api_call *c) { http_set_text(c->resp, 200, NULL, "", 0); }

static void post_no_auto_confirm(api_call *c)
{
    http_set_errorf(c->resp, UF_E_CONFLICT, "upflow has no confirmation flow: actions are always "
                    "confirmed");
}

/* ---- artifacts ------------------------------------------------------------------------ */

/* The module's files when the device has an action in that rollout; else answered. */
static json_t *module_files(api_call *c, int64_t *module)
{
    ddi_action a;
    bool found = false;
    uf_error err;
    if (!api_param_id(c, 2, module))
        return NULL;
    if (!ddi_rollout_action(c->db, c->device, *module, &a, &found, &err)) {
        api_fail(c, &err);
        return NULL;
    }
    if (!found) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "software module %lld is not assigned to %s",
                        (long long)*module, c->device->name);
        return NULL;
    }
    json_t *rel = ddi_artifacts(c->db, a.tenant, a.release, &err);
    if (!rel)
        api_fail(c, &err);
    return rel;
}

static void get_artifacts(api_call *c)
{
    int64_t module;
    json_t *rel = module_files(c, &module), *f;
    if (!rel)
        return;
    char base[URL_MAX];
    base_url(c, base, sizeof base);
    json_t *out = json_array();
    size_t i;
    json_array_foreach(json_object_get(rel, "files"), i, f) {
        json_array_append_new(out, artifact_json(f, base, module));
    }
    json_decref(rel);
    respond_tagged(c, out);
}

static void get_artifact(api_call *c)
{
    int64_t module;
    json_t *rel = module_files(c, &module), *f, *file = NULL;
    if (!rel)
        return;
    const char *want = c->req->params[3];
    size_t n = strlen(want);
    bool md5sum = n > 7 && strcmp(want + n - 7, ".MD5SUM") == 0;
    size_t i;
    json_array_foreach(json_object_get(rel, "files"), i, f) {
        const char *name = json_string_value(json_object_get(f, "filename"));
        if (md5sum ? strlen(name) == n - 7 && strncmp(name, want, n - 7) == 0
                   : strcmp(name, want) == 0)
            file = f;
    }
    if (!file) {
        json_decref(rel);
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no artifact %s in software module %lld", want,
                        (long long)module);
        return;
    }
    const char *name = json_string_value(json_object_get(file, "filename"));
    char text[600];
    if (md5sum) {
        int len = snprintf(text, sizeof text, "%s  %s",
                           json_string_value(json_object_get(file, "md5")), name);
        http_set_text(c->resp, 200, "text/plain", text, (size_t)len);
        json_decref(rel);
        return;
    }
    char path[CONFIG_STR_MAX + 200];
    blob_store_path(c->srv->cfg.data_dir, TUF_BLOB_AREA,
                    json_string_value(json_object_get(file, "sha256")), path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        uf_error err;
        uf_error_errno(&err, errno, "artifact %s: its stored file is missing", name);
        if (fd >= 0)
            close(fd);
        json_decref(rel);
        api_fail(c, &err);
        return;
    }
    http_set_file_ranged(c->req, c->resp, "application/octet-stream", fd, (uint64_t)st.st_size);
    snprintf(text, sizeof text, "attachment;filename=%s", name);
    http_add_header(c->resp, "Content-Disposition", text);
    snprintf(text, sizeof text, "\"%s\"", json_string_value(json_object_get(file, "sha1")));
    http_add_header(c->resp, "ETag", text);
    json_decref(rel);
}

const route api_ddi_routes[] = {
    {"GET", DDI_BASE, ROUTE_DDI, get_base,
     "hawkBit DDI poll: config.polling.sleep and links to the device's action"},
    {"GET", DDI_BASE "/deploymentBase/{actionId}", ROUTE_DDI, get_deployment,
     "hawkBit DDI: the action to install, its chunks and artifacts"},
    {"POST", DDI_BASE "/deploymentBase/{actionId}/feedback", ROUTE_DDI,
     post_deployment_feedback, "hawkBit DDI: the device's progress or result on its action"},
    {"GET", DDI_BASE "/cancelAction/{actionId}", ROUTE_DDI, get_cancel,
     "hawkBit DDI: the action the device should stop"},
    {"POST", DDI_BASE "/cancelAction/{actionId}/feedback", ROUTE_DDI, post_cancel_feedback,
     "hawkBit DDI: the device accepts or rejects a cancel"},
    {"PUT", DDI_BASE "/configData", ROUTE_DDI, put_config_data,
     "hawkBit DDI: the device's attributes (merge, replace, remove)"},
    {"GET", DDI_BASE "/installedBase/{actionId}", ROUTE_DDI, get_installed,
     "hawkBit DDI: the last installed action"},
    {"GET", DDI_BASE "/confirmationBase", ROUTE_DDI, get_confirmation,
     "hawkBit DDI: auto-confirmation state (always active: no consent flow)"},
    {"GET", DDI_BASE "/confirmationBase/{actionId}", ROUTE_DDI, get_confirmation_action,
     "hawkBit DDI: an action waiting for confirmation (never: 404)"},
    {"POST", DDI_BASE "/confirmationBase/{actionId}/feedback", ROUTE_DDI,
     get_confirmation_action, "hawkBit DDI: confirm or deny an action (never waiting: 404)"},
    {"POST", DDI_BASE "/confirmationBase/activateAutoConfirm", ROUTE_DDI, post_auto_confirm,
     "hawkBit DDI: auto-confirm (always on)"},
    {"POST", DDI_BASE "/confirmationBase/deactivateAutoConfirm", ROUTE_DDI,
     post_no_auto_confirm, "hawkBit DDI: refused, actions are always confirmed (409)"},
    {"GET", DDI_BASE "/softwaremodules/{moduleId}/artifacts", ROUTE_DDI, get_artifacts,
     "hawkBit DDI: the artifacts of a software module (a rollout's release)"},
    {"GET", DDI_BASE "/softwaremodules/{moduleId}/artifacts/{fileName}", ROUTE_DDI,
     get_artifact, "hawkBit DDI: download an artifact (single Range) or its .MD5SUM"},
};
const size_t api_ddi_routes_n = sizeof api_ddi_routes / sizeof api_ddi_routes[0];
