/*
 * api_tuf.c - the TUF repository over HTTP (see tuf_repo.h).
 *
 * Devices and mirrors read without a token, as TUF intends (everything served is signed):
 *   GET /tuf/{tenant}/metadata/{N.root.json | root.json | timestamp.json | V.ROLE.json}
 *   GET /tuf/{tenant}/targets/{DIR/SHA256.NAME}     (single Range requests answered 206)
 * Release managers (role release_manager, or admin) manage it under /api/v1/tuf/{tenant}:
 * status, online keys, streamed uploads of release files (hashed SHA-256, SHA-1 and MD5 on
 * the way in; a hash or length other than announced answers 409 and stores nothing), and
 * metadata pushes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "server/api.h"
#include "server/blob_store.h"
#include "server/tuf_repo.h"

static tuf_repo_config repo_config(const upflowd *srv)
{
    return (tuf_repo_config){.data_dir = srv->cfg.data_dir,
                             .timestamp_expiry = srv->cfg.tuf_timestamp_expiry,
                             .snapshot_expiry = srv->cfg.tuf_snapshot_expiry};
}

static const char *tenant_param(api_call *c)
{
    uf_error err;
    const char *tenant = c->req->params[0];
    if (!tuf_tenant_valid(tenant, &err)) {
        api_fail(c, &err);
        return NULL;
    }
    return tenant;
}

/* ---- reading (public) ------------------------------------------------------------- */

/* "timestamp.json", "root.json" -> (role, 0); "V.NAME.json" -> (NAME, V). */
static bool parse_metadata_name(const char *file, char *role, size_t role_len, int64_t *version)
{
    size_t len = strlen(file);
    if (len <= 5 || strcmp(file + len - 5, ".json") != 0 || len - 5 >= role_len)
        return false;
    if (strcmp(file, "timestamp.json") == 0 || strcmp(file, "root.json") == 0) {
        snprintf(role, role_len, "%.*s", (int)(len - 5), file);
        *version = 0;
        return true;
    }
    char *end;
    errno = 0;
    long long v = strtoll(file, &end, 10);
    if (end == file || *end != '.' || errno || v <= 0 || file[0] == '0')
        return false;
    snprintf(role, role_len, "%.*s", (int)(len - 5 - (size_t)(end + 1 - file)), end + 1);
    *version = v;
    return role[0] != '\0';
}

static void get_metadata(api_call *c)
{
    const char *tenant = tenant_param(c);
    if (!tenant)
        return;
    char role[96];
    int64_t version;
    uf_error err;
    if (!parse_metadata_name(c->req->params[1], role, sizeof role, &version)) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no such metadata file: %s", c->req->params[1]);
        return;
    }
    uf_buf body = UF_BUF_INIT;
    if (!tuf_repo_get(c->db, tenant, role, version, &body, &err)) {
        uf_buf_free(&body);
        api_fail(c, &err);
        return;
    }
    http_set_text(c->resp, 200, "application/json", body.data, body.len);
    /* versioned files never change; timestamp.json and root.json do */
    http_add_header(c->resp, "Cache-Control",
                    version ? "public, max-age=31536000, immutable" : "no-cache");
    uf_buf_free(&body);
}

static bool is_sha256_hex(const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void get_target(api_call *c)
{
    const char *tenant = tenant_param(c);
    if (!tenant)
        return;
    const char *path = c->req->params[1], *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strchr(base, '.');
    char sha[65];
    uf_error err;
    if (!dot || !is_sha256_hex(base, (size_t)(dot - base)) || !dot[1]) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND,
                        "no such target file: %s (names are DIR/SHA256.NAME)", path);
        return;
    }
    memcpy(sha, base, 64);
    sha[64] = '\0';
    json_t *blob = tuf_repo_blob(c->db, tenant, sha, &err);
    if (!blob) {
        api_fail(c, &err);
        return;
    }
    json_decref(blob);
    char file[CONFIG_STR_MAX + 200];
    blob_store_path(c->srv->cfg.data_dir, TUF_BLOB_AREA, sha, file, sizeof file);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        uf_error_errno(&err, errno, "target %s: its stored file is missing", sha);
        if (fd >= 0)
            close(fd);
        api_fail(c, &err);
        return;
    }
    http_set_file_ranged(c->req, c->resp, "application/octet-stream", fd, (uint64_t)st.st_size);
    http_add_header(c->resp, "Cache-Control", "public, max-age=31536000, immutable");
}

/* ---- managing ----------------------------------------------------------------------- */

/* The tenant of a management call, when the caller may manage it; else NULL, answered. */
static const char *managed_tenant(api_call *c)
{
    const char *tenant = tenant_param(c);
    return tenant && api_release_manager(c) ? tenant : NULL;
}

static void get_status(api_call *c)
{
    const char *tenant = managed_tenant(c);
    uf_error err;
    if (tenant)
        api_respond(c, 200, tuf_repo_status(c->db, tenant, &err), &err);
}

static void post_online_key(api_call *c)
{
    const char *tenant = managed_tenant(c);
    if (!tenant)
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"role", NULL};
    const char *role;
    uf_error err;
    tuf_repo_config cfg = repo_config(c->srv);
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_string(body, "", "role", &role, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    json_t *out = tuf_repo_new_online_key(c->db, &cfg, tenant, role, c->who->username,
                                          (int64_t)time(NULL), &err);
    json_decref(body);
    if (!out || !db_commit(c->db, &err)) {
        db_rollback(c->db);
        json_decref(out);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 201, out);
}

static void get_blob(api_call *c)
{
    const char *tenant = managed_tenant(c);
    uf_error err;
    if (tenant)
        api_respond(c, 200, tuf_repo_blob(c->db, tenant, c->req->params[1], &err), &err);
}

bool api_tuf_is_upload(const char *method, const char *path)
{
    if (strcmp(method, "POST") != 0 || strncmp(path, "/api/v1/tuf/", 12) != 0)
        return false;
    const char *tail = strchr(path + 12, '/');
    return tail && strcmp(tail, "/blobs") == 0;
}

/* The announced ?sha256= and ?length= must match what arrived. */
static bool check_announced(api_call *c)
{
    const http_request *req = c->req;
    const char *sha = http_query(req, "sha256"), *length = http_query(req, "length");
    if (sha && strcasecmp(sha, req->upload_sha256) != 0) {
        http_set_errorf(c->resp, UF_E_HASH_MISMATCH,
                        "the upload's SHA-256 is %s, not the %s announced: nothing was stored",
                        req->upload_sha256, sha);
        return false;
    }
    if (length && strtoull(length, NULL, 10) != req->upload_size) {
        http_set_errorf(c->resp, UF_E_HASH_MISMATCH,
                        "the upload has %llu bytes, not the %s announced: nothing was stored",
                        (unsigned long long)req->upload_size, length);
        return false;
    }
    return true;
}

static void post_blob(api_call *c)
{
    const char *tenant = managed_tenant(c);
    if (!tenant || !check_announced(c))
        return;
    http_request *req = c->req;
    uf_error err;
    bool created = false;
    if (!blob_store_put(c->srv->cfg.data_dir, TUF_BLOB_AREA, req->upload_sha256,
                        req->upload_path, &err)) {
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c))
        return;
    bool ok = tuf_repo_add_blob(c->db, tenant, req->upload_sha256, req->upload_sha1, req->upload_md5,
                           (int64_t)req->upload_size, c->who->username, (int64_t)time(NULL),
                           &created, &err) &&
         db_commit(c->db, &err);
    if (!ok) {
        db_rollback(c->db);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, created ? 201 : 200,
                  json_pack("{s:s, s:s, s:s, s:I}", "sha256", req->upload_sha256, "sha1",
                            req->upload_sha1, "md5", req->upload_md5, "length",
                            (json_int_t)req->upload_size));
}

static void post_metadata(api_call *c)
{
    const char *tenant = managed_tenant(c);
    if (!tenant)
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"files", NULL};
    json_t *files, *published = NULL, *status = NULL;
    uf_error err;
    tuf_repo_config cfg = repo_config(c->srv);
    bool ok = uf_json_only_keys(body, "", allowed, &err) &&
              uf_json_get_object(body, "", "files", &files, &err);
    if (ok && !api_begin(c)) {
        json_decref(body);
        return;
    }
    if (ok) {
        ok = tuf_repo_push(c->db, &cfg, tenant, files, c->who->username, (int64_t)time(NULL),
                           &published, &err) &&
             (status = tuf_repo_status(c->db, tenant, &err)) != NULL && db_commit(c->db, &err);
        if (!ok)
            db_rollback(c->db);
    }
    json_decref(body);
    if (!ok) {
        json_decref(published);
        json_decref(status);
        api_fail(c, &err);
        return;
    }
    json_object_set_new(status, "published", published);
    http_set_json(c->resp, 200, status);
}

const route api_tuf_routes[] = {
    {"GET", "/tuf/{tenant}/metadata/{file}", ROUTE_PUBLIC, get_metadata,
     "TUF metadata: N.root.json, timestamp.json, V.snapshot.json, V.targets.json, V.ROLE.json"},
    {"GET", "/tuf/{tenant}/targets/{path*}", ROUTE_PUBLIC, get_target,
     "a release file by its consistent-snapshot name DIR/SHA256.NAME (Range supported)"},
    {"GET", "/api/v1/tuf/{tenant}", ROUTE_USER, get_status,
     "the repository's role versions, expiries and online keys"},
    {"POST", "/api/v1/tuf/{tenant}/online-keys", ROUTE_USER, post_online_key,
     "create an online (snapshot or timestamp) key held by the server"},
    {"GET", "/api/v1/tuf/{tenant}/blobs/{sha256}", ROUTE_USER, get_blob,
     "whether a release file was uploaded, with its hashes"},
    {"POST", "/api/v1/tuf/{tenant}/blobs", ROUTE_USER, post_blob,
     "upload a release file (streamed; ?sha256=&length= checked)"},
    {"POST", "/api/v1/tuf/{tenant}/metadata", ROUTE_USER, post_metadata,
     "push offline-signed root, targets and delegated metadata; re-signs snapshot and timestamp"},
};
const size_t api_tuf_routes_n = sizeof api_tuf_routes / sizeof api_tuf_routes[0];
