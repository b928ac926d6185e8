/*
 * workflow_internal.h - what the workflow engine's files share (workflow.c, the approval
 * and view parts). Not for use outside the engine.
 */
#ifndef UPFLOW_SERVER_WORKFLOW_INTERNAL_H
#define UPFLOW_SERVER_WORKFLOW_INTERNAL_H

#include "server/workflow.h"

/* The record's place for scoped roles: customer and product from the scope fields. */
void wf_scope_from_fields(const json_t *rtype, wf_record *r);
/* Does who hold role unscoped or in the record's product/customer scope? */
bool wf_role_in_scope(const auth_identity *who, const char *role, const wf_record *r);
/* Any role of the template, in scope. */
bool wf_has_template_role(const wf_template *t, const auth_identity *who, const wf_record *r);
/* A field value is "empty": absent, null, "", []. */
bool wf_is_empty(const json_t *v);
/* Append {"guard": guard, "message": ...} to failures. */
void wf_fail(json_t *failures, const char *guard, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Is the approval of transition tr met on record r? Fills a description of the count into
 * `status` ({"approved": n, "needed": m, "rejected_by": ...}); caller frees. */
bool wf_approval_status(db *d, const wf_template *t, const json_t *rtype, const json_t *tr,
                        const wf_record *r, bool *met, json_t **status, uf_error *err);
/* Is the person excluded from approving tr on r? *why says which rule. */
bool wf_approval_excluded(db *d, const json_t *approval, const wf_record *r, const char *person,
                          bool *excluded, const char **why, uf_error *err);
/* The audit seq after which decisions on tr count (entering the state, or tr's last firing). */
bool wf_approval_round_start(db *d, const wf_record *r, const char *transition, int64_t *seq,
                             uf_error *err);
/* SHA-256 of the canonical JSON of the approval's bind_fields values ("" when none). */
bool wf_approval_binding(const json_t *approval, const wf_record *r, char out[65], uf_error *err);

/* Fire a transition inside the current transaction, appending guard failures to failures
 * (workflow.c). */
bool wf_fire_into(db *d, const wf_registry *reg, const wf_actor *a, int64_t record_id,
                  const wf_change *c, json_t *failures, uf_error *err);

#endif
