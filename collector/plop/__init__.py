"""plop: a low-overhead sampling profiler for Python.

plop.collector holds the API (Collector, write_profile) and the command line
`python -m plop.collector`; the sampling core is the C extension
plop._collector.
"""
__version__ = "1.0.0"
