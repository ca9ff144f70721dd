/*
 * sigforward.h: makes the sampling signal reach the main thread.
 *
 * CPython runs Python-level signal handlers only in the main thread, and
 * only once that thread gets to a bytecode boundary or returns EINTR from a
 * blocking call.  A process-wide timer signal is delivered by the kernel to
 * whichever thread is running (ITIMER_PROF charges the thread that used the
 * CPU), so when the main thread is blocked (joining workers, waiting on a
 * lock or a socket) the signal lands in a worker, the main thread sleeps
 * on, and no sample is taken until it wakes.  The forwarding handler
 * installed here over CPython's own C handler fixes that: in a thread other
 * than the main one it only re-sends the signal to the main thread
 * (pthread_kill); in the main thread it calls CPython's handler, which
 * trips the flag and interrupts the blocking call.  Both are
 * async-signal-safe (pthread_kill is; pthread_self only reads the thread
 * pointer in glibc; errno is saved and restored).
 */
#ifndef PLOP_SIGFORWARD_H
#define PLOP_SIGFORWARD_H

/*
 * Replaces the C-level handler of signum, which must be CPython's own
 * (installed by signal.signal() just before), by the forwarding handler,
 * keeping CPython's to call in the main thread.  Must be called from the
 * main thread.  Returns 0, or -1 with errno set.
 */
int sigforward_install(int signum);

/*
 * Stops forwarding signum and waits (microseconds) until no forwarding
 * handler is running and nothing forwarded is pending for the main thread,
 * so that the handler can then be replaced by SIG_DFL without a late
 * signal killing the process.  Call after disarming the timer, from the
 * main thread.
 */
void sigforward_quiesce(int signum);

#endif
