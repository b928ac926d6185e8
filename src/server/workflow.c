/*
 * workflow.c - creating records and firing transitions (see workflow.h).
 *
 * The sequence for one transition, all inside the caller's write transaction (workflow.md
 * §6.9): load the record and check the caller's revision; find the transition and check the
 * current state is one of its from-states; authorise the actor; apply the request's fields
 * and the transition's effects to a copy of the record; evaluate every guard on that copy and
 * collect all failures; write the record (revision + 1), history, comment and audit record;
 * then run effects on linked records, which go through this same sequence.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/audit.h"
#include "server/notify.h"
#include "server/workflow_internal.h"

/* Effects on linked records can cascade (FB -> REQ); a template can not make them loop
 * forever because each hop is a committed state change, but bound the depth anyway. */
#define WF_MAX_CASCADE 4

typedef struct fire_ctx {
    db *d;
    const wf_registry *reg;
    const wf_actor *a;
    const wf_change *c;
    const wf_template *t;
    const json_t *rtype;
    const json_t *tr;
    wf_record *r;
    json_t *failures;
    json_t *changes; /* field -> new value, for the audit record */
    int depth;
} fire_ctx;

void wf_fail(json_t *failures, const char *guard, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(failures, json_pack("{s:s, s:s}", "guard", guard, "message", msg));
}

bool wf_is_empty(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *now_iso(void)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

void wf_scope_from_fields(const json_t *rtype, wf_record *r)
{
    json_t *scope = json_object_get(rtype, "scope");
    const char *cf = json_string_value(json_object_get(scope, "customer_field"));
    const char *pf = json_string_value(json_object_get(scope, "product_field"));
    const char *cv = cf ? json_string_value(json_object_get(r->fields, cf)) : NULL;
    const char *pv = pf ? json_string_value(json_object_get(r->fields, pf)) : NULL;
    snprintf(r->customer, sizeof r->customer, "%s", cv ? cv : "");
    snprintf(r->product, sizeof r->product, "%s", pv ? pv : "");
}

bool wf_role_in_scope(const auth_identity *who, const char *role, const wf_record *r)
{
    if (!who)
        return false;
    return auth_has_role(who, role, "product", r->product) ||
           auth_has_role(who, role, "customer", r->customer);
}

bool wf_has_template_role(const wf_template *t, const auth_identity *who, const wf_record *r)
{
    size_t i;
    json_t *role;
    json_array_foreach(json_object_get(t->doc, "roles"), i, role) {
        if (wf_role_in_scope(who, json_string_value(role), r))
            return true;
    }
    return false;
}

/* Is the person named in a relation ("creator", "assignee", or a user field) the actor? */
static bool relation_holds(const wf_record *r, const char *relation, const char *name)
{
    if (strcmp(relation, "creator") == 0)
        return strcmp(r->created_by, name) == 0;
    if (strcmp(relation, "assignee") == 0)
        return r->assignee[0] && strcmp(r->assignee, name) == 0;
    const char *v = json_string_value(json_object_get(r->fields, relation));
    return v && strcmp(v, name) == 0;
}

/* May the actor fire tr on r? Fills why on refusal. */
static bool may_fire(const fire_ctx *x, char *why, size_t len)
{
    const wf_actor *a = x->a;
    if (a->preauthorized || !a->who)
        return true;
    const char *id = json_string_value(json_object_get(x->tr, "id"));
    if (json_is_true(json_object_get(x->tr, "system_only"))) {
        snprintf(why, len, "transition %s is fired only by the system (through a linked record)", id);
        return false;
    }
    json_t *actors = json_object_get(x->tr, "actors");
    json_t *roles = json_object_get(actors, "roles"), *rel = json_object_get(actors, "relations");
    if (!roles && !rel)
        return wf_has_template_role(x->t, a->who, x->r) ||
               (snprintf(why, len, "%s holds no role of template %s here", a->name, x->t->id), false);
    size_t i;
    json_t *e;
    json_array_foreach(roles, i, e) if (wf_role_in_scope(a->who, json_string_value(e), x->r)) return true;
    json_array_foreach(rel, i, e) if (relation_holds(x->r, json_string_value(e), a->name)) return true;
    char *names = roles ? json_dumps(roles, JSON_COMPACT) : NULL;
    snprintf(why, len, "transition %s needs one of the roles %s%s", id, names ? names : "[]",
             rel ? " or a relation to the record" : "");
    free(names);
    return false;
}

/* ---- applying values and effects -------------------------------------------------- */

static void set_field(fire_ctx *x, const char *name, json_t *value /* stolen */)
{
    json_t *old = json_object_get(x->r->fields, name);
    if (old && json_equal(old, value)) {
        json_decref(value);
        return;
    }
    json_object_set(x->changes, name, value);
    json_object_set_new(x->r->fields, name, value);
}

/* A request may set a field the transition names as input (if the user may see it and it is
 * not read-only), or any field editable in the record's current state. */
static bool input_allowed(const fire_ctx *x, const char *name)
{
    if (x->tr) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(x->tr, "input"), i, f) {
            if (strcmp(json_string_value(f), name) == 0)
                return wf_field_visible(x->t, x->rtype, x->a->who, x->r, name) &&
                       !json_is_true(json_object_get(wf_field(x->rtype, name), "readonly"));
        }
    }
    return wf_field_editable(x->t, x->rtype, x->a->who, x->r, name);
}

/* After the request's values: the record may now belong to another customer or product.
 * A user may not move a record out of its own reach (nor a customer-side user out of its own
 * customer). */
static bool check_scope_change(fire_ctx *x, uf_error *err)
{
    wf_scope_from_fields(x->rtype, x->r);
    const auth_identity *who = x->a->who;
    if (!who || x->a->preauthorized)
        return true;
    if (who->customer[0] && strcmp(who->customer, x->r->customer) != 0)
        return uf_error_set(err, UF_E_FORBIDDEN,
                            "a customer-side user keeps records with its own customer");
    if (!who->customer[0] && !auth_is_admin(who) && !wf_has_template_role(x->t, who, x->r))
        return uf_error_set(err, UF_E_FORBIDDEN,
                            "%s holds no role for the customer and product this would move the record to",
                            x->a->name);
    return true;
}

static bool apply_inputs(fire_ctx *x, uf_error *err)
{
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)x->c->fields, name, v) {
        char path[128];
        snprintf(path, sizeof path, "fields.%s", name);
        json_t *def = wf_field(x->rtype, name);
        if (!def)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: no such field in %s", path, x->r->type);
        if (x->a->who && !input_allowed(x, name))
            return uf_error_set(err, UF_E_FORBIDDEN, "%s: not editable by %s in state %s", path,
                                x->a->name, x->r->state);
        if (!json_is_null(v) && !wf_check_value(x->d, def, path, v, err))
            return false;
        set_field(x, name, json_deep_copy(v));
    }
    return true;
}

static json_t *effect_value(const fire_ctx *x, const json_t *v)
{
    const char *s = json_string_value(v);
    if (s && strcmp(s, "now") == 0)
        return now_iso();
    if (s && strcmp(s, "actor") == 0)
        return json_string(x->a->on_behalf_of ? x->a->on_behalf_of : x->a->name);
    return json_deep_copy(v);
}

/* Effects that only change this record's fields and assignee: run before the guards. */
static void apply_local_effects(fire_ctx *x)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(x->tr, "effects"), i, e) {
        json_t *arg;
        const char *f;
        json_t *v;
        if ((arg = json_object_get(e, "set"))) {
            json_object_foreach(arg, f, v) set_field(x, f, effect_value(x, v));
        } else if ((arg = json_object_get(e, "set_if_empty"))) {
            json_object_foreach(arg, f, v) if (wf_is_empty(json_object_get(x->r->fields, f)))
                set_field(x, f, effect_value(x, v));
        } else if ((arg = json_object_get(e, "copy"))) {
            const char *from = json_string_value(json_object_get(arg, "from"));
            const char *to = json_string_value(json_object_get(arg, "to"));
            json_t *src = json_object_get(x->r->fields, from);
            bool if_empty = json_is_true(json_object_get(arg, "if_empty"));
            if (!wf_is_empty(src) && (!if_empty || wf_is_empty(json_object_get(x->r->fields, to))))
                set_field(x, to, json_deep_copy(src));
        } else if ((arg = json_object_get(e, "increment"))) {
            f = json_string_value(arg);
            json_int_t n = json_integer_value(json_object_get(x->r->fields, f));
            set_field(x, f, json_integer(n + 1));
        } else if ((arg = json_object_get(e, "assign"))) {
            const char *who = json_is_string(arg)
                                  ? json_string_value(json_object_get(x->r->fields, json_string_value(arg)))
                                  : "";
            snprintf(x->r->assignee, sizeof x->r->assignee, "%s", who ? who : "");
        }
    }
}

/* Does every field of `when` equal the record's value? */
static bool when_matches(const wf_record *r, const json_t *when)
{
    const char *f;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)when, f, v) {
        if (!json_equal(json_object_get(r->fields, f), v))
            return false;
    }
    return true;
}

static bool fire_in(const wf_registry *reg, db *d, const wf_actor *a, int64_t record_id,
                    const wf_change *c, int depth, json_t *failures, uf_error *err);
static bool create_in(const wf_registry *reg, db *d, const wf_actor *a, const char *template_id,
                      const char *type, const wf_change *c, const json_t *links, int depth,
                      int64_t *record_id, json_t *failures, uf_error *err);

static bool effect_parent(fire_ctx *x, const json_t *arg, uf_error *err)
{
    const char *link = json_string_value(json_object_get(arg, "link"));
    json_t *ids = record_linked(x->d, x->r->id, link, err);
    if (!ids)
        return false;
    size_t i;
    json_t *id;
    bool ok = true;
    json_array_foreach(ids, i, id) {
        wf_record parent;
        if (!record_load(x->d, json_integer_value(id), &parent, err)) {
            ok = false;
            break;
        }
        const wf_template *pt = wf_registry_get(x->reg, parent.template_id, parent.template_version);
        const json_t *prt = pt ? wf_record_type(pt, parent.type) : NULL;
        const char *chosen = NULL;
        size_t k;
        json_t *name;
        json_array_foreach(json_object_get(arg, "try"), k, name) {
            json_t *ptr = prt ? wf_transition(prt, json_string_value(name)) : NULL;
            if (ptr && wf_transition_allowed_from(prt, ptr, parent.state)) {
                chosen = json_string_value(name);
                break;
            }
        }
        if (!chosen && json_is_true(json_object_get(arg, "optional"))) {
            record_clear(&parent);
            continue;
        }
        if (!chosen) {
            wf_fail(x->failures, "linked", "%s record %lld is in state %s, where none of the "
                    "transitions this needs applies", link, (long long)parent.id, parent.state);
            record_clear(&parent);
            continue;
        }
        char comment[128];
        snprintf(comment, sizeof comment, "by %s record %lld (%s)", x->r->type, (long long)x->r->id,
                 json_string_value(json_object_get(x->tr, "id")));
        wf_actor sys = {.who = NULL, .name = x->a->name, .on_behalf_of = x->a->on_behalf_of,
                        .preauthorized = true};
        wf_change pc = {.transition = chosen, .revision = -1, .comment = comment};
        ok = fire_in(x->reg, x->d, &sys, parent.id, &pc, x->depth + 1, x->failures, err);
        record_clear(&parent);
        if (!ok)
            break;
    }
    json_decref(ids);
    return ok;
}

static bool effect_spawn(fire_ctx *x, const json_t *arg, uf_error *err)
{
    const char *type = json_string_value(json_object_get(arg, "type"));
    const char *tr = json_string_value(json_object_get(arg, "transition"));
    const char *link = json_string_value(json_object_get(arg, "link"));
    json_t *fields = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(arg, "copy"), i, f) {
        json_t *v = json_object_get(x->r->fields, json_string_value(f));
        if (v)
            json_object_set(fields, json_string_value(f), v);
    }
    json_t *links = json_pack("[{s:s, s:I}]", "link", link, "to", (json_int_t)x->r->id);
    wf_actor spawner = {.who = NULL, .name = x->a->name, .preauthorized = true};
    wf_change sc = {.transition = tr, .revision = -1, .fields = fields};
    int64_t id = 0;
    bool ok = create_in(x->reg, x->d, &spawner, x->t->id, type, &sc, links, x->depth + 1, &id,
                        x->failures, err);
    json_decref(fields);
    json_decref(links);
    return ok;
}

/* Effects on other records: run after this record is saved. */
static bool apply_linked_effects(fire_ctx *x, uf_error *err)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(x->tr, "effects"), i, e) {
        json_t *arg;
        bool ok = true;
        if ((arg = json_object_get(e, "parent"))) {
            json_t *when = json_object_get(arg, "when");
            if (!when || when_matches(x->r, when))
                ok = effect_parent(x, arg, err);
        } else if ((arg = json_object_get(e, "spawn"))) {
            json_t *when = json_object_get(arg, "when");
            if (!when || when_matches(x->r, when))
                ok = effect_spawn(x, arg, err);
        }
        if (!ok)
            return false;
    }
    return true;
}

/* ---- guards ----------------------------------------------------------------------- */

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void guard_required(fire_ctx *x)
{
    json_t *lists[2] = {json_object_get(x->tr, "require_fields"),
                        json_object_get(wf_state(x->rtype, x->r->state), "required")};
    json_t *seen = json_object();
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *f;
        json_array_foreach(lists[l], i, f) {
            const char *name = json_string_value(f);
            if (json_object_get(seen, name))
                continue;
            json_object_set_new(seen, name, json_true());
            if (wf_is_empty(json_object_get(x->r->fields, name)))
                wf_fail(x->failures, "require_fields", "field %s is required", name);
        }
    }
    json_decref(seen);
}

static void guard_comment(fire_ctx *x)
{
    json_t *rc = json_object_get(x->tr, "require_comment");
    if (!rc)
        return;
    json_int_t min = json_integer_value(json_object_get(rc, "min_length"));
    if (min < 1)
        min = 1;
    size_t n = x->c->comment ? utf8_length(x->c->comment) : 0;
    if (n < (size_t)min)
        wf_fail(x->failures, "require_comment", "a comment of at least %lld characters is required",
                (long long)min);
}

static bool guard_attachments(fire_ctx *x, uf_error *err)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(x->tr, "require_attachments"), i, e) {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        json_int_t min = json_integer_value(json_object_get(e, "min"));
        int64_t n = 0;
        if (!record_count_attachments(x->d, x->r->id, kind, &n, err))
            return false;
        if (n < min)
            wf_fail(x->failures, "require_attachments",
                    "needs %lld attachment(s) of kind %s, has %lld", (long long)min, kind,
                    (long long)n);
    }
    return true;
}

static void guard_checklists(fire_ctx *x)
{
    size_t i, k;
    json_t *f, *item;
    json_array_foreach(json_object_get(x->tr, "checklist_complete"), i, f) {
        json_t *list = json_object_get(x->r->fields, json_string_value(f));
        size_t open = 0;
        json_array_foreach(list, k, item) open += !json_is_true(json_object_get(item, "done"));
        if (open)
            wf_fail(x->failures, "checklist_complete", "%zu item(s) of %s are not done", open,
                    json_string_value(f));
    }
    const char *name;
    json_t *min;
    json_object_foreach(json_object_get(x->tr, "checklist_min"), name, min) {
        size_t n = json_array_size(json_object_get(x->r->fields, name));
        if ((json_int_t)n < json_integer_value(min))
            wf_fail(x->failures, "checklist_min", "%s needs at least %lld item(s), has %zu", name,
                    (long long)json_integer_value(min), n);
    }
}

static bool guard_sod(fire_ctx *x, uf_error *err)
{
    json_t *sod = json_object_get(x->tr, "sod");
    if (!sod)
        return true;
    const char *person = x->a->on_behalf_of ? x->a->on_behalf_of : x->a->name;
    if (json_is_true(json_object_get(sod, "not_creator")) && strcmp(person, x->r->created_by) == 0)
        wf_fail(x->failures, "sod", "%s created this record and may not also do this", person);
    json_t *trs = json_object_get(sod, "not_actor_of");
    if (trs) {
        bool fired;
        if (!record_actor_fired(x->d, x->r->id, person, trs, &fired, err))
            return false;
        if (fired) {
            char *names = json_dumps(trs, JSON_COMPACT);
            wf_fail(x->failures, "sod", "%s fired %s on this record and may not also do this",
                    person, names ? names : "?");
            free(names);
        }
    }
    return true;
}

static bool guard_approval(fire_ctx *x, uf_error *err)
{
    if (!json_object_get(x->tr, "approval"))
        return true;
    bool met;
    json_t *status = NULL;
    if (!wf_approval_status(x->d, x->t, x->rtype, x->tr, x->r, &met, &status, err))
        return false;
    if (!met)
        wf_fail(x->failures, "approval", "approval not met: %lld of %lld approvals%s%s",
                (long long)json_integer_value(json_object_get(status, "approved")),
                (long long)json_integer_value(json_object_get(status, "needed")),
                json_object_get(status, "rejected_by") ? ", rejected by " : "",
                json_object_get(status, "rejected_by")
                    ? json_string_value(json_object_get(status, "rejected_by"))
                    : "");
    json_decref(status);
    return true;
}

static bool guard_linked(fire_ctx *x, uf_error *err)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(x->tr, "linked"), i, g) {
        const char *link = json_string_value(json_object_get(g, "link"));
        json_int_t min = json_object_get(g, "min") ? json_integer_value(json_object_get(g, "min")) : 1;
        json_t *ids = record_linked(x->d, x->r->id, link, err);
        if (!ids)
            return false;
        json_int_t good = 0;
        size_t k, s;
        json_t *id, *st;
        json_array_foreach(ids, k, id) {
            wf_record o;
            if (!record_load(x->d, json_integer_value(id), &o, err)) {
                json_decref(ids);
                return false;
            }
            json_array_foreach(json_object_get(g, "states"), s, st) good += strcmp(o.state, json_string_value(st)) == 0;
            record_clear(&o);
        }
        json_decref(ids);
        if (good < min) {
            char *states = json_dumps(json_object_get(g, "states"), JSON_COMPACT);
            wf_fail(x->failures, "linked", "needs %lld %s record(s) in %s, has %lld", (long long)min,
                    link, states ? states : "?", (long long)good);
            free(states);
        }
    }
    return true;
}

static bool evaluate_guards(fire_ctx *x, uf_error *err)
{
    guard_required(x);
    guard_comment(x);
    guard_checklists(x);
    return guard_attachments(x, err) && guard_sod(x, err) && guard_linked(x, err) &&
           guard_approval(x, err);
}

static bool claim_unique_fields(fire_ctx *x, uf_error *err)
{
    const char *name;
    json_t *def;
    json_object_foreach(json_object_get(x->rtype, "fields"), name, def) {
        if (!json_is_true(json_object_get(def, "unique")))
            continue;
        const char *v = json_string_value(json_object_get(x->r->fields, name));
        if (v && *v && !record_claim_unique(x->d, x->r, name, v, err))
            return false;
    }
    return true;
}

/* ---- the sequence ------------------------------------------------------------------ */

static bool write_comment(fire_ctx *x, uf_error *err)
{
    if (!x->c->comment || !*x->c->comment)
        return true;
    /* a reason the template says goes to the customer is customer-visible */
    bool visible = x->c->comment_customer_visible ||
                   json_is_true(json_object_get(json_object_get(x->tr, "require_comment"),
                                                "customer_visible"));
    return db_exec(x->d,
                   "INSERT INTO comments (record_id, author, body, customer_visible, created_at)"
                   " VALUES ($1, $2, $3, $4, $5)",
                   DB_ARGS(db_int(x->r->id), db_text(x->a->name), db_text(x->c->comment),
                           db_int(visible), db_int((int64_t)time(NULL))),
                   err);
}

static bool write_audit_and_history(fire_ctx *x, const char *from_state, uf_error *err)
{
    const char *tid = json_string_value(json_object_get(x->tr, "id"));
    json_t *detail = json_pack("{s:s, s:o, s:s, s:O, s:I}", "transition", tid, "from",
                               from_state ? json_string(from_state) : json_null(), "to",
                               x->r->state, "changes", x->changes, "revision",
                               (json_int_t)x->r->revision);
    if (x->c->comment && *x->c->comment)
        json_object_set_new(detail, "comment", json_string(x->c->comment));
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)x->r->id);
    audit_entry e = {.actor = x->a->name, .on_behalf_of = x->a->on_behalf_of,
                     .action = from_state ? "record.transition" : "record.create",
                     .object_kind = "record", .object_id = idtext,
                     .template_version = x->r->template_version, .detail = detail};
    int64_t seq = 0;
    bool ok = audit_append(x->d, &e, &seq, err) &&
              record_add_history(x->d, x->r, seq, tid, from_state, x->a->name, x->a->on_behalf_of,
                                 now_ms(), err) &&
              notify_transition(x->d, x->reg, x->r, tid, from_state, x->a->name, detail, err);
    json_decref(detail);
    return ok;
}

/* Shared tail of create and fire: effects, guards, write. from_state NULL for a create. */
static bool run(fire_ctx *x, const char *from_state, uf_error *err)
{
    if (x->depth > WF_MAX_CASCADE)
        return uf_error_set(err, UF_E_CONFLICT, "effects on linked records nest too deep");
    /* inputs are judged by the rules of the state the record is in when the request comes */
    if (!apply_inputs(x, err) || !check_scope_change(x, err))
        return false;
    snprintf(x->r->state, sizeof x->r->state, "%s",
             json_string_value(json_object_get(x->tr, "to")));
    apply_local_effects(x);
    wf_scope_from_fields(x->rtype, x->r);
    size_t before = json_array_size(x->failures);
    if (!evaluate_guards(x, err))
        return false;
    if (json_array_size(x->failures) > before)
        return uf_error_set(err, UF_E_GUARD, "transition %s: %zu guard(s) not met",
                            json_string_value(json_object_get(x->tr, "id")),
                            json_array_size(x->failures) - before);
    bool saved = from_state ? record_save(x->d, x->r, err) : true;
    return saved && claim_unique_fields(x, err) && write_comment(x, err) &&
           write_audit_and_history(x, from_state, err) && apply_linked_effects(x, err) &&
           json_array_size(x->failures) == before;
}

/* Link a new record to an existing one the actor may see: {"link": NAME, "to": ID}. */
static bool add_link(const wf_registry *reg, db *d, const wf_actor *a, int64_t from,
                     const json_t *l, size_t index, uf_error *err)
{
    const char *link = json_string_value(json_object_get(l, "link"));
    json_int_t to = json_integer_value(json_object_get(l, "to"));
    if (!link || !*link || to <= 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "links[%zu]: expected {\"link\": NAME, \"to\": ID}",
                            index);
    wf_record other;
    if (!record_load(d, to, &other, err))
        return uf_error_prefix(err, "links[%zu]", index);
    bool visible = !a->who || a->preauthorized || wf_can_see(reg, a->who, &other);
    record_clear(&other);
    if (!visible)
        return uf_error_set(err, UF_E_NOT_FOUND, "links[%zu]: no record %lld", index, (long long)to);
    return record_link(d, from, link, to, err);
}

static bool create_in(const wf_registry *reg, db *d, const wf_actor *a, const char *template_id,
                      const char *type, const wf_change *c, const json_t *links, int depth,
                      int64_t *record_id, json_t *failures, uf_error *err)
{
    const wf_template *t = wf_registry_get(reg, template_id, 0);
    if (!t)
        return uf_error_set(err, UF_E_NOT_FOUND, "no template %s", template_id);
    const json_t *rtype = wf_record_type(t, type);
    if (!rtype)
        return uf_error_set(err, UF_E_NOT_FOUND, "template %s has no record type %s", template_id, type);
    const json_t *tr = c->transition ? wf_transition(rtype, c->transition) : wf_create_transition(rtype);
    if (!tr || !wf_transition_is_create(tr))
        return uf_error_set(err, UF_E_CONFLICT, "%s is not a create transition of %s",
                            c->transition ? c->transition : "(none)", type);
    wf_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.template_id, sizeof r.template_id, "%s", t->id);
    r.template_version = t->version;
    snprintf(r.type, sizeof r.type, "%s", type);
    snprintf(r.state, sizeof r.state, "%s", json_string_value(json_object_get(tr, "to")));
    snprintf(r.created_by, sizeof r.created_by, "%s", a->name);
    r.fields = json_object();
    fire_ctx x = {.d = d, .reg = reg, .a = a, .c = c, .t = t, .rtype = rtype, .tr = tr, .r = &r,
                  .failures = failures, .changes = json_object(), .depth = depth};
    /* scope comes from the request's fields, so that scoped roles can be checked */
    if (c->fields) {
        json_object_update(r.fields, (json_t *)(uintptr_t)c->fields);
        wf_scope_from_fields(rtype, &r);
        json_object_clear(r.fields);
    }
    char why[256];
    bool ok;
    if (!may_fire(&x, why, sizeof why))
        ok = uf_error_set(err, UF_E_FORBIDDEN, "%s", why);
    else if (a->who && a->who->customer[0] && strcmp(a->who->customer, r.customer) != 0)
        ok = uf_error_set(err, UF_E_FORBIDDEN, "a customer-side user creates records of its own customer only");
    else
        ok = record_insert(d, &r, err);
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l) {
        if (!ok)
            break;
        ok = add_link(reg, d, a, r.id, l, i, err);
    }
    ok = ok && run(&x, NULL, err) && record_write_created(d, &r, err);
    if (ok && record_id)
        *record_id = r.id;
    json_decref(x.changes);
    record_clear(&r);
    return ok;
}

static bool fire_in(const wf_registry *reg, db *d, const wf_actor *a, int64_t record_id,
                    const wf_change *c, int depth, json_t *failures, uf_error *err)
{
    wf_record r;
    if (!record_load(d, record_id, &r, err))
        return false;
    bool ok = false;
    const wf_template *t = wf_registry_get(reg, r.template_id, r.template_version);
    const json_t *rtype = t ? wf_record_type(t, r.type) : NULL;
    const json_t *tr = rtype && c->transition ? wf_transition(rtype, c->transition) : NULL;
    fire_ctx x = {.d = d, .reg = reg, .a = a, .c = c, .t = t, .rtype = rtype, .tr = tr, .r = &r,
                  .failures = failures, .changes = json_object(), .depth = depth};
    char why[256], from[RECORD_NAME_MAX];
    snprintf(from, sizeof from, "%s", r.state);
    if (a->who && !a->preauthorized && !wf_can_see(reg, a->who, &r))
        uf_error_set(err, UF_E_NOT_FOUND, "no record %lld", (long long)record_id);
    else if (!rtype)
        uf_error_set(err, UF_E_INTERNAL, "record %lld: template %s version %lld is not loaded",
                     (long long)record_id, r.template_id, (long long)r.template_version);
    else if (c->revision >= 0 && c->revision != r.revision)
        uf_error_set(err, UF_E_CONFLICT,
                     "record %lld is at revision %lld, not %lld: someone changed it meanwhile; "
                     "reload it and try again",
                     (long long)record_id, (long long)r.revision, (long long)c->revision);
    else if (!tr)
        uf_error_set(err, UF_E_NOT_FOUND, "%s has no transition %s", r.type,
                     c->transition ? c->transition : "(none)");
    else if (wf_transition_is_create(tr) || !wf_transition_allowed_from(rtype, tr, r.state))
        uf_error_set(err, UF_E_CONFLICT, "transition %s is not allowed from state %s",
                     c->transition, r.state);
    else if (!may_fire(&x, why, sizeof why))
        uf_error_set(err, UF_E_FORBIDDEN, "%s", why);
    else
        ok = run(&x, from, err);
    json_decref(x.changes);
    record_clear(&r);
    return ok;
}

bool wf_create_linked(db *d, const wf_registry *reg, const wf_actor *a, const char *template_id,
                      const char *type, const wf_change *c, const json_t *links,
                      int64_t *record_id, json_t **failures, uf_error *err)
{
    *failures = json_array();
    return create_in(reg, d, a, template_id, type, c, links, 0, record_id, *failures, err);
}

bool wf_fire_into(db *d, const wf_registry *reg, const wf_actor *a, int64_t record_id,
                  const wf_change *c, json_t *failures, uf_error *err)
{
    return fire_in(reg, d, a, record_id, c, 0, failures, err);
}

bool wf_fire(db *d, const wf_registry *reg, const wf_actor *a, int64_t record_id,
             const wf_change *c, json_t **failures, uf_error *err)
{
    *failures = json_array();
    return fire_in(reg, d, a, record_id, c, 0, *failures, err);
}

bool wf_edit(db *d, const wf_registry *reg, const wf_actor *a, int64_t record_id,
             int64_t revision, const json_t *fields, uf_error *err)
{
    wf_record r;
    if (!record_load(d, record_id, &r, err))
        return false;
    const wf_template *t = wf_registry_get(reg, r.template_id, r.template_version);
    const json_t *rtype = t ? wf_record_type(t, r.type) : NULL;
    bool ok = false;
    wf_change c = {.revision = revision, .fields = fields};
    fire_ctx x = {.d = d, .reg = reg, .a = a, .c = &c, .t = t, .rtype = rtype, .r = &r,
                  .changes = json_object()};
    if (a->who && !wf_can_see(reg, a->who, &r))
        uf_error_set(err, UF_E_NOT_FOUND, "no record %lld", (long long)record_id);
    else if (!rtype)
        uf_error_set(err, UF_E_INTERNAL, "record %lld: its template is not loaded", (long long)record_id);
    else if (revision != r.revision)
        uf_error_set(err, UF_E_CONFLICT, "record %lld is at revision %lld, not %lld: reload it "
                     "and try again", (long long)record_id, (long long)r.revision, (long long)revision);
    else if (a->who && !wf_has_template_role(t, a->who, &r))
        uf_error_set(err, UF_E_FORBIDDEN, "%s holds no role of template %s here", a->name, t->id);
    else if (apply_inputs(&x, err) && check_scope_change(&x, err) && record_save(d, &r, err) &&
             claim_unique_fields(&x, err)) {
        char idtext[32];
        snprintf(idtext, sizeof idtext, "%lld", (long long)r.id);
        json_t *detail = json_pack("{s:O, s:I}", "changes", x.changes, "revision", (json_int_t)r.revision);
        audit_entry e = {.actor = a->name, .action = "record.edit", .object_kind = "record",
                         .object_id = idtext, .template_version = r.template_version,
                         .detail = detail};
        ok = audit_append(d, &e, NULL, err);
        json_decref(detail);
    }
    json_decref(x.changes);
    record_clear(&r);
    return ok;
}
