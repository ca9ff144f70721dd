/*
 * profile.h: a parsed profile (interned frames and weighted stacks) and
 * the entry points that fill it from the two input formats.
 *
 *   profile.c          the store: frame interning, stacks, totals, limits
 *   parse_repr.c       Python 2/3 repr() of {stack: count} (plop.out)
 *   parse_collapsed.c  collapsed stacks "root;...;leaf COUNT"
 *   load.c             reading a file or stdin, detecting its format
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
    uint64_t count;         /* >= 1 (stacks with count 0 are dropped) */
};

enum profile_format {
    PROFILE_FORMAT_REPR = 1,
    PROFILE_FORMAT_COLLAPSED = 2
};

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
    int ninputs;            /* files loaded so far */

    /* Private: the frame intern table (open addressing, power of two). */
    uint32_t *ftab;         /* frame id + 1, 0 = empty */
    size_t ftab_mask;
};

/* An empty profile allocating from `a`. */
void profile_init(struct profile *p, struct arena *a);

/*
 * The id of the frame (file, line, func), adding it if new.  Copies the
 * strings on first sight only.  Returns -1 when PROFILE_MAX_FRAMES is
 * reached (caller reports it).  Cost: O(flen + fnlen) expected.
 */
int64_t profile_intern(struct profile *p, const char *file, size_t flen,
                       long line, const char *func, size_t fnlen);

/*
 * Appends a stack of `depth` frame ids (leaf first), copying the ids.
 * A count of 0 is accepted and dropped.  Returns -1 if the total would
 * overflow PROFILE_MAX_COUNT * ... (caller reports it), else 0.
 */
int profile_add_stack(struct profile *p, const uint32_t *ids, uint32_t depth,
                      uint64_t count);

/*
 * Parses buf[0..len) (the whole content of the input `name`, as named in
 * diagnostics) into p.  `fmt` 0 detects the format from the first
 * non-blank byte: '{' is repr, anything else collapsed.  On error fills d
 * (file:line:col: error: ...) and returns -1; p may then hold part of the
 * input and must not be rendered.
 */
int profile_parse(struct profile *p, const char *name, const char *buf,
                  size_t len, enum profile_format fmt, struct diag *d);

/* The parsers behind profile_parse(); same contract. */
int parse_repr(struct profile *p, const char *name, const char *buf,
               size_t len, struct diag *d);
int parse_collapsed(struct profile *p, const char *name, const char *buf,
                    size_t len, struct diag *d);

/*
 * Reads the file at `path` ("-" is standard input) and parses it.  A file
 * that cannot be read gives DIAG_IO: "cannot open 'x': No such file...".
 */
int profile_load(struct profile *p, const char *path, struct diag *d);

#endif
