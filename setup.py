"""setup.py: builds the plop package and its C extension plop._collector
with setuptools (`pip install .`).  Metadata is in pyproject.toml; the
Makefile builds the same sources without setuptools."""
import glob

from setuptools import Extension, setup

setup(
    packages=["plop"],
    package_dir={"": "collector"},
    ext_modules=[
        Extension(
            "plop._collector",
            sources=sorted(glob.glob("collector/src/*.c")),
            include_dirs=["collector/src"],
            define_macros=[("_GNU_SOURCE", "1")],
            extra_compile_args=["-std=c11"],
        ),
    ],
)
