/*
 * edgetab.c: the (caller, callee) pair table of edgetab.h.  Power-of-two
 * buckets, linear probing, grown at half load; the buckets hold slot
 * indexes, so a rehash never moves a slot.
 */
#include <string.h>

#include "arena.h"
#include "edgetab.h"

static inline uint64_t
edgetab_hash(uint32_t from, uint32_t to)
{
    uint64_t k = ((uint64_t)from << 32) | to;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

void
edgetab_init(struct edgetab *t, struct arena *a, size_t hint)
{
    size_t n = 64;
    while (n < hint * 2) {
        n *= 2;
    }
    t->arena = a;
    t->buckets = arena_calloc(a, n, sizeof(*t->buckets));
    t->mask = n - 1;
    t->slots = NULL;
    t->nslots = 0;
    t->cap = 0;
}

static void
edgetab_rehash(struct edgetab *t)
{
    size_t n = (t->mask + 1) * 2;
    uint32_t *b = arena_calloc(t->arena, n, sizeof(*b));
    for (size_t i = 0; i < t->nslots; i++) {
        size_t h = edgetab_hash(t->slots[i].from, t->slots[i].to) & (n - 1);
        while (b[h] != 0) {
            h = (h + 1) & (n - 1);
        }
        b[h] = (uint32_t)(i + 1);
    }
    t->buckets = b;
    t->mask = n - 1;
}

struct edgetab_slot *
edgetab_get(struct edgetab *t, uint32_t from, uint32_t to)
{
    size_t h = edgetab_hash(from, to) & t->mask;
    for (;;) {
        uint32_t v = t->buckets[h];
        if (v == 0) {
            break;
        }
        struct edgetab_slot *s = &t->slots[v - 1];
        if (s->from == from && s->to == to) {
            return s;
        }
        h = (h + 1) & t->mask;
    }
    if (t->nslots >= UINT32_MAX - 1) {
        die_nomem(sizeof(struct edgetab_slot));
    }
    if (t->nslots == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        t->slots = arena_grow(t->arena, t->slots, t->nslots, cap,
                              sizeof(*t->slots));
        t->cap = cap;
    }
    struct edgetab_slot *s = &t->slots[t->nslots];
    s->from = from;
    s->to = to;
    s->weight = 0;
    s->stamp = 0;
    s->direct = 0;
    t->buckets[h] = (uint32_t)(t->nslots + 1);
    t->nslots++;
    if (t->nslots * 2 > t->mask + 1) {
        edgetab_rehash(t);
        /* The slot array did not move in the rehash. */
    }
    return s;
}
