/*
 * tz.h - time zones from the system's TZif files, without the C library's global TZ state.
 *
 * A uf_tz is loaded once from /usr/share/zoneinfo/NAME (RFC 8536, version 2 or later: the
 * 64-bit section, and the POSIX TZ footer for instants after the last transition) and is
 * immutable afterwards, so any number of threads may share it. Nothing here calls tzset(),
 * localtime() or setenv("TZ"). Also: civil-date arithmetic on day numbers (days since
 * 1970-01-01, proleptic Gregorian), after Howard Hinnant's public-domain algorithms.
 */
#ifndef UPFLOW_TZ_H
#define UPFLOW_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

/* Where uf_tz_load looks; tests pass another directory to uf_tz_load_from. */
#define UF_TZ_DEFAULT_DIR "/usr/share/zoneinfo"
/* Zone names longer than this are refused ("America/Argentina/ComodRivadavia" is 32). */
#define UF_TZ_NAME_MAX 128
/* TZif files larger than this are refused before reading (the largest real one is ~10 KiB). */
#define UF_TZ_FILE_MAX (256u * 1024)
/* Instants and local times handled: years -9999..9999. */
#define UF_TIME_MIN INT64_C(-377705116800) /* -9999-01-01T00:00:00Z */
#define UF_TIME_MAX INT64_C(253402300799)  /* 9999-12-31T23:59:59Z */

typedef struct uf_civil {
    int64_t year;
    int month;  /* 1..12 */
    int day;    /* 1..31 */
    int hour;   /* 0..23 */
    int minute; /* 0..59 */
    int second; /* 0..59 */
} uf_civil;

/* --- civil dates (no time zone) --- */

/* Days since 1970-01-01 of a proleptic Gregorian date. month 1..12, day 1..31. */
int64_t uf_days_from_civil(int64_t year, int month, int day);
/* The date of a day number. */
void uf_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
/* 0 = Sunday .. 6 = Saturday. */
int uf_weekday_from_days(int64_t days);
bool uf_is_leap_year(int64_t year);
int uf_days_in_month(int64_t year, int month);
/* Whether every field is in range (year -9999..9999, day within the month, second 0..59). */
bool uf_civil_valid(const uf_civil *c);
/* Floor division for times before 1970: uf_floor_div(-1, 86400) == -1. */
int64_t uf_floor_div(int64_t a, int64_t b);

/* --- time zones --- */

typedef struct uf_tz uf_tz;

/* Load NAME ("Asia/Shanghai", "UTC") from UF_TZ_DEFAULT_DIR. "UTC" works even without
 * tzdata installed. Names are checked first: only [A-Za-z0-9_+-/], no "..", no leading '/'.
 * Fails with UF_E_INVALID for a bad name, UF_E_NOT_FOUND for an unknown zone, UF_E_BAD_FIELD
 * for a malformed file, UF_E_UNSUPPORTED for TZif version 1 or leap-second ("right/") files. */
uf_tz *uf_tz_load(const char *name, uf_error *err);
/* The same from another zoneinfo directory. */
uf_tz *uf_tz_load_from(const char *dir, const char *name, uf_error *err);
/* Parse TZif bytes (already read); `name` is only remembered. */
uf_tz *uf_tz_parse(const char *name, const unsigned char *data, size_t len, uf_error *err);
void uf_tz_free(uf_tz *tz);

const char *uf_tz_name(const uf_tz *tz);
/* Offset from UTC in seconds east (+28800 for Asia/Shanghai) in effect at `utc`. */
int32_t uf_tz_offset_at(const uf_tz *tz, int64_t utc);
/* The local civil time at `utc`, and the offset used (may be NULL). False if utc or the
 * local time is outside years -9999..9999. */
bool uf_tz_utc_to_local(const uf_tz *tz, int64_t utc, uf_civil *out, int32_t *offset);

/*
 * The instant at which local clocks show `local`. Every local time has an answer:
 *   - in an overlap (clocks set back, the time happens twice) the earlier instant;
 *   - in a gap (clocks set forward, the time never happens) the instant the clock would show
 *     had it not jumped, i.e. 02:30 in a 02:00->03:00 gap is 03:30 new time.
 * False (with no error code: the only failure) if `local` is invalid or out of range.
 */
bool uf_tz_local_to_utc(const uf_tz *tz, const uf_civil *local, int64_t *utc);
/* The same for "local seconds": days_from_civil * 86400 + seconds into the day. Seconds may
 * run past 86400 (24:00 is the next midnight). */
bool uf_tz_local_seconds_to_utc(const uf_tz *tz, int64_t local, int64_t *utc);

#endif
