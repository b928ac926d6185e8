/*
 * rollout_gate.c - the approval gate between change records and rollouts (workflow.md §8):
 * nothing reaches a device unless its change is approved, for exactly this image.
 *
 * A change is approved for delivery while it is in a from-state of its template's deliver
 * transition (T16: RELEASE_PENDING). Linking it to a rollout binds it to the release's index
 * SHA-256: another rollout with another image cannot use it (stale approval, §6.5), and if
 * the signed targets change the release's image after approval, the rollout stops at the
 * next gate check (start, each phase, resume). Starting the rollout delivers the change (T16
 * by the system, decision A6: the campaign started for the customer's devices); when device
 * failures pass the error threshold, each delivered change gets a feedback record (FB,
 * created by the system with the failures as its description) and moves to rework (T18, or
 * T19 from CLOSED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tuf_metadata.h"
#include "server/record.h"
#include "server/rollout_internal.h"

bool rollout_release_sha(db *d, const char *tenant, const char *release, char out[65],
                         uf_error *err)
{
    char *sha = NULL;
    bool found = false;
    out[0] = '\0';
    if (!db_query_text(d, "SELECT sha256 FROM tuf_targets WHERE tenant = $1 AND path = $2"
                          " LIMIT 1",
                       DB_ARGS(db_text(tenant), db_text(release)), &sha, &found, err))
        return false;
    if (found)
        snprintf(out, 65, "%s", sha);
    free(sha);
    return true;
}

/* The transition `id` of the record's type in its template, or NULL. */
static const json_t *transition_of(const rollout_env *env, const wf_record *r, const char *id)
{
    const wf_template *t = wf_registry_get(env->reg, r->template_id, r->template_version);
    const json_t *type = t ? json_object_get(json_object_get(t->doc, "record_types"), r->type)
                           : NULL, *tr;
    size_t i;
    json_array_foreach(json_object_get(type, "transitions"), i, tr)
        if (strcmp(json_string_value(json_object_get(tr, "id")), id) == 0)
            return tr;
    return NULL;
}

static bool in_list(const json_t *arr, const char *s)
{
    const json_t *v;
    size_t i;
    json_array_foreach(arr, i, v)
        if (strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

/* "" when the record may be delivered by this rollout; else why not. */
static void approval_problem(const rollout_env *env, const wf_record *r, bool delivered,
                             char *why, size_t len)
{
    const json_t *deliver = transition_of(env, r, ROLLOUT_DELIVER);
    why[0] = '\0';
    if (!deliver)
        snprintf(why, len, "change %lld (%s %s) has no delivery transition %s",
                 (long long)r->id, r->template_id, r->type, ROLLOUT_DELIVER);
    else if (delivered && strcmp(r->state, json_string_value(json_object_get(deliver, "to"))) == 0)
        return;
    else if (!in_list(json_object_get(deliver, "from"), r->state))
        snprintf(why, len, "change %lld is in %s, not approved for release", (long long)r->id,
                 r->state);
}

bool rollout_gate_link(db *d, const rollout_env *env, int64_t rollout, const json_t *changes,
                       const char *release_sha256, uf_error *err)
{
    const json_t *v;
    size_t i;
    json_array_foreach(changes, i, v) {
        int64_t id = json_integer_value(v), other = 0;
        wf_record r;
        char why[256];
        bool found = false;
        if (!json_is_integer(v) || id <= 0)
            return uf_error_set(err, UF_E_BAD_FIELD, "changes[%zu]: expected a record id", i);
        if (!record_load(d, id, &r, err))
            return uf_error_prefix(err, "changes[%zu]", i);
        approval_problem(env, &r, false, why, sizeof why);
        record_clear(&r);
        if (why[0])
            return uf_error_set(err, UF_E_GUARD, "%s", why);
        if (!db_query_int(d,
                          "SELECT c.rollout FROM rollout_changes c JOIN rollouts o ON o.id ="
                          " c.rollout WHERE c.record_id = $1 AND o.release_sha256 <> $2"
                          " AND o.rollback_of IS NULL LIMIT 1",
                          DB_ARGS(db_int(id), db_text(release_sha256)), &other, &found, err))
            return false;
        if (found)
            return uf_error_set(err, UF_E_GUARD, "change %lld was approved with another image "
                                "(rollout %lld); this image needs its own approval",
                                (long long)id, (long long)other);
        if (!db_exec(d, "INSERT INTO rollout_changes (rollout, record_id) VALUES ($1, $2)"
                        " ON CONFLICT DO NOTHING",
                     DB_ARGS(db_int(rollout), db_int(id)), err))
            return false;
    }
    return true;
}

/* The rollout's tenant, release and bound SHA-256. */
static bool rollout_release(db *d, int64_t rollout, char tenant[64], char release[256],
                            char sha[65], uf_error *err)
{
    db_stmt *st = db_query(d, "SELECT tenant, release, release_sha256 FROM rollouts WHERE id = $1",
                           DB_ARGS(db_int(rollout)), err);
    if (!st)
        return false;
    int rc = db_step(st, err);
    if (rc == 1) {
        snprintf(tenant, 64, "%s", db_col_text(st, 0));
        snprintf(release, 256, "%s", db_col_text(st, 1));
        snprintf(sha, 65, "%s", db_col_text(st, 2));
    }
    db_finalize(st);
    return rc == 1 || (rc == 0 && uf_error_set(err, UF_E_NOT_FOUND, "no rollout"));
}

/* The linked change ids (and whether each was delivered), in order. */
static json_t *linked(db *d, int64_t rollout, const char *where, uf_error *err)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT record_id, delivered_at IS NOT NULL FROM rollout_changes WHERE rollout = $1"
             " %s ORDER BY record_id", where);
    db_stmt *st = db_query(d, sql, DB_ARGS(db_int(rollout)), err);
    if (!st)
        return NULL;
    json_t *out = json_array();
    int rc;
    while ((rc = db_step(st, err)) == 1)
        json_array_append_new(out, json_pack("[I, b]", (json_int_t)db_col_int(st, 0),
                                             (int)db_col_int(st, 1)));
    db_finalize(st);
    if (rc < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

bool rollout_gate_check(db *d, const rollout_env *env, int64_t rollout, uf_error *err)
{
    char tenant[64], release[256], sha[65], now_sha[65];
    if (!rollout_release(d, rollout, tenant, release, sha, err) ||
        !rollout_release_sha(d, tenant, release, now_sha, err))
        return false;
    if (strcmp(sha, now_sha) != 0)
        return uf_error_set(err, UF_E_GUARD, "the image of %s changed after approval (sha256 "
                            "%.12s... is now %.12s...): link a change approved for the new image",
                            release, sha, now_sha[0] ? now_sha : "(gone)");
    json_t *changes = linked(d, rollout, "", err);
    if (!changes)
        return false;
    uf_buf why_all = UF_BUF_INIT;
    const json_t *c;
    size_t i;
    bool ok = json_array_size(changes) > 0 ||
              uf_error_set(err, UF_E_GUARD, "no approved change is linked to rollout %lld",
                           (long long)rollout);
    json_array_foreach(changes, i, c) {
        wf_record r;
        char why[256];
        if (!ok || !record_load(d, json_integer_value(json_array_get(c, 0)), &r, err)) {
            ok = false;
            break;
        }
        approval_problem(env, &r, json_is_true(json_array_get(c, 1)), why, sizeof why);
        record_clear(&r);
        if (why[0])
            uf_buf_printf(&why_all, err, "%s%s", why_all.len ? "; " : "", why);
    }
    json_decref(changes);
    if (ok && why_all.len)
        ok = uf_error_set(err, UF_E_GUARD, "approval gate: %.*s", (int)why_all.len,
                          why_all.data);
    uf_buf_free(&why_all);
    return ok;
}

static const char *text_field(const wf_record *r, const char *name)
{
    const char *s = json_string_value(json_object_get(r->fields, name));
    return s ? s : "";
}

bool rollout_gate_deliver(db *d, const rollout_env *env, int64_t rollout, int64_t now,
                          uf_error *err)
{
    json_t *changes = linked(d, rollout, "AND delivered_at IS NULL", err);
    char version[64] = "", when[32];
    char *v = NULL;
    bool found;
    if (!changes || !db_query_text(d, "SELECT version FROM rollouts WHERE id = $1",
                                   DB_ARGS(db_int(rollout)), &v, &found, err)) {
        json_decref(changes);
        return false;
    }
    snprintf(version, sizeof version, "%s", v ? v : "");
    free(v);
    uf_tuf_format_time(now, when);
    const json_t *c;
    size_t i;
    bool ok = true;
    wf_actor sys = {.who = NULL, .name = "system", .preauthorized = true};
    json_array_foreach(changes, i, c) {
        int64_t id = json_integer_value(json_array_get(c, 0));
        json_t *fields = json_pack("{s:s, s:s}", "release_id", version, "delivered_at", when);
        char comment[128];
        snprintf(comment, sizeof comment, "delivered by rollout %lld", (long long)rollout);
        wf_change ch = {.transition = ROLLOUT_DELIVER, .revision = -1, .fields = fields,
                        .comment = comment};
        json_t *failures = NULL;
        ok = ok && wf_fire(d, env->reg, &sys, id, &ch, &failures, err) &&
             db_exec(d, "UPDATE rollout_changes SET delivered_at = $1 WHERE rollout = $2"
                        " AND record_id = $3",
                     DB_ARGS(db_int(now), db_int(rollout), db_int(id)), err);
        json_decref(failures);
        json_decref(fields);
    }
    json_decref(changes);
    return ok ? true : uf_error_prefix(err, "deliver the linked changes");
}

/* A feedback record for the change with the failures, created by the system. */
static bool feedback_for(db *d, const rollout_env *env, const wf_record *req, int64_t rollout,
                         const char *summary, int64_t now, int64_t *fb, uf_error *err)
{
    char when[32], manager[96];
    uf_tuf_format_time(now, when);
    snprintf(manager, sizeof manager, "upflow rollout %lld (automatic)", (long long)rollout);
    const char *release = text_field(req, "release_id");
    json_t *fields = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "customer",
                               text_field(req, "customer"), "product", text_field(req, "product"),
                               "release_id", release, "customer_manager_name", manager,
                               "description", summary, "received_at", when);
    json_t *links = json_pack("[{s:s, s:I}]", "link", "parent", "to", (json_int_t)req->id);
    json_t *failures = NULL;
    wf_actor sys = {.who = NULL, .name = "system", .preauthorized = true};
    wf_change ch = {.transition = ROLLOUT_FEEDBACK_CREATE, .revision = -1, .fields = fields,
                    .comment = "device failures reported by the rollout"};
    bool ok = wf_create_linked(d, env->reg, &sys, req->template_id, ROLLOUT_FEEDBACK_TYPE, &ch,
                               links, fb, &failures, err);
    json_decref(failures);
    json_decref(fields);
    json_decref(links);
    return ok;
}

static bool rework_one(db *d, const rollout_env *env, int64_t rollout, int64_t id,
                       const char *summary, int64_t now, uf_error *err)
{
    wf_record req;
    int64_t fb = 0;
    if (!record_load(d, id, &req, err))
        return false;
    bool ok = feedback_for(d, env, &req, rollout, summary, now, &fb, err);
    const char *to = strcmp(req.state, "CLOSED") == 0 ? ROLLOUT_REWORK_B : ROLLOUT_REWORK_A;
    record_clear(&req);
    char comment[4096];
    snprintf(comment, sizeof comment, "sent back by rollout %lld (feedback record %lld):\n%s",
             (long long)rollout, (long long)fb, summary);
    wf_actor sys = {.who = NULL, .name = "system", .preauthorized = true};
    wf_change ch = {.transition = to, .revision = -1, .comment = comment};
    json_t *failures = NULL;
    ok = ok && wf_fire(d, env->reg, &sys, id, &ch, &failures, err) &&
         db_exec(d, "UPDATE rollout_changes SET reworked_at = $1 WHERE rollout = $2"
                    " AND record_id = $3",
                 DB_ARGS(db_int(now), db_int(rollout), db_int(id)), err);
    json_decref(failures);
    return ok ? true : uf_error_prefix(err, "send change %lld to rework", (long long)id);
}

bool rollout_gate_rework(db *d, const rollout_env *env, int64_t rollout, const char *summary,
                         int64_t now, uf_error *err)
{
    json_t *changes = linked(d, rollout, "AND delivered_at IS NOT NULL AND reworked_at IS NULL",
                             err);
    if (!changes)
        return false;
    const json_t *c;
    size_t i;
    bool ok = true;
    json_array_foreach(changes, i, c) {
        ok = ok && rework_one(d, env, rollout, json_integer_value(json_array_get(c, 0)), summary,
                              now, err);
    }
    json_decref(changes);
    return ok;
}
