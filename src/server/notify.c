/*
 * notify.c - from an event to notification rows (see notify.h).
 *
 * For one event: find the rules of the record type that match it; collect their recipients
 * (role holders in the record's scope, the people named by relations, the approvers of a
 * requested approval, the holders of the entered state's assignee role); then write one
 * in-app row per recipient, cut to what that user may see, and one outbox row if any rule
 * asks for the webhook. A user named by several rules gets one notification, held to working
 * hours only if every rule that named it says so.
 */
#include "server/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/canonical_json.h"
#include "server/auth.h"
#include "server/sla.h"

typedef struct notify_ctx {
    db *d;
    const wf_registry *reg;
    const wf_template *t;
    const json_t *rtype;
    const wf_record *r;
    const char *event, *subject, *actor;
    const json_t *detail;
    json_t *people;    /* username -> true (deliver at once) | false (hold to working hours) */
    int webhook;       /* 0 none, 1 hold, 2 at once */
    int64_t now;       /* seconds */
    int64_t held_until; /* the next working instant, computed once */
} notify_ctx;

static bool str_in(const json_t *arr, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) if (s && strcmp(json_string_value(e), s) == 0) return true;
    return false;
}

static void add_person(notify_ctx *x, const char *name, bool hold)
{
    if (!name || !*name || strcmp(name, x->actor) == 0)
        return;
    json_t *had = json_object_get(x->people, name);
    json_object_set_new(x->people, name, json_boolean((had && json_is_true(had)) || !hold));
}

/* Enabled holders of role in the record's scope (the query of eligible approvers). */
static bool add_role_holders(notify_ctx *x, const char *role, bool hold, uf_error *err)
{
    db_stmt *st = db_query(x->d,
                           "SELECT DISTINCT u.username FROM users u"
                           " JOIN user_roles ur ON ur.user_id = u.id"
                           " WHERE u.disabled = 0 AND ur.role = $1 AND (ur.scope_kind = ''"
                           "  OR (ur.scope_kind = 'product' AND ur.scope = $2)"
                           "  OR (ur.scope_kind = 'customer' AND ur.scope = $3))",
                           DB_ARGS(db_text(role), db_text(x->r->product), db_text(x->r->customer)),
                           err);
    if (!st)
        return false;
    int rc;
    while ((rc = db_step(st, err)) == 1)
        add_person(x, db_col_text(st, 0), hold);
    db_finalize(st);
    return rc == 0;
}

static const char *relation_person(const wf_record *r, const char *relation)
{
    if (strcmp(relation, "creator") == 0)
        return r->created_by;
    if (strcmp(relation, "assignee") == 0)
        return r->assignee;
    return json_string_value(json_object_get(r->fields, relation));
}

static bool rule_matches(const notify_ctx *x, const json_t *rule)
{
    if (strcmp(json_string_value(json_object_get(rule, "on")), x->event) != 0)
        return false;
    const json_t *trs = json_object_get(rule, "transitions");
    const json_t *slas = json_object_get(rule, "slas");
    return (!trs || str_in(trs, x->subject)) && (!slas || str_in(slas, x->subject));
}

static bool collect(notify_ctx *x, const json_t *rule, uf_error *err)
{
    bool hold = json_is_true(json_object_get(rule, "working_hours_only"));
    const json_t *channels = json_object_get(rule, "channels");
    if (str_in(channels, "webhook") && x->webhook < 2)
        x->webhook = hold ? 1 : 2;
    if (!str_in(channels, "inapp"))
        return true;
    const json_t *to = json_object_get(rule, "to");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(to, "roles"), i, e) {
        if (!add_role_holders(x, json_string_value(e), hold, err))
            return false;
    }
    json_array_foreach(json_object_get(to, "relations"), i, e)
        add_person(x, relation_person(x->r, json_string_value(e)), hold);
    if (json_is_true(json_object_get(to, "approvers"))) {
        const json_t *tr = wf_transition(x->rtype, x->subject);
        json_array_foreach(json_object_get(json_object_get(tr, "approval"), "roles"), i, e) {
            if (!add_role_holders(x, json_string_value(e), hold, err))
                return false;
        }
    }
    /* the queue of a state hears of records entering it, not of every step inside it */
    const char *from = json_string_value(json_object_get(x->detail, "from"));
    if (json_is_true(json_object_get(to, "assignee_role")) &&
        (!from || strcmp(from, x->r->state) != 0)) {
        const char *role = json_string_value(
            json_object_get(wf_state(x->rtype, x->r->state), "assignee_role"));
        if (role && !add_role_holders(x, role, hold, err))
            return false;
    }
    return true;
}

/* Now, or for held notifications the next instant inside a session of the template's
 * calendar (now, if it cannot be told). */
static int64_t deliver_at(notify_ctx *x, bool hold)
{
    if (!hold)
        return x->now;
    if (x->held_until)
        return x->held_until;
    x->held_until = x->now;
    const char *cal_id = json_string_value(json_object_get(x->t->doc, "calendar"));
    const uf_calendar *cal =
        cal_id && x->reg->calendars ? sla_calendars_get(x->reg->calendars, cal_id) : NULL;
    int64_t at;
    if (cal && uf_calendar_effective_receipt(cal, x->now, &at, NULL, NULL))
        x->held_until = at;
    return x->held_until;
}

static void title_of(const notify_ctx *x, char *out, size_t len)
{
    const wf_record *r = x->r;
    const char *label = json_string_value(json_object_get(wf_state(x->rtype, r->state), "label"));
    const char *sla_name = json_string_value(json_object_get(x->detail, "name"));
    if (strcmp(x->event, NOTIFY_TRANSITION) == 0)
        snprintf(out, len, "%s %lld: %s", r->type, (long long)r->id, label ? label : r->state);
    else if (strcmp(x->event, NOTIFY_APPROVAL_REQUESTED) == 0)
        snprintf(out, len, "%s %lld: your approval is requested (%s)", r->type, (long long)r->id,
                 x->subject);
    else if (strcmp(x->event, NOTIFY_SLA_WARNING) == 0)
        snprintf(out, len, "%s %lld: %s %s at %lld%% of its time", r->type, (long long)r->id,
                 x->subject, sla_name ? sla_name : "",
                 (long long)json_integer_value(json_object_get(x->detail, "pct")));
    else if (strcmp(x->event, NOTIFY_SLA_BREACH) == 0)
        snprintf(out, len, "%s %lld: %s %s breached", r->type, (long long)r->id, x->subject,
                 sla_name ? sla_name : "");
    else
        snprintf(out, len, "%s %lld: new comment by %s", r->type, (long long)r->id, x->actor);
}

/* The record as a notification names it. */
static json_t *record_ref(const notify_ctx *x)
{
    const wf_record *r = x->r;
    return json_pack("{s:I, s:s, s:s, s:s, s:s?}", "id", (json_int_t)r->id, "template",
                     r->template_id, "type", r->type, "state", r->state, "state_label",
                     json_string_value(json_object_get(wf_state(x->rtype, r->state), "label")));
}

/* What one user is told: the event, the record, and of the changed fields those it may see.
 * Keys of an SLA event's detail are about the clock, not the record, and pass as they are. */
static json_t *body_for(const notify_ctx *x, const auth_identity *who)
{
    json_t *body = json_pack("{s:s, s:o, s:s}", "event", x->event, "record", record_ref(x),
                             "actor", x->actor);
    if (x->subject)
        json_object_set_new(body, strncmp(x->event, "sla_", 4) == 0 ? "sla" : "transition",
                            json_string(x->subject));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)x->detail, key, v) {
        if (strcmp(key, "changes") == 0) {
            json_t *visible = json_object();
            const char *f;
            json_t *fv;
            json_object_foreach(v, f, fv) {
                if (wf_field_visible(x->t, x->rtype, who, x->r, f))
                    json_object_set(visible, f, fv);
            }
            json_object_set_new(body, "changes", visible);
        } else if (strcmp(key, "from") == 0 || strcmp(key, "cycle") == 0 ||
                   strcmp(key, "pct") == 0 || strcmp(key, "at_ms") == 0 ||
                   strcmp(key, "deadline_ms") == 0 || strcmp(key, "name") == 0 ||
                   strcmp(key, "comment_id") == 0) {
            json_object_set(body, key, v);
        }
    }
    return body;
}

static bool write_inapp(notify_ctx *x, const char *title, uf_error *err)
{
    bool internal = strcmp(x->event, NOTIFY_COMMENT) == 0 &&
                    !json_is_true(json_object_get(x->detail, "customer_visible"));
    const char *name;
    json_t *at_once;
    json_object_foreach(x->people, name, at_once) {
        auth_identity who;
        bool found;
        if (!auth_load_user(x->d, name, &who, &found, err))
            return false;
        if (!found || !wf_can_see(x->reg, &who, x->r) || (internal && who.customer[0]))
            continue;
        json_t *body = body_for(x, &who);
        char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        if (!text)
            return uf_error_set(err, UF_E_NOMEM, "serialise a notification");
        bool ok = db_exec(x->d,
                          "INSERT INTO notifications (username, record_id, event, title, body,"
                          " created_at, deliver_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                          DB_ARGS(db_text(name), db_int(x->r->id), db_text(x->event),
                                  db_text(title), db_text(text), db_int(x->now),
                                  db_int(deliver_at(x, !json_is_true(at_once)))),
                          err);
        free(text);
        if (!ok)
            return false;
    }
    return true;
}

/* The webhook event: the whole record reference and detail (the receiver is the operator's
 * own system), as canonical JSON so the signed bytes are well defined. */
static bool write_webhook(notify_ctx *x, const char *title, uf_error *err)
{
    const wf_record *r = x->r;
    json_t *rec = record_ref(x);
    json_object_set_new(rec, "template_version", json_integer(r->template_version));
    json_object_set_new(rec, "customer", r->customer[0] ? json_string(r->customer) : json_null());
    json_object_set_new(rec, "product", r->product[0] ? json_string(r->product) : json_null());
    json_object_set_new(rec, "assignee", r->assignee[0] ? json_string(r->assignee) : json_null());
    json_t *detail = x->detail ? json_incref((json_t *)(uintptr_t)x->detail) : json_object();
    json_t *payload = json_pack("{s:s, s:s, s:o, s:s, s:I, s:o}", "event", x->event, "title",
                                title, "record", rec, "actor", x->actor, "at",
                                (json_int_t)x->now, "detail", detail);
    if (payload && x->subject)
        json_object_set_new(payload, strncmp(x->event, "sla_", 4) == 0 ? "sla" : "transition",
                            json_string(x->subject));
    uf_buf canon = UF_BUF_INIT;
    bool ok = payload && uf_canonical_json(payload, &canon, err) &&
              uf_buf_append_char(&canon, '\0', err);
    json_decref(payload);
    if (!ok) {
        uf_buf_free(&canon);
        return payload ? false : uf_error_set(err, UF_E_NOMEM, "build a webhook event");
    }
    int64_t at = deliver_at(x, x->webhook == 1);
    ok = db_exec(x->d,
                 "INSERT INTO outbox (kind, event, payload, created_at, next_attempt_at)"
                 " VALUES ('webhook', $1, $2, $3, $4)",
                 DB_ARGS(db_text(x->event), db_text((const char *)canon.data), db_int(x->now),
                         db_int(at)),
                 err);
    uf_buf_free(&canon);
    return ok;
}

bool notify_event(db *d, const wf_registry *reg, const wf_record *r, const char *event,
                  const char *subject, const char *actor, const json_t *detail, uf_error *err)
{
    const wf_template *t = wf_registry_get(reg, r->template_id, r->template_version);
    const json_t *rtype = t ? wf_record_type(t, r->type) : NULL;
    const json_t *rules = json_object_get(rtype, "notify");
    if (json_array_size(rules) == 0)
        return true;
    notify_ctx x = {.d = d, .reg = reg, .t = t, .rtype = rtype, .r = r, .event = event,
                    .subject = subject, .actor = actor ? actor : "system", .detail = detail,
                    .people = json_object(), .now = (int64_t)time(NULL)};
    bool ok = true;
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        if (ok && rule_matches(&x, rule))
            ok = collect(&x, rule, err);
    }
    char title[512];
    title_of(&x, title, sizeof title);
    ok = ok && write_inapp(&x, title, err) && (!x.webhook || write_webhook(&x, title, err));
    json_decref(x.people);
    return ok ? true
              : uf_error_prefix(err, "notify %s of record %lld", event, (long long)r->id);
}

bool notify_transition(db *d, const wf_registry *reg, const wf_record *r, const char *transition,
                       const char *from_state, const char *actor, const json_t *detail,
                       uf_error *err)
{
    if (!notify_event(d, reg, r, NOTIFY_TRANSITION, transition, actor, detail, err))
        return false;
    if (from_state && strcmp(from_state, r->state) == 0)
        return true; /* stayed: approvals already requested stay requested */
    const wf_template *t = wf_registry_get(reg, r->template_id, r->template_version);
    const json_t *rtype = t ? wf_record_type(t, r->type) : NULL;
    if (!json_object_get(rtype, "notify"))
        return true;
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(rtype, "transitions"), i, tr) {
        if (!json_object_get(tr, "approval") || wf_transition_is_create(tr) ||
            !wf_transition_allowed_from(rtype, tr, r->state))
            continue;
        json_t *what = json_pack("{s:s?}", "from", from_state);
        bool ok = notify_event(d, reg, r, NOTIFY_APPROVAL_REQUESTED,
                               json_string_value(json_object_get(tr, "id")), actor, what, err);
        json_decref(what);
        if (!ok)
            return false;
    }
    return true;
}
