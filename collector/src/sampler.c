/*
 * sampler.c: the Sampler type, plop's sampling core.
 *
 * How a sample is taken (the design, and why):
 *
 *   An interval timer (setitimer ITIMER_PROF, ITIMER_VIRTUAL or ITIMER_REAL)
 *   raises SIGPROF, SIGVTALRM or SIGALRM.  The Python-level handler of that
 *   signal, installed with signal.signal(), is the bound C method
 *   Sampler._sample.  So the handler that really runs in signal context is
 *   CPython's own, which only trips a flag (async-signal-safe); the eval
 *   loop then calls _sample at the next bytecode boundary, in the main
 *   thread, holding the GIL.  Nothing of ours runs in signal context, and
 *   Py_AddPendingCall, which takes a blocking lock since 3.8 and can
 *   deadlock in a handler, is never used.  The cost: a sample waits for a
 *   bytecode boundary, so a long C call holding the GIL delays it; the
 *   weighting below charges the delay to the stack that caused it.
 *
 *   _sample walks every thread state of the interpreter and reads each
 *   thread's frames (frames.c) into a scratch buffer of code object
 *   pointers (plus instruction offsets with lines=True), which is the key
 *   of the stack table (stacktab.c).  A stack already seen costs one hash
 *   and a compare: no allocation, no Python object.  Python objects are
 *   built only when stack_counts() is read.  The table holds a strong
 *   reference to every code object of its keys (taken when a key is new,
 *   dropped by reset() and dealloc), so a pointer in a key never dangles.
 *
 *   Weighting: a sample counts for the time that really elapsed.  In the
 *   CPU modes each thread is charged the CPU time its own clock advanced
 *   since the previous sample (threadclock.c), so an idle thread is
 *   charged nothing and a sample delayed by a long C call is charged the
 *   whole call; in real mode every thread running Python code is charged
 *   the wall time elapsed.  The charge is converted to whole intervals;
 *   each thread carries the remainder to its next sample.
 *
 *   Bounds: at most max_stacks unique stacks (beyond, the weight goes to
 *   an overflow count reported as a stack of its own); at most max_depth
 *   frames per stack (the root-most frames beyond it are replaced by one
 *   truncation frame).
 *
 *   start() refuses to take over a signal that already has a handler other
 *   than SIG_DFL or SIG_IGN, or a timer that is already armed; stop()
 *   disarms the timer and restores the previous handler.
 *
 *   Signals reach the main thread (sigforward.c), and the handler is
 *   installed without SA_RESTART, as CPython installs its own: a blocking
 *   call of the main thread (a join, a lock, a read, a sleep) must be
 *   interrupted for CPython to run the sampler, or nothing is sampled
 *   while the main thread waits, however busy the other threads are.
 *   CPython retries interrupted calls itself (PEP 475), so Python code
 *   never sees InterruptedError; C extensions that do not retry on EINTR
 *   may see it, as they would with any Python signal handler.
 */
#include "sampler.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "frames.h"
#include "pycompat.h"
#include "sigforward.h"
#include "stacktab.h"
#include "threadclock.h"

enum sampler_mode { MODE_PROF, MODE_VIRTUAL, MODE_REAL };

static const struct {
    const char *name;
    int which;
    int signum;
    const char *which_name;
    const char *signame;
} modes[] = {
    [MODE_PROF] = {"prof", ITIMER_PROF, SIGPROF, "ITIMER_PROF", "SIGPROF"},
    [MODE_VIRTUAL] = {"virtual", ITIMER_VIRTUAL, SIGVTALRM, "ITIMER_VIRTUAL",
                      "SIGVTALRM"},
    [MODE_REAL] = {"real", ITIMER_REAL, SIGALRM, "ITIMER_REAL", "SIGALRM"},
};

typedef struct {
    PyObject_HEAD
    enum sampler_mode mode;
    int64_t interval_ns;
    double interval;
    int lines;
    size_t max_depth;
    struct stacktab tab;         /* holds a reference per code object key */
    struct thread_clocks clocks;
    uintptr_t *buf;              /* scratch key, (max_depth + 1) * 2 words */
    uint64_t overflow;           /* counts that found no room in tab */
    uint64_t samples;            /* calls of _sample that took a sample */
    int64_t sample_time_ns;      /* time spent inside _sample */
    int64_t timer_ns;            /* timer time since start() */
    int64_t duration_ns;         /* 0: unlimited */
    int64_t last_wall_ns;
    int running;                 /* timer armed, samples are taken */
    int installed;               /* our handler is the signal's handler */
    int busy;                    /* tab is being read or cleared */
    PyObject *prev_handler;      /* strong; what stop() restores */
} Sampler;

/* thread_clock.last_ns of a thread that ran no Python code last time */
#define CLOCK_STALE ((int64_t)-2)

static const char overflow_name[] = "<overflow>";
static const char truncated_name[] = "<truncated>";

static inline size_t
stride(const Sampler *self)
{
    return self->lines ? 2 : 1;
}

/* ------------------------------------------------------------ the sample */

/*
 * Charges `delta_ns` of thread time (plus its carry) to the thread's
 * current stack.  Reads the frames only when the charge makes at least one
 * whole interval.
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
    size_t n = frames_collect(ts, self->buf, self->max_depth, self->lines);
    if (n == 0) {
        return;
    }
    struct stacktab_entry *e;
    switch (stacktab_add(&self->tab, self->buf, n, units, &e)) {
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
    case STACKTAB_NOMEM:
        self->overflow += units;
        break;
    }
}

static int sampler_disarm(Sampler *self);

/* Records where every thread's CPU clock is, so start() charges from here. */
static void
baseline_clocks(Sampler *self)
{
    thread_clocks_sweep_begin(&self->clocks);
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_Get()->interp);
    for (size_t i = 0; ts; ts = PyThreadState_Next(ts), i++) {
        if (ts->thread_id == 0) {
            continue;
        }
        struct thread_clock *tc = thread_clocks_get(&self->clocks,
                                                    ts->thread_id, ts, i);
        if (tc) {
            tc->last_ns = self->mode == MODE_REAL ? 0 : thread_cpu_ns(ts->thread_id);
            tc->carry_ns = 0;
        }
    }
    thread_clocks_sweep_end(&self->clocks);
}

/*
 * The signal handler, called by CPython's signal machinery in the main
 * thread with the GIL held.  Cost: per thread, one CPU clock read (CPU
 * modes) and, when the thread is charged, one walk of its frames and one
 * table lookup.  Never raises: a failure to restore the handler when the
 * duration runs out is reported as unraisable.
 */
static PyObject *
sampler_sample(Sampler *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!self->running || self->busy) {
        Py_RETURN_NONE;
    }
    self->busy = 1;
    int64_t t0 = wall_ns();
    int64_t wall = t0 - self->last_wall_ns;
    int64_t timer_delta = self->mode == MODE_REAL ? wall : 0;
    self->last_wall_ns = t0;

    thread_clocks_sweep_begin(&self->clocks);
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_Get()->interp);
    for (size_t i = 0; ts; ts = PyThreadState_Next(ts), i++) {
        /* 0: a thread state whose thread has not started yet (3.12+) */
        if (ts->thread_id == 0) {
            continue;
        }
        struct thread_clock *tc = thread_clocks_get(&self->clocks,
                                                    ts->thread_id, ts, i);
        if (tc == NULL) {
            continue;
        }
        /*
         * A thread running no Python code cannot be charged, so its clock
         * is not read (a system call each); the CPU it spends in C until it
         * runs Python again is not charged to the stack it comes back to.
         */
        if (!frames_active(ts)) {
            tc->last_ns = CLOCK_STALE;
            tc->carry_ns = 0;
            continue;
        }
        int64_t delta = wall;
        if (self->mode != MODE_REAL) {
            int64_t cpu = thread_cpu_ns(ts->thread_id);
            if (cpu < 0) {
                continue;
            }
            if (tc->last_ns == CLOCK_STALE) {
                delta = 0;
            }
            else if (tc->last_ns < 0 || cpu < tc->last_ns) {
                /*
                 * A thread first seen now started after the previous
                 * sample: all its CPU time is new.  A clock that went
                 * backwards is a new thread that reuses a finished
                 * thread's id.
                 */
                delta = cpu;
            }
            else {
                delta = cpu - tc->last_ns;
            }
            tc->last_ns = cpu;
            timer_delta += delta;
        }
        charge(self, ts, tc, delta);
    }
    thread_clocks_sweep_end(&self->clocks);

    self->timer_ns += timer_delta;
    self->samples++;
    if (self->duration_ns && self->timer_ns >= self->duration_ns) {
        if (sampler_disarm(self) < 0) {
            PyErr_WriteUnraisable((PyObject *)self);
        }
    }
    self->sample_time_ns += wall_ns() - t0;
    self->busy = 0;
    Py_RETURN_NONE;
}
COMPAT_FASTCALL_WRAPPER(sampler_sample)

/* ------------------------------------------------------------ start/stop */

/* Nonzero when handler is the _sample method of some Sampler. */
static int
is_sampler_handler(PyObject *handler)
{
    return PyCFunction_Check(handler)
           && PyCFunction_GET_FUNCTION(handler)
                  == COMPAT_FASTCALL_FUNC(sampler_sample);
}

/*
 * signal.signal and signal.getsignal as they were when first needed: the
 * command line replaces signal.signal in the profiled program by a guard
 * that refuses the sampling signal, which must not stop us restoring it.
 * Strong references, kept for the life of the process.
 */
static PyObject *signal_signal, *signal_getsignal;

static int
load_signal_funcs(void)
{
    if (signal_signal && signal_getsignal) {
        return 0;
    }
    PyObject *mod = PyImport_ImportModule("signal");
    if (mod == NULL) {
        return -1;
    }
    if (signal_signal == NULL) {
        signal_signal = PyObject_GetAttrString(mod, "signal");
    }
    if (signal_getsignal == NULL) {
        signal_getsignal = PyObject_GetAttrString(mod, "getsignal");
    }
    Py_DECREF(mod);
    return signal_signal && signal_getsignal ? 0 : -1;
}

/* signal.signal(signum, handler): returns the previous handler (new ref). */
static PyObject *
set_handler(int signum, PyObject *handler)
{
    if (load_signal_funcs() < 0) {
        return NULL;
    }
    return PyObject_CallFunction(signal_signal, "iO", signum, handler);
}

static PyObject *
get_handler(int signum)
{
    if (load_signal_funcs() < 0) {
        return NULL;
    }
    return PyObject_CallFunction(signal_getsignal, "i", signum);
}

/* Nonzero when h is signal.SIG_DFL or signal.SIG_IGN (ints, or Handlers). */
static int
is_default_handler(PyObject *h)
{
    if (!compat_int_check(h)) {
        return 0;
    }
    long v = PyLong_AsLong(h);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return v == (long)(intptr_t)SIG_DFL || v == (long)(intptr_t)SIG_IGN;
}

/*
 * Checks that the signal and the timer are free for us: no Python handler
 * of someone else, no C handler installed outside Python, no timer armed.
 */
static int
check_free(Sampler *self, PyObject *current)
{
    const char *sig = modes[self->mode].signame;
    if (is_sampler_handler(current)) {
        PyErr_Format(PyExc_RuntimeError,
                     "signal '%s' is already used by another plop collector "
                     "(mode '%s')", sig, modes[self->mode].name);
        return -1;
    }
    if (current == Py_None) {
        struct sigaction sa;
        if (sigaction(modes[self->mode].signum, NULL, &sa) == 0
            && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN) {
            PyErr_Format(PyExc_RuntimeError,
                         "signal '%s' has a handler installed outside Python; "
                         "plop will not replace it (use another mode)", sig);
            return -1;
        }
    }
    else if (!is_default_handler(current)) {
        compat_err_format(PyExc_RuntimeError,
                     "signal '%s' already has a handler (%R); plop will not "
                     "replace it (use another mode, or remove the handler)",
                     sig, current);
        return -1;
    }
    struct itimerval it;
    if (getitimer(modes[self->mode].which, &it) == 0
        && (it.it_value.tv_sec || it.it_value.tv_usec)) {
        PyErr_Format(PyExc_RuntimeError,
                     "timer '%s' is already armed by the program; plop will "
                     "not take it over (use another mode)",
                     modes[self->mode].which_name);
        return -1;
    }
    return 0;
}

static int
arm(Sampler *self, double seconds)
{
    struct itimerval it;
    int64_t us = (int64_t)(seconds * 1e6);
    if (seconds > 0 && us < 1) {
        us = 1;
    }
    it.it_interval.tv_sec = (time_t)(us / 1000000);
    it.it_interval.tv_usec = (suseconds_t)(us % 1000000);
    it.it_value = it.it_interval;
    if (setitimer(modes[self->mode].which, &it, NULL) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 0;
}

/*
 * Stops sampling: disarms the timer, then restores the previous handler.
 * The timer is off even when restoring fails (e.g. stop() called from
 * another thread, which signal.signal() refuses); a later stop() from the
 * main thread retries.
 */
static int
sampler_disarm(Sampler *self)
{
    if (self->running) {
        self->running = 0;
        if (arm(self, 0) < 0) {
            return -1;
        }
        sigforward_quiesce(modes[self->mode].signum);
    }
    if (self->installed) {
        PyObject *cur = get_handler(modes[self->mode].signum);
        if (cur == NULL) {
            return -1;
        }
        /*
         * Someone installed another handler while we ran: it is theirs
         * now, and restoring ours over it would break their program.
         */
        int ours = is_sampler_handler(cur)
                   && PyCFunction_GET_SELF(cur) == (PyObject *)self;
        Py_DECREF(cur);
        if (ours) {
            PyObject *prev = set_handler(modes[self->mode].signum,
                                         self->prev_handler
                                             ? self->prev_handler
                                             : Py_None);
            if (prev == NULL) {
                return -1;
            }
            Py_DECREF(prev);
        }
        self->installed = 0;
        Py_CLEAR(self->prev_handler);
    }
    return 0;
}

static PyObject *
sampler_start(Sampler *self, PyObject *args, PyObject *kwargs)
{
    /* _arm=False: everything but the timer, for benchmarks that call
       _sample directly */
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
    if (self->running) {
        PyErr_SetString(PyExc_RuntimeError, "collector is already running");
        return NULL;
    }
    int signum = modes[self->mode].signum;
    if (!self->installed) {
        PyObject *current = get_handler(signum);
        if (current == NULL) {
            return NULL;
        }
        int bad = check_free(self, current);
        Py_DECREF(current);
        if (bad) {
            return NULL;
        }
        PyObject *handler = PyObject_GetAttrString((PyObject *)self, "_sample");
        if (handler == NULL) {
            return NULL;
        }
        PyObject *prev = set_handler(signum, handler);
        Py_DECREF(handler);
        if (prev == NULL) {
            return NULL;
        }
        self->prev_handler = prev;
        self->installed = 1;
        if (sigforward_install(signum) < 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            if (sampler_disarm(self) < 0) {
                PyErr_WriteUnraisable((PyObject *)self);
            }
            return NULL;
        }
    }
    baseline_clocks(self);
    self->last_wall_ns = wall_ns();
    self->timer_ns = 0;
    self->duration_ns = duration_ns;
    self->running = 1;
    if (do_arm && arm(self, self->interval) < 0) {
        PyObject *type, *value, *tb;
        self->running = 0;
        PyErr_Fetch(&type, &value, &tb);
        if (sampler_disarm(self) < 0) {
            PyErr_Clear();
        }
        PyErr_Restore(type, value, tb);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
sampler_stop(Sampler *self, PyObject *unused)
{
    if (sampler_disarm(self) < 0) {
        return NULL;
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
    self->overflow = 0;
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

/* (co_filename, line, co_name): new reference. */
static PyObject *
code_frame(PyCodeObject *co, int line)
{
    return Py_BuildValue("(OiO)", co->co_filename, line, co->co_name);
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
    PyObject *count = PyLong_FromUnsignedLongLong(n);
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
    if (self->overflow) {
        PyObject *f = plop_frame(overflow_name);
        if (f == NULL) {
            goto error;
        }
        stack = PyTuple_Pack(1, f);
        Py_DECREF(f);
        if (stack == NULL || dict_add(dict, stack, self->overflow) < 0) {
            goto error;
        }
        Py_CLEAR(stack);
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
 * After fork(), in the child: the timer is not inherited, and the parent's
 * samples and thread clocks mean nothing here.  Stops, restores the
 * handler and empties the table, so the child can start afresh.
 */
static PyObject *
sampler_after_fork_child(Sampler *self, PyObject *unused)
{
    self->running = 0;
    self->busy = 0;
    thread_clocks_release(&self->clocks);
    if (sampler_disarm(self) < 0) {
        return NULL;
    }
    return sampler_reset(self, NULL);
}

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
    self->interval = interval;
    self->interval_ns = (int64_t)(interval * 1e9);
    self->lines = lines;
    self->max_depth = (size_t)max_depth;
    stacktab_init(&self->tab, (size_t)max_stacks);
    thread_clocks_init(&self->clocks);
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
    if (self->running) {
        self->running = 0;
        struct itimerval off;
        memset(&off, 0, sizeof(off));
        setitimer(modes[self->mode].which, &off, NULL);
    }
    Py_CLEAR(self->prev_handler);
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
    return PyLong_FromUnsignedLongLong(self->samples);
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
    return PyLong_FromUnsignedLongLong(self->overflow);
}

static PyObject *
get_unique_stacks(Sampler *self, void *unused)
{
    return PyLong_FromSize_t(self->tab.len);
}

static PyObject *
get_total(Sampler *self, void *unused)
{
    return PyLong_FromUnsignedLongLong(stacktab_total(&self->tab)
                                       + self->overflow);
}

static PyObject *
get_mode(Sampler *self, void *unused)
{
    return compat_str_from_string(modes[self->mode].name);
}

static PyObject *
get_signum(Sampler *self, void *unused)
{
    return PyLong_FromLong(modes[self->mode].signum);
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
    return PyLong_FromSize_t(self->tab.max_entries);
}

static PyObject *
get_max_depth(Sampler *self, void *unused)
{
    return PyLong_FromSize_t(self->max_depth);
}

static PyGetSetDef sampler_getset[] = {
    {"samples_taken", (getter)get_samples, NULL,
     "number of samples taken", NULL},
    {"sample_time", (getter)get_sample_time, NULL,
     "seconds spent inside the sampler", NULL},
    {"timer_time", (getter)get_timer_time, NULL,
     "seconds of timer time (CPU or wall) since start()", NULL},
    {"running", (getter)get_running, NULL, "the timer is armed", NULL},
    {"overflow", (getter)get_overflow, NULL,
     "counts that found no room (max_stacks reached)", NULL},
    {"unique_stacks", (getter)get_unique_stacks, NULL,
     "number of distinct stacks stored", NULL},
    {"total_counts", (getter)get_total, NULL,
     "sum of every count, overflow included", NULL},
    {"mode", (getter)get_mode, NULL, NULL, NULL},
    {"signum", (getter)get_signum, NULL, NULL, NULL},
    {"interval", (getter)get_interval, NULL, NULL, NULL},
    {"lines", (getter)get_lines, NULL, NULL, NULL},
    {"max_stacks", (getter)get_max_stacks, NULL, NULL, NULL},
    {"max_depth", (getter)get_max_depth, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef sampler_methods[] = {
    {"start", (PyCFunction)(void (*)(void))sampler_start,
     METH_VARARGS | METH_KEYWORDS,
     "start(duration=None): install the handler and arm the timer"
     " (_arm=False: all but the timer, for benchmarks)"},
    {"stop", (PyCFunction)sampler_stop, METH_NOARGS,
     "stop(): disarm the timer and restore the previous handler"},
    {"reset", (PyCFunction)sampler_reset, METH_NOARGS,
     "reset(): forget every sample"},
    {"stack_counts", (PyCFunction)sampler_stack_counts, METH_NOARGS,
     "stack_counts(): a new dict {stack: count}"},
    {"_sample", COMPAT_METH_FASTCALL(sampler_sample),
     "_sample(signum, frame): the signal handler"},
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
