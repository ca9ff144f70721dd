"""plop.collector: the public API, where README and plop 0.4 import from.

    from plop.collector import Collector, write_profile
    with Collector(interval=0.01, mode='prof') as c:
        work()
    write_profile(c.stack_counts, '/tmp/plop.out')

    python -m plop.collector [options] script.py [args...]
    python -m plop.collector [options] -m module [args...]

Each name lives in the module that does its job, and is re-exported here:

    plop.sampling     Collector (the C sampler's Python face), MODES
    plop.profile_io   write_profile, format_profile, FORMATS
    plop.formatters   PlopFormatter, FlamegraphFormatter, CollectorFormatter
                      (plop 0.3/0.4)
    plop.toggle       install_signal_toggle
    plop.checkpoint   DEFAULT_FLUSH_INTERVAL, the periodic rewrite
    plop.cli          main, EXIT_USAGE, EXIT_WRITE_FAILED: the command line

Nothing imports this module back, so there is no import cycle; the
toggle is imported only when used.
"""
import sys

from plop.checkpoint import DEFAULT_FLUSH_INTERVAL
from plop.cli import EXIT_USAGE, EXIT_WRITE_FAILED, main
from plop.formatters import (CollectorFormatter, FlamegraphFormatter,
                             PlopFormatter)
from plop.profile_io import FORMATS, format_profile, write_profile
from plop.sampling import (DEFAULT_MAX_DEPTH, DEFAULT_MAX_STACKS, MODES,
                           Collector)

__all__ = ["Collector", "write_profile", "format_profile",
           "install_signal_toggle", "FORMATS", "MODES", "main",
           "PlopFormatter", "FlamegraphFormatter", "CollectorFormatter",
           "EXIT_USAGE", "EXIT_WRITE_FAILED", "DEFAULT_MAX_STACKS",
           "DEFAULT_MAX_DEPTH", "DEFAULT_FLUSH_INTERVAL"]

def install_signal_toggle(signum, output="/tmp/plop.out", format="plop",
                          duration=None, flush_interval=DEFAULT_FLUSH_INTERVAL,
                          **collector_kwargs):
    """Lets signal `signum` switch profiling on and off in this process;
    see plop.toggle.install_signal_toggle."""
    from plop import toggle
    return toggle.install_signal_toggle(signum, output=output, format=format,
                                        duration=duration,
                                        flush_interval=flush_interval,
                                        **collector_kwargs)


if __name__ == "__main__":
    sys.exit(main())
