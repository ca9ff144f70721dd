"""unit.py: runs CPython regression tests by unittest name and reports them.

The program that tests/foreign/run.py starts, plainly or under
`python -m plop.collector`: the same file either way, so the two runs differ
only by the profiler.  Writes {"run": N, "skipped": N, "bad": [ids]} as JSON
to $PLOP_FOREIGN_RESULT (the ids of tests that failed, raised or passed
unexpectedly) and exits 0 whatever the tests did: the caller compares.
"""
import json
import os
import sys
import unittest


def main(names):
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromNames(names)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=1)
    result = runner.run(suite)
    bad = [test.id() for test, _ in result.failures + result.errors]
    bad += [test.id() for test in result.unexpectedSuccesses]
    with open(os.environ["PLOP_FOREIGN_RESULT"], "w") as f:
        json.dump({"run": result.testsRun, "skipped": len(result.skipped),
                   "bad": sorted(set(bad))}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
