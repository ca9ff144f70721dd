"""plop.checkpoint: rewrite a running collection's profile every N seconds.

A program that ends with os._exit() (a forking server's children,
multiprocessing workers) or dies of a fatal signal never reaches the code
that writes its profile at exit.  A Checkpointer thread writes the profile
so far every `interval` seconds (atomically, see plop.profile_io), so such
a program loses at most the last interval of samples.

Cost: each checkpoint builds the {stack: count} dict from the C table and
writes the whole file (one fsync): about 3 ms for 100 distinct stacks of
depth 20, 0.3 s for 10,000, 3.4 s for 100,000 (bench/bench_flush.py).  So
the wait before the next checkpoint is the interval or MAX_SHARE_FACTOR
times what the last one took, whichever is longer: checkpoints never take
more than 1/MAX_SHARE_FACTOR of the time, and a profile with a huge table
is checkpointed less often than asked.  The thread sleeps in between
(Event.wait); samples that land on it while it writes are plop's time and
are dropped from the profile (plop.profile_io.strip_launcher).
"""
import os
import threading

from plop import compat

# Seconds between checkpoints when the CLI or the toggle is not told
# otherwise: at most this much of a collection is lost to os._exit() or a
# crash.
DEFAULT_FLUSH_INTERVAL = 10.0

# Checkpoints take at most 1/MAX_SHARE_FACTOR of the wall time (5%).
MAX_SHARE_FACTOR = 20


def next_wait(interval, last_cost):
    """Seconds to wait before the next checkpoint, the last one having
    taken last_cost seconds."""
    return max(interval, MAX_SHARE_FACTOR * last_cost)


class Checkpointer(object):
    """Calls write() every `interval` seconds in a daemon thread until
    stop().  write() does its own error handling; an exception it lets out
    is reported once on stderr and checkpoints go on."""

    def __init__(self, write, interval):
        if not interval > 0:
            raise ValueError("interval must be positive, not %r"
                             % (interval,))
        self._write = write
        self.interval = interval
        self.checkpoints = 0
        self._stop = threading.Event()
        self._reported = False
        self._thread = threading.Thread(target=self._loop,
                                        name="plop-checkpoint")
        self._thread.daemon = True

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Stops the thread and waits for a checkpoint in progress to end,
        so that a write made after stop() returns is never overwritten by
        an older checkpoint."""
        self._stop.set()
        if self._thread.ident is not None and \
                self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self):
        wait = self.interval
        while not self._stop.wait(wait):
            t0 = compat.perf_counter()
            try:
                self._write()
                self.checkpoints += 1
            except Exception as e:
                if not self._reported:
                    self._reported = True
                    try:
                        os.write(2, ("plop: error: checkpoint: %s\n" % e)
                                 .encode("utf-8", "replace"))
                    except OSError:
                        pass
            wait = next_wait(self.interval, compat.perf_counter() - t0)
