/*
 * test_error.c - error codes are stable and errors read outermost step first.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"

/* The API promises these names; renaming one breaks clients, so they are spelled out. */
static void names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(uf_code_name(UF_OK), "ok");
    assert_string_equal(uf_code_name(UF_E_BAD_JSON), "bad_json");
    assert_string_equal(uf_code_name(UF_E_TOO_LARGE), "too_large");
    assert_string_equal(uf_code_name(UF_E_THRESHOLD), "threshold_not_met");
    assert_string_equal(uf_code_name(UF_E_HASH_MISMATCH), "hash_mismatch");
    assert_string_equal(uf_code_name((uf_code)9999), "unknown");
    assert_int_equal(uf_code_http_status(UF_E_NOT_FOUND), 404);
    assert_int_equal(uf_code_http_status(UF_E_CONFLICT), 409);
    assert_int_equal(uf_code_http_status(UF_E_UNAUTHORIZED), 401);
    assert_int_equal(uf_code_http_status((uf_code)-1), 500);
}

static void every_code_has_a_unique_name_that_round_trips(void **state)
{
    (void)state;
    for (unsigned i = 0; i < UF_ERROR_CODE_COUNT; i++) {
        uf_code back;
        const char *name = uf_code_name((uf_code)i);
        assert_true(uf_code_from_name(name, &back));
        assert_int_equal(back, i);
        assert_true(strlen(uf_code_text((uf_code)i)) > 0);
        for (unsigned j = 0; j < i; j++)
            assert_string_not_equal(name, uf_code_name((uf_code)j));
    }
    uf_code c;
    assert_false(uf_code_from_name("no_such_code", &c));
}

static void context_chain_reads_outermost_first(void **state)
{
    (void)state;
    uf_error err;
    uf_error_clear(&err);
    assert_false(uf_error_set(&err, UF_E_THRESHOLD, "signature threshold %d not met", 2));
    assert_false(uf_error_prefix(&err, "verify signatures"));
    assert_false(uf_error_prefix(&err, "load %s", "root.json"));
    assert_int_equal(err.code, UF_E_THRESHOLD);
    assert_string_equal(err.msg, "load root.json: verify signatures: signature threshold 2 not met");
}

static void errno_maps_to_codes(void **state)
{
    (void)state;
    uf_error err;
    uf_error_errno(&err, ENOSPC, "write %s", "slot-b");
    assert_int_equal(err.code, UF_E_NO_SPACE);
    assert_string_equal(err.msg, "write slot-b: No space left on device");
    uf_error_errno(&err, ENOENT, "open x");
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    uf_error_errno(&err, EIO, "read x");
    assert_int_equal(err.code, UF_E_IO);
}

static void null_error_is_accepted_and_long_messages_truncate(void **state)
{
    (void)state;
    assert_false(uf_error_set(NULL, UF_E_IO, "ignored"));
    assert_false(uf_error_prefix(NULL, "ignored"));
    uf_error err;
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    uf_error_set(&err, UF_E_IO, "%s", big);
    assert_int_equal(strlen(err.msg), UF_ERROR_MSG_MAX - 1);
    uf_error_prefix(&err, "outer");
    assert_int_equal(strlen(err.msg), UF_ERROR_MSG_MAX - 1);
    assert_memory_equal(err.msg, "outer: xxx", 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_are_stable),
        cmocka_unit_test(every_code_has_a_unique_name_that_round_trips),
        cmocka_unit_test(context_chain_reads_outermost_first),
        cmocka_unit_test(errno_maps_to_codes),
        cmocka_unit_test(null_error_is_accepted_and_long_messages_truncate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
