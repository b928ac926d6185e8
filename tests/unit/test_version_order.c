/*
 * test_version_order.c - versions sort the way an operator reads them: the semver.org
 * precedence list, shortened and v-prefixed versions, build metadata ignored, a `sort -V`-like
 * fallback, and a total order over any mix of strings (checked on every triple).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/version_order.h"

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

/* Every pair of a strictly increasing list compares as its positions do. */
static void check_increasing(const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int want = (i > j) - (i < j);
            int got = sign(uf_version_compare(list[i], list[j]));
            if (got != want)
                fail_msg("compare(\"%s\", \"%s\") = %d, want %d", list[i], list[j], got, want);
        }
}

#define CHECK_INCREASING(...)                                                                 \
    do {                                                                                      \
        static const char *const list[] = {__VA_ARGS__};                                      \
        check_increasing(list, sizeof list / sizeof list[0]);                                 \
    } while (0)

static void semver_org_precedence_list(void **state)
{
    (void)state;
    CHECK_INCREASING("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                     "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0");
    CHECK_INCREASING("1.0.0", "2.0.0", "2.1.0", "2.1.1");
}

static void releases_and_release_candidates(void **state)
{
    (void)state;
    CHECK_INCREASING("2.3.0-rc.1", "2.3.0", "2.3.1", "2.10.0");
    CHECK_INCREASING("0.9", "1", "1.0.1", "1.2", "1.10", "2.2.9", "2.3", "2.3.1", "10.0.0");
    CHECK_INCREASING("1.0.0-0", "1.0.0-1", "1.0.0-9", "1.0.0-10", "1.0.0-a", "1.0.0-a-b");
    CHECK_INCREASING("1.0.0-rc.9", "1.0.0-rc.10", "1.0.0-rc1", "1.0.0-rc2");
    /* numbers of any length, beyond 64 bits */
    CHECK_INCREASING("18446744073709551615.0.0", "18446744073709551616.0.0",
                     "100000000000000000000.0.0");
}

static void equal_versions(void **state)
{
    (void)state;
    static const char *const groups[][4] = {
        {"2.3", "2.3.0", "v2.3.0", "V2.3"},
        {"2", "2.0", "2.0.0", "v2"},
        {"1.0.0+build.1", "1.0.0+build.2", "1.0.0", "v1.0.0+20260101"},
        {"1.0.0-rc.1+exp.sha.5114f85", "1.0.0-rc.1", "v1.0-rc.1", "v1.0.0-rc.1+x"},
        {"", "", "", ""},
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 4; j++)
                if (uf_version_compare(groups[g][i], groups[g][j]) != 0)
                    fail_msg("\"%s\" != \"%s\"", groups[g][i], groups[g][j]);
    assert_int_equal(uf_version_compare(NULL, ""), 0);
    assert_true(uf_version_compare(NULL, "0") < 0);
}

static void fallback_orders_like_sort_v(void **state)
{
    (void)state;
    /* four-part and vendor versions: numbers as numbers, dots only separate */
    CHECK_INCREASING("2.3.0", "2.3.0.1", "2.3.0.10", "2.3.1", "2.4");
    CHECK_INCREASING("build-9", "build-10", "build-100");
    CHECK_INCREASING("1.2.3_4", "1.2.3_10");
    CHECK_INCREASING("2023.01.05", "2023.1.6", "2023.12.1");
    /* digits before letters, letters byte-wise */
    CHECK_INCREASING("9", "a", "b", "ba");
    CHECK_INCREASING("", "0", "1.0.0-rc.1", "1.0.0", "1.0.0.0", "abc");
}

static void what_is_semver(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "1.0.0", "0.0.0", "v1.2.3", "V1.2.3", "2.3", "2", "1.0.0-alpha", "1.0.0-alpha.1",
        "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0-x-y-z.--", "1.0.0+20130313144700",
        "1.0.0-beta+exp.sha.5114f85", "1.0.0+21AF26D3----117B344092BD", "1.0.0-rc.1+build.01",
        "10.20.30",
    };
    static const char *const no[] = {
        "", "v", "1.", "1..2", ".1", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-",
        "1.2.3-01", "1.2.3-a..b", "1.2.3+", "1.2.3+a..b", "1.2.3-a_b", "1.2.3 ", " 1.2.3",
        "vv1.2.3", "release", "1.2.3-a+b+c", "-1", "1.2.3-rc.1+",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!uf_version_is_semver(yes[i]))
            fail_msg("\"%s\" should be a semantic version", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (uf_version_is_semver(no[i]))
            fail_msg("\"%s\" should not be a semantic version", no[i]);
    assert_false(uf_version_is_semver(NULL));
}

/* Antisymmetry and transitivity over every triple of a mixed bag: a total (pre)order. */
static void total_order_over_mixed_strings(void **state)
{
    (void)state;
    static const char *const bag[] = {
        "", "0", "00", "1", "1.0", "01.0", "1.0.0", "1.0.0-rc.1", "1.0.0-rc1", "1.0.0.rc1",
        "1.0.0.0", "1.0.0-0", "1.0.0-alpha", "v1", "1..0", "1.0-", "1.0.0-", "1.0.0+b",
        "1.0.0.", "a", "a1", "a.1", "1a", "1-a", "10", "9.9.9", "2.3.0~rc1", "2.3.0_1",
        "-", ".", "..", "~", "z", "Z", "1.2.3-a.1", "1.2.3-a.b", "1.2.3-a", "99999999999999999999",
    };
    size_t n = sizeof bag / sizeof bag[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int ij = sign(uf_version_compare(bag[i], bag[j]));
            if (ij != -sign(uf_version_compare(bag[j], bag[i])))
                fail_msg("not antisymmetric: \"%s\", \"%s\"", bag[i], bag[j]);
            for (size_t k = 0; k < n; k++) {
                int jk = sign(uf_version_compare(bag[j], bag[k]));
                int ik = sign(uf_version_compare(bag[i], bag[k]));
                if (ij <= 0 && jk <= 0 && ik > 0)
                    fail_msg("not transitive: \"%s\" <= \"%s\" <= \"%s\"", bag[i], bag[j],
                             bag[k]);
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(semver_org_precedence_list),
        cmocka_unit_test(releases_and_release_candidates),
        cmocka_unit_test(equal_versions),
        cmocka_unit_test(fallback_orders_like_sort_v),
        cmocka_unit_test(what_is_semver),
        cmocka_unit_test(total_order_over_mixed_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
