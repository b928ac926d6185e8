/*
 * template.c - validation and lookups for workflow templates (see template.h and
 * docs/templates.md). Every check names the JSON path of what it rejects.
 */
#include "server/template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/canonical_json.h"
#include "lib/json.h"

typedef struct vctx {
    json_t *doc;
    json_t *rtype;      /* record type being checked */
    const char *rtype_name;
    uf_error *err;
} vctx;

static const char *const field_types[] = {"string", "text",  "integer",   "boolean", "date",
                                          "datetime", "enum", "user", "checklist", "record",
                                          NULL};
static const char *const categories[] = {"new",  "active", "queue",     "waiting",
                                         "approval", "done", "cancelled", NULL};

static bool in_list(const char *s, const char *const list[])
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool name_ok(const char *s, bool upper)
{
    if (!*s || strlen(s) > 63)
        return false;
    for (const char *p = s; *p; p++) {
        bool letter = upper ? isupper((unsigned char)*p) : islower((unsigned char)*p);
        if (!letter && !isdigit((unsigned char)*p) && *p != '_')
            return false;
    }
    return true;
}

static bool bad(vctx *v, const char *path, const char *what, const char *name)
{
    return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: %s \"%s\"", path, what, name);
}

/* The members of arr must all be strings for which check(v, s) holds. */
static bool each_string(vctx *v, const json_t *arr, const char *path,
                        bool (*check)(vctx *, const char *), const char *what)
{
    if (!json_is_array(arr))
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: expected array, got %s", path,
                            uf_json_type_name(arr));
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        char p[256];
        uf_json_path_index(p, sizeof p, path, i);
        if (!json_is_string(e))
            return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: expected string, got %s", p,
                                uf_json_type_name(e));
        if (check && !check(v, json_string_value(e)))
            return bad(v, p, what, json_string_value(e));
    }
    return true;
}

static bool is_role(vctx *v, const char *r)
{
    json_t *roles = json_object_get(v->doc, "roles");
    size_t i;
    json_t *e;
    json_array_foreach(roles, i, e) if (strcmp(json_string_value(e), r) == 0) return true;
    return false;
}

static bool is_state(vctx *v, const char *s)
{
    return wf_state(v->rtype, s) != NULL;
}

static bool is_state_or_any(vctx *v, const char *s)
{
    return strcmp(s, "*") == 0 || is_state(v, s);
}

static bool is_field(vctx *v, const char *f) { return wf_field(v->rtype, f) != NULL; }

static bool is_transition(vctx *v, const char *id) { return wf_transition(v->rtype, id) != NULL; }

static bool is_relation(vctx *v, const char *r)
{
    if (strcmp(r, "creator") == 0 || strcmp(r, "assignee") == 0)
        return true;
    json_t *f = wf_field(v->rtype, r);
    return f && strcmp(json_string_value(json_object_get(f, "type")), "user") == 0;
}

static bool field_of_type(vctx *v, const char *path, const char *name, const char *type)
{
    json_t *f = wf_field(v->rtype, name);
    if (!f)
        return bad(v, path, "unknown field", name);
    if (type && strcmp(json_string_value(json_object_get(f, "type")), type) != 0)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: field \"%s\" is not of type %s", path,
                            name, type);
    return true;
}

static bool check_field(vctx *v, const char *path, const char *name, json_t *f)
{
    static const char *const keys[] = {"type", "label", "values", "customer_visible", "readonly",
                                       "unique", "visible_to", "min_length", NULL};
    const char *type;
    if (!name_ok(name, false))
        return bad(v, path, "field names use a-z, 0-9 and _, got", name);
    if (!uf_json_only_keys(f, path, keys, v->err) ||
        !uf_json_get_string(f, path, "type", &type, v->err))
        return false;
    if (!in_list(type, field_types))
        return bad(v, path, "unknown field type", type);
    json_t *values = json_object_get(f, "values");
    char p[256];
    uf_json_path_key(p, sizeof p, path, "values");
    if (strcmp(type, "enum") == 0) {
        if (!values || (json_is_array(values) && json_array_size(values) == 0))
            return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: an enum needs a non-empty list", p);
        if (!each_string(v, values, p, NULL, ""))
            return false;
    }
    bool b;
    int64_t n;
    json_t *roles = NULL;
    uf_json_path_key(p, sizeof p, path, "visible_to");
    return uf_json_opt_bool(f, path, "customer_visible", &b, v->err) &&
           uf_json_opt_bool(f, path, "readonly", &b, v->err) &&
           uf_json_opt_bool(f, path, "unique", &b, v->err) &&
           uf_json_opt_int(f, path, "min_length", &n, v->err) &&
           uf_json_opt_array(f, path, "visible_to", &roles, v->err) &&
           (!roles || each_string(v, roles, p, is_role, "unknown role"));
}

static bool check_state(vctx *v, const char *path, const char *code, json_t *s)
{
    static const char *const keys[] = {"label", "category", "assignee_role", "required",
                                       "terminal", "field_rules", NULL};
    const char *category, *role = NULL;
    if (!name_ok(code, true))
        return bad(v, path, "state codes use A-Z, 0-9 and _, got", code);
    if (!uf_json_only_keys(s, path, keys, v->err) ||
        !uf_json_get_string(s, path, "category", &category, v->err) ||
        !uf_json_opt_string(s, path, "assignee_role", &role, v->err))
        return false;
    if (!in_list(category, categories))
        return bad(v, path, "unknown category", category);
    if (role && !is_role(v, role))
        return bad(v, path, "unknown role", role);
    char p[256];
    json_t *req = NULL, *rules = NULL;
    bool b;
    uf_json_path_key(p, sizeof p, path, "required");
    if (!uf_json_opt_bool(s, path, "terminal", &b, v->err) ||
        !uf_json_opt_array(s, path, "required", &req, v->err) ||
        (req && !each_string(v, req, p, is_field, "unknown field")) ||
        !uf_json_opt_object(s, path, "field_rules", &rules, v->err))
        return false;
    const char *role_name;
    json_t *fr;
    json_object_foreach(rules, role_name, fr) {
        char rp[256];
        uf_json_path_key(rp, sizeof rp, p, role_name);
        if (!is_role(v, role_name))
            return bad(v, rp, "unknown role", role_name);
        if (!json_is_object(fr))
            return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: expected object", rp);
        const char *fname;
        json_t *rule;
        json_object_foreach(fr, fname, rule) {
            char fp[256];
            uf_json_path_key(fp, sizeof fp, rp, fname);
            if (!is_field(v, fname))
                return bad(v, fp, "unknown field", fname);
            static const char *const kinds[] = {"hidden", "readonly", "required", NULL};
            if (!json_is_string(rule) || !in_list(json_string_value(rule), kinds))
                return uf_error_set(v->err, UF_E_BAD_FIELD,
                                    "%s: expected \"hidden\", \"readonly\" or \"required\"", fp);
        }
    }
    return true;
}

static bool check_approval(vctx *v, const char *path, json_t *a)
{
    static const char *const keys[] = {"roles", "quorum", "exclude", "bind_fields", "auto_fire",
                                       "on_reject", "reject_requires_comment", "proxy", NULL};
    json_t *roles, *quorum, *exclude = NULL, *bind = NULL, *proxy = NULL;
    const char *on_reject = NULL;
    bool b;
    char p[256];
    if (!uf_json_only_keys(a, path, keys, v->err) ||
        !uf_json_get_array(a, path, "roles", &roles, v->err) ||
        !uf_json_get_object(a, path, "quorum", &quorum, v->err))
        return false;
    uf_json_path_key(p, sizeof p, path, "roles");
    if (!each_string(v, roles, p, is_role, "unknown role"))
        return false;
    uf_json_path_key(p, sizeof p, path, "quorum");
    static const char *const qkeys[] = {"count", "percent", "all", NULL};
    int64_t n;
    if (!uf_json_only_keys(quorum, p, qkeys, v->err))
        return false;
    if (json_object_size(quorum) != 1)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: give exactly one of count, percent, all", p);
    if (!uf_json_opt_int(quorum, p, "count", &n, v->err) ||
        !uf_json_opt_int(quorum, p, "percent", &n, v->err) ||
        !uf_json_opt_bool(quorum, p, "all", &b, v->err))
        return false;
    if (!uf_json_opt_array(a, path, "exclude", &exclude, v->err) ||
        !uf_json_opt_array(a, path, "bind_fields", &bind, v->err) ||
        !uf_json_opt_bool(a, path, "auto_fire", &b, v->err) ||
        !uf_json_opt_bool(a, path, "reject_requires_comment", &b, v->err) ||
        !uf_json_opt_string(a, path, "on_reject", &on_reject, v->err) ||
        !uf_json_opt_object(a, path, "proxy", &proxy, v->err))
        return false;
    uf_json_path_key(p, sizeof p, path, "bind_fields");
    if (bind && !each_string(v, bind, p, is_field, "unknown field"))
        return false;
    uf_json_path_key(p, sizeof p, path, "exclude");
    if (exclude && !each_string(v, exclude, p, NULL, ""))
        return false;
    size_t i;
    json_t *e;
    json_array_foreach(exclude, i, e) {
        const char *x = json_string_value(e);
        char xp[256];
        uf_json_path_index(xp, sizeof xp, p, i);
        if (strcmp(x, "creator") == 0 || strcmp(x, "assignee") == 0)
            continue;
        if (strncmp(x, "actors_of:", 10) == 0 && is_transition(v, x + 10))
            continue;
        return bad(v, xp, "expected creator, assignee or actors_of:TRANSITION, got", x);
    }
    uf_json_path_key(p, sizeof p, path, "on_reject");
    if (on_reject && !is_transition(v, on_reject))
        return bad(v, p, "unknown transition", on_reject);
    if (proxy) {
        static const char *const pkeys[] = {"roles", "evidence_kind", "principal_role", NULL};
        const char *kind, *principal;
        json_t *proles;
        uf_json_path_key(p, sizeof p, path, "proxy");
        char rp[256];
        uf_json_path_key(rp, sizeof rp, p, "roles");
        if (!uf_json_only_keys(proxy, p, pkeys, v->err) ||
            !uf_json_get_array(proxy, p, "roles", &proles, v->err) ||
            !each_string(v, proles, rp, is_role, "unknown role") ||
            !uf_json_get_string(proxy, p, "evidence_kind", &kind, v->err) ||
            !uf_json_get_string(proxy, p, "principal_role", &principal, v->err))
            return false;
        if (!is_role(v, principal))
            return bad(v, p, "unknown principal_role", principal);
    }
    return true;
}

static bool check_effect(vctx *v, const char *path, json_t *e)
{
    if (!json_is_object(e) || json_object_size(e) != 1)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: an effect is an object with one key", path);
    const char *kind = json_object_iter_key(json_object_iter(e));
    json_t *arg = json_object_get(e, kind);
    char p[256];
    uf_json_path_key(p, sizeof p, path, kind);
    if (strcmp(kind, "set") == 0 || strcmp(kind, "set_if_empty") == 0) {
        if (!json_is_object(arg))
            return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: expected object", p);
        const char *f;
        json_t *val;
        json_object_foreach(arg, f, val) if (!field_of_type(v, p, f, NULL)) return false;
        return true;
    }
    if (strcmp(kind, "copy") == 0) {
        const char *from, *to;
        bool b;
        return uf_json_get_string(arg, p, "from", &from, v->err) &&
               uf_json_get_string(arg, p, "to", &to, v->err) &&
               uf_json_opt_bool(arg, p, "if_empty", &b, v->err) &&
               field_of_type(v, p, from, NULL) && field_of_type(v, p, to, NULL);
    }
    if (strcmp(kind, "increment") == 0)
        return json_is_string(arg) ? field_of_type(v, p, json_string_value(arg), "integer")
                                   : uf_error_set(v->err, UF_E_BAD_FIELD, "%s: expected a field name", p);
    if (strcmp(kind, "assign") == 0) {
        if (json_is_string(arg))
            return field_of_type(v, p, json_string_value(arg), "user");
        const char *role;
        return uf_json_get_string(arg, p, "role", &role, v->err) &&
               (is_role(v, role) || bad(v, p, "unknown role", role));
    }
    if (strcmp(kind, "parent") == 0 || strcmp(kind, "spawn") == 0) {
        /* these name transitions of other record types: checked after all types are read */
        return json_is_object(arg) ||
               uf_error_set(v->err, UF_E_BAD_FIELD, "%s: expected object", p);
    }
    return bad(v, path, "unknown effect", kind);
}

static bool check_transition(vctx *v, const char *path, json_t *t)
{
    static const char *const keys[] = {"id", "name", "from", "to", "actors", "input",
                                       "require_fields", "require_comment", "require_attachments",
                                       "checklist_complete", "checklist_min", "sod", "approval",
                                       "linked", "effects", "system_only", NULL};
    const char *id, *to;
    json_t *from, *x = NULL;
    char p[256];
    if (!uf_json_only_keys(t, path, keys, v->err) ||
        !uf_json_get_string(t, path, "id", &id, v->err) ||
        !uf_json_get_array(t, path, "from", &from, v->err) ||
        !uf_json_get_string(t, path, "to", &to, v->err))
        return false;
    uf_json_path_key(p, sizeof p, path, "from");
    if (!each_string(v, from, p, is_state_or_any, "unknown state"))
        return false;
    uf_json_path_key(p, sizeof p, path, "to");
    if (!is_state(v, to))
        return bad(v, p, "unknown state", to);
    bool b;
    if (!uf_json_opt_bool(t, path, "system_only", &b, v->err) ||
        !uf_json_opt_object(t, path, "actors", &x, v->err))
        return false;
    if (x) {
        json_t *roles = NULL, *rel = NULL;
        char ap[256], rp[256];
        uf_json_path_key(ap, sizeof ap, path, "actors");
        static const char *const akeys[] = {"roles", "relations", NULL};
        uf_json_path_key(rp, sizeof rp, ap, "roles");
        if (!uf_json_only_keys(x, ap, akeys, v->err) ||
            !uf_json_opt_array(x, ap, "roles", &roles, v->err) ||
            (roles && !each_string(v, roles, rp, is_role, "unknown role")) ||
            !uf_json_opt_array(x, ap, "relations", &rel, v->err))
            return false;
        uf_json_path_key(rp, sizeof rp, ap, "relations");
        if (rel && !each_string(v, rel, rp, is_relation, "unknown relation"))
            return false;
    }
    static const char *const field_lists[] = {"input", "require_fields", "checklist_complete", NULL};
    for (size_t i = 0; field_lists[i]; i++) {
        x = NULL;
        uf_json_path_key(p, sizeof p, path, field_lists[i]);
        if (!uf_json_opt_array(t, path, field_lists[i], &x, v->err) ||
            (x && !each_string(v, x, p, is_field, "unknown field")))
            return false;
    }
    x = NULL;
    if (!uf_json_opt_object(t, path, "require_comment", &x, v->err))
        return false;
    x = NULL;
    if (!uf_json_opt_array(t, path, "require_attachments", &x, v->err))
        return false;
    size_t i;
    json_t *e;
    json_array_foreach(x, i, e) {
        const char *kind;
        int64_t min;
        uf_json_path_key(p, sizeof p, path, "require_attachments");
        char ep[256];
        uf_json_path_index(ep, sizeof ep, p, i);
        if (!uf_json_get_string(e, ep, "kind", &kind, v->err) ||
            !uf_json_get_int_range(e, ep, "min", 1, 1000, &min, v->err))
            return false;
    }
    x = NULL;
    if (!uf_json_opt_object(t, path, "checklist_min", &x, v->err))
        return false;
    const char *f;
    json_object_foreach(x, f, e) {
        uf_json_path_key(p, sizeof p, path, "checklist_min");
        if (!field_of_type(v, p, f, "checklist"))
            return false;
        if (!json_is_integer(e))
            return uf_error_set(v->err, UF_E_BAD_FIELD, "%s.%s: expected integer", p, f);
    }
    x = NULL;
    if (!uf_json_opt_object(t, path, "sod", &x, v->err))
        return false;
    if (x) {
        json_t *actors_of = NULL;
        uf_json_path_key(p, sizeof p, path, "sod");
        static const char *const skeys[] = {"not_creator", "not_actor_of", NULL};
        char sp[256];
        uf_json_path_key(sp, sizeof sp, p, "not_actor_of");
        if (!uf_json_only_keys(x, p, skeys, v->err) ||
            !uf_json_opt_bool(x, p, "not_creator", &b, v->err) ||
            !uf_json_opt_array(x, p, "not_actor_of", &actors_of, v->err) ||
            (actors_of && !each_string(v, actors_of, sp, is_transition, "unknown transition")))
            return false;
    }
    x = NULL;
    uf_json_path_key(p, sizeof p, path, "approval");
    if (!uf_json_opt_object(t, path, "approval", &x, v->err) || (x && !check_approval(v, p, x)))
        return false;
    x = NULL;
    if (!uf_json_opt_array(t, path, "linked", &x, v->err))
        return false;
    json_array_foreach(x, i, e) {
        const char *link;
        json_t *states;
        int64_t min = 1;
        uf_json_path_key(p, sizeof p, path, "linked");
        char ep[256];
        uf_json_path_index(ep, sizeof ep, p, i);
        if (!uf_json_get_string(e, ep, "link", &link, v->err) ||
            !uf_json_get_array(e, ep, "states", &states, v->err) ||
            !uf_json_opt_int(e, ep, "min", &min, v->err) ||
            !each_string(v, states, ep, NULL, ""))
            return false;
    }
    x = NULL;
    if (!uf_json_opt_array(t, path, "effects", &x, v->err))
        return false;
    json_array_foreach(x, i, e) {
        uf_json_path_key(p, sizeof p, path, "effects");
        char ep[256];
        uf_json_path_index(ep, sizeof ep, p, i);
        if (!check_effect(v, ep, e))
            return false;
    }
    return true;
}

static bool check_sla_match(vctx *v, const char *path, json_t *m)
{
    static const char *const keys[] = {"on_enter", "on_transition", "at_field", "in_states", NULL};
    json_t *states = NULL, *trs = NULL, *in = NULL;
    const char *at = NULL;
    char p[256];
    if (!uf_json_only_keys(m, path, keys, v->err) ||
        !uf_json_opt_array(m, path, "on_enter", &states, v->err) ||
        !uf_json_opt_array(m, path, "on_transition", &trs, v->err) ||
        !uf_json_opt_array(m, path, "in_states", &in, v->err) ||
        !uf_json_opt_string(m, path, "at_field", &at, v->err))
        return false;
    uf_json_path_key(p, sizeof p, path, "on_enter");
    if (states && !each_string(v, states, p, is_state, "unknown state"))
        return false;
    uf_json_path_key(p, sizeof p, path, "in_states");
    if (in && !each_string(v, in, p, is_state, "unknown state"))
        return false;
    uf_json_path_key(p, sizeof p, path, "on_transition");
    if (trs && !each_string(v, trs, p, is_transition, "unknown transition"))
        return false;
    uf_json_path_key(p, sizeof p, path, "at_field");
    return !at || field_of_type(v, p, at, "datetime");
}

static bool check_sla(vctx *v, const char *path, json_t *s)
{
    static const char *const keys[] = {"id", "name", "start", "stop", "pause", "cancel",
                                       "target", "warn_at_pct", "cycles", "enabled_by", NULL};
    const char *id, *kind, *cycles = "single", *enabled_by = NULL;
    json_t *start, *stop, *target, *x = NULL;
    char p[256];
    if (!uf_json_only_keys(s, path, keys, v->err) ||
        !uf_json_get_string(s, path, "id", &id, v->err) ||
        !uf_json_get_object(s, path, "start", &start, v->err) ||
        !uf_json_get_object(s, path, "stop", &stop, v->err) ||
        !uf_json_get_object(s, path, "target", &target, v->err) ||
        !uf_json_opt_string(s, path, "cycles", &cycles, v->err) ||
        !uf_json_opt_string(s, path, "enabled_by", &enabled_by, v->err))
        return false;
    static const char *const parts[] = {"start", "stop", "pause", "cancel", NULL};
    for (size_t i = 0; parts[i]; i++) {
        json_t *m = NULL;
        uf_json_path_key(p, sizeof p, path, parts[i]);
        if (!uf_json_opt_object(s, path, parts[i], &m, v->err) || (m && !check_sla_match(v, p, m)))
            return false;
    }
    uf_json_path_key(p, sizeof p, path, "target");
    if (!uf_json_get_string(target, p, "kind", &kind, v->err))
        return false;
    static const char *const kinds[] = {"next_session", "working_minutes", "working_days",
                                        "field_deadline", NULL};
    if (!in_list(kind, kinds))
        return bad(v, p, "unknown target kind", kind);
    int64_t n;
    if ((strcmp(kind, "working_minutes") == 0 || strcmp(kind, "working_days") == 0) &&
        !uf_json_get_int_range(target, p, "value", 1, 1000000, &n, v->err))
        return false;
    const char *field;
    if (strcmp(kind, "field_deadline") == 0 &&
        (!uf_json_get_string(target, p, "field", &field, v->err) ||
         !field_of_type(v, p, field, NULL)))
        return false;
    if (strcmp(cycles, "single") != 0 && strcmp(cycles, "multi") != 0)
        return bad(v, path, "cycles is single or multi, got", cycles);
    if (enabled_by && !json_object_get(json_object_get(v->doc, "settings"), enabled_by))
        return bad(v, path, "enabled_by names no setting", enabled_by);
    (void)x;
    return true;
}

static bool is_sla(vctx *v, const char *id)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(v->rtype, "slas"), i, s) {
        if (strcmp(json_string_value(json_object_get(s, "id")), id) == 0)
            return true;
    }
    return false;
}

static bool is_approval_transition(vctx *v, const char *id)
{
    json_t *tr = wf_transition(v->rtype, id);
    return tr && json_object_get(tr, "approval") != NULL;
}

static bool is_channel(vctx *v, const char *c)
{
    (void)v;
    return strcmp(c, "inapp") == 0 || strcmp(c, "webhook") == 0;
}

/* A notification rule: {"on", "transitions" | "slas", "to", "channels", "working_hours_only"}. */
static bool check_notify_rule(vctx *v, const char *path, json_t *rule)
{
    static const char *const keys[] = {"on", "transitions", "slas", "to", "channels",
                                       "working_hours_only", NULL};
    static const char *const events[] = {"transition", "approval_requested", "sla_warning",
                                         "sla_breach", "comment", NULL};
    const char *on;
    json_t *trs = NULL, *slas = NULL, *to = NULL, *channels;
    bool b;
    char p[256];
    if (!json_is_object(rule))
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: expected object", path);
    if (!uf_json_only_keys(rule, path, keys, v->err) ||
        !uf_json_get_string(rule, path, "on", &on, v->err) ||
        !uf_json_opt_array(rule, path, "transitions", &trs, v->err) ||
        !uf_json_opt_array(rule, path, "slas", &slas, v->err) ||
        !uf_json_opt_object(rule, path, "to", &to, v->err) ||
        !uf_json_get_array(rule, path, "channels", &channels, v->err) ||
        !uf_json_opt_bool(rule, path, "working_hours_only", &b, v->err))
        return false;
    uf_json_path_key(p, sizeof p, path, "on");
    if (!in_list(on, events))
        return bad(v, p, "expected transition, approval_requested, sla_warning, sla_breach or "
                   "comment, got", on);
    bool about_transitions = strcmp(on, "transition") == 0 || strcmp(on, "approval_requested") == 0;
    bool about_slas = strncmp(on, "sla_", 4) == 0;
    uf_json_path_key(p, sizeof p, path, "transitions");
    if (trs && !about_transitions)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: only for on transition or "
                            "approval_requested", p);
    if (trs && !each_string(v, trs, p, is_transition, "unknown transition"))
        return false;
    if (trs && strcmp(on, "approval_requested") == 0 &&
        !each_string(v, trs, p, is_approval_transition, "not a transition with an approval"))
        return false;
    uf_json_path_key(p, sizeof p, path, "slas");
    if (slas && !about_slas)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: only for on sla_warning or sla_breach", p);
    if (slas && !each_string(v, slas, p, is_sla, "unknown SLA"))
        return false;
    uf_json_path_key(p, sizeof p, path, "channels");
    if (json_array_size(channels) == 0)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: name at least one channel", p);
    if (!each_string(v, channels, p, is_channel, "expected inapp or webhook, got"))
        return false;
    bool inapp = false;
    size_t i;
    json_t *e;
    json_array_foreach(channels, i, e) inapp |= strcmp(json_string_value(e), "inapp") == 0;
    uf_json_path_key(p, sizeof p, path, "to");
    if (!to)
        return !inapp || uf_error_set(v->err, UF_E_BAD_FIELD, "%s: an inapp rule names its "
                                      "recipients", p);
    static const char *const to_keys[] = {"roles", "relations", "approvers", "assignee_role", NULL};
    json_t *roles = NULL, *relations = NULL;
    bool approvers = false, assignee_role = false;
    char q[256];
    if (!uf_json_only_keys(to, p, to_keys, v->err) ||
        !uf_json_opt_array(to, p, "roles", &roles, v->err) ||
        !uf_json_opt_array(to, p, "relations", &relations, v->err) ||
        !uf_json_opt_bool(to, p, "approvers", &approvers, v->err) ||
        !uf_json_opt_bool(to, p, "assignee_role", &assignee_role, v->err))
        return false;
    uf_json_path_key(q, sizeof q, p, "roles");
    if (roles && !each_string(v, roles, q, is_role, "unknown role"))
        return false;
    uf_json_path_key(q, sizeof q, p, "relations");
    if (relations && !each_string(v, relations, q, is_relation,
                                  "expected creator, assignee or a user field, got"))
        return false;
    uf_json_path_key(q, sizeof q, p, "approvers");
    if (approvers && strcmp(on, "approval_requested") != 0)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: only for on approval_requested", q);
    uf_json_path_key(q, sizeof q, p, "assignee_role");
    if (assignee_role && strcmp(on, "transition") != 0)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: only for on transition", q);
    if (inapp && json_array_size(roles) == 0 && json_array_size(relations) == 0 && !approvers &&
        !assignee_role)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: an inapp rule names its recipients", p);
    return true;
}

static bool check_record_type(vctx *v, const char *path, const char *name, json_t *rt)
{
    static const char *const keys[] = {"label", "scope", "fields", "states", "transitions",
                                       "slas", "notify", NULL};
    json_t *fields, *states, *transitions, *slas = NULL, *scope = NULL, *notify = NULL;
    char p[256];
    if (!name_ok(name, true))
        return bad(v, path, "record type names use A-Z, 0-9 and _, got", name);
    if (!uf_json_only_keys(rt, path, keys, v->err) ||
        !uf_json_get_object(rt, path, "fields", &fields, v->err) ||
        !uf_json_get_object(rt, path, "states", &states, v->err) ||
        !uf_json_get_array(rt, path, "transitions", &transitions, v->err) ||
        !uf_json_opt_array(rt, path, "slas", &slas, v->err) ||
        !uf_json_opt_array(rt, path, "notify", &notify, v->err) ||
        !uf_json_opt_object(rt, path, "scope", &scope, v->err))
        return false;
    v->rtype = rt;
    v->rtype_name = name;
    const char *key;
    json_t *e;
    char base[256];
    uf_json_path_key(base, sizeof base, path, "fields");
    json_object_foreach(fields, key, e) {
        uf_json_path_key(p, sizeof p, base, key);
        if (!check_field(v, p, key, e))
            return false;
    }
    if (scope) {
        const char *f = NULL;
        uf_json_path_key(p, sizeof p, path, "scope");
        if (!uf_json_opt_string(scope, p, "customer_field", &f, v->err) ||
            (f && !field_of_type(v, p, f, NULL)))
            return false;
        f = NULL;
        if (!uf_json_opt_string(scope, p, "product_field", &f, v->err) ||
            (f && !field_of_type(v, p, f, NULL)))
            return false;
    }
    uf_json_path_key(base, sizeof base, path, "states");
    if (json_object_size(states) == 0)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: no states", base);
    json_object_foreach(states, key, e) {
        uf_json_path_key(p, sizeof p, base, key);
        if (!check_state(v, p, key, e))
            return false;
    }
    uf_json_path_key(base, sizeof base, path, "transitions");
    size_t i, creates = 0;
    json_array_foreach(transitions, i, e) {
        uf_json_path_index(p, sizeof p, base, i);
        if (!check_transition(v, p, e))
            return false;
        const char *id = json_string_value(json_object_get(e, "id"));
        if (wf_transition(rt, id) != e)
            return bad(v, p, "duplicate transition id", id);
        creates += wf_transition_is_create(e);
    }
    if (creates == 0)
        return uf_error_set(v->err, UF_E_BAD_FIELD, "%s: no create transition (\"from\": [])", base);
    uf_json_path_key(base, sizeof base, path, "slas");
    json_array_foreach(slas, i, e) {
        uf_json_path_index(p, sizeof p, base, i);
        if (!check_sla(v, p, e))
            return false;
    }
    uf_json_path_key(base, sizeof base, path, "notify");
    json_array_foreach(notify, i, e) {
        uf_json_path_index(p, sizeof p, base, i);
        if (!check_notify_rule(v, p, e))
            return false;
    }
    return true;
}

/* parent / spawn effects name other record types' transitions: checked once all are known. */
static bool check_cross_refs(vctx *v)
{
    json_t *types = json_object_get(v->doc, "record_types");
    const char *tname;
    json_t *rt;
    json_object_foreach(types, tname, rt) {
        json_t *trs = json_object_get(rt, "transitions");
        size_t i, j;
        json_t *t, *e;
        json_array_foreach(trs, i, t) {
            json_array_foreach(json_object_get(t, "effects"), j, e) {
                char p[256];
                snprintf(p, sizeof p, "record_types.%s.transitions[%zu].effects[%zu]", tname, i, j);
                json_t *arg;
                if ((arg = json_object_get(e, "spawn"))) {
                    const char *type, *tr, *link;
                    if (!uf_json_get_string(arg, p, "type", &type, v->err) ||
                        !uf_json_get_string(arg, p, "transition", &tr, v->err) ||
                        !uf_json_get_string(arg, p, "link", &link, v->err))
                        return false;
                    json_t *target = json_object_get(types, type);
                    if (!target)
                        return bad(v, p, "unknown record type", type);
                    json_t *ctr = wf_transition(target, tr);
                    if (!ctr || !wf_transition_is_create(ctr))
                        return bad(v, p, "not a create transition of that type", tr);
                } else if ((arg = json_object_get(e, "parent"))) {
                    const char *link;
                    json_t *try_list;
                    if (!uf_json_get_string(arg, p, "link", &link, v->err) ||
                        !uf_json_get_array(arg, p, "try", &try_list, v->err) ||
                        !each_string(v, try_list, p, NULL, ""))
                        return false;
                    /* which type the parent is depends on the link; every try must exist in
                     * at least one record type of the template */
                    size_t k;
                    json_t *name;
                    json_array_foreach(try_list, k, name) {
                        bool found = false;
                        const char *on;
                        json_t *ort;
                        json_object_foreach(types, on, ort) found |= wf_transition(ort, json_string_value(name)) != NULL;
                        if (!found)
                            return bad(v, p, "unknown transition", json_string_value(name));
                    }
                }
            }
        }
    }
    return true;
}

static bool validate(json_t *doc, uf_error *err)
{
    static const char *const keys[] = {"id", "version", "name", "calendar", "roles", "settings",
                                       "record_types", "description", NULL};
    vctx v = {.doc = doc, .err = err};
    const char *id, *name, *cal = NULL;
    int64_t version;
    json_t *roles, *types, *settings = NULL;
    if (!json_is_object(doc))
        return uf_error_set(err, UF_E_BAD_FIELD, "a template is a JSON object");
    if (!uf_json_only_keys(doc, "", keys, err) || !uf_json_get_string(doc, "", "id", &id, err) ||
        !uf_json_get_int_range(doc, "", "version", 1, 1000000, &version, err) ||
        !uf_json_get_string(doc, "", "name", &name, err) ||
        !uf_json_opt_string(doc, "", "calendar", &cal, err) ||
        !uf_json_get_array(doc, "", "roles", &roles, err) ||
        !uf_json_opt_object(doc, "", "settings", &settings, err) ||
        !uf_json_get_object(doc, "", "record_types", &types, err))
        return false;
    for (const char *p = id; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return bad(&v, "id", "use a-z, 0-9 and -, got", id);
    if (!*id || strlen(id) > 63)
        return uf_error_set(err, UF_E_BAD_FIELD, "id: 1 to 63 characters");
    if (!each_string(&v, roles, "roles", NULL, ""))
        return false;
    size_t i;
    json_t *e;
    json_array_foreach(roles, i, e) if (!name_ok(json_string_value(e), false)) return bad(&v, "roles", "role names use a-z, 0-9 and _, got", json_string_value(e));
    const char *key;
    json_object_foreach(settings, key, e) if (!json_is_boolean(e)) return uf_error_set(err, UF_E_BAD_FIELD, "settings.%s: expected boolean", key);
    if (json_object_size(types) == 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "record_types: none defined");
    json_object_foreach(types, key, e) {
        char p[256];
        uf_json_path_key(p, sizeof p, "record_types", key);
        if (!check_record_type(&v, p, key, e))
            return false;
    }
    return check_cross_refs(&v);
}

wf_template *wf_template_from_json(json_t *doc, uf_error *err)
{
    if (!validate(doc, err))
        return NULL;
    wf_template *t = calloc(1, sizeof *t);
    uf_buf canon = UF_BUF_INIT;
    if (!t) {
        uf_error_set(err, UF_E_NOMEM, "allocate template");
        return NULL;
    }
    if (!uf_canonical_json(doc, &canon, err) ||
        !uf_hash_buf_hex(UF_HASH_SHA256, canon.data, canon.len, t->sha256, err)) {
        uf_buf_free(&canon);
        free(t);
        return NULL;
    }
    uf_buf_free(&canon);
    snprintf(t->id, sizeof t->id, "%s", json_string_value(json_object_get(doc, "id")));
    t->version = json_integer_value(json_object_get(doc, "version"));
    t->doc = json_incref(doc);
    return t;
}

wf_template *wf_template_load_file(const char *path, uf_error *err)
{
    uf_json_limits lim = uf_json_default_limits();
    lim.max_depth = 16;
    json_t *doc = uf_json_load_file(path, &lim, err);
    if (!doc)
        return NULL;
    wf_template *t = wf_template_from_json(doc, err);
    json_decref(doc);
    if (!t)
        uf_error_prefix(err, "%s", path);
    return t;
}

void wf_template_free(wf_template *t)
{
    if (!t)
        return;
    json_decref(t->doc);
    free(t);
}

json_t *wf_record_type(const wf_template *t, const char *type)
{
    return json_object_get(json_object_get(t->doc, "record_types"), type);
}

json_t *wf_field(const json_t *rtype, const char *name)
{
    return json_object_get(json_object_get(rtype, "fields"), name);
}

json_t *wf_state(const json_t *rtype, const char *code)
{
    return json_object_get(json_object_get(rtype, "states"), code);
}

json_t *wf_transition(const json_t *rtype, const char *id)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(rtype, "transitions"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
            return t;
    }
    return NULL;
}

bool wf_transition_is_create(const json_t *tr)
{
    return json_array_size(json_object_get(tr, "from")) == 0;
}

json_t *wf_create_transition(const json_t *rtype)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(rtype, "transitions"), i, t) {
        if (wf_transition_is_create(t))
            return t;
    }
    return NULL;
}

bool wf_state_is_terminal(const json_t *rtype, const char *state)
{
    json_t *s = wf_state(rtype, state);
    if (!s)
        return false;
    if (json_is_true(json_object_get(s, "terminal")))
        return true;
    const char *cat = json_string_value(json_object_get(s, "category"));
    return cat && (strcmp(cat, "done") == 0 || strcmp(cat, "cancelled") == 0) &&
           !json_is_false(json_object_get(s, "terminal"));
}

bool wf_transition_allowed_from(const json_t *rtype, const json_t *tr, const char *state)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(tr, "from"), i, s) {
        const char *f = json_string_value(s);
        if (strcmp(f, state) == 0 || (strcmp(f, "*") == 0 && !wf_state_is_terminal(rtype, state)))
            return true;
    }
    return false;
}

bool wf_setting(const wf_template *t, const char *name)
{
    return json_is_true(json_object_get(json_object_get(t->doc, "settings"), name));
}
