/*
 * window.c - maintenance windows (see window.h).
 */
#include "server/window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/tz.h"

#define MAX_DURATION (7 * 86400)

/* One cron field as a bit set of allowed values. */
typedef struct cron_field {
    uint64_t bits;
    bool any; /* written "*": no restriction */
} cron_field;

struct mw_window {
    cron_field minute, hour, dom, month, dow;
    int64_t duration;
    uf_tz *tz;
};

static bool parse_number(const char **p, int *out)
{
    if (**p < '0' || **p > '9')
        return false;
    int v = 0;
    while (**p >= '0' && **p <= '9' && v < 1000)
        v = v * 10 + (*(*p)++ - '0');
    *out = v;
    return true;
}

/* "*", "*\/N", "A", "A-B", "A-B/N", and lists of them. */
static bool parse_field(const char *text, int min, int max, cron_field *f)
{
    f->bits = 0;
    f->any = strcmp(text, "*") == 0;
    const char *p = text;
    for (;;) {
        int lo = min, hi = max, step = 1;
        if (*p == '*') {
            p++;
        } else {
            if (!parse_number(&p, &lo))
                return false;
            hi = lo;
            if (*p == '-' && (p++, !parse_number(&p, &hi)))
                return false;
        }
        if (*p == '/' && (p++, !parse_number(&p, &step) || step == 0))
            return false;
        if (lo < min || hi > max || lo > hi)
            return false;
        for (int v = lo; v <= hi; v += step)
            f->bits |= UINT64_C(1) << v;
        if (*p != ',')
            break;
        p++;
    }
    return *p == '\0';
}

static bool parse_cron(const char *cron, mw_window *w, uf_error *err)
{
    char buf[128], *fields[5], *save = NULL;
    snprintf(buf, sizeof buf, "%s", cron);
    size_t n = 0;
    for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
        if (n++ < 5)
            fields[n - 1] = tok;
    if (n != 5)
        return uf_error_set(err, UF_E_BAD_FIELD,
                            "window.cron: expected 5 fields \"M H DOM MON DOW\", got '%s'", cron);
    static const struct { const char *name; int min, max; } spec[5] = {
        {"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12},
        {"day of week", 0, 7}};
    cron_field *out[5] = {&w->minute, &w->hour, &w->dom, &w->month, &w->dow};
    for (size_t i = 0; i < 5; i++)
        if (!parse_field(fields[i], spec[i].min, spec[i].max, out[i]))
            return uf_error_set(err, UF_E_BAD_FIELD, "window.cron: bad %s field '%s' (%d-%d)",
                                spec[i].name, fields[i], spec[i].min, spec[i].max);
    if (w->dow.bits & (UINT64_C(1) << 7)) /* 7 is Sunday too */
        w->dow.bits |= 1;
    return true;
}

mw_window *mw_parse(const json_t *spec, uf_error *err)
{
    const char *cron, *tz = "UTC";
    int64_t duration;
    mw_window *w = calloc(1, sizeof *w);
    if (!w) {
        uf_error_set(err, UF_E_NOMEM, "window");
        return NULL;
    }
    if (!uf_json_get_string(spec, "window", "cron", &cron, err) ||
        !uf_json_get_int_range(spec, "window", "duration", 60, MAX_DURATION, &duration, err) ||
        !uf_json_opt_string(spec, "window", "tz", &tz, err) || !parse_cron(cron, w, err) ||
        !(w->tz = uf_tz_load(tz, err))) {
        mw_free(w);
        return NULL;
    }
    w->duration = duration;
    return w;
}

void mw_free(mw_window *w)
{
    if (!w)
        return;
    uf_tz_free(w->tz);
    free(w);
}

static bool has(const cron_field *f, int v)
{
    return (f->bits >> v) & 1;
}

/* As cron does: when both day of month and day of week are restricted, either may match. */
static bool starts_at(const mw_window *w, const uf_civil *c, int wday)
{
    bool dom = has(&w->dom, c->day), dow = has(&w->dow, wday);
    bool day = w->dom.any || w->dow.any ? dom && dow : dom || dow;
    return has(&w->minute, c->minute) && has(&w->hour, c->hour) && has(&w->month, c->month) &&
           day;
}

bool mw_open(const mw_window *w, int64_t utc)
{
    int64_t minute = utc - uf_floor_div(utc, 60) * 60;
    for (int64_t s = utc - minute; s > utc - w->duration; s -= 60) {
        uf_civil c;
        int32_t off;
        if (!uf_tz_utc_to_local(w->tz, s, &c, &off))
            return false;
        int64_t days = uf_days_from_civil(c.year, c.month, c.day);
        if (starts_at(w, &c, uf_weekday_from_days(days)))
            return true;
    }
    return false;
}
