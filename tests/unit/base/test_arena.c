/*
 * test_arena.c — fg_arena: alignment, maximum, calloc overflow, big allocations in their
 * own chunk, strings, reuse after release.
 */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/limits.h"

static void test_alignment_and_distinct(void **state)
{
    (void)state;
    struct fg_arena a;
    fg_arena_init(&a, FG_ARENA_MAX_DEFAULT);
    unsigned char *prev = NULL;
    for (size_t n = 0; n < 200; n++) {
        unsigned char *p = fg_arena_alloc(&a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        assert_true(p != prev);
        memset(p, 0xa5, n); /* ASan would catch an overlap with a live chunk header */
        prev = p;
    }
    fg_arena_release(&a);
    assert_null(a.chunks);
    assert_int_equal(a.used, 0);
}

static void test_max_enforced(void **state)
{
    (void)state;
    struct fg_arena a;
    fg_arena_init(&a, 1024);
    assert_non_null(fg_arena_alloc(&a, 500));
    assert_int_equal(a.used, 512);        /* rounded up to the alignment */
    assert_null(fg_arena_alloc(&a, 513)); /* rounds to 528 > 512 left */
    assert_non_null(fg_arena_alloc(&a, 512));
    assert_int_equal(a.used, 1024);
    assert_null(fg_arena_alloc(&a, 1));
    assert_null(fg_arena_alloc(&a, SIZE_MAX));
    fg_arena_release(&a);
    /* usable again, with the same maximum */
    assert_non_null(fg_arena_alloc(&a, 900));
    assert_null(fg_arena_alloc(&a, 200));
    fg_arena_release(&a);
}

static void test_zeroed_alloc(void **state)
{
    (void)state;
    struct fg_arena a;
    fg_arena_init(&a, FG_ARENA_MAX_DEFAULT);
    /* dirty memory, release it, so calloc likely gets the same bytes back */
    memset(fg_arena_alloc(&a, 400), 0xff, 400);
    fg_arena_release(&a);
    int *v = fg_arena_calloc(&a, 100, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < 100; i++)
        assert_int_equal(v[i], 0);
    assert_null(fg_arena_calloc(&a, SIZE_MAX / 2, 4)); /* count * size overflows */
    assert_null(fg_arena_calloc(&a, 4, SIZE_MAX / 2));
    assert_non_null(fg_arena_calloc(&a, 0, 8));
    fg_arena_release(&a);
}

static void test_big_allocations(void **state)
{
    (void)state;
    struct fg_arena a;
    fg_arena_init(&a, FG_ARENA_MAX_DEFAULT);
    char *small1 = fg_arena_alloc(&a, 32);
    assert_non_null(small1);
    struct fg_arena_chunk *head = a.chunks;
    char *big = fg_arena_alloc(&a, 100000);
    assert_non_null(big);
    memset(big, 1, 100000);
    /* the big block did not replace the head chunk: small allocations continue there */
    assert_ptr_equal(a.chunks, head);
    char *small2 = fg_arena_alloc(&a, 32);
    assert_ptr_equal(small2, small1 + 32);
    /* a second big one, and many small ones spilling into new chunks */
    assert_non_null(fg_arena_alloc(&a, 50000));
    for (int i = 0; i < 1000; i++)
        assert_non_null(fg_arena_alloc(&a, 100));
    assert_true(a.used <= a.max);
    fg_arena_release(&a);
}

static void test_strings(void **state)
{
    (void)state;
    struct fg_arena a;
    fg_arena_init(&a, 4096);
    char *s = fg_arena_strdup(&a, "hello");
    assert_string_equal(s, "hello");
    char *t = fg_arena_strndup(&a, "abcdef", 3);
    assert_string_equal(t, "abc");
    char *u = fg_arena_strndup(&a, "ab\0cd", 5); /* stops at the NUL */
    assert_string_equal(u, "ab");
    char *e = fg_arena_strndup(&a, "", 0);
    assert_string_equal(e, "");
    fg_arena_release(&a);
}

static void test_exhaustion_by_strings(void **state)
{
    (void)state;
    struct fg_arena a;
    fg_arena_init(&a, 64);
    assert_non_null(fg_arena_strdup(&a, "0123456789012345678901234567890")); /* 32 */
    assert_non_null(fg_arena_strdup(&a, "short"));                           /* 16 */
    assert_null(fg_arena_strdup(&a, "01234567890123456789"));                /* 32 */
    fg_arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_distinct),
        cmocka_unit_test(test_max_enforced),
        cmocka_unit_test(test_zeroed_alloc),
        cmocka_unit_test(test_big_allocations),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_exhaustion_by_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
