/*
 * boot_grub.c - the GRUB back-end: the upflow variables in a grubenv file, the block that
 * grub.cfg reads with load_env and updates with save_env (docs/bootloaders.md).
 *
 * The file must exist and be a well-formed block (`grub-editenv FILE create` makes one): a
 * block we do not understand is refused, never overwritten. Each write replaces the whole
 * block atomically and keeps every variable that is not upflow's. The running slot comes
 * from the kernel command line, where the grub.cfg snippet puts upflow.slot=. The sim
 * back-end keeps its state in the same format and reuses this file's envfile functions.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/boot_backend.h"
#include "agent/grubenv.h"

bool uf_boot_state_from_grubenv(const uf_grubenv *env, uf_boot_state *out, uf_error *err)
{
    uf_boot_vars vars = {uf_grubenv_get(env, UF_BOOT_VAR_SLOT),
                         uf_grubenv_get(env, UF_BOOT_VAR_TRIAL),
                         uf_grubenv_get(env, UF_BOOT_VAR_BOOTCOUNT),
                         uf_grubenv_get(env, UF_BOOT_VAR_BOOTLIMIT)};
    return uf_boot_state_from_vars(&vars, out, err);
}

static bool grubenv_setter(void *env, const char *name, const char *value, uf_error *err)
{
    return uf_grubenv_set(env, name, value, err);
}

bool uf_boot_state_to_grubenv(const uf_boot_state *state, uf_grubenv *env, uf_error *err)
{
    return uf_boot_state_to_vars(state, grubenv_setter, env, err);
}

bool uf_boot_envfile_load_env(const uf_boot_envfile *f, uf_grubenv *env, uf_error *err)
{
    if (uf_grubenv_load(f->paths.path, env, err))
        return true;
    if (f->create && err && err->code == UF_E_NOT_FOUND)
        return true;
    return uf_error_prefix(err, "read environment block");
}

bool uf_boot_envfile_save_env(uf_boot_envfile *f, const uf_grubenv *env, uf_error *err)
{
    uf_file_observer obs = uf_fault_observer(&f->site);
    return uf_grubenv_save(f->paths.path, env, &obs, err) ||
           uf_error_prefix(err, "write environment block");
}

static bool envfile_load(void *ctx, uf_boot_state *out, uf_error *err)
{
    const uf_boot_envfile *f = ctx;
    uf_grubenv env = UF_GRUBENV_INIT;
    bool ok = uf_boot_envfile_load_env(f, &env, err) &&
              (uf_boot_state_from_grubenv(&env, out, err) ||
               uf_error_prefix(err, "%s", f->paths.path));
    uf_grubenv_free(&env);
    return ok;
}

static bool envfile_store(void *ctx, const uf_boot_state *state, uf_error *err)
{
    uf_boot_envfile *f = ctx;
    uf_grubenv env = UF_GRUBENV_INIT;
    bool ok = uf_boot_envfile_load_env(f, &env, err) &&
              uf_boot_state_to_grubenv(state, &env, err) &&
              uf_boot_envfile_save_env(f, &env, err);
    uf_grubenv_free(&env);
    return ok;
}

bool uf_boot_envfile_open(const uf_boot_config *cfg, const char *site, bool create,
                          uf_bootloader *out, uf_error *err)
{
    uf_boot_envfile *f = uf_boot_paths_alloc(sizeof *f, cfg, NULL, err);
    if (!f)
        return false;
    f->create = create;
    f->site = (uf_fault_site){cfg->fault, site};
    *out = (uf_bootloader){site, f, envfile_load, envfile_store, uf_boot_paths_running,
                           uf_boot_paths_close};
    return true;
}

bool uf_boot_grub_open(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err)
{
    return uf_boot_envfile_open(cfg, "grub", false, out, err);
}
