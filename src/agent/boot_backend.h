/*
 * boot_backend.h - what the bootloader back-ends share, behind bootloader.h.
 *
 * Each back-end turns its environment into the four upflow variables as text and back;
 * the text rules (which values are valid, the defaults of absent variables) live here once,
 * so that GRUB, U-Boot and the sim read and write the state identically.
 */
#ifndef UPFLOW_AGENT_BOOT_BACKEND_H
#define UPFLOW_AGENT_BOOT_BACKEND_H

#include "agent/bootloader.h"
#include "agent/grubenv.h"

#define UF_BOOT_VAR_SLOT "upflow_slot"
#define UF_BOOT_VAR_TRIAL "upflow_trial"
#define UF_BOOT_VAR_BOOTCOUNT "upflow_bootcount"
#define UF_BOOT_VAR_BOOTLIMIT "upflow_bootlimit"

/* The variables as found (NULL = absent). */
typedef struct uf_boot_vars {
    const char *slot, *trial, *bootcount, *bootlimit;
} uf_boot_vars;

/* Absent slot: UF_SLOT_NONE; absent or empty trial: none; absent bootcount: 0; absent
 * bootlimit: 1. A value out of its range is UF_E_BAD_FIELD naming the variable. */
bool uf_boot_state_from_vars(const uf_boot_vars *vars, uf_boot_state *out, uf_error *err);

/* Set one variable; value "" for upflow_trial means "no trial". */
typedef bool (*uf_boot_var_setter)(void *ctx, const char *name, const char *value,
                                   uf_error *err);
/* Call set for each of the four variables of state. */
bool uf_boot_state_to_vars(const uf_boot_state *state, uf_boot_var_setter set, void *ctx,
                           uf_error *err);

/* The files a back-end keeps: owned copies of cfg->path (default_path when it is NULL or
 * empty; a NULL default makes a path required) and of cfg->cmdline_path (NULL stays NULL:
 * /proc/cmdline). */
typedef struct uf_boot_paths {
    char *path;
    char *cmdline_path;
} uf_boot_paths;

bool uf_boot_paths_copy(const uf_boot_config *cfg, const char *default_path,
                        uf_boot_paths *out, uf_error *err);
void uf_boot_paths_free(uf_boot_paths *paths);
/* A zeroed back-end ctx of size bytes that begins with its uf_boot_paths, copied from cfg
 * as uf_boot_paths_copy does; NULL on failure. */
void *uf_boot_paths_alloc(size_t size, const uf_boot_config *cfg, const char *default_path,
                          uf_error *err);
/* For a back-end whose ctx is a malloc'ed struct that begins with its uf_boot_paths and
 * owns nothing else: running from the kernel command line, and close. */
bool uf_boot_paths_running(void *ctx, uf_slot *out, uf_error *err);
void uf_boot_paths_close(void *ctx);

/* The state in a file of the grubenv format: GRUB's own block, and the sim's state file.
 * Implemented in boot_grub.c; the sim reuses it with create set. */
typedef struct uf_boot_envfile {
    uf_boot_paths paths; /* first: see uf_boot_paths_close */
    bool create; /* a missing file is an empty environment (the sim) */
    uf_fault_site site;
} uf_boot_envfile;

/* A back-end over cfg->path with load, store and close; running reads the command line. */
bool uf_boot_envfile_open(const uf_boot_config *cfg, const char *site, bool create,
                          uf_bootloader *out, uf_error *err);
bool uf_boot_envfile_load_env(const uf_boot_envfile *f, uf_grubenv *env, uf_error *err);
bool uf_boot_envfile_save_env(uf_boot_envfile *f, const uf_grubenv *env, uf_error *err);
/* The four variables of an environment, read and written. */
bool uf_boot_state_from_grubenv(const uf_grubenv *env, uf_boot_state *out, uf_error *err);
bool uf_boot_state_to_grubenv(const uf_boot_state *state, uf_grubenv *env, uf_error *err);

bool uf_boot_grub_open(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err);
bool uf_boot_uboot_open(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err);
bool uf_boot_sim_open(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err);

#endif
