"""The viewer's pprof and speedscope downloads (/pprof/NAME,
/speedscope/NAME) and pprof files among the profiles, over real HTTP
with a real plop-render: each download is what plop-render makes of the
profile, named after it, and reads back with the same counts."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

import support
from test_viewer import COLLAPSED, GOOD, ViewerCase


class TestDownloads(ViewerCase):

    def txt(self, path):
        r = subprocess.run([self.render, path, "-T", "txt", "-o", "-"],
                           stdout=subprocess.PIPE, check=True,
                           timeout=support.WAIT)
        return r.stdout

    def test_index_offers_the_downloads_beside_the_report(self):
        self.write("app.out", GOOD)
        self.start()
        page = self.get("/")[2].decode("utf-8")
        row = page[page.find('href="/report/app.out"'):].split("</tr>")[0]
        self.assertIn('href="/pprof/app.out" download', row)
        self.assertIn('href="/speedscope/app.out" download', row)

    def test_pprof_download(self):
        path = self.write("app.out", GOOD)
        self.start()
        status, headers, body = self.get("/pprof/app.out")
        self.assertEqual(status, 200, body[:2000])
        self.assertEqual(headers["content-type"], "application/octet-stream")
        self.assertEqual(headers["content-disposition"],
                         "attachment; filename=\"app.out.pb.gz\"; "
                         "filename*=UTF-8''app.out.pb.gz")
        self.assertEqual(body[:2], b"\x1f\x8b")
        self.assertEqual(headers["x-plop-cache"], "miss")
        saved = os.path.join(self.tmp, "saved.pb.gz")
        with open(saved, "wb") as f:
            f.write(body)
        # the same samples, read back by plop-render from the download
        self.assertEqual(self.txt(saved), self.txt(path))
        self.assertEqual(self.get("/pprof/app.out")[1]["x-plop-cache"], "hit")

    def test_speedscope_download(self):
        self.write("c.flame", COLLAPSED)
        self.start()
        status, headers, body = self.get("/speedscope/c.flame")
        self.assertEqual(status, 200, body[:2000])
        self.assertEqual(headers["content-type"], "application/json")
        self.assertIn('filename="c.flame.speedscope.json"',
                      headers["content-disposition"])
        doc = json.loads(body.decode("utf-8"))
        self.assertEqual(doc["profiles"][0]["name"], "c.flame")
        self.assertEqual(doc["profiles"][0]["endValue"], 9)   # 7 + 2
        self.assertEqual(sorted(f["name"] for f in doc["shared"]["frames"]),
                         ["idle", "main", "work"])

    def test_unusual_names_are_safe_in_the_header(self):
        name = 'w\u00f6rk "x";%.out'
        self.write(name, GOOD)
        self.start()
        status, headers, body = self.get(
            "/pprof/" + urllib.parse.quote(name, safe=""))
        self.assertEqual(status, 200, body[:2000])
        cd = headers["content-disposition"]
        self.assertTrue(cd.startswith('attachment; filename="w_rk _x___.out'
                                      '.pb.gz"; filename*=UTF-8\'\''), cd)
        self.assertEqual(urllib.parse.unquote(cd.split("''", 1)[1]),
                         name + ".pb.gz")

    def test_a_pprof_profile_in_the_directory_is_listed_and_drawn(self):
        src = os.path.join(self.tmp, "app.out")
        with open(src, "w") as f:
            f.write(GOOD)
        subprocess.run([self.render, src, "-o",
                        os.path.join(self.data, "app.pb.gz")], check=True,
                       timeout=support.WAIT)
        self.start()
        page = self.get("/")[2].decode("utf-8")
        row = page[page.find('href="/report/app.pb.gz"'):].split("</tr>")[0]
        self.assertIn("&mdash;", row)   # binary: no approximate count
        status, headers, body = self.get("/svg/app.pb.gz")
        self.assertEqual(status, 200, body[:2000])
        self.assertIn(b"leaf_one", body)
        status, headers, body = self.get("/report/app.pb.gz")
        self.assertEqual(status, 200, body[:2000])
        self.assertIn(b"leaf_two", body)
        # raw: the binary file as a download, not as text
        status, headers, body = self.get("/raw/app.pb.gz")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/octet-stream")
        self.assertIn('filename="app.pb.gz"', headers["content-disposition"])
        with open(os.path.join(self.data, "app.pb.gz"), "rb") as f:
            self.assertEqual(body, f.read())
        self.write("text.out", GOOD)
        self.assertEqual(self.get("/raw/text.out")[1]["content-type"],
                         "text/plain; charset=utf-8")
