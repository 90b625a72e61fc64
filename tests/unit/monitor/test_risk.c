/*
 * test_risk.c — monitor/risk.c (MON-3, AUTH-7, TXN-3, AUTH-10; issue #6 §3; docs/risk.md):
 * every transfer feature alone and the account-takeover combination (acceptance: phone change,
 * then a large transfer from a new device to a new payee → refused or stepped up); the
 * boundaries (90 % of a tier exactly, the 1 h window edge, the 72 h edge, 24 h structuring,
 * 180 days dormant, local night); login features; blocks and step-ups expire at until_ms;
 * evictions are counted under a tiny budget and never evict a block in force; reasons are the
 * heaviest first and capped; options from data/limits.yaml; four threads at once.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ledger/limits.h"
#include "monitor/risk.h"

/* 2026-03-02T02:00:00Z = 10:00 at +08:00 (daytime, like the golden cases). */
#define T0 1772416800000LL
#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define TZ 480
#define SESSION_MAX 100000
#define OTP_MAX 500000

#define HAS(res, x) (((res).features & (1u << FG_RISK_F_##x)) != 0)

static struct fg_risk *risk_new_budget(size_t budget)
{
    struct fg_risk_options o = {.memory_budget = budget, .tz_offset_minutes = TZ, .ncurrencies = 1};
    memcpy(o.currencies[0].code, "CNY", 4);
    o.currencies[0].session_max = SESSION_MAX;
    o.currencies[0].otp_max = OTP_MAX;
    o.currencies[0].hour_sum_max = OTP_MAX;
    struct fg_risk *r = NULL;
    assert_int_equal(fg_risk_new(&o, &r), FG_OK);
    assert_non_null(r);
    return r;
}

static struct fg_risk *risk_new(void)
{
    return risk_new_budget(0);
}

static struct fg_mev mev(const char *name, int64_t t)
{
    struct fg_mev e;
    memset(&e, 0, sizeof e);
    for (int i = 0; i < FG_MEV_F_NSTR; i++)
        e.s[i] = "";
    e.s[FG_MEV_F_NAME] = name;
    e.time_ms = t;
    return e;
}

static void committed(struct fg_risk *r, const char *account, const char *customer, int64_t amount,
                      int64_t t)
{
    struct fg_mev e = mev("transfer.committed", t);
    e.s[FG_MEV_F_ACCOUNT] = account;
    e.s[FG_MEV_F_CUSTOMER] = customer;
    e.s[FG_MEV_F_PAYEE] = "acc-payee";
    e.s[FG_MEV_F_CURRENCY] = "CNY";
    e.amount = amount;
    e.has_amount = 1;
    fg_risk_observe(r, &e);
}

static void subject_event(struct fg_risk *r, const char *name, enum fg_mev_field f, const char *id,
                          int64_t t)
{
    struct fg_mev e = mev(name, t);
    e.s[f] = id;
    fg_risk_observe(r, &e);
}

static void login_failed(struct fg_risk *r, const char *ip, const char *user, int64_t t)
{
    struct fg_mev e = mev("login.failed", t);
    e.s[FG_MEV_F_IP] = ip;
    e.s[FG_MEV_F_USER] = user;
    e.s[FG_MEV_F_RESULT] = "bad";
    fg_risk_observe(r, &e);
}

/* A plain daytime transfer of acc-1 (customer c-1, user u-1). */
static struct fg_risk_transfer xfer(int64_t amount, int64_t now)
{
    struct fg_risk_transfer q = {.customer = "c-1",
                                 .account = "acc-1",
                                 .payee = "acc-9",
                                 .user = "u-1",
                                 .ip = "198.51.100.7",
                                 .device = "d-1",
                                 .currency = "CNY",
                                 .amount = amount,
                                 .now_ms = now};
    return q;
}

static struct fg_risk_result assess(struct fg_risk *r, const struct fg_risk_transfer *q)
{
    struct fg_risk_result res;
    memset(&res, 0xa5, sizeof res); /* everything must be written */
    fg_risk_assess_transfer(r, q, &res);
    assert_true(res.score >= 0 && res.score <= 100);
    assert_true(res.nreasons <= FG_RISK_REASONS_MAX);
    return res;
}

static int has_reason(const struct fg_risk_result *res, const char *name)
{
    for (unsigned i = 0; i < res->nreasons; i++)
        if (strcmp(res->reasons[i], name) == 0)
            return 1;
    return 0;
}

/* ---- options -------------------------------------------------------------------------------- */

static void test_options_checked(void **state)
{
    (void)state;
    struct fg_risk *r = (struct fg_risk *)1;
    struct fg_risk_options o = {.memory_budget = FG_RISK_MEMORY_MIN - 1};
    assert_int_equal(fg_risk_new(&o, &r), FG_ERR_INVALID);
    assert_null(r);
    o.memory_budget = 0;
    o.tz_offset_minutes = FG_RISK_TZ_MINUTES_MAX + 1;
    assert_int_equal(fg_risk_new(&o, &r), FG_ERR_INVALID);
    o.tz_offset_minutes = 0;
    o.ncurrencies = 1;
    memcpy(o.currencies[0].code, "cny", 4);
    assert_int_equal(fg_risk_new(&o, &r), FG_ERR_INVALID);
    memcpy(o.currencies[0].code, "CNY", 4);
    o.currencies[0].session_max = -1;
    assert_int_equal(fg_risk_new(&o, &r), FG_ERR_INVALID);
    o.currencies[0].session_max = 1;
    assert_int_equal(fg_risk_new(&o, &r), FG_OK);
    fg_risk_free(r);
    fg_risk_free(NULL);
}

static void test_options_from_limits(void **state)
{
    (void)state;
    struct fg_limits *L = NULL;
    assert_int_equal(fg_limits_load_default(&L), FG_OK);
    struct fg_risk_options o = {0};
    assert_int_equal(fg_risk_options_from_limits(L, &o), FG_OK);
    assert_int_equal(o.ncurrencies, fg_limits_currency_count(L));
    struct fg_limits_currency cny;
    assert_int_equal(fg_limits_currency_get(L, "CNY", &cny), FG_OK);
    int found = 0;
    for (unsigned i = 0; i < o.ncurrencies; i++)
        if (strcmp(o.currencies[i].code, "CNY") == 0) {
            found = 1;
            assert_int_equal(o.currencies[i].session_max, cny.session_max);
            assert_int_equal(o.currencies[i].otp_max, cny.otp_max);
            assert_int_equal(o.currencies[i].hour_sum_max, cny.otp_max);
        }
    assert_true(found);
    struct fg_risk *r = NULL;
    assert_int_equal(fg_risk_new(&o, &r), FG_OK);
    fg_risk_free(r);
    fg_limits_free(L);
}

static void test_names_and_weights(void **state)
{
    (void)state;
    assert_string_equal(fg_risk_decision_name(FG_RISK_ALLOW), "allow");
    assert_string_equal(fg_risk_decision_name(FG_RISK_STEP_UP), "step_up");
    assert_string_equal(fg_risk_decision_name(FG_RISK_DENY), "deny");
    assert_string_equal(fg_risk_feature_name(FG_RISK_F_NEW_PAYEE), "new_payee");
    assert_string_equal(fg_risk_feature_name(FG_RISK_F_VELOCITY_COUNT), "velocity_count");
    /* docs/risk.md's table; the enum is heaviest first (reasons come out in that order) */
    assert_int_equal(fg_risk_feature_weight(FG_RISK_F_IP_BLOCKED), 100);
    assert_int_equal(fg_risk_feature_weight(FG_RISK_F_STEP_UP_REQUIRED), 40);
    assert_int_equal(fg_risk_feature_weight(FG_RISK_F_ATO_PATTERN), 30);
    assert_int_equal(fg_risk_feature_weight(FG_RISK_F_NEW_PAYEE), 20);
    assert_int_equal(fg_risk_feature_weight(FG_RISK_F_NEW_DEVICE), 15);
    assert_int_equal(fg_risk_feature_weight(FG_RISK_F_NIGHT), 10);
    for (int f = 1; f < FG_RISK_F_COUNT_; f++)
        assert_true(fg_risk_feature_weight(f - 1) >= fg_risk_feature_weight(f));
}

/* ---- transfer features, one at a time -------------------------------------------------------- */

static void test_quiet_transfer_allows(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    for (int i = 0; i < 5; i++)
        committed(r, "acc-1", "c-1", 1000, T0 - 10 * DAY + i * DAY);
    struct fg_risk_transfer q = xfer(1000, T0);
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    assert_int_equal(res.score, 0);
    assert_int_equal(res.nreasons, 0);
    assert_int_equal(res.features, 0);
    fg_risk_free(r);
}

static void test_amount_vs_history(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    for (int i = 0; i < 4; i++)
        committed(r, "acc-1", "c-1", 1000, T0 - 10 * DAY + i * DAY);
    struct fg_risk_transfer q = xfer(50000, T0);
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.features, 0); /* 4 transfers are not a history yet */

    committed(r, "acc-1", "c-1", 1000, T0 - 5 * DAY); /* mean 1000, max 1000 */
    q.amount = 5001;
    res = assess(r, &q);
    assert_true(HAS(res, AMOUNT_VS_MEAN));
    assert_true(HAS(res, AMOUNT_ABOVE_MAX));
    assert_int_equal(res.score, 35);
    assert_string_equal(res.reasons[0], "amount_vs_mean");
    assert_string_equal(res.reasons[1], "amount_above_max");
    q.amount = 5000; /* exactly 5 × the mean is not more than it */
    res = assess(r, &q);
    assert_false(HAS(res, AMOUNT_VS_MEAN));
    assert_true(HAS(res, AMOUNT_ABOVE_MAX));
    assert_int_equal(res.score, 10);
    q.amount = 1000; /* equal to the max is not above it */
    res = assess(r, &q);
    assert_int_equal(res.features, 0);

    /* seeded history counts the same (restart) */
    fg_risk_seed_account(r, "acc-2", T0 - 20 * DAY, 10, 10 * 2000, 3000);
    q.account = "acc-2";
    q.amount = 3001;
    res = assess(r, &q);
    assert_int_equal(res.features, 1u << FG_RISK_F_AMOUNT_ABOVE_MAX);
    fg_risk_free(r);
}

static void test_new_payee_and_device(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    struct fg_risk_transfer q = xfer(1000, T0);
    q.new_payee = 1;
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.features, 1u << FG_RISK_F_NEW_PAYEE);
    assert_int_equal(res.score, 20);
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    assert_int_equal(res.nreasons, 1);
    assert_string_equal(res.reasons[0], "new_payee");
    q.new_payee = 0;
    q.new_device = 1;
    res = assess(r, &q);
    assert_int_equal(res.features, 1u << FG_RISK_F_NEW_DEVICE);
    assert_int_equal(res.score, 15);
    q.new_payee = 1; /* both: 35, still allowed (the ledger's tier asks for a code anyway) */
    res = assess(r, &q);
    assert_int_equal(res.score, 35);
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    fg_risk_free(r);
}

static void test_velocity_count_hour_edge(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    /* one exactly an hour before now (out), three inside */
    committed(r, "acc-1", "c-1", 100, T0 - HOUR);
    for (int i = 1; i <= 3; i++)
        committed(r, "acc-1", "c-1", 100, T0 - i * 60000);
    struct fg_risk_transfer q = xfer(100, T0);
    struct fg_risk_result res = assess(r, &q);
    assert_false(HAS(res, VELOCITY_COUNT)); /* 3 + this one = 4 */
    q.now_ms = T0 - 1;                      /* the oldest is now 1 ms inside the hour */
    res = assess(r, &q);
    assert_true(HAS(res, VELOCITY_COUNT)); /* 4 + this one = 5 */
    assert_int_equal(res.features, 1u << FG_RISK_F_VELOCITY_COUNT);
    assert_int_equal(res.score, 20);
    committed(r, "acc-1", "c-1", 100, T0 - 30000);
    q.now_ms = T0;
    res = assess(r, &q);
    assert_true(HAS(res, VELOCITY_COUNT));
    /* another account is not affected */
    q.account = "acc-other";
    res = assess(r, &q);
    assert_false(HAS(res, VELOCITY_COUNT));
    fg_risk_free(r);
}

static void test_velocity_sum(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    committed(r, "acc-1", "c-1", 200000, T0 - 50 * 60000);
    committed(r, "acc-1", "c-1", 200000, T0 - 10 * 60000);
    struct fg_risk_transfer q = xfer(99999, T0); /* 499 999 < hour_sum_max */
    struct fg_risk_result res = assess(r, &q);
    assert_false(HAS(res, VELOCITY_SUM));
    q.amount = 100000; /* reaches 500 000 */
    res = assess(r, &q);
    assert_true(HAS(res, VELOCITY_SUM));
    assert_false(HAS(res, VELOCITY_COUNT));
    q.currency = "USD"; /* no boundaries configured: the feature does not apply */
    res = assess(r, &q);
    assert_false(HAS(res, VELOCITY_SUM));
    q.currency = "CNY";
    q.now_ms = T0 + 50 * 60000; /* the first left the hour */
    res = assess(r, &q);
    assert_false(HAS(res, VELOCITY_SUM));
    fg_risk_free(r);
}

static void test_structuring(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    /* 90 % of session_max exactly is near; one earlier near one within 24 h is needed */
    struct fg_risk_transfer q = xfer(90000, T0);
    struct fg_risk_result res = assess(r, &q);
    assert_false(HAS(res, STRUCTURING));           /* alone */
    committed(r, "acc-1", "c-1", 95000, T0 - DAY); /* exactly 24 h old: out */
    res = assess(r, &q);
    assert_false(HAS(res, STRUCTURING));
    committed(r, "acc-1", "c-1", 99999, T0 - DAY + 1); /* inside */
    res = assess(r, &q);
    assert_true(HAS(res, STRUCTURING));
    assert_int_equal(res.features, 1u << FG_RISK_F_STRUCTURING);
    q.amount = 89999; /* under 90 % */
    res = assess(r, &q);
    assert_false(HAS(res, STRUCTURING));
    q.amount = SESSION_MAX; /* at the boundary is not under it */
    res = assess(r, &q);
    assert_false(HAS(res, STRUCTURING));
    q.amount = 450000; /* 90 % of otp_max */
    res = assess(r, &q);
    assert_true(HAS(res, STRUCTURING));

    /* per customer: near-boundary transfers from another account of the same customer */
    committed(r, "acc-7", "c-7", 92000, T0 - HOUR);
    struct fg_risk_transfer q2 = xfer(91000, T0);
    q2.customer = "c-7";
    q2.account = "acc-8";
    res = assess(r, &q2);
    assert_true(HAS(res, STRUCTURING));
    q2.customer = "c-other";
    res = assess(r, &q2);
    assert_false(HAS(res, STRUCTURING));
    fg_risk_free(r);
}

static void test_recent_changes_72h_edge(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    subject_event(r, "customer.phone_changed", FG_MEV_F_CUSTOMER, "c-1", T0 - 72 * HOUR);
    struct fg_risk_transfer q = xfer(1000, T0);
    struct fg_risk_result res = assess(r, &q);
    assert_false(HAS(res, RECENT_PHONE_CHANGE)); /* exactly 72 h: out */
    q.now_ms = T0 - 1;
    res = assess(r, &q);
    assert_int_equal(res.features, 1u << FG_RISK_F_RECENT_PHONE_CHANGE);
    assert_int_equal(res.score, 30);

    q.now_ms = T0;
    subject_event(r, "customer.reset", FG_MEV_F_CUSTOMER, "c-2", T0 - HOUR);
    q.customer = "c-2";
    res = assess(r, &q);
    assert_int_equal(res.features, 1u << FG_RISK_F_RECENT_CREDENTIAL_CHANGE);

    q.customer = "c-3";
    subject_event(r, "password.changed", FG_MEV_F_USER, "u-3", T0 - HOUR);
    q.user = "u-3";
    res = assess(r, &q);
    assert_int_equal(res.features, 1u << FG_RISK_F_RECENT_CREDENTIAL_CHANGE);
    q.user = "u-4";
    res = assess(r, &q);
    assert_int_equal(res.features, 0);
    fg_risk_free(r);
}

/* Acceptance (issue #6): phone change approved, then a large transfer from a new device to a
 * new payee → refused or stepped up. */
static void test_account_takeover(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    for (int i = 0; i < 6; i++)
        committed(r, "acc-1", "c-1", 20000, T0 - 30 * DAY + i * DAY);
    subject_event(r, "customer.phone_changed", FG_MEV_F_CUSTOMER, "c-1", T0 - 2 * HOUR);
    struct fg_risk_transfer q = xfer(480000, T0);
    q.new_device = 1;
    q.new_payee = 1;
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_DENY);
    assert_true(res.score >= FG_RISK_DENY_AT);
    assert_true(has_reason(&res, "ato_pattern"));
    assert_true(has_reason(&res, "recent_phone_change"));
    assert_true(has_reason(&res, "new_device"));
    assert_true(has_reason(&res, "new_payee"));

    /* even a small one to a new payee from a new device is refused right after the change */
    q.amount = 100;
    res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_DENY);
    assert_int_equal(res.score, 95); /* 30 + 30 + 20 + 15 */
    /* the change alone with a new device: stepped up */
    q.new_payee = 0;
    res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_STEP_UP);
    assert_false(HAS(res, ATO_PATTERN));
    /* after 72 h the same transfer is ordinary */
    q.new_payee = 1;
    q.now_ms = T0 + 71 * HOUR;
    res = assess(r, &q);
    assert_false(HAS(res, ATO_PATTERN));
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    fg_risk_free(r);
}

static void test_night_local_time(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    struct fg_risk_transfer q = xfer(1000, T0 + 16 * HOUR); /* 18:00Z = 02:00 local */
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.features, 1u << FG_RISK_F_NIGHT);
    assert_int_equal(res.score, 10);
    q.now_ms = T0 + 14 * HOUR; /* 16:00Z = 00:00 local */
    res = assess(r, &q);
    assert_true(HAS(res, NIGHT));
    q.now_ms = T0 + 14 * HOUR - 1; /* 23:59:59.999 local */
    res = assess(r, &q);
    assert_false(HAS(res, NIGHT));
    q.now_ms = T0 + 20 * HOUR - 1; /* 05:59:59.999 local */
    res = assess(r, &q);
    assert_true(HAS(res, NIGHT));
    q.now_ms = T0 + 20 * HOUR; /* 06:00 local */
    res = assess(r, &q);
    assert_false(HAS(res, NIGHT));
    fg_risk_free(r);

    /* west of UTC, where the local day starts before the epoch: 1970-01-01T00:00Z = 16:00 */
    struct fg_risk_options o = {.tz_offset_minutes = -480};
    assert_int_equal(fg_risk_new(&o, &r), FG_OK);
    q.now_ms = 0;
    res = assess(r, &q);
    assert_false(HAS(res, NIGHT));
    q.now_ms = 9 * HOUR; /* 01:00 local */
    res = assess(r, &q);
    assert_true(HAS(res, NIGHT));
    fg_risk_free(r);
}

static void test_dormant(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    committed(r, "acc-1", "c-1", 1000, T0);
    struct fg_risk_transfer q = xfer(1000, T0 + FG_RISK_DORMANT_MS - 1);
    struct fg_risk_result res = assess(r, &q);
    assert_false(HAS(res, DORMANT));
    q.now_ms = T0 + FG_RISK_DORMANT_MS;
    res = assess(r, &q);
    assert_true(HAS(res, DORMANT));
    assert_int_equal(res.score, 25);
    /* it wakes: the next transfers in the following 24 h are still flagged */
    int64_t woke = T0 + FG_RISK_DORMANT_MS + 1000;
    committed(r, "acc-1", "c-1", 1000, woke);
    q.now_ms = woke + HOUR;
    res = assess(r, &q);
    assert_true(HAS(res, DORMANT));
    q.now_ms = woke + FG_RISK_WOKE_MS;
    res = assess(r, &q);
    assert_false(HAS(res, DORMANT));
    /* an account never seen is not dormant */
    q.account = "acc-new";
    res = assess(r, &q);
    assert_false(HAS(res, DORMANT));
    /* a withdrawal is activity too */
    struct fg_mev w = mev("withdrawal.committed", T0);
    w.s[FG_MEV_F_ACCOUNT] = "acc-w";
    w.amount = 10;
    w.has_amount = 1;
    fg_risk_observe(r, &w);
    q.account = "acc-w";
    q.now_ms = T0 + FG_RISK_DORMANT_MS;
    res = assess(r, &q);
    assert_true(HAS(res, DORMANT));
    fg_risk_free(r);
}

static void test_step_up_expires(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    int64_t until = T0 + HOUR;
    fg_risk_require_step_up(r, "c-1", until);
    assert_int_equal(fg_risk_step_up_until(r, "c-1", T0), until);
    assert_int_equal(fg_risk_step_up_until(r, "c-1", until - 1), until);
    assert_int_equal(fg_risk_step_up_until(r, "c-1", until), 0);
    assert_int_equal(fg_risk_step_up_until(r, "c-2", T0), 0);
    struct fg_risk_transfer q = xfer(1000, T0);
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_STEP_UP);
    assert_string_equal(res.reasons[0], "step_up_required");
    q.now_ms = until;
    res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    /* by user id too, and on login */
    fg_risk_require_step_up(r, "u-1", until);
    q.now_ms = T0;
    q.customer = "c-9";
    res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_STEP_UP);
    struct fg_risk_login l = {.ip = "198.51.100.7", .device = "d", .user = "u-1", .now_ms = T0};
    fg_risk_assess_login(r, &l, &res);
    assert_int_equal(res.decision, FG_RISK_STEP_UP);
    /* cleared by a past until */
    fg_risk_require_step_up(r, "u-1", 0);
    fg_risk_assess_login(r, &l, &res);
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    fg_risk_free(r);
}

/* ---- logins and blocks ---------------------------------------------------------------------- */

static void test_ip_block_expires(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    int64_t until = T0 + 900000;
    assert_int_equal(fg_risk_ip_blocked_until(r, "203.0.113.9", T0), 0);
    fg_risk_block_ip(r, "203.0.113.9", until);
    assert_int_equal(fg_risk_ip_blocked_until(r, "203.0.113.9", T0), until);
    assert_int_equal(fg_risk_ip_blocked_until(r, "203.0.113.9", until - 1), until);
    assert_int_equal(fg_risk_ip_blocked_until(r, "203.0.113.9", until), 0);
    assert_int_equal(fg_risk_ip_blocked_until(r, "203.0.113.10", T0), 0);

    struct fg_risk_login l = {.ip = "203.0.113.9", .user = "u-1", .now_ms = T0};
    struct fg_risk_result res;
    fg_risk_assess_login(r, &l, &res);
    assert_int_equal(res.decision, FG_RISK_DENY);
    assert_int_equal(res.score, 100);
    assert_string_equal(res.reasons[0], "ip_blocked");
    struct fg_risk_transfer q = xfer(1000, T0);
    q.ip = "203.0.113.9";
    res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_DENY);
    l.now_ms = until;
    fg_risk_assess_login(r, &l, &res);
    assert_int_equal(res.decision, FG_RISK_ALLOW);

    fg_risk_block_ip(r, "203.0.113.9", until);
    fg_risk_unblock_ip(r, "203.0.113.9");
    assert_int_equal(fg_risk_ip_blocked_until(r, "203.0.113.9", T0), 0);
    fg_risk_unblock_ip(r, "192.0.2.1"); /* unknown: nothing */
    fg_risk_unblock_ip(r, NULL);
    assert_int_equal(fg_risk_ip_blocked_until(r, NULL, T0), 0);
    assert_int_equal(fg_risk_ip_blocked_until(r, "", T0), 0);
    fg_risk_free(r);
}

static void test_login_failures(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    struct fg_risk_login l = {.ip = "203.0.113.9", .user = "u-x", .now_ms = T0};
    for (int i = 0; i < 4; i++)
        login_failed(r, "203.0.113.9", "", T0 - FG_RISK_FAIL_WINDOW_MS + 1 + i);
    struct fg_risk_result res;
    fg_risk_assess_login(r, &l, &res);
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    login_failed(r, "203.0.113.9", "", T0 - 1);
    fg_risk_assess_login(r, &l, &res);
    assert_int_equal(res.decision, FG_RISK_STEP_UP);
    assert_int_equal(res.features, 1u << FG_RISK_F_IP_FAILURES);
    l.now_ms = T0 + 1; /* the oldest left the window */
    fg_risk_assess_login(r, &l, &res);
    assert_int_equal(res.decision, FG_RISK_ALLOW);

    /* per user, from many IPs; MFA failures count */
    char ip[32];
    for (int i = 0; i < 5; i++) {
        snprintf(ip, sizeof ip, "192.0.2.%d", i + 1);
        if (i == 4) {
            struct fg_mev e = mev("mfa.failed", T0);
            e.s[FG_MEV_F_IP] = ip;
            e.s[FG_MEV_F_USER] = "u-7";
            fg_risk_observe(r, &e);
        } else {
            login_failed(r, ip, "u-7", T0);
        }
    }
    struct fg_risk_login l2 = {.ip = "198.51.100.1", .user = "u-7", .now_ms = T0 + 1000};
    fg_risk_assess_login(r, &l2, &res);
    assert_int_equal(res.decision, FG_RISK_STEP_UP);
    assert_int_equal(res.features, 1u << FG_RISK_F_USER_FAILURES);

    /* new device alone: scored, allowed */
    struct fg_risk_login l3 = {.ip = "198.51.100.1", .user = "u-8", .now_ms = T0, .new_device = 1};
    fg_risk_assess_login(r, &l3, &res);
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    assert_int_equal(res.score, 15);
    assert_string_equal(res.reasons[0], "new_device");
    fg_risk_free(r);
}

/* ---- reasons, stats, memory ----------------------------------------------------------------- */

static void test_reasons_heaviest_first_and_capped(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    for (int i = 0; i < 5; i++)
        committed(r, "acc-1", "c-1", 1000, T0 - 300 * DAY + i);
    for (int i = 0; i < 4; i++)
        committed(r, "acc-1", "c-1", 95000, T0 + 16 * HOUR - 1000 * (i + 1)); /* wakes it */
    subject_event(r, "customer.phone_changed", FG_MEV_F_CUSTOMER, "c-1", T0);
    fg_risk_require_step_up(r, "c-1", T0 + DAY);
    struct fg_risk_transfer q = xfer(95000, T0 + 16 * HOUR); /* night */
    q.new_device = q.new_payee = 1;
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_DENY);
    assert_int_equal(res.score, 100);
    unsigned bits = (unsigned)__builtin_popcount(res.features);
    assert_true(bits > FG_RISK_REASONS_MAX);
    assert_int_equal(res.nreasons, FG_RISK_REASONS_MAX);
    assert_string_equal(res.reasons[0], "step_up_required");
    int prev = 1000;
    for (unsigned i = 0; i < res.nreasons; i++) {
        int w = -1;
        for (int f = 0; f < FG_RISK_F_COUNT_; f++)
            if (strcmp(fg_risk_feature_name(f), res.reasons[i]) == 0)
                w = fg_risk_feature_weight(f);
        assert_true(w > 0 && w <= prev);
        prev = w;
    }
    fg_risk_free(r);
}

static void test_stats_by_decision(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    fg_risk_block_ip(r, "203.0.113.9", T0 + HOUR);
    struct fg_risk_login l = {.ip = "203.0.113.9", .now_ms = T0};
    struct fg_risk_result res;
    fg_risk_assess_login(r, &l, &res);
    l.ip = "203.0.113.8";
    fg_risk_assess_login(r, &l, &res);
    fg_risk_assess_login(r, &l, &res);
    struct fg_risk_transfer q = xfer(1000, T0);
    res = assess(r, &q);
    committed(r, "acc-1", "c-1", 1, T0);
    struct fg_mev ignored = mev("statement.read", T0);
    fg_risk_observe(r, &ignored);
    struct fg_risk_stats st;
    fg_risk_get_stats(r, &st);
    assert_int_equal(st.logins[FG_RISK_DENY], 1);
    assert_int_equal(st.logins[FG_RISK_ALLOW], 2);
    assert_int_equal(st.transfers[FG_RISK_ALLOW], 1);
    assert_int_equal(st.transfers[FG_RISK_DENY], 0);
    assert_int_equal(st.observed, 1);
    assert_int_equal(st.keys, 2);
    assert_int_equal(st.ips, 1);
    assert_int_equal(st.accounts, 1);
    assert_int_equal(st.budget, FG_RISK_MEMORY_DEFAULT);
    assert_true(st.bytes > 0 && st.bytes <= st.budget);
    assert_int_equal(st.evictions, 0);
    fg_risk_free(r);
}

static void test_eviction_counted_blocks_kept(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new_budget(FG_RISK_MEMORY_MIN);
    fg_risk_block_ip(r, "203.0.113.9", T0 + DAY);
    fg_risk_require_step_up(r, "c-keep", T0 + DAY);
    char id[32];
    const int n = 5000;
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "acc-%d", i);
        committed(r, id, "", 100, T0 + i);
        snprintf(id, sizeof id, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        login_failed(r, id, "", T0 + i);
    }
    struct fg_risk_stats st;
    fg_risk_get_stats(r, &st);
    assert_true(st.evictions > 0);
    assert_true(st.bytes <= st.budget);
    assert_true(st.keys < (size_t)(2 * n));
    /* every entry made is still there, evicted, or was counted as dropped: none vanished */
    assert_int_equal(st.keys - 2 + st.evictions + st.dropped, (size_t)(2 * n));
    /* the block and the step-up in force survived the flood */
    assert_int_equal(fg_risk_ip_blocked_until(r, "203.0.113.9", T0 + n), T0 + DAY);
    assert_int_equal(fg_risk_step_up_until(r, "c-keep", T0 + n), T0 + DAY);
    /* what was just fed is known: a history of five, then a larger amount */
    for (int i = 0; i < 5; i++)
        committed(r, "acc-last", "", 100, T0 + n + i);
    struct fg_risk_transfer q = xfer(101, T0 + n + 10 * DAY);
    q.customer = "";
    q.account = "acc-last";
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.features, 1u << FG_RISK_F_AMOUNT_ABOVE_MAX);
    fg_risk_free(r);
}

static void test_ignored_inputs(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new();
    char longid[FG_RISK_KEY_MAX + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    committed(r, longid, "", 100, T0);
    committed(r, "", "", 100, T0);
    struct fg_mev e = mev("transfer.committed", T0); /* no amount: activity only */
    e.s[FG_MEV_F_ACCOUNT] = "acc-na";
    fg_risk_observe(r, &e);
    struct fg_risk_stats st;
    fg_risk_get_stats(r, &st);
    assert_int_equal(st.keys, 1);
    struct fg_risk_transfer q = {.amount = -5, .now_ms = T0}; /* all strings NULL */
    struct fg_risk_result res = assess(r, &q);
    assert_int_equal(res.decision, FG_RISK_ALLOW);
    fg_risk_free(r);
}

/* ---- threads -------------------------------------------------------------------------------- */

#define THREAD_ITERS 20000

struct thread_arg {
    struct fg_risk *r;
    int id;
    unsigned bad;
};

static void *worker(void *p)
{
    struct thread_arg *a = p;
    char acc[32], ip[32];
    for (int i = 0; i < THREAD_ITERS; i++) {
        int k = (i * 7 + a->id) % 3000;
        snprintf(acc, sizeof acc, "acc-%d", k);
        snprintf(ip, sizeof ip, "10.0.%d.%d", k >> 8, k & 255);
        int64_t t = T0 + i;
        if (a->id == 0) {
            committed(a->r, acc, "c-1", 100 + k, t);
            login_failed(a->r, ip, "u-1", t);
            if (i % 100 == 0)
                subject_event(a->r, "customer.phone_changed", FG_MEV_F_CUSTOMER, "c-1", t);
        } else if (a->id == 3) {
            if (i % 2)
                fg_risk_block_ip(a->r, "203.0.113.9", t + 1000000);
            else
                fg_risk_unblock_ip(a->r, ip);
            fg_risk_require_step_up(a->r, acc, t + 1000);
            int64_t u = fg_risk_ip_blocked_until(a->r, "203.0.113.9", t);
            if (i % 2 && u != t + 1000000)
                a->bad++;
        } else {
            struct fg_risk_transfer q = xfer(100000, t);
            q.account = acc;
            q.ip = ip;
            struct fg_risk_result res;
            fg_risk_assess_transfer(a->r, &q, &res);
            struct fg_risk_login l = {.ip = ip, .user = "u-1", .now_ms = t};
            struct fg_risk_result lr;
            fg_risk_assess_login(a->r, &l, &lr);
            if (res.score < 0 || res.score > 100 || res.decision > FG_RISK_DENY ||
                res.nreasons > FG_RISK_REASONS_MAX || lr.score < 0 || lr.score > 100)
                a->bad++;
            for (unsigned j = 0; j < res.nreasons; j++)
                if (res.reasons[j] == NULL)
                    a->bad++;
        }
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    struct fg_risk *r = risk_new_budget(256u << 10); /* small: evictions happen too */
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){.r = r, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].bad, 0);
    }
    struct fg_risk_stats st;
    fg_risk_get_stats(r, &st);
    uint64_t transfers = 0, logins = 0;
    for (int d = 0; d < FG_RISK_DECISIONS; d++) {
        transfers += st.transfers[d];
        logins += st.logins[d];
    }
    assert_int_equal(transfers, 2 * THREAD_ITERS);
    assert_int_equal(logins, 2 * THREAD_ITERS);
    assert_true(st.keys > 0);
    assert_true(st.evictions > 0);
    fg_risk_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_checked),
        cmocka_unit_test(test_options_from_limits),
        cmocka_unit_test(test_names_and_weights),
        cmocka_unit_test(test_quiet_transfer_allows),
        cmocka_unit_test(test_amount_vs_history),
        cmocka_unit_test(test_new_payee_and_device),
        cmocka_unit_test(test_velocity_count_hour_edge),
        cmocka_unit_test(test_velocity_sum),
        cmocka_unit_test(test_structuring),
        cmocka_unit_test(test_recent_changes_72h_edge),
        cmocka_unit_test(test_account_takeover),
        cmocka_unit_test(test_night_local_time),
        cmocka_unit_test(test_dormant),
        cmocka_unit_test(test_step_up_expires),
        cmocka_unit_test(test_ip_block_expires),
        cmocka_unit_test(test_login_failures),
        cmocka_unit_test(test_reasons_heaviest_first_and_capped),
        cmocka_unit_test(test_stats_by_decision),
        cmocka_unit_test(test_eviction_counted_blocks_kept),
        cmocka_unit_test(test_ignored_inputs),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
