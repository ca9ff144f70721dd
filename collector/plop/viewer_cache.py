"""plop.viewer_cache: plop-render's outputs for the viewer, rendered on
first request and kept until the profile or plop-render changes.

Renders go to a cache directory outside DIR (a private temporary directory
removed on exit, or --cache-dir to keep them across runs), are written under
a temporary name and renamed into place, and at most one render per profile
and format runs at a time.  plop-render's error message for a malformed
profile is kept in memory with the same key (the page shows it with status
422; 500 for other render failures); a timeout or a killed render is not
kept, the next request tries again.  The index's sample counts are cached
here too (plop.viewer_files.count_samples).
"""
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading

from plop.viewer_files import count_samples

RENDER_TIMEOUT = 300.0

# plop-render's exit codes (see its --help).
RENDER_EXIT_NAMES = {2: "usage error", 3: "I/O error", 4: "parse error",
                     5: "layout error", 6: "out of memory"}


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
