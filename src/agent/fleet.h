/*
 * fleet.h - many simulated devices in one process (`upflow sim fleet`), for tests, the demo
 * and benchmarks: each is the real agent (agent.h, daemon.h) with the sim bootloader and two
 * small file slots in DIR/devN/, registering with the tenant's gateway token and then doing
 * what `upflow-agent run --once` does, again and again. A reboot is a simulated power cycle
 * (uf_boot_sim_reboot) followed by a fresh start of that device's agent.
 *
 * Devices are spread over a few threads; each device owns its configuration, agent, fetch
 * handles and daemon, so threads share nothing mutable but the stop flag and each thread's
 * time of last activity. Devices whose hardware is listed in fail_hardware get a health
 * check that fails ("pump controller self-test failed"), so their trial boots roll back.
 * The run ends when no device has had anything to do for until_idle_s seconds.
 */
#ifndef UPFLOW_AGENT_FLEET_H
#define UPFLOW_AGENT_FLEET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/log.h"

typedef struct fleet_options {
    const char *server_url;
    const char *tenant;
    const char *gateway_token;  /* the token itself */
    const char *repo_url;       /* the image repository (TUF) */
    const char *root_file;      /* its trusted root.json */
    const char *dir;            /* DIR/devN/ per device; kept between runs */
    unsigned devices, threads;
    const char *id_prefix;      /* device ids PREFIX-0001...; default "sim" */
    const char *hardware_mix;   /* "rev1:40,rev2:40,rev3:20" (weights); default "rev2:1" */
    const char *fail_hardware;  /* "rev3,rev4": their health check fails; may be NULL */
    const char *attributes;     /* "site=shanghai,line=3"; may be NULL */
    const char *factory_version; /* default "1.0.0" */
    uint64_t slot_size;         /* default 512 KiB */
    int64_t until_idle_s;       /* default 10 */
    int64_t poll_interval_s;    /* at most this between polls (the server's may be longer);
                                   default 1 */
    int64_t monitoring_time_s;  /* health.monitoring_time; default 10 */
    const uf_log *log;
} fleet_options;

/* Run the fleet until idle. The summary: {"devices", "seconds", "states": {"updated",
 * "rolled_back", "failed", "downloaded", "deferred", "untouched", "in_progress", "error"},
 * "by_hardware": {"rev1": {state: count}}, "errors": ["first few messages"]}. */
json_t *fleet_run(const fleet_options *opt, uf_error *err);

#endif
