/*
 * test_boot.c - what the back-ends share: slot names, the power-on rule (uf_boot_pick) for
 * each limit, the text rules of the four variables, the kernel command line, and the
 * registry refusing an unknown back-end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/boot_backend.h"

static void test_slots(void **state)
{
    (void)state;
    uf_slot s;
    assert_true(uf_slot_parse("A", &s));
    assert_int_equal(s, UF_SLOT_A);
    assert_true(uf_slot_parse("B", &s));
    assert_int_equal(s, UF_SLOT_B);
    assert_false(uf_slot_parse("a", &s));
    assert_false(uf_slot_parse("", &s));
    assert_false(uf_slot_parse("AB", &s));
    assert_string_equal(uf_slot_name(UF_SLOT_NONE), "");
    assert_int_equal(uf_slot_other(UF_SLOT_A), UF_SLOT_B);
    assert_int_equal(uf_slot_other(UF_SLOT_B), UF_SLOT_A);
    assert_int_equal(uf_slot_other(UF_SLOT_NONE), UF_SLOT_NONE);
}

static void test_pick_counts_trials_up_to_the_limit(void **state)
{
    (void)state;
    for (unsigned limit = 1; limit <= UF_BOOT_LIMIT_MAX; limit++) {
        uf_boot_state st = {UF_SLOT_A, UF_SLOT_B, 0, limit};
        for (unsigned i = 1; i <= limit; i++) {
            assert_int_equal(uf_boot_pick(&st), UF_SLOT_B);
            assert_int_equal(st.bootcount, i);
        }
        assert_int_equal(uf_boot_pick(&st), UF_SLOT_A);
        assert_int_equal(st.trial, UF_SLOT_NONE);
        assert_int_equal(st.bootcount, 0);
        assert_int_equal(st.bootlimit, limit);
        assert_int_equal(uf_boot_pick(&st), UF_SLOT_A);
    }
    uf_boot_state plain = {UF_SLOT_B, UF_SLOT_NONE, 0, 1};
    assert_int_equal(uf_boot_pick(&plain), UF_SLOT_B);
    assert_int_equal(plain.bootcount, 0);
}

static void test_vars_defaults_and_ranges(void **state)
{
    (void)state;
    uf_boot_state st;
    uf_error err;
    uf_boot_vars none = {NULL, NULL, NULL, NULL}, full = {"B", "A", "2", "3"};
    assert_true(uf_boot_state_from_vars(&none, &st, &err));
    assert_memory_equal(&st, (&(uf_boot_state){UF_SLOT_NONE, UF_SLOT_NONE, 0, 1}), sizeof st);
    assert_true(uf_boot_state_from_vars(&full, &st, &err));
    assert_memory_equal(&st, (&(uf_boot_state){UF_SLOT_B, UF_SLOT_A, 2, 3}), sizeof st);
    uf_boot_vars empty_trial = {"A", "", "0", "1"};
    assert_true(uf_boot_state_from_vars(&empty_trial, &st, &err));
    assert_int_equal(st.trial, UF_SLOT_NONE);
    const uf_boot_vars bad[] = {
        {"", NULL, NULL, NULL},   {"C", NULL, NULL, NULL},  {"A", "X", NULL, NULL},
        {"A", NULL, "4", NULL},   {"A", NULL, "-1", NULL},  {"A", NULL, "01", NULL},
        {"A", NULL, NULL, "0"},   {"A", NULL, NULL, "4"},   {"A", NULL, NULL, " 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(uf_boot_state_from_vars(&bad[i], &st, &err));
        assert_int_equal(err.code, UF_E_BAD_FIELD);
        assert_non_null(strstr(err.msg, "upflow_"));
    }
}

static bool collect(void *ctx, const char *name, const char *value, uf_error *err)
{
    (void)err;
    char *out = ctx;
    size_t len = strlen(out);
    snprintf(out + len, 256 - len, "%s=%s;", name, value);
    return true;
}

static void test_vars_written(void **state)
{
    (void)state;
    char out[256] = "";
    uf_boot_state st = {UF_SLOT_A, UF_SLOT_B, 1, 2};
    uf_error err;
    assert_true(uf_boot_state_to_vars(&st, collect, out, &err));
    assert_string_equal(out, "upflow_slot=A;upflow_trial=B;upflow_bootcount=1;"
                             "upflow_bootlimit=2;");
}

static void cmdline(const char *text, bool ok, uf_slot want, uf_code code)
{
    char path[] = "/tmp/upflow-cmdline.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    uf_slot slot = UF_SLOT_NONE;
    uf_error err;
    bool got = uf_boot_cmdline_slot(path, &slot, &err);
    unlink(path);
    assert_int_equal(got, ok);
    if (ok)
        assert_int_equal(slot, want);
    else
        assert_int_equal(err.code, code);
}

static void test_cmdline(void **state)
{
    (void)state;
    cmdline("root=/dev/sda2 upflow.slot=A ro\n", true, UF_SLOT_A, UF_OK);
    cmdline("upflow.slot=B", true, UF_SLOT_B, UF_OK);
    cmdline("upflow.slot=A quiet\tupflow.slot=B\n", true, UF_SLOT_B, UF_OK); /* last wins */
    cmdline("root=/dev/sda2 ro quiet\n", false, UF_SLOT_NONE, UF_E_NOT_FOUND);
    cmdline("xupflow.slot=A\n", false, UF_SLOT_NONE, UF_E_NOT_FOUND);
    cmdline("", false, UF_SLOT_NONE, UF_E_NOT_FOUND);
    cmdline("upflow.slot=C\n", false, UF_SLOT_NONE, UF_E_BAD_FIELD);
    cmdline("upflow.slot=AB\n", false, UF_SLOT_NONE, UF_E_BAD_FIELD);
    cmdline("upflow.slot= ro\n", false, UF_SLOT_NONE, UF_E_BAD_FIELD);
    uf_slot slot;
    uf_error err;
    assert_false(uf_boot_cmdline_slot("/nonexistent/cmdline", &slot, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
}

static void test_unknown_backend(void **state)
{
    (void)state;
    uf_bootloader bl;
    uf_error err;
    uf_boot_config cfg = {"lilo", "/x", NULL, NULL};
    assert_false(uf_bootloader_open(&cfg, &bl, &err));
    assert_int_equal(err.code, UF_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "'lilo'"));
    uf_boot_config nopath = {"grub", NULL, NULL, NULL};
    assert_false(uf_bootloader_open(&nopath, &bl, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_non_null(strstr(err.msg, "open bootloader grub"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_pick_counts_trials_up_to_the_limit),
        cmocka_unit_test(test_vars_defaults_and_ranges),
        cmocka_unit_test(test_vars_written),
        cmocka_unit_test(test_cmdline),
        cmocka_unit_test(test_unknown_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
