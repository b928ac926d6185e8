/*
 * blob_store.h - files kept by their content under the data directory:
 * DATA_DIR/AREA/ab/abcdef... (the SHA-256 in hex, fanned out by its first byte).
 *
 * A streamed upload (http.c) lands in a temporary file already hashed; putting it in the
 * store is one rename within the file system plus an fsync of the directory, so a file is
 * either wholly there under its hash or not there at all. Identical content is kept once.
 */
#ifndef UPFLOW_SERVER_BLOB_STORE_H
#define UPFLOW_SERVER_BLOB_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

/* DATA_DIR/AREA/ab/SHA256 into out. */
void blob_store_path(const char *data_dir, const char *area, const char *sha256, char *out,
                     size_t len);

/* Move the file at tmp_path (on the same file system) to its content address. When the
 * content is already stored tmp_path is left alone; when moved, tmp_path[0] becomes '\0'. */
bool blob_store_put(const char *data_dir, const char *area, const char *sha256, char *tmp_path,
                    uf_error *err);

#endif
