/*
 * audit.h — the tamper-evident audit log (REQUIREMENTS AUD-1..4, DATA-5; docs/audit.md).
 *
 * What it is. Every change (and every refused request) carries one `struct fg_audit_record`
 * that the store's writer appends to the table `audit_log` in the SAME transaction as the
 * change (ARCHITECTURE.md "The write path"): both commit or neither does. Records form a
 * MAC chain
 *
 *     MAC_n = HMAC(audit_key, canonical(record_n) ‖ MAC_{n-1}),   MAC_0 input = 32 zero bytes
 *
 * with the suite's hash (HMAC-SHA-256 for intl, HMAC-SM3 for gm). canonical() is the
 * length-prefixed encoding documented at fg_audit_canonical() below; it covers every field
 * including seq, time and the MAC key version, so no two records share an encoding.
 * Every FG_AUDIT_CHECKPOINT_RECORDS_DEFAULT records or FG_AUDIT_CHECKPOINT_INTERVAL_MS_DEFAULT
 * (whichever comes first, judged once per batch just before COMMIT) the log signs
 * (kind, suite, seq, time, MAC_seq) with the sign key into `audit_checkpoint`, and after
 * the commit appends the same checkpoint as one JSON line to an external *anchor file*
 * (fsync'd). Verification needs the MAC key(s) for the chain and only the PUBLIC key for
 * the checkpoints; the anchor file catches truncation of the tail.
 *
 * How a caller audits a change (the HTTP layer, a service, the CLI):
 *
 *     struct fg_audit_record rec;
 *     rc = fg_audit_record_init(&rec, &who, "keys.rotate", "key", key_id);   // result = ok
 *     rc = fg_audit_record_details(&rec, json, len);                        // redacted here
 *     intent.record = &rec;  fg_store_submit(store, &intent);                // asynchronous
 *   or
 *     rc = fg_audit_write(store, fn, arg, &rec);                             // blocking
 *
 * If the intent fails (its rc != FG_OK) while the record still says ok, the record is
 * stored as result=error with the rc's name as error code: a failed change is audited
 * too. A refused request (permission, policy, rate limit) is audited with a record that
 * says denied and an intent that changes nothing: fg_audit_write_denied(), or
 * `intent.fn = fg_audit_record_only` for asynchronous submitters.
 *
 * Ownership and threads. fg_audit_open() copies the key bytes into locked memory
 * (fg_secure_alloc) owned by the log and wiped by fg_audit_close(). fg_audit_attach()
 * installs the store hooks; from then on the log's chain state is touched only on the
 * store's writer thread (the writer is the only appender, so the chain needs no lock). A
 * record belongs to its submitter, who keeps it alive until the intent's done() ran; the
 * log writes rec->seq and rec->time_ms into it (both 0 again if the batch rolled back).
 * Shutdown order: fg_audit_checkpoint_now() (anchors the tail), fg_store_close() (drains
 * the writer; no hook runs after it returns), then fg_audit_close().
 *
 * Failure rules. A record that cannot be appended fails its whole batch (a change must
 * never commit without its record). If the committed chain is behind its last checkpoint
 * (database tail truncated or restored from an old copy while the anchor file is newer)
 * the log refuses to append (FG_ERR_CORRUPT, logged as audit.head_behind_checkpoint) until
 * an operator resolves it; appending would reuse sequence numbers a signature covers.
 */
#ifndef FG_AUDIT_AUDIT_H
#define FG_AUDIT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "crypto/crypto.h"
#include "store/store.h"

/* ---- limits (bytes, excluding the NUL) --------------------------------------------------- */
/* Echoed X-Request-Id values are at most FG_HTTP_REQUEST_ID_MAX (64); minted ones shorter. */
#define FG_AUDIT_REQUEST_ID_MAX 64u
/* User / service ids are short opaque strings (UUID text is 36). */
#define FG_AUDIT_ACTOR_ID_MAX 64u
/* Role names ("security_admin", "auditor", ...). */
#define FG_AUDIT_ACTOR_ROLE_MAX 32u
/* The longest IPv6 text form (IPv4-mapped, INET6_ADDRSTRLEN - 1). */
#define FG_AUDIT_SOURCE_IP_MAX 45u
/* Device fingerprints / ids from clients are hashed or short; 128 leaves room for hex. */
#define FG_AUDIT_DEVICE_ID_MAX 128u
/* Action names are dotted identifiers: "sys.init", "keys.rotate", "diag.write". */
#define FG_AUDIT_ACTION_MAX 64u
/* Object types are table-like names: "user", "account", "key", "audit_log". */
#define FG_AUDIT_OBJECT_TYPE_MAX 32u
/* Object ids: row ids, UUIDs, composite "account/123/limit"; never a PAN or ID number. */
#define FG_AUDIT_OBJECT_ID_MAX 128u
/* fg_rc_name() values ("FG_ERR_PERMISSION") or a service's short code. */
#define FG_AUDIT_ERROR_CODE_MAX 32u
/* Details: one small JSON object (before/after of a change, reason). Bulk data does not
 * belong in an audit record; 2 KiB keeps a record well under one database page. */
#define FG_AUDIT_DETAILS_MAX 2048u
/* Nesting of details objects/arrays: before/after of a record is ~3 deep. */
#define FG_AUDIT_DETAILS_DEPTH_MAX 8u
/* The largest canonical encoding: 22 fixed bytes + 10 length prefixes + every field at
 * its maximum. Stack buffers of this size are fine. */
#define FG_AUDIT_CANONICAL_MAX                                                                     \
    (22u + 10u * 4u + FG_AUDIT_REQUEST_ID_MAX + FG_AUDIT_ACTOR_ID_MAX + FG_AUDIT_ACTOR_ROLE_MAX +  \
     FG_AUDIT_SOURCE_IP_MAX + FG_AUDIT_DEVICE_ID_MAX + FG_AUDIT_ACTION_MAX +                       \
     FG_AUDIT_OBJECT_TYPE_MAX + FG_AUDIT_OBJECT_ID_MAX + FG_AUDIT_ERROR_CODE_MAX +                 \
     FG_AUDIT_DETAILS_MAX)
/* Checkpoints: every N records or T milliseconds, whichever first (evaluated per batch).
 * N bounds the records an attacker could cut from the tail unnoticed between anchors;
 * T bounds it in time on a quiet system. Ceilings keep operators from disabling them. */
#define FG_AUDIT_CHECKPOINT_RECORDS_DEFAULT 1000u
#define FG_AUDIT_CHECKPOINT_RECORDS_MAX 1000000u
#define FG_AUDIT_CHECKPOINT_INTERVAL_MS_DEFAULT 60000
#define FG_AUDIT_CHECKPOINT_INTERVAL_MS_MAX (24 * 3600 * 1000)
/* Retention (AUD-3): audit records are kept at least 180 days — the shortest period the
 * requirements allow for any record — and by default one year (audit logs). */
#define FG_AUDIT_RETENTION_MIN_DAYS 180
#define FG_AUDIT_RETENTION_DEFAULT_DAYS 365
/* Rows one fg_audit_expire() call deletes (and re-verifies first): one call runs inside
 * one writer transaction, which must stay short; call again while `more` is set. */
#define FG_AUDIT_EXPIRE_ROWS_MAX 100000
/* Verification pipelines reading and MAC'ing (walk.c): rows are encoded into batches that
 * one worker thread MACs while the next batch is read. These bound its memory (~1.5 MiB)
 * whatever the number of records. */
#define FG_AUDIT_VERIFY_BATCHES 4u
#define FG_AUDIT_VERIFY_BATCH_RECORDS 1024u
#define FG_AUDIT_VERIFY_BATCH_BYTES (256u * 1024u)
/* One anchor-file line (a checkpoint as JSON is ~330 bytes with an SM2 signature). */
#define FG_AUDIT_ANCHOR_LINE_MAX 1024u
/* Key versions a verifier can be given (rotation keeps old versions for verification). */
#define FG_AUDIT_MAC_KEYS_MAX 16u
#define FG_AUDIT_PUBLIC_KEYS_MAX 16u
/* MAC key bytes: at least the hash length, at most one hash block. */
#define FG_AUDIT_MAC_KEY_MIN 32u
#define FG_AUDIT_MAC_KEY_MAX 64u

/* ---- records ----------------------------------------------------------------------------- */

enum fg_audit_result {
    FG_AUDIT_RESULT_OK = 1,
    FG_AUDIT_RESULT_DENIED = 2,
    FG_AUDIT_RESULT_ERROR = 3
};
/* "ok" | "denied" | "error" (the text stored in audit_log.result). */
const char *fg_audit_result_name(enum fg_audit_result result);

/* Who did it, from the request context. NULL members mean "" (unknown / not applicable). */
struct fg_audit_actor {
    const char *request_id;
    const char *actor_id;
    const char *actor_role;
    const char *source_ip;
    const char *device_id;
};

/* One audit record (AUD-1). Fill it only through fg_audit_record_*() (they enforce the
 * limits and the redaction rule); read any member. Text members are NUL-terminated. */
struct fg_audit_record {
    int64_t seq;     /* assigned by the log when appended; 0 before, or after a rollback */
    int64_t time_ms; /* UTC Unix ms (fg_time_wall_ms) when appended; 0 likewise */
    char request_id[FG_AUDIT_REQUEST_ID_MAX + 1];
    char actor_id[FG_AUDIT_ACTOR_ID_MAX + 1];
    char actor_role[FG_AUDIT_ACTOR_ROLE_MAX + 1];
    char source_ip[FG_AUDIT_SOURCE_IP_MAX + 1];
    char device_id[FG_AUDIT_DEVICE_ID_MAX + 1];
    char action[FG_AUDIT_ACTION_MAX + 1];
    char object_type[FG_AUDIT_OBJECT_TYPE_MAX + 1];
    char object_id[FG_AUDIT_OBJECT_ID_MAX + 1];
    enum fg_audit_result result;
    char error_code[FG_AUDIT_ERROR_CODE_MAX + 1]; /* "" when result is ok */
    char details[FG_AUDIT_DETAILS_MAX + 1];       /* a redacted JSON object ("{}" if none) */
    int details_redacted_;                        /* private: details passed the redactor */
    struct fg_audit_record *next_;                /* private: the log's per-batch list */
};

/* Start a record: result ok, details "{}". `who` may be NULL (system actions). action is
 * a dotted name of [a-z0-9_.-] (FG_ERR_INVALID otherwise, or if empty); object_type and
 * object_id may be NULL (""). FG_ERR_TOO_LARGE if a value exceeds its limit. */
FG_MUST_CHECK fg_rc fg_audit_record_init(struct fg_audit_record *rec,
                                         const struct fg_audit_actor *who, const char *action,
                                         const char *object_type, const char *object_id);
/* Set details from JSON object text, through the redactor (fg_audit_redact). On error
 * (FG_ERR_INVALID, FG_ERR_LIMIT, FG_ERR_TOO_LARGE) the record's details are unchanged. */
FG_MUST_CHECK fg_rc fg_audit_record_details(struct fg_audit_record *rec, const char *json,
                                            size_t len);
/* Set the result; code is the reason for denied/error (its fg_rc_name() is stored) and is
 * ignored (stored as "") for ok. */
void fg_audit_record_result(struct fg_audit_record *rec, enum fg_audit_result result, fg_rc code);

/* ---- redaction --------------------------------------------------------------------------- */

/* The redaction rule. Every object member whose key contains (ASCII case-insensitive) one
 * of: password, secret, token, otp, key, pan, id_number, share, cvv, signature, nonce,
 * cookie, authorization — at any depth, in objects inside arrays too — has its whole value
 * replaced by the string "[redacted]". Substring matching errs towards redaction
 * ("company" contains "pan": rename such a key). In addition any string VALUE that looks
 * like a payment card number (13-19 digits, spaces or dashes allowed, Luhn-valid) or a PRC
 * resident ID number (17 digits + digit/X, ISO 7064 check) is replaced, whatever its key.
 * Input: one JSON object, ≤ FG_AUDIT_DETAILS_MAX bytes, ≤ FG_AUDIT_DETAILS_DEPTH_MAX deep,
 * valid UTF-8, no duplicate keys. Output: compact JSON (members in input order), NUL-
 * terminated, into out[out_cap]; FG_ERR_TOO_LARGE if it does not fit or exceeds
 * FG_AUDIT_DETAILS_MAX. Errors: FG_ERR_INVALID (not such an object), FG_ERR_LIMIT (depth). */
FG_MUST_CHECK fg_rc fg_audit_redact(const char *json, size_t len, char *out, size_t out_cap,
                                    size_t *out_len);
/* 1 if a member with this key is redacted by the key rule. */
int fg_audit_key_is_sensitive(const char *key, size_t len);

/* ---- canonical encoding ------------------------------------------------------------------ */

/* canonical(record) — the bytes the chain MACs, in this order, integers big-endian:
 *   u8  format (1)
 *   u64 seq            i64 time_ms         u32 key_version        u8 result (1/2/3)
 *   then 10 text fields, each u32 length ‖ bytes: request_id, actor_id, actor_role,
 *   source_ip, device_id, action, object_type, object_id, error_code, details.
 * Fixed-width integers and length-prefixed strings in a fixed order make the encoding
 * injective. Uses rec->seq and rec->time_ms. FG_ERR_TOO_LARGE if cap is too small
 * (FG_AUDIT_CANONICAL_MAX always suffices for a record built by fg_audit_record_*). */
FG_MUST_CHECK fg_rc fg_audit_canonical(const struct fg_audit_record *rec, uint32_t key_version,
                                       uint8_t *out, size_t cap, size_t *len);

/* ---- keys -------------------------------------------------------------------------------- */

struct fg_audit_mac_key {
    uint32_t version;
    const uint8_t *key;
    size_t len; /* FG_AUDIT_MAC_KEY_MIN..FG_AUDIT_MAC_KEY_MAX */
};

struct fg_audit_public_key {
    uint32_t version;
    const uint8_t *key; /* Ed25519: 32 bytes; SM2: 65 (04‖x‖y) */
    size_t len;
};

/* Key material as the keyring hands it over after unseal. The log copies what it keeps;
 * the caller wipes its own copies (fg_wipe). */
struct fg_audit_keys {
    enum fg_suite suite;
    /* Audit-chain MAC keys by version. New records use the highest version; verification
     * and retention use whichever version a record names. 1..FG_AUDIT_MAC_KEYS_MAX. */
    const struct fg_audit_mac_key *mac_keys;
    size_t mac_key_count;
    /* The checkpoint signing key (fg_audit_open only; NULL for verification). */
    const uint8_t *sign_private; /* FG_SIGN_PRIVATE_LEN bytes */
    uint32_t sign_version;
    /* Public keys by version, for checking checkpoints (the one of sign_version is
     * required by fg_audit_open, which checks it matches the private key).
     * 1..FG_AUDIT_PUBLIC_KEYS_MAX. */
    const struct fg_audit_public_key *public_keys;
    size_t public_key_count;
};

/* ---- the log ----------------------------------------------------------------------------- */

typedef struct fg_audit_log fg_audit_log;

struct fg_audit_options {
    struct fg_audit_keys keys;
    /* Anchor file (e.g. DATA_DIR/audit-anchor.jsonl; ideally on other storage, shipped
     * off-box). Created 0600 if missing. NULL: no anchor — tail truncation after the last
     * in-database checkpoint goes unnoticed; for tests only. */
    const char *anchor_path;
    uint32_t checkpoint_records;    /* 0 → FG_AUDIT_CHECKPOINT_RECORDS_DEFAULT */
    int64_t checkpoint_interval_ms; /* 0 → FG_AUDIT_CHECKPOINT_INTERVAL_MS_DEFAULT */
};

/* Validate and copy the keys (locked memory), check the key pair signs and verifies,
 * open the anchor file. FG_ERR_INVALID (bad options), FG_ERR_LIMIT, FG_ERR_CRYPTO (the
 * public key does not match the private key), FG_ERR_IO (anchor), FG_ERR_NOMEM. */
FG_MUST_CHECK fg_rc fg_audit_open(const struct fg_audit_options *opt, fg_audit_log **out);
/* Install the hooks on the store (from its next batch). The chain head is loaded from the
 * database lazily, on the writer thread, inside the first batch that needs it. */
void fg_audit_attach(fg_store *store, fg_audit_log *log);
/* The same hooks as a struct, for a chain (e.g. the outbox runs after the audit log). */
void fg_audit_hooks(fg_audit_log *log, struct fg_store_hooks *out);
/* Wipe and free. The store must be closed (or the hooks replaced and a batch completed)
 * before. NULL is a no-op. */
void fg_audit_close(fg_audit_log *log);

/* The seq of the last committed record (0 if none yet or not yet loaded). Any thread. */
int64_t fg_audit_committed_seq(const fg_audit_log *log);
/* Anchor lines that could not be written since open (each is logged). Any thread. */
uint64_t fg_audit_anchor_failures(const fg_audit_log *log);

/* ---- writing ----------------------------------------------------------------------------- */

/* An intent function that changes nothing: for records of refused requests. */
fg_rc fg_audit_record_only(fg_conn *conn, void *arg);

/* Submit fn(arg) with rec attached and wait for its batch (fg_store_write with a record;
 * never from an event loop). Returns the intent's result, or the batch's error. */
FG_MUST_CHECK fg_rc fg_audit_write(fg_store *store, fg_intent_fn fn, void *arg,
                                   struct fg_audit_record *rec);
/* Audit a refused request: sets rec's result to denied with `why`, and appends it through
 * a no-op intent. FG_OK once the record is committed. */
FG_MUST_CHECK fg_rc fg_audit_write_denied(fg_store *store, struct fg_audit_record *rec, fg_rc why);
/* Make the next batch end with a checkpoint if records were appended since the last one,
 * and wait for it (anchors the tail; call before shutdown and before backups). */
FG_MUST_CHECK fg_rc fg_audit_checkpoint_now(fg_store *store, fg_audit_log *log);

/* ---- retention (AUD-3) ------------------------------------------------------------------- */

struct fg_audit_expire_result {
    int64_t cut_seq;    /* the last deleted seq (0 if nothing was deleted) */
    int64_t deleted;    /* records deleted by this call */
    int more;           /* 1 if more expired records remain (FG_AUDIT_EXPIRE_ROWS_MAX) */
    int64_t record_seq; /* seq of the "audit.expire" record of this call */
};

/* Delete the records older than `older_than_ms` (an age: 0 → FG_AUDIT_RETENTION_DEFAULT_DAYS;
 * below FG_AUDIT_RETENTION_MIN_DAYS → FG_ERR_POLICY, audited as denied). Only a prefix of
 * the chain is ever cut: records up to the first one that is not old enough. In one
 * writer transaction it (1) re-verifies the chain over the records to delete
 * (FG_ERR_CORRUPT and nothing deleted if it does not verify — expiry never launders
 * tampering), (2) writes a signed *retention checkpoint* (seq and MAC of the last deleted
 * record) so verification starts from the cut, (3) deletes at most FG_AUDIT_EXPIRE_ROWS_MAX
 * records and the ordinary checkpoints they cover, and (4) appends an "audit.expire"
 * record (actor `who`, NULL = system) with the counts. Blocking; not from an event loop. */
FG_MUST_CHECK fg_rc fg_audit_expire(fg_store *store, fg_audit_log *log, int64_t older_than_ms,
                                    const struct fg_audit_actor *who,
                                    struct fg_audit_expire_result *out);

/* ---- verification (AUD-2, AUD-4) --------------------------------------------------------- */

enum fg_audit_problem {
    FG_AUDIT_INTACT = 0,
    FG_AUDIT_GAP,                  /* record first_bad_seq is missing (deleted) */
    FG_AUDIT_UNEXPECTED,           /* a record exists before the chain's start */
    FG_AUDIT_MALFORMED,            /* a record field has a wrong type, length or value */
    FG_AUDIT_BAD_MAC,              /* the record's MAC does not continue the chain:
                                    * modified, inserted, swapped or forged */
    FG_AUDIT_UNKNOWN_KEY,          /* the record names a MAC key version not given */
    FG_AUDIT_CHECKPOINT_MALFORMED, /* a checkpoint row cannot be read */
    FG_AUDIT_CHECKPOINT_SIGNATURE, /* a checkpoint's signature does not verify */
    FG_AUDIT_CHECKPOINT_MISMATCH,  /* a validly signed checkpoint disagrees with the chain */
    FG_AUDIT_TRUNCATED,            /* records a signed checkpoint covers are missing at the
                                    * tail; first_bad_seq is the first missing one */
    FG_AUDIT_ANCHOR_MALFORMED,     /* an anchor-file line cannot be read (anchor_line_bad) */
};
const char *fg_audit_problem_name(enum fg_audit_problem problem);

struct fg_audit_report {
    enum fg_audit_problem problem; /* the problem at first_bad_seq */
    int64_t first_bad_seq;         /* the lowest seq at which anything is wrong; 0 if intact
                                    * (or for a malformed anchor line, whose seq is unknown) */
    int64_t start_seq;             /* where the chain starts: 1, or the retention cut + 1 */
    int64_t last_seq;              /* last record verified (start_seq - 1 if none) */
    uint64_t records;              /* records verified */
    uint64_t canonical_bytes;      /* canonical bytes MAC'd */
    uint64_t checkpoints;          /* database checkpoints checked */
    uint64_t anchor_lines;         /* anchor-file checkpoints checked */
    int64_t anchor_line_bad;       /* 1-based line of the bad anchor line, else 0 */
    int anchor_partial;            /* a last line without newline was ignored (torn write) */
};

/* Verify the whole log through `conn` (a read lease or any connection; runs in one read
 * transaction, so a live database is seen as one snapshot): walks audit_log in seq order
 * recomputing the chain from the start (retention cut or seq 1), checks the signature of
 * every checkpoint in audit_checkpoint and in the anchor file (NULL: none) and that each
 * agrees with the chain, and that no signed checkpoint lies beyond the last record.
 * Streaming: constant memory whatever the number of records. `keys` needs the MAC keys
 * and public keys (no private key). Returns FG_OK if intact, FG_ERR_CORRUPT if not (the
 * report says where and what), other codes if verification could not run (report.problem
 * is then FG_AUDIT_INTACT and means nothing). */
FG_MUST_CHECK fg_rc fg_audit_verify(fg_conn *conn, const struct fg_audit_keys *keys,
                                    const char *anchor_path, struct fg_audit_report *out);
/* The same, offline: opens the database file read-only (the server may be stopped). */
FG_MUST_CHECK fg_rc fg_audit_verify_file(const char *db_path, const struct fg_audit_keys *keys,
                                         const char *anchor_path, struct fg_audit_report *out);

/* ---- reading (the audit role, AUD-4) ----------------------------------------------------- */

/* Called per record in seq order; return FG_OK to continue, anything else stops the scan
 * and is returned. rec is valid for the call only. */
typedef fg_rc (*fg_audit_scan_fn)(void *ctx, const struct fg_audit_record *rec,
                                  uint32_t key_version, const uint8_t mac[FG_HASH_LEN]);
/* Records with from_seq <= seq, at most `limit` of them (streamed, not MAC-checked: use
 * fg_audit_verify for that). FG_ERR_CORRUPT if a row cannot be decoded. */
FG_MUST_CHECK fg_rc fg_audit_scan(fg_conn *conn, int64_t from_seq, int64_t limit,
                                  fg_audit_scan_fn fn, void *ctx);

#endif
