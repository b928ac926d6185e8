/*
 * cmd_device.c - `upflow device list|show|enrol|label|group|gateway-token`: the device
 * registry of an upflow server, for release managers (and an administrator's gateway token).
 *
 * Each subcommand is one API call; --json prints the server's answer as it came, otherwise a
 * table or a page. Attributes given with --attr are text (filters compare numbers by their
 * text too, docs/device-filters.md). A device token is shown once, when the device is
 * enrolled; --token-only prints nothing else, for scripts.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/device_view.h"
#include "cli/server_cmd.h"
#include "lib/cmdline.h"

enum { OPT_ATTR = UF_SRV_OPT_OWN, OPT_TAG, OPT_FILTER, OPT_GROUP, OPT_TOKEN_ONLY };

#define ATTR_HELP                                                                             \
    "      --attr KEY=VALUE      a custom attribute (text), for filters; repeat for more\n"  \
    "      --tag TAG             a tag; repeat for more\n"

/* What the options of a device subcommand gave. */
typedef struct device_args {
    json_t *attributes; /* NULL without --attr */
    json_t *tags;       /* NULL without --tag */
    const char *filter, *group;
    bool token_only;
} device_args;

static void args_clear(device_args *a)
{
    json_decref(a->attributes);
    json_decref(a->tags);
}

static bool add_attribute(device_args *a, const char *arg, uf_error *err)
{
    const char *eq = strchr(arg, '=');
    char key[128];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof key)
        return uf_error_set(err, UF_E_USAGE, "--attr '%s': expected KEY=VALUE", arg);
    snprintf(key, sizeof key, "%.*s", (int)(eq - arg), arg);
    if (uf_device_builtin_key(key))
        return uf_error_set(err, UF_E_USAGE, "--attr %s: the registry sets '%s' itself", key,
                            key);
    json_t *value = json_string(eq + 1);
    if (!a->attributes)
        a->attributes = json_object();
    if (!value || json_object_set_new(a->attributes, key, value) != 0)
        return uf_error_set(err, UF_E_USAGE, "--attr %s: not valid UTF-8", key);
    return true;
}

static bool add_tag(device_args *a, const char *tag, uf_error *err)
{
    json_t *value = *tag ? json_string(tag) : NULL;
    if (!value)
        return uf_error_set(err, UF_E_USAGE, "--tag '%s': expected a non-empty UTF-8 text", tag);
    if (!a->tags)
        a->tags = json_array();
    json_array_append_new(a->tags, value);
    return true;
}

static bool device_option(uf_srv_cmd *c, void *ctx, int opt, const char *arg)
{
    device_args *a = ctx;
    switch (opt) {
    case OPT_ATTR:
        return add_attribute(a, arg, &c->err);
    case OPT_TAG:
        return add_tag(a, arg, &c->err);
    case OPT_FILTER:
        a->filter = arg;
        return true;
    case OPT_GROUP:
        a->group = arg;
        return uf_srv_check_name(arg, "--group", &c->err);
    case OPT_TOKEN_ONLY:
        a->token_only = true;
        return true;
    default:
        return uf_error_set(&c->err, UF_E_USAGE, "unexpected option");
    }
}

/* Parse argv and check it has at least `want` operands (exactly, unless `more`), the first a
 * name; -1 to go on, else the exit status. */
static int parse(uf_srv_cmd *c, device_args *a, int argc, char **argv,
                 const struct option *options, const char *help, const char *what, int want,
                 bool more)
{
    uf_srv_cmd_init(c, argv[0]);
    memset(a, 0, sizeof *a);
    int rc = uf_srv_cmd_parse(c, argc, argv, options, help, device_option, a);
    if (rc < 0 && !uf_srv_cmd_operands(c, argc, argv, what, want, more ? -1 : want))
        rc = uf_srv_cmd_usage(c);
    if (rc < 0 && want > 0 && !uf_srv_check_name(argv[optind], "NAME", &c->err))
        rc = uf_srv_cmd_usage(c);
    if (rc >= 0)
        args_clear(a);
    return rc;
}

/* "/api/v1/devices/NAME?tenant=T" (NAME checked by parse). */
static bool device_path(uf_srv_cmd *c, uf_buf *path, const char *name)
{
    char base[192];
    snprintf(base, sizeof base, "/api/v1/devices/%s", name);
    return uf_srv_cmd_path(c, path, base);
}

/* ---- list and show ------------------------------------------------------------------- */

static int list_main(int argc, char **argv)
{
    static const struct option options[] = {
        UF_SRV_TENANT_OPTION,
        {"filter", required_argument, NULL, OPT_FILTER},
        {"group", required_argument, NULL, OPT_GROUP},
        UF_SRV_COMMON_OPTIONS,
    };
    uf_srv_cmd c;
    device_args a;
    int rc = parse(&c, &a, argc, argv, options,
                   "[--tenant T] [--filter EXPR] [--group G]\n"
                   "List the devices of a tenant: name, hardware, version, state, last seen,\n"
                   "tags and custom attributes.\n"
                   "\n" UF_SRV_TENANT_HELP
                   "      --filter EXPR         only devices the filter matches, e.g.\n"
                   "                            'hw = \"rev2\" and version < \"2.3\"'\n"
                   "                            (docs/device-filters.md)\n"
                   "      --group G             only the members of static group G\n",
                   NULL, 0, false);
    if (rc >= 0)
        return rc;
    uf_buf path = UF_BUF_INIT;
    bool ok = uf_srv_cmd_path(&c, &path, "/api/v1/devices") &&
              uf_srv_cmd_query(&c, &path, "filter", a.filter) &&
              uf_srv_cmd_query(&c, &path, "group", a.group) &&
              uf_srv_cmd_call(&c, "GET", path.data, NULL);
    uf_buf_free(&path);
    args_clear(&a);
    return uf_srv_cmd_end(&c, ok, uf_view_devices, NULL);
}

static int show_main(int argc, char **argv)
{
    static const struct option options[] = {UF_SRV_TENANT_OPTION, UF_SRV_COMMON_OPTIONS};
    uf_srv_cmd c;
    device_args a;
    int rc = parse(&c, &a, argc, argv, options,
                   "NAME [--tenant T]\n"
                   "Show a device: hardware, version, state, last seen, tags, groups, custom\n"
                   "attributes, inventory, and the history of its actions with the agent's\n"
                   "reasons, newest first.\n"
                   "\n" UF_SRV_TENANT_HELP,
                   "a device NAME", 1, false);
    if (rc >= 0)
        return rc;
    uf_buf path = UF_BUF_INIT;
    bool ok = device_path(&c, &path, argv[optind]) && uf_srv_cmd_call(&c, "GET", path.data, NULL);
    uf_buf_free(&path);
    return uf_srv_cmd_end(&c, ok, uf_view_device, NULL);
}

/* ---- enrol and label ----------------------------------------------------------------- */

static void view_enrolled(const json_t *dev, const void *ctx)
{
    const device_args *a = ctx;
    const char *token = json_string_value(json_object_get(dev, "token"));
    if (a->token_only) {
        uf_client_print_text(stdout, token ? token : "");
        putchar('\n');
        return;
    }
    fputs("enrolled device ", stdout);
    uf_client_print_text(stdout, json_string_value(json_object_get(dev, "name")));
    fputs(" in tenant ", stdout);
    uf_client_print_text(stdout, json_string_value(json_object_get(dev, "tenant")));
    fputs("\ntoken: ", stdout);
    uf_client_print_text(stdout, token ? token : "?");
    fputs("\nThe token is shown only this once: put it in the device's agent configuration.\n",
          stdout);
}

static int enrol_main(int argc, char **argv)
{
    static const struct option options[] = {
        UF_SRV_TENANT_OPTION,
        {"attr", required_argument, NULL, OPT_ATTR},
        {"tag", required_argument, NULL, OPT_TAG},
        {"token-only", no_argument, NULL, OPT_TOKEN_ONLY},
        UF_SRV_COMMON_OPTIONS,
    };
    uf_srv_cmd c;
    device_args a;
    int rc = parse(&c, &a, argc, argv, options,
                   "NAME [--tenant T] [--attr KEY=VALUE]... [--tag TAG]... [--token-only]\n"
                   "Enrol a device and print its token, which is shown only this once.\n"
                   "\n" UF_SRV_TENANT_HELP ATTR_HELP
                   "      --token-only          print only the token (for scripts)\n",
                   "a device NAME", 1, false);
    if (rc >= 0)
        return rc;
    if (a.token_only && c.json) {
        args_clear(&a);
        return uf_cmdline_usage_error(argv[0], "--token-only and --json exclude each other");
    }
    json_t *body = json_pack("{s:s, s:s?, s:O?, s:O?}", "device_id", argv[optind], "tenant",
                             c.tenant, "attributes", a.attributes, "tags", a.tags);
    bool ok = body ? uf_srv_cmd_call(&c, "POST", "/api/v1/devices", body)
                   : uf_error_set(&c.err, UF_E_NOMEM, "enrol: out of memory");
    json_decref(body);
    rc = uf_srv_cmd_end(&c, ok, view_enrolled, &a);
    args_clear(&a);
    return rc;
}

static int label_main(int argc, char **argv)
{
    static const struct option options[] = {
        UF_SRV_TENANT_OPTION,
        {"attr", required_argument, NULL, OPT_ATTR},
        {"tag", required_argument, NULL, OPT_TAG},
        UF_SRV_COMMON_OPTIONS,
    };
    uf_srv_cmd c;
    device_args a;
    int rc = parse(&c, &a, argc, argv, options,
                   "NAME [--attr KEY=VALUE]... [--tag TAG]... [--tenant T]\n"
                   "Set a device's custom attributes or tags, and show the device. Given\n"
                   "attributes replace all of the device's custom attributes, given tags all\n"
                   "of its tags; what is not given stays as it is.\n"
                   "\n" UF_SRV_TENANT_HELP ATTR_HELP,
                   "a device NAME", 1, false);
    if (rc >= 0)
        return rc;
    if (!a.attributes && !a.tags) {
        args_clear(&a);
        return uf_cmdline_usage_error(argv[0], "nothing to set: give --attr or --tag");
    }
    json_t *body = json_pack("{s:O?, s:O?}", "attributes", a.attributes, "tags", a.tags);
    uf_buf path = UF_BUF_INIT;
    bool ok = body ? device_path(&c, &path, argv[optind]) &&
                         uf_srv_cmd_call(&c, "PATCH", path.data, body)
                   : uf_error_set(&c.err, UF_E_NOMEM, "label: out of memory");
    json_decref(body);
    uf_buf_free(&path);
    args_clear(&a);
    return uf_srv_cmd_end(&c, ok, uf_view_device, NULL);
}

/* ---- groups and the gateway token ------------------------------------------------------ */

static void view_group(const json_t *body, const void *unused)
{
    (void)unused;
    fputs("group ", stdout);
    uf_client_print_text(stdout, json_string_value(json_object_get(body, "group")));
    fputs(" (tenant ", stdout);
    uf_client_print_text(stdout, json_string_value(json_object_get(body, "tenant")));
    printf("): %" JSON_INTEGER_FORMAT " devices\n",
           json_integer_value(json_object_get(body, "devices")));
}

static int group_main(int argc, char **argv)
{
    static const struct option options[] = {UF_SRV_TENANT_OPTION, UF_SRV_COMMON_OPTIONS};
    uf_srv_cmd c;
    device_args a;
    int rc = parse(&c, &a, argc, argv, options,
                   "NAME DEVICE... [--tenant T]\n"
                   "Make DEVICE... the members of static group NAME, which is created if it\n"
                   "does not exist; devices not named leave the group.\n"
                   "\n" UF_SRV_TENANT_HELP,
                   "a group NAME and its DEVICEs", 2, true);
    if (rc >= 0)
        return rc;
    json_t *devices = json_array();
    bool ok = true;
    for (int i = optind + 1; ok && i < argc; i++)
        ok = uf_srv_check_name(argv[i], "DEVICE", &c.err) &&
             json_array_append_new(devices, json_string(argv[i])) == 0;
    if (!ok) {
        json_decref(devices);
        return uf_srv_cmd_usage(&c);
    }
    char base[192];
    snprintf(base, sizeof base, "/api/v1/groups/%s", argv[optind]);
    json_t *body = json_pack("{s:o}", "devices", devices);
    uf_buf path = UF_BUF_INIT;
    ok = uf_srv_cmd_path(&c, &path, base) && uf_srv_cmd_call(&c, "PUT", path.data, body);
    json_decref(body);
    uf_buf_free(&path);
    return uf_srv_cmd_end(&c, ok, view_group, NULL);
}

static void view_token(const json_t *body, const void *unused)
{
    (void)unused;
    uf_client_print_text(stdout, json_string_value(json_object_get(body, "token")));
    putchar('\n');
}

static int gateway_token_main(int argc, char **argv)
{
    static const struct option options[] = {UF_SRV_TENANT_OPTION, UF_SRV_COMMON_OPTIONS};
    uf_srv_cmd c;
    device_args a;
    int rc = parse(&c, &a, argc, argv, options,
                   "[--tenant T]\n"
                   "Make a new gateway token for a tenant and print it (administrators only).\n"
                   "A device that presents it and is not enrolled registers itself\n"
                   "(docs/rollouts.md).\n"
                   "\n" UF_SRV_TENANT_HELP,
                   NULL, 0, false);
    if (rc >= 0)
        return rc;
    char path[192];
    snprintf(path, sizeof path, "/api/v1/tenants/%s/gateway-token",
             c.tenant ? c.tenant : "default");
    json_t *body = json_object();
    bool ok = uf_srv_cmd_call(&c, "POST", path, body);
    json_decref(body);
    return uf_srv_cmd_end(&c, ok, view_token, NULL);
}

int cmd_device(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"list", "list devices, by filter and group", list_main},
        {"show", "show a device with its inventory and history", show_main},
        {"enrol", "enrol a device and print its token", enrol_main},
        {"label", "set a device's attributes or tags", label_main},
        {"group", "set the devices of a static group", group_main},
        {"gateway-token", "a new gateway token for a tenant (admin)", gateway_token_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
