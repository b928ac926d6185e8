/*
 * tuf_fixture.c - in-memory TUF repositories for the client tests (see tuf_fixture.h).
 */
#include "tuf_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/canonical_json.h"
#include "lib/hash.h"

#define EXPIRES "2030-01-01T00:00:00Z"
#define NOW INT64_C(1767225600) /* 2026-01-01T00:00:00Z */

uf_key *fx_new_key(tuf_fixture *fx)
{
    uint8_t seed[32];
    memset(seed, 0, sizeof seed);
    fx->seed++;
    memcpy(seed, &fx->seed, sizeof fx->seed);
    seed[31] = 0x5a;
    uf_error err;
    uf_key *k = uf_key_ed25519_from_seed(seed, &err);
    if (!k)
        fail_msg("key: %s", err.msg);
    assert_true(fx->n_pool < 128);
    fx->pool[fx->n_pool++] = k;
    return k;
}

void fx_keys_add(fx_keys *k, uf_key *key)
{
    assert_true(k->n < FX_MAX_KEYS);
    k->keys[k->n] = key;
    assert_true(uf_key_keyid(key, k->keyids[k->n], NULL));
    k->n++;
}

void fx_keys_clear(fx_keys *k)
{
    k->n = 0;
}

static json_t *keyids_json(const fx_keys *k)
{
    json_t *a = json_array();
    for (size_t i = 0; i < k->n; i++)
        json_array_append_new(a, json_string(k->keyids[i]));
    return a;
}

static void add_keys_to(json_t *keys_obj, const fx_keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        json_object_set_new(keys_obj, k->keyids[i], uf_key_to_json(k->keys[i], NULL));
}

static fx_role *top_role(tuf_fixture *fx, const char *role)
{
    if (strcmp(role, "root") == 0)
        return &fx->root;
    if (strcmp(role, "timestamp") == 0)
        return &fx->timestamp;
    if (strcmp(role, "snapshot") == 0)
        return &fx->snapshot;
    if (strcmp(role, "targets") == 0)
        return &fx->targets;
    for (size_t i = 0; i < fx->n_delegated; i++)
        if (strcmp(fx->delegated[i].name, role) == 0)
            return &fx->delegated[i];
    fail_msg("no role %s", role);
    return NULL;
}

void fx_set_role_keys(tuf_fixture *fx, const char *role, fx_keys *keys, int threshold)
{
    json_t *s = fx->root.signed_part;
    add_keys_to(json_object_get(s, "keys"), keys);
    json_t *r = json_pack("{s:o,s:i}", "keyids", keyids_json(keys), "threshold", threshold);
    json_object_set_new(json_object_get(s, "roles"), role, r);
    fx_role *target = top_role(fx, role);
    if (keys != &target->signers)
        target->signers = *keys;
}

char *fx_sign(const json_t *signed_part, const fx_keys *keys, size_t *len)
{
    uf_buf canon = UF_BUF_INIT;
    uf_error err;
    if (!uf_canonical_json(signed_part, &canon, &err))
        fail_msg("canonical: %s", err.msg);
    json_t *sigs = json_array();
    for (size_t i = 0; i < keys->n; i++) {
        char *sig;
        if (!uf_key_sign(keys->keys[i], canon.data, canon.len, &sig, &err))
            fail_msg("sign: %s", err.msg);
        json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", keys->keyids[i], "sig", sig));
        free(sig);
    }
    uf_buf_free(&canon);
    json_t *env = json_pack("{s:O,s:o}", "signed", signed_part, "signatures", sigs);
    char *out = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(env);
    *len = strlen(out);
    return out;
}

void fx_put(tuf_fixture *fx, const char *name, const void *data, size_t len)
{
    size_t i = 0;
    while (i < fx->n_files && strcmp(fx->files[i].name, name) != 0)
        i++;
    if (i == fx->n_files) {
        assert_true(fx->n_files < FX_MAX_FILES);
        fx->files[fx->n_files++].name = strdup(name);
    } else {
        free(fx->files[i].data);
    }
    fx->files[i].data = malloc(len + 1);
    memcpy(fx->files[i].data, data, len);
    fx->files[i].data[len] = '\0';
    fx->files[i].len = len;
}

const char *fx_get(const tuf_fixture *fx, const char *name, size_t *len)
{
    for (size_t i = 0; i < fx->n_files; i++)
        if (strcmp(fx->files[i].name, name) == 0) {
            *len = fx->files[i].len;
            return fx->files[i].data;
        }
    return NULL;
}

void fx_set_version(json_t *signed_part, int64_t v)
{
    json_object_set_new(signed_part, "version", json_integer(v));
}

void fx_set_expires(json_t *signed_part, const char *when)
{
    json_object_set_new(signed_part, "expires", json_string(when));
}

static int64_t version_of(const json_t *s)
{
    return json_integer_value(json_object_get(s, "version"));
}

void fx_publish_root(tuf_fixture *fx)
{
    fx_keys all = fx->root.signers;
    for (size_t i = 0; i < fx->extra_root_signers.n; i++)
        fx_keys_add(&all, fx->extra_root_signers.keys[i]);
    size_t len = 0;
    char *data = fx_sign(fx->root.signed_part, &all, &len), name[64];
    snprintf(name, sizeof name, "metadata/%lld.root.json",
             (long long)version_of(fx->root.signed_part));
    fx_put(fx, name, data, len);
    free(data);
}

/* Serve role as metadata/V.NAME.json and return {version, length, hashes} for it. */
static json_t *publish_role(tuf_fixture *fx, fx_role *r, bool with_hashes)
{
    size_t len = 0;
    char *data = fx_sign(r->signed_part, &r->signers, &len), name[256], enc[200];
    uf_tuf_percent_encode(r->name, false, enc);
    snprintf(name, sizeof name, "metadata/%lld.%s.json", (long long)version_of(r->signed_part),
             enc);
    fx_put(fx, name, data, len);
    json_t *info = json_pack("{s:I}", "version", (json_int_t)version_of(r->signed_part));
    if (with_hashes) {
        char hex[UF_HASH_MAX_HEX];
        assert_true(uf_hash_buf_hex(UF_HASH_SHA256, data, len, hex, NULL));
        json_object_set_new(info, "length", json_integer((json_int_t)len));
        json_object_set_new(info, "hashes", json_pack("{s:s}", "sha256", hex));
    }
    free(data);
    return info;
}

void fx_publish(tuf_fixture *fx)
{
    json_t *meta = json_object();
    json_object_set_new(meta, "targets.json", publish_role(fx, &fx->targets, false));
    for (size_t i = 0; i < fx->n_delegated; i++) {
        char name[80];
        snprintf(name, sizeof name, "%s.json", fx->delegated[i].name);
        json_object_set_new(meta, name, publish_role(fx, &fx->delegated[i], false));
    }
    json_object_set_new(fx->snapshot.signed_part, "meta", meta);
    json_t *snap = publish_role(fx, &fx->snapshot, fx->timestamp_hashes);
    json_object_set_new(fx->timestamp.signed_part, "meta",
                        json_pack("{s:o}", "snapshot.json", snap));
    size_t len = 0;
    char *data = fx_sign(fx->timestamp.signed_part, &fx->timestamp.signers, &len);
    fx_put(fx, "metadata/timestamp.json", data, len);
    free(data);
}

void fx_update(tuf_fixture *fx)
{
    fx_set_version(fx->targets.signed_part, version_of(fx->targets.signed_part) + 1);
    fx_set_version(fx->snapshot.signed_part, version_of(fx->snapshot.signed_part) + 1);
    fx_set_version(fx->timestamp.signed_part, version_of(fx->timestamp.signed_part) + 1);
    fx_publish(fx);
}

void fx_serve_as(tuf_fixture *fx, const fx_role *role, const char *name)
{
    size_t len = 0;
    char *data = fx_sign(role->signed_part, &role->signers, &len);
    fx_put(fx, name, data, len);
    free(data);
}

fx_keys fx_rotate(tuf_fixture *fx, const char *role, size_t n, int threshold)
{
    fx_keys old_root = fx->root.signers, fresh = {0};
    for (size_t i = 0; i < n; i++)
        fx_keys_add(&fresh, fx_new_key(fx));
    fx_set_role_keys(fx, role, &fresh, threshold);
    fx_set_version(fx->root.signed_part, version_of(fx->root.signed_part) + 1);
    if (strcmp(role, "root") == 0)
        fx->extra_root_signers = old_root;
    fx_publish_root(fx);
    fx_keys_clear(&fx->extra_root_signers);
    return fresh;
}

void fx_add_target(tuf_fixture *fx, json_t *role_signed, const char *path, const char *content)
{
    char hex[UF_HASH_MAX_HEX], name[512];
    assert_true(uf_hash_buf_hex(UF_HASH_SHA256, content, strlen(content), hex, NULL));
    json_object_set_new(json_object_get(role_signed, "targets"), path,
                        json_pack("{s:I,s:{s:s}}", "length", (json_int_t)strlen(content),
                                  "hashes", "sha256", hex));
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    snprintf(name, sizeof name, "targets/%.*s%s.%s", dirlen, path, hex, path + dirlen);
    fx_put(fx, name, content, strlen(content));
}

static json_t *empty_targets(int64_t version)
{
    return json_pack("{s:s,s:s,s:I,s:s,s:{}}", "_type", "targets", "spec_version", "1.0.31",
                     "version", (json_int_t)version, "expires", EXPIRES, "targets");
}

fx_role *fx_delegate(tuf_fixture *fx, const char *delegator, const char *name,
                     const char *const paths[], bool terminating)
{
    fx_role *parent = top_role(fx, delegator);
    assert_true(fx->n_delegated < FX_MAX_DELEGATED);
    fx_role *r = &fx->delegated[fx->n_delegated++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->signed_part = empty_targets(1);
    fx_keys_add(&r->signers, fx_new_key(fx));
    json_t *del = json_object_get(parent->signed_part, "delegations");
    if (!del) {
        del = json_pack("{s:{},s:[]}", "keys", "roles");
        json_object_set_new(parent->signed_part, "delegations", del);
    }
    add_keys_to(json_object_get(del, "keys"), &r->signers);
    json_t *p = json_array();
    for (size_t i = 0; paths[i]; i++)
        json_array_append_new(p, json_string(paths[i]));
    json_array_append_new(json_object_get(del, "roles"),
                          json_pack("{s:s,s:o,s:i,s:b,s:o}", "name", name, "keyids",
                                    keyids_json(&r->signers), "threshold", 1, "terminating",
                                    terminating, "paths", p));
    return r;
}

static bool fetch(void *ctx, const char *url, size_t max_bytes, uf_buf *out, uf_error *err)
{
    tuf_fixture *fx = ctx;
    assert_true(fx->n_requests < FX_MAX_FILES);
    fx->requests[fx->n_requests++] = strdup(url);
    size_t len = 0;
    const char *data = fx_get(fx, url, &len);
    if (!data)
        return uf_error_set(err, UF_E_NOT_FOUND, "GET %s: HTTP 404", url);
    if (len > max_bytes)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: more than %zu bytes (endless data)", url,
                            max_bytes);
    return uf_buf_append(out, data, len, err);
}

uf_tuf_fetcher fx_fetcher(tuf_fixture *fx)
{
    return (uf_tuf_fetcher){.fetch = fetch, .ctx = fx};
}

void fx_clear_requests(tuf_fixture *fx)
{
    for (size_t i = 0; i < fx->n_requests; i++)
        free(fx->requests[i]);
    fx->n_requests = 0;
}

char *fx_request_list(const tuf_fixture *fx)
{
    uf_buf b = UF_BUF_INIT;
    for (size_t i = 0; i < fx->n_requests; i++) {
        if (i)
            uf_buf_append_char(&b, ',', NULL);
        uf_buf_append_str(&b, fx->requests[i], NULL);
    }
    return uf_buf_steal(&b, NULL, NULL);
}

uf_tuf_client *fx_client(tuf_fixture *fx)
{
    uf_tuf_client_config cfg = {.metadata_dir = fx->dir, .metadata_base = "metadata/",
                                .targets_base = "targets/", .fetcher = fx_fetcher(fx),
                                .now = fx->now};
    uf_error err;
    uf_tuf_client *c = uf_tuf_client_open(&cfg, &err);
    if (!c)
        fail_msg("open client: %s", err.msg);
    return c;
}

static void init_role(fx_role *r, const char *name, const char *type)
{
    snprintf(r->name, sizeof r->name, "%s", name);
    r->signed_part = json_pack("{s:s,s:s,s:i,s:s}", "_type", type, "spec_version", "1.0.31",
                               "version", 1, "expires", EXPIRES);
}

tuf_fixture *fx_new(void)
{
    tuf_fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->now = NOW;
    fx->timestamp_hashes = true;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/upflow-tuf-test.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    init_role(&fx->root, "root", "root");
    init_role(&fx->timestamp, "timestamp", "timestamp");
    init_role(&fx->snapshot, "snapshot", "snapshot");
    fx->targets.signed_part = empty_targets(1);
    snprintf(fx->targets.name, sizeof fx->targets.name, "targets");
    json_object_set_new(fx->root.signed_part, "consistent_snapshot", json_true());
    json_object_set_new(fx->root.signed_part, "keys", json_object());
    json_object_set_new(fx->root.signed_part, "roles", json_object());
    static const char *const roles[] = {"root", "timestamp", "snapshot", "targets"};
    for (size_t i = 0; i < 4; i++) {
        fx_keys k = {0};
        fx_keys_add(&k, fx_new_key(fx));
        fx_set_role_keys(fx, roles[i], &k, 1);
    }
    fx_add_target(fx, fx->targets.signed_part, "file1.txt", "hello world\n");
    fx_publish_root(fx);
    fx_publish(fx);
    size_t len = 0;
    const char *root = fx_get(fx, "metadata/1.root.json", &len);
    uf_error err;
    if (!uf_tuf_client_install_root(fx->dir, root, len, &err))
        fail_msg("install root: %s", err.msg);
    return fx;
}

void fx_free(tuf_fixture *fx)
{
    if (!fx)
        return;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fx->dir);
    json_decref(fx->root.signed_part);
    json_decref(fx->timestamp.signed_part);
    json_decref(fx->snapshot.signed_part);
    json_decref(fx->targets.signed_part);
    for (size_t i = 0; i < fx->n_delegated; i++)
        json_decref(fx->delegated[i].signed_part);
    for (size_t i = 0; i < fx->n_files; i++) {
        free(fx->files[i].name);
        free(fx->files[i].data);
    }
    fx_clear_requests(fx);
    for (size_t i = 0; i < fx->n_pool; i++)
        uf_key_free(fx->pool[i]);
    free(fx);
}
