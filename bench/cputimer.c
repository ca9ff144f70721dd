/*
 * cputimer.c: how often this machine's kernel delivers the expirations of
 * a process CPU-time timer, the clock plop's 'prof' and 'virtual' modes
 * sample on (collector/src/sampler.c), without Python in the way.
 *
 * A thread burns 50 ms of its own CPU while a POSIX timer on
 * CLOCK_PROCESS_CPUTIME_ID, interval 5 ms, sends its expirations with
 * SIGEV_THREAD_ID to a second thread waiting in sigwaitinfo(), as plop's
 * sampler thread does.  About 10 wake-ups are due each time; the program
 * reports the runs that saw fewer than half of them, counting the
 * overruns the kernel reports too (expirations merged into one signal),
 * then how many of the runs that was.  README ("Known limits") has what
 * it printed here, idle and beside two CPU hogs.
 *
 *     cc -O2 -pthread bench/cputimer.c -o /tmp/cputimer && /tmp/cputimer
 *
 * Not part of make test or make bench: it measures the kernel, not plop.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define RUNS 60
#define BURN_S 0.05
#define INTERVAL_NS 5000000

static atomic_int wakes, expirations, ready;
static pid_t waiter_tid;

static double
now(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *
waiter(void *arg)
{
    sigset_t *wake = arg;
    waiter_tid = (pid_t)syscall(SYS_gettid);
    atomic_store(&ready, 1);
    for (;;) {
        siginfo_t si;
        if (sigwaitinfo(wake, &si) < 0) {
            continue;
        }
        atomic_fetch_add(&wakes, 1);
        atomic_fetch_add(&expirations, 1 + si.si_overrun);
    }
    return NULL;
}

int
main(void)
{
    static sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, SIGRTMIN + 3);
    pthread_sigmask(SIG_BLOCK, &wake, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, waiter, &wake) != 0) {
        fprintf(stderr, "error: cannot start a thread\n");
        return 1;
    }
    while (!atomic_load(&ready)) {
    }
    int short_runs = 0;
    for (int r = 0; r < RUNS; r++) {
        struct sigevent sev;
        memset(&sev, 0, sizeof(sev));
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = SIGRTMIN + 3;
        sev.sigev_notify_thread_id = waiter_tid;
        timer_t timer;
        if (timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &timer) != 0) {
            perror("error: timer_create");
            return 1;
        }
        struct itimerspec its = {{0, INTERVAL_NS}, {0, INTERVAL_NS}};
        atomic_store(&wakes, 0);
        atomic_store(&expirations, 0);
        timer_settime(timer, 0, &its, NULL);
        double wall = now(CLOCK_MONOTONIC);
        double end = now(CLOCK_THREAD_CPUTIME_ID) + BURN_S;
        volatile unsigned long x = 0;
        while (now(CLOCK_THREAD_CPUTIME_ID) < end) {
            for (int i = 0; i < 2000; i++) {
                x += (unsigned long)i;
            }
        }
        wall = now(CLOCK_MONOTONIC) - wall;
        int w = atomic_load(&wakes), e = atomic_load(&expirations);
        usleep(20000);      /* a late signal would arrive by now */
        timer_delete(timer);
        if (e < 5) {
            short_runs++;
            printf("run %2d: %d wake-ups (%d expirations; %d by 20 ms "
                   "later) for %.0f ms of CPU in %.0f ms\n", r, w, e,
                   atomic_load(&expirations), BURN_S * 1e3, wall * 1e3);
        }
    }
    printf("%d of %d runs had fewer than half of the %d expirations due\n",
           short_runs, RUNS, (int)(BURN_S * 1e9 / INTERVAL_NS));
    return 0;
}
