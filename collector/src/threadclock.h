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
 *     baseline); nothing is charged for that sample.  (The sampler may
 *     charge a thread the threading module started during the collection
 *     its CPU time so far: sampler.c, born_in_collection().)
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
    int64_t snap_ns;        /* CPU clock at the last tick (snapshot) */
    uint64_t snap_gen;      /* the sweep that snapshot is for */
    int64_t late_ns;        /* scratch of thread_clocks_snapshot_advance */
    int64_t cpu_ns;         /* its CPU time as read by the last see() */
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
    uint64_t snap_gen;      /* the sweep the last snapshot is for */
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

/*
 * CPU modes: reads every record's clock now, at the timer's tick, for the
 * next sweep to charge up to the tick instead of up to the moment it got
 * the GIL (a sample that waited for a C call holding the GIL would charge
 * the whole wait since the previous sample to the code it finds; up to
 * the tick, each tick's interval goes to the code that was running at
 * it).  The clock reads the sweep would make are made here instead.
 * Records made after it are read at the sweep as before.
 */
void thread_clocks_snapshot(struct thread_clocks *c);

/*
 * CPU modes, a sample that waited so long for the GIL that `ticks_ns` of
 * process CPU time (the timer's ticks that fell meanwhile) went by: moves
 * the snapshot forward to where those ticks fell, sharing them out
 * between the records in proportion to the CPU each used since the
 * snapshot (in practice the thread that held the GIL).  One clock read
 * per record.
 */
void thread_clocks_snapshot_advance(struct thread_clocks *c,
                                    int64_t ticks_ns);

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
 * carry_ns the caller updates), whose cpu_ns is the thread's CPU time
 * read now (CPU modes with a snapshot: at the tick).  Cost: one clock
 * read (a system call), none with a snapshot.
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
