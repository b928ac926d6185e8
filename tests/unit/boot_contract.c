/*
 * boot_contract.c - the tests every bootloader back-end passes (see boot_contract.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot_contract.h"

#include "agent/grubenv.h"

int boot_fixture_mkdir(boot_fixture *fx, const char *name)
{
    snprintf(fx->dir, sizeof fx->dir, "/tmp/upflow-%s.XXXXXX", name);
    return mkdtemp(fx->dir) ? 0 : -1;
}

int boot_fixture_teardown(void **state)
{
    boot_fixture *fx = *state;
    char cmd[128];
    uf_bootloader_close(&fx->bl);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    free(fx);
    return rc == 0 ? 0 : -1;
}

void boot_write_grubenv(const char *path, const char *lines)
{
    char block[1024];
    int n = snprintf(block, sizeof block, "# GRUB Environment Block\n%s", lines);
    assert_true(n > 0 && (size_t)n <= sizeof block);
    memset(block + n, '#', sizeof block - (size_t)n);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(block, 1, sizeof block, f), sizeof block);
    assert_int_equal(fclose(f), 0);
}

char *boot_grubenv_raw_get(boot_fixture *fx, const char *name)
{
    uf_grubenv env = UF_GRUBENV_INIT;
    uf_error err;
    if (!uf_grubenv_load(fx->path, &env, &err))
        fail_msg("%s", err.msg);
    const char *v = uf_grubenv_get(&env, name);
    char *copy = v ? strdup(v) : NULL;
    uf_grubenv_free(&env);
    return copy;
}

int boot_grubenv_setup(void **state, const char *backend, const char *file)
{
    boot_fixture *fx = calloc(1, sizeof *fx);
    *state = fx;
    if (!fx || boot_fixture_mkdir(fx, backend) != 0)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/%s", fx->dir, file);
    boot_write_grubenv(fx->path, BOOT_FOREIGN_NAME "=" BOOT_FOREIGN_VALUE "\nupflow_slot=A\n");
    fx->raw_get = boot_grubenv_raw_get;
    uf_boot_config cfg = {backend, fx->path, NULL, NULL};
    uf_error err;
    return uf_bootloader_open(&cfg, &fx->bl, &err) ? 0 : -1;
}

void boot_fixture_reopen(boot_fixture *fx, const char *cmdline, uf_fault *fault,
                         uf_bootloader *out)
{
    uf_boot_config cfg = {fx->bl.name, fx->path, cmdline, fault};
    uf_error err;
    if (!uf_bootloader_open(&cfg, out, &err))
        fail_msg("open %s: %s", fx->bl.name, err.msg);
}

void boot_assert_read_refused(const uf_bootloader *bl, uf_code code, const char *text)
{
    uf_boot_state st;
    uf_error err;
    assert_false(uf_boot_read(bl, &st, &err));
    assert_int_equal(err.code, code);
    if (!strstr(err.msg, text))
        fail_msg("'%s' does not say '%s'", err.msg, text);
}

static void assert_state(const uf_bootloader *bl, uf_slot primary, uf_slot trial,
                         unsigned count)
{
    uf_boot_state st;
    uf_error err;
    assert_true(uf_boot_read(bl, &st, &err));
    assert_int_equal(st.primary, primary);
    assert_int_equal(st.trial, trial);
    assert_int_equal(st.bootcount, count);
    assert_int_equal(st.bootlimit, 1);
}

static uf_slot power_on(const uf_bootloader *bl)
{
    uf_slot booted = UF_SLOT_NONE;
    uf_error err;
    if (!uf_boot_power_on(bl, &booted, &err))
        fail_msg("power on: %s", err.msg);
    return booted;
}

void contract_provisioned_state(void **state)
{
    boot_fixture *fx = *state;
    assert_state(&fx->bl, UF_SLOT_A, UF_SLOT_NONE, 0);
    assert_int_equal(power_on(&fx->bl), UF_SLOT_A);
    assert_state(&fx->bl, UF_SLOT_A, UF_SLOT_NONE, 0);
}

void contract_trial_once_then_fall_back(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    assert_true(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err));
    assert_state(&fx->bl, UF_SLOT_A, UF_SLOT_B, 0);
    assert_int_equal(power_on(&fx->bl), UF_SLOT_B); /* the one trial */
    assert_state(&fx->bl, UF_SLOT_A, UF_SLOT_B, 1);
    assert_int_equal(power_on(&fx->bl), UF_SLOT_A); /* never committed: back to A */
    assert_state(&fx->bl, UF_SLOT_A, UF_SLOT_NONE, 0);
    assert_int_equal(power_on(&fx->bl), UF_SLOT_A);
}

void contract_trial_then_commit(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    assert_true(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err));
    assert_int_equal(power_on(&fx->bl), UF_SLOT_B);
    assert_true(uf_boot_commit(&fx->bl, UF_SLOT_B, &err));
    assert_state(&fx->bl, UF_SLOT_B, UF_SLOT_NONE, 0);
    assert_int_equal(power_on(&fx->bl), UF_SLOT_B);
    assert_int_equal(power_on(&fx->bl), UF_SLOT_B);
    char *trial = fx->raw_get(fx, "upflow_trial");
    assert_true(trial == NULL || *trial == '\0');
    free(trial);
}

void contract_clear_trial(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    assert_true(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err));
    assert_true(uf_boot_clear_trial(&fx->bl, &err));
    assert_state(&fx->bl, UF_SLOT_A, UF_SLOT_NONE, 0);
    assert_int_equal(power_on(&fx->bl), UF_SLOT_A);
}

void contract_trial_of_committed_slot_refused(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    assert_false(uf_boot_set_trial(&fx->bl, UF_SLOT_A, &err));
    assert_int_equal(err.code, UF_E_CONFLICT);
    assert_non_null(strstr(err.msg, "committed slot A"));
    assert_state(&fx->bl, UF_SLOT_A, UF_SLOT_NONE, 0);
}

void contract_foreign_variable_kept(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    assert_true(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err));
    assert_int_equal(power_on(&fx->bl), UF_SLOT_B);
    assert_true(uf_boot_commit(&fx->bl, UF_SLOT_B, &err));
    char *v = fx->raw_get(fx, BOOT_FOREIGN_NAME);
    assert_non_null(v);
    assert_string_equal(v, BOOT_FOREIGN_VALUE);
    free(v);
    v = fx->raw_get(fx, "upflow_slot");
    assert_non_null(v);
    assert_string_equal(v, "B");
    free(v);
}
