/*
 * test_limits.c — ledger/limits.c: a golden test of the shipped data/limits.yaml (every
 * number, TXN-3 / PBOC [2015] No. 43 Art. 24 for CNY); the tier rule table-driven at every
 * boundary (≤ and +1); a new device never gets SESSION (AUTH-10); the new-payee and
 * new-device caps; per-transfer and per-day refusals; overflow safety with INT64_MAX
 * inputs; the bank's day start at UTC+8; and loader refusals with their line numbers.
 */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/limits.h"

/* ---- golden --------------------------------------------------------------------------------- */

static const struct fg_limits_currency golden[] = {
    {"CNY", 100000, 500000, 5000000, 10000000, 100000, 100000},
    {"USD", 15000, 75000, 750000, 1500000, 15000, 15000},
    {"EUR", 13000, 65000, 650000, 1300000, 13000, 13000},
    {"HKD", 120000, 600000, 6000000, 12000000, 120000, 120000},
    {"GBP", 11000, 55000, 550000, 1100000, 11000, 11000},
    {"JPY", 20000, 100000, 1000000, 2000000, 20000, 20000},
};
#define NGOLDEN (sizeof golden / sizeof golden[0])

static void test_golden(void **state)
{
    (void)state;
    struct fg_limits *L = NULL;
    assert_int_equal(fg_limits_load_default(&L), FG_OK);
    assert_int_equal(fg_limits_currency_count(L), NGOLDEN);
    for (size_t i = 0; i < NGOLDEN; i++) {
        const struct fg_limits_currency *g = &golden[i];
        assert_string_equal(fg_limits_currency_at(L, i), g->code);
        struct fg_limits_currency c;
        assert_int_equal(fg_limits_currency_get(L, g->code, &c), FG_OK);
        assert_string_equal(c.code, g->code);
        assert_int_equal(c.session_max, g->session_max);
        assert_int_equal(c.otp_max, g->otp_max);
        assert_int_equal(c.per_txn_max, g->per_txn_max);
        assert_int_equal(c.per_day_max, g->per_day_max);
        assert_int_equal(c.new_payee_txn_max, g->new_payee_txn_max);
        assert_int_equal(c.new_device_txn_max, g->new_device_txn_max);
        int64_t t = 0, d = 0;
        assert_int_equal(fg_limits_account_defaults(L, g->code, &t, &d), FG_OK);
        assert_int_equal(t, g->per_txn_max);
        assert_int_equal(d, g->per_day_max);
        assert_true(fg_limits_has_currency(L, g->code));
    }
    assert_null(fg_limits_currency_at(L, NGOLDEN));
    assert_false(fg_limits_has_currency(L, "XYZ"));
    assert_false(fg_limits_has_currency(L, "cny"));
    assert_false(fg_limits_has_currency(L, NULL));
    struct fg_limits_currency c;
    assert_int_equal(fg_limits_currency_get(L, "XYZ", &c), FG_ERR_NOT_FOUND);
    int64_t t, d;
    assert_int_equal(fg_limits_account_defaults(L, "XYZ", &t, &d), FG_ERR_NOT_FOUND);
    assert_int_equal(fg_limits_new_window_ms(L), 86400000);

    /* the bank's day starts at 00:00 UTC+8 = 16:00 UTC the day before */
    const int64_t h = 3600000, day = 24 * h;
    int64_t jan2_00utc = 1 * day; /* 1970-01-02T00:00Z */
    assert_int_equal(fg_limits_day_start_ms(L, jan2_00utc), jan2_00utc - 8 * h);
    assert_int_equal(fg_limits_day_start_ms(L, jan2_00utc + 16 * h - 1), jan2_00utc - 8 * h);
    assert_int_equal(fg_limits_day_start_ms(L, jan2_00utc + 16 * h), jan2_00utc + 16 * h);
    assert_int_equal(fg_limits_day_start_ms(L, 0), -8 * h);
    assert_int_equal(fg_limits_day_start_ms(L, -1), -8 * h);
    assert_int_equal(fg_limits_day_start_ms(L, -8 * h - 1), -32 * h); /* before 1970 */
    /* the very ends of int64 do not crash or overflow */
    (void)fg_limits_day_start_ms(L, INT64_MAX);
    (void)fg_limits_day_start_ms(L, INT64_MIN);
    fg_limits_free(L);
    fg_limits_free(NULL);
}

/* ---- the tier rule ------------------------------------------------------------------------ */

struct row {
    int line;
    int64_t amount, customer_today, account_today, per_txn, per_day;
    int new_payee, new_device;
    enum fg_tier tier;
    fg_rc refusal;
    const char *why_has; /* substring of why, when refused */
};

#define S FG_TIER_SESSION
#define O FG_TIER_OTP
#define A FG_TIER_APPROVAL
#define P FG_ERR_POLICY

/* CNY: session_max 100000, otp_max 500000, per_txn 5000000, per_day 10000000, new caps
 * 100000. 0 as an account limit means the currency's default. */
static const struct row rows[] = {
    /* tier boundaries, exactly and one above */
    {__LINE__, 1, 0, 0, 0, 0, 0, 0, S, FG_OK, NULL},
    {__LINE__, 100000, 0, 0, 0, 0, 0, 0, S, FG_OK, NULL},
    {__LINE__, 100001, 0, 0, 0, 0, 0, 0, O, FG_OK, NULL},
    {__LINE__, 500000, 0, 0, 0, 0, 0, 0, O, FG_OK, NULL},
    {__LINE__, 500001, 0, 0, 0, 0, 0, 0, A, FG_OK, NULL},
    /* cumulative: the day's earlier transfers count */
    {__LINE__, 1, 99999, 0, 0, 0, 0, 0, S, FG_OK, NULL},
    {__LINE__, 1, 100000, 0, 0, 0, 0, 0, O, FG_OK, NULL},
    {__LINE__, 50000, 450000, 0, 0, 0, 0, 0, O, FG_OK, NULL},
    {__LINE__, 50001, 450000, 0, 0, 0, 0, 0, A, FG_OK, NULL},
    /* AUTH-10: a new device never gets SESSION, at most its cap */
    {__LINE__, 1, 0, 0, 0, 0, 0, 1, O, FG_OK, NULL},
    {__LINE__, 100000, 0, 0, 0, 0, 0, 1, O, FG_OK, NULL},
    {__LINE__, 100001, 0, 0, 0, 0, 0, 1, O, P, "new device"},
    {__LINE__, 1, 600000, 0, 0, 0, 0, 1, A, FG_OK, NULL},
    /* new payee cap */
    {__LINE__, 100000, 0, 0, 0, 0, 1, 0, S, FG_OK, NULL},
    {__LINE__, 100001, 0, 0, 0, 0, 1, 0, O, P, "new payee"},
    /* per transfer: the account's own and the default */
    {__LINE__, 5000000, 0, 0, 0, 0, 0, 0, A, FG_OK, NULL},
    {__LINE__, 5000001, 0, 0, 0, 0, 0, 0, A, P, "per-transfer"},
    {__LINE__, 200, 0, 0, 200, 1000, 0, 0, S, FG_OK, NULL},
    {__LINE__, 201, 0, 0, 200, 1000, 0, 0, S, P, "per-transfer"},
    /* per day */
    {__LINE__, 100, 0, 900, 200, 1000, 0, 0, S, FG_OK, NULL},
    {__LINE__, 101, 0, 900, 200, 1000, 0, 0, S, P, "daily"},
    {__LINE__, 1, 0, 10000000, 0, 0, 0, 0, S, P, "daily"},
    {__LINE__, 1, 0, 9999999, 0, 0, 0, 0, S, FG_OK, NULL},
    /* overflow-safe: INT64_MAX day totals are above every limit, never wrap to small */
    {__LINE__, 1, INT64_MAX, 0, 0, 0, 0, 0, A, FG_OK, NULL},
    {__LINE__, INT64_MAX, 0, 0, INT64_MAX, INT64_MAX, 0, 0, A, FG_OK, NULL},
    {__LINE__, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, 0, 0, A, P, "daily"},
    {__LINE__, 2, INT64_MAX - 1, INT64_MAX - 1, INT64_MAX, INT64_MAX, 0, 0, A, P, "daily"},
    {__LINE__, INT64_MAX, 0, 0, 0, 0, 1, 1, A, P, "per-transfer"},
};

static void test_decide_table(void **state)
{
    (void)state;
    struct fg_limits *L = NULL;
    assert_int_equal(fg_limits_load_default(&L), FG_OK);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        struct fg_limits_input in = {"CNY",      r->amount,  r->customer_today, r->account_today,
                                     r->per_txn, r->per_day, r->new_payee,      r->new_device};
        struct fg_limits_decision d;
        fg_rc rc = fg_limits_decide(L, &in, &d);
        if (rc != FG_OK || d.tier != r->tier || d.refusal != r->refusal ||
            (r->why_has != NULL && (d.why == NULL || strstr(d.why, r->why_has) == NULL)) ||
            (r->refusal == FG_OK && (d.why != NULL || d.field != NULL)))
            fail_msg("row at line %d: rc %d tier %d refusal %d why %s", r->line, rc, d.tier,
                     d.refusal, d.why != NULL ? d.why : "(null)");
        if (r->refusal != FG_OK)
            assert_string_equal(d.field, "amount");
    }
    /* malformed input */
    struct fg_limits_decision d;
    struct fg_limits_input in = {"CNY", 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(fg_limits_decide(L, &in, &d), FG_ERR_INVALID);
    assert_int_equal(d.refusal, FG_ERR_INVALID);
    in.amount = -1;
    assert_int_equal(fg_limits_decide(L, &in, &d), FG_ERR_INVALID);
    in.amount = INT64_MIN;
    assert_int_equal(fg_limits_decide(L, &in, &d), FG_ERR_INVALID);
    in.amount = 1;
    in.customer_today = -1;
    assert_int_equal(fg_limits_decide(L, &in, &d), FG_ERR_INVALID);
    in.customer_today = 0;
    in.account_per_day = -1;
    assert_int_equal(fg_limits_decide(L, &in, &d), FG_ERR_INVALID);
    in.account_per_day = 0;
    in.currency = "XYZ";
    assert_int_equal(fg_limits_decide(L, &in, &d), FG_ERR_INVALID);
    assert_string_equal(d.field, "currency");
    in.currency = NULL;
    assert_int_equal(fg_limits_decide(L, &in, &d), FG_ERR_INVALID);
    /* another currency's numbers: USD session_max 15000 */
    struct fg_limits_input usd = {"USD", 15000, 0, 0, 0, 0, 0, 0};
    assert_int_equal(fg_limits_decide(L, &usd, &d), FG_OK);
    assert_int_equal(d.tier, FG_TIER_SESSION);
    usd.amount = 15001;
    assert_int_equal(fg_limits_decide(L, &usd, &d), FG_OK);
    assert_int_equal(d.tier, FG_TIER_OTP);
    fg_limits_free(L);
}

/* ---- the loader --------------------------------------------------------------------------- */

static const char good[] = "currencies: [CNY]\n"
                           "day_offset_s: 0\n"
                           "new_window_s: 3600\n"
                           "limits:\n"
                           "  CNY:\n"
                           "    tiers: {session_max: 10, otp_max: 20}\n"
                           "    account: {per_txn_max: 30, per_day_max: 40}\n"
                           "    new_payee_txn_max: 5\n"
                           "    new_device_txn_max: 6\n";

static void test_load_minimal(void **state)
{
    (void)state;
    struct fg_limits *L = NULL;
    char err[FG_LIMITS_ERR_MAX];
    assert_int_equal(fg_limits_load(good, strlen(good), &L, err, sizeof err), FG_OK);
    assert_string_equal(err, "");
    assert_int_equal(fg_limits_new_window_ms(L), 3600000);
    assert_int_equal(fg_limits_day_start_ms(L, 86400000 + 5), 86400000);
    struct fg_limits_currency c;
    assert_int_equal(fg_limits_currency_get(L, "CNY", &c), FG_OK);
    assert_int_equal(c.new_device_txn_max, 6);
    fg_limits_free(L);
}

/* Replace the first occurrence of `from` in good by `to`, load, expect an error at line. */
static void refuse(const char *from, const char *to, int line, const char *has)
{
    char text[1024];
    const char *p = strstr(good, from);
    assert_non_null(p);
    int n = snprintf(text, sizeof text, "%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
    assert_true(n > 0 && (size_t)n < sizeof text);
    struct fg_limits *L = (struct fg_limits *)1;
    char err[FG_LIMITS_ERR_MAX];
    fg_rc rc = fg_limits_load(text, strlen(text), &L, err, sizeof err);
    char want[32];
    snprintf(want, sizeof want, "limits.yaml:%d: ", line);
    if (rc != FG_ERR_CONFIG || L != NULL || strncmp(err, want, strlen(want)) != 0 ||
        strstr(err, has) == NULL)
        fail_msg("replacing '%s' by '%s': rc %d, err '%s' (want line %d, '%s')", from, to, rc, err,
                 line, has);
}

static void test_load_refusals(void **state)
{
    (void)state;
    refuse("currencies: [CNY]", "currencies: [CNY, CNY]", 1, "twice");
    refuse("currencies: [CNY]", "currencies: [cny]", 1, "3 upper-case");
    refuse("currencies: [CNY]", "currencies: []", 1, "empty");
    refuse("currencies: [CNY]", "currencies: [CNY, USD]", 1, "USD has no limits");
    refuse("currencies: [CNY]", "currencies: CNY", 1, "a list");
    refuse("day_offset_s: 0", "day_offset_s: 50401", 2, "between");
    refuse("day_offset_s: 0", "day_offset_s: \"0\"", 2, "plain decimal");
    refuse("day_offset_s: 0", "day_offset_s: 0x10", 2, "plain decimal");
    refuse("day_offset_s: 0", "day_offset_s: 1e3", 2, "plain decimal");
    refuse("day_offset_s: 0", "day_offset_s: 007", 2, "plain decimal");
    refuse("day_offset_s: 0\n", "", 1, "lacks \"day_offset_s\"");
    refuse("new_window_s: 3600", "new_window_s: 59", 3, "between");
    refuse("new_window_s: 3600", "new_window_s: 3600\nextra: 1", 4, "unknown key");
    refuse("new_window_s: 3600", "new_window_s: 3600\nnew_window_s: 3600", 4, "duplicate");
    refuse("  CNY:", "  USD:", 5, "not in currencies");
    refuse("session_max: 10", "session_max: 0", 6, "between");
    refuse("session_max: 10", "session_max: 21", 6, "session_max must not be above");
    refuse("otp_max: 20", "otp_max: 1000000000000001", 6, "between");
    refuse("otp_max: 20", "otp_max: 99999999999999999999", 6, "plain decimal");
    refuse("otp_max: 20", "otp_max: -20", 6, "between");
    refuse("otp_max: 20}", "otp_max: 20, extra: 1}", 6, "unknown key");
    refuse("per_txn_max: 30", "per_txn_max: 41", 7, "per_txn_max must not be above");
    refuse("per_day_max: 40", "per_day_max: [40]", 7, "a scalar");
    refuse("    new_payee_txn_max: 5\n", "", 5, "lacks \"new_payee_txn_max\"");
    refuse("    new_device_txn_max: 6", "    new_device_txn_max: six", 9, "plain decimal");
    refuse("  CNY:\n", "  CNY: &a\n", 5, "anchors");
    refuse("    tiers: {", "    tiers: !!map {", 6, "tags");
    refuse("    new_device_txn_max: 6", "    new_device_txn_max: 6\n  CNY: {}", 10, "twice");
    refuse("    new_device_txn_max: 6", "    new_device_txn_max: [6", 10, "syntax");
    refuse("currencies: [CNY]", "--- 1\n---", 2, "one YAML document");

    /* the whole file: empty, not a mapping, too large, an alias, too deep */
    struct fg_limits *L = NULL;
    char err[FG_LIMITS_ERR_MAX];
    assert_int_equal(fg_limits_load("", 0, &L, err, sizeof err), FG_ERR_CONFIG);
    assert_null(L);
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(fg_limits_load("- 1\n", 4, &L, err, sizeof err), FG_ERR_CONFIG);
    assert_string_equal(err, "limits.yaml:1: the file must be a mapping, not a list");
    char *big = malloc(FG_LIMITS_FILE_MAX + 1);
    assert_non_null(big);
    memset(big, '#', FG_LIMITS_FILE_MAX + 1);
    assert_int_equal(fg_limits_load(big, FG_LIMITS_FILE_MAX + 1, &L, err, sizeof err),
                     FG_ERR_TOO_LARGE);
    free(big);
    const char *alias = "currencies: &c [CNY]\nx: *c\n";
    assert_int_equal(fg_limits_load(alias, strlen(alias), &L, err, sizeof err), FG_ERR_CONFIG);
    const char *alias2 = "a: *c\n";
    assert_int_equal(fg_limits_load(alias2, strlen(alias2), &L, err, sizeof err), FG_ERR_CONFIG);
    const char *deep = "a: [[[[[[[[[[1]]]]]]]]]]\n";
    assert_int_equal(fg_limits_load(deep, strlen(deep), &L, err, sizeof err), FG_ERR_CONFIG);
    assert_non_null(strstr(err, "nesting"));
    /* no error buffer is fine; a tiny one is cut, never overrun */
    assert_int_equal(fg_limits_load("- 1\n", 4, &L, NULL, 0), FG_ERR_CONFIG);
    char tiny[8];
    assert_int_equal(fg_limits_load("- 1\n", 4, &L, tiny, sizeof tiny), FG_ERR_CONFIG);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test(test_load_minimal),
        cmocka_unit_test(test_load_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
