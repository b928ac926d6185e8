/*
 * calendar.c - working-calendar evaluation and SLA deadline arithmetic (see calendar.h).
 *
 * Everything is built on one primitive: a walk over the working sessions in time order, day
 * by day in the calendar's zone, each session turned into a UTC span [start, end). Session
 * boundaries are local wall-clock times, so a DST change moves them with the clocks, and the
 * length of a span is the real time that passes. Every walk is bounded (UF_CAL_MAX_IDLE_DAYS
 * without work, UF_CAL_MAX_SPAN_DAYS in all) and notes the dates it consults outside the
 * calendar's effective range.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/calendar_model.h"

/* Day numbers whose sessions can be turned into instants (a margin inside UF_TIME_*). */
#define DAY_MIN (UF_TIME_MIN / 86400 + 2)
#define DAY_MAX (UF_TIME_MAX / 86400 - 2)

/* ---------------------------------------------------------------- accessors */

const char *uf_calendar_id(const uf_calendar *cal) { return cal->id; }
int64_t uf_calendar_version(const uf_calendar *cal) { return cal->version; }
const char *uf_calendar_name(const uf_calendar *cal) { return cal->name; }
const char *uf_calendar_source(const uf_calendar *cal) { return cal->source; }
const uf_tz *uf_calendar_tz(const uf_calendar *cal) { return cal->tz; }

void uf_calendar_effective(const uf_calendar *cal, int64_t *from_day, int64_t *to_day)
{
    *from_day = cal->eff_from;
    *to_day = cal->eff_to;
}

/* ---------------------------------------------------------------- warnings */

void uf_cal_warnings_clear(uf_cal_warnings *w)
{
    memset(w, 0, sizeof *w);
}

static void warnings_format(const uf_calendar *cal, uf_cal_warnings *w)
{
    char first[16], last[16], from[16], to[16];
    uf_format_date(w->first_day, first, sizeof first);
    uf_format_date(w->last_day, last, sizeof last);
    uf_format_date(cal->eff_from, from, sizeof from);
    uf_format_date(cal->eff_to, to, sizeof to);
    if (w->first_day == w->last_day)
        snprintf(w->msg, sizeof w->msg,
                 "%s is outside the calendar's effective range %s..%s", first, from, to);
    else if (w->first_day < cal->eff_from && w->last_day > cal->eff_to)
        snprintf(w->msg, sizeof w->msg,
                 "%s..%s reaches outside the calendar's effective range %s..%s", first, last,
                 from, to);
    else
        snprintf(w->msg, sizeof w->msg,
                 "%s..%s are outside the calendar's effective range %s..%s", first, last, from,
                 to);
}

static void note_day(const uf_calendar *cal, int64_t day, uf_cal_warnings *w)
{
    if (!w || (day >= cal->eff_from && day <= cal->eff_to))
        return;
    if (!w->outside_range || day < w->first_day)
        w->first_day = day;
    if (!w->outside_range || day > w->last_day)
        w->last_day = day;
    w->outside_range = true;
    warnings_format(cal, w);
}

/* ---------------------------------------------------------------- one day */

static const cal_override *override_for(const uf_calendar *cal, int64_t day)
{
    size_t lo = 0, hi = cal->n_overrides; /* first override with from > day */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->overrides[mid].from <= day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || cal->overrides[lo - 1].to < day)
        return NULL;
    return &cal->overrides[lo - 1];
}

/* The sessions of a local date: its override if it has one, else its weekday's. */
static const cal_day *sessions_of_day(const uf_calendar *cal, int64_t day)
{
    static const cal_day none = {0, {{0, 0}}};
    const cal_override *ov = override_for(cal, day);
    if (!ov)
        return &cal->week[uf_weekday_from_days(day)];
    switch (ov->kind) {
    case CAL_MAKEUP_WORKDAY:
        return &cal->week[ov->as];
    case CAL_CUSTOM:
        return &ov->custom;
    case CAL_HOLIDAY:
        break;
    }
    return &none;
}

size_t uf_calendar_day_minutes(const uf_calendar *cal, int64_t day, int out[][2],
                               uf_cal_warnings *w)
{
    note_day(cal, day, w);
    const cal_day *d = sessions_of_day(cal, day);
    for (size_t i = 0; i < d->n; i++) {
        out[i][0] = d->s[i].start;
        out[i][1] = d->s[i].end;
    }
    return d->n;
}

/* The sessions of a local date as UTC spans, in order. A span may not begin before the
 * previous one ended (*prev_end): local times that a DST gap pushes forward could otherwise
 * overlap the next session; spans left empty are dropped. day must be within DAY_MIN..MAX. */
static size_t day_spans(const uf_calendar *cal, int64_t day, int64_t *prev_end,
                        uf_cal_span out[], uf_cal_warnings *w)
{
    note_day(cal, day, w);
    const cal_day *d = sessions_of_day(cal, day);
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        int64_t s, e;
        if (!uf_tz_local_seconds_to_utc(cal->tz, day * 86400 + d->s[i].start * 60, &s) ||
            !uf_tz_local_seconds_to_utc(cal->tz, day * 86400 + d->s[i].end * 60, &e))
            continue; /* unreachable within DAY_MIN..DAY_MAX */
        if (s < *prev_end)
            s = *prev_end;
        if (e <= s)
            continue;
        out[n].start = s;
        out[n].end = e;
        *prev_end = e;
        n++;
    }
    return n;
}

static int64_t local_day(const uf_calendar *cal, int64_t t)
{
    return uf_floor_div(t + uf_tz_offset_at(cal->tz, t), 86400);
}

static bool check_time(int64_t t, uf_error *err)
{
    if (t < DAY_MIN * 86400 || t > DAY_MAX * 86400)
        return uf_error_set(err, UF_E_INVALID, "time %" PRId64 " is out of range", t);
    return true;
}

/* ---------------------------------------------------------------- the session walk */

typedef struct span_walk {
    const uf_calendar *cal;
    uf_cal_warnings *w;
    int64_t start_day, day, last_working_day;
    int64_t stop_day;   /* the walk ends (without error) after this day */
    bool require_work;  /* an idle stretch of UF_CAL_MAX_IDLE_DAYS is an error */
    int64_t prev_end;
    size_t n, next;     /* spans of `day`, and the next one to hand out */
    uf_cal_span spans[UF_CAL_MAX_SESSIONS];
} span_walk;

typedef enum { WALK_SPAN, WALK_END, WALK_ERROR } walk_result;

static void walk_init(span_walk *wk, const uf_calendar *cal, int64_t day, uf_cal_warnings *w)
{
    memset(wk, 0, sizeof *wk);
    wk->cal = cal;
    wk->w = w;
    wk->start_day = day;
    wk->day = day - 1;
    wk->last_working_day = day - 1;
    wk->stop_day = INT64_MAX;
    wk->require_work = true;
    wk->prev_end = INT64_MIN;
}

static bool walk_load_next_day(span_walk *wk, uf_error *err)
{
    char date[16];
    wk->day++;
    if (wk->require_work && wk->day - wk->last_working_day > UF_CAL_MAX_IDLE_DAYS) {
        uf_format_date(wk->last_working_day + 1, date, sizeof date);
        return uf_error_set(err, UF_E_NOT_FOUND,
                            "calendar %s has no working time in the %d days from %s",
                            wk->cal->id, UF_CAL_MAX_IDLE_DAYS, date);
    }
    if (wk->day - wk->start_day >= UF_CAL_MAX_SPAN_DAYS || wk->day > DAY_MAX) {
        uf_format_date(wk->start_day, date, sizeof date);
        return uf_error_set(err, UF_E_TOO_LARGE, "calendar %s: the answer is more than %d days "
                            "after %s", wk->cal->id, UF_CAL_MAX_SPAN_DAYS, date);
    }
    wk->n = day_spans(wk->cal, wk->day, &wk->prev_end, wk->spans, wk->w);
    wk->next = 0;
    if (wk->n > 0)
        wk->last_working_day = wk->day;
    return true;
}

/* The next working span in time order; its local date is wk->day. */
static walk_result walk_next(span_walk *wk, uf_cal_span *out, uf_error *err)
{
    while (wk->next >= wk->n) {
        if (wk->day >= wk->stop_day)
            return WALK_END;
        if (!walk_load_next_day(wk, err))
            return WALK_ERROR;
    }
    *out = wk->spans[wk->next++];
    return WALK_SPAN;
}

/* Start a walk at t's local date and advance to the first session that ends after t: the
 * session containing t, or else the next one (whose start is then t's effective receipt). */
static bool walk_to_first_after(span_walk *wk, const uf_calendar *cal, int64_t t,
                                uf_cal_span *out, uf_cal_warnings *w, uf_error *err)
{
    if (!check_time(t, err))
        return false;
    walk_init(wk, cal, local_day(cal, t), w);
    do {
        if (walk_next(wk, out, err) != WALK_SPAN)
            return false;
    } while (out->end <= t);
    return true;
}

/* ---------------------------------------------------------------- operations */

bool uf_calendar_session_at(const uf_calendar *cal, int64_t t, uf_cal_span *out,
                            uf_cal_warnings *w)
{
    if (!check_time(t, NULL))
        return false;
    uf_cal_span spans[UF_CAL_MAX_SESSIONS];
    int64_t prev_end = INT64_MIN, day = local_day(cal, t);
    size_t n = day_spans(cal, day, &prev_end, spans, w);
    for (size_t i = 0; i < n; i++) {
        if (spans[i].start <= t && t < spans[i].end) {
            if (out)
                *out = spans[i];
            return true;
        }
    }
    return false;
}

bool uf_calendar_is_working(const uf_calendar *cal, int64_t t, uf_cal_warnings *w)
{
    return uf_calendar_session_at(cal, t, NULL, w);
}

bool uf_calendar_next_session_start(const uf_calendar *cal, int64_t t, int64_t *out,
                                    uf_cal_warnings *w, uf_error *err)
{
    span_walk wk;
    uf_cal_span s;
    if (!walk_to_first_after(&wk, cal, t, &s, w, err))
        return false;
    while (s.start < t) /* t is inside s: the next session is the answer */
        if (walk_next(&wk, &s, err) != WALK_SPAN)
            return false;
    *out = s.start;
    return true;
}

bool uf_calendar_effective_receipt(const uf_calendar *cal, int64_t t, int64_t *out,
                                   uf_cal_warnings *w, uf_error *err)
{
    span_walk wk;
    uf_cal_span s;
    if (!walk_to_first_after(&wk, cal, t, &s, w, err))
        return false;
    *out = s.start > t ? s.start : t;
    return true;
}

/*
 * The S1 rule (workflow.md 3.2) defines "half a working day" by session boundaries, not by
 * a duration: a morning receipt is due when the afternoon starts, an afternoon receipt when
 * the next working day starts. So the deadline is the start of the session after the one
 * holding the effective receipt:
 *   - a receipt inside a session belongs to that session (11:59 -> due 13:30, even though
 *     only one working minute is left: the lunch break is usable);
 *   - a receipt outside every session (before work, lunch, evening, weekend, holiday) is
 *     effectively received when the next session starts, so it belongs to that session:
 *     12:20 counts as an afternoon receipt and is due at 08:30 the next working day;
 *   - sessions are half-open, so a receipt at exactly 12:00 is already outside the morning.
 * "The next session" is found with the calendar, so holidays and 调休 make-up days count:
 * Friday 16:00 before a make-up Saturday is due Saturday 08:30.
 * add_sessions generalises this to the n-th following session (n = 2 is one working day).
 */
bool uf_calendar_add_sessions(const uf_calendar *cal, int64_t t, unsigned n, int64_t *out,
                              uf_cal_warnings *w, uf_error *err)
{
    span_walk wk;
    uf_cal_span s;
    if (!walk_to_first_after(&wk, cal, t, &s, w, err))
        return false;
    if (n == 0) {
        *out = s.start > t ? s.start : t;
        return true;
    }
    for (unsigned i = 0; i < n; i++)
        if (walk_next(&wk, &s, err) != WALK_SPAN)
            return false;
    *out = s.start;
    return true;
}

bool uf_calendar_s1_deadline(const uf_calendar *cal, int64_t t, int64_t *out,
                             uf_cal_warnings *w, uf_error *err)
{
    return uf_calendar_add_sessions(cal, t, 1, out, w, err);
}

bool uf_calendar_add_working_minutes(const uf_calendar *cal, int64_t t, int64_t minutes,
                                     int64_t *out, uf_cal_warnings *w, uf_error *err)
{
    if (minutes < 0 || minutes > (int64_t)UF_CAL_MAX_SPAN_DAYS * 1440)
        return uf_error_set(err, UF_E_INVALID, "working minutes %" PRId64 " out of range 0..%d",
                            minutes, UF_CAL_MAX_SPAN_DAYS * 1440);
    span_walk wk;
    uf_cal_span s;
    if (!walk_to_first_after(&wk, cal, t, &s, w, err))
        return false;
    int64_t remaining = minutes * 60;
    for (;;) {
        int64_t from = s.start > t ? s.start : t;
        if (remaining <= s.end - from) { /* "<=": running out at a session end answers it */
            *out = from + remaining;
            return true;
        }
        remaining -= s.end - from;
        if (walk_next(&wk, &s, err) != WALK_SPAN)
            return false;
    }
}

bool uf_calendar_working_seconds_between(const uf_calendar *cal, int64_t a, int64_t b,
                                         int64_t *out, uf_cal_warnings *w, uf_error *err)
{
    if (b < a) {
        if (!uf_calendar_working_seconds_between(cal, b, a, out, w, err))
            return false;
        *out = -*out;
        return true;
    }
    if (!check_time(a, err) || !check_time(b, err))
        return false;
    span_walk wk;
    walk_init(&wk, cal, local_day(cal, a), w);
    wk.stop_day = local_day(cal, b - 1); /* [a, b): the day of b's last second */
    wk.require_work = false; /* no working time in between is an answer: 0 */
    if (wk.stop_day - wk.start_day >= UF_CAL_MAX_SPAN_DAYS)
        return uf_error_set(err, UF_E_TOO_LARGE, "more than %d days between the two times",
                            UF_CAL_MAX_SPAN_DAYS);
    int64_t total = 0;
    uf_cal_span s;
    walk_result r;
    while ((r = walk_next(&wk, &s, err)) == WALK_SPAN && s.start < b) {
        int64_t lo = s.start > a ? s.start : a, hi = s.end < b ? s.end : b;
        if (hi > lo)
            total += hi - lo;
    }
    if (r == WALK_ERROR)
        return false;
    *out = total;
    return true;
}

bool uf_calendar_working_minutes_between(const uf_calendar *cal, int64_t a, int64_t b,
                                         int64_t *out, uf_cal_warnings *w, uf_error *err)
{
    int64_t secs;
    if (!uf_calendar_working_seconds_between(cal, a, b, &secs, w, err))
        return false;
    *out = secs / 60;
    return true;
}

/*
 * Working days are day-boundary arithmetic, never multiples of 24 hours (a "1 day" target
 * must not become 24 working hours, i.e. three days). The receipt's position within its
 * working day is kept as working time already past on that day, and placed at the same
 * working time into the n-th following working day, clamped to that day's last session end
 * (a shorter day, e.g. a half day before a holiday). A position exactly between two sessions
 * lands on the start of the later one, so from a session start the answer is the same
 * session start n working days on: 2n sessions on a two-session calendar.
 */
bool uf_calendar_add_working_days(const uf_calendar *cal, int64_t t, unsigned n,
                                  int64_t *out, uf_cal_warnings *w, uf_error *err)
{
    span_walk wk;
    uf_cal_span s;
    if (!walk_to_first_after(&wk, cal, t, &s, w, err))
        return false;
    int64_t receipt = s.start > t ? s.start : t, offset = receipt - s.start;
    for (size_t i = 0; i + 1 < wk.next; i++) /* the day's sessions before s */
        offset += wk.spans[i].end - wk.spans[i].start;
    if (n == 0) {
        *out = receipt;
        return true;
    }
    for (unsigned day = 0; day < n; day++) {
        wk.next = wk.n; /* skip the rest of the current day */
        if (walk_next(&wk, &s, err) != WALK_SPAN)
            return false;
    }
    for (size_t i = 0; i < wk.n; i++) {
        int64_t len = wk.spans[i].end - wk.spans[i].start;
        if (offset < len) {
            *out = wk.spans[i].start + offset;
            return true;
        }
        offset -= len;
    }
    *out = wk.spans[wk.n - 1].end;
    return true;
}

/* The end of the last session of `day`, or of the last working day before it. */
static bool last_session_end(const uf_calendar *cal, int64_t day, int64_t *out,
                             uf_cal_warnings *w, uf_error *err)
{
    for (int64_t d = day; d > day - UF_CAL_MAX_IDLE_DAYS && d >= DAY_MIN; d--) {
        uf_cal_span spans[UF_CAL_MAX_SESSIONS];
        int64_t prev_end = INT64_MIN;
        size_t n = day_spans(cal, d, &prev_end, spans, w);
        if (n > 0) {
            *out = spans[n - 1].end;
            return true;
        }
    }
    char date[16];
    uf_format_date(day, date, sizeof date);
    return uf_error_set(err, UF_E_NOT_FOUND, "calendar %s has no working day in the %d days up "
                        "to %s", cal->id, UF_CAL_MAX_IDLE_DAYS, date);
}

bool uf_calendar_field_deadline(const uf_calendar *cal, const char *text, int64_t *out,
                                uf_cal_warnings *w, uf_error *err)
{
    int64_t day;
    if (uf_parse_date(text, &day)) {
        if (day < DAY_MIN || day > DAY_MAX)
            return uf_error_set(err, UF_E_INVALID, "date %s is out of range", text);
        return last_session_end(cal, day, out, w, err);
    }
    return uf_calendar_parse_time(cal, text, out, err);
}

/* ---------------------------------------------------------------- statistics */

void uf_calendar_stats(const uf_calendar *cal, uf_cal_stats *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < cal->n_overrides; i++) {
        switch (cal->overrides[i].kind) {
        case CAL_HOLIDAY:
            out->holidays++;
            break;
        case CAL_MAKEUP_WORKDAY:
            out->makeup_workdays++;
            break;
        case CAL_CUSTOM:
            out->custom_days++;
            break;
        }
    }
    for (int d = 0; d < 7; d++)
        for (size_t i = 0; i < cal->week[d].n; i++)
            out->weekly_minutes += cal->week[d].s[i].end - cal->week[d].s[i].start;
    for (int64_t day = cal->eff_from; day <= cal->eff_to; day++) {
        const cal_day *d = sessions_of_day(cal, day);
        out->working_days += d->n > 0;
        for (size_t i = 0; i < d->n; i++)
            out->working_minutes += d->s[i].end - d->s[i].start;
    }
}

/* ---------------------------------------------------------------- text */

/* Exactly `n` digits at s, as a number. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DD" at the start of s (not necessarily the whole string). */
static bool parse_date_prefix(const char *s, int64_t *day)
{
    int y, m, d;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > uf_days_in_month(y, m))
        return false;
    *day = uf_days_from_civil(y, m, d);
    return true;
}

bool uf_parse_date(const char *text, int64_t *day)
{
    return strlen(text) == 10 && parse_date_prefix(text, day);
}

/* "Z", "+HH:MM", "+HHMM" or "+HH" (or '-') as seconds east; "" is no zone. */
static bool parse_zone(const char *s, bool *has_zone, int32_t *offset)
{
    int h, m = 0;
    *has_zone = *s != '\0';
    if (!*s)
        return true;
    if (strcmp(s, "Z") == 0) {
        *offset = 0;
        return true;
    }
    if ((*s != '+' && *s != '-') || !digits(s + 1, 2, &h))
        return false;
    const char *rest = s + 3;
    if (*rest == ':')
        rest++;
    if (*rest && (!digits(rest, 2, &m) || rest[2] != '\0'))
        return false;
    if (rest == s + 4 && !*rest) /* "+08:" */
        return false;
    if (h > 23 || m > 59)
        return false;
    *offset = (*s == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

bool uf_calendar_parse_time(const uf_calendar *cal, const char *text, int64_t *out,
                            uf_error *err)
{
    int64_t day;
    int h, m, sec = 0;
    size_t len = strlen(text);
    const char *p = text + 16;
    bool has_zone;
    int32_t offset = 0;
    if (len < 16 || !parse_date_prefix(text, &day) || (text[10] != 'T' && text[10] != ' ') ||
        !digits(text + 11, 2, &h) || text[13] != ':' || !digits(text + 14, 2, &m) || h > 23 ||
        m > 59)
        goto bad;
    if (*p == ':') {
        if (!digits(p + 1, 2, &sec) || sec > 59)
            goto bad;
        p += 3;
    }
    if (!parse_zone(p, &has_zone, &offset))
        goto bad;
    if (day < DAY_MIN || day > DAY_MAX)
        return uf_error_set(err, UF_E_INVALID, "time \"%s\" is out of range", text);
    int64_t local = day * 86400 + h * 3600 + m * 60 + sec;
    if (has_zone)
        *out = local - offset;
    else if (!uf_tz_local_seconds_to_utc(cal->tz, local, out))
        goto bad;
    return true;
bad:
    return uf_error_set(err, UF_E_INVALID, "bad time \"%s\": expected YYYY-MM-DDTHH:MM[:SS] "
                        "with an optional Z or +HH:MM", text);
}

void uf_format_date(int64_t day, char *out, size_t len)
{
    int64_t y;
    int m, d;
    uf_civil_from_days(day, &y, &m, &d);
    snprintf(out, len, "%04" PRId64 "-%02d-%02d", y, m, d);
}

void uf_calendar_format_time(const uf_calendar *cal, int64_t t, char *out, size_t len)
{
    uf_civil c;
    int32_t off;
    if (!uf_tz_utc_to_local(cal->tz, t, &c, &off)) {
        snprintf(out, len, "(out of range)");
        return;
    }
    char sign = off < 0 ? '-' : '+';
    int32_t a = off < 0 ? -off : off;
    if (a % 60)
        snprintf(out, len, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d%c%02d:%02d:%02d", c.year,
                 c.month, c.day, c.hour, c.minute, c.second, sign, (int)(a / 3600),
                 (int)(a / 60 % 60), (int)(a % 60));
    else
        snprintf(out, len, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year, c.month,
                 c.day, c.hour, c.minute, c.second, sign, (int)(a / 3600), (int)(a / 60 % 60));
}
