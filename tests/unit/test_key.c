/*
 * test_key.c - TUF keys for each supported type (ed25519, ECDSA P-256, RSA-PSS): signatures
 * verify, and fail with UF_E_BAD_SIGNATURE when any single byte of the message or of the
 * signature changes, for garbage signatures and for the wrong key; key JSON round trips and
 * keyids; malformed key objects; private key files (mode 0600, never replaced, refused when
 * group/other can read them). Keys are generated once per group: RSA keygen is slow under ASan.
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
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/buf.h"
#include "lib/canonical_json.h"
#include "lib/encoding.h"
#include "lib/key.h"

#define TYPES 3
static const uf_key_type all_types[TYPES] = {UF_KEY_ED25519, UF_KEY_ECDSA_P256, UF_KEY_RSA_PSS};

typedef struct {
    uf_key *key[TYPES];   /* indexed like all_types */
    uf_key *other[TYPES]; /* a second key of the same type */
    char dir[64];
} fixture;

/* A message of about 40 bytes, as the brief for these tests asks. */
static const char message[] = "upflow: install release 1.4.2 on slot B";

static int group_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    for (size_t i = 0; i < TYPES; i++) {
        uf_error err;
        f->key[i] = uf_key_generate(all_types[i], &err);
        f->other[i] = uf_key_generate(all_types[i], &err);
        if (!f->key[i] || !f->other[i]) {
            fprintf(stderr, "generate %s: %s\n", uf_key_type_name(all_types[i]), err.msg);
            return -1;
        }
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/upflow-test-key-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < TYPES; i++) {
        uf_key_free(f->key[i]);
        uf_key_free(f->other[i]);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Copy of a hex signature with byte i xor'ed with 0xff. */
static char *flip_sig_byte(const char *hex, size_t i)
{
    size_t n = strlen(hex) / 2;
    uint8_t *raw = malloc(n);
    char *out = malloc(2 * n + 1);
    size_t len = 0;
    assert_non_null(raw);
    assert_non_null(out);
    assert_true(uf_hex_decode(hex, raw, n, &len, NULL));
    raw[i] ^= 0xff;
    uf_hex_encode(raw, len, out);
    free(raw);
    return out;
}

static void assert_bad_signature(const uf_key *key, const void *msg, size_t len,
                                 const char *sig)
{
    uf_error err;
    err.code = UF_OK;
    assert_false(uf_key_verify(key, msg, len, sig, &err));
    assert_int_equal(err.code, UF_E_BAD_SIGNATURE);
}

static void check_sign_verify(const fixture *f, size_t t, size_t sig_hex_len)
{
    const uf_key *key = f->key[t];
    size_t len = sizeof message - 1;
    char *sig = NULL;
    uf_error err;
    assert_true(uf_key_sign(key, message, len, &sig, &err));
    assert_non_null(sig);
    if (sig_hex_len)
        assert_int_equal(strlen(sig), sig_hex_len);
    assert_true(uf_key_verify(key, message, len, sig, &err));

    /* every byte of the message matters */
    char msg[sizeof message];
    for (size_t i = 0; i < len; i++) {
        memcpy(msg, message, sizeof message);
        msg[i] = (char)(msg[i] ^ 0xff);
        assert_bad_signature(key, msg, len, sig);
    }
    /* and so does its length */
    assert_bad_signature(key, message, len - 1, sig);
    assert_bad_signature(key, "", 0, sig);

    /* every byte of the signature matters */
    size_t sig_bytes = strlen(sig) / 2;
    for (size_t i = 0; i < sig_bytes; i++) {
        char *bad = flip_sig_byte(sig, i);
        assert_bad_signature(key, message, len, bad);
        free(bad);
    }

    /* the other key of the same type does not accept it */
    assert_bad_signature(f->other[t], message, len, sig);
    /* nor does a key of another type */
    assert_bad_signature(f->key[(t + 1) % TYPES], message, len, sig);

    /* hex case does not matter on input */
    for (char *p = sig; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_true(uf_key_verify(key, message, len, sig, &err));
    free(sig);

    /* the empty message can be signed too */
    assert_true(uf_key_sign(key, "", 0, &sig, &err));
    assert_true(uf_key_verify(key, "", 0, sig, &err));
    assert_bad_signature(key, "x", 1, sig);
    free(sig);
}

static void test_type_names(void **state)
{
    (void)state;
    uf_key_type t;
    assert_true(uf_key_type_from_name("ed25519", &t, NULL));
    assert_int_equal(t, UF_KEY_ED25519);
    assert_true(uf_key_type_from_name("ecdsa", &t, NULL));
    assert_int_equal(t, UF_KEY_ECDSA_P256);
    assert_true(uf_key_type_from_name("ecdsa-sha2-nistp256", &t, NULL));
    assert_int_equal(t, UF_KEY_ECDSA_P256);
    assert_true(uf_key_type_from_name("rsa", &t, NULL));
    assert_int_equal(t, UF_KEY_RSA_PSS);
    assert_string_equal(uf_key_type_name(UF_KEY_ED25519), "ed25519");
    assert_string_equal(uf_key_type_name(UF_KEY_ECDSA_P256), "ecdsa");
    assert_string_equal(uf_key_type_name(UF_KEY_RSA_PSS), "rsa");
    uf_error err;
    assert_false(uf_key_type_from_name("dsa", &t, &err));
    assert_int_equal(err.code, UF_E_UNSUPPORTED);
    assert_false(uf_key_type_from_name("ED25519", &t, &err));
}

static void test_generated_keys(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < TYPES; i++) {
        assert_int_equal(uf_key_get_type(f->key[i]), all_types[i]);
        assert_true(uf_key_has_private(f->key[i]));
        char a[UF_KEYID_HEX], b[UF_KEYID_HEX];
        assert_true(uf_key_keyid(f->key[i], a, NULL));
        assert_true(uf_key_keyid(f->other[i], b, NULL));
        assert_int_equal(strlen(a), 64);
        assert_string_not_equal(a, b);
    }
}

static void test_sign_verify_ed25519(void **state)
{
    check_sign_verify(*state, 0, 128);
}

static void test_sign_verify_ecdsa(void **state)
{
    fixture *f = *state;
    check_sign_verify(f, 1, 0);
    char *sig = NULL;
    assert_true(uf_key_sign(f->key[1], message, sizeof message - 1, &sig, NULL));
    assert_memory_equal(sig, "30", 2); /* a DER SEQUENCE */
    assert_true(strlen(sig) <= 144);
    free(sig);
}

static void test_sign_verify_rsa(void **state)
{
    check_sign_verify(*state, 2, 768); /* 3072 bits */
}

static void test_garbage_signatures(void **state)
{
    fixture *f = *state;
    size_t huge_len = 4u << 20;
    char *huge = malloc(huge_len + 1);
    assert_non_null(huge);
    memset(huge, '0', huge_len);
    huge[huge_len] = '\0';
    char zeros64[129], zeros63[127], zeros384[769];
    memset(zeros64, '0', 128);
    zeros64[128] = '\0';
    memset(zeros63, '0', 126);
    zeros63[126] = '\0';
    memset(zeros384, 'f', 768);
    zeros384[768] = '\0';
    const char *garbage[] = {
        "", "0", "abc", "zz", "0g", "-1", " 00", "00 ", "3006020101020101", /* DER r=1,s=1 */
        "300602010002010", zeros63, zeros64, zeros384, huge,
    };
    size_t len = sizeof message - 1;
    for (size_t t = 0; t < TYPES; t++) {
        for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
            assert_bad_signature(f->key[t], message, len, garbage[i]);
        assert_bad_signature(f->key[t], message, len, NULL);
    }
    free(huge);
}

/* The JSON object: exactly keytype, keyval.public and scheme. */
static void check_key_json(const json_t *j, const char *keytype, const char *scheme)
{
    assert_true(json_is_object(j));
    assert_int_equal(json_object_size(j), 3);
    assert_string_equal(json_string_value(json_object_get(j, "keytype")), keytype);
    assert_string_equal(json_string_value(json_object_get(j, "scheme")), scheme);
    const json_t *kv = json_object_get(j, "keyval");
    assert_true(json_is_object(kv));
    assert_int_equal(json_object_size(kv), 1);
    assert_true(json_is_string(json_object_get(kv, "public")));
}

static void test_json_round_trip(void **state)
{
    fixture *f = *state;
    static const char *const schemes[TYPES] = {"ed25519", "ecdsa-sha2-nistp256",
                                               "rsassa-pss-sha256"};
    for (size_t t = 0; t < TYPES; t++) {
        uf_error err;
        json_t *j = uf_key_to_json(f->key[t], &err);
        assert_non_null(j);
        check_key_json(j, uf_key_type_name(all_types[t]), schemes[t]);
        const char *pub = json_string_value(json_object_get(json_object_get(j, "keyval"),
                                                            "public"));
        if (all_types[t] == UF_KEY_ED25519)
            assert_int_equal(strlen(pub), 64);
        else
            assert_memory_equal(pub, "-----BEGIN PUBLIC KEY-----\n", 27);

        uf_key *pub_key = uf_key_from_json(j, &err);
        assert_non_null(pub_key);
        assert_false(uf_key_has_private(pub_key));
        assert_int_equal(uf_key_get_type(pub_key), all_types[t]);

        char id_orig[UF_KEYID_HEX], id_parsed[UF_KEYID_HEX], id_json[UF_KEYID_HEX];
        assert_true(uf_key_keyid(f->key[t], id_orig, &err));
        assert_true(uf_key_keyid(pub_key, id_parsed, &err));
        assert_true(uf_keyid_of_json(j, id_json, &err));
        assert_string_equal(id_orig, id_parsed);
        assert_string_equal(id_orig, id_json);

        /* the public half verifies what the private half signed, and cannot sign */
        char *sig = NULL;
        assert_true(uf_key_sign(f->key[t], message, sizeof message - 1, &sig, &err));
        assert_true(uf_key_verify(pub_key, message, sizeof message - 1, sig, &err));
        free(sig);
        sig = NULL;
        assert_false(uf_key_sign(pub_key, message, sizeof message - 1, &sig, &err));
        assert_int_equal(err.code, UF_E_BAD_KEY);
        assert_null(sig);

        uf_key_free(pub_key);
        json_decref(j);
    }
}

/* The keyid is computed over the object as received: the legacy keytype name and extra fields
 * change it (tuf.md §5), and the key remembers what it was given. */
static void test_keyid_of_object_as_received(void **state)
{
    fixture *f = *state;
    json_t *j = uf_key_to_json(f->key[1], NULL);
    assert_non_null(j);
    char id_ecdsa[UF_KEYID_HEX], id_legacy[UF_KEYID_HEX], id_key[UF_KEYID_HEX];
    assert_true(uf_keyid_of_json(j, id_ecdsa, NULL));

    json_object_set_new(j, "keytype", json_string("ecdsa-sha2-nistp256"));
    uf_key *k = uf_key_from_json(j, NULL);
    assert_non_null(k);
    assert_int_equal(uf_key_get_type(k), UF_KEY_ECDSA_P256);
    assert_true(uf_keyid_of_json(j, id_legacy, NULL));
    assert_true(uf_key_keyid(k, id_key, NULL));
    assert_string_not_equal(id_ecdsa, id_legacy);
    assert_string_equal(id_legacy, id_key);
    json_t *back = uf_key_to_json(k, NULL);
    assert_string_equal(json_string_value(json_object_get(back, "keytype")),
                        "ecdsa-sha2-nistp256");
    json_decref(back);
    uf_key_free(k);

    json_object_set_new(j, "keyid_hash_algorithms", json_pack("[s,s]", "sha256", "sha512"));
    char id_extra[UF_KEYID_HEX];
    assert_true(uf_keyid_of_json(j, id_extra, NULL));
    assert_string_not_equal(id_extra, id_legacy);
    k = uf_key_from_json(j, NULL); /* extra fields are tolerated */
    assert_non_null(k);
    uf_key_free(k);
    json_decref(j);

    uf_error err;
    json_t *arr = json_array();
    assert_false(uf_keyid_of_json(arr, id_extra, &err));
    json_decref(arr);
}

/* tuf.md §15.1: the root key of the vectors. */
static void test_keyid_known_vector(void **state)
{
    (void)state;
    uint8_t seed[32];
    memset(seed, 0x01, sizeof seed);
    uf_error err;
    uf_key *k = uf_key_ed25519_from_seed(seed, &err);
    assert_non_null(k);
    assert_true(uf_key_has_private(k));
    json_t *j = uf_key_to_json(k, &err);
    uf_buf canon = UF_BUF_INIT;
    assert_true(uf_canonical_json(j, &canon, &err));
    assert_string_equal(canon.data,
                        "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":"
                        "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\"},"
                        "\"scheme\":\"ed25519\"}");
    char id[UF_KEYID_HEX];
    assert_true(uf_key_keyid(k, id, &err));
    assert_string_equal(id, "7ab6b86cb2c9684b0ddc10896153aa2595decf4d4327a5ff1a8ab7422c828b12");

    /* ed25519 is deterministic: the same seed signs the same bytes identically */
    uf_key *again = uf_key_ed25519_from_seed(seed, &err);
    char *s1 = NULL, *s2 = NULL;
    assert_true(uf_key_sign(k, message, sizeof message - 1, &s1, &err));
    assert_true(uf_key_sign(again, message, sizeof message - 1, &s2, &err));
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    uf_key_free(again);
    uf_buf_free(&canon);
    json_decref(j);
    uf_key_free(k);
}

static char *pem_of(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *s = strndup(data, (size_t)len);
    BIO_free(bio);
    return s;
}

static char *public_of(const uf_key *k)
{
    json_t *j = uf_key_to_json(k, NULL);
    char *s = strdup(json_string_value(json_object_get(json_object_get(j, "keyval"), "public")));
    json_decref(j);
    return s;
}

static void expect_bad_key_json(json_t *j, uf_code code, const char *msg_part)
{
    uf_error err;
    err.code = UF_OK;
    uf_key *k = uf_key_from_json(j, &err);
    if (k)
        fail_msg("accepted a bad key (expected %s)", msg_part);
    assert_int_equal(err.code, code);
    if (!strstr(err.msg, msg_part))
        fail_msg("error \"%s\" does not mention \"%s\"", err.msg, msg_part);
    json_decref(j);
}

static void test_from_json_errors(void **state)
{
    fixture *f = *state;
    const char *ed_pub = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c";
    char *ec_pem = public_of(f->key[1]);
    char *rsa_pem = public_of(f->key[2]);

    expect_bad_key_json(json_array(), UF_E_BAD_FIELD, "object");
    expect_bad_key_json(json_pack("{s:{s:s},s:s}", "keyval", "public", ed_pub, "scheme",
                                  "ed25519"),
                        UF_E_BAD_FIELD, "keytype");
    expect_bad_key_json(json_pack("{s:s,s:{s:s}}", "keytype", "ed25519", "keyval", "public",
                                  ed_pub),
                        UF_E_BAD_FIELD, "scheme");
    expect_bad_key_json(json_pack("{s:s,s:s}", "keytype", "ed25519", "scheme", "ed25519"),
                        UF_E_BAD_FIELD, "keyval");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ed25519", "keyval", "private",
                                  ed_pub, "scheme", "ed25519"),
                        UF_E_BAD_FIELD, "keyval.public: missing");
    expect_bad_key_json(json_pack("{s:s,s:{s:i},s:s}", "keytype", "ed25519", "keyval", "public",
                                  7, "scheme", "ed25519"),
                        UF_E_BAD_FIELD, "keyval.public");
    expect_bad_key_json(json_pack("{s:i,s:{s:s},s:s}", "keytype", 1, "keyval", "public", ed_pub,
                                  "scheme", "ed25519"),
                        UF_E_BAD_FIELD, "keytype");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "dsa", "keyval", "public",
                                  ed_pub, "scheme", "dsa"),
                        UF_E_UNSUPPORTED, "keytype");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ed25519", "keyval", "public",
                                  ed_pub, "scheme", "ecdsa-sha2-nistp256"),
                        UF_E_UNSUPPORTED, "scheme");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "rsa", "keyval", "public",
                                  rsa_pem, "scheme", "rsa-pkcs1v15-sha256"),
                        UF_E_UNSUPPORTED, "scheme");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ed25519", "keyval", "public",
                                  "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5",
                                  "scheme", "ed25519"),
                        UF_E_BAD_KEY, "keyval.public: not 64 hex digits");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ed25519", "keyval", "public",
                                  "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c00",
                                  "scheme", "ed25519"),
                        UF_E_BAD_KEY, "keyval.public: not 64 hex digits");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ed25519", "keyval", "public",
                                  "xa88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
                                  "scheme", "ed25519"),
                        UF_E_BAD_KEY, "keyval.public: not 64 hex digits");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ecdsa", "keyval", "public",
                                  "not a pem", "scheme", "ecdsa-sha2-nistp256"),
                        UF_E_BAD_KEY, "keyval.public");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ecdsa", "keyval", "public",
                                  rsa_pem, "scheme", "ecdsa-sha2-nistp256"),
                        UF_E_BAD_KEY, "keyval.public: not an EC key");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "rsa", "keyval", "public",
                                  ec_pem, "scheme", "rsassa-pss-sha256"),
                        UF_E_BAD_KEY, "keyval.public: not an RSA key");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ed25519", "keyval", "public",
                                  ec_pem, "scheme", "ed25519"),
                        UF_E_BAD_KEY, "keyval.public");

    /* a PEM cut in the middle */
    char *cut = strdup(rsa_pem);
    cut[strlen(cut) / 2] = '\0';
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "rsa", "keyval", "public", cut,
                                  "scheme", "rsassa-pss-sha256"),
                        UF_E_BAD_KEY, "keyval.public");
    free(cut);

    /* RSA below 2048 bits, ECDSA on another curve */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_non_null(small);
    assert_non_null(p384);
    char *small_pem = pem_of(small), *p384_pem = pem_of(p384);
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "rsa", "keyval", "public",
                                  small_pem, "scheme", "rsassa-pss-sha256"),
                        UF_E_BAD_KEY, "1024 bits");
    expect_bad_key_json(json_pack("{s:s,s:{s:s},s:s}", "keytype", "ecdsa", "keyval", "public",
                                  p384_pem, "scheme", "ecdsa-sha2-nistp256"),
                        UF_E_UNSUPPORTED, "P-256");
    free(small_pem);
    free(p384_pem);
    EVP_PKEY_free(small);
    EVP_PKEY_free(p384);
    free(ec_pem);
    free(rsa_pem);
}

static void path_in(const fixture *f, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", f->dir, name);
}

static void test_save_and_load_private(void **state)
{
    fixture *f = *state;
    for (size_t t = 0; t < TYPES; t++) {
        char path[128];
        path_in(f, uf_key_type_name(all_types[t]), path, sizeof path);
        uf_error err;
        assert_true(uf_key_save_private(f->key[t], path, &err));

        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        FILE *fp = fopen(path, "r");
        assert_non_null(fp);
        char first[64] = "";
        assert_non_null(fgets(first, sizeof first, fp));
        fclose(fp);
        assert_string_equal(first, "-----BEGIN PRIVATE KEY-----\n"); /* PKCS#8 */

        /* never replaced */
        assert_false(uf_key_save_private(f->other[t], path, &err));
        assert_int_equal(err.code, UF_E_CONFLICT);

        uf_key *loaded = uf_key_load_private(path, &err);
        assert_non_null(loaded);
        assert_true(uf_key_has_private(loaded));
        assert_int_equal(uf_key_get_type(loaded), all_types[t]);
        char id_a[UF_KEYID_HEX], id_b[UF_KEYID_HEX];
        assert_true(uf_key_keyid(f->key[t], id_a, &err));
        assert_true(uf_key_keyid(loaded, id_b, &err));
        assert_string_equal(id_a, id_b);
        char *sig = NULL;
        assert_true(uf_key_sign(loaded, message, sizeof message - 1, &sig, &err));
        assert_true(uf_key_verify(f->key[t], message, sizeof message - 1, sig, &err));
        free(sig);
        uf_key_free(loaded);

        /* readable by others: refused, with advice */
        assert_int_equal(chmod(path, 0644), 0);
        assert_null(uf_key_load_private(path, &err));
        assert_int_equal(err.code, UF_E_FORBIDDEN);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "chmod 600"));
        assert_int_equal(chmod(path, 0640), 0);
        assert_null(uf_key_load_private(path, &err));
        assert_int_equal(err.code, UF_E_FORBIDDEN);
        assert_int_equal(chmod(path, 0400), 0);
        loaded = uf_key_load_private(path, &err);
        assert_non_null(loaded);
        uf_key_free(loaded);
        unlink(path);
    }
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
}

static void test_load_private_errors(void **state)
{
    fixture *f = *state;
    char path[128];
    uf_error err;

    path_in(f, "missing.pem", path, sizeof path);
    assert_null(uf_key_load_private(path, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);

    assert_null(uf_key_load_private(f->dir, &err)); /* a directory */

    path_in(f, "garbage.pem", path, sizeof path);
    write_file(path, "not a key\n", 10);
    assert_null(uf_key_load_private(path, &err));
    assert_int_equal(err.code, UF_E_BAD_KEY);
    assert_non_null(strstr(err.msg, path));
    unlink(path);

    path_in(f, "empty.pem", path, sizeof path);
    write_file(path, "", 0);
    assert_null(uf_key_load_private(path, &err));
    assert_int_equal(err.code, UF_E_BAD_KEY);
    unlink(path);

    /* a public key is not a private key */
    path_in(f, "public.pem", path, sizeof path);
    char *pem = public_of(f->key[1]);
    write_file(path, pem, strlen(pem));
    free(pem);
    assert_null(uf_key_load_private(path, &err));
    assert_int_equal(err.code, UF_E_BAD_KEY);
    unlink(path);

    /* an encrypted key is refused without prompting for a passphrase */
    path_in(f, "encrypted.pem", path, sizeof path);
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), "pass", 4,
                                                   NULL, NULL),
                     1);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    write_file(path, data, (size_t)len);
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    assert_null(uf_key_load_private(path, &err));
    assert_int_equal(err.code, UF_E_BAD_KEY);
    unlink(path);

    /* an oversized file is refused before it is read */
    path_in(f, "huge.pem", path, sizeof path);
    size_t huge_len = 1u << 20;
    char *huge = calloc(1, huge_len);
    write_file(path, huge, huge_len);
    free(huge);
    assert_null(uf_key_load_private(path, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    unlink(path);

    /* a key without its private half cannot be saved */
    json_t *j = uf_key_to_json(f->key[0], NULL);
    uf_key *pub = uf_key_from_json(j, NULL);
    json_decref(j);
    path_in(f, "public-only.pem", path, sizeof path);
    assert_false(uf_key_save_private(pub, path, &err));
    assert_int_equal(err.code, UF_E_BAD_KEY);
    assert_int_equal(access(path, F_OK), -1);
    uf_key_free(pub);

    /* a save into a missing directory fails cleanly */
    path_in(f, "no/such/dir.pem", path, sizeof path);
    assert_false(uf_key_save_private(f->key[0], path, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_generated_keys),
        cmocka_unit_test(test_sign_verify_ed25519),
        cmocka_unit_test(test_sign_verify_ecdsa),
        cmocka_unit_test(test_sign_verify_rsa),
        cmocka_unit_test(test_garbage_signatures),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_keyid_of_object_as_received),
        cmocka_unit_test(test_keyid_known_vector),
        cmocka_unit_test(test_from_json_errors),
        cmocka_unit_test(test_save_and_load_private),
        cmocka_unit_test(test_load_private_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
