/*
 * alert.h — alerts: what a detection rule (or an incident deadline) raised, deduplicated by
 * rule + key, and the people's answer to them (REQUIREMENTS MON-1, MON-2, INC-1; issue #6;
 * table `alerts` in migrations/0010_incidents.sql; docs/incidents.md).
 *
 * Life of an alert:
 *
 *     open ──ack──▶ acked ──resolve──▶ resolved
 *       └─────────resolve─────────────▶ resolved
 *
 * Dedup. fg_alert_raise() for a rule + key that has an alert not yet resolved (open or
 * acked) adds to that alert: count + 1, last_ms, last_event_seq (a higher level raises the
 * stored level; title, tags and details keep their first values) — no new row, *created = 0.
 * Once resolved, the next raise for the same rule + key opens a new row (*created = 1).
 * The schema holds at most one unresolved alert per rule + key (a partial unique index),
 * so two writers can never split one alert in two.
 *
 * Who writes. The monitor runtime raises alerts inside ITS write intent (one transaction
 * with the responses and the audit record); the incident deadline clock raises
 * "incident.deadline.<report|handle|recover>" alerts (key = the incident id). People ack
 * and resolve through the routes (permission alerts.ack), each change in one transaction
 * with its audit record. Nothing deletes an alert.
 *
 * Limits: every text input has a named maximum below; over it → FG_ERR_TOO_LARGE, not
 * printable / malformed → FG_ERR_INVALID. details_json must be one JSON object and never
 * hold a secret (the runtime builds it from typed event fields, never from a password).
 *
 * Threads: every function runs on the thread holding `c` (writes: the store's writer inside
 * an intent; reads: a read-lease holder). No global state.
 */
#ifndef FG_INCIDENT_ALERT_H
#define FG_INCIDENT_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/rc.h"
#include "store/store.h"

/* ---- limits (bytes, excluding the NUL) ---------------------------------------------------- */
#define FG_ALERT_ID_LEN 26u /* "alr_" + 22 base64url characters (16 random bytes) */
#define FG_ALERT_ID_SIZE (FG_ALERT_ID_LEN + 1u)
#define FG_ALERT_RULE_MAX 64u      /* rule ids: [a-z0-9_.-]{1,64} (engine.h FG_RULE_ID_MAX) */
#define FG_ALERT_TITLE_MAX 160u    /* engine.h FG_RULE_TITLE_MAX */
#define FG_ALERT_KEY_MAX 256u      /* engine.h FG_RULE_KEY_MAX; "" = the rule's global key */
#define FG_ALERT_TAGS_MAX 1100u    /* comma list: 16 tags of <= 64 characters */
#define FG_ALERT_DETAILS_MAX 2048u /* one JSON object */
#define FG_ALERT_ACTOR_MAX 64u     /* who acked / resolved (a user id) */
#define FG_ALERT_LEVEL_MAX 8u      /* "critical" */
#define FG_ALERT_STATE_MAX 8u      /* "resolved" */
#define FG_ALERT_INCIDENT_MAX 26u  /* an incident id (incident.h FG_INCIDENT_ID_LEN) */
#define FG_ALERT_LIST_MAX 200u     /* rows per page */
#define FG_ALERT_LIST_DEFAULT 50u
/* Cursor text "<last_ms>.<id>" of the last row of a page (newest first). */
#define FG_ALERT_CURSOR_SIZE (20u + 1u + FG_ALERT_ID_LEN + 1u)

/* What the runtime raises. Strings are NUL-terminated; NULL means "" (tags, details "{}").
 * level is "low" | "medium" | "high" | "critical" (fg_rule_level_name() of the rule). */
struct fg_alert_new {
    const char *rule_id;
    const char *level;
    const char *title;
    const char *key;
    const char *tags;         /* comma list, e.g. "AUTH-2,MON-1,attack.t1110.001" */
    int64_t event_seq;        /* the event that triggered this raise (0 = none) */
    int64_t first_seq;        /* the first event of the window/sequence (0 = event_seq) */
    const char *details_json; /* one JSON object, <= FG_ALERT_DETAILS_MAX */
};

/* write (an intent). Raise or deduplicate (see above). id_out gets the alert's id (new or
 * joined), *created 1 if a row was inserted. created may be NULL.
 * FG_ERR_INVALID / FG_ERR_TOO_LARGE for bad input, FG_ERR_STORE. */
FG_MUST_CHECK fg_rc fg_alert_raise(fg_conn *c, const struct fg_alert_new *a, int64_t now_ms,
                                   char id_out[FG_ALERT_ID_SIZE], int *created);

/* write (an intent). Record that the alert led to an incident (alerts.incident_id). An
 * alert already linked keeps its first incident (FG_OK, unchanged). FG_ERR_NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_alert_link_incident(fg_conn *c, const char *alert_id,
                                           const char *incident_id);

/* One alert as stored. Text members are NUL-terminated ("" when unset; times 0). */
struct fg_alert_view {
    char id[FG_ALERT_ID_SIZE];
    char rule_id[FG_ALERT_RULE_MAX + 1];
    char level[FG_ALERT_LEVEL_MAX + 1];
    char title[FG_ALERT_TITLE_MAX + 1];
    char key[FG_ALERT_KEY_MAX + 1];
    char state[FG_ALERT_STATE_MAX + 1]; /* open | acked | resolved */
    int64_t count;
    int64_t first_ms, last_ms;
    int64_t first_event_seq, last_event_seq;
    char tags[FG_ALERT_TAGS_MAX + 1];
    char details[FG_ALERT_DETAILS_MAX + 1];
    char acked_by[FG_ALERT_ACTOR_MAX + 1];
    int64_t acked_ms;
    char resolved_by[FG_ALERT_ACTOR_MAX + 1];
    int64_t resolved_ms;
    char incident_id[FG_ALERT_INCIDENT_MAX + 1];
};

/* read. FG_ERR_NOT_FOUND (also for a malformed id). */
FG_MUST_CHECK fg_rc fg_alert_get(fg_conn *c, const char *id, struct fg_alert_view *out);

/* Filters of a list; NULL / 0 = any. Newest first (last_ms, id). */
struct fg_alert_filter {
    const char *state;  /* open | acked | resolved */
    const char *level;  /* low | medium | high | critical: this level and above */
    const char *rule;   /* exact rule id */
    int64_t since_ms;   /* last_ms >= since_ms */
    const char *cursor; /* next_cursor of the previous page, or NULL */
    unsigned limit;     /* 1..FG_ALERT_LIST_MAX; 0 = FG_ALERT_LIST_DEFAULT */
};
typedef fg_rc (*fg_alert_fn)(void *ctx, const struct fg_alert_view *a);
/* read. fn per row (its error stops and is returned). next_cursor ("" at the end) if not
 * NULL. FG_ERR_INVALID for a bad filter value or cursor. */
FG_MUST_CHECK fg_rc fg_alert_list(fg_conn *c, const struct fg_alert_filter *f, fg_alert_fn fn,
                                  void *ctx, char next_cursor[FG_ALERT_CURSOR_SIZE]);

/* write (an intent). open → acked. FG_ERR_NOT_FOUND, FG_ERR_CONFLICT (not open). out (may be
 * NULL) gets the alert after the change. */
FG_MUST_CHECK fg_rc fg_alert_ack(fg_conn *c, const char *id, const char *actor, int64_t now_ms,
                                 struct fg_alert_view *out);
/* write (an intent). open|acked → resolved. FG_ERR_NOT_FOUND, FG_ERR_CONFLICT (resolved). */
FG_MUST_CHECK fg_rc fg_alert_resolve(fg_conn *c, const char *id, const char *actor, int64_t now_ms,
                                     struct fg_alert_view *out);

/* read. Alerts not resolved, per level (index 0 low .. 3 critical), for /metrics. */
FG_MUST_CHECK fg_rc fg_alert_count_unresolved(fg_conn *c, int64_t out[4]);

/* 1..4 for "low".."critical", 0 for anything else. */
int fg_alert_level_rank(const char *level);
/* 1 if s is a well-formed alert id. */
int fg_alert_id_ok(const char *s);

/* The API shape of one alert (docs/API.md "Alerts") as compact JSON appended to out. */
FG_MUST_CHECK fg_rc fg_alert_json(const struct fg_alert_view *a, struct fg_buf *out);

#endif
