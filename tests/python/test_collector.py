# -*- coding: utf-8 -*-
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

import portable

from plop import _collector
from plop.collector import Collector


def burn(seconds):
    """Burns `seconds` of this thread's CPU time in Python code."""
    end = portable.thread_time() + seconds
    x = 0
    while portable.thread_time() < end:
        for i in range(2000):
            x += i * i
    return x


def fa(s):
    return burn(s)


def fb(s):
    return burn(s)


def fc(s):
    return burn(s)


def sampled(c, fn, s=0.05, limit=2.0):
    """Runs fn(s), then fn(0.01) until c has taken a sample since the call,
    at most `limit` seconds of CPU in all: for the tests of the API, which
    need a sample, not a rate.  The kernel checks process CPU-time timers
    only on its ticks, and on an overcommitted machine 50 ms of CPU can
    pass with no expiration at all (README, known limits)."""
    before = c.samples_taken
    fn(s)
    spent = s
    while c.samples_taken == before and spent < limit:
        fn(0.01)
        spent += 0.01


def timed(fn, *args, **kw):
    """The thread CPU time (or, with clock=, that clock's time) fn took."""
    clock = kw.get("clock", portable.thread_time)
    t = clock()
    fn(*args)
    return clock() - t


def short(name):
    """The function's own name: frames carry co_qualname on 3.11+
    ('Worker.run', 'test.<locals>.f'), co_name before."""
    return name.rsplit(".", 1)[-1]


def names_of(stack):
    return [short(f[2]) for f in stack]


def attribute(stack_counts, names):
    """Counts per name: each stack goes to its leaf-most frame whose
    function name is in `names` (stacks with none are left out)."""
    out = dict.fromkeys(names, 0)
    for stack, n in stack_counts.items():
        for _, _, name in stack:
            if short(name) in out:
                out[short(name)] += n
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
        if sys.version_info >= (3, 11):
            self.assertIn("ApiTest.test_round_trip_of_plop_format",
                          [f[2] for f in leafy[0]])
        self.assertEqual(leafy[0][0][0], os.path.abspath(__file__)
                         if os.path.isabs(leafy[0][0][0]) else __file__)
        self.assertEqual(leafy[0][0][1], burn.__code__.co_firstlineno)
        self.assertIn("test_round_trip_of_plop_format", names_of(leafy[0]))

    def test_start_stop_start_and_reset(self):
        c = Collector(interval=0.005, mode="prof")
        self.assertTrue(c.stopped)
        c.start()
        self.assertFalse(c.stopped)
        sampled(c, fa)
        c.stop()
        self.assertTrue(c.stopped)
        assert_clean(self)
        first = c.samples_taken
        self.assertGreater(first, 0)
        c.start()
        sampled(c, fb)
        c.stop()
        self.assertGreater(c.samples_taken, first)
        names = set(short(f[2]) for s in c.stack_counts for f in s)
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
            sampled(c, fc)
        self.assertTrue(c.stopped)
        assert_clean(self)
        self.assertTrue(any(f[2] == "fc" for s in c.stack_counts for f in s))

    def test_snapshot_while_running(self):
        c = Collector(interval=0.002, mode="prof")
        c.start(duration=None)
        try:
            sampled(c, fa)
            snap = c.stack_counts
            sampled(c, fa)
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
            # collectors are independent: each has its own thread
            other = Collector(mode="prof")
            other.start()
            real = Collector(mode="real")
            real.start()
            sampled(other, burn)
            real.stop()
            other.stop()
            self.assertGreater(other.samples_taken, 0)
            self.assertGreater(real.samples_taken, 0)
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

    def test_start_and_stop_from_a_thread_while_main_is_blocked(self):
        # The main thread sits in a lock (no bytecode): another thread
        # starts the collector, burns CPU, and stops it; its samples are
        # taken, and once stop() returns the sampler thread is gone.
        c = Collector(interval=0.002, mode="prof")
        tasks0 = len(os.listdir("/proc/self/task"))
        log = []
        release = threading.Event()

        def other():
            try:
                c.start(duration=None)
                log.append(len(os.listdir("/proc/self/task")))
                # 0.5 s: the process CPU timer ticks at the kernel's HZ
                # (250 here), so 2 ms asks for more than it can give
                burn(0.5)
                c.stop()
                log.append(len(os.listdir("/proc/self/task")))
                log.append(c.samples_taken)
                burn(0.05)
                log.append(c.samples_taken)
            finally:
                release.set()
        t = threading.Thread(target=other)
        t.start()
        release.wait()
        t.join()
        # `other`, the sampler and (3.7+, which have a GIL drop request
        # to renew) its nudger; then both have ended
        own = 2 if sys.version_info[:2] >= (3, 7) else 1
        self.assertEqual(log[0], tasks0 + 1 + own)
        self.assertEqual(log[1], tasks0 + 1)
        self.assertGreater(log[2], 20)
        self.assertEqual(log[3], log[2])        # nothing after stop()
        self.assertGreater(attribute(c.stack_counts, ["other"])["other"], 50)
        assert_clean(self)

    def test_program_keeps_its_signals_and_timers(self):
        # SIGPROF, SIGVTALRM, SIGALRM and their interval timers stay the
        # program's in every mode: its handlers stay installed and get
        # exactly their own ticks.
        for mode in ("prof", "virtual", "real"):
            got = []

            def mine(signum, frame):
                got.append(signum)
            olds = [(sig, signal.signal(sig, mine))
                    for sig in (signal.SIGPROF, signal.SIGVTALRM,
                                signal.SIGALRM)]
            try:
                c = Collector(mode=mode, interval=0.001)
                c.start()
                for sig in (signal.SIGPROF, signal.SIGVTALRM,
                            signal.SIGALRM):
                    self.assertIs(signal.getsignal(sig), mine)
                signal.setitimer(signal.ITIMER_REAL, 0.05)
                signal.setitimer(signal.ITIMER_PROF, 0.05)
                signal.setitimer(signal.ITIMER_VIRTUAL, 0.05)
                burn(0.3)
                deadline = time.time() + 2
                while len(got) < 3 and time.time() < deadline:
                    time.sleep(0.01)
                c.stop()
                self.assertGreater(c.samples_taken, 10, mode)
                self.assertEqual(sorted(got), sorted(
                    [signal.SIGPROF, signal.SIGVTALRM, signal.SIGALRM]),
                    mode)
                for sig in (signal.SIGPROF, signal.SIGVTALRM,
                            signal.SIGALRM):
                    self.assertIs(signal.getsignal(sig), mine)
            finally:
                for which in (signal.ITIMER_REAL, signal.ITIMER_PROF,
                              signal.ITIMER_VIRTUAL):
                    signal.setitimer(which, 0)
                for sig, old in olds:
                    signal.signal(sig, old)


def recurse(n, leaf):
    if n <= 0:
        return leaf()
    return recurse(n - 1, leaf)


class CapsTest(unittest.TestCase):

    def test_max_depth_truncates_visibly(self):
        c = Collector(interval=0.002, mode="prof", max_depth=10)
        c.start()
        recurse(50, lambda: sampled(c, burn))
        c.stop()
        deep = [s for s in c.stack_counts if s[0][2] == "burn"]
        self.assertTrue(deep)
        for s in deep:
            self.assertEqual(len(s), 11)
            self.assertEqual(s[-1], ("<plop>", 0, "<truncated>"))
            # burn, sampled, <lambda>, then recurse
            self.assertEqual([f[2] for f in s[1:10]].count("recurse"), 7)

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
            end = portable.thread_time() + 0.15
            while portable.thread_time() < end:
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
                if short(name) == "two_lines":
                    lines.add(line)
        self.assertTrue(lines)
        self.assertTrue(all(first < ln <= first + 4 for ln in lines), lines)
        self.assertGreater(len(lines), 1)


class AccuracyTest(unittest.TestCase):
    """Shares against the CPU time each part really took, ±5 points."""

    def check_abc(self, interval):
        c = Collector(interval=interval, mode="prof")
        c.start(duration=None)
        # 1.8 s: a share moves by at most one interval at each of the two
        # phase boundaries, under 2 points of this total at 10 ms
        truth = {"fa": timed(fa, 0.3), "fb": timed(fb, 0.6),
                 "fc": timed(fc, 0.9)}
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

        for mode, clock in (("prof", portable.thread_time),
                            ("real", portable.perf_counter)):
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
            # the sample due during the sort waited for it, and says so
            self.assertGreaterEqual(c.late_samples, 1, mode)
            self.assertGreater(c.longest_wait, 0.05, mode)

    def test_many_c_calls_about_as_long_as_the_interval(self):
        # 150 sum() calls of ~4.5 ms, each followed by as much Python
        # code.  A sample due during a call waits for it to end; charged
        # up to that moment, each call also took the Python time before
        # its first tick (prof at 1 ms: 70 % for 50 % true).
        try:
            span = xrange
        except NameError:
            span = range
        n = [200000]
        for _ in range(20):
            t = timed(lambda: sum(span(n[0])))
            if abs(t - 0.0045) < 0.0005:
                break
            n[0] = max(1000, int(n[0] * 0.0045 / max(t, 1e-5)))

        def c_call():
            return sum(span(n[0]))

        def py_call(seconds):
            burn(seconds)

        # real mode at 4 ms is left to make bench-collector: it was right
        # before the fix too, and with other jobs on the box (a loaded
        # CI machine) its ~340 samples spread 8-9 points either way
        overloaded = []
        for mode, interval in (("prof", 0.004), ("prof", 0.001),
                               ("real", 0.001)):
            clock = portable.thread_time if mode == "prof" \
                else portable.perf_counter
            c = Collector(interval=interval, mode=mode)
            c.start(duration=None)
            truth = {"c_call": 0.0, "py_call": 0.0}
            wall, cpu = portable.perf_counter(), portable.thread_time()
            for _ in range(150):
                one = timed(c_call, clock=clock)
                truth["c_call"] += one
                truth["py_call"] += timed(py_call, one, clock=clock)
            c.stop()
            # the share of the wall time this CPU-bound loop was on a
            # CPU: near 1 on a machine with a core to spare
            on_cpu = (portable.thread_time() - cpu) / \
                (portable.perf_counter() - wall)
            got = shares(attribute(c.stack_counts, truth))
            want = shares(truth)
            msg = "%s at %s: got %r want %r (on a CPU %.0f %% of the time)" \
                % (mode, interval, got, want, 100 * on_cpu)
            if mode == "prof" and on_cpu < 0.9:
                # an overloaded machine (README, known limits: other
                # processes delay the sampler's wake-up until the C call
                # ends, 58-83 % for 50 % with two CPU hogs): not this
                # test's bug, and no tolerance would hold
                overloaded.append(msg)
                continue
            # 7 points: on a busy 2-core box a run can land 5 off (the
            # bug this guards against was 15-20 off)
            self.assertAlmostEqual(got["c_call"], want["c_call"], delta=7,
                                   msg=msg)
        if overloaded:
            self.skipTest("the machine was overloaded: " +
                          "; ".join(overloaded))

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
        # 8 points: two threads taking the GIL from each other bias where
        # the sampler gets it (README, known limits)
        for k, v in shares(got).items():
            self.assertAlmostEqual(v, shares(cpu)[k], delta=5,
                                   msg="got %r want %r" % (got, cpu))
        # each worker's stack is its own: the thread bootstrap under it
        for stack in c.stack_counts:
            names = names_of(stack)
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


# Each start() creates the sampler thread; ASan keeps bookkeeping for every
# thread that ever ran, so RSS grows with start/stop cycles under it (the
# object and reference counts are still checked there).
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


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
        if not UNDER_ASAN:
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
