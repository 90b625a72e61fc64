/*
 * iam.c — the identity service container and the login flow (see iam.h).
 */
#include "iam/iam.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "protect/protect.h"

/* ---- per-source failure limits ---------------------------------------------------------- */

struct source_entry {
    uint64_t h; /* 0 = empty */
    int64_t window_start_s;
    int failures;
};

struct fg_source_limits {
    pthread_mutex_t mu;
    uint8_t key[FG_SHORTHASH_KEY_LEN];
    struct source_entry table[FG_IAM_SOURCES_MAX];
};

/* The entry of source (found, or claimed: empty or with an ended window). Caller holds mu. */
static struct source_entry *source_entry(struct fg_source_limits *sl, const char *source,
                                         int64_t now_s)
{
    uint64_t h = fg_shorthash(sl->key, source, strlen(source));
    if (h == 0)
        h = 1;
    size_t mask = FG_IAM_SOURCES_MAX - 1, i = h & mask;
    struct source_entry *reuse = NULL;
    for (size_t n = 0; n < 64; n++, i = (i + 1) & mask) { /* bounded probe */
        struct source_entry *e = &sl->table[i];
        if (e->h == h)
            return e;
        if (e->h == 0)
            return reuse ? reuse : e;
        if (reuse == NULL && now_s - e->window_start_s >= FG_IAM_SOURCE_WINDOW_S)
            reuse = e;
    }
    return reuse; /* NULL: 64 live neighbours; this source goes uncounted this time */
}

int64_t fg_iam_source_blocked(struct fg_iam *iam, const char *source, int64_t now_s)
{
    struct fg_source_limits *sl = iam->sources;
    pthread_mutex_lock(&sl->mu);
    struct source_entry *e = source_entry(sl, source, now_s);
    int64_t wait = 0;
    uint64_t h = fg_shorthash(sl->key, source, strlen(source));
    if (e != NULL && e->h == (h ? h : 1) && e->failures >= FG_IAM_SOURCE_FAILURES_MAX &&
        now_s - e->window_start_s < FG_IAM_SOURCE_WINDOW_S)
        wait = e->window_start_s + FG_IAM_SOURCE_WINDOW_S - now_s;
    pthread_mutex_unlock(&sl->mu);
    return wait;
}

void fg_iam_source_failed(struct fg_iam *iam, const char *source, int64_t now_s)
{
    struct fg_source_limits *sl = iam->sources;
    pthread_mutex_lock(&sl->mu);
    struct source_entry *e = source_entry(sl, source, now_s);
    if (e != NULL) {
        uint64_t h = fg_shorthash(sl->key, source, strlen(source));
        h = h ? h : 1;
        if (e->h != h || now_s - e->window_start_s >= FG_IAM_SOURCE_WINDOW_S) {
            e->h = h;
            e->window_start_s = now_s;
            e->failures = 0;
        }
        e->failures++;
    }
    pthread_mutex_unlock(&sl->mu);
}

fg_rc fg_iam_register_columns(void)
{
    /* protected columns of this module: destroy asks, rewrap moves them */
    fg_rc rc = fg_protect_register_column("iam_users", "id", "totp_secret", FG_KEY_PII);
    if (rc == FG_OK || rc == FG_ERR_CONFLICT)
        rc = fg_protect_register_column("iam_users", "id", "reserved_phrase", FG_KEY_PII);
    if (rc == FG_OK || rc == FG_ERR_CONFLICT)
        rc = fg_protect_register_column("iam_sessions", "id", "session_key", FG_KEY_PII);
    return rc == FG_ERR_CONFLICT ? FG_OK : rc; /* registered earlier in this process */
}

fg_rc fg_iam_new(const struct fg_config *cfg, fg_store *store, fg_keys *keys, struct fg_iam **out,
                 struct fg_buf *errors)
{
    struct fg_iam *iam = calloc(1, sizeof *iam);
    if (iam == NULL)
        return FG_ERR_NOMEM;
    iam->store = store;
    iam->keys = keys;
    fg_lockout_policy_defaults(&iam->lockout);
    iam->customer_otp = 1; /* iam.customer_mfa = otp */
    struct fg_password_policy policy;
    fg_password_policy_defaults(&policy);
    int64_t idle_ms = 0, absolute_ms = 0;
    if (cfg != NULL) {
        iam->lockout.max_failures = (int)cfg->iam_lockout_failures;
        iam->lockout.lock_ms = cfg->iam_lockout_minutes * 60 * 1000;
        iam->lockout.next_day = cfg->iam_lockout_next_day;
        idle_ms = cfg->iam_session_idle_minutes * 60 * 1000;
        absolute_ms = cfg->iam_session_absolute_hours * 3600 * 1000;
        policy.min_chars = (unsigned)cfg->iam_password_min_chars;
        iam->customer_otp = strcmp(cfg->iam_customer_mfa, "optional") != 0;
        if (cfg->iam_password_blocklist[0] != '\0')
            policy.blocklist_path = cfg->iam_password_blocklist;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cores = ncpu > 0 ? (unsigned)ncpu : 1;
    iam->sources = calloc(1, sizeof *iam->sources);
    if (iam->sources == NULL) {
        free(iam);
        return FG_ERR_NOMEM;
    }
    pthread_mutex_init(&iam->sources->mu, NULL);
    fg_rc rc = fg_random(iam->sources->key, sizeof iam->sources->key);
    if (rc == FG_OK)
        rc = fg_roles_load_default(&iam->roles, errors);
    if (rc == FG_OK)
        rc = fg_password_policy_load(&policy, &iam->passwords, errors);
    if (rc == FG_OK)
        rc = fg_password_dummy_prepare();
    if (rc == FG_OK)
        rc = fg_sessions_new(0, idle_ms, absolute_ms, &iam->sessions);
    if (rc == FG_OK)
        rc = fg_replay_new(0, 0, fg_time_wall_s(), &iam->replay);
    if (rc == FG_OK)
        rc = fg_pool_new_background(cores, (size_t)cores * FG_IAM_HASH_QUEUE_PER_CORE,
                                    &iam->hash_pool);
    if (rc == FG_OK)
        rc = fg_iam_register_columns();
    if (rc) {
        fg_iam_free(iam);
        return rc;
    }
    *out = iam;
    return FG_OK;
}

void fg_iam_free(struct fg_iam *iam)
{
    if (iam == NULL)
        return;
    fg_pool_free(iam->hash_pool);
    fg_replay_free(iam->replay);
    fg_sessions_free(iam->sessions);
    fg_password_checker_free(iam->passwords);
    fg_roles_free(iam->roles);
    if (iam->sources != NULL) {
        pthread_mutex_destroy(&iam->sources->mu);
        free(iam->sources);
    }
    free(iam);
}

/* ---- login ------------------------------------------------------------------------------- */

fg_rc fg_login_new(const char *username, const char *password, size_t password_len,
                   const char *device_id, const char *source_ip, struct fg_login **out)
{
    if (password_len > FG_CRYPTO_PASSWORD_MAX || strlen(username) > FG_USERNAME_MAX ||
        strlen(device_id) > FG_SESSION_DEVICE_MAX)
        return FG_ERR_INVALID;
    struct fg_login *l = calloc(1, sizeof *l);
    if (l == NULL)
        return FG_ERR_NOMEM;
    l->password = fg_secure_alloc(password_len + 1);
    l->key = fg_secure_alloc(FG_SESSION_KEY_BYTES);
    if (l->password == NULL || l->key == NULL) {
        fg_login_free(l);
        return FG_ERR_NOMEM;
    }
    memcpy(l->password, password, password_len);
    l->password[password_len] = '\0';
    l->password_len = password_len;
    snprintf(l->username, sizeof l->username, "%s", username);
    snprintf(l->device_id, sizeof l->device_id, "%s", device_id);
    snprintf(l->source_ip, sizeof l->source_ip, "%s", source_ip ? source_ip : "");
    *out = l;
    return FG_OK;
}

void fg_login_free(struct fg_login *l)
{
    if (l == NULL)
        return;
    fg_secure_free(l->password);
    fg_secure_free(l->key);
    fg_wipe(l, sizeof *l);
    free(l);
}

struct phrase_row {
    uint8_t ct[FG_PROTECT_SEALED_MAX(FG_IAM_PHRASE_BYTES_MAX)];
    size_t len;
};

static fg_rc phrase_row(void *ctx, const struct fg_val *c, int n)
{
    struct phrase_row *r = ctx;
    if (n == 1 && c[0].type == FG_VAL_BLOB && c[0].n <= sizeof r->ct) {
        memcpy(r->ct, c[0].p, c[0].n);
        r->len = c[0].n;
    }
    return FG_OK;
}

/* The user's reserved phrase in clear, or "" (none set, or it cannot be opened: the login
 * itself does not depend on it). */
static void load_phrase(struct fg_iam *iam, struct fg_login *l)
{
    l->phrase[0] = '\0';
    fg_conn *conn;
    if (fg_store_read_acquire(iam->store, &conn) != FG_OK)
        return;
    struct phrase_row row = {.len = 0};
    struct fg_val p[] = {FG_VSTR(l->user.id)};
    fg_rc rc = fg_conn_exec(conn, "SELECT reserved_phrase FROM iam_users WHERE id = ?1", p, 1,
                            phrase_row, &row, NULL);
    fg_store_read_release(iam->store, conn);
    size_t n = 0;
    if (rc == FG_OK && row.len > 0 &&
        fg_protect_open(iam->keys, FG_KEY_PII, "iam_users", "reserved_phrase", l->user.id, row.ct,
                        row.len, (uint8_t *)l->phrase, sizeof l->phrase - 1, &n) == FG_OK)
        l->phrase[n] = '\0';
    else
        l->phrase[0] = '\0';
}

fg_rc fg_iam_phrase_seal(struct fg_iam *iam, const char *user_id, const char *phrase, size_t len,
                         uint8_t *out, size_t out_cap, size_t *out_len)
{
    return fg_protect_seal(iam->keys, FG_KEY_PII, "iam_users", "reserved_phrase", user_id, phrase,
                           len, out, out_cap, out_len);
}

static fg_rc mint_session(struct fg_iam *iam, struct fg_login *l)
{
    fg_rc rc = fg_session_mint(l->token, l->session.id, l->key);
    if (rc == FG_OK)
        rc = fg_protect_seal(iam->keys, FG_KEY_PII, "iam_sessions", "session_key", l->session.id,
                             l->key, FG_SESSION_KEY_BYTES, l->sealed_key, sizeof l->sealed_key,
                             &l->sealed_len);
    struct fg_session *s = &l->session;
    snprintf(s->user_id, sizeof s->user_id, "%s", l->user.id);
    snprintf(s->username, sizeof s->username, "%s", l->user.username);
    snprintf(s->device_id, sizeof s->device_id, "%s", l->device_id);
    s->role_mask = l->user.role_mask;
    s->staff = l->user.staff;
    s->mfa_required = fg_roles_mfa_required(iam->roles, l->user.role_mask);
    if (!l->user.staff) { /* customers (AUTH-3, AUTH-4): TOTP if enrolled, else a code */
        if (l->user.totp_enrolled) {
            s->mfa_required = 1;
        } else if (iam->customer_otp) {
            s->mfa_required = 1;
            s->mfa_otp = 1;
        }
    }
    s->must_change_password = l->user.must_change_password;
    s->access_ends_ms = l->user.expires_ms;
    return rc;
}

fg_rc fg_iam_login_check(struct fg_iam *iam, struct fg_login *l)
{
    int64_t now = fg_time_wall_ms();
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(iam->store, &conn);
    if (rc)
        return rc;
    rc = fg_user_load_by_name(conn, iam->roles, l->username, &l->user);
    fg_store_read_release(iam->store, conn);
    if (rc == FG_ERR_NOT_FOUND) {
        /* same cost, same answer as a wrong password; its result means nothing */
        fg_rc dummy = fg_password_verify_dummy(l->password, l->password_len);
        (void)dummy;
        l->result = FG_LOGIN_BAD;
        return FG_OK;
    }
    if (rc)
        return rc;
    l->known = 1;
    l->lockout = iam->lockout;
    int locked = 0;
    l->retry_at_ms = fg_user_next_attempt_ms(&l->user, &iam->lockout, now, &locked);
    fg_rc v = l->user.password_hash[0]
                  ? fg_password_verify(l->user.password_hash, l->password, l->password_len)
                  : fg_password_verify_dummy(l->password, l->password_len);
    if (l->user.password_hash[0] == '\0' && v == FG_OK)
        v = FG_ERR_UNAUTHENTICATED; /* no password set: nothing can match */
    if (locked) {
        l->result = FG_LOGIN_LOCKED; /* even the right password is refused */
    } else if (l->retry_at_ms > 0) {
        l->result = FG_LOGIN_THROTTLED;
    } else if (v != FG_OK || !l->user.active) {
        l->result = FG_LOGIN_BAD;
    } else if (l->user.expires_ms != 0 && now >= l->user.expires_ms) {
        l->result = FG_LOGIN_EXPIRED;
    } else {
        l->result = FG_LOGIN_OK;
        l->session_absolute_ms = fg_sessions_absolute_ms(iam->sessions);
        rc = mint_session(iam, l);
        if (rc == FG_OK)
            load_phrase(iam, l);
    }
    fg_wipe(l->password, l->password_len);
    return rc;
}

fg_rc fg_iam_login_intent(fg_conn *conn, void *arg)
{
    struct fg_login *l = arg;
    int64_t now = fg_time_wall_ms();
    if (!l->known)
        return FG_OK; /* nothing to update; the audit record still commits */
    if (l->result == FG_LOGIN_OK) {
        fg_rc rc = fg_user_login_succeeded(conn, l->user.id);
        struct fg_val p[] = {FG_VSTR(l->session.id),
                             FG_VSTR(l->user.id),
                             FG_VSTR(l->device_id),
                             FG_VBLOB(l->sealed_key, l->sealed_len),
                             FG_VSTR(l->source_ip),
                             FG_VINT(now),
                             FG_VINT(now + l->session_absolute_ms),
                             FG_VINT(l->session.mfa_required ? 0 : now)};
        if (rc == FG_OK)
            rc = fg_conn_exec(conn,
                              "INSERT INTO iam_sessions (id, user_id, device_id, session_key, "
                              "source_ip, created_ms, expires_ms, verified_ms) "
                              "VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                              p, 8, NULL, NULL, NULL);
        return rc;
    }
    if (l->result == FG_LOGIN_BAD || l->result == FG_LOGIN_EXPIRED)
        return fg_user_login_failed(conn, l->user.id, &l->lockout, now, &l->locked_now);
    return FG_OK; /* locked or throttled: no new failure counted, the record says so */
}

fg_rc fg_iam_login_publish(struct fg_iam *iam, struct fg_login *l)
{
    assert(l->result == FG_LOGIN_OK);
    return fg_sessions_add(iam->sessions, &l->session, l->key, fg_time_wall_ms());
}

void fg_iam_login_otp_binding(const char *session_id, char out[FG_IAM_OTP_BINDING_SIZE])
{
    snprintf(out, FG_IAM_OTP_BINDING_SIZE, "session=%.16s", session_id);
}

/* ---- the first administrator ------------------------------------------------------------ */

fg_rc fg_iam_otp_password(struct fg_iam *iam, const char *username,
                          char out[FG_IAM_OTP_PASSWORD_LEN + 1])
{
    /* unambiguous alphabet (no 0/O, 1/l/I) so it can be read out and typed */
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    struct fg_password_context who = {.username = username};
    for (int attempt = 0; attempt < 32; attempt++) {
        uint8_t raw[FG_IAM_OTP_PASSWORD_LEN];
        fg_rc rc = fg_random(raw, sizeof raw);
        if (rc)
            return rc;
        for (size_t i = 0; i < sizeof raw; i++) /* 256 % 56 bias is negligible here */
            out[i] = alphabet[raw[i] % (sizeof alphabet - 1)];
        out[FG_IAM_OTP_PASSWORD_LEN] = '\0';
        fg_wipe(raw, sizeof raw);
        const char *reason = NULL;
        if (fg_password_check(iam->passwords, out, FG_IAM_OTP_PASSWORD_LEN, &who, &reason) == FG_OK)
            return FG_OK;
    }
    fg_wipe(out, FG_IAM_OTP_PASSWORD_LEN + 1);
    return FG_ERR_INTERNAL;
}

fg_rc fg_iam_first_admin_insert(fg_conn *conn, const char *password_hash,
                                char id_out[FG_USER_ID_MAX + 1])
{
    static const char *const roles[] = {"security_admin"};
    struct fg_user_new u = {.username = FG_IAM_FIRST_ADMIN,
                            .staff = 1,
                            .password_hash = password_hash,
                            .must_change_password = 1,
                            .roles = roles,
                            .nroles = 1,
                            .contact = "",
                            .created_by = "system"};
    return fg_user_insert(conn, &u, id_out);
}
