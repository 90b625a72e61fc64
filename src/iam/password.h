/*
 * password.h — customer passwords: the rules a new password must meet (REQUIREMENTS AUTH-1),
 * how it is stored, the history of old ones, and equal-time verification.
 *
 * Rules. fg_password_policy_load() turns a `struct fg_password_policy` (plain data, from the
 * configuration) into an immutable checker; fg_password_check() then answers FG_OK or
 * FG_ERR_POLICY with one short reason for the person choosing the password. The rules, in
 * the order they are tried (the first that fails gives the reason):
 *   1. valid UTF-8 without control characters; length min_chars..max_chars counted in
 *      characters (code points), not bytes;
 *   2. at least one letter (any script) and one ASCII digit, if required;
 *   3. not similar to personal information (case-insensitive): the user name (≥ 3
 *      characters, forwards or backwards, or any of its parts of ≥ 3 characters), a part
 *      of the display name of ≥ 3 characters, or ≥ 6 consecutive digits of the phone;
 *   4. no run of 4: repeats ("aaaa", "AaAa"), alphabet or digit sequences ("abcd", "4321"),
 *      keyboard runs ("qwer", "asdf", "7890", "!@#$");
 *   5. not on the operator's blocklist (whole password, case-insensitive);
 *   6. libpwquality with its cracklib dictionary check: not a dictionary word (also with
 *      leading and trailing digits and symbols removed: "Welcome123!"), not a palindrome,
 *      at least 5 different characters, not "systematic".
 * Reasons (stable strings; none ever contains any part of the password):
 *   "is not valid UTF-8 text", "contains a control character",
 *   "too short: at least N characters", "too long: at most N characters",
 *   "must contain a letter", "must contain a digit", "contains the user name",
 *   "contains part of the name", "contains the phone number",
 *   "has a sequence or repeated characters", "is on the blocklist", "is a dictionary word",
 *   "is a palindrome", "has too few different characters", "is too easy to guess".
 * A reason is a string constant or text owned by the checker (the two with N): valid until
 * fg_password_checker_free().
 *
 * Threads: a checker is read-only after load and may be shared. cracklib (under
 * libpwquality) keeps its working buffers and its one open dictionary in static storage
 * (a second concurrent open fails: "another dictionary already open"), so calls into
 * libpwquality are serialised by one process-wide mutex; everything else runs in
 * parallel. Nothing else in the process may call libpwquality or cracklib directly.
 *
 * Storage. Passwords are stored as Argon2id strings (crypto.h fg_pwhash, default t = 2,
 * m = 19 MiB, p = 1). fg_password_verify() answers FG_OK / FG_ERR_UNAUTHENTICATED. For an
 * unknown user, call fg_password_verify_dummy(): one verification of the same cost
 * against a hash made once per process from random bytes, so "no such user" takes as long
 * as "wrong password". Callers must take the same path for both answers afterwards.
 *
 * fg_crypto_init() must have succeeded before any function here that hashes or verifies,
 * and before fg_password_policy_load() (which prepares the dummy hash).
 * The password is bytes (pw, len): it need not be NUL-terminated, and it is wiped from
 * every copy this module makes. See docs/passwords.md.
 */
#ifndef FG_IAM_PASSWORD_H
#define FG_IAM_PASSWORD_H

#include <stddef.h>

#include "base/buf.h"
#include "base/rc.h"
#include "crypto/crypto.h"

/* ---- limits ------------------------------------------------------------------------------ */
/* The defaults: 12 characters leave brute force far behind even online; 128 is
 * longer than any passphrase people type. */
#define FG_PASSWORD_CHARS_MIN_DEFAULT 12u
#define FG_PASSWORD_CHARS_MAX_DEFAULT 128u
/* NIST SP 800-63B's floor for a chosen secret: min_chars below it is a configuration error. */
#define FG_PASSWORD_CHARS_FLOOR 8u
/* A code point is at most 4 bytes of UTF-8, so 256 characters always fit the hashing limit
 * FG_CRYPTO_PASSWORD_MAX (1024 bytes). */
#define FG_PASSWORD_CHARS_CEILING 256u
/* Old passwords that may not be reused (the issue: 4, PCI DSS 8.3.7). */
#define FG_PASSWORD_HISTORY_DEFAULT 4u
/* Each entry costs one Argon2id verification (~20-50 ms) on every change; 24 is the
 * largest history common policies ask for (Windows' "enforce password history"). */
#define FG_PASSWORD_HISTORY_MAX 24u
/* Blocklist file: the usual "top 1 million" lists are ~8 MiB; it is held in memory. */
#define FG_PASSWORD_BLOCKLIST_BYTES_MAX (16u * 1024u * 1024u)
#define FG_PASSWORD_BLOCKLIST_ENTRIES_MAX 1000000u
/* One blocklist line: longer than any password we accept anyway (FG_CRYPTO_PASSWORD_MAX). */
#define FG_PASSWORD_BLOCKLIST_LINE_MAX FG_CRYPTO_PASSWORD_MAX
/* Personal fields compared with the password (user name, display name, phone), in bytes:
 * real ones are far shorter; the bound keeps the comparisons O(small). */
#define FG_PASSWORD_PERSONAL_BYTES_MAX 256u
/* A repeat or sequence this long is refused ("aaaa", "1234", "qwer"). */
#define FG_PASSWORD_RUN_MIN 4u
/* This many consecutive digits of the phone number in the password are refused. */
#define FG_PASSWORD_PHONE_DIGITS_MIN 6u
/* Name parts (and user names) shorter than this are too common to refuse ("Li", "Al"). */
#define FG_PASSWORD_NAME_PART_MIN 3u

/* ---- policy ------------------------------------------------------------------------------ */
struct fg_password_policy {
    unsigned min_chars;          /* FG_PASSWORD_CHARS_FLOOR ≤ min_chars ≤ max_chars */
    unsigned max_chars;          /* ≤ FG_PASSWORD_CHARS_CEILING */
    int require_letter;          /* 1: at least one letter (any script) */
    int require_digit;           /* 1: at least one ASCII digit */
    unsigned history;            /* old passwords callers keep and check; ≤ HISTORY_MAX */
    const char *blocklist_path;  /* NULL: none. One password per line (LF or CRLF), no
                                  * comments, UTF-8; read once by load and not kept */
    const char *dictionary_path; /* NULL: cracklib's default (Debian cracklib-runtime:
                                  * /var/cache/cracklib/cracklib_dict) */
};

/* The defaults: 12..128 characters, a letter and a digit, history 4, no blocklist. */
void fg_password_policy_defaults(struct fg_password_policy *policy);

/* Personal information the password must not resemble; any field may be NULL or "". */
struct fg_password_context {
    const char *username;
    const char *display_name;
    const char *phone;
};

struct fg_password_checker;

/* Validates the policy, sets up libpwquality, reads the blocklist, and proves the
 * dictionary check works (a known-strong password must pass and "password" must be found
 * as a dictionary word), so a broken installation fails at start-up, not at every
 * password change. Also prepares the dummy hash (fg_password_verify_dummy).
 * Every problem is appended to errors (may be NULL), one line each, with the file and
 * line for the blocklist; no line of the blocklist is ever echoed.
 * FG_ERR_CONFIG: bad policy values, unusable dictionary or locale, bad blocklist line;
 * FG_ERR_IO: the blocklist cannot be read; FG_ERR_TOO_LARGE / FG_ERR_LIMIT: blocklist over
 * FG_PASSWORD_BLOCKLIST_BYTES_MAX / _ENTRIES_MAX; FG_ERR_NOMEM. *out is NULL on failure. */
FG_MUST_CHECK fg_rc fg_password_policy_load(const struct fg_password_policy *policy,
                                            struct fg_password_checker **out,
                                            struct fg_buf *errors);
void fg_password_checker_free(struct fg_password_checker *checker);
/* The policy the checker was loaded from (paths are NULL: they are not kept). */
const struct fg_password_policy *fg_password_checker_policy(const struct fg_password_checker *c);

/* FG_OK: acceptable (*reason = NULL). FG_ERR_POLICY: refused, *reason says why.
 * who may be NULL. Other codes are operating errors (*reason NULL): FG_ERR_INVALID for a
 * personal field over FG_PASSWORD_PERSONAL_BYTES_MAX or not UTF-8, FG_ERR_NOMEM,
 * FG_ERR_IO / FG_ERR_CONFIG when the dictionary became unusable after load. Thread-safe. */
FG_MUST_CHECK fg_rc fg_password_check(const struct fg_password_checker *checker, const char *pw,
                                      size_t len, const struct fg_password_context *who,
                                      const char **reason);

/* ---- hashing, verification, history ------------------------------------------------------ */
/* Argon2id with fg_pwhash_default. Errors as fg_pwhash (FG_ERR_INVALID: len over
 * FG_CRYPTO_PASSWORD_MAX). Does not apply the rules: call fg_password_check() first. */
FG_MUST_CHECK fg_rc fg_password_hash(const char *pw, size_t len, char out[FG_PWHASH_STR_MAX]);
/* The same with explicit parameters (tests use cheap ones; p NULL = default). */
FG_MUST_CHECK fg_rc fg_password_hash_params(const struct fg_pwhash_params *p, const char *pw,
                                            size_t len, char out[FG_PWHASH_STR_MAX]);
/* FG_OK on match, FG_ERR_UNAUTHENTICATED on mismatch; FG_ERR_INVALID for a stored string
 * that is not an Argon2id hash (or a password over FG_CRYPTO_PASSWORD_MAX); FG_ERR_NOMEM. */
FG_MUST_CHECK fg_rc fg_password_verify(const char *stored, const char *pw, size_t len);
/* 1 if stored should be replaced by a hash with the current defaults (after a successful
 * verify, while the plaintext is at hand). */
int fg_password_needs_rehash(const char *stored);
/* For an unknown user: one Argon2id verification of default cost against a per-process
 * random hash. Always FG_ERR_UNAUTHENTICATED, except FG_ERR_INVALID for a password over
 * FG_CRYPTO_PASSWORD_MAX (as fg_password_verify would answer, equally fast) and
 * FG_ERR_NOMEM. Thread-safe. */
FG_MUST_CHECK fg_rc fg_password_verify_dummy(const char *pw, size_t len);
/* Makes the dummy hash now (once per process) instead of on the first unknown user, so
 * that user is not slower than the rest. fg_password_policy_load() calls it. */
FG_MUST_CHECK fg_rc fg_password_dummy_prepare(void);

/* *found = 1 if pw verifies against any of hashes[0..n) (n ≤ FG_PASSWORD_HISTORY_MAX).
 * Every entry is verified, also after a match, so the time says nothing about which one
 * matched. An entry that is not a valid hash makes the result FG_ERR_CORRUPT (*found = 0)
 * once all are done: a broken history must not silently permit reuse. FG_ERR_INVALID for
 * a password over FG_CRYPTO_PASSWORD_MAX (nothing verified); FG_ERR_NOMEM. */
FG_MUST_CHECK fg_rc fg_password_in_history(const char *const *hashes, size_t n, const char *pw,
                                           size_t len, int *found);
/* For "the login password must differ from the payment password" (AUTH-1): *differs = 0 if
 * pw verifies against other_stored (the other password's hash), 1 if not or if
 * other_stored is NULL (no other password yet). FG_ERR_CORRUPT for an invalid hash,
 * FG_ERR_INVALID for a password over FG_CRYPTO_PASSWORD_MAX, FG_ERR_NOMEM. */
FG_MUST_CHECK fg_rc fg_password_differs(const char *other_stored, const char *pw, size_t len,
                                        int *differs);

#endif
