/*
 * test_templates.c - the shipped workflow templates (every JSON file under templates/; docs/templates.md).
 *
 * Every template loads through wf_template_load_file and is sane as a graph (every state
 * reachable from a create transition, no dead ends, terminal states really terminal, labels in
 * Chinese and English). The software-modification template is checked against
 * shared/reference/workflow.md section 2: the 15 REQ states, the adjacency of 2.7 edge by
 * edge, the forbidden shortcuts of 2.4, and the key guards (T04 sign-off, T15 tester !=
 * developer, FB/DSP acting on their parent). Finally, broken copies of a template (a typo in a
 * state, a field, a key; a duplicate id; an empty enum) are refused with the exact JSON path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <unistd.h>

#include "lib/json.h"
#include "server/template.h"

#define TPL(name) UF_TEMPLATES_DIR "/" name ".json"

/* ---- helpers -------------------------------------------------------------------------- */

static wf_template *load_ok(const char *path)
{
    uf_error err;
    uf_error_clear(&err);
    wf_template *t = wf_template_load_file(path, &err);
    if (!t)
        fail_msg("%s", err.msg);
    return t;
}

static bool str_in_array(const json_t *arr, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
        return true;
    return false;
}

static const char *sget(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A label names things in Chinese and in English: some non-ASCII byte and some ASCII letter. */
static bool bilingual(const char *s)
{
    bool cjk = false, latin = false;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        cjk |= *p >= 0x80;
        latin |= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
    }
    return cjk && latin;
}

/* Does transition tr lead from `from` (expanding "*" to the non-terminal states)? */
static bool leads_from(const json_t *rt, const json_t *tr, const char *from)
{
    return wf_transition_allowed_from(rt, tr, from);
}

/* ---- every template ------------------------------------------------------------------- */

static const char *const shipped[] = {"software-modification", "production-change",
                                      "document-revision",     "software-deployment",
                                      "feedback",              "urban-renewal"};

static void check_graph(const char *file, const char *tname, const json_t *rt)
{
    json_t *states = json_object_get(rt, "states");
    json_t *trs = json_object_get(rt, "transitions");
    size_t n = json_object_size(states);
    const char **codes = calloc(n, sizeof *codes);
    bool *reached = calloc(n, sizeof *reached);
    assert_non_null(codes);
    assert_non_null(reached);
    const char *code;
    json_t *st;
    size_t k = 0;
    json_object_foreach(states, code, st) codes[k++] = code;

    /* reachability: seeds are the targets of create transitions */
    size_t i;
    json_t *tr;
    json_array_foreach(trs, i, tr) {
        if (!wf_transition_is_create(tr))
            continue;
        for (size_t s = 0; s < n; s++)
            if (strcmp(codes[s], sget(tr, "to")) == 0)
                reached[s] = true;
    }
    for (bool grew = true; grew;) {
        grew = false;
        json_array_foreach(trs, i, tr) {
            if (wf_transition_is_create(tr))
                continue;
            bool from_reached = false;
            for (size_t s = 0; s < n; s++)
                from_reached |= reached[s] && leads_from(rt, tr, codes[s]);
            if (!from_reached)
                continue;
            for (size_t s = 0; s < n; s++)
                if (!reached[s] && strcmp(codes[s], sget(tr, "to")) == 0)
                    reached[s] = grew = true;
        }
    }
    for (size_t s = 0; s < n; s++) {
        if (!reached[s])
            fail_msg("%s: %s state %s is unreachable", file, tname, codes[s]);
        bool out = false;
        json_array_foreach(trs, i, tr) out |= !wf_transition_is_create(tr) && leads_from(rt, tr, codes[s]);
        bool terminal = wf_state_is_terminal(rt, codes[s]);
        if (!terminal && !out)
            fail_msg("%s: %s state %s is a dead end but not terminal", file, tname, codes[s]);
        if (terminal && out)
            fail_msg("%s: %s state %s is terminal but has a way out", file, tname, codes[s]);
        const char *label = sget(wf_state(rt, codes[s]), "label");
        if (!label || !bilingual(label))
            fail_msg("%s: %s state %s: label \"%s\" is not Chinese + English", file, tname,
                     codes[s], label ? label : "");
    }
    json_array_foreach(trs, i, tr) {
        const char *name = sget(tr, "name");
        if (!name || !bilingual(name))
            fail_msg("%s: %s transition %s: name is not Chinese + English", file, tname,
                     sget(tr, "id"));
        /* an approval is bound to values its own transition's effects do not change (the
         * binding is recomputed after the effects, so such an approval could never count) */
        json_t *bind = json_object_get(json_object_get(tr, "approval"), "bind_fields");
        size_t j;
        json_t *e;
        json_array_foreach(json_object_get(tr, "effects"), j, e) {
            const char *written[4] = {NULL, NULL, NULL, NULL};
            json_t *arg;
            const char *fname;
            json_t *v;
            size_t w = 0;
            if ((arg = json_object_get(e, "set")) || (arg = json_object_get(e, "set_if_empty")))
                json_object_foreach(arg, fname, v) if (w < 3) written[w++] = fname;
            if ((arg = json_object_get(e, "copy")))
                written[w++] = sget(arg, "to");
            if ((arg = json_object_get(e, "increment")))
                written[w++] = json_string_value(arg);
            for (size_t k2 = 0; k2 < w; k2++)
                if (written[k2] && str_in_array(bind, written[k2]))
                    fail_msg("%s: %s %s: approval binds %s, which its own effects write", file,
                             tname, sget(tr, "id"), written[k2]);
        }
        /* a rejection lands where the approval was waiting */
        json_t *ap = json_object_get(tr, "approval");
        const char *on_reject = ap ? sget(ap, "on_reject") : NULL;
        if (on_reject) {
            json_t *rej = wf_transition(rt, on_reject);
            json_t *from;
            json_array_foreach(json_object_get(tr, "from"), j, from)
                if (!leads_from(rt, rej, json_string_value(from)))
                    fail_msg("%s: %s %s: on_reject %s does not leave %s", file, tname,
                             sget(tr, "id"), on_reject, json_string_value(from));
        }
    }
    json_t *f;
    json_object_foreach(json_object_get(rt, "fields"), code, f) {
        const char *label = sget(f, "label");
        if (!label || !bilingual(label))
            fail_msg("%s: %s field %s: label is not Chinese + English", file, tname, code);
    }
    free(codes);
    free(reached);
}

static void test_every_template_loads(void **state)
{
    (void)state;
    DIR *d = opendir(UF_TEMPLATES_DIR);
    assert_non_null(d);
    size_t count = 0, shipped_found = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char path[1024], id[256];
        snprintf(path, sizeof path, "%s/%s", UF_TEMPLATES_DIR, de->d_name);
        snprintf(id, sizeof id, "%.*s", (int)(len - 5), de->d_name);
        wf_template *t = load_ok(path);
        assert_string_equal(t->id, id);
        assert_int_equal(t->version, 1);
        assert_string_equal(sget(t->doc, "calendar"), "cn-mainland-2026");
        assert_true(bilingual(sget(t->doc, "name")));
        char cal[1024];
        snprintf(cal, sizeof cal, "%s/../calendars/%s.json", UF_TEMPLATES_DIR,
                 sget(t->doc, "calendar"));
        if (access(cal, R_OK) != 0)
            fail_msg("%s: calendar file %s is missing", path, cal);
        const char *tname;
        json_t *rt;
        json_object_foreach(json_object_get(t->doc, "record_types"), tname, rt) {
            assert_true(bilingual(sget(rt, "label")));
            check_graph(path, tname, rt);
        }
        for (size_t i = 0; i < sizeof shipped / sizeof *shipped; i++)
            shipped_found += strcmp(id, shipped[i]) == 0;
        wf_template_free(t);
        count++;
    }
    closedir(d);
    assert_int_equal(shipped_found, sizeof shipped / sizeof *shipped);
    assert_true(count >= shipped_found);
}

/* ---- software-modification against workflow.md section 2 ------------------------------ */

static const struct {
    const char *code, *zh, *category;
} req_states[] = {
    {"CS_TRIAGE", "客服受理", "new"},
    {"DIRECTOR_REVIEW", "待客服总监签批", "approval"},
    {"RECEIVED", "产品组已接收（待录入）", "queue"},
    {"UNASSIGNED", "未分派", "queue"},
    {"ANALYSIS", "需求分析中", "active"},
    {"AWAITING_INFO", "待客户补充", "waiting"},
    {"IN_DEV", "开发中", "active"},
    {"IN_TEST", "测试中", "active"},
    {"RELEASE_PENDING", "待发布", "active"},
    {"DELIVERED", "已交付（待客户确认）", "waiting"},
    {"CLOSED", "已关闭", "done"},
    {"REWORK", "已返工", "queue"},
    {"RESOLVED_BY_CS", "客服已解决", "done"},
    {"DECLINED", "不予修改", "done"},
    {"CANCELLED", "已撤销", "cancelled"},
};

/* workflow.md 2.7, "Full adjacency - every allowed edge; anything not listed is rejected".
 * Where the format needs one entry per edge, the id carries a suffix: T24 ("same state") is
 * one self-transition per state, and T17 has a system-only twin fired by a feedback form. */
static const struct edge {
    const char *from, *to, *id;
} req_adjacency[] = {
    {"CS_TRIAGE", "RESOLVED_BY_CS", "T02"},
    {"CS_TRIAGE", "DIRECTOR_REVIEW", "T03"},
    {"CS_TRIAGE", "CANCELLED", "T23"},
    {"DIRECTOR_REVIEW", "RECEIVED", "T04"},
    {"DIRECTOR_REVIEW", "CS_TRIAGE", "T05"},
    {"DIRECTOR_REVIEW", "CANCELLED", "T23"},
    {"RECEIVED", "RECEIVED", "T06"},
    {"RECEIVED", "UNASSIGNED", "T07"},
    {"RECEIVED", "CANCELLED", "T23"},
    {"UNASSIGNED", "ANALYSIS", "T08"},
    {"UNASSIGNED", "CANCELLED", "T23"},
    {"ANALYSIS", "AWAITING_INFO", "T09"},
    {"ANALYSIS", "IN_DEV", "T11"},
    {"ANALYSIS", "DECLINED", "T12"},
    {"ANALYSIS", "CANCELLED", "T23"},
    {"AWAITING_INFO", "ANALYSIS", "T10"},
    {"AWAITING_INFO", "CANCELLED", "T23"},
    {"IN_DEV", "IN_TEST", "T13"},
    {"IN_DEV", "IN_DEV", "T24_DEV"},
    {"IN_DEV", "CANCELLED", "T23"},
    {"IN_TEST", "IN_DEV", "T14"},
    {"IN_TEST", "RELEASE_PENDING", "T15"},
    {"IN_TEST", "IN_TEST", "T24_TEST"},
    {"IN_TEST", "CANCELLED", "T23"},
    {"RELEASE_PENDING", "DELIVERED", "T16"},
    {"RELEASE_PENDING", "RELEASE_PENDING", "T24_RELEASE"},
    {"RELEASE_PENDING", "CANCELLED", "T23"},
    {"DELIVERED", "CLOSED", "T17"},
    {"DELIVERED", "CLOSED", "T17_FB"},
    {"DELIVERED", "REWORK", "T18"},
    {"DELIVERED", "UNASSIGNED", "T22"},
    {"REWORK", "IN_DEV", "T20"},
    {"REWORK", "ANALYSIS", "T21"},
    {"REWORK", "CANCELLED", "T23"},
    {"CLOSED", "REWORK", "T19"},
    {"CLOSED", "UNASSIGNED", "T22"},
    {"DECLINED", "UNASSIGNED", "T22"},
};
#define N_EDGES (sizeof req_adjacency / sizeof *req_adjacency)

static wf_template *sm;
static json_t *req, *fb, *dsp;

static int sm_setup(void **state)
{
    (void)state;
    sm = load_ok(TPL("software-modification"));
    req = wf_record_type(sm, "REQ");
    fb = wf_record_type(sm, "FB");
    dsp = wf_record_type(sm, "DSP");
    return req && fb && dsp ? 0 : -1;
}

static int sm_teardown(void **state)
{
    (void)state;
    wf_template_free(sm);
    return 0;
}

static json_t *tr_of(const json_t *rt, const char *id)
{
    json_t *t = wf_transition(rt, id);
    if (!t)
        fail_msg("no transition %s", id);
    return t;
}

static void test_req_states(void **state)
{
    (void)state;
    json_t *states = json_object_get(req, "states");
    assert_int_equal(json_object_size(states), sizeof req_states / sizeof *req_states);
    for (size_t i = 0; i < sizeof req_states / sizeof *req_states; i++) {
        json_t *s = wf_state(req, req_states[i].code);
        if (!s)
            fail_msg("missing state %s", req_states[i].code);
        const char *label = sget(s, "label");
        if (strncmp(label, req_states[i].zh, strlen(req_states[i].zh)) != 0)
            fail_msg("%s: label \"%s\" does not start with \"%s\"", req_states[i].code, label,
                     req_states[i].zh);
        assert_string_equal(sget(s, "category"), req_states[i].category);
    }
    /* 2.7: only RESOLVED_BY_CS and CANCELLED are terminal; CLOSED and DECLINED can be reopened
     * by a feedback form or a dispute */
    for (size_t i = 0; i < sizeof req_states / sizeof *req_states; i++) {
        const char *c = req_states[i].code;
        bool want = strcmp(c, "RESOLVED_BY_CS") == 0 || strcmp(c, "CANCELLED") == 0;
        if (wf_state_is_terminal(req, c) != want)
            fail_msg("%s: terminal should be %s", c, want ? "true" : "false");
    }
}

static void test_req_adjacency_is_exactly_workflow_2_7(void **state)
{
    (void)state;
    bool seen[N_EDGES] = {false};
    size_t i, creates = 0;
    json_t *tr;
    json_array_foreach(json_object_get(req, "transitions"), i, tr) {
        const char *id = sget(tr, "id"), *to = sget(tr, "to");
        if (wf_transition_is_create(tr)) {
            assert_string_equal(id, "T01");
            assert_string_equal(to, "CS_TRIAGE");
            creates++;
            continue;
        }
        size_t j;
        json_t *f;
        json_array_foreach(json_object_get(tr, "from"), j, f) {
            const char *from = json_string_value(f);
            if (strcmp(from, "*") == 0)
                fail_msg("%s: REQ lists its from-states explicitly, no \"*\"", id);
            size_t k;
            for (k = 0; k < N_EDGES; k++)
                if (strcmp(req_adjacency[k].from, from) == 0 &&
                    strcmp(req_adjacency[k].to, to) == 0 && strcmp(req_adjacency[k].id, id) == 0)
                    break;
            if (k == N_EDGES)
                fail_msg("edge %s -> %s (%s) is not in workflow.md 2.7", from, to, id);
            if (seen[k])
                fail_msg("edge %s -> %s (%s) listed twice", from, to, id);
            seen[k] = true;
        }
    }
    assert_int_equal(creates, 1);
    for (size_t k = 0; k < N_EDGES; k++)
        if (!seen[k])
            fail_msg("edge %s -> %s (%s) of workflow.md 2.7 is missing", req_adjacency[k].from,
                     req_adjacency[k].to, req_adjacency[k].id);
}

/* All transitions of REQ from `from` to `to` satisfy pred (or there are none). */
typedef void (*edge_check)(const json_t *tr, const char *from, const char *to);

static size_t each_edge(const char *from, const char *to, edge_check check)
{
    size_t i, n = 0;
    json_t *tr;
    json_array_foreach(json_object_get(req, "transitions"), i, tr) {
        if (wf_transition_is_create(tr) || !leads_from(req, tr, from))
            continue;
        if (to && strcmp(sget(tr, "to"), to) != 0)
            continue;
        check(tr, from, sget(tr, "to"));
        n++;
    }
    return n;
}

static void never(const json_t *tr, const char *from, const char *to)
{
    fail_msg("forbidden shortcut %s -> %s (%s)", from, to, sget(tr, "id"));
}

static void closed_only_via_fb_or_dsp(const json_t *tr, const char *from, const char *to)
{
    if (strcmp(to, "REWORK") != 0 && strcmp(to, "UNASSIGNED") != 0)
        fail_msg("%s -> %s (%s): CLOSED may only go to REWORK or UNASSIGNED", from, to,
                 sget(tr, "id"));
    if (!json_is_true(json_object_get(tr, "system_only")))
        fail_msg("%s -> %s (%s) must be system_only (fired by FB / DSP)", from, to, sget(tr, "id"));
}

static void system_only(const json_t *tr, const char *from, const char *to)
{
    if (!json_is_true(json_object_get(tr, "system_only")))
        fail_msg("%s -> %s (%s) must be system_only", from, to, sget(tr, "id"));
}

static void needs_committed_date(const json_t *tr, const char *from, const char *to)
{
    if (!str_in_array(json_object_get(tr, "require_fields"), "committed_date"))
        fail_msg("%s -> %s (%s) without a committed date", from, to, sget(tr, "id"));
}

static void tester_is_not_developer(const json_t *tr, const char *from, const char *to)
{
    json_t *sod = json_object_get(tr, "sod");
    if (!str_in_array(json_object_get(sod, "not_actor_of"), "T13"))
        fail_msg("%s -> %s (%s) may be fired by the developer", from, to, sget(tr, "id"));
}

static void closing_needs_evidence(const json_t *tr, const char *from, const char *to)
{
    if (json_is_true(json_object_get(tr, "system_only")))
        return; /* fired by a signed feedback form */
    json_t *ap = json_object_get(tr, "approval");
    json_t *proxy = json_object_get(ap, "proxy");
    if (!ap || !str_in_array(json_object_get(ap, "roles"), "customer") || !proxy ||
        !sget(proxy, "evidence_kind"))
        fail_msg("%s -> %s (%s) without the customer's confirmation", from, to, sget(tr, "id"));
}

static void test_req_forbidden_shortcuts(void **state)
{
    (void)state;
    each_edge("CS_TRIAGE", "RECEIVED", never);
    each_edge("CS_TRIAGE", "UNASSIGNED", never);
    each_edge("DIRECTOR_REVIEW", "UNASSIGNED", never);
    each_edge("RECEIVED", "IN_DEV", never); /* A8 emergency path is off */
    each_edge("DELIVERED", "CANCELLED", never);
    each_edge("CLOSED", "CANCELLED", never);
    assert_int_equal(each_edge("CLOSED", NULL, closed_only_via_fb_or_dsp), 2);
    assert_int_equal(each_edge("DECLINED", NULL, system_only), 1);
    assert_int_equal(each_edge("DELIVERED", "REWORK", system_only), 1);
    assert_int_equal(each_edge("DELIVERED", "UNASSIGNED", system_only), 1);
    assert_int_equal(each_edge("ANALYSIS", "IN_DEV", needs_committed_date), 1);
    assert_int_equal(each_edge("REWORK", "IN_DEV", needs_committed_date), 1);
    assert_int_equal(each_edge("IN_TEST", "RELEASE_PENDING", tester_is_not_developer), 1);
    assert_int_equal(each_edge("DELIVERED", "CLOSED", closing_needs_evidence), 2);
    assert_int_equal(each_edge("RESOLVED_BY_CS", NULL, never), 0);
    assert_int_equal(each_edge("CANCELLED", NULL, never), 0);
}

static void test_req_guards(void **state)
{
    (void)state;
    /* T03: the written form, with at least one problem point */
    json_t *t03 = tr_of(req, "T03");
    json_t *att = json_array_get(json_object_get(t03, "require_attachments"), 0);
    assert_string_equal(sget(att, "kind"), "request_form");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t03, "checklist_min"),
                                                        "problem_points")), 1);

    /* T04: signed off by a CS director who did not write the form; a rejection is T05 */
    json_t *ap = json_object_get(tr_of(req, "T04"), "approval");
    assert_non_null(ap);
    assert_true(str_in_array(json_object_get(ap, "roles"), "cs_director"));
    assert_int_equal(json_array_size(json_object_get(ap, "roles")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ap, "quorum"), "count")), 1);
    assert_true(str_in_array(json_object_get(ap, "exclude"), "creator"));
    assert_true(json_is_true(json_object_get(ap, "auto_fire")));
    assert_string_equal(sget(ap, "on_reject"), "T05");
    assert_true(json_is_true(json_object_get(ap, "reject_requires_comment")));
    assert_non_null(json_object_get(tr_of(req, "T05"), "require_comment"));

    /* T11: committed date kept as the original one */
    json_t *eff = json_object_get(tr_of(req, "T11"), "effects");
    json_t *copy = json_object_get(json_array_get(eff, 0), "copy");
    assert_string_equal(sget(copy, "from"), "committed_date");
    assert_string_equal(sget(copy, "to"), "original_committed_date");
    assert_true(json_is_true(json_object_get(copy, "if_empty")));

    /* T15: tester != developer, every problem point verified, a test report */
    json_t *t15 = tr_of(req, "T15");
    assert_true(str_in_array(json_object_get(json_object_get(t15, "sod"), "not_actor_of"), "T13"));
    assert_true(str_in_array(json_object_get(t15, "checklist_complete"), "problem_points"));
    att = json_array_get(json_object_get(t15, "require_attachments"), 0);
    assert_string_equal(sget(att, "kind"), "test_report");

    /* T22 and T23 from-states */
    json_t *t22 = tr_of(req, "T22");
    assert_int_equal(json_array_size(json_object_get(t22, "from")), 3);
    assert_true(json_is_true(json_object_get(t22, "system_only")));
    static const char *const before_delivery[] = {"CS_TRIAGE", "DIRECTOR_REVIEW", "RECEIVED",
                                                  "UNASSIGNED", "ANALYSIS", "AWAITING_INFO",
                                                  "IN_DEV", "IN_TEST", "RELEASE_PENDING",
                                                  "REWORK"};
    json_t *t23 = tr_of(req, "T23");
    assert_int_equal(json_array_size(json_object_get(t23, "from")), 10);
    for (size_t i = 0; i < 10; i++)
        assert_true(str_in_array(json_object_get(t23, "from"), before_delivery[i]));
    assert_non_null(json_object_get(t23, "require_comment"));

    /* T24: product lead approves every change of commitment */
    static const char *const t24[] = {"T24_DEV", "T24_TEST", "T24_RELEASE"};
    for (size_t i = 0; i < 3; i++) {
        json_t *t = tr_of(req, t24[i]);
        assert_string_equal(sget(t, "to"), json_string_value(json_array_get(json_object_get(t, "from"), 0)));
        assert_true(str_in_array(json_object_get(json_object_get(t, "approval"), "roles"), "product_lead"));
    }

    /* S3 is off unless switched on; S1 stops when the form is recorded */
    assert_false(wf_setting(sm, "s3_enabled"));
    size_t i;
    json_t *sla;
    json_array_foreach(json_object_get(req, "slas"), i, sla) {
        if (strcmp(sget(sla, "id"), "S3") == 0)
            assert_string_equal(sget(sla, "enabled_by"), "s3_enabled");
        if (strcmp(sget(sla, "id"), "S1") == 0) {
            assert_true(str_in_array(json_object_get(json_object_get(sla, "stop"), "on_enter"), "UNASSIGNED"));
            assert_string_equal(sget(json_object_get(sla, "target"), "kind"), "next_session");
        }
    }
}

static json_t *effect_arg(const json_t *tr, size_t i, const char *kind)
{
    return json_object_get(json_array_get(json_object_get(tr, "effects"), i), kind);
}

static void test_fb_and_dsp_act_on_the_parent(void **state)
{
    (void)state;
    json_t *f1 = tr_of(fb, "F1");
    assert_true(wf_transition_is_create(f1));
    json_t *link = json_array_get(json_object_get(f1, "linked"), 0);
    assert_string_equal(sget(link, "link"), "parent");
    assert_true(str_in_array(json_object_get(link, "states"), "DELIVERED"));
    assert_true(str_in_array(json_object_get(link, "states"), "CLOSED"));

    /* the customer manager's signature (or a proxy with the signed form) before recording */
    json_t *f2 = tr_of(fb, "F2");
    json_t *ap = json_object_get(f2, "approval");
    assert_true(str_in_array(json_object_get(ap, "roles"), "customer_manager"));
    json_t *proxy = json_object_get(ap, "proxy");
    assert_string_equal(sget(proxy, "evidence_kind"), "feedback_form_signed");
    assert_string_equal(sget(proxy, "principal_role"), "customer_manager");
    json_t *p = effect_arg(f2, 0, "parent");
    assert_string_equal(sget(json_object_get(p, "when"), "outcome"), "resolved");
    assert_true(str_in_array(json_object_get(p, "try"), "T17_FB"));
    p = effect_arg(f2, 1, "parent");
    assert_string_equal(sget(json_object_get(p, "when"), "outcome"), "not_resolved");
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "try"), 0)), "T18");
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "try"), 1)), "T19");

    json_t *d4 = tr_of(dsp, "D4");
    p = effect_arg(d4, 0, "parent");
    assert_string_equal(sget(json_object_get(p, "when"), "outcome"), "original_issue");
    assert_true(str_in_array(json_object_get(p, "try"), "T22"));
    json_t *sp = effect_arg(d4, 1, "spawn");
    assert_string_equal(sget(sp, "type"), "REQ");
    assert_string_equal(sget(sp, "transition"), "T01");
    assert_string_equal(sget(sp, "link"), "raised_from");
    assert_string_equal(sget(json_object_get(sp, "when"), "outcome"), "new_problem");
    /* the spawned request satisfies T01's required fields from what it copies */
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(tr_of(req, "T01"), "require_fields"), i, f)
        if (!str_in_array(json_object_get(sp, "copy"), json_string_value(f)))
            fail_msg("D4 spawn does not copy %s, which T01 requires", json_string_value(f));
}

/* ---- other templates: the distinctive guards ---------------------------------------- */

static void test_other_templates_guards(void **state)
{
    (void)state;
    wf_template *t = load_ok(TPL("production-change"));
    json_t *rt = wf_record_type(t, "CHG");
    json_t *ap = json_object_get(tr_of(rt, "P06"), "approval");
    assert_true(str_in_array(json_object_get(ap, "exclude"), "creator"));
    assert_string_equal(sget(ap, "on_reject"), "P07");
    json_t *rc = json_object_get(tr_of(rt, "P07"), "require_comment");
    assert_true(json_integer_value(json_object_get(rc, "min_length")) >= 20);
    assert_true(json_is_true(json_object_get(json_object_get(tr_of(rt, "P03"), "sod"), "not_creator")));
    assert_true(str_in_array(json_object_get(json_object_get(tr_of(rt, "P11"), "sod"), "not_actor_of"), "P09"));
    wf_template_free(t);

    t = load_ok(TPL("document-revision"));
    rt = wf_record_type(t, "DOCREV");
    ap = json_object_get(tr_of(rt, "R08"), "approval");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ap, "quorum"), "count")), 2);
    assert_true(str_in_array(json_object_get(ap, "exclude"), "creator"));
    assert_true(str_in_array(json_object_get(ap, "exclude"), "actors_of:R07"));
    assert_non_null(json_object_get(wf_field(rt, "revised_text"), "visible_to"));
    assert_string_equal(sget(wf_field(rt, "confidentiality_level"), "type"), "enum");
    wf_template_free(t);

    t = load_ok(TPL("software-deployment"));
    rt = wf_record_type(t, "DEPLOY");
    json_t *d03 = tr_of(rt, "D03");
    static const char *const lists[] = {"env_checklist", "hardware_checklist",
                                        "program_data_checklist", "docs_training_checklist"};
    for (size_t i = 0; i < 4; i++)
        assert_true(str_in_array(json_object_get(d03, "checklist_complete"), lists[i]));
    ap = json_object_get(tr_of(rt, "D04"), "approval");
    assert_true(str_in_array(json_object_get(ap, "exclude"), "actors_of:D03"));
    assert_true(wf_transition_allowed_from(rt, tr_of(rt, "D07"), "ROLLOUT"));
    assert_true(wf_transition_allowed_from(rt, tr_of(rt, "D09"), "POST_VERIFY"));
    wf_template_free(t);

    t = load_ok(TPL("urban-renewal"));
    rt = wf_record_type(t, "URBAN");
    ap = json_object_get(tr_of(rt, "U02"), "approval");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ap, "quorum"), "percent")), 100);
    assert_true(str_in_array(json_object_get(ap, "roles"), "rights_holder"));
    assert_non_null(sget(json_object_get(ap, "proxy"), "evidence_kind"));
    /* street office, then district, then city; reviews return to SUBMITTED */
    assert_string_equal(sget(tr_of(rt, "U04"), "to"), "DISTRICT_REVIEW");
    assert_string_equal(sget(tr_of(rt, "U06"), "to"), "CITY_APPROVAL");
    assert_string_equal(sget(tr_of(rt, "U09"), "to"), "APPROVED");
    assert_string_equal(sget(tr_of(rt, "U07"), "to"), "SUBMITTED");
    assert_string_equal(sget(tr_of(rt, "U10"), "to"), "SUBMITTED");
    wf_template_free(t);
}

/* ---- broken copies are refused with the exact path ------------------------------------ */

static json_t *load_doc(const char *path)
{
    uf_error err;
    uf_error_clear(&err);
    uf_json_limits lim = uf_json_default_limits();
    json_t *doc = uf_json_load_file(path, &lim, &err);
    if (!doc)
        fail_msg("%s", err.msg);
    return doc;
}

static size_t index_of(const json_t *rt, const char *id)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(rt, "transitions"), i, t)
        if (strcmp(sget(t, "id"), id) == 0)
            return i;
    fail_msg("no transition %s", id);
    return 0;
}

/* Write doc to a temporary file, load it, expect "<file>: <expected>". Frees doc. */
static void expect_rejected(json_t *doc, const char *expected)
{
    char path[] = "/tmp/upflow_test_template_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(json_dump_file(doc, path, JSON_INDENT(1)), 0);
    json_decref(doc);
    uf_error err;
    uf_error_clear(&err);
    wf_template *t = wf_template_load_file(path, &err);
    unlink(path);
    if (t) {
        wf_template_free(t);
        fail_msg("a template with %s was accepted", expected);
    }
    char want[UF_ERROR_MSG_MAX];
    snprintf(want, sizeof want, "%s: %s", path, expected);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, UF_E_BAD_FIELD);
}

#define SM_REQ(doc) json_object_get(json_object_get(doc, "record_types"), "REQ")

static void test_rejects_unknown_target_state(void **state)
{
    (void)state;
    json_t *doc = load_doc(TPL("software-modification"));
    json_t *rt = SM_REQ(doc);
    size_t i = index_of(rt, "T04");
    json_object_set_new(json_array_get(json_object_get(rt, "transitions"), i), "to",
                        json_string("RECIEVED"));
    char want[256];
    snprintf(want, sizeof want, "record_types.REQ.transitions[%zu].to: unknown state \"RECIEVED\"", i);
    expect_rejected(doc, want);
}

static void test_rejects_unknown_required_field(void **state)
{
    (void)state;
    json_t *doc = load_doc(TPL("software-modification"));
    json_t *rt = SM_REQ(doc);
    size_t i = index_of(rt, "T11");
    json_t *req_fields = json_object_get(json_array_get(json_object_get(rt, "transitions"), i),
                                         "require_fields");
    size_t k;
    json_t *f;
    json_array_foreach(req_fields, k, f) if (strcmp(json_string_value(f), "committed_date") == 0) break;
    assert_true(k < json_array_size(req_fields));
    json_array_set_new(req_fields, k, json_string("comitted_date"));
    char want[256];
    snprintf(want, sizeof want,
             "record_types.REQ.transitions[%zu].require_fields[%zu]: unknown field \"comitted_date\"",
             i, k);
    expect_rejected(doc, want);
}

static void test_rejects_unknown_keys(void **state)
{
    (void)state;
    json_t *doc = load_doc(TPL("software-modification"));
    json_t *rt = SM_REQ(doc);
    size_t i = index_of(rt, "T15");
    json_object_set_new(json_array_get(json_object_get(rt, "transitions"), i), "requires_fields",
                        json_array());
    char want[256];
    snprintf(want, sizeof want, "record_types.REQ.transitions[%zu].requires_fields: unknown field", i);
    expect_rejected(doc, want);

    doc = load_doc(TPL("software-modification"));
    json_object_set_new(json_object_get(json_object_get(SM_REQ(doc), "states"), "RECEIVED"),
                        "lable", json_string("x"));
    expect_rejected(doc, "record_types.REQ.states.RECEIVED.lable: unknown field");

    doc = load_doc(TPL("software-modification"));
    json_object_set_new(doc, "verison", json_integer(2));
    expect_rejected(doc, "verison: unknown field");

    doc = load_doc(TPL("software-modification"));
    json_t *sla = json_array_get(json_object_get(SM_REQ(doc), "slas"), 0);
    json_object_set_new(json_object_get(sla, "stop"), "on_exit", json_array());
    expect_rejected(doc, "record_types.REQ.slas[0].stop.on_exit: unknown field");
}

static void test_rejects_duplicate_transition_id(void **state)
{
    (void)state;
    /* T06 (referenced nowhere) renamed to T05: the second occurrence is the one reported */
    json_t *doc = load_doc(TPL("software-modification"));
    json_t *rt = SM_REQ(doc);
    size_t i = index_of(rt, "T06");
    assert_true(i > index_of(rt, "T05"));
    json_object_set_new(json_array_get(json_object_get(rt, "transitions"), i), "id",
                        json_string("T05"));
    char want[256];
    snprintf(want, sizeof want, "record_types.REQ.transitions[%zu]: duplicate transition id \"T05\"", i);
    expect_rejected(doc, want);
}

static void test_rejects_enum_without_values(void **state)
{
    (void)state;
    json_t *doc = load_doc(TPL("software-modification"));
    json_t *cls = json_object_get(json_object_get(SM_REQ(doc), "fields"), "classification");
    json_object_set_new(cls, "values", json_array());
    expect_rejected(doc, "record_types.REQ.fields.classification.values: an enum needs a non-empty list");

    doc = load_doc(TPL("software-modification"));
    cls = json_object_get(json_object_get(SM_REQ(doc), "fields"), "classification");
    json_object_del(cls, "values");
    expect_rejected(doc, "record_types.REQ.fields.classification.values: an enum needs a non-empty list");
}

static void test_rejects_bad_references(void **state)
{
    (void)state;
    /* sod names a transition that does not exist */
    json_t *doc = load_doc(TPL("software-modification"));
    json_t *rt = SM_REQ(doc);
    size_t i = index_of(rt, "T15");
    json_t *sod = json_object_get(json_array_get(json_object_get(rt, "transitions"), i), "sod");
    json_array_set_new(json_object_get(sod, "not_actor_of"), 0, json_string("T31"));
    char want[256];
    snprintf(want, sizeof want,
             "record_types.REQ.transitions[%zu].sod.not_actor_of[0]: unknown transition \"T31\"", i);
    expect_rejected(doc, want);

    /* an approval excludes something that is not creator / assignee / actors_of:T */
    doc = load_doc(TPL("software-modification"));
    rt = SM_REQ(doc);
    i = index_of(rt, "T04");
    json_t *ap = json_object_get(json_array_get(json_object_get(rt, "transitions"), i), "approval");
    json_array_set_new(json_object_get(ap, "exclude"), 0, json_string("author"));
    snprintf(want, sizeof want,
             "record_types.REQ.transitions[%zu].approval.exclude[0]: expected creator, assignee or "
             "actors_of:TRANSITION, got \"author\"", i);
    expect_rejected(doc, want);

    /* a feedback form tries a parent transition that no record type has */
    doc = load_doc(TPL("software-modification"));
    json_t *fbt = json_object_get(json_object_get(doc, "record_types"), "FB");
    i = index_of(fbt, "F2");
    json_t *eff = json_object_get(json_array_get(json_object_get(fbt, "transitions"), i), "effects");
    json_t *p = json_object_get(json_array_get(eff, 0), "parent");
    json_array_set_new(json_object_get(p, "try"), 0, json_string("T17X"));
    snprintf(want, sizeof want, "record_types.FB.transitions[%zu].effects[0]: unknown transition \"T17X\"", i);
    expect_rejected(doc, want);

    /* an actor role the template does not declare */
    doc = load_doc(TPL("urban-renewal"));
    rt = json_object_get(json_object_get(doc, "record_types"), "URBAN");
    json_t *actors = json_object_get(json_array_get(json_object_get(rt, "transitions"), 0), "actors");
    json_array_set_new(json_object_get(actors, "roles"), 0, json_string("mayor"));
    expect_rejected(doc, "record_types.URBAN.transitions[0].actors.roles[0]: unknown role \"mayor\"");
}

/* Notification rules name events, transitions, SLAs, roles, relations and channels that
 * exist, each where it makes sense. */
static void expect_rule_rejected(const char *rule_json, const char *expected_tail)
{
    json_t *doc = load_doc(TPL("software-modification"));
    json_t *notify = json_object_get(SM_REQ(doc), "notify");
    assert_non_null(notify);
    json_error_t jerr;
    json_t *rule = json_loads(rule_json, 0, &jerr);
    assert_non_null(rule);
    json_array_append_new(notify, rule);
    char want[512];
    snprintf(want, sizeof want, "record_types.REQ.notify[%zu]%s", json_array_size(notify) - 1,
             expected_tail);
    expect_rejected(doc, want);
}

static void test_rejects_bad_notify_rules(void **state)
{
    (void)state;
    expect_rule_rejected("{\"on\": \"transiton\", \"channels\": [\"webhook\"]}",
                         ".on: expected transition, approval_requested, sla_warning, sla_breach "
                         "or comment, got \"transiton\"");
    expect_rule_rejected("{\"on\": \"transition\", \"transitions\": [\"T99\"], \"channels\": [\"webhook\"]}",
                         ".transitions[0]: unknown transition \"T99\"");
    expect_rule_rejected("{\"on\": \"approval_requested\", \"transitions\": [\"T16\"],"
                         " \"to\": {\"approvers\": true}, \"channels\": [\"inapp\"]}",
                         ".transitions[0]: not a transition with an approval \"T16\"");
    expect_rule_rejected("{\"on\": \"sla_breach\", \"transitions\": [\"T16\"], \"channels\": [\"webhook\"]}",
                         ".transitions: only for on transition or approval_requested");
    expect_rule_rejected("{\"on\": \"sla_breach\", \"slas\": [\"S9\"], \"channels\": [\"webhook\"]}",
                         ".slas[0]: unknown SLA \"S9\"");
    expect_rule_rejected("{\"on\": \"transition\", \"slas\": [\"S1\"], \"channels\": [\"webhook\"]}",
                         ".slas: only for on sla_warning or sla_breach");
    expect_rule_rejected("{\"on\": \"comment\", \"to\": {\"roles\": [\"mayor\"]}, \"channels\": [\"inapp\"]}",
                         ".to.roles[0]: unknown role \"mayor\"");
    expect_rule_rejected("{\"on\": \"comment\", \"to\": {\"relations\": [\"build_id\"]}, \"channels\": [\"inapp\"]}",
                         ".to.relations[0]: expected creator, assignee or a user field, got \"build_id\"");
    expect_rule_rejected("{\"on\": \"comment\", \"to\": {\"roles\": [\"cs\"]}, \"channels\": [\"email\"]}",
                         ".channels[0]: expected inapp or webhook, got \"email\"");
    expect_rule_rejected("{\"on\": \"comment\", \"to\": {\"roles\": [\"cs\"]}, \"channels\": []}",
                         ".channels: name at least one channel");
    expect_rule_rejected("{\"on\": \"comment\", \"channels\": [\"inapp\"]}",
                         ".to: an inapp rule names its recipients");
    expect_rule_rejected("{\"on\": \"transition\", \"to\": {\"approvers\": true}, \"channels\": [\"inapp\"]}",
                         ".to.approvers: only for on approval_requested");
    expect_rule_rejected("{\"on\": \"sla_breach\", \"to\": {\"assignee_role\": true}, \"channels\": [\"inapp\"]}",
                         ".to.assignee_role: only for on transition");
    expect_rule_rejected("{\"on\": \"comment\", \"to\": {\"role\": [\"cs\"]}, \"channels\": [\"inapp\"]}",
                         ".to.role: unknown field");
    expect_rule_rejected("{\"on\": \"comment\", \"to\": {\"roles\": [\"cs\"]}, \"channels\": [\"inapp\"],"
                         " \"working_hours_only\": \"yes\"}",
                         ".working_hours_only: expected boolean, got string");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_template_loads),
        cmocka_unit_test_setup_teardown(test_req_states, sm_setup, sm_teardown),
        cmocka_unit_test_setup_teardown(test_req_adjacency_is_exactly_workflow_2_7, sm_setup, sm_teardown),
        cmocka_unit_test_setup_teardown(test_req_forbidden_shortcuts, sm_setup, sm_teardown),
        cmocka_unit_test_setup_teardown(test_req_guards, sm_setup, sm_teardown),
        cmocka_unit_test_setup_teardown(test_fb_and_dsp_act_on_the_parent, sm_setup, sm_teardown),
        cmocka_unit_test(test_other_templates_guards),
        cmocka_unit_test(test_rejects_unknown_target_state),
        cmocka_unit_test(test_rejects_unknown_required_field),
        cmocka_unit_test(test_rejects_unknown_keys),
        cmocka_unit_test(test_rejects_duplicate_transition_id),
        cmocka_unit_test(test_rejects_enum_without_values),
        cmocka_unit_test(test_rejects_bad_references),
        cmocka_unit_test(test_rejects_bad_notify_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
