/*
 * risk.h — inline risk questions for the request path (REQUIREMENTS MON-3, AUTH-7, TXN-3,
 * AUTH-10; issue #6 §3; weights and thresholds: docs/risk.md).
 *
 * What it is. The login and transfer paths ask "allow, step up, or deny?" and get an answer in
 * microseconds, with a score 0..100 and the reasons, from in-memory state that the monitor
 * thread keeps current by feeding it every committed event (fg_risk_observe). No question ever
 * touches the database, allocates, or waits for the monitor thread.
 *
 * State (all keyed by the ids events carry):
 *   account   committed transfers out of it: count, sum and max (its own history), a ring of
 *             the last FG_RISK_HOUR_RING (time, amount) for velocity, its last debit (dormancy)
 *             and its recent near-boundary transfers (structuring)
 *   subject   a customer or user id (one name space, as for step-ups): last phone change, last
 *             credential change (customer.reset, password.changed), recent login/MFA failures,
 *             near-boundary transfers, an explicit step-up requirement (until_ms)
 *   ip        recent login/MFA failures, blocked-until
 *
 * Transfer features (each a reason with a weight; the score is their sum, capped at 100):
 *   amount_vs_mean     amount > FG_RISK_MEAN_FACTOR × the account's mean (≥ FG_RISK_HISTORY_MIN
 *                      committed transfers)                                             25
 *   amount_above_max   amount > every committed transfer of the account (same history)     10
 *   new_payee          the caller says so (ledger's new-payee rule)                         20
 *   new_device         the caller says so (AUTH-10)                                         15
 *   velocity_count     ≥ FG_RISK_VELOCITY_COUNT transfers from the account in the last hour,
 *                      this one included                                                    20
 *   velocity_sum       their sum, this one included, ≥ the currency's hour_sum_max          20
 *   structuring        amount in [90 %, 100 %) of a tier boundary of its currency (session_max
 *                      or otp_max) and ≥ FG_RISK_STRUCT_COUNT such in the last 24 h, this one
 *                      included (per customer, or per account when no customer)             25
 *   recent_phone_change   customer.phone_changed of the customer within 72 h               30
 *   recent_credential_change  customer.reset of the customer / password.changed of the user
 *                      within 72 h                                                          30
 *   ato_pattern        a recent phone or credential change AND a new device AND a new payee:
 *                      the account-takeover shape of the acceptance test                    30
 *   night              local 00:00–05:59 (tz_offset_minutes)                                10
 *   dormant            no debit for ≥ 180 days, now active (also for 24 h after it woke)   25
 *   step_up_required   fg_risk_require_step_up of the customer or user is in force          40
 *   ip_blocked         the ip is blocked                                                   100
 * Login features: ip_blocked (100, DENY), ip_failures (≥ FG_RISK_FAIL_COUNT login/MFA failures
 * from the ip in FG_RISK_FAIL_WINDOW_MS: 40), user_failures (the same for the user: 40),
 * new_device (15), step_up_required (40).
 * Decision: DENY at score ≥ FG_RISK_DENY_AT, STEP_UP at ≥ FG_RISK_STEP_UP_AT, else ALLOW;
 * ip_blocked is always DENY and step_up_required at least STEP_UP. Windows are half-open:
 * something `W` old no longer counts (an hour-old transfer is out of the hour).
 *
 * Limits and memory. Everything lives in one budget (fg_risk_options.memory_budget: the
 * entries, their keys and the hash tables). When a shard is full the least recently updated
 * entry is evicted and COUNTED (fg_risk_get_stats: evictions); an entry holding a block or
 * step-up still in force is never evicted. If no entry can be evicted, the new one is not
 * kept and that is counted too (dropped) — never silent. Rings are bounded, so velocity
 * counts saturate at FG_RISK_HOUR_RING (far above the threshold). Ids longer than
 * FG_RISK_KEY_MAX are not tracked. Amounts are clamped to [0, FG_RISK_AMOUNT_MAX].
 *
 * Restart. Observed state lives in memory only: the monitor re-feeds recent events at start
 * (warm-up), reloads blocks and step-ups with fg_risk_block_ip / fg_risk_require_step_up, and
 * may seed account histories older than the warm-up with fg_risk_seed_account.
 *
 * Threads. Every function is safe from any thread at once. The state is split into
 * FG_RISK_SHARDS shards, each behind its own read-write lock: assessments take read locks
 * one shard at a time (never two at once, so no lock order), observe / block / step-up take
 * write locks. Counters are atomic. fg_risk_free only when no other thread uses it.
 */
#ifndef FG_MONITOR_RISK_H
#define FG_MONITOR_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "monitor/mevent.h"

struct fg_limits;
struct fg_risk;

/* ---- limits and tuning (docs/risk.md) ------------------------------------------------------ */
#define FG_RISK_SHARDS 64u                    /* lock stripes */
#define FG_RISK_MEMORY_DEFAULT (32u << 20)    /* 32 MiB when memory_budget is 0 */
#define FG_RISK_MEMORY_MIN (64u << 10)        /* smaller budgets are refused */
#define FG_RISK_MEMORY_MAX ((size_t)16 << 30) /* 16 GiB */
#define FG_RISK_KEY_MAX 128u                  /* = FG_MEV_KEY_MAX */
#define FG_RISK_CURRENCIES_MAX 32u            /* = FG_LIMITS_CURRENCIES_MAX */
#define FG_RISK_AMOUNT_MAX 1000000000000000LL /* = FG_LIMITS_AMOUNT_MAX */
#define FG_RISK_TZ_MINUTES_MAX (14 * 60)
#define FG_RISK_REASONS_MAX 8u

#define FG_RISK_DENY_AT 80
#define FG_RISK_STEP_UP_AT 40
#define FG_RISK_HISTORY_MIN 5 /* committed transfers before history features apply */
#define FG_RISK_MEAN_FACTOR 5 /* amount_vs_mean: > 5 × the mean */
#define FG_RISK_HOUR_RING 16u /* (time, amount) kept per account */
#define FG_RISK_VELOCITY_WINDOW_MS 3600000LL
#define FG_RISK_VELOCITY_COUNT 5 /* transfers per hour, the current one included */
#define FG_RISK_STRUCT_RING 4u   /* near-boundary times kept */
#define FG_RISK_STRUCT_WINDOW_MS (24LL * 3600000)
#define FG_RISK_STRUCT_COUNT 2        /* near-boundary in 24 h, the current one included */
#define FG_RISK_STRUCT_LOW_PERCENT 90 /* near = [90 %, 100 %) of a boundary */
#define FG_RISK_CHANGE_WINDOW_MS (72LL * 3600000) /* phone / credential change counts this long */
#define FG_RISK_NIGHT_END_HOUR 6                  /* night = local [00:00, 06:00) */
#define FG_RISK_DORMANT_MS (180LL * 86400000)
#define FG_RISK_WOKE_MS (24LL * 3600000) /* a woken account stays "dormant" this long */
#define FG_RISK_FAIL_RING 8u             /* failure times kept per ip / user */
#define FG_RISK_FAIL_WINDOW_MS (15LL * 60000)
#define FG_RISK_FAIL_COUNT 5

enum fg_risk_decision { FG_RISK_ALLOW = 0, FG_RISK_STEP_UP = 1, FG_RISK_DENY = 2 };
#define FG_RISK_DECISIONS 3
const char *fg_risk_decision_name(enum fg_risk_decision d); /* "allow" "step_up" "deny" */

/* Every feature; bit (1u << f) in fg_risk_result.features. Heaviest first: reasons come out
 * in this order. */
enum fg_risk_feature {
    FG_RISK_F_IP_BLOCKED = 0,           /* 100 */
    FG_RISK_F_STEP_UP_REQUIRED,         /* 40 */
    FG_RISK_F_IP_FAILURES,              /* 40 */
    FG_RISK_F_USER_FAILURES,            /* 40 */
    FG_RISK_F_ATO_PATTERN,              /* 30 */
    FG_RISK_F_RECENT_PHONE_CHANGE,      /* 30 */
    FG_RISK_F_RECENT_CREDENTIAL_CHANGE, /* 30 */
    FG_RISK_F_AMOUNT_VS_MEAN,           /* 25 */
    FG_RISK_F_STRUCTURING,              /* 25 */
    FG_RISK_F_DORMANT,                  /* 25 */
    FG_RISK_F_NEW_PAYEE,                /* 20 */
    FG_RISK_F_VELOCITY_COUNT,           /* 20 */
    FG_RISK_F_VELOCITY_SUM,             /* 20 */
    FG_RISK_F_NEW_DEVICE,               /* 15 */
    FG_RISK_F_AMOUNT_ABOVE_MAX,         /* 10 */
    FG_RISK_F_NIGHT,                    /* 10 */
    FG_RISK_F_COUNT_
};
const char *fg_risk_feature_name(enum fg_risk_feature f); /* the reason string, "new_payee" */
/* The features that are signs of compromise: DENY needs a score of FG_RISK_DENY_AT AND one of
 * these (or a blocked address); without one a high score is at most STEP_UP. */
#define FG_RISK_COMPROMISE                                                                         \
    ((1u << FG_RISK_F_IP_FAILURES) | (1u << FG_RISK_F_USER_FAILURES) |                            \
     (1u << FG_RISK_F_ATO_PATTERN) | (1u << FG_RISK_F_RECENT_PHONE_CHANGE) |                      \
     (1u << FG_RISK_F_RECENT_CREDENTIAL_CHANGE))
int fg_risk_feature_weight(enum fg_risk_feature f);

struct fg_risk_result {
    enum fg_risk_decision decision;
    int score;                                /* 0..100 */
    unsigned nreasons;                        /* ≤ FG_RISK_REASONS_MAX */
    const char *reasons[FG_RISK_REASONS_MAX]; /* static strings, heaviest first */
    uint32_t features; /* every feature that applied (also beyond the 8 reasons) */
};

/* Strings may be NULL or "" (= unknown: the features that need them do not apply). */
struct fg_risk_transfer {
    const char *customer, *account, *payee, *user, *ip, *device, *currency;
    int64_t amount, now_ms;
    int new_payee, new_device;
};

struct fg_risk_login {
    const char *ip, *device, *user;
    int64_t now_ms;
    int new_device;
};

/* The tier boundaries of one currency (structuring, velocity_sum). 0 = not used. */
struct fg_risk_currency {
    char code[4];
    int64_t session_max;  /* top of the session tier: above it needs a one-time code */
    int64_t otp_max;      /* top of the OTP tier: above it needs a second person */
    int64_t hour_sum_max; /* velocity_sum threshold (fg_risk_options_from_limits: otp_max) */
};

struct fg_risk_options {
    size_t memory_budget;  /* bytes; 0 → FG_RISK_MEMORY_DEFAULT */
    int tz_offset_minutes; /* local time for "night" (monitor.tz_offset_minutes) */
    unsigned ncurrencies;
    struct fg_risk_currency currencies[FG_RISK_CURRENCIES_MAX];
};

/* Fill opt->currencies from data/limits.yaml's tiers (leaves budget and tz alone).
 * FG_ERR_LIMIT if it has more than FG_RISK_CURRENCIES_MAX currencies. */
FG_MUST_CHECK fg_rc fg_risk_options_from_limits(const struct fg_limits *L,
                                                struct fg_risk_options *opt);

/* FG_ERR_INVALID: budget out of [FG_RISK_MEMORY_MIN, FG_RISK_MEMORY_MAX], tz out of range,
 * a bad currency code or boundary; FG_ERR_NOMEM. */
FG_MUST_CHECK fg_rc fg_risk_new(const struct fg_risk_options *opt, struct fg_risk **out);
void fg_risk_free(struct fg_risk *r); /* NULL is a no-op */

/* Feed one committed event (the monitor thread, in commit order). Used: transfer.committed
 * (account, customer, amount, currency), withdrawal.committed (account activity),
 * customer.phone_changed, customer.reset (customer), password.changed (user), login.failed and
 * mfa.failed (ip, user). Everything else is ignored. */
void fg_risk_observe(struct fg_risk *r, const struct fg_mev *ev);

/* Start-up: an account's history older than the warm-up (from the ledger). */
void fg_risk_seed_account(struct fg_risk *r, const char *account, int64_t last_debit_ms,
                          int64_t transfers, int64_t sum, int64_t max);

void fg_risk_assess_login(struct fg_risk *r, const struct fg_risk_login *q,
                          struct fg_risk_result *out);
void fg_risk_assess_transfer(struct fg_risk *r, const struct fg_risk_transfer *q,
                             struct fg_risk_result *out);

/* ---- response state (set by the monitor runtime, reloaded from the database at start) ---- */
/* until_ms replaces any earlier value (the runtime computes escalation). */
void fg_risk_block_ip(struct fg_risk *r, const char *ip, int64_t until_ms);
void fg_risk_unblock_ip(struct fg_risk *r, const char *ip);
/* until_ms if ip is blocked at now_ms (until_ms > now_ms), else 0. */
int64_t fg_risk_ip_blocked_until(struct fg_risk *r, const char *ip, int64_t now_ms);
/* subject: a customer or user id. until_ms ≤ now clears it. */
void fg_risk_require_step_up(struct fg_risk *r, const char *subject, int64_t until_ms);
int64_t fg_risk_step_up_until(struct fg_risk *r, const char *subject, int64_t now_ms);

struct fg_risk_stats {
    size_t keys, bytes, budget; /* entries, bytes charged (entries + tables), the budget */
    size_t accounts, subjects, ips;
    uint64_t observed;                  /* events that changed state */
    uint64_t evictions;                 /* entries evicted to make room */
    uint64_t dropped;                   /* new entries not kept: nothing evictable */
    uint64_t logins[FG_RISK_DECISIONS]; /* assessments by decision */
    uint64_t transfers[FG_RISK_DECISIONS];
};
void fg_risk_get_stats(struct fg_risk *r, struct fg_risk_stats *out);

#endif
