/*
 * activate.c — a customer's first password with the activation code (see activate.h).
 */
#include "iam/activate.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "notify/otp.h"

fg_rc fg_activation_new(const char *username, const char *code, const char *password,
                        size_t password_len, const char *phrase, size_t phrase_len,
                        fg_iam_phone_fn phone_of, struct fg_activation **out)
{
    assert(username != NULL && code != NULL && password != NULL && out != NULL);
    if (strlen(username) > FG_USERNAME_MAX || strlen(code) > FG_ACTIVATE_CODE_MAX ||
        password_len > FG_CRYPTO_PASSWORD_MAX ||
        (phrase != NULL && (phrase_len == 0 || phrase_len > FG_IAM_PHRASE_BYTES_MAX)))
        return FG_ERR_INVALID;
    struct fg_activation *a = calloc(1, sizeof *a);
    if (a == NULL)
        return FG_ERR_NOMEM;
    a->password = fg_secure_alloc(password_len + 1);
    if (phrase != NULL)
        a->phrase = fg_secure_alloc(phrase_len + 1);
    if (a->password == NULL || (phrase != NULL && a->phrase == NULL)) {
        fg_activation_free(a);
        return FG_ERR_NOMEM;
    }
    memcpy(a->password, password, password_len);
    a->password[password_len] = '\0';
    a->password_len = password_len;
    if (phrase != NULL) {
        memcpy(a->phrase, phrase, phrase_len);
        a->phrase[phrase_len] = '\0';
        a->phrase_len = phrase_len;
    }
    snprintf(a->username, sizeof a->username, "%s", username);
    snprintf(a->code, sizeof a->code, "%s", code);
    a->phone_of = phone_of;
    a->result = FG_ACTIVATE_BAD;
    a->cause = "unknown_user";
    *out = a;
    return FG_OK;
}

void fg_activation_free(struct fg_activation *a)
{
    if (a == NULL)
        return;
    fg_secure_free(a->password);
    fg_secure_free(a->phrase);
    fg_wipe(a, sizeof *a);
    free(a);
}

/* The stored data the check needs: the user and, for a customer waiting for activation,
 * the reserved phone. */
static fg_rc load(struct fg_iam *iam, struct fg_activation *a, char *phone, size_t cap,
                  char history[][FG_PWHASH_STR_MAX], size_t *nhist)
{
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(iam->store, &conn);
    if (rc)
        return rc;
    rc = fg_user_load_by_name(conn, iam->roles, a->username, &a->user);
    if (rc == FG_ERR_NOT_FOUND) {
        a->cause = "unknown_user";
        rc = FG_OK;
    } else if (rc == FG_OK) {
        a->known = 1;
        if (a->user.staff)
            a->cause = "not_customer";
        else if (a->user.password_hash[0] != '\0')
            a->cause = "already_active";
        else if (!a->user.active)
            a->cause = "disabled";
        else
            a->eligible_ = 1;
        if (a->eligible_) /* a login reset at the branch keeps its history (AUTH-1) */
            rc = fg_user_password_history(conn, a->user.id, history, nhist);
        if (rc == FG_OK && a->eligible_ && a->phone_of != NULL) {
            rc = a->phone_of(conn, iam->keys, a->user.id, phone, cap);
            if (rc == FG_ERR_NOT_FOUND) { /* a customer login without a customer record */
                phone[0] = '\0';
                rc = FG_OK;
            }
        }
    }
    fg_store_read_release(iam->store, conn);
    return rc;
}

fg_rc fg_activation_check(struct fg_iam *iam, struct fg_activation *a)
{
    a->keys_ = iam->keys;
    a->lockout_ = iam->lockout;
    /* 1. the rules that depend on the request alone: nothing about the user yet */
    struct fg_password_context who = {.username = a->username};
    fg_rc rc = fg_password_check(iam->passwords, a->password, a->password_len, &who, &a->reason);
    if (rc == FG_ERR_POLICY) {
        a->result = FG_ACTIVATE_POLICY;
        a->cause = "policy";
        fg_wipe(a->password, a->password_len);
        return FG_OK;
    }
    if (rc)
        return rc;
    /* 2. the user; its lock state */
    char phone[FG_ACTIVATE_PHONE_MAX + 1] = "";
    char history[FG_PASSWORD_HISTORY_KEEP][FG_PWHASH_STR_MAX];
    size_t nhist = 0;
    rc = load(iam, a, phone, sizeof phone, history, &nhist);
    if (rc == FG_OK && a->known) {
        int locked = 0;
        a->retry_at_ms =
            fg_user_next_attempt_ms(&a->user, &iam->lockout, fg_time_wall_ms(), &locked);
        if (locked) {
            a->result = FG_ACTIVATE_LOCKED;
            a->cause = "locked";
        } else if (a->retry_at_ms > 0) {
            a->result = FG_ACTIVATE_THROTTLED;
            a->cause = "throttled";
        }
    }
    /* 3. the phone rule, kept back until the code proved right; it runs for everyone (an
     * empty phone for the rest) so that every path costs the same */
    if (rc == FG_OK) {
        who.phone = phone;
        const char *reason = NULL;
        fg_rc prc = fg_password_check(iam->passwords, a->password, a->password_len, &who, &reason);
        if (prc == FG_ERR_POLICY && a->eligible_)
            a->phone_reason_ = reason;
        else if (prc != FG_OK && prc != FG_ERR_POLICY)
            rc = prc;
    }
    fg_wipe(phone, sizeof phone);
    /* 3b. the history (a login reset at the branch, AUTH-1: not one of the last 4), kept back
     * like the phone rule; every path verifies FG_PASSWORD_HISTORY_KEEP hashes (dummies
     * where there are none) so the time does not tell who has a history */
    if (rc == FG_OK) {
        const char *hashes[FG_PASSWORD_HISTORY_KEEP];
        size_t n = a->eligible_ ? nhist : 0;
        for (size_t i = 0; i < n; i++)
            hashes[i] = history[i];
        int found = 0;
        if (n > 0)
            rc = fg_password_in_history(hashes, n, a->password, a->password_len, &found);
        for (size_t i = n; rc == FG_OK && i < FG_PASSWORD_HISTORY_KEEP; i++) {
            fg_rc drc = fg_password_verify_dummy(a->password, a->password_len);
            if (drc != FG_OK && drc != FG_ERR_UNAUTHENTICATED)
                rc = drc; /* only the time matters; a failure to compute it does not pass */
        }
        if (rc == FG_OK && found)
            a->history_reason_ = "was used recently: choose one not among the last 4";
    }
    fg_wipe(history, sizeof history);
    /* 4. Argon2id on every path, kept only for a customer waiting for activation */
    if (rc == FG_OK)
        rc = fg_password_hash(a->password, a->password_len, a->hash_);
    fg_wipe(a->password, a->password_len);
    if (rc == FG_OK && !a->eligible_)
        fg_wipe(a->hash_, sizeof a->hash_);
    /* 5. the reserved phrase, sealed for its row (AUTH-9) */
    if (rc == FG_OK && a->eligible_ && a->phrase != NULL)
        rc = fg_iam_phrase_seal(iam, a->user.id, a->phrase, a->phrase_len, a->sealed_phrase_,
                                sizeof a->sealed_phrase_, &a->sealed_len_);
    if (a->phrase != NULL)
        fg_wipe(a->phrase, a->phrase_len);
    return rc;
}

/* The code's verdict → the cause of a refusal; 0 for an operating error (store, keys). */
static const char *code_cause(fg_rc v)
{
    switch (v) {
    case FG_ERR_INVALID:
    case FG_ERR_UNAUTHENTICATED:
        return "bad_code";
    case FG_ERR_NOT_FOUND:
        return "no_code";
    case FG_ERR_TIMEOUT:
        return "expired";
    case FG_ERR_LOCKED:
        return "code_dead";
    default:
        return NULL;
    }
}

fg_rc fg_activation_intent(fg_conn *conn, void *activation)
{
    struct fg_activation *a = activation;
    int64_t now = fg_time_wall_ms();
    if (a->result != FG_ACTIVATE_BAD || !a->known)
        return FG_OK; /* decided by the check (or nothing to count): only the record */
    if (!a->eligible_) {
        fg_wipe(a->code, sizeof a->code);
        return fg_user_login_failed(conn, a->user.id, &a->lockout_, now, &a->locked_now);
    }
    fg_rc v = fg_otp_verify(conn, a->keys_, a->user.id, FG_IAM_OTP_ACTIVATION, "", a->code);
    fg_wipe(a->code, sizeof a->code);
    if (v != FG_OK) {
        a->cause = code_cause(v);
        if (a->cause == NULL) {
            a->cause = "error";
            return v; /* the database or the keys failed: nothing was counted */
        }
        /* FG_OK from here on keeps the counted try of the code and the user's failure */
        return fg_user_login_failed(conn, a->user.id, &a->lockout_, now, &a->locked_now);
    }
    if (a->phone_reason_ != NULL || a->history_reason_ != NULL) {
        a->result = FG_ACTIVATE_POLICY;
        a->reason = a->phone_reason_ != NULL ? a->phone_reason_ : a->history_reason_;
        a->cause = a->phone_reason_ != NULL ? "policy_phone" : "policy_history";
        return FG_ERR_POLICY; /* rolls the code's use back: it stays live for another try */
    }
    fg_rc rc = fg_user_set_password(conn, a->user.id, a->hash_, now);
    if (rc == FG_OK && a->sealed_len_ > 0) {
        struct fg_val p[] = {FG_VSTR(a->user.id), FG_VBLOB(a->sealed_phrase_, a->sealed_len_)};
        rc = fg_conn_exec(conn, "UPDATE iam_users SET reserved_phrase = ?2 WHERE id = ?1", p, 2,
                          NULL, NULL, NULL);
    }
    if (rc == FG_OK)
        rc = fg_user_login_succeeded(conn, a->user.id);
    fg_wipe(a->hash_, sizeof a->hash_);
    if (rc == FG_OK) {
        a->result = FG_ACTIVATE_OK;
        a->cause = "ok";
    }
    return rc;
}
