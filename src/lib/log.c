/*
 * log.c - line-per-event logging to a file descriptor (see log.h).
 */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* syslog priorities for the journal prefix: err, warning, info, debug */
static const int level_priority[] = {3, 4, 6, 7};

const char *uf_log_level_name(uf_log_level level)
{
    return (unsigned)level <= UF_LOG_DEBUG ? level_names[level] : "unknown";
}

bool uf_log_level_from_name(const char *name, uf_log_level *out)
{
    for (unsigned i = 0; i <= UF_LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (uf_log_level)i;
            return true;
        }
    }
    return false;
}

/* $JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected; compare with fd's. */
static bool is_journal_stream(int fd)
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js || fd < 0)
        return false;
    unsigned long long dev, ino;
    if (sscanf(js, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

uf_log uf_log_open(int fd, uf_log_level level)
{
    return (uf_log){
        .fd = fd,
        .level = level,
        .format = is_journal_stream(fd) ? UF_LOG_JOURNAL : UF_LOG_TEXT,
    };
}

bool uf_log_enabled(const uf_log *log, uf_log_level level)
{
    return log && log->fd >= 0 && level <= log->level;
}

static size_t format_prefix(const uf_log *log, uf_log_level level, const char *module,
                            char *line, size_t cap)
{
    int n;
    if (log->format == UF_LOG_JOURNAL) {
        n = snprintf(line, cap, "<%d>%s: ", level_priority[level], module);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], module);
    }
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Copy msg into line at pos, escaping control characters, leaving room for "\n". */
static size_t append_escaped(char *line, size_t pos, size_t cap, const char *msg)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        size_t need = *p < 0x20 || *p == 0x7f ? 4 : 1;
        if (pos + need + 1 >= cap)
            break;
        if (need == 1) {
            line[pos++] = (char)*p;
        } else if (*p == '\n' || *p == '\t' || *p == '\r') {
            line[pos++] = '\\';
            line[pos++] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
        } else {
            line[pos++] = '\\';
            line[pos++] = 'x';
            line[pos++] = hex[*p >> 4];
            line[pos++] = hex[*p & 15];
        }
    }
    return pos;
}

void uf_log_write(const uf_log *log, uf_log_level level, const char *module, const char *fmt,
                  ...)
{
    if (!uf_log_enabled(log, level))
        return;
    int saved_errno = errno; /* logging must not disturb the caller's errno */
    char msg[UF_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    char line[UF_LOG_LINE_MAX + 128];
    size_t pos = format_prefix(log, level, module ? module : "-", line, sizeof line);
    pos = append_escaped(line, pos, sizeof line, msg);
    line[pos++] = '\n';
    for (size_t off = 0; off < pos;) {
        ssize_t w = write(log->fd, line + off, pos - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nowhere left to report a failing log */
        off += (size_t)w;
    }
    errno = saved_errno;
}
