/*
 * engine.h — detection rules as data and the engine that evaluates them (REQUIREMENTS
 * MON-1, MON-2, MON-3, AUTH-7, DATA-6; issue #6). The rule language is docs/rules.md.
 *
 * Rules are YAML files (libyaml), in the spirit of Sigma: id, title, level, tags, a match
 * (event name + field conditions: equals, in, numeric comparisons, CIDR, PCRE2 regex with
 * match limits), an optional aggregate (count / sum / distinct over window_s grouped by
 * fields, with a threshold) or sequence (step A then step B ... on the same key within
 * within_s), suppress_s, and actions. No rule is C code.
 *
 * Loading collects EVERY error of every file as "FILE:LINE: message\n" into the caller's
 * buffer (a linter, not a parser that stops at the first error) and refuses the whole set
 * when there is one: a half-loaded pack would be a silent gap in detection.
 *
 * The engine keeps per-rule key tables (sliding windows, distinct sets, sequence progress,
 * suppression) inside one memory budget. When a table must grow past the budget it evicts
 * its least recently used key, counts the eviction (per rule and in total) and reports it
 * as a firing of the built-in rule FG_RULE_EVICTION (at most once per rule per minute of
 * event time): never a silent drop.
 *
 * Time is the events' time (time_ms), never the wall clock: replaying a log gives the same
 * answers as living through it, and golden cases are exact. Events should arrive in time
 * order; an older event counts into the current windows.
 *
 * Threads: fg_rules is immutable once loaded (share it freely). An engine belongs to one
 * thread (the monitor's); it never locks.
 */
#ifndef FG_MONITOR_ENGINE_H
#define FG_MONITOR_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/rc.h"
#include "monitor/mevent.h"

/* ---- limits --------------------------------------------------------------------------- */
#define FG_RULES_MAX 1024u         /* rules in one set */
#define FG_RULE_ID_MAX 64u         /* [a-z0-9_.-]{1,64} */
#define FG_RULE_TITLE_MAX 160u
#define FG_RULE_TAGS_MAX 16u
#define FG_RULE_TAG_MAX 64u
#define FG_RULE_CONDS_MAX 16u      /* conditions in one match or step */
#define FG_RULE_LIST_MAX 64u       /* values of one in / not_in / cidr list */
#define FG_RULE_BY_MAX 4u          /* group-by fields */
#define FG_RULE_STEPS_MAX 4u       /* steps of a sequence (2..4) */
#define FG_RULE_ACTIONS_MAX 8u
#define FG_RULE_WINDOW_S_MAX 2678400 /* 31 days */
#define FG_RULE_REGEX_MATCH_LIMIT 10000u /* PCRE2 match limit per evaluation */
#define FG_RULE_KEY_MAX 256u       /* "ip=1.2.3.4,user=u1" */
#define FG_RULE_FILE_BYTES_MAX (1u << 20)

/* The built-in rule that reports evictions (its key is the evicting rule's id). */
#define FG_RULE_EVICTION "monitor.eviction"

enum fg_rule_level { FG_LEVEL_LOW = 1, FG_LEVEL_MEDIUM, FG_LEVEL_HIGH, FG_LEVEL_CRITICAL };
const char *fg_rule_level_name(enum fg_rule_level l); /* "low" .. "critical" */

enum fg_action_kind {
    FG_ACT_ALERT = 1,
    FG_ACT_OPEN_INCIDENT,   /* param: incident type (text) */
    FG_ACT_LOCK_USER,       /* target: user; duration_s */
    FG_ACT_BLOCK_IP,        /* target: ip; duration_s, escalate (×), max_s */
    FG_ACT_REVOKE_SESSIONS, /* target: user */
    FG_ACT_FREEZE_ACCOUNT,  /* target: account */
    FG_ACT_REQUIRE_STEP_UP, /* target: customer if set, else user; duration_s */
};
const char *fg_action_name(enum fg_action_kind k); /* "alert", "lock_user", ... */

struct fg_rule_action {
    enum fg_action_kind kind;
    int64_t duration_s; /* 0 = the action's default (lock 1800, block 900, step-up 3600) */
    int64_t escalate;   /* block_ip: each repeat multiplies the duration (0/1 = no) */
    int64_t max_s;      /* block_ip: escalation cap (0 = 86400) */
    char param[64];     /* open_incident: the incident type ("account_takeover"); else "" */
};

/* What a loaded rule says about itself (API, CLI, alerts, incidents). */
struct fg_rule_info {
    char id[FG_RULE_ID_MAX + 1];
    char title[FG_RULE_TITLE_MAX + 1];
    enum fg_rule_level level;
    unsigned ntags;
    char tags[FG_RULE_TAGS_MAX][FG_RULE_TAG_MAX + 1];
    unsigned nactions;
    struct fg_rule_action actions[FG_RULE_ACTIONS_MAX];
    int64_t suppress_s;
    char kind[12];  /* "match", "aggregate", "sequence" */
    char file[96];  /* where it was defined ("rules/auth.yaml") and its line */
    unsigned line;
};

struct fg_rules;

/* Load every file (full paths; the name in messages is the path as given). errors gets
 * every problem, one "FILE:LINE: message\n" per line. FG_ERR_INVALID if there was any
 * (then *out is NULL), FG_ERR_IO if a file cannot be read. Duplicate ids across files are
 * an error naming both places. */
FG_MUST_CHECK fg_rc fg_rules_load_files(const char *const *paths, size_t npaths,
                                        struct fg_rules **out, struct fg_buf *errors);
/* The same for in-memory texts (embedded pack, tests, fuzzing): names[i] is used in messages. */
FG_MUST_CHECK fg_rc fg_rules_load_texts(const char *const *names, const char *const *texts,
                                        const size_t *lens, size_t n, struct fg_rules **out,
                                        struct fg_buf *errors);
/* The shipped pack (embedded data files "rules/NAME.yaml"), or every *.yaml of dir when dir is
 * not NULL/"". */
FG_MUST_CHECK fg_rc fg_rules_load_default(const char *dir, struct fg_rules **out,
                                          struct fg_buf *errors);
void fg_rules_free(struct fg_rules *r);

size_t fg_rules_count(const struct fg_rules *r);
const struct fg_rule_info *fg_rules_info(const struct fg_rules *r, size_t i);
/* By id, or NULL. FG_RULE_EVICTION finds the built-in rule. */
const struct fg_rule_info *fg_rules_find(const struct fg_rules *r, const char *id);
/* The built-in FG_RULE_EVICTION rule (level medium, tag MON-6, actions [alert]). */
const struct fg_rule_info *fg_engine_eviction_rule(void);

/* ---- the engine ------------------------------------------------------------------------ */

struct fg_engine;

struct fg_engine_options {
    size_t memory_budget;   /* bytes for all key tables; 0 → 64 MiB */
    int tz_offset_minutes;  /* local time of "hour"/"weekday" (monitor.tz_offset_minutes) */
};

/* A rule fired. Everything it points to lives until the callback returns. */
struct fg_firing {
    const struct fg_rule_info *rule;
    char key[FG_RULE_KEY_MAX + 1]; /* the group key: "user=u1" / "ip=1.2.3.4,user=u1"; a
                                    * plain match rule: its by fields if any, else "" */
    int64_t time_ms;       /* the triggering event's time */
    int64_t value;         /* count, sum or distinct count reached (match: 1; sequence: steps) */
    int64_t threshold;     /* the rule's threshold (match/sequence: 1 / steps) */
    int64_t first_seq;     /* seq of the first event in the window / the sequence's step A */
    const struct fg_mev *ev; /* the triggering event */
};
typedef void (*fg_firing_fn)(void *ctx, const struct fg_firing *f);

/* rules must outlive the engine. */
FG_MUST_CHECK fg_rc fg_engine_new(const struct fg_rules *rules,
                                  const struct fg_engine_options *opt, struct fg_engine **out);
void fg_engine_free(struct fg_engine *e);

/* Evaluate one event against every rule; fn is called (synchronously, in rule order) for
 * each firing that is not suppressed. */
FG_MUST_CHECK fg_rc fg_engine_feed(struct fg_engine *e, const struct fg_mev *ev, fg_firing_fn fn,
                                   void *ctx);

struct fg_engine_stats {
    uint64_t events, matches, firings, suppressed, evictions;
    uint64_t regex_limit_hits; /* a regex gave up at its match limit (counted as no match) */
    size_t bytes_used, bytes_budget, keys;
};
void fg_engine_get_stats(const struct fg_engine *e, struct fg_engine_stats *out);
/* Evictions of rule i (index as in fg_rules_info). */
uint64_t fg_engine_rule_evictions(const struct fg_engine *e, size_t i);
/* Firings of rule i since the engine was made. */
uint64_t fg_engine_rule_firings(const struct fg_engine *e, size_t i);

#endif
