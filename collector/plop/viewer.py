"""plop.viewer: a small web server that lists the profiles in a directory and
shows each one as plop-render's HTML report or SVG call graph.

    python -m plop.viewer --datadir=DIR [--port 8888] [--address 127.0.0.1]
                          [--render PATH] [--cache-dir DIR] [--quiet]

Standard library only (http.server, threaded), for CPython 3.8 and later.

URLs:
    /                 the index: DIR's profiles, newest first, with size,
                      samples and modification date
    /report/NAME      NAME's HTML report (rendered by plop-render)
    /svg/NAME         NAME's call graph as SVG (rendered by plop-render)
    /flame/NAME       NAME's flame graph as SVG (plop-render -T flame.svg)
    /raw/NAME         NAME itself, as text

What counts as a profile: a regular file directly in DIR (or a symlink in DIR
to a regular file that is itself inside DIR) whose name does not start with
'.' and does not end in one of RENDERED_SUFFIXES -- so the SVG and HTML files
that demo/create_profile.sh leaves next to a profile are not listed as
profiles.  A NAME is served if and only if it is listed; anything else,
including '..', absolute paths, encoded slashes ('%2f') and symlinks leading
out of DIR, gets 404 and never the file.

Rendering: a report is rendered on its first request and kept until the
profile changes (its inode, size or mtime) or plop-render is rebuilt.
Renders go to a cache directory outside DIR (a private temporary directory
removed on exit, or --cache-dir to keep them across runs), are written under
a temporary name and renamed into place, and at most one render per profile
and format runs at a time.  plop-render's error message for a malformed
profile is shown, escaped, in the page (status 422; 500 for other render
failures) and kept in memory with the same key; a timeout or a killed
render is not kept, the next request tries again.  The index's sample
counts come from a chunked scan of the file (plop.viewer_files), not from
plop-render.

Network: it binds to 127.0.0.1 unless told otherwise, and while bound to a
loopback address it answers 403 to requests whose Host header is not a
loopback name or address, so a web page that rebinds its own DNS name to
127.0.0.1 cannot read the profiles through a visitor's browser.

Exit status: 0 after Ctrl-C or SIGTERM, 1 when the server cannot start
(no DIR, no plop-render, the port is taken), 2 for a usage error or an
interpreter older than 3.8.

The modules, one job each: plop.viewer_files (which files are profiles,
their sample counts), plop.viewer_cache (running plop-render, keeping its
outputs), plop.viewer_pages (the HTML of the index and error pages),
plop.viewer_http (URLs, the server), and this one (the command line, the
process: signals, the cache directory's life).  This file parses on every
Python plop supports, so that an older one is told so.
"""
from __future__ import print_function

import sys

MIN_PYTHON = (3, 8)

if sys.version_info < MIN_PYTHON:
    _msg = ("plop.viewer: error: the viewer needs Python %d.%d or later; "
            "this is %d.%d"
            % (MIN_PYTHON + tuple(sys.version_info[:2])))
    if __name__ == "__main__":
        sys.stderr.write(_msg + "\n")
        sys.exit(2)
    raise ImportError(_msg)

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402

from plop.viewer_cache import RenderCache, RenderError, find_render  # noqa
from plop.viewer_files import DataDir, count_samples  # noqa: E402,F401
from plop.viewer_http import Handler, is_loopback, make_server  # noqa

__all__ = ["main", "find_render", "count_samples", "DataDir",
           "RenderCache", "RenderError", "Handler", "make_server"]

EXIT_OK = 0
EXIT_START = 1
EXIT_USAGE = 2


class _Stop(BaseException):
    """SIGTERM: not an Exception, so that no "except Exception" on the way
    (socketserver has several) swallows it."""


def _on_sigterm(signum, frame):
    raise _Stop()


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m plop.viewer",
        description="Serve the profiles of a directory as plop-render "
                    "reports.",
        epilog="exit status: 0 after Ctrl-C or SIGTERM, 1 when the server "
               "cannot start, 2 usage error")
    ap.add_argument("--datadir", required=True,
                    help="directory holding the profiles")
    ap.add_argument("--port", type=int, default=8888,
                    help="TCP port (default 8888; 0 picks a free one)")
    ap.add_argument("--address", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1, loopback only)")
    ap.add_argument("--render", default=None,
                    help="plop-render binary (default: $PLOP_RENDER, the "
                         "source tree's build/plop-render, then PATH)")
    ap.add_argument("--cache-dir", default=None,
                    help="keep rendered reports here (default: a temporary "
                         "directory removed on exit)")
    ap.add_argument("--quiet", action="store_true",
                    help="do not log requests")
    args = ap.parse_args(argv)

    prog = "plop.viewer"
    if not os.path.isdir(args.datadir):
        print("%s: error: '%s' is not a directory" % (prog, args.datadir),
              file=sys.stderr)
        return EXIT_START
    render = find_render(args.render)
    if render is None:
        where = args.render or os.environ.get("PLOP_RENDER")
        if where:
            print("%s: error: '%s' is not an executable plop-render"
                  % (prog, where), file=sys.stderr)
        else:
            print("%s: error: cannot find 'plop-render' (build it with "
                  "'make render', or pass --render PATH)" % prog,
                  file=sys.stderr)
        return EXIT_START
    datadir = DataDir(args.datadir)
    if args.cache_dir:
        cache_dir = os.path.realpath(args.cache_dir)
        if cache_dir == datadir.real:
            print("%s: error: the cache directory cannot be the data "
                  "directory" % prog, file=sys.stderr)
            return EXIT_START
        try:
            os.makedirs(cache_dir, exist_ok=True)
        except OSError as e:
            print("%s: error: cannot create '%s': %s" % (
                prog, cache_dir, e.strerror), file=sys.stderr)
            return EXIT_START
        owned = False
    else:
        cache_dir = tempfile.mkdtemp(prefix="plop-viewer-%d-" % os.getpid())
        owned = True
    cache = RenderCache(render, cache_dir)
    try:
        try:
            server = make_server(datadir, args.address, args.port, cache,
                                 args.quiet)
        except (OSError, OverflowError) as e:
            print("%s: error: cannot listen on %s port %d: %s" % (
                prog, args.address, args.port,
                getattr(e, "strerror", None) or e), file=sys.stderr)
            return EXIT_START
        host, port = server.server_address[:2]
        if not is_loopback(args.address):
            print("%s: warning: listening on '%s': the profiles are visible "
                  "to the network" % (prog, args.address), file=sys.stderr)
        shown = "[%s]" % host if ":" in host else host
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            print("%s: serving '%s' on http://%s:%d/ (Ctrl-C stops)" % (
                prog, datadir.real, shown, port), flush=True)
            server.serve_forever()
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            cache.close()
            server.server_close()
        print("%s: stopped" % prog, flush=True)
        return EXIT_OK
    finally:
        if owned:
            shutil.rmtree(cache_dir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, _Stop):
        # A second Ctrl-C or SIGTERM while shutting down.
        sys.exit(0)
