/*
 * repo_remote.c - talking to the server's TUF repository API (see repo_remote.h).
 */
#include "cli/repo_remote.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"

bool uf_repo_remote_open(uf_repo_remote *rr, const uf_client_target *target,
                         const char *tenant, uf_error *err)
{
    memset(rr, 0, sizeof *rr);
    rr->resp = (uf_response)UF_RESPONSE_INIT;
    snprintf(rr->base, sizeof rr->base, "/api/v1/tuf/%s", tenant);
    rr->client = uf_client_open(target, UF_CLIENT_SIGNED_IN, err);
    return rr->client != NULL;
}

void uf_repo_remote_close(uf_repo_remote *rr)
{
    uf_response_clear(&rr->resp);
    uf_client_close(rr->client);
    rr->client = NULL;
}

/* METHOD BASE+tail with body; the answer's body, borrowed from rr->resp. */
static json_t *call(uf_repo_remote *rr, const char *method, const char *tail,
                    const json_t *body, uf_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", rr->base, tail);
    if (!uf_client_call(rr->client, method, path, body, &rr->resp, err))
        return NULL;
    return rr->resp.body;
}

json_t *uf_repo_remote_status(uf_repo_remote *rr, uf_error *err)
{
    json_t *body = call(rr, "GET", "", NULL, err);
    if (!body) {
        uf_error_prefix(err, "read the server's repository status");
        return NULL;
    }
    if (!json_is_object(json_object_get(body, "roles"))) {
        uf_error_set(err, UF_E_BAD_FIELD, "the server's repository status has no roles");
        return NULL;
    }
    return json_incref(body);
}

int64_t uf_repo_remote_version(const json_t *status, const char *role)
{
    return json_integer_value(
        json_object_get(json_object_get(json_object_get(status, "roles"), role), "version"));
}

json_t *uf_repo_remote_new_online_key(uf_repo_remote *rr, const char *role, uf_error *err)
{
    json_t *req = json_pack("{s:s}", "role", role);
    json_t *body = req ? call(rr, "POST", "/online-keys", req, err) : NULL;
    json_decref(req);
    json_t *key = json_object_get(body, "key");
    if (body && !json_is_object(key))
        uf_error_set(err, UF_E_BAD_FIELD, "the answer has no key");
    if (!json_is_object(key)) {
        uf_error_prefix(err, "ask the server for a new %s key", role);
        return NULL;
    }
    return json_incref(key);
}

json_t *uf_repo_remote_online_keys(uf_repo_remote *rr, const json_t *status, const char *role,
                                   uf_error *err)
{
    const json_t *listed = json_object_get(json_object_get(status, "online_keys"), role), *e;
    json_t *out = json_array();
    size_t i;
    json_array_foreach(listed, i, e) {
        json_t *key = json_object_get(e, "key");
        if (json_is_object(key))
            json_array_append(out, key);
    }
    if (json_array_size(out) == 0) {
        json_t *key = uf_repo_remote_new_online_key(rr, role, err);
        if (!key) {
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, key);
    }
    return out;
}

bool uf_repo_remote_has_blob(uf_repo_remote *rr, const char *sha256, int64_t length,
                             bool *has, uf_error *err)
{
    char tail[128];
    snprintf(tail, sizeof tail, "/blobs/%s", sha256);
    uf_error e;
    json_t *body = call(rr, "GET", tail, NULL, &e);
    if (!body && rr->resp.status == 404 && e.code == UF_E_NOT_FOUND) {
        *has = false;
        return true;
    }
    if (!body) {
        *err = e;
        return uf_error_prefix(err, "ask the server for blob %s", sha256);
    }
    *has = json_integer_value(json_object_get(body, "length")) == length;
    return true;
}

bool uf_repo_remote_upload_blob(uf_repo_remote *rr, const char *file, const char *sha256,
                                int64_t length, uf_error *err)
{
    uf_buf path = UF_BUF_INIT;
    char len_text[32];
    snprintf(len_text, sizeof len_text, "%" PRId64, length);
    bool ok = uf_buf_printf(&path, err, "%s/blobs", rr->base) &&
              uf_client_query(rr->client, &path, "sha256", sha256, err) &&
              uf_client_query(rr->client, &path, "length", len_text, err) &&
              uf_client_upload(rr->client, path.data, file, &rr->resp, err);
    const char *stored = json_string_value(json_object_get(rr->resp.body, "sha256"));
    if (ok && (!stored || strcmp(stored, sha256) != 0))
        ok = uf_error_set(err, UF_E_HASH_MISMATCH, "the server stored SHA-256 %s, not %s",
                          stored ? stored : "(none)", sha256);
    uf_buf_free(&path);
    return ok || uf_error_prefix(err, "upload %s", file);
}

json_t *uf_repo_remote_push(uf_repo_remote *rr, const json_t *files, uf_error *err)
{
    json_t *req = json_pack("{s:O}", "files", files);
    json_t *body = req ? call(rr, "POST", "/metadata", req, err) : NULL;
    json_decref(req);
    if (!body) {
        uf_error_prefix(err, "push metadata");
        return NULL;
    }
    return json_incref(body);
}
