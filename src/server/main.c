/*
 * upflowd - the upflow server: change workflow, releases, rollouts, device APIs (native and
 * hawkBit DDI) and the web dashboard, on one embedded SQLite store by default.
 *
 * This file turns the command line into a configuration and runs the server until SIGTERM
 * or SIGINT; `upflowd admin ...` works on the data directory directly, for bootstrapping.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cmdline.h"
#include "server/admin.h"
#include "server/db.h"
#include "server/server.h"
#include "version.h"

static const char *const prog = "upflowd";

static void print_help(void)
{
    printf("Usage: %s [OPTION]...\n"
           "  or:  %s admin COMMAND [OPTION]...\n"
           "Run the upflow server, or administer its data directory.\n"
           "\n"
           "  -c, --config FILE      read settings from an INI file (see docs/operator-manual.md)\n"
           "  -l, --listen ADDR      listen on HOST:PORT (default 127.0.0.1:8080; port 0 = any)\n"
           "  -d, --data-dir DIR     database and files (default /var/lib/upflow)\n"
           "      --public-url URL   absolute URL clients reach this server at\n"
           "      --log-level LEVEL  error, warn, info (default) or debug\n"
           "      --port-file FILE   write the bound port to FILE once listening\n"
           "  -s, --set SECTION.KEY=VALUE  any setting of the config file\n"
           "  -h, --help             display this help and exit\n"
           "  -V, --version          output version information and exit\n"
           "\n"
           "Admin commands (run with the same --config/--data-dir):\n",
           prog, prog);
    admin_print_commands(stdout);
    printf("\n"
           "Logs go to standard error, one line per event (journald-aware).\n"
           "Exit status: 0 on a clean stop, 1 on a failure, 2 on a usage error.\n");
}

/* "section.key=value" -> config_set */
static bool apply_set(server_config *cfg, const char *arg, uf_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", arg);
    char *eq = strchr(buf, '='), *dot = strchr(buf, '.');
    if (!eq || !dot || dot > eq)
        return uf_error_set(err, UF_E_USAGE, "--set expects SECTION.KEY=VALUE, got '%s'", arg);
    *eq = '\0';
    *dot = '\0';
    return config_set(cfg, buf, dot + 1, eq + 1, err);
}

static int run_server(upflowd *srv, const char *port_file)
{
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    /* blocked before any thread starts, so only sigwait below sees them */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* every open connection is a file descriptor: make room for server.max_connections */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
        nofile.rlim_cur < (rlim_t)srv->cfg.max_connections + 256) {
        nofile.rlim_cur = nofile.rlim_max == RLIM_INFINITY
                              ? (rlim_t)srv->cfg.max_connections + 256
                              : nofile.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &nofile) != 0 ||
            nofile.rlim_cur < (rlim_t)srv->cfg.max_connections + 256)
            uf_log_warn(&srv->log, "main", "open files limited to %llu: fewer than "
                        "server.max_connections (%u) connections can be served",
                        (unsigned long long)nofile.rlim_cur, srv->cfg.max_connections);
    }

    uf_error err;
    if (!server_start(srv, &err)) {
        uf_log_error(&srv->log, "main", "start: %s", err.msg);
        return UF_EXIT_FAILURE;
    }
    uf_log_info(&srv->log, "main", "upflowd %s listening on %s (port %u), data in %s",
                UPFLOW_VERSION, srv->cfg.listen, http_port(srv->http), srv->cfg.data_dir);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (!f || fprintf(f, "%u\n", http_port(srv->http)) < 0 || fclose(f) != 0) {
            uf_log_error(&srv->log, "main", "write port file %s: %s", port_file, strerror(errno));
            server_stop(srv);
            return UF_EXIT_FAILURE;
        }
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    uf_log_info(&srv->log, "main", "%s received: finishing requests in flight and stopping",
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server_stop(srv);
    uf_log_info(&srv->log, "main", "stopped");
    return UF_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'},
        {"public-url", required_argument, NULL, 'u'},
        {"log-level", required_argument, NULL, 'L'},
        {"port-file", required_argument, NULL, 'p'},
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    db_sqlite_configure();
    upflowd srv;
    memset(&srv, 0, sizeof srv);
    config_defaults(&srv.cfg);
    const char *port_file = NULL;
    uf_error err;
    uf_error_clear(&err);
    bool ok = true;
    int c;
    /* "+": stop at "admin", whose options are its own */
    while (ok && (c = getopt_long(argc, argv, "+c:l:d:s:hV", options, NULL)) != -1) {
        switch (c) {
        case 'c': ok = config_load_file(&srv.cfg, optarg, &err); break;
        case 'l': ok = config_set(&srv.cfg, "server", "listen", optarg, &err); break;
        case 'd': ok = config_set(&srv.cfg, "server", "data_dir", optarg, &err); break;
        case 'u': ok = config_set(&srv.cfg, "server", "public_url", optarg, &err); break;
        case 'L': ok = config_set(&srv.cfg, "server", "log_level", optarg, &err); break;
        case 's': ok = apply_set(&srv.cfg, optarg, &err); break;
        case 'p': port_file = optarg; break;
        case 'h': print_help(); return UF_EXIT_OK;
        case 'V': uf_cmdline_print_version(stdout, prog); return UF_EXIT_OK;
        default: return uf_cmdline_try_help(prog);
        }
    }
    if (!ok)
        return err.code == UF_E_INVALID || err.code == UF_E_USAGE
                   ? uf_cmdline_usage_error(prog, "%s", err.msg)
                   : uf_cmdline_fail(prog, &err);
    srv.log = uf_log_open(STDERR_FILENO, srv.cfg.log_level);
    if (optind < argc && strcmp(argv[optind], "admin") == 0)
        return admin_main(&srv.cfg, argc - optind, argv + optind);
    if (optind < argc)
        return uf_cmdline_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    return run_server(&srv, port_file);
}
