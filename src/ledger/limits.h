/*
 * limits.h — transfer limits and authentication tiers, loaded from data (REQUIREMENTS TXN-3,
 * TXN-5, AUTH-9, AUTH-10; docs/ledger.md "Limits and tiers").
 *
 * The numbers live in data/limits.yaml (embedded in the binary like data/roles.yaml):
 *
 *     currencies: [CNY, USD, ...]      the currencies finguard books (3 upper-case letters)
 *     day_offset_s: 28800              the bank's day starts at 00:00 UTC+8
 *     new_window_s: 86400              how long a payee / device counts as new
 *     limits:
 *       CNY:
 *         tiers: {session_max: 100000, otp_max: 500000}     cumulative per customer per day
 *         account: {per_txn_max: 5000000, per_day_max: 10000000}   defaults of new accounts
 *         new_payee_txn_max: 100000                         per transfer to a new payee
 *         new_device_txn_max: 100000                        per transfer from a new device
 *
 * Every listed currency has exactly one `limits` entry and vice versa. All amounts are
 * int64 minor units, 1..FG_LIMITS_AMOUNT_MAX; session_max ≤ otp_max; per_txn_max ≤
 * per_day_max. CNY defaults follow PBOC [2015] No. 43 Art. 24 (payment accounts: 1 000 CNY
 * per day with one factor, 5 000 with two).
 *
 * The tier rule (fg_limits_decide, pure): a refusal (FG_ERR_POLICY, a static sentence) when
 * the amount exceeds the account's per-transaction limit, when the account's day total plus
 * the amount exceeds its per-day limit, or when a new payee / new device transfer exceeds its
 * cap; otherwise the tier by the customer's day total including this transfer:
 *     total ≤ session_max → SESSION (the session is enough)
 *     total ≤ otp_max     → OTP (a one-time code bound to amount and payee)
 *     else                → APPROVAL (a second person, four eyes)
 * A new device never gets SESSION: at least OTP (AUTH-10). Sums never overflow: a sum that
 * does not fit int64 is treated as "above every limit".
 *
 * Loading: fg_limits_load() checks everything and reports the first error as
 * "limits.yaml:LINE: message" into err (cut to err_cap). YAML anchors and aliases are
 * refused; unknown and duplicate keys are errors; integers must be plain decimal.
 *
 * Ownership and threads: a loaded struct fg_limits is immutable and may be read from any
 * number of threads at once. fg_limits_free(NULL) is a no-op.
 */
#ifndef FG_LEDGER_LIMITS_H
#define FG_LEDGER_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"

/* ---- limits -------------------------------------------------------------------------------- */
/* Bytes of the limits file: the shipped one is under 2 KiB. */
#define FG_LIMITS_FILE_MAX (64u * 1024u)
/* Currencies in the file: ISO 4217 has ~180; a bank books a handful. */
#define FG_LIMITS_CURRENCIES_MAX 32u
/* Any amount in the file, in minor units: the ledger's per-movement maximum (10^15). */
#define FG_LIMITS_AMOUNT_MAX 1000000000000000LL
/* day_offset_s: a whole time zone offset, -14 h .. +14 h. */
#define FG_LIMITS_DAY_OFFSET_S_MAX (14 * 3600)
/* new_window_s: 1 minute .. 30 days. */
#define FG_LIMITS_NEW_WINDOW_S_MIN 60
#define FG_LIMITS_NEW_WINDOW_S_MAX (30 * 24 * 3600)
/* YAML nesting the format needs: 4 (root, limits, currency, tiers). */
#define FG_LIMITS_YAML_DEPTH_MAX 6u
/* YAML events in one file (bounds work on hostile input). */
#define FG_LIMITS_YAML_EVENTS_MAX 8192u
/* Room for one error line ("limits.yaml:123: ..."). */
#define FG_LIMITS_ERR_MAX 256u

enum fg_tier { FG_TIER_SESSION = 1, FG_TIER_OTP = 2, FG_TIER_APPROVAL = 3 };

struct fg_limits;

/* The numbers of one currency (copied out). */
struct fg_limits_currency {
    char code[4];
    int64_t session_max, otp_max;     /* tiers, cumulative per customer per day */
    int64_t per_txn_max, per_day_max; /* account defaults */
    int64_t new_payee_txn_max, new_device_txn_max;
};

/* Parse and validate a limits file (text need not be NUL-terminated). On success *out owns
 * the result; on failure *out is NULL and err (may be NULL; cap ≥ 1) holds
 * "limits.yaml:LINE: message". FG_ERR_CONFIG invalid content, FG_ERR_TOO_LARGE longer than
 * FG_LIMITS_FILE_MAX, FG_ERR_NOMEM. */
FG_MUST_CHECK fg_rc fg_limits_load(const char *text, size_t len, struct fg_limits **out, char *err,
                                   size_t err_cap);
/* The embedded data/limits.yaml; FG_ERR_NOT_FOUND if the binary has none. */
FG_MUST_CHECK fg_rc fg_limits_load_default(struct fg_limits **out);
void fg_limits_free(struct fg_limits *L);

/* 1 if cur is one of the file's currencies (exact, NUL-terminated), else 0. */
int fg_limits_has_currency(const struct fg_limits *L, const char *cur);
/* Currencies in file order: count, and code of i (0 ≤ i < count; NULL beyond). */
size_t fg_limits_currency_count(const struct fg_limits *L);
const char *fg_limits_currency_at(const struct fg_limits *L, size_t i);
/* The numbers of cur; FG_ERR_NOT_FOUND for an unknown currency. */
FG_MUST_CHECK fg_rc fg_limits_currency_get(const struct fg_limits *L, const char *cur,
                                           struct fg_limits_currency *out);

/* Start (UTC ms) of the bank's day containing now_ms (day_offset_s applied). */
int64_t fg_limits_day_start_ms(const struct fg_limits *L, int64_t now_ms);
/* Account defaults of a currency; FG_ERR_NOT_FOUND for an unknown currency. */
FG_MUST_CHECK fg_rc fg_limits_account_defaults(const struct fg_limits *L, const char *currency,
                                               int64_t *per_txn, int64_t *per_day);
/* new_window_s in milliseconds. */
int64_t fg_limits_new_window_ms(const struct fg_limits *L);

struct fg_limits_input {
    const char *currency;
    int64_t amount;          /* this transfer, > 0 */
    int64_t customer_today;  /* customer's transfers today in currency, before this one, ≥ 0 */
    int64_t account_today;   /* from-account's transfers today, before this one, ≥ 0 */
    int64_t account_per_txn; /* the account's own limits (0 → the currency's defaults) */
    int64_t account_per_day;
    int new_payee;  /* 1: no committed transfer to this payee before the new window */
    int new_device; /* 1: the device was first seen within the new window */
};

struct fg_limits_decision {
    enum fg_tier tier; /* always set (also when refused): the tier the total would need */
    fg_rc refusal;     /* FG_OK, or FG_ERR_POLICY */
    const char *why;   /* static sentence when refused; NULL otherwise */
    const char *field; /* request field the refusal concerns ("amount"); NULL otherwise */
};

/* Pure (see the file comment). Returns FG_OK with the decision filled in, or FG_ERR_INVALID
 * (unknown currency, amount ≤ 0, a negative day total or account limit) with *out set to
 * refusal FG_ERR_INVALID. */
FG_MUST_CHECK fg_rc fg_limits_decide(const struct fg_limits *L, const struct fg_limits_input *in,
                                     struct fg_limits_decision *out);

#endif
