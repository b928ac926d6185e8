/*
 * test_random.c - kernel randomness and tokens (length, alphabet, prefix, uniqueness) and the
 * semantics of the constant-time comparisons (equal only for equal length and bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/random.h"

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t a[32] = {0}, b[32] = {0};
    uf_error err;
    assert_true(uf_random_bytes(a, sizeof a, &err));
    assert_true(uf_random_bytes(b, sizeof b, &err));
    assert_false(all_zero(a, sizeof a));
    assert_memory_not_equal(a, b, sizeof a);
    assert_true(uf_random_bytes(a, 0, &err));
}

/* getrandom(2) returns at most 32 MiB - 1 per call and may return short reads; 40 MiB
 * exercises the loop. */
static void test_random_bytes_large(void **state)
{
    (void)state;
    size_t len = 40u << 20;
    uint8_t *p = calloc(1, len);
    assert_non_null(p);
    assert_true(uf_random_bytes(p, len, NULL));
    assert_false(all_zero(p + len - 64, 64));
    free(p);
}

static bool is_base64url(const char *s)
{
    for (; *s; s++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *s))
            return false;
    return true;
}

static void test_token_shape(void **state)
{
    (void)state;
    char t1[UF_TOKEN_MAX], t2[UF_TOKEN_MAX];
    uf_error err;
    assert_true(uf_random_token("uft_", t1, &err));
    assert_int_equal(strlen(t1), 4 + 43);
    assert_memory_equal(t1, "uft_", 4);
    assert_true(is_base64url(t1 + 4));

    assert_true(uf_random_token("uft_", t2, &err));
    assert_string_not_equal(t1, t2);

    assert_true(uf_random_token("", t1, &err));
    assert_int_equal(strlen(t1), 43);
    assert_true(is_base64url(t1));
    assert_true(uf_random_token(NULL, t2, &err));
    assert_int_equal(strlen(t2), 43);
    assert_string_not_equal(t1, t2);
}

static void test_token_prefix_limit(void **state)
{
    (void)state;
    char t[UF_TOKEN_MAX];
    uf_error err;
    assert_true(uf_random_token("123456789012345", t, &err)); /* 15: the maximum */
    assert_int_equal(strlen(t), 15 + 43);
    assert_false(uf_random_token("1234567890123456", t, &err));
    assert_int_equal(err.code, UF_E_INVALID);
}

static void test_consttime_equal(void **state)
{
    (void)state;
    assert_true(uf_consttime_equal("secret", 6, "secret", 6));
    assert_false(uf_consttime_equal("secret", 6, "secreT", 6));
    assert_false(uf_consttime_equal("Secret", 6, "secret", 6));
    /* same prefix, different length: not equal */
    assert_false(uf_consttime_equal("secret", 6, "secrets", 7));
    assert_false(uf_consttime_equal("secrets", 7, "secret", 6));
    assert_false(uf_consttime_equal("", 0, "a", 1));
    assert_true(uf_consttime_equal("", 0, "", 0));
    assert_true(uf_consttime_equal(NULL, 0, NULL, 0));
    /* bytes after a NUL count */
    assert_false(uf_consttime_equal("a\0b", 3, "a\0c", 3));
}

static void test_consttime_streq(void **state)
{
    (void)state;
    assert_true(uf_consttime_streq("token", "token"));
    assert_false(uf_consttime_streq("token", "tokem"));
    assert_false(uf_consttime_streq("token", "token2"));
    assert_false(uf_consttime_streq("token", ""));
    assert_true(uf_consttime_streq("", ""));
    assert_false(uf_consttime_streq(NULL, "x"));
    assert_false(uf_consttime_streq("x", NULL));
    assert_false(uf_consttime_streq(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_random_bytes_large),
        cmocka_unit_test(test_token_shape),
        cmocka_unit_test(test_token_prefix_limit),
        cmocka_unit_test(test_consttime_equal),
        cmocka_unit_test(test_consttime_streq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
