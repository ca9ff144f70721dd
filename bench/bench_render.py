#!/usr/bin/env python3
"""bench_render.py: plop-render against the original viewer's pure-Python
pipeline, on synthetic profiles of ~50, 2,000, 50,000 and 500,000 stacks
(bench/gen_profile.py, fixed seed; generated once into --data-dir).

For each size, in the same run:
  - plop-render --stats: load (read + parse) time and MB/s, graph-build,
    prune, layout and whole-render wall time, peak RSS, per output format;
  - Python: ast.literal_eval of the file (what the original viewer did),
    then the original plop's call-graph algorithm (re-implemented below in
    a few lines), in a fresh interpreter with its peak RSS; skipped above
    --py-max-mb (the 500k-stack file needs more than 22 GB there);
  - gprof2dot + dot when both are installed (said so when not).
Then the ratios and the issue's targets, and the layout of big flat
profiles (bench/gen_flat.py: Zipf servers of thousands of handlers) by
default against the same file cut to 300 functions (--max-nodes 300, the
default's bound before it weighed the layout's cost), both in this run.  Phase timings are wall-clock;
on a shared machine the process's CPU time (user + system, from GNU time)
is printed too and is the steadier number.

    python3 bench/bench_render.py --binary build/plop-render [--sizes 50,2000]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = (50, 2000, 50000, 500000)
SEED = 1234

# The original plop viewer's pipeline, re-implemented: literal_eval, then
# plop.callgraph's CallGraph (every frame of a stack adds the count to its
# node and every adjacent pair to its edge, so recursion counts several
# times), then the top 50 nodes by time and the edges between them.
PY_BASELINE = r'''
import ast, json, resource, sys, time
t0 = time.perf_counter()
with open(sys.argv[1]) as f:
    data = ast.literal_eval(f.read())
t1 = time.perf_counter()
nodes, edges, self_t = {}, {}, {}
for stack, count in data.items():
    for frame in stack:
        nodes[frame] = nodes.get(frame, 0) + count
    self_t[stack[0]] = self_t.get(stack[0], 0) + count
    for callee, caller in zip(stack, stack[1:]):
        edges[(caller, callee)] = edges.get((caller, callee), 0) + count
top = set(sorted(nodes, key=nodes.get, reverse=True)[:50])
shown = [(k, v) for k, v in edges.items() if k[0] in top and k[1] in top]
t2 = time.perf_counter()
print(json.dumps({"parse_s": t1 - t0, "graph_s": t2 - t1,
                  "nodes": len(nodes), "edges": len(edges)}))
'''


def wait_rss(cmd, **kw):
    """Runs cmd; returns (rc, stdout, stderr, wall seconds)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         **kw)
    out, err = p.communicate()
    return p.returncode, out, err, time.perf_counter() - t0


def timed(cmd):
    """(rc, stdout, stderr, wall s, peak RSS KB) of cmd.  The peak RSS of
    one child comes from GNU time (RUSAGE_CHILDREN is a running maximum
    over all children); without it plop's own --stats figure is used."""
    gtime = shutil.which("time") or "/usr/bin/time"
    if os.path.exists(gtime):
        rc, out, err, wall = wait_rss([gtime, "-f", "@@RSS %M %U %S"] + cmd)
        lines = err.decode("utf-8", "replace").splitlines()
        rss = 0
        cpu = None
        keep = []
        for l in lines:
            if l.startswith("@@RSS "):
                f = l.split()
                rss = int(f[1])
                cpu = float(f[2]) + float(f[3])
            else:
                keep.append(l)
        return rc, out, "\n".join(keep), (wall, cpu), rss
    rc, out, err, wall = wait_rss(cmd)
    return rc, out, err.decode("utf-8", "replace"), (wall, None), 0


def profile_path(data_dir, n):
    path = os.path.join(data_dir, "profile-%d-s%d.out" % (n, SEED))
    if not os.path.exists(path):
        print("generating %s ..." % path, flush=True)
        subprocess.check_call([sys.executable,
                               os.path.join(HERE, "gen_profile.py"),
                               "--stacks", str(n), "--seed", str(SEED),
                               "-o", path + ".tmp"])
        os.rename(path + ".tmp", path)
    return path


def parse_stats(text):
    st = {}
    for line in text.splitlines():
        if line.startswith("stats: "):
            for kv in line[7:].split():
                k, v = kv.split("=")
                st[k] = float(v)
    return st


def bench_plop(binary, path, fmt, out_dir):
    out = os.path.join(out_dir, "bench." + fmt)
    rc, _, err, wall, rss = timed([binary, path, "-o", out, "--stats"])
    if rc != 0:
        return {"error": "exit %d: %s" % (rc, err.strip()[:300])}
    st = parse_stats(err)
    st["wall_s"], st["cpu_s"] = wall
    st["rss_kb"] = rss or st.get("peak_rss_kb", 0)
    st["out_bytes"] = os.path.getsize(out)
    os.unlink(out)
    return st


def bench_python(path, python):
    rc, out, err, wall, rss = timed([python, "-c", PY_BASELINE, path])
    if rc != 0:
        return {"error": "exit %d: %s" % (rc, err.strip()[-300:])}
    r = json.loads(out.decode())
    r["wall_s"], r["cpu_s"] = wall
    r["rss_kb"] = rss
    return r


def mb(n):
    return n / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--formats", default=None,
                    help="output formats to time (default: svg,txt, plus "
                         "html when the binary has it)")
    ap.add_argument("--data-dir", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "plop-bench"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--flat", default="3000,10000,10000h,10000d,30000",
                    help="big flat profiles: handler counts, 'h' for the "
                         "variant with shared helpers, 'd' for it with "
                         "every call drawn (--edge-fraction 0: densely "
                         "connected hot code) ('' for none)")
    ap.add_argument("--py-max-mb", type=float, default=100.0,
                    help="skip ast.literal_eval above this input size")
    a = ap.parse_args()
    os.makedirs(a.data_dir, exist_ok=True)
    sizes = [int(s) for s in a.sizes.split(",") if s]
    if a.formats:
        formats = a.formats.split(",")
    else:
        helptext = subprocess.run([a.binary, "--help"],
                                  stdout=subprocess.PIPE).stdout.decode()
        formats = ["svg", "txt"]
        if "html" in helptext:
            formats.append("html")

    print("plop-render benchmark: %s, Python %s, seed %d" % (
        a.binary, sys.version.split()[0], SEED))
    rows = []
    for n in sizes:
        path = profile_path(a.data_dir, n)
        size = os.path.getsize(path)
        row = {"stacks": n, "bytes": size, "plop": {}, "py": None}
        for fmt in formats:
            row["plop"][fmt] = bench_plop(a.binary, path, fmt, a.data_dir)
        if mb(size) <= a.py_max_mb:
            row["py"] = bench_python(path, a.python)
        rows.append(row)
        report_row(row, formats)

    print()
    print("gprof2dot + dot: %s" % (
        "installed, not run (gprof2dot does not read plop's repr format)"
        if shutil.which("gprof2dot") and shutil.which("dot")
        else "not installed here (%s); the issue measured 37 s end to end "
             "on the 500k-stack profile" % ", ".join(
                 x for x in ("gprof2dot", "dot") if not shutil.which(x))))
    targets(rows)
    flat(a.binary, a.data_dir, [f for f in a.flat.split(",") if f])


def flat(binary, data_dir, shapes):
    """Layout of big flat profiles by default against --max-nodes 300."""
    if not shapes:
        return
    print()
    print("big flat profiles (gen_flat.py), SVG: default selection vs "
          "--max-nodes 300, layout time (median of 3) and ratio:")
    for shape in shapes:
        helpers = 300 if shape[-1] in "hd" else 0
        dense = ["--edge-fraction", "0"] if shape.endswith("d") else []
        n = int(shape.rstrip("hd"))
        path = os.path.join(data_dir, "flat-%d%s.txt" % (
            n, "-helpers" if helpers else ""))
        if not os.path.exists(path):
            subprocess.check_call([sys.executable,
                                   os.path.join(HERE, "gen_flat.py"),
                                   "--handlers", str(n), "--helpers",
                                   str(helpers), "-o", path + ".tmp"])
            os.rename(path + ".tmp", path)
        res = {}
        for name, extra in (("default", []), ("base", ["--max-nodes",
                                                        "300"])):
            runs = []
            for _ in range(3):
                out = os.path.join(data_dir, "flat.svg")
                rc, _, err, wall, _ = timed([binary, path, "-o", out,
                                             "--stats"] + dense + extra)
                if rc != 0:
                    runs = None
                    print("  %s: FAILED exit %d: %s" % (shape, rc,
                                                         err.strip()[:300]))
                    break
                st = parse_stats(err)
                st["wall_s"] = wall[0]
                st["out_kb"] = os.path.getsize(out) / 1024
                os.unlink(out)
                runs.append(st)
            if runs is None:
                break
            runs.sort(key=lambda st: st["layout_s"])
            res[name] = runs[1]
        if len(res) < 2:
            continue
        d, b = res["default"], res["base"]
        print("  %6d handlers%s: default %4d boxes + %d of hidden "
              "functions, %4d arrows, layout "
              "%.3f s, whole %.3f s, SVG %.0f KB | --max-nodes 300: %d "
              "boxes, layout %.3f s | layout ratio %.2fx"
              % (n, "%-17s" % (" + helpers, dense" if dense
                               else " + helpers" if helpers else ""),
                 d["shown_nodes"], d.get("tails", 0), d["shown_edges"],
                 d["layout_s"],
                 d["wall_s"], d["out_kb"], b["shown_nodes"], b["layout_s"],
                 d["layout_s"] / max(b["layout_s"], 1e-6)))


def report_row(row, formats):
    n, size = row["stacks"], row["bytes"]
    print()
    print("== %s stacks, %.1f MB" % ("{:,}".format(n), mb(size)))
    svg = None
    for fmt in formats:
        st = row["plop"][fmt]
        if "error" in st:
            print("  plop-render -> %-4s FAILED %s" % (fmt, st["error"]))
            continue
        if fmt == "svg":
            svg = st
        print("  plop-render -> %-4s load %.3f s (%.0f MB/s), graph %.3f s, "
              "prune %.3f s, layout %.3f s, output %.3f s, total %.3f s "
              "(process: wall %.3f s, CPU %s s), peak RSS %.0f MB "
              "(%.2fx input), out %.1f KB"
              % (fmt, st["load_s"], st["load_mb_s"], st["graph_s"],
                 st["prune_s"], st["layout_s"], st["output_s"],
                 st["total_s"], st["wall_s"],
                 "?" if st["cpu_s"] is None else "%.2f" % st["cpu_s"],
                 st["rss_kb"] / 1024,
                 st["rss_kb"] * 1024 / size if size else 0,
                 st["out_bytes"] / 1024))
    py = row["py"]
    if py is None:
        print("  python literal_eval: skipped (input above --py-max-mb; "
              "the issue saw it exhaust 22 GB on the 750 MB file)")
    elif "error" in py:
        print("  python literal_eval: FAILED %s" % py["error"])
    else:
        print("  python literal_eval: parse %.3f s (%.1f MB/s), original "
              "graph %.3f s, wall %.3f s, peak RSS %.0f MB (%.1fx input)"
              % (py["parse_s"], mb(size) / py["parse_s"], py["graph_s"],
                 py["wall_s"], py["rss_kb"] / 1024,
                 py["rss_kb"] * 1024 / size))
        if svg is not None and svg["load_s"] > 0:
            print("  ratios (python / plop): parse %.1fx, parse+graph "
                  "%.1fx, peak RSS %.1fx; python parse+graph / whole "
                  "plop SVG render (with layout): %.1fx"
                  % (py["parse_s"] / svg["load_s"],
                     (py["parse_s"] + py["graph_s"])
                     / (svg["load_s"] + svg["graph_s"] + svg["prune_s"]),
                     py["rss_kb"] / max(1, svg["rss_kb"]),
                     (py["parse_s"] + py["graph_s"]) / svg["wall_s"]))


def targets(rows):
    print()
    print("targets (issue 3):")
    for row in rows:
        svg = row["plop"].get("svg", {})
        if "error" in svg or not svg:
            continue
        n, size = row["stacks"], row["bytes"]
        marks = []
        if size >= 10e6:
            marks.append("parse %.0f MB/s %s 300" % (
                svg["load_mb_s"], ">=" if svg["load_mb_s"] >= 300 else "<"))
        py = row["py"]
        if py and "error" not in py and svg["load_s"] > 0:
            r = py["parse_s"] / svg["load_s"]
            marks.append("%.0fx literal_eval %s 30x" % (
                r, ">=" if r >= 30 else "<"))
        ratio = svg["rss_kb"] * 1024 / size
        if size >= 10e6:
            marks.append("RSS %.2fx input %s 1.5x" % (
                ratio, "<=" if ratio <= 1.5 else ">"))
        marks.append("layout %.2f s %s 1 s" % (
            svg["layout_s"], "<" if svg["layout_s"] < 1 else ">="))
        if n >= 500000:
            marks.append("to SVG %.2f s wall %s 3 s" % (
                svg["wall_s"], "<" if svg["wall_s"] < 3 else ">="))
            if svg["cpu_s"] is not None:
                marks.append("%.2f s CPU %s 3 s" % (
                    svg["cpu_s"], "<" if svg["cpu_s"] < 3 else ">="))
        print("  %9s stacks: %s" % ("{:,}".format(n), "; ".join(marks)))


if __name__ == "__main__":
    main()
