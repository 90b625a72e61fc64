/*
 * arena.c — the per-request bump allocator (see arena.h).
 *
 * An arena is a list of chunks, newest first. Each allocation is rounded up to 16 bytes
 * and carved from the head chunk by bumping its `used` offset; when the head is full a
 * new ARENA_CHUNK_SIZE chunk is pushed. A request bigger than a quarter of a chunk gets a
 * chunk of its own, linked *behind* the head so the head keeps serving small requests
 * (otherwise one large body would strand the rest of a fresh chunk). Chunks come from
 * aligned_alloc(16, ...) and their headers are padded to 16 bytes, so every pointer handed
 * out is 16-byte aligned. The maximum counts bytes handed out (after rounding), not the
 * chunk overhead, and is checked before any memory is taken. Release frees every chunk.
 */
#include "base/arena.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16u
/* Bytes per regular chunk: a typical request (parsed JSON, a few strings, one response)
 * fits in one or two chunks, and 8 KiB is cheap to take from malloc. */
#define ARENA_CHUNK_SIZE 8192u
/* Requests larger than this get a dedicated chunk. */
#define ARENA_BIG (ARENA_CHUNK_SIZE / 4u)

struct fg_arena_chunk {
    struct fg_arena_chunk *next;
    size_t cap;  /* usable bytes after the header */
    size_t used; /* bytes carved so far */
};

/* The header rounded up so the data that follows it is aligned. */
#define ARENA_HEADER_SIZE                                                                          \
    ((sizeof(struct fg_arena_chunk) + ARENA_ALIGN - 1u) & ~(size_t)(ARENA_ALIGN - 1u))

static unsigned char *chunk_data(struct fg_arena_chunk *c)
{
    return (unsigned char *)c + ARENA_HEADER_SIZE;
}

void fg_arena_init(struct fg_arena *a, size_t max)
{
    assert(a != NULL);
    assert(max > 0);
    a->chunks = NULL;
    a->used = 0;
    a->max = max;
}

static struct fg_arena_chunk *chunk_new(size_t cap)
{
    assert(cap > 0 && cap % ARENA_ALIGN == 0);
    if (cap > SIZE_MAX - ARENA_HEADER_SIZE)
        return NULL;
    struct fg_arena_chunk *c = aligned_alloc(ARENA_ALIGN, ARENA_HEADER_SIZE + cap);
    if (c == NULL)
        return NULL;
    c->next = NULL;
    c->cap = cap;
    c->used = 0;
    return c;
}

void *fg_arena_alloc(struct fg_arena *a, size_t n)
{
    assert(a != NULL);
    assert(a->used <= a->max);
    if (n == 0)
        n = 1; /* a distinct, valid pointer, like malloc(1) */
    if (n > SIZE_MAX - (ARENA_ALIGN - 1u))
        return NULL;
    size_t size = (n + ARENA_ALIGN - 1u) & ~(size_t)(ARENA_ALIGN - 1u);
    if (size > a->max - a->used)
        return NULL;

    struct fg_arena_chunk *head = a->chunks;
    unsigned char *p;
    if (head != NULL && size <= head->cap - head->used) {
        p = chunk_data(head) + head->used;
        head->used += size;
    } else if (size > ARENA_BIG) {
        struct fg_arena_chunk *big = chunk_new(size);
        if (big == NULL)
            return NULL;
        big->used = size;
        if (head != NULL) {
            big->next = head->next;
            head->next = big;
        } else {
            a->chunks = big;
        }
        p = chunk_data(big);
    } else {
        struct fg_arena_chunk *c = chunk_new(ARENA_CHUNK_SIZE);
        if (c == NULL)
            return NULL;
        c->next = head;
        a->chunks = c;
        c->used = size;
        p = chunk_data(c);
    }
    a->used += size;
    assert(((uintptr_t)p % ARENA_ALIGN) == 0);
    assert(a->used <= a->max);
    return p;
}

void *fg_arena_calloc(struct fg_arena *a, size_t count, size_t size)
{
    assert(a != NULL);
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t total = count * size;
    void *p = fg_arena_alloc(a, total);
    if (p != NULL)
        memset(p, 0, total == 0 ? 1 : total);
    return p;
}

char *fg_arena_strndup(struct fg_arena *a, const char *s, size_t n)
{
    assert(a != NULL);
    assert(s != NULL || n == 0);
    const char *nul = n > 0 ? memchr(s, '\0', n) : NULL;
    size_t len = nul != NULL ? (size_t)(nul - s) : n;
    if (len == SIZE_MAX)
        return NULL;
    char *p = fg_arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *fg_arena_strdup(struct fg_arena *a, const char *s)
{
    assert(s != NULL);
    return fg_arena_strndup(a, s, strlen(s));
}

void fg_arena_release(struct fg_arena *a)
{
    assert(a != NULL);
    struct fg_arena_chunk *c = a->chunks;
    while (c != NULL) {
        struct fg_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->used = 0;
}
