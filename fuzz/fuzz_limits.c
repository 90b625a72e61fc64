/*
 * fuzz_limits.c — the limits loader (ledger/limits.c) on arbitrary bytes.
 *
 * Invariants: loading never crashes or leaks; it succeeds exactly when it reported no
 * error, and a failure always names "limits.yaml:LINE:"; a file that loads is
 * self-consistent: 1..FG_LIMITS_CURRENCIES_MAX distinct 3-letter codes, every number in
 * 1..FG_LIMITS_AMOUNT_MAX with session_max ≤ otp_max and per_txn_max ≤ per_day_max, and
 * fg_limits_decide on the boundaries gives the documented tiers and never a refusal at
 * the account defaults themselves (overflow-safe with INT64_MAX inputs).
 */
#include <string.h>

#include "fuzz.h"

#include "ledger/limits.h"

static void check_model(const struct fg_limits *L)
{
    size_t n = fg_limits_currency_count(L);
    FUZZ_CHECK(n >= 1 && n <= FG_LIMITS_CURRENCIES_MAX);
    FUZZ_CHECK(fg_limits_currency_at(L, n) == NULL);
    int64_t win = fg_limits_new_window_ms(L);
    FUZZ_CHECK(win >= FG_LIMITS_NEW_WINDOW_S_MIN * 1000LL &&
               win <= FG_LIMITS_NEW_WINDOW_S_MAX * 1000LL);
    int64_t start = fg_limits_day_start_ms(L, 1700000000000LL);
    FUZZ_CHECK(start <= 1700000000000LL && 1700000000000LL - start < 86400000LL);
    for (size_t i = 0; i < n; i++) {
        const char *code = fg_limits_currency_at(L, i);
        FUZZ_CHECK(code != NULL && strlen(code) == 3 && fg_limits_has_currency(L, code));
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(code, fg_limits_currency_at(L, j)) != 0);
        struct fg_limits_currency c;
        FUZZ_CHECK(fg_limits_currency_get(L, code, &c) == FG_OK);
        FUZZ_CHECK(c.session_max >= 1 && c.session_max <= c.otp_max &&
                   c.otp_max <= FG_LIMITS_AMOUNT_MAX);
        FUZZ_CHECK(c.per_txn_max >= 1 && c.per_txn_max <= c.per_day_max &&
                   c.per_day_max <= FG_LIMITS_AMOUNT_MAX);
        FUZZ_CHECK(c.new_payee_txn_max >= 1 && c.new_payee_txn_max <= FG_LIMITS_AMOUNT_MAX);
        FUZZ_CHECK(c.new_device_txn_max >= 1 && c.new_device_txn_max <= FG_LIMITS_AMOUNT_MAX);
        struct fg_limits_decision d;
        struct fg_limits_input in = {code, c.session_max, 0, 0, 0, 0, 0, 0};
        FUZZ_CHECK(fg_limits_decide(L, &in, &d) == FG_OK && d.tier == FG_TIER_SESSION);
        in.new_device = 1;
        FUZZ_CHECK(fg_limits_decide(L, &in, &d) == FG_OK && d.tier == FG_TIER_OTP);
        in.new_device = 0;
        in.customer_today = c.otp_max;
        FUZZ_CHECK(fg_limits_decide(L, &in, &d) == FG_OK && d.tier == FG_TIER_APPROVAL);
        in.customer_today = INT64_MAX;
        in.account_today = INT64_MAX;
        FUZZ_CHECK(fg_limits_decide(L, &in, &d) == FG_OK && d.tier == FG_TIER_APPROVAL &&
                   d.refusal == FG_ERR_POLICY);
        in.customer_today = 0;
        in.account_today = 0;
        in.amount = c.per_txn_max;
        FUZZ_CHECK(fg_limits_decide(L, &in, &d) == FG_OK);
        FUZZ_CHECK(d.refusal == FG_OK); /* neither new payee nor new device */
        in.amount = c.per_txn_max + 1;
        FUZZ_CHECK(fg_limits_decide(L, &in, &d) == FG_OK && d.refusal == FG_ERR_POLICY);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_limits *L = NULL;
    char err[FG_LIMITS_ERR_MAX];
    fg_rc rc = fg_limits_load((const char *)data, size, &L, err, sizeof err);
    if (rc == FG_OK) {
        FUZZ_CHECK(L != NULL && err[0] == '\0');
        check_model(L);
    } else {
        FUZZ_CHECK(L == NULL);
        FUZZ_CHECK(rc == FG_ERR_CONFIG || rc == FG_ERR_TOO_LARGE || rc == FG_ERR_NOMEM);
        if (rc != FG_ERR_NOMEM)
            FUZZ_CHECK(strncmp(err, "limits.yaml:", 12) == 0);
    }
    fg_limits_free(L);
    return 0;
}
