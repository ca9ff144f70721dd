/*
 * exitsig.h: writing the profile when the process is told to end
 * (SIGTERM, SIGHUP), without a Python-level handler the program could see.
 *
 * A handler set with signal.signal() shows in signal.getsignal() and is
 * what signal.signal() returns to the program; CPython's regression suite
 * (test_signal.test_getsignal) tells the difference.  These handlers are
 * set with sigaction() underneath CPython, whose own table keeps saying
 * SIG_DFL, so the program sees exactly what it would see without plop;
 * a program that installs its own handler replaces ours, as it would
 * replace the default action.
 *
 * Signal dispositions belong to the process, not to an interpreter or a
 * module instance, so this state is process-wide (one watcher at a time).
 */
#ifndef PLOP_EXITSIG_H
#define PLOP_EXITSIG_H

#include <Python.h>

/*
 * exit_signals_install(callback, signums) -> tuple of the signals taken
 *
 * Takes each signal of signums whose action is the default one.  When one
 * arrives, a watcher thread (not the handler, which only writes a byte to
 * a pipe) takes the GIL, calls callback(signum) once, restores the
 * default action and sends the signal again, so the process dies of it as
 * it would have.  If the callback has not returned within
 * EXITSIG_DEADLINE_SECONDS (the GIL held forever by a C call), the process
 * dies of the signal all the same.  A forked child that receives one of
 * these signals dies of it at once.
 */
PyObject *exitsig_install(PyObject *module, PyObject *args);

/*
 * exit_signals_restore() -> None
 *
 * Gives back the default action to every signal still handled here (not
 * to one the program took over since) and ends the watcher thread.
 */
PyObject *exitsig_restore(PyObject *module, PyObject *unused);

#define EXITSIG_DEADLINE_SECONDS 10

#endif
