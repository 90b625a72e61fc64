/*
 * event.c — the security event log (see event.h; table `events` in 0008_ledger.sql).
 *
 * Attributes go through the audit redactor first, then jansson walks the result once more
 * for what the redactor does not look at: numbers long enough to be a card number, and
 * card numbers inside longer strings ("paid with 4111 1111 1111 1111"). A key that itself
 * holds such a number cannot be replaced and is refused.
 */
#include "event/event.h"

#include <assert.h>
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/encode.h"
#include "crypto/crypto.h"

#define REDACTED "[redacted]"
/* Card numbers are 13..19 digits (ISO/IEC 7812). */
#define PAN_DIGITS_MIN 13u
#define PAN_DIGITS_MAX 19u
/* Digits of one run we examine; a longer run is redacted without looking. */
#define RUN_DIGITS_MAX 64u

_Static_assert(FG_EVENT_ACTOR_ID_MAX == FG_AUDIT_ACTOR_ID_MAX, "actor ids as in audit");
_Static_assert(FG_EVENT_DEVICE_ID_MAX == FG_AUDIT_DEVICE_ID_MAX, "device ids as in audit");
_Static_assert(FG_EVENT_ATTRS_MAX <= FG_AUDIT_DETAILS_MAX, "attrs fit the redactor");

static int token_ok(const char *s, size_t max)
{
    if (s == NULL)
        return 1; /* stored as "" */
    for (size_t n = 0; s[n] != '\0'; n++)
        if (n >= max || (unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return 0;
    return 1;
}

static int type_ok(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    for (size_t n = 0; s[n] != '\0'; n++) {
        char c = s[n];
        if (n >= FG_EVENT_TYPE_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static int luhn(const unsigned char *d, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = d[n - 1 - i];
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* 1 if some window of 13..19 digits of the run is Luhn-valid (or the run is too long to
 * examine). */
static int run_is_pan(const unsigned char *d, size_t n)
{
    if (n > RUN_DIGITS_MAX)
        return 1;
    for (size_t len = PAN_DIGITS_MIN; len <= PAN_DIGITS_MAX && len <= n; len++)
        for (size_t i = 0; i + len <= n; i++)
            if (luhn(d + i, len))
                return 1;
    return 0;
}

/* 1 if s holds a run of digits (single spaces or dashes allowed between digits) that
 * contains a Luhn-valid 13..19 digit window. */
static int text_has_pan(const char *s, size_t len)
{
    unsigned char run[RUN_DIGITS_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i <= len; i++) {
        char ch = i < len ? s[i] : '\0';
        if (ch >= '0' && ch <= '9') {
            if (n <= RUN_DIGITS_MAX)
                run[n] = (unsigned char)(ch - '0');
            n++;
            continue;
        }
        int sep =
            (ch == ' ' || ch == '-') && n > 0 && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9';
        if (sep)
            continue;
        if (n >= PAN_DIGITS_MIN && run_is_pan(run, n > RUN_DIGITS_MAX ? RUN_DIGITS_MAX + 1 : n))
            return 1;
        n = 0;
    }
    return 0;
}

/* A scalar that could be a card number: an integer or real of 13 or more digits, or a
 * string holding a Luhn-valid run. */
static int looks_like_pan(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 1000000000000LL ||
               json_integer_value(v) <= -1000000000000LL;
    if (json_is_real(v))
        return json_real_value(v) >= 1e12 || json_real_value(v) <= -1e12;
    if (json_is_string(v))
        return text_has_pan(json_string_value(v), json_string_length(v));
    return 0;
}

/* Replace in place what could be a card number. FG_ERR_INVALID for a key holding one. */
static fg_rc scrub(json_t *v, unsigned depth)
{
    if (depth > FG_AUDIT_DETAILS_DEPTH_MAX)
        return FG_ERR_LIMIT;
    if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item)
        {
            if (text_has_pan(key, strlen(key)))
                return FG_ERR_INVALID;
            if (looks_like_pan(item)) {
                if (json_object_set_new(v, key, json_string(REDACTED)) != 0)
                    return FG_ERR_NOMEM;
                continue;
            }
            fg_rc rc = scrub(item, depth + 1);
            if (rc != FG_OK)
                return rc;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *item = json_array_get(v, i);
            if (looks_like_pan(item)) {
                if (json_array_set_new(v, i, json_string(REDACTED)) != 0)
                    return FG_ERR_NOMEM;
                continue;
            }
            fg_rc rc = scrub(item, depth + 1);
            if (rc != FG_OK)
                return rc;
        }
    }
    return FG_OK;
}

/* attrs (NULL → "{}") redacted into out[FG_EVENT_ATTRS_MAX + 1]. */
static fg_rc attrs_clean(const char *attrs, char out[FG_EVENT_ATTRS_MAX + 1])
{
    if (attrs == NULL)
        attrs = "{}";
    size_t len = strlen(attrs);
    if (len > FG_AUDIT_DETAILS_MAX)
        return FG_ERR_TOO_LARGE;
    char red[FG_AUDIT_DETAILS_MAX + 1];
    size_t red_len = 0;
    fg_rc rc = fg_audit_redact(attrs, len, red, sizeof red, &red_len);
    if (rc != FG_OK)
        return rc;
    json_error_t jerr;
    json_t *root = json_loadb(red, red_len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return FG_ERR_INVALID;
    }
    rc = scrub(root, 1);
    if (rc == FG_OK) {
        size_t n = json_dumpb(root, out, FG_EVENT_ATTRS_MAX + 1,
                              JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        if (n == 0 || n > FG_EVENT_ATTRS_MAX)
            rc = FG_ERR_TOO_LARGE;
        else
            out[n] = '\0';
    }
    json_decref(root);
    return rc;
}

fg_rc fg_event_emit(fg_conn *c, const struct fg_event *e, int64_t now_ms)
{
    assert(c != NULL && e != NULL);
    if (!type_ok(e->type))
        return e->type != NULL && strlen(e->type) > FG_EVENT_TYPE_MAX ? FG_ERR_TOO_LARGE
                                                                      : FG_ERR_INVALID;
    if (!token_ok(e->actor_id, FG_EVENT_ACTOR_ID_MAX) ||
        !token_ok(e->source_ip, FG_EVENT_SOURCE_IP_MAX) ||
        !token_ok(e->device_id, FG_EVENT_DEVICE_ID_MAX) ||
        !token_ok(e->object_type, FG_EVENT_OBJECT_TYPE_MAX) ||
        !token_ok(e->object_id, FG_EVENT_OBJECT_ID_MAX))
        return FG_ERR_INVALID;
    if (e->object_id != NULL && text_has_pan(e->object_id, strlen(e->object_id)))
        return FG_ERR_INVALID; /* an object id is never a card number */
    char attrs[FG_EVENT_ATTRS_MAX + 1];
    fg_rc rc = attrs_clean(e->attrs_json, attrs);
    if (rc != FG_OK)
        return rc;
#define OR_EMPTY(s) FG_VSTR((s) != NULL ? (s) : "")
    struct fg_val p[] = {FG_VINT(now_ms),        FG_VSTR(e->type),       OR_EMPTY(e->actor_id),
                         OR_EMPTY(e->source_ip), OR_EMPTY(e->device_id), OR_EMPTY(e->object_type),
                         OR_EMPTY(e->object_id), FG_VSTR(attrs)};
#undef OR_EMPTY
    return fg_conn_exec(c,
                        "INSERT INTO events (time_ms, type, actor_id, source_ip, device_id, "
                        "object_type, object_id, attrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        p, 8, NULL, NULL, NULL);
}

struct scan {
    fg_event_fn fn;
    void *ctx;
};

/* Copy a TEXT column into dst[cap] (NUL-terminated). */
static fg_rc text_col(const struct fg_val *v, char *dst, size_t cap)
{
    if (v->type != FG_VAL_TEXT || v->n >= cap)
        return FG_ERR_CORRUPT;
    memcpy(dst, v->p, v->n);
    dst[v->n] = '\0';
    return FG_OK;
}

static fg_rc row_event(void *ctx, const struct fg_val *cols, int ncols)
{
    struct scan *s = ctx;
    char type[FG_EVENT_TYPE_MAX + 1], actor[FG_EVENT_ACTOR_ID_MAX + 1],
        ip[FG_EVENT_SOURCE_IP_MAX + 1], dev[FG_EVENT_DEVICE_ID_MAX + 1],
        otype[FG_EVENT_OBJECT_TYPE_MAX + 1], oid[FG_EVENT_OBJECT_ID_MAX + 1],
        attrs[FG_EVENT_ATTRS_MAX + 1];
    if (ncols != 9 || cols[0].type != FG_VAL_INT || cols[1].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    fg_rc rc = text_col(&cols[2], type, sizeof type);
    if (rc == FG_OK)
        rc = text_col(&cols[3], actor, sizeof actor);
    if (rc == FG_OK)
        rc = text_col(&cols[4], ip, sizeof ip);
    if (rc == FG_OK)
        rc = text_col(&cols[5], dev, sizeof dev);
    if (rc == FG_OK)
        rc = text_col(&cols[6], otype, sizeof otype);
    if (rc == FG_OK)
        rc = text_col(&cols[7], oid, sizeof oid);
    if (rc == FG_OK)
        rc = text_col(&cols[8], attrs, sizeof attrs);
    if (rc != FG_OK)
        return rc;
    struct fg_event e = {type, actor, ip, dev, otype, oid, attrs};
    return s->fn(s->ctx, cols[0].i, cols[1].i, &e);
}

fg_rc fg_event_scan(fg_conn *c, int64_t after_seq, unsigned limit, fg_event_fn fn, void *ctx)
{
    assert(c != NULL && fn != NULL);
    if (limit < 1 || limit > FG_EVENT_SCAN_MAX)
        return FG_ERR_INVALID;
    struct scan s = {fn, ctx};
    struct fg_val p[] = {FG_VINT(after_seq), FG_VINT(limit)};
    return fg_conn_exec(c,
                        "SELECT seq, time_ms, type, actor_id, source_ip, device_id, object_type, "
                        "object_id, attrs FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                        p, 2, row_event, &s, NULL);
}

fg_rc fg_event_emit_json(fg_conn *c, const struct fg_event *e, json_t *attrs, int64_t now_ms)
{
    assert(c != NULL && e != NULL);
    json_t *obj = attrs != NULL ? attrs : json_object();
    char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (text == NULL)
        return FG_ERR_NOMEM;
    struct fg_event ev = *e;
    ev.attrs_json = text;
    fg_rc rc = fg_event_emit(c, &ev, now_ms);
    free(text);
    return rc;
}

struct fg_event fg_event_of_record(const struct fg_audit_record *rec, const char *type,
                                   const char *object_type, const char *object_id)
{
    return (struct fg_event){.type = type,
                             .actor_id = rec->actor_id,
                             .source_ip = rec->source_ip,
                             .device_id = rec->device_id,
                             .object_type = object_type,
                             .object_id = object_id};
}

const char *fg_event_token(const char *s, size_t max)
{
    return s != NULL && token_ok(s, max) ? s : "";
}

/* Bytes of a username we hash (a longer one is refused by the routes before it gets here;
 * the rest would be hashed truncated, which only costs distinctness). */
#define TARGET_NAME_MAX 256u
/* Hex digits of the digest kept. */
#define TARGET_HEX 16u

fg_rc fg_event_login_target(const char *username, char out[FG_EVENT_TARGET_SIZE])
{
    assert(username != NULL);
    char lower[TARGET_NAME_MAX];
    size_t n = 0;
    for (; username[n] != '\0' && n < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)username[n]);
    uint8_t digest[FG_HASH_LEN];
    char hex[2 * FG_HASH_LEN + 1];
    fg_rc rc = fg_hash(FG_HASH_SHA256, lower, n, digest);
    fg_wipe(lower, sizeof lower);
    if (rc == FG_OK)
        rc = fg_hex_encode(digest, TARGET_HEX / 2, hex, sizeof hex);
    if (rc != FG_OK)
        return FG_ERR_CRYPTO;
    /* nibbles as the letters a..p, not hex: a run of 13+ digits in hex text would look like a
     * card number to the event redactor and become "[redacted]", merging unrelated targets */
    for (size_t i = 0; i < TARGET_HEX; i++)
        hex[i] = (char)('a' + (hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10));
    out[0] = 'h';
    out[1] = ':';
    memcpy(out + 2, hex, TARGET_HEX);
    out[2 + TARGET_HEX] = '\0';
    return FG_OK;
}

/* A filter value: NULL (unset) or an empty string → SQL NULL, i.e. "any". */
static struct fg_val opt_str(const char *s)
{
    return s != NULL && s[0] != '\0' ? FG_VSTR(s) : FG_VNULL;
}

fg_rc fg_event_query(fg_conn *c, const struct fg_event_query *q, fg_event_fn fn, void *ctx)
{
    assert(c != NULL && q != NULL && fn != NULL);
    if (q->limit < 1 || q->limit > FG_EVENT_QUERY_MAX || q->since_ms < 0 || q->until_ms < 0 ||
        q->after_seq < 0)
        return FG_ERR_INVALID;
    struct scan s = {fn, ctx};
    struct fg_val p[] = {FG_VINT(q->after_seq), opt_str(q->type),     opt_str(q->user),
                         opt_str(q->ip),        opt_str(q->account),  opt_str(q->customer),
                         FG_VINT(q->since_ms),  FG_VINT(q->until_ms), FG_VINT(q->limit)};
    return fg_conn_exec(
        c,
        "SELECT seq, time_ms, type, actor_id, source_ip, device_id, object_type, object_id, "
        "attrs FROM events WHERE seq > ?1 "
        "AND (?2 IS NULL OR type = ?2) "
        "AND (?3 IS NULL OR actor_id = ?3 OR (object_type = 'user' AND object_id = ?3) "
        "     OR json_extract(attrs, '$.user') = ?3) "
        "AND (?4 IS NULL OR source_ip = ?4) "
        "AND (?5 IS NULL OR (object_type = 'account' AND object_id = ?5) "
        "     OR json_extract(attrs, '$.account') = ?5 OR json_extract(attrs, '$.from') = ?5 "
        "     OR json_extract(attrs, '$.to') = ?5) "
        "AND (?6 IS NULL OR (object_type = 'customer' AND object_id = ?6) "
        "     OR json_extract(attrs, '$.customer') = ?6) "
        "AND (?7 = 0 OR time_ms >= ?7) AND (?8 = 0 OR time_ms < ?8) "
        "ORDER BY seq LIMIT ?9",
        p, 9, row_event, &s, NULL);
}

fg_rc fg_event_prune(fg_conn *c, int64_t older_than_ms, unsigned max_rows, int64_t *deleted)
{
    assert(c != NULL);
    if (deleted != NULL)
        *deleted = 0;
    if (max_rows < 1 || max_rows > FG_EVENT_PRUNE_BATCH_MAX)
        return FG_ERR_INVALID;
    struct fg_val p[] = {FG_VINT(older_than_ms), FG_VINT(max_rows)};
    int64_t n = 0;
    fg_rc rc = fg_conn_exec(c,
                            "DELETE FROM events WHERE seq IN (SELECT seq FROM events "
                            "WHERE time_ms < ?1 ORDER BY seq LIMIT ?2)",
                            p, 2, NULL, NULL, &n);
    if (rc == FG_OK && deleted != NULL)
        *deleted = n;
    return rc;
}
