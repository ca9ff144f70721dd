/*
 * gilreq.h: asking the thread that holds the GIL to let it go now.
 *
 * A thread waiting for the GIL asks the holder to drop it only after the
 * switch interval (5 ms by default), and meanwhile takes it whenever the
 * holder releases it by itself -- in a blocking call such as os.stat().
 * A sampler that simply waited would sample at those release points only
 * (every sample of a loop around os.path.exists() would land on
 * 'exists') and at most every 5 ms.  So the sampler thread sets the
 * interpreter's own drop request, as CPython's take_gil() does when the
 * interval runs out, just before it waits: the holder lets go at its next
 * eval-breaker check (a call or a backward jump), wherever it is.
 *
 * The request lives in per-version internal structures, so this is the one
 * file (with frames.c) that reads them; see gilreq.c.
 */
#ifndef PLOP_GILREQ_H
#define PLOP_GILREQ_H

#include <Python.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/*
 * One request is not enough.  The thread that takes the GIL next clears
 * the request, whoever it is: when the holder releases the GIL in a
 * blocking call (os.stat) just after the request was set and takes it
 * back before the sampler wakes, the request is gone, and the sampler's
 * own timed wait in take_gil() never runs out either, because every
 * release wakes it up and restarts its 5 ms: a main thread that calls
 * os.path.exists() every millisecond kept the sampler out for whole
 * collections.  So while the sampler waits, a nudger thread renews the
 * request every GIL_NUDGE_NS, woken by a timer armed only for the wait:
 * a sample that gets the GIL at once costs two timer_settime() calls
 * and no wakeup.
 */
#define GIL_NUDGE_NS 500000

struct gil_nudger {
    PyInterpreterState *interp;
    pthread_t thread;
    timer_t timer;
    int started;                /* thread and timer exist */
    int signo;
    pid_t tid;                  /* the thread's, for the timer */
    sem_t ready;                /* tid is set */
    PyThreadState *ts;          /* the sampler's, which never gets a nudge */
    atomic_int waiting;         /* the sampler waits for the GIL; cleared
                                   before it lets the GIL go again */
    atomic_int stop;
    atomic_ullong nudges;       /* requests renewed during waits */
};

/*
 * Starts the nudger thread and its timer (CLOCK_MONOTONIC, sending signo
 * to that thread alone).  Called from a thread that blocks every signal,
 * which the nudger inherits.  0, or an errno value.  On 2.7 and 3.6,
 * which have no request to renew, does nothing and returns 0.
 */
int gil_nudger_start(struct gil_nudger *n, PyInterpreterState *interp,
                     int signo);

/* Ends the nudger thread and deletes its timer; idempotent. */
void gil_nudger_stop(struct gil_nudger *n);

/*
 * Takes the GIL for ts (as PyEval_RestoreThread), asking the holder to
 * let it go now and renewing the request until it has.
 */
void gil_take(struct gil_nudger *n, PyThreadState *ts);

/*
 * Test hook: one nudge now, as the nudger thread makes it, whether or not
 * the sampler waits (it must do nothing when it does not).  Needs a
 * started nudger; does nothing otherwise.
 */
void gil_nudge(struct gil_nudger *n);

#endif
