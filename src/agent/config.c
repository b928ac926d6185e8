/*
 * config.c - upflow-agent's configuration (see config.h).
 */
#include "agent/config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void agent_config_defaults(agent_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->tenant, sizeof c->tenant, "default");
    snprintf(c->data_dir, sizeof c->data_dir, "/var/lib/upflow-agent");
    snprintf(c->boot_backend, sizeof c->boot_backend, "grub");
    snprintf(c->boot_path, sizeof c->boot_path, "/boot/grub/grubenv");
    snprintf(c->cmdline_path, sizeof c->cmdline_path, "/proc/cmdline");
    c->monitoring_time_s = 120;
    c->script_timeout_s = 300;
    c->tree_keep = 3;
    c->retry_attempts = 5;
    c->trial_contact_s = 300;
    c->backoff_s = 1;
    c->backoff_max_s = 60;
}

typedef struct str_setting {
    const char *name;
    size_t offset, size;
} str_setting;

#define STR(name, field) {name, offsetof(agent_config, field), sizeof((agent_config *)0)->field}
static const str_setting strings[] = {
    STR("device.id", device_id),
    STR("device.tenant", tenant),
    STR("device.hardware", hardware),
    STR("device.version", factory_version),
    STR("device.data_dir", data_dir),
    STR("repository.url", repo_url),
    STR("repository.root", root_file),
    STR("server.url", server_url),
    STR("server.credentials", credentials),
    STR("server.director_key", director_key),
    STR("server.attributes", attributes),
    STR("slots.A", slot_path[0]),
    STR("slots.B", slot_path[1]),
    STR("bootloader.backend", boot_backend),
    STR("bootloader.path", boot_path),
    STR("bootloader.cmdline", cmdline_path),
    STR("bootloader.reboot", reboot_command),
    STR("install.pre", pre_install),
    STR("install.post", post_install),
    STR("install.tree_dir", tree_dir),
};

typedef struct num_setting {
    const char *name;
    uint64_t min, max;
    size_t offset;
    enum { NUM_U64, NUM_I64, NUM_UNSIGNED } kind;
} num_setting;

static const num_setting numbers[] = {
    {"slots.size", 0, UINT64_C(1) << 50, offsetof(agent_config, slot_size), NUM_U64},
    {"health.monitoring_time", 1, 86400, offsetof(agent_config, monitoring_time_s), NUM_I64},
    {"install.script_timeout", 1, 86400, offsetof(agent_config, script_timeout_s), NUM_I64},
    {"install.tree_keep", 1, 1000, offsetof(agent_config, tree_keep), NUM_UNSIGNED},
    {"retry.attempts", 1, 100, offsetof(agent_config, retry_attempts), NUM_UNSIGNED},
    {"server.trial_contact", 0, 86400, offsetof(agent_config, trial_contact_s), NUM_I64},
    {"retry.backoff", 0, 3600, offsetof(agent_config, backoff_s), NUM_UNSIGNED},
    {"retry.backoff_max", 0, 86400, offsetof(agent_config, backoff_max_s), NUM_UNSIGNED},
};

static bool set_number(agent_config *c, const num_setting *s, const char *value, uf_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || end == value || *end || value[0] == '-' || v < s->min || v > s->max)
        return uf_error_set(err, UF_E_INVALID, "%s: '%s' is not a whole number in [%llu, %llu]",
                            s->name, value, (unsigned long long)s->min,
                            (unsigned long long)s->max);
    char *field = (char *)c + s->offset;
    if (s->kind == NUM_U64)
        *(uint64_t *)(void *)field = v;
    else if (s->kind == NUM_I64)
        *(int64_t *)(void *)field = (int64_t)v;
    else
        *(unsigned *)(void *)field = (unsigned)v;
    return true;
}

bool agent_config_set(agent_config *c, const char *section, const char *key, const char *value,
                      uf_error *err)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", section, key);
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        if (strcmp(name, strings[i].name) != 0)
            continue;
        if (strlen(value) >= strings[i].size)
            return uf_error_set(err, UF_E_INVALID, "%s: longer than %zu characters", name,
                                strings[i].size - 1);
        memcpy((char *)c + strings[i].offset, value, strlen(value) + 1);
        return true;
    }
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (strcmp(name, numbers[i].name) == 0)
            return set_number(c, &numbers[i], value, err);
    if (strcmp(name, "server.defer") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return uf_error_set(err, UF_E_INVALID, "%s: '%s' is not true or false", name, value);
        c->defer = strcmp(value, "true") == 0;
        return true;
    }
    if (strcmp(name, "health.command") == 0) {
        if (c->n_health == AGENT_MAX_HEALTH)
            return uf_error_set(err, UF_E_INVALID, "%s: at most %d commands", name,
                                AGENT_MAX_HEALTH);
        if (strlen(value) >= AGENT_STR_MAX)
            return uf_error_set(err, UF_E_INVALID, "%s: too long", name);
        snprintf(c->health[c->n_health++], AGENT_STR_MAX, "%s", value);
        return true;
    }
    return uf_error_set(err, UF_E_INVALID, "unknown setting %s", name);
}

typedef struct load_state {
    agent_config *config;
    uf_error *err;
    bool failed;
} load_state;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    load_state *st = user;
    if (!st->failed && !agent_config_set(st->config, section, name, value, st->err))
        st->failed = true;
    return st->failed ? 0 : 1;
}

bool agent_config_load(agent_config *c, const char *path, uf_error *err)
{
    uf_error local;
    uf_error_clear(&local);
    load_state st = {c, &local, false};
    errno = 0;
    int rc = ini_parse(path, on_ini, &st);
    if (rc == -1)
        return uf_error_errno(err, errno ? errno : ENOENT, "read config %s", path);
    if (rc == -2)
        return uf_error_set(err, UF_E_NOMEM, "read config %s: out of memory", path);
    if (rc > 0)
        return uf_error_set(err, st.failed ? local.code : UF_E_INVALID, "%s:%d: %s", path, rc,
                            st.failed ? local.msg : "cannot parse this line");
    return true;
}

bool agent_config_check(const agent_config *c, uf_error *err)
{
    static const struct {
        const char *name;
        size_t offset;
    } required[] = {
        {"slots.A", offsetof(agent_config, slot_path[0])},
        {"slots.B", offsetof(agent_config, slot_path[1])},
        {"bootloader.path", offsetof(agent_config, boot_path)},
        {"device.data_dir", offsetof(agent_config, data_dir)},
        {"device.id", offsetof(agent_config, device_id)},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!((const char *)c + required[i].offset)[0])
            return uf_error_set(err, UF_E_INVALID, "%s is not set in the configuration",
                                required[i].name);
    if (strcmp(c->slot_path[0], c->slot_path[1]) == 0)
        return uf_error_set(err, UF_E_INVALID, "slots.A and slots.B are the same: %s",
                            c->slot_path[0]);
    return true;
}
