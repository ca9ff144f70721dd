"""plop.toggle with real signals: a real app subprocess, `kill -USR2` sent
with the kill command, profiles read back from disk."""
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import support
import portable

APP = r'''
import os
import sys

def spin_leaf(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def app_main(stop_file):
    # The stop file is looked at every 50 calls (~50 ms); the "tight"
    # variant below looks every call, a stat() per millisecond
    # (test_not_starved_by_a_program_that_releases_the_gil_every_ms).
    n = 0
    while n % 50 or not os.path.exists(stop_file):
        spin_leaf(20000)
        n += 1

if __name__ == "__main__":
    if sys.argv[1] == "api":
        import signal
        # the name the original plop's users look for first
        from plop.collector import install_signal_toggle
        install_signal_toggle(signal.SIGUSR2, output=sys.argv[3],
                              format=sys.argv[4], interval=0.002, mode="prof")
    sys.stdout.write("ready %d\n" % os.getpid())
    sys.stdout.flush()
    if len(sys.argv) > 5 and sys.argv[5] == "tight":
        while not os.path.exists(sys.argv[2]):
            spin_leaf(20000)
    else:
        app_main(sys.argv[2])
'''


class ToggleCase(unittest.TestCase):
    def setUp(self):
        support.collector_or_fail(self)
        self.tmp = tempfile.mkdtemp(prefix="plop-toggle-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.app = os.path.join(self.tmp, "app.py")
        with open(self.app, "w") as f:
            f.write(APP)
        self.out_dir = os.path.join(self.tmp, "out")
        os.mkdir(self.out_dir)
        self.stop_file = os.path.join(self.tmp, "stop")
        self.proc = None

    def tearDown(self):
        if self.proc is not None:
            support.stop(self.proc)

    def start_api(self, output, fmt="plop"):
        return self._start([sys.executable, self.app, "api", self.stop_file,
                            output, fmt])

    def _start(self, args):
        self.proc = subprocess.Popen(args, env=support.env(),
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = support.read_line(self.proc, self.proc.stdout)
        self.assertTrue(line.startswith("ready"), line)
        return self.proc

    def kill(self):
        portable.run(["kill", "-USR2", str(self.proc.pid)], check=True,
                     timeout=support.WAIT)

    def expect(self, needle):
        return support.read_until(self.proc, self.proc.stderr, needle)

    def collect_once(self):
        """One on/off cycle; returns the path the toggle says it wrote."""
        self.kill()
        self.expect("collecting")
        # Let the app run (and be sampled) for a while.  Not a measurement:
        # the test only needs some samples.
        time.sleep(0.5)
        self.kill()
        line = self.expect("wrote")[-1]
        return line.split("'")[1]

    def load(self, path):
        with open(path) as f:
            return ast.literal_eval(f.read())

    def finish(self):
        with open(self.stop_file, "w"):
            pass
        rc = portable.wait(self.proc, support.WAIT)
        err = self.proc.stderr.read().decode("utf-8", "replace")
        self.assertNotIn("Traceback", err)
        return rc, err


class TestSignalToggle(ToggleCase):
    def test_first_signal_starts_second_writes_atomically(self):
        output = os.path.join(self.out_dir, "app.out")
        with open(output, "w") as f:
            f.write("old\n")
        self.start_api(output)
        # A reader that keeps reading the output while it is replaced: it
        # must only ever see the old file or a whole profile.
        seen = []
        done = threading.Event()

        def watch():
            while not done.is_set():
                with open(output) as f:
                    seen.append(f.read())
        t = threading.Thread(target=watch)
        t.start()
        try:
            path = self.collect_once()
        finally:
            done.set()
            t.join(support.WAIT)
        self.assertEqual(path, output)
        stacks = self.load(output)
        self.assertIsInstance(stacks, dict)
        self.assertGreater(sum(stacks.values()), 0)
        funcs = {frame[2] for stack in stacks for frame in stack}
        self.assertIn("spin_leaf", funcs)
        self.assertIn("app_main", funcs)
        for stack, count in stacks.items():
            self.assertIsInstance(count, int)
            for filename, line, name in stack:
                self.assertIsInstance(filename, str)
                self.assertIsInstance(line, int)
        for text in set(seen):
            if text != "old\n":
                self.assertEqual(ast.literal_eval(text), stacks)
        # Nothing but the profile is left in the directory.
        self.assertEqual(os.listdir(self.out_dir), ["app.out"])
        rc, _ = self.finish()
        self.assertEqual(rc, 0)

    def test_not_starved_by_a_program_that_releases_the_gil_every_ms(self):
        # A stat() every millisecond releases and retakes the GIL: the
        # sampler's drop request used to be lost in that race and the
        # sampler kept out of the GIL for whole collections (3.7-3.13,
        # about one collection in three).  the collector's nudger (collector/src/gilreq.c) renews
        # the request while the sampler waits.  At 2 ms for 0.5 s each
        # collection should hold ~250 samples of CPU time.
        output = os.path.join(self.out_dir, "p-{n}.out")
        self._start([sys.executable, self.app, "api", self.stop_file,
                     output, "plop", "tight"])
        for n in range(1, 6):
            path = self.collect_once()
            stacks = self.load(path)
            self.assertIn("spin_leaf", repr(stacks), n)
            # (starved: 0-2; the bound leaves room for a loaded machine)
            self.assertGreater(sum(stacks.values()), 25, (n, stacks))
        self.finish()

    def test_each_cycle_writes_a_numbered_profile(self):
        output = os.path.join(self.out_dir, "p-{pid}-{n}.out")
        self.start_api(output)
        first = self.collect_once()
        second = self.collect_once()
        pid = self.proc.pid
        self.assertEqual(first, os.path.join(self.out_dir, "p-%d-1.out" % pid))
        self.assertEqual(second, os.path.join(self.out_dir,
                                              "p-%d-2.out" % pid))
        for p in (first, second):
            self.assertIn("spin_leaf", repr(self.load(p)))
        self.finish()

    def test_flamegraph_format(self):
        output = os.path.join(self.out_dir, "app.flame")
        self.start_api(output, "flamegraph")
        self.collect_once()
        with open(output) as f:
            lines = f.read().splitlines()
        self.assertTrue(lines)
        for line in lines:
            stack, count = line.rsplit(" ", 1)
            self.assertGreater(int(count), 0)
        self.assertTrue(any("spin_leaf (" in line for line in lines))
        self.finish()

    def test_collection_running_at_exit_is_written(self):
        output = os.path.join(self.out_dir, "exit.out")
        self.start_api(output)
        self.kill()
        self.expect("collecting")
        time.sleep(0.3)
        rc, err = self.finish()
        self.assertEqual(rc, 0)
        self.assertIn("wrote", err)
        self.assertIn("spin_leaf", repr(self.load(output)))

    def test_signal_bursts_leave_a_working_process(self):
        output = os.path.join(self.out_dir, "burst-{n}.out")
        self.start_api(output)
        for _ in range(30):
            self.kill()
        self.assertIsNone(self.proc.poll())
        rc, err = self.finish()
        self.assertEqual(rc, 0)
        self.assertNotIn("error", err)
        for name in os.listdir(self.out_dir):
            self.assertTrue(name.startswith("burst-"), name)
            self.load(os.path.join(self.out_dir, name))

    def test_bad_arguments_raise_in_the_caller(self):
        from plop.toggle import install_signal_toggle
        with self.assertRaises(ValueError):
            install_signal_toggle("NOSUCHSIGNAL")
        with self.assertRaises(ValueError):
            install_signal_toggle(signal.SIGUSR2, format="pdf")
        with self.assertRaises(ValueError):
            install_signal_toggle(signal.SIGUSR2, mode="bogus")
        with self.assertRaises(ValueError):
            install_signal_toggle(signal.SIGUSR2, output=os.path.join(
                self.tmp, "no-such-dir", "x.out"))
        self.assertEqual(signal.getsignal(signal.SIGUSR2), signal.SIG_DFL)


class TestCollectorCli(ToggleCase):
    def test_toggle_signal_flag(self):
        r = portable.run([sys.executable, "-m", "plop.collector", "--help"],
                         env=support.env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=support.WAIT)
        self.assertIn(b"--toggle-signal", r.stdout,
                      "python -m plop.collector has no --toggle-signal flag")
        output = os.path.join(self.out_dir, "cli.out")
        self._start([sys.executable, "-m", "plop.collector", "--toggle-signal",
                     "USR2", "--interval", "0.002", "-o", output, self.app,
                     "cli", self.stop_file])
        self.assertEqual(self.collect_once(), output)
        stacks = self.load(output)
        self.assertIn("spin_leaf", {f[2] for s in stacks for f in s})
        # The app's own frames carry its real file name.
        self.assertIn(os.path.realpath(self.app),
                      {os.path.realpath(f[0]) for s in stacks for f in s})
        # As the CLI writes them: every stack starts at the app's <module>,
        # with no launcher or runpy frame under it.
        for s in stacks:
            self.assertEqual(s[-1][2], "<module>", s)
            self.assertEqual(os.path.realpath(s[-1][0]),
                             os.path.realpath(self.app), s)
        rc, _ = self.finish()
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
