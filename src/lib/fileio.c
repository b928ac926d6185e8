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

bool uf_file_writer_open(uf_file_writer *w, const char *path, const uf_file_observer *obs,
                         uf_error *err)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->obs = obs;
    w->path = strdup(path);
    w->tmp = malloc(strlen(path) + 16);
    if (!w->path || !w->tmp) {
        uf_file_writer_abort(w);
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    }
    sprintf(w->tmp, "%s.tmp.XXXXXX", path);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        uf_error_errno(err, errno, "create %s", w->tmp);
        w->tmp[0] = '\0';
        uf_file_writer_abort(w);
        return false;
    }
    return true;
}

bool uf_file_writer_write(uf_file_writer *w, const void *data, size_t len, uf_error *err)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = write(w->fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return uf_error_errno(err, errno, "write %s", w->tmp);
        done += (size_t)n;
    }
    return true;
}

void uf_file_writer_abort(uf_file_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp && w->tmp[0])
        unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}

bool uf_file_writer_commit(uf_file_writer *w, uf_error *err)
{
    bool ok = false;
    observe(w->obs, "fsync.before");
    if (fchmod(w->fd, 0644) != 0 || fsync(w->fd) != 0) {
        uf_error_errno(err, errno, "fsync %s", w->tmp);
        goto fail;
    }
    observe(w->obs, "fsync.after");
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0) {
        uf_error_errno(err, errno, "close %s", w->tmp);
        goto fail;
    }
    observe(w->obs, "rename.before");
    if (rename(w->tmp, w->path) != 0) {
        uf_error_errno(err, errno, "rename %s to %s", w->tmp, w->path);
        goto fail;
    }
    w->tmp[0] = '\0'; /* renamed: nothing to unlink any more */
    observe(w->obs, "rename.after");
    observe(w->obs, "dirsync.before");
    int dfd = open(dirname(w->path), O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || fsync(dfd) != 0)
        uf_error_errno(err, errno, "fsync the directory of the new file");
    else
        ok = true;
    if (dfd >= 0)
        close(dfd);
    if (ok)
        observe(w->obs, "dirsync.after");
fail:
    uf_file_writer_abort(w);
    return ok;
}

bool uf_file_write_atomic(const char *path, const void *data, size_t len, uf_error *err)
{
    return uf_file_write_atomic_observed(path, data, len, NULL, err);
}

bool uf_file_write_atomic_observed(const char *path, const void *data, size_t len,
                                   const uf_file_observer *obs, uf_error *err)
{
    uf_file_writer w;
    if (!uf_file_writer_open(&w, path, obs, err))
        return false;
    observe(obs, "write.before");
    if (!uf_file_writer_write(&w, data, len, err)) {
        uf_file_writer_abort(&w);
        return false;
    }
    observe(obs, "write.after");
    return uf_file_writer_commit(&w, err);
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

