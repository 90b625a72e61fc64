/*
 * internal.h — structures shared by server.c (loops, lifecycle) and call.c (one
 * request). Not for handlers: they use call.h.
 */
#ifndef FG_HTTP_INTERNAL_H
#define FG_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <h2o.h>

#include "base/limits.h"
#include "base/netaddr.h"
#include "base/pool.h"
#include "http/call.h"
#include "http/metrics.h"
#include "http/router.h"

struct fg_server;

/* One event loop. The h2o context comes first so the loop can be found from req->conn->ctx. */
struct fg_loop {
    h2o_context_t ctx;
    struct fg_server *srv;
    unsigned index;
    pthread_t thread;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_accept_ctx_t accept_ctx;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t done_receiver; /* hand-off completions */
    h2o_multithread_receiver_t stop_receiver; /* shutdown request */
    h2o_multithread_message_t stop_msg;
    size_t inflight;  /* jobs handed off and not completed (loop thread only) */
    uint64_t next_id; /* request id counter (loop thread only) */
    int stopping;
    int exiting; /* past the point of no return: hand-offs refused (503) */
};

struct fg_server {
    const struct fg_config *cfg;
    struct fg_app *app;
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *hostconf;
    SSL_CTX *ssl_ctx;
    struct fg_router *router;
    struct fg_metrics *metrics;
    struct fg_pool *workers;
    unsigned nloops;
    struct fg_loop *loops;
    uint16_t port;
    size_t body_max;
    _Atomic size_t inflight_total; /* across loops, bounded by server.inflight_max */
    size_t inflight_max;
    char id_prefix[9];          /* random per process, starts request ids */
    struct fg_net_list proxies; /* server.trusted_proxies */
    _Atomic int stop_requested;
};

/* A hand-off: lives in malloc'd memory so it can outlive the request. */
struct fg_job {
    h2o_multithread_message_t msg; /* completion posted to the loop */
    struct fg_pool_job pool_job;   /* when run on the worker pool */
    struct fg_intent intent;       /* when run by the writer */
    struct fg_loop *loop;
    struct fg_call *call; /* NULL once the request is gone */
    struct fg_job **slot; /* in the request pool; cleared when done */
    fg_call_done_fn done;
    fg_work_fn work;
    void *arg;
    fg_rc rc;
};

/* The h2o handler entry point (call.c). */
int fg_http_on_req(h2o_handler_t *self, h2o_req_t *req);
/* Completion receiver callback (call.c). */
void fg_http_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

#endif
