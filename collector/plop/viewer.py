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
counts come from a fast scan of the file (see _REPR_COUNT), not from
plop-render.

Network: it binds to 127.0.0.1 unless told otherwise, and while bound to a
loopback address it answers 403 to requests whose Host header is not a
loopback name or address, so a web page that rebinds its own DNS name to
127.0.0.1 cannot read the profiles through a visitor's browser.

Exit status: 0 after Ctrl-C or SIGTERM, 1 when the server cannot start
(no DIR, no plop-render, the port is taken), 2 for a usage error.
"""
import argparse
import hashlib
import html
import ipaddress
import http.server
import mmap
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

# Files next to profiles that are renders, not profiles.
RENDERED_SUFFIXES = (".svg", ".html", ".htm", ".png", ".pdf", ".dot",
                     ".tmp", ".css", ".js")

# Counting samples for the index reads the whole file; bigger files show
# no count rather than stall the index page.
COUNT_LIMIT = 256 << 20

RENDER_TIMEOUT = 300.0

# URL prefix -> plop-render's -T format (also the cache file's extension).
RENDER_FORMATS = {"report": "html", "svg": "svg", "flame": "flame.svg"}

EXIT_OK = 0
EXIT_START = 1
EXIT_USAGE = 2

# plop-render's exit codes (see its --help).
RENDER_EXIT_NAMES = {2: "usage error", 3: "I/O error", 4: "parse error",
                     5: "layout error", 6: "out of memory"}

# A Python 2/3 repr() of {stack: count}: the integer after each stack
# tuple's closing parenthesis.  A file or function name that itself holds
# "): N," would be counted too; for the index that rare error is worth the
# speed (135 MB/s against 7 MB/s for a pattern that skips string literals).
_REPR_COUNT = re.compile(rb"\)\s*:\s*(\d+)L?\s*(?=[,}])")
# Collapsed stacks: "root;...;leaf COUNT" per line.
_COLLAPSED_COUNT = re.compile(rb"[ \t](\d+)[ \t]*\r?$", re.M)


def find_render(explicit=None):
    """The path of plop-render: explicit (--render), then $PLOP_RENDER, then
    build/plop-render of the source tree this package lives in, then PATH.
    Returns None when none of them is an executable file; an explicit path
    that is not executable is not replaced by another one."""
    def usable(p):
        return p and os.path.isfile(p) and os.access(p, os.X_OK)

    if explicit:
        return os.path.abspath(explicit) if usable(explicit) else None
    env = os.environ.get("PLOP_RENDER")
    if env:
        return os.path.abspath(env) if usable(env) else None
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(os.path.dirname(os.path.dirname(here)),
                         "build", "plop-render")
    if usable(built):
        return built
    found = shutil.which("plop-render")
    return os.path.abspath(found) if found else None


def count_samples(path, size):
    """The sum of the counts in the profile at path, or None when it is too
    big to count for the index or is not readable.  An approximation for
    display: plop-render is the authority on what the file holds."""
    if size == 0:
        return 0
    if size > COUNT_LIMIT:
        return None
    try:
        with open(path, "rb") as f:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                head = m[:4096].lstrip()
                pattern = (_REPR_COUNT if head.startswith(b"{")
                           else _COLLAPSED_COUNT)
                return sum(int(n) for n in pattern.findall(m))
    except (OSError, ValueError):
        return None


class DataDir:
    """The profiles of one directory and the rule deciding which names are
    served (see the module docstring)."""

    def __init__(self, path):
        self.real = os.path.realpath(path)

    def resolve(self, name):
        """The real path of profile `name`, or None if `name` is not one of
        the listed profiles.  `name` is a decoded URL segment."""
        if (not name or name.startswith(".") or "/" in name or "\\" in name
                or "\0" in name or name.endswith(RENDERED_SUFFIXES)):
            return None
        candidate = os.path.join(self.real, name)
        real = os.path.realpath(candidate)
        if not real.startswith(self.real.rstrip(os.sep) + os.sep):
            return None
        try:
            st = os.stat(real)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        return real

    def profiles(self):
        """[(name, real path, os.stat_result)], newest first."""
        out = []
        try:
            names = os.listdir(self.real)
        except OSError:
            return out
        for name in names:
            real = self.resolve(name)
            if real is None:
                continue
            try:
                out.append((name, real, os.stat(real)))
            except OSError:
                continue
        out.sort(key=lambda e: (-e[2].st_mtime_ns, e[0]))
        return out


class RenderError(Exception):
    """plop-render failed; message is what to show the user.  lasting: the
    same input would fail the same way (plop-render exited with an error),
    so the failure is cached like a render; otherwise (a timeout, a kill,
    a failure to start it) the next request tries again."""

    def __init__(self, message, status, lasting=False):
        Exception.__init__(self, message)
        self.message = message
        self.status = status
        self.lasting = lasting


def _file_key(st):
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class RenderCache:
    """Rendered reports and SVGs, one current entry per (profile, format).

    An entry is valid while the profile's (dev, inode, size, mtime) and
    plop-render's own (inode, mtime) are what they were when it was made.
    Entries are files in self.dir named after a hash of that key (so a
    --cache-dir reused by a later run still hits), or, for a failed render,
    the error kept in memory.  When a profile changes, its previous file is
    removed.  Memory: one entry per profile and format ever requested."""

    def __init__(self, render, cache_dir):
        self.render = render
        self.dir = cache_dir
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running = 0
        self._locks = {}
        self._entries = {}
        self._procs = set()
        self._counts = {}
        self.closed = False

    def _render_key(self):
        try:
            st = os.stat(self.render)
            return (st.st_ino, st.st_mtime_ns)
        except OSError:
            return (0, 0)

    def _slot_lock(self, slot):
        with self._lock:
            lock = self._locks.get(slot)
            if lock is None:
                lock = self._locks[slot] = threading.Lock()
            return lock

    def samples(self, real, st):
        key = (real,) + _file_key(st)
        with self._lock:
            if real in self._counts and self._counts[real][0] == key:
                return self._counts[real][1]
        n = count_samples(real, st.st_size)
        with self._lock:
            self._counts[real] = (key, n)
        return n

    def get(self, datadir, real, ext):
        """(path of the rendered file, hit) for profile `real` in format
        `ext` (a -T format of RENDER_FORMATS), rendering it if needed.
        Raises RenderError when plop-render fails or the profile
        vanished."""
        slot = (real, ext)
        with self._slot_lock(slot):
            for _ in range(3):
                try:
                    st = os.stat(real)
                except OSError as e:
                    raise RenderError("cannot read '%s': %s" % (
                        os.path.basename(real), e.strerror), 404)
                key = (real, ext) + _file_key(st) + self._render_key()
                digest = hashlib.sha256(repr(key).encode("utf-8",
                        "surrogateescape")).hexdigest()[:40]
                out = os.path.join(self.dir, "%s.%s" % (digest, ext))
                old = self._entries.get(slot)
                if old is not None and old[0] == digest:
                    if isinstance(old[1], RenderError):
                        raise old[1]
                    if os.path.exists(out):
                        return out, True
                if old is None and os.path.exists(out):
                    self._entries[slot] = (digest, out)
                    return out, True
                try:
                    self._run(datadir, real, out, ext)
                    result = out
                except RenderError as e:
                    result = e
                try:
                    after = _file_key(os.stat(real))
                except OSError:
                    after = None
                if after != _file_key(st):
                    # The profile changed while it was rendered: the output
                    # may be of either version, so render again.
                    if result is out:
                        _unlink(out)
                    continue
                if old is not None and old[0] != digest and \
                        not isinstance(old[1], RenderError):
                    _unlink(old[1])
                if isinstance(result, RenderError):
                    if result.lasting:
                        self._entries[slot] = (digest, result)
                    raise result
                self._entries[slot] = (digest, result)
                return out, False
            raise RenderError("'%s' keeps changing; try again" %
                              os.path.basename(real), 503)

    def _run(self, datadir, real, out, ext):
        # Run in DIR with the name relative to it, so that plop-render's
        # diagnostics read "NAME:LINE:COL: error: ..." without DIR's path.
        rel = os.path.relpath(real, datadir.real)
        if rel.startswith("-"):
            rel = os.path.join(".", rel)
        with self._lock:
            if self.closed:
                raise RenderError("the viewer is stopping", 503)
            self._running += 1
        try:
            self._run_in(datadir, rel, out, ext)
        finally:
            with self._lock:
                self._running -= 1
                self._idle.notify_all()

    def _run_in(self, datadir, rel, out, ext):
        try:
            fd, tmp = tempfile.mkstemp(prefix="tmp-", suffix="." + ext,
                                       dir=self.dir)
        except OSError as e:
            raise RenderError("cannot write into the cache '%s': %s"
                              % (self.dir, e.strerror or e), 500)
        os.close(fd)
        argv = [self.render, rel, "-T", ext, "-o", tmp]
        try:
            proc = subprocess.Popen(
                argv, cwd=datadir.real,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE)
            with self._lock:
                if self.closed:
                    proc.kill()
                self._procs.add(proc)
            try:
                _, err = proc.communicate(timeout=RENDER_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise RenderError("plop-render took more than %d s on '%s'"
                                  % (RENDER_TIMEOUT, rel), 504)
            finally:
                with self._lock:
                    self._procs.discard(proc)
            if proc.returncode != 0:
                text = err.decode("utf-8", "replace").rstrip()
                if proc.returncode < 0:
                    what = "killed by signal %d" % -proc.returncode
                else:
                    what = "exit %d, %s" % (proc.returncode,
                        RENDER_EXIT_NAMES.get(proc.returncode, "failure"))
                if not text:
                    text = "plop-render failed on '%s'" % rel
                status = 422 if proc.returncode == 4 else 500
                raise RenderError("%s\n(plop-render: %s)" % (text, what),
                                  status, lasting=proc.returncode > 0)
            if os.path.getsize(tmp) == 0:
                raise RenderError("plop-render wrote nothing for '%s'" % rel,
                                  500)
            os.replace(tmp, out)
        except OSError as e:
            raise RenderError("cannot run '%s': %s" % (self.render,
                              e.strerror or e), 500)
        finally:
            _unlink(tmp)

    def close(self, timeout=10.0):
        """Kills renders still running and waits (at most timeout seconds)
        until their threads have cleaned up, so that the cache directory
        can be removed; no render starts afterwards."""
        with self._lock:
            self.closed = True
            procs = list(self._procs)
        for p in procs:
            try:
                p.kill()
            except OSError:
                pass
        with self._lock:
            self._idle.wait_for(lambda: self._running == 0, timeout)


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _human_size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else (
                "%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; }
table { border-collapse: collapse; }
th, td { padding: 0.3em 0.8em; text-align: left;
         border-bottom: 1px solid #ddd; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #fff4f4; border: 1px solid #e0b4b4; padding: 1em;
      overflow-x: auto; }
.muted { color: #777; }
"""


def _page(title, body):
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>%s</title><style>%s</style></head><body>\n%s\n"
            "</body></html>\n" % (html.escape(title), _STYLE, body))


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "plop-viewer"
    protocol_version = "HTTP/1.1"

    # Set on the subclass made by make_server().
    datadir = None
    cache = None
    quiet = False
    loopback_only = True

    def log_message(self, fmt, *args):
        if not self.quiet:
            http.server.BaseHTTPRequestHandler.log_message(self, fmt, *args)

    def do_GET(self):
        self._dispatch(head=False)

    def do_HEAD(self):
        self._dispatch(head=True)

    def _dispatch(self, head):
        if self.loopback_only and not _loopback_host(self.headers.get("Host")):
            # DNS rebinding: a web page whose name resolves to 127.0.0.1
            # must not read the profiles through the visitor's browser.
            return self._send(403, "text/plain; charset=utf-8",
                              "forbidden: unexpected Host header\n", head)
        try:
            path = urllib.parse.urlsplit(self.path).path
        except ValueError:
            path = ""
        if path in ("/", "/index.html"):
            return self._index(head)
        # Split before decoding: "%2f" stays inside one segment and is then
        # refused by DataDir.resolve, like any other '/' in a name.
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "" and parts[1] in (
                "report", "svg", "flame", "raw"):
            try:
                name = urllib.parse.unquote(parts[2], errors="strict")
            except UnicodeDecodeError:
                name = None
            real = self.datadir.resolve(name) if name else None
            if real is not None:
                if parts[1] == "raw":
                    return self._send_file(real, "text/plain; charset=utf-8",
                                           head)
                ext = RENDER_FORMATS[parts[1]]
                return self._rendered(name, real, ext, head)
        self._send(404, "text/html; charset=utf-8",
                   _page("not found", "<h1>404: not found</h1>"
                         "<p><a href=\"/\">all profiles</a></p>"), head)

    def _index(self, head):
        rows = []
        for name, real, st in self.datadir.profiles():
            n = self.cache.samples(real, st)
            q = urllib.parse.quote(name, safe="")
            rows.append(
                "<tr><td><a href=\"/report/%s\">%s</a></td>"
                "<td><a href=\"/svg/%s\">graph</a> "
                "<a href=\"/flame/%s\">flame</a> "
                "<a href=\"/raw/%s\">raw</a></td>"
                "<td class=\"num\">%s</td><td class=\"num\">%s</td>"
                "<td>%s</td></tr>" % (
                    q, html.escape(name), q, q, q, _human_size(st.st_size),
                    "&mdash;" if n is None else "{:,}".format(n),
                    time.strftime("%Y-%m-%d %H:%M:%S",
                                  time.localtime(st.st_mtime))))
        if rows:
            table = ("<table><thead><tr><th>profile</th><th></th>"
                     "<th>size</th><th>samples</th><th>date</th></tr></thead>"
                     "<tbody>\n%s\n</tbody></table>" % "\n".join(rows))
        else:
            table = "<p class=\"muted\">no profiles yet</p>"
        body = ("<h1>plop profiles</h1><p class=\"muted\">%s &middot; "
                "%d profile%s, newest first</p>\n%s" % (
                    html.escape(self.datadir.real), len(rows),
                    "" if len(rows) == 1 else "s", table))
        self._send(200, "text/html; charset=utf-8",
                   _page("plop profiles", body), head)

    def _rendered(self, name, real, ext, head):
        try:
            path, hit = self.cache.get(self.datadir, real, ext)
        except RenderError as e:
            body = ("<h1>cannot render %s</h1><pre>%s</pre>"
                    "<p><a href=\"/\">all profiles</a></p>" % (
                        html.escape(name), html.escape(e.message)))
            return self._send(e.status, "text/html; charset=utf-8",
                              _page("error: " + name, body), head)
        ctype = ("text/html; charset=utf-8" if ext == "html"
                 else "image/svg+xml")
        extra = {"X-Plop-Cache": "hit" if hit else "miss"}
        if ext != "html":
            extra["Content-Security-Policy"] = (
                "default-src 'none'; style-src 'unsafe-inline'")
        self._send_file(path, ctype, head, extra)

    def _send(self, status, ctype, text, head, extra=None):
        data = text.encode("utf-8")
        self._headers(status, ctype, len(data), extra)
        if not head:
            self.wfile.write(data)

    def _send_file(self, path, ctype, head, extra=None):
        try:
            f = open(path, "rb")
        except OSError:
            return self._send(404, "text/html; charset=utf-8",
                              _page("not found", "<h1>404: not found</h1>"),
                              head)
        with f:
            size = os.fstat(f.fileno()).st_size
            self._headers(200, ctype, size, extra)
            if not head:
                shutil.copyfileobj(f, self.wfile, 1 << 16)

    def _headers(self, status, ctype, length, extra):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(datadir, address, port, cache, quiet=False):
    """A server for DataDir `datadir` bound to (address, port); port 0 picks
    a free one (server.server_address says which)."""
    handler = type("BoundHandler", (Handler,), {
        "datadir": datadir, "cache": cache, "quiet": quiet,
        "loopback_only": _is_loopback(address)})
    cls = _Server6 if ":" in address else _Server
    return cls((address, port), handler)


class _Stop(BaseException):
    """SIGTERM: not an Exception, so that no "except Exception" on the way
    (socketserver has several) swallows it."""


def _on_sigterm(signum, frame):
    raise _Stop()


def _is_loopback(address):
    """'localhost' or a loopback IP address literal (not a name that
    merely starts with '127.')."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _loopback_host(host):
    """Whether a Host header names this machine's loopback interface (with
    or without a port); None (HTTP/1.0 without Host) is accepted."""
    if host is None:
        return True
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return _is_loopback(name)


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
        if not _is_loopback(args.address):
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
