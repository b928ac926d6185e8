/*
 * fault.c - named crash points for fault-injection tests (see fault.h).
 */
#include "agent/fault.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool parse_spec(uf_fault *f, const char *spec, uf_error *err)
{
    const char *colon = strchr(spec, ':');
    size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (name_len == 0 || name_len >= sizeof f->point)
        return uf_error_set(err, UF_E_USAGE, "UPFLOW_FAULT_POINT '%s': expected name[:n]", spec);
    memcpy(f->point, spec, name_len);
    f->point[name_len] = '\0';
    f->nth = 1;
    if (!colon)
        return true;
    char *end;
    errno = 0;
    unsigned long n = strtoul(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || errno || *end || n == 0)
        return uf_error_set(err, UF_E_USAGE,
                            "UPFLOW_FAULT_POINT '%s': n must be a whole number from 1", spec);
    f->nth = n;
    return true;
}

bool uf_fault_init(uf_fault *f, const char *spec, const char *list_path, uf_error *err)
{
    memset(f, 0, sizeof *f);
    if (list_path && *list_path) {
        if (strlen(list_path) >= sizeof f->list_path)
            return uf_error_set(err, UF_E_USAGE, "UPFLOW_FAULT_LIST: path too long");
        strcpy(f->list_path, list_path);
    }
    return !spec || !*spec || parse_spec(f, spec, err);
}

bool uf_fault_from_env(uf_fault *f, uf_error *err)
{
    return uf_fault_init(f, getenv("UPFLOW_FAULT_POINT"), getenv("UPFLOW_FAULT_LIST"), err);
}

/* One write(2) per name with O_APPEND, so the names of concurrent writers never mix. A list
 * that cannot be written is ignored: it is a test's aid, never a reason to fail an update. */
static void record(const char *list_path, const char *name)
{
    int fd = open(list_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char line[UF_FAULT_NAME_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", name);
    if (n > 0 && write(fd, line, (size_t)n) < 0) {
        /* nothing to do: see above */
    }
    close(fd);
}

void uf_fault_point(uf_fault *f, const char *name)
{
    if (!f)
        return;
    f->reached++;
    if (f->list_path[0])
        record(f->list_path, name);
    if (f->point[0] && strcmp(f->point, name) == 0 && ++f->point_hits == f->nth)
        _exit(UF_FAULT_EXIT);
}

static void observe_step(void *ctx, const char *step)
{
    const uf_fault_site *s = ctx;
    char name[UF_FAULT_NAME_MAX];
    snprintf(name, sizeof name, "%s.%s", s->site, step);
    uf_fault_point(s->fault, name);
}

uf_file_observer uf_fault_observer(uf_fault_site *site)
{
    return (uf_file_observer){observe_step, site};
}
