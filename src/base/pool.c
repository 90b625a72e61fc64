/*
 * pool.c — a FIFO of intrusive jobs under one mutex and condition variable; N workers
 * pop and run. Shutdown sets a flag, wakes everyone, and workers exit only once the
 * queue is empty, so every accepted job runs.
 */
#include "base/pool.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/limits.h"

struct fg_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct fg_pool_job *head, *tail;
    size_t queued, queue_max;
    int stopping;
    int nice; /* added to each worker's nice value (0: none) */
    unsigned nthreads;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    struct fg_pool *p = arg;
    /* Linux: a thread's nice value is its own (setpriority on the thread id). Raising it needs
     * no privilege; when it fails the worker simply runs at normal priority. */
    if (p->nice != 0) {
        errno = 0;
        int cur = getpriority(PRIO_PROCESS, (id_t)gettid());
        if (errno == 0)
            (void)setpriority(PRIO_PROCESS, (id_t)gettid(), cur + p->nice);
    }
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        struct fg_pool_job *job = p->head;
        if (job == NULL) { /* stopping and drained */
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = job->next_;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        job->next_ = NULL;
        job->run(job);
    }
}

static fg_rc pool_new(unsigned threads, size_t queue_max, int nice, struct fg_pool **out)
{
    assert(threads > 0 && queue_max > 0 && out != NULL);
    struct fg_pool *p = calloc(1, sizeof *p);
    if (!p)
        return FG_ERR_NOMEM;
    p->nice = nice;
    p->threads = calloc(threads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return FG_ERR_NOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->queue_max = queue_max;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            p->nthreads = i;
            fg_pool_free(p);
            return FG_ERR_NOMEM;
        }
        p->nthreads = i + 1;
    }
    *out = p;
    return FG_OK;
}

fg_rc fg_pool_new(unsigned threads, size_t queue_max, struct fg_pool **out)
{
    return pool_new(threads, queue_max, 0, out);
}

fg_rc fg_pool_new_background(unsigned threads, size_t queue_max, struct fg_pool **out)
{
    return pool_new(threads, queue_max, FG_POOL_BACKGROUND_NICE, out);
}

fg_rc fg_pool_submit(struct fg_pool *p, struct fg_pool_job *job)
{
    assert(p != NULL && job != NULL && job->run != NULL);
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return FG_ERR_SHUTDOWN;
    }
    if (p->queued >= p->queue_max) {
        pthread_mutex_unlock(&p->mu);
        return FG_ERR_BUSY;
    }
    job->next_ = NULL;
    if (p->tail)
        p->tail->next_ = job;
    else
        p->head = job;
    p->tail = job;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return FG_OK;
}

size_t fg_pool_queued(struct fg_pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->queued;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void fg_pool_free(struct fg_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}
