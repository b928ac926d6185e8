/*
 * update.c - installing a release into the inactive slot (see agent.h): pre-flight, the
 * verified chunk stream with resume and chunk reuse, the whole-slot check, arming the trial.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/installed.h"
#include "agent/run.h"
#include "agent/slot.h"
#include "lib/fileio.h"
#include "lib/image.h"
#include "lib/tuf_client.h"

#define PROGRESS_BYTES (4u << 20) /* sync the slot and save progress every 4 MiB written */
#define RANGE_MAX (8u << 20)      /* bytes of one range request at most */
#define JOURNAL_ROOM (1u << 20)   /* free space the data directory must keep */

/* ---- opening, events ---------------------------------------------------------------- */

bool agent_open(agent *a, const agent_config *cfg, uf_fault *fault, const uf_log *log,
                uf_error *err)
{
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    a->fault = fault;
    a->log = log;
    snprintf(a->journal_path, sizeof a->journal_path, "%s/journal.json", cfg->data_dir);
    snprintf(a->repo_url, sizeof a->repo_url, "%s", cfg->repo_url);
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST)
        return uf_error_errno(err, errno, "create %s", cfg->data_dir);
    uf_boot_config bc = {.backend = cfg->boot_backend, .path = cfg->boot_path,
                         .cmdline_path = cfg->cmdline_path, .fault = fault};
    if (!uf_bootloader_open(&bc, &a->boot, err))
        return false;
    a->fetch = uf_fetch_new(NULL, err);
    if (!a->fetch) {
        uf_bootloader_close(&a->boot);
        return false;
    }
    return true;
}

void agent_close(agent *a)
{
    uf_fetch_free(a->fetch);
    a->fetch = NULL;
    if (a->boot.close)
        uf_bootloader_close(&a->boot);
}

void agent_report(agent *a, uf_journal_step step, const char *version, int progress,
                  const char *reason, const char *log_tail)
{
    json_t *ev = json_pack("{s:I, s:s, s:s, s:s}", "at", (json_int_t)time(NULL), "device",
                           a->cfg->device_id, "step", uf_journal_step_name(step), "version",
                           version ? version : "");
    if (progress >= 0)
        json_object_set_new(ev, "progress", json_integer(progress));
    if (reason && *reason)
        json_object_set_new(ev, "reason", json_string(reason));
    if (log_tail && *log_tail)
        json_object_set_new(ev, "log_tail", json_string(log_tail));
    if (a->reporter.annotate)
        a->reporter.annotate(a->reporter.ctx, ev);
    char *line = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ev);
    char path[AGENT_STR_MAX + 32];
    snprintf(path, sizeof path, "%s/events.jsonl", a->cfg->data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0 && line) {
        size_t n = strlen(line);
        line[n] = '\n'; /* json_dumps leaves room for the NUL, which becomes the newline */
        if (write(fd, line, n + 1) != (ssize_t)(n + 1))
            uf_log_warn(a->log, "agent", "cannot append to %s", path);
    }
    if (fd >= 0)
        close(fd);
    free(line);
    if (a->reporter.appended)
        a->reporter.appended(a->reporter.ctx);
    uf_log_level level = step == UF_STEP_FAILURE ? UF_LOG_ERROR : UF_LOG_INFO;
    if (progress >= 0)
        uf_log_write(a->log, level, "agent", "%s %s %d%%", uf_journal_step_name(step),
                     version ? version : "", progress);
    else
        uf_log_write(a->log, level, "agent", "%s %s%s%s", uf_journal_step_name(step),
                     version ? version : "", reason && *reason ? ": " : "",
                     reason ? reason : "");
}

bool agent_journal_step(agent *a, uf_journal *j, uf_journal_step step, const char *reason,
                        uf_error *err)
{
    j->step = step;
    if (reason)
        snprintf(j->reason, sizeof j->reason, "%s", reason);
    j->updated_at = (int64_t)time(NULL);
    return uf_journal_save(a->journal_path, j, a->fault, err);
}

/* ---- pre-flight -------------------------------------------------------------------- */

typedef struct release_info {
    uf_tuf_target_info index, payload; /* borrowed from the TUF client */
    const char *version;
    uint64_t image_size;
    bool tree; /* install type "tree" (tree_update.c), else "raw" */
} release_info;

static bool open_tuf(agent *a, uf_tuf_client **out, uf_error *err)
{
    char dir[AGENT_STR_MAX + 16], root[AGENT_STR_MAX + 32], meta[AGENT_STR_MAX + 16],
        targets[AGENT_STR_MAX + 16];
    snprintf(dir, sizeof dir, "%s/tuf", a->cfg->data_dir);
    snprintf(root, sizeof root, "%s/root.json", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return uf_error_errno(err, errno, "create %s", dir);
    if (access(root, F_OK) != 0) { /* first use: the root shipped with the device */
        uf_buf data = UF_BUF_INIT;
        bool ok = uf_file_read_capped(a->cfg->root_file, UF_TUF_ROOT_MAX_BYTES, &data, err) &&
                  uf_tuf_client_install_root(dir, data.data, data.len, err);
        uf_buf_free(&data);
        if (!ok)
            return uf_error_prefix(err, "trusted root (repository.root)");
    }
    snprintf(meta, sizeof meta, "%s/metadata", a->repo_url);
    snprintf(targets, sizeof targets, "%s/targets", a->repo_url);
    uf_tuf_client_config tc = {.metadata_dir = dir, .metadata_base = meta,
                               .targets_base = targets, .fetcher = uf_fetch_tuf(a->fetch)};
    *out = uf_tuf_client_open(&tc, err);
    if (*out && uf_tuf_client_refresh(*out, err))
        return true;
    uf_tuf_client_free(*out);
    *out = NULL;
    return uf_error_prefix(err, "update the release metadata from %s", a->repo_url);
}

/* Is value in the JSON array of strings (as a shell pattern when glob)? */
static bool listed(const json_t *arr, const char *value, bool glob)
{
    const json_t *v;
    size_t i;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        if (s && (glob ? fnmatch(s, value, 0) == 0 : strcmp(s, value) == 0))
            return true;
    }
    return false;
}

static void join_list(const json_t *arr, char *out, size_t len)
{
    const json_t *v;
    size_t i, used = 0;
    out[0] = '\0';
    json_array_foreach(arr, i, v) {
        int n = snprintf(out + used, len - used, "%s%s", i ? ", " : "", json_string_value(v));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

/* The version the running slot holds: its record, or the factory version. */
static void running_version(agent *a, uf_slot running, char *out, size_t len)
{
    agent_installed inst;
    uf_error ignored;
    const agent_slot_record *r = NULL;
    if (agent_installed_load(a->cfg->data_dir, &inst, &ignored))
        r = agent_installed_slot(&inst, running);
    snprintf(out, len, "%s", r && r->known ? r->version : a->cfg->factory_version);
}

/* The release's signed metadata allows this device to install it. */
static bool check_release(agent *a, uf_tuf_client *c, const char *release, uf_slot running,
                          release_info *ri, uf_error *err)
{
    if (!uf_tuf_client_find_target(c, release, &ri->index, err))
        return uf_error_prefix(err, "release %s", release);
    const json_t *up = json_object_get(ri->index.custom, "upflow");
    const char *kind = json_string_value(json_object_get(up, "kind"));
    const char *payload = json_string_value(json_object_get(up, "payload"));
    const char *type = json_string_value(json_object_get(up, "install_type"));
    ri->version = json_string_value(json_object_get(up, "version"));
    if (!kind || strcmp(kind, "index") != 0 || !payload || !ri->version)
        return uf_error_set(err, UF_E_INVALID,
                            "release %s: not an image index (its signed custom.upflow lacks "
                            "kind \"index\", version or payload)", release);
    ri->tree = type && strcmp(type, "tree") == 0;
    if (type && strcmp(type, "raw") != 0 && !ri->tree)
        return uf_error_set(err, UF_E_UNSUPPORTED, "release %s: install type '%s' is not "
                            "supported by this agent (raw or tree)", release, type);
    if (ri->tree && !agent_tree_preflight(a, ri->version, err))
        return uf_error_prefix(err, "release %s", release);
    const json_t *hw = json_object_get(up, "hardware"), *from = json_object_get(up, "from_versions");
    char list[256];
    if (json_array_size(hw) > 0 && !listed(hw, a->cfg->hardware, false)) {
        join_list(hw, list, sizeof list);
        return uf_error_set(err, UF_E_FORBIDDEN, "release %s is for hardware %s; this device is "
                            "'%s'", ri->version, list, a->cfg->hardware);
    }
    char have[64];
    running_version(a, running, have, sizeof have);
    if (json_array_size(from) > 0 && !listed(from, have, true)) {
        join_list(from, list, sizeof list);
        return uf_error_set(err, UF_E_FORBIDDEN, "release %s may be installed over %s, not over "
                            "the running %s", ri->version, list, have);
    }
    if (!uf_tuf_client_find_target(c, payload, &ri->payload, err))
        return uf_error_prefix(err, "release %s: payload", release);
    return true;
}

/* The director's pin (agent.h) names the same index as the image repository signed. */
static bool check_pin(agent *a, const char *release, const release_info *ri, uf_error *err)
{
    if (!a->pin.set)
        return true;
    const char *sha = json_string_value(json_object_get(ri->index.hashes, "sha256"));
    if (ri->index.length == a->pin.length && sha && strcmp(sha, a->pin.sha256) == 0)
        return true;
    return uf_error_set(err, UF_E_FORBIDDEN, "director and image repository disagree: %s is "
                        "%lld bytes, sha256 %s in the image repository; the director says %lld "
                        "bytes, sha256 %s", release, (long long)ri->index.length,
                        sha ? sha : "(none)", (long long)a->pin.length, a->pin.sha256);
}

/* The device runs its committed slot, with no trial pending: the system is redundant. */
static bool check_boot(agent *a, uf_slot *running, uf_error *err)
{
    uf_boot_state st;
    if (!uf_boot_read(&a->boot, &st, err) || !uf_boot_running_slot(&a->boot, running, err))
        return uf_error_prefix(err, "boot state");
    if (*running != st.primary)
        return uf_error_set(err, UF_E_CONFLICT, "running slot %s is not the committed slot %s "
                            "(a trial is in progress)", uf_slot_name(*running),
                            uf_slot_name(st.primary));
    if (st.trial != UF_SLOT_NONE)
        return uf_error_set(err, UF_E_CONFLICT, "a trial boot of slot %s is armed",
                            uf_slot_name(st.trial));
    return true;
}

static bool check_room(agent *a, uint64_t need, uf_error *err)
{
    struct statvfs vfs;
    if (statvfs(a->cfg->data_dir, &vfs) != 0)
        return uf_error_errno(err, errno, "statvfs %s", a->cfg->data_dir);
    uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (avail < need + JOURNAL_ROOM)
        return uf_error_set(err, UF_E_NO_SPACE, "%s has %llu bytes free; the journal and the "
                            "index need %llu", a->cfg->data_dir, (unsigned long long)avail,
                            (unsigned long long)(need + JOURNAL_ROOM));
    return true;
}

/* ---- the chunk stream ---------------------------------------------------------------- */

typedef struct stream {
    agent *a;
    uf_journal *j;
    const uf_image_index *idx;
    uf_image_decoder *dec;
    agent_slot *slot, *old;   /* old: the running slot, when its index is known */
    uint8_t *plain;           /* one chunk read from the old slot */
    uint64_t *reuse;          /* per chunk: offset in the old slot, or UINT64_MAX */
    char *payload_url;
    uf_buf buf;
    uint64_t since_sync;
    const char *version;
} stream;

/* Before another attempt: wait, doubling the wait each time (retry.backoff...). */
static bool may_retry(stream *s, unsigned *attempts_left, unsigned *wait, const uf_error *why)
{
    if (*attempts_left <= 1 || why->code == UF_E_NOT_FOUND)
        return false;
    (*attempts_left)--;
    uf_log_warn(s->a->log, "agent", "%s; retrying in %u s (%u attempts left)", why->msg, *wait,
                *attempts_left);
    sleep(*wait);
    *wait = *wait * 2 > s->a->cfg->backoff_max_s ? s->a->cfg->backoff_max_s : *wait * 2;
    return true;
}

/* Record progress: the slot holds chunks up to `last`. */
static bool save_progress(stream *s, int64_t last, uf_error *err)
{
    if (!agent_slot_sync(s->slot, err))
        return false;
    s->j->chunk = last;
    s->since_sync = 0;
    int pct = s->j->chunks ? (int)((last + 1) * 100 / s->j->chunks) : 100;
    agent_report(s->a, UF_STEP_DOWNLOADING, s->version, pct, NULL, NULL);
    return agent_journal_step(s->a, s->j, UF_STEP_DOWNLOADING, NULL, err);
}

static bool write_chunk(stream *s, const uf_image_chunk *c, const void *plain, uf_error *err)
{
    if (!agent_slot_write(s->slot, plain, c->length, c->offset, err))
        return false;
    s->since_sync += c->length;
    return s->since_sync < PROGRESS_BYTES || save_progress(s, (int64_t)c->index, err);
}

/* Chunk i from the running slot, if it holds it; false without error when it does not. */
static bool copy_from_old(stream *s, const uf_image_chunk *c, bool *done, uf_error *err)
{
    *done = false;
    if (!s->old || s->reuse[c->index] == UINT64_MAX)
        return true;
    uf_error ignored;
    if (!agent_slot_read(s->old, s->plain, c->length, s->reuse[c->index], &ignored) ||
        !uf_image_check_chunk(c, s->plain, &ignored))
        return true; /* the old slot changed under us: fetch it instead */
    *done = true;
    return write_chunk(s, c, s->plain, err);
}

/* Chunks first.. that must be fetched, as one range of at most RANGE_MAX bytes. */
static uint64_t run_end(stream *s, uint64_t first, uint64_t n)
{
    uf_image_chunk c0, c;
    uf_error ignored;
    uf_image_index_chunk(s->idx, first, &c0, &ignored);
    uint64_t end = first + 1;
    while (end < n && (!s->old || s->reuse[end] == UINT64_MAX) &&
           uf_image_index_chunk(s->idx, end, &c, &ignored) &&
           c.payload_offset + c.payload_length - c0.payload_offset <= RANGE_MAX)
        end++;
    return end;
}

/* Fetch chunks [first, end) in one range and write each after checking it. What arrived
 * before a cut is used, and the rest asked for again; a chunk that does not match (corrupted
 * on the way) is fetched again. An attempt is spent only when no chunk got through. */
static bool fetch_run(stream *s, uint64_t first, uint64_t end, uf_error *err)
{
    unsigned attempts = s->a->cfg->retry_attempts, wait = s->a->cfg->backoff_s;
    while (first < end) {
        uf_image_chunk c0, last, c;
        if (!uf_image_index_chunk(s->idx, first, &c0, err) ||
            !uf_image_index_chunk(s->idx, end - 1, &last, err))
            return false;
        uf_buf_reset(&s->buf);
        uf_error why;
        uf_fetch_range(s->a->fetch, s->payload_url, c0.payload_offset,
                                    last.payload_offset + last.payload_length -
                                        c0.payload_offset,
                                    &s->buf, &why);
        uint64_t i = first;
        for (; i < end; i++) {
            if (!uf_image_index_chunk(s->idx, i, &c, err))
                return false;
            uint64_t rel = c.payload_offset - c0.payload_offset;
            if (rel + c.payload_length > s->buf.len)
                break; /* the transfer broke off before this chunk */
            const uint8_t *plain =
                uf_image_decode_chunk(s->dec, &c, (const char *)s->buf.data + rel, &why);
            if (!plain)
                break;
            if (!write_chunk(s, &c, plain, err))
                return false;
        }
        if (i == end)
            return true;
        if (i == first && !may_retry(s, &attempts, &wait, &why)) {
            *err = why;
            return false;
        }
        if (i > first)
            uf_log_warn(s->a->log, "agent", "%s; resuming at chunk %llu", why.msg,
                        (unsigned long long)i);
        first = i;
    }
    return true;
}

static bool stream_chunks(stream *s, uf_error *err)
{
    const uf_image_header *h = uf_image_index_header(s->idx);
    uint64_t n = h->chunk_count;
    for (uint64_t i = (uint64_t)(s->j->chunk + 1); i < n;) {
        uf_image_chunk c;
        bool copied = false;
        if (!uf_image_index_chunk(s->idx, i, &c, err) || !copy_from_old(s, &c, &copied, err))
            return false;
        if (copied) {
            i++;
            continue;
        }
        uint64_t end = run_end(s, i, n);
        if (!fetch_run(s, i, end, err))
            return false;
        i = end;
    }
    return save_progress(s, (int64_t)n - 1, err);
}

/* Map each new chunk to where the running slot holds the same bytes, from its index. */
static bool plan_reuse(stream *s, const char *old_index_path, uf_error *err)
{
    uf_error ignored;
    uf_image_index *old_idx = uf_image_index_open(old_index_path, &ignored);
    if (!old_idx)
        return true; /* factory image or no record: everything is fetched */
    uf_image_plan plan;
    uint64_t n = uf_image_index_header(s->idx)->chunk_count;
    bool ok = uf_image_plan_make(s->idx, old_idx, &plan, err);
    uf_image_index_free(old_idx);
    if (!ok)
        return false;
    s->reuse = malloc((n ? n : 1) * sizeof *s->reuse);
    if (!s->reuse) {
        uf_image_plan_free(&plan);
        return uf_error_set(err, UF_E_NOMEM, "reuse table");
    }
    for (uint64_t i = 0; i < n; i++)
        s->reuse[i] = UINT64_MAX;
    for (size_t i = 0; i < plan.copy_count; i++)
        s->reuse[plan.copies[i].chunk] = plan.copies[i].old_offset;
    uf_log_info(s->a->log, "agent", "reusing %llu of %llu chunks from the running slot",
                (unsigned long long)plan.copy_chunks, (unsigned long long)n);
    uf_image_plan_free(&plan);
    return true;
}

/* ---- install ------------------------------------------------------------------------ */

static void staging_index_path(agent *a, char *out, size_t len)
{
    snprintf(out, len, "%s/staging.upfidx", a->cfg->data_dir);
}

/* Write, verify and record the image in the target slot; the journal says downloading and
 * names the chunk to resume after. */
static bool write_image(agent *a, uf_journal *j, uf_tuf_client *c, const release_info *ri,
                        uf_slot running, uf_error *err)
{
    char idx_path[AGENT_STR_MAX + 32], old_path[AGENT_STR_MAX + 32],
        tree_image[AGENT_STR_MAX + 32];
    staging_index_path(a, idx_path, sizeof idx_path);
    agent_tree_image_path(a, tree_image, sizeof tree_image);
    agent_installed_index_path(a->cfg->data_dir, running, old_path, sizeof old_path);
    uf_image_index *idx = uf_image_index_open(idx_path, err);
    agent_slot target = {.fd = -1}, old = {.fd = -1};
    stream s = {.a = a, .j = j, .idx = idx, .version = j->version};
    bool ok = idx != NULL;
    const uf_image_header *h = ok ? uf_image_index_header(idx) : NULL;
    int ti = j->target_slot == UF_SLOT_B, running_i = running == UF_SLOT_B;
    uf_error ignored;
    if (ri->tree) /* a tree's image is staged in a file of its own size, nothing reused */
        ok = ok && agent_slot_open(UF_SLOT_NONE, tree_image, h->image_size, true, a->fault,
                                   &target, err);
    else
        ok = ok && agent_slot_open(j->target_slot, a->cfg->slot_path[ti], a->cfg->slot_size,
                                   true, a->fault, &target, err);
    if (ok && h->image_size > target.capacity)
        ok = uf_error_set(err, UF_E_NO_SPACE, "the image has %llu bytes; slot %s holds %llu",
                          (unsigned long long)h->image_size, uf_slot_name(j->target_slot),
                          (unsigned long long)target.capacity);
    if (ok && !ri->tree &&
        agent_slot_open(running, a->cfg->slot_path[running_i], 0, false, NULL, &old, &ignored))
        s.old = &old;
    ok = ok && (s.old ? plan_reuse(&s, old_path, err) : true);
    if (!s.reuse)
        s.old = NULL;
    s.slot = &target;
    s.payload_url = ok ? uf_tuf_client_target_url(c, &ri->payload) : NULL;
    s.dec = ok ? uf_image_decoder_new(h, err) : NULL;
    s.plain = ok ? malloc(h->max_size ? h->max_size : 1) : NULL;
    if (ok && (!s.payload_url || !s.plain))
        ok = uf_error_set(err, UF_E_NOMEM, "download buffers");
    ok = ok && s.dec;
    if (ok) {
        j->chunks = (int64_t)h->chunk_count;
        ok = stream_chunks(&s, err);
    }
    if (ok) {
        agent_report(a, UF_STEP_DOWNLOADED, j->version, 100, NULL, NULL);
        if (!a->download_only) {
            ok = agent_journal_step(a, j, UF_STEP_INSTALLING, NULL, err);
            agent_report(a, UF_STEP_INSTALLING, j->version, -1, NULL, NULL);
        }
    }
    uint8_t sha[32];
    ok = ok && agent_slot_sha256(&target, h->image_size, sha, err);
    if (ok && memcmp(sha, h->image_sha256, 32) != 0)
        ok = uf_error_set(err, UF_E_HASH_MISMATCH, "slot %s does not read back as the image "
                          "(SHA-256 mismatch)", uf_slot_name(j->target_slot));
    free(s.plain);
    free(s.payload_url);
    free(s.reuse);
    uf_buf_free(&s.buf);
    uf_image_decoder_free(s.dec);
    agent_slot_close(&target);
    agent_slot_close(&old);
    uf_image_index_free(idx);
    return ok;
}

/* The slot checked out: remember what it holds, arm the trial boot. */
static bool arm_trial(agent *a, uf_journal *j, uf_error *err)
{
    char idx_path[AGENT_STR_MAX + 32], slot_idx[AGENT_STR_MAX + 32];
    staging_index_path(a, idx_path, sizeof idx_path);
    agent_installed_index_path(a->cfg->data_dir, j->target_slot, slot_idx, sizeof slot_idx);
    agent_installed inst;
    uf_buf data = UF_BUF_INIT;
    uf_fault_site site = {a->fault, "index"};
    uf_file_observer obs = uf_fault_observer(&site);
    bool ok = agent_installed_load(a->cfg->data_dir, &inst, err) &&
              uf_file_read_capped(idx_path, UINT32_MAX, &data, err) &&
              uf_file_write_atomic_observed(slot_idx, data.data, data.len, &obs, err);
    uf_buf_free(&data);
    if (ok) {
        agent_slot_record *r = agent_installed_slot(&inst, j->target_slot);
        snprintf(r->version, sizeof r->version, "%s", j->version);
        snprintf(r->release, sizeof r->release, "%s", j->release);
        r->committed = false;
        r->known = true;
        ok = agent_installed_save(a->cfg->data_dir, &inst, a->fault, err) &&
             agent_journal_step(a, j, UF_STEP_INSTALLED, NULL, err);
    }
    if (!ok)
        return false;
    agent_report(a, UF_STEP_INSTALLED, j->version, -1, NULL, NULL);
    if (!agent_post_install(a, err))
        return false;
    ok = uf_boot_set_trial(&a->boot, j->target_slot, err) &&
         agent_journal_step(a, j, UF_STEP_REBOOTING, NULL, err);
    if (ok)
        agent_report(a, UF_STEP_REBOOTING, j->version, -1, NULL, NULL);
    return ok;
}

/* install.pre or install.post: it must exit 0 within install.script_timeout. */
static bool run_script(agent *a, const char *what, const char *command, const char *verdict,
                       uf_error *err)
{
    if (!command[0])
        return true;
    uf_run_result res;
    if (!uf_run(command, NULL, a->cfg->script_timeout_s * 1000, &res, err))
        return uf_error_prefix(err, "%s script", what);
    if (res.exit_code != 0)
        return uf_error_set(err, UF_E_CONFLICT, "%s script %s%s (exit %d%s): %s", what, command,
                            verdict, res.exit_code, res.timed_out ? ", timed out" : "",
                            res.tail);
    return true;
}

bool agent_post_install(agent *a, uf_error *err)
{
    return run_script(a, "post-install", a->cfg->post_install, "", err);
}

static bool pre_install(agent *a, uf_error *err)
{
    return run_script(a, "pre-install", a->cfg->pre_install, " refused", err);
}

/* A failure after something was written: the journal says so, the running slot is
 * untouched and stays primary. */
static bool fail_install(agent *a, uf_journal *j, const uf_error *cause, uf_error *err)
{
    uf_error ignored;
    uf_boot_state st;
    *err = *cause;
    if (agent_journal_is_tree(j) && j->step != UF_STEP_DOWNLOADING && j->step != UF_STEP_INSTALLING)
        return false; /* a tree install past its extraction has recorded its own outcome */
    /* the trial may have been armed just before the journal could say so */
    if (uf_boot_read(&a->boot, &st, &ignored) && st.trial == j->target_slot &&
        st.trial != UF_SLOT_NONE)
        uf_boot_clear_trial(&a->boot, &ignored);
    j->target_slot = UF_SLOT_NONE; /* nothing to roll back: the trial is not armed */
    agent_journal_step(a, j, UF_STEP_FAILURE, cause->msg, &ignored);
    agent_report(a, UF_STEP_FAILURE, j->version, -1, cause->msg, NULL);
    return false;
}

static bool resumable(const uf_journal *j, const char *release)
{
    return strcmp(j->release, release) == 0 &&
           (j->step == UF_STEP_DOWNLOADING || j->step == UF_STEP_DOWNLOADED ||
            j->step == UF_STEP_INSTALLING ||
            (j->step == UF_STEP_FAILURE && j->target_slot == UF_SLOT_NONE));
}

bool agent_install(agent *a, const char *release, agent_next *next, uf_error *err)
{
    *next = AGENT_DONE;
    uf_journal j;
    uf_slot running = UF_SLOT_NONE;
    uf_tuf_client *c = NULL;
    release_info ri;
    if (!uf_journal_load(a->journal_path, &j, err) || !check_boot(a, &running, err))
        return false;
    bool parked = j.step == UF_STEP_DOWNLOADED; /* a finished download-only (agent.h) */
    bool busy = j.step != UF_STEP_IDLE && j.step != UF_STEP_SUCCESS &&
                j.step != UF_STEP_FAILURE && j.step != UF_STEP_ROLLED_BACK && !parked;
    if (busy && !resumable(&j, release))
        return uf_error_set(err, UF_E_CONFLICT, "an update to %s is in progress (%s): it must "
                            "finish first", j.version, uf_journal_step_name(j.step));
    bool resume = resumable(&j, release);
    char idx_path[AGENT_STR_MAX + 32];
    staging_index_path(a, idx_path, sizeof idx_path);
    /* pre-flight: nothing is written to a slot before all of it holds */
    if (!open_tuf(a, &c, err) || !check_release(a, c, release, running, &ri, err) ||
        !check_pin(a, release, &ri, err) || !check_room(a, (uint64_t)ri.index.length, err) ||
        !uf_tuf_client_download_target(c, &ri.index, idx_path, err) ||
        (!resume && !pre_install(a, err))) {
        uf_tuf_client_free(c);
        return false;
    }
    if (!resume) {
        uf_journal_init(&j);
        snprintf(j.release, sizeof j.release, "%s", release);
        snprintf(j.version, sizeof j.version, "%s", ri.version);
        j.started_at = (int64_t)time(NULL);
        j.chunk = -1;
        if (ri.tree) { /* a stale image of an earlier tree release must not be extracted */
            char tree_image[AGENT_STR_MAX + 32];
            agent_tree_image_path(a, tree_image, sizeof tree_image);
            unlink(tree_image);
        }
    }
    j.target_slot = ri.tree ? UF_SLOT_NONE : uf_slot_other(running);
    uf_error cause;
    bool ok = agent_journal_step(a, &j, UF_STEP_DOWNLOADING, "", err);
    if (ok) {
        agent_report(a, UF_STEP_DOWNLOADING, j.version, 0, NULL, NULL);
        if (!write_image(a, &j, c, &ri, running, &cause) ||
            (a->download_only ? !agent_journal_step(a, &j, UF_STEP_DOWNLOADED, NULL, &cause)
             : ri.tree        ? !agent_tree_finish(a, &j, &cause)
                              : !arm_trial(a, &j, &cause)))
            ok = fail_install(a, &j, &cause, err);
    }
    uf_tuf_client_free(c);
    if (ok && !a->download_only && !ri.tree)
        *next = AGENT_REBOOT;
    return ok;
}
