/*
 * router.c - route table matching (see router.h). Linear over a short table: the API has
 * tens of routes and matching costs far less than parsing the request did.
 */
#include "server/router.h"

#include <stdio.h>
#include <string.h>

/* Does path match pattern? On success the {param} values are written into buf (separated by
 * NULs) and pointed at by req->params. */
static bool match(const char *pattern, const char *path, http_request *req, char *buf,
                  size_t cap)
{
    size_t n_params = 0, used = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            /* {name*} at the end of a pattern takes the rest of the path, slashes included */
            bool rest = close && close > p + 1 && close[-1] == '*' && close[1] == '\0';
            const char *seg_end = rest ? NULL : strchr(s, '/');
            size_t len = seg_end ? (size_t)(seg_end - s) : strlen(s);
            if (!close || len == 0 || n_params == HTTP_MAX_PATH_PARAMS || used + len + 1 > cap)
                return false;
            memcpy(buf + used, s, len);
            buf[used + len] = '\0';
            req->params[n_params++] = buf + used;
            used += len + 1;
            p = close + 1;
            s += len;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*p || *s)
        return false;
    req->n_params = n_params;
    return true;
}

const route *router_match(const route *table, size_t n, http_request *req,
                          http_response *resp)
{
    char allow[128] = "";
    for (size_t i = 0; i < n; i++) {
        if (!match(table[i].pattern, req->path, req, req->param_buf, sizeof req->param_buf))
            continue;
        if (strcmp(table[i].method, req->method) == 0 ||
            (strcmp(req->method, "HEAD") == 0 && strcmp(table[i].method, "GET") == 0)) {
            req->route = table[i].pattern;
            return &table[i];
        }
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", table[i].method);
    }
    if (allow[0]) {
        http_set_errorf(resp, UF_E_METHOD, "%s is not allowed on %s (allowed: %s)", req->method,
                        req->path, allow);
        http_add_header(resp, "Allow", allow);
    } else {
        http_set_errorf(resp, UF_E_NOT_FOUND, "no such resource: %s", req->path);
    }
    return NULL;
}
