/*
 * outbox.c - events on their way to the server (see outbox.h).
 */
#include "agent/outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/json.h"

#define READ_MAX (4u << 20) /* pending bytes read at once; the rest waits for the next flush */

void outbox_init(outbox *o, const char *data_dir, const uf_log *log)
{
    memset(o, 0, sizeof *o);
    snprintf(o->events_path, sizeof o->events_path, "%s/events.jsonl", data_dir);
    snprintf(o->sent_path, sizeof o->sent_path, "%s/events.sent", data_dir);
    o->log = log;
}

void outbox_resume(outbox *o)
{
    o->paused = false;
}

bool outbox_append(outbox *o, const json_t *event, uf_error *err)
{
    char *line = json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS);
    if (!line)
        return uf_error_set(err, UF_E_NOMEM, "event");
    size_t n = strlen(line);
    line[n] = '\n'; /* json_dumps leaves room for the NUL, which becomes the newline */
    int fd = open(o->events_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, line, n + 1) == (ssize_t)(n + 1);
    int saved = errno;
    if (fd >= 0)
        close(fd);
    free(line);
    return ok || uf_error_errno(err, saved, "append to %s", o->events_path);
}

static uint64_t load_offset(const outbox *o)
{
    uf_buf b = UF_BUF_INIT;
    uint64_t off = 0;
    if (uf_file_read_capped(o->sent_path, 64, &b, NULL) && uf_buf_append_char(&b, 0, NULL))
        off = strtoull((const char *)b.data, NULL, 10);
    uf_buf_free(&b);
    return off;
}

static bool save_offset(const outbox *o, uint64_t off, uf_error *err)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%" PRIu64 "\n", off);
    return uf_file_write_atomic(o->sent_path, text, (size_t)n, err);
}

/* The bytes of events.jsonl from *off on (at most READ_MAX); *off is reset to 0 when the file
 * is shorter than it (replaced by a new one). */
static bool read_pending(const outbox *o, uint64_t *off, uf_buf *out, uf_error *err)
{
    int fd = open(o->events_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || uf_error_errno(err, errno, "open %s", o->events_path);
    struct stat st;
    bool ok = fstat(fd, &st) == 0;
    if (ok && *off > (uint64_t)st.st_size)
        *off = 0;
    uint64_t want = ok ? (uint64_t)st.st_size - *off : 0;
    if (want > READ_MAX)
        want = READ_MAX;
    while (ok && out->len < want) {
        char chunk[65536];
        size_t n = want - out->len < sizeof chunk ? want - out->len : sizeof chunk;
        ssize_t got = pread(fd, chunk, n, (off_t)(*off + out->len));
        if (got <= 0)
            break;
        ok = uf_buf_append(out, chunk, (size_t)got, err);
    }
    int saved = errno;
    close(fd);
    return ok || uf_error_errno(err, saved, "read %s", o->events_path);
}

/* Deliver one line; *done when it is settled (sent, refused for good, or not for the
 * server). */
static bool deliver_line(outbox *o, const char *line, size_t len, outbox_send_fn send,
                         void *ctx, bool *sent, uf_error *err)
{
    uf_json_limits lim = uf_json_default_limits();
    uf_error bad;
    json_t *ev = uf_json_parse(line, len, &lim, &bad);
    const json_t *action = json_object_get(ev, "action");
    bool accepted = false, ok = true;
    *sent = false;
    if (!ev)
        uf_log_warn(o->log, "outbox", "%s: skipping a line that is not JSON: %s",
                    o->events_path, bad.msg);
    else if (json_is_integer(action))
        ok = send(ctx, json_integer_value(action), ev, &accepted, err);
    *sent = ok && accepted;
    json_decref(ev);
    return ok;
}

bool outbox_flush(outbox *o, outbox_send_fn send, void *ctx, size_t *delivered, uf_error *err)
{
    if (delivered)
        *delivered = 0;
    if (o->paused)
        return true;
    uint64_t off = load_offset(o);
    uf_buf pending = UF_BUF_INIT;
    bool ok = read_pending(o, &off, &pending, err);
    size_t pos = 0, saved = 0;
    while (ok && pos < pending.len) {
        const char *start = (const char *)pending.data + pos;
        const char *nl = memchr(start, '\n', pending.len - pos);
        if (!nl)
            break; /* nothing more, or a line still being written */
        size_t len = (size_t)(nl - start);
        bool sent = false;
        ok = deliver_line(o, start, len, send, ctx, &sent, err);
        if (!ok)
            break;
        pos += len + 1;
        if (sent) { /* a delivered line is remembered at once: it must not go twice */
            ok = save_offset(o, off + pos, err);
            saved = pos;
            if (delivered)
                (*delivered)++;
        }
    }
    uf_error ignored;
    if (pos > saved && !save_offset(o, off + pos, ok ? err : &ignored))
        ok = false; /* lines skipped after the last delivered one */
    uf_buf_free(&pending);
    if (!ok)
        o->paused = true;
    return ok;
}
