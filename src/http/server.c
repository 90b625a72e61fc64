/*
 * server.c — event loops and lifecycle.
 *
 * Each loop thread owns an h2o context, an evloop and its own SO_REUSEPORT listening
 * socket on the same address and port, so the kernel spreads connections across loops
 * with no shared accept lock. h2o's evloop keeps thread-local state, so everything
 * per-loop (evloop, context, multithread queue) is created on the loop's own thread; the
 * starter waits on a barrier until every loop is ready before anything can send to them.
 *
 * Shutdown: fg_server_stop() posts a message to every loop. A loop that receives it
 * closes its listener (no new connections), asks h2o to shut down its connections
 * (HTTP/2 GOAWAY, HTTP/1 close after the current response), and keeps running until its
 * hand-offs have all completed (the writer always completes an intent) and then until its
 * connections are gone or FG_HTTP_SHUTDOWN_CONN_GRACE_MS passed. A loop whose connections
 * did not close in time is left undisposed (process exit reclaims it) rather than freeing
 * memory a connection may still reach.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "base/log.h"
#include "base/netaddr.h"
#include "base/time.h"
#include "http/internal.h"
#include "http/tls.h"

static h2o_barrier_t start_barrier;

/* ---- listeners ------------------------------------------------------------------------- */

static fg_rc open_listener(const char *address, uint16_t port, int *fd_out, uint16_t *bound)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    struct addrinfo *res = NULL;
    if (getaddrinfo(address, portstr, &hints, &res) != 0 || res == NULL)
        return FG_ERR_CONFIG;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return FG_ERR_IO;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (res->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        close(fd);
        freeaddrinfo(res);
        fg_log(FG_LOG_ERROR, "http.listen_failed", FG_LF_STR("address", address),
               FG_LF_INT("port", port), FG_LF_STR("error", strerror(err)));
        return FG_ERR_IO;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        close(fd);
        return FG_ERR_IO;
    }
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return FG_OK;
}

/* ---- loop thread ----------------------------------------------------------------------- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct fg_loop *l = listener->data;
    if (err != NULL)
        return;
    for (int i = 0; i < 32; i++) { /* a few per wake-up; the rest on the next turn */
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            break;
        h2o_accept(&l->accept_ctx, sock);
    }
}

static void on_stop(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct fg_loop *l = H2O_STRUCT_FROM_MEMBER(struct fg_loop, stop_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
    }
    if (l->stopping)
        return;
    l->stopping = 1;
    if (l->listener != NULL) {
        h2o_socket_read_stop(l->listener);
        h2o_socket_close(l->listener); /* closes listen_fd */
        l->listener = NULL;
        l->listen_fd = -1;
    }
    h2o_context_request_shutdown(&l->ctx);
}

static int has_connections(struct fg_loop *l)
{
    return !h2o_linklist_is_empty(&l->ctx.http1._conns) ||
           !h2o_linklist_is_empty(&l->ctx.http2._conns);
}

/* h2o_context_dispose() asserts that no timeout entry is still linked. After a graceful
 * shutdown the HTTP/2 "force close" timer may remain armed although every connection is
 * gone; disarm it, then dispose only if every timeout list is empty. */
static int timeouts_idle(h2o_context_t *ctx)
{
    if (h2o_timeout_is_linked(&ctx->http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&ctx->http2._graceful_shutdown_timeout);
    h2o_timeout_t *all[] = {&ctx->zero_timeout,
                            &ctx->one_sec_timeout,
                            &ctx->hundred_ms_timeout,
                            &ctx->handshake_timeout,
                            &ctx->http1.req_timeout,
                            &ctx->http2.idle_timeout,
                            &ctx->http2.graceful_shutdown_timeout,
                            &ctx->proxy.io_timeout};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!h2o_linklist_is_empty(&all[i]->_entries))
            return 0;
    return 1;
}

static void *loop_main(void *arg)
{
    struct fg_loop *l = arg;
    struct fg_server *s = l->srv;
    h2o_context_init(&l->ctx, h2o_evloop_create(), &s->globalconf);
    l->queue = h2o_multithread_create_queue(l->ctx.loop);
    h2o_multithread_register_receiver(l->queue, &l->done_receiver, fg_http_on_done);
    h2o_multithread_register_receiver(l->queue, &l->stop_receiver, on_stop);
    l->accept_ctx.ctx = &l->ctx;
    l->accept_ctx.hosts = s->globalconf.hosts;
    l->accept_ctx.ssl_ctx = s->ssl_ctx;
    l->listener = h2o_evloop_socket_create(l->ctx.loop, l->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    l->listener->data = l;
    h2o_socket_read_start(l->listener, on_accept);
    h2o_barrier_wait(&start_barrier);

    uint64_t deadline_ns = 0;
    int spins = 0;
    for (;;) {
        h2o_evloop_run(l->ctx.loop, l->stopping ? 10 : 50);
        if (!l->stopping || l->inflight > 0)
            continue; /* hand-offs always complete before a loop exits */
        uint64_t now = fg_time_mono_ns();
        if (deadline_ns == 0)
            deadline_ns = now + (uint64_t)FG_HTTP_SHUTDOWN_CONN_GRACE_MS * 1000000ull;
        if (has_connections(l) && now <= deadline_ns)
            continue;
        if (!has_connections(l) && !timeouts_idle(&l->ctx) && spins++ < 20)
            continue; /* let pending zero-timeouts fire */
        break;
    }
    /* Past this point a connection still in its TLS handshake (not yet in h2o's lists) may
     * complete during the last loop turns below; it must not hand anything off. */
    l->exiting = 1;
    int clean = !has_connections(l) && timeouts_idle(&l->ctx);
    if (!clean)
        fg_log(FG_LOG_WARN, "http.shutdown_unclean", FG_LF_INT("loop", l->index),
               FG_LF_STR("reason", "connections or timers still active after the grace period"));
    h2o_multithread_unregister_receiver(l->queue, &l->done_receiver);
    h2o_multithread_unregister_receiver(l->queue, &l->stop_receiver);
    if (clean) {
        /* evloop frees closed sockets on its next turn: run one after each step that
         * closes some (the queue's notification socket, then the context's). */
        h2o_multithread_destroy_queue(l->queue);
        l->queue = NULL;
        h2o_evloop_t *loop = l->ctx.loop;
        h2o_evloop_run(loop, 0);
        h2o_context_dispose(&l->ctx);
        h2o_evloop_run(loop, 0);
        h2o_evloop_destroy(loop);
    }
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static fg_rc build_routes(struct fg_server *s)
{
    fg_rc rc = fg_http_build_routes(s->cfg, &s->router);
    if (rc == FG_OK)
        rc = fg_metrics_new(s->router, &s->metrics);
    return rc;
}

static fg_rc setup_tls(struct fg_server *s, const char *data_dir)
{
    const struct fg_config *cfg = s->cfg;
    if (!cfg->server_tls) {
        /* validated already: plain HTTP only on loopback */
        fg_log(FG_LOG_WARN, "http.plaintext", FG_LF_STR("address", cfg->server_address),
               FG_LF_STR("note", "TLS is off; allowed only because the address is loopback"));
        return FG_OK;
    }
    char cert[FG_PATH_MAX], key[FG_PATH_MAX];
    if (cfg->server_tls_cert[0] != '\0') {
        snprintf(cert, sizeof cert, "%s", cfg->server_tls_cert);
        snprintf(key, sizeof key, "%s", cfg->server_tls_key);
    } else {
        fg_rc rc = fg_tls_ensure_self_signed(data_dir, cfg->server_address, cert, key);
        if (rc)
            return rc;
    }
    return fg_tls_server_ctx(cert, key, &s->ssl_ctx);
}

fg_rc fg_server_new(const struct fg_server_options *opt, struct fg_server **out)
{
    assert(opt != NULL && opt->cfg != NULL && opt->app != NULL && out != NULL);
    const struct fg_config *cfg = opt->cfg;
    struct fg_server *s = calloc(1, sizeof *s);
    if (!s)
        return FG_ERR_NOMEM;
    s->cfg = cfg;
    s->app = opt->app;
    s->body_max = (size_t)cfg->server_body_max_bytes;
    s->inflight_max = (size_t)cfg->server_inflight_max;
    if (fg_net_list_parse(cfg->server_trusted_proxies, &s->proxies, NULL, NULL) != FG_OK) {
        fg_log(FG_LOG_ERROR, "http.trusted_proxies_invalid");
        free(s);
        return FG_ERR_INVALID;
    }
    unsigned char rnd[4];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        free(s);
        return FG_ERR_CRYPTO;
    }
    snprintf(s->id_prefix, sizeof s->id_prefix, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s->nloops =
        cfg->server_threads > 0 ? (unsigned)cfg->server_threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    if (s->nloops > FG_HTTP_THREADS_MAX)
        s->nloops = FG_HTTP_THREADS_MAX;
    s->loops = calloc(s->nloops, sizeof *s->loops);
    fg_rc rc = s->loops ? FG_OK : FG_ERR_NOMEM;
    if (rc == FG_OK)
        rc = build_routes(s);
    if (rc == FG_OK)
        rc = setup_tls(s, opt->data_dir);
    if (rc == FG_OK) {
        h2o_config_init(&s->globalconf);
        s->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("finguard"));
        /* h2o's own ceiling; the configured limit is enforced in call.c with our error
         * shape (413 payload_too_large). */
        s->globalconf.max_request_entity_size = FG_HTTP_BODY_MAX_CEILING;
        s->hostconf =
            h2o_config_register_host(&s->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
        h2o_pathconf_t *path = h2o_config_register_path(s->hostconf, "/", 0);
        h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
        handler->on_req = fg_http_on_req;
    }
    uint16_t port = (uint16_t)cfg->server_port;
    for (unsigned i = 0; rc == FG_OK && i < s->nloops; i++) {
        s->loops[i].srv = s;
        s->loops[i].index = i;
        s->loops[i].listen_fd = -1;
        uint16_t bound = 0;
        rc = open_listener(cfg->server_address, port, &s->loops[i].listen_fd, &bound);
        if (rc == FG_OK && port == 0)
            port = bound; /* the other loops join the port the first one got */
        s->port = bound;
    }
    if (rc == FG_OK)
        rc = fg_pool_new(s->nloops, FG_HTTP_INFLIGHT_MAX, &s->workers);
    if (rc) {
        fg_server_free(s);
        return rc;
    }
    s->app->metrics = s->metrics;
    *out = s;
    return FG_OK;
}

fg_rc fg_server_start(struct fg_server *s)
{
    h2o_barrier_init(&start_barrier, s->nloops + 1);
    for (unsigned i = 0; i < s->nloops; i++)
        h2o_multithread_create_thread(&s->loops[i].thread, NULL, loop_main, &s->loops[i]);
    h2o_barrier_wait(&start_barrier);
    fg_log(FG_LOG_INFO, "http.listen", FG_LF_STR("address", s->cfg->server_address),
           FG_LF_INT("port", s->port), FG_LF_BOOL("tls", s->cfg->server_tls),
           FG_LF_INT("loops", s->nloops), FG_LF_INT("routes", fg_router_count(s->router)));
    return FG_OK;
}

void fg_server_stop(struct fg_server *s)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&s->stop_requested, &expected, 1))
        return;
    fg_log(FG_LOG_INFO, "http.stopping");
    for (unsigned i = 0; i < s->nloops; i++)
        h2o_multithread_send_message(&s->loops[i].stop_receiver, &s->loops[i].stop_msg);
}

void fg_server_wait(struct fg_server *s)
{
    for (unsigned i = 0; i < s->nloops; i++)
        pthread_join(s->loops[i].thread, NULL);
    fg_pool_free(s->workers);
    s->workers = NULL;
    fg_log(FG_LOG_INFO, "http.stopped");
}

void fg_server_free(struct fg_server *s)
{
    if (!s)
        return;
    int clean = 1;
    for (unsigned i = 0; s->loops && i < s->nloops; i++) {
        if (s->loops[i].queue != NULL)
            clean = 0; /* loop left undisposed: keep its memory reachable */
        if (s->loops[i].listen_fd >= 0 && s->loops[i].listener == NULL)
            close(s->loops[i].listen_fd); /* never started */
    }
    if (!clean) {
        /* A loop exited with connections open (idle keep-alives past the grace). Their
         * memory stays reachable from here until the process exits a moment later;
         * freeing it under live h2o objects would be worse. */
        static struct fg_server *volatile kept_until_exit;
        kept_until_exit = s;
        (void)kept_until_exit;
        return;
    }
    fg_pool_free(s->workers);
    if (s->hostconf)
        h2o_config_dispose(&s->globalconf);
    if (s->ssl_ctx)
        SSL_CTX_free(s->ssl_ctx);
    fg_metrics_free(s->metrics);
    fg_router_free(s->router);
    free(s->loops);
    free(s);
}

uint16_t fg_server_port(const struct fg_server *s)
{
    return s->port;
}

const struct fg_router *fg_server_router(const struct fg_server *s)
{
    return s->router;
}
