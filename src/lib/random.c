/*
 * random.c - kernel randomness, tokens and constant-time comparison (see random.h).
 *
 * getrandom(2) without flags blocks only until the kernel pool has been seeded once and
 * then never fails for lack of entropy; it may return fewer bytes than asked for large
 * requests or when interrupted, so we loop. Comparisons of secrets go through
 * CRYPTO_memcmp, whose running time depends only on the length compared.
 */
#include "lib/random.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/random.h>

#include "lib/encoding.h"

#define TOKEN_PREFIX_MAX 15
#define TOKEN_B64_LEN 43 /* base64url of UF_TOKEN_BYTES, without padding */

_Static_assert(TOKEN_PREFIX_MAX + TOKEN_B64_LEN + 1 <= UF_TOKEN_MAX, "UF_TOKEN_MAX too small");

bool uf_random_bytes(void *buf, size_t len, uf_error *err)
{
    uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return uf_error_errno(err, errno, "getrandom");
        done += (size_t)n;
    }
    return true;
}

bool uf_random_token(const char *prefix, char out[UF_TOKEN_MAX], uf_error *err)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    if (plen > TOKEN_PREFIX_MAX)
        return uf_error_set(err, UF_E_INVALID, "token prefix \"%s\" is longer than %d characters",
                            prefix, TOKEN_PREFIX_MAX);
    uint8_t raw[UF_TOKEN_BYTES];
    if (!uf_random_bytes(raw, sizeof raw, err))
        return uf_error_prefix(err, "new token");
    if (plen)
        memcpy(out, prefix, plen);
    uf_base64url_encode(raw, sizeof raw, out + plen);
    OPENSSL_cleanse(raw, sizeof raw);
    return true;
}

bool uf_consttime_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    /* Compare the common prefix whatever the lengths, so a length mismatch does not end the
     * work early; combine without branches. */
    size_t n = alen < blen ? alen : blen;
    int differ = n ? CRYPTO_memcmp(a, b, n) : 0;
    return (alen == blen) & (differ == 0);
}

bool uf_consttime_streq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    return uf_consttime_equal(a, strlen(a), b, strlen(b));
}
