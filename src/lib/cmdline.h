/*
 * cmdline.h - what the three programs share on the command line, GNU style.
 *
 * `--version` prints "NAME (upflow) VERSION"; `--help` prints usage to stdout and exits 0;
 * a usage error prints one line naming the problem and the hint
 * "Try 'NAME --help' for more information." to stderr and exits 2. Failures of the work
 * itself exit 1. Subcommands ("upflow key generate") are a table of name, summary, handler.
 */
#ifndef UPFLOW_CMDLINE_H
#define UPFLOW_CMDLINE_H

#include <stdio.h>

#include "lib/error.h"

enum { UF_EXIT_OK = 0, UF_EXIT_FAILURE = 1, UF_EXIT_USAGE = 2 };

void uf_cmdline_print_version(FILE *out, const char *prog);
/* Print "PROG: <message>" and the --help hint to stderr; returns UF_EXIT_USAGE. */
int uf_cmdline_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print only the hint, after getopt has already named the bad option; returns UF_EXIT_USAGE. */
int uf_cmdline_try_help(const char *prog);
/* Print "PROG: <err->msg>" to stderr; returns UF_EXIT_USAGE for UF_E_USAGE, else
 * UF_EXIT_FAILURE. */
int uf_cmdline_fail(const char *prog, const uf_error *err);

typedef struct uf_subcommand {
    const char *name;
    const char *summary;
    /* argv[0] is the subcommand's full name ("upflow key generate"). */
    int (*run)(int argc, char **argv);
} uf_subcommand;

/* Run the subcommand named by argv[0] from table (terminated by a NULL name). `prog` is the
 * name so far ("upflow key"). No name, or an unknown one, is a usage error. */
int uf_subcommand_dispatch(const uf_subcommand *table, const char *prog, int argc,
                           char **argv);
/* The body of a command group ("upflow key"): `--help` lists the table, anything else is
 * dispatched with argv[0] as the name so far. */
int uf_subcommand_group(const uf_subcommand *table, int argc, char **argv);
/* List the table as "  name    summary" lines. */
void uf_subcommand_print_list(FILE *out, const uf_subcommand *table);

#endif
