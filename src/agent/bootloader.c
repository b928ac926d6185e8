/*
 * bootloader.c - the A/B boot state operations over any back-end (see bootloader.h), the
 * power-on rule the bootloader scripts implement, and the back-end registry.
 */
#include "agent/bootloader.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/boot_backend.h"
#include "lib/buf.h"
#include "lib/fileio.h"

const char *uf_slot_name(uf_slot slot)
{
    return slot == UF_SLOT_A ? "A" : slot == UF_SLOT_B ? "B" : "";
}

bool uf_slot_parse(const char *name, uf_slot *out)
{
    if (strcmp(name, "A") == 0)
        *out = UF_SLOT_A;
    else if (strcmp(name, "B") == 0)
        *out = UF_SLOT_B;
    else
        return false;
    return true;
}

uf_slot uf_slot_other(uf_slot slot)
{
    return slot == UF_SLOT_A ? UF_SLOT_B : slot == UF_SLOT_B ? UF_SLOT_A : UF_SLOT_NONE;
}

/* --- the variables as text ------------------------------------------------------------ */

static bool parse_count(const char *name, const char *text, unsigned min, unsigned *out,
                        uf_error *err)
{
    if (strlen(text) != 1 || !isdigit((unsigned char)text[0]) ||
        (unsigned)(text[0] - '0') < min || (unsigned)(text[0] - '0') > UF_BOOT_LIMIT_MAX)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s='%s': expected %u to %d", name, text,
                            min, UF_BOOT_LIMIT_MAX);
    *out = (unsigned)(text[0] - '0');
    return true;
}

static bool parse_slot_var(const char *name, const char *text, uf_slot *out, uf_error *err)
{
    if (!text || (*text == '\0' && strcmp(name, UF_BOOT_VAR_TRIAL) == 0)) {
        *out = UF_SLOT_NONE;
        return true;
    }
    if (!uf_slot_parse(text, out))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s='%s': expected A or B", name, text);
    return true;
}

bool uf_boot_state_from_vars(const uf_boot_vars *vars, uf_boot_state *out, uf_error *err)
{
    *out = (uf_boot_state){UF_SLOT_NONE, UF_SLOT_NONE, 0, 1};
    return parse_slot_var(UF_BOOT_VAR_SLOT, vars->slot, &out->primary, err) &&
           parse_slot_var(UF_BOOT_VAR_TRIAL, vars->trial, &out->trial, err) &&
           (!vars->bootcount ||
            parse_count(UF_BOOT_VAR_BOOTCOUNT, vars->bootcount, 0, &out->bootcount, err)) &&
           (!vars->bootlimit ||
            parse_count(UF_BOOT_VAR_BOOTLIMIT, vars->bootlimit, 1, &out->bootlimit, err));
}

bool uf_boot_state_to_vars(const uf_boot_state *state, uf_boot_var_setter set, void *ctx,
                           uf_error *err)
{
    char count[2] = {(char)('0' + state->bootcount), '\0'};
    char limit[2] = {(char)('0' + state->bootlimit), '\0'};
    return set(ctx, UF_BOOT_VAR_SLOT, uf_slot_name(state->primary), err) &&
           set(ctx, UF_BOOT_VAR_TRIAL, uf_slot_name(state->trial), err) &&
           set(ctx, UF_BOOT_VAR_BOOTCOUNT, count, err) &&
           set(ctx, UF_BOOT_VAR_BOOTLIMIT, limit, err);
}

/* --- what back-ends keep ------------------------------------------------------------- */

bool uf_boot_paths_copy(const uf_boot_config *cfg, const char *default_path,
                        uf_boot_paths *out, uf_error *err)
{
    const char *path = cfg->path && *cfg->path ? cfg->path : default_path;
    *out = (uf_boot_paths){NULL, NULL};
    if (!path)
        return uf_error_set(err, UF_E_INVALID, "no environment file configured");
    out->path = strdup(path);
    out->cmdline_path = cfg->cmdline_path ? strdup(cfg->cmdline_path) : NULL;
    if (out->path && (!cfg->cmdline_path || out->cmdline_path))
        return true;
    uf_boot_paths_free(out);
    return uf_error_set(err, UF_E_NOMEM, "out of memory");
}

void uf_boot_paths_free(uf_boot_paths *paths)
{
    free(paths->path);
    free(paths->cmdline_path);
    *paths = (uf_boot_paths){NULL, NULL};
}

void *uf_boot_paths_alloc(size_t size, const uf_boot_config *cfg, const char *default_path,
                          uf_error *err)
{
    assert(size >= sizeof(uf_boot_paths));
    uf_boot_paths *ctx = calloc(1, size);
    if (!ctx) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        return NULL;
    }
    if (!uf_boot_paths_copy(cfg, default_path, ctx, err)) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

bool uf_boot_paths_running(void *ctx, uf_slot *out, uf_error *err)
{
    return uf_boot_cmdline_slot(((uf_boot_paths *)ctx)->cmdline_path, out, err);
}

void uf_boot_paths_close(void *ctx)
{
    if (ctx)
        uf_boot_paths_free(ctx);
    free(ctx);
}

/* --- the registry ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    bool (*open)(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err);
} backends[] = {
    {"grub", uf_boot_grub_open},
    {"uboot", uf_boot_uboot_open},
    {"sim", uf_boot_sim_open},
};

bool uf_bootloader_open(const uf_boot_config *cfg, uf_bootloader *out, uf_error *err)
{
    const char *name = cfg->backend ? cfg->backend : "";
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (strcmp(backends[i].name, name) == 0)
            return backends[i].open(cfg, out, err) ||
                   uf_error_prefix(err, "open bootloader %s", name);
    }
    return uf_error_set(err, UF_E_UNSUPPORTED,
                        "bootloader '%s': expected grub, uboot or sim", name);
}

void uf_bootloader_close(uf_bootloader *bl)
{
    if (bl && bl->close)
        bl->close(bl->ctx);
    if (bl)
        *bl = (uf_bootloader){0};
}

/* --- the operations -------------------------------------------------------------------- */

static bool read_provisioned(const uf_bootloader *bl, uf_boot_state *out, uf_error *err)
{
    if (!bl->load(bl->ctx, out, err))
        return false;
    if (out->primary == UF_SLOT_NONE)
        return uf_error_set(err, UF_E_NOT_FOUND,
                            "no %s: the bootloader environment is not provisioned",
                            UF_BOOT_VAR_SLOT);
    return true;
}

bool uf_boot_read(const uf_bootloader *bl, uf_boot_state *out, uf_error *err)
{
    return read_provisioned(bl, out, err) || uf_error_prefix(err, "read boot state");
}

bool uf_boot_set_trial(const uf_bootloader *bl, uf_slot slot, uf_error *err)
{
    uf_boot_state st;
    if (!read_provisioned(bl, &st, err))
        return uf_error_prefix(err, "set trial slot %s", uf_slot_name(slot));
    if (slot == UF_SLOT_NONE || slot == st.primary)
        return uf_error_set(err, UF_E_CONFLICT,
                            "set trial slot %s: the trial slot must be the other one than the "
                            "committed slot %s", uf_slot_name(slot), uf_slot_name(st.primary));
    st.trial = slot;
    st.bootcount = 0;
    return bl->store(bl->ctx, &st, err) ||
           uf_error_prefix(err, "set trial slot %s", uf_slot_name(slot));
}

bool uf_boot_commit(const uf_bootloader *bl, uf_slot slot, uf_error *err)
{
    uf_boot_state st;
    if (slot == UF_SLOT_NONE)
        return uf_error_set(err, UF_E_INVALID, "commit: no slot named");
    if (!bl->load(bl->ctx, &st, err))
        return uf_error_prefix(err, "commit slot %s", uf_slot_name(slot));
    st.primary = slot;
    st.trial = UF_SLOT_NONE;
    st.bootcount = 0;
    return bl->store(bl->ctx, &st, err) ||
           uf_error_prefix(err, "commit slot %s", uf_slot_name(slot));
}

bool uf_boot_clear_trial(const uf_bootloader *bl, uf_error *err)
{
    uf_boot_state st;
    if (!read_provisioned(bl, &st, err))
        return uf_error_prefix(err, "clear trial");
    st.trial = UF_SLOT_NONE;
    st.bootcount = 0;
    return bl->store(bl->ctx, &st, err) || uf_error_prefix(err, "clear trial");
}

bool uf_boot_running_slot(const uf_bootloader *bl, uf_slot *out, uf_error *err)
{
    return bl->running(bl->ctx, out, err) || uf_error_prefix(err, "find the running slot");
}

/* The rule of docs/bootloaders.md: a trial slot boots while attempts remain, each attempt
 * counted before it boots (so a crash during the trial boot still uses it up); when none
 * remain the trial is dropped and the primary boots. */
uf_slot uf_boot_pick(uf_boot_state *state)
{
    if (state->trial != UF_SLOT_NONE && state->bootcount < state->bootlimit) {
        state->bootcount++;
        return state->trial;
    }
    if (state->trial != UF_SLOT_NONE) {
        state->trial = UF_SLOT_NONE;
        state->bootcount = 0;
    }
    return state->primary;
}

bool uf_boot_power_on(const uf_bootloader *bl, uf_slot *booted, uf_error *err)
{
    uf_boot_state st;
    if (!read_provisioned(bl, &st, err))
        return uf_error_prefix(err, "power on");
    *booted = uf_boot_pick(&st);
    return bl->store(bl->ctx, &st, err) || uf_error_prefix(err, "power on");
}

/* --- the kernel command line ----------------------------------------------------------- */

#define CMDLINE_ARG "upflow.slot="
#define CMDLINE_CAP 65536

bool uf_boot_cmdline_slot(const char *cmdline_path, uf_slot *out, uf_error *err)
{
    const char *path = cmdline_path ? cmdline_path : UF_BOOT_CMDLINE_DEFAULT;
    uf_buf text = UF_BUF_INIT;
    if (!uf_file_read_capped(path, CMDLINE_CAP, &text, err)) {
        uf_buf_free(&text);
        return false;
    }
    const char *found = NULL;
    size_t found_len = 0, arg_len = strlen(CMDLINE_ARG);
    for (char *p = text.data; p && *p;) {
        size_t len = strcspn(p, " \t\n");
        if (len >= arg_len && strncmp(p, CMDLINE_ARG, arg_len) == 0) {
            found = p + arg_len; /* the last one wins, as with the kernel's own options */
            found_len = len - arg_len;
        }
        p += len;
        p += strspn(p, " \t\n");
    }
    char value[8] = "";
    if (found)
        snprintf(value, sizeof value, "%.*s", (int)(found_len < 7 ? found_len : 7), found);
    uf_buf_free(&text);
    if (!found)
        return uf_error_set(err, UF_E_NOT_FOUND, "%s: no %sA or %sB", path, CMDLINE_ARG,
                            CMDLINE_ARG);
    if (found_len > 1 || !uf_slot_parse(value, out))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: %s%s: expected A or B", path,
                            CMDLINE_ARG, value);
    return true;
}
