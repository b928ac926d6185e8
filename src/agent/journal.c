/*
 * journal.c - the agent's durable state file (see journal.h).
 */
#include "agent/journal.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fileio.h"
#include "lib/json.h"

static const char *const step_names[] = {
#define UF_X_STEP(name, text) text,
    UF_JOURNAL_STEPS(UF_X_STEP)
#undef UF_X_STEP
};

void uf_journal_init(uf_journal *j)
{
    memset(j, 0, sizeof *j);
    j->step = UF_STEP_IDLE;
    j->target_slot = UF_SLOT_NONE;
    j->chunk = -1;
}

const char *uf_journal_step_name(uf_journal_step step)
{
    return (unsigned)step < UF_STEP_COUNT ? step_names[step] : "unknown";
}

bool uf_journal_step_parse(const char *name, uf_journal_step *out)
{
    for (unsigned i = 0; i < UF_STEP_COUNT; i++) {
        if (strcmp(step_names[i], name) == 0) {
            *out = (uf_journal_step)i;
            return true;
        }
    }
    return false;
}

/* --- reading --------------------------------------------------------------------------- */

static bool get_text(const json_t *root, const char *key, char *out, size_t size,
                     uf_error *err)
{
    const char *s;
    if (!uf_json_get_string(root, "", key, &s, err))
        return false;
    if (strlen(s) >= size)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: longer than %zu bytes", key, size - 1);
    strcpy(out, s);
    return true;
}

static bool get_step(const json_t *root, uf_journal *j, uf_error *err)
{
    const char *s;
    if (!uf_json_get_string(root, "", "step", &s, err))
        return false;
    return uf_journal_step_parse(s, &j->step) ||
           uf_error_set(err, UF_E_BAD_FIELD, "step: unknown step '%s'", s);
}

static bool get_slot(const json_t *root, uf_journal *j, uf_error *err)
{
    const char *s;
    if (!uf_json_get_string(root, "", "target_slot", &s, err))
        return false;
    if (!*s) {
        j->target_slot = UF_SLOT_NONE;
        return true;
    }
    return uf_slot_parse(s, &j->target_slot) ||
           uf_error_set(err, UF_E_BAD_FIELD, "target_slot: '%s' is not A, B or empty", s);
}

static bool from_json(const json_t *root, uf_journal *j, uf_error *err)
{
    int64_t format;
    if (!json_is_object(root))
        return uf_error_set(err, UF_E_BAD_FIELD, "expected an object, got %s",
                            uf_json_type_name(root));
    if (!uf_json_get_int(root, "", "format", &format, err))
        return false;
    if (format != UF_JOURNAL_FORMAT)
        return uf_error_set(err, UF_E_UNSUPPORTED, "format %lld: this agent reads format %d",
                            (long long)format, UF_JOURNAL_FORMAT);
    return get_step(root, j, err) &&
           get_text(root, "release", j->release, sizeof j->release, err) &&
           get_text(root, "version", j->version, sizeof j->version, err) &&
           get_slot(root, j, err) &&
           uf_json_get_int_range(root, "", "chunk", -1, INT64_MAX, &j->chunk, err) &&
           uf_json_get_int_range(root, "", "chunks", 0, INT64_MAX, &j->chunks, err) &&
           get_text(root, "reason", j->reason, sizeof j->reason, err) &&
           uf_json_get_int_range(root, "", "started_at", 0, INT64_MAX, &j->started_at, err) &&
           uf_json_get_int_range(root, "", "updated_at", 0, INT64_MAX, &j->updated_at, err);
}

bool uf_journal_load(const char *path, uf_journal *out, uf_error *err)
{
    uf_journal_init(out);
    const uf_json_limits limits = {64 * 1024, 4, 4096, 64};
    uf_error local;
    json_t *root = uf_json_load_file(path, &limits, &local);
    if (!root && local.code == UF_E_NOT_FOUND)
        return true;
    bool ok = root && from_json(root, out, &local);
    json_decref(root);
    if (ok)
        return true;
    uf_journal_init(out);
    if (err)
        *err = local;
    return root ? uf_error_prefix(err, "journal %s", path) : uf_error_prefix(err, "journal");
}

/* --- writing --------------------------------------------------------------------------- */

bool uf_journal_save(const char *path, const uf_journal *j, uf_fault *fault, uf_error *err)
{
    json_t *root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I}",
                             "format", UF_JOURNAL_FORMAT, "step", uf_journal_step_name(j->step),
                             "release", j->release, "version", j->version, "target_slot",
                             uf_slot_name(j->target_slot), "chunk", (json_int_t)j->chunk,
                             "chunks", (json_int_t)j->chunks, "reason", j->reason,
                             "started_at", (json_int_t)j->started_at, "updated_at",
                             (json_int_t)j->updated_at);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    uf_buf doc = UF_BUF_INIT;
    bool ok = text ? uf_buf_printf(&doc, err, "%s\n", text)
                   : uf_error_set(err, UF_E_INVALID, "cannot encode (text that is not UTF-8, "
                                                     "or out of memory)");
    free(text);
    uf_fault_site site = {fault, "journal"};
    uf_file_observer obs = uf_fault_observer(&site);
    ok = (ok && uf_file_write_atomic_observed(path, doc.data, doc.len, &obs, err)) ||
         uf_error_prefix(err, "journal %s", path);
    uf_buf_free(&doc);
    return ok;
}
