/*
 * test_password.c - scrypt password hashes: the stored format, verification with the right
 * and wrong password, fresh salts, the default (128 MiB) parameters, and refusal of malformed
 * or hostile stored strings as errors rather than mismatches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/password.h"

static const uf_password_params cheap = {.log2_n = 10, .r = 8, .p = 1};

static void test_format(void **state)
{
    (void)state;
    char h[UF_PASSWORD_HASH_MAX];
    uf_error err;
    assert_true(uf_password_hash("correct horse", &cheap, h, &err));
    const char *prefix = "$scrypt$ln=10,r=8,p=1$";
    assert_memory_equal(h, prefix, strlen(prefix));
    const char *salt = h + strlen(prefix);
    const char *dollar = strchr(salt, '$');
    assert_non_null(dollar);
    assert_int_equal(dollar - salt, 22);      /* 16 bytes of salt */
    assert_int_equal(strlen(dollar + 1), 43); /* 32 bytes of key */
    assert_null(strchr(salt, '=')); /* unpadded base64url */
}

static void test_verify_right_and_wrong(void **state)
{
    (void)state;
    char h[UF_PASSWORD_HASH_MAX];
    uf_error err;
    bool ok = false;
    assert_true(uf_password_hash("correct horse", &cheap, h, &err));

    assert_true(uf_password_verify("correct horse", h, &ok, &err));
    assert_true(ok);
    assert_true(uf_password_verify("correct horsE", h, &ok, &err));
    assert_false(ok);
    assert_true(uf_password_verify("correct horse ", h, &ok, &err));
    assert_false(ok);
    assert_true(uf_password_verify("", h, &ok, &err));
    assert_false(ok);
}

static void test_empty_and_unicode_passwords(void **state)
{
    (void)state;
    char h[UF_PASSWORD_HASH_MAX];
    bool ok = false;
    assert_true(uf_password_hash("", &cheap, h, NULL));
    assert_true(uf_password_verify("", h, &ok, NULL));
    assert_true(ok);
    assert_true(uf_password_verify("x", h, &ok, NULL));
    assert_false(ok);

    assert_true(uf_password_hash("p\xc3\xa4ssw\xc3\xb6rd", &cheap, h, NULL));
    assert_true(uf_password_verify("p\xc3\xa4ssw\xc3\xb6rd", h, &ok, NULL));
    assert_true(ok);
}

static void test_salts_differ(void **state)
{
    (void)state;
    char a[UF_PASSWORD_HASH_MAX], b[UF_PASSWORD_HASH_MAX];
    assert_true(uf_password_hash("same", &cheap, a, NULL));
    assert_true(uf_password_hash("same", &cheap, b, NULL));
    assert_string_not_equal(a, b);
    const char *sa = strchr(a + strlen("$scrypt$"), '$');
    const char *sb = strchr(b + strlen("$scrypt$"), '$');
    assert_memory_not_equal(sa, sb, 23);
}

/* The defaults need 128 MiB: more than the legacy EVP_PBE_scrypt allows by default (32 MiB),
 * so this checks that maxmem is set for the parameters. */
static void test_default_params(void **state)
{
    (void)state;
    uf_password_params d = uf_password_default_params();
    assert_int_equal(d.log2_n, 17);
    assert_int_equal(d.r, 8);
    assert_int_equal(d.p, 1);
    char h[UF_PASSWORD_HASH_MAX];
    uf_error err;
    assert_true(uf_password_hash("hunter2", &d, h, &err));
    assert_memory_equal(h, "$scrypt$ln=17,r=8,p=1$", 22);
    bool ok = false;
    assert_true(uf_password_verify("hunter2", h, &ok, &err));
    assert_true(ok);
}

/* Parameters come from the stored string, not from the defaults. */
static void test_verify_uses_stored_params(void **state)
{
    (void)state;
    uf_password_params other = {.log2_n = 11, .r = 4, .p = 2};
    char h[UF_PASSWORD_HASH_MAX];
    bool ok = false;
    assert_true(uf_password_hash("pw", &other, h, NULL));
    assert_memory_equal(h, "$scrypt$ln=11,r=4,p=2$", 22);
    assert_true(uf_password_verify("pw", h, &ok, NULL));
    assert_true(ok);

    /* the same salt and key claimed under other parameters do not match */
    char changed[UF_PASSWORD_HASH_MAX];
    snprintf(changed, sizeof changed, "$scrypt$ln=12,r=4,p=2$%s", h + 22);
    assert_true(uf_password_verify("pw", changed, &ok, NULL));
    assert_false(ok);
}

static void test_tampered_key_mismatches(void **state)
{
    (void)state;
    char h[UF_PASSWORD_HASH_MAX];
    bool ok = true;
    assert_true(uf_password_hash("pw", &cheap, h, NULL));
    size_t last = strlen(h) - 2; /* not the last character: its low bits are padding */
    h[last] = h[last] == 'A' ? 'B' : 'A';
    assert_true(uf_password_verify("pw", h, &ok, NULL));
    assert_false(ok);
}

static void test_bad_params_refused_when_hashing(void **state)
{
    (void)state;
    static const uf_password_params bad[] = {
        {9, 8, 1}, {23, 1, 1}, {10, 0, 1}, {10, 33, 1}, {10, 8, 0}, {10, 8, 17}, {22, 8, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char h[UF_PASSWORD_HASH_MAX];
        uf_error err;
        assert_false(uf_password_hash("pw", &bad[i], h, &err));
        assert_int_equal(err.code, UF_E_INVALID);
    }
}

static void test_malformed_stored_strings(void **state)
{
    (void)state;
    char good[UF_PASSWORD_HASH_MAX];
    assert_true(uf_password_hash("pw", &cheap, good, NULL));
    const char *tail = good + strlen("$scrypt$ln=10,r=8,p=1$"); /* salt$key */
    const char *key = strchr(tail, '$') + 1;
    char salt[32];
    snprintf(salt, sizeof salt, "%.*s", (int)(key - 1 - tail), tail);

    char cases[32][UF_PASSWORD_HASH_MAX];
    size_t n = 0;
#define CASE(...) snprintf(cases[n++], UF_PASSWORD_HASH_MAX, __VA_ARGS__)
    CASE("%s", "");
    CASE("%s", "$scrypt$");
    CASE("%s", "plaintext");
    CASE("$argon2id$ln=10,r=8,p=1$%s", tail);
    CASE("$scrypt$ln=9,r=8,p=1$%s", tail);    /* below the minimum cost */
    CASE("$scrypt$ln=23,r=8,p=1$%s", tail);   /* above the maximum */
    CASE("$scrypt$ln=22,r=32,p=16$%s", tail); /* 16 GiB: a denial of service */
    CASE("$scrypt$ln=20,r=16,p=1$%s", tail);  /* 2 GiB */
    CASE("$scrypt$ln=010,r=8,p=1$%s", tail);  /* leading zero */
    CASE("$scrypt$ln=+10,r=8,p=1$%s", tail);
    CASE("$scrypt$ln=4294967306,r=8,p=1$%s", tail); /* 2^32 + 10 */
    CASE("$scrypt$ln=10,r=0,p=1$%s", tail);
    CASE("$scrypt$ln=10,r=8,p=0$%s", tail);
    CASE("$scrypt$ln=10,r=8$%s", tail);
    CASE("$scrypt$r=8,ln=10,p=1$%s", tail);
    CASE("$scrypt$ln=10, r=8,p=1$%s", tail);
    CASE("$scrypt$ln=10,r=8,p=1$%s", salt);          /* no key */
    CASE("$scrypt$ln=10,r=8,p=1$%s$", salt);         /* empty key */
    CASE("$scrypt$ln=10,r=8,p=1$$%s", key);          /* empty salt */
    CASE("$scrypt$ln=10,r=8,p=1$%.20s$%s", salt, key); /* salt too short */
    CASE("$scrypt$ln=10,r=8,p=1$%s$%.40s", salt, key); /* key too short */
    CASE("$scrypt$ln=10,r=8,p=1$%s$%sAAAA", salt, key); /* key too long */
    CASE("$scrypt$ln=10,r=8,p=1$%s$%s$", salt, key);    /* trailing '$' */
    CASE("$scrypt$ln=10,r=8,p=1$%s$%s=", salt, key);    /* padding */
    CASE("$scrypt$ln=10,r=8,p=1$%s$%s ", salt, key);    /* trailing space */
    CASE("$scrypt$ln=10,r=8,p=1$%s+$%s", salt, key);    /* standard alphabet */
    CASE("$SCRYPT$ln=10,r=8,p=1$%s", tail);
#undef CASE
    for (size_t i = 0; i < n; i++) {
        bool ok = true;
        uf_error err;
        err.code = UF_OK;
        if (uf_password_verify("pw", cases[i], &ok, &err))
            fail_msg("accepted malformed stored hash \"%s\"", cases[i]);
        assert_int_equal(err.code, UF_E_INVALID);
        assert_false(ok);
    }
    /* and the original is still fine */
    bool ok = false;
    assert_true(uf_password_verify("pw", good, &ok, NULL));
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_verify_right_and_wrong),
        cmocka_unit_test(test_empty_and_unicode_passwords),
        cmocka_unit_test(test_salts_differ),
        cmocka_unit_test(test_default_params),
        cmocka_unit_test(test_verify_uses_stored_params),
        cmocka_unit_test(test_tampered_key_mismatches),
        cmocka_unit_test(test_bad_params_refused_when_hashing),
        cmocka_unit_test(test_malformed_stored_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
