/*
 * test_ledger.c — ledger/ledger.c: accounts (open, get, list, the cash account); deposits,
 * withdrawals and transfers with their entries and balances (TXN-1); every refusal of
 * fg_ledger_post (TXN-4, TXN-5: frozen, closed, insufficient funds, currency mismatch, same
 * account, amount 0 / negative / over the maximum, overflow near INT64_MAX, kinds that do not
 * fit, memo rules) leaving the books untouched; status changes and their conflicts;
 * idempotency (TXN-2); statement paging with memos; transfers' bookkeeping (daily sums,
 * new payee, has-money); fg_ledger_check (TXN-6) passing, and catching each tampering made
 * with raw SQL; and a seeded random walk of 2 000 moves among 20 accounts after which the
 * books balance and the total is conserved.
 */
#include "ledger_fixture.h"

#include <inttypes.h>
#include <stdint.h>

#define CUSTOMER "cus_alice"

/* ---- accounts ------------------------------------------------------------------------------ */

static fg_rc collect_account(void *ctx, const struct fg_ledger_account *a)
{
    int *n = ctx;
    assert_string_equal(a->customer_id, CUSTOMER);
    (*n)++;
    return FG_OK;
}

static void test_accounts(void **state)
{
    (void)state;
    struct ledger_env *e = ledger_env_new("ledger_acc");
    char a[FG_LEDGER_ID_SIZE], b[FG_LEDGER_ID_SIZE], x[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e, CUSTOMER, "CNY", a), FG_OK);
    assert_int_equal(env_open(e, CUSTOMER, "USD", b), FG_OK);
    assert_true(fg_ledger_id_valid(a, "acc_"));
    assert_string_not_equal(a, b);
    /* refusals: unknown currency, lower case, empty customer, space in customer */
    assert_int_equal(env_open(e, CUSTOMER, "XYZ", x), FG_ERR_INVALID);
    assert_string_equal(x, "");
    assert_int_equal(env_open(e, CUSTOMER, "cny", x), FG_ERR_INVALID);
    assert_int_equal(env_open(e, "", "CNY", x), FG_ERR_INVALID);
    assert_int_equal(env_open(e, "a b", "CNY", x), FG_ERR_INVALID);

    struct fg_ledger_account acc = env_account(e, a);
    assert_string_equal(acc.id, a);
    assert_string_equal(acc.kind, "customer");
    assert_string_equal(acc.currency, "CNY");
    assert_string_equal(acc.status, "active");
    assert_int_equal(acc.balance, 0);
    assert_int_equal(acc.overdraft, 0);
    assert_int_equal(acc.per_txn_max, 5000000); /* limits.yaml defaults */
    assert_int_equal(acc.per_day_max, 10000000);
    assert_int_equal(acc.created_ms, 1000);

    fg_conn *c = env_read(e);
    struct fg_ledger_account none;
    assert_int_equal(fg_ledger_account_get(c, "acc_AAAAAAAAAAAAAAAAAAAAAA", &none),
                     FG_ERR_NOT_FOUND);
    assert_int_equal(fg_ledger_account_get(c, "nonsense", &none), FG_ERR_NOT_FOUND);
    /* the id may point into the output (an account read again after a change): it works */
    struct fg_ledger_account again = acc;
    assert_int_equal(fg_ledger_account_get(c, again.id, &again), FG_OK);
    assert_string_equal(again.id, a);
    int n = 0;
    assert_int_equal(fg_ledger_accounts_of(c, CUSTOMER, collect_account, &n), FG_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(fg_ledger_accounts_of(c, "cus_nobody", collect_account, &n), FG_OK);
    assert_int_equal(n, 0);
    fg_store_read_release(e->store, c);

    /* the cash account: created once per currency */
    char cash1[FG_LEDGER_ID_SIZE], cash2[FG_LEDGER_ID_SIZE], cash3[FG_LEDGER_ID_SIZE];
    env_cash(e, "CNY", cash1);
    env_cash(e, "CNY", cash2);
    env_cash(e, "USD", cash3);
    assert_string_equal(cash1, cash2);
    assert_string_not_equal(cash1, cash3);
    acc = env_account(e, cash1);
    assert_string_equal(acc.kind, "cash");
    assert_string_equal(acc.customer_id, "");
    struct ledger_call bad = {.op = OP_CASH, .a = "C1Y"};
    assert_int_equal(ledger_run(e, &bad), FG_ERR_INVALID);
    ledger_env_free(e);
}

/* ---- movements ----------------------------------------------------------------------------- */

struct stmt {
    int n;
    struct fg_ledger_entry rows[16];
};

static fg_rc collect_entry(void *ctx, const struct fg_ledger_entry *en)
{
    struct stmt *s = ctx;
    assert_true(s->n < 16);
    s->rows[s->n++] = *en;
    return FG_OK;
}

static struct stmt statement(struct ledger_env *e, fg_keys *k, const char *acc, int64_t before,
                             unsigned limit)
{
    struct stmt s;
    memset(&s, 0, sizeof s);
    fg_conn *c = env_read(e);
    assert_int_equal(fg_ledger_entries(c, k, acc, before, limit, collect_entry, &s), FG_OK);
    fg_store_read_release(e->store, c);
    return s;
}

static void test_moves(void **state)
{
    (void)state;
    struct ledger_env *e = ledger_env_new("ledger_moves");
    char a[FG_LEDGER_ID_SIZE], b[FG_LEDGER_ID_SIZE], cash[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e, CUSTOMER, "CNY", a), FG_OK);
    assert_int_equal(env_open(e, "cus_bob", "CNY", b), FG_OK);
    env_cash(e, "CNY", cash);

    struct ledger_call x = {0};
    assert_int_equal(env_post(e, &x, "deposit", cash, a, 10000, "CNY"), FG_OK);
    assert_true(fg_ledger_id_valid(x.id, "jnl_"));
    assert_null(x.why);
    struct ledger_call t = {.move.memo = "rent for May", .move.memo_len = 12};
    assert_int_equal(env_post(e, &t, "transfer", a, b, 3000, "CNY"), FG_OK);
    assert_int_equal(env_move(e, "withdrawal", b, cash, 2000, "CNY"), FG_OK);

    assert_int_equal(env_account(e, a).balance, 7000);
    assert_int_equal(env_account(e, b).balance, 1000);
    assert_int_equal(env_account(e, cash).balance, -8000); /* the vault paid out 8 000 net */

    /* a's statement, newest first, with the memo opened only when keys are given */
    struct stmt s = statement(e, e->k, a, 0, 10);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.rows[0].kind, "transfer");
    assert_int_equal(s.rows[0].amount, -3000);
    assert_int_equal(s.rows[0].balance_after, 7000);
    assert_string_equal(s.rows[0].counterparty, b);
    assert_string_equal(s.rows[0].journal_id, t.id);
    assert_string_equal(s.rows[0].memo, "rent for May");
    assert_int_equal(s.rows[0].memo_state, 1);
    assert_string_equal(s.rows[1].kind, "deposit");
    assert_int_equal(s.rows[1].amount, 10000);
    assert_string_equal(s.rows[1].counterparty, cash);
    assert_int_equal(s.rows[1].memo_state, 0);
    assert_true(s.rows[0].seq > s.rows[1].seq);
    s = statement(e, NULL, a, 0, 10);
    assert_string_equal(s.rows[0].memo, "");
    assert_int_equal(s.rows[0].memo_state, 2);
    /* the memo is not stored in clear */
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", e->db);
    assert_true(fg_test_file_count(e->db, "rent for May", 12) <= 0);
    assert_true(fg_test_file_count(wal, "rent for May", 12) <= 0);

    struct fg_ledger_check_report r = env_check(e);
    assert_true(r.ok);
    assert_int_equal(r.accounts, 3);
    assert_int_equal(r.journals, 3);
    assert_int_equal(r.entries, 6);
    assert_string_equal(r.currency_totals, "CNY:8000");
    ledger_env_free(e);
}

/* One refusal: rc, why and field as documented, and nothing written. */
static void refused(struct ledger_env *e, const char *kind, const char *from, const char *to,
                    int64_t amount, const char *cur, fg_rc want, const char *why, const char *field)
{
    struct ledger_call x = {0};
    assert_int_equal(env_post(e, &x, kind, from, to, amount, cur), want);
    if (why != NULL)
        assert_string_equal(x.why, why);
    if (field != NULL)
        assert_string_equal(x.field, field);
    else
        assert_null(x.field);
    assert_string_equal(x.id, "");
}

static void test_refusals(void **state)
{
    (void)state;
    struct ledger_env *e = ledger_env_new("ledger_refuse");
    char a[FG_LEDGER_ID_SIZE], b[FG_LEDGER_ID_SIZE], u[FG_LEDGER_ID_SIZE], z[FG_LEDGER_ID_SIZE];
    char cash[FG_LEDGER_ID_SIZE], ucash[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e, CUSTOMER, "CNY", a), FG_OK);
    assert_int_equal(env_open(e, "cus_bob", "CNY", b), FG_OK);
    assert_int_equal(env_open(e, CUSTOMER, "USD", u), FG_OK);
    assert_int_equal(env_open(e, "cus_zed", "CNY", z), FG_OK);
    env_cash(e, "CNY", cash);
    env_cash(e, "USD", ucash);
    assert_int_equal(env_move(e, "deposit", cash, a, 5000, "CNY"), FG_OK);

    /* TXN-1: insufficient funds; the exact balance still goes */
    refused(e, "transfer", a, b, 5001, "CNY", FG_ERR_POLICY, "insufficient funds", "amount");
    /* amounts */
    refused(e, "transfer", a, b, 0, "CNY", FG_ERR_INVALID, "the amount must be positive", "amount");
    refused(e, "transfer", a, b, -5, "CNY", FG_ERR_INVALID, NULL, "amount");
    refused(e, "transfer", a, b, INT64_MIN, "CNY", FG_ERR_INVALID, NULL, "amount");
    refused(e, "deposit", cash, a, FG_LEDGER_AMOUNT_MAX + 1, "CNY", FG_ERR_LIMIT, NULL, "amount");
    refused(e, "deposit", cash, a, INT64_MAX, "CNY", FG_ERR_LIMIT, NULL, "amount");
    /* same account; currency mismatch (either side, and the move's own) */
    refused(e, "transfer", a, a, 1, "CNY", FG_ERR_INVALID, "the two accounts must differ", "to");
    refused(e, "transfer", a, u, 1, "CNY", FG_ERR_INVALID, NULL, "currency");
    refused(e, "transfer", a, b, 1, "USD", FG_ERR_INVALID,
            "the currency does not match the account", "currency");
    refused(e, "deposit", ucash, a, 1, "USD", FG_ERR_INVALID, NULL, "currency");
    refused(e, "transfer", a, b, 1, "cny", FG_ERR_INVALID, NULL, "currency");
    /* kinds that do not fit the accounts */
    refused(e, "deposit", b, a, 1, "CNY", FG_ERR_INVALID, NULL, "kind");
    refused(e, "withdrawal", a, b, 1, "CNY", FG_ERR_INVALID, NULL, "kind");
    refused(e, "transfer", a, cash, 1, "CNY", FG_ERR_INVALID, NULL, "kind");
    refused(e, "transfer", cash, a, 1, "CNY", FG_ERR_INVALID, NULL, "kind");
    refused(e, "refund", a, b, 1, "CNY", FG_ERR_INVALID, NULL, "kind");
    /* unknown accounts */
    refused(e, "transfer", "acc_AAAAAAAAAAAAAAAAAAAAAA", b, 1, "CNY", FG_ERR_NOT_FOUND, NULL,
            "from");
    refused(e, "transfer", a, "acc_AAAAAAAAAAAAAAAAAAAAAA", 1, "CNY", FG_ERR_NOT_FOUND, NULL, "to");
    refused(e, "transfer", a, "garbage", 1, "CNY", FG_ERR_NOT_FOUND, NULL, "to");

    /* memos: too long, control character, invalid UTF-8, no keys */
    char longmemo[FG_LEDGER_MEMO_MAX + 2];
    memset(longmemo, 'm', sizeof longmemo);
    struct ledger_call m = {.move.memo = longmemo, .move.memo_len = FG_LEDGER_MEMO_MAX + 1};
    assert_int_equal(env_post(e, &m, "transfer", a, b, 1, "CNY"), FG_ERR_TOO_LARGE);
    struct ledger_call m2 = {.move.memo = "a\nb", .move.memo_len = 3};
    assert_int_equal(env_post(e, &m2, "transfer", a, b, 1, "CNY"), FG_ERR_INVALID);
    struct ledger_call m3 = {.move.memo = "\xc3\x28", .move.memo_len = 2};
    assert_int_equal(env_post(e, &m3, "transfer", a, b, 1, "CNY"), FG_ERR_INVALID);
    struct ledger_call m4 = {.move.memo = longmemo, .move.memo_len = FG_LEDGER_MEMO_MAX};
    assert_int_equal(env_post(e, &m4, "transfer", a, b, 1, "CNY"), FG_OK); /* exactly 140 */
    struct ledger_call m5 = {.move.memo = "hi", .move.memo_len = 2};
    m5.op = OP_POST;
    m5.move.kind = "transfer";
    m5.move.debit_account = a;
    m5.move.credit_account = b;
    m5.move.amount = 1;
    m5.move.currency = "CNY";
    m5.move.actor_id = "teller_1";
    m5.keys = NULL; /* sealed */
    assert_int_equal(ledger_run(e, &m5), FG_ERR_SEALED);

    /* TXN-5: frozen sends nothing but may receive; closed does neither */
    struct ledger_call st = {.op = OP_STATUS, .a = a, .b = "active", .c = "frozen", .now = 7};
    assert_int_equal(ledger_run(e, &st), FG_OK);
    refused(e, "transfer", a, b, 1, "CNY", FG_ERR_POLICY, "the account is frozen", "from");
    refused(e, "withdrawal", a, cash, 1, "CNY", FG_ERR_POLICY, "the account is frozen", "from");
    assert_int_equal(env_move(e, "transfer", b, a, 1, "CNY"), FG_OK);    /* receives */
    assert_int_equal(env_move(e, "deposit", cash, a, 10, "CNY"), FG_OK); /* receives */
    struct ledger_call cl = {.op = OP_STATUS, .a = z, .b = "active", .c = "closed", .now = 8};
    assert_int_equal(ledger_run(e, &cl), FG_OK);
    refused(e, "deposit", cash, z, 1, "CNY", FG_ERR_POLICY, "the receiving account is closed",
            "to");
    refused(e, "withdrawal", z, cash, 1, "CNY", FG_ERR_POLICY, "the account is closed", "from");

    /* overflow: a balance set near INT64_MAX with raw SQL cannot be credited past it */
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET balance = %" PRId64 " WHERE id = '%s'",
             INT64_MAX - 5, b);
    assert_int_equal(env_sql(e, sql), FG_OK);
    refused(e, "deposit", cash, b, 10, "CNY", FG_ERR_LIMIT, "the receiving balance would overflow",
            "amount");
    assert_int_equal(env_account(e, b).balance, INT64_MAX - 5);
    /* and a cash account near INT64_MIN cannot be debited past it */
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET balance = %" PRId64 " WHERE id = '%s'",
             INT64_MIN + 5, ucash);
    assert_int_equal(env_sql(e, sql), FG_OK);
    refused(e, "deposit", ucash, u, 10, "USD", FG_ERR_LIMIT, "the balance would overflow",
            "amount");

    /* nothing of any refusal was written: two deposits and two 1-unit transfers */
    assert_int_equal(env_account(e, a).balance, 5000 - 1 + 1 + 10);
    fg_conn *c = env_read(e);
    struct fg_ledger_check_report r;
    assert_int_equal(fg_ledger_check(c, &r), FG_OK);
    fg_store_read_release(e->store, c);
    assert_int_equal(r.journals, 4);
    ledger_env_free(e);
}

static void test_status_and_limits(void **state)
{
    (void)state;
    struct ledger_env *e = ledger_env_new("ledger_status");
    char a[FG_LEDGER_ID_SIZE], cash[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e, CUSTOMER, "CNY", a), FG_OK);
    env_cash(e, "CNY", cash);
    struct ledger_call x = {.op = OP_STATUS, .a = a, .b = "active", .c = "frozen"};
    assert_int_equal(ledger_run(e, &x), FG_OK);
    assert_int_equal(ledger_run(e, &x), FG_ERR_CONFLICT); /* not active any more */
    assert_string_equal(env_account(e, a).status, "frozen");
    x.b = "frozen";
    x.c = "frozen";
    assert_int_equal(ledger_run(e, &x), FG_ERR_INVALID);
    x.c = "melted";
    assert_int_equal(ledger_run(e, &x), FG_ERR_INVALID);
    x.c = "active";
    assert_int_equal(ledger_run(e, &x), FG_OK);
    /* closing needs a zero balance */
    assert_int_equal(env_move(e, "deposit", cash, a, 1, "CNY"), FG_OK);
    x.b = "active";
    x.c = "closed";
    assert_int_equal(ledger_run(e, &x), FG_ERR_POLICY);
    assert_int_equal(env_move(e, "withdrawal", a, cash, 1, "CNY"), FG_OK);
    assert_int_equal(ledger_run(e, &x), FG_OK);
    x.b = "closed";
    x.c = "active";
    assert_int_equal(ledger_run(e, &x), FG_ERR_INVALID); /* closed is final */
    /* the schema says so too */
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET status = 'active' WHERE id = '%s'", a);
    assert_int_equal(env_sql(e, sql), FG_ERR_CONFLICT);
    /* the cash account is never frozen; unknown accounts are not found */
    struct ledger_call y = {.op = OP_STATUS, .a = cash, .b = "active", .c = "frozen"};
    assert_int_equal(ledger_run(e, &y), FG_ERR_INVALID);
    y.a = "acc_AAAAAAAAAAAAAAAAAAAAAA";
    assert_int_equal(ledger_run(e, &y), FG_ERR_NOT_FOUND);

    /* limits */
    char b[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e, CUSTOMER, "CNY", b), FG_OK);
    struct ledger_call l = {.op = OP_LIMITS, .a = b, .n1 = 100, .n2 = 200, .now = 9};
    assert_int_equal(ledger_run(e, &l), FG_OK);
    assert_int_equal(env_account(e, b).per_txn_max, 100);
    assert_int_equal(env_account(e, b).per_day_max, 200);
    l.n1 = 300; /* per_txn above per_day */
    assert_int_equal(ledger_run(e, &l), FG_ERR_INVALID);
    l.n1 = 0;
    assert_int_equal(ledger_run(e, &l), FG_ERR_INVALID);
    l.n1 = 1;
    l.n2 = FG_LEDGER_AMOUNT_MAX + 1;
    assert_int_equal(ledger_run(e, &l), FG_ERR_INVALID);
    l.a = a; /* closed */
    l.n2 = 10;
    assert_int_equal(ledger_run(e, &l), FG_ERR_CONFLICT);
    ledger_env_free(e);
}

/* ---- idempotency --------------------------------------------------------------------------- */

static void test_idempotency(void **state)
{
    (void)state;
    struct ledger_env *e = ledger_env_new("ledger_idem");
    uint8_t h1[32], h2[32];
    memset(h1, 1, sizeof h1);
    memset(h2, 2, sizeof h2);
    int status = -1;
    char resp[FG_LEDGER_RESPONSE_MAX + 1];
    fg_conn *c = env_read(e);
    assert_int_equal(fg_ledger_idem_get(c, "u_1", "key-1", h1, &status, resp), FG_ERR_NOT_FOUND);
    fg_store_read_release(e->store, c);

    struct ledger_call p = {.op = OP_IDEM_PUT,
                            .a = "u_1",
                            .b = "key-1",
                            .hash = h1,
                            .status = 201,
                            .c = "{\"id\":\"trf_x\"}",
                            .now = 1};
    assert_int_equal(ledger_run(e, &p), FG_OK);
    assert_int_equal(ledger_run(e, &p), FG_ERR_CONFLICT); /* exists */
    struct ledger_call other = p;
    other.a = "u_2"; /* another caller's scope: independent */
    assert_int_equal(ledger_run(e, &other), FG_OK);

    c = env_read(e);
    assert_int_equal(fg_ledger_idem_get(c, "u_1", "key-1", h1, &status, resp), FG_OK);
    assert_int_equal(status, 201);
    assert_string_equal(resp, "{\"id\":\"trf_x\"}");
    assert_int_equal(fg_ledger_idem_get(c, "u_1", "key-1", h2, &status, resp), FG_ERR_CONFLICT);
    assert_int_equal(status, 0);
    assert_string_equal(resp, "");
    assert_int_equal(fg_ledger_idem_get(c, "u_3", "key-1", h1, &status, resp), FG_ERR_NOT_FOUND);
    assert_int_equal(fg_ledger_idem_get(c, "u_1", "", h1, &status, resp), FG_ERR_INVALID);
    assert_int_equal(fg_ledger_idem_get(c, "u_1", "a key", h1, &status, resp), FG_ERR_INVALID);
    char longkey[FG_LEDGER_IDEM_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(fg_ledger_idem_get(c, "u_1", longkey, h1, &status, resp), FG_ERR_INVALID);
    longkey[FG_LEDGER_IDEM_KEY_MAX] = '\0'; /* exactly 128 */
    assert_int_equal(fg_ledger_idem_get(c, "u_1", longkey, h1, &status, resp), FG_ERR_NOT_FOUND);
    fg_store_read_release(e->store, c);

    char big[FG_LEDGER_RESPONSE_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct ledger_call q = {
        .op = OP_IDEM_PUT, .a = "u_1", .b = "key-2", .hash = h1, .status = 201, .c = big};
    assert_int_equal(ledger_run(e, &q), FG_ERR_TOO_LARGE);
    q.c = "{}";
    q.status = 99;
    assert_int_equal(ledger_run(e, &q), FG_ERR_INVALID);
    ledger_env_free(e);
}

/* ---- statements ---------------------------------------------------------------------------- */

static void test_statement_paging(void **state)
{
    (void)state;
    struct ledger_env *e = ledger_env_new("ledger_pages");
    char a[FG_LEDGER_ID_SIZE], cash[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e, CUSTOMER, "CNY", a), FG_OK);
    env_cash(e, "CNY", cash);
    for (int i = 1; i <= 7; i++)
        assert_int_equal(env_move(e, "deposit", cash, a, i, "CNY"), FG_OK);
    struct stmt s1 = statement(e, e->k, a, 0, 3);
    assert_int_equal(s1.n, 3);
    assert_int_equal(s1.rows[0].amount, 7);
    assert_int_equal(s1.rows[0].balance_after, 28);
    assert_int_equal(s1.rows[2].amount, 5);
    struct stmt s2 = statement(e, e->k, a, s1.rows[2].seq, 3);
    assert_int_equal(s2.n, 3);
    assert_int_equal(s2.rows[0].amount, 4);
    assert_int_equal(s2.rows[2].amount, 2);
    struct stmt s3 = statement(e, e->k, a, s2.rows[2].seq, 3);
    assert_int_equal(s3.n, 1);
    assert_int_equal(s3.rows[0].amount, 1);
    assert_int_equal(s3.rows[0].balance_after, 1);
    struct stmt s4 = statement(e, e->k, a, s3.rows[0].seq, 3);
    assert_int_equal(s4.n, 0);
    /* the cash account's statement mirrors it */
    struct stmt sc = statement(e, e->k, cash, 0, 1);
    assert_int_equal(sc.rows[0].amount, -7);
    assert_int_equal(sc.rows[0].balance_after, -28);

    fg_conn *c = env_read(e);
    struct stmt s;
    assert_int_equal(fg_ledger_entries(c, NULL, a, 0, 0, collect_entry, &s), FG_ERR_INVALID);
    assert_int_equal(fg_ledger_entries(c, NULL, a, 0, FG_LEDGER_PAGE_MAX + 1, collect_entry, &s),
                     FG_ERR_INVALID);
    assert_int_equal(fg_ledger_entries(c, NULL, a, -1, 3, collect_entry, &s), FG_ERR_INVALID);
    fg_store_read_release(e->store, c);
    ledger_env_free(e);
}

/* ---- transfers' bookkeeping ---------------------------------------------------------------- */

static void test_transfers(void **state)
{
    (void)state;
    struct ledger_env *e = ledger_env_new("ledger_trf");
    char a[FG_LEDGER_ID_SIZE], b[FG_LEDGER_ID_SIZE], d[FG_LEDGER_ID_SIZE], cash[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e, CUSTOMER, "CNY", a), FG_OK);
    assert_int_equal(env_open(e, "cus_bob", "CNY", b), FG_OK);
    assert_int_equal(env_open(e, "cus_dan", "CNY", d), FG_OK);
    env_cash(e, "CNY", cash);
    assert_int_equal(env_move(e, "deposit", cash, a, 100000, "CNY"), FG_OK);
    struct ledger_call j = {0};
    assert_int_equal(env_post(e, &j, "transfer", a, b, 300, "CNY"), FG_OK);

    char t1[FG_LEDGER_ID_SIZE], t2[FG_LEDGER_ID_SIZE];
    assert_int_equal(fg_ledger_transfer_new_id(t1), FG_OK);
    assert_int_equal(fg_ledger_transfer_new_id(t2), FG_OK);
    assert_true(fg_ledger_id_valid(t1, "trf_"));
    struct ledger_call x = {.op = OP_TRF_INSERT,
                            .a = t1,
                            .b = CUSTOMER,
                            .c = a,
                            .d = b,
                            .f = "committed",
                            .g = j.id,
                            .h = "dev_1",
                            .n1 = 300,
                            .now = 1000};
    assert_int_equal(ledger_run(e, &x), FG_OK);
    assert_int_equal(ledger_run(e, &x), FG_ERR_CONFLICT); /* same id */
    struct ledger_call y = {.op = OP_TRF_INSERT,
                            .a = t2,
                            .b = CUSTOMER,
                            .c = a,
                            .d = d,
                            .f = "pending_approval",
                            .n1 = 700000,
                            .now = 900000 + 2000}; /* the next 15-minute bucket */
    assert_int_equal(ledger_run(e, &y), FG_OK);
    /* malformed: committed without journal, pending with one, same accounts, amount 0 */
    struct ledger_call bad = y;
    char t3[FG_LEDGER_ID_SIZE];
    assert_int_equal(fg_ledger_transfer_new_id(t3), FG_OK);
    bad.a = t3;
    bad.f = "committed";
    assert_int_equal(ledger_run(e, &bad), FG_ERR_INVALID);
    bad.f = "pending_approval";
    bad.g = j.id;
    assert_int_equal(ledger_run(e, &bad), FG_ERR_INVALID);
    bad.g = NULL;
    bad.d = a;
    assert_int_equal(ledger_run(e, &bad), FG_ERR_INVALID);
    bad.d = d;
    bad.n1 = 0;
    assert_int_equal(ledger_run(e, &bad), FG_ERR_INVALID);
    bad.f = "done";
    bad.n1 = 1;
    assert_int_equal(ledger_run(e, &bad), FG_ERR_INVALID);

    fg_conn *c = env_read(e);
    struct fg_ledger_transfer t;
    assert_int_equal(fg_ledger_transfer_get(c, t1, &t), FG_OK);
    assert_string_equal(t.status, "committed");
    assert_string_equal(t.journal_id, j.id);
    assert_string_equal(t.device_id, "dev_1");
    assert_int_equal(t.amount, 300);
    assert_int_equal(t.committed_ms, 1000);
    assert_int_equal(fg_ledger_transfer_get(c, t2, &t), FG_OK);
    assert_string_equal(t.status, "pending_approval");
    assert_string_equal(t.journal_id, "");
    assert_int_equal(t.committed_ms, 0);
    assert_int_equal(fg_ledger_transfer_get(c, t3, &t), FG_ERR_NOT_FOUND);

    /* daily sums: committed and pending count, by 15-minute bucket of created_ms (since is
     * rounded down to its bucket: a limit errs on the safe side) */
    int64_t sum = -1;
    assert_int_equal(fg_ledger_customer_out_since(c, CUSTOMER, "CNY", 0, &sum), FG_OK);
    assert_int_equal(sum, 700300);
    assert_int_equal(fg_ledger_customer_out_since(c, CUSTOMER, "CNY", 1000, &sum), FG_OK);
    assert_int_equal(sum, 700300); /* ≥ since */
    assert_int_equal(fg_ledger_customer_out_since(c, CUSTOMER, "CNY", 1001, &sum), FG_OK);
    assert_int_equal(sum, 700300); /* the same bucket: counted */
    assert_int_equal(fg_ledger_customer_out_since(c, CUSTOMER, "CNY", 900000, &sum), FG_OK);
    assert_int_equal(sum, 700000);
    assert_int_equal(fg_ledger_customer_out_since(c, CUSTOMER, "CNY", 1800000, &sum), FG_OK);
    assert_int_equal(sum, 0);
    assert_int_equal(fg_ledger_customer_out_since(c, CUSTOMER, "USD", 0, &sum), FG_OK);
    assert_int_equal(sum, 0);
    assert_int_equal(fg_ledger_customer_out_since(c, "cus_bob", "CNY", 0, &sum), FG_OK);
    assert_int_equal(sum, 0);
    assert_int_equal(fg_ledger_account_out_since(c, a, 0, &sum), FG_OK);
    assert_int_equal(sum, 700300);
    assert_int_equal(fg_ledger_account_out_since(c, a, 900000, &sum), FG_OK);
    assert_int_equal(sum, 700000);
    assert_int_equal(fg_ledger_account_out_since(c, a, 1800000, &sum), FG_OK);
    assert_int_equal(sum, 0);
    assert_int_equal(fg_ledger_account_out_since(c, b, 0, &sum), FG_OK);
    assert_int_equal(sum, 0);

    /* payee known: committed before before_ms only; a pending one is not */
    int known = -1;
    assert_int_equal(fg_ledger_payee_known(c, CUSTOMER, b, 1000, &known), FG_OK);
    assert_int_equal(known, 0);
    assert_int_equal(fg_ledger_payee_known(c, CUSTOMER, b, 1001, &known), FG_OK);
    assert_int_equal(known, 1);
    assert_int_equal(fg_ledger_payee_known(c, CUSTOMER, d, 99999, &known), FG_OK);
    assert_int_equal(known, 0);
    assert_int_equal(fg_ledger_payee_known(c, "cus_bob", b, 99999, &known), FG_OK);
    assert_int_equal(known, 0); /* someone else's payee */

    int has = -1;
    assert_int_equal(fg_ledger_customer_has_money(c, CUSTOMER, &has), FG_OK);
    assert_int_equal(has, 1);
    assert_int_equal(fg_ledger_customer_has_money(c, "cus_dan", &has), FG_OK);
    assert_int_equal(has, 0);
    assert_int_equal(fg_ledger_customer_has_money(c, "cus_bob", &has), FG_OK);
    assert_int_equal(has, 1);
    fg_store_read_release(e->store, c);

    /* commit the pending one with its journal; then it is final */
    struct ledger_call j2 = {0};
    assert_int_equal(env_post(e, &j2, "transfer", a, d, 700, "CNY"), FG_OK);
    struct ledger_call cm = {.op = OP_TRF_COMMIT, .a = t2, .b = j2.id, .now = 3000};
    assert_int_equal(ledger_run(e, &cm), FG_OK);
    assert_int_equal(ledger_run(e, &cm), FG_ERR_CONFLICT);
    cm.a = t3;
    assert_int_equal(ledger_run(e, &cm), FG_ERR_NOT_FOUND);
    c = env_read(e);
    assert_int_equal(fg_ledger_transfer_get(c, t2, &t), FG_OK);
    assert_string_equal(t.status, "committed");
    assert_int_equal(t.committed_ms, 3000);
    assert_int_equal(fg_ledger_payee_known(c, CUSTOMER, d, 3001, &known), FG_OK);
    assert_int_equal(known, 1);
    /* a pending transfer counts as money for the destroy guard */
    fg_store_read_release(e->store, c);
    /* the running totals of the limits are part of the proof of the books: they match the
     * transfer rows, and a total changed behind the ledger's back is found */
    struct fg_ledger_check_report r = env_check(e);
    assert_true(r.ok);
    assert_int_equal(env_sql(e, "UPDATE ledger_out_buckets SET total = total - 1 WHERE "
                                "scope LIKE 'a:%'"),
                     FG_OK);
    r = env_check(e);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "running totals"));
    ledger_env_free(e);
}

/* ---- the proof of the books ---------------------------------------------------------------- */

/* Three accounts and a few movements; returns the env, ids in a/b/cash. */
static struct ledger_env *books(const char *name, char *a, char *b, char *cash)
{
    struct ledger_env *e = ledger_env_new(name);
    assert_int_equal(env_open(e, CUSTOMER, "CNY", a), FG_OK);
    assert_int_equal(env_open(e, "cus_bob", "CNY", b), FG_OK);
    env_cash(e, "CNY", cash);
    assert_int_equal(env_move(e, "deposit", cash, a, 1000, "CNY"), FG_OK);
    assert_int_equal(env_move(e, "transfer", a, b, 400, "CNY"), FG_OK);
    assert_int_equal(env_move(e, "withdrawal", b, cash, 100, "CNY"), FG_OK);
    assert_true(env_check(e).ok);
    return e;
}

static void test_check_tampering(void **state)
{
    (void)state;
    char a[FG_LEDGER_ID_SIZE], b[FG_LEDGER_ID_SIZE], cash[FG_LEDGER_ID_SIZE], sql[300];
    struct fg_ledger_check_report r;

    /* a balance changed */
    struct ledger_env *e = books("ledger_t1", a, b, cash);
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET balance = balance + 1 WHERE id = '%s'",
             a);
    assert_int_equal(env_sql(e, sql), FG_OK);
    r = env_check(e);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, a));
    assert_non_null(strstr(r.problem, "sum to"));
    ledger_env_free(e);

    /* an entry deleted (the trigger that forbids it dropped first) */
    e = books("ledger_t2", a, b, cash);
    assert_int_equal(env_sql(e, "DROP TRIGGER ledger_entries_no_delete"), FG_OK);
    assert_int_equal(env_sql(e, "DELETE FROM ledger_entries WHERE seq = "
                                "(SELECT max(seq) FROM ledger_entries)"),
                     FG_OK);
    r = env_check(e);
    assert_false(r.ok);
    assert_int_equal(r.entries, 5);
    ledger_env_free(e);

    /* a journal's amount changed */
    e = books("ledger_t3", a, b, cash);
    assert_int_equal(env_sql(e, "UPDATE ledger_journal SET amount = amount + 1"),
                     FG_ERR_CONFLICT); /* the schema refuses */
    assert_int_equal(env_sql(e, "DROP TRIGGER ledger_journal_append_only"), FG_OK);
    assert_int_equal(env_sql(e, "UPDATE ledger_journal SET amount = amount + 1 "
                                "WHERE kind = 'transfer'"),
                     FG_OK);
    r = env_check(e);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "journal"));
    ledger_env_free(e);

    /* b's last entry (the withdrawal, -100) rewritten to -105 with its balance_after and
     * b's balance to match: b still adds up, but the journal no longer balances */
    e = books("ledger_t4", a, b, cash);
    assert_int_equal(env_sql(e, "DROP TRIGGER ledger_entries_no_update"), FG_OK);
    snprintf(sql, sizeof sql,
             "UPDATE ledger_entries SET amount = amount - 5, balance_after = balance_after - 5 "
             "WHERE seq = (SELECT max(seq) FROM ledger_entries WHERE account_id = '%s')",
             b);
    assert_int_equal(env_sql(e, sql), FG_OK);
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET balance = balance - 5 WHERE id = '%s'",
             b);
    assert_int_equal(env_sql(e, sql), FG_OK);
    r = env_check(e);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "journal"));
    ledger_env_free(e);

    /* money created from nothing: an account with a balance and no entries */
    e = books("ledger_t5", a, b, cash);
    char c2[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e, "cus_eve", "CNY", c2), FG_OK);
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET balance = 99 WHERE id = '%s'", c2);
    assert_int_equal(env_sql(e, sql), FG_OK);
    r = env_check(e);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "no entries"));
    ledger_env_free(e);

    /* (4) an overdraft breached (the CHECK constraint bypassed) */
    e = books("ledger_t6", a, b, cash);
    assert_int_equal(env_sql(e, "PRAGMA ignore_check_constraints = ON"), FG_OK);
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET overdraft = -1 WHERE id = '%s'", a);
    fg_rc rc = env_sql(e, sql);
    assert_int_equal(env_sql(e, "PRAGMA ignore_check_constraints = OFF"), FG_OK);
    assert_int_equal(rc, FG_OK);
    r = env_check(e);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "overdraft"));
    ledger_env_free(e);
}

/* ---- a random walk ------------------------------------------------------------------------- */

#define WALK_ACCOUNTS 20
#define WALK_MOVES 2000
#define WALK_BATCH 100

static uint64_t rng_next(uint64_t *s) /* xorshift64*: seeded, reproducible */
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

struct walk {
    struct ledger_env *e;
    char acc[WALK_ACCOUNTS][FG_LEDGER_ID_SIZE];
    char cash[FG_LEDGER_ID_SIZE];
    uint64_t seed;
    int64_t net; /* deposits − withdrawals that committed */
    unsigned ok, policy, other;
};

static fg_rc walk_batch(fg_conn *c, void *arg)
{
    struct walk *w = arg;
    for (int i = 0; i < WALK_BATCH; i++) {
        uint64_t r = rng_next(&w->seed);
        unsigned kind = (unsigned)(r % 4);
        const char *x = w->acc[(r >> 8) % WALK_ACCOUNTS];
        const char *y = w->acc[(r >> 16) % WALK_ACCOUNTS];
        int64_t amount = (int64_t)((r >> 24) % 5000) + 1;
        struct fg_ledger_move m = {
            .amount = amount, .currency = "CNY", .actor_id = "walker", .now_ms = 1000 + i};
        if (kind == 0) {
            m.kind = "deposit";
            m.debit_account = w->cash;
            m.credit_account = x;
        } else if (kind == 1) {
            m.kind = "withdrawal";
            m.debit_account = x;
            m.credit_account = w->cash;
        } else {
            m.kind = "transfer";
            m.debit_account = x;
            m.credit_account = y;
        }
        const char *why, *field;
        fg_rc rc = fg_ledger_post(c, NULL, &m, NULL, &why, &field);
        if (rc == FG_OK) {
            w->ok++;
            w->net += kind == 0 ? amount : kind == 1 ? -amount : 0;
        } else if (rc == FG_ERR_POLICY) {
            w->policy++;
        } else if (rc == FG_ERR_INVALID && x == y) {
            w->other++; /* the same account twice */
        } else {
            return rc; /* anything else is a bug: fail the test */
        }
    }
    return FG_OK;
}

static void test_random_walk(void **state)
{
    (void)state;
    struct walk w;
    memset(&w, 0, sizeof w);
    w.e = ledger_env_new("ledger_walk");
    w.seed = 0x5eed5eed12345678ULL;
    for (int i = 0; i < WALK_ACCOUNTS; i++) {
        char cust[16];
        snprintf(cust, sizeof cust, "cus_%d", i % 7);
        assert_int_equal(env_open(w.e, cust, "CNY", w.acc[i]), FG_OK);
    }
    env_cash(w.e, "CNY", w.cash);
    for (int b = 0; b < WALK_MOVES / WALK_BATCH; b++)
        assert_int_equal(fg_store_write(w.e->store, walk_batch, &w), FG_OK);
    assert_int_equal(w.ok + w.policy + w.other, WALK_MOVES);
    assert_true(w.ok > WALK_MOVES / 2);
    assert_true(w.policy > 0); /* insufficient funds happened */

    struct fg_ledger_check_report r = env_check(w.e);
    assert_true(r.ok);
    assert_int_equal(r.accounts, WALK_ACCOUNTS + 1);
    assert_int_equal(r.journals, w.ok);
    assert_int_equal(r.entries, 2 * (uint64_t)w.ok);
    /* conservation: the customers hold exactly what came in minus what went out */
    int64_t total = 0;
    for (int i = 0; i < WALK_ACCOUNTS; i++) {
        struct fg_ledger_account a = env_account(w.e, w.acc[i]);
        assert_true(a.balance >= 0);
        total += a.balance;
    }
    assert_int_equal(total, w.net);
    assert_int_equal(env_account(w.e, w.cash).balance, -w.net);
    char want[64];
    snprintf(want, sizeof want, "CNY:%" PRId64, w.net);
    assert_string_equal(r.currency_totals, want);
    ledger_env_free(w.e);
}

static void test_register_columns(void **state)
{
    (void)state;
    fg_protect_registry_clear();
    assert_int_equal(fg_ledger_register_columns(), FG_OK);
    assert_int_equal(fg_ledger_register_columns(), FG_OK); /* idempotent */
    fg_protect_registry_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounts),    cmocka_unit_test(test_moves),
        cmocka_unit_test(test_refusals),    cmocka_unit_test(test_status_and_limits),
        cmocka_unit_test(test_idempotency), cmocka_unit_test(test_statement_paging),
        cmocka_unit_test(test_transfers),   cmocka_unit_test(test_check_tampering),
        cmocka_unit_test(test_random_walk), cmocka_unit_test(test_register_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
