"""Runs the unittest modules (test_*.py) of the directories, and the
test files, named on the command line with the current interpreter and
ends with the line "N passed, N failed" that tests/run-suites adds up.
Running no test at all is a failure.  Standard library only, so it works
on every CPython the collector supports (2.7, 3.6+).

    python tests/python/run.py tests/python [tests/viewer/test_toggle.py]
        [-k PATTERN] [-v]
"""
import argparse
import os
import sys
import unittest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("-k", dest="pattern", default=None,
                    help="only tests whose id contains PATTERN")
    ap.add_argument("-v", dest="verbose", action="store_true")
    args = ap.parse_args()

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for d in args.dirs:
        d = os.path.abspath(d)
        if os.path.isfile(d):
            d, name = os.path.split(d)
            sys.path.insert(0, d)
            suite.addTests(loader.loadTestsFromName(os.path.splitext(name)[0]))
            continue
        sys.path.insert(0, d)
        suite.addTests(loader.discover(d, pattern="test_*.py", top_level_dir=d))

    if args.pattern:
        def walk(s):
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    for u in walk(t):
                        yield u
                else:
                    yield t
        suite = unittest.TestSuite(t for t in walk(suite) if args.pattern in t.id())

    runner = unittest.TextTestRunner(verbosity=2 if args.verbose else 1)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print("%s: %d passed, %d failed, %d skipped"
          % ("py%d%d" % sys.version_info[:2], passed, failed, len(result.skipped)))
    if result.testsRun == 0:
        print("run.py: no test ran")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
