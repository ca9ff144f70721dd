#!/usr/bin/env python3
"""gen_profile.py: synthetic plop profiles of a realistic shape.

Writes what plop's collector writes: the Python 3 repr() of a dict
{stack: count}, each stack a leaf-first tuple of (filename, lineno,
funcname) (or, with --format collapsed, "root;...;leaf COUNT" lines with
frames as "func (file:line)").

Shape: a made-up program of modules under long site-packages paths (some
with non-ASCII names), whose functions call each other through fixed call
sites.  Stacks are random walks down that call graph from a shared
interpreter prefix (runpy, a server loop), so they share long prefixes,
run 5 to ~60 frames deep, recurse now and then, and have Zipf-distributed
counts.  Everything comes from one seeded random.Random: the same
arguments give the same bytes on every run and Python version.

    gen_profile.py --stacks 2000 -o /tmp/p2k.out
    gen_profile.py --size huge -o /tmp/p500k.out      # ~700 MB

Sizes: tiny 50, small 2,000, medium 50,000, huge 500,000 stacks.
"""

import argparse
import random
import sys

SIZES = {"tiny": 50, "small": 2000, "medium": 50000, "huge": 500000}

PREFIX = [
    ("<frozen runpy>", 198, "_run_module_as_main"),
    ("<frozen runpy>", 88, "_run_code"),
    ("/srv/app/bin/serve.py", 41, "<module>"),
    ("/srv/app/bin/serve.py", 33, "main"),
]

WORDS = ("request handler parse render query cache session model view "
         "encode decode stream buffer worker task queue index search "
         "token schema field record batch update commit fetch load store "
         "compile match route filter merge split format resolve").split()

PACKAGES = ("django/db/models", "django/template", "sqlalchemy/orm",
            "requests/adapters", "json", "app/services", "app/handlers",
            "numpy/core", "app/wörk/données", "app/日本語/処理",
            "urllib3/connectionpool", "email/mime", "app/utils")


def make_program(rng, nfuncs):
    """Returns (funcs, callees): funcs[i] = (file, def_line, name)."""
    nfiles = max(3, nfuncs // 12)
    files = []
    for i in range(nfiles):
        pkg = PACKAGES[i % len(PACKAGES)]
        base = ("/home/deploy/.cache/venvs/production-service-%d/lib/"
                "python3.11/site-packages" % (i % 3))
        files.append("%s/%s/%s_%s_%d.py" % (base, pkg, rng.choice(WORDS),
                                           rng.choice(WORDS), i))
    funcs = []
    for i in range(nfuncs):
        name = "%s_%s" % (rng.choice(WORDS), rng.choice(WORDS))
        if i % 17 == 0:
            name = "<lambda>"
        elif i % 29 == 0:
            name = "<listcomp>"
        elif i % 31 == 0:
            name = "Überprüfung_%d" % i
        funcs.append((files[rng.randrange(nfiles)], rng.randrange(1, 3000),
                      name))
    # Call graph: each function calls a few others, mostly "deeper" ones
    # (higher index) so walks terminate, sometimes itself (recursion).
    callees = []
    for i in range(nfuncs):
        n = rng.choice((0, 1, 2, 2, 3, 3, 4, 6, 9))
        sites = []
        for _ in range(n):
            if rng.random() < 0.04:
                j = i
            else:
                span = max(1, nfuncs - i - 1)
                j = min(nfuncs - 1, i + 1 + int(rng.paretovariate(1.2)) % span)
            sites.append((j, funcs[i][1] + rng.randrange(1, 80)))
        callees.append(sites)
    return funcs, callees


def walk(rng, funcs, callees, nroots):
    """One stack, root first, as a list of (func index, line)."""
    f = rng.randrange(nroots)
    stack = []
    depth_goal = 5 + int(rng.expovariate(1 / 10.0))
    while True:
        sites = callees[f]
        if not sites or len(stack) >= depth_goal or len(stack) > 60:
            stack.append((f, funcs[f][1] + rng.randrange(1, 120)))
            return stack
        # Zipf-like preference for the first call sites: shared prefixes.
        k = min(len(sites) - 1, int(rng.paretovariate(1.5)) - 1)
        j, line = sites[k]
        stack.append((f, line))
        f = j


def zipf_count(rng):
    return max(1, int(rng.paretovariate(1.1)))


def frame_repr(file, line, name):
    return "(%r, %d, %r)" % (file, line, name)


def frame_collapsed(file, line, name):
    return "%s (%s:%d)" % (name, file, line)


def generate(nstacks, seed, out, fmt):
    rng = random.Random(seed)
    nfuncs = max(40, min(40000, nstacks // 4))
    funcs, callees = make_program(rng, nfuncs)
    nroots = max(2, nfuncs // 50)
    seen = set()
    fcache = {}
    # A walk can repeat; cap the attempts so small programs still finish.
    attempts = 0
    if fmt == "repr":
        out.write("{")
    first = True
    while len(seen) < nstacks and attempts < nstacks * 50:
        attempts += 1
        stack = tuple(walk(rng, funcs, callees, nroots))
        if stack in seen:
            continue
        seen.add(stack)
        count = zipf_count(rng)
        parts = []
        for f, line in stack:
            key = (f, line)
            s = fcache.get(key)
            if s is None:
                file, _, name = funcs[f]
                if fmt == "repr":
                    s = frame_repr(file, line, name)
                else:
                    s = frame_collapsed(file, line, name)
                fcache[key] = s
            parts.append(s)
        if fmt == "repr":
            pre = [frame_repr(*p) for p in PREFIX]
            frames = parts[::-1] + pre[::-1]
            out.write("%s(%s): %d" % ("" if first else ", ",
                                       ", ".join(frames), count))
        else:
            pre = [frame_collapsed(*p) for p in PREFIX]
            out.write("%s %d\n" % (";".join(pre + parts), count))
        first = False
    if fmt == "repr":
        out.write("}")
    return len(seen)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stacks", type=int, help="number of distinct stacks")
    ap.add_argument("--size", choices=sorted(SIZES), help="a preset size")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--format", choices=("repr", "collapsed"), default="repr")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    n = a.stacks if a.stacks is not None else SIZES.get(a.size, 2000)
    with open(a.output, "w", encoding="utf-8", buffering=1 << 20) as out:
        got = generate(n, a.seed, out, a.format)
    if got < n:
        print("gen_profile: only %d distinct stacks" % got, file=sys.stderr)


if __name__ == "__main__":
    main()
