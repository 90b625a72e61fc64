/* Unit tests for iam/users.c on a real store: insert, load, lockout bookkeeping (AUTH-2),
 * password history (AUTH-1), approver counting, device first seen (AUTH-10). */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "crypto/crypto.h"
#include "iam/users.h"

struct fixture {
    char dir[256];
    fg_store *store;
    struct fg_roles *roles;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    fg_test_tmpdir("users", f.dir, sizeof f.dir);
    char db[512];
    snprintf(db, sizeof db, "%s/u.db", f.dir);
    struct fg_store_options o = {.path = db};
    assert_int_equal(fg_store_open(&o, &f.store), FG_OK);
    struct fg_buf errors = FG_BUF_INIT(4096);
    assert_int_equal(fg_roles_load_default(&f.roles, &errors), FG_OK);
    fg_buf_release(&errors);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fg_store_close(f->store);
    fg_roles_free(f->roles);
    fg_time_set_offset_s(0);
    fg_test_rmtree(f->dir);
    return 0;
}

struct insert_arg {
    struct fg_user_new u;
    char id[FG_USER_ID_MAX + 1];
};

static fg_rc insert_intent(fg_conn *conn, void *arg)
{
    struct insert_arg *a = arg;
    return fg_user_insert(conn, &a->u, a->id);
}

static void add_user(struct fixture *f, const char *name, const char *role,
                     char id[FG_USER_ID_MAX + 1])
{
    const char *roles[] = {role};
    struct insert_arg a = {.u = {.username = name,
                                 .staff = 1,
                                 .password_hash = "x",
                                 .roles = roles,
                                 .nroles = 1,
                                 .created_by = "test"}};
    assert_int_equal(fg_store_write(f->store, insert_intent, &a), FG_OK);
    snprintf(id, FG_USER_ID_MAX + 1, "%s", a.id);
}

static void load(struct fixture *f, const char *id, struct fg_user *u)
{
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(f->store, &c), FG_OK);
    assert_int_equal(fg_user_load(c, f->roles, id, u), FG_OK);
    fg_store_read_release(f->store, c);
}

struct fail_arg {
    const char *id;
    struct fg_lockout_policy p;
    int64_t now;
    int locked;
};

static fg_rc fail_intent(fg_conn *conn, void *arg)
{
    struct fail_arg *a = arg;
    return fg_user_login_failed(conn, a->id, &a->p, a->now, &a->locked);
}

static void test_insert_load_and_ids(void **state)
{
    struct fixture *f = *state;
    char id[FG_USER_ID_MAX + 1];
    add_user(f, "alice", "teller", id);
    /* ids: 'u' + 24 letters, never digit runs (the card-number guards would trip on them) */
    assert_int_equal(strlen(id), 25);
    for (size_t i = 0; id[i]; i++)
        assert_true(id[i] >= 'a' && id[i] <= 'z');
    struct fg_user u;
    load(f, id, &u);
    assert_string_equal(u.username, "alice");
    int teller;
    assert_int_equal(fg_roles_role_id(f->roles, "teller", &teller), FG_OK);
    assert_int_equal(u.role_mask, 1u << teller);
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(f->store, &c), FG_OK);
    assert_int_equal(fg_user_load_by_name(c, f->roles, "alice", &u), FG_OK);
    /* names are lower case by rule: "ALICE" is not a name, so it names nobody */
    assert_int_equal(fg_user_load_by_name(c, f->roles, "ALICE", &u), FG_ERR_NOT_FOUND);
    assert_int_equal(fg_user_load_by_name(c, f->roles, "nobody", &u), FG_ERR_NOT_FOUND);
    assert_int_equal(fg_user_load_by_name(c, f->roles, "bad name!", &u), FG_ERR_NOT_FOUND);
    fg_store_read_release(f->store, c);
    const char *roles[] = {"teller"};
    struct insert_arg a = {
        .u = {.username = "alice", .staff = 1, .roles = roles, .nroles = 1, .created_by = "t"}};
    assert_int_equal(fg_store_write(f->store, insert_intent, &a), FG_ERR_CONFLICT);
    assert_false(fg_username_valid("ab"));
    assert_false(fg_username_valid("Upper"));
    assert_true(fg_username_valid("a.b-c_1"));
}

static void test_lockout_and_throttle(void **state)
{
    struct fixture *f = *state;
    char id[FG_USER_ID_MAX + 1];
    add_user(f, "bob", "teller", id);
    struct fail_arg a = {.id = id, .now = 1000000};
    fg_lockout_policy_defaults(&a.p);
    struct fg_user u;
    int locked;
    for (int i = 1; i <= 4; i++) {
        a.now += 60000;
        assert_int_equal(fg_store_write(f->store, fail_intent, &a), FG_OK);
        assert_false(a.locked);
        load(f, id, &u);
        assert_int_equal(u.failed_count, i);
        int64_t next = fg_user_next_attempt_ms(&u, &a.p, a.now, &locked);
        assert_false(locked);
        if (i < 3)
            assert_int_equal(next, 0);
        else /* from the 3rd failure: 1 s, then 2 s */
            assert_int_equal(next, a.now + (1000LL << (i - 3)));
    }
    a.now += 60000;
    assert_int_equal(fg_store_write(f->store, fail_intent, &a), FG_OK); /* 5th: locks */
    assert_true(a.locked);
    load(f, id, &u);
    assert_int_equal(u.locked_until_ms, a.now + 30 * 60 * 1000);
    assert_int_equal(fg_user_next_attempt_ms(&u, &a.p, a.now + 29 * 60 * 1000, &locked),
                     u.locked_until_ms);
    assert_true(locked);
    assert_int_equal(fg_user_next_attempt_ms(&u, &a.p, u.locked_until_ms, &locked), 0);
    assert_false(locked);
}

static void test_next_day_mode(void **state)
{
    struct fixture *f = *state;
    char id[FG_USER_ID_MAX + 1];
    add_user(f, "carol", "teller", id);
    const int64_t day = 24LL * 3600 * 1000;
    struct fail_arg a = {.id = id, .now = 100 * day + 5 * 3600 * 1000}; /* 05:00 UTC */
    fg_lockout_policy_defaults(&a.p);
    a.p.next_day = 1;
    for (int i = 0; i < 5; i++)
        assert_int_equal(fg_store_write(f->store, fail_intent, &a), FG_OK);
    struct fg_user u;
    load(f, id, &u);
    assert_int_equal(u.locked_until_ms, 101 * day); /* the next UTC midnight */
}

struct pw_arg {
    const char *id;
    char hash[FG_PWHASH_STR_MAX];
    int64_t now;
};

static fg_rc pw_intent(fg_conn *conn, void *arg)
{
    struct pw_arg *a = arg;
    return fg_user_set_password(conn, a->id, a->hash, a->now);
}

static void test_password_history_is_trimmed(void **state)
{
    struct fixture *f = *state;
    char id[FG_USER_ID_MAX + 1];
    add_user(f, "dave", "teller", id); /* starts with hash "x" */
    for (int i = 1; i <= 6; i++) {
        struct pw_arg a = {.id = id, .now = 1000 + i};
        snprintf(a.hash, sizeof a.hash, "h%d", i);
        assert_int_equal(fg_store_write(f->store, pw_intent, &a), FG_OK);
    }
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(f->store, &c), FG_OK);
    char hist[FG_PASSWORD_HISTORY_KEEP][FG_PWHASH_STR_MAX];
    size_t n = 0;
    assert_int_equal(fg_user_password_history(c, id, hist, &n), FG_OK);
    fg_store_read_release(f->store, c);
    assert_int_equal(n, FG_PASSWORD_HISTORY_KEEP); /* the previous 4: h5, h4, h3, h2 */
    assert_string_equal(hist[0], "h5");
    assert_string_equal(hist[3], "h2");
    struct fg_user u;
    load(f, id, &u);
    assert_string_equal(u.password_hash, "h6");
    assert_int_equal(u.must_change_password, 0);
}

static void test_count_distinct_approvers(void **state)
{
    struct fixture *f = *state;
    char id[FG_USER_ID_MAX + 1];
    add_user(f, "admin1", "security_admin", id);
    add_user(f, "teller1", "teller", id);
    int sa, su;
    assert_int_equal(fg_roles_role_id(f->roles, "security_admin", &sa), FG_OK);
    assert_int_equal(fg_roles_role_id(f->roles, "supervisor", &su), FG_OK);
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(f->store, &c), FG_OK);
    int64_t n = -1;
    assert_int_equal(fg_user_count_with_roles(c, f->roles, (1u << sa) | (1u << su), &n), FG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(fg_user_count_with_roles(c, f->roles, 0, &n), FG_OK);
    assert_int_equal(n, 0);
    fg_store_read_release(f->store, c);
}

/* ---- device binding (AUTH-10) ------------------------------------------------------------- */

struct session_arg {
    const char *id, *user_id, *device_id;
    int64_t created_ms;
    int64_t verified_ms; /* 0: the second factor was never completed */
};

static fg_rc session_intent(fg_conn *conn, void *arg)
{
    struct session_arg *a = arg;
    static const uint8_t key[4] = {1, 2, 3, 4};
    struct fg_val p[] = {FG_VSTR(a->id),         FG_VSTR(a->user_id),
                         FG_VSTR(a->device_id),  FG_VBLOB(key, sizeof key),
                         FG_VINT(a->created_ms), FG_VINT(a->verified_ms)};
    return fg_conn_exec(conn,
                        "INSERT INTO iam_sessions (id, user_id, device_id, session_key, "
                        "source_ip, created_ms, expires_ms, verified_ms) VALUES (?1, ?2, ?3, ?4, "
                        "'127.0.0.1', ?5, ?5 + 43200000, ?6)",
                        p, 6, NULL, NULL, NULL);
}

static void add_session(struct fixture *f, const char *id, const char *user_id,
                        const char *device_id, int64_t created_ms)
{
    struct session_arg a = {id, user_id, device_id, created_ms, created_ms + 1};
    assert_int_equal(fg_store_write(f->store, session_intent, &a), FG_OK);
}

static void seen(struct fixture *f, const char *user_id, const char *device_id, int64_t want_ms,
                 int want_first)
{
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(f->store, &c), FG_OK);
    int64_t first_ms = -1;
    int is_first = -1;
    assert_int_equal(fg_iam_device_first_seen(c, user_id, device_id, &first_ms, &is_first), FG_OK);
    fg_store_read_release(f->store, c);
    assert_int_equal(first_ms, want_ms);
    assert_int_equal(is_first, want_first);
}

static void test_device_first_seen(void **state)
{
    struct fixture *f = *state;
    char u1[FG_USER_ID_MAX + 1], u2[FG_USER_ID_MAX + 1];
    add_user(f, "erin", "teller", u1);
    add_user(f, "frank", "teller", u2);
    /* no session at all: never seen; the first device used will be the bound one */
    seen(f, u1, "phone-a", 0, 1);
    add_session(f, "s1", u1, "phone-a", 5000);
    seen(f, u1, "phone-a", 5000, 1);
    seen(f, u1, "phone-b", 0, 0); /* never seen, and another device came first */
    /* a later device: first seen at its own earliest session, never the bound one; a later
     * session on the bound device changes nothing */
    add_session(f, "s2", u1, "phone-b", 9000);
    add_session(f, "s3", u1, "phone-b", 7000);
    add_session(f, "s4", u1, "phone-a", 12000);
    seen(f, u1, "phone-b", 7000, 0);
    seen(f, u1, "phone-a", 5000, 1);
    /* device ids compare exactly (case too) */
    seen(f, u1, "PHONE-A", 0, 0);
    /* another user's sessions count for that user only, even on the same device id */
    add_session(f, "s5", u2, "phone-b", 1000);
    seen(f, u2, "phone-b", 1000, 1);
    seen(f, u2, "phone-a", 0, 0);
    seen(f, u1, "phone-b", 7000, 0);
    /* the same millisecond on two devices: the session recorded first wins */
    char u3[FG_USER_ID_MAX + 1];
    add_user(f, "gina", "teller", u3);
    add_session(f, "s6", u3, "tablet", 3000);
    add_session(f, "s7", u3, "laptop", 3000);
    seen(f, u3, "tablet", 3000, 1);
    seen(f, u3, "laptop", 3000, 0);
    /* a session that never completed its second factor makes no device seen, and never the
     * bound one: a password alone (stolen) must not plant a device (AUTH-10) */
    char u4[FG_USER_ID_MAX + 1];
    add_user(f, "hugo", "teller", u4);
    struct session_arg unverified = {"s8", u4, "attacker", 1000, 0};
    assert_int_equal(fg_store_write(f->store, session_intent, &unverified), FG_OK);
    seen(f, u4, "attacker", 0, 1); /* no verified session at all yet: nothing is bound */
    add_session(f, "s9", u4, "own-phone", 2000);
    seen(f, u4, "own-phone", 2000, 1);
    seen(f, u4, "attacker", 0, 0);
}

struct reset_arg {
    const char *id;
    int64_t now;
};

static fg_rc reset_intent(fg_conn *conn, void *arg)
{
    struct reset_arg *a = arg;
    return fg_user_reset_customer(conn, a->id, a->now);
}

/* AUTH-2 identity-verified reset: no password, no lock, no TOTP; the password joins the
 * history; staff logins are not customers and are refused */
static void test_reset_customer(void **state)
{
    struct fixture *f = *state;
    const char *roles[] = {"customer"};
    struct insert_arg ins = {.u = {.username = "erik",
                                   .staff = 0,
                                   .password_hash = "cust-hash-1",
                                   .roles = roles,
                                   .nroles = 1,
                                   .created_by = "test"}};
    assert_int_equal(fg_store_write(f->store, insert_intent, &ins), FG_OK);
    struct fail_arg fa = {.id = ins.id, .now = 5000};
    fg_lockout_policy_defaults(&fa.p);
    for (int i = 0; i < 5; i++)
        assert_int_equal(fg_store_write(f->store, fail_intent, &fa), FG_OK);
    struct fg_user u;
    load(f, ins.id, &u);
    assert_true(u.locked_until_ms > 0);
    struct reset_arg r = {.id = ins.id, .now = 6000};
    assert_int_equal(fg_store_write(f->store, reset_intent, &r), FG_OK);
    load(f, ins.id, &u);
    assert_string_equal(u.password_hash, "");
    assert_int_equal(u.failed_count, 0);
    assert_int_equal(u.locked_until_ms, 0);
    assert_false(u.totp_enrolled);
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(f->store, &c), FG_OK);
    char hist[FG_PASSWORD_HISTORY_KEEP][FG_PWHASH_STR_MAX];
    size_t n = 0;
    assert_int_equal(fg_user_password_history(c, ins.id, hist, &n), FG_OK);
    fg_store_read_release(f->store, c);
    assert_int_equal(n, 1);
    assert_string_equal(hist[0], "cust-hash-1");
    /* a second reset (no password now) adds nothing; a staff login is not reset */
    assert_int_equal(fg_store_write(f->store, reset_intent, &r), FG_OK);
    char staff[FG_USER_ID_MAX + 1];
    add_user(f, "fiona", "teller", staff);
    struct reset_arg rs = {.id = staff, .now = 7000};
    assert_int_equal(fg_store_write(f->store, reset_intent, &rs), FG_ERR_NOT_FOUND);
    load(f, staff, &u);
    assert_string_equal(u.password_hash, "x");
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_insert_load_and_ids),
        T(test_lockout_and_throttle),
        T(test_next_day_mode),
        T(test_password_history_is_trimmed),
        T(test_count_distinct_approvers),
        T(test_device_first_seen),
        T(test_reset_customer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
