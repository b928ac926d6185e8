/*
 * tree_update.c - the steps of a tree release (see agent.h): after the verified image is
 * staged, extract it into install.tree_dir, switch `current`, run install.post and the health
 * checks at once, then keep the release or switch back. No slot, no bootloader, no reboot.
 *
 * DATA_DIR/tree.json ({"current": "2.0.0", "previous": "1.0.0"}) is written before each switch
 * of `current`, so a restart at "installed" or "trial" knows what to switch back to; the link
 * itself is the truth for everything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/handler_tree.h"
#include "lib/fileio.h"
#include "lib/json.h"

typedef struct tree_record {
    char current[AGENT_TREE_NAME_MAX];
    char previous[AGENT_TREE_NAME_MAX];
} tree_record;

static agent_tree tree_of(const agent *a)
{
    return (agent_tree){.dir = a->cfg->tree_dir, .timeout_ms = a->cfg->script_timeout_s * 1000,
                        .fault = a->fault};
}

void agent_tree_image_path(const agent *a, char *out, size_t len)
{
    snprintf(out, len, "%s/tree-image", a->cfg->data_dir);
}

static void record_path(const agent *a, char *out, size_t len)
{
    snprintf(out, len, "%s/tree.json", a->cfg->data_dir);
}

/* A missing tree.json is the empty record. */
static bool record_load(const agent *a, tree_record *r, uf_error *err)
{
    char path[AGENT_STR_MAX + 16];
    record_path(a, path, sizeof path);
    memset(r, 0, sizeof *r);
    const uf_json_limits lim = {4096, 2, AGENT_TREE_NAME_MAX, 8};
    json_t *doc = uf_json_load_file(path, &lim, err);
    const char *current = "", *previous = "";
    bool ok = doc ? uf_json_get_string(doc, "", "current", &current, err) &&
                        uf_json_get_string(doc, "", "previous", &previous, err)
                  : err->code == UF_E_NOT_FOUND;
    snprintf(r->current, sizeof r->current, "%s", current);
    snprintf(r->previous, sizeof r->previous, "%s", previous);
    json_decref(doc);
    return ok || uf_error_prefix(err, "%s", path);
}

/* Replace tree.json atomically; fault points "treejson.<step>.<before|after>". */
static bool record_save(agent *a, const tree_record *r, uf_error *err)
{
    char path[AGENT_STR_MAX + 16];
    record_path(a, path, sizeof path);
    json_t *doc = json_pack("{s:s, s:s}", "current", r->current, "previous", r->previous);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (!text)
        return uf_error_set(err, UF_E_NOMEM, "%s", path);
    uf_fault_site site = {a->fault, "treejson"};
    uf_file_observer obs = uf_fault_observer(&site);
    bool ok = uf_file_write_atomic_observed(path, text, strlen(text), &obs, err);
    free(text);
    return ok;
}

bool agent_tree_preflight(agent *a, const char *version, uf_error *err)
{
    if (!a->cfg->tree_dir[0])
        return uf_error_set(err, UF_E_UNSUPPORTED, "install type 'tree' needs install.tree_dir "
                            "in the agent's configuration");
    agent_tree t = tree_of(a);
    char current[AGENT_TREE_NAME_MAX];
    if (!agent_tree_name_ok(version, err) || !agent_tree_current(&t, current, sizeof current, err))
        return false;
    if (strcmp(current, version) == 0)
        return uf_error_set(err, UF_E_CONFLICT, "%s is already the current release in %s",
                            version, a->cfg->tree_dir);
    return true;
}

/* Switch `current` back to the release before j's (when the record says j's is current),
 * then journal "rolled_back" with the reason; the event carries the log tail. */
static bool switch_back(agent *a, uf_journal *j, const char *reason, const char *log_tail,
                        uf_error *err)
{
    agent_tree t = tree_of(a);
    tree_record r;
    if (!record_load(a, &r, err))
        return false;
    if (strcmp(r.current, j->version) == 0) {
        tree_record back = {{0}, {0}};
        snprintf(back.current, sizeof back.current, "%s", r.previous);
        if (!agent_tree_switch(&t, r.previous, NULL, 0, err) || !record_save(a, &back, err))
            return uf_error_prefix(err, "switch %s back to '%s'", a->cfg->tree_dir, r.previous);
    }
    if (!agent_journal_step(a, j, UF_STEP_ROLLED_BACK, reason, err))
        return false;
    agent_report(a, UF_STEP_ROLLED_BACK, j->version, -1, reason, log_tail);
    return true;
}

/* A failure after the switch: report it, switch back, and fail with the reason. */
static bool fail_trial(agent *a, uf_journal *j, const char *reason, const char *log_tail,
                       uf_error *err)
{
    agent_report(a, UF_STEP_FAILURE, j->version, -1, reason, log_tail);
    if (!switch_back(a, j, reason, log_tail, err))
        return false;
    return uf_error_set(err, UF_E_CONFLICT, "release %s was rolled back: %s", j->version, reason);
}

/* The release proved healthy: keep it, and prune what tree_keep no longer wants. */
static bool commit(agent *a, uf_journal *j, uf_error *err)
{
    if (!agent_journal_step(a, j, UF_STEP_SUCCESS, "", err))
        return false;
    agent_report(a, UF_STEP_SUCCESS, j->version, -1, NULL, NULL);
    agent_tree t = tree_of(a);
    uf_error perr;
    if (!agent_tree_prune(&t, a->cfg->tree_keep, &perr))
        uf_log_warn(a->log, "agent", "pruning old releases: %s", perr.msg);
    return true;
}

/* Extract, and record what `current` will name and what it named before. */
static bool extract_and_record(agent *a, uf_journal *j, uf_error *err)
{
    agent_tree t = tree_of(a);
    char image[AGENT_STR_MAX + 32];
    agent_tree_image_path(a, image, sizeof image);
    tree_record r = {{0}, {0}};
    snprintf(r.current, sizeof r.current, "%s", j->version);
    if (!agent_tree_current(&t, r.previous, sizeof r.previous, err) ||
        !agent_tree_extract(&t, image, j->version, err) || !record_save(a, &r, err) ||
        !agent_journal_step(a, j, UF_STEP_INSTALLED, NULL, err))
        return false;
    agent_report(a, UF_STEP_INSTALLED, j->version, -1, NULL, NULL);
    unlink(image); /* extracted: the staged image is no longer needed */
    return true;
}

bool agent_tree_finish(agent *a, uf_journal *j, uf_error *err)
{
    if (!extract_and_record(a, j, err))
        return false;
    agent_tree t = tree_of(a);
    uf_error cause;
    if (!agent_tree_switch(&t, j->version, NULL, 0, &cause) || !agent_post_install(a, &cause))
        return fail_trial(a, j, cause.msg, NULL, err);
    uf_health_report rep;
    if (!agent_trial_checks(a, j, &rep, err))
        return false; /* the journal says "installed": agent_resume switches back */
    if (!rep.passed)
        return fail_trial(a, j, rep.reason, rep.log_tail, err);
    return commit(a, j, err);
}

bool agent_tree_resume(agent *a, uf_journal *j, uf_error *err)
{
    return switch_back(a, j, "interrupted during the trial", NULL, err);
}
