/*
 * repo_commands.h - what the subcommands of `upflow repo` and `upflow release` share: the
 * options that say where the workspace and its keys are (--dir, --keys, --key) and which
 * server to talk to (--server, --token), and the handlers that live outside cmd_repo.c.
 */
#ifndef UPFLOW_CLI_REPO_COMMANDS_H
#define UPFLOW_CLI_REPO_COMMANDS_H

#include <getopt.h>
#include <stdbool.h>

#include "cli/client.h"
#include "cli/repo_workspace.h"
#include "lib/error.h"

/* Long-only options of the repo commands. */
enum {
    UF_REPO_OPT_DIR = 0x2100,
    UF_REPO_OPT_KEYS,
    UF_REPO_OPT_KEY,
    UF_REPO_OPT_JSON,
    UF_REPO_OPT_FIRST_OWN, /* a command's own options start here */
};

#define UF_REPO_LONG_OPTIONS                                                                  \
    {"dir", required_argument, NULL, UF_REPO_OPT_DIR},                                        \
        {"keys", required_argument, NULL, UF_REPO_OPT_KEYS},                                  \
        {"key", required_argument, NULL, UF_REPO_OPT_KEY}, UF_CLIENT_LONG_OPTIONS,            \
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}

#define UF_REPO_OPTIONS_HELP                                                                  \
    "      --dir DIR             the workspace (default: the current directory)\n"           \
    "      --keys DIR            the private keys (default: DIR/keys)\n"                     \
    "      --key FILE            another private key file to sign with (repeatable)\n"       \
    "  -h, --help                display this help and exit\n"
#define UF_REPO_SERVER_HELP UF_CLIENT_OPTIONS_HELP

typedef struct uf_repo_cmd {
    uf_repo_location loc;
    uf_client_target target;
} uf_repo_cmd;

/* Take getopt's result c when it is one of the shared options and return -1; else report
 * the usage error (getopt has named a bad option) and return the exit status. */
int uf_repo_cmd_option(uf_repo_cmd *cmd, int c, const char *arg, const char *prog);
/* Open the workspace, or report why not and return false (*rc is the exit status). */
bool uf_repo_cmd_open(const uf_repo_cmd *cmd, uf_repo *r, const char *prog, int *rc);

/* What a command does with the open workspace. */
typedef bool (*uf_repo_work)(uf_repo *r, void *arg, uf_error *err);
/* Open the workspace, run work on it, close it, report a failure; the exit status. */
int uf_repo_cmd_run(const uf_repo_cmd *cmd, const char *prog, uf_repo_work work, void *arg);
/* Print doc as indented JSON (json) or through human, and drop it; the exit status. */
int uf_repo_cmd_print(json_t *doc, bool json, void (*human)(const json_t *doc));
/* Parse the options of a command that has only the shared ones and no arguments. --help
 * prints "Usage: PROG " and help. Returns -1 to go on, else the exit status. */
int uf_repo_cmd_parse(uf_repo_cmd *cmd, int argc, char **argv, const char *help);

/* `upflow repo rotate-root`, `rotate-key`, `resign` (repo_rotate.c). */
int repo_rotate_root_main(int argc, char **argv);
int repo_rotate_key_main(int argc, char **argv);
int repo_resign_main(int argc, char **argv);
/* `upflow repo push`, `status` (repo_push.c). */
int repo_push_main(int argc, char **argv);
int repo_status_main(int argc, char **argv);
/* `upflow repo verify` (repo_verify.c). */
int repo_verify_main(int argc, char **argv);

#endif
