/*
 * boot_tool.c - a test helper, not shipped: drives the agent's bootloader back-ends and
 * GRUB environment code from shell tests, so that they can be checked against the real
 * grub-editenv and fw_printenv/fw_setenv.
 *
 *   boot_tool BACKEND PATH read            print slot=, trial=, bootcount=, bootlimit=
 *   boot_tool BACKEND PATH set-trial SLOT  | commit SLOT | clear-trial
 *   boot_tool BACKEND PATH power-on        boot as the bootloader would; print the slot
 *   boot_tool BACKEND PATH running [CMDLINE]
 *   boot_tool grubenv-set FILE NAME VALUE  set one variable with our GRUB block writer
 *
 * Exit status: 0 done, 1 refused (the error on stderr), 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "agent/boot_sim.h"
#include "agent/bootloader.h"
#include "agent/grubenv.h"
#include "lib/cmdline.h"

static const char *const prog = "boot_tool";

static int grubenv_set(const char *path, const char *name, const char *value)
{
    uf_grubenv env = UF_GRUBENV_INIT;
    uf_error err;
    bool ok = uf_grubenv_load(path, &env, &err) && uf_grubenv_set(&env, name, value, &err) &&
              uf_grubenv_save(path, &env, NULL, &err);
    uf_grubenv_free(&env);
    return ok ? UF_EXIT_OK : uf_cmdline_fail(prog, &err);
}

static bool print_state(const uf_bootloader *bl, uf_error *err)
{
    uf_boot_state st;
    if (!uf_boot_read(bl, &st, err))
        return false;
    printf("slot=%s\ntrial=%s\nbootcount=%u\nbootlimit=%u\n", uf_slot_name(st.primary),
           uf_slot_name(st.trial), st.bootcount, st.bootlimit);
    return true;
}

static bool print_slot(bool ok, const uf_slot *slot)
{
    if (ok)
        printf("%s\n", uf_slot_name(*slot));
    return ok;
}

static bool run(const uf_bootloader *bl, const char *path, const char *cmd, const char *arg,
                uf_error *err)
{
    uf_slot slot = UF_SLOT_NONE;
    bool has_slot = arg && uf_slot_parse(arg, &slot);
    if (strcmp(cmd, "read") == 0)
        return print_state(bl, err);
    if (strcmp(cmd, "set-trial") == 0 && has_slot)
        return uf_boot_set_trial(bl, slot, err);
    if (strcmp(cmd, "commit") == 0 && has_slot)
        return uf_boot_commit(bl, slot, err);
    if (strcmp(cmd, "clear-trial") == 0)
        return uf_boot_clear_trial(bl, err);
    if (strcmp(cmd, "power-on") == 0 && strcmp(bl->name, "sim") == 0)
        return print_slot(uf_boot_sim_reboot(path, &slot, err), &slot);
    if (strcmp(cmd, "power-on") == 0)
        return print_slot(uf_boot_power_on(bl, &slot, err), &slot);
    if (strcmp(cmd, "running") == 0)
        return print_slot(uf_boot_running_slot(bl, &slot, err), &slot);
    return uf_error_set(err, UF_E_USAGE, "unknown command '%s', or a missing A|B", cmd);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "grubenv-set") == 0)
        return grubenv_set(argv[2], argv[3], argv[4]);
    if (argc < 4 || argc > 5)
        return uf_cmdline_usage_error(prog, "usage: %s BACKEND PATH COMMAND [ARG]", prog);
    const char *arg = argc == 5 ? argv[4] : NULL;
    bool running = strcmp(argv[3], "running") == 0;
    uf_boot_config cfg = {argv[1], argv[2], running ? arg : NULL, NULL};
    uf_bootloader bl = {0};
    uf_error err;
    bool ok = uf_bootloader_open(&cfg, &bl, &err) && run(&bl, argv[2], argv[3], arg, &err);
    uf_bootloader_close(&bl);
    return ok ? UF_EXIT_OK : uf_cmdline_fail(prog, &err);
}
