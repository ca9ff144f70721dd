"""plop.viewer_pages: the viewer's own HTML pages (the index, not found,
render errors); the reports themselves are plop-render's."""
import html
import time
import urllib.parse

def human_size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else (
                "%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; }
table { border-collapse: collapse; }
th, td { padding: 0.3em 0.8em; text-align: left;
         border-bottom: 1px solid #ddd; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #fff4f4; border: 1px solid #e0b4b4; padding: 1em;
      overflow-x: auto; }
.muted { color: #777; }
"""


def page(title, body):
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>%s</title><style>%s</style></head><body>\n%s\n"
            "</body></html>\n" % (html.escape(title), _STYLE, body))


def not_found_page():
    return page("not found", "<h1>404: not found</h1>"
                "<p><a href=\"/\">all profiles</a></p>")


def render_error_page(name, message):
    """The page for a profile plop-render could not render: its message,
    escaped."""
    body = ("<h1>cannot render %s</h1><pre>%s</pre>"
            "<p><a href=\"/\">all profiles</a></p>" % (
                html.escape(name), html.escape(message)))
    return page("error: " + name, body)


def index_page(directory, entries):
    """The index of `directory`: entries are (name, size, samples or None,
    mtime), newest first."""
    rows = []
    for name, size, n, mtime in entries:
        q = urllib.parse.quote(name, safe="")
        rows.append(
            "<tr><td><a href=\"/report/%s\">%s</a></td>"
            "<td><a href=\"/svg/%s\">graph</a> "
            "<a href=\"/flame/%s\">flame</a> "
            "<a href=\"/raw/%s\">raw</a> "
            "<a href=\"/pprof/%s\" download>pprof</a> "
            "<a href=\"/speedscope/%s\" download>speedscope</a></td>"
            "<td class=\"num\">%s</td><td class=\"num\">%s</td>"
            "<td>%s</td></tr>" % (
                q, html.escape(name), q, q, q, q, q, human_size(size),
                "&mdash;" if n is None else "{:,}".format(n),
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime))))
    if rows:
        table = ("<table><thead><tr><th>profile</th><th></th>"
                 "<th>size</th><th>samples</th><th>date</th></tr></thead>"
                 "<tbody>\n%s\n</tbody></table>" % "\n".join(rows))
    else:
        table = "<p class=\"muted\">no profiles yet</p>"
    body = ("<h1>plop profiles</h1><p class=\"muted\">%s &middot; "
            "%d profile%s, newest first</p>\n%s" % (
                html.escape(directory), len(rows),
                "" if len(rows) == 1 else "s", table))
    return page("plop profiles", body)
