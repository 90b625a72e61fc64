/*
 * mevent.h — the monitor's typed event (REQUIREMENTS MON-1, MON-4, MON-5; issue #6).
 *
 * One model for every event the rules see, whatever its origin: a row of the `events`
 * table written by a service in its transaction (event/event.h), an external event posted
 * to POST /v1/events, a line of a log file turned into an event by a decoder, a golden case.
 *
 *   name      dotted name, [a-z0-9_.-]{1,48}: "login.failed", "transfer.committed"
 *   time_ms   Unix milliseconds (UTC)
 *   seq       the events-table sequence number (0 when not stored)
 *   actor     who acted (user id, "system", "rule:<id>", a service name)
 *   user, customer, account, ip, device, payee   subject keys ("" when none)
 *   amount    minor units (has_amount says whether it is set), currency (ISO 4217)
 *   result    "ok", "bad", "locked", "refused", ... ("" when none)
 *   attrs     up to FG_MEV_ATTRS_MAX more name → string-or-integer pairs
 *
 * Rules name fields by these names ("user", "amount", "attrs.reason") plus two derived from
 * time_ms in the engine's configured time zone: "hour" (0..23) and "weekday" (1 = Monday ..
 * 7 = Sunday).
 *
 * Mapping from a stored row (fg_mev_from_event): name ← type, actor ← actor_id,
 * ip ← source_ip, device ← device_id; then the attrs JSON: "user", "customer", "account",
 * "payee", "amount", "currency", "result" fill their typed fields, "from" fills account and
 * "to" fills payee when those are not set; object_type "user"/"customer"/"account" fills the
 * field of that name when still empty; every other attribute (string, integer or boolean →
 * "true"/"false") goes to attrs, in order, until FG_MEV_ATTRS_MAX.
 *
 * External events (POST /v1/events, JSON-lines decoder) are JSON objects with exactly these
 * members: "name" (required), "time" (RFC 3339 UTC string or integer Unix ms; absent = now),
 * "actor", "user", "customer", "account", "ip", "device", "payee", "currency", "result"
 * (strings), "amount" (integer ≥ 0), "attrs" (object of string/integer/boolean values).
 * Unknown members, wrong types and values over their limits are refused with a reason that
 * names the member — never echoing its value.
 *
 * Memory: a struct fg_mev points into memory someone else owns. struct fg_mev_hold owns a
 * copy (fixed size, no allocation): the parsers fill one.
 *
 * Threads: pure functions; a hold belongs to one thread.
 */
#ifndef FG_MONITOR_MEVENT_H
#define FG_MONITOR_MEVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "event/event.h"

/* ---- limits (bytes, excluding the NUL) ---------------------------------------------------- */
#define FG_MEV_NAME_MAX 48u       /* = FG_EVENT_TYPE_MAX */
#define FG_MEV_KEY_MAX 128u       /* each subject key, actor, result */
#define FG_MEV_CURRENCY_MAX 3u
#define FG_MEV_ATTRS_MAX 16u
#define FG_MEV_ATTR_NAME_MAX 32u  /* [a-z0-9_]{1,32} */
#define FG_MEV_ATTR_VALUE_MAX 256u
#define FG_MEV_BATCH_MAX 1000u    /* events per POST /v1/events */
#define FG_MEV_HOLD_BYTES 8192u   /* text storage of one hold */

enum fg_mev_field {
    FG_MEV_F_NAME = 0,
    FG_MEV_F_ACTOR,
    FG_MEV_F_USER,
    FG_MEV_F_CUSTOMER,
    FG_MEV_F_ACCOUNT,
    FG_MEV_F_IP,
    FG_MEV_F_DEVICE,
    FG_MEV_F_PAYEE,
    FG_MEV_F_CURRENCY,
    FG_MEV_F_RESULT,
    FG_MEV_F_NSTR, /* the string fields above live in s[] */
};

struct fg_mev_attr {
    const char *name;
    const char *str; /* the value as text (integers too: "42") */
    int64_t num;     /* the value when is_num */
    int is_num;
};

struct fg_mev {
    int64_t time_ms;
    int64_t seq;
    const char *s[FG_MEV_F_NSTR]; /* never NULL once filled: "" when none */
    int64_t amount;
    int has_amount;
    struct fg_mev_attr attrs[FG_MEV_ATTRS_MAX];
    unsigned nattrs;
};

/* An event with its own copy of every string. */
struct fg_mev_hold {
    struct fg_mev ev;
    size_t used;
    char mem[FG_MEV_HOLD_BYTES];
};

/* Field names as rules spell them: "name", "actor", "user", ... ("amount", "hour" and
 * "weekday" are not string fields). */
const char *fg_mev_field_name(enum fg_mev_field f);
/* The string field called name, or -1. */
int fg_mev_field_of(const char *name);

/* An empty event (all strings "", no amount, no attrs, time 0). */
void fg_mev_hold_reset(struct fg_mev_hold *h);
/* Copy the strings of ev into h (for callers that build a struct fg_mev by hand, e.g.
 * golden cases, decoders). FG_ERR_TOO_LARGE if they do not fit (h is then unchanged). */
FG_MUST_CHECK fg_rc fg_mev_hold_copy(struct fg_mev_hold *h, const struct fg_mev *ev);

/* The attribute called name, or NULL. */
const struct fg_mev_attr *fg_mev_attr(const struct fg_mev *ev, const char *name);

/* A stored row → typed event (mapping above). FG_ERR_INVALID if attrs is not a JSON
 * object; FG_ERR_TOO_LARGE if the strings do not fit the hold. */
FG_MUST_CHECK fg_rc fg_mev_from_event(int64_t seq, int64_t time_ms, const struct fg_event *e,
                                      struct fg_mev_hold *out);

/* An external event (the JSON object above) → typed event. now_ms fills an absent time.
 * On FG_ERR_INVALID / FG_ERR_TOO_LARGE, why (≤ whycap bytes, NUL-terminated) says which
 * member and what is wrong, e.g. "amount: must be an integer >= 0", "colour: unknown member". */
FG_MUST_CHECK fg_rc fg_mev_from_json(const json_t *obj, int64_t now_ms, struct fg_mev_hold *out,
                                     char *why, size_t whycap);

/* A typed event → the row to store (fg_event_emit): type ← name, actor_id ← actor,
 * source_ip ← ip, device_id ← device, object_type/object_id ← the first non-empty of
 * account, customer, user; attrs_json ← the other typed fields plus attrs, plus
 * "origin":origin when origin is not NULL ("external"). attrs_buf holds the JSON text.
 * FG_ERR_TOO_LARGE if it does not fit in attrs_cap or FG_EVENT_ATTRS_MAX. */
FG_MUST_CHECK fg_rc fg_mev_to_event(const struct fg_mev *ev, const char *origin,
                                    struct fg_event *out, char *attrs_buf, size_t attrs_cap);

#endif
