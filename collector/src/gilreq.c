/*
 * gilreq.c: gil_request_drop() (gilreq.h) for each CPython version, the
 * same stores CPython's take_gil() makes when the switch interval runs
 * out (Python/ceval_gil.c, SET_GIL_DROP_REQUEST):
 *
 *   2.7, 3.6   no request the holder would honour: 2.7's GIL has none
 *              (a thread lets it go every 100 instructions and takes it
 *              straight back, before a waiter wakes up), and 3.6 keeps its
 *              request in a static of ceval.c.  Instead a pending call
 *              (Py_AddPendingCall, safe from any thread on these versions)
 *              runs in the main thread at its next bytecode boundary and
 *              waits there, GIL released, until the sampler has taken the
 *              GIL (gil_request_done), at most HANDOFF_WAIT_NS.  So a
 *              sample lands where the main thread is, as it does on 3.7+.
 *              Pending calls run in the main thread only: when another
 *              thread holds the GIL, samples wait until it lets it go.
 *   3.7-3.8    _PyRuntime.ceval.gil_drop_request and .eval_breaker
 *   3.9-3.12   interp->ceval.gil_drop_request and .eval_breaker
 *   3.13       the _PY_GIL_DROP_REQUEST_BIT of the holder's
 *              tstate->eval_breaker (interp->ceval.gil->last_holder)
 *   others     nothing (3.14+ not known): samples then wait for the
 *              switch interval
 */
#include <patchlevel.h>      /* PY_VERSION_HEX alone: Py_BUILD_CORE must
                                come before Python.h */

#if PY_VERSION_HEX >= 0x03070000 && PY_VERSION_HEX < 0x030E0000
#define Py_BUILD_CORE 1
#endif
#include <Python.h>

#include "coreheaders.h"

#if PY_VERSION_HEX >= 0x03070000 && PY_VERSION_HEX < 0x030E0000
PLOP_CORE_HEADERS_BEGIN
#if PY_VERSION_HEX >= 0x030D0000
#include <internal/pycore_ceval.h>
#include <internal/pycore_interp.h>
#elif PY_VERSION_HEX >= 0x03090000
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>
#elif PY_VERSION_HEX >= 0x03080000
#include <internal/pycore_pystate.h>
#else
#include <internal/pystate.h>
#endif
PLOP_CORE_HEADERS_END
#endif

#include "gilreq.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* 3.7+: a drop request exists, and can be lost (gilreq.h); renew it */
#define HAVE_NUDGER (PY_VERSION_HEX >= 0x03070000 && PY_VERSION_HEX < 0x030E0000)

#if PY_VERSION_HEX < 0x03070000
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <time.h>

/* bounds the main thread's wait for a sampler that never comes */
#define HANDOFF_WAIT_NS 5000000

static atomic_int handoff_wanted;   /* a pending call is queued */
static atomic_int handoff_waiting;  /* the main thread waits in it */
static sem_t handoff_sem;
static pthread_once_t handoff_once = PTHREAD_ONCE_INIT;

static void
handoff_init(void)
{
    sem_init(&handoff_sem, 0, 0);
}

/* The pending call: main thread, GIL held, at a bytecode boundary. */
static int
handoff(void *unused)
{
    (void)unused;
    if (!atomic_exchange(&handoff_wanted, 0)) {
        return 0;
    }
    while (sem_trywait(&handoff_sem) == 0) {
        /* a post for an earlier wait that had timed out */
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += HANDOFF_WAIT_NS;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    int saved_errno = errno;
    /* set while the GIL is still held: the sampler, which can take it
       only after the release below, always sees it */
    atomic_store(&handoff_waiting, 1);
    Py_BEGIN_ALLOW_THREADS
    while (sem_timedwait(&handoff_sem, &until) != 0 && errno == EINTR) {
    }
    atomic_store(&handoff_waiting, 0);
    Py_END_ALLOW_THREADS
    errno = saved_errno;
    return 0;
}
#endif

#if HAVE_NUDGER
/* The GIL of interp: the runtime's before 3.12, the interpreter's after. */
static struct _gil_runtime_state *
gil_state(PyInterpreterState *interp)
{
#if PY_VERSION_HEX >= 0x030C0000
    return interp->ceval.gil;
#else
    (void)interp;
    return &_PyRuntime.ceval.gil;
#endif
}

#if PY_VERSION_HEX >= 0x030D0000
#define GIL_HOLDER(g) \
    ((PyThreadState *)_Py_atomic_load_ptr_relaxed(&(g)->last_holder))
#define GIL_LOCKED(g) _Py_atomic_load_int_relaxed(&(g)->locked)
#else
#define GIL_HOLDER(g) \
    ((PyThreadState *)_Py_atomic_load_relaxed(&(g)->last_holder))
#define GIL_LOCKED(g) _Py_atomic_load_relaxed(&(g)->locked)
#endif
#endif

/*
 * Sets the GIL drop request, as the switch interval's timeout does, while
 * the sampler (n->ts) waits for the GIL.  Called without the GIL.
 *
 * 3.7+: only under the GIL's own mutex, as take_gil() sets it, and only
 * when the sampler still waits and another thread holds the GIL.  A
 * request nobody waits for is not harmless: the holder, asked to let go,
 * waits in drop_gil() until another thread has taken the GIL (CPython's
 * FORCE_SWITCHING), and in a CPU mode, with no CPU used, no tick comes to
 * take it: a nudge that arrived just after the sampler had had its turn
 * hung a test run on 3.13 that way.  Under the mutex the check and the
 * store cannot straddle the sampler's take or release of the GIL: take_gil
 * and drop_gil set `locked` and `last_holder` under it, and the sampler
 * stops waiting before it lets the GIL go.  On 3.13 the mutex also keeps
 * the holder from finishing its release, so it cannot end its thread and
 * free the state whose bit is set.
 */
static void
gil_request_drop(struct gil_nudger *n)
{
#if HAVE_NUDGER
    struct _gil_runtime_state *gil = gil_state(n->interp);
    if (gil == NULL) {
        return;
    }
    pthread_mutex_lock(&gil->mutex);
    PyThreadState *holder = GIL_HOLDER(gil);
    if (atomic_load(&n->waiting) && GIL_LOCKED(gil) && holder != NULL
        && holder != n->ts) {
#if PY_VERSION_HEX >= 0x030D0000
        _Py_set_eval_breaker_bit(holder, _PY_GIL_DROP_REQUEST_BIT);
#elif PY_VERSION_HEX >= 0x03090000
        _Py_atomic_store_relaxed(&n->interp->ceval.gil_drop_request, 1);
        _Py_atomic_store_relaxed(&n->interp->ceval.eval_breaker, 1);
#else
        _Py_atomic_store_relaxed(&_PyRuntime.ceval.gil_drop_request, 1);
        _Py_atomic_store_relaxed(&_PyRuntime.ceval.eval_breaker, 1);
#endif
    }
    pthread_mutex_unlock(&gil->mutex);
#elif PY_VERSION_HEX >= 0x03060000 || PY_MAJOR_VERSION == 2
    (void)n;
    pthread_once(&handoff_once, handoff_init);
    if (!atomic_exchange(&handoff_wanted, 1)
        && Py_AddPendingCall(handoff, NULL) < 0) {
        atomic_store(&handoff_wanted, 0);   /* queue full: wait as is */
    }
#else
    (void)n;
#endif
}

/*
 * Called by the thread that asked, once it holds the GIL: ends the main
 * thread's wait in the handoff of 2.7 and 3.6.  Nothing on other versions.
 */
static void
gil_request_done(void)
{
#if PY_VERSION_HEX < 0x03070000
    /*
     * Both run holding the GIL, so they never overlap: either handoff()
     * already let the GIL go for us (waiting: wake it), or it has not run
     * yet (the GIL came another way, e.g. a blocking call): then it is not
     * wanted any more, and the queued call returns at once.
     */
    atomic_store(&handoff_wanted, 0);
    if (atomic_load(&handoff_waiting)) {
        sem_post(&handoff_sem);
    }
#endif
}

/* ------------------------------------------------------------ the nudger */

#if HAVE_NUDGER
static void *
nudger_thread(void *arg)
{
    struct gil_nudger *n = arg;
    n->tid = (pid_t)syscall(SYS_gettid);
    sem_post(&n->ready);
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, n->signo);
    for (;;) {
        siginfo_t si;
        if (sigwaitinfo(&wake, &si) < 0) {
            continue;
        }
        if (atomic_load(&n->stop)) {
            break;
        }
        if (atomic_load(&n->waiting)) {
            gil_request_drop(n);
            atomic_fetch_add(&n->nudges, 1);
        }
    }
    return NULL;
}

static int
set_nudge_timer(struct gil_nudger *n, int64_t ns)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = ns / 1000000000;
    its.it_value.tv_nsec = ns % 1000000000;
    its.it_interval = its.it_value;
    return timer_settime(n->timer, 0, &its, NULL);
}
#endif

int
gil_nudger_start(struct gil_nudger *n, PyInterpreterState *interp,
                 int signo)
{
    n->interp = interp;
    n->signo = signo;
    n->started = 0;
    atomic_store(&n->waiting, 0);
    atomic_store(&n->stop, 0);
#if HAVE_NUDGER
    sem_init(&n->ready, 0, 0);
    int rc = pthread_create(&n->thread, NULL, nudger_thread, n);
    if (rc != 0) {
        sem_destroy(&n->ready);
        return rc;
    }
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = signo;
    while (sem_wait(&n->ready) != 0) {
        /* EINTR: the caller blocks every signal, but be sure */
    }
    sev.sigev_notify_thread_id = n->tid;
    if (timer_create(CLOCK_MONOTONIC, &sev, &n->timer) != 0) {
        int e = errno;
        atomic_store(&n->stop, 1);
        pthread_kill(n->thread, signo);
        pthread_join(n->thread, NULL);
        sem_destroy(&n->ready);
        return e;
    }
    n->started = 1;
#endif
    return 0;
}

void
gil_nudger_stop(struct gil_nudger *n)
{
#if HAVE_NUDGER
    if (!n->started) {
        return;
    }
    timer_delete(n->timer);
    atomic_store(&n->stop, 1);
    pthread_kill(n->thread, n->signo);
    pthread_join(n->thread, NULL);
    sem_destroy(&n->ready);
    n->started = 0;
#else
    (void)n;
#endif
}

void
gil_nudge(struct gil_nudger *n)
{
    if (n->started) {
        gil_request_drop(n);
    }
}

void
gil_take(struct gil_nudger *n, PyThreadState *ts)
{
    n->ts = ts;
    atomic_store(&n->waiting, 1);
    gil_request_drop(n);
#if HAVE_NUDGER
    if (n->started) {
        set_nudge_timer(n, GIL_NUDGE_NS);
    }
#endif
    PyEval_RestoreThread(ts);
    /* before the GIL is let go again: no nudge after this one's turn */
    atomic_store(&n->waiting, 0);
#if HAVE_NUDGER
    if (n->started) {
        set_nudge_timer(n, 0);
    }
#endif
    gil_request_done();
}
