/*
 * bootloader.h - the A/B boot state, whatever bootloader keeps it.
 *
 * The state is four variables in the bootloader's environment (docs/bootloaders.md):
 *
 *     upflow_slot       committed (primary) slot, "A" or "B"
 *     upflow_trial      slot to boot once on trial; empty (U-Boot: unset) when none
 *     upflow_bootcount  trial boots attempted so far, 0..UF_BOOT_LIMIT_MAX
 *     upflow_bootlimit  trial boots allowed before falling back, 1..UF_BOOT_LIMIT_MAX
 *                       (default 1)
 *
 * At power-on the bootloader's script (uf_boot_pick is the same rule in C) boots the trial
 * slot while bootcount < bootlimit, counting each attempt, then clears the trial and boots
 * the primary slot. The agent arms a trial, commits the slot that proved healthy, or clears
 * the trial to roll back. Every write preserves the variables upflow does not own.
 *
 * A back-end ("grub", "uboot", "sim") is a small table of function pointers over its ctx,
 * found by name; code above this interface never names a concrete bootloader.
 */
#ifndef UPFLOW_AGENT_BOOTLOADER_H
#define UPFLOW_AGENT_BOOTLOADER_H

#include <stdbool.h>

#include "agent/fault.h"
#include "lib/error.h"

/* GRUB script has no arithmetic: its snippet counts with a chain of ifs up to this. */
#define UF_BOOT_LIMIT_MAX 3
#define UF_BOOT_CMDLINE_DEFAULT "/proc/cmdline"

typedef enum { UF_SLOT_NONE, UF_SLOT_A, UF_SLOT_B } uf_slot;

/* "A", "B", or "" for UF_SLOT_NONE. */
const char *uf_slot_name(uf_slot slot);
/* "A" or "B" exactly; anything else is false. */
bool uf_slot_parse(const char *name, uf_slot *out);
/* A <-> B; UF_SLOT_NONE stays. */
uf_slot uf_slot_other(uf_slot slot);

typedef struct uf_boot_state {
    uf_slot primary;    /* UF_SLOT_NONE only while the environment is not provisioned */
    uf_slot trial;      /* UF_SLOT_NONE when no trial is armed */
    unsigned bootcount;
    unsigned bootlimit;
} uf_boot_state;

typedef struct uf_boot_config {
    const char *backend;      /* "grub", "uboot" or "sim" */
    const char *path;         /* grubenv file; fw_env.config (NULL: /etc/fw_env.config);
                                 sim state file */
    const char *cmdline_path; /* where grub and uboot find upflow.slot=; NULL: /proc/cmdline */
    uf_fault *fault;          /* crash points of the back-end's writes; may be NULL */
} uf_boot_config;

typedef struct uf_bootloader {
    const char *name;
    void *ctx;
    /* The state as stored; primary is UF_SLOT_NONE when upflow_slot is absent. */
    bool (*load)(void *ctx, uf_boot_state *out, uf_error *err);
    /* Store the four variables, keeping every other variable as it is. */
    bool (*store)(void *ctx, const uf_boot_state *state, uf_error *err);
    /* The slot the running system was booted from. */
    bool (*running)(void *ctx, uf_slot *out, uf_error *err);
    void (*close)(void *ctx);
} uf_bootloader;

/* Open the back-end cfg->backend names; an unknown name is UF_E_UNSUPPORTED. */
bool uf_bootloader_open(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err);
void uf_bootloader_close(uf_bootloader *bl);

/* The state; an environment without upflow_slot is UF_E_NOT_FOUND (not provisioned). */
bool uf_boot_read(const uf_bootloader *bl, uf_boot_state *out, uf_error *err);
/* Arm one trial boot of slot, which must be the other one than the primary (else
 * UF_E_CONFLICT); the counter restarts at 0. */
bool uf_boot_set_trial(const uf_bootloader *bl, uf_slot slot, uf_error *err);
/* Make slot the primary and clear the trial and the counter. Also provisions an empty
 * environment. */
bool uf_boot_commit(const uf_bootloader *bl, uf_slot slot, uf_error *err);
/* Roll back: forget the trial and the counter; the primary stays. */
bool uf_boot_clear_trial(const uf_bootloader *bl, uf_error *err);
/* The slot the running system was booted from. */
bool uf_boot_running_slot(const uf_bootloader *bl, uf_slot *out, uf_error *err);

/* What the bootloader does at power-on: choose the slot to boot and update the state
 * (count a trial attempt, or drop an exhausted trial). Returns the slot to boot. */
uf_slot uf_boot_pick(uf_boot_state *state);
/* A power-on through any back-end: load, uf_boot_pick, store. For tests of the real
 * back-ends; the sim's reboot (boot_sim.h) also records the slot it booted. */
bool uf_boot_power_on(const uf_bootloader *bl, uf_slot *booted, uf_error *err);

/* The slot named by the last "upflow.slot=A|B" on a kernel command line file (NULL:
 * /proc/cmdline); none is UF_E_NOT_FOUND, another value UF_E_BAD_FIELD. */
bool uf_boot_cmdline_slot(const char *cmdline_path, uf_slot *out, uf_error *err);

#endif
