"""A test-only stand-in for the `six` package, for
tests/python/test_plop04_collector_test.py only.

plop 0.4's collector test imports six for one call, six.iteritems(d) (its
collector used six too; ours does not).  PyPI is not reachable here, so this
file provides that one function with six's meaning: an iterator over the
items of a dict on both 2.7 and 3.x.  The test imports it only when a real
six is not installed; nothing else may import it.
"""


def iteritems(d, **kw):
    items = getattr(d, "iteritems", None)
    if items is not None:   # Python 2
        return items(**kw)
    return iter(d.items(**kw))
