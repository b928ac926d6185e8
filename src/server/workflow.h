/*
 * workflow.h - the workflow engine: creates records and moves them through their template's
 * state machine, enforcing who may act, every guard, approvals with quorum and separation of
 * duties, and effects on linked records, all inside one transaction that also appends the
 * audit record (workflow.md §6.9). A refused transition reports every unmet guard at once.
 */
#ifndef UPFLOW_SERVER_WORKFLOW_H
#define UPFLOW_SERVER_WORKFLOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/log.h"
#include "server/auth.h"
#include "server/db.h"
#include "server/record.h"
#include "server/template.h"

struct sla_calendars;

/* Templates by (id, version): every version records in the store use, plus the files. */
typedef struct wf_registry {
    wf_template **items;
    size_t n;
    /* The working calendars (set by the server after loading; may be NULL): notifications
     * held to working hours are delivered in the templates' calendar sessions. */
    const struct sla_calendars *calendars;
} wf_registry;

/* Load every *.json of dir, validate, publish new versions to the store (a changed body
 * under an existing version is refused), and load older published versions back. */
bool wf_registry_load(wf_registry *reg, const char *dir, db *d, const uf_log *log, uf_error *err);
void wf_registry_free(wf_registry *reg);
/* version 0 = the newest */
const wf_template *wf_registry_get(const wf_registry *reg, const char *id, int64_t version);

typedef struct wf_actor {
    const auth_identity *who; /* NULL = the system */
    const char *name;         /* username, or "system" */
    const char *on_behalf_of; /* set for proxy decisions */
    bool preauthorized;       /* the caller has already authorised the act (approval auto-fire,
                                 effects on a parent record) */
} wf_actor;

typedef struct wf_change {
    const char *transition;
    int64_t revision;       /* the revision the caller saw; < 0 skips the check */
    const json_t *fields;   /* values to set with the transition (may be NULL) */
    const char *comment;    /* may be NULL */
    bool comment_customer_visible;
} wf_change;

/* Create a record through the type's create transition (c->transition, or the first create
 * transition when NULL), with links from the new record: [{"link": "parent", "to": ID}, ...]
 * (NULL for none); the actor must be able to see every linked record. On a guard failure:
 * false, err->code UF_E_GUARD and *failures a JSON array of {"guard","message"} (caller
 * frees). Caller holds a write transaction. */
bool wf_create_linked(db *d, const wf_registry *reg, const wf_actor *a, const char *template_id,
                      const char *type, const wf_change *c, const json_t *links,
                      int64_t *record_id, json_t **failures, uf_error *err);
/* Fire a transition on a record. Same contract as wf_create_linked. */
bool wf_fire(db *d, const wf_registry *reg, const wf_actor *a, int64_t record_id,
             const wf_change *c, json_t **failures, uf_error *err);
/* Change fields outside a transition (revision-checked, audited). */
bool wf_edit(db *d, const wf_registry *reg, const wf_actor *a, int64_t record_id,
             int64_t revision, const json_t *fields, uf_error *err);

typedef struct wf_decision {
    const char *transition;
    bool approve;
    const char *comment;
    const char *on_behalf_of; /* proxy: the principal whose signature this records */
    int64_t evidence;         /* attachment id (proxy), 0 = none */
} wf_decision;

/* Record an approval decision; may fire the transition (auto_fire) or its on_reject. *result
 * describes what happened: {"approval_id", "quorum_met", "fired", "state", "unmet": [...]}. */
bool wf_decide(db *d, const wf_registry *reg, const wf_actor *a, int64_t record_id,
               const wf_decision *dec, json_t **result, uf_error *err);

/* May this user see the record at all? (customer scope, template roles) */
bool wf_can_see(const wf_registry *reg, const auth_identity *who, const wf_record *r);
/* The record as this user may see it: hidden fields removed, for customer-side users only
 * customer-visible fields; with the transitions the user could try from here. */
json_t *wf_record_json(db *d, const wf_registry *reg, const auth_identity *who,
                       const wf_record *r, uf_error *err);

/* Field access rights of a user on a record in its current state. */
bool wf_field_visible(const wf_template *t, const json_t *rtype, const auth_identity *who,
                      const wf_record *r, const char *field);
bool wf_field_editable(const wf_template *t, const json_t *rtype, const auth_identity *who,
                       const wf_record *r, const char *field);

/* Is the value acceptable for a field of this definition? (type, enum, dates, checklist) */
bool wf_check_value(db *d, const json_t *field_def, const char *path, const json_t *value,
                    uf_error *err);

#endif
