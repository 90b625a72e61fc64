/*
 * ledger_fixture.h — what the ledger tests share: a fresh data directory with a store, an
 * initialised (unsealed) keyring and the shipped limits, plus helpers that run ledger calls
 * as write intents (assertions stay on the test thread: an intent only records results),
 * read through a lease, and tamper with raw SQL. Header-only (static inline).
 */
#ifndef FG_TESTS_LEDGER_FIXTURE_H
#define FG_TESTS_LEDGER_FIXTURE_H

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "keys/keys.h"
#include "ledger/ledger.h"
#include "ledger/limits.h"
#include "protect/protect.h"
#include "store/store.h"

struct ledger_env {
    char dir[256];
    char db[512];
    fg_store *store;
    fg_keys *k;
    struct fg_limits *L;
    char shares[1][FG_KEYS_SHARE_TEXT_MAX];
};

static inline struct ledger_env *ledger_env_new(const char *name)
{
    struct ledger_env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(fg_crypto_init(), FG_OK);
    fg_test_tmpdir(name, e->dir, sizeof e->dir);
    snprintf(e->db, sizeof e->db, "%s/finguard.db", e->dir);
    struct fg_store_options so = {.path = e->db};
    assert_int_equal(fg_store_open(&so, &e->store), FG_OK);
    assert_int_equal(fg_keys_new(e->store, &e->k), FG_OK);
    const char *problem = NULL;
    assert_int_equal(fg_keys_init(e->k, FG_SUITE_INTL, 1, 1, e->shares, &problem), FG_OK);
    assert_int_equal(fg_limits_load_default(&e->L), FG_OK);
    return e;
}

static inline void ledger_env_free(struct ledger_env *e)
{
    fg_keys_free(e->k);
    fg_store_close(e->store);
    fg_limits_free(e->L);
    fg_wipe(e->shares, sizeof e->shares);
    fg_test_rmtree(e->dir);
    free(e);
}

/* ---- one intent per call ------------------------------------------------------------------ */

enum ledger_op {
    OP_OPEN = 1,
    OP_CASH,
    OP_POST,
    OP_STATUS,
    OP_LIMITS,
    OP_TRF_INSERT,
    OP_TRF_COMMIT,
    OP_IDEM_PUT,
    OP_SQL,
};

struct ledger_call {
    enum ledger_op op;
    struct ledger_env *e;
    const char *a, *b, *c, *d, *f, *g, *h; /* op-specific strings */
    int64_t n1, n2, now;
    int status;
    const uint8_t *hash;
    struct fg_ledger_move move;
    fg_keys *keys;
    /* results */
    char id[FG_LEDGER_ID_SIZE];
    const char *why, *field;
};

static inline fg_rc ledger_call_fn(fg_conn *c, void *arg)
{
    struct ledger_call *x = arg;
    switch (x->op) {
    case OP_OPEN:
        return fg_ledger_account_open(c, x->e->L, x->a, x->b, "teller_1", x->now, x->id);
    case OP_CASH:
        return fg_ledger_cash_account(c, x->a, x->now, x->id);
    case OP_POST:
        return fg_ledger_post(c, x->keys, &x->move, x->id, &x->why, &x->field);
    case OP_STATUS:
        return fg_ledger_set_status(c, x->a, x->b, x->c, x->now);
    case OP_LIMITS:
        return fg_ledger_set_limits(c, x->a, x->n1, x->n2, x->now);
    case OP_TRF_INSERT:
        /* a id, b customer, c from, d to, f status, g journal, h device; n1 amount */
        return fg_ledger_transfer_insert(c, x->a, x->b, x->c, x->d, "CNY", x->n1, x->f, x->g, NULL,
                                         x->h, x->now);
    case OP_TRF_COMMIT:
        return fg_ledger_transfer_commit(c, x->a, x->b, x->now);
    case OP_IDEM_PUT:
        return fg_ledger_idem_put(c, x->a, x->b, x->hash, x->status, x->c, x->now);
    case OP_SQL:
        return fg_conn_exec(c, x->a, NULL, 0, NULL, NULL, NULL);
    }
    return FG_ERR_INTERNAL;
}

static inline fg_rc ledger_run(struct ledger_env *e, struct ledger_call *x)
{
    x->e = e;
    return fg_store_write(e->store, ledger_call_fn, x);
}

static inline fg_rc env_open(struct ledger_env *e, const char *customer, const char *cur,
                             char id[FG_LEDGER_ID_SIZE])
{
    struct ledger_call x = {.op = OP_OPEN, .a = customer, .b = cur, .now = 1000};
    fg_rc rc = ledger_run(e, &x);
    memcpy(id, x.id, FG_LEDGER_ID_SIZE);
    return rc;
}

static inline void env_cash(struct ledger_env *e, const char *cur, char id[FG_LEDGER_ID_SIZE])
{
    struct ledger_call x = {.op = OP_CASH, .a = cur, .now = 1000};
    assert_int_equal(ledger_run(e, &x), FG_OK);
    memcpy(id, x.id, FG_LEDGER_ID_SIZE);
}

/* Post a movement; why/field/journal id come back through x. */
static inline fg_rc env_post(struct ledger_env *e, struct ledger_call *x, const char *kind,
                             const char *from, const char *to, int64_t amount, const char *cur)
{
    x->op = OP_POST;
    x->keys = e->k;
    x->move.kind = kind;
    x->move.debit_account = from;
    x->move.credit_account = to;
    x->move.amount = amount;
    x->move.currency = cur;
    x->move.actor_id = "teller_1";
    if (x->move.now_ms == 0)
        x->move.now_ms = 5000;
    return ledger_run(e, x);
}

static inline fg_rc env_move(struct ledger_env *e, const char *kind, const char *from,
                             const char *to, int64_t amount, const char *cur)
{
    struct ledger_call x = {0};
    return env_post(e, &x, kind, from, to, amount, cur);
}

static inline fg_rc env_sql(struct ledger_env *e, const char *sql)
{
    struct ledger_call x = {.op = OP_SQL, .a = sql};
    return ledger_run(e, &x);
}

/* ---- reads ---------------------------------------------------------------------------------- */

static inline fg_conn *env_read(struct ledger_env *e)
{
    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->store, &c), FG_OK);
    return c;
}

static inline struct fg_ledger_account env_account(struct ledger_env *e, const char *id)
{
    fg_conn *c = env_read(e);
    struct fg_ledger_account a;
    assert_int_equal(fg_ledger_account_get(c, id, &a), FG_OK);
    fg_store_read_release(e->store, c);
    return a;
}

static inline struct fg_ledger_check_report env_check(struct ledger_env *e)
{
    struct fg_ledger_check_report r;
    assert_int_equal(fg_ledger_check_store(e->store, &r), FG_OK);
    return r;
}

#endif
