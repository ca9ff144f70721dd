"""exit_signals.py: the profile is written when the process is told to end.

The CLI (and its --toggle-signal mode) take SIGTERM and SIGHUP where their
action is the default one, write the profile when one arrives, then let the
process die of it as it would have without plop.  The handlers live in the
extension, below CPython's signal table (collector/src/exitsig.h), so the
program cannot see them.
"""
import os
import signal

from plop import _collector, compat

# Signals whose default action ends the process and after which the CLI
# writes the profile first (SIGINT is Python's KeyboardInterrupt: the
# profile is written as it unwinds the program).
EXIT_SIGNALS = ("SIGTERM", "SIGHUP")


class ExitSignals(object):
    """plop's handlers for EXIT_SIGNALS, installed only on signals whose
    action is the default one (a program started with SIGHUP ignored, under
    nohup, keeps it ignored).  They sit below CPython's signal table
    (plop._collector.exit_signals_install, see exitsig.h), so the program's
    signal.getsignal() still says SIG_DFL and a handler of its own replaces
    plop's.  When one arrives, finish(signum) runs once in a thread of the
    extension holding the GIL; then the signal is sent again with its
    default action, so the process dies of it as it would have without
    plop."""

    def __init__(self, finish):
        self._finish = finish
        self._finished = False

    def install(self):
        nums = [getattr(signal, name) for name in EXIT_SIGNALS
                if hasattr(signal, name)]
        nums = [n for n in nums if signal.getsignal(n) == signal.SIG_DFL]
        _collector.exit_signals_install(self._handle, nums)
        return self

    def restore(self):
        """Gives back the default action to each signal still handled by
        plop (not to one the program took over)."""
        _collector.exit_signals_restore()

    def _handle(self, signum):
        if self._finished:
            return
        self._finished = True
        try:
            self._finish(signum)
        except Exception as e:
            msg = ("plop: error: cannot write the profile on %s: %s\n"
                   % (compat.signal_name(signum), e))
            os.write(2, msg.encode("utf-8", "replace"))
