"""plop.formatters: the output classes of plop 0.3/0.4, for code written
against them (`from plop.collector import PlopFormatter`).

    PlopFormatter(max_stacks=50).format(collector)   # repr of a dict
    FlamegraphFormatter().store(collector, "out.flame")

format(collector) returns the text, store(collector, filename) writes it;
both read collector.stack_counts, so they take any plop Collector.  The
text is what plop.profile_io writes, with these differences kept from 0.4:

- PlopFormatter.format returns the repr with no newline at the end, most
  frequent stack first, and keeps only the max_stacks most frequent stacks
  (default 50, as 0.4's argument and its CLI's --max-stacks said).  0.4
  ignored the argument and always kept 50: here the argument is honoured,
  and None keeps every stack.  Stacks of equal count come in a fixed order
  (by stack), not in 0.4's order of first appearance.
- FlamegraphFormatter.format: one line per distinct stack with its total,
  sorted.  0.4 wrote one line per run of identical consecutive samples
  and began with a bogus "None 1" line; flamegraph.pl and plop-render add
  up repeated lines, so the graphs are the same, without the bogus frame.

store() writes atomically (plop.profile_io.write_bytes), as UTF-8; 0.4
truncated the file in place.
"""
from plop.profile_io import encode_profile, write_bytes

__all__ = ["CollectorFormatter", "PlopFormatter", "FlamegraphFormatter"]


class CollectorFormatter(object):
    """Base of the output formats: subclasses define format()."""

    def format(self, collector):
        raise NotImplementedError("not implemented")

    def store(self, collector, filename):
        write_bytes(encode_profile(self.format(collector)), filename)


class PlopFormatter(CollectorFormatter):
    """repr() of {stack: count} for the max_stacks most frequent stacks
    (None: all), the format of plop.viewer and plop-render."""

    def __init__(self, max_stacks=50):
        self.max_stacks = max_stacks

    def format(self, collector):
        # most frequent first, as 0.4 wrote them; ties in a fixed order
        kept = sorted(collector.stack_counts.items(),
                      key=lambda kv: (-kv[1], kv[0]))
        if self.max_stacks is not None:
            kept = kept[:self.max_stacks]
        # ints, as 0.4 counted them (2.7's C extension counts in longs)
        return repr(dict((k, int(v)) for k, v in kept))


class FlamegraphFormatter(CollectorFormatter):
    """Collapsed stacks for flamegraph.pl: "root;...;leaf COUNT" lines,
    each frame "name (file:line)"."""

    def format(self, collector):
        agg = {}
        for stack, count in collector.stack_counts.items():
            key = self.format_flame(stack)
            agg[key] = agg.get(key, 0) + count
        return "".join("%s %d\n" % (k, agg[k]) for k in sorted(agg))

    def format_flame(self, stack):
        """One leaf-first stack as a root-first collapsed line (no count)."""
        return ";".join("%s (%s:%d)" % (name, filename, line)
                        for filename, line, name in reversed(stack))
