/*
 * client.c - the CLI's HTTP client for the upflow API over libcurl (see client.h): the
 * credentials file, choosing the server and the token, requests and their errors.
 *
 * Everything the server sends is untrusted: bodies are read into a capped buffer and parsed
 * with uf_json_parse, and server text is cleaned of control characters before it reaches a
 * terminal. Redirects are never followed, so a token is only ever sent to the server named.
 */
#include "cli/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cmdline.h"
#include "lib/json.h"
#include "version.h"

enum {
    CONNECT_TIMEOUT_S = 10,
    CALL_TIMEOUT_S = 120,    /* a whole API call; uploads have no total limit */
    STALL_TIMEOUT_S = 60,    /* abort a transfer that moves nothing for this long */
    MAX_ANSWER = 64 << 20,   /* a page of 500 records is far below this */
};

/* ---- the credentials file ------------------------------------------------------------ */

static bool config_base(char *out, size_t len, uf_error *err)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && xdg[0] == '/') { /* the spec says relative values are to be ignored */
        snprintf(out, len, "%s", xdg);
        return true;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return uf_error_set(err, UF_E_NOT_FOUND,
                            "no home directory: set HOME or XDG_CONFIG_HOME");
    snprintf(out, len, "%s/.config", home);
    return true;
}

bool uf_credentials_path(char *out, size_t len, uf_error *err)
{
    char base[PATH_MAX];
    if (!config_base(base, sizeof base, err))
        return false;
    if ((size_t)snprintf(out, len, "%s/upflow/credentials.json", base) >= len)
        return uf_error_set(err, UF_E_INVALID, "configuration path too long: %s", base);
    return true;
}

static bool copy_field(char *out, size_t len, const char *value, const char *path,
                       const char *key, uf_error *err)
{
    if (strlen(value) >= len)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: %s is too long", path, key);
    memcpy(out, value, strlen(value) + 1);
    return true;
}

bool uf_credentials_load(uf_credentials *cred, uf_error *err)
{
    char path[PATH_MAX];
    if (!uf_credentials_path(path, sizeof path, err))
        return false;
    struct stat st;
    if (stat(path, &st) != 0)
        return uf_error_errno(err, errno, "%s", path);
    uf_json_limits lim = uf_json_default_limits();
    json_t *doc = uf_json_load_file(path, &lim, err);
    if (!doc)
        return false;
    const char *server, *token, *username = "";
    int64_t expires = 0;
    memset(cred, 0, sizeof *cred);
    bool ok = json_is_object(doc) && uf_json_get_string(doc, "", "server", &server, err) &&
              uf_json_get_string(doc, "", "token", &token, err) &&
              uf_json_opt_string(doc, "", "username", &username, err) &&
              uf_json_opt_int(doc, "", "expires_at", &expires, err) &&
              copy_field(cred->server, sizeof cred->server, server, path, "server", err) &&
              copy_field(cred->token, sizeof cred->token, token, path, "token", err) &&
              copy_field(cred->username, sizeof cred->username, username, path, "username", err);
    if (!ok && json_is_object(doc))
        uf_error_prefix(err, "%s", path);
    else if (!ok)
        uf_error_set(err, UF_E_BAD_FIELD, "%s: expected a JSON object", path);
    cred->expires_at = expires;
    json_decref(doc);
    return ok;
}

/* mkdir -p, new directories with mode 0700. */
static bool make_dirs(const char *dir, uf_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return uf_error_errno(err, errno, "create %s", path);
        *p = saved;
        if (!saved)
            return true;
    }
}

static bool write_all(int fd, const char *data, size_t len, const char *what, uf_error *err)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return uf_error_errno(err, n < 0 ? errno : EIO, "write %s", what);
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool uf_credentials_save(const uf_credentials *cred, uf_error *err)
{
    char base[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
    if (!config_base(base, sizeof base, err))
        return false;
    snprintf(dir, sizeof dir, "%s/upflow", base);
    snprintf(path, sizeof path, "%s/credentials.json", dir);
    snprintf(tmp, sizeof tmp, "%s/.credentials.json.XXXXXX", dir);
    if (!make_dirs(dir, err))
        return false;
    json_t *doc = json_pack("{s:s, s:s, s:s, s:I}", "server", cred->server, "token", cred->token,
                            "username", cred->username, "expires_at",
                            (json_int_t)cred->expires_at);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text)
        return uf_error_set(err, UF_E_NOMEM, "format the credentials");
    /* mkostemp creates the file with mode 0600: the token is never readable by others, not
     * even for a moment */
    int fd = mkostemp(tmp, O_CLOEXEC);
    bool ok = fd >= 0 || uf_error_errno(err, errno, "create a file in %s", dir);
    ok = ok && (fchmod(fd, 0600) == 0 || uf_error_errno(err, errno, "chmod %s", tmp));
    ok = ok && write_all(fd, text, strlen(text), tmp, err) && write_all(fd, "\n", 1, tmp, err);
    ok = ok && (fsync(fd) == 0 || uf_error_errno(err, errno, "fsync %s", tmp));
    explicit_bzero(text, strlen(text));
    free(text);
    if (fd >= 0 && close(fd) != 0 && ok)
        ok = uf_error_errno(err, errno, "close %s", tmp);
    ok = ok && (rename(tmp, path) == 0 || uf_error_errno(err, errno, "rename to %s", path));
    if (!ok) {
        if (fd >= 0)
            unlink(tmp);
        return false;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd); /* the rename itself must survive a power cut */
        close(dfd);
    }
    return true;
}

bool uf_credentials_remove(bool *removed, uf_error *err)
{
    char path[PATH_MAX];
    *removed = false;
    if (!uf_credentials_path(path, sizeof path, err))
        return false;
    if (unlink(path) != 0)
        return errno == ENOENT || uf_error_errno(err, errno, "remove %s", path);
    *removed = true;
    return true;
}

/* ---- choosing the server and the token ----------------------------------------------- */

bool uf_client_normalize_url(const char *url, char out[UF_CLIENT_URL_MAX], uf_error *err)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return uf_error_set(err, UF_E_USAGE, "server '%s': expected an http:// or https:// URL",
                            url);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return uf_error_set(err, UF_E_USAGE, "server URL with a space or control character");
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n >= UF_CLIENT_URL_MAX)
        return uf_error_set(err, UF_E_USAGE, "server URL too long");
    if (strchr(url, '?') || strchr(url, '#'))
        return uf_error_set(err, UF_E_USAGE, "server '%s': no query or fragment, please", url);
    memcpy(out, url, n);
    out[n] = '\0';
    return true;
}

bool uf_client_target_option(uf_client_target *t, int c, const char *arg)
{
    if (c == UF_CLIENT_OPT_SERVER)
        t->server = arg;
    else if (c == UF_CLIENT_OPT_TOKEN)
        t->token = arg;
    else
        return false;
    return true;
}

struct uf_client {
    CURL *curl;
    struct curl_slist *headers;
    char server[UF_CLIENT_URL_MAX];
    char auth[UF_CLIENT_TOKEN_MAX + 32]; /* "Authorization: Bearer ..." or "" */
    const char *ca_file;                 /* UPFLOW_CA_FILE: a private CA for the server */
    char errbuf[CURL_ERROR_SIZE];
};

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static bool token_ok(const char *token)
{
    if (!*token || strlen(token) >= UF_CLIENT_TOKEN_MAX)
        return false;
    for (const char *p = token; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false; /* it goes into a header line */
    return true;
}

/* The login that `upflow login` stored; without one, how to sign in. */
static bool stored_login(uf_credentials *cred, const char *server, uf_error *err)
{
    uf_error load_err;
    if (uf_credentials_load(cred, &load_err))
        return true;
    if (load_err.code != UF_E_NOT_FOUND) {
        *err = load_err;
        return uf_error_prefix(err, "read the login");
    }
    return uf_error_set(err, UF_E_UNAUTHORIZED,
                        "not signed in: run 'upflow login --server %s --username NAME', or set %s",
                        server ? server : "URL",
                        server ? "UPFLOW_TOKEN" : "UPFLOW_SERVER and UPFLOW_TOKEN");
}

static bool choose_token(const uf_client_target *t, const char *server, char *out,
                         uf_error *err)
{
    const char *token = t->token ? t->token : nonempty_env("UPFLOW_TOKEN");
    if (token) {
        if (!token_ok(token))
            return uf_error_set(err, UF_E_INVALID,
                                "the token (from %s) is empty, too long or has spaces or "
                                "control characters",
                                t->token ? "--token" : "UPFLOW_TOKEN");
        snprintf(out, UF_CLIENT_TOKEN_MAX, "%s", token);
        return true;
    }
    uf_credentials cred;
    if (!stored_login(&cred, server, err))
        return false;
    char stored[UF_CLIENT_URL_MAX];
    bool ok = true;
    if (!uf_client_normalize_url(cred.server, stored, NULL) || strcmp(stored, server) != 0)
        ok = uf_error_set(err, UF_E_UNAUTHORIZED,
                          "not signed in to %s (the login is for %s): run 'upflow login "
                          "--server %s --username NAME', or give a token",
                          server, cred.server, server);
    else if (cred.expires_at > 0 && cred.expires_at <= (int64_t)time(NULL))
        ok = uf_error_set(err, UF_E_UNAUTHORIZED,
                          "the session of %s on %s has expired: run 'upflow login --server %s "
                          "--username %s'",
                          cred.username, server, server, cred.username);
    else if (!token_ok(cred.token))
        ok = uf_error_set(err, UF_E_INVALID, "the stored token is not usable: run 'upflow login'");
    if (ok)
        snprintf(out, UF_CLIENT_TOKEN_MAX, "%s", cred.token);
    explicit_bzero(cred.token, sizeof cred.token);
    return ok;
}

static bool choose_server(const uf_client_target *t, char out[UF_CLIENT_URL_MAX], uf_error *err)
{
    const char *server = t->server ? t->server : nonempty_env("UPFLOW_SERVER");
    uf_credentials cred = {0};
    if (!server && !stored_login(&cred, NULL, err))
        return false;
    bool ok = uf_client_normalize_url(server ? server : cred.server, out, err);
    if (!ok && !server)
        err->code = UF_E_INVALID; /* a bad stored URL is not a usage error */
    explicit_bzero(cred.token, sizeof cred.token);
    return ok;
}

uf_client *uf_client_open(const uf_client_target *t, uf_client_mode mode, uf_error *err)
{
    static bool curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            uf_error_set(err, UF_E_INTERNAL, "libcurl initialisation failed");
            return NULL;
        }
        curl_ready = true; /* left to the process's exit */
    }
    uf_client *c = calloc(1, sizeof *c);
    if (!c) {
        uf_error_set(err, UF_E_NOMEM, "allocate the client");
        return NULL;
    }
    char token[UF_CLIENT_TOKEN_MAX] = "";
    bool ok = choose_server(t, c->server, err) &&
              (mode == UF_CLIENT_ANONYMOUS || choose_token(t, c->server, token, err));
    if (ok && token[0])
        snprintf(c->auth, sizeof c->auth, "Authorization: Bearer %s", token);
    explicit_bzero(token, sizeof token);
    c->ca_file = nonempty_env("UPFLOW_CA_FILE");
    if (ok && !(c->curl = curl_easy_init()))
        ok = uf_error_set(err, UF_E_NOMEM, "libcurl: cannot create a handle");
    if (!ok) {
        uf_client_close(c);
        return NULL;
    }
    return c;
}

void uf_client_close(uf_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    explicit_bzero(c->auth, sizeof c->auth);
    free(c);
}

const char *uf_client_server(const uf_client *c) { return c->server; }

/* ---- requests ------------------------------------------------------------------------- */

void uf_response_clear(uf_response *r)
{
    json_decref(r->body);
    r->body = NULL;
    uf_buf_free(&r->raw);
    r->status = 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    uf_buf *b = arg;
    return uf_buf_append(b, data, size * n, NULL) ? size * n : 0;
}

static size_t on_upload_read(char *data, size_t size, size_t n, void *arg)
{
    FILE *f = arg;
    size_t got = fread(data, 1, size * n, f);
    return got == 0 && ferror(f) ? CURL_READFUNC_ABORT : got;
}

static bool add_header(uf_client *c, const char *line, uf_error *err)
{
    struct curl_slist *l = curl_slist_append(c->headers, line);
    if (!l)
        return uf_error_set(err, UF_E_NOMEM, "build the request headers");
    c->headers = l;
    return true;
}

/* Options every request shares. */
static bool prepare(uf_client *c, const char *url, const char *content_type, uf_response *resp,
                    uf_error *err)
{
    curl_easy_reset(c->curl);
    curl_slist_free_all(c->headers);
    c->headers = NULL;
    uf_response_clear(resp);
    resp->raw.limit = MAX_ANSWER;
    c->errbuf[0] = '\0';
    if (!add_header(c, "Accept: application/json", err) ||
        (c->auth[0] && !add_header(c, c->auth, err)))
        return false;
    if (content_type) {
        char line[128];
        snprintf(line, sizeof line, "Content-Type: %s", content_type);
        if (!add_header(c, line, err))
            return false;
    }
    CURL *h = c->curl;
    bool ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_USERAGENT, "upflow/" UPFLOW_VERSION) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)STALL_TIMEOUT_S) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->raw) == CURLE_OK &&
              (!c->ca_file || curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) == CURLE_OK);
    return ok || uf_error_set(err, UF_E_INTERNAL, "libcurl refused an option");
}

/* A C1 control in UTF-8 is 0xC2 0x80..0x9F. */
static bool is_c1(const unsigned char *p) { return p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f; }

/* Replace control characters (C0, DEL, C1) by '?', so server text cannot drive a terminal. */
static void clean_text(char *s)
{
    unsigned char *w = (unsigned char *)s;
    for (const unsigned char *p = w; *p; p++) {
        if (is_c1(p))
            *w++ = '?', p++;
        else
            *w++ = *p < 0x20 || *p == 0x7f ? '?' : *p;
    }
    *w = '\0';
}

void uf_client_print_text(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            fputc('?', out);
        } else if (is_c1(p)) {
            fputc('?', out);
            p++;
        } else {
            fputc(*p, out);
        }
    }
}

/* Turn a non-2xx answer into err: the server's code and "message (code)". */
static bool answer_error(const uf_client *c, const char *method, const char *path,
                         const uf_response *resp, uf_error *err)
{
    json_t *e = json_object_get(resp->body, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *message = json_string_value(json_object_get(e, "message"));
    if (!code || !message) {
        uf_code guess = resp->status == 401   ? UF_E_UNAUTHORIZED
                        : resp->status == 403 ? UF_E_FORBIDDEN
                        : resp->status == 404 ? UF_E_NOT_FOUND
                                              : UF_E_IO;
        return uf_error_set(err, guess, "%s %s%s: HTTP %ld without an upflow error", method,
                            c->server, path, resp->status);
    }
    uf_code known;
    if (!uf_code_from_name(code, &known) || known == UF_OK)
        known = UF_E_INTERNAL;
    else if (known == UF_E_USAGE)
        known = UF_E_INVALID; /* our usage errors are ours, not the server's */
    uf_error_set(err, known, "%s (%s)", message, code);
    clean_text(err->msg);
    return false;
}

static bool connect_failure(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return true;
    default:
        return false;
    }
}

/* Run the prepared request and judge its answer. */
static bool perform(uf_client *c, const char *method, const char *path, uf_response *resp,
                    uf_error *err)
{
    CURLcode rc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (rc != CURLE_OK) {
        const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_WRITE_ERROR && resp->raw.len + CURL_MAX_WRITE_SIZE > resp->raw.limit)
            return uf_error_set(err, UF_E_TOO_LARGE, "%s %s%s: the answer exceeds %d MiB",
                                method, c->server, path, MAX_ANSWER >> 20);
        uf_code code = rc == CURLE_OPERATION_TIMEDOUT ? UF_E_TIMEOUT : UF_E_IO;
        if (connect_failure(rc) || (rc == CURLE_OPERATION_TIMEDOUT && resp->status == 0))
            return uf_error_set(err, code, "cannot reach %s: %s", c->server, why);
        return uf_error_set(err, code, "%s %s%s: %s", method, c->server, path, why);
    }
    if (resp->raw.len > 0) {
        uf_json_limits lim = {.max_bytes = MAX_ANSWER, .max_depth = 64,
                              .max_string = 16u << 20, .max_members = 1000000};
        uf_error perr;
        resp->body = uf_json_parse(resp->raw.data, resp->raw.len, &lim, &perr);
        if (!resp->body && resp->status >= 200 && resp->status < 300) {
            *err = perr;
            return uf_error_prefix(err, "%s %s%s: the answer", method, c->server, path);
        }
    }
    if (resp->status < 200 || resp->status >= 300)
        return answer_error(c, method, path, resp, err);
    if (!resp->body)
        return uf_error_set(err, UF_E_BAD_JSON, "%s %s%s: HTTP %ld with an empty answer", method,
                            c->server, path, resp->status);
    return true;
}

static bool request_url(const uf_client *c, const char *path, char **url, uf_error *err)
{
    size_t n = strlen(c->server) + strlen(path) + 1;
    *url = malloc(n);
    if (!*url)
        return uf_error_set(err, UF_E_NOMEM, "build the request URL");
    snprintf(*url, n, "%s%s", c->server, path);
    return true;
}

bool uf_client_call(uf_client *c, const char *method, const char *path, const json_t *body,
                    uf_response *resp, uf_error *err)
{
    char *url = NULL, *text = NULL;
    if (body && !(text = json_dumps(body, JSON_COMPACT)))
        return uf_error_set(err, UF_E_NOMEM, "format the request body");
    bool ok = request_url(c, path, &url, err) &&
              prepare(c, url, text ? "application/json" : NULL, resp, err);
    CURL *h = c->curl;
    if (ok && text)
        ok = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text)) ==
                 CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_POSTFIELDS, text) == CURLE_OK;
    if (ok)
        ok = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)CALL_TIMEOUT_S) == CURLE_OK;
    if (ok && !text && strcmp(method, "POST") == 0)
        ok = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_POSTFIELDS, "") == CURLE_OK;
    if (!ok && err->code == UF_OK)
        uf_error_set(err, UF_E_INTERNAL, "libcurl refused an option");
    ok = ok && perform(c, method, path, resp, err);
    if (text) {
        explicit_bzero(text, strlen(text)); /* it may hold a password */
        free(text);
    }
    free(url);
    return ok;
}

bool uf_client_upload(uf_client *c, const char *path, const char *file, uf_response *resp,
                      uf_error *err)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return uf_error_errno(err, errno, "open %s", file);
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        return uf_error_errno(err, e, "stat %s", file);
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        return uf_error_set(err, UF_E_INVALID, "%s: not a regular file", file);
    }
    char *url = NULL;
    CURL *h = c->curl;
    bool ok = request_url(c, path, &url, err) &&
              prepare(c, url, "application/octet-stream", resp, err);
    if (ok &&
        !(curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK &&
          curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload_read) == CURLE_OK &&
          curl_easy_setopt(h, CURLOPT_READDATA, f) == CURLE_OK &&
          curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size) == CURLE_OK))
        ok = uf_error_set(err, UF_E_INTERNAL, "libcurl refused an option");
    ok = ok && perform(c, "POST", path, resp, err);
    free(url);
    fclose(f);
    return ok;
}

bool uf_client_query(uf_client *c, uf_buf *path, const char *name, const char *value,
                     uf_error *err)
{
    char *escaped = curl_easy_escape(c->curl, value, 0);
    if (!escaped)
        return uf_error_set(err, UF_E_NOMEM, "encode the query parameter %s", name);
    bool first = !path->data || !strchr(path->data, '?');
    bool ok = uf_buf_printf(path, err, "%c%s=%s", first ? '?' : '&', name, escaped);
    curl_free(escaped);
    return ok;
}

bool uf_response_print_raw(const uf_response *r, uf_error *err)
{
    bool ok = fwrite(r->raw.data ? r->raw.data : "", 1, r->raw.len, stdout) == r->raw.len;
    if (ok && (r->raw.len == 0 || r->raw.data[r->raw.len - 1] != '\n'))
        ok = putchar('\n') != EOF;
    ok = fflush(stdout) == 0 && ok;
    return ok || uf_error_set(err, UF_E_IO, "write to standard output failed");
}

int uf_client_fail(const char *prog, const uf_error *err, const uf_response *resp)
{
    int rc = uf_cmdline_fail(prog, err);
    json_t *details = resp ? json_object_get(json_object_get(resp->body, "error"), "details")
                           : NULL;
    size_t i;
    json_t *d;
    json_array_foreach(details, i, d) {
        const char *guard = json_string_value(json_object_get(d, "guard"));
        const char *message = json_string_value(json_object_get(d, "message"));
        if (!message)
            continue;
        char line[1024];
        snprintf(line, sizeof line, "%s%s%s", guard ? guard : "", guard ? ": " : "", message);
        clean_text(line);
        fprintf(stderr, "  %s\n", line);
    }
    if (err->code == UF_E_UNAUTHORIZED && resp && resp->status == 401)
        fprintf(stderr, "Run 'upflow login' to sign in again.\n");
    return rc;
}
