/*
 * keys.h — finguard's key hierarchy (ARCHITECTURE.md "Keys and encryption", docs/keys.md;
 * REQUIREMENTS ACC-2, ACC-4, DATA-1, DATA-2, GOV-3).
 *
 *   unseal shares (k of n, Shamir over GF(256))  →  root key (locked memory only)
 *   root key wraps → keyring: per purpose (pii, pan, index, token, audit, sign, backup)
 *                    versions 1, 2, ... each active | decrypt-only | destroyed
 *
 * Life of an instance:
 *   - Initialise once (fg_keys_init_* / fg_keys_init): a random 32-byte root key is split
 *     into n shares with threshold k (1 <= k <= n <= FG_KEYS_SHARES_MAX; k >= 2 unless
 *     n == 1); every purpose gets version 1; the shares are handed out once, as text, and
 *     never stored. The process is left unsealed.
 *   - Every later start is sealed: fg_keys_unseal_submit() takes shares one at a time (from
 *     different custodians, possibly over several requests); the k-th one reconstructs the
 *     root, which is checked against the root verifier, then the keyring is unwrapped into
 *     locked memory. fg_keys_seal() (and fg_keys_free()) wipe all of it.
 *   - Rotation adds version N+1 as active and demotes the old active to decrypt-only;
 *     protect/'s rewrap moves ciphertexts to the active version; a decrypt-only version no
 *     ciphertext uses can then be destroyed — with two distinct custodians' shares until
 *     the four-eyes approval mechanism exists — which drops its wrapped key from the
 *     database (crypto-shredding, ACC-4).
 *
 * Changes go through the store's writer as ONE write intent each, so the caller can attach
 * its audit record to the same transaction:
 *
 *     struct fg_keys_op *op;
 *     rc = fg_keys_rotate_prepare(k, FG_KEY_PII, &op, &problem);   // in memory only
 *     intent = {.fn = fg_keys_op_intent, .arg = op, .record = audit_record, ...};
 *     submit; in done (or after fg_store_write returned):
 *         if (intent.rc == FG_OK) rc = fg_keys_op_commit(k, op);   // publish in memory
 *         else problem = fg_keys_op_problem(op);                      // why, for the caller
 *     fg_keys_op_free(op);                                           // wipe; = abort if no commit
 *
 * The blocking helpers fg_keys_init / fg_keys_rotate / fg_keys_destroy do exactly this
 * with fg_store_write and no record (CLI tools, tests).
 *
 * Errors: FG_ERR_SEALED (keys are sealed), FG_ERR_INVALID (malformed input; for shares the
 * problem names what is wrong), FG_ERR_CRYPTO (a well-formed share of another instance, or a
 * share set that does not reconstruct the root), FG_ERR_CONFLICT (wrong state: initialised
 * twice, version in use, active version, prepared against a keyring that changed),
 * FG_ERR_PERMISSION (destroy without two distinct shares), FG_ERR_NOT_FOUND (no such or a
 * destroyed version), FG_ERR_LIMIT (too many live versions). Wherever a `problem` out-
 * parameter exists it receives a static, human sentence safe to log and to show (never
 * secret material) or NULL.
 *
 * Secrets: the root key, unwrapped keys and submitted shares live only in fg_secure_alloc
 * memory and are wiped on seal, on a failed unseal and in fg_keys_free(); they are never
 * logged. Share texts returned by initialisation live in the op's locked memory until
 * fg_keys_op_free(). Callers that copy keys or shares out (fg_keys_borrow, fg_keys_init)
 * keep them in locked memory and fg_wipe() them.
 *
 * Thread safety: every function is safe from any thread (a reader-writer lock; readers —
 * fg_keys_use, borrow, state — run in parallel). Functions that touch the database take a
 * read lease; none of them holds the lock while waiting for the database. fg_keys_op_intent
 * runs on the writer thread and does not take the lock. fg_keys_new() and fg_keys_free()
 * are not concurrent with anything else on the same fg_keys. One process owns an instance's
 * keyring: changes made by another process are seen after the next seal/unseal.
 */
#ifndef FG_KEYS_KEYS_H
#define FG_KEYS_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "crypto/crypto.h"
#include "store/store.h"

#define FG_KEY_LEN 32u /* every keyring key, the root key and a sign private key */
/* Share text including its NUL ("fg1-<index>-<43 base64url>-<8 hex>", 60 characters). */
#define FG_KEYS_SHARE_TEXT_MAX 64u

/* Purpose ids are stored in ciphertext headers (protect.h): never renumber. */
enum fg_key_purpose {
    FG_KEY_PII = 1,    /* field encryption of personal information (AEAD) */
    FG_KEY_PAN = 2,    /* card vault encryption (AEAD) */
    FG_KEY_INDEX = 3,  /* blind-index MAC for lookups */
    FG_KEY_TOKEN = 4,  /* token generation secret */
    FG_KEY_AUDIT = 5,  /* audit chain MAC */
    FG_KEY_SIGN = 6,   /* checkpoint signing (Ed25519 or SM2 private key) */
    FG_KEY_BACKUP = 7, /* backup encryption (AEAD) */
};
#define FG_KEY_PURPOSE_COUNT 7

enum fg_key_state { FG_KEY_ACTIVE = 1, FG_KEY_DECRYPT_ONLY = 2, FG_KEY_DESTROYED = 3 };

/* "pii", "pan", "index", "token", "audit", "sign", "backup"; NULL for anything else. */
const char *fg_key_purpose_name(enum fg_key_purpose purpose);
FG_MUST_CHECK fg_rc fg_key_purpose_parse(const char *name, enum fg_key_purpose *out);
/* "active", "decrypt-only", "destroyed"; NULL for anything else. */
const char *fg_key_state_name(enum fg_key_state state);

typedef struct fg_keys fg_keys;

/* Reads whether the instance behind `store` is initialised (and its suite, k, n, share
 * verifiers); starts sealed. The store must outlive k. */
FG_MUST_CHECK fg_rc fg_keys_new(fg_store *store, fg_keys **out);
/* Seal (wipe everything) and free. NULL is a no-op. */
void fg_keys_free(fg_keys *k);

/* ---- state, unseal, seal ----------------------------------------------------------------- */

struct fg_keys_state {
    int initialized;
    int sealed;          /* 1 until unsealed (always 1 when not initialised) */
    unsigned progress;   /* distinct valid shares submitted towards the next unseal */
    unsigned threshold;  /* k (0 when not initialised) */
    unsigned shares;     /* n (0 when not initialised) */
    enum fg_suite suite; /* 0 when not initialised */
};
void fg_keys_state(fg_keys *k, struct fg_keys_state *out);

/* Submit one share (NUL-terminated text; surrounding whitespace ignored). FG_OK when it was
 * accepted (or ignored: a duplicate index, or already unsealed); *st (may be NULL) then
 * tells progress and whether the keys are now unsealed. Failures:
 *   FG_ERR_CONFLICT  not initialised
 *   FG_ERR_INVALID   malformed or mistyped share ("share checksum mismatch ...")
 *   FG_ERR_CRYPTO    a well-formed share of another instance (progress kept), or the k-th
 *                    share completed a set that does not reconstruct the root (progress
 *                    reset, everything wiped)
 *   FG_ERR_CORRUPT   the root is right but the stored keyring does not unwrap (tampering) */
FG_MUST_CHECK fg_rc fg_keys_unseal_submit(fg_keys *k, const char *share_text,
                                          struct fg_keys_state *st, const char **problem);
/* Forget the shares submitted so far (wiped). */
void fg_keys_unseal_reset(fg_keys *k);
/* Wipe the root key, every unwrapped key and any unseal progress. Idempotent. */
void fg_keys_seal(fg_keys *k);

/* ---- development mode ---------------------------------------------------------------------- */
/* DEVELOPMENT ONLY — the root key on disk defeats split knowledge (DATA-2). The caller
 * enforces where this is allowed (loopback only) and warns at every start.
 * fg_keys_dev_enable: a later initialisation (fg_keys_op_commit) also writes the root key
 * to <data_dir>/dev-root.key (mode 0600, 32 raw bytes).
 * fg_keys_dev_unseal: unseal from that file. FG_ERR_NOT_FOUND if there is none,
 * FG_ERR_PERMISSION if group/others may access it, FG_ERR_CRYPTO if it is not this
 * instance's root, FG_ERR_CONFLICT if not initialised; FG_OK if already unsealed. */
FG_MUST_CHECK fg_rc fg_keys_dev_enable(fg_keys *k, const char *data_dir);
FG_MUST_CHECK fg_rc fg_keys_dev_unseal(fg_keys *k, const char *data_dir, const char **problem);
#define FG_KEYS_DEV_FILE "dev-root.key"

/* ---- changes as one write intent --------------------------------------------------------- */

struct fg_keys_op;

/* Initialisation: generates root, shares, verifiers and the whole keyring in memory. The
 * shares are readable through fg_keys_op_share() until fg_keys_op_free(). The intent
 * fails with FG_ERR_CONFLICT if the database is initialised already. */
FG_MUST_CHECK fg_rc fg_keys_init_prepare(fg_keys *k, enum fg_suite suite, unsigned shares,
                                         unsigned threshold, struct fg_keys_op **out,
                                         const char **problem);
/* Rotation (unsealed only): a new version max+1, wrapped under the root. The intent demotes
 * the current active version to decrypt-only and inserts the new one; FG_ERR_CONFLICT if
 * the keyring changed since prepare. */
FG_MUST_CHECK fg_rc fg_keys_rotate_prepare(fg_keys *k, enum fg_key_purpose purpose,
                                           struct fg_keys_op **out, const char **problem);
/* Destruction (sealed or unsealed): two shares of distinct custodians (indexes) that verify
 * against this instance. The intent refuses (FG_ERR_CONFLICT) an active, already destroyed
 * or still used version — usage is asked of every registered usage counter, in the same
 * transaction — and otherwise drops the wrapped key and records the destruction time. */
FG_MUST_CHECK fg_rc fg_keys_destroy_prepare(fg_keys *k, enum fg_key_purpose purpose,
                                            uint32_t version, const char *share_a,
                                            const char *share_b, struct fg_keys_op **out,
                                            const char **problem);

/* The write intent (an fg_intent_fn; arg is the op). Runs on the writer thread. */
FG_MUST_CHECK fg_rc fg_keys_op_intent(fg_conn *conn, void *op);
/* Call once the intent's batch committed with FG_OK: publishes the change in memory (init:
 * leaves k unsealed with the new keyring; rotate: the new version becomes active; destroy:
 * the version's key is wiped from memory). Does not block on the database, so it may run in
 * a done callback. Returns FG_ERR_IO if dev mode could not write dev-root.key (the keys are
 * published regardless). For init, hand the shares out whenever the intent succeeded, even
 * if commit fails: the database is initialised and only the shares can unseal it. */
FG_MUST_CHECK fg_rc fg_keys_op_commit(fg_keys *k, struct fg_keys_op *op);
/* Why the intent refused (static sentence) or NULL. */
const char *fg_keys_op_problem(const struct fg_keys_op *op);
/* Init: number of shares and share i as text (locked memory, valid until free). */
unsigned fg_keys_op_share_count(const struct fg_keys_op *op);
const char *fg_keys_op_share(const struct fg_keys_op *op, unsigned i);
/* Rotate: the new version; destroy: the destroyed version; init: 1. */
uint32_t fg_keys_op_version(const struct fg_keys_op *op);
enum fg_key_purpose fg_keys_op_purpose(const struct fg_keys_op *op); /* 0 for init */
/* Init only: a key of the pending keyring (version 1), for hooks that must use it inside the
 * same transaction before commit publishes it (e.g. the audit MAC of "sys.init"). */
FG_MUST_CHECK fg_rc fg_keys_op_key(const struct fg_keys_op *op, enum fg_key_purpose purpose,
                                   uint8_t out[FG_KEY_LEN]);
/* Wipe and free (after commit, or instead of it = abort). NULL is a no-op. */
void fg_keys_op_free(struct fg_keys_op *op);

/* Blocking helpers: prepare + fg_store_write(no record) + commit + free. Never from an event
 * loop. fg_keys_init copies the n share texts into share_text[0..shares). */
FG_MUST_CHECK fg_rc fg_keys_init(fg_keys *k, enum fg_suite suite, unsigned shares,
                                 unsigned threshold, char share_text[][FG_KEYS_SHARE_TEXT_MAX],
                                 const char **problem);
FG_MUST_CHECK fg_rc fg_keys_rotate(fg_keys *k, enum fg_key_purpose purpose, uint32_t *new_version,
                                   const char **problem);
FG_MUST_CHECK fg_rc fg_keys_destroy(fg_keys *k, enum fg_key_purpose purpose, uint32_t version,
                                    const char *share_a, const char *share_b, const char **problem);

/* ---- usage counters (asked before a destroy) -------------------------------------------- */
/* Adds to *count the ciphertexts (or other uses) of purpose/version visible through conn
 * (the writer's connection, inside the destroy intent). protect/ registers one with
 * fg_protect_attach(); audit/ and backups may add theirs. Without any counter, destroy is
 * refused: nobody could prove the version unused. */
typedef fg_rc (*fg_keys_usage_fn)(void *ctx, fg_conn *conn, enum fg_key_purpose purpose,
                                  uint32_t version, uint64_t *count);
FG_MUST_CHECK fg_rc fg_keys_add_usage_counter(fg_keys *k, fg_keys_usage_fn fn, void *ctx);

/* ---- the keyring, listed (no key material; works sealed) -------------------------------- */
struct fg_key_info {
    enum fg_key_purpose purpose;
    uint32_t version;
    enum fg_key_state state;
    int64_t created_ms;   /* Unix ms */
    int64_t state_ms;     /* when the state last changed */
    int64_t destroyed_ms; /* 0 unless destroyed */
    int64_t age_s;        /* now - created */
};
/* fn runs once per version (by purpose, then version) while a read lease is held: keep it
 * short and do not call back into the store. A non-FG_OK result stops and is returned. */
typedef fg_rc (*fg_keys_list_fn)(void *ctx, const struct fg_key_info *info);
FG_MUST_CHECK fg_rc fg_keys_list(fg_keys *k, fg_keys_list_fn fn, void *ctx);

/* ---- borrowing keys (audit/, protect/, backups) ---------------------------------------------- */
/* version 0 = the active version. FG_ERR_SEALED while sealed, FG_ERR_NOT_FOUND if that
 * version is destroyed or never existed (fg_keys_is_destroyed tells which). */

/* Runs fn with the key in locked memory, under the read lock: the key is never copied. fn
 * must be short and must not call fg_keys functions. Returns fn's result. */
typedef fg_rc (*fg_keys_use_fn)(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                                enum fg_suite suite);
FG_MUST_CHECK fg_rc fg_keys_use(fg_keys *k, enum fg_key_purpose purpose, uint32_t version,
                                fg_keys_use_fn fn, void *ctx);
/* Copies the key into out (the caller's locked memory; fg_wipe it after use). */
FG_MUST_CHECK fg_rc fg_keys_borrow(fg_keys *k, enum fg_key_purpose purpose, uint32_t version,
                                   uint8_t out[FG_KEY_LEN], uint32_t *version_out);
/* 1 if unsealed and `version` of purpose was destroyed (crypto-shredded). */
int fg_keys_is_destroyed(fg_keys *k, enum fg_key_purpose purpose, uint32_t version);
/* The sign public key of a version (0 = active), from the database: works sealed and for
 * destroyed versions (old signatures stay verifiable). The private key: fg_keys_use /
 * fg_keys_borrow with FG_KEY_SIGN. */
FG_MUST_CHECK fg_rc fg_keys_sign_public(fg_keys *k, uint32_t version,
                                        uint8_t pub[FG_SIGN_PUBLIC_MAX], size_t *pub_len,
                                        uint32_t *version_out);

#endif
