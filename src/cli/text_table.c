/*
 * text_table.c - tables for a terminal (see text_table.h). Cells are kept as text until the
 * table is printed, when every column's width is known.
 */
#include "cli/text_table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"

struct uf_table {
    size_t n_cols, n_cells, cap;
    const char *const *headers;
    char **cells;
};

uf_table *uf_table_new(const char *const *headers, size_t n_cols)
{
    uf_table *t = calloc(1, sizeof *t);
    if (t) {
        t->headers = headers;
        t->n_cols = n_cols;
    }
    return t;
}

void uf_table_cell(uf_table *t, const char *fmt, ...)
{
    if (!t)
        return;
    if (t->n_cells == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        char **cells = realloc(t->cells, cap * sizeof *cells);
        if (!cells)
            return; /* out of memory: the cell is lost, and the table shows a gap */
        t->cells = cells;
        t->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    t->cells[t->n_cells++] = text;
}

/* Characters on screen, roughly: UTF-8 lead bytes. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static const char *header_text(const char *h)
{
    return h[0] == '>' ? h + 1 : h;
}

static void print_cell(FILE *out, const char *text, size_t width, bool right, bool last)
{
    size_t pad = width - text_width(text);
    if (right)
        fprintf(out, "%*s", (int)pad, "");
    uf_client_print_text(out, text ? text : "");
    if (!right && !last)
        fprintf(out, "%*s", (int)pad, "");
    fputs(last ? "\n" : "  ", out);
}

void uf_table_print(const uf_table *t, FILE *out, const char *empty)
{
    if (!t)
        return;
    size_t rows = t->n_cells / t->n_cols;
    if (rows == 0) {
        fprintf(out, "%s\n", empty);
        return;
    }
    size_t *width = calloc(t->n_cols, sizeof *width);
    if (!width)
        return;
    for (size_t k = 0; k < t->n_cols; k++)
        width[k] = text_width(header_text(t->headers[k]));
    for (size_t i = 0; i < rows * t->n_cols; i++) {
        size_t w = text_width(t->cells[i]);
        if (w > width[i % t->n_cols])
            width[i % t->n_cols] = w;
    }
    for (size_t k = 0; k < t->n_cols; k++)
        print_cell(out, header_text(t->headers[k]), width[k], t->headers[k][0] == '>',
                   k + 1 == t->n_cols);
    for (size_t i = 0; i < rows * t->n_cols; i++) {
        size_t k = i % t->n_cols;
        print_cell(out, t->cells[i], width[k], t->headers[k][0] == '>', k + 1 == t->n_cols);
    }
    free(width);
}

void uf_table_free(uf_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_cells; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void uf_table_time(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !localtime_r(&tt, &tm) || strftime(out, len, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(out, len, "-");
}

char *uf_table_json_text(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

const char *uf_table_str(const json_t *obj, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : fallback;
}
