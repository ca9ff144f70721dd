"""plop.toggle: switch profiling on and off in a running process with a
signal, for processes that were not started under `python -m plop.collector`.

    import signal
    from plop.toggle import install_signal_toggle
    install_signal_toggle(signal.SIGUSR2, output="/tmp/plop.out")

    $ kill -USR2 PID    # collection starts
    $ kill -USR2 PID    # collection stops; /tmp/plop.out is written

`python -m plop.collector --toggle-signal USR2 app.py` does the same for a
script.

How the work is split, and why:
- CPython's own C-level handler receives the signal and only records it
  (async-signal-safe).  The Python function installed here runs later, in
  the main thread, between two bytecodes, and only flips the state: it
  starts a new Collector (arm the timer, install the sampler), or it stops
  the running one (disarm the timer; then, in a second pass explained at
  _begin_stop, restore the timer signal's handler) and queues it.  These
  are cheap calls into the C core, and Collector.start() must run in the
  main thread (signal.signal()), which is where this function runs.
- Everything slow -- building the {stack: count} dict, formatting it,
  writing the file -- runs in a writer thread started by
  install_signal_toggle(), so the interrupted code is held up for
  microseconds, not for the time it takes to write the profile.  The file is
  written by plop.profile_io.write_profile: to a temporary name, then
  renamed, so a reader never sees half a profile.  While a collection runs,
  the writer thread also rewrites its profile every `flush_interval` seconds
  (default plop.checkpoint.DEFAULT_FLUSH_INTERVAL), so a process that ends
  by os._exit() or a crash loses at most that much of it.

A signal that arrives during a sample: the sampler is C code that runs no
bytecode, so the toggle never runs inside a sample; it runs before or after
it.  A timer signal still pending when the toggle stops collection is
handled by the sampler before its handler is restored (see _begin_stop), so
the last sample in flight is counted and CPython never reports it as
"ignored due to race condition".  A signal that arrives while the previous
toggle is still running does not nest: it is queued and handled as the next
flip as soon as the current one returns.  Signals sent faster than the
process handles them coalesce (POSIX keeps one pending signal per number),
so two `kill`s in the same instant may count as one; wait for the
"collecting" / "wrote" line on stderr between them.  A toggle that arrives
while the main thread is blocked in a long C call takes effect when that
call returns (sleep, select and socket reads are interrupted and resume).
Errors in the handler (e.g. the sampling signal already belongs to someone
else) are written to stderr and never raised into the interrupted code.

Each stop writes `output`, replacing the previous profile; '{pid}' and '{n}'
(the number of the collection, from 1) in `output` are replaced, so
'/tmp/plop-{pid}-{n}.out' keeps every one.  A collection still running when
the process exits normally is stopped and written at exit.
"""
import atexit
import os
import signal
import sys
import threading

from plop import compat
from plop.checkpoint import DEFAULT_FLUSH_INTERVAL, next_wait
from plop.profile_io import check_format, strip_launcher, write_profile
from plop.sampling import Collector

__all__ = ["install_signal_toggle", "SignalToggle"]

# Queued when a collection starts, so the writer thread, idle until then,
# starts counting the time to its first checkpoint.
_WAKE = object()


def _signal_number(signum):
    if isinstance(signum, compat.string_types):
        name = signum.upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        num = getattr(signal, name, None)
        if not isinstance(num, int):
            raise ValueError("unknown signal '%s'" % signum)
        return int(num)
    return int(signum)


def _say(text):
    # os.write, not sys.stderr: the interrupted code may be inside a write
    # to sys.stderr, whose buffer refuses reentrant calls.
    try:
        os.write(2, ("plop: %s\n" % text).encode("utf-8", "replace"))
    except OSError:
        pass


class SignalToggle(object):
    """The state behind install_signal_toggle().  Attributes: signum,
    output, format, flush_interval, collector_kwargs, active (a collection
    is running), collections (how many were started), checkpoints (how
    many checkpoint writes were made), last_error (text of the last
    failure, or None)."""

    def __init__(self, signum, output, fmt, duration, collector_kwargs,
                 flush_interval=DEFAULT_FLUSH_INTERVAL):
        # Check the arguments now, in the caller, rather than at the first
        # signal in the middle of someone else's code.
        Collector(**collector_kwargs)
        self.signum = signum
        self.output = output
        self.format = fmt
        self.duration = duration
        self.flush_interval = flush_interval
        self.checkpoints = 0
        self.collector_kwargs = dict(collector_kwargs)
        self.collections = 0
        self.last_error = None
        self._collector = None
        self._stopping = None
        self._number = 0
        self._busy = False
        self._installed = False
        self._previous = None
        self._new_state()

    @property
    def active(self):
        return self._collector is not None

    def _new_state(self):
        # SimpleQueue.put is reentrant: safe from a signal handler (see
        # plop.compat.SimpleQueue before 3.7).
        self._flips = compat.SimpleQueue()
        self._jobs = compat.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop,
                                        name="plop-toggle-writer")
        self._writer.daemon = True
        self._writer.start()

    def _after_fork_in_child(self):
        # The child has no writer thread and must not write the parent's
        # collection; it starts fresh, still toggled by the same signal.
        self._collector = None
        self._stopping = None
        self._busy = False
        self._new_state()

    def install(self):
        self._previous = signal.signal(self.signum, self._handle)
        self._installed = True
        compat.register_at_fork(self._after_fork_in_child)
        atexit.register(self._at_exit)

    def uninstall(self):
        """Restores the previous handler.  A running collection is stopped
        and written.  Must be called from the main thread."""
        if self._installed:
            signal.signal(self.signum, self._previous)
            self._installed = False
        self._stop_now()
        self.flush()

    def flush(self, timeout=60.0):
        """Waits until every queued profile is written (at most timeout
        seconds).  Returns True if the writer is idle."""
        done = threading.Event()
        self._jobs.put(done)
        return done.wait(timeout)

    def _handle(self, signum, frame):
        self._flips.put(None)
        while not self._busy:
            self._busy = True
            try:
                while True:
                    try:
                        self._flips.get_nowait()
                    except compat.queue.Empty:
                        break
                    self._flip()
            finally:
                self._busy = False
            if self._flips.empty():
                break

    def _flip(self):
        try:
            if self._stopping is not None:
                self._finish_stop()
            elif self._collector is None:
                self._start()
            else:
                self._begin_stop()
        except Exception as e:  # never raise into the interrupted code
            self.last_error = "toggle: %s" % e
            _say("error: %s" % self.last_error)

    def _start(self):
        c = Collector(**self.collector_kwargs)
        c.start(duration=self.duration)
        self.collections += 1
        self._collector = c
        self._number = self.collections
        if self.flush_interval:
            self._jobs.put(_WAKE)
        _say("collecting; send %s again to stop and write '%s'"
             % (compat.signal_name(self.signum), self._path()))

    # Stopping takes two passes of CPython's signal dispatch.  CPython runs
    # the handlers of all pending signals in one pass, by signal number; if
    # this handler restored the timer signal's disposition (stop()) while a
    # timer signal with a higher number (SIGPROF is 27, SIGUSR2 12) was
    # pending in the same pass, CPython would print "Signal 27 ignored due
    # to race condition" into the program's stderr.  So the first pass only
    # disarms the timer -- no new timer signal can come -- and sends this
    # process the toggle signal again; the pending timer signal, if any, is
    # handled by the sampler in the rest of this pass, and the next pass
    # (the re-sent signal) does the real stop() with nothing pending.

    def _begin_stop(self):
        c, self._collector = self._collector, None
        self._stopping = c
        self._disarm(c)
        os.kill(os.getpid(), self.signum)

    def _finish_stop(self):
        c, self._stopping = self._stopping, None
        c.stop()
        self._jobs.put((c, self._path()))

    def _stop_now(self):
        """Stops from ordinary code (uninstall, exit): no second pass
        needed, the calls between the two steps let CPython run a pending
        timer signal's handler."""
        if self._collector is not None:
            c, self._collector = self._collector, None
            self._stopping = c
            self._disarm(c)
        if self._stopping is not None:
            self._finish_stop()

    @staticmethod
    def _disarm(c):
        # The sampler uses no signal or timer of the program: stopping it
        # is synchronous and leaves nothing pending.
        c.stop()

    def _path(self):
        return (self.output.replace("{pid}", str(os.getpid()))
                .replace("{n}", str(self._number)))

    def _write_loop(self):
        # Checkpoints and final writes are made by this one thread, in
        # order, so a checkpoint never replaces the final profile.
        wait = self.flush_interval
        while True:
            try:
                if self.flush_interval and self._collector is not None:
                    job = self._jobs.get(timeout=wait)
                else:
                    job = self._jobs.get()
            except compat.queue.Empty:
                t0 = compat.perf_counter()
                self._checkpoint()
                wait = next_wait(self.flush_interval,
                                 compat.perf_counter() - t0)
                continue
            if job is _WAKE:  # a collection started: time its checkpoints
                continue
            if isinstance(job, compat.EventType):
                job.set()
                continue
            c, path = job
            try:
                stacks = self._write(c, path)
                _say("wrote %d samples to '%s'" % (
                    sum(stacks.values()), path))
            except Exception as e:
                self.last_error = "cannot write '%s': %s" % (path, e)
                _say("error: %s" % self.last_error)

    def _write(self, c, path):
        # as the CLI writes them: without plop's and runpy's frames under
        # the program's own
        stacks = strip_launcher(c.stack_counts)
        write_profile(stacks, path, format=self.format, interval=c.interval,
                      mode=c.mode)
        return stacks

    def _checkpoint(self):
        c = self._collector
        if not self.flush_interval or c is None:
            return
        path = self._path()
        try:
            self._write(c, path)
            self.checkpoints += 1
        except Exception as e:
            self.last_error = "cannot write checkpoint '%s': %s" % (path, e)
            _say("error: %s" % self.last_error)

    def finish(self):
        """Stops a running collection and waits until its profile is
        written (the CLI calls it on SIGTERM; atexit at exit).  Must be
        called from the main thread."""
        try:
            self._stop_now()
        except Exception as e:
            _say("error: toggle: %s" % e)
        self.flush()

    def _at_exit(self):
        self.finish()


def install_signal_toggle(signum, output="/tmp/plop.out", format="plop",
                          duration=None,
                          flush_interval=DEFAULT_FLUSH_INTERVAL,
                          **collector_kwargs):
    """Makes signal `signum` (a number, or a name such as 'USR2') switch
    profiling on and off in this process: the first signal starts a
    plop.collector.Collector(**collector_kwargs), the next one stops it and
    writes its profile to `output` atomically, in `format` ('plop': the
    repr dict, 'flamegraph': collapsed stacks, or 'pprof', whose period is
    the collector's interval), and so on.  `duration` caps one collection
    in seconds of timer time (default: until the next
    signal.  While a collection runs, its profile is rewritten every
    `flush_interval` seconds (0 or None: only when it stops).  Must be
    called from the main thread (as signal.signal()).
    Returns the SignalToggle; its uninstall() restores the previous handler.

    Raises ValueError for an unknown signal or format, an output directory
    that does not exist, and whatever Collector() raises for bad collector
    arguments."""
    num = _signal_number(signum)
    where = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(where):
        raise ValueError("output directory '%s' does not exist" % where)
    check_format(format)
    if flush_interval is not None and not flush_interval >= 0:
        raise ValueError("flush_interval must be a number of seconds >= 0, "
                         "not %r" % (flush_interval,))
    if num in (signal.SIGKILL, signal.SIGSTOP):
        raise ValueError("signal %d cannot be caught" % num)
    toggle = SignalToggle(num, output, format, duration, collector_kwargs,
                          flush_interval or 0)
    toggle.install()
    return toggle


if __name__ == "__main__":
    sys.stderr.write("plop.toggle is a library: see "
                     "'python -m plop.collector --toggle-signal'\n")
    sys.exit(2)
