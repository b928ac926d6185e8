/*
 * workflow_view.c - what a user may see and change of a record: record visibility by
 * customer and role, field visibility (customer-visible, visible_to, per-state rules), and
 * the checking of values against their field definitions.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "server/workflow_internal.h"

bool wf_can_see(const wf_registry *reg, const auth_identity *who, const wf_record *r)
{
    if (!who)
        return true;
    if (who->customer[0])
        return strcmp(who->customer, r->customer) == 0;
    if (auth_is_admin(who))
        return true;
    const wf_template *t = wf_registry_get(reg, r->template_id, r->template_version);
    return t && wf_has_template_role(t, who, r);
}

/* The per-state rule for field under every role the user holds in scope; NULL unless all of
 * them agree (Redmine's rule: a rule applies only if every role has it). */
static const char *state_rule(const wf_template *t, const json_t *rtype,
                              const auth_identity *who, const wf_record *r, const char *field)
{
    json_t *rules = json_object_get(wf_state(rtype, r->state), "field_rules");
    if (!rules)
        return NULL;
    const char *agreed = NULL;
    size_t i;
    json_t *role;
    json_array_foreach(json_object_get(t->doc, "roles"), i, role) {
        const char *name = json_string_value(role);
        if (!wf_role_in_scope(who, name, r))
            continue;
        const char *rule = json_string_value(json_object_get(json_object_get(rules, name), field));
        if (!rule)
            return NULL;
        if (agreed && strcmp(agreed, rule) != 0)
            return strcmp(agreed, "required") == 0 || strcmp(rule, "required") == 0 ? "required" : NULL;
        agreed = rule;
    }
    return agreed;
}

bool wf_field_visible(const wf_template *t, const json_t *rtype, const auth_identity *who,
                      const wf_record *r, const char *field)
{
    json_t *def = wf_field(rtype, field);
    if (!def || !who)
        return def != NULL;
    if (who->customer[0] && !json_is_true(json_object_get(def, "customer_visible")))
        return false;
    json_t *visible_to = json_object_get(def, "visible_to");
    if (visible_to) {
        bool ok = false;
        size_t i;
        json_t *role;
        json_array_foreach(visible_to, i, role) ok |= wf_role_in_scope(who, json_string_value(role), r);
        if (!ok)
            return false;
    }
    const char *rule = state_rule(t, rtype, who, r, field);
    return !rule || strcmp(rule, "hidden") != 0;
}

bool wf_field_editable(const wf_template *t, const json_t *rtype, const auth_identity *who,
                       const wf_record *r, const char *field)
{
    if (!wf_field_visible(t, rtype, who, r, field))
        return false;
    if (json_is_true(json_object_get(wf_field(rtype, field), "readonly")))
        return false;
    const char *rule = who ? state_rule(t, rtype, who, r, field) : NULL;
    return !rule || strcmp(rule, "readonly") != 0;
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool valid_date(const char *s)
{
    if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2))
        return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

/* YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM) */
static bool valid_datetime(const char *s)
{
    size_t n = strlen(s);
    if (n < 17 || !valid_date(s) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || atoi(s + 11) > 23 || atoi(s + 14) > 59)
        return false;
    const char *p = s + 16;
    if (*p == ':') {
        if (!digits(p + 1, 2) || atoi(p + 1) > 59)
            return false;
        p += 3;
    }
    if (strcmp(p, "Z") == 0)
        return true;
    return (p[0] == '+' || p[0] == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
           p[6] == '\0';
}

static bool check_checklist(const char *path, const json_t *v, uf_error *err)
{
    if (!json_is_array(v))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected a checklist (array), got %s", path,
                            uf_json_type_name(v));
    if (json_array_size(v) > 500)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: more than 500 items", path);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        char p[160];
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        static const char *const keys[] = {"text", "done", "evidence", NULL};
        const char *text, *evidence;
        bool done;
        if (!uf_json_only_keys(item, p, keys, err) ||
            !uf_json_get_string(item, p, "text", &text, err) ||
            !uf_json_opt_bool(item, p, "done", &done, err) ||
            !uf_json_opt_string(item, p, "evidence", &evidence, err))
            return false;
    }
    return true;
}

bool wf_check_value(db *d, const json_t *def, const char *path, const json_t *v, uf_error *err)
{
    const char *type = json_string_value(json_object_get(def, "type"));
    const char *s = json_string_value(v);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(v) ||
               uf_error_set(err, UF_E_BAD_FIELD, "%s: expected integer, got %s", path, uf_json_type_name(v));
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v) ||
               uf_error_set(err, UF_E_BAD_FIELD, "%s: expected boolean, got %s", path, uf_json_type_name(v));
    if (strcmp(type, "checklist") == 0)
        return check_checklist(path, v, err);
    if (strcmp(type, "record") == 0) {
        int64_t n = 0;
        if (!json_is_integer(v))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected a record id, got %s", path, uf_json_type_name(v));
        if (!db_query_int(d, "SELECT COUNT(*) FROM records WHERE id = $1",
                          DB_ARGS(db_int(json_integer_value(v))), &n, NULL, err))
            return false;
        return n > 0 || uf_error_set(err, UF_E_BAD_FIELD, "%s: no record %lld", path,
                                     (long long)json_integer_value(v));
    }
    if (!s)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected string, got %s", path, uf_json_type_name(v));
    json_int_t min = json_integer_value(json_object_get(def, "min_length"));
    if (min > 0 && (json_int_t)json_string_length(v) < min)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: at least %lld characters", path, (long long)min);
    if (strcmp(type, "date") == 0 && (strlen(s) != 10 || !valid_date(s)))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected a date YYYY-MM-DD, got \"%s\"", path, s);
    if (strcmp(type, "datetime") == 0 && !valid_datetime(s))
        return uf_error_set(err, UF_E_BAD_FIELD,
                            "%s: expected a date and time with offset (2026-03-10T10:15:00+08:00), got \"%s\"",
                            path, s);
    if (strcmp(type, "enum") == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(def, "values"), i, e) if (strcmp(json_string_value(e), s) == 0) return true;
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: \"%s\" is not one of the allowed values", path, s);
    }
    if (strcmp(type, "user") == 0) {
        int64_t n = 0;
        if (!db_query_int(d, "SELECT COUNT(*) FROM users WHERE username = $1", DB_ARGS(db_text(s)),
                          &n, NULL, err))
            return false;
        return n > 0 || uf_error_set(err, UF_E_BAD_FIELD, "%s: no user \"%s\"", path, s);
    }
    return true;
}

/* Transitions this user could try from the record's state (guards not evaluated). */
static json_t *available_transitions(const wf_template *t, const json_t *rtype,
                                     const auth_identity *who, const wf_record *r)
{
    json_t *out = json_array();
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(rtype, "transitions"), i, tr) {
        if (wf_transition_is_create(tr) || json_is_true(json_object_get(tr, "system_only")) ||
            !wf_transition_allowed_from(rtype, tr, r->state))
            continue;
        json_t *actors = json_object_get(tr, "actors");
        bool allowed = !actors && wf_has_template_role(t, who, r);
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(actors, "roles"), k, e) allowed |= wf_role_in_scope(who, json_string_value(e), r);
        json_t *approval = json_object_get(tr, "approval");
        json_array_foreach(json_object_get(approval, "roles"), k, e) allowed |= wf_role_in_scope(who, json_string_value(e), r);
        if (!allowed)
            continue;
        json_array_append_new(out, json_pack("{s:s, s:s?, s:s, s:b}", "id",
                                             json_string_value(json_object_get(tr, "id")), "name",
                                             json_string_value(json_object_get(tr, "name")), "to",
                                             json_string_value(json_object_get(tr, "to")),
                                             "approval", approval != NULL));
    }
    return out;
}

json_t *wf_record_json(db *d, const wf_registry *reg, const auth_identity *who,
                       const wf_record *r, uf_error *err)
{
    const wf_template *t = wf_registry_get(reg, r->template_id, r->template_version);
    const json_t *rtype = t ? wf_record_type(t, r->type) : NULL;
    if (!rtype) {
        uf_error_set(err, UF_E_INTERNAL, "record %lld: template not loaded", (long long)r->id);
        return NULL;
    }
    json_t *fields = json_object();
    const char *name;
    json_t *v;
    json_object_foreach(r->fields, name, v) {
        if (wf_field_visible(t, rtype, who, r, name))
            json_object_set(fields, name, v);
    }
    json_t *state = wf_state(rtype, r->state);
    json_t *links = record_links_json(d, r->id, err);
    if (!links) {
        json_decref(fields);
        return NULL;
    }
    json_t *out = json_pack(
        "{s:I, s:s, s:I, s:s, s:s, s:s?, s:s?, s:I, s:o, s:s?, s:s?, s:s?, s:s, s:I, s:I, s:o}",
        "id", (json_int_t)r->id, "template", r->template_id, "template_version",
        (json_int_t)r->template_version, "type", r->type, "state", r->state, "state_label",
        json_string_value(json_object_get(state, "label")), "state_category",
        json_string_value(json_object_get(state, "category")), "revision", (json_int_t)r->revision,
        "fields", fields, "customer", r->customer[0] ? r->customer : NULL, "product",
        r->product[0] ? r->product : NULL, "assignee", r->assignee[0] ? r->assignee : NULL,
        "created_by", r->created_by, "created_at", (json_int_t)r->created_at, "updated_at",
        (json_int_t)r->updated_at, "links", links);
    if (out && who)
        json_object_set_new(out, "transitions", available_transitions(t, rtype, who, r));
    return out;
}
