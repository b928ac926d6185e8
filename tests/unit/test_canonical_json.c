/*
 * test_canonical_json.c - the bytes TUF signs: sorted keys, no whitespace, minimal escaping,
 * no floats. (The byte-for-byte check against python-tuf's output is in test_tuf_vectors.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/canonical_json.h"
#include "lib/json.h"

static void expect_canonical(const char *input, const char *expected, size_t expected_len)
{
    uf_error err;
    json_t *v = uf_json_parse(input, strlen(input), NULL, &err);
    if (!v)
        fail_msg("parse: %s", err.msg);
    uf_buf out = UF_BUF_INIT;
    if (!uf_canonical_json(v, &out, &err))
        fail_msg("canonical: %s", err.msg);
    assert_int_equal(out.len, expected_len);
    assert_memory_equal(out.data, expected, expected_len);

    /* canonical form is a fixed point, where it is still valid JSON (raw control characters
     * are not: canonical JSON is a signing form, not an interchange form) */
    for (size_t i = 0; i < out.len; i++) {
        if ((unsigned char)out.data[i] < 0x20) {
            json_decref(v);
            uf_buf_free(&out);
            return;
        }
    }
    json_t *again = uf_json_parse(out.data, out.len, NULL, &err);
    assert_non_null(again);
    uf_buf out2 = UF_BUF_INIT;
    assert_true(uf_canonical_json(again, &out2, &err));
    assert_int_equal(out2.len, out.len);
    assert_memory_equal(out2.data, out.data, out.len);
    json_decref(again);
    json_decref(v);
    uf_buf_free(&out);
    uf_buf_free(&out2);
}

#define EXPECT(in, out) expect_canonical((in), (out), sizeof(out) - 1)

static void spec_example(void **state)
{
    (void)state;
    /* tuf.md §4: {"b":[1,true,null],"a":"q\"\\é<LF>"} */
    EXPECT("{\"b\": [1, true, null], \"a\": \"q\\\"\\\\\\u00e9\\n\"}",
           "{\"a\":\"q\\\"\\\\\xc3\xa9\n\",\"b\":[1,true,null]}");
}

static void keys_sort_by_code_point(void **state)
{
    (void)state;
    EXPECT("{\"\xe4\xb8\xad\":1,\"\xc3\xa9\":2,\"~\":3,\"z\":4,\"a\":5,\"B\":6,\"\":7,\"aa\":8}",
           "{\"\":7,\"B\":6,\"a\":5,\"aa\":8,\"z\":4,\"~\":3,\"\xc3\xa9\":2,\"\xe4\xb8\xad\":1}");
    /* a supplementary-plane character sorts after U+FFFD, as code points do */
    EXPECT("{\"\xf0\x9f\x98\x80\":1,\"\xef\xbf\xbd\":2}",
           "{\"\xef\xbf\xbd\":2,\"\xf0\x9f\x98\x80\":1}");
}

static void only_quote_and_backslash_are_escaped(void **state)
{
    (void)state;
    EXPECT("[\"\\u0001\\t\\r/\\/\\b\\f\\u007f\"]", "[\"\x01\t\r//\b\f\x7f\"]");
    EXPECT("{\"k\\\"ey\":\"\\\\\\\\\"}", "{\"k\\\"ey\":\"\\\\\\\\\"}");
}

static void integers_and_literals(void **state)
{
    (void)state;
    EXPECT("[0, -0, -1, 9223372036854775807, -9223372036854775808]",
           "[0,0,-1,9223372036854775807,-9223372036854775808]");
    EXPECT("{\"a\":{},\"b\":[],\"c\":[[],{}],\"d\":false,\"e\":null}",
           "{\"a\":{},\"b\":[],\"c\":[[],{}],\"d\":false,\"e\":null}");
    EXPECT("  {\n \"x\" :\t[ 1 ,2 ] }\n", "{\"x\":[1,2]}");
}

static void floats_are_refused_with_their_path(void **state)
{
    (void)state;
    const char *in = "{\"signed\": {\"targets\": {\"a.bin\": {\"length\": 1.5}}}}";
    json_t *v = uf_json_parse(in, strlen(in), NULL, NULL);
    assert_non_null(v);
    uf_buf out = UF_BUF_INIT;
    assert_true(uf_buf_append_str(&out, "prefix", NULL));
    uf_error err;
    assert_false(uf_canonical_json(v, &out, &err));
    assert_int_equal(err.code, UF_E_BAD_FIELD);
    assert_string_equal(err.msg,
                        "signed.targets[\"a.bin\"].length: floats have no canonical form");
    assert_int_equal(out.len, 6); /* rolled back to what was there */
    assert_string_equal(out.data, "prefix");
    json_decref(v);
    uf_buf_free(&out);

    json_t *one = json_pack("[f]", 1.0);
    assert_false(uf_canonical_json(one, &out, &err));
    assert_string_equal(err.msg, "[0]: floats have no canonical form");
    json_decref(one);
    uf_buf_free(&out);
}

static void depth_and_size_limits(void **state)
{
    (void)state;
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < UF_CANONICAL_MAX_DEPTH; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    uf_buf out = UF_BUF_INIT;
    uf_error err;
    assert_false(uf_canonical_json(root, &out, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    assert_int_equal(out.len, 0);
    json_decref(root);

    json_t *big = json_pack("{s:s}", "k", "0123456789");
    out.limit = 10;
    assert_false(uf_canonical_json(big, &out, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    out.limit = 0;
    assert_true(uf_canonical_json(big, &out, &err));
    assert_string_equal(out.data, "{\"k\":\"0123456789\"}");
    json_decref(big);
    uf_buf_free(&out);
    assert_false(uf_canonical_json(NULL, &out, &err));
    assert_int_equal(err.code, UF_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_example),
        cmocka_unit_test(keys_sort_by_code_point),
        cmocka_unit_test(only_quote_and_backslash_are_escaped),
        cmocka_unit_test(integers_and_literals),
        cmocka_unit_test(floats_are_refused_with_their_path),
        cmocka_unit_test(depth_and_size_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
