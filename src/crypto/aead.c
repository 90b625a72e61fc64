/*
 * aead.c — authenticated encryption for both suites (see crypto.h and docs/crypto.md).
 *
 * intl is AES-256-GCM through EVP with a 12-byte nonce and a 16-byte tag. GCM decrypts
 * before it can check the tag, so open writes plaintext into the caller's buffer and
 * zeroes it again if EVP_DecryptFinal_ex rejects the tag; the caller never gets it.
 *
 * gm is SM4-CTR + HMAC-SM3, encrypt-then-MAC, because OpenSSL 3.0 as shipped by Debian 12
 * has no SM4-GCM (or SM4-CCM). From the one 32-byte key, HKDF-SM3 (no salt) derives a
 * 16-byte SM4 key and a 32-byte HMAC key under two distinct info labels, so the two
 * primitives never share key material. The nonce is the 16-byte initial counter block.
 * The tag is the first 16 bytes of
 *     HMAC-SM3(mac_key, be64(aad_len) ‖ aad ‖ nonce ‖ ct)
 * where the AAD length prefix makes the split between aad and the rest unambiguous (nonce
 * has a fixed length, ct runs to the end). open recomputes the tag over the ciphertext,
 * compares it in constant time and decrypts only if it matches. Subkeys and full MACs live
 * on the stack for one call and are wiped on every path.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/internal.h"

#define AEAD_GCM_NONCE_LEN 12
#define AEAD_GM_NONCE_LEN 16
#define AEAD_GM_MAC_KEY_LEN 32

/* HKDF info labels of the gm construction; changing one changes every ciphertext. */
static const char aead_gm_enc_label[] = "finguard aead gm v1 sm4-ctr key";
static const char aead_gm_mac_label[] = "finguard aead gm v1 hmac-sm3 key";

struct aead_gm_keys {
    uint8_t enc[FG_SM4_KEY_LEN];
    uint8_t mac[AEAD_GM_MAC_KEY_LEN];
};

size_t fg_aead_nonce_len(enum fg_suite suite)
{
    assert(suite == FG_SUITE_INTL || suite == FG_SUITE_GM);
    return suite == FG_SUITE_GM ? AEAD_GM_NONCE_LEN : AEAD_GCM_NONCE_LEN;
}

fg_rc fg_crypto_sm4_ctr(const uint8_t key[FG_SM4_KEY_LEN], const uint8_t iv[FG_SM4_BLOCK_LEN],
                        const uint8_t *in, size_t len, uint8_t *out)
{
    assert(key != NULL && iv != NULL);
    assert((in != NULL && out != NULL) || len == 0);
    FG_CRYPTO_REQUIRE_INIT();
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return FG_ERR_NOMEM;
    fg_rc rc = FG_OK;
    if (EVP_EncryptInit_ex2(ctx, fg_crypto_algs()->sm4_ctr, key, iv, NULL) != 1) {
        rc = fg_crypto_fail();
        goto out;
    }
    rc = fg_crypto_cipher_update(ctx, out, in, len);
out:
    EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
    return rc;
}

/* ---- intl: AES-256-GCM ---------------------------------------------------------------------- */

static fg_rc aead_gcm_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                           size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct,
                           uint8_t tag[FG_AEAD_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return FG_ERR_NOMEM;
    fg_rc rc = FG_OK;
    uint8_t final_block[16];
    int final_len = 0;
    if (EVP_EncryptInit_ex2(ctx, fg_crypto_algs()->aes_256_gcm, key, nonce, NULL) != 1) {
        rc = fg_crypto_fail();
        goto out;
    }
    assert(EVP_CIPHER_CTX_get_iv_length(ctx) == AEAD_GCM_NONCE_LEN);
    rc = fg_crypto_cipher_update(ctx, NULL, aad, aad_len);
    if (rc == FG_OK)
        rc = fg_crypto_cipher_update(ctx, ct, pt, pt_len);
    if (rc != FG_OK)
        goto out;
    if (EVP_EncryptFinal_ex(ctx, final_block, &final_len) != 1 || final_len != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, FG_AEAD_TAG_LEN, tag) != 1)
        rc = fg_crypto_fail();
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static fg_rc aead_gcm_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                           size_t aad_len, const uint8_t *ct, size_t ct_len,
                           const uint8_t tag[FG_AEAD_TAG_LEN], uint8_t *pt)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return FG_ERR_NOMEM;
    fg_rc rc = FG_OK;
    uint8_t tag_copy[FG_AEAD_TAG_LEN]; /* the ctrl takes a non-const pointer */
    memcpy(tag_copy, tag, sizeof tag_copy);
    uint8_t final_block[16];
    int final_len = 0;
    if (EVP_DecryptInit_ex2(ctx, fg_crypto_algs()->aes_256_gcm, key, nonce, NULL) != 1) {
        rc = fg_crypto_fail();
        goto out;
    }
    rc = fg_crypto_cipher_update(ctx, NULL, aad, aad_len);
    if (rc == FG_OK)
        rc = fg_crypto_cipher_update(ctx, pt, ct, ct_len);
    if (rc != FG_OK)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, FG_AEAD_TAG_LEN, tag_copy) != 1 ||
        EVP_DecryptFinal_ex(ctx, final_block, &final_len) != 1 || final_len != 0)
        rc = fg_crypto_fail();
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* ---- gm: SM4-CTR + HMAC-SM3 ----------------------------------------------------------------- */

static fg_rc aead_gm_derive(const uint8_t key[FG_AEAD_KEY_LEN], struct aead_gm_keys *k)
{
    fg_rc rc = fg_hkdf(FG_HASH_SM3, NULL, 0, key, FG_AEAD_KEY_LEN, aead_gm_enc_label,
                       sizeof aead_gm_enc_label - 1, k->enc, sizeof k->enc);
    if (rc == FG_OK)
        rc = fg_hkdf(FG_HASH_SM3, NULL, 0, key, FG_AEAD_KEY_LEN, aead_gm_mac_label,
                     sizeof aead_gm_mac_label - 1, k->mac, sizeof k->mac);
    return rc;
}

static fg_rc aead_gm_tag(const struct aead_gm_keys *k, const uint8_t *nonce, const uint8_t *aad,
                         size_t aad_len, const uint8_t *ct, size_t ct_len,
                         uint8_t tag[FG_AEAD_TAG_LEN])
{
    uint8_t aad_len_be[8];
    uint64_t n = aad_len;
    for (int i = 7; i >= 0; i--, n >>= 8)
        aad_len_be[i] = (uint8_t)n;
    struct fg_hmac_ctx *h = NULL;
    fg_rc rc = fg_hmac_begin(FG_HASH_SM3, k->mac, sizeof k->mac, &h);
    if (rc != FG_OK)
        return rc;
    if ((rc = fg_hmac_update(h, aad_len_be, sizeof aad_len_be)) != FG_OK ||
        (rc = fg_hmac_update(h, aad, aad_len)) != FG_OK ||
        (rc = fg_hmac_update(h, nonce, AEAD_GM_NONCE_LEN)) != FG_OK ||
        (rc = fg_hmac_update(h, ct, ct_len)) != FG_OK) {
        fg_hmac_abort(h);
        return rc;
    }
    uint8_t full[FG_HASH_LEN];
    rc = fg_hmac_end(h, full);
    memcpy(tag, full, FG_AEAD_TAG_LEN); /* HMAC truncated to 128 bits */
    fg_wipe(full, sizeof full);
    return rc;
}

static fg_rc aead_gm_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                          size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct,
                          uint8_t tag[FG_AEAD_TAG_LEN])
{
    struct aead_gm_keys k;
    fg_rc rc = aead_gm_derive(key, &k);
    if (rc == FG_OK)
        rc = fg_crypto_sm4_ctr(k.enc, nonce, pt, pt_len, ct);
    if (rc == FG_OK)
        rc = aead_gm_tag(&k, nonce, aad, aad_len, ct, pt_len, tag);
    fg_wipe(&k, sizeof k);
    return rc;
}

static fg_rc aead_gm_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                          size_t aad_len, const uint8_t *ct, size_t ct_len,
                          const uint8_t tag[FG_AEAD_TAG_LEN], uint8_t *pt)
{
    struct aead_gm_keys k;
    uint8_t expected[FG_AEAD_TAG_LEN];
    fg_rc rc = aead_gm_derive(key, &k);
    if (rc == FG_OK)
        rc = aead_gm_tag(&k, nonce, aad, aad_len, ct, ct_len, expected);
    if (rc == FG_OK && !fg_ct_equal(expected, tag, FG_AEAD_TAG_LEN))
        rc = FG_ERR_CRYPTO;
    if (rc == FG_OK) /* only now: no byte is decrypted under an unverified tag */
        rc = fg_crypto_sm4_ctr(k.enc, nonce, ct, ct_len, pt);
    fg_wipe(&k, sizeof k);
    fg_wipe(expected, sizeof expected);
    return rc;
}

/* ---- the façade --------------------------------------------------------------------------- */

fg_rc fg_aead_seal(enum fg_suite suite, const uint8_t key[FG_AEAD_KEY_LEN], const uint8_t *nonce,
                   const void *aad, size_t aad_len, const void *pt, size_t pt_len, uint8_t *ct,
                   uint8_t tag[FG_AEAD_TAG_LEN])
{
    assert(key != NULL && nonce != NULL && tag != NULL);
    assert(aad != NULL || aad_len == 0);
    assert((pt != NULL && ct != NULL) || pt_len == 0);
    FG_CRYPTO_REQUIRE_INIT();
    if (pt_len > FG_AEAD_PLAINTEXT_MAX)
        return FG_ERR_LIMIT;
    fg_rc rc;
    switch (suite) {
    case FG_SUITE_INTL:
        rc = aead_gcm_seal(key, nonce, aad, aad_len, pt, pt_len, ct, tag);
        break;
    case FG_SUITE_GM:
        rc = aead_gm_seal(key, nonce, aad, aad_len, pt, pt_len, ct, tag);
        break;
    default:
        assert(!"unknown suite");
        return FG_ERR_INVALID;
    }
    if (rc != FG_OK) {
        fg_wipe(ct, pt_len);
        fg_wipe(tag, FG_AEAD_TAG_LEN);
    }
    return rc;
}

fg_rc fg_aead_open(enum fg_suite suite, const uint8_t key[FG_AEAD_KEY_LEN], const uint8_t *nonce,
                   const void *aad, size_t aad_len, const void *ct, size_t ct_len,
                   const uint8_t tag[FG_AEAD_TAG_LEN], uint8_t *pt)
{
    assert(key != NULL && nonce != NULL && tag != NULL);
    assert(aad != NULL || aad_len == 0);
    assert((ct != NULL && pt != NULL) || ct_len == 0);
    FG_CRYPTO_REQUIRE_INIT();
    if (ct_len > FG_AEAD_PLAINTEXT_MAX)
        return FG_ERR_LIMIT;
    fg_rc rc;
    switch (suite) {
    case FG_SUITE_INTL:
        rc = aead_gcm_open(key, nonce, aad, aad_len, ct, ct_len, tag, pt);
        break;
    case FG_SUITE_GM:
        rc = aead_gm_open(key, nonce, aad, aad_len, ct, ct_len, tag, pt);
        break;
    default:
        assert(!"unknown suite");
        return FG_ERR_INVALID;
    }
    if (rc != FG_OK) {
        fg_wipe(pt, ct_len);
        rc = FG_ERR_CRYPTO; /* one answer for every failure: no oracle */
    }
    return rc;
}
