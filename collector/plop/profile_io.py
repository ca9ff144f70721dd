"""plop.profile_io: the text of a profile and writing it to a file.

Shared by the API (write_profile), the CLI, the toggle, the checkpoints
and the 0.4 formatters, so every writer produces the same bytes:

- 'plop': repr() of the {stack: count} dict, the format of the original
  plop.  Stacks are leaf-first tuples of (co_filename, line, co_name).  On
  2.7, co_filename is a byte string and the repr is written as is (as the
  original plop did, so ast.literal_eval under 2.7 reads it back, and
  plop-render reads it as UTF-8); on 3.x the text is encoded as UTF-8 with
  surrogateescape, so a file name that was not valid UTF-8 keeps its bytes.
- 'flamegraph': collapsed stacks, root first, `name (file:line)` frames
  joined by ';', a space and the count; one line per distinct rendered
  stack, sorted.
- 'pprof': pprof's profile.proto, gzip'd (plop.pprof), with the sampling
  interval as its period: for `go tool pprof` and pprof-based services.

Files are written atomically (write_profile).  Stacks under the CLI carry
the launcher's frames (plop's and runpy's) below the program's own;
strip_launcher() removes them, so profiles read as under plain `python`.
"""
import os
import runpy
import threading

from plop import compat

# The output formats, in the order --help lists them.  Adding one: a branch
# in format_profile(); the CLI, the toggle and the API all read this tuple.
FORMATS = ("plop", "flamegraph", "pprof")

_HERE = os.path.dirname(os.path.abspath(compat.source_path(__file__)))

# Modules whose frames sit below the program's own under the CLI: the
# `python -m plop.collector` / `python -m plop` entry points and the CLI
# that runs the program, plus runpy.
_LAUNCHER_FILES = frozenset(
    [os.path.join(_HERE, n) for n in ("collector.py", "cli.py",
                                      "__main__.py")]
    + [os.path.abspath(compat.source_path(runpy.__file__))])

# plop's own threads, by the (file, function) their stacks start with
# under threading's bootstrap: the checkpoint thread and the toggle's
# writer.  A sample can land on them; that time is plop's, not the
# program's.
_OWN_THREAD_ROOTS = frozenset([
    (os.path.join(_HERE, "checkpoint.py"), "_loop"),
    (os.path.join(_HERE, "toggle.py"), "_write_loop")])
_THREADING_FILE = os.path.abspath(compat.source_path(threading.__file__))

# plop's modules that the launcher calls into while it starts and ends a
# collection (stopping the checkpoints, the exit-signal handlers, the
# collector itself, writing the file).  A stack whose root, once the
# launcher's frames are gone, is one of these was sampled in plop's own
# bookkeeping on the program's main thread: plop's time, dropped.
_LAUNCHER_HELPERS = frozenset(
    os.path.join(_HERE, n) for n in ("checkpoint.py", "exit_signals.py",
                                     "sampling.py", "profile_io.py",
                                     "toggle.py"))


def _is_own_thread(stack):
    """True for a stack (leaf first) of one of plop's own threads."""
    for filename, _, name in reversed(stack):
        f = os.path.abspath(compat.source_path(_as_str(filename)))
        if f != _THREADING_FILE:
            return (f, name) in _OWN_THREAD_ROOTS
    return False


def _as_str(filename):
    if isinstance(filename, bytes) and not compat.PY2:
        return filename.decode("utf-8", "surrogateescape")
    return filename


def is_launcher_file(filename):
    """True for the files of plop's launcher and runpy, whose frames sit
    below the program's own when it runs under the CLI."""
    filename = _as_str(filename)
    if filename.startswith("<frozen runpy"):
        return True
    return os.path.abspath(compat.source_path(filename)) in _LAUNCHER_FILES


def _is_helper_file(filename):
    f = os.path.abspath(compat.source_path(_as_str(filename)))
    return f in _LAUNCHER_HELPERS


def strip_launcher(stack_counts):
    """A new {stack: count} without the launcher's frames at the root end
    of each stack, so the program's stacks start at its '<module>' as under
    plain `python`.  Stacks made of launcher frames only (samples taken
    while runpy sets the program up or winds it down) and stacks of plop's
    own threads (checkpoints, the toggle's writer) or of plop's own work
    on the main thread (stopping the checkpoints, writing the file) are
    plop's time and are dropped."""
    out = {}
    for stack, n in stack_counts.items():
        end = len(stack)
        while end > 0 and is_launcher_file(stack[end - 1][0]):
            end -= 1
        if end == 0 or end < len(stack) and _is_helper_file(stack[end - 1][0]):
            continue
        if _is_own_thread(stack):
            continue
        key = stack[:end]
        out[key] = out.get(key, 0) + n
    return out


def flamegraph_lines(stack_counts):
    """Collapsed-stack lines ("root;...;leaf COUNT\\n"), one per distinct
    rendered stack, sorted."""
    agg = {}
    for stack, count in stack_counts.items():
        key = ";".join("%s (%s:%d)" % (name, filename, line)
                       for filename, line, name in reversed(stack))
        agg[key] = agg.get(key, 0) + count
    return ["%s %d\n" % (k, agg[k]) for k in sorted(agg)]


def check_format(format):
    """Raises ValueError unless `format` is one of FORMATS."""
    if format not in FORMATS:
        raise ValueError("unknown format %r (expected one of: %s)"
                         % (format, ", ".join(FORMATS)))


def format_profile(stack_counts, format="plop", interval=0.01, mode="prof"):
    """The text of a profile in `format` (one of FORMATS); bytes for
    'pprof', whose period is `interval` seconds of `mode`'s clock."""
    check_format(format)
    if format == "pprof":
        from plop.pprof import encode_pprof
        return encode_pprof(stack_counts, interval, mode)
    if format == "plop":
        if compat.PY2:
            # 2.7's C extension counts in longs; the original plop wrote
            # ints ("3", not "3L", which Python 3's literal_eval refuses)
            stack_counts = dict((k, int(v)) for k, v in stack_counts.items())
        return repr(dict(stack_counts)) + "\n"
    return "".join(flamegraph_lines(stack_counts))


def encode_profile(text):
    """The bytes written for the text of a profile (see the module
    docstring)."""
    if isinstance(text, bytes):  # 2.7's str
        return text
    if compat.PY2:
        return text.encode("utf-8")
    return text.encode("utf-8", "surrogateescape")


def write_bytes(data, path):
    """Writes `data` to `path` atomically: to a temporary file in the same
    directory, flushed to disk (fsync), then renamed over `path`, so a
    reader never sees a partial file and a failure (no space, no
    permission) leaves no truncated file and the previous one intact.
    Raises OSError (IOError on 2.7) when the file cannot be written."""
    path = compat.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, ".%s.%d.%d.tmp" % (os.path.basename(path),
                                             os.getpid(), compat.get_ident()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        try:
            view = memoryview(data)
            while len(view):
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        compat.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_profile(stack_counts, path, format="plop", interval=0.01,
                  mode="prof"):
    """Writes stack_counts to `path` in `format` atomically (see
    write_bytes); `interval` and `mode` are the sampling's, for pprof's
    period.  Raises ValueError for an unknown format and OSError when the
    file cannot be written."""
    write_bytes(encode_profile(format_profile(stack_counts, format,
                                              interval, mode)), path)
