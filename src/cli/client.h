/*
 * client.h - how `upflow` talks to an upflow server: where the server is and who we are
 * (the credentials file that `upflow login` writes, UPFLOW_SERVER / UPFLOW_TOKEN, and the
 * --server / --token options, each overriding the one before), and JSON requests over
 * libcurl with a timeout, a User-Agent and TLS verification always on.
 *
 * An answer that is not 2xx fails with the server's stable error code and the message
 * "<server message> (<code>)"; the response still holds the body, so a caller can show the
 * `details` of a guard_failed. A server that cannot be reached fails with its URL named.
 */
#ifndef UPFLOW_CLI_CLIENT_H
#define UPFLOW_CLI_CLIENT_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/buf.h"
#include "lib/error.h"

#define UF_CLIENT_URL_MAX 1024
#define UF_CLIENT_TOKEN_MAX 512
#define UF_CLIENT_USER_MAX 256

/* What `upflow login` stores, mode 0600. */
typedef struct uf_credentials {
    char server[UF_CLIENT_URL_MAX];
    char token[UF_CLIENT_TOKEN_MAX];
    char username[UF_CLIENT_USER_MAX];
    int64_t expires_at; /* Unix seconds; 0 when unknown */
} uf_credentials;

/* $XDG_CONFIG_HOME/upflow/credentials.json, else $HOME/.config/upflow/credentials.json. */
bool uf_credentials_path(char *out, size_t len, uf_error *err);
/* Fails with UF_E_NOT_FOUND when there is no file. */
bool uf_credentials_load(uf_credentials *cred, uf_error *err);
/* Written through a temporary file, fsync and rename, mode 0600; the directory is created
 * with mode 0700 if needed. */
bool uf_credentials_save(const uf_credentials *cred, uf_error *err);
/* Remove the file; *removed says whether there was one. */
bool uf_credentials_remove(bool *removed, uf_error *err);

/* A server URL as given, checked (http:// or https://, no spaces or control characters)
 * and without trailing slashes. Fails with UF_E_USAGE. */
bool uf_client_normalize_url(const char *url, char out[UF_CLIENT_URL_MAX], uf_error *err);

/* --server and --token, accepted by every command that talks to the server. */
enum { UF_CLIENT_OPT_SERVER = 0x1000, UF_CLIENT_OPT_TOKEN };
#define UF_CLIENT_LONG_OPTIONS                                                                \
    {"server", required_argument, NULL, UF_CLIENT_OPT_SERVER},                                \
    {"token", required_argument, NULL, UF_CLIENT_OPT_TOKEN}
#define UF_CLIENT_OPTIONS_HELP                                                                \
    "      --server URL          the server (default: UPFLOW_SERVER, then the login)\n"    \
    "      --token TOKEN         an API token (default: UPFLOW_TOKEN, then the login)\n"

typedef struct uf_client_target {
    const char *server; /* --server, or NULL */
    const char *token;  /* --token, or NULL */
} uf_client_target;

/* Take getopt's result c if it is one of the options above; false if it is not. */
bool uf_client_target_option(uf_client_target *t, int c, const char *arg);

typedef enum {
    UF_CLIENT_ANONYMOUS, /* no token is sent (sign-in) */
    UF_CLIENT_SIGNED_IN, /* a token is required */
} uf_client_mode;

typedef struct uf_client uf_client;

/* Decide the server and the token and prepare a connection. A stored token is used only
 * with the server it was issued by, so overriding the server never sends it elsewhere. */
uf_client *uf_client_open(const uf_client_target *t, uf_client_mode mode, uf_error *err);
void uf_client_close(uf_client *c);
const char *uf_client_server(const uf_client *c);

typedef struct uf_response {
    long status;  /* HTTP status; 0 when no answer arrived */
    json_t *body; /* the body parsed as JSON, or NULL */
    uf_buf raw;   /* the body as received */
} uf_response;

#define UF_RESPONSE_INIT {0, NULL, UF_BUF_INIT}
void uf_response_clear(uf_response *r);

/* METHOD path (beginning "/api/"), with body as JSON when not NULL. A 2xx answer must carry
 * a JSON body. */
bool uf_client_call(uf_client *c, const char *method, const char *path, const json_t *body,
                    uf_response *resp, uf_error *err);
/* POST the regular file at file as the raw body, streamed from disk. */
bool uf_client_upload(uf_client *c, const char *path, const char *file, uf_response *resp,
                      uf_error *err);

/* Append "?name=value" or "&name=value" to path, the value percent-encoded. */
bool uf_client_query(uf_client *c, uf_buf *path, const char *name, const char *value,
                     uf_error *err);

/* Print the body as the server sent it (for --json), with a final newline. */
bool uf_response_print_raw(const uf_response *r, uf_error *err);

/* Print text that came from the server, control characters (which could drive the
 * terminal) shown as '?'. */
void uf_client_print_text(FILE *out, const char *s);

/* Report a failure as "PROG: message" on stderr; after a guard_failed, each unmet guard on
 * a line of its own; after an unauthorized, how to sign in again. Returns the exit status. */
int uf_client_fail(const char *prog, const uf_error *err, const uf_response *resp);

#endif
