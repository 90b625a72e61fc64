/*
 * routes.c — the one list of route files. The server builds its table from it, and
 * `finguard routes` prints the same table, so the authorization-matrix test can prove that
 * every route has an entry in its golden table (a new route without one fails the test).
 */
#include <assert.h>
#include <stddef.h>

#include "http/server.h"

typedef fg_rc (*register_fn)(struct fg_router *r, const struct fg_config *cfg);

static const register_fn route_files[] = {
    fg_routes_sys,    fg_routes_diag,      fg_routes_auth,      fg_routes_mfa,   fg_routes_users,
    fg_routes_audit,  fg_routes_money,     fg_routes_customers, fg_routes_reset, fg_routes_events,
    fg_routes_alerts, fg_routes_incidents, fg_routes_rules,
};

fg_rc fg_http_build_routes(const struct fg_config *cfg, struct fg_router **out)
{
    assert(cfg != NULL && out != NULL);
    struct fg_router *r;
    fg_rc rc = fg_router_new(&r);
    for (size_t i = 0; rc == FG_OK && i < sizeof route_files / sizeof route_files[0]; i++)
        rc = route_files[i](r, cfg);
    if (rc) {
        fg_router_free(r);
        return rc;
    }
    *out = r;
    return FG_OK;
}
