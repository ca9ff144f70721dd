"""The demo over real HTTP: demo/busy_server.py profiled live through its
/_profile endpoint, under `python -m plop.collector`, and the two demo
scripts end to end."""
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import support

SERVER = os.path.join(support.ROOT, "demo", "busy_server.py")
HANDLERS = {"render_catalog", "api_items", "compute_primes", "is_prime",
            "series_stats", "make_products"}


def functions_of(stacks, filename):
    """The functions' own names (frames carry co_qualname on 3.11+:
    'BusyHandler.do_GET')."""
    return {name.rsplit(".", 1)[-1] for stack in stacks
            for f, line, name in stack if os.path.basename(f) == filename}


class TestBusyServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = None

    def setUp(self):
        support.collector_or_fail(self)
        if TestBusyServer.proc is None:
            proc = subprocess.Popen(
                [sys.executable, SERVER, "--port", "0"], env=support.env(),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            line = support.read_line(proc, proc.stdout)
            self.assertIn("listening on http://127.0.0.1:", line)
            TestBusyServer.proc = proc
            TestBusyServer.port = int(line.rstrip("/").rsplit(":", 1)[1])

    @classmethod
    def tearDownClass(cls):
        if cls.proc is not None:
            cls.proc.send_signal(signal.SIGTERM)
            rc = cls.proc.wait(support.WAIT)
            err = cls.proc.stderr.read()
            support.stop(cls.proc)
            cls.proc = None
            if rc != 0 or b"Traceback" in err:
                raise AssertionError("busy_server exited %d: %r" % (rc, err))

    def get(self, path):
        return support.get(self.port, path)

    def test_profile_endpoint_returns_a_live_profile(self):
        status, headers, body = self.get(
            "/_profile?duration=1&interval=0.005&mode=prof")
        self.assertEqual(status, 200, body)
        stacks = ast.literal_eval(body.decode("utf-8"))
        self.assertIsInstance(stacks, dict)
        self.assertTrue(stacks)
        for stack, count in stacks.items():
            self.assertIsInstance(stack, tuple)
            self.assertIsInstance(count, int)
            for filename, line, name in stack:
                self.assertIsInstance(filename, str)
                self.assertIsInstance(line, int)
                self.assertIsInstance(name, str)
        self.assertEqual(int(headers["x-plop-samples"]), sum(stacks.values()))
        funcs = functions_of(stacks, "busy_server.py")
        # Every request goes through do_GET; the work under it is the
        # handlers'.
        self.assertIn("do_GET", funcs)
        self.assertTrue(funcs & HANDLERS, funcs)

    def test_profile_endpoint_real_mode(self):
        status, _, body = self.get(
            "/_profile?duration=0.5&interval=0.005&mode=real")
        self.assertEqual(status, 200, body)
        stacks = ast.literal_eval(body.decode("utf-8"))
        self.assertIn("do_GET", functions_of(stacks, "busy_server.py"))

    def test_profile_endpoint_rejects_bad_parameters(self):
        for query, message in (
                ("mode=bogus", b"mode"),
                ("duration=-1", b"'duration' must be a positive number"),
                ("duration=nan", b"'duration' must be a positive number"),
                ("duration=100000", b"'duration' must be at most"),
                ("interval=abc", b"'interval' must be a number"),
                ("interval=0", b"'interval' must be a positive number")):
            status, _, body = self.get("/_profile?" + query)
            self.assertEqual(status, 400, query)
            self.assertIn(b"error: ", body)
            self.assertIn(message, body, query)

    def test_work_pages(self):
        for path, needle in (("/", b"<table>"),
                             ("/api/items?n=5", b'"count": 5'),
                             ("/primes?limit=30", b"10 primes below 30"),
                             ("/stats?n=10", b'"mean"')):
            status, _, body = self.get(path)
            self.assertEqual(status, 200, path)
            self.assertIn(needle, body, path)
        self.assertEqual(self.get("/nothing")[0], 404)
        self.assertEqual(self.get("/primes?limit=x")[0], 400)


class TestDemoScripts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plop-demo-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_collector_cli_on_the_demo_server(self):
        support.collector_or_fail(self)
        out = os.path.join(self.tmp, "cli.out")
        r = subprocess.run(
            [sys.executable, "-m", "plop.collector", "-o", out, SERVER,
             "--port", "0", "--run-for", "2"],
            env=support.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=support.WAIT)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            stacks = ast.literal_eval(f.read())
        self.assertTrue(functions_of(stacks, "busy_server.py") & HANDLERS)

    def test_create_profile_script(self):
        render = support.render_or_fail(self)
        support.collector_or_fail(self)
        env = support.env()
        env.update(PLOP_RENDER=render, PROFILE_DIR=self.tmp, DURATION="1",
                   PYTHON=sys.executable)
        r = subprocess.run(["sh", os.path.join(support.ROOT, "demo",
                                               "create_profile.sh")],
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=support.WAIT * 2)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        paths = {}
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key in ("profile", "svg", "html"):
                paths[key] = value.strip()
        self.assertEqual(sorted(paths), ["html", "profile", "svg"], out)
        for p in paths.values():
            self.assertEqual(os.path.dirname(p), self.tmp)
        # Nothing else is left there (no temporary file).
        self.assertEqual(sorted(os.listdir(self.tmp)),
                         sorted(os.path.basename(p) for p in paths.values()))
        with open(paths["profile"]) as f:
            stacks = ast.literal_eval(f.read())
        self.assertTrue(functions_of(stacks, "busy_server.py") & HANDLERS)
        with open(paths["svg"], "rb") as f:
            self.assertIn(b"<svg", f.read())
        with open(paths["html"], "rb") as f:
            self.assertIn(b"<html", f.read().lower())
        # The server was stopped: no demo server is left running.
        pid = int(out.split("(pid ", 1)[1].split(")", 1)[0])
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)

    def test_view_profile_script(self):
        render = support.render_or_fail(self)
        env = support.env()
        env.update(PLOP_RENDER=render, PORT="0", PYTHON=sys.executable)
        proc = subprocess.Popen(
            ["sh", os.path.join(support.ROOT, "demo", "view_profile.sh"),
             "--quiet"], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=support.default_signals)
        try:
            line = support.read_line(proc, proc.stdout)
            self.assertIn(os.path.join("demo", "profiles"), line)
            port = int(line.split("http://", 1)[1].split("/")[0]
                       .rsplit(":", 1)[1])
            status, _, body = support.get(port, "/")
            self.assertEqual(status, 200)
            self.assertIn(b"plop profiles", body)
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(support.WAIT), 0)
        finally:
            support.stop(proc)


if __name__ == "__main__":
    unittest.main()
