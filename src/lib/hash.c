/*
 * hash.c - message digests over OpenSSL's EVP interface (see hash.h).
 *
 * A uf_hash wraps one EVP_MD_CTX and remembers whether it has been finalised, so a caller
 * that updates a finished context gets an error instead of OpenSSL's undefined behaviour.
 * Files are hashed in fixed-size blocks so memory stays bounded whatever their size.
 */
#include "lib/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/encoding.h"

#define FILE_BLOCK_SIZE (64 * 1024)

struct uf_hash {
    uf_hash_alg alg;
    EVP_MD_CTX *ctx;
    bool finished;
};

static const struct {
    const char *name;
    size_t size;
} alg_table[] = {
    [UF_HASH_SHA256] = {"sha256", 32},
    [UF_HASH_SHA512] = {"sha512", 64},
    [UF_HASH_SHA1] = {"sha1", 20},
    [UF_HASH_MD5] = {"md5", 16},
};

#define ALG_COUNT (sizeof alg_table / sizeof alg_table[0])

static bool alg_valid(uf_hash_alg alg)
{
    return (unsigned)alg < ALG_COUNT;
}

const char *uf_hash_alg_name(uf_hash_alg alg)
{
    return alg_valid(alg) ? alg_table[alg].name : "unknown";
}

bool uf_hash_alg_from_name(const char *name, uf_hash_alg *out, uf_error *err)
{
    for (unsigned i = 0; i < ALG_COUNT; i++) {
        if (strcmp(alg_table[i].name, name) == 0) {
            *out = (uf_hash_alg)i;
            return true;
        }
    }
    return uf_error_set(err, UF_E_UNSUPPORTED, "unsupported hash algorithm \"%s\"", name);
}

size_t uf_hash_size(uf_hash_alg alg)
{
    return alg_valid(alg) ? alg_table[alg].size : 0;
}

static const EVP_MD *alg_md(uf_hash_alg alg)
{
    switch (alg) {
    case UF_HASH_SHA256:
        return EVP_sha256();
    case UF_HASH_SHA512:
        return EVP_sha512();
    case UF_HASH_SHA1:
        return EVP_sha1();
    case UF_HASH_MD5:
        return EVP_md5();
    }
    return NULL;
}

uf_hash *uf_hash_new(uf_hash_alg alg, uf_error *err)
{
    if (!alg_valid(alg)) {
        uf_error_set(err, UF_E_UNSUPPORTED, "unsupported hash algorithm %d", (int)alg);
        return NULL;
    }
    uf_hash *h = calloc(1, sizeof *h);
    if (!h) {
        uf_error_set(err, UF_E_NOMEM, "cannot allocate a hash context");
        return NULL;
    }
    h->alg = alg;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx) {
        uf_error_openssl(err, UF_E_NOMEM, "EVP_MD_CTX_new");
        free(h);
        return NULL;
    }
    if (!uf_hash_reset(h, err)) {
        uf_hash_free(h);
        return NULL;
    }
    return h;
}

bool uf_hash_reset(uf_hash *h, uf_error *err)
{
    if (EVP_DigestInit_ex(h->ctx, alg_md(h->alg), NULL) != 1)
        return uf_error_openssl(err, UF_E_CRYPTO, uf_hash_alg_name(h->alg));
    h->finished = false;
    return true;
}

bool uf_hash_update(uf_hash *h, const void *data, size_t len, uf_error *err)
{
    if (h->finished)
        return uf_error_set(err, UF_E_INVALID, "%s: update after final without a reset",
                            uf_hash_alg_name(h->alg));
    if (len == 0)
        return true;
    if (EVP_DigestUpdate(h->ctx, data, len) != 1)
        return uf_error_openssl(err, UF_E_CRYPTO, uf_hash_alg_name(h->alg));
    return true;
}

bool uf_hash_final(uf_hash *h, uint8_t out[UF_HASH_MAX_SIZE], uf_error *err)
{
    if (h->finished)
        return uf_error_set(err, UF_E_INVALID, "%s: final called twice without a reset",
                            uf_hash_alg_name(h->alg));
    unsigned int n = 0;
    h->finished = true;
    if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1)
        return uf_error_openssl(err, UF_E_CRYPTO, uf_hash_alg_name(h->alg));
    return true;
}

bool uf_hash_final_hex(uf_hash *h, char out[UF_HASH_MAX_HEX], uf_error *err)
{
    uint8_t md[UF_HASH_MAX_SIZE];
    if (!uf_hash_final(h, md, err))
        return false;
    uf_hex_encode(md, uf_hash_size(h->alg), out);
    return true;
}

void uf_hash_free(uf_hash *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

bool uf_hash_buf(uf_hash_alg alg, const void *data, size_t len, uint8_t out[UF_HASH_MAX_SIZE],
                 uf_error *err)
{
    uf_hash *h = uf_hash_new(alg, err);
    if (!h)
        return false;
    bool ok = uf_hash_update(h, data, len, err) && uf_hash_final(h, out, err);
    uf_hash_free(h);
    return ok;
}

bool uf_hash_buf_hex(uf_hash_alg alg, const void *data, size_t len, char out[UF_HASH_MAX_HEX],
                     uf_error *err)
{
    uint8_t md[UF_HASH_MAX_SIZE];
    if (!uf_hash_buf(alg, data, len, md, err))
        return false;
    uf_hex_encode(md, uf_hash_size(alg), out);
    return true;
}

bool uf_hmac_hex(uf_hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
                 char out[UF_HASH_MAX_HEX], uf_error *err)
{
    if (!alg_valid(alg))
        return uf_error_set(err, UF_E_INVALID, "unknown hash algorithm %d", (int)alg);
    static const uint8_t empty_key[1];
    char digest[16];
    snprintf(digest, sizeof digest, "%s", alg_table[alg].name);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    uint8_t md[UF_HASH_MAX_SIZE];
    size_t md_len = 0;
    bool ok = ctx && EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, params) == 1 &&
              EVP_MAC_update(ctx, data, len) == 1 &&
              EVP_MAC_final(ctx, md, &md_len, sizeof md) == 1 && md_len == uf_hash_size(alg);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok)
        return uf_error_set(err, UF_E_CRYPTO, "HMAC-%s failed", alg_table[alg].name);
    uf_hex_encode(md, md_len, out);
    return true;
}

/* Feed everything readable from fd into h. */
static bool hash_fd(uf_hash *h, int fd, const char *path, uf_error *err)
{
    uint8_t *block = malloc(FILE_BLOCK_SIZE);
    if (!block)
        return uf_error_set(err, UF_E_NOMEM, "cannot allocate a read buffer");
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd, block, FILE_BLOCK_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ok = uf_error_errno(err, errno, "read %s", path);
            break;
        }
        if (n == 0)
            break;
        if (!uf_hash_update(h, block, (size_t)n, err)) {
            ok = false;
            break;
        }
    }
    free(block);
    return ok;
}

bool uf_hash_file_hex(uf_hash_alg alg, const char *path, char out[UF_HASH_MAX_HEX],
                      uf_error *err)
{
    uf_hash *h = uf_hash_new(alg, err);
    if (!h)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        uf_error_errno(err, errno, "open %s", path);
        uf_hash_free(h);
        return false;
    }
    bool ok = hash_fd(h, fd, path, err) && uf_hash_final_hex(h, out, err);
    close(fd);
    uf_hash_free(h);
    return ok;
}
