/*
 * test_boot_sim.c - the sim back-end: the back-end contract, then the simulated reboot, which
 * picks the slot as the real bootloaders do and records it as the running slot; a missing
 * state file is an unprovisioned device.
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

#include "agent/boot_sim.h"
#include "boot_contract.h"

static int setup(void **state)
{
    return boot_grubenv_setup(state, "sim", "sim.env");
}

static uf_slot reboot(const boot_fixture *fx)
{
    uf_slot booted = UF_SLOT_NONE, running = UF_SLOT_NONE;
    uf_error err;
    if (!uf_boot_sim_reboot(fx->path, &booted, &err))
        fail_msg("reboot: %s", err.msg);
    assert_true(uf_boot_running_slot(&fx->bl, &running, &err));
    assert_int_equal(running, booted);
    return booted;
}

static void test_reboot_trial_once_then_primary(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    uf_slot running;
    assert_false(uf_boot_running_slot(&fx->bl, &running, &err)); /* never booted yet */
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_int_equal(reboot(fx), UF_SLOT_A);
    assert_true(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err));
    assert_int_equal(reboot(fx), UF_SLOT_B);
    assert_int_equal(reboot(fx), UF_SLOT_A); /* not committed: the counter ran out */
    uf_boot_state st;
    assert_true(uf_boot_read(&fx->bl, &st, &err));
    assert_int_equal(st.trial, UF_SLOT_NONE);
    assert_int_equal(st.bootcount, 0);
}

static void test_reboot_commit_sticks(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    assert_true(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err));
    assert_int_equal(reboot(fx), UF_SLOT_B);
    assert_true(uf_boot_commit(&fx->bl, UF_SLOT_B, &err));
    assert_int_equal(reboot(fx), UF_SLOT_B);
    assert_int_equal(reboot(fx), UF_SLOT_B);
}

static void test_reboot_with_limit_two(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    boot_write_grubenv(fx->path, "upflow_slot=A\nupflow_bootlimit=2\n");
    assert_true(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err));
    assert_int_equal(reboot(fx), UF_SLOT_B);
    assert_int_equal(reboot(fx), UF_SLOT_B);
    assert_int_equal(reboot(fx), UF_SLOT_A);
    char *limit = boot_grubenv_raw_get(fx, "upflow_bootlimit");
    assert_string_equal(limit, "2"); /* the limit is the operator's: it stays */
    free(limit);
}

static void test_missing_file_is_unprovisioned(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    uf_boot_state st;
    uf_slot booted;
    assert_int_equal(unlink(fx->path), 0);
    assert_false(uf_boot_read(&fx->bl, &st, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_false(uf_boot_sim_reboot(fx->path, &booted, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "simulated reboot"));
    assert_true(uf_boot_commit(&fx->bl, UF_SLOT_B, &err)); /* provisions the device */
    assert_int_equal(reboot(fx), UF_SLOT_B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOOT_CONTRACT_TESTS(setup),
        cmocka_unit_test_setup_teardown(test_reboot_trial_once_then_primary, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reboot_commit_sticks, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reboot_with_limit_two, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_is_unprovisioned, setup,
                                        boot_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
