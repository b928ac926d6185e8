/*
 * test_openapi.c - docs/api/openapi.yaml describes exactly the routes upflowd serves: a
 * route missing from the document fails, and so does a documented route that no longer
 * exists. Reads the document's `paths:` block line by line (path keys at two spaces of
 * indent, methods at four).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "server/api.h"

#define MAX_ENTRIES 256

typedef struct entry {
    char method[16];
    char path[160];
} entry;

static size_t read_spec(entry *out, size_t cap)
{
    FILE *f = fopen(UF_OPENAPI_PATH, "r");
    assert_non_null(f);
    char line[512], path[160] = "";
    bool in_paths = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "paths:") == 0) {
            in_paths = true;
            continue;
        }
        if (in_paths && line[0] && line[0] != ' ')
            break; /* the next top-level key */
        if (!in_paths)
            continue;
        if (strncmp(line, "  /", 3) == 0) {
            snprintf(path, sizeof path, "%s", line + 2);
            path[strcspn(path, ":")] = '\0';
            continue;
        }
        static const char *const methods[] = {"get", "post", "put", "patch", "delete", NULL};
        for (size_t i = 0; methods[i]; i++) {
            char want[32];
            snprintf(want, sizeof want, "    %s:", methods[i]);
            if (strncmp(line, want, strlen(want)) == 0 && n < cap) {
                snprintf(out[n].method, sizeof out[n].method, "%s", methods[i]);
                snprintf(out[n].path, sizeof out[n].path, "%s", path);
                n++;
            }
        }
    }
    fclose(f);
    return n;
}

/* A route and a documented path are the same when method and pattern agree; a route's
 * {rest*} (the rest of the path) is written {rest} in OpenAPI. */
static bool same_route(const route *r, const entry *e)
{
    char pattern[160];
    size_t k = 0;
    for (const char *p = r->pattern; *p && k + 1 < sizeof pattern; p++)
        if (*p != '*')
            pattern[k++] = *p;
    pattern[k] = '\0';
    return strcasecmp(r->method, e->method) == 0 && strcmp(pattern, e->path) == 0;
}

static void every_route_is_documented_and_nothing_else(void **state)
{
    (void)state;
    route routes[SERVER_MAX_ROUTES];
    size_t n_routes = api_collect_routes(routes, SERVER_MAX_ROUTES);
    entry spec[MAX_ENTRIES];
    size_t n_spec = read_spec(spec, MAX_ENTRIES);
    assert_true(n_routes > 20);
    int missing = 0, stale = 0;
    for (size_t i = 0; i < n_routes; i++) {
        bool found = false;
        for (size_t j = 0; j < n_spec && !found; j++)
            found = same_route(&routes[i], &spec[j]);
        if (!found) {
            printf("not in openapi.yaml: %s %s\n", routes[i].method, routes[i].pattern);
            missing++;
        }
    }
    for (size_t j = 0; j < n_spec; j++) {
        bool found = false;
        for (size_t i = 0; i < n_routes && !found; i++)
            found = same_route(&routes[i], &spec[j]);
        if (!found) {
            printf("documented but not served: %s %s\n", spec[j].method, spec[j].path);
            stale++;
        }
    }
    assert_int_equal(missing, 0);
    assert_int_equal(stale, 0);
}

static void every_route_has_a_summary(void **state)
{
    (void)state;
    route routes[SERVER_MAX_ROUTES];
    size_t n = api_collect_routes(routes, SERVER_MAX_ROUTES);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(routes[i].summary);
        assert_true(strlen(routes[i].summary) > 5);
        for (size_t j = 0; j < i; j++)
            assert_false(strcmp(routes[i].method, routes[j].method) == 0 &&
                         strcmp(routes[i].pattern, routes[j].pattern) == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_documented_and_nothing_else),
        cmocka_unit_test(every_route_has_a_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
