/*
 * daemon.h - `upflow-agent run` with a server: finish what a restart interrupted, send the
 * inventory, then poll and carry out what the server assigns.
 *
 * An action is taken up at most once: DATA_DIR/action.json (replaced atomically) remembers
 * the last action the device took up and what became of it, so a reboot in the middle of an
 * update still reports its events under the right action id, and a poll that repeats an
 * action already handled (the server has not seen the outcome yet) changes nothing.
 *
 *   cancel          acknowledged with "canceled", unless the update has already started
 *   window closed   nothing yet: the device waits for the window
 *   soft            installed, unless the device defers ([server] defer = true, or a file
 *                   DATA_DIR/defer): "deferred" is reported once
 *   download_only   the slot is written and verified, "downloaded"; no trial is armed
 *   forced          installed
 *
 * Before an install the director's signed targets must name this device, this action and
 * the release, and agree with the image repository (server_link.h, agent_pin). Every event
 * of an action goes to events.jsonl tagged with the action's id, and from there to the
 * server in order (outbox.h).
 */
#ifndef UPFLOW_AGENT_DAEMON_H
#define UPFLOW_AGENT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/outbox.h"
#include "agent/server_link.h"

/* What became of the action the device took up last (action.json). */
typedef struct daemon_action_record {
    int64_t id;        /* 0: none */
    char release[256];
    char state[16];    /* installing, downloading, downloaded, deferred, canceled, failed */
} daemon_action_record;

typedef struct agent_daemon {
    agent *a;         /* borrowed; its reporter is this daemon while open */
    const uf_log *log;
    server_link link;
    outbox box;
    daemon_action_record rec;
    int64_t tag;      /* events are tagged with this action id; 0: none */
    unsigned events;  /* events reported since the last start or cycle */
    bool failure_reported;
} agent_daemon;

/* What a start or a cycle did. */
typedef struct daemon_step {
    bool busy;             /* something happened: an event, a reboot due */
    agent_next next;       /* AGENT_REBOOT: reboot now (the caller runs it, or exits 3) */
    int64_t poll_interval_s;
} daemon_step;

/* The inventory the server keeps: hardware, running version, slots, attributes. */
json_t *agent_inventory(agent *a, uf_error *err);

/* upflow-agent register: the gateway token from token_file, the inventory; the device
 * token and director key go to the data directory. */
bool agent_daemon_register(agent *a, const char *token_file, uf_error *err);
/* The same with the gateway token itself. */
bool agent_daemon_register_token(agent *a, const char *gateway_token, uf_error *err);

bool agent_daemon_open(agent_daemon *d, agent *a, const uf_log *log, uf_error *err);
void agent_daemon_close(agent_daemon *d);

/* After a (re)start: agent_resume (a trial's health checks, a rollback), deliver pending
 * events, send the inventory. */
bool agent_daemon_start(agent_daemon *d, daemon_step *out, uf_error *err);

/* One poll and what it asks for. */
bool agent_daemon_cycle(agent_daemon *d, daemon_step *out, uf_error *err);

/* Start, then cycle every poll interval (once: a single cycle) until a reboot is due. A
 * failed cycle is logged and tried again at the next interval, except with once. */
bool agent_daemon_run(agent_daemon *d, bool once, agent_next *next, uf_error *err);

#endif
