/*
 * test_json.c - hostile JSON gets a clear error and never a crash: truncation at every byte,
 * duplicate keys, deep nesting, huge strings, NULs, bad UTF-8, wrong types.
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

#include "lib/json.h"

static const char sample[] =
    "{\"signed\": {\"_type\": \"root\", \"version\": 3, \"expires\": \"2030-01-01T00:00:00Z\","
    " \"consistent_snapshot\": true, \"keys\": {}, \"targets\": {\"file1.txt\": {\"length\": 12}},"
    " \"list\": [1, \"two\", null]}, \"signatures\": []}";

static json_t *parse_ok(const char *text)
{
    uf_error err;
    json_t *v = uf_json_parse(text, strlen(text), NULL, &err);
    if (!v)
        fail_msg("parse failed: %s", err.msg);
    return v;
}

static void parse_fails(const char *text, size_t len, const uf_json_limits *lim, uf_code code,
                        const char *needle)
{
    uf_error err;
    uf_error_clear(&err);
    json_t *v = uf_json_parse(text, len, lim, &err);
    if (v) {
        json_decref(v);
        fail_msg("parse of %.40s... unexpectedly succeeded", text);
    }
    assert_int_equal(err.code, code);
    if (needle && !strstr(err.msg, needle))
        fail_msg("error '%s' does not mention '%s'", err.msg, needle);
}

static void typed_getters_name_the_path(void **state)
{
    (void)state;
    json_t *doc = parse_ok(sample);
    json_t *sig;
    uf_error err;
    assert_true(uf_json_get_object(doc, "", "signed", &sig, &err));

    const char *s;
    int64_t i;
    bool b;
    assert_true(uf_json_get_string(sig, "signed", "_type", &s, &err));
    assert_string_equal(s, "root");
    assert_true(uf_json_get_int(sig, "signed", "version", &i, &err));
    assert_int_equal(i, 3);
    assert_true(uf_json_get_bool(sig, "signed", "consistent_snapshot", &b, &err));
    assert_true(b);

    assert_false(uf_json_get_string(sig, "signed", "version", &s, &err));
    assert_int_equal(err.code, UF_E_BAD_FIELD);
    assert_string_equal(err.msg, "signed.version: expected string, got integer");
    assert_false(uf_json_get_int(sig, "signed", "expires", &i, &err));
    assert_string_equal(err.msg, "signed.expires: expected integer, got string");
    json_t *arr;
    assert_false(uf_json_get_array(sig, "signed", "missing", &arr, &err));
    assert_string_equal(err.msg, "signed.missing: missing");
    assert_false(uf_json_get_int_range(sig, "signed", "version", 4, 10, &i, &err));
    assert_string_equal(err.msg, "signed.version: 3 is outside [4, 10]");

    json_t *targets, *file;
    assert_true(uf_json_get_object(sig, "signed", "targets", &targets, &err));
    assert_false(uf_json_get_object(targets, "signed.targets", "file1.txt", &file, &err) &&
                 uf_json_get_string(file, "signed.targets[\"file1.txt\"]", "length", &s, &err));
    assert_string_equal(err.msg, "signed.targets[\"file1.txt\"].length: expected string, got integer");

    json_t *list;
    assert_true(uf_json_get_array(sig, "signed", "list", &list, &err));
    char p[64];
    uf_json_path_index(p, sizeof p, "signed.list", 1);
    assert_string_equal(p, "signed.list[1]");
    json_decref(doc);
}

static void optional_getters_leave_defaults(void **state)
{
    (void)state;
    json_t *doc = parse_ok("{\"a\": null, \"n\": 7, \"s\": 1}");
    uf_error err;
    const char *s = "default";
    int64_t n = -1;
    bool b = true;
    json_t *o = NULL;
    assert_true(uf_json_opt_string(doc, "", "a", &s, &err));
    assert_string_equal(s, "default");
    assert_true(uf_json_opt_bool(doc, "", "absent", &b, &err));
    assert_true(b);
    assert_true(uf_json_opt_object(doc, "", "absent", &o, &err));
    assert_null(o);
    assert_true(uf_json_opt_int(doc, "", "n", &n, &err));
    assert_int_equal(n, 7);
    assert_false(uf_json_opt_string(doc, "", "s", &s, &err));
    assert_string_equal(err.msg, "s: expected string, got integer");
    assert_false(uf_json_opt_array(doc, "", "n", &o, &err));
    assert_string_equal(err.msg, "n: expected array, got integer");
    /* a getter on something that is not an object */
    json_t *arr = parse_ok("[1]");
    assert_false(uf_json_get_int(arr, "items", "x", &n, &err));
    assert_string_equal(err.msg, "items: expected object, got array");
    json_decref(arr);
    json_decref(doc);
}

static void unknown_fields_are_named(void **state)
{
    (void)state;
    json_t *doc = parse_ok("{\"title\": \"x\", \"colour\": \"red\"}");
    static const char *const allowed[] = {"title", "color", NULL};
    uf_error err;
    assert_false(uf_json_only_keys(doc, "body", allowed, &err));
    assert_int_equal(err.code, UF_E_BAD_FIELD);
    assert_string_equal(err.msg, "body.colour: unknown field");
    static const char *const both[] = {"title", "colour", NULL};
    assert_true(uf_json_only_keys(doc, "body", both, &err));
    json_decref(doc);
}

static void truncation_at_every_byte_is_a_clear_error(void **state)
{
    (void)state;
    size_t n = strlen(sample);
    for (size_t len = 0; len < n; len++) {
        char *copy = malloc(len + 1); /* exact size, so ASan sees any over-read */
        memcpy(copy, sample, len);
        copy[len] = '\0';
        parse_fails(copy, len, NULL, UF_E_BAD_JSON, "bad JSON at line");
        free(copy);
    }
    json_decref(parse_ok(sample));
}

static void duplicate_keys_are_refused(void **state)
{
    (void)state;
    const char *top = "{\"version\": 1, \"version\": 2}";
    parse_fails(top, strlen(top), NULL, UF_E_BAD_JSON, "duplicate");
    const char *nested = "{\"signed\": {\"keys\": {\"a\": 1, \"b\": 2, \"a\": 3}}}";
    parse_fails(nested, strlen(nested), NULL, UF_E_BAD_JSON, "duplicate");
}

static char *nested(size_t depth, char open, char close)
{
    char *s = malloc(2 * depth + 1);
    memset(s, open, depth);
    memset(s + depth, close, depth);
    s[2 * depth] = '\0';
    return s;
}

static void deep_nesting_is_refused_without_a_crash(void **state)
{
    (void)state;
    char *arr = nested(1000, '[', ']');
    parse_fails(arr, 2000, NULL, UF_E_TOO_LARGE, "nesting deeper than 32");
    free(arr);
    /* 1000 levels of objects: {"a":{"a":...}} */
    size_t depth = 1000;
    char *obj = malloc(depth * 6 + depth + 1);
    size_t p = 0;
    for (size_t i = 0; i < depth; i++) {
        memcpy(obj + p, "{\"a\":", 5);
        p += 5;
    }
    obj[p++] = '1';
    for (size_t i = 0; i < depth; i++)
        obj[p++] = '}';
    obj[p] = '\0';
    parse_fails(obj, p, NULL, UF_E_TOO_LARGE, "nesting deeper");
    free(obj);
    /* far past jansson's own recursion limit: still an error, not a stack overflow */
    uf_json_limits lim = uf_json_default_limits();
    lim.max_bytes = 4 * 1024 * 1024;
    char *deep = nested(1000000, '[', ']');
    parse_fails(deep, 2000000, &lim, UF_E_TOO_LARGE, NULL);
    free(deep);
    /* at the limit is fine */
    char *ok = nested(32, '[', ']');
    json_t *v = uf_json_parse(ok, 64, NULL, NULL);
    assert_non_null(v);
    json_decref(v);
    free(ok);
}

static void huge_strings_are_refused(void **state)
{
    (void)state;
    size_t n = 100u * 1024 * 1024;
    char *doc = malloc(n + 5);
    doc[0] = '[';
    doc[1] = '"';
    memset(doc + 2, 'a', n);
    doc[n + 2] = '"';
    doc[n + 3] = ']';
    doc[n + 4] = '\0';
    /* with the default limits the size check refuses it before any parsing */
    parse_fails(doc, n + 4, NULL, UF_E_TOO_LARGE, "exceeds the limit of 1048576");
    /* a caller that allows big documents still has the per-string limit */
    uf_json_limits lim = uf_json_default_limits();
    lim.max_bytes = 200u * 1024 * 1024;
    parse_fails(doc, n + 4, &lim, UF_E_TOO_LARGE, "[0]: string of 104857600 bytes exceeds");
    free(doc);
    /* long keys count too */
    char key[100];
    memset(key, 'k', sizeof key);
    char text[200];
    snprintf(text, sizeof text, "{\"%.*s\": 1}", 90, key);
    lim = uf_json_default_limits();
    lim.max_string = 50;
    parse_fails(text, strlen(text), &lim, UF_E_TOO_LARGE, "key of 90 bytes");
}

static void too_many_members_are_refused(void **state)
{
    (void)state;
    uf_json_limits lim = uf_json_default_limits();
    lim.max_members = 3;
    parse_fails("[1,2,3,4]", 9, &lim, UF_E_TOO_LARGE, "4 members exceed 3");
    const char *obj = "{\"x\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4}}";
    parse_fails(obj, strlen(obj), &lim, UF_E_TOO_LARGE, "x: 4 members");
}

static void nul_bad_utf8_numbers_and_junk_are_refused(void **state)
{
    (void)state;
    parse_fails("{\"a\":\"x\\u0000y\"}", 16, NULL, UF_E_BAD_JSON, NULL);
    parse_fails("{\"a\":\"x\0y\"}", 11, NULL, UF_E_BAD_JSON, NULL);
    parse_fails("{\"a\":\"\xff\xfe\"}", 10, NULL, UF_E_BAD_JSON, NULL);
    parse_fails("{\"a\":\"\xc0\xaf\"}", 10, NULL, UF_E_BAD_JSON, NULL); /* overlong '/' */
    parse_fails("{\"a\":123456789012345678901234567890}", 36, NULL, UF_E_BAD_JSON, NULL);
    parse_fails("{\"a\":1} trailing", 16, NULL, UF_E_BAD_JSON, NULL);
    parse_fails("{'a':1}", 7, NULL, UF_E_BAD_JSON, NULL);
    parse_fails("{\"a\":01}", 8, NULL, UF_E_BAD_JSON, NULL);
    parse_fails("", 0, NULL, UF_E_BAD_JSON, NULL);
    parse_fails(NULL, 0, NULL, UF_E_BAD_JSON, NULL);
    parse_fails("\"just a string\"", 15, NULL, UF_E_BAD_JSON, NULL);
}

static void files_are_checked_before_reading(void **state)
{
    (void)state;
    uf_error err;
    assert_null(uf_json_load_file("/nonexistent/upflow.json", NULL, &err));
    assert_int_equal(err.code, UF_E_NOT_FOUND);
    assert_null(uf_json_load_file("/", NULL, &err));
    assert_int_equal(err.code, UF_E_INVALID);

    char path[] = "/tmp/upflow-test-json-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"a\": [1, 2]}", 13), 13);
    close(fd);
    json_t *v = uf_json_load_file(path, NULL, &err);
    assert_non_null(v);
    assert_int_equal(json_array_size(json_object_get(v, "a")), 2);
    json_decref(v);

    uf_json_limits lim = uf_json_default_limits();
    lim.max_bytes = 12;
    assert_null(uf_json_load_file(path, &lim, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "13 bytes exceed the limit of 12"));

    FILE *f = fopen(path, "w");
    fputs("{\"a\": ", f);
    fclose(f);
    assert_null(uf_json_load_file(path, NULL, &err));
    assert_int_equal(err.code, UF_E_BAD_JSON);
    assert_memory_equal(err.msg, path, strlen(path)); /* the file is named first */
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(typed_getters_name_the_path),
        cmocka_unit_test(optional_getters_leave_defaults),
        cmocka_unit_test(unknown_fields_are_named),
        cmocka_unit_test(truncation_at_every_byte_is_a_clear_error),
        cmocka_unit_test(duplicate_keys_are_refused),
        cmocka_unit_test(deep_nesting_is_refused_without_a_crash),
        cmocka_unit_test(huge_strings_are_refused),
        cmocka_unit_test(too_many_members_are_refused),
        cmocka_unit_test(nul_bad_utf8_numbers_and_junk_are_refused),
        cmocka_unit_test(files_are_checked_before_reading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
