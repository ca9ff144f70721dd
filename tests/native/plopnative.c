/*
 * plopnative.c: a test-only extension, _plopnative, that does what real C
 * extensions do to a profiler and that Python code alone cannot:
 *
 *   block_in_c(seconds)     the calling thread waits in C, GIL released,
 *                           for `seconds` of wall time, retrying every
 *                           interrupted wait (a C event loop, a blocking
 *                           wait of a C library): no bytecode runs in it.
 *   c_thread_callbacks(callback, n, c_seconds)
 *                           starts a C thread (pthread, unknown to Python)
 *                           that n times burns c_seconds of its own CPU in
 *                           C, then calls callback() through
 *                           PyGILState_Ensure (a fresh thread state each
 *                           time), and waits for it in C, GIL released.
 *                           Returns the C thread's total CPU time.
 *   burn_c(seconds)         burns `seconds` of the calling thread's CPU
 *                           in C, holding the GIL (a long C call).
 *   wait_fd(fd)             waits in C, GIL released, until one byte can
 *                           be read from fd, retrying interrupted reads.
 *
 * Built by `make test-collector` for the interpreter under test
 * (build/pyNN/native/); the collector's tests import it from there.
 */
#include <Python.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static double
thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile unsigned long sink;

static void
burn(double seconds)
{
    double end = thread_cpu() + seconds;
    while (thread_cpu() < end) {
        for (int i = 0; i < 1000; i++) {
            sink += (unsigned long)i * (unsigned long)i;
        }
    }
}

static PyObject *
block_in_c(PyObject *mod, PyObject *args)
{
    double seconds;
    if (!PyArg_ParseTuple(args, "d", &seconds)) {
        return NULL;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)seconds;
    until.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int interrupted = 0;
    Py_BEGIN_ALLOW_THREADS
    int rc;
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until,
                                 NULL)) == EINTR) {
        interrupted++;
    }
    Py_END_ALLOW_THREADS
    return Py_BuildValue("i", interrupted);
}

static PyObject *
burn_c(PyObject *mod, PyObject *args)
{
    double seconds;
    if (!PyArg_ParseTuple(args, "d", &seconds)) {
        return NULL;
    }
    burn(seconds);
    Py_RETURN_NONE;
}

static PyObject *
wait_fd(PyObject *mod, PyObject *args)
{
    int fd;
    if (!PyArg_ParseTuple(args, "i", &fd)) {
        return NULL;
    }
    char c;
    ssize_t n;
    int interrupted = 0;
    Py_BEGIN_ALLOW_THREADS
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR) {
        interrupted++;
    }
    Py_END_ALLOW_THREADS
    if (n < 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return Py_BuildValue("i", interrupted);
}

struct job {
    PyObject *callback;
    int n;
    double c_seconds;
    double cpu;
    int failed;
};

static void *
c_thread(void *arg)
{
    struct job *job = arg;
    for (int i = 0; i < job->n; i++) {
        burn(job->c_seconds);
        PyGILState_STATE g = PyGILState_Ensure();
        PyObject *r = PyObject_CallObject(job->callback, NULL);
        if (r == NULL) {
            PyErr_Print();
            job->failed = 1;
        }
        Py_XDECREF(r);
        PyGILState_Release(g);
    }
    job->cpu = thread_cpu();
    return NULL;
}

static PyObject *
c_thread_callbacks(PyObject *mod, PyObject *args)
{
    struct job job = {NULL, 0, 0.0, 0.0, 0};
    if (!PyArg_ParseTuple(args, "Oid", &job.callback, &job.n,
                          &job.c_seconds)) {
        return NULL;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, c_thread, &job) != 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_BEGIN_ALLOW_THREADS
    pthread_join(t, NULL);
    Py_END_ALLOW_THREADS
    if (job.failed) {
        PyErr_SetString(PyExc_RuntimeError, "the callback raised");
        return NULL;
    }
    return PyFloat_FromDouble(job.cpu);
}

static PyMethodDef methods[] = {
    {"block_in_c", block_in_c, METH_VARARGS, NULL},
    {"burn_c", burn_c, METH_VARARGS, NULL},
    {"wait_fd", wait_fd, METH_VARARGS, NULL},
    {"c_thread_callbacks", c_thread_callbacks, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

#if PY_MAJOR_VERSION < 3
__attribute__((visibility("default"))) PyMODINIT_FUNC
init_plopnative(void)
{
    PyEval_InitThreads();
    Py_InitModule("_plopnative", methods);
}
#else
static struct PyModuleDef def = {
    PyModuleDef_HEAD_INIT, "_plopnative", NULL, -1, methods,
    NULL, NULL, NULL, NULL,
};

__attribute__((visibility("default"))) PyMODINIT_FUNC
PyInit__plopnative(void)
{
#if PY_VERSION_HEX < 0x03070000
    PyEval_InitThreads();
#endif
    return PyModule_Create(&def);
}
#endif
