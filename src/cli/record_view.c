/*
 * record_view.c - records as people read them in a terminal (see record_view.h). Everything
 * printed here came from the server, so all text goes through uf_client_print_text.
 */
#include "cli/record_view.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"

static void format_time(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !localtime_r(&tt, &tm) || strftime(out, len, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(out, len, "-");
}

const char *uf_view_str(const json_t *obj, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : fallback;
}

int64_t uf_view_int(const json_t *obj, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(obj, key));
}

/* A field value for people: strings as they are, anything else as compact JSON. */
static void print_value(const json_t *v)
{
    if (json_is_string(v)) {
        uf_client_print_text(stdout, json_string_value(v));
        return;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    uf_client_print_text(stdout, text ? text : "?");
    free(text);
}

/* At most max characters of a UTF-8 string, "…" marking a cut. */
static void print_truncated(const char *s, size_t max)
{
    size_t chars = 0, i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80 && ++chars > max)
            break;
    }
    char *copy = strndup(s, i);
    uf_client_print_text(stdout, copy ? copy : "");
    if (s[i])
        fputs("…", stdout);
    free(copy);
}

/* "STATE (label)" */
void uf_view_state(const json_t *record)
{
    uf_client_print_text(stdout, uf_view_str(record, "state", "?"));
    const char *label = uf_view_str(record, "state_label", NULL);
    if (label) {
        fputs(" (", stdout);
        uf_client_print_text(stdout, label);
        fputc(')', stdout);
    }
}

/* The field that best names a record, for tables. */
static const char *title_of(const json_t *record)
{
    static const char *const names[] = {"title", "summary", "subject", "name", "description"};
    json_t *fields = json_object_get(record, "fields");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *s = json_string_value(json_object_get(fields, names[i]));
        if (s && *s)
            return s;
    }
    return "";
}

static void widen(int *width, const char *s)
{
    int n = (int)strlen(s);
    if (n > *width)
        *width = n;
}

void uf_view_table(const json_t *items)
{
    if (json_array_size(items) == 0) {
        printf("no records\n");
        return;
    }
    int w_id = 2, w_type = 4, w_state = 5, w_assignee = 8;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, uf_view_int(it, "id"));
        widen(&w_id, id);
        widen(&w_type, uf_view_str(it, "type", ""));
        widen(&w_state, uf_view_str(it, "state", ""));
        widen(&w_assignee, uf_view_str(it, "assignee", "-"));
    }
    /* the title goes last: its width on screen is unknown (CJK), and nothing needs to line
     * up after it */
    printf("%-*s  %-*s  %-*s  %-*s  %-16s  %s\n", w_id, "ID", w_type, "TYPE", w_state, "STATE",
           w_assignee, "ASSIGNEE", "UPDATED", "TITLE");
    json_array_foreach(items, i, it) {
        const char *cols[] = {uf_view_str(it, "type", ""), uf_view_str(it, "state", ""),
                              uf_view_str(it, "assignee", "-")};
        const int widths[] = {w_type, w_state, w_assignee};
        char updated[32];
        format_time(uf_view_int(it, "updated_at"), updated, sizeof updated);
        printf("%-*" PRId64 "  ", w_id, uf_view_int(it, "id"));
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            uf_client_print_text(stdout, cols[k]);
            printf("%*s", widths[k] - (int)strlen(cols[k]) + 2, "");
        }
        printf("%-16s  ", updated);
        print_truncated(title_of(it), 60);
        putchar('\n');
    }
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Fields sorted by name, so the output is stable. */
static void print_fields(const json_t *fields)
{
    size_t width = 0, n = 0;
    const char *name;
    json_t *v;
    const char **names = calloc(json_object_size(fields) + 1, sizeof *names);
    json_object_foreach((json_t *)(uintptr_t)fields, name, v) {
        width = strlen(name) > width ? strlen(name) : width;
        if (names)
            names[n++] = name;
    }
    printf("fields:%s\n", n ? "" : "    none");
    if (n > 1)
        qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        fputs("  ", stdout);
        uf_client_print_text(stdout, names[i]);
        printf("%*s  ", (int)(width - strlen(names[i])), "");
        print_value(json_object_get(fields, names[i]));
        putchar('\n');
    }
    free(names);
}

void uf_view_record(const json_t *rec)
{
    char created[32], updated[32];
    format_time(uf_view_int(rec, "created_at"), created, sizeof created);
    format_time(uf_view_int(rec, "updated_at"), updated, sizeof updated);
    printf("record %" PRId64 ": ", uf_view_int(rec, "id"));
    uf_client_print_text(stdout, uf_view_str(rec, "type", "?"));
    fputs(" of ", stdout);
    uf_client_print_text(stdout, uf_view_str(rec, "template", "?"));
    printf(" v%" PRId64 "\n", uf_view_int(rec, "template_version"));
    fputs("state:     ", stdout);
    uf_view_state(rec);
    fputs("\nassignee:  ", stdout);
    uf_client_print_text(stdout, uf_view_str(rec, "assignee", "-"));
    printf("\ncreated:   %s by ", created);
    uf_client_print_text(stdout, uf_view_str(rec, "created_by", "?"));
    printf("\nupdated:   %s (revision %" PRId64 ")\n", updated, uf_view_int(rec, "revision"));
    print_fields(json_object_get(rec, "fields"));

    size_t i;
    json_t *l;
    json_t *links = json_object_get(rec, "links");
    if (json_array_size(links))
        printf("links:\n");
    json_array_foreach(links, i, l) {
        fputs("  ", stdout);
        uf_client_print_text(stdout, uf_view_str(l, "link", "?"));
        if (json_object_get(l, "to"))
            printf(" -> %" PRId64 "\n", uf_view_int(l, "to"));
        else
            printf(" <- %" PRId64 "\n", uf_view_int(l, "from"));
    }
    json_t *trs = json_object_get(rec, "transitions");
    printf("transitions:%s\n", json_array_size(trs) ? "" : " none available to you");
    json_array_foreach(trs, i, l) {
        fputs("  ", stdout);
        uf_client_print_text(stdout, uf_view_str(l, "id", "?"));
        fputs("  ", stdout);
        uf_client_print_text(stdout, uf_view_str(l, "name", ""));
        fputs(" -> ", stdout);
        uf_client_print_text(stdout, uf_view_str(l, "to", "?"));
        puts(json_is_true(json_object_get(l, "approval")) ? "  (by approval)" : "");
    }
}

void uf_view_decision(const json_t *result, int64_t id, const char *transition, bool approve)
{
    json_t *quorum = json_object_get(result, "quorum");
    printf("%s ", approve ? "approved" : "rejected");
    uf_client_print_text(stdout, transition);
    printf(" on record %" PRId64 " (quorum %" PRId64 " of %" PRId64 ")\n", id,
           uf_view_int(quorum, "approved"), uf_view_int(quorum, "needed"));
    const char *fired = uf_view_str(result, "fired", NULL);
    if (fired) {
        uf_client_print_text(stdout, fired);
        fputs(" fired: the record is now in state ", stdout);
        uf_view_state(json_object_get(result, "record"));
        putchar('\n');
    }
    json_t *unmet = json_object_get(result, "unmet");
    if (json_array_size(unmet)) {
        uf_client_print_text(stdout, transition);
        fputs(" still waits for:\n", stdout);
    }
    size_t i;
    json_t *u;
    json_array_foreach(unmet, i, u) {
        fputs("  ", stdout);
        uf_client_print_text(stdout, uf_view_str(u, "guard", "?"));
        fputs(": ", stdout);
        uf_client_print_text(stdout, uf_view_str(u, "message", ""));
        putchar('\n');
    }
}
