/*
 * threadclock.h: per-thread CPU clocks and the bookkeeping that turns them
 * into sample weights.
 *
 * In the CPU modes each thread is charged by the CPU time it used since the
 * previous sample (its own clock, pthread_getcpuclockid), so a thread
 * blocked in I/O or on a lock is charged nothing.  Each thread also carries
 * the remainder that did not make a whole interval, so integer counts add
 * up to the time really spent.  Pure C (pthreads), no Python.h.
 */
#ifndef PLOP_THREADCLOCK_H
#define PLOP_THREADCLOCK_H

#include <stddef.h>
#include <stdint.h>

struct thread_clock {
    unsigned long id;       /* pthread_t as CPython stores it (thread_id) */
    const void *owner;      /* the thread state: two states can carry one
                               id (3.8-3.11 give a new thread's state its
                               creator's id until the thread starts) */
    int64_t last_ns;        /* CPU time at the previous sample; -1 for a
                               new record; other negative values are the
                               caller's own markers */
    int64_t carry_ns;       /* time charged but not yet a whole interval */
    uint64_t gen;           /* the sweep that last saw this thread */
};

struct thread_clocks {
    struct thread_clock *v;
    size_t len, cap;
    uint64_t gen;           /* current sweep */
};

/* The CPU time used so far by the thread (user + system), in ns, or -1. */
int64_t thread_cpu_ns(unsigned long id);

/* Monotonic wall clock in ns (vDSO: no system call). */
int64_t wall_ns(void);

void thread_clocks_init(struct thread_clocks *c);
void thread_clocks_release(struct thread_clocks *c);

/* Starts a sweep: threads not looked up before the next sweep_end go. */
void thread_clocks_sweep_begin(struct thread_clocks *c);
void thread_clocks_sweep_end(struct thread_clocks *c);

/*
 * The record of thread id with thread state owner, created (last_ns = -1,
 * carry 0) when new.
 * `hint` is where the caller expects it (its position in the walk of the
 * thread list, which rarely changes between samples), so a lookup is O(1)
 * in the steady state and O(threads) otherwise.  Marks it seen in the
 * current sweep.  Returns NULL only when out of memory.
 */
struct thread_clock *thread_clocks_get(struct thread_clocks *c,
                                       unsigned long id, const void *owner,
                                       size_t hint);

#endif
