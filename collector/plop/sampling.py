"""plop.sampling: the Collector class, the Python face of the C sampler.

    from plop.collector import Collector     # where README imports it from
    with Collector(interval=0.01, mode='prof') as c:
        work()
    print(repr(dict(c.stack_counts)))       # the plop.out format

The sampling itself is C (plop._collector.Sampler; see
collector/src/sampler.c): a native thread of the extension, woken by a
timer on the mode's clock, takes the GIL, walks every thread's frames and
counts the stack in a C hash table.  No signal or timer of the program is
used.  This module checks
arguments, keeps the API of the original plop, and resets collectors in a
forked child.  Writing profiles is plop.profile_io's job, the command line
plop.cli's.
"""
import sys
import weakref

from plop import _collector
from plop import compat

__all__ = ["Collector", "MODES", "DEFAULT_MAX_STACKS", "DEFAULT_MAX_DEPTH"]

MODES = ("prof", "virtual", "real")

DEFAULT_MAX_STACKS = 100000
DEFAULT_MAX_DEPTH = 1024

_NUMBER_TYPES = compat.integer_types + (float,)

_live = weakref.WeakSet()

class Collector(object):
    """Samples the stacks of every Python thread of this process.

    interval: seconds of timer time between samples (> 0).
    mode: 'prof' (CPU time), 'virtual' (the same clock as 'prof', kept
      for the original plop's API) or 'real' (wall clock).
    lines: record the line being executed instead of the function's first
      line.
    max_stacks: cap on distinct stacks (0: no cap); counts beyond it go to
      the stack (('<plop>', 0, '<overflow>'),) and to `overflow`.
    max_depth: cap on frames per stack; deeper stacks keep their leaf-most
      frames and end with ('<plop>', 0, '<truncated>').

    Counts are time-weighted: a count is `interval` seconds of the thread's
    CPU time (CPU modes) or of wall time (real mode).
    """

    def __init__(self, interval=0.01, mode="virtual", lines=False,
                 max_stacks=DEFAULT_MAX_STACKS, max_depth=DEFAULT_MAX_DEPTH):
        if mode not in MODES:
            raise ValueError("unknown mode %r (expected one of: %s)"
                             % (mode, ", ".join(MODES)))
        if (isinstance(interval, bool)
                or not isinstance(interval, _NUMBER_TYPES)
                or not 1e-6 <= interval <= 1e6):
            raise ValueError("interval must be a number of seconds between "
                             "1e-06 and 1e+06, not %r" % (interval,))
        for name, value, low in (("max_stacks", max_stacks, 0),
                                 ("max_depth", max_depth, 1)):
            if (isinstance(value, bool) or not isinstance(value, compat.integer_types)
                    or value < low):
                raise ValueError("%s must be an integer >= %d, not %r"
                                 % (name, low, value))
        self._sampler = _collector.Sampler(mode=mode, interval=float(interval),
                                           lines=bool(lines),
                                           max_stacks=max_stacks,
                                           max_depth=max_depth)
        self.interval = interval
        self.mode = mode
        self.lines = bool(lines)
        _live.add(self)

    def start(self, duration=30.0):
        """Starts the sampler thread (from any thread).  Sampling stops by
        itself after `duration` seconds of timer time (None: until stop()).
        Raises RuntimeError when this collector is already running."""
        if duration is not None and (
                isinstance(duration, bool)
                or not isinstance(duration, _NUMBER_TYPES) or not duration > 0):
            raise ValueError("duration must be a positive number of seconds "
                             "or None, not %r" % (duration,))
        self._sampler.start(duration)

    def stop(self):
        """Stops sampling (from any thread): no sample is taken once it
        returns.  Stopping a stopped collector does nothing."""
        self._sampler.stop()

    def reset(self):
        """Forgets every sample (sampling goes on if running)."""
        self._sampler.reset()

    def __enter__(self):
        self.start(duration=None)
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def stack_counts(self):
        """A new dict {stack: count}: stacks are leaf-first tuples of
        (co_filename, line, co_name) frames.  Can be read while running."""
        return self._sampler.stack_counts()

    @property
    def samples_taken(self):
        return self._sampler.samples_taken

    @property
    def sample_time(self):
        """Seconds spent inside the sampler."""
        return self._sampler.sample_time

    @property
    def stopped(self):
        return not self._sampler.running

    @property
    def overflow(self):
        """Counts that went to the overflow stack (max_stacks reached)."""
        return self._sampler.overflow

    @property
    def nomemory(self):
        """Counts lost because memory ran out inside the sampler; they are
        also in the stack (('<plop>', 0, '<nomemory>'),)."""
        return self._sampler.nomemory

    @property
    def late_samples(self):
        """Samples whose wait for the GIL outlasted a tick of the timer (a
        C call held the GIL): their ticks were charged to the code the
        sample found when the call returned, nothing was lost."""
        return self._sampler.late_samples

    @property
    def longest_wait(self):
        """The longest the sampler waited for the GIL at a tick, in
        seconds (since creation or reset())."""
        return self._sampler.longest_wait

    @property
    def unique_stacks(self):
        return self._sampler.unique_stacks

    @property
    def max_stacks(self):
        return self._sampler.max_stacks

    @property
    def max_depth(self):
        return self._sampler.max_depth

    def _after_fork_child(self):
        self._sampler._after_fork_child()


def _after_fork_in_child():
    for c in list(_live):
        try:
            c._after_fork_child()
        except Exception as e:  # never break the child over a profiler
            sys.stderr.write("plop: error: cannot reset collector after "
                             "fork: %s\n" % e)


compat.register_at_fork(_after_fork_in_child)
