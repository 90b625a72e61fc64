/*
 * protect.h — field encryption for services: the only way a service turns a sensitive value
 * into what it stores, and back (REQUIREMENTS ACC-2, ACC-4, DATA-1; docs/keys.md).
 *
 * Ciphertext format (binary, stored as a BLOB), version 1:
 *
 *     offset  size  field
 *     0       1     format version = 1
 *     1       1     suite id: 1 = intl (AES-256-GCM), 2 = gm (SM4 AEAD) — enum fg_suite
 *     2       1     purpose id (enum fg_key_purpose: pii = 1, pan = 2, backup = 7)
 *     3       4     key version, unsigned big-endian
 *     7       n     nonce, n = fg_aead_nonce_len(suite) (12 for intl; 12 or 16 for gm)
 *     7+n     len   ciphertext (as long as the plaintext)
 *     end-16  16    tag
 *
 * AAD = the 7 header bytes ‖ table ‖ 0x00 ‖ column ‖ 0x00 ‖ row id. So a ciphertext moved to
 * another row, column, table or purpose — or with any header byte changed — does not open
 * (FG_ERR_CRYPTO), and neither does one with a flipped bit anywhere. The nonce is random per
 * seal; rotating the key (keys.h) bounds how many messages one key ever sees.
 *
 * Opening errors: FG_ERR_SEALED (keys sealed), FG_ERR_NOT_FOUND (the key version the
 * ciphertext names has been destroyed: crypto-shredded, it can never be opened again — show
 * it as "key version destroyed"), FG_ERR_CRYPTO (anything else: tampered, moved, truncated,
 * unknown version — deliberately not more specific), FG_ERR_LIMIT (out is too small).
 *
 * Registry and rewrap: every column that holds protect ciphertexts is registered once at
 * start-up (fg_protect_register_column). The registry lets a destroy prove a key version
 * unused (fg_protect_attach installs fg_protect_count_version as a keys usage counter) and
 * lets fg_protect_rewrap move every registered ciphertext under an old version to the active
 * one, in write intents of bounded batches. Table and column names are SQL identifiers
 * ([a-z_][a-z0-9_]*, at most FG_PROTECT_NAME_MAX): they are the only thing spliced into SQL
 * (quoted), because identifiers cannot be bound; values always are.
 *
 * Blind index: fg_protect_index = HMAC(suite hash, index key, field ‖ 0x00 ‖ value), 32 bytes,
 * for equality lookups on encrypted fields. Rewrap cannot move blind indexes (they are
 * one-way): rotating the `index` purpose means recomputing them (fg_protect_index_version
 * reads the old ones meanwhile).
 *
 * Plaintext handed in and out is the caller's to keep in locked memory and wipe. Thread-safe.
 */
#ifndef FG_PROTECT_PROTECT_H
#define FG_PROTECT_PROTECT_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "store/store.h"

#define FG_PROTECT_FORMAT_V1 1u
#define FG_PROTECT_HEADER_LEN 7u
#define FG_PROTECT_OVERHEAD_MAX (FG_PROTECT_HEADER_LEN + FG_AEAD_NONCE_MAX + FG_AEAD_TAG_LEN)
/* Bytes out must have room for, for a plaintext of pt_len bytes (any suite). */
#define FG_PROTECT_SEALED_MAX(pt_len) ((pt_len) + FG_PROTECT_OVERHEAD_MAX)
#define FG_PROTECT_INDEX_LEN 32u

/* Encrypt pt (at most FG_PROTECT_PLAINTEXT_MAX bytes) for its place: purpose pii, pan or
 * backup; table, column and row_id non-empty NUL-terminated (names at most
 * FG_PROTECT_NAME_MAX, row id at most FG_PROTECT_ROW_ID_MAX bytes). Uses the purpose's
 * active key version. out must not overlap pt. */
FG_MUST_CHECK fg_rc fg_protect_seal(fg_keys *k, enum fg_key_purpose purpose, const char *table,
                                    const char *column, const char *row_id, const void *pt,
                                    size_t pt_len, uint8_t *out, size_t out_cap, size_t *out_len);
/* Decrypt a ciphertext of that exact place. out must not overlap ct; on any failure nothing
 * of the plaintext is left in out. */
FG_MUST_CHECK fg_rc fg_protect_open(fg_keys *k, enum fg_key_purpose purpose, const char *table,
                                    const char *column, const char *row_id, const uint8_t *ct,
                                    size_t ct_len, uint8_t *out, size_t out_cap, size_t *out_len);
/* The key version a ciphertext names (header only; no authentication). */
FG_MUST_CHECK fg_rc fg_protect_version_of(const uint8_t *ct, size_t ct_len, uint32_t *version);

/* Blind index under the active `index` key / a given version of it. value at most
 * FG_PROTECT_INDEX_VALUE_MAX bytes; field a non-empty name. */
FG_MUST_CHECK fg_rc fg_protect_index(fg_keys *k, const char *field, const void *value, size_t len,
                                     uint8_t out[FG_PROTECT_INDEX_LEN]);
FG_MUST_CHECK fg_rc fg_protect_index_version(fg_keys *k, uint32_t version, const char *field,
                                             const void *value, size_t len,
                                             uint8_t out[FG_PROTECT_INDEX_LEN]);

/* ---- registry, usage, rewrap -------------------------------------------------------------- */

/* Process-wide. id_column is the row id bound into AAD (INTEGER, or TEXT of at most
 * FG_PROTECT_ROW_ID_MAX bytes). FG_ERR_INVALID for a bad name or a non-AEAD purpose,
 * FG_ERR_CONFLICT if table.column is registered already, FG_ERR_LIMIT when full. */
FG_MUST_CHECK fg_rc fg_protect_register_column(const char *table, const char *id_column,
                                               const char *column, enum fg_key_purpose purpose);
/* Forget every registration (tests). */
void fg_protect_registry_clear(void);

/* Register fg_protect_count_version as a usage counter of k (destroy asks it). */
FG_MUST_CHECK fg_rc fg_protect_attach(fg_keys *k);

/* Ciphertexts of purpose under version in every registered column, through conn (a read
 * lease or the writer's connection). */
FG_MUST_CHECK fg_rc fg_protect_count_version(fg_conn *conn, enum fg_key_purpose purpose,
                                             uint32_t version, uint64_t *count);

struct fg_protect_rewrap_stats {
    uint64_t rewrapped; /* re-encrypted under the active version */
    uint64_t skipped;   /* could not be opened (destroyed version, tampered, not a BLOB) */
    uint64_t intents;   /* write intents run */
};
/* Re-encrypt every registered ciphertext whose key version is not the active one of its
 * purpose, `batch` rows per write intent (0 = FG_PROTECT_REWRAP_BATCH_DEFAULT, at most
 * FG_PROTECT_REWRAP_BATCH_MAX). Blocking (fg_store_write): run it from a worker or the CLI,
 * never from an event loop. Stops at the first failing intent (e.g. FG_ERR_SEALED); what
 * committed before stays rewrapped, and a rerun continues. */
FG_MUST_CHECK fg_rc fg_protect_rewrap(fg_keys *k, fg_store *store, unsigned batch,
                                      struct fg_protect_rewrap_stats *out);

#endif
