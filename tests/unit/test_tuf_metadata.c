/*
 * test_tuf_metadata.c - one metadata file at a time: the shipped vectors parse and verify,
 * shape errors name the file and the field, spec_version 1.x is accepted and 2.x refused,
 * expiry times parse strictly, delegation paths match segment by segment, hash prefixes
 * match, and content checks catch every wrong hash, length and algorithm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/tuf_metadata.h"

#define METADATA UF_TEST_DATA_DIR "/tuf-vectors/metadata/"

static char *slurp(const char *file, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, METADATA "%s", file);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, fp);
    fclose(fp);
    return buf;
}

static uf_tuf_metadata *parse_vector(const char *file, uf_tuf_type type)
{
    size_t len = 0;
    char *data = slurp(file, &len);
    uf_error err;
    uf_tuf_metadata *md = uf_tuf_metadata_parse(file, type, data, len, 1 << 16, &err);
    free(data);
    if (!md)
        fail_msg("%s", err.msg);
    return md;
}

static void test_vectors_parse_and_verify(void **state)
{
    (void)state;
    uf_tuf_metadata *root = parse_vector("1.root.json", UF_TUF_ROOT);
    assert_int_equal(root->version, 1);
    assert_true(root->consistent_snapshot);
    char when[32];
    uf_tuf_format_time(root->expires, when);
    assert_string_equal(when, "2030-01-01T00:00:00Z");
    uf_error err;
    assert_true(uf_tuf_verify_with_root(root, root, "root", &err));
    static const struct {
        const char *file, *role;
        uf_tuf_type type;
    } others[] = {{"timestamp.json", "timestamp", UF_TUF_TIMESTAMP},
                  {"1.snapshot.json", "snapshot", UF_TUF_SNAPSHOT},
                  {"1.targets.json", "targets", UF_TUF_TARGETS}};
    for (size_t i = 0; i < 3; i++) {
        uf_tuf_metadata *md = parse_vector(others[i].file, others[i].type);
        if (!uf_tuf_verify_with_root(md, root, others[i].role, &err))
            fail_msg("%s", err.msg);
        /* signed by the right key only */
        assert_false(uf_tuf_verify_with_root(md, root, "root", &err));
        assert_int_equal(err.code, UF_E_THRESHOLD);
        uf_tuf_metadata_free(md);
    }
    uf_tuf_metadata *ts = parse_vector("timestamp.json", UF_TUF_TIMESTAMP);
    uf_tuf_meta_info info;
    assert_true(uf_tuf_meta_get(ts, "snapshot.json", &info, &err));
    assert_int_equal(info.version, 1);
    assert_int_equal(info.length, 367);
    size_t len = 0;
    char *snap = slurp("1.snapshot.json", &len);
    assert_true(uf_tuf_check_content("snapshot.json", info.hashes, info.length, snap, len, &err));
    free(snap);
    uf_tuf_metadata_free(ts);
    uf_tuf_metadata_free(root);
}

static void refused(const char *json, uf_tuf_type type, uf_code code, const char *text)
{
    uf_error err;
    uf_tuf_metadata *md = uf_tuf_metadata_parse("x.json", type, json, strlen(json), 4096, &err);
    if (md)
        fail_msg("accepted: %s", json);
    if (err.code != code || !strstr(err.msg, text))
        fail_msg("want %s \"%s\", got %s: %s", uf_code_name(code), text,
                 uf_code_name(err.code), err.msg);
}

#define TS(spec, expires, extra)                                                              \
    "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"" spec        \
    "\",\"version\":1,\"expires\":\"" expires "\",\"meta\":{\"snapshot.json\":"              \
    "{\"version\":1}}" extra "}}"

static void test_shape_errors(void **state)
{
    (void)state;
    uf_error err;
    static const char *const ok_specs[] = {TS("1", "2030-01-01T00:00:00Z", ""),
                                           TS("1.0", "2030-01-01T00:00:00Z", ""),
                                           TS("1.0.31", "2030-01-01T00:00:00Z", ""),
                                           TS("1.0.31", "2030-01-01T00:00:00Z", ",\"x\":[1]")};
    for (size_t i = 0; i < 4; i++) {
        uf_tuf_metadata *md = uf_tuf_metadata_parse("x.json", UF_TUF_TIMESTAMP, ok_specs[i],
                                                    strlen(ok_specs[i]), 4096, &err);
        if (!md)
            fail_msg("%s: %s", ok_specs[i], err.msg);
        uf_tuf_metadata_free(md);
    }
    refused(TS("2.0.0", "2030-01-01T00:00:00Z", ""), UF_TUF_TIMESTAMP, UF_E_BAD_FIELD,
            "x.json: spec_version \"2.0.0\" is not 1.x");
    refused(TS("1.0.", "2030-01-01T00:00:00Z", ""), UF_TUF_TIMESTAMP, UF_E_BAD_FIELD,
            "spec_version");
    refused(TS("1.0", "2030-01-01 00:00:00", ""), UF_TUF_TIMESTAMP, UF_E_BAD_FIELD,
            "x.json: signed.expires");
    refused(TS("1.0", "2030-02-30T00:00:00Z", ""), UF_TUF_TIMESTAMP, UF_E_BAD_FIELD,
            "not a valid date");
    refused(TS("1.0", "2030-01-01T00:00:00Z", ""), UF_TUF_SNAPSHOT, UF_E_BAD_FIELD,
            "x.json: _type is \"timestamp\", expected \"snapshot\"");
    refused("{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"1.0\","
            "\"version\":0,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
            UF_TUF_TIMESTAMP, UF_E_BAD_FIELD, "signed.version");
    refused("{\"signatures\":[{\"keyid\":\"a\",\"sig\":\"00\"},{\"keyid\":\"a\",\"sig\":\"01\"}],"
            "\"signed\":{}}",
            UF_TUF_TIMESTAMP, UF_E_BAD_SIGNATURE, "x.json: signatures: keyid a appears twice");
    refused("{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0\","
            "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{\"f\":"
            "{\"length\":1,\"hashes\":{}}}}}",
            UF_TUF_TARGETS, UF_E_BAD_FIELD, "signed.targets.f.hashes: expected a non-empty");
    refused("{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0\","
            "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{},"
            "\"delegations\":{\"keys\":{},\"roles\":[{\"name\":\"r\",\"keyids\":[],"
            "\"threshold\":1,\"paths\":[\"*\"],\"path_hash_prefixes\":[\"ab\"]}]}}}",
            UF_TUF_TARGETS, UF_E_BAD_FIELD, "exactly one of paths and path_hash_prefixes");
    refused("{\"signatures\":[],\"signed\":{}", UF_TUF_ROOT, UF_E_BAD_JSON, "x.json");
    char big[5000];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[0] = '{';
    big[sizeof big - 2] = '}';
    refused(big, UF_TUF_ROOT, UF_E_TOO_LARGE, "x.json");
}

static json_t *delegation(const char *key, const char *value)
{
    return json_pack("{s:[s]}", key, value);
}

static void test_delegation_matching(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *path;
        bool match;
    } cases[] = {
        {"targets/*.tgz", "targets/foo.tgz", true},
        {"targets/*.tgz", "targets/a/foo.tgz", false},
        {"*", "file1.txt", true},
        {"*", "a/file1.txt", false},
        {"a/*/c", "a/b/c", true},
        {"file?.txt", "file1.txt", true},
        {"file[0-9].txt", "fileX.txt", false},
        {"File1.txt", "file1.txt", false},
        {"a/", "a/", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = delegation("paths", cases[i].pattern);
        if (uf_tuf_delegation_matches(r, cases[i].path) != cases[i].match)
            fail_msg("%s vs %s", cases[i].pattern, cases[i].path);
        json_decref(r);
    }
    /* sha256("file1.txt") starts with 2b (checked below by a prefix that must not match) */
    json_t *yes = delegation("path_hash_prefixes", "");
    json_t *no = delegation("path_hash_prefixes", "zz");
    assert_true(uf_tuf_delegation_matches(yes, "file1.txt"));
    assert_false(uf_tuf_delegation_matches(no, "file1.txt"));
    json_decref(yes);
    json_decref(no);
}

static void test_content_checks(void **state)
{
    (void)state;
    uf_error err;
    json_t *h = json_pack(
        "{s:s,s:s}", "sha256", "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
        "sha512", "db3974a97f2407b7cae1ae637c0030687a11913274d578492558e39c16c017de84eacdc8c62fe34ee4e12b4b1428817f09b6a2760c3f8a664ceae94d2434a593");
    assert_true(uf_tuf_check_content("f", h, 12, "hello world\n", 12, &err));
    assert_false(uf_tuf_check_content("f", h, 12, "hello World\n", 12, &err));
    assert_int_equal(err.code, UF_E_HASH_MISMATCH);
    assert_false(uf_tuf_check_content("f", h, 12, "hello world\n!", 13, &err));
    assert_int_equal(err.code, UF_E_TOO_LARGE);
    assert_false(uf_tuf_check_content("f", h, 12, "hello world", 11, &err));
    assert_int_equal(err.code, UF_E_HASH_MISMATCH);
    json_object_set_new(h, "md5", json_string("6f5902ac237024bdd0c176cb93063dc4"));
    assert_false(uf_tuf_check_content("f", h, 12, "hello world\n", 12, &err));
    assert_int_equal(err.code, UF_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "f: unsupported hash algorithm \"md5\""));
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_parse_and_verify),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_delegation_matching),
        cmocka_unit_test(test_content_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
