"""Tests that the CLI's SIGTERM/SIGHUP handlers (collector/src/exitsig.c)
are invisible to the profiled program: what signal.getsignal() and
signal.signal() tell it is what they tell it under plain python, a
handler of its own replaces plop's, and a SIGTERM still leaves a profile
that holds the CPU time the program measured itself.  How the process ends
on each signal is test_cli_signals.py's subject."""
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import portable

COLLECTOR_DIR = os.path.dirname(os.path.dirname(
    os.path.abspath(__import__("plop").__file__)))

# Prints what the program can see of SIGTERM's and SIGHUP's handlers.
LOOK = textwrap.dedent("""\
    import signal, sys
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        num = getattr(signal, name)
        before = signal.getsignal(num)
        old = signal.signal(num, signal.SIG_IGN)
        back = signal.signal(num, old)
        sys.stdout.write("%s %r %r %r %r\\n" % (name, before, old, back,
                                                signal.getsignal(num)))
    """)

# Burns CPU until SIGTERM; with OWN=1 it handles SIGTERM itself.
BURN = textwrap.dedent("""\
    import os, signal, sys
    from portable import thread_time
    T0 = thread_time()
    if os.environ.get("OWN") == "1":
        def on_term(signum, frame):
            sys.stdout.write("own %.6f\\n" % (thread_time() - T0))
            sys.stdout.flush()
            sys.exit(9)
        signal.signal(signal.SIGTERM, on_term)
    end = thread_time() + 0.4
    while thread_time() < end:
        sum(range(300))
    sys.stdout.write("ready %.6f\\n" % (thread_time() - T0))
    sys.stdout.flush()
    while True:
        sum(range(300))
    """)


class ExitSignalsTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plop-exitsig-")
        self.env = dict(os.environ,
                        PYTHONPATH=portable.pythonpath(COLLECTOR_DIR))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def plop(self, *args):
        return [sys.executable, "-m", "plop.collector", "-q", "--interval",
                "0.005", "-o", os.path.join(self.dir, "out.plop")] + list(args)

    def test_program_sees_the_handlers_plain_python_shows(self):
        prog = self.write("look.py", LOOK)
        plain = portable.run([sys.executable, prog], env=self.env,
                             capture_output=True, universal_newlines=True,
                             timeout=60)
        under = portable.run(self.plop(prog), env=self.env,
                             capture_output=True, universal_newlines=True,
                             timeout=60)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(under.returncode, 0, under.stderr)
        self.assertEqual(under.stdout, plain.stdout)
        self.assertIn("SIGTERM", under.stdout)

    def popen(self, args, env):
        """Starts a program that is killed if it is still running after
        60 s, so that no read of its output can block the suite."""
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                universal_newlines=True)
        timer = threading.Timer(60, proc.kill)
        timer.daemon = True
        timer.start()
        self.addCleanup(timer.cancel)
        return proc

    def start(self, own):
        prog = self.write("burn.py", BURN)
        env = dict(self.env, OWN="1" if own else "0")
        proc = self.popen(self.plop(prog), env)
        line = proc.stdout.readline().split()
        self.assertEqual(line[0], "ready", line)
        return proc, float(line[1])

    def load(self):
        with open(os.path.join(self.dir, "out.plop")) as f:
            return ast.literal_eval(f.read())

    def test_sigterm_writes_a_profile_that_holds_the_burn(self):
        proc, burned = self.start(own=False)
        proc.send_signal(signal.SIGTERM)
        portable.wait(proc, 60)
        proc.stdout.close()
        self.assertEqual(proc.returncode, -signal.SIGTERM)
        counts = self.load()
        seconds = sum(counts.values()) * 0.005
        # at least what the program had burned when it said "ready"
        self.assertGreaterEqual(seconds, 0.8 * burned, (seconds, burned))

    def test_own_handler_replaces_plops(self):
        proc, burned = self.start(own=True)
        proc.send_signal(signal.SIGTERM)
        out = proc.stdout.read()
        portable.wait(proc, 60)
        proc.stdout.close()
        self.assertTrue(out.startswith("own "), out)
        self.assertEqual(proc.returncode, 9)
        # written at exit, as after any other ending
        counts = self.load()
        self.assertGreaterEqual(sum(counts.values()) * 0.005, 0.8 * burned)

    def test_gil_held_forever_still_dies_of_the_signal(self):
        # The main thread holds the GIL in a C call that never returns (a
        # blocking read of a pipe with nothing to read, through ctypes'
        # PyDLL, which keeps the GIL): the profile cannot be written, but
        # SIGTERM must still end the process, after the deadline.
        prog = self.write("stuck.py", textwrap.dedent("""\
            import ctypes, os, sys
            r, w = os.pipe()
            libc = ctypes.PyDLL(None)
            sys.stdout.write("ready\\n")
            sys.stdout.flush()
            buf = ctypes.create_string_buffer(1)
            libc.read(r, buf, 1)
            """))
        proc = self.popen(self.plop(prog), self.env)
        self.assertEqual(proc.stdout.readline(), "ready\n")
        time.sleep(0.1)
        t0 = portable.monotonic()
        proc.send_signal(signal.SIGTERM)
        portable.wait(proc, 60)
        proc.stdout.close()
        self.assertEqual(proc.returncode, -signal.SIGTERM)
        self.assertLess(portable.monotonic() - t0, 30)


if __name__ == "__main__":
    unittest.main()
