/*
 * arena.h: the renderer's allocator.  Everything plop-render builds (the
 * profile, the graph, strings) comes from one arena that is released once,
 * at exit: no per-object free, so no leak paths and no double frees.
 *
 * Allocation failure is fatal: the process prints
 * "fatal: out of memory (allocating N bytes)" and exits with
 * PLOP_EXIT_NOMEM (diag.h).
 */
#ifndef PLOP_ARENA_H
#define PLOP_ARENA_H

#include <stddef.h>

struct arena;

/* A new, empty arena.  Never NULL (failure is fatal). */
struct arena *arena_new(void);

/*
 * `size` bytes aligned for any type, uninitialised (arena_calloc: zeroed).
 * Valid until arena_free().  Cost: O(1) amortised; a request larger than
 * the block size gets a block of its own.
 */
void *arena_alloc(struct arena *a, size_t size);
void *arena_calloc(struct arena *a, size_t n, size_t size);

/* A NUL-terminated copy of s[0..len). */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/*
 * Grows an array allocated from the arena: returns a block for `new_n`
 * elements holding the first `old_n` elements of `old` (which may be NULL
 * when old_n is 0).  The old block is abandoned, not reused: callers grow
 * by doubling so the waste stays below the live size.
 */
void *arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n,
                 size_t elem_size);

/* Total bytes obtained from the system so far (for benchmarks). */
size_t arena_bytes(const struct arena *a);

/* Releases every block.  `a` may be NULL. */
void arena_free(struct arena *a);

/* Prints the fatal out-of-memory message for `size` and exits. */
void die_nomem(size_t size);

#endif
