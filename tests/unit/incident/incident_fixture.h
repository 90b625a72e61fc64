/*
 * incident_fixture.h — what the incident module's tests share: a fresh store in a temporary
 * directory, and a way to run a block as a write intent (a function pointer + ctx) or on a
 * read lease. Header-only (static inline) so each test stays one file.
 */
#ifndef FG_TESTS_INCIDENT_FIXTURE_H
#define FG_TESTS_INCIDENT_FIXTURE_H

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "store/store.h"

struct inc_env {
    char dir[256];
    char db[512];
    fg_store *store;
};

static inline struct inc_env *inc_env_new(const char *name)
{
    struct inc_env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(fg_crypto_init(), FG_OK);
    fg_test_tmpdir(name, e->dir, sizeof e->dir);
    snprintf(e->db, sizeof e->db, "%s/finguard.db", e->dir);
    struct fg_store_options so = {.path = e->db};
    assert_int_equal(fg_store_open(&so, &e->store), FG_OK);
    return e;
}

static inline void inc_env_free(struct inc_env *e)
{
    fg_store_close(e->store);
    fg_test_rmtree(e->dir);
    free(e);
}

/* Run fn(conn, ctx) as a write intent; its result. */
static inline fg_rc inc_write(struct inc_env *e, fg_intent_fn fn, void *ctx)
{
    return fg_store_write(e->store, fn, ctx);
}

/* Run fn(conn, ctx) on a read lease; its result. */
static inline fg_rc inc_read(struct inc_env *e, fg_intent_fn fn, void *ctx)
{
    fg_conn *c;
    fg_rc rc = fg_store_read_acquire(e->store, &c);
    if (rc)
        return rc;
    rc = fn(c, ctx);
    fg_store_read_release(e->store, c);
    return rc;
}

static inline fg_rc inc_count_cb(void *ctx, const struct fg_val *cols, int ncols)
{
    if (ncols >= 1 && cols[0].type == FG_VAL_INT)
        *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

struct inc_count {
    const char *sql;
    const char *arg; /* bound as ?1 when not NULL */
    int64_t n;
};

static inline fg_rc inc_count_fn(fg_conn *c, void *ctx)
{
    struct inc_count *q = ctx;
    struct fg_val p = q->arg ? FG_VSTR(q->arg) : FG_VNULL;
    return fg_conn_exec(c, q->sql, &p, q->arg ? 1 : 0, inc_count_cb, &q->n, NULL);
}

/* SELECT count(*) ... (one optional text parameter). */
static inline int64_t inc_count(struct inc_env *e, const char *sql, const char *arg)
{
    struct inc_count q = {sql, arg, -1};
    assert_int_equal(inc_read(e, inc_count_fn, &q), FG_OK);
    return q.n;
}

#endif
