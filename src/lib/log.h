/*
 * log.h - one line per event, easy to grep and to hand to journald.
 *
 *     2026-11-25T13:47:51.123Z info  http: GET /healthz 200 0.2ms
 *
 * Under systemd (stderr is the journal stream named by $JOURNAL_STREAM) the line is instead
 * "<6>http: GET /healthz 200 0.2ms": journald adds the time and maps <N> to the priority.
 * Control characters in a message are escaped, so one event is always exactly one line, and
 * each line is written with a single write(2), so threads never interleave within a line.
 *
 * A uf_log is a small value owned by main() and passed down; there is no global logger.
 */
#ifndef UPFLOW_LOG_H
#define UPFLOW_LOG_H

#include <stdbool.h>

typedef enum { UF_LOG_ERROR, UF_LOG_WARN, UF_LOG_INFO, UF_LOG_DEBUG } uf_log_level;
typedef enum { UF_LOG_TEXT, UF_LOG_JOURNAL } uf_log_format;

typedef struct uf_log {
    int fd;             /* where lines go; -1 drops everything */
    uf_log_level level; /* events above this level are dropped */
    uf_log_format format;
} uf_log;

#define UF_LOG_LINE_MAX 4096

/* Log to fd at level; the format is UF_LOG_JOURNAL when fd is the journal stream named by
 * $JOURNAL_STREAM, else UF_LOG_TEXT. */
uf_log uf_log_open(int fd, uf_log_level level);
/* "error", "warn", "info", "debug" */
const char *uf_log_level_name(uf_log_level level);
bool uf_log_level_from_name(const char *name, uf_log_level *out);
bool uf_log_enabled(const uf_log *log, uf_log_level level);

void uf_log_write(const uf_log *log, uf_log_level level, const char *module, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

#define uf_log_error(log, module, ...) uf_log_write((log), UF_LOG_ERROR, (module), __VA_ARGS__)
#define uf_log_warn(log, module, ...) uf_log_write((log), UF_LOG_WARN, (module), __VA_ARGS__)
#define uf_log_info(log, module, ...) uf_log_write((log), UF_LOG_INFO, (module), __VA_ARGS__)
#define uf_log_debug(log, module, ...) uf_log_write((log), UF_LOG_DEBUG, (module), __VA_ARGS__)

#endif
