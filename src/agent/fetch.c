/*
 * fetch.c - downloads over libcurl (see fetch.h).
 */
#include "agent/fetch.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct uf_fetch {
    CURL *curl;
    struct curl_slist *headers;
    long connect_timeout_s, low_speed_time_s;
};

uf_fetch *uf_fetch_new(const uf_fetch_options *opt, uf_error *err)
{
    uf_fetch *f = calloc(1, sizeof *f);
    if (!f || !(f->curl = curl_easy_init())) {
        free(f);
        uf_error_set(err, UF_E_NOMEM, "cannot initialise libcurl");
        return NULL;
    }
    f->connect_timeout_s = opt && opt->connect_timeout_s ? opt->connect_timeout_s : 30;
    f->low_speed_time_s = opt && opt->low_speed_time_s ? opt->low_speed_time_s : 60;
    if (opt && opt->bearer) {
        char h[1024];
        snprintf(h, sizeof h, "Authorization: Bearer %s", opt->bearer);
        f->headers = curl_slist_append(NULL, h);
    }
    return f;
}

void uf_fetch_free(uf_fetch *f)
{
    if (!f)
        return;
    curl_slist_free_all(f->headers);
    curl_easy_cleanup(f->curl);
    free(f);
}

typedef struct sink {
    uf_buf *out;
    size_t start, max;
    bool too_large;
} sink;

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
    sink *s = userdata;
    size_t n = size * nmemb;
    if (s->out->len - s->start + n > s->max) {
        s->too_large = true; /* endless data: stop reading here */
        return 0;
    }
    return uf_buf_append(s->out, data, n, NULL) ? n : 0;
}

static bool is_file_url(const char *url)
{
    return strncmp(url, "file:", 5) == 0;
}

/* The options every transfer has: the URL, the sink, the time limits, the protocols. */
typedef size_t (*write_fn)(char *data, size_t size, size_t nmemb, void *userdata);

static void setup(uf_fetch *f, const char *url, write_fn write, void *write_ctx)
{
    CURL *curl = f->curl;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, write_ctx);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, f->connect_timeout_s);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, f->low_speed_time_s);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
}

/* Run one transfer into out; *status gets the HTTP status (200 for file://). */
static bool perform(uf_fetch *f, const char *url, const char *range, size_t max, uf_buf *out,
                    long *status, uf_error *err)
{
    CURL *curl = f->curl;
    sink s = {out, out->len, max, false};
    setup(f, url, on_data, &s);
    if (f->headers && !is_file_url(url))
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, f->headers);
    if (range)
        curl_easy_setopt(curl, CURLOPT_RANGE, range);
    CURLcode rc = curl_easy_perform(curl);
    *status = 200;
    if (!is_file_url(url))
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    /* what arrived stays in out (a range request keeps the part received before a cut) */
    if (s.too_large)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: more than %zu bytes", url, max);
    if (rc == CURLE_FILE_COULDNT_READ_FILE || *status == 403 || *status == 404 ||
        *status == 410) {
        out->len = s.start;
        return uf_error_set(err, UF_E_NOT_FOUND, "GET %s: %s", url,
                            rc == CURLE_OK ? "not found" : curl_easy_strerror(rc));
    }
    if (rc != CURLE_OK)
        return uf_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? UF_E_TIMEOUT : UF_E_IO,
                            "GET %s: %s", url, curl_easy_strerror(rc));
    return true;
}

bool uf_fetch_get(uf_fetch *f, const char *url, size_t max, uf_buf *out, uf_error *err)
{
    long status = 0;
    size_t start = out->len;
    if (!perform(f, url, NULL, max, out, &status, err)) {
        out->len = start;
        return false;
    }
    if (status != 200) {
        out->len = start;
        return uf_error_set(err, UF_E_IO, "GET %s: HTTP %ld", url, status);
    }
    return true;
}

/* Did the server answer with the range asked for? */
static bool status_is_range(long status, const char *url)
{
    return status == 206 || (status == 200 && is_file_url(url));
}

bool uf_fetch_range(uf_fetch *f, const char *url, uint64_t offset, uint64_t len, uf_buf *out,
                    uf_error *err)
{
    if (len == 0)
        return true;
    char range[64];
    snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, offset, offset + len - 1);
    long status = 0;
    size_t start = out->len;
    if (!perform(f, url, range, (size_t)len, out, &status, err)) {
        if (!status_is_range(status, url))
            out->len = start; /* not our range: nothing of it is usable */
        return uf_error_prefix(err, "bytes %s", range);
    }
    bool ok = status_is_range(status, url) && out->len - start == len;
    if (!ok) {
        size_t got = out->len - start;
        out->len = start;
        return uf_error_set(err, UF_E_IO, "GET %s bytes %s: HTTP %ld with %zu of %" PRIu64
                            " bytes", url, range, status, got, len);
    }
    return true;
}

/* Keep the ETag header of an answer. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    uf_fetch_response *resp = userdata;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(data, "etag:", 5) == 0) {
        size_t start = 5, end = n;
        while (start < end && (data[start] == ' ' || data[start] == '\t'))
            start++;
        while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' ||
                               data[end - 1] == ' '))
            end--;
        if (end - start < sizeof resp->etag)
            snprintf(resp->etag, sizeof resp->etag, "%.*s", (int)(end - start), data + start);
    }
    return n;
}

bool uf_fetch_send(uf_fetch *f, const uf_fetch_request *req, uf_fetch_response *resp,
                   uf_error *err)
{
    CURL *curl = f->curl;
    sink s = {&resp->body, resp->body.len, req->max, false};
    struct curl_slist *headers = NULL, *h;
    bool ok = true;
    for (h = f->headers; h && ok; h = h->next)
        ok = (headers = curl_slist_append(headers, h->data)) != NULL;
    for (size_t i = 0; req->headers && req->headers[i] && ok; i++)
        ok = (headers = curl_slist_append(headers, req->headers[i])) != NULL;
    if (ok && req->body) /* no "Expect: 100-continue" round trip before a body */
        ok = (headers = curl_slist_append(headers, "Content-Type: application/json")) &&
             (headers = curl_slist_append(headers, "Expect:"));
    if (!ok) {
        curl_slist_free_all(headers);
        return uf_error_set(err, UF_E_NOMEM, "%s %s: request headers", req->method, req->url);
    }
    setup(f, req->url, on_data, &s);
    resp->status = 0;
    resp->etag[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (strcmp(req->method, "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (s.too_large)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s %s: more than %zu bytes", req->method,
                            req->url, req->max);
    if (rc != CURLE_OK)
        return uf_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? UF_E_TIMEOUT : UF_E_IO,
                            "%s %s: %s", req->method, req->url, curl_easy_strerror(rc));
    return true;
}

/* A sink in place of the buffer: the bytes go on as they arrive. */
typedef struct pipe_sink {
    uf_tuf_sink sink;
    void *ctx;
    size_t seen, max;
    bool too_large, refused;
    uf_error *err;
} pipe_sink;

static size_t on_piece(char *data, size_t size, size_t nmemb, void *userdata)
{
    pipe_sink *p = userdata;
    size_t n = size * nmemb;
    if (p->seen + n > p->max) {
        p->too_large = true;
        return 0;
    }
    p->seen += n;
    if (!p->sink(p->ctx, data, n, p->err)) {
        p->refused = true;
        return 0;
    }
    return n;
}

static bool tuf_stream(void *ctx, const char *url, size_t max_bytes, uf_tuf_sink to,
                       void *sink_ctx, uf_error *err)
{
    uf_fetch *f = ctx;
    pipe_sink p = {.sink = to, .ctx = sink_ctx, .max = max_bytes, .err = err};
    setup(f, url, on_piece, &p);
    CURLcode rc = curl_easy_perform(f->curl);
    long status = 200;
    if (!is_file_url(url))
        curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
    if (p.refused)
        return false;
    if (p.too_large)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: more than %zu bytes", url, max_bytes);
    if (rc == CURLE_FILE_COULDNT_READ_FILE || status == 403 || status == 404 || status == 410)
        return uf_error_set(err, UF_E_NOT_FOUND, "GET %s: not found", url);
    if (rc != CURLE_OK)
        return uf_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? UF_E_TIMEOUT : UF_E_IO,
                            "GET %s: %s", url, curl_easy_strerror(rc));
    if (status != 200)
        return uf_error_set(err, UF_E_IO, "GET %s: HTTP %ld", url, status);
    return true;
}

static bool tuf_fetch(void *ctx, const char *url, size_t max_bytes, uf_buf *out, uf_error *err)
{
    return uf_fetch_get(ctx, url, max_bytes, out, err);
}

uf_tuf_fetcher uf_fetch_tuf(uf_fetch *f)
{
    return (uf_tuf_fetcher){.fetch = tuf_fetch, .stream = tuf_stream, .ctx = f};
}
