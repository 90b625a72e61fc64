/*
 * users.h — staff and customer accounts in iam_users / iam_user_roles (migration 0004):
 * load, create, lockout bookkeeping and password changes (REQUIREMENTS AUTH-1, AUTH-2,
 * IAM-2, IAM-6).
 *
 * Functions taking an fg_conn run inside the caller's write intent (changes) or on a read
 * lease (loads); none of them commits, so a change and its audit record commit together.
 * Roles are stored by name and turned into the role mask of data/roles.yaml on load; a
 * stored role the data file no longer knows is ignored (and logged) rather than granted.
 */
#ifndef FG_IAM_USERS_H
#define FG_IAM_USERS_H

#include <stdint.h>

#include "base/rc.h"
#include "crypto/crypto.h"
#include "iam/roles.h"
#include "store/store.h"

#define FG_USER_ID_MAX 40
#define FG_USERNAME_MIN 3
#define FG_USERNAME_MAX 64
#define FG_USER_CONTACT_MAX 128
#define FG_USER_ROLES_MAX 8        /* roles named in one request */
#define FG_PASSWORD_HISTORY_KEEP 4 /* AUTH-1: the last 4 may not be reused */

struct fg_user {
    char id[FG_USER_ID_MAX + 1];
    char username[FG_USERNAME_MAX + 1];
    int staff;                             /* kind staff (1) or customer (0) */
    int active;                            /* status active */
    char password_hash[FG_PWHASH_STR_MAX]; /* "" when none is set */
    int must_change_password;
    int failed_count;
    int64_t last_failure_ms, locked_until_ms;
    int totp_enrolled;
    int64_t totp_last_step;
    int64_t expires_ms; /* 0 = never */
    uint32_t role_mask;
};

/* Lockout (AUTH-2): `max_failures` consecutive failures lock for `lock_ms` (or until the
 * next UTC midnight in next-day mode); from the `delay_after`-th failure on, a next attempt
 * earlier than 2^(failures - delay_after) seconds after the last failure is throttled. */
struct fg_lockout_policy {
    int max_failures; /* 5 */
    int64_t lock_ms;  /* 30 min */
    int next_day;     /* 0 */
    int delay_after;  /* 3 */
};
void fg_lockout_policy_defaults(struct fg_lockout_policy *p);

/* A username of [a-z0-9._-], FG_USERNAME_MIN..MAX characters. */
int fg_username_valid(const char *name);

/* Loads (read lease or writer connection). FG_ERR_NOT_FOUND if there is no such user. */
FG_MUST_CHECK fg_rc fg_user_load_by_name(fg_conn *conn, const struct fg_roles *roles,
                                         const char *username, struct fg_user *out);
FG_MUST_CHECK fg_rc fg_user_load(fg_conn *conn, const struct fg_roles *roles, const char *id,
                                 struct fg_user *out);

struct fg_user_new {
    const char *username;
    int staff;
    const char *password_hash; /* may be NULL (customers before activation) */
    int must_change_password;
    const char *const *roles; /* names */
    int nroles;
    const char *contact;
    int64_t expires_ms;
    const char *created_by; /* user id or "system" */
};
/* Insert (write intent). The caller has validated roles (fg_roles_check_assignment).
 * FG_ERR_CONFLICT if the username exists. id_out receives the new opaque id. */
FG_MUST_CHECK fg_rc fg_user_insert(fg_conn *conn, const struct fg_user_new *u,
                                   char id_out[FG_USER_ID_MAX + 1]);

/* Lockout bookkeeping (write intent). */
FG_MUST_CHECK fg_rc fg_user_login_failed(fg_conn *conn, const char *id,
                                         const struct fg_lockout_policy *p, int64_t now_ms,
                                         int *locked_now);
FG_MUST_CHECK fg_rc fg_user_login_succeeded(fg_conn *conn, const char *id);
/* Identity-verified reset of a customer's login (AUTH-2, write intent): no password (the
 * customer activates again with a new code), no lock or failure count, no TOTP secret (the
 * second factor is re-enrolled). The current password joins the history (trimmed to
 * FG_PASSWORD_HISTORY_KEEP), so activation refuses it and the last ones. FG_ERR_NOT_FOUND unless id
 * is an active customer login. */
FG_MUST_CHECK fg_rc fg_user_reset_customer(fg_conn *conn, const char *id, int64_t now_ms);
/* When may this user try again? 0 = now; else the Unix ms (locked or throttled). */
int64_t fg_user_next_attempt_ms(const struct fg_user *u, const struct fg_lockout_policy *p,
                                int64_t now_ms, int *locked);

/* Set a new password hash, keep the old one in the history (trimmed to
 * FG_PASSWORD_HISTORY_KEEP), clear must_change_password (write intent). */
FG_MUST_CHECK fg_rc fg_user_set_password(fg_conn *conn, const char *id, const char *new_hash,
                                         int64_t now_ms);
/* The stored history hashes (newest first), up to FG_PASSWORD_HISTORY_KEEP. */
FG_MUST_CHECK fg_rc fg_user_password_history(fg_conn *conn, const char *id,
                                             char out[][FG_PWHASH_STR_MAX], size_t *n);
/* Active users holding at least one role whose mask intersects `mask` (approver counting
 * for the bootstrap exception). */
FG_MUST_CHECK fg_rc fg_user_count_with_roles(fg_conn *conn, const struct fg_roles *roles,
                                             uint32_t mask, int64_t *count);

/* Device binding (AUTH-10), from the VERIFIED sessions in iam_sessions (verified_ms > 0:
 * the second factor completed, or none was owed — migration 0009; a password alone never
 * makes a device seen):
 *   *first_ms        = the earliest created_ms of this user's sessions on device_id, 0 if the
 *                      device was never used by this user;
 *   *is_first_device = 1 if device_id is the user's bound device: the device of the user's
 *                      earliest session (ties by insertion order); also 1 if the user has no
 *                      session at all (the device would become the bound one); else 0.
 * Transfers treat "first seen < 24 h ago and not the bound device" as a new device (lower
 * limits, step-up). Read lease or the writer's connection. device_id compares exactly. */
FG_MUST_CHECK fg_rc fg_iam_device_first_seen(fg_conn *conn, const char *user_id,
                                             const char *device_id, int64_t *first_ms,
                                             int *is_first_device);

#endif
