/*
 * test_fault.c — the fault-injecting backend on its own: it forwards and counts every
 * call by kind, fails exactly the planned n-th call, simulates a full disk for writes
 * only, and counts correctly from many threads. The store's behaviour under these faults
 * is tested in test_store.c.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/fault.h"

struct fixture {
    char dir[256];
    char path[512];
    const struct fg_store_ops *ops;
    fg_conn *w;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fg_test_tmpdir("fault", f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
    f->ops = fg_store_fault_ops(fg_store_sqlite_ops());
    fg_store_fault_clear();
    assert_int_equal(f->ops->open(f->ops, f->path, 0, &f->w), FG_OK);
    assert_int_equal(f->ops->exec_script(f->w, "CREATE TABLE t (i INTEGER);"), FG_OK);
    fg_store_fault_clear();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fg_store_fault_clear();
    f->ops->close(f->w);
    fg_test_rmtree(f->dir);
    free(f);
    return 0;
}

static fg_rc exec_sql(struct fixture *f, const char *sql)
{
    return f->ops->exec(f->w, sql, NULL, 0, NULL, NULL, NULL);
}

static void test_identity(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(f->ops->name, "fault(sqlite)");
    assert_int_equal(f->ops->version, FG_STORE_OPS_VERSION);
    assert_non_null(f->ops->ctx);
    /* Asking again gives the same (one per process) wrapper. */
    assert_ptr_equal(fg_store_fault_ops(fg_store_sqlite_ops()), f->ops);
}

static void test_counts_each_kind(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(exec_sql(f, "INSERT INTO t VALUES (1)"), FG_OK);
    assert_int_equal(f->ops->exec_script(f->w, "SELECT 1;"), FG_OK);
    assert_int_equal(f->ops->begin(f->w), FG_OK);
    assert_int_equal(f->ops->savepoint(f->w), FG_OK);
    assert_int_equal(f->ops->rollback_to(f->w), FG_OK);
    assert_int_equal(f->ops->savepoint(f->w), FG_OK);
    assert_int_equal(f->ops->release(f->w), FG_OK);
    assert_int_equal(f->ops->commit(f->w), FG_OK);
    assert_int_equal(f->ops->rollback(f->w), FG_OK);
    assert_true(f->ops->last_insert_id(f->w) >= 1); /* forwarded, not counted */

    assert_int_equal(fg_store_fault_calls(FG_FAULT_OPEN), 0);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_EXEC), 2);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_BEGIN), 1);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_SAVEPOINT), 2);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_RELEASE), 1);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_COMMIT), 1);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_ROLLBACK), 2); /* rollback_to counts */
    assert_int_equal(fg_store_fault_calls(FG_FAULT_ANY), 9);
    fg_store_fault_clear();
    assert_int_equal(fg_store_fault_calls(FG_FAULT_ANY), 0);
}

static void test_fail_nth(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(exec_sql(f, "SELECT 1"), FG_OK); /* counted before the plan */
    fg_store_fault_fail_nth(FG_FAULT_EXEC, 2, FG_ERR_IO);
    assert_int_equal(exec_sql(f, "INSERT INTO t VALUES (1)"), FG_OK);
    assert_int_equal(exec_sql(f, "INSERT INTO t VALUES (2)"), FG_ERR_IO);
    assert_non_null(strstr(f->ops->errmsg(f->w), "injected"));
    assert_int_equal(exec_sql(f, "INSERT INTO t VALUES (3)"), FG_OK);
    assert_null(strstr(f->ops->errmsg(f->w), "injected"));

    /* The failed call never reached SQLite. */
    int64_t changes = 0;
    assert_int_equal(f->ops->exec(f->w, "DELETE FROM t", NULL, 0, NULL, NULL, &changes), FG_OK);
    assert_int_equal(changes, 2);

    /* ANY fails the next call whatever its kind; other kinds do not consume a plan. */
    fg_store_fault_fail_nth(FG_FAULT_ANY, 1, FG_ERR_STORE);
    assert_int_equal(f->ops->begin(f->w), FG_ERR_STORE);
    assert_int_equal(f->ops->begin(f->w), FG_OK);
    fg_store_fault_fail_nth(FG_FAULT_COMMIT, 1, FG_ERR_DISK_FULL);
    assert_int_equal(exec_sql(f, "INSERT INTO t VALUES (4)"), FG_OK);
    assert_int_equal(f->ops->commit(f->w), FG_ERR_DISK_FULL);
    assert_int_equal(f->ops->rollback(f->w), FG_OK);
    assert_int_equal(exec_sql(f, "DELETE FROM t"), FG_OK);

    /* clear disarms a pending plan. */
    fg_store_fault_fail_nth(FG_FAULT_BEGIN, 1, FG_ERR_STORE);
    fg_store_fault_clear();
    assert_int_equal(f->ops->begin(f->w), FG_OK);
    assert_int_equal(f->ops->commit(f->w), FG_OK);
}

static void test_fail_open(void **state)
{
    struct fixture *f = *state;
    fg_store_fault_fail_nth(FG_FAULT_OPEN, 1, FG_ERR_IO);
    fg_conn *c = (fg_conn *)f;
    assert_int_equal(f->ops->open(f->ops, f->path, 1, &c), FG_ERR_IO);
    assert_null(c);
    assert_int_equal(f->ops->open(f->ops, f->path, 1, &c), FG_OK);
    f->ops->close(c);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_OPEN), 2);
}

static void test_disk_full(void **state)
{
    struct fixture *f = *state;
    fg_store_fault_disk_full(1);
    assert_int_equal(exec_sql(f, "INSERT INTO t VALUES (1)"), FG_ERR_DISK_FULL);
    assert_int_equal(exec_sql(f, "update t SET i = 2"), FG_ERR_DISK_FULL);
    assert_int_equal(exec_sql(f, "CREATE TABLE u (x)"), FG_ERR_DISK_FULL);
    assert_int_equal(exec_sql(f, "PRAGMA user_version = 3"), FG_ERR_DISK_FULL);
    assert_int_equal(f->ops->exec_script(f->w, "DELETE FROM t;"), FG_ERR_DISK_FULL);
    /* Reads go through. */
    assert_int_equal(exec_sql(f, "SELECT count(*) FROM t"), FG_OK);
    assert_int_equal(exec_sql(f, "  -- a comment\n /* and another */ select 1"), FG_OK);
    assert_int_equal(exec_sql(f, "PRAGMA user_version"), FG_OK);
    assert_int_equal(exec_sql(f, "VALUES (1)"), FG_OK);
    /* A transaction can start, but its commit fails. */
    assert_int_equal(f->ops->begin(f->w), FG_OK);
    assert_int_equal(f->ops->savepoint(f->w), FG_OK);
    assert_int_equal(f->ops->release(f->w), FG_OK);
    assert_int_equal(f->ops->commit(f->w), FG_ERR_DISK_FULL);
    assert_int_equal(f->ops->rollback(f->w), FG_OK);
    /* The disk frees up. */
    fg_store_fault_disk_full(0);
    assert_int_equal(exec_sql(f, "INSERT INTO t VALUES (1)"), FG_OK);
    assert_int_equal(f->ops->begin(f->w), FG_OK);
    assert_int_equal(f->ops->commit(f->w), FG_OK);
}

enum { THREADS = 8, CALLS_PER_THREAD = 500 };

struct counter_arg {
    struct fixture *f;
    int failures;
};

static void *count_thread(void *arg)
{
    struct counter_arg *a = arg;
    fg_conn *c;
    if (a->f->ops->open(a->f->ops, a->f->path, 1, &c) != FG_OK) {
        a->failures = -1;
        return NULL;
    }
    for (int k = 0; k < CALLS_PER_THREAD; k++)
        if (a->f->ops->exec(c, "SELECT 1", NULL, 0, NULL, NULL, NULL) != FG_OK)
            a->failures++;
    a->f->ops->close(c);
    return NULL;
}

static void test_thread_safe_counting(void **state)
{
    struct fixture *f = *state;
    /* One call in the middle of everything fails, exactly once. */
    fg_store_fault_fail_nth(FG_FAULT_EXEC, THREADS * CALLS_PER_THREAD / 2, FG_ERR_IO);
    pthread_t th[THREADS];
    struct counter_arg args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (struct counter_arg){.f = f};
        assert_int_equal(pthread_create(&th[t], NULL, count_thread, &args[t]), 0);
    }
    int failures = 0;
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_true(args[t].failures >= 0);
        failures += args[t].failures;
    }
    assert_int_equal(failures, 1);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_EXEC), THREADS * CALLS_PER_THREAD);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_OPEN), THREADS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_each_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_nth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_safe_counting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
