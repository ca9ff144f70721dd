"""plop.compat: the few library calls that differ between CPython 2.7 and
3.x, for the modules a profiled program imports (plop.collector, the
toggle, profile writing, the CLI).  Those modules are written in the
common subset of 2.7 and 3.6+ syntax; this module holds the rest.  The
viewer is 3.8+ and does not use it."""
import os
import sys
import threading
import time

PY2 = sys.version_info[0] == 2

if PY2:  # pragma: no cover (2.7 only)
    import __builtin__ as builtins  # noqa: F401
    import Queue as queue  # noqa: F401
    string_types = (str, unicode)  # noqa: F821
    integer_types = (int, long)  # noqa: F821
else:
    import builtins  # noqa: F401
    import queue  # noqa: F401
    string_types = (str,)
    integer_types = (int,)

# A queue whose put() may be called from a signal handler that interrupted
# a get() or put() of the same queue (queue.SimpleQueue, 3.7+).  Before 3.7
# the locked Queue is the only one there is; the toggle puts into it from
# its signal handler, which runs in the main thread, while only the writer
# thread gets from it, so the handler never waits on a lock it holds.
SimpleQueue = getattr(queue, "SimpleQueue", queue.Queue)

perf_counter = getattr(time, "perf_counter", time.time)

# The class of threading.Event() objects: on 2.7 threading.Event is a
# factory function and the class is threading._Event.
EventType = (threading.Event if isinstance(threading.Event, type)
             else threading._Event)


def fspath(path):
    """os.fspath (3.6+): a str or bytes path from a path-like object."""
    f = getattr(os, "fspath", None)
    return f(path) if f is not None else path


def replace(src, dst):
    """os.replace (3.3+): rename over dst; os.rename does it on POSIX."""
    getattr(os, "replace", os.rename)(src, dst)


def get_ident():
    return threading.current_thread().ident


def in_main_thread():
    main = getattr(threading, "main_thread", None)
    if main is not None:
        return threading.current_thread() is main()
    return isinstance(threading.current_thread(), threading._MainThread)


def signal_name(num):
    """'SIGTERM' for 15; 'signal N' for a number with no name."""
    import signal
    for name in dir(signal):
        if (name.startswith("SIG") and not name.startswith("SIG_")
                and getattr(signal, name) == num):
            try:
                return signal.Signals(num).name
            except (AttributeError, ValueError):
                return name
    return "signal %d" % num


def source_path(path):
    """The .py file a module was loaded from (2.7's __file__ names the
    .pyc next to it), so it compares equal to its code's co_filename."""
    if path.endswith((".pyc", ".pyo")):
        return path[:-1]
    return path


def read_source(path):
    """The bytes of a script, as `python script.py` reads them (3.8's
    io.open_code lets an audit hook see the open)."""
    import io
    opener = getattr(io, "open_code", None)
    if opener is not None:
        with opener(path) as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def register_at_fork(after_in_child):
    """os.register_at_fork (3.7+); before 3.7 there is no Python hook and
    nothing is registered (returns False)."""
    reg = getattr(os, "register_at_fork", None)
    if reg is None:
        return False
    reg(after_in_child=after_in_child)
    return True
