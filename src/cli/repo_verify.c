/*
 * repo_verify.c - `upflow repo verify`: check a workspace the way a device would check what
 * the server will serve from it (tuf.md §7): the root chain from 1.root.json (each N+1
 * signed by a threshold of N's root keys and of its own, version exactly N+1), targets under
 * the latest root, each delegated role under its delegation (with every target inside the
 * delegated paths), expiry, and every staged target file against its length and SHA-256.
 * It reports every problem it finds, not only the first.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/repo_commands.h"
#include "lib/cmdline.h"
#include "lib/tuf_sign.h"

typedef struct verifier {
    uf_repo *r;
    unsigned failures, checked;
} verifier;

/* Report one check; returns ok. */
static bool report(verifier *v, const char *what, bool ok, const uf_error *err)
{
    v->checked++;
    if (ok) {
        printf("ok      %s\n", what);
    } else {
        v->failures++;
        /* metadata errors name their file already */
        bool named = strncmp(err->msg, what, strlen(what)) == 0;
        printf("FAILED  %s%s%s\n", named ? "" : what, named ? "" : ": ", err->msg);
    }
    return ok;
}

static bool fresh(const verifier *v, const uf_tuf_metadata *md, uf_error *err)
{
    return uf_tuf_check_expiry(md, v->r->now, err);
}

/* 1.root.json .. N.root.json; returns the last root that verified (or NULL). */
static uf_tuf_metadata *verify_chain(verifier *v)
{
    uf_tuf_metadata *trusted = NULL;
    for (int64_t n = 1;; n++) {
        char name[64], what[128];
        uf_error err;
        snprintf(name, sizeof name, "%lld.root.json", (long long)n);
        uf_tuf_metadata *md = uf_repo_load(v->r, name, &err);
        if (!md && err.code == UF_E_NOT_FOUND && n > 1)
            break;
        snprintf(what, sizeof what, "%s", name);
        bool ok = md != NULL;
        if (ok && md->version != n)
            ok = uf_error_set(&err, UF_E_ROLLBACK, "%s: version %lld, expected %lld", name,
                              (long long)md->version, (long long)n);
        ok = ok && (!trusted || uf_tuf_verify_with_root(md, trusted, "root", &err)) &&
             uf_tuf_verify_with_root(md, md, "root", &err);
        if (!report(v, what, ok, &err)) {
            uf_tuf_metadata_free(md);
            return trusted;
        }
        uf_tuf_metadata_free(trusted);
        trusted = md;
    }
    return trusted;
}

/* root.json is the latest version, byte for byte, and not expired. */
static void verify_root_copy(verifier *v, const uf_tuf_metadata *latest)
{
    uf_buf a = UF_BUF_INIT, b = UF_BUF_INIT;
    uf_error err;
    char name[64];
    snprintf(name, sizeof name, "%lld.root.json", (long long)latest->version);
    bool ok = uf_repo_read(v->r, "root.json", &a, &err) && uf_repo_read(v->r, name, &b, &err);
    if (ok && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
        ok = uf_error_set(&err, UF_E_CONFLICT, "root.json differs from %s", name);
    ok = ok && fresh(v, latest, &err);
    report(v, "root.json (the latest root)", ok, &err);
    uf_buf_free(&a);
    uf_buf_free(&b);
}

/* The staged root, if any: not a failure, but say what it lacks. */
static void report_staged(verifier *v)
{
    if (!v->r->root_staged)
        return;
    uf_buf missing = UF_BUF_INIT;
    uf_error err;
    bool promoted = false;
    if (uf_repo_promote_staged(v->r, &promoted, &missing, &err) && !promoted)
        printf("staged  root version %lld waits for signatures:\n%s\n",
               (long long)v->r->root->version, missing.data);
    else if (promoted)
        printf("ok      staged root version %lld is complete and joined the chain\n",
               (long long)v->r->root->version);
    else
        report(v, "staged root", false, &err);
    uf_buf_free(&missing);
}

/* Each target's staged file, when present, has the listed length and SHA-256. */
static void verify_target_files(verifier *v, const uf_tuf_metadata *md)
{
    const char *path;
    const json_t *t;
    json_object_foreach(json_object_get(md->signed_part, "targets"), path, t) {
        char rel[PATH_MAX], file[PATH_MAX], what[PATH_MAX + 32];
        struct stat st;
        uf_error err;
        snprintf(rel, sizeof rel, "targets/%s", path);
        snprintf(what, sizeof what, "target %s", path);
        if (!uf_repo_path(v->r, file, rel, &err) || stat(file, &st) != 0) {
            printf("absent  %s (not staged here; the server may hold it)\n", what);
            continue;
        }
        json_t *entry = uf_tuf_target_entry_file(file, NULL, &err);
        bool ok = entry != NULL;
        if (ok && !json_equal(json_object_get(entry, "length"), json_object_get(t, "length")))
            ok = uf_error_set(&err, UF_E_HASH_MISMATCH, "%s: length differs from %s", file,
                              md->label);
        const char *want = json_string_value(json_object_get(json_object_get(t, "hashes"), "sha256"));
        const char *have = json_string_value(json_object_get(json_object_get(entry, "hashes"), "sha256"));
        if (ok && (!want || strcmp(want, have) != 0))
            ok = uf_error_set(&err, UF_E_HASH_MISMATCH, "%s: SHA-256 differs from %s", file,
                              md->label);
        report(v, what, ok, &err);
        json_decref(entry);
    }
}

/* Verify md with root's targets keys; a workspace whose targets were signed for a staged
 * root (a targets key rotation waiting for root signatures) verifies under that root. */
static bool verify_targets_sig(verifier *v, const uf_tuf_metadata *md,
                               const uf_tuf_metadata *root, uf_error *err)
{
    if (uf_tuf_verify_with_root(md, root, "targets", err))
        return true;
    if (!v->r->root_staged || !uf_tuf_verify_with_root(md, v->r->root, "targets", NULL))
        return false; /* err says why, under the complete root */
    printf("note    targets.json is signed for the staged root version %lld\n",
           (long long)v->r->root->version);
    return true;
}

static void verify_delegated(verifier *v, const json_t *delegation, const json_t *keys)
{
    const char *name = json_string_value(json_object_get(delegation, "name"));
    char what[128];
    uf_error err;
    snprintf(what, sizeof what, "%s.json", name);
    uf_tuf_metadata *md = uf_repo_load_role(v->r, name, &err);
    bool ok = md && uf_tuf_verify(md, keys, json_object_get(delegation, "keyids"),
                                  json_integer_value(json_object_get(delegation, "threshold")),
                                  name, &err) &&
              fresh(v, md, &err);
    const char *path;
    const json_t *t;
    json_object_foreach(ok ? json_object_get(md->signed_part, "targets") : NULL, path, t) {
        if (ok && !uf_tuf_delegation_matches(delegation, path))
            ok = uf_error_set(&err, UF_E_FORBIDDEN, "%s: target %s is outside the paths "
                              "delegated to %s", what, path, name);
    }
    if (report(v, what, ok, &err))
        verify_target_files(v, md);
    uf_tuf_metadata_free(md);
}

static void verify_all(verifier *v)
{
    uf_tuf_metadata *root = verify_chain(v);
    if (!root)
        return;
    verify_root_copy(v, root);
    uf_error err;
    const uf_tuf_metadata *targets = v->r->targets;
    bool ok = verify_targets_sig(v, targets, root, &err) && fresh(v, targets, &err);
    if (report(v, "targets.json", ok, &err)) {
        verify_target_files(v, targets);
        const json_t *del = uf_tuf_delegations(targets), *d;
        size_t i;
        json_array_foreach(json_object_get(del, "roles"), i, d) {
            verify_delegated(v, d, json_object_get(del, "keys"));
        }
    }
    report_staged(v);
    uf_tuf_metadata_free(root);
}

int repo_verify_main(int argc, char **argv)
{
    uf_repo_cmd cmd = {0};
    int rc = uf_repo_cmd_parse(&cmd, argc, argv,
                   "[--dir DIR]\n"
                   "Check every metadata file of the workspace as a device would: the root\n"
                   "chain, targets and delegated roles against their keys and thresholds,\n"
                   "expiry, and each staged target file against its length and SHA-256.\n"
                   "Exit status 1 if anything fails.\n"
                   "\n" UF_REPO_OPTIONS_HELP);
    if (rc >= 0)
        return rc;
    uf_repo r;
    if (!uf_repo_cmd_open(&cmd, &r, argv[0], &rc))
        return rc;
    verifier v = {.r = &r};
    verify_all(&v);
    uf_repo_close(&r);
    printf("%u checked, %u failed\n", v.checked, v.failures);
    return v.failures ? UF_EXIT_FAILURE : UF_EXIT_OK;
}
