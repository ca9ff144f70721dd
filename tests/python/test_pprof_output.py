"""The pprof output of the collector (plop.pprof, `-f pprof`), read back by
a protobuf decoder written here, independently of the encoder: the stacks
and counts come back exactly, functions and locations follow plop's
rules, the period is the interval and the cpu values are count x period,
which add up to the CPU time the program measured itself.  (tests/interop
checks the same files with `go tool pprof` and plop-render.)"""
import gzip
import io
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import portable

from plop.collector import FORMATS, format_profile, write_profile

COLLECTOR_DIR = os.path.dirname(os.path.dirname(
    os.path.abspath(__import__("plop").__file__)))


def varint(buf, i):
    """buf: a bytearray (its items are ints on 2.7 too)."""
    shift = v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if b < 0x80:
            return v, i


def fields(buf):
    """[(field number, value)]: ints for varints, bytes for the rest."""
    out, i, buf = [], 0, bytearray(buf)
    while i < len(buf):
        tag, i = varint(buf, i)
        wire = tag & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = bytes(buf[i:i + n]), i + n
        else:
            raise AssertionError("wire type %d" % wire)
        out.append((tag >> 3, v))
    return out


def packed(data):
    out, i, data = [], 0, bytearray(data)
    while i < len(data):
        v, i = varint(data, i)
        out.append(v)
    return out


def decode(data):
    """The profile as a dict: strings, sample_types, samples [(loc ids,
    values)], locations {id: [(function id, line)]}, functions {id:
    (name, file, start)}, period_type, period, comments."""
    raw = gzip.GzipFile(fileobj=io.BytesIO(data)).read()
    top = fields(raw)
    errors = "strict" if sys.version_info[0] == 2 else "surrogateescape"
    strings = [v.decode("utf-8", errors) for f, v in top if f == 6]
    p = {"strings": strings, "samples": [], "locations": {},
         "functions": {}, "comments": [], "period": 0}

    def value_type(v):
        d = dict(fields(v))
        return strings[d.get(1, 0)], strings[d.get(2, 0)]
    p["sample_types"] = [value_type(v) for f, v in top if f == 1]
    for f, v in top:
        if f == 2:
            d = fields(v)
            p["samples"].append((
                sum((packed(x) for n, x in d if n == 1), []),
                sum((packed(x) for n, x in d if n == 2), [])))
        elif f == 4:
            d = fields(v)
            lines = [dict(fields(x)) for n, x in d if n == 4]
            p["locations"][dict(d)[1]] = [(l[1], l.get(2, 0)) for l in lines]
        elif f == 5:
            d = dict(fields(v))
            p["functions"][d[1]] = (strings[d.get(2, 0)], strings[d.get(4, 0)],
                                    d.get(5, 0))
        elif f == 11:
            p["period_type"] = value_type(v)
        elif f == 12:
            p["period"] = v
        elif f == 13:
            p["comments"].append(strings[v])
    return p


def stacks_of(p):
    """{stack: count} rebuilt from the pprof samples."""
    out = {}
    for locs, values in p["samples"]:
        stack = []
        for lid in locs:
            for fid, line in p["locations"][lid]:
                name, filename, _ = p["functions"][fid]
                stack.append((filename, line, name))
        out[tuple(stack)] = out.get(tuple(stack), 0) + values[0]
    return out


STACKS = {
    (("app.py", 12, "f"), ("app.py", 1, "<module>")): 5,
    (("app.py", 15, "f"), ("app.py", 12, "f"), ("app.py", 1, "<module>")): 3,
    (("app.py", 20, "<listcomp>"), ("app.py", 12, "f"),
     ("app.py", 1, "<module>")): 2,
    (("app.py", 30, "<listcomp>"), ("app.py", 1, "<module>")): 4,
    (("/w\u00f6rk/q.py", 3, "q\u51fd"), ("app.py", 1, "<module>")): 7,
}


class EncoderTest(unittest.TestCase):

    def test_pprof_is_a_format(self):
        self.assertIn("pprof", FORMATS)

    def test_stacks_come_back(self):
        p = decode(format_profile(STACKS, "pprof", interval=0.005))
        self.assertEqual(stacks_of(p), STACKS)
        self.assertEqual(p["sample_types"], [("samples", "count"),
                                             ("cpu", "nanoseconds")])
        self.assertEqual(p["period_type"], ("cpu", "nanoseconds"))
        self.assertEqual(p["period"], 5000000)
        self.assertEqual(p["strings"][0], "")
        self.assertTrue(p["comments"][0].startswith("plop "))
        for _, values in p["samples"]:
            self.assertEqual(values[1], values[0] * 5000000)

    def test_functions_and_locations(self):
        # <module> at line 1: first lines, so every (name, file, line) is a
        # function of its own, as plop-render's graph keeps them apart
        p = decode(format_profile(STACKS, "pprof"))
        self.assertEqual(sorted(p["functions"].values()), sorted([
            ("f", "app.py", 12), ("f", "app.py", 15),
            ("<module>", "app.py", 1), ("<listcomp>", "app.py", 20),
            ("<listcomp>", "app.py", 30), ("q\u51fd", "/w\u00f6rk/q.py", 3)]))
        self.assertEqual(len(p["locations"]), 6)   # one per distinct frame
        # <module> past line 1: running lines (lines=True), so f's lines 12
        # and 15 are one function starting at 12; the two <listcomp>s of
        # app.py stay two
        running = dict((tuple(f if f[2] != "<module>" else ("app.py", 30,
                                                             "<module>")
                              for f in s), n) for s, n in STACKS.items())
        p = decode(format_profile(running, "pprof"))
        self.assertEqual(stacks_of(p), running)
        self.assertEqual(sorted(p["functions"].values()), sorted([
            ("f", "app.py", 12), ("<module>", "app.py", 30),
            ("<listcomp>", "app.py", 20), ("<listcomp>", "app.py", 30),
            ("q\u51fd", "/w\u00f6rk/q.py", 3)]))

    def test_real_mode_is_wall_time(self):
        p = decode(format_profile(STACKS, "pprof", interval=0.001,
                                  mode="real"))
        self.assertEqual(p["sample_types"][1], ("wall", "nanoseconds"))
        self.assertEqual(p["period"], 1000000)

    def test_deterministic_and_empty(self):
        self.assertEqual(format_profile(STACKS, "pprof"),
                         format_profile(dict(reversed(list(STACKS.items()))),
                                        "pprof"))
        p = decode(format_profile({}, "pprof"))
        self.assertEqual(p["samples"], [])
        self.assertEqual(p["period"], 10000000)

    def test_write_profile_atomically(self):
        d = tempfile.mkdtemp(prefix="plop-pprof-")
        try:
            path = os.path.join(d, "x.pb.gz")
            write_profile(STACKS, path, "pprof", interval=0.02)
            with open(path, "rb") as f:
                data = f.read()
            self.assertEqual(data[:2], b"\x1f\x8b")
            self.assertEqual(decode(data)["period"], 20000000)
            self.assertEqual(os.listdir(d), ["x.pb.gz"])
        finally:
            shutil.rmtree(d)


PROG = textwrap.dedent("""\
    import json, os, portable, sys, time

    def work():
        t0 = portable.process_time()
        end = portable.thread_time() + float(os.environ["BURN"])
        while portable.thread_time() < end:
            sum(range(500))
        return portable.process_time() - t0

    if __name__ == "__main__":
        with open(os.environ["REPORT"], "w") as f:
            json.dump({"cpu": work()}, f)
    """)


class CliTest(unittest.TestCase):

    def test_cli_writes_pprof_with_the_cpu_time_measured(self):
        d = tempfile.mkdtemp(prefix="plop-pprof-cli-")
        try:
            prog = os.path.join(d, "prog.py")
            with open(prog, "w") as f:
                f.write(PROG)
            out = os.path.join(d, "out.pb.gz")
            report = os.path.join(d, "report.json")
            env = dict(os.environ, PYTHONPATH=portable.pythonpath(COLLECTOR_DIR),
                       REPORT=report,
                       BURN="0.6")
            r = portable.run(
                [sys.executable, "-m", "plop.collector", "-f", "pprof", "-o",
                 out, "--interval", "0.005", "prog.py"], cwd=d, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                universal_newlines=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, "rb") as f:
                p = decode(f.read())
            import json
            with open(report) as f:
                cpu = json.load(f)["cpu"]
            self.assertEqual(p["period"], 5000000)
            stacks = stacks_of(p)
            # launcher frames are stripped: the program's own <module> is
            # the root (a sample of interpreter shutdown, after the
            # program's last line, may have another root: at most a few)
            rooted = sum(n for s, n in stacks.items()
                         if s[-1][2] == "<module>")
            total = sum(stacks.values())
            self.assertGreaterEqual(rooted, 0.97 * total,
                                    [s for s in stacks
                                     if s[-1][2] != "<module>"])
            in_work = sum(v[1] for locs, v in p["samples"]
                          if any(p["functions"][fid][0] == "work"
                                 for lid in locs
                                 for fid, _ in p["locations"][lid]))
            # count x interval is CPU time: within 25 % of what the
            # program measured around work() (the CPU timer's resolution
            # here is about 4 ms)
            self.assertGreater(cpu, 0.5)
            self.assertLess(abs(in_work / 1e9 - cpu), 0.25 * cpu,
                            (in_work, cpu))
        finally:
            shutil.rmtree(d)


TOGGLED = textwrap.dedent("""\
    import json, os, portable, signal, time

    def burn(s):
        end = portable.process_time() + s
        while portable.process_time() < end:
            sum(range(300))

    os.kill(os.getpid(), signal.SIGUSR2)        # plop starts collecting
    t0 = portable.process_time()
    burn(float(os.environ["BURN"]))
    cpu = portable.process_time() - t0
    os.kill(os.getpid(), signal.SIGUSR2)        # stops and writes
    time.sleep(0.5)
    with open(os.environ["REPORT"], "w") as f:
        json.dump({"cpu": cpu}, f)
    """)


class ToggleTest(unittest.TestCase):

    def test_toggle_writes_pprof(self):
        d = tempfile.mkdtemp(prefix="plop-pprof-toggle-")
        try:
            with open(os.path.join(d, "prog.py"), "w") as f:
                f.write(TOGGLED)
            out = os.path.join(d, "out.pb.gz")
            report = os.path.join(d, "report.json")
            env = dict(os.environ,
                       PYTHONPATH=portable.pythonpath(COLLECTOR_DIR),
                       REPORT=report, BURN="0.5")
            r = portable.run(
                [sys.executable, "-m", "plop.collector", "--toggle-signal",
                 "USR2", "-f", "pprof", "--interval", "0.005", "-o", out,
                 "prog.py"], cwd=d, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("wrote", r.stderr)
            with open(out, "rb") as f:
                p = decode(f.read())
            import json
            with open(report) as f:
                cpu = json.load(f)["cpu"]
            self.assertEqual(p["period"], 5000000)
            total = sum(v[1] for _, v in p["samples"]) / 1e9
            self.assertTrue(any(name == "burn" for name, _, _ in
                                p["functions"].values()))
            # what was collected between the two signals is the burn
            self.assertLess(abs(total - cpu), 0.25 * cpu, (total, cpu))
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
