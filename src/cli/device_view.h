/*
 * device_view.h - devices and published releases as a release manager reads them in a
 * terminal: a table for a list, a page for one device (inventory, labels, groups, last seen,
 * and the history of its actions with the agent's reasons). Times are local.
 */
#ifndef UPFLOW_CLI_DEVICE_VIEW_H
#define UPFLOW_CLI_DEVICE_VIEW_H

#include <jansson.h>
#include <stdbool.h>

/* Whether key is a member the registry sets itself in a device's filter attributes (name,
 * hardware, version, tags, ...), which a custom attribute of that name would hide. */
bool uf_device_builtin_key(const char *key);

/* {items: [device]} from GET /api/v1/devices: name, hardware, version, state, last seen,
 * tags and the custom attributes. */
void uf_view_devices(const json_t *body, const void *unused);
/* One device from GET /api/v1/devices/NAME (history newest first). */
void uf_view_device(const json_t *dev, const void *unused);
/* {items: [release]} from GET /api/v1/releases. */
void uf_view_releases(const json_t *body, const void *unused);

#endif
