/*
 * sigforward.c: the forwarding signal handler (see sigforward.h).
 *
 * State is per signal number and global: a signal disposition is per
 * process, so there is at most one forwarding handler per signal.
 */
#include "sigforward.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#define MAX_SIG 65

static pthread_t main_thread;
static struct sigaction cpython_action[MAX_SIG];
static volatile sig_atomic_t forwarding[MAX_SIG];
static atomic_int in_flight[MAX_SIG];

static void
call_cpython(int sig, siginfo_t *info, void *ctx)
{
    const struct sigaction *a = &cpython_action[sig];
    if (a->sa_flags & SA_SIGINFO) {
        a->sa_sigaction(sig, info, ctx);
    }
    else if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN) {
        a->sa_handler(sig);
    }
}

static void
forward_handler(int sig, siginfo_t *info, void *ctx)
{
    int saved_errno = errno;
    if (sig <= 0 || sig >= MAX_SIG) {
        return;
    }
    atomic_fetch_add(&in_flight[sig], 1);
    if (pthread_equal(pthread_self(), main_thread)) {
        call_cpython(sig, info, ctx);
    }
    else if (forwarding[sig]) {
        pthread_kill(main_thread, sig);
    }
    atomic_fetch_sub(&in_flight[sig], 1);
    errno = saved_errno;
}

int
sigforward_install(int signum)
{
    struct sigaction cur, ours;
    if (signum <= 0 || signum >= MAX_SIG) {
        errno = EINVAL;
        return -1;
    }
    if (sigaction(signum, NULL, &cur) != 0) {
        return -1;
    }
    if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL) {
        errno = EINVAL;
        return -1;
    }
    main_thread = pthread_self();
    cpython_action[signum] = cur;
    memset(&ours, 0, sizeof(ours));
    ours.sa_sigaction = forward_handler;
    ours.sa_mask = cur.sa_mask;
    /* CPython's flags (SA_ONSTACK), without SA_RESTART: see sampler.c */
    ours.sa_flags = (cur.sa_flags & ~SA_RESTART) | SA_SIGINFO;
    forwarding[signum] = 1;
    if (sigaction(signum, &ours, NULL) != 0) {
        forwarding[signum] = 0;
        return -1;
    }
    return 0;
}

void
sigforward_quiesce(int signum)
{
    if (signum <= 0 || signum >= MAX_SIG) {
        return;
    }
    forwarding[signum] = 0;
    /*
     * Bounded: a handler runs a few instructions, and a signal sent to the
     * main thread is delivered when it returns from its next system call
     * (sigpending is one), unless the main thread blocks it.
     */
    for (int i = 0; i < 100000 && atomic_load(&in_flight[signum]) > 0; i++) {
        sched_yield();
    }
    sigset_t pending;
    for (int i = 0; i < 1000; i++) {
        if (sigpending(&pending) != 0 || !sigismember(&pending, signum)) {
            break;
        }
        sched_yield();
    }
}
