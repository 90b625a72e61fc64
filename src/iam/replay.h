/*
 * replay.h — anti-replay for state-changing requests of an authenticated session
 * (REQUIREMENTS AUTH-6; API.md "Anti-replay").
 *
 * A request carries X-Nonce (≥ 16 random bytes, base64url), X-Timestamp (Unix seconds) and
 * X-Signature = base64url(HMAC-SHA-256(session_key, METHOD "\n" PATH "\n" TIMESTAMP "\n"
 * NONCE "\n" hex(SHA-256(body)))). PATH is the request target (path and query).
 *
 * fg_request_verify() checks the signature in constant time. fg_replay_check() then
 * refuses a timestamp outside ±window of now, a timestamp before the process started (so
 * a restart, which forgets the nonces, does not reopen the window), and a nonce seen
 * before within the window. Nonces are remembered in time-sliced generations, each a
 * keyed-hash set, all of them within one capacity: memory is bounded, and when it is full the
 * check answers FG_ERR_BUSY (the caller answers 503/429) — a nonce is never forgotten early
 * to make room, which would reopen a replay. Thread-safe (one mutex, short sections).
 */
#ifndef FG_IAM_REPLAY_H
#define FG_IAM_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "crypto/crypto.h"

#define FG_REPLAY_WINDOW_S_DEFAULT 300  /* API.md: ±300 s */
#define FG_REPLAY_NONCE_BYTES_MIN 16    /* API.md: ≥ 16 random bytes */
#define FG_REPLAY_NONCE_TEXT_MAX 128    /* base64url text of a nonce */
#define FG_REPLAY_TIMESTAMP_TEXT_MAX 20 /* decimal Unix seconds */
#define FG_REPLAY_SIGNATURE_TEXT_MAX 64 /* base64url of 32 bytes is 43 */
/* Nonces remembered at once, all live slices together; 8 bytes each in tables that double at
 * half load (16–32 bytes per nonce), grown only as requests arrive: ≤ 128 MiB when full.
 * Clients stamp "now", so a nonce stays about window + one slice (330 s at the default):
 * the default holds ~12 700 signed requests/s sustained — beyond, the server refuses with
 * 503 instead of forgetting. */
#define FG_REPLAY_NONCES_MAX_DEFAULT (1u << 22)

/* The signature the client must send (raw 32 bytes). */
FG_MUST_CHECK fg_rc fg_request_signature(const uint8_t *session_key, size_t key_len,
                                         const char *method, const char *target,
                                         const char *timestamp, const char *nonce, const void *body,
                                         size_t body_len, uint8_t out[FG_HASH_LEN]);
/* FG_OK if signature_b64 (base64url, no padding) matches; FG_ERR_UNAUTHENTICATED
 * otherwise (including malformed input). */
FG_MUST_CHECK fg_rc fg_request_verify(const uint8_t *session_key, size_t key_len,
                                      const char *method, const char *target, const char *timestamp,
                                      const char *nonce, const void *body, size_t body_len,
                                      const char *signature_b64);

struct fg_replay;

/* capacity: nonces remembered at once (0 → default); window_s: 0 → default;
 * process_start_s: requests stamped earlier are refused. */
FG_MUST_CHECK fg_rc fg_replay_new(size_t capacity, int64_t window_s, int64_t process_start_s,
                                  struct fg_replay **out);
void fg_replay_free(struct fg_replay *r);

/* Parse a timestamp header (decimal, no sign, ≤ 19 digits). FG_ERR_INVALID otherwise. */
FG_MUST_CHECK fg_rc fg_replay_parse_timestamp(const char *text, int64_t *out);

/* Check and remember. FG_ERR_UNAUTHENTICATED with *why set ("stale timestamp", "timestamp
 * before server start", "nonce reused", "malformed nonce"); FG_ERR_BUSY when the memory
 * budget is exhausted. */
FG_MUST_CHECK fg_rc fg_replay_check(struct fg_replay *r, const char *nonce, int64_t timestamp_s,
                                    int64_t now_s, const char **why);

/* Nonces currently remembered (metrics). */
size_t fg_replay_size(struct fg_replay *r);

#endif
