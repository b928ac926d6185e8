/*
 * server_link.c - the device's side of the native device API (see server_link.h).
 */
#include "agent/server_link.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/key.h"
#include "lib/tuf_metadata.h"

#define API "/api/v1/device"
#define BODY_MAX (1u << 20)             /* answers of the device API */
#define DIRECTOR_MAX (1u << 20)         /* the director's targets for one device */
#define TOKEN_MAX 4096

/* ---- requests ------------------------------------------------------------------------ */

/* Send one request to the server; resp->body must be freed by the caller. */
static bool request(server_link *l, const char *method, const char *path, const char *extra,
                    const json_t *body, size_t max, uf_fetch_response *resp, uf_error *err)
{
    char url[AGENT_STR_MAX + 256];
    snprintf(url, sizeof url, "%s%s", l->cfg->server_url, path);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (body && !text)
        return uf_error_set(err, UF_E_NOMEM, "%s %s: request body", method, path);
    const char *headers[] = {l->auth, extra, NULL};
    uf_fetch_request req = {.method = method, .url = url, .headers = headers, .body = text,
                            .max = max};
    bool ok = uf_fetch_send(l->fetch, &req, resp, err);
    free(text);
    return ok;
}

/* A status other than `want` as an error with the server's own message, if it sent one. */
static bool expect_status(const char *what, const uf_fetch_response *resp, long want,
                          uf_error *err)
{
    if (resp->status == want)
        return true;
    uf_code code = resp->status == 401   ? UF_E_UNAUTHORIZED
                   : resp->status == 403 ? UF_E_FORBIDDEN
                   : resp->status == 404 ? UF_E_NOT_FOUND
                   : resp->status == 409 ? UF_E_CONFLICT
                                         : UF_E_IO;
    uf_json_limits lim = uf_json_default_limits();
    json_t *doc = uf_json_parse((const char *)resp->body.data, resp->body.len, &lim, NULL);
    const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"),
                                                        "message"));
    uf_error_set(err, code, "%s: HTTP %ld%s%s", what, resp->status, msg ? ": " : "",
                 msg ? msg : "");
    json_decref(doc);
    return false;
}

/* The answer's body as a JSON object. */
static json_t *parse_object(const char *what, const uf_fetch_response *resp, uf_error *err)
{
    uf_json_limits lim = uf_json_default_limits();
    json_t *doc = uf_json_parse((const char *)resp->body.data, resp->body.len, &lim, err);
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
        uf_error_set(err, UF_E_BAD_FIELD, "expected an object");
    }
    if (!doc)
        uf_error_prefix(err, "%s", what);
    return doc;
}

/* ---- registration -------------------------------------------------------------------- */

void server_link_token_path(const agent_config *cfg, char *out, size_t len)
{
    if (cfg->credentials[0])
        snprintf(out, len, "%s", cfg->credentials);
    else
        snprintf(out, len, "%s/device-token", cfg->data_dir);
}

static void director_key_path(const agent_config *cfg, char *out, size_t len)
{
    if (cfg->director_key[0])
        snprintf(out, len, "%s", cfg->director_key);
    else
        snprintf(out, len, "%s/director-key.json", cfg->data_dir);
}

/* Replace path with a secret: mode 0600 from the start, fsync, rename, fsync of the dir. */
static bool write_secret(const char *path, const char *text, uf_error *err)
{
    char tmp[AGENT_STR_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return uf_error_errno(err, errno, "create %s", tmp);
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        saved = ok ? errno : saved;
        unlink(tmp);
        return uf_error_errno(err, saved, "write %s", path);
    }
    char dir[AGENT_STR_MAX + 16];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

/* Keep what registration returned: the token (secret) and the director key. */
static bool store_registration(const agent_config *cfg, const json_t *doc, uf_error *err)
{
    const char *token;
    json_t *key;
    char id[UF_KEYID_HEX], path[AGENT_STR_MAX + 32];
    if (!uf_json_get_string(doc, "", "token", &token, err) ||
        !uf_json_get_object(doc, "", "director_key", &key, err) ||
        !uf_keyid_of_json(key, id, err))
        return uf_error_prefix(err, "registration answer");
    if (strncmp(token, "udt_", 4) != 0 || strlen(token) > TOKEN_MAX || strpbrk(token, "\r\n"))
        return uf_error_set(err, UF_E_BAD_FIELD, "registration answer: token: not a device "
                            "token");
    char *key_text = json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS);
    director_key_path(cfg, path, sizeof path);
    bool ok = key_text && uf_file_write_atomic(path, key_text, strlen(key_text), err);
    free(key_text);
    if (!ok)
        return uf_error_prefix(err, "store the director key");
    server_link_token_path(cfg, path, sizeof path);
    char line[TOKEN_MAX + 2];
    snprintf(line, sizeof line, "%s\n", token);
    return write_secret(path, line, err);
}

bool server_link_register(const agent_config *cfg, const char *gateway_token,
                          const json_t *inventory, uf_error *err)
{
    if (!cfg->server_url[0])
        return uf_error_set(err, UF_E_INVALID, "server.url is not set in the configuration");
    server_link l = {.cfg = cfg};
    snprintf(l.auth, sizeof l.auth, "Authorization: Bearer %s", gateway_token);
    l.fetch = uf_fetch_new(&(uf_fetch_options){.connect_timeout_s = 10}, err);
    if (!l.fetch)
        return false;
    json_t *body = json_pack("{s:s, s:O}", "device_id", cfg->device_id, "inventory", inventory);
    uf_fetch_response resp = {.body = UF_BUF_INIT};
    json_t *doc = NULL;
    bool ok = body && request(&l, "POST", API "/register", NULL, body, BODY_MAX, &resp, err) &&
              expect_status("register", &resp, 201, err) &&
              (doc = parse_object("register", &resp, err)) &&
              store_registration(cfg, doc, err);
    json_decref(doc);
    json_decref(body);
    uf_buf_free(&resp.body);
    uf_fetch_free(l.fetch);
    if (!ok && err && err->code == UF_E_CONFLICT)
        uf_error_prefix(err, "device %s already has a token", cfg->device_id);
    return ok || uf_error_prefix(err, "register %s at %s", cfg->device_id, cfg->server_url);
}

/* ---- the link ------------------------------------------------------------------------ */

bool server_link_open(server_link *l, const agent_config *cfg, const uf_log *log,
                      uf_error *err)
{
    memset(l, 0, sizeof *l);
    l->cfg = cfg;
    l->log = log;
    if (!cfg->server_url[0])
        return uf_error_set(err, UF_E_INVALID, "server.url is not set in the configuration");
    char path[AGENT_STR_MAX + 32];
    server_link_token_path(cfg, path, sizeof path);
    uf_buf tok = UF_BUF_INIT;
    if (!uf_file_read_capped(path, TOKEN_MAX, &tok, err) || !uf_buf_append_char(&tok, 0, err)) {
        uf_buf_free(&tok);
        return uf_error_prefix(err, "device token (register first: upflow-agent register)");
    }
    char *t = (char *)tok.data;
    t[strcspn(t, "\r\n")] = '\0';
    snprintf(l->auth, sizeof l->auth, "Authorization: Bearer %s", t);
    uf_buf_free(&tok);
    l->fetch = uf_fetch_new(&(uf_fetch_options){.connect_timeout_s = 10}, err);
    return l->fetch != NULL;
}

void server_link_close(server_link *l)
{
    uf_fetch_free(l->fetch);
    l->fetch = NULL;
}

/* ---- poll ---------------------------------------------------------------------------- */

static bool parse_type(const char *s, server_action_type *out)
{
    static const char *const names[] = {"forced", "soft", "download_only"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (server_action_type)i;
            return true;
        }
    return false;
}

static bool parse_action(const json_t *obj, server_action *a, uf_error *err)
{
    const char *release, *version, *type;
    memset(a, 0, sizeof *a);
    if (!uf_json_get_int_range(obj, "action", "id", 1, INT64_MAX, &a->id, err) ||
        !uf_json_opt_int(obj, "action", "rollout", &a->rollout, err) ||
        !uf_json_get_string(obj, "action", "release", &release, err) ||
        !uf_json_get_string(obj, "action", "version", &version, err) ||
        !uf_json_get_string(obj, "action", "type", &type, err) ||
        !uf_json_get_bool(obj, "action", "window_open", &a->window_open, err) ||
        !uf_json_opt_bool(obj, "action", "cancel", &a->cancel, err))
        return false;
    if (!parse_type(type, &a->type))
        return uf_error_set(err, UF_E_BAD_FIELD, "action.type: '%s' is not forced, soft or "
                            "download_only", type);
    if (strlen(release) >= sizeof a->release || strlen(version) >= sizeof a->version)
        return uf_error_set(err, UF_E_BAD_FIELD, "action: release or version too long");
    snprintf(a->release, sizeof a->release, "%s", release);
    snprintf(a->version, sizeof a->version, "%s", version);
    return true;
}

static bool parse_poll(const json_t *doc, server_poll *out, uf_error *err)
{
    memset(out, 0, sizeof *out);
    out->interval_s = 60;
    if (!uf_json_opt_int(doc, "", "poll_interval", &out->interval_s, err))
        return false;
    if (out->interval_s < 1 || out->interval_s > 86400)
        out->interval_s = 60;
    const json_t *act = json_object_get(doc, "action");
    if (!act || json_is_null(act))
        return true;
    if (!json_is_object(act))
        return uf_error_set(err, UF_E_BAD_FIELD, "action: expected an object or null");
    out->has_action = true;
    return parse_action(act, &out->action, err);
}

bool server_link_poll(server_link *l, server_poll *out, uf_error *err)
{
    char inm[200] = "";
    if (l->etag[0])
        snprintf(inm, sizeof inm, "If-None-Match: %s", l->etag);
    uf_fetch_response resp = {.body = UF_BUF_INIT};
    json_t *doc = NULL;
    bool ok = request(l, "GET", API "/poll", inm[0] ? inm : NULL, NULL, BODY_MAX, &resp, err);
    if (ok && resp.status == 304 && l->etag[0]) {
        *out = l->last;
    } else {
        ok = ok && expect_status("poll", &resp, 200, err) &&
             (doc = parse_object("poll", &resp, err)) && parse_poll(doc, out, err);
        if (ok) {
            l->last = *out;
            snprintf(l->etag, sizeof l->etag, "%s", resp.etag);
        }
    }
    json_decref(doc);
    uf_buf_free(&resp.body);
    return ok || uf_error_prefix(err, "poll %s", l->cfg->server_url);
}

/* ---- the director -------------------------------------------------------------------- */

static json_t *load_director_key(const agent_config *cfg, uf_error *err)
{
    char path[AGENT_STR_MAX + 32];
    director_key_path(cfg, path, sizeof path);
    uf_json_limits lim = uf_json_default_limits();
    json_t *key = uf_json_load_file(path, &lim, err);
    if (key && !json_is_object(key)) {
        json_decref(key);
        key = NULL;
        uf_error_set(err, UF_E_BAD_KEY, "not a key object");
    }
    if (!key)
        uf_error_prefix(err, "director key %s", path);
    return key;
}

/* The director's file verifies with the director key and has not expired. */
static bool verify_director(const agent_config *cfg, const uf_tuf_metadata *md, uf_error *err)
{
    char id[UF_KEYID_HEX];
    json_t *key = load_director_key(cfg, err);
    if (!key)
        return false;
    bool ok = uf_keyid_of_json(key, id, err);
    json_t *keys = ok ? json_pack("{s:O}", id, key) : NULL;
    json_t *ids = ok ? json_pack("[s]", id) : NULL;
    ok = ok && keys && ids && uf_tuf_verify(md, keys, ids, 1, "director", err) &&
         uf_tuf_check_expiry(md, (int64_t)time(NULL), err);
    json_decref(keys);
    json_decref(ids);
    json_decref(key);
    return ok;
}

/* The entry for act's release names this device and this action; its length and hash. */
static bool director_entry(const agent_config *cfg, const uf_tuf_metadata *md,
                           const server_action *act, agent_pin *pin, uf_error *err)
{
    uf_tuf_target_info ti;
    if (!uf_tuf_target_get(md, act->release, &ti))
        return uf_error_set(err, UF_E_FORBIDDEN, "the director does not list %s for this "
                            "device", act->release);
    const json_t *up = json_object_get(json_object_get(ti.custom, "upflow"), "device");
    const char *device = json_string_value(up);
    const json_t *action = json_object_get(json_object_get(ti.custom, "upflow"), "action");
    if (!device || strcmp(device, cfg->device_id) != 0)
        return uf_error_set(err, UF_E_FORBIDDEN, "the director's entry for %s is for device "
                            "'%s', not %s", act->release, device ? device : "",
                            cfg->device_id);
    if (!json_is_integer(action) || json_integer_value(action) != act->id)
        return uf_error_set(err, UF_E_FORBIDDEN, "the director's entry for %s is not for "
                            "action %" PRId64, act->release, act->id);
    const char *sha = json_string_value(json_object_get(ti.hashes, "sha256"));
    if (!sha || strlen(sha) != 64)
        return uf_error_set(err, UF_E_FORBIDDEN, "the director's entry for %s has no sha256",
                            act->release);
    pin->set = true;
    pin->length = ti.length;
    snprintf(pin->sha256, sizeof pin->sha256, "%s", sha);
    return true;
}

bool server_link_director(server_link *l, const server_action *act, agent_pin *pin,
                          uf_error *err)
{
    memset(pin, 0, sizeof *pin);
    uf_fetch_response resp = {.body = UF_BUF_INIT};
    uf_tuf_metadata *md = NULL;
    bool ok = request(l, "GET", API "/director/targets.json", NULL, NULL, DIRECTOR_MAX, &resp,
                      err) &&
              expect_status("director targets", &resp, 200, err);
    if (ok) {
        md = uf_tuf_metadata_parse("director targets.json", UF_TUF_TARGETS, resp.body.data,
                                   resp.body.len, DIRECTOR_MAX, err);
        ok = md && verify_director(l->cfg, md, err) && director_entry(l->cfg, md, act, pin, err);
        if (!ok && err && (err->code == UF_E_BAD_JSON || err->code == UF_E_BAD_FIELD))
            err->code = UF_E_FORBIDDEN; /* a bad file is a refusal, not a network hiccup */
    }
    uf_tuf_metadata_free(md);
    uf_buf_free(&resp.body);
    return ok || uf_error_prefix(err, "director");
}

/* ---- status and inventory ------------------------------------------------------------ */

bool server_link_status(server_link *l, int64_t action, const json_t *status, bool *accepted,
                        uf_error *err)
{
    char path[96];
    snprintf(path, sizeof path, API "/actions/%" PRId64 "/status", action);
    uf_fetch_response resp = {.body = UF_BUF_INIT};
    bool ok = request(l, "POST", path, NULL, status, BODY_MAX, &resp, err);
    *accepted = ok && resp.status == 200;
    if (ok && !*accepted && resp.status != 404 && resp.status != 409)
        ok = expect_status("status", &resp, 200, err);
    else if (ok && !*accepted) {
        uf_error why;
        expect_status("status", &resp, 200, &why);
        uf_log_warn(l->log, "link", "action %" PRId64 ": the server refused a status report: "
                    "%s", action, why.msg);
    }
    uf_buf_free(&resp.body);
    return ok || uf_error_prefix(err, "report action %" PRId64, action);
}

bool server_link_inventory(server_link *l, const json_t *inventory, uf_error *err)
{
    uf_fetch_response resp = {.body = UF_BUF_INIT};
    bool ok = request(l, "PUT", API "/inventory", NULL, inventory, BODY_MAX, &resp, err) &&
              expect_status("inventory", &resp, 200, err);
    uf_buf_free(&resp.body);
    return ok;
}
