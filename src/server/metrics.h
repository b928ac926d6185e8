/*
 * metrics.h - counters and a latency histogram for /metrics (Prometheus text format 0.0.4).
 *
 * Lock-free: every field is an atomic the request threads bump; rendering reads them. A
 * metrics value belongs to the server context, not to a global.
 */
#ifndef UPFLOW_SERVER_METRICS_H
#define UPFLOW_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"

#define METRICS_BUCKETS 12

typedef struct metrics {
    atomic_uint_fast64_t requests_by_class[6]; /* index status/100: 1xx..5xx */
    atomic_uint_fast64_t duration_buckets[METRICS_BUCKETS + 1]; /* last is +Inf */
    atomic_uint_fast64_t duration_sum_us;
    atomic_uint_fast64_t in_flight;
    atomic_uint_fast64_t audit_events;
    atomic_uint_fast64_t logins_failed;
    int64_t started_at; /* unix seconds */
} metrics;

void metrics_init(metrics *m);
void metrics_observe_request(metrics *m, int status, int64_t duration_ns);
/* Append the exposition text to out. */
bool metrics_render(const metrics *m, uf_buf *out, uf_error *err);

#endif
