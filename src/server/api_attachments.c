/*
 * api_attachments.c - files attached to records (scanned signed forms, test reports).
 *
 * Uploads stream to a temporary file while being hashed (http.c), so a large file never sits
 * in memory; the content is then stored once under its SHA-256 (attachments/ab/abcd...), and
 * a row names it for the record with its kind. If the client sent the hash it expects
 * (?sha256=...) and the bytes differ, the answer is 409 and nothing is stored. A full disk
 * answers 507 and leaves nothing behind.
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

#include "server/api.h"
#include "server/audit.h"
#include "server/blob_store.h"
#include "server/record.h"
#include "server/workflow.h"

bool api_attachments_is_upload(const char *method, const char *path)
{
    if (strcmp(method, "POST") != 0 || strncmp(path, "/api/v1/records/", 16) != 0)
        return false;
    /* Only the path is known here; the token is checked before the handler runs, and an
     * unauthenticated upload is discarded then. */
    const char *tail = strchr(path + 16, '/');
    return tail && strcmp(tail, "/attachments") == 0;
}

static bool valid_label(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '/' || *p == '\\')
            return false;
    return true;
}

static void post_attachment(api_call *c)
{
    int64_t id;
    if (!api_param_id(c, 0, &id))
        return;
    http_request *req = c->req;
    const char *kind = http_query(req, "kind"), *filename = http_query(req, "filename");
    const char *expect = http_query(req, "sha256"), *visible = http_query(req, "customer_visible");
    const char *ctype = http_header(req, "Content-Type");
    if (!kind || !valid_label(kind, 64) || !filename || !valid_label(filename, 255)) {
        http_set_errorf(c->resp, UF_E_BAD_FIELD,
                        "give ?kind=KIND&filename=NAME (no slashes or control characters)");
        return;
    }
    if (expect && strcasecmp(expect, req->upload_sha256) != 0) {
        http_set_errorf(c->resp, UF_E_HASH_MISMATCH,
                        "the upload's SHA-256 is %s, not the %s you sent: nothing was stored",
                        req->upload_sha256, expect);
        return;
    }
    wf_record r;
    uf_error err;
    if (!record_load(c->db, id, &r, &err)) {
        api_fail(c, &err);
        return;
    }
    if (!wf_can_see(&c->srv->registry, c->who, &r)) {
        record_clear(&r);
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no record %lld", (long long)id);
        return;
    }
    bool customer_visible = c->who->customer[0] || (visible && strcmp(visible, "1") == 0) ||
                            (visible && strcmp(visible, "true") == 0);
    int64_t aid = 0;
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    json_t *detail = json_pack("{s:s, s:s, s:s, s:I}", "kind", kind, "filename", filename,
                               "sha256", req->upload_sha256, "size", (json_int_t)req->upload_size);
    audit_entry e = {.actor = c->who->username, .action = "record.attachment",
                     .object_kind = "record", .object_id = idtext,
                     .template_version = r.template_version, .detail = detail};
    bool ok = blob_store_put(c->srv->cfg.data_dir, "attachments", req->upload_sha256,
                             req->upload_path, &err) && db_begin(c->db, &err) &&
              db_query_int(c->db,
                           "INSERT INTO attachments (record_id, sha256, size, kind, filename,"
                           " content_type, customer_visible, uploaded_by, created_at)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                           DB_ARGS(db_int(id), db_text(req->upload_sha256),
                                   db_int((int64_t)req->upload_size), db_text(kind),
                                   db_text(filename),
                                   db_text(ctype ? ctype : "application/octet-stream"),
                                   db_int(customer_visible), db_text(c->who->username),
                                   db_int((int64_t)time(NULL))),
                           &aid, NULL, &err) &&
              audit_append(c->db, &e, NULL, &err) && db_commit(c->db, &err);
    json_decref(detail);
    record_clear(&r);
    if (!ok) {
        db_rollback(c->db);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 201,
                  json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:b}", "id", (json_int_t)aid,
                            "record_id", (json_int_t)id, "sha256", req->upload_sha256, "size",
                            (json_int_t)req->upload_size, "kind", kind, "filename", filename,
                            "customer_visible", customer_visible));
}

static bool attachment_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    (void)c;
    (void)err;
    json_t *row = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:b, s:s, s:I}", "id",
                            (json_int_t)db_col_int(st, 0), "sha256", db_col_text(st, 1), "size",
                            (json_int_t)db_col_int(st, 2), "kind", db_col_text(st, 3),
                            "filename", db_col_text(st, 4), "content_type", db_col_text(st, 5),
                            "customer_visible", (int)db_col_int(st, 6), "uploaded_by",
                            db_col_text(st, 7), "created_at", (json_int_t)db_col_int(st, 8));
    return json_array_append_new(items, row) == 0;
}

static void get_attachments(api_call *c)
{
    int64_t id;
    if (!api_param_id(c, 0, &id))
        return;
    wf_record r;
    uf_error err;
    if (!record_load(c->db, id, &r, &err)) {
        api_fail(c, &err);
        return;
    }
    bool visible = wf_can_see(&c->srv->registry, c->who, &r);
    record_clear(&r);
    if (!visible) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no record %lld", (long long)id);
        return;
    }
    api_respond_rows(c,
                     "SELECT id, sha256, size, kind, filename, content_type, customer_visible,"
                     " uploaded_by, created_at FROM attachments WHERE record_id = $1"
                     " AND ($2 = 0 OR customer_visible = 1) ORDER BY id",
                     DB_ARGS(db_int(id), db_int(c->who->customer[0] != '\0')), attachment_row);
}

static void get_attachment_content(api_call *c)
{
    int64_t aid;
    if (!api_param_id(c, 0, &aid))
        return;
    uf_error err;
    db_stmt *st = db_query(c->db,
                           "SELECT record_id, sha256, size, content_type, customer_visible"
                           " FROM attachments WHERE id = $1",
                           DB_ARGS(db_int(aid)), &err);
    if (!st) {
        api_fail(c, &err);
        return;
    }
    int rc = db_step(st, &err);
    int64_t record_id = rc == 1 ? db_col_int(st, 0) : 0;
    char sha[65] = "", ctype[128] = "application/octet-stream";
    bool customer_visible = false;
    if (rc == 1) {
        snprintf(sha, sizeof sha, "%s", db_col_text(st, 1));
        snprintf(ctype, sizeof ctype, "%s", db_col_text(st, 3));
        customer_visible = db_col_int(st, 4) != 0;
    }
    db_finalize(st);
    wf_record r;
    bool visible = rc == 1 && record_load(c->db, record_id, &r, &err);
    if (visible) {
        visible = wf_can_see(&c->srv->registry, c->who, &r) &&
                  (!c->who->customer[0] || customer_visible);
        record_clear(&r);
    }
    if (!visible) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no attachment %lld", (long long)aid);
        return;
    }
    char path[CONFIG_STR_MAX + 160];
    blob_store_path(c->srv->cfg.data_dir, "attachments", sha, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat stt;
    if (fd < 0 || fstat(fd, &stt) != 0) {
        if (fd >= 0)
            close(fd);
        uf_error_errno(&err, errno, "attachment %lld content", (long long)aid);
        api_fail(c, &err);
        return;
    }
    http_set_file(c->resp, 200, NULL, fd, (uint64_t)stt.st_size);
    http_add_header(c->resp, "Content-Type", ctype);
    char etag[80];
    snprintf(etag, sizeof etag, "\"%s\"", sha);
    http_add_header(c->resp, "ETag", etag);
    http_add_header(c->resp, "X-Content-SHA256", sha);
}

const route api_attachments_routes[] = {
    {"POST", "/api/v1/records/{id}/attachments", ROUTE_USER, post_attachment,
     "upload an attachment (raw body; ?kind=&filename=[&sha256=][&customer_visible=1])"},
    {"GET", "/api/v1/records/{id}/attachments", ROUTE_USER, get_attachments, "attachments of a record"},
    {"GET", "/api/v1/attachments/{id}", ROUTE_USER, get_attachment_content, "download an attachment"},
};
const size_t api_attachments_routes_n = sizeof api_attachments_routes / sizeof api_attachments_routes[0];
