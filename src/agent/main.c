/*
 * upflow-agent - the device agent: verifies a release with TUF, streams it into the inactive
 * A/B slot, trial-boots it, health-checks it, then commits or rolls back (docs/agent.md).
 *
 *   upflow-agent [-c FILE] [--set S.K=V] install [--repo URL|DIR] RELEASE
 *   upflow-agent [-c FILE] status [--json]
 *   upflow-agent [-c FILE] mark-good | mark-bad
 *   upflow-agent [-c FILE] run [--once]          finish what a restart interrupted; with
 *                                                server.url: then poll and carry out (daemon.h)
 *   upflow-agent [-c FILE] register --gateway-token-file FILE
 *   upflow-agent [-c FILE] provision SLOT        first boot environment (device images)
 *   upflow-agent [-c FILE] simulate-power-on     the sim bootloader's power cycle
 *
 * This file turns the command line into a configuration and hands it on; the update itself
 * is agent.h.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/boot_sim.h"
#include "agent/daemon.h"
#include "agent/installed.h"
#include "lib/cmdline.h"
#include "lib/json.h"

static const char *const prog = "upflow-agent";

static void print_help(void)
{
    printf("Usage: %s [OPTION]... COMMAND [ARG]...\n"
           "Install signed releases into the inactive A/B slot, trial-boot, health-check,\n"
           "commit or roll back.\n"
           "\n"
           "Commands:\n"
           "  install [--repo URL|DIR] RELEASE   install the release whose image index is\n"
           "                           the TUF target RELEASE (e.g. gw/2.0.0/rootfs.upfidx)\n"
           "  status [--json]          slots, versions, the update in progress, last result\n"
           "  mark-good                commit the running trial slot\n"
           "  mark-bad                 roll back from the running trial slot\n"
           "  run [--once]             finish or undo what a restart interrupted; with\n"
           "                           server.url set, then poll the server and carry out\n"
           "                           its rollouts (--once: one poll)\n"
           "  register --gateway-token-file FILE\n"
           "                           register at server.url with the tenant's gateway\n"
           "                           token; the device token goes to the data directory\n"
           "  provision SLOT           write the first boot environment (primary SLOT)\n"
           "  simulate-power-on        power-cycle the sim bootloader (tests, the demo)\n"
           "\n"
           "Options:\n"
           "  -c, --config FILE        configuration (default /etc/upflow/agent.conf)\n"
           "      --set S.KEY=VALUE    override one setting\n"
           "  -h, --help               display this help and exit\n"
           "  -V, --version            output version information and exit\n"
           "\n"
           "Exit status: 0 on success, 1 on a failure, 2 on a usage error, 3 when the\n"
           "device must now reboot and no bootloader.reboot command is configured.\n"
           "Documentation: docs/agent.md\n",
           prog);
}

#define EXIT_REBOOT 3

typedef struct cli {
    agent_config cfg;
    uf_fault fault;
    uf_log log;
    agent a;
} cli;

static int fail(const uf_error *err)
{
    return uf_cmdline_fail(prog, err);
}

/* After an operation: reboot if one is due. */
static int finish(cli *c, agent_next next)
{
    if (next != AGENT_REBOOT)
        return UF_EXIT_OK;
    uf_error err;
    if (!c->cfg.reboot_command[0]) {
        fprintf(stderr, "%s: reboot now to continue (the bootloader picks the slot)\n", prog);
        return EXIT_REBOOT;
    }
    return agent_reboot(&c->a, &err) ? UF_EXIT_OK : fail(&err);
}

static int cmd_install(cli *c, int argc, char **argv)
{
    static const struct option options[] = {
        {"repo", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 0;
    while ((ch = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
        if (ch != 'r')
            return uf_cmdline_try_help(prog);
        if (optarg[0] == '/') /* a directory: a repository copied to local media */
            snprintf(c->a.repo_url, sizeof c->a.repo_url, "file://%s", optarg);
        else
            snprintf(c->a.repo_url, sizeof c->a.repo_url, "%s", optarg);
    }
    if (argc - optind != 1)
        return uf_cmdline_usage_error(prog, "install takes one RELEASE");
    if (!c->a.repo_url[0])
        return uf_cmdline_usage_error(prog, "no repository: set repository.url or --repo");
    uf_error err;
    agent_next next;
    if (!agent_install(&c->a, argv[optind], &next, &err))
        return fail(&err);
    return finish(c, next);
}

static json_t *slot_json(cli *c, const agent_installed *inst, uf_slot s, const uf_boot_state *st,
                         uf_slot running)
{
    const agent_slot_record *r = &inst->slot[s == UF_SLOT_B];
    /* a slot never recorded holds the factory image if it is the one that boots, else
     * nothing known */
    bool factory = !r->known && (st->primary == s || running == s);
    const char *version = r->known ? r->version : factory ? c->cfg.factory_version : "";
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b}", "slot", uf_slot_name(s), "path",
                     c->cfg.slot_path[s == UF_SLOT_B], "version", version, "committed",
                     r->known ? r->committed : factory, "primary", st->primary == s, "trial",
                     st->trial == s, "running", running == s);
}

static json_t *status_json(cli *c, uf_error *err)
{
    uf_journal j;
    uf_boot_state st;
    uf_slot running = UF_SLOT_NONE;
    agent_installed inst;
    if (!uf_journal_load(c->a.journal_path, &j, err) || !uf_boot_read(&c->a.boot, &st, err) ||
        !agent_installed_load(c->cfg.data_dir, &inst, err))
        return NULL;
    uf_error ignored;
    uf_boot_running_slot(&c->a.boot, &running, &ignored);
    json_t *slots = json_array();
    json_array_append_new(slots, slot_json(c, &inst, UF_SLOT_A, &st, running));
    json_array_append_new(slots, slot_json(c, &inst, UF_SLOT_B, &st, running));
    int progress = j.chunks > 0 ? (int)((j.chunk + 1) * 100 / j.chunks) : 0;
    return json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s, s:i, s:s}}", "device",
                     c->cfg.device_id, "hardware", c->cfg.hardware, "slots", slots, "update",
                     "step", uf_journal_step_name(j.step), "release", j.release, "version",
                     j.version, "target_slot", uf_slot_name(j.target_slot), "progress", progress,
                     "reason", j.reason);
}

static int cmd_status(cli *c, int argc, char **argv)
{
    bool as_json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !as_json))
        return uf_cmdline_usage_error(prog, "status takes only --json");
    uf_error err;
    json_t *s = status_json(c, &err);
    if (!s)
        return fail(&err);
    if (as_json) {
        char *text = json_dumps(s, JSON_INDENT(2) | JSON_SORT_KEYS);
        puts(text ? text : "{}");
        free(text);
        json_decref(s);
        return UF_EXIT_OK;
    }
    printf("device %s (hardware %s)\n", c->cfg.device_id, c->cfg.hardware);
    const json_t *slot;
    size_t i;
    json_array_foreach(json_object_get(s, "slots"), i, slot) {
        const char *v = json_string_value(json_object_get(slot, "version"));
        printf("  slot %s  %-12s %s%s%s%s  %s\n",
               json_string_value(json_object_get(slot, "slot")), *v ? v : "(empty)",
               json_is_true(json_object_get(slot, "committed")) ? "committed" : "uncommitted",
               json_is_true(json_object_get(slot, "primary")) ? ", primary" : "",
               json_is_true(json_object_get(slot, "trial")) ? ", trial armed" : "",
               json_is_true(json_object_get(slot, "running")) ? ", running" : "",
               json_string_value(json_object_get(slot, "path")));
    }
    const json_t *u = json_object_get(s, "update");
    const char *step = json_string_value(json_object_get(u, "step"));
    printf("update: %s", step);
    if (strcmp(step, "idle") != 0)
        printf(" %s (%s) into slot %s, %lld%%", json_string_value(json_object_get(u, "version")),
               json_string_value(json_object_get(u, "release")),
               json_string_value(json_object_get(u, "target_slot")),
               (long long)json_integer_value(json_object_get(u, "progress")));
    const char *reason = json_string_value(json_object_get(u, "reason"));
    printf("%s%s\n", reason && *reason ? ": " : "", reason ? reason : "");
    json_decref(s);
    return UF_EXIT_OK;
}

static int cmd_mark(cli *c, bool good)
{
    uf_error err;
    agent_next next;
    if (!agent_mark(&c->a, good, &next, &err))
        return fail(&err);
    return finish(c, next);
}

static int cmd_run(cli *c, int argc, char **argv)
{
    bool once = argc == 2 && strcmp(argv[1], "--once") == 0;
    if (argc > 2 || (argc == 2 && !once))
        return uf_cmdline_usage_error(prog, "run takes only --once");
    uf_error err;
    agent_next next;
    if (!c->cfg.server_url[0]) /* no server: finish what the journal says, and stop */
        return agent_resume(&c->a, &next, &err) ? finish(c, next) : fail(&err);
    agent_daemon d;
    if (!agent_daemon_open(&d, &c->a, &c->log, &err))
        return fail(&err);
    bool ok = agent_daemon_run(&d, once, &next, &err);
    agent_daemon_close(&d);
    return ok ? finish(c, next) : fail(&err);
}

static int cmd_register(cli *c, int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--gateway-token-file") != 0)
        return uf_cmdline_usage_error(prog, "register takes --gateway-token-file FILE");
    uf_error err;
    if (!agent_daemon_register(&c->a, argv[2], &err))
        return fail(&err);
    printf("registered %s at %s\n", c->cfg.device_id, c->cfg.server_url);
    return UF_EXIT_OK;
}

static int cmd_provision(cli *c, int argc, char **argv)
{
    uf_slot slot;
    if (argc != 2 || !uf_slot_parse(argv[1], &slot))
        return uf_cmdline_usage_error(prog, "provision takes the slot A or B");
    uf_error err;
    uf_boot_state st;
    if (uf_boot_read(&c->a.boot, &st, &err))
        return uf_cmdline_fail(prog, &(uf_error){.code = UF_E_CONFLICT,
                                                 .msg = "the boot environment is already provisioned"});
    return uf_boot_commit(&c->a.boot, slot, &err) ? UF_EXIT_OK : fail(&err);
}

static int cmd_power_on(cli *c)
{
    if (strcmp(c->cfg.boot_backend, "sim") != 0)
        return uf_cmdline_usage_error(prog, "simulate-power-on needs bootloader.backend = sim");
    uf_error err;
    uf_slot booted;
    if (!uf_boot_sim_reboot(c->cfg.boot_path, &booted, &err))
        return fail(&err);
    printf("booted slot %s\n", uf_slot_name(booted));
    return UF_EXIT_OK;
}

static int dispatch(cli *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "install") == 0)
        return cmd_install(c, argc, argv);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(c, argc, argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(c, argc, argv);
    if (strcmp(cmd, "register") == 0)
        return cmd_register(c, argc, argv);
    if (argc > 1 && strcmp(cmd, "provision") != 0)
        return uf_cmdline_usage_error(prog, "%s takes no arguments", cmd);
    if (strcmp(cmd, "mark-good") == 0 || strcmp(cmd, "mark-bad") == 0)
        return cmd_mark(c, strcmp(cmd, "mark-good") == 0);
    if (strcmp(cmd, "provision") == 0)
        return cmd_provision(c, argc, argv);
    if (strcmp(cmd, "simulate-power-on") == 0)
        return cmd_power_on(c);
    return uf_cmdline_usage_error(prog, "unknown command '%s'", cmd);
}

/* "section.key=value" from --set. */
static bool apply_set(agent_config *cfg, const char *arg, uf_error *err)
{
    char buf[AGENT_STR_MAX + 64];
    snprintf(buf, sizeof buf, "%s", arg);
    char *eq = strchr(buf, '='), *dot = strchr(buf, '.');
    if (!eq || !dot || dot > eq)
        return uf_error_set(err, UF_E_USAGE, "--set %s: expected SECTION.KEY=VALUE", arg);
    *eq = '\0';
    *dot = '\0';
    return agent_config_set(cfg, buf, dot + 1, eq + 1, err);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static cli c; /* owned by main: a few KiB of configuration */
    const char *config = "/etc/upflow/agent.conf";
    const char *sets[32];
    size_t n_sets = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 's':
            if (n_sets == 32)
                return uf_cmdline_usage_error(prog, "at most 32 --set options");
            sets[n_sets++] = optarg;
            break;
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
    if (optind >= argc)
        return uf_cmdline_usage_error(prog, "missing command");
    uf_error err;
    agent_config_defaults(&c.cfg);
    /* Crash points for the fault-injection tests (fault.h): read once, passed down. */
    if (!uf_fault_from_env(&c.fault, &err) || !agent_config_load(&c.cfg, config, &err))
        return fail(&err);
    for (size_t i = 0; i < n_sets; i++)
        if (!apply_set(&c.cfg, sets[i], &err))
            return fail(&err);
    if (!agent_config_check(&c.cfg, &err))
        return fail(&err);
    c.log = uf_log_open(STDERR_FILENO, UF_LOG_INFO);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (!agent_open(&c.a, &c.cfg, &c.fault, &c.log, &err)) {
        rc = fail(&err);
    } else {
        rc = dispatch(&c, argc - optind, argv + optind);
        agent_close(&c.a);
    }
    curl_global_cleanup();
    return rc;
}
