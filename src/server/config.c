/*
 * config.c - defaults, INI file (through inih) and single settings (see config.h).
 */
#include "server/config.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef UPFLOW_SOURCE_DIR
#define UPFLOW_SOURCE_DIR ""
#endif

static void copy(char *dst, const char *src) { snprintf(dst, CONFIG_STR_MAX, "%s", src); }

void config_defaults(server_config *c)
{
    memset(c, 0, sizeof *c);
    copy(c->listen, "127.0.0.1:8080");
    copy(c->public_url, "");
    copy(c->data_dir, "/var/lib/upflow");
    if (UPFLOW_SOURCE_DIR[0]) {
        snprintf(c->templates_dir, CONFIG_STR_MAX, "%s/templates", UPFLOW_SOURCE_DIR);
        snprintf(c->calendars_dir, CONFIG_STR_MAX, "%s/calendars", UPFLOW_SOURCE_DIR);
    } else {
        copy(c->templates_dir, "/usr/share/upflow/templates");
        copy(c->calendars_dir, "/usr/share/upflow/calendars");
    }
    c->threads = 4;
    c->max_body = 1024 * 1024;
    c->max_upload = 64u * 1024 * 1024;
    c->log_level = UF_LOG_INFO;
    c->session_ttl = 12 * 3600;
    c->scrypt_log2_n = 17;
    c->notify_interval = 30;
    c->tuf_timestamp_expiry = 86400;
    c->tuf_snapshot_expiry = 7 * 86400;
    c->max_target_size = UINT64_C(16) << 30;
    c->poll_interval = 60;
    c->max_connections = 16384;
    c->idle_timeout = 60;
}

static bool parse_uint(const char *value, uint64_t min, uint64_t max, uint64_t *out,
                       const char *name, uf_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || end == value || *end || value[0] == '-' || v < min || v > max)
        return uf_error_set(err, UF_E_INVALID, "%s: '%s' is not a whole number in [%" PRIu64
                            ", %" PRIu64 "]", name, value, min, max);
    *out = v;
    return true;
}

static bool set_string(char *dst, const char *value, const char *name, uf_error *err)
{
    if (strlen(value) >= CONFIG_STR_MAX)
        return uf_error_set(err, UF_E_INVALID, "%s: longer than %d characters", name,
                            CONFIG_STR_MAX - 1);
    copy(dst, value);
    return true;
}

/* The numeric settings: name, bounds, and where the value goes. */
typedef enum { NUM_UNSIGNED, NUM_SIZE, NUM_U64, NUM_I64 } num_kind;
typedef struct num_setting {
    const char *name;
    uint64_t min, max;
    size_t offset;
    num_kind kind;
} num_setting;

#define DAY (UINT64_C(86400))
static const num_setting numbers[] = {
    {"server.threads", 1, 256, offsetof(server_config, threads), NUM_UNSIGNED},
    {"server.max_body", 1024, 1024u * 1024 * 1024, offsetof(server_config, max_body), NUM_SIZE},
    {"server.max_upload", 1024, UINT64_C(1) << 40, offsetof(server_config, max_upload), NUM_U64},
    {"auth.session_ttl", 60, 90 * DAY, offsetof(server_config, session_ttl), NUM_I64},
    {"auth.scrypt_log2_n", 10, 20, offsetof(server_config, scrypt_log2_n), NUM_UNSIGNED},
    {"notify.interval", 1, 3600, offsetof(server_config, notify_interval), NUM_UNSIGNED},
    {"tuf.timestamp_expiry", 2, 365 * DAY, offsetof(server_config, tuf_timestamp_expiry),
     NUM_I64},
    {"tuf.snapshot_expiry", 2, 3650 * DAY, offsetof(server_config, tuf_snapshot_expiry),
     NUM_I64},
    {"tuf.max_target_size", 1024, UINT64_C(1) << 44, offsetof(server_config, max_target_size),
     NUM_U64},
    {"devices.poll_interval", 1, 86400, offsetof(server_config, poll_interval), NUM_UNSIGNED},
    {"server.max_connections", 16, 1000000, offsetof(server_config, max_connections),
     NUM_UNSIGNED},
    {"server.idle_timeout", 1, 3600, offsetof(server_config, idle_timeout), NUM_UNSIGNED},
};

static bool set_number(server_config *c, const num_setting *s, const char *value, uf_error *err)
{
    uint64_t n = 0;
    if (!parse_uint(value, s->min, s->max, &n, s->name, err))
        return false;
    char *field = (char *)c + s->offset;
    switch (s->kind) {
    case NUM_UNSIGNED:
        *(unsigned *)(void *)field = (unsigned)n;
        break;
    case NUM_SIZE:
        *(size_t *)(void *)field = (size_t)n;
        break;
    case NUM_U64:
        *(uint64_t *)(void *)field = n;
        break;
    case NUM_I64:
        *(int64_t *)(void *)field = (int64_t)n;
        break;
    }
    return true;
}

bool config_set(server_config *c, const char *section, const char *key, const char *value,
                uf_error *err)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", section, key);
    if (strcmp(name, "server.listen") == 0)
        return set_string(c->listen, value, name, err);
    if (strcmp(name, "server.public_url") == 0)
        return set_string(c->public_url, value, name, err);
    if (strcmp(name, "server.data_dir") == 0)
        return set_string(c->data_dir, value, name, err);
    if (strcmp(name, "workflow.templates_dir") == 0)
        return set_string(c->templates_dir, value, name, err);
    if (strcmp(name, "workflow.calendars_dir") == 0)
        return set_string(c->calendars_dir, value, name, err);
    if (strcmp(name, "notify.webhook_url") == 0) {
        if (*value && strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
            return uf_error_set(err, UF_E_INVALID, "%s: '%s' is not an http:// or https:// URL",
                                name, value);
        return set_string(c->webhook_url, value, name, err);
    }
    if (strcmp(name, "notify.webhook_secret") == 0)
        return set_string(c->webhook_secret, value, name, err);
    if (strcmp(name, "server.forwarded_headers") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return uf_error_set(err, UF_E_INVALID, "%s: '%s' is not true or false", name, value);
        c->forwarded_headers = strcmp(value, "true") == 0;
        return true;
    }
    if (strcmp(name, "server.log_level") == 0) {
        if (!uf_log_level_from_name(value, &c->log_level))
            return uf_error_set(err, UF_E_INVALID,
                                "%s: '%s' is not one of error, warn, info, debug", name, value);
        return true;
    }
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (strcmp(name, numbers[i].name) == 0)
            return set_number(c, &numbers[i], value, err);
    return uf_error_set(err, UF_E_INVALID, "unknown setting %s", name);
}

typedef struct load_state {
    server_config *config;
    uf_error *err;
    bool failed;
} load_state;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    load_state *st = user;
    if (st->failed)
        return 0;
    if (!config_set(st->config, section, name, value, st->err)) {
        st->failed = true;
        return 0;
    }
    return 1;
}

bool config_load_file(server_config *c, const char *path, uf_error *err)
{
    uf_error local;
    uf_error_clear(&local);
    load_state st = {c, &local, false};
    int rc = ini_parse(path, on_ini, &st);
    if (rc == -1)
        return uf_error_errno(err, errno ? errno : ENOENT, "read config %s", path);
    if (rc == -2)
        return uf_error_set(err, UF_E_NOMEM, "read config %s: out of memory", path);
    if (rc > 0) {
        if (st.failed)
            return uf_error_set(err, local.code, "%s:%d: %s", path, rc, local.msg);
        return uf_error_set(err, UF_E_INVALID, "%s:%d: cannot parse this line", path, rc);
    }
    return true;
}
