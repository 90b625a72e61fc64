/*
 * internal.h — what the files of src/crypto/ share, and nothing else may include.
 *
 * crypto.c fetches every OpenSSL algorithm once in fg_crypto_init() (explicit fetching:
 * a name lookup per call is slow in OpenSSL 3) and hands them out through
 * fg_crypto_algs(); fetched objects are immutable and safe to share between threads.
 * The SM4-CTR primitive is exposed here so the unit test can check SM4 itself against the
 * GB/T 32907 example through exactly the code the gm AEAD uses.
 */
#ifndef FG_CRYPTO_INTERNAL_H
#define FG_CRYPTO_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"

struct fg_crypto_algs {
    EVP_MD *sha256;
    EVP_MD *sm3;
    EVP_MAC *hmac;
    EVP_KDF *hkdf;
    EVP_CIPHER *aes_256_gcm;
    EVP_CIPHER *sm4_ctr;
    EC_GROUP *sm2_group; /* read-only after init */
};

/* 1 once fg_crypto_init() has succeeded. */
int fg_crypto_ready(void);
/* The fetched algorithms; asserts fg_crypto_ready(). */
const struct fg_crypto_algs *fg_crypto_algs(void);

/* Entry points that return fg_rc start with this: a programmer error in debug builds,
 * a refusal (never a NULL dereference inside OpenSSL) in release builds. */
#define FG_CRYPTO_REQUIRE_INIT()                                                                   \
    do {                                                                                           \
        assert(fg_crypto_ready());                                                                 \
        if (!fg_crypto_ready())                                                                    \
            return FG_ERR_INTERNAL;                                                                \
    } while (0)

/* Clears OpenSSL's per-thread error queue (so a failure here cannot be misreported by
 * unrelated code that later inspects it, e.g. TLS) and returns FG_ERR_CRYPTO. */
fg_rc fg_crypto_fail(void);

/* EVP_CipherUpdate over any length (EVP takes int lengths): in chunks, out may be NULL
 * (AAD). Stream modes only (GCM, CTR), where each update outputs exactly its input. */
FG_MUST_CHECK fg_rc fg_crypto_cipher_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in,
                                            size_t len);

#define FG_SM4_KEY_LEN 16
#define FG_SM4_BLOCK_LEN 16
/* SM4-CTR with a 128-bit big-endian counter starting at iv; in and out may be equal. */
FG_MUST_CHECK fg_rc fg_crypto_sm4_ctr(const uint8_t key[FG_SM4_KEY_LEN],
                                      const uint8_t iv[FG_SM4_BLOCK_LEN], const uint8_t *in,
                                      size_t len, uint8_t *out);

#endif
