/*
 * tls.c — certificate generation with OpenSSL 3's EVP/X509 API and the SSL_CTX setup
 * h2o needs (ALPN registration through h2o_ssl_register_alpn_protocols). Generation
 * writes to temporary names and renames, so a crash never leaves half a key pair.
 */
#include "http/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <h2o.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "base/limits.h"
#include "base/log.h"

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static fg_rc add_san(X509 *cert, const char *address)
{
    char san[512];
    int is_ip = 0;
    unsigned char tmp[16];
    if (address && *address && strcmp(address, "127.0.0.1") != 0 && strcmp(address, "::1") != 0 &&
        strcmp(address, "localhost") != 0 && strcmp(address, "0.0.0.0") != 0 &&
        strcmp(address, "::") != 0) {
        is_ip = inet_pton(AF_INET, address, tmp) == 1 || inet_pton(AF_INET6, address, tmp) == 1;
        snprintf(san, sizeof san, "IP:127.0.0.1,IP:::1,DNS:localhost,%s:%s", is_ip ? "IP" : "DNS",
                 address);
    } else {
        snprintf(san, sizeof san, "IP:127.0.0.1,IP:::1,DNS:localhost");
    }
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    if (!ext)
        return FG_ERR_CRYPTO;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? FG_OK : FG_ERR_CRYPTO;
}

static fg_rc write_pem(const char *path, int is_key, EVP_PKEY *key, X509 *cert)
{
    char tmp[FG_PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return FG_ERR_LIMIT;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, is_key ? 0600 : 0644);
    if (fd < 0)
        return FG_ERR_IO;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return FG_ERR_IO;
    }
    int ok =
        is_key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return FG_ERR_IO;
    }
    return FG_OK;
}

static fg_rc generate(const char *cert_path, const char *key_path, const char *address)
{
    fg_rc rc = FG_ERR_CRYPTO;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    if (!key || !cert)
        goto out;
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1)
        goto out;
    serial[0] &= 0x7f; /* positive */
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn)
        goto out;
    int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    if (!ok || !X509_set_version(cert, 2) || !X509_gmtime_adj(X509_getm_notBefore(cert), -60) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert), 397L * 24 * 3600) || !X509_set_pubkey(cert, key))
        goto out;
    X509_NAME *name = X509_get_subject_name(cert);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"finguard", -1,
                                    -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"finguard self-signed", -1, -1, 0) ||
        !X509_set_issuer_name(cert, name))
        goto out;
    if (add_san(cert, address) != FG_OK)
        goto out;
    if (!X509_sign(cert, key, EVP_sha256()))
        goto out;
    rc = write_pem(key_path, 1, key, NULL);
    if (rc == FG_OK)
        rc = write_pem(cert_path, 0, NULL, cert);
out:
    if (rc == FG_ERR_CRYPTO)
        ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

fg_rc fg_tls_ensure_self_signed(const char *data_dir, const char *address, char *out_cert,
                                char *out_key)
{
    char dir[FG_PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/tls", data_dir) >= (int)sizeof dir ||
        snprintf(out_cert, FG_PATH_MAX, "%s/cert.pem", dir) >= (int)FG_PATH_MAX ||
        snprintf(out_key, FG_PATH_MAX, "%s/key.pem", dir) >= (int)FG_PATH_MAX)
        return FG_ERR_LIMIT;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return FG_ERR_IO;
    int have_cert = file_exists(out_cert), have_key = file_exists(out_key);
    if (have_cert && have_key)
        return FG_OK;
    if (have_cert != have_key) {
        fg_log(FG_LOG_ERROR, "tls.incomplete", FG_LF_STR("dir", dir),
               FG_LF_STR("reason", "one of cert.pem/key.pem is missing; refusing to replace"));
        return FG_ERR_CONFIG;
    }
    fg_rc rc = generate(out_cert, out_key, address);
    if (rc == FG_OK)
        fg_log(FG_LOG_WARN, "tls.self_signed", FG_LF_STR("cert", out_cert),
               FG_LF_STR("note", "generated a self-signed certificate; configure "
                                 "server.tls_cert/server.tls_key for production"));
    return rc;
}

fg_rc fg_tls_server_ctx(const char *cert_path, const char *key_path, SSL_CTX **out)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return FG_ERR_NOMEM;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        SSL_CTX_free(ctx);
        fg_log(FG_LOG_ERROR, "tls.load_failed", FG_LF_STR("cert", cert_path));
        return FG_ERR_CONFIG;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    *out = ctx;
    return FG_OK;
}
