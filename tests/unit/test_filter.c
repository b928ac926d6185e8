/*
 * test_filter.c - device filters select the devices an operator means: every operator on
 * strings, versions, numbers, booleans, arrays, nested objects and missing attributes;
 * precedence; syntax errors that name the column and what was expected; the limits; and
 * canonical text that parses back to a filter matching the same devices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/filter.h"
#include "lib/json.h"

static const char device_json[] =
    "{\"hw\": \"rev2\", \"site\": \"shanghai\", \"version\": \"2.2.9\","
    " \"tags\": [\"pilot\", \"north\"], \"customer\": \"acme\","
    " \"inventory\": {\"cpu\": \"cortex-a53\", \"ram_mb\": 512, \"disk\": {\"model\": \"emmc\"}},"
    " \"agent\": \"v1.4.0\", \"count\": 12, \"ratio\": 0.1, \"beta\": true, \"legacy\": false,"
    " \"gone\": null, \"mixed\": [1, \"2.0\", true, {\"k\": \"v\"}, [\"x\"]], \"empty\": [],"
    " \"path\": \"/dev/mmcblk0p2\", \"quote\": \"say \\\"hi\\\" \\\\o/\"}";

static json_t *json_ok(const char *text)
{
    uf_error err;
    json_t *v = uf_json_parse(text, strlen(text), NULL, &err);
    if (!v)
        fail_msg("bad test JSON: %s", err.msg);
    return v;
}

static uf_filter *parse_ok(const char *text)
{
    uf_error err;
    uf_filter *f = uf_filter_parse(text, &err);
    if (!f)
        fail_msg("'%s' did not parse: %s", text, err.msg);
    return f;
}

typedef struct {
    const char *filter;
    bool matches;
} case_t;

static void check_cases(const case_t *cases, size_t n)
{
    json_t *device = json_ok(device_json);
    for (size_t i = 0; i < n; i++) {
        uf_filter *f = parse_ok(cases[i].filter);
        if (uf_filter_match(f, device) != cases[i].matches)
            fail_msg("'%s' should %smatch", cases[i].filter, cases[i].matches ? "" : "not ");
        uf_filter_free(f);
    }
    json_decref(device);
}

#define CHECK_CASES(...)                                                                      \
    do {                                                                                      \
        static const case_t cases[] = {__VA_ARGS__};                                          \
        check_cases(cases, sizeof cases / sizeof cases[0]);                                   \
    } while (0)

static void the_example_from_the_issue(void **state)
{
    (void)state;
    CHECK_CASES({"hw = \"rev2\" and site = \"shanghai\" and version < \"2.3\"", true},
                {"hw = rev2 and site = shanghai and version < 2.3", true},
                {"hw = \"rev2\" and site = \"shanghai\" and version < \"2.2.9\"", false},
                {"hw = \"rev3\" and site = \"shanghai\" and version < \"2.3\"", false});
}

static void equality(void **state)
{
    (void)state;
    CHECK_CASES({"hw = rev2", true}, {"hw = \"rev2\"", true}, {"hw = REV2", false},
                {"hw = rev", false}, {"hw != rev2", false}, {"hw != rev3", true},
                {"hw=rev2", true}, {"hw!=rev2", false}, {"customer != globex", true},
                /* two semantic versions are equal when they compare equal */
                {"version = 2.2.9", true}, {"version = v2.2.9", true},
                {"version = 2.2.9+build.7", true}, {"version = 2.2", false},
                {"agent = 1.4", true}, {"agent != 1.4.0", false}, {"agent = 1.4.1", false},
                /* numbers and booleans by their text */
                {"count = 12", true}, {"count = \"12\"", true}, {"count = 012", false},
                {"count = 12.0", true}, {"ratio = 0.1", true}, {"ratio = 0.10000001", false},
                {"inventory.ram_mb = 512", true}, {"beta = true", true},
                {"beta = false", false}, {"legacy = false", true}, {"legacy != true", true},
                /* quoted values with escapes */
                {"quote = \"say \\\"hi\\\" \\\\o/\"", true}, {"quote = \"say hi\"", false},
                {"path = /dev/mmcblk0p2", true});
}

static void ordering_uses_the_version_order(void **state)
{
    (void)state;
    CHECK_CASES({"version < 2.3", true}, {"version < \"2.3\"", true},
                {"version < 2.2.10", true}, {"version <= 2.2.9", true},
                {"version < 2.2.9", false}, {"version > 2.2.9-rc.1", true},
                {"version >= 2.3.0-rc.1", false}, {"version > 2.10", false},
                {"version >= v2.2", true}, {"agent >= 1.4", true}, {"agent < v1.10", true},
                {"agent > 1.4.0-rc.2", true},
                /* plain numbers as numbers, not as text */
                {"count > 9", true}, {"count < 100", true}, {"count >= 12", true},
                {"count > 12", false}, {"count <= 11", false},
                {"inventory.ram_mb >= 512", true}, {"inventory.ram_mb < 1024", true},
                /* other text: byte-wise */
                {"site < t", true}, {"site > shanghai", false}, {"site >= shanghai", true});
}

static void glob(void **state)
{
    (void)state;
    CHECK_CASES({"hw ~ \"rev*\"", true}, {"hw ~ \"rev?\"", true}, {"hw ~ rev", false},
                {"site ~ \"shang*\"", true}, {"site ~ \"*hai\"", true},
                {"site ~ \"SHANG*\"", false}, {"path ~ \"/dev/mmc*\"", true},
                {"customer ~ \"a[bc]me\"", true}, {"customer ~ \"a[!c]me\"", false},
                {"version ~ \"2.2.*\"", true}, {"version ~ \"2.3.*\"", false},
                {"count ~ \"1*\"", true}, {"beta ~ \"t*\"", true},
                {"inventory.cpu ~ \"cortex-a*\"", true});
}

static void in_lists(void **state)
{
    (void)state;
    CHECK_CASES({"site in (berlin, shanghai)", true}, {"site in (berlin)", false},
                {"site in (\"berlin\", \"shanghai\")", true}, {"hw in (rev2)", true},
                {"version in (2.2.9)", true}, {"version in (3.0, v2.2.9)", true},
                {"version in (2.2, 2.3)", false}, {"count in (11, 12, 13)", true},
                {"site IN (berlin,shanghai)", true}, {"tags in (canary, north)", true},
                {"tags in (canary)", false}, {"missing in (x)", false},
                {"not site in (berlin)", true});
}

static void has(void **state)
{
    (void)state;
    CHECK_CASES({"has hw", true}, {"has inventory", true}, {"has inventory.cpu", true},
                {"has inventory.gpu", false}, {"has inventory.disk.model", true},
                {"has missing", false}, {"has gone", false}, {"has empty", true},
                {"has tags", true}, {"HAS hw", true}, {"not has missing", true});
}

static void arrays_match_when_any_element_does(void **state)
{
    (void)state;
    CHECK_CASES({"tags = pilot", true}, {"tags = north", true}, {"tags = south", false},
                {"tags != south", true}, {"tags != pilot", false}, {"tags ~ \"pil*\"", true},
                {"tags ~ \"sou*\"", false},
                /* ordering has no meaning for a list */
                {"tags < z", false}, {"tags >= a", false},
                {"empty = x", false}, {"empty != x", true}, {"empty ~ \"*\"", false},
                {"mixed = 1", true}, {"mixed = 2", true}, {"mixed = true", true},
                /* objects and arrays inside an array are not looked into */
                {"mixed = v", false}, {"mixed = x", false});
}

static void dotted_names_look_into_objects(void **state)
{
    (void)state;
    CHECK_CASES({"inventory.cpu = cortex-a53", true}, {"inventory.disk.model = emmc", true},
                {"inventory.disk.model != emmc", false}, {"inventory.cpu.x = 1", false},
                {"inventory = x", false}, {"inventory != x", true}, {"hw.x = rev2", false},
                {"inventory. = x", false}, {"inventory..cpu = cortex-a53", false},
                {"gone.x != y", true});
}

static void missing_attributes(void **state)
{
    (void)state;
    CHECK_CASES({"missing = x", false}, {"missing != x", true}, {"missing < 1", false},
                {"missing <= 1", false}, {"missing > 1", false}, {"missing >= 1", false},
                {"missing ~ \"*\"", false}, {"gone = null", false}, {"gone != x", true},
                {"not missing = x", true});
    /* no attributes at all, or not an object */
    uf_filter *f = parse_ok("hw != rev2 and not has hw");
    json_t *empty = json_object(), *array = json_array();
    assert_true(uf_filter_match(f, empty));
    assert_true(uf_filter_match(f, array));
    assert_true(uf_filter_match(f, NULL));
    assert_false(uf_filter_match(NULL, empty));
    json_decref(empty);
    json_decref(array);
    uf_filter_free(f);
}

static void precedence_not_and_or(void **state)
{
    (void)state;
    CHECK_CASES({"hw = rev1 and site = shanghai or customer = acme", true},
                {"hw = rev1 and (site = shanghai or customer = acme)", false},
                {"customer = acme or hw = rev1 and site = berlin", true},
                {"(customer = acme or hw = rev1) and site = berlin", false},
                {"not hw = rev1 and site = shanghai", true},
                {"not (hw = rev2 and site = berlin)", true},
                {"not hw = rev2 or site = shanghai", true},
                {"not (hw = rev2 or site = berlin)", false}, {"not not has hw", true},
                {"NoT hw = rev1 AnD site = shanghai Or hw = x", true},
                {"hw=rev2 and(site=shanghai)", true}, {"((((hw = rev2))))", true},
                {"hw = rev1 or hw = rev2 or hw = rev3", true},
                {"hw = rev2 and site = shanghai and customer = globex", false},
                {"\thw = rev2\n\tand site = shanghai\r\n", true});
}

static void parse_fails(const char *text, uf_code code, const char *message)
{
    uf_error err;
    uf_error_clear(&err);
    uf_filter *f = uf_filter_parse(text, &err);
    if (f)
        fail_msg("'%.60s' unexpectedly parsed", text);
    if (err.code != code || strcmp(err.msg, message) != 0)
        fail_msg("'%.60s': got %s \"%s\", want %s \"%s\"", text, uf_code_name(err.code),
                 err.msg, uf_code_name(code), message);
}

static void syntax_errors_name_the_column(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"", "filter: column 1: expected an attribute name, 'not', 'has' or '('"},
        {"   ", "filter: column 4: expected an attribute name, 'not', 'has' or '('"},
        {"hw = ", "filter: column 6: expected a value after '='"},
        {"hw = \"rev2\" and version <", "filter: column 26: expected a value after '<'"},
        {"version >= and hw = x", "filter: column 12: expected a value after '>='"},
        {"hw = and", "filter: column 6: expected a value after '='"},
        {"hw == rev2", "filter: column 5: expected a value after '='"},
        {"hw rev2",
         "filter: column 4: expected an operator (=, !=, <, <=, >, >=, ~ or in) after 'hw'"},
        {"hw",
         "filter: column 3: expected an operator (=, !=, <, <=, >, >=, ~ or in) after 'hw'"},
        {"(hw = a", "filter: column 8: expected ')' to close the '(' at column 1"},
        {"(a = 1 or (b = 2)", "filter: column 18: expected ')' to close the '(' at column 1"},
        {"hw = a)", "filter: column 7: ')' without a matching '('"},
        {"hw = a b = c", "filter: column 8: expected 'and', 'or' or the end of the filter"},
        {"hw = \"rev2", "filter: column 6: unterminated string"},
        {"hw = \"rev2\\", "filter: column 6: unterminated string"},
        {"hw = \"a\\nb\"",
         "filter: column 8: unknown escape in string (only \\\" and \\\\ are allowed)"},
        {"hw = a & b = c", "filter: column 8: unexpected character '&'"},
        {"hw = a && b = c", "filter: column 8: unexpected character '&'"},
        {"hw = a\x01", "filter: column 7: unexpected byte 0x01"},
        {"hw ! rev2", "filter: column 4: unexpected character '!'"},
        {"has 2x", "filter: column 5: expected an attribute name after 'has'"},
        {"has", "filter: column 4: expected an attribute name after 'has'"},
        {"has and", "filter: column 5: expected an attribute name after 'has'"},
        {"tags in pilot", "filter: column 9: expected '(' after 'in'"},
        {"tags in (pilot north)", "filter: column 16: expected ',' or ')' in the list after 'in'"},
        {"tags in (pilot,", "filter: column 16: expected a value after ','"},
        {"tags in ()", "filter: column 10: expected a value after '('"},
        {"and = 1", "filter: column 1: expected an attribute name, 'not', 'has' or '('"},
        {"2.3 < version", "filter: column 1: expected an attribute name, 'not', 'has' or '('"},
        {"a:b = 1", "filter: column 1: expected an attribute name, 'not', 'has' or '('"},
        {"\"hw\" = 1", "filter: column 1: expected an attribute name, 'not', 'has' or '('"},
        {"hw = a and", "filter: column 11: expected an attribute name, 'not', 'has' or '('"},
        {"not", "filter: column 4: expected an attribute name, 'not', 'has' or '('"},
        {"a = 1 or or b", "filter: column 10: expected an attribute name, 'not', 'has' or '('"},
        {"()", "filter: column 2: expected an attribute name, 'not', 'has' or '('"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        parse_fails(cases[i].text, UF_E_INVALID, cases[i].message);
    uf_filter *f = uf_filter_parse(NULL, NULL); /* err may be NULL */
    assert_null(f);
    assert_null(uf_filter_parse("hw =", NULL));
}

/* "PREFIX UNIT UNIT ... SUFFIX" with count units */
static char *repeat(const char *prefix, const char *unit, size_t count, const char *suffix)
{
    uf_buf b = UF_BUF_INIT;
    uf_error err;
    assert_true(uf_buf_append_str(&b, prefix, &err));
    for (size_t i = 0; i < count; i++)
        assert_true(uf_buf_append_str(&b, unit, &err));
    assert_true(uf_buf_append_str(&b, suffix, &err));
    return uf_buf_steal(&b, NULL, &err);
}

static void parse_then_free(char *text)
{
    uf_filter_free(parse_ok(text));
    free(text);
}

static void limits(void **state)
{
    (void)state;
    /* text length: 4096 bytes parse, 4097 do not */
    char *text = repeat("hw = ", "x", UF_FILTER_MAX_TEXT - 5, "");
    parse_then_free(text);
    text = repeat("hw = ", "x", UF_FILTER_MAX_TEXT - 4, "");
    parse_fails(text, UF_E_TOO_LARGE, "filter: longer than 4096 bytes");
    free(text);

    /* nesting: 32 levels of parentheses or `not`, not 33 */
    char *open = repeat("", "(", 32, "hw = rev2");
    text = repeat(open, ")", 32, "");
    parse_then_free(text);
    free(open);
    open = repeat("", "(", 33, "hw = rev2");
    text = repeat(open, ")", 33, "");
    parse_fails(text, UF_E_TOO_LARGE, "filter: column 33: nested deeper than 32");
    free(text);
    free(open);
    parse_then_free(repeat("", "not ", 32, "has hw"));
    text = repeat("", "not ", 33, "has hw");
    parse_fails(text, UF_E_TOO_LARGE, "filter: column 129: nested deeper than 32");
    free(text);
    /* a level closed is a level free again */
    parse_then_free(repeat("", "(not has a) or ", 100, "has b"));

    /* terms: 256, not 257 */
    parse_then_free(repeat("", "a = 1 or ", 255, "a = 1"));
    text = repeat("", "a = 1 or ", 256, "a = 1");
    parse_fails(text, UF_E_TOO_LARGE, "filter: column 2305: more than 256 terms");
    free(text);

    /* what is written compactly must still fit once it is canonical */
    text = repeat("a in (1", ",1", 1400, ")");
    parse_fails(text, UF_E_TOO_LARGE, "filter: canonical form is longer than 4096 bytes");
    free(text);
}

static char *text_ok(const uf_filter *f)
{
    char *t = uf_filter_text(f);
    assert_non_null(t);
    return t;
}

static void canonical_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"hw=\"rev2\"  AND   site=shanghai", "hw = rev2 and site = shanghai"},
        {"version < \"2.3\"", "version < 2.3"},
        {"(a = 1 or b = 2) and c = 3", "(a = 1 or b = 2) and c = 3"},
        {"a = 1 or (b = 2 and c = 3)", "a = 1 or b = 2 and c = 3"},
        {"a = 1 and (b = 2 and c = 3)", "a = 1 and b = 2 and c = 3"},
        {"((a=1))", "a = 1"},
        {"not (a = 1)", "not a = 1"},
        {"NOT NOT HAS x", "not not has x"},
        {"not (a = 1 and b = 2)", "not (a = 1 and b = 2)"},
        {"not (not a = 1 or b = 2)", "not (not a = 1 or b = 2)"},
        {"a in ( x ,\"y z\",  \"and\" )", "a in (x, \"y z\", \"and\")"},
        {"a = \"\"", "a = \"\""},
        {"a = \"say \\\"hi\\\" \\\\o/\"", "a = \"say \\\"hi\\\" \\\\o/\""},
        {"v ~ \"rev*\"", "v ~ \"rev*\""},
        {"a!=b and c<=d and e>=f and g<h and i>j",
         "a != b and c <= d and e >= f and g < h and i > j"},
        {"x = \"NOT\"", "x = \"NOT\""},
        {"x = \"a-b_c.d:e/f+g\"", "x = a-b_c.d:e/f+g"},
        {"x = \"tab\there\"", "x = \"tab\there\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uf_filter *f = parse_ok(cases[i].in);
        char *t = text_ok(f);
        if (strcmp(t, cases[i].out) != 0)
            fail_msg("text of '%s' is '%s', want '%s'", cases[i].in, t, cases[i].out);
        free(t);
        uf_filter_free(f);
    }
}

/* parse(text(f)) has the same text and matches the same devices as f. */
static void canonical_text_round_trips(void **state)
{
    (void)state;
    static const char *const filters[] = {
        "hw = \"rev2\" and site = \"shanghai\" and version < \"2.3\"",
        "hw = rev1 and site = shanghai or customer = acme",
        "not (hw = rev2 or site = berlin)", "NoT hw = rev1 AnD site = shanghai Or hw = x",
        "tags in (canary, \"north\") and not has gone", "quote = \"say \\\"hi\\\" \\\\o/\"",
        "inventory.cpu ~ \"cortex-a*\" and inventory.ram_mb >= 512",
        "((a = 1 or (b = 2 and (c = 3 or not (d = 4)))))", "mixed = 2 or empty != x",
        "version >= 2.2.9-rc.1 and version < v2.3", "count > 9 and count in (12, 13)",
        "x = \"\" or x = \"and\" or x = \"(\"", "not not not has hw",
    };
    static const char *const devices[] = {
        device_json,
        "{}",
        "{\"hw\": \"rev1\", \"site\": \"berlin\", \"customer\": \"acme\", \"version\": \"2.3.0\","
        " \"tags\": [\"canary\"], \"a\": \"1\", \"c\": 3, \"x\": \"and\", \"count\": 13}",
        "{\"hw\": \"x\", \"b\": \"2\", \"c\": 3, \"d\": \"4\", \"x\": \"\", \"gone\": 1}",
    };
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        uf_filter *f = parse_ok(filters[i]);
        char *t = text_ok(f);
        uf_filter *g = parse_ok(t);
        char *t2 = text_ok(g);
        assert_string_equal(t, t2);
        for (size_t d = 0; d < sizeof devices / sizeof devices[0]; d++) {
            json_t *attrs = json_ok(devices[d]);
            if (uf_filter_match(f, attrs) != uf_filter_match(g, attrs))
                fail_msg("'%s' and its text '%s' disagree on device %zu", filters[i], t, d);
            json_decref(attrs);
        }
        free(t);
        free(t2);
        uf_filter_free(f);
        uf_filter_free(g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_example_from_the_issue),
        cmocka_unit_test(equality),
        cmocka_unit_test(ordering_uses_the_version_order),
        cmocka_unit_test(glob),
        cmocka_unit_test(in_lists),
        cmocka_unit_test(has),
        cmocka_unit_test(arrays_match_when_any_element_does),
        cmocka_unit_test(dotted_names_look_into_objects),
        cmocka_unit_test(missing_attributes),
        cmocka_unit_test(precedence_not_and_or),
        cmocka_unit_test(syntax_errors_name_the_column),
        cmocka_unit_test(limits),
        cmocka_unit_test(canonical_text),
        cmocka_unit_test(canonical_text_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
