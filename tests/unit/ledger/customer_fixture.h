/*
 * customer_fixture.h — what test_customer.c and test_card.c share: the ledger fixture's store
 * and unsealed keyring (ledger_fixture.h), the shipped field classification and role data,
 * the customer columns registered with protect/ (the registry cleared first), and helpers
 * that create logins and customers in write intents, make valid resident ID numbers and
 * card numbers, and count a byte string in the database file and its WAL.
 * Header-only (static inline).
 */
#ifndef FG_TESTS_CUSTOMER_FIXTURE_H
#define FG_TESTS_CUSTOMER_FIXTURE_H

#include "ledger_fixture.h"

#include "base/buf.h"
#include "iam/roles.h"
#include "iam/users.h"
#include "ledger/card.h"
#include "ledger/customer.h"
#include "protect/card.h"
#include "protect/fields.h"

struct cust_env {
    struct ledger_env *le;
    fg_store *store;
    fg_keys *k;
    struct fg_fields *f;
    struct fg_roles *roles;
};

static inline struct cust_env *cust_env_new(const char *name)
{
    struct cust_env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->le = ledger_env_new(name);
    e->store = e->le->store;
    e->k = e->le->k;
    assert_int_equal(fg_fields_load_default(&e->f), FG_OK);
    struct fg_buf errs = FG_BUF_INIT(4096);
    assert_int_equal(fg_roles_load_default(&e->roles, &errs), FG_OK);
    fg_buf_release(&errs);
    fg_protect_registry_clear();
    assert_int_equal(fg_customer_register_columns(), FG_OK);
    return e;
}

static inline void cust_env_free(struct cust_env *e)
{
    fg_protect_registry_clear();
    fg_fields_free(e->f);
    fg_roles_free(e->roles);
    ledger_env_free(e->le);
    free(e);
}

/* The role mask of one role by name. */
static inline uint32_t cust_role(struct cust_env *e, const char *role)
{
    int id = 0;
    assert_int_equal(fg_roles_role_id(e->roles, role, &id), FG_OK);
    return 1u << id;
}

/* ---- intents ----------------------------------------------------------------------------------
 */

struct cust_user_job {
    const char *username;
    int staff;
    const char *role;
    char id[FG_USER_ID_MAX + 1];
};

static inline fg_rc cust_user_intent(fg_conn *c, void *arg)
{
    struct cust_user_job *j = arg;
    const char *roles[1] = {j->role};
    const struct fg_user_new u = {.username = j->username,
                                  .staff = j->staff,
                                  .roles = roles,
                                  .nroles = 1,
                                  .created_by = "system"};
    return fg_user_insert(c, &u, j->id);
}

/* A login (customer or staff) named username; its id into id. */
static inline void cust_user(struct cust_env *e, const char *username, int staff,
                             char id[FG_USER_ID_MAX + 1])
{
    struct cust_user_job j = {
        .username = username, .staff = staff, .role = staff ? "teller" : "customer"};
    assert_int_equal(fg_store_write(e->store, cust_user_intent, &j), FG_OK);
    memcpy(id, j.id, FG_USER_ID_MAX + 1);
}

struct cust_create_job {
    struct cust_env *e;
    struct fg_customer_new in;
    const char *field, *why;
};

static inline fg_rc cust_create_intent(fg_conn *c, void *arg)
{
    struct cust_create_job *j = arg;
    return fg_customer_create(c, j->e->k, j->e->f, &j->in, 1700000000000LL, &j->field, &j->why);
}

/* Create a customer for login user_id; its id into id (may be NULL); *field (may be NULL)
 * the refused field. */
static inline fg_rc cust_create(struct cust_env *e, const char *user_id, const char *name,
                                const char *id_number, const char *phone, const char *email,
                                char id[FG_CUSTOMER_ID_SIZE], const char **field)
{
    char fresh[FG_CUSTOMER_ID_SIZE];
    assert_int_equal(fg_customer_new_id(FG_CUSTOMER_ID_PREFIX, fresh), FG_OK);
    struct cust_create_job j = {.e = e,
                                .in = {.id = fresh,
                                       .user_id = user_id,
                                       .name = name,
                                       .id_number = id_number,
                                       .phone = phone,
                                       .email = email,
                                       .created_by = "uteller"}};
    fg_rc rc = fg_store_write(e->store, cust_create_intent, &j);
    if (id != NULL)
        memcpy(id, fresh, FG_CUSTOMER_ID_SIZE);
    if (field != NULL)
        *field = j.field;
    return rc;
}

/* A new login and a customer for it in one go (asserted). */
static inline void cust_new(struct cust_env *e, const char *username, const char *id_number,
                            const char *phone, char id[FG_CUSTOMER_ID_SIZE],
                            char user_id[FG_USER_ID_MAX + 1])
{
    char uid[FG_USER_ID_MAX + 1];
    cust_user(e, username, 0, uid);
    assert_int_equal(cust_create(e, uid, "张三丰", id_number, phone, "alice@example.com", id, NULL),
                     FG_OK);
    if (user_id != NULL)
        memcpy(user_id, uid, sizeof uid);
}

/* Run raw SQL as a write intent (tampering, setup). */
static inline fg_rc cust_sql(struct cust_env *e, const char *sql)
{
    return env_sql(e->le, sql);
}

/* ---- values -----------------------------------------------------------------------------------
 */

/* A valid 18-character resident ID from 17 digits (ISO 7064 MOD 11-2). */
static inline void cust_id_number(const char *digits17, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (digits17[i] - '0') * w[i];
    memcpy(out, digits17, 17);
    out[17] = "10X98765432"[sum % 11];
    out[18] = '\0';
}

/* A Luhn-valid card number from its digits without the check digit. */
static inline void cust_pan(const char *payload, char out[FG_PAN_SIZE])
{
    size_t n = strlen(payload);
    assert_true(n + 1 <= FG_PAN_MAX);
    memcpy(out, payload, n);
    int d = fg_luhn_check_digit(payload, n);
    assert_true(d >= '0' && d <= '9');
    out[n] = (char)d;
    out[n + 1] = '\0';
}

/* Occurrences of s in the database file and its WAL. */
static inline long cust_db_count(struct cust_env *e, const char *s)
{
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", e->le->db);
    long a = fg_test_file_count(e->le->db, s, strlen(s));
    long b = fg_test_file_count(wal, s, strlen(s));
    assert_true(a >= 0);
    return a + (b > 0 ? b : 0);
}

static inline fg_rc cust_count_row(void *ctx, const struct fg_val *cols, int ncols)
{
    assert_int_equal(ncols, 1);
    *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

/* SELECT count(*) … (or any one integer) through a read lease. */
static inline int64_t cust_int(struct cust_env *e, const char *sql)
{
    fg_conn *c = env_read(e->le);
    int64_t n = -1;
    assert_int_equal(fg_conn_exec(c, sql, NULL, 0, cust_count_row, &n, NULL), FG_OK);
    fg_store_read_release(e->store, c);
    return n;
}

#endif
