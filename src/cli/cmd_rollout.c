/*
 * cmd_rollout.c - `upflow rollout create|list|show|devices|start|pause|resume|cancel|rollback|
 * wait`: phased rollouts of a signed release over devices (docs/rollouts.md).
 *
 * `create` turns its options into the rollout body of POST /api/v1/rollouts (one --phase or
 * --phase-filter per phase, in order; --change for each approved change record the release
 * delivers) and checks locally only what the command line can get wrong; the approval gate
 * and everything else is the server's, and a refusal shows its message. `wait` polls a
 * rollout once a second until it reaches one of the states asked for, for scripts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/rollout_view.h"
#include "cli/server_cmd.h"
#include "lib/cmdline.h"

enum {
    OPT_RELEASE = UF_SRV_OPT_OWN, OPT_NAME, OPT_FILTER, OPT_GROUP, OPT_PHASE, OPT_PHASE_FILTER,
    OPT_SUCCESS, OPT_ERRORS, OPT_ON_ERROR, OPT_START, OPT_START_AT, OPT_TYPE, OPT_WINDOW,
    OPT_WINDOW_DURATION, OPT_WINDOW_TZ, OPT_PRIORITY, OPT_CHANGE, OPT_STATE, OPT_UNTIL,
    OPT_TIMEOUT,
};

#define DEFAULT_TIMEOUT 600

/* What the options of a rollout subcommand gave. */
typedef struct rollout_args {
    json_t *body;    /* create: the rollout, as it is sent */
    json_t *phases;  /* create: [{name, percent} | {name, filter}] */
    json_t *changes; /* create: record ids */
    json_t *window;  /* create: {cron, duration, tz}, NULL without --window */
    bool window_part; /* create: --window-duration or --window-tz was given */
    const char *state; /* devices: --state */
    const char *until; /* wait: "STATE[,STATE]" */
    int64_t timeout;   /* wait: seconds, 0: no limit */
} rollout_args;

static void args_init(rollout_args *a)
{
    *a = (rollout_args){.body = json_object(), .phases = json_array(), .changes = json_array(),
                        .timeout = DEFAULT_TIMEOUT};
}

static void args_clear(rollout_args *a)
{
    json_decref(a->body);
    json_decref(a->phases);
    json_decref(a->changes);
    json_decref(a->window);
}

/* ---- option values ------------------------------------------------------------------------ */

/* arg is one of the NULL-terminated words, else a usage error naming the option. */
static bool one_of(const char *opt, const char *arg, const char *const *words, uf_error *err)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(arg, words[i]) == 0)
            return true;
    char list[128] = "";
    for (size_t i = 0; words[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 words[i]);
    return uf_error_set(err, UF_E_USAGE, "%s '%s': expected one of %s", opt, arg, list);
}

static bool integer(const char *opt, const char *arg, int64_t min, int64_t max, int64_t *out,
                    uf_error *err)
{
    char *end;
    long long v = strtoll(arg, &end, 10);
    if (!*arg || *end || v < min || v > max)
        return uf_error_set(err, UF_E_USAGE, "%s '%s': expected a whole number from %lld to %lld",
                            opt, arg, (long long)min, (long long)max);
    *out = v;
    return true;
}

static bool set_text(json_t *obj, const char *key, const char *opt, const char *arg,
                     uf_error *err)
{
    json_t *v = json_string(arg);
    return (v && json_object_set_new(obj, key, v) == 0) ||
           uf_error_set(err, UF_E_USAGE, "%s: not valid UTF-8", opt);
}

static bool set_int(json_t *obj, const char *key, const char *opt, const char *arg, int64_t min,
                    int64_t max, uf_error *err)
{
    int64_t v = 0;
    return integer(opt, arg, min, max, &v, err) &&
           json_object_set_new(obj, key, json_integer((json_int_t)v)) == 0;
}

/* --phase NAME:PERCENT or --phase-filter NAME:EXPR */
static bool add_phase(rollout_args *a, const char *opt, const char *arg, bool by_filter,
                      uf_error *err)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || !colon[1])
        return uf_error_set(err, UF_E_USAGE, "%s '%s': expected NAME:%s", opt, arg,
                            by_filter ? "EXPR" : "PERCENT");
    json_t *phase = json_pack("{s:s%}", "name", arg, (size_t)(colon - arg));
    if (!phase)
        return uf_error_set(err, UF_E_USAGE, "%s '%s': not valid UTF-8", opt, arg);
    bool ok = by_filter ? set_text(phase, "filter", opt, colon + 1, err)
                        : set_int(phase, "percent", opt, colon + 1, 1, 100, err);
    if (ok)
        json_array_append(a->phases, phase);
    json_decref(phase);
    return ok;
}

/* --change ID[,ID]... */
static bool add_changes(rollout_args *a, const char *arg, uf_error *err)
{
    char id_text[32];
    for (const char *p = arg;; p++) {
        size_t n = strcspn(p, ",");
        int64_t id;
        snprintf(id_text, sizeof id_text, "%.*s", (int)(n < 31 ? n : 31), p);
        if (n > 31 || !uf_srv_parse_id(id_text, "--change", &id, err))
            return uf_error_set(err, UF_E_USAGE, "--change '%s': expected record IDs", arg);
        json_array_append_new(a->changes, json_integer((json_int_t)id));
        p += n;
        if (!*p)
            return true;
    }
}

static bool window_option(rollout_args *a, int opt, const char *arg, uf_error *err)
{
    if (!a->window)
        a->window = json_object();
    if (opt == OPT_WINDOW)
        return set_text(a->window, "cron", "--window", arg, err);
    a->window_part = true;
    if (opt == OPT_WINDOW_TZ)
        return set_text(a->window, "tz", "--window-tz", arg, err);
    return set_int(a->window, "duration", "--window-duration", arg, 1, 366 * 86400, err);
}

static bool rollout_option(uf_srv_cmd *c, void *ctx, int opt, const char *arg)
{
    static const char *const on_error[] = {"pause", "abort", NULL};
    static const char *const start[] = {"manual", "auto", "scheduled", NULL};
    static const char *const type[] = {"forced", "soft", "download_only", NULL};
    rollout_args *a = ctx;
    uf_error *err = &c->err;
    json_t *b = a->body;
    switch (opt) {
    case OPT_RELEASE:
        return set_text(b, "release", "--release", arg, err);
    case OPT_NAME:
        return set_text(b, "name", "--name", arg, err);
    case OPT_FILTER:
        return set_text(b, "filter", "--filter", arg, err);
    case OPT_GROUP:
        return uf_srv_check_name(arg, "--group", err) && set_text(b, "group", "--group", arg, err);
    case OPT_PHASE:
        return add_phase(a, "--phase", arg, false, err);
    case OPT_PHASE_FILTER:
        return add_phase(a, "--phase-filter", arg, true, err);
    case OPT_SUCCESS:
        return set_int(b, "success_threshold", "--success-threshold", arg, 1, 100, err);
    case OPT_ERRORS:
        return set_int(b, "error_threshold", "--error-threshold", arg, 1, 100, err);
    case OPT_ON_ERROR:
        return one_of("--on-error", arg, on_error, err) && set_text(b, "on_error", "", arg, err);
    case OPT_START:
        return one_of("--start", arg, start, err) && set_text(b, "start", "", arg, err);
    case OPT_START_AT:
        return set_text(b, "start_at", "--start-at", arg, err);
    case OPT_TYPE:
        return one_of("--type", arg, type, err) && set_text(b, "type", "", arg, err);
    case OPT_WINDOW:
    case OPT_WINDOW_DURATION:
    case OPT_WINDOW_TZ:
        return window_option(a, opt, arg, err);
    case OPT_PRIORITY:
        return set_int(b, "priority", "--priority", arg, -1000000, 1000000, err);
    case OPT_CHANGE:
        return add_changes(a, arg, err);
    case OPT_STATE:
        a->state = arg;
        return true;
    case OPT_UNTIL:
        a->until = arg;
        return true;
    case OPT_TIMEOUT:
        return integer("--timeout", arg, 0, 7 * 86400, &a->timeout, err);
    default:
        return uf_error_set(err, UF_E_USAGE, "unexpected option");
    }
}

/* Parse argv with `want` operands (0, or 1: a rollout ID into *id). -1 to go on, else the
 * exit status (and a is cleared). */
static int parse(uf_srv_cmd *c, rollout_args *a, int argc, char **argv,
                 const struct option *options, const char *help, int want, int64_t *id)
{
    uf_srv_cmd_init(c, argv[0]);
    args_init(a);
    int rc = uf_srv_cmd_parse(c, argc, argv, options, help, rollout_option, a);
    if (rc < 0 && !uf_srv_cmd_operands(c, argc, argv, "a rollout ID", want, want))
        rc = uf_srv_cmd_usage(c);
    if (rc < 0 && want && !uf_srv_parse_id(argv[optind], "rollout ID", id, &c->err))
        rc = uf_srv_cmd_usage(c);
    if (rc >= 0)
        args_clear(a);
    return rc;
}

/* "/api/v1/rollouts/ID" and a tail */
static void rollout_path(int64_t id, const char *tail, char *out, size_t len)
{
    snprintf(out, len, "/api/v1/rollouts/%lld%s", (long long)id, tail);
}

/* End a run: the answer through view, the options released. */
static int finish(uf_srv_cmd *c, rollout_args *a, bool ok, uf_srv_view_fn view, const void *ctx)
{
    int rc = uf_srv_cmd_end(c, ok, view, ctx);
    args_clear(a);
    return rc;
}

/* ---- create ---------------------------------------------------------------------------- */

/* What the options cannot say on their own: required ones, and the ones that go together. */
static bool check_create(uf_srv_cmd *c, rollout_args *a)
{
    json_t *b = a->body;
    if (!json_object_get(b, "release"))
        return uf_error_set(&c->err, UF_E_USAGE, "missing --release PATH");
    if (!json_object_get(b, "name"))
        return uf_error_set(&c->err, UF_E_USAGE, "missing --name NAME");
    if (json_array_size(a->changes) == 0)
        return uf_error_set(&c->err, UF_E_USAGE, "missing --change ID: link the approved change "
                            "records this release delivers");
    if (a->window && !json_object_get(a->window, "cron"))
        return uf_error_set(&c->err, UF_E_USAGE, "--window-duration and --window-tz go with "
                            "--window");
    if (a->window && !json_object_get(a->window, "duration"))
        return uf_error_set(&c->err, UF_E_USAGE, "--window needs --window-duration SECONDS");
    /* --start-at alone means a scheduled start */
    const char *start = json_string_value(json_object_get(b, "start"));
    bool at = json_object_get(b, "start_at") != NULL;
    if (at && !start)
        json_object_set_new(b, "start", json_string(start = "scheduled"));
    if ((start && strcmp(start, "scheduled") == 0) != at)
        return uf_error_set(&c->err, UF_E_USAGE, "--start-at goes with --start scheduled, and "
                            "only with it");
    if (c->tenant)
        json_object_set_new(b, "tenant", json_string(c->tenant));
    if (json_array_size(a->phases))
        json_object_set(b, "phases", a->phases);
    if (a->window)
        json_object_set(b, "window", a->window);
    json_object_set(b, "changes", a->changes);
    return true;
}

static int create_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"release", required_argument, NULL, OPT_RELEASE},
        {"name", required_argument, NULL, OPT_NAME},
        UF_SRV_TENANT_OPTION,
        {"filter", required_argument, NULL, OPT_FILTER},
        {"group", required_argument, NULL, OPT_GROUP},
        {"phase", required_argument, NULL, OPT_PHASE},
        {"phase-filter", required_argument, NULL, OPT_PHASE_FILTER},
        {"success-threshold", required_argument, NULL, OPT_SUCCESS},
        {"error-threshold", required_argument, NULL, OPT_ERRORS},
        {"on-error", required_argument, NULL, OPT_ON_ERROR},
        {"start", required_argument, NULL, OPT_START},
        {"start-at", required_argument, NULL, OPT_START_AT},
        {"type", required_argument, NULL, OPT_TYPE},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"window-duration", required_argument, NULL, OPT_WINDOW_DURATION},
        {"window-tz", required_argument, NULL, OPT_WINDOW_TZ},
        {"priority", required_argument, NULL, OPT_PRIORITY},
        {"change", required_argument, NULL, OPT_CHANGE},
        UF_SRV_COMMON_OPTIONS,
    };
    uf_srv_cmd c;
    rollout_args a;
    int rc = parse(&c, &a, argc, argv, options,
        "--release PATH --name NAME --change ID... [OPTION]...\n"
        "Create a rollout of a signed release over devices, in phases, and show it. The\n"
        "change records must be approved for this release (e.g. REQ in RELEASE_PENDING).\n"
        "\n"
        "      --release PATH        the release's image index in the signed targets, e.g.\n"
        "                            gw/2.0.0/rootfs.upfidx ('upflow release published')\n"
        "      --name NAME           what people call the rollout\n"
        "      --change ID           an approved change record the release delivers;\n"
        "                            repeat, or give ID,ID,...\n"
        UF_SRV_TENANT_HELP
        "      --filter EXPR         only devices the filter matches\n"
        "                            (docs/device-filters.md)\n"
        "      --group G             only the members of static group G\n"
        "      --phase NAME:PERCENT  a phase reaching PERCENT of the devices in all (rising,\n"
        "                            the last usually 100); repeat, in order\n"
        "      --phase-filter NAME:EXPR  a phase of the devices EXPR matches (instead of\n"
        "                            percentages); repeat, in order\n"
        "                            (default: one phase 'all' of every device)\n"
        "      --success-threshold N  % of a phase that must succeed before the next one\n"
        "                            opens (default 100)\n"
        "      --error-threshold N   % of failed devices that stops the rollout (default 20)\n"
        "      --on-error pause|abort  what the error threshold does (default pause)\n"
        "      --start manual|auto|scheduled  start with 'upflow rollout start' (default),\n"
        "                            at once, or at --start-at\n"
        "      --start-at TIME       when a scheduled rollout starts, e.g.\n"
        "                            2026-12-01T02:00:00Z (implies --start scheduled)\n"
        "      --type forced|soft|download_only  install at once (default), let the device\n"
        "                            defer, or only download\n"
        "      --window 'CRON'       devices install only in windows starting at CRON\n"
        "                            (minute hour day month weekday), e.g. '0 2 * * 1-5'\n"
        "      --window-duration SECONDS  how long each window is open (with --window)\n"
        "      --window-tz TZ        the window's time zone, e.g. Asia/Shanghai (default UTC)\n"
        "      --priority N          the higher wins where a device is in several rollouts\n"
        "                            (default 0)\n",
        0, NULL);
    if (rc >= 0)
        return rc;
    if (!check_create(&c, &a)) {
        args_clear(&a);
        return uf_srv_cmd_usage(&c);
    }
    bool ok = uf_srv_cmd_call(&c, "POST", "/api/v1/rollouts", a.body);
    return finish(&c, &a, ok, uf_view_rollout, NULL);
}

/* ---- list, show and devices --------------------------------------------------------------- */

static int list_main(int argc, char **argv)
{
    static const struct option options[] = {UF_SRV_TENANT_OPTION, UF_SRV_COMMON_OPTIONS};
    uf_srv_cmd c;
    rollout_args a;
    int rc = parse(&c, &a, argc, argv, options,
                   "[--tenant T]\n"
                   "List the rollouts of a tenant, newest first: state, version, current phase,\n"
                   "devices done and failed.\n"
                   "\n" UF_SRV_TENANT_HELP,
                   0, NULL);
    if (rc >= 0)
        return rc;
    uf_buf path = UF_BUF_INIT;
    bool ok = uf_srv_cmd_path(&c, &path, "/api/v1/rollouts") &&
              uf_srv_cmd_call(&c, "GET", path.data, NULL);
    uf_buf_free(&path);
    return finish(&c, &a, ok, uf_view_rollouts, NULL);
}

static int show_main(int argc, char **argv)
{
    static const struct option options[] = {UF_SRV_COMMON_OPTIONS};
    uf_srv_cmd c;
    rollout_args a;
    int64_t id;
    int rc = parse(&c, &a, argc, argv, options,
                   "ID\n"
                   "Show a rollout: its release, state and why, the devices it selects, how and\n"
                   "when they install, the thresholds, and the devices per phase and state\n"
                   "('*' marks the current phase).\n"
                   "\n",
                   1, &id);
    if (rc >= 0)
        return rc;
    char path[64];
    rollout_path(id, "", path, sizeof path);
    bool ok = uf_srv_cmd_call(&c, "GET", path, NULL);
    return finish(&c, &a, ok, uf_view_rollout, NULL);
}

static int devices_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"state", required_argument, NULL, OPT_STATE},
        UF_SRV_COMMON_OPTIONS,
    };
    uf_srv_cmd c;
    rollout_args a;
    int64_t id;
    int rc = parse(&c, &a, argc, argv, options,
                   "ID [--state STATE]\n"
                   "List a rollout's devices by phase: hardware, state, progress, last update\n"
                   "and the agent's reason.\n"
                   "\n"
                   "      --state STATE         only devices in STATE, e.g. failure, rolled_back\n",
                   1, &id);
    if (rc >= 0)
        return rc;
    char base[64];
    json_t *rollout = NULL;
    bool ok = true;
    if (!c.json) { /* the phases' names, for people */
        rollout_path(id, "", base, sizeof base);
        ok = uf_srv_cmd_call(&c, "GET", base, NULL);
        rollout = json_incref(c.resp.body);
    }
    rollout_path(id, "/devices", base, sizeof base);
    uf_buf path = UF_BUF_INIT;
    ok = ok && uf_buf_append_str(&path, base, &c.err) &&
         uf_srv_cmd_query(&c, &path, "state", a.state) &&
         uf_srv_cmd_call(&c, "GET", path.data, NULL);
    uf_buf_free(&path);
    rc = finish(&c, &a, ok, uf_view_rollout_devices, rollout);
    json_decref(rollout);
    return rc;
}

/* ---- commands ----------------------------------------------------------------------------- */

/* The commands on a rollout: POST /api/v1/rollouts/ID/COMMAND, with what each does. */
static const struct {
    const char *name, *help;
} commands[] = {
    {"start", "Start a created rollout: the approval gate is checked, its first phase opens and\n"
              "its linked changes are delivered. Shows the rollout."},
    {"pause", "Pause a running rollout: devices that have not started get nothing; those\n"
              "installing go on. Shows the rollout."},
    {"resume", "Resume a paused rollout, after the approval gate is checked again. Failures so\n"
               "far no longer count against the error threshold. Shows the rollout."},
    {"cancel", "Cancel a rollout: devices that have not started installing drop it. Shows the\n"
               "rollout."},
    {"rollback", "Create and start a rollout back to the product's previous release, for the\n"
                 "devices this rollout updated. Shows the new rollout."},
};

/* `upflow rollout COMMAND ID`: argv[0] ends with the command's name. */
static int command_main(int argc, char **argv)
{
    static const struct option options[] = {UF_SRV_COMMON_OPTIONS};
    const char *space = strrchr(argv[0], ' '), *name = space ? space + 1 : argv[0];
    size_t k = 0, n = sizeof commands / sizeof commands[0];
    while (k < n && strcmp(commands[k].name, name) != 0)
        k++;
    if (k == n)
        return uf_cmdline_usage_error(argv[0], "not a rollout command");
    uf_srv_cmd c;
    rollout_args a;
    int64_t id;
    char help[512];
    snprintf(help, sizeof help, "ID\n%s\n\n", commands[k].help);
    int rc = parse(&c, &a, argc, argv, options, help, 1, &id);
    if (rc >= 0)
        return rc;
    char path[64];
    rollout_path(id, "/", path, sizeof path);
    snprintf(path + strlen(path), sizeof path - strlen(path), "%s", commands[k].name);
    json_t *body = json_object();
    bool ok = uf_srv_cmd_call(&c, "POST", path, body);
    json_decref(body);
    return finish(&c, &a, ok, uf_view_rollout, NULL);
}

/* ---- wait ---------------------------------------------------------------------------------- */

static const char *const rollout_states[] = {"created", "running", "paused", "finished",
                                             "canceled", "aborted", NULL};

/* Whether state is one of the comma-separated list. */
static bool listed(const char *list, const char *state)
{
    size_t n = strlen(state);
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, state, n) == 0)
            return true;
        p += len;
        if (!*p)
            return false;
    }
}

/* --until: known states only, so a typo fails at once instead of at the timeout. */
static bool check_until(const char *until, uf_error *err)
{
    if (!until)
        return uf_error_set(err, UF_E_USAGE, "missing --until STATE[,STATE]");
    char word[32];
    for (const char *p = until;; p++) {
        size_t len = strcspn(p, ",");
        snprintf(word, sizeof word, "%.*s", (int)(len < 31 ? len : 31), p);
        if (len > 31 || !one_of("--until", word, rollout_states, err))
            return false;
        p += len;
        if (!*p)
            return true;
    }
}

/* States a rollout never leaves. */
static bool final(const char *state)
{
    return strcmp(state, "finished") == 0 || strcmp(state, "canceled") == 0 ||
           strcmp(state, "aborted") == 0;
}

static void view_state(const json_t *rollout, const void *unused)
{
    (void)unused;
    uf_view_rollout_state(rollout);
}

static int wait_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"until", required_argument, NULL, OPT_UNTIL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        UF_SRV_COMMON_OPTIONS,
    };
    uf_srv_cmd c;
    rollout_args a;
    int64_t id;
    int rc = parse(&c, &a, argc, argv, options,
                   "ID --until STATE[,STATE] [--timeout SECONDS]\n"
                   "Wait until a rollout is in one of the STATEs, asking the server every second,\n"
                   "and print its state (exit 0). After the timeout, or when the rollout ends in\n"
                   "another state, print the last state and exit 1.\n"
                   "\n"
                   "      --until STATES        created, running, paused, finished, canceled or\n"
                   "                            aborted; several separated by commas\n"
                   "      --timeout SECONDS     give up after SECONDS (default 600; 0: never)\n",
                   1, &id);
    if (rc >= 0)
        return rc;
    if (!check_until(a.until, &c.err)) {
        args_clear(&a);
        return uf_srv_cmd_usage(&c);
    }
    char path[64];
    rollout_path(id, "", path, sizeof path);
    time_t deadline = time(NULL) + (time_t)a.timeout;
    bool ok, reached = false;
    while ((ok = uf_srv_cmd_call(&c, "GET", path, NULL))) {
        const char *state = json_string_value(json_object_get(c.resp.body, "state"));
        if (!state) {
            ok = uf_error_set(&c.err, UF_E_INTERNAL, "the server's rollout %lld has no state",
                              (long long)id);
            break;
        }
        if ((reached = listed(a.until, state)) || final(state) ||
            (a.timeout && time(NULL) >= deadline))
            break;
        sleep(1);
    }
    if (ok && !reached) { /* show where it stopped, then why this is a failure */
        if (c.json)
            ok = uf_response_print_raw(&c.resp, &c.err);
        else
            view_state(c.resp.body, NULL);
        const char *state = json_string_value(json_object_get(c.resp.body, "state"));
        ok = final(state) ? uf_error_set(&c.err, UF_E_CONFLICT, "rollout %lld ended %s, not %s",
                                         (long long)id, state, a.until)
                          : uf_error_set(&c.err, UF_E_TIMEOUT, "rollout %lld is still %s after "
                                         "%lld s, not %s", (long long)id, state,
                                         (long long)a.timeout, a.until);
    }
    return finish(&c, &a, ok, view_state, NULL);
}

int cmd_rollout(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"create", "create a rollout of a release over devices", create_main},
        {"list", "list the rollouts of a tenant", list_main},
        {"show", "show a rollout with its counts per phase and state", show_main},
        {"devices", "list a rollout's devices with their state and reason", devices_main},
        {"start", "start a created rollout", command_main},
        {"pause", "pause a running rollout", command_main},
        {"resume", "resume a paused rollout", command_main},
        {"cancel", "cancel a rollout", command_main},
        {"rollback", "roll the updated devices back to the previous release", command_main},
        {"wait", "wait until a rollout reaches a state", wait_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
