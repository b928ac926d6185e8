/*
 * fileio.h - files that survive a crash and files read with a cap.
 *
 * A write is atomic and durable: the bytes go to a temporary file in the same directory,
 * which is fsync'ed and renamed over the target, and then the directory itself is fsync'ed,
 * so after a power cut the path holds either the old or the new content, never a mix.
 * Reads stop at a cap, so a hostile or runaway file is an error, not an OOM.
 */
#ifndef UPFLOW_FILEIO_H
#define UPFLOW_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/error.h"

/* Replace path with data atomically (mode 0644). Nothing is left behind on failure. */
bool uf_file_write_atomic(const char *path, const void *data, size_t len, uf_error *err);

/* Told of each durable step of an atomic write, before and after it: "write.before",
 * "write.after", "fsync.before", "fsync.after", "rename.before", "rename.after",
 * "dirsync.before", "dirsync.after". The seam through which the agent's fault-injection
 * tests crash a process at every point where a power cut could strike. */
typedef struct uf_file_observer {
    void (*step)(void *ctx, const char *point);
    void *ctx;
} uf_file_observer;

/* uf_file_write_atomic, telling obs (which may be NULL) of each step. */
bool uf_file_write_atomic_observed(const char *path, const void *data, size_t len,
                                   const uf_file_observer *obs, uf_error *err);
/* The same, written piece by piece (a download streamed to disk): open makes the temporary
 * file, commit makes it durable and renames it over path, abort removes it. commit and abort
 * both release the writer. */
typedef struct uf_file_writer {
    char *path, *tmp;
    int fd;
    const uf_file_observer *obs;
} uf_file_writer;
bool uf_file_writer_open(uf_file_writer *w, const char *path, const uf_file_observer *obs,
                         uf_error *err);
bool uf_file_writer_write(uf_file_writer *w, const void *data, size_t len, uf_error *err);
bool uf_file_writer_commit(uf_file_writer *w, uf_error *err);
void uf_file_writer_abort(uf_file_writer *w);

/* Append at most max bytes of path to out: more is UF_E_TOO_LARGE, absence UF_E_NOT_FOUND. */
bool uf_file_read_capped(const char *path, size_t max, uf_buf *out, uf_error *err);
/* Create the missing parent directories of path (mode 0755); path itself is not created. */
bool uf_file_mkdir_parents(const char *path, uf_error *err);

#endif
