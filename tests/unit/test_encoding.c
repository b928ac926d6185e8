/*
 * test_encoding.c - hex and base64url: known answers (RFC 4648 §10), round trips over every
 * byte value and length, and rejection of every kind of malformed input with a precise error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/encoding.h"

static void test_hex_encode_known(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof in + 1];
    uf_hex_encode(in, sizeof in, out);
    assert_string_equal(out, "00017f80abff");

    char empty[1] = {'x'};
    uf_hex_encode(in, 0, empty);
    assert_string_equal(empty, "");
}

static void test_hex_round_trip_all_bytes(void **state)
{
    (void)state;
    uint8_t in[256], back[256];
    char hex[2 * sizeof in + 1];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)i;
    uf_hex_encode(in, sizeof in, hex);
    size_t n = 0;
    uf_error err;
    assert_true(uf_hex_decode(hex, back, sizeof back, &n, &err));
    assert_int_equal(n, sizeof in);
    assert_memory_equal(in, back, sizeof in);
}

static void test_hex_decode_accepts_either_case(void **state)
{
    (void)state;
    uint8_t out[4];
    size_t n = 0;
    assert_true(uf_hex_decode("DeadBEEF", out, sizeof out, &n, NULL));
    assert_int_equal(n, 4);
    const uint8_t want[] = {0xde, 0xad, 0xbe, 0xef};
    assert_memory_equal(out, want, sizeof want);
}

static void test_hex_decode_empty(void **state)
{
    (void)state;
    uint8_t out[1];
    size_t n = 99;
    assert_true(uf_hex_decode("", out, sizeof out, &n, NULL));
    assert_int_equal(n, 0);
}

static void test_hex_decode_rejects_bad_input(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n = 0;
    uf_error err;

    assert_false(uf_hex_decode("abc", out, sizeof out, &n, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_non_null(strstr(err.msg, "odd"));

    assert_false(uf_hex_decode("0g", out, sizeof out, &n, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_non_null(strstr(err.msg, "position 1"));

    assert_false(uf_hex_decode("00 1", out, sizeof out, &n, &err));
    assert_int_equal(err.code, UF_E_INVALID);
    assert_false(uf_hex_decode("0x00", out, sizeof out, &n, &err));
    assert_false(uf_hex_decode("-1", out, sizeof out, &n, &err));

    /* 9 bytes do not fit in 8 */
    assert_false(uf_hex_decode("000102030405060708", out, sizeof out, &n, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    /* exactly the capacity fits */
    assert_true(uf_hex_decode("0001020304050607", out, sizeof out, &n, &err));
    assert_int_equal(n, 8);
}

static void test_base64url_size(void **state)
{
    (void)state;
    assert_int_equal(uf_base64url_size(0), 1);
    assert_int_equal(uf_base64url_size(1), 3);
    assert_int_equal(uf_base64url_size(2), 4);
    assert_int_equal(uf_base64url_size(3), 5);
    assert_int_equal(uf_base64url_size(16), 23);
    assert_int_equal(uf_base64url_size(32), 44); /* a token: 43 characters + NUL */
}

/* RFC 4648 §10 test vectors, without padding. */
static void test_base64url_rfc4648_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *plain, *text;
    } v[] = {
        {"", ""},          {"f", "Zg"},         {"fo", "Zm8"},        {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = strlen(v[i].plain);
        char out[16];
        assert_true(uf_base64url_size(len) <= sizeof out);
        uf_base64url_encode((const uint8_t *)v[i].plain, len, out);
        assert_string_equal(out, v[i].text);
        assert_int_equal(strlen(out) + 1, uf_base64url_size(len));

        uint8_t back[16];
        size_t n = 0;
        assert_true(uf_base64url_decode(v[i].text, back, sizeof back, &n, NULL));
        assert_int_equal(n, len);
        assert_memory_equal(back, v[i].plain, len);
    }
}

static void test_base64url_uses_url_alphabet(void **state)
{
    (void)state;
    const uint8_t in[] = {0xfb, 0xff, 0xbf}; /* "+/+/" in standard base64 */
    char out[8];
    uf_base64url_encode(in, sizeof in, out);
    assert_string_equal(out, "-_-_");
    const uint8_t in2[] = {0xfb, 0xff};
    uf_base64url_encode(in2, sizeof in2, out);
    assert_string_equal(out, "-_8");
}

static void test_base64url_round_trip_lengths(void **state)
{
    (void)state;
    uint8_t in[70], back[70];
    char text[100];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof in; len++) {
        uf_base64url_encode(in, len, text);
        assert_int_equal(strlen(text) + 1, uf_base64url_size(len));
        size_t n = 0;
        uf_error err;
        assert_true(uf_base64url_decode(text, back, sizeof back, &n, &err));
        assert_int_equal(n, len);
        assert_memory_equal(back, in, len);
    }
}

static void test_base64url_decode_rejects_bad_input(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n = 0;
    uf_error err;
    static const char *const bad[] = {
        "Z",        /* length 1 mod 4 */
        "Zg==",     /* padding */
        "Zm9v+A",   /* standard alphabet */
        "Zm9v/A",   /* standard alphabet */
        "Zm 9v",    /* whitespace */
        "Zh",       /* non-zero trailing bits: not the canonical text of "f" */
        "Zm9",      /* non-zero trailing bits */
        "Zm9vYg\n", /* newline */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.code = UF_OK;
        assert_false(uf_base64url_decode(bad[i], out, sizeof out, &n, &err));
        assert_int_equal(err.code, UF_E_INVALID);
    }
    assert_false(uf_base64url_decode("Zm9vYmFy", out, 5, &n, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    assert_true(uf_base64url_decode("Zm9vYmFy", out, 6, &n, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_encode_known),
        cmocka_unit_test(test_hex_round_trip_all_bytes),
        cmocka_unit_test(test_hex_decode_accepts_either_case),
        cmocka_unit_test(test_hex_decode_empty),
        cmocka_unit_test(test_hex_decode_rejects_bad_input),
        cmocka_unit_test(test_base64url_size),
        cmocka_unit_test(test_base64url_rfc4648_vectors),
        cmocka_unit_test(test_base64url_uses_url_alphabet),
        cmocka_unit_test(test_base64url_round_trip_lengths),
        cmocka_unit_test(test_base64url_decode_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
