/*
 * text_table.h - a table for a terminal: a header line and rows of cells in columns as wide
 * as their widest cell (counted in UTF-8 characters), two spaces apart, numbers aligned to
 * the right where asked. The last column is not padded, so long text may follow. Cells often
 * hold text from the server: they are printed with control characters shown as '?'.
 */
#ifndef UPFLOW_CLI_TEXT_TABLE_H
#define UPFLOW_CLI_TEXT_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct uf_table uf_table;

/* A table with the given headers ("NAME", "STATE", ...); NULL when out of memory. A header
 * beginning with '>' (the '>' is not shown) makes its column right-aligned. */
uf_table *uf_table_new(const char *const *headers, size_t n_cols);
/* The next cell, filled row by row; printf-style. */
void uf_table_cell(uf_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the header and the rows; an empty table prints `empty` instead (a line of its own). */
void uf_table_print(const uf_table *t, FILE *out, const char *empty);
void uf_table_free(uf_table *t);

/* Helpers for cells. A string member of obj, or fallback when it is absent or empty. */
const char *uf_table_str(const json_t *obj, const char *key, const char *fallback);
/* Unix seconds as local "YYYY-MM-DD HH:MM", or "-" for 0 or less. */
void uf_table_time(int64_t t, char *out, size_t len);
/* A JSON value as text (a string as it is, anything else as compact JSON), to free(); NULL
 * when out of memory. */
char *uf_table_json_text(const json_t *v);

#endif
