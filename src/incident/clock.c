/*
 * clock.c — the incident deadline clock (incident.h "the deadline clock"): a thread that
 * wakes every period, reads the deadlines that have passed (fg_incident_due) on a read
 * lease, and marks each in its own audited write intent (fg_incident_mark_breach). It also
 * refreshes the counts /metrics shows, so a scrape never touches the database.
 *
 * Time is fg_time_wall_ms(): moving the injectable clock (POST /v1/diag/clock) moves the
 * deadlines' "now" within one period.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "incident/incident.h"

struct fg_incidents {
    struct fg_incident_policy policy;
    fg_store *store;
    int64_t period_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, stopping;
    _Atomic uint64_t breaches[FG_INC_DL_COUNT_];
    _Atomic uint64_t tick_errors;
    _Atomic int64_t by_state[FG_INC_STATE_COUNT_];
    _Atomic int64_t alerts_unresolved[4];
    _Atomic int counts_valid;
    pthread_mutex_t tick_mu; /* one tick at a time (thread and fg_incidents_tick) */
};

fg_rc fg_incidents_new(const struct fg_incidents_options *opt, struct fg_incidents **out,
                       struct fg_buf *errors)
{
    if (opt == NULL || out == NULL || opt->store == NULL || opt->period_ms < 0)
        return FG_ERR_INVALID;
    struct fg_incidents *inc = calloc(1, sizeof *inc);
    if (!inc)
        return FG_ERR_NOMEM;
    fg_rc rc = fg_incident_policy_load(opt->cfg, &inc->policy, errors);
    if (rc) {
        free(inc);
        return rc;
    }
    inc->store = opt->store;
    inc->period_ms = opt->period_ms ? opt->period_ms : FG_INCIDENTS_TICK_MS;
    pthread_mutex_init(&inc->mu, NULL);
    pthread_mutex_init(&inc->tick_mu, NULL);
    pthread_cond_init(&inc->cv, NULL);
    *out = inc;
    return FG_OK;
}

const struct fg_incident_policy *fg_incidents_policy(const struct fg_incidents *inc)
{
    return inc ? &inc->policy : fg_incident_policy_builtin();
}

struct due_item {
    char id[FG_INCIDENT_ID_SIZE];
    enum fg_incident_deadline d;
};
struct due_list {
    struct due_item items[FG_INCIDENTS_DUE_BATCH];
    unsigned n;
};

static fg_rc collect(void *ctx, const char *id, enum fg_incident_deadline d)
{
    struct due_list *l = ctx;
    if (l->n >= FG_INCIDENTS_DUE_BATCH)
        return FG_OK;
    memcpy(l->items[l->n].id, id, FG_INCIDENT_ID_SIZE);
    l->items[l->n].d = d;
    l->n++;
    return FG_OK;
}

struct mark_arg {
    const struct due_item *item;
    int64_t now_ms;
    int marked;
    char alert_id[FG_ALERT_ID_SIZE];
};

static fg_rc mark_intent(fg_conn *c, void *arg)
{
    struct mark_arg *m = arg;
    fg_rc rc =
        fg_incident_mark_breach(c, m->item->id, m->item->d, m->now_ms, &m->marked, m->alert_id);
    if (rc == FG_OK && !m->marked)
        return FG_ERR_CONFLICT; /* met or marked meanwhile: roll back (record says error) */
    return rc;
}

static void refresh_counts(struct fg_incidents *inc, fg_conn *c)
{
    int64_t st[FG_INC_STATE_COUNT_], al[4];
    if (fg_incident_count_by_state(c, st) != FG_OK || fg_alert_count_unresolved(c, al) != FG_OK)
        return;
    for (int i = 0; i < FG_INC_STATE_COUNT_; i++)
        atomic_store(&inc->by_state[i], st[i]);
    for (int i = 0; i < 4; i++)
        atomic_store(&inc->alerts_unresolved[i], al[i]);
    atomic_store(&inc->counts_valid, 1);
}

fg_rc fg_incidents_tick(struct fg_incidents *inc, unsigned *marked)
{
    unsigned n_marked = 0;
    if (marked)
        *marked = 0;
    pthread_mutex_lock(&inc->tick_mu);
    int64_t now = fg_time_wall_ms();
    struct due_list *l = calloc(1, sizeof *l);
    fg_conn *c = NULL;
    fg_rc rc = l ? fg_store_read_acquire(inc->store, &c) : FG_ERR_NOMEM;
    if (rc == FG_OK) {
        rc = fg_incident_due(c, now, FG_INCIDENTS_DUE_BATCH, collect, l);
        fg_store_read_release(inc->store, c);
    }
    for (unsigned i = 0; rc == FG_OK && i < l->n; i++) {
        const struct due_item *it = &l->items[i];
        struct fg_audit_actor who = {.actor_id = "system"};
        struct fg_audit_record rec;
        char details[96];
        snprintf(details, sizeof details, "{\"deadline\":\"%s\"}",
                 fg_incident_deadline_name(it->d));
        rc = fg_audit_record_init(&rec, &who, "incident.deadline_breached", "incident", it->id);
        if (!rc)
            rc = fg_audit_record_details(&rec, details, strlen(details));
        if (rc)
            break;
        struct mark_arg m = {.item = it, .now_ms = now};
        fg_rc mrc = fg_audit_write(inc->store, mark_intent, &m, &rec);
        if (mrc == FG_OK && m.marked) {
            atomic_fetch_add(&inc->breaches[it->d], 1);
            n_marked++;
            fg_log(FG_LOG_WARN, "incident.deadline_breached", FG_LF_STR("incident", it->id),
                   FG_LF_STR("deadline", fg_incident_deadline_name(it->d)),
                   FG_LF_STR("alert", m.alert_id));
        } else if (mrc != FG_ERR_CONFLICT) {
            rc = mrc; /* sealed, store trouble: try again next tick */
        }
    }
    if (rc == FG_OK && fg_store_read_acquire(inc->store, &c) == FG_OK) {
        refresh_counts(inc, c);
        fg_store_read_release(inc->store, c);
    }
    free(l);
    pthread_mutex_unlock(&inc->tick_mu);
    if (marked)
        *marked = n_marked;
    return rc;
}

static void *run(void *arg)
{
    struct fg_incidents *inc = arg;
    fg_rc last = FG_OK;
    pthread_mutex_lock(&inc->mu);
    while (!inc->stopping) {
        pthread_mutex_unlock(&inc->mu);
        unsigned marked;
        fg_rc rc = fg_incidents_tick(inc, &marked);
        if (rc != FG_OK) {
            atomic_fetch_add(&inc->tick_errors, 1);
            if (rc != last)
                fg_log(FG_LOG_WARN, "incident.clock_failed", FG_LF_STR("rc", fg_rc_name(rc)));
        }
        last = rc;
        pthread_mutex_lock(&inc->mu);
        if (inc->stopping)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (inc->period_ms % 1000) * 1000000LL;
        ts.tv_sec += inc->period_ms / 1000 + ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        (void)pthread_cond_timedwait(&inc->cv, &inc->mu, &ts);
    }
    pthread_mutex_unlock(&inc->mu);
    return NULL;
}

fg_rc fg_incidents_start(struct fg_incidents *inc)
{
    if (inc == NULL || inc->started)
        return FG_ERR_INVALID;
    inc->stopping = 0;
    if (pthread_create(&inc->thread, NULL, run, inc) != 0)
        return FG_ERR_NOMEM;
    inc->started = 1;
    return FG_OK;
}

void fg_incidents_stop(struct fg_incidents *inc)
{
    if (inc == NULL || !inc->started)
        return;
    pthread_mutex_lock(&inc->mu);
    inc->stopping = 1;
    pthread_cond_broadcast(&inc->cv);
    pthread_mutex_unlock(&inc->mu);
    pthread_join(inc->thread, NULL);
    inc->started = 0;
}

void fg_incidents_free(struct fg_incidents *inc)
{
    if (inc == NULL)
        return;
    fg_incidents_stop(inc);
    pthread_cond_destroy(&inc->cv);
    pthread_mutex_destroy(&inc->mu);
    pthread_mutex_destroy(&inc->tick_mu);
    free(inc);
}

void fg_incidents_metrics(struct fg_incidents *inc, struct fg_buf *out)
{
    if (inc == NULL || out == NULL)
        return;
    static const char *const levels[4] = {"low", "medium", "high", "critical"};
    fg_rc rc = fg_buf_append_str(
        out, "# HELP finguard_incident_deadline_breaches_total Incident deadlines missed (INC-2), "
             "since start.\n# TYPE finguard_incident_deadline_breaches_total counter\n");
    for (int d = 0; rc == FG_OK && d < FG_INC_DL_COUNT_; d++)
        rc =
            fg_buf_appendf(out, "finguard_incident_deadline_breaches_total{deadline=\"%s\"} %llu\n",
                           fg_incident_deadline_name((enum fg_incident_deadline)d),
                           (unsigned long long)atomic_load(&inc->breaches[d]));
    if (rc == FG_OK)
        rc = fg_buf_appendf(out,
                            "# HELP finguard_incident_clock_errors_total Deadline clock ticks that "
                            "failed.\n# TYPE finguard_incident_clock_errors_total counter\n"
                            "finguard_incident_clock_errors_total %llu\n",
                            (unsigned long long)atomic_load(&inc->tick_errors));
    if (rc || !atomic_load(&inc->counts_valid))
        return;
    rc = fg_buf_append_str(out, "# HELP finguard_incidents Incidents by state.\n"
                                "# TYPE finguard_incidents gauge\n");
    for (int s = 0; rc == FG_OK && s < FG_INC_STATE_COUNT_; s++)
        rc = fg_buf_appendf(out, "finguard_incidents{state=\"%s\"} %lld\n",
                            fg_incident_state_name((enum fg_incident_state)s),
                            (long long)atomic_load(&inc->by_state[s]));
    if (rc == FG_OK)
        rc = fg_buf_append_str(out, "# HELP finguard_alerts_unresolved Alerts open or acked, by "
                                    "level.\n# TYPE finguard_alerts_unresolved gauge\n");
    for (int i = 0; rc == FG_OK && i < 4; i++)
        rc = fg_buf_appendf(out, "finguard_alerts_unresolved{level=\"%s\"} %lld\n", levels[i],
                            (long long)atomic_load(&inc->alerts_unresolved[i]));
}
