/*
 * gilreq.c: gil_request_drop() (gilreq.h) for each CPython version, the
 * same stores CPython's take_gil() makes when the switch interval runs
 * out (Python/ceval_gil.c, SET_GIL_DROP_REQUEST):
 *
 *   3.8        _PyRuntime.ceval.gil_drop_request and .eval_breaker
 *   3.9-3.12   interp->ceval.gil_drop_request and .eval_breaker
 *   3.13       the _PY_GIL_DROP_REQUEST_BIT of the holder's
 *              tstate->eval_breaker (interp->ceval.gil->last_holder)
 *   others     nothing (2.7-3.7 have not been done yet, 3.14+ not
 *              known): samples then wait for the switch interval
 */
#include <patchlevel.h>      /* PY_VERSION_HEX alone: Py_BUILD_CORE must
                                come before Python.h */

#if PY_VERSION_HEX >= 0x03080000 && PY_VERSION_HEX < 0x030E0000
#define Py_BUILD_CORE 1
#endif
#include <Python.h>

#if PY_VERSION_HEX >= 0x03080000 && PY_VERSION_HEX < 0x030E0000
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#if PY_VERSION_HEX >= 0x030D0000
#include <internal/pycore_ceval.h>
#include <internal/pycore_interp.h>
#elif PY_VERSION_HEX >= 0x03090000
#include <internal/pycore_interp.h>
#else
#include <internal/pycore_pystate.h>
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif

#include "gilreq.h"

void
gil_request_drop(PyInterpreterState *interp)
{
#if PY_VERSION_HEX >= 0x030E0000
    (void)interp;
#elif PY_VERSION_HEX >= 0x030D0000
    PyThreadState *holder = (PyThreadState *)_Py_atomic_load_ptr_relaxed(
        &interp->ceval.gil->last_holder);
    if (holder != NULL && _Py_atomic_load_int_relaxed(&interp->ceval.gil->locked)) {
        _Py_set_eval_breaker_bit(holder, _PY_GIL_DROP_REQUEST_BIT);
    }
#elif PY_VERSION_HEX >= 0x03090000
    _Py_atomic_store_relaxed(&interp->ceval.gil_drop_request, 1);
    _Py_atomic_store_relaxed(&interp->ceval.eval_breaker, 1);
#elif PY_VERSION_HEX >= 0x03080000
    (void)interp;
    _Py_atomic_store_relaxed(&_PyRuntime.ceval.gil_drop_request, 1);
    _Py_atomic_store_relaxed(&_PyRuntime.ceval.eval_breaker, 1);
#else
    (void)interp;
#endif
}
