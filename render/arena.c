/*
 * arena.c: the renderer's bump allocator (see arena.h).  Blocks come from
 * malloc and are chained; a request is served from the current block or a
 * new one.  Requests larger than a quarter of a block get a block of their
 * own, so big arrays do not waste the tail of the current block.  Blocks
 * start at 16 KiB and double up to 256 KiB, so a small arena stays small.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"

#define ARENA_BLOCK (256 * 1024)
#define ARENA_FIRST_BLOCK (16 * 1024)   /* blocks double up to ARENA_BLOCK */
#define ARENA_ALIGN 16

struct block {
    struct block *next;
    size_t used;
    size_t size;
    /* Data follows, aligned to ARENA_ALIGN by the header's padding. */
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
    struct block *head;     /* block being filled */
    struct block *big;      /* blocks given to one large request */
    size_t bytes;
    size_t next_size;       /* size of the next ordinary block */
};

void
die_nomem(size_t size)
{
    fprintf(stderr, "fatal: out of memory (allocating %zu bytes)\n", size);
    exit(PLOP_EXIT_NOMEM);
}

static struct block *
block_new(struct arena *a, size_t size)
{
    if (size > SIZE_MAX - sizeof(struct block)) {
        die_nomem(size);
    }
    struct block *b = malloc(sizeof(struct block) + size);
    if (b == NULL) {
        die_nomem(sizeof(struct block) + size);
    }
    b->next = NULL;
    b->used = 0;
    b->size = size;
    a->bytes += sizeof(struct block) + size;
    return b;
}

struct arena *
arena_new(void)
{
    struct arena *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        die_nomem(sizeof(*a));
    }
    return a;
}

void *
arena_alloc(struct arena *a, size_t size)
{
    if (size == 0) {
        size = 1;
    }
    if (size > SIZE_MAX - ARENA_ALIGN) {
        die_nomem(size);
    }
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size > ARENA_BLOCK / 4) {
        struct block *b = block_new(a, size);
        b->next = a->big;
        a->big = b;
        b->used = size;
        return b->data;
    }
    struct block *b = a->head;
    if (b == NULL || b->size - b->used < size) {
        /* Small arenas (one per fuzz input, tiny profiles) stay small;
         * big ones reach ARENA_BLOCK after a few blocks. */
        if (a->next_size < ARENA_FIRST_BLOCK) {
            a->next_size = ARENA_FIRST_BLOCK;
        }
        while (a->next_size < size) {
            a->next_size *= 2;
        }
        b = block_new(a, a->next_size);
        if (a->next_size < ARENA_BLOCK) {
            a->next_size *= 2;
        }
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void *
arena_calloc(struct arena *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        die_nomem(SIZE_MAX);
    }
    void *p = arena_alloc(a, n * size);
    memset(p, 0, n * size);
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (len > 0) {
        memcpy(p, s, len);
    }
    p[len] = '\0';
    return p;
}

void *
arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n,
           size_t elem_size)
{
    if (elem_size != 0 && new_n > SIZE_MAX / elem_size) {
        die_nomem(SIZE_MAX);
    }
    void *p = arena_alloc(a, new_n * elem_size);
    if (old_n > 0) {
        memcpy(p, old, (old_n < new_n ? old_n : new_n) * elem_size);
    }
    return p;
}

size_t
arena_bytes(const struct arena *a)
{
    return a->bytes;
}

void
arena_free(struct arena *a)
{
    if (a == NULL) {
        return;
    }
    struct block *lists[2] = {a->head, a->big};
    for (int i = 0; i < 2; i++) {
        struct block *b = lists[i];
        while (b != NULL) {
            struct block *next = b->next;
            free(b);
            b = next;
        }
    }
    free(a);
}
