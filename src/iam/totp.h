/*
 * totp.h — time-based one-time passwords (RFC 6238) for the "something held" factor
 * (REQUIREMENTS AUTH-3, AUTH-4; API.md /v1/auth/totp/enroll, /v1/auth/totp/confirm,
 * /v1/auth/mfa; docs/mfa.md).
 *
 * Parameters are the ones every authenticator app supports: HMAC-SHA-1, 6 digits, a 30 s
 * step from the Unix epoch, a 160-bit random secret shown once as an otpauth:// URI:
 *
 *     otpauth://totp/finguard:<username>?secret=<base32>&issuer=finguard&algorithm=SHA1
 *         &digits=6&period=30                       (username percent-encoded, RFC 3986)
 *
 * Acceptance rule (fg_totp_verify): with T = floor(now_s / 30), a code is accepted for step
 * T or T-1 only (one step of clock drift / typing time; T-2 and T+1 are refused), and only
 * if that step is greater than `last_step`, the highest step ever accepted for this
 * credential — so a code is never accepted twice, not even within its own 30 s. The caller
 * stores *accepted_step as the new last_step in the same transaction as the login.
 * Codes are exactly 6 ASCII digits; anything else is FG_ERR_INVALID, a wrong code (or a
 * replayed one) FG_ERR_UNAUTHENTICATED. Candidate codes are compared in constant time, and
 * both candidates are always computed and compared.
 *
 * Two layers:
 *   - pure functions on a secret the caller holds (fg_totp_secret_new, fg_totp_uri,
 *     fg_totp_code, fg_totp_verify);
 *   - the same on a secret sealed with protect/ under purpose pii at its place (table,
 *     column, row id — for finguard: iam_users, totp_secret, the user id), so the secret
 *     never leaves this module in clear:
 *       fg_totp_enroll_sealed  new secret → its URI (to show once) and its ciphertext (to
 *                              store; the caller keeps the credential pending until a first
 *                              code is confirmed with fg_totp_verify_sealed),
 *       fg_totp_verify_sealed  open, verify as fg_totp_verify, wipe.
 *     Storing the ciphertext and last_step, and counting failed guesses toward the user's
 *     lockout, is the caller's (iam/users): this module keeps no state.
 *
 * Secrets: secret bytes, the base32 text and the URI (it contains the secret) are the
 * caller's to wipe with fg_wipe(); this module wipes every copy it makes on every path and
 * never logs a secret or a code. Thread-safe (liboath is initialised once, internally).
 */
#ifndef FG_IAM_TOTP_H
#define FG_IAM_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "keys/keys.h"
#include "protect/protect.h"

/* ---- limits and parameters --------------------------------------------------------------- */
/* RFC 4226 §4 R6 recommends 160 bits: the HMAC-SHA-1 block is not the weak point then. */
#define FG_TOTP_SECRET_LEN 20u
/* Secrets fg_totp_verify/fg_totp_code accept (the RFC 6238 SHA-1 vectors use 20 bytes;
 * longer than one SHA-1 block (64) would be hashed first, which no app expects). */
#define FG_TOTP_SECRET_MAX 64u
/* Digits of a code, and its buffer with the NUL. */
#define FG_TOTP_DIGITS 6u
#define FG_TOTP_CODE_SIZE (FG_TOTP_DIGITS + 1u)
/* RFC 6238's default time step; apps assume it. */
#define FG_TOTP_STEP_S 30
/* Usernames in the label (API usernames are short identifiers). */
#define FG_TOTP_USERNAME_MAX 64u
/* The URI: fixed text (~90) + a username percent-encoded (3 bytes per byte at worst) + the
 * secret + NUL. */
#define FG_TOTP_URI_SIZE 320u
/* Bytes a sealed secret takes (protect/ header, nonce and tag around the 20 bytes). */
#define FG_TOTP_SEALED_MAX FG_PROTECT_SEALED_MAX(FG_TOTP_SECRET_LEN)

/* ---- pure functions ---------------------------------------------------------------------- */

/* Initialise liboath (oath_init) once; the other functions call it themselves. FG_ERR_CRYPTO
 * if liboath fails to initialise. */
FG_MUST_CHECK fg_rc fg_totp_init(void);

/* A new random secret of FG_TOTP_SECRET_LEN bytes (crypto/ fg_random). */
FG_MUST_CHECK fg_rc fg_totp_secret_new(uint8_t secret[FG_TOTP_SECRET_LEN]);

/* The otpauth URI for secret (1..FG_TOTP_SECRET_MAX bytes) and username (non-empty,
 * NUL-terminated, at most FG_TOTP_USERNAME_MAX bytes, any bytes: they are percent-encoded).
 * FG_ERR_INVALID for a bad username, FG_ERR_LIMIT if out_size is too small
 * (FG_TOTP_URI_SIZE always suffices for a FG_TOTP_SECRET_LEN secret). */
FG_MUST_CHECK fg_rc fg_totp_uri(const uint8_t *secret, size_t secret_len, const char *username,
                                char *out, size_t out_size);

/* The code of time step `step` (≥ 0) with `digits` digits (6..8; 8 is what the RFC 6238
 * vectors list) into out (digits + 1 bytes). For tests, drills and the vectors. */
FG_MUST_CHECK fg_rc fg_totp_code(const uint8_t *secret, size_t secret_len, int64_t step,
                                 unsigned digits, char *out, size_t out_size);

/* The time step of a Unix time (floor division; negative times give negative steps). */
int64_t fg_totp_step(int64_t now_s);

/* Check a 6-digit code against steps T and T-1 of now_s (see the acceptance rule above).
 * last_step: the highest step accepted before (-1 or 0 if none: step 0 is 1970). On FG_OK
 * *accepted_step is the step the code matched (> last_step). FG_ERR_INVALID: code is not
 * exactly 6 ASCII digits (or code is NULL); FG_ERR_UNAUTHENTICATED: wrong, too old, in the
 * future, or replayed. */
FG_MUST_CHECK fg_rc fg_totp_verify(const uint8_t *secret, size_t secret_len, const char *code,
                                   int64_t now_s, int64_t last_step, int64_t *accepted_step);

/* ---- sealed secrets ------------------------------------------------------------------------ */
/* table/column/row_id: the ciphertext's place, as protect.h requires (non-empty names,
 * row id at most FG_PROTECT_ROW_ID_MAX). Errors from protect/: FG_ERR_SEALED (keys sealed),
 * FG_ERR_INVALID (bad place), FG_ERR_CRYPTO (the ciphertext does not open at this place),
 * FG_ERR_NOT_FOUND (its key version was destroyed). */

/* A new secret: its URI into uri_out (wipe it once shown) and its ciphertext into sealed_out
 * (sealed_cap ≥ FG_TOTP_SEALED_MAX; *sealed_len bytes). The secret itself is wiped. On any
 * error both outputs are wiped. Username as fg_totp_uri. */
FG_MUST_CHECK fg_rc fg_totp_enroll_sealed(fg_keys *k, const char *table, const char *column,
                                          const char *row_id, const char *username,
                                          char uri_out[FG_TOTP_URI_SIZE], uint8_t *sealed_out,
                                          size_t sealed_cap, size_t *sealed_len);

/* Open the ciphertext at its place and fg_totp_verify the code; the secret is wiped. */
FG_MUST_CHECK fg_rc fg_totp_verify_sealed(fg_keys *k, const char *table, const char *column,
                                          const char *row_id, const uint8_t *sealed,
                                          size_t sealed_len, const char *code, int64_t now_s,
                                          int64_t last_step, int64_t *accepted_step);

#endif
