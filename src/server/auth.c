/*
 * auth.c - users, roles, password logins and bearer tokens (see auth.h).
 */
#include "server/auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hash.h"
#include "server/audit.h"


bool auth_has_role(const auth_identity *who, const char *role, const char *scope_kind,
                   const char *scope)
{
    for (size_t i = 0; i < who->n_roles; i++) {
        const auth_role *r = &who->roles[i];
        if (strcmp(r->role, role) != 0)
            continue;
        if (!scope_kind || r->scope_kind[0] == '\0')
            return true;
        if (strcmp(r->scope_kind, scope_kind) == 0 && scope && strcmp(r->scope, scope) == 0)
            return true;
    }
    return false;
}

bool auth_is_admin(const auth_identity *who) { return auth_has_role(who, "admin", NULL, NULL); }

static bool valid_username(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n >= AUTH_NAME_MAX)
        return false;
    for (const char *p = u; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("._-", *p))
            return false;
    return true;
}

static bool valid_role_name(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n >= AUTH_NAME_MAX)
        return false;
    for (const char *p = r; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

bool auth_create_user(db *d, const auth_new_user *u, const uf_password_params *kdf,
                      const char *actor, int64_t *user_id, uf_error *err)
{
    if (!u->username || !valid_username(u->username))
        return uf_error_set(err, UF_E_BAD_FIELD,
                            "username: use 1 to %d characters of a-z, 0-9, '.', '_', '-'",
                            AUTH_NAME_MAX - 1);
    if (u->customer && strlen(u->customer) >= AUTH_NAME_MAX)
        return uf_error_set(err, UF_E_BAD_FIELD, "customer: longer than %d characters",
                            AUTH_NAME_MAX - 1);
    char hash[UF_PASSWORD_HASH_MAX] = "";
    if (u->password) {
        size_t n = strlen(u->password);
        if (n < 8 || n > 1024)
            return uf_error_set(err, UF_E_BAD_FIELD, "password: use 8 to 1024 characters");
        if (!uf_password_hash(u->password, kdf, hash, err))
            return uf_error_prefix(err, "hash password");
    }
    bool exists;
    int64_t id;
    if (!db_query_int(d, "SELECT id FROM users WHERE username = $1", DB_ARGS(db_text(u->username)),
                      &id, &exists, err))
        return false;
    if (exists)
        return uf_error_set(err, UF_E_CONFLICT, "user '%s' already exists", u->username);
    if (!db_query_int(d,
                      "INSERT INTO users (username, display_name, password_hash, customer, created_at)"
                      " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                      DB_ARGS(db_text(u->username),
                              db_text(u->display_name ? u->display_name : ""),
                              db_text(u->password ? hash : NULL),
                              db_text(u->customer && u->customer[0] ? u->customer : NULL),
                              db_int((int64_t)time(NULL))),
                      &id, NULL, err))
        return uf_error_prefix(err, "create user '%s'", u->username);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    json_t *detail = json_pack("{s:s, s:s?}", "username", u->username, "customer",
                               u->customer && u->customer[0] ? u->customer : NULL);
    audit_entry e = {.actor = actor, .action = "user.create", .object_kind = "user",
                     .object_id = idtext, .detail = detail};
    bool ok = audit_append(d, &e, NULL, err);
    json_decref(detail);
    if (ok && user_id)
        *user_id = id;
    return ok;
}

static bool role_audit(db *d, int64_t user_id, const auth_role *r, const char *action,
                       const char *actor, uf_error *err)
{
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)user_id);
    json_t *detail = json_pack("{s:s, s:s, s:s}", "role", r->role, "scope_kind", r->scope_kind,
                               "scope", r->scope);
    audit_entry e = {.actor = actor, .action = action, .object_kind = "user",
                     .object_id = idtext, .detail = detail};
    bool ok = audit_append(d, &e, NULL, err);
    json_decref(detail);
    return ok;
}

static bool valid_scope(const auth_role *r, uf_error *err)
{
    if (!valid_role_name(r->role))
        return uf_error_set(err, UF_E_BAD_FIELD, "role: use a-z, 0-9 and '_' (got '%s')", r->role);
    if (strcmp(r->scope_kind, "") != 0 && strcmp(r->scope_kind, "product") != 0 &&
        strcmp(r->scope_kind, "customer") != 0)
        return uf_error_set(err, UF_E_BAD_FIELD,
                            "scope_kind: expected \"\", \"product\" or \"customer\", got '%s'",
                            r->scope_kind);
    if ((r->scope_kind[0] == '\0') != (r->scope[0] == '\0'))
        return uf_error_set(err, UF_E_BAD_FIELD, "scope: give both scope_kind and scope, or neither");
    return true;
}

bool auth_grant_role(db *d, int64_t user_id, const auth_role *r, const char *actor,
                     uf_error *err)
{
    if (!valid_scope(r, err))
        return false;
    int64_t changes = 0;
    if (!db_exec_changes(d,
                         "INSERT INTO user_roles (user_id, role, scope_kind, scope)"
                         " SELECT id, $2, $3, $4 FROM users WHERE id = $1"
                         " ON CONFLICT DO NOTHING",
                         DB_ARGS(db_int(user_id), db_text(r->role), db_text(r->scope_kind),
                                 db_text(r->scope)),
                         &changes, err))
        return uf_error_prefix(err, "grant role %s", r->role);
    if (changes == 0) {
        bool found;
        int64_t id;
        if (!db_query_int(d, "SELECT id FROM users WHERE id = $1", DB_ARGS(db_int(user_id)), &id,
                          &found, err))
            return false;
        if (!found)
            return uf_error_set(err, UF_E_NOT_FOUND, "no user %lld", (long long)user_id);
        return true; /* already held: granting twice is not an error */
    }
    return role_audit(d, user_id, r, "user.role.grant", actor, err);
}

bool auth_revoke_role(db *d, int64_t user_id, const auth_role *r, const char *actor,
                      uf_error *err)
{
    int64_t changes = 0;
    if (!db_exec_changes(d,
                         "DELETE FROM user_roles WHERE user_id = $1 AND role = $2"
                         " AND scope_kind = $3 AND scope = $4",
                         DB_ARGS(db_int(user_id), db_text(r->role), db_text(r->scope_kind),
                                 db_text(r->scope)),
                         &changes, err))
        return false;
    if (changes == 0)
        return uf_error_set(err, UF_E_NOT_FOUND, "user %lld does not hold role %s",
                            (long long)user_id, r->role);
    return role_audit(d, user_id, r, "user.role.revoke", actor, err);
}

static bool token_hash(const char *token, char out[UF_HASH_MAX_HEX], uf_error *err)
{
    return uf_hash_buf_hex(UF_HASH_SHA256, token, strlen(token), out, err);
}

static bool insert_token(db *d, int64_t user_id, const char *kind, const char *name,
                         int64_t ttl, char token[UF_TOKEN_MAX], int64_t *token_id,
                         int64_t *expires_at, uf_error *err)
{
    char hash[UF_HASH_MAX_HEX];
    if (!uf_random_token(strcmp(kind, "api") == 0 ? "ufa_" : "ufs_", token, err) ||
        !token_hash(token, hash, err))
        return false;
    int64_t now = (int64_t)time(NULL), id;
    if (!db_query_int(d,
                      "INSERT INTO tokens (user_id, kind, name, token_hash, created_at, expires_at)"
                      " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                      DB_ARGS(db_int(user_id), db_text(kind), db_text(name), db_text(hash),
                              db_int(now), db_int(now + ttl)),
                      &id, NULL, err))
        return uf_error_prefix(err, "store token");
    if (token_id)
        *token_id = id;
    if (expires_at)
        *expires_at = now + ttl;
    return true;
}

static bool load_roles(db *d, auth_identity *who, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT role, scope_kind, scope FROM user_roles WHERE user_id = $1"
                           " ORDER BY role, scope_kind, scope",
                           DB_ARGS(db_int(who->user_id)), err);
    if (!st)
        return false;
    int rc;
    who->n_roles = 0;
    while ((rc = db_step(st, err)) == 1 && who->n_roles < AUTH_MAX_ROLES) {
        auth_role *r = &who->roles[who->n_roles++];
        snprintf(r->role, sizeof r->role, "%s", db_col_text(st, 0));
        snprintf(r->scope_kind, sizeof r->scope_kind, "%s", db_col_text(st, 1));
        snprintf(r->scope, sizeof r->scope, "%s", db_col_text(st, 2));
    }
    db_finalize(st);
    return rc >= 0;
}

static void fill_identity(auth_identity *who, int64_t user_id, const char *username,
                          const char *customer)
{
    memset(who, 0, sizeof *who);
    who->user_id = user_id;
    snprintf(who->username, sizeof who->username, "%s", username);
    snprintf(who->customer, sizeof who->customer, "%s", customer);
}

static bool login_failed(uf_error *err)
{
    return uf_error_set(err, UF_E_UNAUTHORIZED, "invalid username or password");
}

bool auth_check_password(db *d, const char *username, const char *password, auth_identity *who,
                         uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT id, password_hash, customer, disabled FROM users"
                           " WHERE username = $1",
                           DB_ARGS(db_text(username)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc < 0) {
        db_finalize(st);
        return false;
    }
    bool match = false;
    if (rc == 0 || db_col_is_null(st, 1)) {
        /* No such user: spend what checking a password costs (one scrypt at the default
         * parameters), so that a miss cannot be told from a hit by timing. */
        char decoy[UF_PASSWORD_HASH_MAX];
        uf_password_params p = uf_password_default_params();
        uf_password_hash(password, &p, decoy, NULL);
        db_finalize(st);
        return login_failed(err);
    }
    if (!uf_password_verify(password, db_col_text(st, 1), &match, err)) {
        db_finalize(st);
        return uf_error_prefix(err, "check password of '%s'", username);
    }
    int64_t user_id = db_col_int(st, 0);
    bool disabled = db_col_int(st, 3) != 0;
    fill_identity(who, user_id, username, db_col_text(st, 2));
    db_finalize(st);
    if (!match || disabled)
        return login_failed(err);
    return load_roles(d, who, err);
}

bool auth_issue_session(db *d, auth_identity *who, int64_t ttl, char token[UF_TOKEN_MAX],
                        int64_t *expires_at, uf_error *err)
{
    return insert_token(d, who->user_id, "session", "login", ttl, token, &who->token_id,
                        expires_at, err);
}

bool auth_issue_api_token(db *d, int64_t user_id, const char *name, int64_t ttl,
                          char token[UF_TOKEN_MAX], int64_t *token_id, uf_error *err)
{
    return insert_token(d, user_id, "api", name, ttl, token, token_id, NULL, err);
}

bool auth_authenticate(db *d, const char *token, auth_identity *who, uf_error *err)
{
    if (!token || strlen(token) >= UF_TOKEN_MAX)
        return uf_error_set(err, UF_E_UNAUTHORIZED, "invalid or expired token");
    char hash[UF_HASH_MAX_HEX];
    if (!token_hash(token, hash, err))
        return false;
    db_stmt *st = db_query(d,
                           "SELECT t.id, t.token_hash, u.id, u.username, u.customer"
                           " FROM tokens t JOIN users u ON u.id = t.user_id"
                           " WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
                           " AND t.expires_at > $2 AND u.disabled = 0",
                           DB_ARGS(db_text(hash), db_int((int64_t)time(NULL))), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    /* The lookup is by hash; comparing again in constant time costs nothing and keeps the
     * rule "secrets are compared in constant time" true whatever the index does. */
    bool ok = rc == 1 && uf_consttime_streq(db_col_text(st, 1), hash);
    if (ok) {
        fill_identity(who, db_col_int(st, 2), db_col_text(st, 3), db_col_text(st, 4));
        who->token_id = db_col_int(st, 0);
    }
    db_finalize(st);
    if (rc < 0)
        return false;
    if (!ok)
        return uf_error_set(err, UF_E_UNAUTHORIZED, "invalid or expired token");
    return load_roles(d, who, err);
}

bool auth_load_user(db *d, const char *username, auth_identity *who, bool *found, uf_error *err)
{
    *found = false;
    db_stmt *st = db_query(d, "SELECT id, customer FROM users WHERE username = $1 AND disabled = 0",
                           DB_ARGS(db_text(username)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc == 1)
        fill_identity(who, db_col_int(st, 0), username, db_col_text(st, 1));
    db_finalize(st);
    if (rc != 1)
        return rc == 0;
    *found = true;
    return load_roles(d, who, err);
}

bool auth_revoke_token(db *d, int64_t token_id, int64_t user_id, uf_error *err)
{
    int64_t changes = 0;
    if (!db_exec_changes(d,
                         "UPDATE tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2"
                         " AND revoked_at IS NULL",
                         DB_ARGS(db_int(token_id), db_int(user_id), db_int((int64_t)time(NULL))),
                         &changes, err))
        return false;
    if (changes == 0)
        return uf_error_set(err, UF_E_NOT_FOUND, "no active token %lld", (long long)token_id);
    return true;
}

json_t *auth_user_json(db *d, int64_t user_id, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT id, username, display_name, customer, disabled, created_at"
                           " FROM users WHERE id = $1",
                           DB_ARGS(db_int(user_id)), err);
    if (!st)
        return NULL;
    int rc = db_step(st, err);
    if (rc != 1) {
        db_finalize(st);
        if (rc == 0)
            uf_error_set(err, UF_E_NOT_FOUND, "no user %lld", (long long)user_id);
        return NULL;
    }
    json_t *u = json_pack("{s:I, s:s, s:s, s:s?, s:b, s:I}", "id", (json_int_t)db_col_int(st, 0),
                          "username", db_col_text(st, 1), "display_name", db_col_text(st, 2),
                          "customer", db_col_is_null(st, 3) ? NULL : db_col_text(st, 3),
                          "disabled", (int)db_col_int(st, 4), "created_at",
                          (json_int_t)db_col_int(st, 5));
    db_finalize(st);
    auth_identity who = {.user_id = user_id};
    if (!load_roles(d, &who, err)) {
        json_decref(u);
        return NULL;
    }
    json_t *roles = json_array();
    for (size_t i = 0; i < who.n_roles; i++)
        json_array_append_new(roles, who.roles[i].scope_kind[0]
                                         ? json_pack("{s:s, s:s, s:s}", "role", who.roles[i].role,
                                                     "scope_kind", who.roles[i].scope_kind,
                                                     "scope", who.roles[i].scope)
                                         : json_pack("{s:s}", "role", who.roles[i].role));
    json_object_set_new(u, "roles", roles);
    return u;
}
