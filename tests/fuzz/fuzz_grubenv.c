/*
 * fuzz_grubenv.c - libFuzzer target for the GRUB environment block parser: any bytes must
 * give an environment or a clear error, never a crash. What parses must survive a round
 * trip: it formats into a block, that block parses to the same variables and comments, and
 * formatting it again gives the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/grubenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_env(const uf_grubenv *a, const uf_grubenv *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (!same_text(a->vars[i].name, b->vars[i].name) ||
            !same_text(a->vars[i].value, b->vars[i].value))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_grubenv env = UF_GRUBENV_INIT, again = UF_GRUBENV_INIT;
    uf_error err;
    uf_error_clear(&err);
    if (!uf_grubenv_parse((const char *)data, size, &env, &err)) {
        if (err.code == UF_OK || err.msg[0] == '\0')
            abort();
        uf_grubenv_free(&env);
        return 0;
    }
    /* Unescaping only shortens a value and escaping restores at most what it took, so an
     * environment read from a block always fits into one. */
    char block[UF_GRUBENV_SIZE], block2[UF_GRUBENV_SIZE];
    if (!uf_grubenv_format(&env, block, &err) ||
        !uf_grubenv_parse(block, sizeof block, &again, &err) || !same_env(&env, &again) ||
        !uf_grubenv_format(&again, block2, &err) || memcmp(block, block2, sizeof block) != 0)
        abort();
    for (size_t i = 0; i < env.count; i++)
        if (env.vars[i].name && uf_grubenv_get(&env, env.vars[i].name) != env.vars[i].value)
            abort();
    uf_grubenv_free(&again);
    uf_grubenv_free(&env);
    return 0;
}
