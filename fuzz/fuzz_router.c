/* Fuzz target: route matching on arbitrary method and path bytes. Input: method, a NUL,
 * then the path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h(struct fg_call *c)
{
    (void)c;
}

static struct fg_router *router(void)
{
    static struct fg_router *r;
    if (r == NULL) {
        if (fg_router_new(&r) != FG_OK)
            abort();
        const struct fg_route routes[] = {
            {"GET", "/v1/health", FG_PERM_PUBLIC, 0, h, NULL, 0},
            {"POST", "/v1/diag/write", "diag", 0, h, NULL, 0},
            {"GET", "/v1/diag/write/{id}", "diag", 0, h, NULL, 0},
            {"POST", "/v1/a/{x}/b/{y}", "p", 0, h, NULL, 0},
        };
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
            if (fg_router_add(r, &routes[i]) != FG_OK)
                abort();
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t mlen = nul ? (size_t)(nul - data) : 0;
    const char *path = (const char *)(nul ? nul + 1 : data);
    size_t plen = nul ? size - mlen - 1 : size;
    const struct fg_route *route = NULL;
    struct fg_router_params params;
    char allow[64];
    enum fg_router_result res = fg_router_match(router(), (const char *)data, mlen, path, plen,
                                                &route, &params, allow, sizeof allow);
    if (res == FG_ROUTE_FOUND) {
        for (int i = 0; i < params.count; i++)
            if (params.v[i].p < path || params.v[i].p + params.v[i].n > path + plen)
                abort();
    }
    return 0;
}
