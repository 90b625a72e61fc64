/*
 * activate.h — a new customer's first password (REQUIREMENTS AUTH-1, AUTH-2, AUTH-3, AUTH-9;
 * API.md POST /v1/auth/activate).
 *
 * A teller registers a customer (ledger/customer.h): an iam_users row of kind customer with
 * no password, and an activation code (notify/otp.h: subject the user id, purpose
 * FG_IAM_OTP_ACTIVATION, binding "", valid 72 h) sent to the reserved phone and shown to the
 * teller. With it the customer chooses the first password (and optionally the reserved
 * phrase). Like login, in two steps so that no event loop and not the writer waits:
 *   1. fg_activation_check()  on a hashing worker (iam->hash_pool): the password policy, the
 *      user (read lease), its lock state, and the Argon2id hash — computed on every path that
 *      gets that far (unknown user, staff user, customer already active too), so they all
 *      take the same time;
 *   2. fg_activation_intent() on the writer: verifies the code and sets password and phrase;
 *      the caller attaches the "auth.activate" audit record to the same intent.
 *
 * No enumeration. An unknown username, a staff user, a customer already activated (the code
 * is used), a wrong, expired or dead (5 wrong tries) code all give FG_ACTIVATE_BAD — one
 * answer; `cause` tells them apart for the audit record only. An expired code is not
 * reported as such: "expired" would say that the username is a customer waiting for
 * activation. The teller issues a new code instead.
 * Policy refusals that depend on the request alone (length, letter and digit, the username,
 * sequences, blocklist, dictionary) come first, before anything is looked up, so they say
 * nothing about the user. The one rule that needs stored data — "contains the phone number"
 * — is applied only after the code proved right (applied earlier, it would read the reserved
 * phone out digit by digit to anyone); the intent then fails on purpose, so the code stays
 * unused and the customer tries another password.
 *
 * Lockout (AUTH-2), as at login: a locked user gets FG_ACTIVATE_LOCKED (even with the right
 * code), a throttled one FG_ACTIVATE_THROTTLED; every wrong attempt for an existing user
 * counts one failure (fg_user_login_failed) — a wrong code also counts a try of the code
 * itself (5 kill it). The counted failure and try survive: the intent returns FG_OK and
 * carries the verdict (the fg_otp_verify_intent pattern). Per-source limits are the
 * caller's (fg_iam_source_*: the same budget as login).
 *
 * Secrets: password and phrase live in locked memory and are wiped by fg_activation_free
 * (the password right after hashing); the code is wiped too. Nothing here logs.
 */
#ifndef FG_IAM_ACTIVATE_H
#define FG_IAM_ACTIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "iam/iam.h"
#include "protect/protect.h"

/* The code field as sent: the codes are 6 digits; a little room so that a wrong length is a
 * wrong code (counted), not a malformed request. */
#define FG_ACTIVATE_CODE_MAX 16
/* The reserved phone (E.164: at most 15 digits and '+') with room to spare. */
#define FG_ACTIVATE_PHONE_MAX 64

/* The customer's reserved phone in clear (ledger/customer.h fg_customer_phone_of_user);
 * FG_ERR_NOT_FOUND if the user is no customer. */
typedef fg_rc (*fg_iam_phone_fn)(fg_conn *conn, fg_keys *k, const char *user_id, char *out,
                                 size_t cap);

enum fg_activate_result {
    FG_ACTIVATE_OK = 1,
    FG_ACTIVATE_BAD,       /* one answer for every wrong (401) */
    FG_ACTIVATE_POLICY,    /* the new password is refused; reason says why (422) */
    FG_ACTIVATE_LOCKED,    /* locked after repeated failures (423) */
    FG_ACTIVATE_THROTTLED, /* increasing delay after the 3rd failure (429, retry_at_ms) */
};

struct fg_activation {
    /* in */
    char username[FG_USERNAME_MAX + 1];
    char code[FG_ACTIVATE_CODE_MAX + 1];
    char *password; /* locked; wiped once hashed */
    size_t password_len;
    char *phrase; /* locked, NULL = none (keep the stored one) */
    size_t phrase_len;
    fg_iam_phone_fn phone_of; /* NULL: no phone comparison */
    /* out */
    enum fg_activate_result result;
    const char *cause;  /* for the audit record: "ok", "unknown_user", "not_customer",
                         * "already_active", "disabled", "bad_code", "no_code", "expired",
                         * "code_dead", "locked", "throttled", "policy", "policy_phone" */
    const char *reason; /* FG_ACTIVATE_POLICY: why (password.h reasons; never the password) */
    int known;          /* the user exists (never revealed to the client) */
    int locked_now;     /* this failure locked the user */
    int64_t retry_at_ms;
    struct fg_user user;
    /* private to the two steps */
    fg_keys *keys_;
    struct fg_lockout_policy lockout_;
    int eligible_;
    const char *phone_reason_;
    const char *history_reason_; /* the password was among the last ones (a reset login) */
    char hash_[FG_PWHASH_STR_MAX];
    uint8_t sealed_phrase_[FG_PROTECT_SEALED_MAX(FG_IAM_PHRASE_BYTES_MAX)];
    size_t sealed_len_;
};

/* Allocate with locked copies of password and phrase (phrase NULL = none). FG_ERR_INVALID if
 * a field is over its limit (username FG_USERNAME_MAX, code FG_ACTIVATE_CODE_MAX, password
 * FG_CRYPTO_PASSWORD_MAX bytes, phrase FG_IAM_PHRASE_BYTES_MAX bytes), FG_ERR_NOMEM. */
FG_MUST_CHECK fg_rc fg_activation_new(const char *username, const char *code, const char *password,
                                      size_t password_len, const char *phrase, size_t phrase_len,
                                      fg_iam_phone_fn phone_of, struct fg_activation **out);
void fg_activation_free(struct fg_activation *a);

/* Step 1, on a hashing worker. FG_OK with a->result set (POLICY, LOCKED and THROTTLED are
 * final; BAD and OK are decided by the intent), or an operating error (store, keys). */
FG_MUST_CHECK fg_rc fg_activation_check(struct fg_iam *iam, struct fg_activation *a);
/* Step 2, an fg_intent_fn (arg = the activation) on the writer. Returns FG_OK with the final
 * a->result — except FG_ERR_POLICY for the phone rule after a right code (nothing changed:
 * the code stays live) — or an operating error. */
FG_MUST_CHECK fg_rc fg_activation_intent(fg_conn *conn, void *activation);

#endif
