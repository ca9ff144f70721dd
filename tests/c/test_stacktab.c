/*
 * test_stacktab.c: unit tests of the stack table (collector/src/stacktab.c):
 * counting, distinct keys that share prefixes or hashes' low bits, growth
 * past many resizes, the entry cap, clear and reuse, iteration.
 */
#include <stdlib.h>

#include "check.h"
#include "stacktab.h"

static void
test_add_and_find(void)
{
    struct stacktab t;
    stacktab_init(&t, 0);
    uintptr_t a[] = {0x1000, 0x2000, 0x3000};
    struct stacktab_entry *e = NULL;
    CHECK(stacktab_find(&t, a, 3) == NULL);
    CHECK_EQ_INT(stacktab_add(&t, a, 3, 2, &e), STACKTAB_NEW);
    CHECK(e != NULL && e->count == 2 && e->len == 3);
    CHECK_EQ_INT(stacktab_add(&t, a, 3, 5, &e), STACKTAB_FOUND);
    CHECK_EQ_INT(e->count, 7);
    CHECK(stacktab_find(&t, a, 3) == e);
    CHECK_EQ_INT(t.len, 1);
    /* the table keeps its own copy of the key */
    a[0] = 0x9999;
    CHECK_EQ_INT(e->key[0], 0x1000);
    stacktab_release(&t);
}

static void
test_prefixes_are_distinct(void)
{
    struct stacktab t;
    stacktab_init(&t, 0);
    uintptr_t k[] = {0x10, 0x20, 0x30, 0x40};
    for (size_t len = 1; len <= 4; len++) {
        CHECK_EQ_INT(stacktab_add(&t, k, len, len, NULL), STACKTAB_NEW);
    }
    for (size_t len = 1; len <= 4; len++) {
        struct stacktab_entry *e = stacktab_find(&t, k, len);
        CHECK(e != NULL && e->count == len);
    }
    uintptr_t swapped[] = {0x20, 0x10};
    CHECK(stacktab_find(&t, swapped, 2) == NULL);
    CHECK_EQ_INT(stacktab_add(&t, swapped, 2, 1, NULL), STACKTAB_NEW);
    CHECK_EQ_INT(t.len, 5);
    stacktab_release(&t);
}

static void
test_growth_keeps_everything(void)
{
    struct stacktab t;
    stacktab_init(&t, 0);
    enum { N = 20000 };
    for (uintptr_t i = 0; i < N; i++) {
        /* aligned like pointers: only the high bits vary */
        uintptr_t k[2] = {0x7f0000000000 + i * 64, i % 7};
        CHECK_EQ_INT(stacktab_add(&t, k, 2, i + 1, NULL), STACKTAB_NEW);
    }
    CHECK_EQ_INT(t.len, N);
    CHECK((t.mask + 1) >= 2 * N);
    uint64_t want = 0;
    for (uintptr_t i = 0; i < N; i++) {
        uintptr_t k[2] = {0x7f0000000000 + i * 64, i % 7};
        struct stacktab_entry *e = stacktab_find(&t, k, 2);
        CHECK(e != NULL && e->count == i + 1);
        want += i + 1;
    }
    CHECK_EQ_INT(stacktab_total(&t), want);
    size_t pos = 0, seen = 0;
    while (stacktab_next(&t, &pos) != NULL) {
        seen++;
    }
    CHECK_EQ_INT(seen, N);
    stacktab_release(&t);
}

static void
test_cap(void)
{
    struct stacktab t;
    stacktab_init(&t, 3);
    for (uintptr_t i = 1; i <= 3; i++) {
        CHECK_EQ_INT(stacktab_add(&t, &i, 1, 1, NULL), STACKTAB_NEW);
    }
    uintptr_t four = 4, two = 2;
    CHECK_EQ_INT(stacktab_add(&t, &four, 1, 1, NULL), STACKTAB_FULL);
    CHECK(stacktab_find(&t, &four, 1) == NULL);
    /* existing keys still count when full */
    CHECK_EQ_INT(stacktab_add(&t, &two, 1, 1, NULL), STACKTAB_FOUND);
    CHECK_EQ_INT(stacktab_total(&t), 4);
    stacktab_release(&t);
}

static void
test_clear_and_reuse(void)
{
    struct stacktab t;
    stacktab_init(&t, 0);
    uintptr_t k[] = {1, 2, 3};
    stacktab_add(&t, k, 3, 1, NULL);
    stacktab_clear(&t);
    CHECK_EQ_INT(t.len, 0);
    CHECK(stacktab_find(&t, k, 3) == NULL);
    CHECK_EQ_INT(stacktab_add(&t, k, 3, 4, NULL), STACKTAB_NEW);
    CHECK_EQ_INT(stacktab_total(&t), 4);
    stacktab_release(&t);
    /* released table: empty, usable after init */
    size_t pos = 0;
    CHECK(stacktab_next(&t, &pos) == NULL);
    stacktab_init(&t, 0);
    CHECK_EQ_INT(stacktab_add(&t, k, 3, 1, NULL), STACKTAB_NEW);
    stacktab_release(&t);
}

static void
test_empty_key_and_hash(void)
{
    struct stacktab t;
    stacktab_init(&t, 0);
    CHECK_EQ_INT(stacktab_add(&t, NULL, 0, 1, NULL), STACKTAB_NEW);
    CHECK_EQ_INT(stacktab_add(&t, NULL, 0, 1, NULL), STACKTAB_FOUND);
    uintptr_t a[] = {8, 16}, b[] = {16, 8};
    CHECK(stacktab_hash(a, 2) != stacktab_hash(b, 2));
    CHECK(stacktab_hash(a, 1) != stacktab_hash(a, 2));
    stacktab_release(&t);
}

int
main(void)
{
    RUN(test_add_and_find);
    RUN(test_prefixes_are_distinct);
    RUN(test_growth_keeps_everything);
    RUN(test_cap);
    RUN(test_clear_and_reuse);
    RUN(test_empty_key_and_hash);
    return check_report();
}
