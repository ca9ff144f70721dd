/*
 * profile.h: the profile store (profile.c): interned frames and weighted
 * stacks, with the limits every input is held to.  The parsers (parse.h)
 * fill it; the loader (load.h) reads files, detects their format and
 * calls the parser.  The store knows no input format.
 *
 * Ownership: everything (frames, strings, stack arrays) lives in the
 * profile's arena and is released with it.  Several files may be loaded
 * into one profile: their counts add up.
 */
#ifndef PLOP_PROFILE_H
#define PLOP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct arena;

/* Limits; exceeding one is a parse error that names the limit. */
#define PROFILE_MAX_DEPTH 100000            /* frames in one stack */
#define PROFILE_MAX_COUNT 1000000000000000ULL  /* one stack's count, 1e15 */
#define PROFILE_MAX_STRING (1u << 20)       /* bytes in one file/func name */
#define PROFILE_MAX_FRAMES 16000000u        /* distinct frames */
#define PROFILE_MAX_INPUT ((size_t)8 << 30) /* bytes in one input file */
#define PROFILE_MAX_TOTAL 1000000000000000000ULL /* sum of counts, 1e18 */
#define PROFILE_MAX_LINE 2147483647L        /* a frame's line number */

/* One distinct (file, line, func) triple.  Strings are UTF-8. */
struct frame {
    const char *file;       /* NUL-terminated, arena-owned */
    const char *func;
    uint32_t file_len;
    uint32_t func_len;
    long line;              /* >= 0 */
    uint32_t hash;          /* of (file, line, func), for the intern table */
};

/* One stack as it appeared in the input (duplicates are kept as is). */
struct stack {
    const uint32_t *frames; /* frame ids, leaf first; arena-owned */
    uint32_t depth;         /* >= 1 */
    uint32_t side;          /* PROFILE_SIDE_BASE or PROFILE_SIDE_NEW */
    uint64_t count;         /* >= 1 (stacks with count 0 are dropped) */
};

/* Which side of a comparison a stack belongs to (diff.h): the profiles
 * given with --base, or the others.  Without a comparison every stack is
 * PROFILE_SIDE_NEW. */
#define PROFILE_SIDE_BASE 0u
#define PROFILE_SIDE_NEW 1u

struct profile {
    struct arena *arena;
    struct frame *frames;   /* frames[id] */
    uint32_t nframes;
    uint32_t frames_cap;
    struct stack *stacks;
    size_t nstacks;
    size_t stacks_cap;
    uint64_t total;         /* sum of counts; overflow is a parse error */
    uint32_t max_depth;     /* deepest stack seen */
    int ninputs;            /* inputs loaded so far (load.h) */
    uint32_t side;          /* side of the stacks added next (default
                             * PROFILE_SIDE_NEW; main.c sets BASE while it
                             * loads --base files) */
    uint64_t side_total[2]; /* sum of counts per side */
    int has_pairs;          /* a collapsed line had two counts (the
                             * differential format): the profile is a
                             * comparison even without --base */
    uint64_t period_ns;     /* nanoseconds per sample when an input says
                             * (pprof's period), else 0 */

    /* Private: the frame intern table (open addressing, power of two).
     * Its hash is seeded per process so that no input can be crafted to
     * collide; ids are given in order of first sight, so the seed never
     * shows in any output. */
    uint32_t *ftab;         /* frame id + 1, 0 = empty */
    size_t ftab_mask;
    uint64_t seed;
    uint32_t max_frames;    /* PROFILE_MAX_FRAMES; tests lower it */

    /* Private scratch space reused by the parsers and profile_intern(),
     * grown by doubling (see profile_scratch()): no allocation per token. */
    uint32_t *ids;          /* frame ids of the stack being parsed */
    uint32_t ids_cap;
    char *scratch[4];       /* 0, 1: parsers; 2, 3: profile_intern() */
    size_t scratch_cap[4];
};

/* An empty profile allocating from `a`. */
void profile_init(struct profile *p, struct arena *a);

/*
 * The id of the frame (file, line, func), adding it if new.  Copies the
 * strings on first sight only.  Returns -1 when p->max_frames
 * (PROFILE_MAX_FRAMES) is reached, -2 when a string is longer than PROFILE_MAX_STRING (caller
 * reports it).  Cost: O(flen + fnlen) expected.
 *
 * Stored names are always valid UTF-8: a byte that does not belong to a
 * valid UTF-8 sequence is taken as the Latin-1 character of that value
 * (0xf6 becomes U+00F6), which is what a Python 3 '\xf6' means and what
 * a Latin-1 file name means.  Valid UTF-8 is kept as it is, so Python 2's
 * 'w\xc3\xb6rk' and Python 3's 'w\u00f6rk' intern to the same frame.
 */
int64_t profile_intern(struct profile *p, const char *file, size_t flen,
                       long line, const char *func, size_t fnlen);

/*
 * Appends a stack of `depth` >= 1 frame ids (leaf first) on side
 * p->side, copying the ids.  A count of 0 is accepted and dropped.
 * Returns -1 if the total would exceed PROFILE_MAX_TOTAL (caller reports
 * it; nothing is added), else 0.
 */
int profile_add_stack(struct profile *p, const uint32_t *ids, uint32_t depth,
                      uint64_t count);

/*
 * The same stack with a count on each side (a line "stack OLD NEW" of
 * difffolded.pl's format): adds it as a PROFILE_SIDE_BASE stack of
 * count_base and a PROFILE_SIDE_NEW stack of count_new (zeros dropped),
 * sharing one copy of the ids, and sets p->has_pairs.  Returns -1 as
 * profile_add_stack() does, adding nothing.
 */
int profile_add_pair(struct profile *p, const uint32_t *ids, uint32_t depth,
                     uint64_t count_base, uint64_t count_new);

/*
 * A buffer of at least `n` bytes in scratch slot `which` (parsers use 0
 * and 1; profile_intern() uses 2 and 3), keeping
 * its first `keep` bytes.  Valid until the next call for that slot.
 */
char *profile_scratch(struct profile *p, int which, size_t n, size_t keep);

/* The id scratch array with room for at least `n` ids, keeping `keep`. */
uint32_t *profile_scratch_ids(struct profile *p, uint32_t n, uint32_t keep);

#endif
