"""plop.checkpoint: rewrite a running collection's profile every N seconds.

A program that ends with os._exit() (a forking server's children,
multiprocessing workers) or dies of a fatal signal never reaches the code
that writes its profile at exit.  A Checkpointer thread writes the profile
so far every `interval` seconds (atomically, see plop.profile_io), so such
a program loses at most the last interval of samples.

Cost: each checkpoint builds the {stack: count} dict from the C table and
writes the whole file (one fsync); bench/bench_collector.py measures it
per checkpoint and as a share of the default interval.  The thread sleeps
in between (Event.wait), so it takes no samples' worth of CPU time while
idle; samples that land on it while it writes are dropped from the
profile (plop.profile_io.strip_launcher).
"""
import os
import threading

# Seconds between checkpoints when the CLI or the toggle is not told
# otherwise: at most this much of a collection is lost to os._exit() or a
# crash.
DEFAULT_FLUSH_INTERVAL = 10.0


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
        while not self._stop.wait(self.interval):
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
