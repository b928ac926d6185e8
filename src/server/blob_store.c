/*
 * blob_store.c - content-addressed files under the data directory (see blob_store.h).
 */
#include "server/blob_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

void blob_store_path(const char *data_dir, const char *area, const char *sha256, char *out,
                     size_t len)
{
    snprintf(out, len, "%s/%s/%.2s/%s", data_dir, area, sha256, sha256);
}

static bool make_dir(const char *path, uf_error *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return uf_error_errno(err, errno, "create %s", path);
    return true;
}

bool blob_store_put(const char *data_dir, const char *area, const char *sha256, char *tmp_path,
                    uf_error *err)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/%s", data_dir, area);
    if (!make_dir(dir, err))
        return false;
    snprintf(dir, sizeof dir, "%s/%s/%.2s", data_dir, area, sha256);
    if (!make_dir(dir, err))
        return false;
    blob_store_path(data_dir, area, sha256, path, sizeof path);
    if (access(path, F_OK) == 0)
        return true; /* same bytes already stored */
    if (rename(tmp_path, path) != 0)
        return uf_error_errno(err, errno, "store %s/%s", area, sha256);
    tmp_path[0] = '\0';
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd); /* the rename itself must survive a power cut */
        close(dfd);
    }
    return true;
}
