/*
 * server_cmd.c - one run of a subcommand that talks to the upflow server (see server_cmd.h).
 */
#include "cli/server_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cmdline.h"

void uf_srv_cmd_init(uf_srv_cmd *c, const char *prog)
{
    memset(c, 0, sizeof *c);
    c->prog = prog;
    c->resp = (uf_response)UF_RESPONSE_INIT;
    uf_error_clear(&c->err);
}

/* --json, --tenant, --server, --token: true if opt is one of them. */
static bool common_option(uf_srv_cmd *c, int opt, const char *arg)
{
    if (opt == UF_SRV_OPT_JSON)
        c->json = true;
    else if (opt == UF_SRV_OPT_TENANT)
        c->tenant = arg;
    else
        return uf_client_target_option(&c->target, opt, arg);
    return true;
}

int uf_srv_cmd_parse(uf_srv_cmd *c, int argc, char **argv, const struct option *options,
                     const char *help, uf_srv_own_fn own, void *ctx)
{
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'h') {
            printf("Usage: %s %s" UF_SRV_COMMON_HELP, c->prog, help);
            return UF_EXIT_OK;
        }
        if (common_option(c, opt, optarg))
            continue;
        if (opt == '?' || opt == ':' || !own)
            return uf_cmdline_try_help(c->prog);
        if (!own(c, ctx, opt, optarg))
            return uf_srv_cmd_usage(c);
    }
    if (c->tenant && !uf_srv_check_name(c->tenant, "--tenant", &c->err))
        return uf_srv_cmd_usage(c);
    return -1;
}

bool uf_srv_cmd_operands(uf_srv_cmd *c, int argc, char **argv, const char *what, int min,
                         int max)
{
    int have = argc - optind;
    if (max >= 0 && have > max)
        return uf_error_set(&c->err, UF_E_USAGE, "unexpected argument '%s'", argv[optind + max]);
    if (have < min)
        return uf_error_set(&c->err, UF_E_USAGE, "expected %s", what);
    return true;
}

bool uf_srv_parse_id(const char *s, const char *what, int64_t *out, uf_error *err)
{
    size_t n = strlen(s);
    *out = n && n <= 15 && strspn(s, "0123456789") == n ? strtoll(s, NULL, 10) : 0;
    return *out > 0 || uf_error_set(err, UF_E_USAGE, "%s '%s': expected a positive number", what, s);
}

bool uf_srv_check_name(const char *s, const char *what, uf_error *err)
{
    static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789._:-";
    size_t n = strlen(s);
    if (n == 0 || n > 127 || s[0] == '.' || s[0] == '-' || strspn(s, allowed) != n)
        return uf_error_set(err, UF_E_USAGE, "%s '%s': expected 1 to 127 of A-Z, a-z, 0-9, "
                            "'.', '_', ':', '-', not starting with '.' or '-'", what, s);
    return true;
}

bool uf_srv_cmd_path(uf_srv_cmd *c, uf_buf *path, const char *base)
{
    if (!uf_buf_append_str(path, base, &c->err))
        return false;
    if (!c->tenant)
        return true;
    return uf_buf_printf(path, &c->err, "%ctenant=%s", strchr(base, '?') ? '&' : '?', c->tenant);
}

static bool connect(uf_srv_cmd *c)
{
    return c->client || (c->client = uf_client_open(&c->target, UF_CLIENT_SIGNED_IN, &c->err));
}

bool uf_srv_cmd_query(uf_srv_cmd *c, uf_buf *path, const char *name, const char *value)
{
    return !value || (connect(c) && uf_client_query(c->client, path, name, value, &c->err));
}

bool uf_srv_cmd_call(uf_srv_cmd *c, const char *method, const char *path, const json_t *body)
{
    return connect(c) && uf_client_call(c->client, method, path, body, &c->resp, &c->err);
}

int uf_srv_cmd_end(uf_srv_cmd *c, bool ok, uf_srv_view_fn view, const void *ctx)
{
    if (ok && c->json) {
        ok = uf_response_print_raw(&c->resp, &c->err);
    } else if (ok) {
        view(c->resp.body, ctx);
        if (fflush(stdout) != 0)
            ok = uf_error_set(&c->err, UF_E_IO, "write to standard output failed");
    }
    int rc = ok ? UF_EXIT_OK : uf_client_fail(c->prog, &c->err, &c->resp);
    uf_response_clear(&c->resp);
    uf_client_close(c->client);
    c->client = NULL;
    return rc;
}

int uf_srv_cmd_usage(uf_srv_cmd *c)
{
    return uf_cmdline_fail(c->prog, &c->err);
}
