/*
 * health.h - the health checks after a trial boot: the "monitoring time" of a redundant
 * switch-over. The new slot proves itself by running every configured check, in order, each
 * exiting 0, all within the monitoring time; if one fails, is killed, or the time runs out,
 * the report says which check and why, with its output tail, and the agent keeps (returns to)
 * the old slot.
 *
 * Each check gets what remains of the monitoring time (run.h), so a hanging check ends the
 * set at the monitoring time, plus at most UF_RUN_KILL_GRACE_MS to kill its process group.
 */
#ifndef UPFLOW_AGENT_HEALTH_H
#define UPFLOW_AGENT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/run.h"
#include "lib/error.h"

typedef struct uf_health_config {
    const char *const *commands; /* shell commands, run in order; all must exit 0 */
    size_t n_commands;
    int64_t monitoring_time_ms;  /* the whole set must pass within this (> 0 if any command) */
    const char *const *env;      /* extra "KEY=VALUE" environment (UPFLOW_SLOT=B, ...), may be NULL */
} uf_health_config;

typedef struct uf_health_report {
    bool passed;
    /* "" when passed; else which check and why, e.g.
     *   health check 2 of 3 ('curl -f http://localhost/ready') exited with 7
     *   health check 1 of 2 ('/opt/app/selftest') was killed by signal 9
     *   monitoring time of 120 s exceeded while health check 1 of 1 ('sleep 500') ran */
    char reason[512];
    char log_tail[UF_RUN_TAIL_SIZE]; /* the failing check's output tail; "" when passed */
    int64_t elapsed_ms;
} uf_health_report;

/*
 * Run the checks and fill out (always). No commands = passed. Returns false only when a check
 * could not be started at all, or the config is invalid (UF_E_INVALID); err says which check,
 * and out is a failure with the same reason, so a caller may treat it as a failed check.
 */
bool uf_health_run(const uf_health_config *cfg, uf_health_report *out, uf_error *err);

#endif
