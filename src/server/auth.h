/*
 * auth.h - who is calling: users, roles, password logins and bearer tokens.
 *
 * Passwords are stored as scrypt hashes (lib/password.h). A login hands out a random bearer
 * token ("ufs_..." for sessions, "ufa_..." for API tokens); the database keeps only its
 * SHA-256, so a stolen database yields no usable token. Tokens expire and can be revoked.
 * A failed login looks the same whether the user exists or not, and costs the same time.
 *
 * Roles are names ("admin", "cs", "product_lead", ...) optionally scoped to a product or a
 * customer. A user with a `customer` set is a customer-side user: it sees only its own
 * customer's records and only fields marked customer-visible.
 */
#ifndef UPFLOW_SERVER_AUTH_H
#define UPFLOW_SERVER_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/password.h"
#include "lib/random.h"
#include "server/db.h"

#define AUTH_MAX_ROLES 32
#define AUTH_NAME_MAX 64

typedef struct auth_role {
    char role[AUTH_NAME_MAX];
    char scope_kind[16]; /* "", "product" or "customer" */
    char scope[AUTH_NAME_MAX];
} auth_role;

typedef struct auth_identity {
    int64_t user_id;
    int64_t token_id;
    char username[AUTH_NAME_MAX];
    char customer[AUTH_NAME_MAX]; /* "" for internal users */
    auth_role roles[AUTH_MAX_ROLES];
    size_t n_roles;
} auth_identity;

/* Does the identity hold role, either unscoped or scoped to (scope_kind, scope)? A NULL
 * scope_kind asks for the role in any scope. */
bool auth_has_role(const auth_identity *who, const char *role, const char *scope_kind,
                   const char *scope);
bool auth_is_admin(const auth_identity *who);

typedef struct auth_new_user {
    const char *username;
    const char *display_name;
    const char *password; /* NULL: no password login (API tokens only) */
    const char *customer; /* NULL or "" for internal users */
} auth_new_user;

/* Validates the username ([a-z0-9._-], 1..63) and password (8..1024 bytes). Must be called
 * inside a transaction; appends the audit record. */
bool auth_create_user(db *d, const auth_new_user *u, const uf_password_params *kdf,
                      const char *actor, int64_t *user_id, uf_error *err);
bool auth_grant_role(db *d, int64_t user_id, const auth_role *role, const char *actor,
                     uf_error *err);
bool auth_revoke_role(db *d, int64_t user_id, const auth_role *role, const char *actor,
                      uf_error *err);

/* Check a password (read-only: run it outside a write transaction, scrypt is slow on
 * purpose). UF_E_UNAUTHORIZED for any wrong username/password/disabled combination, with one
 * message for all. */
bool auth_check_password(db *d, const char *username, const char *password, auth_identity *who,
                         uf_error *err);
/* Issue a session token for a checked identity, valid for ttl seconds. */
bool auth_issue_session(db *d, auth_identity *who, int64_t ttl, char token[UF_TOKEN_MAX],
                        int64_t *expires_at, uf_error *err);
/* Issue an API token for the user (for automation), valid for ttl seconds. */
bool auth_issue_api_token(db *d, int64_t user_id, const char *name, int64_t ttl,
                          char token[UF_TOKEN_MAX], int64_t *token_id, uf_error *err);
/* The identity of an enabled user by name, with its roles (to decide what it may see when
 * something is sent to it). *found false (and true returned) when there is no such enabled
 * user. */
bool auth_load_user(db *d, const char *username, auth_identity *who, bool *found, uf_error *err);
/* Resolve a bearer token. UF_E_UNAUTHORIZED when unknown, expired, revoked or disabled. */
bool auth_authenticate(db *d, const char *token, auth_identity *who, uf_error *err);
bool auth_revoke_token(db *d, int64_t token_id, int64_t user_id, uf_error *err);

/* JSON view of a user row (no password hash). */
json_t *auth_user_json(db *d, int64_t user_id, uf_error *err);

#endif
