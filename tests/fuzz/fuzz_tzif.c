/*
 * fuzz_tzif.c - libFuzzer target for the TZif reader: any bytes must give a zone or a clear
 * error, never a crash or undefined behaviour. A zone that loads is queried around its
 * transitions, far in the future (the footer rule) and through local-to-UTC mapping.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t instants[] = {INT64_MIN, -INT64_C(5000000000), 0, INT64_C(1774746000),
                                       INT64_C(2216250000), INT64_C(253402300799), INT64_MAX};
    uf_error err;
    uf_error_clear(&err);
    uf_tz *tz = uf_tz_parse("Fuzz/Zone", data, size, &err);
    if (!tz) {
        if (err.code == UF_OK || err.msg[0] == '\0')
            abort();
        return 0;
    }
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        int32_t off = uf_tz_offset_at(tz, instants[i]);
        if (off < -93600 || off > 93600)
            abort();
        uf_civil c;
        int64_t back;
        if (uf_tz_utc_to_local(tz, instants[i], &c, NULL) && !uf_tz_local_to_utc(tz, &c, &back))
            abort();
    }
    uf_tz_free(tz);
    return 0;
}
