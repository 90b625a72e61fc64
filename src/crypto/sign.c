/*
 * sign.c — Ed25519 (intl) and SM2 (gm) signatures from 32-byte private keys (see crypto.h).
 *
 * Keys are rebuilt as an EVP_PKEY for every call from the caller's 32 bytes, and freed
 * (OpenSSL cleanses private key material on free) before returning; nothing is cached.
 * Ed25519 keys are raw keys (EVP_PKEY_new_raw_private_key) and are signed in one shot
 * with EVP_DigestSign and no digest, as Ed25519 requires.
 *
 * An SM2 private key is a scalar d in [1, n-2] (n - 1 is excluded because SM2 signing
 * inverts 1 + d). The public point d·G is computed with EC_POINT_mul (OpenSSL's
 * Montgomery ladder for secret scalars) and both are imported with EVP_PKEY_fromdata as
 * an "SM2" key; d travels in a BN_secure_new() BIGNUM so OSSL_PARAM_free cleanses it.
 * Signing is EVP_DigestSign with SM3 over Z ‖ msg, where Z hashes the signer identity;
 * the identity must be set after EVP_DigestSignInit_ex — OpenSSL 3.0's SM2 provider
 * refuses a "distid" passed with the init parameters, and without one it does not use
 * the standard default ID — so both sign and verify call EVP_PKEY_CTX_set1_id()
 * with FG_SM2_DEFAULT_ID on the context DigestSignInit/DigestVerifyInit created. The GM/T
 * 0003.5 example signature in the unit test proves the two agree with the standard.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "crypto/internal.h"

#define SIGN_ED25519_PUBLIC_LEN 32
#define SIGN_ED25519_SIG_LEN 64
#define SIGN_SM2_PUBLIC_LEN 65
/* Random scalars outside [1, n-2] occur with probability ~2^-32; 64 misses in a row
 * means the random source is broken. */
#define SIGN_SM2_KEYGEN_TRIES 64

/* n - 2 for the SM2 curve (n = FFFFFFFE FFFFFFFF ... 39D54123, GB/T 32918.5). */
static const uint8_t sign_sm2_order_minus_2[FG_SIGN_PRIVATE_LEN] = {
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x21,
};

/* 1 if 1 <= d <= n - 2; time independent of d (big-endian subtraction, borrow only). */
static int sign_sm2_scalar_valid(const uint8_t d[FG_SIGN_PRIVATE_LEN])
{
    unsigned borrow = 0;
    unsigned any = 0;
    for (int i = FG_SIGN_PRIVATE_LEN - 1; i >= 0; i--) {
        unsigned diff = (unsigned)sign_sm2_order_minus_2[i] - d[i] - borrow;
        borrow = (diff >> 8) & 1u;
        any |= d[i];
    }
    return (borrow == 0) & (any != 0);
}

/* The SM2 key pair for d; pub (65 bytes, 04 ‖ x ‖ y) is written too. */
static fg_rc sign_sm2_key(const uint8_t d_bytes[FG_SIGN_PRIVATE_LEN],
                          uint8_t pub[SIGN_SM2_PUBLIC_LEN], EVP_PKEY **out)
{
    *out = NULL;
    if (!sign_sm2_scalar_valid(d_bytes))
        return FG_ERR_CRYPTO;
    const EC_GROUP *group = fg_crypto_algs()->sm2_group;
    fg_rc rc = FG_ERR_NOMEM;
    BIGNUM *d = BN_secure_new();
    EC_POINT *point = EC_POINT_new(group);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (d == NULL || point == NULL || bld == NULL || ctx == NULL)
        goto out;
    BN_set_flags(d, BN_FLG_CONSTTIME);
    rc = FG_ERR_CRYPTO;
    if (BN_bin2bn(d_bytes, FG_SIGN_PRIVATE_LEN, d) == NULL ||
        EC_POINT_mul(group, point, d, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub, SIGN_SM2_PUBLIC_LEN,
                           NULL) != SIGN_SM2_PUBLIC_LEN)
        goto out;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, SIGN_SM2_PUBLIC_LEN) !=
            1 ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto out;
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) != 1)
        goto out;
    rc = FG_OK;
out:
    if (rc != FG_OK) {
        fg_crypto_fail();
        fg_wipe(pub, SIGN_SM2_PUBLIC_LEN);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params); /* the secure block holding d is cleansed */
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(point);
    BN_clear_free(d);
    return rc;
}

static fg_rc sign_sm2_public_key(const uint8_t *pub, size_t pub_len, EVP_PKEY **out)
{
    *out = NULL;
    if (pub_len != SIGN_SM2_PUBLIC_LEN || pub[0] != POINT_CONVERSION_UNCOMPRESSED)
        return FG_ERR_CRYPTO;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (ctx == NULL)
        return FG_ERR_NOMEM;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, pub_len),
        OSSL_PARAM_construct_end(),
    };
    fg_rc rc = FG_OK;
    /* the import decodes the point and refuses one that is not on the curve */
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
        rc = fg_crypto_fail();
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* The private key for suite; for SM2 the public point is computed on the way. */
static fg_rc sign_private_key(enum fg_suite suite, const uint8_t priv[FG_SIGN_PRIVATE_LEN],
                              EVP_PKEY **out)
{
    *out = NULL;
    if (suite == FG_SUITE_GM) {
        uint8_t pub[SIGN_SM2_PUBLIC_LEN];
        return sign_sm2_key(priv, pub, out);
    }
    assert(suite == FG_SUITE_INTL);
    *out = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, priv, FG_SIGN_PRIVATE_LEN);
    return *out != NULL ? FG_OK : fg_crypto_fail();
}

fg_rc fg_sign_keygen(enum fg_suite suite, uint8_t priv[FG_SIGN_PRIVATE_LEN])
{
    assert(priv != NULL);
    FG_CRYPTO_REQUIRE_INIT();
    if (suite != FG_SUITE_INTL && suite != FG_SUITE_GM) {
        assert(!"unknown suite");
        return FG_ERR_INVALID;
    }
    for (int i = 0; i < SIGN_SM2_KEYGEN_TRIES; i++) {
        fg_rc rc = fg_random(priv, FG_SIGN_PRIVATE_LEN);
        if (rc != FG_OK)
            return rc;
        /* any 32 bytes are an Ed25519 seed */
        if (suite != FG_SUITE_GM || sign_sm2_scalar_valid(priv))
            return FG_OK;
    }
    fg_wipe(priv, FG_SIGN_PRIVATE_LEN);
    return FG_ERR_CRYPTO;
}

fg_rc fg_sign_public(enum fg_suite suite, const uint8_t priv[FG_SIGN_PRIVATE_LEN],
                     uint8_t pub[FG_SIGN_PUBLIC_MAX], size_t *pub_len)
{
    assert(priv != NULL && pub != NULL && pub_len != NULL);
    *pub_len = 0;
    FG_CRYPTO_REQUIRE_INIT();
    EVP_PKEY *pkey = NULL;
    fg_rc rc;
    if (suite == FG_SUITE_GM) {
        rc = sign_sm2_key(priv, pub, &pkey);
        if (rc == FG_OK)
            *pub_len = SIGN_SM2_PUBLIC_LEN;
    } else if (suite == FG_SUITE_INTL) {
        rc = sign_private_key(suite, priv, &pkey);
        size_t len = FG_SIGN_PUBLIC_MAX;
        if (rc == FG_OK &&
            (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != SIGN_ED25519_PUBLIC_LEN))
            rc = fg_crypto_fail();
        if (rc == FG_OK)
            *pub_len = len;
    } else {
        assert(!"unknown suite");
        return FG_ERR_INVALID;
    }
    EVP_PKEY_free(pkey);
    return rc;
}

/* DigestSign/Verify initialised for suite's scheme (SM3 + the SM2 ID, or pure Ed25519). */
static fg_rc sign_md_init(enum fg_suite suite, EVP_MD_CTX *md, EVP_PKEY *pkey, int verify)
{
    EVP_PKEY_CTX *pctx = NULL; /* owned by md */
    const char *digest = suite == FG_SUITE_GM ? "SM3" : NULL;
    int ok = verify ? EVP_DigestVerifyInit_ex(md, &pctx, digest, NULL, NULL, pkey, NULL)
                    : EVP_DigestSignInit_ex(md, &pctx, digest, NULL, NULL, pkey, NULL);
    if (ok != 1)
        return fg_crypto_fail();
    if (suite == FG_SUITE_GM &&
        EVP_PKEY_CTX_set1_id(pctx, FG_SM2_DEFAULT_ID, (int)strlen(FG_SM2_DEFAULT_ID)) != 1)
        return fg_crypto_fail();
    return FG_OK;
}

fg_rc fg_sign(enum fg_suite suite, const uint8_t priv[FG_SIGN_PRIVATE_LEN], const void *msg,
              size_t len, uint8_t sig[FG_SIGN_SIG_MAX], size_t *sig_len)
{
    assert(priv != NULL && sig != NULL && sig_len != NULL);
    assert(msg != NULL || len == 0);
    *sig_len = 0;
    FG_CRYPTO_REQUIRE_INIT();
    if (suite != FG_SUITE_INTL && suite != FG_SUITE_GM) {
        assert(!"unknown suite");
        return FG_ERR_INVALID;
    }
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    fg_rc rc = sign_private_key(suite, priv, &pkey);
    if (rc != FG_OK)
        goto out;
    md = EVP_MD_CTX_new();
    if (md == NULL) {
        rc = FG_ERR_NOMEM;
        goto out;
    }
    rc = sign_md_init(suite, md, pkey, 0);
    if (rc != FG_OK)
        goto out;
    size_t n = FG_SIGN_SIG_MAX;
    if (EVP_DigestSign(md, sig, &n, len > 0 ? msg : (const void *)"", len) != 1) {
        rc = fg_crypto_fail();
        goto out;
    }
    assert(n <= FG_SIGN_SIG_MAX);
    assert(suite != FG_SUITE_INTL || n == SIGN_ED25519_SIG_LEN);
    *sig_len = n;
out:
    if (rc != FG_OK)
        fg_wipe(sig, FG_SIGN_SIG_MAX);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return rc;
}

fg_rc fg_verify(enum fg_suite suite, const uint8_t *pub, size_t pub_len, const void *msg,
                size_t len, const uint8_t *sig, size_t sig_len)
{
    assert(pub != NULL && sig != NULL);
    assert(msg != NULL || len == 0);
    FG_CRYPTO_REQUIRE_INIT();
    EVP_PKEY *pkey = NULL;
    fg_rc rc;
    if (suite == FG_SUITE_GM) {
        if (sig_len > FG_SIGN_SIG_MAX)
            return FG_ERR_CRYPTO;
        rc = sign_sm2_public_key(pub, pub_len, &pkey);
    } else if (suite == FG_SUITE_INTL) {
        if (pub_len != SIGN_ED25519_PUBLIC_LEN || sig_len != SIGN_ED25519_SIG_LEN)
            return FG_ERR_CRYPTO;
        pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, pub, pub_len);
        rc = pkey != NULL ? FG_OK : fg_crypto_fail();
    } else {
        assert(!"unknown suite");
        return FG_ERR_INVALID;
    }
    if (rc != FG_OK)
        return FG_ERR_CRYPTO;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    rc = md != NULL ? sign_md_init(suite, md, pkey, 1) : FG_ERR_CRYPTO; /* no third answer */
    if (rc == FG_OK &&
        EVP_DigestVerify(md, sig, sig_len, len > 0 ? msg : (const void *)"", len) != 1)
        rc = fg_crypto_fail();
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return rc;
}
