/*
 * slot.c - A/B slots on block devices or files (see slot.h).
 */
#include "agent/slot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/hash.h"

bool agent_slot_open(uf_slot id, const char *path, uint64_t configured_size, bool writable,
                     uf_fault *fault, agent_slot *out, uf_error *err)
{
    memset(out, 0, sizeof *out);
    out->id = id;
    out->path = path;
    out->fault = fault;
    out->fd = open(path, (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0600);
    if (out->fd < 0)
        return uf_error_errno(err, errno, "slot %s (%s)", uf_slot_name(id), path);
    struct stat st;
    uint64_t size = 0;
    if (fstat(out->fd, &st) != 0) {
        uf_error_errno(err, errno, "slot %s (%s)", uf_slot_name(id), path);
        agent_slot_close(out);
        return false;
    }
    if (S_ISBLK(st.st_mode) && ioctl(out->fd, BLKGETSIZE64, &size) != 0) {
        uf_error_errno(err, errno, "slot %s (%s): size of the block device", uf_slot_name(id),
                       path);
        agent_slot_close(out);
        return false;
    }
    if (S_ISREG(st.st_mode))
        size = (uint64_t)st.st_size;
    out->capacity = configured_size && (S_ISREG(st.st_mode) || configured_size < size)
                        ? configured_size
                        : size;
    return true;
}

void agent_slot_close(agent_slot *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

bool agent_slot_write(agent_slot *s, const void *data, size_t len, uint64_t offset,
                      uf_error *err)
{
    if (offset + len > s->capacity)
        return uf_error_set(err, UF_E_NO_SPACE, "slot %s holds %llu bytes; writing up to %llu",
                            uf_slot_name(s->id), (unsigned long long)s->capacity,
                            (unsigned long long)(offset + len));
    uf_fault_point(s->fault, "slot.write.before");
    const char *p = data;
    while (len > 0) {
        ssize_t w = pwrite(s->fd, p, len, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return uf_error_errno(err, w < 0 ? errno : EIO, "write slot %s at %llu",
                                  uf_slot_name(s->id), (unsigned long long)offset);
        p += w;
        len -= (size_t)w;
        offset += (uint64_t)w;
    }
    uf_fault_point(s->fault, "slot.write.after");
    return true;
}

bool agent_slot_read(agent_slot *s, void *data, size_t len, uint64_t offset, uf_error *err)
{
    char *p = data;
    while (len > 0) {
        ssize_t r = pread(s->fd, p, len, (off_t)offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? uf_error_set(err, UF_E_IO, "slot %s ends before %llu",
                                         uf_slot_name(s->id), (unsigned long long)offset)
                          : uf_error_errno(err, errno, "read slot %s at %llu",
                                           uf_slot_name(s->id), (unsigned long long)offset);
        p += r;
        len -= (size_t)r;
        offset += (uint64_t)r;
    }
    return true;
}

bool agent_slot_sync(agent_slot *s, uf_error *err)
{
    uf_fault_point(s->fault, "slot.fsync.before");
    if (fdatasync(s->fd) != 0)
        return uf_error_errno(err, errno, "sync slot %s", uf_slot_name(s->id));
    uf_fault_point(s->fault, "slot.fsync.after");
    return true;
}

bool agent_slot_sha256(agent_slot *s, uint64_t len, uint8_t out[32], uf_error *err)
{
    enum { BLOCK = 1 << 20 };
    uf_hash *h = uf_hash_new(UF_HASH_SHA256, err);
    char *buf = h ? malloc(BLOCK) : NULL;
    bool ok = h && buf;
    if (h && !buf)
        uf_error_set(err, UF_E_NOMEM, "read buffer");
    for (uint64_t off = 0; ok && off < len;) {
        size_t n = len - off < BLOCK ? (size_t)(len - off) : BLOCK;
        ok = agent_slot_read(s, buf, n, off, err) && uf_hash_update(h, buf, n, err);
        off += n;
    }
    uint8_t digest[UF_HASH_MAX_SIZE];
    ok = ok && uf_hash_final(h, digest, err);
    if (ok)
        memcpy(out, digest, 32);
    free(buf);
    uf_hash_free(h);
    return ok;
}
