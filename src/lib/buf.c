/*
 * buf.c - growable byte buffer (see buf.h).
 */
#include "lib/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(uf_buf *b, size_t extra, uf_error *err)
{
    if (extra > SIZE_MAX - b->len - 1)
        return uf_error_set(err, UF_E_TOO_LARGE, "buffer size overflow");
    size_t need = b->len + extra + 1;
    if (b->limit && b->len + extra > b->limit)
        return uf_error_set(err, UF_E_TOO_LARGE, "output exceeds the limit of %zu bytes",
                            b->limit);
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return uf_error_set(err, UF_E_NOMEM, "cannot grow buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return true;
}

bool uf_buf_append(uf_buf *b, const void *data, size_t len, uf_error *err)
{
    if (!reserve(b, len, err))
        return false;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

bool uf_buf_append_str(uf_buf *b, const char *s, uf_error *err)
{
    return uf_buf_append(b, s, strlen(s), err);
}

bool uf_buf_append_char(uf_buf *b, char c, uf_error *err)
{
    return uf_buf_append(b, &c, 1, err);
}

bool uf_buf_printf(uf_buf *b, uf_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return uf_error_set(err, UF_E_INTERNAL, "bad format string");
    if (!reserve(b, (size_t)n, err))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void uf_buf_reset(uf_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void uf_buf_free(uf_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *uf_buf_steal(uf_buf *b, size_t *len, uf_error *err)
{
    if (!b->data) {
        if (!reserve(b, 0, err))
            return NULL;
        b->data[0] = '\0';
    }
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
