/*
 * template.h - workflow templates: load, validate, and look things up (docs/templates.md).
 *
 * A template stays the JSON it was written as: validation checks every reference once
 * (states, fields, roles, transitions named anywhere must exist; field types fit their use;
 * no unknown keys, so a typo is an error with its path), after which the engine reads the
 * document through the accessors below without re-checking. A template is immutable once
 * loaded and shared read-only between threads.
 */
#ifndef UPFLOW_SERVER_TEMPLATE_H
#define UPFLOW_SERVER_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/hash.h"

typedef struct wf_template {
    char id[64];
    int64_t version;
    json_t *doc;                   /* the validated document (owned) */
    char sha256[UF_HASH_MAX_HEX];  /* of its canonical JSON: what "the same version" means */
} wf_template;

/* Validate doc (borrowed) and wrap it. Errors name the path: "record_types.REQ.transitions[3]
 * .to: unknown state \"RECIEVED\"". */
wf_template *wf_template_from_json(json_t *doc, uf_error *err);
wf_template *wf_template_load_file(const char *path, uf_error *err);
void wf_template_free(wf_template *t);

/* Lookups; NULL when absent. */
json_t *wf_record_type(const wf_template *t, const char *type);
json_t *wf_field(const json_t *rtype, const char *name);
json_t *wf_state(const json_t *rtype, const char *code);
json_t *wf_transition(const json_t *rtype, const char *id);
/* The create transition of a record type: the first with "from": []. */
json_t *wf_create_transition(const json_t *rtype);
bool wf_transition_is_create(const json_t *tr);
/* Is `state` among the transition's from-states ("*" = any non-terminal state)? */
bool wf_transition_allowed_from(const json_t *rtype, const json_t *tr, const char *state);
bool wf_state_is_terminal(const json_t *rtype, const char *state);
/* A settings switch (false when absent). */
bool wf_setting(const wf_template *t, const char *name);

#endif
