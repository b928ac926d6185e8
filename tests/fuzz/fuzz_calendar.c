/*
 * fuzz_calendar.c - libFuzzer target for calendar files: any bytes must give a calendar or a
 * clear error. A calendar that loads runs every operation at a few instants; each must answer
 * or fail with an error, within the search bounds, never loop or crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_say_why(bool ok, const uf_error *err)
{
    if (!ok && (err->code == UF_OK || err->msg[0] == '\0'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t instants[] = {INT64_C(1773108900), INT64_C(1798732800), 0};
    uf_error err;
    uf_error_clear(&err);
    uf_calendar *cal = uf_calendar_parse((const char *)data, size, &err);
    if (!cal) {
        must_say_why(false, &err);
        return 0;
    }
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        int64_t t = instants[i], out;
        uf_cal_warnings w;
        uf_cal_warnings_clear(&w);
        uf_error_clear(&err);
        (void)uf_calendar_is_working(cal, t, &w);
        must_say_why(uf_calendar_s1_deadline(cal, t, &out, &w, &err), &err);
        must_say_why(uf_calendar_add_sessions(cal, t, 5, &out, &w, &err), &err);
        must_say_why(uf_calendar_add_working_minutes(cal, t, 600, &out, &w, &err), &err);
        must_say_why(uf_calendar_add_working_days(cal, t, 3, &out, &w, &err), &err);
        must_say_why(uf_calendar_working_minutes_between(cal, t, t + 86400 * 40, &out, &w,
                                                         &err), &err);
        must_say_why(uf_calendar_field_deadline(cal, "2026-10-03", &out, &w, &err), &err);
    }
    uf_calendar_free(cal);
    return 0;
}
