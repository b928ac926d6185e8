/*
 * run.h - run one shell command the way an update agent runs pre-/post-install scripts and
 * health checks: bounded in time, bounded in memory, and leaving nothing behind on timeout.
 *
 * The command runs as `/bin/sh -c COMMAND` in a process group of its own, with stdin from
 * /dev/null, stdout and stderr into one pipe of which only the last bytes are kept, the
 * agent's environment plus the given extra variables, default signal dispositions, and no
 * file descriptor of the agent's other than those three. When the time runs out the whole
 * group gets SIGTERM, and SIGKILL once the command has exited and closed its output or
 * UF_RUN_KILL_GRACE_MS have passed, whichever is first, so background children
 * (`sleep 100 &`) and commands that ignore SIGTERM die too. A command that finishes in time
 * is not waited for beyond its own exit: children it leaves running are neither waited for
 * nor killed, and their later output is discarded.
 */
#ifndef UPFLOW_AGENT_RUN_H
#define UPFLOW_AGENT_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

/* Time between SIGTERM and SIGKILL when a command runs out of time. */
#define UF_RUN_KILL_GRACE_MS 2000
#define UF_RUN_TAIL_SIZE 4096

typedef struct uf_run_result {
    int exit_code;   /* the command's exit status; -1 when it died by a signal or timed out */
    int signal;      /* the signal that ended it, 0 otherwise */
    bool timed_out;  /* killed because the time ran out (never counts as success) */
    char tail[UF_RUN_TAIL_SIZE]; /* the last bytes of its combined stdout+stderr, NUL-terminated;
                                    a NUL in the output is kept as '?', and a tail that was cut
                                    starts at a UTF-8 character boundary */
    int64_t elapsed_ms;          /* from start to the command's end (and its group's, on timeout) */
} uf_run_result;

/*
 * Run `command` with the extra environment `env` (a NULL-terminated list of "KEY=VALUE", may
 * be NULL; a KEY the agent has already is replaced) for at most timeout_ms (> 0), plus the
 * kill grace on timeout. res is always filled. Returns false only when the command could not
 * be started: a pipe, /dev/null or fork failure is UF_E_IO, an env entry without '=', an
 * empty command or a timeout <= 0 is UF_E_INVALID. A command that fails, cannot be found
 * (exit 127), is killed or times out is `true`: read res.
 */
bool uf_run(const char *command, const char *const *env, int64_t timeout_ms, uf_run_result *res,
            uf_error *err);

#endif
