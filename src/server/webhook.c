/*
 * webhook.c - one signed webhook POST over libcurl (see webhook.h).
 */
#include "server/webhook.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/hash.h"

bool webhook_global_init(uf_error *err)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    return rc == CURLE_OK ||
           uf_error_set(err, UF_E_INTERNAL, "libcurl: %s", curl_easy_strerror(rc));
}

void webhook_global_cleanup(void) { curl_global_cleanup(); }

bool webhook_sign(const char *secret, const char *body, size_t len,
                  char out[WEBHOOK_SIGNATURE_MAX], uf_error *err)
{
    char hex[UF_HASH_MAX_HEX];
    if (!uf_hmac_hex(UF_HASH_SHA256, secret, strlen(secret), body, len, hex, err))
        return false;
    snprintf(out, WEBHOOK_SIGNATURE_MAX, "sha256=%s", hex);
    return true;
}

/* The answer's body is not needed: count it away. */
static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

static int check_cancel(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                        curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const atomic_bool *cancel = user;
    return cancel && atomic_load(cancel) ? 1 : 0;
}

static bool add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[512];
    snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *next = curl_slist_append(*list, line);
    if (!next)
        return false;
    *list = next;
    return true;
}

bool webhook_post(const webhook_target *t, const char *event, int64_t delivery_id,
                  const char *body, uf_error *err)
{
    size_t len = strlen(body);
    char signature[WEBHOOK_SIGNATURE_MAX] = "", delivery[32];
    if (t->secret[0] && !webhook_sign(t->secret, body, len, signature, err))
        return false;
    snprintf(delivery, sizeof delivery, "%" PRId64, delivery_id);
    struct curl_slist *headers = NULL;
    bool ok = add_header(&headers, "Content-Type", "application/json") &&
              add_header(&headers, "User-Agent", "upflowd-webhook") &&
              add_header(&headers, "X-Upflow-Event", event) &&
              add_header(&headers, "X-Upflow-Delivery", delivery) &&
              (!signature[0] || add_header(&headers, "X-Upflow-Signature", signature)) &&
              add_header(&headers, "Expect", "");
    CURL *curl = ok ? curl_easy_init() : NULL;
    if (!curl) {
        curl_slist_free_all(headers);
        return uf_error_set(err, UF_E_NOMEM, "webhook: cannot set up the request");
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, t->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, t->timeout_s < 5 ? t->timeout_s : 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, t->timeout_s);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_cancel);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)(uintptr_t)t->cancel);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK)
        return uf_error_set(err, UF_E_IO, "webhook %s: %s", t->url,
                            curl_err[0] ? curl_err : curl_easy_strerror(rc));
    if (status < 200 || status > 299)
        return uf_error_set(err, UF_E_IO, "webhook %s: HTTP %ld", t->url, status);
    return true;
}
