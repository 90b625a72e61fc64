/*
 * keyring.h — the stored side of the key hierarchy: the rows of migration 0003
 * (keys_meta, keys_share_verifier, keys_keyring) and the wrapping of keyring keys under
 * the root key. Internal to keys/: everything else goes through keys.h.
 *
 * Wrapping: each keyring key (32 bytes; for `sign` the private key) is sealed with
 * fg_aead_seal(suite, root, random nonce, AAD = "keyring|<purpose>|<version>") and stored
 * as nonce + (ciphertext ‖ tag). The AAD ties a wrapped key to its purpose and version, so
 * a row copied to another purpose or version does not unwrap. The root verifier is
 * HMAC(suite hash, root, "finguard root verifier v1").
 *
 * Every function that touches the database takes an fg_conn: a write connection inside a
 * write intent, or a read lease. Nothing here locks or keeps state.
 */
#ifndef FG_KEYS_KEYRING_H
#define FG_KEYS_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/rc.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "keys/shares.h"
#include "store/store.h"

#define FG_KEYRING_WRAPPED_LEN (FG_KEY_LEN + FG_AEAD_TAG_LEN)

/* Instance facts (one row, written once by initialisation). */
struct fg_keyring_meta {
    enum fg_suite suite;
    unsigned threshold, shares;
    uint8_t root_verifier[FG_HASH_LEN];
    int64_t created_ms;
    unsigned verifier_count;
    struct fg_keyring_verifier {
        uint8_t index;
        uint8_t salt[FG_SHARE_SALT_LEN];
        uint8_t verifier[FG_HASH_LEN];
    } verifiers[FG_KEYS_SHARES_MAX];
};

/* One keyring row. The wrapped form is not secret (it is what the database holds). */
struct fg_keyring_row {
    enum fg_key_purpose purpose;
    uint32_t version;
    enum fg_key_state state;
    uint8_t nonce[FG_AEAD_NONCE_MAX];
    size_t nonce_len;                        /* 0 once destroyed */
    uint8_t wrapped[FG_KEYRING_WRAPPED_LEN]; /* ciphertext ‖ tag */
    uint8_t public_key[FG_SIGN_PUBLIC_MAX];  /* sign only */
    size_t public_len;
    int64_t created_ms, state_ms, destroyed_ms; /* destroyed_ms 0 unless destroyed */
};

/* *found = 0 when the instance was never initialised (meta untouched then). */
FG_MUST_CHECK fg_rc fg_keyring_load_meta(fg_conn *conn, struct fg_keyring_meta *meta, int *found);
/* Insert meta and verifiers; FG_ERR_CONFLICT if the instance is initialised already. */
FG_MUST_CHECK fg_rc fg_keyring_insert_meta(fg_conn *conn, const struct fg_keyring_meta *meta);

FG_MUST_CHECK fg_rc fg_keyring_insert(fg_conn *conn, const struct fg_keyring_row *row);
/* Visit rows (ORDER BY purpose, version); live_only skips destroyed versions. The row
 * passed to fn lives until fn returns; a non-FG_OK result stops and is returned. */
typedef fg_rc (*fg_keyring_row_fn)(void *ctx, const struct fg_keyring_row *row);
FG_MUST_CHECK fg_rc fg_keyring_each(fg_conn *conn, int live_only, fg_keyring_row_fn fn, void *ctx);
/* One row; *found = 0 if it does not exist. */
FG_MUST_CHECK fg_rc fg_keyring_get(fg_conn *conn, enum fg_key_purpose purpose, uint32_t version,
                                   struct fg_keyring_row *row, int *found);
/* Highest version ever used for purpose (destroyed included), and live versions. */
FG_MUST_CHECK fg_rc fg_keyring_versions(fg_conn *conn, enum fg_key_purpose purpose,
                                        uint32_t *max_version, unsigned *live);
/* active → decrypt_only for `version`; FG_ERR_CONFLICT unless exactly that row was active. */
FG_MUST_CHECK fg_rc fg_keyring_demote(fg_conn *conn, enum fg_key_purpose purpose, uint32_t version,
                                      int64_t now_ms);
/* Crypto-shred: drop nonce and wrapped key, state destroyed, destroyed_ms = now.
 * FG_ERR_CONFLICT unless the row was decrypt_only. */
FG_MUST_CHECK fg_rc fg_keyring_shred(fg_conn *conn, enum fg_key_purpose purpose, uint32_t version,
                                     int64_t now_ms);

/* Wrap key under root into row (purpose and version must be set; fills nonce, wrapped). */
FG_MUST_CHECK fg_rc fg_keyring_wrap(enum fg_suite suite, const uint8_t root[FG_KEY_LEN],
                                    const uint8_t key[FG_KEY_LEN], struct fg_keyring_row *row);
/* FG_ERR_CRYPTO if it does not authenticate (wrong root or tampered row). */
FG_MUST_CHECK fg_rc fg_keyring_unwrap(enum fg_suite suite, const uint8_t root[FG_KEY_LEN],
                                      const struct fg_keyring_row *row, uint8_t key[FG_KEY_LEN]);
FG_MUST_CHECK fg_rc fg_keyring_root_verifier(enum fg_suite suite, const uint8_t root[FG_KEY_LEN],
                                             uint8_t out[FG_HASH_LEN]);

#endif
