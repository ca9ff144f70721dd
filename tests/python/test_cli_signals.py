"""Tests of how `python -m plop.collector` ends: on SIGTERM, SIGHUP and
SIGINT the profile is written and the process ends as it would have under
plain `python` (same signal or status, compared with a plain run of the
same program); a program that handles the signal itself keeps its
behaviour; --flush-interval checkpoints let a program that ends by
os._exit() keep its profile up to the last interval, in the CLI and the
toggle.

The time a profile holds is checked against CPU time measured
independently: the program's own CPU clock readings (time.thread_time, or process_time before 3.7), and the
child's rusage from the kernel (os.wait4)."""
import ast
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import portable


COLLECTOR_DIR = os.path.dirname(os.path.dirname(
    os.path.abspath(__import__("plop").__file__)))

INTERVAL = 0.005

# Burns `BURN` s of CPU, prints "ready <cpu>" then burns until a signal
# ends it (or `END` says how to end by itself).
PROG = textwrap.dedent("""\
    import os, portable, signal, sys, time
    cpu = getattr(time, "thread_time", portable.process_time)
    T0 = cpu()   # plop charges nothing from before start()

    def work(sec):
        end = cpu() + sec
        while cpu() < end:
            sum(range(300))

    def main():
        how = os.environ.get("HANDLE", "")
        if how == "term-exit":
            def on_term(signum, frame):
                sys.stdout.write("handled %d\\n" % signum)
                sys.stdout.flush()
                sys.exit(5)
            signal.signal(signal.SIGTERM, on_term)
        if how == "fork":
            pid = os.fork()
            if pid == 0:
                while True:
                    work(0.05)
            work(0.1)
            os.kill(pid, signal.SIGTERM)
            _, status = os.waitpid(pid, 0)
            sys.stdout.write("child %d\\n" % os.WTERMSIG(status))
            sys.stdout.flush()
        work(float(os.environ.get("BURN", "0.3")))
        sys.stdout.write("ready %.6f\\n" % (cpu() - T0))
        sys.stdout.flush()
        end = os.environ.get("END", "")
        if end.startswith("_exit"):
            work(float(end.split(":")[1]))
            sys.stdout.write("exiting %.6f\\n" % (cpu() - T0))
            sys.stdout.flush()
            parts = end.split(":")
            if len(parts) > 2:      # idle a while: no CPU, checkpoints run
                time.sleep(float(parts[2]))
            os._exit(7)
        if end == "normal":
            return
        while True:
            work(0.05)

    main()
    """)


def _cpu(ru):
    return ru.ru_utime + ru.ru_stime


class Ended(object):
    def __init__(self, status, rusage, lines):
        self.signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        self.code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        self.cpu = _cpu(rusage)
        self.lines = lines

    def how(self):
        return (self.signal, self.code)


class SignalsTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plop-sig-")
        self.prog = os.path.join(self.dir, "prog.py")
        with open(self.prog, "w") as f:
            f.write(PROG)
        self.out = os.path.join(self.dir, "out.plop")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, under_plop, env=None, args=(), preexec=None):
        e = dict(os.environ, PYTHONPATH=portable.pythonpath(COLLECTOR_DIR),
                 PYTHONUNBUFFERED="1")
        e.update(env or {})
        if under_plop:
            argv = ([sys.executable, "-m", "plop.collector", "-o", self.out,
                     "--interval", str(INTERVAL)] + list(args) + ["prog.py"])
        else:
            argv = [sys.executable, "prog.py"]
        def child():
            # as a shell's foreground job starts: a runner started in the
            # background (`cmd &` without job control) hands SIGINT down
            # ignored, and Python then installs no KeyboardInterrupt; one
            # started by nohup hands SIGHUP down ignored
            for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            if preexec is not None:
                preexec()
        return subprocess.Popen(argv, cwd=self.dir, env=e,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                universal_newlines=True,
                                preexec_fn=child)

    def wait_line(self, p, prefix, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                line = p.stdout.readline()
                if not line:
                    break
                if line.startswith(prefix):
                    return line.split()
        p.kill()
        self.fail("no '%s' line from the program" % prefix)

    def end(self, p, timeout=30):
        deadline = time.time() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                p.kill()
                self.fail("the program did not end")
            time.sleep(0.02)
        p.returncode = 0  # reaped here; keeps Popen from waiting again
        lines = p.stdout.read().splitlines()
        self.stderr = p.stderr.read()
        p.stdout.close()
        p.stderr.close()
        return Ended(status, ru, lines)

    def run_until(self, sig, under_plop, **kw):
        p = self.start(under_plop, **kw)
        ready = float(self.wait_line(p, "ready")[1])
        p.send_signal(sig)
        return ready, self.end(p)

    def load(self):
        with open(self.out) as f:
            return ast.literal_eval(f.read())

    def assert_profile_holds(self, counts, at_least, at_most, share=0.8):
        """The profile's time (counts x interval) lies between `share` of
        the CPU the program measured before the signal and the CPU the
        kernel charged the whole process (plus one interval per thread at
        each end)."""
        seconds = sum(counts.values()) * INTERVAL
        self.assertGreaterEqual(seconds, share * at_least - 2 * INTERVAL,
                                (seconds, at_least))
        self.assertLessEqual(seconds, 1.1 * at_most + 2 * INTERVAL,
                             (seconds, at_most))
        names = set(f[2] for s in counts for f in s)
        self.assertIn("work", names)

    def test_sigterm_and_sighup_write_then_die_of_the_signal(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            _, plain = self.run_until(sig, under_plop=False)
            self.assertEqual(plain.how(), (sig, None))
            if os.path.exists(self.out):
                os.unlink(self.out)
            ready, ended = self.run_until(sig, under_plop=True)
            self.assertEqual(ended.how(), plain.how(), self.stderr)
            self.assertIn("ended by %s" % portable.signal_name(sig),
                          self.stderr)
            self.assert_profile_holds(self.load(), ready, ended.cpu)

    def test_sigint_writes_then_ends_as_python_does(self):
        _, plain = self.run_until(signal.SIGINT, under_plop=False)
        ready, ended = self.run_until(signal.SIGINT, under_plop=True)
        self.assertEqual(ended.how(), plain.how(), self.stderr)
        self.assertIn("KeyboardInterrupt", self.stderr)
        self.assert_profile_holds(self.load(), ready, ended.cpu)

    def test_programs_own_handler_runs_and_profile_written_at_exit(self):
        env = {"HANDLE": "term-exit"}
        _, plain = self.run_until(signal.SIGTERM, under_plop=False, env=env)
        self.assertEqual(plain.how(), (None, 5))
        ready, ended = self.run_until(signal.SIGTERM, under_plop=True,
                                      env=env)
        self.assertEqual(ended.how(), (None, 5), self.stderr)
        self.assertIn("handled %d" % signal.SIGTERM, ended.lines)
        self.assertNotIn("ended by", self.stderr)
        self.assert_profile_holds(self.load(), ready, ended.cpu)

    def test_ignored_signal_stays_ignored(self):
        # as under nohup: SIGHUP ignored from the start is left alone
        def ignore_hup():
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        p = self.start(True, preexec=ignore_hup)
        self.wait_line(p, "ready")
        p.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertIsNone(p.poll(), "SIGHUP ended the program")
        self.assertFalse(os.path.exists(self.out))
        p.send_signal(signal.SIGTERM)
        ended = self.end(p)
        self.assertEqual(ended.how(), (signal.SIGTERM, None))
        self.assertTrue(os.path.exists(self.out))

    def test_forked_child_dies_of_sigterm_without_writing(self):
        env = {"HANDLE": "fork", "END": "normal", "BURN": "0.1"}
        p = self.start(True, env=env)
        child = self.wait_line(p, "child")
        ended = self.end(p)
        self.assertEqual(child, ["child", str(int(signal.SIGTERM))])
        self.assertEqual(ended.how(), (None, 0), self.stderr)
        self.assertEqual(self.stderr.count("plop: "), 1, self.stderr)
        self.assertIn("plop: wrote", self.stderr)
        self.assertIn("work", repr(self.load()))

    def test_sigterm_under_toggle_writes_the_running_collection(self):
        prog = os.path.join(self.dir, "toggled.py")
        with open(prog, "w") as f:
            f.write(textwrap.dedent("""\
                import os, portable, signal, sys, time
                cpu = getattr(time, "thread_time", portable.process_time)
                def work(sec):
                    end = portable.process_time() + sec
                    while portable.process_time() < end:
                        sum(range(300))
                os.kill(os.getpid(), signal.SIGUSR2)
                t0 = portable.process_time()
                work(0.3)
                sys.stdout.write("ready %.6f\\n" % (portable.process_time() - t0))
                sys.stdout.flush()
                while True:
                    work(0.05)
                """))
        p = subprocess.Popen(
            [sys.executable, "-m", "plop.collector", "--toggle-signal",
             "USR2", "-o", self.out, "--interval", str(INTERVAL),
             "toggled.py"], cwd=self.dir,
            env=dict(os.environ, PYTHONPATH=portable.pythonpath(COLLECTOR_DIR)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True)
        ready = float(self.wait_line(p, "ready")[1])
        p.send_signal(signal.SIGTERM)
        ended = self.end(p)
        self.assertEqual(ended.how(), (signal.SIGTERM, None), self.stderr)
        self.assert_profile_holds(self.load(), ready, ended.cpu)

    def test_os_exit_after_idling_keeps_everything(self):
        # 1.2 s of CPU, then 0.8 s asleep (4 checkpoint intervals, no CPU),
        # then os._exit(7): a checkpoint taken after the work holds all of
        # it
        env = {"BURN": "0.1", "END": "_exit:1.2:0.8"}
        p = self.start(True, env=env, args=["--flush-interval", "0.2"])
        exiting = float(self.wait_line(p, "exiting")[1])
        ended = self.end(p)
        self.assertEqual(ended.how(), (None, 7))
        self.assert_profile_holds(self.load(), exiting, ended.cpu)
        self.assertEqual(os.listdir(self.dir), ["out.plop", "prog.py"])

    def test_os_exit_while_busy_keeps_the_last_checkpoint(self):
        # 1.2 s of CPU after a 0.1 s start, then os._exit(7) at once: with
        # 0.2 s checkpoints at most the last 0.2 s of wall time is lost
        # when the checkpoint thread gets a CPU on time
        env = {"BURN": "0.1", "END": "_exit:1.2"}
        p = self.start(True, env=env, args=["--flush-interval", "0.2"])
        exiting = float(self.wait_line(p, "exiting")[1])
        ended = self.end(p)
        self.assertEqual(ended.how(), (None, 7))
        counts = self.load()
        # No lower bound on the share: on an overloaded machine (load 5 on
        # 2 cores) the checkpoint thread waits for a CPU while the program
        # burns, and up to 1 s of the last 1.3 s was seen missing.  The
        # test above checks the content; this one that checkpoints are
        # written while the program is busy (the upper bound still holds).
        self.assert_profile_holds(counts, 0.0, ended.cpu)
        self.assertGreater(sum(counts.values()), 0)
        # os._exit() can land in the middle of a checkpoint: its temporary
        # file (a dot file beside the output) stays, the output is whole
        left = [f for f in os.listdir(self.dir)
                if not (f.startswith(".out.plop.") and f.endswith(".tmp"))]
        self.assertEqual(sorted(left), ["out.plop", "prog.py"])

    def test_no_checkpoints_means_os_exit_loses_the_profile(self):
        env = {"BURN": "0.1", "END": "_exit:0.3"}
        p = self.start(True, env=env, args=["--flush-interval", "0"])
        self.wait_line(p, "exiting")
        ended = self.end(p)
        self.assertEqual(ended.how(), (None, 7))
        self.assertFalse(os.path.exists(self.out))

    def test_bad_flush_interval_is_a_usage_error(self):
        r = portable.run(
            [sys.executable, "-m", "plop.collector", "--flush-interval",
             "-1", "prog.py"], cwd=self.dir,
            env=dict(os.environ, PYTHONPATH=portable.pythonpath(COLLECTOR_DIR)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--flush-interval", r.stderr)


class OwnThreadsTest(unittest.TestCase):

    def test_stacks_of_plops_own_threads_are_dropped(self):
        import threading
        from plop import checkpoint, profile_io, toggle
        thr = threading.__file__.replace(".pyc", ".py")
        boot = [(thr, 900, "_bootstrap"), (thr, 950, "_bootstrap_inner"),
                (thr, 870, "run")]
        ck = checkpoint.__file__.replace(".pyc", ".py")
        tg = toggle.__file__.replace(".pyc", ".py")
        prog = [("/app/p.py", 3, "work"), ("/app/p.py", 1, "<module>")]
        counts = {
            tuple([("/x/io.py", 1, "write"), (ck, 80, "_loop")] +
                  boot[::-1]): 4,
            tuple([(tg, 270, "_write_loop")] + boot[::-1]): 2,
            # the toggle's handler on top of the program: the program's
            tuple([(tg, 170, "_handle")] + prog): 5,
            tuple(prog): 1,
        }
        self.assertEqual(profile_io.strip_launcher(counts), {
            tuple([(tg, 170, "_handle")] + prog): 5, tuple(prog): 1})


class CheckpointerTest(unittest.TestCase):

    def test_slow_checkpoints_are_spaced_to_5_percent(self):
        from plop.checkpoint import MAX_SHARE_FACTOR, Checkpointer
        calls = []

        def slow_write():
            calls.append(time.time())
            time.sleep(0.05)
        cp = Checkpointer(slow_write, 0.01).start()
        time.sleep(1.2)
        cp.stop()
        # 0.01 s asked, but each takes 0.05 s: then one per 1 s at most
        self.assertGreaterEqual(len(calls), 1)
        self.assertLessEqual(len(calls), 2)
        for a, b in zip(calls, calls[1:]):
            self.assertGreaterEqual(b - a, MAX_SHARE_FACTOR * 0.05)

    def test_stop_waits_for_a_checkpoint_in_progress(self):
        from plop.checkpoint import Checkpointer
        state = []

        def write():
            state.append("begin")
            time.sleep(0.2)
            state.append("end")
        cp = Checkpointer(write, 0.05).start()
        while not state:
            time.sleep(0.01)
        cp.stop()
        self.assertEqual(state[-1], "end")
        n = len(state)
        time.sleep(0.2)
        self.assertEqual(len(state), n, "a checkpoint after stop()")


TOGGLED = textwrap.dedent("""\
    import os, portable, signal, sys, time
    cpu = getattr(time, "thread_time", portable.process_time)
    from plop.toggle import install_signal_toggle

    def work(sec):
        end = cpu() + sec
        while cpu() < end:
            sum(range(300))

    install_signal_toggle("USR2", output=sys.argv[1], flush_interval=0.2,
                          interval=%r, mode="prof")
    os.kill(os.getpid(), signal.SIGUSR2)
    t0 = cpu()
    work(1.0)
    sys.stdout.write("exiting %%.6f\\n" %% (cpu() - t0))
    sys.stdout.flush()
    # no CPU now: wait for the writer's first checkpoint after the work
    # (up to 20 times the last one's cost after it: slow under ASan)
    done = time.time()
    deadline = done + 20
    while time.time() < deadline:
        try:
            if os.stat(sys.argv[1]).st_mtime > done:
                break
        except OSError:
            pass
        time.sleep(0.02)
    os._exit(0)
    """ % INTERVAL)


# 2.7's GIL lets a waiting thread in only when the running one blocks: the
# toggle's writer thread checkpoints late behind a CPU-bound main thread
# (README, supported versions).  The CLI's checkpoints are tested on 2.7.
@unittest.skipIf(sys.version_info < (3,), "2.7: checkpoints from the "
                 "toggle's thread wait for the GIL behind a busy main thread")
class ToggleCheckpointTest(unittest.TestCase):

    setUp = SignalsTest.__dict__["setUp"]
    tearDown = SignalsTest.__dict__["tearDown"]
    load = SignalsTest.__dict__["load"]

    def test_toggle_checkpoints_a_running_collection(self):
        prog = os.path.join(self.dir, "toggled.py")
        with open(prog, "w") as f:
            f.write(TOGGLED)
        r = portable.run([sys.executable, prog, self.out],
                         env=dict(os.environ,
                                  PYTHONPATH=portable.pythonpath(COLLECTOR_DIR)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        burned = float(r.stdout.split()[1])
        counts = self.load()
        seconds = sum(counts.values()) * INTERVAL
        self.assertGreaterEqual(seconds,
                                0.8 * burned - 4 * INTERVAL,
                                (seconds, burned))
        self.assertLessEqual(seconds, 1.1 * burned + 0.05)



if __name__ == "__main__":
    unittest.main()
