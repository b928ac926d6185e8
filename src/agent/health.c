/*
 * health.c - the health checks of a trial boot within the monitoring time (see health.h).
 *
 * The time spent is the sum of the checks' own elapsed times (uf_run measures from before
 * its fork to the end of the command), so no second clock is needed here.
 */
#include "agent/health.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Longest piece of a command quoted in a reason, so that the reason keeps its end. */
#define QUOTE_MAX 200

/* "health check 2 of 3 ('curl -f http://localhost/ready')" */
static void describe(char *buf, size_t size, size_t i, size_t n, const char *command)
{
    int len = (int)strlen(command);
    snprintf(buf, size, "health check %zu of %zu ('%.*s%s')", i + 1, n,
             len > QUOTE_MAX ? QUOTE_MAX : len, command, len > QUOTE_MAX ? "..." : "");
}

/* "120 s", or "300 ms" when not whole seconds. */
static void describe_time(char *buf, size_t size, int64_t ms)
{
    if (ms % 1000 == 0)
        snprintf(buf, size, "%" PRId64 " s", ms / 1000);
    else
        snprintf(buf, size, "%" PRId64 " ms", ms);
}

static void fail(uf_health_report *out, const char *check, const char *monitoring,
                 const uf_run_result *res)
{
    out->passed = false;
    if (res->timed_out)
        snprintf(out->reason, sizeof out->reason, "monitoring time of %s exceeded while %s ran",
                 monitoring, check);
    else if (res->signal)
        snprintf(out->reason, sizeof out->reason, "%s was killed by signal %d", check,
                 res->signal);
    else
        snprintf(out->reason, sizeof out->reason, "%s exited with %d", check, res->exit_code);
    snprintf(out->log_tail, sizeof out->log_tail, "%s", res->tail);
}

static bool refuse(uf_health_report *out, uf_error *err, const char *why)
{
    snprintf(out->reason, sizeof out->reason, "health checks: %s", why);
    return uf_error_set(err, UF_E_INVALID, "health checks: %s", why);
}

bool uf_health_run(const uf_health_config *cfg, uf_health_report *out, uf_error *err)
{
    memset(out, 0, sizeof *out);
    if (cfg->n_commands > 0 && !cfg->commands)
        return refuse(out, err, "no command list");
    if (cfg->n_commands > 0 && cfg->monitoring_time_ms <= 0)
        return refuse(out, err, "the monitoring time must be > 0");
    char monitoring[32], check[QUOTE_MAX + 64];
    describe_time(monitoring, sizeof monitoring, cfg->monitoring_time_ms);
    for (size_t i = 0; i < cfg->n_commands; i++) {
        describe(check, sizeof check, i, cfg->n_commands, cfg->commands[i]);
        int64_t left = cfg->monitoring_time_ms - out->elapsed_ms;
        if (left <= 0) {
            snprintf(out->reason, sizeof out->reason,
                     "monitoring time of %s exceeded before %s started", monitoring, check);
            return true;
        }
        uf_run_result res;
        uf_error why;
        bool started = uf_run(cfg->commands[i], cfg->env, left, &res, &why);
        out->elapsed_ms += res.elapsed_ms;
        if (!started) {
            uf_error_prefix(&why, "%s", check);
            snprintf(out->reason, sizeof out->reason, "%s", why.msg);
            if (err)
                *err = why;
            return false;
        }
        if (res.timed_out || res.exit_code != 0) {
            fail(out, check, monitoring, &res);
            return true;
        }
    }
    out->passed = true;
    return true;
}
