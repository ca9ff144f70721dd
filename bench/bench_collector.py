"""bench_collector.py: what plop's sampling engine costs, the rate it
achieves and how accurate it is, side by side with the original plop's
algorithm (a Python signal handler walking sys._current_frames()).

    make bench-collector            (PYTHON=... for another interpreter)
    PYTHONPATH=collector python bench/bench_collector.py [--quick]

Part 1, cost per sample: one sweep (Sampler._sample(), the very function
the sampler thread runs holding the GIL) called directly, many times, from
a stack of depth 10/50/200, with the calling thread alone or with 5 more
threads parked at the same depth; the original plop's handler is called
the same way.  The cost of an empty C call is subtracted.  In 'prof' mode
each thread's CPU clock is read (a system call per thread) and a thread is
walked only when its clock made a whole interval (here: nearly always,
with interval=1e-6); in 'real' mode every thread is walked.

Part 2, rate and cost to the program: a CPU-bound Python loop runs for a
fixed amount of CPU with no profiler, under plop's sampler thread at 10 ms
and 1 ms in each mode, and under the original plop (setitimer + Python
handler, the old route).  Printed: samples per second asked and taken per
second of the process's CPU time (real mode counts wall time, so on a
loaded machine it takes more per CPU second), and the process's CPU time against the run without a
profiler (best of --repeat interleaved runs).  A busy Python thread lets
the GIL go only at its next eval-breaker check after plop's drop request,
and the CPU-time timers tick on the kernel's scheduler tick, so the rate
achieved can be below the rate asked: the weights keep the totals right.

Part 3, accuracy: the a/b/c test (three functions burning 1:2:3 of CPU),
one long sorted() holding the GIL, and 150 C calls of ~4.5 ms (sum())
interleaved with Python code of equal CPU (600 at 10 ms); worst error in points
of share against the CPU time measured inside the workload.

Not a test: timings depend on the machine and its load.
"""
import argparse
import collections
import random
import signal
import sys
import threading
import time

from plop import _collector
from plop.collector import Collector


class OriginalHandler(object):
    """The original plop's sampling algorithm (plop 0.4 collector.py)."""

    def __init__(self):
        self.stack_counts = collections.defaultdict(int)
        self.samples_taken = 0

    def handler(self, sig, current_frame):
        current_tid = threading.current_thread().ident
        for tid, frame in sys._current_frames().items():
            if tid == current_tid:
                frame = current_frame
            frames = []
            while frame is not None:
                code = frame.f_code
                frames.append((code.co_filename, code.co_firstlineno,
                               code.co_name))
                frame = frame.f_back
            self.stack_counts[tuple(frames)] += 1
        self.samples_taken += 1


def at_depth(depth, fn):
    if depth <= 0:
        return fn()
    return at_depth(depth - 1, fn)


def timeit(fn, n):
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def measure_costs(depth, idle, n, repeat):
    release = threading.Event()
    parked = []
    for _ in range(idle):
        t = threading.Thread(target=at_depth,
                             args=(depth, lambda: release.wait(120)))
        t.daemon = True
        t.start()
        parked.append(t)
    time.sleep(0.05)
    out = {}

    def body():
        frame = sys._getframe()
        samplers = {}
        for mode in ("prof", "real"):
            s = _collector.Sampler(mode=mode, interval=1e-6)
            s.start(None, _arm=False)
            samplers[mode] = s
        orig = OriginalHandler()
        cands = [("empty", lambda: None),
                 ("prof", samplers["prof"]._sample),
                 ("real", samplers["real"]._sample),
                 ("original", lambda: orig.handler(0, frame))]
        best = dict((k, float("inf")) for k, _ in cands)
        for _ in range(repeat):
            for name, fn in cands:
                best[name] = min(best[name], timeit(fn, n))
        for s in samplers.values():
            s.stop()
        floor = best.pop("empty")
        for k, v in best.items():
            out[k] = max(v - floor, 0.0) * 1e6
    at_depth(depth, body)
    release.set()
    for t in parked:
        t.join()
    return out


def burn_cpu(seconds):
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        for i in range(500):
            x += i
    return x


def spin_loop(iterations):
    x = 0
    for i in range(iterations):
        x += i * i
    return x


def run_plain(iters):
    t = time.process_time()
    spin_loop(iters)
    return time.process_time() - t, 0


def run_plop(iters, mode, interval):
    c = Collector(interval=interval, mode=mode)
    t = time.process_time()
    c.start(duration=None)
    spin_loop(iters)
    c.stop()
    return time.process_time() - t, c.samples_taken


def run_original(iters, interval):
    h = OriginalHandler()
    old = signal.signal(signal.SIGPROF, h.handler)
    t = time.process_time()
    signal.setitimer(signal.ITIMER_PROF, interval, interval)
    try:
        spin_loop(iters)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)
    return time.process_time() - t, h.samples_taken


def part2(iters, repeat):
    cases = [("none", lambda: run_plain(iters))]
    for iv in (0.01, 0.001):
        for mode in ("prof", "real"):
            cases.append(("plop %s %gs" % (mode, iv),
                          lambda m=mode, iv=iv: run_plop(iters, m, iv)))
        cases.append(("original (SIGPROF) %gs" % iv,
                      lambda iv=iv: run_original(iters, iv)))
    best = {}
    for _ in range(repeat):
        for name, fn in cases:
            cpu, n = fn()
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, n)
    base = best["none"][0]
    print("\nPart 2: rate and cost to the program (CPU-bound loop, %.2f s "
          "of CPU unprofiled, best of %d)" % (base, repeat))
    print("%-26s %10s %10s %10s %9s" % ("route", "asked/s", "got/CPU s",
                                         "CPU s", "overhead"))
    for name, fn in cases:
        cpu, n = best[name]
        asked = "-"
        if name != "none":
            asked = "%d" % round(1 / float(name.split()[-1].rstrip("s")))
        print("%-26s %10s %10.0f %10.3f %8.1f%%"
              % (name, asked, n / cpu if cpu else 0, cpu,
                 (cpu / base - 1) * 100))


# ---------------------------------------------------------------- part 3

def timed(fn, *args):
    t = time.thread_time()
    fn(*args)
    return time.thread_time() - t


def burn(seconds):
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        for i in range(2000):
            x += i * i
    return x


def fa(s):
    burn(s)


def fb(s):
    burn(s)


def fc(s):
    burn(s)


DATA = None


def long_sort():
    sorted(DATA)


def python_part():
    burn(0.35)


C_CALL_N = None


def calibrate_c_call(seconds=0.0045):
    """Sets C_CALL_N so that one c_call() takes about `seconds` of CPU:
    a C call about as long as the interval (the case where a late sample
    used to charge the Python time before it to the call)."""
    global C_CALL_N
    n = 100000
    for _ in range(20):
        t = timed(lambda: sum(range(n)))
        if abs(t - seconds) < 0.1 * seconds:
            break
        n = max(1000, int(n * seconds / max(t, 1e-5)))
    C_CALL_N = n


def c_call():
    sum(range(C_CALL_N))


def py_call(seconds):
    burn(seconds)


def attribute(counts, names):
    out = dict.fromkeys(names, 0)
    for stack, n in counts.items():
        for _, _, name in stack:
            short = name.rsplit(".", 1)[-1]
            if short in out:
                out[short] += n
                break
    return out


def worst_error(counts, truth):
    got = attribute(counts, truth)
    tg, tt = float(sum(got.values())) or 1.0, float(sum(truth.values()))
    return max(abs(100 * got[k] / tg - 100 * truth[k] / tt) for k in truth)


def accuracy_case(name, mode, interval):
    c = Collector(interval=interval, mode=mode)
    c.start(duration=None)
    if name == "a/b/c":
        truth = {"fa": timed(fa, 0.1), "fb": timed(fb, 0.2),
                 "fc": timed(fc, 0.3)}
    elif name == "long sort":
        truth = {"long_sort": timed(long_sort),
                 "python_part": timed(python_part)}
    else:
        truth = {"c_call": 0.0, "py_call": 0.0}
        # 150 pairs (1.35 s) at 1 and 4 ms; at 10 ms that would be ~135
        # samples, whose binomial noise alone is 4 points: 600 pairs there
        for _ in range(int(150 * max(1.0, interval / 0.0025))):
            one = timed(c_call)
            truth["c_call"] += one
            truth["py_call"] += timed(py_call, one)
    c.stop()
    return worst_error(c.stack_counts, truth)


def part3(repeat):
    global DATA
    rnd = random.Random(1)
    DATA = [rnd.random() for _ in range(500000)]
    calibrate_c_call()
    print("\nPart 3: accuracy, worst error in points of share against CPU "
          "measured in the workload (worst of %d runs)" % repeat)
    print("%-14s %-5s %8s %8s %8s" % ("workload", "mode", "0.01", "0.004",
                                       "0.001"))
    for name in ("a/b/c", "long sort", "C calls ~int"):
        for mode in ("prof", "real"):
            errs = []
            for iv in (0.01, 0.004, 0.001):
                errs.append(max(accuracy_case(name, mode, iv)
                                for _ in range(repeat)))
            print("%-14s %-5s %8.1f %8.1f %8.1f" % ((name, mode) + tuple(errs)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None)
    opts = ap.parse_args()
    repeat = opts.repeat or (2 if opts.quick else 5)
    n = 500 if opts.quick else 3000
    print("plop bench-collector: Python %s, frame reader %s"
          % (sys.version.split()[0], _collector.frame_reader))
    print("\nPart 1: cost per sample in microseconds (one sweep, GIL held; "
          "best of %d x %d calls)" % (repeat, n))
    print("%-6s %-8s %8s %8s %10s %12s" % ("depth", "threads", "prof", "real",
                                           "original", "orig/prof"))
    for depth in (10, 50, 200):
        for idle in (0, 5):
            r = measure_costs(depth, idle, n, repeat)
            print("%-6d %-8s %8.2f %8.2f %10.1f %11.0fx"
                  % (depth, "1+%d idle" % idle if idle else "1", r["prof"],
                     r["real"], r["original"],
                     r["original"] / r["prof"] if r["prof"] else 0))
    part2(3000000 if opts.quick else 10000000, min(repeat, 3))
    part3(1 if opts.quick else 2)


if __name__ == "__main__":
    main()
