/*
 * crypto.h — the one cryptographic façade of finguard. Only src/crypto/ includes OpenSSL's
 * libcrypto or libsodium headers for cryptography; everything else calls these functions.
 * (TLS set-up in http/tls.c is transport, not data protection; see docs/ARCHITECTURE.md.)
 *
 * Two suites, chosen once at initialisation (REQUIREMENTS ACC-2: national algorithms
 * selectable):
 *   intl: AES-256-GCM, SHA-256, HMAC-SHA-256, HKDF-SHA-256, Ed25519
 *   gm:   SM4 authenticated (see fg_aead_* below and docs/crypto.md for the construction),
 *         SM3, HMAC-SM3, HKDF-SM3, SM2 signatures
 *
 * Conventions: every function returns fg_rc; FG_ERR_CRYPTO means "the operation failed
 * or the input did not authenticate" and never says why (no oracle). Output buffers are
 * the caller's, sized by the constants below. Secrets handed in are not copied except
 * into locked memory owned by this module; callers wipe their own copies with fg_wipe().
 * fg_crypto_init() must be called once before anything else (it is idempotent and
 * thread-safe); all other functions are thread-safe.
 */
#ifndef FG_CRYPTO_CRYPTO_H
#define FG_CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"

enum fg_suite { FG_SUITE_INTL = 1, FG_SUITE_GM = 2 };

/* Initialises libsodium and fetches every algorithm of both suites once; FG_ERR_CRYPTO if
 * any is missing from this OpenSSL (then nothing else may be called). Calling anything
 * before a successful init is an assertion in debug builds, FG_ERR_INTERNAL otherwise. */
FG_MUST_CHECK fg_rc fg_crypto_init(void);
/* "intl" | "gm" */
FG_MUST_CHECK fg_rc fg_suite_parse(const char *name, enum fg_suite *out);
const char *fg_suite_name(enum fg_suite suite);

/* ---- random, wiping, comparison, locked memory ---------------------------------------- */
FG_MUST_CHECK fg_rc fg_random(void *buf, size_t n);
void fg_wipe(void *p, size_t n);
/* 1 if equal; time depends only on n. */
int fg_ct_equal(const void *a, const void *b, size_t n);
/* Keyed 64-bit hash (SipHash-2-4) for hash tables fed by untrusted input (nonces, IPs):
 * without the key an attacker cannot aim many inputs at one bucket. Not a MAC. */
#define FG_SHORTHASH_KEY_LEN 16
uint64_t fg_shorthash(const uint8_t key[FG_SHORTHASH_KEY_LEN], const void *data, size_t len);
/* Locked (mlock), guarded memory for secrets; NULL on failure. fg_secure_free wipes. */
void *fg_secure_alloc(size_t n);
void fg_secure_free(void *p);

/* ---- hashes and MACs ------------------------------------------------------------------- */
enum fg_hash_alg { FG_HASH_SHA256 = 1, FG_HASH_SM3 = 2 };
#define FG_HASH_LEN 32 /* both SHA-256 and SM3 */
enum fg_hash_alg fg_suite_hash(enum fg_suite suite);

FG_MUST_CHECK fg_rc fg_hash(enum fg_hash_alg alg, const void *data, size_t len,
                            uint8_t out[FG_HASH_LEN]);
FG_MUST_CHECK fg_rc fg_hmac(enum fg_hash_alg alg, const void *key, size_t key_len,
                            const void *data, size_t len, uint8_t out[FG_HASH_LEN]);

/* Incremental HMAC (e.g. the audit chain: canonical record ‖ previous MAC). */
struct fg_hmac_ctx;
FG_MUST_CHECK fg_rc fg_hmac_begin(enum fg_hash_alg alg, const void *key, size_t key_len,
                                  struct fg_hmac_ctx **out);
FG_MUST_CHECK fg_rc fg_hmac_update(struct fg_hmac_ctx *ctx, const void *data, size_t len);
/* Writes the MAC and frees ctx (also on error). */
FG_MUST_CHECK fg_rc fg_hmac_end(struct fg_hmac_ctx *ctx, uint8_t out[FG_HASH_LEN]);
void fg_hmac_abort(struct fg_hmac_ctx *ctx);

/* RFC 5869 HKDF (extract + expand). 1 ≤ out_len ≤ 255 × 32 (else FG_ERR_INVALID); an empty
 * salt means the RFC's default (32 zero bytes); info_len ≤ FG_CRYPTO_HKDF_INFO_MAX (else
 * FG_ERR_LIMIT). out is zeroed on failure. */
#define FG_CRYPTO_HKDF_OUT_MAX (255u * FG_HASH_LEN)
/* OpenSSL 3.0 keeps HKDF info in a fixed 1024-byte buffer; our labels are a few dozen. */
#define FG_CRYPTO_HKDF_INFO_MAX 1024u
FG_MUST_CHECK fg_rc fg_hkdf(enum fg_hash_alg alg, const void *salt, size_t salt_len,
                            const void *ikm, size_t ikm_len, const void *info, size_t info_len,
                            uint8_t *out, size_t out_len);

/* ---- authenticated encryption ------------------------------------------------------------ */
#define FG_AEAD_KEY_LEN 32   /* one 32-byte key for both suites */
#define FG_AEAD_TAG_LEN 16
#define FG_AEAD_NONCE_MAX 16 /* intl: 12 (GCM), gm: see fg_aead_nonce_len() */
size_t fg_aead_nonce_len(enum fg_suite suite);
/* GCM's bound for one message (2^39 - 256 bits), applied to both suites: FG_ERR_LIMIT. */
#define FG_AEAD_PLAINTEXT_MAX ((1ull << 36) - 32)

/* ct has pt_len bytes (no expansion besides the separate tag). pt and ct may alias, which
 * means pt == ct exactly (partial overlap is not allowed). Nonces must never repeat under
 * one key: draw them with fg_random() (gm's 16 random bytes, intl's 12, are both safe for
 * any realistic number of messages per key version). On failure ct and tag are zeroed.
 * gm is SM4-CTR + HMAC-SM3 encrypt-then-MAC (this OpenSSL has no SM4-GCM): docs/crypto.md. */
FG_MUST_CHECK fg_rc fg_aead_seal(enum fg_suite suite, const uint8_t key[FG_AEAD_KEY_LEN],
                                 const uint8_t *nonce, const void *aad, size_t aad_len,
                                 const void *pt, size_t pt_len, uint8_t *ct,
                                 uint8_t tag[FG_AEAD_TAG_LEN]);
/* Verifies the tag before releasing any plaintext byte; on failure pt is zeroed and the
 * result is FG_ERR_CRYPTO (if pt aliases ct, the ciphertext is gone too). */
FG_MUST_CHECK fg_rc fg_aead_open(enum fg_suite suite, const uint8_t key[FG_AEAD_KEY_LEN],
                                 const uint8_t *nonce, const void *aad, size_t aad_len,
                                 const void *ct, size_t ct_len,
                                 const uint8_t tag[FG_AEAD_TAG_LEN], uint8_t *pt);

/* ---- signatures ---------------------------------------------------------------------------- */
#define FG_SIGN_PRIVATE_LEN 32 /* Ed25519 seed or SM2 private scalar */
#define FG_SIGN_PUBLIC_MAX 65  /* Ed25519: 32; SM2: 65 (uncompressed point 04‖x‖y) */
#define FG_SIGN_SIG_MAX 72     /* Ed25519: 64; SM2: DER, ≤ 72 */
/* SM2 signs SM3(Z ‖ msg) where Z binds the signer's identity; without an agreed ID we use
 * the default of GB/T 35276 / GM/T 0009: "1234567812345678". */
#define FG_SM2_DEFAULT_ID "1234567812345678"

/* An SM2 private scalar must lie in [1, n-2]; fg_sign_keygen only makes such keys, and
 * fg_sign_public / fg_sign refuse others with FG_ERR_CRYPTO (as they do any key that
 * OpenSSL will not load). fg_verify returns FG_ERR_CRYPTO for a wrong-sized or off-curve
 * public key and for a wrong-sized or non-DER signature, as for a wrong one. */

FG_MUST_CHECK fg_rc fg_sign_keygen(enum fg_suite suite, uint8_t priv[FG_SIGN_PRIVATE_LEN]);
FG_MUST_CHECK fg_rc fg_sign_public(enum fg_suite suite, const uint8_t priv[FG_SIGN_PRIVATE_LEN],
                                   uint8_t pub[FG_SIGN_PUBLIC_MAX], size_t *pub_len);
FG_MUST_CHECK fg_rc fg_sign(enum fg_suite suite, const uint8_t priv[FG_SIGN_PRIVATE_LEN],
                            const void *msg, size_t len, uint8_t sig[FG_SIGN_SIG_MAX],
                            size_t *sig_len);
/* FG_OK if valid, FG_ERR_CRYPTO otherwise. */
FG_MUST_CHECK fg_rc fg_verify(enum fg_suite suite, const uint8_t *pub, size_t pub_len,
                              const void *msg, size_t len, const uint8_t *sig, size_t sig_len);

/* ---- password hashing (Argon2id, libsodium crypto_pwhash_str) ------------------------------ */
#define FG_PWHASH_STR_MAX 128 /* including the NUL (crypto_pwhash_STRBYTES) */
/* Longest password we hash: passphrases are far shorter, and Argon2 reads all of it on
 * every attempt, so an unbounded one is a cheap denial of service. Longer: FG_ERR_INVALID. */
#define FG_CRYPTO_PASSWORD_MAX 1024u
/* Ceilings for parameters, ours and those read from a stored string (a string over them
 * is refused as FG_ERR_INVALID before any memory is allocated for it): 1 GiB is
 * libsodium's "sensitive" level, 16 passes and 16 lanes are far past any sane setting. */
#define FG_PWHASH_OPS_MAX 16u
#define FG_PWHASH_MEM_BYTES_MAX (1024u * 1024u * 1024u)
#define FG_PWHASH_LANES_MAX 16u
struct fg_pwhash_params {
    uint64_t ops;       /* iterations (t); default 2 */
    size_t mem_bytes;   /* memory; default 19 MiB; Argon2 counts whole KiB (rounded down) */
};
/* Parameters outside [1, FG_PWHASH_OPS_MAX] × [8 KiB, FG_PWHASH_MEM_BYTES_MAX], or a
 * password longer than FG_CRYPTO_PASSWORD_MAX: FG_ERR_INVALID. Lanes are always 1. */
extern const struct fg_pwhash_params fg_pwhash_default;
FG_MUST_CHECK fg_rc fg_pwhash(const struct fg_pwhash_params *p, const char *password,
                              size_t len, char out[FG_PWHASH_STR_MAX]);
/* FG_OK on match, FG_ERR_UNAUTHENTICATED on mismatch, FG_ERR_INVALID for a bad string (or
 * one over the ceilings above, or a password over FG_CRYPTO_PASSWORD_MAX), FG_ERR_NOMEM if
 * the string's memory cost cannot be allocated. */
FG_MUST_CHECK fg_rc fg_pwhash_verify(const char *stored, const char *password, size_t len);
/* 1 if stored was made with other parameters than p (or is not a valid Argon2id string). */
int fg_pwhash_needs_rehash(const struct fg_pwhash_params *p, const char *stored);

#endif
