/*
 * grubenv.c - the GRUB environment block format (see grubenv.h).
 *
 * The rules follow GRUB's own reader and writer (grub-core/lib/envblk.c): a backslash in a
 * value takes the next byte literally, whatever it is, so an escaped newline does not end
 * the line; a line that starts with '#' is skipped; the free space is '#' padding after the
 * last line. Where GRUB would quietly stop reading (no '=', an unterminated value) or its
 * writer would call the block broken (padding that does not follow a newline), we refuse
 * the block instead, so that the agent never rewrites a block it did not understand.
 */
#include "agent/grubenv.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define HEADER_LEN (sizeof UF_GRUBENV_HEADER - 1)

/* Read caps the file well above the block size, so a wrong size is reported as such. */
#define READ_CAP (64 * 1024)

static bool append_var(uf_grubenv *env, char *name, char *value, uf_error *err)
{
    if (env->count == env->cap) {
        size_t cap = env->cap ? env->cap * 2 : 8;
        uf_grubenv_var *vars = realloc(env->vars, cap * sizeof *vars);
        if (!vars)
            return uf_error_set(err, UF_E_NOMEM, "out of memory");
        env->vars = vars;
        env->cap = cap;
    }
    env->vars[env->count++] = (uf_grubenv_var){name, value};
    return true;
}

/* The end of a line that starts at p: its '\n', honouring escapes; end if there is none. */
static const char *line_end(const char *p, const char *end)
{
    while (p < end && *p != '\n') {
        if (*p == '\\' && end - p < 2)
            return end;
        p += *p == '\\' ? 2 : 1;
    }
    return p;
}

static char *unescape(const char *p, const char *stop)
{
    char *out = malloc((size_t)(stop - p) + 1), *q = out;
    if (!out)
        return NULL;
    for (; p < stop; p++) {
        if (*p == '\\')
            p++;
        *q++ = *p;
    }
    *q = '\0';
    return out;
}

/* Parse the "name=value\n" line at *p (offset off in the block) and advance *p past it. */
static bool parse_line(const char **p, const char *end, size_t off, uf_grubenv *env,
                       uf_error *err)
{
    const char *start = *p, *eq = start;
    while (eq < end && *eq != '=' && *eq != '\n')
        eq++;
    if (eq == end || *eq != '=')
        return uf_error_set(err, UF_E_BAD_FIELD, "byte %zu: a line without '='", off);
    if (eq == start)
        return uf_error_set(err, UF_E_BAD_FIELD, "byte %zu: a variable without a name", off);
    const char *stop = line_end(eq + 1, end);
    if (stop == end)
        return uf_error_set(err, UF_E_BAD_FIELD, "byte %zu: a value without its newline", off);
    char *name = strndup(start, (size_t)(eq - start)), *value = unescape(eq + 1, stop);
    bool ok = name && value;
    if (!ok)
        uf_error_set(err, UF_E_NOMEM, "out of memory");
    else if (uf_grubenv_get(env, name))
        ok = uf_error_set(err, UF_E_BAD_FIELD, "variable '%s' is set twice", name);
    if (ok && append_var(env, name, value, err)) {
        *p = stop + 1;
        return true;
    }
    free(name);
    free(value);
    return false;
}

/* A '#' line at *p: a comment ended by its newline, kept; or the padding, which runs to the
 * end of the block and must be nothing but '#'. */
static bool parse_comment(const char **p, const char *end, size_t off, uf_grubenv *env,
                          uf_error *err)
{
    const char *start = *p, *nl = memchr(start, '\n', (size_t)(end - start));
    if (!nl) {
        for (const char *q = start; q < end; q++)
            if (*q != '#')
                return uf_error_set(err, UF_E_BAD_FIELD,
                                    "byte %zu: the last line runs into the padding", off);
        *p = end;
        return true;
    }
    char *line = strndup(start, (size_t)(nl - start));
    if (!line || !append_var(env, NULL, line, err)) {
        free(line);
        return line ? false : uf_error_set(err, UF_E_NOMEM, "out of memory");
    }
    *p = nl + 1;
    return true;
}

bool uf_grubenv_parse(const char *data, size_t len, uf_grubenv *out, uf_error *err)
{
    if (len != UF_GRUBENV_SIZE)
        return uf_error_set(err, UF_E_BAD_FIELD,
                            "%zu bytes, but a GRUB environment block is exactly %d", len,
                            UF_GRUBENV_SIZE);
    if (memcmp(data, UF_GRUBENV_HEADER, HEADER_LEN) != 0)
        return uf_error_set(err, UF_E_BAD_FIELD,
                            "no '# GRUB Environment Block' line at the start");
    if (memchr(data, '\0', len))
        return uf_error_set(err, UF_E_BAD_FIELD, "a NUL byte in the block");
    const char *p = data + HEADER_LEN, *end = data + len;
    while (p < end) {
        if (*p != '#') {
            if (!parse_line(&p, end, (size_t)(p - data), out, err))
                return false;
        } else if (!parse_comment(&p, end, (size_t)(p - data), out, err)) {
            return false;
        }
    }
    return true;
}

static size_t escaped_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += (*s == '\\' || *s == '\n') ? 2 : 1;
    return n;
}

static char *put_escaped(char *p, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '\n')
            *p++ = '\\';
        *p++ = *s;
    }
    return p;
}

/* Bytes of a variable's or comment's line, newline included. */
static size_t line_len(const uf_grubenv_var *v)
{
    if (!v->name)
        return strlen(v->value) + 1;
    return strlen(v->name) + 1 + escaped_len(v->value) + 1;
}

static char *put_line(char *p, const uf_grubenv_var *v)
{
    if (v->name) {
        size_t nl = strlen(v->name);
        memcpy(p, v->name, nl);
        p += nl;
        *p++ = '=';
        p = put_escaped(p, v->value);
    } else {
        size_t len = strlen(v->value);
        memcpy(p, v->value, len);
        p += len;
    }
    *p++ = '\n';
    return p;
}

bool uf_grubenv_format(const uf_grubenv *env, char out[UF_GRUBENV_SIZE], uf_error *err)
{
    size_t need = HEADER_LEN;
    for (size_t i = 0; i < env->count; i++)
        need += line_len(&env->vars[i]);
    if (need > UF_GRUBENV_SIZE)
        return uf_error_set(err, UF_E_TOO_LARGE,
                            "the environment needs %zu bytes, but a GRUB environment block "
                            "holds %d", need, UF_GRUBENV_SIZE);
    char *p = out;
    memcpy(p, UF_GRUBENV_HEADER, HEADER_LEN);
    p += HEADER_LEN;
    for (size_t i = 0; i < env->count; i++)
        p = put_line(p, &env->vars[i]);
    memset(p, '#', UF_GRUBENV_SIZE - (size_t)(p - out));
    return true;
}

const char *uf_grubenv_get(const uf_grubenv *env, const char *name)
{
    for (size_t i = 0; i < env->count; i++)
        if (env->vars[i].name && strcmp(env->vars[i].name, name) == 0)
            return env->vars[i].value;
    return NULL;
}

bool uf_grubenv_set(uf_grubenv *env, const char *name, const char *value, uf_error *err)
{
    if (!*name || *name == '#' || strpbrk(name, "=\\\n"))
        return uf_error_set(err, UF_E_INVALID, "'%s' cannot name a GRUB variable", name);
    char *copy = strdup(value);
    if (!copy)
        return uf_error_set(err, UF_E_NOMEM, "out of memory");
    for (size_t i = 0; i < env->count; i++) {
        if (env->vars[i].name && strcmp(env->vars[i].name, name) == 0) {
            free(env->vars[i].value);
            env->vars[i].value = copy;
            return true;
        }
    }
    char *name_copy = strdup(name);
    bool ok = name_copy ? append_var(env, name_copy, copy, err)
                        : uf_error_set(err, UF_E_NOMEM, "out of memory");
    if (!ok) {
        free(name_copy);
        free(copy);
    }
    return ok;
}

void uf_grubenv_free(uf_grubenv *env)
{
    for (size_t i = 0; i < env->count; i++) {
        free(env->vars[i].name);
        free(env->vars[i].value);
    }
    free(env->vars);
    *env = (uf_grubenv)UF_GRUBENV_INIT;
}

bool uf_grubenv_load(const char *path, uf_grubenv *out, uf_error *err)
{
    uf_buf data = UF_BUF_INIT;
    bool ok = uf_file_read_capped(path, READ_CAP, &data, err) &&
              (uf_grubenv_parse(data.data ? data.data : "", data.len, out, err) ||
               uf_error_prefix(err, "%s", path));
    uf_buf_free(&data);
    return ok;
}

bool uf_grubenv_save(const char *path, const uf_grubenv *env, const uf_file_observer *obs,
                     uf_error *err)
{
    char block[UF_GRUBENV_SIZE];
    if (!uf_grubenv_format(env, block, err))
        return uf_error_prefix(err, "%s", path);
    return uf_file_write_atomic_observed(path, block, sizeof block, obs, err);
}
