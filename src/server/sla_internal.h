/*
 * sla_internal.h - what the SLA fold (sla.c) hands to the clock derivation (sla_clock.c):
 * an SLA definition as read from the template and what the fold learnt about one cycle of
 * it. Not a public header: everything else goes through sla.h.
 */
#ifndef UPFLOW_SERVER_SLA_INTERNAL_H
#define UPFLOW_SERVER_SLA_INTERNAL_H

#include <string.h>

#include "server/sla.h"

typedef enum {
    TARGET_NEXT_SESSION,
    TARGET_WORKING_MINUTES,
    TARGET_WORKING_DAYS,
    TARGET_FIELD_DEADLINE
} target_kind;

typedef struct sla_match {
    const json_t *on_enter, *on_transition, *in_states; /* arrays of names, or NULL */
    const char *at_field;
} sla_match;

/* One SLA definition of the template, read once per computation. */
typedef struct sla_def {
    const json_t *json;
    const char *id, *name;
    sla_match start, stop, pause, cancel;
    target_kind kind;
    int64_t value;      /* working_minutes, working_days */
    const char *field;  /* field_deadline */
    bool multi;
    int warn_pct[SLA_MAX_WARNINGS]; /* ascending */
    size_t n_warn;
} sla_def;

typedef struct sla_pause {
    int64_t from, to;
} sla_pause;

typedef enum { CYCLE_OPEN, CYCLE_STOPPED, CYCLE_CANCELLED } cycle_end;

/* What the fold learns about one cycle; the deadline is derived from it at the end. */
typedef struct sla_cycle {
    int64_t started, ended;
    cycle_end end;
    bool paused;                 /* the last pause is still open */
    sla_pause *pauses;
    size_t n_pauses;
    char *start_text;            /* start.at_field value the start was read from */
    char *deadline_text;         /* field_deadline: the value now (open) or at the end */
    char *original_text;         /* field_deadline: the first value the cycle saw */
    json_t *notes;               /* array of strings */
} sla_cycle;

static inline bool sla_same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Append a formatted note to a JSON array of strings. */
void sla_note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The answer for one cycle (see sla.h for its members), as of now (seconds). NULL only when
 * memory runs out; a cycle whose calendar arithmetic fails is answered without a deadline. */
json_t *sla_clock_json(const uf_calendar *cal, const sla_def *d, const sla_cycle *c,
                       size_t cycle, int64_t now, uf_error *err);

#endif
