/*
 * test_audit.c — the audit log on the real write path (src/audit/audit.c): records appended
 * by the store hooks in the transaction of their change, group commit with several records
 * per batch, failed changes audited as errors, refused requests audited as denied, a failed
 * COMMIT (fault backend) losing the whole batch's records while the chain continues
 * correctly, checkpoints by count / time / on demand with their anchor lines, restart,
 * refusal to append behind a signed checkpoint, the append-only triggers, retention, and
 * that no secret reaches the database. Every test runs under both suites.
 */
#include "audit_fixture.h"

#include "base/limits.h"

static int64_t count(struct test_env *e, const char *sql)
{
    sqlite3 *db = test_sql_open(e->db);
    int64_t n = test_sql_int(db, sql);
    sqlite3_close(db);
    return n;
}

static void row_text(struct test_env *e, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = test_sql_open(e->db);
    test_sql_text(db, sql, out, cap);
    sqlite3_close(db);
}

static long anchor_lines(struct test_env *e)
{
    return fg_test_file_count(e->anchor, "\n", 1);
}

static void write_n(struct test_env *e, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        struct fg_audit_record rec;
        test_record(&rec, "diag.write", i);
        assert_int_equal(fg_audit_write(e->st, test_insert_fn, NULL, &rec), FG_OK);
        assert_true(rec.seq > 0 && rec.time_ms > 0);
    }
}

/* ---- appending --------------------------------------------------------------------------- */

struct scan_check {
    int64_t rows;
    char first_actor[FG_AUDIT_ACTOR_ID_MAX + 1];
};

static fg_rc scan_cb(void *ctx, const struct fg_audit_record *rec, uint32_t kv,
                     const uint8_t mac[FG_HASH_LEN])
{
    struct scan_check *s = ctx;
    (void)mac;
    assert_int_equal(kv, 1);
    if (s->rows++ == 0)
        snprintf(s->first_actor, sizeof s->first_actor, "%s", rec->actor_id);
    return FG_OK;
}

static void append_suite(enum fg_suite suite)
{
    struct test_env e;
    test_env_init(&e, "audit-append", suite, NULL, 0);
    for (int i = 0; i < 5; i++) {
        struct fg_audit_record rec;
        test_record(&rec, "diag.write", i);
        assert_int_equal(fg_audit_write(e.st, test_insert_fn, NULL, &rec), FG_OK);
        assert_int_equal(rec.seq, i + 1);
    }
    assert_int_equal(fg_audit_committed_seq(e.log), 5);
    /* A failing change is audited as error with its rc, and its change is rolled back. */
    struct fg_audit_record rec;
    test_record(&rec, "diag.write", 5);
    assert_int_equal(fg_audit_write(e.st, test_fail_fn, "must-not-stay", &rec), FG_ERR_CONFLICT);
    assert_int_equal(rec.seq, 6);
    char text[128];
    row_text(&e, "SELECT result || '/' || error_code FROM audit_log WHERE seq = 6", text,
             sizeof text);
    assert_string_equal(text, "error/FG_ERR_CONFLICT");
    assert_int_equal(count(&e, "SELECT count(*) FROM diag_write WHERE payload = 'must-not-stay'"),
                     0);
    /* A refused request. */
    test_record(&rec, "keys.rotate", 6);
    assert_int_equal(fg_audit_write_denied(e.st, &rec, FG_ERR_PERMISSION), FG_OK);
    assert_int_equal(rec.seq, 7);
    row_text(&e, "SELECT result || '/' || error_code FROM audit_log WHERE seq = 7", text,
             sizeof text);
    assert_string_equal(text, "denied/FG_ERR_PERMISSION");
    /* The caller's own error code is kept. */
    test_record(&rec, "diag.write", 7);
    fg_audit_record_result(&rec, FG_AUDIT_RESULT_ERROR, FG_ERR_POLICY);
    assert_int_equal(fg_audit_write(e.st, test_fail_fn, NULL, &rec), FG_ERR_CONFLICT);
    row_text(&e, "SELECT result || '/' || error_code FROM audit_log WHERE seq = 8", text,
             sizeof text);
    assert_string_equal(text, "error/FG_ERR_POLICY");
    /* An intent without a record appends nothing. */
    assert_int_equal(fg_store_write(e.st, test_insert_fn, NULL), FG_OK);
    assert_int_equal(count(&e, "SELECT max(seq) FROM audit_log"), 8);
    /* Read back through a lease. */
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(e.st, &c), FG_OK);
    struct scan_check sc = {0};
    assert_int_equal(fg_audit_scan(c, 2, 100, scan_cb, &sc), FG_OK);
    fg_store_read_release(e.st, c);
    assert_int_equal(sc.rows, 7);
    assert_string_equal(sc.first_actor, "user-1");
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.records, 8);
    assert_int_equal(rep.last_seq, 8);
    assert_int_equal(rep.start_seq, 1);
    test_env_done(&e);
}

static void test_append(void **state)
{
    (void)state;
    for (int s = 0; s < TEST_SUITES; s++)
        append_suite(test_suites[s]);
}

/* ---- group commit ------------------------------------------------------------------------ */

#define GROUP 24

static void group_suite(enum fg_suite suite)
{
    struct test_env e;
    test_env_init(&e, "audit-group", suite, NULL, 0);
    write_n(&e, 0, 2);
    struct test_gate g;
    test_gate_close(&g, e.st);
    static struct test_job jobs[GROUP];
    struct test_latch l;
    test_latch_init(&l);
    for (int i = 0; i < GROUP; i++) {
        test_record(&jobs[i].rec, "diag.write", 100 + i);
        test_job_submit(e.st, &jobs[i], &l, i % 4 == 3 ? test_fail_fn : test_insert_fn, NULL, 1);
    }
    test_gate_open(&g);
    test_latch_wait(&l, GROUP);
    for (int i = 0; i < GROUP; i++) {
        assert_int_equal(jobs[i].batch, jobs[0].batch); /* one transaction */
        assert_int_equal(jobs[i].rc, i % 4 == 3 ? FG_ERR_CONFLICT : FG_OK);
        assert_int_equal(jobs[i].rec.seq, 3 + i); /* submission order */
    }
    assert_true(jobs[0].batch > g.job.batch);
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_log WHERE result = 'error' AND "
                               "error_code = 'FG_ERR_CONFLICT'"),
                     GROUP / 4);
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.records, 2 + GROUP);
    test_latch_destroy(&l);
    test_env_done(&e);
}

static void test_group_commit(void **state)
{
    (void)state;
    for (int s = 0; s < TEST_SUITES; s++)
        group_suite(test_suites[s]);
}

/* ---- a failed COMMIT --------------------------------------------------------------------- */

static void commit_failure_suite(enum fg_suite suite)
{
    struct test_env e;
    fg_store_fault_clear();
    test_env_init(&e, "audit-commitfail", suite, fg_store_fault_ops(fg_store_sqlite_ops()), 4);
    write_n(&e, 0, 3);
    assert_int_equal(anchor_lines(&e), 0);
    struct test_gate g;
    test_gate_close(&g, e.st);
    /* The gate's batch commits (1st COMMIT from now); the next one fails. */
    fg_store_fault_fail_nth(FG_FAULT_COMMIT, 2, FG_ERR_IO);
    static struct test_job jobs[5];
    struct test_latch l;
    test_latch_init(&l);
    for (int i = 0; i < 5; i++) {
        test_record(&jobs[i].rec, "diag.write", 50 + i);
        test_job_submit(e.st, &jobs[i], &l, test_insert_fn, NULL, 1);
    }
    test_gate_open(&g);
    test_latch_wait(&l, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(jobs[i].rc, FG_ERR_IO);
        assert_int_equal(jobs[i].rec.seq, 0); /* never stored */
        assert_int_equal(jobs[i].rec.time_ms, 0);
    }
    fg_store_fault_clear();
    /* The batch's records and its checkpoint (it crossed 4) are gone, and no anchor line. */
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_log"), 3);
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_checkpoint"), 0);
    assert_int_equal(anchor_lines(&e), 0);
    assert_int_equal(fg_audit_committed_seq(e.log), 3);
    /* The chain continues from the last committed record. */
    struct fg_audit_record rec;
    test_record(&rec, "diag.write", 60);
    assert_int_equal(fg_audit_write(e.st, test_insert_fn, NULL, &rec), FG_OK);
    assert_int_equal(rec.seq, 4);
    assert_int_equal(anchor_lines(&e), 1); /* the checkpoint at 4 */
    write_n(&e, 61, 3);
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.records, 7);
    assert_int_equal(rep.anchor_lines, 1);
    /* A failing hook insert (disk full) fails the batch too, and the chain survives. */
    fg_store_fault_disk_full(1);
    test_record(&rec, "diag.write", 70);
    assert_int_equal(fg_audit_write(e.st, fg_audit_record_only, NULL, &rec), FG_ERR_DISK_FULL);
    fg_store_fault_disk_full(0);
    write_n(&e, 71, 1);
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.records, 8);
    test_env_done(&e);
    fg_store_fault_clear();
}

static void test_commit_failure(void **state)
{
    (void)state;
    for (int s = 0; s < TEST_SUITES; s++)
        commit_failure_suite(test_suites[s]);
}

/* ---- checkpoints ------------------------------------------------------------------------- */

static void checkpoints_suite(enum fg_suite suite)
{
    struct test_env e;
    test_env_init(&e, "audit-checkpoint", suite, NULL, 10);
    write_n(&e, 0, 25);
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_checkpoint"), 2);
    assert_int_equal(count(&e, "SELECT group_concat(seq) = '10,20' FROM audit_checkpoint"), 1);
    assert_int_equal(anchor_lines(&e), 2);
    assert_int_equal(fg_audit_checkpoint_now(e.st, e.log), FG_OK);
    assert_int_equal(count(&e, "SELECT max(seq) FROM audit_checkpoint"), 25);
    assert_int_equal(anchor_lines(&e), 3);
    assert_int_equal(fg_audit_checkpoint_now(e.st, e.log), FG_OK); /* nothing new: none */
    assert_int_equal(anchor_lines(&e), 3);
    /* T: a quiet minute later, the next batch checkpoints whatever it appended. */
    write_n(&e, 25, 1);
    assert_int_equal(anchor_lines(&e), 3);
    fg_time_set_offset_s(61);
    write_n(&e, 26, 1);
    fg_time_set_offset_s(0);
    assert_int_equal(count(&e, "SELECT max(seq) FROM audit_checkpoint"), 27);
    assert_int_equal(anchor_lines(&e), 4);
    /* The anchor lines are exactly the database's checkpoints. */
    size_t len;
    char *anchor = fg_test_read_file(e.anchor, &len);
    assert_non_null(anchor);
    assert_non_null(strstr(anchor, "\"seq\":27,"));
    assert_non_null(
        strstr(anchor, suite == FG_SUITE_GM ? "\"suite\":\"gm\"" : "\"suite\":\"intl\""));
    free(anchor);
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.checkpoints, 4);
    assert_int_equal(rep.anchor_lines, 4);
    /* Restart: the chain and the checkpoint schedule continue. */
    test_env_stop(&e);
    test_env_start(&e);
    write_n(&e, 27, 3);
    assert_int_equal(count(&e, "SELECT max(seq) FROM audit_log"), 30);
    assert_int_equal(count(&e, "SELECT max(seq) FROM audit_checkpoint"), 27);
    write_n(&e, 30, 7);
    assert_int_equal(count(&e, "SELECT max(seq) FROM audit_checkpoint"), 37);
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.records, 37);
    test_env_done(&e);
}

static void test_checkpoints(void **state)
{
    (void)state;
    for (int s = 0; s < TEST_SUITES; s++)
        checkpoints_suite(test_suites[s]);
}

/* ---- refusing to append behind a signed checkpoint --------------------------------------- */

static void behind_suite(enum fg_suite suite)
{
    struct test_env e;
    test_env_init(&e, "audit-behind", suite, NULL, 5);
    write_n(&e, 0, 12);
    assert_int_equal(fg_audit_checkpoint_now(e.st, e.log), FG_OK);
    test_env_stop(&e);
    sqlite3 *db = test_sql_open(e.db);
    test_sql_drop_triggers(db);
    test_sql_exec(db, "DELETE FROM audit_log WHERE seq > 8; DELETE FROM audit_checkpoint WHERE "
                      "seq > 8;");
    sqlite3_close(db);
    test_env_start(&e);
    struct fg_audit_record rec;
    test_record(&rec, "diag.write", 99);
    assert_int_equal(fg_audit_write(e.st, test_insert_fn, NULL, &rec), FG_ERR_CORRUPT);
    assert_int_equal(fg_store_write(e.st, test_insert_fn, NULL), FG_OK); /* unaudited: fine */
    struct fg_audit_report rep;
    assert_int_equal(fg_audit_verify_file(e.db, &e.k.verify_keys, e.anchor, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_TRUNCATED);
    assert_int_equal(rep.first_bad_seq, 9);
    test_env_done(&e);
}

static void test_behind_checkpoint(void **state)
{
    (void)state;
    for (int s = 0; s < TEST_SUITES; s++)
        behind_suite(test_suites[s]);
}

/* ---- the append-only triggers ------------------------------------------------------------ */

static fg_rc update_audit_fn(fg_conn *c, void *arg)
{
    (void)arg;
    return fg_conn_exec(c, "UPDATE audit_log SET details = '{}' WHERE seq = 1", NULL, 0, NULL, NULL,
                        NULL);
}

static fg_rc delete_audit_fn(fg_conn *c, void *arg)
{
    (void)arg;
    return fg_conn_exec(c, "DELETE FROM audit_log WHERE seq = 2", NULL, 0, NULL, NULL, NULL);
}

static fg_rc delete_checkpoint_fn(fg_conn *c, void *arg)
{
    (void)arg;
    return fg_conn_exec(c, "DELETE FROM audit_checkpoint", NULL, 0, NULL, NULL, NULL);
}

static void test_append_only(void **state)
{
    (void)state;
    struct test_env e;
    test_env_init(&e, "audit-appendonly", FG_SUITE_INTL, NULL, 2);
    write_n(&e, 0, 3);
    fg_intent_fn fns[] = {update_audit_fn, delete_audit_fn, delete_checkpoint_fn};
    for (int i = 0; i < 3; i++) {
        struct fg_audit_record rec;
        test_record(&rec, "diag.tamper", i);
        assert_int_equal(fg_audit_write(e.st, fns[i], NULL, &rec), FG_ERR_CONFLICT);
    }
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_log WHERE action = 'diag.tamper' AND "
                               "result = 'error'"),
                     3);
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.records, 6);
    test_env_done(&e);
}

/* ---- retention --------------------------------------------------------------------------- */

#define DAY_S (24 * 3600)

static void expire_suite(enum fg_suite suite)
{
    struct test_env e;
    test_env_init(&e, "audit-expire", suite, NULL, 8);
    fg_time_set_offset_s(-400 * DAY_S);
    write_n(&e, 0, 20);
    fg_time_set_offset_s(0);
    write_n(&e, 20, 10);
    struct fg_audit_actor who = {.actor_id = "auditor-1", .actor_role = "auditor"};
    struct fg_audit_expire_result res;
    /* Below the minimum: refused, and the refusal is audited. */
    assert_int_equal(fg_audit_expire(e.st, e.log, 100LL * DAY_S * 1000, &who, &res), FG_ERR_POLICY);
    assert_int_equal(res.record_seq, 31);
    char text[256];
    row_text(&e,
             "SELECT action || '/' || result || '/' || error_code FROM audit_log WHERE seq = 31",
             text, sizeof text);
    assert_string_equal(text, "audit.expire/denied/FG_ERR_POLICY");
    /* The default year. */
    assert_int_equal(fg_audit_expire(e.st, e.log, 0, &who, &res), FG_OK);
    assert_int_equal(res.cut_seq, 20);
    assert_int_equal(res.deleted, 20);
    assert_int_equal(res.more, 0);
    assert_int_equal(res.record_seq, 32);
    assert_int_equal(count(&e, "SELECT min(seq) FROM audit_log"), 21);
    row_text(&e, "SELECT details FROM audit_log WHERE seq = 32", text, sizeof text);
    assert_string_equal(text, "{\"cut_seq\":20,\"deleted\":20,\"more\":false,"
                              "\"older_than_ms\":31536000000}");
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_checkpoint WHERE kind = 'retention' "
                               "AND seq = 20"),
                     1);
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_checkpoint WHERE kind = 'checkpoint' "
                               "AND seq <= 20"),
                     0);
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.start_seq, 21);
    assert_int_equal(rep.records, 12);
    /* Nothing more to expire: still audited. */
    assert_int_equal(fg_audit_expire(e.st, e.log, 0, &who, &res), FG_OK);
    assert_int_equal(res.deleted, 0);
    assert_int_equal(res.cut_seq, 0);
    assert_int_equal(res.record_seq, 33);
    /* Restart, then a year later everything goes; the chain continues after the cut. */
    test_env_stop(&e);
    test_env_start(&e);
    write_n(&e, 40, 1);
    assert_int_equal(count(&e, "SELECT max(seq) FROM audit_log"), 34);
    fg_time_set_offset_s(400 * DAY_S);
    assert_int_equal(fg_audit_expire(e.st, e.log, 0, NULL, &res), FG_OK);
    assert_int_equal(res.cut_seq, 34);
    assert_int_equal(res.deleted, 14);
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_log"), 1);
    assert_int_equal(count(&e, "SELECT min(seq) FROM audit_log"), 35);
    test_env_stop(&e);
    test_env_start(&e);
    write_n(&e, 41, 2);
    fg_time_set_offset_s(0);
    assert_int_equal(count(&e, "SELECT max(seq) FROM audit_log"), 37);
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.start_seq, 35);
    assert_int_equal(rep.records, 3);
    test_env_done(&e);
}

static void test_expire(void **state)
{
    (void)state;
    for (int s = 0; s < TEST_SUITES; s++)
        expire_suite(test_suites[s]);
}

static void test_expire_refuses_tampered(void **state)
{
    (void)state;
    struct test_env e;
    test_env_init(&e, "audit-expire-tamper", FG_SUITE_INTL, NULL, 0);
    fg_time_set_offset_s(-400 * DAY_S);
    write_n(&e, 0, 10);
    fg_time_set_offset_s(0);
    write_n(&e, 10, 5);
    test_env_stop(&e);
    sqlite3 *db = test_sql_open(e.db);
    test_sql_drop_triggers(db);
    test_sql_exec(db, "UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 3");
    sqlite3_close(db);
    test_env_start(&e);
    struct fg_audit_expire_result res;
    assert_int_equal(fg_audit_expire(e.st, e.log, 0, NULL, &res), FG_ERR_CORRUPT);
    assert_int_equal(res.deleted, 0);
    assert_int_equal(res.record_seq, 16);
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_log"), 16); /* evidence kept */
    assert_int_equal(count(&e, "SELECT count(*) FROM audit_checkpoint WHERE kind = 'retention'"),
                     0);
    struct fg_audit_report rep;
    assert_int_equal(fg_audit_verify_file(e.db, &e.k.verify_keys, e.anchor, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_BAD_MAC);
    assert_int_equal(rep.first_bad_seq, 3);
    test_env_done(&e);
}

/* ---- secrets ----------------------------------------------------------------------------- */

static void test_no_secret_stored(void **state)
{
    (void)state;
    struct test_env e;
    test_env_init(&e, "audit-secrets", FG_SUITE_GM, NULL, 0);
    static const char *const secrets[] = {"S3cr3t-P4ss!",     "otp-777111",         "tok_9f8e7d6c",
                                          "4111111111111111", "11010519491231002X", "shard-A1"};
    struct fg_audit_record rec;
    test_record(&rec, "auth.password_change", 1);
    char d[512];
    int n = snprintf(d, sizeof d,
                     "{\"password\":\"%s\",\"login\":{\"otp\":\"%s\",\"access_token\":\"%s\"},"
                     "\"memo\":\"card %s\",\"holder\":\"%s\",\"unseal_share\":\"%s\"}",
                     secrets[0], secrets[1], secrets[2], secrets[3], secrets[4], secrets[5]);
    assert_int_equal(fg_audit_record_details(&rec, d, (size_t)n), FG_OK);
    assert_int_equal(fg_audit_write(e.st, test_insert_fn, NULL, &rec), FG_OK);
    /* Filled by hand, bypassing the setter: the hook redacts it anyway. */
    test_record(&rec, "auth.login", 2);
    memcpy(rec.details, d, (size_t)n + 1);
    rec.details_redacted_ = 0;
    assert_int_equal(fg_audit_write(e.st, test_insert_fn, NULL, &rec), FG_OK);
    /* Hand-filled and not even JSON: replaced, never stored raw. */
    test_record(&rec, "auth.login", 3);
    n = snprintf(rec.details, sizeof rec.details, "password=%s", secrets[0]);
    rec.details_redacted_ = 0;
    assert_int_equal(fg_audit_write(e.st, test_insert_fn, NULL, &rec), FG_OK);
    char text[256];
    row_text(&e, "SELECT details FROM audit_log WHERE seq = 3", text, sizeof text);
    assert_string_equal(text, "{\"redaction\":\"failed\"}");
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    test_env_stop(&e);
    char path[600];
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        assert_int_equal(fg_test_file_count(e.db, secrets[i], strlen(secrets[i])), 0);
        snprintf(path, sizeof path, "%s-wal", e.db);
        assert_true(fg_test_file_count(path, secrets[i], strlen(secrets[i])) <= 0);
        assert_true(fg_test_file_count(e.anchor, secrets[i], strlen(secrets[i])) <= 0);
    }
    test_env_done(&e);
}

/* ---- opening ----------------------------------------------------------------------------- */

static void test_open_checks(void **state)
{
    (void)state;
    struct test_keys k, other;
    test_keys_make(&k, FG_SUITE_INTL);
    test_keys_make(&other, FG_SUITE_INTL);
    fg_audit_log *log = NULL;
    struct fg_audit_options o = {.keys = k.keys};
    assert_int_equal(fg_audit_open(&o, &log), FG_OK);
    fg_audit_close(log);
    o.keys.public_keys = &other.pk; /* not the private key's pair */
    assert_int_equal(fg_audit_open(&o, &log), FG_ERR_CRYPTO);
    assert_null(log);
    o.keys = k.keys;
    o.keys.sign_private = NULL;
    assert_int_equal(fg_audit_open(&o, &log), FG_ERR_INVALID);
    o.keys = k.keys;
    struct fg_audit_mac_key short_key = {.version = 1, .key = k.mac, .len = 16};
    o.keys.mac_keys = &short_key;
    assert_int_equal(fg_audit_open(&o, &log), FG_ERR_INVALID);
    o.keys = k.keys;
    o.keys.sign_version = 2; /* no public key of that version */
    assert_int_equal(fg_audit_open(&o, &log), FG_ERR_INVALID);
    o.keys = k.keys;
    o.checkpoint_records = FG_AUDIT_CHECKPOINT_RECORDS_MAX + 1;
    assert_int_equal(fg_audit_open(&o, &log), FG_ERR_INVALID);
    o.checkpoint_records = 0;
    o.anchor_path = "/nonexistent-dir/anchor.jsonl";
    assert_int_equal(fg_audit_open(&o, &log), FG_ERR_IO);
    /* Two MAC key versions: new records use the highest. */
    char dir[256], db[512];
    fg_test_tmpdir("audit-versions", dir, sizeof dir);
    snprintf(db, sizeof db, "%s/finguard.db", dir);
    uint8_t mac2[32];
    memset(mac2, 0x5A, sizeof mac2);
    struct fg_audit_mac_key two[2] = {k.mk, {.version = 7, .key = mac2, .len = 32}};
    o = (struct fg_audit_options){.keys = k.keys};
    o.keys.mac_keys = two;
    o.keys.mac_key_count = 2;
    struct fg_store_options so = {.path = db};
    fg_store *st;
    assert_int_equal(fg_store_open(&so, &st), FG_OK);
    assert_int_equal(fg_audit_open(&o, &log), FG_OK);
    fg_audit_attach(st, log);
    struct fg_audit_record rec;
    test_record(&rec, "keys.rotate", 1);
    assert_int_equal(fg_audit_write(st, fg_audit_record_only, NULL, &rec), FG_OK);
    fg_store_close(st);
    fg_audit_close(log);
    struct fg_audit_report rep;
    struct fg_audit_keys vk = o.keys;
    vk.sign_private = NULL;
    assert_int_equal(fg_audit_verify_file(db, &vk, NULL, &rep), FG_OK);
    vk.mac_key_count = 1; /* only version 1: the record names 7 */
    assert_int_equal(fg_audit_verify_file(db, &vk, NULL, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_UNKNOWN_KEY);
    assert_int_equal(rep.first_bad_seq, 1);
    fg_test_rmtree(dir);
}

int main(void)
{
    fg_log_set_level(FG_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_commit_failure),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_behind_checkpoint),
        cmocka_unit_test(test_append_only),
        cmocka_unit_test(test_expire),
        cmocka_unit_test(test_expire_refuses_tampered),
        cmocka_unit_test(test_no_secret_stored),
        cmocka_unit_test(test_open_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
