/*
 * session.h — authenticated sessions (REQUIREMENTS AUTH-5, AUTH-10; API.md "Sessions").
 *
 * A session is minted at login: a 256-bit random bearer token (returned once, never
 * stored: the table keys sessions by SHA-256(token)) and a 256-bit session_key for request
 * signing (returned once; kept here in locked memory and, for the record, as an fg_protect
 * ciphertext in iam_sessions). The token is bound to the device id given at login.
 *
 * The live table is in memory — lookups are on the request path and take well under a
 * microsecond — bounded by a maximum (FG_ERR_BUSY when full of live sessions). Expiry:
 * idle (default 10 min since the last use) and absolute (default 12 h). A restart ends
 * every session (the table is not reloaded: users log in again after an unseal).
 * Thread-safe (one mutex; every operation is a few hash probes).
 */
#ifndef FG_IAM_SESSION_H
#define FG_IAM_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"

#define FG_SESSION_TOKEN_BYTES 32
#define FG_SESSION_TOKEN_TEXT 44 /* base64url of 32 bytes (43) + NUL */
#define FG_SESSION_KEY_BYTES 32
#define FG_SESSION_ID_TEXT 65 /* hex SHA-256 + NUL */
#define FG_SESSION_USER_ID_MAX 40
#define FG_SESSION_USERNAME_MAX 64
#define FG_SESSION_DEVICE_MAX 128
#define FG_SESSIONS_MAX_DEFAULT 20000u
#define FG_SESSION_IDLE_MS_DEFAULT (10 * 60 * 1000)
#define FG_SESSION_ABSOLUTE_MS_DEFAULT (12 * 3600 * 1000)

/* What a request learns about its session (a copy; no token, the key only if asked). */
struct fg_session {
    char id[FG_SESSION_ID_TEXT];
    char user_id[FG_SESSION_USER_ID_MAX + 1];
    char username[FG_SESSION_USERNAME_MAX + 1];
    char device_id[FG_SESSION_DEVICE_MAX + 1];
    uint32_t role_mask; /* roles at login (role changes end the user's sessions) */
    int staff;
    int mfa_required, mfa_done;
    int mfa_otp; /* the second factor is a delivered code (customers without TOTP) */
    int must_change_password;
    int64_t created_ms, last_seen_ms, expires_ms;
    int64_t access_ends_ms; /* vendor expiry, 0 = none */
};

struct fg_sessions;

FG_MUST_CHECK fg_rc fg_sessions_new(size_t max, int64_t idle_ms, int64_t absolute_ms,
                                    struct fg_sessions **out);
void fg_sessions_free(struct fg_sessions *t);

/* Mint credentials for a new session: token text (to return once), its id (SHA-256 hex)
 * and a fresh signing key. key_out must be locked memory of FG_SESSION_KEY_BYTES. */
FG_MUST_CHECK fg_rc fg_session_mint(char token_out[FG_SESSION_TOKEN_TEXT],
                                    char id_out[FG_SESSION_ID_TEXT], uint8_t *key_out);
/* The id of a token (SHA-256 hex); FG_ERR_UNAUTHENTICATED if the text is not a token. */
FG_MUST_CHECK fg_rc fg_session_id_of(const char *token, char id_out[FG_SESSION_ID_TEXT]);

/* Install a session (s->id from fg_session_mint; created/expires set here from now_ms).
 * FG_ERR_BUSY when the table is full of live sessions. */
FG_MUST_CHECK fg_rc fg_sessions_add(struct fg_sessions *t, struct fg_session *s,
                                    const uint8_t key[FG_SESSION_KEY_BYTES], int64_t now_ms);
/* Find the live session of a token and touch it. FG_ERR_UNAUTHENTICATED (with *why) if
 * unknown, ended, idle too long or past its absolute end, or if device_id differs
 * (*device_mismatch set: an event for the monitor; then out holds only the session's
 * user_id, everything else zero). key_out (may be NULL; locked memory)
 * receives the signing key. */
FG_MUST_CHECK fg_rc fg_sessions_lookup(struct fg_sessions *t, const char *token,
                                       const char *device_id, int64_t now_ms,
                                       struct fg_session *out, uint8_t *key_out,
                                       int *device_mismatch, const char **why);
void fg_sessions_set_mfa_done(struct fg_sessions *t, const char *id);
void fg_sessions_set_password_changed(struct fg_sessions *t, const char *id);
/* End one session, or every session of a user except `except_id` (may be NULL). Returns
 * how many ended. */
size_t fg_sessions_end(struct fg_sessions *t, const char *id);
size_t fg_sessions_end_user(struct fg_sessions *t, const char *user_id, const char *except_id);
size_t fg_sessions_count(struct fg_sessions *t);
/* End every session (the instance was sealed). Returns how many ended. */
size_t fg_sessions_end_all(struct fg_sessions *t);
int64_t fg_sessions_absolute_ms(const struct fg_sessions *t);

#endif
