/*
 * exitsig.c: SIGTERM/SIGHUP handlers below CPython's signal table, and the
 * watcher thread that writes the profile when one arrives (see exitsig.h).
 *
 * The handler only does what is async-signal-safe: getpid(), and either
 * one write() to the watcher's pipe, or (in a forked child, which has no
 * watcher) signal() and raise() to die of the signal at once.  Everything
 * else runs in the watcher, a thread of ours with every signal blocked,
 * which takes the GIL through PyGILState_Ensure like any C thread.
 */
#include "exitsig.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIGNALS 8

static struct {
    int active;
    pid_t pid;                  /* the process that installed them */
    int pipe_r, pipe_w;
    pthread_t watcher;
    PyObject *callback;         /* strong reference while active */
    int nsig;
    int signums[MAX_SIGNALS];
} state = {.pipe_r = -1, .pipe_w = -1};

static void
on_signal(int signum)
{
    int saved = errno;
    if (getpid() != state.pid) {
        signal(signum, SIG_DFL);
        raise(signum);
    }
    else {
        unsigned char b = (unsigned char)signum;
        if (write(state.pipe_w, &b, 1) < 0) {
            /* the pipe is full: a signal is already on its way */
        }
    }
    errno = saved;
}

static int
is_ours(int signum)
{
    struct sigaction sa;
    return sigaction(signum, NULL, &sa) == 0
           && !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == on_signal;
}

/* Dies of signum: its default action, unblocked in this thread. */
static void
die_of(int signum)
{
    sigset_t set;
    signal(signum, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, signum);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), signum);
    /* A signal that does not kill by default never lands here. */
}

static void *
deadline(void *arg)
{
    int signum = (int)(intptr_t)arg;
    struct timespec t = {EXITSIG_DEADLINE_SECONDS, 0};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
    die_of(signum);
    return NULL;
}

static void *
watch(void *unused)
{
    unsigned char b;
    ssize_t n;
    (void)unused;
    while ((n = read(state.pipe_r, &b, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) {
        return NULL;            /* restore() closed the pipe */
    }
    int signum = b;
    pthread_t t;
    if (pthread_create(&t, NULL, deadline, (void *)(intptr_t)signum) == 0) {
        pthread_detach(t);
    }
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallFunction(state.callback, "i", signum);
    if (r == NULL) {
        PyErr_WriteUnraisable(state.callback);
    }
    Py_XDECREF(r);
    PyGILState_Release(g);
    if (is_ours(signum)) {
        die_of(signum);
    }
    return NULL;
}

static void
close_pipe(void)
{
    if (state.pipe_r >= 0) {
        close(state.pipe_r);
    }
    if (state.pipe_w >= 0) {
        close(state.pipe_w);
    }
    state.pipe_r = state.pipe_w = -1;
}

PyObject *
exitsig_install(PyObject *module, PyObject *args)
{
    PyObject *callback, *signums, *seq = NULL, *taken = NULL;
    int fds[2];
    (void)module;
    if (!PyArg_ParseTuple(args, "OO:exit_signals_install", &callback,
                          &signums)) {
        return NULL;
    }
    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable");
        return NULL;
    }
    if (state.active) {
        PyErr_SetString(PyExc_RuntimeError,
                        "exit signal handlers are already installed");
        return NULL;
    }
    seq = PySequence_Fast(signums, "signums must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_SIGNALS) {
        PyErr_SetString(PyExc_ValueError, "too many signals");
        goto error;
    }
    if (pipe(fds) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto error;
    }
    state.pipe_r = fds[0];
    state.pipe_w = fds[1];
    state.pid = getpid();
    state.nsig = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        long s = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
        struct sigaction old, sa;
        if (s == -1 && PyErr_Occurred()) {
            goto undo;
        }
        if (s <= 0 || s >= NSIG) {
            PyErr_Format(PyExc_ValueError, "signal number out of range: %ld",
                         s);
            goto undo;
        }
        if (sigaction((int)s, NULL, &old) != 0
            || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) {
            continue;           /* not the default action: not ours */
        }
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigfillset(&sa.sa_mask);
        if (sigaction((int)s, &sa, NULL) != 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            goto undo;
        }
        state.signums[state.nsig++] = (int)s;
    }
    /* The watcher gets no signal of any kind: they go to the program. */
    sigset_t all, old_mask;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old_mask);
    int rc = pthread_create(&state.watcher, NULL, watch, NULL);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (rc != 0) {
        errno = rc;
        PyErr_SetFromErrno(PyExc_OSError);
        goto undo;
    }
    Py_INCREF(callback);
    state.callback = callback;
    state.active = 1;
    taken = PyTuple_New(state.nsig);
    if (taken == NULL) {
        return NULL;            /* installed; restore() undoes it */
    }
    for (int i = 0; i < state.nsig; i++) {
        PyObject *v = PyLong_FromLong(state.signums[i]);
        if (v == NULL) {
            Py_DECREF(taken);
            return NULL;
        }
        PyTuple_SET_ITEM(taken, i, v);
    }
    Py_DECREF(seq);
    return taken;

undo:
    for (int i = 0; i < state.nsig; i++) {
        signal(state.signums[i], SIG_DFL);
    }
    state.nsig = 0;
    close_pipe();
error:
    Py_XDECREF(seq);
    return NULL;
}

PyObject *
exitsig_restore(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    if (!state.active || state.pid != getpid()) {
        /* nothing installed, or a forked child: its parent owns them */
        Py_RETURN_NONE;
    }
    for (int i = 0; i < state.nsig; i++) {
        if (is_ours(state.signums[i])) {
            signal(state.signums[i], SIG_DFL);
        }
    }
    state.nsig = 0;
    /* EOF ends the watcher, unless a signal's byte came first: then it is
     * running the callback, which needs the GIL this thread holds. */
    close(state.pipe_w);
    state.pipe_w = -1;
    Py_BEGIN_ALLOW_THREADS
    pthread_join(state.watcher, NULL);
    Py_END_ALLOW_THREADS
    close_pipe();
    Py_CLEAR(state.callback);
    state.active = 0;
    Py_RETURN_NONE;
}
