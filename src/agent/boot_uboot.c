/*
 * boot_uboot.c - the U-Boot back-end, through libubootenv: the environment described by a
 * fw_env.config (one device: a single copy; two: a redundant pair, which libubootenv writes
 * alternately with a flag byte, so a power cut during a write leaves the other copy valid).
 *
 * Each operation opens the environment afresh, so every write starts from what is stored
 * now and keeps the variables that are not upflow's. An environment whose copies all fail
 * their CRC is refused, never written: U-Boot would then boot from that new environment
 * alone, without its bootcmd. Initialise it with `fw_setenv -c CONFIG -f DEFAULTS` first.
 * "No trial" is an unset upflow_trial, as U-Boot itself treats an empty value as unset.
 */
#include <errno.h>
#include <stddef.h> /* libuboot.h uses size_t without including it */
#include <stdlib.h>
#include <string.h>

#include <libuboot.h>

#include "agent/boot_backend.h"

#define UBOOT_CONFIG_DEFAULT "/etc/fw_env.config"

typedef struct uboot_backend {
    uf_boot_paths paths; /* first (see uf_boot_paths_close); path: the fw_env.config */
    uf_fault *fault;
} uboot_backend;

static void env_close(struct uboot_ctx *env)
{
    libuboot_close(env);
    libuboot_exit(env);
}

static bool env_open(const uboot_backend *u, struct uboot_ctx **out, uf_error *err)
{
    struct uboot_ctx *env = NULL;
    int rc = libuboot_initialize(&env, NULL);
    if (rc < 0)
        return uf_error_errno(err, -rc, "U-Boot environment: initialise libubootenv");
    rc = libuboot_read_config(env, u->paths.path);
    if (rc < 0) {
        libuboot_exit(env);
        return uf_error_set(err, UF_E_INVALID, "%s: not a usable fw_env.config (%s)",
                            u->paths.path, strerror(-rc));
    }
    rc = libuboot_open(env);
    if (rc == -ENODATA) {
        env_close(env);
        return uf_error_set(err, UF_E_NOT_FOUND,
                            "U-Boot environment of %s: no copy has a valid CRC; initialise "
                            "it with fw_setenv -c %s -f DEFAULTS",
                            u->paths.path, u->paths.path);
    }
    if (rc < 0) {
        env_close(env);
        return uf_error_errno(err, -rc, "U-Boot environment of %s: read", u->paths.path);
    }
    *out = env;
    return true;
}

static bool uboot_load(void *ctx, uf_boot_state *out, uf_error *err)
{
    struct uboot_ctx *env = NULL;
    if (!env_open(ctx, &env, err))
        return false;
    char *slot = libuboot_get_env(env, UF_BOOT_VAR_SLOT);
    char *trial = libuboot_get_env(env, UF_BOOT_VAR_TRIAL);
    char *count = libuboot_get_env(env, UF_BOOT_VAR_BOOTCOUNT);
    char *limit = libuboot_get_env(env, UF_BOOT_VAR_BOOTLIMIT);
    uf_boot_vars vars = {slot, trial, count, limit};
    bool ok = uf_boot_state_from_vars(&vars, out, err) ||
              uf_error_prefix(err, "U-Boot environment of %s", ((uboot_backend *)ctx)->paths.path);
    free(slot);
    free(trial);
    free(count);
    free(limit);
    env_close(env);
    return ok;
}

static bool uboot_setter(void *env, const char *name, const char *value, uf_error *err)
{
    int rc = libuboot_set_env(env, name, *value ? value : NULL);
    return rc == 0 || uf_error_errno(err, rc < 0 ? -rc : EIO, "set %s", name);
}

static bool uboot_store(void *ctx, const uf_boot_state *state, uf_error *err)
{
    uboot_backend *u = ctx;
    struct uboot_ctx *env = NULL;
    if (!env_open(u, &env, err))
        return false;
    bool ok = uf_boot_state_to_vars(state, uboot_setter, env, err);
    if (ok) {
        uf_fault_point(u->fault, "uboot.store.before");
        int rc = libuboot_env_store(env);
        if (rc != 0)
            ok = uf_error_errno(err, rc < 0 ? -rc : EIO,
                                "write U-Boot environment of %s (full, or the device failed)",
                                u->paths.path);
        else
            uf_fault_point(u->fault, "uboot.store.after");
    }
    env_close(env);
    return ok;
}

bool uf_boot_uboot_open(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err)
{
    uboot_backend *u = uf_boot_paths_alloc(sizeof *u, cfg, UBOOT_CONFIG_DEFAULT, err);
    if (!u)
        return false;
    u->fault = cfg->fault;
    *out = (uf_bootloader){"uboot", u, uboot_load, uboot_store, uf_boot_paths_running,
                           uf_boot_paths_close};
    return true;
}
