#!/usr/bin/env python3
"""make_hostile.py: writes a plop profile (Python 3 repr of {stack: count})
whose function and file names try to break out of the HTML report: script
tags, a bare </script>, comment openers, quotes, entities, an event-handler
attribute, U+2028 and non-ASCII text.  The browser tests render it and check
that every name shows up as text and no script runs.

    make_hostile.py OUT
"""
import sys

NAMES = [
    "<script>alert(1)</script>",
    "</script><script>alert(2)</script>",
    "<img src=x onerror=alert(3)>",
    "\"double\" 'single' `back`",
    "<!-- not a comment -->",
    "&amp; &lt;b&gt; &#x41;",
    "w\u00f6rk_\u51fd\u6570_\U0001f525",
    "line\u2028sep\u2029para",
    "]]></svg><script>alert(4)</script>",
]
FILE = "/tmp/<b>evil</b>/x'\"&.py"


def main():
    root = ("/srv/app.py", 1, "main")
    stacks = {}
    for i, name in enumerate(NAMES):
        leaf = (FILE, 10 + i, name)
        mid = ("/srv/app.py", 100 + i, "call_%d" % i)
        stacks[(leaf, mid, root)] = 10 + i
    # One name as a caller too, so it is an inner node and a flame parent.
    stacks[(("/srv/deep.py", 5, "inner"), (FILE, 10, NAMES[0]),
            ("/srv/app.py", 100, "call_0"), root)] = 7
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write(repr(stacks))
        f.write("\n")


if __name__ == "__main__":
    main()
