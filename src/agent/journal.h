/*
 * journal.h - the agent's memory across crashes and reboots: which step of an update it has
 * reached, for which release, into which slot, and how far the download got.
 *
 * The journal is a small JSON file, replaced as a whole by write-temp, fsync, rename and
 * fsync of the directory (fileio.h), so after a power cut it holds either the previous step
 * or the next one. At start the agent loads it and finishes or undoes the step it names.
 *
 *     {"format": 1, "step": "downloading", "release": "r-42", "version": "2.1.0",
 *      "target_slot": "B", "chunk": 17, "chunks": 256, "reason": "",
 *      "started_at": 1767225600, "updated_at": 1767225713}
 *
 * A missing file is the idle journal. A file that is not a journal (bad JSON, a missing or
 * wrongly typed field, an unknown step) is refused with the path and what is wrong, never
 * silently taken as idle: the agent must not forget an update half done. Unknown members
 * are ignored, so an agent rolled back to an older release still reads a newer journal.
 */
#ifndef UPFLOW_AGENT_JOURNAL_H
#define UPFLOW_AGENT_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/bootloader.h"
#include "agent/fault.h"
#include "lib/error.h"

#define UF_JOURNAL_FORMAT 1

#define UF_JOURNAL_STEPS(X)                                                                   \
    X(UF_STEP_IDLE, "idle")                                                                   \
    X(UF_STEP_DOWNLOADING, "downloading")                                                     \
    X(UF_STEP_DOWNLOADED, "downloaded")                                                       \
    X(UF_STEP_INSTALLING, "installing")                                                       \
    X(UF_STEP_INSTALLED, "installed")                                                         \
    X(UF_STEP_REBOOTING, "rebooting")                                                         \
    X(UF_STEP_TRIAL, "trial")                                                                 \
    X(UF_STEP_SUCCESS, "success")                                                             \
    X(UF_STEP_FAILURE, "failure")                                                             \
    X(UF_STEP_ROLLED_BACK, "rolled_back")

typedef enum {
#define UF_X_STEP(name, text) name,
    UF_JOURNAL_STEPS(UF_X_STEP)
#undef UF_X_STEP
    UF_STEP_COUNT
} uf_journal_step;

typedef struct uf_journal {
    uf_journal_step step;
    char release[128];   /* release id; "" when idle */
    char version[64];    /* version being installed */
    uf_slot target_slot; /* the slot written; UF_SLOT_NONE when idle, after a failure
                            before the trial, and for a tree release (agent.h) */
    int64_t chunk;       /* index of the last chunk verified and written; -1 = none yet */
    int64_t chunks;      /* chunks in the image; 0 = not known yet */
    char reason[512];    /* why a failure or rollback happened; "" otherwise */
    int64_t started_at;  /* Unix seconds: when this update started; 0 when idle */
    int64_t updated_at;  /* Unix seconds: when the journal was last written */
} uf_journal;

/* The idle journal. */
void uf_journal_init(uf_journal *j);
/* "idle", "downloading", ... */
const char *uf_journal_step_name(uf_journal_step step);
bool uf_journal_step_parse(const char *name, uf_journal_step *out);

/* Load path; a missing file is the idle journal. A corrupt one is UF_E_BAD_JSON or
 * UF_E_BAD_FIELD, and an unsupported format UF_E_UNSUPPORTED, each naming the path. */
bool uf_journal_load(const char *path, uf_journal *out, uf_error *err);
/* Replace path durably; fault points "journal.<step>.<before|after>" (fault may be NULL). */
bool uf_journal_save(const char *path, const uf_journal *j, uf_fault *fault, uf_error *err);

#endif
