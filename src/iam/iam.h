/*
 * iam.h — the identity service: roles (data), password policy, sessions, anti-replay,
 * lockout, and the login flow (REQUIREMENTS AUTH-1, AUTH-2, AUTH-3, AUTH-5, AUTH-6, AUTH-9,
 * IAM-1). A customer's first password (activation) is iam/activate.h.
 *
 * Login runs in three steps so no event loop ever waits:
 *   1. fg_iam_login_check()   on a hashing worker: load the user (read lease), decide
 *      locked / throttled, verify the password with Argon2id — or a dummy hash of equal
 *      cost for an unknown user, so both take the same time and give the same answer —
 *      and for a success mint the session (token, signing key sealed for its row).
 *   2. fg_iam_login_intent()  on the writer: lockout bookkeeping, or the session row; the
 *      caller attaches the "auth.login" audit record to the same intent.
 *   3. fg_iam_login_publish() after commit: the session enters the live table.
 *
 * Second factor (session.mfa_required; the HTTP layer refuses everything but self.* routes
 * until it is done): staff roles with `mfa: required` in data/roles.yaml — TOTP, enrolled at
 * the first login; customers (REQUIREMENTS AUTH-3, AUTH-4) — TOTP if they enrolled it, else
 * with `iam.customer_mfa = otp` (the default) a delivered code (session.mfa_otp): the caller
 * of the login intent sends it (fg_otp_send, purpose FG_IAM_OTP_LOGIN, binding
 * fg_iam_login_otp_binding()) to the reserved phone in the same transaction as the session
 * row. With `optional` a customer without TOTP has no second factor.
 */
#ifndef FG_IAM_IAM_H
#define FG_IAM_IAM_H

#include "base/config.h"
#include "base/pool.h"
#include "iam/password.h"
#include "iam/replay.h"
#include "iam/roles.h"
#include "iam/session.h"
#include "iam/users.h"
#include "keys/keys.h"
#include "store/store.h"

/* Password hashes at once = cores; hashes waiting = this per core. A login flood beyond
 * that is refused with 429 instead of queueing memory (issue #4 "bounded pool"). */
#define FG_IAM_HASH_QUEUE_PER_CORE 32u

/* Per-source (IP, device) login failure limit (WEB-4, AUTH-7): more than
 * FG_IAM_SOURCE_FAILURES_MAX failures from one source within FG_IAM_SOURCE_WINDOW_S refuse
 * further attempts from it (429 + Retry-After) until the window ends, whatever username
 * they try — credential stuffing across many users from one source stops early. */
#define FG_IAM_SOURCE_FAILURES_MAX 20
#define FG_IAM_SOURCE_WINDOW_S 300
#define FG_IAM_SOURCES_MAX 65536u /* tracked sources; the oldest window is reused when full */

struct fg_source_limits;

/* The anti-phishing reserved phrase (AUTH-9): chosen by the user, stored only as an
 * fg_protect ciphertext of iam_users.reserved_phrase, shown back at login so a user can
 * tell the genuine service from a copy. */
#define FG_IAM_PHRASE_CHARS_MIN 4
#define FG_IAM_PHRASE_CHARS_MAX 64
#define FG_IAM_PHRASE_BYTES_MAX (FG_IAM_PHRASE_CHARS_MAX * 4)

struct fg_iam {
    struct fg_roles *roles;
    struct fg_password_checker *passwords;
    struct fg_sessions *sessions;
    struct fg_replay *replay;
    struct fg_lockout_policy lockout;
    struct fg_pool *hash_pool;
    fg_store *store;
    fg_keys *keys;
    struct fg_source_limits *sources;
    int customer_otp; /* iam.customer_mfa = otp: customers without TOTP get a delivered code */
};

/* Purposes of the delivered codes of this module (notify/otp.h): the login second factor of a
 * customer (5 min) and the activation code a teller hands out (ledger/customer.h, 72 h). */
#define FG_IAM_OTP_LOGIN "login"
#define FG_IAM_OTP_ACTIVATION "activation"
/* The login code is bound to its session: "session=" + the first 16 hex digits of the
 * session id, so a code sent for one login cannot complete another. */
#define FG_IAM_OTP_BINDING_SIZE 32
void fg_iam_login_otp_binding(const char *session_id, char out[FG_IAM_OTP_BINDING_SIZE]);

/* Seconds until `source` ("ip:1.2.3.4", "dev:abc") may try again; 0 = now. */
int64_t fg_iam_source_blocked(struct fg_iam *iam, const char *source, int64_t now_s);
/* Count one failed login from `source`. */
void fg_iam_source_failed(struct fg_iam *iam, const char *source, int64_t now_s);

/* Policies from the [iam] settings of cfg (NULL = the compiled defaults). */
/* Register this module's fg_protect columns (idempotent). fg_iam_new does it; offline
 * commands that count key usage call it through fg_cli_register_columns. */
FG_MUST_CHECK fg_rc fg_iam_register_columns(void);
FG_MUST_CHECK fg_rc fg_iam_new(const struct fg_config *cfg, fg_store *store, fg_keys *keys,
                               struct fg_iam **out, struct fg_buf *errors);
void fg_iam_free(struct fg_iam *iam);

enum fg_login_result {
    FG_LOGIN_OK = 1,
    FG_LOGIN_BAD,       /* unknown user or wrong password: one answer for both */
    FG_LOGIN_LOCKED,    /* locked after repeated failures (423) */
    FG_LOGIN_THROTTLED, /* increasing delay after the 3rd failure (429 + Retry-After) */
    FG_LOGIN_EXPIRED,   /* vendor access ended: answered like BAD */
};

struct fg_login {
    /* in */
    char username[FG_USERNAME_MAX + 1];
    char *password; /* locked memory, wiped by fg_login_free */
    size_t password_len;
    char device_id[FG_SESSION_DEVICE_MAX + 1];
    char source_ip[64];
    /* out */
    enum fg_login_result result;
    int known;                        /* the user exists (not revealed to the client) */
    int locked_now;                   /* this failure locked the user (set by the intent) */
    struct fg_lockout_policy lockout; /* copied from the service for the intent */
    struct fg_user user;
    int64_t retry_at_ms;
    struct fg_session session;
    char token[FG_SESSION_TOKEN_TEXT];
    uint8_t *key; /* locked, FG_SESSION_KEY_BYTES */
    uint8_t sealed_key[FG_SESSION_KEY_BYTES + 64];
    size_t sealed_len;
    char phrase[FG_IAM_PHRASE_BYTES_MAX + 1]; /* the reserved phrase (AUTH-9), "" if none */
    int64_t session_absolute_ms;
};

/* Allocate with locked buffers for the password and key; copies password in. */
FG_MUST_CHECK fg_rc fg_login_new(const char *username, const char *password, size_t password_len,
                                 const char *device_id, const char *source_ip,
                                 struct fg_login **out);
void fg_login_free(struct fg_login *l);

/* The first security administrator (issue #4): a one-time password that passes the policy
 * (FG_IAM_OTP_PASSWORD_LEN characters), its Argon2id hash, and the row — inserted inside
 * the initialisation intent so the instance never exists without its administrator. */
#define FG_IAM_FIRST_ADMIN "admin"
#define FG_IAM_OTP_PASSWORD_LEN 20
FG_MUST_CHECK fg_rc fg_iam_otp_password(struct fg_iam *iam, const char *username,
                                        char out[FG_IAM_OTP_PASSWORD_LEN + 1]);
FG_MUST_CHECK fg_rc fg_iam_first_admin_insert(fg_conn *conn, const char *password_hash,
                                              char id_out[FG_USER_ID_MAX + 1]);

FG_MUST_CHECK fg_rc fg_iam_login_check(struct fg_iam *iam, struct fg_login *l);
/* Seal a phrase for user_id's row (out_cap ≥ FG_PROTECT_SEALED_MAX(len)). */
FG_MUST_CHECK fg_rc fg_iam_phrase_seal(struct fg_iam *iam, const char *user_id, const char *phrase,
                                       size_t len, uint8_t *out, size_t out_cap, size_t *out_len);
FG_MUST_CHECK fg_rc fg_iam_login_intent(fg_conn *conn, void *login);
FG_MUST_CHECK fg_rc fg_iam_login_publish(struct fg_iam *iam, struct fg_login *l);

#endif
