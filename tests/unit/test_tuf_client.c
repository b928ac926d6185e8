/*
 * test_tuf_client.c - the TUF client workflow against repositories built in memory
 * (tuf_fixture.c) and the shipped vectors (tests/data/tuf-vectors): every attack of tuf.md
 * §10 is refused with its stable code and a message naming the file and the check; correct
 * root rotations, key rotations and delegations are accepted; the request sequence and the
 * bytes stored match what the conformance suite expects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/hash.h"
#include "lib/tuf_client.h"
#include "tuf_fixture.h"

#define VECTORS UF_TEST_DATA_DIR "/tuf-vectors/"

/* The refusal carries `code` and a message containing `text`. */
static void assert_refused(bool ok, const uf_error *err, uf_code code, const char *text)
{
    if (ok)
        fail_msg("expected a refusal with %s (%s), but it succeeded", uf_code_name(code), text);
    if (err->code != code || !strstr(err->msg, text))
        fail_msg("expected %s containing \"%s\", got %s: %s", uf_code_name(code), text,
                 uf_code_name(err->code), err->msg);
}

static void refresh_ok(tuf_fixture *fx)
{
    uf_tuf_client *c = fx_client(fx);
    uf_error err;
    if (!uf_tuf_client_refresh(c, &err))
        fail_msg("refresh: %s", err.msg);
    uf_tuf_client_free(c);
}

/* Refresh succeeds and leaves `role` trusted at `version`. */
static void refresh_expect(tuf_fixture *fx, const char *role, int64_t version)
{
    uf_tuf_client *c = fx_client(fx);
    uf_error err;
    if (!uf_tuf_client_refresh(c, &err))
        fail_msg("refresh: %s", err.msg);
    assert_int_equal(uf_tuf_client_trusted_version(c, role), version);
    uf_tuf_client_free(c);
}

static void refresh_refused(tuf_fixture *fx, uf_code code, const char *text)
{
    uf_tuf_client *c = fx_client(fx);
    uf_error err;
    bool ok = uf_tuf_client_refresh(c, &err);
    uf_tuf_client_free(c);
    assert_refused(ok, &err, code, text);
}

/* Find and fetch path; returns the error (code UF_OK on success) and the content. */
static uf_error get_target(tuf_fixture *fx, const char *path, uf_buf *content)
{
    uf_tuf_client *c = fx_client(fx);
    uf_error err;
    uf_error_clear(&err);
    uf_tuf_target_info t;
    uf_buf scratch = UF_BUF_INIT;
    if (uf_tuf_client_find_target(c, path, &t, &err) &&
        uf_tuf_client_fetch_target(c, &t, content ? content : &scratch, &err))
        uf_error_clear(&err);
    uf_buf_free(&scratch);
    uf_tuf_client_free(c);
    return err;
}

static char *read_local(const tuf_fixture *fx, const char *file, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fx->dir, file);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, fp);
    fclose(fp);
    return buf;
}

static void assert_requests(tuf_fixture *fx, const char *expected)
{
    char *got = fx_request_list(fx);
    assert_string_equal(got, expected);
    free(got);
}

/* --- the happy path and the protocol ------------------------------------------------- */

static void test_refresh_request_sequence_and_stored_bytes(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    refresh_ok(fx);
    assert_requests(fx, "metadata/2.root.json,metadata/timestamp.json,"
                        "metadata/1.snapshot.json,metadata/1.targets.json");
    static const char *const files[][2] = {{"timestamp.json", "metadata/timestamp.json"},
                                           {"snapshot.json", "metadata/1.snapshot.json"},
                                           {"targets.json", "metadata/1.targets.json"},
                                           {"root.json", "metadata/1.root.json"}};
    for (size_t i = 0; i < 4; i++) {
        size_t len = 0, served_len = 0;
        char *local = read_local(fx, files[i][0], &len);
        const char *served = fx_get(fx, files[i][1], &served_len);
        assert_non_null(local);
        assert_int_equal(len, served_len);
        assert_memory_equal(local, served, len);
        free(local);
    }
    /* an unchanged repository: only root probe and timestamp */
    fx_clear_requests(fx);
    uf_buf content = UF_BUF_INIT;
    uf_error err = get_target(fx, "file1.txt", &content);
    assert_int_equal(err.code, UF_OK);
    assert_string_equal(content.data, "hello world\n");
    assert_requests(fx, "metadata/2.root.json,metadata/timestamp.json,targets/"
                        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447."
                        "file1.txt");
    uf_buf_free(&content);
    fx_free(fx);
}

static void test_download_cache_fetches_nothing(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    char dest[256];
    snprintf(dest, sizeof dest, "%s/out/file1.txt", fx->dir);
    for (int round = 0; round < 2; round++) {
        fx_clear_requests(fx);
        uf_tuf_client *c = fx_client(fx);
        uf_tuf_target_info t;
        uf_error err;
        if (!uf_tuf_client_find_target(c, "file1.txt", &t, &err) ||
            !uf_tuf_client_download_target(c, &t, dest, &err))
            fail_msg("download: %s", err.msg);
        uf_tuf_client_free(c);
        char *list = fx_request_list(fx);
        assert_int_equal(strstr(list, "targets/") != NULL, round == 0);
        free(list);
    }
    fx_free(fx);
}

static void test_shipped_vectors_end_to_end(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    /* serve the vectors instead of the fixture's repository */
    for (size_t i = 0; i < fx->n_files; i++)
        fx->files[i].len = 0, fx->files[i].name[0] = '\0';
    static const char *const files[] = {
        "metadata/1.root.json", "metadata/timestamp.json", "metadata/1.snapshot.json",
        "metadata/1.targets.json",
        "targets/a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447.file1.txt"};
    for (size_t i = 0; i < 5; i++) {
        char path[512], buf[65536];
        snprintf(path, sizeof path, VECTORS "%s", files[i]);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        size_t len = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        fx_put(fx, files[i], buf, len);
        if (i == 0) {
            uf_error err;
            assert_true(uf_tuf_client_install_root(fx->dir, buf, len, &err));
        }
    }
    fx_clear_requests(fx);
    refresh_ok(fx);
    assert_requests(fx, "metadata/2.root.json,metadata/timestamp.json,"
                        "metadata/1.snapshot.json,metadata/1.targets.json");
    fx_clear_requests(fx);
    uf_buf content = UF_BUF_INIT;
    uf_error err = get_target(fx, "file1.txt", &content);
    if (err.code != UF_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(content.len, 12);
    assert_memory_equal(content.data, "hello world\n", 12);
    assert_requests(fx, "metadata/2.root.json,metadata/timestamp.json,targets/"
                        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447."
                        "file1.txt");
    uf_buf_free(&content);
    fx_free(fx);
}

/* --- arbitrary software, wrong hash or length ---------------------------------------- */

static void test_target_substituted(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_put(fx, "targets/a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447."
               "file1.txt", "hello WORLD\n", 12);
    uf_error err = get_target(fx, "file1.txt", NULL);
    assert_refused(false, &err, UF_E_HASH_MISMATCH, "file1.txt: sha256 ");
    fx_free(fx);
}

static void test_target_length(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    const char *name =
        "targets/a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447.file1.txt";
    fx_put(fx, name, "hello world\n and then some endless data", 39);
    uf_error err = get_target(fx, "file1.txt", NULL);
    assert_refused(false, &err, UF_E_TOO_LARGE, "more than 12 bytes");
    fx_put(fx, name, "hello world", 11);
    err = get_target(fx, "file1.txt", NULL);
    assert_refused(false, &err, UF_E_HASH_MISMATCH,
                   "file1.txt: length 11 does not match the listed 12");
    fx_free(fx);
}

static void test_target_unknown_hash_algorithm(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    json_t *t = json_object_get(json_object_get(fx->targets.signed_part, "targets"), "file1.txt");
    json_object_set_new(json_object_get(t, "hashes"), "sha3-256", json_string("00"));
    fx_update(fx);
    uf_error err = get_target(fx, "file1.txt", NULL);
    assert_refused(false, &err, UF_E_UNSUPPORTED, "unsupported hash algorithm \"sha3-256\"");
    fx_free(fx);
}

static void test_no_such_target(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    uf_error err = get_target(fx, "nope.txt", NULL);
    assert_refused(false, &err, UF_E_NOT_FOUND, "nope.txt: no such target");
    fx_free(fx);
}

/* --- signatures: threshold, one key counted twice, tampering ------------------------- */

static void test_threshold_not_met(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_keys two = fx->targets.signers;
    fx_keys_add(&two, fx_new_key(fx));
    fx_set_role_keys(fx, "targets", &two, 2);
    fx_set_version(fx->root.signed_part, 2);
    fx_publish_root(fx);
    fx->targets.signers.n = 1; /* only one of the two signs */
    fx_update(fx);
    refresh_refused(fx, UF_E_THRESHOLD,
                    "targets.json: signature threshold 2 of the targets keys not met (1 valid)");
    fx->targets.signers = two;
    fx_update(fx);
    refresh_ok(fx);
    fx_free(fx);
}

static void test_unsigned_timestamp(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_keys none = {0};
    fx->timestamp.signers = none;
    fx_update(fx);
    refresh_refused(fx, UF_E_THRESHOLD,
                    "timestamp.json: signature threshold 1 of the timestamp keys not met");
    fx_free(fx);
}

static void test_tampered_signed_part(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    size_t len = 0;
    const char *data = fx_get(fx, "metadata/1.targets.json", &len);
    char *copy = strdup(data);
    char *v = strstr(copy, "\"length\":12");
    assert_non_null(v);
    v[10] = '3';
    fx_put(fx, "metadata/1.targets.json", copy, len);
    free(copy);
    refresh_refused(fx, UF_E_THRESHOLD, "targets.json: signature threshold 1 of the targets keys");
    fx_free(fx);
}

static void test_same_keyid_twice_in_signatures(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_keys twice = fx->snapshot.signers;
    fx_keys_add(&twice, fx->snapshot.signers.keys[0]);
    fx->snapshot.signers = twice;
    fx_update(fx);
    refresh_refused(fx, UF_E_BAD_SIGNATURE, "snapshot.json: signatures: keyid ");
    fx_free(fx);
}

static void test_two_keyids_for_one_key(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    /* the same public key listed under a second keyid (extra field, so another hash) */
    uf_key *k = fx->targets.signers.keys[0];
    json_t *alias = uf_key_to_json(k, NULL);
    json_object_set_new(alias, "x-alias", json_true());
    char alias_id[UF_KEYID_HEX];
    assert_true(uf_keyid_of_json(alias, alias_id, NULL));
    json_object_set_new(json_object_get(fx->root.signed_part, "keys"), alias_id, alias);
    json_t *role = json_object_get(json_object_get(fx->root.signed_part, "roles"), "targets");
    json_array_append_new(json_object_get(role, "keyids"), json_string(alias_id));
    json_object_set_new(role, "threshold", json_integer(2));
    fx_set_version(fx->root.signed_part, 2);
    fx_publish_root(fx);
    /* sign targets with the key under both ids */
    fx_keys both = fx->targets.signers;
    both.keys[1] = k;
    memcpy(both.keyids[1], alias_id, UF_KEYID_HEX);
    both.n = 2;
    fx->targets.signers = both;
    fx_update(fx);
    refresh_refused(fx, UF_E_THRESHOLD,
                    "targets.json: signature threshold 2 of the targets keys not met (1 valid)");
    fx_free(fx);
}

static void test_empty_signatures_ignored_and_unknown_fields_kept(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    json_object_set_new(fx->targets.signed_part, "x-custom", json_pack("{s:i}", "n", 1));
    json_object_set_new(fx->targets.signed_part, "spec_version", json_string("1.0"));
    fx_update(fx);
    /* add an unsigned slot to timestamp */
    size_t len = 0;
    const char *ts = fx_get(fx, "metadata/timestamp.json", &len);
    json_t *doc = json_loadb(ts, len, 0, NULL);
    json_array_append_new(json_object_get(doc, "signatures"),
                          json_pack("{s:s,s:s}", "keyid", "00", "sig", ""));
    char *s = json_dumps(doc, JSON_COMPACT);
    fx_put(fx, "metadata/timestamp.json", s, strlen(s));
    free(s);
    json_decref(doc);
    refresh_ok(fx);
    size_t local_len = 0, served_len = 0;
    char *local = read_local(fx, "targets.json", &local_len);
    const char *served = fx_get(fx, "metadata/2.targets.json", &served_len);
    assert_int_equal(local_len, served_len);
    assert_memory_equal(local, served, local_len);
    free(local);
    fx_free(fx);
}

static void test_wrong_type_and_spec_version(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    size_t len = 0;
    const char *snap = fx_get(fx, "metadata/1.snapshot.json", &len);
    fx_put(fx, "metadata/timestamp.json", snap, len);
    refresh_refused(fx, UF_E_BAD_FIELD, "timestamp.json: _type is \"snapshot\"");
    fx_free(fx);
    fx = fx_new();
    json_object_set_new(fx->timestamp.signed_part, "spec_version", json_string("2.0.0"));
    fx_update(fx);
    refresh_refused(fx, UF_E_BAD_FIELD, "timestamp.json: spec_version \"2.0.0\" is not 1.x");
    fx_free(fx);
}

/* --- rollback ------------------------------------------------------------------------ */

static void test_timestamp_rollback(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_update(fx);
    fx_update(fx);
    fx_update(fx); /* timestamp 4 */
    refresh_ok(fx);
    fx_set_version(fx->timestamp.signed_part, 3);
    fx_publish(fx);
    refresh_refused(fx, UF_E_ROLLBACK,
                    "timestamp.json: version 3 is older than the trusted 4 (rollback)");
    fx_free(fx);
}

static void test_snapshot_version_rollback_in_timestamp(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_update(fx);
    refresh_ok(fx); /* trusted: timestamp 2 listing snapshot 2 */
    fx_set_version(fx->snapshot.signed_part, 1);
    fx_set_version(fx->timestamp.signed_part, 3);
    fx_publish(fx);
    refresh_refused(fx, UF_E_ROLLBACK,
                    "timestamp.json: snapshot.json version 1 is older than the trusted 2 "
                    "(rollback)");
    fx_free(fx);
}

static void test_targets_rollback_in_snapshot(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_update(fx);
    refresh_ok(fx); /* trusted snapshot lists targets 2 */
    fx_set_version(fx->targets.signed_part, 1);
    fx_set_version(fx->snapshot.signed_part, 3);
    fx_set_version(fx->timestamp.signed_part, 3);
    fx_publish(fx);
    refresh_refused(fx, UF_E_ROLLBACK,
                    "snapshot.json: targets.json version 1 is older than the trusted 2 "
                    "(rollback)");
    fx_free(fx);
}

static void test_role_removed_from_snapshot(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    static const char *const all[] = {"*", NULL};
    fx_delegate(fx, "targets", "role1", all, false);
    fx_update(fx);
    refresh_ok(fx);
    json_decref(fx->delegated[0].signed_part);
    fx->n_delegated = 0; /* role1.json vanishes from the snapshot */
    fx_update(fx);
    refresh_refused(fx, UF_E_ROLLBACK,
                    "snapshot.json: role1.json is no longer listed, but the trusted snapshot "
                    "lists it (rollback)");
    fx_free(fx);
}

static void test_root_rollback(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    size_t len = 0;
    const char *v1 = fx_get(fx, "metadata/1.root.json", &len);
    fx_put(fx, "metadata/2.root.json", v1, len);
    refresh_refused(fx, UF_E_ROLLBACK,
                    "2.root.json: version 1 is older than the expected 2 (rollback)");
    fx_free(fx);
}

/* --- indefinite freeze ---------------------------------------------------------------- */

static void test_expired_metadata(void **state)
{
    (void)state;
    static const char *const roles[] = {"timestamp", "snapshot", "targets", "root"};
    static const char *const expected[] = {
        "timestamp.json: expired at 2025-12-31T00:00:00Z (freeze)",
        "snapshot.json: expired at 2025-12-31T00:00:00Z (freeze)",
        "targets.json: expired at 2025-12-31T00:00:00Z (freeze)",
        "2.root.json: expired at 2025-12-31T00:00:00Z (freeze)"};
    for (size_t i = 0; i < 4; i++) {
        tuf_fixture *fx = fx_new();
        fx_role *r = i == 0 ? &fx->timestamp : i == 1 ? &fx->snapshot : i == 2 ? &fx->targets
                                                                              : &fx->root;
        fx_set_expires(r->signed_part, "2025-12-31T00:00:00Z");
        if (i == 3) {
            fx_set_version(fx->root.signed_part, 2);
            fx_publish_root(fx);
        }
        fx_update(fx);
        uf_tuf_client *c = fx_client(fx);
        uf_error err;
        bool ok = uf_tuf_client_refresh(c, &err);
        uf_tuf_client_free(c);
        /* the trusted root is stored as root.json after the walk */
        assert_refused(ok, &err, UF_E_EXPIRED, i == 3 ? "root.json: expired at" : expected[i]);
        (void)roles;
        fx_free(fx);
    }
}

static void test_fixed_start_time(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx->now = INT64_C(1893456000); /* 2030-01-01T00:00:00Z: expires == now is expired */
    refresh_refused(fx, UF_E_EXPIRED, "root.json: expired at 2030-01-01T00:00:00Z (freeze)");
    fx_free(fx);
}

/* --- endless data --------------------------------------------------------------------- */

static void test_endless_metadata(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    char *pad = malloc(20000);
    memset(pad, 'x', 19999);
    pad[19999] = '\0';
    json_object_set_new(fx->timestamp.signed_part, "x-pad", json_string(pad));
    free(pad);
    fx_update(fx);
    refresh_refused(fx, UF_E_TOO_LARGE, "more than 16384 bytes");
    fx_free(fx);

    /* snapshot longer than the length the timestamp lists */
    fx = fx_new();
    fx_update(fx);
    size_t len = 0;
    const char *snap = fx_get(fx, "metadata/2.snapshot.json", &len);
    char *longer = malloc(len + 10);
    memcpy(longer, snap, len);
    memset(longer + len, ' ', 10);
    fx_put(fx, "metadata/2.snapshot.json", longer, len + 10);
    free(longer);
    refresh_refused(fx, UF_E_TOO_LARGE, "metadata/2.snapshot.json: more than");
    fx_free(fx);

    /* a root past the 512 000-byte cap */
    fx = fx_new();
    char *huge = malloc(600000);
    memset(huge, ' ', 600000);
    fx_put(fx, "metadata/2.root.json", huge, 600000);
    free(huge);
    refresh_refused(fx, UF_E_TOO_LARGE, "2.root.json: metadata/2.root.json: more than 512000");
    fx_free(fx);
}

/* A write that fails (here: rename onto a directory) fails the refresh with the file and the
 * step, leaves no temporary file, and a later run updates normally. */
static void test_persist_failure_is_recoverable(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    char path[256];
    snprintf(path, sizeof path, "%s/snapshot.json", fx->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    refresh_refused(fx, UF_E_IO, "snapshot.json: persist: rename");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q tmp", fx->dir);
    assert_int_not_equal(system(cmd), 0);
    assert_int_equal(rmdir(path), 0);
    fx_clear_requests(fx);
    refresh_ok(fx);
    /* timestamp.json was persisted by the failed run: only snapshot and targets are new */
    assert_requests(fx, "metadata/2.root.json,metadata/timestamp.json,"
                        "metadata/1.snapshot.json,metadata/1.targets.json");
    fx_free(fx);
}

/* --- mix-and-match -------------------------------------------------------------------- */

static void test_snapshot_hash_in_timestamp(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_update(fx);
    /* a different snapshot 2 of the same length, validly signed */
    fx_set_expires(fx->snapshot.signed_part, "2031-01-01T00:00:00Z");
    fx_serve_as(fx, &fx->snapshot, "metadata/2.snapshot.json");
    refresh_refused(fx, UF_E_HASH_MISMATCH, "snapshot.json: sha256 ");
    fx_free(fx);
}

static void test_snapshot_version_not_as_timestamp_says(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx->timestamp_hashes = false;
    fx_update(fx);
    /* serve snapshot version 3 under the name 2.snapshot.json */
    fx_set_version(fx->snapshot.signed_part, 3);
    fx_serve_as(fx, &fx->snapshot, "metadata/2.snapshot.json");
    refresh_refused(fx, UF_E_CONFLICT,
                    "snapshot.json: version 3 does not match the version 2 that timestamp.json "
                    "lists (mix-and-match)");
    fx_free(fx);
}

static void test_targets_version_not_as_snapshot_says(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_update(fx);
    fx_set_version(fx->targets.signed_part, 5);
    fx_serve_as(fx, &fx->targets, "metadata/2.targets.json");
    refresh_refused(fx, UF_E_CONFLICT,
                    "targets.json: version 5 does not match the version 2 that snapshot.json "
                    "lists (mix-and-match)");
    fx_free(fx);
}

/* --- root rotation, key rotation, fast-forward recovery ------------------------------- */

static void test_root_rotation_chain(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    /* 1 -> 2: one key, threshold 1 -> two new keys, threshold 2; 2 -> 3: three new keys,
     * threshold 3; each signed by the old and the new root keys; 3 -> 4: a new timestamp key */
    fx_rotate(fx, "root", 2, 2);
    fx_rotate(fx, "root", 3, 3);
    fx_rotate(fx, "timestamp", 1, 1);
    fx_update(fx);
    refresh_expect(fx, "root", 4);
    refresh_expect(fx, "timestamp", 2);
    fx_free(fx);
}

static void test_root_rotation_needs_old_threshold(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_keys k2 = {0};
    fx_keys_add(&k2, fx_new_key(fx));
    fx_set_role_keys(fx, "root", &k2, 1);
    fx_set_version(fx->root.signed_part, 2);
    fx_publish_root(fx); /* signed by the new key only */
    refresh_refused(fx, UF_E_THRESHOLD,
                    "2.root.json: signature threshold 1 of the root (version 1) keys not met "
                    "(0 valid)");
    fx_free(fx);
}

static void test_root_rotation_needs_new_threshold(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_keys old = fx->root.signers, k2 = {0};
    fx_keys_add(&k2, fx_new_key(fx));
    fx_keys_add(&k2, fx_new_key(fx));
    fx_set_role_keys(fx, "root", &k2, 2);
    fx_set_version(fx->root.signed_part, 2);
    fx->root.signers.n = 1; /* only one of the two new keys */
    fx->extra_root_signers = old;
    fx_publish_root(fx);
    refresh_refused(fx, UF_E_THRESHOLD,
                    "2.root.json: signature threshold 2 of the root (version 2) keys not met "
                    "(1 valid)");
    fx_free(fx);
}

static void test_rotated_out_snapshot_key(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    refresh_ok(fx);
    fx_keys old = fx->snapshot.signers, fresh = fx_rotate(fx, "snapshot", 1, 1);
    /* a snapshot still signed by the rotated-out key is refused ... */
    fx->snapshot.signers = old;
    fx_update(fx);
    refresh_refused(fx, UF_E_THRESHOLD, "snapshot.json: signature threshold 1 of the snapshot");
    /* ... and the client recovers once the repository signs with the new key */
    fx->snapshot.signers = fresh;
    fx_update(fx);
    refresh_ok(fx);
    fx_free(fx);
}

/* ecdsa-sha2-nistp256 and rsassa-pss-sha256 roles (the conformance suite's defaults). */
static void test_ecdsa_and_rsa_keys(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    static const struct {
        const char *role;
        uf_key_type type;
    } roles[] = {{"root", UF_KEY_ECDSA_P256}, {"targets", UF_KEY_ECDSA_P256},
                 {"snapshot", UF_KEY_RSA_PSS}, {"timestamp", UF_KEY_ECDSA_P256}};
    fx_keys old_root = fx->root.signers;
    for (size_t i = 0; i < 4; i++) {
        uf_error err;
        uf_key *k = uf_key_generate(roles[i].type, &err);
        if (!k)
            fail_msg("generate: %s", err.msg);
        fx->pool[fx->n_pool++] = k;
        fx_keys keys = {0};
        fx_keys_add(&keys, k);
        fx_set_role_keys(fx, roles[i].role, &keys, 1);
    }
    fx_set_version(fx->root.signed_part, 2);
    fx->extra_root_signers = old_root;
    fx_publish_root(fx);
    fx_update(fx);
    uf_buf content = UF_BUF_INIT;
    uf_error err = get_target(fx, "file1.txt", &content);
    if (err.code != UF_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(content.data, "hello world\n");
    uf_buf_free(&content);
    fx_free(fx);
}

static void test_fast_forward_recovery_timestamp(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    /* an attacker with the timestamp key fast-forwards the client to timestamp 99 */
    fx_set_version(fx->timestamp.signed_part, 99);
    fx_publish(fx);
    refresh_ok(fx);
    /* the repository rotates the timestamp key and starts over at 1 */
    fx_rotate(fx, "timestamp", 1, 1);
    fx_set_version(fx->timestamp.signed_part, 1);
    fx_publish(fx);
    refresh_expect(fx, "timestamp", 1);
    fx_free(fx);
}

static void test_fast_forward_recovery_snapshot(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_set_version(fx->snapshot.signed_part, 99);
    fx_set_version(fx->timestamp.signed_part, 2);
    fx_publish(fx);
    refresh_ok(fx);
    /* without a rotation, going back is a rollback */
    fx_set_version(fx->snapshot.signed_part, 1);
    fx_set_version(fx->timestamp.signed_part, 3);
    fx_publish(fx);
    refresh_refused(fx, UF_E_ROLLBACK, "snapshot.json version 1 is older than the trusted 99");
    /* after rotating the snapshot key the client accepts the new snapshot 1 */
    fx_rotate(fx, "snapshot", 1, 1);
    fx_publish(fx);
    refresh_expect(fx, "snapshot", 1);
    fx_free(fx);
}

/* --- delegations ---------------------------------------------------------------------- */

static void test_delegated_target_found(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    static const char *const a[] = {"a/*", NULL};
    fx_role *r = fx_delegate(fx, "targets", "role-a", a, false);
    fx_add_target(fx, r->signed_part, "a/x.txt", "in a\n");
    fx_update(fx);
    uf_buf content = UF_BUF_INIT;
    uf_error err = get_target(fx, "a/x.txt", &content);
    if (err.code != UF_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(content.data, "in a\n");
    uf_buf_free(&content);
    fx_free(fx);
}

static void test_delegated_role_outside_its_paths(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    static const char *const a[] = {"a/*", NULL};
    fx_role *r = fx_delegate(fx, "targets", "role-a", a, false);
    fx_add_target(fx, r->signed_part, "b/evil.txt", "evil\n"); /* not its paths */
    fx_add_target(fx, r->signed_part, "a/deep/x.txt", "deep\n"); /* "a/STAR" covers one segment */
    fx_update(fx);
    uf_error err = get_target(fx, "b/evil.txt", NULL);
    assert_refused(false, &err, UF_E_NOT_FOUND, "b/evil.txt: no such target");
    err = get_target(fx, "a/deep/x.txt", NULL);
    assert_refused(false, &err, UF_E_NOT_FOUND, "a/deep/x.txt: no such target");
    fx_free(fx);
}

static void test_delegated_role_wrong_key(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    static const char *const a[] = {"*", NULL};
    fx_role *r = fx_delegate(fx, "targets", "role-a", a, false);
    fx_add_target(fx, r->signed_part, "x.txt", "x\n");
    fx_keys_clear(&r->signers);
    fx_keys_add(&r->signers, fx_new_key(fx)); /* not the delegated key */
    fx_update(fx);
    uf_error err = get_target(fx, "x.txt", NULL);
    assert_refused(false, &err, UF_E_THRESHOLD,
                   "role-a.json: signature threshold 1 of the role-a keys not met (0 valid)");
    fx_free(fx);
}

static void test_terminating_delegation_stops_search(void **state)
{
    (void)state;
    for (int terminating = 0; terminating < 2; terminating++) {
        tuf_fixture *fx = fx_new();
        static const char *const all[] = {"*", NULL};
        fx_delegate(fx, "targets", "first", all, terminating);
        fx_role *second = fx_delegate(fx, "targets", "second", all, false);
        fx_add_target(fx, second->signed_part, "x.txt", "x\n");
        fx_update(fx);
        fx_clear_requests(fx);
        uf_error err = get_target(fx, "x.txt", NULL);
        if (terminating) {
            assert_refused(false, &err, UF_E_NOT_FOUND, "x.txt: no such target");
            char *list = fx_request_list(fx);
            assert_null(strstr(list, "second"));
            free(list);
        } else {
            assert_int_equal(err.code, UF_OK);
            char *list = fx_request_list(fx);
            assert_non_null(strstr(list, "metadata/1.first.json,metadata/1.second.json"));
            free(list);
        }
        fx_free(fx);
    }
}

static void test_delegation_visit_limit_and_order(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    static const char *const all[] = {"*", NULL};
    /* targets -> d1 -> d2 -> ... -> d40, the target only in d40 */
    char prev[16] = "targets", name[16];
    fx_role *r = NULL;
    for (int i = 1; i <= 40; i++) {
        snprintf(name, sizeof name, "d%d", i);
        r = fx_delegate(fx, prev, name, all, false);
        memcpy(prev, name, sizeof prev);
    }
    fx_add_target(fx, r->signed_part, "deep.txt", "deep\n");
    fx_update(fx);
    uf_error err = get_target(fx, "deep.txt", NULL);
    assert_refused(false, &err, UF_E_NOT_FOUND, "the limit");
    fx_free(fx);

    /* a cycle: a -> b -> a is visited once each */
    fx = fx_new();
    fx_delegate(fx, "targets", "a", all, false);
    fx_delegate(fx, "a", "b", all, false);
    json_t *del_b = json_pack("{s:{},s:[]}", "keys", "roles");
    json_object_set_new(fx->delegated[1].signed_part, "delegations", del_b);
    json_t *role_a = json_deep_copy(
        json_array_get(json_object_get(json_object_get(fx->targets.signed_part, "delegations"),
                                       "roles"), 0));
    json_array_append_new(json_object_get(del_b, "roles"), role_a);
    json_object_update(json_object_get(del_b, "keys"),
                       json_object_get(json_object_get(fx->targets.signed_part, "delegations"),
                                       "keys"));
    fx_update(fx);
    fx_clear_requests(fx);
    err = get_target(fx, "none.txt", NULL);
    assert_refused(false, &err, UF_E_NOT_FOUND, "none.txt: no such target");
    assert_requests(fx, "metadata/2.root.json,metadata/timestamp.json,"
                        "metadata/2.snapshot.json,metadata/2.targets.json,metadata/1.a.json,"
                        "metadata/1.b.json");
    fx_free(fx);
}

static void test_delegation_preorder(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    static const char *const all[] = {"*", NULL}, *const other[] = {"other/*", NULL};
    fx_delegate(fx, "targets", "A", all, false);
    fx_delegate(fx, "targets", "skipped", other, false); /* pruned by its paths */
    fx_delegate(fx, "targets", "B", all, false);
    fx_delegate(fx, "A", "C", all, false);
    fx_role *d = fx_delegate(fx, "B", "D", all, false);
    fx_add_target(fx, d->signed_part, "x.txt", "x\n");
    fx_update(fx);
    refresh_ok(fx);
    fx_clear_requests(fx);
    uf_error err = get_target(fx, "x.txt", NULL);
    assert_int_equal(err.code, UF_OK);
    /* pre-order, list order, "skipped" never fetched; then the target itself */
    static const char expected[] = "metadata/2.root.json,metadata/timestamp.json,"
                                   "metadata/1.A.json,metadata/1.C.json,metadata/1.B.json,"
                                   "metadata/1.D.json,targets/";
    char *list = fx_request_list(fx);
    if (strncmp(list, expected, strlen(expected)) != 0)
        fail_msg("requests: %s", list);
    free(list);
    fx_free(fx);
}

static void test_percent_encoded_role_names(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    static const char *const all[] = {"*", NULL};
    fx_role *r = fx_delegate(fx, "targets", "../evil?#", all, false);
    fx_add_target(fx, r->signed_part, "x.txt", "x\n");
    fx_update(fx);
    fx_clear_requests(fx);
    uf_error err = get_target(fx, "x.txt", NULL);
    if (err.code != UF_OK)
        fail_msg("%s", err.msg);
    char *list = fx_request_list(fx);
    assert_non_null(strstr(list, "metadata/1...%2Fevil%3F%23.json"));
    free(list);
    char path[256];
    snprintf(path, sizeof path, "%s/..%%2Fevil%%3F%%23.json", fx->dir);
    assert_int_equal(access(path, F_OK), 0);
    fx_free(fx);
}

static void test_untrusted_initial_root(void **state)
{
    (void)state;
    tuf_fixture *fx = fx_new();
    fx_keys other = {0};
    fx_keys_add(&other, fx_new_key(fx));
    size_t len = 0;
    char *bad = fx_sign(fx->root.signed_part, &other, &len);
    uf_error err;
    assert_true(uf_tuf_client_install_root(fx->dir, bad, len, &err));
    free(bad);
    uf_tuf_client_config cfg = {.metadata_dir = fx->dir, .fetcher = fx_fetcher(fx)};
    uf_tuf_client *c = uf_tuf_client_open(&cfg, &err);
    assert_null(c);
    assert_refused(false, &err, UF_E_THRESHOLD, "root.json: signature threshold 1 of the root");
    fx_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_request_sequence_and_stored_bytes),
        cmocka_unit_test(test_download_cache_fetches_nothing),
        cmocka_unit_test(test_shipped_vectors_end_to_end),
        cmocka_unit_test(test_target_substituted),
        cmocka_unit_test(test_target_length),
        cmocka_unit_test(test_target_unknown_hash_algorithm),
        cmocka_unit_test(test_no_such_target),
        cmocka_unit_test(test_threshold_not_met),
        cmocka_unit_test(test_unsigned_timestamp),
        cmocka_unit_test(test_tampered_signed_part),
        cmocka_unit_test(test_same_keyid_twice_in_signatures),
        cmocka_unit_test(test_two_keyids_for_one_key),
        cmocka_unit_test(test_empty_signatures_ignored_and_unknown_fields_kept),
        cmocka_unit_test(test_wrong_type_and_spec_version),
        cmocka_unit_test(test_timestamp_rollback),
        cmocka_unit_test(test_snapshot_version_rollback_in_timestamp),
        cmocka_unit_test(test_targets_rollback_in_snapshot),
        cmocka_unit_test(test_role_removed_from_snapshot),
        cmocka_unit_test(test_root_rollback),
        cmocka_unit_test(test_expired_metadata),
        cmocka_unit_test(test_fixed_start_time),
        cmocka_unit_test(test_endless_metadata),
        cmocka_unit_test(test_persist_failure_is_recoverable),
        cmocka_unit_test(test_snapshot_hash_in_timestamp),
        cmocka_unit_test(test_snapshot_version_not_as_timestamp_says),
        cmocka_unit_test(test_targets_version_not_as_snapshot_says),
        cmocka_unit_test(test_root_rotation_chain),
        cmocka_unit_test(test_root_rotation_needs_old_threshold),
        cmocka_unit_test(test_root_rotation_needs_new_threshold),
        cmocka_unit_test(test_rotated_out_snapshot_key),
        cmocka_unit_test(test_ecdsa_and_rsa_keys),
        cmocka_unit_test(test_fast_forward_recovery_timestamp),
        cmocka_unit_test(test_fast_forward_recovery_snapshot),
        cmocka_unit_test(test_delegated_target_found),
        cmocka_unit_test(test_delegated_role_outside_its_paths),
        cmocka_unit_test(test_delegated_role_wrong_key),
        cmocka_unit_test(test_terminating_delegation_stops_search),
        cmocka_unit_test(test_delegation_visit_limit_and_order),
        cmocka_unit_test(test_delegation_preorder),
        cmocka_unit_test(test_percent_encoded_role_names),
        cmocka_unit_test(test_untrusted_initial_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
