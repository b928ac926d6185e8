/*
 * test_tuf_sign.c - metadata made and signed with tuf_sign.h verifies with tuf_metadata.h:
 * a threshold of two keys is met by two signatures and not by one, a later signature by the
 * same key replaces the earlier one, --replace keeps only the new one, any change to the
 * signed part breaks every signature, and meta/target entries pin length and SHA-256.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/tuf_sign.h"

static uf_key *seeded(uint8_t b)
{
    uint8_t seed[32];
    memset(seed, b, sizeof seed);
    uf_error err;
    uf_key *k = uf_key_ed25519_from_seed(seed, &err);
    assert_non_null(k);
    return k;
}

/* A root whose "root" role is keys[0..1] with threshold 2. */
static json_t *two_key_root(uf_key *keys[2])
{
    json_t *s = uf_tuf_new_signed(UF_TUF_ROOT, 1, 4102444800); /* 2100-01-01 */
    json_t *ids = json_object_get(json_object_get(json_object_get(s, "roles"), "root"), "keyids");
    uf_error err;
    for (int i = 0; i < 2; i++) {
        char id[UF_KEYID_HEX];
        assert_true(uf_tuf_put_key(json_object_get(s, "keys"), keys[i], id, &err));
        json_array_append_new(ids, json_string(id));
    }
    json_object_set_new(json_object_get(json_object_get(s, "roles"), "root"), "threshold",
                        json_integer(2));
    return s;
}

static bool verifies(const char *text, size_t len)
{
    uf_error err;
    uf_tuf_metadata *md = uf_tuf_metadata_parse("1.root.json", UF_TUF_ROOT, text, len, 1 << 20,
                                                &err);
    assert_non_null(md);
    bool ok = uf_tuf_verify_with_root(md, md, "root", &err);
    if (!ok)
        assert_int_equal(err.code, UF_E_THRESHOLD);
    uf_tuf_metadata_free(md);
    return ok;
}

static void threshold_and_signature_replacement(void **state)
{
    (void)state;
    uf_key *keys[2] = {seeded(1), seeded(2)};
    json_t *s = two_key_root(keys);
    char *one, *two, *again, *replaced;
    size_t one_len, two_len, again_len, replaced_len;
    uf_error err;
    assert_true(uf_tuf_sign(s, keys, 1, &one, &one_len, &err));
    assert_false(verifies(one, one_len));
    assert_true(uf_tuf_add_signature(one, one_len, keys[1], false, &two, &two_len, &err));
    assert_true(verifies(two, two_len));
    /* signing again with key 1 replaces its signature: still two, still valid */
    assert_true(uf_tuf_add_signature(two, two_len, keys[1], false, &again, &again_len, &err));
    json_t *doc = json_loads(again, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "signatures")), 2);
    json_decref(doc);
    assert_true(verifies(again, again_len));
    /* replace keeps only the new signature */
    assert_true(uf_tuf_add_signature(again, again_len, keys[0], true, &replaced, &replaced_len,
                                     &err));
    assert_false(verifies(replaced, replaced_len));
    /* any change to the signed part breaks the signatures */
    char *tampered = strdup(two);
    char *v = strstr(tampered, "\"version\":1");
    assert_non_null(v);
    v[10] = '2';
    assert_false(verifies(tampered, two_len));
    free(tampered);
    free(one);
    free(two);
    free(again);
    free(replaced);
    json_decref(s);
    uf_key_free(keys[0]);
    uf_key_free(keys[1]);
}

static void entries_pin_length_and_hash(void **state)
{
    (void)state;
    uf_error err;
    json_t *m = uf_tuf_meta_entry(7, "hello world\n", 12, &err);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "version")), 7);
    assert_int_equal(json_integer_value(json_object_get(m, "length")), 12);
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "hashes"), "sha256")),
                        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
    json_decref(m);
    char path[] = "/tmp/upflow-tuf-sign-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello world\n", 12), 12);
    close(fd);
    json_t *t = uf_tuf_target_entry_file(path, json_pack("{s:s}", "kind", "index"), &err);
    unlink(path);
    assert_non_null(t);
    assert_int_equal(json_integer_value(json_object_get(t, "length")), 12);
    assert_string_equal(json_string_value(json_object_get(json_object_get(t, "custom"), "kind")),
                        "index");
    json_decref(t);
    assert_null(uf_tuf_target_entry_file("/nonexistent/file", NULL, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threshold_and_signature_replacement),
        cmocka_unit_test(entries_pin_length_and_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
