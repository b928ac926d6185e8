/*
 * test_boot_grubenv.c - the GRUB environment block format: escapes both ways, in-place
 * replacement and appending, comments kept, a block filled to the last byte, and every
 * malformed block
 * refused with what is wrong (size, header, NUL, line without '=', unnamed variable,
 * unterminated value, a name set twice, padding after no newline); an environment too large
 * to fit is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/grubenv.h"

/* A block: header + body + '#' padding (body must fit). */
static void make_block(char block[UF_GRUBENV_SIZE], const char *body, size_t body_len)
{
    size_t h = strlen(UF_GRUBENV_HEADER);
    assert_true(h + body_len <= UF_GRUBENV_SIZE);
    memcpy(block, UF_GRUBENV_HEADER, h);
    memcpy(block + h, body, body_len);
    memset(block + h + body_len, '#', UF_GRUBENV_SIZE - h - body_len);
}

static void test_escapes_round_trip(void **state)
{
    (void)state;
    static const char body[] = "plain=a b=c\nslash=x\\\\y\nnl=one\\\ntwo\n#comment\nempty=\n";
    char block[UF_GRUBENV_SIZE], again[UF_GRUBENV_SIZE];
    make_block(block, body, sizeof body - 1);
    uf_grubenv env = UF_GRUBENV_INIT;
    uf_error err;
    assert_true(uf_grubenv_parse(block, sizeof block, &env, &err));
    assert_int_equal(env.count, 5); /* four variables and the comment */
    assert_string_equal(uf_grubenv_get(&env, "plain"), "a b=c");
    assert_string_equal(uf_grubenv_get(&env, "slash"), "x\\y");
    assert_string_equal(uf_grubenv_get(&env, "nl"), "one\ntwo");
    assert_string_equal(uf_grubenv_get(&env, "empty"), "");
    assert_null(uf_grubenv_get(&env, "comment"));
    assert_true(uf_grubenv_format(&env, again, &err));
    assert_memory_equal(again, block, UF_GRUBENV_SIZE); /* byte for byte, comment and all */
    uf_grubenv_free(&env);
}

static void test_set_replaces_in_place_and_appends(void **state)
{
    (void)state;
    uf_grubenv env = UF_GRUBENV_INIT;
    uf_error err;
    assert_true(uf_grubenv_set(&env, "first", "1", &err));
    assert_true(uf_grubenv_set(&env, "second", "2", &err));
    assert_true(uf_grubenv_set(&env, "first", "one", &err));
    char block[UF_GRUBENV_SIZE], want[UF_GRUBENV_SIZE];
    assert_true(uf_grubenv_format(&env, block, &err));
    make_block(want, "first=one\nsecond=2\n", 19);
    assert_memory_equal(block, want, UF_GRUBENV_SIZE);
    const char *bad[] = {"", "#x", "a=b", "a\\b", "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(uf_grubenv_set(&env, bad[i], "v", &err));
        assert_int_equal(err.code, UF_E_INVALID);
    }
    uf_grubenv_free(&env);
}

static void test_full_to_the_last_byte(void **state)
{
    (void)state;
    size_t room = UF_GRUBENV_SIZE - strlen(UF_GRUBENV_HEADER) - strlen("v=\n");
    char *value = malloc(room + 2);
    assert_non_null(value);
    memset(value, 'x', room + 1);
    value[room] = '\0';
    uf_grubenv env = UF_GRUBENV_INIT;
    uf_error err;
    char block[UF_GRUBENV_SIZE];
    assert_true(uf_grubenv_set(&env, "v", value, &err));
    assert_true(uf_grubenv_format(&env, block, &err)); /* exactly 1024, no padding */
    assert_int_equal(block[UF_GRUBENV_SIZE - 1], '\n');
    uf_grubenv back = UF_GRUBENV_INIT;
    assert_true(uf_grubenv_parse(block, sizeof block, &back, &err));
    assert_string_equal(uf_grubenv_get(&back, "v"), value);
    uf_grubenv_free(&back);
    value[room - 1] = '\\'; /* escaping it takes one byte more: no longer fits */
    assert_true(uf_grubenv_set(&env, "v", value, &err));
    assert_false(uf_grubenv_format(&env, block, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "1025 bytes"));
    uf_grubenv_free(&env);
    free(value);
}

static void refused(const char *block, size_t len, const char *why)
{
    uf_grubenv env = UF_GRUBENV_INIT;
    uf_error err;
    assert_false(uf_grubenv_parse(block, len, &env, &err));
    assert_int_equal(err.code, UF_E_BAD_FIELD);
    if (!strstr(err.msg, why))
        fail_msg("'%s' does not say '%s'", err.msg, why);
    uf_grubenv_free(&env);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    char block[UF_GRUBENV_SIZE];
    make_block(block, "a=1\n", 4);
    refused(block, UF_GRUBENV_SIZE - 1, "exactly 1024");
    block[0] = '%';
    refused(block, UF_GRUBENV_SIZE, "GRUB Environment Block");
    make_block(block, "a=1\n", 4);
    block[UF_GRUBENV_SIZE - 10] = '\0';
    refused(block, UF_GRUBENV_SIZE, "NUL");
    make_block(block, "a=1\nnovalue\nb=2\n", 16);
    refused(block, UF_GRUBENV_SIZE, "without '='");
    make_block(block, "=1\n", 3);
    refused(block, UF_GRUBENV_SIZE, "without a name");
    make_block(block, "a=1\na=2\n", 8);
    refused(block, UF_GRUBENV_SIZE, "set twice");
    make_block(block, "a=1\n#x", 6);
    refused(block, UF_GRUBENV_SIZE, "runs into the padding");
    size_t h = strlen(UF_GRUBENV_HEADER);
    make_block(block, "a=", 2);
    memset(block + h + 2, 'x', UF_GRUBENV_SIZE - h - 2); /* the value runs off the end */
    refused(block, UF_GRUBENV_SIZE, "without its newline");
    block[UF_GRUBENV_SIZE - 1] = '\\'; /* an escape with nothing after it */
    refused(block, UF_GRUBENV_SIZE, "without its newline");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes_round_trip),
        cmocka_unit_test(test_set_replaces_in_place_and_appends),
        cmocka_unit_test(test_full_to_the_last_byte),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
