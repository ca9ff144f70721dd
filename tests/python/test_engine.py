"""Tests of the sampling engine against real C code (tests/native/, the
_plopnative extension built by `make test-collector`): every thread is
sampled while the main thread waits in C, a C thread calling into Python
through PyGILState_Ensure is charged its callbacks' CPU only, and the
program keeps its own signals, timers and wakeup fd in every mode."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import portable

from plop.collector import Collector

NATIVE_DIR = os.environ.get("PLOP_NATIVE_DIR")
if not NATIVE_DIR:
    raise RuntimeError("PLOP_NATIVE_DIR is not set: run these tests with "
                       "`make test-collector`, which builds _plopnative")
sys.path.insert(0, NATIVE_DIR)
import _plopnative  # noqa: E402

COLLECTOR_DIR = os.path.dirname(os.path.dirname(
    os.path.abspath(__import__("plop").__file__)))


def burn(seconds):
    end = portable.thread_time() + seconds
    x = 0
    while portable.thread_time() < end:
        for i in range(2000):
            x += i * i
    return x


def short(name):
    return name.rsplit(".", 1)[-1]


def attribute(stack_counts, names):
    out = dict.fromkeys(names, 0)
    for stack, n in stack_counts.items():
        for _, _, name in stack:
            if short(name) in out:
                out[short(name)] += n
                break
    return out


class MainBlockedInCTest(unittest.TestCase):

    def run_workers(self, mode, interval):
        cpu = {}
        r, w = os.pipe()
        done = threading.Event()
        # the workers outlive the samples: the CPU a thread uses after the
        # last sample before it ends is never seen (README, known limits),
        # and on 2.7 and 3.6 the sampler, competing with two workers for
        # the GIL, can be 100 ms late
        leave = threading.Event()

        def worker_one():
            t = portable.thread_time()
            burn(0.3)
            cpu["worker_one"] = portable.thread_time() - t
            leave.wait()

        def worker_two():
            t = portable.thread_time()
            burn(0.6)
            cpu["worker_two"] = portable.thread_time() - t
            while len(cpu) < 2:
                time.sleep(0.01)
            done.set()
            leave.wait()

        def waker():
            done.wait()
            time.sleep(0.05)        # a few more samples after the work
            os.write(w, b"!")

        c = Collector(interval=interval, mode=mode)
        p0 = portable.process_time()
        c.start(duration=None)
        ts = [threading.Thread(target=f)
              for f in (worker_one, worker_two, waker)]
        for t in ts:
            t.start()
        interrupted = _plopnative.wait_fd(r)     # main waits in C
        c.stop()
        leave.set()
        process_cpu = portable.process_time() - p0
        for t in ts:
            t.join()
        os.close(r)
        os.close(w)
        self.assertEqual(interrupted, 0)         # no EINTR reached it
        return c, cpu, process_cpu

    def test_threads_sampled_while_main_waits_in_c_cpu_modes(self):
        for mode in ("prof", "virtual"):
            c, cpu, process_cpu = self.run_workers(mode, 0.005)
            got = attribute(c.stack_counts, cpu)
            total = sum(c.stack_counts.values()) * 0.005
            msg = "%s: got %r for %r" % (mode, got, cpu)
            share = 100.0 * got["worker_one"] / (sum(got.values()) or 1)
            want = 100.0 * cpu["worker_one"] / sum(cpu.values())
            # 2.7 and 3.6 hand the GIL to the sampler through the main
            # thread, which waits in C here: the sampler then competes
            # with the two workers at each switch interval and can first
            # see a worker tens of ms after it started; that time is
            # charged at first sight (FirstSightTest; 8.8 points off on
            # 3.6 when it was not)
            self.assertAlmostEqual(share, want, delta=5, msg=msg)
            self.assertGreater(total, 0.8 * sum(cpu.values()), msg)
            self.assertLessEqual(total, process_cpu + 0.01, msg)

    def test_threads_sampled_while_main_waits_in_c_real_mode(self):
        t0 = portable.monotonic()
        c, cpu, _ = self.run_workers("real", 0.005)
        wall = portable.monotonic() - t0
        got = attribute(c.stack_counts, cpu)
        self.assertGreater(got["worker_one"], 0.25 / 0.005 * 0.8, got)
        self.assertGreater(got["worker_two"], 0.5 / 0.005 * 0.8, got)
        # real mode charges wall time to every thread with a Python stack,
        # running or waiting: four at most (the two workers, the waker and
        # the main thread, waiting in C under its Python frames)
        total = sum(c.stack_counts.values()) * 0.005
        self.assertLessEqual(total, 4 * wall + 0.02)
        self.assertGreater(attribute(c.stack_counts, ["run_workers"])
                           ["run_workers"], 0)


class CThreadCallbackTest(unittest.TestCase):
    """A C thread does 0.2 s of C work, then a 0.05 s Python callback, six
    times; only the callbacks' CPU is charged."""

    def check(self, mode, interval):
        spent = []

        def callback():
            t = portable.thread_time()
            burn(0.05)
            spent.append(portable.thread_time() - t)

        c = Collector(interval=interval, mode=mode)
        p0 = portable.process_time()
        c.start(duration=None)
        c_cpu = _plopnative.c_thread_callbacks(callback, 6, 0.2)
        c.stop()
        process_cpu = portable.process_time() - p0
        charged = attribute(c.stack_counts, ["callback"])["callback"]
        charged *= interval
        truth = sum(spent)
        msg = "%s at %s: charged %.3f s for %.3f s of callbacks (C thread " \
              "%.3f s CPU)" % (mode, interval, charged, truth, c_cpu)
        # each callback can gain or lose about one interval at each end
        slack = 0.15 * truth + 2 * len(spent) * interval
        self.assertAlmostEqual(charged, truth, delta=slack, msg=msg)
        total = sum(c.stack_counts.values()) * interval
        self.assertLessEqual(total, process_cpu + 0.01, msg)

    def test_callbacks_charged_their_cpu_prof(self):
        self.check("prof", 0.01)
        self.check("prof", 0.004)

    def test_callbacks_charged_their_cpu_real(self):
        # in real mode the callbacks' wall time: CPU-bound, the same
        # on an idle machine; on a loaded one only the upper bound holds
        spent = []

        def callback():
            burn(0.05)
            spent.append(1)

        c = Collector(interval=0.005, mode="real")
        t0 = portable.monotonic()
        c.start(duration=None)
        _plopnative.c_thread_callbacks(callback, 6, 0.2)
        c.stop()
        wall = portable.monotonic() - t0
        charged = attribute(c.stack_counts, ["callback"])["callback"] * 0.005
        self.assertGreater(charged, 0.8 * 0.3)
        # the C work (1.2 s of CPU) is never charged
        self.assertLess(charged, wall - 1.0)


class FirstSightTest(unittest.TestCase):
    """The sampler first sees a thread after the thread has run (it waited
    for the GIL meanwhile: on 2.7 and 3.6 threads contending for the GIL
    keep it waiting 100 ms and more).  A thread of the threading module
    was born in the collection and ran Python from its first instruction:
    all its CPU is charged.  A thread born in C, or one of
    _thread.start_new_thread, may have worked in C first: charged from
    first sight only.  Driven sweep by sweep (start(_arm=False) and
    _sample(): no timer), so the first sight is where the test puts it."""

    interval = 0.001

    def sampler(self, mode):
        c = Collector(interval=self.interval, mode=mode)
        c._sampler.start(None, _arm=False)  # start()'s sweep, no thread
        self.addCleanup(c._sampler.stop)
        return c

    def charged(self, c, name):
        return attribute(c.stack_counts, [name])[name] * self.interval

    @staticmethod
    def burn_into(cpu, seconds):
        """Burns `seconds` of CPU, appending the thread time it took."""
        t = portable.thread_time()
        burn(seconds)
        cpu.append(portable.thread_time() - t)

    def check_threading_thread(self, mode):
        c = self.sampler(mode)
        cpu = []
        burnt, more, done, leave = (threading.Event(), threading.Event(),
                                    threading.Event(), threading.Event())

        def worker():
            self.burn_into(cpu, 0.2)
            burnt.set()
            more.wait()
            self.burn_into(cpu, 0.05)
            done.set()
            leave.wait()

        t = threading.Thread(target=worker)
        t.start()
        burnt.wait()
        c._sampler._sample()          # first sight: waiting in more.wait()
        first = self.charged(c, "worker")
        more.set()
        done.wait()
        c._sampler._sample()
        total = self.charged(c, "worker")
        leave.set()
        t.join()
        msg = "%s: charged %.4f s then %.4f s for %r" % (mode, first, total,
                                                          cpu)
        # its CPU before the burn (bootstrap, Event calls) is charged too
        self.assertGreaterEqual(first, cpu[0] - self.interval, msg)
        self.assertLess(first, cpu[0] + 0.01, msg)
        if mode == "prof":
            self.assertAlmostEqual(total - first, cpu[1], delta=0.01,
                                   msg=msg)

    def test_threading_thread_charged_from_birth_prof(self):
        self.check_threading_thread("prof")

    def test_threading_thread_charged_from_birth_real(self):
        # real mode charges its CPU: a lower bound of its wall time alive
        self.check_threading_thread("real")

    def test_start_new_thread_charged_from_first_sight(self):
        try:
            import _thread as low
        except ImportError:
            import thread as low
        c = self.sampler("prof")
        cpu = []
        burnt, leave = threading.Event(), threading.Event()

        def raw_worker():
            self.burn_into(cpu, 0.2)
            burnt.set()
            leave.wait()

        low.start_new_thread(raw_worker, ())
        burnt.wait()
        c._sampler._sample()
        leave.set()
        self.assertEqual(self.charged(c, "raw_worker"), 0.0, cpu)

    def test_c_thread_charged_from_first_sight(self):
        # the C thread burns 0.2 s in C, then its callback 0.05 s in
        # Python and sweeps: its first sight, in its own callback
        c = self.sampler("prof")
        spent = []

        def callback():
            t = portable.thread_time()
            burn(0.05)
            spent.append(portable.thread_time() - t)
            c._sampler._sample()

        c_cpu = _plopnative.c_thread_callbacks(callback, 1, 0.2)
        self.assertGreater(c_cpu, 0.24)
        self.assertEqual(self.charged(c, "callback"), 0.0, spent)


class LateNudgeTest(unittest.TestCase):
    """While the sampler waits for the GIL, the nudger renews the drop
    request.  A renewal that comes after the sampler's turn must ask
    nothing: the holder, asked, waits in drop_gil() for a thread to take
    the GIL over, and in a CPU mode an idle program brings no tick to do
    it (a test run hung so on 3.13).  _nudge() makes such a renewal from
    the main thread, which holds the GIL; a child process, so that a hang
    is a timeout and not the end of the suite."""

    def test_a_nudge_after_the_samplers_turn_asks_nothing(self):
        code = textwrap.dedent("""\
            from plop.collector import Collector
            c = Collector(interval=1.0, mode="prof")   # no tick comes
            c.start(duration=None)
            for _ in range(5):
                c._sampler._nudge()
                x = 0
                for i in range(100000):
                    x += i
            c.stop()
            print("done")
            """)
        env = dict(os.environ, PYTHONPATH=portable.pythonpath(COLLECTOR_DIR))
        try:
            r = portable.run([sys.executable, "-c", code], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=30)
        except portable.TimeoutExpired:
            self.fail("the program hung after a late nudge")
        self.assertEqual(r.stdout, "done\n", r.stderr)


class ProgramKeepsItsSignalsTest(unittest.TestCase):

    def test_pause_waits_for_the_programs_own_alarm(self):
        for mode in ("prof", "virtual", "real"):
            got = []
            old = signal.signal(signal.SIGALRM,
                                lambda s, f: got.append(s))
            c = Collector(interval=0.001, mode=mode)
            c.start()
            try:
                t = portable.monotonic()
                signal.setitimer(signal.ITIMER_REAL, 0.3)
                signal.pause()
                elapsed = portable.monotonic() - t
            finally:
                c.stop()
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
            self.assertEqual(got, [signal.SIGALRM], mode)
            self.assertGreater(elapsed, 0.28, mode)

    def test_no_signal_reaches_the_wakeup_fd(self):
        # what an idle asyncio loop with a signal handler listens to
        r, w = os.pipe()
        portable.set_blocking(w, False)
        portable.set_blocking(r, False)
        old = signal.set_wakeup_fd(w)
        try:
            for mode in ("prof", "virtual", "real"):
                c = Collector(interval=0.001, mode=mode)
                c.start()
                burn(0.1)
                time.sleep(0.1)
                c.stop()
                self.assertGreater(c.samples_taken, 0, mode)
                with self.assertRaises(portable.BlockingIOError, msg=mode):
                    os.read(r, 100)
        finally:
            signal.set_wakeup_fd(old)
            os.close(r)
            os.close(w)

    def test_stop_from_a_worker_while_main_waits_in_c(self):
        c = Collector(interval=0.002, mode="real")
        c.start()
        r, w = os.pipe()
        seen = []

        def worker():
            burn(0.1)
            c.stop()
            seen.append(c.samples_taken)
            burn(0.1)
            seen.append(c.samples_taken)
            os.write(w, b"!")
        t = threading.Thread(target=worker)
        t.start()
        _plopnative.wait_fd(r)
        t.join()
        os.close(r)
        os.close(w)
        self.assertTrue(c.stopped)
        self.assertGreater(seen[0], 5)
        self.assertEqual(seen[0], seen[1])


if __name__ == "__main__":
    unittest.main()
