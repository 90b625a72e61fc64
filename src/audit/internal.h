/*
 * internal.h — what the files of src/audit share and nothing else includes (tests and the
 * fuzz targets may): the field view the canonical encoder works on, row decoding, the
 * checkpoint (its signed message, its anchor-file line) and the chain walker that both
 * verification and retention use.
 */
#ifndef FG_AUDIT_INTERNAL_H
#define FG_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/buf.h"

/* The text fields in canonical order. */
enum audit_text_field {
    AUDIT_REQUEST_ID = 0,
    AUDIT_ACTOR_ID,
    AUDIT_ACTOR_ROLE,
    AUDIT_SOURCE_IP,
    AUDIT_DEVICE_ID,
    AUDIT_ACTION,
    AUDIT_OBJECT_TYPE,
    AUDIT_OBJECT_ID,
    AUDIT_ERROR_CODE,
    AUDIT_DETAILS,
    AUDIT_TEXT_FIELDS
};
extern const size_t audit_text_max[AUDIT_TEXT_FIELDS];
extern const char *const audit_text_column[AUDIT_TEXT_FIELDS];

#define AUDIT_FORMAT 1u

struct audit_text {
    const char *p; /* not necessarily NUL-terminated */
    size_t n;
};

/* A record as the encoder sees it: from a struct fg_audit_record or straight from a row. */
struct audit_fields {
    int64_t seq;
    int64_t time_ms;
    uint32_t key_version;
    uint8_t result; /* enum fg_audit_result */
    struct audit_text text[AUDIT_TEXT_FIELDS];
};

void audit_fields_of_record(const struct fg_audit_record *rec, uint32_t key_version,
                            struct audit_fields *out);
/* FG_ERR_TOO_LARGE if cap is too small, FG_ERR_LIMIT if a field exceeds its limit. */
FG_MUST_CHECK fg_rc audit_canonical(const struct audit_fields *f, uint8_t *out, size_t cap,
                                    size_t *len);
/* HMAC(key, canon ‖ prev) into out. */
FG_MUST_CHECK fg_rc audit_chain_mac(enum fg_hash_alg alg, const struct fg_audit_mac_key *key,
                                    const uint8_t *canon, size_t len,
                                    const uint8_t prev[FG_HASH_LEN], uint8_t out[FG_HASH_LEN]);
/* Parse "ok" / "denied" / "error"; 0 if none. */
uint8_t audit_result_parse(const char *p, size_t n);
/* FG_ERR_INVALID unless suite, MAC keys and public keys are present and within limits. */
FG_MUST_CHECK fg_rc audit_keys_check(const struct fg_audit_keys *keys);
const struct fg_audit_mac_key *audit_mac_key_find(const struct fg_audit_keys *keys,
                                                  uint32_t version);

/* Columns of audit_log in the order audit_row_decode expects. */
#define AUDIT_ROW_COLUMNS                                                                          \
    "seq, time_ms, request_id, actor_id, actor_role, source_ip, device_id, action, "               \
    "object_type, object_id, result, error_code, details, key_version, mac"
#define AUDIT_ROW_NCOLS 15
/* FG_ERR_CORRUPT if a column has the wrong type, length or value. Texts point into cols. */
FG_MUST_CHECK fg_rc audit_row_decode(const struct fg_val *cols, int ncols, struct audit_fields *f,
                                     uint8_t mac[FG_HASH_LEN]);

/* ---- checkpoints ------------------------------------------------------------------------- */

enum audit_cp_kind { AUDIT_CP_CHECKPOINT = 1, AUDIT_CP_RETENTION = 2 };
const char *audit_cp_kind_name(enum audit_cp_kind kind);
/* 0 if none. */
enum audit_cp_kind audit_cp_kind_parse(const char *p, size_t n);

struct audit_checkpoint {
    enum audit_cp_kind kind;
    int64_t seq;
    int64_t time_ms;
    uint32_t sign_version;
    uint8_t mac[FG_HASH_LEN];
    uint8_t sig[FG_SIGN_SIG_MAX];
    size_t sig_len;
};

/* The signed bytes: "fg-audit-checkpoint" NUL ‖ u8 format ‖ u8 kind ‖ u8 suite ‖ u64 seq
 * ‖ i64 time_ms ‖ u32 sign_version ‖ mac. */
#define AUDIT_CP_MESSAGE_LEN (20u + 3u + 8u + 8u + 4u + FG_HASH_LEN)
void audit_cp_message(enum fg_suite suite, const struct audit_checkpoint *cp,
                      uint8_t out[AUDIT_CP_MESSAGE_LEN]);
/* FG_OK if signed by the public key of cp->sign_version, FG_ERR_CRYPTO otherwise. */
FG_MUST_CHECK fg_rc audit_cp_verify(const struct fg_audit_keys *keys,
                                    const struct audit_checkpoint *cp);
/* One anchor line, newline included:
 * {"v":1,"kind":"checkpoint","suite":"intl","seq":N,"time_ms":N,"sign_key_version":N,
 *  "mac":"<hex>","sig":"<hex>"} */
FG_MUST_CHECK fg_rc audit_anchor_format(enum fg_suite suite, const struct audit_checkpoint *cp,
                                        struct fg_buf *out);
/* Parse one line (without its newline). FG_ERR_INVALID unless it is exactly such an object
 * for `suite`. Bounded: line longer than FG_AUDIT_ANCHOR_LINE_MAX is FG_ERR_TOO_LARGE. */
FG_MUST_CHECK fg_rc audit_anchor_parse(const char *line, size_t len, enum fg_suite suite,
                                       struct audit_checkpoint *out);

/* ---- the walker -------------------------------------------------------------------------- */

/* Walk audit_log from start_seq (prev = MAC of start_seq - 1) through upto (INT64_MAX: to
 * the end) on conn, recomputing the chain. Fills report->records, last_seq,
 * canonical_bytes, and on the first bad record problem/first_bad_seq, and stops there.
 * last_mac receives the MAC of report->last_seq. FG_OK unless the walk could not run. */
FG_MUST_CHECK fg_rc audit_walk(fg_conn *conn, const struct fg_audit_keys *keys, int64_t start_seq,
                               const uint8_t prev[FG_HASH_LEN], int64_t upto,
                               struct fg_audit_report *report, uint8_t last_mac[FG_HASH_LEN]);

/* The newest retention checkpoint in the database, if any (*found = 0 otherwise). */
FG_MUST_CHECK fg_rc audit_retention_latest(fg_conn *conn, struct audit_checkpoint *cp, int *found);

#endif
