/*
 * test_hash.c - digests against published known answers (FIPS 180 / RFC 1321 examples: "abc",
 * the empty string, a million 'a's streamed in odd-sized pieces), the streaming life cycle,
 * algorithm names, hashing files larger than the read block, and HMAC (RFC 4231).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/hash.h"

typedef struct {
    uf_hash_alg alg;
    const char *abc, *empty, *million_a;
} vector;

static const vector vectors[] = {
    {UF_HASH_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {UF_HASH_SHA512,
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
     "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
     "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
    {UF_HASH_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d",
     "da39a3ee5e6b4b0d3255bfef95601890afd80709", "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
    {UF_HASH_MD5, "900150983cd24fb0d6963f7d28e17f72", "d41d8cd98f00b204e9800998ecf8427e",
     "7707d6ae4e027c70eea2a935c2296f21"},
};

#define VECTOR_COUNT (sizeof vectors / sizeof vectors[0])

static void test_abc_and_empty(void **state)
{
    (void)state;
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        char hex[UF_HASH_MAX_HEX];
        uf_error err;
        assert_true(uf_hash_buf_hex(vectors[i].alg, "abc", 3, hex, &err));
        assert_string_equal(hex, vectors[i].abc);
        assert_true(uf_hash_buf_hex(vectors[i].alg, "", 0, hex, &err));
        assert_string_equal(hex, vectors[i].empty);
        assert_true(uf_hash_buf_hex(vectors[i].alg, NULL, 0, hex, &err));
        assert_string_equal(hex, vectors[i].empty);
    }
}

static void test_raw_digest_matches_hex(void **state)
{
    (void)state;
    uint8_t md[UF_HASH_MAX_SIZE];
    assert_true(uf_hash_buf(UF_HASH_SHA256, "abc", 3, md, NULL));
    assert_int_equal(md[0], 0xba);
    assert_int_equal(md[31], 0xad);
}

/* A million 'a's fed in pieces of awkward sizes that straddle every block boundary. */
static void test_million_a_streamed(void **state)
{
    (void)state;
    static const size_t pieces[] = {1, 7, 63, 64, 65, 127, 1000, 4093, 0, 65537};
    char *as = malloc(65537);
    assert_non_null(as);
    memset(as, 'a', 65537);
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        uf_error err;
        uf_hash *h = uf_hash_new(vectors[i].alg, &err);
        assert_non_null(h);
        size_t done = 0;
        for (size_t k = 0; done < 1000000; k++) {
            size_t n = pieces[k % (sizeof pieces / sizeof pieces[0])];
            if (n > 1000000 - done)
                n = 1000000 - done;
            assert_true(uf_hash_update(h, as, n, &err));
            done += n;
        }
        char hex[UF_HASH_MAX_HEX];
        assert_true(uf_hash_final_hex(h, hex, &err));
        assert_string_equal(hex, vectors[i].million_a);
        uf_hash_free(h);
    }
    free(as);
}

static void test_reset_and_misuse(void **state)
{
    (void)state;
    uf_error err;
    uf_hash *h = uf_hash_new(UF_HASH_SHA256, &err);
    assert_non_null(h);
    char hex[UF_HASH_MAX_HEX];
    assert_true(uf_hash_update(h, "xyz", 3, &err));
    assert_true(uf_hash_final_hex(h, hex, &err));

    /* a finished context refuses more work until reset */
    assert_false(uf_hash_update(h, "a", 1, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_false(uf_hash_final_hex(h, hex, &err));
    assert_int_equal(err.code, UF_E_INVALID);

    assert_true(uf_hash_reset(h, &err));
    assert_true(uf_hash_update(h, "ab", 2, &err));
    assert_true(uf_hash_update(h, "c", 1, &err));
    assert_true(uf_hash_final_hex(h, hex, &err));
    assert_string_equal(hex, vectors[0].abc);

    /* reset in the middle discards what was fed */
    assert_true(uf_hash_reset(h, &err));
    assert_true(uf_hash_update(h, "junk", 4, &err));
    assert_true(uf_hash_reset(h, &err));
    assert_true(uf_hash_final_hex(h, hex, &err));
    assert_string_equal(hex, vectors[0].empty);
    uf_hash_free(h);
    uf_hash_free(NULL);
}

static void test_names_and_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uf_hash_alg alg;
        size_t size;
    } t[] = {{"sha256", UF_HASH_SHA256, 32},
             {"sha512", UF_HASH_SHA512, 64},
             {"sha1", UF_HASH_SHA1, 20},
             {"md5", UF_HASH_MD5, 16}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uf_hash_alg alg;
        assert_true(uf_hash_alg_from_name(t[i].name, &alg, NULL));
        assert_int_equal(alg, t[i].alg);
        assert_string_equal(uf_hash_alg_name(alg), t[i].name);
        assert_int_equal(uf_hash_size(alg), t[i].size);
    }
    static const char *const unknown[] = {"sha384", "SHA256", "sha-256", "", "sha256 "};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        uf_hash_alg alg;
        uf_error err;
        assert_false(uf_hash_alg_from_name(unknown[i], &alg, &err));
        assert_int_equal(err.code, UF_E_UNSUPPORTED);
    }
}

static void test_file_hash(void **state)
{
    (void)state;
    char path[] = "/tmp/upflow-test-hash-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* 200,001 bytes: several read blocks and a ragged tail */
    size_t len = 200001;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 131 + i / 7);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);

    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        char from_file[UF_HASH_MAX_HEX], from_buf[UF_HASH_MAX_HEX];
        uf_error err;
        assert_true(uf_hash_file_hex(vectors[i].alg, path, from_file, &err));
        assert_true(uf_hash_buf_hex(vectors[i].alg, data, len, from_buf, &err));
        assert_string_equal(from_file, from_buf);
    }
    free(data);

    /* empty file */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    close(fd);
    char hex[UF_HASH_MAX_HEX];
    assert_true(uf_hash_file_hex(UF_HASH_SHA256, path, hex, NULL));
    assert_string_equal(hex, vectors[0].empty);
    unlink(path);

    uf_error err;
    assert_false(uf_hash_file_hex(UF_HASH_SHA256, path, hex, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, path));
    assert_false(uf_hash_file_hex(UF_HASH_SHA256, "/", hex, &err)); /* a directory */
}

/* RFC 4231 test cases 2 and 6 (a key longer than the block), and an empty key. */
static void test_hmac(void **state)
{
    (void)state;
    char hex[UF_HASH_MAX_HEX];
    const char *data = "what do ya want for nothing?";
    assert_true(uf_hmac_hex(UF_HASH_SHA256, "Jefe", 4, data, strlen(data), hex, NULL));
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_true(uf_hmac_hex(UF_HASH_SHA512, "Jefe", 4, data, strlen(data), hex, NULL));
    assert_string_equal(hex, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                             "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    uint8_t key[131];
    memset(key, 0xaa, sizeof key);
    const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_true(uf_hmac_hex(UF_HASH_SHA256, key, sizeof key, big, strlen(big), hex, NULL));
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    assert_true(uf_hmac_hex(UF_HASH_SHA256, "", 0, "", 0, hex, NULL));
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    uf_error err;
    assert_false(uf_hmac_hex((uf_hash_alg)99, "k", 1, "", 0, hex, &err));
    assert_int_equal(err.code, UF_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abc_and_empty),
        cmocka_unit_test(test_hmac),
        cmocka_unit_test(test_raw_digest_matches_hex),
        cmocka_unit_test(test_million_a_streamed),
        cmocka_unit_test(test_reset_and_misuse),
        cmocka_unit_test(test_names_and_sizes),
        cmocka_unit_test(test_file_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
