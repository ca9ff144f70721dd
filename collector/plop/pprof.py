"""plop.pprof: a profile as pprof's profile.proto, gzip'd, in pure Python.

The format of `go tool pprof`, Pyroscope, Parca and Google Cloud Profiler
(github.com/google/pprof/proto/profile.proto).  Encoded here with the
standard library (gzip and a few lines of protobuf varints) rather than by
calling plop-render: the collector works where plop-render is not built
(a `pip install` of the extension alone), and the toggle and the
checkpoints write from inside the profiled process, which should not
start a subprocess.  plop-render's writer (render/pprof_write.c) makes
the same profile; tests/interop checks that both read back the same.

What is written:
- sample types samples/count and TYPE/nanoseconds, TYPE being "cpu" in
  the CPU modes and "wall" in mode 'real'; the second value is
  count x interval; period type TYPE/nanoseconds, period the interval;
- one Function per function, as plop-render's graph has them (graph.c):
  when the lines are first lines (every <module> frame at line 0 or 1:
  the collector's default, lines=False) a function is (file, name, line);
  with running lines it is (file, name) with the smallest line seen as
  start line, except anonymous code objects (<listcomp>, <lambda>, ...),
  which keep their line;
- one Location per (function, line), that is per distinct frame;
- one Sample per stack, leaf first; one Mapping marked as symbolized;
- comments: "plop VERSION" and any given.
The bytes depend on the stacks only (sorted; gzip without a time stamp).
"""
import gzip
import io

from plop import compat

__all__ = ["encode_pprof"]


def _varint(out, v):
    while v >= 0x80:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)


def _uint(out, field, v):
    """Field `field` as a varint, left out when 0 (proto3's default)."""
    if v:
        _varint(out, field << 3)
        _varint(out, v)


def _bytes(out, field, data):
    _varint(out, (field << 3) | 2)
    _varint(out, len(data))
    out.extend(data)


def _packed(out, field, values):
    body = bytearray()
    for v in values:
        _varint(body, v)
    _bytes(out, field, body)


def _utf8(s):
    if isinstance(s, bytes):
        return s
    if compat.PY2:
        return s.encode("utf-8")
    return s.encode("utf-8", "surrogateescape")


def _is_anonymous(name):
    """<listcomp>, <lambda>, <genexpr>...: a file has many, one name."""
    name = _utf8(name)
    return len(name) > 1 and name[:1] == b"<" and name != b"<module>"


class _Strings(object):
    def __init__(self):
        self.index = {b"": 0}
        self.table = [b""]

    def __call__(self, s):
        s = _utf8(s)
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.table)
            self.table.append(s)
        return i


def _records_first_lines(frames):
    """plop-render's rule (graph.c, records_first_lines()): the lines are
    the functions' first lines when there is a <module> frame with a file
    and every such frame is at line 0 or 1."""
    seen = False
    for filename, line, name in frames:
        if _utf8(name) == b"<module>" and filename:
            if line > 1:
                return False
            seen = True
    return seen


def encode_pprof(stack_counts, interval=0.01, mode="prof", comments=()):
    """The gzip'd profile.proto of {stack: count} (leaf-first stacks of
    (filename, line, name)), sampled every `interval` seconds in `mode`.
    Cost: two dictionary look-ups per frame of each stack; the work per
    distinct frame (names, functions) is done once."""
    import plop
    period = int(round(interval * 1e9))
    strings = _Strings()
    kind = "wall" if mode == "real" else "cpu"
    items = [(tuple(s), n) for s, n in stack_counts.items() if n]

    # Locations: one per distinct frame, numbered in the frames' order, so
    # the bytes depend on the stacks only (not on the dict's order).
    distinct = set()
    for stack, _ in items:
        distinct.update(stack)
    try:
        frames = sorted(distinct)
    except TypeError:   # str and bytes names mixed: any fixed order will do
        frames = sorted(distinct, key=repr)
    loc_of = dict((fr, i + 1) for i, fr in enumerate(frames))
    stacks = sorted((tuple(map(loc_of.__getitem__, stack)), n)
                    for stack, n in items)

    # Functions: (file, name[, line]) -> smallest line.
    first_lines = _records_first_lines(frames)
    fkey_of = []
    start_line = {}
    for filename, line, name in frames:
        key = (_utf8(filename), _utf8(name),
               line if first_lines or _is_anonymous(name) else None)
        fkey_of.append(key)
        if key not in start_line or line < start_line[key]:
            start_line[key] = line
    fids = dict((k, i + 1) for i, k in enumerate(sorted(
        start_line, key=lambda k: (k[0], k[1], k[2] or 0))))

    out = bytearray()
    for t, u in (("samples", "count"), (kind, "nanoseconds")):
        vt = bytearray()
        _uint(vt, 1, strings(t))
        _uint(vt, 2, strings(u))
        _bytes(out, 1, vt)
    varints = [b""]
    for lid in range(1, len(frames) + 1):
        v = bytearray()
        _varint(v, lid)
        varints.append(bytes(v))
    for ids, n in stacks:
        ids = b"".join(map(varints.__getitem__, ids))
        sample = bytearray()
        _bytes(sample, 1, ids)
        _packed(sample, 2, [n, n * period])
        _bytes(out, 2, sample)
    mapping = bytearray()
    for field in (1, 7, 8, 9):      # id 1, has functions, files, lines
        _uint(mapping, field, 1)
    _bytes(out, 3, mapping)
    for i, (filename, line, name) in enumerate(frames):
        ln = bytearray()
        _uint(ln, 1, fids[fkey_of[i]])
        _uint(ln, 2, line)
        loc = bytearray()
        _uint(loc, 1, i + 1)
        _uint(loc, 2, 1)
        _bytes(loc, 4, ln)
        _bytes(out, 4, loc)
    for key, fid in sorted(fids.items(), key=lambda kv: kv[1]):
        fn = bytearray()
        _uint(fn, 1, fid)
        # No system name: pprof would "demangle" a copy of the name and
        # strip <...> from it as C++ template arguments.
        _uint(fn, 2, strings(key[1]))
        _uint(fn, 4, strings(key[0]))
        _uint(fn, 5, start_line[key])
        _bytes(out, 5, fn)
    notes = [strings("plop " + plop.__version__)]
    notes += [strings(c) for c in comments]
    period_type = bytearray()
    _uint(period_type, 1, strings(kind))
    _uint(period_type, 2, strings("nanoseconds"))
    for s in strings.table:
        _bytes(out, 6, s)
    _bytes(out, 11, period_type)
    _uint(out, 12, period)
    for c in notes:
        _varint(out, 13 << 3)
        _varint(out, c)
    _uint(out, 14, strings.index[_utf8(kind)])

    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(bytes(out))
    return buf.getvalue()
