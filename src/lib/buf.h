/*
 * buf.h - a growable byte buffer.
 *
 * Holds arbitrary bytes and always keeps a NUL after the last one, so text built in it can be
 * handed to C string functions. Growth is geometric; an optional cap turns runaway output
 * (an encoder fed hostile input, an endless download) into an error instead of an OOM kill.
 * A failed append leaves the buffer as it was.
 */
#ifndef UPFLOW_BUF_H
#define UPFLOW_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

typedef struct uf_buf {
    char *data;   /* NULL until the first append; then NUL-terminated */
    size_t len;   /* bytes in use, not counting the NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* 0 = no limit, else appends past this many bytes fail with UF_E_TOO_LARGE */
} uf_buf;

#define UF_BUF_INIT {NULL, 0, 0, 0}

bool uf_buf_append(uf_buf *b, const void *data, size_t len, uf_error *err);
bool uf_buf_append_str(uf_buf *b, const char *s, uf_error *err);
bool uf_buf_append_char(uf_buf *b, char c, uf_error *err);
bool uf_buf_printf(uf_buf *b, uf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Forget the contents, keep the memory. */
void uf_buf_reset(uf_buf *b);
/* Free the memory and reset to UF_BUF_INIT (the limit is kept). */
void uf_buf_free(uf_buf *b);
/* Hand the contents to the caller (who frees them); the buffer is left empty. Never NULL
 * on success: an empty buffer yields an allocated "". */
char *uf_buf_steal(uf_buf *b, size_t *len, uf_error *err);

#endif
