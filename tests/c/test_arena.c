/*
 * test_arena.c: unit tests of render/arena.c: alignment, zeroing, string
 * copies, growing arrays, large requests and the block size growth.
 */
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "check.h"

static void
test_alignment_and_reuse(void)
{
    struct arena *a = arena_new();
    int misaligned = 0;
    for (int i = 1; i < 5000; i++) {
        char *p = arena_alloc(a, (size_t)(i % 97));
        misaligned += ((uintptr_t)p % 16) != 0;
        memset(p, 0xab, (size_t)(i % 97));
    }
    CHECK_EQ_INT(misaligned, 0);
    /* Small arenas start with a small block. */
    struct arena *b = arena_new();
    arena_alloc(b, 10);
    CHECK(arena_bytes(b) < 32 * 1024);
    arena_free(b);
    arena_free(a);
    arena_free(NULL);
}

static void
test_calloc_strndup_grow(void)
{
    struct arena *a = arena_new();
    unsigned char *z = arena_calloc(a, 1000, 3);
    int nonzero = 0;
    for (int i = 0; i < 3000; i++) {
        nonzero += z[i] != 0;
    }
    CHECK_EQ_INT(nonzero, 0);
    char *s = arena_strndup(a, "hello world", 5);
    CHECK_STR(s, "hello");
    CHECK_STR(arena_strndup(a, "", 0), "");

    int *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 100000; i++) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            v = arena_grow(a, v, n, ncap, sizeof(int));
            cap = ncap;
        }
        v[n++] = i;
    }
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        bad += v[i] != i;
    }
    CHECK_EQ_INT(bad, 0);
    /* A large request gets its own block and is fully usable. */
    char *big = arena_alloc(a, 10u << 20);
    memset(big, 1, 10u << 20);
    CHECK(arena_bytes(a) >= (10u << 20));
    arena_free(a);
}

int
main(void)
{
    RUN(test_alignment_and_reuse);
    RUN(test_calloc_strndup_grow);
    return check_report();
}
