/*
 * server_cmd.h - one run of a subcommand that talks to the upflow server (`upflow device`,
 * `upflow rollout`, `upflow release published`): the options every such subcommand takes
 * (--server, --token, --json, --help, and --tenant where it has one), the calls, and the
 * end: with --json the server's answer exactly as it came, otherwise a human view, and the
 * exit status (0 done, 1 failed, 2 usage; a refusal shows the server's message).
 */
#ifndef UPFLOW_CLI_SERVER_CMD_H
#define UPFLOW_CLI_SERVER_CMD_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/client.h"
#include "lib/buf.h"
#include "lib/error.h"

/* Long-only option values: the common ones, then each command's own from UF_SRV_OPT_OWN. */
enum { UF_SRV_OPT_JSON = 0x2000, UF_SRV_OPT_TENANT, UF_SRV_OPT_OWN = 0x2100 };

#define UF_SRV_TENANT_OPTION {"tenant", required_argument, NULL, UF_SRV_OPT_TENANT}
#define UF_SRV_TENANT_HELP                                                                    \
    "      --tenant T            the tenant (default: the server's 'default')\n"
/* The end of every option table. */
#define UF_SRV_COMMON_OPTIONS                                                                 \
    UF_CLIENT_LONG_OPTIONS, {"json", no_argument, NULL, UF_SRV_OPT_JSON},                     \
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}
#define UF_SRV_COMMON_HELP                                                                    \
    "      --json                print the server's JSON answer as it is\n"                  \
    UF_CLIENT_OPTIONS_HELP "  -h, --help                display this help and exit\n"

typedef struct uf_srv_cmd {
    const char *prog; /* "upflow rollout show" */
    uf_client_target target;
    const char *tenant; /* --tenant, or NULL */
    bool json;
    uf_client *client;
    uf_response resp; /* the last answer */
    uf_error err;
} uf_srv_cmd;

void uf_srv_cmd_init(uf_srv_cmd *c, const char *prog);

/* A command's own option: true if taken, false with c->err set (a usage error) if not. */
typedef bool (*uf_srv_own_fn)(uf_srv_cmd *c, void *ctx, int opt, const char *arg);

/* Parse the options: the common ones here, any other through own (which may be NULL).
 * `help` follows "Usage: PROG " and precedes the common options' help. Returns -1 to go on
 * (optind at the first operand), else the exit status (help shown, or a usage error). */
int uf_srv_cmd_parse(uf_srv_cmd *c, int argc, char **argv, const struct option *options,
                     const char *help, uf_srv_own_fn own, void *ctx);

/* min to max operands after the options (max -1: any number), or fail with a usage error;
 * `what` names the operands expected. */
bool uf_srv_cmd_operands(uf_srv_cmd *c, int argc, char **argv, const char *what, int min,
                         int max);

/* A positive integer ID (a rollout, a change record), or a usage error naming what. */
bool uf_srv_parse_id(const char *s, const char *what, int64_t *out, uf_error *err);
/* A name that goes into a URL path (device, group, tenant): 1..127 of A-Z a-z 0-9 . _ : -,
 * not starting with '.' or '-'; a usage error otherwise. */
bool uf_srv_check_name(const char *s, const char *what, uf_error *err);

/* Start path as "/api/v1/..." and add ?tenant=T when --tenant was given. */
bool uf_srv_cmd_path(uf_srv_cmd *c, uf_buf *path, const char *base);

/* Add "?name=value" or "&name=value" to path, the value percent-encoded; nothing when value
 * is NULL. Connects first if needed. */
bool uf_srv_cmd_query(uf_srv_cmd *c, uf_buf *path, const char *name, const char *value);

/* METHOD path with body (may be NULL), connecting first if needed; the answer in c->resp. */
bool uf_srv_cmd_call(uf_srv_cmd *c, const char *method, const char *path, const json_t *body);

/* Shows the answer body to people. */
typedef void (*uf_srv_view_fn)(const json_t *body, const void *ctx);

/* If ok, print the answer (raw with --json, else through view); then release the run and
 * return the exit status, reporting c->err if anything failed. */
int uf_srv_cmd_end(uf_srv_cmd *c, bool ok, uf_srv_view_fn view, const void *ctx);
/* A usage error found after parsing: report c->err and return 2. */
int uf_srv_cmd_usage(uf_srv_cmd *c);

#endif
