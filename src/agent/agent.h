/*
 * agent.h - the device agent's update process, step by step (docs/agent.md).
 *
 * The model is the seed's redundant-PLC switch-over: check first that the new configuration
 * fits and that the system runs redundantly (pre-flight); load it into the standby while the
 * master keeps running (stream the verified chunks into the inactive slot); switch over with
 * a monitoring time (one trial boot, health checks); if the monitoring time is exceeded,
 * abort, and the old master stays in control (the bootloader's primary never changed).
 *
 * Everything the agent has done is in the journal (journal.h) before the next step starts,
 * and the bootloader's primary slot changes only after the new slot proved healthy, so a
 * power cut anywhere leaves a device that boots a verified slot; agent_resume() reads the
 * journal, the boot state and the running slot after any restart and finishes or undoes the
 * step in progress.
 *
 * Outcomes are reported as events (downloading with progress, downloaded, installing,
 * installed, rebooting, trial, success, failure with reason and log tail, rolled_back) to
 * the log and to DATA_DIR/events.jsonl, one JSON object per line, for the server to collect.
 */
#ifndef UPFLOW_AGENT_AGENT_H
#define UPFLOW_AGENT_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/bootloader.h"
#include "agent/config.h"
#include "agent/fault.h"
#include "agent/fetch.h"
#include "agent/health.h"
#include "agent/journal.h"
#include "lib/error.h"
#include "lib/log.h"

/* ---- for updates ordered by a server (daemon.h) -------------------------------------- */

/* Where events go besides the log and events.jsonl. annotate may add members to an event
 * before it is appended (the server action it belongs to); appended is told after, to
 * deliver what is pending. Both may be NULL. */
typedef struct agent_reporter {
    void (*annotate)(void *ctx, json_t *event);
    void (*appended)(void *ctx);
    void *ctx;
} agent_reporter;

/* A trial boot must also reach the server (when the agent runs against one): reach tries once
 * and says whether the server answered. The trial is committed only if it answers within
 * limit_ms of the health checks passing; else the device rolls back, as a system that cannot
 * phone home after an update is not healthy however its local checks look. */
typedef struct agent_contact {
    bool (*reach)(void *ctx, uf_error *err);
    void *ctx;
    int64_t limit_ms; /* 0: not asked */
} agent_contact;

/* What the director (tuf.md §12) says the release's index is: when set, the pre-flight
 * refuses a release whose image-repository target differs in length or SHA-256. */
typedef struct agent_pin {
    bool set;
    int64_t length;
    char sha256[65];
} agent_pin;

/* ---- the agent ----------------------------------------------------------------------- */

typedef struct agent {
    const agent_config *cfg;
    uf_fault *fault;
    const uf_log *log;
    uf_bootloader boot;
    uf_fetch *fetch;
    char journal_path[AGENT_STR_MAX + 32];
    char repo_url[AGENT_STR_MAX]; /* the repository in use (config or the install command) */
    agent_reporter reporter;      /* zero: events go to the log and events.jsonl only */
    agent_pin pin;                /* zero: no director */
    agent_contact contact;        /* zero: a trial needs no contact with a server */
    bool download_only;           /* install stops after the verified slot: journal "downloaded" */
} agent;

/* What a call left to do: nothing, or a reboot into the slot the bootloader will pick. */
typedef enum { AGENT_DONE, AGENT_REBOOT } agent_next;

bool agent_open(agent *a, const agent_config *cfg, uf_fault *fault, const uf_log *log,
                uf_error *err);
void agent_close(agent *a);

/* Install the release whose index is the TUF target `release` (e.g.
 * "gateway/2.0.0/rootfs.upfidx") from the repository: pre-flight, download into the
 * inactive slot (resuming an interrupted download of the same release), verify, arm the
 * trial boot. *next is AGENT_REBOOT when the device must now reboot. A refusal before
 * anything was written is UF_E_CONFLICT / UF_E_FORBIDDEN with the reason.
 * With a->download_only the verified slot is kept, the journal says "downloaded" (a
 * finished download waiting for an order to install; agent_resume leaves it alone), and a
 * later agent_install of the same release goes on from there. */
bool agent_install(agent *a, const char *release, agent_next *next, uf_error *err);

/* After a start or reboot: finish or undo whatever the journal says was in progress (resume a
 * download, arm a verified slot, run the health checks of a trial boot and commit or roll
 * back, record a fallback by the bootloader). */
bool agent_resume(agent *a, agent_next *next, uf_error *err);

/* An operator's verdict on a trial boot: good commits the running trial slot, bad rolls back
 * (the device must reboot). */
bool agent_mark(agent *a, bool good, agent_next *next, uf_error *err);

/* Reboot as configured (bootloader.reboot); without a command the caller stops and the
 * device's supervisor (or a test's simulated power cycle) takes over. */
bool agent_reboot(agent *a, uf_error *err);

/* Append an event to the log and DATA_DIR/events.jsonl (and tell a->reporter).
 * progress < 0: none. */
void agent_report(agent *a, uf_journal_step step, const char *version, int progress,
                  const char *reason, const char *log_tail);

/* Journal helpers shared by the steps. */
bool agent_journal_step(agent *a, uf_journal *j, uf_journal_step step, const char *reason,
                        uf_error *err);

/* Shared by the install handlers: install.post (update.c); journal "trial" and run the
 * health checks within the monitoring time, rep says how they went (trial.c). */
bool agent_post_install(agent *a, uf_error *err);
bool agent_trial_checks(agent *a, uf_journal *j, uf_health_report *rep, uf_error *err);

/* ---- the tree install handler's steps (tree_update.c, handler_tree.h) -------------------
 * A tree release (signed install_type "tree") writes no slot and needs no reboot: its journal
 * has no target slot, its verified image is staged in DATA_DIR/tree-image, then it is
 * extracted into install.tree_dir, `current` switched, install.post run and the health checks
 * run at once; success keeps it, failure switches `current` back. DATA_DIR/tree.json records
 * {"current": VERSION, "previous": VERSION or ""} (written before each switch). */

/* An update past its pre-flight that writes no slot is a tree install. */
static inline bool agent_journal_is_tree(const uf_journal *j)
{
    return j->target_slot == UF_SLOT_NONE;
}
void agent_tree_image_path(const agent *a, char *out, size_t len);
/* Pre-flight: install.tree_dir is set, the version can name a directory and is not the
 * current release (UF_E_UNSUPPORTED / UF_E_INVALID / UF_E_CONFLICT). */
bool agent_tree_preflight(agent *a, const char *version, uf_error *err);
/* After the image was verified (journal "installing"): extract, record, journal "installed",
 * switch, install.post, the trial's health checks, then commit ("success") or switch back
 * ("rolled_back"; false with the reason). A failure that leaves the journal at "installing"
 * changed nothing `current` shows; agent_install records it as a failure. */
bool agent_tree_finish(agent *a, uf_journal *j, uf_error *err);
/* agent_resume of a tree install cut off at "installed" or "trial": switch back to the
 * recorded previous release (conservative) and journal "rolled_back". */
bool agent_tree_resume(agent *a, uf_journal *j, uf_error *err);

#endif
