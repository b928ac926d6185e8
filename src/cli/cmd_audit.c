/*
 * cmd_audit.c - `upflow audit verify`: ask the server to recompute its audit log's hash chain
 * (admin role) and say whether it is intact, or at which record it breaks and why. The exit
 * status carries the verdict, so a monitoring job can run it as it is.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "lib/cmdline.h"
#include "lib/json.h"

enum { OPT_JSON = 0x2000 };

static int verify_main(int argc, char **argv)
{
    static const struct option options[] = {
        UF_CLIENT_LONG_OPTIONS,
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uf_client_target target = {0};
    bool json = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            json = true;
            break;
        case 'h':
            printf("Usage: %s [--json]\n"
                   "Recompute the server's audit hash chain (needs the admin role). Exit status\n"
                   "0 when the chain is intact, 1 when it is broken or cannot be checked.\n"
                   "\n"
                   "      --json                print the server's JSON answer as it is\n"
                   UF_CLIENT_OPTIONS_HELP
                   "  -h, --help                display this help and exit\n",
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if (uf_client_target_option(&target, c, optarg))
                break;
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    uf_error err;
    uf_response resp = UF_RESPONSE_INIT;
    uf_client *client = uf_client_open(&target, UF_CLIENT_SIGNED_IN, &err);
    bool intact = false, records_ok = false;
    int64_t records = 0;
    bool ok = client && uf_client_call(client, "GET", "/api/v1/audit/verify", NULL, &resp, &err);
    ok = ok && uf_json_get_bool(resp.body, "", "ok", &intact, &err) &&
         uf_json_get_int(resp.body, "", "records", &records, &err);
    records_ok = ok;
    if (ok && json) {
        ok = uf_response_print_raw(&resp, &err);
    } else if (ok && intact) {
        printf("audit chain intact: %" PRId64 " records\n", records);
    } else if (ok) {
        int64_t first = 0;
        json_t *reason = json_object_get(resp.body, "reason");
        uf_json_opt_int(resp.body, "", "first_broken", &first, NULL);
        printf("audit chain BROKEN at record %" PRId64 ": ", first);
        uf_client_print_text(stdout, json_is_string(reason) ? json_string_value(reason)
                                                            : "no reason given");
        putchar('\n');
    }
    if (ok && fflush(stdout) != 0)
        ok = uf_error_set(&err, UF_E_IO, "write to standard output failed");
    if (!ok && !records_ok && resp.status >= 200 && resp.status < 300)
        uf_error_prefix(&err, "the server's answer");
    int rc = ok ? (intact ? UF_EXIT_OK : UF_EXIT_FAILURE) : uf_client_fail(argv[0], &err, &resp);
    uf_response_clear(&resp);
    uf_client_close(client);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"verify", "check that the audit log's hash chain is intact", verify_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
