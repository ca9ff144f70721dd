/*
 * pycompat.h: what the extension uses of the C API that CPython 2.7 and
 * 3.6 lack, so that the rest of collector/src/ is written once against
 * the 3.8+ API.  The one file that knows about API differences; frame
 * layouts are frames.c's.
 *
 * Backfills (2.7 unless said otherwise) keep CPython's own names, the way
 * pythoncapi-compat does, so the code that uses them reads as modern C API
 * and the backfill goes away with the version:
 *
 *   PyType_Spec, PyType_Slot, PyType_FromSpec  (3.2+; a heap type, as 3.x
 *       builds it, so instances hold a reference to their type and
 *       tp_dealloc drops it on every version)
 *   PyDict_GetItemWithError  (2.7's PyDict_GetItem cannot fail but for a
 *       missing key, which is what this backfill returns: no error set)
 *
 * Helpers for what differs in meaning, not only in presence:
 *
 *   compat_init_threads      makes sure the GIL exists (before 3.7 the
 *                            first Python thread creates it)
 *   compat_atexit            atexit.register/unregister (2.7 has no
 *                            unregister)
 *   compat_str_from_string   a native str (bytes on 2.7, unicode on 3.x)
 *   compat_int_check         int or long on 2.7, int on 3.x
 *   compat_int_from_u64, compat_int_from_long
 *                            a native int (2.7: int, not long, when it
 *                            fits; what 2.7 code and its profiles expect)
 *   compat_err_format        PyErr_Format with %R and %S on 2.7 too
 *   COMPAT_FASTCALL_WRAPPER, COMPAT_METH_FASTCALL, COMPAT_FASTCALL_FUNC
 *                            METH_FASTCALL methods (3.7+; 3.6 has a
 *                            METH_FASTCALL with another signature): older
 *                            versions get a METH_VARARGS wrapper that
 *                            passes the tuple's item array.  _FUNC is the
 *                            function the method table holds, for
 *                            comparing with PyCFunction_GET_FUNCTION.
 *   COMPAT_FMT_BOOL          the PyArg_Parse format of a truth value:
 *                            "p" (3.3+), else "i" (True and False are ints)
 *
 * Supported: CPython 2.7 and 3.6 or newer.
 */
#ifndef PLOP_PYCOMPAT_H
#define PLOP_PYCOMPAT_H

#include <Python.h>
#include <stdarg.h>

#if PY_MAJOR_VERSION < 3 && PY_VERSION_HEX < 0x02070000
#error "plop's collector needs CPython 2.7, or 3.6 or newer"
#endif
#if PY_MAJOR_VERSION == 3 && PY_VERSION_HEX < 0x03060000
#error "plop's collector needs CPython 2.7, or 3.6 or newer"
#endif

#define COMPAT_PY2 (PY_MAJOR_VERSION < 3)

/* ------------------------------------------------------------ str, int */

/* A native str from a UTF-8 C string; new reference. */
static inline PyObject *
compat_str_from_string(const char *s)
{
#if COMPAT_PY2
    return PyString_FromString(s);
#else
    return PyUnicode_FromString(s);
#endif
}

static inline int
compat_int_check(PyObject *o)
{
#if COMPAT_PY2
    return PyInt_Check(o) || PyLong_Check(o);
#else
    return PyLong_Check(o);
#endif
}

/*
 * A native int (2.7: an int when it fits in a C long, as 2.7's own
 * arithmetic gives, so counts print as 5, not 5L); new reference.
 */
static inline PyObject *
compat_int_from_u64(unsigned long long v)
{
#if COMPAT_PY2
    if (v <= (unsigned long long)LONG_MAX) {
        return PyInt_FromLong((long)v);
    }
#endif
    return PyLong_FromUnsignedLongLong(v);
}

static inline PyObject *
compat_int_from_long(long v)
{
#if COMPAT_PY2
    return PyInt_FromLong(v);
#else
    return PyLong_FromLong(v);
#endif
}

/*
 * PyErr_Format(exc, fmt, ...): returns NULL.  2.7's PyErr_Format knows
 * neither %R nor %S (PyString_FromFormat lacks them); PyUnicode_FromFormat
 * has them there, and the message is made a native str again.
 */
static inline PyObject *
compat_err_format(PyObject *exc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
#if COMPAT_PY2
    PyObject *u = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (u == NULL) {
        return NULL;
    }
    PyObject *msg = PyUnicode_AsUTF8String(u);
    Py_DECREF(u);
    if (msg == NULL) {
        return NULL;
    }
    PyErr_SetObject(exc, msg);
    Py_DECREF(msg);
#else
    PyErr_FormatV(exc, fmt, ap);
    va_end(ap);
#endif
    return NULL;
}

/* ------------------------------------------------------------ threads */

/*
 * Makes sure the GIL exists, so that a native thread may take it with
 * PyGILState_Ensure.  3.7+ create it at startup; before, the first
 * thread.start_new_thread() does, and a program that never started a
 * thread has none.  Idempotent; called with the GIL held, or before any
 * thread exists.
 */
static inline void
compat_init_threads(void)
{
#if PY_VERSION_HEX < 0x03070000
    PyEval_InitThreads();
#endif
}

/*
 * atexit.register(func) and atexit.unregister(func); 0, or -1 with an
 * exception.  2.7's atexit has no unregister: the entries of its
 * _exithandlers list that call func are removed, which is what 3.x's
 * unregister does.
 */
static inline int
compat_atexit(const char *method, PyObject *func)
{
    PyObject *mod = PyImport_ImportModule("atexit");
    if (mod == NULL) {
        return -1;
    }
#if COMPAT_PY2
    if (strcmp(method, "unregister") == 0) {
        PyObject *list = PyObject_GetAttrString(mod, "_exithandlers");
        Py_DECREF(mod);
        if (list == NULL || !PyList_Check(list)) {
            Py_XDECREF(list);
            return PyErr_Occurred() ? -1 : 0;
        }
        for (Py_ssize_t i = PyList_GET_SIZE(list) - 1; i >= 0; i--) {
            PyObject *entry = PyList_GET_ITEM(list, i);
            if (PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) > 0
                && PyTuple_GET_ITEM(entry, 0) == func
                && PySequence_DelItem(list, i) < 0) {
                Py_DECREF(list);
                return -1;
            }
        }
        Py_DECREF(list);
        return 0;
    }
#endif
    PyObject *r = PyObject_CallMethod(mod, (char *)method, (char *)"O", func);
    Py_DECREF(mod);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* ------------------------------------------------------------ dicts */

#if COMPAT_PY2
/* Borrowed reference or NULL; NULL never comes with an error on 2.7. */
static inline PyObject *
PyDict_GetItemWithError(PyObject *dict, PyObject *key)
{
    return PyDict_GetItem(dict, key);
}
#endif

/* ------------------------------------------------------------ fastcall */

#if PY_VERSION_HEX >= 0x03070000
#define COMPAT_FASTCALL_WRAPPER(fn)
#define COMPAT_FASTCALL_FUNC(fn) ((PyCFunction)(void (*)(void))(fn))
#define COMPAT_METH_FASTCALL(fn) COMPAT_FASTCALL_FUNC(fn), METH_FASTCALL
#else
/*
 * Defines fn_varargs(self, args) calling fn(self, items, n).  fn's first
 * parameter may be any object struct pointer: self is passed as void *.
 */
#define COMPAT_FASTCALL_WRAPPER(fn)                                       \
    static PyObject *                                                     \
    fn##_varargs(PyObject *self, PyObject *args)                          \
    {                                                                     \
        return fn((void *)self, (PyObject *const *)&PyTuple_GET_ITEM(args, 0), \
                  PyTuple_GET_SIZE(args));                                \
    }
#define COMPAT_FASTCALL_FUNC(fn) ((PyCFunction)fn##_varargs)
#define COMPAT_METH_FASTCALL(fn) COMPAT_FASTCALL_FUNC(fn), METH_VARARGS
#endif

#if PY_VERSION_HEX >= 0x03030000
#define COMPAT_FMT_BOOL "p"
#else
#define COMPAT_FMT_BOOL "i"
#endif

/* ------------------------------------------------------------ heap types */

#if COMPAT_PY2
/* The 3.x definitions (Include/object.h, Include/typeslots.h). */
typedef struct {
    int slot;
    void *pfunc;
} PyType_Slot;

typedef struct {
    const char *name;
    int basicsize;
    int itemsize;
    unsigned int flags;
    PyType_Slot *slots;
} PyType_Spec;

#define Py_tp_clear 51
#define Py_tp_dealloc 52
#define Py_tp_doc 56
#define Py_tp_getattro 58
#define Py_tp_iter 62
#define Py_tp_iternext 63
#define Py_tp_methods 64
#define Py_tp_new 65
#define Py_tp_repr 66
#define Py_tp_traverse 71
#define Py_tp_members 72
#define Py_tp_getset 73

/*
 * A heap type from spec, built the way 3.x's PyType_FromSpec builds one:
 * the name after the last dot is __name__, what precedes it __module__.
 * Only the slots listed above are known; another one is a SystemError.
 * New reference, or NULL with an exception set.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"   /* void * slots: see module.c */
static inline PyObject *
PyType_FromSpec(PyType_Spec *spec)
{
    PyHeapTypeObject *ht =
        (PyHeapTypeObject *)PyType_Type.tp_alloc(&PyType_Type, 0);
    if (ht == NULL) {
        return NULL;
    }
    PyTypeObject *tp = &ht->ht_type;
    const char *dot = strrchr(spec->name, '.');
    const char *short_name = dot ? dot + 1 : spec->name;
    ht->ht_name = PyString_FromString(short_name);
    if (ht->ht_name == NULL) {
        goto error;
    }
    tp->tp_name = spec->name;   /* the spec is static: lives as long */
    tp->tp_basicsize = spec->basicsize;
    tp->tp_itemsize = spec->itemsize;
    tp->tp_flags = spec->flags | Py_TPFLAGS_HEAPTYPE;
    tp->tp_as_number = &ht->as_number;
    tp->tp_as_sequence = &ht->as_sequence;
    tp->tp_as_mapping = &ht->as_mapping;
    tp->tp_as_buffer = &ht->as_buffer;
    for (PyType_Slot *s = spec->slots; s->slot; s++) {
        switch (s->slot) {
        case Py_tp_clear: tp->tp_clear = (inquiry)s->pfunc; break;
        case Py_tp_dealloc: tp->tp_dealloc = (destructor)s->pfunc; break;
        case Py_tp_doc: {
            /* type_dealloc frees tp_doc with PyObject_Free */
            size_t len = strlen(s->pfunc) + 1;
            char *doc = PyObject_Malloc(len);
            if (doc == NULL) {
                PyErr_NoMemory();
                goto error;
            }
            memcpy(doc, s->pfunc, len);
            tp->tp_doc = doc;
            break;
        }
        case Py_tp_getattro:
            tp->tp_getattro = (getattrofunc)s->pfunc;
            break;
        case Py_tp_iter: tp->tp_iter = (getiterfunc)s->pfunc; break;
        case Py_tp_iternext:
            tp->tp_iternext = (iternextfunc)s->pfunc;
            break;
        case Py_tp_methods: tp->tp_methods = s->pfunc; break;
        case Py_tp_new: tp->tp_new = (newfunc)s->pfunc; break;
        case Py_tp_repr: tp->tp_repr = (reprfunc)s->pfunc; break;
        case Py_tp_traverse:
            tp->tp_traverse = (traverseproc)s->pfunc;
            break;
        case Py_tp_members: tp->tp_members = s->pfunc; break;
        case Py_tp_getset: tp->tp_getset = s->pfunc; break;
        default:
            PyErr_Format(PyExc_SystemError,
                         "type slot %d is not backfilled for 2.7 "
                         "(collector/src/pycompat.h)", s->slot);
            goto error;
        }
    }
    if (PyType_Ready(tp) < 0) {
        goto error;
    }
    if (dot != NULL) {
        PyObject *mod = PyString_FromStringAndSize(
            spec->name, (Py_ssize_t)(dot - spec->name));
        if (mod == NULL) {
            goto error;
        }
        int rc = PyDict_SetItemString(tp->tp_dict, "__module__", mod);
        Py_DECREF(mod);
        if (rc < 0) {
            goto error;
        }
    }
    return (PyObject *)tp;
error:
    Py_DECREF(tp);
    return NULL;
}
#pragma GCC diagnostic pop
#endif /* COMPAT_PY2 */

#endif
