/*
 * boot_sim.h - a file that plays the bootloader, for tests and the demo.
 *
 * The back-end "sim" keeps the upflow variables in a file of the grubenv format (a missing
 * file is an empty environment), plus upflow_booted: the slot the last simulated power-on
 * booted, which is what the sim reports as the running slot. uf_boot_sim_reboot is that
 * power-on: it picks the slot exactly as the grub.cfg and U-Boot snippets do (uf_boot_pick)
 * and saves the new counter, the dropped trial and the booted slot in one atomic write.
 */
#ifndef UPFLOW_AGENT_BOOT_SIM_H
#define UPFLOW_AGENT_BOOT_SIM_H

#include "agent/bootloader.h"

#define UF_BOOT_SIM_VAR_BOOTED "upflow_booted"

/* Power the simulated device on: choose the slot, update the state file, record and return
 * the booted slot. An unprovisioned file (no upflow_slot) is UF_E_NOT_FOUND. */
bool uf_boot_sim_reboot(const char *path, uf_slot *booted, uf_error *err);

#endif
