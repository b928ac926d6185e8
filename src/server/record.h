/*
 * record.h - change records in the store: load, insert, save with a revision check, links,
 * history, attachments and comments. Pure storage: what is allowed is workflow.c's business.
 */
#ifndef UPFLOW_SERVER_RECORD_H
#define UPFLOW_SERVER_RECORD_H

#include <jansson.h>
#include <stdint.h>

#include "server/db.h"

#define RECORD_NAME_MAX 64

typedef struct wf_record {
    int64_t id;
    char template_id[RECORD_NAME_MAX];
    int64_t template_version;
    char type[RECORD_NAME_MAX];
    char state[RECORD_NAME_MAX];
    int64_t revision;
    json_t *fields; /* owned */
    char customer[RECORD_NAME_MAX];
    char product[RECORD_NAME_MAX];
    char assignee[RECORD_NAME_MAX];
    char created_by[RECORD_NAME_MAX];
    int64_t created_at, updated_at;
} wf_record;

/* UF_E_NOT_FOUND when there is no such record. */
bool record_load(db *d, int64_t id, wf_record *r, uf_error *err);
void record_clear(wf_record *r);
/* Insert r (id is assigned). revision starts at 1. */
bool record_insert(db *d, wf_record *r, uf_error *err);
/* Write state, fields, scope and assignee, bumping the revision; fails with UF_E_CONFLICT if
 * the stored revision is no longer r->revision (someone else changed it meanwhile). */
bool record_save(db *d, wf_record *r, uf_error *err);

/* Write the fields, state, scope and assignee a create produced, keeping revision 1. */
bool record_write_created(db *d, const wf_record *r, uf_error *err);

bool record_link(db *d, int64_t from_id, const char *link, int64_t to_id, uf_error *err);
/* Ids of records linked from id with link (from -> to), as a JSON array of integers. */
json_t *record_linked(db *d, int64_t id, const char *link, uf_error *err);
/* All links of a record in both directions: [{"link", "to"}, {"link", "from"}]. */
json_t *record_links_json(db *d, int64_t id, uf_error *err);

bool record_add_history(db *d, const wf_record *r, int64_t audit_seq, const char *transition,
                        const char *from_state, const char *actor, const char *on_behalf_of,
                        int64_t at_ms, uf_error *err);
/* Has `who` fired any of the transitions (a JSON array of ids) on record id? */
bool record_actor_fired(db *d, int64_t id, const char *who, const json_t *transitions,
                        bool *fired, uf_error *err);
/* History rows oldest first: [{"transition","from","to","actor","on_behalf_of","at_ms","fields"}]. */
json_t *record_history_json(db *d, int64_t id, uf_error *err);

bool record_count_attachments(db *d, int64_t id, const char *kind, int64_t *n, uf_error *err);

/* Claim the unique value of a field for a record (UF_E_CONFLICT if another record has it). */
bool record_claim_unique(db *d, const wf_record *r, const char *field, const char *value,
                         uf_error *err);

#endif
