"""Tests of plop.collector.Collector (the C sampler through its Python API):
the plop.out round trip, start/stop/reset and the context manager, argument
errors, accuracy of the time-weighted counts (CPU functions, a long C call,
threads, a sleeping thread), caps, line mode, and live on/off cycles."""
import ast
import gc
import os
import random
import signal
import sys
import threading
import time
import unittest

from plop import _collector
from plop.collector import Collector


def burn(seconds):
    """Burns `seconds` of this thread's CPU time in Python code."""
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        for i in range(2000):
            x += i * i
    return x


def fa(s):
    return burn(s)


def fb(s):
    return burn(s)


def fc(s):
    return burn(s)


def timed(fn, *args, **kw):
    """The thread CPU time (or, with clock=, that clock's time) fn took."""
    clock = kw.get("clock", time.thread_time)
    t = clock()
    fn(*args)
    return clock() - t


def attribute(stack_counts, names):
    """Counts per name: each stack goes to its leaf-most frame whose
    function name is in `names` (stacks with none are left out)."""
    out = dict.fromkeys(names, 0)
    for stack, n in stack_counts.items():
        for _, _, name in stack:
            if name in out:
                out[name] += n
                break
    return out


def shares(d):
    total = float(sum(d.values()))
    return dict((k, 100.0 * v / total) for k, v in d.items()) if total else d


def assert_clean(test, sig=signal.SIGPROF, which=signal.ITIMER_PROF):
    test.assertEqual(signal.getitimer(which), (0.0, 0.0))
    test.assertIn(signal.getsignal(sig), (signal.SIG_DFL, None))


class ApiTest(unittest.TestCase):

    def tearDown(self):
        for sig in (signal.SIGPROF, signal.SIGVTALRM, signal.SIGALRM):
            self.assertIn(signal.getsignal(sig),
                          (signal.SIG_DFL, signal.SIG_IGN, None),
                          "a handler was left installed")

    def test_round_trip_of_plop_format(self):
        c = Collector(interval=0.005, mode="prof")
        c.start(duration=None)
        fa(0.1)
        c.stop()
        counts = c.stack_counts
        self.assertGreater(len(counts), 0)
        back = ast.literal_eval(repr(dict(counts)))
        self.assertEqual(back, counts)
        for stack, n in back.items():
            self.assertIsInstance(stack, tuple)
            self.assertIsInstance(n, int)
            self.assertGreater(n, 0)
            for frame in stack:
                self.assertEqual(len(frame), 3)
                self.assertIsInstance(frame[0], str)
                self.assertIsInstance(frame[1], int)
                self.assertIsInstance(frame[2], str)
        # leaf first: burn is the leaf, fa its caller, this test below them
        leafy = [s for s in counts if s[0][2] == "burn"]
        self.assertTrue(leafy)
        self.assertEqual(leafy[0][1][2], "fa")
        self.assertEqual(leafy[0][0][0], os.path.abspath(__file__)
                         if os.path.isabs(leafy[0][0][0]) else __file__)
        self.assertEqual(leafy[0][0][1], burn.__code__.co_firstlineno)
        self.assertIn("test_round_trip_of_plop_format",
                      [f[2] for f in leafy[0]])

    def test_start_stop_start_and_reset(self):
        c = Collector(interval=0.005, mode="prof")
        self.assertTrue(c.stopped)
        c.start()
        self.assertFalse(c.stopped)
        fa(0.05)
        c.stop()
        self.assertTrue(c.stopped)
        assert_clean(self)
        first = c.samples_taken
        self.assertGreater(first, 0)
        c.start()
        fb(0.05)
        c.stop()
        self.assertGreater(c.samples_taken, first)
        names = set(f[2] for s in c.stack_counts for f in s)
        self.assertTrue({"fa", "fb"} <= names)
        self.assertGreater(c.sample_time, 0)
        c.reset()
        self.assertEqual(c.stack_counts, {})
        self.assertEqual(c.samples_taken, 0)
        self.assertEqual(c.sample_time, 0)
        c.stop()  # stopping twice is harmless
        assert_clean(self)

    def test_context_manager(self):
        with Collector(interval=0.005, mode="prof") as c:
            self.assertFalse(c.stopped)
            fc(0.05)
        self.assertTrue(c.stopped)
        assert_clean(self)
        self.assertTrue(any(f[2] == "fc" for s in c.stack_counts for f in s))

    def test_snapshot_while_running(self):
        c = Collector(interval=0.002, mode="prof")
        c.start(duration=None)
        try:
            fa(0.05)
            snap = c.stack_counts
            fa(0.05)
            later = c.stack_counts
        finally:
            c.stop()
        self.assertIsInstance(snap, dict)
        self.assertGreater(sum(later.values()), sum(snap.values()))

    def test_attributes(self):
        c = Collector(interval=0.02, mode="real", lines=True, max_stacks=7)
        self.assertEqual(c.interval, 0.02)
        self.assertEqual(c.mode, "real")
        self.assertTrue(c.lines)
        self.assertEqual(c.max_stacks, 7)
        self.assertEqual(c.samples_taken, 0)
        self.assertEqual(c.sample_time, 0.0)
        self.assertEqual(c.overflow, 0)
        self.assertIn(_collector.frame_reader.split("-")[0],
                      ("structs", "public"))

    def test_bad_arguments(self):
        for kw in (dict(mode="wall"), dict(mode=None), dict(interval=0),
                   dict(interval=-1), dict(interval="fast"),
                   dict(interval=float("nan")), dict(max_stacks=-1),
                   dict(max_depth=0), dict(max_stacks=1.5)):
            with self.assertRaises(ValueError) as cm:
                Collector(**kw)
            self.assertTrue(str(cm.exception))
        with self.assertRaisesRegex(ValueError, "prof, virtual, real"):
            Collector(mode="cpu")
        c = Collector()
        for d in (0, -1, "x"):
            with self.assertRaises(ValueError):
                c.start(duration=d)
        assert_clean(self, signal.SIGVTALRM, signal.ITIMER_VIRTUAL)

    def test_start_twice_is_an_error(self):
        c = Collector(mode="prof")
        c.start()
        try:
            with self.assertRaisesRegex(RuntimeError, "already running"):
                c.start()
            other = Collector(mode="prof")
            with self.assertRaisesRegex(RuntimeError, "another plop"):
                other.start()
            # another mode uses another signal: fine
            real = Collector(mode="real")
            real.start()
            real.stop()
        finally:
            c.stop()
        assert_clean(self)

    def test_duration_stops_by_itself(self):
        c = Collector(interval=0.005, mode="prof")
        c.start(duration=0.05)
        burn(0.3)
        self.assertTrue(c.stopped)
        assert_clean(self)
        total = sum(c.stack_counts.values())
        # 0.05 s of CPU at 5 ms is ~10 counts; the last sample may be late
        self.assertGreater(total, 3)
        self.assertLess(total, 30)

    def test_refuses_foreign_handler(self):
        def mine(signum, frame):
            pass
        old = signal.signal(signal.SIGPROF, mine)
        try:
            c = Collector(mode="prof")
            with self.assertRaisesRegex(RuntimeError, "already has a handler"):
                c.start()
            self.assertIs(signal.getsignal(signal.SIGPROF), mine)
            self.assertTrue(c.stopped)
        finally:
            signal.signal(signal.SIGPROF, old)

    def test_refuses_armed_timer(self):
        old = signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 100.0)
        try:
            c = Collector(mode="real")
            with self.assertRaisesRegex(RuntimeError, "already armed"):
                c.start()
            self.assertIs(signal.getsignal(signal.SIGALRM), signal.SIG_IGN)
            self.assertGreater(signal.getitimer(signal.ITIMER_REAL)[0], 50)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)

    def test_start_and_stop_from_another_thread(self):
        # A web request thread asks for a profile while the main thread
        # runs Python code: the main thread installs and removes the
        # handler for it, and the requester gets the samples.
        c = Collector(interval=0.005, mode="prof")
        log = []

        def requester():
            try:
                c.start(duration=None)
                log.append(("running", not c.stopped))
                deadline = time.time() + 0.6
                while time.time() < deadline:
                    time.sleep(0.01)
                c.stop()
                log.append(("stopped", c.stopped))
            except BaseException as e:
                log.append(("error", repr(e)))
        t = threading.Thread(target=requester)
        t.start()
        while t.is_alive():
            burn(0.02)
        t.join()
        self.assertEqual(log, [("running", True), ("stopped", True)])
        self.assertGreater(c.samples_taken, 0)
        self.assertIn("burn", repr(c.stack_counts))
        assert_clean(self)

    def test_start_from_another_thread_while_main_is_blocked(self):
        # The main thread sits in a lock (no bytecode, no signal): the
        # request times out with a clear error, and the call left queued
        # does nothing when the main thread wakes up later.
        from plop import sampling as mod
        c = Collector(mode="prof")
        errors = []
        release = threading.Event()

        def other():
            # Let the main thread get into release.wait() first: a call
            # queued while it still runs bytecode would simply run.
            time.sleep(0.3)
            try:
                c.start()
            except RuntimeError as e:
                errors.append(str(e))
            finally:
                release.set()
        saved = mod.MAIN_THREAD_TIMEOUT
        mod.MAIN_THREAD_TIMEOUT = 0.3
        try:
            t = threading.Thread(target=other)
            t.start()
            release.wait()
            t.join()
        finally:
            mod.MAIN_THREAD_TIMEOUT = saved
        burn(0.05)      # the main thread runs the cancelled call now
        c.stop()        # in case it started after all (the test fails)
        self.assertEqual(len(errors), 1)
        self.assertIn("main thread", errors[0])
        self.assertTrue(c.stopped)
        assert_clean(self)

    def test_stop_leaves_a_handler_installed_later(self):
        def mine(signum, frame):
            pass
        c = Collector(mode="real", interval=0.01)
        c.start()
        try:
            signal.signal(signal.SIGALRM, mine)
            c.stop()
            self.assertIs(signal.getsignal(signal.SIGALRM), mine)
            self.assertEqual(signal.getitimer(signal.ITIMER_REAL), (0.0, 0.0))
        finally:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def test_restores_sig_ign(self):
        old = signal.signal(signal.SIGVTALRM, signal.SIG_IGN)
        try:
            c = Collector(mode="virtual", interval=0.005)
            c.start()
            burn(0.02)
            c.stop()
            self.assertIs(signal.getsignal(signal.SIGVTALRM), signal.SIG_IGN)
        finally:
            signal.signal(signal.SIGVTALRM, old)


def recurse(n, leaf):
    if n <= 0:
        return leaf()
    return recurse(n - 1, leaf)


class CapsTest(unittest.TestCase):

    def test_max_depth_truncates_visibly(self):
        c = Collector(interval=0.002, mode="prof", max_depth=10)
        c.start()
        recurse(50, lambda: burn(0.05))
        c.stop()
        deep = [s for s in c.stack_counts if s[0][2] == "burn"]
        self.assertTrue(deep)
        for s in deep:
            self.assertEqual(len(s), 11)
            self.assertEqual(s[-1], ("<plop>", 0, "<truncated>"))
            self.assertEqual([f[2] for f in s[1:10]].count("recurse"), 8)

    def test_max_stacks_overflow_bucket(self):
        c = Collector(interval=0.001, mode="real", max_stacks=3)
        c.start()
        ns = {"burn": burn}
        for i in range(40):
            exec("def f%d():\n    burn(0.005)\nf%d()" % (i, i), ns)
        c.stop()
        counts = c.stack_counts
        self.assertGreater(c.overflow, 0)
        self.assertEqual(counts[(("<plop>", 0, "<overflow>"),)], c.overflow)
        self.assertEqual(c.unique_stacks, 3)
        self.assertEqual(len(counts), 4)

    def test_lines_records_current_line(self):
        def two_lines():
            end = time.thread_time() + 0.15
            while time.thread_time() < end:
                sum(range(300))  # line A
                sum(range(300))  # line B
        c = Collector(interval=0.001, mode="prof", lines=True)
        c.start()
        two_lines()
        c.stop()
        first = two_lines.__code__.co_firstlineno
        lines = set()
        for stack in c.stack_counts:
            for fn, line, name in stack:
                if name == "two_lines":
                    lines.add(line)
        self.assertTrue(lines)
        self.assertTrue(all(first < ln <= first + 4 for ln in lines), lines)
        self.assertGreater(len(lines), 1)


class AccuracyTest(unittest.TestCase):
    """Shares against the CPU time each part really took, ±5 points."""

    def check_abc(self, interval):
        c = Collector(interval=interval, mode="prof")
        c.start(duration=None)
        truth = {"fa": timed(fa, 0.1), "fb": timed(fb, 0.2),
                 "fc": timed(fc, 0.3)}
        c.stop()
        got = shares(attribute(c.stack_counts, truth))
        want = shares(truth)
        for k in truth:
            self.assertAlmostEqual(got[k], want[k], delta=5,
                                   msg="%s at %s: got %r want %r"
                                   % (k, interval, got, want))

    def test_abc_at_10ms(self):
        self.check_abc(0.01)

    def test_abc_at_1ms(self):
        self.check_abc(0.001)

    def test_long_c_call(self):
        rnd = random.Random(1)
        data = [rnd.random() for _ in range(600000)]
        keep = []

        def long_c():
            keep.append(sorted(data))

        def python_work():
            burn(0.25)

        for mode, clock in (("prof", time.thread_time),
                            ("real", time.perf_counter)):
            del keep[:]
            c = Collector(interval=0.001, mode=mode)
            c.start(duration=None)
            truth = {"long_c": timed(long_c, clock=clock),
                     "python_work": timed(python_work, clock=clock)}
            c.stop()
            got = shares(attribute(c.stack_counts, truth))
            want = shares(truth)
            self.assertAlmostEqual(got["long_c"], want["long_c"], delta=5,
                                   msg="%s: got %r want %r" % (mode, got, want))

    def test_threads_have_their_own_stacks_and_shares(self):
        cpu = {}
        # The CPU a thread uses after the last sample before it exits is
        # never seen (a finished thread's clock cannot be read), and with
        # two threads holding the GIL the main thread may wait tens of ms
        # to sample.  So the workers stay alive, idle, until samples taken
        # after their work have charged all of it to their own stacks.
        finish = threading.Event()

        def worker_one():
            cpu["worker_one"] = timed(burn, 0.15)
            finish.wait()

        def worker_two():
            cpu["worker_two"] = timed(burn, 0.3)
            finish.wait()

        c = Collector(interval=0.002, mode="prof")
        c.start(duration=None)
        ts = [threading.Thread(target=worker_one),
              threading.Thread(target=worker_two)]
        for t in ts:
            t.start()
        while len(cpu) < 2:
            burn(0.005)
        burn(0.05)
        c.stop()
        finish.set()
        for t in ts:
            t.join()
        got = attribute(c.stack_counts, cpu)
        self.assertGreater(got["worker_one"], 0)
        self.assertGreater(got["worker_two"], 0)
        for k, v in shares(got).items():
            self.assertAlmostEqual(v, shares(cpu)[k], delta=5,
                                   msg="got %r want %r" % (got, cpu))
        # each worker's stack is its own: the thread bootstrap under it
        for stack in c.stack_counts:
            names = [f[2] for f in stack]
            if "worker_one" in names:
                self.assertNotIn("worker_two", names)
                self.assertIn("run", names)

    def test_sleeping_thread_gets_no_cpu_samples(self):
        def sleeper():
            time.sleep(0.4)

        c = Collector(interval=0.01, mode="prof")
        c.start(duration=None)
        t = threading.Thread(target=sleeper)
        t.start()
        burn(0.3)
        t.join()
        c.stop()
        got = attribute(c.stack_counts, ["sleeper", "burn"])
        self.assertEqual(got["sleeper"], 0)
        self.assertGreater(got["burn"], 15)

    def test_real_mode_charges_wall_time_to_every_thread(self):
        def sleeper():
            time.sleep(0.3)

        c = Collector(interval=0.005, mode="real")
        c.start(duration=None)
        t = threading.Thread(target=sleeper)
        t.start()
        t.join()
        c.stop()
        got = attribute(c.stack_counts, ["sleeper"])
        # 0.3 s of wall time at 5 ms: about 60 counts
        self.assertGreater(got["sleeper"], 40)
        self.assertLess(got["sleeper"], 80)


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class OnOffTest(unittest.TestCase):

    def cycles(self, c, n):
        for _ in range(n):
            c.start()
            c.stop()
            c.stack_counts

    def test_1000_cycles_no_growth(self):
        c = Collector(interval=0.001, mode="prof")
        burn_stacks = Collector(interval=0.001, mode="real")
        burn_stacks.start()
        fa(0.02)
        burn_stacks.stop()
        self.cycles(c, 200)
        gc.collect()
        objs0, rss0 = len(gc.get_objects()), rss_kb()
        refs0 = getattr(sys, "gettotalrefcount", lambda: 0)()
        self.cycles(c, 1000)
        for _ in range(200):
            burn_stacks.stack_counts
        gc.collect()
        objs1, rss1 = len(gc.get_objects()), rss_kb()
        refs1 = getattr(sys, "gettotalrefcount", lambda: 0)()
        self.assertLess(objs1 - objs0, 50)
        self.assertLess(rss1 - rss0, 512)
        self.assertLess(refs1 - refs0, 500)
        assert_clean(self)

    def test_table_holds_code_objects_alive(self):
        c = Collector(interval=0.001, mode="real")
        ns = {"burn": burn}
        exec("def transient():\n    burn(0.05)\n", ns)
        c.start()
        ns["transient"]()
        c.stop()
        del ns
        gc.collect()
        counts = c.stack_counts
        self.assertTrue(any(f[2] == "transient" for s in counts for f in s))
        c.reset()
        self.assertEqual(c.stack_counts, {})


if __name__ == "__main__":
    unittest.main()
