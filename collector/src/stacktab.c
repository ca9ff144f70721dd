/*
 * stacktab.c: the stack table (see stacktab.h): open addressing, linear
 * probing, power-of-two slot array, entries allocated one by one with the
 * key copied inline.  Pure C, no Python.h.
 */
#include "stacktab.h"

#include <stdlib.h>
#include <string.h>

enum { STACKTAB_MIN_SLOTS = 64 };

int
stacktab_init(struct stacktab *t, size_t max_entries)
{
    t->slots = NULL;
    t->mask = 0;
    t->len = 0;
    t->max_entries = max_entries;
    return 0;
}

/*
 * Two independent multiply-xor lanes over alternate words, then the final
 * mix of splitmix64.  One multiply per word, and the lanes overlap, so the
 * hash of a 50-frame stack costs tens of cycles; the final mix spreads the
 * high bits (code object pointers are aligned: their low bits are zero)
 * down to the slot index.
 */
uint64_t
stacktab_hash(const uintptr_t *key, size_t len)
{
    uint64_t a = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len;
    uint64_t b = 0xc2b2ae3d27d4eb4fULL;
    size_t i = 0;
    for (; i + 1 < len; i += 2) {
        a = (a ^ (uint64_t)key[i]) * 0xbf58476d1ce4e5b9ULL;
        b = (b ^ (uint64_t)key[i + 1]) * 0x94d049bb133111ebULL;
        a ^= a >> 29;
        b ^= b >> 32;
    }
    if (i < len) {
        a = (a ^ (uint64_t)key[i]) * 0xbf58476d1ce4e5b9ULL;
    }
    uint64_t h = a ^ (b * 0xff51afd7ed558ccdULL);
    h ^= h >> 30;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

static int
entry_matches(const struct stacktab_entry *e, uint64_t hash,
              const uintptr_t *key, size_t len)
{
    return e->hash == hash && e->len == len
           && (len == 0 || memcmp(e->key, key, len * sizeof(uintptr_t)) == 0);
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t
find_slot(const struct stacktab *t, uint64_t hash, const uintptr_t *key,
          size_t len)
{
    size_t i = (size_t)hash & t->mask;
    for (;;) {
        struct stacktab_entry *e = t->slots[i];
        if (e == NULL || entry_matches(e, hash, key, len)) {
            return i;
        }
        i = (i + 1) & t->mask;
    }
}

static int
grow(struct stacktab *t)
{
    size_t nslots = t->slots ? (t->mask + 1) * 2 : STACKTAB_MIN_SLOTS;
    struct stacktab_entry **slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL) {
        return -1;
    }
    size_t mask = nslots - 1;
    if (t->slots) {
        for (size_t i = 0; i <= t->mask; i++) {
            struct stacktab_entry *e = t->slots[i];
            if (e == NULL) {
                continue;
            }
            size_t j = (size_t)e->hash & mask;
            while (slots[j] != NULL) {
                j = (j + 1) & mask;
            }
            slots[j] = e;
        }
        free(t->slots);
    }
    t->slots = slots;
    t->mask = mask;
    return 0;
}

struct stacktab_entry *
stacktab_find(const struct stacktab *t, const uintptr_t *key, size_t len)
{
    if (t->slots == NULL) {
        return NULL;
    }
    return t->slots[find_slot(t, stacktab_hash(key, len), key, len)];
}

enum stacktab_result
stacktab_add(struct stacktab *t, const uintptr_t *key, size_t len,
             uint64_t n, struct stacktab_entry **entry)
{
    uint64_t hash = stacktab_hash(key, len);
    size_t i = 0;
    if (t->slots != NULL) {
        i = find_slot(t, hash, key, len);
        struct stacktab_entry *e = t->slots[i];
        if (e != NULL) {
            e->count += n;
            if (entry) {
                *entry = e;
            }
            return STACKTAB_FOUND;
        }
    }
    if (t->max_entries && t->len >= t->max_entries) {
        return STACKTAB_FULL;
    }
    if (t->slots == NULL || (t->len + 1) * 2 > t->mask + 1) {
        if (grow(t) < 0) {
            return STACKTAB_NOMEM;
        }
        i = find_slot(t, hash, key, len);
    }
    if (len > (SIZE_MAX - sizeof(struct stacktab_entry)) / sizeof(uintptr_t)) {
        return STACKTAB_NOMEM;
    }
    struct stacktab_entry *e = malloc(sizeof(*e) + len * sizeof(uintptr_t));
    if (e == NULL) {
        return STACKTAB_NOMEM;
    }
    e->hash = hash;
    e->count = n;
    e->len = len;
    if (len) {
        memcpy(e->key, key, len * sizeof(uintptr_t));
    }
    t->slots[i] = e;
    t->len++;
    if (entry) {
        *entry = e;
    }
    return STACKTAB_NEW;
}

struct stacktab_entry *
stacktab_next(const struct stacktab *t, size_t *pos)
{
    if (t->slots == NULL) {
        return NULL;
    }
    while (*pos <= t->mask) {
        struct stacktab_entry *e = t->slots[(*pos)++];
        if (e != NULL) {
            return e;
        }
    }
    return NULL;
}

uint64_t
stacktab_total(const struct stacktab *t)
{
    uint64_t total = 0;
    size_t pos = 0;
    struct stacktab_entry *e;
    while ((e = stacktab_next(t, &pos)) != NULL) {
        total += e->count;
    }
    return total;
}

void
stacktab_clear(struct stacktab *t)
{
    if (t->slots == NULL) {
        return;
    }
    for (size_t i = 0; i <= t->mask; i++) {
        free(t->slots[i]);
        t->slots[i] = NULL;
    }
    t->len = 0;
}

void
stacktab_release(struct stacktab *t)
{
    stacktab_clear(t);
    free(t->slots);
    t->slots = NULL;
    t->mask = 0;
    t->len = 0;
}
