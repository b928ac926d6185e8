/*
 * window.h - maintenance windows: a cron-like start ("M H DOM MON DOW", each field `*`, a
 * number, a range A-B, a list A,B,C, or a step: a star or range followed by /N), a
 * duration, and a time zone. A window is
 * open at t when some start s in the zone's local time has s <= t < s + duration. Devices
 * install only inside an open window (they may download before).
 */
#ifndef UPFLOW_SERVER_WINDOW_H
#define UPFLOW_SERVER_WINDOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

typedef struct mw_window mw_window;

/* From {"cron": "0 2 * * *", "duration": 3600, "tz": "Asia/Shanghai"}; errors name the field. */
mw_window *mw_parse(const json_t *spec, uf_error *err);
void mw_free(mw_window *w);
/* Open at utc? (Checked minute by minute back over the duration, at most 7 days.) */
bool mw_open(const mw_window *w, int64_t utc);

#endif
