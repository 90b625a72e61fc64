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
 * Threads: runs on the thread holding `c` (emit: the writer inside an intent; scan: any).
 */
#ifndef FG_EVENT_EVENT_H
#define FG_EVENT_EVENT_H

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

#endif
