/*
 * fetch.h - downloads for the device side over libcurl: http://, https:// and file:// (a
 * repository copied to a USB stick is read the same way as one on a server).
 *
 * Every transfer has a size cap (endless data stops there), a connect timeout and a
 * slow-transfer limit; a range request must be answered with exactly the bytes asked for,
 * so a server that ignores Range or a connection cut short is an error, never a short or
 * shifted chunk.
 */
#ifndef UPFLOW_AGENT_FETCH_H
#define UPFLOW_AGENT_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/tuf_client.h"

typedef struct uf_fetch_options {
    long connect_timeout_s; /* 0: 30 */
    long low_speed_time_s;  /* give up below 1 byte/s for this long; 0: 60 */
    const char *bearer;     /* Authorization: Bearer ... on every request, or NULL */
} uf_fetch_options;

typedef struct uf_fetch uf_fetch;

/* Call curl_global_init once in main() before this. */
uf_fetch *uf_fetch_new(const uf_fetch_options *opt, uf_error *err);
void uf_fetch_free(uf_fetch *f);

/* The whole resource into out (appended), at most max bytes: more is UF_E_TOO_LARGE; HTTP
 * 403/404 (or a missing file) is UF_E_NOT_FOUND; other failures UF_E_IO or UF_E_TIMEOUT. */
bool uf_fetch_get(uf_fetch *f, const char *url, size_t max, uf_buf *out, uf_error *err);

/* Exactly bytes [offset, offset + len) of the resource, appended to out. When the transfer
 * breaks off, out keeps the bytes of the range that did arrive (a prefix of it), so the
 * caller can use them and ask for the rest. */
bool uf_fetch_range(uf_fetch *f, const char *url, uint64_t offset, uint64_t len, uf_buf *out,
                    uf_error *err);

/* One request to an HTTP API (server_link.h): any method, extra header lines, a JSON body. */
typedef struct uf_fetch_request {
    const char *method;          /* "GET", "POST", "PUT" */
    const char *url;
    const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;            /* sent as application/json; NULL: none */
    size_t max;                  /* cap of the response body */
} uf_fetch_request;

typedef struct uf_fetch_response {
    long status;     /* the HTTP status */
    char etag[128];  /* the ETag header; "" when none (or too long to keep) */
    uf_buf body;     /* initialised and freed by the caller; the answer is appended */
} uf_fetch_response;

/* Send req and read the answer, whatever its status (the caller judges resp->status). Fails
 * only when no answer came: UF_E_IO, UF_E_TIMEOUT (each request has a 60 s limit), or
 * UF_E_TOO_LARGE for a body over req->max. */
bool uf_fetch_send(uf_fetch *f, const uf_fetch_request *req, uf_fetch_response *resp,
                   uf_error *err);

/* The TUF client's fetcher over f. */
uf_tuf_fetcher uf_fetch_tuf(uf_fetch *f);

#endif
