/*
 * module.c: the plop._collector extension module: multi-phase
 * initialization (single-phase on 2.7, which has no PyModuleDef), the
 * Sampler type (sampler.c), the exit-signal handlers (exitsig.c) and the
 * name of the frame reader this build uses (frames.c).
 */
#include <Python.h>

#include "exitsig.h"
#include "frames.h"
#include "pycompat.h"
#include "sampler.h"

static PyMethodDef module_methods[] = {
    {"exit_signals_install", exitsig_install, METH_VARARGS,
     "exit_signals_install(callback, signums): take each signal whose action "
     "is the default one, below CPython's signal table (see exitsig.h)"},
    {"exit_signals_restore", exitsig_restore, METH_NOARGS,
     "exit_signals_restore(): give the signals back to their default action"},
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
