/*
 * outbox.h - events on their way to the server: DATA_DIR/events.jsonl is the queue, and
 * DATA_DIR/events.sent the byte offset just past the last line delivered (or skipped).
 *
 * Every event the agent reports is appended to events.jsonl first (agent_report), so a
 * server that cannot be reached loses nothing: the next flush sends the lines after the
 * offset, oldest first, and stops at the first that cannot be delivered, so the server sees
 * them in order. The offset is replaced atomically after each delivered line; a crash between
 * a delivery and that write sends one line twice, which the server answers 200 or 409
 * (closed), both fine. Lines without an "action" member (an install from the command line)
 * are not for the server and are skipped.
 */
#ifndef UPFLOW_AGENT_OUTBOX_H
#define UPFLOW_AGENT_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "lib/error.h"
#include "lib/log.h"

typedef struct outbox {
    char events_path[AGENT_STR_MAX + 32];
    char sent_path[AGENT_STR_MAX + 32];
    const uf_log *log;
    bool paused; /* a delivery failed: do not try again before outbox_resume() */
} outbox;

/* Deliver one event of `action`: false when it must be sent again later (no answer);
 * *accepted false when the server refused it for good (it is skipped). */
typedef bool (*outbox_send_fn)(void *ctx, int64_t action, const json_t *event, bool *accepted,
                               uf_error *err);

void outbox_init(outbox *o, const char *data_dir, const uf_log *log);

/* Append one event as a line of events.jsonl (compact, sorted keys: as agent_report). */
bool outbox_append(outbox *o, const json_t *event, uf_error *err);

/* Send the pending lines in order through send; stop at the first that cannot be delivered
 * now (then the outbox is paused, and false is returned with why). *delivered counts the
 * lines sent (may be NULL). Does nothing while paused. */
bool outbox_flush(outbox *o, outbox_send_fn send, void *ctx, size_t *delivered, uf_error *err);

/* Allow deliveries again (the next poll cycle). */
void outbox_resume(outbox *o);

#endif
