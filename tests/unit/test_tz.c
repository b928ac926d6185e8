/*
 * test_tz.c - time zones from the system TZif files: fixed offsets, DST transitions in both
 * directions, the gap and overlap rules, the POSIX footer rule after the table ends (2037),
 * the southern hemisphere, civil-date arithmetic, refused names, and damaged files that must
 * fail cleanly at every truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/tz.h"

static uf_tz *load(const char *name)
{
    uf_error err;
    uf_tz *tz = uf_tz_load(name, &err);
    if (!tz)
        fail_msg("load %s: %s", name, err.msg);
    return tz;
}

static int64_t local_utc(const uf_tz *tz, int y, int mo, int d, int h, int mi)
{
    uf_civil c = {y, mo, d, h, mi, 0};
    int64_t t;
    assert_true(uf_tz_local_to_utc(tz, &c, &t));
    return t;
}

static void civil_dates(void **state)
{
    (void)state;
    assert_int_equal(uf_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(uf_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(uf_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(uf_weekday_from_days(0), 4);                                /* Thu */
    assert_int_equal(uf_weekday_from_days(uf_days_from_civil(2026, 2, 14)), 6); /* Sat */
    assert_int_equal(uf_weekday_from_days(uf_days_from_civil(2026, 1, 4)), 0);  /* Sun */
    assert_int_equal(uf_weekday_from_days(-1), 3);
    for (int64_t z = uf_days_from_civil(-400, 1, 1); z < uf_days_from_civil(2401, 1, 1); z++) {
        int64_t y;
        int m, d;
        uf_civil_from_days(z, &y, &m, &d);
        if (uf_days_from_civil(y, m, d) != z || d > uf_days_in_month(y, m))
            fail_msg("round trip of day %lld", (long long)z);
    }
    assert_true(uf_is_leap_year(2000));
    assert_false(uf_is_leap_year(2100));
    assert_int_equal(uf_days_in_month(2028, 2), 29);
    assert_int_equal(uf_floor_div(-1, 86400), -1);
    assert_int_equal(uf_floor_div(86400, 86400), 1);
    uf_civil bad = {2026, 2, 29, 0, 0, 0};
    assert_false(uf_civil_valid(&bad));
}

static void shanghai_is_fixed(void **state)
{
    (void)state;
    uf_tz *tz = load("Asia/Shanghai");
    assert_string_equal(uf_tz_name(tz), "Asia/Shanghai");
    assert_int_equal(local_utc(tz, 2026, 3, 10, 10, 15), 1773108900);
    for (int64_t t = 1767225600; t < 1798761600; t += 86400 * 7 + 3601)
        assert_int_equal(uf_tz_offset_at(tz, t), 28800);
    assert_int_equal(uf_tz_offset_at(tz, INT64_C(4102444800)), 28800); /* 2100, footer */
    uf_civil c;
    int32_t off;
    assert_true(uf_tz_utc_to_local(tz, 1773108900, &c, &off));
    assert_int_equal(c.hour, 10);
    assert_int_equal(c.minute, 15);
    assert_int_equal(off, 28800);
    uf_tz_free(tz);
}

static void berlin_2026(void **state)
{
    (void)state;
    uf_tz *tz = load("Europe/Berlin");
    const int64_t spring = 1774746000, autumn = 1792890000; /* 01:00 UTC both */
    assert_int_equal(uf_tz_offset_at(tz, spring - 1), 3600);
    assert_int_equal(uf_tz_offset_at(tz, spring), 7200);
    assert_int_equal(uf_tz_offset_at(tz, autumn - 1), 7200);
    assert_int_equal(uf_tz_offset_at(tz, autumn), 3600);
    /* ordinary times on both days */
    assert_int_equal(local_utc(tz, 2026, 3, 29, 1, 59), spring - 60);
    assert_int_equal(local_utc(tz, 2026, 3, 29, 3, 0), spring);
    /* gap: 02:30 does not exist; the clock would have shown it at 03:30 CEST = 01:30 UTC */
    assert_int_equal(local_utc(tz, 2026, 3, 29, 2, 0), spring);
    assert_int_equal(local_utc(tz, 2026, 3, 29, 2, 30), spring + 1800);
    /* overlap: 02:30 happens twice; the earlier (CEST, 00:30 UTC) */
    assert_int_equal(local_utc(tz, 2026, 10, 25, 2, 30), autumn - 1800);
    assert_int_equal(local_utc(tz, 2026, 10, 25, 2, 0), autumn - 3600);
    assert_int_equal(local_utc(tz, 2026, 10, 25, 3, 0), autumn + 3600);
    assert_int_equal(local_utc(tz, 2026, 10, 25, 1, 59), autumn - 3600 - 60);
    uf_tz_free(tz);
}

static void new_york_2026(void **state)
{
    (void)state;
    uf_tz *tz = load("America/New_York");
    const int64_t spring = 1772953200, autumn = 1793512800;
    assert_int_equal(uf_tz_offset_at(tz, spring - 1), -18000);
    assert_int_equal(uf_tz_offset_at(tz, spring), -14400);
    assert_int_equal(uf_tz_offset_at(tz, autumn - 1), -14400);
    assert_int_equal(uf_tz_offset_at(tz, autumn), -18000);
    assert_int_equal(local_utc(tz, 2026, 3, 8, 2, 30), spring + 1800);  /* 03:30 EDT */
    assert_int_equal(local_utc(tz, 2026, 11, 1, 1, 30), autumn - 1800); /* 01:30 EDT */
    assert_int_equal(local_utc(tz, 2026, 7, 4, 12, 0), 1783180800);
    uf_tz_free(tz);
}

/* The tables end in 2037; after that the footer's POSIX rule decides. */
static void footer_rule_after_2037(void **state)
{
    (void)state;
    uf_tz *berlin = load("Europe/Berlin"), *ny = load("America/New_York");
    uf_tz *sydney = load("Australia/Sydney");
    assert_int_equal(uf_tz_offset_at(berlin, INT64_C(2216250000) - 1), 3600); /* 2040-03-25 */
    assert_int_equal(uf_tz_offset_at(berlin, INT64_C(2216250000)), 7200);
    assert_int_equal(uf_tz_offset_at(berlin, INT64_C(2234998800) - 1), 7200); /* 2040-10-28 */
    assert_int_equal(uf_tz_offset_at(berlin, INT64_C(2234998800)), 3600);
    assert_int_equal(uf_tz_offset_at(ny, INT64_C(4076636400) - 1), -18000); /* 2099-03-08 */
    assert_int_equal(uf_tz_offset_at(ny, INT64_C(4076636400)), -14400);
    assert_int_equal(uf_tz_offset_at(ny, INT64_C(4097196000) - 1), -14400); /* 2099-11-01 */
    assert_int_equal(uf_tz_offset_at(ny, INT64_C(4097196000)), -18000);
    /* southern hemisphere: DST across New Year */
    assert_int_equal(uf_tz_offset_at(sydney, INT64_C(2532528000) - 1), 39600); /* 2050-04-02 */
    assert_int_equal(uf_tz_offset_at(sydney, INT64_C(2532528000)), 36000);
    assert_int_equal(uf_tz_offset_at(sydney, INT64_C(2548252800) - 1), 36000); /* 2050-10-01 */
    assert_int_equal(uf_tz_offset_at(sydney, INT64_C(2548252800)), 39600);
    assert_int_equal(uf_tz_offset_at(sydney, INT64_C(2524608000)), 39600); /* 2050-01-01 */
    /* gap rule in footer years too: 2040-03-25 02:30 -> 03:30 CEST */
    assert_int_equal(local_utc(berlin, 2040, 3, 25, 2, 30), INT64_C(2216250000) + 1800);
    uf_tz_free(berlin);
    uf_tz_free(ny);
    uf_tz_free(sydney);
}

/* Every local minute maps to an instant whose local time is the same (or, in a gap, later by
 * exactly the gap), and every instant's local time maps back to it or to an earlier one. */
static void round_trips(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                           "Asia/Kolkata", "America/Sao_Paulo"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        uf_tz *tz = load(zones[z]);
        for (int64_t t = INT64_C(1700000000); t < INT64_C(2600000000); t += 1799) {
            uf_civil c;
            int64_t back;
            assert_true(uf_tz_utc_to_local(tz, t, &c, NULL));
            assert_true(uf_tz_local_to_utc(tz, &c, &back));
            if (back != t && !(back < t && uf_tz_offset_at(tz, back) > uf_tz_offset_at(tz, t)))
                fail_msg("%s: %lld -> %lld", zones[z], (long long)t, (long long)back);
        }
        uf_tz_free(tz);
    }
}

static void utc_and_names(void **state)
{
    (void)state;
    uf_tz *tz = load("UTC");
    assert_int_equal(uf_tz_offset_at(tz, 0), 0);
    assert_int_equal(uf_tz_offset_at(tz, INT64_C(1773108900)), 0);
    assert_int_equal(local_utc(tz, 2026, 3, 10, 2, 15), 1773108900);
    uf_tz_free(tz);
    tz = load("Etc/UTC");
    assert_int_equal(uf_tz_offset_at(tz, INT64_C(1773108900)), 0);
    uf_tz_free(tz);

    const char *bad[] = {"", "../etc/passwd", "/etc/localtime", "Europe/../Berlin",
                         "Asia/Shang hai", "Europe/Berlin;", "Europe//Berlin", "Europe/",
                         "Europe/Berlin\n", "Ürümqi"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uf_error err;
        uf_error_clear(&err);
        assert_null(uf_tz_load(bad[i], &err));
        if (err.code != UF_E_INVALID)
            fail_msg("name \"%s\": code %s (%s)", bad[i], uf_code_name(err.code), err.msg);
    }
    uf_error err;
    assert_null(uf_tz_load("Nowhere/Atlantis", &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "unknown time zone \"Nowhere/Atlantis\""));
    assert_null(uf_tz_load("Europe", &err)); /* a directory */
    assert_int_equal(err.code, UF_E_NOT_FOUND);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *data = malloc(UF_TZ_FILE_MAX);
    assert_non_null(data);
    *len = fread(data, 1, UF_TZ_FILE_MAX, f);
    fclose(f);
    return data;
}

static void expect_parse_fails(const unsigned char *data, size_t len, const char *what)
{
    uf_error err;
    uf_error_clear(&err);
    uf_tz *tz = uf_tz_parse("Test/Zone", data, len, &err);
    if (tz) {
        uf_tz_free(tz);
        fail_msg("%s: parsed", what);
    }
    if (err.code == UF_OK || !err.msg[0])
        fail_msg("%s: no error", what);
}

static void damaged_files_fail_cleanly(void **state)
{
    (void)state;
    size_t len;
    unsigned char *data = read_all(UF_TZ_DEFAULT_DIR "/Europe/Berlin", &len);
    uf_error err;
    uf_tz *ok = uf_tz_parse("Europe/Berlin", data, len, &err);
    assert_non_null(ok);
    uf_tz_free(ok);
    for (size_t cut = 0; cut < len; cut++)
        expect_parse_fails(data, cut, "truncated");

    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, data, len);
    copy[0] = 'X';
    expect_parse_fails(copy, len, "bad magic");
    memcpy(copy, data, len);
    copy[4] = 0; /* version 1 */
    expect_parse_fails(copy, len, "version 1");
    memcpy(copy, data, len);
    memcpy(copy + len - 8, "XX\n", 3); /* garbage rule at the end of the footer */
    expect_parse_fails(copy, len, "bad footer");
    memcpy(copy, data, len);
    copy[len - 1] = 'x'; /* unterminated footer */
    expect_parse_fails(copy, len, "unterminated footer");
    /* every single-byte corruption either parses or fails with an error, never crashes */
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, data, len);
        copy[i] ^= 0xff;
        uf_tz *tz = uf_tz_parse("x", copy, len, &err);
        if (tz) {
            (void)uf_tz_offset_at(tz, INT64_C(1774746000));
            uf_tz_free(tz);
        }
    }

    /* the same through the file system: a truncated copy in a zoneinfo directory of our own */
    char dir[] = "/tmp/upflow-tz-XXXXXX", sub[64], path[96];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/Test", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/Zone", sub);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len / 2, f), len / 2);
    fclose(f);
    assert_null(uf_tz_load_from(dir, "Test/Zone", &err));
    assert_int_equal(err.code, UF_E_BAD_FIELD);
    assert_non_null(strstr(err.msg, "time zone \"Test/Zone\""));
    /* and one too large to be read at all */
    f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i <= UF_TZ_FILE_MAX / len + 1; i++)
        fwrite(data, 1, len, f);
    fclose(f);
    assert_null(uf_tz_load_from(dir, "Test/Zone", &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
    free(copy);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(civil_dates),
        cmocka_unit_test(shanghai_is_fixed),
        cmocka_unit_test(berlin_2026),
        cmocka_unit_test(new_york_2026),
        cmocka_unit_test(footer_rule_after_2037),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(utc_and_names),
        cmocka_unit_test(damaged_files_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
