/*
 * cmdline.c - GNU-style version, usage errors and subcommand dispatch (see cmdline.h).
 */
#include "lib/cmdline.h"

#include <stdarg.h>
#include <string.h>

#include "version.h"

void uf_cmdline_print_version(FILE *out, const char *prog)
{
    fprintf(out, "%s (upflow) %s\n", prog, UPFLOW_VERSION);
}

int uf_cmdline_usage_error(const char *prog, const char *fmt, ...)
{
    fprintf(stderr, "%s: ", prog);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return uf_cmdline_try_help(prog);
}

int uf_cmdline_try_help(const char *prog)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", prog);
    return UF_EXIT_USAGE;
}

int uf_cmdline_fail(const char *prog, const uf_error *err)
{
    if (err->code == UF_E_USAGE)
        return uf_cmdline_usage_error(prog, "%s", err->msg);
    fprintf(stderr, "%s: %s\n", prog, err->msg[0] ? err->msg : uf_code_text(err->code));
    return UF_EXIT_FAILURE;
}

void uf_subcommand_print_list(FILE *out, const uf_subcommand *table)
{
    for (const uf_subcommand *c = table; c->name; c++)
        fprintf(out, "  %-18s %s\n", c->name, c->summary);
}

int uf_subcommand_dispatch(const uf_subcommand *table, const char *prog, int argc,
                           char **argv)
{
    if (argc < 1 || !argv[0])
        return uf_cmdline_usage_error(prog, "missing command");
    for (const uf_subcommand *c = table; c->name; c++) {
        if (strcmp(c->name, argv[0]) != 0)
            continue;
        char full[256];
        snprintf(full, sizeof full, "%s %s", prog, c->name);
        char *saved = argv[0];
        argv[0] = full;
        int rc = c->run(argc, argv);
        argv[0] = saved;
        return rc;
    }
    return uf_cmdline_usage_error(prog, "unknown command '%s'", argv[0]);
}

int uf_subcommand_group(const uf_subcommand *table, int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: %s COMMAND [ARG]...\n\nCommands:\n", argv[0]);
        uf_subcommand_print_list(stdout, table);
        return UF_EXIT_OK;
    }
    return uf_subcommand_dispatch(table, argv[0], argc - 1, argv + 1);
}
