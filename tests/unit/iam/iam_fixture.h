/*
 * iam_fixture.h — what the identity-service tests share (test_iam.c, test_activate.c): the
 * notify fixture's store and unsealed keyring (tests/unit/notify/notify_fixture.h), an
 * identity service on them (fg_iam_new: roles, password policy, hashing pool), and helpers
 * to add users, issue delivered codes and read a user back. Header-only (static inline).
 * A fake reserved-phone look-up stands in for ledger/customer.h: it knows one customer.
 */
#ifndef FG_TESTS_IAM_FIXTURE_H
#define FG_TESTS_IAM_FIXTURE_H

#include "../notify/notify_fixture.h"

#include "iam/activate.h"
#include "iam/iam.h"
#include "notify/otp.h"

#define IAM_FIXTURE_PHONE "+8613957208461"

struct iam_env {
    struct notify_env *e;
    struct fg_iam *iam;
};

/* The one customer whose phone the fake look-up knows (set by the test). */
static char iam_fixture_phone_user[FG_USER_ID_MAX + 1];

static inline fg_rc iam_fixture_phone_of(fg_conn *conn, fg_keys *k, const char *user_id, char *out,
                                         size_t cap)
{
    (void)conn;
    (void)k;
    if (strcmp(user_id, iam_fixture_phone_user) != 0)
        return FG_ERR_NOT_FOUND;
    if (cap < sizeof IAM_FIXTURE_PHONE)
        return FG_ERR_LIMIT;
    memcpy(out, IAM_FIXTURE_PHONE, sizeof IAM_FIXTURE_PHONE);
    return FG_OK;
}

static inline struct iam_env *iam_env_new(const char *name, const struct fg_config *cfg)
{
    struct iam_env *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->e = notify_env_new(name, FG_OUTBOX_SINK_FILE);
    struct fg_buf errors = FG_BUF_INIT(4096);
    fg_rc rc = fg_iam_new(cfg, t->e->store, t->e->k, &t->iam, &errors);
    if (rc)
        fail_msg("fg_iam_new: %s", fg_rc_name(rc));
    fg_buf_release(&errors);
    iam_fixture_phone_user[0] = '\0';
    return t;
}

static inline void iam_env_free(struct iam_env *t)
{
    fg_iam_free(t->iam);
    notify_env_free(t->e);
    free(t);
}

struct iam_insert_arg {
    struct fg_user_new u;
    char id[FG_USER_ID_MAX + 1];
};

static inline fg_rc iam_insert_intent(fg_conn *conn, void *arg)
{
    struct iam_insert_arg *a = arg;
    return fg_user_insert(conn, &a->u, a->id);
}

/* A user with one role; staff users get a (useless) hash, customers none, as a teller's
 * registration leaves them. */
static inline void iam_add_user(struct iam_env *t, const char *name, const char *role,
                                char id[FG_USER_ID_MAX + 1])
{
    int staff = strcmp(role, "customer") != 0;
    const char *roles[] = {role};
    struct iam_insert_arg a = {.u = {.username = name,
                                     .staff = staff,
                                     .password_hash = staff ? "x" : NULL,
                                     .roles = roles,
                                     .nroles = 1,
                                     .created_by = "test"}};
    assert_int_equal(fg_store_write(t->e->store, iam_insert_intent, &a), FG_OK);
    snprintf(id, FG_USER_ID_MAX + 1, "%s", a.id);
}

struct iam_issue_arg {
    fg_keys *k;
    struct fg_otp_policy policy;
    const char *subject, *purpose, *binding;
    char code[FG_OTP_CODE_SIZE];
};

static inline fg_rc iam_issue_intent(fg_conn *conn, void *arg)
{
    struct iam_issue_arg *a = arg;
    return fg_otp_issue(conn, a->k, &a->policy, a->subject, a->purpose, a->binding, a->code, NULL);
}

/* The activation code as the customers module issues it: 72 h, binding "". */
static inline void iam_issue_activation(struct iam_env *t, const char *user_id,
                                        char code[FG_OTP_CODE_SIZE])
{
    struct iam_issue_arg a = {.k = t->e->k,
                              .policy = fg_otp_policy_default,
                              .subject = user_id,
                              .purpose = FG_IAM_OTP_ACTIVATION,
                              .binding = ""};
    a.policy.ttl_ms = 72LL * 3600 * 1000;
    assert_int_equal(fg_store_write(t->e->store, iam_issue_intent, &a), FG_OK);
    memcpy(code, a.code, FG_OTP_CODE_SIZE);
}

static inline void iam_load(struct iam_env *t, const char *id, struct fg_user *u)
{
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(t->e->store, &c), FG_OK);
    assert_int_equal(fg_user_load(c, t->iam->roles, id, u), FG_OK);
    fg_store_read_release(t->e->store, c);
}

/* Run SQL with one bound text parameter as a write intent. */
struct iam_sql_arg {
    const char *sql, *param;
};

static inline fg_rc iam_sql_intent(fg_conn *conn, void *arg)
{
    struct iam_sql_arg *a = arg;
    struct fg_val p[] = {FG_VSTR(a->param)};
    return fg_conn_exec(conn, a->sql, p, 1, NULL, NULL, NULL);
}

static inline void iam_sql(struct iam_env *t, const char *sql, const char *param)
{
    struct iam_sql_arg a = {sql, param};
    assert_int_equal(fg_store_write(t->e->store, iam_sql_intent, &a), FG_OK);
}

#endif
