/*
 * installed.c - the record of what each slot holds (see installed.h).
 */
#include "agent/installed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fileio.h"
#include "lib/json.h"

static void slots_path(const char *data_dir, char *out, size_t len)
{
    snprintf(out, len, "%s/slots.json", data_dir);
}

void agent_installed_index_path(const char *data_dir, uf_slot slot, char *out, size_t len)
{
    snprintf(out, len, "%s/slot-%s.upfidx", data_dir, uf_slot_name(slot));
}

agent_slot_record *agent_installed_slot(agent_installed *in, uf_slot slot)
{
    return &in->slot[slot == UF_SLOT_B ? 1 : 0];
}

static bool load_one(const json_t *doc, const char *name, agent_slot_record *r, uf_error *err)
{
    json_t *o = NULL;
    const char *version = "", *release = "";
    bool committed = false;
    if (!uf_json_opt_object(doc, "", name, &o, err))
        return false;
    if (!o)
        return true;
    if (!uf_json_get_string(o, name, "version", &version, err) ||
        !uf_json_opt_string(o, name, "release", &release, err) ||
        !uf_json_get_bool(o, name, "committed", &committed, err))
        return false;
    snprintf(r->version, sizeof r->version, "%s", version);
    snprintf(r->release, sizeof r->release, "%s", release ? release : "");
    r->committed = committed;
    r->known = true;
    return true;
}

bool agent_installed_load(const char *data_dir, agent_installed *out, uf_error *err)
{
    char path[1024];
    slots_path(data_dir, path, sizeof path);
    memset(out, 0, sizeof *out);
    uf_json_limits lim = uf_json_default_limits();
    lim.max_bytes = 65536;
    json_t *doc = uf_json_load_file(path, &lim, err);
    if (!doc)
        return err->code == UF_E_NOT_FOUND ? true : uf_error_prefix(err, "%s", path);
    bool ok = load_one(doc, "A", &out->slot[0], err) && load_one(doc, "B", &out->slot[1], err);
    json_decref(doc);
    return ok ? true : uf_error_prefix(err, "%s", path);
}

bool agent_installed_save(const char *data_dir, const agent_installed *in, uf_fault *fault,
                          uf_error *err)
{
    char path[1024];
    slots_path(data_dir, path, sizeof path);
    json_t *doc = json_object();
    static const char *const names[2] = {"A", "B"};
    for (int i = 0; i < 2; i++)
        if (in->slot[i].known)
            json_object_set_new(doc, names[i],
                                json_pack("{s:s, s:s, s:b}", "version", in->slot[i].version,
                                          "release", in->slot[i].release, "committed",
                                          in->slot[i].committed));
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    if (!text)
        return uf_error_set(err, UF_E_NOMEM, "slots.json");
    uf_fault_site site = {fault, "slots"};
    uf_file_observer obs = uf_fault_observer(&site);
    bool ok = uf_file_write_atomic_observed(path, text, strlen(text), &obs, err);
    free(text);
    return ok;
}
