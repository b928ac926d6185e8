/*
 * boot_sim.c - the sim back-end and its simulated power-on (see boot_sim.h).
 *
 * The bootloader's side is not the agent: a simulated power-on has no fault points, like
 * the real firmware the agent cannot crash.
 */
#include "agent/boot_sim.h"


#include "agent/boot_backend.h"

static bool sim_running(void *ctx, uf_slot *out, uf_error *err)
{
    const uf_boot_envfile *f = ctx;
    uf_grubenv env = UF_GRUBENV_INIT;
    bool ok = uf_boot_envfile_load_env(f, &env, err);
    const char *booted = ok ? uf_grubenv_get(&env, UF_BOOT_SIM_VAR_BOOTED) : NULL;
    if (ok && !booted)
        ok = uf_error_set(err, UF_E_NOT_FOUND,
                          "%s: the simulated device has not booted yet (no %s)", f->paths.path,
                          UF_BOOT_SIM_VAR_BOOTED);
    else if (ok && !uf_slot_parse(booted, out))
        ok = uf_error_set(err, UF_E_BAD_FIELD, "%s: %s='%s': expected A or B", f->paths.path,
                          UF_BOOT_SIM_VAR_BOOTED, booted);
    uf_grubenv_free(&env);
    return ok;
}

bool uf_boot_sim_open(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err)
{
    if (!uf_boot_envfile_open(cfg, "sim", true, out, err))
        return false;
    out->running = sim_running;
    return true;
}

static bool power_on(uf_boot_envfile *f, uf_grubenv *env, uf_slot *booted, uf_error *err)
{
    uf_boot_state st;
    if (!uf_boot_envfile_load_env(f, env, err) || !uf_boot_state_from_grubenv(env, &st, err))
        return false;
    if (st.primary == UF_SLOT_NONE)
        return uf_error_set(err, UF_E_NOT_FOUND, "%s: not provisioned (no upflow_slot)",
                            f->paths.path);
    *booted = uf_boot_pick(&st);
    return uf_boot_state_to_grubenv(&st, env, err) &&
           uf_grubenv_set(env, UF_BOOT_SIM_VAR_BOOTED, uf_slot_name(*booted), err) &&
           uf_boot_envfile_save_env(f, env, err);
}

bool uf_boot_sim_reboot(const char *path, uf_slot *booted, uf_error *err)
{
    uf_boot_config cfg = {"sim", path, NULL, NULL};
    uf_boot_envfile f = {{NULL, NULL}, true, {NULL, "sim"}};
    if (!uf_boot_paths_copy(&cfg, NULL, &f.paths, err))
        return uf_error_prefix(err, "simulated reboot");
    uf_grubenv env = UF_GRUBENV_INIT;
    bool ok = power_on(&f, &env, booted, err) || uf_error_prefix(err, "simulated reboot");
    uf_grubenv_free(&env);
    uf_boot_paths_free(&f.paths);
    return ok;
}
