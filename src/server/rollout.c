/*
 * rollout.c - the rollout state machine (see rollout.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/filter.h"
#include "lib/json.h"
#include "lib/tuf_metadata.h"
#include "lib/version_order.h"
#include "server/audit.h"
#include "server/rollout_internal.h"
#include "server/window.h"

#define MAX_PHASES 16

/* Action states: waiting (phase not open yet), assigned, the device's steps, and the closed
 * ones. Failures count against the error threshold; success (or downloaded, for a
 * download-only rollout) toward the success threshold. */
static bool step_valid(const char *s)
{
    static const char *const steps[] = {"downloading", "downloaded", "installing", "installed",
                                        "rebooting", "trial", "success", "failure",
                                        "rolled_back", "canceled", "deferred", NULL};
    for (size_t i = 0; steps[i]; i++)
        if (strcmp(s, steps[i]) == 0)
            return true;
    return false;
}

static bool step_closes(const char *step, const char *type)
{
    return strcmp(step, "success") == 0 || strcmp(step, "failure") == 0 ||
           strcmp(step, "rolled_back") == 0 || strcmp(step, "canceled") == 0 ||
           (strcmp(step, "downloaded") == 0 && strcmp(type, "download_only") == 0);
}

/* ---- audit --------------------------------------------------------------------------- */

static bool audit_rollout(db *d, int64_t id, const char *action, const char *actor,
                          json_t *detail, uf_error *err)
{
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    audit_entry e = {.actor = actor, .action = action, .object_kind = "rollout",
                     .object_id = idtext, .detail = detail};
    bool ok = audit_append(d, &e, NULL, err);
    json_decref(detail);
    return ok;
}

static bool set_state(db *d, int64_t id, const char *state, const char *reason,
                      const char *actor, int64_t now, uf_error *err)
{
    return db_exec(d,
                   "UPDATE rollouts SET state = $1, state_reason = $2, updated_at = $3"
                   " WHERE id = $4",
                   DB_ARGS(db_text(state), db_text(reason), db_int(now), db_int(id)), err) &&
           audit_rollout(d, id, "rollout.state", actor,
                         json_pack("{s:s, s:s}", "state", state, "reason", reason), err);
}

/* ---- creation ------------------------------------------------------------------------ */

typedef struct spec {
    const char *tenant, *name, *release, *filter, *group, *on_error, *start, *type;
    int64_t success, errors, priority, start_at;
    json_t *phases, *window, *changes;
} spec;

static bool check_phases(const json_t *phases, uf_error *err)
{
    size_t n = json_array_size(phases), i;
    int64_t last = 0;
    const json_t *p;
    if (n == 0 || n > MAX_PHASES)
        return uf_error_set(err, UF_E_BAD_FIELD, "phases: 1 to %d phases", MAX_PHASES);
    json_array_foreach(phases, i, p) {
        char path[32];
        snprintf(path, sizeof path, "phases[%zu]", i);
        static const char *const keys[] = {"name", "percent", "filter", NULL};
        const char *name, *filter = NULL;
        int64_t pct = -1;
        if (!uf_json_only_keys(p, path, keys, err) ||
            !uf_json_get_string(p, path, "name", &name, err) ||
            !uf_json_opt_string(p, path, "filter", &filter, err) ||
            !uf_json_opt_int(p, path, "percent", &pct, err))
            return false;
        if ((pct < 0) == (filter == NULL))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: give either percent or filter", path);
        if (pct >= 0 && (pct <= last || pct > 100))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.percent: cumulative, rising, at most "
                                "100", path);
        if (pct >= 0)
            last = pct;
        uf_filter *f = filter ? uf_filter_parse(filter, err) : NULL;
        if (filter && !f)
            return uf_error_prefix(err, "%s.filter", path);
        uf_filter_free(f);
    }
    return true;
}

static bool read_spec(const json_t *body, spec *s, int64_t now, uf_error *err)
{
    static const char *const keys[] = {"tenant", "name", "release", "filter", "group", "phases",
                                       "success_threshold", "error_threshold", "on_error",
                                       "start", "start_at", "type", "window", "priority",
                                       "changes", NULL};
    const char *start_at = NULL;
    *s = (spec){.tenant = "default", .filter = "", .on_error = "pause", .start = "manual",
                .type = "forced", .success = 100, .errors = 20};
    if (!uf_json_only_keys(body, "", keys, err) ||
        !uf_json_get_string(body, "", "name", &s->name, err) ||
        !uf_json_get_string(body, "", "release", &s->release, err) ||
        !uf_json_opt_string(body, "", "tenant", &s->tenant, err) ||
        !uf_json_opt_string(body, "", "filter", &s->filter, err) ||
        !uf_json_opt_string(body, "", "group", &s->group, err) ||
        !uf_json_opt_string(body, "", "on_error", &s->on_error, err) ||
        !uf_json_opt_string(body, "", "start", &s->start, err) ||
        !uf_json_opt_string(body, "", "start_at", &start_at, err) ||
        !uf_json_opt_string(body, "", "type", &s->type, err) ||
        !uf_json_opt_int(body, "", "priority", &s->priority, err) ||
        !uf_json_opt_array(body, "", "phases", &s->phases, err) ||
        !uf_json_opt_object(body, "", "window", &s->window, err) ||
        !uf_json_opt_array(body, "", "changes", &s->changes, err))
        return false;
    if (json_object_get(body, "success_threshold") &&
        !uf_json_get_int_range(body, "", "success_threshold", 1, 100, &s->success, err))
        return false;
    if (json_object_get(body, "error_threshold") &&
        !uf_json_get_int_range(body, "", "error_threshold", 1, 100, &s->errors, err))
        return false;
    if (strcmp(s->on_error, "pause") != 0 && strcmp(s->on_error, "abort") != 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "on_error: pause or abort");
    if (strcmp(s->start, "manual") != 0 && strcmp(s->start, "auto") != 0 &&
        strcmp(s->start, "scheduled") != 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "start: manual, auto or scheduled");
    if (strcmp(s->type, "forced") != 0 && strcmp(s->type, "soft") != 0 &&
        strcmp(s->type, "download_only") != 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "type: forced, soft or download_only");
    if ((strcmp(s->start, "scheduled") == 0) != (start_at != NULL))
        return uf_error_set(err, UF_E_BAD_FIELD, "start_at: required with start \"scheduled\" "
                            "and only then");
    if (start_at && !uf_tuf_parse_time(start_at, &s->start_at, err))
        return uf_error_prefix(err, "start_at");
    if (start_at && s->start_at < now - 60)
        return uf_error_set(err, UF_E_BAD_FIELD, "start_at: in the past");
    uf_filter *f = s->filter[0] ? uf_filter_parse(s->filter, err) : NULL;
    if (s->filter[0] && !f)
        return uf_error_prefix(err, "filter");
    uf_filter_free(f);
    mw_window *w = s->window ? mw_parse(s->window, err) : NULL;
    if (s->window && !w)
        return false;
    mw_free(w);
    return !s->phases || check_phases(s->phases, err);
}

/* The release: its index target in the tenant's signed targets, with version. */
static bool release_info(db *d, const char *tenant, const char *release, char sha[65],
                         char version[64], char product[64], uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT sha256, custom FROM tuf_targets WHERE tenant = $1 AND path = $2"
                           " LIMIT 1",
                           DB_ARGS(db_text(tenant), db_text(release)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    bool ok = rc == 1;
    if (ok) {
        json_t *custom = json_loads(db_col_text(st, 1), 0, NULL);
        const json_t *up = json_object_get(custom, "upflow");
        const char *kind = json_string_value(json_object_get(up, "kind"));
        const char *v = json_string_value(json_object_get(up, "version"));
        const char *p = json_string_value(json_object_get(up, "product"));
        snprintf(sha, 65, "%s", db_col_text(st, 0));
        snprintf(version, 64, "%s", v ? v : "");
        snprintf(product, 64, "%s", p ? p : "");
        /* an image (its index), or a plain artifact such as a .swu for hawkBit clients */
        ok = kind && (strcmp(kind, "index") == 0 || strcmp(kind, "artifact") == 0) && v;
        if (!ok)
            uf_error_set(err, UF_E_BAD_FIELD,
                         "release %s: not an image index or an artifact of a release", release);
        json_decref(custom);
    } else if (rc == 0) {
        uf_error_set(err, UF_E_NOT_FOUND, "release %s: not in the signed targets of %s", release,
                     tenant);
    }
    db_finalize(st);
    return ok;
}

static bool insert_rollout(db *d, const spec *s, const char *sha, const char *version,
                           int64_t rollback_of, const char *actor, int64_t now, int64_t *id,
                           uf_error *err)
{
    json_t *phases = s->phases ? json_incref(s->phases)
                               : json_pack("[{s:s, s:i}]", "name", "all", "percent", 100);
    char *phases_text = json_dumps(phases, JSON_COMPACT);
    char *window_text = s->window ? json_dumps(s->window, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(phases);
    bool ok = db_query_int(
        d,
        "INSERT INTO rollouts (tenant, name, release, version, release_sha256, filter,"
        " group_name, phases, success_threshold, error_threshold, on_error, start_mode,"
        " start_at, action_type, window, priority, state, rollback_of, created_by, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
        " $16, 'created', $17, $18, $19, $19) RETURNING id",
        DB_ARGS(db_text(s->tenant), db_text(s->name), db_text(s->release), db_text(version),
                db_text(sha), db_text(s->filter), db_text(s->group), db_text(phases_text),
                db_int(s->success), db_int(s->errors), db_text(s->on_error), db_text(s->start),
                s->start_at ? db_int(s->start_at) : db_null(), db_text(s->type),
                db_text(window_text), db_int(s->priority),
                rollback_of ? db_int(rollback_of) : db_null(), db_text(actor), db_int(now)),
        id, NULL, err);
    free(phases_text);
    free(window_text);
    return ok;
}

bool rollout_create(db *d, const rollout_env *env, const json_t *body, const char *actor,
                    int64_t now, int64_t *id, uf_error *err)
{
    spec s;
    char sha[65], version[64], product[64];
    if (!read_spec(body, &s, now, err) ||
        !release_info(d, s.tenant, s.release, sha, version, product, err))
        return false;
    if (json_array_size(s.changes) == 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "changes: link the approved change records "
                            "this release delivers (nothing reaches a device without one)");
    if (!insert_rollout(d, &s, sha, version, 0, actor, now, id, err) ||
        !rollout_gate_link(d, env, *id, s.changes, sha, err) ||
        !audit_rollout(d, *id, "rollout.create", actor,
                       json_pack("{s:s, s:s, s:s}", "release", s.release, "sha256", sha,
                                 "filter", s.filter),
                       err))
        return false;
    if (strcmp(s.start, "auto") == 0)
        return rollout_command(d, env, *id, "start", actor, now, err);
    return true;
}

/* ---- starting: choosing the devices and their phases ------------------------------- */

typedef struct rollout_row {
    int64_t id, current_phase, success, errors, rollback_of, baseline;
    char tenant[64], state[16], release[256], version[64], type[16], on_error[8];
    char filter[4096], group[128];
    json_t *phases;
} rollout_row;

static bool load_rollout(db *d, int64_t id, rollout_row *r, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT tenant, state, release, version, action_type, on_error, filter,"
                           " COALESCE(group_name, ''), phases, current_phase, success_threshold,"
                           " error_threshold, COALESCE(rollback_of, 0), error_baseline FROM rollouts"
                           " WHERE id = $1",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc == 1) {
        memset(r, 0, sizeof *r);
        r->id = id;
        snprintf(r->tenant, sizeof r->tenant, "%s", db_col_text(st, 0));
        snprintf(r->state, sizeof r->state, "%s", db_col_text(st, 1));
        snprintf(r->release, sizeof r->release, "%s", db_col_text(st, 2));
        snprintf(r->version, sizeof r->version, "%s", db_col_text(st, 3));
        snprintf(r->type, sizeof r->type, "%s", db_col_text(st, 4));
        snprintf(r->on_error, sizeof r->on_error, "%s", db_col_text(st, 5));
        snprintf(r->filter, sizeof r->filter, "%s", db_col_text(st, 6));
        snprintf(r->group, sizeof r->group, "%s", db_col_text(st, 7));
        r->phases = json_loads(db_col_text(st, 8), 0, NULL);
        r->current_phase = db_col_int(st, 9);
        r->success = db_col_int(st, 10);
        r->errors = db_col_int(st, 11);
        r->rollback_of = db_col_int(st, 12);
        r->baseline = db_col_int(st, 13);
    }
    db_finalize(st);
    if (rc == 0)
        return uf_error_set(err, UF_E_NOT_FOUND, "no rollout %lld", (long long)id);
    return rc == 1;
}

/* The devices of the rollout, in id order, with the phase each falls in (-1: none). */
typedef struct member {
    int64_t device;
    int phase;
} member;

static bool phase_of_filters(const rollout_row *r, const json_t *attrs, int *phase)
{
    const json_t *p;
    size_t i;
    *phase = -1;
    json_array_foreach(r->phases, i, p) {
        const char *text = json_string_value(json_object_get(p, "filter"));
        uf_error ignored;
        uf_filter *f = text ? uf_filter_parse(text, &ignored) : NULL;
        bool match = f && uf_filter_match(f, attrs);
        uf_filter_free(f);
        if (match) {
            *phase = (int)i;
            return true;
        }
    }
    return true;
}

static bool select_members(db *d, const rollout_row *r, member **out, size_t *n, uf_error *err)
{
    uf_filter *f = r->filter[0] ? uf_filter_parse(r->filter, err) : NULL;
    if (r->filter[0] && !f)
        return false;
    db_stmt *st = db_query(
        d,
        "SELECT d.id, d." DEVICE_FILTER_COLUMNS " FROM devices d WHERE d.tenant = $1"
        " AND ($2 = '' OR d.id IN (SELECT device FROM device_groups WHERE tenant = $1"
        " AND name = $2))"
        " AND ($3 = 0 OR d.id IN (SELECT device FROM actions WHERE rollout = $3"
        " AND state = 'success'))"
        " AND d.version <> $4 ORDER BY d.id",
        DB_ARGS(db_text(r->tenant), db_text(r->group), db_int(r->rollback_of),
                db_text(r->version)),
        err);
    if (!st) {
        uf_filter_free(f);
        return false;
    }
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc;
    bool by_filter = json_object_get(json_array_get(r->phases, 0), "filter") != NULL;
    while ((rc = db_step(st, err)) == 1) {
        json_t *attrs = device_filter_attrs(st, 1);
        int phase = 0;
        bool in = !f || uf_filter_match(f, attrs);
        if (in && by_filter)
            phase_of_filters(r, attrs, &phase);
        json_decref(attrs);
        if (!in || phase < 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            member *m = realloc(*out, cap * sizeof *m);
            if (!m) {
                rc = -1;
                uf_error_set(err, UF_E_NOMEM, "rollout members");
                break;
            }
            *out = m;
        }
        (*out)[(*n)++] = (member){db_col_int(st, 0), phase};
    }
    db_finalize(st);
    uf_filter_free(f);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        return false;
    }
    if (!by_filter) { /* cumulative percentages over the device order */
        size_t start = 0;
        const json_t *p;
        size_t i;
        json_array_foreach(r->phases, i, p) {
            int64_t pct = json_integer_value(json_object_get(p, "percent"));
            size_t end = (size_t)ceil((double)*n * (double)pct / 100.0);
            for (size_t k = start; k < end && k < *n; k++)
                (*out)[k].phase = (int)i;
            start = end > start ? end : start;
        }
    }
    return true;
}

static bool create_actions(db *d, const rollout_row *r, int64_t now, size_t *count,
                           uf_error *err)
{
    member *m = NULL;
    size_t n = 0;
    if (!select_members(d, r, &m, &n, err))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = db_exec(d,
                     "INSERT INTO actions (rollout, device, phase, state, created_at, updated_at)"
                     " VALUES ($1, $2, $3, 'waiting', $4, $4)",
                     DB_ARGS(db_int(r->id), db_int(m[i].device), db_int(m[i].phase),
                             db_int(now)),
                     err);
    free(m);
    *count = n;
    return ok;
}

static bool open_phase(db *d, int64_t rollout, int64_t phase, int64_t now, uf_error *err)
{
    return db_exec(d,
                   "UPDATE actions SET state = 'assigned', updated_at = $1 WHERE rollout = $2"
                   " AND phase = $3 AND state = 'waiting'",
                   DB_ARGS(db_int(now), db_int(rollout), db_int(phase)), err) &&
           db_exec(d, "UPDATE rollouts SET current_phase = $1, updated_at = $2 WHERE id = $3",
                   DB_ARGS(db_int(phase), db_int(now), db_int(rollout)), err);
}

static bool start(db *d, const rollout_env *env, rollout_row *r, const char *actor,
                  int64_t now, uf_error *err)
{
    size_t n = 0;
    if (!r->rollback_of && !rollout_gate_check(d, env, r->id, err))
        return false;
    if (!create_actions(d, r, now, &n, err))
        return false;
    if (n == 0)
        return uf_error_set(err, UF_E_CONFLICT, "rollout %lld: no device matches (or every "
                            "matching device already runs %s)", (long long)r->id, r->version);
    return open_phase(d, r->id, 0, now, err) && set_state(d, r->id, "running", "", actor, now, err) &&
           (r->rollback_of || rollout_gate_deliver(d, env, r->id, now, err));
}

/* ---- evaluation ------------------------------------------------------------------------ */

typedef struct tally {
    int64_t total, success, failed, open;
} tally;

static bool count(db *d, int64_t rollout, int64_t phase_max, bool exact, tally *t,
                  uf_error *err)
{
    db_stmt *st = db_query(
        d,
        "SELECT COUNT(*), SUM(state = 'success' OR (state = 'downloaded' AND open = 0)),"
        " SUM(state IN ('failure', 'rolled_back')), SUM(open) FROM actions WHERE rollout = $1"
        " AND (($3 = 1 AND phase = $2) OR ($3 = 0 AND phase <= $2))",
        DB_ARGS(db_int(rollout), db_int(phase_max), db_int(exact)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc == 1)
        *t = (tally){db_col_int(st, 0), db_col_int(st, 1), db_col_int(st, 2), db_col_int(st, 3)};
    db_finalize(st);
    return rc == 1;
}

/* Failures, the device and reason of each, for a change's feedback record. */
static char *failure_summary(db *d, const rollout_row *r, const tally *t, uf_error *err)
{
    uf_buf out = UF_BUF_INIT;
    db_stmt *st = db_query(d,
                           "SELECT dv.name, dv.hardware, a.reason FROM actions a JOIN devices dv"
                           " ON dv.id = a.device WHERE a.rollout = $1 AND a.state IN ('failure',"
                           " 'rolled_back') ORDER BY a.id LIMIT 20",
                           DB_ARGS(db_int(r->id)), err);
    if (!st)
        return NULL;
    uf_buf_printf(&out, err, "Rollout %lld of %s: %lld of %lld devices failed; the rollout "
                  "stopped at its error threshold (%lld%%).\n",
                  (long long)r->id, r->version, (long long)t->failed, (long long)t->total,
                  (long long)r->errors);
    int rc;
    while ((rc = db_step(st, err)) == 1)
        uf_buf_printf(&out, err, "- %s (hardware %s): %s\n", db_col_text(st, 0),
                      db_col_text(st, 1), db_col_text(st, 2));
    db_finalize(st);
    if (rc < 0) {
        uf_buf_free(&out);
        return NULL;
    }
    return uf_buf_steal(&out, NULL, err);
}

static bool stop_on_errors(db *d, const rollout_env *env, rollout_row *r, const tally *t,
                           int64_t now, uf_error *err)
{
    bool abort = strcmp(r->on_error, "abort") == 0;
    char reason[256];
    snprintf(reason, sizeof reason, "error threshold: %lld of %lld devices failed (threshold "
             "%lld%%)", (long long)t->failed, (long long)t->total, (long long)r->errors);
    char *summary = failure_summary(d, r, t, err);
    bool ok = summary && set_state(d, r->id, abort ? "aborted" : "paused", reason, "system", now,
                                   err) &&
              (!abort || db_exec(d,
                                 "UPDATE actions SET state = 'canceled', open = 0, updated_at ="
                                 " $1 WHERE rollout = $2 AND state = 'waiting'",
                                 DB_ARGS(db_int(now), db_int(r->id)), err)) &&
              (r->rollback_of || rollout_gate_rework(d, env, r->id, summary, now, err));
    free(summary);
    return ok;
}

/* After any change: stop on errors, open the next phase, or finish. */
static bool evaluate(db *d, const rollout_env *env, rollout_row *r, int64_t now, bool *changed,
                     uf_error *err)
{
    tally started, phase;
    *changed = false;
    if (strcmp(r->state, "running") != 0)
        return true;
    if (!count(d, r->id, r->current_phase, false, &started, err) ||
        !count(d, r->id, r->current_phase, true, &phase, err))
        return false;
    /* failures an operator accepted by resuming do not count again */
    started.failed -= r->baseline;
    started.total -= r->baseline;
    if (started.failed > 0 && started.failed * 100 >= r->errors * started.total) {
        *changed = true;
        return stop_on_errors(d, env, r, &started, now, err);
    }
    if (phase.success * 100 < r->success * phase.total)
        return true;
    int64_t next = r->current_phase + 1;
    *changed = true;
    if ((size_t)next < json_array_size(r->phases)) {
        uf_error gate;
        if (!r->rollback_of && !rollout_gate_check(d, env, r->id, &gate))
            return set_state(d, r->id, "paused", gate.msg, "system", now, err);
        return open_phase(d, r->id, next, now, err) &&
               audit_rollout(d, r->id, "rollout.phase", "system",
                             json_pack("{s:I}", "phase", (json_int_t)next), err);
    }
    if (started.open > 0) {
        *changed = false;
        return true; /* the last phase met its threshold; wait for the stragglers */
    }
    return set_state(d, r->id, "finished", "", "system", now, err);
}

/* ---- commands --------------------------------------------------------------------------- */

static bool cancel(db *d, rollout_row *r, const char *actor, int64_t now, uf_error *err)
{
    /* devices that have not started drop the action: waiting ones at once, assigned ones
     * when they next poll (they acknowledge "canceled") */
    return db_exec(d,
                   "UPDATE actions SET state = 'canceled', open = 0, updated_at = $1"
                   " WHERE rollout = $2 AND state = 'waiting'",
                   DB_ARGS(db_int(now), db_int(r->id)), err) &&
           set_state(d, r->id, "canceled", "canceled by an operator", actor, now, err);
}

/* Resuming accepts the failures so far: the error threshold counts what fails from now on. */
static bool resume(db *d, const rollout_env *env, rollout_row *r, const char *actor,
                   int64_t now, uf_error *err)
{
    tally t;
    bool changed;
    if ((!r->rollback_of && !rollout_gate_check(d, env, r->id, err)) ||
        !count(d, r->id, r->current_phase, false, &t, err) ||
        !db_exec(d, "UPDATE rollouts SET error_baseline = $1 WHERE id = $2",
                 DB_ARGS(db_int(t.failed), db_int(r->id)), err) ||
        !set_state(d, r->id, "running", "", actor, now, err))
        return false;
    r->baseline = t.failed;
    snprintf(r->state, sizeof r->state, "running");
    return evaluate(d, env, r, now, &changed, err);
}

bool rollout_command(db *d, const rollout_env *env, int64_t id, const char *command,
                     const char *actor, int64_t now, uf_error *err)
{
    rollout_row r;
    if (!load_rollout(d, id, &r, err))
        return false;
    bool ok;
    const char *st = r.state;
    if (strcmp(command, "start") == 0 && strcmp(st, "created") == 0)
        ok = start(d, env, &r, actor, now, err);
    else if (strcmp(command, "pause") == 0 && strcmp(st, "running") == 0)
        ok = set_state(d, id, "paused", "paused by an operator", actor, now, err);
    else if (strcmp(command, "resume") == 0 && strcmp(st, "paused") == 0)
        ok = resume(d, env, &r, actor, now, err);
    else if (strcmp(command, "cancel") == 0 &&
               (strcmp(st, "created") == 0 || strcmp(st, "running") == 0 ||
                strcmp(st, "paused") == 0))
        ok = cancel(d, &r, actor, now, err);
    else if (strcmp(command, "start") && strcmp(command, "pause") && strcmp(command, "resume") &&
             strcmp(command, "cancel"))
        ok = uf_error_set(err, UF_E_NOT_FOUND, "no rollout command '%s'", command);
    else
        ok = uf_error_set(err, UF_E_CONFLICT, "rollout %lld is %s: cannot %s it", (long long)id,
                          st, command);
    json_decref(r.phases);
    return ok;
}

/* The product's release just below version (by version order), or "" when none. */
static bool previous_release(db *d, const char *tenant, const char *product,
                             const char *version, char out[256], uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT path, custom FROM tuf_targets WHERE tenant = $1"
                           " AND custom LIKE '%\"kind\":\"index\"%'",
                           DB_ARGS(db_text(tenant)), err);
    if (!st)
        return false;
    char best[64] = "";
    out[0] = '\0';
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        json_t *c = json_loads(db_col_text(st, 1), 0, NULL);
        const json_t *up = json_object_get(c, "upflow");
        const char *p = json_string_value(json_object_get(up, "product"));
        const char *v = json_string_value(json_object_get(up, "version"));
        if (p && v && strcmp(p, product) == 0 && uf_version_compare(v, version) < 0 &&
            (!best[0] || uf_version_compare(v, best) > 0)) {
            snprintf(best, sizeof best, "%s", v);
            snprintf(out, 256, "%s", db_col_text(st, 0));
        }
        json_decref(c);
    }
    db_finalize(st);
    return rc == 0;
}

bool rollout_rollback(db *d, const rollout_env *env, int64_t id, const char *actor,
                      int64_t now, int64_t *new_id, uf_error *err)
{
    rollout_row r;
    if (!load_rollout(d, id, &r, err))
        return false;
    char sha[65], version[64], product[64], prev[256], name[160];
    bool ok = release_info(d, r.tenant, r.release, sha, version, product, err) &&
              previous_release(d, r.tenant, product, r.version, prev, err);
    if (ok && !prev[0])
        ok = uf_error_set(err, UF_E_CONFLICT, "%s has no release before %s", product, r.version);
    ok = ok && release_info(d, r.tenant, prev, sha, version, product, err);
    snprintf(name, sizeof name, "rollback of rollout %lld to %s", (long long)id, version);
    spec s = {.tenant = r.tenant, .name = name, .release = prev, .filter = "", .group = NULL,
              .on_error = "pause", .start = "auto", .type = "forced", .success = 100,
              .errors = r.errors};
    ok = ok && insert_rollout(d, &s, sha, version, id, actor, now, new_id, err) &&
         audit_rollout(d, *new_id, "rollout.rollback", actor,
                       json_pack("{s:I, s:s}", "of", (json_int_t)id, "release", prev), err) &&
         rollout_command(d, env, *new_id, "start", actor, now, err);
    json_decref(r.phases);
    return ok;
}

/* ---- views and the worker ----------------------------------------------------------------- */

static json_t *state_counts(db *d, int64_t id, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT phase, state, COUNT(*) FROM actions WHERE rollout = $1"
                           " GROUP BY phase, state ORDER BY phase, state",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return NULL;
    json_t *phases = json_object(), *all = json_object();
    int rc;
    while ((rc = db_step(st, err)) == 1) {
        char key[16];
        snprintf(key, sizeof key, "%lld", (long long)db_col_int(st, 0));
        json_t *p = json_object_get(phases, key);
        if (!p)
            json_object_set_new(phases, key, p = json_object());
        const char *state = db_col_text(st, 1);
        json_int_t n = db_col_int(st, 2);
        json_object_set_new(p, state, json_integer(n));
        json_object_set_new(all, state,
                            json_integer(json_integer_value(json_object_get(all, state)) + n));
    }
    db_finalize(st);
    if (rc < 0) {
        json_decref(phases);
        json_decref(all);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "by_phase", phases, "total", all);
}

json_t *rollout_json(db *d, int64_t id, uf_error *err)
{
    db_stmt *st = db_query(d,
                           "SELECT tenant, name, release, version, release_sha256, filter,"
                           " group_name, phases, success_threshold, error_threshold, on_error,"
                           " start_mode, start_at, action_type, window, priority, state,"
                           " state_reason, current_phase, rollback_of, created_by, created_at,"
                           " updated_at FROM rollouts WHERE id = $1",
                           DB_ARGS(db_int(id)), err);
    if (!st)
        return NULL;
    int rc = db_step(st, err);
    json_t *out = NULL;
    if (rc == 1) {
        out = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)id, "tenant",
                        db_col_text(st, 0), "name", db_col_text(st, 1), "release",
                        db_col_text(st, 2), "version", db_col_text(st, 3), "release_sha256",
                        db_col_text(st, 4), "filter", db_col_text(st, 5));
        json_object_set_new(out, "group", db_col_is_null(st, 6) ? json_null()
                                                                : json_string(db_col_text(st, 6)));
        json_object_set_new(out, "phases", json_loads(db_col_text(st, 7), 0, NULL));
        json_object_set_new(out, "success_threshold", json_integer(db_col_int(st, 8)));
        json_object_set_new(out, "error_threshold", json_integer(db_col_int(st, 9)));
        json_object_set_new(out, "on_error", json_string(db_col_text(st, 10)));
        json_object_set_new(out, "start", json_string(db_col_text(st, 11)));
        json_object_set_new(out, "type", json_string(db_col_text(st, 13)));
        json_object_set_new(out, "window", db_col_is_null(st, 14)
                                               ? json_null()
                                               : json_loads(db_col_text(st, 14), 0, NULL));
        json_object_set_new(out, "priority", json_integer(db_col_int(st, 15)));
        json_object_set_new(out, "state", json_string(db_col_text(st, 16)));
        json_object_set_new(out, "state_reason", json_string(db_col_text(st, 17)));
        json_object_set_new(out, "current_phase", json_integer(db_col_int(st, 18)));
        json_object_set_new(out, "rollback_of", db_col_is_null(st, 19)
                                                    ? json_null()
                                                    : json_integer(db_col_int(st, 19)));
        json_object_set_new(out, "created_by", json_string(db_col_text(st, 20)));
        json_object_set_new(out, "created_at", json_integer(db_col_int(st, 21)));
        json_object_set_new(out, "updated_at", json_integer(db_col_int(st, 22)));
    } else if (rc == 0) {
        uf_error_set(err, UF_E_NOT_FOUND, "no rollout %lld", (long long)id);
    }
    db_finalize(st);
    json_t *counts = out ? state_counts(d, id, err) : NULL;
    if (out && !counts) {
        json_decref(out);
        return NULL;
    }
    if (out)
        json_object_set_new(out, "counts", counts);
    return out;
}

static bool ids_where(db *d, const char *sql, int64_t now, json_t *ids, uf_error *err)
{
    db_stmt *st = db_query(d, sql, DB_ARGS(db_int(now)), err);
    if (!st)
        return false;
    int rc;
    while ((rc = db_step(st, err)) == 1)
        json_array_append_new(ids, json_integer(db_col_int(st, 0)));
    db_finalize(st);
    return rc == 0;
}

bool rollout_tick(db *d, const rollout_env *env, int64_t now, unsigned *changed, uf_error *err)
{
    json_t *due = json_array(), *running = json_array();
    *changed = 0;
    bool ok = ids_where(d, "SELECT id FROM rollouts WHERE state = 'created' AND start_mode ="
                           " 'scheduled' AND start_at <= $1 ORDER BY id", now, due, err) &&
              ids_where(d, "SELECT id FROM rollouts WHERE state = 'running' AND $1 >= 0"
                           " ORDER BY id", now, running, err);
    const json_t *v;
    size_t i;
    json_array_foreach(due, i, v) {
        uf_error one;
        if (!ok || !db_begin(d, err))
            break;
        if (rollout_command(d, env, json_integer_value(v), "start", "system", now, &one)) {
            ok = db_commit(d, err);
            (*changed)++;
        } else { /* a gate refusal is the rollout's news, not the worker's failure */
            db_rollback(d);
            ok = db_begin(d, err) &&
                 set_state(d, json_integer_value(v), "paused", one.msg, "system", now, err) &&
                 db_commit(d, err);
        }
    }
    json_array_foreach(running, i, v) {
        rollout_row r;
        bool ch = false;
        if (!ok || !db_begin(d, err))
            break;
        ok = load_rollout(d, json_integer_value(v), &r, err) &&
             evaluate(d, env, &r, now, &ch, err) && db_commit(d, err);
        if (!ok)
            db_rollback(d);
        json_decref(r.phases);
        *changed += ch;
    }
    json_decref(due);
    json_decref(running);
    return ok;
}

/* ---- the device side ------------------------------------------------------------------------ */

json_t *rollout_poll(db *d, const device_identity *dev, int64_t now, director_target *dir,
                     char *strbuf, size_t strbuf_len, uf_error *err)
{
    db_stmt *st = db_query(
        d,
        "SELECT a.id, r.id, r.release, r.version, r.action_type, r.window, r.state, a.state,"
        " t.length, t.sha256 FROM actions a JOIN rollouts r ON r.id = a.rollout"
        " LEFT JOIN tuf_targets t ON t.tenant = r.tenant AND t.path = r.release"
        " WHERE a.device = $1 AND a.open = 1 AND a.state <> 'waiting'"
        " AND NOT (r.state = 'paused' AND a.state IN ('assigned', 'deferred'))"
        " ORDER BY r.priority DESC, r.id DESC LIMIT 1",
        DB_ARGS(db_int(dev->id)), err);
    if (!st)
        return NULL;
    int rc = db_step(st, err);
    json_t *out = NULL;
    if (rc == 1) {
        const char *window = db_col_is_null(st, 5) ? NULL : db_col_text(st, 5);
        bool open = true;
        if (window) {
            json_t *w = json_loads(window, 0, NULL);
            uf_error ignored;
            mw_window *mw = w ? mw_parse(w, &ignored) : NULL;
            open = mw && mw_open(mw, now);
            mw_free(mw);
            json_decref(w);
        }
        const char *rstate = db_col_text(st, 6), *astate = db_col_text(st, 7);
        bool cancel = (strcmp(rstate, "canceled") == 0 || strcmp(rstate, "aborted") == 0) &&
                      (strcmp(astate, "assigned") == 0 || strcmp(astate, "deferred") == 0);
        out = json_pack("{s:I, s:I, s:s, s:s, s:s, s:b, s:b}", "id",
                        (json_int_t)db_col_int(st, 0), "rollout", (json_int_t)db_col_int(st, 1),
                        "release", db_col_text(st, 2), "version", db_col_text(st, 3), "type",
                        db_col_text(st, 4), "window_open", open, "cancel", cancel);
        if (dir && !cancel) {
            snprintf(strbuf, strbuf_len, "%s", db_col_text(st, 2));
            size_t used = strlen(strbuf) + 1;
            snprintf(strbuf + used, strbuf_len - used, "%s", db_col_text(st, 9));
            *dir = (director_target){.path = strbuf, .length = db_col_int(st, 8),
                                     .sha256 = strbuf + used, .action = db_col_int(st, 0),
                                     .device = dev->name};
        }
    } else if (rc == 0) {
        out = json_null();
    }
    db_finalize(st);
    return out;
}

bool rollout_report(db *d, const rollout_env *env, const device_identity *dev, int64_t action,
                    const json_t *report, int64_t now, uf_error *err)
{
    static const char *const keys[] = {"step", "progress", "version", "reason", "log_tail", NULL};
    const char *step, *reason = "", *log_tail = "", *version = NULL;
    int64_t progress = -1, rollout = 0, open = 0;
    if (!uf_json_only_keys(report, "", keys, err) ||
        !uf_json_get_string(report, "", "step", &step, err) ||
        !uf_json_opt_string(report, "", "reason", &reason, err) ||
        !uf_json_opt_string(report, "", "log_tail", &log_tail, err) ||
        !uf_json_opt_string(report, "", "version", &version, err) ||
        !uf_json_opt_int(report, "", "progress", &progress, err))
        return false;
    if (!step_valid(step))
        return uf_error_set(err, UF_E_BAD_FIELD, "step: '%s' is not a step an agent reports",
                            step);
    char state[32] = "", type[16] = "";
    db_stmt *st = db_query(d,
                           "SELECT a.rollout, a.open, a.state, r.action_type FROM actions a"
                           " JOIN rollouts r ON r.id = a.rollout WHERE a.id = $1"
                           " AND a.device = $2",
                           DB_ARGS(db_int(action), db_int(dev->id)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc == 1) {
        rollout = db_col_int(st, 0);
        open = db_col_int(st, 1);
        snprintf(state, sizeof state, "%s", db_col_text(st, 2));
        snprintf(type, sizeof type, "%s", db_col_text(st, 3));
    }
    db_finalize(st);
    if (rc == 0)
        return uf_error_set(err, UF_E_NOT_FOUND, "no action %lld for this device",
                            (long long)action);
    if (rc < 0)
        return false;
    bool late_rollback = !open && strcmp(state, "failure") == 0 &&
                         strcmp(step, "rolled_back") == 0;
    if (!open && !late_rollback)
        return uf_error_set(err, UF_E_CONFLICT, "action %lld is closed (%s)", (long long)action,
                            state);
    rollout_row r;
    bool changed;
    bool closes = step_closes(step, type);
    bool ok = db_exec(d,
                      "UPDATE actions SET state = $1, progress = COALESCE($2, progress),"
                      " reason = CASE WHEN $3 = '' THEN reason ELSE $3 END,"
                      " log_tail = CASE WHEN $4 = '' THEN log_tail ELSE $4 END,"
                      " open = $5, updated_at = $6 WHERE id = $7",
                      DB_ARGS(db_text(step), progress >= 0 ? db_int(progress) : db_null(),
                              db_text(reason), db_text(log_tail), db_int(!closes && open),
                              db_int(now), db_int(action)),
                      err) &&
              device_event(d, dev->id, action, step, (int)progress, reason, log_tail, now, err);
    if (ok && version && strcmp(step, "success") == 0)
        ok = db_exec(d, "UPDATE devices SET version = $1 WHERE id = $2",
                     DB_ARGS(db_text(version), db_int(dev->id)), err);
    if (!ok || !closes || late_rollback)
        return ok;
    ok = load_rollout(d, rollout, &r, err) && evaluate(d, env, &r, now, &changed, err);
    json_decref(r.phases);
    return ok;
}
