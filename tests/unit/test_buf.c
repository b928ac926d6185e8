/*
 * test_buf.c - the growable buffer keeps bytes, a NUL, and its limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"

static void appends_bytes_and_keeps_a_nul(void **state)
{
    (void)state;
    uf_buf b = UF_BUF_INIT;
    uf_error err;
    assert_true(uf_buf_append(&b, "ab\0c", 4, &err));
    assert_true(uf_buf_append_str(&b, "de", &err));
    assert_true(uf_buf_append_char(&b, 'f', &err));
    assert_true(uf_buf_printf(&b, &err, "-%d-%s", 42, "x"));
    assert_int_equal(b.len, 12);
    assert_memory_equal(b.data, "ab\0cdef-42-x", 13);
    uf_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    uf_buf_free(&b);
    assert_null(b.data);
}

static void grows_across_many_appends(void **state)
{
    (void)state;
    uf_buf b = UF_BUF_INIT;
    for (int i = 0; i < 100000; i++)
        assert_true(uf_buf_printf(&b, NULL, "%d,", i % 10));
    assert_int_equal(b.len, 200000);
    assert_memory_equal(b.data + 199996, "8,9,", 4);
    uf_buf_free(&b);
}

static void limit_refuses_and_leaves_contents(void **state)
{
    (void)state;
    uf_buf b = UF_BUF_INIT;
    b.limit = 5;
    uf_error err;
    assert_true(uf_buf_append_str(&b, "abcd", &err));
    assert_false(uf_buf_append_str(&b, "ef", &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    assert_false(uf_buf_printf(&b, &err, "%s", "xy"));
    assert_string_equal(b.data, "abcd");
    assert_true(uf_buf_append_char(&b, 'e', &err));
    assert_string_equal(b.data, "abcde");
    uf_buf_free(&b);
}

static void steal_hands_over_even_when_empty(void **state)
{
    (void)state;
    uf_buf b = UF_BUF_INIT;
    size_t len = 99;
    char *p = uf_buf_steal(&b, &len, NULL);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
    uf_buf_append_str(&b, "hello", NULL);
    p = uf_buf_steal(&b, &len, NULL);
    assert_string_equal(p, "hello");
    assert_int_equal(len, 5);
    assert_null(b.data);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appends_bytes_and_keeps_a_nul),
        cmocka_unit_test(grows_across_many_appends),
        cmocka_unit_test(limit_refuses_and_leaves_contents),
        cmocka_unit_test(steal_hands_over_even_when_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
