/*
 * daemon.c - `upflow-agent run` with a server (see daemon.h).
 */
#include "agent/daemon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/installed.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "version.h"

#define GATEWAY_TOKEN_MAX 4096

/* ---- action.json ------------------------------------------------------------------------ */

static void record_path(const agent_daemon *d, char *out, size_t len)
{
    snprintf(out, len, "%s/action.json", d->a->cfg->data_dir);
}

/* A missing or unreadable record is no record: the worst case is an action handled again,
 * which the server answers 409. */
static void record_load(agent_daemon *d)
{
    char path[AGENT_STR_MAX + 32];
    record_path(d, path, sizeof path);
    memset(&d->rec, 0, sizeof d->rec);
    uf_json_limits lim = uf_json_default_limits();
    uf_error err;
    json_t *doc = uf_json_load_file(path, &lim, &err);
    const char *release = json_string_value(json_object_get(doc, "release"));
    const char *state = json_string_value(json_object_get(doc, "state"));
    if (doc && release && state && json_is_integer(json_object_get(doc, "id"))) {
        d->rec.id = json_integer_value(json_object_get(doc, "id"));
        snprintf(d->rec.release, sizeof d->rec.release, "%s", release);
        snprintf(d->rec.state, sizeof d->rec.state, "%s", state);
    }
    json_decref(doc);
}

static bool record_save(agent_daemon *d, int64_t id, const char *release, const char *state,
                        uf_error *err)
{
    d->rec.id = id;
    snprintf(d->rec.release, sizeof d->rec.release, "%s", release);
    snprintf(d->rec.state, sizeof d->rec.state, "%s", state);
    char path[AGENT_STR_MAX + 32];
    record_path(d, path, sizeof path);
    json_t *doc = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "release", release,
                            "state", state);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    bool ok = text ? uf_file_write_atomic(path, text, strlen(text), err)
                   : uf_error_set(err, UF_E_NOMEM, "action record");
    free(text);
    json_decref(doc);
    return ok;
}

static bool record_is(const agent_daemon *d, const char *state)
{
    return strcmp(d->rec.state, state) == 0;
}

/* ---- events to the server -------------------------------------------------------------- */

static bool send_status(void *ctx, int64_t action, const json_t *event, bool *accepted,
                        uf_error *err)
{
    agent_daemon *d = ctx;
    static const char *const fields[] = {"step", "progress", "version", "reason", "log_tail"};
    json_t *body = json_object();
    for (size_t i = 0; body && i < sizeof fields / sizeof fields[0]; i++) {
        json_t *v = json_object_get(event, fields[i]);
        if (v)
            json_object_set(body, fields[i], v);
    }
    bool ok = body ? server_link_status(&d->link, action, body, accepted, err)
                   : uf_error_set(err, UF_E_NOMEM, "status body");
    json_decref(body);
    return ok;
}

static void flush(agent_daemon *d)
{
    uf_error err;
    if (!outbox_flush(&d->box, send_status, d, NULL, &err))
        uf_log_warn(d->log, "daemon", "events wait for the server: %s", err.msg);
}

static void on_annotate(void *ctx, json_t *event)
{
    agent_daemon *d = ctx;
    d->events++;
    if (d->tag)
        json_object_set_new(event, "action", json_integer(d->tag));
    if (strcmp(json_string_value(json_object_get(event, "step")), "failure") == 0)
        d->failure_reported = true;
}

static void on_appended(void *ctx)
{
    flush(ctx);
}

/* An event that is no journal step (canceled, deferred), the same shape as agent_report's. */
static void report_other(agent_daemon *d, const server_action *act, const char *step)
{
    json_t *ev = json_pack("{s:I, s:s, s:s, s:s, s:I}", "at", (json_int_t)time(NULL), "device",
                           d->a->cfg->device_id, "step", step, "version", act->version,
                           "action", (json_int_t)act->id);
    uf_error err;
    if (!ev || !outbox_append(&d->box, ev, &err))
        uf_log_warn(d->log, "daemon", "cannot record the event %s: %s", step,
                    ev ? err.msg : "out of memory");
    json_decref(ev);
    d->events++;
    uf_log_info(d->log, "daemon", "action %" PRId64 ": %s %s", act->id, step, act->release);
    flush(d);
}

/* ---- inventory and registration ----------------------------------------------------- */

static json_t *slot_inventory(agent *a, const agent_installed *inst, uf_slot s,
                              const uf_boot_state *st, uf_slot running)
{
    const agent_slot_record *r = &inst->slot[s == UF_SLOT_B];
    bool factory = !r->known && (st->primary == s || running == s);
    return json_pack("{s:s, s:b}", "version",
                     r->known ? r->version : factory ? a->cfg->factory_version : "",
                     "committed", r->known ? r->committed : factory);
}

/* "site=shanghai,line=3" as an object. */
static json_t *attributes(const char *list)
{
    json_t *obj = json_object();
    char buf[AGENT_STR_MAX], *save = NULL;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *kv = strtok_r(buf, ",", &save); kv && obj; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        json_object_set_new(obj, kv, json_string(eq + 1));
    }
    return obj;
}

json_t *agent_inventory(agent *a, uf_error *err)
{
    agent_installed inst;
    uf_boot_state st;
    uf_slot running = UF_SLOT_NONE;
    if (!agent_installed_load(a->cfg->data_dir, &inst, err) || !uf_boot_read(&a->boot, &st, err) ||
        !uf_boot_running_slot(&a->boot, &running, err))
        return NULL;
    json_t *a_slot = slot_inventory(a, &inst, UF_SLOT_A, &st, running);
    json_t *b_slot = slot_inventory(a, &inst, UF_SLOT_B, &st, running);
    const json_t *run = running == UF_SLOT_B ? b_slot : a_slot;
    json_t *inv = json_pack("{s:s, s:O, s:s, s:{s:o, s:o}, s:o}", "hardware", a->cfg->hardware,
                            "version", json_object_get(run, "version"), "agent_version",
                            UPFLOW_VERSION, "slots", "A", a_slot, "B", b_slot, "attributes",
                            attributes(a->cfg->attributes));
    if (!inv)
        uf_error_set(err, UF_E_NOMEM, "inventory");
    return inv;
}

bool agent_daemon_register_token(agent *a, const char *gateway_token, uf_error *err)
{
    json_t *inv = agent_inventory(a, err);
    bool ok = inv && server_link_register(a->cfg, gateway_token, inv, err);
    json_decref(inv);
    return ok;
}

bool agent_daemon_register(agent *a, const char *token_file, uf_error *err)
{
    uf_buf tok = UF_BUF_INIT;
    bool ok = uf_file_read_capped(token_file, GATEWAY_TOKEN_MAX, &tok, err) &&
              uf_buf_append_char(&tok, 0, err);
    if (ok) {
        char *t = (char *)tok.data;
        t[strcspn(t, "\r\n")] = '\0';
        ok = agent_daemon_register_token(a, t, err);
    } else {
        uf_error_prefix(err, "gateway token");
    }
    uf_buf_free(&tok);
    return ok;
}

/* ---- the daemon ---------------------------------------------------------------------- */

bool agent_daemon_open(agent_daemon *d, agent *a, const uf_log *log, uf_error *err)
{
    memset(d, 0, sizeof *d);
    d->a = a;
    d->log = log;
    if (!server_link_open(&d->link, a->cfg, log, err))
        return false;
    outbox_init(&d->box, a->cfg->data_dir, log);
    record_load(d);
    a->reporter = (agent_reporter){on_annotate, on_appended, d};
    return true;
}

void agent_daemon_close(agent_daemon *d)
{
    if (d->a)
        d->a->reporter = (agent_reporter){0};
    server_link_close(&d->link);
}

/* An update the journal names as started and not finished. */
static bool update_in_progress(const uf_journal *j)
{
    return j->step != UF_STEP_IDLE && j->step != UF_STEP_SUCCESS &&
           j->step != UF_STEP_FAILURE && j->step != UF_STEP_ROLLED_BACK &&
           j->step != UF_STEP_DOWNLOADED;
}

/* agent_contact for the trial: one poll that gets an answer. */
static bool reach(void *ctx, uf_error *err)
{
    agent_daemon *d = ctx;
    server_poll p;
    return server_link_poll(&d->link, &p, err);
}

bool agent_daemon_start(agent_daemon *d, daemon_step *out, uf_error *err)
{
    memset(out, 0, sizeof *out);
    uf_journal j;
    if (!uf_journal_load(d->a->journal_path, &j, err))
        return false;
    /* events of the update in the journal belong to the action that started it */
    bool ours = d->rec.id && strcmp(j.release, d->rec.release) == 0 &&
                (record_is(d, "installing") || record_is(d, "downloading") ||
                 record_is(d, "downloaded"));
    d->tag = ours ? d->rec.id : 0;
    d->a->download_only = ours && record_is(d, "downloading");
    d->events = 0;
    d->a->contact = (agent_contact){reach, d, d->a->cfg->trial_contact_s * 1000};
    bool ok = agent_resume(d->a, &out->next, err);
    d->a->download_only = false;
    /* a download-only that a restart interrupted has now finished */
    if (ok && ours && record_is(d, "downloading") && uf_journal_load(d->a->journal_path, &j, err) &&
        j.step == UF_STEP_DOWNLOADED)
        ok = record_save(d, d->rec.id, j.release, "downloaded", err);
    outbox_resume(&d->box);
    flush(d);
    uf_error ierr;
    json_t *inv = agent_inventory(d->a, &ierr);
    if (!inv || !server_link_inventory(&d->link, inv, &ierr))
        uf_log_warn(d->log, "daemon", "inventory not sent: %s", ierr.msg);
    json_decref(inv);
    out->busy = d->events > 0 || out->next == AGENT_REBOOT;
    out->poll_interval_s = 60;
    return ok;
}

static bool deferring(const agent_daemon *d)
{
    char path[AGENT_STR_MAX + 16];
    snprintf(path, sizeof path, "%s/defer", d->a->cfg->data_dir);
    return d->a->cfg->defer || access(path, F_OK) == 0;
}

/* Check with the director, then install (or only download) act's release. */
static bool take_up(agent_daemon *d, const server_action *act, agent_next *next, uf_error *err)
{
    agent_pin pin;
    uf_error why;
    bool dl = act->type == SERVER_ACTION_DOWNLOAD_ONLY;
    bool ok = server_link_director(&d->link, act, &pin, &why);
    if (!ok && (why.code == UF_E_IO || why.code == UF_E_TIMEOUT)) {
        *err = why; /* no answer: the same action is taken up at the next poll */
        return false;
    }
    d->tag = act->id;
    d->failure_reported = false;
    if (!record_save(d, act->id, act->release, dl ? "downloading" : "installing", err))
        return false;
    if (ok) {
        d->a->pin = pin;
        d->a->download_only = dl;
        ok = agent_install(d->a, act->release, next, &why);
        d->a->pin = (agent_pin){0};
        d->a->download_only = false;
    }
    if (!ok && !d->failure_reported)
        agent_report(d->a, UF_STEP_FAILURE, act->version, -1, why.msg, NULL);
    if (!ok)
        return record_save(d, act->id, act->release, "failed", err);
    return !dl || record_save(d, act->id, act->release, "downloaded", err);
}

/* What an assigned action asks of this device now (daemon.h). */
static bool handle(agent_daemon *d, const server_action *act, agent_next *next, uf_error *err)
{
    uf_journal j;
    if (!uf_journal_load(d->a->journal_path, &j, err))
        return false;
    bool same = d->rec.id == act->id;
    if (update_in_progress(&j))
        return true; /* agent_resume finishes it */
    if (act->cancel) {
        if (same && !record_is(d, "deferred") && !record_is(d, "downloaded"))
            return true; /* acknowledged already, or started: too late to cancel */
        report_other(d, act, "canceled");
        return record_save(d, act->id, act->release, "canceled", err);
    }
    if (same && !record_is(d, "deferred") &&
        !(record_is(d, "downloaded") && act->type != SERVER_ACTION_DOWNLOAD_ONLY))
        return true; /* handled: the server has not seen the outcome yet */
    if (!act->window_open) {
        uf_log_info(d->log, "daemon", "action %" PRId64 ": waiting for the maintenance window",
                    act->id);
        return true;
    }
    if (act->type == SERVER_ACTION_SOFT && deferring(d)) {
        if (same && record_is(d, "deferred"))
            return true;
        report_other(d, act, "deferred");
        return record_save(d, act->id, act->release, "deferred", err);
    }
    return take_up(d, act, next, err);
}

bool agent_daemon_cycle(agent_daemon *d, daemon_step *out, uf_error *err)
{
    memset(out, 0, sizeof *out);
    out->poll_interval_s = 60;
    d->events = 0;
    outbox_resume(&d->box);
    flush(d);
    server_poll p;
    if (!server_link_poll(&d->link, &p, err))
        return false;
    out->poll_interval_s = p.interval_s;
    bool ok = !p.has_action || handle(d, &p.action, &out->next, err);
    out->busy = d->events > 0 || out->next == AGENT_REBOOT;
    return ok;
}

bool agent_daemon_run(agent_daemon *d, bool once, agent_next *next, uf_error *err)
{
    daemon_step step;
    *next = AGENT_DONE;
    if (!agent_daemon_start(d, &step, err))
        return false;
    while (step.next != AGENT_REBOOT) {
        uf_error cerr;
        bool ok = agent_daemon_cycle(d, &step, &cerr);
        if (!ok && once) {
            *err = cerr;
            return false;
        }
        if (!ok)
            uf_log_warn(d->log, "daemon", "%s; polling again in %" PRId64 " s", cerr.msg,
                        step.poll_interval_s);
        if (once || step.next == AGENT_REBOOT)
            break;
        sleep((unsigned)step.poll_interval_s);
    }
    *next = step.next;
    return true;
}
