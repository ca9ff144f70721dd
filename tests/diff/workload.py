"""The workload of the diff suite: three functions of pure-Python CPU work
called ROUNDS times each, in an order shuffled every round (with a fixed
seed) so that no fixed cycle can line up with the sampling timer, each
call long (tens of samples) so that the sample split at a call's edges
matters little.  PLOP_SLOWDOWN=k (default 1) makes
`compute` do k times its work, the change the diff must show.

Independent measurement: each function's CPU time is measured inside the
workload with time.process_time() around every call, and written as JSON
to the path in argv[1] with the process's CPU time when main() starts and
ends (`start`, `end`), so the test can compute the shares the profile should show without
reading the profile.
"""
import json
import random
import os
import sys
import time

ROUNDS = 10
WORK = 960000


# The same loop in each function, so that each holds its own self time.
def parse(n):
    x = 0
    for i in range(n):
        x = (x * 31 + i) % 1000003
    return x


def compute(n):
    x = 0
    for i in range(n):
        x = (x * 31 + i) % 1000003
    return x


def render(n):
    x = 0
    for i in range(n):
        x = (x * 31 + i) % 1000003
    return x


def main():
    slow = float(os.environ.get("PLOP_SLOWDOWN", "1"))
    cpu = {"parse": 0.0, "compute": 0.0, "render": 0.0,
           "start": time.process_time()}
    calls = [("parse", parse, WORK), ("compute", compute, int(WORK * slow)),
             ("render", render, WORK)]
    order = random.Random(1)
    for _ in range(ROUNDS):
        order.shuffle(calls)
        for name, fn, n in calls:
            t0 = time.process_time()
            fn(n)
            cpu[name] += time.process_time() - t0
    cpu["end"] = time.process_time()
    with open(sys.argv[1], "w") as f:
        json.dump(cpu, f)


if __name__ == "__main__":
    main()
