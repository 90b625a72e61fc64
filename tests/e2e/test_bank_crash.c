/*
 * test_bank_crash.c — the bank test (issue #5 acceptance; REQUIREMENTS TXN-1, TXN-2, TXN-4,
 * TXN-6, AUD-1): concurrent customers move money while the server is SIGKILLed and
 * restarted; afterwards every acknowledged transfer exists exactly once and the books and
 * the audit chain prove it.
 *
 * Set-up: staff (one unseal share), then FG_BANK_CLIENTS customers, each with two CNY
 * accounts funded by a teller's deposit of FUND, on a server with iam.customer_mfa=optional
 * (customers sign in with the password; transfers stay in the session tier because each
 * client keeps the sum it ever asked to move under the 1 000.00 CNY daily session tier).
 *
 * Load: one thread per customer sends POST /v1/transfers of 1..100 fen from one of its
 * accounts to a random account of a random customer, each with a fresh Idempotency-Key.
 * An attempt that gets no answer (transport error, 503 while down or sealed, 429) is
 * retried with THE SAME key and body; a 401 (the restart ended the session) logs in again
 * first. A key is finished only by an answer: 201 (acknowledged: transfer id and journal
 * id kept) or 422 (refused on the merits: funds). Anything else is a failure. Meanwhile the
 * main thread kills the server with SIGKILL every FG_BANK_KILL_EVERY seconds, restarts it
 * on the same data directory and unseals it, for FG_BANK_SECONDS in all.
 *
 * Afterwards (server up, then stopped):
 *   - every acknowledged key, replayed with its body, answers 201 with the SAME transfer
 *     and journal id (no key ever produced a second transfer), and GET /v1/transfers/{id}
 *     says committed with that journal, amount and accounts;
 *   - no two keys share a transfer id;
 *   - every account's balance = FUND + what acknowledged transfers brought − what they took
 *     (a lost or doubled transfer shows here), and the customers hold exactly the deposits;
 *   - GET /v1/ledger/check ok; stopped: `finguard ledger check` exit 0, `finguard audit
 *     verify` exit 0;
 *   - in the database: the committed transfers are exactly the acknowledged ones (ids and
 *     journals), as many transfer journals as acknowledgements, and each has exactly one
 *     "transfers.create" ok audit record.
 *
 * Short by default for `make test` (8 clients, 12 s, a kill every 4 s); `make soak` runs the
 * acceptance length (64 clients, 60 s, every 5 s) through the environment variables.
 */
#include "testutil.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bank.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "server.h"
#include "staff.h"

#define CLIENTS_DEFAULT 8
#define SECONDS_DEFAULT 12
#define KILL_EVERY_DEFAULT 4
#define CLIENTS_MAX 128
#define SECONDS_MAX 3600
/* Each account's opening deposit (1 000.00 CNY). */
#define FUND 100000
#define AMOUNT_MAX 100
/* The sum one customer ever asks to move: below the session tier (100000 per day), so no
 * transfer ever needs a one-time code or an approval. */
#define ASKED_MAX 99000
/* A key not answered this long after the load stopped is abandoned (a failure). */
#define KEY_DEADLINE_MS 120000
#define RETRY_SLEEP_MS 25
#define CLIENT_TIMEOUT_MS 10000

struct ack {
    char key[BANK_KEY_MAX];
    char id[BANK_ID_MAX], journal[BANK_ID_MAX];
    int from, to; /* indexes into crash.accounts */
    int64_t amount;
};

struct worker {
    pthread_t thread;
    struct crash *env;
    int index;
    struct bank_customer *cu;
    struct fg_client *c;
    struct signer sg;
    struct ack *acks;
    size_t nacks, cap;
    int64_t asked;
    long refused, retries, relogins, unexpected, abandoned, verify_bad;
    char first_unexpected[300];
    uint64_t rng;
};

struct crash {
    struct fg_test_server s;
    struct bank_staff b;
    int clients, seconds, kill_every;
    struct bank_customer *cust;
    struct worker *w;
    char (*accounts)[BANK_ID_MAX]; /* 2 per customer: customer i has 2i and 2i+1 */
    int naccounts;
    atomic_int stop;
    atomic_llong stop_ms;
    int kills;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int env_int(const char *name, int def, int min, int max)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return def;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < min || n > max)
        fail_msg("%s=%s: expected %d..%d", name, v, min, max);
    return (int)n;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void note_unexpected(struct worker *w, long st, const char *what)
{
    if (w->unexpected++ == 0)
        snprintf(w->first_unexpected, sizeof w->first_unexpected, "%ld %.250s", st, what);
}

static void ack_push(struct worker *w, const struct ack *a)
{
    if (w->nacks == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        struct ack *v = realloc(w->acks, cap * sizeof *v);
        if (v == NULL)
            abort(); /* worker thread: no cmocka */
        w->acks = v;
        w->cap = cap;
    }
    w->acks[w->nacks++] = *a;
}

/* Log in until it works (the server may be down, sealed or busy). 0 on success. */
static int login(struct worker *w)
{
    struct person *p = &w->cu->p;
    for (;;) {
        long st = bank_raw_login(w->c, p->username, p->password, p->device, &w->sg, NULL);
        if (st == 200)
            return 0;
        if (st != 0 && st != 503 && st != 429) {
            note_unexpected(w, st, "login");
            return -1;
        }
        if (atomic_load(&w->env->stop) &&
            now_ms() > atomic_load(&w->env->stop_ms) + KEY_DEADLINE_MS)
            return -1;
        sleep_ms(RETRY_SLEEP_MS);
    }
}

/* Send until the server answers something other than "not now". Returns the status (the
 * response in *res) or 0 when the key is abandoned. */
static long send_until_answer(struct worker *w, const char *body, const char *key,
                              struct fg_client_response *res)
{
    for (int attempt = 0;; attempt++) {
        if (attempt > 0) {
            w->retries++;
            if (atomic_load(&w->env->stop) &&
                now_ms() > atomic_load(&w->env->stop_ms) + KEY_DEADLINE_MS) {
                w->abandoned++;
                return 0;
            }
        }
        long st = bank_raw_post(w->c, "/v1/transfers", body, key, res);
        if (st == 201 || st == 422 || (st >= 400 && st < 500 && st != 401 && st != 429))
            return st;
        if (st == 401) {
            fg_client_response_release(res);
            w->relogins++;
            if (login(w) != 0) {
                w->abandoned++;
                return 0;
            }
            continue;
        }
        if (st != 0 && st != 503 && st != 429)
            note_unexpected(w, st, res->body); /* e.g. 500: retried, but never fine */
        if (st != 0)
            fg_client_response_release(res);
        sleep_ms(RETRY_SLEEP_MS);
    }
}

static void transfer_body(const struct crash *t, const struct ack *a, char *out, size_t cap)
{
    snprintf(out, cap, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld,\"currency\":\"CNY\"}",
             t->accounts[a->from], t->accounts[a->to], (long long)a->amount);
}

/* ---- the load ----------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct crash *t = w->env;
    if (login(w) != 0)
        return NULL;
    while (!atomic_load(&t->stop)) {
        struct ack a = {.from = 2 * w->index + (int)(next_rand(&w->rng) % 2)};
        do
            a.to = (int)(next_rand(&w->rng) % (uint64_t)t->naccounts);
        while (a.to == a.from);
        a.amount = 1 + (int64_t)(next_rand(&w->rng) % AMOUNT_MAX);
        if (w->asked + a.amount > ASKED_MAX) {
            sleep_ms(50); /* this customer's day is done; keep the others company */
            continue;
        }
        w->asked += a.amount;
        bank_new_key(a.key);
        char body[BANK_BODY_MAX];
        transfer_body(t, &a, body, sizeof body);
        struct fg_client_response res;
        long st = send_until_answer(w, body, a.key, &res);
        if (st == 0)
            break;
        if (st == 201) {
            const char *id = json_string_value(json_object_get(res.json, "id"));
            const char *jnl = json_string_value(json_object_get(res.json, "journal_id"));
            const char *status = json_string_value(json_object_get(res.json, "status"));
            if (id && jnl && status && strcmp(status, "committed") == 0 &&
                strlen(id) < BANK_ID_MAX && strlen(jnl) < BANK_ID_MAX) {
                snprintf(a.id, sizeof a.id, "%s", id);
                snprintf(a.journal, sizeof a.journal, "%s", jnl);
                ack_push(w, &a);
            } else {
                note_unexpected(w, st, res.body);
            }
        } else if (st == 422) {
            w->refused++; /* funds: the answer for this key, nothing moved */
        } else {
            note_unexpected(w, st, res.body);
        }
        fg_client_response_release(&res);
    }
    return NULL;
}

/* ---- verification over HTTP (threads, no cmocka) ----------------------------------------- */

static int same_str(json_t *o, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL && strcmp(v, want) == 0;
}

static void *verify_main(void *arg)
{
    struct worker *w = arg;
    struct crash *t = w->env;
    for (size_t i = 0; i < w->nacks; i++) {
        const struct ack *a = &w->acks[i];
        char body[BANK_BODY_MAX], path[128];
        transfer_body(t, a, body, sizeof body);
        struct fg_client_response res;
        /* TXN-2: the same key and body, again: the first answer, never a second transfer */
        long st = send_until_answer(w, body, a->key, &res);
        if (st != 201 || !same_str(res.json, "id", a->id) ||
            !same_str(res.json, "journal_id", a->journal)) {
            if (w->verify_bad++ < 5)
                fprintf(stderr, "key %s (transfer %s): replay answered %ld %s\n", a->key, a->id, st,
                        st ? res.body : "");
        }
        if (st != 0)
            fg_client_response_release(&res);
        snprintf(path, sizeof path, "/v1/transfers/%s", a->id);
        if (fg_client_get(w->c, path, &res) != FG_OK) {
            w->verify_bad++;
            continue;
        }
        if (res.status != 200 || !same_str(res.json, "status", "committed") ||
            !same_str(res.json, "journal_id", a->journal) ||
            !same_str(res.json, "from", t->accounts[a->from]) ||
            !same_str(res.json, "to", t->accounts[a->to]) ||
            json_integer_value(json_object_get(res.json, "amount")) != a->amount) {
            if (w->verify_bad++ < 5)
                fprintf(stderr, "transfer %s reads back %ld %s\n", a->id, res.status, res.body);
        }
        fg_client_response_release(&res);
    }
    return NULL;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp((const char *)x, (const char *)y);
}

/* All acknowledged transfer ids, sorted: a flat array of BANK_ID_MAX strings. */
static char (*all_ids(const struct crash *t, size_t *n))[BANK_ID_MAX]
{
    size_t total = 0;
    for (int i = 0; i < t->clients; i++)
        total += t->w[i].nacks;
    char(*ids)[BANK_ID_MAX] = calloc(total ? total : 1, sizeof *ids);
    assert_non_null(ids);
    size_t k = 0;
    for (int i = 0; i < t->clients; i++)
        for (size_t j = 0; j < t->w[i].nacks; j++)
            memcpy(ids[k++], t->w[i].acks[j].id, BANK_ID_MAX);
    qsort(ids, total, sizeof *ids, cmp_str);
    *n = total;
    return ids;
}

static void verify_live(struct crash *t)
{
    /* no two keys were acknowledged with one transfer */
    size_t n = 0;
    char(*ids)[BANK_ID_MAX] = all_ids(t, &n);
    for (size_t i = 1; i < n; i++)
        if (strcmp(ids[i], ids[i - 1]) == 0)
            fail_msg("transfer %s acknowledged for two keys", ids[i]);
    free(ids);
    /* replays and read-backs, one thread per customer (a fresh deadline for their retries) */
    atomic_store(&t->stop_ms, (long long)now_ms());
    for (int i = 0; i < t->clients; i++)
        assert_int_equal(pthread_create(&t->w[i].thread, NULL, verify_main, &t->w[i]), 0);
    long bad = 0;
    for (int i = 0; i < t->clients; i++) {
        pthread_join(t->w[i].thread, NULL);
        bad += t->w[i].verify_bad;
    }
    if (bad)
        fail_msg("%ld acknowledged transfers did not replay or read back as acknowledged", bad);
    /* every balance is what the acknowledged transfers made of it */
    int64_t *want = calloc((size_t)t->naccounts, sizeof *want);
    assert_non_null(want);
    for (int k = 0; k < t->naccounts; k++)
        want[k] = FUND;
    for (int i = 0; i < t->clients; i++)
        for (size_t j = 0; j < t->w[i].nacks; j++) {
            want[t->w[i].acks[j].from] -= t->w[i].acks[j].amount;
            want[t->w[i].acks[j].to] += t->w[i].acks[j].amount;
        }
    int64_t total = 0;
    for (int k = 0; k < t->naccounts; k++) {
        struct person p = t->cust[k / 2].p;
        p.c = t->w[k / 2].c; /* the owner's live session */
        int64_t got = bank_balance(&p, t->accounts[k]);
        if (got != want[k])
            fail_msg("account %s: balance %lld, acknowledged transfers make it %lld",
                     t->accounts[k], (long long)got, (long long)want[k]);
        total += got;
    }
    free(want);
    assert_int_equal(total, (int64_t)t->naccounts * FUND); /* money is neither made nor lost */
}

/* ---- verification in the database (stopped server) --------------------------------------- */

static sqlite3 *open_db(const struct crash *t)
{
    char path[700];
    snprintf(path, sizeof path, "%s/finguard.db", t->s.dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static long long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Rows of a one-column query, sorted (flat BANK_ID_MAX strings). */
static char (*column(sqlite3 *db, const char *sql, size_t *n))[BANK_ID_MAX]
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    size_t cap = 1024, k = 0;
    char(*v)[BANK_ID_MAX] = malloc(cap * sizeof *v);
    assert_non_null(v);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (k == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            assert_non_null(v);
        }
        const unsigned char *s = sqlite3_column_text(st, 0);
        snprintf(v[k++], BANK_ID_MAX, "%s", s ? (const char *)s : "");
    }
    sqlite3_finalize(st);
    qsort(v, k, sizeof *v, cmp_str);
    *n = k;
    return v;
}

static void verify_db(struct crash *t)
{
    size_t nacks = 0, nrows = 0, nrec = 0;
    char(*acked)[BANK_ID_MAX] = all_ids(t, &nacks);
    sqlite3 *db = open_db(t);
    /* exactly the acknowledged transfers committed — nothing lost, nothing extra */
    char(*rows)[BANK_ID_MAX] =
        column(db,
               "SELECT id || ' ' || journal_id FROM ledger_transfers WHERE status = "
               "'committed'",
               &nrows);
    char(*want)[BANK_ID_MAX] = calloc(nacks ? nacks : 1, sizeof *want);
    assert_non_null(want);
    size_t k = 0;
    for (int i = 0; i < t->clients; i++)
        for (size_t j = 0; j < t->w[i].nacks; j++)
            snprintf(want[k++], BANK_ID_MAX, "%.26s %.26s", t->w[i].acks[j].id,
                     t->w[i].acks[j].journal);
    qsort(want, nacks, sizeof *want, cmp_str);
    size_t x = 0, y = 0, missing = 0, extra = 0;
    while (x < nacks || y < nrows) {
        int c = x == nacks ? 1 : y == nrows ? -1 : strcmp(want[x], rows[y]);
        if (c < 0 && missing++ < 5)
            fprintf(stderr, "acknowledged transfer %s is not in the database\n", want[x]);
        if (c > 0 && extra++ < 5)
            fprintf(stderr, "transfer %s committed but never acknowledged\n", rows[y]);
        x += c <= 0;
        y += c >= 0;
    }
    fprintf(stderr, "%zu acknowledged, %zu committed transfers in the database\n", nacks, nrows);
    assert_int_equal(missing, 0);
    assert_int_equal(extra, 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM ledger_journal WHERE kind = 'transfer'"),
                     (long long)nacks);
    assert_int_equal(scalar(db, "SELECT count(*) FROM ledger_transfers WHERE status <> "
                                "'committed'"),
                     0);
    assert_int_equal(scalar(db, "SELECT sum(balance) FROM ledger_accounts WHERE kind = "
                                "'customer'"),
                     (long long)t->naccounts * FUND);
    /* AUD-1: every committed transfer has exactly one record of its creation */
    char(*rec)[BANK_ID_MAX] =
        column(db,
               "SELECT object_id FROM audit_log WHERE action = 'transfers.create' AND "
               "result = 'ok' AND object_type = 'transfer'",
               &nrec);
    sqlite3_close(db);
    for (size_t i = 1; i < nrec; i++)
        if (strcmp(rec[i], rec[i - 1]) == 0)
            fail_msg("transfer %s has two creation records", rec[i]);
    size_t unrecorded = 0;
    for (size_t i = 0; i < nacks; i++)
        if (bsearch(acked[i], rec, nrec, sizeof *rec, cmp_str) == NULL && unrecorded++ < 5)
            fprintf(stderr, "transfer %s has no transfers.create record\n", acked[i]);
    assert_int_equal(unrecorded, 0);
    assert_int_equal(nrec, nacks);
    free(acked);
    free(rows);
    free(want);
    free(rec);
}

/* ---- the test ----------------------------------------------------------------------------- */

static void setup_customers(struct crash *t)
{
    t->cust = calloc((size_t)t->clients, sizeof *t->cust);
    t->w = calloc((size_t)t->clients, sizeof *t->w);
    t->naccounts = 2 * t->clients;
    t->accounts = calloc((size_t)t->naccounts, sizeof *t->accounts);
    assert_true(t->cust && t->w && t->accounts);
    for (int i = 0; i < t->clients; i++) {
        char name[32];
        snprintf(name, sizeof name, "Client %d", i);
        bank_customer_new(&t->s, &t->b, &t->cust[i], name, 1000u + (unsigned)i, 2, FUND);
        bank_customer_free(&t->cust[i]); /* each worker logs in with its own client */
        for (int k = 0; k < 2; k++)
            snprintf(t->accounts[2 * i + k], BANK_ID_MAX, "%s", t->cust[i].account[k]);
        struct worker *w = &t->w[i];
        w->env = t;
        w->index = i;
        w->cu = &t->cust[i];
        w->rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)i * 0x100000001B3ull) ^ (uint64_t)time(NULL);
        w->c = bank_raw_client(&t->s, CLIENT_TIMEOUT_MS);
        assert_non_null(w->c);
    }
}

static void run_load(struct crash *t)
{
    for (int i = 0; i < t->clients; i++)
        assert_int_equal(pthread_create(&t->w[i].thread, NULL, worker_main, &t->w[i]), 0);
    int64_t start = now_ms(), end = start + (int64_t)t->seconds * 1000;
    int64_t next_kill = start + (int64_t)t->kill_every * 1000;
    while (now_ms() < end) {
        int64_t wake = next_kill < end ? next_kill : end;
        while (now_ms() < wake)
            sleep_ms(20);
        if (now_ms() >= next_kill && now_ms() < end) {
            fg_test_server_kill9(&t->s);
            fg_test_server_restart(&t->s);
            bank_unseal(&t->s, &t->b);
            t->kills++;
            next_kill += (int64_t)t->kill_every * 1000;
        }
    }
    atomic_store(&t->stop_ms, (long long)now_ms());
    atomic_store(&t->stop, 1);
    long acks = 0, refused = 0, retries = 0, relogins = 0, unexpected = 0, abandoned = 0;
    for (int i = 0; i < t->clients; i++) {
        struct worker *w = &t->w[i];
        pthread_join(w->thread, NULL);
        if (w->unexpected)
            fprintf(stderr, "client %d: %ld unexpected answers, first: %s\n", i, w->unexpected,
                    w->first_unexpected);
        acks += (long)w->nacks;
        refused += w->refused;
        retries += w->retries;
        relogins += w->relogins;
        unexpected += w->unexpected;
        abandoned += w->abandoned;
    }
    fprintf(stderr,
            "bank: %d clients, %d s, %d kills: %ld transfers acknowledged, %ld refused "
            "(funds), %ld retries, %ld logins again\n",
            t->clients, t->seconds, t->kills, acks, refused, retries, relogins);
    assert_int_equal(unexpected, 0);
    assert_int_equal(abandoned, 0);
    assert_true(acks >= t->clients); /* the load really ran */
    assert_true(t->kills >= 1 || t->seconds < t->kill_every);
}

static void test_bank_survives_sigkill(void **state)
{
    (void)state;
    struct crash *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->clients = env_int("FG_BANK_CLIENTS", CLIENTS_DEFAULT, 1, CLIENTS_MAX);
    t->seconds = env_int("FG_BANK_SECONDS", SECONDS_DEFAULT, 1, SECONDS_MAX);
    t->kill_every = env_int("FG_BANK_KILL_EVERY", KILL_EVERY_DEFAULT, 1, SECONDS_MAX);
    /* the monitor records but does not act: this test is about the ledger under SIGKILL, and
     * its random transfers between a few customers look like draining (money.drain.*) */
    const char *const args[] = {"--set", "iam.customer_mfa=optional", "--set",
                                "monitor.enforce=false", NULL};
    fg_test_server_start(&t->s, args);
    bank_staff_setup(&t->s, &t->b, 1, 1);
    setup_customers(t);

    run_load(t);
    verify_live(t);
    /* TXN-6 over HTTP: the staff sessions ended with the first kill */
    bank_staff_relogin(&t->s, &t->b, BANK_AUDITOR);
    bank_ledger_check(BANK_P(&t->b, BANK_AUDITOR), NULL, 0);

    for (int i = 0; i < t->clients; i++)
        fg_client_free(t->w[i].c);
    bank_staff_free(&t->b);
    assert_int_equal(fg_test_server_stop(&t->s), 0);
    assert_int_equal(bank_cli_ledger_check(&t->s), 0);
    assert_int_equal(bank_cli_audit_verify(&t->s, &t->b), 0);
    verify_db(t);
    fg_test_server_done(&t->s);
    for (int i = 0; i < t->clients; i++)
        free(t->w[i].acks);
    free(t->cust);
    free(t->w);
    free(t->accounts);
    free(t);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    assert_int_equal(oath_init(), OATH_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bank_survives_sigkill, fg_test_server_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    oath_done();
    return failed;
}
