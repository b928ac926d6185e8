/*
 * api_templates.c - the workflow's configuration as the API shows it: published templates
 * (and a dry-run validation of a new one, with the path and reason of every error the
 * loader would report), and the working calendars SLA clocks are counted on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/calendar.h"
#include "lib/json.h"
#include "lib/tz.h"
#include "server/api.h"
#include "server/template.h"
#include "server/workflow.h"

/* ---- templates ------------------------------------------------------------------------ */

static void get_templates(api_call *c)
{
    const wf_registry *reg = &c->srv->registry;
    json_t *items = json_array();
    for (size_t i = 0; i < reg->n; i++) {
        const wf_template *t = reg->items[i];
        if (wf_registry_get(reg, t->id, 0) != t)
            continue; /* newest versions only */
        json_t *types = json_array();
        const char *name;
        json_t *rt;
        json_object_foreach(json_object_get(t->doc, "record_types"), name, rt)
            json_array_append_new(types, json_string(name));
        json_array_append_new(items, json_pack("{s:s, s:I, s:s, s:o, s:s}", "id", t->id, "version",
                                               (json_int_t)t->version, "name",
                                               json_string_value(json_object_get(t->doc, "name")),
                                               "record_types", types, "sha256", t->sha256));
    }
    http_set_json(c->resp, 200, json_pack("{s:o}", "items", items));
}

static void get_template(api_call *c)
{
    const char *version = http_query(c->req, "version");
    const wf_template *t = wf_registry_get(&c->srv->registry, c->req->params[0],
                                           version ? strtoll(version, NULL, 10) : 0);
    if (!t) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no template %s", c->req->params[0]);
        return;
    }
    http_set_json(c->resp, 200, json_deep_copy(t->doc));
}

/* Validate a template document without publishing it: 200 {"valid": true, id, version,
 * sha256, "published": whether that version exists already and equals it}, or 422 with the
 * loader's error. Publishing stays a deliberate act: the file under templates/ and a start. */
static void post_template_validate(api_call *c)
{
    json_t *doc = http_body_json(c->req, c->resp);
    if (!doc)
        return;
    uf_error err;
    wf_template *t = wf_template_from_json(doc, &err);
    json_decref(doc);
    if (!t) {
        uf_error_prefix(&err, "template");
        api_fail(c, &err);
        return;
    }
    const wf_template *have = wf_registry_get(&c->srv->registry, t->id, t->version);
    json_t *out = json_pack("{s:b, s:s, s:I, s:s, s:b}", "valid", 1, "id", t->id, "version",
                            (json_int_t)t->version, "sha256", t->sha256, "published", have != NULL);
    if (have && strcmp(have->sha256, t->sha256) != 0)
        json_object_set_new(out, "conflict",
                            json_string("this version is published with other content: raise \"version\""));
    wf_template_free(t);
    http_set_json(c->resp, 200, out);
}

/* ---- calendars ------------------------------------------------------------------------ */

static json_t *calendar_json(const uf_calendar *cal)
{
    int64_t from, to;
    uf_calendar_effective(cal, &from, &to);
    int64_t fy, ty;
    int fm, fd, tm, td;
    uf_civil_from_days(from, &fy, &fm, &fd);
    uf_civil_from_days(to, &ty, &tm, &td);
    char from_s[24], to_s[24];
    snprintf(from_s, sizeof from_s, "%04lld-%02d-%02d", (long long)fy, fm, fd);
    snprintf(to_s, sizeof to_s, "%04lld-%02d-%02d", (long long)ty, tm, td);
    uf_cal_stats st;
    uf_calendar_stats(cal, &st);
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:I, s:I, s:I, s:I, s:I}}",
                     "id", uf_calendar_id(cal), "version", (json_int_t)uf_calendar_version(cal),
                     "name", uf_calendar_name(cal), "source", uf_calendar_source(cal),
                     "timezone", uf_tz_name(uf_calendar_tz(cal)), "effective", "from", from_s,
                     "to", to_s, "stats", "holidays", (json_int_t)st.holidays,
                     "makeup_workdays", (json_int_t)st.makeup_workdays, "working_days",
                     (json_int_t)st.working_days, "working_minutes",
                     (json_int_t)st.working_minutes, "weekly_minutes",
                     (json_int_t)st.weekly_minutes);
}

static void get_calendars(api_call *c)
{
    json_t *items = json_array();
    for (size_t i = 0; i < c->srv->calendars.n; i++)
        json_array_append_new(items, calendar_json(c->srv->calendars.items[i]));
    http_set_json(c->resp, 200, json_pack("{s:o}", "items", items));
}

static void get_calendar(api_call *c)
{
    const uf_calendar *cal = sla_calendars_get(&c->srv->calendars, c->req->params[0]);
    if (!cal) {
        http_set_errorf(c->resp, UF_E_NOT_FOUND, "no calendar %s", c->req->params[0]);
        return;
    }
    http_set_json(c->resp, 200, calendar_json(cal));
}

const route api_templates_routes[] = {
    {"GET", "/api/v1/templates", ROUTE_USER, get_templates, "published workflow templates"},
    {"GET", "/api/v1/templates/{id}", ROUTE_USER, get_template, "one template document"},
    {"POST", "/api/v1/templates/validate", ROUTE_USER, post_template_validate,
     "check a template document without publishing it"},
    {"GET", "/api/v1/calendars", ROUTE_USER, get_calendars, "working calendars"},
    {"GET", "/api/v1/calendars/{id}", ROUTE_USER, get_calendar, "one working calendar"},
};
const size_t api_templates_routes_n = sizeof api_templates_routes / sizeof api_templates_routes[0];
