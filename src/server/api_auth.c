/*
 * api_auth.c - sign-in and identity: login/logout, the caller's own profile and API tokens,
 * and user administration (admin role).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "server/api.h"
#include "server/audit.h"

/* Commit, or roll back and answer err. */
static void finish(api_call *c, bool ok, uf_error *err, int status, json_t *body)
{
    if (ok && db_commit(c->db, err)) {
        http_set_json(c->resp, status, body);
        return;
    }
    db_rollback(c->db);
    json_decref(body);
    api_fail(c, err);
}

static bool audit_simple(api_call *c, const char *actor, const char *action, const char *kind,
                         const char *id, json_t *detail, uf_error *err)
{
    audit_entry e = {.actor = actor, .action = action, .object_kind = kind, .object_id = id,
                     .detail = detail};
    bool ok = audit_append(c->db, &e, NULL, err);
    json_decref(detail);
    if (ok)
        atomic_fetch_add(&c->srv->metrics.audit_events, 1);
    return ok;
}

static void post_login(api_call *c)
{
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"username", "password", NULL};
    const char *username, *password;
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_string(body, "", "username", &username, &err) ||
        !uf_json_get_string(body, "", "password", &password, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    char token[UF_TOKEN_MAX];
    int64_t expires;
    auth_identity who;
    bool ok = auth_check_password(c->db, username, password, &who, &err);
    if (!ok) {
        uf_error audit_err;
        if (err.code == UF_E_UNAUTHORIZED && api_begin(c)) {
            atomic_fetch_add(&c->srv->metrics.logins_failed, 1);
            /* the failure itself is evidence worth keeping */
            bool kept = audit_simple(c, username, "login.failed", "user", "", NULL, &audit_err) &&
                        db_commit(c->db, &audit_err);
            if (!kept)
                db_rollback(c->db);
        }
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    ok = auth_issue_session(c->db, &who, c->srv->cfg.session_ttl, token, &expires, &err);
    snprintf(c->req->actor, sizeof c->req->actor, "%s", who.username);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)who.user_id);
    ok = ok && audit_simple(c, who.username, "login", "user", id, NULL, &err);
    json_t *out = ok ? json_pack("{s:s, s:s, s:I, s:o}", "token", token, "token_type", "Bearer",
                                 "expires_at", (json_int_t)expires, "user",
                                 auth_user_json(c->db, who.user_id, &err))
                     : NULL;
    json_decref(body);
    finish(c, ok && out, &err, 200, out);
}

static void post_logout(api_call *c)
{
    uf_error err;
    if (!api_begin(c))
        return;
    bool ok = auth_revoke_token(c->db, c->who->token_id, c->who->user_id, &err);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)c->who->user_id);
    ok = ok && audit_simple(c, c->who->username, "logout", "user", id, NULL, &err);
    finish(c, ok, &err, 200, json_pack("{s:b}", "revoked", 1));
}

static void get_me(api_call *c)
{
    uf_error err;
    json_t *u = auth_user_json(c->db, c->who->user_id, &err);
    if (!u) {
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, u);
}

static bool token_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    (void)err;
    return json_array_append_new(
               items, json_pack("{s:I, s:s, s:s, s:I, s:I, s:o, s:b}", "id",
                                (json_int_t)db_col_int(st, 0), "kind", db_col_text(st, 1),
                                "name", db_col_text(st, 2), "created_at",
                                (json_int_t)db_col_int(st, 3), "expires_at",
                                (json_int_t)db_col_int(st, 4), "revoked_at",
                                db_col_is_null(st, 5) ? json_null()
                                                      : json_integer(db_col_int(st, 5)),
                                "current", db_col_int(st, 0) == c->who->token_id)) == 0;
}

static void get_tokens(api_call *c)
{
    api_respond_rows(c,
                     "SELECT id, kind, name, created_at, expires_at, revoked_at FROM tokens"
                     " WHERE user_id = $1 ORDER BY id",
                     DB_ARGS(db_int(c->who->user_id)), token_row);
}

static void post_token(api_call *c)
{
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"name", "ttl_days", NULL};
    const char *name;
    int64_t days = 90;
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_string(body, "", "name", &name, &err) ||
        (json_object_get(body, "ttl_days") &&
         !uf_json_get_int_range(body, "", "ttl_days", 1, 3650, &days, &err))) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    char token[UF_TOKEN_MAX];
    int64_t id = 0;
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    bool ok = auth_issue_api_token(c->db, c->who->user_id, name, days * 86400, token, &id, &err);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)c->who->user_id);
    ok = ok && audit_simple(c, c->who->username, "token.create", "user", idtext,
                            json_pack("{s:s, s:I}", "name", name, "token_id", (json_int_t)id), &err);
    json_t *out = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "name", name, "token", token);
    json_decref(body);
    finish(c, ok, &err, 201, out);
}

static void delete_token(api_call *c)
{
    int64_t id;
    if (!api_param_id(c, 0, &id) || !api_begin(c))
        return;
    uf_error err;
    bool ok = auth_revoke_token(c->db, id, c->who->user_id, &err);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)c->who->user_id);
    ok = ok && audit_simple(c, c->who->username, "token.revoke", "user", idtext,
                            json_pack("{s:I}", "token_id", (json_int_t)id), &err);
    finish(c, ok, &err, 200, json_pack("{s:b}", "revoked", 1));
}

static bool user_row(api_call *c, db_stmt *st, json_t *items, uf_error *err)
{
    json_t *u = auth_user_json(c->db, db_col_int(st, 0), err);
    return u && json_array_append_new(items, u) == 0;
}

static void get_users(api_call *c)
{
    api_respond_rows(c, "SELECT id FROM users ORDER BY id", DB_NO_ARGS, user_row);
}

static void post_user(api_call *c)
{
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"username", "display_name", "password", "customer",
                                          "roles", NULL};
    auth_new_user u = {0};
    json_t *roles = NULL;
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_get_string(body, "", "username", &u.username, &err) ||
        !uf_json_opt_string(body, "", "display_name", &u.display_name, &err) ||
        !uf_json_opt_string(body, "", "password", &u.password, &err) ||
        !uf_json_opt_string(body, "", "customer", &u.customer, &err) ||
        !uf_json_opt_array(body, "", "roles", &roles, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    int64_t id = 0;
    bool ok = auth_create_user(c->db, &u, &c->srv->kdf, c->who->username, &id, &err);
    for (size_t i = 0; ok && roles && i < json_array_size(roles); i++) {
        char path[32];
        uf_json_path_index(path, sizeof path, "roles", i);
        const char *role, *kind = "", *scope = "";
        json_t *r = json_array_get(roles, i);
        ok = uf_json_get_string(r, path, "role", &role, &err) &&
             uf_json_opt_string(r, path, "scope_kind", &kind, &err) &&
             uf_json_opt_string(r, path, "scope", &scope, &err);
        auth_role ar;
        snprintf(ar.role, sizeof ar.role, "%s", ok ? role : "");
        snprintf(ar.scope_kind, sizeof ar.scope_kind, "%s", kind);
        snprintf(ar.scope, sizeof ar.scope, "%s", scope);
        ok = ok && auth_grant_role(c->db, id, &ar, c->who->username, &err);
    }
    json_t *out = ok ? auth_user_json(c->db, id, &err) : NULL;
    json_decref(body);
    finish(c, ok && out, &err, 201, out);
}

/* Admins see anyone; a user sees only itself. */
static void get_user(api_call *c)
{
    int64_t id;
    if (!api_param_id(c, 0, &id))
        return;
    if (id != c->who->user_id && !auth_is_admin(c->who)) {
        http_set_errorf(c->resp, UF_E_FORBIDDEN, "only an admin may read other users");
        return;
    }
    uf_error err;
    json_t *u = auth_user_json(c->db, id, &err);
    if (!u) {
        api_fail(c, &err);
        return;
    }
    http_set_json(c->resp, 200, u);
}

static void patch_user(api_call *c)
{
    int64_t id;
    if (!api_param_id(c, 0, &id))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    static const char *const allowed[] = {"display_name", "disabled", "password", NULL};
    const char *display = NULL, *password = NULL;
    bool disabled = false, has_disabled = json_object_get(body, "disabled") != NULL;
    uf_error err;
    if (!uf_json_only_keys(body, "", allowed, &err) ||
        !uf_json_opt_string(body, "", "display_name", &display, &err) ||
        !uf_json_opt_string(body, "", "password", &password, &err) ||
        !uf_json_opt_bool(body, "", "disabled", &disabled, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    char hash[UF_PASSWORD_HASH_MAX] = "";
    if (password && (strlen(password) < 8 || strlen(password) > 1024)) {
        json_decref(body);
        http_set_errorf(c->resp, UF_E_BAD_FIELD, "password: use 8 to 1024 characters");
        return;
    }
    if (password && !uf_password_hash(password, &c->srv->kdf, hash, &err)) {
        json_decref(body);
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c)) {
        json_decref(body);
        return;
    }
    int64_t changes = 0;
    bool ok = db_exec_changes(
        c->db,
        "UPDATE users SET display_name = COALESCE($2, display_name),"
        " password_hash = COALESCE($3, password_hash),"
        " disabled = CASE WHEN $4 IS NULL THEN disabled ELSE $4 END WHERE id = $1",
        DB_ARGS(db_int(id), db_text(display), db_text(password ? hash : NULL),
                has_disabled ? db_int(disabled) : db_null()),
        &changes, &err);
    if (ok && changes == 0)
        ok = uf_error_set(&err, UF_E_NOT_FOUND, "no user %lld", (long long)id);
    /* disabling a user or changing its password ends its sessions */
    if (ok && ((has_disabled && disabled) || password))
        ok = db_exec(c->db, "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                     DB_ARGS(db_int(id), db_int((int64_t)time(NULL))), &err);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    ok = ok && audit_simple(c, c->who->username, "user.update", "user", idtext,
                            json_pack("{s:s?, s:b, s:o}", "display_name", display,
                                      "password_changed", password != NULL, "disabled",
                                      has_disabled ? json_boolean(disabled) : json_null()),
                            &err);
    json_t *out = ok ? auth_user_json(c->db, id, &err) : NULL;
    json_decref(body);
    finish(c, ok && out, &err, 200, out);
}

static bool role_from_request(api_call *c, json_t *body, auth_role *r, uf_error *err)
{
    static const char *const allowed[] = {"role", "scope_kind", "scope", NULL};
    const char *role, *kind = "", *scope = "";
    if (!uf_json_only_keys(body, "", allowed, err) ||
        !uf_json_get_string(body, "", "role", &role, err) ||
        !uf_json_opt_string(body, "", "scope_kind", &kind, err) ||
        !uf_json_opt_string(body, "", "scope", &scope, err))
        return false;
    (void)c;
    snprintf(r->role, sizeof r->role, "%s", role);
    snprintf(r->scope_kind, sizeof r->scope_kind, "%s", kind);
    snprintf(r->scope, sizeof r->scope, "%s", scope);
    return true;
}

static void change_role(api_call *c, bool grant)
{
    int64_t id;
    if (!api_param_id(c, 0, &id))
        return;
    json_t *body = http_body_json(c->req, c->resp);
    if (!body)
        return;
    auth_role r;
    uf_error err;
    bool ok = role_from_request(c, body, &r, &err);
    json_decref(body);
    if (!ok) {
        api_fail(c, &err);
        return;
    }
    if (!api_begin(c))
        return;
    ok = grant ? auth_grant_role(c->db, id, &r, c->who->username, &err)
               : auth_revoke_role(c->db, id, &r, c->who->username, &err);
    json_t *out = ok ? auth_user_json(c->db, id, &err) : NULL;
    finish(c, ok && out, &err, 200, out);
}

static void post_role(api_call *c) { change_role(c, true); }
static void post_role_revoke(api_call *c) { change_role(c, false); }

const route api_auth_routes[] = {
    {"POST", "/api/v1/auth/login", ROUTE_PUBLIC, post_login, "sign in with a password"},
    {"POST", "/api/v1/auth/logout", ROUTE_USER, post_logout, "revoke the current token"},
    {"GET", "/api/v1/me", ROUTE_USER, get_me, "the signed-in user"},
    {"GET", "/api/v1/tokens", ROUTE_USER, get_tokens, "the caller's tokens"},
    {"POST", "/api/v1/tokens", ROUTE_USER, post_token, "issue an API token"},
    {"DELETE", "/api/v1/tokens/{id}", ROUTE_USER, delete_token, "revoke one of the caller's tokens"},
    {"GET", "/api/v1/users", ROUTE_ADMIN, get_users, "list users"},
    {"POST", "/api/v1/users", ROUTE_ADMIN, post_user, "create a user"},
    {"GET", "/api/v1/users/{id}", ROUTE_USER, get_user, "one user (admin, or oneself)"},
    {"PATCH", "/api/v1/users/{id}", ROUTE_ADMIN, patch_user, "change name, password, disabled"},
    {"POST", "/api/v1/users/{id}/roles", ROUTE_ADMIN, post_role, "grant a role"},
    {"POST", "/api/v1/users/{id}/roles/revoke", ROUTE_ADMIN, post_role_revoke, "revoke a role"},
};
const size_t api_auth_routes_n = sizeof api_auth_routes / sizeof api_auth_routes[0];
