/*
 * handler_tree.c - a release's file tree in D/releases/VERSION and the D/current switch
 * (see handler_tree.h).
 */
#include "agent/handler_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/run.h"
#include "lib/version_order.h"

#define TREE_FDS 16 /* descriptors nftw may hold open */

/* Refuse absolute and ".." member names before extracting anything; then extract. */
static const char EXTRACT_SCRIPT[] =
    "if tar -tf \"$UPFLOW_TREE_IMAGE\" | grep -E '^/|(^|/)\\.\\.(/|$)'; then "
    "echo 'refused: the archive has absolute or .. member names'; exit 3; fi; "
    "exec tar -xf \"$UPFLOW_TREE_IMAGE\" -C \"$UPFLOW_TREE_DEST\" --no-same-owner";

static void point(const agent_tree *t, const char *site, const char *step, const char *when)
{
    char name[UF_FAULT_NAME_MAX];
    snprintf(name, sizeof name, "%s.%s.%s", site, step, when);
    uf_fault_point(t->fault, name);
}

bool agent_tree_name_ok(const char *version, uf_error *err)
{
    size_t n = strlen(version);
    if (n == 0 || n >= AGENT_TREE_NAME_MAX || version[0] == '.' ||
        strspn(version, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") != n)
        return uf_error_set(err, UF_E_INVALID, "version '%s' cannot name a release directory "
                            "(1 to %d of A-Z a-z 0-9 . _ + -, not starting with a dot)",
                            version, AGENT_TREE_NAME_MAX - 1);
    return true;
}

static bool fsync_path(const char *path, uf_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return uf_error_errno(err, errno, "open %s", path);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    return rc == 0 || uf_error_errno(err, e, "fsync %s", path);
}

/* nftw callbacks return 0 or an errno, which nftw hands back: no state outside the call. */
static int fsync_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F && type != FTW_D && type != FTW_DP)
        return 0; /* symlinks and the like: durable with their directory */
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno ? errno : EIO;
    int rc = fsync(fd) == 0 ? 0 : (errno ? errno : EIO);
    close(fd);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : (errno ? errno : EIO);
}

/* rm -rf path (a missing path is fine), announced as "tree.remove". */
static bool remove_tree(const agent_tree *t, const char *path, uf_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0 && errno == ENOENT)
        return true;
    point(t, "tree", "remove", "before");
    int rc = nftw(path, remove_entry, TREE_FDS, FTW_DEPTH | FTW_PHYS);
    point(t, "tree", "remove", "after");
    if (rc != 0)
        return uf_error_errno(err, rc > 0 ? rc : errno, "remove %s", path);
    return true;
}

bool agent_tree_current(const agent_tree *t, char *out, size_t len, uf_error *err)
{
    char link[PATH_MAX], target[PATH_MAX];
    snprintf(link, sizeof link, "%s/current", t->dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0 && errno == ENOENT) {
        snprintf(out, len, "%s", "");
        return true;
    }
    if (n < 0)
        return uf_error_errno(err, errno, "read the link %s", link);
    target[n] = '\0';
    uf_error why;
    if (strncmp(target, "releases/", 9) != 0 || !agent_tree_name_ok(target + 9, &why))
        return uf_error_set(err, UF_E_INVALID, "%s points to '%s', not to releases/NAME", link,
                            target);
    snprintf(out, len, "%s", target + 9);
    return true;
}

static bool make_dirs(const char *releases, uf_error *err)
{
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/x", releases);
    if (!uf_file_mkdir_parents(probe, err))
        return uf_error_prefix(err, "tree directory");
    return true;
}

static bool run_tar(const agent_tree *t, const char *image, const char *dest, uf_error *err)
{
    char image_env[PATH_MAX + 32], dest_env[PATH_MAX + 32];
    snprintf(image_env, sizeof image_env, "UPFLOW_TREE_IMAGE=%s", image);
    snprintf(dest_env, sizeof dest_env, "UPFLOW_TREE_DEST=%s", dest);
    const char *env[] = {image_env, dest_env, NULL};
    uf_run_result res;
    if (!uf_run(EXTRACT_SCRIPT, env, t->timeout_ms, &res, err))
        return uf_error_prefix(err, "extract %s", image);
    if (res.exit_code != 0)
        return uf_error_set(err, UF_E_INVALID, "extract %s into %s: tar %s%d%s: %s", image, dest,
                            res.timed_out ? "timed out" : "exit ",
                            res.timed_out ? (int)(t->timeout_ms / 1000) : res.exit_code,
                            res.timed_out ? " s" : "", res.tail);
    return true;
}

bool agent_tree_extract(const agent_tree *t, const char *image, const char *version,
                        uf_error *err)
{
    char releases[PATH_MAX], final[PATH_MAX + 80], tmp[PATH_MAX + 90], current[AGENT_TREE_NAME_MAX];
    snprintf(releases, sizeof releases, "%s/releases", t->dir);
    snprintf(final, sizeof final, "%s/%s", releases, version);
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    if (!agent_tree_name_ok(version, err) || !agent_tree_current(t, current, sizeof current, err))
        return false;
    if (strcmp(current, version) == 0)
        return uf_error_set(err, UF_E_CONFLICT, "release %s is the current one in %s", version,
                            t->dir);
    if (!make_dirs(releases, err) || !remove_tree(t, tmp, err))
        return false;
    if (mkdir(tmp, 0755) != 0)
        return uf_error_errno(err, errno, "create %s", tmp);
    point(t, "tree", "write", "before");
    bool ok = run_tar(t, image, tmp, err);
    point(t, "tree", "write", "after");
    if (ok) {
        point(t, "tree", "fsync", "before");
        int rc = nftw(tmp, fsync_entry, TREE_FDS, FTW_PHYS);
        point(t, "tree", "fsync", "after");
        if (rc != 0)
            ok = uf_error_errno(err, rc > 0 ? rc : errno, "fsync the tree %s", tmp);
    }
    ok = ok && remove_tree(t, final, err);
    if (ok) {
        point(t, "tree", "rename", "before");
        if (rename(tmp, final) != 0)
            ok = uf_error_errno(err, errno, "rename %s to %s", tmp, final);
        point(t, "tree", "rename", "after");
    }
    if (!ok) {
        uf_error ignored;
        remove_tree(t, tmp, &ignored);
        return false;
    }
    point(t, "tree", "dirsync", "before");
    ok = fsync_path(releases, err);
    point(t, "tree", "dirsync", "after");
    return ok;
}

/* Make D/current name `target` ("" = no D/current) by one rename or unlink. */
static bool replace_link(const agent_tree *t, const char *target, uf_error *err)
{
    char link[PATH_MAX], tmp[PATH_MAX + 8];
    snprintf(link, sizeof link, "%s/current", t->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", link);
    if (unlink(tmp) != 0 && errno != ENOENT)
        return uf_error_errno(err, errno, "remove %s", tmp);
    if (!target[0]) {
        point(t, "current", "remove", "before");
        if (unlink(link) != 0 && errno != ENOENT)
            return uf_error_errno(err, errno, "remove %s", link);
        point(t, "current", "remove", "after");
    } else {
        point(t, "current", "write", "before");
        if (symlink(target, tmp) != 0)
            return uf_error_errno(err, errno, "create the link %s -> %s", tmp, target);
        point(t, "current", "write", "after");
        point(t, "current", "rename", "before");
        if (rename(tmp, link) != 0)
            return uf_error_errno(err, errno, "rename %s to %s", tmp, link);
        point(t, "current", "rename", "after");
    }
    point(t, "current", "dirsync", "before");
    bool ok = fsync_path(t->dir, err);
    point(t, "current", "dirsync", "after");
    return ok;
}

bool agent_tree_switch(const agent_tree *t, const char *version, char *previous, size_t len,
                       uf_error *err)
{
    char was[AGENT_TREE_NAME_MAX], target[AGENT_TREE_NAME_MAX + 16], dir[PATH_MAX + 80];
    if (!agent_tree_current(t, was, sizeof was, err))
        return false;
    if (previous)
        snprintf(previous, len, "%s", was);
    if (version[0]) {
        struct stat st;
        snprintf(target, sizeof target, "releases/%s", version);
        snprintf(dir, sizeof dir, "%s/%s", t->dir, target);
        if (!agent_tree_name_ok(version, err))
            return false;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return uf_error_set(err, UF_E_NOT_FOUND, "release directory %s is missing", dir);
    } else {
        target[0] = '\0';
    }
    return replace_link(t, target, err);
}

/* ---- pruning --------------------------------------------------------------------------- */

typedef struct release_list {
    char (*names)[AGENT_TREE_NAME_MAX];
    size_t n;
} release_list;

static int newest_first(const void *a, const void *b)
{
    return uf_version_compare((const char *)b, (const char *)a);
}

/* The complete releases in D/releases, newest first; "*.tmp" leftovers are removed. */
static bool list_releases(const agent_tree *t, const char *releases, release_list *out,
                          uf_error *err)
{
    DIR *d = opendir(releases);
    if (!d)
        return errno == ENOENT ? true : uf_error_errno(err, errno, "read %s", releases);
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", releases, e->d_name);
        uf_error ignored;
        if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) {
            ok = remove_tree(t, path, err);
            continue;
        }
        if (!agent_tree_name_ok(e->d_name, &ignored))
            continue; /* ".", "..", and names upflow never makes */
        void *grown = realloc(out->names, (out->n + 1) * sizeof *out->names);
        if (!grown) {
            ok = uf_error_set(err, UF_E_NOMEM, "release list");
            break;
        }
        out->names = grown;
        snprintf(out->names[out->n++], AGENT_TREE_NAME_MAX, "%s", e->d_name);
    }
    closedir(d);
    if (ok && out->n)
        qsort(out->names, out->n, sizeof *out->names, newest_first);
    return ok;
}

bool agent_tree_prune(const agent_tree *t, unsigned keep, uf_error *err)
{
    char releases[PATH_MAX], current[AGENT_TREE_NAME_MAX];
    snprintf(releases, sizeof releases, "%s/releases", t->dir);
    release_list list = {NULL, 0};
    bool ok = agent_tree_current(t, current, sizeof current, err) &&
              list_releases(t, releases, &list, err);
    unsigned kept = current[0] ? 1 : 0;
    for (size_t i = 0; ok && i < list.n; i++) {
        if (strcmp(list.names[i], current) == 0)
            continue;
        if (kept < keep) {
            kept++;
            continue;
        }
        char path[PATH_MAX + 80];
        snprintf(path, sizeof path, "%s/%s", releases, list.names[i]);
        ok = remove_tree(t, path, err);
    }
    free(list.names);
    if (ok) {
        point(t, "tree", "dirsync", "before");
        ok = fsync_path(releases, err) || err->code == UF_E_NOT_FOUND;
        point(t, "tree", "dirsync", "after");
    }
    return ok;
}
