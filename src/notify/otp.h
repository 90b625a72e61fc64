/*
 * otp.h — delivered one-time codes: 6 digits sent by SMS or e-mail for a login, a transfer
 * (step-up), a phone change, an activation (REQUIREMENTS AUTH-3, AUTH-4, AUTH-8; docs/mfa.md).
 *
 * A code belongs to a subject (user id) and a purpose, and is bound to a `binding` string
 * that names what it authorises ("amount=500000;currency=CNY;payee=ACC123" for a transfer,
 * "phone=+86138…" for a phone change, "" when nothing more). It is stored only as
 *     HMAC(index key, "finguard otp v1" ‖ u32 len ‖ subject ‖ u32 len ‖ purpose ‖
 *          u32 len ‖ binding ‖ code)                      (suite's HMAC, lengths big-endian)
 * in `otp_code` (migrations/0005_outbox.sql) with the key version, so neither the code nor
 * the binding is in the database, and a code for another amount or payee is simply wrong.
 *
 * Rules:
 *   - 6 uniformly random digits (rejection sampling: no modulo bias);
 *   - valid policy->ttl_ms (default 5 minutes), then dead;
 *   - single use: a successful verification marks it used;
 *   - policy->tries_max wrong guesses (default 5) kill it, even for the right code later;
 *   - one live code per subject and purpose: issuing a new one replaces (kills) the old;
 *   - at most policy->issues_per_window codes per subject and purpose per window_ms
 *     (default 10 per hour), else FG_ERR_RATE_LIMITED — each new code would otherwise bring
 *     tries_max fresh guesses, and every code is an SMS someone pays for.
 *
 * fg_otp_verify results, in the order they are checked:
 *   FG_ERR_INVALID          code is not exactly 6 ASCII digits, or an argument is malformed
 *                           (not a guess: nothing is counted)
 *   FG_ERR_NOT_FOUND        no code was issued for subject+purpose, or it was used already
 *                           (or its index key version has been destroyed)
 *   FG_ERR_TIMEOUT          the code expired (ask for a new one)
 *   FG_ERR_LOCKED           tries_max wrong guesses were made: the code is dead
 *   FG_ERR_UNAUTHENTICATED  wrong code, or right code for another binding; counts a try
 *   FG_OK                   right: the code is now used
 * The MAC comparison is constant-time.
 *
 * Both functions run inside the caller's write intent (conn = the writer's connection).
 * IMPORTANT: a counted wrong try is a change in the intent's savepoint. If the intent then
 * returns the error, the store rolls its savepoint back and the count with it — unlimited
 * guesses. So an intent that verifies a code returns FG_OK and carries the verification
 * result in its own argument (and audits it): fg_otp_verify_intent does exactly that.
 *
 * Secrets: code_out is the caller's to wipe (fg_wipe) once it is handed to the outbox;
 * fg_otp_send does issue + outbox + wipe in one call so the caller never holds the code.
 * Nothing here logs a code. Thread-safe (no state besides the database).
 */
#ifndef FG_NOTIFY_OTP_H
#define FG_NOTIFY_OTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "keys/keys.h"
#include "notify/outbox.h"
#include "store/store.h"

/* ---- limits and defaults ---------------------------------------------------------------- */
#define FG_OTP_DIGITS 6u
#define FG_OTP_CODE_SIZE (FG_OTP_DIGITS + 1u) /* with the NUL */
/* Subjects are user ids (UUID text is 36). */
#define FG_OTP_SUBJECT_MAX 64u
/* Purposes are short identifiers of [a-z0-9_.-], like outbox purposes. */
#define FG_OTP_PURPOSE_MAX 32u
/* A binding names a few fields of one operation (amount, currency, payee, phone). */
#define FG_OTP_BINDING_MAX 256u
/* AUTH-3: delivered codes live 5 minutes by default. The ceiling is the 72 h of activation
 * codes (API.md /v1/auth/activate); the floor keeps a code typeable. */
#define FG_OTP_TTL_MS_DEFAULT (5 * 60 * 1000)
#define FG_OTP_TTL_MS_MIN (30 * 1000)
#define FG_OTP_TTL_MS_MAX (72 * 3600 * 1000)
/* Wrong guesses per code: 5 in 10^6 is the chance an attacker gets per code. */
#define FG_OTP_TRIES_MAX_DEFAULT 5u
#define FG_OTP_TRIES_MAX_CEILING 10u
/* Codes per subject+purpose per window: bounds guesses per hour to 10 × 5. */
#define FG_OTP_ISSUES_PER_WINDOW_DEFAULT 10u
#define FG_OTP_ISSUES_PER_WINDOW_CEILING 100u
#define FG_OTP_WINDOW_MS_DEFAULT (3600 * 1000)
#define FG_OTP_WINDOW_MS_MAX (24 * 3600 * 1000)

struct fg_otp_policy {
    int64_t ttl_ms;             /* FG_OTP_TTL_MS_MIN..FG_OTP_TTL_MS_MAX */
    unsigned tries_max;         /* 1..FG_OTP_TRIES_MAX_CEILING */
    unsigned issues_per_window; /* 1..FG_OTP_ISSUES_PER_WINDOW_CEILING */
    int64_t window_ms;          /* 1..FG_OTP_WINDOW_MS_MAX */
};
/* The defaults above. */
extern const struct fg_otp_policy fg_otp_policy_default;

/* Issue a new code (replacing any live one of subject+purpose) at wall time now.
 * policy NULL = fg_otp_policy_default (FG_ERR_INVALID for one out of range). subject
 * 1..FG_OTP_SUBJECT_MAX bytes, purpose as above, binding 0..FG_OTP_BINDING_MAX bytes (NULL
 * = ""). On FG_OK code_out holds the code and *expires_ms (may be NULL) its end (Unix ms).
 * FG_ERR_RATE_LIMITED: too many codes in the window (the live code, if any, stays live).
 * FG_ERR_SEALED: keys sealed. */
FG_MUST_CHECK fg_rc fg_otp_issue(fg_conn *conn, fg_keys *k, const struct fg_otp_policy *policy,
                                 const char *subject, const char *purpose, const char *binding,
                                 char code_out[FG_OTP_CODE_SIZE], int64_t *expires_ms);

/* Verify a code (see the results above). binding NULL = "". */
FG_MUST_CHECK fg_rc fg_otp_verify(fg_conn *conn, fg_keys *k, const char *subject,
                                  const char *purpose, const char *binding, const char *code);

/* An fg_intent_fn wrapper: verifies check's code and stores the outcome in check->result;
 * returns FG_OK unless the database failed, so a counted try survives. */
struct fg_otp_check {
    fg_keys *k;
    const char *subject, *purpose, *binding, *code;
    fg_rc result; /* out */
};
FG_MUST_CHECK fg_rc fg_otp_verify_intent(fg_conn *conn, void *check);

/* Issue a code and add it to the outbox as msg (whose `code` must be NULL: the new code is
 * put in), then wipe it: the caller never holds the code. Same errors as fg_otp_issue and
 * fg_outbox_add; on any error nothing is issued or queued (as long as the caller's intent
 * returns that error). */
FG_MUST_CHECK fg_rc fg_otp_send(fg_conn *conn, fg_keys *k, fg_outbox *ob,
                                const struct fg_otp_policy *policy, const char *subject,
                                const char *purpose, const char *binding,
                                const struct fg_outbox_msg *msg, int64_t *expires_ms);

#endif
