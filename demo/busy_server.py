"""busy_server.py: a standard-library HTTP server that keeps itself busy, to
be profiled live by plop without a restart.

    python3 demo/busy_server.py [--port 8080] [--address 127.0.0.1] [--no-load]
                                [--run-for SECONDS]

Pages that do real work:
    /                  an HTML catalogue rendered from a string.Template
    /api/items?n=N     JSON: builds N records, encodes, decodes and summarizes
    /primes?limit=N    the primes below N by trial division, as text
    /stats?n=N         mean, median and deviation of a generated series

and the profiler, as the original plop demo's ProfileHandler:
    /_profile?duration=N&interval=S&mode=M
                       runs a plop Collector inside this process for N seconds
                       (default 2, at most 600) at interval S (default 0.01) in
                       mode M (prof, virtual or real; default prof) and returns
                       the profile: repr() of {stack: count}, the plop format.
                       One profile at a time (409 otherwise); bad parameters
                       get 400 and say why.

A client thread requests the work pages in a loop, so a profile taken at
any moment shows the handlers at work (--no-load turns it off).  The first
line on stdout is "busy_server: listening on http://HOST:PORT/" (with
--port 0 the port is a free one).  SIGINT, SIGTERM or the end of
--run-for stops it with exit status 0; --run-for makes it a finite program
that `python -m plop.collector demo/busy_server.py --run-for 5` can profile
from start to end.
"""
import argparse
import http.client
import http.server
import json
import os
import random
import signal
import statistics
import string
import sys
import threading
import time
import urllib.parse

try:
    from plop.collector import Collector
except ImportError:
    # Run from a source tree without PYTHONPATH: use its collector/.
    sys.path.insert(0, os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        "collector"))
    try:
        from plop.collector import Collector
    except ImportError as e:
        sys.exit("busy_server: error: cannot import 'plop.collector' (%s); "
                 "build it with 'make collector'" % e)

MAX_DURATION = 600.0

PAGE = string.Template("""<!DOCTYPE html>
<html><head><title>$title</title></head>
<body><h1>$title</h1>
<p>$count products, $total in stock, generated for $client</p>
<table>
$rows
</table></body></html>
""")
ROW = string.Template(
    "<tr><td>$id</td><td>$name</td><td>$price</td><td>$tags</td></tr>")

WORDS = ("amber", "basalt", "cedar", "dune", "ember", "fjord", "granite",
         "harbor", "indigo", "juniper", "kelp", "lagoon", "meadow", "nectar")


def escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def make_products(n, seed):
    rng = random.Random(seed)
    return [{"id": i,
             "name": " ".join(rng.choice(WORDS) for _ in range(3)),
             "price": round(rng.uniform(1, 500), 2),
             "stock": rng.randrange(100),
             "tags": [rng.choice(WORDS) for _ in range(4)]}
            for i in range(n)]


def render_catalog(client):
    products = make_products(400, 1)
    rows = "\n".join(
        ROW.substitute(id=p["id"], name=escape(p["name"]),
                       price="%.2f" % p["price"],
                       tags=escape(", ".join(p["tags"])))
        for p in products)
    return PAGE.substitute(title="Catalogue", count=len(products),
                           total=sum(p["stock"] for p in products),
                           client=escape(client), rows=rows)


def api_items(n):
    items = make_products(n, n)
    encoded = json.dumps({"items": items}, sort_keys=True)
    decoded = json.loads(encoded)
    by_tag = {}
    for item in decoded["items"]:
        for tag in item["tags"]:
            by_tag[tag] = by_tag.get(tag, 0) + 1
    return json.dumps({"count": len(decoded["items"]), "bytes": len(encoded),
                       "by_tag": by_tag}, sort_keys=True)


def is_prime(k):
    if k < 2:
        return False
    d = 2
    while d * d <= k:
        if k % d == 0:
            return False
        d += 1
    return True


def compute_primes(limit):
    return [k for k in range(limit) if is_prime(k)]


def series_stats(n):
    rng = random.Random(n)
    data = [rng.gauss(100, 15) for _ in range(n)]
    return {"mean": statistics.mean(data), "median": statistics.median(data),
            "stdev": statistics.pstdev(data)}


def _int_param(query, name, default, lo, hi):
    raw = query.get(name, [str(default)])[-1]
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("'%s' must be an integer, not '%s'" % (name, raw))
    if not lo <= value <= hi:
        raise ValueError("'%s' must be between %d and %d" % (name, lo, hi))
    return value


def _float_param(query, name, default):
    raw = query.get(name, [str(default)])[-1]
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("'%s' must be a number, not '%s'" % (name, raw))
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError("'%s' must be a positive number" % name)
    return value


class BusyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    profile_lock = threading.Lock()
    quiet = True

    def log_message(self, fmt, *args):
        if not self.quiet:
            http.server.BaseHTTPRequestHandler.log_message(self, fmt, *args)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        try:
            if url.path == "/":
                self.reply(200, "text/html; charset=utf-8",
                           render_catalog(self.client_address[0]))
            elif url.path == "/api/items":
                n = _int_param(query, "n", 200, 1, 10000)
                self.reply(200, "application/json", api_items(n))
            elif url.path == "/primes":
                limit = _int_param(query, "limit", 20000, 2, 1000000)
                primes = compute_primes(limit)
                last = primes[-1] if primes else 0
                self.reply(200, "text/plain; charset=utf-8",
                           "%d primes below %d, the last %d\n"
                           % (len(primes), limit, last))
            elif url.path == "/stats":
                n = _int_param(query, "n", 5000, 1, 1000000)
                self.reply(200, "application/json",
                           json.dumps(series_stats(n), sort_keys=True))
            elif url.path == "/_profile":
                self.profile(query)
            else:
                self.reply(404, "text/plain; charset=utf-8", "not found\n")
        except ValueError as e:
            self.reply(400, "text/plain; charset=utf-8", "error: %s\n" % e)
        except RuntimeError as e:
            self.reply(503, "text/plain; charset=utf-8", "error: %s\n" % e)

    def profile(self, query):
        duration = _float_param(query, "duration", 2.0)
        if duration > MAX_DURATION:
            raise ValueError("'duration' must be at most %g" % MAX_DURATION)
        interval = _float_param(query, "interval", 0.01)
        mode = query.get("mode", ["prof"])[-1]
        if not self.profile_lock.acquire(blocking=False):
            self.reply(409, "text/plain; charset=utf-8",
                       "error: a profile is already being taken\n")
            return
        try:
            stacks = self.server.profiler.run(interval, mode, duration)
        finally:
            self.profile_lock.release()
        self.reply(200, "text/plain; charset=utf-8", repr(stacks) + "\n",
                   {"X-Plop-Samples": str(sum(stacks.values())),
                    "X-Plop-Stacks": str(len(stacks))})

    def reply(self, status, ctype, text, extra=None):
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def generate_load(host, port, stop):
    """Requests the work pages in turn until `stop` is set."""
    paths = ["/", "/api/items?n=300", "/primes?limit=30000", "/stats?n=20000"]
    conn = None
    i = 0
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request("GET", paths[i % len(paths)])
            conn.getresponse().read()
            i += 1
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
            stop.wait(0.2)
    if conn is not None:
        conn.close()


class Profiler:
    """Runs the Collector that /_profile asks for, in the request's own
    thread: plop samples from a thread of its own, so start() and stop()
    work from any thread and the main thread need not help.  stop_all()
    (the server is stopping) ends a profile in progress early."""

    def __init__(self):
        self._stopping = threading.Event()

    def run(self, interval, mode, duration):
        """The profile's {stack: count}.  Raises ValueError for bad
        collector arguments, RuntimeError if the server stops first."""
        if self._stopping.is_set():
            raise RuntimeError("the server is stopping")
        try:
            collector = Collector(interval=interval, mode=mode)
            collector.start(duration=duration)
        except ValueError:
            raise
        except Exception as e:
            raise ValueError("cannot start the collector: %s" % e)
        try:
            stopped = self._stopping.wait(duration)
        finally:
            collector.stop()
        if stopped:
            raise RuntimeError("the server is stopping")
        return dict(collector.stack_counts)

    def stop_all(self):
        self._stopping.set()


class _Stop(BaseException):
    """SIGTERM: not an Exception, so that no "except Exception" on the way
    (socketserver has several) swallows it."""


def _on_signal(signum, frame):
    raise _Stop()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8080,
                    help="TCP port (default 8080; 0 picks a free one)")
    ap.add_argument("--address", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1)")
    ap.add_argument("--no-load", action="store_true",
                    help="do not generate load from a client thread")
    ap.add_argument("--run-for", type=float, default=None, metavar="SECONDS",
                    help="stop after SECONDS (default: run until stopped)")
    ap.add_argument("--verbose", action="store_true", help="log requests")
    args = ap.parse_args(argv)

    BusyHandler.quiet = not args.verbose
    try:
        server = Server((args.address, args.port), BusyHandler)
    except OSError as e:
        print("busy_server: error: cannot listen on %s port %d: %s" % (
            args.address, args.port, e.strerror or e), file=sys.stderr)
        return 1
    server.profiler = Profiler()
    host, port = server.server_address[:2]
    stop = threading.Event()
    if not args.no_load:
        threading.Thread(target=generate_load, args=(host, port, stop),
                         name="load", daemon=True).start()
    if args.run_for is not None:
        timer = threading.Timer(args.run_for, server.shutdown)
        timer.daemon = True
        timer.start()
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        print("busy_server: listening on http://%s:%d/" % (host, port),
              flush=True)
        server.serve_forever()
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        stop.set()
        server.profiler.stop_all()
        server.server_close()
    print("busy_server: stopped", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, _Stop):
        # A second Ctrl-C or SIGTERM while shutting down.
        sys.exit(0)
