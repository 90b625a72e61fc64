/*
 * sqlite.c — the SQLite backend behind struct fg_store_ops.
 *
 * Each connection (struct sqlite_conn, which begins with the fg_conn header whose ops
 * point at this backend — or at a wrapper in front of it) holds one sqlite3 handle opened
 * with SQLITE_OPEN_NOMUTEX: the store guarantees one thread per connection at a time, so
 * SQLite's own per-connection mutex would only cost. A writer connection switches the database to
 * WAL with synchronous=FULL (every COMMIT is durable once it returns); read connections are opened
 * read-write at the file level but set `query_only`, which lets them read a WAL database without
 * the caveats of SQLITE_OPEN_READONLY while refusing any write. Statements are prepared once per
 * connection (SQLITE_PREPARE_PERSISTENT) and kept in a small cache keyed by the SQL text; after
 * each use a statement is reset and its bindings cleared, so it holds no read snapshot and no
 * caller memory between calls. A cached statement that is in use (a row callback running a nested
 * statement on the same connection) is marked busy and never handed out or evicted; a nested use of
 * the same text gets a one-off statement instead. SQLite result codes are mapped onto fg_rc; the
 * SQLite message of the last failure is kept in the connection for logs only.
 */
#include "store/store.h"

#include <assert.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/log.h"

#define ERRMSG_MAX 512

struct stmt_entry {
    char *sql;     /* owned copy of the key; NULL = free slot */
    uint64_t hash; /* FNV-1a of sql, checked before strcmp */
    sqlite3_stmt *stmt;
    uint64_t last_use; /* LRU clock value of the last lease */
    int busy;          /* leased right now (nested use) */
};

struct sqlite_conn {
    fg_conn base; /* first: the fg_conn header (base.ops) */
    sqlite3 *db;
    int readonly;
    uint64_t clock; /* LRU clock, bumped on each lease */
    struct stmt_entry cache[FG_STMT_CACHE_MAX];
    char errmsg[ERRMSG_MAX];
};

/* A statement handed to one exec call: either a cache slot or a one-off statement. */
struct stmt_lease {
    sqlite3_stmt *stmt;
    struct stmt_entry *entry; /* NULL → one-off, finalized after use */
};

static struct sqlite_conn *sqlite_conn_of(fg_conn *c)
{
    assert(c != NULL);
    return (struct sqlite_conn *)c; /* every connection this backend hands out is one */
}

static fg_rc map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return FG_OK;
    case SQLITE_FULL:
        return FG_ERR_DISK_FULL;
    case SQLITE_CONSTRAINT:
        return FG_ERR_CONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return FG_ERR_BUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return FG_ERR_CORRUPT;
    case SQLITE_NOMEM:
        return FG_ERR_NOMEM;
    default:
        return FG_ERR_STORE;
    }
}

/* Remember SQLite's message for the failure `rc` of `what` and map the code. */
static fg_rc conn_fail(struct sqlite_conn *conn, int rc, const char *what)
{
    assert(conn != NULL);
    assert(rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE);
    snprintf(conn->errmsg, sizeof conn->errmsg, "%s: %s (%d)", what, sqlite3_errmsg(conn->db), rc);
    return map_rc(rc);
}

/* A failure detected by this file rather than by SQLite. */
static fg_rc conn_fail_local(struct sqlite_conn *conn, fg_rc rc, const char *what)
{
    assert(conn != NULL);
    assert(rc != FG_OK);
    snprintf(conn->errmsg, sizeof conn->errmsg, "%s", what);
    return rc;
}

static uint64_t sql_hash(const char *sql)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

/* 1 if `tail` (what sqlite3_prepare left over) holds only blanks and semicolons. */
static int tail_is_empty(const char *tail)
{
    for (; tail != NULL && *tail; tail++)
        if (*tail != ';' && *tail != ' ' && *tail != '\t' && *tail != '\n' && *tail != '\r')
            return 0;
    return 1;
}

static fg_rc stmt_prepare(struct sqlite_conn *conn, const char *sql, unsigned flags,
                          sqlite3_stmt **out)
{
    assert(conn != NULL && sql != NULL);
    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int src = sqlite3_prepare_v3(conn->db, sql, -1, flags, &stmt, &tail);
    if (src != SQLITE_OK) {
        fg_rc rc = conn_fail(conn, src, "prepare");
        fg_log(FG_LOG_ERROR, "store.prepare_failed", FG_LF_STR("error", conn->errmsg),
               FG_LF_STR("sql", sql));
        return rc;
    }
    if (stmt == NULL || !tail_is_empty(tail)) {
        sqlite3_finalize(stmt);
        fg_log(FG_LOG_ERROR, "store.prepare_failed", FG_LF_STR("error", "not one statement"),
               FG_LF_STR("sql", sql));
        return conn_fail_local(conn, FG_ERR_INVALID, "prepare: not exactly one statement");
    }
    *out = stmt;
    return FG_OK;
}

static void entry_clear(struct stmt_entry *e)
{
    assert(e != NULL && !e->busy);
    sqlite3_finalize(e->stmt);
    free(e->sql);
    memset(e, 0, sizeof *e);
}

/* The slot a new statement goes into: a free one, else the least recently used idle one;
 * NULL when every slot is busy (deep nesting), in which case the statement is one-off. */
static struct stmt_entry *cache_victim(struct sqlite_conn *conn)
{
    struct stmt_entry *victim = NULL;
    for (unsigned i = 0; i < FG_STMT_CACHE_MAX; i++) {
        struct stmt_entry *e = &conn->cache[i];
        if (e->sql == NULL)
            return e;
        if (!e->busy && (victim == NULL || e->last_use < victim->last_use))
            victim = e;
    }
    return victim;
}

static fg_rc stmt_get(struct sqlite_conn *conn, const char *sql, struct stmt_lease *out)
{
    assert(conn != NULL && sql != NULL && out != NULL);
    uint64_t h = sql_hash(sql);
    int in_use = 0;
    for (unsigned i = 0; i < FG_STMT_CACHE_MAX; i++) {
        struct stmt_entry *e = &conn->cache[i];
        if (e->sql == NULL || e->hash != h || strcmp(e->sql, sql) != 0)
            continue;
        if (e->busy) {
            in_use = 1;
            break;
        }
        e->busy = 1;
        e->last_use = ++conn->clock;
        *out = (struct stmt_lease){.stmt = e->stmt, .entry = e};
        return FG_OK;
    }
    struct stmt_entry *slot = in_use ? NULL : cache_victim(conn);
    sqlite3_stmt *stmt = NULL;
    fg_rc rc = stmt_prepare(conn, sql, slot ? SQLITE_PREPARE_PERSISTENT : 0, &stmt);
    if (rc != FG_OK)
        return rc;
    char *key = NULL;
    if (slot != NULL) {
        key = strdup(sql);
        if (key == NULL)
            slot = NULL; /* no room for the key: run it one-off */
    }
    if (slot == NULL) {
        *out = (struct stmt_lease){.stmt = stmt, .entry = NULL};
        return FG_OK;
    }
    if (slot->sql != NULL)
        entry_clear(slot);
    *slot = (struct stmt_entry){
        .sql = key, .hash = h, .stmt = stmt, .last_use = ++conn->clock, .busy = 1};
    *out = (struct stmt_lease){.stmt = stmt, .entry = slot};
    return FG_OK;
}

static void stmt_put(struct stmt_lease *lease)
{
    assert(lease != NULL && lease->stmt != NULL);
    if (lease->entry == NULL) {
        sqlite3_finalize(lease->stmt);
        return;
    }
    assert(lease->entry->busy && lease->entry->stmt == lease->stmt);
    /* reset repeats the step's error code; the caller has it already. */
    (void)sqlite3_reset(lease->stmt);
    (void)sqlite3_clear_bindings(lease->stmt);
    lease->entry->busy = 0;
}

static fg_rc bind_one(struct sqlite_conn *conn, sqlite3_stmt *stmt, int idx, const struct fg_val *v)
{
    static const char empty[1] = "";
    int src;
    switch (v->type) {
    case FG_VAL_NULL:
        src = sqlite3_bind_null(stmt, idx);
        break;
    case FG_VAL_INT:
        src = sqlite3_bind_int64(stmt, idx, v->i);
        break;
    case FG_VAL_TEXT:
        assert(v->p != NULL || v->n == 0);
        /* A NULL pointer would bind SQL NULL: an empty string stays an empty string. */
        src = sqlite3_bind_text64(stmt, idx, v->p ? v->p : empty, v->n, SQLITE_STATIC, SQLITE_UTF8);
        break;
    case FG_VAL_BLOB:
        assert(v->p != NULL || v->n == 0);
        src = v->p ? sqlite3_bind_blob64(stmt, idx, v->p, v->n, SQLITE_STATIC)
                   : sqlite3_bind_zeroblob(stmt, idx, 0);
        break;
    default:
        assert(!"unknown fg_val type");
        return conn_fail_local(conn, FG_ERR_INVALID, "bind: unknown value type");
    }
    return src == SQLITE_OK ? FG_OK : conn_fail(conn, src, "bind");
}

static fg_rc bind_all(struct sqlite_conn *conn, sqlite3_stmt *stmt, const struct fg_val *params,
                      int nparams)
{
    assert(nparams >= 0 && nparams <= (int)FG_STORE_PARAMS_MAX);
    if (sqlite3_bind_parameter_count(stmt) != nparams) {
        fg_log(FG_LOG_ERROR, "store.bind_mismatch", FG_LF_STR("sql", sqlite3_sql(stmt)),
               FG_LF_INT("expected", sqlite3_bind_parameter_count(stmt)),
               FG_LF_INT("given", nparams));
        return conn_fail_local(conn, FG_ERR_INVALID, "bind: parameter count mismatch");
    }
    for (int i = 0; i < nparams; i++) {
        fg_rc rc = bind_one(conn, stmt, i + 1, &params[i]);
        if (rc != FG_OK)
            return rc;
    }
    return FG_OK;
}

/* Hand the current row to the callback; REAL columns (never stored by finguard) arrive
 * as their text rendering rather than being silently truncated to an integer. */
static fg_rc row_emit(struct sqlite_conn *conn, sqlite3_stmt *stmt, fg_row_fn row, void *row_ctx)
{
    int ncols = sqlite3_column_count(stmt);
    assert(ncols >= 0);
    if (ncols > (int)FG_STORE_COLUMNS_MAX)
        return conn_fail_local(conn, FG_ERR_LIMIT, "row: too many columns");
    struct fg_val cols[FG_STORE_COLUMNS_MAX];
    for (int c = 0; c < ncols; c++) {
        switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
            cols[c] = FG_VINT(sqlite3_column_int64(stmt, c));
            break;
        case SQLITE_TEXT:
        case SQLITE_FLOAT: {
            const unsigned char *t = sqlite3_column_text(stmt, c); /* text first, then bytes */
            int n = sqlite3_column_bytes(stmt, c);
            if (t == NULL)
                return conn_fail(conn, SQLITE_NOMEM, "column_text");
            cols[c] = FG_VTEXT(t, (size_t)n);
            break;
        }
        case SQLITE_BLOB: {
            const void *b = sqlite3_column_blob(stmt, c);
            int n = sqlite3_column_bytes(stmt, c);
            cols[c] = FG_VBLOB(b, (size_t)n);
            break;
        }
        default:
            cols[c] = FG_VNULL;
            break;
        }
    }
    return row(row_ctx, cols, ncols);
}

static fg_rc step_all(struct sqlite_conn *conn, sqlite3_stmt *stmt, fg_row_fn row, void *row_ctx,
                      int64_t *changes)
{
    for (;;) {
        int src = sqlite3_step(stmt);
        if (src == SQLITE_DONE)
            break;
        if (src == SQLITE_ROW) {
            if (row == NULL)
                continue;
            fg_rc rc = row_emit(conn, stmt, row, row_ctx);
            if (rc != FG_OK)
                return rc;
            continue;
        }
        fg_rc rc = conn_fail(conn, src, "step");
        if (rc != FG_ERR_CONFLICT) /* constraint failures are ordinary results */
            fg_log(FG_LOG_WARN, "store.step_failed", FG_LF_STR("rc", fg_rc_name(rc)),
                   FG_LF_STR("error", conn->errmsg));
        return rc;
    }
    if (changes != NULL)
        *changes = sqlite3_changes64(conn->db);
    return FG_OK;
}

static fg_rc conn_exec(struct sqlite_conn *conn, const char *sql, const struct fg_val *params,
                       int nparams, fg_row_fn row, void *row_ctx, int64_t *changes)
{
    assert(conn != NULL && conn->db != NULL && sql != NULL);
    assert(nparams >= 0 && (params != NULL || nparams == 0));
    if (nparams > (int)FG_STORE_PARAMS_MAX)
        return conn_fail_local(conn, FG_ERR_LIMIT, "exec: too many parameters");
    struct stmt_lease lease;
    fg_rc rc = stmt_get(conn, sql, &lease);
    if (rc != FG_OK)
        return rc;
    rc = bind_all(conn, lease.stmt, params, nparams);
    if (rc == FG_OK)
        rc = step_all(conn, lease.stmt, row, row_ctx, changes);
    stmt_put(&lease);
    return rc;
}

static fg_rc exec_simple(struct sqlite_conn *conn, const char *sql)
{
    return conn_exec(conn, sql, NULL, 0, NULL, NULL, NULL);
}

static fg_rc sqlite_exec(fg_conn *c, const char *sql, const struct fg_val *params, int nparams,
                         fg_row_fn row, void *row_ctx, int64_t *changes)
{
    return conn_exec(sqlite_conn_of(c), sql, params, nparams, row, row_ctx, changes);
}

static fg_rc script_exec(struct sqlite_conn *conn, const char *sql)
{
    assert(conn != NULL && conn->db != NULL && sql != NULL);
    char *err = NULL;
    int src = sqlite3_exec(conn->db, sql, NULL, NULL, &err);
    if (src == SQLITE_OK)
        return FG_OK;
    snprintf(conn->errmsg, sizeof conn->errmsg, "script: %s (%d)",
             err ? err : sqlite3_errmsg(conn->db), src);
    sqlite3_free(err);
    fg_log(FG_LOG_WARN, "store.script_failed", FG_LF_STR("error", conn->errmsg));
    return map_rc(src);
}

static int journal_mode_row(void *ctx, int ncols, char **vals, char **names)
{
    int *is_wal = ctx;
    *is_wal = ncols == 1 && vals[0] != NULL && strcmp(vals[0], "wal") == 0;
    return 0;
}

/* Durability settings of the writer: WAL (persistent in the file), FULL sync. */
static fg_rc setup_writer(struct sqlite_conn *conn)
{
    int is_wal = 0;
    char *err = NULL;
    int src = sqlite3_exec(conn->db, "PRAGMA journal_mode=WAL", journal_mode_row, &is_wal, &err);
    sqlite3_free(err);
    if (src != SQLITE_OK)
        return conn_fail(conn, src, "journal_mode");
    if (!is_wal)
        return conn_fail_local(conn, FG_ERR_STORE, "journal_mode: WAL refused");
    /* secure_delete: freed pages are zeroed, so a crypto-shredded (destroyed) wrapped key
     * does not linger in free pages of the database file. */
    /* cache_size: 32 MiB for the writer (negative = KiB), so a batch's random index pages
     * are found in memory rather than read back from the OS; it only grows as pages are
     * used. */
    return script_exec(conn, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                             "PRAGMA secure_delete=ON; PRAGMA cache_size=-32768;");
}

static fg_rc sqlite_exec_script(fg_conn *c, const char *sql)
{
    return script_exec(sqlite_conn_of(c), sql);
}

static fg_rc setup_reader(struct sqlite_conn *conn)
{
    return script_exec(conn, "PRAGMA query_only=ON; PRAGMA foreign_keys=ON; "
                             "PRAGMA cache_size=-8192;");
}

static void conn_free(struct sqlite_conn *conn)
{
    if (conn == NULL)
        return;
    for (unsigned i = 0; i < FG_STMT_CACHE_MAX; i++)
        if (conn->cache[i].sql != NULL)
            entry_clear(&conn->cache[i]);
    int src = sqlite3_close(conn->db);
    assert(src == SQLITE_OK); /* every statement is ours and finalized above */
    (void)src;
    free(conn);
}

static void sqlite_close(fg_conn *c)
{
    if (c != NULL)
        conn_free(sqlite_conn_of(c));
}

static fg_rc sqlite_open(const struct fg_store_ops *self, const char *target, int readonly,
                         fg_conn **out)
{
    assert(self != NULL && target != NULL && out != NULL);
    *out = NULL;
    struct sqlite_conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL)
        return FG_ERR_NOMEM;
    conn->base.ops = self;
    conn->readonly = readonly;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (!readonly)
        flags |= SQLITE_OPEN_CREATE;
    int src = sqlite3_open_v2(target, &conn->db, flags, NULL);
    fg_rc rc = FG_OK;
    if (src != SQLITE_OK) {
        rc = conn->db ? conn_fail(conn, src, "open") : FG_ERR_NOMEM;
    } else {
        sqlite3_extended_result_codes(conn->db, 1);
        sqlite3_busy_timeout(conn->db, (int)FG_STORE_BUSY_TIMEOUT_MS);
        (void)sqlite3_db_config(conn->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
        rc = readonly ? setup_reader(conn) : setup_writer(conn);
    }
    if (rc != FG_OK) {
        fg_log(FG_LOG_ERROR, "store.sqlite_open_failed", FG_LF_STR("rc", fg_rc_name(rc)),
               FG_LF_STR("error", conn->errmsg), FG_LF_STR("path", target));
        conn_free(conn);
        return rc;
    }
    *out = &conn->base;
    return FG_OK;
}

static fg_rc sqlite_begin(fg_conn *c)
{
    return exec_simple(sqlite_conn_of(c), "BEGIN IMMEDIATE");
}

static fg_rc sqlite_commit(fg_conn *c)
{
    return exec_simple(sqlite_conn_of(c), "COMMIT");
}

/* SQLite may already have rolled back by itself (SQLITE_FULL, IOERR, NOMEM): then there
 * is nothing to do, and ROLLBACK would only fail with "no transaction is active". */
static fg_rc sqlite_rollback(fg_conn *c)
{
    struct sqlite_conn *conn = sqlite_conn_of(c);
    if (sqlite3_get_autocommit(conn->db))
        return FG_OK;
    return exec_simple(conn, "ROLLBACK");
}

static fg_rc sqlite_savepoint(fg_conn *c)
{
    return exec_simple(sqlite_conn_of(c), "SAVEPOINT fg_intent");
}

static fg_rc sqlite_release(fg_conn *c)
{
    return exec_simple(sqlite_conn_of(c), "RELEASE fg_intent");
}

static fg_rc sqlite_rollback_to(fg_conn *c)
{
    struct sqlite_conn *conn = sqlite_conn_of(c);
    fg_rc rc = exec_simple(conn, "ROLLBACK TO fg_intent");
    return rc != FG_OK ? rc : exec_simple(conn, "RELEASE fg_intent");
}

static int64_t sqlite_last_insert_id(fg_conn *c)
{
    return sqlite3_last_insert_rowid(sqlite_conn_of(c)->db);
}

static const char *sqlite_errmsg(fg_conn *c)
{
    return sqlite_conn_of(c)->errmsg;
}

static const struct fg_store_ops sqlite_ops = {
    .version = FG_STORE_OPS_VERSION,
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .exec = sqlite_exec,
    .exec_script = sqlite_exec_script,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .savepoint = sqlite_savepoint,
    .release = sqlite_release,
    .rollback_to = sqlite_rollback_to,
    .last_insert_id = sqlite_last_insert_id,
    .errmsg = sqlite_errmsg,
    .ctx = NULL,
};

const struct fg_store_ops *fg_store_sqlite_ops(void)
{
    return &sqlite_ops;
}
