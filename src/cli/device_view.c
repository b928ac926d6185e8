/*
 * device_view.c - devices and published releases for people (see device_view.h). Everything
 * printed here came from the server; text goes through the table or uf_client_print_text.
 */
#include "cli/device_view.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/text_table.h"

bool uf_device_builtin_key(const char *key)
{
    static const char *const keys[] = {"name", "tenant", "hardware", "version", "tags",
                                       "inventory", "state", "last_seen", NULL};
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

/* "a, b, c" of a JSON array of strings ("-" when empty), to free(). */
static char *joined(const json_t *arr)
{
    size_t i;
    const json_t *v;
    char *out = strdup(json_array_size(arr) ? "" : "-");
    json_array_foreach(arr, i, v) {
        char *text = uf_table_json_text(v), *next = NULL;
        if (out && text && asprintf(&next, "%s%s%s", out, i ? ", " : "", text) < 0)
            next = NULL;
        free(out);
        free(text);
        out = next;
    }
    return out;
}

/* "k=v k=v" of an object's members (those not built in when skip_builtin), to free(). */
static char *pairs(const json_t *obj, bool skip_builtin)
{
    const char *key;
    const json_t *v;
    char *out = strdup("");
    json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
        if (skip_builtin && uf_device_builtin_key(key))
            continue;
        char *text = uf_table_json_text(v), *next = NULL;
        if (out && text && asprintf(&next, "%s%s%s=%s", out, *out ? " " : "", key, text) < 0)
            next = NULL;
        free(out);
        free(text);
        out = next;
    }
    return out;
}

void uf_view_devices(const json_t *body, const void *unused)
{
    (void)unused;
    static const char *const headers[] = {"NAME", "HARDWARE", "VERSION", "STATE", "LAST SEEN",
                                          "TAGS", "ATTRIBUTES"};
    uf_table *t = uf_table_new(headers, 7);
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(body, "items"), i, d) {
        char seen[32];
        uf_table_time((int64_t)json_integer_value(json_object_get(d, "last_seen")), seen,
                      sizeof seen);
        char *tags = joined(json_object_get(d, "tags")), *attrs = pairs(d, true);
        uf_table_cell(t, "%s", uf_table_str(d, "name", "?"));
        uf_table_cell(t, "%s", uf_table_str(d, "hardware", "-"));
        uf_table_cell(t, "%s", uf_table_str(d, "version", "-"));
        uf_table_cell(t, "%s", uf_table_str(d, "state", "-"));
        uf_table_cell(t, "%s", seen);
        uf_table_cell(t, "%s", tags ? tags : "?");
        uf_table_cell(t, "%s", attrs ? attrs : "?");
        free(tags);
        free(attrs);
    }
    uf_table_print(t, stdout, "no devices");
    uf_table_free(t);
}

/* "label:      text" */
static void line(const char *label, const char *text)
{
    printf("%-12s", label);
    uf_client_print_text(stdout, text && *text ? text : "-");
    putchar('\n');
}

static void line_time(const char *label, const json_t *obj, const char *key)
{
    char when[32];
    uf_table_time((int64_t)json_integer_value(json_object_get(obj, key)), when, sizeof when);
    line(label, when);
}

/* The reason, and the last line of the log tail when there is one. */
static char *reason_text(const json_t *ev)
{
    const char *reason = uf_table_str(ev, "reason", ""), *log = uf_table_str(ev, "log_tail", "");
    const char *last = log + strlen(log);
    while (last > log && last[-1] == '\n')
        last--;
    const char *start = last;
    while (start > log && start[-1] != '\n')
        start--;
    char *out = NULL;
    if (asprintf(&out, "%s%s%.*s", reason, *reason && last > start ? " | log: " : "",
                 (int)(last - start), start) < 0)
        out = NULL;
    return out;
}

/* An integer with a unit, or "-" when absent. */
static void cell_number(uf_table *t, const json_t *n, const char *unit)
{
    if (json_is_integer(n))
        uf_table_cell(t, "%" JSON_INTEGER_FORMAT "%s", json_integer_value(n), unit);
    else
        uf_table_cell(t, "-");
}

static void print_history(const json_t *history)
{
    static const char *const headers[] = {"WHEN", "STEP", ">ROLLOUT", ">ACTION", ">PROGRESS",
                                          "REASON"};
    uf_table *t = uf_table_new(headers, 6);
    size_t i;
    const json_t *ev;
    printf("history (newest first):\n");
    json_array_foreach(history, i, ev) {
        char when[32];
        uf_table_time((int64_t)json_integer_value(json_object_get(ev, "at")), when, sizeof when);
        char *reason = reason_text(ev);
        uf_table_cell(t, "%s", when);
        uf_table_cell(t, "%s", uf_table_str(ev, "step", "?"));
        cell_number(t, json_object_get(ev, "rollout"), "");
        cell_number(t, json_object_get(ev, "action"), "");
        cell_number(t, json_object_get(ev, "progress"), "%");
        uf_table_cell(t, "%s", reason ? reason : "?");
        free(reason);
    }
    uf_table_print(t, stdout, "  none yet");
    uf_table_free(t);
}

void uf_view_device(const json_t *dev, const void *unused)
{
    (void)unused;
    printf("device ");
    uf_client_print_text(stdout, uf_table_str(dev, "name", "?"));
    printf(" (tenant ");
    uf_client_print_text(stdout, uf_table_str(dev, "tenant", "?"));
    printf(")\n");
    line("hardware:", uf_table_str(dev, "hardware", NULL));
    line("version:", uf_table_str(dev, "version", NULL));
    line("state:", uf_table_str(dev, "state", NULL));
    line_time("last seen:", dev, "last_seen");
    line_time("enrolled:", dev, "created_at");
    char *texts[] = {joined(json_object_get(dev, "tags")), joined(json_object_get(dev, "groups")),
                     pairs(json_object_get(dev, "attributes"), false),
                     pairs(json_object_get(dev, "inventory"), false)};
    const char *const labels[] = {"tags:", "groups:", "attributes:", "inventory:"};
    for (size_t i = 0; i < 4; i++) {
        line(labels[i], texts[i] ? texts[i] : "?");
        free(texts[i]);
    }
    if (json_object_get(dev, "history"))
        print_history(json_object_get(dev, "history"));
}

void uf_view_releases(const json_t *body, const void *unused)
{
    (void)unused;
    static const char *const headers[] = {"PRODUCT", "VERSION", "HARDWARE", ">SIZE", "SHA256",
                                          "RELEASE"};
    uf_table *t = uf_table_new(headers, 6);
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(body, "items"), i, r) {
        char *hardware = joined(json_object_get(r, "hardware"));
        uf_table_cell(t, "%s", uf_table_str(r, "product", "-"));
        uf_table_cell(t, "%s", uf_table_str(r, "version", "-"));
        uf_table_cell(t, "%s", hardware ? hardware : "?");
        uf_table_cell(t, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(r, "length")));
        uf_table_cell(t, "%.12s", uf_table_str(r, "sha256", "-"));
        uf_table_cell(t, "%s", uf_table_str(r, "release", "?"));
        free(hardware);
    }
    uf_table_print(t, stdout, "no published releases");
    uf_table_free(t);
}
