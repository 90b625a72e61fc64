/*
 * test_alert.c — incident/alert.c (MON-1, MON-2): raise deduplicates by rule + key (count,
 * last_ms, last_event_seq, the level only rises, no new row) until the alert is resolved,
 * then a new row opens; the schema keeps one unresolved alert per rule + key; ack and
 * resolve follow open → acked → resolved and refuse the rest (CONFLICT), unknown ids
 * (NOT_FOUND); list filters (state, level-and-above, rule, since) with cursor paging newest
 * first; input limits; the API JSON shape (known text).
 */
#include "incident_fixture.h"

#include "incident/alert.h"

struct raise {
    struct fg_alert_new a;
    int64_t now;
    char id[FG_ALERT_ID_SIZE];
    int created;
};

static fg_rc raise_fn(fg_conn *c, void *arg)
{
    struct raise *r = arg;
    return fg_alert_raise(c, &r->a, r->now, r->id, &r->created);
}

static fg_rc do_raise(struct inc_env *e, const char *rule, const char *key, const char *level,
                      int64_t now, int64_t seq, char id[FG_ALERT_ID_SIZE], int *created)
{
    struct raise r = {.a = {.rule_id = rule,
                            .level = level,
                            .title = "Password guessing against one user",
                            .key = key,
                            .tags = "AUTH-2, MON-1,attack.t1110.001",
                            .event_seq = seq,
                            .details_json = "{\"ip\":\"203.0.113.9\"}"},
                      .now = now};
    fg_rc rc = inc_write(e, raise_fn, &r);
    if (rc == FG_OK) {
        memcpy(id, r.id, FG_ALERT_ID_SIZE);
        if (created)
            *created = r.created;
    }
    return rc;
}

struct get {
    const char *id;
    struct fg_alert_view v;
};

static fg_rc get_fn(fg_conn *c, void *arg)
{
    struct get *g = arg;
    return fg_alert_get(c, g->id, &g->v);
}

struct change {
    const char *id;
    int resolve;
    int64_t now;
};

static fg_rc change_fn(fg_conn *c, void *arg)
{
    struct change *x = arg;
    return x->resolve ? fg_alert_resolve(c, x->id, "u_officer", x->now, NULL)
                      : fg_alert_ack(c, x->id, "u_officer", x->now, NULL);
}

static void test_dedup(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("alert-dedup");
    char a[FG_ALERT_ID_SIZE], b[FG_ALERT_ID_SIZE], d[FG_ALERT_ID_SIZE];
    int created = -1;
    assert_int_equal(
        do_raise(e, "auth.bruteforce.user", "target=u1", "medium", 1000, 10, a, &created), FG_OK);
    assert_int_equal(created, 1);
    assert_true(fg_alert_id_ok(a));
    /* same rule + key: joined; the level only rises */
    assert_int_equal(
        do_raise(e, "auth.bruteforce.user", "target=u1", "high", 2000, 12, b, &created), FG_OK);
    assert_int_equal(created, 0);
    assert_string_equal(a, b);
    assert_int_equal(do_raise(e, "auth.bruteforce.user", "target=u1", "low", 3000, 11, b, &created),
                     FG_OK);
    struct get g = {.id = a};
    assert_int_equal(inc_read(e, get_fn, &g), FG_OK);
    assert_int_equal(g.v.count, 3);
    assert_int_equal(g.v.first_ms, 1000);
    assert_int_equal(g.v.last_ms, 3000);
    assert_int_equal(g.v.first_event_seq, 10);
    assert_int_equal(g.v.last_event_seq, 12);
    assert_string_equal(g.v.level, "high");
    assert_string_equal(g.v.state, "open");
    /* another key: another alert */
    assert_int_equal(
        do_raise(e, "auth.bruteforce.user", "target=u2", "high", 3000, 13, d, &created), FG_OK);
    assert_int_equal(created, 1);
    assert_string_not_equal(a, d);
    /* acked still joins */
    struct change ch = {.id = a, .now = 3500};
    assert_int_equal(inc_write(e, change_fn, &ch), FG_OK);
    assert_int_equal(
        do_raise(e, "auth.bruteforce.user", "target=u1", "high", 4000, 14, b, &created), FG_OK);
    assert_int_equal(created, 0);
    assert_string_equal(a, b);
    /* resolved: the next raise opens a new row */
    ch.resolve = 1;
    assert_int_equal(inc_write(e, change_fn, &ch), FG_OK);
    assert_int_equal(
        do_raise(e, "auth.bruteforce.user", "target=u1", "high", 5000, 15, b, &created), FG_OK);
    assert_int_equal(created, 1);
    assert_string_not_equal(a, b);
    assert_int_equal(
        inc_count(e, "SELECT count(*) FROM alerts WHERE rule_id = ?1", "auth.bruteforce.user"), 3);
    inc_env_free(e);
}

static fg_rc dup_insert_fn(fg_conn *c, void *arg)
{
    (void)arg;
    return fg_conn_exec(c,
                        "INSERT INTO alerts (id, rule_id, level, title, key, first_ms, last_ms) "
                        "VALUES ('alr_AAAAAAAAAAAAAAAAAAAAAA', 'r.one', 'low', 't', 'k', 1, 1), "
                        "('alr_BBBBBBBBBBBBBBBBBBBBBB', 'r.one', 'low', 't', 'k', 1, 1)",
                        NULL, 0, NULL, NULL, NULL);
}

static fg_rc delete_fn(fg_conn *c, void *arg)
{
    (void)arg;
    return fg_conn_exec(c, "DELETE FROM alerts", NULL, 0, NULL, NULL, NULL);
}

static void test_schema_guards(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("alert-schema");
    /* two unresolved alerts of one rule + key cannot exist */
    assert_int_not_equal(inc_write(e, dup_insert_fn, NULL), FG_OK);
    char a[FG_ALERT_ID_SIZE];
    assert_int_equal(do_raise(e, "r.one", "k", "low", 1, 1, a, NULL), FG_OK);
    /* alerts are never deleted */
    assert_int_not_equal(inc_write(e, delete_fn, NULL), FG_OK);
    assert_int_equal(inc_count(e, "SELECT count(*) FROM alerts", NULL), 1);
    inc_env_free(e);
}

static void test_ack_resolve(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("alert-ack");
    char a[FG_ALERT_ID_SIZE];
    assert_int_equal(do_raise(e, "r.one", "k", "low", 100, 1, a, NULL), FG_OK);
    struct change ch = {.id = a, .now = 200};
    assert_int_equal(inc_write(e, change_fn, &ch), FG_OK);
    assert_int_equal(inc_write(e, change_fn, &ch), FG_ERR_CONFLICT); /* acked twice */
    ch.resolve = 1;
    ch.now = 300;
    assert_int_equal(inc_write(e, change_fn, &ch), FG_OK);
    assert_int_equal(inc_write(e, change_fn, &ch), FG_ERR_CONFLICT); /* resolved twice */
    ch.resolve = 0;
    assert_int_equal(inc_write(e, change_fn, &ch), FG_ERR_CONFLICT); /* ack after resolve */
    struct get g = {.id = a};
    assert_int_equal(inc_read(e, get_fn, &g), FG_OK);
    assert_string_equal(g.v.state, "resolved");
    assert_string_equal(g.v.acked_by, "u_officer");
    assert_int_equal(g.v.acked_ms, 200);
    assert_int_equal(g.v.resolved_ms, 300);
    /* open → resolved directly */
    char b[FG_ALERT_ID_SIZE];
    assert_int_equal(do_raise(e, "r.two", "k", "low", 100, 1, b, NULL), FG_OK);
    struct change r2 = {.id = b, .resolve = 1, .now = 400};
    assert_int_equal(inc_write(e, change_fn, &r2), FG_OK);
    /* unknown and malformed ids */
    struct change none = {.id = "alr_ZZZZZZZZZZZZZZZZZZZZZZ", .now = 1};
    assert_int_equal(inc_write(e, change_fn, &none), FG_ERR_NOT_FOUND);
    none.id = "nope";
    assert_int_equal(inc_write(e, change_fn, &none), FG_ERR_NOT_FOUND);
    g.id = "alr_ZZZZZZZZZZZZZZZZZZZZZZ";
    assert_int_equal(inc_read(e, get_fn, &g), FG_ERR_NOT_FOUND);
    inc_env_free(e);
}

static void test_input_limits(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("alert-input");
    char id[FG_ALERT_ID_SIZE];
    assert_int_equal(do_raise(e, "Bad Rule", "k", "low", 1, 1, id, NULL), FG_ERR_INVALID);
    assert_int_equal(do_raise(e, "r.one", "k", "severe", 1, 1, id, NULL), FG_ERR_INVALID);
    assert_int_equal(do_raise(e, "r.one", "k\n", "low", 1, 1, id, NULL), FG_ERR_INVALID);
    char key[FG_ALERT_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    assert_int_equal(do_raise(e, "r.one", key, "low", 1, 1, id, NULL), FG_ERR_TOO_LARGE);
    key[FG_ALERT_KEY_MAX] = '\0';
    assert_int_equal(do_raise(e, "r.one", key, "low", 1, 1, id, NULL), FG_OK);
    struct raise r = {
        .a = {.rule_id = "r.two", .level = "low", .title = "t", .details_json = "[1]"}, .now = 1};
    assert_int_equal(inc_write(e, raise_fn, &r), FG_ERR_INVALID); /* details not an object */
    r.a.details_json = "{\"a\":1,\"a\":2}";
    assert_int_equal(inc_write(e, raise_fn, &r), FG_ERR_INVALID);
    inc_env_free(e);
}

struct list {
    struct fg_alert_filter f;
    char ids[64][FG_ALERT_ID_SIZE];
    unsigned n;
    char next[FG_ALERT_CURSOR_SIZE];
};

static fg_rc list_cb(void *ctx, const struct fg_alert_view *a)
{
    struct list *l = ctx;
    if (l->n < 64)
        memcpy(l->ids[l->n], a->id, FG_ALERT_ID_SIZE);
    l->n++;
    return FG_OK;
}

static fg_rc list_fn(fg_conn *c, void *arg)
{
    struct list *l = arg;
    l->n = 0;
    return fg_alert_list(c, &l->f, list_cb, l, l->next);
}

static void test_list(void **state)
{
    (void)state;
    struct inc_env *e = inc_env_new("alert-list");
    char ids[7][FG_ALERT_ID_SIZE];
    const char *levels[7] = {"low", "medium", "high", "critical", "low", "high", "medium"};
    for (int i = 0; i < 7; i++) {
        char key[16];
        snprintf(key, sizeof key, "k=%d", i);
        assert_int_equal(
            do_raise(e, i < 5 ? "r.a" : "r.b", key, levels[i], 1000 + i * 10, i + 1, ids[i], NULL),
            FG_OK);
    }
    struct change ch = {.id = ids[1], .now = 5000};
    assert_int_equal(inc_write(e, change_fn, &ch), FG_OK);
    struct list l = {0};
    assert_int_equal(inc_read(e, list_fn, &l), FG_OK);
    assert_int_equal(l.n, 7);
    assert_string_equal(l.ids[0], ids[6]); /* newest first */
    assert_string_equal(l.next, "");
    l.f.state = "acked";
    assert_int_equal(inc_read(e, list_fn, &l), FG_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.ids[0], ids[1]);
    l.f.state = NULL;
    l.f.level = "high"; /* high and critical */
    assert_int_equal(inc_read(e, list_fn, &l), FG_OK);
    assert_int_equal(l.n, 3);
    l.f.level = NULL;
    l.f.rule = "r.b";
    assert_int_equal(inc_read(e, list_fn, &l), FG_OK);
    assert_int_equal(l.n, 2);
    l.f.rule = NULL;
    l.f.since_ms = 1040;
    assert_int_equal(inc_read(e, list_fn, &l), FG_OK);
    assert_int_equal(l.n, 3);
    l.f.since_ms = 0;
    /* pages of 3: 3 + 3 + 1, no overlap */
    l.f.limit = 3;
    char seen[7][FG_ALERT_ID_SIZE];
    unsigned total = 0;
    char cursor[FG_ALERT_CURSOR_SIZE] = "";
    for (int page = 0; page < 4; page++) {
        l.f.cursor = cursor[0] ? cursor : NULL;
        assert_int_equal(inc_read(e, list_fn, &l), FG_OK);
        for (unsigned i = 0; i < l.n; i++)
            memcpy(seen[total++], l.ids[i], FG_ALERT_ID_SIZE);
        if (l.next[0] == '\0')
            break;
        memcpy(cursor, l.next, sizeof cursor);
    }
    assert_int_equal(total, 7);
    for (int i = 0; i < 7; i++)
        assert_string_equal(seen[i], ids[6 - i]);
    /* bad filters */
    struct list bad = {.f = {.state = "closed"}};
    assert_int_equal(inc_read(e, list_fn, &bad), FG_ERR_INVALID);
    bad.f = (struct fg_alert_filter){.cursor = "12.nope"};
    assert_int_equal(inc_read(e, list_fn, &bad), FG_ERR_INVALID);
    bad.f = (struct fg_alert_filter){.limit = FG_ALERT_LIST_MAX + 1};
    assert_int_equal(inc_read(e, list_fn, &bad), FG_ERR_INVALID);
    inc_env_free(e);
}

static void test_json_known(void **state)
{
    (void)state;
    struct fg_alert_view a = {
        .id = "alr_AAAAAAAAAAAAAAAAAAAAAA",
        .rule_id = "auth.bruteforce.user",
        .level = "high",
        .title = "Guess \"x\"",
        .key = "target=u1",
        .state = "acked",
        .count = 5,
        .first_ms = 1772416800000, /* 2026-03-02T02:00:00Z */
        .last_ms = 1772416830500,
        .first_event_seq = 1,
        .last_event_seq = 9,
        .tags = "AUTH-2, MON-1,,",
        .details = "{\"ip\":\"203.0.113.9\"}",
        .acked_by = "u1",
        .acked_ms = 1772416900000,
    };
    struct fg_buf b = FG_BUF_INIT(8192);
    assert_int_equal(fg_alert_json(&a, &b), FG_OK);
    assert_string_equal(
        fg_buf_str(&b),
        "{\"id\":\"alr_AAAAAAAAAAAAAAAAAAAAAA\",\"rule\":\"auth.bruteforce.user\",\"level\":"
        "\"high\",\"title\":\"Guess \\\"x\\\"\",\"key\":\"target=u1\",\"state\":\"acked\","
        "\"count\":5,\"first_at\":\"2026-03-02T02:00:00.000Z\",\"last_at\":"
        "\"2026-03-02T02:00:30.500Z\",\"first_event_seq\":1,\"last_event_seq\":9,\"tags\":"
        "[\"AUTH-2\",\"MON-1\"],\"details\":{\"ip\":\"203.0.113.9\"},\"acked_by\":\"u1\","
        "\"acked_at\":\"2026-03-02T02:01:40.000Z\",\"resolved_by\":null,\"resolved_at\":null,"
        "\"incident_id\":null}");
    fg_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup),       cmocka_unit_test(test_schema_guards),
        cmocka_unit_test(test_ack_resolve), cmocka_unit_test(test_input_limits),
        cmocka_unit_test(test_list),        cmocka_unit_test(test_json_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
