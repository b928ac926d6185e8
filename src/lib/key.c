/*
 * key.c - TUF keys and signatures over OpenSSL's EVP_PKEY interface (see key.h).
 *
 * A uf_key keeps the keytype and keyval.public text exactly as received, so the key object it
 * gives back (and hence its keyid) is the one the metadata listed. Verification treats the
 * signature as hostile: hex is decoded into a bounded buffer, lengths are checked against the
 * scheme, and every failure inside OpenSSL becomes UF_E_BAD_SIGNATURE with the error queue
 * cleared. Private keys are PKCS#8 PEM files that are created once, mode 0600, and fsync'ed.
 */
#include "lib/key.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/canonical_json.h"
#include "lib/encoding.h"
#include "lib/hash.h"
#include "lib/json.h"

#define ED25519_KEY_BYTES 32
#define ED25519_SIG_BYTES 64
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define RSA_GENERATE_BITS 3072
#define SIG_MAX_BYTES (RSA_MAX_BITS / 8) /* the largest signature of any supported key */
#define PUBLIC_PEM_MAX (16 * 1024)
#define PRIVATE_FILE_MAX (64 * 1024)

struct uf_key {
    uf_key_type type;
    EVP_PKEY *pkey;
    bool has_private;
    char *keytype;     /* as received ("ecdsa" or "ecdsa-sha2-nistp256"), or our name */
    char *public_text; /* keyval.public as received, or derived from pkey */
};

static const struct {
    const char *keytype;
    const char *scheme;
} type_table[] = {
    [UF_KEY_ED25519] = {"ed25519", "ed25519"},
    [UF_KEY_ECDSA_P256] = {"ecdsa", "ecdsa-sha2-nistp256"},
    [UF_KEY_RSA_PSS] = {"rsa", "rsassa-pss-sha256"},
};

#define TYPE_COUNT (sizeof type_table / sizeof type_table[0])

const char *uf_key_type_name(uf_key_type t)
{
    return (unsigned)t < TYPE_COUNT ? type_table[t].keytype : "unknown";
}

static const char *scheme_name(uf_key_type t)
{
    return (unsigned)t < TYPE_COUNT ? type_table[t].scheme : "unknown";
}

bool uf_key_type_from_name(const char *name, uf_key_type *out, uf_error *err)
{
    for (unsigned i = 0; i < TYPE_COUNT; i++) {
        if (strcmp(type_table[i].keytype, name) == 0) {
            *out = (uf_key_type)i;
            return true;
        }
    }
    if (strcmp(name, "ecdsa-sha2-nistp256") == 0) { /* the older keytype name (tuf.md §6) */
        *out = UF_KEY_ECDSA_P256;
        return true;
    }
    return uf_error_set(err, UF_E_UNSUPPORTED, "unsupported keytype \"%s\"", name);
}

uf_key_type uf_key_get_type(const uf_key *key)
{
    return key->type;
}

bool uf_key_has_private(const uf_key *key)
{
    return key->has_private;
}

void uf_key_free(uf_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    free(key->keytype);
    free(key->public_text);
    free(key);
}

/* ---- checking what OpenSSL parsed ---------------------------------------------------- */

static bool check_p256(EVP_PKEY *pkey, const char *what, uf_error *err)
{
    char group[64];
    size_t len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC"))
        return uf_error_set(err, UF_E_BAD_KEY, "%s: not an EC key", what);
    if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1) {
        ERR_clear_error();
        return uf_error_set(err, UF_E_BAD_KEY, "%s: EC key without a named curve", what);
    }
    if (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)
        return uf_error_set(err, UF_E_UNSUPPORTED, "%s: curve %s, expected P-256", what, group);
    return true;
}

static bool check_rsa(EVP_PKEY *pkey, const char *what, uf_error *err)
{
    if (!EVP_PKEY_is_a(pkey, "RSA"))
        return uf_error_set(err, UF_E_BAD_KEY, "%s: not an RSA key", what);
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
        return uf_error_set(err, UF_E_BAD_KEY, "%s: RSA key of %d bits, expected %d..%d", what,
                            bits, RSA_MIN_BITS, RSA_MAX_BITS);
    return true;
}

/* Which supported type pkey is, after checking it is usable. */
static bool classify_pkey(EVP_PKEY *pkey, const char *what, uf_key_type *out, uf_error *err)
{
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        *out = UF_KEY_ED25519;
        return true;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        *out = UF_KEY_ECDSA_P256;
        return check_p256(pkey, what, err);
    }
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        *out = UF_KEY_RSA_PSS;
        return check_rsa(pkey, what, err);
    }
    return uf_error_set(err, UF_E_UNSUPPORTED, "%s: unsupported key algorithm %s", what,
                        EVP_PKEY_get0_type_name(pkey));
}

/* ---- building keys ---------------------------------------------------------------- */

/* The PEM SubjectPublicKeyInfo of pkey, malloc'ed. */
static char *public_pem(EVP_PKEY *pkey, uf_error *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
        uf_error_openssl(err, UF_E_CRYPTO, "write public key PEM");
        BIO_free(bio);
        return NULL;
    }
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *text = len > 0 ? malloc((size_t)len + 1) : NULL; /* the BIO's data has no NUL */
    if (text) {
        memcpy(text, data, (size_t)len);
        text[len] = '\0';
    }
    BIO_free(bio);
    if (!text)
        uf_error_set(err, UF_E_NOMEM, "copy public key PEM");
    return text;
}

/* keyval.public for a key we hold: hex for ed25519, PEM SPKI otherwise. */
static char *public_text_of(uf_key_type type, EVP_PKEY *pkey, uf_error *err)
{
    if (type != UF_KEY_ED25519)
        return public_pem(pkey, err);
    uint8_t raw[ED25519_KEY_BYTES];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != sizeof raw) {
        uf_error_openssl(err, UF_E_CRYPTO, "get ed25519 public key");
        return NULL;
    }
    char *hex = malloc(2 * sizeof raw + 1);
    if (!hex) {
        uf_error_set(err, UF_E_NOMEM, "copy public key");
        return NULL;
    }
    uf_hex_encode(raw, sizeof raw, hex);
    return hex;
}

/* Wrap pkey (ownership passes, also on failure). */
static uf_key *key_new(uf_key_type type, EVP_PKEY *pkey, bool has_private, const char *keytype,
                       const char *public_text, uf_error *err)
{
    uf_key *key = calloc(1, sizeof *key);
    if (!key) {
        EVP_PKEY_free(pkey);
        uf_error_set(err, UF_E_NOMEM, "allocate key");
        return NULL;
    }
    key->type = type;
    key->pkey = pkey;
    key->has_private = has_private;
    key->keytype = strdup(keytype);
    if (!key->keytype) {
        uf_error_set(err, UF_E_NOMEM, "allocate key");
        uf_key_free(key);
        return NULL;
    }
    if (public_text) {
        key->public_text = strdup(public_text);
        if (!key->public_text)
            uf_error_set(err, UF_E_NOMEM, "allocate key");
    } else {
        key->public_text = public_text_of(type, pkey, err);
    }
    if (!key->public_text) {
        uf_key_free(key);
        return NULL;
    }
    return key;
}

/* A private key we created or loaded: its keytype and public text are ours. */
static uf_key *key_from_private(EVP_PKEY *pkey, const char *what, uf_error *err)
{
    uf_key_type type = UF_KEY_ED25519; /* set by the call below; gcc -O2 cannot tell */
    if (!classify_pkey(pkey, what, &type, err)) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return key_new(type, pkey, true, uf_key_type_name(type), NULL, err);
}

static EVP_PKEY *parse_ed25519_public(const char *text, uf_error *err)
{
    uint8_t raw[ED25519_KEY_BYTES];
    size_t len = 0;
    if (strlen(text) != 2 * ED25519_KEY_BYTES ||
        !uf_hex_decode(text, raw, sizeof raw, &len, NULL)) {
        uf_error_set(err, UF_E_BAD_KEY, "keyval.public: not 64 hex digits");
        return NULL;
    }
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, sizeof raw);
    if (!pkey)
        uf_error_openssl(err, UF_E_BAD_KEY, "keyval.public: not an ed25519 key");
    return pkey;
}

static EVP_PKEY *parse_pem_public(const char *text, uf_error *err)
{
    size_t len = strlen(text);
    if (len > PUBLIC_PEM_MAX) {
        uf_error_set(err, UF_E_BAD_KEY, "keyval.public: PEM of %zu bytes is too long", len);
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!pkey)
        uf_error_openssl(err, UF_E_BAD_KEY, "keyval.public: not a PEM SubjectPublicKeyInfo");
    return pkey;
}

static EVP_PKEY *parse_public(uf_key_type type, const char *text, uf_error *err)
{
    if (type == UF_KEY_ED25519)
        return parse_ed25519_public(text, err);
    EVP_PKEY *pkey = parse_pem_public(text, err);
    if (!pkey)
        return NULL;
    bool ok = type == UF_KEY_ECDSA_P256 ? check_p256(pkey, "keyval.public", err)
                                        : check_rsa(pkey, "keyval.public", err);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

uf_key *uf_key_from_json(const json_t *key, uf_error *err)
{
    if (!json_is_object(key)) {
        uf_error_set(err, UF_E_BAD_FIELD, "key: expected object, got %s",
                     uf_json_type_name(key));
        return NULL;
    }
    const char *keytype = NULL, *scheme = NULL, *public_text = NULL;
    json_t *keyval = NULL;
    if (!uf_json_get_string(key, "", "keytype", &keytype, err) ||
        !uf_json_get_string(key, "", "scheme", &scheme, err) ||
        !uf_json_get_object(key, "", "keyval", &keyval, err) ||
        !uf_json_get_string(keyval, "keyval", "public", &public_text, err))
        return NULL;

    uf_key_type type = UF_KEY_ED25519; /* set by the call below; gcc -O2 cannot tell */
    if (!uf_key_type_from_name(keytype, &type, err)) {
        uf_error_prefix(err, "keytype");
        return NULL;
    }
    if (strcmp(scheme, scheme_name(type)) != 0) {
        uf_error_set(err, UF_E_UNSUPPORTED, "scheme: \"%s\" is not supported for keytype \"%s\"",
                     scheme, keytype);
        return NULL;
    }
    EVP_PKEY *pkey = parse_public(type, public_text, err);
    if (!pkey)
        return NULL;
    return key_new(type, pkey, false, keytype, public_text, err);
}

json_t *uf_key_to_json(const uf_key *key, uf_error *err)
{
    json_t *obj = json_pack("{s:s, s:{s:s}, s:s}", "keytype", key->keytype, "keyval", "public",
                            key->public_text, "scheme", scheme_name(key->type));
    if (!obj)
        uf_error_set(err, UF_E_NOMEM, "build key object");
    return obj;
}

bool uf_keyid_of_json(const json_t *key, char out[UF_KEYID_HEX], uf_error *err)
{
    if (!json_is_object(key))
        return uf_error_set(err, UF_E_BAD_FIELD, "keyid: key is %s, not an object",
                            uf_json_type_name(key));
    uf_buf canon = UF_BUF_INIT;
    char hex[UF_HASH_MAX_HEX];
    bool ok = uf_canonical_json(key, &canon, err) &&
              uf_hash_buf_hex(UF_HASH_SHA256, canon.data, canon.len, hex, err);
    uf_buf_free(&canon);
    if (!ok)
        return uf_error_prefix(err, "keyid");
    memcpy(out, hex, UF_KEYID_HEX - 1);
    out[UF_KEYID_HEX - 1] = '\0';
    return true;
}

bool uf_key_keyid(const uf_key *key, char out[UF_KEYID_HEX], uf_error *err)
{
    json_t *obj = uf_key_to_json(key, err);
    if (!obj)
        return false;
    bool ok = uf_keyid_of_json(obj, out, err);
    json_decref(obj);
    return ok;
}

uf_key *uf_key_generate(uf_key_type type, uf_error *err)
{
    EVP_PKEY *pkey = NULL;
    switch (type) {
    case UF_KEY_ED25519:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case UF_KEY_ECDSA_P256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case UF_KEY_RSA_PSS:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_GENERATE_BITS);
        break;
    default:
        uf_error_set(err, UF_E_UNSUPPORTED, "generate key: unknown key type %d", (int)type);
        return NULL;
    }
    if (!pkey) {
        uf_error_openssl(err, UF_E_CRYPTO, "generate key");
        return NULL;
    }
    return key_from_private(pkey, "generated key", err);
}

uf_key *uf_key_ed25519_from_seed(const uint8_t seed[32], uf_error *err)
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (!pkey) {
        uf_error_openssl(err, UF_E_CRYPTO, "ed25519 key from seed");
        return NULL;
    }
    return key_from_private(pkey, "ed25519 seed", err);
}

/* ---- private key files --------------------------------------------------------------- */

static bool write_all(int fd, const char *data, size_t len, const char *path, uf_error *err)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return uf_error_errno(err, errno, "write %s", path);
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Make the new directory entry durable too. */
static bool fsync_parent_dir(const char *path, uf_error *err)
{
    char *copy = strdup(path);
    if (!copy)
        return uf_error_set(err, UF_E_NOMEM, "copy path");
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = fd >= 0 && fsync(fd) == 0;
    if (!ok)
        uf_error_errno(err, errno, "fsync directory %s", dir);
    if (fd >= 0)
        close(fd);
    free(copy);
    return ok;
}

/* Create path exclusively and write data to it durably; a failed write leaves no file. */
static bool create_private_file(const char *path, const char *data, size_t len, uf_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST)
        return uf_error_set(err, UF_E_CONFLICT,
                            "%s already exists (a private key file is never replaced)", path);
    if (fd < 0)
        return uf_error_errno(err, errno, "create %s", path);
    bool ok = write_all(fd, data, len, path, err);
    if (ok && fsync(fd) != 0)
        ok = uf_error_errno(err, errno, "fsync %s", path);
    if (close(fd) != 0 && ok)
        ok = uf_error_errno(err, errno, "close %s", path);
    if (!ok) {
        unlink(path);
        return false;
    }
    return fsync_parent_dir(path, err);
}

bool uf_key_save_private(const uf_key *key, const char *path, uf_error *err)
{
    if (!key->has_private)
        return uf_error_set(err, UF_E_BAD_KEY, "save %s: the key has no private half", path);
    /* A secure-memory BIO frees its buffer with OPENSSL_clear_free. */
    BIO *bio = BIO_new(BIO_s_secmem());
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        uf_error_openssl(err, UF_E_CRYPTO, "encode PKCS#8");
        return uf_error_prefix(err, "save %s", path);
    }
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    bool ok = len > 0 && create_private_file(path, data, (size_t)len, err);
    if (len <= 0)
        uf_error_set(err, UF_E_CRYPTO, "save %s: empty PKCS#8 encoding", path);
    BIO_free(bio);
    return ok;
}

/* Never prompt on a terminal for a passphrase: encrypted key files are not supported. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Read a private key file of bounded size after checking who may read it. */
static bool read_private_file(const char *path, uf_buf *out, uf_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return uf_error_errno(err, errno, "open %s", path);
    struct stat st;
    bool ok = true;
    if (fstat(fd, &st) != 0)
        ok = uf_error_errno(err, errno, "stat %s", path);
    else if (!S_ISREG(st.st_mode))
        ok = uf_error_set(err, UF_E_INVALID, "%s: not a regular file", path);
    else if (st.st_mode & (S_IRWXG | S_IRWXO))
        ok = uf_error_set(err, UF_E_FORBIDDEN,
                          "%s: private key file has mode %04o, which lets group or others access "
                          "it; run chmod 600 %s",
                          path, (unsigned)(st.st_mode & 07777), path);
    else if (st.st_size > PRIVATE_FILE_MAX)
        ok = uf_error_set(err, UF_E_TOO_LARGE, "%s: %lld bytes is too large for a key file",
                          path, (long long)st.st_size);
    char block[4096];
    while (ok) {
        ssize_t n = read(fd, block, sizeof block);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            ok = uf_error_errno(err, errno, "read %s", path);
        else if (n == 0)
            break;
        else if (!uf_buf_append(out, block, (size_t)n, err))
            ok = uf_error_prefix(err, "read %s", path);
    }
    OPENSSL_cleanse(block, sizeof block);
    close(fd);
    return ok;
}

uf_key *uf_key_load_private(const char *path, uf_error *err)
{
    uf_buf text = UF_BUF_INIT;
    text.limit = PRIVATE_FILE_MAX;
    if (!read_private_file(path, &text, err)) {
        if (text.data)
            OPENSSL_cleanse(text.data, text.len);
        uf_buf_free(&text);
        return NULL;
    }
    BIO *bio = text.len ? BIO_new_mem_buf(text.data, (int)text.len) : NULL;
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (text.data)
        OPENSSL_cleanse(text.data, text.len);
    uf_buf_free(&text);
    if (!pkey) {
        uf_error_openssl(err, UF_E_BAD_KEY, "not an unencrypted PEM private key");
        uf_error_prefix(err, "%s", path);
        return NULL;
    }
    return key_from_private(pkey, path, err);
}

/* ---- signatures ---------------------------------------------------------------------- */

/* A digest context set up for this key's scheme, for signing or verifying. */
static EVP_MD_CTX *scheme_ctx(const uf_key *key, bool sign, uf_error *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) {
        uf_error_openssl(err, UF_E_NOMEM, "digest context");
        return NULL;
    }
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *digest = key->type == UF_KEY_ED25519 ? NULL : EVP_sha256();
    int rc = sign ? EVP_DigestSignInit(md, &pctx, digest, NULL, key->pkey)
                  : EVP_DigestVerifyInit(md, &pctx, digest, NULL, key->pkey);
    if (rc == 1 && key->type == UF_KEY_RSA_PSS) {
        int salt = sign ? RSA_PSS_SALTLEN_DIGEST : RSA_PSS_SALTLEN_AUTO;
        rc = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) == 1;
    }
    if (rc != 1) {
        uf_error_openssl(err, UF_E_CRYPTO, sign ? "set up signing" : "set up verification");
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return md;
}

bool uf_key_sign(const uf_key *key, const void *msg, size_t len, char **sig_hex, uf_error *err)
{
    *sig_hex = NULL;
    if (!key->has_private)
        return uf_error_set(err, UF_E_BAD_KEY, "sign: the key has no private half");
    const unsigned char *m = len ? msg : (const unsigned char *)"";
    EVP_MD_CTX *md = scheme_ctx(key, true, err);
    if (!md)
        return uf_error_prefix(err, "sign");
    size_t sig_len = 0;
    unsigned char *sig = NULL;
    bool ok = EVP_DigestSign(md, NULL, &sig_len, m, len) == 1 && sig_len > 0 &&
              (sig = malloc(sig_len)) != NULL && EVP_DigestSign(md, sig, &sig_len, m, len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) {
        free(sig);
        return uf_error_openssl(err, UF_E_CRYPTO, "sign");
    }
    *sig_hex = malloc(2 * sig_len + 1);
    if (!*sig_hex) {
        free(sig);
        return uf_error_set(err, UF_E_NOMEM, "sign: allocate signature");
    }
    uf_hex_encode(sig, sig_len, *sig_hex);
    free(sig);
    return true;
}

/* Decode a hex signature, bounding its length before looking at it. */
static bool decode_signature(const char *sig_hex, uint8_t *sig, size_t *sig_len, uf_error *err)
{
    if (!sig_hex || !sig_hex[0])
        return uf_error_set(err, UF_E_BAD_SIGNATURE, "empty signature");
    if (strnlen(sig_hex, 2 * SIG_MAX_BYTES + 1) > 2 * SIG_MAX_BYTES)
        return uf_error_set(err, UF_E_BAD_SIGNATURE, "signature longer than %d bytes",
                            SIG_MAX_BYTES);
    uf_error why;
    if (!uf_hex_decode(sig_hex, sig, SIG_MAX_BYTES, sig_len, &why))
        return uf_error_set(err, UF_E_BAD_SIGNATURE, "signature: %s", why.msg);
    return true;
}

/* The signature length the scheme fixes, or 0 when it varies (DER). */
static size_t expected_sig_len(const uf_key *key)
{
    switch (key->type) {
    case UF_KEY_ED25519:
        return ED25519_SIG_BYTES;
    case UF_KEY_RSA_PSS: /* RFC 8017 §8.1.2: a signature is exactly k octets */
        return (size_t)EVP_PKEY_get_size(key->pkey);
    case UF_KEY_ECDSA_P256:
        return 0;
    }
    return 0;
}

bool uf_key_verify(const uf_key *key, const void *msg, size_t len, const char *sig_hex,
                   uf_error *err)
{
    uint8_t sig[SIG_MAX_BYTES];
    size_t sig_len = 0;
    if (!decode_signature(sig_hex, sig, &sig_len, err))
        return false;
    size_t want = expected_sig_len(key);
    if (want && sig_len != want)
        return uf_error_set(err, UF_E_BAD_SIGNATURE, "%s signature of %zu bytes, expected %zu",
                            scheme_name(key->type), sig_len, want);
    EVP_MD_CTX *md = scheme_ctx(key, false, err);
    if (!md)
        return uf_error_prefix(err, "verify");
    const unsigned char *m = len ? msg : (const unsigned char *)"";
    int rc = EVP_DigestVerify(md, sig, sig_len, m, len);
    EVP_MD_CTX_free(md);
    if (rc != 1) {
        ERR_clear_error();
        return uf_error_set(err, UF_E_BAD_SIGNATURE, "%s signature does not verify",
                            scheme_name(key->type));
    }
    return true;
}
