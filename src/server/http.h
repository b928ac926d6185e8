/*
 * http.h - the HTTP front of upflowd over libmicrohttpd.
 *
 * libmicrohttpd parses HTTP and runs a thread pool; this layer turns each exchange into an
 * http_request (method, path, headers, a body buffered up to a limit) and an http_response
 * the application fills, and does what every request needs: one log line, metrics, JSON
 * error bodies with stable codes, security headers. It knows nothing of routes or users;
 * the application's dispatch callback does.
 */
#ifndef UPFLOW_SERVER_HTTP_H
#define UPFLOW_SERVER_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/log.h"

struct MHD_Connection;
struct metrics;

#define HTTP_MAX_PATH_PARAMS 4
#define HTTP_MAX_RESPONSE_HEADERS 8

typedef struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path; /* without the query string */
    uf_buf body;
    bool body_too_large;
    const char *params[HTTP_MAX_PATH_PARAMS]; /* {name} segments, set by the router */
    size_t n_params;
    char param_buf[512]; /* storage for params */
    const char *route;  /* the matched pattern, for logs and metrics */
    char actor[64];     /* who made the request, for the log line ("-" if anonymous) */
    /* A streamed upload (see http_options.is_upload): the body went to a temporary file,
     * hashed on the way. The handler renames upload_path into place or leaves it, and the
     * file is removed when the request ends. */
    bool is_upload;
    char upload_path[512];
    int upload_fd;
    uint64_t upload_size;
    uint64_t upload_limit; /* bytes; more is answered 413 before the handler runs */
    char upload_sha256[65];
    char upload_sha1[41]; /* hawkBit names artifacts by SHA-1 and MD5 too */
    char upload_md5[33];
    int upload_errno;   /* a write error (ENOSPC...) while receiving */
    struct uf_hash *upload_hash[3]; /* sha256, sha1, md5 */
    int64_t started_ns; /* CLOCK_MONOTONIC */
} http_request;

typedef struct http_response {
    int status;
    char *body; /* malloc'ed; NULL for an empty body */
    size_t len;
    const char *content_type;
    struct {
        const char *name;
        char *value; /* malloc'ed */
    } headers[HTTP_MAX_RESPONSE_HEADERS];
    size_t n_headers;
    int fd;             /* >= 0: send this file instead of body (closed afterwards) */
    uint64_t fd_offset; /* send fd_size bytes from this offset (206 range answers) */
    uint64_t fd_size;
} http_response;

typedef void (*http_dispatch_fn)(void *app, http_request *req, http_response *resp);

typedef struct http_options {
    const char *listen;     /* "127.0.0.1:8080", "[::1]:8080", ":8080"; port 0 = any free */
    unsigned threads;       /* worker threads */
    size_t max_body;        /* bytes; a larger body is answered 413 */
    unsigned timeout_s;     /* idle connection timeout */
    unsigned max_connections; /* open connections at most (0: 16384); needs as many fds */
    /* Requests for which upload_limit() is not 0 stream their body to a file in upload_dir
     * (at most that many bytes) instead of memory. */
    uint64_t (*upload_limit)(void *app, const char *method, const char *path);
    const char *upload_dir;
} http_options;

typedef struct http_server http_server;

http_server *http_start(const http_options *opt, http_dispatch_fn dispatch, void *app,
                        const uf_log *log, struct metrics *metrics, uf_error *err);
/* The port actually bound (useful with port 0). */
uint16_t http_port(const http_server *s);
/* Stops accepting, finishes requests in flight, frees everything. */
void http_stop(http_server *s);

/* Request accessors. */
const char *http_header(const http_request *req, const char *name);
const char *http_query(const http_request *req, const char *name);
/* Parse the body as JSON (default limits bounded by the body size); on failure the response
 * is already filled with the JSON error and NULL is returned. */
json_t *http_body_json(http_request *req, http_response *resp);

/* Response builders. Each replaces any body set before. */
void http_set_json(http_response *resp, int status, json_t *body); /* steals body */
void http_set_text(http_response *resp, int status, const char *content_type,
                   const char *text, size_t len);
/* {"error": {"code": "<stable code>", "message": "..."}} with the code's HTTP status. */
void http_set_error(http_response *resp, const uf_error *err);
void http_set_errorf(http_response *resp, uf_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As http_set_error with a list of details (e.g. every unmet guard); steals details. */
void http_set_error_details(http_response *resp, const uf_error *err, json_t *details);
void http_add_header(http_response *resp, const char *name, const char *value);
/* Send an open file (taken over: closed after sending). */
void http_set_file(http_response *resp, int status, const char *content_type, int fd,
                   uint64_t size);
/* Send an open file of `size` bytes honouring a single "Range: bytes=..." of the request:
 * 206 with Content-Range for a satisfiable range, 416 for an unsatisfiable one, the whole
 * file (200) without a Range or with several ranges. Always says Accept-Ranges: bytes. */
void http_set_file_ranged(const http_request *req, http_response *resp,
                          const char *content_type, int fd, uint64_t size);

#endif
