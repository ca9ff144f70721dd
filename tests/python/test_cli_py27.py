"""`python2.7 -m plop.collector` against plain `python2.7`, run from
Python 3: the program sees the same argv, __name__, __file__ and
sys.path[0], ends with the same status and traceback, and its profile is
the original 2.7 plop's format (the repr of str file names, int counts),
read back by literal_eval under 2.7 and under 3.

Skipped, saying why, when pyenv has no 2.7 or plop's extension is not
built for it (`make collector PYTHON=.../2.7.18/bin/python`)."""
import ast
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

COLLECTOR_DIR = os.path.dirname(os.path.dirname(
    os.path.abspath(__import__("plop").__file__)))

PROG = textwrap.dedent("""\
    import json, os, sys, time

    def work():
        end = time.clock() + 0.2
        while time.clock() < end:
            sum(range(300))

    def main():
        work()
        with open(os.environ["REPORT"], "w") as f:
            json.dump({"name": __name__, "argv": sys.argv, "file": __file__,
                       "path0": sys.path[0]}, f)
        how = sys.argv[1] if len(sys.argv) > 1 else ""
        if how == "exit":
            sys.exit(int(sys.argv[2]))
        if how == "raise":
            raise ValueError("boom from the program")
        if how == "wait":
            sys.stdout.write("ready\\n")
            sys.stdout.flush()
            while True:
                work()

    if __name__ == "__main__":
        main()
    """)


def python27():
    found = sorted(glob.glob("/root/.pyenv/versions/2.7.*/bin/python"))
    return found[-1] if found else None


class Py27CliTest(unittest.TestCase):

    def setUp(self):
        if sys.version_info < (3, 5):
            self.skipTest("run from Python 3.5+")
        self.py = python27()
        if self.py is None:
            self.skipTest("no Python 2.7 under /root/.pyenv")
        r = subprocess.run([self.py, "-c", "import plop._collector"],
                           env=self.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            self.skipTest("plop's extension is not built for %s" % self.py)
        self.dir = tempfile.mkdtemp(prefix="plop-py27-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "prog.py"), "w") as f:
            f.write(PROG)
        os.mkdir(os.path.join(self.dir, "pkg"))
        with open(os.path.join(self.dir, "pkg", "__init__.py"), "w") as f:
            f.write("")
        with open(os.path.join(self.dir, "pkg", "tool.py"), "w") as f:
            f.write(PROG)
        self.out = os.path.join(self.dir, "out.plop")
        self.report = os.path.join(self.dir, "report.json")

    def env(self):
        return dict(os.environ, PYTHONPATH=COLLECTOR_DIR, PYTHONDONTWRITEBYTECODE="1",
                    REPORT=getattr(self, "report", ""))

    def run27(self, args, plop):
        pre = ["-m", "plop.collector", "-o", self.out, "--interval", "0.005"]
        r = subprocess.run([self.py] + (pre if plop else []) + args,
                           cwd=self.dir, env=self.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        with open(self.report) as f:
            seen = json.load(f)
        os.unlink(self.report)
        return r, seen

    def test_script_and_module_run_as_under_plain_python27(self):
        for args in (["prog.py", "x", "--y"], ["-m", "pkg.tool", "x"],
                     ["prog.py", "exit", "3"]):
            plain, want = self.run27(args, plop=False)
            r, seen = self.run27(args, plop=True)
            self.assertEqual(seen, want, args)
            self.assertEqual(r.returncode, plain.returncode, r.stderr)
            self.assertIn("plop: wrote plop", r.stderr)

    def test_traceback_and_status_of_an_uncaught_exception(self):
        plain, _ = self.run27(["prog.py", "raise"], plop=False)
        r, _ = self.run27(["prog.py", "raise"], plop=True)
        self.assertEqual(plain.returncode, 1)
        self.assertEqual(r.returncode, 1)
        tb = r.stderr[r.stderr.index("Traceback"):]
        self.assertEqual(tb, plain.stderr)

    def test_profile_is_the_original_27_format(self):
        r, _ = self.run27(["prog.py"], plop=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out, "rb") as f:
            data = f.read()
        self.assertNotRegex(data.decode("ascii"), r"\d+L\b")
        counts = ast.literal_eval(data.decode("ascii"))
        self.assertTrue(any(f[2] == "work" for s in counts for f in s))
        self.assertTrue(all(type(n) is int for n in counts.values()))
        # and 2.7's own literal_eval reads the same dict
        check = subprocess.run(
            [self.py, "-c", "import ast, sys, json; d = ast.literal_eval("
             "open(sys.argv[1], 'rb').read()); print(json.dumps(sorted("
             "[[list(map(list, k)), v] for k, v in d.items()])))", self.out],
            stdout=subprocess.PIPE, universal_newlines=True, timeout=60)
        self.assertEqual(json.loads(check.stdout), sorted(
            [[list(map(list, k)), v] for k, v in counts.items()]))

    def test_sigterm_writes_then_dies_of_it(self):
        p = subprocess.Popen(
            [self.py, "-m", "plop.collector", "-o", self.out, "prog.py",
             "wait"], cwd=self.dir, env=self.env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, universal_newlines=True)
        try:
            self.assertEqual(p.stdout.readline(), "ready\n")
            p.send_signal(signal.SIGTERM)
            p.wait(60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            err = p.stderr.read()
            p.stdout.close()
            p.stderr.close()
        self.assertEqual(p.returncode, -signal.SIGTERM, err)
        self.assertIn("ended by SIGTERM", err)
        with open(self.out) as f:
            self.assertIn("work", f.read())


if __name__ == "__main__":
    unittest.main()
