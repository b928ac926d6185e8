/*
 * calendar_load.c - reading a working calendar from JSON (format: docs/calendars.md).
 *
 * Validation is strict because a calendar decides whether an SLA was met: unknown fields,
 * unsorted or overlapping sessions, bad times, overlapping overrides and make-up days without
 * a working weekday are all refused, and every error names its JSON path
 * ("week.mon[1]: session end 12:00 is not after start 13:30").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/calendar_model.h"
#include "lib/json.h"

#define PATH_MAX_LEN 128

const char *const uf_cal_weekday_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int weekday_index(const char *name)
{
    for (int i = 0; i < 7; i++)
        if (strcmp(name, uf_cal_weekday_names[i]) == 0)
            return i;
    return -1;
}

static void format_minutes(int minutes, char out[8])
{
    snprintf(out, 8, "%02d:%02d", minutes / 60 % 100, minutes % 60);
}

/* "HH:MM", 00:00..23:59, or 24:00 where allowed (the end of a session). */
static bool parse_hhmm(const char *s, bool allow_24, int *out)
{
    if (strlen(s) != 5 || s[2] != ':')
        return false;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (!allow_24 || m != 0)))
        return false;
    *out = h * 60 + m;
    return true;
}

static bool get_time(const json_t *pair, const char *path, size_t i, bool is_end, int *out,
                     uf_error *err)
{
    char sub[PATH_MAX_LEN];
    uf_json_path_index(sub, sizeof sub, path, i);
    const json_t *v = json_array_get(pair, i);
    if (!json_is_string(v))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected string, got %s", sub,
                            uf_json_type_name(v));
    if (!parse_hhmm(json_string_value(v), is_end, out))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: bad time \"%s\", expected HH:MM (%s)",
                            sub, json_string_value(v), is_end ? "00:01..24:00" : "00:00..23:59");
    return true;
}

/* [["08:30","12:00"], ["13:30","17:30"]]: sorted, each end after its start, no overlaps
 * (a session may start exactly where the previous one ends). */
static bool parse_sessions(const json_t *arr, const char *path, cal_day *out, uf_error *err)
{
    size_t n = json_array_size(arr);
    if (n > UF_CAL_MAX_SESSIONS)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: %zu sessions, at most %d in a day", path,
                            n, UF_CAL_MAX_SESSIONS);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        char sub[PATH_MAX_LEN], a[8], b[8];
        uf_json_path_index(sub, sizeof sub, path, i);
        const json_t *pair = json_array_get(arr, i);
        if (!json_is_array(pair) || json_array_size(pair) != 2)
            return uf_error_set(err, UF_E_BAD_FIELD,
                                "%s: expected a [\"HH:MM\", \"HH:MM\"] pair, got %s", sub,
                                json_is_array(pair) ? "an array of another length"
                                                    : uf_json_type_name(pair));
        cal_session *s = &out->s[i];
        if (!get_time(pair, sub, 0, false, &s->start, err) ||
            !get_time(pair, sub, 1, true, &s->end, err))
            return false;
        format_minutes(s->start, a);
        format_minutes(s->end, b);
        if (s->end <= s->start)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: session end %s is not after start %s",
                                sub, b, a);
        if (i > 0 && s->start < out->s[i - 1].end) {
            char prev[8];
            format_minutes(out->s[i - 1].end, prev);
            return uf_error_set(err, UF_E_BAD_FIELD,
                                "%s: session %s-%s starts before the previous one ends at %s "
                                "(sessions must be sorted and must not overlap)",
                                sub, a, b, prev);
        }
    }
    return true;
}

static bool parse_week(const json_t *doc, uf_calendar *cal, uf_error *err)
{
    static const char *const order[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL};
    json_t *week;
    if (!uf_json_get_object(doc, "", "week", &week, err) ||
        !uf_json_only_keys(week, "week", order, err))
        return false;
    for (int i = 0; order[i]; i++) {
        char path[PATH_MAX_LEN];
        json_t *arr;
        uf_json_path_key(path, sizeof path, "week", order[i]);
        if (!uf_json_get_array(week, "week", order[i], &arr, err) ||
            !parse_sessions(arr, path, &cal->week[weekday_index(order[i])], err))
            return false;
    }
    return true;
}

static bool get_date(const json_t *obj, const char *path, const char *key, int64_t *day,
                     uf_error *err)
{
    const char *s;
    char sub[PATH_MAX_LEN];
    uf_json_path_key(sub, sizeof sub, path, key);
    if (!uf_json_get_string(obj, path, key, &s, err))
        return false;
    if (!uf_parse_date(s, day))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: bad date \"%s\", expected YYYY-MM-DD", sub,
                            s);
    return true;
}

static bool parse_effective(const json_t *doc, uf_calendar *cal, uf_error *err)
{
    static const char *const keys[] = {"from", "to", NULL};
    json_t *eff;
    if (!uf_json_get_object(doc, "", "effective", &eff, err) ||
        !uf_json_only_keys(eff, "effective", keys, err) ||
        !get_date(eff, "effective", "from", &cal->eff_from, err) ||
        !get_date(eff, "effective", "to", &cal->eff_to, err))
        return false;
    if (cal->eff_to < cal->eff_from) {
        char a[16], b[16];
        uf_format_date(cal->eff_from, a, sizeof a);
        uf_format_date(cal->eff_to, b, sizeof b);
        return uf_error_set(err, UF_E_BAD_FIELD, "effective.to: %s is before from %s", b, a);
    }
    return true;
}

/* "date": D, or "from": D1 and "to": D2 - exactly one of the two forms. */
static bool parse_override_dates(const json_t *o, const char *path, cal_override *ov,
                                 uf_error *err)
{
    bool has_date = json_object_get(o, "date") != NULL;
    bool has_from = json_object_get(o, "from") != NULL, has_to = json_object_get(o, "to") != NULL;
    if (has_date && (has_from || has_to))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: give either \"date\" or \"from\" and "
                            "\"to\", not both", path);
    if (has_date) {
        if (!get_date(o, path, "date", &ov->from, err))
            return false;
        ov->to = ov->from;
        return true;
    }
    if (!has_from && !has_to)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: missing \"date\" (or \"from\" and \"to\")",
                            path);
    if (!get_date(o, path, "from", &ov->from, err) || !get_date(o, path, "to", &ov->to, err))
        return false;
    if (ov->to < ov->from)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s.to: is before %s.from", path, path);
    return true;
}

static bool parse_override_kind(const json_t *o, const char *path, const uf_calendar *cal,
                                cal_override *ov, uf_error *err)
{
    const char *kind, *as = NULL;
    json_t *sessions = NULL;
    char sub[PATH_MAX_LEN];
    if (!uf_json_get_string(o, path, "kind", &kind, err) ||
        !uf_json_opt_string(o, path, "as", &as, err) ||
        !uf_json_opt_array(o, path, "sessions", &sessions, err))
        return false;
    if (strcmp(kind, "holiday") == 0)
        ov->kind = CAL_HOLIDAY;
    else if (strcmp(kind, "makeup_workday") == 0)
        ov->kind = CAL_MAKEUP_WORKDAY;
    else if (strcmp(kind, "custom") == 0)
        ov->kind = CAL_CUSTOM;
    else
        return uf_error_set(err, UF_E_BAD_FIELD, "%s.kind: unknown kind \"%s\", expected "
                            "holiday, makeup_workday or custom", path, kind);
    if (as && ov->kind != CAL_MAKEUP_WORKDAY)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s.as: only a makeup_workday has \"as\"",
                            path);
    if (sessions && ov->kind != CAL_CUSTOM)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s.sessions: only a custom day has sessions",
                            path);
    if (ov->kind == CAL_MAKEUP_WORKDAY) {
        if (!uf_json_get_string(o, path, "as", &as, err))
            return false;
        ov->as = weekday_index(as);
        if (ov->as < 0)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.as: unknown weekday \"%s\", expected "
                                "mon, tue, wed, thu, fri, sat or sun", path, as);
        if (cal->week[ov->as].n == 0)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.as: \"%s\" has no sessions, so the "
                                "make-up workday would not be worked", path, as);
    }
    if (ov->kind == CAL_CUSTOM) {
        uf_json_path_key(sub, sizeof sub, path, "sessions");
        if (!uf_json_get_array(o, path, "sessions", &sessions, err) ||
            !parse_sessions(sessions, sub, &ov->custom, err))
            return false;
    }
    return true;
}

static bool parse_override(const json_t *o, const char *path, const uf_calendar *cal,
                           cal_override *ov, uf_error *err)
{
    static const char *const keys[] = {"date", "from", "to", "kind", "as", "sessions", "name",
                                       NULL};
    const char *name;
    if (!json_is_object(o))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object, got %s", path,
                            uf_json_type_name(o));
    return uf_json_only_keys(o, path, keys, err) &&
           uf_json_opt_string(o, path, "name", &name, err) &&
           parse_override_dates(o, path, ov, err) && parse_override_kind(o, path, cal, ov, err);
}

static int compare_overrides(const void *a, const void *b)
{
    const cal_override *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void format_range(int64_t from, int64_t to, char *out, size_t len)
{
    char a[16], b[16];
    uf_format_date(from, a, sizeof a);
    uf_format_date(to, b, sizeof b);
    if (from == to)
        snprintf(out, len, "%s", a);
    else
        snprintf(out, len, "%s..%s", a, b);
}

/* Sorted by start date, any overlap shows up between neighbours. The later entry in the file
 * is the one blamed. */
static bool check_override_overlaps(const uf_calendar *cal, uf_error *err)
{
    for (size_t i = 1; i < cal->n_overrides; i++) {
        const cal_override *a = &cal->overrides[i - 1], *b = &cal->overrides[i];
        if (b->from > a->to)
            continue;
        const cal_override *late = a->index > b->index ? a : b, *early = late == a ? b : a;
        char lr[40], er[40];
        format_range(late->from, late->to, lr, sizeof lr);
        format_range(early->from, early->to, er, sizeof er);
        return uf_error_set(err, UF_E_BAD_FIELD, "overrides[%zu]: %s overlaps overrides[%zu] (%s)",
                            late->index, lr, early->index, er);
    }
    return true;
}

static bool parse_overrides(const json_t *doc, uf_calendar *cal, uf_error *err)
{
    json_t *arr = NULL;
    if (!uf_json_opt_array(doc, "", "overrides", &arr, err))
        return false;
    size_t n = arr ? json_array_size(arr) : 0;
    if (n == 0)
        return true;
    cal->overrides = calloc(n, sizeof *cal->overrides);
    if (!cal->overrides)
        return uf_error_set(err, UF_E_NOMEM, "cannot allocate %zu overrides", n);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX_LEN];
        uf_json_path_index(path, sizeof path, "overrides", i);
        cal->overrides[i].index = i;
        if (!parse_override(json_array_get(arr, i), path, cal, &cal->overrides[i], err))
            return false;
        cal->n_overrides = i + 1;
    }
    qsort(cal->overrides, n, sizeof *cal->overrides, compare_overrides);
    return check_override_overlaps(cal, err);
}

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

static bool copy_string(char **dst, const char *src, uf_error *err)
{
    *dst = strdup(src ? src : "");
    return *dst ? true : uf_error_set(err, UF_E_NOMEM, "cannot copy a string");
}

static bool parse_header(const json_t *doc, uf_calendar *cal, uf_error *err)
{
    static const char *const keys[] = {"id", "version", "name", "timezone", "source", "notes",
                                       "effective", "week", "overrides", NULL};
    const char *id, *name = NULL, *source = NULL, *notes = NULL, *zone;
    if (!json_is_object(doc))
        return uf_error_set(err, UF_E_BAD_FIELD, "expected an object, got %s",
                            uf_json_type_name(doc));
    if (!uf_json_only_keys(doc, "", keys, err) || !uf_json_get_string(doc, "", "id", &id, err) ||
        !uf_json_get_int_range(doc, "", "version", 1, INT32_MAX, &cal->version, err) ||
        !uf_json_opt_string(doc, "", "name", &name, err) ||
        !uf_json_opt_string(doc, "", "source", &source, err) ||
        !uf_json_opt_string(doc, "", "notes", &notes, err) ||
        !uf_json_get_string(doc, "", "timezone", &zone, err))
        return false;
    if (!valid_id(id))
        return uf_error_set(err, UF_E_BAD_FIELD, "id: \"%.64s\" is not 1-64 of [A-Za-z0-9._-]",
                            id);
    if (!copy_string(&cal->id, id, err) || !copy_string(&cal->name, name, err) ||
        !copy_string(&cal->source, source, err))
        return false;
    cal->tz = uf_tz_load(zone, err);
    return cal->tz ? true : uf_error_prefix(err, "timezone");
}

void uf_calendar_free(uf_calendar *cal)
{
    if (!cal)
        return;
    free(cal->id);
    free(cal->name);
    free(cal->source);
    uf_tz_free(cal->tz);
    free(cal->overrides);
    free(cal);
}

uf_calendar *uf_calendar_from_json(const json_t *doc, uf_error *err)
{
    uf_calendar *cal = calloc(1, sizeof *cal);
    if (!cal) {
        uf_error_set(err, UF_E_NOMEM, "cannot allocate a calendar");
        return NULL;
    }
    if (!parse_header(doc, cal, err) || !parse_effective(doc, cal, err) ||
        !parse_week(doc, cal, err) || !parse_overrides(doc, cal, err)) {
        uf_calendar_free(cal);
        return NULL;
    }
    return cal;
}

uf_calendar *uf_calendar_parse(const char *text, size_t len, uf_error *err)
{
    json_t *doc = uf_json_parse(text, len, NULL, err);
    if (!doc)
        return NULL;
    uf_calendar *cal = uf_calendar_from_json(doc, err);
    json_decref(doc);
    return cal;
}

uf_calendar *uf_calendar_load_file(const char *path, uf_error *err)
{
    json_t *doc = uf_json_load_file(path, NULL, err);
    uf_calendar *cal = doc ? uf_calendar_from_json(doc, err) : NULL;
    json_decref(doc);
    if (!cal && doc)
        uf_error_prefix(err, "%s", path);
    return cal;
}
