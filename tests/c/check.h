/*
 * check.h: the smallest unit-test harness that does the job for tests/c.
 *
 * A test file defines `static void test_NAME(void)` functions that use
 * CHECK / CHECK_EQ_* / CHECK_STR, and a main() that calls RUN(test_NAME)
 * for each and returns check_report().  Each RUN counts as one test: it
 * passes when none of its checks failed.  check_report() prints the line
 * "N passed, N failed" that tests/run-c adds up, and returns the exit code.
 */
#ifndef PLOP_CHECK_H
#define PLOP_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures_in_test;
static int check_passed;
static int check_failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            check_failures_in_test++;                                      \
        }                                                                  \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                 \
    do {                                                                   \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);    \
        if (check_a_ != check_b_) {                                        \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);       \
            check_failures_in_test++;                                      \
        }                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                    \
    do {                                                                   \
        const char *check_a_ = (a), *check_b_ = (b);                       \
        if (check_a_ == NULL || check_b_ == NULL                           \
            || strcmp(check_a_, check_b_) != 0) {                          \
            fprintf(stderr, "%s:%d: check failed: %s == %s\n"              \
                    "  got:      '%s'\n  expected: '%s'\n",                 \
                    __FILE__, __LINE__, #a, #b,                            \
                    check_a_ ? check_a_ : "(null)",                        \
                    check_b_ ? check_b_ : "(null)");                       \
            check_failures_in_test++;                                      \
        }                                                                  \
    } while (0)

#define RUN(fn)                                                            \
    do {                                                                   \
        check_failures_in_test = 0;                                        \
        fn();                                                              \
        if (check_failures_in_test == 0) {                                 \
            check_passed++;                                                \
        }                                                                  \
        else {                                                             \
            check_failed++;                                                \
            fprintf(stderr, "FAIL %s\n", #fn);                             \
        }                                                                  \
    } while (0)

static inline int
check_report(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
