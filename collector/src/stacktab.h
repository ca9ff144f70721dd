/*
 * stacktab.h: the stack table, a hash table from a stack (a sequence of
 * machine words) to a count.
 *
 * The collector keys each sampled stack by the words it read from the
 * interpreter's frames (code object pointers, and instruction offsets when
 * lines are recorded) and adds the sample's weight to the entry.  A hit
 * allocates nothing; a miss allocates one entry holding a copy of the key.
 *
 * This file is pure C (no Python.h) so that tests/c/test_stacktab.c can
 * test it alone.  The table does not know what the words mean: ownership of
 * whatever they point to is the caller's business (the collector takes a
 * strong reference to each code object of a key when stacktab_add() says
 * STACKTAB_NEW, and drops them before stacktab_clear()).
 *
 * Buckets are a power of two, open addressing with linear probing, load
 * factor kept at or below 1/2, so a lookup probes few slots.
 */
#ifndef PLOP_STACKTAB_H
#define PLOP_STACKTAB_H

#include <stddef.h>
#include <stdint.h>

struct stacktab_entry {
    uint64_t hash;
    uint64_t count;
    size_t len;                 /* number of words in key */
    uintptr_t key[];            /* the table's own copy */
};

struct stacktab {
    struct stacktab_entry **slots;  /* NULL = empty slot */
    size_t mask;                    /* number of slots - 1 */
    size_t len;                     /* number of entries */
    size_t max_entries;             /* cap on len; 0 = no cap */
};

enum stacktab_result {
    STACKTAB_FOUND,     /* an existing entry was incremented */
    STACKTAB_NEW,       /* a new entry was created with the count */
    STACKTAB_FULL,      /* max_entries reached: nothing was added */
    STACKTAB_NOMEM      /* allocation failed: nothing was added */
};

/*
 * Initializes an empty table that will hold at most max_entries stacks
 * (0 means no cap).  Allocates nothing; returns 0.
 */
int stacktab_init(struct stacktab *t, size_t max_entries);

/*
 * Adds n to the count of the stack key[0..len).  Looks the key up (hash,
 * then length, then the words); on a miss creates an entry holding a copy
 * of the key, growing the slot array when the table would become more than
 * half full.  On STACKTAB_NEW and STACKTAB_FOUND, *entry (when not NULL)
 * is set to the entry, which stays valid until stacktab_clear() or
 * stacktab_release().  Cost: one hash of len words and a few probes; a
 * miss costs one malloc, and a growth rehashes every entry once.
 */
enum stacktab_result stacktab_add(struct stacktab *t, const uintptr_t *key,
                                  size_t len, uint64_t n,
                                  struct stacktab_entry **entry);

/* Returns the entry for key[0..len), or NULL. */
struct stacktab_entry *stacktab_find(const struct stacktab *t,
                                     const uintptr_t *key, size_t len);

/*
 * Iterates over the entries: start with *pos = 0; returns the next entry
 * and advances *pos, or NULL at the end.  The table must not be changed
 * during the iteration.
 */
struct stacktab_entry *stacktab_next(const struct stacktab *t, size_t *pos);

/* Sum of the counts of every entry. */
uint64_t stacktab_total(const struct stacktab *t);

/* Frees every entry; the table stays usable (and keeps its slot array). */
void stacktab_clear(struct stacktab *t);

/* Frees everything; the table must be initialized again before reuse. */
void stacktab_release(struct stacktab *t);

/* The hash of a key, as the table computes it (exposed for tests). */
uint64_t stacktab_hash(const uintptr_t *key, size_t len);

#endif
