/*
 * router.h - matching "METHOD /path" against a table of routes with {param} segments.
 * A last segment {param*} takes the rest of the path, slashes included.
 *
 * A route says who may call it (anyone, a signed-in user, an administrator); finer checks
 * (roles on a record, customer scope) belong to the handler. A path that exists with another
 * method answers 405 with Allow; no match answers 404. Both as JSON errors.
 */
#ifndef UPFLOW_SERVER_ROUTER_H
#define UPFLOW_SERVER_ROUTER_H

#include "server/http.h"

/* Who may call: anyone; a signed-in user; an administrator; a device with its own token
 * ("udt_..."); a tenant's gateway token ("ugw_...", registration only); a hawkBit DDI device
 * ("TargetToken udt_..." or "GatewayToken ugw_...", see api_ddi.c). */
typedef enum { ROUTE_PUBLIC, ROUTE_USER, ROUTE_ADMIN, ROUTE_DEVICE, ROUTE_GATEWAY,
               ROUTE_DDI } route_access;

struct api_call; /* what a handler works with: see api.h */

typedef struct route {
    const char *method;
    const char *pattern; /* "/api/v1/records/{id}/transitions" */
    route_access access;
    void (*handler)(struct api_call *call);
    const char *summary; /* for docs and the OpenAPI check */
} route;

/* Find the route for req; fills req->params and req->route. NULL when nothing matches, in
 * which case resp holds the 404 or 405 error. */
const route *router_match(const route *table, size_t n, http_request *req,
                          http_response *resp);

#endif
