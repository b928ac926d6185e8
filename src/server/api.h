/*
 * api.h - the REST API under /api/v1 (and /healthz, /metrics): the route table, and the
 * context every handler receives. Handlers live one file per resource: api_system.c,
 * api_auth.c (login, tokens, users), and more as resources arrive.
 */
#ifndef UPFLOW_SERVER_API_H
#define UPFLOW_SERVER_API_H

#include "server/auth.h"
#include "server/device.h"
#include "server/router.h"
#include "server/server.h"

typedef struct api_call {
    upflowd *srv;
    db *db;                 /* a pooled connection, held for the call */
    const auth_identity *who; /* NULL on public routes without a token, and device routes */
    const device_identity *device; /* ROUTE_DEVICE: the calling device */
    const char *gateway_tenant;    /* ROUTE_GATEWAY: the tenant whose gateway token it is */
    http_request *req;
    http_response *resp;
} api_call;

/* http_dispatch_fn for upflowd: route, authenticate, authorise the route's access level,
 * run the handler. */
void api_dispatch(void *app, http_request *req, http_response *resp);

/* Copy every route into out (at most cap); returns how many there are. */
size_t api_collect_routes(route *out, size_t cap);

/* Per-resource route tables, concatenated by api.c. */
extern const route api_system_routes[];
extern const size_t api_system_routes_n;
extern const route api_auth_routes[];
extern const size_t api_auth_routes_n;
extern const route api_records_routes[];
extern const size_t api_records_routes_n;
extern const route api_templates_routes[];
extern const size_t api_templates_routes_n;
extern const route api_attachments_routes[];
extern const size_t api_attachments_routes_n;
extern const route api_notifications_routes[];
extern const size_t api_notifications_routes_n;
extern const route api_tuf_routes[];
extern const size_t api_tuf_routes_n;
extern const route api_devices_routes[];
extern const size_t api_devices_routes_n;
extern const route api_device_routes[];
extern const size_t api_device_routes_n;
extern const route api_rollouts_routes[];
extern const size_t api_rollouts_routes_n;
extern const route api_ddi_routes[];
extern const size_t api_ddi_routes_n;

/* ROUTE_DDI: hawkBit's TargetToken / GatewayToken for the {tenant} and {controllerId} of the
 * path (a gateway's unknown device is registered on its first poll). Fills dev and
 * c->device; on failure the 401 (or 404) is set and false returned. */
bool api_ddi_authenticate(api_call *c, device_identity *dev);

/* http_options.upload_limit for upflowd: which requests stream their body to disk, and how
 * many bytes they may send (attachments: server.max_upload; release files:
 * tuf.max_target_size); 0 for every other request. */
uint64_t api_upload_limit(void *app, const char *method, const char *path);
bool api_attachments_is_upload(const char *method, const char *path);
bool api_tuf_is_upload(const char *method, const char *path);

/* Helpers for handlers. */
/* Parse path parameter i as a positive id; on failure the 404 is already set. */
bool api_param_id(api_call *c, size_t i, int64_t *out);
/* Answer with err as a JSON error. */
void api_fail(api_call *c, const uf_error *err);
/* Answer status with body (stolen), or err when body is NULL. */
void api_respond(api_call *c, int status, json_t *body, const uf_error *err);
/* Release managers (role release_manager, or release_mgr as the software-modification
 * template calls it) and administrators run releases, devices and rollouts; anyone else is
 * answered 403. */
bool api_release_manager(api_call *c);
/* ?tenant= (default "default"), checked; on failure the 404 is set and NULL returned. */
const char *api_tenant_query(api_call *c);
/* Start the call's write transaction; on failure the error response is set. */
bool api_begin(api_call *c);
/* Answer {"items": [...]} with what row() appends for each row of the query (row may skip a
 * row; returning false is an error, answered as such). */
typedef bool (*api_row_fn)(api_call *c, db_stmt *st, json_t *items, uf_error *err);
void api_respond_rows(api_call *c, const char *sql, const db_value *args, size_t n,
                      api_row_fn row);

#endif
