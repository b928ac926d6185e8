/*
 * api_notifications.c - the caller's in-app notifications: list them (newest first, only
 * those whose delivery time has come: a notification held to working hours appears when the
 * next working session starts) and mark one read. Nobody sees another user's notifications.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "server/api.h"

#define NOTIFICATIONS_DEFAULT_LIMIT 50
#define NOTIFICATIONS_MAX_LIMIT 200

/* Columns: id, record_id, event, title, body, created_at, read_at. */
static json_t *notification_row(db_stmt *st)
{
    const char *text = db_col_text(st, 4);
    json_t *body = uf_json_parse(text, strlen(text), NULL, NULL);
    return json_pack("{s:I, s:o, s:s, s:s, s:o, s:I, s:o}", "id", (json_int_t)db_col_int(st, 0),
                     "record_id",
                     db_col_is_null(st, 1) ? json_null() : json_integer(db_col_int(st, 1)),
                     "event", db_col_text(st, 2), "title", db_col_text(st, 3), "body",
                     body ? body : json_object(), "created_at", (json_int_t)db_col_int(st, 5),
                     "read_at",
                     db_col_is_null(st, 6) ? json_null() : json_integer(db_col_int(st, 6)));
}

static bool query_long(api_call *c, const char *name, long long min, long long max,
                       long long *out)
{
    const char *s = http_query(c->req, name);
    if (!s)
        return true;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < min || v > max) {
        http_set_errorf(c->resp, UF_E_BAD_FIELD, "?%s: expected a whole number in [%lld, %lld]",
                        name, min, max);
        return false;
    }
    *out = v;
    return true;
}

static void get_notifications(api_call *c)
{
    const char *unread = http_query(c->req, "unread");
    if (unread && strcmp(unread, "true") != 0 && strcmp(unread, "false") != 0) {
        http_set_errorf(c->resp, UF_E_BAD_FIELD, "?unread: expected true or false");
        return;
    }
    long long limit = NOTIFICATIONS_DEFAULT_LIMIT, before = 0;
    if (!query_long(c, "limit", 1, NOTIFICATIONS_MAX_LIMIT, &limit) ||
        !query_long(c, "before", 1, INT64_MAX, &before))
        return;
    int64_t now = (int64_t)time(NULL);
    bool only_unread = unread && strcmp(unread, "true") == 0;
    uf_error err;
    db_stmt *st = db_query(c->db,
                           "SELECT id, record_id, event, title, body, created_at, read_at"
                           " FROM notifications WHERE username = $1 AND deliver_at <= $2"
                           " AND ($3 = 0 OR read_at IS NULL) AND ($4 = 0 OR id < $4)"
                           " ORDER BY id DESC LIMIT $5",
                           DB_ARGS(db_text(c->who->username), db_int(now), db_int(only_unread),
                                   db_int(before), db_int(limit)),
                           &err);
    if (!st) {
        api_fail(c, &err);
        return;
    }
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(st, &err)) == 1)
        json_array_append_new(items, notification_row(st));
    db_finalize(st);
    int64_t unread_count = 0;
    if (rc < 0 ||
        !db_query_int(c->db,
                      "SELECT COUNT(*) FROM notifications WHERE username = $1 AND deliver_at <= $2"
                      " AND read_at IS NULL",
                      DB_ARGS(db_text(c->who->username), db_int(now)), &unread_count, NULL,
                      &err)) {
        json_decref(items);
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, json_pack("{s:o, s:I}", "items", items, "unread",
                                          (json_int_t)unread_count));
}

static void post_notification_read(api_call *c)
{
    int64_t id;
    if (!api_param_id(c, 0, &id))
        return;
    uf_error err;
    int64_t now = (int64_t)time(NULL);
    /* marking twice keeps the first time; another user's notification does not exist */
    if (!db_exec(c->db,
                 "UPDATE notifications SET read_at = $3 WHERE id = $1 AND username = $2"
                 " AND read_at IS NULL AND deliver_at <= $3",
                 DB_ARGS(db_int(id), db_text(c->who->username), db_int(now)), &err)) {
        api_fail(c, &err);
        return;
    }
    db_stmt *st = db_query(c->db,
                           "SELECT id, record_id, event, title, body, created_at, read_at"
                           " FROM notifications WHERE id = $1 AND username = $2"
                           " AND deliver_at <= $3",
                           DB_ARGS(db_int(id), db_text(c->who->username), db_int(now)), &err);
    if (!st) {
        api_fail(c, &err);
        return;
    }
    int rc = db_step(st, &err);
    json_t *out = rc == 1 ? notification_row(st) : NULL;
    db_finalize(st);
    if (rc < 0)
        api_fail(c, &err);
    else if (!out)
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no notification %lld", (long long)id);
    else
        http_set_json(c->resp, 200, out);
}

const route api_notifications_routes[] = {
    {"GET", "/api/v1/notifications", ROUTE_USER, get_notifications,
     "the caller's notifications, newest first (?unread=true, ?limit=, ?before=ID)"},
    {"POST", "/api/v1/notifications/{id}/read", ROUTE_USER, post_notification_read,
     "mark a notification read"},
};
const size_t api_notifications_routes_n =
    sizeof api_notifications_routes / sizeof api_notifications_routes[0];
