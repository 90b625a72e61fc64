/*
 * monitor.h — the running monitor: real-time detection and active response (REQUIREMENTS
 * MON-1, MON-2, MON-3, MON-5, MON-6, AUTH-7, DATA-6, GOV-5; issue #6).
 *
 * One thread tails the `events` table in commit order (woken by the store's after-commit
 * hook, so an event is looked at within a millisecond or so of its commit), turns each row
 * into a typed event (mevent.h), feeds the risk state (risk.h) and the rule engine
 * (engine.h), and turns each firing into ONE write intent that, in one transaction:
 *   - raises (or deduplicates into) the alert of rule + key (incident/alert.h),
 *   - runs the rule's responses that are not allowlisted (monitor.allowlist: an allowlisted
 *     address is never blocked and what comes from it never locks or revokes; an allowlisted
 *     user is never locked, revoked or stepped up; protective responses for a customer's
 *     money — freeze, step-up — never depend on the source address):
 *       lock_user        iam_users.locked_until_ms (the login path refuses with 423)
 *       block_ip         monitor_blocks (ip): every request from it gets 429 + Retry-After;
 *                        each repeat multiplies the duration by `escalate`, up to max_s
 *       revoke_sessions  the user's sessions end (rows now, the live table after commit)
 *       freeze_account   the account is frozen (ledger, TXN-5)
 *       require_step_up  monitor_blocks (step_up): the customer's/user's transfers need a
 *                        one-time code until it expires
 *       open_incident    opens, or joins, the incident of rule + key (incident/incident.h)
 *   - records an event "monitor.response" per response, and one audit record
 *     "monitor.respond" (actor "rule:<id>") listing the alert, the incident, and each action
 *     with its target and expiry — every response is in the audit chain,
 *   - advances the persisted cursor (monitor_state).
 * After the commit, the in-memory state the request path reads (blocked IPs, step-ups,
 * live sessions) is updated and the alert is exported to the SIEM (incident/siem.h).
 *
 * Restart: the cursor says where detection stopped; events up to it within the longest rule
 * window are re-fed first with their firings discarded (warm-up), so windows survive a
 * restart; active blocks and step-ups are loaded from monitor_blocks. A crash between a
 * firing's commit and the next cursor write can make the same firing run again: the alert
 * deduplicates (count + 1) and a block is extended, nothing is lost.
 *
 * Durations expire by time: blocks and step-ups carry until_ms; a lock carries
 * locked_until_ms. Rules are reloaded (fg_monitor_reload) by swapping in a new engine:
 * windows start empty for the new set (the reload is audited and emits rules.reloaded).
 *
 * Threads: fg_monitor_ip_blocked / fg_monitor_assess_* / fg_monitor_metrics are safe from any
 * thread and do not block on the monitor thread (they read the risk state's striped locks).
 */
#ifndef FG_MONITOR_MONITOR_H
#define FG_MONITOR_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/rc.h"
#include "monitor/engine.h"
#include "monitor/risk.h"
#include "store/store.h"

#define FG_MONITOR_SCAN_BATCH 512u     /* events read per lease */
#define FG_MONITOR_IDLE_WAIT_MS 100    /* the thread also wakes this often without a commit */
#define FG_MONITOR_WARM_MAX_EVENTS 2000000u /* warm-up re-feeds at most this many events */
#define FG_MONITOR_PRUNE_EVERY_MS (3600 * 1000) /* events retention runs hourly */
#define FG_MONITOR_PRUNE_ROWS 10000u

struct fg_monitor;
struct fg_iam;
struct fg_incidents;
struct fg_limits;

struct fg_monitor_options {
    const struct fg_config *cfg; /* [monitor] settings */
    fg_store *store;
    struct fg_iam *iam;             /* lock / revoke; NULL in tools */
    struct fg_incidents *incidents; /* incident policy; NULL = the configured default */
    const struct fg_limits *limits; /* the OTP tier boundary per currency (structuring) */
};

/* Load the rules (monitor.rules_dir or the shipped pack; every error into errors), build the
 * engine and the risk state, parse the allowlist, open the SIEM sink. */
FG_MUST_CHECK fg_rc fg_monitor_new(const struct fg_monitor_options *opt, struct fg_monitor **out,
                                   struct fg_buf *errors);
/* Chain the store's hooks (wake-up on commit), load blocks, warm up, start the thread. */
FG_MUST_CHECK fg_rc fg_monitor_start(struct fg_monitor *m);
/* Finish the events already committed, persist the cursor, stop the thread. */
void fg_monitor_stop(struct fg_monitor *m);
void fg_monitor_free(struct fg_monitor *m);
/* The wake-up for fg_sys_set_commit_listener (ctx = the monitor): cheap, never blocks long. */
void fg_monitor_commit_listener(void *ctx);

/* ---- the request path ------------------------------------------------------------------ */

/* Milliseconds until `ip` may come back; 0 = not blocked (or allowlisted). */
int64_t fg_monitor_ip_blocked(struct fg_monitor *m, const char *ip, int64_t now_ms);
/* The risk questions (risk.h), plus the allowlist: an allowlisted ip or user is never refused
 * or stepped up because of a response (a block, a required step-up); its behaviour still
 * scores and decides. */
void fg_monitor_assess_login(struct fg_monitor *m, const struct fg_risk_login *q,
                             struct fg_risk_result *out);
void fg_monitor_assess_transfer(struct fg_monitor *m, const struct fg_risk_transfer *q,
                                struct fg_risk_result *out);

/* 1 when risk answers and responses are enforced (monitor.enforce); 0 in a dry run, where
 * callers record the risk answer with the event but do not act on it. */
int fg_monitor_enforcing(const struct fg_monitor *m);

/* ---- management ------------------------------------------------------------------------ */

/* Reload the rules from where they came from; on any error nothing changes and errors has
 * every message. *nrules = the count now in force. */
FG_MUST_CHECK fg_rc fg_monitor_reload(struct fg_monitor *m, struct fg_buf *errors,
                                      size_t *nrules);
/* The rules in force with their counters, as a JSON array text appended to out. */
FG_MUST_CHECK fg_rc fg_monitor_rules_json(struct fg_monitor *m, struct fg_buf *out);
/* Prometheus text: events seen, firings, evictions, responses by action, lag, risk. */
void fg_monitor_metrics(struct fg_monitor *m, struct fg_buf *out);
/* Wait (≤ timeout_ms) until every event committed before the call has been evaluated and
 * its responses committed: tests and drills. FG_ERR_TIMEOUT otherwise. */
FG_MUST_CHECK fg_rc fg_monitor_sync(struct fg_monitor *m, int64_t timeout_ms);

#endif
