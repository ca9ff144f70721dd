/*
 * test_threadclock.c: unit tests of the charging rule of
 * collector/src/threadclock.c, on real threads and their real CPU clocks:
 * nothing charged at first sight, a second sighting in one sweep charges
 * nothing, a charge equals the CPU the thread measured itself between two
 * sweeps, time spent unseen is never charged, ended threads are dropped,
 * real mode charges the wall time it is given, a snapshot taken at the
 * tick bounds the next charge, and a snapshot advanced for the ticks of a
 * long wait takes just those ticks' share.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "threadclock.h"

#define MS 1000000LL

static int64_t
own_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Burns ns of this thread's CPU; returns what its own clock says it used. */
static int64_t
burn(int64_t ns)
{
    volatile unsigned long x = 0;
    int64_t t0 = own_cpu_ns(), t;
    while ((t = own_cpu_ns()) - t0 < ns) {
        for (int i = 0; i < 1000; i++) {
            x += (unsigned long)i;
        }
    }
    return t - t0;
}

static unsigned long
self_id(void)
{
    return (unsigned long)pthread_self();
}

static enum thread_clock_seen
see(struct thread_clocks *c, int64_t *delta)
{
    struct thread_clock *tc;
    return thread_clocks_see(c, self_id(), 0, wall_ns(), delta, &tc);
}

/* One whole sweep that sees this thread: what see() said, *delta set. */
static enum thread_clock_seen
sweep_seeing_self(struct thread_clocks *c, int64_t *delta)
{
    thread_clocks_sweep_begin(c);
    enum thread_clock_seen r = see(c, delta);
    thread_clocks_sweep_end(c, wall_ns());
    return r;
}

static void
test_first_sight_charges_nothing_then_the_cpu_used(void)
{
    struct thread_clocks c;
    int64_t delta = -1;
    thread_clocks_init(&c, 0);
    burn(20 * MS);                  /* before the sampler knew the thread */
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(see(&c, &delta), THREAD_CLOCK_NEW);
    CHECK_EQ_INT(delta, 0);
    CHECK_EQ_INT(see(&c, &delta), THREAD_CLOCK_AGAIN);
    CHECK_EQ_INT(delta, 0);
    thread_clocks_sweep_end(&c, wall_ns());
    int64_t t0 = own_cpu_ns();
    burn(30 * MS);
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(see(&c, &delta), THREAD_CLOCK_CHARGE);
    int64_t used = own_cpu_ns() - t0;
    /* between the two readings of the clock: what the thread used, give
     * or take the few instructions around them */
    CHECK(delta >= 30 * MS && delta <= used + MS);
    CHECK_EQ_INT(c.len, 1);
    thread_clocks_release(&c);
}

static void
test_time_unseen_is_never_charged(void)
{
    struct thread_clocks c;
    int64_t delta;
    thread_clocks_init(&c, 0);
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(see(&c, &delta), THREAD_CLOCK_NEW);
    thread_clocks_sweep_end(&c, wall_ns());
    /* a sweep that does not see the thread (it runs no Python code) */
    burn(40 * MS);
    thread_clocks_sweep_begin(&c);
    thread_clocks_sweep_end(&c, wall_ns());
    CHECK_EQ_INT(c.len, 1);
    burn(5 * MS);
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(see(&c, &delta), THREAD_CLOCK_CHARGE);
    CHECK(delta >= 5 * MS && delta < 15 * MS);
    thread_clocks_release(&c);
}

struct worker {
    pthread_t t;
    int64_t burned;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    w->burned = burn(10 * MS);
    return NULL;
}

static void
test_ended_threads_are_dropped(void)
{
    struct thread_clocks c;
    struct thread_clock *tc;
    int64_t delta;
    struct worker w;
    thread_clocks_init(&c, 0);
    CHECK_EQ_INT(pthread_create(&w.t, NULL, work, &w), 0);
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(thread_clocks_see(&c, (unsigned long)w.t, 0, wall_ns(),
                                   &delta, &tc), THREAD_CLOCK_NEW);
    CHECK_EQ_INT(see(&c, &delta), THREAD_CLOCK_NEW);
    thread_clocks_sweep_end(&c, wall_ns());
    CHECK_EQ_INT(c.len, 2);
    pthread_join(w.t, NULL);
    CHECK(w.burned >= 10 * MS);
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(see(&c, &delta), THREAD_CLOCK_CHARGE);
    thread_clocks_sweep_end(&c, wall_ns());
    CHECK_EQ_INT(c.len, 1);         /* the worker's record went */
    CHECK(c.v[0].id == self_id());
    thread_clocks_release(&c);
}

static void
test_real_mode_charges_the_wall_time_given(void)
{
    struct thread_clocks c;
    struct thread_clock *tc;
    int64_t delta;
    thread_clocks_init(&c, 1);
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(thread_clocks_see(&c, self_id(), 0, 1000 * MS, &delta, &tc),
                 THREAD_CLOCK_NEW);
    thread_clocks_sweep_end(&c, 1000 * MS);
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(thread_clocks_see(&c, self_id(), 0, 1007 * MS, &delta, &tc),
                 THREAD_CLOCK_CHARGE);
    CHECK_EQ_INT(delta, 7 * MS);
    thread_clocks_sweep_end(&c, 1007 * MS);
    /* unseen from 1007 to 1100: re-based, so only 1100..1103 counts */
    thread_clocks_sweep_begin(&c);
    thread_clocks_sweep_end(&c, 1100 * MS);
    thread_clocks_sweep_begin(&c);
    CHECK_EQ_INT(thread_clocks_see(&c, self_id(), 0, 1103 * MS, &delta, &tc),
                 THREAD_CLOCK_CHARGE);
    CHECK_EQ_INT(delta, 3 * MS);
    thread_clocks_release(&c);
}

static void
test_snapshot_charges_up_to_the_tick(void)
{
    struct thread_clocks c;
    int64_t delta;
    thread_clocks_init(&c, 0);
    CHECK_EQ_INT(sweep_seeing_self(&c, &delta), THREAD_CLOCK_NEW);
    int64_t first = burn(20 * MS);
    thread_clocks_snapshot(&c);             /* the tick */
    int64_t after = burn(30 * MS);          /* waiting for the GIL */
    CHECK_EQ_INT(sweep_seeing_self(&c, &delta), THREAD_CLOCK_CHARGE);
    CHECK(delta >= first && delta < first + 2 * MS);
    /* the wait goes to the next sweep, which has no snapshot */
    CHECK_EQ_INT(sweep_seeing_self(&c, &delta), THREAD_CLOCK_CHARGE);
    CHECK(delta >= after && delta < after + 2 * MS);
    thread_clocks_release(&c);
}

static void
test_snapshot_advanced_for_the_ticks_of_a_long_wait(void)
{
    struct thread_clocks c;
    int64_t delta;
    thread_clocks_init(&c, 0);
    CHECK_EQ_INT(sweep_seeing_self(&c, &delta), THREAD_CLOCK_NEW);
    int64_t first = burn(10 * MS);
    thread_clocks_snapshot(&c);
    int64_t wait = burn(50 * MS);
    /* two ticks of 20 ms fell in the wait: 40 of its ~50 ms */
    thread_clocks_snapshot_advance(&c, 40 * MS);
    int64_t more = burn(5 * MS);
    CHECK_EQ_INT(sweep_seeing_self(&c, &delta), THREAD_CLOCK_CHARGE);
    CHECK(delta >= first + 40 * MS - MS && delta <= first + 40 * MS + 2 * MS);
    CHECK_EQ_INT(sweep_seeing_self(&c, &delta), THREAD_CLOCK_CHARGE);
    CHECK(delta >= wait - 40 * MS + more - MS
          && delta <= wait - 40 * MS + more + 3 * MS);
    /* more ticks than the wait used: all of it, never more */
    burn(5 * MS);
    thread_clocks_snapshot(&c);
    wait = burn(10 * MS);
    thread_clocks_snapshot_advance(&c, 100 * MS);
    CHECK_EQ_INT(sweep_seeing_self(&c, &delta), THREAD_CLOCK_CHARGE);
    CHECK(delta >= 5 * MS + wait - MS && delta <= 5 * MS + wait + 2 * MS);
    thread_clocks_release(&c);
}

enum { NWORKERS = 24 };             /* past the table's first capacity */

struct crowd {
    pthread_barrier_t seen, burned, leave;
    int64_t used[NWORKERS];
    pthread_t t[NWORKERS];
};

struct member {
    struct crowd *crowd;
    int i;
};

static void *
crowd_member(void *arg)
{
    struct member *m = arg;
    struct crowd *cr = m->crowd;
    int i = m->i;
    pthread_barrier_wait(&cr->seen);        /* baselined */
    int64_t t0 = own_cpu_ns();
    burn((1 + i % 4) * MS);
    cr->used[i] = own_cpu_ns() - t0;
    pthread_barrier_wait(&cr->burned);      /* charged */
    pthread_barrier_wait(&cr->leave);
    return NULL;
}

static void
test_each_thread_charged_its_own_cpu(void)
{
    struct crowd cr;
    struct member members[NWORKERS];
    struct thread_clocks c;
    struct thread_clock *tc;
    int64_t delta, burned = 0, charged = 0;
    memset(&cr, 0, sizeof(cr));
    pthread_barrier_init(&cr.seen, NULL, NWORKERS + 1);
    pthread_barrier_init(&cr.burned, NULL, NWORKERS + 1);
    pthread_barrier_init(&cr.leave, NULL, NWORKERS + 1);
    thread_clocks_init(&c, 0);
    for (int i = 0; i < NWORKERS; i++) {
        members[i].crowd = &cr;
        members[i].i = i;
        CHECK_EQ_INT(pthread_create(&cr.t[i], NULL, crowd_member,
                                    &members[i]), 0);
    }
    thread_clocks_sweep_begin(&c);
    for (int i = 0; i < NWORKERS; i++) {
        CHECK_EQ_INT(thread_clocks_see(&c, (unsigned long)cr.t[i], 0,
                                       wall_ns(), &delta, &tc),
                     THREAD_CLOCK_NEW);
    }
    thread_clocks_sweep_end(&c, wall_ns());
    pthread_barrier_wait(&cr.seen);
    pthread_barrier_wait(&cr.burned);
    thread_clocks_sweep_begin(&c);
    for (int i = 0; i < NWORKERS; i++) {
        /* hints in reverse: every lookup misses its hint */
        CHECK_EQ_INT(thread_clocks_see(&c, (unsigned long)cr.t[i],
                                       (size_t)(NWORKERS - 1 - i), wall_ns(),
                                       &delta, &tc),
                     THREAD_CLOCK_CHARGE);
        /* what it burned, plus at most the barrier waits around it */
        CHECK(delta >= cr.used[i] && delta <= cr.used[i] + 2 * MS);
        burned += cr.used[i];
        charged += delta;
    }
    thread_clocks_sweep_end(&c, wall_ns());
    CHECK_EQ_INT(c.len, NWORKERS);
    CHECK(charged >= burned && charged <= burned + NWORKERS * MS / 2);
    pthread_barrier_wait(&cr.leave);
    for (int i = 0; i < NWORKERS; i++) {
        pthread_join(cr.t[i], NULL);
    }
    thread_clocks_sweep_begin(&c);
    thread_clocks_sweep_end(&c, wall_ns());
    CHECK_EQ_INT(c.len, 0);
    thread_clocks_release(&c);
    pthread_barrier_destroy(&cr.seen);
    pthread_barrier_destroy(&cr.burned);
    pthread_barrier_destroy(&cr.leave);
}

int
main(void)
{
    RUN(test_first_sight_charges_nothing_then_the_cpu_used);
    RUN(test_time_unseen_is_never_charged);
    RUN(test_ended_threads_are_dropped);
    RUN(test_real_mode_charges_the_wall_time_given);
    RUN(test_snapshot_charges_up_to_the_tick);
    RUN(test_snapshot_advanced_for_the_ticks_of_a_long_wait);
    RUN(test_each_thread_charged_its_own_cpu);
    return check_report();
}
