/*
 * otp.c — delivered one-time codes stored as keyed MACs.
 *
 * Issue draws 6 digits by rejection sampling over 32-bit random words, reads the row of
 * subject+purpose (only for its issue window), MACs the code under the active index key
 * (fg_keys_use lends the key and names its version) and replaces the row. Verify reads the
 * row, settles the cheap verdicts (used, expired, dead) first, recomputes the MAC under the
 * stored key version and compares in constant time, then either marks the row used or
 * counts a try. Every value goes into SQL as a bound parameter; the MAC input (which holds
 * the code) is wiped on every path.
 */
#include "notify/otp.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "crypto/crypto.h"

#define OTP_LABEL "finguard otp v1"
#define OTP_MAC_INPUT_MAX                                                                           \
    (sizeof OTP_LABEL - 1 + 3 * 4 + FG_OTP_SUBJECT_MAX + FG_OTP_PURPOSE_MAX + FG_OTP_BINDING_MAX + \
     FG_OTP_DIGITS)
/* The largest multiple of 10^6 that fits 2^32: words at or above it are drawn again. */
#define OTP_RANDOM_LIMIT (UINT32_MAX - (UINT32_MAX % 1000000u) - 1u)

const struct fg_otp_policy fg_otp_policy_default = {
    .ttl_ms = FG_OTP_TTL_MS_DEFAULT,
    .tries_max = FG_OTP_TRIES_MAX_DEFAULT,
    .issues_per_window = FG_OTP_ISSUES_PER_WINDOW_DEFAULT,
    .window_ms = FG_OTP_WINDOW_MS_DEFAULT,
};

_Static_assert((OTP_RANDOM_LIMIT + 1ull) % 1000000u == 0, "the accepted range is whole millions");

/* ---- arguments ------------------------------------------------------------------------ */

struct otp_args {
    const char *subject, *purpose, *binding;
    size_t subject_len, purpose_len, binding_len;
};

static int purpose_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static fg_rc args_check(const char *subject, const char *purpose, const char *binding,
                        struct otp_args *a)
{
    a->subject = subject;
    a->purpose = purpose;
    a->binding = binding != NULL ? binding : "";
    a->subject_len = subject ? strnlen(subject, FG_OTP_SUBJECT_MAX + 1) : 0;
    a->purpose_len = purpose ? strnlen(purpose, FG_OTP_PURPOSE_MAX + 1) : 0;
    a->binding_len = strnlen(a->binding, FG_OTP_BINDING_MAX + 1);
    if (a->subject_len == 0 || a->subject_len > FG_OTP_SUBJECT_MAX || a->purpose_len == 0 ||
        a->purpose_len > FG_OTP_PURPOSE_MAX || !purpose_ok(purpose, a->purpose_len) ||
        a->binding_len > FG_OTP_BINDING_MAX)
        return FG_ERR_INVALID;
    return FG_OK;
}

static int policy_ok(const struct fg_otp_policy *p)
{
    return p->ttl_ms >= FG_OTP_TTL_MS_MIN && p->ttl_ms <= FG_OTP_TTL_MS_MAX && p->tries_max >= 1 &&
           p->tries_max <= FG_OTP_TRIES_MAX_CEILING && p->issues_per_window >= 1 &&
           p->issues_per_window <= FG_OTP_ISSUES_PER_WINDOW_CEILING && p->window_ms >= 1 &&
           p->window_ms <= FG_OTP_WINDOW_MS_MAX;
}

static int code_well_formed(const char *code)
{
    if (code == NULL || strnlen(code, FG_OTP_DIGITS + 1) != FG_OTP_DIGITS)
        return 0;
    for (unsigned i = 0; i < FG_OTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return 1;
}

/* ---- the MAC -------------------------------------------------------------------------- */

static size_t put_field(uint8_t *p, const char *s, size_t n)
{
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    memcpy(p + 4, s, n);
    return 4 + n;
}

struct mac_job {
    const uint8_t *input;
    size_t len;
    uint8_t mac[FG_HASH_LEN];
    uint32_t version;
};

static fg_rc mac_with_key(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                          enum fg_suite suite)
{
    struct mac_job *j = ctx;
    j->version = version;
    return fg_hmac(fg_suite_hash(suite), key, FG_KEY_LEN, j->input, j->len, j->mac);
}

/* mac = HMAC(index key `version` (0 = active), encoding of a ‖ code); *used_version names
 * the version. The input buffer is wiped here. */
static fg_rc otp_mac(fg_keys *k, uint32_t version, const struct otp_args *a, const char *code,
                     uint8_t mac[FG_HASH_LEN], uint32_t *used_version)
{
    uint8_t input[OTP_MAC_INPUT_MAX];
    size_t n = sizeof OTP_LABEL - 1;
    memcpy(input, OTP_LABEL, n);
    n += put_field(input + n, a->subject, a->subject_len);
    n += put_field(input + n, a->purpose, a->purpose_len);
    n += put_field(input + n, a->binding, a->binding_len);
    memcpy(input + n, code, FG_OTP_DIGITS);
    n += FG_OTP_DIGITS;
    assert(n <= sizeof input);
    struct mac_job j = {.input = input, .len = n};
    fg_rc rc = fg_keys_use(k, FG_KEY_INDEX, version, mac_with_key, &j);
    fg_wipe(input, sizeof input);
    if (rc == FG_OK) {
        memcpy(mac, j.mac, FG_HASH_LEN);
        *used_version = j.version;
    }
    fg_wipe(j.mac, sizeof j.mac);
    return rc;
}

/* ---- the row -------------------------------------------------------------------------- */

struct otp_row {
    int found, used;
    uint8_t mac[FG_HASH_LEN];
    int64_t key_version, expires_ms, tries, tries_max, window_start_ms, window_issues;
};

static fg_rc row_read(void *ctx, const struct fg_val *cols, int ncols)
{
    struct otp_row *r = ctx;
    assert(ncols == 8);
    if (cols[0].type != FG_VAL_BLOB || cols[0].n != FG_HASH_LEN)
        return FG_ERR_CORRUPT;
    for (int i = 1; i < ncols; i++)
        if (cols[i].type != FG_VAL_INT && !(i == 5 && cols[i].type == FG_VAL_NULL))
            return FG_ERR_CORRUPT;
    memcpy(r->mac, cols[0].p, FG_HASH_LEN);
    r->key_version = cols[1].i;
    r->expires_ms = cols[2].i;
    r->tries = cols[3].i;
    r->tries_max = cols[4].i;
    r->used = cols[5].type != FG_VAL_NULL;
    r->window_start_ms = cols[6].i;
    r->window_issues = cols[7].i;
    r->found = 1;
    return FG_OK;
}

static fg_rc row_load(fg_conn *conn, const struct otp_args *a, struct otp_row *r)
{
    memset(r, 0, sizeof *r);
    struct fg_val p[] = {FG_VTEXT(a->subject, a->subject_len), FG_VTEXT(a->purpose, a->purpose_len)};
    return fg_conn_exec(conn,
                        "SELECT mac, key_version, expires_ms, tries, tries_max, used_ms, "
                        "window_start_ms, window_issues FROM otp_code "
                        "WHERE subject = ?1 AND purpose = ?2",
                        p, 2, row_read, r, NULL);
}

/* ---- issue ---------------------------------------------------------------------------- */

/* Six uniform digits: a word below OTP_RANDOM_LIMIT + 1 (a multiple of 10^6) mod 10^6. */
static fg_rc otp_digits(char code[FG_OTP_CODE_SIZE])
{
    uint32_t w = 0;
    fg_rc rc;
    do {
        rc = fg_random(&w, sizeof w);
    } while (rc == FG_OK && w > OTP_RANDOM_LIMIT);
    if (rc == FG_OK) {
        uint32_t v = w % 1000000u;
        for (int i = (int)FG_OTP_DIGITS - 1; i >= 0; i--) {
            code[i] = (char)('0' + v % 10u);
            v /= 10u;
        }
        code[FG_OTP_DIGITS] = '\0';
        fg_wipe(&v, sizeof v);
    }
    fg_wipe(&w, sizeof w);
    return rc;
}

static fg_rc row_store(fg_conn *conn, const struct otp_args *a, const struct fg_otp_policy *pol,
                       const uint8_t mac[FG_HASH_LEN], uint32_t version, int64_t now_ms,
                       int64_t window_start_ms, int64_t window_issues)
{
    struct fg_val p[] = {
        FG_VTEXT(a->subject, a->subject_len), FG_VTEXT(a->purpose, a->purpose_len),
        FG_VBLOB(mac, FG_HASH_LEN),           FG_VINT(version),
        FG_VINT(now_ms),                      FG_VINT(now_ms + pol->ttl_ms),
        FG_VINT(pol->tries_max),              FG_VINT(window_start_ms),
        FG_VINT(window_issues),
    };
    return fg_conn_exec(conn,
                        "INSERT OR REPLACE INTO otp_code (subject, purpose, mac, key_version, "
                        "created_ms, expires_ms, tries, tries_max, used_ms, window_start_ms, "
                        "window_issues) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, NULL, ?8, ?9)",
                        p, (int)(sizeof p / sizeof p[0]), NULL, NULL, NULL);
}

fg_rc fg_otp_issue(fg_conn *conn, fg_keys *k, const struct fg_otp_policy *policy,
                   const char *subject, const char *purpose, const char *binding,
                   char code_out[FG_OTP_CODE_SIZE], int64_t *expires_ms)
{
    assert(conn != NULL && k != NULL && code_out != NULL);
    const struct fg_otp_policy *pol = policy != NULL ? policy : &fg_otp_policy_default;
    struct otp_args a;
    if (!policy_ok(pol) || args_check(subject, purpose, binding, &a) != FG_OK)
        return FG_ERR_INVALID;
    struct otp_row r;
    fg_rc rc = row_load(conn, &a, &r);
    if (rc != FG_OK)
        return rc;
    int64_t now_ms = fg_time_wall_ms();
    int64_t window_start_ms = now_ms, window_issues = 1;
    if (r.found && now_ms >= r.window_start_ms && now_ms - r.window_start_ms < pol->window_ms) {
        if (r.window_issues >= (int64_t)pol->issues_per_window)
            return FG_ERR_RATE_LIMITED;
        window_start_ms = r.window_start_ms;
        window_issues = r.window_issues + 1;
    }
    uint8_t mac[FG_HASH_LEN];
    uint32_t version = 0;
    rc = otp_digits(code_out);
    if (rc == FG_OK)
        rc = otp_mac(k, 0, &a, code_out, mac, &version);
    if (rc == FG_OK)
        rc = row_store(conn, &a, pol, mac, version, now_ms, window_start_ms, window_issues);
    if (rc != FG_OK) {
        fg_wipe(code_out, FG_OTP_CODE_SIZE);
        return rc;
    }
    if (expires_ms != NULL)
        *expires_ms = now_ms + pol->ttl_ms;
    return FG_OK;
}

/* ---- verify --------------------------------------------------------------------------- */

/* Mark the row used at now_ms (right) or count a wrong try. */
static fg_rc row_settle(fg_conn *conn, const struct otp_args *a, int right, int64_t now_ms)
{
    struct fg_val p[] = {FG_VTEXT(a->subject, a->subject_len), FG_VTEXT(a->purpose, a->purpose_len),
                         FG_VINT(now_ms)};
    int64_t changes = 0;
    fg_rc rc = right
                   ? fg_conn_exec(conn,
                                  "UPDATE otp_code SET used_ms = ?3 WHERE subject = ?1 AND purpose = ?2",
                                  p, 3, NULL, NULL, &changes)
                   : fg_conn_exec(conn,
                                  "UPDATE otp_code SET tries = tries + 1 "
                                  "WHERE subject = ?1 AND purpose = ?2",
                                  p, 2, NULL, NULL, &changes);
    assert(rc != FG_OK || changes == 1);
    return rc;
}

fg_rc fg_otp_verify(fg_conn *conn, fg_keys *k, const char *subject, const char *purpose,
                    const char *binding, const char *code)
{
    assert(conn != NULL && k != NULL);
    struct otp_args a;
    if (args_check(subject, purpose, binding, &a) != FG_OK || !code_well_formed(code))
        return FG_ERR_INVALID;
    struct otp_row r;
    fg_rc rc = row_load(conn, &a, &r);
    if (rc != FG_OK)
        return rc;
    int64_t now_ms = fg_time_wall_ms();
    if (!r.found || r.used)
        return FG_ERR_NOT_FOUND;
    if (now_ms >= r.expires_ms)
        return FG_ERR_TIMEOUT;
    if (r.tries >= r.tries_max)
        return FG_ERR_LOCKED;
    if (r.key_version < 1 || r.key_version > UINT32_MAX)
        return FG_ERR_CORRUPT;
    uint8_t mac[FG_HASH_LEN];
    uint32_t version = 0;
    rc = otp_mac(k, (uint32_t)r.key_version, &a, code, mac, &version);
    if (rc != FG_OK)
        return rc; /* FG_ERR_NOT_FOUND for a destroyed index key version */
    int right = fg_ct_equal(mac, r.mac, FG_HASH_LEN);
    fg_wipe(mac, sizeof mac);
    if (right)
        return row_settle(conn, &a, 1, now_ms);
    rc = row_settle(conn, &a, 0, now_ms);
    return rc != FG_OK ? rc : FG_ERR_UNAUTHENTICATED;
}

fg_rc fg_otp_verify_intent(fg_conn *conn, void *check)
{
    struct fg_otp_check *c = check;
    assert(c != NULL && c->k != NULL);
    c->result = fg_otp_verify(conn, c->k, c->subject, c->purpose, c->binding, c->code);
    /* Only a database failure fails the intent: every verdict must commit (the try count). */
    return c->result == FG_ERR_STORE || c->result == FG_ERR_DISK_FULL ? c->result : FG_OK;
}

fg_rc fg_otp_send(fg_conn *conn, fg_keys *k, fg_outbox *ob, const struct fg_otp_policy *policy,
                  const char *subject, const char *purpose, const char *binding,
                  const struct fg_outbox_msg *msg, int64_t *expires_ms)
{
    assert(conn != NULL && k != NULL && ob != NULL && msg != NULL);
    if (msg->code != NULL)
        return FG_ERR_INVALID;
    char code[FG_OTP_CODE_SIZE];
    fg_rc rc = fg_otp_issue(conn, k, policy, subject, purpose, binding, code, expires_ms);
    if (rc == FG_OK) {
        struct fg_outbox_msg m = *msg;
        m.code = code;
        rc = fg_outbox_add(ob, conn, &m);
    }
    fg_wipe(code, sizeof code);
    return rc;
}
