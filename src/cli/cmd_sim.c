/*
 * cmd_sim.c - `upflow sim fleet`: run N simulated devices (the real agent, sim bootloader,
 * small file slots) against a server until they have nothing left to do, then print how
 * each ended (agent/fleet.h).
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/fleet.h"
#include "cli/commands.h"
#include "lib/buf.h"
#include "lib/cmdline.h"
#include "lib/fileio.h"

/* In the order of the options table (the messages name an option by its index). */
enum { OPT_SERVER = 256, OPT_TENANT, OPT_TOKEN, OPT_DEVICES, OPT_REPO, OPT_ROOT, OPT_DIR,
       OPT_FAIL_HW, OPT_MIX, OPT_ATTRS, OPT_THREADS, OPT_IDLE, OPT_POLL, OPT_SLOT, OPT_PREFIX,
       OPT_JSON };

static void fleet_help(const char *prog)
{
    printf("Usage: %s --server URL --gateway-token-file FILE --devices N --repo URL\n"
           "          --root FILE --dir DIR [OPTION]...\n"
           "Run N simulated devices (the real agent with the sim bootloader and small file\n"
           "slots in DIR/devN/) in this process: each registers, then polls and carries out\n"
           "its rollouts, power-cycling when an update asks for a reboot. Stops when no\n"
           "device has had anything to do for --until-idle seconds and prints how each ended.\n"
           "\n"
           "      --tenant T                the tenant (default: default)\n"
           "      --fail-hardware LIST      hardware whose health check fails (rev3,rev4)\n"
           "      --hardware-mix MIX        hardware shares, e.g. rev1:40,rev2:40,rev3:20\n"
           "      --attributes LIST         inventory attributes, e.g. site=shanghai\n"
           "      --threads N               threads (default 8)\n"
           "      --until-idle SECONDS      stop after this long with nothing to do (10)\n"
           "      --poll-interval SECONDS   poll at least this often (default 1)\n"
           "      --slot-size BYTES         bytes per slot (default 524288)\n"
           "      --prefix P                device ids P-0001... (default sim)\n"
           "      --json                    print the summary as JSON\n"
           "  -v, --verbose                 log what each agent does\n"
           "  -h, --help                    display this help and exit\n",
           prog);
}

static bool positive(const char *s, long long max, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end || v < 1 || v > max)
        return false;
    *out = v;
    return true;
}

/* The numeric options; false for a bad value. */
static bool number_option(int c, const char *arg, fleet_options *o)
{
    long long v;
    bool ok = positive(arg, c == OPT_SLOT ? (1LL << 34) : 1000000, &v);
    if (ok && c == OPT_DEVICES)
        o->devices = (unsigned)v;
    else if (ok && c == OPT_THREADS)
        o->threads = (unsigned)v;
    else if (ok && c == OPT_IDLE)
        o->until_idle_s = v;
    else if (ok && c == OPT_POLL)
        o->poll_interval_s = v;
    else if (ok && c == OPT_SLOT)
        o->slot_size = (uint64_t)v;
    return ok;
}

static void print_text(json_t *s)
{
    json_t *states = json_object_get(s, "states"), *v;
    const char *name;
    printf("%lld devices in %.1f s:", (long long)json_integer_value(json_object_get(s, "devices")),
           json_real_value(json_object_get(s, "seconds")));
    json_object_foreach(states, name, v)
        if (json_integer_value(v))
            printf(" %s %lld", name, (long long)json_integer_value(v));
    printf("\n");
    json_object_foreach(json_object_get(s, "by_hardware"), name, v) {
        const char *st;
        json_t *n;
        printf("  %-8s", name);
        json_object_foreach(v, st, n)
            printf(" %s %lld", st, (long long)json_integer_value(n));
        printf("\n");
    }
    size_t i;
    json_array_foreach(json_object_get(s, "errors"), i, v)
        printf("  error: %s\n", json_string_value(v));
}

/* Many devices hold connections and files open at once. */
static void raise_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int run_fleet(const char *prog, fleet_options *o, const char *token_file, bool as_json)
{
    uf_error err;
    uf_buf tok = UF_BUF_INIT;
    if (!uf_file_read_capped(token_file, 4096, &tok, &err) || !uf_buf_append_char(&tok, 0, &err)) {
        uf_buf_free(&tok);
        uf_error_prefix(&err, "gateway token");
        return uf_cmdline_fail(prog, &err);
    }
    char *t = (char *)tok.data;
    t[strcspn(t, "\r\n")] = '\0';
    o->gateway_token = t;
    raise_file_limit();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_t *s = fleet_run(o, &err);
    curl_global_cleanup();
    uf_buf_free(&tok);
    if (!s)
        return uf_cmdline_fail(prog, &err);
    if (as_json) {
        char *text = json_dumps(s, JSON_INDENT(2) | JSON_SORT_KEYS);
        puts(text ? text : "{}");
        free(text);
    } else {
        print_text(s);
    }
    json_decref(s);
    return UF_EXIT_OK;
}

static int fleet_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"tenant", required_argument, NULL, OPT_TENANT},
        {"gateway-token-file", required_argument, NULL, OPT_TOKEN},
        {"devices", required_argument, NULL, OPT_DEVICES},
        {"repo", required_argument, NULL, OPT_REPO},
        {"root", required_argument, NULL, OPT_ROOT},
        {"dir", required_argument, NULL, OPT_DIR},
        {"fail-hardware", required_argument, NULL, OPT_FAIL_HW},
        {"hardware-mix", required_argument, NULL, OPT_MIX},
        {"attributes", required_argument, NULL, OPT_ATTRS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"until-idle", required_argument, NULL, OPT_IDLE},
        {"poll-interval", required_argument, NULL, OPT_POLL},
        {"slot-size", required_argument, NULL, OPT_SLOT},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"json", no_argument, NULL, OPT_JSON},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fleet_options o = {.threads = 8, .until_idle_s = 10, .poll_interval_s = 1};
    const char *token_file = NULL;
    bool as_json = false, verbose = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
        switch (c) {
        case OPT_SERVER: o.server_url = optarg; break;
        case OPT_TENANT: o.tenant = optarg; break;
        case OPT_TOKEN: token_file = optarg; break;
        case OPT_REPO: o.repo_url = optarg; break;
        case OPT_ROOT: o.root_file = optarg; break;
        case OPT_DIR: o.dir = optarg; break;
        case OPT_FAIL_HW: o.fail_hardware = optarg; break;
        case OPT_MIX: o.hardware_mix = optarg; break;
        case OPT_ATTRS: o.attributes = optarg; break;
        case OPT_PREFIX: o.id_prefix = optarg; break;
        case OPT_JSON: as_json = true; break;
        case 'v': verbose = true; break;
        case OPT_DEVICES: case OPT_THREADS: case OPT_IDLE: case OPT_POLL: case OPT_SLOT:
            if (!number_option(c, optarg, &o))
                return uf_cmdline_usage_error(argv[0], "--%s: '%s' is not a positive number",
                                              options[c - OPT_SERVER].name, optarg);
            break;
        case 'h':
            fleet_help(argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (!o.server_url || !token_file || !o.devices || !o.repo_url || !o.root_file || !o.dir)
        return uf_cmdline_usage_error(argv[0], "--server, --gateway-token-file, --devices, "
                                      "--repo, --root and --dir are required");
    uf_log log = uf_log_open(STDERR_FILENO, verbose ? UF_LOG_INFO : UF_LOG_ERROR);
    o.log = &log;
    return run_fleet(argv[0], &o, token_file, as_json);
}

int cmd_sim(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"fleet", "run simulated devices against a server", fleet_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
