#!/usr/bin/env python3
"""bench_formats.py: the pprof and speedscope conversions, against plop's
own text formats measured in the same run, on the synthetic profiles of
bench_render.py (bench/gen_profile.py, same seed, same --data-dir).

For each size:
  - plop-render CPU time (user + system, GNU time; wall when it is
    missing) for -T txt (the baseline: load, graph, a small output),
    -T pprof and -T speedscope from the repr file, and -T txt from the
    pprof file: the conversions' cost is the difference to the baseline;
  - sizes: the repr file, the pprof file (gzip'd and not), the speedscope
    file;
  - the collector's writers in one fresh interpreter: format_profile()
    as 'plop' (repr) and as 'pprof' (plop.pprof, pure Python), on the
    same stacks (ast.literal_eval of the file, not timed).
Timings are medians of --repeat runs.

    python3 bench/bench_formats.py --binary build/plop-render [--sizes 2000]
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_render import profile_path, timed  # noqa: E402

SIZES = (2000, 50000)

PY_WRITERS = r'''
import ast, json, sys, time
from plop.profile_io import format_profile
with open(sys.argv[1]) as f:
    data = ast.literal_eval(f.read())
out = {}
for fmt in ("plop", "pprof"):
    runs = []
    for _ in range(int(sys.argv[2])):
        t0 = time.process_time()
        format_profile(data, fmt)
        runs.append(time.process_time() - t0)
    runs.sort()
    out[fmt] = runs[len(runs) // 2]
print(json.dumps(out))
'''


def cpu_of(cmd, repeat):
    """Median CPU seconds of cmd; wall seconds where GNU time is missing
    or its 10 ms resolution shows nothing."""
    cpus, walls = [], []
    for _ in range(repeat):
        rc, out, err, (wall, cpu), rss = timed(cmd)
        if rc != 0:
            sys.exit("bench_formats: %s failed (%d): %s"
                     % (" ".join(cmd), rc, err))
        cpus.append(cpu if cpu is not None else wall)
        walls.append(wall)
    cpu = statistics.median(cpus)
    return cpu if cpu >= 0.05 else statistics.median(walls)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--data-dir", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "plop-bench"))
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.data_dir, exist_ok=True)
    binary = os.path.abspath(a.binary)
    collector = os.path.join(os.path.dirname(HERE), "collector")
    work = tempfile.mkdtemp(prefix="plop-bench-formats-")
    print("plop-render CPU seconds (median of %d; wall seconds under "
          "0.05 s), file sizes, and the collector's writers" % a.repeat)
    for n in (int(s) for s in a.sizes.split(",")):
        src = profile_path(a.data_dir, n)
        pb = os.path.join(work, "p.pb.gz")
        ss = os.path.join(work, "p.speedscope.json")
        base = cpu_of([binary, src, "-T", "txt", "-o", os.devnull], a.repeat)
        to_pb = cpu_of([binary, src, "-o", pb], a.repeat)
        to_ss = cpu_of([binary, src, "-o", ss], a.repeat)
        from_pb = cpu_of([binary, pb, "-T", "txt", "-o", os.devnull],
                         a.repeat)
        with gzip.open(pb, "rb") as f:
            raw = len(f.read())
        size = os.path.getsize(src)
        env = dict(os.environ, PYTHONPATH=collector)
        py = json.loads(subprocess.check_output(
            [sys.executable, "-c", PY_WRITERS, src, str(a.repeat)], env=env))
        print("\n%d stacks (%.1f MB repr):" % (n, size / 1e6))
        print("  -T txt from repr     %7.3f s   (baseline)" % base)
        print("  -T pprof from repr   %7.3f s   %+.3f s over the baseline"
              % (to_pb, to_pb - base))
        print("  -T speedscope        %7.3f s   %+.3f s over the baseline"
              % (to_ss, to_ss - base))
        print("  -T txt from pprof    %7.3f s   %.2fx the baseline"
              % (from_pb, from_pb / base if base else 0))
        print("  sizes: pprof %.0f KB gzip'd (%.0f KB raw, 1/%.0f of the "
              "repr), speedscope %.0f KB"
              % (os.path.getsize(pb) / 1e3, raw / 1e3,
                 size / os.path.getsize(pb), os.path.getsize(ss) / 1e3))
        print("  collector: repr %.3f s, pprof %.3f s (%.1fx)"
              % (py["plop"], py["pprof"], py["pprof"] / py["plop"]))
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.rmdir(work)


if __name__ == "__main__":
    main()
