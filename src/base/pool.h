/*
 * pool.h — a bounded pool of worker threads for work that waits or burns CPU (password
 * hashing, slow reads), so event loops never block.
 *
 * The queue has a fixed maximum: fg_pool_submit() returns FG_ERR_BUSY when it is full
 * (the caller answers 429/503) instead of growing memory under a flood. Jobs are
 * intrusive (the caller owns their memory); each job's run() is called exactly once on a
 * worker thread, or with rc = FG_ERR_SHUTDOWN... never: fg_pool_free() first runs every
 * queued job, then joins the workers, so no submitted job is ever dropped.
 */
#ifndef FG_BASE_POOL_H
#define FG_BASE_POOL_H

#include <stddef.h>

#include "base/rc.h"

struct fg_pool_job {
    void (*run)(struct fg_pool_job *job); /* on a worker thread */
    struct fg_pool_job *next_;            /* pool-private */
};

struct fg_pool;

FG_MUST_CHECK fg_rc fg_pool_new(unsigned threads, size_t queue_max, struct fg_pool **out);
/* The same, for CPU-bound bulk work (password hashing): the workers run FG_POOL_BACKGROUND_NICE
 * nice steps below the process, so when the cores are saturated the latency-sensitive threads
 * (event loops, the writer, the monitor) still get a core as soon as they wake. The work itself
 * is not slowed while nothing else wants the CPU. */
#define FG_POOL_BACKGROUND_NICE 10
FG_MUST_CHECK fg_rc fg_pool_new_background(unsigned threads, size_t queue_max,
                                           struct fg_pool **out);
/* FG_ERR_BUSY when the queue is full, FG_ERR_SHUTDOWN after fg_pool_free started. */
FG_MUST_CHECK fg_rc fg_pool_submit(struct fg_pool *p, struct fg_pool_job *job);
/* Jobs queued and not yet started. */
size_t fg_pool_queued(struct fg_pool *p);
/* Run what is queued, stop and join the workers, free. */
void fg_pool_free(struct fg_pool *p);

#endif
