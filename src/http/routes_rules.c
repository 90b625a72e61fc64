/*
 * routes_rules.c — issue #6 (placeholder until its owner fills it).
 */
#include "http/server.h"

fg_rc fg_routes_rules(struct fg_router *r, const struct fg_config *cfg)
{
    (void)r;
    (void)cfg;
    return FG_OK;
}
