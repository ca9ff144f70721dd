/*
 * hash.h: FNV-1a, plop-render's one string hash: node keys (graph.c),
 * colours by file (present.c: changing the hash changes every colour, and
 * so the golden files) and pprof's string table (pprof_write.c).
 */
#ifndef PLOP_HASH_H
#define PLOP_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 2166136261u

/* Continues the hash h (FNV1A_INIT to start) over the n bytes at p. */
static inline uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

#endif
