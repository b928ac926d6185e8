/*
 * rollout_view.c - rollouts for people (see rollout_view.h). The count table has a column
 * for each state some device is in, in the order an action goes through them, so the table
 * stays narrow and reads left to right like the rollout's progress.
 */
#include "cli/rollout_view.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/text_table.h"

#define MAX_STATE_COLUMNS 24

static json_int_t int_of(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

/* The count of a state in {state: count}; 0 when absent. */
static json_int_t count_of(const json_t *counts, const char *state)
{
    return json_integer_value(json_object_get(counts, state));
}

static json_int_t sum_of(const json_t *counts)
{
    const char *key;
    const json_t *v;
    json_int_t n = 0;
    json_object_foreach((json_t *)(uintptr_t)counts, key, v)
        n += json_integer_value(v);
    return n;
}

/* The name of phase i, or its number (from 1) when it has none. */
static void phase_name(const json_t *rollout, json_int_t i, char *out, size_t len)
{
    const char *name = uf_table_str(json_array_get(json_object_get(rollout, "phases"), (size_t)i),
                              "name", NULL);
    if (name)
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%" JSON_INTEGER_FORMAT, i + 1);
}

void uf_view_rollouts(const json_t *body, const void *unused)
{
    (void)unused;
    static const char *const headers[] = {">ID", "STATE", "VERSION", "PHASE", ">DONE",
                                          ">FAILED", "CREATED", "NAME"};
    uf_table *t = uf_table_new(headers, 8);
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(body, "items"), i, r) {
        const json_t *total = json_object_get(json_object_get(r, "counts"), "total");
        char created[32], phase[128];
        uf_table_time((int64_t)int_of(r, "created_at"), created, sizeof created);
        phase_name(r, int_of(r, "current_phase"), phase, sizeof phase);
        uf_table_cell(t, "%" JSON_INTEGER_FORMAT, int_of(r, "id"));
        uf_table_cell(t, "%s", uf_table_str(r, "state", "?"));
        uf_table_cell(t, "%s", uf_table_str(r, "version", "?"));
        uf_table_cell(t, "%" JSON_INTEGER_FORMAT "/%zu %s", int_of(r, "current_phase") + 1,
                      json_array_size(json_object_get(r, "phases")), phase);
        uf_table_cell(t, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                      count_of(total, "success") + count_of(total, "downloaded"), sum_of(total));
        uf_table_cell(t, "%" JSON_INTEGER_FORMAT,
                      count_of(total, "failure") + count_of(total, "rolled_back"));
        uf_table_cell(t, "%s", created);
        uf_table_cell(t, "%s", uf_table_str(r, "name", ""));
    }
    uf_table_print(t, stdout, "no rollouts");
    uf_table_free(t);
}

/* "STATE" or "STATE: reason", and the end of the line. */
static void print_state(const json_t *rollout)
{
    uf_client_print_text(stdout, uf_table_str(rollout, "state", "?"));
    const char *reason = uf_table_str(rollout, "state_reason", NULL);
    if (reason) {
        fputs(": ", stdout);
        uf_client_print_text(stdout, reason);
    }
    putchar('\n');
}

void uf_view_rollout_state(const json_t *rollout)
{
    printf("rollout %" JSON_INTEGER_FORMAT ": ", int_of(rollout, "id"));
    print_state(rollout);
}

/* "label:       " then the rest of the line is the caller's. */
static void label(const char *text)
{
    printf("%-13s", text);
}

static void text(const char *s)
{
    uf_client_print_text(stdout, s);
}

static void print_selection(const json_t *r)
{
    const char *filter = uf_table_str(r, "filter", NULL), *group = uf_table_str(r, "group", NULL);
    label("devices:");
    if (!filter && !group)
        text("every device of the tenant");
    if (filter) {
        text("filter ");
        text(filter);
    }
    if (group) {
        text(filter ? ", group " : "group ");
        text(group);
    }
    putchar('\n');
}

static void print_how(const json_t *r)
{
    label("action:");
    text(uf_table_str(r, "type", "?"));
    printf(", priority %" JSON_INTEGER_FORMAT ", start ", int_of(r, "priority"));
    text(uf_table_str(r, "start", "?"));
    const json_t *w = json_object_get(r, "window");
    printf("\n");
    label("window:");
    if (json_is_object(w)) {
        putchar('"');
        text(uf_table_str(w, "cron", "?"));
        printf("\" for %" JSON_INTEGER_FORMAT " s, ", int_of(w, "duration"));
        text(uf_table_str(w, "tz", "UTC"));
        putchar('\n');
    } else {
        printf("any time\n");
    }
    label("thresholds:");
    printf("next phase at %" JSON_INTEGER_FORMAT "%% done; ", int_of(r, "success_threshold"));
    text(uf_table_str(r, "on_error", "pause"));
    printf(" at %" JSON_INTEGER_FORMAT "%% failed\n", int_of(r, "error_threshold"));
}

/* The order an action goes through its states; others follow in the server's order. */
static int state_rank(const char *s)
{
    static const char *const order[] = {"waiting", "assigned", "deferred", "downloading",
                                        "downloaded", "installing", "installed", "rebooting",
                                        "trial", "success", "failure", "rolled_back",
                                        "canceled", NULL};
    for (int i = 0; order[i]; i++)
        if (strcmp(s, order[i]) == 0)
            return i;
    return 100;
}

static int compare_states(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int d = state_rank(x) - state_rank(y);
    return d ? d : strcmp(x, y);
}

/* One row of the count table: the phase, what selects it, a count per state, the sum. */
static void count_row(uf_table *t, const char *mark, const char *name, const char *selects,
                      const json_t *counts, const char *const *states, size_t n)
{
    uf_table_cell(t, "%s%s", mark, name);
    uf_table_cell(t, "%s", selects);
    for (size_t k = 0; k < n; k++)
        uf_table_cell(t, "%" JSON_INTEGER_FORMAT, count_of(counts, states[k]));
    uf_table_cell(t, "%" JSON_INTEGER_FORMAT, sum_of(counts));
}

static void print_counts(const json_t *r)
{
    const json_t *counts = json_object_get(r, "counts"), *total = json_object_get(counts, "total");
    const json_t *phases = json_object_get(r, "phases"), *p;
    const char *headers[MAX_STATE_COLUMNS + 3] = {"PHASE", "SELECTS"}, *key;
    const json_t *v;
    size_t n = 0, i;
    char upper[MAX_STATE_COLUMNS][32];
    const char *states[MAX_STATE_COLUMNS];
    json_object_foreach((json_t *)(uintptr_t)total, key, v)
        if (n < MAX_STATE_COLUMNS)
            states[n++] = key;
    qsort(states, n, sizeof *states, compare_states);
    for (i = 0; i < n; i++) {
        snprintf(upper[i], sizeof upper[i], ">%s", states[i]);
        for (char *c = upper[i]; *c; c++)
            *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
        headers[2 + i] = upper[i];
    }
    headers[2 + n] = ">TOTAL";
    bool live = strcmp(uf_table_str(r, "state", ""), "running") == 0 ||
                strcmp(uf_table_str(r, "state", ""), "paused") == 0;
    uf_table *t = uf_table_new(headers, n + 3);
    json_array_foreach(phases, i, p) {
        char key_text[24], selects[128];
        snprintf(key_text, sizeof key_text, "%zu", i);
        if (json_object_get(p, "percent"))
            snprintf(selects, sizeof selects, "%" JSON_INTEGER_FORMAT "%%", int_of(p, "percent"));
        else
            snprintf(selects, sizeof selects, "%s", uf_table_str(p, "filter", "?"));
        bool current = live && (json_int_t)i == int_of(r, "current_phase");
        count_row(t, current ? "* " : "  ", uf_table_str(p, "name", "?"), selects,
                  json_object_get(json_object_get(counts, "by_phase"), key_text), states, n);
    }
    count_row(t, "  ", "total", "", total, states, n);
    putchar('\n');
    uf_table_print(t, stdout, "");
    uf_table_free(t);
}

void uf_view_rollout(const json_t *r, const void *unused)
{
    (void)unused;
    char created[32];
    uf_table_time((int64_t)int_of(r, "created_at"), created, sizeof created);
    printf("rollout %" JSON_INTEGER_FORMAT " \"", int_of(r, "id"));
    text(uf_table_str(r, "name", ""));
    printf("\" (tenant ");
    text(uf_table_str(r, "tenant", "?"));
    printf("), created %s by ", created);
    text(uf_table_str(r, "created_by", "?"));
    putchar('\n');
    label("release:");
    text(uf_table_str(r, "release", "?"));
    printf(", version ");
    text(uf_table_str(r, "version", "?"));
    printf(", sha256 %.12s\n", uf_table_str(r, "release_sha256", "?"));
    label("state:");
    print_state(r);
    if (json_is_integer(json_object_get(r, "rollback_of"))) {
        label("rolls back:");
        printf("rollout %" JSON_INTEGER_FORMAT "\n", int_of(r, "rollback_of"));
    }
    print_selection(r);
    print_how(r);
    print_counts(r);
}

void uf_view_rollout_devices(const json_t *body, const void *rollout)
{
    static const char *const headers[] = {"DEVICE", "HARDWARE", "PHASE", "STATE", ">PROGRESS",
                                          "UPDATED", "REASON"};
    uf_table *t = uf_table_new(headers, 7);
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(body, "items"), i, a) {
        char updated[32], phase[128];
        uf_table_time((int64_t)int_of(a, "updated_at"), updated, sizeof updated);
        phase_name(rollout, int_of(a, "phase"), phase, sizeof phase);
        uf_table_cell(t, "%s", uf_table_str(a, "device", "?"));
        uf_table_cell(t, "%s", uf_table_str(a, "hardware", "-"));
        uf_table_cell(t, "%s", phase);
        uf_table_cell(t, "%s", uf_table_str(a, "state", "?"));
        uf_table_cell(t, "%" JSON_INTEGER_FORMAT "%%", int_of(a, "progress"));
        uf_table_cell(t, "%s", updated);
        uf_table_cell(t, "%s", uf_table_str(a, "reason", ""));
    }
    uf_table_print(t, stdout, "no devices");
    uf_table_free(t);
}
