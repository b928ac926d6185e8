/*
 * metrics.c - request counters and latency histogram in Prometheus text format.
 */
#include "server/metrics.h"

#include <inttypes.h>
#include <time.h>

#include "version.h"

/* Upper bounds of the latency buckets, in seconds. */
static const double bucket_le[METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1,    5};

void metrics_init(metrics *m)
{
    for (int i = 0; i < 6; i++)
        atomic_init(&m->requests_by_class[i], 0);
    for (int i = 0; i <= METRICS_BUCKETS; i++)
        atomic_init(&m->duration_buckets[i], 0);
    atomic_init(&m->duration_sum_us, 0);
    atomic_init(&m->in_flight, 0);
    atomic_init(&m->audit_events, 0);
    atomic_init(&m->logins_failed, 0);
    m->started_at = (int64_t)time(NULL);
}

void metrics_observe_request(metrics *m, int status, int64_t duration_ns)
{
    int cls = status / 100;
    if (cls < 1 || cls > 5)
        cls = 5;
    atomic_fetch_add(&m->requests_by_class[cls], 1);
    double s = (double)duration_ns / 1e9;
    int b = 0;
    while (b < METRICS_BUCKETS && s > bucket_le[b])
        b++;
    atomic_fetch_add(&m->duration_buckets[b], 1);
    atomic_fetch_add(&m->duration_sum_us, (uint_fast64_t)(duration_ns / 1000));
}

bool metrics_render(const metrics *m, uf_buf *out, uf_error *err)
{
    bool ok = uf_buf_printf(out, err,
                            "# HELP upflow_build_info Build information.\n"
                            "# TYPE upflow_build_info gauge\n"
                            "upflow_build_info{version=\"%s\"} 1\n"
                            "# HELP upflow_start_time_seconds Start time of the server.\n"
                            "# TYPE upflow_start_time_seconds gauge\n"
                            "upflow_start_time_seconds %" PRId64 "\n"
                            "# HELP upflow_http_requests_total HTTP requests by status class.\n"
                            "# TYPE upflow_http_requests_total counter\n",
                            UPFLOW_VERSION, m->started_at);
    for (int c = 1; ok && c <= 5; c++)
        ok = uf_buf_printf(out, err, "upflow_http_requests_total{code=\"%dxx\"} %" PRIuFAST64 "\n",
                           c, atomic_load(&m->requests_by_class[c]));
    ok = ok && uf_buf_printf(out, err,
                             "# HELP upflow_http_request_duration_seconds Time to answer.\n"
                             "# TYPE upflow_http_request_duration_seconds histogram\n");
    uint_fast64_t cumulative = 0;
    for (int b = 0; ok && b <= METRICS_BUCKETS; b++) {
        cumulative += atomic_load(&m->duration_buckets[b]);
        if (b < METRICS_BUCKETS)
            ok = uf_buf_printf(out, err,
                               "upflow_http_request_duration_seconds_bucket{le=\"%g\"} %" PRIuFAST64 "\n",
                               bucket_le[b], cumulative);
        else
            ok = uf_buf_printf(out, err,
                               "upflow_http_request_duration_seconds_bucket{le=\"+Inf\"} %" PRIuFAST64 "\n"
                               "upflow_http_request_duration_seconds_sum %.6f\n"
                               "upflow_http_request_duration_seconds_count %" PRIuFAST64 "\n",
                               cumulative, (double)atomic_load(&m->duration_sum_us) / 1e6,
                               cumulative);
    }
    return ok && uf_buf_printf(out, err,
                               "# HELP upflow_http_requests_in_flight Requests being answered.\n"
                               "# TYPE upflow_http_requests_in_flight gauge\n"
                               "upflow_http_requests_in_flight %" PRIuFAST64 "\n"
                               "# HELP upflow_audit_events_total Audit records appended.\n"
                               "# TYPE upflow_audit_events_total counter\n"
                               "upflow_audit_events_total %" PRIuFAST64 "\n"
                               "# HELP upflow_logins_failed_total Failed password logins.\n"
                               "# TYPE upflow_logins_failed_total counter\n"
                               "upflow_logins_failed_total %" PRIuFAST64 "\n",
                               atomic_load(&m->in_flight), atomic_load(&m->audit_events),
                               atomic_load(&m->logins_failed));
}
