/*
 * test_incident.c — incident/incident.c and export.c (INC-1..5): the lifecycle table (every
 * from/to pair), deadlines per profile, a whole life through the writer (timestamps, closing
 * needs a review, reopen, retention floor, timeline and events), a rule's firings joining
 * the open incident of rule + key (a new one once closed), the deadline marks (exactly one
 * alert per deadline, met deadlines never marked, a hand-opened incident discovered long
 * ago is late at once), evidence and review validation, the schema refusing to delete or
 * un-breach, and the Markdown / JSON report (known text).
 */
#include "incident_fixture.h"

#include "event/event.h"
#include "incident/incident.h"

#define H (3600LL * 1000LL)
#define T0 1772416800000LL /* 2026-03-02T02:00:00Z */

static void test_state_table(void **state)
{
    (void)state;
    /* expected[from][to] */
    static const int expected[FG_INC_STATE_COUNT_][FG_INC_STATE_COUNT_] = {
        /*               rep inv con rec clo */
        /* reported */ {0, 1, 0, 0, 0},
        /* investig */ {0, 0, 1, 0, 0},
        /* contained*/ {0, 0, 0, 1, 0},
        /* recovered*/ {0, 0, 0, 0, 1},
        /* closed   */ {0, 1, 0, 0, 0},
    };
    for (int f = 0; f < FG_INC_STATE_COUNT_; f++)
        for (int t = 0; t < FG_INC_STATE_COUNT_; t++) {
            if (fg_incident_transition_allowed((enum fg_incident_state)f,
                                               (enum fg_incident_state)t) != expected[f][t])
                fail_msg("%s -> %s", fg_incident_state_name((enum fg_incident_state)f),
                         fg_incident_state_name((enum fg_incident_state)t));
        }
    enum fg_incident_state s;
    assert_int_equal(fg_incident_state_parse("contained", &s), FG_OK);
    assert_int_equal(s, FG_INC_CONTAINED);
    assert_int_equal(fg_incident_state_parse("open", &s), FG_ERR_INVALID);
    assert_int_equal(fg_incident_state_parse(NULL, &s), FG_ERR_INVALID);
}

static void test_deadlines(void **state)
{
    (void)state;
    const struct fg_incident_policy *p = fg_incident_policy_builtin();
    int64_t due[FG_INC_DL_COUNT_];
    fg_incident_deadlines(fg_incident_profile_find(p, "standard"), T0, due);
    assert_int_equal(due[FG_INC_DL_REPORT], T0 + 24 * H);
    assert_int_equal(due[FG_INC_DL_HANDLE], T0 + 48 * H);
    assert_int_equal(due[FG_INC_DL_RECOVER], T0 + 72 * H);
    fg_incident_deadlines(fg_incident_profile_find(p, "critical_infrastructure"), T0, due);
    assert_int_equal(due[FG_INC_DL_REPORT], T0 + 1 * H);
    assert_int_equal(due[FG_INC_DL_HANDLE], T0 + 48 * H);
    assert_int_equal(due[FG_INC_DL_RECOVER], T0 + 72 * H);
    assert_string_equal(fg_incident_profile_find(p, NULL)->name, "standard");
    assert_null(fg_incident_profile_find(p, "nope"));
}

/* ---- writer helpers ------------------------------------------------------------------ */

struct open_hand {
    struct fg_incident_new n;
    int64_t now;
    char id[FG_INCIDENT_ID_SIZE];
};

static fg_rc open_hand_fn(fg_conn *c, void *arg)
{
    struct open_hand *o = arg;
    return fg_incident_open(c, NULL, &o->n, o->now, o->id);
}

static void open_by_hand(struct inc_env *e, int64_t discovered, int64_t now, const char *profile,
                         char id[FG_INCIDENT_ID_SIZE])
{
    struct open_hand o = {.n = {.type = "account_takeover",
                                .severity = "high",
                                .title = "Takeover of u1",
                                .discovered_ms = discovered,
                                .accounts_json = "[\"acc_1\"]",
                                .users_json = "[\"u1\"]",
                                .features = "logins from a new country",
                                .scope = "one customer",
                                .first_actions = "sessions revoked",
                                .profile = profile,
                                .opened_by = "u_officer"},
                          .now = now};
    assert_int_equal(inc_write(e, open_hand_fn, &o), FG_OK);
    memcpy(id, o.id, FG_INCIDENT_ID_SIZE);
}

struct trans {
    const char *id;
    enum fg_incident_state to, from;
    int64_t now;
    const char *why;
};

static fg_rc trans_fn(fg_conn *c, void *arg)
{
    struct trans *t = arg;
    return fg_incident_transition(c, NULL, t->id, t->to, "because", "u_officer", t->now, &t->from,
                                  &t->why);
}

static fg_rc move(struct inc_env *e, const char *id, enum fg_incident_state to, int64_t now)
{
    struct trans t = {.id = id, .to = to, .now = now};
    return inc_write(e, trans_fn, &t);
}

struct review {
    const char *id, *imp;
};

static fg_rc review_fn(fg_conn *c, void *arg)
{
    struct review *r = arg;
    return fg_incident_review(c, r->id, "weak password on the account", r->imp, "u_officer",
                              T0 + 80 * H);
}

struct get {
    const char *id;
    struct fg_incident_view v;
};

static fg_rc get_fn(fg_conn *c, void *arg)
{
    struct get *g = arg;
    return fg_incident_get(c, g->id, &g->v);
}

static struct fg_incident_view view(struct inc_env *e, const char *id)
{
    struct get g = {.id = id};
    assert_int_equal(inc_read(e, get_fn, &g), FG_OK);
    return g.v;
}

static const char *const IMP =
    "[{\"title\":\"Enforce MFA\",\"owner\":\"sec\",\"due\":\"2026-04-01\"}]";

static void test_lifecycle(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("inc-life");
    char id[FG_INCIDENT_ID_SIZE];
    open_by_hand(e, T0, T0 + 1 * H, NULL, id);
    struct fg_incident_view v = view(e, id);
    assert_int_equal(v.state, FG_INC_REPORTED);
    assert_string_equal(v.profile, "standard");
    assert_int_equal(v.discovered_ms, T0);
    assert_int_equal(v.reported_ms, T0 + 1 * H);
    assert_int_equal(v.due_ms[FG_INC_DL_REPORT], T0 + 24 * H);
    /* skipping is refused, with the state before */
    struct trans t = {.id = id, .to = FG_INC_CONTAINED, .now = T0 + 2 * H};
    assert_int_equal(inc_write(e, trans_fn, &t), FG_ERR_CONFLICT);
    assert_int_equal(t.from, FG_INC_REPORTED);
    assert_string_equal(t.why, "transition not allowed");
    assert_int_equal(move(e, id, FG_INC_INVESTIGATING, T0 + 2 * H), FG_OK);
    assert_int_equal(move(e, id, FG_INC_CONTAINED, T0 + 3 * H), FG_OK);
    /* a review before recovery is refused */
    struct review r = {id, IMP};
    assert_int_equal(inc_write(e, review_fn, &r), FG_ERR_CONFLICT);
    assert_int_equal(move(e, id, FG_INC_RECOVERED, T0 + 4 * H), FG_OK);
    /* closing needs the review */
    t = (struct trans){.id = id, .to = FG_INC_CLOSED, .now = T0 + 5 * H};
    assert_int_equal(inc_write(e, trans_fn, &t), FG_ERR_CONFLICT);
    assert_non_null(strstr(t.why, "review"));
    assert_int_equal(inc_write(e, review_fn, &r), FG_OK);
    assert_int_equal(move(e, id, FG_INC_CLOSED, T0 + 5 * H), FG_OK);
    v = view(e, id);
    assert_int_equal(v.state, FG_INC_CLOSED);
    assert_int_equal(v.contained_ms, T0 + 3 * H);
    assert_int_equal(v.recovered_ms, T0 + 4 * H);
    assert_int_equal(v.closed_ms, T0 + 5 * H);
    /* INC-4: kept at least archive_years (3) after closing */
    assert_true(v.retain_until_ms >= T0 + 5 * H + 3LL * 365 * 24 * H);
    assert_true(v.reviewed);
    /* reopen, and only to investigating */
    assert_int_equal(move(e, id, FG_INC_RECOVERED, T0 + 6 * H), FG_ERR_CONFLICT);
    assert_int_equal(move(e, id, FG_INC_INVESTIGATING, T0 + 6 * H), FG_OK);
    v = view(e, id);
    assert_int_equal(v.closed_ms, 0);
    assert_int_equal(v.contained_ms, T0 + 3 * H); /* the first containment stays */
    /* the timeline: opened, 4 transitions, review, reopen */
    assert_int_equal(
        inc_count(e, "SELECT count(*) FROM incident_timeline WHERE incident_id = ?1", id), 7);
    assert_int_equal(inc_count(e,
                               "SELECT count(*) FROM events WHERE type = 'incident.transitioned'"
                               " AND object_id = ?1",
                               id),
                     5);
    assert_int_equal(
        inc_count(e, "SELECT count(*) FROM events WHERE type = 'incident.opened'", NULL), 1);
    inc_env_free(e);
}

static fg_rc delete_fn(fg_conn *c, void *arg)
{
    (void)arg;
    return fg_conn_exec(c, "DELETE FROM incidents", NULL, 0, NULL, NULL, NULL);
}

static fg_rc unbreach_fn(fg_conn *c, void *arg)
{
    (void)arg;
    return fg_conn_exec(c, "UPDATE incidents SET report_breached = 0", NULL, 0, NULL, NULL, NULL);
}

static fg_rc movedue_fn(fg_conn *c, void *arg)
{
    (void)arg;
    return fg_conn_exec(c, "UPDATE incidents SET handle_due_ms = handle_due_ms + 1", NULL, 0, NULL,
                        NULL, NULL);
}

struct mark {
    const char *id;
    enum fg_incident_deadline d;
    int64_t now;
    int marked;
    char alert[FG_ALERT_ID_SIZE];
};

static fg_rc mark_fn(fg_conn *c, void *arg)
{
    struct mark *m = arg;
    return fg_incident_mark_breach(c, m->id, m->d, m->now, &m->marked, m->alert);
}

static int mark(struct inc_env *e, const char *id, enum fg_incident_deadline d, int64_t now)
{
    struct mark m = {.id = id, .d = d, .now = now};
    assert_int_equal(inc_write(e, mark_fn, &m), FG_OK);
    return m.marked;
}

struct due {
    int64_t now;
    unsigned n;
    int kinds[8];
};

static fg_rc due_cb(void *ctx, const char *id, enum fg_incident_deadline d)
{
    (void)id;
    struct due *x = ctx;
    if (x->n < 8)
        x->kinds[x->n] = (int)d;
    x->n++;
    return FG_OK;
}

static fg_rc due_fn(fg_conn *c, void *arg)
{
    struct due *x = arg;
    x->n = 0;
    return fg_incident_due(c, x->now, 64, due_cb, x);
}

static unsigned due_count(struct inc_env *e, int64_t now)
{
    struct due x = {.now = now};
    assert_int_equal(inc_read(e, due_fn, &x), FG_OK);
    return x.n;
}

static void test_breaches(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("inc-breach");
    char id[FG_INCIDENT_ID_SIZE];
    open_by_hand(e, T0, T0, NULL, id);                  /* reported at discovery */
    assert_int_equal(due_count(e, T0 + 24 * H + 1), 0); /* report met; handle not yet due */
    assert_int_equal(mark(e, id, FG_INC_DL_REPORT, T0 + 30 * H), 0);
    assert_int_equal(mark(e, id, FG_INC_DL_HANDLE, T0 + 48 * H), 0); /* at the due time: not late */
    assert_int_equal(due_count(e, T0 + 48 * H + 1), 1);
    assert_int_equal(mark(e, id, FG_INC_DL_HANDLE, T0 + 48 * H + 1), 1);
    assert_int_equal(mark(e, id, FG_INC_DL_HANDLE, T0 + 50 * H), 0); /* once */
    assert_int_equal(due_count(e, T0 + 50 * H), 0);
    /* recovered in time: recover never marked */
    assert_int_equal(move(e, id, FG_INC_INVESTIGATING, T0 + 50 * H), FG_OK);
    assert_int_equal(move(e, id, FG_INC_CONTAINED, T0 + 51 * H), FG_OK);
    assert_int_equal(move(e, id, FG_INC_RECOVERED, T0 + 60 * H), FG_OK);
    assert_int_equal(due_count(e, T0 + 100 * H), 0);
    assert_int_equal(mark(e, id, FG_INC_DL_RECOVER, T0 + 100 * H), 0);
    struct fg_incident_view v = view(e, id);
    assert_int_equal(v.breached[FG_INC_DL_REPORT], 0);
    assert_int_equal(v.breached[FG_INC_DL_HANDLE], 1);
    assert_int_equal(v.breached[FG_INC_DL_RECOVER], 0);
    /* exactly one alert, high, key = the incident, linked to it */
    assert_int_equal(inc_count(e,
                               "SELECT count(*) FROM alerts WHERE rule_id = "
                               "'incident.deadline.handle' AND key = ?1 AND level = 'high' "
                               "AND incident_id = ?1",
                               id),
                     1);
    assert_int_equal(inc_count(e, "SELECT count(*) FROM alerts", NULL), 1);
    assert_int_equal(inc_count(e,
                               "SELECT count(*) FROM events WHERE type = "
                               "'incident.deadline_breached' AND object_id = ?1",
                               id),
                     1);
    assert_int_equal(inc_count(e,
                               "SELECT count(*) FROM incident_timeline WHERE kind = "
                               "'deadline' AND incident_id = ?1",
                               id),
                     1);
    /* a hand-opened incident discovered 2 h before it is reported under the 1-hour profile:
     * the report deadline is missed at once */
    char late[FG_INCIDENT_ID_SIZE];
    open_by_hand(e, T0, T0 + 2 * H, "critical_infrastructure", late);
    assert_int_equal(due_count(e, T0 + 2 * H), 1);
    assert_int_equal(mark(e, late, FG_INC_DL_REPORT, T0 + 2 * H), 1);
    assert_int_equal(view(e, late).breached[FG_INC_DL_REPORT], 1);
    /* the schema: never deleted, a breach never undone, deadlines never moved */
    assert_int_not_equal(inc_write(e, delete_fn, NULL), FG_OK);
    assert_int_not_equal(inc_write(e, unbreach_fn, NULL), FG_OK);
    assert_int_not_equal(inc_write(e, movedue_fn, NULL), FG_OK);
    inc_env_free(e);
}

struct rule_open {
    struct fg_incident_rule_open o;
    int64_t now;
    char id[FG_INCIDENT_ID_SIZE];
    int created;
};

static fg_rc rule_open_fn(fg_conn *c, void *arg)
{
    struct rule_open *r = arg;
    return fg_incident_open_for_rule(c, &r->o, r->now, r->id, &r->created);
}

static void test_open_for_rule(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("inc-rule");
    struct rule_open r = {.o = {.rule_id = "ato.phone_then_transfer",
                                .rule_title = "Phone change then large transfer",
                                .key = "customer=c1",
                                .type = "account_takeover",
                                .severity = "critical",
                                .event_seq = 41,
                                .account_id = "acc_1",
                                .user_id = "u1"},
                          .now = T0};
    assert_int_equal(inc_write(e, rule_open_fn, &r), FG_OK);
    assert_int_equal(r.created, 1);
    char first[FG_INCIDENT_ID_SIZE];
    memcpy(first, r.id, sizeof first);
    struct fg_incident_view v = view(e, first);
    assert_string_equal(v.title, "Phone change then large transfer (customer=c1)");
    assert_string_equal(v.opened_by, "rule:ato.phone_then_transfer");
    assert_int_equal(v.reported_ms, T0); /* reported when opened: report deadline met */
    assert_string_equal(v.severity, "critical");
    /* a second firing joins, adding the new account once */
    r.o.event_seq = 42;
    r.o.account_id = "acc_2";
    r.now = T0 + 1000;
    assert_int_equal(inc_write(e, rule_open_fn, &r), FG_OK);
    assert_int_equal(r.created, 0);
    assert_string_equal(r.id, first);
    r.o.event_seq = 43;
    assert_int_equal(inc_write(e, rule_open_fn, &r), FG_OK);
    assert_int_equal(
        inc_count(e, "SELECT json_array_length(accounts) FROM incidents WHERE id = ?1", first), 2);
    assert_int_equal(
        inc_count(e, "SELECT count(*) FROM incident_timeline WHERE incident_id = ?1", first), 3);
    /* another key: another incident */
    r.o.key = "customer=c2";
    assert_int_equal(inc_write(e, rule_open_fn, &r), FG_OK);
    assert_int_equal(r.created, 1);
    /* once closed, the next firing of the first key opens a new incident */
    struct review rv = {first, IMP};
    assert_int_equal(move(e, first, FG_INC_INVESTIGATING, T0 + 2000), FG_OK);
    assert_int_equal(move(e, first, FG_INC_CONTAINED, T0 + 3000), FG_OK);
    assert_int_equal(move(e, first, FG_INC_RECOVERED, T0 + 4000), FG_OK);
    assert_int_equal(inc_write(e, review_fn, &rv), FG_OK);
    assert_int_equal(move(e, first, FG_INC_CLOSED, T0 + 5000), FG_OK);
    r.o.key = "customer=c1";
    assert_int_equal(inc_write(e, rule_open_fn, &r), FG_OK);
    assert_int_equal(r.created, 1);
    assert_string_not_equal(r.id, first);
    /* malformed */
    r.o.type = "Account Takeover";
    assert_int_equal(inc_write(e, rule_open_fn, &r), FG_ERR_INVALID);
    inc_env_free(e);
}

struct ev {
    const char *id, *kind, *from, *to;
};

static fg_rc ev_fn(fg_conn *c, void *arg)
{
    struct ev *x = arg;
    return fg_incident_evidence_add(c, x->id, x->kind, x->from, x->to, "see the log", "u_officer",
                                    T0);
}

static void test_evidence_review_input(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("inc-input");
    char id[FG_INCIDENT_ID_SIZE];
    open_by_hand(e, T0, T0, NULL, id);
    struct ev x = {id, "event", "10", "20"};
    assert_int_equal(inc_write(e, ev_fn, &x), FG_OK);
    x = (struct ev){id, "audit_range", "5", NULL};
    assert_int_equal(inc_write(e, ev_fn, &x), FG_OK);
    x = (struct ev){id, "event", "20", "10"}; /* backwards */
    assert_int_equal(inc_write(e, ev_fn, &x), FG_ERR_INVALID);
    x = (struct ev){id, "event", "x1", NULL};
    assert_int_equal(inc_write(e, ev_fn, &x), FG_ERR_INVALID);
    x = (struct ev){id, "alert", "alr_ZZZZZZZZZZZZZZZZZZZZZZ", NULL}; /* no such alert */
    assert_int_equal(inc_write(e, ev_fn, &x), FG_ERR_INVALID);
    x = (struct ev){id, "photo", "1", NULL};
    assert_int_equal(inc_write(e, ev_fn, &x), FG_ERR_INVALID);
    x = (struct ev){"inc_ZZZZZZZZZZZZZZZZZZZZZZ", "event", "1", NULL};
    assert_int_equal(inc_write(e, ev_fn, &x), FG_ERR_NOT_FOUND);
    assert_int_equal(inc_count(e, "SELECT count(*) FROM incident_evidence", NULL), 2);
    /* review: malformed improvements */
    assert_int_equal(move(e, id, FG_INC_INVESTIGATING, T0), FG_OK);
    assert_int_equal(move(e, id, FG_INC_CONTAINED, T0), FG_OK);
    assert_int_equal(move(e, id, FG_INC_RECOVERED, T0), FG_OK);
    static const char *const bad[] = {
        "[]",
        "{}",
        "[{\"title\":\"a\",\"owner\":\"b\"}]",
        "[{\"title\":\"a\",\"owner\":\"b\",\"due\":\"2026-02-30\"}]",
        "[{\"title\":\"a\",\"owner\":\"b\",\"due\":\"2026-04-01\",\"x\":1}]",
        "[{\"title\":\"\",\"owner\":\"b\",\"due\":\"2026-04-01\"}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct review r = {id, bad[i]};
        if (inc_write(e, review_fn, &r) != FG_ERR_INVALID)
            fail_msg("accepted %s", bad[i]);
    }
    /* open: discovered in the future, unknown profile, bad ids */
    struct open_hand o = {.n = {.type = "fraud",
                                .severity = "low",
                                .title = "t",
                                .discovered_ms = T0 + 1,
                                .opened_by = "u"},
                          .now = T0};
    assert_int_equal(inc_write(e, open_hand_fn, &o), FG_ERR_INVALID);
    o.n.discovered_ms = 0;
    o.n.profile = "nope";
    assert_int_equal(inc_write(e, open_hand_fn, &o), FG_ERR_INVALID);
    o.n.profile = NULL;
    o.n.accounts_json = "[1]";
    assert_int_equal(inc_write(e, open_hand_fn, &o), FG_ERR_INVALID);
    o.n.accounts_json = NULL;
    o.n.severity = "urgent";
    assert_int_equal(inc_write(e, open_hand_fn, &o), FG_ERR_INVALID);
    inc_env_free(e);
}

struct md {
    const char *id;
    int json;
    struct fg_buf b;
};

static fg_rc md_fn(fg_conn *c, void *arg)
{
    struct md *m = arg;
    return m->json ? fg_incident_json(c, m->id, &m->b)
                   : fg_incident_markdown(c, m->id, T0 + 100 * H, &m->b);
}

static fg_rc note_fn(fg_conn *c, void *arg)
{
    return fg_incident_timeline_add(c, arg, "note", "u_officer", "called | the *customer*\nback",
                                    NULL, T0 + 2 * H);
}

static void test_export_known(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("inc-export");
    char id[FG_INCIDENT_ID_SIZE];
    open_by_hand(e, T0, T0 + 1 * H, NULL, id);
    assert_int_equal(inc_write(e, note_fn, id), FG_OK);
    struct ev x = {id, "event", "10", "20"};
    assert_int_equal(inc_write(e, ev_fn, &x), FG_OK);
    assert_int_equal(move(e, id, FG_INC_INVESTIGATING, T0 + 3 * H), FG_OK);
    assert_int_equal(move(e, id, FG_INC_CONTAINED, T0 + 50 * H), FG_OK); /* late */
    assert_int_equal(mark(e, id, FG_INC_DL_HANDLE, T0 + 50 * H), 1);
    struct md m = {.id = id, .b = FG_BUF_INIT(1u << 20)};
    assert_int_equal(inc_read(e, md_fn, &m), FG_OK);
    char alert[96];
    /* the alert id is random: read it back from the timeline row, as escaped (to the end of
     * its cell: base64url may hold '_', which Markdown escapes) */
    const char *ref = strstr(fg_buf_str(&m.b), "| alr\\_");
    assert_non_null(ref);
    const char *end = strchr(ref + 2, ' ');
    assert_non_null(end);
    snprintf(alert, sizeof alert, "%.*s", (int)(end - ref - 2), ref + 2);
    /* the incident id, escaped as the report escapes it */
    char id_md[64];
    size_t k = 0;
    for (const char *p = id + 4; *p != '\0' && k + 2 < sizeof id_md; p++) {
        if (*p == '_')
            id_md[k++] = '\\';
        id_md[k++] = *p;
    }
    id_md[k] = '\0';
    char expected[8192];
    snprintf(
        expected, sizeof expected,
        "# Incident report: Takeover of u1\n\n"
        "| Field | Value |\n|---|---|\n"
        "| ID | inc\\_%s |\n"
        "| Type | account\\_takeover |\n"
        "| Severity | high |\n"
        "| State | contained |\n"
        "| Profile | standard |\n"
        "| Opened by | u\\_officer |\n"
        "| Discovered | 2026-03-02T02:00:00.000Z |\n"
        "| Reported | 2026-03-02T03:00:00.000Z |\n"
        "| Contained | 2026-03-04T04:00:00.000Z |\n"
        "| Recovered | - |\n"
        "| Closed | - |\n"
        "| Retained until | - |\n"
        "| Accounts | acc\\_1 |\n"
        "| Users | u1 |\n"
        "\n## Deadlines\n\n| Deadline | Due | Met at | Status |\n|---|---|---|---|\n"
        "| report | 2026-03-03T02:00:00.000Z | 2026-03-02T03:00:00.000Z | met |\n"
        "| handle | 2026-03-04T02:00:00.000Z | 2026-03-04T04:00:00.000Z | breached |\n"
        "| recover | 2026-03-05T02:00:00.000Z | - | pending |\n"
        "\n## Features\n\nlogins from a new country\n"
        "\n## Scope\n\none customer\n"
        "\n## First actions\n\nsessions revoked\n"
        "\n## Timeline\n\n| # | Time | Kind | Actor | Text | Ref |\n|---|---|---|---|---|---|\n"
        "| 1 | 2026-03-02T03:00:00.000Z | transition | u\\_officer | opened by hand: reported |  "
        "|\n"
        "| 2 | 2026-03-02T04:00:00.000Z | note | u\\_officer | called \\| the \\*customer\\* back "
        "|  "
        "|\n"
        "| 3 | 2026-03-02T02:00:00.000Z | evidence | u\\_officer | evidence \\#1: event 10..20 |  "
        "|\n"
        "| 4 | 2026-03-02T05:00:00.000Z | transition | u\\_officer | reported -\\> investigating: "
        "because |  |\n"
        "| 5 | 2026-03-04T04:00:00.000Z | transition | u\\_officer | investigating -\\> contained: "
        "because |  |\n"
        "| 6 | 2026-03-04T04:00:00.000Z | deadline | system | handle deadline missed (due "
        "2026-03-04T02:00:00.000Z) | %s |\n"
        "\n## Evidence\n\n| # | Kind | From | To | Note | Added by | Added at |\n"
        "|---|---|---|---|---|---|---|\n"
        "| 1 | event | 10 | 20 | see the log | u\\_officer | 2026-03-02T02:00:00.000Z |\n"
        "\n## Review\n\nNo review recorded yet.\n"
        "\n_Generated by finguard at 2026-03-06T06:00:00.000Z._\n",
        id_md, alert);
    if (strcmp(fg_buf_str(&m.b), expected) != 0)
        fprintf(stderr, "---- got\n%s---- expected\n%s----\n", fg_buf_str(&m.b), expected);
    assert_string_equal(fg_buf_str(&m.b), expected);
    fg_buf_release(&m.b);
    /* JSON: parses, and carries the deadlines and the lists */
    struct md j = {.id = id, .json = 1, .b = FG_BUF_INIT(1u << 20)};
    assert_int_equal(inc_read(e, md_fn, &j), FG_OK);
    const char *s = fg_buf_str(&j.b);
    assert_non_null(strstr(s, "\"handle\":{\"status\":\"breached\",\"breached\":true,"
                              "\"due\":\"2026-03-04T02:00:00.000Z\",\"met_at\":"
                              "\"2026-03-04T04:00:00.000Z\"}"));
    assert_non_null(strstr(s, "\"accounts\":[\"acc_1\"],\"users\":[\"u1\"]"));
    assert_non_null(strstr(s, "\"review\":null,\"timeline\":[{\"seq\":1,"));
    assert_non_null(strstr(s, "\"evidence\":[{\"seq\":1,\"kind\":\"event\",\"from\":\"10\","
                              "\"to\":\"20\",\"note\":\"see the log\""));
    fg_buf_release(&j.b);
    inc_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_table),   cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_lifecycle),     cmocka_unit_test(test_breaches),
        cmocka_unit_test(test_open_for_rule), cmocka_unit_test(test_evidence_review_input),
        cmocka_unit_test(test_export_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
