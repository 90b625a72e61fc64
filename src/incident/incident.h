/*
 * incident.h — security incidents: their lifecycle, deadlines, timeline, evidence, review
 * and report (REQUIREMENTS INC-1..5, MON-2, GOV-5; issue #6; tables incidents,
 * incident_timeline, incident_evidence in migrations/0010_incidents.sql; docs/incidents.md).
 *
 * Lifecycle (the only transitions; anything else is FG_ERR_CONFLICT naming from and to):
 *
 *     reported ──▶ investigating ──▶ contained ──▶ recovered ──▶ closed
 *                        ▲                                         │
 *                        └──────────────── reopen ─────────────────┘
 *
 * Closing needs a review (root cause + improvements, fg_incident_review, allowed from
 * recovered or closed). A closed incident is retained: retain_until_ms = closed_ms +
 * archive_years (INC-4) and nothing deletes an incident (the schema refuses).
 *
 * Deadlines (INC-2), from the profile (data/incidents.yaml; [incident] profile picks the
 * default, a hand-opened incident may name another), counted from discovered_ms:
 *   report  met when the incident is reported (created; a rule-opened incident counts as
 *           reported when it opens; one opened by hand with discovered_at in the past may
 *           already be late),
 *   handle  met when it reaches contained,
 *   recover met when it reaches recovered.
 * A deadline missed is marked once (report_breached / handle_breached / recover_breached)
 * by fg_incident_mark_breach(), which the deadline clock (struct fg_incidents, below) runs
 * within about a second of the deadline passing: it raises exactly one alert
 * "incident.deadline.<report|handle|recover>" (key = the incident id; level high, critical
 * for a critical incident), adds a timeline entry and emits the event
 * incident.deadline_breached; the clock attaches the audit record.
 *
 * Timeline: every change appends an entry (kind alert | response | transition | note |
 * evidence | deadline) numbered 1, 2, ... per incident. Entries are never changed.
 *
 * Writers run inside a write intent on the store's writer (the caller attaches the audit
 * record to the intent; incident.* events are emitted here, in the same transaction). Reads
 * run on a read lease. Texts are user input bounded by the limits below (FG_ERR_TOO_LARGE
 * over them, FG_ERR_INVALID when malformed); they are stored and shown as given (export
 * escapes them for Markdown) and must not carry secrets (people are told so in the docs).
 */
#ifndef FG_INCIDENT_INCIDENT_H
#define FG_INCIDENT_INCIDENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/rc.h"
#include "incident/alert.h"
#include "store/store.h"

/* ---- limits (bytes, excluding the NUL) ---------------------------------------------------- */
#define FG_INCIDENT_ID_LEN 26u /* "inc_" + 22 base64url characters */
#define FG_INCIDENT_ID_SIZE (FG_INCIDENT_ID_LEN + 1u)
#define FG_INCIDENT_TYPE_MAX 32u /* [a-z0-9_]{1,32}: account_takeover, fraud, ... */
#define FG_INCIDENT_TITLE_MAX 160u
#define FG_INCIDENT_PROFILE_MAX 31u /* a profile name of data/incidents.yaml */
#define FG_INCIDENT_PROFILES_MAX 8u
#define FG_INCIDENT_TEXT_MAX 4096u       /* features, scope, first_actions, root_cause, notes */
#define FG_INCIDENT_IDS_MAX 64u          /* ids in accounts / users */
#define FG_INCIDENT_IDS_JSON_MAX 4096u   /* the JSON array text of accounts / users */
#define FG_INCIDENT_IMPROVEMENTS_MAX 32u /* items of a review */
#define FG_INCIDENT_IMPROVEMENTS_JSON_MAX 8192u
#define FG_INCIDENT_ACTOR_MAX 64u /* a user id, "rule:<id>", "system" */
#define FG_INCIDENT_REF_MAX 128u  /* a timeline reference: alert id, event seq, ... */
#define FG_INCIDENT_EVIDENCE_REF_MAX 128u
#define FG_INCIDENT_EVIDENCE_MAX 1000u /* evidence items per incident */
#define FG_INCIDENT_TIMELINE_MAX                                                                   \
    100000u /* entries per incident (a rule joining an incident                                    \
             * over and over stops adding entries here) */
#define FG_INCIDENT_LIST_MAX 200u
#define FG_INCIDENT_LIST_DEFAULT 50u
#define FG_INCIDENT_CURSOR_SIZE (20u + 1u + FG_INCIDENT_ID_LEN + 1u)
#define FG_INCIDENT_DEADLINE_H_MAX (24 * 366) /* a profile's hours, 1..this */
#define FG_INCIDENT_POLICY_BYTES_MAX (64u * 1024u)
#define FG_INCIDENT_EXPORT_MAX (4u * 1024u * 1024u) /* a report larger than this: TOO_LARGE */

/* ---- policy: deadline profiles (data/incidents.yaml) ------------------------------------ */

struct fg_incident_profile {
    char name[FG_INCIDENT_PROFILE_MAX + 1];
    int64_t report_h, handle_h, recover_h; /* hours after discovery */
};
struct fg_incident_policy {
    struct fg_incident_profile profiles[FG_INCIDENT_PROFILES_MAX];
    size_t nprofiles;
    size_t default_profile; /* index into profiles */
    int64_t archive_years;  /* closed incidents kept this long (INC-4) */
};

/* Parse a policy YAML text (`profiles: {name: {report_h, handle_h, recover_h}}`), pick
 * default_profile (must exist) and archive_years (>= 1). Every problem goes to errors (may be
 * NULL) with its line. FG_ERR_CONFIG on any error. */
FG_MUST_CHECK fg_rc fg_incident_policy_parse(const char *yaml, size_t len,
                                             const char *default_profile, int64_t archive_years,
                                             struct fg_incident_policy *out, struct fg_buf *errors);
/* The embedded data/incidents.yaml with cfg's [incident] profile and archive_years. */
FG_MUST_CHECK fg_rc fg_incident_policy_load(const struct fg_config *cfg,
                                            struct fg_incident_policy *out, struct fg_buf *errors);
/* The built-in policy when none is given: standard {24, 48, 72} and
 * critical_infrastructure {1, 48, 72}, default standard, archive 3 years. */
const struct fg_incident_policy *fg_incident_policy_builtin(void);
/* The profile called name (NULL / "" = the default), or NULL. */
const struct fg_incident_profile *fg_incident_profile_find(const struct fg_incident_policy *p,
                                                           const char *name);

/* ---- states and deadlines --------------------------------------------------------------- */

enum fg_incident_state {
    FG_INC_REPORTED = 0,
    FG_INC_INVESTIGATING,
    FG_INC_CONTAINED,
    FG_INC_RECOVERED,
    FG_INC_CLOSED,
    FG_INC_STATE_COUNT_
};
const char *fg_incident_state_name(enum fg_incident_state s);
/* FG_ERR_INVALID for an unknown name. */
FG_MUST_CHECK fg_rc fg_incident_state_parse(const char *name, enum fg_incident_state *out);
/* 1 if from → to is a transition of the lifecycle (closing's review requirement aside). */
int fg_incident_transition_allowed(enum fg_incident_state from, enum fg_incident_state to);

enum fg_incident_deadline {
    FG_INC_DL_REPORT = 0,
    FG_INC_DL_HANDLE,
    FG_INC_DL_RECOVER,
    FG_INC_DL_COUNT_
};
const char *fg_incident_deadline_name(enum fg_incident_deadline d); /* report|handle|recover */
/* The three due times of a profile for a discovery time (ms). */
void fg_incident_deadlines(const struct fg_incident_profile *p, int64_t discovered_ms,
                           int64_t due_ms[FG_INC_DL_COUNT_]);

/* Severities are the rule levels: low | medium | high | critical. */
int fg_incident_severity_ok(const char *s);
/* 1 if s is a well-formed incident id. */
int fg_incident_id_ok(const char *s);

/* ---- writers (inside a write intent) ----------------------------------------------------- */

/* Open by hand (POST /v1/incidents). NULL texts mean "" / "[]". discovered_ms 0 = now; a
 * discovery in the future is FG_ERR_INVALID. accounts_json / users_json: JSON arrays of at
 * most FG_INCIDENT_IDS_MAX id strings. profile NULL = the policy's default (FG_ERR_INVALID
 * for an unknown one). Emits incident.opened. */
struct fg_incident_new {
    const char *type, *severity, *title;
    int64_t discovered_ms;
    const char *accounts_json, *users_json;
    const char *features, *scope, *first_actions;
    const char *profile;
    const char *opened_by; /* the user id */
};
FG_MUST_CHECK fg_rc fg_incident_open(fg_conn *c, const struct fg_incident_policy *pol,
                                     const struct fg_incident_new *n, int64_t now_ms,
                                     char id_out[FG_INCIDENT_ID_SIZE]);

/* Open, or join, the incident of rule + key (the monitor runtime, action open_incident).
 * If an incident of this rule + key is not closed, it is joined: a timeline entry (kind
 * alert, ref = alert id) and the account / user added to its lists; *created = 0.
 * Otherwise a new incident opens (state reported, opened_by "rule:<rule_id>", discovered =
 * reported = now, title "<rule_title> (<key>)", the policy's default profile), with a
 * timeline entry for the alert, its alert linked (fg_alert_link_incident) and an
 * incident.opened event; *created = 1. policy NULL = fg_incident_policy_builtin(). */
struct fg_incident_rule_open {
    const struct fg_incident_policy *policy;
    const char *rule_id;    /* required */
    const char *rule_title; /* NULL = rule_id */
    const char *key;        /* the firing's key ("" allowed) */
    const char *type;       /* the action's type, e.g. "account_takeover"; required */
    const char *severity;   /* the rule's level */
    const char *alert_id;   /* the alert raised for this firing, or NULL */
    int64_t event_seq;      /* the triggering event (timeline ref), 0 = none */
    const char *account_id; /* target of the firing, added to accounts; NULL = none */
    const char *user_id;    /* likewise users */
};
FG_MUST_CHECK fg_rc fg_incident_open_for_rule(fg_conn *c, const struct fg_incident_rule_open *o,
                                              int64_t now_ms, char id_out[FG_INCIDENT_ID_SIZE],
                                              int *created);

/* Timeline kinds: "alert" "response" "transition" "note" "evidence" "deadline". Appends
 * entry seq (next number). ref may be NULL. FG_ERR_NOT_FOUND, FG_ERR_LIMIT (timeline full). */
FG_MUST_CHECK fg_rc fg_incident_timeline_add(fg_conn *c, const char *incident_id, const char *kind,
                                             const char *actor, const char *text, const char *ref,
                                             int64_t now_ms);

/* Move to `to`. Sets contained_ms / recovered_ms / closed_ms the first time (closing also
 * retain_until_ms; reopening clears closed_ms), a transition timeline entry with the reason,
 * and emits incident.transitioned. FG_ERR_NOT_FOUND; FG_ERR_CONFLICT when the lifecycle
 * refuses (*why = a static sentence, e.g. "transition not allowed" or "closing requires a
 * review"); from_out gets the state before (also on CONFLICT). pol NULL = builtin. */
FG_MUST_CHECK fg_rc fg_incident_transition(fg_conn *c, const struct fg_incident_policy *pol,
                                           const char *id, enum fg_incident_state to,
                                           const char *reason, const char *actor, int64_t now_ms,
                                           enum fg_incident_state *from_out, const char **why);

/* Evidence: kind "event" (from/to = event seqs, to may be NULL = from), "audit_range"
 * (from/to = audit seqs), "alert" (from = alert id). Adds an evidence timeline entry.
 * FG_ERR_INVALID (bad kind or refs; a range with to < from), FG_ERR_NOT_FOUND,
 * FG_ERR_LIMIT (FG_INCIDENT_EVIDENCE_MAX). */
FG_MUST_CHECK fg_rc fg_incident_evidence_add(fg_conn *c, const char *id, const char *kind,
                                             const char *from_ref, const char *to_ref,
                                             const char *note, const char *actor, int64_t now_ms);

/* Review (INC-5): root cause text and improvements_json, a JSON array of
 * {"title","owner","due"} (due "YYYY-MM-DD"; 1..FG_INCIDENT_IMPROVEMENTS_MAX items). Only
 * from recovered or closed (FG_ERR_CONFLICT otherwise); a later review replaces the earlier
 * one (both stay in the timeline). */
FG_MUST_CHECK fg_rc fg_incident_review(fg_conn *c, const char *id, const char *root_cause,
                                       const char *improvements_json, const char *actor,
                                       int64_t now_ms);

/* The deadline clock's step for one incident: if deadline d of incident id has passed at
 * now_ms (not met in time) and is not marked yet, mark it, raise its alert, add a deadline
 * timeline entry and emit incident.deadline_breached; *marked = 1. Otherwise nothing
 * (*marked = 0). alert_id_out (may be NULL) gets the alert's id when marked. */
FG_MUST_CHECK fg_rc fg_incident_mark_breach(fg_conn *c, const char *id, enum fg_incident_deadline d,
                                            int64_t now_ms, int *marked,
                                            char alert_id_out[FG_ALERT_ID_SIZE]);

/* ---- reads ------------------------------------------------------------------------------ */

/* One incident's header fields (timeline and evidence: fg_incident_json). */
struct fg_incident_view {
    char id[FG_INCIDENT_ID_SIZE];
    char type[FG_INCIDENT_TYPE_MAX + 1];
    char severity[16];
    char title[FG_INCIDENT_TITLE_MAX + 1];
    enum fg_incident_state state;
    char profile[FG_INCIDENT_PROFILE_MAX + 1];
    int64_t discovered_ms, reported_ms, opened_ms, contained_ms, recovered_ms, closed_ms;
    int64_t due_ms[FG_INC_DL_COUNT_];
    int breached[FG_INC_DL_COUNT_];
    char opened_by[FG_INCIDENT_ACTOR_MAX + 1];
    char rule_id[FG_ALERT_RULE_MAX + 1];
    char key[FG_ALERT_KEY_MAX + 1];
    int64_t retain_until_ms;
    int reviewed; /* a root cause is recorded */
};
FG_MUST_CHECK fg_rc fg_incident_get(fg_conn *c, const char *id, struct fg_incident_view *out);

struct fg_incident_filter {
    const char *state;    /* NULL = any; "open" = every state but closed */
    const char *severity; /* exact */
    const char *cursor;   /* next_cursor of the previous page */
    unsigned limit;       /* 1..FG_INCIDENT_LIST_MAX; 0 = default */
};
typedef fg_rc (*fg_incident_fn)(void *ctx, const struct fg_incident_view *v);
/* Newest first (opened_ms, id). FG_ERR_INVALID for a bad filter. */
FG_MUST_CHECK fg_rc fg_incident_list(fg_conn *c, const struct fg_incident_filter *f,
                                     fg_incident_fn fn, void *ctx,
                                     char next_cursor[FG_INCIDENT_CURSOR_SIZE]);

/* A deadline due and not marked: (incident id, deadline). */
typedef fg_rc (*fg_incident_due_fn)(void *ctx, const char *id, enum fg_incident_deadline d);
/* read. Every deadline that has passed at now_ms without being met or marked (at most
 * `max` calls). */
FG_MUST_CHECK fg_rc fg_incident_due(fg_conn *c, int64_t now_ms, unsigned max, fg_incident_due_fn fn,
                                    void *ctx);

/* Counts for /metrics: incidents per state. */
FG_MUST_CHECK fg_rc fg_incident_count_by_state(fg_conn *c, int64_t out[FG_INC_STATE_COUNT_]);

/* The list shape of one incident (compact JSON object) appended to out. */
FG_MUST_CHECK fg_rc fg_incident_summary_json(const struct fg_incident_view *v, struct fg_buf *out);
/* The full incident as JSON (header, deadlines {due, met_at, breached}, lists, review,
 * timeline, evidence) — GET /v1/incidents/{id} and export format json. */
FG_MUST_CHECK fg_rc fg_incident_json(fg_conn *c, const char *id, struct fg_buf *out);
/* The Markdown report (export format md): header fields, deadlines met/breached, timeline
 * table, evidence, review. now_ms stamps "generated at". */
FG_MUST_CHECK fg_rc fg_incident_markdown(fg_conn *c, const char *id, int64_t now_ms,
                                         struct fg_buf *out);

/* ---- the deadline clock (`finguard serve`) ----------------------------------------------- */

struct fg_incidents;
struct fg_incidents_options {
    const struct fg_config *cfg; /* [incident] profile, archive_years */
    fg_store *store;
    int64_t period_ms; /* 0 = FG_INCIDENTS_TICK_MS */
};
#define FG_INCIDENTS_TICK_MS 1000
#define FG_INCIDENTS_DUE_BATCH 64u /* deadlines marked per tick at most */

/* Load the policy (embedded data/incidents.yaml; errors explained in errors). */
FG_MUST_CHECK fg_rc fg_incidents_new(const struct fg_incidents_options *opt,
                                     struct fg_incidents **out, struct fg_buf *errors);
/* Start the ticker thread: each period (fg_time_wall_ms, so the injected clock moves it)
 * it reads due deadlines and marks each in its own audited intent (audit action
 * "incident.deadline_breached", actor "system"). */
FG_MUST_CHECK fg_rc fg_incidents_start(struct fg_incidents *inc);
/* Stop and join the thread (before fg_store_close). Safe if never started. */
void fg_incidents_stop(struct fg_incidents *inc);
void fg_incidents_free(struct fg_incidents *inc);
/* The policy in force (lives as long as inc). NULL inc → builtin. */
const struct fg_incident_policy *fg_incidents_policy(const struct fg_incidents *inc);
/* Run one tick now on the calling thread (tests, drills); *marked = deadlines marked. */
FG_MUST_CHECK fg_rc fg_incidents_tick(struct fg_incidents *inc, unsigned *marked);
/* Prometheus text: finguard_incident_deadline_breaches_total{deadline=...} (since start),
 * finguard_incidents{state=...} and finguard_alerts_unresolved{level=...} (read from the
 * database on a read lease). Appends to out; errors leave what was appended. */
void fg_incidents_metrics(struct fg_incidents *inc, struct fg_buf *out);

#endif
