/*
 * workflow_approval.c - approvals: who may approve, who is excluded, what counts toward the
 * quorum, and recording a decision (see wf_decide in workflow.h, workflow.md §6.5).
 *
 * What counts: the latest decision of each eligible person, recorded after the current round
 * began (the record entered its state, or the transition last fired: a new round needs new
 * approvals), and bound to the current values of the approval's bind_fields. Any rejection in
 * the round blocks the quorum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/canonical_json.h"
#include "lib/hash.h"
#include "server/audit.h"
#include "server/workflow_internal.h"

bool wf_approval_binding(const json_t *approval, const wf_record *r, char out[65], uf_error *err)
{
    json_t *bind = json_object_get(approval, "bind_fields");
    out[0] = '\0';
    if (!bind)
        return true;
    json_t *values = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(bind, i, f) {
        json_t *v = json_object_get(r->fields, json_string_value(f));
        json_object_set(values, json_string_value(f), v ? v : json_null());
    }
    uf_buf canon = UF_BUF_INIT;
    char hex[UF_HASH_MAX_HEX];
    bool ok = uf_canonical_json(values, &canon, err) &&
              uf_hash_buf_hex(UF_HASH_SHA256, canon.data, canon.len, hex, err);
    if (ok)
        memcpy(out, hex, 65);
    uf_buf_free(&canon);
    json_decref(values);
    return ok;
}

bool wf_approval_round_start(db *d, const wf_record *r, const char *transition, int64_t *seq,
                             uf_error *err)
{
    bool found;
    *seq = 0;
    return db_query_int(d,
                        "SELECT COALESCE(MAX(audit_seq), 0) FROM record_history WHERE record_id = $1"
                        " AND ((to_state = $2 AND (from_state IS NULL OR from_state <> $2))"
                        "      OR transition = $3)",
                        DB_ARGS(db_int(r->id), db_text(r->state), db_text(transition)), seq,
                        &found, err);
}

bool wf_approval_excluded(db *d, const json_t *approval, const wf_record *r, const char *person,
                          bool *excluded, const char **why, uf_error *err)
{
    *excluded = false;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(approval, "exclude"), i, e) {
        const char *rule = json_string_value(e);
        if (strcmp(rule, "creator") == 0 && strcmp(r->created_by, person) == 0) {
            *excluded = true;
            *why = "the creator of the record may not approve it";
            return true;
        }
        if (strcmp(rule, "assignee") == 0 && strcmp(r->assignee, person) == 0) {
            *excluded = true;
            *why = "the assignee of the record may not approve it";
            return true;
        }
        if (strncmp(rule, "actors_of:", 10) == 0) {
            json_t *list = json_pack("[s]", rule + 10);
            bool fired;
            bool ok = record_actor_fired(d, r->id, person, list, &fired, err);
            json_decref(list);
            if (!ok)
                return false;
            if (fired) {
                *excluded = true;
                *why = "someone who did the work being approved may not approve it";
                return true;
            }
        }
    }
    return true;
}

/* Usernames eligible to approve: holders of an approval role in the record's scope. */
static json_t *eligible_approvers(db *d, const json_t *approval, const wf_record *r, uf_error *err)
{
    json_t *people = json_object();
    size_t i;
    json_t *role;
    json_array_foreach(json_object_get(approval, "roles"), i, role) {
        db_stmt *st = db_query(d,
                               "SELECT DISTINCT u.username FROM users u"
                               " JOIN user_roles ur ON ur.user_id = u.id"
                               " WHERE u.disabled = 0 AND ur.role = $1 AND (ur.scope_kind = ''"
                               "  OR (ur.scope_kind = 'product' AND ur.scope = $2)"
                               "  OR (ur.scope_kind = 'customer' AND ur.scope = $3))",
                               DB_ARGS(db_text(json_string_value(role)), db_text(r->product),
                                       db_text(r->customer)),
                               err);
        if (!st) {
            json_decref(people);
            return NULL;
        }
        int rc;
        while ((rc = db_step(st, err)) == 1)
            json_object_set_new(people, db_col_text(st, 0), json_true());
        db_finalize(st);
        if (rc < 0) {
            json_decref(people);
            return NULL;
        }
    }
    return people;
}

bool wf_approval_status(db *d, const wf_template *t, const json_t *rtype, const json_t *tr,
                        const wf_record *r, bool *met, json_t **status, uf_error *err)
{
    (void)t;
    (void)rtype;
    const json_t *approval = json_object_get(tr, "approval");
    const char *tid = json_string_value(json_object_get(tr, "id"));
    char binding[65];
    int64_t round;
    *met = false;
    *status = NULL;
    if (!wf_approval_binding(approval, r, binding, err) ||
        !wf_approval_round_start(d, r, tid, &round, err))
        return false;
    json_t *eligible = eligible_approvers(d, approval, r, err);
    if (!eligible)
        return false;
    /* exclusions shrink the eligible set */
    const char *person;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(eligible, tmp, person, v) {
        bool excluded;
        const char *why;
        if (!wf_approval_excluded(d, approval, r, person, &excluded, &why, err)) {
            json_decref(eligible);
            return false;
        }
        if (excluded)
            json_object_del(eligible, person);
    }
    db_stmt *st = db_query(d,
                           "SELECT approver, decision FROM approvals WHERE record_id = $1 AND"
                           " transition = $2 AND binding = $3 AND audit_seq > $4 ORDER BY id",
                           DB_ARGS(db_int(r->id), db_text(tid), db_text(binding), db_int(round)),
                           err);
    if (!st) {
        json_decref(eligible);
        return false;
    }
    json_t *latest = json_object();
    int rc;
    while ((rc = db_step(st, err)) == 1)
        json_object_set_new(latest, db_col_text(st, 0), json_string(db_col_text(st, 1)));
    db_finalize(st);
    if (rc < 0) {
        json_decref(eligible);
        json_decref(latest);
        return false;
    }
    json_int_t approved = 0;
    const char *rejected_by = NULL;
    json_object_foreach(latest, person, v) {
        if (!json_object_get(eligible, person))
            continue; /* no longer eligible (role revoked, excluded): does not count */
        if (strcmp(json_string_value(v), "approve") == 0)
            approved++;
        else if (!rejected_by)
            rejected_by = person;
    }
    json_t *quorum = json_object_get(approval, "quorum");
    json_int_t n_eligible = (json_int_t)json_object_size(eligible), needed;
    if (json_object_get(quorum, "count"))
        needed = json_integer_value(json_object_get(quorum, "count"));
    else if (json_object_get(quorum, "percent"))
        needed = (n_eligible * json_integer_value(json_object_get(quorum, "percent")) + 99) / 100;
    else
        needed = n_eligible;
    if (needed < 1)
        needed = 1; /* nobody eligible: the quorum can not be met, never "vacuously" */
    *met = !rejected_by && approved >= needed;
    *status = json_pack("{s:I, s:I, s:I, s:b}", "approved", approved, "needed", needed,
                        "eligible", n_eligible, "met", *met);
    if (rejected_by)
        json_object_set_new(*status, "rejected_by", json_string(rejected_by));
    json_decref(eligible);
    json_decref(latest);
    return true;
}

/* For a proxy decision: the recorder's role, the evidence, the principal's role. */
static bool check_proxy(db *d, const json_t *approval, const wf_actor *a, const wf_record *r,
                        const wf_decision *dec, uf_error *err)
{
    json_t *proxy = json_object_get(approval, "proxy");
    if (!proxy)
        return uf_error_set(err, UF_E_FORBIDDEN, "this approval may not be recorded on behalf of someone");
    bool allowed = false;
    size_t i;
    json_t *role;
    json_array_foreach(json_object_get(proxy, "roles"), i, role) allowed |= wf_role_in_scope(a->who, json_string_value(role), r);
    if (!allowed)
        return uf_error_set(err, UF_E_FORBIDDEN, "%s may not record approvals on behalf of others", a->name);
    const char *kind = json_string_value(json_object_get(proxy, "evidence_kind"));
    int64_t n = 0;
    if (dec->evidence > 0 &&
        !db_query_int(d, "SELECT COUNT(*) FROM attachments WHERE id = $1 AND record_id = $2 AND kind = $3",
                      DB_ARGS(db_int(dec->evidence), db_int(r->id), db_text(kind)), &n, NULL, err))
        return false;
    if (n == 0)
        return uf_error_set(err, UF_E_GUARD,
                            "a proxy decision needs evidence: an attachment of kind %s on this record",
                            kind);
    /* the principal must hold the principal role in scope */
    const char *principal_role = json_string_value(json_object_get(proxy, "principal_role"));
    int64_t holds = 0;
    if (!db_query_int(d,
                      "SELECT COUNT(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id"
                      " WHERE u.username = $1 AND ur.role = $2 AND (ur.scope_kind = ''"
                      "  OR (ur.scope_kind = 'product' AND ur.scope = $3)"
                      "  OR (ur.scope_kind = 'customer' AND ur.scope = $4))",
                      DB_ARGS(db_text(dec->on_behalf_of), db_text(principal_role),
                              db_text(r->product), db_text(r->customer)),
                      &holds, NULL, err))
        return false;
    if (!holds)
        return uf_error_set(err, UF_E_FORBIDDEN, "%s does not hold the role %s for this record",
                            dec->on_behalf_of, principal_role);
    return true;
}

static bool may_decide(db *d, const json_t *approval, const wf_actor *a, const wf_record *r,
                       const wf_decision *dec, const char *principal, uf_error *err)
{
    if (dec->on_behalf_of) {
        if (!check_proxy(d, approval, a, r, dec, err))
            return false;
    } else {
        bool allowed = false;
        size_t i;
        json_t *role;
        json_array_foreach(json_object_get(approval, "roles"), i, role) allowed |= wf_role_in_scope(a->who, json_string_value(role), r);
        if (!allowed) {
            char *roles = json_dumps(json_object_get(approval, "roles"), JSON_COMPACT);
            uf_error_set(err, UF_E_FORBIDDEN, "approving %s needs one of the roles %s",
                         dec->transition, roles ? roles : "?");
            free(roles);
            return false;
        }
    }
    bool excluded;
    const char *why = "";
    if (!wf_approval_excluded(d, approval, r, principal, &excluded, &why, err))
        return false;
    if (excluded)
        return uf_error_set(err, UF_E_FORBIDDEN, "%s may not approve %s: %s", principal,
                            dec->transition, why);
    if (!dec->approve && json_is_true(json_object_get(approval, "reject_requires_comment")) &&
        (!dec->comment || !*dec->comment))
        return uf_error_set(err, UF_E_BAD_FIELD, "comment: a rejection needs a reason");
    return true;
}

static bool store_decision(db *d, const wf_actor *a, const wf_record *r, const json_t *approval,
                           const wf_decision *dec, const char *principal, int64_t *approval_id,
                           uf_error *err)
{
    char binding[65], idtext[32];
    if (!wf_approval_binding(approval, r, binding, err))
        return false;
    snprintf(idtext, sizeof idtext, "%lld", (long long)r->id);
    json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "transition", dec->transition, "decision",
                               dec->approve ? "approve" : "reject", "comment",
                               dec->comment ? dec->comment : "", "binding", binding);
    if (dec->evidence > 0)
        json_object_set_new(detail, "evidence", json_integer(dec->evidence));
    audit_entry e = {.actor = a->name, .on_behalf_of = dec->on_behalf_of,
                     .action = "record.approval", .object_kind = "record", .object_id = idtext,
                     .template_version = r->template_version, .detail = detail};
    int64_t seq = 0;
    bool ok = audit_append(d, &e, &seq, err) &&
              db_query_int(d,
                           "INSERT INTO approvals (record_id, transition, approver, recorded_by,"
                           " decision, comment, binding, evidence, audit_seq, created_at)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                           DB_ARGS(db_int(r->id), db_text(dec->transition), db_text(principal),
                                   db_text(a->name), db_text(dec->approve ? "approve" : "reject"),
                                   db_text(dec->comment ? dec->comment : ""), db_text(binding),
                                   dec->evidence > 0 ? db_int(dec->evidence) : db_null(),
                                   db_int(seq), db_int((int64_t)time(NULL))),
                           approval_id, NULL, err);
    json_decref(detail);
    return ok;
}

/* Fire the transition a decision leads to. If it fails, its partial work is undone (a
 * savepoint) while the decision itself stays. */
static bool fire_after_decision(db *d, const wf_registry *reg, const wf_actor *a,
                                int64_t record_id, const wf_change *c, json_t *failures,
                                uf_error *err)
{
    if (!db_exec(d, "SAVEPOINT decision_effect", DB_NO_ARGS, err))
        return false;
    bool ok = wf_fire_into(d, reg, a, record_id, c, failures, err);
    if (!ok)
        db_exec(d, "ROLLBACK TO SAVEPOINT decision_effect", DB_NO_ARGS, NULL);
    uf_error ignored;
    db_exec(d, "RELEASE SAVEPOINT decision_effect", DB_NO_ARGS, &ignored);
    return ok;
}

bool wf_decide(db *d, const wf_registry *reg, const wf_actor *a, int64_t record_id,
               const wf_decision *dec, json_t **result, uf_error *err)
{
    *result = NULL;
    wf_record r;
    if (!record_load(d, record_id, &r, err))
        return false;
    const wf_template *t = wf_registry_get(reg, r.template_id, r.template_version);
    const json_t *rtype = t ? wf_record_type(t, r.type) : NULL;
    const json_t *tr = rtype ? wf_transition(rtype, dec->transition) : NULL;
    const json_t *approval = json_object_get(tr, "approval");
    const char *principal = dec->on_behalf_of ? dec->on_behalf_of : a->name;
    int64_t approval_id = 0;
    bool ok = false;
    if (a->who && !wf_can_see(reg, a->who, &r))
        uf_error_set(err, UF_E_NOT_FOUND, "no record %lld", (long long)record_id);
    else if (!tr || !approval)
        uf_error_set(err, UF_E_NOT_FOUND, "%s has no transition %s that takes approvals", r.type,
                     dec->transition);
    else if (!wf_transition_allowed_from(rtype, tr, r.state))
        uf_error_set(err, UF_E_CONFLICT, "record %lld is in state %s: %s is not awaiting approval",
                     (long long)record_id, r.state, dec->transition);
    else
        ok = may_decide(d, approval, a, &r, dec, principal, err) &&
             store_decision(d, a, &r, approval, dec, principal, &approval_id, err);
    if (!ok) {
        record_clear(&r);
        return false;
    }
    bool met = false;
    json_t *status = NULL;
    ok = wf_approval_status(d, t, rtype, tr, &r, &met, &status, err);
    if (ok) {
        *result = json_pack("{s:I, s:o, s:b}", "approval_id", (json_int_t)approval_id, "quorum",
                            status, "fired", 0);
        wf_actor as = {.who = a->who, .name = a->name, .on_behalf_of = dec->on_behalf_of,
                       .preauthorized = true};
        const char *next = NULL;
        if (dec->approve && met && json_is_true(json_object_get(approval, "auto_fire")))
            next = dec->transition;
        else if (!dec->approve)
            next = json_string_value(json_object_get(approval, "on_reject"));
        if (next) {
            json_t *failures = json_array();
            wf_change c = {.transition = next, .revision = -1, .comment = dec->comment,
                           .comment_customer_visible = false};
            uf_error ferr;
            uf_error_clear(&ferr);
            if (fire_after_decision(d, reg, &as, record_id, &c, failures, &ferr)) {
                json_object_set_new(*result, "fired", json_string(next));
            } else if (ferr.code == UF_E_GUARD && dec->approve) {
                /* the approval stands; the transition waits for its other guards */
                json_object_set_new(*result, "unmet", json_incref(failures));
            } else if (ferr.code == UF_E_GUARD) {
                /* a rejection that cannot send the record back (e.g. its reason is too short
                 * for the return transition) is refused as a whole, so nothing is half done */
                char *list = json_dumps(failures, JSON_COMPACT);
                uf_error_set(err, UF_E_GUARD, "the rejection cannot fire %s: %s", next,
                             list ? list : "guards not met");
                free(list);
                ok = false;
            } else {
                *err = ferr;
                ok = false;
            }
            json_decref(failures);
        }
    }
    record_clear(&r);
    if (!ok) {
        json_decref(*result);
        *result = NULL;
    }
    return ok;
}
