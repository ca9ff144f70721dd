/*
 * frames.h: reading a thread's Python stack into machine words, the one
 * place that knows how each CPython version lays out its frames.
 *
 * Contract: the caller holds the GIL, so no thread is running Python code
 * and every frame chain is stable while it is read.  Nothing is allocated
 * and no reference is taken: the code object pointers written are borrowed
 * from the frames, and the caller must take its own reference before
 * releasing the GIL if it keeps them (the stack table does).
 */
#ifndef PLOP_FRAMES_H
#define PLOP_FRAMES_H

#include <Python.h>
#include <stdint.h>

/*
 * The word written in place of a code object when a stack is deeper than
 * the frame cap: the root-most frames are dropped and this marker takes
 * their place, so the collector can show a visible truncation frame.
 */
#define FRAMES_TRUNCATED ((uintptr_t)1)

/* Which frame reader this build uses, e.g. "structs-3.11" or "public-api". */
extern const char frames_reader[];

/*
 * Writes the stack of ts, leaf first, into out: for each frame the code
 * object pointer and, when with_offsets is nonzero, the byte offset of the
 * instruction being executed (-1 when it has not started).  At most
 * max_frames frames are written; when the stack is deeper, FRAMES_TRUNCATED
 * (followed by 0 when with_offsets) is written after them.  out must hold
 * (max_frames + 1) * (with_offsets ? 2 : 1) words.  Frames that are not
 * complete yet or that belong to the C stack (3.11+) are skipped.  Returns
 * the number of words written, 0 when the thread runs no Python code.
 */
size_t frames_collect(PyThreadState *ts, uintptr_t *out, size_t max_frames,
                      int with_offsets);

/* Nonzero when ts is executing Python code (has a frame). */
int frames_active(PyThreadState *ts);

/*
 * The code object of ts's root-most Python frame (the function its thread
 * started with), borrowed; NULL when it runs no Python code.  Walks the
 * whole stack: for a thread's first sight, not for every sample.
 */
PyCodeObject *frames_root(PyThreadState *ts);

/* The line number of the instruction at byte offset `offset` of co; the
   first line when the offset is negative or the instruction has no line. */
int frames_line(PyCodeObject *co, intptr_t offset);

#endif
