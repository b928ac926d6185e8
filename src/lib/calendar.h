/*
 * calendar.h - working calendars: when work happens, for SLA deadlines.
 *
 * A calendar is a time zone, a weekly pattern of sessions (e.g. 08:30-12:00 and 13:30-17:30
 * Monday to Friday) and date overrides (holidays, 调休 make-up workdays, custom days), loaded
 * from JSON (docs/calendars.md). Times are UTC epoch seconds; sessions are half-open
 * [start, end). Calendars carry an effective date range: dates outside it are computed with
 * the weekly pattern alone and reported through uf_cal_warnings, never silently.
 * A loaded calendar is immutable and may be shared between threads.
 */
#ifndef UPFLOW_CALENDAR_H
#define UPFLOW_CALENDAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/tz.h"

/* A search for the next working time gives up after this many days without any. */
#define UF_CAL_MAX_IDLE_DAYS 3660
/* No operation walks more than this many days (100 years). */
#define UF_CAL_MAX_SPAN_DAYS 36600
/* Sessions in one day. */
#define UF_CAL_MAX_SESSIONS 24

typedef struct uf_calendar uf_calendar;

/* One working session as UTC instants, [start, end). */
typedef struct uf_cal_span {
    int64_t start, end;
} uf_cal_span;

/* Dates that an operation consulted outside the effective range. Operations add to it, so
 * one struct can collect the warnings of several calls; start with uf_cal_warnings_clear. */
typedef struct uf_cal_warnings {
    bool outside_range;
    int64_t first_day, last_day; /* local day numbers (uf_days_from_civil) */
    char msg[256];               /* "2027-01-04 is outside the calendar's effective range ..." */
} uf_cal_warnings;

void uf_cal_warnings_clear(uf_cal_warnings *w);

/* --- loading --- */

uf_calendar *uf_calendar_from_json(const json_t *doc, uf_error *err);
uf_calendar *uf_calendar_parse(const char *text, size_t len, uf_error *err);
/* Errors name the file and the JSON path: "cal.json: week.mon[1]: session end 12:00 is not
 * after start 13:30". */
uf_calendar *uf_calendar_load_file(const char *path, uf_error *err);
void uf_calendar_free(uf_calendar *cal);

const char *uf_calendar_id(const uf_calendar *cal);
int64_t uf_calendar_version(const uf_calendar *cal);
const char *uf_calendar_name(const uf_calendar *cal);     /* "" when absent */
const char *uf_calendar_source(const uf_calendar *cal);   /* "" when absent */
const uf_tz *uf_calendar_tz(const uf_calendar *cal);
/* The effective range as day numbers, inclusive. */
void uf_calendar_effective(const uf_calendar *cal, int64_t *from_day, int64_t *to_day);

typedef struct uf_cal_stats {
    size_t holidays, makeup_workdays, custom_days; /* override entries by kind */
    size_t working_days;          /* days with sessions within the effective range */
    int64_t working_minutes;      /* their total local working minutes */
    int64_t weekly_minutes;       /* minutes in the weekly pattern */
} uf_cal_stats;
void uf_calendar_stats(const uf_calendar *cal, uf_cal_stats *out);

/* The sessions of a local date as local minutes of the day (start, end pairs); returns the
 * count. Notes the date in w if it is outside the effective range. */
size_t uf_calendar_day_minutes(const uf_calendar *cal, int64_t day, int out[][2],
                               uf_cal_warnings *w);

/* --- operations. w may be NULL. --- */

bool uf_calendar_is_working(const uf_calendar *cal, int64_t t, uf_cal_warnings *w);
/* The session containing t, if any. */
bool uf_calendar_session_at(const uf_calendar *cal, int64_t t, uf_cal_span *out,
                            uf_cal_warnings *w);
/* The start of the first session that begins at or after t. */
bool uf_calendar_next_session_start(const uf_calendar *cal, int64_t t, int64_t *out,
                                    uf_cal_warnings *w, uf_error *err);
/* t if t lies inside a session, else the next session start. */
bool uf_calendar_effective_receipt(const uf_calendar *cal, int64_t t, int64_t *out,
                                   uf_cal_warnings *w, uf_error *err);
/* The start of the n-th session after the session containing effective_receipt(t);
 * n = 0 gives effective_receipt(t) itself. */
bool uf_calendar_add_sessions(const uf_calendar *cal, int64_t t, unsigned n, int64_t *out,
                              uf_cal_warnings *w, uf_error *err);
/* S1 (受理时限): uf_calendar_add_sessions(t, 1). */
bool uf_calendar_s1_deadline(const uf_calendar *cal, int64_t t, int64_t *out,
                             uf_cal_warnings *w, uf_error *err);
/* From effective_receipt(t), consume `minutes` of session time (real elapsed minutes, so a
 * DST change inside a session counts as it happens). Running out exactly at a session end
 * answers that end. minutes >= 0. */
bool uf_calendar_add_working_minutes(const uf_calendar *cal, int64_t t, int64_t minutes,
                                     int64_t *out, uf_cal_warnings *w, uf_error *err);
/* Working seconds between a and b (negative when b < a). */
bool uf_calendar_working_seconds_between(const uf_calendar *cal, int64_t a, int64_t b,
                                         int64_t *out, uf_cal_warnings *w, uf_error *err);
/* The same in whole minutes, truncated toward zero. */
bool uf_calendar_working_minutes_between(const uf_calendar *cal, int64_t a, int64_t b,
                                         int64_t *out, uf_cal_warnings *w, uf_error *err);
/* Day arithmetic (docs/calendars.md): the working day of effective_receipt(t), the working
 * time already past on it, then the same working time into the n-th following working day,
 * clamped to that day's end. n = 0 gives effective_receipt(t). */
bool uf_calendar_add_working_days(const uf_calendar *cal, int64_t t, unsigned n,
                                  int64_t *out, uf_cal_warnings *w, uf_error *err);
/* S2 field deadline. "YYYY-MM-DD": the end of the last session of that date, or, if it has
 * none, of the last working day before it. A date-time (see uf_calendar_parse_time): that
 * instant. */
bool uf_calendar_field_deadline(const uf_calendar *cal, const char *text, int64_t *out,
                                uf_cal_warnings *w, uf_error *err);

/* --- text --- */

/* "YYYY-MM-DDTHH:MM[:SS]" in the calendar's zone, or with "Z", "+HH:MM", "+HHMM" or "+HH".
 * A space may stand for the 'T'. */
bool uf_calendar_parse_time(const uf_calendar *cal, const char *text, int64_t *out,
                            uf_error *err);
/* "YYYY-MM-DD" to a day number. */
bool uf_parse_date(const char *text, int64_t *day);
/* t as "2026-03-10T13:30:00+08:00" in the calendar's zone. out needs 32 bytes. */
void uf_calendar_format_time(const uf_calendar *cal, int64_t t, char *out, size_t len);
/* A day number as "YYYY-MM-DD". out needs 16 bytes. */
void uf_format_date(int64_t day, char *out, size_t len);

#endif
