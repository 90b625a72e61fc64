/*
 * arena.h — a per-request bump allocator (h2o_mem_pool / ngx_pool in spirit).
 *
 * Everything a request allocates for its own use comes from its arena and is freed at
 * once by fg_arena_release() at the end of the request — no per-object frees, no leaks
 * on error paths. An arena has a maximum (FG_ARENA_MAX_DEFAULT unless told otherwise);
 * past it allocation returns NULL, which callers treat as FG_ERR_LIMIT/NOMEM.
 * Memory is 16-byte aligned. An arena is used by one thread at a time.
 */
#ifndef FG_BASE_ARENA_H
#define FG_BASE_ARENA_H

#include <stddef.h>

struct fg_arena_chunk;

struct fg_arena {
    struct fg_arena_chunk *chunks; /* newest first */
    size_t used;                   /* bytes handed out, including alignment */
    size_t max;                    /* most bytes this arena may hand out */
};

void fg_arena_init(struct fg_arena *a, size_t max);
/* n bytes, uninitialised; NULL if over the maximum or out of memory. */
void *fg_arena_alloc(struct fg_arena *a, size_t n);
void *fg_arena_calloc(struct fg_arena *a, size_t count, size_t size); /* overflow-checked */
char *fg_arena_strndup(struct fg_arena *a, const char *s, size_t n);  /* NUL-terminated */
char *fg_arena_strdup(struct fg_arena *a, const char *s);
/* Free everything; the arena may be used again. */
void fg_arena_release(struct fg_arena *a);

#endif
