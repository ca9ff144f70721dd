/*
 * sampler.c: the Sampler type, plop's sampling core.
 *
 * How a sample is taken (the design, and why; README "How sampling works"
 * has the measurements behind it):
 *
 *   start() creates the sampler's own native thread, which no signal of
 *   the program reaches (it blocks every signal).  That thread creates a
 *   POSIX timer on the mode's clock (the process CPU-time clock for 'prof'
 *   and 'virtual', CLOCK_MONOTONIC for 'real') whose expirations are sent,
 *   with SIGEV_THREAD_ID, as a real-time signal to the sampler thread
 *   alone, which waits for it with sigwaitinfo(): the signal is never
 *   delivered as a handler, reaches no other thread, and its number's
 *   disposition stays the program's.  SIGPROF, SIGVTALRM, SIGALRM, the
 *   interval timers (setitimer, alarm), pause() and the wakeup fd are all
 *   left to the program, and a program thread blocked in a system call is
 *   never interrupted (no EINTR).
 *
 *   At each expiration the thread takes the GIL with its own thread state
 *   (made by PyGILState_Ensure once, skipped in the walk) and, holding it,
 *   walks every thread state of the interpreter, as sys._current_frames()
 *   does, reading each thread's frames (frames.c) into a scratch buffer of
 *   code object pointers (plus instruction offsets with lines=True), which
 *   is the key of the stack table (stacktab.c).  A stack already seen
 *   costs one hash and a compare: no allocation, no Python object.  Python
 *   objects are built only when stack_counts() is read.  The table holds a
 *   strong reference to every code object of its keys (taken when a key is
 *   new, dropped by reset() and dealloc), so a pointer in a key never
 *   dangles.  Every thread is sampled whatever the main thread does, and
 *   start()/stop() work from any thread.
 *
 *   Asking for the GIL is not free: a thread running Python code lets it
 *   go only after the switch interval (sys.getswitchinterval(), 5 ms by
 *   default), and a thread in a C call that holds the GIL only when the
 *   call returns.  So samples can be late.  Their time is not lost (see
 *   the weighting below), and item 3 of the design keeps it on the right
 *   code: see resolve() below.
 *
 *   Weighting (threadclock.h states the rule): a sample counts for the
 *   time that really elapsed.  In the CPU modes each thread is charged
 *   the CPU time its own clock advanced since the previous sample, so an
 *   idle thread is charged nothing and a late sample is charged the whole
 *   delay; in real mode every thread running Python code is charged the
 *   wall time elapsed.  Nothing from before start() or before a thread
 *   was first seen is charged, but for the CPU a thread of the threading
 *   module used before its first sight (born_in_collection).  The charge
 *   is converted to whole intervals; each thread carries the remainder to
 *   its next sample.
 *
 *   Bounds: at most max_stacks unique stacks (beyond, the weight goes to
 *   an overflow count reported as a stack of its own); at most max_depth
 *   frames per stack (the root-most frames beyond it are replaced by one
 *   truncation frame).  Weight that could not be recorded for lack of
 *   memory is counted apart (nomemory) and reported as a stack too, as
 *   _lsprof keeps a flag for it.
 *
 *   Lifetime: stop() (any thread) asks the thread to end and waits for it
 *   without holding the GIL; start() registers stop() with atexit so the
 *   thread never outlives the interpreter.  The thread does not survive
 *   fork(): in the child the collector is stopped and emptied
 *   (_after_fork_child) and can be started again.
 */
#include "sampler.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "frames.h"
#include "gilreq.h"
#include "pycompat.h"
#include "stacktab.h"
#include "threadclock.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#if defined(Py_GIL_DISABLED)
#error "plop does not support free-threaded CPython (Py_GIL_DISABLED) yet: build it for a CPython with the GIL"
#endif

enum sampler_mode { MODE_PROF, MODE_VIRTUAL, MODE_REAL };

static const struct {
    const char *name;
    clockid_t clock;
} modes[] = {
    [MODE_PROF] = {"prof", CLOCK_PROCESS_CPUTIME_ID},
    [MODE_VIRTUAL] = {"virtual", CLOCK_PROCESS_CPUTIME_ID},
    [MODE_REAL] = {"real", CLOCK_MONOTONIC},
};

/*
 * The real-time signal the timer sends to the sampler thread.  It is
 * directed at that thread (SIGEV_THREAD_ID, pthread_kill), which keeps it
 * blocked and takes it with sigwaitinfo, so no handler ever runs and the
 * program's own use of the number is not disturbed.
 */
static int
wake_signal(void)
{
    return SIGRTMAX - 3;
}

typedef struct {
    PyObject_HEAD
    enum sampler_mode mode;
    int64_t interval_ns;
    double interval;
    int lines;
    size_t max_depth;
    struct stacktab tab;         /* holds a reference per code object key */
    struct thread_clocks clocks;
    pthread_mutex_t clocks_lock; /* clocks: the sampler thread snapshots
                                    them without the GIL (tick_snapshot) */
    uintptr_t *buf;              /* scratch key, (max_depth + 1) * 2 words */
    uint64_t overflow;           /* counts that found no room in tab */
    uint64_t nomemory;           /* counts lost for lack of memory */
    uint64_t samples;            /* sweeps that took a sample */
    uint64_t late;               /* samples whose GIL wait held a tick */
    int64_t longest_wait_ns;     /* longest wait for the GIL at a tick */
    int64_t ncpu;                /* CPUs online, at least 1 */
    uint64_t tab_gen;            /* changes when tab is emptied */
    int64_t sample_time_ns;      /* time spent sampling, GIL held */
    int64_t timer_ns;            /* timer time since start() */
    int64_t duration_ns;         /* 0: unlimited */
    int64_t fail_allocs;         /* test hook: fail the next n table adds */
    int running;                 /* samples are taken (GIL-protected) */
    int expired;                 /* the duration ran out: the thread ends */
    int starting;                /* start() waits for the thread */
    int busy;                    /* tab is being read or cleared */
    int baselining;              /* the sweep of start(): charges nothing */
    PyObject *bootstrap_code;    /* threading.Thread's bootstrap (strong),
                                    or NULL: see born_in_collection() */
    /* the sampler thread */
    PyInterpreterState *interp;
    pthread_t thread;
    int thread_started;          /* thread exists and is not joined */
    atomic_int stop_request;     /* read by the thread without the GIL */
    PyThreadState *thread_ts;    /* the thread's own state, not sampled */
    struct gil_nudger nudger;    /* renews the GIL request (gilreq.h) */
    sem_t ready;                 /* the thread's timer is armed, or failed */
    int thread_errno;            /* why the thread could not start */
    PyObject *atexit_stop;       /* strong: the bound stop registered */
#if PY_VERSION_HEX < 0x03070000
    sig_atomic_t forks_seen;     /* fork_count when last looked at */
#endif
} Sampler;

/* stacks at least this deep are cached per thread in real mode (charge) */
#define CACHE_DEPTH 48

static const char overflow_name[] = "<overflow>";
static const char truncated_name[] = "<truncated>";
static const char nomemory_name[] = "<nomemory>";

static inline size_t
stride(const Sampler *self)
{
    return self->lines ? 2 : 1;
}

/* ------------------------------------------------------------ the sample */

/*
 * Adds `units` intervals to the stack in self->buf[0..n); returns its
 * entry, or NULL when it went to overflow or nomemory.
 */
static struct stacktab_entry *
record(Sampler *self, size_t n, uint64_t units)
{
    struct stacktab_entry *e = NULL;
    enum stacktab_result r;
    if (self->fail_allocs > 0) {
        self->fail_allocs--;
        r = STACKTAB_NOMEM;
    }
    else {
        r = stacktab_add(&self->tab, self->buf, n, units, &e);
    }
    switch (r) {
    case STACKTAB_FOUND:
        break;
    case STACKTAB_NEW:
        for (size_t i = 0; i < n; i += stride(self)) {
            if (e->key[i] != FRAMES_TRUNCATED) {
                Py_INCREF((PyObject *)e->key[i]);
            }
        }
        break;
    case STACKTAB_FULL:
        self->overflow += units;
        return NULL;
    case STACKTAB_NOMEM:
        self->nomemory += units;
        return NULL;
    }
    return e;
}

/*
 * Charges `delta_ns` of thread time (plus its carry) to the thread's
 * current stack.  Reads the frames only when the charge makes at least one
 * whole interval, and in real mode not even then when the thread has not
 * run since its last charge (its CPU clock has not moved, so its stack is
 * the one charged last time): an idle thread then costs one clock read
 * instead of a walk of its whole stack.
 */
static void
charge(Sampler *self, PyThreadState *ts, struct thread_clock *tc,
       int64_t delta_ns)
{
    int64_t total = delta_ns + tc->carry_ns;
    if (total < self->interval_ns) {
        tc->carry_ns = total > 0 ? total : 0;
        return;
    }
    uint64_t units = (uint64_t)(total / self->interval_ns);
    tc->carry_ns = total % self->interval_ns;
    /* read by thread_clocks_see() in this sweep: no second system call */
    int64_t cpu = tc->cpu_ns;
    if (self->mode == MODE_REAL && tc->last_entry != NULL) {
        if (cpu >= 0 && tc->last_entry_gen == self->tab_gen
            && tc->last_entry_cpu == cpu) {
            ((struct stacktab_entry *)tc->last_entry)->count += units;
            return;
        }
    }
    size_t n = frames_collect(ts, self->buf, self->max_depth, self->lines);
    if (n == 0) {
        return;
    }
    struct stacktab_entry *e = record(self, n, units);
    /* a clock read costs about what a walk of CACHE_DEPTH frames does */
    tc->last_entry = NULL;
    if (self->mode == MODE_REAL && e != NULL
        && n / stride(self) >= CACHE_DEPTH) {
        if (cpu >= 0) {
            tc->last_entry = e;
            tc->last_entry_gen = self->tab_gen;
            tc->last_entry_cpu = cpu;
        }
    }
}

/*
 * At a thread's first sight after start()'s own sweep: nonzero when all
 * of its CPU time was spent in this collection running Python code (or C
 * called from it), so that charging it all is what a sampler that saw the
 * thread from its birth would have done.  That holds for a thread started
 * by the threading module (its root frame is Thread's bootstrap): such a
 * thread runs Python code from its first instructions, so it was seen by
 * start()'s sweep unless it was born after it.  Without this, the CPU a
 * new thread used before the sampler first got the GIL would be lost: on
 * 2.7 and 3.6, which have no nudger (gilreq.h), threads contending for the
 * GIL keep the sampler waiting 100 ms and more, and a worker that starts
 * then loses that much.  A thread born in C (PyGILState_Ensure) may have
 * worked in C before its first call into Python: it is baselined as
 * before (threadclock.h), and so is a thread of _thread.start_new_thread,
 * whose root cannot be told from a C callback's.  Real mode charges the
 * CPU time too: a lower bound of the wall time the thread was alive.
 */
static int
born_in_collection(const Sampler *self, PyThreadState *ts)
{
    return !self->baselining && self->bootstrap_code != NULL
           && (PyObject *)frames_root(ts) == self->bootstrap_code;
}

/*
 * One sweep over every thread but the sampler's own, GIL held.  Cost: per
 * thread running Python, one CPU clock read (CPU modes) and, when it is
 * charged, one walk of its frames and one table lookup; per known thread
 * not running Python, one clock read.  Allocates nothing in the steady
 * state (a new stack or a new thread allocates once).
 */
static void
take_sample(Sampler *self, int64_t tick_ns)
{
    if (!self->running || self->busy) {
        return;
    }
    self->busy = 1;
    int64_t t0 = wall_ns();
    pthread_mutex_lock(&self->clocks_lock);
    int64_t timer_delta = 0;
    int64_t wall_delta = 0;

    thread_clocks_sweep_begin(&self->clocks);
    PyThreadState *ts = PyInterpreterState_ThreadHead(self->interp);
    for (size_t i = 0; ts; ts = PyThreadState_Next(ts), i++) {
        /* 0: a thread state whose thread has not started yet (3.12+) */
        if (ts == self->thread_ts || ts->thread_id == 0
            || !frames_active(ts)) {
            continue;
        }
        struct thread_clock *tc;
        int64_t delta;
        switch (thread_clocks_see(&self->clocks, ts->thread_id, i, tick_ns,
                                  &delta, &tc)) {
        case THREAD_CLOCK_CHARGE:
            if (self->mode == MODE_REAL) {
                if (delta > wall_delta) {
                    wall_delta = delta;
                }
            }
            else {
                timer_delta += delta;
            }
            charge(self, ts, tc, delta);
            break;
        case THREAD_CLOCK_NOMEM:
            self->nomemory++;
            break;
        case THREAD_CLOCK_NEW:
            if (born_in_collection(self, ts) && tc->cpu_ns > 0) {
                if (self->mode != MODE_REAL) {
                    timer_delta += tc->cpu_ns;
                }
                charge(self, ts, tc, tc->cpu_ns);
            }
            break;
        case THREAD_CLOCK_AGAIN:
            break;
        }
    }
    thread_clocks_sweep_end(&self->clocks, tick_ns);
    pthread_mutex_unlock(&self->clocks_lock);

    self->timer_ns += self->mode == MODE_REAL ? wall_delta : timer_delta;
    self->samples++;
    if (self->duration_ns && self->timer_ns >= self->duration_ns) {
        self->running = 0;
        self->expired = 1;
    }
    self->sample_time_ns += wall_ns() - t0;
    self->busy = 0;
}

/*
 * _sample(): one sweep in the calling thread (whose own stack is sampled
 * too), for the benchmark and tests that drive the clock rule step by
 * step; needs start(_arm=False).
 */
static PyObject *
sampler_sample(Sampler *self, PyObject *unused)
{
    take_sample(self, wall_ns());
    Py_RETURN_NONE;
}

/*
 * _nudge(): what the nudger thread does at its timer, made now by the
 * caller, which holds the GIL while the sampler does not wait for it: a
 * test that such a late nudge asks nothing of the holder (gilreq.c).
 */
static PyObject *
sampler_nudge(Sampler *self, PyObject *unused)
{
    if (self->thread_started) {
        gil_nudge(&self->nudger);
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ the thread */

/*
 * At the tick, before waiting for the GIL: the CPU modes read every known
 * thread's clock now (threadclock.h, thread_clocks_snapshot), so the sweep
 * charges each thread up to the tick, and the code that runs while the
 * sampler waits (a C call holding the GIL) is charged at the next tick
 * with whatever runs then.  Real mode charges up to the tick through the
 * tick's wall time (take_sample's tick_ns).
 */
static void
tick_snapshot(Sampler *self)
{
    if (self->mode == MODE_REAL) {
        return;
    }
    pthread_mutex_lock(&self->clocks_lock);
    thread_clocks_snapshot(&self->clocks);
    pthread_mutex_unlock(&self->clocks_lock);
}

static int
arm_timer(timer_t timer, int64_t interval_ns)
{
    struct itimerspec its;
    its.it_interval.tv_sec = (time_t)(interval_ns / 1000000000);
    its.it_interval.tv_nsec = (long)(interval_ns % 1000000000);
    its.it_value = its.it_interval;
    return timer_settime(timer, 0, &its, NULL);
}

/*
 * Called once the GIL is held, for the tick at wall time `tick`: the wall
 * time real mode charges up to.  Normally the tick itself (tick_snapshot).
 * But when the wait for the GIL was so long that the timer ticked again
 * meanwhile (a C call held the GIL: a long sorted()), those ticks fell in
 * the code the sample now finds (CPython checks its eval breaker right
 * after the call): the sample takes that signal now and charges up to the
 * last of those ticks (real mode: tick + ticks x interval; CPU modes:
 * thread_clocks_snapshot_advance).  Left for the next round, they would
 * charge the whole wait to whatever runs after the call; charged up to
 * now, each C call would also take the Python time before its first tick.
 * A wait shorter than interval / CPUs cannot hold a tick: no system call
 * then.  Sets *stopping when the signal taken was stop()'s.
 */
static int64_t
late_tick(Sampler *self, int64_t tick, const sigset_t *wake, int *stopping)
{
    int64_t now = wall_ns();
    if (self->running && now - tick > self->longest_wait_ns) {
        self->longest_wait_ns = now - tick;
    }
    if ((now - tick) * self->ncpu < self->interval_ns) {
        return tick;
    }
    static const struct timespec zero = {0, 0};
    siginfo_t si;
    if (sigtimedwait(wake, &si, &zero) < 0) {
        return tick;
    }
    if (atomic_load(&self->stop_request)) {
        *stopping = 1;
        return tick;
    }
    int64_t ticks = 1 + (si.si_code == SI_TIMER && si.si_overrun > 0
                         ? si.si_overrun : 0);
    self->late++;
    if (self->mode == MODE_REAL) {
        int64_t upto = tick + ticks * self->interval_ns;
        return upto < now ? upto : now;
    }
    pthread_mutex_lock(&self->clocks_lock);
    thread_clocks_snapshot_advance(&self->clocks, ticks * self->interval_ns);
    pthread_mutex_unlock(&self->clocks_lock);
    return tick;
}

/*
 * The sampler thread.  Blocks in sigwaitinfo() until the timer (or stop())
 * sends the wake signal, then takes a sample holding the GIL.  Reads
 * stop_request without the GIL; everything else of self only with it.
 */
static void *
sampler_thread(void *arg)
{
    Sampler *self = arg;
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, wake_signal());

    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = wake_signal();
    sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
    timer_t timer;
    if (timer_create(modes[self->mode].clock, &sev, &timer) != 0) {
        self->thread_errno = errno;
        sem_post(&self->ready);
        return NULL;
    }
    /* start() waits without the GIL: the thread state exists before the
       first tick, or the first sample would wait for the GIL as long as
       the program holds it and be charged to the code after */
    PyGILState_STATE gil = PyGILState_Ensure();
    self->thread_ts = PyThreadState_Get();
    PyThreadState *own = PyEval_SaveThread();
    if (arm_timer(timer, self->interval_ns) != 0) {
        self->thread_errno = errno;
        timer_delete(timer);
        PyEval_RestoreThread(own);
        self->thread_ts = NULL;
        PyGILState_Release(gil);
        sem_post(&self->ready);
        return NULL;
    }
    int rc = gil_nudger_start(&self->nudger, self->interp, wake_signal());
    if (rc != 0) {
        self->thread_errno = rc;
        timer_delete(timer);
        PyEval_RestoreThread(own);
        self->thread_ts = NULL;
        PyGILState_Release(gil);
        sem_post(&self->ready);
        return NULL;
    }
    sem_post(&self->ready);
    for (;;) {
        siginfo_t si;
        if (sigwaitinfo(&wake, &si) < 0) {
            continue;           /* EINTR: a stopped-and-continued process */
        }
        if (atomic_load(&self->stop_request)) {
            break;
        }
        int64_t tick = wall_ns();
        tick_snapshot(self);
        gil_take(&self->nudger, own);
        int stopping = 0;
        int64_t upto = late_tick(self, tick, &wake, &stopping);
        take_sample(self, upto);
        int done = self->expired || stopping;
        PyEval_SaveThread();
        if (done) {
            break;
        }
    }
    timer_delete(timer);
    gil_nudger_stop(&self->nudger);
    PyEval_RestoreThread(own);
    self->thread_ts = NULL;
    PyGILState_Release(gil);
    return NULL;
}

/*
 * Ends the sampler thread and waits for it, GIL released while waiting
 * (the thread needs the GIL to finish).  Called with the GIL held.
 */
static void
join_thread(Sampler *self)
{
    if (!self->thread_started) {
        return;
    }
    atomic_store(&self->stop_request, 1);
    pthread_kill(self->thread, wake_signal());
    pthread_t t = self->thread;
    Py_BEGIN_ALLOW_THREADS
    pthread_join(t, NULL);
    Py_END_ALLOW_THREADS
    self->thread_started = 0;
    atomic_store(&self->stop_request, 0);
}

/* Starts the thread; 0, or -1 with an exception set. */
static int
launch_thread(Sampler *self)
{
    sigset_t all, old;
    sigfillset(&all);
    self->thread_errno = 0;
    atomic_store(&self->stop_request, 0);
    /* the thread inherits the mask: no signal of the program reaches it */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&self->thread, NULL, sampler_thread, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    self->thread_started = 1;
    int r;
    Py_BEGIN_ALLOW_THREADS
    while ((r = sem_wait(&self->ready)) != 0 && errno == EINTR) {
    }
    Py_END_ALLOW_THREADS
    if (self->thread_errno) {
        Py_BEGIN_ALLOW_THREADS
        pthread_join(self->thread, NULL);
        Py_END_ALLOW_THREADS
        self->thread_started = 0;
        errno = self->thread_errno;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 0;
}

/* atexit.register(self.stop) / atexit.unregister; 0 or -1 with exception. */
static int
atexit_call(Sampler *self, const char *method)
{
    return compat_atexit(method, self->atexit_stop);
}

/*
 * The code object of threading.Thread's bootstrap method (_bootstrap; 2.7:
 * __bootstrap), the root frame of every thread the threading module
 * starts: new reference, or NULL with no error set when it cannot be found
 * (then new threads are baselined at first sight, as C threads are).
 */
static PyObject *
find_bootstrap_code(void)
{
    PyObject *code = NULL;
    PyObject *mod = PyImport_ImportModule("threading");
    PyObject *cls = mod ? PyObject_GetAttrString(mod, "Thread") : NULL;
    PyObject *meth = NULL;
    if (cls != NULL) {
        meth = PyObject_GetAttrString(cls, COMPAT_PY2 ? "_Thread__bootstrap"
                                                      : "_bootstrap");
    }
    /* 2.7: an unbound method; its function is __func__ */
    PyObject *func = meth && PyObject_HasAttrString(meth, "__func__")
                     ? PyObject_GetAttrString(meth, "__func__") : meth;
    if (func != NULL && func != meth) {
        Py_DECREF(meth);
    }
    if (func != NULL) {
        code = PyObject_GetAttrString(func, "__code__");
        Py_DECREF(func);
    }
    if (code != NULL && !PyCode_Check(code)) {
        Py_CLEAR(code);
    }
    Py_XDECREF(cls);
    Py_XDECREF(mod);
    PyErr_Clear();
    return code;
}

/* Baselines every thread's clock, so start() charges from here. */
static void
baseline_clocks(Sampler *self)
{
    pthread_mutex_lock(&self->clocks_lock);
    thread_clocks_release(&self->clocks);
    pthread_mutex_unlock(&self->clocks_lock);
    int busy = self->busy, running = self->running;
    uint64_t samples = self->samples;
    int64_t sample_time_ns = self->sample_time_ns;
    self->busy = 0;
    self->running = 1;
    self->baselining = 1;
    take_sample(self, wall_ns());   /* every thread is new: charges nothing */
    self->baselining = 0;
    self->samples = samples;
    self->sample_time_ns = sample_time_ns;
    self->running = running;
    self->busy = busy;
}

static PyObject *
sampler_start(Sampler *self, PyObject *args, PyObject *kwargs)
{
    /* _arm=False: everything but the thread, for benchmarks and tests that
       call _sample directly */
    static char *kwlist[] = {"duration", "_arm", NULL};
    PyObject *duration_obj = Py_None;
    int do_arm = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O" COMPAT_FMT_BOOL ":start", kwlist,
                                     &duration_obj, &do_arm)) {
        return NULL;
    }
    int64_t duration_ns = 0;
    if (duration_obj != Py_None) {
        double d = PyFloat_AsDouble(duration_obj);
        if (d == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        if (!(d > 0) || d > 1e9) {
            compat_err_format(PyExc_ValueError,
                         "duration must be a positive number of seconds or "
                         "None, not %R", duration_obj);
            return NULL;
        }
        duration_ns = (int64_t)(d * 1e9);
    }
    if (self->running || self->starting) {
        PyErr_SetString(PyExc_RuntimeError, "collector is already running");
        return NULL;
    }
    /* a thread that ended by itself (duration) is joined first */
    join_thread(self);
    self->interp = PyThreadState_Get()->interp;
    if (self->bootstrap_code == NULL) {
        self->bootstrap_code = find_bootstrap_code();
    }
    self->timer_ns = 0;
    self->duration_ns = duration_ns;
    self->expired = 0;
    if (do_arm) {
        if (self->atexit_stop == NULL) {
            self->atexit_stop = PyObject_GetAttrString((PyObject *)self,
                                                       "stop");
            if (self->atexit_stop == NULL
                || atexit_call(self, "register") < 0) {
                Py_CLEAR(self->atexit_stop);
                return NULL;
            }
        }
        compat_init_threads();
        self->starting = 1;
        int rc = launch_thread(self);
        self->starting = 0;
        if (rc < 0) {
            return NULL;
        }
    }
    baseline_clocks(self);
    self->running = 1;
    Py_RETURN_NONE;
}

/*
 * Stops sampling, from any thread: no sample is taken after it returns.
 * Waits for the sampler thread to end (at most one sample's time).
 */
static PyObject *
sampler_stop(Sampler *self, PyObject *unused)
{
    self->running = 0;
    join_thread(self);
    if (self->atexit_stop != NULL) {
        int rc = atexit_call(self, "unregister");
        Py_CLEAR(self->atexit_stop);
        if (rc < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ reading */

/* Drops the table's references; the table must already be detached. */
static void
release_table(struct stacktab *t, size_t step)
{
    size_t pos = 0;
    struct stacktab_entry *e;
    while ((e = stacktab_next(t, &pos)) != NULL) {
        for (size_t i = 0; i < e->len; i += step) {
            if (e->key[i] != FRAMES_TRUNCATED) {
                Py_DECREF((PyObject *)e->key[i]);
            }
        }
    }
    stacktab_release(t);
}

/*
 * Empties the table.  It is detached first, then released: dropping a
 * reference can run arbitrary code (finalizers), which may reach a
 * bytecode boundary and take a sample into the fresh table.
 */
static PyObject *
sampler_reset(Sampler *self, PyObject *unused)
{
    if (self->busy) {
        /* another thread is building stack_counts from this very table */
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot reset the collector while its stack_counts "
                        "are being read");
        return NULL;
    }
    struct stacktab old = self->tab;
    stacktab_init(&self->tab, old.max_entries);
    self->tab_gen++;
    self->overflow = 0;
    self->late = 0;
    self->longest_wait_ns = 0;
    self->nomemory = 0;
    self->samples = 0;
    self->sample_time_ns = 0;
    release_table(&old, stride(self));
    Py_RETURN_NONE;
}

static PyObject *
plop_frame(const char *name)
{
    return Py_BuildValue("(sis)", "<plop>", 0, name);
}

/*
 * (co_filename, line, name): new reference.  The name is co_qualname where
 * the interpreter has one (3.11+: 'Worker.run'), so two methods of one
 * name in one file stay apart; co_name before.
 */
static PyObject *
code_frame(PyCodeObject *co, int line)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *name = co->co_qualname;
#else
    PyObject *name = co->co_name;
#endif
    return Py_BuildValue("(OiO)", co->co_filename, line, name);
}

/* The frame tuple for key words at e->key[i]; new reference. */
static PyObject *
frame_tuple(Sampler *self, const uintptr_t *w, PyObject *cache)
{
    if (w[0] == FRAMES_TRUNCATED) {
        return plop_frame(truncated_name);
    }
    PyCodeObject *co = (PyCodeObject *)w[0];
    if (self->lines) {
        return code_frame(co, frames_line(co, (intptr_t)w[1]));
    }
    PyObject *k = PyLong_FromVoidPtr(co);
    if (k == NULL) {
        return NULL;
    }
    PyObject *t = PyDict_GetItemWithError(cache, k);
    if (t != NULL) {
        Py_DECREF(k);
        Py_INCREF(t);
        return t;
    }
    if (PyErr_Occurred() || (t = code_frame(co, co->co_firstlineno)) == NULL
        || PyDict_SetItem(cache, k, t) < 0) {
        Py_DECREF(k);
        Py_XDECREF(t);
        return NULL;
    }
    Py_DECREF(k);
    return t;
}

/* dict[key] += n */
static int
dict_add(PyObject *dict, PyObject *key, uint64_t n)
{
    PyObject *count = compat_int_from_u64(n);
    if (count == NULL) {
        return -1;
    }
    PyObject *old = PyDict_GetItemWithError(dict, key);
    if (old != NULL) {
        PyObject *sum = PyNumber_Add(old, count);
        Py_DECREF(count);
        if (sum == NULL) {
            return -1;
        }
        count = sum;
    }
    else if (PyErr_Occurred()) {
        Py_DECREF(count);
        return -1;
    }
    int rc = PyDict_SetItem(dict, key, count);
    Py_DECREF(count);
    return rc;
}

/* dict[((<plop>, 0, name),)] += n when n > 0 */
static int
add_plop_stack(PyObject *dict, const char *name, uint64_t n)
{
    if (n == 0) {
        return 0;
    }
    PyObject *f = plop_frame(name);
    if (f == NULL) {
        return -1;
    }
    PyObject *stack = PyTuple_Pack(1, f);
    Py_DECREF(f);
    int rc = stack ? dict_add(dict, stack, n) : -1;
    Py_XDECREF(stack);
    return rc;
}

static PyObject *
build_counts(Sampler *self)
{
    PyObject *dict = PyDict_New();
    PyObject *cache = PyDict_New();
    PyObject *stack = NULL;
    if (dict == NULL || cache == NULL) {
        goto error;
    }
    size_t pos = 0;
    struct stacktab_entry *e;
    while ((e = stacktab_next(&self->tab, &pos)) != NULL) {
        Py_ssize_t nframes = (Py_ssize_t)(e->len / stride(self));
        stack = PyTuple_New(nframes);
        if (stack == NULL) {
            goto error;
        }
        for (Py_ssize_t i = 0; i < nframes; i++) {
            PyObject *f = frame_tuple(self, &e->key[(size_t)i * stride(self)],
                                      cache);
            if (f == NULL) {
                goto error;
            }
            PyTuple_SET_ITEM(stack, i, f);
        }
        if (dict_add(dict, stack, e->count) < 0) {
            goto error;
        }
        Py_CLEAR(stack);
    }
    if (add_plop_stack(dict, overflow_name, self->overflow) < 0
        || add_plop_stack(dict, nomemory_name, self->nomemory) < 0) {
        goto error;
    }
    Py_DECREF(cache);
    return dict;
error:
    Py_XDECREF(stack);
    Py_XDECREF(cache);
    Py_XDECREF(dict);
    return NULL;
}

/*
 * A snapshot of the counts as a new dict {stack: count}.  Samples that
 * arrive while it is built (a finalizer can reach a bytecode boundary) are
 * skipped, and their time goes to the next sample.
 */
static PyObject *
sampler_stack_counts(Sampler *self, PyObject *unused)
{
    int was_busy = self->busy;
    self->busy = 1;
    PyObject *d = build_counts(self);
    self->busy = was_busy;
    return d;
}

/*
 * After fork(), in the child: neither the sampler thread nor its timer
 * exists here (CPython deleted the thread's state), and the parent's
 * samples and thread clocks mean nothing.  Forgets the thread without
 * joining it, unregisters the atexit stop and empties the table, so the
 * child can start afresh.
 */
static PyObject *
sampler_after_fork_child(Sampler *self, PyObject *unused)
{
    self->running = 0;
    self->busy = 0;
    self->thread_started = 0;
    self->thread_ts = NULL;
    self->nudger.started = 0;   /* neither thread nor timer is inherited */
    atomic_store(&self->stop_request, 0);
    sem_destroy(&self->ready);
    sem_init(&self->ready, 0, 0);
    /* the parent's sampler thread may have held it at the fork */
    pthread_mutex_init(&self->clocks_lock, NULL);
    thread_clocks_release(&self->clocks);
    if (self->atexit_stop != NULL) {
        int rc = atexit_call(self, "unregister");
        Py_CLEAR(self->atexit_stop);
        if (rc < 0) {
            return NULL;
        }
    }
    return sampler_reset(self, NULL);
}

#if PY_VERSION_HEX < 0x03070000
/*
 * os.register_at_fork(), through which plop.sampling calls
 * _after_fork_child() in a forked child, is 3.7+.  Before, a
 * pthread_atfork() child handler counts forks (it only increments: safe
 * in the child of a threaded process), and a Sampler that finds the count
 * changed when any of its attributes is next looked up does what
 * _after_fork_child() does first.
 */
static volatile sig_atomic_t fork_count;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
count_fork(void)
{
    fork_count++;
}

static void
register_atfork(void)
{
    pthread_atfork(NULL, NULL, count_fork);
}

static PyObject *
sampler_getattro(Sampler *self, PyObject *name)
{
    if (self->forks_seen != fork_count) {
        self->forks_seen = fork_count;
        PyObject *r = sampler_after_fork_child(self, NULL);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
    }
    return PyObject_GenericGetAttr((PyObject *)self, name);
}
#endif

/* ------------------------------------------------------------ the type */

static PyObject *
sampler_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"mode", "interval", "lines", "max_stacks",
                             "max_depth", NULL};
    const char *mode_name = "virtual";
    double interval = 0.01;
    int lines = 0;
    Py_ssize_t max_stacks = 100000, max_depth = 1024;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|sd" COMPAT_FMT_BOOL "nn:Sampler", kwlist,
                                     &mode_name, &interval, &lines,
                                     &max_stacks, &max_depth)) {
        return NULL;
    }
    int mode = -1;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(mode_name, modes[i].name) == 0) {
            mode = (int)i;
        }
    }
    if (mode < 0) {
        PyErr_Format(PyExc_ValueError,
                     "unknown mode '%s' (expected 'prof', 'virtual' or "
                     "'real')", mode_name);
        return NULL;
    }
    if (!(interval >= 1e-6 && interval <= 1e6)) {
        PyErr_SetString(PyExc_ValueError,
                        "interval must be between 1e-06 and 1e+06 seconds");
        return NULL;
    }
    if (max_stacks < 0 || max_depth < 1 || max_depth > 100000) {
        PyErr_SetString(PyExc_ValueError,
                        "max_stacks must be >= 0 (0: no cap) and max_depth "
                        "between 1 and 100000");
        return NULL;
    }
    Sampler *self = (Sampler *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->mode = (enum sampler_mode)mode;
#if PY_VERSION_HEX < 0x03070000
    pthread_once(&atfork_once, register_atfork);
    self->forks_seen = fork_count;
#endif
    self->interval = interval;
    self->interval_ns = (int64_t)(interval * 1e9);
    self->lines = lines;
    self->max_depth = (size_t)max_depth;
    stacktab_init(&self->tab, (size_t)max_stacks);
    thread_clocks_init(&self->clocks, mode == MODE_REAL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    self->ncpu = ncpu > 0 ? ncpu : 1;
    pthread_mutex_init(&self->clocks_lock, NULL);
    sem_init(&self->ready, 0, 0);
    self->buf = PyMem_Malloc(((size_t)max_depth + 1) * 2 * sizeof(uintptr_t));
    if (self->buf == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void
sampler_dealloc(Sampler *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    /* a running thread keeps self alive through atexit_stop, so only one
       that ended by itself (duration) can be left to join here */
    self->running = 0;
    join_thread(self);
    Py_CLEAR(self->atexit_stop);
    Py_CLEAR(self->bootstrap_code);
    sem_destroy(&self->ready);
    pthread_mutex_destroy(&self->clocks_lock);
    struct stacktab old = self->tab;
    stacktab_init(&self->tab, 0);
    release_table(&old, stride(self));
    thread_clocks_release(&self->clocks);
    PyMem_Free(self->buf);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
get_samples(Sampler *self, void *unused)
{
    return compat_int_from_u64(self->samples);
}

static PyObject *
get_sample_time(Sampler *self, void *unused)
{
    return PyFloat_FromDouble((double)self->sample_time_ns / 1e9);
}

static PyObject *
get_timer_time(Sampler *self, void *unused)
{
    return PyFloat_FromDouble((double)self->timer_ns / 1e9);
}

static PyObject *
get_running(Sampler *self, void *unused)
{
    return PyBool_FromLong(self->running);
}

static PyObject *
get_overflow(Sampler *self, void *unused)
{
    return compat_int_from_u64(self->overflow);
}

static PyObject *
get_late(Sampler *self, void *unused)
{
    return compat_int_from_u64(self->late);
}

static PyObject *
get_longest_wait(Sampler *self, void *unused)
{
    return PyFloat_FromDouble((double)self->longest_wait_ns / 1e9);
}

static PyObject *
get_nomemory(Sampler *self, void *unused)
{
    return compat_int_from_u64(self->nomemory);
}

static PyObject *
get_fail_allocs(Sampler *self, void *unused)
{
    return PyLong_FromLongLong(self->fail_allocs);
}

static int
set_fail_allocs(Sampler *self, PyObject *value, void *unused)
{
    long long n = value ? PyLong_AsLongLong(value) : 0;
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    self->fail_allocs = n;
    return 0;
}

static PyObject *
get_unique_stacks(Sampler *self, void *unused)
{
    return compat_int_from_u64(self->tab.len);
}

static PyObject *
get_total(Sampler *self, void *unused)
{
    return compat_int_from_u64(stacktab_total(&self->tab)
                                       + self->overflow + self->nomemory);
}

static PyObject *
get_mode(Sampler *self, void *unused)
{
    return compat_str_from_string(modes[self->mode].name);
}

static PyObject *
get_interval(Sampler *self, void *unused)
{
    return PyFloat_FromDouble(self->interval);
}

static PyObject *
get_lines(Sampler *self, void *unused)
{
    return PyBool_FromLong(self->lines);
}

static PyObject *
get_max_stacks(Sampler *self, void *unused)
{
    return compat_int_from_u64(self->tab.max_entries);
}

static PyObject *
get_max_depth(Sampler *self, void *unused)
{
    return compat_int_from_u64(self->max_depth);
}

static PyGetSetDef sampler_getset[] = {
    {"samples_taken", (getter)get_samples, NULL,
     "number of samples taken", NULL},
    {"sample_time", (getter)get_sample_time, NULL,
     "seconds spent inside the sampler", NULL},
    {"timer_time", (getter)get_timer_time, NULL,
     "seconds of timer time (CPU or wall) since start()", NULL},
    {"running", (getter)get_running, NULL, "samples are being taken", NULL},
    {"overflow", (getter)get_overflow, NULL,
     "counts that found no room (max_stacks reached)", NULL},
    {"late_samples", (getter)get_late, NULL,
     "samples whose wait for the GIL outlasted a tick of the timer", NULL},
    {"longest_wait", (getter)get_longest_wait, NULL,
     "the longest wait for the GIL at a tick, in seconds", NULL},
    {"nomemory", (getter)get_nomemory, NULL,
     "counts lost because memory ran out in the sampler", NULL},
    {"_fail_allocs", (getter)get_fail_allocs, (setter)set_fail_allocs,
     "test hook: the next n additions to the table fail as out of memory",
     NULL},
    {"unique_stacks", (getter)get_unique_stacks, NULL,
     "number of distinct stacks stored", NULL},
    {"total_counts", (getter)get_total, NULL,
     "sum of every count, overflow and nomemory included", NULL},
    {"mode", (getter)get_mode, NULL, NULL, NULL},
    {"interval", (getter)get_interval, NULL, NULL, NULL},
    {"lines", (getter)get_lines, NULL, NULL, NULL},
    {"max_stacks", (getter)get_max_stacks, NULL, NULL, NULL},
    {"max_depth", (getter)get_max_depth, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef sampler_methods[] = {
    {"start", (PyCFunction)(void (*)(void))sampler_start,
     METH_VARARGS | METH_KEYWORDS,
     "start(duration=None): start the sampler thread"
     " (_arm=False: all but the thread, for benchmarks and tests)"},
    {"stop", (PyCFunction)sampler_stop, METH_NOARGS,
     "stop(): stop sampling and end the sampler thread (any thread)"},
    {"reset", (PyCFunction)sampler_reset, METH_NOARGS,
     "reset(): forget every sample"},
    {"stack_counts", (PyCFunction)sampler_stack_counts, METH_NOARGS,
     "stack_counts(): a new dict {stack: count}"},
    {"_sample", (PyCFunction)sampler_sample, METH_NOARGS,
     "_sample(): one sweep in the calling thread (benchmarks, tests)"},
    {"_nudge", (PyCFunction)sampler_nudge, METH_NOARGS,
     "_nudge(): one GIL drop request as the nudger makes it (tests)"},
    {"_after_fork_child", (PyCFunction)sampler_after_fork_child, METH_NOARGS,
     "_after_fork_child(): forget everything inherited from the parent"},
    {NULL, NULL, 0, NULL},
};

/* void * slots: see the note in module.c */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
static PyType_Slot sampler_slots[] = {
    {Py_tp_new, (void *)sampler_new},
    {Py_tp_dealloc, (void *)sampler_dealloc},
    {Py_tp_methods, sampler_methods},
    {Py_tp_getset, sampler_getset},
#if PY_VERSION_HEX < 0x03070000
    {Py_tp_getattro, (void *)sampler_getattro},
#endif
    {Py_tp_doc, (void *)"Sampler(mode='virtual', interval=0.01, lines=False, "
                        "max_stacks=100000, max_depth=1024): the C core of "
                        "plop.collector.Collector"},
    {0, NULL},
};
#pragma GCC diagnostic pop

static PyType_Spec sampler_spec = {
    .name = "plop._collector.Sampler",
    .basicsize = sizeof(Sampler),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = sampler_slots,
};

PyObject *
sampler_type_new(PyObject *module)
{
    return PyType_FromSpec(&sampler_spec);
}
