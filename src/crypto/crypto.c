/*
 * crypto.c — initialisation, suites, randomness, memory, hashes, HMAC and HKDF (see
 * crypto.h; AEAD is in aead.c, signatures in sign.c, password hashing in pwhash.c).
 *
 * fg_crypto_init() runs crypto_init_once() under pthread_once: sodium_init(), then one
 * explicit fetch of every OpenSSL algorithm both suites need (SHA-256, SM3, HMAC, HKDF,
 * AES-256-GCM, SM4-CTR) plus the SM2 curve. The fetched objects live for the process and
 * are shared read-only by all threads; if anything is missing, init fails and keeps
 * failing. The result is published through an atomic flag that every entry point checks
 * (FG_CRYPTO_REQUIRE_INIT). Hashes are one EVP_Digest call; HMAC is EVP_MAC "HMAC" with
 * the digest name as a parameter, the one-shot form being begin/update/end on a context
 * of its own; HKDF is EVP_KDF "HKDF" in extract-and-expand mode. OpenSSL keeps its copies
 * of MAC and KDF keys inside its contexts and cleanses them when they are freed, which
 * every path here does. Randomness, wiping, constant-time comparison and locked memory
 * are libsodium's.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <sodium.h>

#include "crypto/internal.h"

/* EVP cipher updates take int lengths; 1 GiB chunks stay far below INT_MAX. */
#define CRYPTO_UPDATE_CHUNK (1 << 30)

struct fg_hmac_ctx {
    EVP_MAC_CTX *mac;
};

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static fg_rc crypto_init_rc = FG_ERR_INTERNAL;
static struct fg_crypto_algs crypto_algs;
static atomic_int crypto_ready_flag;

static void crypto_algs_free(struct fg_crypto_algs *a)
{
    EVP_MD_free(a->sha256);
    EVP_MD_free(a->sm3);
    EVP_MAC_free(a->hmac);
    EVP_KDF_free(a->hkdf);
    EVP_CIPHER_free(a->aes_256_gcm);
    EVP_CIPHER_free(a->sm4_ctr);
    EC_GROUP_free(a->sm2_group);
    memset(a, 0, sizeof *a);
}

static void crypto_init_once(void)
{
    if (sodium_init() < 0) {
        crypto_init_rc = FG_ERR_CRYPTO;
        return;
    }
    struct fg_crypto_algs *a = &crypto_algs;
    a->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    a->sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    a->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    a->hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    a->aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    a->sm4_ctr = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL);
    a->sm2_group = EC_GROUP_new_by_curve_name(NID_sm2);
    if (a->sha256 == NULL || a->sm3 == NULL || a->hmac == NULL || a->hkdf == NULL ||
        a->aes_256_gcm == NULL || a->sm4_ctr == NULL || a->sm2_group == NULL) {
        crypto_algs_free(a);
        crypto_init_rc = fg_crypto_fail();
        return;
    }
    assert(EVP_MD_get_size(a->sha256) == FG_HASH_LEN && EVP_MD_get_size(a->sm3) == FG_HASH_LEN);
    assert(EVP_CIPHER_get_key_length(a->aes_256_gcm) == FG_AEAD_KEY_LEN);
    assert(EVP_CIPHER_get_iv_length(a->sm4_ctr) == FG_SM4_BLOCK_LEN);
    crypto_init_rc = FG_OK;
    atomic_store_explicit(&crypto_ready_flag, 1, memory_order_release);
}

fg_rc fg_crypto_init(void)
{
    int rc = pthread_once(&crypto_once, crypto_init_once);
    assert(rc == 0);
    (void)rc;
    assert(crypto_init_rc != FG_OK || fg_crypto_ready());
    return crypto_init_rc;
}

int fg_crypto_ready(void)
{
    return atomic_load_explicit(&crypto_ready_flag, memory_order_acquire);
}

const struct fg_crypto_algs *fg_crypto_algs(void)
{
    assert(fg_crypto_ready());
    return &crypto_algs;
}

fg_rc fg_crypto_fail(void)
{
    ERR_clear_error();
    return FG_ERR_CRYPTO;
}

fg_rc fg_crypto_cipher_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
    assert(ctx != NULL);
    assert(in != NULL || len == 0);
    while (len > 0) {
        int chunk = len > CRYPTO_UPDATE_CHUNK ? CRYPTO_UPDATE_CHUNK : (int)len;
        int written = 0;
        if (EVP_CipherUpdate(ctx, out, &written, in, chunk) != 1)
            return fg_crypto_fail();
        if (out != NULL) {
            if (written != chunk) /* stream modes never hold bytes back */
                return fg_crypto_fail();
            out += chunk;
        }
        in += chunk;
        len -= (size_t)chunk;
    }
    return FG_OK;
}

/* ---- suites ------------------------------------------------------------------------------ */

fg_rc fg_suite_parse(const char *name, enum fg_suite *out)
{
    assert(name != NULL);
    assert(out != NULL);
    if (strcmp(name, "intl") == 0) {
        *out = FG_SUITE_INTL;
        return FG_OK;
    }
    if (strcmp(name, "gm") == 0) {
        *out = FG_SUITE_GM;
        return FG_OK;
    }
    return FG_ERR_INVALID;
}

const char *fg_suite_name(enum fg_suite suite)
{
    switch (suite) {
    case FG_SUITE_INTL:
        return "intl";
    case FG_SUITE_GM:
        return "gm";
    }
    assert(!"unknown suite");
    return "unknown";
}

enum fg_hash_alg fg_suite_hash(enum fg_suite suite)
{
    assert(suite == FG_SUITE_INTL || suite == FG_SUITE_GM);
    return suite == FG_SUITE_GM ? FG_HASH_SM3 : FG_HASH_SHA256;
}

/* ---- random, wiping, comparison, locked memory ------------------------------------------ */

fg_rc fg_random(void *buf, size_t n)
{
    assert(buf != NULL || n == 0);
    FG_CRYPTO_REQUIRE_INIT();
    if (n > 0)
        randombytes_buf(buf, n); /* aborts rather than return weak bytes */
    return FG_OK;
}

void fg_wipe(void *p, size_t n)
{
    assert(p != NULL || n == 0);
    if (n > 0)
        sodium_memzero(p, n);
}

uint64_t fg_shorthash(const uint8_t key[FG_SHORTHASH_KEY_LEN], const void *data, size_t len)
{
    _Static_assert(FG_SHORTHASH_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash key size");
    _Static_assert(crypto_shorthash_BYTES == 8, "SipHash output size");
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, data, len, key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

int fg_ct_equal(const void *a, const void *b, size_t n)
{
    assert((a != NULL && b != NULL) || n == 0);
    if (n == 0)
        return 1;
    return sodium_memcmp(a, b, n) == 0;
}

void *fg_secure_alloc(size_t n)
{
    assert(fg_crypto_ready()); /* sodium_malloc needs sodium_init's page size */
    if (!fg_crypto_ready())
        return NULL;
    return sodium_malloc(n);
}

void fg_secure_free(void *p)
{
    sodium_free(p); /* wipes, unlocks, frees; NULL is fine */
}

/* ---- hashes and MACs ---------------------------------------------------------------------- */

static const EVP_MD *crypto_md(enum fg_hash_alg alg)
{
    const struct fg_crypto_algs *a = fg_crypto_algs();
    switch (alg) {
    case FG_HASH_SHA256:
        return a->sha256;
    case FG_HASH_SM3:
        return a->sm3;
    }
    assert(!"unknown hash algorithm");
    return NULL;
}

/* The digest names EVP_MAC and EVP_KDF take as a parameter. */
static const char *crypto_md_name(enum fg_hash_alg alg)
{
    switch (alg) {
    case FG_HASH_SHA256:
        return "SHA2-256";
    case FG_HASH_SM3:
        return "SM3";
    }
    assert(!"unknown hash algorithm");
    return NULL;
}

fg_rc fg_hash(enum fg_hash_alg alg, const void *data, size_t len, uint8_t out[FG_HASH_LEN])
{
    assert(data != NULL || len == 0);
    assert(out != NULL);
    FG_CRYPTO_REQUIRE_INIT();
    const EVP_MD *md = crypto_md(alg);
    if (md == NULL)
        return FG_ERR_INVALID;
    unsigned int out_len = 0;
    if (EVP_Digest(len > 0 ? data : "", len, out, &out_len, md, NULL) != 1)
        return fg_crypto_fail();
    assert(out_len == FG_HASH_LEN);
    return FG_OK;
}

fg_rc fg_hmac_begin(enum fg_hash_alg alg, const void *key, size_t key_len, struct fg_hmac_ctx **out)
{
    assert(key != NULL || key_len == 0);
    assert(out != NULL);
    *out = NULL;
    FG_CRYPTO_REQUIRE_INIT();
    const char *md_name = crypto_md_name(alg);
    if (md_name == NULL)
        return FG_ERR_INVALID;
    struct fg_hmac_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return FG_ERR_NOMEM;
    ctx->mac = EVP_MAC_CTX_new(fg_crypto_algs()->hmac);
    if (ctx->mac == NULL) {
        free(ctx);
        return FG_ERR_NOMEM;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md_name, 0),
        OSSL_PARAM_construct_end(),
    };
    /* A NULL key means "keep the previous key" to EVP_MAC_init; an empty key is valid. */
    static const uint8_t empty_key[1];
    if (EVP_MAC_init(ctx->mac, key_len > 0 ? key : empty_key, key_len, params) != 1) {
        fg_hmac_abort(ctx);
        return fg_crypto_fail();
    }
    *out = ctx;
    return FG_OK;
}

fg_rc fg_hmac_update(struct fg_hmac_ctx *ctx, const void *data, size_t len)
{
    assert(ctx != NULL && ctx->mac != NULL);
    assert(data != NULL || len == 0);
    if (len == 0)
        return FG_OK;
    if (EVP_MAC_update(ctx->mac, data, len) != 1)
        return fg_crypto_fail();
    return FG_OK;
}

fg_rc fg_hmac_end(struct fg_hmac_ctx *ctx, uint8_t out[FG_HASH_LEN])
{
    assert(ctx != NULL && ctx->mac != NULL);
    assert(out != NULL);
    size_t out_len = 0;
    fg_rc rc = FG_OK;
    if (EVP_MAC_final(ctx->mac, out, &out_len, FG_HASH_LEN) != 1 || out_len != FG_HASH_LEN) {
        fg_wipe(out, FG_HASH_LEN);
        rc = fg_crypto_fail();
    }
    fg_hmac_abort(ctx);
    return rc;
}

void fg_hmac_abort(struct fg_hmac_ctx *ctx)
{
    if (ctx == NULL)
        return;
    EVP_MAC_CTX_free(ctx->mac); /* cleanses the keyed state */
    free(ctx);
}

fg_rc fg_hmac(enum fg_hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
              uint8_t out[FG_HASH_LEN])
{
    assert(data != NULL || len == 0);
    assert(out != NULL);
    struct fg_hmac_ctx *ctx = NULL;
    fg_rc rc = fg_hmac_begin(alg, key, key_len, &ctx);
    if (rc != FG_OK)
        return rc;
    rc = fg_hmac_update(ctx, data, len);
    if (rc != FG_OK) {
        fg_hmac_abort(ctx);
        return rc;
    }
    return fg_hmac_end(ctx, out);
}

fg_rc fg_hkdf(enum fg_hash_alg alg, const void *salt, size_t salt_len, const void *ikm,
              size_t ikm_len, const void *info, size_t info_len, uint8_t *out, size_t out_len)
{
    assert(salt != NULL || salt_len == 0);
    assert(ikm != NULL || ikm_len == 0);
    assert(info != NULL || info_len == 0);
    assert(out != NULL);
    FG_CRYPTO_REQUIRE_INIT();
    const char *md_name = crypto_md_name(alg);
    if (md_name == NULL || out_len == 0 || out_len > FG_CRYPTO_HKDF_OUT_MAX)
        return FG_ERR_INVALID;
    if (info_len > FG_CRYPTO_HKDF_INFO_MAX)
        return FG_ERR_LIMIT;
    EVP_KDF_CTX *kdf = EVP_KDF_CTX_new(fg_crypto_algs()->hkdf);
    if (kdf == NULL)
        return FG_ERR_NOMEM;
    static const uint8_t empty[1];
    OSSL_PARAM params[5];
    OSSL_PARAM *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name, 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                             (void *)(ikm_len > 0 ? ikm : empty), ikm_len);
    if (salt_len > 0) /* absent salt = HashLen zero bytes (RFC 5869 §2.2) */
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    assert(p < params + sizeof params / sizeof params[0]);
    fg_rc rc = FG_OK;
    if (EVP_KDF_derive(kdf, out, out_len, params) != 1) {
        fg_wipe(out, out_len);
        rc = fg_crypto_fail();
    }
    EVP_KDF_CTX_free(kdf); /* cleanses the key copy */
    return rc;
}
