/*
 * cmd_login.c - `upflow login` and `upflow logout`: sign in with a password and keep the
 * session token in the credentials file (mode 0600) that every other command reads; sign out
 * by revoking the token on the server and removing the file.
 *
 * The password comes from a file, standard input ("-"), or a prompt on the terminal without
 * echo; it is never an option's value, where `ps` would show it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "lib/cmdline.h"
#include "lib/json.h"

enum { PASSWORD_MAX = 1024 };

/* First line of f, without its line end. */
static bool read_line(FILE *f, const char *what, char *out, size_t cap, uf_error *err)
{
    if (!fgets(out, (int)cap, f)) {
        if (ferror(f))
            return uf_error_errno(err, errno, "read %s", what);
        return uf_error_set(err, UF_E_INVALID, "no password in %s", what);
    }
    size_t n = strcspn(out, "\r\n");
    if (out[n] == '\0' && n == cap - 1 && !feof(f))
        return uf_error_set(err, UF_E_INVALID, "the password in %s is longer than %d bytes",
                            what, PASSWORD_MAX);
    out[n] = '\0';
    if (n == 0)
        return uf_error_set(err, UF_E_INVALID, "empty password in %s", what);
    return true;
}

static bool read_password_file(const char *file, char *out, size_t cap, uf_error *err)
{
    if (strcmp(file, "-") == 0)
        return read_line(stdin, "standard input", out, cap, err);
    FILE *f = fopen(file, "re");
    if (!f)
        return uf_error_errno(err, errno, "open %s", file);
    bool ok = read_line(f, file, out, cap, err);
    fclose(f);
    return ok;
}

static bool prompt_password(const char *prompt, char *out, size_t cap, uf_error *err)
{
    FILE *tty = fopen("/dev/tty", "r+e");
    if (!tty)
        return uf_error_errno(err, errno, "open the terminal");
    int fd = fileno(tty);
    struct termios saved, quiet;
    if (tcgetattr(fd, &saved) != 0) {
        int e = errno;
        fclose(tty);
        return uf_error_errno(err, e, "read the terminal's settings");
    }
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    /* Echo goes off before the prompt appears: whatever is typed after the prompt is never
     * shown, and is not thrown away by a flush (TCSAFLUSH here only drops what was typed
     * before we asked). */
    bool ok = tcsetattr(fd, TCSAFLUSH, &quiet) == 0 ||
              uf_error_errno(err, errno, "turn off the terminal's echo");
    if (ok) {
        fputs(prompt, tty);
        fflush(tty);
    }
    ok = ok && read_line(tty, "the terminal", out, cap, err);
    tcsetattr(fd, TCSANOW, &saved);
    fputc('\n', tty);
    fclose(tty);
    return ok;
}

static void format_local_time(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !localtime_r(&tt, &tm) || strftime(out, len, "%Y-%m-%d %H:%M %Z", &tm) == 0)
        snprintf(out, len, "?");
}

static void login_help(const char *name)
{
    printf("Usage: %s --server URL --username NAME [--password-file FILE|-]\n"
           "Sign in to an upflow server and keep the session in\n"
           "$XDG_CONFIG_HOME/upflow/credentials.json (default ~/.config/upflow/, mode 0600),\n"
           "where every other command finds it. Without --password-file the password is asked\n"
           "for on the terminal, without echo.\n"
           "\n"
           "  -s, --server URL            the server, e.g. https://upflow.example.com\n"
           "                              (default: UPFLOW_SERVER, then the current login)\n"
           "  -u, --username NAME         who signs in\n"
           "  -p, --password-file FILE    read the password from the first line of FILE\n"
           "                              ('-' for standard input)\n"
           "  -h, --help                  display this help and exit\n",
           name);
}

int cmd_login(int argc, char **argv)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'},
        {"username", required_argument, NULL, 'u'},
        {"password-file", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uf_client_target target = {0};
    const char *username = NULL, *password_file = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "s:u:p:h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            target.server = optarg;
            break;
        case 'u':
            username = optarg;
            break;
        case 'p':
            password_file = optarg;
            break;
        case 'h':
            login_help(argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (!username || !*username)
        return uf_cmdline_usage_error(argv[0], "missing --username NAME");
    if (!password_file && !isatty(STDIN_FILENO))
        return uf_cmdline_usage_error(argv[0], "no terminal to ask for the password: give "
                                               "--password-file FILE, or - for standard input");
    uf_error err;
    uf_client *client = uf_client_open(&target, UF_CLIENT_ANONYMOUS, &err);
    if (!client)
        return uf_cmdline_fail(argv[0], &err);

    char password[PASSWORD_MAX + 2], prompt[UF_CLIENT_URL_MAX + UF_CLIENT_USER_MAX + 32];
    snprintf(prompt, sizeof prompt, "Password for %s at %s: ", username,
             uf_client_server(client));
    bool ok = password_file ? read_password_file(password_file, password, sizeof password, &err)
                            : prompt_password(prompt, password, sizeof password, &err);
    json_t *body = ok ? json_pack("{s:s, s:s}", "username", username, "password", password)
                      : NULL;
    explicit_bzero(password, sizeof password);
    if (ok && !body)
        ok = uf_error_set(&err, UF_E_INVALID, "the user name and password must be UTF-8");
    uf_response resp = UF_RESPONSE_INIT;
    ok = ok && uf_client_call(client, "POST", "/api/v1/auth/login", body, &resp, &err);
    json_decref(body);

    uf_credentials cred;
    memset(&cred, 0, sizeof cred);
    const char *token = NULL, *who = username;
    int64_t expires = 0;
    json_t *user = json_object_get(resp.body, "user");
    if (ok) {
        ok = uf_json_get_string(resp.body, "", "token", &token, &err) &&
             uf_json_opt_int(resp.body, "", "expires_at", &expires, &err);
        if (ok && json_is_string(json_object_get(user, "username")))
            who = json_string_value(json_object_get(user, "username"));
        if (ok && (strlen(token) >= sizeof cred.token || strlen(who) >= sizeof cred.username))
            ok = uf_error_set(&err, UF_E_BAD_FIELD, "the server's token is too long");
        if (!ok)
            uf_error_prefix(&err, "login answer");
    }
    if (ok) {
        snprintf(cred.server, sizeof cred.server, "%s", uf_client_server(client));
        snprintf(cred.token, sizeof cred.token, "%s", token);
        snprintf(cred.username, sizeof cred.username, "%s", who);
        cred.expires_at = expires;
        ok = uf_credentials_save(&cred, &err);
        explicit_bzero(cred.token, sizeof cred.token);
        if (!ok)
            uf_error_prefix(&err, "save the login");
    }
    int rc = UF_EXIT_OK;
    if (ok) {
        char when[64];
        format_local_time(expires, when, sizeof when);
        printf("signed in to %s as ", cred.server);
        uf_client_print_text(stdout, cred.username);
        printf(" (the session ends %s)\n", when);
    } else {
        rc = uf_client_fail(argv[0], &err, NULL);
    }
    uf_response_clear(&resp);
    uf_client_close(client);
    return rc;
}

int cmd_logout(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: %s\n"
               "Revoke the current login's token on its server and remove the credentials "
               "file.\n",
               argv[0]);
        return UF_EXIT_OK;
    }
    if (argc != 1)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[1]);
    uf_error err;
    uf_credentials cred;
    if (!uf_credentials_load(&cred, &err)) {
        if (err.code != UF_E_NOT_FOUND)
            return uf_cmdline_fail(argv[0], &err);
        printf("not signed in\n");
        return UF_EXIT_OK;
    }
    /* revoke exactly the stored token at its own server, whatever the environment says */
    uf_client_target target = {.server = cred.server, .token = cred.token};
    uf_response resp = UF_RESPONSE_INIT;
    uf_client *client = uf_client_open(&target, UF_CLIENT_SIGNED_IN, &err);
    bool revoked = client && uf_client_call(client, "POST", "/api/v1/auth/logout", NULL, &resp,
                                            &err);
    /* a token the server no longer accepts is as good as revoked */
    if (!revoked && resp.status == 401)
        revoked = true;
    explicit_bzero(cred.token, sizeof cred.token);
    uf_client_close(client);
    uf_response_clear(&resp);
    uf_error rm_err;
    bool removed;
    if (!uf_credentials_remove(&removed, &rm_err))
        return uf_cmdline_fail(argv[0], &rm_err);
    if (!revoked) {
        uf_error_prefix(&err, "removed the local login, but the token was not revoked");
        return uf_cmdline_fail(argv[0], &err);
    }
    printf("signed out of %s\n", cred.server);
    return UF_EXIT_OK;
}
