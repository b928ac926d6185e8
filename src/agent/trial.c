/*
 * trial.c - after a restart or reboot (see agent.h): resume what the journal says was in
 * progress, run the trial boot's health checks within the monitoring time, and commit the
 * slot or roll back to the one the bootloader still calls primary.
 *
 * The decision uses three facts, each read fresh: the journal's step, the bootloader's state
 * and the slot actually running. Every branch is safe to repeat, so a power cut in the middle
 * of one simply runs it again.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/health.h"
#include "agent/installed.h"
#include "agent/run.h"

bool agent_reboot(agent *a, uf_error *err)
{
    if (!a->cfg->reboot_command[0]) {
        uf_log_info(a->log, "agent", "reboot needed: no bootloader.reboot command is set, "
                    "leaving it to the supervisor");
        return true;
    }
    uf_run_result res;
    if (!uf_run(a->cfg->reboot_command, NULL, 60000, &res, err))
        return uf_error_prefix(err, "reboot");
    if (res.exit_code != 0)
        return uf_error_set(err, UF_E_IO, "reboot command '%s' exited with %d: %s",
                            a->cfg->reboot_command, res.exit_code, res.tail);
    return true;
}

/* The trial slot proved itself: make it primary, then say so. */
static bool commit(agent *a, uf_journal *j, uf_error *err)
{
    agent_installed inst;
    if (!uf_boot_commit(&a->boot, j->target_slot, err) ||
        !agent_installed_load(a->cfg->data_dir, &inst, err))
        return false;
    agent_installed_slot(&inst, j->target_slot)->committed = true;
    if (!agent_installed_save(a->cfg->data_dir, &inst, a->fault, err) ||
        !agent_journal_step(a, j, UF_STEP_SUCCESS, "", err))
        return false;
    agent_report(a, UF_STEP_SUCCESS, j->version, -1, NULL, NULL);
    return true;
}

/* The trial failed: record why, drop the trial and reboot into the primary slot. */
static bool roll_back(agent *a, uf_journal *j, const char *reason, const char *log_tail,
                      agent_next *next, uf_error *err)
{
    if (!agent_journal_step(a, j, UF_STEP_FAILURE, reason, err))
        return false;
    agent_report(a, UF_STEP_FAILURE, j->version, -1, reason, log_tail);
    if (!uf_boot_clear_trial(&a->boot, err))
        return false;
    *next = AGENT_REBOOT;
    return true;
}

bool agent_trial_checks(agent *a, uf_journal *j, uf_health_report *rep, uf_error *err)
{
    if (!agent_journal_step(a, j, UF_STEP_TRIAL, "", err))
        return false;
    agent_report(a, UF_STEP_TRIAL, j->version, -1, NULL, NULL);
    char slot_env[32], version_env[96], hw_env[96], device_env[96];
    snprintf(slot_env, sizeof slot_env, "UPFLOW_SLOT=%s", uf_slot_name(j->target_slot));
    snprintf(version_env, sizeof version_env, "UPFLOW_VERSION=%s", j->version);
    snprintf(hw_env, sizeof hw_env, "UPFLOW_HARDWARE=%s", a->cfg->hardware);
    snprintf(device_env, sizeof device_env, "UPFLOW_DEVICE_ID=%s", a->cfg->device_id);
    const char *env[] = {slot_env, version_env, hw_env, device_env, NULL};
    const char *cmds[AGENT_MAX_HEALTH];
    for (size_t i = 0; i < a->cfg->n_health; i++)
        cmds[i] = a->cfg->health[i];
    uf_health_config hc = {.commands = cmds, .n_commands = a->cfg->n_health,
                           .monitoring_time_ms = a->cfg->monitoring_time_s * 1000, .env = env};
    uf_error herr;
    if (!uf_health_run(&hc, rep, &herr)) {
        rep->passed = false;
        snprintf(rep->reason, sizeof rep->reason, "health check could not run: %s", herr.msg);
    }
    return true;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The contact rule (agent_contact): try once a second until the server answers or the limit
 * passes; false (with why) when it never answered. */
static bool reach_server(agent *a, char *why, size_t why_len)
{
    if (!a->contact.reach || a->contact.limit_ms <= 0)
        return true;
    int64_t deadline = now_ms() + a->contact.limit_ms;
    uf_error last;
    uf_error_clear(&last);
    for (;;) {
        if (a->contact.reach(a->contact.ctx, &last))
            return true;
        if (now_ms() >= deadline)
            break;
        sleep(1);
    }
    snprintf(why, why_len, "no contact with the server within %lld s of the trial boot (%s)",
             (long long)(a->contact.limit_ms / 1000), last.msg);
    return false;
}

static bool run_health(agent *a, uf_journal *j, agent_next *next, uf_error *err)
{
    uf_health_report rep;
    if (!agent_trial_checks(a, j, &rep, err))
        return false;
    if (rep.passed && !reach_server(a, rep.reason, sizeof rep.reason))
        return roll_back(a, j, rep.reason, NULL, next, err);
    if (rep.passed)
        return commit(a, j, err);
    return roll_back(a, j, rep.reason, rep.log_tail, next, err);
}

/* The journal says a trial boot was due; which slot came up tells what happened. */
static bool after_reboot(agent *a, uf_journal *j, const uf_boot_state *st, uf_slot running,
                         agent_next *next, uf_error *err)
{
    if (running == j->target_slot) {
        if (st->primary == j->target_slot) /* committed just before a power cut */
            return agent_journal_step(a, j, UF_STEP_SUCCESS, "", err);
        return run_health(a, j, next, err);
    }
    if (st->trial == j->target_slot && st->bootcount == 0) {
        *next = AGENT_REBOOT; /* the reboot has not happened yet */
        return true;
    }
    char reason[256];
    snprintf(reason, sizeof reason, "the trial boot of slot %s did not come up healthy; the "
             "bootloader went back to slot %s", uf_slot_name(j->target_slot),
             uf_slot_name(running));
    if (st->trial != UF_SLOT_NONE && !uf_boot_clear_trial(&a->boot, err))
        return false;
    if (!agent_journal_step(a, j, UF_STEP_ROLLED_BACK, reason, err))
        return false;
    agent_report(a, UF_STEP_ROLLED_BACK, j->version, -1, reason, NULL);
    return true;
}

/* A trial failed and its rollback reboot is due or done. */
static bool after_failure(agent *a, uf_journal *j, const uf_boot_state *st, uf_slot running,
                          agent_next *next, uf_error *err)
{
    if (running == j->target_slot) {
        if (st->trial != UF_SLOT_NONE && !uf_boot_clear_trial(&a->boot, err))
            return false;
        *next = AGENT_REBOOT;
        return true;
    }
    if (!agent_journal_step(a, j, UF_STEP_ROLLED_BACK, NULL, err))
        return false;
    agent_report(a, UF_STEP_ROLLED_BACK, j->version, -1, j->reason, NULL);
    return true;
}

/* Verified and recorded: arm the trial (again) unless the trial slot already runs. */
static bool after_installed(agent *a, uf_journal *j, const uf_boot_state *st, uf_slot running,
                            agent_next *next, uf_error *err)
{
    if (running == j->target_slot)
        return after_reboot(a, j, st, running, next, err);
    if (st->trial != j->target_slot && !uf_boot_set_trial(&a->boot, j->target_slot, err))
        return false;
    if (!agent_journal_step(a, j, UF_STEP_REBOOTING, NULL, err))
        return false;
    agent_report(a, UF_STEP_REBOOTING, j->version, -1, NULL, NULL);
    *next = AGENT_REBOOT;
    return true;
}

bool agent_resume(agent *a, agent_next *next, uf_error *err)
{
    *next = AGENT_DONE;
    uf_journal j;
    uf_boot_state st;
    uf_slot running;
    if (!uf_journal_load(a->journal_path, &j, err) || !uf_boot_read(&a->boot, &st, err) ||
        !uf_boot_running_slot(&a->boot, &running, err))
        return false;
    switch (j.step) {
    case UF_STEP_IDLE:
    case UF_STEP_SUCCESS:
    case UF_STEP_ROLLED_BACK:
    case UF_STEP_DOWNLOADED: /* a finished download-only waits for an install order */
        return true;
    case UF_STEP_FAILURE:
        if (j.target_slot == UF_SLOT_NONE)
            return true; /* failed before the trial: nothing to undo */
        return after_failure(a, &j, &st, running, next, err);
    case UF_STEP_DOWNLOADING:
    case UF_STEP_INSTALLING:
        return agent_install(a, j.release, next, err);
    case UF_STEP_INSTALLED:
    case UF_STEP_REBOOTING:
    case UF_STEP_TRIAL:
        if (agent_journal_is_tree(&j)) /* a tree install cut off after its extraction */
            return agent_tree_resume(a, &j, err);
        if (j.step == UF_STEP_INSTALLED)
            return after_installed(a, &j, &st, running, next, err);
        return after_reboot(a, &j, &st, running, next, err);
    case UF_STEP_COUNT:
        break;
    }
    return uf_error_set(err, UF_E_INTERNAL, "journal step %d", (int)j.step);
}

bool agent_mark(agent *a, bool good, agent_next *next, uf_error *err)
{
    *next = AGENT_DONE;
    uf_journal j;
    uf_slot running;
    if (!uf_journal_load(a->journal_path, &j, err) ||
        !uf_boot_running_slot(&a->boot, &running, err))
        return false;
    bool on_trial = (j.step == UF_STEP_TRIAL || j.step == UF_STEP_REBOOTING) &&
                    running == j.target_slot;
    if (!on_trial)
        return uf_error_set(err, UF_E_CONFLICT, "no trial boot is running (journal: %s, running "
                            "slot %s)", uf_journal_step_name(j.step), uf_slot_name(running));
    if (good)
        return commit(a, &j, err);
    return roll_back(a, &j, "marked bad by the operator", NULL, next, err);
}
