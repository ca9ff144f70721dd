/*
 * module.c: the plop._collector extension module: multi-phase
 * initialization (single-phase on 2.7, which has no PyModuleDef), the Sampler type (sampler.c), and _noop, a C signal
 * handler that does nothing, which the benchmark installs to measure what
 * the timer signal and CPython's dispatch of it cost by themselves, and
 * _call_in_main_thread, which lets Collector.start()/stop() be called from
 * any thread (signal.signal() works in the main thread only).
 */
#include <Python.h>

#include "frames.h"
#include "pycompat.h"
#include "sampler.h"

static PyObject *
noop(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_NONE;
}
COMPAT_FASTCALL_WRAPPER(noop)

/* Runs in the main thread, holding the GIL, at a bytecode boundary. */
static int
run_in_main_thread(void *arg)
{
    PyObject *callable = arg;   /* the reference taken when scheduled */
    PyObject *res = PyObject_CallObject(callable, NULL);
    if (res == NULL) {
        /* The Python side catches everything and hands it to the waiting
         * thread; never raise into whatever code the main thread runs. */
        PyErr_WriteUnraisable(callable);
    }
    Py_XDECREF(res);
    Py_DECREF(callable);
    return 0;
}

/*
 * _call_in_main_thread(callable): schedules callable() to run in the main
 * thread at its next bytecode boundary and returns at once.  This is
 * Py_AddPendingCall from an ordinary thread, which it is made for (never
 * from a signal handler: it takes a blocking lock since 3.8).  The main
 * thread must be running Python code, or be interrupted by a signal, for
 * the call to happen; the caller waits with a timeout.
 */
static PyObject *
call_in_main_thread(PyObject *module, PyObject *callable)
{
    if (!PyCallable_Check(callable)) {
        PyErr_SetString(PyExc_TypeError, "expected a callable");
        return NULL;
    }
    Py_INCREF(callable);
    if (Py_AddPendingCall(run_in_main_thread, callable) < 0) {
        Py_DECREF(callable);
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot schedule a call in the main thread: "
                        "CPython's pending-call queue is full");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"_call_in_main_thread", call_in_main_thread, METH_O,
     "_call_in_main_thread(callable): run callable() in the main thread "
     "soon"},
    {"_noop", COMPAT_METH_FASTCALL(noop),
     "_noop(signum, frame): a signal handler that does nothing (benchmarks)"},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *module)
{
    PyObject *type = sampler_type_new(module);
    if (type == NULL) {
        return -1;
    }
    if (PyModule_AddObject(module, "Sampler", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    if (PyModule_AddStringConstant(module, "frame_reader", frames_reader) < 0) {
        return -1;
    }
    return 0;
}

static const char module_doc[] =
    "plop's sampling core (see plop.collector for the API)";

#if COMPAT_PY2

__attribute__((visibility("default"))) PyMODINIT_FUNC
init_collector(void)
{
    /* the import machinery puts the package in front of the name */
    PyObject *module = Py_InitModule3("_collector", module_methods,
                                      module_doc);
    if (module != NULL) {
        module_exec(module);    /* an exception fails the import */
    }
}

#else

/*
 * CPython's slot tables store functions as void *, which ISO C does not
 * allow; POSIX does (dlsym), so the warning is silenced for the table only.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)module_exec},
    {0, NULL},
};
#pragma GCC diagnostic pop

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "plop._collector",
    .m_doc = module_doc,
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

/*
 * The extension is built with -fvisibility=hidden; PyMODINIT_FUNC exports
 * the init function only from 3.9 on, so it is exported here for 3.8.
 */
__attribute__((visibility("default"))) PyMODINIT_FUNC
PyInit__collector(void)
{
    return PyModuleDef_Init(&module_def);
}

#endif
