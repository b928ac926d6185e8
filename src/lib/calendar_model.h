/*
 * calendar_model.h - the inside of a uf_calendar, shared by calendar_load.c (JSON to model,
 * with validation) and calendar.c (evaluation and deadline arithmetic). Not a public header:
 * everything else goes through calendar.h.
 */
#ifndef UPFLOW_CALENDAR_MODEL_H
#define UPFLOW_CALENDAR_MODEL_H

#include "lib/calendar.h"

/* One session in local minutes of the day, [start, end); end may be 1440 (24:00). */
typedef struct cal_session {
    int start, end;
} cal_session;

typedef struct cal_day {
    size_t n;
    cal_session s[UF_CAL_MAX_SESSIONS];
} cal_day;

typedef enum { CAL_HOLIDAY, CAL_MAKEUP_WORKDAY, CAL_CUSTOM } cal_override_kind;

typedef struct cal_override {
    int64_t from, to; /* local day numbers, inclusive */
    cal_override_kind kind;
    int as;           /* CAL_MAKEUP_WORKDAY: weekday whose sessions apply (0 = Sunday) */
    cal_day custom;   /* CAL_CUSTOM: the sessions */
    size_t index;     /* position in the file, for messages */
} cal_override;

struct uf_calendar {
    char *id, *name, *source;
    int64_t version;
    uf_tz *tz;
    int64_t eff_from, eff_to; /* inclusive day numbers */
    cal_day week[7];          /* index 0 = Sunday, as uf_weekday_from_days */
    size_t n_overrides;
    cal_override *overrides;  /* sorted by `from`, pairwise disjoint */
};

/* "sun", "mon", ... "sat" by uf_weekday_from_days index. */
extern const char *const uf_cal_weekday_names[7];

#endif
