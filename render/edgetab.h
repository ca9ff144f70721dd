/*
 * edgetab.h: a hash table from a (caller, callee) node pair to a slot,
 * with a per-slot "last stack" stamp so a pair is counted at most once per
 * stack (edgetab.c).  Used by graph.c (the full graph's edges) and
 * prune.c (the shown edges).
 *
 * Slots are appended in order of first sight and never move: a slot
 * pointer stays valid until the next edgetab_get(), its index forever.
 * Everything comes from the arena given to edgetab_init(): nothing to
 * free.
 */
#ifndef PLOP_EDGETAB_H
#define PLOP_EDGETAB_H

#include <stddef.h>
#include <stdint.h>

struct arena;

struct edgetab_slot {
    uint32_t from;
    uint32_t to;
    uint64_t weight;
    size_t stamp;           /* 1 + index of the last stack that counted it */
    int direct;             /* prune.c: seen adjacent in some stack */
};

struct edgetab {
    struct arena *arena;
    uint32_t *buckets;      /* slot index + 1, 0 = empty */
    size_t mask;
    struct edgetab_slot *slots;     /* slots[0..nslots) */
    size_t nslots;
    size_t cap;
};

/* An empty table sized for about `hint` pairs before it grows. */
void edgetab_init(struct edgetab *t, struct arena *a, size_t hint);

/*
 * The slot for (from, to), created with weight, stamp and direct 0 when
 * new.  O(1) expected.  Fatal past 2^32 - 2 distinct pairs (cannot happen
 * with PROFILE_MAX_FRAMES frames: pairs are bounded by the frames walked).
 * The returned pointer is valid until the next call (the slot array may
 * grow).
 */
struct edgetab_slot *edgetab_get(struct edgetab *t, uint32_t from,
                                 uint32_t to);

#endif
