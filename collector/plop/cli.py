"""plop.cli: the command line, `python -m plop.collector` (or `python -m
plop`).

    python -m plop.collector [options] script.py [args...]
    python -m plop.collector [options] -m module [args...]

Runs the program as `python script.py args` would (sys.argv, sys.path[0],
__main__, __file__, exit status, traceback) under a Collector, and writes
its profile when the program ends: normally, by sys.exit() or an uncaught
exception, by SIGINT (KeyboardInterrupt), or by SIGTERM or SIGHUP.  For the
last two the CLI installs its own handler while the signal has its default
action: it writes the profile, then restores the default action and sends
the signal again, so the process ends as it would have (killed by that
signal).  A program that installs a handler of its own for the signal
replaces plop's and keeps its own behaviour; the profile is then written
when it exits.  Every --flush-interval seconds the profile so far is
rewritten atomically (plop.checkpoint), so a program that ends with
os._exit() or crashes loses at most that much.
"""
import argparse
import os
import runpy
import signal
import sys
import types

from plop import compat
from plop.checkpoint import DEFAULT_FLUSH_INTERVAL, Checkpointer
from plop.exit_signals import ExitSignals
from plop.profile_io import (FORMATS, is_launcher_file, strip_launcher,
                             write_profile)
from plop.sampling import (DEFAULT_MAX_DEPTH, DEFAULT_MAX_STACKS, MODES,
                           Collector)

__all__ = ["main", "EXIT_USAGE", "EXIT_WRITE_FAILED"]

# Exit codes of the command line, besides the profiled program's own status.
EXIT_USAGE = 2          # bad command line, or output path unusable up front
EXIT_WRITE_FAILED = 3   # the program ran, but its profile could not be written

_HELP_EPILOG = """\
signals:
  SIGTERM and SIGHUP (while the program leaves them at their default
  action) write the profile, then end the process by the same signal;
  SIGINT writes it as the KeyboardInterrupt unwinds the program.

exit status:
  the profiled program's own status (0, sys.exit's code, 1 after an
  uncaught exception, death by the signal that ended it), or
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
                    help="output format: %s (default: %%(default)s)"
                         % ", ".join(FORMATS))
    ap.add_argument("--mode", choices=MODES, default="prof",
                    help="clock: prof (CPU time, the default), virtual "
                         "(the same as prof) or real (wall clock)")
    ap.add_argument("--interval", type=float, default=0.01,
                    help="seconds between samples (default: %(default)s)")
    ap.add_argument("--duration", type=float, default=None,
                    help="stop sampling after this many seconds of timer "
                         "time (default: until the program ends)")
    ap.add_argument("--flush-interval", type=float, metavar="SECONDS",
                    default=DEFAULT_FLUSH_INTERVAL,
                    help="rewrite the profile so far every SECONDS of wall "
                         "time (or 20 times what the last rewrite took, if "
                         "longer), so a program that ends by os._exit() or "
                         "a crash loses at most that much (default: "
                         "%(default)s; 0: only at exit)")
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


def _option_table(ap):
    """{option string: takes a value} for every option of `ap`."""
    table = {}
    for action in ap._actions:
        for s in action.option_strings:
            table[s] = action.nargs != 0
    return table


def _split_argv(ap, argv):
    """Splits argv at the target (the first non-option, or `-m MODULE`),
    so options of the program are never taken for ours.  Long options are
    resolved as argparse resolves them (a unique prefix such as --out
    stands for --output); an ambiguous or unknown one is left for
    argparse to refuse with its own message."""
    table = _option_table(ap)
    longs = [s for s in table if s.startswith("--")]
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-m" or a == "--":
            return argv[:i + 2], argv[i + 2:]
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name not in table:
                found = [s for s in longs if s.startswith(name)]
                name = found[0] if len(found) == 1 else None
            takes = name is not None and table[name] and "=" not in a
            i += 2 if takes else 1
            continue
        if a.startswith("-") and a != "-":
            # -o FILE, -oFILE, -q
            takes = table.get(a[:2], False) and len(a) == 2
            if a[:2] == "-m":
                return argv[:i + 1], argv[i + 1:]
            i += 2 if takes else 1
            continue
        return argv[:i + 1], argv[i + 1:]
    return argv, []


def _say(quiet, text):
    # os.write, not sys.stderr: this may run in a signal handler that
    # interrupted a write to sys.stderr, whose buffer refuses reentrant
    # calls.
    if not quiet:
        try:
            os.write(2, ("plop: %s\n" % text).encode("utf-8", "replace"))
        except OSError:
            pass


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


def _print_exception(etype, value, tb):
    """Prints an exception as `python script.py` would: without the
    launcher frames at the top of its traceback."""
    while tb is not None and is_launcher_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if hasattr(value, "with_traceback"):
        value = value.with_traceback(tb)
    sys.excepthook(etype, value, tb)


def _run_target(opts, prog_args):
    """Runs the program as `python script args` / `python -m module args`
    would: sys.argv, sys.path[0], __main__, real file names in frames."""
    if opts.module is not None:
        sys.argv = [opts.module] + prog_args
        # `python -m` puts the working directory first: by name since 3.7,
        # as '' before
        sys.path[0] = os.getcwd() if sys.version_info >= (3, 7) else ""
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
    source = compat.read_source(target)
    code = compile(source, path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __builtins__=compat.builtins,
                         __cached__=None, __loader__=None, __package__=None,
                         __spec__=None)
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def main(argv=None):
    """The command line; returns the exit status (or raises the program's
    SystemExit or KeyboardInterrupt after writing the profile)."""
    if argv is None:
        argv = sys.argv[1:]
    ap = _parser()
    ours, prog_args = _split_argv(ap, list(argv))
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
    if not opts.flush_interval >= 0:
        ap.error("--flush-interval must be a number of seconds >= 0")

    if opts.toggle_signal is not None:
        return _main_toggled(ap, opts, prog_args, kwargs)

    pid = os.getpid()
    wall0 = compat.perf_counter()
    try:
        collector.start(duration=opts.duration)
    except RuntimeError as e:
        ap.exit(EXIT_USAGE, "plop: error: %s\n" % e)
    checkpointer = None
    if opts.flush_interval > 0:
        checkpointer = Checkpointer(
            lambda: write_profile(strip_launcher(collector.stack_counts),
                                  opts.output, opts.format, opts.interval,
                                  opts.mode),
            opts.flush_interval).start()

    def finish(signum):
        if checkpointer is not None:
            checkpointer.stop()
        collector.stop()
        _write(opts, collector, compat.perf_counter() - wall0,
               " (ended by %s)" % compat.signal_name(signum))

    exit_signals = ExitSignals(finish).install()
    pending = None
    try:
        _run_target(opts, prog_args)
    except BaseException:
        pending = sys.exc_info()
    finally:
        if checkpointer is not None:
            checkpointer.stop()
        collector.stop()
        exit_signals.restore()
    wall = compat.perf_counter() - wall0
    exc = pending[1] if pending else None
    if os.getpid() != pid:
        # a forked child of the program left through here: its parent
        # writes the profile
        if exc is not None:
            raise exc
        return 0
    wrote = _write(opts, collector, wall)
    if isinstance(exc, (SystemExit, KeyboardInterrupt)):
        if not wrote and isinstance(exc, SystemExit) and not exc.code:
            return EXIT_WRITE_FAILED
        raise exc
    if exc is not None:
        _print_exception(*pending)
        return 1
    return 0 if wrote else EXIT_WRITE_FAILED


def _main_toggled(ap, opts, prog_args, kwargs):
    from plop.toggle import install_signal_toggle
    try:
        toggle = install_signal_toggle(
            opts.toggle_signal, output=opts.output, format=opts.format,
            duration=opts.duration, flush_interval=opts.flush_interval,
            **kwargs)
    except (ValueError, RuntimeError) as e:
        ap.error(str(e))
    _say(opts.quiet, "send signal %s to pid %d to start and stop "
         "collecting" % (opts.toggle_signal, os.getpid()))
    exit_signals = ExitSignals(lambda signum: toggle.finish()).install()
    try:
        _run_target(opts, prog_args)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        _print_exception(*sys.exc_info())
        return 1
    finally:
        exit_signals.restore()
    return 0


def _write(opts, collector, wall, why=""):
    stacks = strip_launcher(collector.stack_counts)
    try:
        write_profile(stacks, opts.output, opts.format, opts.interval,
                      opts.mode)
    except (OSError, IOError, ValueError) as e:
        _say(False, "error: cannot write profile to '%s': %s"
             % (opts.output, getattr(e, "strerror", None) or e))
        return False
    n = collector.samples_taken
    if n == 0:
        _say(opts.quiet, "no samples were taken (the program ran %.3f s); "
             "wrote an empty profile to '%s'%s (try a shorter --interval, or "
             "--mode real for programs that mostly wait)"
             % (wall, opts.output, why))
        return True
    per = collector.sample_time / n * 1e6
    pct = collector.sample_time / wall * 100 if wall > 0 else 0.0
    msg = ("wrote %s to '%s'%s: %d samples, %d distinct stacks; overhead "
           "%.1f us per sample, %.3f%% of %.2f s run time"
           % (opts.format, opts.output, why, n, len(stacks), per, pct, wall))
    if collector.overflow:
        msg += ("; %d counts over the %d-stack cap went to the overflow "
                "stack" % (collector.overflow, collector.max_stacks))
    if collector.nomemory:
        msg += ("; %d counts were lost for lack of memory (the <nomemory> "
                "stack)" % collector.nomemory)
    if collector.late_samples:
        msg += ("; %d samples waited through a timer tick for the GIL (a C "
                "call held it, the longest %.3f s): charged to the code that "
                "made the call" % (collector.late_samples,
                                   collector.longest_wait))
    _say(opts.quiet, msg)
    return True
