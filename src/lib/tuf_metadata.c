/*
 * tuf_metadata.c - parse, shape-check and signature-verify one TUF metadata file.
 *
 * The JSON is kept as received; checks read it in place, so unknown fields survive and the
 * canonical form of "signed" is exactly what the signer saw. Shape checks happen once, at
 * parse, so the accessors below can rely on the types they find.
 */
#include "lib/tuf_metadata.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/canonical_json.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/key.h"
#include "lib/tz.h"

const char *uf_tuf_type_name(uf_tuf_type type)
{
    switch (type) {
    case UF_TUF_ROOT: return "root";
    case UF_TUF_TIMESTAMP: return "timestamp";
    case UF_TUF_SNAPSHOT: return "snapshot";
    case UF_TUF_TARGETS: return "targets";
    }
    return "?";
}

/* --- time ---------------------------------------------------------------------------- */

bool uf_tuf_parse_time(const char *s, int64_t *out, uf_error *err)
{
    int y, mo, d, h, mi, se, n = 0;
    if (strlen(s) != 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
        n != 20)
        return uf_error_set(err, UF_E_BAD_FIELD, "\"%s\" is not YYYY-MM-DDTHH:MM:SSZ", s);
    uf_civil c = {.year = y, .month = mo, .day = d, .hour = h, .minute = mi, .second = se};
    if (!uf_civil_valid(&c))
        return uf_error_set(err, UF_E_BAD_FIELD, "\"%s\" is not a valid date and time", s);
    *out = uf_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

void uf_tuf_format_time(int64_t t, char out[32])
{
    int64_t days = uf_floor_div(t, 86400), secs = t - days * 86400, y;
    int m, d;
    uf_civil_from_days(days, &y, &m, &d);
    snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

bool uf_tuf_expired(const uf_tuf_metadata *md, int64_t now)
{
    return md->expires <= now;
}

bool uf_tuf_check_expiry(const uf_tuf_metadata *md, int64_t now, uf_error *err)
{
    if (!uf_tuf_expired(md, now))
        return true;
    char when[32];
    uf_tuf_format_time(md->expires, when);
    return uf_error_set(err, UF_E_EXPIRED, "%s: expired at %s (freeze)", md->label, when);
}

/* --- shape checks -------------------------------------------------------------------- */

/* "1", "1.0", "1.0.31": major 1, at most three numeric parts. */
static bool spec_version_ok(const char *v)
{
    int parts = 0;
    const char *p = v;
    while (*p) {
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 9)
            return false;
        parts++;
        p += digits;
        if (*p == '.')
            p++;
        else if (*p)
            return false;
    }
    return parts >= 1 && parts <= 3 && p[-1] != '.' && strncmp(v, "1", 1) == 0 &&
           (v[1] == '\0' || v[1] == '.');
}

static bool check_hashes(const json_t *hashes, const char *path, uf_error *err)
{
    if (!json_is_object(hashes) || json_object_size(hashes) == 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected a non-empty object", path);
    const char *alg;
    json_t *hex;
    json_object_foreach((json_t *)(uintptr_t)hashes, alg, hex) {
        if (!json_is_string(hex) || json_string_length(hex) == 0)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.%s: expected a hex string", path, alg);
    }
    return true;
}

/* A {keyids: [unique strings], threshold: >= 1} object. */
static bool check_role_keys(const json_t *role, const char *path, uf_error *err)
{
    json_t *keyids;
    int64_t threshold;
    if (!json_is_object(role))
        return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object", path);
    if (!uf_json_get_array(role, path, "keyids", &keyids, err) ||
        !uf_json_get_int_range(role, path, "threshold", 1, INT32_MAX, &threshold, err))
        return false;
    for (size_t i = 0; i < json_array_size(keyids); i++) {
        const json_t *id = json_array_get(keyids, i);
        if (!json_is_string(id))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.keyids[%zu]: expected string", path, i);
        for (size_t j = 0; j < i; j++)
            if (json_equal(id, json_array_get(keyids, j)))
                return uf_error_set(err, UF_E_BAD_FIELD, "%s.keyids: %s listed twice", path,
                                    json_string_value(id));
    }
    return true;
}

static bool check_keys(const json_t *keys, const char *path, uf_error *err)
{
    const char *id;
    json_t *key;
    json_object_foreach((json_t *)(uintptr_t)keys, id, key) {
        char p[256];
        uf_json_path_key(p, sizeof p, path, id);
        json_t *keyval;
        const char *s;
        if (!json_is_object(key))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object", p);
        if (!uf_json_get_string(key, p, "keytype", &s, err) ||
            !uf_json_get_string(key, p, "scheme", &s, err) ||
            !uf_json_get_object(key, p, "keyval", &keyval, err))
            return false;
    }
    return true;
}

static bool check_root(const json_t *s, uf_tuf_metadata *md, uf_error *err)
{
    json_t *keys, *roles;
    if (!uf_json_opt_bool(s, "signed", "consistent_snapshot", &md->consistent_snapshot, err) ||
        !uf_json_get_object(s, "signed", "keys", &keys, err) ||
        !uf_json_get_object(s, "signed", "roles", &roles, err) ||
        !check_keys(keys, "signed.keys", err))
        return false;
    static const char *const names[] = {"root", "timestamp", "snapshot", "targets"};
    for (size_t i = 0; i < 4; i++) {
        json_t *role;
        char p[64];
        snprintf(p, sizeof p, "signed.roles.%s", names[i]);
        if (!uf_json_get_object(roles, "signed.roles", names[i], &role, err) ||
            !check_role_keys(role, p, err))
            return false;
    }
    return true;
}

static bool check_meta(const json_t *s, uf_tuf_type type, uf_error *err)
{
    json_t *meta;
    if (!uf_json_get_object(s, "signed", "meta", &meta, err))
        return false;
    const char *file;
    json_t *info;
    json_object_foreach(meta, file, info) {
        char p[256];
        uf_json_path_key(p, sizeof p, "signed.meta", file);
        int64_t v, len = 0;
        json_t *hashes = NULL;
        if (!json_is_object(info))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object", p);
        if (!uf_json_get_int_range(info, p, "version", 1, INT64_MAX, &v, err) ||
            !uf_json_opt_int(info, p, "length", &len, err) ||
            !uf_json_opt_object(info, p, "hashes", &hashes, err))
            return false;
        if (len < 0)
            return uf_error_set(err, UF_E_BAD_FIELD, "%s.length: negative", p);
        char hp[300];
        snprintf(hp, sizeof hp, "%s.hashes", p);
        if (hashes && !check_hashes(hashes, hp, err))
            return false;
    }
    if (type == UF_TUF_TIMESTAMP && !json_object_get(meta, "snapshot.json"))
        return uf_error_set(err, UF_E_BAD_FIELD, "signed.meta: snapshot.json missing");
    return true;
}

static bool check_delegations(const json_t *del, uf_error *err)
{
    json_t *keys, *roles;
    if (!uf_json_get_object(del, "signed.delegations", "keys", &keys, err) ||
        !uf_json_get_array(del, "signed.delegations", "roles", &roles, err) ||
        !check_keys(keys, "signed.delegations.keys", err))
        return false;
    static const char *const top[] = {"root", "timestamp", "snapshot", "targets"};
    for (size_t i = 0; i < json_array_size(roles); i++) {
        const json_t *r = json_array_get(roles, i);
        char p[64];
        uf_json_path_index(p, sizeof p, "signed.delegations.roles", i);
        const char *name;
        bool terminating = false;
        json_t *paths = NULL, *prefixes = NULL;
        if (!check_role_keys(r, p, err) || !uf_json_get_string(r, p, "name", &name, err) ||
            !uf_json_opt_bool(r, p, "terminating", &terminating, err) ||
            !uf_json_opt_array(r, p, "paths", &paths, err) ||
            !uf_json_opt_array(r, p, "path_hash_prefixes", &prefixes, err))
            return false;
        if (!!paths == !!prefixes)
            return uf_error_set(err, UF_E_BAD_FIELD,
                                "%s: exactly one of paths and path_hash_prefixes is required", p);
        const json_t *list = paths ? paths : prefixes;
        for (size_t j = 0; j < json_array_size(list); j++)
            if (!json_is_string(json_array_get(list, j)))
                return uf_error_set(err, UF_E_BAD_FIELD, "%s.%s[%zu]: expected string", p,
                                    paths ? "paths" : "path_hash_prefixes", j);
        for (size_t j = 0; j < 4; j++)
            if (strcmp(name, top[j]) == 0)
                return uf_error_set(err, UF_E_BAD_FIELD, "%s.name: \"%s\" is a top-level role",
                                    p, name);
        for (size_t j = 0; j < i; j++) {
            const char *other = json_string_value(json_object_get(json_array_get(roles, j), "name"));
            if (strcmp(other, name) == 0)
                return uf_error_set(err, UF_E_BAD_FIELD, "%s.name: \"%s\" delegated twice", p,
                                    name);
        }
    }
    return true;
}

static bool check_targets(const json_t *s, uf_error *err)
{
    json_t *targets, *del = NULL;
    if (!uf_json_get_object(s, "signed", "targets", &targets, err) ||
        !uf_json_opt_object(s, "signed", "delegations", &del, err))
        return false;
    const char *path;
    json_t *t;
    json_object_foreach(targets, path, t) {
        char p[512], hp[530];
        uf_json_path_key(p, sizeof p, "signed.targets", path);
        int64_t len;
        json_t *hashes, *custom = NULL;
        if (!json_is_object(t))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object", p);
        if (!uf_json_get_int_range(t, p, "length", 0, INT64_MAX, &len, err) ||
            !uf_json_get_object(t, p, "hashes", &hashes, err) ||
            !uf_json_opt_object(t, p, "custom", &custom, err))
            return false;
        snprintf(hp, sizeof hp, "%s.hashes", p);
        if (!check_hashes(hashes, hp, err))
            return false;
    }
    return !del || check_delegations(del, err);
}

/* Signatures: an array of {keyid, sig} strings; a keyid may appear only once (tuf.md §2). */
static bool check_signatures(const json_t *doc, uf_error *err)
{
    json_t *sigs;
    if (!uf_json_get_array(doc, "", "signatures", &sigs, err))
        return false;
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        const json_t *s = json_array_get(sigs, i);
        char p[64];
        uf_json_path_index(p, sizeof p, "signatures", i);
        const char *keyid, *sig;
        if (!json_is_object(s))
            return uf_error_set(err, UF_E_BAD_FIELD, "%s: expected object", p);
        if (!uf_json_get_string(s, p, "keyid", &keyid, err) ||
            !uf_json_get_string(s, p, "sig", &sig, err))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(keyid, json_string_value(json_object_get(json_array_get(sigs, j),
                                                                "keyid"))) == 0)
                return uf_error_set(err, UF_E_BAD_SIGNATURE,
                                    "signatures: keyid %s appears twice", keyid);
    }
    return true;
}

uf_tuf_metadata *uf_tuf_metadata_parse(const char *label, uf_tuf_type type, const void *data,
                                       size_t len, size_t max_bytes, uf_error *err)
{
    uf_json_limits limits = {.max_bytes = max_bytes, .max_depth = UF_TUF_MAX_DEPTH,
                             .max_string = 64 * 1024, .max_members = 100000};
    uf_tuf_metadata *md = calloc(1, sizeof *md);
    if (!md) {
        uf_error_set(err, UF_E_NOMEM, "%s: out of memory", label);
        return NULL;
    }
    snprintf(md->label, sizeof md->label, "%s", label);
    md->type = type;
    const char *t, *spec, *expires;
    md->doc = uf_json_parse(data, len, &limits, err);
    if (!md->doc)
        goto fail;
    if (!json_is_object(md->doc)) {
        uf_error_set(err, UF_E_BAD_FIELD, "expected an object");
        goto fail;
    }
    if (!uf_json_get_object(md->doc, "", "signed", &md->signed_part, err) ||
        !check_signatures(md->doc, err) ||
        !uf_json_get_string(md->signed_part, "signed", "_type", &t, err))
        goto fail;
    if (strcmp(t, uf_tuf_type_name(type)) != 0) {
        uf_error_set(err, UF_E_BAD_FIELD, "_type is \"%s\", expected \"%s\"", t,
                     uf_tuf_type_name(type));
        goto fail;
    }
    if (!uf_json_get_string(md->signed_part, "signed", "spec_version", &spec, err) ||
        !uf_json_get_int_range(md->signed_part, "signed", "version", 1, INT64_MAX, &md->version,
                               err) ||
        !uf_json_get_string(md->signed_part, "signed", "expires", &expires, err))
        goto fail;
    if (!spec_version_ok(spec)) {
        uf_error_set(err, UF_E_BAD_FIELD, "spec_version \"%s\" is not 1.x", spec);
        goto fail;
    }
    if (!uf_tuf_parse_time(expires, &md->expires, err)) {
        uf_error_prefix(err, "signed.expires");
        goto fail;
    }
    bool ok = true;
    switch (type) {
    case UF_TUF_ROOT: ok = check_root(md->signed_part, md, err); break;
    case UF_TUF_TIMESTAMP:
    case UF_TUF_SNAPSHOT: ok = check_meta(md->signed_part, type, err); break;
    case UF_TUF_TARGETS: ok = check_targets(md->signed_part, err); break;
    }
    if (ok)
        return md;
fail:
    uf_error_prefix(err, "%s", label);
    uf_tuf_metadata_free(md);
    return NULL;
}

void uf_tuf_metadata_free(uf_tuf_metadata *md)
{
    if (!md)
        return;
    json_decref(md->doc);
    free(md);
}

/* --- signatures ---------------------------------------------------------------------- */

bool uf_tuf_verify(const uf_tuf_metadata *md, const json_t *keys, const json_t *keyids,
                   int64_t threshold, const char *role_name, uf_error *err)
{
    uf_buf canon = UF_BUF_INIT;
    if (!uf_canonical_json(md->signed_part, &canon, err))
        return uf_error_prefix(err, "%s: canonical form of signed", md->label);
    const json_t *sigs = json_object_get(md->doc, "signatures");
    size_t n = json_array_size(sigs);
    /* identity of each key that verified: the keyid of the key's own canonical object, so
     * two keyids listing the same public key count once */
    char (*seen)[UF_KEYID_HEX] = calloc(n ? n : 1, sizeof *seen);
    size_t valid = 0;
    if (!seen) {
        uf_buf_free(&canon);
        return uf_error_set(err, UF_E_NOMEM, "%s: out of memory", md->label);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(sigs, i);
        const char *keyid = json_string_value(json_object_get(s, "keyid"));
        const char *sig = json_string_value(json_object_get(s, "sig"));
        if (!sig[0])
            continue; /* unsigned slot (tuf.md §6) */
        bool listed = false;
        for (size_t j = 0; j < json_array_size(keyids) && !listed; j++)
            listed = strcmp(json_string_value(json_array_get(keyids, j)), keyid) == 0;
        const json_t *kobj = json_object_get(keys, keyid);
        if (!listed || !kobj)
            continue;
        uf_key *key = uf_key_from_json(kobj, NULL);
        if (!key)
            continue;
        char identity[UF_KEYID_HEX];
        bool ok = uf_key_keyid(key, identity, NULL) &&
                  uf_key_verify(key, canon.data, canon.len, sig, NULL);
        uf_key_free(key);
        if (!ok)
            continue;
        bool dup = false;
        for (size_t j = 0; j < valid && !dup; j++)
            dup = strcmp(seen[j], identity) == 0;
        if (!dup)
            memcpy(seen[valid++], identity, UF_KEYID_HEX);
    }
    free(seen);
    uf_buf_free(&canon);
    if ((int64_t)valid >= threshold)
        return true;
    return uf_error_set(err, UF_E_THRESHOLD,
                        "%s: signature threshold %lld of the %s keys not met (%zu valid)",
                        md->label, (long long)threshold, role_name, valid);
}

const json_t *uf_tuf_root_role(const uf_tuf_metadata *root, const char *role_name)
{
    return json_object_get(json_object_get(root->signed_part, "roles"), role_name);
}

bool uf_tuf_verify_with_root(const uf_tuf_metadata *md, const uf_tuf_metadata *root,
                             const char *role_name, uf_error *err)
{
    const json_t *role = uf_tuf_root_role(root, role_name);
    return uf_tuf_verify(md, json_object_get(root->signed_part, "keys"),
                         json_object_get(role, "keyids"),
                         json_integer_value(json_object_get(role, "threshold")), role_name, err);
}

/* --- meta, targets, delegations ------------------------------------------------------ */

const json_t *uf_tuf_meta(const uf_tuf_metadata *md)
{
    return json_object_get(md->signed_part, "meta");
}

bool uf_tuf_meta_get(const uf_tuf_metadata *md, const char *file, uf_tuf_meta_info *out,
                     uf_error *err)
{
    const json_t *info = json_object_get(uf_tuf_meta(md), file);
    if (!info)
        return uf_error_set(err, UF_E_NOT_FOUND, "%s: %s is not listed", md->label, file);
    const json_t *len = json_object_get(info, "length");
    out->version = json_integer_value(json_object_get(info, "version"));
    out->length = len && json_is_integer(len) ? json_integer_value(len) : -1;
    out->hashes = json_object_get(info, "hashes");
    if (out->hashes && !json_is_object(out->hashes))
        out->hashes = NULL;
    return true;
}

bool uf_tuf_target_get(const uf_tuf_metadata *md, const char *path, uf_tuf_target_info *out)
{
    const json_t *t = json_object_get(json_object_get(md->signed_part, "targets"), path);
    if (!t)
        return false;
    out->path = path;
    out->length = json_integer_value(json_object_get(t, "length"));
    out->hashes = json_object_get(t, "hashes");
    out->custom = json_object_get(t, "custom");
    return true;
}

const json_t *uf_tuf_delegations(const uf_tuf_metadata *md)
{
    return json_object_get(md->signed_part, "delegations");
}

/* Split both on '/', same number of segments, each segment shell-globbed (tuf.md §9). */
static bool path_pattern_matches(const char *pattern, const char *path)
{
    for (;;) {
        size_t pl = strcspn(pattern, "/"), tl = strcspn(path, "/");
        char pseg[1024], tseg[1024];
        if (pl >= sizeof pseg || tl >= sizeof tseg)
            return false;
        memcpy(pseg, pattern, pl);
        pseg[pl] = '\0';
        memcpy(tseg, path, tl);
        tseg[tl] = '\0';
        if (fnmatch(pseg, tseg, 0) != 0)
            return false;
        bool pend = pattern[pl] == '\0', tend = path[tl] == '\0';
        if (pend || tend)
            return pend && tend;
        pattern += pl + 1;
        path += tl + 1;
    }
}

bool uf_tuf_delegation_matches(const json_t *role, const char *target_path)
{
    const json_t *paths = json_object_get(role, "paths");
    const json_t *prefixes = json_object_get(role, "path_hash_prefixes");
    if (paths) {
        for (size_t i = 0; i < json_array_size(paths); i++)
            if (path_pattern_matches(json_string_value(json_array_get(paths, i)), target_path))
                return true;
        return false;
    }
    char hex[UF_HASH_MAX_HEX];
    if (!uf_hash_buf_hex(UF_HASH_SHA256, target_path, strlen(target_path), hex, NULL))
        return false;
    for (size_t i = 0; i < json_array_size(prefixes); i++) {
        const char *p = json_string_value(json_array_get(prefixes, i));
        if (strncmp(hex, p, strlen(p)) == 0)
            return true;
    }
    return false;
}

/* --- content checks ------------------------------------------------------------------ */

#define CHECK_MAX_HASHES 4

struct uf_tuf_content_check {
    char label[160];
    int64_t length;
    uint64_t seen;
    size_t n;
    uf_hash *h[CHECK_MAX_HASHES];
    char alg[CHECK_MAX_HASHES][8];
    char expected[CHECK_MAX_HASHES][UF_HASH_MAX_HEX];
};

void uf_tuf_check_free(uf_tuf_content_check *ck)
{
    if (!ck)
        return;
    for (size_t i = 0; i < ck->n; i++)
        uf_hash_free(ck->h[i]);
    free(ck);
}

uf_tuf_content_check *uf_tuf_check_begin(const char *label, const json_t *hashes,
                                         int64_t length, uf_error *err)
{
    uf_tuf_content_check *ck = calloc(1, sizeof *ck);
    if (!ck) {
        uf_error_set(err, UF_E_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(ck->label, sizeof ck->label, "%s", label);
    ck->length = length;
    const char *alg;
    json_t *expected;
    json_object_foreach((json_t *)(uintptr_t)hashes, alg, expected) {
        uf_hash_alg a;
        if ((strcmp(alg, "sha256") != 0 && strcmp(alg, "sha512") != 0) ||
            !uf_hash_alg_from_name(alg, &a, NULL) || ck->n == CHECK_MAX_HASHES) {
            uf_error_set(err, UF_E_UNSUPPORTED, "%s: unsupported hash algorithm \"%s\"", label,
                         alg);
            uf_tuf_check_free(ck);
            return NULL;
        }
        snprintf(ck->alg[ck->n], sizeof ck->alg[0], "%s", alg);
        snprintf(ck->expected[ck->n], sizeof ck->expected[0], "%s",
                 json_is_string(expected) ? json_string_value(expected) : "?");
        if (!(ck->h[ck->n++] = uf_hash_new(a, err))) {
            uf_tuf_check_free(ck);
            return NULL;
        }
    }
    return ck;
}

bool uf_tuf_check_update(uf_tuf_content_check *ck, const void *data, size_t len, uf_error *err)
{
    ck->seen += len;
    if (ck->length >= 0 && ck->seen > (uint64_t)ck->length)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: %llu bytes, longer than the listed %lld",
                            ck->label, (unsigned long long)ck->seen, (long long)ck->length);
    for (size_t i = 0; i < ck->n; i++)
        if (!uf_hash_update(ck->h[i], data, len, err))
            return uf_error_prefix(err, "%s", ck->label);
    return true;
}

bool uf_tuf_check_end(uf_tuf_content_check *ck, uf_error *err)
{
    if (ck->length >= 0 && ck->seen != (uint64_t)ck->length)
        return uf_error_set(err, UF_E_HASH_MISMATCH,
                            "%s: length %llu does not match the listed %lld", ck->label,
                            (unsigned long long)ck->seen, (long long)ck->length);
    for (size_t i = 0; i < ck->n; i++) {
        char hex[UF_HASH_MAX_HEX];
        if (!uf_hash_final_hex(ck->h[i], hex, err))
            return uf_error_prefix(err, "%s", ck->label);
        if (strcmp(hex, ck->expected[i]) != 0)
            return uf_error_set(err, UF_E_HASH_MISMATCH, "%s: %s %s does not match the listed %s",
                                ck->label, ck->alg[i], hex, ck->expected[i]);
    }
    return true;
}

bool uf_tuf_check_content(const char *label, const json_t *hashes, int64_t length,
                          const void *data, size_t len, uf_error *err)
{
    uf_tuf_content_check *ck = uf_tuf_check_begin(label, hashes, length, err);
    bool ok = ck && uf_tuf_check_update(ck, data, len, err) && uf_tuf_check_end(ck, err);
    uf_tuf_check_free(ck);
    return ok;
}
