/*
 * test_crash.c — end to end: no acknowledged write is lost when the server is SIGKILLed.
 *
 * Each round: 16 client threads POST /v1/diag/write in a loop with unique payloads and
 * record every acknowledged (201) id with its payload; after ~1.5 s the server gets
 * SIGKILL mid-load; it is restarted on the same data dir and every write acknowledged so
 * far — in this round and the earlier ones — must read back with its exact payload. Ids
 * must be unique. Three rounds. Responses other than 201 or 503 (busy) before the kill
 * fail the test; transport errors after the kill are expected.
 *
 * Afterwards, with the server stopped, the audit trail must have survived the kills too:
 * `finguard audit verify --dev --json` (the server ran in development mode) reports the
 * chain intact, and every acknowledged write has its "diag.write" record (object_id = the
 * id) — a write never commits without its record, so none may be missing.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "server.h"

#define THREADS 16
#define ROUNDS 3
#define LOAD_MS 1500
#define ACKS_MAX (1u << 20) /* per round and thread: far above what 1.5 s can produce */

struct ack {
    char id[32];
    char payload[48];
};

struct acks {
    struct ack *v;
    size_t n, cap;
};

struct worker {
    pthread_t thread;
    const struct fg_test_server *s;
    int index;
    int round;
    atomic_int *stop;
    struct acks acks;
    long unexpected; /* responses that are neither 201 nor 503 */
    long transport_errors;
    char first_unexpected[256];
};

/* Runs on worker threads too, where a cmocka assertion cannot unwind: abort instead. */
static void acks_push(struct acks *a, const char *id, const char *payload)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        struct ack *v = a->cap < ACKS_MAX ? realloc(a->v, cap * sizeof *v) : NULL;
        if (!v)
            abort();
        a->v = v;
        a->cap = cap;
    }
    snprintf(a->v[a->n].id, sizeof a->v[a->n].id, "%s", id);
    snprintf(a->v[a->n].payload, sizeof a->v[a->n].payload, "%s", payload);
    a->n++;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A client made on a worker thread (no cmocka assertions off the main thread). */
static struct fg_client *thread_client(const struct fg_test_server *s, int http2)
{
    struct fg_client_options opt = {
        .base_url = s->base_url, .ca_file = s->ca_file, .http2 = http2, .timeout_ms = 10000};
    struct fg_client *c = NULL;
    if (fg_client_new(&opt, &c) != FG_OK)
        abort();
    return c;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct fg_client *c = thread_client(w->s, w->index % 2); /* half of them HTTP/2 */
    for (unsigned long seq = 0; !atomic_load(w->stop); seq++) {
        char payload[48], id[32];
        snprintf(payload, sizeof payload, "crash-r%d-t%d-%lu", w->round, w->index, seq);
        fg_rc rc;
        long st = fg_test_probe_write(c, payload, id, sizeof id, &rc);
        if (st == 201) {
            acks_push(&w->acks, id, payload);
        } else if (st == 0) {
            w->transport_errors++;
            sleep_ms(1);
        } else if (st != 503 && !atomic_load(w->stop)) {
            if (w->unexpected++ == 0)
                snprintf(w->first_unexpected, sizeof w->first_unexpected, "status %ld", st);
        }
    }
    fg_client_free(c);
    return NULL;
}

static int cmp_ack_id(const void *a, const void *b)
{
    return strcmp(((const struct ack *)a)->id, ((const struct ack *)b)->id);
}

static void verify_all(const struct fg_test_server *s, struct acks *all)
{
    /* Unique ids: two acknowledgements never share one. */
    struct ack *sorted = malloc((all->n ? all->n : 1) * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, all->v, all->n * sizeof *sorted);
    qsort(sorted, all->n, sizeof *sorted, cmp_ack_id);
    for (size_t i = 1; i < all->n; i++) {
        if (strcmp(sorted[i].id, sorted[i - 1].id) == 0)
            fail_msg("id %s acknowledged twice (%s, %s)", sorted[i].id, sorted[i].payload,
                     sorted[i - 1].payload);
    }
    free(sorted);

    const char **ids = malloc((all->n ? all->n : 1) * sizeof *ids);
    const char **payloads = malloc((all->n ? all->n : 1) * sizeof *payloads);
    assert_true(ids && payloads);
    for (size_t i = 0; i < all->n; i++) {
        ids[i] = all->v[i].id;
        payloads[i] = all->v[i].payload;
    }
    long missing = fg_test_probe_verify(s, ids, payloads, all->n, THREADS);
    free(ids);
    free(payloads);
    if (missing)
        fprintf(stderr, "%ld of %zu acknowledged writes lost or changed\n", missing, all->n);
    assert_int_equal(missing, 0);
}

/* `finguard audit verify --data-dir DIR --dev --json` on the stopped server's data dir. */
static void expect_audit_intact(const struct fg_test_server *s)
{
    const char *bin = getenv("FINGUARD_BIN");
    assert_non_null(bin);
    char cmd[2048];
    assert_true((size_t)snprintf(cmd, sizeof cmd,
                                 "'%s' audit verify --data-dir '%s' --dev --json </dev/null", bin,
                                 s->dir) < sizeof cmd);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    fprintf(stderr, "audit verify: %s", out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_true(json_is_null(json_object_get(doc, "first_bad_seq")));
    json_decref(doc);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every acknowledged id has its "diag.write" audit record (read with SQLite directly). */
static void expect_audited(const struct fg_test_server *s, const struct acks *all)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/finguard.db", s->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT object_id FROM audit_log "
                                        "WHERE action = 'diag.write' AND result = 'ok'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t n = 0, cap = 1024;
    char **ids = malloc(cap * sizeof *ids);
    assert_non_null(ids);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            ids = realloc(ids, cap * sizeof *ids);
            assert_non_null(ids);
        }
        ids[n] = strdup((const char *)sqlite3_column_text(st, 0));
        assert_non_null(ids[n]);
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    fprintf(stderr, "%zu diag.write records for %zu acknowledged writes\n", n, all->n);
    assert_true(n >= all->n); /* unacknowledged writes may have committed too */
    qsort(ids, n, sizeof *ids, cmp_str);
    size_t missing = 0;
    for (size_t i = 0; i < all->n; i++) {
        const char *key = all->v[i].id;
        if (bsearch(&key, ids, n, sizeof *ids, cmp_str) == NULL && missing++ < 5)
            fprintf(stderr, "acknowledged write %s has no audit record\n", key);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    assert_int_equal(missing, 0);
}

static void test_sigkill_loses_no_acknowledged_write(void **state)
{
    (void)state;
    struct fg_test_server s;
    const char *const args[] = {"--set", "diag.write_probe=true", "--set", "keys.dev_mode=true",
                                NULL};
    fg_test_server_start(&s, args);
    struct acks all = {0};
    for (int round = 0; round < ROUNDS; round++) {
        atomic_int stop = 0;
        static struct worker w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (struct worker){.s = &s, .index = i, .round = round, .stop = &stop};
            assert_int_equal(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
        }
        sleep_ms(LOAD_MS);
        fg_test_server_kill9(&s);
        atomic_store(&stop, 1);
        long unexpected = 0;
        size_t acked = 0;
        for (int i = 0; i < THREADS; i++) {
            pthread_join(w[i].thread, NULL);
            if (w[i].unexpected)
                fprintf(stderr, "thread %d: %ld unexpected responses, first %s\n", i,
                        w[i].unexpected, w[i].first_unexpected);
            unexpected += w[i].unexpected;
            for (size_t k = 0; k < w[i].acks.n; k++)
                acks_push(&all, w[i].acks.v[k].id, w[i].acks.v[k].payload);
            acked += w[i].acks.n;
            free(w[i].acks.v);
        }
        fprintf(stderr, "round %d: %zu writes acknowledged before SIGKILL (%zu in all)\n", round,
                acked, all.n);
        assert_int_equal(unexpected, 0);
        assert_true(acked >= THREADS); /* the load really ran */

        fg_test_server_restart(&s);
        verify_all(&s, &all);
    }
    assert_int_equal(fg_test_server_stop(&s), 0);
    expect_audit_intact(&s);
    expect_audited(&s, &all);
    free(all.v);
    fg_test_server_done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sigkill_loses_no_acknowledged_write,
                                  fg_test_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
