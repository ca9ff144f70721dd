"""Shared helpers of the viewer, demo and toggle tests: where the products
are, and real subprocesses (the viewer, the demo server, a toggled app)
started on free ports and talked to over real HTTP and real signals.

The products are located the way plop.viewer locates them; a missing one
makes the test FAIL with the command that builds it (`make test` always
builds everything first), never skip.
"""
import os
import select
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
COLLECTOR_DIR = os.path.join(ROOT, "collector")
if COLLECTOR_DIR not in sys.path:
    sys.path.insert(0, COLLECTOR_DIR)
# tests/python/portable.py: what 2.7 and 3.6 lack, for the toggle's tests
PORTABLE_DIR = os.path.join(ROOT, "tests", "python")
if PORTABLE_DIR not in sys.path:
    sys.path.append(PORTABLE_DIR)

import portable  # noqa: E402


# Upper bound on waiting for a subprocess to say something; a bound against
# hangs, not a measurement.
WAIT = 60.0


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = COLLECTOR_DIR + (
        os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


def default_signals():
    """preexec_fn for test subprocesses: SIGINT as at an interactive
    prompt, even when this test runs with SIGINT ignored (a background job
    of a non-interactive shell), so that the Ctrl-C tests test Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def render_or_fail(test):
    # imported here: the toggle's tests use this module on every
    # interpreter, and the viewer needs 3.8+
    from plop.viewer import find_render
    path = find_render()
    if path is None:
        test.fail("plop-render not found ($PLOP_RENDER, build/plop-render, "
                  "PATH): build it with 'make render'")
    return path


def collector_or_fail(test):
    try:
        import plop.collector  # noqa: F401
        return plop.collector
    except ImportError as e:
        test.fail("cannot import 'plop.collector' (%s): build the extension "
                  "with 'make collector'" % e)


def read_line(proc, stream, timeout=WAIT):
    """The next line of `stream` (a pipe of proc), or fails with what the
    process said if none comes within timeout or the process exits."""
    deadline = portable.monotonic() + timeout
    buf = b""
    fd = stream.fileno()
    while True:
        left = deadline - portable.monotonic()
        if left <= 0:
            raise AssertionError("no line from pid %d within %ds; got %r"
                                 % (proc.pid, timeout, buf))
        r, _, _ = select.select([fd], [], [], min(left, 1.0))
        if r:
            ch = os.read(fd, 1)
            if not ch:
                raise AssertionError("pid %d closed its output (exit %r); "
                                     "got %r" % (proc.pid, proc.poll(), buf))
            if ch == b"\n":
                return buf.decode("utf-8", "replace")
            buf += ch


def read_until(proc, stream, needle, timeout=WAIT):
    """Lines of stream up to and including the first containing needle."""
    lines = []
    while True:
        line = read_line(proc, stream, timeout)
        lines.append(line)
        if needle in line:
            return lines


def stop(proc):
    """Ends proc: SIGTERM first, so that a viewer removes its temporary
    cache, then SIGKILL -- and fails if SIGTERM was not enough, since every
    program started by these tests must stop on it."""
    ignored = False
    if proc.poll() is None:
        proc.terminate()
        try:
            portable.wait(proc, WAIT / 2)
        except portable.TimeoutExpired:
            proc.kill()
            ignored = True
    portable.wait(proc, WAIT)
    for s in (proc.stdout, proc.stderr):
        if s is not None:
            s.close()
    if ignored:
        raise AssertionError("pid %d did not stop on SIGTERM" % proc.pid)


def get(port, path, method="GET", host="127.0.0.1", host_header=None):
    """(status, headers dict with lower-case names, body bytes); the path is
    sent byte for byte, as given; host_header replaces the Host header."""
    import http.client
    conn = http.client.HTTPConnection(host, port, timeout=WAIT)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True,
                        skip_host=host_header is not None)
        if host_header is not None:
            conn.putheader("Host", host_header)
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()
