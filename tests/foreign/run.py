"""run.py: CPython's own regression tests, plainly and under plop.

For each target (a test module, or module.Class) the tests run once
without plop and once under `python -m plop.collector` in each mode at a
1 ms interval.  A case fails when a test that passed plainly fails under
plop (confirmed by running that test again on its own, both ways, so a
test that is merely flaky on a loaded machine is not blamed on plop), when
the program under plop does not end with the plain run's exit status, or
when no profile was written.  Ends with "N passed, N failed".

    python tests/foreign/run.py [--long] [--modes prof,real,virtual]

--long adds the slow modules (io, subprocess, multiprocessing, the whole
of socket); `make test-foreign` runs the short list, `make test-long` the
long one.
"""
import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "unit.py")

# The modules the sampling engine could disturb: signals, interval
# timers, interrupted system calls, selectors and event loops, threads.
SHORT = [
    "test.test_signal",
    "test.test_threadsignals",
    "test.test_eintr",
    "test.test_selectors",
    "test.test_asyncio.test_events",
    "test.test_threading",
    "test.test_socket.InterruptedRecvTimeoutTest",
    "test.test_socket.InterruptedSendTimeoutTest",
]
LONG = [
    "test.test_io",
    "test.test_subprocess",
    "test.test_multiprocessing_fork",
]
TIMEOUT = 900


def run_once(names, profile_to=None, mode=None):
    """Runs unit.py on names; returns (exit status, result dict or None)."""
    fd, result_path = tempfile.mkstemp(prefix="plop-foreign-", suffix=".json")
    os.close(fd)
    os.unlink(result_path)
    env = dict(os.environ, PLOP_FOREIGN_RESULT=result_path)
    cmd = [sys.executable]
    if profile_to is not None:
        cmd += ["-m", "plop.collector", "-q", "--mode", mode,
                "--interval", "0.001", "-o", profile_to]
    cmd += [UNIT] + list(names)
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=TIMEOUT)
        status, tail = proc.returncode, proc.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        status, tail = "timeout", ""
    result = None
    if os.path.exists(result_path):
        with open(result_path) as f:
            result = json.load(f)
        os.unlink(result_path)
    return status, result, tail[-2000:]


def profile_samples(path):
    """Total samples in a profile that plop wrote, or None if unreadable."""
    try:
        with open(path) as f:
            counts = ast.literal_eval(f.read())
        return sum(counts.values())
    except (OSError, ValueError, SyntaxError):
        return None


def confirm(test_id, mode, tmp):
    """True if test_id fails under plop and passes plainly, run alone."""
    for _ in range(2):
        _, plain, _ = run_once([test_id])
        if plain is None or plain["bad"]:
            return False
        out = os.path.join(tmp, "confirm.out")
        _, under, _ = run_once([test_id], out, mode)
        if under is not None and not under["bad"]:
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--long", action="store_true")
    ap.add_argument("--modes", default="prof,real,virtual")
    ap.add_argument("targets", nargs="*")
    args = ap.parse_args()
    targets = args.targets or (SHORT + LONG if args.long else SHORT)
    modes = args.modes.split(",")
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix="plop-foreign-")
    try:
        for target in targets:
            t0 = time.time()
            status, plain, tail = run_once([target])
            if plain is None:
                print("FAIL %s: the plain run reported nothing (exit %s)\n%s"
                      % (target, status, tail))
                failed += 1
                continue
            print("---- %s: %d tests, %d skipped, %d failing plainly (%.0f s)"
                  % (target, plain["run"], plain["skipped"], len(plain["bad"]),
                     time.time() - t0))
            for mode in modes:
                t0 = time.time()
                out = os.path.join(tmp, "plop.out")
                if os.path.exists(out):
                    os.unlink(out)
                ustatus, under, utail = run_once([target], out, mode)
                problems = []
                if under is None:
                    problems.append("reported nothing (exit %s)\n%s"
                                    % (ustatus, utail))
                else:
                    if under["run"] != plain["run"]:
                        problems.append("ran %d tests, plainly %d"
                                        % (under["run"], plain["run"]))
                    new = sorted(set(under["bad"]) - set(plain["bad"]))
                    real = [t for t in new if confirm(t, mode, tmp)]
                    if real:
                        problems.append("fail only under plop: "
                                        + ", ".join(real))
                    if ustatus != status:
                        problems.append("exit %s, plainly %s"
                                        % (ustatus, status))
                samples = profile_samples(out)
                if samples is None:
                    problems.append("no readable profile was written")
                elif samples == 0:
                    problems.append("the profile has no samples")
                name = "%s [%s]" % (target, mode)
                if problems:
                    failed += 1
                    print("FAIL %s: %s" % (name, "; ".join(problems)))
                else:
                    passed += 1
                    print("ok   %s: %s samples (%.0f s)"
                          % (name, samples, time.time() - t0))
                sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("foreign: %d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
