"""Tests of the plop 0.3/0.4 formatters (plop.collector.PlopFormatter,
FlamegraphFormatter, CollectorFormatter) and of our own version of plop
0.4's collector test, timed by CPU measured inside the workload.

Runs on every interpreter the collector supports, 2.7 included."""
import ast
import os
import shutil
import sys
import tempfile
import time
import unittest

from plop.collector import (Collector, CollectorFormatter,
                            FlamegraphFormatter, PlopFormatter,
                            format_profile, write_profile)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")

# the CPU clock of this thread (the workloads below are single-threaded)
cpu_clock = (getattr(time, "thread_time", None)
             or getattr(time, "process_time", None) or time.clock)


class FakeCollector(object):
    """Anything with stack_counts is a collector to the formatters."""

    def __init__(self, counts):
        self.stack_counts = counts


def frame(i):
    return ("f%03d.py" % i, i, "fn%d" % i)


class FormatterTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plop-fmt-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_plop_formatter_keeps_the_most_frequent_stacks_in_order(self):
        counts = dict(((frame(i), frame(1000)), i + 1) for i in range(80))
        c = FakeCollector(counts)
        text = PlopFormatter().format(c)
        self.assertFalse(text.endswith("\n"))
        kept = ast.literal_eval(text)
        # the default keeps 50, as 0.4's argument says
        self.assertEqual(kept, dict((k, v) for k, v in counts.items()
                                    if v > 30))
        self.assertEqual(len(ast.literal_eval(
            PlopFormatter(max_stacks=10).format(c))), 10)
        self.assertEqual(ast.literal_eval(
            PlopFormatter(max_stacks=None).format(c)), counts)
        self.assertEqual(ast.literal_eval(
            PlopFormatter(max_stacks=500).format(c)), counts)
        # most frequent first, ties in a fixed order
        values = list(ast.literal_eval(
            PlopFormatter(max_stacks=None).format(c)).values())
        if sys.version_info >= (3, 7):  # dicts keep their order
            self.assertEqual(values, sorted(values, reverse=True))

    def test_plop_formatter_reads_a_plop04_profile_back(self):
        with open(os.path.join(FIXTURES, "plop-0.4-py3.11-mixed.plop")) as f:
            original = ast.literal_eval(f.read())
        ours = ast.literal_eval(PlopFormatter().format(
            FakeCollector(original)))
        self.assertEqual(ours, original)

    def test_flamegraph_formatter_sums_what_plop04_wrote_per_run(self):
        # 0.4 wrote a line per run of identical samples, after a bogus
        # "None 1" line; the same samples give one line per stack here
        path = os.path.join(FIXTURES, "plop-0.4-py3.11-mixed.flame")
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "None 1")
        totals = {}
        for line in lines[1:]:
            stack, n = line.rsplit(" ", 1)
            totals[stack] = totals.get(stack, 0) + int(n)
        counts = {}
        for stack, n in totals.items():
            frames = []
            for fr in stack.split(";"):
                name, rest = fr.split(" (", 1)
                filename, line = rest[:-1].rsplit(":", 1)
                frames.append((filename, int(line), name))
            counts[tuple(reversed(frames))] = n
        text = FlamegraphFormatter().format(FakeCollector(counts))
        self.assertEqual(text, "".join("%s %d\n" % (k, totals[k])
                                       for k in sorted(totals)))
        self.assertNotIn("None", text)
        self.assertEqual(text, format_profile(counts, "flamegraph"))

    def test_store_writes_the_text_atomically(self):
        counts = {(("a.py", 3, "leaf"), ("a.py", 1, "root")): 5}
        c = FakeCollector(counts)
        for fmt in (PlopFormatter(), FlamegraphFormatter()):
            p = os.path.join(self.dir, "out")
            with open(p, "w") as f:
                f.write("old")
            self.assertIsNone(fmt.store(c, p))
            with open(p) as f:
                self.assertEqual(f.read(), fmt.format(c))
            self.assertEqual(os.listdir(self.dir), ["out"])
        self.assertEqual(FlamegraphFormatter().format_flame(
            list(counts)[0]), "root (a.py:1);leaf (a.py:3)")

    def test_base_class_has_no_format(self):
        with self.assertRaises(Exception):
            CollectorFormatter().format(FakeCollector({}))

    def test_non_utf8_file_names_keep_their_bytes(self):
        if sys.version_info[0] == 2:
            name = "caf\xe9.py"            # 2.7: co_filename is bytes
        else:
            name = b"caf\xe9.py".decode("utf-8", "surrogateescape")
        counts = {((name, 1, "f"),): 3}
        p = os.path.join(self.dir, "p")
        write_profile(counts, p)
        with open(p, "rb") as f:
            data = f.read()
        if sys.version_info[0] == 2:
            # as the original 2.7 plop: the repr, read back by literal_eval;
            # counts as ints even if they come as longs (no "3L")
            self.assertEqual(data, repr(counts) + "\n")
            write_profile({((name, 1, "f"),): long(3)}, p)  # noqa: F821
            with open(p, "rb") as f:
                self.assertEqual(f.read(), data)
            self.assertEqual(ast.literal_eval(data), counts)
        else:
            # repr() escapes the undecodable byte; literal_eval undoes it
            self.assertEqual(ast.literal_eval(data.decode("ascii")), counts)
            # collapsed stacks carry the file name's own bytes
            write_profile(counts, p, "flamegraph")
            with open(p, "rb") as f:
                self.assertEqual(f.read(), b"f (caf\xe9.py:1) 3\n")


class AbcTest(unittest.TestCase):
    """plop 0.4's collector test, ours: a(), b(), c() spin for amounts of
    their own CPU time, measured by the thread's CPU clock inside the
    workload, so the expected counts hold however busy the machine is.
    Samples every 5 ms and 0.2-0.6 s per stack give 40-120 samples each;
    a CPU-time timer places them deterministically, so the error is a
    sample or two per stack plus the cost of the clock calls: 20% is a
    wide margin."""

    INTERVAL = 0.005

    def test_abc_counts_match_cpu_time(self):
        spent = {}

        def spin(key, sec):
            t0 = cpu_clock()
            while cpu_clock() - t0 < sec:
                pass
            spent[key] = spent.get(key, 0.0) + cpu_clock() - t0

        def a():
            spin(("a",), 0.2)
            c(("c", "a"))

        def b():
            spin(("b",), 0.4)
            c(("c", "b"))

        def c(key=("c",)):
            spin(key, 0.2 if len(key) > 1 else 0.6)

        col = Collector(interval=self.INTERVAL, mode="prof")
        col.start()
        a()
        b()
        c()
        col.stop()

        counts = {}
        me = os.path.splitext(os.path.abspath(__file__))[0]
        for stack, n in ast.literal_eval(
                PlopFormatter(max_stacks=None).format(col)).items():
            # frames carry co_qualname on 3.11+ ('...<locals>.a')
            names = tuple(f[2].rsplit(".", 1)[-1] for f in stack
                          if os.path.splitext(f[0])[0] == me
                          and f[2].rsplit(".", 1)[-1] in ("a", "b", "c"))
            if names:
                counts[names] = counts.get(names, 0) + n
        for key, sec in spent.items():
            want = sec / self.INTERVAL
            got = counts.get(key, 0)
            self.assertTrue(0.8 <= got / want <= 1.2,
                            "%s: %d samples for %.3f s of CPU (%.0f)"
                            % (key, got, sec, want))
        self.assertEqual(set(counts), set(spent))


if __name__ == "__main__":
    unittest.main()
