/*
 * test_boot_grub.c - the GRUB back-end: the back-end contract on a grubenv file, a missing
 * or malformed block refused and left untouched, a bad upflow value named, the running slot
 * from the kernel command line, and the fault points of a write.
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

#include "agent/bootloader.h"
#include "boot_contract.h"
#include "lib/buf.h"
#include "lib/fileio.h"

static int setup(void **state)
{
    return boot_grubenv_setup(state, "grub", "grubenv");
}

static void test_missing_block_refused(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    assert_int_equal(unlink(fx->path), 0);
    boot_assert_read_refused(&fx->bl, UF_E_NOT_FOUND, fx->path);
    assert_false(uf_boot_commit(&fx->bl, UF_SLOT_A, &err));
    assert_int_equal(access(fx->path, F_OK), -1); /* GRUB makes the block, not us */
}

static void test_malformed_block_left_untouched(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    FILE *f = fopen(fx->path, "wb");
    assert_non_null(f);
    fputs("# GRUB Environment Block\nupflow_slot=A\n", f); /* short: not 1024 bytes */
    fclose(f);
    assert_false(uf_boot_commit(&fx->bl, UF_SLOT_B, &err));
    assert_int_equal(err.code, UF_E_BAD_FIELD);
    assert_non_null(strstr(err.msg, "exactly 1024"));
    assert_non_null(strstr(err.msg, fx->path));
    uf_buf b = UF_BUF_INIT;
    assert_true(uf_file_read_capped(fx->path, 4096, &b, &err));
    assert_string_equal(b.data, "# GRUB Environment Block\nupflow_slot=A\n");
    uf_buf_free(&b);
}

static void test_bad_value_named(void **state)
{
    boot_fixture *fx = *state;
    boot_write_grubenv(fx->path, "upflow_slot=C\n");
    boot_assert_read_refused(&fx->bl, UF_E_BAD_FIELD, "upflow_slot='C'");
    boot_write_grubenv(fx->path, "upflow_slot=A\nupflow_bootlimit=0\n");
    boot_assert_read_refused(&fx->bl, UF_E_BAD_FIELD, "upflow_bootlimit='0'");
}

static void test_unprovisioned_then_commit(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    uf_boot_state st;
    boot_write_grubenv(fx->path, "");
    boot_assert_read_refused(&fx->bl, UF_E_NOT_FOUND, "not provisioned");
    assert_false(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err));
    assert_true(uf_boot_commit(&fx->bl, UF_SLOT_A, &err));
    assert_true(uf_boot_read(&fx->bl, &st, &err));
    assert_int_equal(st.primary, UF_SLOT_A);
}

static void test_running_from_cmdline(void **state)
{
    boot_fixture *fx = *state;
    char cmdline[160];
    snprintf(cmdline, sizeof cmdline, "%s/cmdline", fx->dir);
    FILE *f = fopen(cmdline, "w");
    assert_non_null(f);
    fputs("BOOT_IMAGE=/vmlinuz root=/dev/sda3 ro upflow.slot=B quiet\n", f);
    fclose(f);
    uf_bootloader bl;
    uf_error err;
    boot_fixture_reopen(fx, cmdline, NULL, &bl);
    uf_slot running = UF_SLOT_NONE;
    assert_true(uf_boot_running_slot(&bl, &running, &err));
    assert_int_equal(running, UF_SLOT_B);
    uf_bootloader_close(&bl);
}

static void test_fault_points_of_a_write(void **state)
{
    boot_fixture *fx = *state;
    char list[160];
    snprintf(list, sizeof list, "%s/points", fx->dir);
    uf_fault fault;
    uf_error err;
    assert_true(uf_fault_init(&fault, NULL, list, &err));
    uf_bootloader bl;
    boot_fixture_reopen(fx, NULL, &fault, &bl);
    assert_true(uf_boot_set_trial(&bl, UF_SLOT_B, &err));
    uf_bootloader_close(&bl);
    assert_int_equal(fault.reached, 8);
    uf_buf b = UF_BUF_INIT;
    assert_true(uf_file_read_capped(list, 4096, &b, &err));
    assert_string_equal(b.data, "grub.write.before\ngrub.write.after\ngrub.fsync.before\n"
                                "grub.fsync.after\ngrub.rename.before\ngrub.rename.after\n"
                                "grub.dirsync.before\ngrub.dirsync.after\n");
    uf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOOT_CONTRACT_TESTS(setup),
        cmocka_unit_test_setup_teardown(test_missing_block_refused, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_block_left_untouched, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_value_named, setup, boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unprovisioned_then_commit, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_running_from_cmdline, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fault_points_of_a_write, setup,
                                        boot_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
