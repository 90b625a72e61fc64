/*
 * test_verify.c — verification of the audit log (src/audit/verify.c).
 *
 * The tamper test builds, per suite, one populated log through the real write path
 * (≥ 300 records in group-committed bursts, failures and refusals among them, a retention
 * cut, checkpoints every 50 records, a final forced checkpoint and the anchor file), stops
 * it, and removes the append-only triggers as an attacker with the file would. Then, for
 * each of N random mutations (FG_AUDIT_MUTATIONS, default 1000 per suite), it copies the
 * pristine database file, applies one mutation with plain SQLite — modify a random field
 * of a random row, delete a row, insert a forged row (renumbering the rest), swap two
 * rows' contents, truncate the tail (checkpoints included), forge a checkpoint in the
 * database or a line of the anchor file — computes the first bad seq the mutation must
 * produce, and requires verification (offline, public key only) to fail at exactly that
 * seq with the right kind of problem. FG_TEST_SEED reproduces a run.
 *
 * Other tests: verification of a live store while the writer appends (one snapshot, no
 * false alarms), forged and mismatching checkpoints, a malformed or torn anchor file,
 * wrong keys, and an empty log.
 */
#include "audit_fixture.h"

#include <inttypes.h>
#include <stdatomic.h>

#include "audit/internal.h"

#define OLD_RECORDS 40 /* written 400 days ago, expired: the chain starts at 41 */
#define NEW_RECORDS 300
#define CP_EVERY 50
#define DAY_S (24 * 3600)

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ull;
}

/* Uniform in [lo, hi]. */
static int64_t rng_in(int64_t lo, int64_t hi)
{
    assert_true(hi >= lo);
    return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

static fg_rc noop_fn(fg_conn *c, void *arg)
{
    (void)c;
    (void)arg;
    return FG_OK;
}

/* n records in bursts of 1..30 intents (group commit), some failing, some denied. */
static void populate(struct test_env *e, int from, int n)
{
    static struct test_job jobs[30];
    int i = from;
    while (i < from + n) {
        int burst = (int)rng_in(1, 30);
        if (burst > from + n - i)
            burst = from + n - i;
        struct test_latch l;
        test_latch_init(&l);
        for (int b = 0; b < burst; b++, i++) {
            test_record(&jobs[b].rec, i % 5 ? "diag.write" : "keys.rotate", i);
            fg_intent_fn fn = test_insert_fn;
            if (i % 7 == 3)
                fn = test_fail_fn;
            if (i % 11 == 5) {
                fg_audit_record_result(&jobs[b].rec, FG_AUDIT_RESULT_DENIED, FG_ERR_PERMISSION);
                fn = noop_fn;
            }
            test_job_submit(e->st, &jobs[b], &l, fn, NULL, 1);
        }
        test_latch_wait(&l, (unsigned)burst);
        test_latch_destroy(&l);
    }
}

struct pristine {
    struct test_env e;
    char work_db[600];
    char work_anchor[600];
    int64_t start, last; /* records start..last */
    char *anchor;        /* the anchor file's text */
    size_t anchor_len;
};

static void pristine_build(struct pristine *p, enum fg_suite suite)
{
    test_env_init(&p->e, "audit-tamper", suite, NULL, CP_EVERY);
    fg_time_set_offset_s(-400 * DAY_S);
    populate(&p->e, 0, OLD_RECORDS);
    fg_time_set_offset_s(0);
    populate(&p->e, OLD_RECORDS, NEW_RECORDS);
    struct fg_audit_expire_result res;
    assert_int_equal(fg_audit_expire(p->e.st, p->e.log, 0, NULL, &res), FG_OK);
    assert_int_equal(res.cut_seq, OLD_RECORDS);
    assert_int_equal(fg_audit_checkpoint_now(p->e.st, p->e.log), FG_OK);
    test_env_stop(&p->e);
    sqlite3 *db = test_sql_open(p->e.db);
    test_sql_drop_triggers(db);
    p->start = OLD_RECORDS + 1;
    p->last = test_sql_int(db, "SELECT max(seq) FROM audit_log");
    assert_int_equal(p->last, OLD_RECORDS + NEW_RECORDS + 1);
    assert_true(test_sql_int(db, "SELECT count(*) FROM audit_checkpoint") >=
                NEW_RECORDS / CP_EVERY);
    sqlite3_close(db);
    snprintf(p->work_db, sizeof p->work_db, "%s/work.db", p->e.dir);
    snprintf(p->work_anchor, sizeof p->work_anchor, "%s/work-anchor.jsonl", p->e.dir);
    p->anchor = fg_test_read_file(p->e.anchor, &p->anchor_len);
    assert_non_null(p->anchor);
    struct fg_audit_report rep;
    test_verify_ok(&p->e, &rep);
    assert_int_equal(rep.start_seq, p->start);
    assert_int_equal(rep.last_seq, p->last);
    assert_true(rep.anchor_lines >= 6);
}

static void pristine_free(struct pristine *p)
{
    free(p->anchor);
    test_env_done(&p->e);
}

static void work_reset(struct pristine *p)
{
    char path[700];
    snprintf(path, sizeof path, "%s-wal", p->work_db);
    unlink(path);
    snprintf(path, sizeof path, "%s-shm", p->work_db);
    unlink(path);
    test_copy_file(p->e.db, p->work_db);
}

/* ---- mutations --------------------------------------------------------------------------- */

struct expectation {
    int64_t seq;
    enum fg_audit_problem problem, problem_alt; /* either is right */
    const char *anchor;                         /* the anchor file to verify against */
    char what[160];
};

static void sqlf(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sqlf(sqlite3 *db, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof sql);
    test_sql_exec(db, sql);
}

static const char *const text_columns[] = {"request_id", "actor_id", "actor_role",  "source_ip",
                                           "device_id",  "action",   "object_type", "object_id",
                                           "error_code", "details"};

#define ALL_BUT_SEQ                                                                                \
    "time_ms, request_id, actor_id, actor_role, source_ip, device_id, action, object_type, "       \
    "object_id, result, error_code, details, key_version, mac"

static void mutate_field(struct pristine *p, sqlite3 *db, struct expectation *x)
{
    int64_t k = rng_in(p->start, p->last);
    int field = (int)rng_in(0, 15);
    x->seq = k;
    x->problem = x->problem_alt = FG_AUDIT_BAD_MAC;
    if (field == 0) {
        if (rng() % 2) {
            int64_t to = p->last + 1000 + k;
            sqlf(db, "UPDATE audit_log SET seq = %" PRId64 " WHERE seq = %" PRId64, to, k);
            x->problem = FG_AUDIT_GAP;
            snprintf(x->what, sizeof x->what, "seq %" PRId64 " renumbered to %" PRId64, k, to);
        } else { /* moved behind the retention cut */
            int64_t to = rng_in(1, p->start - 1);
            sqlf(db, "UPDATE audit_log SET seq = %" PRId64 " WHERE seq = %" PRId64, to, k);
            x->seq = to;
            x->problem = FG_AUDIT_UNEXPECTED;
            snprintf(x->what, sizeof x->what, "seq %" PRId64 " renumbered to %" PRId64, k, to);
        }
        return;
    }
    if (field == 1) {
        sqlf(db, "UPDATE audit_log SET time_ms = time_ms + 1 WHERE seq = %" PRId64, k);
    } else if (field <= 11) {
        const char *col = text_columns[field - 2];
        sqlf(db, "UPDATE audit_log SET %s = %s || 'x' WHERE seq = %" PRId64, col, col, k);
    } else if (field == 12) {
        sqlf(db,
             "UPDATE audit_log SET result = CASE result WHEN 'ok' THEN 'denied' ELSE 'ok' "
             "END WHERE seq = %" PRId64,
             k);
    } else if (field == 13) {
        sqlf(db, "UPDATE audit_log SET key_version = key_version + 1 WHERE seq = %" PRId64, k);
        x->problem = x->problem_alt = FG_AUDIT_UNKNOWN_KEY;
    } else if (field == 14) {
        sqlf(db, "UPDATE audit_log SET mac = randomblob(32) WHERE seq = %" PRId64, k);
    } else {
        sqlf(db, "UPDATE audit_log SET request_id = x'00' WHERE seq = %" PRId64, k);
        x->problem = x->problem_alt = FG_AUDIT_MALFORMED;
    }
    snprintf(x->what, sizeof x->what, "field %d of seq %" PRId64 " modified", field, k);
}

static void mutate_delete(struct pristine *p, sqlite3 *db, struct expectation *x)
{
    int64_t k = rng_in(p->start, p->last);
    sqlf(db, "DELETE FROM audit_log WHERE seq = %" PRId64, k);
    x->seq = k;
    x->problem = x->problem_alt = k == p->last ? FG_AUDIT_TRUNCATED : FG_AUDIT_GAP;
    snprintf(x->what, sizeof x->what, "seq %" PRId64 " deleted", k);
}

static void mutate_insert(struct pristine *p, sqlite3 *db, struct expectation *x)
{
    int64_t k = rng_in(p->start, p->last + 1);
    int64_t from = k;
    if (k <= p->last) { /* make room: everything from k moves up by one */
        sqlf(db, "UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= %" PRId64, k);
        sqlf(db, "UPDATE audit_log SET seq = seq - 999999 WHERE seq >= 1000000");
        from = k + 1;
    } else {
        from = p->last;
    }
    /* A plausible copy of a neighbour with a MAC the forger had to guess. */
    sqlf(db,
         "INSERT INTO audit_log (seq, " ALL_BUT_SEQ ") SELECT %" PRId64 ", time_ms, "
         "request_id, 'forger', actor_role, source_ip, device_id, action, object_type, "
         "object_id, result, error_code, details, key_version, randomblob(32) FROM audit_log "
         "WHERE seq = %" PRId64,
         k, from);
    x->seq = k;
    x->problem = x->problem_alt = FG_AUDIT_BAD_MAC;
    snprintf(x->what, sizeof x->what, "forged row inserted at seq %" PRId64, k);
}

static void mutate_swap(struct pristine *p, sqlite3 *db, struct expectation *x)
{
    int64_t i = rng_in(p->start, p->last - 1);
    int64_t j = rng_in(i + 1, p->last);
    sqlf(db,
         "CREATE TEMP TABLE sw AS SELECT * FROM audit_log WHERE seq IN (%" PRId64 ", %" PRId64 ")",
         i, j);
    sqlf(db,
         "UPDATE audit_log SET (" ALL_BUT_SEQ ") = (SELECT " ALL_BUT_SEQ " FROM sw WHERE "
         "sw.seq = CASE audit_log.seq WHEN %" PRId64 " THEN %" PRId64 " ELSE %" PRId64 " END) "
         "WHERE seq IN (%" PRId64 ", %" PRId64 ")",
         i, j, i, i, j);
    x->seq = i;
    x->problem = x->problem_alt = FG_AUDIT_BAD_MAC;
    snprintf(x->what, sizeof x->what, "rows %" PRId64 " and %" PRId64 " swapped", i, j);
}

static void mutate_truncate(struct pristine *p, sqlite3 *db, struct expectation *x)
{
    int64_t t = rng_in(p->start - 1, p->last - 1);
    sqlf(db, "DELETE FROM audit_log WHERE seq > %" PRId64, t);
    sqlf(db, "DELETE FROM audit_checkpoint WHERE seq > %" PRId64, t);
    x->seq = t + 1;
    x->problem = x->problem_alt = FG_AUDIT_TRUNCATED;
    snprintf(x->what, sizeof x->what, "tail cut after seq %" PRId64, t);
}

static void mutate_checkpoint(struct pristine *p, sqlite3 *db, struct expectation *x)
{
    int64_t rows = test_sql_int(db, "SELECT count(*) FROM audit_checkpoint");
    int64_t pick = rng_in(0, rows - 1);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT id FROM audit_checkpoint ORDER BY id LIMIT 1 OFFSET %" PRId64,
             pick);
    int64_t id = test_sql_int(db, sql);
    snprintf(sql, sizeof sql, "SELECT seq FROM audit_checkpoint WHERE id = %" PRId64, id);
    x->seq = test_sql_int(db, sql);
    static const char *const how[] = {
        "signature = randomblob(length(signature))", "mac = randomblob(32)",
        "time_ms = time_ms + 1", "sign_key_version = sign_key_version + 1",
        "kind = CASE kind WHEN 'checkpoint' THEN 'retention' ELSE 'checkpoint' END"};
    int h = (int)rng_in(0, 3 + (x->seq != p->start - 1)); /* never turn the cut into a plain cp */
    sqlf(db, "UPDATE audit_checkpoint SET %s WHERE id = %" PRId64, how[h], id);
    x->problem = x->problem_alt = FG_AUDIT_CHECKPOINT_SIGNATURE;
    snprintf(x->what, sizeof x->what, "checkpoint at seq %" PRId64 " forged (%s)", x->seq, how[h]);
    (void)p;
}

static void mutate_anchor(struct pristine *p, struct expectation *x)
{
    /* Pick a line, change one hex digit of its mac or sig. */
    long lines = 0;
    for (size_t i = 0; i < p->anchor_len; i++)
        lines += p->anchor[i] == '\n';
    long pick = (long)rng_in(0, lines - 1);
    char *copy = malloc(p->anchor_len + 1);
    assert_non_null(copy);
    memcpy(copy, p->anchor, p->anchor_len + 1);
    char *line = copy;
    for (long l = 0; l < pick; l++)
        line = strchr(line, '\n') + 1;
    const char *member = rng() % 2 ? "\"sig\":\"" : "\"mac\":\"";
    char *hex = strstr(line, member) + strlen(member);
    size_t hex_len = (size_t)(strchr(hex, '"') - hex);
    size_t at = (size_t)rng_in(0, (int64_t)hex_len - 1);
    static const char digits[] = "0123456789abcdef";
    char c;
    do
        c = digits[rng() % 16];
    while (c == hex[at]);
    hex[at] = c;
    x->seq = strtoll(strstr(line, "\"seq\":") + 6, NULL, 10);
    FILE *f = fopen(p->work_anchor, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(copy, 1, p->anchor_len, f), p->anchor_len);
    assert_int_equal(fclose(f), 0);
    free(copy);
    x->anchor = p->work_anchor;
    x->problem = x->problem_alt = FG_AUDIT_CHECKPOINT_SIGNATURE;
    snprintf(x->what, sizeof x->what, "anchor line %ld (seq %" PRId64 ") forged in %s", pick + 1,
             x->seq, member);
}

static void mutate_one(struct pristine *p, int kind, struct expectation *x)
{
    memset(x, 0, sizeof *x);
    x->anchor = p->e.anchor;
    if (kind == 6) {
        mutate_anchor(p, x);
        return;
    }
    sqlite3 *db = test_sql_open(p->work_db);
    switch (kind) {
    case 0:
        mutate_field(p, db, x);
        break;
    case 1:
        mutate_delete(p, db, x);
        break;
    case 2:
        mutate_insert(p, db, x);
        break;
    case 3:
        mutate_swap(p, db, x);
        break;
    case 4:
        mutate_truncate(p, db, x);
        break;
    default:
        mutate_checkpoint(p, db, x);
        break;
    }
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void tamper_suite(enum fg_suite suite, long mutations)
{
    struct pristine p;
    pristine_build(&p, suite);
    long per_kind[7] = {0};
    for (long m = 0; m < mutations; m++) {
        int kind = (int)rng_in(0, 6);
        work_reset(&p);
        struct expectation x;
        mutate_one(&p, kind, &x);
        struct fg_audit_report rep;
        fg_rc rc = fg_audit_verify_file(p.work_db, &p.e.k.verify_keys, x.anchor, &rep);
        int right = rc == FG_ERR_CORRUPT && rep.first_bad_seq == x.seq &&
                    (rep.problem == x.problem || rep.problem == x.problem_alt);
        if (!right)
            fprintf(stderr,
                    "suite %s mutation %ld: %s: expected %s at %" PRId64
                    ", got rc %s, %s at %" PRId64 " (FG_TEST_SEED reproduces)\n",
                    fg_suite_name(suite), m, x.what, fg_audit_problem_name(x.problem), x.seq,
                    fg_rc_name(rc), fg_audit_problem_name(rep.problem), rep.first_bad_seq);
        assert_true(right);
        per_kind[kind]++;
    }
    fprintf(stderr,
            "suite %s: %ld mutations detected exactly (field %ld, delete %ld, insert %ld, "
            "swap %ld, truncate %ld, checkpoint %ld, anchor %ld)\n",
            fg_suite_name(suite), mutations, per_kind[0], per_kind[1], per_kind[2], per_kind[3],
            per_kind[4], per_kind[5], per_kind[6]);
    pristine_free(&p);
}

static void test_tamper(void **state)
{
    (void)state;
    const char *seed = getenv("FG_TEST_SEED");
    rng_state = seed ? strtoull(seed, NULL, 0) : 0x5eed0f1a7c0ffeeull;
    if (rng_state == 0)
        rng_state = 1;
    fprintf(stderr, "tamper seed 0x%" PRIx64 "\n", rng_state);
    const char *env = getenv("FG_AUDIT_MUTATIONS");
    long mutations = env ? strtol(env, NULL, 10) : 1000;
    assert_true(mutations > 0);
    for (int s = 0; s < TEST_SUITES; s++)
        tamper_suite(test_suites[s], mutations);
}

/* ---- forged and mismatching checkpoints, anchor file edge cases -------------------------- */

/* A checkpoint signed with the REAL key but claiming a different MAC (what a bug, or an
 * insider with the signing key but not the audit key, would produce): a mismatch. */
static void append_signed_line(struct test_env *e, const char *path, int64_t seq,
                               const uint8_t mac[FG_HASH_LEN], const uint8_t *priv)
{
    struct audit_checkpoint cp = {
        .kind = AUDIT_CP_CHECKPOINT, .seq = seq, .time_ms = 1, .sign_version = 1};
    memcpy(cp.mac, mac, FG_HASH_LEN);
    uint8_t msg[AUDIT_CP_MESSAGE_LEN];
    audit_cp_message(e->k.suite, &cp, msg);
    assert_int_equal(fg_sign(e->k.suite, priv, msg, sizeof msg, cp.sig, &cp.sig_len), FG_OK);
    struct fg_buf line = FG_BUF_INIT(FG_AUDIT_ANCHOR_LINE_MAX);
    assert_int_equal(audit_anchor_format(e->k.suite, &cp, &line), FG_OK);
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(line.data, 1, line.len, f), line.len);
    assert_int_equal(fclose(f), 0);
    fg_buf_release(&line);
}

/* Lines appended to a copy of the anchor file: foreign, mismatching, malformed, torn. */
static void forgery_anchor(struct test_env *e)
{
    struct fg_audit_report rep;
    test_verify_ok(e, &rep);
    assert_int_equal(rep.anchor_lines, rep.checkpoints);
    char copy[600];
    snprintf(copy, sizeof copy, "%s/forged.jsonl", e->dir);
    /* 1. Signed by another key. */
    test_copy_file(e->anchor, copy);
    uint8_t mac[FG_HASH_LEN] = {1}, other[FG_SIGN_PRIVATE_LEN];
    assert_int_equal(fg_sign_keygen(e->k.suite, other), FG_OK);
    append_signed_line(e, copy, 30, mac, other);
    assert_int_equal(fg_audit_verify_file(e->db, &e->k.verify_keys, copy, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_CHECKPOINT_SIGNATURE);
    assert_int_equal(rep.first_bad_seq, 30);
    assert_true(rep.anchor_line_bad > 0);
    /* 2. Signed by the real key, wrong MAC for seq 12. */
    test_copy_file(e->anchor, copy);
    append_signed_line(e, copy, 12, mac, e->k.priv);
    assert_int_equal(fg_audit_verify_file(e->db, &e->k.verify_keys, copy, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_CHECKPOINT_MISMATCH);
    assert_int_equal(rep.first_bad_seq, 12);
    /* 3. A malformed line: reported, with its line number, as long as nothing is lower. */
    test_copy_file(e->anchor, copy);
    FILE *f = fopen(copy, "ab");
    assert_non_null(f);
    fputs("{\"v\":1,\"kind\":\"checkpoint\"}\n", f);
    fclose(f);
    assert_int_equal(fg_audit_verify_file(e->db, &e->k.verify_keys, copy, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_ANCHOR_MALFORMED);
    assert_int_equal(rep.first_bad_seq, 0);
    assert_int_equal(rep.anchor_line_bad, (int64_t)rep.anchor_lines + 1);
    /* 4. A torn last line (no newline): ignored, flagged. */
    test_copy_file(e->anchor, copy);
    f = fopen(copy, "ab");
    assert_non_null(f);
    fputs("{\"v\":1,\"ki", f);
    fclose(f);
    assert_int_equal(fg_audit_verify_file(e->db, &e->k.verify_keys, copy, &rep), FG_OK);
    assert_int_equal(rep.anchor_partial, 1);
    /* 5. An over-long line-> */
    test_copy_file(e->anchor, copy);
    f = fopen(copy, "ab");
    assert_non_null(f);
    for (int i = 0; i < 3000; i++)
        fputc('x', f);
    fputc('\n', f);
    fclose(f);
    assert_int_equal(fg_audit_verify_file(e->db, &e->k.verify_keys, copy, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_ANCHOR_MALFORMED);
}

/* Wrong keys, and what the anchor adds over the database alone. */
static void forgery_keys(struct test_env *e)
{
    struct fg_audit_report rep;
    /* 6. Wrong keys: the audit key breaks the first record, the public key every checkpoint. */
    struct test_keys wrong;
    test_keys_make(&wrong, e->k.suite);
    struct fg_audit_keys k = e->k.verify_keys;
    k.mac_keys = &wrong.mk;
    assert_int_equal(fg_audit_verify_file(e->db, &k, e->anchor, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_BAD_MAC);
    assert_int_equal(rep.first_bad_seq, 1);
    k = e->k.verify_keys;
    k.public_keys = &wrong.pk;
    assert_int_equal(fg_audit_verify_file(e->db, &k, e->anchor, &rep), FG_ERR_CORRUPT);
    assert_int_equal(rep.problem, FG_AUDIT_CHECKPOINT_SIGNATURE);
    assert_int_equal(rep.first_bad_seq, 5);
    /* 7. No anchor: the database alone; a cut tail after the last DB checkpoint is then
     * invisible — which is why the anchor file exists. */
    sqlite3 *db = test_sql_open(e->db);
    test_sql_drop_triggers(db);
    test_sql_exec(db, "DELETE FROM audit_log WHERE seq > 21; DELETE FROM audit_checkpoint WHERE "
                      "seq > 21");
    sqlite3_close(db);
    assert_int_equal(fg_audit_verify_file(e->db, &e->k.verify_keys, NULL, &rep), FG_OK);
    assert_int_equal(fg_audit_verify_file(e->db, &e->k.verify_keys, e->anchor, &rep),
                     FG_ERR_CORRUPT);
    assert_int_equal(rep.first_bad_seq, 21 + 1);
    assert_int_equal(rep.problem, FG_AUDIT_TRUNCATED);
}

static void forgery_suite(enum fg_suite suite)
{
    struct test_env e;
    test_env_init(&e, "audit-forgery", suite, NULL, 5);
    for (int i = 0; i < 23; i++) { /* one batch each: checkpoints at 5, 10, 15, 20 */
        struct fg_audit_record rec;
        test_record(&rec, "diag.write", i);
        assert_int_equal(fg_audit_write(e.st, test_insert_fn, NULL, &rec), FG_OK);
    }
    assert_int_equal(fg_audit_checkpoint_now(e.st, e.log), FG_OK); /* and 23 */
    test_env_stop(&e);
    forgery_anchor(&e);
    forgery_keys(&e);
    test_env_done(&e);
}

static void test_forgery(void **state)
{
    (void)state;
    rng_state = 42;
    for (int s = 0; s < TEST_SUITES; s++)
        forgery_suite(test_suites[s]);
}

/* ---- a live store ------------------------------------------------------------------------ */

struct live {
    struct test_env *e;
    atomic_int stop;
    atomic_long written;
};

static void *live_writer(void *arg)
{
    struct live *lv = arg;
    int i = 0;
    while (!atomic_load(&lv->stop)) {
        struct fg_audit_record rec;
        test_record(&rec, "diag.write", i++);
        assert_int_equal(fg_audit_write(lv->e->st, test_insert_fn, NULL, &rec), FG_OK);
        atomic_fetch_add(&lv->written, 1);
    }
    return NULL;
}

static void test_verify_live(void **state)
{
    (void)state;
    struct test_env e;
    test_env_init(&e, "audit-live", FG_SUITE_INTL, NULL, 3);
    struct live lv = {.e = &e};
    atomic_init(&lv.stop, 0);
    atomic_init(&lv.written, 0);
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&th[t], NULL, live_writer, &lv), 0);
    int rounds = 0;
    uint64_t seen = 0;
    while (rounds < 40 || atomic_load(&lv.written) < 50) {
        fg_conn *c;
        assert_int_equal(fg_store_read_acquire(e.st, &c), FG_OK);
        struct fg_audit_report rep;
        fg_rc rc = fg_audit_verify(c, &e.k.verify_keys, e.anchor, &rep);
        fg_store_read_release(e.st, c);
        if (rc != FG_OK)
            fprintf(stderr, "live: %s at %" PRId64 "\n", fg_audit_problem_name(rep.problem),
                    rep.first_bad_seq);
        assert_int_equal(rc, FG_OK);
        assert_true(rep.records >= seen); /* snapshots only move forward */
        seen = rep.records;
        rounds++;
    }
    atomic_store(&lv.stop, 1);
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    assert_int_equal(fg_audit_checkpoint_now(e.st, e.log), FG_OK);
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal((long)rep.records, atomic_load(&lv.written));
    test_env_done(&e);
}

/* ---- the pipelined walker on a log longer than a batch ----------------------------------- */

#define LONG_RECORDS 5000

static void long_log(struct test_env *e)
{
    static struct test_job jobs[250];
    for (int i = 0; i < LONG_RECORDS; i += 250) {
        struct test_latch l;
        test_latch_init(&l);
        for (int b = 0; b < 250; b++) {
            test_record(&jobs[b].rec, "diag.write", i + b);
            test_job_submit(e->st, &jobs[b], &l, noop_fn, NULL, 1);
        }
        test_latch_wait(&l, 250);
        test_latch_destroy(&l);
    }
}

struct pipeline_case {
    const char *sql;
    int64_t seq;
    enum fg_audit_problem problem;
};

static void test_pipeline(void **state)
{
    (void)state;
    struct test_env e;
    test_env_init(&e, "audit-pipeline", FG_SUITE_INTL, NULL, 0);
    long_log(&e);
    assert_int_equal(fg_audit_checkpoint_now(e.st, e.log), FG_OK);
    test_env_stop(&e);
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.records, LONG_RECORDS);
    assert_true(rep.canonical_bytes > (uint64_t)LONG_RECORDS * 100);
    sqlite3 *db = test_sql_open(e.db);
    test_sql_drop_triggers(db);
    sqlite3_close(db);
    static const struct pipeline_case cases[] = {
        {"UPDATE audit_log SET mac = zeroblob(32) WHERE seq = 3000", 3000, FG_AUDIT_BAD_MAC},
        {"DELETE FROM audit_log WHERE seq = 4500", 4500, FG_AUDIT_GAP},
        /* the worker's finding below the reader's */
        {"UPDATE audit_log SET mac = zeroblob(32) WHERE seq = 100; "
         "DELETE FROM audit_log WHERE seq = 4000",
         100, FG_AUDIT_BAD_MAC},
        /* the reader's below the worker's */
        {"DELETE FROM audit_log WHERE seq = 100; "
         "UPDATE audit_log SET mac = zeroblob(32) WHERE seq = 4000",
         100, FG_AUDIT_GAP},
        {"UPDATE audit_log SET details = '{}' WHERE seq IN (2047, 2048, 2049)", 2047,
         FG_AUDIT_BAD_MAC},
        {"UPDATE audit_log SET key_version = 9 WHERE seq = 1500; "
         "UPDATE audit_log SET actor_id = 'x' WHERE seq = 1400",
         1400, FG_AUDIT_BAD_MAC},
        {"UPDATE audit_log SET key_version = 9 WHERE seq = 1300; "
         "UPDATE audit_log SET actor_id = 'x' WHERE seq = 1400",
         1300, FG_AUDIT_UNKNOWN_KEY},
        {"DELETE FROM audit_log WHERE seq > 4990; DELETE FROM audit_checkpoint WHERE seq > 4990",
         4991, FG_AUDIT_TRUNCATED},
        {"UPDATE audit_log SET time_ms = time_ms + 1 WHERE seq = 5000", 5000, FG_AUDIT_BAD_MAC},
        {"UPDATE audit_log SET time_ms = time_ms + 1 WHERE seq = 1", 1, FG_AUDIT_BAD_MAC},
    };
    char work[600];
    snprintf(work, sizeof work, "%s/work.db", e.dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s-wal", work);
        unlink(path);
        test_copy_file(e.db, work);
        db = test_sql_open(work);
        test_sql_exec(db, cases[i].sql);
        sqlite3_close(db);
        assert_int_equal(fg_audit_verify_file(work, &e.k.verify_keys, e.anchor, &rep),
                         FG_ERR_CORRUPT);
        if (rep.first_bad_seq != cases[i].seq || rep.problem != cases[i].problem)
            fprintf(stderr, "case %zu: got %s at %" PRId64 "\n", i,
                    fg_audit_problem_name(rep.problem), rep.first_bad_seq);
        assert_int_equal(rep.first_bad_seq, cases[i].seq);
        assert_int_equal(rep.problem, cases[i].problem);
        assert_int_equal(rep.last_seq, cases[i].seq - 1);
        assert_int_equal(rep.records, cases[i].seq - 1);
    }
    test_env_done(&e);
}

static void test_verify_empty(void **state)
{
    (void)state;
    struct test_env e;
    test_env_init(&e, "audit-empty", FG_SUITE_GM, NULL, 0);
    struct fg_audit_report rep;
    test_verify_ok(&e, &rep);
    assert_int_equal(rep.records, 0);
    assert_int_equal(rep.start_seq, 1);
    assert_int_equal(rep.last_seq, 0);
    /* Bad arguments are errors, not findings. */
    struct fg_audit_keys k = e.k.verify_keys;
    k.mac_key_count = 0;
    assert_int_equal(fg_audit_verify_file(e.db, &k, NULL, &rep), FG_ERR_INVALID);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.db", e.dir);
    assert_int_not_equal(fg_audit_verify_file(missing, &e.k.verify_keys, NULL, &rep), FG_OK);
    test_env_done(&e);
}

int main(void)
{
    fg_log_set_level(FG_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_empty), cmocka_unit_test(test_forgery),
        cmocka_unit_test(test_verify_live),  cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_tamper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
