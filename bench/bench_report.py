#!/usr/bin/env python3
"""bench_report.py: size and load time of plop's HTML report.

For synthetic profiles of 2,000, 50,000 and 500,000 stacks (made by
bench/gen_profile.py, cached in --work), renders the HTML report with
plop-render and opens it in headless Chromium (playwright-core from
tests/browser, Debian's /usr/bin/chromium), and prints per profile:

    render s    plop-render's wall time for the page (parse, graph, layout)
    heat s      the same with --color heat (the colour scale is computed
                once, so it costs what the default does: the ratio is
                printed; round 1 took 8x on 120k functions)
    page MB     the page's size; target < 5 MB
    FCP ms      first contentful paint after navigation start
    ready ms    navigation start to the first frame after the page's script
                has drawn the graph, the flame graph and the table; target
                < 2,000 ms

Each page is loaded --runs times in a fresh tab; the median is printed.
Exits 1 when a target is missed.

    bench_report.py --binary build/plop-render [--sizes 2000,50000]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MAX_BYTES = 5 * 1000 * 1000
MAX_READY_MS = 2000

# Loads each page given on the command line RUNS times; prints one JSON
# line per page: {"fcp": [...], "ready": [...]}.  Every request that is not
# file: or data: is failed (and counted), as in the browser tests.
LOADER = r"""
const { chromium } = require("playwright-core");
const fs = require("fs"), os = require("os"), path = require("path");
(async () => {
  const runs = +process.argv[1];
  const pages = process.argv.slice(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plop-bench-"));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true, viewport: { width: 1400, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"] });
  for (const file of pages) {
    const res = { fcp: [], ready: [], blocked: 0, errors: [] };
    for (let i = 0; i < runs; i++) {
      const page = await ctx.newPage();
      await page.route("**/*", (r) => {
        const u = r.request().url();
        if (u.startsWith("file:") || u.startsWith("data:")) {
          return r.continue();
        }
        res.blocked++;
        return r.abort();
      });
      page.on("pageerror", (e) => res.errors.push(e.message));
      await page.goto("file://" + file, { timeout: 120000 });
      await page.waitForSelector("html[data-ready='1']", { timeout: 120000 });
      const t = await page.evaluate(() => new Promise((ok) =>
        requestAnimationFrame(() => requestAnimationFrame(() => {
          const p = performance.getEntriesByName("first-contentful-paint");
          ok({ ready: performance.now(),
               fcp: p.length ? p[0].startTime : -1 });
        }))));
      res.fcp.push(t.fcp);
      res.ready.push(t.ready);
      await page.close();
    }
    console.log(JSON.stringify(res));
  }
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
})().catch((e) => { console.error(e.message); process.exit(1); });
"""


def profile(work, stacks):
    path = os.path.join(work, "profile-%d.out" % stacks)
    if not os.path.exists(path):
        print("bench_report: generating %s" % path, file=sys.stderr)
        tmp = path + ".tmp"
        subprocess.run([sys.executable, os.path.join(HERE, "gen_profile.py"),
                        "--stacks", str(stacks), "-o", tmp], check=True)
        os.rename(tmp, path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build",
                                                     "plop-render"))
    ap.add_argument("--sizes", default="2000,50000,500000",
                    help="stack counts, comma-separated")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench"),
                    help="where profiles and pages are kept")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        src = profile(args.work, n)
        page = os.path.join(args.work, "report-%d.html" % n)
        t0 = time.perf_counter()
        subprocess.run([args.binary, src, "-o", page], check=True)
        secs = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([args.binary, src, "--color", "heat", "-o",
                        page + ".heat.html"], check=True)
        rows.append((n, src, page, secs, time.perf_counter() - t0))

    modules = os.path.join(ROOT, "tests", "browser", "node_modules")
    env = dict(os.environ, NODE_PATH=modules)
    out = subprocess.run(["node", "-e", LOADER, str(args.runs)]
                         + [r[2] for r in rows], env=env, check=True,
                         stdout=subprocess.PIPE, universal_newlines=True)

    loads = [json.loads(line) for line in out.stdout.splitlines() if line]

    ok = True
    print("%8s %9s %9s %7s %6s %9s %8s %9s  %s" % (
        "stacks", "input MB", "render s", "heat s", "ratio", "page MB",
        "FCP ms", "ready ms", "verdict"))
    for (n, src, page, secs, heat), ld in zip(rows, loads):
        size = os.path.getsize(page)
        fcp = statistics.median(ld["fcp"])
        ready = statistics.median(ld["ready"])
        good = (size < MAX_BYTES and ready < MAX_READY_MS
                and ld["blocked"] == 0 and not ld["errors"])
        ok = ok and good
        print("%8d %9.1f %9.2f %7.2f %6.2f %9.2f %8.0f %9.0f  %s" % (
            n, os.path.getsize(src) / 1e6, secs, heat, heat / secs,
            size / 1e6, fcp, ready,
            "ok" if good else "MISSED (target < 5 MB, < 2000 ms, offline)"))
        for e in ld["errors"]:
            print("  page error: %s" % e)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
