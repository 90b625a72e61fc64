/*
 * router.c — a linear route table. Patterns are pre-split into segments at registration;
 * matching walks the request path segment by segment against each route. With a few
 * dozen routes a linear scan over pre-split segments costs well under a microsecond, less
 * than a hash of the path would, and keeps "405 with Allow" trivial: the same scan notes
 * every method whose pattern matched.
 */
#include "http/router.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct segment {
    const char *p; /* literal text, or NULL for a {param} */
    size_t n;
};

struct entry {
    struct fg_route route;
    int nseg;
    struct segment seg[FG_HTTP_SEGMENTS_MAX];
};

struct fg_router {
    size_t count;
    struct entry entries[FG_HTTP_ROUTES_MAX];
};

fg_rc fg_router_new(struct fg_router **out)
{
    assert(out != NULL);
    *out = calloc(1, sizeof(struct fg_router));
    return *out ? FG_OK : FG_ERR_NOMEM;
}

void fg_router_free(struct fg_router *r)
{
    free(r);
}

/* Split "/a/b/{c}" into segments; every segment non-empty, params whole segments. */
static fg_rc split_pattern(const char *pattern, struct entry *e)
{
    size_t len = strlen(pattern);
    if (len < 2 || pattern[0] != '/' || pattern[len - 1] == '/')
        return FG_ERR_INVALID;
    e->nseg = 0;
    const char *p = pattern + 1;
    const char *end = pattern + len;
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *seg_end = slash ? slash : end;
        size_t n = (size_t)(seg_end - p);
        if (n == 0 || e->nseg == (int)FG_HTTP_SEGMENTS_MAX)
            return FG_ERR_INVALID;
        int is_param = p[0] == '{';
        if (is_param && (n < 3 || p[n - 1] != '}'))
            return FG_ERR_INVALID;
        if (!is_param && (memchr(p, '{', n) || memchr(p, '}', n)))
            return FG_ERR_INVALID;
        e->seg[e->nseg].p = is_param ? NULL : p;
        e->seg[e->nseg].n = n;
        e->nseg++;
        p = seg_end + 1;
    }
    return FG_OK;
}

fg_rc fg_router_add(struct fg_router *r, const struct fg_route *route)
{
    assert(r != NULL && route != NULL);
    if (route->permission == NULL || route->permission[0] == '\0' || route->fn == NULL ||
        route->method == NULL || route->pattern == NULL)
        return FG_ERR_INVALID;
    if (r->count == FG_HTTP_ROUTES_MAX)
        return FG_ERR_LIMIT;
    struct entry *e = &r->entries[r->count];
    memset(e, 0, sizeof *e);
    fg_rc rc = split_pattern(route->pattern, e);
    if (rc)
        return rc;
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->entries[i].route.method, route->method) == 0 &&
            strcmp(r->entries[i].route.pattern, route->pattern) == 0)
            return FG_ERR_CONFLICT;
    }
    e->route = *route;
    if (e->route.name == NULL)
        e->route.name = e->route.pattern;
    r->count++;
    return FG_OK;
}

/* Does path match e? Fills params when it does. */
static int match_entry(const struct entry *e, const char *path, size_t path_len,
                       struct fg_router_params *params)
{
    if (path_len < 2 || path[0] != '/')
        return 0;
    const char *p = path + 1;
    const char *end = path + path_len;
    int nparams = 0;
    for (int i = 0; i < e->nseg; i++) {
        if (p > end)
            return 0;
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *seg_end = slash ? slash : end;
        size_t n = (size_t)(seg_end - p);
        if (n == 0)
            return 0;
        if (e->seg[i].p != NULL) {
            if (n != e->seg[i].n || memcmp(p, e->seg[i].p, n) != 0)
                return 0;
        } else if (params != NULL) {
            params->v[nparams].p = p;
            params->v[nparams].n = n;
            nparams++;
        }
        /* the last segment must end the path; others must be followed by '/' */
        if (i == e->nseg - 1) {
            if (seg_end != end)
                return 0;
        } else if (slash == NULL) {
            return 0;
        }
        p = seg_end + 1;
    }
    if (params != NULL)
        params->count = nparams;
    return 1;
}

static int method_is(const char *want, const char *method, size_t method_len)
{
    return strlen(want) == method_len && memcmp(want, method, method_len) == 0;
}

static void allow_add(char *allow, size_t allow_size, const char *method)
{
    if (allow == NULL || allow_size == 0)
        return;
    size_t used = strlen(allow);
    if (strstr(allow, method) != NULL)
        return;
    snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", method);
}

enum fg_router_result fg_router_match(const struct fg_router *r, const char *method,
                                      size_t method_len, const char *path, size_t path_len,
                                      const struct fg_route **route,
                                      struct fg_router_params *params, char *allow,
                                      size_t allow_size)
{
    assert(r != NULL && method != NULL && path != NULL && route != NULL);
    int path_matched = 0;
    if (allow && allow_size)
        allow[0] = '\0';
    if (path_len > FG_HTTP_PATH_MAX)
        return FG_ROUTE_NOT_FOUND;
    for (size_t i = 0; i < r->count; i++) {
        const struct entry *e = &r->entries[i];
        if (!match_entry(e, path, path_len, NULL))
            continue;
        path_matched = 1;
        int is_get = strcmp(e->route.method, "GET") == 0;
        if (method_is(e->route.method, method, method_len) ||
            (is_get && method_is("HEAD", method, method_len))) {
            int ok = match_entry(e, path, path_len, params);
            assert(ok);
            (void)ok;
            *route = &e->route;
            return FG_ROUTE_FOUND;
        }
        allow_add(allow, allow_size, e->route.method);
        if (is_get)
            allow_add(allow, allow_size, "HEAD");
    }
    return path_matched ? FG_ROUTE_BAD_METHOD : FG_ROUTE_NOT_FOUND;
}

size_t fg_router_count(const struct fg_router *r)
{
    return r->count;
}

const struct fg_route *fg_router_at(const struct fg_router *r, size_t i)
{
    assert(i < r->count);
    return &r->entries[i].route;
}

size_t fg_router_index_of(const struct fg_router *r, const struct fg_route *route)
{
    const struct entry *e =
        (const struct entry *)(const void *)((const char *)route - offsetof(struct entry, route));
    assert(e >= r->entries && e < r->entries + r->count);
    return (size_t)(e - r->entries);
}
