/*
 * tuf_fixture.h - TUF repositories built and signed in memory for the client tests.
 *
 * A fixture holds the "signed" part of every role as JSON the test edits freely, the keys of
 * every role (deterministic ed25519 seeds), and the files it serves ("metadata/N.root.json",
 * "metadata/V.snapshot.json", "targets/HASH.NAME", ...) through a uf_tuf_fetcher that logs
 * every request. Publishing signs the current state and pins versions, lengths and hashes the
 * way a repository does (consistent snapshots on); tests then tamper with what is served.
 */
#ifndef UPFLOW_TUF_FIXTURE_H
#define UPFLOW_TUF_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/key.h"
#include "lib/tuf_client.h"

#define FX_MAX_KEYS 8
#define FX_MAX_FILES 256
#define FX_MAX_DELEGATED 48

typedef struct fx_keys {
    uf_key *keys[FX_MAX_KEYS];
    char keyids[FX_MAX_KEYS][UF_KEYID_HEX];
    size_t n;
} fx_keys;

typedef struct fx_role {
    char name[64];
    json_t *signed_part; /* owned */
    fx_keys signers;     /* who signs it when published */
} fx_role;

typedef struct tuf_fixture {
    fx_role root, timestamp, snapshot, targets;
    fx_role delegated[FX_MAX_DELEGATED];
    size_t n_delegated;
    fx_keys extra_root_signers; /* also sign the next published root (old keys in a rotation) */
    struct {
        char *name;
        char *data;
        size_t len;
    } files[FX_MAX_FILES];
    size_t n_files;
    char *requests[FX_MAX_FILES];
    size_t n_requests;
    char dir[128];        /* the client's metadata directory */
    int64_t now;          /* the fixed update start time handed to clients */
    bool timestamp_hashes; /* list snapshot length and hashes in timestamp (default true) */
    unsigned seed;
    uf_key *pool[128]; /* every key made, freed with the fixture */
    size_t n_pool;
} tuf_fixture;

/* Root v1 (every role threshold 1, its own key), targets with "file1.txt" ("hello world\n"),
 * snapshot and timestamp, all published; root v1 installed in a fresh metadata directory. */
tuf_fixture *fx_new(void);
void fx_free(tuf_fixture *fx);

/* A new deterministic ed25519 key, owned by the fixture. */
uf_key *fx_new_key(tuf_fixture *fx);
/* Add key to signers and to the root's (or a delegator's) key list for role. */
void fx_keys_add(fx_keys *k, uf_key *key);
void fx_keys_clear(fx_keys *k);
/* Make root list exactly `keys` for top-level role with threshold (signers too). */
void fx_set_role_keys(tuf_fixture *fx, const char *role, fx_keys *keys, int threshold);

/* Sign `signed_part` with keys into an envelope: malloc'ed compact JSON. */
char *fx_sign(const json_t *signed_part, const fx_keys *keys, size_t *len);

void fx_put(tuf_fixture *fx, const char *name, const void *data, size_t len);
const char *fx_get(const tuf_fixture *fx, const char *name, size_t *len);
void fx_set_version(json_t *signed_part, int64_t v);
void fx_set_expires(json_t *signed_part, const char *when);

/* Sign and serve root as metadata/N.root.json (N = its version). */
void fx_publish_root(tuf_fixture *fx);
/* Sign and serve targets, every delegated role, snapshot and timestamp at their current
 * versions; snapshot and timestamp list what was just published. */
void fx_publish(tuf_fixture *fx);
/* Bump targets, snapshot and timestamp by one and publish. */
void fx_update(tuf_fixture *fx);

/* Sign role as it is now and serve it as `name` (tampering: a file under another name). */
void fx_serve_as(tuf_fixture *fx, const fx_role *role, const char *name);
/* Give a top-level role n new keys with threshold and publish the next root, signed by the
 * current root keys and, when role is "root", the new ones too. Returns the new key set. */
fx_keys fx_rotate(tuf_fixture *fx, const char *role, size_t n, int threshold);

/* Add a target with content to role's signed part and serve targets/HASH.NAME. */
void fx_add_target(tuf_fixture *fx, json_t *role_signed, const char *path, const char *content);
/* Delegate `paths` (NULL-terminated) from `delegator` ("targets" or a delegated name) to a new
 * role with a new key; returns the new role. */
fx_role *fx_delegate(tuf_fixture *fx, const char *delegator, const char *name,
                     const char *const paths[], bool terminating);

uf_tuf_fetcher fx_fetcher(tuf_fixture *fx);
void fx_clear_requests(tuf_fixture *fx);
/* Open a client on the fixture's metadata directory; fails the test if it cannot. */
uf_tuf_client *fx_client(tuf_fixture *fx);
/* "a,b,c" of the requests so far, for assertions. */
char *fx_request_list(const tuf_fixture *fx);

#endif
