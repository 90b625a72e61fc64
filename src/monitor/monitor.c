/*
 * monitor.c — the monitor thread: events after commit → risk + rules → alerts, incidents
 * and responses through the writer, audited (monitor.h).
 */
#include "monitor/monitor.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "base/time.h"
#include "event/event.h"
#include "iam/iam.h"
#include "incident/alert.h"
#include "incident/incident.h"
#include "incident/siem.h"
#include "ledger/ledger.h"
#include "ledger/limits.h"

#define ALLOW_USERS_MAX 32u
#define WARM_WINDOW_MS (24LL * 3600 * 1000) /* windows survive a restart up to a day */
#define CURSOR_PERSIST_MS 1000              /* an idle cursor is saved this often */
#define DEFAULT_LOCK_S 1800
#define DEFAULT_BLOCK_S 900
#define DEFAULT_BLOCK_MAX_S 86400
#define DEFAULT_STEP_UP_S 3600
#define FIRINGS_PER_BATCH_MAX 4096u
/* event-to-alert latency buckets (ms; the last is +Inf): what `make bench` reads (issue #6) */
#define ALERT_BUCKETS 12
static const int64_t alert_bounds_ms[ALERT_BUCKETS - 1] = {
    1,  2,   3,   5,   10,  20,
    50, 100, 250, 500, 1000}; /* more in one scan batch are processed next round */

/* A latency histogram in ALERT_BUCKETS buckets (what /metrics prints). */
struct lat_hist {
    _Atomic uint64_t le[ALERT_BUCKETS];
    _Atomic uint64_t sum, count;
};

/* What a firing needs once the engine's callback has returned. */
struct firing {
    const struct fg_rule_info *rule; /* valid while the engine generation lives */
    char key[FG_RULE_KEY_MAX + 1];
    int64_t time_ms, value, threshold, first_seq, event_seq;
    char user[FG_MEV_KEY_MAX + 1], ip[FG_MEV_KEY_MAX + 1], account[FG_MEV_KEY_MAX + 1];
    char customer[FG_MEV_KEY_MAX + 1];
};

enum outcome {
    OUT_APPLIED = 1,
    OUT_NO_TARGET,
    OUT_ALLOWLISTED,
    OUT_NOT_FOUND,
    OUT_ALREADY,
    OUT_DRY_RUN
};

static const char *outcome_name(enum outcome o)
{
    switch (o) {
    case OUT_APPLIED:
        return "applied";
    case OUT_NO_TARGET:
        return "no_target";
    case OUT_ALLOWLISTED:
        return "allowlisted";
    case OUT_NOT_FOUND:
        return "not_found";
    case OUT_ALREADY:
        return "already";
    case OUT_DRY_RUN:
        return "dry_run";
    }
    return "?";
}

struct action_result {
    enum fg_action_kind kind;
    enum outcome outcome;
    char target[FG_MEV_KEY_MAX + 1];
    int64_t until_ms;
};

struct response_job {
    struct fg_monitor *m;
    const struct firing *f;
    int64_t now_ms;
    char alert_id[FG_ALERT_ID_SIZE];
    int alert_created;
    char incident_id[FG_INCIDENT_ID_SIZE];
    int incident_created;
    unsigned nresults;
    struct action_result results[FG_RULE_ACTIONS_MAX];
    struct fg_audit_record rec;
};

struct fg_monitor {
    const struct fg_config *cfg;
    fg_store *store;
    struct fg_iam *iam;
    struct fg_incidents *incidents;
    struct fg_risk *risk;
    struct fg_siem *siem;  /* monitor.siem_target, or NULL */
    int64_t siem_after_ms; /* alerts changed after (ms, id) are exported next (monitor thread) */
    int64_t siem_saved_ms; /* siem_after_ms as last written to monitor_state */
    char siem_after_id[FG_ALERT_ID_SIZE];
    /* the rules in force; the monitor thread and reload/listing take engine_mu */
    pthread_mutex_t engine_mu;
    struct fg_rules *rules;
    struct fg_engine *engine;
    /* the allowlist */
    struct fg_net_list allow_nets;
    unsigned nallow_users;
    char allow_users[ALLOW_USERS_MAX][FG_MEV_KEY_MAX + 1];
    /* the thread */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t wakeups; /* commits seen (under mu) */
    int stop;         /* under mu */
    int64_t cursor;   /* monitor thread only */
    int64_t cursor_saved;
    int64_t cursor_saved_ms;
    int64_t last_prune_ms;
    _Atomic int64_t done_seq;
    /* the firings of the current batch (monitor thread) */
    struct firing *firings;
    unsigned nfirings;
    int collecting; /* 0 during warm-up: firings are discarded */
    /* counters */
    _Atomic uint64_t events, firings_total, firings_dropped, response_failures, lag_ms_last;
    _Atomic uint64_t actions[FG_ACT_REQUIRE_STEP_UP + 1];
    _Atomic uint64_t skipped_allowlisted, decode_failures, pruned;
    /* event time → its alert committed, per-bucket counts (monitor thread writes) */
    struct lat_hist alert_lat;  /* event → the firing's alert committed */
    struct lat_hist detect_lat; /* event → the firing found (wake-up + scan + engine) */
};

/* ---- allowlist -------------------------------------------------------------------------- */

static fg_rc allow_user(void *ctx, const char *entry, size_t len)
{
    struct fg_monitor *m = ctx;
    if (m->nallow_users >= ALLOW_USERS_MAX)
        return FG_ERR_LIMIT;
    if (len == 0 || len > FG_MEV_KEY_MAX)
        return FG_ERR_INVALID;
    memcpy(m->allow_users[m->nallow_users], entry, len);
    m->allow_users[m->nallow_users][len] = '\0';
    m->nallow_users++;
    return FG_OK;
}

static int allowlisted_user(const struct fg_monitor *m, const char *user)
{
    if (user == NULL || user[0] == '\0')
        return 0;
    for (unsigned i = 0; i < m->nallow_users; i++)
        if (strcmp(m->allow_users[i], user) == 0)
            return 1;
    return 0;
}

static int allowlisted_ip(const struct fg_monitor *m, const char *ip)
{
    return ip != NULL && ip[0] != '\0' && fg_net_list_has(&m->allow_nets, ip);
}

/* The allowlist spares addresses and people from PUNITIVE responses: an allowlisted address is
 * never blocked, and what comes from it never locks a user or ends sessions; an allowlisted
 * user is never locked, revoked or stepped up. PROTECTIVE responses for a customer's money
 * (freeze_account, require_step_up of a customer) are never suppressed by where the request
 * came from: they protect the victim, not punish the source. */
static int allowlisted(const struct fg_monitor *m, enum fg_action_kind k, const char *target,
                       const struct firing *f)
{
    switch (k) {
    case FG_ACT_BLOCK_IP:
        return allowlisted_ip(m, target);
    case FG_ACT_LOCK_USER:
    case FG_ACT_REVOKE_SESSIONS:
        return allowlisted_user(m, target) || allowlisted_ip(m, f->ip);
    default:
        return allowlisted_user(m, target);
    }
}

/* ---- rules ------------------------------------------------------------------------------ */

static fg_rc build_engine(struct fg_monitor *m, struct fg_rules **rules_out,
                          struct fg_engine **engine_out, struct fg_buf *errors)
{
    struct fg_rules *rules = NULL;
    fg_rc rc = fg_rules_load_default(m->cfg->monitor_rules_dir, &rules, errors);
    if (rc)
        return rc;
    struct fg_engine_options eo = {.memory_budget =
                                       (size_t)m->cfg->monitor_memory_mb * 1024u * 1024u,
                                   .tz_offset_minutes = (int)m->cfg->monitor_tz_offset_minutes};
    struct fg_engine *engine = NULL;
    rc = fg_engine_new(rules, &eo, &engine);
    if (rc) {
        fg_rules_free(rules);
        return rc;
    }
    *rules_out = rules;
    *engine_out = engine;
    return FG_OK;
}

fg_rc fg_monitor_new(const struct fg_monitor_options *opt, struct fg_monitor **out,
                     struct fg_buf *errors)
{
    assert(opt != NULL && opt->cfg != NULL && opt->store != NULL && out != NULL);
    struct fg_monitor *m = calloc(1, sizeof *m);
    if (m == NULL)
        return FG_ERR_NOMEM;
    m->cfg = opt->cfg;
    m->store = opt->store;
    m->iam = opt->iam;
    m->incidents = opt->incidents;
    pthread_mutex_init(&m->engine_mu, NULL);
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    fg_rc rc = fg_net_list_parse(m->cfg->monitor_allowlist, &m->allow_nets, allow_user, m);
    if (rc) {
        fg_rc erc =
            fg_buf_appendf(errors, "monitor.allowlist: %s\n",
                           rc == FG_ERR_LIMIT ? "too many entries" : "an entry is not valid");
        (void)erc;
        fg_monitor_free(m);
        return FG_ERR_CONFIG;
    }
    rc = build_engine(m, &m->rules, &m->engine, errors);
    if (rc == FG_OK) {
        struct fg_risk_options ro = {0};
        ro.tz_offset_minutes = (int)m->cfg->monitor_tz_offset_minutes;
        /* the risk state gets half the budget, at least its minimum */
        ro.memory_budget = (size_t)m->cfg->monitor_memory_mb * 1024u * 1024u / 2u;
        if (ro.memory_budget < FG_RISK_MEMORY_MIN)
            ro.memory_budget = FG_RISK_MEMORY_MIN;
        if (opt->limits != NULL)
            rc = fg_risk_options_from_limits(opt->limits, &ro);
        if (rc == FG_OK)
            rc = fg_risk_new(&ro, &m->risk);
    }
    if (rc == FG_OK && m->cfg->monitor_siem_target[0] != '\0') {
        rc = fg_siem_open(m->cfg->monitor_siem_target, m->cfg->monitor_siem_format, &m->siem);
        if (rc) {
            fg_rc erc = fg_buf_appendf(errors, "monitor.siem_target: cannot be opened (%s)\n",
                                       fg_rc_name(rc));
            (void)erc;
        }
    }
    m->firings = rc == FG_OK ? calloc(FIRINGS_PER_BATCH_MAX, sizeof *m->firings) : NULL;
    if (rc == FG_OK && m->firings == NULL)
        rc = FG_ERR_NOMEM;
    if (rc) {
        fg_monitor_free(m);
        return rc;
    }
    *out = m;
    return FG_OK;
}

void fg_monitor_free(struct fg_monitor *m)
{
    if (m == NULL)
        return;
    assert(!m->started);
    fg_engine_free(m->engine);
    fg_rules_free(m->rules);
    fg_risk_free(m->risk);
    fg_siem_free(m->siem);
    free(m->firings);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->engine_mu);
    free(m);
}

/* ---- feeding ---------------------------------------------------------------------------- */

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static void on_firing(void *ctx, const struct fg_firing *fi)
{
    struct fg_monitor *m = ctx;
    if (!m->collecting)
        return;
    atomic_fetch_add(&m->firings_total, 1);
    if (m->nfirings >= FIRINGS_PER_BATCH_MAX) {
        /* never silent: counted, exported, logged */
        atomic_fetch_add(&m->firings_dropped, 1);
        fg_log(FG_LOG_ERROR, "monitor.firing_dropped", FG_LF_STR("rule", fi->rule->id));
        return;
    }
    struct firing *f = &m->firings[m->nfirings++];
    memset(f, 0, sizeof *f);
    f->rule = fi->rule;
    copy_text(f->key, sizeof f->key, fi->key);
    f->time_ms = fi->time_ms;
    f->value = fi->value;
    f->threshold = fi->threshold;
    f->first_seq = fi->first_seq;
    f->event_seq = fi->ev->seq;
    copy_text(f->user, sizeof f->user, fi->ev->s[FG_MEV_F_USER]);
    copy_text(f->ip, sizeof f->ip, fi->ev->s[FG_MEV_F_IP]);
    copy_text(f->account, sizeof f->account, fi->ev->s[FG_MEV_F_ACCOUNT]);
    copy_text(f->customer, sizeof f->customer, fi->ev->s[FG_MEV_F_CUSTOMER]);
}

struct scan_ctx {
    struct fg_monitor *m;
    int64_t last_seq;
    int64_t last_time_ms;
    unsigned rows;
};

static fg_rc on_row(void *ctx, int64_t seq, int64_t time_ms, const struct fg_event *e)
{
    struct scan_ctx *sc = ctx;
    struct fg_monitor *m = sc->m;
    sc->last_seq = seq;
    sc->last_time_ms = time_ms;
    sc->rows++;
    static _Thread_local struct fg_mev_hold hold;
    if (fg_mev_from_event(seq, time_ms, e, &hold) != FG_OK) {
        atomic_fetch_add(&m->decode_failures, 1);
        return FG_OK;
    }
    atomic_fetch_add(&m->events, 1);
    fg_risk_observe(m->risk, &hold.ev);
    return fg_engine_feed(m->engine, &hold.ev, on_firing, m);
}

/* Read up to one batch after `after`; feeds under engine_mu. */
static fg_rc scan_batch(struct fg_monitor *m, int64_t after, unsigned limit, struct scan_ctx *sc)
{
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(m->store, &conn);
    if (rc)
        return rc;
    sc->m = m;
    sc->last_seq = after;
    sc->rows = 0;
    pthread_mutex_lock(&m->engine_mu);
    rc = fg_event_scan(conn, after, limit, on_row, sc);
    pthread_mutex_unlock(&m->engine_mu);
    fg_store_read_release(m->store, conn);
    return rc;
}

/* ---- responses (writer) ---------------------------------------------------------------- */

static int64_t action_duration_ms(const struct fg_rule_action *a, int64_t def_s)
{
    return (a->duration_s > 0 ? a->duration_s : def_s) * 1000;
}

/* JSON text of obj (consumed) into out[cap]; FG_ERR_TOO_LARGE / FG_ERR_NOMEM. */
static fg_rc dump_json(json_t *obj, char *out, size_t cap)
{
    if (obj == NULL)
        return FG_ERR_NOMEM;
    size_t need = json_dumpb(obj, out, cap, JSON_COMPACT);
    json_decref(obj);
    if (need == 0 || need >= cap)
        return FG_ERR_TOO_LARGE;
    out[need] = '\0';
    return FG_OK;
}

static fg_rc emit_response(fg_conn *conn, const struct response_job *job,
                           const struct action_result *r)
{
    char attrs[FG_EVENT_ATTRS_MAX + 1];
    const char *field = r->kind == FG_ACT_BLOCK_IP          ? "ip"
                        : r->kind == FG_ACT_FREEZE_ACCOUNT  ? "account"
                        : r->kind == FG_ACT_REQUIRE_STEP_UP ? "subject"
                                                            : "user";
    /* the expiry as text: an integer of 13+ digits in event attrs is redacted as a possible
     * card number (event.h) */
    char until[FG_TIME_RFC3339_LEN] = "";
    if (r->until_ms > 0)
        fg_time_format_rfc3339(r->until_ms, until);
    fg_rc rc = dump_json(json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", fg_action_name(r->kind),
                                   "rule", job->f->rule->id, field, r->target, "until", until,
                                   "alert", job->alert_id),
                         attrs, sizeof attrs);
    if (rc)
        return rc;
    struct fg_event e = {.type = "monitor.response", .actor_id = "monitor", .attrs_json = attrs};
    if (r->kind == FG_ACT_BLOCK_IP)
        e.source_ip = r->target;
    return fg_event_emit(conn, &e, job->now_ms);
}

static fg_rc do_lock_user(fg_conn *conn, struct response_job *job, const struct fg_rule_action *a,
                          struct action_result *r)
{
    r->until_ms = job->now_ms + action_duration_ms(a, DEFAULT_LOCK_S);
    struct fg_val p[] = {FG_VSTR(r->target), FG_VINT(r->until_ms)};
    int64_t changed = 0;
    fg_rc rc = fg_conn_exec(conn,
                            "UPDATE iam_users SET locked_until_ms = max(locked_until_ms, ?2) "
                            "WHERE id = ?1 AND status = 'active'",
                            p, 2, NULL, NULL, &changed);
    if (rc == FG_OK)
        r->outcome = changed > 0 ? OUT_APPLIED : OUT_NOT_FOUND;
    return rc;
}

static fg_rc read_int(void *ctx, const struct fg_val *cols, int ncols)
{
    if (ncols > 0 && cols[0].type == FG_VAL_INT)
        *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

/* Upsert a block row; *strikes_out = strikes after. */
static fg_rc upsert_block(fg_conn *conn, const char *kind, const char *subject, int64_t until_ms,
                          const struct response_job *job)
{
    struct fg_val p[] = {FG_VSTR(kind),          FG_VSTR(subject),
                         FG_VINT(until_ms),      FG_VSTR(job->f->rule->id),
                         FG_VSTR(job->alert_id), FG_VINT(job->now_ms)};
    return fg_conn_exec(conn,
                        "INSERT INTO monitor_blocks (kind, subject, until_ms, strikes, rule_id, "
                        "alert_id, created_ms, updated_ms) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?6) "
                        "ON CONFLICT (kind, subject) DO UPDATE SET "
                        "until_ms = max(until_ms, excluded.until_ms), strikes = strikes + 1, "
                        "rule_id = excluded.rule_id, alert_id = excluded.alert_id, "
                        "updated_ms = excluded.updated_ms, lifted_by = ''",
                        p, 6, NULL, NULL, NULL);
}

static fg_rc do_block_ip(fg_conn *conn, struct response_job *job, const struct fg_rule_action *a,
                         struct action_result *r)
{
    int64_t strikes = 0;
    struct fg_val q[] = {FG_VSTR(r->target)};
    fg_rc rc =
        fg_conn_exec(conn, "SELECT strikes FROM monitor_blocks WHERE kind = 'ip' AND subject = ?1",
                     q, 1, read_int, &strikes, NULL);
    if (rc)
        return rc;
    int64_t base = action_duration_ms(a, DEFAULT_BLOCK_S);
    int64_t cap = (a->max_s > 0 ? a->max_s : DEFAULT_BLOCK_MAX_S) * 1000;
    int64_t dur = base;
    /* escalation for repeat offenders: base × escalate^strikes, up to the cap */
    for (int64_t i = 0; a->escalate > 1 && i < strikes && dur < cap; i++)
        dur = dur > cap / a->escalate ? cap : dur * a->escalate;
    if (dur > cap)
        dur = cap;
    r->until_ms = job->now_ms + dur;
    rc = upsert_block(conn, "ip", r->target, r->until_ms, job);
    if (rc == FG_OK)
        r->outcome = OUT_APPLIED;
    return rc;
}

static fg_rc do_revoke(fg_conn *conn, struct response_job *job, struct action_result *r)
{
    struct fg_val p[] = {FG_VSTR(r->target), FG_VINT(job->now_ms)};
    int64_t changed = 0;
    fg_rc rc = fg_conn_exec(conn,
                            "UPDATE iam_sessions SET ended_ms = ?2, end_reason = 'monitor' "
                            "WHERE user_id = ?1 AND ended_ms = 0",
                            p, 2, NULL, NULL, &changed);
    if (rc == FG_OK)
        r->outcome = changed > 0 ? OUT_APPLIED : OUT_ALREADY;
    return rc;
}

static fg_rc do_freeze(fg_conn *conn, struct response_job *job, struct action_result *r)
{
    fg_rc rc = fg_ledger_set_status(conn, r->target, "active", "frozen", job->now_ms);
    if (rc == FG_ERR_CONFLICT) {
        r->outcome = OUT_ALREADY;
        return FG_OK;
    }
    if (rc == FG_ERR_NOT_FOUND || rc == FG_ERR_INVALID) {
        r->outcome = OUT_NOT_FOUND;
        return FG_OK;
    }
    if (rc)
        return rc;
    r->outcome = OUT_APPLIED;
    char attrs[160];
    snprintf(attrs, sizeof attrs, "{\"reason\":\"monitor\",\"rule\":\"%s\"}", job->f->rule->id);
    struct fg_event e = {.type = "account.frozen",
                         .actor_id = "monitor",
                         .object_type = "account",
                         .object_id = r->target,
                         .attrs_json = attrs};
    return fg_event_emit(conn, &e, job->now_ms);
}

/* The target of an action from the firing's event; "" when it has none. */
static const char *action_target(const struct firing *f, enum fg_action_kind k)
{
    switch (k) {
    case FG_ACT_LOCK_USER:
    case FG_ACT_REVOKE_SESSIONS:
        return f->user;
    case FG_ACT_BLOCK_IP:
        return f->ip;
    case FG_ACT_FREEZE_ACCOUNT:
        return f->account;
    case FG_ACT_REQUIRE_STEP_UP:
        return f->customer[0] != '\0' ? f->customer : f->user;
    default:
        return "";
    }
}

static const char *severity_of(enum fg_rule_level l)
{
    return fg_rule_level_name(l);
}

static fg_rc respond(fg_conn *conn, void *arg)
{
    struct response_job *job = arg;
    const struct firing *f = job->f;
    const struct fg_rule_info *rule = f->rule;
    char tags[FG_RULE_TAGS_MAX * (FG_RULE_TAG_MAX + 1) + 1] = "";
    size_t tl = 0;
    for (unsigned i = 0; i < rule->ntags; i++) {
        int n = snprintf(tags + tl, sizeof tags - tl, "%s%s", i ? "," : "", rule->tags[i]);
        if (n < 0 || (size_t)n >= sizeof tags - tl)
            break;
        tl += (size_t)n;
    }
    char details[256];
    snprintf(details, sizeof details, "{\"value\":%lld,\"threshold\":%lld,\"kind\":\"%s\"}",
             (long long)f->value, (long long)f->threshold, rule->kind); /* kind: fixed words */
    struct fg_alert_new an = {.rule_id = rule->id,
                              .level = fg_rule_level_name(rule->level),
                              .title = rule->title,
                              .key = f->key,
                              .tags = tags,
                              .event_seq = f->event_seq,
                              .first_seq = f->first_seq,
                              .details_json = details};
    fg_rc rc = fg_alert_raise(conn, &an, job->now_ms, job->alert_id, &job->alert_created);
    job->nresults = 0;
    for (unsigned i = 0; rc == FG_OK && i < rule->nactions; i++) {
        const struct fg_rule_action *a = &rule->actions[i];
        if (a->kind == FG_ACT_ALERT)
            continue;
        if (a->kind == FG_ACT_OPEN_INCIDENT) {
            struct fg_incident_rule_open io = {
                .policy = job->m->incidents != NULL ? fg_incidents_policy(job->m->incidents) : NULL,
                .rule_id = rule->id,
                .rule_title = rule->title,
                .key = f->key,
                .type = a->param[0] ? a->param : "security_event",
                .severity = severity_of(rule->level),
                .alert_id = job->alert_id,
                .event_seq = f->event_seq,
                .account_id = f->account[0] ? f->account : NULL,
                .user_id = f->user[0] ? f->user : NULL};
            rc = fg_incident_open_for_rule(conn, &io, job->now_ms, job->incident_id,
                                           &job->incident_created);
            if (rc == FG_OK && f->event_seq > 0) {
                /* the events that made the rule fire, from the first (step A, the window's
                 * oldest) to the last: the incident's evidence (INC-2) */
                char from[24], to[24], note[160];
                snprintf(from, sizeof from, "%lld",
                         (long long)(f->first_seq > 0 ? f->first_seq : f->event_seq));
                snprintf(to, sizeof to, "%lld", (long long)f->event_seq);
                snprintf(note, sizeof note, "the events that fired %s", rule->id);
                rc = fg_incident_evidence_add(conn, job->incident_id, "event", from, to, note,
                                              "monitor", job->now_ms);
            }
            continue;
        }
        struct action_result *r = &job->results[job->nresults++];
        memset(r, 0, sizeof *r);
        r->kind = a->kind;
        copy_text(r->target, sizeof r->target, action_target(f, a->kind));
        if (r->target[0] == '\0') {
            r->outcome = OUT_NO_TARGET;
            continue;
        }
        if (!job->m->cfg->monitor_enforce) {
            r->outcome = OUT_DRY_RUN; /* monitor.enforce = false: recorded, not done */
            continue;
        }
        if (allowlisted(job->m, a->kind, r->target, f)) {
            r->outcome = OUT_ALLOWLISTED;
            continue;
        }
        switch (a->kind) {
        case FG_ACT_LOCK_USER:
            rc = do_lock_user(conn, job, a, r);
            break;
        case FG_ACT_BLOCK_IP:
            rc = do_block_ip(conn, job, a, r);
            break;
        case FG_ACT_REVOKE_SESSIONS:
            rc = do_revoke(conn, job, r);
            break;
        case FG_ACT_FREEZE_ACCOUNT:
            rc = do_freeze(conn, job, r);
            break;
        case FG_ACT_REQUIRE_STEP_UP:
            r->until_ms = job->now_ms + action_duration_ms(a, DEFAULT_STEP_UP_S);
            rc = upsert_block(conn, "step_up", r->target, r->until_ms, job);
            if (rc == FG_OK)
                r->outcome = OUT_APPLIED;
            break;
        default:
            break;
        }
        if (rc == FG_OK && r->outcome == OUT_APPLIED)
            rc = emit_response(conn, job, r);
    }
    if (rc == FG_OK && job->incident_id[0] != '\0') {
        /* the responses join the incident's timeline */
        for (unsigned i = 0; rc == FG_OK && i < job->nresults; i++) {
            const struct action_result *r = &job->results[i];
            if (r->outcome != OUT_APPLIED)
                continue;
            char text[256];
            snprintf(text, sizeof text, "%s %s (rule %s)", fg_action_name(r->kind), r->target,
                     rule->id);
            rc = fg_incident_timeline_add(conn, job->incident_id, "response", "monitor", text,
                                          job->alert_id, job->now_ms);
        }
    }
    if (rc == FG_OK) {
        struct fg_val p[] = {FG_VINT(f->event_seq)};
        rc = fg_conn_exec(conn,
                          "INSERT INTO monitor_state (name, value) VALUES ('cursor', ?1) "
                          "ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                          p, 1, NULL, NULL, NULL);
    }
    if (rc)
        return rc;
    /* the audit record: which alert, which incident, every action with its target */
    json_t *acts = json_array();
    for (unsigned i = 0; acts != NULL && i < job->nresults; i++) {
        const struct action_result *r = &job->results[i];
        json_array_append_new(acts,
                              json_pack("{s:s, s:s, s:s, s:I}", "action", fg_action_name(r->kind),
                                        "target", r->target, "outcome", outcome_name(r->outcome),
                                        "until_ms", (json_int_t)r->until_ms));
    }
    char json[FG_AUDIT_DETAILS_MAX + 1];
    if (dump_json(json_pack("{s:s, s:s, s:s, s:b, s:s, s:I, s:o}", "rule", rule->id, "group",
                            f->key, "alert", job->alert_id, "alert_new", job->alert_created,
                            "incident", job->incident_id, "event_seq", (json_int_t)f->event_seq,
                            "actions", acts),
                  json, sizeof json) != FG_OK ||
        fg_audit_record_details(&job->rec, json, strlen(json)) != FG_OK)
        fg_log(FG_LOG_WARN, "monitor.respond_details_dropped", FG_LF_STR("rule", rule->id));
    return FG_OK;
}

/* After the commit: what the request path reads, and the SIEM line. */
static void after_response(struct fg_monitor *m, const struct response_job *job)
{
    for (unsigned i = 0; i < job->nresults; i++) {
        const struct action_result *r = &job->results[i];
        if (r->outcome == OUT_ALLOWLISTED)
            atomic_fetch_add(&m->skipped_allowlisted, 1);
        if (r->outcome != OUT_APPLIED)
            continue;
        atomic_fetch_add(&m->actions[r->kind], 1);
        if (r->kind == FG_ACT_BLOCK_IP)
            fg_risk_block_ip(m->risk, r->target, r->until_ms);
        else if (r->kind == FG_ACT_REQUIRE_STEP_UP)
            fg_risk_require_step_up(m->risk, r->target, r->until_ms);
        else if (r->kind == FG_ACT_REVOKE_SESSIONS && m->iam != NULL)
            fg_sessions_end_user(m->iam->sessions, r->target, NULL);
    }
    atomic_fetch_add(&m->actions[FG_ACT_ALERT], 1);
    if (job->incident_created)
        atomic_fetch_add(&m->actions[FG_ACT_OPEN_INCIDENT], 1);
}

/* All firings of a scan batch are submitted at once and wait together: the writer commits
 * them in one group (one fsync) instead of one after another — each is still its own intent
 * with its own audit record, so one failing rolls back only itself. */
struct firing_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned pending;
};

struct firing_job {
    struct response_job r;
    struct fg_intent intent;
    int submitted;
};

static void firing_done(struct fg_intent *intent)
{
    struct firing_wait *w = intent->done_ctx;
    pthread_mutex_lock(&w->mu);
    if (--w->pending == 0)
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void firing_failed(struct fg_monitor *m, const struct firing *f, fg_rc rc)
{
    atomic_fetch_add(&m->response_failures, 1);
    fg_log(FG_LOG_ERROR, "monitor.respond_failed", FG_LF_STR("rule", f->rule->id),
           FG_LF_STR("rc", fg_rc_name(rc)));
}

static void lat_add(struct lat_hist *h, int64_t lat)
{
    if (lat < 0)
        lat = 0;
    unsigned b = 0;
    while (b < ALERT_BUCKETS - 1 && lat > alert_bounds_ms[b])
        b++;
    atomic_fetch_add(&h->le[b], 1);
    atomic_fetch_add(&h->sum, (uint64_t)lat);
    atomic_fetch_add(&h->count, 1);
}

static void run_firings(struct fg_monitor *m, const struct firing *fs, unsigned n)
{
    if (n == 0)
        return;
    struct firing_job *jobs = calloc(n, sizeof *jobs);
    if (jobs == NULL) {
        for (unsigned i = 0; i < n; i++)
            firing_failed(m, &fs[i], FG_ERR_NOMEM);
        return;
    }
    struct firing_wait w = {.pending = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    struct fg_audit_actor who = {.actor_id = "monitor", .actor_role = "system"};
    int64_t now = fg_time_wall_ms();
    for (unsigned i = 0; i < n; i++)
        lat_add(&m->detect_lat, now - fs[i].time_ms);
    for (unsigned i = 0; i < n; i++) {
        struct firing_job *j = &jobs[i];
        j->r.m = m;
        j->r.f = &fs[i];
        j->r.now_ms = now;
        fg_rc rc = fg_audit_record_init(&j->r.rec, &who, "monitor.respond", "rule", fs[i].rule->id);
        if (rc) {
            firing_failed(m, &fs[i], rc);
            continue;
        }
        j->intent = (struct fg_intent){
            .fn = respond, .arg = &j->r, .done = firing_done, .done_ctx = &w, .record = &j->r.rec};
        pthread_mutex_lock(&w.mu);
        w.pending++;
        pthread_mutex_unlock(&w.mu);
        rc = fg_store_submit(m->store, &j->intent);
        if (rc) {
            pthread_mutex_lock(&w.mu);
            w.pending--;
            pthread_mutex_unlock(&w.mu);
            firing_failed(m, &fs[i], rc);
            continue;
        }
        j->submitted = 1;
    }
    pthread_mutex_lock(&w.mu);
    while (w.pending > 0)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    for (unsigned i = 0; i < n; i++) {
        struct firing_job *j = &jobs[i];
        if (!j->submitted)
            continue;
        if (j->intent.rc) {
            firing_failed(m, &fs[i], j->intent.rc);
            continue;
        }
        after_response(m, &j->r);
        /* the event's time (stamped in its transaction) to this firing's commit */
        lat_add(&m->alert_lat, fg_time_wall_ms() - fs[i].time_ms);
        if (fs[i].event_seq > m->cursor_saved)
            m->cursor_saved = fs[i].event_seq;
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    free(jobs);
}

/* ---- the cursor and retention ------------------------------------------------------------ */

struct cursor_arg {
    int64_t seq;     /* 0: unchanged */
    int64_t siem_ms; /* 0: unchanged */
};

static fg_rc save_cursor(fg_conn *conn, void *arg)
{
    struct cursor_arg *c = arg;
    fg_rc rc = FG_OK;
    if (c->seq > 0) {
        struct fg_val p[] = {FG_VINT(c->seq)};
        rc = fg_conn_exec(conn,
                          "INSERT INTO monitor_state (name, value) VALUES ('cursor', ?1) "
                          "ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                          p, 1, NULL, NULL, NULL);
    }
    if (rc == FG_OK && c->siem_ms > 0) {
        struct fg_val p[] = {FG_VINT(c->siem_ms)};
        rc = fg_conn_exec(conn,
                          "INSERT INTO monitor_state (name, value) VALUES ('siem_after_ms', ?1) "
                          "ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                          p, 1, NULL, NULL, NULL);
    }
    return rc;
}

/* The cursor, and how far the SIEM export got, at most every CURSOR_PERSIST_MS (always when
 * forced, at stop). */
static void persist_cursor(struct fg_monitor *m, int force)
{
    int64_t now = fg_time_wall_ms();
    int cursor_due = m->cursor > m->cursor_saved;
    int siem_due = m->siem != NULL && m->siem_after_ms > m->siem_saved_ms;
    if ((!cursor_due && !siem_due) || (!force && now - m->cursor_saved_ms < CURSOR_PERSIST_MS))
        return;
    struct cursor_arg a = {.seq = cursor_due ? m->cursor : 0,
                           .siem_ms = siem_due ? m->siem_after_ms : 0};
    if (fg_store_write(m->store, save_cursor, &a) == FG_OK) {
        if (cursor_due)
            m->cursor_saved = m->cursor;
        if (siem_due)
            m->siem_saved_ms = m->siem_after_ms;
        m->cursor_saved_ms = now;
    }
}

struct prune_arg {
    int64_t before_ms;
    int64_t deleted;
};

static fg_rc prune(fg_conn *conn, void *arg)
{
    struct prune_arg *p = arg;
    return fg_event_prune(conn, p->before_ms, FG_MONITOR_PRUNE_ROWS, &p->deleted);
}

static void maybe_prune(struct fg_monitor *m)
{
    int64_t now = fg_time_wall_ms();
    if (now - m->last_prune_ms < FG_MONITOR_PRUNE_EVERY_MS)
        return;
    m->last_prune_ms = now;
    struct prune_arg p = {.before_ms =
                              now - m->cfg->monitor_events_retention_days * 24LL * 3600 * 1000};
    /* audited only when something is due: no hourly no-op records (and none on a fresh
     * instance before its sys.init — found by test_matrix, which expects that first) */
    fg_conn *conn = NULL;
    int64_t due = 0;
    if (fg_store_read_acquire(m->store, &conn) != FG_OK)
        return;
    struct fg_val q[] = {FG_VINT(p.before_ms)};
    fg_rc qrc = fg_conn_exec(conn, "SELECT EXISTS (SELECT 1 FROM events WHERE time_ms < ?1)", q, 1,
                             read_int, &due, NULL);
    fg_store_read_release(m->store, conn);
    if (qrc != FG_OK || due == 0)
        return;
    struct fg_audit_actor who = {.actor_id = "monitor", .actor_role = "system"};
    struct fg_audit_record rec;
    fg_rc rc = fg_audit_record_init(&rec, &who, "events.prune", "events", "");
    if (rc == FG_OK)
        rc = fg_audit_write(m->store, prune, &p, &rec);
    if (rc)
        fg_log(FG_LOG_WARN, "monitor.prune_failed", FG_LF_STR("rc", fg_rc_name(rc)));
    else
        atomic_fetch_add(&m->pruned, (uint64_t)p.deleted);
}

/* ---- the SIEM export ----------------------------------------------------------------------- */

#define SIEM_BATCH 256u
#define SIEM_RESUME_MAX_MS (24LL * 3600 * 1000) /* a start re-sends at most the last day */

/* Where the export resumes: the saved point (not older than a day), or now. */
static int64_t siem_resume_ms(struct fg_monitor *m, int64_t now)
{
    fg_conn *conn = NULL;
    int64_t saved = -1;
    if (fg_store_read_acquire(m->store, &conn) != FG_OK)
        return now;
    if (fg_conn_exec(conn, "SELECT value FROM monitor_state WHERE name = 'siem_after_ms'", NULL, 0,
                     read_int, &saved, NULL) != FG_OK)
        saved = -1;
    fg_store_read_release(m->store, conn);
    if (saved <= 0 || saved > now)
        return now;
    return saved < now - SIEM_RESUME_MAX_MS ? now - SIEM_RESUME_MAX_MS : saved;
}

struct siem_rows {
    unsigned n;
    int64_t ms[SIEM_BATCH];
    char id[SIEM_BATCH][FG_ALERT_ID_SIZE];
};

static fg_rc siem_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct siem_rows *r = ctx;
    if (ncols < 2 || cols[0].type != FG_VAL_TEXT || cols[0].n >= FG_ALERT_ID_SIZE ||
        r->n >= SIEM_BATCH)
        return FG_OK;
    memcpy(r->id[r->n], cols[0].p, cols[0].n);
    r->id[r->n][cols[0].n] = '\0';
    r->ms[r->n] = cols[1].i;
    r->n++;
    return FG_OK;
}

/* Every alert raised or updated since the last export — the monitor's and the deadline
 * clock's alike — as one line each (RFC 5424 or CEF, incident/siem.h). How far it got is
 * saved with the cursor (monitor_state 'siem_after_ms'); a start resumes there, at most
 * SIEM_RESUME_MAX_MS back: alerts changed while the export was off or not yet sent at a stop
 * or crash go out then. At least once — an alert changed in the very millisecond of the saved
 * point is sent again. */
static void siem_export(struct fg_monitor *m)
{
    static _Thread_local struct fg_alert_view v;
    static _Thread_local struct siem_rows rows;
    for (;;) {
        fg_conn *conn = NULL;
        if (fg_store_read_acquire(m->store, &conn) != FG_OK)
            return;
        rows.n = 0;
        struct fg_val p[] = {FG_VINT(m->siem_after_ms), FG_VSTR(m->siem_after_id),
                             FG_VINT(SIEM_BATCH)};
        fg_rc rc = fg_conn_exec(conn,
                                "SELECT id, last_ms FROM alerts WHERE (last_ms, id) > (?1, ?2) "
                                "ORDER BY last_ms, id LIMIT ?3",
                                p, 3, siem_row, &rows, NULL);
        for (unsigned i = 0; rc == FG_OK && i < rows.n; i++) {
            if (fg_alert_get(conn, rows.id[i], &v) == FG_OK)
                fg_siem_send(m->siem, &v);
            m->siem_after_ms = rows.ms[i];
            memcpy(m->siem_after_id, rows.id[i], sizeof m->siem_after_id);
        }
        fg_store_read_release(m->store, conn);
        if (rc || rows.n < SIEM_BATCH)
            return;
    }
}

/* ---- the thread --------------------------------------------------------------------------- */

static void process_available(struct fg_monitor *m)
{
    for (;;) {
        struct scan_ctx sc;
        m->nfirings = 0;
        m->collecting = 1;
        fg_rc rc = scan_batch(m, m->cursor, FG_MONITOR_SCAN_BATCH, &sc);
        if (rc) {
            fg_log(FG_LOG_ERROR, "monitor.scan_failed", FG_LF_STR("rc", fg_rc_name(rc)));
            return;
        }
        /* responses run with engine_mu released; rule pointers stay valid because a reload
         * only frees the old generation under engine_mu after this batch (see reload) */
        pthread_mutex_lock(&m->engine_mu);
        run_firings(m, m->firings, m->nfirings);
        pthread_mutex_unlock(&m->engine_mu);
        if (sc.rows == 0)
            return;
        m->cursor = sc.last_seq;
        int64_t lag = fg_time_wall_ms() - sc.last_time_ms;
        atomic_store(&m->lag_ms_last, (uint64_t)(lag > 0 ? lag : 0));
        atomic_store(&m->done_seq, m->cursor);
        if (sc.rows < FG_MONITOR_SCAN_BATCH)
            return;
    }
}

static void on_commit(void *ctx)
{
    struct fg_monitor *m = ctx;
    pthread_mutex_lock(&m->mu);
    m->wakeups++;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void *monitor_main(void *arg)
{
    struct fg_monitor *m = arg;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&m->mu);
        if (!m->stop && m->wakeups == seen) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += FG_MONITOR_IDLE_WAIT_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&m->cv, &m->mu, &ts);
        }
        int stop = m->stop;
        seen = m->wakeups;
        pthread_mutex_unlock(&m->mu);
        process_available(m);
        if (m->siem != NULL)
            siem_export(m);
        persist_cursor(m, stop);
        if (stop)
            break;
        maybe_prune(m);
    }
    return NULL;
}

/* Where detection stopped, and the re-feed of the last day's events (firings discarded). */
static fg_rc warm_up(struct fg_monitor *m)
{
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(m->store, &conn);
    if (rc)
        return rc;
    int64_t cursor = -1, start = 0;
    rc = fg_conn_exec(conn, "SELECT value FROM monitor_state WHERE name = 'cursor'", NULL, 0,
                      read_int, &cursor, NULL);
    if (rc == FG_OK && cursor > 0) {
        struct fg_val p[] = {FG_VINT(fg_time_wall_ms() - WARM_WINDOW_MS)};
        start = cursor;
        rc = fg_conn_exec(conn,
                          "SELECT seq - 1 FROM events WHERE time_ms >= ?1 ORDER BY seq LIMIT 1", p,
                          1, read_int, &start, NULL);
        if (start > cursor)
            start = cursor;
        if (cursor - start > (int64_t)FG_MONITOR_WARM_MAX_EVENTS)
            start = cursor - (int64_t)FG_MONITOR_WARM_MAX_EVENTS;
    }
    fg_store_read_release(m->store, conn);
    if (rc)
        return rc;
    if (cursor < 0)
        cursor = 0;
    m->collecting = 0;
    int64_t at = start;
    while (at < cursor) {
        struct scan_ctx sc;
        unsigned limit =
            cursor - at < FG_EVENT_SCAN_MAX ? (unsigned)(cursor - at) : FG_EVENT_SCAN_MAX;
        rc = scan_batch(m, at, limit, &sc);
        if (rc || sc.rows == 0)
            break;
        at = sc.last_seq;
    }
    m->collecting = 1;
    m->cursor = cursor;
    m->cursor_saved = cursor;
    atomic_store(&m->done_seq, cursor);
    fg_log(FG_LOG_INFO, "monitor.warmed", FG_LF_INT("cursor", cursor),
           FG_LF_INT("refed", cursor - start));
    return rc;
}

struct block_row_ctx {
    struct fg_monitor *m;
};

static fg_rc on_block_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct fg_monitor *m = ctx;
    if (ncols < 3 || cols[0].type != FG_VAL_TEXT || cols[1].type != FG_VAL_TEXT)
        return FG_OK;
    char kind[16], subject[FG_MEV_KEY_MAX + 1];
    size_t kn = cols[0].n < sizeof kind - 1 ? cols[0].n : sizeof kind - 1;
    memcpy(kind, cols[0].p, kn);
    kind[kn] = '\0';
    size_t sn = cols[1].n < sizeof subject - 1 ? cols[1].n : sizeof subject - 1;
    memcpy(subject, cols[1].p, sn);
    subject[sn] = '\0';
    if (strcmp(kind, "ip") == 0)
        fg_risk_block_ip(m->risk, subject, cols[2].i);
    else
        fg_risk_require_step_up(m->risk, subject, cols[2].i);
    return FG_OK;
}

static fg_rc load_blocks(struct fg_monitor *m)
{
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(m->store, &conn);
    if (rc)
        return rc;
    struct fg_val p[] = {FG_VINT(fg_time_wall_ms())};
    rc = fg_conn_exec(conn,
                      "SELECT kind, subject, until_ms FROM monitor_blocks WHERE until_ms > ?1 "
                      "AND lifted_by = ''",
                      p, 1, on_block_row, m, NULL);
    fg_store_read_release(m->store, conn);
    return rc;
}

fg_rc fg_monitor_start(struct fg_monitor *m)
{
    assert(m != NULL && !m->started);
    fg_rc rc = load_blocks(m);
    if (rc == FG_OK)
        rc = warm_up(m);
    if (rc)
        return rc;
    m->last_prune_ms = 0;
    int64_t now = fg_time_wall_ms();
    m->siem_after_id[0] = '\0';
    m->siem_after_ms = siem_resume_ms(m, now);
    m->siem_saved_ms = m->siem_after_ms;
    if (pthread_create(&m->thread, NULL, monitor_main, m) != 0)
        return FG_ERR_NOMEM;
    (void)pthread_setname_np(m->thread, "fg-monitor");
    m->started = 1;
    return FG_OK;
}

void fg_monitor_stop(struct fg_monitor *m)
{
    if (m == NULL || !m->started)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    m->started = 0;
}

void fg_monitor_commit_listener(void *ctx)
{
    on_commit(ctx);
}

/* ---- the request path -------------------------------------------------------------------- */

int64_t fg_monitor_ip_blocked(struct fg_monitor *m, const char *ip, int64_t now_ms)
{
    if (m == NULL || ip == NULL || ip[0] == '\0' || allowlisted_ip(m, ip))
        return 0;
    int64_t until = fg_risk_ip_blocked_until(m->risk, ip, now_ms);
    return until > now_ms ? until - now_ms : 0;
}

/* An allowlisted address or user is never refused or stepped up because of a RESPONSE (a
 * block, a required step-up); what its behaviour scores still counts. */
static void unrespond(struct fg_risk_result *r)
{
    const uint32_t responses = (1u << FG_RISK_F_IP_BLOCKED) | (1u << FG_RISK_F_STEP_UP_REQUIRED);
    if (!(r->features & responses))
        return;
    int score = 0;
    for (unsigned i = 0; i < FG_RISK_F_COUNT_; i++)
        if ((r->features & ~responses) & (1u << i))
            score += fg_risk_feature_weight((enum fg_risk_feature)i);
    r->score = score > 100 ? 100 : score;
    r->features &= ~responses;
    r->decision = r->score >= FG_RISK_DENY_AT && (r->features & FG_RISK_COMPROMISE) ? FG_RISK_DENY
                  : r->score >= FG_RISK_STEP_UP_AT ? FG_RISK_STEP_UP
                                                   : FG_RISK_ALLOW;
}

void fg_monitor_assess_login(struct fg_monitor *m, const struct fg_risk_login *q,
                             struct fg_risk_result *out)
{
    fg_risk_assess_login(m->risk, q, out);
    if (allowlisted_ip(m, q->ip) || allowlisted_user(m, q->user))
        unrespond(out);
}

void fg_monitor_assess_transfer(struct fg_monitor *m, const struct fg_risk_transfer *q,
                                struct fg_risk_result *out)
{
    fg_risk_assess_transfer(m->risk, q, out);
    if (allowlisted_ip(m, q->ip) || allowlisted_user(m, q->user))
        unrespond(out);
}

int fg_monitor_enforcing(const struct fg_monitor *m)
{
    return m != NULL && m->cfg->monitor_enforce;
}

/* ---- management ---------------------------------------------------------------------------- */

static fg_rc append_json_string(struct fg_buf *b, const char *s)
{
    fg_rc rc = fg_buf_append_char(b, '"');
    if (rc == FG_OK)
        rc = fg_buf_append_json_escaped(b, s, strlen(s));
    if (rc == FG_OK)
        rc = fg_buf_append_char(b, '"');
    return rc;
}

fg_rc fg_monitor_reload(struct fg_monitor *m, struct fg_buf *errors, size_t *nrules)
{
    struct fg_rules *rules = NULL;
    struct fg_engine *engine = NULL;
    fg_rc rc = build_engine(m, &rules, &engine, errors);
    if (rc)
        return rc;
    pthread_mutex_lock(&m->engine_mu);
    struct fg_rules *old_rules = m->rules;
    struct fg_engine *old_engine = m->engine;
    m->rules = rules;
    m->engine = engine;
    *nrules = fg_rules_count(rules);
    pthread_mutex_unlock(&m->engine_mu);
    fg_engine_free(old_engine);
    fg_rules_free(old_rules);
    return FG_OK;
}

fg_rc fg_monitor_rules_json(struct fg_monitor *m, struct fg_buf *out)
{
    pthread_mutex_lock(&m->engine_mu);
    fg_rc rc = fg_buf_append_char(out, '[');
    size_t n = fg_rules_count(m->rules);
    for (size_t i = 0; rc == FG_OK && i < n; i++) {
        const struct fg_rule_info *r = fg_rules_info(m->rules, i);
        rc = fg_buf_appendf(out, "%s{\"id\":", i ? "," : "");
        if (rc == FG_OK)
            rc = append_json_string(out, r->id);
        if (rc == FG_OK)
            rc = fg_buf_append_str(out, ",\"title\":");
        if (rc == FG_OK)
            rc = append_json_string(out, r->title);
        if (rc == FG_OK)
            rc = fg_buf_appendf(out, ",\"level\":\"%s\",\"kind\":\"%s\",\"tags\":[",
                                fg_rule_level_name(r->level), r->kind);
        for (unsigned t = 0; rc == FG_OK && t < r->ntags; t++) {
            if (t)
                rc = fg_buf_append_char(out, ',');
            if (rc == FG_OK)
                rc = append_json_string(out, r->tags[t]);
        }
        if (rc == FG_OK)
            rc = fg_buf_append_str(out, "],\"actions\":[");
        for (unsigned a = 0; rc == FG_OK && a < r->nactions; a++)
            rc = fg_buf_appendf(out, "%s\"%s\"", a ? "," : "", fg_action_name(r->actions[a].kind));
        if (rc == FG_OK)
            rc = fg_buf_appendf(out,
                                "],\"suppress_s\":%lld,\"firings\":%llu,\"evictions\":%llu,"
                                "\"source\":",
                                (long long)r->suppress_s,
                                (unsigned long long)fg_engine_rule_firings(m->engine, i),
                                (unsigned long long)fg_engine_rule_evictions(m->engine, i));
        if (rc == FG_OK) {
            char where[128];
            snprintf(where, sizeof where, "%s:%u", r->file, r->line);
            rc = append_json_string(out, where);
        }
        if (rc == FG_OK)
            rc = fg_buf_append_char(out, '}');
    }
    if (rc == FG_OK)
        rc = fg_buf_append_char(out, ']');
    pthread_mutex_unlock(&m->engine_mu);
    return rc;
}

/* Metrics text: a full buffer only cuts the page short. */
__attribute__((format(printf, 2, 3))) static void metrics_appendf(struct fg_buf *out,
                                                                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fg_rc rc = fg_buf_vappendf(out, fmt, ap);
    va_end(ap);
    (void)rc;
}

static void lat_print(struct fg_buf *out, const char *name, const char *help, struct lat_hist *h)
{
    metrics_appendf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (unsigned b = 0; b < ALERT_BUCKETS; b++) {
        cum += atomic_load(&h->le[b]);
        if (b < ALERT_BUCKETS - 1)
            metrics_appendf(out, "%s_bucket{le=\"%lld\"} %llu\n", name,
                            (long long)alert_bounds_ms[b], (unsigned long long)cum);
        else
            metrics_appendf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    metrics_appendf(out, "%s_sum %llu\n%s_count %llu\n", name,
                    (unsigned long long)atomic_load(&h->sum), name,
                    (unsigned long long)atomic_load(&h->count));
}

void fg_monitor_metrics(struct fg_monitor *m, struct fg_buf *out)
{
    if (m == NULL)
        return;
    struct fg_engine_stats es;
    pthread_mutex_lock(&m->engine_mu);
    fg_engine_get_stats(m->engine, &es);
    size_t nrules = fg_rules_count(m->rules);
    pthread_mutex_unlock(&m->engine_mu);
    metrics_appendf(
        out,
        "# HELP finguard_monitor_events_total Events evaluated by the rule engine.\n"
        "# TYPE finguard_monitor_events_total counter\n"
        "finguard_monitor_events_total %llu\n"
        "# HELP finguard_monitor_rules Detection rules in force.\n"
        "# TYPE finguard_monitor_rules gauge\n"
        "finguard_monitor_rules %zu\n"
        "# HELP finguard_monitor_firings_total Rule firings (after suppression).\n"
        "# TYPE finguard_monitor_firings_total counter\n"
        "finguard_monitor_firings_total %llu\n"
        "# HELP finguard_monitor_firings_dropped_total Firings over the per-batch bound.\n"
        "# TYPE finguard_monitor_firings_dropped_total counter\n"
        "finguard_monitor_firings_dropped_total %llu\n"
        "# HELP finguard_monitor_evictions_total Keys evicted from full rule windows.\n"
        "# TYPE finguard_monitor_evictions_total counter\n"
        "finguard_monitor_evictions_total %llu\n"
        "# HELP finguard_monitor_memory_bytes Memory of the engine's key tables.\n"
        "# TYPE finguard_monitor_memory_bytes gauge\n"
        "finguard_monitor_memory_bytes %zu\n"
        "# HELP finguard_monitor_memory_budget_bytes The engine's memory budget.\n"
        "# TYPE finguard_monitor_memory_budget_bytes gauge\n"
        "finguard_monitor_memory_budget_bytes %zu\n"
        "# HELP finguard_monitor_regex_limit_total Regex evaluations stopped at the match limit.\n"
        "# TYPE finguard_monitor_regex_limit_total counter\n"
        "finguard_monitor_regex_limit_total %llu\n"
        "# HELP finguard_monitor_lag_ms Commit-to-evaluation lag of the last batch.\n"
        "# TYPE finguard_monitor_lag_ms gauge\n"
        "finguard_monitor_lag_ms %llu\n"
        "# HELP finguard_monitor_response_failures_total Firings whose responses failed.\n"
        "# TYPE finguard_monitor_response_failures_total counter\n"
        "finguard_monitor_response_failures_total %llu\n"
        "# HELP finguard_monitor_allowlisted_total Responses skipped for the allowlist.\n"
        "# TYPE finguard_monitor_allowlisted_total counter\n"
        "finguard_monitor_allowlisted_total %llu\n"
        "# HELP finguard_monitor_events_pruned_total Events deleted after their retention.\n"
        "# TYPE finguard_monitor_events_pruned_total counter\n"
        "finguard_monitor_events_pruned_total %llu\n"
        "# HELP finguard_monitor_responses_total Responses applied, by action.\n"
        "# TYPE finguard_monitor_responses_total counter\n",
        (unsigned long long)atomic_load(&m->events), nrules,
        (unsigned long long)atomic_load(&m->firings_total),
        (unsigned long long)atomic_load(&m->firings_dropped), (unsigned long long)es.evictions,
        es.bytes_used, es.bytes_budget, (unsigned long long)es.regex_limit_hits,
        (unsigned long long)atomic_load(&m->lag_ms_last),
        (unsigned long long)atomic_load(&m->response_failures),
        (unsigned long long)atomic_load(&m->skipped_allowlisted),
        (unsigned long long)atomic_load(&m->pruned));
    lat_print(out, "finguard_monitor_alert_latency_ms",
              "From an event's commit to its alert's commit (the firing's responses included).",
              &m->alert_lat);
    lat_print(out, "finguard_monitor_detect_latency_ms",
              "From an event's commit to the monitor finding the firing (wake-up, scan, rules).",
              &m->detect_lat);
    for (int k = FG_ACT_ALERT; k <= FG_ACT_REQUIRE_STEP_UP; k++)
        metrics_appendf(out, "finguard_monitor_responses_total{action=\"%s\"} %llu\n",
                        fg_action_name((enum fg_action_kind)k),
                        (unsigned long long)atomic_load(&m->actions[k]));
    uint64_t siem_sent = 0, siem_dropped = 0;
    if (m->siem != NULL)
        fg_siem_stats(m->siem, &siem_sent, &siem_dropped);
    metrics_appendf(out,
                    "# HELP finguard_siem_lines_total Alert lines exported to the SIEM, by fate.\n"
                    "# TYPE finguard_siem_lines_total counter\n"
                    "finguard_siem_lines_total{fate=\"sent\"} %llu\n"
                    "finguard_siem_lines_total{fate=\"dropped\"} %llu\n",
                    (unsigned long long)siem_sent, (unsigned long long)siem_dropped);
    struct fg_risk_stats rs;
    fg_risk_get_stats(m->risk, &rs);
    metrics_appendf(
        out,
        "# HELP finguard_risk_assessments_total Inline risk answers, by question and decision.\n"
        "# TYPE finguard_risk_assessments_total counter\n"
        "finguard_risk_assessments_total{question=\"login\",decision=\"allow\"} %llu\n"
        "finguard_risk_assessments_total{question=\"login\",decision=\"step_up\"} %llu\n"
        "finguard_risk_assessments_total{question=\"login\",decision=\"deny\"} %llu\n"
        "finguard_risk_assessments_total{question=\"transfer\",decision=\"allow\"} %llu\n"
        "finguard_risk_assessments_total{question=\"transfer\",decision=\"step_up\"} %llu\n"
        "finguard_risk_assessments_total{question=\"transfer\",decision=\"deny\"} %llu\n"
        "# HELP finguard_risk_memory_bytes Memory of the risk state.\n"
        "# TYPE finguard_risk_memory_bytes gauge\n"
        "finguard_risk_memory_bytes %zu\n"
        "# HELP finguard_risk_evictions_total Risk entries evicted (or not kept) for memory.\n"
        "# TYPE finguard_risk_evictions_total counter\n"
        "finguard_risk_evictions_total %llu\n",
        (unsigned long long)rs.logins[0], (unsigned long long)rs.logins[1],
        (unsigned long long)rs.logins[2], (unsigned long long)rs.transfers[0],
        (unsigned long long)rs.transfers[1], (unsigned long long)rs.transfers[2], rs.bytes,
        (unsigned long long)(rs.evictions + rs.dropped));
}

static fg_rc max_seq(void *ctx, const struct fg_val *cols, int ncols)
{
    return read_int(ctx, cols, ncols);
}

fg_rc fg_monitor_sync(struct fg_monitor *m, int64_t timeout_ms)
{
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(m->store, &conn);
    if (rc)
        return rc;
    int64_t target = 0;
    rc = fg_conn_exec(conn, "SELECT coalesce(max(seq), 0) FROM events", NULL, 0, max_seq, &target,
                      NULL);
    fg_store_read_release(m->store, conn);
    if (rc)
        return rc;
    uint64_t start = fg_time_mono_ns();
    while (atomic_load(&m->done_seq) < target) {
        if ((int64_t)((fg_time_mono_ns() - start) / 1000000u) > timeout_ms)
            return FG_ERR_TIMEOUT;
        on_commit(m);
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    return FG_OK;
}
