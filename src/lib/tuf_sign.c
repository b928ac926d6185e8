/*
 * tuf_sign.c - making and signing TUF metadata (see tuf_sign.h).
 */
#include "lib/tuf_sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/canonical_json.h"
#include "lib/hash.h"
#include "lib/json.h"

static const char *const top_roles[] = {"root", "timestamp", "snapshot", "targets"};

static json_t *empty_members(uf_tuf_type type)
{
    switch (type) {
    case UF_TUF_ROOT: {
        json_t *roles = json_object();
        for (size_t i = 0; i < 4; i++)
            json_object_set_new(roles, top_roles[i],
                                json_pack("{s:[], s:i}", "keyids", "threshold", 1));
        return json_pack("{s:{}, s:o, s:b}", "keys", "roles", roles, "consistent_snapshot", 1);
    }
    case UF_TUF_TIMESTAMP:
    case UF_TUF_SNAPSHOT:
        return json_pack("{s:{}}", "meta");
    case UF_TUF_TARGETS:
        return json_pack("{s:{}}", "targets");
    }
    return NULL;
}

json_t *uf_tuf_new_signed(uf_tuf_type type, int64_t version, int64_t expires)
{
    char when[32];
    uf_tuf_format_time(expires, when);
    json_t *s = empty_members(type);
    if (!s)
        return NULL;
    json_object_set_new(s, "_type", json_string(uf_tuf_type_name(type)));
    json_object_set_new(s, "spec_version", json_string(UF_TUF_SPEC_VERSION));
    json_object_set_new(s, "version", json_integer(version));
    json_object_set_new(s, "expires", json_string(when));
    return s;
}

bool uf_tuf_set_version(json_t *signed_part, int64_t version, int64_t expires, uf_error *err)
{
    char when[32];
    uf_tuf_format_time(expires, when);
    if (!json_is_object(signed_part) ||
        json_object_set_new(signed_part, "version", json_integer(version)) != 0 ||
        json_object_set_new(signed_part, "expires", json_string(when)) != 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "signed: not an object");
    return true;
}

/* {"keyid": ..., "sig": ...} for key over msg. */
static json_t *signature_of(const uf_key *key, const uf_buf *msg, uf_error *err)
{
    char keyid[UF_KEYID_HEX], *sig = NULL;
    if (!uf_key_keyid(key, keyid, err) || !uf_key_sign(key, msg->data, msg->len, &sig, err))
        return NULL;
    json_t *entry = json_pack("{s:s, s:s}", "keyid", keyid, "sig", sig);
    free(sig);
    if (!entry)
        uf_error_set(err, UF_E_NOMEM, "signature entry");
    return entry;
}

static bool dump_envelope(json_t *env, char **out, size_t *out_len, uf_error *err)
{
    *out = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
    if (!*out)
        return uf_error_set(err, UF_E_NOMEM, "cannot serialise metadata");
    *out_len = strlen(*out);
    return true;
}

bool uf_tuf_sign(const json_t *signed_part, uf_key *const keys[], size_t n, char **out,
                 size_t *out_len, uf_error *err)
{
    uf_buf canon = UF_BUF_INIT;
    json_t *sigs = json_array();
    bool ok = sigs && uf_canonical_json(signed_part, &canon, err);
    for (size_t i = 0; ok && i < n; i++) {
        json_t *entry = signature_of(keys[i], &canon, err);
        ok = entry && json_array_append_new(sigs, entry) == 0;
    }
    uf_buf_free(&canon);
    if (!ok) {
        json_decref(sigs);
        return false;
    }
    json_t *env = json_pack("{s:O, s:o}", "signed", signed_part, "signatures", sigs);
    ok = env && dump_envelope(env, out, out_len, err);
    json_decref(env);
    return ok;
}

bool uf_tuf_add_signature(const void *envelope, size_t len, const uf_key *key, bool replace,
                          char **out, size_t *out_len, uf_error *err)
{
    uf_json_limits lim = uf_json_default_limits();
    lim.max_bytes = 5000000; /* the largest metadata a client takes (targets) */
    lim.max_members = 100000;
    json_t *env = uf_json_parse(envelope, len, &lim, err), *signed_part, *sigs;
    if (!env)
        return uf_error_prefix(err, "metadata");
    uf_buf canon = UF_BUF_INIT;
    bool ok = uf_json_get_object(env, "", "signed", &signed_part, err) &&
              uf_json_get_array(env, "", "signatures", &sigs, err) &&
              uf_canonical_json(signed_part, &canon, err);
    char keyid[UF_KEYID_HEX];
    ok = ok && uf_key_keyid(key, keyid, err);
    if (ok) {
        for (size_t i = json_array_size(sigs); i-- > 0;) {
            const char *id = json_string_value(json_object_get(json_array_get(sigs, i), "keyid"));
            if (replace || (id && strcmp(id, keyid) == 0))
                json_array_remove(sigs, i);
        }
        json_t *entry = signature_of(key, &canon, err);
        ok = entry && json_array_append_new(sigs, entry) == 0 &&
             dump_envelope(env, out, out_len, err);
    }
    uf_buf_free(&canon);
    json_decref(env);
    return ok;
}

bool uf_tuf_put_key(json_t *keys_obj, const uf_key *key, char keyid[UF_KEYID_HEX],
                    uf_error *err)
{
    char id[UF_KEYID_HEX];
    json_t *pub = uf_key_to_json(key, err);
    if (!pub || !uf_key_keyid(key, id, err)) {
        json_decref(pub);
        return false;
    }
    if (json_object_set_new(keys_obj, id, pub) != 0)
        return uf_error_set(err, UF_E_NOMEM, "keys");
    if (keyid)
        memcpy(keyid, id, UF_KEYID_HEX);
    return true;
}

json_t *uf_tuf_meta_entry(int64_t version, const void *data, size_t len, uf_error *err)
{
    char hex[UF_HASH_MAX_HEX];
    if (!uf_hash_buf_hex(UF_HASH_SHA256, data, len, hex, err))
        return NULL;
    json_t *e = json_pack("{s:I, s:I, s:{s:s}}", "version", (json_int_t)version, "length",
                          (json_int_t)len, "hashes", "sha256", hex);
    if (!e)
        uf_error_set(err, UF_E_NOMEM, "meta entry");
    return e;
}

json_t *uf_tuf_target_entry_file(const char *path, json_t *custom, uf_error *err)
{
    char hex[UF_HASH_MAX_HEX];
    uf_hash *h = uf_hash_new(UF_HASH_SHA256, err);
    FILE *f = h ? fopen(path, "rb") : NULL;
    if (h && !f)
        uf_error_errno(err, errno, "open %s", path);
    bool ok = f != NULL;
    int64_t total = 0;
    static const size_t block = 1 << 16;
    char *buf = ok ? malloc(block) : NULL;
    if (ok && !buf)
        ok = uf_error_set(err, UF_E_NOMEM, "read buffer");
    while (ok) {
        size_t n = fread(buf, 1, block, f);
        if (n == 0) {
            if (ferror(f))
                ok = uf_error_errno(err, errno, "read %s", path);
            break;
        }
        total += (int64_t)n;
        ok = uf_hash_update(h, buf, n, err);
    }
    ok = ok && uf_hash_final_hex(h, hex, err);
    free(buf);
    if (f)
        fclose(f);
    uf_hash_free(h);
    json_t *e = ok ? json_pack("{s:I, s:{s:s}}", "length", (json_int_t)total, "hashes",
                               "sha256", hex)
                   : NULL;
    if (ok && !e)
        uf_error_set(err, UF_E_NOMEM, "target entry");
    if (e && custom)
        json_object_set_new(e, "custom", custom);
    else
        json_decref(custom);
    return e;
}
