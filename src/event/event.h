/*
 * event.h — the security event log the monitor consumes (REQUIREMENTS MON-1; issue #6;
 * table `events` in migrations/0008_ledger.sql).
 *
 * An event says that something security-relevant happened ("transfer.committed",
 * "login.failed", "account.frozen"), who did it from where, to which object, with a small
 * JSON object of attributes. It is written inside the caller's write intent, so it commits
 * (or vanishes) together with the change it describes; seq is strictly increasing in commit
 * order, so a consumer resumes with "events after the last seq I processed".
 *
 * Attributes never hold a secret: they pass through the audit redactor (fg_audit_redact:
 * keys like "pan", "password", "otp"; string values that look like a card or resident ID
 * number) and then a second rule of ours: any string containing a Luhn-valid run of 13..19
 * digits and any integer of 13 or more digits becomes "[redacted]" too. Events are not the
 * audit log (no MAC chain): they are the monitor's input, kept for its window.
 *
 * Retention (MON-1, issue #6): events are kept for investigation for
 * monitor.events_retention_days (default 183, six months); the monitor's runtime calls
 * fg_event_prune once a day, in bounded batches, on the writer.
 *
 * Names never hold a typed login name of someone unknown: fg_event_login_target turns a
 * username that matches no user into "h:" + 16 letters a-p (the nibbles of its SHA-256), because people
 * type passwords into the user field (docs/events.md).
 *
 * Threads: runs on the thread holding `c` (emit, prune: the writer inside an intent;
 * scan, query: any).
 */
#ifndef FG_EVENT_EVENT_H
#define FG_EVENT_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "store/store.h"

/* ---- limits (bytes, excluding the NUL) ---------------------------------------------------- */
/* Types are dotted names of [a-z0-9_.-]: "transfer.committed". */
#define FG_EVENT_TYPE_MAX 48u
/* The attributes: one small JSON object (after redaction). */
#define FG_EVENT_ATTRS_MAX 1024u
/* Ids and the source address, as the audit log bounds them. */
#define FG_EVENT_ACTOR_ID_MAX 64u
#define FG_EVENT_SOURCE_IP_MAX 45u
#define FG_EVENT_DEVICE_ID_MAX 128u
#define FG_EVENT_OBJECT_TYPE_MAX 32u
#define FG_EVENT_OBJECT_ID_MAX 128u
/* Rows one scan call returns. */
#define FG_EVENT_SCAN_MAX 1000u
/* Rows one query (GET /v1/events) returns. */
#define FG_EVENT_QUERY_MAX 500u
/* Rows one prune call deletes at most (one intent must stay short). */
#define FG_EVENT_PRUNE_BATCH_MAX 100000u
/* "h:" + 16 letters a-p + NUL. */
#define FG_EVENT_TARGET_SIZE 19u

/* An event. Every member but type may be NULL (stored as ""); attrs_json NULL → "{}".
 * Ids and addresses are printable ASCII without spaces. */
struct fg_event {
    const char *type, *actor_id, *source_ip, *device_id, *object_type, *object_id;
    const char *attrs_json;
};

/* write. Insert into `events` inside the caller's intent (commits with the change).
 * FG_ERR_INVALID (bad type, a field that is not printable ASCII, attrs not one JSON
 * object), FG_ERR_TOO_LARGE (a field or the redacted attrs over its limit), FG_ERR_STORE. */
FG_MUST_CHECK fg_rc fg_event_emit(fg_conn *c, const struct fg_event *e, int64_t now_ms);

/* Called per event; the strings in e (never NULL; "" when none) live until it returns. */
typedef fg_rc (*fg_event_fn)(void *ctx, int64_t seq, int64_t time_ms, const struct fg_event *e);
/* read. Events with seq > after_seq, oldest first, at most limit (1..FG_EVENT_SCAN_MAX,
 * else FG_ERR_INVALID). fn's error stops and is returned. */
FG_MUST_CHECK fg_rc fg_event_scan(fg_conn *c, int64_t after_seq, unsigned limit, fg_event_fn fn,
                                  void *ctx);

/* write. The same with attrs as a JSON object (stolen: decref'd here, also on error; NULL
 * = {}), e->attrs_json ignored. FG_ERR_NOMEM if it cannot be serialised. */
FG_MUST_CHECK fg_rc fg_event_emit_json(fg_conn *c, const struct fg_event *e, json_t *attrs,
                                       int64_t now_ms);

struct fg_audit_record;
/* An event that rides with an audit record (the usual case): actor, source address and
 * device are the record's; the strings point into rec. */
struct fg_event fg_event_of_record(const struct fg_audit_record *rec, const char *type,
                                   const char *object_type, const char *object_id);

/* s if it may be stored as an id (printable ASCII without spaces, at most max bytes),
 * else "" — for values a client chose (a device id) that must not make an event, and with
 * it the audited change, fail. */
const char *fg_event_token(const char *s, size_t max);

/* The attrs.target of a login attempt whose username matches no user: "h:" + the first 16
 * nibbles of SHA-256(lower-case username) written as the letters a..p. Never the name itself (people type passwords
 * into the user field). FG_ERR_CRYPTO if hashing fails. */
FG_MUST_CHECK fg_rc fg_event_login_target(const char *username, char out[FG_EVENT_TARGET_SIZE]);

/* read. GET /v1/events: events with seq > after_seq matching every filter that is set,
 * oldest first (seq order), at most limit (1..FG_EVENT_QUERY_MAX, else FG_ERR_INVALID).
 *   type      equal name
 *   user      the actor, the object (object_type "user") or attrs.user
 *   ip        source_ip
 *   account   the object (object_type "account"), attrs.account, attrs.from or attrs.to
 *   customer  the object (object_type "customer") or attrs.customer
 *   since_ms  time_ms >= since_ms (0 = no bound); until_ms: time_ms < until_ms (0 = none) */
struct fg_event_query {
    const char *type, *user, *ip, *account, *customer; /* NULL = any */
    int64_t since_ms, until_ms;
    int64_t after_seq;
    unsigned limit;
};
FG_MUST_CHECK fg_rc fg_event_query(fg_conn *c, const struct fg_event_query *q, fg_event_fn fn,
                                   void *ctx);

/* write (retention). Delete the oldest events with time_ms < older_than_ms, at most
 * max_rows of them (1..FG_EVENT_PRUNE_BATCH_MAX, else FG_ERR_INVALID), in seq order;
 * *deleted (may be NULL) = how many. Call again while *deleted == max_rows. */
FG_MUST_CHECK fg_rc fg_event_prune(fg_conn *c, int64_t older_than_ms, unsigned max_rows,
                                   int64_t *deleted);

#endif
