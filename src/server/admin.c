/*
 * admin.c - `upflowd admin create-user|issue-token|migrate|verify-audit` (see admin.h).
 */
#include "server/admin.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cmdline.h"
#include "server/audit.h"
#include "server/auth.h"
#include "server/schema.h"
#include "server/server.h"

typedef struct admin_cmd {
    const char *name;
    const char *summary;
    int (*run)(const server_config *cfg, int argc, char **argv);
} admin_cmd;

/* Open the database of cfg's data directory, migrated to the current schema. */
static db *open_db(const server_config *cfg, uf_error *err)
{
    char path[CONFIG_STR_MAX + 32];
    server_db_path(cfg, path, sizeof path);
    if (!server_ensure_data_dir(cfg->data_dir, err))
        return NULL;
    db *d = db_open_sqlite(path, err);
    if (d && !schema_migrate(d, NULL, err)) {
        db_close(d);
        return NULL;
    }
    return d;
}

/* "role" or "role@product:NAME" / "role@customer:NAME" */
static bool parse_role(const char *arg, auth_role *r, uf_error *err)
{
    memset(r, 0, sizeof *r);
    const char *at = strchr(arg, '@');
    if (!at) {
        snprintf(r->role, sizeof r->role, "%s", arg);
        return true;
    }
    const char *colon = strchr(at, ':');
    if (!colon)
        return uf_error_set(err, UF_E_USAGE, "--role '%s': expected ROLE@KIND:SCOPE", arg);
    snprintf(r->role, sizeof r->role, "%.*s", (int)(at - arg), arg);
    snprintf(r->scope_kind, sizeof r->scope_kind, "%.*s", (int)(colon - at - 1), at + 1);
    snprintf(r->scope, sizeof r->scope, "%s", colon + 1);
    return true;
}

/* First line of stdin or of a file, without the newline. */
static bool read_secret(const char *file, char *out, size_t cap, uf_error *err)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (!f)
        return uf_error_errno(err, errno, "open %s", file);
    bool ok = fgets(out, (int)cap, f) != NULL;
    if (f != stdin)
        fclose(f);
    if (!ok)
        return uf_error_set(err, UF_E_INVALID, "no password in %s", strcmp(file, "-") ? file : "standard input");
    out[strcspn(out, "\r\n")] = '\0';
    return true;
}

static int create_user(const server_config *cfg, int argc, char **argv)
{
    static const struct option options[] = {
        {"username", required_argument, NULL, 'u'},
        {"display-name", required_argument, NULL, 'n'},
        {"customer", required_argument, NULL, 'C'},
        {"role", required_argument, NULL, 'r'},
        {"password-file", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    auth_new_user u = {0};
    auth_role roles[AUTH_MAX_ROLES];
    size_t n_roles = 0;
    const char *password_file = NULL;
    uf_error err;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "u:r:h", options, NULL)) != -1) {
        switch (c) {
        case 'u': u.username = optarg; break;
        case 'n': u.display_name = optarg; break;
        case 'C': u.customer = optarg; break;
        case 'P': password_file = optarg; break;
        case 'r':
            if (n_roles == AUTH_MAX_ROLES)
                return uf_cmdline_usage_error(argv[0], "too many --role options");
            if (!parse_role(optarg, &roles[n_roles++], &err))
                return uf_cmdline_fail(argv[0], &err);
            break;
        case 'h':
            printf("Usage: %s --username NAME [--role ROLE[@KIND:SCOPE]]... [--customer NAME]\n"
                   "          [--display-name TEXT] [--password-file FILE|-]\n"
                   "Create a user. Without --password-file the user can sign in only with API\n"
                   "tokens (see issue-token). FILE '-' reads the password from standard input.\n",
                   argv[0]);
            return UF_EXIT_OK;
        default: return uf_cmdline_try_help(argv[0]);
        }
    }
    if (!u.username)
        return uf_cmdline_usage_error(argv[0], "missing --username");
    char password[1100];
    if (password_file) {
        if (!read_secret(password_file, password, sizeof password, &err))
            return uf_cmdline_fail(argv[0], &err);
        u.password = password;
    }
    db *d = open_db(cfg, &err);
    if (!d)
        return uf_cmdline_fail(argv[0], &err);
    uf_password_params kdf = uf_password_default_params();
    kdf.log2_n = cfg->scrypt_log2_n;
    int64_t id = 0;
    bool ok = db_begin(d, &err) && auth_create_user(d, &u, &kdf, "admin-cli", &id, &err);
    for (size_t i = 0; ok && i < n_roles; i++)
        ok = auth_grant_role(d, id, &roles[i], "admin-cli", &err);
    ok = ok && db_commit(d, &err);
    if (!ok)
        db_rollback(d);
    db_close(d);
    if (!ok)
        return uf_cmdline_fail(argv[0], &err);
    printf("created user %s (id %lld)\n", u.username, (long long)id);
    return UF_EXIT_OK;
}

static int issue_token(const server_config *cfg, int argc, char **argv)
{
    static const struct option options[] = {
        {"username", required_argument, NULL, 'u'},
        {"name", required_argument, NULL, 'n'},
        {"days", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *username = NULL, *name = "admin-cli";
    long days = 90;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "u:n:h", options, NULL)) != -1) {
        switch (c) {
        case 'u': username = optarg; break;
        case 'n': name = optarg; break;
        case 'D':
            days = strtol(optarg, NULL, 10);
            if (days < 1 || days > 3650)
                return uf_cmdline_usage_error(argv[0], "--days must be 1 to 3650");
            break;
        case 'h':
            printf("Usage: %s --username NAME [--name LABEL] [--days N]\n"
                   "Issue an API token for a user and print it (once: only its hash is kept).\n",
                   argv[0]);
            return UF_EXIT_OK;
        default: return uf_cmdline_try_help(argv[0]);
        }
    }
    if (!username)
        return uf_cmdline_usage_error(argv[0], "missing --username");
    uf_error err;
    db *d = open_db(cfg, &err);
    if (!d)
        return uf_cmdline_fail(argv[0], &err);
    int64_t user_id = 0, token_id = 0;
    bool found = false;
    char token[UF_TOKEN_MAX];
    bool ok = db_query_int(d, "SELECT id FROM users WHERE username = $1", DB_ARGS(db_text(username)),
                           &user_id, &found, &err);
    if (ok && !found)
        ok = uf_error_set(&err, UF_E_NOT_FOUND, "no user '%s'", username);
    ok = ok && db_begin(d, &err) &&
         auth_issue_api_token(d, user_id, name, days * 86400, token, &token_id, &err);
    if (ok) {
        char idtext[32];
        snprintf(idtext, sizeof idtext, "%lld", (long long)user_id);
        json_t *detail = json_pack("{s:s, s:I}", "name", name, "token_id", (json_int_t)token_id);
        audit_entry e = {.actor = "admin-cli", .action = "token.create", .object_kind = "user",
                         .object_id = idtext, .detail = detail};
        ok = audit_append(d, &e, NULL, &err) && db_commit(d, &err);
        json_decref(detail);
    }
    if (!ok)
        db_rollback(d);
    db_close(d);
    if (!ok)
        return uf_cmdline_fail(argv[0], &err);
    printf("%s\n", token);
    return UF_EXIT_OK;
}

static int migrate(const server_config *cfg, int argc, char **argv)
{
    if (argc > 1)
        return uf_cmdline_usage_error(argv[0], "no arguments expected");
    uf_error err;
    char path[CONFIG_STR_MAX + 32];
    server_db_path(cfg, path, sizeof path);
    db *d = db_open_sqlite(path, &err);
    int applied = 0;
    bool ok = d && schema_migrate(d, &applied, &err);
    db_close(d);
    if (!ok)
        return uf_cmdline_fail(argv[0], &err);
    printf("%s: %d migration(s) applied; schema version %d\n", path, applied, schema_latest());
    return UF_EXIT_OK;
}

static int verify_audit(const server_config *cfg, int argc, char **argv)
{
    if (argc > 1)
        return uf_cmdline_usage_error(argv[0], "no arguments expected");
    uf_error err;
    db *d = open_db(cfg, &err);
    audit_report r;
    bool ok = d && audit_verify(d, &r, &err);
    db_close(d);
    if (!ok)
        return uf_cmdline_fail(argv[0], &err);
    if (r.first_broken) {
        printf("audit chain BROKEN at record %lld: %s (%lld records checked)\n",
               (long long)r.first_broken, r.reason, (long long)r.records);
        return UF_EXIT_FAILURE;
    }
    printf("audit chain intact: %lld records\n", (long long)r.records);
    return UF_EXIT_OK;
}

static const admin_cmd commands[] = {
    {"create-user", "create a user, with roles and a password", create_user},
    {"issue-token", "print a new API token for a user", issue_token},
    {"migrate", "apply database migrations and exit", migrate},
    {"verify-audit", "recompute the audit hash chain", verify_audit},
    {NULL, NULL, NULL},
};

void admin_print_commands(FILE *out)
{
    for (const admin_cmd *c = commands; c->name; c++)
        fprintf(out, "  %-16s %s\n", c->name, c->summary);
}

int admin_main(const server_config *cfg, int argc, char **argv)
{
    if (argc < 2)
        return uf_cmdline_usage_error("upflowd admin", "missing command");
    for (const admin_cmd *c = commands; c->name; c++) {
        if (strcmp(c->name, argv[1]) != 0)
            continue;
        char name[64];
        snprintf(name, sizeof name, "upflowd admin %s", c->name);
        argv[1] = name;
        return c->run(cfg, argc - 1, argv + 1);
    }
    return uf_cmdline_usage_error("upflowd admin", "unknown command '%s'", argv[1]);
}
