/*
 * handler_tree.h - the file-tree install handler: an application tree in a directory D with
 * an atomic symlink switch, the usual layout for application deployments:
 *
 *     D/releases/1.0.0/...   one complete tree per release
 *     D/releases/2.0.0/...
 *     D/current -> releases/2.0.0
 *
 * The release's image is a POSIX tar archive of the tree. It is extracted with the system
 * tar into D/releases/VERSION.tmp (as root without the archive's owners, --no-same-owner);
 * an archive with an absolute or ".." member name is refused before anything is extracted.
 * Every file and directory of the tree is fsync'ed, the tree renamed to D/releases/VERSION
 * and D/releases fsync'ed: a release directory without ".tmp" is always complete.
 *
 * D/current changes only by rename(2) of a fresh symlink D/current.tmp over it, then an fsync
 * of D, so after a power cut it names either the old release or the new one, never a partial
 * tree. Switching to "" removes D/current (the state before the first release).
 *
 * Fault points (fault.h): "tree.<step>.<before|after>" for the release directory (write =
 * the extraction, fsync, rename, dirsync, remove) and "current.<step>.<before|after>" for the
 * switch (write = the new symlink, rename, dirsync, remove).
 */
#ifndef UPFLOW_AGENT_HANDLER_TREE_H
#define UPFLOW_AGENT_HANDLER_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/fault.h"
#include "lib/error.h"

#define AGENT_TREE_NAME_MAX 64

typedef struct agent_tree {
    const char *dir;          /* D (install.tree_dir) */
    int64_t timeout_ms;       /* for the extraction */
    uf_fault *fault;          /* may be NULL */
} agent_tree;

/* A version can name a release directory: 1 to 63 of [A-Za-z0-9._+-], not starting with a
 * dot. UF_E_INVALID saying why otherwise. */
bool agent_tree_name_ok(const char *version, uf_error *err);

/* The release D/current points to ("" when there is none). A D/current that is not a
 * symlink to releases/NAME is UF_E_INVALID. */
bool agent_tree_current(const agent_tree *t, char *out, size_t len, uf_error *err);

/* Extract the tar archive `image` as D/releases/VERSION (replacing an earlier directory of
 * that name, which must not be the current one: UF_E_CONFLICT). A failing tar is UF_E_INVALID
 * with its output tail; nothing but D/releases/VERSION.tmp is touched before the rename. */
bool agent_tree_extract(const agent_tree *t, const char *image, const char *version,
                        uf_error *err);

/* Point D/current at releases/VERSION ("" = remove D/current); previous (may be NULL) gets
 * what it pointed to before. VERSION's directory must exist (UF_E_NOT_FOUND). */
bool agent_tree_switch(const agent_tree *t, const char *version, char *previous, size_t len,
                       uf_error *err);

/* Remove release directories beyond the newest `keep` (by version order, uf_version_compare)
 * and leftover "*.tmp" trees; the current release is always kept and counts as one. */
bool agent_tree_prune(const agent_tree *t, unsigned keep, uf_error *err);

#endif
