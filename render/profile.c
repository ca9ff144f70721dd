/*
 * profile.c: the parsed-profile store (see profile.h): frames interned in
 * an open-addressing table, stacks appended as arrays of frame ids, the
 * running total.
 *
 * Memory is proportional to distinct frames plus stacks: the parsers hand
 * over slices of the input (or of a reused scratch buffer), and a string
 * is copied into the arena only when its frame is seen for the first time.
 */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "arena.h"
#include "profile.h"
#include "utf8.h"

#define FTAB_INITIAL 1024          /* buckets; kept at most half full */
#define FRAMES_INITIAL 256
#define STACKS_INITIAL 256

void
profile_init(struct profile *p, struct arena *a)
{
    memset(p, 0, sizeof(*p));
    p->arena = a;
    p->ftab = arena_calloc(a, FTAB_INITIAL, sizeof(uint32_t));
    p->ftab_mask = FTAB_INITIAL - 1;
    p->max_frames = PROFILE_MAX_FRAMES;
    p->side = PROFILE_SIDE_NEW;
    static uint64_t seed;
    if (seed == 0) {
        if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK)
            != (ssize_t)sizeof(seed)) {
            seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&seed;
        }
        seed |= 1;
    }
    p->seed = seed;
}

char *
profile_scratch(struct profile *p, int which, size_t n, size_t keep)
{
    if (n > p->scratch_cap[which]) {
        size_t cap = p->scratch_cap[which] ? p->scratch_cap[which] : 256;
        while (cap < n) {
            cap *= 2;
        }
        p->scratch[which] = arena_grow(p->arena, p->scratch[which], keep,
                                       cap, 1);
        p->scratch_cap[which] = cap;
    }
    return p->scratch[which];
}

uint32_t *
profile_scratch_ids(struct profile *p, uint32_t n, uint32_t keep)
{
    if (n > p->ids_cap) {
        size_t cap = p->ids_cap ? p->ids_cap : 64;
        while (cap < n) {
            cap *= 2;
        }
        p->ids = arena_grow(p->arena, p->ids, keep, cap, sizeof(uint32_t));
        p->ids_cap = (uint32_t)cap;
    }
    return p->ids;
}

/* ---------------------------------------------------------------- hashing */

static inline uint64_t
load_tail(const unsigned char *s, size_t n)
{
    uint64_t w = 0;
    memcpy(&w, s, n);
    return w;
}

/* A word-at-a-time multiply-xorshift hash; good enough for a table that
 * compares the full key on every hit. */
static inline uint64_t
hash_bytes(uint64_t h, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
        s += 8;
        len -= 8;
    }
    if (len > 0) {
        h = (h ^ load_tail(s, len)) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
    }
    return h;
}

static inline uint32_t
frame_hash(uint64_t seed, const char *file, size_t flen, long line,
           const char *func, size_t fnlen)
{
    uint64_t h = (seed ^ flen) * 0x9e3779b97f4a7c15ULL;
    h = hash_bytes(h, file, flen);
    h = (h ^ (uint64_t)line ^ ((uint64_t)fnlen << 32))
        * 0x94d049bb133111ebULL;
    h = hash_bytes(h, func, fnlen);
    h ^= h >> 31;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (uint32_t)h;
}

/* ---------------------------------------------------------------- UTF-8 */

static int
has_high_byte(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] & 0x80) {
            return 1;
        }
    }
    return 0;
}

/*
 * Rewrites s[0..*len) into scratch slot `which` with every byte outside a
 * valid UTF-8 sequence replaced by its Latin-1 character.  Returns s
 * itself when it is valid already.
 */
static const char *
utf8_repair(struct profile *p, int which, const char *s, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = *len, i = 0;
    while (i < n) {
        size_t k = utf8_valid_len(u + i, n - i);
        if (k == 0) {
            break;
        }
        i += k;
    }
    if (i == n) {
        return s;
    }
    char *out = profile_scratch(p, which, 2 * n, 0);
    memcpy(out, s, i);
    size_t o = i;
    while (i < n) {
        size_t k = utf8_valid_len(u + i, n - i);
        if (k > 0) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        }
        else {
            out[o++] = (char)(0xc0 | (u[i] >> 6));
            out[o++] = (char)(0x80 | (u[i] & 0x3f));
            i++;
        }
    }
    *len = o;
    return out;
}

/* ---------------------------------------------------------------- frames */

static void
ftab_grow(struct profile *p)
{
    size_t nb = (p->ftab_mask + 1) * 2;
    uint32_t *t = arena_calloc(p->arena, nb, sizeof(uint32_t));
    size_t mask = nb - 1;
    for (uint32_t id = 0; id < p->nframes; id++) {
        size_t i = p->frames[id].hash & mask;
        while (t[i] != 0) {
            i = (i + 1) & mask;
        }
        t[i] = id + 1;
    }
    p->ftab = t;
    p->ftab_mask = mask;
}

/* The id of (file, line, func) with hash h, or -1 with *slot set to the
 * empty bucket where it would go. */
static inline int64_t
ftab_find(const struct profile *p, uint32_t h, const char *file,
          size_t flen, long line, const char *func, size_t fnlen,
          size_t *slot)
{
    size_t i = h & p->ftab_mask;
    for (;;) {
        uint32_t v = p->ftab[i];
        if (v == 0) {
            *slot = i;
            return -1;
        }
        const struct frame *f = &p->frames[v - 1];
        if (f->hash == h && f->line == line && f->file_len == flen
            && f->func_len == fnlen && memcmp(f->file, file, flen) == 0
            && memcmp(f->func, func, fnlen) == 0) {
            return v - 1;
        }
        i = (i + 1) & p->ftab_mask;
    }
}

int64_t
profile_intern(struct profile *p, const char *file, size_t flen, long line,
               const char *func, size_t fnlen)
{
    if (flen > PROFILE_MAX_STRING || fnlen > PROFILE_MAX_STRING) {
        return -2;
    }
    /* Stored names are valid UTF-8, so an exact hit needs no check: only
     * a new frame is validated (and repaired, then looked up again). */
    uint32_t h = frame_hash(p->seed, file, flen, line, func, fnlen);
    size_t slot;
    int64_t id = ftab_find(p, h, file, flen, line, func, fnlen, &slot);
    if (id >= 0) {
        return id;
    }
    const char *f2 = file, *fn2 = func;
    if (has_high_byte(file, flen)) {
        f2 = utf8_repair(p, 2, file, &flen);
    }
    if (has_high_byte(func, fnlen)) {
        fn2 = utf8_repair(p, 3, func, &fnlen);
    }
    if (f2 != file || fn2 != func) {
        file = f2;
        func = fn2;
        h = frame_hash(p->seed, file, flen, line, func, fnlen);
        id = ftab_find(p, h, file, flen, line, func, fnlen, &slot);
        if (id >= 0) {
            return id;
        }
    }

    if (p->nframes >= p->max_frames) {
        return -1;
    }
    if (p->nframes == p->frames_cap) {
        uint32_t cap = p->frames_cap ? p->frames_cap * 2 : FRAMES_INITIAL;
        p->frames = arena_grow(p->arena, p->frames, p->nframes, cap,
                               sizeof(struct frame));
        p->frames_cap = cap;
    }
    uint32_t nid = p->nframes++;
    struct frame *f = &p->frames[nid];
    f->file = arena_strndup(p->arena, file, flen);
    f->func = arena_strndup(p->arena, func, fnlen);
    f->file_len = (uint32_t)flen;
    f->func_len = (uint32_t)fnlen;
    f->line = line;
    f->hash = h;
    p->ftab[slot] = nid + 1;
    if ((size_t)p->nframes * 2 > p->ftab_mask + 1) {
        ftab_grow(p);
    }
    return nid;
}

/* ---------------------------------------------------------------- stacks */

static void
push_stack(struct profile *p, const uint32_t *copy, uint32_t depth,
           uint64_t count, uint32_t side)
{
    if (p->nstacks == p->stacks_cap) {
        size_t cap = p->stacks_cap ? p->stacks_cap * 2 : STACKS_INITIAL;
        p->stacks = arena_grow(p->arena, p->stacks, p->nstacks, cap,
                               sizeof(struct stack));
        p->stacks_cap = cap;
    }
    struct stack *s = &p->stacks[p->nstacks++];
    s->frames = copy;
    s->depth = depth;
    s->side = side;
    s->count = count;
    p->total += count;
    p->side_total[side] += count;
    if (depth > p->max_depth) {
        p->max_depth = depth;
    }
}

/* Adds count_a on side `side_a` and count_b on the new side (when
 * side_a is the base side), one copy of the ids for both. */
static int
profile_add_pair_side(struct profile *p, const uint32_t *ids,
                      uint32_t depth, uint64_t count_a, uint64_t count_b,
                      uint32_t side_a)
{
    if (depth == 0 || (count_a == 0 && count_b == 0)) {
        return 0;
    }
    if (count_a > PROFILE_MAX_TOTAL || count_b > PROFILE_MAX_TOTAL
        || p->total > PROFILE_MAX_TOTAL - count_a
        || p->total + count_a > PROFILE_MAX_TOTAL - count_b) {
        return -1;
    }
    uint32_t *copy = arena_alloc(p->arena, (size_t)depth * sizeof(uint32_t));
    memcpy(copy, ids, (size_t)depth * sizeof(uint32_t));
    if (count_a > 0) {
        push_stack(p, copy, depth, count_a, side_a);
    }
    if (count_b > 0) {
        push_stack(p, copy, depth, count_b, PROFILE_SIDE_NEW);
    }
    return 0;
}

int
profile_add_stack(struct profile *p, const uint32_t *ids, uint32_t depth,
                  uint64_t count)
{
    return profile_add_pair_side(p, ids, depth, count, 0, p->side);
}

int
profile_add_pair(struct profile *p, const uint32_t *ids, uint32_t depth,
                 uint64_t count_base, uint64_t count_new)
{
    p->has_pairs = 1;
    return profile_add_pair_side(p, ids, depth, count_base, count_new,
                                 PROFILE_SIDE_BASE);
}
