"""plop.viewer_http: the viewer's HTTP server (http.server, threaded).

URLs:
    /                 the index: DIR's profiles, newest first, with size,
                      samples and modification date
    /report/NAME      NAME's HTML report (rendered by plop-render)
    /svg/NAME         NAME's call graph as SVG (rendered by plop-render)
    /flame/NAME       NAME's flame graph as SVG (plop-render -T flame.svg)
    /pprof/NAME       NAME as a pprof download, NAME.pb.gz (-T pprof)
    /speedscope/NAME  NAME as a speedscope download, NAME.speedscope.json
                      (-T speedscope)
    /raw/NAME         NAME itself, as text (a pprof file as a download)

Network: while bound to a loopback address it answers 403 to requests whose
Host header is not a loopback name or address, so a web page that rebinds
its own DNS name to 127.0.0.1 cannot read the profiles through a visitor's
browser.
"""
import http.server
import ipaddress
import os
import socket
import urllib.parse

from plop import viewer_pages as pages
from plop.viewer_cache import RenderError
from plop.viewer_files import sniff_binary

# URL prefix -> plop-render's -T format (also the cache file's extension).
RENDER_FORMATS = {"report": "html", "svg": "svg", "flame": "flame.svg",
                  "pprof": "pprof", "speedscope": "speedscope"}

# The conversions are downloads: -T format -> (Content-Type, file suffix).
DOWNLOADS = {"pprof": ("application/octet-stream", ".pb.gz"),
             "speedscope": ("application/json", ".speedscope.json")}

def _attachment(filename):
    """A Content-Disposition header saving `filename`: an ASCII fallback
    with anything unsafe replaced by '_', and the exact name in RFC 5987's
    filename* for clients that read it."""
    ascii_name = "".join(c if " " <= c < "\x7f" and c not in "\"\\;%" else "_"
                         for c in filename)
    return "attachment; filename=\"%s\"; filename*=UTF-8''%s" % (
        ascii_name, urllib.parse.quote(filename, safe="",
                                       errors="surrogateescape"))


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "plop-viewer"
    protocol_version = "HTTP/1.1"

    # Set on the subclass made by make_server().
    datadir = None
    cache = None
    quiet = False
    loopback_only = True

    def log_message(self, fmt, *args):
        if not self.quiet:
            http.server.BaseHTTPRequestHandler.log_message(self, fmt, *args)

    def do_GET(self):
        self._dispatch(head=False)

    def do_HEAD(self):
        self._dispatch(head=True)

    def _dispatch(self, head):
        if self.loopback_only and not _loopback_host(self.headers.get("Host")):
            # DNS rebinding: a web page whose name resolves to 127.0.0.1
            # must not read the profiles through the visitor's browser.
            return self._send(403, "text/plain; charset=utf-8",
                              "forbidden: unexpected Host header\n", head)
        try:
            path = urllib.parse.urlsplit(self.path).path
        except ValueError:
            path = ""
        if path in ("/", "/index.html"):
            return self._index(head)
        # Split before decoding: "%2f" stays inside one segment and is then
        # refused by DataDir.resolve, like any other '/' in a name.
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "" and (
                parts[1] in RENDER_FORMATS or parts[1] == "raw"):
            try:
                name = urllib.parse.unquote(parts[2], errors="strict")
            except UnicodeDecodeError:
                name = None
            real = self.datadir.resolve(name) if name else None
            if real is not None:
                if parts[1] == "raw":
                    if sniff_binary(real):
                        return self._send_file(
                            real, "application/octet-stream", head,
                            {"Content-Disposition": _attachment(name)})
                    return self._send_file(real, "text/plain; charset=utf-8",
                                           head)
                ext = RENDER_FORMATS[parts[1]]
                return self._rendered(name, real, ext, head)
        self._send(404, "text/html; charset=utf-8", pages.not_found_page(),
                   head)

    def _index(self, head):
        entries = [(name, st.st_size, self.cache.samples(real, st),
                    st.st_mtime)
                   for name, real, st in self.datadir.profiles()]
        self._send(200, "text/html; charset=utf-8",
                   pages.index_page(self.datadir.real, entries), head)

    def _rendered(self, name, real, ext, head):
        try:
            path, hit = self.cache.get(self.datadir, real, ext)
        except RenderError as e:
            return self._send(e.status, "text/html; charset=utf-8",
                              pages.render_error_page(name, e.message), head)
        ctype = ("text/html; charset=utf-8" if ext == "html"
                 else "image/svg+xml")
        extra = {"X-Plop-Cache": "hit" if hit else "miss"}
        if ext in DOWNLOADS:
            ctype, suffix = DOWNLOADS[ext]
            extra["Content-Disposition"] = _attachment(name + suffix)
        if ext != "html":
            extra["Content-Security-Policy"] = (
                "default-src 'none'; style-src 'unsafe-inline'")
        self._send_file(path, ctype, head, extra)

    def _send(self, status, ctype, text, head, extra=None):
        data = text.encode("utf-8")
        self._headers(status, ctype, len(data), extra)
        if not head:
            self.wfile.write(data)

    def _send_file(self, path, ctype, head, extra=None):
        try:
            f = open(path, "rb")
        except OSError:
            return self._send(404, "text/html; charset=utf-8",
                              pages.not_found_page(), head)
        with f:
            size = os.fstat(f.fileno()).st_size
            self._headers(200, ctype, size, extra)
            if not head:
                self._copy(f, size)

    def _copy(self, f, size):
        """Sends exactly the `size` bytes announced in Content-Length, read
        in pieces (never mapped: a file truncated under the server must not
        kill it).  A file that shrank meanwhile gets its connection closed
        after the short body, so the client sees the truncation instead of
        waiting for bytes that will not come; one that grew is cut at
        `size`."""
        left = size
        while left > 0:
            data = f.read(min(left, 1 << 16))
            if not data:
                self.close_connection = True
                return
            self.wfile.write(data)
            left -= len(data)

    def _headers(self, status, ctype, length, extra):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(datadir, address, port, cache, quiet=False):
    """A server for DataDir `datadir` bound to (address, port); port 0 picks
    a free one (server.server_address says which)."""
    handler = type("BoundHandler", (Handler,), {
        "datadir": datadir, "cache": cache, "quiet": quiet,
        "loopback_only": is_loopback(address)})
    cls = _Server6 if ":" in address else _Server
    return cls((address, port), handler)


def is_loopback(address):
    """'localhost' or a loopback IP address literal (not a name that
    merely starts with '127.')."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _loopback_host(host):
    """Whether a Host header names this machine's loopback interface (with
    or without a port); None (HTTP/1.0 without Host) is accepted."""
    if host is None:
        return True
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return is_loopback(name)
