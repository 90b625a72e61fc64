/*
 * test_outbox.c — notify/outbox.c: the exact JSON line of API.md; lines reach the sink only
 * after the batch commits (not while the intent runs), never for a failed intent or a
 * rolled-back batch; one failing intent in a batch drops only its own lines; concurrent
 * writers' lines appear in commit order, the table's order; a failed add leaves nothing (a
 * full pending buffer included); recipient and text are sealed in the table and the code is
 * nowhere in the database; validation; the `none` sink; fg_outbox_tail.
 */
#include "notify_fixture.h"

#include <pthread.h>
#include <unistd.h>

#include "base/limits.h"

static int setup_file(void **state)
{
    *state = notify_env_new("outbox", FG_OUTBOX_SINK_FILE);
    return 0;
}

static int teardown(void **state)
{
    notify_env_free(*state);
    return 0;
}

/* ---- intents ------------------------------------------------------------------------------ */

struct add_job {
    struct notify_env *e;
    const struct fg_outbox_msg *msgs;
    int n;
    fg_rc result;     /* of the last add */
    fg_rc intent_rc;  /* what the intent returns when every add worked */
    char *sink_seen;  /* the sink's contents while the intent ran */
};

static fg_rc add_intent(fg_conn *conn, void *arg)
{
    struct add_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        j->result = fg_outbox_add(j->e->ob, conn, &j->msgs[i]);
        if (j->result != FG_OK)
            return j->result;
    }
    free(j->sink_seen);
    j->sink_seen = env_sink(j->e);
    return j->intent_rc;
}

static fg_rc add_msgs(struct notify_env *e, const struct fg_outbox_msg *m, int n, fg_rc intent_rc)
{
    struct add_job j = {.e = e, .msgs = m, .n = n, .intent_rc = intent_rc};
    fg_rc rc = fg_store_write(e->store, add_intent, &j);
    free(j.sink_seen);
    return rc;
}

static const struct fg_outbox_msg msg_login = {
    .to = "+8613800138000",
    .channel = FG_OUTBOX_SMS,
    .purpose = "login",
    .text = "Your finguard login code. Never share it: \"staff\" will not ask.\nline2 \xe4\xbd\xa0\xe5\xa5\xbd",
    .code = "482913",
};

/* ---- shape ------------------------------------------------------------------------------ */

static void check_line(const char *line, int64_t lo_ms, int64_t hi_ms, const char *rest)
{
    static const char head[] = "{\"time\":\"";
    assert_memory_equal(line, head, sizeof head - 1);
    int64_t t = 0;
    assert_int_equal(fg_time_parse_rfc3339(line + sizeof head - 1, FG_TIME_RFC3339_LEN - 1, &t),
                     FG_OK);
    assert_true(t >= lo_ms && t <= hi_ms);
    assert_string_equal(line + sizeof head - 1 + FG_TIME_RFC3339_LEN - 1, rest);
}

static void test_line_shape_exact(void **state)
{
    struct notify_env *e = *state;
    struct fg_outbox_msg notice = {.to = "zhang.san@example.com",
                                   .channel = FG_OUTBOX_EMAIL,
                                   .purpose = "transfer",
                                   .text = "Transfer of 5,000.00 CNY to ****1234 \\ done",
                                   .code = NULL};
    struct fg_outbox_msg both[2] = {msg_login, notice};
    int64_t lo = fg_time_wall_ms();
    assert_int_equal(add_msgs(e, both, 2, FG_OK), FG_OK);
    int64_t hi = fg_time_wall_ms();
    char *s = env_sink(e);
    assert_int_equal(env_lines(s), 2);
    char *second = strchr(s, '\n') + 1;
    second[-1] = '\0';
    check_line(s, lo, hi,
               "\",\"to\":\"+8613800138000\",\"channel\":\"sms\",\"purpose\":\"login\","
               "\"code\":\"482913\",\"text\":\"Your finguard login code. Never share it: "
               "\\\"staff\\\" will not ask.\\nline2 \xe4\xbd\xa0\xe5\xa5\xbd\"}");
    check_line(second, lo, hi,
               "\",\"to\":\"zhang.san@example.com\",\"channel\":\"email\",\"purpose\":\"transfer\","
               "\"text\":\"Transfer of 5,000.00 CNY to ****1234 \\\\ done\"}\n");
    free(s);
    assert_int_equal(env_count(e, "SELECT count(*) FROM outbox_message"), 2);
    assert_int_equal(env_count(e, "SELECT sum(has_code) FROM outbox_message"), 1);
    struct fg_outbox_stats st;
    fg_outbox_stats(e->ob, &st);
    assert_int_equal(st.added, 2);
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.batches, 1);
    assert_int_equal(st.dropped, 0);
}

/* The time stamp follows the injectable wall clock. */
static void test_line_time_is_wall_time(void **state)
{
    struct notify_env *e = *state;
    fg_time_set_offset_s(86400 * 365);
    int64_t lo = fg_time_wall_ms();
    assert_int_equal(add_msgs(e, &msg_login, 1, FG_OK), FG_OK);
    int64_t hi = fg_time_wall_ms();
    char *s = env_sink(e);
    int64_t t = 0;
    assert_int_equal(fg_time_parse_rfc3339(s + 9, FG_TIME_RFC3339_LEN - 1, &t), FG_OK);
    assert_true(t >= lo && t <= hi);
    free(s);
}

/* ---- commit and rollback ------------------------------------------------------------------ */

static void test_only_after_commit(void **state)
{
    struct notify_env *e = *state;
    struct add_job j = {.e = e, .msgs = &msg_login, .n = 1, .intent_rc = FG_OK};
    assert_int_equal(fg_store_write(e->store, add_intent, &j), FG_OK);
    assert_non_null(j.sink_seen);
    assert_string_equal(j.sink_seen, ""); /* while the intent ran: nothing yet */
    free(j.sink_seen);
    char *s = env_sink(e); /* fg_store_write returned: the batch committed, the line is there */
    assert_int_equal(env_lines(s), 1);
    assert_non_null(strstr(s, "\"code\":\"482913\""));
    free(s);
}

static void test_failed_intent_sends_nothing(void **state)
{
    struct notify_env *e = *state;
    assert_int_equal(add_msgs(e, &msg_login, 1, FG_ERR_POLICY), FG_ERR_POLICY);
    char *s = env_sink(e);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(env_count(e, "SELECT count(*) FROM outbox_message"), 0);
    struct fg_outbox_stats st;
    fg_outbox_stats(e->ob, &st);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.batches, 0);
}

static void test_rolled_back_batch_sends_nothing(void **state)
{
    struct notify_env *e = *state;
    unsigned commits = e->inner_commits, intents = e->inner_intents;
    e->fail_batch = 1;
    assert_int_equal(add_msgs(e, &msg_login, 1, FG_OK), FG_ERR_INTERNAL);
    e->fail_batch = 0;
    /* The inner (audit) hooks ran too: after the intent, then the rollback. */
    assert_int_equal(e->inner_intents, intents + 1);
    assert_int_equal(e->inner_rollbacks, 1);
    assert_int_equal(e->inner_commits, commits);
    char *s = env_sink(e);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(env_count(e, "SELECT count(*) FROM outbox_message"), 0);
    /* The next batch starts clean: only its own line goes out. */
    struct fg_outbox_msg m = msg_login;
    m.code = "111111";
    assert_int_equal(add_msgs(e, &m, 1, FG_OK), FG_OK);
    s = env_sink(e);
    assert_int_equal(env_lines(s), 1);
    assert_null(strstr(s, "482913"));
    free(s);
    assert_int_equal(e->inner_commits, commits + 1);
    struct fg_outbox_stats st;
    fg_outbox_stats(e->ob, &st);
    assert_int_equal(st.dropped, 1);
}

/* Several intents in flight at once (likely one batch): the failing one loses only its own. */
struct async_slot {
    struct fg_intent it;
    struct add_job job;
    struct fg_outbox_msg msg;
    char text[32];
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *left;
};

static void async_done(struct fg_intent *it)
{
    struct async_slot *s = it->done_ctx;
    pthread_mutex_lock(s->mu);
    (*s->left)--;
    pthread_cond_signal(s->cv);
    pthread_mutex_unlock(s->mu);
}

static void test_failing_intent_in_batch(void **state)
{
    struct notify_env *e = *state;
    enum { N = 16 };
    struct async_slot *slots = calloc(N, sizeof *slots);
    assert_non_null(slots);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int left = N;
    for (int i = 0; i < N; i++) {
        struct async_slot *s = &slots[i];
        snprintf(s->text, sizeof s->text, "msg-%02d", i);
        s->msg = msg_login;
        s->msg.text = s->text;
        s->job = (struct add_job){.e = e, .msgs = &s->msg, .n = 1,
                                  .intent_rc = i % 5 == 3 ? FG_ERR_CONFLICT : FG_OK};
        s->mu = &mu;
        s->cv = &cv;
        s->left = &left;
        s->it = (struct fg_intent){.fn = add_intent, .arg = &s->job, .done = async_done,
                                   .done_ctx = s};
        assert_int_equal(fg_store_submit(e->store, &s->it), FG_OK);
    }
    pthread_mutex_lock(&mu);
    while (left > 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    char *sink = env_sink(e);
    const char *at = sink;
    for (int i = 0; i < N; i++) {
        assert_int_equal(slots[i].it.rc, i % 5 == 3 ? FG_ERR_CONFLICT : FG_OK);
        const char *hit = strstr(sink, slots[i].text);
        if (i % 5 == 3) {
            assert_null(hit);
        } else {
            assert_non_null(hit);
            assert_true(hit > at); /* submission order = writer order = sink order */
            at = hit;
        }
        free(slots[i].job.sink_seen);
    }
    assert_int_equal(env_lines(sink), N - 3);
    free(sink);
    assert_int_equal(env_count(e, "SELECT count(*) FROM outbox_message"), N - 3);
    free(slots);
}

/* ---- concurrent writers ------------------------------------------------------------------- */

#define WRITERS 4
#define PER_WRITER 40

struct writer_arg {
    struct notify_env *e;
    int id;
    fg_rc rc;
};

static void *writer_main(void *p)
{
    struct writer_arg *w = p;
    for (int i = 0; i < PER_WRITER && w->rc == FG_OK; i++) {
        char text[32];
        snprintf(text, sizeof text, "w%d-%03d", w->id, i);
        struct fg_outbox_msg m = msg_login;
        m.text = text;
        w->rc = add_msgs(w->e, &m, 1, FG_OK);
    }
    return NULL;
}

struct order_ctx {
    struct notify_env *e;
    char (*texts)[32];
    int n;
};

static fg_rc order_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct order_ctx *o = ctx;
    assert_int_equal(ncols, 2);
    char id[33] = {0};
    assert_int_equal(cols[0].n, 32);
    memcpy(id, cols[0].p, 32);
    size_t len = 0;
    assert_true(o->n < WRITERS * PER_WRITER);
    assert_int_equal(fg_protect_open(o->e->k, FG_KEY_PII, "outbox_message", "text_enc", id,
                                     cols[1].p, cols[1].n, (uint8_t *)o->texts[o->n], 31, &len),
                     FG_OK);
    o->texts[o->n][len] = '\0';
    o->n++;
    return FG_OK;
}

static void test_concurrent_batches_ordered(void **state)
{
    struct notify_env *e = *state;
    pthread_t th[WRITERS];
    struct writer_arg args[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (struct writer_arg){.e = e, .id = i, .rc = FG_OK};
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &args[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].rc, FG_OK);
    }
    /* The table's order (rowid: the order the writer ran the intents). */
    char(*texts)[32] = calloc(WRITERS * PER_WRITER, 32);
    assert_non_null(texts);
    struct order_ctx o = {.e = e, .texts = texts};
    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->store, &c), FG_OK);
    assert_int_equal(fg_conn_exec(c, "SELECT id, text_enc FROM outbox_message ORDER BY rowid", NULL,
                                  0, order_row, &o, NULL),
                     FG_OK);
    fg_store_read_release(e->store, c);
    assert_int_equal(o.n, WRITERS * PER_WRITER);
    /* The sink has the same lines in the same order; each writer's own are in its order. */
    char *sink = env_sink(e);
    assert_int_equal(env_lines(sink), WRITERS * PER_WRITER);
    const char *line = sink;
    int next[WRITERS] = {0};
    for (int i = 0; i < o.n; i++) {
        char want[64];
        snprintf(want, sizeof want, "\"text\":\"%s\"}\n", texts[i]);
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        size_t wl = strlen(want);
        assert_true((size_t)(end + 1 - line) >= wl);
        assert_memory_equal(end + 1 - wl, want, wl);
        int w = texts[i][1] - '0';
        int k = (texts[i][3] - '0') * 100 + (texts[i][4] - '0') * 10 + (texts[i][5] - '0');
        assert_int_equal(k, next[w]);
        next[w]++;
        line = end + 1;
    }
    free(sink);
    free(texts);
    struct fg_outbox_stats st;
    fg_outbox_stats(e->ob, &st);
    assert_int_equal(st.sent, WRITERS * PER_WRITER);
    assert_true(st.batches >= 1 && st.batches <= WRITERS * PER_WRITER);
}

/* ---- validation and limits ---------------------------------------------------------------- */

static void test_invalid_messages_leave_nothing(void **state)
{
    struct notify_env *e = *state;
    char long_text[FG_OUTBOX_TEXT_MAX + 2];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    struct {
        struct fg_outbox_msg m;
        fg_rc want;
    } bad[] = {
        {{.to = "+861", .channel = 0, .purpose = "login", .text = ""}, FG_ERR_INVALID},
        {{.to = "", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = ""}, FG_ERR_INVALID},
        {{.to = NULL, .channel = FG_OUTBOX_SMS, .purpose = "login", .text = ""}, FG_ERR_INVALID},
        {{.to = "a b", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = ""}, FG_ERR_INVALID},
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "Login", .text = ""}, FG_ERR_INVALID},
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "", .text = ""}, FG_ERR_INVALID},
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = "a\rb"},
         FG_ERR_INVALID},
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = "\xc0\xaf"},
         FG_ERR_INVALID}, /* overlong '/' */
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = "\xed\xa0\x80"},
         FG_ERR_INVALID}, /* surrogate */
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = "\xe4\xbd"},
         FG_ERR_INVALID}, /* truncated */
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = "\xc2\x85"},
         FG_ERR_INVALID}, /* C1 control NEL */
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = long_text},
         FG_ERR_TOO_LARGE},
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = "", .code = "12 34"},
         FG_ERR_INVALID},
        {{.to = "+861", .channel = FG_OUTBOX_SMS, .purpose = "login", .text = "", .code = ""},
         FG_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct add_job j = {.e = e, .msgs = &bad[i].m, .n = 1, .intent_rc = FG_OK};
        assert_int_equal(fg_store_write(e->store, add_intent, &j), bad[i].want);
        assert_int_equal(j.result, bad[i].want);
        free(j.sink_seen);
    }
    char *s = env_sink(e);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(env_count(e, "SELECT count(*) FROM outbox_message"), 0);
}

/* Adds until the batch's pending buffer is full; the intent keeps what fit and succeeds. */
static fg_rc fill_intent(fg_conn *conn, void *arg)
{
    struct add_job *j = arg;
    struct fg_outbox_msg m = j->msgs[0];
    for (j->n = 0;; j->n++) {
        j->result = fg_outbox_add(j->e->ob, conn, &m);
        if (j->result != FG_OK)
            break;
    }
    return FG_OK;
}

static void test_pending_buffer_full(void **state)
{
    struct notify_env *e = *state;
    char text[FG_OUTBOX_TEXT_MAX + 1];
    memset(text, 'y', FG_OUTBOX_TEXT_MAX);
    text[FG_OUTBOX_TEXT_MAX] = '\0';
    struct fg_outbox_msg m = msg_login;
    m.text = text;
    struct add_job j = {.e = e, .msgs = &m};
    assert_int_equal(fg_store_write(e->store, fill_intent, &j), FG_OK);
    assert_int_equal(j.result, FG_ERR_LIMIT);
    assert_true(j.n > 100);
    char *s = env_sink(e);
    assert_int_equal(env_lines(s), (size_t)j.n);
    assert_true(strlen(s) <= FG_OUTBOX_PENDING_BYTES_MAX);
    free(s);
    assert_int_equal(env_count(e, "SELECT count(*) FROM outbox_message"), j.n);
    /* The next batch has room again. */
    assert_int_equal(add_msgs(e, &msg_login, 1, FG_OK), FG_OK);
}

static void test_table_holds_no_clear_text(void **state)
{
    struct notify_env *e = *state;
    assert_int_equal(add_msgs(e, &msg_login, 1, FG_OK), FG_OK);
    notify_env_close(e); /* checkpoint the WAL into the file */
    assert_int_equal(env_db_count(e, "482913"), 0);
    assert_int_equal(env_db_count(e, "+8613800138000"), 0);
    assert_int_equal(env_db_count(e, "Never share"), 0);
    assert_int_equal(fg_test_file_count(e->sink, "482913", 6), 1);
    notify_env_open(e);
    const char *problem = NULL;
    struct fg_keys_state ks;
    assert_int_equal(fg_keys_unseal_submit(e->k, e->shares[0], &ks, &problem), FG_OK);
    assert_int_equal(ks.sealed, 0);
}

static void test_sink_none(void **state)
{
    struct notify_env *e = *state;
    notify_env_close(e);
    unlink(e->sink);
    e->sink_kind = FG_OUTBOX_SINK_NONE;
    notify_env_open(e);
    const char *problem = NULL;
    assert_int_equal(fg_keys_unseal_submit(e->k, e->shares[0], NULL, &problem), FG_OK);
    assert_int_equal(add_msgs(e, &msg_login, 1, FG_OK), FG_OK);
    assert_null(fg_test_read_file(e->sink, NULL));
    assert_int_equal(env_count(e, "SELECT count(*) FROM outbox_message"), 1);
    enum fg_outbox_sink k;
    assert_int_equal(fg_outbox_sink_parse("none", &k), FG_OK);
    assert_int_equal(k, FG_OUTBOX_SINK_NONE);
    assert_int_equal(fg_outbox_sink_parse("file", &k), FG_OK);
    assert_int_equal(k, FG_OUTBOX_SINK_FILE);
    assert_int_equal(fg_outbox_sink_parse("gateway", &k), FG_ERR_INVALID);
    assert_string_equal(fg_outbox_sink_name(FG_OUTBOX_SINK_FILE), "file");
}

static void test_options_and_registration(void **state)
{
    (void)state;
    fg_outbox *ob = NULL;
    struct fg_outbox_options none = {0};
    assert_int_equal(fg_outbox_new(&none, &ob), FG_ERR_INVALID);
    assert_null(ob);
    fg_protect_registry_clear();
    assert_int_equal(fg_outbox_register_columns(), FG_OK);
    assert_int_equal(fg_outbox_register_columns(), FG_ERR_CONFLICT);
    fg_protect_registry_clear();
}

/* ---- tail --------------------------------------------------------------------------------- */

static char *tail_of(struct notify_env *e, unsigned n, fg_rc want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fg_outbox_tail(e->dir, n, f), want);
    fclose(f);
    return buf;
}

static void test_tail(void **state)
{
    struct notify_env *e = *state;
    char *t = tail_of(e, 3, FG_OK); /* the sink exists from the start, empty */
    assert_string_equal(t, "");
    free(t);
    char other[300];
    snprintf(other, sizeof other, "%s/nowhere", e->dir);
    FILE *devnull = fopen("/dev/null", "w");
    assert_non_null(devnull);
    assert_int_equal(fg_outbox_tail(other, 3, devnull), FG_ERR_NOT_FOUND); /* no sink file */
    fclose(devnull);
    notify_env_close(e);
    /* Lines of varying length across several 4 KiB blocks. */
    static const char pad[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    char line[500][64];
    for (int i = 0; i < 500; i++)
        snprintf(line[i], sizeof line[i], "{\"n\":%d,\"pad\":\"%.*s\"}\n", i, i % 37, pad);
    FILE *f = fopen(e->sink, "w");
    assert_non_null(f);
    for (int i = 0; i < 500; i++)
        fputs(line[i], f);
    fclose(f);
    char want[256];
    snprintf(want, sizeof want, "%s%s", line[498], line[499]);
    t = tail_of(e, 2, FG_OK);
    assert_string_equal(t, want);
    free(t);
    t = tail_of(e, 0, FG_OK);
    assert_string_equal(t, "");
    free(t);
    t = tail_of(e, 300, FG_OK);
    assert_int_equal(env_lines(t), 300);
    assert_memory_equal(t, line[200], strlen(line[200]));
    free(t);
    t = tail_of(e, FG_OUTBOX_TAIL_MAX, FG_OK); /* more than there are: all of them */
    assert_int_equal(env_lines(t), 500);
    assert_memory_equal(t, line[0], strlen(line[0]));
    free(t);
    t = tail_of(e, FG_OUTBOX_TAIL_MAX + 1, FG_ERR_LIMIT);
    free(t);
    /* A torn last line (no newline) counts as a line and is shown as it is. */
    f = fopen(e->sink, "a");
    assert_non_null(f);
    fputs("{\"n\":500,\"to", f);
    fclose(f);
    snprintf(want, sizeof want, "%s{\"n\":500,\"to", line[499]);
    t = tail_of(e, 2, FG_OK);
    assert_string_equal(t, want);
    free(t);
    notify_env_open(e);
}

/* tail over what the outbox itself wrote */
static void test_tail_of_real_lines(void **state)
{
    struct notify_env *e = *state;
    struct fg_outbox_msg m = msg_login;
    char text[16];
    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "n%d", i);
        m.text = text;
        assert_int_equal(add_msgs(e, &m, 1, FG_OK), FG_OK);
    }
    char *t = tail_of(e, 1, FG_OK);
    assert_int_equal(env_lines(t), 1);
    assert_non_null(strstr(t, "\"text\":\"n2\"}\n"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_shape_exact, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_line_time_is_wall_time, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_only_after_commit, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_failed_intent_sends_nothing, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_batch_sends_nothing, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_failing_intent_in_batch, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_batches_ordered, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_messages_leave_nothing, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_pending_buffer_full, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_table_holds_no_clear_text, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_sink_none, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_tail, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_tail_of_real_lines, setup_file, teardown),
        cmocka_unit_test(test_options_and_registration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
