/*
 * router.h — the route table: method + path pattern → handler, with a required
 * permission declared for every route.
 *
 * A pattern is a path of literal segments and `{name}` parameters:
 * "/v1/diag/write/{id}". Matching is on the raw request path (no decoding, no
 * normalisation): a path that is not in canonical form ("//", "/./", "%2e") simply does
 * not match and is a 404, so there is one spelling of every resource.
 *
 * Nothing is reachable without a declaration: fg_router_add() refuses a route whose
 * permission is NULL or empty (use FG_PERM_PUBLIC explicitly), a duplicate
 * method+pattern, or a malformed pattern. The table is built at start-up and read-only
 * afterwards, so lookups need no lock.
 */
#ifndef FG_HTTP_ROUTER_H
#define FG_HTTP_ROUTER_H

#include <stddef.h>

#include "base/limits.h"
#include "base/rc.h"

#define FG_PERM_PUBLIC "public"

/* Route flags. */
#define FG_ROUTE_JSON_BODY 0x1u /* the request carries a JSON object body */
#define FG_ROUTE_UNSEALED 0x2u  /* reachable while sealed (health, unseal) */

struct fg_call;
typedef void (*fg_handler_fn)(struct fg_call *call);

struct fg_route {
    const char *method;     /* "GET", "POST", ... (GET routes also answer HEAD) */
    const char *pattern;    /* "/v1/things/{id}" */
    const char *permission; /* FG_PERM_PUBLIC or a permission name of the role data */
    unsigned flags;
    fg_handler_fn fn;
    const char *name; /* metrics label; defaults to the pattern */
    size_t body_max;  /* JSON body limit of this route in bytes; 0 = the server's
                         (server.body_max_bytes); at most FG_HTTP_BODY_MAX_CEILING */
};

struct fg_router_params {
    int count;
    struct {
        const char *p; /* points into the request path; not NUL-terminated */
        size_t n;
    } v[FG_HTTP_SEGMENTS_MAX];
};

struct fg_router;

FG_MUST_CHECK fg_rc fg_router_new(struct fg_router **out);
void fg_router_free(struct fg_router *r);
/* The route struct is copied, its strings are not: method, pattern, permission and name
 * must outlive the router (string literals, as in every routes_*.c). FG_ERR_INVALID for a missing
 * permission or bad pattern, FG_ERR_CONFLICT for a duplicate, FG_ERR_LIMIT past FG_HTTP_ROUTES_MAX.
 */
FG_MUST_CHECK fg_rc fg_router_add(struct fg_router *r, const struct fg_route *route);

enum fg_router_result {
    FG_ROUTE_FOUND = 0,
    FG_ROUTE_NOT_FOUND,  /* no pattern matches the path */
    FG_ROUTE_BAD_METHOD, /* a pattern matches, not with this method (→ 405 + Allow) */
};

/* Look up method + path (path without the query). On FOUND, *route and params are set;
 * on BAD_METHOD, allow (if not NULL, size ≥ 64) receives the Allow header value. */
enum fg_router_result fg_router_match(const struct fg_router *r, const char *method,
                                      size_t method_len, const char *path, size_t path_len,
                                      const struct fg_route **route,
                                      struct fg_router_params *params, char *allow,
                                      size_t allow_size);

/* Routes in registration order (for the authorization matrix test and docs). */
size_t fg_router_count(const struct fg_router *r);
/* Position of a route returned by fg_router_match (for per-route metrics). */
size_t fg_router_index_of(const struct fg_router *r, const struct fg_route *route);
const struct fg_route *fg_router_at(const struct fg_router *r, size_t i);

#endif
