/*
 * fault.c — a fault-injecting wrapper around any store backend (see fault.h).
 *
 * There is one wrapper per process: a static struct holding the returned ops, the inner
 * ops they forward to, and the plan. Connections are the inner backend's connections with
 * their fg_conn header re-pointed at the wrapper's ops, so statements an intent runs
 * through fg_conn_exec(conn, ...) pass the wrapper too; the inner backend never reads that
 * header, and the wrapper needs no per-connection state of its own. Every
 * forwarded call first goes through fault_check() which, under one mutex, counts the
 * call under its kind and under FG_FAULT_ANY and decides whether this call fails: either
 * it is the planned n-th call (the plan then disarms itself), or the disk is "full" and
 * the call would write. A failing call never reaches the inner backend — as SQLite rolls
 * back a statement that hit SQLITE_FULL, nothing of it happens. Which SQL writes is
 * judged from its first keyword: SELECT/VALUES/EXPLAIN and a PRAGMA without "=" read;
 * everything else (INSERT, CREATE, a PRAGMA assignment, WITH ...) counts as a write.
 * errmsg() reports an injected failure on the thread that saw it, else the inner message.
 */
#include "store/fault.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FAULT_KINDS (FG_FAULT_ROLLBACK + 1)

struct fault_wrapper {
    struct fg_store_ops ops;
    const struct fg_store_ops *inner;
    char name[64];
    pthread_mutex_t mu;
    unsigned long calls[FAULT_KINDS];
    int armed;                  /* a fail_nth plan is pending */
    enum fg_fault_call plan_kind;
    unsigned long plan_at;      /* fail when calls[plan_kind] reaches this */
    fg_rc plan_rc;
    int disk_full;
};

static struct fault_wrapper wrapper = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The injected failure of this thread's last call (NULL = none), for errmsg(). */
static _Thread_local const char *thread_injected;

static const char *kind_name(enum fg_fault_call kind)
{
    static const char *const names[FAULT_KINDS] = {
        "injected fault (any)",      "injected fault (open)",
        "injected fault (exec)",     "injected fault (begin)",
        "injected fault (commit)",   "injected fault (savepoint)",
        "injected fault (release)",  "injected fault (rollback)"};
    assert((unsigned)kind < FAULT_KINDS);
    return names[kind];
}

/* Skip blanks and SQL comments; return the first keyword's start. */
static const char *first_keyword(const char *sql)
{
    for (;;) {
        while (*sql && isspace((unsigned char)*sql))
            sql++;
        if (sql[0] == '-' && sql[1] == '-') {
            while (*sql && *sql != '\n')
                sql++;
        } else if (sql[0] == '/' && sql[1] == '*') {
            const char *end = strstr(sql + 2, "*/");
            sql = end ? end + 2 : sql + strlen(sql);
        } else {
            return sql;
        }
    }
}

static int keyword_is(const char *p, const char *kw)
{
    size_t n = strlen(kw);
    return strncasecmp(p, kw, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '_';
}

static int sql_writes(const char *sql)
{
    const char *p = first_keyword(sql);
    if (keyword_is(p, "SELECT") || keyword_is(p, "VALUES") || keyword_is(p, "EXPLAIN"))
        return 0;
    if (keyword_is(p, "PRAGMA")) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        return memchr(p, '=', len) != NULL;
    }
    return 1;
}

/* Count a call of `kind`; return the error it must fail with, or FG_OK to forward it. */
static fg_rc fault_check(enum fg_fault_call kind, int writes)
{
    assert(kind > FG_FAULT_ANY && (unsigned)kind < FAULT_KINDS);
    fg_rc rc = FG_OK;
    pthread_mutex_lock(&wrapper.mu);
    wrapper.calls[kind]++;
    wrapper.calls[FG_FAULT_ANY]++;
    if (wrapper.armed && wrapper.calls[wrapper.plan_kind] == wrapper.plan_at &&
        (wrapper.plan_kind == kind || wrapper.plan_kind == FG_FAULT_ANY)) {
        wrapper.armed = 0;
        rc = wrapper.plan_rc;
    } else if (wrapper.disk_full && writes) {
        rc = FG_ERR_DISK_FULL;
    }
    pthread_mutex_unlock(&wrapper.mu);
    thread_injected = rc != FG_OK ? kind_name(kind) : NULL;
    return rc;
}

static fg_rc fault_open(const struct fg_store_ops *self, const char *target, int readonly,
                        fg_conn **out)
{
    assert(self == &wrapper.ops && wrapper.inner != NULL);
    fg_rc rc = fault_check(FG_FAULT_OPEN, 0);
    if (rc != FG_OK) {
        *out = NULL;
        return rc;
    }
    rc = wrapper.inner->open(wrapper.inner, target, readonly, out);
    if (rc == FG_OK)
        (*out)->ops = &wrapper.ops; /* fg_conn_exec() on this conn comes through here */
    return rc;
}

static void fault_close(fg_conn *conn)
{
    wrapper.inner->close(conn);
}

static fg_rc fault_exec(fg_conn *conn, const char *sql, const struct fg_val *params,
                        int nparams, fg_row_fn row, void *row_ctx, int64_t *changes)
{
    assert(sql != NULL);
    fg_rc rc = fault_check(FG_FAULT_EXEC, sql_writes(sql));
    return rc != FG_OK ? rc
                       : wrapper.inner->exec(conn, sql, params, nparams, row, row_ctx, changes);
}

static fg_rc fault_exec_script(fg_conn *conn, const char *sql)
{
    assert(sql != NULL);
    fg_rc rc = fault_check(FG_FAULT_EXEC, sql_writes(sql));
    return rc != FG_OK ? rc : wrapper.inner->exec_script(conn, sql);
}

static fg_rc fault_begin(fg_conn *conn)
{
    fg_rc rc = fault_check(FG_FAULT_BEGIN, 0);
    return rc != FG_OK ? rc : wrapper.inner->begin(conn);
}

static fg_rc fault_commit(fg_conn *conn)
{
    fg_rc rc = fault_check(FG_FAULT_COMMIT, 1);
    return rc != FG_OK ? rc : wrapper.inner->commit(conn);
}

static fg_rc fault_rollback(fg_conn *conn)
{
    fg_rc rc = fault_check(FG_FAULT_ROLLBACK, 0);
    return rc != FG_OK ? rc : wrapper.inner->rollback(conn);
}

static fg_rc fault_savepoint(fg_conn *conn)
{
    fg_rc rc = fault_check(FG_FAULT_SAVEPOINT, 0);
    return rc != FG_OK ? rc : wrapper.inner->savepoint(conn);
}

static fg_rc fault_release(fg_conn *conn)
{
    fg_rc rc = fault_check(FG_FAULT_RELEASE, 0);
    return rc != FG_OK ? rc : wrapper.inner->release(conn);
}

/* A rollback to the intent's savepoint counts as a ROLLBACK call. */
static fg_rc fault_rollback_to(fg_conn *conn)
{
    fg_rc rc = fault_check(FG_FAULT_ROLLBACK, 0);
    return rc != FG_OK ? rc : wrapper.inner->rollback_to(conn);
}

static int64_t fault_last_insert_id(fg_conn *conn)
{
    return wrapper.inner->last_insert_id(conn);
}

static const char *fault_errmsg(fg_conn *conn)
{
    if (thread_injected != NULL)
        return thread_injected; /* "injected fault (commit)", ... */
    return wrapper.inner->errmsg(conn);
}

const struct fg_store_ops *fg_store_fault_ops(const struct fg_store_ops *inner)
{
    assert(inner != NULL && inner != &wrapper.ops);
    assert(inner->version == FG_STORE_OPS_VERSION);
    wrapper.inner = inner;
    snprintf(wrapper.name, sizeof wrapper.name, "fault(%s)", inner->name);
    wrapper.ops = (struct fg_store_ops){
        .version = FG_STORE_OPS_VERSION,
        .name = wrapper.name,
        .open = fault_open,
        .close = fault_close,
        .exec = fault_exec,
        .exec_script = fault_exec_script,
        .begin = fault_begin,
        .commit = fault_commit,
        .rollback = fault_rollback,
        .savepoint = fault_savepoint,
        .release = fault_release,
        .rollback_to = fault_rollback_to,
        .last_insert_id = fault_last_insert_id,
        .errmsg = fault_errmsg,
        .ctx = &wrapper,
    };
    return &wrapper.ops;
}

void fg_store_fault_fail_nth(enum fg_fault_call kind, unsigned long nth, fg_rc rc)
{
    assert((unsigned)kind < FAULT_KINDS);
    assert(nth >= 1 && rc != FG_OK);
    pthread_mutex_lock(&wrapper.mu);
    wrapper.armed = 1;
    wrapper.plan_kind = kind;
    wrapper.plan_at = wrapper.calls[kind] + nth;
    wrapper.plan_rc = rc;
    pthread_mutex_unlock(&wrapper.mu);
}

void fg_store_fault_disk_full(int on)
{
    pthread_mutex_lock(&wrapper.mu);
    wrapper.disk_full = on != 0;
    pthread_mutex_unlock(&wrapper.mu);
}

void fg_store_fault_clear(void)
{
    pthread_mutex_lock(&wrapper.mu);
    memset(wrapper.calls, 0, sizeof wrapper.calls);
    wrapper.armed = 0;
    wrapper.disk_full = 0;
    pthread_mutex_unlock(&wrapper.mu);
}

unsigned long fg_store_fault_calls(enum fg_fault_call kind)
{
    assert((unsigned)kind < FAULT_KINDS);
    pthread_mutex_lock(&wrapper.mu);
    unsigned long n = wrapper.calls[kind];
    pthread_mutex_unlock(&wrapper.mu);
    return n;
}
