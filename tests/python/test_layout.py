"""Tests of the Python layer's layout (STYLE.md 18-19, issue 13 item 3):
each module's imports of the others form no cycle (imports inside
functions included), no module imports another's private names, nothing
imports the plop.collector facade back, the public names are importable
from where README says, and the modules a profiled program imports parse
on every older interpreter found (2.7, 3.6, 3.7), where the viewer says
it needs 3.8 and exits 2."""
import ast
import glob
import os
import subprocess
import sys
import unittest

import plop

PKG = os.path.dirname(os.path.abspath(plop.__file__))
COLLECTOR_DIR = os.path.dirname(PKG)

# Modules a profiled program may import: they must parse on 2.7 and 3.6+.
PROGRAM_SIDE = ("__init__", "__main__", "checkpoint", "cli", "collector",
                "compat", "exit_signals", "formatters", "pprof", "profile_io",
                "sampling",
                "toggle", "viewer")


def modules():
    out = {}
    for path in sorted(glob.glob(os.path.join(PKG, "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if sys.version_info < (3, 8) and name not in PROGRAM_SIDE:
            continue  # the viewer's own modules are 3.8+ syntax
        with open(path, "rb") as f:
            out[name] = ast.parse(f.read(), path)
    return out


def plop_imports(tree):
    """[(module imported, [names imported from it])] of plop's own modules,
    wherever the import statement is."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("plop."):
                    out.append((a.name[5:], []))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "plop":
                for a in node.names:
                    out.append((a.name, []))
            elif node.module.startswith("plop."):
                out.append((node.module[5:], [a.name for a in node.names]))
    return out


class LayoutTest(unittest.TestCase):

    def setUp(self):
        if sys.version_info[0] < 3:
            self.skipTest("checked from Python 3: the viewer's modules are "
                          "Python 3.8 syntax")

    def test_no_import_cycles(self):
        mods = modules()
        graph = dict((m, set(i for i, _ in plop_imports(t) if i in mods))
                     for m, t in mods.items())
        self.assertIn("profile_io", graph["cli"])  # the walk sees imports

        def visit(m, path):
            self.assertNotIn(m, path, "import cycle: %s"
                             % " -> ".join(path + [m]))
            for n in sorted(graph[m]):
                visit(n, path + [m])
        for m in sorted(graph):
            visit(m, [])

    def test_no_private_cross_imports_and_no_facade_imports(self):
        for m, tree in modules().items():
            for mod, names in plop_imports(tree):
                self.assertNotEqual(mod, "collector",
                                    "%s imports the facade" % m)
                if mod == "_collector":  # the C extension
                    self.assertIn(m, ("sampling", "exit_signals"))
                    continue
                self.assertFalse(mod.startswith("_"), (m, mod))
                for n in names:
                    self.assertFalse(n.startswith("_"),
                                     "%s imports %s from %s" % (m, n, mod))

    def test_public_names_where_readme_says(self):
        from plop.collector import (  # noqa: F401
            FORMATS, MODES, Collector, CollectorFormatter,
            FlamegraphFormatter, PlopFormatter, install_signal_toggle, main,
            write_profile)
        from plop.toggle import install_signal_toggle as t  # noqa: F401
        self.assertEqual(FORMATS[0], "plop")
        if sys.version_info >= (3, 8):
            from plop.viewer import find_render  # noqa: F401


def older_pythons():
    pats = ("2.7.*", "3.6.*", "3.7.*")
    found = []
    for p in pats:
        found += glob.glob("/root/.pyenv/versions/%s/bin/python" % p)
    return sorted(found)


class OlderPythonsTest(unittest.TestCase):

    def setUp(self):
        if sys.version_info < (3, 5):
            self.skipTest("run from Python 3.5+ (subprocess.run)")
        self.pythons = older_pythons()
        if not self.pythons:
            self.skipTest("no 2.7, 3.6 or 3.7 interpreter under pyenv")

    def test_program_side_modules_parse(self):
        for py in self.pythons:
            for m in PROGRAM_SIDE:
                path = os.path.join(PKG, m + ".py")
                # compile() only: nothing written next to the sources
                r = subprocess.run(
                    [py, "-c", "import sys; compile(open(sys.argv[1], 'rb')"
                     ".read(), sys.argv[1], 'exec')", path],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    universal_newlines=True, timeout=60)
                self.assertEqual(r.returncode, 0, (py, m, r.stderr))

    def test_viewer_says_it_needs_38(self):
        for py in self.pythons:
            r = subprocess.run(
                [py, "-B", "-m", "plop.viewer", "--datadir", "."],
                env=dict(os.environ, PYTHONPATH=COLLECTOR_DIR),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                universal_newlines=True, timeout=60)
            self.assertEqual(r.returncode, 2, (py, r.stderr))
            self.assertIn("needs Python 3.8 or later", r.stderr)


if __name__ == "__main__":
    unittest.main()
