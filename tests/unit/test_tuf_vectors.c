/*
 * test_tuf_vectors.c - the deterministic ed25519 repository of tuf.md §15 (tests/data/
 * tuf-vectors), cross-checked with python-tuf: canonical bytes of root's "signed", keyids of
 * every key (as listed and as derived from the seeds), every signature of every role, the
 * deterministic signatures themselves, single-byte tampering, and the snapshot and target
 * hashes that timestamp and targets record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/canonical_json.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/key.h"

#define VECTORS UF_TEST_DATA_DIR "/tuf-vectors/"
#define METADATA VECTORS "metadata/"

static const char root_sha256[] =
    "7b43f0ee720306ecec335a622666863339bd9c0183b2c13f4b2aec0ebd2ad19e";
static const char root_sig[] =
    "3b75a079f05981c6ed9d9c6955b0247f20fbff56e04a00ebe2853231f7b7f582"
    "32c57c14f887e9aab68c3cb9161ce8f22d1be71498a68d10fce00b7223607308";

/* tuf.md §15.1: role, seed byte, public key, keyid; file whose signature the key made. */
static const struct {
    const char *role, *file;
    uint8_t seed;
    const char *public_hex, *keyid;
} keys[] = {
    {"root", "1.root.json", 0x01,
     "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
     "7ab6b86cb2c9684b0ddc10896153aa2595decf4d4327a5ff1a8ab7422c828b12"},
    {"timestamp", "timestamp.json", 0x02,
     "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394",
     "c3f860ca5da4454d33496ca33bb48f0cdcd5b731be7316b67ca191db0185aa26"},
    {"snapshot", "1.snapshot.json", 0x03,
     "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1",
     "8bf5a507dc237a32c90c0a23b34bab6b386826145a5b726da75c91d466e4bf33"},
    {"targets", "1.targets.json", 0x04,
     "ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7c",
     "3336b222894653a1c328c2636b5ada9d8c2f53be3b927369d64e7087014bf619"},
};

#define KEY_COUNT (sizeof keys / sizeof keys[0])

static json_t *load_metadata(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, METADATA "%s", file);
    uf_json_limits limits = {.max_bytes = 1 << 20, .max_depth = 16, .max_string = 1 << 16,
                             .max_members = 1000};
    uf_error err;
    json_t *doc = uf_json_load_file(path, &limits, &err);
    if (!doc)
        fail_msg("load %s: %s", path, err.msg);
    return doc;
}

/* canonical(doc.signed), the bytes every signature covers. */
static void canonical_signed(const json_t *doc, uf_buf *out)
{
    json_t *signed_part = NULL;
    uf_error err;
    assert_true(uf_json_get_object(doc, "", "signed", &signed_part, &err));
    if (!uf_canonical_json(signed_part, out, &err))
        fail_msg("canonicalise signed: %s", err.msg);
}

/* The line after the "## root v1 signed portion" heading of VECTORS.md. */
static char *expected_root_canonical(void)
{
    FILE *fp = fopen(VECTORS "VECTORS.md", "r");
    assert_non_null(fp);
    char *line = NULL;
    size_t cap = 0;
    bool next_is_it = false;
    char *found = NULL;
    while (getline(&line, &cap, fp) > 0) {
        if (next_is_it) {
            line[strcspn(line, "\r\n")] = '\0';
            found = strdup(line);
            break;
        }
        next_is_it = strncmp(line, "## root v1 signed portion", 25) == 0;
    }
    free(line);
    fclose(fp);
    assert_non_null(found);
    return found;
}

static json_t *root_keys(const json_t *root)
{
    json_t *signed_part = NULL, *k = NULL;
    assert_true(uf_json_get_object(root, "", "signed", &signed_part, NULL));
    assert_true(uf_json_get_object(signed_part, "signed", "keys", &k, NULL));
    return k;
}

static uf_key *seed_key(uint8_t byte)
{
    uint8_t seed[32];
    memset(seed, byte, sizeof seed);
    uf_key *k = uf_key_ed25519_from_seed(seed, NULL);
    assert_non_null(k);
    return k;
}

static void test_root_canonical_bytes(void **state)
{
    (void)state;
    json_t *root = load_metadata("1.root.json");
    uf_buf canon = UF_BUF_INIT;
    canonical_signed(root, &canon);
    char *expected = expected_root_canonical();
    assert_int_equal(canon.len, strlen(expected));
    assert_string_equal(canon.data, expected);

    char hex[UF_HASH_MAX_HEX];
    assert_true(uf_hash_buf_hex(UF_HASH_SHA256, canon.data, canon.len, hex, NULL));
    assert_string_equal(hex, root_sha256);
    free(expected);
    uf_buf_free(&canon);
    json_decref(root);
}

static void test_keyids(void **state)
{
    (void)state;
    json_t *root = load_metadata("1.root.json");
    json_t *listed = root_keys(root);
    assert_int_equal(json_object_size(listed), KEY_COUNT);

    /* every listed keyid is the hash of its key object, also after parsing the key */
    const char *id;
    json_t *obj;
    json_object_foreach(listed, id, obj) {
        char computed[UF_KEYID_HEX];
        uf_error err;
        assert_true(uf_keyid_of_json(obj, computed, &err));
        assert_string_equal(computed, id);
        uf_key *k = uf_key_from_json(obj, &err);
        assert_non_null(k);
        assert_true(uf_key_keyid(k, computed, &err));
        assert_string_equal(computed, id);
        uf_key_free(k);
    }

    /* the seeds give the listed public keys and keyids */
    for (size_t i = 0; i < KEY_COUNT; i++) {
        uf_key *k = seed_key(keys[i].seed);
        json_t *j = uf_key_to_json(k, NULL);
        const char *pub = json_string_value(json_object_get(json_object_get(j, "keyval"),
                                                            "public"));
        assert_string_equal(pub, keys[i].public_hex);
        char computed[UF_KEYID_HEX];
        assert_true(uf_key_keyid(k, computed, NULL));
        assert_string_equal(computed, keys[i].keyid);
        assert_true(json_equal(j, json_object_get(listed, keys[i].keyid)));
        json_decref(j);
        uf_key_free(k);
    }
    json_decref(root);
}

/* The keyids root authorises for a role. */
static bool role_has_keyid(const json_t *root, const char *role, const char *keyid)
{
    json_t *signed_part = NULL, *roles = NULL, *r = NULL, *ids = NULL;
    assert_true(uf_json_get_object(root, "", "signed", &signed_part, NULL));
    assert_true(uf_json_get_object(signed_part, "signed", "roles", &roles, NULL));
    assert_true(uf_json_get_object(roles, "signed.roles", role, &r, NULL));
    assert_true(uf_json_get_array(r, "signed.roles.x", "keyids", &ids, NULL));
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (strcmp(json_string_value(v), keyid) == 0)
            return true;
    }
    return false;
}

static void test_every_signature_verifies(void **state)
{
    (void)state;
    json_t *root = load_metadata("1.root.json");
    json_t *listed = root_keys(root);
    size_t verified = 0;
    for (size_t f = 0; f < KEY_COUNT; f++) {
        json_t *doc = load_metadata(keys[f].file);
        uf_buf canon = UF_BUF_INIT;
        canonical_signed(doc, &canon);
        json_t *signed_part = NULL, *sigs = NULL;
        const char *type = NULL;
        assert_true(uf_json_get_object(doc, "", "signed", &signed_part, NULL));
        assert_true(uf_json_get_string(signed_part, "signed", "_type", &type, NULL));
        assert_string_equal(type, keys[f].role);
        assert_true(uf_json_get_array(doc, "", "signatures", &sigs, NULL));
        assert_true(json_array_size(sigs) > 0);

        size_t i;
        json_t *s;
        json_array_foreach(sigs, i, s) {
            const char *keyid = NULL, *sig = NULL;
            assert_true(uf_json_get_string(s, "signatures", "keyid", &keyid, NULL));
            assert_true(uf_json_get_string(s, "signatures", "sig", &sig, NULL));
            assert_string_equal(keyid, keys[f].keyid);
            assert_true(role_has_keyid(root, type, keyid));
            uf_error err;
            uf_key *k = uf_key_from_json(json_object_get(listed, keyid), &err);
            assert_non_null(k);
            if (!uf_key_verify(k, canon.data, canon.len, sig, &err))
                fail_msg("%s: signature by %s: %s", keys[f].file, keyid, err.msg);
            verified++;

            /* and only with its own key */
            for (size_t o = 0; o < KEY_COUNT; o++) {
                if (o == f)
                    continue;
                uf_key *wrong = uf_key_from_json(json_object_get(listed, keys[o].keyid), NULL);
                assert_false(uf_key_verify(wrong, canon.data, canon.len, sig, &err));
                assert_int_equal(err.code, UF_E_BAD_SIGNATURE);
                uf_key_free(wrong);
            }
            uf_key_free(k);
        }
        uf_buf_free(&canon);
        json_decref(doc);
    }
    assert_int_equal(verified, KEY_COUNT);
    json_decref(root);
}

static void test_tampering_detected(void **state)
{
    (void)state;
    json_t *root = load_metadata("1.root.json");
    uf_buf canon = UF_BUF_INIT;
    canonical_signed(root, &canon);
    uf_key *k = uf_key_from_json(json_object_get(root_keys(root), keys[0].keyid), NULL);
    assert_non_null(k);
    assert_true(uf_key_verify(k, canon.data, canon.len, root_sig, NULL));

    uf_error err;
    for (size_t i = 0; i < canon.len; i++) {
        canon.data[i] = (char)(canon.data[i] ^ 0xff);
        err.code = UF_OK;
        if (uf_key_verify(k, canon.data, canon.len, root_sig, &err))
            fail_msg("flipped byte %zu of the signed bytes still verifies", i);
        assert_int_equal(err.code, UF_E_BAD_SIGNATURE);
        canon.data[i] = (char)(canon.data[i] ^ 0xff);
    }

    char sig[sizeof root_sig];
    static const char hex[] = "0123456789abcdef";
    for (size_t b = 0; b < 64; b++) {
        memcpy(sig, root_sig, sizeof sig);
        /* xor 0xff on a byte = replace each of its two hex digits d by 15 - d */
        for (size_t d = 2 * b; d < 2 * b + 2; d++)
            sig[d] = hex[15 - (strchr(hex, sig[d]) - hex)];
        err.code = UF_OK;
        if (uf_key_verify(k, canon.data, canon.len, sig, &err))
            fail_msg("flipped byte %zu of the signature still verifies", b);
        assert_int_equal(err.code, UF_E_BAD_SIGNATURE);
    }
    assert_true(uf_key_verify(k, canon.data, canon.len, root_sig, NULL));
    uf_key_free(k);
    uf_buf_free(&canon);
    json_decref(root);
}

/* ed25519 is deterministic: signing with the seeds reproduces the files' signatures. */
static void test_signatures_reproducible_from_seeds(void **state)
{
    (void)state;
    for (size_t f = 0; f < KEY_COUNT; f++) {
        json_t *doc = load_metadata(keys[f].file);
        uf_buf canon = UF_BUF_INIT;
        canonical_signed(doc, &canon);
        const char *in_file = json_string_value(
            json_object_get(json_array_get(json_object_get(doc, "signatures"), 0), "sig"));
        assert_non_null(in_file);
        uf_key *k = seed_key(keys[f].seed);
        char *sig = NULL;
        assert_true(uf_key_sign(k, canon.data, canon.len, &sig, NULL));
        assert_string_equal(sig, in_file);
        if (f == 0)
            assert_string_equal(sig, root_sig);
        free(sig);
        uf_key_free(k);
        uf_buf_free(&canon);
        json_decref(doc);
    }
}

/* Follow "signed" -> meta-or-targets -> name and read length and hashes.sha256. */
static void recorded_file(const json_t *doc, const char *map, const char *name, int64_t *length,
                          const char **sha256)
{
    json_t *s = NULL, *m = NULL, *entry = NULL, *hashes = NULL;
    uf_error err;
    assert_true(uf_json_get_object(doc, "", "signed", &s, &err));
    assert_true(uf_json_get_object(s, "signed", map, &m, &err));
    assert_true(uf_json_get_object(m, map, name, &entry, &err));
    assert_true(uf_json_get_int(entry, name, "length", length, &err));
    assert_true(uf_json_get_object(entry, name, "hashes", &hashes, &err));
    assert_true(uf_json_get_string(hashes, "hashes", "sha256", sha256, &err));
}

static void test_snapshot_and_target_hashes(void **state)
{
    (void)state;
    json_t *ts = load_metadata("timestamp.json");
    int64_t length = 0;
    const char *want = NULL;
    recorded_file(ts, "meta", "snapshot.json", &length, &want);
    assert_int_equal(length, 367);

    /* the snapshot is hashed as received, byte for byte */
    struct stat st;
    assert_int_equal(stat(METADATA "1.snapshot.json", &st), 0);
    assert_int_equal(st.st_size, 367);
    char hex[UF_HASH_MAX_HEX];
    uf_error err;
    assert_true(uf_hash_file_hex(UF_HASH_SHA256, METADATA "1.snapshot.json", hex, &err));
    assert_string_equal(hex, want);
    assert_string_equal(hex, "0c0ca45ab4a0b88ffafa1e1b0d6c1792df0a5950c655b7162fcf511d30953757");
    json_decref(ts);

    json_t *targets = load_metadata("1.targets.json");
    recorded_file(targets, "targets", "file1.txt", &length, &want);
    char path[512];
    snprintf(path, sizeof path, VECTORS "targets/%s.file1.txt", want);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, length);
    assert_int_equal(length, 12);
    assert_true(uf_hash_file_hex(UF_HASH_SHA256, path, hex, &err));
    assert_string_equal(hex, want);
    json_decref(targets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_canonical_bytes),
        cmocka_unit_test(test_keyids),
        cmocka_unit_test(test_every_signature_verifies),
        cmocka_unit_test(test_tampering_detected),
        cmocka_unit_test(test_signatures_reproducible_from_seeds),
        cmocka_unit_test(test_snapshot_and_target_hashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
