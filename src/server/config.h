/*
 * config.h - upflowd's configuration: built-in defaults, then the INI file, then flags.
 *
 *     [server]
 *     listen     = 127.0.0.1:8080      ; HOST:PORT, [V6]:PORT or :PORT; port 0 = any free
 *     public_url = https://updates.example.com   ; absolute links handed to devices
 *     forwarded_headers = false        ; links from a proxy's X-Forwarded-Proto/Host/Port/Prefix
 *     data_dir   = /var/lib/upflow     ; database, attachments, keys
 *     threads    = 4                   ; HTTP worker threads
 *     max_body   = 1048576             ; bytes of a JSON request body
 *     max_upload = 67108864            ; bytes of one attachment
 *     max_connections = 16384          ; open connections at most (devices keep theirs open)
 *     idle_timeout = 60                ; seconds an idle connection is kept
 *     log_level  = info                ; error | warn | info | debug
 *     [auth]
 *     session_ttl = 43200              ; seconds a login token lives
 *     scrypt_log2_n = 17               ; password hashing cost (N = 2^n, r = 8, p = 1)
 *     [workflow]
 *     templates_dir = /usr/share/upflow/templates
 *     calendars_dir = /usr/share/upflow/calendars
 *     [notify]
 *     interval       = 30                 ; seconds between passes of the notification worker
 *     webhook_url    = https://hooks.example.com/upflow   ; empty: webhooks wait in the outbox
 *     webhook_secret = s3cret             ; HMAC-SHA256 key of X-Upflow-Signature
 *     [tuf]
 *     timestamp_expiry = 86400            ; seconds a timestamp.json is valid (re-signed at half)
 *     snapshot_expiry  = 604800           ; seconds a snapshot.json is valid (re-signed at half)
 *     max_target_size  = 17179869184      ; bytes of one uploaded release file
 *     [devices]
 *     poll_interval = 60                  ; seconds between a device's polls (told to devices)
 *
 * An unknown section or key is an error that names the line, so a typo is never ignored.
 */
#ifndef UPFLOW_SERVER_CONFIG_H
#define UPFLOW_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/log.h"

#define CONFIG_STR_MAX 512

typedef struct server_config {
    char listen[CONFIG_STR_MAX];
    char public_url[CONFIG_STR_MAX];
    char data_dir[CONFIG_STR_MAX];
    char templates_dir[CONFIG_STR_MAX];
    char calendars_dir[CONFIG_STR_MAX];
    unsigned threads;
    size_t max_body;
    uint64_t max_upload;
    uf_log_level log_level;
    int64_t session_ttl;
    unsigned scrypt_log2_n;
    unsigned notify_interval;
    char webhook_url[CONFIG_STR_MAX];
    char webhook_secret[CONFIG_STR_MAX];
    int64_t tuf_timestamp_expiry;
    int64_t tuf_snapshot_expiry;
    uint64_t max_target_size;
    unsigned poll_interval;
    unsigned max_connections;
    unsigned idle_timeout;
    bool forwarded_headers;
} server_config;

/* The built-in defaults. templates_dir and calendars_dir default to the source tree's
 * folders when upflowd runs from a build tree (UPFLOW_SOURCE_DIR), else /usr/share/upflow. */
void config_defaults(server_config *c);
/* Apply one "section.key = value" setting; used by the file loader and by flags. */
bool config_set(server_config *c, const char *section, const char *key, const char *value,
                uf_error *err);
/* Read an INI file over c. */
bool config_load_file(server_config *c, const char *path, uf_error *err);

#endif
