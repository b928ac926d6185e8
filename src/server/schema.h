/*
 * schema.h - the database schema as numbered migrations, applied in order at start.
 *
 * Each migration runs in its own transaction and records its number in schema_migrations,
 * so a crash half-way leaves either the old or the new schema, never a mix. Migrations are
 * only ever appended; a released one is never edited. A database newer than this binary
 * (a downgrade) is refused rather than guessed at.
 */
#ifndef UPFLOW_SERVER_SCHEMA_H
#define UPFLOW_SERVER_SCHEMA_H

#include "server/db.h"

/* Bring the database up to the latest schema. *applied (may be NULL) gets how many
 * migrations ran. */
bool schema_migrate(db *d, int *applied, uf_error *err);
/* The newest migration number this binary knows. */
int schema_latest(void);

#endif
