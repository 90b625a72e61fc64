/*
 * test_event.c — event/event.c: emit + scan round trip in seq order with paging (MON-1);
 * events commit and roll back with their intent; attributes are redacted before they are
 * stored — a "pan" key, a card number as a string, inside a longer string, as a bare
 * integer, in an array — and the card number is nowhere in the database file; refusals of
 * malformed types, fields and attributes.
 * Issue #6: retention (fg_event_prune deletes only the oldest rows before the cutoff, at
 * most max_rows per call), the investigation query (fg_event_query: each filter, time
 * bounds, cursor, limits), fg_event_login_target (known answer: "h:" + 16 nibbles a..p of SHA-256
 * of the lower-cased name), fg_event_emit_json and fg_event_token.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "event/event.h"
#include "store/store.h"

#define PAN "4111111111111111" /* a Luhn-valid test card number */

struct env {
    char dir[256];
    char db[512];
    fg_store *store;
};

static struct env *env_new(const char *name)
{
    struct env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(fg_crypto_init(), FG_OK);
    fg_test_tmpdir(name, e->dir, sizeof e->dir);
    snprintf(e->db, sizeof e->db, "%s/finguard.db", e->dir);
    struct fg_store_options so = {.path = e->db};
    assert_int_equal(fg_store_open(&so, &e->store), FG_OK);
    return e;
}

static void env_free(struct env *e)
{
    fg_store_close(e->store);
    fg_test_rmtree(e->dir);
    free(e);
}

struct emit {
    struct fg_event ev;
    int64_t now;
    int fail_after; /* return an error after emitting: the event must vanish */
};

static fg_rc emit_fn(fg_conn *c, void *arg)
{
    struct emit *x = arg;
    fg_rc rc = fg_event_emit(c, &x->ev, x->now);
    return rc == FG_OK && x->fail_after ? FG_ERR_POLICY : rc;
}

static fg_rc emit(struct env *e, const char *type, const char *attrs, int64_t now)
{
    struct emit x = {.ev = {.type = type,
                            .actor_id = "u_1",
                            .source_ip = "10.0.0.1",
                            .device_id = "dev_9",
                            .object_type = "account",
                            .object_id = "acc_1",
                            .attrs_json = attrs},
                     .now = now};
    return fg_store_write(e->store, emit_fn, &x);
}

struct seen {
    int n;
    int64_t seq[16], time[16];
    char type[16][FG_EVENT_TYPE_MAX + 1];
    char attrs[16][FG_EVENT_ATTRS_MAX + 1];
    char actor[16][FG_EVENT_ACTOR_ID_MAX + 1];
};

static fg_rc seen_fn(void *ctx, int64_t seq, int64_t time_ms, const struct fg_event *ev)
{
    struct seen *s = ctx;
    assert_true(s->n < 16);
    s->seq[s->n] = seq;
    s->time[s->n] = time_ms;
    snprintf(s->type[s->n], sizeof s->type[0], "%s", ev->type);
    snprintf(s->attrs[s->n], sizeof s->attrs[0], "%s", ev->attrs_json);
    snprintf(s->actor[s->n], sizeof s->actor[0], "%s", ev->actor_id);
    s->n++;
    return FG_OK;
}

static struct seen scan(struct env *e, int64_t after, unsigned limit)
{
    struct seen s;
    memset(&s, 0, sizeof s);
    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->store, &c), FG_OK);
    assert_int_equal(fg_event_scan(c, after, limit, seen_fn, &s), FG_OK);
    fg_store_read_release(e->store, c);
    return s;
}

static void test_emit_scan(void **state)
{
    (void)state;
    struct env *e = env_new("event_scan");
    assert_int_equal(emit(e, "login.failed", "{\"reason\":\"password\"}", 100), FG_OK);
    assert_int_equal(emit(e, "transfer.committed", "{\"amount\":500,\"currency\":\"CNY\"}", 200),
                     FG_OK);
    assert_int_equal(emit(e, "account.frozen", NULL, 300), FG_OK);
    /* an intent that fails takes its event with it */
    struct emit x = {.ev = {.type = "ghost.event"}, .now = 400, .fail_after = 1};
    assert_int_equal(fg_store_write(e->store, emit_fn, &x), FG_ERR_POLICY);

    struct seen s = scan(e, 0, 10);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.type[0], "login.failed");
    assert_string_equal(s.type[1], "transfer.committed");
    assert_string_equal(s.type[2], "account.frozen");
    assert_true(s.seq[0] < s.seq[1] && s.seq[1] < s.seq[2]);
    assert_int_equal(s.time[1], 200);
    assert_string_equal(s.actor[0], "u_1");
    assert_string_equal(s.attrs[1], "{\"amount\":500,\"currency\":\"CNY\"}");
    assert_string_equal(s.attrs[2], "{}");
    /* paging: after a seq, at most limit */
    struct seen p = scan(e, s.seq[0], 1);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.seq[0], s.seq[1]);
    p = scan(e, s.seq[2], 10);
    assert_int_equal(p.n, 0);

    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->store, &c), FG_OK);
    assert_int_equal(fg_event_scan(c, 0, 0, seen_fn, &p), FG_ERR_INVALID);
    assert_int_equal(fg_event_scan(c, 0, FG_EVENT_SCAN_MAX + 1, seen_fn, &p), FG_ERR_INVALID);
    fg_store_read_release(e->store, c);
    env_free(e);
}

static void test_redaction(void **state)
{
    (void)state;
    struct env *e = env_new("event_redact");
    const char *inputs[] = {
        "{\"pan\":\"" PAN "\"}",                           /* the key rule */
        "{\"card\":\"" PAN "\"}",                          /* the value rule */
        "{\"note\":\"paid with 4111 1111 1111 1111 ok\"}", /* inside a longer string */
        "{\"n\":" PAN "}",                                 /* a bare number */
        "{\"list\":[1,\"x" PAN "y\"]}",                    /* in an array */
        "{\"deep\":{\"card_pan\":123}}",                   /* key rule at depth */
    };
    const char *want[] = {
        "{\"pan\":\"[redacted]\"}",      "{\"card\":\"[redacted]\"}",
        "{\"note\":\"[redacted]\"}",     "{\"n\":\"[redacted]\"}",
        "{\"list\":[1,\"[redacted]\"]}", "{\"deep\":{\"card_pan\":\"[redacted]\"}}",
    };
    size_t n = sizeof inputs / sizeof inputs[0];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(emit(e, "test.redact", inputs[i], 1), FG_OK);
    /* short digit runs and amounts stay */
    assert_int_equal(emit(e, "test.keep", "{\"amount\":123456,\"ref\":\"order 12345\"}", 1), FG_OK);
    struct seen s = scan(e, 0, 16);
    assert_int_equal(s.n, (int)n + 1);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(s.attrs[i], want[i]);
    assert_string_equal(s.attrs[n], "{\"amount\":123456,\"ref\":\"order 12345\"}");
    fg_store_close(e->store); /* checkpoint the WAL into the file */
    e->store = NULL;
    assert_int_equal(fg_test_file_count(e->db, PAN, strlen(PAN)), 0);
    assert_int_equal(fg_test_file_count(e->db, "4111 1111", 9), 0);
    struct fg_store_options so = {.path = e->db};
    assert_int_equal(fg_store_open(&so, &e->store), FG_OK);
    env_free(e);
}

static void test_refusals(void **state)
{
    (void)state;
    struct env *e = env_new("event_refuse");
    assert_int_equal(emit(e, "", "{}", 1), FG_ERR_INVALID);
    assert_int_equal(emit(e, NULL, "{}", 1), FG_ERR_INVALID);
    assert_int_equal(emit(e, "Login.Failed", "{}", 1), FG_ERR_INVALID);
    assert_int_equal(emit(e, "a b", "{}", 1), FG_ERR_INVALID);
    char longtype[FG_EVENT_TYPE_MAX + 2];
    memset(longtype, 'a', sizeof longtype - 1);
    longtype[sizeof longtype - 1] = '\0';
    assert_int_equal(emit(e, longtype, "{}", 1), FG_ERR_TOO_LARGE);
    longtype[FG_EVENT_TYPE_MAX] = '\0';
    assert_int_equal(emit(e, longtype, "{}", 1), FG_OK); /* exactly 48 */
    assert_int_equal(emit(e, "x.y", "[1]", 1), FG_ERR_INVALID);
    assert_int_equal(emit(e, "x.y", "{", 1), FG_ERR_INVALID);
    assert_int_equal(emit(e, "x.y", "{\"a\":1,\"a\":2}", 1), FG_ERR_INVALID);
    assert_int_equal(emit(e, "x.y", "{\"" PAN "\":1}", 1), FG_ERR_INVALID); /* a PAN as key */
    char *big = malloc(FG_EVENT_ATTRS_MAX + 64);
    assert_non_null(big);
    int len = snprintf(big, FG_EVENT_ATTRS_MAX + 64, "{\"x\":\"%0*d\"}", FG_EVENT_ATTRS_MAX, 0);
    assert_true(len > (int)FG_EVENT_ATTRS_MAX);
    memset(big + 6, 'a', FG_EVENT_ATTRS_MAX);
    assert_int_equal(emit(e, "x.y", big, 1), FG_ERR_TOO_LARGE);
    free(big);
    struct emit x = {.ev = {.type = "x.y", .actor_id = "has space"}, .now = 1};
    assert_int_equal(fg_store_write(e->store, emit_fn, &x), FG_ERR_INVALID);
    x.ev.actor_id = NULL;
    x.ev.object_id = PAN; /* an object id is never a card number */
    assert_int_equal(fg_store_write(e->store, emit_fn, &x), FG_ERR_INVALID);
    struct seen s = scan(e, 0, 16);
    assert_int_equal(s.n, 1);
    env_free(e);
}

/* ---- issue #6: retention, query, helpers ----------------------------------------------- */

struct prune {
    int64_t cutoff;
    unsigned max;
    int64_t deleted;
};

static fg_rc prune_fn(fg_conn *c, void *arg)
{
    struct prune *p = arg;
    return fg_event_prune(c, p->cutoff, p->max, &p->deleted);
}

/* MON-1 retention: the oldest first, only before the cutoff, in batches. */
static void test_prune(void **state)
{
    (void)state;
    struct env *e = env_new("event_prune");
    for (int i = 1; i <= 10; i++)
        assert_int_equal(emit(e, "login.failed", NULL, i * 1000), FG_OK);
    struct prune p = {.cutoff = 5500, .max = 3}; /* 5 rows are older: 1000..5000 */
    assert_int_equal(fg_store_write(e->store, prune_fn, &p), FG_OK);
    assert_int_equal(p.deleted, 3);
    struct seen s = scan(e, 0, 16);
    assert_int_equal(s.n, 7);
    assert_int_equal(s.time[0], 4000); /* the three oldest went first */
    assert_int_equal(fg_store_write(e->store, prune_fn, &p), FG_OK);
    assert_int_equal(p.deleted, 2); /* fewer than max: done */
    assert_int_equal(fg_store_write(e->store, prune_fn, &p), FG_OK);
    assert_int_equal(p.deleted, 0);
    s = scan(e, 0, 16);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.time[0], 6000);
    assert_int_equal(s.time[4], 10000);
    p.max = 0;
    assert_int_equal(fg_store_write(e->store, prune_fn, &p), FG_ERR_INVALID);
    p.max = FG_EVENT_PRUNE_BATCH_MAX + 1;
    assert_int_equal(fg_store_write(e->store, prune_fn, &p), FG_ERR_INVALID);
    /* seq keeps growing after a prune (AUTOINCREMENT): a consumer's cursor stays valid */
    int64_t last = s.seq[4];
    assert_int_equal(emit(e, "login.failed", NULL, 11000), FG_OK);
    s = scan(e, last, 16);
    assert_int_equal(s.n, 1);
    assert_true(s.seq[0] > last);
    env_free(e);
}

struct ev_full {
    struct fg_event ev;
    json_t *attrs;
    int64_t now;
};

static fg_rc emit_json_fn(fg_conn *c, void *arg)
{
    struct ev_full *x = arg;
    return fg_event_emit_json(c, &x->ev, x->attrs, x->now);
}

static void put(struct env *e, const char *type, const char *actor, const char *ip,
                const char *otype, const char *oid, json_t *attrs, int64_t now)
{
    struct ev_full x = {.ev = {.type = type,
                               .actor_id = actor,
                               .source_ip = ip,
                               .object_type = otype,
                               .object_id = oid},
                        .attrs = attrs,
                        .now = now};
    assert_int_equal(fg_store_write(e->store, emit_json_fn, &x), FG_OK);
}

static struct seen query(struct env *e, const struct fg_event_query *q)
{
    struct seen s;
    memset(&s, 0, sizeof s);
    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->store, &c), FG_OK);
    assert_int_equal(fg_event_query(c, q, seen_fn, &s), FG_OK);
    fg_store_read_release(e->store, c);
    return s;
}

/* GET /v1/events underneath (MON-1, INC-2): each filter and the cursor. */
static void test_query(void **state)
{
    (void)state;
    struct env *e = env_new("event_query");
    put(e, "login.failed", "anonymous", "203.0.113.9", NULL, NULL,
        json_pack("{s:s, s:s}", "target", "h:0011223344556677", "result", "bad"), 1000);
    put(e, "login.failed", "u_1", "203.0.113.9", "user", "u_1",
        json_pack("{s:s, s:s}", "user", "u_1", "result", "bad"), 2000);
    put(e, "transfer.committed", "u_2", "198.51.100.7", "account", "acc_1",
        json_pack("{s:s, s:s, s:s, s:I}", "from", "acc_1", "to", "acc_2", "customer", "cus_1",
                  "amount", (json_int_t)500),
        3000);
    put(e, "statement.read", "u_3", "10.0.0.1", "account", "acc_2",
        json_pack("{s:s, s:s, s:I}", "account", "acc_2", "customer", "cus_2", "rows",
                  (json_int_t)50),
        4000);
    put(e, "role.granted", "u_3", "10.0.0.1", "user", "u_1", json_pack("{s:s}", "user", "u_1"),
        5000);
    struct fg_event_query q = {.limit = 10};
    struct seen s = query(e, &q);
    assert_int_equal(s.n, 5);
    q.type = "login.failed";
    s = query(e, &q);
    assert_int_equal(s.n, 2);
    q.type = NULL;
    q.ip = "203.0.113.9";
    assert_int_equal(query(e, &q).n, 2);
    q.ip = NULL;
    q.user = "u_1"; /* the actor, the object and attrs.user */
    s = query(e, &q);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.type[1], "role.granted");
    q.user = "u_3"; /* as the actor */
    assert_int_equal(query(e, &q).n, 2);
    q.user = NULL;
    q.account = "acc_2"; /* attrs.to of the transfer, the object of the statement read */
    s = query(e, &q);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.type[0], "transfer.committed");
    assert_string_equal(s.type[1], "statement.read");
    q.account = NULL;
    q.customer = "cus_1";
    s = query(e, &q);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.type[0], "transfer.committed");
    q.customer = NULL;
    q.since_ms = 2000;
    q.until_ms = 4000; /* [since, until) */
    s = query(e, &q);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.time[0], 2000);
    assert_int_equal(s.time[1], 3000);
    q.since_ms = q.until_ms = 0;
    q.limit = 2; /* paging by seq */
    s = query(e, &q);
    assert_int_equal(s.n, 2);
    q.after_seq = s.seq[1];
    s = query(e, &q);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.time[0], 3000);
    q.type = "no.such";
    assert_int_equal(query(e, &q).n, 0);
    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->store, &c), FG_OK);
    struct seen dummy;
    q.limit = 0;
    assert_int_equal(fg_event_query(c, &q, seen_fn, &dummy), FG_ERR_INVALID);
    q.limit = FG_EVENT_QUERY_MAX + 1;
    assert_int_equal(fg_event_query(c, &q, seen_fn, &dummy), FG_ERR_INVALID);
    q.limit = 1;
    q.since_ms = -1;
    assert_int_equal(fg_event_query(c, &q, seen_fn, &dummy), FG_ERR_INVALID);
    fg_store_read_release(e->store, c);
    env_free(e);
}

/* Known answer: SHA-256("alice") =
 * 2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90. */
static void test_login_target(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    char t[FG_EVENT_TARGET_SIZE];
    assert_int_equal(fg_event_login_target("alice", t), FG_OK);
    assert_string_equal(t, "h:clniagmjhpaoaakp"); /* hex 2bd806c97f0e00af as a..p */
    char u[FG_EVENT_TARGET_SIZE];
    assert_int_equal(fg_event_login_target("ALICE", u), FG_OK); /* lower-cased first */
    assert_string_equal(u, t);
    assert_int_equal(fg_event_login_target("alicf", u), FG_OK);
    assert_string_not_equal(u, t);
    assert_int_equal(strlen(u), FG_EVENT_TARGET_SIZE - 1);
}

static void test_helpers(void **state)
{
    (void)state;
    assert_string_equal(fg_event_token("dev-1", 8), "dev-1");
    assert_string_equal(fg_event_token("has space", 64), "");
    assert_string_equal(fg_event_token("toolongvalue", 4), "");
    assert_string_equal(fg_event_token(NULL, 4), "");
    assert_string_equal(fg_event_token("caf\xc3\xa9", 64), "");
    struct env *e = env_new("event_json");
    put(e, "user.locked", "u_1", "10.0.0.1", "user", "u_1", NULL, 10); /* NULL attrs: {} */
    put(e, "user.locked", "u_1", "10.0.0.1", "user", "u_1",
        json_pack("{s:s}", "note", "paid with " PAN), 20); /* still redacted */
    struct seen s = scan(e, 0, 16);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.attrs[0], "{}");
    assert_null(strstr(s.attrs[1], "4111"));
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emit_scan), cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_refusals),  cmocka_unit_test(test_prune),
        cmocka_unit_test(test_query),     cmocka_unit_test(test_login_target),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
