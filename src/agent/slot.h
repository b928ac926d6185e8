/*
 * slot.h - one A/B slot: a block device or a file that holds a whole system image.
 *
 * Writes go to explicit offsets and are made durable with fdatasync, each announced to the
 * fault hook ("slot.write.before" ... "slot.fsync.after") so the power-cut tests can stop the
 * agent between any two. The capacity is the block device's size, or for a file the
 * configured slots.size (else the file's current size): an image that does not fit is
 * refused before a byte is written.
 */
#ifndef UPFLOW_AGENT_SLOT_H
#define UPFLOW_AGENT_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/bootloader.h"
#include "agent/fault.h"
#include "lib/error.h"

typedef struct agent_slot {
    uf_slot id;
    const char *path;
    int fd;
    uint64_t capacity;
    uf_fault *fault;
} agent_slot;

/* Open a slot for reading, or for writing (a file slot is created if missing, never
 * truncated). configured_size is slots.size (0 = the device's or file's size). */
bool agent_slot_open(uf_slot id, const char *path, uint64_t configured_size, bool writable,
                     uf_fault *fault, agent_slot *out, uf_error *err);
void agent_slot_close(agent_slot *s);

bool agent_slot_write(agent_slot *s, const void *data, size_t len, uint64_t offset,
                      uf_error *err);
bool agent_slot_read(agent_slot *s, void *data, size_t len, uint64_t offset, uf_error *err);
bool agent_slot_sync(agent_slot *s, uf_error *err);
/* SHA-256 of the first len bytes. */
bool agent_slot_sha256(agent_slot *s, uint64_t len, uint8_t out[32], uf_error *err);

#endif
