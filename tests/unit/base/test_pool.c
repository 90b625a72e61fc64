/* Unit tests for base/pool.c: every job runs once, bounded queue, drain on free, background
 * workers run niced. */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/pool.h"

struct counted {
    struct fg_pool_job job;
    _Atomic int *counter;
    pthread_mutex_t *gate; /* if set, the job waits on it */
};

static void run_counted(struct fg_pool_job *j)
{
    struct counted *c = (struct counted *)j;
    if (c->gate) {
        pthread_mutex_lock(c->gate);
        pthread_mutex_unlock(c->gate);
    }
    atomic_fetch_add(c->counter, 1);
}

static void test_runs_every_job(void **state)
{
    (void)state;
    struct fg_pool *p;
    assert_int_equal(fg_pool_new(4, 20000, &p), FG_OK);
    _Atomic int counter = 0;
    static struct counted jobs[10000];
    for (int i = 0; i < 10000; i++) {
        jobs[i] = (struct counted){.job.run = run_counted, .counter = &counter};
        assert_int_equal(fg_pool_submit(p, &jobs[i].job), FG_OK);
    }
    fg_pool_free(p); /* drains */
    assert_int_equal(atomic_load(&counter), 10000);
}

static void test_bounded_queue(void **state)
{
    (void)state;
    struct fg_pool *p;
    assert_int_equal(fg_pool_new(1, 3, &p), FG_OK);
    pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&gate);
    _Atomic int counter = 0;
    struct counted jobs[6];
    for (int i = 0; i < 6; i++)
        jobs[i] = (struct counted){.job.run = run_counted, .counter = &counter, .gate = &gate};
    assert_int_equal(fg_pool_submit(p, &jobs[0].job), FG_OK);
    while (fg_pool_queued(p) != 0) /* the worker took job 0 and blocks on the gate */
        usleep(1000);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(fg_pool_submit(p, &jobs[i].job), FG_OK);
    assert_int_equal(fg_pool_submit(p, &jobs[4].job), FG_ERR_BUSY);
    assert_int_equal(fg_pool_queued(p), 3);
    pthread_mutex_unlock(&gate);
    fg_pool_free(p);
    assert_int_equal(atomic_load(&counter), 4);
}

struct niced {
    struct fg_pool_job job;
    int nice_seen;
    _Atomic int *counter;
};

static void run_niced(struct fg_pool_job *j)
{
    struct niced *n = (struct niced *)j;
    errno = 0;
    n->nice_seen = getpriority(PRIO_PROCESS, (id_t)gettid());
    if (errno != 0)
        n->nice_seen = -100;
    atomic_fetch_add(n->counter, 1);
}

/* A background pool's workers are FG_POOL_BACKGROUND_NICE nicer than the thread that made
 * the pool (capped at 19); a plain pool's are not; the caller's own nice is unchanged. */
static void test_background_nice(void **state)
{
    (void)state;
    errno = 0;
    int mine = getpriority(PRIO_PROCESS, (id_t)gettid());
    assert_int_equal(errno, 0);
    _Atomic int counter = 0;
    struct fg_pool *p;
    struct niced bg = {.job.run = run_niced, .counter = &counter};
    struct niced plain = {.job.run = run_niced, .counter = &counter};
    assert_int_equal(fg_pool_new_background(1, 4, &p), FG_OK);
    assert_int_equal(fg_pool_submit(p, &bg.job), FG_OK);
    fg_pool_free(p);
    assert_int_equal(fg_pool_new(1, 4, &p), FG_OK);
    assert_int_equal(fg_pool_submit(p, &plain.job), FG_OK);
    fg_pool_free(p);
    assert_int_equal(atomic_load(&counter), 2);
    int want = mine + FG_POOL_BACKGROUND_NICE > 19 ? 19 : mine + FG_POOL_BACKGROUND_NICE;
    assert_int_equal(bg.nice_seen, want);
    assert_int_equal(plain.nice_seen, mine);
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)gettid()), mine);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_every_job),
        cmocka_unit_test(test_bounded_queue),
        cmocka_unit_test(test_background_nice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
