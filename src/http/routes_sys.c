/*
 * routes_sys.c — system routes: GET /v1/health (public, answers even while sealed) and
 * GET /metrics (Prometheus text; open on loopback, or behind server.metrics_token).
 */
#include <stdlib.h>

#include "base/buf.h"
#include "http/call.h"
#include "http/metrics.h"
#include "http/server.h"

static void health(struct fg_call *c)
{
    /* Keys, initialisation and sealing arrive with the key hierarchy; until then an
     * instance has no keys: not initialised, and sealed. */
    json_t *body = json_pack("{s:s, s:b, s:b, s:s}", "status", "ok", "initialized", 0, "sealed", 1,
                             "version", FG_VERSION);
    fg_reply_json(c, 200, body);
}

static void metrics(struct fg_call *c)
{
    struct fg_app *app = fg_call_app(c);
    struct fg_buf out = FG_BUF_INIT(4u * 1024u * 1024u);
    fg_rc rc = fg_metrics_render(app->metrics, app->store, &out);
    if (rc) {
        fg_buf_release(&out);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    fg_reply_text(c, 200, "text/plain; version=0.0.4", fg_buf_str(&out), out.len);
    fg_buf_release(&out);
}

fg_rc fg_routes_sys(struct fg_router *r, const struct fg_config *cfg)
{
    fg_rc rc = fg_router_add(r, &(struct fg_route){.method = "GET",
                                                   .pattern = "/v1/health",
                                                   .permission = FG_PERM_PUBLIC,
                                                   .flags = FG_ROUTE_UNSEALED,
                                                   .fn = health});
    if (rc == FG_OK && cfg->server_metrics)
        rc = fg_router_add(r, &(struct fg_route){.method = "GET",
                                                 .pattern = "/metrics",
                                                 .permission = "metrics",
                                                 .flags = FG_ROUTE_UNSEALED,
                                                 .fn = metrics});
    return rc;
}
