#!/usr/bin/env python3
"""The comparison and budget suite (plop-render --base, --diff-mode,
--fail-if, -T md): runs the real binary on

  - real profiles: tests/diff/workload.py is run twice under the collector
    (PYTHONPATH=collector), the second time with `compute` made slower;
    the workload measures each function's CPU time itself, and the test
    computes from those timings, not from the profiles, the change the
    diff must show;
  - a small collapsed fixture (tests/diff/fixtures) whose Markdown summary
    and stderr are compared byte for byte with the expected files;
  - the command line's errors (exit codes 2 and 7, caret diagnostics).

    python3 tests/diff/run.py --binary build/plop-render [-k PATTERN] [-v]
        [--update]

--update rewrites the expected Markdown from the binary's output.  Ends
with the line "N passed, N failed".
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")
BASE = os.path.join(FIXTURES, "base.collapsed")
NEW = os.path.join(FIXTURES, "new.collapsed")

EXIT_OK, EXIT_USAGE, EXIT_BUDGET = 0, 2, 7
INTERVAL = 0.004
SLOWDOWN = 2.5
GREY = "#e4e4e4"

ARGS = None
TESTS = []
CLEANUP = []


def test(fn):
    TESTS.append(fn)
    return fn


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(args, cwd=None):
    p = subprocess.run([ARGS.binary] + list(args), cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    if p.returncode < 0 or b"Sanitizer" in p.stderr:
        raise Failure("%s crashed (rc %d):\n%s" % (
            " ".join(args), p.returncode,
            p.stderr.decode("utf-8", "replace")))
    return p.returncode, p.stdout, p.stderr


def expect(args, rc_want, cwd=None):
    rc, out, err = run(args, cwd=cwd)
    check(rc == rc_want, "%s: exit %d, expected %d; stderr:\n%s"
          % (" ".join(args), rc, rc_want, err.decode("utf-8", "replace")))
    return out, err


def tmpdir():
    d = tempfile.mkdtemp(prefix="plop-diff-test-")
    CLEANUP.append(d)
    return d


def read(path):
    with open(path, "rb") as f:
        return f.read()


def dot_nodes(dot):
    """{function name: (label, fillcolor)} from canonical DOT text."""
    nodes = {}
    for m in re.finditer(r'^\tn\d+\t\[(.*?)\];$', dot, re.S | re.M):
        body = m.group(1)
        label = re.search(r'label="((?:[^"\\]|\\.)*)"', body, re.S).group(1)
        label = label.replace("\\\n", "")
        color = re.search(r'fillcolor="([^"]*)"', body).group(1)
        nodes[label.split("\\n")[0]] = (label, color)
    return nodes


def label_change(label, which):
    """The change in a "self 12.1 % (+4.3)" or "self 123 (+45)" line."""
    m = re.search(which + r" [^\\]*\(([+-][0-9.,]+)\)", label)
    check(m is not None, "no '%s ... (change)' in label %r" % (which, label))
    return float(m.group(1).replace(",", ""))


def is_red(color):
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return r > g + 60 and r > b + 60


# ------------------------------------------------------------ real profiles

PROFILES = {}


def collector_profiles():
    """Runs the workload twice under the collector (once); returns
    {"base": (profile, timings), "new": (profile, timings)}."""
    if PROFILES:
        return PROFILES
    d = tmpdir()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "collector")
    for side, slow in (("base", 1.0), ("new", SLOWDOWN)):
        prof = os.path.join(d, side + ".out")
        timings = os.path.join(d, side + ".json")
        env["PLOP_SLOWDOWN"] = str(slow)
        p = subprocess.run([ARGS.python, "-m", "plop.collector", "-q",
                            "--mode", "prof", "--interval", str(INTERVAL),
                            "-o", prof, os.path.join(HERE, "workload.py"),
                            timings], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=600)
        check(p.returncode == 0, "workload failed:\n"
              + p.stderr.decode("utf-8", "replace"))
        with open(timings) as f:
            PROFILES[side] = (prof, json.load(f))
    return PROFILES


def expected_share(t, name):
    """A function's share of the CPU time of the run, in percent, from the
    workload's own measurement."""
    return 100.0 * t[name] / (t["end"] - t["start"])


@test
def test_real_profiles_share_mode():
    """The slowed function is red with the right point change."""
    p = collector_profiles()
    (base, tb), (new, tn) = p["base"], p["new"]
    out, _ = expect(["--base", base, new, "-T", "dot", "-o", "-"], EXIT_OK)
    nodes = dot_nodes(out.decode())
    for name in ("parse", "compute", "render"):
        check(name in nodes, "%s is not in the graph" % name)
    want = expected_share(tn, "compute") - expected_share(tb, "compute")
    got = label_change(nodes["compute"][0], "self")
    # The profile's total also holds the launcher's and the loop's own
    # time (about 1 % of a run), and a sample is charged to the function
    # running when it fires; on a loaded machine timer signals bunch up
    # and one sample may carry several intervals.  Measured on this 2-core
    # machine at load 4-6: within 1 point in most runs, 5.5 at worst in 34;
    # 8 points of slack against a change of about 20.
    check(abs(got - want) < 8.0, "compute changed by %+.1f points, measured "
          "%+.1f inside the workload" % (got, want))
    check(want > 12, "the slowdown did not show in the timings: %+.1f" % want)
    check(is_red(nodes["compute"][1]), "compute is not red: %s"
          % nodes["compute"][1])
    # In share mode the others shrank by the same token, as the workload's
    # timings say.
    for name in ("parse", "render"):
        want = expected_share(tn, name) - expected_share(tb, name)
        got = label_change(nodes[name][0], "self")
        check(abs(got - want) < 8.0, "%s: %+.1f points, measured %+.1f"
              % (name, got, want))


@test
def test_real_profiles_absolute_mode():
    """In samples, the slowed function is red by the extra CPU time it
    took; the others are grey (within noise)."""
    p = collector_profiles()
    (base, tb), (new, tn) = p["base"], p["new"]
    out, _ = expect(["--base", base, new, "--diff-mode", "absolute",
                     "-T", "dot", "-o", "-"], EXIT_OK)
    nodes = dot_nodes(out.decode())
    want = (tn["compute"] - tb["compute"]) / INTERVAL
    got = label_change(nodes["compute"][0], "self")
    check(abs(got - want) < 0.3 * want + 10, "compute grew by %+.0f samples, "
          "the workload measured %+.0f" % (got, want))
    check(is_red(nodes["compute"][1]), "compute is not red: %s"
          % nodes["compute"][1])
    # The others did the same work; the CPU time it took may still vary on
    # a busy machine, and the workload measured how much.  Each one's
    # change must match that measurement, and it must be grey whenever
    # the measured change is well inside the noise band (diff.h: 3
    # standard errors of the Poisson difference of the two counts).
    greys = 0
    for name in ("parse", "render"):
        label, color = nodes[name]
        want = (tn[name] - tb[name]) / INTERVAL
        got = label_change(label, "self")
        now = float(re.search(r"self ([0-9,]+) \(", label).group(1)
                    .replace(",", ""))
        before = now - got
        check(abs(got - want) < 0.3 * before + 10, "%s changed by %+.0f "
              "samples, the workload measured %+.0f" % (name, got, want))
        band = 3 * (before + now) ** 0.5
        if abs(want) < band / 2:
            greys += 1
            check(color == GREY, "%s is not grey: %s (%+.0f samples, "
                  "measured %+.0f, noise band %.0f)" % (name, color, got,
                                                        want, band))
        elif abs(got) >= band:
            check(color != GREY and is_red(color) == (got > 0),
                  "%s: colour %s for a change of %+.0f" % (name, color, got))
    if greys == 0:
        print("note: the machine was too busy for the grey check: the "
              "workload's own timings of parse and render moved")
    out, _ = expect(["--base", base, new, "--diff-mode", "absolute",
                     "-T", "txt", "-o", "-"], EXIT_OK)
    lines = out.decode().splitlines()
    i = lines.index("largest increases of self samples:")
    check(" compute (" in lines[i + 2], "first increase is not compute: %r"
          % lines[i + 2])
    # Anything else listed must have grown by the workload's own clock
    # too: parse or render, measured up by at least half the noise band
    # (a busy machine can slow them between the runs; the workload sees
    # it).  A function whose measured change is well inside the noise
    # must not be listed.
    listed = lines[i + 3:lines.index("", i + 2)]
    for row in listed:
        m = re.search(r"^\s*([0-9,]+)\s+([0-9,]+)\s+([-+][0-9]+)\s+\S+"
                      r"\s+(\w+) \(", row)
        check(m is not None and m.group(4) in ("parse", "render"),
              "an increase the workload did not make:\n%s"
              % "\n".join(lines[i:i + 6]))
        name = m.group(4)
        before, now = (float(m.group(k).replace(",", "")) for k in (1, 2))
        want = (tn[name] - tb[name]) / INTERVAL
        band = 3 * (before + now) ** 0.5
        check(want >= band / 2, "%s is listed as grown by %s samples, the "
              "workload measured %+.0f (noise band %.0f)"
              % (name, m.group(3), want, band))


@test
def test_real_profiles_budgets():
    """grow() and self() budgets pass and fail on the right side of the
    line drawn from the workload's own timings."""
    p = collector_profiles()
    (base, tb), (new, tn) = p["base"], p["new"]
    grow = expected_share(tn, "compute") - expected_share(tb, "compute")
    share = expected_share(tn, "compute")
    d = tmpdir()
    out = os.path.join(d, "x.md")
    _, err = expect(["--base", base, new, "-o", out,
                     "--fail-if", "grow(self, ^compute$)>%.1f" % (grow + 12),
                     "--fail-if", "self(workload.py:compute)>%.1f%%"
                     % (share + 12)], EXIT_OK)
    check(err == b"", "stderr: %r" % err)
    _, err = expect(["--base", base, new, "-o", out,
                     "--fail-if", "grow(self, ^compute$)>%.1f" % (grow - 12),
                     "--fail-if", "self(workload.py:compute)>%.1f%%"
                     % (share - 12),
                     "--fail-if", "total<10"], EXIT_BUDGET)
    lines = err.decode().splitlines()
    check(len(lines) == 2, "expected two broken budgets:\n%s" % err.decode())
    check(lines[0].startswith("error: budget 'grow(self, ^compute$)>%.1f' is "
                              "broken: measured +" % (grow - 12)), lines[0])
    check(lines[1].startswith("error: budget 'self(workload.py:compute)>"
                              "%.1f%%' is broken: measured " % (share - 12)),
          lines[1])
    md = read(out).decode()
    check("| \u274c fail |" in md and "| \u2705 pass |" in md,
          "the summary does not list the results:\n" + md)


# ------------------------------------------------------------ fixture

BUDGETS = ["--fail-if", "self(db.py:query)>50%",
           "--fail-if", "grow(self, json)>5",
           "--fail-if", "total<1000"]


@test
def test_markdown_exact():
    """The Markdown summary and stderr of the fixture, byte for byte; the
    output is written although a budget broke."""
    d = tmpdir()
    out = os.path.join(d, "summary.md")
    _, err = expect(["--base", "base.collapsed", "new.collapsed", "-o", out]
                    + BUDGETS, EXIT_BUDGET, cwd=FIXTURES)
    got = read(out)
    want_path = os.path.join(FIXTURES, "expected.md")
    if ARGS.update:
        with open(want_path, "wb") as f:
            f.write(got)
    check(got == read(want_path), "summary.md differs from expected.md:\n"
          + got.decode())
    check(err == b"error: budget 'self(db.py:query)>50%' is broken: "
          b"measured 60.00 %, limit 50 %\n", "stderr: %r" % err)


@test
def test_fixture_graph():
    """Colours and labels: grew red, shrank green, held grey, vanished
    shown with its loss."""
    out, _ = expect(["--base", BASE, NEW, "-T", "dot", "-o", "-"], EXIT_OK)
    nodes = dot_nodes(out.decode())
    check(set(nodes) == {"main", "handle", "parse", "query", "legacy",
                         "cache"}, "nodes: %s" % sorted(nodes))
    check("self 60.0 % (+10.0)" in nodes["query"][0], nodes["query"][0])
    check("self 0.0 % (-20.0)" in nodes["legacy"][0], nodes["legacy"][0])
    check("self 25.0 % (+25.0)" in nodes["cache"][0], nodes["cache"][0])
    check("incl 100.0 % (+0.0)" in nodes["main"][0], nodes["main"][0])
    check(is_red(nodes["cache"][1]) and is_red(nodes["query"][1]),
          "grown functions are not red")
    for name in ("legacy", "parse"):
        r, g, b = (int(nodes[name][1][i:i + 2], 16) for i in (1, 3, 5))
        check(g > r + 40, "%s is not green: %s" % (name, nodes[name][1]))
    check(nodes["main"][1] == GREY and nodes["handle"][1] == GREY,
          "held functions are not grey")
    # A bigger change is a stronger colour.
    check(int(nodes["cache"][1][3:5], 16) < int(nodes["query"][1][3:5], 16),
          "+25 is not stronger than +10")
    check('xlabel=" 15.0 % (-15.0)"' in out.decode(), "edge label missing")
    # The flame graph SVG: NEW's frames in the same colours.
    flame, _ = expect(["--base", BASE, NEW, "-T", "flame.svg", "-o", "-"],
                      EXIT_OK)
    flame = flame.decode()
    for name in ("cache", "query", "parse", "main"):
        check(re.search(r'fill="%s"[^>]*>(?:(?!</g>).)*>%s<' % (
            nodes[name][1], name), flame, re.S) is not None,
            "%s is not %s in the flame graph" % (name, nodes[name][1]))
    check(">legacy<" not in flame, "a vanished function in NEW's flame graph")


@test
def test_flame_colours_each_call_path():
    """A differential flame graph colours a call path by its own change:
    json grew through a() and shrank through b()."""
    d = tmpdir()
    base = os.path.join(d, "base.collapsed")
    new = os.path.join(d, "new.collapsed")
    with open(base, "w") as f:
        f.write("main;a;json 100\nmain;b;json 100\nmain;c 200\n")
    with open(new, "w") as f:
        f.write("main;a;json 300\nmain;b;json 50\nmain;c 50\n")
    out, _ = expect(["--base", base, new, "-T", "flame.svg", "-o", "-"],
                    EXIT_OK)
    frames = re.findall(r'<g><title>([^<]*)</title><rect [^>]*fill="(#[0-9a-f]+)"',
                        out.decode())
    json = [(t, c) for t, c in frames if t.startswith("json")]
    check(len(json) == 2, "json frames: %r" % frames)
    (t1, c1), (t2, c2) = json
    check("base 100 samples; now 75.0 % (+50.0)" in t1, t1)
    check("base 100 samples; now 12.5 % (-12.5)" in t2, t2)
    check(is_red(c1), "json under a is not red: %s" % c1)
    r, g, b = (int(c2[i:i + 2], 16) for i in (1, 3, 5))
    check(g > r + 40, "json under b is not green: %s" % c2)
    # The graph colours the function as a whole: json grew.
    dot, _ = expect(["--base", base, new, "-T", "dot", "-o", "-"], EXIT_OK)
    check(is_red(dot_nodes(dot.decode())["json"][1]), "json is not red")


@test
def test_new_function_is_shown():
    """A function that went from 0 to 3 % is shown although 30 others are
    as large and --max-nodes 10 would leave it out of NEW's own graph."""
    d = tmpdir()
    base = os.path.join(d, "base.collapsed")
    new = os.path.join(d, "new.collapsed")
    with open(base, "w") as fb, open(new, "w") as fn:
        for i in range(30):
            fb.write("main;f%02d 100\n" % i)
            fn.write("main;f%02d 100\n" % i)
        fn.write("main;fresh 100\n")
    alone, _ = expect([new, "--max-nodes", "10", "-T", "dot", "-o", "-"],
                      EXIT_OK)
    check("fresh" not in dot_nodes(alone.decode()),
          "the test is moot: fresh is shown without a comparison")
    out, _ = expect(["--base", base, new, "--max-nodes", "10", "-T", "dot",
                     "-o", "-"], EXIT_OK)
    nodes = dot_nodes(out.decode())
    check("fresh" in nodes, "fresh is not shown: %s" % sorted(nodes))
    check("self 3.2 % (+3.2)" in nodes["fresh"][0], nodes["fresh"][0])
    check(len(nodes) <= 10, "%d nodes past --max-nodes 10" % len(nodes))


@test
def test_two_count_file_is_a_comparison():
    """difffolded.pl's format gives what --base gives."""
    d = tmpdir()
    both = os.path.join(d, "both.collapsed")
    counts = {}
    for side, path in ((0, BASE), (1, NEW)):
        for line in read(path).decode().splitlines():
            stack, n = line.rsplit(" ", 1)
            counts.setdefault(stack, [0, 0])[side] += int(n)
    with open(both, "w") as f:
        for stack in sorted(counts):
            f.write("%s %d %d\n" % (stack, counts[stack][0],
                                    counts[stack][1]))
    for fmt in ("dot", "txt"):
        a, _ = expect(["--title", "t", "--base", BASE, NEW, "-T", fmt,
                       "-o", "-"], EXIT_OK)
        b, _ = expect(["--title", "t", both, "-T", fmt, "-o", "-"], EXIT_OK)
        # The graph's label names the base: a file, or the first counts.
        a = a.replace(b"compared with base.collapsed (",
                      b"compared with the first counts (")
        check(a == b, "-T %s differs between --base and the two-count "
              "file:\n%s\n----\n%s" % (fmt, a.decode(), b.decode()))


@test
def test_several_files_per_side():
    """Several files on either side are merged."""
    out, _ = expect(["--base", BASE, "--base", BASE, NEW, NEW, NEW,
                     "-T", "txt", "-o", "-"], EXIT_OK)
    text = out.decode()
    check(text.startswith("total: 6,000 samples"), text[:80])
    check("base: 2,000 samples;" in text, text[:200])
    check("  +25.0        +25.0  cache (cache.py:7)" in text, text)


@test
def test_determinism_every_format():
    """The same inputs give byte-identical output in every format."""
    d = tmpdir()
    for fmt in ("svg", "png", "pdf", "dot", "txt", "md", "html",
                "flame.svg"):
        outs = []
        for i in range(2):
            path = os.path.join(d, "%d.%s" % (i, fmt))
            expect(["--base", BASE, NEW, "-T", fmt, "-o", path] + BUDGETS,
                   EXIT_BUDGET)
            outs.append(read(path))
        check(outs[0] == outs[1], "-T %s differs between two runs" % fmt)
        check(len(outs[0]) > 100, "-T %s is nearly empty" % fmt)


@test
def test_usage_errors():
    """Malformed budgets and options: exit 2, a caret, no output."""
    d = tmpdir()
    out = os.path.join(d, "x.svg")
    _, err = expect([NEW, "-o", out, "--fail-if", "self(json)=15%"],
                    EXIT_USAGE)
    check(err == b"--fail-if:1:11: error: expected '>', '>=', '<' or '<='\n"
          b"    self(json)=15%\n"
          b"              ^\n"
          b"try 'plop-render --help'\n", "stderr: %r" % err)
    _, err = expect([NEW, "-o", out, "--fail-if", "grow(self, json)>5"],
                    EXIT_USAGE)
    check(err.startswith(b"error: --fail-if 'grow(self, json)>5' compares "
                         b"with a base profile: give one with --base\n"),
          "stderr: %r" % err)
    _, err = expect(["--base", BASE, NEW, "-o", out, "--diff-mode", "ratio"],
                    EXIT_USAGE)
    check(err.startswith(b"error: --diff-mode wants 'share' or 'absolute', "
                         b"not 'ratio'\n"), "stderr: %r" % err)
    check(not os.path.exists(out), "an output was written")
    _, err = expect(["--base", "-", "-", "-o", out], EXIT_USAGE)
    check(b"standard input ('-') given twice" in err, "stderr: %r" % err)
    out2, _ = expect(["--help"], EXIT_OK)
    check(b"  7  a --fail-if budget is broken" in out2, "--help lacks exit 7")


@test
def test_budget_without_comparison():
    """Budgets work on one profile too; outputs are written when broken."""
    d = tmpdir()
    out = os.path.join(d, "x.txt")
    _, err = expect([NEW, "-o", out, "--fail-if", "incl(app.py:handle)>=100%",
                     "--fail-if", "self(cache)>30%"], EXIT_BUDGET)
    check(err == b"error: budget 'incl(app.py:handle)>=100%' is broken: "
          b"measured 100.00 %, limit 100 %\n", "stderr: %r" % err)
    check(read(out).startswith(b"total: 2,000 samples"), "no output")


# ------------------------------------------------------------ driver

def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--python", default=sys.executable,
                    help="the interpreter the collector was built for")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("-k", dest="pattern")
    ap.add_argument("-v", dest="verbose", action="store_true")
    ARGS = ap.parse_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    passed = failed = 0
    for fn in TESTS:
        if ARGS.pattern and ARGS.pattern not in fn.__name__:
            continue
        try:
            fn()
            passed += 1
            if ARGS.verbose:
                print("ok   %s" % fn.__name__)
        except Exception as e:
            failed += 1
            print("FAIL %s" % fn.__name__)
            if isinstance(e, Failure):
                print("  " + str(e).replace("\n", "\n  "))
            else:
                traceback.print_exc(file=sys.stdout)
    for d in CLEANUP:
        shutil.rmtree(d, ignore_errors=True)
    if passed + failed == 0:
        print("no test ran")
        failed += 1
    print("diff: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
