/*
 * boot_contract.h - what every bootloader back-end must do, as tests that each back-end's
 * test file runs against its own fixture: a trial boots once and then falls back, commit
 * makes the slot primary, clear_trial rolls back, a trial of the committed slot is refused,
 * and the variables upflow does not own survive every write.
 */
#ifndef UPFLOW_TEST_BOOT_CONTRACT_H
#define UPFLOW_TEST_BOOT_CONTRACT_H

#include "agent/bootloader.h"

#define BOOT_FOREIGN_NAME "foreign_var"
#define BOOT_FOREIGN_VALUE "kept as is"

typedef struct boot_fixture {
    char dir[64];       /* a fresh temporary directory */
    char path[128];     /* the back-end's file in dir (grubenv, sim state, fw_env.config) */
    uf_bootloader bl;   /* open, provisioned with upflow_slot=A and the foreign variable */
    /* The variable as the bootloader itself stores it (malloc'd), or NULL when unset. */
    char *(*raw_get)(struct boot_fixture *fx, const char *name);
} boot_fixture;

/* A fresh temporary directory in fx->dir; 0 on success. */
int boot_fixture_mkdir(boot_fixture *fx, const char *name);
/* Close the back-end, remove the directory and free fx. */
int boot_fixture_teardown(void **state);
/* Write a 1024-byte GRUB environment block holding lines ("name=value\n"...) at path. */
void boot_write_grubenv(const char *path, const char *lines);
/* raw_get for the grub and sim back-ends: the variable in the block at fx->path. */
char *boot_grubenv_raw_get(boot_fixture *fx, const char *name);
/* The setup of the grub and sim back-ends: a provisioned block named file in a fresh
 * directory, opened with backend. */
int boot_grubenv_setup(void **state, const char *backend, const char *file);

/* Open fx's back-end again on fx->path, with a command line file and fault points. */
void boot_fixture_reopen(boot_fixture *fx, const char *cmdline, uf_fault *fault,
                         uf_bootloader *out);
/* uf_boot_read on bl fails with code and a message holding text. */
void boot_assert_read_refused(const uf_bootloader *bl, uf_code code, const char *text);

void contract_provisioned_state(void **state);
void contract_trial_once_then_fall_back(void **state);
void contract_trial_then_commit(void **state);
void contract_clear_trial(void **state);
void contract_trial_of_committed_slot_refused(void **state);
void contract_foreign_variable_kept(void **state);

#define BOOT_CONTRACT_TESTS(setup)                                                            \
    cmocka_unit_test_setup_teardown(contract_provisioned_state, setup,                        \
                                    boot_fixture_teardown),                                   \
    cmocka_unit_test_setup_teardown(contract_trial_once_then_fall_back, setup,                \
                                    boot_fixture_teardown),                                   \
    cmocka_unit_test_setup_teardown(contract_trial_then_commit, setup,                        \
                                    boot_fixture_teardown),                                   \
    cmocka_unit_test_setup_teardown(contract_clear_trial, setup, boot_fixture_teardown),      \
    cmocka_unit_test_setup_teardown(contract_trial_of_committed_slot_refused, setup,          \
                                    boot_fixture_teardown),                                   \
    cmocka_unit_test_setup_teardown(contract_foreign_variable_kept, setup,                    \
                                    boot_fixture_teardown)

#endif
