#!/usr/bin/env python3
"""The plop-render command-line suite: runs the real binary and checks exit
codes, every output format, golden canonical DOT and text for the fixtures,
determinism, atomic output, escaping of hostile names, stdin/stdout, and
the data-driven parse errors of tests/render/errors (NAME.in is rendered
with the directory as cwd; exit 4 and stderr equal to NAME.err byte for
byte).  Ends with the line "N passed, N failed".

    python3 tests/render/run.py --binary build/plop-render [--quick]
        [--valgrind] [--update] [-k PATTERN] [-v]

--update rewrites the golden files (tests/render/golden/) from the
binary's output instead of comparing.  --quick runs one fixture per check
(for the ASan and valgrind builds); --valgrind runs the binary under
valgrind and fails on any memory error.
"""
import argparse
import difflib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
GOLDEN = os.path.join(HERE, "golden")
ERRORS = os.path.join(HERE, "errors")
CASES = os.path.join(HERE, "cases")

EXIT_OK, EXIT_USAGE, EXIT_IO, EXIT_PARSE, EXIT_LAYOUT, EXIT_NOMEM = \
    0, 2, 3, 4, 5, 6

FORMATS = ("svg", "png", "pdf", "dot", "txt")

ARGS = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Failure(Exception):
    pass


class Skip(Exception):
    """A test that cannot run here: counted apart, never as a pass."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(args, cwd=None, stdin=None, env=None):
    """Runs the binary; returns (rc, stdout bytes, stderr bytes)."""
    cmd = [ARGS.binary] + list(args)
    if env is None:
        env = dict(os.environ)
    env["LSAN_OPTIONS"] = "suppressions=%s:print_suppressions=0" % (
        os.path.join(HERE, "lsan.supp"))
    if ARGS.valgrind:
        cmd = ["valgrind", "-q", "--error-exitcode=99",
               "--leak-check=no"] + cmd
    p = subprocess.run(cmd, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=600)
    if ARGS.valgrind:
        check(p.returncode != 99, "valgrind reported errors:\n"
              + p.stderr.decode("utf-8", "replace"))
    if p.returncode < 0 or b"Sanitizer" in p.stderr:
        raise Failure("%s crashed (rc %d):\n%s" % (
            " ".join(args), p.returncode,
            p.stderr.decode("utf-8", "replace")))
    return p.returncode, p.stdout, p.stderr


def expect(args, rc_want, **kw):
    rc, out, err = run(args, **kw)
    check(rc == rc_want, "%s: exit %d, expected %d; stderr:\n%s"
          % (" ".join(args), rc, rc_want, err.decode("utf-8", "replace")))
    return out, err


def fixtures():
    names = sorted(f for f in os.listdir(FIXTURES)
                   if os.path.isfile(os.path.join(FIXTURES, f)))
    if ARGS.quick:
        names = names[-1:]
    return [os.path.join(FIXTURES, f) for f in names]


def tmpdir():
    d = tempfile.mkdtemp(prefix="plop-render-test-")
    CLEANUP.append(d)
    return d


CLEANUP = []


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def check_format(fmt, data):
    """Checks that data really is a file of format fmt."""
    if fmt == "svg":
        root = ET.fromstring(data)
        check(root.tag.endswith("svg"), "SVG root is %r" % root.tag)
    elif fmt == "png":
        check(data.startswith(b"\x89PNG\r\n\x1a\n"), "no PNG signature")
        check(data[-8:-4] == b"IEND", "PNG does not end with IEND")
    elif fmt == "pdf":
        check(data.startswith(b"%PDF-"), "no PDF header")
        check(data.rstrip().endswith(b"%%EOF"), "PDF does not end with %%EOF")
    elif fmt == "dot":
        check(data.startswith(b"digraph plop {"), "DOT does not start right")
        check(data.rstrip().endswith(b"}"), "DOT does not end with }")
    elif fmt == "txt":
        check(data.startswith(b"total: "), "text does not start with total")


def hostile_profile():
    names = ["<script>alert(1)</script>", "</script>", "a&b", "&lt;x&gt;",
             "q\"uo'te", "back\\slash\\n\\N", "w\u00f6rk\u65e5\u672c",
             "ctl\x01x", "&#60;b&#62;", "]]>", "<!--", "csi\u009b31m"]
    d = {}
    for i, n in enumerate(names):
        d[(("/tmp/<dir>&/x\"y.py", i + 1, n),
           ("/tmp/main.py", 1, "<module>"))] = 10 + i
    return repr(d), names


# ------------------------------------------------------------ command line

@test
def help_lists_options_and_exit_codes():
    out, _ = expect(["--help"], EXIT_OK)
    text = out.decode()
    for opt in ("--output", "--format", "--granularity", "--node-fraction",
                "--max-nodes", "--edge-fraction", "--focus", "--ignore",
                "--color", "--title", "--help", "--version", "0.005",
                "(default: 80", "0.001", "svg|png|pdf|dot|txt"):
        check(opt in text, "--help does not mention %r" % opt)
    for code in (EXIT_OK, EXIT_USAGE, EXIT_IO, EXIT_PARSE, EXIT_LAYOUT,
                 EXIT_NOMEM):
        check("\n  %d  " % code in text, "--help misses exit code %d" % code)
    out2, _ = expect(["-h"], EXIT_OK)
    check(out2 == out, "-h differs from --help")


@test
def version():
    """--version prints the VERSION file's number, which the Python
    package and pyproject.toml share (the Makefile checks them)."""
    out, _ = expect(["--version"], EXIT_OK)
    want = read(os.path.join(ROOT, "VERSION")).strip()
    check(out == b"plop-render " + want + b"\n",
          "bad --version output %r (VERSION says %r)" % (out, want))
    check(b'version = "%s"' % want in read(os.path.join(ROOT,
                                                        "pyproject.toml")),
          "pyproject.toml does not say version %r" % want)


@test
def usage_errors_exit_2():
    fx = fixtures()[0]
    d = tmpdir()
    o = os.path.join(d, "o.svg")
    cases = [
        [],
        [fx],
        ["--no-such-option", fx, "-o", o],
        [fx, "-o"],
        [fx, "-o", os.path.join(d, "o.unknown")],
        [fx, "-o", o, "-T", "gif"],
        [fx, "-o", o, "--node-fraction", "abc"],
        [fx, "-o", o, "--node-fraction", "1.5"],
        [fx, "-o", o, "--edge-fraction", "-0.1"],
        [fx, "-o", o, "--max-nodes", "-1"],
        [fx, "-o", o, "--max-nodes", "12x"],
        [fx, "-o", o, "--granularity", "file"],
        [fx, "-o", o, "--color", "blue"],
        [fx, "-o", o, "--view", "tree"],
        [fx, "-o", os.path.join(d, "o.png"), "--view", "flame"],
        [fx, "-o", o, "--focus", "("],
        [fx, "-o", o, "--ignore", "[a-"],
        [fx, "-o", o, "--focus", "^no function is called this$"],
        [fx, "-o", o, "--ignore", "."],
        ["-", "-", "-o", o],
    ]
    for args in cases:
        _, err = expect(args, EXIT_USAGE, stdin=b"")
        check(err.startswith(b"error: "), "%s: stderr %r" % (args, err))
        check(not os.path.exists(o), "%s left an output file" % args)
    _, err = expect([fx, "-o", o, "--focus", "("], EXIT_USAGE)
    check(b"invalid regex '('" in err, "regex error not named: %r" % err)


@test
def io_errors_exit_3():
    d = tmpdir()
    _, err = expect([os.path.join(d, "missing.out"), "-o",
                     os.path.join(d, "o.svg")], EXIT_IO)
    check(b"missing.out" in err, "missing input not named: %r" % err)
    check(not os.path.exists(os.path.join(d, "o.svg")), "output left")
    _, err = expect([fixtures()[0], "-o",
                     os.path.join(d, "no", "such", "dir", "o.svg")], EXIT_IO)
    check(err.startswith(b"error: cannot create '"), "bad message %r" % err)
    expect([d, "-o", os.path.join(d, "o.svg")], EXIT_IO)
    check(os.listdir(d) == [], "files left behind: %s" % os.listdir(d))


@test
def out_of_memory_exit_6():
    """Under an address-space limit the arena's failure is fatal, named,
    exit 6, no output.  Not under ASan or valgrind (--quick), whose
    shadow memory needs the address space: skipped there."""
    if ARGS.quick or ARGS.valgrind:
        raise Skip("RLIMIT_AS cannot cap an ASan or valgrind process")
    import resource
    d = tmpdir()
    p = os.path.join(d, "big.out")
    write(p, "{" + ", ".join(
        "(('/very/long/path/to/module_%d.py', %d, 'function_%d'), "
        "('/m.py', 1, 'main')): %d" % (i, i, i, i + 1)
        for i in range(200000)) + "}")
    limit = 80 << 20

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    o = os.path.join(d, "o.txt")
    p_ = subprocess.run([ARGS.binary, p, "-o", o], preexec_fn=cap,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p_.returncode == EXIT_NOMEM, "exit %d under a %d MB limit: %r"
          % (p_.returncode, limit >> 20, p_.stderr[:300]))
    check(p_.stderr.startswith(b"fatal: out of memory (allocating "),
          "message %r" % p_.stderr)
    check(not os.path.exists(o), "output left")


@test
def truncated_while_parsed():
    """A mapped input that another process truncates while plop-render
    parses it (a profile rewritten in place) is a clear error, exit 3,
    and no output: never a SIGBUS.  40 runs cut the file to a fifth at
    times spread over one parse; the runs where the cut came first or
    last may exit 4 (the shorter file is malformed) or 0, but at least 5
    must have been cut mid-parse, or the test proves nothing."""
    if ARGS.valgrind:
        raise Skip("too slow under valgrind to time the truncation")
    import time
    d = tmpdir()
    src = os.path.join(d, "big.out")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench",
                                                 "gen_profile.py"),
                    "--stacks", "30000", "-o", src], check=True)
    data = read(src)
    p, o = os.path.join(d, "t.out"), os.path.join(d, "t.txt")
    write(p, data)
    t0 = time.monotonic()
    expect([p, "-T", "txt", "-o", o], EXIT_OK)
    parse = time.monotonic() - t0
    os.unlink(o)
    hits, runs = 0, 40
    for i in range(runs):
        write(p, data)
        proc = subprocess.Popen([ARGS.binary, p, "-T", "txt", "-o", o],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        time.sleep(parse * 0.8 * i / runs)
        os.truncate(p, len(data) // 5)
        _, err = proc.communicate(timeout=600)
        rc = proc.returncode
        check(rc in (EXIT_OK, EXIT_IO, EXIT_PARSE) and b"Sanitizer" not in err,
              "run %d: exit %d: %r" % (i, rc, err[:300]))
        if rc == EXIT_OK:
            check(os.path.exists(o), "run %d: exit 0 and no output" % i)
            os.unlink(o)
            continue
        check(not os.path.exists(o), "run %d: exit %d left output" % (i, rc))
        if rc == EXIT_IO:
            check(err == ("error: cannot read '%s': the file was truncated "
                          "while it was read\n" % p).encode(),
                  "run %d: message %r" % (i, err))
            hits += 1
    check(hits >= 5, "only %d of %d runs were cut mid-parse" % (hits, runs))


@test
def parse_error_leaves_no_output():
    d = tmpdir()
    bad = os.path.join(d, "bad.out")
    write(bad, "{(('a.py', 1, 'f'),): 3, (('a.py', 2")
    out = os.path.join(d, "o.svg")
    for fmt in FORMATS:
        o = os.path.join(d, "o." + fmt)
        _, err = expect([bad, "-o", o], EXIT_PARSE)
        check(err.startswith(b"%s:1:" % bad.encode()), "bad message %r" % err)
        check(not os.path.exists(o), "partial %s output left" % fmt)
    # An existing output is left as it was.
    write(out, "OLD")
    expect([bad, "-o", out], EXIT_PARSE)
    check(read(out) == b"OLD", "existing output was touched")
    # A good input merged with a bad one fails as a whole.
    expect([fixtures()[0], bad, "-o", out], EXIT_PARSE)
    check(read(out) == b"OLD", "existing output was touched")
    check(sorted(os.listdir(d)) == ["bad.out", "o.svg"],
          "temporary files left: %s" % os.listdir(d))


@test
def error_cases_from_data_files():
    """tests/render/errors/NAME.in: exit 4, stderr == NAME.err exactly."""
    if not os.path.isdir(ERRORS):
        return
    names = sorted(f[:-3] for f in os.listdir(ERRORS) if f.endswith(".in"))
    d = tmpdir()
    bad = []
    for name in names:
        errf = os.path.join(ERRORS, name + ".err")
        if not os.path.exists(errf):
            bad.append("%s: no %s.err" % (name, name))
            continue
        o = os.path.join(d, name + ".svg")
        rc, out, err = run([name + ".in", "-o", o], cwd=ERRORS)
        want = read(errf)
        if rc != EXIT_PARSE:
            bad.append("%s: exit %d, expected %d" % (name, rc, EXIT_PARSE))
        elif err != want:
            bad.append("%s: stderr differs\n  got:      %r\n  expected: %r"
                       % (name, err, want))
        elif os.path.exists(o):
            bad.append("%s: output left" % name)
    check(not bad, "\n".join(bad))
    print("  (%d error cases)" % len(names))


@test
def accepted_cases_from_data_files():
    """tests/render/cases/NAME.in: inputs other tools write that must be
    read, rendered with the directory as cwd: exit 0, `-T txt` output ==
    NAME.txt exactly (--update rewrites them), and every other format
    renders too."""
    names = sorted(f[:-3] for f in os.listdir(CASES) if f.endswith(".in"))
    check(names, "no cases in %s" % CASES)
    bad = []
    for name in names:
        rc, out, err = run([name + ".in", "-T", "txt", "-o", "-"], cwd=CASES)
        want_path = os.path.join(CASES, name + ".txt")
        if rc != EXIT_OK:
            bad.append("%s: exit %d: %r" % (name, rc, err))
            continue
        if ARGS.update:
            write(want_path, out)
        elif not os.path.exists(want_path):
            bad.append("%s: no %s.txt" % (name, name))
        elif out != read(want_path):
            bad.append("%s: -T txt differs\n%s" % (name, "".join(
                difflib.unified_diff(
                    read(want_path).decode("utf-8").splitlines(True),
                    out.decode("utf-8").splitlines(True),
                    name + ".txt", "plop-render"))))
        if not ARGS.quick:
            rc, out, err = run([name + ".in", "-T", "svg", "-o", "-"],
                               cwd=CASES)
            if rc != EXIT_OK:
                bad.append("%s: svg: exit %d" % (name, rc))
            elif b":0" in out:
                bad.append("%s: svg shows a ':0'" % name)
    check(not bad, "\n".join(bad))
    print("  (%d accepted cases)" % len(names))


@test
def no_file_frames_are_coloured_by_module():
    """Frames without a file (perf captures) are coloured by their
    package or namespace and by annotation (kernel warm, JIT green), not
    all one colour; annotations do not show in names."""
    path = os.path.join(FIXTURES, "foreign",
                        "perf-vertx-stacks-01-collapsed-all.txt")
    out, _ = expect([path, "-T", "dot", "-o", "-"], EXIT_OK)
    dot = out.decode("utf-8")
    fills = re.findall(r'fillcolor="(#[0-9a-f]{6})"', dot)
    check(len(fills) > 50, "only %d nodes" % len(fills))
    check(len(set(fills)) >= len(fills) // 5,
          "%d nodes share %d colours" % (len(fills), len(set(fills))))
    check("_[k]" not in dot and "_[j]" not in dot, "an annotation shows")
    import colorsys
    for m in re.finditer(r'fillcolor="#(\w\w)(\w\w)(\w\w)",[^\]]*?'
                         r'tooltip="[^"\\]*? \((kernel|JIT)\)', dot, re.S):
        r, g, b = (int(m.group(i), 16) / 255.0 for i in (1, 2, 3))
        hue = colorsys.rgb_to_hls(r, g, b)[0] * 360
        lo, hi = (10, 50) if m.group(4) == "kernel" else (85, 145)
        check(lo - 1 <= hue <= hi + 1, "%s frame of hue %.0f" % (m.group(4),
                                                               hue))


# ------------------------------------------------------------ outputs

@test
def every_format_is_produced():
    d = tmpdir()
    for fx in fixtures():
        # no dots: "x.flame" + ".svg" would select the flame.svg format
        base = os.path.basename(fx).replace(".", "_")
        for fmt in FORMATS:
            o = os.path.join(d, base + "." + fmt)
            expect([fx, "-o", o], EXIT_OK)
            check_format(fmt, read(o))
            # -T overrides the extension
            o2 = os.path.join(d, base + "-T." + fmt + ".data")
            expect([fx, "-T", fmt, "-o", o2], EXIT_OK)
            check(read(o2) == read(o), "%s: -T %s differs from .%s (%s, %s)"
                  % (base, fmt, fmt, o, o2))
    st = os.stat(os.path.join(d, os.listdir(d)[0]))
    check(stat.S_IMODE(st.st_mode) == 0o666 & ~UMASK,
          "output mode %o" % stat.S_IMODE(st.st_mode))


@test
def view_flame_selects_the_flame_svg():
    fx = fixtures()[0]
    d = tmpdir()
    a, b, c = (os.path.join(d, n) for n in ("a.svg", "b.data", "c.svg"))
    expect([fx, "--view", "flame", "-o", a], EXIT_OK)
    expect([fx, "-T", "flame.svg", "-o", b], EXIT_OK)
    expect([fx, "--view", "graph", "-o", c], EXIT_OK)
    check(read(a) == read(b), "--view flame differs from -T flame.svg")
    check(read(a) != read(c), "--view flame wrote the call graph")
    out, _ = expect([fx, "--view", "flame", "-o", "-"], EXIT_OK)
    check(out == read(a), "--view flame -o - differs")
    # One rule for -T, --view and the output's name: a name that says a
    # file type gets that type, or a usage error and no file.
    png = os.path.join(d, "x.png")
    for args, msg in (
            (["-T", "flame.svg"], "error: -T flame.svg writes a .svg file, "
             "but '%s' is named .png (rename it, or leave -T out)\n" % png),
            (["--view", "flame"], "error: --view flame writes a .svg file, "
             "but '%s' is named .png (rename it; the html report holds both "
             "views)\n" % png),
            (["-T", "txt"], "error: -T txt writes a .txt file, but '%s' is "
             "named .png (rename it, or leave -T out)\n" % png)):
        _, err = expect([fx] + args + ["-o", png], EXIT_USAGE)
        check(err == (msg + "try 'plop-render --help'\n").encode(),
              "%s: %r" % (args, err))
        check(not os.path.exists(png), "%s wrote %s" % (args, png))
    expect([fx, "-T", "svg", "-o", os.path.join(d, "y.flame.svg")], EXIT_OK)


@test
def deterministic_output():
    d = tmpdir()
    fxs = fixtures() if not ARGS.quick else fixtures()[:1]
    for fx in fxs:
        for fmt in FORMATS:
            a = os.path.join(d, "a." + fmt)
            b = os.path.join(d, "b." + fmt)
            expect([fx, "-o", a], EXIT_OK)
            expect([fx, "-o", b], EXIT_OK)
            check(read(a) == read(b), "%s: two %s renders differ"
                  % (os.path.basename(fx), fmt))


@test
def stdout_and_stdin():
    d = tmpdir()
    fx = fixtures()[0]
    o = os.path.join(d, "o.svg")
    expect([fx, "-o", o], EXIT_OK)
    out, _ = expect([fx, "-o", "-"], EXIT_OK)
    check(out == read(o), "-o - differs from the file")
    out, _ = expect(["-", "-o", "-", "--title", os.path.basename(fx)],
                    EXIT_OK, stdin=read(fx))
    check(out == read(o), "stdin input differs from the file")
    out, _ = expect([fx, "-o", "-", "-T", "txt"], EXIT_OK)
    check_format("txt", out)
    # Standard input has one name everywhere: <stdin>.
    for fmt, want in (("dot", b'label="<stdin>\\l'),
                      ("flame.svg", b'font-weight="bold">&lt;stdin&gt;<'),
                      ("html", b"<title>&lt;stdin&gt;")):
        out, _ = expect(["-", "-o", "-", "-T", fmt], EXIT_OK, stdin=read(fx))
        check(want in out, "%s: standard input not titled <stdin>" % fmt)
    _, err = expect(["-", "-o", "-"], EXIT_PARSE, stdin=b"a;b x\n")
    check(err.startswith(b"<stdin>:1:6: error: "), "diagnostic %r" % err)


@test
def merge_of_inputs_sums_counts():
    d = tmpdir()
    a = os.path.join(d, "a.out")
    b = os.path.join(d, "b.flame")
    write(a, "{(('m.py', 2, 'leaf'), ('m.py', 1, 'root')): 5}\n")
    write(b, "root (m.py:1);leaf (m.py:2) 7\nroot (m.py:1) 3\n")
    out, _ = expect([a, b, "-o", "-", "-T", "txt"], EXIT_OK)
    text = out.decode()
    check(text.startswith("total: 15 samples in 3 stacks, 2 functions\n"),
          "merged header: %r" % text.splitlines()[0])
    rows = [l.split() for l in text.splitlines()]
    check(["12", "80.0%", "80.0%", "12", "80.0%", "leaf", "(m.py:2)"] in rows
          and ["3", "20.0%", "100.0%", "15", "100.0%", "root", "(m.py:1)"]
          in rows, "merged rows wrong:\n" + text)


@test
def hostile_names_are_escaped():
    d = tmpdir()
    src, names = hostile_profile()
    p = os.path.join(d, "hostile.out")
    write(p, src)
    svg = os.path.join(d, "h.svg")
    expect([p, "-o", svg], EXIT_OK)
    root = ET.fromstring(read(svg))
    tags = {el.tag.split("}")[-1] for el in root.iter()}
    check("script" not in tags, "a <script> element got into the SVG")
    texts = [el.text for el in root.iter() if el.tag.endswith("text")]
    for n in names:
        shown = n.replace("\x01", "?")
        check(shown in texts, "name %r not shown as text" % n)
    titles = [v for el in root.iter() for k, v in el.attrib.items()
              if k.endswith("title")]
    check(any("/tmp/<dir>&/x\"y.py:1" in t for t in titles),
          "full path not in a tooltip")
    dot = read(os.path.join(d, "h.dot")) if False else None
    dot, _ = expect([p, "-o", "-", "-T", "dot"], EXIT_OK)
    check(b'label="q\\"uo\'te\\n' in dot, "quote not escaped in DOT")
    check(b"back\\\\slash\\\\n\\\\N" in dot, "backslash not escaped in DOT")
    txt, _ = expect([p, "-o", "-", "-T", "txt"], EXIT_OK)
    check(b"\x01" not in txt and b"ctl?x" in txt, "control byte in text")
    check(b"\xc2\x9b" not in txt and b"csi?31m" in txt,
          "C1 control character (CSI) in text")
    bad = os.path.join(d, "bad.txt")
    write(bad, "main;csi\u009b31m;x\x1b[2J oops\n")
    _, err = expect([bad, "-o", "-"], EXIT_PARSE)
    check(b"\xc2\x9b" not in err and b"\x1b" not in err
          and b"main;csi?31m;x?[2J oops" in err,
          "control characters reach the terminal in a diagnostic: %r" % err)
    for fmt in ("png", "pdf"):
        out, _ = expect([p, "-o", "-", "-T", fmt], EXIT_OK)
        check_format(fmt, out)


@test
def long_names_are_cut_in_labels():
    d = tmpdir()
    p = os.path.join(d, "long.out")
    name = "\u00e9" + "x" * 5000
    write(p, repr({(("/m.py", 1, name),): 3}))
    svg, _ = expect([p, "-o", "-"], EXIT_OK)
    root = ET.fromstring(svg)
    texts = [el.text for el in root.iter() if el.tag.endswith("text")]
    check(name[:119] + "..." in texts, "label not cut at 120 bytes")
    titles = [v for el in root.iter() for k, v in el.attrib.items()
              if k.endswith("title")]
    check(any(t.startswith(name[:1999] + "...") for t in titles),
          "tooltip not cut at 2000 bytes")


@test
def empty_profile_renders():
    d = tmpdir()
    p = os.path.join(d, "empty.out")
    write(p, "{}\n")
    for fmt in FORMATS:
        out, _ = expect([p, "-o", "-", "-T", fmt], EXIT_OK)
        check_format(fmt, out)
    out, _ = expect([p, "-o", "-", "-T", "txt"], EXIT_OK)
    check(out == b"total: 0 samples in 0 stacks, 0 functions\n",
          "empty text report %r" % out)


@test
def pruning_summary_and_options():
    fx = sorted(fixtures())[-1]
    out, _ = expect([fx, "-o", "-", "-T", "dot", "--max-nodes", "5"],
                    EXIT_OK)
    text = out.decode()
    check(text.count("\tn") and "showing 5 of " in text,
          "summary missing: " + text[:400])
    nodes = [l for l in text.splitlines() if re.match(r"\tn\d+\t\[", l)]
    check(len(nodes) == 5, "%d nodes drawn with --max-nodes 5" % len(nodes))
    out, _ = expect([fx, "-o", "-", "-T", "dot", "--color", "heat",
                     "--granularity", "line", "--title", "T&<t>"], EXIT_OK)
    check(b'label="T&<t>\\ltotal' in out, "title not used")
    out, _ = expect([fx, "-o", "-", "-T", "txt", "--focus", "json"],
                    EXIT_OK)
    check(b"before --focus/--ignore" in out, "focus not reported")


# ------------------------------------------------------------ golden files

# ------------------------------------------------------------ coverage
#
# What the default graph shows, checked against numbers computed here from
# the input alone: self samples per function (the leaf frame of each
# stack), keyed by (function name, file) as a reader would name them, and
# by line too for anonymous code objects (<lambda>, <listcomp>: README's
# rule, one per line).  Only the set of functions in the picture comes from
# plop-render (its DOT tooltips).


def function_key(func, file, line):
    if func.startswith("<") and func != "<module>" and len(func) > 1:
        return (func, file, int(line))
    return (func, file)

def collapsed_stacks(data):
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        line = line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        yield stack.rstrip().split(";"), int(count)


def collapsed_key(frame):
    m = re.match(r"^(.*?) \((.*):(\d+)\)$", frame)
    if m:
        return function_key(m.group(1), m.group(2), m.group(3))
    return (re.sub(r"_\[[kjiw]\]$", "", frame) if frame.strip() else "",
            "")


def repr_text(x):
    """A repr() string as plop-render names it: Python 2 byte strings
    holding UTF-8 are that text."""
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    try:
        return x.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return x


def self_by_function(path):
    """({(func, file): self samples}, number of functions, total)."""
    import ast
    data = read(path)
    selfs, funcs, total = {}, set(), 0
    if data.lstrip().startswith(b"{"):
        for stack, c in ast.literal_eval(data.decode("utf-8")).items():
            keys = [function_key(repr_text(f[2]), repr_text(f[0]), f[1] or 0)
                    for f in stack]
            funcs.update(keys)
            selfs[keys[0]] = selfs.get(keys[0], 0) + c
            total += c
    else:
        for frames, c in collapsed_stacks(data):
            keys = [collapsed_key(f) for f in frames]
            funcs.update(keys)
            selfs[keys[-1]] = selfs.get(keys[-1], 0) + c
            total += c
    return selfs, len(funcs), total


def graph_dot(path, args=()):
    """plop-render's DOT of the graph (default options and args), joined
    lines."""
    out, _ = expect([path, "-T", "dot", "-o", "-"] + list(args), EXIT_OK)
    return out.decode("utf-8").replace("\\\n", "")


def dot_boxes(dot):
    """{node name ("n12", "t12"): tooltip lines} of every box."""
    boxes = {}
    for m in re.finditer(r'^\t([nt]\d+)\t\[(.*?)\];$', dot, re.M | re.S):
        t = re.search(r'tooltip="((?:[^"\\]|\\.)*)"', m.group(2))
        text = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) in "nlr"
                      else e.group(1), t.group(1))
        boxes[m.group(1)] = text.split("\n")
    return boxes


def box_function(parts):
    """The function key of a function box's tooltip lines."""
    name = re.sub(r" \((kernel|JIT|inlined|waker)\)$", "", parts[0])
    if len(parts) >= 3 and parts[1].startswith("self "):
        return (name, "")       # no file: no location line
    file, _, line = parts[1].rpartition(":")
    return function_key(name, file, line)


def dot_functions(dot):
    """{node name: function key} of the function boxes."""
    return {k: box_function(v) for k, v in dot_boxes(dot).items()
            if k.startswith("n")}


def dot_tails(dot):
    """{caller's function key: (functions, samples, most)} of the boxes of
    hidden functions, as their tooltips say."""
    funcs = dot_functions(dot)
    tails = {}
    for k, parts in dot_boxes(dot).items():
        if not k.startswith("t"):
            continue
        m0 = re.match(r"^([\d,]+) hidden functions? below ", parts[0])
        m1 = re.match(r"^running: ([\d,]+) self samples \(", parts[1])
        m2 = re.match(r"^each at most ([\d,]+) self samples \(", parts[2])
        check(m0 and m1 and m2, "%s: unexpected tooltip %r" % (k, parts))
        num = [int(m.group(1).replace(",", "")) for m in (m0, m1, m2)]
        tails[funcs["n" + k[1:]]] = tuple(num)
    return tails


def shown_functions(path, args=()):
    """The (func, file) of every box in plop-render's default graph."""
    return set(dot_functions(graph_dot(path, args)).values())


def expected_tails(path, shown):
    """Computed here from the input: for each shown function, the hidden
    functions running below it with it as the nearest shown caller: {caller
    key: (functions, samples, the most self samples one has in all)}."""
    selfs = self_by_function(path)[0]
    below = {}
    for frames, c in collapsed_stacks(read(path)):
        keys = [collapsed_key(f) for f in frames]
        if keys[-1] in shown:
            continue
        for k in reversed(keys[:-1]):
            if k in shown:
                t = below.setdefault(k, [set(), 0])
                t[0].add(keys[-1])
                t[1] += c
                break
    return {k: (len(v[0]), v[1], max(selfs[f] for f in v[0]))
            for k, v in below.items()}


def ladder_profile():
    """A perf-style capture: a 40-frame kernel entry ladder and a 30-frame
    JVM ladder, each ending in a fan of leaves with Zipf-like counts."""
    lines = []
    kernel = ["entry_SYSCALL_64_[k]"] + ["ladder_k%d_[k]" % i
                                          for i in range(39)]
    jvm = ["java/lang/Thread.run_[j]"] + ["io/netty/Step%d.call_[j]" % i
                                           for i in range(29)]
    for i in range(120):
        lines.append("%s;leaf_k%d_[k] %d" % (";".join(kernel), i,
                                             1 + 4000 // (i + 1)))
    for i in range(200):
        lines.append("java;%s;com/app/Leaf%d.work_[j] %d"
                     % (";".join(jvm), i, 1 + 6000 // (i + 1)))
        lines.append("java;%s;com/app/Leaf%d.work_[j];%s;tail_[k] 1"
                     % (";".join(jvm), i, ";".join(kernel[:5])))
    return "\n".join(lines) + "\n"


def recursive_profile():
    """Python recursion, direct (fib) and mutual (even/odd), with self
    samples at every depth, as repr()."""
    f = "/srv/app/calc.py"
    base = (("/srv/app/main.py", 3, "<module>"), ("/srv/app/main.py", 9,
                                                   "main"))
    stacks = {}
    for d in range(1, 26):
        st = tuple((f, 10, "fib") for _ in range(d))
        stacks[st[::-1][::-1] + base[::-1]] = 30 - d
        mutual = tuple((f, 20 + (k % 2), "odd" if k % 2 else "even")
                       for k in range(d))
        stacks[mutual + base[::-1]] = 2 * d
    for i in range(60):
        stacks[((f, 100 + i, "helper%d" % i), (f, 10, "fib"))
               + base[::-1]] = 1 + 300 // (i + 1)
    return "{%s}" % ", ".join("%r: %d" % (k, v) for k, v in stacks.items())


def wide_server_profile():
    """A server dispatching to 450 handlers (Zipf self samples), each
    calling a few of 30 shared helpers."""
    lines = []
    pre = ("serve_forever (/srv/lib/server.py:10);handle (/srv/lib/server.py:"
           "40);dispatch (/srv/lib/router.py:7)")
    for i in range(450):
        h = "handler_%d (/srv/app/views/v%d.py:%d)" % (i, i % 25, 10 + i)
        lines.append("%s;%s %d" % (pre, h, 1 + 20000 // (i + 1)))
        for j in range(i % 3):
            lines.append("%s;%s;helper_%d (/srv/app/util.py:%d) %d"
                         % (pre, h, (i + j) % 30, 5 + (i + j) % 30,
                            1 + 3000 // (i + 1)))
    return "\n".join(lines) + "\n"


def zipf_server_profile(n, chain=0, helpers=0):
    """bench/gen_flat.py's server of n handlers with Zipf self samples,
    thousands of functions: the shape where the time is spread thinnest
    (its docstring has the options)."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "bench",
                                                        "gen_flat.py"),
                           "--handlers", str(n), "--chain", str(chain),
                           "--helpers", str(helpers)],
                          stdout=subprocess.PIPE, check=True).stdout


@test
def default_graph_holds_the_hot_code():
    """The default graph shows >= 90 % of all self samples on profiles of
    up to 500 functions and >= 80 % on bigger ones, and always the 10
    functions with the most self samples: on perf captures of Java,
    JavaScript, Rust and kernel code (tests/fixtures/foreign), plop's
    own fixtures, and generated ladders, recursion, a wide server, and
    servers of 3,000 and 10,000 handlers with Zipf self samples (a fan,
    short chains, handlers sharing helpers)."""
    d = tmpdir()
    paths = []
    foreign = os.path.join(FIXTURES, "foreign")
    paths += sorted(os.path.join(foreign, f) for f in os.listdir(foreign)
                    if f.endswith(".txt") and not f.startswith("LICENSE"))
    paths += fixtures()
    shapes = [("ladder.txt", ladder_profile()),
              ("recursive.out", recursive_profile()),
              ("wide-server.txt", wide_server_profile()),
              ("zipf-3000-fan.txt", zipf_server_profile(3000)),
              ("zipf-3000-helpers.txt",
               zipf_server_profile(3000, helpers=300))]
    if not ARGS.quick:
        shapes += [("zipf-10000-fan.txt", zipf_server_profile(10000)),
                   ("zipf-10000-chains.txt",
                    zipf_server_profile(10000, chain=2)),
                   ("zipf-10000-helpers.txt",
                    zipf_server_profile(10000, helpers=300)),
                   ("zipf-30000-fan.txt", zipf_server_profile(30000))]
    # Every call drawn: hot code densely connected.
    dense = set()
    if not ARGS.quick:
        shapes += [("zipf-10000-helpers-dense.txt",
                    zipf_server_profile(10000, helpers=300))]
        dense.add("zipf-10000-helpers-dense.txt")
    for name, text in shapes:
        paths.append(os.path.join(d, name))
        write(paths[-1], text)
    if not ARGS.quick:
        big = os.path.join(d, "big.out")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench",
                                                     "gen_profile.py"),
                        "--stacks", "20000", "-o", big], check=True)
        paths.append(big)
    for path in paths:
        selfs, nfuncs, total = self_by_function(path)
        name = os.path.basename(path)
        dot = graph_dot(path, ["--edge-fraction", "0"] if name in dense
                        else [])
        shown = set(dot_functions(dot).values())
        named = sum(v for k, v in selfs.items() if k in shown)
        top = sorted(selfs, key=lambda k: (-selfs[k], k))[:10]
        missing = [k for k in top if k not in shown]
        check(not missing, "%s: top self functions missing: %r"
              % (name, missing))
        # A box of hidden functions counts when what it says is true and
        # none of its functions is as big as the 10th largest.
        tails = dot_tails(dot)
        if tails:
            want = expected_tails(path, shown)
            for caller, got in tails.items():
                check(want.get(caller) == got, "%s: the box below %r says "
                      "%r, expected %r" % (name, caller, got,
                                          want.get(caller)))
                check(got[2] < selfs[top[-1]], "%s: a hidden function of "
                      "%d samples below %r" % (name, got[2], caller))
        covered = named + sum(t[1] for t in tails.values())
        goal = 0.90 if nfuncs <= 500 else 0.80
        check(covered >= goal * total, "%s (%d functions): the graph shows "
              "%.1f %% of self samples, below the goal %d %%"
              % (name, nfuncs, 100.0 * covered / total, goal * 100))
        if ARGS.verbose:
            print("     %s: %d functions, %.1f %% of self samples shown "
                  "(%.1f %% in named boxes, %d boxes of hidden functions)"
                  % (name, nfuncs, 100.0 * covered / total,
                     100.0 * named / total, len(tails)))


def services_profile():
    """600 services called by main, each with 40 - i // 20 self samples
    (30 groups of 20 equal counts, 40 down to 11) and a call of 10 samples
    into one of 40 shared libraries (150 self samples each): 641
    functions, 21,300 samples, 600 linked boxes for 80 % of them."""
    lines = []
    for i in range(600):
        svc = "main (/app/main.py:1);svc_%d (/app/svc.py:%d)" % (i, 10 + i)
        lines.append("%s %d" % (svc, 40 - i // 20))
        lines.append("%s;lib_%d (/app/lib.py:%d) 10" % (svc, i % 40,
                                                        5 + i % 40))
    return "\n".join(lines) + "\n"


@test
def hidden_functions_boxed_below_their_caller():
    """When the layout's budget leaves hot functions out, their samples
    are drawn in one box per nearest shown caller, with exact numbers.  On
    services_profile() with every call drawn the default falls back to
    300 boxes: main, the 40 libraries and the 259 largest services.  The
    other 341 services run below main (their library calls are in the
    libraries' boxes): the 17 smallest groups of 20 and one of 28 samples,
    17 * 20 * (11 + 27) / 2 + 28 = 6,488 samples, 30.5 % of 21,300, the
    largest 28 samples (0.1315 %: "each at most 0.14 %", rounded up).  The
    DOT, the SVG and the HTML report's data say the same."""
    d = tmpdir()
    path = os.path.join(d, "services.txt")
    write(path, services_profile())
    dot = graph_dot(path, ["--edge-fraction", "0"])
    funcs = dot_functions(dot)
    selfs, nfuncs, total = self_by_function(path)
    check((nfuncs, total) == (641, 21300), "profile: %d functions, %d "
          "samples" % (nfuncs, total))
    hidden = sorted(selfs[k] for k in selfs if k not in funcs.values())
    check(len(funcs) == 300 and len(hidden) == 341, "%d boxes, %d hidden"
          % (len(funcs), len(hidden)))
    # Computed from the input alone: the 341 smallest services.
    svc = sorted(40 - i // 20 for i in range(600))[:341]
    check(hidden == svc, "the hidden functions are not the smallest "
          "services")
    main = [k for k, v in funcs.items() if v[0] == "main"][0]
    want = {("main", "/app/main.py"): (341, sum(svc), max(svc))}
    check((sum(svc), max(svc)) == (6488, 28), "arithmetic")
    check(dot_tails(dot) == want, "boxes of hidden functions: %r, expected "
          "%r" % (dot_tails(dot), want))
    check(expected_tails(path, set(funcs.values())) == want,
          "the walk over the stacks disagrees: %r"
          % expected_tails(path, set(funcs.values())))
    tail = "t" + main[1:]
    check(re.search(r'\t%s\t\[[^]]*label="341 hidden functions\\nself 30.5 '
                    r'%%\\neach at most 0.14 %%"' % tail, dot),
          "label of %s" % tail)
    check(re.search(r'\t%s -> %s\t\[[^]]*style=dashed[^]]*xlabel=" 30.5 %%"'
                    % (main, tail), dot), "arrow %s -> %s" % (main, tail))
    summary = ("showing 300 of 641 functions, 69.5 % of self samples, and "
               "30.5 % in 1 box of hidden functions below its caller")
    check(summary in dot, "DOT header: no %r" % summary)
    svg, _ = expect([path, "--edge-fraction", "0", "-T", "svg", "-o", "-"],
                    EXIT_OK)
    check(svg.count(b'class="node"') == 301
          and b"<title>%s</title>" % tail.encode() in svg,
          "SVG: %d boxes" % svg.count(b'class="node"'))
    html, _ = expect([path, "--edge-fraction", "0", "-T", "html", "-o",
                      "-"], EXIT_OK)
    m = re.search(rb'<script type="application/json" id="plop-data">(.*?)'
                  rb'</script>', html, re.S)
    data = json.loads(m.group(1))
    check(data["tails"] == [int(main[1:]), 341, 6488, 28],
          "HTML tails: %r" % data["tails"])
    check(summary.encode() in html, "HTML header: no %r" % summary)
    # An explicit --max-nodes is what the reader asked for: no box.
    dot = graph_dot(path, ["--edge-fraction", "0", "--max-nodes", "300"])
    check(not dot_tails(dot), "a box of hidden functions with --max-nodes")


@test
def wide_fans_laid_out_in_rows():
    """A dispatcher with 566 shown handlers: the picture stacks the fan's
    leaves in rows and the boxes without arrows in columns (layout hints
    in the DOT text: staggered minlen, invisible edges), so it is not one
    row 500 boxes wide; the SVG draws exactly the shown arrows, no hint.
    Dot's `concentrate` only where the drawn graph is a forest."""
    d = tmpdir()
    path = os.path.join(d, "fan.txt")
    write(path, zipf_server_profile(3000))
    for extra in ([], ["--edge-fraction", "0"]):
        svg, err = expect([path, "-T", "svg", "-o", "-", "--stats"] + extra,
                          EXIT_OK)
        stats = dict(kv.split("=") for line in err.decode().splitlines()
                     if line.startswith("stats: ")
                     for kv in line[7:].split())
        root = ET.fromstring(svg)
        w, h = (float(root.get(k).rstrip("pt")) for k in ("width", "height"))
        check(w < 6 * h, "%s: a picture %d x %d pt: the fan is not in rows"
              % (extra, w, h))
        drawn = svg.count(b'class="edge"')
        check(drawn == int(stats["shown_edges"]),
              "%s: %d arrows drawn, %s shown" % (extra, drawn,
                                                 stats["shown_edges"]))
        check(b"invis" not in svg, "an invisible edge reached the SVG")
        dot, _ = expect([path, "-T", "dot", "-o", "-"] + extra, EXIT_OK)
        check(b"minlen=" in dot, "%s: no staggered fan in the DOT" % extra)
        check((b"invis" in dot) == (not extra),
              "%s: invisible edges only tie boxes without arrows" % extra)
        check(b"concentrate=true" in dot,
              "%s: a forest's staggered fan is not concentrated" % extra)
    # Dot 2.42 can crash concentrating back edges and multi-edges: a
    # helper with two callers, or recursion, makes the graph no forest.
    fan = "".join("main;dispatch;handler_%d %d\n" % (i, 100 + i)
                  for i in range(40))
    for extra, shape in (("diamond", "main;a;c 500\nmain;b;c 500\n"
                                     "main;a 300\nmain;b 300\n"),
                         ("recursion", "main;r;r;r 500\n")):
        write(path, fan + shape)
        dot, _ = expect([path, "-T", "dot", "-o", "-"], EXIT_OK)
        check(b"minlen=" in dot and b"concentrate" not in dot,
              "%s: concentrated, or the fan not staggered" % extra)


def golden_cases():
    cases = []
    for fx in sorted(os.listdir(FIXTURES)):
        if not os.path.isfile(os.path.join(FIXTURES, fx)):
            continue
        cases.append((fx + ".dot", [fx, "-T", "dot"]))
        cases.append((fx + ".txt", [fx, "-T", "txt"]))
    cases.append(("plop-0.4-py3.11-mixed.plop.line.dot",
                  ["plop-0.4-py3.11-mixed.plop", "-T", "dot",
                   "--granularity", "line", "--color", "heat"]))
    cases.append(("plop-0.4-py3.11-mixed.plop.pruned.dot",
                  ["plop-0.4-py3.11-mixed.plop", "-T", "dot",
                   "--max-nodes", "6", "--edge-fraction", "0.05"]))
    return cases


@test
def golden_dot_and_text():
    bad = []
    cases = golden_cases()
    if ARGS.quick:
        cases = cases[:2]
    for name, args in cases:
        out, _ = expect(args + ["-o", "-"], EXIT_OK, cwd=FIXTURES)
        path = os.path.join(GOLDEN, name)
        if ARGS.update:
            os.makedirs(GOLDEN, exist_ok=True)
            write(path, out)
            continue
        if not os.path.exists(path):
            bad.append("%s: no golden file (run with --update)" % name)
        elif read(path) != out:
            diff = difflib.unified_diff(
                read(path).decode("utf-8", "replace").splitlines(),
                out.decode("utf-8", "replace").splitlines(),
                "golden/" + name, "plop-render", lineterm="", n=1)
            bad.append("%s differs from the golden file:\n%s"
                       % (name, "\n".join(list(diff)[:30])))
    check(not bad, "\n".join(bad))


# ------------------------------------------------------------ driver

UMASK = 0o022


def main():
    global ARGS, UMASK
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--valgrind", action="store_true")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("-k", dest="pattern")
    ap.add_argument("-v", dest="verbose", action="store_true")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directories")
    ARGS = ap.parse_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    UMASK = os.umask(0o022)
    os.umask(UMASK)
    if ARGS.valgrind and shutil.which("valgrind") is None:
        print("valgrind is not installed")
        print("0 passed, 1 failed")
        return 1
    passed = failed = skipped = 0
    for fn in TESTS:
        if ARGS.pattern and ARGS.pattern not in fn.__name__:
            continue
        try:
            fn()
            passed += 1
            if ARGS.verbose:
                print("ok   %s" % fn.__name__)
        except Skip as e:
            skipped += 1
            print("skip %s: %s" % (fn.__name__, e))
        except Exception as e:
            failed += 1
            print("FAIL %s" % fn.__name__)
            if isinstance(e, Failure):
                print("  " + str(e).replace("\n", "\n  "))
            else:
                traceback.print_exc(file=sys.stdout)
    for d in CLEANUP if not ARGS.keep else ():
        shutil.rmtree(d, ignore_errors=True)
    if passed + failed == 0:
        print("no test ran")
        failed += 1
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
