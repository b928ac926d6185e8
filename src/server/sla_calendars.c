/*
 * sla_calendars.c - the registry of working calendars that SLA clocks compute on: every
 * calendars/NAME.json, loaded once at start and shared read-only afterwards (see sla.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/sla.h"

bool sla_calendars_add(sla_calendars *cals, uf_calendar *cal, uf_error *err)
{
    for (size_t i = 0; i < cals->n; i++) {
        if (strcmp(uf_calendar_id(cals->items[i]), uf_calendar_id(cal)) == 0 &&
            uf_calendar_version(cals->items[i]) == uf_calendar_version(cal)) {
            uf_error_set(err, UF_E_CONFLICT, "calendar %s version %lld is loaded twice",
                         uf_calendar_id(cal), (long long)uf_calendar_version(cal));
            uf_calendar_free(cal);
            return false;
        }
    }
    uf_calendar **grown = realloc(cals->items, (cals->n + 1) * sizeof *grown);
    if (!grown) {
        uf_calendar_free(cal);
        return uf_error_set(err, UF_E_NOMEM, "cannot grow the calendar registry");
    }
    cals->items = grown;
    cals->items[cals->n++] = cal;
    return true;
}

const uf_calendar *sla_calendars_get(const sla_calendars *cals, const char *id)
{
    const uf_calendar *best = NULL;
    for (size_t i = 0; cals && id && i < cals->n; i++)
        if (strcmp(uf_calendar_id(cals->items[i]), id) == 0 &&
            (!best || uf_calendar_version(cals->items[i]) > uf_calendar_version(best)))
            best = cals->items[i];
    return best;
}

void sla_calendars_free(sla_calendars *cals)
{
    if (!cals)
        return;
    for (size_t i = 0; i < cals->n; i++)
        uf_calendar_free(cals->items[i]);
    free(cals->items);
    cals->items = NULL;
    cals->n = 0;
}

static bool is_json_name(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && name[0] != '.' && strcmp(name + n - 5, ".json") == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The *.json names of dir, sorted, so that loading (and its errors) is reproducible. */
static bool list_json_files(const char *dir, char ***names_out, size_t *n_out, uf_error *err)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return uf_error_errno(err, errno, "open calendar directory %s", dir);
    char **names = NULL;
    size_t n = 0;
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(dh)) != NULL) {
        if (!is_json_name(de->d_name))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *grown);
        char *copy = grown ? strdup(de->d_name) : NULL;
        if (grown)
            names = grown;
        if (!copy)
            ok = uf_error_set(err, UF_E_NOMEM, "list %s", dir);
        else
            names[n++] = copy;
    }
    closedir(dh);
    if (!ok) {
        free_names(names, n);
        return false;
    }
    qsort(names, n, sizeof *names, compare_names);
    *names_out = names;
    *n_out = n;
    return true;
}

bool sla_calendars_load(sla_calendars *cals, const char *dir, uf_error *err)
{
    cals->items = NULL;
    cals->n = 0;
    char **names = NULL;
    size_t n = 0;
    if (!list_json_files(dir, &names, &n, err))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        uf_calendar *cal = uf_calendar_load_file(path, err);
        ok = cal != NULL;
        if (ok && !sla_calendars_add(cals, cal, err))
            ok = uf_error_prefix(err, "%s", path);
    }
    free_names(names, n);
    if (!ok)
        sla_calendars_free(cals);
    return ok;
}
