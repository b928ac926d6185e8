/*
 * upflow-agent - the device agent: polls for an assigned release, verifies it with TUF, streams
 * it into the inactive A/B slot, trial-boots it, health-checks it, then commits or rolls back.
 *
 * This file only turns the command line into a configuration and hands it on.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/cmdline.h"

static const char *const prog = "upflow-agent";

static void print_help(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Run the upflow device agent.\n"
           "\n"
           "  -h, --help       display this help and exit\n"
           "  -V, --version    output version information and exit\n"
           "\n"
           "Exit status: 0 on a clean stop, 1 on a failure, 2 on a usage error.\n"
           "Documentation: docs/operator-manual.md\n",
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
    while ((c = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_help();
            return UF_EXIT_OK;
        case 'V':
            uf_cmdline_print_version(stdout, prog);
            return UF_EXIT_OK;
        default: /* getopt has printed "unrecognized option" */
            return uf_cmdline_try_help(prog);
        }
    }
    if (optind < argc)
        return uf_cmdline_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    fprintf(stderr, "%s: installing arrives with the device agent (issue #5); "
                    "this build only answers --help and --version\n", prog);
    return UF_EXIT_FAILURE;
}
