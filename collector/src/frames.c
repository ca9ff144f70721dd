/*
 * frames.c: the frame readers behind frames.h, one section per family of
 * CPython versions.
 *
 * Why read structs: the public API (PyThreadState_GetFrame, PyFrame_GetBack,
 * PyFrame_GetCode) is stable but creates a frame object for every frame on
 * 3.11+ and returns new references, which a sampler called hundreds of
 * times a second on deep stacks cannot afford.  Reading the interpreter's
 * own frame structs allocates nothing and costs a few loads per frame, but
 * their layout changes with each release, so each family is kept here:
 *
 *   2.7, 3.6-3.10
 *             PyFrameObject chain: tstate->frame, f_back, f_code, f_lasti
 *             (a byte offset before 3.10, an instruction index in 3.10).
 *             The chain and these fields are the same from 2.7 on; only
 *             the reader's name says which release it was built for.
 *   3.11-3.12 _PyInterpreterFrame chain: tstate->cframe->current_frame,
 *             previous, f_code, prev_instr; frames still being set up
 *             (_PyFrame_IsIncomplete) and, on 3.12, the shim frames owned
 *             by the C stack (FRAME_OWNED_BY_CSTACK) are skipped.
 *   3.13      tstate->current_frame, f_executable (checked to be a code
 *             object), instr_ptr; _PyFrame_IsIncomplete covers C-stack
 *             frames.
 *   fallback  the public API (new references, frame objects), used for
 *             versions newer than 3.13 or when built with
 *             -DPLOP_FRAMES_PUBLIC; slower but needs no internal header.
 *
 * The 3.11+ readers need the internal header pycore_frame.h, which wants
 * Py_BUILD_CORE; that define is confined to this file.
 */
#if PY_VERSION_HEX >= 0x030E0000 || defined(PLOP_FRAMES_PUBLIC)
#define FRAMES_PUBLIC 1
#endif

#include <Python.h>

#include "coreheaders.h"

#if defined(FRAMES_PUBLIC) && PY_VERSION_HEX < 0x030B0000
#error "PLOP_FRAMES_PUBLIC needs CPython 3.11+ (PyFrame_GetLasti, PyFrame_GetCode); older versions have a struct reader of their own"
#endif

#if !defined(FRAMES_PUBLIC) && PY_VERSION_HEX >= 0x030B0000
#define Py_BUILD_CORE 1
PLOP_CORE_HEADERS_BEGIN
#include <internal/pycore_frame.h>
PLOP_CORE_HEADERS_END
#elif !defined(FRAMES_PUBLIC)
#include <frameobject.h>
#endif

#include "frames.h"

static inline size_t
put(uintptr_t *out, size_t n, const void *code, intptr_t offset,
    int with_offsets)
{
    out[n++] = (uintptr_t)code;
    if (with_offsets) {
        out[n++] = (uintptr_t)offset;
    }
    return n;
}

int
frames_line(PyCodeObject *co, intptr_t offset)
{
    if (offset < 0) {
        return co->co_firstlineno;
    }
    /* -1: an instruction the compiler gave no line (3.10+ artificial
       instructions, e.g. in frozen importlib); the function's line then */
    int line = PyCode_Addr2Line(co, (int)offset);
    return line < 0 ? co->co_firstlineno : line;
}

#if defined(FRAMES_PUBLIC)

const char frames_reader[] = "public-api";

int
frames_active(PyThreadState *ts)
{
    PyFrameObject *f = PyThreadState_GetFrame(ts);
    Py_XDECREF(f);
    return f != NULL;
}

/*
 * Every frame object and code object returned here is a new reference;
 * each is released at once: the frames stay alive in the thread's chain,
 * and they keep their code objects alive, until the GIL is released.
 */
size_t
frames_collect(PyThreadState *ts, uintptr_t *out, size_t max_frames,
               int with_offsets)
{
    size_t n = 0, depth = 0;
    PyFrameObject *f = PyThreadState_GetFrame(ts);
    while (f != NULL) {
        if (depth == max_frames) {
            n = put(out, n, (void *)FRAMES_TRUNCATED, 0, with_offsets);
            Py_DECREF(f);
            break;
        }
        PyCodeObject *co = PyFrame_GetCode(f);
        intptr_t offset = with_offsets ? PyFrame_GetLasti(f) : 0;
        n = put(out, n, co, offset, with_offsets);
        Py_DECREF(co);
        depth++;
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    return n;
}

/* See frames_collect on the references. */
PyCodeObject *
frames_root(PyThreadState *ts)
{
    PyFrameObject *f = PyThreadState_GetFrame(ts);
    if (f == NULL) {
        return NULL;
    }
    PyFrameObject *back;
    while ((back = PyFrame_GetBack(f)) != NULL) {
        Py_DECREF(f);
        f = back;
    }
    PyCodeObject *co = PyFrame_GetCode(f);
    Py_DECREF(co);
    Py_DECREF(f);
    return co;
}

#elif PY_VERSION_HEX >= 0x030B0000

#if PY_VERSION_HEX >= 0x030D0000
const char frames_reader[] = "structs-3.13";
#define FRAME_TOP(ts) ((ts)->current_frame)
#define FRAME_CODE(f) ((f)->f_executable)
#elif PY_VERSION_HEX >= 0x030C0000
const char frames_reader[] = "structs-3.12";
#define FRAME_TOP(ts) ((ts)->cframe ? (ts)->cframe->current_frame : NULL)
#define FRAME_CODE(f) ((PyObject *)(f)->f_code)
#else
const char frames_reader[] = "structs-3.11";
#define FRAME_TOP(ts) ((ts)->cframe ? (ts)->cframe->current_frame : NULL)
#define FRAME_CODE(f) ((PyObject *)(f)->f_code)
#endif

/* Nonzero when the frame is a complete Python frame we can report. */
static inline int
frame_usable(_PyInterpreterFrame *f)
{
    PyObject *code = FRAME_CODE(f);
    if (code == NULL || !PyCode_Check(code)) {
        return 0;
    }
#if PY_VERSION_HEX >= 0x030C0000
    if (f->owner == FRAME_OWNED_BY_CSTACK) {
        return 0;
    }
#endif
    return !_PyFrame_IsIncomplete(f);
}

int
frames_active(PyThreadState *ts)
{
    for (_PyInterpreterFrame *f = FRAME_TOP(ts); f; f = f->previous) {
        if (frame_usable(f)) {
            return 1;
        }
    }
    return 0;
}

PyCodeObject *
frames_root(PyThreadState *ts)
{
    PyObject *root = NULL;
    for (_PyInterpreterFrame *f = FRAME_TOP(ts); f; f = f->previous) {
        if (frame_usable(f)) {
            root = FRAME_CODE(f);
        }
    }
    return (PyCodeObject *)root;
}

size_t
frames_collect(PyThreadState *ts, uintptr_t *out, size_t max_frames,
               int with_offsets)
{
    size_t n = 0, depth = 0;
    for (_PyInterpreterFrame *f = FRAME_TOP(ts); f; f = f->previous) {
        if (!frame_usable(f)) {
            continue;
        }
        if (depth == max_frames) {
            return put(out, n, (void *)FRAMES_TRUNCATED, 0, with_offsets);
        }
        intptr_t offset = 0;
        if (with_offsets) {
            offset = (intptr_t)_PyInterpreterFrame_LASTI(f)
                     * (intptr_t)sizeof(_Py_CODEUNIT);
        }
        n = put(out, n, FRAME_CODE(f), offset, with_offsets);
        depth++;
    }
    return n;
}

#else /* 2.7, 3.6 - 3.10 */

#if PY_VERSION_HEX >= 0x030A0000
const char frames_reader[] = "structs-3.10";
/* f_lasti counts code units since 3.10 */
#define LASTI_BYTES(f) ((f)->f_lasti < 0 ? -1 : (intptr_t)(f)->f_lasti * 2)
#else
#if PY_VERSION_HEX >= 0x03080000
const char frames_reader[] = "structs-3.8-3.9";
#elif PY_VERSION_HEX >= 0x03060000
const char frames_reader[] = "structs-3.6-3.7";
#elif PY_VERSION_HEX >= 0x02070000 && PY_VERSION_HEX < 0x03000000
const char frames_reader[] = "structs-2.7";
#else
#error "plop supports CPython 2.7 and 3.6 or newer"
#endif
#define LASTI_BYTES(f) ((intptr_t)(f)->f_lasti)
#endif

int
frames_active(PyThreadState *ts)
{
    return ts->frame != NULL;
}

PyCodeObject *
frames_root(PyThreadState *ts)
{
    PyFrameObject *f = ts->frame;
    if (f == NULL) {
        return NULL;
    }
    while (f->f_back != NULL) {
        f = f->f_back;
    }
    return f->f_code;
}

size_t
frames_collect(PyThreadState *ts, uintptr_t *out, size_t max_frames,
               int with_offsets)
{
    size_t n = 0, depth = 0;
    for (PyFrameObject *f = ts->frame; f; f = f->f_back) {
        if (depth == max_frames) {
            return put(out, n, (void *)FRAMES_TRUNCATED, 0, with_offsets);
        }
        n = put(out, n, f->f_code, with_offsets ? LASTI_BYTES(f) : 0,
                with_offsets);
        depth++;
    }
    return n;
}

#endif
