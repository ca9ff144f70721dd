"""plop.viewer over real HTTP: a real viewer subprocess on a free port, a
real plop-render, real files, symlinks and signals."""
import html
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import support

GOOD = ("{(('/src/app.py', 10, 'leaf_one'), ('/src/app.py', 3, 'main')): 30, "
        "(('/src/app.py', 20, 'leaf_two'), ('/src/app.py', 3, 'main')): 12}\n")
CHANGED = ("{(('/src/app.py', 40, 'renamed_leaf'), "
           "('/src/app.py', 3, 'main')): 5}\n")
COLLAPSED = ("main (/src/c.py:1);work (/src/c.py:5) 7\n"
             "main (/src/c.py:1);idle (/src/c.py:9) 2\n")
# Truncated in the middle of a frame: a parse error.
MALFORMED = "{(('/src/app.py', 10, 'leaf_one'), ('/src/app.py', 3,"
SECRET = "TOP-SECRET-CONTENT-OUTSIDE-DATADIR"


class ViewerCase(unittest.TestCase):
    def setUp(self):
        self.render = support.render_or_fail(self)
        self.tmp = tempfile.mkdtemp(prefix="plop-viewer-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.data = os.path.join(self.tmp, "data")
        os.mkdir(self.data)
        self.cache = os.path.join(self.tmp, "cache")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            support.stop(p)

    def write(self, name, text, mtime=None):
        path = os.path.join(self.data, name)
        with open(path, "w") as f:
            f.write(text)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def start(self, *extra, **kw):
        args = [sys.executable, "-m", "plop.viewer", "--datadir", self.data,
                "--port", "0", "--quiet", "--render", self.render]
        args += list(extra)
        proc = subprocess.Popen(args, env=support.env(),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                preexec_fn=support.default_signals)
        self.procs.append(proc)
        line = support.read_line(proc, proc.stdout)
        self.assertIn("serving", line)
        url = line.split(" on ", 1)[1].split()[0]
        host, port = url[len("http://"):].rstrip("/").rsplit(":", 1)
        self.host = host
        self.port = int(port)
        return proc

    def get(self, path, method="GET"):
        return support.get(self.port, path, method)


class TestIndex(ViewerCase):
    def test_lists_profiles_newest_first_with_size_samples_date(self):
        self.write("old.out", GOOD, mtime=1500000000)
        self.write("mid.flame", COLLAPSED, mtime=1600000000)
        self.write("new.out", CHANGED, mtime=1700000000)
        # Not profiles: renders next to them, hidden files, directories.
        self.write("new.svg", "<svg/>")
        self.write("new.html", "<html></html>")
        self.write(".hidden.out", GOOD)
        os.mkdir(os.path.join(self.data, "sub"))
        self.start()
        status, headers, body = self.get("/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        page = body.decode("utf-8")
        order = [page.find('href="/report/%s"' % n)
                 for n in ("new.out", "mid.flame", "old.out")]
        self.assertTrue(all(i >= 0 for i in order), order)
        self.assertEqual(order, sorted(order))
        for hidden in ("new.svg", "new.html", ".hidden.out", "/sub"):
            self.assertNotIn("/report/" + hidden.lstrip("/"), page)
        rows = {n: page[page.find('href="/report/%s"' % n):]
                .split("</tr>", 1)[0] for n in ("new.out", "mid.flame",
                                                 "old.out")}
        self.assertIn(">42<", rows["old.out"])          # 30 + 12 samples
        self.assertIn(">9<", rows["mid.flame"])         # 7 + 2
        self.assertIn(">5<", rows["new.out"])
        self.assertIn(">%d B<" % len(GOOD), rows["old.out"])
        self.assertIn(time.strftime("%Y-%m-%d %H:%M",
                                    time.localtime(1500000000)),
                      rows["old.out"])
        self.assertIn('href="/svg/old.out"', rows["old.out"])
        self.assertIn('href="/flame/old.out"', rows["old.out"])

    def test_sample_counts_agree_with_plop_render(self):
        fixtures = os.path.join(support.ROOT, "tests", "fixtures")
        names = sorted(n for n in os.listdir(fixtures)
                       if n.startswith("plop-"))
        self.assertTrue(names)
        for n in names:
            shutil.copy(os.path.join(fixtures, n), self.data)
        self.start()
        page = self.get("/")[2].decode("utf-8")
        for n in names:
            r = subprocess.run([self.render, os.path.join(self.data, n),
                                "-T", "txt", "-o", "-"],
                               stdout=subprocess.PIPE, check=True,
                               timeout=support.WAIT)
            total = r.stdout.decode().split(" samples", 1)[0].split()[-1]
            row = page[page.find('href="/report/%s"' % n):].split("</tr>")[0]
            self.assertIn(">{:,}<".format(int(total)), row, n)

    def test_empty_directory_and_unknown_urls(self):
        self.start()
        status, _, body = self.get("/")
        self.assertEqual(status, 200)
        self.assertIn(b"no profiles", body)
        for path in ("/nothing", "/report/", "/report/missing.out",
                     "/report/a/b", "/svg", "/raw/missing.out"):
            self.assertEqual(self.get(path)[0], 404, path)

    def test_binds_loopback_by_default(self):
        args = [sys.executable, "-m", "plop.viewer", "--datadir", self.data,
                "--port", "0", "--render", self.render]
        proc = subprocess.Popen(args, env=support.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(proc)
        line = support.read_line(proc, proc.stdout)
        self.assertIn("http://127.0.0.1:", line)

    def test_missing_render_is_a_clear_error(self):
        missing = os.path.join(self.tmp, "no-such-plop-render")
        r = subprocess.run([sys.executable, "-m", "plop.viewer",
                            "--datadir", self.data, "--render", missing],
                           env=support.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=support.WAIT)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"error: '%s' is not an executable plop-render"
                      % missing.encode(), r.stderr)
        self.assertNotIn(b"Traceback", r.stderr)

    def test_port_in_use_is_a_clear_error(self):
        s = socket.socket()
        self.addCleanup(s.close)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "plop.viewer",
                            "--datadir", self.data, "--render", self.render,
                            "--port", str(port)],
                           env=support.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=support.WAIT)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"error: cannot listen on 127.0.0.1 port %d" % port,
                      r.stderr)
        self.assertNotIn(b"Traceback", r.stderr)


class TestReports(ViewerCase):
    def test_report_is_rendered_once_and_cached_until_the_file_changes(self):
        self.write("app.out", GOOD, mtime=1600000000)
        before = sorted(os.listdir(self.data))
        self.start("--cache-dir", self.cache)
        status, headers, first = self.get("/report/app.out")
        self.assertEqual(status, 200, first[:2000])
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertEqual(headers["x-plop-cache"], "miss")
        self.assertIn(b"leaf_one", first)
        self.assertIn(b"<html", first.lower())

        status, headers, second = self.get("/report/app.out")
        self.assertEqual((status, headers["x-plop-cache"]), (200, "hit"))
        self.assertEqual(first, second)
        self.assertEqual(len([n for n in os.listdir(self.cache)
                              if n.endswith(".html")]), 1)

        self.write("app.out", CHANGED, mtime=1600000100)
        status, headers, third = self.get("/report/app.out")
        self.assertEqual((status, headers["x-plop-cache"]), (200, "miss"))
        self.assertIn(b"renamed_leaf", third)
        self.assertNotIn(b"leaf_one", third)
        # The stale render is gone, nothing was written into DIR, and no
        # temporary file is left behind.
        self.assertEqual(sorted(os.listdir(self.cache)),
                         sorted(n for n in os.listdir(self.cache)
                                if not n.startswith("tmp-")))
        self.assertEqual(len(os.listdir(self.cache)), 1)
        self.assertEqual(sorted(os.listdir(self.data)), before)

    def test_report_matches_plop_render_output(self):
        path = self.write("app.out", GOOD)
        expected = os.path.join(self.tmp, "expected.html")
        subprocess.run([self.render, path, "-o", expected], check=True,
                       timeout=support.WAIT)
        with open(expected, "rb") as f:
            want = f.read()
        self.start()
        status, _, body = self.get("/report/app.out")
        self.assertEqual(status, 200)
        # The report names its input as given; the viewer gives the name
        # relative to DIR, so compare with that spelling.
        self.assertEqual(body.replace(b"app.out", b"X"),
                         want.replace(path.encode(), b"X")
                         .replace(b"app.out", b"X"))

    def test_cache_survives_a_restart_with_cache_dir(self):
        self.write("app.out", GOOD)
        proc = self.start("--cache-dir", self.cache)
        self.assertEqual(self.get("/report/app.out")[1]["x-plop-cache"],
                         "miss")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(support.WAIT), 0)
        self.start("--cache-dir", self.cache)
        self.assertEqual(self.get("/report/app.out")[1]["x-plop-cache"], "hit")

    def test_concurrent_first_requests_render_once(self):
        self.write("app.out", GOOD)
        self.start()
        results = []

        def fetch():
            results.append(self.get("/report/app.out"))
        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(support.WAIT)
        self.assertEqual([r[0] for r in results], [200] * 4)
        self.assertEqual(sorted(r[1]["x-plop-cache"] for r in results),
                         ["hit", "hit", "hit", "miss"])
        self.assertEqual(len(set(r[2] for r in results)), 1)

    def test_svg(self):
        self.write("app.out", GOOD)
        self.write("c.flame", COLLAPSED)
        self.start()
        for name, func in (("app.out", b"leaf_one"), ("c.flame", b"work")):
            status, headers, body = self.get("/svg/" + name)
            self.assertEqual(status, 200, body[:2000])
            self.assertEqual(headers["content-type"], "image/svg+xml")
            self.assertIn(b"<svg", body)
            self.assertIn(func, body)
            self.assertIn("default-src 'none'",
                          headers["content-security-policy"])
        self.assertEqual(self.get("/svg/app.out")[1]["x-plop-cache"], "hit")

    def test_flame_graph_svg(self):
        self.write("app.out", GOOD)
        self.start()
        status, headers, body = self.get("/flame/app.out")
        self.assertEqual(status, 200, body[:2000])
        self.assertEqual(headers["content-type"], "image/svg+xml")
        self.assertIn(b"<svg", body)
        self.assertIn(b"leaf_two", body)
        # Not the call graph: a different picture of the same profile.
        self.assertNotEqual(body, self.get("/svg/app.out")[2])

    def test_raw_and_head(self):
        self.write("app.out", GOOD)
        self.start()
        status, headers, body = self.get("/raw/app.out")
        self.assertEqual((status, body.decode()), (200, GOOD))
        status, headers, body = self.get("/raw/app.out", method="HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["content-length"], str(len(GOOD)))

    def test_malformed_profile_shows_plop_render_error_escaped(self):
        name = "bad<b>&.out"
        path = self.write(name, MALFORMED)
        r = subprocess.run([self.render, name, "-o",
                            os.path.join(self.tmp, "x.svg")],
                           cwd=self.data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=support.WAIT)
        self.assertEqual(r.returncode, 4, r.stderr)
        message = r.stderr.decode("utf-8").splitlines()[0]
        self.assertIn("error:", message)
        self.assertTrue(os.path.exists(path))

        self.start()
        for kind in ("report", "svg"):
            status, headers, body = self.get(
                "/%s/bad%%3Cb%%3E%%26.out" % kind)
            page = body.decode("utf-8")
            self.assertEqual(status, 422, page)
            self.assertTrue(headers["content-type"].startswith("text/html"))
            self.assertIn(html.escape(message), page)
            self.assertNotIn("<b>", page)
            self.assertNotIn("Traceback", page)
        # The index still lists it; the server still works.
        status, _, body = self.get("/")
        self.assertEqual(status, 200)
        self.assertIn(b"bad&lt;b&gt;&amp;.out", body)


class TestFileRaces(ViewerCase):
    """Profiles rewritten in place while the viewer reads them (`curl -o
    live.out` truncates, then writes): the index and /raw never kill the
    server (a mapped file truncated under its reader raises SIGBUS), the
    index shows a count or a dash, /raw sends what it announced or closes
    the connection, and the server keeps serving."""

    ROUNDS = 300

    def big_profile(self, entries):
        return "{%s}\n" % ", ".join(
            "(('/src/app%d.py', %d, 'f%d'), ('/src/main.py', 1, 'main')): %d"
            % (i, i, i, 1 + i % 7) for i in range(entries))

    def test_truncating_profiles_under_the_running_viewer(self):
        text = self.big_profile(60000).encode()       # about 4 MB
        total = sum(1 + i % 7 for i in range(60000))
        names = ["live%d.out" % i for i in range(3)]
        for n in names:
            with open(os.path.join(self.data, n), "wb") as f:
                f.write(text)
        proc = self.start()
        done = threading.Event()
        rounds = [0]

        def truncate_forever():
            # in place, as curl -o does: O_TRUNC, then the bytes in pieces
            while not done.is_set():
                for n in names:
                    with open(os.path.join(self.data, n), "wb") as f:
                        for i in range(0, len(text), 1 << 20):
                            f.write(text[i:i + (1 << 20)])
                            f.flush()
                    rounds[0] += 1

        t = threading.Thread(target=truncate_forever)
        t.start()
        seen = set()
        try:
            deadline = time.monotonic() + support.WAIT
            while rounds[0] < self.ROUNDS and time.monotonic() < deadline:
                status, _, body = self.get("/")
                self.assertEqual(status, 200)
                self.assertIsNone(proc.poll(), "the viewer died")
                page = body.decode("utf-8")
                for n in names:
                    row = page[page.find('href="/report/%s"' % n):]
                    cell = row.split("</tr>")[0].split(
                        '<td class="num">')[2].split("<")[0]
                    seen.add(cell)
                try:
                    status, _, body = self.get("/raw/" + names[0])
                    self.assertEqual(status, 200)
                    self.assertLessEqual(len(body), len(text))
                except (http.client.IncompleteRead, ConnectionError):
                    pass  # a body cut short by a truncation: allowed
        finally:
            done.set()
            t.join()
        self.assertGreaterEqual(rounds[0], self.ROUNDS)
        self.assertIsNone(proc.poll(), "the viewer died")
        # every count shown is the whole file's, a partial one, or a dash
        for cell in seen:
            self.assertTrue(cell == "&mdash;" or
                            0 <= int(cell.replace(",", "")) <= total, cell)
        # and once the files hold still, the exact count
        page = self.get("/")[2].decode("utf-8")
        self.assertIn(">{:,}<".format(total), page)


class TestTraversal(ViewerCase):
    def setUp(self):
        ViewerCase.setUp(self)
        outside = os.path.join(self.tmp, "secret.out")
        with open(outside, "w") as f:
            f.write("{(('%s', 1, 'f'),): 1}\n" % SECRET)
        self.outside = outside
        self.write("app.out", GOOD)
        os.symlink(outside, os.path.join(self.data, "link-out.out"))
        os.symlink(self.tmp, os.path.join(self.data, "dirlink"))
        os.symlink(os.path.join(self.data, "app.out"),
                   os.path.join(self.data, "link-in.out"))
        sub = os.path.join(self.data, "sub")
        os.mkdir(sub)
        with open(os.path.join(sub, "nested.out"), "w") as f:
            f.write(GOOD)

    def test_nothing_outside_datadir_is_served(self):
        self.start()
        abs_secret = self.outside
        quoted_abs = abs_secret.replace("/", "%2f")
        attempts = []
        for kind in ("raw", "report", "svg", "flame"):
            attempts += [
                "/%s/../secret.out" % kind,
                "/%s/..%%2fsecret.out" % kind,
                "/%s/..%%2Fsecret.out" % kind,
                "/%s/%%2e%%2e%%2fsecret.out" % kind,
                "/%s/%%2e%%2e/secret.out" % kind,
                "/%s/.." % kind,
                "/%s/%%2e%%2e" % kind,
                "/%s/%s" % (kind, quoted_abs),
                "/%s/%s" % (kind, abs_secret),
                "/%s//%s" % (kind, abs_secret.lstrip("/")),
                "/%s/link-out.out" % kind,
                "/%s/dirlink%%2fsecret.out" % kind,
                "/%s/dirlink/secret.out" % kind,
                "/%s/sub%%2fnested.out" % kind,
                "/%s/..%%5csecret.out" % kind,
                "/%s/%%00" % kind,
                "/%s/app.out%%00.svg" % kind,
                "/%s/%%252e%%252e%%252fsecret.out" % kind,
            ]
        attempts += ["/../secret.out", "/..%2fsecret.out",
                     "http://127.0.0.1/raw/../secret.out",
                     "/raw/%ff%fe"]
        for path in attempts:
            status, _, body = self.get(path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(SECRET.encode(), body, path)
        status, _, body = self.get("/")
        self.assertNotIn(b"link-out.out", body)
        self.assertNotIn(b"dirlink", body)
        self.assertNotIn(SECRET.encode(), body)

    def test_foreign_host_header_is_refused(self):
        # DNS rebinding: a page at rebind.example (resolving to 127.0.0.1)
        # reaches the viewer with its own name in Host.
        self.start()
        for host in ("rebind.example:%d" % self.port, "127.evil.example",
                     "localhost.evil.example"):
            for path in ("/", "/raw/app.out", "/report/app.out"):
                status, _, body = support.get(self.port, path,
                                              host_header=host)
                self.assertEqual(status, 403, (host, path))
                self.assertNotIn(b"leaf_one", body)
        for host in ("127.0.0.1:%d" % self.port, "localhost:%d" % self.port,
                     "localhost"):
            status, _, body = support.get(self.port, "/raw/app.out",
                                          host_header=host)
            self.assertEqual((status, body.decode()), (200, GOOD), host)

    def test_symlink_inside_datadir_is_served(self):
        # The control for the test above: the same routes do serve a file.
        self.start()
        status, _, body = self.get("/raw/link-in.out")
        self.assertEqual((status, body.decode()), (200, GOOD))
        status, _, body = self.get("/raw/app%2eout")
        self.assertEqual((status, body.decode()), (200, GOOD))
        self.assertEqual(self.get("/report/link-in.out")[0], 200)


class TestShutdown(ViewerCase):
    def test_sigint_stops_cleanly(self):
        self.write("app.out", GOOD)

        def caches():
            return {n for n in os.listdir(tempfile.gettempdir())
                    if n.startswith("plop-viewer-")}
        before = caches()
        proc = self.start()
        self.assertEqual(self.get("/report/app.out")[0], 200)
        mine = {n for n in caches() - before
                if n.startswith("plop-viewer-%d-" % proc.pid)}
        self.assertEqual(len(mine), 1)
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(support.WAIT), 0)
        out = proc.stdout.read().decode()
        err = proc.stderr.read().decode()
        self.assertIn("stopped", out)
        self.assertNotIn("Traceback", err)
        self.assertNotIn("KeyboardInterrupt", err)
        with self.assertRaises(OSError):
            support.get(self.port, "/")
        # Its private cache directory is gone.
        self.assertFalse(mine & caches())

    def test_sigterm_stops_cleanly(self):
        self.write("app.out", GOOD)
        proc = self.start()
        # After a render, so that its private cache holds a file.
        self.assertEqual(self.get("/svg/app.out")[0], 200)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(support.WAIT), 0)
        self.assertNotIn(b"Traceback", proc.stderr.read())
        self.assertEqual([n for n in os.listdir(tempfile.gettempdir())
                          if n.startswith("plop-viewer-%d-" % proc.pid)], [])


if __name__ == "__main__":
    unittest.main()
