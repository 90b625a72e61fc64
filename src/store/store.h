/*
 * store.h — finguard's database access: one narrow backend interface, the single writer
 * with group commit, and a pool of read connections.
 *
 * Shape (ARCHITECTURE.md "The write path"):
 *   - A backend is a `struct fg_store_ops` (function pointers + a version field), like
 *     SQLite's VFS. The SQLite backend is the embedded default (store/sqlite.c); a
 *     fault-injecting wrapper (store/fault.c) can sit in front of any backend for tests.
 *     Nothing above store/ calls a backend directly: it goes through fg_store_* / fg_tx_*.
 *   - Request threads never write. They submit a *write intent* (a function + argument);
 *     the writer thread takes every pending intent (up to the batch limit), opens ONE
 *     transaction, runs each intent inside its own SAVEPOINT (a failing intent rolls back
 *     alone), lets the hook append records of the same transaction (the audit chain),
 *     commits once (one fsync for the batch) and then completes each intent with its own
 *     result. If the commit fails, every intent of the batch completes with that error and
 *     nothing of the batch is visible.
 *   - Reads use pooled read connections (WAL readers) and never wait for the writer.
 *
 * Ownership: fg_store_open() returns a store that owns its writer thread, its write
 * connection and its read pool; fg_store_close() drains the queue (every submitted intent
 * is completed), stops the writer and closes all connections.
 *
 * Thread safety: fg_store_submit*, fg_store_read_* and fg_store_stats are safe from any
 * thread. An fg_conn is used by one thread at a time (the writer, or the holder of a read
 * lease).
 */
#ifndef FG_STORE_STORE_H
#define FG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"

/* ---- values and rows -------------------------------------------------------------------- */

enum fg_val_type { FG_VAL_NULL = 0, FG_VAL_INT, FG_VAL_TEXT, FG_VAL_BLOB };

/* A bound parameter or a result column. For TEXT/BLOB, p/n point into memory owned by the
 * caller (parameters) or by the backend until the row callback returns (columns). TEXT is
 * not necessarily NUL-terminated: use n. */
struct fg_val {
    enum fg_val_type type;
    int64_t i;
    const void *p;
    size_t n;
};

#define FG_VNULL ((struct fg_val){.type = FG_VAL_NULL})
#define FG_VINT(v) ((struct fg_val){.type = FG_VAL_INT, .i = (int64_t)(v)})
#define FG_VTEXT(s, len) ((struct fg_val){.type = FG_VAL_TEXT, .p = (s), .n = (len)})
#define FG_VSTR(s) ((struct fg_val){.type = FG_VAL_TEXT, .p = (s), .n = strlen(s)})
#define FG_VBLOB(b, len) ((struct fg_val){.type = FG_VAL_BLOB, .p = (b), .n = (len)})

/* Called once per result row. Return FG_OK to continue; anything else stops the statement
 * and is returned by fg_conn_exec(). */
typedef fg_rc (*fg_row_fn)(void *ctx, const struct fg_val *cols, int ncols);

/* ---- the backend interface ------------------------------------------------------------ */

/* A backend connection. Every backend's connection struct BEGINS with this header (as
 * sqlite3_file begins with pMethods), so fg_conn_exec() and wrappers such as the fault
 * injector find the ops from the connection alone. */
typedef struct fg_conn {
    const struct fg_store_ops *ops;
} fg_conn;

#define FG_STORE_OPS_VERSION 1u

struct fg_store_ops {
    uint32_t version;  /* FG_STORE_OPS_VERSION the backend was written against */
    const char *name;  /* "sqlite", "fault(sqlite)", ... */
    /* Open a connection to the database at `target` (a file path for SQLite). A writer
     * connection (readonly == 0) also applies durability settings. */
    fg_rc (*open)(const struct fg_store_ops *self, const char *target, int readonly,
                  fg_conn **out);
    void (*close)(fg_conn *conn);
    /* Run one statement with bound parameters (never string-built SQL). row may be NULL.
     * *changes (if not NULL) receives the number of rows changed. */
    fg_rc (*exec)(fg_conn *conn, const char *sql, const struct fg_val *params, int nparams,
                  fg_row_fn row, void *row_ctx, int64_t *changes);
    /* Run a script of statements without parameters (migrations, PRAGMAs). */
    fg_rc (*exec_script)(fg_conn *conn, const char *sql);
    fg_rc (*begin)(fg_conn *conn);   /* BEGIN IMMEDIATE */
    fg_rc (*commit)(fg_conn *conn);
    fg_rc (*rollback)(fg_conn *conn);
    fg_rc (*savepoint)(fg_conn *conn);          /* SAVEPOINT fg_intent */
    fg_rc (*release)(fg_conn *conn);            /* RELEASE fg_intent */
    fg_rc (*rollback_to)(fg_conn *conn);        /* ROLLBACK TO fg_intent; RELEASE fg_intent */
    int64_t (*last_insert_id)(fg_conn *conn);
    /* The backend's last error message, for logs only (may contain SQL; never sent to
     * clients). */
    const char *(*errmsg)(fg_conn *conn);
    void *ctx; /* backend-private (the fault wrapper keeps its inner ops here) */
};

/* The SQLite backend: WAL, synchronous=FULL, foreign_keys=ON, busy timeout, statement
 * cache per connection. */
const struct fg_store_ops *fg_store_sqlite_ops(void);

/* ---- the store ------------------------------------------------------------------------ */

typedef struct fg_store fg_store;

/* A write intent runs on the writer thread inside its own savepoint. `conn` is the write
 * connection; use fg_conn_exec() on it. Return FG_OK to keep its changes, anything else to
 * roll them back (the rest of the batch is unaffected). */
typedef fg_rc (*fg_intent_fn)(fg_conn *conn, void *arg);

struct fg_intent;
/* Called on the writer thread once the intent's fate is final: after the batch committed
 * (rc = the intent's own result) or failed to commit (rc = the commit error). It must not
 * block; it typically signals a waiter or posts to an event loop. After it returns the
 * store never touches the intent again. */
typedef void (*fg_intent_done_fn)(struct fg_intent *intent);

/* A submission. The submitter owns the memory and keeps it alive until `done` runs. */
struct fg_intent {
    fg_intent_fn fn;
    void *arg;
    fg_intent_done_fn done;
    void *done_ctx;   /* free for the submitter */
    void *record;     /* opaque to the store: what the after_intent hook appends for this
                       * intent in the same transaction (the audit record); NULL = none */
    fg_rc rc;         /* the result, valid in done() */
    int64_t seq;      /* number (from 1) of the batch it ran in, valid in done() */
    struct fg_intent *next_; /* queue link; store-private */
};

/* Hooks the writer calls inside the batch's transaction (the audit log plugs in here).
 * after_intent: after each intent, with its result (the intent's savepoint is already
 *   released or rolled back); what it writes belongs to the same transaction. Returning
 *   an error fails the whole batch (records must never be lost).
 * before_commit: once per batch, just before COMMIT (e.g. a checkpoint).
 * after_commit / after_rollback: outside the transaction, once the batch's fate is known
 *   (publish events / forget in-memory state such as a chain head). */
struct fg_store_hooks {
    fg_rc (*after_intent)(void *ctx, fg_conn *conn, struct fg_intent *intent);
    fg_rc (*before_commit)(void *ctx, fg_conn *conn);
    void (*after_commit)(void *ctx);
    void (*after_rollback)(void *ctx);
    void *ctx;
};

struct fg_store_options {
    const struct fg_store_ops *ops; /* NULL → SQLite */
    const char *path;               /* database file */
    unsigned batch_max;             /* intents per transaction; 0 → default */
    unsigned queue_max;             /* pending intents; 0 → FG_WRITER_QUEUE_MAX */
    unsigned read_pool_max;         /* read connections; 0 → default */
    int readonly;                   /* open for reading only: no writer, no migrations */
};

/* Open the database, apply pending migrations (writer connection, one transaction each,
 * PRAGMA user_version tracks the version) and start the writer thread. */
FG_MUST_CHECK fg_rc fg_store_open(const struct fg_store_options *opt, fg_store **out);

/* Drain: complete every queued intent, stop the writer, close every connection. Every
 * read lease must have been released before. NULL is a no-op. */
void fg_store_close(fg_store *store);

void fg_store_set_hooks(fg_store *store, const struct fg_store_hooks *hooks);

/* Queue an intent; returns at once. FG_ERR_BUSY if the queue is full, FG_ERR_SHUTDOWN if
 * closing, FG_ERR_UNSUPPORTED on a readonly store. On FG_OK, intent->done will be called
 * exactly once (on the writer thread). The caller must not submit once fg_store_close()
 * has returned (the store is gone); submissions racing with close get FG_ERR_SHUTDOWN. */
FG_MUST_CHECK fg_rc fg_store_submit(fg_store *store, struct fg_intent *intent);

/* Submit and block the calling thread until the intent's batch is final; returns the
 * intent's result. For CLI, tests and worker threads — never from an event loop. */
FG_MUST_CHECK fg_rc fg_store_write(fg_store *store, fg_intent_fn fn, void *arg);

/* Lease a read connection (opens one if the pool has room, else waits for a free one).
 * It is query_only: writes through it fail. Release it outside any transaction. */
FG_MUST_CHECK fg_rc fg_store_read_acquire(fg_store *store, fg_conn **out);
void fg_store_read_release(fg_store *store, fg_conn *conn);

/* Thin wrappers over the backend: conn->ops->exec(...) etc. (no store needed, so a write
 * intent can run statements with only the conn it is given). */
FG_MUST_CHECK fg_rc fg_conn_exec(fg_conn *conn, const char *sql, const struct fg_val *params,
                                 int nparams, fg_row_fn row, void *row_ctx, int64_t *changes);
int64_t fg_conn_last_insert_id(fg_conn *conn);

/* Counters for /metrics, all since open. `batches` counts every transaction the writer
 * ran (committed or not), `commits_failed` those that failed at batch level; an intent
 * counts as failed if its own result or its batch failed. Histogram buckets hold
 * per-bucket counts (NOT Prometheus-cumulative: sum them for `le`): batch_size_le[i]
 * counts batches with bounds[i-1] < size <= bounds[i], over every batch;
 * commit_seconds_le likewise over committed batches only, timing BEGIN → COMMIT done
 * (the fsync included). */
#define FG_STORE_BATCH_BUCKETS 10  /* batch size ≤ 1,2,4,...,256, +Inf */
#define FG_STORE_LATENCY_BUCKETS 12 /* commit latency ≤ 0.1ms ... 1s, +Inf (seconds) */
struct fg_store_stats {
    uint64_t intents_ok, intents_failed, batches, commits_failed, queue_depth;
    uint64_t batch_size_sum, batch_size_le[FG_STORE_BATCH_BUCKETS];
    double commit_seconds_sum;
    uint64_t commit_seconds_le[FG_STORE_LATENCY_BUCKETS];
};
extern const double fg_store_batch_bounds[FG_STORE_BATCH_BUCKETS];     /* last = +Inf */
extern const double fg_store_latency_bounds[FG_STORE_LATENCY_BUCKETS]; /* last = +Inf */
void fg_store_stats(fg_store *store, struct fg_store_stats *out);

#endif
