/*
 * http.c - libmicrohttpd glue: buffering bodies under a limit, calling the application's
 * dispatch, queuing the response, and one log line plus metrics per request (see http.h).
 *
 * libmicrohttpd calls the access handler several times per request: first with only the
 * headers (we allocate the request), then once per chunk of body, then a last time with no
 * data, when we dispatch and queue the response. Queuing on that later call, not the first,
 * keeps connections alive (see shared/reference/measurements.md).
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/hash.h"
#include "lib/json.h"
#include "server/metrics.h"

struct http_server {
    struct MHD_Daemon *daemon;
    http_dispatch_fn dispatch;
    void *app;
    const uf_log *log;
    metrics *metrics;
    size_t max_body;
    uint16_t port;
    uint64_t (*upload_limit)(void *app, const char *method, const char *path);
    char upload_dir[512];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *http_header(const http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void clear_body(http_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

void http_set_text(http_response *resp, int status, const char *content_type,
                   const char *text, size_t len)
{
    clear_body(resp);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = malloc(len ? len : 1);
    if (!resp->body) {
        resp->status = 503;
        return;
    }
    if (len) /* text may be NULL for an empty body (a 304) */
        memcpy(resp->body, text, len);
    resp->len = len;
}

void http_set_json(http_response *resp, int status, json_t *body)
{
    clear_body(resp);
    resp->status = status;
    resp->content_type = "application/json";
    if (!body) {
        resp->status = 503;
        return;
    }
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(body);
    if (!text) {
        resp->status = 503;
        return;
    }
    resp->body = text;
    resp->len = strlen(text);
}

void http_set_error_details(http_response *resp, const uf_error *err, json_t *details)
{
    json_t *e = json_pack("{s:s, s:s}", "code", uf_code_name(err->code), "message",
                          err->msg[0] ? err->msg : uf_code_text(err->code));
    if (e && details)
        json_object_set_new(e, "details", details);
    else
        json_decref(details);
    http_set_json(resp, uf_code_http_status(err->code), json_pack("{s:o}", "error", e));
}

void http_set_error(http_response *resp, const uf_error *err)
{
    http_set_error_details(resp, err, NULL);
}

void http_set_errorf(http_response *resp, uf_code code, const char *fmt, ...)
{
    uf_error err;
    err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof err.msg, fmt, ap);
    va_end(ap);
    http_set_error(resp, &err);
}

void http_add_header(http_response *resp, const char *name, const char *value)
{
    if (resp->n_headers == HTTP_MAX_RESPONSE_HEADERS)
        return;
    char *copy = strdup(value);
    if (!copy)
        return;
    resp->headers[resp->n_headers].name = name;
    resp->headers[resp->n_headers].value = copy;
    resp->n_headers++;
}

json_t *http_body_json(http_request *req, http_response *resp)
{
    uf_json_limits lim = uf_json_default_limits();
    if (req->body.len > lim.max_bytes)
        lim.max_bytes = req->body.len;
    uf_error err;
    json_t *v = uf_json_parse(req->body.data, req->body.len, &lim, &err);
    if (!v) {
        uf_error_prefix(&err, "request body");
        http_set_error(resp, &err);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        http_set_errorf(resp, UF_E_BAD_FIELD, "request body: expected a JSON object");
        return NULL;
    }
    return v;
}

void http_set_file(http_response *resp, int status, const char *content_type, int fd,
                   uint64_t size)
{
    clear_body(resp);
    if (resp->fd >= 0)
        close(resp->fd);
    resp->status = status;
    resp->content_type = content_type;
    resp->fd = fd;
    resp->fd_offset = 0;
    resp->fd_size = size;
}

/* Parse "bytes=A-B", "bytes=A-" or "bytes=-N" against size. 1 = a range, 0 = ignore the
 * header (absent, several ranges, or not bytes), -1 = unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    char *end;
    errno = 0;
    if (*p == '-') { /* the last N bytes */
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (end == p + 1 || *end || errno)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return 1;
    }
    if (*p < '0' || *p > '9')
        return 0;
    unsigned long long a = strtoull(p, &end, 10), b;
    if (*end != '-' || errno)
        return 0;
    p = end + 1;
    if (*p) {
        if (*p < '0' || *p > '9')
            return 0;
        b = strtoull(p, &end, 10);
        if (*end || errno || b < a)
            return 0;
    } else {
        b = size ? size - 1 : 0;
    }
    if (a >= size)
        return -1;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

void http_set_file_ranged(const http_request *req, http_response *resp,
                          const char *content_type, int fd, uint64_t size)
{
    uint64_t first = 0, last = 0;
    int r = parse_range(http_header(req, "Range"), size, &first, &last);
    char value[96];
    if (r < 0) {
        close(fd);
        http_set_errorf(resp, UF_E_RANGE, "range not satisfiable: the file has %llu bytes",
                        (unsigned long long)size);
        snprintf(value, sizeof value, "bytes */%llu", (unsigned long long)size);
        http_add_header(resp, "Content-Range", value);
    } else if (r == 0) {
        http_set_file(resp, 200, content_type, fd, size);
    } else {
        http_set_file(resp, 206, content_type, fd, last - first + 1);
        resp->fd_offset = first;
        snprintf(value, sizeof value, "bytes %llu-%llu/%llu", (unsigned long long)first,
                 (unsigned long long)last, (unsigned long long)size);
        http_add_header(resp, "Content-Range", value);
    }
    http_add_header(resp, "Accept-Ranges", "bytes");
}

static void free_response(http_response *resp)
{
    clear_body(resp);
    if (resp->fd >= 0)
        close(resp->fd);
    resp->fd = -1;
    for (size_t i = 0; i < resp->n_headers; i++)
        free(resp->headers[i].value);
    resp->n_headers = 0;
}

static enum MHD_Result queue(struct MHD_Connection *conn, http_response *resp)
{
    struct MHD_Response *r;
    if (resp->fd >= 0) {
        r = MHD_create_response_from_fd_at_offset64(resp->fd_size, resp->fd,
                                                     resp->fd_offset);
        if (r)
            resp->fd = -1; /* now owned by libmicrohttpd */
    } else if (resp->body) {
        r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (r)
            resp->body = NULL; /* now owned by libmicrohttpd */
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    bool has_cache_control = false;
    for (size_t i = 0; i < resp->n_headers; i++) {
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
        has_cache_control |= strcasecmp(resp->headers[i].name, "Cache-Control") == 0;
    }
    if (!has_cache_control)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

static void log_request(http_server *s, const http_request *req, const http_response *resp,
                        size_t body_len, int64_t ns)
{
    uf_log_level level = resp->status >= 500 ? UF_LOG_ERROR : UF_LOG_INFO;
    if (!uf_log_enabled(s->log, level))
        return;
    uf_log_write(s->log, level, "http", "%s %s %d %.1fms %zuB actor=%s", req->method,
                 req->path, resp->status, (double)ns / 1e6, body_len,
                 req->actor[0] ? req->actor : "-");
}

/* ---- streamed uploads ------------------------------------------------------------ */

static const uf_hash_alg upload_algs[3] = {UF_HASH_SHA256, UF_HASH_SHA1, UF_HASH_MD5};

static void upload_begin(http_server *s, http_request *req, uint64_t limit)
{
    req->is_upload = true;
    req->upload_limit = limit;
    snprintf(req->upload_path, sizeof req->upload_path, "%s/upload-XXXXXX", s->upload_dir);
    req->upload_fd = mkostemp(req->upload_path, O_CLOEXEC);
    if (req->upload_fd < 0) {
        req->upload_errno = errno;
        req->upload_path[0] = '\0';
        return;
    }
    for (size_t i = 0; i < 3; i++) {
        req->upload_hash[i] = uf_hash_new(upload_algs[i], NULL);
        if (!req->upload_hash[i])
            req->upload_errno = ENOMEM;
    }
}

static void upload_chunk(http_request *req, const char *data, size_t len)
{
    if (req->upload_errno || req->body_too_large)
        return;
    if (req->upload_size + len > req->upload_limit) {
        req->body_too_large = true;
        return;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(req->upload_fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            req->upload_errno = w < 0 ? errno : EIO;
            return;
        }
        off += (size_t)w;
    }
    req->upload_size += len;
    for (size_t i = 0; i < 3; i++)
        if (!uf_hash_update(req->upload_hash[i], data, len, NULL))
            req->upload_errno = EIO;
}

/* All bytes are in: make them durable and finish the hash. */
static void upload_end(http_request *req)
{
    if (req->upload_errno || req->body_too_large)
        return;
    if (fsync(req->upload_fd) != 0) {
        req->upload_errno = errno;
        return;
    }
    char *out[3] = {req->upload_sha256, req->upload_sha1, req->upload_md5};
    const size_t out_len[3] = {sizeof req->upload_sha256, sizeof req->upload_sha1,
                               sizeof req->upload_md5};
    for (size_t i = 0; i < 3; i++) {
        char hex[UF_HASH_MAX_HEX];
        if (!uf_hash_final_hex(req->upload_hash[i], hex, NULL)) {
            req->upload_errno = EIO;
            return;
        }
        memcpy(out[i], hex, out_len[i]);
    }
}

static void upload_discard(http_request *req)
{
    if (req->upload_fd >= 0)
        close(req->upload_fd);
    req->upload_fd = -1;
    if (req->upload_path[0])
        unlink(req->upload_path);
    req->upload_path[0] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    http_server *s = cls;
    http_request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->conn = conn;
        req->method = method;
        req->path = url;
        req->started_ns = now_ns();
        req->upload_fd = -1;
        *con_cls = req;
        atomic_fetch_add(&s->metrics->in_flight, 1);
        uint64_t limit = s->upload_limit ? s->upload_limit(s->app, method, url) : 0;
        if (limit)
            upload_begin(s, req, limit);
        return MHD_YES;
    }
    if (*upload_data_size && req->is_upload) {
        upload_chunk(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->body_too_large && req->body.len + *upload_data_size <= s->max_body)
            req->body_too_large = !uf_buf_append(&req->body, upload_data, *upload_data_size, NULL);
        else
            req->body_too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    http_response resp = {.status = 500, .fd = -1};
    if (req->is_upload)
        upload_end(req);
    if (req->is_upload && req->upload_errno)
        http_set_error(&resp, &(uf_error){.code = req->upload_errno == ENOSPC ? UF_E_NO_SPACE : UF_E_IO,
                                          .msg = "storing the upload failed"});
    else if (req->body_too_large && req->is_upload)
        http_set_errorf(&resp, UF_E_TOO_LARGE, "upload exceeds %llu bytes",
                        (unsigned long long)req->upload_limit);
    else if (req->body_too_large)
        http_set_errorf(&resp, UF_E_TOO_LARGE, "request body exceeds %zu bytes", s->max_body);
    else
        s->dispatch(s->app, req, &resp);
    if (req->is_upload)
        upload_discard(req); /* whatever the handler did not keep, before the client hears back */
    size_t body_len = resp.len;
    enum MHD_Result rc = queue(conn, &resp);
    int64_t ns = now_ns() - req->started_ns;
    log_request(s, req, &resp, body_len, ns);
    metrics_observe_request(s->metrics, resp.status, ns);
    free_response(&resp);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    http_server *s = cls;
    http_request *req = *con_cls;
    if (!req)
        return;
    upload_discard(req); /* a connection that broke off mid-upload */
    for (size_t i = 0; i < 3; i++)
        uf_hash_free(req->upload_hash[i]);
    uf_buf_free(&req->body);
    free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&s->metrics->in_flight, 1);
}

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_server *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    uf_log_warn(s->log, "http", "libmicrohttpd: %s", msg);
}

/* "host:port", "[v6]:port" or ":port" -> a socket address. */
static bool resolve_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                           uf_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1])
        return uf_error_set(err, UF_E_INVALID, "listen address '%s': expected HOST:PORT", listen);
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= sizeof host)
        return uf_error_set(err, UF_E_INVALID, "listen address '%s': host too long", listen);
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return uf_error_set(err, UF_E_INVALID, "listen address '%s': bad port", listen);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0)
        return uf_error_set(err, UF_E_INVALID, "listen address '%s': %s", listen,
                            gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

http_server *http_start(const http_options *opt, http_dispatch_fn dispatch, void *app,
                        const uf_log *log, metrics *m, uf_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (!resolve_listen(opt->listen, &ss, &sslen, err))
        return NULL;
    http_server *s = calloc(1, sizeof *s);
    if (!s) {
        uf_error_set(err, UF_E_NOMEM, "allocate the HTTP server");
        return NULL;
    }
    s->dispatch = dispatch;
    s->app = app;
    s->log = log;
    s->metrics = m;
    s->max_body = opt->max_body;
    s->upload_limit = opt->upload_limit;
    snprintf(s->upload_dir, sizeof s->upload_dir, "%s", opt->upload_dir ? opt->upload_dir : "/tmp");
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(opt->threads ? opt->threads : 2),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(opt->timeout_s ? opt->timeout_s : 60),
        /* libmicrohttpd's default is FD_SETSIZE - 4 (1020): a fleet keeps far more open */
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(opt->max_connections ? opt->max_connections : 16384),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (!s->daemon) {
        int e = errno;
        free(s);
        uf_error_errno(err, e ? e : EADDRINUSE, "listen on %s", opt->listen);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return s;
}

uint16_t http_port(const http_server *s) { return s->port; }

void http_stop(http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
