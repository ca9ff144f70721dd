"""`python -m plop`: the same command line as `python -m plop.collector`."""
import sys

from plop.cli import main

if __name__ == "__main__":
    sys.exit(main())
