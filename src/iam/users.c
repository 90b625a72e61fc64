/*
 * users.c — SQL for iam_users, iam_user_roles and iam_password_history. Every statement
 * is bound; row callbacks copy into caller structs with explicit bounds.
 */
#include "iam/users.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/encode.h"
#include "base/log.h"
#include "base/time.h"

void fg_lockout_policy_defaults(struct fg_lockout_policy *p)
{
    *p = (struct fg_lockout_policy){
        .max_failures = 5, .lock_ms = 30 * 60 * 1000, .next_day = 0, .delay_after = 3};
}

int fg_username_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < FG_USERNAME_MIN || n > FG_USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static void copy_text(char *dst, size_t cap, const struct fg_val *v)
{
    size_t n = v->type == FG_VAL_TEXT ? v->n : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, v->p, n);
    dst[n] = '\0';
}

struct load_ctx {
    struct fg_user *u;
    int found;
};

#define USER_COLUMNS                                                                               \
    "id, username, kind, status, coalesce(password_hash, ''), must_change_password, "              \
    "failed_count, last_failure_ms, locked_until_ms, totp_enrolled, totp_last_step, expires_ms"

static fg_rc user_row(void *ctx, const struct fg_val *c, int n)
{
    struct load_ctx *l = ctx;
    if (n != 12)
        return FG_ERR_CORRUPT;
    struct fg_user *u = l->u;
    copy_text(u->id, sizeof u->id, &c[0]);
    copy_text(u->username, sizeof u->username, &c[1]);
    u->staff = c[2].type == FG_VAL_TEXT && c[2].n == 5 && memcmp(c[2].p, "staff", 5) == 0;
    u->active = c[3].type == FG_VAL_TEXT && c[3].n == 6 && memcmp(c[3].p, "active", 6) == 0;
    copy_text(u->password_hash, sizeof u->password_hash, &c[4]);
    u->must_change_password = (int)c[5].i;
    u->failed_count = (int)c[6].i;
    u->last_failure_ms = c[7].i;
    u->locked_until_ms = c[8].i;
    u->totp_enrolled = (int)c[9].i;
    u->totp_last_step = c[10].i;
    u->expires_ms = c[11].i;
    l->found = 1;
    return FG_OK;
}

struct roles_ctx {
    const struct fg_roles *roles;
    uint32_t mask;
};

static fg_rc role_row(void *ctx, const struct fg_val *c, int n)
{
    struct roles_ctx *r = ctx;
    if (n != 1 || c[0].type != FG_VAL_TEXT)
        return FG_ERR_CORRUPT;
    char name[64];
    copy_text(name, sizeof name, &c[0]);
    int id;
    if (fg_roles_role_id(r->roles, name, &id) == FG_OK)
        r->mask |= 1u << id;
    else
        fg_log(FG_LOG_WARN, "iam.unknown_role", FG_LF_STR("role", name));
    return FG_OK;
}

static fg_rc load_where(fg_conn *conn, const struct fg_roles *roles, const char *sql,
                        const char *key, struct fg_user *out)
{
    memset(out, 0, sizeof *out);
    struct load_ctx l = {.u = out};
    struct fg_val p[] = {FG_VSTR(key)};
    fg_rc rc = fg_conn_exec(conn, sql, p, 1, user_row, &l, NULL);
    if (rc)
        return rc;
    if (!l.found)
        return FG_ERR_NOT_FOUND;
    struct roles_ctx r = {.roles = roles};
    struct fg_val q[] = {FG_VSTR(out->id)};
    rc = fg_conn_exec(conn, "SELECT role FROM iam_user_roles WHERE user_id = ?1", q, 1, role_row,
                      &r, NULL);
    out->role_mask = r.mask;
    return rc;
}

fg_rc fg_user_load_by_name(fg_conn *conn, const struct fg_roles *roles, const char *username,
                           struct fg_user *out)
{
    if (!fg_username_valid(username))
        return FG_ERR_NOT_FOUND;
    return load_where(conn, roles, "SELECT " USER_COLUMNS " FROM iam_users WHERE username = ?1",
                      username, out);
}

fg_rc fg_user_load(fg_conn *conn, const struct fg_roles *roles, const char *id, struct fg_user *out)
{
    return load_where(conn, roles, "SELECT " USER_COLUMNS " FROM iam_users WHERE id = ?1", id, out);
}

fg_rc fg_user_insert(fg_conn *conn, const struct fg_user_new *u, char id_out[FG_USER_ID_MAX + 1])
{
    assert(conn != NULL && u != NULL && id_out != NULL);
    if (!fg_username_valid(u->username) || u->nroles < 0 || u->nroles > FG_USER_ROLES_MAX ||
        (u->contact && strlen(u->contact) > FG_USER_CONTACT_MAX))
        return FG_ERR_INVALID;
    /* 96 random bits as 24 letters a..p: ids never contain digit runs, which the audit and
     * approval guards would mistake for card or ID numbers (a hex id did, now and then) */
    uint8_t raw[12];
    fg_rc rc = fg_random(raw, sizeof raw);
    if (rc)
        return rc;
    id_out[0] = 'u';
    for (size_t i = 0; i < sizeof raw; i++) {
        id_out[1 + 2 * i] = (char)('a' + (raw[i] >> 4));
        id_out[2 + 2 * i] = (char)('a' + (raw[i] & 0x0f));
    }
    id_out[1 + 2 * sizeof raw] = '\0';
    fg_wipe(raw, sizeof raw);
    int64_t now = fg_time_wall_ms();
    struct fg_val p[] = {
        FG_VSTR(id_out),
        FG_VSTR(u->username),
        FG_VSTR(u->staff ? "staff" : "customer"),
        u->password_hash ? FG_VSTR(u->password_hash) : FG_VNULL,
        FG_VINT(u->must_change_password ? 1 : 0),
        FG_VSTR(u->contact ? u->contact : ""),
        FG_VINT(u->expires_ms),
        FG_VINT(now),
        FG_VSTR(u->created_by),
    };
    rc = fg_conn_exec(conn,
                      "INSERT INTO iam_users (id, username, kind, password_hash, "
                      "must_change_password, contact, expires_ms, created_ms, created_by) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                      p, 9, NULL, NULL, NULL);
    for (int i = 0; rc == FG_OK && i < u->nroles; i++) {
        struct fg_val r[] = {FG_VSTR(id_out), FG_VSTR(u->roles[i]), FG_VINT(now),
                             FG_VSTR(u->created_by)};
        rc = fg_conn_exec(conn,
                          "INSERT INTO iam_user_roles (user_id, role, granted_ms, granted_by) "
                          "VALUES (?1, ?2, ?3, ?4)",
                          r, 4, NULL, NULL, NULL);
    }
    return rc;
}

static int64_t next_utc_midnight_ms(int64_t now_ms)
{
    int64_t day = 24LL * 3600 * 1000;
    return (now_ms / day + 1) * day;
}

fg_rc fg_user_login_failed(fg_conn *conn, const char *id, const struct fg_lockout_policy *p,
                           int64_t now_ms, int *locked_now)
{
    struct fg_val q[] = {FG_VSTR(id), FG_VINT(now_ms)};
    fg_rc rc = fg_conn_exec(conn,
                            "UPDATE iam_users SET failed_count = failed_count + 1, "
                            "last_failure_ms = ?2 WHERE id = ?1",
                            q, 2, NULL, NULL, NULL);
    if (rc)
        return rc;
    int64_t until = p->next_day ? next_utc_midnight_ms(now_ms) : now_ms + p->lock_ms;
    struct fg_val l[] = {FG_VSTR(id), FG_VINT(until), FG_VINT(p->max_failures)};
    int64_t changed = 0;
    rc = fg_conn_exec(conn,
                      "UPDATE iam_users SET locked_until_ms = ?2, failed_count = 0 "
                      "WHERE id = ?1 AND failed_count >= ?3",
                      l, 3, NULL, NULL, &changed);
    if (locked_now)
        *locked_now = changed > 0;
    return rc;
}

fg_rc fg_user_login_succeeded(fg_conn *conn, const char *id)
{
    struct fg_val q[] = {FG_VSTR(id)};
    return fg_conn_exec(conn,
                        "UPDATE iam_users SET failed_count = 0, last_failure_ms = 0 WHERE id = ?1",
                        q, 1, NULL, NULL, NULL);
}

static fg_rc history_push(fg_conn *conn, const char *id, int64_t now_ms, const char *where);

fg_rc fg_user_reset_customer(fg_conn *conn, const char *id, int64_t now_ms)
{
    struct fg_val q[] = {FG_VSTR(id)};
    int64_t changed = 0;
    /* the password goes into the history first: it may not come back at re-activation */
    fg_rc rc = history_push(conn, id, now_ms, "kind = 'customer' AND status = 'active'");
    if (rc == FG_OK)
        rc = fg_conn_exec(conn,
                          "UPDATE iam_users SET password_hash = NULL, must_change_password = 0, "
                          "failed_count = 0, last_failure_ms = 0, locked_until_ms = 0, "
                          "totp_secret = NULL, totp_enrolled = 0, totp_last_step = 0 "
                          "WHERE id = ?1 AND kind = 'customer' AND status = 'active'",
                          q, 1, NULL, NULL, &changed);
    return rc == FG_OK && changed != 1 ? FG_ERR_NOT_FOUND : rc;
}

int64_t fg_user_next_attempt_ms(const struct fg_user *u, const struct fg_lockout_policy *p,
                                int64_t now_ms, int *locked)
{
    *locked = 0;
    if (u->locked_until_ms > now_ms) {
        *locked = 1;
        return u->locked_until_ms;
    }
    if (u->failed_count >= p->delay_after && u->last_failure_ms > 0) {
        int shift = u->failed_count - p->delay_after;
        if (shift > 10)
            shift = 10;
        int64_t wait_ms = 1000LL << shift; /* 1 s, 2 s, 4 s … */
        if (now_ms < u->last_failure_ms + wait_ms)
            return u->last_failure_ms + wait_ms;
    }
    return 0;
}

/* The user's current password (if any, and if `where` holds) into the history, trimmed to
 * the last FG_PASSWORD_HISTORY_KEEP. `where` is a constant SQL condition on iam_users. */
static fg_rc history_push(fg_conn *conn, const char *id, int64_t now_ms, const char *where)
{
    char sql[320];
    snprintf(sql, sizeof sql,
             "INSERT INTO iam_password_history (user_id, hash, created_ms) "
             "SELECT id, password_hash, ?2 FROM iam_users "
             "WHERE id = ?1 AND password_hash IS NOT NULL AND %s",
             where);
    struct fg_val p[] = {FG_VSTR(id), FG_VINT(now_ms)};
    fg_rc rc = fg_conn_exec(conn, sql, p, 2, NULL, NULL, NULL);
    struct fg_val t[] = {FG_VSTR(id), FG_VINT(FG_PASSWORD_HISTORY_KEEP)};
    if (rc == FG_OK)
        rc = fg_conn_exec(conn,
                          "DELETE FROM iam_password_history WHERE user_id = ?1 AND rowid NOT IN "
                          "(SELECT rowid FROM iam_password_history WHERE user_id = ?1 "
                          "ORDER BY created_ms DESC, rowid DESC LIMIT ?2)",
                          t, 2, NULL, NULL, NULL);
    return rc;
}

fg_rc fg_user_set_password(fg_conn *conn, const char *id, const char *new_hash, int64_t now_ms)
{
    /* the old hash joins the history before the new one replaces it (trimmed after) */
    fg_rc rc = history_push(conn, id, now_ms, "1");
    struct fg_val s[] = {FG_VSTR(id), FG_VSTR(new_hash)};
    if (rc == FG_OK)
        rc = fg_conn_exec(conn,
                          "UPDATE iam_users SET password_hash = ?2, must_change_password = 0 "
                          "WHERE id = ?1",
                          s, 2, NULL, NULL, NULL);
    return rc;
}

struct history_ctx {
    char (*out)[FG_PWHASH_STR_MAX];
    size_t n;
};

static fg_rc history_row(void *ctx, const struct fg_val *c, int n)
{
    struct history_ctx *h = ctx;
    if (n != 1 || h->n >= FG_PASSWORD_HISTORY_KEEP)
        return FG_ERR_CORRUPT;
    copy_text(h->out[h->n], FG_PWHASH_STR_MAX, &c[0]);
    h->n++;
    return FG_OK;
}

fg_rc fg_user_password_history(fg_conn *conn, const char *id, char out[][FG_PWHASH_STR_MAX],
                               size_t *n)
{
    struct history_ctx h = {.out = out};
    struct fg_val p[] = {FG_VSTR(id), FG_VINT(FG_PASSWORD_HISTORY_KEEP)};
    fg_rc rc = fg_conn_exec(conn,
                            "SELECT hash FROM iam_password_history WHERE user_id = ?1 "
                            "ORDER BY created_ms DESC, rowid DESC LIMIT ?2",
                            p, 2, history_row, &h, NULL);
    *n = h.n;
    return rc;
}

static fg_rc count_row(void *ctx, const struct fg_val *c, int n)
{
    (void)n;
    *(int64_t *)ctx = c[0].i;
    return FG_OK;
}

fg_rc fg_user_count_with_roles(fg_conn *conn, const struct fg_roles *roles, uint32_t mask,
                               int64_t *count)
{
    /* one statement with a bound IN list: users are counted once however many roles match */
    char sql[1024] = "SELECT count(DISTINCT u.id) FROM iam_users u JOIN iam_user_roles r "
                     "ON r.user_id = u.id WHERE u.status = 'active' AND r.role IN (";
    struct fg_val p[32];
    int n = 0;
    for (int id = 0; id < fg_roles_role_count(roles) && id < 32; id++) {
        if (!(mask & (1u << id)))
            continue;
        p[n] = FG_VSTR(fg_roles_role_name(roles, id));
        size_t used = strlen(sql);
        snprintf(sql + used, sizeof sql - used, "%s?%d", n ? ", " : "", n + 1);
        n++;
    }
    *count = 0;
    if (n == 0)
        return FG_OK;
    size_t used = strlen(sql);
    snprintf(sql + used, sizeof sql - used, ")");
    return fg_conn_exec(conn, sql, p, n, count_row, count, NULL);
}

struct first_device_ctx {
    const char *device_id;
    int found, same;
};

static fg_rc first_device_row(void *ctx, const struct fg_val *c, int n)
{
    struct first_device_ctx *f = ctx;
    if (n != 1 || c[0].type != FG_VAL_TEXT)
        return FG_ERR_CORRUPT;
    f->found = 1;
    f->same = strlen(f->device_id) == c[0].n && memcmp(f->device_id, c[0].p, c[0].n) == 0;
    return FG_OK;
}

fg_rc fg_iam_device_first_seen(fg_conn *conn, const char *user_id, const char *device_id,
                               int64_t *first_ms, int *is_first_device)
{
    assert(conn != NULL && user_id != NULL && device_id != NULL && first_ms != NULL &&
           is_first_device != NULL);
    *first_ms = 0;
    *is_first_device = 0;
    struct fg_val p[] = {FG_VSTR(user_id), FG_VSTR(device_id)};
    int64_t first = 0;
    fg_rc rc = fg_conn_exec(conn,
                            "SELECT coalesce(min(created_ms), 0) FROM iam_sessions "
                            "WHERE user_id = ?1 AND device_id = ?2 AND verified_ms > 0",
                            p, 2, count_row, &first, NULL);
    if (rc)
        return rc;
    struct first_device_ctx f = {.device_id = device_id};
    rc = fg_conn_exec(conn,
                      "SELECT device_id FROM iam_sessions WHERE user_id = ?1 "
                      "AND verified_ms > 0 ORDER BY created_ms, rowid LIMIT 1",
                      p, 1, first_device_row, &f, NULL);
    if (rc)
        return rc;
    *first_ms = first;
    *is_first_device = !f.found || f.same;
    return FG_OK;
}
