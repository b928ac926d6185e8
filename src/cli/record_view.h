/*
 * record_view.h - records as people read them in a terminal: a table for a list, a page for
 * one record, and the outcome of an approval. Times are local; field values are shown as
 * text when they are strings and as compact JSON otherwise. Text from the server is cleaned
 * of control characters before it reaches the terminal.
 */
#ifndef UPFLOW_CLI_RECORD_VIEW_H
#define UPFLOW_CLI_RECORD_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A string member of obj, or fallback when it is absent or not a string. */
const char *uf_view_str(const json_t *obj, const char *key, const char *fallback);
/* An integer member of obj, or 0. */
int64_t uf_view_int(const json_t *obj, const char *key);

/* "STATE (label)" of a record, on standard output. */
void uf_view_state(const json_t *record);
/* The records of a list, one a line: id, type, state, assignee, last update, title. */
void uf_view_table(const json_t *items);
/* One record: type, template, state, assignee, times, fields, links, transitions. */
void uf_view_record(const json_t *record);
/* The answer to an approval or a rejection: the quorum, what fired, what still waits. */
void uf_view_decision(const json_t *result, int64_t id, const char *transition, bool approve);

#endif
