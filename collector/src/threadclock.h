/*
 * threadclock.h: per-thread clocks and the rule that turns them into
 * sample weights.
 *
 * The rule (README "How sampling works"): a thread is charged only for time
 * that passed while the sampler knew it, so nothing from before start() or
 * before the thread was first seen running Python code is ever charged.
 *
 *   - A thread is keyed by its OS thread (pthread_t, as CPython's
 *     thread_id), not by its thread state: a C thread that calls into
 *     Python through PyGILState_Ensure gets a fresh thread state for each
 *     call but keeps its record, and so its clock baseline.
 *   - First sight: the record is created and its clock read (the
 *     baseline); nothing is charged for that sample.
 *   - A thread seen at a sweep (running Python code) is charged the time
 *     its clock advanced since the previous sweep: its CPU time in the CPU
 *     modes, the wall time in real mode.
 *   - A known thread not seen at a sweep (it runs no Python code now: in C
 *     between callbacks, or its thread state is gone) is re-based:
 *     last_ns takes its clock's current value and its carry is dropped, so
 *     the time it spends outside Python is never charged to the stack it
 *     comes back with.  Its clock is still read each sweep (one system
 *     call) to notice when the OS thread has ended; then the record goes.
 *
 * So the total charged to a thread never exceeds its CPU time since it was
 * first seen (CPU modes) or the wall time it was seen running Python (real
 * mode).  Each record also carries the remainder that did not make a whole
 * interval, so integer counts add up to the time really spent.
 *
 * Pure C (pthreads, clock_gettime), no Python.h: tests/c/test_threadclock.c
 * tests it alone.
 */
#ifndef PLOP_THREADCLOCK_H
#define PLOP_THREADCLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct thread_clock {
    unsigned long id;       /* pthread_t as CPython stores it (thread_id) */
    clockid_t cid;          /* the thread's CPU clock; it names the kernel
                               thread, so reading it after the thread ended
                               fails instead of touching freed memory */
    int64_t last_ns;        /* the mode's clock at the previous sweep */
    int64_t carry_ns;       /* time charged but not yet a whole interval */
    uint64_t gen;           /* the sweep that last saw it run Python */
    /* the caller's cache of the last stack charged (real mode: a thread
       whose CPU clock has not moved has the same stack); cleared when the
       record is (re)made */
    void *last_entry;
    uint64_t last_entry_gen;
    int64_t last_entry_cpu;
};

struct thread_clocks {
    struct thread_clock *v;
    size_t len, cap;
    uint64_t gen;           /* current sweep */
    int real;               /* 1: last_ns is wall time (real mode) */
};

/* Monotonic wall clock in ns (vDSO: no system call). */
int64_t wall_ns(void);

/* The CPU time used so far by the thread of pthread_t id, in ns, or -1. */
int64_t thread_cpu_ns(unsigned long id);

/*
 * The CPU time (user + system) the record's thread used so far, in ns, or
 * -1 when that thread has ended.  One system call.
 */
int64_t thread_clock_cpu_ns(const struct thread_clock *tc);

/* real: 1 when the records measure wall time (real mode), 0 for CPU. */
void thread_clocks_init(struct thread_clocks *c, int real);
void thread_clocks_release(struct thread_clocks *c);

/* Starts a sweep. */
void thread_clocks_sweep_begin(struct thread_clocks *c);

enum thread_clock_seen {
    THREAD_CLOCK_NEW,       /* first sight: baselined, charge nothing */
    THREAD_CLOCK_AGAIN,     /* already seen in this sweep: charge nothing */
    THREAD_CLOCK_CHARGE,    /* *delta_ns is the time to charge */
    THREAD_CLOCK_NOMEM      /* no record could be made */
};

/*
 * Records that thread id (pthread_t, alive: the caller saw it run Python
 * code) is seen in the current sweep at wall time now_ns, and says what to
 * charge it.  `hint` is where the caller expects the record (its position
 * in the walk of the thread list), so a lookup is O(1) in the steady state
 * and O(records) otherwise.  On THREAD_CLOCK_CHARGE, *delta_ns >= 0 is the
 * clock's advance since the previous sweep and *tc the record (whose
 * carry_ns the caller updates).  Cost: one clock read (a system call) in
 * the CPU modes, none in real mode.
 */
enum thread_clock_seen thread_clocks_see(struct thread_clocks *c,
                                         unsigned long id, size_t hint,
                                         int64_t now_ns, int64_t *delta_ns,
                                         struct thread_clock **tc);

/*
 * Ends the sweep: every record not seen since sweep_begin is re-based to
 * its clock's current value (real mode: now_ns) with no carry, or dropped
 * when its thread has ended.  Cost: one clock read per record not seen.
 */
void thread_clocks_sweep_end(struct thread_clocks *c, int64_t now_ns);

#endif
