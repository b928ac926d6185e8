/*
 * password.c - scrypt password hashes in a self-describing string (see password.h).
 *
 * The stored string carries its own parameters, so verification runs with whatever was used
 * at hashing time. That makes the stored string an input that decides how much memory and CPU
 * a check costs: a hostile or corrupted value could ask for gigabytes. So the parser is strict
 * (exact layout, decimal numbers without signs or leading zeros, canonical base64url of the
 * exact salt and key sizes) and the parameters are bounded before any work is done.
 */
#include "lib/password.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/encoding.h"
#include "lib/random.h"

#define SALT_BYTES 16
#define KEY_BYTES 32
#define PREFIX "$scrypt$"

/* Bounds on stored parameters. The defaults (17, 8, 1) use a 128 MiB table; we allow a table
 * of up to 1 GiB and 16 times the default work, which leaves room to raise the defaults. */
#define LOG2_N_MIN 10
#define LOG2_N_MAX 22
#define R_MAX 32
#define P_MAX 16
#define MEM_MAX ((uint64_t)1 << 30)
#define WORK_MAX ((uint64_t)16 << 27) /* 128 * N * r * p of the defaults is 2^27 */

uf_password_params uf_password_default_params(void)
{
    return (uf_password_params){.log2_n = 17, .r = 8, .p = 1};
}

/* Memory OpenSSL's scrypt allocates: the p blocks B and the table V (kdf_scrypt.c). */
static uint64_t scrypt_memory(const uf_password_params *pp)
{
    uint64_t n = (uint64_t)1 << pp->log2_n;
    return 128 * (uint64_t)pp->r * (uint64_t)pp->p + 128 * (uint64_t)pp->r * (n + 2);
}

static bool params_check(const uf_password_params *pp, uf_error *err)
{
    if (pp->log2_n < LOG2_N_MIN || pp->log2_n > LOG2_N_MAX)
        return uf_error_set(err, UF_E_INVALID, "scrypt ln=%u outside %d..%d", pp->log2_n,
                            LOG2_N_MIN, LOG2_N_MAX);
    if (pp->r < 1 || pp->r > R_MAX)
        return uf_error_set(err, UF_E_INVALID, "scrypt r=%u outside 1..%d", pp->r, R_MAX);
    if (pp->p < 1 || pp->p > P_MAX)
        return uf_error_set(err, UF_E_INVALID, "scrypt p=%u outside 1..%d", pp->p, P_MAX);
    if (((uint64_t)128 << pp->log2_n) * pp->r > MEM_MAX)
        return uf_error_set(err, UF_E_INVALID, "scrypt ln=%u,r=%u,p=%u needs more than %llu MiB",
                            pp->log2_n, pp->r, pp->p, (unsigned long long)(MEM_MAX >> 20));
    uint64_t work = ((uint64_t)128 << pp->log2_n) * pp->r * pp->p;
    if (work > WORK_MAX)
        return uf_error_set(err, UF_E_INVALID, "scrypt ln=%u,r=%u,p=%u is too much work",
                            pp->log2_n, pp->r, pp->p);
    return true;
}

static bool scrypt_derive(const char *password, const uint8_t *salt, size_t salt_len,
                          const uf_password_params *pp, uint8_t key[KEY_BYTES], uf_error *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    if (!kdf)
        return uf_error_openssl(err, UF_E_CRYPTO, "fetch scrypt");
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!ctx)
        return uf_error_openssl(err, UF_E_NOMEM, "scrypt context");

    uint64_t n = (uint64_t)1 << pp->log2_n;
    uint32_t r = pp->r, p = pp->p;
    /* Set maxmem from the parameters rather than trusting a default: the 3.0 provider allows
     * about 1 GiB, the legacy EVP_PBE_scrypt only 32 MiB, and params_check has bounded it. */
    uint64_t maxmem = scrypt_memory(pp) + (1 << 20);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)(uintptr_t)password,
                                          strlen(password)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt,
                                          salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    bool ok = EVP_KDF_derive(ctx, key, KEY_BYTES, params) == 1;
    EVP_KDF_CTX_free(ctx);
    if (!ok)
        return uf_error_openssl(err, UF_E_CRYPTO, "scrypt");
    return true;
}

bool uf_password_hash(const char *password, const uf_password_params *params,
                      char out[UF_PASSWORD_HASH_MAX], uf_error *err)
{
    if (!password)
        return uf_error_set(err, UF_E_INVALID, "hash password: no password");
    if (!params_check(params, err))
        return uf_error_prefix(err, "hash password");

    uint8_t salt[SALT_BYTES], key[KEY_BYTES];
    if (!uf_random_bytes(salt, sizeof salt, err) ||
        !scrypt_derive(password, salt, sizeof salt, params, key, err))
        return uf_error_prefix(err, "hash password");

    char salt_text[32], key_text[48];
    _Static_assert(sizeof salt_text >= (SALT_BYTES * 4 + 2) / 3 + 1, "salt_text");
    _Static_assert(sizeof key_text >= (KEY_BYTES * 4 + 2) / 3 + 1, "key_text");
    uf_base64url_encode(salt, sizeof salt, salt_text);
    uf_base64url_encode(key, sizeof key, key_text);
    OPENSSL_cleanse(key, sizeof key);
    int n = snprintf(out, UF_PASSWORD_HASH_MAX, PREFIX "ln=%u,r=%u,p=%u$%s$%s", params->log2_n,
                     params->r, params->p, salt_text, key_text);
    OPENSSL_cleanse(key_text, sizeof key_text);
    if (n < 0 || n >= UF_PASSWORD_HASH_MAX)
        return uf_error_set(err, UF_E_INTERNAL, "hash password: result does not fit");
    return true;
}

/* Parse "<name>=<decimal>" at *s followed by `end`; advances *s past `end`. Digits only, no
 * sign, no leading zero, at most 3 digits: every legal value is small. */
static bool parse_param(const char **s, const char *name, char end, unsigned *out,
                        uf_error *err)
{
    size_t nl = strlen(name);
    const char *p = *s;
    if (strncmp(p, name, nl) != 0 || p[nl] != '=')
        return uf_error_set(err, UF_E_INVALID, "expected \"%s=\"", name);
    p += nl + 1;
    unsigned v = 0;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 3 || (digits == 2 && v == 0))
            return uf_error_set(err, UF_E_INVALID, "%s: not a small decimal number", name);
        v = v * 10 + (unsigned)(*p - '0');
        p++;
    }
    if (digits == 0 || *p != end)
        return uf_error_set(err, UF_E_INVALID, "%s: not a decimal number followed by '%c'",
                            name, end);
    *out = v;
    *s = p + 1;
    return true;
}

/* Decode base64url text of exactly `len` characters into exactly `want` bytes. */
static bool decode_field(const char *text, size_t len, const char *what, uint8_t *out,
                         size_t want, uf_error *err)
{
    char tmp[64];
    uint8_t bytes[sizeof tmp * 3 / 4];
    if (len >= sizeof tmp)
        return uf_error_set(err, UF_E_INVALID, "%s: too long", what);
    memcpy(tmp, text, len);
    tmp[len] = '\0';
    size_t got = 0;
    if (!uf_base64url_decode(tmp, bytes, sizeof bytes, &got, err))
        return uf_error_prefix(err, "%s", what);
    if (got != want)
        return uf_error_set(err, UF_E_INVALID, "%s: %zu bytes, expected %zu", what, got, want);
    memcpy(out, bytes, want);
    return true;
}

static bool parse_stored(const char *stored, uf_password_params *pp, uint8_t salt[SALT_BYTES],
                         uint8_t key[KEY_BYTES], uf_error *err)
{
    const char *s = stored;
    if (strncmp(s, PREFIX, strlen(PREFIX)) != 0)
        return uf_error_set(err, UF_E_INVALID, "not an upflow scrypt hash");
    s += strlen(PREFIX);
    if (!parse_param(&s, "ln", ',', &pp->log2_n, err) || !parse_param(&s, "r", ',', &pp->r, err) ||
        !parse_param(&s, "p", '$', &pp->p, err))
        return false;
    if (!params_check(pp, err))
        return false;
    const char *dollar = strchr(s, '$');
    if (!dollar)
        return uf_error_set(err, UF_E_INVALID, "missing '$' between salt and key");
    return decode_field(s, (size_t)(dollar - s), "salt", salt, SALT_BYTES, err) &&
           decode_field(dollar + 1, strlen(dollar + 1), "key", key, KEY_BYTES, err);
}

bool uf_password_verify(const char *password, const char *stored, bool *ok, uf_error *err)
{
    *ok = false;
    if (!password || !stored)
        return uf_error_set(err, UF_E_INVALID, "verify password: missing argument");
    uf_password_params pp;
    uint8_t salt[SALT_BYTES], want[KEY_BYTES], got[KEY_BYTES];
    if (!parse_stored(stored, &pp, salt, want, err))
        return uf_error_prefix(err, "stored password hash");
    if (!scrypt_derive(password, salt, sizeof salt, &pp, got, err))
        return uf_error_prefix(err, "verify password");
    *ok = CRYPTO_memcmp(got, want, KEY_BYTES) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return true;
}
