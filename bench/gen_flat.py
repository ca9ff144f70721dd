#!/usr/bin/env python3
"""gen_flat.py: synthetic flat profiles, where the time is spread thinnest.

A server whose dispatcher calls N handlers with Zipf self samples (handler
i: 1 + 20000 // (i + 1) samples), written as collapsed stacks ("root;...;
leaf COUNT", frames as "func (file:line)").  Options:

  --chain K      each handler runs through K frames of its own (impl_I_0,
                 ...) before the leaf that holds its samples
  --helpers M    each handler keeps half of its samples and hands the rest
                 to three of M shared helpers (hot code that is connected)

Deterministic: the same arguments give the same bytes.

    gen_flat.py --handlers 10000 -o /tmp/fan10k.txt
    gen_flat.py --handlers 10000 --helpers 300 -o /tmp/helpers10k.txt
"""
import argparse
import sys

PREFIX = ("serve_forever (/srv/lib/server.py:10);handle (/srv/lib/server.py:"
          "40);dispatch (/srv/lib/router.py:7)")


def zipf_server(n, chain=0, helpers=0):
    lines = []
    for i in range(n):
        h = "%s;handler_%d (/srv/app/views/v%d.py:%d)" % (PREFIX, i, i % 97,
                                                         10 + i)
        h += "".join(";impl_%d_%d (/srv/app/impl/m%d.py:%d)"
                     % (i, k, i % 97, 5 + k) for k in range(chain))
        c = 1 + 20000 // (i + 1)
        if not helpers:
            lines.append("%s %d" % (h, c))
            continue
        lines.append("%s %d" % (h, (c + 1) // 2))
        for j in range(3):
            k = (i * 7 + j * 13) % helpers
            lines.append("%s;helper_%d (/srv/app/util%d.py:%d) %d"
                         % (h, k, k % 11, 5 + k, max(1, c // 6)))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--handlers", type=int, required=True)
    ap.add_argument("--chain", type=int, default=0)
    ap.add_argument("--helpers", type=int, default=0)
    ap.add_argument("-o", dest="out", default="-")
    a = ap.parse_args()
    text = zipf_server(a.handlers, a.chain, a.helpers)
    if a.out == "-":
        sys.stdout.write(text)
    else:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
