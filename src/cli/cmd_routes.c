/*
 * cmd_routes.c — `finguard routes [--json] [--config FILE] [--set k=v]…`: the route table
 * this configuration would serve — method, pattern, required permission — built by the
 * same code as the server's (http/routes.c). Operators read it to review exposure; the
 * authorization-matrix test reads it to prove its golden table covers every route.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/serve.h"
#include "http/router.h"
#include "http/server.h"

#define EXIT_USAGE 2
#define SETS_MAX 64

static const char routes_help[] =
    "usage: finguard routes [--json] [--config FILE] [--set section.name=value]...\n"
    "\n"
    "Print every route this configuration serves: method, path pattern and the permission\n"
    "it requires (\"public\" for none). Optional routes (diag.write_probe, server.metrics)\n"
    "appear when their setting is on.\n";

int fg_cli_cmd_routes(int argc, char **argv)
{
    const char *file = NULL;
    const char *sets[SETS_MAX] = {0};
    int nsets = 0, as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(routes_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = 1;
        } else if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--set") == 0) &&
                   i + 1 < argc) {
            if (strcmp(argv[i], "--config") == 0)
                file = argv[++i];
            else if (nsets == SETS_MAX) {
                fprintf(stderr, "finguard routes: too many --set options\n");
                return EXIT_USAGE;
            } else
                sets[nsets++] = argv[++i];
        } else {
            fprintf(stderr, "finguard routes: unknown option '%s' (see 'finguard routes --help')\n",
                    argv[i]);
            return EXIT_USAGE;
        }
    }
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(64u * 1024u);
    if (fg_cli_load_config(&cfg, file, sets, nsets, &errors)) {
        fputs(fg_buf_str(&errors), stderr);
        fg_buf_release(&errors);
        return 1;
    }
    fg_buf_release(&errors);
    struct fg_router *r;
    if (fg_http_build_routes(&cfg, &r) != FG_OK) {
        fprintf(stderr, "finguard routes: cannot build the route table\n");
        return 1;
    }
    json_t *list = as_json ? json_array() : NULL;
    for (size_t i = 0; i < fg_router_count(r); i++) {
        const struct fg_route *rt = fg_router_at(r, i);
        if (as_json)
            json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "method", rt->method,
                                                  "pattern", rt->pattern, "permission",
                                                  rt->permission));
        else
            printf("%-7s %-40s %s\n", rt->method, rt->pattern, rt->permission);
    }
    if (as_json) {
        char *text = json_dumps(list, JSON_INDENT(2));
        if (text != NULL)
            puts(text);
        free(text);
        json_decref(list);
    }
    fg_router_free(r);
    return 0;
}
