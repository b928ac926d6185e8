/*
 * webhook.h - delivering one webhook event: an HTTP POST of the event's canonical JSON,
 * signed the way GitHub signs its webhooks, so the receiver can check that it came from this
 * server and was not changed on the way:
 *
 *     X-Upflow-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with notify.webhook_secret>
 *     X-Upflow-Event: transition | approval_requested | sla_warning | sla_breach | comment
 *     X-Upflow-Delivery: <outbox id>     (the same on every retry of one event)
 *
 * Only a 2xx answer counts as delivered. Short timeouts: a slow receiver delays the worker
 * thread, never a request.
 */
#ifndef UPFLOW_SERVER_WEBHOOK_H
#define UPFLOW_SERVER_WEBHOOK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

/* "sha256=" and 64 hex digits. */
#define WEBHOOK_SIGNATURE_MAX 72

typedef struct webhook_target {
    const char *url;
    const char *secret;          /* "" sends the event unsigned */
    long timeout_s;              /* the whole exchange */
    const atomic_bool *cancel;   /* may be NULL; true aborts a transfer in progress */
} webhook_target;

/* Process-wide libcurl set-up: call once before any thread posts, and its pair at the end. */
bool webhook_global_init(uf_error *err);
void webhook_global_cleanup(void);

/* The X-Upflow-Signature value for body under secret. */
bool webhook_sign(const char *secret, const char *body, size_t len,
                  char out[WEBHOOK_SIGNATURE_MAX], uf_error *err);

/* POST body to the target. Fails (UF_E_IO) naming the HTTP status or the transport error. */
bool webhook_post(const webhook_target *t, const char *event, int64_t delivery_id,
                  const char *body, uf_error *err);

#endif
