/*
 * server_link.h - the device's side of upflowd's native device API (issue #6): registration
 * with a tenant gateway token, polls that cost a 304 when nothing changed, the director's
 * signed targets, status reports and the inventory.
 *
 * The director (tuf.md §12) is the server's online key signing, per device, the one image it
 * must install. The device checks that file against the key it received at registration,
 * and update.c checks the pin it yields against the image repository's own signed targets,
 * so a compromised server alone cannot make a device install an image the release owners
 * did not sign.
 *
 * Every request carries "Authorization: Bearer udt_..." (the token registration stored in
 * DATA_DIR/device-token, mode 0600, or server.credentials). Nothing here is process-wide: a
 * link is one device's connection, so simulated devices on threads each have their own.
 */
#ifndef UPFLOW_AGENT_SERVER_LINK_H
#define UPFLOW_AGENT_SERVER_LINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/fetch.h"
#include "lib/error.h"
#include "lib/log.h"

typedef enum {
    SERVER_ACTION_FORCED,
    SERVER_ACTION_SOFT,          /* the device may defer it */
    SERVER_ACTION_DOWNLOAD_ONLY, /* write and verify the slot, do not switch */
} server_action_type;

/* What a poll assigns: one release to install, or a cancel of it. */
typedef struct server_action {
    int64_t id, rollout;
    char release[256]; /* the TUF target of the image index */
    char version[64];
    server_action_type type;
    bool window_open; /* inside a maintenance window: the device may start now */
    bool cancel;      /* devices that have not started drop it */
} server_action;

typedef struct server_poll {
    int64_t interval_s; /* when to poll again */
    bool has_action;
    server_action action;
} server_poll;

typedef struct server_link {
    const agent_config *cfg;
    const uf_log *log;
    uf_fetch *fetch;
    char auth[AGENT_STR_MAX + 32]; /* "Authorization: Bearer udt_..." */
    char etag[128];                /* of the last poll answered 200 */
    server_poll last;              /* what that poll said: a 304 means it still holds */
} server_link;

/* DATA_DIR/device-token, or server.credentials when set. */
void server_link_token_path(const agent_config *cfg, char *out, size_t len);

/* POST /api/v1/device/register with the tenant's gateway token and the inventory; stores
 * the device token (mode 0600) and the director key in the data directory. A device the
 * server already knows is UF_E_CONFLICT; a refused gateway token UF_E_UNAUTHORIZED. */
bool server_link_register(const agent_config *cfg, const char *gateway_token,
                          const json_t *inventory, uf_error *err);

/* Open a link with the stored device token (not registered yet: UF_E_NOT_FOUND). */
bool server_link_open(server_link *l, const agent_config *cfg, const uf_log *log,
                      uf_error *err);
void server_link_close(server_link *l);

/* GET /api/v1/device/poll with If-None-Match; a 304 answers with the last poll's content. */
bool server_link_poll(server_link *l, server_poll *out, uf_error *err);

/* GET the director's targets for this device, verify it with the director key (signature,
 * expiry), and find act's release in it, naming this device and this action: *pin is what
 * the director says the index is. A file that does not verify or does not name the action
 * is UF_E_FORBIDDEN, UF_E_BAD_SIGNATURE, UF_E_THRESHOLD or UF_E_EXPIRED; no answer at all
 * is UF_E_IO or UF_E_TIMEOUT (try again later). */
bool server_link_director(server_link *l, const server_action *act, agent_pin *pin,
                          uf_error *err);

/* POST /api/v1/device/actions/ID/status. *accepted is false when the server refused it for
 * good (404: not this device's action, 409: already closed); false is returned only when it
 * could not be delivered now (no answer, 5xx, 401) and must be sent again later. */
bool server_link_status(server_link *l, int64_t action, const json_t *status, bool *accepted,
                        uf_error *err);

/* PUT /api/v1/device/inventory. */
bool server_link_inventory(server_link *l, const json_t *inventory, uf_error *err);

#endif
