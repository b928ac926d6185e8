/*
 * run.c - one shell command with a time limit and a bounded output tail (see run.h).
 *
 * The agent installs no signal handlers, so the end of the command is seen through a pidfd
 * that poll() watches next to the output pipe (or, where the kernel has no pidfd, by polling
 * in short slices). The child is only peeked at (waitid WNOWAIT) until everything is over:
 * while it is an unreaped zombie its pid, and so the process group id, cannot be reused, so
 * the SIGKILL that sweeps the group after a timeout can never hit a stranger.
 */
#include "agent/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Without a pidfd, how often to look whether the command has exited. */
#define POLL_SLICE_MS 20
/* Output read per wake-up, so a chatty command cannot keep us from the clock. */
#define READ_PER_WAKE (256 * 1024)
/* Output read after the command has exited: what its pipe can still hold, at most. */
#define DRAIN_MAX (1024 * 1024)

typedef struct child {
    pid_t pid;   /* also its process group id */
    int out;     /* read end of the output pipe (non-blocking); -1 once at EOF */
    int pidfd;   /* readable once the child has exited; -1 if the kernel has none */
    bool exited; /* exited, but not reaped yet */
    size_t tail_len;
    bool tail_cut; /* output was dropped from the front of the tail */
} child;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- the environment: the agent's, with the extra variables added or replaced ---- */

static bool same_key(const char *a, const char *b)
{
    size_t n = strcspn(b, "=");
    return strncmp(a, b, n) == 0 && a[n] == '=';
}

static bool overridden(const char *var, const char *const *env)
{
    for (size_t i = 0; env && env[i]; i++)
        if (same_key(var, env[i]))
            return true;
    return false;
}

static bool check_env(const char *const *env, uf_error *err)
{
    for (size_t i = 0; env && env[i]; i++)
        if (env[i][0] == '=' || !strchr(env[i], '='))
            return uf_error_set(err, UF_E_INVALID, "environment entry '%s': expected KEY=VALUE",
                                env[i]);
    return true;
}

/* A NULL-terminated array pointing into environ and env (nothing is copied); free() it. */
static char **make_envp(const char *const *env, uf_error *err)
{
    size_t n = 0, m = 0;
    while (environ && environ[n])
        n++;
    while (env && env[m])
        m++;
    char **envp = calloc(n + m + 1, sizeof *envp);
    if (!envp) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!overridden(environ[i], env))
            envp[k++] = environ[i];
    for (size_t i = 0; i < m; i++)
        envp[k++] = (char *)(uintptr_t)env[i];
    return envp;
}

/* ---- the child side: only async-signal-safe calls between fork and exec ---- */

static void close_from(int first, int max_fd)
{
    if (close_range((unsigned)first, ~0U, 0) == 0)
        return;
    for (int fd = first; fd < max_fd; fd++)
        close(fd);
}

static _Noreturn void exec_child(char *const argv[], char *const envp[], int out, int null_fd,
                                 int max_fd)
{
    setpgid(0, 0);
    /* Dispositions set to SIG_IGN and the blocked mask survive exec: undo the agent's. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Move both above 2 first, in case the agent runs with a standard fd closed. */
    out = fcntl(out, F_DUPFD, 3);
    null_fd = fcntl(null_fd, F_DUPFD, 3);
    if (out < 0 || null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(127);
    close_from(3, max_fd);
    execve("/bin/sh", argv, envp);
    _exit(127);
}

/* ---- the parent side ---- */

static int max_open_fds(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > 65536)
        return 65536;
    return (int)rl.rlim_cur;
}

/* Starting is the one failure uf_run reports, always as UF_E_IO whatever the errno. */
static bool io_failure(uf_error *err, int errnum, const char *what)
{
    return uf_error_set(err, UF_E_IO, "%s: %s", what, strerror(errnum));
}

static bool start(const char *command, char *const envp[], child *c, uf_error *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return io_failure(err, errno, "output pipe");
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return io_failure(err, e, "/dev/null");
    }
    char sh[] = "sh", dash_c[] = "-c";
    char *const argv[] = {sh, dash_c, (char *)(uintptr_t)command, NULL};
    int max_fd = max_open_fds();
    c->pid = fork();
    if (c->pid == 0)
        exec_child(argv, envp, fds[1], null_fd, max_fd);
    int fork_errno = errno;
    close(fds[1]);
    close(null_fd);
    if (c->pid < 0) {
        close(fds[0]);
        return io_failure(err, fork_errno, "fork");
    }
    /* Also here, so the group exists before we might signal it (the child may not have
     * run yet); whichever of the two calls comes second fails harmlessly. */
    setpgid(c->pid, c->pid);
    c->out = fds[0];
    fcntl(c->out, F_SETFL, fcntl(c->out, F_GETFL) | O_NONBLOCK);
    c->pidfd = pidfd_open(c->pid, 0);
    return true;
}

/* Keep the last bytes of the output in res->tail, NUL bytes as '?'. */
static void tail_append(child *c, uf_run_result *res, const char *data, size_t n)
{
    const size_t cap = sizeof res->tail - 1;
    if (n >= cap) {
        c->tail_cut = c->tail_cut || c->tail_len > 0 || n > cap;
        data += n - cap;
        n = cap;
        c->tail_len = 0;
    }
    size_t keep = c->tail_len + n > cap ? cap - n : c->tail_len;
    if (keep < c->tail_len) {
        memmove(res->tail, res->tail + c->tail_len - keep, keep);
        c->tail_cut = true;
    }
    memcpy(res->tail + keep, data, n);
    c->tail_len = keep + n;
    for (size_t i = keep; i < c->tail_len; i++)
        if (res->tail[i] == '\0')
            res->tail[i] = '?';
}

/* Read what the pipe holds now, up to max bytes; close it at EOF or on an error. */
static void read_output(child *c, uf_run_result *res, size_t max)
{
    char chunk[16384];
    for (size_t total = 0; c->out >= 0 && total < max;) {
        ssize_t n = read(c->out, chunk, sizeof chunk);
        if (n > 0) {
            tail_append(c, res, chunk, (size_t)n);
            total += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {
            close_fd(&c->out);
        }
    }
}

static void peek_exit(child *c)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (!c->exited && waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == c->pid)
        c->exited = true;
}

/* Wait until the child has exited (and, if want_eof, its output has closed) or deadline. */
static void wait_until(child *c, uf_run_result *res, int64_t deadline, bool want_eof)
{
    for (;;) {
        peek_exit(c);
        if (c->exited && (!want_eof || c->out < 0))
            return;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return;
        if (c->pidfd < 0 && left > POLL_SLICE_MS)
            left = POLL_SLICE_MS;
        struct pollfd pfd[2];
        nfds_t n = 0;
        if (c->out >= 0)
            pfd[n++] = (struct pollfd){.fd = c->out, .events = POLLIN};
        if (c->pidfd >= 0 && !c->exited)
            pfd[n++] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
        if (poll(pfd, n, left > INT_MAX ? INT_MAX : (int)left) > 0 && c->out >= 0 &&
            pfd[0].revents)
            read_output(c, res, READ_PER_WAKE);
    }
}

/* SIGTERM to the group; after the grace (or once the command is gone), SIGKILL to sweep
 * whatever is left in it, and wait for the command itself to die. */
static void kill_group(child *c, uf_run_result *res)
{
    res->timed_out = true;
    kill(-c->pid, SIGTERM);
    wait_until(c, res, now_ms() + UF_RUN_KILL_GRACE_MS, true);
    kill(-c->pid, SIGKILL);
    if (!c->exited) {
        siginfo_t si;
        while (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR)
            ;
        c->exited = true;
    }
}

static void reap(const child *c, uf_run_result *res)
{
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && !res->timed_out) {
        res->exit_code = WEXITSTATUS(status);
    } else {
        res->exit_code = -1;
        res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
}

/* A tail that was cut may start inside a UTF-8 character: drop its continuation bytes. */
static void finish_tail(const child *c, uf_run_result *res)
{
    size_t skip = 0;
    while (c->tail_cut && skip < 3 && skip < c->tail_len &&
           ((unsigned char)res->tail[skip] & 0xC0) == 0x80)
        skip++;
    memmove(res->tail, res->tail + skip, c->tail_len - skip);
    res->tail[c->tail_len - skip] = '\0';
}

bool uf_run(const char *command, const char *const *env, int64_t timeout_ms, uf_run_result *res,
            uf_error *err)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    if (!command || !*command || timeout_ms <= 0)
        return uf_error_set(err, UF_E_INVALID, "run: need a command and a timeout > 0 ms");
    int64_t started = now_ms();
    char **envp = check_env(env, err) ? make_envp(env, err) : NULL;
    if (!envp)
        return uf_error_prefix(err, "run '%s'", command);
    child c = {.pid = -1, .out = -1, .pidfd = -1};
    bool ok = start(command, envp, &c, err);
    free(envp);
    if (!ok)
        return uf_error_prefix(err, "run '%s'", command);
    wait_until(&c, res, started + timeout_ms, false);
    if (!c.exited)
        kill_group(&c, res);
    read_output(&c, res, DRAIN_MAX);
    reap(&c, res);
    close_fd(&c.out);
    close_fd(&c.pidfd);
    finish_tail(&c, res);
    res->elapsed_ms = now_ms() - started;
    return true;
}
