"""pprof interop, checked by the real client: Debian's `go tool pprof`.

- plop-render -T pprof on each fixture; `go tool pprof -top` lists the same
  functions with the same flat and cumulative sample counts as
  `plop-render -T txt` (both parsed here), at line and at function
  granularity; its -raw dump shows the period, the comments and
  cpu = count x period for every sample.
- Round trips: plop -> pprof -> plop-render and plop -> pprof ->
  `go tool pprof -proto` -> plop-render give the canonical DOT of
  plop -> plop-render, byte for byte.
- The collector's own pprof encoder (plop.pprof) gives the same graphs
  and the same `go tool pprof -top` as plop-render's.
- A CPU profile written by a real Go program (runtime/pprof) renders, with
  the same counts as go tool pprof reports.
- Bad pprof input: exit 4, a `NAME: error:` line, no output file.

go tool pprof gets a private HOME and PPROF_TMPDIR; it reads local files
only, so nothing here touches the network.  PLOP_RENDER names the binary
(default build/plop-render).
"""
import gzip
import itertools
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
RENDER = os.environ.get("PLOP_RENDER",
                        os.path.join(ROOT, "build", "plop-render"))
FIXTURE_NAMES = ("plop-0.4-py3.11-mixed.plop", "plop-0.2-py2.7-mixed.out",
                 "plop-0.4-py3.11-mixed.flame")
EXIT_PARSE = 4

TMP = None


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="plop-interop-")


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def go_env():
    env = dict(os.environ)
    home = os.path.join(TMP, "home")
    os.makedirs(home, exist_ok=True)
    env.update(HOME=home, PPROF_TMPDIR=os.path.join(TMP, "pprof"),
               GOCACHE=os.path.join(TMP, "gocache"), GOPATH=os.path.join(
                   TMP, "gopath"), GOFLAGS="-mod=mod", GOPROXY="off",
               GO111MODULE="on", GOTOOLCHAIN="local")
    return env


def go(*args, cwd=None):
    """Runs `go ARGS`; returns stdout as text, fails on a non-zero exit."""
    p = subprocess.run(["go"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=go_env(), cwd=cwd,
                       timeout=300)
    if p.returncode != 0:
        raise AssertionError("go %s: exit %d\n%s" % (
            " ".join(args), p.returncode, p.stderr.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8")


def render(*args):
    """Runs plop-render; returns (rc, stdout bytes, stderr text)."""
    p = subprocess.run([RENDER] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def render_ok(*args):
    rc, out, err = render(*args)
    if rc != 0:
        raise AssertionError("plop-render %s: exit %d\n%s"
                             % (" ".join(args), rc, err))
    return out


def tmp(name):
    return os.path.join(TMP, name)


_serial = itertools.count()


def to_pprof(fixture, *extra):
    out = tmp(os.path.basename(fixture) + ".%d.pb.gz" % next(_serial))
    render_ok(fixture, "-o", out, *extra)
    return out


# A frame without a file has no "(file:line)" (plop-render prints no ":0").
PLOP_ROW = re.compile(r"^\s*([\d,]+)\s+[\d.]+%\s+[\d.]+%\s+([\d,]+)\s+"
                      r"[\d.]+%\s\s(.*?)(?: \((.*):(\d+)\))?$")
PPROF_ROW = re.compile(r"^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s\s"
                       r"(.*)$")


def pprof_name(func, file, line, with_line):
    """The name `go tool pprof -top` prints for a node (NodeInfo's
    NameComponents): the function, then file:line, or the file alone."""
    file = posixpath.normpath(file) if file else ""
    if with_line and line:
        return "%s %s:%d" % (func, file, line)
    return "%s %s" % (func, file) if file else func


def plop_rows(path, granularity, with_line):
    """[(pprof-style name, self, incl)] from plop-render -T txt."""
    text = render_ok(path, "-T", "txt", "-o", "-", "--max-nodes", "0",
                     "--granularity", granularity).decode("utf-8")
    rows = []
    section = text.split("by self samples:\n", 1)[1].split("\n\n", 1)[0]
    for line in section.splitlines()[1:]:
        m = PLOP_ROW.match(line)
        assert m, "unparsed plop row %r" % line
        key = pprof_name(m.group(3), m.group(4) or "", int(m.group(5) or 0),
                         with_line)
        self_, incl = (int(m.group(i).replace(",", "")) for i in (1, 2))
        rows.append((key, self_, incl))
    return rows


def plop_top(path, granularity, with_line):
    """{pprof-style name: (self, incl)}; the names must be unique."""
    rows = {}
    for key, self_, incl in plop_rows(path, granularity, with_line):
        assert key not in rows, "two plop nodes print as %r" % key
        rows[key] = (self_, incl)
    return rows


def pprof_top(path, *flags):
    """{name: (flat, cum)} from go tool pprof -top -sample_index=0."""
    text = go("tool", "pprof", "-top", "-sample_index=0", "-nodefraction=0",
              "-edgefraction=0", *(list(flags) + [path]))
    rows = {}
    header = text.index("flat  flat%")
    for line in text[header:].splitlines()[1:]:
        m = PPROF_ROW.match(line)
        assert m, "unparsed pprof row %r in\n%s" % (line, text)
        assert m.group(3) not in rows
        rows[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return rows, text


def canonical_dot(path, *extra):
    return render_ok(path, "-T", "dot", "-o", "-", "--title", "t", *extra)


ANON = re.compile(r"^<(?!module>)")


class TopAgrees(unittest.TestCase):
    """go tool pprof -top against plop-render -T txt, on every fixture."""

    def test_lines(self):
        for name in FIXTURE_NAMES:
            fixture = os.path.join(FIXTURES, name)
            with self.subTest(fixture=name):
                want = plop_top(fixture, "line", True)
                got, text = pprof_top(to_pprof(fixture), "-lines")
                self.assertGreater(len(want), 10)
                self.assertEqual(got, want, text)

    def test_functions(self):
        # pprof's function nodes are (name, file): it merges anonymous
        # code objects of one file (<listcomp> at lines 38 and 43) that
        # plop keeps apart by line.  Every named function must agree
        # exactly; for the merged ones the self counts add up.
        for name in FIXTURE_NAMES:
            fixture = os.path.join(FIXTURES, name)
            with self.subTest(fixture=name):
                rows = plop_rows(fixture, "function", False)
                got, text = pprof_top(to_pprof(fixture), "-filefunctions")
                merged = {}
                for key, self_, incl in rows:
                    if ANON.match(key):
                        merged[key] = merged.get(key, 0) + self_
                    else:
                        self.assertEqual(got.get(key), (self_, incl),
                                         "%s\n%s" % (key, text))
                for key, self_ in merged.items():
                    self.assertEqual(got[key][0], self_, key)
                self.assertEqual(set(got), set(r[0] for r in rows))
                self.assertGreater(len(rows) - len(merged), 10)

    def test_top_default(self):
        # The plain `-top` (nodes are function names alone): every name
        # that only one plop node has shows plop's counts.
        fixture = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        got, text = pprof_top(to_pprof(fixture))
        rows = plop_rows(fixture, "function", False)
        names = [key.split(" ")[0] for key, _, _ in rows]
        unique = 0
        for key, self_, incl in rows:
            name = key.split(" ")[0]
            if names.count(name) == 1:
                self.assertEqual(got[name], (self_, incl), text)
                unique += 1
        self.assertGreater(unique, 10)
        self.assertEqual(set(got), set(names))


class RawDump(unittest.TestCase):
    """go tool pprof -raw: the profile as pprof decoded it."""

    def raw(self, path):
        return go("tool", "pprof", "-raw", path)

    def test_period_comments_and_cpu(self):
        fixture = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        for interval, period in (("0.01", 10000000), ("0.005", 5000000)):
            with self.subTest(interval=interval):
                text = self.raw(to_pprof(fixture, "--interval", interval))
                self.assertIn("PeriodType: cpu nanoseconds\n", text)
                self.assertIn("Period: %d\n" % period, text)
                self.assertIn("plop-render ", text)
                self.assertIn("input: " + fixture, text)
                self.assertIn("samples/count cpu/nanoseconds", text)
                rows = re.findall(r"^\s+(\d+)\s+(\d+): [\d ]+$", text,
                                  re.M)
                self.assertGreater(len(rows), 10)
                total = 0
                for count, cpu in rows:
                    self.assertEqual(int(cpu), int(count) * period)
                    total += int(count)
                self.assertEqual(total, 466)

    def test_interval_kept_from_pprof_input(self):
        fixture = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        first = to_pprof(fixture, "--interval", "0.004")
        second = tmp("second.pb.gz")
        render_ok(first, "-o", second)          # no --interval: from input
        self.assertIn("Period: 4000000\n", self.raw(second))
        third = tmp("third.pb.gz")
        render_ok(first, "-o", third, "--interval", "0.02")
        self.assertIn("Period: 4000000\n", self.raw(third))


class RoundTrips(unittest.TestCase):

    def test_plop_pprof_plop(self):
        for name in FIXTURE_NAMES:
            fixture = os.path.join(FIXTURES, name)
            for gran in ("function", "line"):
                with self.subTest(fixture=name, granularity=gran):
                    pb = to_pprof(fixture)
                    self.assertEqual(
                        canonical_dot(pb, "--granularity", gran),
                        canonical_dot(fixture, "--granularity", gran))

    def test_through_go_tool_pprof_proto(self):
        for name in FIXTURE_NAMES:
            fixture = os.path.join(FIXTURES, name)
            with self.subTest(fixture=name):
                pb = to_pprof(fixture)
                again = tmp(name + ".go.pb.gz")
                go("tool", "pprof", "-proto", "-output", again, pb)
                with open(again, "rb") as f:
                    self.assertEqual(f.read(2), b"\x1f\x8b")
                self.assertNotEqual(open(again, "rb").read(),
                                    open(pb, "rb").read())
                for gran in ("function", "line"):
                    self.assertEqual(
                        canonical_dot(again, "--granularity", gran),
                        canonical_dot(fixture, "--granularity", gran))

    def test_uncompressed_and_stdin(self):
        fixture = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        with gzip.open(to_pprof(fixture), "rb") as f:
            raw = f.read()
        path = tmp("raw.pb")
        with open(path, "wb") as f:
            f.write(raw)
        want = canonical_dot(fixture)
        self.assertEqual(canonical_dot(path), want)
        p = subprocess.run([RENDER, "-", "-T", "dot", "-o", "-", "--title",
                            "t"], input=raw, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, want)

    def test_merge_pprof_with_plop(self):
        # A pprof input and a plop input merge like two plop inputs.
        a = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        b = os.path.join(FIXTURES, FIXTURE_NAMES[1])
        self.assertEqual(canonical_dot(to_pprof(a), b),
                         canonical_dot(a, b))

    def test_deterministic(self):
        fixture = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        one, two = to_pprof(fixture), to_pprof(fixture)
        self.assertNotEqual(one, two)
        self.assertEqual(open(one, "rb").read(), open(two, "rb").read())


def python_pprof(fixture, **kw):
    """The fixture's stacks written by the collector's encoder
    (plop.pprof, what `python -m plop.collector -f pprof` writes)."""
    out = tmp(os.path.basename(fixture) + ".py%d.pb.gz" % next(_serial))
    code = ("import ast, sys\n"
            "from plop.profile_io import write_profile\n"
            "d = ast.literal_eval(open(sys.argv[1], encoding='utf-8').read())\n"
            "write_profile(d, sys.argv[2], 'pprof', **%r)\n" % (kw,))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "collector"))
    p = subprocess.run([sys.executable, "-c", code, fixture, out], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    if p.returncode != 0:
        raise AssertionError(p.stderr.decode("utf-8", "replace"))
    return out


class CollectorPprof(unittest.TestCase):
    """The collector's own encoder (Python) against plop-render's (C) and
    go tool pprof, on the repr fixtures."""

    # The Python 3 fixture only: ast.literal_eval under Python 3 reads the
    # 2.7 fixture's '\xc3\xb6' escapes as two Latin-1 characters, which is
    # not what that profile means (plop-render reads them as UTF-8 bytes).
    REPR_FIXTURES = FIXTURE_NAMES[:1]

    def test_reads_back_as_plop_render_draws_it(self):
        for name in self.REPR_FIXTURES:
            fixture = os.path.join(FIXTURES, name)
            pb = python_pprof(fixture)
            for gran in ("function", "line"):
                with self.subTest(fixture=name, granularity=gran):
                    self.assertEqual(
                        canonical_dot(pb, "--granularity", gran),
                        canonical_dot(fixture, "--granularity", gran))

    def test_go_tool_pprof_agrees(self):
        for name in self.REPR_FIXTURES:
            fixture = os.path.join(FIXTURES, name)
            with self.subTest(fixture=name):
                got, text = pprof_top(python_pprof(fixture), "-lines")
                self.assertEqual(got, plop_top(fixture, "line", True), text)

    def test_same_functions_and_locations_as_plop_render(self):
        # go tool pprof -raw lists each location as "name file:line
        # s=START": the two encoders must give the same list
        def locations(path):
            raw = go("tool", "pprof", "-raw", path)
            part = raw.split("Locations\n", 1)[1].split("Mappings\n", 1)[0]
            return sorted(l.split(" M=1 ", 1)[1] for l in part.splitlines())
        for name in self.REPR_FIXTURES:
            fixture = os.path.join(FIXTURES, name)
            with self.subTest(fixture=name):
                want = locations(to_pprof(fixture))
                self.assertGreater(len(want), 20)
                self.assertEqual(locations(python_pprof(fixture)), want)
        # first lines (<module> at 1): two methods 'run' of one file are
        # two functions in both
        first = tmp("first-lines.out")
        with open(first, "w") as f:
            f.write("{(('a.py', 10, 'run'), ('a.py', 1, '<module>')): 3, "
                    "(('a.py', 20, 'run'), ('a.py', 1, '<module>')): 2}\n")
        want = locations(to_pprof(first))
        self.assertEqual(locations(python_pprof(first)), want)
        self.assertIn("run a.py:20 s=20()", want)

    def test_period_and_wall_time(self):
        fixture = os.path.join(FIXTURES, self.REPR_FIXTURES[0])
        raw = go("tool", "pprof", "-raw", python_pprof(
            fixture, interval=0.002, mode="real"))
        self.assertIn("PeriodType: wall nanoseconds\n", raw)
        self.assertIn("Period: 2000000\n", raw)
        self.assertIn("samples/count wall/nanoseconds", raw)


GO_PROGRAM = r'''
package main

import (
	"os"
	"runtime/pprof"
	"time"
)

//go:noinline
func spinA(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

//go:noinline
func spinB(n int) int { return spinA(n) + spinA(n/2) }

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	pprof.StartCPUProfile(f)
	end := time.Now().Add(1500 * time.Millisecond)
	s := 0
	for time.Now().Before(end) {
		s += spinA(200000) + spinB(200000)
	}
	pprof.StopCPUProfile()
	f.Close()
	if s == 42 {
		println(s)
	}
}
'''


class GoProfile(unittest.TestCase):
    """A CPU profile made by the Go runtime: plop-render draws it, and its
    counts are those go tool pprof reports."""

    def test_go_cpu_profile(self):
        src = tmp("goprog")
        os.makedirs(src, exist_ok=True)
        with open(os.path.join(src, "main.go"), "w") as f:
            f.write(GO_PROGRAM)
        with open(os.path.join(src, "go.mod"), "w") as f:
            f.write("module goprog\n\ngo 1.19\n")
        exe = os.path.join(src, "goprog")
        go("build", "-o", exe, ".", cwd=src)
        prof = tmp("go-cpu.pb.gz")
        subprocess.run([exe, prof], check=True, timeout=60, env=go_env())
        want = plop_top(prof, "function", False)
        got, text = pprof_top(prof, "-filefunctions")
        # The program's own functions (never inlined: go:noinline, or the
        # root) exactly; pprof names a runtime function that the sampler
        # caught inlined "NAME (inline)", a node apart from NAME, where
        # plop keeps one function, so those are compared by total only.
        ours = [k for k in want if k.startswith("main.")]
        self.assertIn("main.spinA " + os.path.join(src, "main.go"), ours)
        for key in ours:
            self.assertEqual(got.get(key), want[key], "%s\n%s" % (key, text))
        self.assertEqual(max(c for _, c in got.values()),
                         max(c for _, c in want.values()), text)
        # the period comes from the Go profile (100 Hz: 10 ms)
        out = tmp("go-again.pb.gz")
        render_ok(prof, "-o", out, "--interval", "1")
        self.assertIn("Period: 10000000\n", go("tool", "pprof", "-raw", out))
        svg = render_ok(prof, "-o", "-", "-T", "svg")
        self.assertIn(b"main.spinA", svg)


class CommandLine(unittest.TestCase):
    """What the conversions refuse: exit 2, a message, no output."""

    def refused(self, args, want, out_name="refused.pb.gz"):
        out = tmp(out_name)
        rc, _, err = render(*(list(args) + ["-o", out]))
        self.assertEqual(rc, 2, err)
        self.assertIn(want, err)
        self.assertFalse(os.path.exists(out))

    def test_bad_interval(self):
        fixture = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        for bad in ("0", "-1", "abc", "1e7", "nan"):
            with self.subTest(interval=bad):
                self.refused([fixture, "--interval", bad],
                             "error: --interval wants seconds from 1e-9 to "
                             "1e6, not '%s'" % bad)

    def test_a_comparison_is_not_converted(self):
        a = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        b = os.path.join(FIXTURES, FIXTURE_NAMES[1])
        for fmt in ("pprof", "speedscope"):
            with self.subTest(format=fmt):
                self.refused([a, "--base", b, "-T", fmt],
                             "error: -T %s writes one profile, not a "
                             "comparison" % fmt,
                             "refused" + (".pb.gz" if fmt == "pprof"
                                          else ".speedscope.json"))
        pairs = tmp("pairs.flame")
        with open(pairs, "w") as f:
            f.write("main;work 3 5\nmain;idle 2 1\n")
        self.refused([pairs, "-T", "pprof"], "not a comparison")


class BadInput(unittest.TestCase):
    """Every broken pprof gets exit 4, one diagnostic, no output file."""

    def expect_error(self, data, want):
        path = tmp("bad.pb.gz")
        with open(path, "wb") as f:
            f.write(data)
        out = tmp("bad-out.svg")
        if os.path.exists(out):
            os.unlink(out)
        rc, stdout, err = render(path, "-o", out)
        self.assertEqual(rc, EXIT_PARSE, err)
        self.assertTrue(err.startswith(path + ": error: "), err)
        self.assertIn(want, err)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([n for n in os.listdir(TMP)
                          if n.startswith("bad-out")], [])

    def good(self):
        fixture = os.path.join(FIXTURES, FIXTURE_NAMES[0])
        with open(to_pprof(fixture), "rb") as f:
            return f.read()

    def test_truncated_gzip(self):
        data = self.good()
        for n in (2, 10, 30, len(data) // 2, len(data) - 1):
            with self.subTest(n=n):
                self.expect_error(data[:n], "truncated gzip data")

    def test_corrupt_gzip(self):
        data = bytearray(self.good())
        data[-5] ^= 0xff                       # the length in the trailer
        self.expect_error(bytes(data), "corrupt gzip data")

    def test_bad_varint(self):
        # A sample type field whose length varint never ends.
        # After a sample type, a sample whose length varint never ends.
        self.expect_error(b"\x0a\x04\x08\x01\x10\x01\x12" + b"\xff" * 11,
                          "pprof byte 7: malformed protobuf: varint longer "
                          "than 10 bytes")
        # A location id in a sample that runs past the sample's end.
        self.expect_error(b"\x0a\x00\x12\x02\x08\x81\x32\x00",
                          "pprof byte 5: malformed protobuf: the data ends "
                          "inside a field")

    def test_string_index_out_of_range(self):
        # sample_type {type: 1, unit: 7}; string table ["", "x"]
        data = b"\x0a\x04\x08\x01\x10\x07" + b"\x32\x00" + b"\x32\x01x"
        self.expect_error(data, "a value type names string 7, but the "
                          "string table has 2 strings")
        self.expect_error(gzip.compress(data, mtime=0),
                          "names string 7")

    def test_undefined_location(self):
        data = (b"\x0a\x04\x08\x01\x10\x01" + b"\x12\x05\x0a\x01\x05\x10"
                b"\x01" + b"\x32\x00" + b"\x32\x05count")
        self.expect_error(data, "a sample names location 5, which is not "
                          "defined")


if __name__ == "__main__":
    unittest.main()
