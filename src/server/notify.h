/*
 * notify.h - notifications (workflow.md §6.7): the "notify" rules of a record type turn an
 * event into in-app notifications for the users a rule names and one webhook event in the
 * outbox (docs/templates.md, "Notifications").
 *
 * Everything is written inside the caller's transaction, so notifications exist exactly when
 * the change that caused them commits; delivery happens after commit (notify_worker.h). A
 * recipient gets only what it may see: nothing about a record it may not see, and of the
 * changed fields only those visible to it (customer-side users: customer-visible ones). The
 * user who acted is not notified of its own act. A rule with working_hours_only holds its
 * notifications until the next working session of the template's calendar.
 */
#ifndef UPFLOW_SERVER_NOTIFY_H
#define UPFLOW_SERVER_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>

#include "server/db.h"
#include "server/record.h"
#include "server/workflow.h"

/* The events rules can name ("on"). */
#define NOTIFY_TRANSITION "transition"
#define NOTIFY_APPROVAL_REQUESTED "approval_requested"
#define NOTIFY_SLA_WARNING "sla_warning"
#define NOTIFY_SLA_BREACH "sla_breach"
#define NOTIFY_COMMENT "comment"

/*
 * Apply the rules of r's record type for one event. `subject` is the transition id
 * (transition, approval_requested) or the SLA id (sla_warning, sla_breach); NULL for a
 * comment. `actor` is a username or "system". `detail` (may be NULL) is what happened:
 *   transition:  {"from", "to", "changes": {FIELD: VALUE}}  (the audit record's detail)
 *   sla_*:       {"sla", "name", "cycle", "pct", "at_ms", "deadline_ms"}
 *   comment:     {"comment_id", "customer_visible": bool}   (internal ones skip customer-side
 *                                                            recipients)
 * Call inside the write transaction of the change.
 */
bool notify_event(db *d, const wf_registry *reg, const wf_record *r, const char *event,
                  const char *subject, const char *actor, const json_t *detail, uf_error *err);

/* A transition was recorded (from_state NULL for a create): the "transition" event and, when
 * the record entered a new state, "approval_requested" for every approval transition that
 * leaves it. */
bool notify_transition(db *d, const wf_registry *reg, const wf_record *r, const char *transition,
                       const char *from_state, const char *actor, const json_t *detail,
                       uf_error *err);

#endif
