/*
 * cmd_swu.c - `upflow swu create`: a signed SWUpdate image (.swu) for hawkBit DDI devices.
 *
 * A .swu is a cpio archive in the "newc" format whose first member is sw-description, the
 * second sw-description.sig (a detached CMS signature of sw-description, DER, binary, without
 * S/MIME capabilities: what `openssl cms -sign -binary -nosmimecap -outform DER` makes), then
 * the images. Only sw-description is signed; each image is bound to it by its sha256 entry,
 * which this command can fill in: "$swupdate_get_sha256(NAME)" in sw-description (the
 * meta-swupdate notation) becomes the SHA-256 of the image NAME. See
 * shared/reference/hawkbit-ddi.md §11.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli/commands.h"
#include "lib/buf.h"
#include "lib/cmdline.h"
#include "lib/fileio.h"
#include "lib/hash.h"

#define DESCRIPTION_MAX (1024u * 1024)
#define MAX_IMAGES 64
#define SHA256_MARK "$swupdate_get_sha256("

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- cpio "newc" ------------------------------------------------------------------------ */

static bool put(uf_file_writer *w, const void *data, size_t len, uf_error *err)
{
    return uf_file_writer_write(w, data, len, err);
}

static bool pad4(uf_file_writer *w, uint64_t written, uf_error *err)
{
    static const char zeros[4] = {0};
    size_t n = (size_t)((4 - written % 4) % 4);
    return put(w, zeros, n, err);
}

/* The 110-byte header and the name (NUL included), padded to 4. */
static bool entry_header(uf_file_writer *w, const char *name, uint64_t size, unsigned ino,
                         uf_error *err)
{
    if (size > 0xffffffffu)
        return uf_error_set(err, UF_E_TOO_LARGE, "%s: cpio newc members are at most 4 GiB",
                            name);
    char head[111];
    size_t namesize = strlen(name) + 1;
    snprintf(head, sizeof head,
             "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X", ino,
             size || strcmp(name, "TRAILER!!!") != 0 ? 0100644u : 0u, 0u, 0u, 1u, 0u,
             (unsigned)size, 0u, 0u, 0u, 0u, namesize, 0u);
    return put(w, head, 110, err) && put(w, name, namesize, err) &&
           pad4(w, 110 + namesize, err);
}

static bool entry_bytes(uf_file_writer *w, const char *name, const void *data, size_t len,
                        unsigned ino, uf_error *err)
{
    return entry_header(w, name, len, ino, err) && put(w, data, len, err) &&
           pad4(w, len, err);
}

static bool entry_file(uf_file_writer *w, const char *path, unsigned ino, uf_error *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        if (f)
            fclose(f);
        return uf_error_errno(err, errno, "open %s", path);
    }
    bool ok = entry_header(w, base_name(path), (uint64_t)st.st_size, ino, err);
    char buf[65536];
    uint64_t total = 0;
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        ok = put(w, buf, n, err);
        total += n;
    }
    if (ok && (ferror(f) || total != (uint64_t)st.st_size))
        ok = uf_error_errno(err, errno ? errno : EIO, "read %s", path);
    fclose(f);
    return ok && pad4(w, total, err);
}

/* ---- sw-description ---------------------------------------------------------------------- */

static bool file_sha256(const char *path, char hex[UF_HASH_MAX_HEX], uf_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return uf_error_errno(err, errno, "open %s", path);
    uf_hash *h = uf_hash_new(UF_HASH_SHA256, err);
    char buf[65536];
    size_t n;
    bool ok = h != NULL;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = uf_hash_update(h, buf, n, err);
    if (ok && ferror(f))
        ok = uf_error_errno(err, EIO, "read %s", path);
    ok = ok && uf_hash_final_hex(h, hex, err);
    uf_hash_free(h);
    fclose(f);
    return ok;
}

/* sw-description with each $swupdate_get_sha256(NAME) replaced by the image's SHA-256. */
static bool expand_description(const uf_buf *in, char **images, size_t n_images, uf_buf *out,
                               uf_error *err)
{
    const char *p = (const char *)in->data, *end = p + in->len;
    while (p < end) {
        const char *mark = memmem(p, (size_t)(end - p), SHA256_MARK, strlen(SHA256_MARK));
        if (!mark)
            return uf_buf_append(out, p, (size_t)(end - p), err);
        const char *name = mark + strlen(SHA256_MARK);
        const char *close = memchr(name, ')', (size_t)(end - name));
        if (!close)
            return uf_error_set(err, UF_E_USAGE, "sw-description: unclosed " SHA256_MARK);
        size_t i = 0, len = (size_t)(close - name);
        while (i < n_images && (strlen(base_name(images[i])) != len ||
                                strncmp(base_name(images[i]), name, len) != 0))
            i++;
        if (i == n_images)
            return uf_error_set(err, UF_E_USAGE, "sw-description: %.*s is not an image given",
                                (int)len, name);
        char hex[UF_HASH_MAX_HEX];
        if (!uf_buf_append(out, p, (size_t)(mark - p), err) ||
            !file_sha256(images[i], hex, err) || !uf_buf_append_str(out, hex, err))
            return false;
        p = close + 1;
    }
    return true;
}

/* A detached CMS signature of data, DER. */
static bool cms_sign(const uf_buf *data, const char *cert_path, const char *key_path,
                     uf_buf *sig, uf_error *err)
{
    FILE *cf = fopen(cert_path, "r"), *kf = fopen(key_path, "r");
    X509 *cert = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    BIO *in = BIO_new_mem_buf(data->data, (int)data->len), *out = BIO_new(BIO_s_mem());
    CMS_ContentInfo *cms = NULL;
    bool ok = false;
    if (!cf || !kf)
        uf_error_errno(err, errno, "open %s", !cf ? cert_path : key_path);
    else if (!cert)
        uf_error_openssl(err, UF_E_BAD_KEY, cert_path);
    else if (!key)
        uf_error_openssl(err, UF_E_BAD_KEY, key_path);
    else if (!X509_check_private_key(cert, key))
        uf_error_set(err, UF_E_BAD_KEY, "%s is not the key of %s", key_path, cert_path);
    else if (!in || !out ||
             !(cms = CMS_sign(cert, key, NULL, in,
                              CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP)) ||
             i2d_CMS_bio(out, cms) != 1)
        uf_error_openssl(err, UF_E_CRYPTO, "CMS signature of sw-description");
    else {
        char *bytes;
        long n = BIO_get_mem_data(out, &bytes);
        ok = uf_buf_append(sig, bytes, (size_t)n, err);
    }
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(out);
    EVP_PKEY_free(key);
    X509_free(cert);
    if (cf)
        fclose(cf);
    if (kf)
        fclose(kf);
    return ok;
}

typedef struct swu_spec {
    const char *output, *description, *cert, *key;
    char **images;
    size_t n_images;
} swu_spec;

static bool swu_write(const swu_spec *s, uf_error *err)
{
    uf_buf raw = UF_BUF_INIT, desc = UF_BUF_INIT, sig = UF_BUF_INIT;
    uf_file_writer w;
    bool ok = uf_file_read_capped(s->description, DESCRIPTION_MAX, &raw, err) &&
              expand_description(&raw, s->images, s->n_images, &desc, err) &&
              cms_sign(&desc, s->cert, s->key, &sig, err) &&
              uf_file_writer_open(&w, s->output, NULL, err);
    if (!ok) {
        uf_buf_free(&raw);
        uf_buf_free(&desc);
        uf_buf_free(&sig);
        return false;
    }
    unsigned ino = 1;
    ok = entry_bytes(&w, "sw-description", desc.data, desc.len, ino++, err) &&
         entry_bytes(&w, "sw-description.sig", sig.data, sig.len, ino++, err);
    for (size_t i = 0; ok && i < s->n_images; i++)
        ok = entry_file(&w, s->images[i], ino++, err);
    ok = ok && entry_bytes(&w, "TRAILER!!!", "", 0, 0, err);
    if (ok)
        ok = uf_file_writer_commit(&w, err);
    else
        uf_file_writer_abort(&w);
    uf_buf_free(&raw);
    uf_buf_free(&desc);
    uf_buf_free(&sig);
    return ok;
}

static int create_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"description", required_argument, NULL, 'd'},
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    swu_spec s = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:d:c:k:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': s.output = optarg; break;
        case 'd': s.description = optarg; break;
        case 'c': s.cert = optarg; break;
        case 'k': s.key = optarg; break;
        case 'h':
            printf("Usage: %s -d SW-DESCRIPTION -c CERT.pem -k KEY.pem -o OUT.swu IMAGE...\n"
                   "Build a signed SWUpdate image: a cpio (newc) archive of sw-description,\n"
                   "its detached CMS signature sw-description.sig, then the images, in this\n"
                   "order. \"$swupdate_get_sha256(NAME)\" in sw-description becomes the\n"
                   "SHA-256 of the image NAME. Devices verify it with CERT.pem (swupdate -k).\n"
                   "\n"
                   "  -d, --description FILE  the sw-description (libconfig text)\n"
                   "  -c, --cert FILE         the signer's X.509 certificate (PEM)\n"
                   "  -k, --key FILE          its private key (PEM)\n"
                   "  -o, --output FILE       the .swu to write (replaced atomically)\n"
                   "  -h, --help              display this help and exit\n",
                   argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (!s.output || !s.description || !s.cert || !s.key)
        return uf_cmdline_usage_error(argv[0], "missing --%s",
                                      !s.output ? "output" : !s.description ? "description"
                                                            : !s.cert       ? "cert"
                                                                            : "key");
    s.images = argv + optind;
    s.n_images = (size_t)(argc - optind);
    if (s.n_images > MAX_IMAGES)
        return uf_cmdline_usage_error(argv[0], "at most %d images", MAX_IMAGES);
    for (size_t i = 0; i < s.n_images; i++) {
        bool clash = strncmp(base_name(s.images[i]), "sw-description", 14) == 0;
        for (size_t j = 0; j < i; j++)
            clash = clash || strcmp(base_name(s.images[i]), base_name(s.images[j])) == 0;
        if (clash)
            return uf_cmdline_usage_error(argv[0], "image name %s: used twice or reserved",
                                          base_name(s.images[i]));
    }
    uf_error err;
    if (!swu_write(&s, &err))
        return uf_cmdline_fail(argv[0], &err);
    printf("wrote %s (sw-description, sw-description.sig and %zu image%s)\n", s.output,
           s.n_images, s.n_images == 1 ? "" : "s");
    return UF_EXIT_OK;
}

int cmd_swu(int argc, char **argv)
{
    static const uf_subcommand table[] = {
        {"create", "build a CMS-signed .swu for SWUpdate devices", create_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(table, argc, argv);
}
