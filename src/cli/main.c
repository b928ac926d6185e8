/*
 * upflow - the command line for people and release pipelines. Each subcommand lives in its
 * own cmd_NAME.c; this file parses the global options and dispatches.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "lib/cmdline.h"

static const char *const prog = "upflow";

static const uf_subcommand commands[] = {
    {"key", "generate and inspect signing keys", cmd_key},
    {"json", "canonical JSON of a document (what TUF signs)", cmd_json},
    {"calendar", "SLA deadlines on working calendars", cmd_calendar},
    {"login", "sign in to an upflow server", cmd_login},
    {"logout", "sign out and forget the stored token", cmd_logout},
    {"request", "create, list, move and approve change records", cmd_request},
    {"audit", "verify the server's audit log", cmd_audit},
    {"image", "create, inspect, verify and extract chunked images", cmd_image},
    {"repo", "the offline keys and metadata of a TUF repository", cmd_repo},
    {"release", "add releases to the TUF repository and sign them", cmd_release},
    {"sim", "simulated devices: a fleet running the real agent", cmd_sim},
    {"device", "enrol, label, group and list devices", cmd_device},
    {"rollout", "phased rollouts of a release over devices", cmd_rollout},
    {"swu", "build signed SWUpdate images for hawkBit DDI devices", cmd_swu},
    {NULL, NULL, NULL},
};

static void print_help(void)
{
    printf("Usage: %s [OPTION]... COMMAND [ARG]...\n"
           "Work with an upflow server, its releases and its keys.\n"
           "\n"
           "Commands:\n",
           prog);
    uf_subcommand_print_list(stdout, commands);
    printf("\n"
           "Options:\n"
           "  -h, --help       display this help and exit\n"
           "  -V, --version    output version information and exit\n"
           "\n"
           "Run '%s COMMAND --help' for the options of a command.\n"
           "Exit status: 0 on success, 1 on a failure, 2 on a usage error.\n",
           prog);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* "+": stop at the first non-option, which is the command; its options are its own. */
    while ((c = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_help();
            return UF_EXIT_OK;
        case 'V':
            uf_cmdline_print_version(stdout, prog);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(prog);
        }
    }
    return uf_subcommand_dispatch(commands, prog, argc - optind, argv + optind);
}
