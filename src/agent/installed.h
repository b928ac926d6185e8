/*
 * installed.h - what each slot holds: version, release and whether it was committed, kept in
 * DATA_DIR/slots.json (replaced atomically), with the index of each slot's image beside it
 * (DATA_DIR/slot-A.upfidx) so the next update can reuse the chunks the active slot already has.
 *
 *     {"A": {"version": "1.0.0", "release": "", "committed": true},
 *      "B": {"version": "2.0.0", "release": "gateway/2.0.0/rootfs.upfidx", "committed": false}}
 *
 * A slot never recorded holds the factory image: device.version, committed, no index.
 */
#ifndef UPFLOW_AGENT_INSTALLED_H
#define UPFLOW_AGENT_INSTALLED_H

#include <stdbool.h>

#include "agent/bootloader.h"
#include "agent/fault.h"
#include "lib/error.h"

typedef struct agent_slot_record {
    char version[64];
    char release[256];
    bool committed;
    bool known; /* false: never recorded (factory image or empty) */
} agent_slot_record;

typedef struct agent_installed {
    agent_slot_record slot[2]; /* [0] = A, [1] = B */
} agent_installed;

bool agent_installed_load(const char *data_dir, agent_installed *out, uf_error *err);
bool agent_installed_save(const char *data_dir, const agent_installed *in, uf_fault *fault,
                          uf_error *err);
agent_slot_record *agent_installed_slot(agent_installed *in, uf_slot slot);
/* DATA_DIR/slot-X.upfidx */
void agent_installed_index_path(const char *data_dir, uf_slot slot, char *out, size_t len);

#endif
