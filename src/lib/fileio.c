/*
 * fileio.c - atomic, durable file replacement and capped reads (see fileio.h).
 */
#include "lib/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void observe(const uf_file_observer *obs, const char *point)
{
    if (obs && obs->step)
        obs->step(obs->ctx, point);
}

bool uf_file_write_atomic(const char *path, const void *data, size_t len, uf_error *err)
{
    return uf_file_write_atomic_observed(path, data, len, NULL, err);
}

bool uf_file_write_atomic_observed(const char *path, const void *data, size_t len,
                                   const uf_file_observer *obs, uf_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16), *dircopy = strdup(path);
    bool ok = false;
    int fd = -1;
    if (!tmp || !dircopy) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        goto out;
    }
    sprintf(tmp, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        uf_error_errno(err, errno, "create %s", tmp);
        goto out;
    }
    observe(obs, "write.before");
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            uf_error_errno(err, errno, "write %s", tmp);
            goto out_unlink;
        }
        done += (size_t)n;
    }
    observe(obs, "write.after");
    observe(obs, "fsync.before");
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        uf_error_errno(err, errno, "fsync %s", tmp);
        goto out_unlink;
    }
    observe(obs, "fsync.after");
    if (close(fd) != 0) {
        fd = -1;
        uf_error_errno(err, errno, "close %s", tmp);
        goto out_unlink;
    }
    fd = -1;
    observe(obs, "rename.before");
    if (rename(tmp, path) != 0) {
        uf_error_errno(err, errno, "rename %s to %s", tmp, path);
        goto out_unlink;
    }
    observe(obs, "rename.after");
    observe(obs, "dirsync.before");
    int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || fsync(dfd) != 0) {
        uf_error_errno(err, errno, "fsync directory of %s", path);
        if (dfd >= 0)
            close(dfd);
        goto out;
    }
    close(dfd);
    observe(obs, "dirsync.after");
    ok = true;
    goto out;
out_unlink:
    if (fd >= 0)
        close(fd);
    fd = -1;
    unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(dircopy);
    return ok;
}

bool uf_file_read_capped(const char *path, size_t max, uf_buf *out, uf_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return uf_error_errno(err, errno, "open %s", path);
    char block[65536];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(block, 1, sizeof block, fp)) > 0) {
        if (out->len + n > max)
            ok = uf_error_set(err, UF_E_TOO_LARGE, "%s: more than %zu bytes", path, max);
        else
            ok = uf_buf_append(out, block, n, err);
    }
    if (ok && ferror(fp))
        ok = uf_error_errno(err, errno, "read %s", path);
    fclose(fp);
    return ok;
}

bool uf_file_mkdir_parents(const char *path, uf_error *err)
{
    char *copy = strdup(path);
    if (!copy)
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
            uf_error_errno(err, errno, "mkdir %s", copy);
            free(copy);
            return false;
        }
        *p = '/';
    }
    free(copy);
    return true;
}

