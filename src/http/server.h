/*
 * server.h — the HTTP server: h2o event loops (one per core) on SO_REUSEPORT listeners,
 * TLS by default, a route table where every route declares its permission, and graceful
 * shutdown.
 *
 * Lifecycle (driven by `finguard serve`):
 *   fg_server_new()   binds the listeners (port 0 → one free port shared by all loops),
 *                     prepares TLS and the routes; nothing runs yet.
 *   fg_server_start() starts the loop threads and the worker pool.
 *   fg_server_stop()  asks every loop to stop: listeners close at once, in-flight
 *                     requests (including those waiting on the writer) are finished,
 *                     idle connections are closed; safe to call from any thread, once.
 *   fg_server_wait()  joins the loops and the workers.
 *   fg_server_free()  releases everything. The store is the caller's: close it after.
 */
#ifndef FG_HTTP_SERVER_H
#define FG_HTTP_SERVER_H

#include <stdint.h>

#include "base/config.h"
#include "base/rc.h"
#include "http/call.h"

struct fg_server;

struct fg_server_options {
    const struct fg_config *cfg;
    struct fg_app *app;   /* services; must outlive the server */
    const char *data_dir; /* where the self-signed certificate is generated */
};

FG_MUST_CHECK fg_rc fg_server_new(const struct fg_server_options *opt, struct fg_server **out);
FG_MUST_CHECK fg_rc fg_server_start(struct fg_server *s);
void fg_server_stop(struct fg_server *s);
void fg_server_wait(struct fg_server *s);
void fg_server_free(struct fg_server *s);
/* The bound port (useful with server.port = 0). */
uint16_t fg_server_port(const struct fg_server *s);
/* The route table (read-only), e.g. for listing routes. */
const struct fg_router *fg_server_router(const struct fg_server *s);

/* Every route of this configuration (http/routes.c lists the route files). */
FG_MUST_CHECK fg_rc fg_http_build_routes(const struct fg_config *cfg, struct fg_router **out);

/* Route registration, one function per route file (http/routes_*.c). */
FG_MUST_CHECK fg_rc fg_routes_sys(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_diag(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_auth(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_mfa(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_audit(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_users(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_money(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_reset(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_customers(struct fg_router *r, const struct fg_config *cfg);
/* issue #6: monitoring, alerts, incidents */
FG_MUST_CHECK fg_rc fg_routes_events(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_alerts(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_incidents(struct fg_router *r, const struct fg_config *cfg);
FG_MUST_CHECK fg_rc fg_routes_rules(struct fg_router *r, const struct fg_config *cfg);

/* Four-eyes actions (iam/approval.h) run their validate() and execute() on the writer
 * thread inside an intent of some route file, without a call. The intent that runs them sets
 * the app of its call for that thread (set before, NULL after), so an action registered by
 * any route file reaches the services (keys, outbox, limits): fg_http_action_app() is NULL
 * anywhere else, and an action then refuses with FG_ERR_INTERNAL (the approval stays
 * pending). Defined in routes_users.c, whose decide intent serves every class. */
void fg_http_action_app_set(struct fg_app *app);
struct fg_app *fg_http_action_app(void);

#endif
