/*
 * record.c — the audit record and its encodings: filling a record within its limits, the
 * canonical bytes the chain MACs, decoding a row of audit_log back into the same field view,
 * and the checkpoint's two forms (the signed message and the anchor-file JSON line).
 *
 * Everything MAC'd or signed goes through one encoder working on `struct audit_fields`
 * (pointer + length per text field), whether the fields come from a caller's record or
 * straight from a database row, so what the writer MACs and what the verifier recomputes
 * can never drift apart. Integers are written big-endian at fixed width and every text
 * field is prefixed by its 32-bit length, which makes the encoding injective. Rows are
 * decoded strictly: a column of the wrong type, an out-of-range integer, an unknown result
 * or an over-long text makes the row malformed (a tampered row, since the writer never
 * produces one). The anchor line is parsed with jansson from a buffer bounded by
 * FG_AUDIT_ANCHOR_LINE_MAX and must have exactly the members the writer emits.
 */
#include "audit/internal.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"

const size_t audit_text_max[AUDIT_TEXT_FIELDS] = {
    FG_AUDIT_REQUEST_ID_MAX,  FG_AUDIT_ACTOR_ID_MAX,  FG_AUDIT_ACTOR_ROLE_MAX,
    FG_AUDIT_SOURCE_IP_MAX,   FG_AUDIT_DEVICE_ID_MAX, FG_AUDIT_ACTION_MAX,
    FG_AUDIT_OBJECT_TYPE_MAX, FG_AUDIT_OBJECT_ID_MAX, FG_AUDIT_ERROR_CODE_MAX,
    FG_AUDIT_DETAILS_MAX,
};

const char *const audit_text_column[AUDIT_TEXT_FIELDS] = {
    "request_id", "actor_id",    "actor_role", "source_ip",  "device_id",
    "action",     "object_type", "object_id",  "error_code", "details",
};

static const char *const result_names[] = {NULL, "ok", "denied", "error"};

const char *fg_audit_result_name(enum fg_audit_result result)
{
    assert(result >= FG_AUDIT_RESULT_OK && result <= FG_AUDIT_RESULT_ERROR);
    if (result < FG_AUDIT_RESULT_OK || result > FG_AUDIT_RESULT_ERROR)
        return "error";
    return result_names[result];
}

uint8_t audit_result_parse(const char *p, size_t n)
{
    for (uint8_t r = FG_AUDIT_RESULT_OK; r <= FG_AUDIT_RESULT_ERROR; r++)
        if (strlen(result_names[r]) == n && memcmp(result_names[r], p, n) == 0)
            return r;
    return 0;
}

static const char *const problem_names[] = {
    "intact",
    "gap",
    "unexpected",
    "malformed",
    "bad_mac",
    "unknown_key",
    "checkpoint_malformed",
    "checkpoint_signature",
    "checkpoint_mismatch",
    "truncated",
    "anchor_malformed",
};

const char *fg_audit_problem_name(enum fg_audit_problem problem)
{
    assert((size_t)problem < sizeof problem_names / sizeof problem_names[0]);
    if ((size_t)problem >= sizeof problem_names / sizeof problem_names[0])
        return "unknown";
    return problem_names[problem];
}

/* ---- filling a record -------------------------------------------------------------------- */

/* Copy s (NULL = "") into dst[max + 1]; FG_ERR_TOO_LARGE if longer than max. */
static fg_rc text_set(char *dst, size_t max, const char *s)
{
    assert(dst != NULL && max > 0);
    if (s == NULL)
        s = "";
    size_t n = strnlen(s, max + 1);
    if (n > max)
        return FG_ERR_TOO_LARGE;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return FG_OK;
}

static int action_valid(const char *a)
{
    if (a == NULL || a[0] == '\0')
        return 0;
    for (const char *p = a; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
              *p == '-'))
            return 0;
    return 1;
}

fg_rc fg_audit_record_init(struct fg_audit_record *rec, const struct fg_audit_actor *who,
                           const char *action, const char *object_type, const char *object_id)
{
    assert(rec != NULL);
    memset(rec, 0, offsetof(struct fg_audit_record, details));
    rec->next_ = NULL;
    const struct fg_audit_actor none = {0};
    if (who == NULL)
        who = &none;
    fg_rc rc = text_set(rec->action, FG_AUDIT_ACTION_MAX, action);
    if (rc == FG_OK && !action_valid(rec->action))
        rc = FG_ERR_INVALID;
    if (rc == FG_OK)
        rc = text_set(rec->request_id, FG_AUDIT_REQUEST_ID_MAX, who->request_id);
    if (rc == FG_OK)
        rc = text_set(rec->actor_id, FG_AUDIT_ACTOR_ID_MAX, who->actor_id);
    if (rc == FG_OK)
        rc = text_set(rec->actor_role, FG_AUDIT_ACTOR_ROLE_MAX, who->actor_role);
    if (rc == FG_OK)
        rc = text_set(rec->source_ip, FG_AUDIT_SOURCE_IP_MAX, who->source_ip);
    if (rc == FG_OK)
        rc = text_set(rec->device_id, FG_AUDIT_DEVICE_ID_MAX, who->device_id);
    if (rc == FG_OK)
        rc = text_set(rec->object_type, FG_AUDIT_OBJECT_TYPE_MAX, object_type);
    if (rc == FG_OK)
        rc = text_set(rec->object_id, FG_AUDIT_OBJECT_ID_MAX, object_id);
    rec->result = FG_AUDIT_RESULT_OK;
    rec->error_code[0] = '\0';
    memcpy(rec->details, "{}", 3);
    rec->details_redacted_ = 1;
    return rc;
}

fg_rc fg_audit_record_details(struct fg_audit_record *rec, const char *json, size_t len)
{
    assert(rec != NULL && (json != NULL || len == 0));
    char out[FG_AUDIT_DETAILS_MAX + 1];
    size_t n = 0;
    fg_rc rc = fg_audit_redact(json, len, out, sizeof out, &n);
    if (rc != FG_OK)
        return rc;
    assert(n <= FG_AUDIT_DETAILS_MAX && out[n] == '\0');
    memcpy(rec->details, out, n + 1);
    rec->details_redacted_ = 1;
    return FG_OK;
}

void fg_audit_record_result(struct fg_audit_record *rec, enum fg_audit_result result, fg_rc code)
{
    assert(rec != NULL);
    assert(result >= FG_AUDIT_RESULT_OK && result <= FG_AUDIT_RESULT_ERROR);
    rec->result = result;
    const char *name = result == FG_AUDIT_RESULT_OK ? "" : fg_rc_name(code);
    fg_rc rc = text_set(rec->error_code, FG_AUDIT_ERROR_CODE_MAX, name);
    assert(rc == FG_OK); /* rc names are short */
    (void)rc;
}

/* ---- canonical encoding ------------------------------------------------------------------ */

void audit_fields_of_record(const struct fg_audit_record *rec, uint32_t key_version,
                            struct audit_fields *out)
{
    assert(rec != NULL && out != NULL);
    const char *texts[AUDIT_TEXT_FIELDS] = {
        rec->request_id, rec->actor_id,    rec->actor_role, rec->source_ip,  rec->device_id,
        rec->action,     rec->object_type, rec->object_id,  rec->error_code, rec->details,
    };
    out->seq = rec->seq;
    out->time_ms = rec->time_ms;
    out->key_version = key_version;
    out->result = (uint8_t)rec->result;
    for (int i = 0; i < AUDIT_TEXT_FIELDS; i++)
        out->text[i] = (struct audit_text){texts[i], strnlen(texts[i], audit_text_max[i] + 1)};
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

fg_rc audit_canonical(const struct audit_fields *f, uint8_t *out, size_t cap, size_t *len)
{
    assert(f != NULL && out != NULL && len != NULL);
    size_t need = 22 + 4 * AUDIT_TEXT_FIELDS;
    for (int i = 0; i < AUDIT_TEXT_FIELDS; i++) {
        if (f->text[i].n > audit_text_max[i])
            return FG_ERR_LIMIT;
        need += f->text[i].n;
    }
    if (need > cap)
        return FG_ERR_TOO_LARGE;
    uint8_t *p = out;
    *p++ = AUDIT_FORMAT;
    p = put_u64(p, (uint64_t)f->seq);
    p = put_u64(p, (uint64_t)f->time_ms);
    p = put_u32(p, f->key_version);
    *p++ = f->result;
    for (int i = 0; i < AUDIT_TEXT_FIELDS; i++) {
        p = put_u32(p, (uint32_t)f->text[i].n);
        if (f->text[i].n > 0)
            memcpy(p, f->text[i].p, f->text[i].n);
        p += f->text[i].n;
    }
    assert((size_t)(p - out) == need && need <= FG_AUDIT_CANONICAL_MAX);
    *len = need;
    return FG_OK;
}

fg_rc fg_audit_canonical(const struct fg_audit_record *rec, uint32_t key_version, uint8_t *out,
                         size_t cap, size_t *len)
{
    struct audit_fields f;
    audit_fields_of_record(rec, key_version, &f);
    fg_rc rc = audit_canonical(&f, out, cap, len);
    return rc == FG_ERR_LIMIT ? FG_ERR_TOO_LARGE : rc;
}

fg_rc audit_chain_mac(enum fg_hash_alg alg, const struct fg_audit_mac_key *key,
                      const uint8_t *canon, size_t len, const uint8_t prev[FG_HASH_LEN],
                      uint8_t out[FG_HASH_LEN])
{
    assert(key != NULL && key->key != NULL && canon != NULL && prev != NULL);
    struct fg_hmac_ctx *h = NULL;
    fg_rc rc = fg_hmac_begin(alg, key->key, key->len, &h);
    if (rc != FG_OK)
        return rc;
    rc = fg_hmac_update(h, canon, len);
    if (rc == FG_OK)
        rc = fg_hmac_update(h, prev, FG_HASH_LEN);
    if (rc != FG_OK) {
        fg_hmac_abort(h);
        return rc;
    }
    return fg_hmac_end(h, out);
}

const struct fg_audit_mac_key *audit_mac_key_find(const struct fg_audit_keys *keys,
                                                  uint32_t version)
{
    assert(keys != NULL);
    for (size_t i = 0; i < keys->mac_key_count; i++)
        if (keys->mac_keys[i].version == version)
            return &keys->mac_keys[i];
    return NULL;
}

fg_rc audit_keys_check(const struct fg_audit_keys *keys)
{
    if (keys == NULL || (keys->suite != FG_SUITE_INTL && keys->suite != FG_SUITE_GM))
        return FG_ERR_INVALID;
    if (keys->mac_key_count == 0 || keys->mac_key_count > FG_AUDIT_MAC_KEYS_MAX ||
        keys->public_key_count == 0 || keys->public_key_count > FG_AUDIT_PUBLIC_KEYS_MAX)
        return FG_ERR_INVALID;
    for (size_t i = 0; i < keys->mac_key_count; i++)
        if (keys->mac_keys[i].key == NULL || keys->mac_keys[i].len < FG_AUDIT_MAC_KEY_MIN ||
            keys->mac_keys[i].len > FG_AUDIT_MAC_KEY_MAX)
            return FG_ERR_INVALID;
    for (size_t i = 0; i < keys->public_key_count; i++)
        if (keys->public_keys[i].key == NULL || keys->public_keys[i].len == 0 ||
            keys->public_keys[i].len > FG_SIGN_PUBLIC_MAX)
            return FG_ERR_INVALID;
    return FG_OK;
}

/* ---- rows -------------------------------------------------------------------------------- */

static int col_text(const struct fg_val *v, size_t max, struct audit_text *out)
{
    if (v->type != FG_VAL_TEXT || v->n > max)
        return 0;
    *out = (struct audit_text){v->n ? v->p : "", v->n};
    return 1;
}

fg_rc audit_row_decode(const struct fg_val *cols, int ncols, struct audit_fields *f,
                       uint8_t mac[FG_HASH_LEN])
{
    assert(cols != NULL && f != NULL && mac != NULL);
    if (ncols != AUDIT_ROW_NCOLS)
        return FG_ERR_CORRUPT;
    if (cols[0].type != FG_VAL_INT || cols[1].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    f->seq = cols[0].i;
    f->time_ms = cols[1].i;
    /* columns 2..9 are request_id..object_id, 10 result, 11 error_code, 12 details */
    for (int i = 0; i <= AUDIT_OBJECT_ID; i++)
        if (!col_text(&cols[2 + i], audit_text_max[i], &f->text[i]))
            return FG_ERR_CORRUPT;
    struct audit_text result;
    if (!col_text(&cols[10], 8, &result))
        return FG_ERR_CORRUPT;
    f->result = audit_result_parse(result.p, result.n);
    if (f->result == 0)
        return FG_ERR_CORRUPT;
    if (!col_text(&cols[11], audit_text_max[AUDIT_ERROR_CODE], &f->text[AUDIT_ERROR_CODE]) ||
        !col_text(&cols[12], audit_text_max[AUDIT_DETAILS], &f->text[AUDIT_DETAILS]))
        return FG_ERR_CORRUPT;
    if (cols[13].type != FG_VAL_INT || cols[13].i < 0 || cols[13].i > (int64_t)UINT32_MAX)
        return FG_ERR_CORRUPT;
    f->key_version = (uint32_t)cols[13].i;
    if (cols[14].type != FG_VAL_BLOB || cols[14].n != FG_HASH_LEN)
        return FG_ERR_CORRUPT;
    memcpy(mac, cols[14].p, FG_HASH_LEN);
    return FG_OK;
}

/* ---- checkpoints ------------------------------------------------------------------------- */

const char *audit_cp_kind_name(enum audit_cp_kind kind)
{
    assert(kind == AUDIT_CP_CHECKPOINT || kind == AUDIT_CP_RETENTION);
    return kind == AUDIT_CP_RETENTION ? "retention" : "checkpoint";
}

enum audit_cp_kind audit_cp_kind_parse(const char *p, size_t n)
{
    if (n == 10 && memcmp(p, "checkpoint", 10) == 0)
        return AUDIT_CP_CHECKPOINT;
    if (n == 9 && memcmp(p, "retention", 9) == 0)
        return AUDIT_CP_RETENTION;
    return 0;
}

void audit_cp_message(enum fg_suite suite, const struct audit_checkpoint *cp,
                      uint8_t out[AUDIT_CP_MESSAGE_LEN])
{
    static const char domain[20] = "fg-audit-checkpoint"; /* 19 characters + NUL */
    assert(cp != NULL && out != NULL);
    uint8_t *p = out;
    memcpy(p, domain, sizeof domain);
    p += sizeof domain;
    *p++ = AUDIT_FORMAT;
    *p++ = (uint8_t)cp->kind;
    *p++ = (uint8_t)suite;
    p = put_u64(p, (uint64_t)cp->seq);
    p = put_u64(p, (uint64_t)cp->time_ms);
    p = put_u32(p, cp->sign_version);
    memcpy(p, cp->mac, FG_HASH_LEN);
    p += FG_HASH_LEN;
    assert((size_t)(p - out) == AUDIT_CP_MESSAGE_LEN);
}

fg_rc audit_cp_verify(const struct fg_audit_keys *keys, const struct audit_checkpoint *cp)
{
    assert(keys != NULL && cp != NULL);
    const struct fg_audit_public_key *pub = NULL;
    for (size_t i = 0; i < keys->public_key_count; i++)
        if (keys->public_keys[i].version == cp->sign_version)
            pub = &keys->public_keys[i];
    if (pub == NULL || cp->sig_len == 0 || cp->sig_len > FG_SIGN_SIG_MAX)
        return FG_ERR_CRYPTO;
    uint8_t msg[AUDIT_CP_MESSAGE_LEN];
    audit_cp_message(keys->suite, cp, msg);
    return fg_verify(keys->suite, pub->key, pub->len, msg, sizeof msg, cp->sig, cp->sig_len) ==
                   FG_OK
               ? FG_OK
               : FG_ERR_CRYPTO;
}

fg_rc audit_anchor_format(enum fg_suite suite, const struct audit_checkpoint *cp,
                          struct fg_buf *out)
{
    assert(cp != NULL && out != NULL);
    assert(cp->sig_len > 0 && cp->sig_len <= FG_SIGN_SIG_MAX);
    size_t mark = out->len;
    fg_rc rc = fg_buf_appendf(out,
                              "{\"v\":%u,\"kind\":\"%s\",\"suite\":\"%s\",\"seq\":%lld,"
                              "\"time_ms\":%lld,\"sign_key_version\":%u,\"mac\":\"",
                              AUDIT_FORMAT, audit_cp_kind_name(cp->kind), fg_suite_name(suite),
                              (long long)cp->seq, (long long)cp->time_ms, cp->sign_version);
    if (rc == FG_OK)
        rc = fg_buf_append_hex(out, cp->mac, FG_HASH_LEN);
    if (rc == FG_OK)
        rc = fg_buf_append_str(out, "\",\"sig\":\"");
    if (rc == FG_OK)
        rc = fg_buf_append_hex(out, cp->sig, cp->sig_len);
    if (rc == FG_OK)
        rc = fg_buf_append_str(out, "\"}\n");
    if (rc != FG_OK) {
        out->len = mark; /* drop the partial line */
        if (out->data != NULL)
            out->data[mark] = '\0';
    }
    assert(rc != FG_OK || out->len - mark <= FG_AUDIT_ANCHOR_LINE_MAX);
    return rc;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Lowercase hex of exactly 2 * n characters (min_n <= n <= max_n) into out. */
static int hex_decode(json_t *v, uint8_t *out, size_t min_n, size_t max_n, size_t *n_out)
{
    if (!json_is_string(v))
        return 0;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len % 2 != 0 || len / 2 < min_n || len / 2 > max_n)
        return 0;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *n_out = len / 2;
    return 1;
}

static int int_member(json_t *obj, const char *name, int64_t min, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v))
        return 0;
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return 0;
    *out = (int64_t)i;
    return 1;
}

static int anchor_fields(json_t *obj, enum fg_suite suite, struct audit_checkpoint *cp)
{
    json_t *kind = json_object_get(obj, "kind"), *s = json_object_get(obj, "suite");
    int64_t v, version;
    size_t mac_len;
    if (json_object_size(obj) != 8 || !int_member(obj, "v", AUDIT_FORMAT, AUDIT_FORMAT, &v) ||
        !json_is_string(kind) || !json_is_string(s) ||
        strcmp(json_string_value(s), fg_suite_name(suite)) != 0)
        return 0;
    cp->kind = audit_cp_kind_parse(json_string_value(kind), json_string_length(kind));
    if (cp->kind == 0 || !int_member(obj, "seq", 1, INT64_MAX, &cp->seq) ||
        !int_member(obj, "time_ms", INT64_MIN, INT64_MAX, &cp->time_ms) ||
        !int_member(obj, "sign_key_version", 0, UINT32_MAX, &version))
        return 0;
    cp->sign_version = (uint32_t)version;
    return hex_decode(json_object_get(obj, "mac"), cp->mac, FG_HASH_LEN, FG_HASH_LEN, &mac_len) &&
           hex_decode(json_object_get(obj, "sig"), cp->sig, 1, FG_SIGN_SIG_MAX, &cp->sig_len);
}

fg_rc audit_anchor_parse(const char *line, size_t len, enum fg_suite suite,
                         struct audit_checkpoint *out)
{
    assert(line != NULL || len == 0);
    assert(out != NULL);
    memset(out, 0, sizeof *out);
    if (len > FG_AUDIT_ANCHOR_LINE_MAX)
        return FG_ERR_TOO_LARGE;
    /* A flat object: no nesting to bound, and the length bound limits everything else. */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '[' || (line[i] == '{' && i > 0))
            return FG_ERR_INVALID;
    json_error_t err;
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    if (obj == NULL)
        return FG_ERR_INVALID;
    int ok = json_is_object(obj) && anchor_fields(obj, suite, out);
    json_decref(obj);
    if (!ok)
        memset(out, 0, sizeof *out);
    return ok ? FG_OK : FG_ERR_INVALID;
}
