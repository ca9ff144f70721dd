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
import queue
import random
import select
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


class ProfileJob:
    def __init__(self, interval, mode, duration):
        self.interval = interval
        self.mode = mode
        self.duration = duration
        self.done = threading.Event()
        self.stacks = None
        self.error = None
        self.collector = None
        self.end = None


class MainThreadProfiler:
    """Runs the Collectors that /_profile asks for in the main thread.

    plop's Collector installs its timer signal's handler with signal.signal(),
    which only the main thread may call, and CPython runs that handler (the
    sampler) in the main thread between two bytecodes.  So the main thread
    does not serve HTTP here: it waits in select() on a pipe that is also
    CPython's signal wakeup fd (signal.set_wakeup_fd), so every timer signal,
    whichever thread the kernel gives it to, wakes it at once to take the
    sample, and a request thread wakes it through the same pipe to start a
    profile."""

    def __init__(self):
        self._jobs = queue.SimpleQueue()
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._active = None

    def run(self, interval, mode, duration):
        """Called by a request thread: the profile's {stack: count}.  Raises
        ValueError for bad collector arguments, RuntimeError if the server
        stops first."""
        job = ProfileJob(interval, mode, duration)
        self._jobs.put(job)
        self._wake()
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.stacks

    def _wake(self):
        try:
            os.write(self._w, b"j")
        except BlockingIOError:
            pass            # the pipe is full: the main thread is awake

    def serve(self, stop_at=None):
        """The main thread's loop, until stop_at (time.monotonic()) or an
        exception (KeyboardInterrupt, _Stop)."""
        previous = signal.set_wakeup_fd(self._w)
        try:
            while True:
                now = time.monotonic()
                if stop_at is not None and now >= stop_at:
                    return
                timeout = 0.5
                if self._active is not None:
                    timeout = min(timeout, max(0.0, self._active.end - now))
                if stop_at is not None:
                    timeout = min(timeout, max(0.0, stop_at - now))
                select.select([self._r], [], [], timeout)
                try:
                    while os.read(self._r, 4096):
                        pass
                except BlockingIOError:
                    pass
                self._step()
        finally:
            signal.set_wakeup_fd(previous)
            self._abort()

    def _step(self):
        job = self._active
        if job is not None and time.monotonic() >= job.end:
            self._active = None
            try:
                job.collector.stop()
                job.stacks = dict(job.collector.stack_counts)
            except Exception as e:
                job.error = e
            job.done.set()
        while self._active is None:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            try:
                job.collector = Collector(interval=job.interval,
                                          mode=job.mode)
                job.collector.start(duration=job.duration)
                job.end = time.monotonic() + job.duration
                self._active = job
            except Exception as e:
                job.error = e if isinstance(e, ValueError) else ValueError(
                    "cannot start the collector: %s" % e)
                job.done.set()

    def _abort(self):
        job, self._active = self._active, None
        if job is not None:
            try:
                job.collector.stop()
            except Exception:
                pass
        while job is not None:
            job.error = RuntimeError("the server is stopping")
            job.done.set()
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                job = None


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
    server.profiler = MainThreadProfiler()
    host, port = server.server_address[:2]
    stop = threading.Event()
    threading.Thread(target=server.serve_forever, name="http",
                     daemon=True).start()
    if not args.no_load:
        threading.Thread(target=generate_load, args=(host, port, stop),
                         name="load", daemon=True).start()
    stop_at = None
    if args.run_for is not None:
        stop_at = time.monotonic() + args.run_for
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        print("busy_server: listening on http://%s:%d/" % (host, port),
              flush=True)
        server.profiler.serve(stop_at)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
    print("busy_server: stopped", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, _Stop):
        # A second Ctrl-C or SIGTERM while shutting down.
        sys.exit(0)
