"""What the collector's tests use of the standard library that CPython 2.7
and 3.6 lack, so that the same tests run on every interpreter of the matrix
(2.7, 3.6+).  Each name is the library's own where it exists.

    thread_time()     CPU seconds of the calling thread (3.7+), else
                      clock_gettime(CLOCK_THREAD_CPUTIME_ID) itself
    monotonic(), perf_counter(), process_time()
    run(args, ...)    subprocess.run (3.5+): input, timeout, check,
                      universal_newlines, stdout/stderr default to PIPE
                      when capture_output is given
    TimeoutExpired, CalledProcessError
    wait(proc, timeout)   Popen.wait with a timeout (3.3+)
    signal_name(num)      signal.Signals(num).name (3.5+)
    queue                 the queue module (Queue on 2.7)
    RecursionError        (3.5+; 2.7 raises RuntimeError)
    acquire(lock, timeout)    lock.acquire(timeout=...) (3.2+)
    set_blocking(fd, flag)    os.set_blocking (3.5+)
    BlockingIOError       (3.3+; 2.7 raises OSError with EAGAIN)

Importing it also gives 2.7's unittest.TestCase the 3.x names
assertRaisesRegex and assertRegex (2.7 spells them ...Regexp and
assertRegexpMatches).

The clocks are independent of plop: they are what the tests measure the
collector against.  Programs that the tests start import this module too,
from DIR.
"""
import ctypes
import ctypes.util
import functools
import os
import subprocess
import sys
import threading
import time
import unittest

PY2 = sys.version_info[0] == 2

if PY2:
    import Queue as queue  # noqa: F401
    if not hasattr(unittest.TestCase, "assertRaisesRegex"):
        unittest.TestCase.assertRaisesRegex = \
            unittest.TestCase.assertRaisesRegexp
    if not hasattr(unittest.TestCase, "assertRegex"):
        unittest.TestCase.assertRegex = unittest.TestCase.assertRegexpMatches
else:
    import queue  # noqa: F401

DIR = os.path.dirname(os.path.abspath(__file__))


def pythonpath(collector_dir):
    """The PYTHONPATH of a program a test starts: plop, and this module."""
    return os.pathsep.join([collector_dir, DIR])

# <time.h> on Linux
_CLOCK_MONOTONIC = 1
_CLOCK_THREAD_CPUTIME_ID = 3


class _timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc = None


def _clock_gettime(clock):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                            use_errno=True)
        _libc.clock_gettime.argtypes = [ctypes.c_int,
                                        ctypes.POINTER(_timespec)]
    ts = _timespec()
    if _libc.clock_gettime(clock, ctypes.byref(ts)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return ts.tv_sec + ts.tv_nsec * 1e-9


if hasattr(time, "thread_time"):
    thread_time = time.thread_time
elif hasattr(time, "clock_gettime"):
    # a partial, not a def: no Python frame of ours in the profiles
    thread_time = functools.partial(time.clock_gettime,
                                    time.CLOCK_THREAD_CPUTIME_ID)
else:
    def thread_time():
        return _clock_gettime(_CLOCK_THREAD_CPUTIME_ID)

if hasattr(time, "monotonic"):
    monotonic = time.monotonic
else:
    def monotonic():
        return _clock_gettime(_CLOCK_MONOTONIC)

perf_counter = getattr(time, "perf_counter", monotonic)
# 2.7's time.clock() is the process's CPU time (clock(3))
process_time = getattr(time, "process_time", None) or time.clock

if PY2:
    class TimeoutExpired(Exception):
        def __init__(self, cmd, timeout, output=None, stderr=None):
            Exception.__init__(self, "command %r timed out after %s seconds"
                               % (cmd, timeout))
            self.cmd = cmd
            self.timeout = timeout
            self.output = self.stdout = output
            self.stderr = stderr

    class CompletedProcess(object):
        def __init__(self, args, returncode, stdout=None, stderr=None):
            self.args = args
            self.returncode = returncode
            self.stdout = stdout
            self.stderr = stderr

        def check_returncode(self):
            if self.returncode:
                raise subprocess.CalledProcessError(self.returncode,
                                                    self.args, self.stdout)
else:
    TimeoutExpired = subprocess.TimeoutExpired
    CompletedProcess = subprocess.CompletedProcess
CalledProcessError = subprocess.CalledProcessError


def _kill_after(proc, timeout):
    """A started timer that kills proc after timeout seconds; its
    .fired is set when it did."""
    fired = threading.Event()

    def kill():
        fired.set()
        try:
            proc.kill()
        except OSError:
            pass
    t = threading.Timer(timeout, kill)
    t.daemon = True
    t.fired = fired
    t.start()
    return t


def run(args, input=None, timeout=None, check=False, capture_output=False,
        **kw):
    """subprocess.run on every version (2.7: Popen, communicate and a
    timer that kills the process on timeout)."""
    if capture_output:
        kw["stdout"] = subprocess.PIPE
        kw["stderr"] = subprocess.PIPE
    if not PY2:
        return subprocess.run(args, input=input, timeout=timeout,
                              check=check, **kw)
    if input is not None:
        kw["stdin"] = subprocess.PIPE
    proc = subprocess.Popen(args, **kw)
    timer = _kill_after(proc, timeout) if timeout is not None else None
    try:
        out, err = proc.communicate(input)
    finally:
        if timer is not None:
            timer.cancel()
            timer.join()
    if timer is not None and timer.fired.is_set():
        raise TimeoutExpired(args, timeout, out, err)
    r = CompletedProcess(args, proc.returncode, out, err)
    if check:
        r.check_returncode()
    return r


def wait(proc, timeout):
    """proc.wait(timeout): the exit status, or TimeoutExpired."""
    if not PY2:
        return proc.wait(timeout)
    deadline = monotonic() + timeout
    while proc.poll() is None:
        if monotonic() >= deadline:
            raise TimeoutExpired(proc.args if hasattr(proc, "args") else "?",
                                 timeout)
        time.sleep(0.01)
    return proc.returncode


def signal_name(num):
    """'SIGTERM' for 15, from the signal module itself."""
    import signal
    if hasattr(signal, "Signals"):
        return signal.Signals(num).name
    names = sorted(n for n in dir(signal)
                   if n.startswith("SIG") and not n.startswith("SIG_")
                   and getattr(signal, n) == num)
    if not names:
        raise ValueError("no signal %d" % num)
    return names[0]


try:
    RecursionError = RecursionError
except NameError:  # 2.7
    RecursionError = RuntimeError


def acquire(lock, timeout):
    """lock.acquire(timeout=timeout): True when acquired in time."""
    if not PY2:
        return lock.acquire(timeout=timeout)
    deadline = monotonic() + timeout
    while not lock.acquire(False):
        if monotonic() >= deadline:
            return False
        time.sleep(0.001)
    return True


try:
    BlockingIOError = BlockingIOError
except NameError:  # 2.7
    BlockingIOError = OSError


def set_blocking(fd, blocking):
    if hasattr(os, "set_blocking"):
        return os.set_blocking(fd, blocking)
    import fcntl
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    if blocking:
        flags &= ~os.O_NONBLOCK
    else:
        flags |= os.O_NONBLOCK
    fcntl.fcntl(fd, fcntl.F_SETFL, flags)
