/*
 * error.c - the code table and the context chain of uf_error (see error.h).
 */
#include "lib/error.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int status;
    const char *text;
} code_table[] = {
#define UF_X_ROW(name, str, status, text) {str, status, text},
    UF_ERROR_CODES(UF_X_ROW)
#undef UF_X_ROW
};

const char *uf_code_name(uf_code code)
{
    if ((unsigned)code >= UF_ERROR_CODE_COUNT)
        return "unknown";
    return code_table[code].name;
}

const char *uf_code_text(uf_code code)
{
    if ((unsigned)code >= UF_ERROR_CODE_COUNT)
        return "unknown error";
    return code_table[code].text;
}

int uf_code_http_status(uf_code code)
{
    if ((unsigned)code >= UF_ERROR_CODE_COUNT)
        return 500;
    return code_table[code].status;
}

bool uf_code_from_name(const char *name, uf_code *out)
{
    for (unsigned i = 0; i < UF_ERROR_CODE_COUNT; i++) {
        if (strcmp(code_table[i].name, name) == 0) {
            *out = (uf_code)i;
            return true;
        }
    }
    return false;
}

void uf_error_clear(uf_error *err)
{
    if (!err)
        return;
    err->code = UF_OK;
    err->msg[0] = '\0';
}

bool uf_error_set(uf_error *err, uf_code code, const char *fmt, ...)
{
    if (!err)
        return false;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return false;
}

bool uf_error_prefix(uf_error *err, const char *fmt, ...)
{
    if (!err)
        return false;
    char prefix[UF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);

    char old[UF_ERROR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    if (old[0])
        snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    else
        snprintf(err->msg, sizeof err->msg, "%s", prefix);
    if (err->code == UF_OK)
        err->code = UF_E_INTERNAL; /* a prefix on "no error" means a caller forgot to set one */
    return false;
}

static uf_code code_for_errno(int errnum)
{
    switch (errnum) {
    case ENOSPC:
    case EDQUOT:
        return UF_E_NO_SPACE;
    case ENOENT:
        return UF_E_NOT_FOUND;
    case EACCES:
    case EPERM:
        return UF_E_FORBIDDEN;
    case ENOMEM:
        return UF_E_NOMEM;
    case EEXIST:
        return UF_E_CONFLICT;
    case ETIMEDOUT:
        return UF_E_TIMEOUT;
    case EINVAL:
        return UF_E_INVALID;
    default:
        return UF_E_IO;
    }
}

bool uf_error_errno(uf_error *err, int errnum, const char *fmt, ...)
{
    if (!err)
        return false;
    char what[UF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    err->code = code_for_errno(errnum);
    snprintf(err->msg, sizeof err->msg, "%s: %s", what, strerror(errnum));
    return false;
}

bool uf_error_openssl(uf_error *err, uf_code code, const char *what)
{
    unsigned long e = ERR_get_error();
    char detail[256] = "no detail from OpenSSL";
    if (e)
        ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    return uf_error_set(err, code, "%s: %s", what, detail);
}
