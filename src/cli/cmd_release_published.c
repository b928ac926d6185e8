/*
 * cmd_release_published.c - `upflow release published`: the releases a server can roll out,
 * i.e. the image indexes in a tenant's signed targets (GET /api/v1/releases), as opposed to
 * `upflow release list`, which lists the offline workspace.
 */
#include <getopt.h>

#include "cli/commands.h"
#include "cli/device_view.h"
#include "cli/server_cmd.h"

int cmd_release_published(int argc, char **argv)
{
    static const struct option options[] = {UF_SRV_TENANT_OPTION, UF_SRV_COMMON_OPTIONS};
    uf_srv_cmd c;
    uf_srv_cmd_init(&c, argv[0]);
    int rc = uf_srv_cmd_parse(&c, argc, argv, options,
                              "[--tenant T]\n"
                              "List the releases published on the server (the image indexes of\n"
                              "the tenant's signed targets): product, version, hardware, size,\n"
                              "SHA-256, and the PATH that 'upflow rollout create --release' takes.\n"
                              "\n" UF_SRV_TENANT_HELP,
                              NULL, NULL);
    if (rc >= 0)
        return rc;
    if (!uf_srv_cmd_operands(&c, argc, argv, "no arguments", 0, 0))
        return uf_srv_cmd_usage(&c);
    uf_buf path = UF_BUF_INIT;
    bool ok = uf_srv_cmd_path(&c, &path, "/api/v1/releases") &&
              uf_srv_cmd_call(&c, "GET", path.data, NULL);
    uf_buf_free(&path);
    return uf_srv_cmd_end(&c, ok, uf_view_releases, NULL);
}
