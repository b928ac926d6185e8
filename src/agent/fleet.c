/*
 * fleet.c - many simulated devices in one process (see fleet.h).
 */
#include "agent/fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/boot_sim.h"
#include "agent/daemon.h"

#define FACTORY_BYTES (64u << 10) /* the factory image at the start of slot A */
#define HEALTH_FAIL "echo 'pump controller self-test failed'; exit 1"
#define MAX_ERRORS 5

typedef struct sim_device {
    unsigned index;
    agent_config cfg;
    agent a;
    agent_daemon d;
    bool open, dead;
    int64_t next_poll_ms;
    char error[256];
} sim_device;

typedef struct fleet fleet;

typedef struct worker {
    fleet *f;
    unsigned first; /* devices first, first + threads, ... */
    pthread_t thread;
    _Atomic int64_t last_active_ms;
} worker;

struct fleet {
    const fleet_options *opt;
    sim_device *dev;
    worker *workers;
    atomic_bool stop;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- one device's files and configuration -------------------------------------------- */

#define FLEET_MAX_HARDWARE 16

/* The hardware of device i: the mix's weights interleaved over the fleet by smooth weighted
 * round robin, so every stretch of consecutive devices holds each revision in its share (as
 * a fleet enrolled over time would) and the whole fleet holds exactly its shares. */
static void pick_hardware(const fleet_options *opt, unsigned i, char *out, size_t len)
{
    char mix[256], *save = NULL, *names[FLEET_MAX_HARDWARE];
    long weight[FLEET_MAX_HARDWARE], current[FLEET_MAX_HARDWARE] = {0}, total = 0;
    size_t n = 0;
    snprintf(mix, sizeof mix, "%s", opt->hardware_mix ? opt->hardware_mix : "rev2:1");
    for (char *e = strtok_r(mix, ",", &save); e && n < FLEET_MAX_HARDWARE;
         e = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(e, ':');
        weight[n] = colon ? strtol(colon + 1, NULL, 10) : 1;
        if (colon)
            *colon = '\0';
        names[n] = e;
        total += weight[n] > 0 ? weight[n] : 0;
        n++;
    }
    size_t pick = 0;
    for (unsigned k = 0; k <= i && total > 0; k++) {
        pick = 0;
        for (size_t h = 0; h < n; h++) {
            current[h] += weight[h] > 0 ? weight[h] : 0;
            if (current[h] > current[pick])
                pick = h;
        }
        current[pick] -= total;
    }
    snprintf(out, len, "%s", n ? names[pick] : "rev2");
}

static bool listed(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        size_t m = strcspn(p, ",");
        if (m == n && strncmp(p, word, n) == 0)
            return true;
        p += m + (p[m] == ',');
    }
    return false;
}

static bool set(agent_config *c, const char *section, const char *key, const char *value,
                uf_error *err)
{
    return agent_config_set(c, section, key, value, err);
}

static bool configure(const fleet_options *opt, sim_device *dev, const char *root,
                      uf_error *err)
{
    agent_config *c = &dev->cfg;
    char v[AGENT_STR_MAX + 64], hw[64];
    agent_config_defaults(c);
    pick_hardware(opt, dev->index, hw, sizeof hw);
    snprintf(v, sizeof v, "%s-%04u", opt->id_prefix ? opt->id_prefix : "sim", dev->index + 1);
    bool ok = set(c, "device", "id", v, err) && set(c, "device", "hardware", hw, err) &&
              set(c, "device", "tenant", opt->tenant ? opt->tenant : "default", err) &&
              set(c, "device", "version", opt->factory_version ? opt->factory_version : "1.0.0",
                  err) &&
              set(c, "repository", "url", opt->repo_url, err) &&
              set(c, "repository", "root", opt->root_file, err) &&
              set(c, "server", "url", opt->server_url, err) &&
              set(c, "server", "attributes", opt->attributes ? opt->attributes : "", err) &&
              set(c, "bootloader", "backend", "sim", err) &&
              set(c, "health", "command", listed(opt->fail_hardware, hw) ? HEALTH_FAIL : "true",
                  err) &&
              set(c, "retry", "backoff", "0", err) && set(c, "retry", "attempts", "3", err);
    snprintf(v, sizeof v, "%s/data", root);
    ok = ok && set(c, "device", "data_dir", v, err);
    snprintf(v, sizeof v, "%s/boot.env", root);
    ok = ok && set(c, "bootloader", "path", v, err);
    snprintf(v, sizeof v, "%s/slot-a.img", root);
    ok = ok && set(c, "slots", "A", v, err);
    snprintf(v, sizeof v, "%s/slot-b.img", root);
    ok = ok && set(c, "slots", "B", v, err);
    snprintf(v, sizeof v, "%llu", (unsigned long long)(opt->slot_size ? opt->slot_size
                                                                        : 512u << 10));
    ok = ok && set(c, "slots", "size", v, err);
    snprintf(v, sizeof v, "%lld", (long long)(opt->monitoring_time_s ? opt->monitoring_time_s
                                                                       : 10));
    return ok && set(c, "health", "monitoring_time", v, err);
}

/* A slot file of the configured size; slot A starts with the factory image (deterministic
 * bytes, the same on every device). An existing file is kept: a rerun continues. */
static bool make_slot(const char *path, uint64_t size, bool factory, uf_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST || uf_error_errno(err, errno, "create %s", path);
    bool ok = true;
    if (factory) {
        static const size_t n = FACTORY_BYTES;
        uint8_t *img = malloc(n);
        uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64 */
        for (size_t i = 0; img && i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            img[i] = (uint8_t)x;
        }
        ok = img && write(fd, img, n) == (ssize_t)n;
        free(img);
    }
    ok = ok && ftruncate(fd, (off_t)size) == 0;
    int saved = errno;
    close(fd);
    return ok || uf_error_errno(err, saved ? saved : ENOMEM, "write %s", path);
}

/* Files, configuration, an open agent, a provisioned and powered-on boot environment. */
static bool device_setup(const fleet_options *opt, sim_device *dev, uf_error *err)
{
    char root[AGENT_STR_MAX];
    snprintf(root, sizeof root, "%s/dev%u", opt->dir, dev->index + 1);
    if (mkdir(root, 0700) != 0 && errno != EEXIST)
        return uf_error_errno(err, errno, "create %s", root);
    if (!configure(opt, dev, root, err) ||
        !make_slot(dev->cfg.slot_path[0], dev->cfg.slot_size, true, err) ||
        !make_slot(dev->cfg.slot_path[1], dev->cfg.slot_size, false, err))
        return false;
    uf_boot_state st;
    uf_slot booted;
    uf_error ignored;
    if (!agent_open(&dev->a, &dev->cfg, NULL, opt->log, err))
        return false;
    if (!uf_boot_read(&dev->a.boot, &st, &ignored) &&
        (!uf_boot_commit(&dev->a.boot, UF_SLOT_A, err) ||
         !uf_boot_sim_reboot(dev->cfg.boot_path, &booted, err))) {
        agent_close(&dev->a);
        return false;
    }
    agent_close(&dev->a);
    return true;
}

/* ---- one device's life ---------------------------------------------------------------- */

/* Power on: open the agent, register the first time, start the daemon (agent_resume). */
static bool device_boot(const fleet_options *opt, sim_device *dev, daemon_step *step,
                        uf_error *err)
{
    char token[AGENT_STR_MAX + 32];
    server_link_token_path(&dev->cfg, token, sizeof token);
    if (!agent_open(&dev->a, &dev->cfg, NULL, opt->log, err))
        return false;
    bool ok = access(token, F_OK) == 0 ||
              agent_daemon_register_token(&dev->a, opt->gateway_token, err);
    ok = ok && agent_daemon_open(&dev->d, &dev->a, opt->log, err);
    if (!ok) {
        agent_close(&dev->a);
        return false;
    }
    dev->open = true;
    return agent_daemon_start(&dev->d, step, err);
}

static void device_shutdown(sim_device *dev)
{
    if (!dev->open)
        return;
    agent_daemon_close(&dev->d);
    agent_close(&dev->a);
    dev->open = false;
}

static void device_fail(sim_device *dev, const uf_error *err)
{
    snprintf(dev->error, sizeof dev->error, "%s: %s", dev->cfg.device_id, err->msg);
    dev->dead = true;
    device_shutdown(dev);
}

/* One turn of one device; true when it had something to do. */
static bool device_tick(const fleet_options *opt, sim_device *dev, int64_t now)
{
    daemon_step step = {0};
    uf_error err;
    if (dev->dead || (dev->open && now < dev->next_poll_ms))
        return false;
    if (!dev->open) {
        if (!device_boot(opt, dev, &step, &err)) {
            device_fail(dev, &err);
            return true;
        }
        step.busy = true;
    } else if (!agent_daemon_cycle(&dev->d, &step, &err)) {
        uf_log_warn(opt->log, "fleet", "%s: %s", dev->cfg.device_id, err.msg);
    }
    int64_t wait = step.poll_interval_s < opt->poll_interval_s ? step.poll_interval_s
                                                              : opt->poll_interval_s;
    dev->next_poll_ms = now + (wait > 0 ? wait : 1) * 1000;
    if (step.next == AGENT_REBOOT) { /* the power cycle; the next turn boots it */
        uf_slot booted;
        device_shutdown(dev);
        if (!uf_boot_sim_reboot(dev->cfg.boot_path, &booted, &err))
            device_fail(dev, &err);
        dev->next_poll_ms = now;
    }
    return step.busy;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    fleet *f = w->f;
    const fleet_options *opt = f->opt;
    while (!atomic_load(&f->stop)) {
        bool busy = false;
        for (unsigned i = w->first; i < opt->devices && !atomic_load(&f->stop); i += opt->threads)
            if (device_tick(opt, &f->dev[i], now_ms()))
                busy = true;
        if (busy)
            atomic_store(&w->last_active_ms, now_ms());
        else
            usleep(20000);
    }
    for (unsigned i = w->first; i < opt->devices; i += opt->threads)
        device_shutdown(&f->dev[i]);
    return NULL;
}

/* ---- the summary ---------------------------------------------------------------------- */

static const char *final_state(sim_device *dev)
{
    uf_journal j;
    char path[AGENT_STR_MAX + 32];
    if (dev->dead)
        return "error";
    snprintf(path, sizeof path, "%s/journal.json", dev->cfg.data_dir);
    if (!uf_journal_load(path, &j, NULL))
        return "error";
    switch (j.step) {
    case UF_STEP_SUCCESS:
        return "updated";
    case UF_STEP_ROLLED_BACK:
        return "rolled_back";
    case UF_STEP_FAILURE:
        return "failed";
    case UF_STEP_DOWNLOADED:
        return "downloaded";
    case UF_STEP_IDLE:
        return strcmp(dev->d.rec.state, "deferred") == 0 ? "deferred" : "untouched";
    default:
        return "in_progress";
    }
}

static void count(json_t *obj, const char *state)
{
    json_t *n = json_object_get(obj, state);
    json_object_set_new(obj, state, json_integer(n ? json_integer_value(n) + 1 : 1));
}

static json_t *summary(fleet *f, double seconds)
{
    static const char *const states[] = {"updated", "rolled_back", "failed", "downloaded",
                                         "deferred", "untouched", "in_progress", "error"};
    json_t *by_state = json_object(), *by_hw = json_object(), *errors = json_array();
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        json_object_set_new(by_state, states[i], json_integer(0));
    for (unsigned i = 0; i < f->opt->devices; i++) {
        sim_device *dev = &f->dev[i];
        const char *st = final_state(dev);
        count(by_state, st);
        json_t *hw = json_object_get(by_hw, dev->cfg.hardware);
        if (!hw)
            json_object_set_new(by_hw, dev->cfg.hardware, hw = json_object());
        count(hw, st);
        if (dev->error[0] && json_array_size(errors) < MAX_ERRORS)
            json_array_append_new(errors, json_string(dev->error));
    }
    return json_pack("{s:i, s:f, s:o, s:o, s:o}", "devices", (int)f->opt->devices, "seconds",
                     seconds, "states", by_state, "by_hardware", by_hw, "errors", errors);
}

/* ---- the run -------------------------------------------------------------------------- */

static bool check_options(const fleet_options *opt, uf_error *err)
{
    if (!opt->server_url || !opt->gateway_token || !opt->repo_url || !opt->root_file ||
        !opt->dir)
        return uf_error_set(err, UF_E_INVALID, "the fleet needs a server, a gateway token, a "
                            "repository, its root and a directory");
    if (opt->devices == 0 || opt->threads == 0 || opt->poll_interval_s < 1)
        return uf_error_set(err, UF_E_INVALID, "devices, threads and the poll interval must "
                            "be positive");
    return true;
}

/* Wait until no device has had anything to do for until_idle_s, or all failed. */
static void wait_idle(fleet *f)
{
    int64_t idle_ms = (f->opt->until_idle_s ? f->opt->until_idle_s : 10) * 1000;
    for (;;) {
        usleep(100000);
        int64_t last = 0;
        for (unsigned t = 0; t < f->opt->threads; t++) {
            int64_t v = atomic_load(&f->workers[t].last_active_ms);
            last = v > last ? v : last;
        }
        if (now_ms() - last >= idle_ms)
            break;
    }
    atomic_store(&f->stop, true);
}

json_t *fleet_run(const fleet_options *opt, uf_error *err)
{
    if (!check_options(opt, err))
        return NULL;
    fleet f = {.opt = opt};
    fleet_options o = *opt;
    o.threads = opt->threads < opt->devices ? opt->threads : opt->devices;
    f.opt = &o;
    f.dev = calloc(o.devices, sizeof *f.dev);
    f.workers = calloc(o.threads, sizeof *f.workers);
    atomic_init(&f.stop, false);
    bool ok = f.dev && f.workers ? true : uf_error_set(err, UF_E_NOMEM, "fleet of %u devices",
                                                       o.devices);
    if (ok && mkdir(o.dir, 0700) != 0 && errno != EEXIST)
        ok = uf_error_errno(err, errno, "create %s", o.dir);
    for (unsigned i = 0; ok && i < o.devices; i++) {
        f.dev[i].index = i;
        ok = device_setup(&o, &f.dev[i], err);
    }
    int64_t start = now_ms();
    unsigned started = 0;
    for (unsigned t = 0; ok && t < o.threads; t++) {
        f.workers[t].f = &f;
        f.workers[t].first = t;
        atomic_init(&f.workers[t].last_active_ms, start);
        if (pthread_create(&f.workers[t].thread, NULL, worker_main, &f.workers[t]) != 0)
            ok = uf_error_set(err, UF_E_NOMEM, "cannot start thread %u", t);
        else
            started++;
    }
    if (ok)
        wait_idle(&f);
    atomic_store(&f.stop, true);
    for (unsigned t = 0; t < started; t++)
        pthread_join(f.workers[t].thread, NULL);
    json_t *out = ok ? summary(&f, (double)(now_ms() - start) / 1000.0) : NULL;
    free(f.dev);
    free(f.workers);
    return out;
}
