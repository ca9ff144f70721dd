"""plop.collector: the sampling profiler's Python API and command line.

    from plop.collector import Collector
    with Collector(interval=0.01, mode='prof') as c:
        work()
    print(repr(dict(c.stack_counts)))       # the plop.out format

    python -m plop.collector [options] script.py [args...]
    python -m plop.collector [options] -m module [args...]

The sampling itself is C (plop._collector.Sampler; see
collector/src/sampler.c): an interval timer's signal is handled by a C
function that CPython calls at a bytecode boundary, which walks every
thread's frames and counts the stack in a C hash table.  This module is the
thin shell around it: argument checking, the API of the original plop,
fork handling, writing profiles, and the CLI.
"""
import argparse
import builtins
import io
import os
import runpy
import signal
import sys
import threading
import time
import types
import weakref

from plop import _collector

__all__ = ["Collector", "write_profile", "install_signal_toggle", "FORMATS",
           "main"]

MODES = ("prof", "virtual", "real")
FORMATS = ("plop", "flamegraph")

# Exit codes of the command line, besides the profiled program's own status.
EXIT_USAGE = 2          # bad command line, or output path unusable up front
EXIT_WRITE_FAILED = 3   # the program ran, but its profile could not be written

DEFAULT_MAX_STACKS = 100000
DEFAULT_MAX_DEPTH = 1024

_live = weakref.WeakSet()

# How long start()/stop() called from another thread wait for the main
# thread to run them (tests lower it).
MAIN_THREAD_TIMEOUT = 5.0


def _in_main_thread(fn, *args):
    """Returns fn(*args), run in the main thread.

    The timer's handler can be installed and restored only there (as with
    signal.signal), so a call from another thread -- a web request asking
    for a profile, say -- is handed to the main thread as a pending call
    and this thread waits for its result.  The main thread runs it at its
    next bytecode boundary: at once when it runs Python code, within its
    poll timeout when it waits in select() (a server's serve_forever()).
    If it does not get there within MAIN_THREAD_TIMEOUT (blocked in a lock
    or a long C call), the call is cancelled and RuntimeError raised."""
    if threading.current_thread() is threading.main_thread():
        return fn(*args)
    lock = threading.Lock()
    done = threading.Event()
    state = {"cancelled": False, "running": False}
    box = {}

    def run():
        with lock:
            if state["cancelled"]:
                return
            state["running"] = True
        try:
            box["result"] = fn(*args)
        except BaseException as e:
            box["error"] = e
        finally:
            done.set()

    _collector._call_in_main_thread(run)
    if not done.wait(MAIN_THREAD_TIMEOUT):
        with lock:
            if not state["running"]:
                state["cancelled"] = True
                raise RuntimeError(
                    "the main thread ran no Python code for %g s, so plop "
                    "could not install or remove its timer handler there; "
                    "call start()/stop() from the main thread, or keep it "
                    "in interruptible waits (select, sleep)"
                    % MAIN_THREAD_TIMEOUT)
        done.wait()
    if "error" in box:
        raise box.pop("error")
    return box.get("result")


class Collector(object):
    """Samples the stacks of every Python thread of this process.

    interval: seconds of timer time between samples (> 0).
    mode: 'prof' (process CPU time, ITIMER_PROF/SIGPROF), 'virtual' (user
      CPU time, ITIMER_VIRTUAL/SIGVTALRM) or 'real' (wall clock,
      ITIMER_REAL/SIGALRM).
    lines: record the line being executed instead of the function's first
      line.
    max_stacks: cap on distinct stacks (0: no cap); counts beyond it go to
      the stack (('<plop>', 0, '<overflow>'),) and to `overflow`.
    max_depth: cap on frames per stack; deeper stacks keep their leaf-most
      frames and end with ('<plop>', 0, '<truncated>').

    Counts are time-weighted: a count is `interval` seconds of the thread's
    CPU time (CPU modes) or of wall time (real mode).
    """

    def __init__(self, interval=0.01, mode="virtual", lines=False,
                 max_stacks=DEFAULT_MAX_STACKS, max_depth=DEFAULT_MAX_DEPTH):
        if mode not in MODES:
            raise ValueError("unknown mode %r (expected one of: %s)"
                             % (mode, ", ".join(MODES)))
        if (isinstance(interval, bool)
                or not isinstance(interval, (int, float))
                or not 1e-6 <= interval <= 1e6):
            raise ValueError("interval must be a number of seconds between "
                             "1e-06 and 1e+06, not %r" % (interval,))
        for name, value, low in (("max_stacks", max_stacks, 0),
                                 ("max_depth", max_depth, 1)):
            if (isinstance(value, bool) or not isinstance(value, int)
                    or value < low):
                raise ValueError("%s must be an integer >= %d, not %r"
                                 % (name, low, value))
        self._sampler = _collector.Sampler(mode=mode, interval=float(interval),
                                           lines=bool(lines),
                                           max_stacks=max_stacks,
                                           max_depth=max_depth)
        self.interval = interval
        self.mode = mode
        self.lines = bool(lines)
        _live.add(self)

    def start(self, duration=30.0):
        """Installs the handler and arms the timer.  Sampling stops by itself
        after `duration` seconds of timer time (None: until stop()).  From
        another thread, the main thread is asked to do it and this call
        waits (see _in_main_thread).  Raises RuntimeError when the mode's
        signal already has a handler or its timer is armed by someone else,
        or when this collector is already running."""
        if duration is not None and (
                isinstance(duration, bool)
                or not isinstance(duration, (int, float)) or not duration > 0):
            raise ValueError("duration must be a positive number of seconds "
                             "or None, not %r" % (duration,))
        _in_main_thread(self._sampler.start, duration)

    def stop(self):
        """Disarms the timer and restores the previous handler; returns at
        once.  Stopping a stopped collector does nothing."""
        _in_main_thread(self._sampler.stop)

    def reset(self):
        """Forgets every sample (sampling goes on if running)."""
        self._sampler.reset()

    def __enter__(self):
        self.start(duration=None)
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def stack_counts(self):
        """A new dict {stack: count}: stacks are leaf-first tuples of
        (co_filename, line, co_name) frames.  Can be read while running."""
        return self._sampler.stack_counts()

    @property
    def samples_taken(self):
        return self._sampler.samples_taken

    @property
    def sample_time(self):
        """Seconds spent inside the sampler."""
        return self._sampler.sample_time

    @property
    def stopped(self):
        return not self._sampler.running

    @property
    def overflow(self):
        """Counts that went to the overflow stack (max_stacks reached)."""
        return self._sampler.overflow

    @property
    def unique_stacks(self):
        return self._sampler.unique_stacks

    @property
    def max_stacks(self):
        return self._sampler.max_stacks

    @property
    def max_depth(self):
        return self._sampler.max_depth

    def _after_fork_child(self):
        self._sampler._after_fork_child()


def _after_fork_in_child():
    for c in list(_live):
        try:
            c._after_fork_child()
        except Exception as e:  # never break the child over a profiler
            sys.stderr.write("plop: error: cannot reset collector after "
                             "fork: %s\n" % e)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ------------------------------------------------------------------ output

def _flamegraph_lines(stack_counts):
    """Collapsed stacks: root first, `func (file:line)` frames joined by ';',
    then a space and the count; one line per distinct rendered stack."""
    agg = {}
    for stack, count in stack_counts.items():
        key = ";".join("%s (%s:%d)" % (name, filename, line)
                       for filename, line, name in reversed(stack))
        agg[key] = agg.get(key, 0) + count
    return ["%s %d\n" % (k, agg[k]) for k in sorted(agg)]


def format_profile(stack_counts, format="plop"):
    """The text of a profile in `format` ('plop' or 'flamegraph')."""
    if format == "plop":
        return repr(dict(stack_counts)) + "\n"
    if format == "flamegraph":
        return "".join(_flamegraph_lines(stack_counts))
    raise ValueError("unknown format %r (expected one of: %s)"
                     % (format, ", ".join(FORMATS)))


def write_profile(stack_counts, path, format="plop"):
    """Writes stack_counts to `path` in `format` atomically: the text goes
    to a temporary file in the same directory, is flushed to disk (fsync),
    then renamed over `path`, so a reader never sees a partial profile and
    a failure (no space, no permission) leaves no truncated file.  Raises
    ValueError for an unknown format and OSError when the file cannot be
    written."""
    data = format_profile(stack_counts, format).encode("utf-8",
                                                       "surrogateescape")
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, ".%s.%d.%d.tmp" % (os.path.basename(path),
                                             os.getpid(),
                                             threading.get_ident()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ------------------------------------------------------------------ CLI

_HELP_EPILOG = """\
exit status:
  the profiled program's own status (0, sys.exit's code, 1 after an
  uncaught exception), or
  %d  bad command line, or the output directory is not writable
  %d  the program ran but its profile could not be written
""" % (EXIT_USAGE, EXIT_WRITE_FAILED)


def _parser():
    ap = argparse.ArgumentParser(
        prog="python -m plop.collector",
        description="Run a Python program under the plop sampling profiler "
                    "and write its profile.",
        usage="%(prog)s [options] (script.py | -m module) [args...]",
        epilog=_HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", default="/tmp/plop.out",
                    help="where to write the profile (default: %(default)s)")
    ap.add_argument("-f", "--format", choices=FORMATS, default="plop",
                    help="'plop' (a Python dict repr, the default) or "
                         "'flamegraph' (collapsed stacks)")
    ap.add_argument("--mode", choices=MODES, default="prof",
                    help="timer: prof (process CPU, the default), virtual "
                         "(user CPU) or real (wall clock)")
    ap.add_argument("--interval", type=float, default=0.01,
                    help="seconds between samples (default: %(default)s)")
    ap.add_argument("--duration", type=float, default=None,
                    help="stop sampling after this many seconds of timer "
                         "time (default: until the program ends)")
    ap.add_argument("--max-stacks", type=int, default=DEFAULT_MAX_STACKS,
                    help="cap on distinct stacks kept; beyond it samples "
                         "are counted in one overflow stack (default: "
                         "%(default)s; 0: no cap)")
    ap.add_argument("--max-depth", type=int, default=DEFAULT_MAX_DEPTH,
                    help="cap on frames per stack (default: %(default)s)")
    ap.add_argument("--lines", action="store_true",
                    help="record the line being executed rather than the "
                         "function's first line")
    ap.add_argument("--toggle-signal", metavar="SIG", default=None,
                    help="do not profile from the start: signal SIG (e.g. "
                         "USR2) switches collection on and off, and each "
                         "stop writes the output")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="print nothing on exit")
    ap.add_argument("-m", dest="module", default=None,
                    help="run library module as a script (terminates the "
                         "option list)")
    ap.add_argument("target", nargs="?", help="the script to run")
    ap.add_argument("args", nargs=argparse.REMAINDER,
                    help="arguments for the program")
    return ap


def _split_argv(argv):
    """Splits argv at the target (the first non-option, or `-m MODULE`),
    so options of the program are never taken for ours."""
    takes_value = {"-o", "--output", "-f", "--format", "--mode",
                   "--interval", "--duration", "--max-stacks", "--max-depth",
                   "--toggle-signal"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-m":
            return argv[:i + 2], argv[i + 2:]
        if a == "--":
            return argv[:i + 2], argv[i + 2:]
        if a in takes_value:
            i += 2
            continue
        if a.startswith("-") and a != "-":
            i += 1
            continue
        return argv[:i + 1], argv[i + 1:]
    return argv, []


def _say(quiet, text):
    if not quiet:
        sys.stderr.write("plop: %s\n" % text)


def _check_output(ap, path):
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        ap.exit(EXIT_USAGE, "plop: error: output directory '%s' does not "
                            "exist\n" % d)
    if not os.access(d, os.W_OK | os.X_OK):
        ap.exit(EXIT_USAGE, "plop: error: output directory '%s' is not "
                            "writable\n" % d)
    if os.path.isdir(path):
        ap.exit(EXIT_USAGE, "plop: error: output '%s' is a directory\n"
                % path)


def _is_launcher_file(filename):
    """True for the files of plop's launcher and runpy, whose frames sit
    below the program's own when it runs under the CLI."""
    if filename.startswith("<frozen runpy") or filename == "<frozen runpy>":
        return True
    f = os.path.abspath(filename)
    return f in (os.path.abspath(__file__), os.path.abspath(runpy.__file__))


def _print_exception(e):
    """Prints e's traceback as `python script.py` would: without the
    launcher frames at the top."""
    tb = e.__traceback__
    while tb is not None and _is_launcher_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    e = e.with_traceback(tb)
    sys.excepthook(type(e), e, tb)


def _strip_launcher(stack_counts):
    """Drops the launcher's frames from the root end of every stack, so the
    program's stacks start at its '<module>' as under plain `python`.  A
    stack of launcher frames only (a sample taken while runpy sets the
    program up or winds it down) is plop's own time and is dropped."""
    out = {}
    for stack, n in stack_counts.items():
        end = len(stack)
        while end > 0 and _is_launcher_file(stack[end - 1][0]):
            end -= 1
        if end == 0:
            continue
        key = stack[:end]
        out[key] = out.get(key, 0) + n
    return out


_TIMERS = {"prof": "ITIMER_PROF", "virtual": "ITIMER_VIRTUAL",
           "real": "ITIMER_REAL"}


def _guard_signal(collector):
    """While the program runs, makes signal.signal() and signal.setitimer()
    refuse the signal and timer plop samples with, with a clear error,
    rather than let the program silently take them over (its handler would
    get plop's ticks, plop would get none).  Returns the undo function."""
    sig = collector._sampler.signum
    which = getattr(signal, _TIMERS[collector.mode])
    orig_signal, orig_setitimer = signal.signal, signal.setitimer
    try:
        signame = signal.Signals(sig).name
    except ValueError:
        signame = str(sig)
    hint = ("plop samples with it in mode '%s'; run plop with another "
            "--mode (%s)" % (collector.mode, ", ".join(
                m for m in MODES if m != collector.mode)))

    def guarded_signal(signalnum, handler):
        if signalnum == sig and not collector.stopped:
            raise RuntimeError("signal '%s' is in use: %s" % (signame, hint))
        return orig_signal(signalnum, handler)

    def guarded_setitimer(w, *args):
        if w == which and not collector.stopped:
            raise RuntimeError("timer '%s' is in use: %s"
                               % (_TIMERS[collector.mode], hint))
        return orig_setitimer(w, *args)

    guarded_signal.__doc__ = orig_signal.__doc__
    guarded_setitimer.__doc__ = orig_setitimer.__doc__
    signal.signal, signal.setitimer = guarded_signal, guarded_setitimer

    def undo():
        signal.signal, signal.setitimer = orig_signal, orig_setitimer
    return undo


def _run_target(opts, prog_args):
    """Runs the program as `python script args` / `python -m module args`
    would: sys.argv, sys.path[0], __main__, real file names in frames."""
    if opts.module is not None:
        sys.argv = [opts.module] + prog_args
        sys.path[0] = os.getcwd()
        runpy.run_module(opts.module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = [opts.target] + prog_args
        sys.path[0] = os.path.dirname(os.path.abspath(opts.target))
        if os.path.isfile(opts.target):
            _run_script(opts.target)
        else:  # a directory or zip file with a __main__.py
            runpy.run_path(opts.target, run_name="__main__")


def _run_script(target):
    """Runs a script file in a fresh __main__ module, as `python script`
    does (runpy.run_path would set sys.argv[0] to the absolute path)."""
    # `python script.py` makes the path absolute since 3.9
    path = os.path.abspath(target) if sys.version_info >= (3, 9) else target
    with io.open_code(target) as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __builtins__=builtins,
                         __cached__=None, __loader__=None, __package__=None,
                         __spec__=None)
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    ours, prog_args = _split_argv(list(argv))
    ap = _parser()
    opts = ap.parse_args(ours)
    if opts.module is None and opts.target is None:
        ap.error("a script or -m module is required")
    if opts.module is not None and opts.target is not None:
        prog_args = [opts.target] + list(opts.args) + prog_args
    elif opts.args:
        prog_args = list(opts.args) + prog_args
    if opts.module is None and not os.path.exists(opts.target):
        ap.exit(EXIT_USAGE, "plop: error: cannot open '%s': no such file\n"
                % opts.target)
    _check_output(ap, opts.output)
    kwargs = dict(interval=opts.interval, mode=opts.mode, lines=opts.lines,
                  max_stacks=opts.max_stacks, max_depth=opts.max_depth)
    try:
        collector = Collector(**kwargs)
    except ValueError as e:
        ap.error(str(e))
    if opts.duration is not None and not opts.duration > 0:
        ap.error("--duration must be a positive number of seconds")

    if opts.toggle_signal is not None:
        from plop.toggle import install_signal_toggle
        try:
            install_signal_toggle(opts.toggle_signal, output=opts.output,
                                  format=opts.format,
                                  duration=opts.duration, **kwargs)
        except (ValueError, RuntimeError) as e:
            ap.error(str(e))
        _say(opts.quiet, "send signal %s to pid %d to start and stop "
             "collecting" % (opts.toggle_signal, os.getpid()))
        return _run_plain(opts, prog_args)

    pid = os.getpid()
    wall0 = time.perf_counter()
    try:
        collector.start(duration=opts.duration)
    except RuntimeError as e:
        ap.exit(EXIT_USAGE, "plop: error: %s\n" % e)
    status = 0
    pending = None
    unguard = _guard_signal(collector)
    try:
        _run_target(opts, prog_args)
    except SystemExit as e:
        status = e
        pending = e
    except KeyboardInterrupt as e:
        pending = e
    except BaseException as e:
        pending = e
    finally:
        unguard()
        collector.stop()
    wall = time.perf_counter() - wall0
    if os.getpid() != pid:
        # a forked child of the program left through here: its parent
        # writes the profile
        if pending is not None:
            raise pending
        return 0
    wrote = _write(opts, collector, wall)
    if isinstance(pending, SystemExit) or isinstance(pending, KeyboardInterrupt):
        if not wrote and isinstance(pending, SystemExit) and not pending.code:
            return EXIT_WRITE_FAILED
        raise pending
    if pending is not None:
        _print_exception(pending)
        return 1
    return status if wrote else EXIT_WRITE_FAILED


def _run_plain(opts, prog_args):
    try:
        _run_target(opts, prog_args)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        _print_exception(e)
        return 1
    return 0


def _write(opts, collector, wall):
    stacks = _strip_launcher(collector.stack_counts)
    try:
        write_profile(stacks, opts.output, opts.format)
    except (OSError, ValueError) as e:
        sys.stderr.write("plop: error: cannot write profile to '%s': %s\n"
                         % (opts.output, e.strerror if isinstance(e, OSError)
                            and e.strerror else e))
        return False
    n = collector.samples_taken
    if n == 0:
        _say(opts.quiet, "no samples were taken (the program ran %.3f s); "
             "wrote an empty profile to '%s' (try a shorter --interval, or "
             "--mode real for programs that mostly wait)"
             % (wall, opts.output))
        return True
    per = collector.sample_time / n * 1e6
    pct = collector.sample_time / wall * 100 if wall > 0 else 0.0
    msg = ("wrote %s to '%s': %d samples, %d distinct stacks; overhead "
           "%.1f us per sample, %.3f%% of %.2f s run time"
           % (opts.format, opts.output, n, len(stacks), per, pct, wall))
    if collector.overflow:
        msg += ("; %d counts over the %d-stack cap went to the overflow "
                "stack" % (collector.overflow, collector.max_stacks))
    _say(opts.quiet, msg)
    return True



def install_signal_toggle(signum, output="/tmp/plop.out", format="plop",
                          duration=None, **collector_kwargs):
    """Lets signal `signum` switch profiling on and off in this process;
    see plop.toggle.install_signal_toggle, which this forwards to."""
    from plop import toggle
    return toggle.install_signal_toggle(signum, output=output, format=format,
                                        duration=duration,
                                        **collector_kwargs)


if __name__ == "__main__":
    # Run the copy imported as plop.collector, not this __main__ copy, so
    # that plop.toggle and the program see one Collector class and one
    # fork hook.
    from plop.collector import main as _main
    sys.exit(_main())
