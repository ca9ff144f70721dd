"""bench_flush.py: what --flush-interval checkpoints cost (plop.checkpoint).

    make bench-collector            (runs this after bench_collector.py)
    PYTHONPATH=collector python bench/bench_flush.py [--quick]

Part 1, one checkpoint: the work a checkpoint does -- build the
{stack: count} dict from the C table (Collector.stack_counts), drop the
launcher frames, format, write and fsync the file -- timed for tables of
100 to 100,000 distinct stacks of depth 20.  The table is filled by real
sampling: N distinct code objects at depth 20, each run once under a
collector whose interval is so small that every call is sampled.  Shown
per checkpoint (ms, the checkpoint thread's CPU time and its wall time,
which includes the fsync) and as a share of one CPU at the default
interval (CPU per checkpoint / DEFAULT_FLUSH_INTERVAL).

Part 2, end to end: a CPU-bound workload sampled at 100 Hz (mode prof),
with no checkpoints, with the default interval, and with 1 s and 0.1 s;
process CPU time, best of --repeat interleaved runs; overhead against the
run without checkpoints measured in the same run.

Not a test: timings depend on the machine and its load.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

from plop.checkpoint import DEFAULT_FLUSH_INTERVAL, Checkpointer
from plop.collector import Collector
from plop.profile_io import strip_launcher, write_profile

DEPTH = 20


def make_leaves(n):
    """n distinct functions (n code objects), each a leaf to call at
    DEPTH; a sample taken inside one makes one distinct stack."""
    src = "\n".join("def leaf%d(t):\n    t()\n" % i for i in range(n))
    ns = {}
    exec(compile(src, "<leaves>", "exec"), ns)
    return [ns["leaf%d" % i] for i in range(n)]


def at_depth(depth, fn):
    if depth <= 1:
        return fn()
    return at_depth(depth - 1, fn)


def fill(n):
    """A stopped Collector holding about n distinct stacks, or, if the C
    sampler cannot be driven directly, a stand-in with a synthetic dict of
    n stacks (then the time to build the dict from the C table is left
    out, and the line says so)."""
    c = Collector(interval=1e-6, mode="real", max_stacks=0)
    s = c._sampler
    if not hasattr(s, "_sample"):
        frames = [("/src/mod%d.py" % d, d, "fn%d" % d) for d in range(DEPTH)]
        return Synthetic(dict(
            (((("/src/leaf.py", i, "leaf%d" % i),) + tuple(frames)), 1)
            for i in range(n)))
    s.start(None, _arm=False)
    leaves = make_leaves(n)

    def sample():
        # a sample is charged the wall time since the previous one, in
        # whole intervals: let one interval pass so that every leaf counts
        t = time.perf_counter() + 2e-6
        while time.perf_counter() < t:
            pass
        s._sample()             # every thread: this one is at the leaf

    def run():
        for leaf in leaves:
            leaf(sample)
    try:
        at_depth(DEPTH - 2, run)
    finally:
        s.stop()
    return c


class Synthetic(object):
    synthetic = True

    def __init__(self, counts):
        self.stack_counts = counts
        self.unique_stacks = len(counts)


def one_checkpoint(c, path):
    cpu = time.thread_time()
    wall = time.perf_counter()
    write_profile(strip_launcher(c.stack_counts), path)
    return time.thread_time() - cpu, time.perf_counter() - wall


def part1(sizes, repeat, tmp):
    print("1. one checkpoint (dict from the C table, launcher frames "
          "dropped, repr, write, fsync), depth %d" % DEPTH)
    print("%9s %9s %12s %12s %14s" % ("stacks", "bytes", "cpu ms",
                                      "wall ms", "cpu at %gs" %
                                      DEFAULT_FLUSH_INTERVAL))
    path = os.path.join(tmp, "p.out")
    for n in sizes:
        c = fill(n)
        best = None
        for _ in range(repeat):
            r = one_checkpoint(c, path)
            best = r if best is None or r[0] < best[0] else best
        print("%9d %9d %12.2f %12.2f %13.4f%%%s" % (
            c.unique_stacks, os.path.getsize(path), best[0] * 1e3,
            best[1] * 1e3, 100 * best[0] / DEFAULT_FLUSH_INTERVAL,
            "  (synthetic dict)" if getattr(c, "synthetic", False) else ""))


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def workload(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        fib(15)


def run(seconds, flush, path):
    c = Collector(interval=0.01, mode="prof")
    cp = None
    t0 = time.process_time()
    c.start(duration=None)
    if flush:
        cp = Checkpointer(lambda: write_profile(
            strip_launcher(c.stack_counts), path), flush).start()
    n0 = time.perf_counter()
    work = 0
    while time.perf_counter() - n0 < seconds:
        fib(18)
        work += 1
    if cp is not None:
        cp.stop()
    c.stop()
    return (time.process_time() - t0) / work, cp.checkpoints if cp else 0


def part2(seconds, repeat, tmp):
    print()
    print("2. a CPU-bound workload (fib) sampled at 100 Hz for %g s; process "
          "CPU per unit of work, best of %d" % (seconds, repeat))
    path = os.path.join(tmp, "q.out")
    cases = [("no checkpoints", 0), ("default %gs" % DEFAULT_FLUSH_INTERVAL,
                                     DEFAULT_FLUSH_INTERVAL),
             ("every 1 s", 1.0), ("every 0.1 s", 0.1)]
    best = dict((name, None) for name, _ in cases)
    counts = {}
    for _ in range(repeat):
        for name, flush in cases:
            r, k = run(seconds, flush, path)
            if best[name] is None or r < best[name]:
                best[name] = r
            counts[name] = k
    base = best["no checkpoints"]
    for name, _ in cases:
        print("   %-16s %+7.2f %%  (%d checkpoints)"
              % (name, 100 * (best[name] / base - 1), counts[name]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None)
    args = ap.parse_args()
    repeat = args.repeat or (2 if args.quick else 5)
    tmp = tempfile.mkdtemp(prefix="plop-bench-flush-")
    try:
        print("plop checkpoint benchmark (--flush-interval), default "
              "interval %g s" % DEFAULT_FLUSH_INTERVAL)
        part1((100, 1000, 10000) if args.quick
              else (100, 1000, 10000, 100000), repeat, tmp)
        part2(3.0 if args.quick else 12.0, repeat if not args.quick else 1,
              tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
