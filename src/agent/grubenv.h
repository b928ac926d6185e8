/*
 * grubenv.h - the GRUB environment block, byte for byte as grub-editenv and GRUB's
 * load_env/save_env read and write it.
 *
 * A block is exactly 1024 bytes: the line "# GRUB Environment Block", then "name=value"
 * lines, then '#' up to the end (the padding, with no newline). In a value a backslash and
 * a newline are each written preceded by a backslash. Other lines starting with '#' are
 * comments: Debian's grub-editenv writes a "# WARNING: Do not edit..." line.
 *
 * Parsing is strict, since the block decides what boots: a wrong size, a missing header, a
 * NUL byte, a line without '=', an unterminated value, a name given twice, or a last line
 * that runs into the padding is refused. Writing keeps every variable and comment in its
 * place, appends new variables, and refuses an environment that does not fit instead of
 * truncating it.
 */
#ifndef UPFLOW_AGENT_GRUBENV_H
#define UPFLOW_AGENT_GRUBENV_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "lib/fileio.h"

#define UF_GRUBENV_SIZE 1024
#define UF_GRUBENV_HEADER "# GRUB Environment Block\n"

typedef struct uf_grubenv_var {
    char *name;  /* NULL for a comment line */
    char *value; /* for a comment, the whole line without its newline */
} uf_grubenv_var;

typedef struct uf_grubenv {
    uf_grubenv_var *vars; /* variables and comments, in file order */
    size_t count, cap;
} uf_grubenv;

#define UF_GRUBENV_INIT {NULL, 0, 0}

/* Parse a block into out (empty on entry). UF_E_BAD_FIELD says what is malformed. */
bool uf_grubenv_parse(const char *data, size_t len, uf_grubenv *out, uf_error *err);
/* Serialise into exactly UF_GRUBENV_SIZE bytes; an environment that does not fit is
 * UF_E_TOO_LARGE. */
bool uf_grubenv_format(const uf_grubenv *env, char out[UF_GRUBENV_SIZE], uf_error *err);

/* The value of name, or NULL. */
const char *uf_grubenv_get(const uf_grubenv *env, const char *name);
/* Replace name's value in place, or append it. A name that is empty, starts with '#', or
 * holds '=', '\\' or a newline is UF_E_INVALID. */
bool uf_grubenv_set(uf_grubenv *env, const char *name, const char *value, uf_error *err);
void uf_grubenv_free(uf_grubenv *env);

/* Read and parse the block at path (a missing file is UF_E_NOT_FOUND). */
bool uf_grubenv_load(const char *path, uf_grubenv *out, uf_error *err);
/* Format and replace path atomically, telling obs (may be NULL) of each durable step. */
bool uf_grubenv_save(const char *path, const uf_grubenv *env, const uf_file_observer *obs,
                     uf_error *err);

#endif
