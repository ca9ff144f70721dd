"""plop.viewer_files: which files of the viewer's directory are profiles,
and the sample count shown for each in the index.

What counts as a profile: a regular file directly in DIR (or a symlink in DIR
to a regular file that is itself inside DIR) whose name does not start with
'.' and does not end in one of RENDERED_SUFFIXES -- so the SVG and HTML files
that demo/create_profile.sh leaves next to a profile are not listed as
profiles.  A NAME is served if and only if it is listed; anything else,
including '..', absolute paths, encoded slashes ('%2f') and symlinks leading
out of DIR, gets 404 and never the file.
"""
import os
import re
import stat

# Files next to profiles that are renders, not profiles.
RENDERED_SUFFIXES = (".svg", ".html", ".htm", ".png", ".pdf", ".dot",
                     ".tmp", ".css", ".js")

# Counting samples for the index reads the whole file; bigger files show
# no count rather than stall the index page.
COUNT_LIMIT = 256 << 20

# Bytes read at a time to count samples (see count_samples).
CHUNK = 1 << 20


# A Python 2/3 repr() of {stack: count}: the integer after each stack
# tuple's closing parenthesis.  A file or function name that itself holds
# "): N," would be counted too; for the index that rare error is worth the
# speed (135 MB/s against 7 MB/s for a pattern that skips string literals).
_REPR_COUNT = re.compile(rb"\)\s*:\s*(\d+)L?\s*(?=[,}])")
# Collapsed stacks: "root;...;leaf COUNT" per line.
_COLLAPSED_COUNT = re.compile(rb"[ \t](\d+)[ \t]*\r?$", re.M)


# First bytes of a raw pprof profile.proto: the tag of a Profile field with
# wire type 0 or 2 (render/pprof_read.c's pprof_sniff() uses the same rule).
_PPROF_TAGS = frozenset(bytes(bytearray([(f << 3) | w])) for f in range(1, 15)
                        for w in (0, 2))


def is_binary_profile(head):
    """Whether the first bytes of a file are a pprof profile (gzip'd, or a
    raw profile.proto): plop-render's own test (pprof_sniff())."""
    return head[:2] == b"\x1f\x8b" or (head[:1] in _PPROF_TAGS and any(
        c < 9 or 13 < c < 32 for c in bytearray(head[1:64])))


def sniff_binary(path):
    """is_binary_profile() of the file at path (False when unreadable)."""
    try:
        with open(path, "rb") as f:
            return is_binary_profile(f.read(64))
    except OSError:
        return False


def count_samples(path, size):
    """The sum of the counts in the profile at path, or None when it is too
    big to count for the index, not readable, or changed size while it was
    read (a profile rewritten in place by `curl -o`).  An approximation for
    display: plop-render is the authority on what the file holds.

    The file is read in CHUNK-byte pieces, not mapped: a mapped file that
    another process truncates kills the reader with SIGBUS.  Each piece is
    scanned up to its last separator (',' between the repr's entries, a
    newline between collapsed stacks), which no match spans, and the rest
    is carried into the next piece; memory is bounded by CHUNK plus the
    longest entry."""
    if size == 0:
        return 0
    if size > COUNT_LIMIT:
        return None
    try:
        with open(path, "rb") as f:
            return _count_stream(f, size)
    except (OSError, ValueError):
        return None


def _count_stream(f, size):
    total = 0
    seen = 0
    pattern = sep = None
    carry = b""
    while True:
        chunk = f.read(CHUNK)
        seen += len(chunk)
        if seen > size:
            return None
        if not chunk:
            break
        buf = carry + chunk if carry else chunk
        if pattern is None:
            head = buf.lstrip()
            if not head and seen < size:
                carry = buf
                continue
            if is_binary_profile(buf):
                return None     # pprof (binary): plop-render counts it
            repr_dict = head.startswith(b"{")
            pattern = _REPR_COUNT if repr_dict else _COLLAPSED_COUNT
            sep = b"," if repr_dict else b"\n"
        cut = buf.rfind(sep) + 1
        carry = buf[cut:]
        if cut:
            total += sum(int(n) for n in pattern.findall(buf, 0, cut))
    if seen != size:
        return None
    if carry and pattern is not None:
        total += sum(int(n) for n in pattern.findall(carry))
    return total


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
