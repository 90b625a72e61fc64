/*
 * test_sqlite.c — the SQLite backend on its own: durability pragmas, read-only
 * connections, values in and out, the mapping of SQLite errors onto fg_rc (with real
 * SQLite failures: syntax, constraint, SQLITE_FULL via max_page_count, SQLITE_NOTADB,
 * SQLITE_BUSY), the statement cache (eviction, nested use) and savepoints.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "store/store.h"

struct fixture {
    char dir[256];
    char path[512];
    const struct fg_store_ops *ops;
    fg_conn *w; /* a writer connection on path, with table t */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fg_test_tmpdir("sqlite", f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
    f->ops = fg_store_sqlite_ops();
    assert_int_equal(f->ops->open(f->ops, f->path, 0, &f->w), FG_OK);
    assert_int_equal(f->ops->exec_script(f->w, "CREATE TABLE t (i INTEGER, s TEXT, b BLOB, "
                                                "u TEXT UNIQUE, nn TEXT NOT NULL DEFAULT 'x');"),
                     FG_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    f->ops->close(f->w);
    fg_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* ---- row collectors ----------------------------------------------------------------- */

static fg_rc row_int(void *ctx, const struct fg_val *cols, int ncols)
{
    assert_int_equal(ncols, 1);
    assert_int_equal(cols[0].type, FG_VAL_INT);
    *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

static fg_rc row_text(void *ctx, const struct fg_val *cols, int ncols)
{
    char *out = ctx;
    assert_int_equal(ncols, 1);
    assert_int_equal(cols[0].type, FG_VAL_TEXT);
    assert_true(cols[0].n < 64);
    memcpy(out, cols[0].p, cols[0].n);
    out[cols[0].n] = '\0';
    return FG_OK;
}

static int64_t query_int(struct fixture *f, fg_conn *c, const char *sql)
{
    int64_t v = -12345;
    assert_int_equal(f->ops->exec(c, sql, NULL, 0, row_int, &v, NULL), FG_OK);
    return v;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_writer_pragmas(void **state)
{
    struct fixture *f = *state;
    char mode[64];
    assert_int_equal(f->ops->exec(f->w, "PRAGMA journal_mode", NULL, 0, row_text, mode, NULL),
                     FG_OK);
    assert_string_equal(mode, "wal");
    assert_int_equal(query_int(f, f->w, "PRAGMA synchronous"), 2); /* FULL */
    assert_int_equal(query_int(f, f->w, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(f, f->w, "PRAGMA busy_timeout"), FG_STORE_BUSY_TIMEOUT_MS);
    assert_string_equal(f->ops->name, "sqlite");
    assert_int_equal(f->ops->version, FG_STORE_OPS_VERSION);
}

static void test_reader_is_read_only(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->ops->exec(f->w, "INSERT INTO t (i) VALUES (7)", NULL, 0, NULL, NULL,
                                  NULL),
                     FG_OK);
    fg_conn *r;
    assert_int_equal(f->ops->open(f->ops, f->path, 1, &r), FG_OK);
    assert_int_equal(query_int(f, r, "PRAGMA query_only"), 1);
    assert_int_equal(query_int(f, r, "SELECT i FROM t"), 7);
    assert_int_equal(f->ops->exec(r, "INSERT INTO t (i) VALUES (8)", NULL, 0, NULL, NULL, NULL),
                     FG_ERR_STORE);
    assert_true(strlen(f->ops->errmsg(r)) > 0);
    f->ops->close(r);

    /* A reader never creates a database. */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/missing.db", f->dir);
    r = (fg_conn *)f; /* must be reset to NULL on failure */
    assert_int_not_equal(f->ops->open(f->ops, missing, 1, &r), FG_OK);
    assert_null(r);
}

struct seen {
    int rows;
    enum fg_val_type types[5];
    int64_t i;
    char s[64];
    size_t s_n;
    unsigned char b[16];
    size_t b_n;
};

static fg_rc row_all(void *ctx, const struct fg_val *cols, int ncols)
{
    struct seen *v = ctx;
    assert_int_equal(ncols, 5);
    v->rows++;
    for (int c = 0; c < 5; c++)
        v->types[c] = cols[c].type;
    v->i = cols[0].i;
    v->s_n = cols[1].n;
    if (cols[1].type == FG_VAL_TEXT) {
        assert_true(cols[1].n < sizeof v->s);
        memcpy(v->s, cols[1].p, cols[1].n);
    }
    v->b_n = cols[2].n;
    if (cols[2].type == FG_VAL_BLOB && cols[2].n > 0) {
        assert_true(cols[2].n <= sizeof v->b);
        memcpy(v->b, cols[2].p, cols[2].n);
    }
    return FG_OK;
}

static const char *const select_row = "SELECT i, s, b, u, 1.5 FROM t WHERE i = ?1";

static void test_values_roundtrip(void **state)
{
    struct fixture *f = *state;
    static const char *const ins = "INSERT INTO t (i, s, b, u) VALUES (?1, ?2, ?3, ?4)";
    const unsigned char blob[4] = {0, 1, 0, 255};
    const char text[] = "h\xc3\xa9llo\0tail"; /* UTF-8 with an embedded NUL */
    struct fg_val p1[4] = {FG_VINT(INT64_MAX), FG_VTEXT(text, sizeof text - 1),
                           FG_VBLOB(blob, sizeof blob), FG_VNULL};
    int64_t changes = 0;
    assert_int_equal(f->ops->exec(f->w, ins, p1, 4, NULL, NULL, &changes), FG_OK);
    assert_int_equal(changes, 1);
    assert_true(f->ops->last_insert_id(f->w) > 0);

    struct seen v = {0};
    struct fg_val key = FG_VINT(INT64_MAX);
    assert_int_equal(f->ops->exec(f->w, select_row, &key, 1, row_all, &v, NULL), FG_OK);
    assert_int_equal(v.rows, 1);
    assert_int_equal(v.types[0], FG_VAL_INT);
    assert_true(v.i == INT64_MAX);
    assert_int_equal(v.types[1], FG_VAL_TEXT);
    assert_int_equal(v.s_n, sizeof text - 1);
    assert_memory_equal(v.s, text, sizeof text - 1);
    assert_int_equal(v.types[2], FG_VAL_BLOB);
    assert_int_equal(v.b_n, sizeof blob);
    assert_memory_equal(v.b, blob, sizeof blob);
    assert_int_equal(v.types[3], FG_VAL_NULL);
    assert_int_equal(v.types[4], FG_VAL_TEXT); /* REAL arrives as text, never truncated */

    /* Empty text and empty blob stay empty values, not NULL. */
    struct fg_val p2[4] = {FG_VINT(-1), FG_VTEXT(NULL, 0), FG_VBLOB(NULL, 0), FG_VSTR("")};
    assert_int_equal(f->ops->exec(f->w, ins, p2, 4, NULL, NULL, NULL), FG_OK);
    memset(&v, 0, sizeof v);
    key = FG_VINT(-1);
    assert_int_equal(f->ops->exec(f->w, select_row, &key, 1, row_all, &v, NULL), FG_OK);
    assert_int_equal(v.types[1], FG_VAL_TEXT);
    assert_int_equal(v.s_n, 0);
    assert_int_equal(v.types[2], FG_VAL_BLOB);
    assert_int_equal(v.b_n, 0);
    assert_int_equal(v.types[3], FG_VAL_TEXT);
}

static void test_error_mapping(void **state)
{
    struct fixture *f = *state;
    /* Bad SQL: a storage error; the detail is in errmsg (logs), not in the code. */
    assert_int_equal(f->ops->exec(f->w, "SELEC 1", NULL, 0, NULL, NULL, NULL), FG_ERR_STORE);
    assert_non_null(strstr(f->ops->errmsg(f->w), "syntax error"));
    assert_int_equal(f->ops->exec(f->w, "SELECT * FROM no_such_table", NULL, 0, NULL, NULL,
                                  NULL),
                     FG_ERR_STORE);
    assert_int_equal(f->ops->exec_script(f->w, "CREATE TABLE t (x);"), FG_ERR_STORE);

    /* More parameters than FG_STORE_PARAMS_MAX. */
    struct fg_val many[FG_STORE_PARAMS_MAX + 1];
    for (unsigned k = 0; k <= FG_STORE_PARAMS_MAX; k++)
        many[k] = FG_VINT(k);
    assert_int_equal(f->ops->exec(f->w, "SELECT ?1", many, FG_STORE_PARAMS_MAX + 1, NULL, NULL,
                                  NULL),
                     FG_ERR_LIMIT);
    /* A parameter count that does not match the statement, or two statements at once. */
    assert_int_equal(f->ops->exec(f->w, "SELECT ?1, ?2", many, 1, NULL, NULL, NULL),
                     FG_ERR_INVALID);
    assert_int_equal(f->ops->exec(f->w, "SELECT 1; SELECT 2", NULL, 0, NULL, NULL, NULL),
                     FG_ERR_INVALID);
    assert_int_equal(f->ops->exec(f->w, "  -- nothing\n", NULL, 0, NULL, NULL, NULL),
                     FG_ERR_INVALID);
    assert_int_equal(f->ops->exec(f->w, "SELECT 1 ;\n", NULL, 0, NULL, NULL, NULL), FG_OK);

    /* Constraints: UNIQUE and NOT NULL. */
    static const char *const ins_u = "INSERT INTO t (u) VALUES (?1)";
    struct fg_val u = FG_VSTR("dup");
    assert_int_equal(f->ops->exec(f->w, ins_u, &u, 1, NULL, NULL, NULL), FG_OK);
    assert_int_equal(f->ops->exec(f->w, ins_u, &u, 1, NULL, NULL, NULL), FG_ERR_CONFLICT);
    assert_non_null(strstr(f->ops->errmsg(f->w), "UNIQUE"));
    assert_int_equal(f->ops->exec(f->w, "INSERT INTO t (nn) VALUES (NULL)", NULL, 0, NULL, NULL,
                                  NULL),
                     FG_ERR_CONFLICT);
    /* The connection is still usable after every failure. */
    assert_int_equal(query_int(f, f->w, "SELECT count(*) FROM t"), 1);
}

static fg_rc row_stop(void *ctx, const struct fg_val *cols, int ncols)
{
    (*(int *)ctx)++;
    return FG_ERR_NOT_FOUND;
}

static void test_row_callback_stops(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->ops->exec_script(f->w, "INSERT INTO t (i) VALUES (1), (2), (3);"),
                     FG_OK);
    int calls = 0;
    assert_int_equal(f->ops->exec(f->w, "SELECT i FROM t", NULL, 0, row_stop, &calls, NULL),
                     FG_ERR_NOT_FOUND);
    assert_int_equal(calls, 1);
    /* The same (cached) statement runs again from the start. */
    assert_int_equal(query_int(f, f->w, "SELECT count(*) FROM t"), 3);
    int64_t changes = 0;
    assert_int_equal(f->ops->exec(f->w, "DELETE FROM t", NULL, 0, NULL, NULL, &changes), FG_OK);
    assert_int_equal(changes, 3);
}

static void test_disk_full_maps(void **state)
{
    struct fixture *f = *state;
    /* The file may not grow past its current size (max_page_count never shrinks it). */
    assert_true(query_int(f, f->w, "PRAGMA page_count") <= 4);
    assert_int_equal(f->ops->exec_script(f->w, "PRAGMA max_page_count = 4;"), FG_OK);
    static const char *const ins = "INSERT INTO t (b) VALUES (zeroblob(?1))";
    struct fg_val size = FG_VINT(64 * 1024);
    assert_int_equal(f->ops->exec(f->w, ins, &size, 1, NULL, NULL, NULL), FG_ERR_DISK_FULL);
    assert_int_equal(query_int(f, f->w, "SELECT count(*) FROM t"), 0);
    size = FG_VINT(16);
    assert_int_equal(f->ops->exec(f->w, ins, &size, 1, NULL, NULL, NULL), FG_OK);
}

static void test_not_a_database(void **state)
{
    struct fixture *f = *state;
    char junk_path[600];
    snprintf(junk_path, sizeof junk_path, "%s/junk.db", f->dir);
    FILE *fp = fopen(junk_path, "wb");
    assert_non_null(fp);
    for (int k = 0; k < 4096; k++)
        fputc('J', fp);
    fclose(fp);
    fg_conn *c = NULL;
    assert_int_equal(f->ops->open(f->ops, junk_path, 0, &c), FG_ERR_CORRUPT);
    assert_null(c);
}

static void test_busy_maps(void **state)
{
    struct fixture *f = *state;
    fg_conn *other;
    assert_int_equal(f->ops->open(f->ops, f->path, 0, &other), FG_OK);
    assert_int_equal(f->ops->begin(f->w), FG_OK);
    /* Waits FG_STORE_BUSY_TIMEOUT_MS, then gives up. */
    assert_int_equal(f->ops->begin(other), FG_ERR_BUSY);
    assert_int_equal(f->ops->rollback(f->w), FG_OK);
    assert_int_equal(f->ops->begin(other), FG_OK);
    assert_int_equal(f->ops->commit(other), FG_OK);
    f->ops->close(other);
}

/* Distinct SQL texts without formatting: "SELECT ?1 + 1" padded with k spaces. */
static void padded_sql(char *out, size_t size, unsigned k)
{
    static const char head[] = "SELECT ?1 +";
    assert_true(sizeof head + k + 2 <= size);
    memcpy(out, head, sizeof head - 1);
    memset(out + sizeof head - 1, ' ', k + 1);
    out[sizeof head + k] = '1';
    out[sizeof head + k + 1] = '\0';
}

static void test_statement_cache_evicts(void **state)
{
    struct fixture *f = *state;
    char sql[512];
    for (int round = 0; round < 2; round++) {
        for (unsigned k = 0; k < 3 * FG_STMT_CACHE_MAX; k++) {
            padded_sql(sql, sizeof sql, k);
            struct fg_val p = FG_VINT(k);
            int64_t v = -1;
            assert_int_equal(f->ops->exec(f->w, sql, &p, 1, row_int, &v, NULL), FG_OK);
            assert_int_equal(v, (int64_t)k + 1);
        }
    }
}

struct nest {
    struct fixture *f;
    int depth;
    int64_t sum;
};

/* Runs the same statement again on the same connection from inside its row callback. */
static fg_rc row_nest(void *ctx, const struct fg_val *cols, int ncols)
{
    struct nest *n = ctx;
    n->sum += cols[0].i;
    if (n->depth >= 3)
        return FG_OK;
    n->depth++;
    fg_rc rc = n->f->ops->exec(n->f->w, "SELECT i FROM t ORDER BY i", NULL, 0, row_nest, n,
                               NULL);
    n->depth--;
    return rc;
}

static void test_statement_cache_nested(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->ops->exec_script(f->w, "INSERT INTO t (i) VALUES (1), (2);"), FG_OK);
    struct nest n = {.f = f};
    assert_int_equal(f->ops->exec(f->w, "SELECT i FROM t ORDER BY i", NULL, 0, row_nest, &n,
                                  NULL),
                     FG_OK);
    /* 2 rows at each of 4 levels, each level entered once per row above it. */
    assert_int_equal(n.sum, 3 * (1 + 2 + 4 + 8));
}

static void test_savepoints(void **state)
{
    struct fixture *f = *state;
    static const char *const ins = "INSERT INTO t (i) VALUES (?1)";
    assert_int_equal(f->ops->rollback(f->w), FG_OK); /* nothing to roll back: fine */
    assert_int_equal(f->ops->begin(f->w), FG_OK);
    struct fg_val v = FG_VINT(1);
    assert_int_equal(f->ops->exec(f->w, ins, &v, 1, NULL, NULL, NULL), FG_OK);
    assert_int_equal(f->ops->savepoint(f->w), FG_OK);
    v = FG_VINT(2);
    assert_int_equal(f->ops->exec(f->w, ins, &v, 1, NULL, NULL, NULL), FG_OK);
    assert_int_equal(f->ops->rollback_to(f->w), FG_OK);
    assert_int_equal(f->ops->savepoint(f->w), FG_OK);
    v = FG_VINT(3);
    assert_int_equal(f->ops->exec(f->w, ins, &v, 1, NULL, NULL, NULL), FG_OK);
    assert_int_equal(f->ops->release(f->w), FG_OK);
    assert_int_equal(f->ops->release(f->w), FG_ERR_STORE); /* no such savepoint */
    assert_int_equal(f->ops->commit(f->w), FG_OK);
    assert_int_equal(query_int(f, f->w, "SELECT sum(i) FROM t"), 4);
    assert_int_equal(f->ops->commit(f->w), FG_ERR_STORE); /* no transaction */

    assert_int_equal(f->ops->begin(f->w), FG_OK);
    assert_int_equal(f->ops->exec(f->w, ins, &v, 1, NULL, NULL, NULL), FG_OK);
    assert_int_equal(f->ops->rollback(f->w), FG_OK);
    assert_int_equal(query_int(f, f->w, "SELECT sum(i) FROM t"), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_is_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_callback_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_maps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_maps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache_evicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_savepoints, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
